"""Other load during a measurement: /proc/stat and /proc/PID/stat as the kernel writes them (proc_stat(5),
proc_pid_stat(5); the shapes below follow a real /proc of this project's Linux machines), the GPU's processes,
and how a figure is marked."""

import math
import os
import shlex
import subprocess
import sys
import time

import pytest

from checks import contention
from checks.report import PASS, SKIP, WARN, Result

HZ = contention._HZ
linux = pytest.mark.skipif(not os.path.isfile("/proc/stat"), reason="needs Linux /proc")


def proc_stat(cpus):
    """/proc/stat: the aggregate `cpu` line, then one `cpuN` line per CPU (ten tick counters), then the rest."""
    total = [sum(column) for column in zip(*cpus)]
    lines = ["cpu  " + " ".join(map(str, total))] + [
        "cpu%d %s" % (i, " ".join(map(str, c))) for i, c in enumerate(cpus)
    ]
    return "\n".join(lines) + "\nintr 7035891 0 0 0\nctxt 123\nbtime 1764489660\nprocesses 4500\n"


def pid_stat(pid, comm, ppid, utime, stime, cutime=0, cstime=0):
    """/proc/PID/stat: `pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
    stime cutime cstime priority nice num_threads ...` (fields 1-52)."""
    head = "%d (%s) S %d %d 2229 0 -1 4194304 100 0 0 0" % (pid, comm, ppid, ppid)
    tail = "20 0 1 0 1336155 3133440 360 18446744073709551615" + " 0" * 31
    return "%s %d %d %d %d %s\n" % (head, utime, stime, cutime, cstime, tail)


def fake_proc(root, cpus, processes):
    root.mkdir(exist_ok=True)
    (root / "stat").write_text(proc_stat(cpus))
    for p in processes:
        (root / str(p[0])).mkdir(exist_ok=True)
        (root / str(p[0]) / "stat").write_text(pid_stat(*p))
    (root / "self").mkdir(exist_ok=True)  # not a PID: skipped
    return str(root)


def test_cpu_ticks_sums_only_the_cpus_this_process_may_use(tmp_path):
    """busy = user+nice+system+irq+softirq; steal apart; total of the first eight counters; guest is inside user."""
    cpus = [(100, 1, 10, 800, 5, 0, 2, 3, 0, 0), (50, 0, 5, 900, 1, 0, 1, 0, 0, 0), (999, 0, 0, 1, 0, 0, 0, 0, 0, 0)]
    root = fake_proc(tmp_path / "proc", cpus, [])
    assert contention.cpu_ticks(root, allowed=[0, 1]) == (113 + 56, 3, 921 + 957, 2)
    assert contention.cpu_ticks(root)[3] == 3
    assert contention.cpu_ticks(str(tmp_path / "missing")) is None


def test_cpu_ticks_reads_kernels_without_a_steal_column(tmp_path):
    """Kernels before 2.6.11 write seven counters: steal is 0."""
    (tmp_path / "stat").write_text("cpu  10 0 5 100 0 0 0\ncpu0 10 0 5 100 0 0 0\n")
    assert contention.cpu_ticks(str(tmp_path)) == (15, 0, 115, 1)


def test_own_ticks_counts_this_process_and_its_descendants_only(tmp_path):
    """Children and grandchildren (compile workers, nvidia-smi) are ours, with the time of reaped children
    (cutime, cstime); an unrelated process and its child are not; a command name may hold `) (`."""
    processes = [
        (100, "python (bench) x", 1, 40, 10, 7, 3),
        (101, "cc1plus", 100, 20, 5),
        (102, "as", 101, 2, 1),
        (200, "stress", 1, 900, 0),
        (201, "stress", 200, 900, 0),
    ]
    root = fake_proc(tmp_path / "proc", [(0,) * 10], processes)
    assert contention.own_ticks(root, pid=100) == (40 + 10 + 7 + 3 + 25 + 3, {100, 101, 102})
    assert contention.own_ticks(root, pid=999) == (None, {999})


def snap(t, busy, steal, cpus=2, own=0, pids=(1,), gpu=None, idle=None):
    """A Snapshot `t` seconds in: `busy` and `steal` ticks so far over `cpus` CPUs, the rest idle."""
    total = int(t * HZ * cpus)
    return contention.Snapshot(t, (busy, steal, total, cpus), own, frozenset(pids), gpu, tuple(range(cpus)))


@pytest.mark.parametrize(
    "others, steal, contended",
    [
        (1.0, 0.0, ["other processes used 1.0 of 2 CPUs"]),
        (0.3, 0.0, []),
        (0.0, 0.1, ["the hypervisor stole 10% of CPU time"]),
    ],
)
def test_between_names_other_processes_and_steal(others, steal, contended):
    """Over 2 s on 2 CPUs this run used 1.5 CPUs; what is left of the busy time is other processes'."""
    ours = int(1.5 * 2 * HZ)
    a = snap(0, 0, 0)
    b = snap(2, ours + int(others * 2 * HZ), int(steal * 4 * HZ), own=ours)
    seen = contention.between(a, b)
    assert (seen["others_cores"], seen["steal"], seen["contended"]) == (others, steal, contended)


def test_between_says_why_the_cpu_side_is_unknown():
    """Too short an interval (under 0.2 s: a few ticks) or no /proc: unknown, never contention."""
    short = contention.between(snap(0, 0, 0), snap(0.1, 40, 0))
    assert short["others_cores"] is None and short["unknown"] == "shorter than 0.2 s" and not short["contended"]
    none = contention.Snapshot(0, None, None, frozenset([1]), None, None)
    elsewhere = contention.between(none, none._replace(t=5))
    assert elsewhere["unknown"] == "needs Linux /proc"
    assert contention.describe(elsewhere) == "CPU load of other processes unknown (needs Linux /proc)"
    moved = contention.between(snap(0, 0, 0), snap(2, 8 * HZ, 0, cpus=4))  # taskset, or a CPU taken offline
    assert moved["unknown"] == "the CPUs this process may use changed" and not moved["contended"]


def test_between_names_the_other_processes_on_the_gpu():
    """Processes listed at either end that are not this run's; ours (pid 5) is not contention."""
    a = snap(0, 0, 0, pids=(5,), gpu=[{"pid": 5, "mib": 900}])
    b = snap(1, 0, 0, pids=(5,), gpu=[{"pid": 5, "mib": 1200}, {"pid": 77, "mib": 2048}])
    seen = contention.between(a, b, holds_context=True)
    assert seen["gpu_others"] == [{"pid": 77, "mib": 2048}]
    assert seen["contended"] == ["1 other process on the GPU (pid 77 2048 MiB)"]
    assert contention.describe(seen).endswith("; GPU: 1 other process")


def test_host_pids_in_a_container_count_this_process_once():
    """NVML lists host PIDs inside a container (nvidia-docker#1483): with a context held and no PID of ours
    listed, one listed process is this one."""
    alone = contention.between(snap(0, 0, 0), snap(1, 0, 0, gpu=[{"pid": 90001, "mib": 1024}]), holds_context=True)
    assert alone["gpu_others"] == [] and not alone["contended"]
    gpu = [{"pid": 90001, "mib": 1024}, {"pid": 90417, "mib": 30000}]
    shared = contention.between(snap(0, 0, 0), snap(1, 0, 0, gpu=gpu), holds_context=True)
    assert shared["contended"] == ["1 other process on the GPU (PIDs of the host, not named here)"]
    cpu_only = contention.between(snap(0, 0, 0), snap(1, 0, 0, gpu=gpu[:1]))  # no context: it is not ours
    assert cpu_only["gpu_others"] == gpu[:1]


def test_mark_puts_contention_into_the_figure_and_first_into_a_low_fix():
    seen = {"contended": ["other processes used 1.0 of 2 CPUs"], "others_cores": 1.0}
    low = contention.mark(Result("matmul-fp32", WARN, "0.05 TFLOP/s", hint="likely: power cap"), seen)
    assert low.summary == "0.05 TFLOP/s [under contention: other processes used 1.0 of 2 CPUs]"
    assert low.hint.startswith("measured under contention (other processes used 1.0 of 2 CPUs): rerun on an idle")
    assert low.data["contention"] is seen
    skipped = contention.mark(Result("matmul-fp8", SKIP, "no fp8"), seen)
    assert skipped.summary == "no fp8" and "contention" not in skipped.data


def test_verdict_lists_the_figures_measured_under_contention():
    quiet = {"others_cores": 0.1, "steal": 0.0, "gpu_others": None, "contended": [], "cpus": 2, "unknown": None}
    busy = dict(quiet, others_cores=1.2, contended=["other processes used 1.2 of 2 CPUs"])
    assert contention.verdict({}).status == SKIP
    calm = contention.verdict({"matmul-fp32": quiet, "copy-d2d": quiet})
    assert (calm.status, calm.summary) == (
        PASS,
        "no other load during the 2 measurements (other processes used at most 0.1 CPUs)",
    )
    warned = contention.verdict({"matmul-fp32": busy, "copy-d2d": quiet})
    assert warned.status == WARN and warned.summary == "1 of 2 figures measured under contention: matmul-fp32"
    assert warned.actual == "other processes used up to 1.2 of 2 CPUs"


@linux
def test_a_child_process_s_cpu_time_is_this_run_s():
    """The kernel's own accounting: a child that burns CPU (as a compile worker does) is not contention."""
    start = contention.snapshot()
    subprocess.run(
        [sys.executable, "-c", "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass"]
    )
    seen = contention.since(start)
    assert seen["others_cores"] is not None and seen["others_cores"] < contention.OTHERS_CORES_MIN, seen


@linux
def test_processes_that_are_not_ours_are_contention():
    """Busy loops whose parent has exited belong to no one here: their CPU time is other processes'. As many
    loops as make contention on this machine (one on 2 CPUs), and no more than it has CPUs."""
    allowed = len(os.sched_getaffinity(0))
    n = min(allowed, math.ceil(contention.threshold(allowed) * 1.5))
    loop = "%s -c 'while True: pass' >/dev/null 2>&1 & echo $!" % shlex.quote(sys.executable)
    pids = [int(subprocess.run(["sh", "-c", loop], capture_output=True, text=True).stdout) for _ in range(n)]
    try:
        if set(pids) & contention.own_ticks()[1]:
            pytest.skip("this process adopts orphans (PID 1 or a subreaper): the loops would be its own")
        start = contention.snapshot()
        time.sleep(1.0)
        seen = contention.since(start)
    finally:
        for pid in pids:
            os.kill(pid, 9)
    assert seen["others_cores"] >= contention.threshold(allowed) and seen["contended"], seen


@linux
def test_the_gpu_query_s_own_child_is_not_counted_as_other_load():
    """nvidia-smi, asked for the GPU's processes, is a child of this run: its CPU time is ours, also when it ends
    just before the counters are read."""

    class BusyReader:  # like the nvidia-smi route: a child that burns CPU, then the list
        def processes(self):
            burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass"
            subprocess.run([sys.executable, "-c", burn])
            return []

    start = contention.snapshot()  # as bench's header: the first snapshot is taken before the GPU can be asked
    seen = contention.since(start, BusyReader(), at_least=1.0)
    assert seen["others_cores"] is not None and seen["others_cores"] < 0.25, seen
