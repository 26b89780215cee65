"""Installed distributions as their `.dist-info` describes them, read only for the packages a failure names: who
installed a module (RECORD, top_level.txt), its version and declared requirements (METADATA's Name, Version,
Requires-Dist), the interpreters its wheel was built for (WHEEL's Tag lines), and where it lies on `sys.path`.

Sources: the packaging spec "Recording installed projects" (packaging.python.org/en/latest/specifications/
recording-installed-packages: a `NAME-VERSION.dist-info` beside the files, with METADATA, RECORD and WHEEL),
"Core metadata specifications" (METADATA: RFC 822 headers, the description after the first blank line), "Binary
distribution format" (WHEEL: `Tag: {python}-{abi}-{platform}`, one line per tag) and "Platform compatibility tags"
(PEP 425: `cp311-cp311-manylinux_2_28_x86_64`). An extension module is found only under a file name ending in one
of importlib.machinery.EXTENSION_SUFFIXES (the import system's FileFinder, docs.python.org/3/library/
importlib.html#importlib.machinery.EXTENSION_SUFFIXES).

Reads are bounded: the METADATA header only (64 KiB at most), RECORD's first 20,000 lines, one directory listing
per level looked at. The standard library suffices; `packaging` (optional) judges requirements and the full tag
list where installed.
"""

import dataclasses
import glob
import importlib.machinery
import json
import os
import platform
import re
import sys
import sysconfig
from typing import Optional, Tuple

from checks.machine import provenance

METADATA_LIMIT = 64 * 1024
RECORD_LIMIT = 20000
# How far up from a module's file a .dist-info may lie: `site-packages/pkg/sub/mod.py` is two levels down.
DEPTH = 8
# An extension module's file: NAME.<tag>.so / NAME.<tag>.pyd (or NAME.so / NAME.pyd); the tag names its interpreter.
EXTENSION_FILE = re.compile(r"^(?P<stem>[^.]+)(?:\.(?P<tag>[\w.-]+?))?\.(?P<ext>so|pyd|dylib)$")
# CPython's tag in an extension's name: `cpython-35m-x86_64-linux-gnu` (POSIX), `cp35-win_amd64` (Windows).
PYTHON_IN_TAG = re.compile(r"^(?:cpython-|cp)(\d)(\d+)")


REQUIRED_NAME = re.compile(r"\s*([A-Za-z0-9][\w.-]*)")  # PEP 508: a requirement starts with its project's name


def required_project(text):
    """The canonical project name a Requires-Dist value (PEP 508 string) requires, or None when it names none."""
    found = REQUIRED_NAME.match(text)
    return canonical(found.group(1)) if found else None


def canonical(name):
    """PEP 503's normalised project name (`MarkupSafe` -> `markupsafe`, `typing_extensions` -> `typing-extensions`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclasses.dataclass(frozen=True)
class Distribution:
    """One installed distribution.

    name and version: METADATA's Name and Version (the directory's name where METADATA lacks them); info: the
    `.dist-info` directory; entry: the `sys.path` entry holding it; origin: provenance's ENVIRONMENT, USER_SITE,
    PYTHONPATH, CURRENT_DIRECTORY or OTHER; requires: the Requires-Dist values as written; tags: WHEEL's Tag values
    (empty when it has no WHEEL: a conda or egg install); top_level: the import names it installs; installer:
    INSTALLER's first line (pip, uv, conda) or None; requires_python: METADATA's Requires-Python (core metadata 1.2,
    PEP 345), empty when not declared.
    """

    name: str
    version: str
    info: str
    entry: str
    origin: str
    requires: Tuple[str, ...] = ()
    tags: Tuple[str, ...] = ()
    top_level: Tuple[str, ...] = ()
    installer: Optional[str] = None
    requires_python: str = ""

    def describe(self):
        """`jinja2 2.11.3 from /x/site-packages (PYTHONPATH)`."""
        return "%s %s from %s (%s)" % (self.name, self.version, self.entry, self.origin)

    def requirement_on(self, name):
        """Return this distribution's Requires-Dist value on project `name` (any extra's excluded), or None."""
        want = canonical(name)
        for text in self.requires:
            if required_project(text) == want and not re.search(r";.*\bextra\s*==", text):
                return text
        return None


FRAMEWORK_EXTRAS = ("pytorch", "torch")  # the extras a project names for its PyTorch part
EXTRA_MARKER = re.compile(r"""\bextra\s*==\s*['"]([^'"]+)['"]""")


def framework_extra_unmet(dist, installed):
    """(extra, [Requires-Dist texts]) when `dist` declares an extra for PyTorch (FRAMEWORK_EXTRAS) that requires a
    companion distribution of its own project (a name starting with its own: transformer_engine[pytorch] requires
    transformer_engine_torch) and that companion is not in `installed` (canonical names): `pip install NAME` without
    the extra leaves the PyTorch part out (NVIDIA/TransformerEngine#1379). Requirements of other projects in the
    extra (transformers[torch]'s accelerate) are not judged: the package runs without them. None otherwise."""
    own = canonical(dist.name)
    for extra in FRAMEWORK_EXTRAS:
        texts = [t for t in dist.requires if (EXTRA_MARKER.search(t.partition(";")[2]) or [None, None])[1] == extra]
        missing = [
            t
            for t in texts
            if (required_project(t) or "").startswith(own + "-") and required_project(t) not in installed
        ]
        if missing:
            return extra, missing
    return None


def _headers(path):
    """METADATA's (or WHEEL's) headers as [(name, value)], up to the first blank line and METADATA_LIMIT bytes."""
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(METADATA_LIMIT)
    except OSError:
        return out
    for line in text.splitlines():
        if not line.strip():
            break
        if line[:1] in " \t" and out:  # RFC 822 continuation line
            out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
        elif ":" in line:
            key, _, value = line.partition(":")
            out.append((key.strip(), value.strip()))
    return out


def record_rows(info, limit=RECORD_LIMIT):
    """Yield (path, hash, size) for each row of the `.dist-info` folder `info`'s RECORD (PEP 376 and the wheel spec:
    CSV rows `path,hash,size`; path relative to the folder holding the .dist-info, given here with `/`; hash
    `sha256=<urlsafe base64, no padding>` or empty; size in bytes as text or empty), at most `limit` lines read;
    nothing where it cannot be read."""
    try:
        with open(os.path.join(info, "RECORD"), encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle):
                if number >= limit:
                    return
                line = line.rstrip("\r\n")
                fields = line.rsplit(",", 2) if line.count(",") >= 2 else [line.strip(), "", ""]
                if fields[0]:
                    yield fields[0].replace("\\", "/"), fields[1], fields[2]
    except OSError:
        return


STATED_FILES = 400  # a distribution's Python files read for a release of another project its text states
STATED_BYTES = 256 << 10


def stated_floor(dist, project, installed, first=None, files=STATED_FILES):
    """Where `dist`'s own code states a lowest release of `project` newer than `installed`: (release, `path:line`)
    of the highest such release, read from text like "update torchaudio to >=2.1.0" (speechbrain 1.0's
    utils/torch_audio_backend.py), "requires accelerate>=0.26.0", "transformers version 4.36 or higher" (PEP 440
    comparison with packaging); `first`: a file of it to read before the others (the caller's failing module). Its
    RECORD's `.py` files are read, at most `files` of STATED_BYTES each; None when none states a newer one, or
    without `packaging` (optional: nothing is judged then)."""
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:
        return None

    name = re.escape(project).replace(r"\-", "[-_]").replace("_", "[-_]")
    pattern = re.compile(
        r"\b%s\b[^\n\"'`]{0,24}?(?:>=|≥|\bto\s+>=?|at least|\bv?(?=\d+\.\d+[^\n]{0,12}or (?:higher|newer|later)))"
        r"\s*v?(\d+\.\d+(?:\.\d+)?)" % name,
        re.I,
    )
    try:
        have = Version(installed)
    except InvalidVersion:
        return None
    root = os.path.dirname(dist.info)
    paths = [first] if first else []
    paths += [os.path.join(root, p) for p, _, _ in record_rows(dist.info) if p.endswith(".py")][:files]
    best = None
    for path in dict.fromkeys(paths):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read(STATED_BYTES)
        except OSError:
            continue
        for match in pattern.finditer(text):
            try:
                release = Version(match.group(1))
            except InvalidVersion:
                continue
            if release > have and (best is None or release > best[0]):
                where = "%s:%d" % (os.path.relpath(path, root), text.count("\n", 0, match.start()) + 1)
                best = (release, where)
    return (str(best[0]), best[1]) if best else None


def metadata_headers(dist):
    """[(key, value)] of a Distribution's METADATA headers (RFC 822; the description is not read)."""
    return _headers(os.path.join(dist.info, "METADATA"))


def about(dist):
    """What a Distribution says it is: its METADATA's Summary, Home-page and Project-URL values, in file order."""
    headers = _headers(os.path.join(dist.info, "METADATA"))
    return [v for k, v in headers if k.lower() in ("summary", "home-page", "project-url")]


def _direct_url(dist):
    """PEP 610's direct_url.json of the installed Distribution `dist` (pip writes it for an install from a VCS URL,
    a folder or an archive) as (url, the whole record), or None for an install from an index."""
    try:
        with open(os.path.join(dist.info, "direct_url.json"), encoding="utf-8") as handle:
            origin = json.load(handle)
        return str(origin["url"]), origin
    except (OSError, ValueError, KeyError, TypeError):
        return None


def install_source(dist):
    """(kind, url) of where the installed Distribution `dist` came from, by PEP 610's direct_url.json: "vcs" (a
    repository), "folder" (a local directory: `pip install .`), "archive" (a wheel or sdist file or URL), or
    ("index", "") when there is no record."""
    found = _direct_url(dist)
    if found is None:
        return "index", ""
    url, origin = found
    if isinstance(origin.get("vcs_info"), dict):
        return "vcs", url
    if "dir_info" in origin:
        return "folder", url
    return "archive", url


def upgrade_command(dist):
    """The command that upgrades the installed Distribution `dist` from where it came: PEP 610's direct_url.json
    (written by pip for an install from a URL or a folder) names a VCS checkout (`pip install -U "git+URL"`), a
    local folder (update its source, then `pip install -U FOLDER`) or an archive; otherwise the index
    (`python -m pip install -U NAME`). Returned as text with the command in backquotes."""
    found = _direct_url(dist)
    if found is None:
        return "`python -m pip install -U %s`" % dist.name
    url, origin = found
    vcs = origin.get("vcs_info") if isinstance(origin.get("vcs_info"), dict) else None
    if vcs is not None:
        return '`python -m pip install -U "%s+%s"` (it was installed from that repository; its newest source)' % (
            vcs.get("vcs", "git"),
            url,
        )
    if url.startswith("file://") and "dir_info" in origin:
        folder = url[len("file://") :]
        return (
            "update its source in %s (it was installed from that folder, not from an index: `git -C %s pull` for a "
            "clone) and reinstall it: `python -m pip install -U %s`; or install its newest source from its "
            "repository" % (folder, folder, folder)
        )
    return "install a newer release than the archive it was installed from (%s), from its index or repository" % url


def top_level_names(info, name):
    """The import names a .dist-info installs: top_level.txt (setuptools writes it), else the first component of
    each RECORD path (`jinja2/__init__.py` -> jinja2, `six.py` -> six), else the project name as a module name."""
    try:
        with open(os.path.join(info, "top_level.txt"), encoding="utf-8", errors="replace") as handle:
            lines = handle.read(METADATA_LIMIT).splitlines()
        # a namespace package's wheel may write `nvidia/cuda_runtime` (nvidia-cuda-runtime-cu11): its top is `nvidia`
        names = [n.strip().replace("\\", "/").split("/")[0] for n in lines]
        names = [n for n in names if n.isidentifier()]
        if names:
            return tuple(dict.fromkeys(names))
    except OSError:
        pass
    names = []
    for path, _, _ in record_rows(info):
        first = path.split("/")[0]
        if not first or first.startswith("..") or first.endswith((".dist-info", ".data", ".pth")):
            continue
        if first == "__pycache__" or (first == path and not first.endswith((".py", ".so", ".pyd"))):
            continue
        stem = first.split(".")[0] if first == path else first
        if stem.isidentifier() and stem not in names:
            names.append(stem)
    return tuple(names) or (canonical(name).replace("-", "_"),)


def read(info, environment=None, environ=None):
    """Return the Distribution of the `.dist-info` directory `info` (its METADATA, WHEEL, INSTALLER, top_level.txt
    or RECORD), or None when it is not one."""
    if not info.endswith(".dist-info") or not os.path.isdir(info):
        return None
    stem = os.path.basename(info)[: -len(".dist-info")]
    dir_name, _, dir_version = stem.rpartition("-")
    headers = _headers(os.path.join(info, "METADATA"))
    name = next((v for k, v in headers if k.lower() == "name"), None) or dir_name
    version = next((v for k, v in headers if k.lower() == "version"), None) or dir_version
    tags = tuple(v for k, v in _headers(os.path.join(info, "WHEEL")) if k.lower() == "tag")
    try:
        with open(os.path.join(info, "INSTALLER"), encoding="utf-8", errors="replace") as handle:
            installer = handle.readline().strip() or None
    except OSError:
        installer = None
    entry = os.path.dirname(info)
    environment = environment or provenance.environment_prefix(environ)[0]
    return Distribution(
        name=name,
        version=version,
        info=info,
        entry=entry,
        origin=provenance.origin_of(entry, environment, environ),
        requires=tuple(v for k, v in headers if k.lower() == "requires-dist"),
        tags=tags,
        top_level=top_level_names(info, name),
        installer=installer,
        requires_python=next((v for k, v in headers if k.lower() == "requires-python"), ""),
    )


def in_entry(entry, top, environment=None, environ=None):
    """Return the Distribution in the `sys.path` entry `entry` that installs the top-level module `top`, or None:
    the one whose project name is `top`'s if it installs `top`, else the first whose top_level.txt or RECORD names
    it (at most 2,000 .dist-info directories are looked at)."""
    infos = sorted(glob.glob(os.path.join(glob.escape(entry or os.curdir), "*.dist-info")))[:2000]
    named = [
        i for i in infos if canonical(os.path.basename(i)[: -len(".dist-info")].rpartition("-")[0]) == canonical(top)
    ]
    for info in named + [i for i in infos if i not in named]:
        if top in top_level_names(info, os.path.basename(info)[: -len(".dist-info")].rpartition("-")[0]):
            return read(info, environment, environ)
    return None


def claims(path, environment=None, environ=None):
    """Return [(Distribution, True/False/None)] of every distribution in the `sys.path` entry above the file `path`
    whose RECORD lists it, with whether the file's sha256 is the one that RECORD wrote (None: no hash to compare).
    Two claims mean two distributions installed into one package folder (a fork that installs as `transformers`):
    the one whose hash matches wrote the file last. At most 2,000 .dist-info directories and RECORD_LIMIT lines of
    each are read; [] when `path` is in no entry."""
    import base64
    import hashlib

    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    for _ in range(DEPTH):
        infos = sorted(glob.glob(os.path.join(glob.escape(folder), "*.dist-info")))[:2000]
        if infos:
            break
        folder = os.path.dirname(folder)
    else:
        return []
    relative = os.path.relpath(path, folder).replace(os.sep, "/")
    digest = None
    found = []
    for info in infos:
        for path_field, hash_field, _ in record_rows(info):
            if path_field != relative:
                continue
            dist = read(info, environment, environ)
            if dist is None:
                break
            same = None
            if hash_field.startswith("sha256="):
                if digest is None:
                    try:
                        with open(path, "rb") as handle:
                            raw = hashlib.sha256(handle.read()).digest()
                        digest = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
                    except OSError:
                        digest = ""
                same = hash_field[len("sha256=") :] == digest
            found.append((dist, same))
            break
    return found


def owner(path, environment=None, environ=None):
    """Return the Distribution that installed the file or package directory `path` (a frame's file, a module's
    `__init__.py`, an extension), looking for a `.dist-info` in each directory above it (DEPTH levels), or None
    (a source checkout, the standard library, a loose file)."""
    path = os.path.abspath(path)
    child, folder = path, os.path.dirname(path)
    for _ in range(DEPTH):
        top = os.path.basename(child)
        top = top.split(".")[0] if os.path.isfile(child) or not os.path.exists(child) else top
        if top.isidentifier():
            found = in_entry(folder, top, environment, environ)
            if found is not None:
                return found
        if os.path.dirname(folder) == folder:
            break
        child, folder = folder, os.path.dirname(folder)
    return None


def find(top, path=None, environment=None, environ=None):
    """Return the Distribution of the top-level module `top` as `import top` would find it (the first `sys.path`
    entry holding it, found without importing), or None."""
    try:
        spec = importlib.machinery.PathFinder.find_spec(top, path)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return None
    where = spec.origin if spec.origin not in (None, "namespace") else None
    if where is None and spec.submodule_search_locations:
        where = list(spec.submodule_search_locations)[0]
    return owner(where, environment, environ) if where else None


def later_copies(dist, top, path=None, environment=None, environ=None):
    """The Distributions installing the top-level module `top` in the `sys.path` entries after `dist.entry` (the
    copies `import top` does not reach while `dist` comes first), in path order; [] when dist's entry is not on the
    path."""
    entries = [e for e in (sys.path if path is None else path) if isinstance(e, str)]
    here = [
        i
        for i, e in enumerate(entries)
        if os.path.normpath(os.path.abspath(e or os.curdir))
        == os.path.normpath(os.path.abspath(dist.entry or os.curdir))
    ]
    found = []
    for entry in entries[here[0] + 1 :] if here else ():
        other = in_entry(entry, top, environment, environ)
        if other is not None and other.info != dist.info:
            found.append(other)
    return found


def interpreter_tag():
    """This interpreter's (python, abi, platform) tag of PEP 425: ("cp311", "cp311", "linux_x86_64"); the abi
    carries sys.abiflags (`t` free-threaded, `d` debug); the platform is sysconfig.get_platform()'s, with `-` and
    `.` replaced by `_`."""
    short = {"cpython": "cp", "pypy": "pp"}.get(sys.implementation.name, sys.implementation.name[:2])
    python = "%s%d%d" % (short, sys.version_info[0], sys.version_info[1])
    abi = python + (getattr(sys, "abiflags", "") or "") if short == "cp" else "none"
    return python, abi, re.sub(r"[-.]", "_", sysconfig.get_platform())


def supported(tag):
    """True when the wheel tag `tag` (`cp35-cp35m-linux_x86_64`, dotted sets allowed) can be installed on this
    interpreter: packaging.tags.sys_tags() where `packaging` is installed, else PEP 425's rules for CPython (the
    python tag's version, the abi `abi3`/`none`/this one, the platform `any`, this one, or a manylinux/musllinux/
    macosx tag of this machine's architecture)."""
    try:
        from packaging import tags as ptags

        wanted = set(ptags.parse_tag(tag))
        return any(t in wanted for t in ptags.sys_tags())
    except ImportError:
        pass
    except ValueError:
        return False
    python, abi, plat = interpreter_tag()
    parts = tag.split("-")
    if len(parts) != 3:
        return False
    major, minor = sys.version_info[0], sys.version_info[1]
    arch = platform.machine().lower().replace("amd64", "x86_64").replace("arm64", "aarch64")

    def python_ok(p):
        found = re.match(r"^(cp|py|pp)(\d)(\d*)$", p)
        if not found or int(found.group(2)) != major:
            return False
        if found.group(1) != "py" and found.group(1) != python[:2]:
            return False
        wanted_minor = int(found.group(3)) if found.group(3) else None
        return wanted_minor is None or wanted_minor == minor or (found.group(1) == "py" and wanted_minor <= minor)

    def abi_ok(a, p):
        if a in ("none", abi):
            return True
        found = re.match(r"^cp(\d)(\d+)$", p)
        return a == "abi3" and found is not None and python.startswith("cp") and int(found.group(2)) <= minor

    def platform_ok(p):
        if p in ("any", plat):
            return True
        if sys.platform.startswith("linux") and re.match(r"^(many|musl)linux", p):
            return p.endswith("_" + arch)
        if sys.platform == "darwin" and p.startswith("macosx_"):
            return p.endswith(("_" + platform.machine(), "_universal2"))
        return False

    for p in parts[0].split("."):
        for a in parts[1].split("."):
            if python_ok(p) and abi_ok(a, p) and any(platform_ok(x) for x in parts[2].split(".")):
                return True
    return False


def built_for(tag):
    """The Python an extension file's tag names (`cpython-35m-x86_64-linux-gnu` -> "3.5"), or None."""
    found = PYTHON_IN_TAG.match(tag or "")
    return "%s.%s" % (found.group(1), found.group(2)) if found else None


@dataclasses.dataclass(frozen=True)
class Extension:
    """A compiled extension module as the import system sees it, for a module it did not find.

    module: the dotted name (`torch._C`); directory: its package's directory; files: the extension files there with
    the module's name (`_C.cpython-35m-x86_64-linux-gnu.so`); loadable: those whose name ends in one of `suffixes`
    (importlib.machinery.EXTENSION_SUFFIXES, e.g. `.cpython-311-x86_64-linux-gnu.so`, `.abi3.so`, `.so`), the only
    ones Python loads; distribution: who installed the package (None for a source checkout); listed: the files of
    the module its RECORD lists (to tell a partial install from a wheel for another Python)."""

    module: str
    directory: str
    files: Tuple[str, ...]
    loadable: Tuple[str, ...]
    suffixes: Tuple[str, ...]
    distribution: Optional[Distribution]
    listed: Tuple[str, ...] = ()

    @property
    def foreign_tags(self):
        """The distribution's WHEEL tags this interpreter cannot install (all of them for a wheel built for another
        Python), or ()."""
        tags = self.distribution.tags if self.distribution else ()
        foreign = tuple(t for t in tags if not supported(t))
        return foreign if len(foreign) == len(tags) else ()


def extension(module, path=None, environment=None, environ=None):
    """Return the Extension facts of the dotted `module` (`torch._C`, `numpy.core._multiarray_umath`) as found
    through its top-level package on `path` (default sys.path), or None when the package is not there or `module`
    is top-level."""
    top, _, rest = module.partition(".")
    if not rest:
        return None
    try:
        spec = importlib.machinery.PathFinder.find_spec(top, path)
    except (ImportError, ValueError):
        spec = None
    locations = list(getattr(spec, "submodule_search_locations", None) or [])
    if not locations:
        return None
    *middle, last = rest.split(".")
    directory = os.path.join(locations[0], *middle)
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return None
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    files = tuple(n for n in names if EXTENSION_FILE.match(n) and EXTENSION_FILE.match(n).group("stem") == last)
    loadable = tuple(n for n in files if any(n == last + s for s in suffixes))
    dist = owner(os.path.join(locations[0], "__init__.py"), environment, environ)
    listed = []
    if dist is not None:
        relative = "/".join([top] + middle) + "/"
        for file, _, _ in record_rows(dist.info, RECORD_LIMIT * 5):  # torch's RECORD holds some 20,000 files
            base = file[len(relative) :] if file.startswith(relative) else None
            shape = EXTENSION_FILE.match(base) if base and "/" not in base else None
            if shape and shape.group("stem") == last:
                listed.append(file)
    return Extension(
        module=module,
        directory=directory,
        files=files,
        loadable=loadable,
        suffixes=suffixes,
        distribution=dist,
        listed=tuple(listed),
    )


@dataclasses.dataclass(frozen=True)
class Pair:
    """Two installed distributions whose APIs do not meet: `importer` imports `name` from the module `module`, which
    `provider` installed and which does not define it. declared: the importer's Requires-Dist on the provider (None
    when it declares none); met: whether the provider's version meets it (None: not declared, or not judged without
    `packaging`)."""

    importer: Distribution
    provider: Distribution
    module: str
    name: str
    declared: Optional[str]
    met: Optional[bool]


def pair(importer_file, module, name, module_file=None, path=None, environment=None, environ=None):
    """Return the Pair for a failure in which the file `importer_file` imports `name` from `module` (found at
    `module_file`, or through `path`), or None when either has no distribution or both are the same one."""
    provider = owner(module_file, environment, environ) if module_file else None
    if provider is None:
        provider = find(module.split(".")[0], path, environment, environ)
    importer = owner(importer_file, environment, environ)
    if provider is None or importer is None or canonical(provider.name) == canonical(importer.name):
        return None
    declared = importer.requirement_on(provider.name)
    met = None
    if declared is not None:
        from checks.machine import requirements

        judged, _ = requirements.judge_pip(
            importer.name, importer.version, [declared], {canonical(provider.name): (provider.version, None)}
        )
        met = judged[0].met if judged else None
        declared = "%s%s" % (judged[0].name, judged[0].spec) if judged else declared  # PEP 508 as pip takes it
    return Pair(importer=importer, provider=provider, module=module, name=name, declared=declared, met=met)
