"""Other load while a measurement runs: CPU time used by processes that are not this run, CPU time the hypervisor
stole, and other processes holding the GPU. bench marks every figure measured under it, because a shared machine
can halve a figure without anything else looking wrong (docs/bench.md has the measurement).

Sources, Linux only (elsewhere the CPU side is unknown and says so):
- /proc/stat, the per-CPU lines `cpuN user nice system idle iowait irq softirq steal guest guest_nice` in USER_HZ
  ticks (proc_stat(5)), summed over the CPUs this process may run on (sched_getaffinity), so a container pinned
  to a few CPUs of a large host is judged on its own CPUs;
- /proc/PID/stat, fields 4 (ppid) and 14-17 (utime stime cutime cstime, all threads; proc_pid_stat(5)) of this
  process and its descendants (compile workers, nvidia-smi, probes): their time is this run's, not contention;
- the GPU's processes from gpuinfo.Reader.processes() (NVML, else nvidia-smi). NVML gives host PIDs inside a
  container (NVIDIA/nvidia-docker#1483), so when this process holds a CUDA context and no listed PID is ours, one
  listed process is taken to be this one.

The thresholds are this project's own, not a standard: other processes using half a core (or 5 % of the CPUs on
a large machine) on average, or 5 % of CPU time stolen, is enough to move a 2-core machine's matmul figure.
"""

import os
import time
from collections import namedtuple

from checks.report import PASS, SKIP, WARN, Result

OTHERS_CORES_MIN = 0.5  # cores of other processes' CPU time, on average over a measurement
OTHERS_SHARE = 0.05  # ... or this share of the CPUs, whichever is larger
STEAL_SHARE = 0.05  # share of CPU time the hypervisor gave to other guests
SHORTEST = 0.2  # seconds; a shorter interval is too few ticks (USER_HZ is 100) to judge

# t: monotonic seconds; ticks: cpu_ticks(); own, pids: own_ticks(); gpu: Reader.processes(); cpus: the CPUs counted
Snapshot = namedtuple("Snapshot", "t ticks own pids gpu cpus")
_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _allowed():
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None  # macOS, Windows: no affinity, and no /proc either


def threshold(cpus):
    """Return the average cores of other processes' CPU time that count as contention on `cpus` CPUs."""
    return max(OTHERS_CORES_MIN, OTHERS_SHARE * cpus)


def cpu_ticks(root="/proc", allowed=None):
    """Return (busy, steal, total, CPUs counted) in ticks summed over the allowed CPUs (all when None) from
    root/stat, or None."""
    busy = steal = total = n = 0
    try:
        with open(os.path.join(root, "stat")) as f:
            lines = [line.split() for line in f if line.startswith("cpu") and line[3:4].isdigit()]
    except OSError:
        return None
    for fields in lines:
        if allowed is not None and int(fields[0][3:]) not in allowed:
            continue
        v = [int(x) for x in fields[1:9]] + [0] * (9 - len(fields))  # old kernels end before steal
        busy += v[0] + v[1] + v[2] + v[5] + v[6]  # guest time is already inside user
        steal += v[7]
        total += sum(v[:8])
        n += 1
    return (busy, steal, total, n) if n else None


def own_ticks(root="/proc", pid=None):
    """Return (CPU ticks of the process `pid` and its descendants, their PIDs), or (None, {pid}) without /proc."""
    pid = os.getpid() if pid is None else pid
    stats = {}
    try:
        names = [n for n in os.listdir(root) if n.isdigit()]
    except OSError:
        return None, {pid}
    for name in names:
        try:
            with open(os.path.join(root, name, "stat")) as f:
                fields = f.read().rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
            stats[int(name)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))
        except (OSError, IndexError, ValueError):
            continue  # it ended meanwhile, or the file is not the kernel's
    if pid not in stats:
        return None, {pid}
    children = {}
    for child, (parent, _) in stats.items():
        children.setdefault(parent, []).append(child)
    ours, todo = set(), [pid]
    while todo:
        p = todo.pop()
        ours.add(p)
        todo.extend(c for c in children.get(p, ()) if c not in ours)
    return sum(stats[p][1] for p in ours), ours


def snapshot(reader=None, root="/proc", pid=None, allowed=None, now=None):
    """Return the state to compare with a later snapshot(); `reader` (a gpuinfo.Reader) adds the GPU's processes.
    The GPU is asked first: its nvidia-smi child must end before the CPU counters are read together, or its time
    would be in the machine's busy time but not yet in ours.

    By default this process (`pid`), the CPUs it may run on (`allowed`, from sched_getaffinity) and time.monotonic()
    (`now`, seconds); a recorded /proc under `root` is read with the pid, CPUs and time it was recorded at."""
    gpu = reader.processes() if reader is not None else None
    allowed = _allowed() if allowed is None else sorted(allowed)
    own, pids = own_ticks(root, pid)
    ticks = cpu_ticks(root, allowed)
    cpus = tuple(allowed) if allowed else None
    return Snapshot(time.monotonic() if now is None else now, ticks, own, frozenset(pids), gpu, cpus)


def between(a, b, holds_context=False):
    """Return what other load was seen from snapshot a to snapshot b, as a dict: seconds, cpus, others_cores
    (average cores of CPU time used by other processes), steal (share of CPU time stolen), unknown (why those two
    are None), gpu_others [{pid, mib}] (None when unknown; pid None where PIDs are the host's), and contended (the
    reasons, empty when none)."""
    cpus = b.ticks[3] if b.ticks else len(b.cpus or ()) or os.cpu_count()
    seen = {"seconds": round(b.t - a.t, 2), "cpus": cpus, "others_cores": None, "steal": None, "unknown": None}
    seen.update(gpu_others=None, contended=[])
    if not (a.ticks and b.ticks and a.own is not None and b.own is not None):
        seen["unknown"] = "needs Linux /proc"
    elif a.cpus != b.cpus or a.ticks[3] != b.ticks[3]:
        seen["unknown"] = "the CPUs this process may use changed"
    else:
        busy, steal, total = (y - x for x, y in zip(a.ticks[:3], b.ticks[:3]))
        if total <= 0 or total / cpus < SHORTEST * _HZ:
            seen["unknown"] = "shorter than %g s" % SHORTEST
        else:
            seen["others_cores"] = round(max(0, busy - (b.own - a.own)) * cpus / total, 2)
            seen["steal"] = round(steal / total, 3)
            if seen["others_cores"] >= threshold(cpus):
                seen["contended"].append("other processes used %.1f of %d CPUs" % (seen["others_cores"], cpus))
            if seen["steal"] >= STEAL_SHARE:
                seen["contended"].append("the hypervisor stole %.0f%% of CPU time" % (seen["steal"] * 100))
    if a.gpu is not None or b.gpu is not None:
        listed = {p["pid"]: p for p in (a.gpu or []) + (b.gpu or [])}
        others = [p for pid, p in sorted(listed.items()) if pid not in a.pids | b.pids]
        if holds_context and others and len(others) == len(listed):  # no PID is ours: they are the host's
            others = [{"pid": None, "mib": None}] * (len(others) - 1)  # one of them is this process
        seen["gpu_others"] = others
        if others:
            named = ", ".join("pid %d%s" % (p["pid"], _mib(p)) for p in others if p["pid"] is not None)
            seen["contended"].append(
                "%d other process%s on the GPU (%s)"
                % (len(others), "es" if len(others) > 1 else "", named or "PIDs of the host, not named here")
            )
    return seen


def worst(seens):
    """Return the worst of several between() answers as one line: the most CPUs used by other processes, the
    largest share stolen, the most other processes on the GPU."""
    parts = []
    cores = [s["others_cores"] for s in seens if s["others_cores"] is not None]
    if cores:
        parts.append("other processes used up to %.1f of %d CPUs" % (max(cores), seens[0]["cpus"]))
    steal = [s["steal"] for s in seens if s["steal"]]
    if steal and max(steal) >= STEAL_SHARE:
        parts.append("up to %.0f%% of CPU time stolen" % (max(steal) * 100))
    gpu = [len(s["gpu_others"]) for s in seens if s["gpu_others"]]
    if gpu:
        parts.append("up to %d other processes on the GPU" % max(gpu))
    return "; ".join(parts)


def _mib(p):
    return " %d MiB" % p["mib"] if p.get("mib") is not None else ""


def since(start, reader=None, holds_context=False, at_least=0.5):
    """Return between(start, now), waiting first until `at_least` seconds have passed since `start`."""
    time.sleep(max(0.0, at_least - (time.monotonic() - start.t)))
    return between(start, snapshot(reader), holds_context)


def describe(seen):
    """Return one line for a report header: the other load seen, or that none was, or why it is unknown."""
    if seen["others_cores"] is None:
        cpu = "CPU load of other processes unknown (%s)" % seen["unknown"]
    else:
        cpu = "other processes used %.1f of %d CPUs, %.0f%% stolen" % (
            seen["others_cores"],
            seen["cpus"],
            (seen["steal"] or 0) * 100,
        )
    if seen["gpu_others"] is None:
        return cpu
    n = len(seen["gpu_others"])
    return cpu + "; GPU: %s" % ("%d other process%s" % (n, "es" if n > 1 else "") if n else "no other process")


def mark(result, seen, fix=True):
    """Attach `seen` to a measured result (data["contention"]); under contention add it to the summary and, with
    `fix` (a LOW figure, whose cause it can be), put it first in the fix. A SKIP is left alone."""
    if result.status == SKIP:
        return result
    result.data["contention"] = seen
    if seen["contended"]:
        why = "; ".join(seen["contended"])
        result.summary += " [under contention: %s]" % why
        if result.hint and fix:
            result.hint = "measured under contention (%s): rerun on an idle machine; %s" % (why, result.hint)
    return result


class Watch:
    """Measurements run back to back, each between two snapshots (one measurement's closing snapshot opens the
    next: half the nvidia-smi calls where there is no NVML). `take()` returns a snapshot (by default snapshot(reader)
    of this process); `holds_context()` says whether this process holds a CUDA context. `load` is {figure name:
    between()} of every measured (not SKIP) result, for verdict()."""

    def __init__(self, reader=None, holds_context=lambda: False, take=None):
        self.take = take or (lambda: snapshot(reader))
        self.holds_context = holds_context
        self.last = None
        self.load = {}

    def around(self, func, fix=True):
        """Return a function that runs func() between two snapshots and returns its result marked (see mark)."""

        def run():
            before = self.last or self.take()
            try:
                result = func()
            finally:  # a measurement that raised must not stretch the next one's interval
                self.last = self.take()
            seen = between(before, self.last, self.holds_context())
            if result.status != SKIP:
                self.load[result.name] = seen
            return mark(result, seen, fix)

        return run

    def verdict(self):
        """Return the `contention` result over every measurement so far (see verdict())."""
        return verdict(self.load)


def verdict(measured):
    """Return the `contention` result for {figure name: between()}: WARN naming every figure measured while other
    processes used the CPUs or the GPU, else PASS with the most other load seen."""
    hit = {name: seen["contended"] for name, seen in measured.items() if seen["contended"]}
    hit_seen = [measured[name] for name in hit]
    if not measured:
        return Result(name="contention", status=SKIP, summary="nothing was measured")
    if not hit:
        known = [s["others_cores"] for s in measured.values() if s["others_cores"] is not None]
        text = "no other load during the %d measurements" % len(measured)
        if known:
            text += " (other processes used at most %.1f CPUs)" % max(known)
        else:
            text += "; CPU load of other processes unknown (%s)" % next(iter(measured.values()))["unknown"]
        return Result(name="contention", status=PASS, summary=text)
    return Result(
        name="contention",
        status=WARN,
        summary="%d of %d figures measured under contention: %s" % (len(hit), len(measured), ", ".join(hit)),
        expected="no other load",
        actual=worst(hit_seen),
        hint="rerun on an idle machine: `top` and `nvidia-smi` name the other processes; CPU time stolen means the "
        "virtual machine's host is oversubscribed (ask for dedicated cores)",
        data={"figures": hit},
    )
