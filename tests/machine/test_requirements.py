"""Tests for checks/machine/requirements.py: declared requirements against installed versions, on dist-info and
conda-meta trees laid out as pip and conda write them."""

import pytest

from checks.machine import provenance, requirements

pytest.importorskip("packaging", reason="pip requirements are judged with packaging")


def dist(site, name, version, requires=()):
    """Write `name-version.dist-info/METADATA` with Requires-Dist lines (core metadata 2.1)."""
    info = site / ("%s-%s.dist-info" % (name, version))
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", "Name: %s" % name, "Version: %s" % version]
    lines += ["Requires-Dist: %s" % r for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n\nThe description; Requires-Dist: not-a-header\n")
    (info / "INSTALLER").write_text("pip\n")
    (site / name).mkdir(exist_ok=True)
    (site / name / "__init__.py").write_text("")


def test_torchvision_for_another_torch_is_an_unmet_requirement_with_its_exact_fix(tmp_path):
    """torchvision 0.15.2's METADATA declares `Requires-Dist: torch (==2.0.1)` (the PyPI wheel)."""
    site = tmp_path / "site-packages"
    dist(site, "torch", "2.1.0", ["filelock", 'triton (==2.1.0) ; platform_system == "Linux"'])
    dist(site, "torchvision", "0.15.2", ["numpy", "torch (==2.0.1)", 'scipy ; extra == "scipy"'])
    dist(site, "filelock", "3.12.0")
    prov = provenance.Provenance(
        interpreter="python",
        prefix=str(tmp_path),
        environment=str(tmp_path),
        foreign_interpreter=False,
        packages={n: provenance.package(n, [str(site)], str(tmp_path), {}) for n in provenance.PACKAGES},
    )
    found = requirements.collect(prov, path=[str(site)])
    unmet = {(r.owner, r.name): r for r in found.unmet()}
    wrong = unmet[("torchvision 0.15.2", "torch")]
    assert wrong.installed == "2.1.0" and wrong.fix() == 'python -m pip install "torch==2.0.1"'
    assert wrong.describe() == "torchvision 0.15.2 requires torch==2.0.1 (pip metadata); installed: 2.1.0"
    assert ("torchvision 0.15.2", "numpy") in unmet and unmet[("torchvision 0.15.2", "numpy")].installed is None
    assert all(r.name != "scipy" for r in found.items), "an extra nobody asked for is not a requirement"


def test_conda_depends_are_judged_as_match_specs(tmp_path):
    """A pytorch record's depends as the pytorch channel writes them (tests/data/pytorch-channel-linux-64.json)."""
    record = {
        "name": "pytorch",
        "version": "2.0.1",
        "depends": ["pytorch-cuda >=11.8,<11.9", "numpy >=1.21", "__glibc >=2.17"],
    }
    records = {
        "pytorch-cuda": {"name": "pytorch-cuda", "version": "11.7"},
        "numpy": {"name": "numpy", "version": "1.26.4"},
    }
    got = {r.name: r.met for r in requirements.judge_conda(record, records)}
    assert got == {"pytorch-cuda": False, "numpy": True}
