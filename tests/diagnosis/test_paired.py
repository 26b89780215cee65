"""Tests for checks/diagnosis/paired.py: torchvision or torchaudio of another torch's release, judged by the pairs
of checks/compat.py when their own metadata does not pin torch. Texts: torchvision's own messages."""

from diagnosis_facts import facts_for, site

from checks import diagnosis

# torchvision/extension.py (0.13 and later) when its _C does not load; torchvision's ops when _C never registered
CUSTOM_OPS = (
    "RuntimeError: Couldn't load custom C++ ops. This can happen if your PyTorch and torchvision versions are "
    "incompatible, or if you had errors while compiling torchvision from source."
)
NMS = "RuntimeError: operator torchvision::nms does not exist"


def with_torchvision(tmp_path, version, pin=None, torch_version="2.0.1"):
    prefix, packages = site(tmp_path, torch_version=torch_version)
    (packages / "torchvision").mkdir()
    (packages / "torchvision" / "__init__.py").write_text("")
    (packages / "torchvision" / "version.py").write_text("__version__ = '%s'\n" % version)
    if pin is not None:
        info = packages / ("torchvision-%s.dist-info" % version)
        info.mkdir()
        (info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: torchvision\nVersion: %s\nRequires-Dist: torch (%s)\n" % (version, pin)
        )
    return prefix, packages


def test_torchvision_of_another_torch_is_named_with_the_pair(tmp_path, monkeypatch):
    prefix, packages = with_torchvision(tmp_path, "0.16.0")
    for text in (CUSTOM_OPS, NMS):
        cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
        assert cause.rule == "paired"
        assert cause.meaning.startswith(
            "torchvision 0.16.0 is not the release made for torch 2.0.1 (that is torchvision 0.15.2)"
        )
        assert cause.fix.endswith('`python -m pip install --no-deps "torchvision==0.15.2"`')


def test_the_paired_release_or_another_patch_is_not_blamed(tmp_path, monkeypatch):
    for version in ("0.15.2", "0.15.1"):
        prefix, packages = with_torchvision(tmp_path / version, version)
        cause = diagnosis.explain(NMS, facts_for(monkeypatch, prefix, [packages]))
        assert cause.rule != "paired"


def test_torchvision_s_own_pin_is_judged_by_the_requirement_rule(tmp_path, monkeypatch):
    """A wheel's Requires-Dist (torch==2.1.0) is the surer fact: rule 2 names it."""
    prefix, packages = with_torchvision(tmp_path, "0.16.0", pin="==2.1.0")
    cause = diagnosis.explain(NMS, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule != "paired"


def test_a_failure_of_another_class_in_torchvision_code_is_not_blamed_on_the_pair(tmp_path, monkeypatch):
    prefix, packages = with_torchvision(tmp_path, "0.16.0")
    text = "RuntimeError: shape '[2, 3]' is invalid for input of size 5 (in %s/torchvision/ops/boxes.py)" % packages
    assert diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages])).rule != "paired"
