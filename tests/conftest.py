"""Shared fixtures: repository paths, pixi.toml, the report schema, running `python -m checks`; gpu/slow skips."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _has_cuda():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_addoption(parser):
    """Add --runslow: slow tests (torch.compile) are skipped without it."""
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    """Skip `slow` tests without --runslow and `gpu` tests without a CUDA GPU, saying why. With --runslow the slow
    tests come first: run in parallel (pytest-xdist hands out tests in this order), the longest start at once and
    the others fill the remaining workers, instead of one of them starting last and running alone."""
    if config.getoption("--runslow"):
        items.sort(key=lambda item: "slow" not in item.keywords)  # stable: the rest keep their order
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow")
    skip_gpu = pytest.mark.skip(reason="gpu: no CUDA GPU visible to torch on this machine")
    has_cuda = None
    for item in items:
        if "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(skip_slow)
        if "gpu" in item.keywords:
            has_cuda = _has_cuda() if has_cuda is None else has_cuda
            if not has_cuda:
                item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def repo_root():
    """Return the repository root."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def manifest(workspace):
    """Return pixi.toml's raw tables, as checks.workspace.manifest read them (the one reader); tests must not modify
    it."""
    return workspace.data


@pytest.fixture(scope="session")
def data_dir(repo_root):
    """Return tests/data: real channel records and pixi's schema (see its README for their sources)."""
    return repo_root / "tests" / "data"


@pytest.fixture(scope="session")
def workspace(repo_root):
    """Return pixi.toml read by the one manifest reader (checks.workspace.manifest)."""
    from checks.workspace import manifest

    return manifest.load(str(repo_root / "pixi.toml"))


@pytest.fixture(scope="session")
def lock_builder(data_dir):
    """Return a LockBuilder over the real `pytorch` channel records (PyYAML is a test dependency)."""
    from lockdata import LockBuilder

    return LockBuilder(data_dir / "pytorch-channel-linux-64.json")


@pytest.fixture(scope="session")
def report_schema(repo_root):
    """Return a validator for checks/report.schema.json, or None where jsonschema is not installed."""
    try:
        import jsonschema
    except ImportError:
        return None
    schema = json.loads((repo_root / "checks" / "report.schema.json").read_text())
    return jsonschema.Draft7Validator(schema)


@pytest.fixture
def bare_python(tmp_path):
    """Return the interpreter of a fresh virtual environment without torch (or pip)."""
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))


@pytest.fixture
def run_checks(repo_root, tmp_path):
    """Return a function that runs `python -m checks ARGS` in a child process, as a user would."""

    def run(*args, python=None, env=None, timeout=600):
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXI_", "CONDA_OVERRIDE"))}
        if python:  # another interpreter than the activated environment's (nox activates the session's venv)
            child_env.pop("VIRTUAL_ENV", None)
        child_env.update(env or {})
        extra = child_env.get("PYTHONPATH")
        child_env["PYTHONPATH"] = os.pathsep.join(p for p in (extra, str(repo_root)) if p)
        child_env["NO_COLOR"] = "1"
        # Run from an empty directory so only --manifest or pixi's variables can point at a pixi.toml.
        workdir = tmp_path / "cwd"
        workdir.mkdir(exist_ok=True)
        return subprocess.run(
            [python or sys.executable, "-m", "checks", *args],
            cwd=str(workdir),
            env=child_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture(autouse=True)
def _process_memory_per_test():
    """verify's import_failure remembers a package's first failed import for the rest of the process (a worker runs
    one verify), as the facts a parent hands over are kept (hf_hub, toolchain, project); each test is a run of its
    own."""
    yield
    install = sys.modules.get("checks.verify.install")
    if install is not None:
        install.FIRST_FAILURES.clear()
    for name in ("checks.machine.hf_hub", "checks.machine.toolchain", "checks.machine.project"):
        module = sys.modules.get(name)
        if module is not None:
            module._HANDED.clear()
