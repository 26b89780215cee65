"""Tests of checks/distributed/absence.py: why ranks missed the roll-call, from the launch's variables as torchrun
and SLURM export them (torch/distributed/elastic/agent/server/local_elastic_agent.py: RANK, LOCAL_RANK, GROUP_RANK,
LOCAL_WORLD_SIZE, WORLD_SIZE, GROUP_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RUN_ID; sbatch(1)/srun(1)
"OUTPUT ENVIRONMENT VARIABLES": SLURM_JOB_ID, SLURM_JOB_NUM_NODES, SLURM_JOB_NODELIST, SLURM_NTASKS, SLURM_PROCID),
and the processes of the job on this host read from /proc/<pid>/environ (proc(5): NUL-separated NAME=value)."""

import os
import subprocess
import sys
import time

import pytest

from checks.distributed import absence
from checks.distributed import command as dist
from checks.report import FAIL, Result

PORT = "29517"


def world(environ, peers=None, proc_read=True):
    """The World of rank RANK under `environ`, with `peers` ({RANK: pid}) as the scan of /proc would find them."""
    launch = dist.launch_env(environ)
    found = absence.collect(environ, launch, proc="/nonexistent-proc")
    return found.__class__(**dict(found.__dict__, peers=peers if peers is not None else {0: 100}, peers_read=proc_read))


def torchrun_env(**extra):
    env = dict(RANK="0", LOCAL_RANK="0", GROUP_RANK="0", MASTER_PORT=PORT, TORCHELASTIC_RUN_ID="pith-4471")
    env.update(extra)
    return env


def test_a_world_larger_than_the_processes_started_names_the_ranks_never_started():
    """h7-10098's launch: WORLD_SIZE=2 and LOCAL_WORLD_SIZE=2 exported as for two processes, only rank 0 runs."""
    env = dict(
        RANK="0", LOCAL_RANK="0", WORLD_SIZE="2", LOCAL_WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=PORT
    )
    found = absence.why_missing(world(env, {0: 4242}), [1])
    assert found.meaning.startswith("WORLD_SIZE=2 but only 1 process of this job runs on this host (rank 0)")
    assert "rank 1 never started" in found.meaning
    assert "`torchrun --nproc-per-node 2`" in found.fix and "`srun --ntasks 2`" in found.fix
    assert (
        found.fact
        == "processes with this job's MASTER_ADDR, MASTER_PORT and WORLD_SIZE on this host: RANK=0 (pid 4242)"
    )


def test_by_hand_without_local_world_size_a_loopback_store_means_one_host():
    """RANK/WORLD_SIZE set by hand with MASTER_ADDR=127.0.0.1: only this host's processes reach the store, so every
    rank belongs here; ranks 0 and 1 of 4 joined from here (1 has ended since), 2 and 3 do not run."""
    env = dict(RANK="0", WORLD_SIZE="4", MASTER_ADDR="127.0.0.1", MASTER_PORT=PORT)
    found = absence.why_missing(world(env, {0: 10}), [2, 3], joined_here=(0, 1))
    assert found.meaning.startswith("WORLD_SIZE=4 but only 2 processes of this job run on this host (ranks 0, 1)")
    assert "ranks 2, 3 never started" in found.meaning


def test_a_rank_that_runs_here_but_did_not_join_is_not_called_never_started():
    env = dict(
        RANK="0", LOCAL_RANK="0", WORLD_SIZE="2", LOCAL_WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=PORT
    )
    found = absence.why_missing(world(env, {0: 10, 1: 11}), [1])
    assert found.meaning == "rank 1 runs on this host (pid 11) but did not join within the timeout"
    assert "never started" not in found.meaning + found.fix


def test_a_loopback_master_in_a_job_across_nodes_is_the_cause():
    """h7-91's launch: torchrun on node 0 of a 2-node SLURM job whose endpoint fell back to localhost."""
    env = torchrun_env(
        WORLD_SIZE="2",
        LOCAL_WORLD_SIZE="1",
        MASTER_ADDR="localhost",
        SLURM_JOB_ID="4471",
        SLURM_JOB_NUM_NODES="2",
        SLURM_JOB_NODELIST="gpu-[017-018]",
        SLURMD_NODENAME="gpu-017",
        SLURM_NODEID="0",
        SLURM_PROCID="0",
        SLURM_NTASKS="2",
    )
    found = absence.why_missing(world(env), [1])
    assert found.meaning.startswith("MASTER_ADDR=localhost is a loopback address (127.0.0.1")
    assert "the world spans 2 nodes (WORLD_SIZE=2 with LOCAL_WORLD_SIZE=1, SLURM_JOB_NUM_NODES=2)" in found.meaning
    assert "each node's ranks look for the store on their own node" in found.meaning
    assert 'scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1' in found.fix
    assert "--nproc-per-node" not in found.fix


def test_a_routable_master_across_nodes_leaves_the_other_nodes_unjudged():
    """Rank 1 on another node with MASTER_ADDR a real address: nothing here says why it is missing."""
    env = torchrun_env(WORLD_SIZE="2", LOCAL_WORLD_SIZE="1", MASTER_ADDR="10.0.0.1", GROUP_WORLD_SIZE="2")
    assert absence.why_missing(world(env), [1]) is None


def test_two_torchrun_agents_on_one_host_are_not_blamed_on_loopback():
    """torchrun --nnodes 2 twice on one machine (a test of a two-node launch): the missing rank runs here."""
    env = torchrun_env(WORLD_SIZE="2", LOCAL_WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", GROUP_WORLD_SIZE="2")
    found = absence.why_missing(world(env, {0: 10, 1: 11}), [1])
    assert "loopback" not in found.meaning and "runs on this host (pid 11)" in found.meaning


def test_a_world_needing_more_nodes_than_the_job_has():
    """The Lightning report's job: 2 nodes x 4 GPUs asked of the launcher, 1 node allocated by SLURM."""
    env = torchrun_env(
        RANK="0", WORLD_SIZE="8", LOCAL_WORLD_SIZE="4", MASTER_ADDR="node-3", SLURM_JOB_ID="88", SLURM_NNODES="1"
    )
    found = absence.why_missing(world(env), [4, 5, 6, 7])
    assert "WORLD_SIZE=8 with LOCAL_WORLD_SIZE=4 processes per node needs 2 nodes, but SLURM job 88 has 1" in (
        found.meaning
    )
    assert "#SBATCH --nodes=2" in found.fix


def test_srun_starting_fewer_tasks_than_world_size():
    """WORLD_SIZE exported by hand as 8, RANK=$SLURM_PROCID, srun started 4 tasks."""
    env = dict(RANK="0", WORLD_SIZE="8", MASTER_ADDR="node-3", MASTER_PORT=PORT, SLURM_JOB_ID="9")
    env.update(SLURM_PROCID="0", SLURM_NTASKS="4", SLURM_STEP_NUM_TASKS="4", SLURM_JOB_NUM_NODES="1")
    found = absence.why_missing(world(env), [4, 5, 6, 7])
    assert (
        found.meaning == "WORLD_SIZE=8 but srun started only 4 tasks (SLURM_NTASKS=4): ranks 4, 5, 6, 7 never started"
    )
    assert "`srun --ntasks 8`" in found.fix


def test_unreadable_proc_decides_nothing_about_local_ranks():
    env = dict(RANK="0", WORLD_SIZE="2", LOCAL_WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=PORT)
    assert absence.why_missing(world(env, {}, proc_read=False), [1]) is None


def test_peers_are_read_from_environ_files_shaped_like_procs(tmp_path):
    """A fake /proc: pid 10 is rank 0 of this job, 11 rank 1 of another port, 12 has no RANK, 13 is unreadable."""
    job = dict(MASTER_ADDR="127.0.0.1", MASTER_PORT=PORT, WORLD_SIZE="2")
    for pid, env in (("10", dict(job, RANK="0")), ("11", dict(job, RANK="1", MASTER_PORT="1")), ("12", job)):
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "environ").write_bytes(
            b"".join(b"%s=%s\0" % (k.encode(), v.encode()) for k, v in env.items())
        )
    (tmp_path / "13").mkdir()
    (tmp_path / "self").mkdir()
    assert absence.peers(job, str(tmp_path)) == ({0: 10}, True)
    assert absence.peers(job, str(tmp_path / "missing")) == ({}, False)


def test_peers_finds_a_real_rank_process_on_this_host():
    job = dict(MASTER_ADDR="127.0.0.1", MASTER_PORT=PORT, WORLD_SIZE="3", RANK="0")
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], env=dict(os.environ, **dict(job, RANK="2"))
    )
    try:
        time.sleep(0.2)
        found, read = absence.peers(job)
    finally:
        child.kill()
        child.wait()
    assert read and found.get(2) == child.pid


def test_the_roll_call_fail_carries_the_cause_and_its_fix():
    env = dict(
        RANK="0", WORLD_SIZE="2", LOCAL_WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=PORT, LOCAL_RANK="0"
    )
    base = Result(name="init", status=FAIL, summary="1 of 2 ranks joined within 5 s; missing: rank 1", data={"a": 1})
    judged = dist.judge_absence(base, [1], dist.launch_env(env), (0,), env, proc="/nonexistent-proc")
    assert judged.summary == base.summary  # /proc unreadable: nothing decided, the result is kept
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc here")
    judged = dist.judge_absence(base, [1], dist.launch_env(env), (0,), env)
    assert judged.summary.startswith(base.summary + ": WORLD_SIZE=2 but only") and judged.data["a"] == 1
    assert judged.hint.startswith("start as many processes as WORLD_SIZE=2")


def test_rank_1_on_the_other_node_names_the_loopback_address_too(repo_root):
    """Node 1's side of h7-91: rank 1 with MASTER_ADDR=localhost finds nothing listening on its own node; its one
    line names the loopback address in a 2-node job, exit 1, no traceback."""
    drop = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_", "SLURM_", "TORCHELASTIC", "GROUP_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(RANK="1", LOCAL_RANK="0", WORLD_SIZE="2", LOCAL_WORLD_SIZE="1", GROUP_RANK="1")
    env.update(MASTER_ADDR="localhost", MASTER_PORT=dist_port(), TORCHELASTIC_RUN_ID="pith-4471")
    env.update(SLURM_JOB_ID="4471", SLURM_JOB_NUM_NODES="2", SLURM_JOB_NODELIST="gpu-[017-018]", SLURM_NODEID="1")
    proc = subprocess.run(
        [sys.executable, "-m", "checks", "dist", "--device", "cpu", "--quick", "--timeout", "3"],
        cwd=str(repo_root),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("dist: rank 1: error: nothing answers on MASTER_ADDR:MASTER_PORT=localhost:")
    assert "MASTER_ADDR=localhost is a loopback address" in proc.stderr and "scontrol show hostnames" in proc.stderr
    assert "Traceback" not in proc.stderr


def dist_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])
