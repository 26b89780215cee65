"""noxfile.py: sessions come from pixi.toml, go through pixi with the lock, and fall back to this interpreter."""

import atexit
import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from types import SimpleNamespace

import pytest

from checks.machine import probe
from checks.workspace import promise

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
    here = probe.host().subdir
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


def test_without_pixi_verify_judges_this_interpreter_against_the_environment(repo_root):
    """No pixi: `nox -s "verify(ENV)"` runs `python -m checks verify --env ENV`, so its verdict is that command's (an
    interpreter that is not ENV fails, where plain `verify` would pass it)."""
    env = "latest" if sys.version_info[:2] != (3, 12) else "cpu"  # Python 3.10 or 3.12: never this interpreter
    proc = nox(repo_root, "-s", "verify(%s)" % env, "--", "--quick")
    out = proc.stdout + proc.stderr
    assert re.search(r"-m checks verify --env %s --quick\n" % env, out), out
    direct = subprocess.run(
        [sys.executable, "-m", "checks", "verify", "--env", env, "--quick"],
        cwd=str(repo_root),
        env={k: v for k, v in os.environ.items() if not k.startswith("PIXI_")},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert direct.returncode == 1, direct.stdout + direct.stderr
    assert proc.returncode == 1, out  # nox: 1 when a session failed


@pytest.fixture
def copy_with_fake_pixi(repo_root, tmp_path):
    """Return (project copy, bin dir, log): the noxfile, pixi.toml, pyproject.toml and checks/ beside a `pixi` that logs
    its args."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("noxfile.py", "pixi.toml", "pyproject.toml"):
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
    """`nox -s gpu` on a machine without an NVIDIA GPU: skipped with the reason, not failed."""
    if probe.nvidia_hardware():
        pytest.skip("this machine has an NVIDIA GPU")
    if not promise.torch_environments(workspace, probe.host().subdir, cuda=True):
        pytest.skip("no CUDA environment on this platform")
    proc = nox(repo_root, "-s", "gpu")
    assert proc.returncode == 0, proc.stderr
    assert "no NVIDIA GPU on this machine" in proc.stderr


class Stop(Exception):
    """What nox's session.skip and session.error raise, for FakeSession."""


class FakeSession:
    """A nox session that records what the noxfile asks of it instead of running anything."""

    def __init__(self, name, posargs=(), virtualenv=None):
        self.name, self.posargs, self.runs, self.logs, self.envs = name, list(posargs), [], [], []
        self.virtualenv = SimpleNamespace(location=virtualenv)

    def run(self, *args, **kwargs):
        self.runs.append(list(args))
        self.envs.append(kwargs.get("env"))

    def log(self, message):
        self.logs.append(message)

    warn = log

    def skip(self, message):
        raise Stop("skip: " + message)

    def error(self, message):
        raise Stop("error: " + message)


def load_noxfile(repo_root):
    """Return noxfile.py imported in this process (its sessions kept out of nox's registry)."""
    from unittest import mock

    import nox.registry

    spec = importlib.util.spec_from_file_location("noxfile_under_test", str(repo_root / "noxfile.py"))
    module = importlib.util.module_from_spec(spec)
    with mock.patch.object(nox.registry, "_REGISTRY", {}):
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def noxfile_module(repo_root):
    """Return noxfile.py imported in this process; its test sessions set up no banner at this process's exit (it
    speaks for nox runs, not for this one)."""
    module = load_noxfile(repo_root)
    module._SAY_MISSING.append(True)
    return module


@pytest.fixture
def noxfile(noxfile_module, monkeypatch):
    """Return the noxfile without pixi (`shutil.which` finds only `python`), no command run yet, and no GPU
    evidence unless a test gives some."""
    monkeypatch.setattr(noxfile_module, "_RAN_HERE", {})
    monkeypatch.setattr(noxfile_module.shutil, "which", lambda name: "/fake/bin/python" if name == "python" else None)
    monkeypatch.setattr(noxfile_module.probe, "nvidia_hardware", lambda: [])
    return noxfile_module


def call(session_function, name, env, posargs=()):
    """Call a session of the noxfile as nox would; return the FakeSession and what stopped it, if anything."""
    session = FakeSession(name, posargs)
    try:
        session_function(session, env=env)
    except Stop as stop:
        return session, str(stop)
    return session, None


def test_without_pixi_each_verify_session_passes_its_environment(noxfile):
    """No pixi: every verify(ENV) runs `python -m checks verify --env ENV ...` (each judges another environment)."""
    for env in ("cu118", "cpu"):
        session, stopped = call(noxfile.verify, "verify(%s)" % env, env, ["--quick"])
        assert stopped is None
        assert session.runs == [["/fake/bin/python", "-m", "checks", "verify", "--env", env, "--quick"]]
        assert "pixi not found: running in the CURRENT INTERPRETER /fake/bin/python" in session.logs[0]


def test_without_pixi_platform_passes_through_with_pixi_it_is_refused(noxfile, monkeypatch):
    """`--platform NAME` picks the variant verify --env judges against; under pixi its task passes the platform pixi
    installed (`--platform {{ pixi.platform }}`), so a second one is a usage error."""
    session, stopped = call(noxfile.verify, "verify(default)", "default", ["--platform", "linux-64-cpu"])
    assert stopped is None and session.runs[0][3:] == ["verify", "--env", "default", "--platform", "linux-64-cpu"]
    monkeypatch.setattr(noxfile.shutil, "which", lambda name: "/fake/bin/" + name)
    session, stopped = call(noxfile.verify, "verify(default)", "default", ["--platform=linux-64-cpu"])
    assert (
        stopped.startswith("error: usage: nox -s 'verify(ENV)'")
        and "--platform is set by pixi's verify task" in stopped
    )
    assert session.runs == []


@pytest.mark.parametrize("pixi", [None, "/fake/bin/pixi"], ids=["no-pixi", "pixi"])
def test_env_after_dashes_is_refused(noxfile, monkeypatch, pixi):
    """`nox -s "verify(cu118)" -- --env cu118`: the session sets --env, with pixi or without."""
    monkeypatch.setattr(noxfile.shutil, "which", lambda name: {"pixi": pixi, "python": "/fake/bin/python"}.get(name))
    for args in (["--env", "cu118"], ["--env=cu118"]):
        session, stopped = call(noxfile.verify, "verify(cu118)", "cu118", args)
        assert stopped.startswith("error: usage: nox -s 'verify(ENV)' -- ") and "--env is set by the session" in stopped
        assert session.runs == []


def test_gpu_is_skipped_only_without_any_nvidia_evidence(noxfile):
    """No PCI device, /dev/nvidiaN, /proc/driver/nvidia or nvidia-smi: gpu skips, naming what it looked for."""
    session, stopped = call(noxfile.gpu, "gpu(cu118)", "cu118")
    assert stopped.startswith("skip: no NVIDIA GPU on this machine") and "vendor 0x10de" in stopped
    assert session.runs == []


def test_gpu_runs_where_there_is_evidence_even_if_the_driver_is_broken(noxfile, monkeypatch):
    """Evidence of a GPU (here: nvidia-smi on PATH, whose driver may not answer): the session runs, says the evidence,
    and verifies against its environment; a second CUDA environment repeats only verify (health, train and bench
    are the same command lines in the same interpreter)."""
    monkeypatch.setattr(noxfile.probe, "nvidia_hardware", lambda: ["/dev/nvidia0", "nvidia-smi at /usr/bin/nvidia-smi"])
    first, stopped = call(noxfile.gpu, "gpu(default)", "default", ["--quick"])
    assert stopped is None
    assert "NVIDIA GPU on this machine: /dev/nvidia0; nvidia-smi at /usr/bin/nvidia-smi" in first.logs
    assert [run[3:] for run in first.runs] == [
        ["verify", "--env", "default", "--quick"],
        ["health", "--quick"],
        ["train", "--device", "cuda", "--quick"],
        ["bench", "--device", "cuda", "--quick"],
    ]
    second, stopped = call(noxfile.gpu, "gpu(cu118)", "cu118", ["--quick"])
    assert stopped is None and [run[3:] for run in second.runs] == [["verify", "--env", "cu118", "--quick"]]
    assert any("already ran here in gpu(default)" in line for line in second.logs), second.logs


def test_gpu_with_pixi_runs_the_tasks_in_the_environment(noxfile, monkeypatch, tmp_path):
    """With pixi and a GPU: pixi.toml's tasks in ENV, verify without --env (its task passes the platform pixi
    installed, and pixi sets PIXI_ENVIRONMENT_NAME)."""
    monkeypatch.setattr(noxfile.shutil, "which", lambda name: "/fake/bin/" + name)
    monkeypatch.setattr(noxfile.probe, "nvidia_hardware", lambda: ["PCI device 0000:01:00.0"])
    monkeypatch.setattr(noxfile, "LOCK", str(tmp_path / "pixi.lock"))  # none yet: no --locked
    session, stopped = call(noxfile.gpu, "gpu(cu118)", "cu118")
    assert stopped is None
    assert session.runs == [
        ["/fake/bin/pixi", "run", "--environment", "cu118", "verify"],
        ["/fake/bin/pixi", "run", "--environment", "cu118", "health"],
        ["/fake/bin/pixi", "run", "--environment", "cu118", "train", "--device", "cuda"],
        ["/fake/bin/pixi", "run", "--environment", "cu118", "bench", "--device", "cuda"],
    ]


def test_the_lint_session_installs_the_lint_feature_and_runs_each_command(noxfile_module):
    """nox's lint session gets its tools from pixi.toml's lint feature (conda names as PyPI names), installs them
    into its own environment, and runs every command of the lint task there."""
    wanted = set(noxfile_module.MANIFEST.features["lint"].table["dependencies"]) - {"python"}
    assert {"ruff", "actionlint", "zizmor"} <= wanted
    installed = []
    session = FakeSession("lint")
    session.install = lambda *specs: installed.extend(specs)
    noxfile_module.lint(session)
    pypi = {noxfile_module.PYPI.get(name, name) for name in wanted}
    assert {re.split(r"[<>=!~]", spec)[0] for spec in installed} == pypi
    assert session.runs[0] == ["ruff", "check", "."]
    assert ["actionlint"] in session.runs
    assert ["zizmor", "--offline", ".github/workflows"] in session.runs


def test_the_test_sessions_run_the_suite_in_parallel_with_xdist_from_pixi_toml(
    noxfile_module, workspace, tmp_path, monkeypatch
):
    """Every test session installs pytest-xdist (pixi.toml's test feature, like pytest) and runs pytest on one
    worker per CPU, at most XDIST_MAX: most of the suite's time is waits (timeouts, children starting torch). The
    wheels go through one folder under nox's cache that all sessions share: pip wheel fetches what is not there,
    then pip installs from that folder alone."""
    monkeypatch.delenv("CI", raising=False)  # a local run: the virtualenvs stay
    assert "pytest-xdist" in workspace.features["test"].table["dependencies"]
    assert any(spec.startswith("setuptools") for spec in noxfile_module.BUILD_DEPS)  # test_install builds a wheel
    wheels = str(tmp_path / "wheels")
    for python, torch, pins in noxfile_module.TEST_MATRIX:
        installed = []
        session = FakeSession("tests")
        session.python, session.cache_dir = python, tmp_path
        session.install = lambda *specs, into=installed: into.extend(specs)
        noxfile_module.tests(session, torch=torch)
        assert any(spec.startswith("pytest-xdist") for spec in installed), installed
        specs = [*pins, *noxfile_module.TEST_DEPS, *noxfile_module.BUILD_DEPS]
        assert session.runs[0] == ["python", "-m", "pip", "wheel", "--quiet", "--wheel-dir", wheels, *specs]
        assert installed == ["--no-index", "--find-links", wheels, *specs]
        pytest = session.runs[-1]
        assert pytest[:4] == ["python", "-m", "pytest", "--runslow"]
        assert pytest[4:8] == ["-n", "auto", "--maxprocesses", noxfile_module.XDIST_MAX]
        assert session.envs[-1] == {"OMP_NUM_THREADS": "1"}  # one torch thread per worker


def test_the_test_sessions_keep_an_omp_num_threads_the_user_set(noxfile_module, monkeypatch, tmp_path):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delenv("CI", raising=False)
    python, torch, _ = noxfile_module.TEST_MATRIX[-1]
    session = FakeSession("tests")
    session.python, session.cache_dir, session.install = python, tmp_path, lambda *specs: None
    noxfile_module.tests(session, torch=torch)
    assert session.envs[-1] == {"OMP_NUM_THREADS": "3"}


@pytest.mark.parametrize("outcome", ["passed", "failed"])
def test_on_ci_a_test_session_deletes_its_virtualenv_once_it_has_run(noxfile_module, monkeypatch, tmp_path, outcome):
    """.ci/run sets CI; each test session then deletes its virtualenv after pytest, passed or failed (three torch
    2.0.1 virtualenvs filled the CI machine's disk). Without CI it stays."""
    python, torch, _ = noxfile_module.TEST_MATRIX[0]
    for ci in ("true", None):
        venv = tmp_path / ("venv-%s" % ci)
        (venv / "bin").mkdir(parents=True)
        session = FakeSession("tests", virtualenv=str(venv))
        session.python, session.cache_dir, session.install = python, tmp_path, lambda *specs: None
        if outcome == "failed":
            session.run = _failing_command
        if ci:
            monkeypatch.setenv("CI", ci)
        else:
            monkeypatch.delenv("CI", raising=False)
        stopped = None
        try:
            noxfile_module.tests(session, torch=torch)
        except Stop as stop:
            stopped = str(stop)
        assert stopped == ("command failed" if outcome == "failed" else None)
        assert venv.exists() is (ci is None), ci


def _failing_command(*args, **kwargs):
    """A FakeSession's run for a command that fails (nox raises CommandFailed)."""
    raise Stop("command failed")


def test_the_missing_interpreter_banner_is_set_up_by_a_test_session_only(repo_root, monkeypatch, tmp_path, capsys):
    """Importing the noxfile (`nox -l`, any session) registers nothing and looks for no interpreter; a test session
    registers the banner for the end of the run, once, without reading nox's command line. The banner names each
    matrix Python not found."""
    registered = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.delenv("CI", raising=False)
    module = load_noxfile(repo_root)
    assert registered == []
    monkeypatch.setattr(module, "_runs", lambda version: version != "3.8")
    python, torch, _ = module.TEST_MATRIX[-1]
    for _ in range(2):
        session = FakeSession("tests")
        session.python, session.cache_dir, session.install = python, tmp_path, lambda *specs: None
        module.tests(session, torch=torch)
    assert registered == [module._say_missing]
    module._say_missing()
    assert "MISSING INTERPRETERS: python3.8 not found" in capsys.readouterr().err


def test_the_noxfile_imports_checks_from_its_own_checkout_leaving_sys_path_alone(repo_root, tmp_path):
    """`nox -f PATH/noxfile.py` started elsewhere, through the `nox` command (whose sys.path holds its own folder,
    not the checkout): the sessions are listed from that checkout's pixi.toml, and sys.path is not edited."""
    probe_file = tmp_path / "sitecustomize_probe.py"
    probe_file.write_text(
        "import runpy, sys\n"
        "before = list(sys.path)\n"
        "sys.argv = ['nox', '-f', %r, '-l']\n"
        "try:\n"
        "    runpy.run_module('nox', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "import checks\n"
        "print('SYS.PATH SAME' if sys.path == before else 'SYS.PATH CHANGED', checks.__file__)\n"
        "sys.exit(code)\n" % str(repo_root / "noxfile.py")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXI_") and k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-I", str(probe_file)], cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "verify(cpu)" in out and "tests(3.11-torch" in out
    assert "SYS.PATH SAME %s" % (repo_root / "checks" / "__init__.py") in out, out
