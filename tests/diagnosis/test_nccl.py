"""Tests for checks/diagnosis/nccl.py: NCCL's shared-memory segments judged against /dev/shm's facts. Each text is
NCCL's or torch's as a public report quotes it (sources at each)."""

import pytest
from diagnosis_facts import facts_for, site

from checks import diagnosis

MIB = 1 << 20
GIB = 1 << 30

POSIX_FALLOCATE = (  # NVIDIA/nccl#342: NCCL 2.7.3 in Docker, /dev/shm at Docker's 64 MB default
    "include/shm.h:28 NCCL WARN Call to posix_fallocate failed: No space left on device\n"
    "include/shm.h:48 NCCL WARN Error while creating shared memory segment nccl-shm-recv-250a7cc850ba9298-0-1-3 "
    "(size 9637888)"
)
EXTEND = (  # pytorch/ci-infra#490: NCCL >= 2.19's shmutils.cc text
    "[0] misc/shmutils.cc:88 NCCL WARN Error: failed to extend /dev/shm/nccl-WU88OE to 9637892 bytes, error: No "
    "space left on device (28)\n"
    "[0] misc/shmutils.cc:132 NCCL WARN Error while creating shared memory segment /dev/shm/nccl-WU88OE (size "
    "9637888), error: No space left on device (28)"
)
DENIED = (  # pytorch/pytorch#37004: /dev/shm not writable for the user
    "node08:27106:27302 [0] include/shm.h:27 NCCL WARN Call to shm_open failed : Permission denied\n"
    "node08:27106:27302 [0] include/shm.h:48 NCCL WARN Error while creating shared memory segment "
    "nccl-shm-recv-b7948f403864987a-0-3-0 (size 4460544)\n"
    "RuntimeError: NCCL error in: /pytorch/torch/lib/c10d/ProcessGroupNCCL.cpp:290, unhandled system error"
)
BARE = (  # Tencent-Hunyuan/HunyuanVideo#114: the error alone, without NCCL_DEBUG
    "[rank0]: RuntimeError: NCCL Error 2: unhandled system error (run with NCCL_DEBUG=INFO for details)"
)


@pytest.mark.parametrize("text", [POSIX_FALLOCATE, EXTEND, BARE])
def test_a_docker_sized_dev_shm_is_the_cause_of_nccls_system_error(tmp_path, monkeypatch, text):
    prefix, packages = site(tmp_path)
    facts = facts_for(monkeypatch, prefix, [str(packages)], shm_bytes=64 * MIB, shm_free_bytes=60 * MIB)
    cause = diagnosis.explain(text, facts)
    assert cause.rule == "nccl"
    assert "/dev/shm (64.0 MiB" in cause.meaning and "NCCL" in cause.meaning
    assert "--shm-size" in cause.fix and "NCCL_SHM_DISABLE=1" in cause.fix
    assert "DataLoader" not in cause.meaning


def test_a_bare_system_error_is_not_blamed_on_a_middling_dev_shm(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    facts = facts_for(monkeypatch, prefix, [str(packages)], shm_bytes=512 * MIB, shm_free_bytes=512 * MIB)
    assert diagnosis.explain(BARE, facts).rule != "nccl"  # NCCL's words name no shared memory: other causes remain
    assert diagnosis.explain(POSIX_FALLOCATE, facts).rule == "nccl"  # its words do, and 512 MiB is small


def test_a_large_dev_shm_is_not_blamed(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    facts = facts_for(monkeypatch, prefix, [str(packages)], shm_bytes=16 * GIB, shm_free_bytes=15 * GIB)
    for text in (POSIX_FALLOCATE, BARE):
        assert diagnosis.explain(text, facts).rule != "nccl"


def test_a_full_dev_shm_names_the_leftovers(tmp_path, monkeypatch):  # NVIDIA/nccl#525 (sjeaugey: /dev/shm full)
    prefix, packages = site(tmp_path)
    facts = facts_for(monkeypatch, prefix, [str(packages)], shm_bytes=16 * GIB, shm_free_bytes=8 * MIB)
    cause = diagnosis.explain(EXTEND, facts)
    assert cause.rule == "nccl" and "full" in cause.meaning and "ls -la /dev/shm" in cause.fix


def test_a_dev_shm_this_user_may_not_write(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    facts = facts_for(monkeypatch, prefix, [str(packages)], shm_bytes=16 * GIB, shm_free_bytes=16 * GIB)
    cause = diagnosis.explain(DENIED, facts)
    assert cause.rule == "nccl" and "Permission denied" in cause.meaning and "chmod 1777 /dev/shm" in cause.fix


DUPLICATE = (  # torch 2.0's NCCL error quoting NCCL 2.14.3's warning after `Last error:` (NCCL's init.cc text)
    "torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1275, "
    "internal error, NCCL version 2.14.3\nncclInternalError: Internal check failed.\nLast error:\n"
    "Duplicate GPU detected : rank 0 and rank 4 both on CUDA device 7000"
)


def test_two_ranks_on_one_gpu_name_the_device_and_set_device(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    facts = facts_for(monkeypatch, prefix, [str(packages)])
    cause = diagnosis.explain(DUPLICATE, facts)
    assert cause.rule == "nccl" and "ranks 0 and 4 of this job both use the GPU at PCI bus 7000" in cause.meaning
    assert "torch.cuda.set_device(int(os.environ['LOCAL_RANK']))" in cause.fix
