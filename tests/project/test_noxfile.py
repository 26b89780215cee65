"""noxfile.py: sessions come from pixi.toml, go through pixi with the lock, and fall back to this interpreter."""

import json
import os
import re
import shutil
import stat
import subprocess
import sys

import pytest

from checks import probe, promise

pytest.importorskip("nox", reason="the noxfile tests run nox")

POSIX = pytest.mark.skipif(os.name != "posix", reason="the fake pixi is a POSIX shell script")
USER_ENVS = ["default", "cpu", "cu117", "cu118", "latest"]  # the matrix of pixi.toml, as README's table has it


@pytest.mark.parametrize(
    "subdir, envs, cuda_envs",
    [
        ("linux-64", USER_ENVS, ["default", "cu117", "cu118", "latest"]),
        ("win-64", USER_ENVS, ["default", "cu117", "cu118", "latest"]),
        ("osx-arm64", ["default", "cpu", "latest"], []),
        ("osx-64", ["default", "cpu"], []),
        ("linux-aarch64", [], []),
    ],
)
def test_environment_sessions_per_platform(workspace, subdir, envs, cuda_envs):
    """Each OS gets the environments installable there; gpu only the ones with a CUDA build there."""
    assert promise.torch_environments(workspace, subdir) == envs
    assert promise.torch_environments(workspace, subdir, cuda=True) == cuda_envs


def nox(repo, *args, path=None, timeout=600):
    """Run nox on a noxfile in a child process without pixi on PATH (unless `path` provides one)."""
    dirs = [
        d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not os.path.exists(os.path.join(d, "pixi"))
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXI_")}
    env["PATH"] = os.pathsep.join(([str(path)] if path else []) + [os.path.dirname(sys.executable)] + dirs)
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(repo / "noxfile.py"), *args],
        cwd=str(repo),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def listed(repo, *selection):
    """Return [(session name, env parameter)] that `nox -l --json` lists (the default run, or a selection)."""
    sessions = json.loads(nox(repo, "-l", "--json", *selection).stdout)
    assert all(s["description"] for s in sessions), sessions
    return [(s["name"], s["call_spec"].get("env")) for s in sessions]


def test_sessions_match_the_manifest(repo_root, workspace):
    """`nox -l`: verify/train per environment here, gpu per CUDA environment (off by default); all documented."""
    here = probe.host()["subdir"]
    default = listed(repo_root)
    envs = promise.torch_environments(workspace, here)
    assert [e for n, e in default if n == "verify"] == [e for n, e in default if n == "train"] == envs
    assert {n for n, _ in default} == {"verify", "train", "tests", "lint"}  # gpu is not in the default run
    cuda_envs = promise.torch_environments(workspace, here, cuda=True)
    if cuda_envs:
        assert [e for n, e in listed(repo_root, "-s", "gpu") if n == "gpu"] == cuda_envs
    assert [e for n, e in listed(repo_root, "-s", "dist") if n == "dist"] == envs  # not in the default run
    assert set(envs) | set(cuda_envs) <= set(workspace.environments)


def test_without_pixi_the_current_interpreter_runs_once_and_says_so(repo_root):
    """No pixi: the first parametrisation runs the check here, labelled; the others skip naming it."""
    proc = nox(repo_root, "-s", "train(default)", "train(cpu)", "--", "--quick", "--model", "net", "--device", "cpu")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "pixi not found: running in the CURRENT INTERPRETER" in out and "not in pixi environment 'default'" in out
    assert "PASS net-cpu-fp32-eager" in out and "train: " in out
    assert "pixi not found: the current interpreter already ran in train(default)" in out


@pytest.fixture
def copy_with_fake_pixi(repo_root, tmp_path):
    """Return (project copy, bin dir, log): the noxfile, pixi.toml and checks/ beside a `pixi` that logs its args."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("noxfile.py", "pixi.toml"):
        shutil.copy(str(repo_root / name), str(project / name))
    shutil.copytree(str(repo_root / "checks"), str(project / "checks"))
    bin_dir, log = tmp_path / "bin", tmp_path / "pixi-args.log"
    bin_dir.mkdir()
    fake = bin_dir / "pixi"
    fake.write_text('#!/bin/sh\necho "$@" >> "%s"\n' % log)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return project, bin_dir, log


@POSIX
def test_with_pixi_each_session_runs_in_its_environment_with_the_lock(copy_with_fake_pixi):
    """With pixi: `pixi run [--locked] --environment ENV TASK …` (pixi.toml's own task, so verify gets the platform
    pixi installed), args after -- passed through."""
    project, bin_dir, log = copy_with_fake_pixi
    proc = nox(project, "-s", "verify(cu118)", "--", "--quick", path=bin_dir)
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().splitlines() == ["run --environment cu118 verify --quick"]
    (project / "pixi.lock").write_text("version: 6\n")
    log.unlink()
    proc = nox(project, "-s", "train(cpu)", "--", "--model", "net", path=bin_dir)
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().splitlines() == ["run --locked --environment cpu train --model net"]


@POSIX
def test_session_arguments_it_sets_itself_are_usage_errors(copy_with_fake_pixi):
    """`--env` for verify and `--device` for gpu come from the session: passing them is a usage error."""
    project, bin_dir, log = copy_with_fake_pixi
    proc = nox(project, "-s", "verify(cpu)", "--", "--env", "cu118", path=bin_dir)
    assert proc.returncode == 1
    assert "usage: nox -s 'verify(ENV)'" in proc.stderr and "--env is set by the session" in proc.stderr
    assert not log.exists()


def test_gpu_session_skips_without_an_nvidia_gpu(repo_root, workspace):
    """`nox -s gpu` on a machine without an NVIDIA driver: skipped with the reason, not failed."""
    if probe.driver(timeout=30)["present"]:
        pytest.skip("this machine has an NVIDIA driver")
    if not promise.torch_environments(workspace, probe.host()["subdir"], cuda=True):
        pytest.skip("no CUDA environment on this platform")
    proc = nox(repo_root, "-s", "gpu")
    assert proc.returncode == 0, proc.stderr
    assert "no NVIDIA GPU on this machine" in proc.stderr


def test_readme_names_exactly_the_sessions_and_tasks(repo_root, manifest):
    """The README's `nox -s X` and `pixi run X` are the sessions of `nox -l` and the public pixi tasks, no more."""
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    sessions = set(re.findall(r"^[*-] ([a-z_]+)", nox(repo_root, "-l").stdout, re.M))
    tables = [manifest.get("tasks", {})] + [f.get("tasks", {}) for f in manifest["feature"].values()]
    tasks = {name for table in tables for name in table if not name.startswith("_")}
    assert set(re.findall(r"nox -s \"?(\w+)", readme)) == sessions
    named = set(re.findall(r"pixi run (?:-e \w+ )?([a-z][\w-]*)", readme)) - {"python"}  # `pixi run python x.py`
    assert named == tasks
