"""Other load during a measurement: /proc/stat and /proc/PID/stat as the kernel writes them (proc_stat(5),
proc_pid_stat(5): https://man7.org/linux/man-pages/man5/proc_stat.5.html and .../proc_pid_stat.5.html), the GPU's
processes, and how a figure is marked.

Every test reads a /proc recorded under tmp_path, never the machine's own load: on a busy CI machine the other
processes are real, and a test that measured them judged the machine instead of the code. Only the shape of the
recorded files is checked against the running kernel's (test_the_recorded_files_have_the_kernel_s_shape).
"""

import os

import pytest

from checks.machine import contention
from checks.report import FAIL, PASS, SKIP, WARN, Result

HZ = contention._HZ
linux = pytest.mark.skipif(not os.path.isfile("/proc/stat"), reason="needs Linux /proc")


def proc_stat(cpus):
    """/proc/stat: the aggregate `cpu` line, then one `cpuN` line per CPU (ten tick counters), then the rest."""
    total = [sum(column) for column in zip(*cpus)]
    lines = ["cpu  " + " ".join(map(str, total))] + [
        "cpu%d %s" % (i, " ".join(map(str, c))) for i, c in enumerate(cpus)
    ]
    return "\n".join(lines) + "\nintr 7035891 0 0 0\nctxt 123\nbtime 1764489660\nprocesses 4500\n"


PID_STAT_FIELDS = 52  # proc_pid_stat(5): fields (1) pid to (52) exit_code, since Linux 3.5


def pid_stat(pid, comm, ppid, utime, stime, cutime=0, cstime=0):
    """/proc/PID/stat: `pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt` (fields
    1-13), `utime stime cutime cstime` (14-17, clock ticks; cutime and cstime: reaped children's), then `priority
    nice num_threads itrealvalue starttime vsize rss rsslim` (18-25) and fields 26-52, all 52 as proc_pid_stat(5)."""
    head = "%d (%s) S %d %d 2229 0 -1 4194304 100 0 0 0" % (pid, comm, ppid, ppid)
    tail = "20 0 1 0 1336155 3133440 360 18446744073709551615" + " 0" * (PID_STAT_FIELDS - 25)
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
    low = contention.mark(
        Result(name="matmul-fp32", status=WARN, summary="0.05 TFLOP/s", hint="likely: power cap"), seen
    )
    assert low.summary == "0.05 TFLOP/s [under contention: other processes used 1.0 of 2 CPUs]"
    assert low.hint.startswith("measured under contention (other processes used 1.0 of 2 CPUs): rerun on an idle")
    assert low.data["contention"] is seen
    skipped = contention.mark(Result(name="matmul-fp8", status=SKIP, summary="no fp8"), seen)
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


def idle_cpus(t, busy, cpus=2):
    """The per-CPU counters of `cpus` CPUs `t` seconds after boot with `busy` ticks of user time spread over them
    (as even as ticks allow), the rest idle: what /proc/stat holds at that moment."""
    rows = []
    for i in range(cpus):
        user = busy // cpus + (1 if i < busy % cpus else 0)
        rows.append((user, 0, 0, int(t * HZ) - user, 0, 0, 0, 0, 0, 0))
    return rows


def recorded(root, t, busy, processes, pid=100, reader=None):
    """Write /proc as it was `t` seconds in and take contention's snapshot of it, as process `pid` on CPUs 0-1."""
    fake_proc(root, idle_cpus(t, busy), processes)
    return contention.snapshot(reader, root=str(root), pid=pid, allowed=(0, 1), now=t)


def test_a_child_process_s_cpu_time_is_this_run_s(tmp_path):
    """A child burning CPU (a compile worker), and one that ended and was reaped into our cutime, are this run's
    time: over 2 s on 2 CPUs the machine was busy only with them and us, so no other load."""
    start = recorded(tmp_path / "t0", 10, 400, [(100, "python", 1, 300, 50), (101, "cc1plus", 100, 0, 0)])
    # 2 s later: we used 40 ticks, the live child 150, a child that ended meanwhile 120 (now in our cutime).
    end = recorded(
        tmp_path / "t1", 12, 400 + 40 + 150 + 120, [(100, "python", 1, 330, 60, 120), (101, "cc1plus", 100, 150, 0)]
    )
    seen = contention.between(start, end)
    assert (seen["seconds"], seen["cpus"], seen["others_cores"], seen["contended"]) == (2, 2, 0.0, [])
    assert end.pids == {100, 101}


def test_processes_that_are_not_ours_are_contention(tmp_path):
    """Busy loops whose parent has exited (ppid 1) belong to no one here: 1.8 s of their CPU time over 2 s is 0.9 of
    2 CPUs of other load, above the threshold (0.5 cores), and named."""
    ours, loops = (100, "python", 1, 300, 50), [(200, "python", 1, 0, 0), (201, "python", 1, 0, 0)]
    start = recorded(tmp_path / "t0", 10, 350, [ours] + loops)
    loops_later = [(200, "python", 1, 90, 0), (201, "python", 1, 90, 0)]
    end = recorded(tmp_path / "t1", 12, 350 + 20 + 180, [(100, "python", 1, 320, 50)] + loops_later)
    seen = contention.between(start, end)
    assert seen["others_cores"] == 0.9 and seen["others_cores"] >= contention.threshold(2)
    assert seen["contended"] == ["other processes used 0.9 of 2 CPUs"]
    assert contention.describe(seen) == "other processes used 0.9 of 2 CPUs, 0% stolen"


def test_the_gpu_query_s_own_child_is_not_counted_as_other_load(tmp_path):
    """nvidia-smi, asked for the GPU's processes, is a child of this run that has ended (reaped into our cutime)
    by the time the list comes back: the snapshot asks the GPU first, then reads our ticks and the machine's
    together, so its 40 ticks are in both or in neither, never in the machine's alone."""
    root = tmp_path / "proc"
    start = recorded(root, 10, 350, [(100, "python", 1, 300, 50)])

    class NvidiaSmiReader:  # like the nvidia-smi route: a child that runs, ends and is reaped, then the list
        def processes(self):
            fake_proc(root, idle_cpus(12, 350 + 40), [(100, "python", 1, 300, 50, 40)])
            return []

    fake_proc(root, idle_cpus(12, 350), [(100, "python", 1, 300, 50)])  # the counters before nvidia-smi ran
    end = contention.snapshot(NvidiaSmiReader(), root=str(root), pid=100, allowed=(0, 1), now=12)
    seen = contention.between(start, end)
    assert (seen["others_cores"], seen["contended"], seen["gpu_others"]) == (0.0, [], [])


@linux
def test_the_recorded_files_have_the_kernel_s_shape():
    """The recorded files are shaped as this kernel writes them (read for their layout only, never their values):
    per-CPU lines of at least 8 counters in /proc/stat, and 52 fields in /proc/self/stat, with utime to cstime
    (14-17) where own_ticks reads them."""
    with open("/proc/stat") as f:
        real_cpu = [line.split() for line in f if line.startswith("cpu") and line[3:4].isdigit()]
    assert real_cpu and all(len(fields) - 1 >= 8 for fields in real_cpu)
    fake_cpu = [line.split() for line in proc_stat(idle_cpus(1, 0)).splitlines() if line[3:4].isdigit()]
    assert {len(fields) for fields in fake_cpu} <= {len(fields) for fields in real_cpu}
    with open("/proc/self/stat") as f:
        real = f.read()
    fake = pid_stat(100, "python", 1, 30, 5, 7, 3)
    assert len(real.rsplit(")", 1)[1].split()) + 2 >= len(fake.rsplit(")", 1)[1].split()) + 2 == PID_STAT_FIELDS
    fields = fake.rsplit(")", 1)[1].split()
    assert [int(x) for x in fields[11:15]] == [30, 5, 7, 3]  # fields 14-17, counted from field 3 (state)


def test_snapshot_reads_the_recorded_proc_as_given(tmp_path):
    """pid, CPUs and time come from the caller when /proc is a recording; an unreadable root is unknown."""
    snap_ = recorded(tmp_path / "proc", 5, 100, [(100, "python", 1, 60, 40), (101, "sh", 100, 3, 0)])
    assert (snap_.t, snap_.ticks, snap_.own, snap_.pids, snap_.cpus) == (5, (100, 0, 1000, 2), 103, {100, 101}, (0, 1))
    gone = contention.snapshot(root=str(tmp_path / "missing"), pid=100, allowed=(0, 1), now=6)
    assert gone.ticks is None and gone.own is None
    assert contention.between(snap_, gone)["unknown"] == "needs Linux /proc"


def test_measurements_back_to_back_share_their_snapshots_and_are_marked(tmp_path):
    """contention.Watch (bench and train): each measurement runs between two snapshots, the closing one opening the
    next; a figure measured while other processes used 0.9 of 2 CPUs is marked (and its fix too, where it is a
    figure that contention can make LOW), a quiet one is not, a SKIP is not counted; verdict() names the figure."""
    snaps = iter(
        [
            snap(0, 0, 0),
            snap(2, int(0.1 * 2 * HZ), 0),  # first: other processes used 0.1 of 2 CPUs
            snap(4, int(0.1 * 2 * HZ) + int(0.9 * 2 * HZ), 0),  # second: 0.9
            snap(5, int(0.1 * 2 * HZ) + int(0.9 * 2 * HZ), 0),  # the SKIP
        ]
    )
    watch = contention.Watch(take=lambda: next(snaps))
    quiet = watch.around(lambda: Result(name="matmul-fp32", status=PASS, summary="1.0 TFLOP/s"))()
    busy = watch.around(lambda: Result(name="copy-d2d", status=WARN, summary="1 GB/s", hint="check the memory clock"))()
    skipped = watch.around(lambda: Result(name="matmul-fp8", status=SKIP, summary="no fp8"))()
    assert quiet.summary == "1.0 TFLOP/s" and quiet.data["contention"]["others_cores"] == 0.1
    assert busy.summary == "1 GB/s [under contention: other processes used 0.9 of 2 CPUs]"
    assert busy.hint.startswith("measured under contention") and "contention" not in skipped.data
    assert set(watch.load) == {"matmul-fp32", "copy-d2d"}
    assert watch.verdict().summary == "1 of 2 figures measured under contention: copy-d2d"


def test_a_training_figure_is_marked_but_its_fix_is_left_alone():
    """train's figures (fix=False): a loss that did not fall is not contention's doing, so the fix stays."""
    snaps = iter([snap(0, 0, 0), snap(2, 2 * HZ, 0)])
    watch = contention.Watch(take=lambda: next(snaps))
    failed = watch.around(
        lambda: Result(name="net-cpu-fp32-eager", status=FAIL, summary="loss did not fall", hint="run verify"), False
    )()
    assert failed.summary.endswith("[under contention: other processes used 1.0 of 2 CPUs]")
    assert failed.hint == "run verify"


def test_a_measurement_that_raises_closes_its_interval():
    """The next measurement starts from the snapshot taken when the failed one ended, not from before it."""
    snaps = iter([snap(0, 0, 0), snap(2, 0, 0), snap(4, 0, 0)])
    watch = contention.Watch(take=lambda: next(snaps))

    def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        watch.around(broken)()
    after = watch.around(lambda: Result(name="copy-d2d", status=PASS, summary="1 GB/s"))()
    assert after.data["contention"]["seconds"] == 2
