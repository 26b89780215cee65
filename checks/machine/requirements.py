"""What torch, torchvision and torchaudio declare they need, against what is installed: pip metadata's
`Requires-Dist` (the CUDA component wheels included; PEP 508 requirements judged with `packaging`, the PyPA's own
implementation of PEP 440 and PEP 508), and conda records' `depends` (conda match specs, judged by
checks/workspace/versions.py, whose semantics the tests hold against py-rattler).

`packaging` is optional: without it pip requirements are listed but not judged, and the report says so.
"""

import dataclasses
import glob
import json
import os
import re
import sys
from typing import Dict, List, Optional, Tuple

from checks.machine import distributions
from checks.workspace import versions

PIP, CONDA = "pip metadata", "conda record"
DEPENDED = ("torch", "pytorch", "torchvision", "torchaudio")  # whose dependents' pins are judged (pip's, conda's)


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One declared requirement and what is installed for it.

    owner: the declaring package and version (`torchvision 0.15.2`); source: PIP or CONDA; name: the required
    package; spec: its version spec as declared (`==2.0.1`, `>=8.7,<9`; empty for any); installed: the installed
    version, None when the package is missing; met: True/False, None where it cannot be judged (no `packaging`);
    entry and behind, set only for an unmet pip requirement that a later `sys.path` entry meets: the entry of the
    copy Python imports, and `VERSION in ENTRY` of the later copy it hides.
    """

    owner: str
    source: str
    name: str
    spec: str
    installed: Optional[str]
    met: Optional[bool]
    entry: Optional[str] = None
    behind: Optional[str] = None

    def describe(self):
        """`torchvision 0.15.2 requires torch==2.0.1 (pip metadata); installed: 2.1.0`, or for a missing package
        `torch 2.0.1 requires nvidia-cudnn-cu11==8.5.0.96 (pip metadata); nvidia-cudnn-cu11 is not installed`."""
        return "%s requires %s%s (%s); %s" % (
            self.owner,
            self.name,
            self.spec if not self.spec or self.spec[0] in "<>=!~" else " " + self.spec,
            self.source,
            "installed: %s" % self.installed if self.installed else "%s is not installed" % self.name,
        ) + (" from %s, ahead of %s, which meets it" % (self.entry, self.behind) if self.entry else "")

    def fix(self):
        """The exact install command that meets it: pip for pip metadata, conda's syntax for a conda record. For a
        copy that hides one meeting it (`entry`), installing changes nothing: the fix takes that copy off the path."""
        owner = self.owner.split()[0]
        if self.entry:
            return hiding_fix(self.name, self.entry)
        pyg = PYG_LOCAL.search(self.owner)
        if pyg and self.installed:  # PyG's wheel index for the installed torch and its CUDA
            local = self.installed.partition("+")[2] or pyg.group(3)
            return "python -m pip install --force-reinstall %s -f https://data.pyg.org/whl/torch-%s+%s.html" % (
                owner,
                ".".join(self.installed.split("+")[0].split(".")[:2]) + ".0",
                local,
            )
        if self.installed and _canonical(self.name) in DEPENDED and _canonical(owner) not in DEPENDED:
            # another package's pin on torch: keep torch, let the solver pick that package's release for it; or move
            # torch (with its torchvision and torchaudio) to what the package declares
            tool = "python -m pip install" if self.source == PIP else "conda install"
            keep = '%s "%s" "%s%s%s" (the %s release made for this %s)' % (
                tool,
                owner,
                self.name,
                "==" if self.source == PIP else " ",
                self.installed,
                owner,
                self.name,
            )
            if not self.spec:
                return keep
            return '%s, or the %s %s declares: %s "%s%s%s"' % (
                keep,
                self.name,
                owner,
                tool,
                self.name,
                "" if self.source == PIP else " ",
                self.spec,
            )
        if self.source == PIP:
            return 'python -m pip install "%s%s"' % (self.name, self.spec)
        return 'conda install "%s%s"' % (self.name, " " + self.spec if self.spec else "")


@dataclasses.dataclass(frozen=True)
class Requirements:
    """Every requirement read; `unjudged` says why pip requirements were not judged (None when they were)."""

    items: Tuple[Requirement, ...]
    unjudged: Optional[str] = None
    # canonical name -> installed version of every package in torch's, torchvision's and torchaudio's dependency
    # closure (what they declare, what those declare, ...), as Python would import it
    closure: Dict[str, str] = dataclasses.field(default_factory=dict)
    # torch, torchvision, torchaudio -> the conda channel of their conda record (pkgs/main, conda-forge, pytorch)
    channels: Dict[str, str] = dataclasses.field(default_factory=dict)
    # unmet requirements on torch, torchvision or torchaudio that OTHER installed packages declare (xformers'
    # `torch==2.1.1`, a library built for one torch release): what `pip check` would report of them
    dependents: Tuple[Requirement, ...] = ()
    # {name: package folder} of torch, torchvision or torchaudio imported from a folder whose sys.path entry holds no
    # install record pip reads (NAME-VERSION.dist-info or .egg-info: PEP 376, pip's importlib.metadata backend): pip
    # counts it as not installed, so installing anything that requires it fetches another copy from the index
    unrecorded: Dict[str, str] = dataclasses.field(default_factory=dict)
    # canonical name -> [(version, sys.path entry)] of closure packages (numpy included) installed more than once on
    # the path, in path order: the first is the one Python imports (hiding_copy reads it)
    copies: Dict[str, list] = dataclasses.field(default_factory=dict)

    def prereleases(self):
        """[(name, version)] of the closure's packages installed at a pre-release (PEP 440: a, b, rc, dev)."""
        found = []
        for name, version in sorted(self.closure.items()):
            if re.search(r"\d(a|b|rc|\.dev)\d*(\W|$)", version.split("+")[0]):
                found.append((name, version))
        return found

    def unmet(self):
        """The requirements known to be unmet."""
        return [r for r in self.items if r.met is False]

    def to_dict(self):
        return dataclasses.asdict(self)


def _canonical(name):
    """PEP 503's normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


# The record of an install: pip's NAME-VERSION.dist-info (PEP 376), setuptools' and distutils' NAME-VERSION(-pyX.Y)
# .egg-info, a folder holding PKG-INFO or (an older distutils install, as Debian's python3-* packages still ship) the
# PKG-INFO file itself
INSTALL_RECORD = re.compile(r"^(?P<name>[A-Za-z0-9_.]+?)-(?P<version>[^-]+?)(?:-py\d[\d.]*)?\.(?P<kind>dist|egg)-info$")


def pip_installed(entries, every=None):
    """Return canonical name -> (version, metadata path) of every installed distribution in the `sys.path` entries
    `entries`: pip's dist-info (METADATA), and setuptools' or distutils' egg-info (PKG-INFO; a folder or the file
    itself), the first entry holding a name winning (as the import system would). `every`, a dict, receives
    canonical name -> [(version, entry)] of all copies, in path order."""
    found: Dict[str, Tuple[str, str]] = {}
    every = {} if every is None else every
    for entry in entries:
        if not isinstance(entry, str) or not os.path.isdir(entry or os.curdir):
            continue
        here = glob.escape(entry or os.curdir)
        for info in sorted(glob.glob(os.path.join(here, "*.dist-info"))):
            stem = os.path.basename(info)[: -len(".dist-info")]
            name, _, version = stem.rpartition("-")
            found.setdefault(_canonical(name), (version, os.path.join(info, "METADATA")))
            every.setdefault(_canonical(name), []).append((version, entry))
        for info in sorted(glob.glob(os.path.join(here, "*.egg-info"))):
            match = INSTALL_RECORD.match(os.path.basename(info))
            if match:
                metadata = os.path.join(info, "PKG-INFO") if os.path.isdir(info) else info
                found.setdefault(_canonical(match.group("name")), (match.group("version"), metadata))
                every.setdefault(_canonical(match.group("name")), []).append((match.group("version"), entry))
    return found


def hiding_fix(name, entry):
    """How to take the copy of `name` in the `sys.path` entry `entry` off the path: drop a PYTHONPATH entry, uninstall
    a user-site copy (pip uninstalls the copy Python finds first; PYTHONNOUSERSITE=1 ignores the user site, per
    Python's `site` docs), else remove it from that folder."""
    import site

    where = os.path.normpath(entry)
    pythonpath = [os.path.normpath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if where in pythonpath:
        return "drop %s from PYTHONPATH (its %s hides the one behind it)" % (entry, name)
    user = getattr(site, "getusersitepackages", lambda: "")()
    if user and where == os.path.normpath(user):
        return "python -m pip uninstall -y %s (the user-site copy in %s; or set PYTHONNOUSERSITE=1)" % (name, entry)
    return "remove %s from %s, which sys.path lists before the environment's copy" % (name, entry)


def hiding_copy(name, spec, every=None):
    """Return (entry, `VERSION in ENTRY`) when the copy of distribution `name` Python finds first on `sys.path` fails
    the PEP 440 `spec` (`<2`) and a later entry holds one that meets it, else None. `every`: pip_installed()'s
    copies (default: sys.path read now)."""
    try:
        from packaging.specifiers import SpecifierSet
        from packaging.version import InvalidVersion, Version
    except ImportError:
        return None
    if every is None:
        every = {}
        pip_installed(list(sys.path), every)
    copies = every.get(_canonical(name), [])
    try:
        wanted = SpecifierSet(spec)
        if not copies or wanted.contains(Version(copies[0][0]), prereleases=True):
            return None
    except (InvalidVersion, ValueError):
        return None
    for version, entry in copies[1:]:
        try:
            if wanted.contains(Version(version), prereleases=True):
                return copies[0][1], "%s in %s" % (version, entry)
        except InvalidVersion:
            continue
    return None


def _hidden(items, every):
    """Mark each unmet pip requirement whose package has a later copy on the path that meets it (Requirement.entry,
    .behind): the first copy hides it, so installing changes nothing."""
    out = []
    for item in items:
        found = hiding_copy(item.name, item.spec, every) if item.met is False and item.source == PIP else None
        out.append(dataclasses.replace(item, entry=found[0], behind=found[1]) if found else item)
    return out


def requires_dist(metadata_path):
    """Return the `Requires-Dist` values of a METADATA file (RFC 822 headers; the body after the blank line is the
    description and is not read)."""
    out = []
    try:
        with open(metadata_path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    break
                if line.startswith("Requires-Dist:"):
                    out.append(line.split(":", 1)[1].strip())
    except OSError:
        pass
    return out


def judge_pip(owner_name, owner_version, declared, installed):
    """Judge each PEP 508 string in `declared` whose marker holds here (extras not requested are skipped);
    returns (requirements, why not judged or None)."""
    try:
        from packaging.markers import UndefinedEnvironmentName
        from packaging.requirements import InvalidRequirement
        from packaging.requirements import Requirement as Parsed
        from packaging.version import InvalidVersion, Version
    except ImportError:
        return [], "packaging is not installed here: pip's Requires-Dist were not judged (pip install packaging)"
    out = []
    for text in declared:
        try:
            req = Parsed(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
        except (InvalidRequirement, UndefinedEnvironmentName):
            continue
        have = installed.get(_canonical(req.name))
        version = have[0] if have else None
        met = False
        if version is not None:
            try:
                met = req.specifier.contains(Version(version), prereleases=True)
            except InvalidVersion:
                met = None
        out.append(
            Requirement(
                owner="%s %s" % (owner_name, owner_version),
                source=PIP,
                name=req.name,
                spec=str(req.specifier),
                installed=version,
                met=met,
            )
        )
    return out, None


def unmet_closure(roots, path=None, limit=200):
    """The unmet pip requirements (Requirement, `met` False: another version installed, or not installed) of the
    installed distributions named `roots` (project names) and of what they require in turn, each distribution read
    once and at most `limit`, breadth first: `pip check` for the packages a project imports (numba 0.60's
    `Requires-Dist: numpy<2.1,>=1.22` beside numpy 2.1.3). Conflicts (a version installed) come before missing
    ones. [] where `packaging` is missing."""
    installed = pip_installed(list(sys.path if path is None else path))
    queue = [_canonical(r) for r in roots if _canonical(r) in installed]
    seen, conflicts, missing = set(queue), [], []
    while queue and len(seen) <= limit:
        name = queue.pop(0)
        version, metadata = installed[name]
        judged, why = judge_pip(name, version, requires_dist(metadata), installed)
        if why:
            return []
        for req in judged:
            key = _canonical(req.name)
            if req.met is False:
                (conflicts if req.installed else missing).append(req)
            if key in installed and key not in seen:
                seen.add(key)
                queue.append(key)
    return conflicts + missing


def conda_records(prefix):
    """Return name -> record (the JSON conda writes to `<prefix>/conda-meta/NAME-VERSION-BUILD.json`)."""
    records = {}
    for path in glob.glob(os.path.join(glob.escape(prefix), "conda-meta", "*.json")):
        try:
            with open(path, encoding="utf-8") as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and isinstance(record.get("name"), str):
            records[record["name"]] = record
    return records


def judge_conda(record, records):
    """Judge a conda record's `depends` (`name [version [build]]`) against the other records; virtual packages
    (`__glibc`, `__cuda`) are the host's and judged elsewhere."""
    out = []
    for depend in record.get("depends") or ():
        parts = str(depend).split()
        if not parts or parts[0].startswith("__"):
            continue
        name, spec = parts[0], parts[1] if len(parts) > 1 else ""
        have = records.get(name)
        version = str(have.get("version")) if have else None
        met = version is not None
        if met and spec:
            try:
                met = versions.matches(version, spec)
            except ValueError:
                met = None
        out.append(
            Requirement(
                owner="%s %s" % (record.get("name"), record.get("version")),
                source=CONDA,
                name=name,
                spec=spec,
                installed=version,
                met=met,
            )
        )
    return out


def collect(provenance, owners=("torch", "torchvision", "torchaudio"), path=None):
    """Return the Requirements of the imported copies of `owners` (checks/machine/provenance.py): pip metadata beside
    each copy, and the environment's conda records for conda-installed ones; installed versions are looked up on `path`
    (default sys.path)."""
    items: List[Requirement] = []
    unjudged = None
    closure: Dict[str, str] = {}
    channels: Dict[str, str] = {}
    entries = []
    for name in owners:
        copy = provenance.packages[name].imported if name in provenance.packages else None
        if copy is not None and copy.entry not in entries:
            entries.append(copy.entry)
    # What Python imports is the first copy on sys.path, whichever entry holds torch.
    every: Dict[str, list] = {}
    installed = pip_installed(list(sys.path if path is None else path) + entries, every)
    by_prefix: Dict[str, dict] = {}  # conda-meta read once per prefix

    def records_of(prefix):
        if prefix not in by_prefix:
            by_prefix[prefix] = conda_records(prefix)
        return by_prefix[prefix]

    for name in owners:
        copy = provenance.packages[name].imported if name in provenance.packages else None
        if copy is None:
            continue
        have = installed.get(_canonical(name))
        if copy.installer != "conda" and have:
            # torch's own requirements, then those of what it requires, and so on (each package once, 200 at most)
            queue, seen = [(name, have)], {_canonical(name)}
            while queue and len(seen) < 200:
                owner, (version, metadata) = queue.pop(0)
                judged, why = judge_pip(owner, version, requires_dist(metadata), installed)
                items += judged
                unjudged = unjudged or why
                for req in judged:
                    key = _canonical(req.name)
                    if req.installed is not None:
                        closure[key] = req.installed
                    if key not in seen and key in installed:
                        seen.add(key)
                        queue.append((req.name, installed[key]))
        elif copy.installer == "conda":
            records = records_of(provenance.environment)
            conda_name = {"torch": "pytorch"}.get(name, name)
            if conda_name in records:
                items += judge_conda(records[conda_name], records)
                channels[name] = channel_of(records[conda_name])
    # numpy is not declared by torch, yet torch's build is compiled against its C API: its version is a fact too
    if "numpy" in installed:
        closure.setdefault("numpy", installed["numpy"][0])
    # conda's records name each package's channel, however Python finds the package: the environment's prefix and
    # the active conda environment's (CONDA_PREFIX) when they differ
    for prefix in dict.fromkeys([provenance.environment, os.environ.get("CONDA_PREFIX") or provenance.environment]):
        found = records_of(prefix)
        for name in owners:
            conda_name = {"torch": "pytorch"}.get(name, name)
            if name not in channels and conda_name in found:
                channels[name] = channel_of(found[conda_name])
    unrecorded = {}
    for name in owners:
        copy = provenance.packages[name].imported if name in provenance.packages else None
        if copy is not None and not copy.empty and _canonical(name) not in installed:
            unrecorded[name] = copy.path
    dependents = tuple(unmet_dependents(installed, owners)) if unjudged is None else ()
    dependents += tuple(unmet_conda_dependents(records_of(provenance.environment), owners))
    return Requirements(
        items=tuple(_hidden(items, every)),
        unjudged=unjudged,
        closure=closure,
        channels=channels,
        dependents=dependents,
        unrecorded=unrecorded,
        copies={k: v for k, v in every.items() if len(v) > 1 and k in closure},
    )


# PyG's wheels name the torch they are built for in their local version (`2.1.2+pt23cu121`: torch 2.3, CUDA 12.1;
# the wheel indexes data.pyg.org/whl/torch-2.3.0+cu121.html); their metadata declares no torch.
PYG_LOCAL = re.compile(r"\+pt(\d)(\d+)(cu\d+|cpu)$")


def built_for_torch(name, version, torch_version):
    """Return the unmet Requirement of a package whose local version names the torch it was built for (PYG_LOCAL),
    when that is not the installed torch's major.minor (`torch_version`), else None."""
    found = PYG_LOCAL.search(version)
    if not found or not torch_version:
        return None
    wanted = "%s.%s" % (found.group(1), found.group(2))
    have = ".".join(torch_version.split("+")[0].split(".")[:2])
    if have == wanted:
        return None
    return Requirement(
        owner="%s %s" % (name, version),
        source=PIP,
        name="torch",
        spec="==%s.*" % wanted,
        installed=torch_version,
        met=False,
    )


def unmet_conda_dependents(records, owners=("torch", "torchvision", "torchaudio")):
    """Yield the unmet Requirements on `owners` (conda's names: pytorch, torchvision, torchaudio) that the other
    conda records of the environment declare in their `depends` (`pytorch 2.1.*`)."""
    wanted = {{"torch": "pytorch"}.get(o, o) for o in owners}
    for name, record in sorted(records.items()):
        if name in wanted:
            continue
        depends = [d for d in record.get("depends") or () if str(d).split()[:1] and str(d).split()[0] in wanted]
        if depends and records.keys() & wanted:
            for req in judge_conda(dict(record, depends=depends), records):
                if req.met is False and req.installed is not None:
                    yield req


def unmet_dependents(installed, owners=("torch", "torchvision", "torchaudio")):
    """Yield the unmet Requirements on `owners` that the other installed pip packages declare (their METADATA's
    Requires-Dist, judged by PEP 508 as pip does; `installed`: pip_installed()'s answer), and those a PyG wheel's
    local version states (built_for_torch)."""
    wanted = {_canonical(o) for o in owners}
    torch = installed.get("torch", (None, None))[0]
    for name, (version, metadata) in sorted(installed.items()):
        if name in wanted:
            continue
        built = built_for_torch(name, version, torch)
        if built is not None:
            yield built
            continue
        declared = [d for d in requires_dist(metadata) if distributions.required_project(d) in wanted]
        if declared:
            judged, _ = judge_pip(name, version, declared, installed)
            for req in judged:
                if req.met is False and req.installed is not None:
                    yield req


def channel_of(record):
    """The channel a conda record came from, as people name it: `pkgs/main` (Anaconda's defaults), `conda-forge`,
    `pytorch`; conda writes the channel's URL (with the subdir), pixi the URL alone."""
    parts = [p for p in str(record.get("channel") or record.get("url") or "").rstrip("/").split("/") if p]
    if parts and re.match(r"^(noarch|(linux|osx|win)-\w+)$", parts[-1]):
        parts.pop()
    if len(parts) >= 2 and parts[-2] == "pkgs":
        return "pkgs/" + parts[-1]
    return parts[-1] if parts else "unknown"


@dataclasses.dataclass(frozen=True)
class Gap:
    """A file an installed package's own record lists that is not on disk as recorded: missing (`found` None), or
    of another size than the record promises (a truncated or corrupt copy). Either is the one fact that makes
    reinstalling the fix.

    package, version: the installed package (canonical name); source: PIP or CONDA; path: the file; size: the
    bytes its record promises (None when it names none); found: the bytes on disk (None when the file is missing)."""

    package: str
    version: str
    source: str
    path: str
    size: Optional[int] = None
    found: Optional[int] = None

    @property
    def missing(self):
        return self.found is None

    def describe(self):
        """`/x/torch/lib/libtorch_cpu.so is 300 bytes where torch 2.0.1's RECORD promises 502000000`."""
        record = "RECORD" if self.source == PIP else "conda record"
        if self.missing:
            return "%s, which %s %s's %s lists, is missing" % (self.path, self.package, self.version, record)
        return "%s is %d bytes where %s %s's %s promises %d" % (
            self.path,
            self.found,
            self.package,
            self.version,
            record,
            self.size,
        )

    def fix(self):
        """The reinstall that restores exactly this package, past the download cache that may hold the same broken
        file (pip's `--no-cache-dir`; `conda clean --packages --tarballs` empties conda's package cache)."""
        if self.source == CONDA:
            return (
                'conda clean --packages --tarballs --yes && conda install --force-reinstall "%s==%s" (pixi: '
                "`pixi clean cache --conda`, then `pixi reinstall`)" % (self.package, self.version)
            )
        return 'python -m pip install --force-reinstall --no-deps --no-cache-dir "%s==%s"' % (
            self.package,
            self.version,
        )


def _size(text):
    try:
        return int(text)
    except ValueError:
        return None


def record_gaps(entry, names=None, packages=None, limit=50000):
    """Return the Gaps of the pip packages installed in the `sys.path` entry `entry`: files their RECORD lists
    (PEP 376/627: `path,hash,size` per line, relative to the entry) that do not exist, or whose size on disk (one
    stat each; nothing is hashed) differs from the RECORD's. `names`: only files with these base names; `packages`:
    only these projects (canonical names). At most `limit` lines are read per RECORD."""
    gaps = []
    wanted = set(names) if names else None
    for info in glob.glob(os.path.join(glob.escape(entry or os.curdir), "*.dist-info")):
        stem = os.path.basename(info)[: -len(".dist-info")]
        name, _, version = stem.rpartition("-")
        if packages is not None and _canonical(name) not in packages:
            continue
        for path, _, size in distributions.record_rows(info, limit):
            if wanted is not None and os.path.basename(path) not in wanted:
                continue
            full = os.path.normpath(os.path.join(entry, path))
            promised = _size(size)
            try:
                found = os.stat(full).st_size
            except OSError:
                found = None
            if found is None and os.path.lexists(full):
                continue  # a dangling link: not what the RECORD describes either way
            if found is None or (promised is not None and found != promised):
                gaps.append(
                    Gap(package=_canonical(name), version=version, source=PIP, path=full, size=promised, found=found)
                )
    return gaps


def conda_gaps(prefix, names, limit=200000):
    """Return the Gaps of the conda packages installed in `prefix` whose records list a file with one of the base
    names `names`: missing, or of another size than `paths_data` (conda's record of the package's info/paths.json:
    `_path`, `size_in_bytes`) promises. Files conda rewrites on install (a `file_mode`: the prefix placeholder
    replaced) and links are judged by existence only. At most `limit` paths are looked at in all."""
    gaps, seen = [], 0
    for record in conda_records(prefix).values():
        data = record.get("paths_data") if isinstance(record.get("paths_data"), dict) else {}
        entries = data.get("paths") if isinstance(data.get("paths"), list) else None
        if entries is None:
            entries = [{"_path": f} for f in record.get("files") or () if isinstance(f, str)]
        for item in entries:
            seen += 1
            if seen > limit:
                return gaps
            path = item.get("_path") if isinstance(item, dict) else None
            if not isinstance(path, str) or os.path.basename(path) not in names:
                continue
            full = os.path.normpath(os.path.join(prefix, path))
            promised = item.get("size_in_bytes")
            if (
                item.get("file_mode")
                or item.get("path_type") not in (None, "hardlink")
                or not isinstance(promised, int)
            ):
                promised = None
            try:
                found = os.stat(full).st_size
            except OSError:
                found = None
            if found is None or (promised is not None and found != promised):
                gaps.append(
                    Gap(
                        package=str(record.get("name")),
                        version=str(record.get("version")),
                        source=CONDA,
                        path=full,
                        size=promised,
                        found=found,
                    )
                )
    return gaps


@dataclasses.dataclass(frozen=True)
class Owner:
    """The installed package whose record lists a file: package, version, source (PIP or CONDA), and the size the
    record promises for it (None when it names none)."""

    package: str
    version: str
    source: str
    size: Optional[int] = None


def owner_of(path, depth=8, limit=200000):
    """Return the Owner of the file at `path`: the dist-info (in a directory above it, up to `depth` levels) whose
    RECORD lists it, else the conda record of a prefix above it (`conda-meta/`) that lists it; None when no record
    does. At most `limit` record lines are read in all."""
    full = os.path.normpath(os.path.abspath(path))
    here, read = os.path.dirname(full), 0
    for _ in range(depth):
        infos = glob.glob(os.path.join(glob.escape(here), "*.dist-info"))
        if infos:
            relative = os.path.relpath(full, here).replace(os.sep, "/")
            top = relative.split("/", 1)[0]
            # the dist-info of the project named like the top directory first (torch/ -> torch-2.0.1.dist-info)
            infos.sort(key=lambda i: not os.path.basename(i).lower().startswith(top.lower().replace("-", "_") + "-"))
            for info in infos:
                for path, _, size in distributions.record_rows(info, limit - read + 1):
                    read += 1
                    if read > limit:
                        return None
                    if os.path.normpath(path).replace(os.sep, "/") == relative:
                        name, _, version = os.path.basename(info)[: -len(".dist-info")].rpartition("-")
                        return Owner(package=_canonical(name), version=version, source=PIP, size=_size(size))
        if os.path.isdir(os.path.join(here, "conda-meta")):
            relative = os.path.relpath(full, here).replace(os.sep, "/")
            owner = _conda_owner(here, relative)
            if owner is not None:
                return owner
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    return None


def _conda_owner(prefix, relative):
    """The Owner of `relative` (a path inside `prefix`) among the prefix's conda records, or None."""
    for record in conda_records(prefix).values():
        data = record.get("paths_data") if isinstance(record.get("paths_data"), dict) else {}
        for item in data.get("paths") or ():
            if isinstance(item, dict) and item.get("_path") == relative:
                size = item.get("size_in_bytes")
                plain = not item.get("file_mode") and item.get("path_type") in (None, "hardlink")
                return Owner(
                    package=str(record.get("name")),
                    version=str(record.get("version")),
                    source=CONDA,
                    size=size if plain and isinstance(size, int) else None,
                )
        if relative in (record.get("files") or ()):
            return Owner(package=str(record.get("name")), version=str(record.get("version")), source=CONDA)
    return None


def providers(names, entries=(), prefixes=(), limit=200000):
    """Return {base name: [Owner]} for the files named `names` that an installed package's record lists: the pip
    RECORDs of the `sys.path` entries `entries`, and the conda records of `prefixes`. At most `limit` lines."""
    found: Dict[str, List[Owner]] = {}
    read = 0
    for entry in entries:
        for info in glob.glob(os.path.join(glob.escape(entry or os.curdir), "*.dist-info")):
            name, _, version = os.path.basename(info)[: -len(".dist-info")].rpartition("-")
            for path, _, _ in distributions.record_rows(info, limit - read + 1):
                read += 1
                if read > limit:
                    return found
                base = os.path.basename(path)
                if base in names:
                    found.setdefault(base, []).append(Owner(_canonical(name), version, PIP))
    for prefix in prefixes:
        for record in conda_records(prefix).values():
            for path in record.get("files") or ():
                if isinstance(path, str) and os.path.basename(path) in names:
                    found.setdefault(os.path.basename(path), []).append(
                        Owner(str(record.get("name")), str(record.get("version")), CONDA)
                    )
    return found
