"""How this Python interpreter was built, as far as a missing standard-library module is concerned: which optional
extension modules of CPython's standard library it has (files in its lib-dynload directory, or built in), and
where it comes from (pyenv, conda, the OS, a source build), read from sys and sysconfig alone.

CPython builds each optional extension module only when the system library it wraps had its headers at build time;
otherwise `make` ends with "The necessary bits to build these optional modules were not found: _lzma ..." (setup.py
of CPython 3.8-3.11; `configure`'s "checking for stdlib extension module _lzma... missing" from 3.12) and the
interpreter installs without that module. Nothing at run time can add it: the interpreter must be built again once
the headers are installed (CPython devguide, "Install dependencies" for each OS's build-dependency packages).
"""

import dataclasses
import os
import re
import sys
from typing import Optional, Tuple

# CPython's optional standard-library extension modules: module -> (the system library it needs, Debian/Ubuntu
# header package, Fedora/RHEL header package). Sources: CPython setup.py's detect_modules() (3.8-3.11) and
# configure.ac's PY_STDLIB_MOD checks (3.12+) for which library each module needs; the devguide's build
# dependencies ("apt-get install ... libbz2-dev libffi-dev libgdbm-dev libgdbm-compat-dev liblzma-dev
# libncurses5-dev libreadline6-dev libsqlite3-dev libssl-dev lzma lzma-dev tk-dev uuid-dev zlib1g-dev", "dnf
# install ... bzip2-devel libffi-devel gdbm-devel ncurses-devel openssl-devel readline-devel sqlite-devel tk-devel
# libuuid-devel xz-devel zlib-devel") for the packages.
OPTIONAL_EXTENSIONS = {
    "_lzma": ("liblzma (xz)", "liblzma-dev", "xz-devel"),
    "_bz2": ("libbz2 (bzip2)", "libbz2-dev", "bzip2-devel"),
    "_ctypes": ("libffi", "libffi-dev", "libffi-devel"),
    "_sqlite3": ("SQLite", "libsqlite3-dev", "sqlite-devel"),
    "_ssl": ("OpenSSL", "libssl-dev", "openssl-devel"),
    "_hashlib": ("OpenSSL", "libssl-dev", "openssl-devel"),
    "_uuid": ("libuuid", "uuid-dev", "libuuid-devel"),
    "readline": ("GNU readline", "libreadline-dev", "readline-devel"),
    "_tkinter": ("Tcl/Tk", "tk-dev", "tk-devel"),
    "_dbm": ("ndbm (gdbm's compatibility library)", "libgdbm-compat-dev", "gdbm-devel"),
    "_gdbm": ("GNU dbm", "libgdbm-dev", "gdbm-devel"),
    "zlib": ("zlib", "zlib1g-dev", "zlib-devel"),
    "_curses": ("ncurses", "libncurses-dev", "ncurses-devel"),
    "_curses_panel": ("ncurses", "libncurses-dev", "ncurses-devel"),
}


@dataclasses.dataclass(frozen=True)
class InterpreterBuild:
    """This interpreter's build, for judging a missing standard-library module.

    version: `3.11.7`; base_prefix: where the interpreter is installed (a venv's base, not the venv); origin:
    "pyenv" (under a pyenv versions/ directory), "conda" (the base prefix has conda-meta/), "system" (/usr or
    /usr/local of the OS's package), or "source" (any other prefix: a `./configure && make install` build);
    dynload: the lib-dynload directory its extension modules load from (None when none is on sys.path); missing:
    the OPTIONAL_EXTENSIONS modules it has neither as a file in `dynload` nor built in; config_args: sysconfig's
    CONFIG_ARGS (the configure options it was built with; "" when unknown); externally_managed: the path of the
    EXTERNALLY-MANAGED marker in its stdlib directory when it applies (PEP 668: outside a virtual environment pip
    refuses to install into such a Python, its user site included, without --break-system-packages), else None."""

    version: str = ""
    base_prefix: str = ""
    origin: str = "unknown"
    dynload: Optional[str] = None
    missing: Tuple[str, ...] = ()
    config_args: str = ""
    externally_managed: Optional[str] = None

    def to_dict(self):
        """The JSON form (report.schema.json: facts.interpreter)."""
        return dataclasses.asdict(self)

    def rebuild_command(self):
        """The command that builds this interpreter again (pyenv), or None where no single command does."""
        return "pyenv install --force %s" % self.version if self.origin == "pyenv" else None


def _origin(base_prefix):
    if os.path.isdir(os.path.join(base_prefix, "conda-meta")):
        return "conda"
    parts = os.path.normpath(base_prefix).split(os.sep)
    if ".pyenv" in parts or (os.environ.get("PYENV_ROOT") and base_prefix.startswith(os.environ["PYENV_ROOT"])):
        return "pyenv"
    if os.path.normpath(base_prefix) in ("/usr", "/usr/local"):
        return "system"
    return "source"


def collect(path=None, builtin=None):
    """Collect the InterpreterBuild of the running interpreter: one listdir of its lib-dynload directory (the
    sys.path entry ending in lib-dynload; `path` replaces sys.path, `builtin` sys.builtin_module_names, for tests)."""
    import sysconfig

    entries = sys.path if path is None else path
    builtin = set(sys.builtin_module_names if builtin is None else builtin)
    dynload = next((e for e in entries if isinstance(e, str) and os.path.basename(e) == "lib-dynload"), None)
    try:
        present = {n.split(".")[0] for n in os.listdir(dynload)} if dynload else None
    except OSError:
        present = None
    missing = ()
    if present is not None:
        missing = tuple(m for m in OPTIONAL_EXTENSIONS if m not in present and m not in builtin)
    base = getattr(sys, "base_prefix", sys.prefix)
    return InterpreterBuild(
        version="%d.%d.%d" % sys.version_info[:3],
        base_prefix=base,
        origin=_origin(base),
        dynload=dynload,
        missing=missing,
        config_args=str(sysconfig.get_config_var("CONFIG_ARGS") or ""),
        externally_managed=externally_managed(),
    )


def externally_managed(stdlib=None, virtual=None):
    """The EXTERNALLY-MANAGED file that makes pip refuse to install into this Python (PEP 668: in
    sysconfig.get_path("stdlib"), honoured only outside a virtual environment, sys.prefix == sys.base_prefix), or
    None. Debian 12, Ubuntu 23.04 and Fedora 38 ship their system Python with it."""
    import sysconfig

    virtual = sys.prefix != getattr(sys, "base_prefix", sys.prefix) if virtual is None else virtual
    if virtual:
        return None
    marker = os.path.join(stdlib or sysconfig.get_path("stdlib") or "", "EXTERNALLY-MANAGED")
    return marker if os.path.isfile(marker) else None


def pip_blocked_note(hint, marker):
    """`hint` with what makes its `pip install` work on an externally managed Python (`marker`: its EXTERNALLY-MANAGED
    file, PEP 668): pip would refuse it with "error: externally-managed-environment", so the install goes into a
    virtual environment. `hint` unchanged when it installs nothing with pip or marker is None."""
    if not marker or not hint or "pip install" not in hint or "venv" in hint:
        return hint
    return (
        "%s -- this Python is externally managed (%s, PEP 668): pip refuses to install into it, so run that in a "
        "virtual environment: `python3 -m venv --system-site-packages ~/.venvs/torch && . ~/.venvs/torch/bin/activate`"
        % (hint, marker)
    )


# An installation scheme's site-packages names its Python: lib/pythonX.Y/site-packages (sysconfig's posix_prefix and
# venv schemes, "purelib"); a venv made by another Python keeps its packages under that Python's X.Y.
OTHER_SITE = re.compile(r"^python(\d+)\.(\d+)t?$")


@dataclasses.dataclass(frozen=True)
class PythonSites:
    """The prefix this interpreter runs in, as PEP 405 and sysconfig lay it out: `prefix` (sys.prefix); `config`, the
    prefix's pyvenv.cfg (None: not a virtual environment); from it `home` (the base interpreter's folder) and
    `created_with` (`version`, as venv writes it, or `version_info`, as virtualenv and uv write it; "" where
    neither is); `running`, this interpreter's X.Y.Z; and `other_sites`, the (X.Y, folder) of each
    lib/pythonX.Y/site-packages in the prefix for another X.Y than this one's, which this interpreter never searches
    (its own site-packages is lib/pythonX.Y of its own version: site.getsitepackages())."""

    prefix: str = ""
    config: Optional[str] = None
    home: str = ""
    created_with: str = ""
    running: str = ""
    other_sites: Tuple[Tuple[str, str], ...] = ()

    def to_dict(self):
        """The JSON form (report.schema.json: facts.python_sites)."""
        return {**dataclasses.asdict(self), "other_sites": [list(s) for s in self.other_sites]}

    def created_minor(self):
        """`3.10` of created_with, or None."""
        found = re.match(r"\s*(\d+)\.(\d+)", self.created_with)
        return "%s.%s" % found.groups() if found else None


def read_pyvenv_cfg(path):
    """Return {key: value} of a pyvenv.cfg (`key = value` lines; PEP 405), {} where it cannot be read (64 KiB at
    most)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(1 << 16)
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def python_sites(prefix=None, version=None):
    """Collect the PythonSites of `prefix` (default sys.prefix) for a Python `version` ((major, minor, micro),
    default this one's): one read of pyvenv.cfg and one listdir of lib/."""
    prefix = sys.prefix if prefix is None else prefix
    version = tuple(sys.version_info[:3]) if version is None else tuple(version)
    config = os.path.join(prefix, "pyvenv.cfg")
    values = read_pyvenv_cfg(config) if os.path.isfile(config) else {}
    others = []
    try:
        names = sorted(os.listdir(os.path.join(prefix, "lib")))
    except OSError:
        names = []
    for name in names:
        found = OTHER_SITE.match(name)
        site = os.path.join(prefix, "lib", name, "site-packages")
        if found and (int(found.group(1)), int(found.group(2))) != version[:2] and os.path.isdir(site):
            others.append(("%s.%s" % found.groups(), site))
    return PythonSites(
        prefix=prefix,
        config=config if os.path.isfile(config) else None,
        home=values.get("home", ""),
        created_with=values.get("version") or values.get("version_info") or "",
        running="%d.%d.%d" % version[:3],
        other_sites=tuple(others),
    )
