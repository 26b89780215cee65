"""Tests for checks/machine/system.py's cgroup memory limit (MemoryLimit): trees under tmp_path laid out as the kernel
shows them (kernel docs admin-guide/cgroup-v2.rst "Memory Interface Files": memory.max holding "max" or bytes,
memory.events `low 0` ... `oom_kill N` lines, memory.peak; cgroup-v1/memory.rst: memory.limit_in_bytes,
memory.max_usage_in_bytes, memory.oom_control `oom_kill_disable 0` / `under_oom 0` / `oom_kill N`), SLURM's v1
hierarchy (/slurm/uid_<uid>/job_<id>/step_<step>/task_<n>, task/cgroup) and, where root and a v1 memory hierarchy
allow, a real memory group whose OOM killer kills a child."""

import fakes

from checks.machine import system

# A SLURM job on a cgroup-v1 node: the limit on the job's group (--mem-per-cpu=4G x 2 CPUs), the OOM kill counted
# in the task's own group (v1 counts a kill in the victim's group only).
SLURM_V1 = """11:memory:/slurm/uid_1000/job_5521907/step_batch/task_0
5:cpu,cpuacct:/slurm/uid_1000/job_5521907/step_batch/task_0
0::/
"""
OOM_CONTROL = "oom_kill_disable 0\nunder_oom 0\noom_kill %d"
EVENTS = "low 0\nhigh 0\nmax 37\noom 2\noom_kill %d\noom_group_kill 0"
JOB = "memory/slurm/uid_1000/job_5521907"


def test_a_slurm_job_s_v1_limit_and_the_task_s_oom_kill_are_read(tmp_path):
    proc, root = fakes.cgroup_tree(
        tmp_path,
        SLURM_V1,
        {
            JOB + "/memory.limit_in_bytes": str(8 << 30),
            JOB + "/memory.max_usage_in_bytes": str(8 << 30),
            JOB + "/memory.oom_control": OOM_CONTROL % 0,
            JOB + "/step_batch/memory.limit_in_bytes": "9223372036854771712",  # none: PAGE_COUNTER_MAX pages
            JOB + "/step_batch/task_0/memory.oom_control": OOM_CONTROL % 1,
            "memory/memory.limit_in_bytes": "9223372036854771712",
        },
    )
    found = system.memory_limit(proc, root)
    assert (found.limit_bytes, found.version, found.peak_bytes, found.oom_kills) == (8 << 30, 1, 8 << 30, 1)
    assert found.cgroup.endswith("job_5521907")


def test_a_v2_limit_with_its_events(tmp_path):
    """Docker --memory=2g on a cgroup-v2 host: memory.max in the container's scope, memory.events counting kills."""
    scope = "system.slice/docker-4f3c.scope"
    proc, root = fakes.cgroup_tree(
        tmp_path,
        "0::/%s\n" % scope,
        {
            scope + "/memory.max": str(2 << 30),
            scope + "/memory.peak": str(2 << 30),
            scope + "/memory.events": EVENTS % 3,
            "system.slice/memory.max": "max",
        },
    )
    found = system.memory_limit(proc, root)
    assert (found.limit_bytes, found.version, found.oom_kills, found.peak_bytes) == (2 << 30, 2, 3, 2 << 30)


def test_the_count_at_this_process_s_first_reading_is_kept(tmp_path):
    """A kill before this command started (a previous step of the job) is told apart from one during it."""
    proc, root = fakes.cgroup_tree(
        tmp_path, "0::/job_3\n", {"job_3/memory.max": str(1 << 30), "job_3/memory.events": EVENTS % 2}
    )
    first = system.memory_limit(proc, root)
    assert (first.oom_kills, first.oom_kills_at_start, first.new_oom_kills()) == (2, None, 2)
    (tmp_path / "cgroup" / "job_3" / "memory.events").write_text(EVENTS % 3 + "\n")
    later = system.memory_limit(proc, root)
    assert (later.oom_kills, later.oom_kills_at_start, later.new_oom_kills()) == (3, 2, 1)


def test_no_limit_anywhere_is_none(tmp_path):
    proc, root = fakes.cgroup_tree(tmp_path, "0::/user.slice\n", {"user.slice/memory.max": "max"})
    assert system.memory_limit(proc, root) is None
    proc, root = fakes.cgroup_tree(tmp_path, SLURM_V1, {"memory/memory.limit_in_bytes": "9223372036854771712"})
    assert system.memory_limit(proc, root) is None


def test_kills_outside_the_limiting_group_are_not_counted(tmp_path):
    """A sibling job's kills (another branch of the tree) are not this job's."""
    proc, root = fakes.cgroup_tree(
        tmp_path,
        "0::/job_1/task_0\n",
        {"job_1/memory.max": str(1 << 30), "job_1/memory.events": EVENTS % 0, "job_2/memory.events": EVENTS % 4},
    )
    assert system.memory_limit(proc, root).oom_kills == 0


@fakes.cgroup_v1("memory", "memory.limit_in_bytes")
def test_a_real_memory_group_counts_the_kill_of_a_child_over_its_limit(repo_root, tmp_path):
    """64 MiB limit; a child allocating 256 MiB is killed by the OOM killer; the parent, inside the group, reads it."""
    judge = (
        "import subprocess, sys\n"
        "child = subprocess.run([sys.executable, '-c', 'b = bytearray(256 << 20)'])\n"
        "from checks.machine import system\n"
        "found = system.memory_limit()\n"
        "print(child.returncode, found.limit_bytes, found.oom_kills, found.cgroup)\n"
    )
    name = "pytest-%s" % tmp_path.name
    proc = fakes.in_cgroup_v1("memory", name, {"memory.limit_in_bytes": 64 << 20}, judge, repo_root)
    group = "/sys/fs/cgroup/memory/" + name
    assert proc.stdout.split() == ["-9", str(64 << 20), "1", group], proc.stdout + proc.stderr
