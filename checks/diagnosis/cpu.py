"""A process killed by SIGILL (an illegal instruction) judged by the CPU's instruction-set level
(checks/machine/cpu.py). torch's own kernels are chosen at run time by the CPU's capability (ATen's DEFAULT, AVX2,
AVX512 dispatch), so an illegal instruction comes from code built for more than this CPU has: on a CPU below
x86-64-v3 (no AVX2: old or low-end processors, a virtual machine that hides the host's flags, Rosetta 2, which
translates no AVX), a library built for AVX2; on a CPU with AVX2, an instruction beyond it (AVX-512, or a package
compiled with -march=native on another machine)."""

import re

from checks.diagnosis.model import Cause
from checks.machine import cpu

SIGILL = re.compile(r"SIGILL|ILLEGAL_INSTRUCTION|Illegal instruction|illegal instruction", re.I)


def by_cpu(parts, facts):
    """Rule 4f: a SIGILL, judged by the CPU's x86-64 level; None off x86-64 or where the flags cannot be read."""
    if not SIGILL.search(parts.text):
        return None
    machine, level, missing = cpu.describe()
    if level is None:
        return None
    if level < 3:
        return Cause(
            meaning="this CPU is x86-64-v%d: it lacks %s, which code built for AVX2 (x86-64-v3) uses, and that code "
            "stopped on an illegal instruction" % (level, ", ".join(missing)),
            fix="run on a CPU with AVX2; in a virtual machine pass the host CPU's flags through (QEMU/libvirt "
            "`-cpu host`, or a CPU model with AVX2); under Rosetta 2 on a Mac, use an arm64 Python instead",
            fact="CPU flags: x86-64-v%d, no %s" % (level, ", ".join(missing)),
        )
    if level == 3:
        return Cause(
            meaning="this CPU has AVX2 (x86-64-v3) but not AVX-512 (%s): the illegal instruction comes from a library "
            "built for a newer CPU than this one (AVX-512, or compiled with -march=native elsewhere)"
            % ", ".join(missing),
            fix="find the library: `dmesg | grep -i 'invalid opcode'` (or `coredumpctl info`) names it; reinstall that "
            "package from a generic build (its wheel or conda package rather than a copy built on another machine)",
            fact="CPU flags: x86-64-v3, no %s" % ", ".join(missing),
        )
    return None
