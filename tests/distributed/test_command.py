"""Tests of `python -m checks dist`: its pure logic, then real runs of 1 and 2 CPU processes, healthy and broken."""

import importlib.util
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import fakes
import pytest

from checks import runner
from checks.distributed import chart as dist_chart
from checks.distributed import command as dist
from checks.distributed import measure as dm
from checks.report import FAIL, PASS, UsageError

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="dist's runs need torch")
posix_only = pytest.mark.skipif(os.name != "posix", reason="stops and kills a rank with POSIX signals")
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # result names, as checks/report.schema.json requires
MASTER = {"MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29500"}


# --- the bandwidth arithmetic and the message sizes -------------------------------------------------------------


def test_busbw_follows_the_nccl_tests_definition():
    """algbw = bytes / time; busbw = algbw x 2(n-1)/n: equal for 2 ranks, 1.75 x for 8, nothing moves for 1."""
    assert dm.bandwidth(2e9, 2.0, 8) == (1.0, 1.75)
    assert dm.bandwidth(1e9, 0.5, 2) == (2.0, 2.0)
    assert dm.bandwidth(1e9, 1.0, 1) == (1.0, 0.0)


def test_iterations_fill_the_budget_within_bounds():
    """As many iterations as fit the budget at the slowest rank's pace, at least `low`, at most `high`."""
    assert dm.iterations(0.01, 0.5, 5, 200) == 50
    assert dm.iterations(10.0, 0.5, 5, 200) == 5
    assert dm.iterations(0.0, 0.5, 5, 200) == 200


def test_default_sizes_span_1kib_to_256mib_on_a_gpu_and_less_on_a_cpu():
    """GPU: 1 KiB to 256 MiB in x2 steps (quick: x4); CPU: to 64 MiB (quick: 4 MiB) in x4 steps."""
    full = dm.default_sizes("cuda", False)
    assert full[0] == 1024 and full[-1] == 256 * 2**20 and len(full) == 19
    assert all(b == 2 * a for a, b in zip(full, full[1:]))
    assert dm.default_sizes("cuda", True) == full[::2]
    assert dm.default_sizes("cpu", False)[-1] == 64 * 2**20
    assert dm.default_sizes("cpu", True) == [4**k * 1024 for k in range(7)]


def test_size_labels_and_result_names():
    """Sizes print in binary units and name one valid result each."""
    assert [dm.size_label(n) for n in (12, 1024, 3 * 2**20, 2**30)] == ["12 B", "1 KiB", "3 MiB", "1 GiB"]
    assert dm.result_name(256 * 2**20) == "busbw-256mib"
    assert all(NAME.match(dm.result_name(n)) for n in dm.default_sizes("cuda", False))


@pytest.mark.parametrize(
    "text, nbytes", [("4096", 4096), ("64K", 65536), ("1MiB", 2**20), ("2 mb", 2**21), ("1g", 2**30)]
)
def test_parse_size_reads_binary_units(text, nbytes):
    """--sizes takes bytes or K/M/G (with or without iB), binary."""
    assert dist.parse_size(text) == nbytes


@pytest.mark.parametrize("text", ["1.5M", "3", "0", "abc", "-4"])
def test_parse_size_refuses_what_is_not_whole_float32_elements(text):
    """A size that is not a positive multiple of 4 bytes is refused with an example."""
    with pytest.raises(ValueError, match="--sizes"):
        dist.parse_size(text)


def parse_args(argv):
    """dist's options as runner parses them, then dist's own check (a UsageError exits 2 at the boundary)."""
    args = runner.parse(dist.SPEC, argv, dist.add_arguments)
    dist.check_args(args)
    return args


def test_sizes_option_is_sorted_and_deduplicated():
    """--sizes accepts commas and repetition; a bad one is a usage error (exit 2)."""
    assert parse_args(["--sizes", "1M,1K", "64K", "1024"]).sizes == [1024, 65536, 2**20]
    with pytest.raises(UsageError, match="is not a size"):
        parse_args(["--sizes", "12Q"])


# --- where a process stands: torchrun, srun, or alone ------------------------------------------------------------


def test_without_a_launcher_it_is_a_world_of_one():
    """No RANK/WORLD_SIZE and no SLURM step: one process, rank 0."""
    got = dist.launch_env({"PATH": "/usr/bin"})
    assert (got["launcher"], got["rank"], got["world"], got["local_rank"], got["addr"]) == (None, 0, 1, 0, None)


def test_torchrun_variables_are_read():
    """torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_* and TORCHELASTIC_RUN_ID."""
    env = dict(MASTER, RANK="5", WORLD_SIZE="8", LOCAL_RANK="1", LOCAL_WORLD_SIZE="4", TORCHELASTIC_RUN_ID="x")
    got = dist.launch_env(env)
    assert got == {
        "launcher": "torchrun",
        "rank": 5,
        "world": 8,
        "local_rank": 1,
        "local_world": 4,
        "addr": "10.0.0.1",
        "port": 29500,
    }
    manual = dist.launch_env(dict(MASTER, RANK="1", WORLD_SIZE="2"))
    assert manual["launcher"] == "RANK/WORLD_SIZE" and manual["local_rank"] == 1 and manual["local_world"] is None


def test_slurm_variables_are_mapped_when_torchrun_s_are_absent():
    """Under srun: SLURM_PROCID -> rank, SLURM_NTASKS -> world, SLURM_LOCALID -> local rank."""
    slurm = {"SLURM_PROCID": "3", "SLURM_NTASKS": "8", "SLURM_LOCALID": "1", "SLURM_NTASKS_PER_NODE": "4"}
    got = dist.launch_env(dict(MASTER, **slurm))
    assert (got["launcher"], got["rank"], got["world"], got["local_rank"], got["local_world"]) == ("srun", 3, 8, 1, 4)
    uneven = dict(MASTER, **dict(slurm, SLURM_NTASKS_PER_NODE="2(x3)"))  # not a plain count: unknown
    assert dist.launch_env(uneven)["local_world"] is None
    both = dist.launch_env(dict(MASTER, RANK="0", WORLD_SIZE="2", **slurm))  # srun ... torchrun: torchrun's win
    assert (both["launcher"], both["world"]) == ("RANK/WORLD_SIZE", 2)
    with pytest.raises(UsageError, match="MASTER_ADDR, MASTER_PORT: export MASTER_ADDR=.*scontrol"):
        dist.launch_env(slurm)


@pytest.mark.parametrize(
    "env, needle",
    [
        ({"RANK": "0"}, "RANK is set but not WORLD_SIZE, MASTER_ADDR, MASTER_PORT"),
        # torch/distributed/rendezvous.py's env:// handler: "environment variable MASTER_ADDR expected, but not set"
        (
            {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"},
            "MASTER_ADDR and MASTER_PORT are not set: RANK/WORLD_SIZE",
        ),
        ({"RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "h"}, "MASTER_PORT is not set"),
        (dict(MASTER, RANK="2", WORLD_SIZE="2"), "a rank is 0 to world size - 1"),
        (dict(MASTER, RANK="x", WORLD_SIZE="2"), "RANK='x' is not a whole number"),
        ({"RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "h", "MASTER_PORT": "70000"}, "not a TCP port"),
    ],
)
def test_inconsistent_launch_variables_are_usage_errors(env, needle):
    """Half a launch environment is refused in one line that says what to set."""
    with pytest.raises(UsageError, match=re.escape(needle)):
        dist.launch_env(env)


def fake_torch(cuda=False, gpus=0, nccl=True):
    """Enough of torch for choose_device."""
    distributed = SimpleNamespace(
        is_available=lambda: True, is_nccl_available=lambda: nccl, is_gloo_available=lambda: True
    )
    return SimpleNamespace(
        distributed=distributed, cuda=SimpleNamespace(is_available=lambda: cuda, device_count=lambda: gpus)
    )


def test_device_choice_nccl_on_gpus_gloo_on_cpu():
    """auto: NCCL where CUDA and NCCL are, else gloo on CPU; --device cpu always works."""
    alone = dist.launch_env({})
    assert dist.choose_device(fake_torch(), "auto", alone) == ("cpu", "gloo", None)
    assert dist.choose_device(fake_torch(True, 8), "auto", alone) == ("cuda", "nccl", 0)
    assert dist.choose_device(fake_torch(True, 8, nccl=False), "auto", alone) == ("cpu", "gloo", None)
    assert dist.choose_device(fake_torch(True, 8), "cpu", alone) == ("cpu", "gloo", None)
    third = dist.launch_env(dict(MASTER, RANK="3", WORLD_SIZE="8", LOCAL_RANK="3", LOCAL_WORLD_SIZE="4"))
    assert dist.choose_device(fake_torch(True, 4), "cuda", third) == ("cuda", "nccl", 3)


def test_a_gpu_per_task_from_the_scheduler_is_cuda_0():
    """srun --gpus-per-task=1 leaves each task one visible GPU: every local rank uses cuda:0."""
    slurm = dist.launch_env(dict(MASTER, SLURM_PROCID="5", SLURM_NTASKS="8", SLURM_LOCALID="1"))
    assert dist.choose_device(fake_torch(True, 1), "cuda", slurm, visible="GPU-1234") == ("cuda", "nccl", 0)
    with pytest.raises(UsageError, match="2 processes on this node but 1 GPUs"):
        dist.choose_device(fake_torch(True, 1), "cuda", slurm, visible=None)
    torchrun = dist.launch_env(dict(MASTER, RANK="1", WORLD_SIZE="2", LOCAL_WORLD_SIZE="2", TORCHELASTIC_RUN_ID="x"))
    with pytest.raises(UsageError, match="2 processes on this node but 1 GPUs"):  # torchrun binds no GPU per process
        dist.choose_device(fake_torch(True, 1), "cuda", torchrun, visible="0")


def test_device_cuda_without_gpus_or_with_too_few_is_a_usage_error():
    """--device cuda with no GPU or without NCCL: unusable here (a FAIL, exit 1, as in train and bench); more
    processes on the node than GPUs: a usage error. Each says so and how."""
    with pytest.raises(dist.Unusable, match="no usable CUDA GPU here; run with --device cpu"):
        dist.choose_device(fake_torch(), "cuda", dist.launch_env({}))
    with pytest.raises(dist.Unusable, match="NCCL is not in this torch"):
        dist.choose_device(fake_torch(True, 1, nccl=False), "cuda", dist.launch_env({}))
    four = dist.launch_env(dict(MASTER, RANK="0", WORLD_SIZE="4", LOCAL_WORLD_SIZE="4"))
    with pytest.raises(UsageError, match="4 processes on this node but 2 GPUs.*--nproc-per-node 2"):
        dist.choose_device(fake_torch(True, 2), "auto", four)
    third = dist.launch_env(dict(MASTER, RANK="2", WORLD_SIZE="3", LOCAL_RANK="2"))  # no LOCAL_WORLD_SIZE
    with pytest.raises(UsageError, match="3 processes on this node but 2 GPUs"):
        dist.choose_device(fake_torch(True, 2), "cuda", third)


# --- verdicts -----------------------------------------------------------------------------------------------------


def rank_info(rank, wrong=0):
    first = (7, 2.0, 3.0) if wrong else None
    info = {"rank": rank, "local_rank": rank % 2, "host": "node%d" % (rank // 2), "device": "cpu"}
    return dict(info, wrong=wrong, elements=dm.CHECK_ELEMENTS, first=first)


def test_allreduce_verdict_names_the_ranks_with_a_wrong_sum():
    """One line per rank (host, local rank, device); the summary FAILs naming exactly the broken ranks."""
    good = dm.judge_allreduce([rank_info(1), rank_info(0)], 2)
    assert [(r.name, r.status) for r in good] == [("rank-0", PASS), ("rank-1", PASS), ("all-reduce", PASS)]
    assert good[1].summary == "host node0, local rank 1, cpu: all-reduce ok"
    bad = dm.judge_allreduce([rank_info(0), rank_info(1), rank_info(2, wrong=5), rank_info(3, wrong=1)], 4)
    assert [r.status for r in bad] == [PASS, PASS, FAIL, FAIL, FAIL]
    assert "5 of %d elements, e.g. [7] = 2 (expected 3)" % dm.CHECK_ELEMENTS in bad[2].summary
    assert bad[-1].summary == "wrong sum on ranks 2, 3" and "node1" in bad[3].hint


def test_missing_ranks_are_named_with_the_hosts_that_joined():
    """The roll-call FAIL names each rank that did not join and where the others run."""
    result = dm.judge_join([3, 1], 4, 5.0, {0: "a", 2: "b"}, "h:29500")
    assert result.status == FAIL and result.summary == "2 of 4 ranks joined within 5 s; missing: ranks 1, 3"
    assert result.actual == "joined: a (rank 0), b (rank 2)" and "h:29500" in result.hint
    assert result.data == {"missing_ranks": [1, 3]}


def test_a_failed_step_names_silent_ranks_and_those_that_failed_too():
    """Silent ranks (dead or hung) are named first; ranks that reported a failure are listed with their reason."""
    failed = {1: "failed: Connection reset by peer"}
    summary, actual = dm.describe_failure("rank 0 did not finish", {3: "busbw-1mib"}, {2: "busbw-1mib"}, failed)
    assert summary == "rank 0 did not finish; rank 3 did not respond"
    assert actual == (
        "rank 3: no answer, no heartbeat (dead or frozen; last seen in busbw-1mib); "
        "rank 2: alive, still waiting in busbw-1mib; rank 1 failed: Connection reset by peer"
    )
    assert "every other rank answered" in dm.describe_failure("x", {}, {2: "barrier"}, {1: "y"})[0]
    assert "other ranks are unknown" in dm.describe_failure("x", None, None, None)[0]


def test_host_ranges_read_well():
    """Rank spans per host (at most four hosts listed). (Error texts: tests/distributed/test_rendezvous.py.)"""
    hosts = {r: "n%d" % (r // 2) for r in range(12)}
    assert dm.host_ranges({0: "a", 1: "a", 2: "b"}) == "a (ranks 0-1), b (rank 2)"
    assert dm.host_ranges(hosts).endswith("n3 (ranks 6-7), and 2 more hosts")


def test_chart_is_written_or_its_absence_explained(tmp_path):
    """busbw vs size as a PNG beside the JSON when matplotlib is installed; otherwise one line saying why not."""
    table = [{"bytes": 1024 * 4**k, "algbw": 0.1 * (k + 1), "busbw": 0.1 * (k + 1)} for k in range(4)]
    doc = {"header": {}, "results": [{"name": "busbw", "data": {"table": table}}]}
    line = dist_chart.write_chart(doc, str(tmp_path / "d.json"))
    if importlib.util.find_spec("matplotlib") is None:
        assert line == "chart: not written (matplotlib is not installed)"
    else:
        assert line.startswith("chart written to") and (tmp_path / "d.png").stat().st_size > 0
    assert "no bandwidth measured" in dist_chart.write_chart({"header": {}, "results": []}, "x.json")


# --- real runs: one process, two under torchrun, and ranks that never come, die or hang ---------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def child_env(**extra):
    """This environment without any launcher's variables (tests may run inside a SLURM job), plus extra."""
    drop = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "SLURM_", "PIXI_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and not k.startswith("TORCHELASTIC")}
    return dict(env, NO_COLOR="1", **extra)


def checks_dist(*args):
    return [sys.executable, "-m", "checks", "dist", "--device", "cpu", "--quick", *args]


def run_dist(repo_root, *args, timeout=300):
    """Run `python -m checks dist --device cpu --quick ARGS` without a launcher; return the finished process."""
    return subprocess.run(
        checks_dist(*args), cwd=str(repo_root), env=child_env(), capture_output=True, text=True, timeout=timeout
    )


def load_report(path, report_schema):
    doc = json.loads(path.read_text())
    if report_schema is not None:
        report_schema.validate(doc)
    return doc, {r["name"]: r for r in doc["results"]}


@needs_torch
def test_one_process_without_a_launcher_passes_and_says_how_to_launch_more(repo_root, tmp_path, report_schema):
    """`python -m checks dist` alone: a world of 1 that passes, and tells how to launch a real check."""
    out = tmp_path / "one.json"
    proc = run_dist(repo_root, "--json", str(out), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS init: 1 process: launch with torchrun --nproc-per-node N for a multi-process check" in proc.stdout
    doc, by_name = load_report(out, report_schema)
    assert by_name["all-reduce"]["status"] == "PASS" and by_name["busbw"]["status"] == "SKIP"


@needs_torch
def test_two_processes_under_torchrun_pass_and_measure(repo_root, tmp_path, report_schema):
    """torchrun, 2 CPU processes over gloo: both join and sum exactly, bus bandwidth is measured; only rank 0 talks."""
    out = tmp_path / "two.json"
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2"]
    launcher += ["--master-addr", "127.0.0.1", "--master-port", free_port(), "--monitor-interval", "0.2"]
    command = launcher + ["-m"] + checks_dist("--json", str(out))[2:]
    proc = subprocess.run(command, cwd=str(repo_root), env=child_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc, by_name = load_report(out, report_schema)
    assert doc["check"] == "dist" and doc["exit_code"] == 0 and doc["header"]["launcher"] == "torchrun"
    assert by_name["rank-0"]["status"] == by_name["rank-1"]["status"] == "PASS"
    assert by_name["all-reduce"]["summary"].startswith("2 of 2 ranks hold the exact sum")
    table = by_name["busbw"]["data"]["table"]
    assert [row["bytes"] for row in table] == dm.default_sizes("cpu", True)
    assert all(row["busbw"] > 0 and row["algbw"] > 0 and len(row["rank_median_ms"]) == 2 for row in table)
    summaries = [line for line in proc.stdout.splitlines() if line.startswith("dist: ")]
    assert proc.stdout.count("PASS rank-1:") == 1 and len(summaries) == 1  # rank 1 prints nothing
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc are Linux's")
def test_ranks_do_not_outlive_a_killed_torchrun(repo_root, tmp_path):
    """torchrun killed with SIGKILL (a caller's timeout) cannot stop its ranks; each rank asked the kernel for SIGTERM
    when its launcher exits (world.die_with_launcher; one whose launcher is already gone when it asks signals
    itself), so none is left waiting on the others. torchrun is killed a second after its ranks appear, while they
    still import torch (a run takes several seconds). With torch 2.0.1, whose rank 0 hosts the store, the ranks were
    still alive after 60 s without it; torch 2.13's leave on their own."""
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2"]
    launcher += ["--master-addr", "127.0.0.1", "--master-port", free_port(), "--monitor-interval", "0.2"]
    command = launcher + ["-m"] + checks_dist("--json", str(tmp_path / "r.json"))[2:]
    env = child_env()
    proc = subprocess.Popen(command, cwd=str(repo_root), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ranks = []
    try:
        deadline = time.monotonic() + 120
        while len(ranks) < 2 and time.monotonic() < deadline and proc.poll() is None:
            ranks = fakes.children(proc.pid)
            time.sleep(0.05)
        assert len(ranks) >= 2, "the ranks did not start"
        time.sleep(1.0)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 60
        while any(fakes.alive(r) for r in ranks) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [r for r in ranks if fakes.alive(r)]
    finally:
        for pid in ranks:
            if fakes.alive(pid):
                os.kill(pid, signal.SIGKILL)


class Ranks:
    """Ranks 0 and 1 of a world started by hand (RANK/WORLD_SIZE/MASTER_*); rank 0's stdout read line by line."""

    def __init__(self, repo_root, tmp_path, *args, world=2):
        self.port = port = free_port()
        self.lines, self.queue, self.procs, self.files = [], queue.Queue(), [], []
        for rank in (0, 1):
            env = child_env(RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
            err = (tmp_path / ("rank%d.err" % rank)).open("w")
            self.files.append(err)
            out = subprocess.PIPE if rank == 0 else subprocess.DEVNULL
            proc = subprocess.Popen(checks_dist(*args), cwd=str(repo_root), env=env, stdout=out, stderr=err, text=True)
            self.procs.append(proc)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.procs[0].stdout:
            self.queue.put(line)
        self.queue.put(None)

    def wait_for(self, prefix, seconds=120):
        """Return once rank 0 printed a line starting with prefix (False if it ended or the time ran out)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.queue.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                return False
            self.lines.append(line)
            if line.startswith(prefix):
                return True
        return False

    def finish(self, seconds=60):
        """Wait for rank 0 to exit; return (exit code, all its output, seconds waited)."""
        start = time.monotonic()
        code = self.procs[0].wait(timeout=seconds)
        self.wait_for("\0", 5)  # drain the rest of its output
        return code, "".join(self.lines), time.monotonic() - start

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
            proc.wait()
            if proc.stdout:
                proc.stdout.close()
        for handle in self.files:
            handle.close()


@needs_torch
def test_a_rank_that_never_joins_is_named_within_the_timeout(repo_root, tmp_path, report_schema):
    """Ranks 0 and 1 of a world of 3: FAIL naming rank 2 after --timeout, exit 1; rank 1 says one line; no traceback."""
    out = tmp_path / "missing.json"
    ranks = Ranks(repo_root, tmp_path, "--timeout", "5", "--json", str(out), world=3)
    try:
        code, text, waited = ranks.finish()
        rank1 = ranks.procs[1].wait(timeout=60)
    finally:
        ranks.close()
    assert code == 1 and waited < 60, text
    assert "FAIL init: 2 of 3 ranks joined within 5 s; missing: rank 2" in text
    # ranks 0 and 1 run here with MASTER_ADDR=127.0.0.1 (one host): rank 2 is the process never started
    assert "WORLD_SIZE=3 but only 2 processes of this job run on this host (ranks 0, 1): rank 2 never started" in text
    assert "actual:   joined: %s (ranks 0-1)" % socket.gethostname() in text
    errors = (tmp_path / "rank1.err").read_text()
    assert rank1 == 1 and errors == "dist: rank 1: error: rank 0 stopped waiting for the other ranks\n"
    assert "Traceback" not in text + (tmp_path / "rank0.err").read_text()
    doc, by_name = load_report(out, report_schema)
    assert by_name["init"]["data"]["missing_ranks"] == [2] and doc["exit_code"] == 1


# Four big sizes keep the ranks busy for seconds after init, so the fault always lands mid-run.
BUSY = ("--sizes", "16M,32M,64M,128M")


def fault_after_init(repo_root, tmp_path, fault, *args):
    """Start ranks 0 and 1, call fault(procs) once init passed; return (rank 0's exit code, output, seconds waited)."""
    pair = Ranks(repo_root, tmp_path, *args, *BUSY)
    try:
        assert pair.wait_for("PASS init:"), "".join(pair.lines)
        fault(pair.procs)
        return pair.finish()
    finally:
        pair.close()


def stop_rank1_then_terminate_rank0(procs):
    procs[1].send_signal(signal.SIGSTOP)  # rank 0 now waits in a collective that cannot finish
    time.sleep(0.5)
    procs[0].send_signal(signal.SIGTERM)


@needs_torch
@posix_only
def test_a_rank_that_dies_mid_run_is_named(repo_root, tmp_path, report_schema):
    """Rank 1 killed after init: rank 0 FAILs the step in progress naming rank 1, writes the report, exits 1."""
    out = tmp_path / "dead.json"
    args = ("--timeout", "20", "--json", str(out))
    code, text, waited = fault_after_init(repo_root, tmp_path, lambda procs: procs[1].kill(), *args)
    assert code == 1 and waited < 20, text
    fail = next(line for line in text.splitlines() if line.startswith("FAIL "))
    assert re.match(r"FAIL \S+: rank 0 failed: .*; rank 1 did not respond$", fail), text
    assert "actual:   rank 1: no answer, no heartbeat (dead or frozen; last seen in " in text
    assert "Traceback" not in text + (tmp_path / "rank0.err").read_text()
    doc, _ = load_report(out, report_schema)
    assert doc["exit_code"] == 1 and doc["results"][-1]["status"] == "FAIL"


@needs_torch
@posix_only
def test_a_hung_rank_is_named_after_the_timeout(repo_root, tmp_path):
    """Rank 1 stopped (hung) after init: the watchdog FAILs the step after --timeout naming rank 1, exit 1.

    Before the libuv TCPStore (torch < 2.4), a client sends one request in several send() calls (tcputil::sendBytes
    with its moreData flag, in torch 2.0.1's libtorch_cpu.so) and the store's server reads a request to its end with
    blocking reads: SIGSTOP landing between two calls of rank 1's heartbeat freezes the whole store, and rank 0 then
    rightly says the store did not answer. That race gets one more run (stopped_rank_run)."""
    stop = lambda procs: procs[1].send_signal(signal.SIGSTOP)  # noqa: E731
    code, text, waited = stopped_rank_run(repo_root, tmp_path, stop, "--timeout", "4")
    assert code == 1 and 3 < waited < 30, text
    assert re.search(r"FAIL \S+: rank 0 did not finish within 4 s \(--timeout\); rank 1 did not respond", text), text


@needs_torch
@posix_only
def test_a_store_frozen_mid_request_is_a_fail_naming_the_store(repo_root, tmp_path):
    """A client of rank 0's store sends the first byte of a request and no more, as a rank stopped in the middle of
    a request does. torch < 2.4's store server reads a request to its end with blocking reads, so the whole store
    stops answering: rank 0 FAILs naming the store and exits 1 (it raised out of a step and exited 3 before). The
    libuv store of torch >= 2.4 serves the others meanwhile: the run passes."""
    pair = Ranks(repo_root, tmp_path, "--timeout", "20", *BUSY)
    try:
        assert pair.wait_for("PASS init:"), "".join(pair.lines)
        with socket.create_connection(("127.0.0.1", int(pair.port))) as stalled:
            stalled.sendall(bytes([2]))  # the query type of a request (2: ADD in torch 2.0.1's TCPStore), then nothing
            code, text, waited = pair.finish()
    finally:
        pair.close()
    text += (tmp_path / "rank0.err").read_text()
    assert "Traceback" not in text and "internal error" not in text, text
    if not _blocking_store_server():
        assert code == 0, text
        return
    assert code == 1 and waited < 45, text
    fail = next(line for line in text.splitlines() if line.startswith("FAIL "))
    assert "rendezvous store" in fail, text
    assert "fix:      the store at 127.0.0.1:%s (rank 0 hosts it) stopped answering: on torch 2." % pair.port in text


def stopped_rank_run(repo_root, tmp_path, fault, *args):
    """fault_after_init() for a fault that SIGSTOPs rank 1, run once more where the first run met the store freeze
    of torch < 2.4 (test_a_hung_rank_is_named_after_the_timeout says why; seen twice in CI on torch 2.0.1, once in
    each of the two tests that stop rank 1): rank 0 then rightly says the store did not answer, which is not what
    these tests are about. The output returned ends with rank 0's stderr, for the assertion messages."""
    code, text, waited = fault_after_init(repo_root, tmp_path, fault, *args)
    if "the rendezvous store did not answer" in text and _blocking_store_server():
        tmp_path = tmp_path / "again"
        tmp_path.mkdir()
        code, text, waited = fault_after_init(repo_root, tmp_path, fault, *args)
    return code, text + "\n[rank 0's stderr]\n" + (tmp_path / "rank0.err").read_text(), waited


def _blocking_store_server():
    """True for a torch whose TCPStore server is the one before libuv (torch < 2.4, where libuv became its default)."""
    import torch

    return tuple(int(x) for x in torch.__version__.split(".")[:2]) < (2, 4)


@needs_torch
@posix_only
def test_sigterm_mid_collective_still_reports_the_silent_rank(repo_root, tmp_path):
    """torchrun SIGTERMs the survivors when a rank exits: rank 0, blocked in a collective, still names rank 1."""
    code, text, waited = stopped_rank_run(repo_root, tmp_path, stop_rank1_then_terminate_rank0, "--timeout", "60")
    assert code == 1 and waited < 30, text
    assert re.search(r"FAIL \S+: rank 0 stopped by SIGTERM .*; rank 1 did not respond", text), text


@pytest.mark.gpu
def test_nccl_on_this_machine_s_gpus_passes(repo_root, tmp_path, report_schema):
    """On a GPU machine: NCCL over up to 2 GPUs under torchrun joins, sums exactly and measures (1 GPU: no busbw)."""
    import torch

    gpus, out = min(2, torch.cuda.device_count()), tmp_path / "nccl.json"
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", str(gpus)]
    launcher += ["--master-addr", "127.0.0.1", "--master-port", free_port(), "-m", "checks", "dist"]
    command = launcher + ["--device", "cuda", "--quick", "--json", str(out)]
    proc = subprocess.run(command, cwd=str(repo_root), env=child_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc, by_name = load_report(out, report_schema)
    assert doc["header"]["backend"].startswith("nccl") and by_name["all-reduce"]["status"] == "PASS"
    assert by_name["busbw"]["status"] == ("PASS" if gpus > 1 else "SKIP")


@needs_torch
def test_usage_errors_exit_2_in_one_line(repo_root):
    """Bad options and half a launch environment: one line with the fix, exit 2."""
    for args, env, needle in (
        (["--timeout", "0"], {}, "argument --timeout: '0': give a finite positive number of seconds"),
        (["--device", "tpu"], {}, "invalid choice"),
        ([], {"RANK": "0"}, "python -m checks dist: error: RANK is set but not WORLD_SIZE"),
    ):
        command = [sys.executable, "-m", "checks", "dist"] + args
        proc = subprocess.run(command, cwd=str(repo_root), env=child_env(**env), capture_output=True, text=True)
        assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


@needs_torch
def test_nproc_starts_a_local_world_without_torchrun(repo_root, tmp_path, report_schema):
    """`python -m checks dist --nproc 2` (what `pixi run dist` does on one machine): 2 ranks join and pass."""
    out = tmp_path / "local.json"
    proc = run_dist(repo_root, "--nproc", "2", "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "dist: starting 2 processes on this machine" in proc.stderr
    doc, by_name = load_report(out, report_schema)
    assert doc["header"]["launcher"] == "RANK/WORLD_SIZE" and by_name["rank-1"]["status"] == "PASS"
    assert by_name["busbw"]["status"] == "PASS"


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_nproc_must_be_a_count_gpu_or_auto(repo_root, value):
    """A bad --nproc is a usage error (exit 2) naming the accepted values."""
    proc = run_dist(repo_root, "--nproc", value)
    assert proc.returncode == 2 and "--nproc" in proc.stderr and "Traceback" not in proc.stderr
