"""torch missing where pip cannot install it: the interpreter or platform has no torch wheel on PyPI at all, so
`pip install torch` ends in "Could not find a version that satisfies the requirement torch" / "No matching
distribution found for torch", and the environment is left without it. Facts: the interpreter's pointer size, the
OS, the machine and the C library (checks/machine/system.py's glibc; musl where there is none and musl's loader
is present), the Python version; rules: checks/compat.py's PYPI_TORCH_PLATFORMS and PYTHON_SUPPORT (PyPI's own
file lists)."""

import dataclasses
import glob
import platform
import re
import struct
import sys

from checks import compat
from checks.diagnosis.model import Cause
from checks.machine import distributions

DOMAIN = ("torch", "torchvision", "torchaudio")
NO_MATCH = ("No matching distribution found for torch", "satisfies the requirement torch")
# musl's dynamic linker (ldso/dynlink.c: "Error loading shared library %s: %m (needed by %s)") meeting a library a
# glibc build needs; and glibc's own loader and C library, which only a glibc system has
MUSL_LOADER = re.compile(r"Error loading shared library \S+: .{0,80}\(needed by ")
GLIBC_ONLY = re.compile(r"^(ld-linux[\w-]*\.so\.\d|libc\.so\.6)$")
# pip's refusal of a wheel file given by name or URL (pip/_internal/resolution/resolvelib/factory.py)
UNSUPPORTED_WHEEL = re.compile(r"(\S+?)-([^-\s]+)-([^-\s]+)-([^-\s]+)\.whl is not a supported wheel on this platform")


@dataclasses.dataclass(frozen=True)
class Platform:
    """This interpreter's wheel platform: system (`sys.platform`), machine (`platform.machine()`), bits (pointer
    size in bits), libc (`glibc`, `musl` or None elsewhere / unknown), python (`3.11.7`)."""

    system: str
    machine: str
    bits: int
    libc: str
    python: str


def here(glibc):
    """The Platform of this interpreter; `glibc` is the host's glibc version (None off glibc)."""
    libc = "glibc" if glibc else ("musl" if glob.glob("/lib/ld-musl-*.so.1") else None)
    return Platform(
        system=sys.platform,
        machine=platform.machine(),
        bits=struct.calcsize("P") * 8,
        libc=libc if sys.platform.startswith("linux") else None,
        python=platform.python_version(),
    )


def problem(where):
    """Return (meaning, fix, fact) when PyPI has no torch wheel this interpreter can install, else None."""
    if where.bits != 64:
        return (
            "this Python is %d-bit and PyTorch publishes 64-bit wheels only, so pip finds no torch for it" % where.bits,
            "install a 64-bit Python (x86-64 / amd64 or arm64) and create the environment with it",
            "%d-bit Python" % where.bits,
        )
    if where.libc == "musl":
        return (
            "this is a musl libc system (Alpine): PyPI has no torch wheel for musl (manylinux wheels need glibc)",
            "use a glibc-based image (python:3.x-slim or another Debian/Ubuntu base) or conda-forge's pytorch",
            "musl libc",
        )
    published = compat.pypi_torch_platform(where.system, where.machine)
    if published is None:
        return (
            "PyPI has no torch wheel for %s %s" % (where.system, where.machine),
            "build torch from source, or use a distribution that builds it for %s" % where.machine,
            "%s %s" % (where.system, where.machine),
        )
    newest = compat.PYTHON_SUPPORT[compat.NEWEST_TORCH][1]
    if compat.version_key(where.python)[:2] > compat.version_key(newest)[:2]:
        return (
            "no torch release has wheels for Python %s yet: the newest, torch %d.%d, supports Python up to %s"
            % ((where.python,) + compat.NEWEST_TORCH + (newest,)),
            "create the environment with Python %s or older" % newest,
            "Python %s" % where.python,
        )
    if published[1] is not None:
        return (
            "PyPI's newest torch for %s %s is %s: a newer one has no wheel here"
            % (where.system, where.machine, published[1]),
            'pip install "torch==%s" (with the torchvision and torchaudio paired with it); on Apple silicon, use an '
            "arm64 Python rather than an x86_64 one under Rosetta" % published[1],
            "%s %s" % (where.system, where.machine),
        )
    return None


# pip's resolver naming the requirement it could not satisfy (pip/_internal/resolution/resolvelib/factory.py:
# "Could not find a version that satisfies the requirement torch==1.13.1 (from versions: 2.5.0, ...)")
ASKED = re.compile(r"(?:satisfies the requirement|No matching distribution found for) torch\s*([=<>!~][^\s(;]*)")


def pinned_release(text, python):
    """Return (meaning, fix, fact) when pip was asked for a torch release (ASKED) none of whose known releases has a
    wheel for Python `python` (compat.releases_for_python, from PyPI's cpXY tags); None otherwise."""
    found = ASKED.search(text)
    if found is None:
        return None
    spec = found.group(1)
    known, supported = compat.releases_for_python(python, spec)
    if not known or supported:
        return None
    low, high = compat.python_support(known[-1])
    minor = ".".join(python.split(".")[:2])
    first = next(
        (
            "%d.%d" % key
            for key, (oldest, newest) in sorted(compat.PYTHON_SUPPORT.items())
            if compat.version_key(oldest)[:2] <= compat.version_key(minor)[:2] <= compat.version_key(newest)[:2]
        ),
        None,
    )
    return (
        "torch%s has no wheel for Python %s: torch %s supports Python %s to %s, so pip finds no release to install"
        % (spec, minor, known[-1], low, high),
        'create the environment with Python %s (e.g. `uv venv --python %s`, or `python = "%s.*"` in a pixi manifest)%s'
        % (
            high,
            high,
            high,
            ", or ask for a torch release with wheels for Python %s (%s or newer)" % (minor, first) if first else "",
        ),
        "Python %s; torch%s: Python %s-%s" % (python, spec, low, high),
    )


def refused_wheel(text):
    """Return (meaning, fix, fact) when pip refused a wheel file (UNSUPPORTED_WHEEL) whose PEP 425 tags this
    interpreter cannot install (checks/machine/distributions.py supported()), naming the tag that does not fit;
    None otherwise."""
    found = UNSUPPORTED_WHEEL.search(text)
    if found is None:
        return None
    name = found.group(0).split(" is not ")[0].rsplit("/", 1)[-1]
    python, abi, plat = found.group(2), found.group(3), found.group(4)
    ours = distributions.interpreter_tag()
    if distributions.supported("%s-%s-%s" % (python, abi, plat)):
        return None
    if not distributions.supported("%s-%s-%s" % (python, abi, ours[2])):
        wrong = "it is for Python %s (%s), this is Python %s (%s)" % (
            _python_of(python),
            python,
            _python_of(ours[0]),
            ours[0],
        )
        fix = "take the %s wheel of the same release (the file with %s-%s in its name), or run it with Python %s" % (
            ours[0],
            ours[0],
            ours[1],
            _python_of(python),
        )
    else:
        wrong = "it is for the platform %s, this machine is %s" % (plat, ours[2])
        fix = "take the wheel built for %s (or let pip choose: pip install with the release's index URL)" % ours[2]
    return (
        "pip refused the wheel %s: %s" % (name, wrong),
        fix,
        "wheel tags %s-%s-%s; this interpreter %s-%s-%s" % ((python, abi, plat) + tuple(ours)),
    )


def _python_of(tag):
    found = re.match(r"^[a-z]+(\d)(\d+)$", tag.split(".")[0])
    return "%s.%s" % found.groups() if found else tag


def by_no_wheel(parts, facts):
    """Rule 1d: pip refused a wheel file whose tags this interpreter cannot install (refused_wheel); a glibc build's
    library the loader cannot find where the C library is not glibc (musl's loader message, or glibc's loader or
    libc.so.6 missing, while os.confstr names no glibc); or torch
    (torchvision, torchaudio) is missing, or pip found no distribution of it, and this interpreter or platform has
    no torch wheel on PyPI (problem())."""
    refused = refused_wheel(parts.text)
    if refused is not None:
        return Cause(meaning=refused[0], fix=refused[1], fact=refused[2])
    glibc_binary = MUSL_LOADER.search(parts.text) or any(GLIBC_ONLY.match(n) for n in parts.cannot_open)
    if glibc_binary and sys.platform.startswith("linux") and facts.system.glibc is None:
        how = "musl's loader message" if MUSL_LOADER.search(parts.text) else "no glibc here"
        return Cause(
            meaning="this system's C library is not glibc (%s: Alpine and other musl systems): PyTorch's Linux "
            "builds (PyPI's manylinux wheels, conda's packages) are made for glibc and cannot load here" % how,
            fix="use a glibc-based image or OS (python:3.x-slim or another Debian/Ubuntu base), or build torch "
            "from source against musl",
            fact="no glibc (os.confstr CS_GNU_LIBC_VERSION unset); %s" % how,
        )
    missing = (parts.missing_module or "").split(".")[0] in DOMAIN
    if not missing and not any(words in parts.text for words in NO_MATCH):
        return None
    where = here(facts.system.glibc)
    pinned = pinned_release(parts.text, where.python)
    if pinned is not None:
        return Cause(meaning=pinned[0], fix=pinned[1], fact=pinned[2])
    found = problem(where)
    if found is None:
        return None
    meaning, fix, fact = found
    return Cause(meaning=meaning, fix=fix, fact=fact)
