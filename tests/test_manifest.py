"""Tests for checks/manifest.py: reading pixi.toml, target matching, pixi's platform selection, version specs."""

import pytest

from checks import manifest
from checks.manifest import ManifestError

WORKSPACE = """
[workspace]
channels = ["conda-forge"]
platforms = [
  { name = "linux-64-cu118", platform = "linux-64", cuda = "11.8" },
  { name = "linux-64-cpu", platform = "linux-64" },
  "osx-arm64",
]

[feature.t.dependencies]
pytorch = "2.0.1"
python = "3.10.*"

[feature.t.target."*-cpu".dependencies]
cpuonly = "*"

[feature.t.target."*-cu118".dependencies]
pytorch-cuda = "11.8.*"

[feature.t.target.linux.dependencies]
pytorch = "2.0.0"

[feature.t.target."linux-64-cpu".dependencies]
pytorch = "2.0.1"

[environments]
default = { features = ["t"], platforms = ["linux-64-cu118", "linux-64-cpu", "osx-arm64"] }
gpu-only = { features = ["t"], platforms = ["linux-64-cu118"] }
"""


@pytest.fixture
def data(tmp_path):
    """Return a small rich-platform manifest parsed by checks.manifest."""
    path = tmp_path / "pixi.toml"
    path.write_text(WORKSPACE)
    return manifest.load(str(path))


@pytest.mark.parametrize(
    "host_cuda, platform_name, flavour",
    [
        (None, "linux-64-cpu", "cpu"),
        ("12.4", "linux-64-cu118", "cuda"),
        ("11.8", "linux-64-cu118", "cuda"),
        ("11.4", "linux-64-cpu", "cpu"),
    ],
)
def test_selection_follows_platform_order_and_driver(data, host_cuda, platform_name, flavour):
    """The first platform whose CUDA the driver supports wins, the CPU platform otherwise (pixi's rule)."""
    expectation = manifest.expect(data, "default", "linux-64", host_cuda)
    assert expectation.platform["name"] == platform_name
    assert expectation.flavour == flavour


def test_later_targets_win_and_families_match(data):
    """A later, more specific target overrides an earlier family target for the same package."""
    cpu = manifest.expect(data, "default", "linux-64", None)
    cuda = manifest.expect(data, "default", "linux-64", "12.0")
    assert cpu.torch == "2.0.1" and "cpuonly" in cpu.deps
    assert cuda.torch == "2.0.0" and cuda.cuda == "11.8.*" and "cpuonly" not in cuda.deps


def test_cuda_only_environment_without_driver_expects_cuda_and_flags_the_driver(data):
    """A CUDA-only environment on a driverless machine still expects CUDA, marked driver_short."""
    expectation = manifest.expect(data, "gpu-only", "linux-64", None)
    assert expectation.flavour == "cuda" and expectation.driver_short


def test_unknown_environment_and_unsupported_machine(data):
    """An unknown name lists the valid ones; an OS the environment lacks names its platforms."""
    with pytest.raises(ManifestError, match="valid environments: default, gpu-only"):
        manifest.expect(data, "nope", "linux-64", None)
    with pytest.raises(ManifestError, match="does not support this machine \\(win-64\\)"):
        manifest.expect(data, "default", "win-64", None)


def test_load_errors_are_manifest_errors(tmp_path):
    """Missing, malformed or foreign files raise ManifestError with a readable message."""
    with pytest.raises(ManifestError, match="cannot read"):
        manifest.load(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[workspace\n")
    with pytest.raises(ManifestError, match="not valid TOML"):
        manifest.load(str(bad))


def test_find_manifest_prefers_pixi_variables(tmp_path, monkeypatch):
    """PIXI_PROJECT_MANIFEST wins; otherwise the nearest pixi.toml at or above the start directory."""
    (tmp_path / "pixi.toml").write_text(WORKSPACE)
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.delenv("PIXI_PROJECT_MANIFEST", raising=False)
    monkeypatch.delenv("PIXI_WORKSPACE_MANIFEST", raising=False)
    assert manifest.find_manifest(str(nested)) == str(tmp_path / "pixi.toml")
    monkeypatch.setenv("PIXI_PROJECT_MANIFEST", "/elsewhere/pixi.toml")
    assert manifest.find_manifest(str(nested)) == "/elsewhere/pixi.toml"


@pytest.mark.parametrize(
    "version, spec, ok",
    [
        ("2.0.1+cu117", "2.0.1", True),
        ("2.0.10", "2.0.1", False),
        ("3.10.13", "3.10.*", True),
        ("3.1.0", "3.10.*", False),
        ("11.1", "11.0.*", False),
        ("1.26.4", ">=1.21,<2", True),
        ("2.0.0", ">=1.21,<2", False),
        ("12.10", ">=12.8", True),
        ("12.4", ">=12.8", False),
        ("2.0", "2.0.0", True),
        ("1.0", "1.0|2.0", True),
        ("anything", "*", True),
    ],
)
def test_spec_matches(version, spec, ok):
    """The conda version-spec subset pixi.toml uses: exact, prefix, ranges, alternatives."""
    assert manifest.spec_matches(version, spec) is ok


def test_real_manifest_default_environment(repo_root):
    """The repository's default environment: cu118 with a driver, CPU without, 2.0.1 on both."""
    data = manifest.load(str(repo_root / "pixi.toml"))
    assert manifest.expect(data, "default", "linux-64", "12.2").platform["name"] == "linux-64-cu118"
    assert manifest.expect(data, "default", "win-64", None).platform["name"] == "win-64-cpu"
    assert manifest.expect(data, "latest", "linux-64", "12.8").cuda == ">=12.8"
    assert manifest.expect(data, "latest", "linux-64", "12.4").flavour == "cpu"
