"""pyproject.toml: the checks install as a tool (`pip install .`) that works in another team's environment, from
another directory, on another workspace, without any file of this checkout."""

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from checks import __version__
from checks.__main__ import COMMANDS

# A wheel build, a venv and pip install, then several runs of the tool: 39 s on a 2-core machine (this round).
pytestmark = pytest.mark.slow

# What a build needs of the checkout, and what it must leave out of the wheel (the environments, tools, tests).
LEFT_OUT = ("envs/", "tools/", "tests/", "noxfile.py", "pixi.toml")
NOT_COPIED = shutil.ignore_patterns(".git", ".nox", ".pixi", ".venv", "build", "dist", "*.egg-info", "__pycache__")

# Another team's workspace, as small as pixi takes one: a CPU torch on the usual platforms, no lock.
THEIR_MANIFEST = """\
[workspace]
name = "their-project"
channels = ["conda-forge"]
platforms = ["linux-64", "osx-arm64", "win-64"]

[dependencies]
python = "3.11.*"
pytorch-cpu = ">=2.0"
"""


def _builds_here(repo_root):
    """Return None where a wheel can be built offline with this interpreter (pip, and the setuptools that
    pyproject.toml's build-system asks for, plus `wheel` where that setuptools has no bdist_wheel of its own, before
    70.1), else the reason it cannot. Read from the installed distributions: importing setuptools here would
    replace distutils in this process."""
    have = {}
    for name in ("pip", "setuptools", "wheel"):
        try:
            have[name] = tuple(int(part) for part in re.findall(r"\d+", importlib.metadata.version(name))[:2])
        except importlib.metadata.PackageNotFoundError:
            have[name] = None
    if have["pip"] is None or have["setuptools"] is None:
        missing = "pip" if have["pip"] is None else "setuptools"
        return "%s is not importable here: `pip wheel --no-build-isolation` needs it" % missing
    text = (repo_root / "pyproject.toml").read_text(encoding="utf-8")
    needed = int(re.search(r'"setuptools>=(\d+)"', text).group(1))
    if have["setuptools"][0] < needed:
        return "setuptools %d.%d here; pyproject.toml's build needs setuptools>=%d" % (have["setuptools"] + (needed,))
    if have["setuptools"] < (70, 1) and have["wheel"] is None:
        return "wheel is not importable here, and setuptools %d.%d needs it to build one" % have["setuptools"]
    return None


@pytest.fixture(scope="module")
def installed(tmp_path_factory, repo_root):
    """Build a wheel of this checkout (offline, from a copy so the checkout gets no build/ folder), install it with
    --no-deps --no-index into a fresh venv that sees this interpreter's packages (torch), and return (venv bin
    folder, wheel path, a folder outside the checkout to run from)."""
    reason = _builds_here(repo_root)
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("install")
    source, wheels, venv = base / "source", base / "wheels", base / "venv"
    shutil.copytree(str(repo_root), str(source), ignore=NOT_COPIED)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)],
        cwd=str(base),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = wheels.glob("pytorch_env-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    # --system-site-packages gives the base interpreter's packages; where this interpreter is itself a venv (the
    # usual case, nox's included), its packages (torch) are added after the new venv's own, by a .pth file.
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    ours = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    with open(os.path.join(where, "outer-site-packages.pth"), "w") as pth:
        pth.write("\n".join(ours) + "\n")
    install = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return bin_dir, wheel, elsewhere


def run(installed, *argv, env=None, cwd=None):
    """Run a program of the venv from the folder outside the checkout (or `cwd`), without pixi's variables or a
    PYTHONPATH."""
    bin_dir, _, elsewhere = installed
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXI_", "CONDA_OVERRIDE"))}
    child_env.pop("PYTHONPATH", None)
    child_env.update(env or {}, NO_COLOR="1")
    return subprocess.run(
        [str(bin_dir / argv[0]), *argv[1:]],
        cwd=str(cwd or elsewhere),
        env=child_env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_wheel_holds_checks_and_its_schema_only(installed, repo_root):
    """Package discovery takes checks/ and its subpackages, and report.schema.json; not envs/, tools/, tests/."""
    _, wheel, _ = installed
    names = zipfile.ZipFile(str(wheel)).namelist()
    packages = {os.path.dirname(n) for n in names if n.endswith("/__init__.py")}
    on_disk = {
        os.path.relpath(folder, str(repo_root)).replace(os.sep, "/")
        for folder, _, files in os.walk(str(repo_root / "checks"))
        if "__init__.py" in files
    }
    assert packages == on_disk and len(on_disk) > 5
    assert "checks/report.schema.json" in names
    assert not [n for n in names if n.startswith(LEFT_OUT)]
    top = {n.split("/")[0] for n in names}
    assert top == {"checks", "pytorch_env-%s.dist-info" % __version__}, top


def test_the_version_and_requirements_come_from_the_checkout(installed):
    """The version is checks/__init__.py's __version__; the only required dependency is tomli below Python 3.11;
    the extras name nvml, lock, charts and all."""
    _, wheel, _ = installed
    assert wheel.name.startswith("pytorch_env-%s-" % __version__)
    archive = zipfile.ZipFile(str(wheel))
    metadata = archive.read("pytorch_env-%s.dist-info/METADATA" % __version__).decode("utf-8")
    required = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert required == ['Requires-Dist: tomli>=1.1; python_version < "3.11"'], required
    assert "Requires-Python: >=3.8" in metadata.splitlines()
    extras = {line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Provides-Extra:")}
    assert extras == {"nvml", "lock", "charts", "all"}
    entry_points = archive.read("pytorch_env-%s.dist-info/entry_points.txt" % __version__).decode("utf-8")
    assert re.search(r"^pytorch-env = checks\.__main__:entry$", entry_points, re.M), entry_points


def test_pytorch_env_imports_the_installed_package_not_the_checkout(installed, repo_root):
    """From another directory, the venv's python imports checks from the venv, and `pytorch-env` is the same tool as
    `python -m checks` (its version, its command table)."""
    bin_dir, _, _ = installed
    proc = run(installed, "python", "-c", "import checks; print(checks.__file__)")
    assert proc.returncode == 0, proc.stderr
    where = os.path.realpath(proc.stdout.strip())
    assert where.startswith(os.path.realpath(str(bin_dir.parent)) + os.sep), where
    assert not where.startswith(os.path.realpath(str(repo_root)) + os.sep), where
    proc = run(installed, "pytorch-env", "--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, "checks %s" % __version__), proc.stdout + proc.stderr
    proc = run(installed, "pytorch-env", "--help")
    assert proc.returncode == 0, proc.stderr
    for name in COMMANDS:
        assert re.search(r"^  %s " % re.escape(name), proc.stdout, re.M), proc.stdout
    proc = run(installed, "pytorch-env", "no-such-command")
    assert proc.returncode == 2 and "valid commands" in proc.stderr and "Traceback" not in proc.stderr


def test_pytorch_env_judges_another_workspace_from_another_directory(installed, repo_root):
    """`pytorch-env lock-audit --manifest THEIRS` and `pytorch-env verify --quick` run from a folder outside this
    checkout, on another team's workspace: they work, they name the manifest they judge, and no file of the checkout
    is imported (no path of it in their output)."""
    _, _, elsewhere = installed
    workspace = elsewhere.parent / "their-workspace"
    workspace.mkdir()
    (workspace / "pixi.toml").write_text(THEIR_MANIFEST, encoding="utf-8")
    proc = run(installed, "pytorch-env", "lock-audit", "--manifest", str(workspace / "pixi.toml"))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out  # their workspace has no pixi.lock: a FAIL naming it, not a crash
    assert re.search(r"^manifest\s*: .*their-workspace[/\\]pixi\.toml \(pixi\.toml\)$", proc.stdout, re.M), out
    assert re.search(r"^FAIL lock: no .*pixi\.lock beside the manifest", proc.stdout, re.M), out
    assert "Traceback" not in out and str(repo_root / "checks") not in out
    # Without --manifest, from a folder inside their workspace: the manifest found upwards, as pixi finds it.
    (workspace / "src").mkdir()
    proc = run(installed, "pytorch-env", "lock-audit", cwd=workspace / "src")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"^manifest\s*: \.\.[/\\]pixi\.toml \(pixi\.toml\)$", proc.stdout, re.M), proc.stdout
    proc = run(installed, "pytorch-env", "verify", "--quick")
    out = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1), out  # a verdict on this machine, not a usage or internal error
    assert re.search(r"^PASS torch: ", proc.stdout, re.M), out  # this interpreter's torch, through the venv
    assert "Traceback" not in out and "internal error" not in out and str(repo_root / "checks") not in out
    # Under `pixi run` in their workspace: its environment, judged against its manifest, named in the header.
    proc = run(
        installed,
        "pytorch-env",
        "verify",
        "--quick",
        env={"PIXI_ENVIRONMENT_NAME": "default", "PIXI_PROJECT_MANIFEST": str(workspace / "pixi.toml")},
    )
    out = proc.stdout + proc.stderr
    assert re.search(r"^manifest\s*: %s$" % re.escape(str(workspace / "pixi.toml")), proc.stdout, re.M), out
    assert re.search(r"^environment\s*: default on ", proc.stdout, re.M), out
    assert "Traceback" not in out and "internal error" not in out
