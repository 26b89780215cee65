# /// script
# dependencies = ["nox>=2024.4.15", "tomli>=1.1; python_version < '3.11'"]
# ///
"""Run the checks inside every pixi environment, and the project's own tests and lint."""

import os
import shutil

import nox

try:
    import tomllib
except ImportError:  # nox on Python < 3.11
    import tomli as tomllib

nox.needs_version = ">=2024.4.15"
# venv: the interpreter's own ensurepip seeds pip (current virtualenv no longer seeds Python 3.8).
nox.options.default_venv_backend = "venv"
# A missing interpreter skips its test session locally; CI passes --error-on-missing-interpreters.
nox.options.error_on_missing_interpreters = False

ROOT = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(ROOT, "pixi.toml"), "rb") as _handle:
    MANIFEST = tomllib.load(_handle)
TORCH20 = MANIFEST["feature"]["torch20"]["dependencies"]


def _version(spec):
    """Return a pixi dependency's version string."""
    return spec if isinstance(spec, str) else spec["version"]


def _torch_envs():
    """Return the pixi environments that install torch, in manifest order (never typed twice)."""
    features = MANIFEST.get("feature", {})
    names = []
    for name, env in MANIFEST.get("environments", {}).items():
        feats = env if isinstance(env, list) else env.get("features", [])
        if not name.startswith("test") and any("pytorch" in features.get(f, {}).get("dependencies", {}) for f in feats):
            names.append(name)
    return names


# The test matrix: torch 2.0.1 with the pins of pixi.toml's torch20 feature, at both ends of the
# Python versions it runs on here, and the newest torch release whose CPU wheel installs from PyPI.
NEWEST_TORCH = "2.13.0"
TORCH20_PINS = [
    "torch==%s" % _version(TORCH20["pytorch"]),
    "torchvision==%s" % _version(TORCH20["torchvision"]),
    "torchaudio==%s" % _version(TORCH20["torchaudio"]),
    "numpy%s" % TORCH20["numpy"],
    "tomli",
]
TEST_MATRIX = {"3.8": TORCH20_PINS, "3.10": TORCH20_PINS, "3.11": ["torch==%s" % NEWEST_TORCH, "numpy"]}


def pixi_run(session, env, *command):
    """Run a command in pixi environment `env` (lock enforced when pixi.lock exists), else here."""
    if shutil.which("pixi"):
        locked = ["--locked"] if os.path.exists(os.path.join(ROOT, "pixi.lock")) else []
        session.run("pixi", "run", *locked, "-e", env, *command, external=True)
        return
    session.log("pixi not found: running in the current interpreter instead of pixi environment %r" % env)
    session.run("python", *command[1:] if command[0] == "python" else command, external=True)


@nox.session(venv_backend="none")
@nox.parametrize("env", _torch_envs(), ids=_torch_envs())
def verify(session, env):
    """Run `python -m checks verify` in each pixi environment (args after -- pass through)."""
    args = session.posargs or ["--quick"]
    if shutil.which("pixi"):
        pixi_run(session, env, "python", "-m", "checks", "verify", *args)
    else:
        session.log("pixi not found: verifying the current interpreter against environment %r" % env)
        session.run("python", "-m", "checks", "verify", "--env", env, *args, external=True)


@nox.session(python=list(TEST_MATRIX))
def tests(session):
    """Run the test suite (slow tests included) against torch 2.0.1 and the newest torch."""
    packages = TEST_MATRIX[session.python]
    session.install(*packages, "pytest>=7.4", "jsonschema>=4.17")
    session.run(
        "python", "-c", "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__)"
    )
    session.run("python", "-m", "pytest", "--runslow", *session.posargs)


@nox.session(python=False)
def lint(session):
    """Lint and format-check with ruff, and check that envs/ matches pixi.toml."""
    if not shutil.which("ruff"):
        session.error("ruff not found: `pip install ruff` or run `pixi run lint`")
    session.run("ruff", "check", ".", external=True)
    session.run("ruff", "format", "--check", ".", external=True)
    session.run("python", "tools/gen_envs.py", "--check", external=True)
