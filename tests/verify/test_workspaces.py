"""verify --manifest THEIR/pixi.toml --env E: other teams' workspace shapes, read right and judged without a crash."""

import re

import pytest

torch = pytest.importorskip("torch", reason="verify's end-to-end tests need torch in this interpreter")

BUILD = "cuda" if torch.version.cuda else "cpu"


def verify(run_checks, tmp_path, text, *argv, name="pixi.toml"):
    """Write a manifest and run `verify --quick --manifest it ARGV`; return the finished process."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    return run_checks("verify", "--quick", "--manifest", str(tmp_path / name), *argv)


def line(proc, name):
    match = re.search(r"^(\w+) %s: (.*)$" % re.escape(name), proc.stdout, re.M)
    return match.groups() if match else (None, proc.stdout + proc.stderr)


@pytest.mark.parametrize("table", ["workspace", "project"])
def test_pyproject_and_project_era_manifests(run_checks, tmp_path, table):
    """pyproject.toml with [tool.pixi.workspace] or the older [tool.pixi.project]: the environment is found and
    judged (no "unknown environment", no KeyError)."""
    text = (
        '[project]\nname = "p"\nrequires-python = ">=3.8"\n[tool.pixi.%s]\nchannels = ["conda-forge"]\n'
        'platforms = ["linux-64", "win-64", "osx-arm64", "osx-64"]\n[tool.pixi.dependencies]\npytorch-cpu = "*"\n'
        % table
    )
    proc = verify(run_checks, tmp_path, text, "--env", "default", name="pyproject.toml")
    status, summary = line(proc, "build")
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr
    assert status == ("PASS" if BUILD == "cpu" else "FAIL") and "pytorch-cpu" in summary


RICH = (
    '[workspace]\nchannels = ["conda-forge"]\nplatforms = [{ platform = "linux-64", cuda = "12.0" }, "linux-64", '
    '{ platform = "win-64", cuda = "12.0" }, "win-64", "osx-arm64", "osx-64"]\n[dependencies]\npytorch = ">=2.0"\n'
)


def test_unnamed_rich_platforms_go_by_pixis_names(run_checks, tmp_path):
    """`--platform linux-64-cuda-12-0` is the name pixi shows for `{ platform = "linux-64", cuda = "12.0" }`; a
    name it does not have is a usage error listing the ones it has."""
    subdir = {"linux": "linux-64", "win32": "win-64"}.get(__import__("sys").platform)
    if subdir is None:
        pytest.skip("the rich platforms here are for linux-64 and win-64")
    proc = verify(run_checks, tmp_path, RICH, "--env", "default", "--platform", "%s-cuda-12-0" % subdir)
    assert re.search(r"^environment\s*: default on %s-cuda-12-0 \(installed by pixi\)" % subdir, proc.stdout, re.M)
    status, summary = line(proc, "build")
    assert status == ("PASS" if BUILD == "cuda" else "FAIL") and "declares __cuda=12.0" in summary
    proc = verify(run_checks, tmp_path, RICH, "--env", "default", "--platform", "linux-64-cuda")
    assert proc.returncode == 2 and "its platforms: linux-64-cuda-12-0, linux-64" in proc.stderr


def test_an_environment_without_torch_is_a_usage_answer(run_checks, tmp_path):
    """`--env lint`: exit 2, saying there is no torch promise to check, and which environments have one."""
    text = (
        '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64", "win-64", "osx-arm64", "osx-64"]\n'
        '[dependencies]\npytorch-cpu = "*"\n[feature.lint.dependencies]\nruff = "*"\n'
        '[environments]\nlint = { features = ["lint"], no-default-feature = true }\n'
    )
    proc = verify(run_checks, tmp_path, text, "--env", "lint")
    assert proc.returncode == 2 and "no torch promise to verify" in proc.stderr
    assert "environments with torch here: default" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(BUILD != "cpu", reason="needs a CPU build of torch where CUDA is promised")
def test_fix_hints_name_their_workspace_not_ours(run_checks, tmp_path):
    """A PyPI torch promised from the cu124 index: the fix names that index, never this repository's envs/ files
    or its cu118 environment."""
    text = (
        '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64", "win-64", "osx-arm64", "osx-64"]\n'
        '[target.linux-64.pypi-dependencies]\ntorch = { version = "*", index = "https://download.pytorch.org/whl/cu124" }\n'
        '[target.win-64.pypi-dependencies]\ntorch = { version = "*", index = "https://download.pytorch.org/whl/cu124" }\n'
    )
    proc = verify(run_checks, tmp_path, text, "--env", "default")
    status, summary = line(proc, "build")
    if status is None or "promises CPU" in summary:
        pytest.skip("no CUDA promise on this OS")
    assert status == "FAIL" and "https://download.pytorch.org/whl/cu124" in summary
    assert "requirements.txt" not in proc.stdout and "cu118" not in proc.stdout
