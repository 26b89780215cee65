"""Rules on the limits a batch job or container sets on its processes: the memory cgroup's OOM killer.

A process killed by the kernel's OOM killer dies of SIGKILL, which it cannot catch, so it says nothing itself; what
the others see of it (the failure's class):
- torch's DataLoader: `DataLoader worker (pid N) is killed by signal: Killed.` (torch/csrc/DataLoader.cpp, the SIGCHLD
  handler's strsignal(SIGKILL)), or `DataLoader worker (pid(s) N) exited unexpectedly` (torch/utils/data/
  dataloader.py, _try_get_data, a worker found dead), 2.0.1 to 2.13;
- torchrun: `Signal 9 (SIGKILL) received by PID N` and `exitcode  : -9` (torch/distributed/elastic);
- Python's subprocess: `died with <Signals.SIGKILL: 9>`, a return code of -9; a shell: `Killed`, exit status 137
  (128 + 9).
The fact that decides it is the memory cgroup's own count of OOM kills (checks/machine/system.py, MemoryLimit: kernel
admin-guide/cgroup-v2.rst memory.events `oom_kill`, cgroup-v1/memory.rst memory.oom_control `oom_kill`).
"""

import re

from checks.diagnosis.model import Cause

KILLED = re.compile(
    r"killed by signal: Killed|DataLoader worker \(pid\(s\) [\d, ]+\) exited unexpectedly|\bSIGKILL\b|"
    r"Signals\.SIGKILL|\bexitcode\s*:\s*-9\b|exit (?:code|status):? (?:137|-9)\b|^Killed$",
    re.M,
)


def _size(nbytes):
    return "%.0f MiB" % (nbytes / float(1 << 20))


# The forms that say SIGKILL itself (KILLED less "exited unexpectedly", which a worker's bus error also gives)
SIGKILLED = re.compile(
    r"killed by signal: Killed|\bSIGKILL\b|Signals\.SIGKILL|\bexitcode\s*:\s*-9\b|exit (?:code|status):? (?:137|-9)\b|"
    r"^Killed$",
    re.M,
)


def by_killed(parts, facts):
    """Rule 4i: a SIGKILL no memory cgroup here counted (rule 4c did not decide, and no OS resource of rule 4 did):
    only the kernel (its OOM killer, when the host's memory runs out) or another process (a scheduler enforcing a
    limit, `kill -9`) sends it; the kernel log tells which."""
    if not SIGKILLED.search(parts.text) or set(parts.errno) & {"EBUS", "ENOSPC", "EMFILE"}:
        return None
    memory = getattr(facts.system, "memory", None)
    victim = "a DataLoader worker" if "DataLoader worker" in parts.text else "a process of the job"
    counted = (
        "its memory cgroup (limit %s) counted no OOM kill" % _size(memory.limit_bytes)
        if memory is not None and memory.limit_bytes
        else "no memory cgroup limit applies here"
    )
    return Cause(
        meaning="%s died of SIGKILL, which only the kernel's OOM killer (the machine ran out of memory) or another "
        "process (a scheduler's limit, `kill -9`) sends; %s, so the host's memory or a kill from outside ended it"
        % (victim, counted),
        fix="`dmesg | grep -i -e oom -e 'killed process'` (or `journalctl -k`) shows whether the OOM killer chose it: "
        "then use less memory (fewer DataLoader workers, each a process with its own copy of the dataset object and "
        "its prefetched batches; smaller batches) or a machine with more; otherwise find what sent the kill (the "
        "scheduler's time and memory limits)",
        fact="SIGKILL; %s" % counted,
    )


def by_memory_limit(parts, facts):
    """Rule 4c: a process of the job was killed (SIGKILL, KILLED's forms) and the memory cgroup this process runs
    under has a limit whose OOM killer counted kills (since this process first read the count, where it read it
    before: a kill earlier in the job is not this failure's): the job reached its memory limit. The fix asks for
    more memory (the scheduler's option where a SLURM job is the cgroup's owner: --mem, --mem-per-cpu; sbatch(1))
    or less use. Returns a Cause or None."""
    memory = getattr(facts.system, "memory", None)
    if memory is None or memory.new_oom_kills() <= 0 or not KILLED.search(parts.text):
        return None
    job = facts.job
    files = "memory.events" if memory.version == 2 else "memory.oom_control"
    limit = "memory.max" if memory.version == 2 else "memory.limit_in_bytes"
    peak = ", peak use %s" % _size(memory.peak_bytes) if memory.peak_bytes else ""
    victim = "a DataLoader worker" if "DataLoader worker" in parts.text else "the process that died"
    asked = job.memory_request() if job is not None else None
    owner = "%s asked for %s" % (job.describe(), asked) if asked else None
    meaning = (
        "the job reached its memory cgroup limit (%s%s) and the kernel's OOM killer killed one of its processes "
        "(%s: oom_kill %d): %s died of it%s"
        % (_size(memory.limit_bytes), peak, files, memory.oom_kills, victim, "; " + owner if owner else "")
    )
    if job is not None:
        more = "request more memory for the SLURM job (sbatch --mem=<MB per node>, or a larger --mem-per-cpu%s)" % (
            " than %dM" % job.mem_per_cpu_mb if job.mem_per_cpu_mb else ""
        )
    else:
        more = "raise the memory limit of the container or cgroup (`docker run --memory`, systemd MemoryMax=)"
    return Cause(
        meaning=meaning,
        fix="%s, or make the run use less memory: fewer DataLoader workers (num_workers; each worker is a process "
        "with its own copy of the dataset object and its prefetched batches), smaller batches" % more,
        fact="%s/%s %d, %s oom_kill %d" % (memory.cgroup, limit, memory.limit_bytes, files, memory.oom_kills),
    )
