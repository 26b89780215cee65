"""Where torch, torchvision and torchaudio come from, read without importing them: which copy Python imports, the
other copies on `sys.path`, and the interpreter that runs against the environment's own.

Python imports a top-level package from the first `sys.path` entry that holds it (the import system's PathFinder,
docs.python.org/3/reference/import.html#the-path-based-finder); `sys.path` is the script's directory (or the current
directory for `-m`), then `PYTHONPATH`, then the user site-packages (site.ENABLE_USER_SITE, unless
PYTHONNOUSERSITE is set), then the prefix's site-packages (docs.python.org/3/library/site.html). So a torch in
`~/.local/lib/pythonX.Y/site-packages` or on `PYTHONPATH` is imported ahead of the environment's own.
"""

import ast
import dataclasses
import glob
import importlib.machinery
import json
import os
import re
import site
import sys
from typing import Dict, Optional, Tuple

PACKAGES = ("torch", "torchvision", "torchaudio")
# conda's package name where it differs from the import name (conda-forge and the pytorch channel).
CONDA_NAMES = {"torch": ("pytorch", "pytorch-gpu", "pytorch-cpu")}

ENVIRONMENT, USER_SITE, PYTHONPATH, CURRENT_DIRECTORY, OTHER = (
    "environment",
    "user site-packages",
    "PYTHONPATH",
    "current directory",
    "another prefix",
)


@dataclasses.dataclass(frozen=True)
class Copy:
    """One copy of a package on `sys.path`.

    path: the package directory (`.../site-packages/torch`); entry: the `sys.path` entry holding it; origin: one of
    ENVIRONMENT, USER_SITE, PYTHONPATH, CURRENT_DIRECTORY, OTHER; version: from the dist-info beside it (pip) or the
    prefix's conda record, None when neither names it; installer: `pip`, `conda`, `uv`, ... or None; empty: True for
    a directory with no `__init__.py` (Python imports it as an empty namespace package).
    """

    path: str
    entry: str
    origin: str
    version: Optional[str] = None
    installer: Optional[str] = None
    empty: bool = False

    def describe(self):
        """`2.0.1 from /x/site-packages (environment)`; a module file: `from the file /x/torch.py (current
        directory)`."""
        if self.path.endswith(".py"):
            return "from the file %s (%s)" % (self.path, self.origin)
        return "%s from %s (%s%s)" % (
            self.version or "unknown version",
            self.entry,
            self.origin,
            ", an empty directory" if self.empty else "",
        )


@dataclasses.dataclass(frozen=True)
class Package:
    """A package as this Python would import it: `imported` (None when it is not installed) and `others`, the copies
    further down `sys.path` that it shadows."""

    name: str
    imported: Optional[Copy]
    others: Tuple[Copy, ...] = ()


# An installation scheme's library directory names its Python: lib/pythonX.Y/site-packages (sysconfig's posix_prefix
# "purelib", docs.python.org/3/library/sysconfig.html), Debian's /usr/lib/python3/dist-packages and
# /usr/lib/python2.7/dist-packages (Debian Python Policy 1.5), ROS 1's /opt/ros/<distro>/lib/python2.7/dist-packages.
PYTHON_LIBRARY = re.compile(r"(?:^|[/\\])python(\d+)(?:\.(\d+))?[/\\](?:site|dist)-packages(?:[/\\]|$)")


@dataclasses.dataclass(frozen=True)
class ForeignPath:
    """A PYTHONPATH entry that holds packages for another Python: `entry` as written, `python` the version its
    path names (`2.7`, `3.8`), `set_by` who put it there where variables say so (`ROS's setup script`: ROS_DISTRO
    is set and the entry lies under /opt/ros/<distro>/ or a CMAKE_PREFIX_PATH prefix, as setup.bash leaves them)."""

    entry: str
    python: str
    set_by: Optional[str] = None


def foreign_paths(environ=None, version=None):
    """Return the ForeignPaths of PYTHONPATH: entries whose pythonX[.Y]/site-packages or dist-packages names a
    Python other than `version` (default this one's (major, minor)). Python puts PYTHONPATH ahead of the
    environment's site-packages, so packages there (pure Python for another version, or extension modules built
    for it) are imported first."""
    environ = os.environ if environ is None else environ
    major, minor = version or sys.version_info[:2]
    found = []
    for entry in (p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p):
        named = PYTHON_LIBRARY.search(entry)
        if not named or (int(named.group(1)) == major and (named.group(2) is None or int(named.group(2)) == minor)):
            continue
        set_by = None
        distro = environ.get("ROS_DISTRO")
        prefixes = [p for p in environ.get("CMAKE_PREFIX_PATH", "").split(os.pathsep) if p]
        if distro and ("/ros/%s/" % distro in entry or any(_under(entry, p) for p in prefixes)):
            set_by = "ROS's setup script"
        found.append(ForeignPath(entry, named.group(1) + ("." + named.group(2) if named.group(2) else ""), set_by))
    return tuple(found)


@dataclasses.dataclass(frozen=True)
class Provenance:
    """interpreter: sys.executable; prefix: sys.prefix; environment: the environment's prefix (pixi's and conda's
    CONDA_PREFIX when pixi runs us, else sys.prefix); foreign_interpreter: True when pixi says we run in an
    environment whose prefix is not this interpreter's; packages: name -> Package."""

    interpreter: str
    prefix: str
    environment: str
    foreign_interpreter: bool
    packages: Dict[str, Package]
    activated_by: Optional[str] = None  # "pixi" or "VIRTUAL_ENV": who says which environment is meant
    foreign_paths: Tuple[ForeignPath, ...] = ()  # PYTHONPATH entries holding another Python's packages
    # (name, path, interpreter) of PATH_TOOLS on PATH that run another Python (foreign_tools)
    foreign_tools: Tuple[Tuple[str, str, str], ...] = ()
    # commands two installed distributions declare (command_conflicts)
    command_conflicts: Tuple["CommandConflict", ...] = ()
    # (pip name, its path, the Python it installs into, the python on PATH) when they differ (pip_apart)
    pip_apart: Optional[Tuple[str, str, str, str]] = None

    def to_dict(self):
        """The JSON form (report.schema.json: facts.provenance)."""
        return dataclasses.asdict(self)

    def outside(self):
        """Return the Packages imported from outside the environment, in PACKAGES order."""
        return [p for p in self.packages.values() if p.imported is not None and p.imported.origin != ENVIRONMENT]


def _real(path):
    return os.path.normcase(os.path.realpath(path or os.curdir))


def _under(path, root):
    path, root = _real(path), _real(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def activated_by(environ=None):
    """Return "pixi" (CONDA_PREFIX with PIXI_ENVIRONMENT_NAME), "VIRTUAL_ENV" (an activated virtual environment) or
    None: who names the environment meant, when it is not simply this interpreter's."""
    environ = os.environ if environ is None else environ
    if environ.get("CONDA_PREFIX") and environ.get("PIXI_ENVIRONMENT_NAME"):
        return "pixi"
    return "VIRTUAL_ENV" if environ.get("VIRTUAL_ENV") else None


def environment_prefix(environ=None):
    """Return (environment prefix, whether this interpreter is not the environment's): under pixi (or an active
    conda environment) the prefix is CONDA_PREFIX; a virtual environment's is sys.prefix."""
    environ = os.environ if environ is None else environ
    conda = environ.get("CONDA_PREFIX")
    if conda and environ.get("PIXI_ENVIRONMENT_NAME"):
        return conda, not _under(sys.prefix, conda)
    venv = environ.get("VIRTUAL_ENV")  # `activate` of venv/virtualenv/uv sets it; a python from elsewhere may run
    if venv and os.path.isdir(venv) and not _under(sys.prefix, venv):
        return venv, True
    return sys.prefix, False


def origin_of(entry, environment, environ=None):
    """Classify a `sys.path` entry: inside the environment, the user site, a PYTHONPATH entry, the current
    directory, or another prefix (a system dist-packages, a .pth file's directory)."""
    environ = os.environ if environ is None else environ
    if _under(entry, environment) or _under(entry, sys.prefix):
        return ENVIRONMENT
    user = site.getusersitepackages()
    if user and _real(entry) == _real(user):
        return USER_SITE
    paths = [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if any(_real(entry) == _real(p) for p in paths):
        return PYTHONPATH
    if entry in ("", os.curdir) or _real(entry) == _real(os.getcwd()):
        return CURRENT_DIRECTORY
    return OTHER


@dataclasses.dataclass(frozen=True)
class InsidePackage:
    """A `sys.path` entry that is the folder of package `name` itself, not the folder holding it: Python finds `name`
    inside the entries, so `import name` fails (JJGO/shrinkbench#3: PYTHONPATH=~/shrinkbench, written by running
    the README's `export PYTHONPATH="$PWD:$PYTHONPATH"` inside the clone). `origin`: origin_of's; `parent`: the entry
    that imports it; `set_in`: the shell start-up file and line that write it into PYTHONPATH ("~/.bashrc:12"), or
    None."""

    name: str
    entry: str
    origin: str
    parent: str
    set_in: Optional[str] = None


SHELL_FILES = (".bashrc", ".bash_profile", ".profile", ".zshrc", ".zprofile", ".zshenv")


def inside_package(name, path=None, environ=None, home=None):
    """Return the InsidePackage for the first `sys.path` entry (`path`, default sys.path) named `name` that holds
    Python code (_holds_python: from its parent it imports as package `name`, a namespace package without an
    __init__.py as shrinkbench's clone is), when no entry holds `name` itself; else None. Only entries put on the
    path by hand are judged (PYTHONPATH, a .pth file's): a script's own folder named like a package it imports is
    not this case."""
    path = sys.path if path is None else path
    environ = os.environ if environ is None else environ
    for entry in path:
        real = os.path.abspath(entry or os.curdir)
        if os.path.isdir(os.path.join(real, name)) or os.path.isfile(os.path.join(real, name + ".py")):
            return None  # importable from this entry: not this rule's case
    for entry in path:
        real = os.path.abspath(entry or os.curdir)
        if os.path.basename(real) != name or not _holds_python(real):
            continue
        origin = origin_of(entry, environment_prefix(environ)[0], environ)
        if origin not in (PYTHONPATH, OTHER):  # the script's own folder or the environment: not a path set by hand
            continue
        return InsidePackage(
            name=name,
            entry=real,
            origin=origin,
            parent=os.path.dirname(real),
            set_in=_set_in_shell(real, home or os.path.expanduser("~")) if origin == PYTHONPATH else None,
        )
    return None


def _holds_python(folder, limit=400):
    """True when `folder` holds an __init__.py, a module file, or a subfolder with an __init__.py (its first `limit`
    entries looked at)."""
    try:
        with os.scandir(folder) as entries:
            for number, item in enumerate(entries):
                if number >= limit:
                    break
                if item.name.endswith(".py") and item.is_file():
                    return True
                if item.is_dir() and os.path.isfile(os.path.join(item.path, "__init__.py")):
                    return True
    except OSError:
        pass
    return False


def _set_in_shell(entry, home, limit=1 << 16):
    """ "~/.bashrc:12" for the first line of a shell start-up file in `home` that sets PYTHONPATH and names `entry`
    (written out, or under ~ / $HOME), or None."""
    spelled = {entry, entry.replace(home, "~", 1), entry.replace(home, "$HOME", 1), entry.replace(home, "${HOME}", 1)}
    for name in SHELL_FILES:
        try:
            with open(os.path.join(home, name), "rb") as handle:
                lines = handle.read(limit).decode("utf-8", "replace").splitlines()
        except OSError:
            continue
        for number, line in enumerate(lines, 1):
            if "PYTHONPATH" in line and any(re.search(re.escape(s) + r"/?(?=[\s:\"']|$)", line) for s in spelled):
                return "~/%s:%d" % (name, number)
    return None


def _pip_version(entry, name):
    """Return (version, installer) from a `NAME-VERSION.dist-info` in `entry`, or (None, None)."""
    for info in sorted(glob.glob(os.path.join(glob.escape(entry), "%s-*.dist-info" % name))):
        version = os.path.basename(info)[len(name) + 1 : -len(".dist-info")]
        try:
            with open(os.path.join(info, "INSTALLER"), encoding="utf-8") as handle:
                installer = handle.read().strip() or None
        except OSError:
            installer = None
        return version, installer
    return None, None


def conda_version(prefix, name):
    """Return the version of a conda package installed in `prefix` (from conda-meta), or None."""
    for conda_name in CONDA_NAMES.get(name, (name,)):
        for path in glob.glob(os.path.join(glob.escape(prefix), "conda-meta", "%s-*.json" % conda_name)):
            try:
                with open(path, encoding="utf-8") as handle:
                    record = json.load(handle)
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and record.get("name") == conda_name:
                return str(record.get("version"))
    return None


def copies(name, path=None, environment=None, environ=None):
    """Return every Copy of package `name` on `path` (default sys.path), in import order; the first is the one
    `import name` takes unless a meta-path finder (an editable install) intervenes. A file `name.py` is a copy too:
    Python's path finder takes a module file where the entry has no package of that name (a user's script named
    torch.py in the folder Python starts from)."""
    environment = environment or environment_prefix(environ)[0]
    found, seen = [], set()
    for entry in sys.path if path is None else path:
        if not isinstance(entry, str):
            continue
        directory = os.path.join(entry or os.curdir, name)
        module = directory + ".py"  # a single-file module of that name (a script called torch.py) shadows it too
        if not os.path.isdir(directory) and os.path.isfile(module) and _real(module) not in seen:
            seen.add(_real(module))
            found.append(Copy(module, entry or os.curdir, origin_of(entry, environment, environ), None, None, False))
            continue
        if not os.path.isdir(directory) or _real(directory) in seen:
            continue
        seen.add(_real(directory))
        origin = origin_of(entry, environment, environ)
        version, installer = _pip_version(entry or os.curdir, name)
        if version is None and origin == ENVIRONMENT:
            version = conda_version(environment, name)
            installer = "conda" if version else None
        empty = not os.path.isfile(os.path.join(directory, "__init__.py"))
        found.append(Copy(directory, entry or os.curdir, origin, version, installer, empty))
    return found


def package(name, path=None, environment=None, environ=None):
    """Return the Package `name`: the copy `import name` takes and the ones it shadows."""
    found = copies(name, path, environment, environ)
    spec = None
    try:
        spec = importlib.machinery.PathFinder.find_spec(name, path)
    except (ImportError, ValueError):
        pass
    if spec is None and not found:
        return Package(name, None)
    locations = list(getattr(spec, "submodule_search_locations", None) or [])
    first = next((c for c in found if locations and _real(c.path) == _real(locations[0])), found[0] if found else None)
    return Package(name, first, tuple(c for c in found if c is not first))


def collect(path=None, environ=None):
    """Return the Provenance of PACKAGES for this interpreter, without importing any of them (a few stat calls and
    one small file read per copy)."""
    environment, foreign = environment_prefix(environ)
    return Provenance(
        interpreter=sys.executable,
        prefix=sys.prefix,
        environment=environment,
        foreign_interpreter=foreign,
        packages={name: package(name, path, environment, environ) for name in PACKAGES},
        activated_by=activated_by(environ),
        foreign_paths=foreign_paths(environ),
        foreign_tools=tuple(foreign_tools(PATH_TOOLS, environ)),
        command_conflicts=tuple(command_conflicts(path, environ)),
        pip_apart=pip_apart(environ),
    )


@dataclasses.dataclass(frozen=True)
class CommandConflict:
    """A console script two or more installed distributions declare (entry_points.txt, [console_scripts]): its
    `command`, the `path` on PATH, the distribution whose entry point that script runs (`runs`: (project, "module:
    function")), and the other declarations (`others`: ((project, "module:function"), ...)). The one installed last
    wrote the script (meta-pytorch/torchtune#2001: Ray's `tune` over torchtune's)."""

    command: str
    path: str
    runs: Tuple[str, str]
    others: Tuple[Tuple[str, str], ...]


SCRIPT_BYTES = 64 << 10
ENTRY_POINTS_BYTES = 256 << 10


def _console_scripts(info):
    """{command: "module:function"} of a .dist-info's entry_points.txt [console_scripts] section (an INI file, the
    entry points specification's format: read with configparser, as importlib.metadata does), extras dropped."""
    import configparser

    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=False)
    parser.optionxform = str  # command names keep their case
    try:
        with open(os.path.join(info, "entry_points.txt"), encoding="utf-8", errors="replace") as handle:
            parser.read_string(handle.read(ENTRY_POINTS_BYTES))
    except (OSError, configparser.Error):
        return {}
    if not parser.has_section("console_scripts"):
        return {}
    return {name: target.split("[")[0].strip() for name, target in parser.items("console_scripts")}


def command_conflicts(path=None, environ=None):
    """The CommandConflicts among the distributions installed on `path` (default sys.path) whose script is on PATH:
    the script pip wrote imports its entry point (`from ray.scripts.scripts import main`), which names the
    distribution it runs. Nothing is run."""
    import shutil

    from checks.machine import requirements

    environ = os.environ if environ is None else environ
    entries = [e for e in (sys.path if path is None else path) if isinstance(e, str)]
    declared = {}
    for project, (_, metadata) in sorted(requirements.pip_installed(entries).items()):
        for command, target in _console_scripts(os.path.dirname(metadata)).items():
            declared.setdefault(command, []).append((project, target))
    out = []
    for command, owners in sorted(declared.items()):
        if len({p for p, _ in owners}) < 2:
            continue
        found = shutil.which(command, path=environ.get("PATH"))
        try:
            with open(found or "", "rb") as handle:
                text = handle.read(SCRIPT_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        runs = next(
            (o for o in owners if "from %s import %s" % tuple(o[1].split(":", 1)) in text and ":" in o[1]), None
        )
        if runs is not None:
            others = tuple(o for o in owners if o != runs)
            out.append(CommandConflict(command=command, path=found, runs=runs, others=others))
    return out


# the console scripts on PATH that install into, or run code with, their own interpreter (pip's and setuptools'
# entry-point scripts name it in their first line: `#!/prefix/bin/python`, or pip's long-path form: `#!/bin/sh`,
# then a line `'''exec' "/prefix/bin/python" "$0" "$@"`)
PATH_TOOLS = ("pip3", "pip", "ipython", "jupyter", "torchrun")
RUNS_CODE = ("ipython", "jupyter", "torchrun")
EXEC_LINE = re.compile(r"""^'''exec' "?([^"\s]+)"?""", re.M)
# a shell wrapper's `exec /prefix/bin/python ...` (conda's and module systems' wrappers, `python -m pip` shims)
SHELL_EXEC = re.compile(r"""^\s*exec\s+"?(/[^"\s]*python[\d.]*)"?(?:\s|$)""", re.M)


@dataclasses.dataclass(frozen=True)
class Launcher:
    """A console script on PATH (`torchrun`) and the interpreter its `#!` line runs (pip writes the Python it was
    installed with there: PEP 427's script wrappers, distlib's launcher)."""

    name: str
    path: str
    interpreter: str

    def foreign(self, executable=None, prefix=None, base_prefix=None):
        """True when the script runs another Python than `executable` (default sys.executable): neither the same file
        nor one beside it (a venv's or environment's bin/), nor, outside a virtual environment, the same real file."""
        executable = executable or sys.executable
        prefix, base_prefix = prefix or sys.prefix, base_prefix or sys.base_prefix
        mine = os.path.abspath(executable)
        theirs = os.path.abspath(self.interpreter)
        if theirs == mine or os.path.dirname(theirs) == os.path.dirname(mine):
            return False
        return not (prefix == base_prefix and os.path.realpath(theirs) == os.path.realpath(mine))


def launcher(name="torchrun", environ=None):
    """Return the Launcher `name` on PATH (its first 512 bytes read; never run), or None where there is no such
    script or it does not start with `#!`. A shell script's interpreter is the Python it execs, where it names one:
    pip's long-path form (`'''exec' "/prefix/bin/python" "$0" "$@"`), a wrapper's `exec /prefix/bin/python`."""
    import shutil

    environ = os.environ if environ is None else environ
    path = shutil.which(name, path=environ.get("PATH"))
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            head = handle.read(512).decode("utf-8", "replace")
    except OSError:
        return None
    first = head.split("\n", 1)[0]
    if not first.startswith("#!"):
        return None
    words = first[2:].split()
    if not words:
        return None
    interpreter = words[1] if os.path.basename(words[0]) == "env" and len(words) > 1 else words[0]
    if os.path.basename(words[0]) == "env":  # `#!/usr/bin/env python3`: the one PATH finds
        interpreter = shutil.which(interpreter, path=environ.get("PATH")) or interpreter
    found = EXEC_LINE.search(head) or (SHELL_EXEC.search(head) if words[0].endswith("sh") else None)
    if found:  # pip's long-path form, or a shell wrapper that execs a Python
        interpreter = found.group(1)
    return Launcher(name=name, path=path, interpreter=interpreter)


def version_py(package_dir):
    """Return {name: value} of the constant assignments in <package_dir>/version.py (`__version__`, `cuda`, `hip`,
    ...), read with ast; {} where there is none."""
    try:
        with open(os.path.join(package_dir, "version.py"), encoding="utf-8") as handle:
            tree = ast.parse(handle.read(64 << 10))
    except (OSError, SyntaxError, ValueError):
        return {}
    found = {}
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
                found[target.id] = value.value
    return found


@dataclasses.dataclass(frozen=True)
class Elsewhere:
    """An environment on this machine that holds a package this Python lacks: its prefix, the interpreter in it,
    the package's version (from its dist-info, None when unrecorded), how it was found (`conda`, `pixi`, `pyenv`,
    `virtualenv`, `Jupyter kernel <name>`, `PATH`)."""

    prefix: str
    interpreter: str
    version: Optional[str]
    found_by: str


def foreign_tools(names=PATH_TOOLS, environ=None):
    """Return [(name, path, interpreter)] of the console scripts `names` on PATH that run another Python than this
    one (Launcher.foreign): `pip3 install` puts packages there, `ipython` runs code there."""
    out = []
    for name in names:
        found = launcher(name, environ)
        if found is not None and "python" in os.path.basename(found.interpreter) and found.foreign():
            out.append((name, found.path, found.interpreter))
    return out


def same_python(one, other):
    """True when two interpreter paths are one Python: the same file, one beside the other (a venv's or conda
    environment's bin/), or the same real file where neither is a virtual environment's (a venv's python links to
    its base interpreter, yet its packages are its own: PEP 405's pyvenv.cfg beside its bin/)."""
    one, other = os.path.abspath(one), os.path.abspath(other)
    if one == other or os.path.dirname(one) == os.path.dirname(other):
        return True
    if any(os.path.isfile(os.path.join(os.path.dirname(os.path.dirname(p)), "pyvenv.cfg")) for p in (one, other)):
        return False
    return os.path.realpath(one) == os.path.realpath(other)


def pip_apart(environ=None):
    """(pip name, its path, the Python it installs into, the python on PATH) when the `pip` (`pip3`) on PATH runs
    another Python than the `python` (`python3`) on PATH: `pip install` and `pip list` then work on one environment
    and `python` runs another ("pip list shows torch, import torch fails": pytorch/pytorch#172808). None when they
    are one Python, when either is missing, or when the python on PATH is a script (pyenv's and asdf's shims pick
    the interpreter at run time, which nothing here runs to learn). Nothing is run: pip's `#!` line is read
    (launcher) and the python's first bytes."""
    import shutil

    environ = os.environ if environ is None else environ
    for pip, python in (("pip", "python"), ("pip3", "python3")):
        found = launcher(pip, environ)
        runs = shutil.which(python, path=environ.get("PATH"))
        if found is None or runs is None or "python" not in os.path.basename(found.interpreter):
            continue
        try:
            with open(runs, "rb") as handle:
                if handle.read(2) == b"#!":
                    continue
        except OSError:
            continue
        if not same_python(found.interpreter, runs):
            return (pip, found.path, found.interpreter, runs)
    return None


def _candidate_prefixes(environ, cwd, home):
    """(prefix, found_by) of the Python environments a user of this machine is likely to have, in a fixed order: the
    conda environments conda records (~/.conda/environments.txt) and the envs/ of the usual conda roots, pixi's
    .pixi/envs/* in this folder and its parents, pyenv's versions, virtualenvwrapper's and project .venv folders,
    the `python`/`python3` on PATH, and the interpreters of Jupyter's kernel specs."""
    found = []
    try:
        with open(os.path.join(home, ".conda", "environments.txt"), encoding="utf-8") as handle:
            found += [(line.strip(), "conda") for line in handle.read(1 << 16).splitlines() if line.strip()]
    except OSError:
        pass
    roots = [environ.get("CONDA_PREFIX", ""), os.path.dirname(os.path.dirname(environ.get("CONDA_EXE", "") or ""))]
    roots += [os.path.join(home, n) for n in ("miniconda3", "anaconda3", "miniforge3", "mambaforge")] + ["/opt/conda"]
    for root in roots:
        if root:
            found += [(root, "conda")] + [
                (p, "conda") for p in sorted(glob.glob(os.path.join(glob.escape(root), "envs", "*")))
            ]
    here = cwd
    for _ in range(4):
        found += [(p, "pixi") for p in sorted(glob.glob(os.path.join(glob.escape(here), ".pixi", "envs", "*")))]
        found += [(p, "virtualenv") for p in (os.path.join(here, ".venv"), os.path.join(here, "venv"))]
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    found += [(p, "pyenv") for p in sorted(glob.glob(os.path.join(glob.escape(home), ".pyenv", "versions", "*")))]
    found += [(p, "virtualenv") for p in sorted(glob.glob(os.path.join(glob.escape(home), ".virtualenvs", "*")))]
    import shutil

    for name in ("python3", "python"):
        path = shutil.which(name, path=environ.get("PATH"))
        if path:
            found.append((os.path.dirname(os.path.dirname(os.path.realpath(path))), "PATH"))
    for name, _, interpreter in foreign_tools(("pip3", "pip"), environ):
        found.append(
            (os.path.dirname(os.path.dirname(interpreter)), "the %s on PATH, which belongs to that Python" % name)
        )
    kernels = [
        os.path.join(home, ".local", "share", "jupyter", "kernels"),
        os.path.join(sys.prefix, "share", "jupyter", "kernels"),
    ]
    for folder in kernels:
        for spec in sorted(glob.glob(os.path.join(glob.escape(folder), "*", "kernel.json")))[:50]:
            try:
                with open(spec, encoding="utf-8") as handle:
                    argv = json.load(handle).get("argv") or []
            except (OSError, ValueError, AttributeError):
                continue
            if argv and isinstance(argv[0], str) and os.path.isabs(argv[0]):
                found.append(
                    (
                        os.path.dirname(os.path.dirname(argv[0])),
                        "Jupyter kernel %s" % os.path.basename(os.path.dirname(spec)),
                    )
                )
    return found


def elsewhere(name="torch", environ=None, cwd=None, home=None, limit=200):
    """Return the Elsewhere of each environment on this machine (_candidate_prefixes, at most `limit`) whose
    site-packages holds `name` (a package folder with __init__.py), other than this interpreter's own; nothing is
    run or imported (a few stat and glob calls per prefix)."""
    environ = os.environ if environ is None else environ
    home = home or os.path.expanduser("~")
    cwd = cwd or os.getcwd()
    mine = _real(sys.prefix)
    out, seen = [], set()
    for prefix, found_by in _candidate_prefixes(environ, cwd, home)[:limit]:
        real = _real(prefix)
        if real in seen or real == mine or not os.path.isdir(prefix):
            continue
        seen.add(real)
        pattern = os.path.join(glob.escape(prefix), "lib", "python3*", "site-packages", name, "__init__.py")
        hits = sorted(glob.glob(pattern)) or sorted(
            glob.glob(os.path.join(glob.escape(prefix), "Lib", "site-packages", name, "__init__.py"))
        )
        if not hits:
            continue
        site_dir = os.path.dirname(os.path.dirname(hits[0]))
        version, _ = _pip_version(site_dir, name)
        python = os.path.join(prefix, "bin", "python")
        out.append(
            Elsewhere(
                prefix=prefix,
                interpreter=python if os.path.exists(python) else prefix,
                version=version,
                found_by=found_by,
            )
        )
    return out
