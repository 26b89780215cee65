"""torch missing where pip cannot install it: the interpreter or platform has no torch wheel on PyPI at all, so
`pip install torch` ends in "Could not find a version that satisfies the requirement torch" / "No matching
distribution found for torch", and the environment is left without it. Facts: the interpreter's pointer size, the
OS, the machine and the C library (checks/machine/system.py's glibc; musl where there is none and musl's loader
is present), the Python version; rules: checks/compat.py's PYPI_TORCH_PLATFORMS and PYTHON_SUPPORT (PyPI's own
file lists)."""

import dataclasses
import glob
import platform
import struct
import sys

from checks import compat
from checks.diagnosis.model import Cause

DOMAIN = ("torch", "torchvision", "torchaudio")
NO_MATCH = ("No matching distribution found for torch", "satisfies the requirement torch")


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


def by_no_wheel(parts, facts):
    """Rule 1d: torch (torchvision, torchaudio) is missing, or pip found no distribution of it, and this interpreter
    or platform has no torch wheel on PyPI (problem())."""
    missing = (parts.missing_module or "").split(".")[0] in DOMAIN
    if not missing and not any(words in parts.text for words in NO_MATCH):
        return None
    found = problem(here(facts.system.glibc))
    if found is None:
        return None
    meaning, fix, fact = found
    return Cause(meaning=meaning, fix=fix, fact=fact)
