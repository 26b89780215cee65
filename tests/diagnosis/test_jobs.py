"""Tests for the rule memory-limit (checks/diagnosis/jobs.py): a process of the job killed by SIGKILL under a memory
cgroup whose OOM killer counted kills. The failure texts are the ones torch and its launchers print: torch's
DataLoader (torch/csrc/DataLoader.cpp: `DataLoader worker (pid %d) is killed by signal: %s.`, strsignal(SIGKILL) =
`Killed`; torch/utils/data/dataloader.py: `DataLoader worker (pid(s) {}) exited unexpectedly`), as in
github.com/pytorch/pytorch/issues/8976; torchrun's failure summary (torch/distributed/elastic/multiprocessing/
errors: `exitcode  : -9`, `Signal 9 (SIGKILL) received by PID`). The SLURM variables are the ones sbatch exports for
`#SBATCH --cpus-per-task=2` and `--mem-per-cpu=4G` (sbatch(1), OUTPUT ENVIRONMENT VARIABLES)."""

import dataclasses

import fakes
import pytest
from diagnosis_facts import facts_for, site

from checks import diagnosis
from checks.machine import scheduler, system

WORKER_KILLED = "RuntimeError: DataLoader worker (pid 2031) is killed by signal: Killed."
WORKER_GONE = "RuntimeError: DataLoader worker (pid(s) 2030, 2031) exited unexpectedly"
TORCHRUN = """torch.distributed.elastic.multiprocessing.errors.ChildFailedError:
============================================================
train.py FAILED
------------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2024-03-02_10:11:12
  host      : node-112
  rank      : 1 (local_rank: 1)
  exitcode  : -9 (pid: 40211)
  error_file: <N/A>
  traceback : Signal 9 (SIGKILL) received by PID 40211
============================================================"""
SLURM = {
    "SLURM_JOB_ID": "5521907",
    "SLURM_CPUS_PER_TASK": "2",
    "SLURM_CPUS_ON_NODE": "2",
    "SLURM_MEM_PER_CPU": "4096",
    "SLURMD_NODENAME": "node-112",
}
LIMIT = system.MemoryLimit(8 << 30, "/sys/fs/cgroup/memory/slurm/uid_1000/job_5521907", 1, 8 << 30, 1)


def facts(tmp_path, monkeypatch, memory=LIMIT, environ=SLURM):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], memory=memory)
    return dataclasses.replace(found, job=scheduler.collect(environ))


@pytest.mark.parametrize("text", [WORKER_KILLED, WORKER_GONE, TORCHRUN])
def test_a_kill_under_a_memory_limit_that_counted_oom_kills_is_the_job_s_limit(tmp_path, monkeypatch, text):
    cause = diagnosis.explain(text, facts(tmp_path, monkeypatch))
    assert cause.rule == "memory-limit"
    assert cause.meaning.startswith("the job reached its memory cgroup limit (8192 MiB, peak use 8192 MiB)")
    assert "OOM killer killed one of its processes (memory.oom_control: oom_kill 1)" in cause.meaning
    assert "SLURM job 5521907 (node node-112) asked for --mem-per-cpu=4096M (SLURM_MEM_PER_CPU) x 2 CPUs" in (
        cause.meaning
    )
    assert "a larger --mem-per-cpu than 4096M" in cause.fix and "fewer DataLoader workers" in cause.fix
    assert cause.fact.endswith("job_5521907/memory.limit_in_bytes 8589934592, memory.oom_control oom_kill 1")


def test_outside_a_scheduler_the_fix_names_the_container_s_limit(tmp_path, monkeypatch):
    v2 = system.MemoryLimit(2 << 30, "/sys/fs/cgroup/system.slice/docker-4f3c.scope", 2, None, 3)
    cause = diagnosis.explain(WORKER_KILLED, facts(tmp_path, monkeypatch, v2, {}))
    assert "(memory.events: oom_kill 3): a DataLoader worker died of it" in cause.meaning
    assert cause.fix.startswith("raise the memory limit of the container or cgroup (`docker run --memory`")


@pytest.mark.parametrize(
    "memory, text",
    [
        (dataclasses.replace(LIMIT, oom_kills=0), WORKER_KILLED),  # no kill counted: something else killed it
        (dataclasses.replace(LIMIT, oom_kills=None), WORKER_KILLED),  # a kernel that does not count them
        (dataclasses.replace(LIMIT, oom_kills_at_start=1), WORKER_KILLED),  # the one kill was before this command
        (None, WORKER_KILLED),  # no memory limit
        (LIMIT, "RuntimeError: DataLoader worker (pid 2031) is killed by signal: Bus error."),  # not a SIGKILL
    ],
)
def test_the_rule_needs_both_the_kill_and_the_counted_oom_kill(tmp_path, monkeypatch, memory, text):
    """Without a counted kill the limit is not blamed: a SIGKILL is named as one, with the kernel log as the test."""
    cause = diagnosis.explain(text, facts(tmp_path, monkeypatch, memory))
    assert cause.rule != "memory-limit" and "reached its memory cgroup limit" not in cause.meaning
    if "Bus error" not in text:  # the kill is still named, without blaming the limit (rule 4i)
        assert cause.rule == "killed"
        assert cause.meaning.startswith("a DataLoader worker died of SIGKILL") and "dmesg" in cause.fix


@fakes.cgroup_v1("memory", "memory.limit_in_bytes")
def test_a_real_dataloader_worker_killed_by_the_group_s_oom_killer(repo_root, tmp_path):
    """A real torch DataLoader in a 384 MiB memory group: its worker (oom_score_adj 1000, the first victim) allocates
    1 GiB and is killed; the main process's error, judged with the facts gathered after it, names the limit."""
    pytest.importorskip("torch")
    judge = """
import torch
from checks import diagnosis, errors


class Greedy(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
        block = bytearray(1 << 30)
        return len(block)


try:
    list(torch.utils.data.DataLoader(Greedy(), num_workers=1, timeout=60))
except Exception as exc:
    cause = diagnosis.explain(errors.traceback_text(exc), diagnosis.gather())
    print(cause.rule)
    print(cause.meaning)
"""
    name = "pytest-%s" % tmp_path.name
    proc = fakes.in_cgroup_v1("memory", name, {"memory.limit_in_bytes": 384 << 20}, judge, repo_root, timeout=300)
    lines = proc.stdout.splitlines()
    assert lines[:1] == ["memory-limit"], proc.stdout + proc.stderr
    assert "the job reached its memory cgroup limit (384 MiB" in lines[1]
