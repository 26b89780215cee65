"""The manifest audit: what pixi 0.77 rejects, and the PyTorch pitfalls it lets through, each naming the line."""

import pytest

from checks.lock_audit import manifest_verdicts as manifest_audit
from checks.workspace import manifest

# Last round's three parse/solve faults in one small manifest of our own.
BROKEN = """[workspace]
channels = ["conda-forge"]
platforms = [
  { name = "linux-64-cu118", platform = "linux-64", cuda = "11.8" },
  { name = "osx-arm64", platform = "osx-arm64", macos = "12.3" },
]

[feature.torch20]
channels = ["nvidia", { channel = "pytorch", priority = -1 }]

[feature.torch20.dependencies]
pytorch = { version = "2.0.1", channel = "pytorch" }
pytorch-cuda = { version = "11.8.*", channel = "pytorch" }

[feature.lint.tasks.lint]
depends-on = ["ruff"]
default-environment = "lint"

[environments]
cu118 = { features = ["torch20"], platforms = ["linux-64-cu118"] }
lint = ["lint"]
"""


@pytest.fixture
def audit(tmp_path):
    """Return a function: manifest text -> {result name: [Result, ...]}."""

    def run(text):
        path = tmp_path / "pixi.toml"
        path.write_text(text, encoding="utf-8")
        found = {}
        for result in manifest_audit.audit(manifest.load(str(path))):
            found.setdefault(result.name, []).append(result)
        return found

    return run


def test_this_repositorys_manifest_passes(workspace):
    """pixi.toml: one PASS, nothing pixi rejects, no pitfall."""
    (result,) = manifest_audit.audit(workspace)
    assert result.status == "PASS" and "8 environments, 11 platforms" in result.summary


def test_last_rounds_three_faults_are_found_with_their_lines(audit):
    """IsSubdirPlatform (platform.rs@v0.77.0:447-461), the alias task's extra key (toml/task.rs@v0.77.0:281-292),
    and conda-forge before nvidia through the hidden feature (features_ext.rs@v0.77.0:44-62)."""
    found = audit(BROKEN)
    (platform,) = found["manifest"]
    assert (
        platform.status == "FAIL" and "special subdir platform" in platform.summary and "(line 5)" in platform.summary
    )
    assert 'platform = "osx-arm64", macos = "12.3"' in platform.hint
    (task,) = found["manifest-tasks"]
    assert "'default-environment' was not expected here" in task.summary and "pixi.toml:17" in task.hint
    (channels,) = found["manifest-channels-cu118"]
    assert channels.status == "FAIL" and channels.actual == "conda-forge, nvidia, pytorch"
    assert "pixi.toml:9" in channels.hint and "priority = 1" in channels.hint


def test_each_fix_clears_its_finding(audit):
    """The fixes the hints give are what pixi accepts: the audit then passes."""
    fixed = (
        BROKEN.replace(
            '{ name = "osx-arm64", platform = "osx-arm64", macos = "12.3" }',
            '{ platform = "osx-arm64", macos = "12.3" }',
        )
        .replace('default-environment = "lint"\n', "")
        .replace('channels = ["nvidia",', 'channels = [{ channel = "nvidia", priority = 1 },')
    )
    assert list(audit(fixed)) == ["manifest"] and audit(fixed)["manifest"][0].status == "PASS"


@pytest.mark.parametrize(
    ("text", "name", "status", "words"),
    [
        # a legacy pytorch with neither cpuonly nor pytorch-cuda: the solver picks the flavour
        (
            '[workspace]\nchannels = ["pytorch", "conda-forge"]\nplatforms = ["linux-64"]\n'
            '[dependencies]\npytorch = "2.0.1"\n',
            "manifest-flavour-default-on-linux-64",
            "WARN",
            "neither cpuonly nor pytorch-cuda",
        ),
        # an environment named for CUDA whose conda-forge pytorch has no __cuda to solve against
        (
            '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n'
            '[feature.gpu.dependencies]\npytorch = "*"\n'
            '[environments]\ncuda = ["gpu"]\n',
            "manifest-flavour-cuda-on-linux-64",
            "WARN",
            "named for CUDA but promises a CPU build",
        ),
        # conda pytorch and PyPI torch in one environment
        (
            '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npytorch = "*"\n'
            '[pypi-dependencies]\ntorch = "*"\n',
            "manifest-two-torches-default-on-linux-64",
            "WARN",
            "installs torch twice",
        ),
        # a target selector that matches nothing (pixi warns, toml/mod.rs@v0.77.0:92-163)
        (
            '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n'
            '[target.win-64.dependencies]\nfoo = "*"\n',
            "manifest-target",
            "WARN",
            "matches no platform",
        ),
        # pytorch-cuda 12 with conda-forge first: solvable, but not pytorch's own cuda-* builds
        (
            '[workspace]\nchannels = ["conda-forge", "nvidia", "pytorch"]\nplatforms = ["linux-64"]\n[dependencies]\n'
            'pytorch = { version = "2.4.*", channel = "pytorch" }\n'
            'pytorch-cuda = { version = "12.4.*", channel = "pytorch" }\n',
            "manifest-channels-default",
            "WARN",
            "lets conda-forge shadow nvidia",
        ),
    ],
)
def test_pytorch_pitfalls(audit, text, name, status, words):
    """What pixi accepts but cannot deliver as promised: one WARN or FAIL each, with the fix."""
    (result,) = audit(text)[name]
    assert result.status == status and words in result.summary and result.hint


def test_parse_problems_of_the_workspace_are_reported(audit):
    """Duplicate platform names (snapshot duplicate_workspace_platform_name_rejected, toml/workspace.rs@v0.77.0:688-702)
    and undeclared feature references come out as FAIL lines."""
    found = audit(
        '[workspace]\nchannels = ["c"]\nplatforms = [{ name = "gpu", platform = "linux-64", cuda = "12" }, '
        '{ name = "gpu", platform = "win-64", cuda = "12" }]\n'
        '[feature.f]\nplatforms = ["nope"]\n[environments]\ne = ["f"]\n'
    )
    summaries = " | ".join(r.summary for r in found["manifest"])
    assert "duplicate key: `gpu`" in summaries and "references platform 'nope'" in summaries


def test_an_unused_feature_gets_pixis_warning(tmp_path):
    """pixi warns about a `[feature.x]` no environment lists (toml/manifest.rs@v0.77.0:538-551, its words); a feature
    listed only through `default` is the default feature, and a listed one is used."""
    from checks.lock_audit import manifest_verdicts
    from checks.workspace import manifest

    (tmp_path / "pixi.toml").write_text(
        '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[feature.used]\n[feature.spare]\n'
        '[environments]\ne = ["used", "default"]\n'
    )
    results = {r.name: r for r in manifest_verdicts.audit(manifest.load(str(tmp_path / "pixi.toml")))}
    spare = results["manifest-unused-feature-spare"]
    assert spare.status == "WARN" and "manifest-unused-feature-used" not in results
    assert spare.summary.startswith("The feature 'spare' is defined but not used in any environment.")
    assert spare.actual == "pixi.toml:5: [feature.spare]"
