"""The CPU's instruction-set extensions, for judging a process killed by SIGILL: x86-64's micro-architecture levels
as the x86-64 psABI defines them ("Micro-architecture levels": x86-64-v2 adds CMPXCHG16B, LAHF-SAHF, POPCNT,
SSE3, SSE4.1, SSE4.2, SSSE3; v3 adds AVX, AVX2, BMI1, BMI2, F16C, FMA, LZCNT, MOVBE, XSAVE; v4 adds AVX512F,
AVX512BW, AVX512CD, AVX512DQ, AVX512VL), read from the `flags` line of /proc/cpuinfo (the kernel's names:
`cx16`, `lahf_lm`, `popcnt`, `pni` for SSE3, `sse4_1`, `abm` for LZCNT, ...). Linux only; elsewhere nothing is
known."""

import platform

# psABI level -> the /proc/cpuinfo flags it needs beyond the previous level
X86_64_LEVELS = (
    (2, ("cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3")),
    (3, ("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave")),
    (4, ("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl")),
)


def flags(path="/proc/cpuinfo", limit=1 << 20):
    """Return the first processor's flags (a frozenset of the kernel's names), or None where there is no such file."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(limit)
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86's `flags`, arm64's `Features`
            return frozenset(value.split())
    return frozenset()


def x86_64_level(found):
    """Return the highest x86-64 psABI level (1-4) whose flags are all in `found`, and the flags of the next level
    missing: (level, missing)."""
    level = 1
    for number, needed in X86_64_LEVELS:
        lacking = tuple(f for f in needed if f not in found)
        if lacking:
            return level, lacking
        level = number
    return level, ()


def describe(machine=None, path="/proc/cpuinfo"):
    """Return (machine, level, missing) of this CPU: level and missing as x86_64_level(), None for both where the
    machine is not x86-64 or its flags cannot be read."""
    machine = machine or platform.machine()
    found = flags(path) if machine.lower() in ("x86_64", "amd64") else None
    if not found:
        return machine, None, None
    level, missing = x86_64_level(found)
    return machine, level, missing
