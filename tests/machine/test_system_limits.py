"""Tests for checks/machine/system.py's CPU quota, inodes and locked-memory facts and their os-line judgement. The
cgroup trees are laid out under tmp_path as the kernel shows them (/proc/self/cgroup lines
`hierarchy-ID:controller-list:cgroup-path`, man 7 cgroups; v1 cpu.cfs_quota_us holding -1 or microseconds and
cpu.cfs_period_us, scheduler/sched-bwc.rst; v2 cpu.max "max 100000" or "150000 100000", admin-guide/cgroup-v2.rst);
where root and the kernel allow, the limits are real: a cgroup-v1 cpu group, a tmpfs with nr_inodes in a private
mount namespace, RLIMIT_MEMLOCK set with setrlimit in the child."""

import dataclasses
import os
import resource
import subprocess
import sys

import fakes
import pytest

from checks.machine import system

V1_CPU = """12:pids:/docker/4f3c
5:cpu,cpuacct:/docker/4f3c
1:name=systemd:/docker/4f3c
0::/
"""


def test_a_v1_quota_is_read_from_the_cpu_hierarchy(tmp_path):
    """Docker --cpus=1.5 on a cgroup-v1 host: quota 150000 per period 100000 in cpu,cpuacct/docker/<id>."""
    proc, root = fakes.cgroup_tree(
        tmp_path,
        V1_CPU,
        {"cpu,cpuacct/docker/4f3c/cpu.cfs_quota_us": "150000", "cpu,cpuacct/docker/4f3c/cpu.cfs_period_us": "100000"},
    )
    found = system.cpu_quota(proc, root)
    assert (found.quota_us, found.period_us, found.version) == (150000, 100000, 1)
    assert found.cpus() == 1.5 and found.threads() == 1
    assert found.cgroup.endswith("docker/4f3c")


def test_the_tightest_v2_quota_up_to_the_root_bites(tmp_path):
    proc, root = fakes.cgroup_tree(
        tmp_path,
        "0::/kubepods/pod1/ctr\n",
        {"kubepods/pod1/ctr/cpu.max": "max 100000", "kubepods/pod1/cpu.max": "400000 100000", "cpu.max": "max 100000"},
    )
    found = system.cpu_quota(proc, root)
    assert (found.quota_us, found.period_us, found.version, found.threads()) == (400000, 100000, 2, 4)


def test_no_quota_set_is_none(tmp_path):
    proc, root = fakes.cgroup_tree(
        tmp_path,
        V1_CPU,
        {"cpu,cpuacct/docker/4f3c/cpu.cfs_quota_us": "-1", "cpu,cpuacct/docker/4f3c/cpu.cfs_period_us": "100000"},
    )
    assert system.cpu_quota(proc, root) is None
    proc, root = fakes.cgroup_tree(tmp_path, "0::/user.slice\n", {"user.slice/cpu.max": "max 100000"})
    assert system.cpu_quota(proc, root) is None


@pytest.mark.parametrize("quota, threads, warned", [(100000, 2, True), (50000, 2, True), (200000, 2, False)])
def test_pools_larger_than_the_quota_are_a_warning(quota, threads, warned):
    facts = fakes.healthy_system(cpu_quota=system.CpuQuota(quota, 100000, "/sys/fs/cgroup/cpu/job", 1), threads=threads)
    found = [p for p in system.problems(facts) if "CPU quota" in p.what]
    assert bool(found) == warned
    if warned:
        assert found[0].status == "WARN" and "cpu.cfs_quota_us %d" % quota in found[0].what
        assert "OMP_NUM_THREADS=1" in found[0].fix and "torch.set_num_threads(1)" in found[0].fix


@fakes.cgroup_v1("cpu", "cpu.cfs_quota_us")
def test_a_real_cpu_group_quota_is_read_by_a_process_inside_it(repo_root, tmp_path):
    judge = "from checks.machine import system\nprint(system.cpu_quota())\n"
    name = "pytest-%s" % tmp_path.name
    settings = {"cpu.cfs_period_us": 100000, "cpu.cfs_quota_us": 100000}
    proc = fakes.in_cgroup_v1("cpu", name, settings, judge, repo_root)
    group = "/sys/fs/cgroup/cpu/" + name
    assert "quota_us=100000, period_us=100000" in proc.stdout and group in proc.stdout, proc.stdout + proc.stderr


def test_inodes_running_out_are_a_warning_with_the_variable_that_moves_them():
    full = system.Inodes("torch.compile (inductor)", "/scratch/inductor", "TORCHINDUCTOR_CACHE_DIR", "/scratch", 0,
                         2000, 64 << 20)  # fmt: skip
    (found,) = system.problems(fakes.healthy_system(inodes=(full,)))
    assert "no free inodes (0 of 2000; 64.0 MiB free)" in found.what
    assert "`df -i /scratch`" in found.fix and "export TORCHINDUCTOR_CACHE_DIR=" in found.fix
    btrfs = dataclasses.replace(full, total=0)  # no fixed inode table: statvfs reports f_files 0
    plenty = dataclasses.replace(full, free=1 << 20, total=1 << 21)
    assert system.problems(fakes.healthy_system(inodes=(btrfs, plenty))) == []


@fakes.PRIVATE_MOUNTS
def test_a_real_tmpfs_without_free_inodes_is_read_with_its_mount(repo_root, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    judge = (
        "from checks.machine import system\nf = system.inodes('x', %r)\nprint(f.mount, f.free, f.total, f.exhausted())"
        % str(scratch / "inductor")
    )
    proc = fakes.in_private_mount(fakes.INODELESS_TMPFS, scratch, judge, PYTHONPATH=str(repo_root))
    assert proc.stdout.split() == [str(scratch), "0", "64", "True"], proc.stdout + proc.stderr


def test_the_locked_memory_limit_is_read_as_set(repo_root):
    """`ulimit -l 8192` (KiB) as the report's host had it: setrlimit in the child, read back in bytes."""
    limit = 8192 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if hard != resource.RLIM_INFINITY and hard < limit:
        pytest.skip("the hard limit is below 8 MiB here")
    proc = subprocess.run(
        [sys.executable, "-c", "from checks.machine import system\nprint(system.locked_memory())"],
        env=dict(os.environ, PYTHONPATH=str(repo_root)),
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_MEMLOCK, (limit, limit)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.strip() == "(%d, %d)" % (limit, limit), proc.stderr


def test_rdma_devices_are_listed_from_sysfs(tmp_path):
    (tmp_path / "mlx5_1").mkdir()
    (tmp_path / "mlx5_0").mkdir()
    assert system.rdma_devices(str(tmp_path)) == ("mlx5_0", "mlx5_1")
    assert system.rdma_devices(str(tmp_path / "absent")) == ()


@pytest.mark.parametrize(
    "memlock, devices, warned",
    [((8 << 20, 8 << 20), ("mlx5_0",), True), ((-1, -1), ("mlx5_0",), False), ((8 << 20, 8 << 20), (), False)],
)
def test_a_finite_memlock_is_a_warning_only_with_rdma_devices(memlock, devices, warned):
    found = [
        p for p in system.problems(fakes.healthy_system(memlock=memlock, rdma_devices=devices)) if "ulimit -l" in p.what
    ]
    assert bool(found) == warned
    if warned:
        assert "8192 KiB" in found[0].what and "ulimit -l unlimited" in found[0].fix


def test_the_new_facts_are_in_the_report_dict():
    facts = fakes.healthy_system(
        cpu_quota=system.CpuQuota(100000, 100000, "/x", 2), memlock=(1, 2), rdma_devices=("mlx5_0",)
    )
    found = facts.to_dict()
    assert found["cpu_quota"] == {"quota_us": 100000, "period_us": 100000, "cgroup": "/x", "version": 2}
    assert found["memlock"] == (1, 2) and found["rdma_devices"] == ("mlx5_0",) and found["inodes"] == ()
