"""Tests for checks/machine/requirements.py: declared requirements against installed versions, on dist-info and
conda-meta trees laid out as pip and conda write them."""

import json

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


def collected(tmp_path, site, path=None):
    """requirements.collect() of an environment at tmp_path whose packages are in `site` (`path`: the sys.path
    entries to look installed versions up in, default [site])."""
    prov = provenance.Provenance(
        interpreter="python",
        prefix=str(tmp_path),
        environment=str(tmp_path),
        foreign_interpreter=False,
        packages={n: provenance.package(n, [str(site)], str(tmp_path), {}) for n in provenance.PACKAGES},
    )
    return requirements.collect(prov, path=[str(p) for p in path or [site]])


def test_torchvision_for_another_torch_is_an_unmet_requirement_with_its_exact_fix(tmp_path):
    """torchvision 0.15.2's METADATA declares `Requires-Dist: torch (==2.0.1)` (the PyPI wheel)."""
    site = tmp_path / "site-packages"
    dist(site, "torch", "2.1.0", ["filelock", 'triton (==2.1.0) ; platform_system == "Linux"'])
    dist(site, "torchvision", "0.15.2", ["numpy", "torch (==2.0.1)", 'scipy ; extra == "scipy"'])
    dist(site, "filelock", "3.12.0")
    found = collected(tmp_path, site)
    unmet = {(r.owner, r.name): r for r in found.unmet()}
    wrong = unmet[("torchvision 0.15.2", "torch")]
    assert wrong.installed == "2.1.0" and wrong.fix() == 'python -m pip install "torch==2.0.1"'
    assert wrong.describe() == "torchvision 0.15.2 requires torch==2.0.1 (pip metadata); installed: 2.1.0"
    missing = unmet[("torchvision 0.15.2", "numpy")]
    assert missing.installed is None
    assert missing.describe() == "torchvision 0.15.2 requires numpy (pip metadata); numpy is not installed"
    assert all(r.name != "scipy" for r in found.items), "an extra nobody asked for is not a requirement"


def test_another_package_pinned_to_another_torch_is_a_dependent_with_the_resolver_s_fix(tmp_path):
    """xformers 0.0.23's METADATA (the PyPI wheel): `Requires-Dist: torch ==2.1.1`; a met pin and torch's own
    requirements are not dependents."""
    site = tmp_path / "site-packages"
    dist(site, "torch", "2.2.0")
    dist(site, "xformers", "0.0.23", ["numpy", "torch ==2.1.1"])
    dist(site, "torchmetrics", "1.3.0", ["torch >=1.10.0", "numpy >1.20.0"])
    dist(site, "numpy", "1.26.4")
    found = collected(tmp_path, site)
    assert [r.describe() for r in found.dependents] == [
        "xformers 0.0.23 requires torch==2.1.1 (pip metadata); installed: 2.2.0"
    ]
    assert found.dependents[0].fix() == (
        'python -m pip install "xformers" "torch==2.2.0" (the xformers release made for this torch), or the torch '
        'xformers declares: python -m pip install "torch==2.1.1"'
    )
    assert not found.unmet()  # torch's own declarations are met: the line's FAIL is for those only


def test_a_pyg_wheel_built_for_another_torch_is_a_dependent(tmp_path):
    """PyG's wheels carry the torch they were built for in the local version (`torch_scatter-2.1.2+pt20cu118`, from
    data.pyg.org/whl/torch-2.0.0+cu118.html) and declare no torch in their metadata."""
    site = tmp_path / "site-packages"
    dist(site, "torch", "2.3.0+cu121")
    dist(site, "torch_scatter", "2.1.2+pt20cu118")
    dist(site, "torch_sparse", "0.6.18+pt23cu121")  # built for this torch
    found = collected(tmp_path, site)
    assert [r.describe() for r in found.dependents] == [
        "torch-scatter 2.1.2+pt20cu118 requires torch==2.0.* (pip metadata); installed: 2.3.0+cu121"
    ]
    assert found.dependents[0].fix() == (
        "python -m pip install --force-reinstall torch-scatter -f https://data.pyg.org/whl/torch-2.3.0+cu121.html"
    )


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


def test_a_conda_package_pinned_to_another_pytorch_is_a_dependent():
    """torchtext-0.15.0-py310.tar.bz2 of the pytorch channel depends on `pytorch 2.0.0` (its repodata record) beside
    pytorch 2.0.1; torchvision's own depends are judged as torch's family, not as a dependent."""
    records = {
        "pytorch": {"name": "pytorch", "version": "2.0.1", "depends": []},
        "torchtext": {
            "name": "torchtext",
            "version": "0.15.0",
            "depends": ["python >=3.10,<3.11.0a0", "pytorch 2.0.0"],
        },
        "torchvision": {"name": "torchvision", "version": "0.15.2", "depends": ["pytorch 2.0.0"]},
        "tqdm": {"name": "tqdm", "version": "4.65.0", "depends": ["python >=3.7"]},
    }
    found = list(requirements.unmet_conda_dependents(records))
    assert [r.describe() for r in found] == ["torchtext 0.15.0 requires pytorch 2.0.0 (conda record); installed: 2.0.1"]
    assert found[0].fix().startswith('conda install "torchtext" "pytorch 2.0.1"')
    assert list(requirements.unmet_conda_dependents({"torchtext": records["torchtext"]})) == []  # no pytorch record


def record_line(site, relative):
    """A RECORD line as pip writes it (PEP 376/627: path, sha256=urlsafe-base64 without padding, size)."""
    import base64
    import hashlib

    data = (site / relative).read_bytes()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\n" % (relative, digest, len(data))


def test_record_gaps_name_missing_files_and_files_of_another_size(tmp_path):
    """A RECORD promises each file's size: a shorter file on disk (an interrupted extraction) is a gap, as is a
    missing one; a file as recorded is not."""
    site = tmp_path / "site-packages"
    (site / "torch" / "lib").mkdir(parents=True)
    info = site / "torch-2.0.1.dist-info"
    info.mkdir()
    for name in ("libtorch_cpu.so", "libc10.so", "libshm.so"):
        (site / "torch" / "lib" / name).write_bytes(b"\x7fELF" + bytes(4000))
    lines = [record_line(site, "torch/lib/%s" % n) for n in ("libtorch_cpu.so", "libc10.so", "libshm.so")]
    (info / "RECORD").write_text("".join(lines) + "torch-2.0.1.dist-info/RECORD,,\n")
    (site / "torch" / "lib" / "libtorch_cpu.so").write_bytes(b"\x7fELF" + bytes(296))
    (site / "torch" / "lib" / "libshm.so").unlink()
    gaps = {g.path.rsplit("/", 1)[-1]: g for g in requirements.record_gaps(str(site))}
    assert sorted(gaps) == ["libshm.so", "libtorch_cpu.so"]
    cut = gaps["libtorch_cpu.so"]
    assert (cut.size, cut.found, cut.missing) == (4004, 300, False) and gaps["libshm.so"].missing
    assert "300 bytes where torch 2.0.1's RECORD promises 4004" in cut.describe()
    assert cut.fix() == 'python -m pip install --force-reinstall --no-deps --no-cache-dir "torch==2.0.1"'
    assert requirements.record_gaps(str(site), names={"libc10.so"}) == []
    owner = requirements.owner_of(str(site / "torch" / "lib" / "libtorch_cpu.so"))
    assert (owner.package, owner.version, owner.source, owner.size) == ("torch", "2.0.1", requirements.PIP, 4004)


def test_conda_records_promise_sizes_in_paths_data(tmp_path):
    """conda-meta/NAME-VERSION-BUILD.json lists `files` and `paths_data.paths` (`_path`, `path_type`,
    `size_in_bytes`; `file_mode` where the prefix placeholder is rewritten on install, which changes the size)."""
    prefix = tmp_path / "prefix"
    (prefix / "lib").mkdir(parents=True)
    (prefix / "conda-meta").mkdir()
    (prefix / "lib" / "libtorch_cpu.so").write_bytes(bytes(100))
    (prefix / "lib" / "libtorch.so").write_bytes(bytes(10))
    record = {
        "name": "libtorch",
        "version": "2.5.1",
        "build": "cpu_generic_h0_0",
        "files": ["lib/libtorch_cpu.so", "lib/libtorch.so"],
        "paths_data": {
            "paths_version": 1,
            "paths": [
                {"_path": "lib/libtorch_cpu.so", "path_type": "hardlink", "size_in_bytes": 5000, "sha256": "0" * 64},
                {"_path": "lib/libtorch.so", "path_type": "hardlink", "file_mode": "binary", "size_in_bytes": 99},
            ],
        },
    }
    (prefix / "conda-meta" / "libtorch-2.5.1-cpu_generic_h0_0.json").write_text(json.dumps(record))
    (gap,) = requirements.conda_gaps(str(prefix), {"libtorch_cpu.so", "libtorch.so"})
    assert (gap.package, gap.size, gap.found, gap.source) == ("libtorch", 5000, 100, requirements.CONDA)
    assert gap.fix().startswith("conda clean --packages --tarballs --yes && conda install --force-reinstall")
    owner = requirements.owner_of(str(prefix / "lib" / "libtorch_cpu.so"))
    assert (owner.package, owner.size) == ("libtorch", 5000)
    assert requirements.owner_of(str(prefix / "lib" / "libtorch.so")).size is None
    assert requirements.providers({"libtorch.so", "libiomp5.so"}, prefixes=[str(prefix)]) == {
        "libtorch.so": [requirements.Owner("libtorch", "2.5.1", requirements.CONDA)]
    }


def test_egg_info_installs_count_as_installed_in_path_order(tmp_path):
    """distutils' PKG-INFO file `numpy-1.8.2.egg-info` (as Debian's python3-numpy ships it) and setuptools' folder
    `pkg-1.0-py3.11.egg-info/PKG-INFO` are installs too; the first sys.path entry holding a name wins."""
    first, second = tmp_path / "dist-packages", tmp_path / "site-packages"
    first.mkdir()
    (first / "numpy-1.8.2.egg-info").write_text("Metadata-Version: 1.1\nName: numpy\nVersion: 1.8.2\n")
    folder = first / "pkg-1.0-py3.11.egg-info"
    folder.mkdir()
    (folder / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
    dist(second, "numpy", "2.4.6")
    found = requirements.pip_installed([str(first), str(second)])
    assert found["numpy"] == ("1.8.2", str(first / "numpy-1.8.2.egg-info"))
    assert found["pkg"] == ("1.0", str(folder / "PKG-INFO"))


def test_an_unmet_requirement_that_a_later_copy_meets_names_the_copy_that_hides_it(tmp_path, monkeypatch):
    """torch 2.13's `Requires-Dist: typing-extensions>=4.10.0` met by the environment's copy, but a PYTHONPATH folder
    holding typing_extensions 4.4.0 comes first on sys.path (torch's import then fails with "cannot import name
    'deprecated' from 'typing_extensions'"): installing changes nothing; the fix takes the folder off the path."""
    env, extra = tmp_path / "site-packages", tmp_path / "extra"
    dist(env, "torch", "2.13.0", ["typing-extensions>=4.10.0", "filelock"])
    dist(env, "typing_extensions", "4.16.0")
    dist(env, "filelock", "3.0")
    dist(extra, "typing_extensions", "4.4.0")
    dist(extra, "filelock", "2.0")  # hides the environment's copy too, but filelock has no version spec to fail
    monkeypatch.setenv("PYTHONPATH", str(extra))
    (unmet,) = collected(tmp_path, env, [extra, env]).unmet()
    assert (unmet.installed, unmet.entry, unmet.behind) == ("4.4.0", str(extra), "4.16.0 in %s" % env)
    assert unmet.describe().endswith("installed: 4.4.0 from %s, ahead of 4.16.0 in %s, which meets it" % (extra, env))
    assert unmet.fix() == "drop %s from PYTHONPATH (its typing-extensions hides the one behind it)" % extra
    monkeypatch.delenv("PYTHONPATH")
    monkeypatch.setattr("site.getusersitepackages", lambda: str(extra))
    assert unmet.fix().startswith("python -m pip uninstall -y typing-extensions (the user-site copy in %s" % extra)
    (env / "typing_extensions-4.16.0.dist-info" / "METADATA").unlink()
    (env / "typing_extensions-4.16.0.dist-info").rename(env / "typing_extensions-4.5.0.dist-info")
    found = collected(tmp_path, env, [extra, env]).unmet()  # the later copy fails it too
    assert [(r.name, r.entry) for r in found] == [("typing-extensions", None)]
