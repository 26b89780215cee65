"""Tests for checks/diagnosis/environment.py's rule os-limit: ENOSPC on a file system with no free inodes, and an
InfiniBand memory registration failing with ENOMEM under a finite RLIMIT_MEMLOCK. The failure texts are the ones
Python (OSError's `[Errno 28] No space left on device: PATH`, glibc's strerror) and NCCL (misc/ibvwrap.cc's
"Call to ibv_reg_mr_iova2 failed with error %s", under torch's ProcessGroupNCCL "unhandled system error") print."""

import dataclasses
import os

import fakes
import pytest
from diagnosis_facts import facts_for, site

from checks import diagnosis
from checks.machine import system

# torch 2.13's inductor, writing into its cache (as torch.compile re-raises it)
INDUCTOR_ENOSPC = "torch._inductor.exc.InductorError: OSError: [Errno 28] No space left on device: '%s/inductor/5u'"
# torch 2.0.1's ProcessGroupNCCL around NCCL 2.14's ibvwrap.cc warning (nccl-tests#206)
NCCL_REG_MR = (
    "torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1275, "
    "unhandled system error (run with NCCL_DEBUG=INFO for details), NCCL version 2.14.3\n"
    "ncclSystemError: System call (e.g. socket, malloc) or external library call failed or device error. \n"
    "Last error:\nmisc/ibvwrap.cc:278 NCCL WARN Call to ibv_reg_mr_iova2 failed with error Cannot allocate memory"
)


def statvfs_of(free, total):
    """An os.statvfs_result as a tmpfs mounted with size=64m,nr_inodes=`total` reports it."""
    return os.statvfs_result((4096, 4096, 16384, 16000, 16000, total, free, free, 0, 255))


def test_enospc_on_a_file_system_without_free_inodes_names_the_inodes(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    found = dataclasses.replace(
        facts_for(monkeypatch, prefix, [packages]), path_variables={"TORCHINDUCTOR_CACHE_DIR": "/scratch/inductor"}
    )
    monkeypatch.setattr(os, "statvfs", lambda path: statvfs_of(0, 2000))
    cause = diagnosis.explain(INDUCTOR_ENOSPC % "/scratch", found)
    assert cause.rule == "os-limit" and "no free inodes left (0 of 2000)" in cause.meaning
    assert "62.5 MiB are free" in cause.meaning
    assert "`df -i " in cause.fix and "export TORCHINDUCTOR_CACHE_DIR=" in cause.fix


def test_enospc_with_free_inodes_is_left_to_the_disk_rule(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], disk_free_bytes=0)
    monkeypatch.setattr(os, "statvfs", lambda path: statvfs_of(1500, 2000))
    cause = diagnosis.explain(INDUCTOR_ENOSPC % "/scratch", found)
    assert cause.rule != "os-limit" and "inode" not in cause.meaning
    monkeypatch.setattr(os, "statvfs", lambda path: statvfs_of(0, 0))  # btrfs: no fixed inode table
    assert diagnosis.explain(INDUCTOR_ENOSPC % "/scratch", found).rule != "os-limit"


def test_enospc_naming_no_path_is_judged_by_the_places_the_job_writes_to(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    full = system.Inodes("temporary files", "/scratch/tmp", "TMPDIR", "/scratch", 0, 2000, 64 << 20)
    found = facts_for(monkeypatch, prefix, [packages], inodes=(full,))
    cause = diagnosis.explain("OSError: [Errno 28] No space left on device", found)
    assert cause.rule == "os-limit" and "/scratch/tmp" in cause.meaning and "export TMPDIR=" in cause.fix


@pytest.mark.parametrize(
    "memlock, text, blamed",
    [
        ((8 << 20, 8 << 20), NCCL_REG_MR, True),
        ((-1, -1), NCCL_REG_MR, False),  # unlimited: the ENOMEM is the adapter's or the driver's
        ((8 << 20, 8 << 20), "RuntimeError: [Errno 12] Cannot allocate memory", False),  # not a registration
    ],
)
def test_ib_registration_enomem_is_judged_by_the_memlock_limit(tmp_path, monkeypatch, memlock, text, blamed):
    prefix, packages = site(tmp_path)
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages], memlock=memlock))
    assert (cause.rule == "os-limit") == blamed
    if blamed:
        assert "ibv_reg_mr_iova2" in cause.meaning and "8192 KiB" in cause.meaning
        assert "ulimit -l unlimited" in cause.fix and "--ulimit memlock=-1" in cause.fix
        assert cause.fact == "RLIMIT_MEMLOCK soft 8192 KiB, hard 8192 KiB"


@fakes.PRIVATE_MOUNTS
def test_a_real_tmpfs_out_of_inodes(repo_root, tmp_path):
    """A tmpfs with nr_inodes=64 filled with empty files: creating one more raises ENOSPC with bytes free, and the
    judgement reads the mount's statvfs and names the variable that chose the folder."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    judge = (
        "from checks import diagnosis\n"
        "try:\n    open(%r, 'w')\nexcept OSError as exc:\n    text = '%%s: %%s' %% (type(exc).__name__, exc)\n"
        "cause = diagnosis.explain(text, diagnosis.gather())\n"
        "print(cause.rule, cause.meaning, cause.fix, sep=chr(10))\n" % str(scratch / "inductor" / "kernel.py")
    )
    env = dict(PYTHONPATH=str(repo_root), TORCHINDUCTOR_CACHE_DIR=str(scratch / "inductor"))
    proc = fakes.in_private_mount(fakes.INODELESS_TMPFS, scratch, judge, **env)
    rule, meaning, fix = proc.stdout.strip().split("\n")
    assert rule == "os-limit" and "(%s) has no free inodes left (0 of 64)" % scratch in meaning, proc.stderr
    assert "`df -i %s`" % scratch in fix and "export TORCHINDUCTOR_CACHE_DIR=" in fix
