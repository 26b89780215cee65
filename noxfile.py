#!/usr/bin/env -S nox -f
# /// script
# dependencies = ["nox>=2024.4.15", "tomli>=1.1; python_version < '3.11'"]
# ///
"""Run the checks inside every pixi environment installable here, and the project's own tests and lint."""

import os
import shutil
import sys

import nox

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, ROOT)  # the environment list and the GPU probe come from checks/, never typed twice

from checks import manifest, probe, promise  # noqa: E402

nox.needs_version = ">=2024.4.15"
# venv: the interpreter's own ensurepip seeds pip (current virtualenv no longer seeds Python 3.8).
nox.options.default_venv_backend = "venv"
# A missing interpreter skips its test session locally; CI passes --error-on-missing-interpreters.
nox.options.error_on_missing_interpreters = False

# pixi.toml is the only place environments are defined; sessions are parametrised from it for this OS.
MANIFEST = manifest.load(os.path.join(ROOT, "pixi.toml"))
SUBDIR = probe.host()["subdir"]
ENVS = promise.torch_environments(MANIFEST, SUBDIR)
CUDA_ENVS = promise.torch_environments(MANIFEST, SUBDIR, cuda=True)
# With a lock, every environment session installs exactly it (`pixi run --locked` fails on a stale lock).
LOCK = os.path.join(ROOT, "pixi.lock")
TORCH20 = MANIFEST.features["torch20"].table["dependencies"]

# The test matrix: torch 2.0.1 with the pins of pixi.toml's torch20 feature, at both ends of the
# Python versions it runs on here, and the newest torch release whose CPU wheel installs from PyPI.
NEWEST_TORCH = "2.13.0"
TORCH20_PINS = [
    "torch==%s" % TORCH20["pytorch"]["version"],
    "torchvision==%s" % TORCH20["torchvision"]["version"],
    "torchaudio==%s" % TORCH20["torchaudio"]["version"],
    "numpy%s" % TORCH20["numpy"],
    "tomli",
]
# 3.11 also installs matplotlib (bench draws its chart); 3.8 and 3.10 test the route without it.
# py-rattler (the reference pixi.lock writer, Python 3.10+) cross-checks lock-audit's reader on 3.11.
TEST_MATRIX = {
    "3.8": TORCH20_PINS,
    "3.10": TORCH20_PINS,
    "3.11": ["torch==%s" % NEWEST_TORCH, "numpy", "matplotlib", "py-rattler>=0.28"],
}

# Without pixi every parametrisation would run the same interpreter: the first one runs, the rest say so.
_RAN_HERE = {}


def run_checks(session: nox.Session, env: str, *commands: list) -> None:
    """Run the pixi task of each command (`verify`, `train`, ...) in pixi environment `env`, or here without pixi.

    The tasks are pixi.toml's own (`verify` passes the platform pixi installed, `{{ pixi.platform }}`).
    """
    pixi = shutil.which("pixi")
    if pixi:
        locked = ["--locked"] if os.path.exists(LOCK) else []
        for command in commands:
            session.run(pixi, "run", *locked, "--environment", env, *command, external=True)
        return
    kind = session.name.split("(")[0]
    if kind in _RAN_HERE:
        session.skip("pixi not found: the current interpreter already ran in %s" % _RAN_HERE[kind])
    _RAN_HERE[kind] = session.name
    python = shutil.which("python") or shutil.which("python3") or sys.executable  # the user's, with torch
    session.warn("pixi not found: running in the CURRENT INTERPRETER %s, not in pixi environment %r" % (python, env))
    for command in commands:
        session.run(python, "-m", "checks", *command, external=True)


def _posargs(session: nox.Session, forbidden: str, usage: str) -> list:
    """Return the arguments after `--`, refusing one that the session sets itself."""
    if any(arg == forbidden or arg.startswith(forbidden + "=") for arg in session.posargs):
        session.error("usage: %s (%s is set by the session)" % (usage, forbidden))
    return list(session.posargs)


@nox.session(venv_backend="none")
@nox.parametrize("env", ENVS, ids=ENVS)
def verify(session: nox.Session, env: str) -> None:
    """Prove each environment works: `python -m checks verify` (args after -- pass through)."""
    args = _posargs(session, "--env", "nox -s 'verify(ENV)' -- [--quick] [--json PATH] ...")
    run_checks(session, env, ["verify", *args])


@nox.session(venv_backend="none")
@nox.parametrize("env", ENVS, ids=ENVS)
def train(session: nox.Session, env: str) -> None:
    """Train the reference models in each environment: `python -m checks train` (args after -- pass through)."""
    run_checks(session, env, ["train", *session.posargs])


@nox.session(venv_backend="none", default=False)
@nox.parametrize("env", CUDA_ENVS, ids=CUDA_ENVS)
def gpu(session: nox.Session, env: str) -> None:
    """Verify, train on CUDA and benchmark the GPU in each CUDA environment (args after -- go to bench)."""
    args = _posargs(session, "--device", "nox -s gpu -- [--quick] [--strict] [--json PATH] ...")
    driver = probe.driver(timeout=30)
    if not driver["present"]:
        session.skip("no NVIDIA GPU on this machine (no driver answered: nvidia-smi, libcuda)")
    quick = ["--quick"] if "--quick" in args else []
    run_checks(
        session, env, ["verify", *quick], ["train", "--device", "cuda", *quick], ["bench", "--device", "cuda", *args]
    )


@nox.session(venv_backend="none", default=False)
@nox.parametrize("env", ENVS, ids=ENVS)
def dist(session: nox.Session, env: str) -> None:
    """Multi-process check in each environment: ranks join, all-reduce, bus bandwidth (args after -- pass through)."""
    run_checks(session, env, ["dist", "--nproc", "auto", *session.posargs])


@nox.session(python=list(TEST_MATRIX))
def tests(session: nox.Session) -> None:
    """Run the test suite (slow tests included) against torch 2.0.1 and the newest torch."""
    session.install(*TEST_MATRIX[session.python], "pytest>=7.4", "jsonschema>=4.17", "nox>=2024.4.15", "pyyaml>=5.4")
    session.run(
        "python", "-c", "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__)"
    )
    session.run("python", "-m", "pytest", "--runslow", *session.posargs)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """Lint and format-check with ruff, and check that envs/ matches pixi.toml."""
    if not shutil.which("ruff"):
        session.error("ruff not found: `pip install ruff` or run `pixi run lint`")
    session.run("ruff", "check", ".", external=True)
    session.run("ruff", "format", "--check", ".", external=True)
    session.run("python", "tools/gen_envs.py", "--check", external=True)


if __name__ == "__main__":
    nox.main()
