"""Tests for checks/verify_gpu.py, in-process with synthetic facts: GPU verdicts without a GPU."""

from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch", reason="the install checks need torch")

from checks.report import FAIL, PASS, WARN  # noqa: E402
from checks.verify import gpu as verify_gpu  # noqa: E402

NO_DRIVER = {"present": False, "version": None, "cuda": None, "gpus": [], "smi": None, "smi_error": None}


def fake_torch(cuda="11.8", arch=("sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90")):
    """A stand-in for torch with a given CUDA runtime and arch list."""
    return SimpleNamespace(
        __version__="2.0.1+cu118",
        version=SimpleNamespace(cuda=cuda, hip=None),
        cuda=SimpleNamespace(get_arch_list=lambda: list(arch)),
    )


def gpu_ctx(capability, name="NVIDIA GeForce RTX 5090", **torch_kwargs):
    """A context with one working GPU of the given compute capability."""
    device = {"name": name, "capability": list(capability), "memory_gib": 31.4, "sms": 170}
    return SimpleNamespace(
        torch=fake_torch(**torch_kwargs),
        gpu_ok=True,
        gpu={"available": True, "count": 1, "devices": [device], "kernel_ok": True},
    )


def test_blackwell_on_torch20_fails_and_points_to_latest():
    """sm_120 with a 2.0 build: FAIL naming the arch and the `latest` environment."""
    result = verify_gpu.check_gpu_arch(gpu_ctx((12, 0)))
    assert result.status == FAIL
    assert "no kernels for sm_120" in result.summary and "latest" in result.hint


def test_hopper_on_cu117_fails_and_points_to_cu118():
    """sm_90 with the cu117 arch list (no sm_90, no PTX): FAIL pointing at cu118."""
    arch = ("sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86")
    result = verify_gpu.check_gpu_arch(gpu_ctx((9, 0), name="NVIDIA H100", arch=arch))
    assert result.status == FAIL and "cu118" in result.hint


def test_ada_runs_ampere_kernels():
    """sm_89 runs the build's sm_86 kernels: PASS."""
    result = verify_gpu.check_gpu_arch(gpu_ctx((8, 9), name="NVIDIA L4"))
    assert result.status == PASS and "sm_86" in result.summary


@pytest.mark.parametrize("driver, status", [("535.104.05", PASS), ("470.82.01", WARN), ("440.33.01", FAIL)])
def test_driver_against_cuda_118(driver, status):
    """Driver floors for CUDA 11.8: full support, minor-version compatibility, too old."""
    info = dict(NO_DRIVER, present=True, version=driver, cuda="12.2")
    ctx = SimpleNamespace(torch=fake_torch(), driver=info, expect=None)
    assert verify_gpu.check_driver(ctx).status == status


@pytest.mark.parametrize("override, status", [(None, FAIL), ("11.8", "SKIP")])
def test_a_cuda_environment_without_a_driver(monkeypatch, override, status):
    """No driver where CUDA is promised: FAIL, unless CONDA_OVERRIDE_CUDA says this is a GPU-less CI runner."""
    if override is None:
        monkeypatch.delenv("CONDA_OVERRIDE_CUDA", raising=False)
    else:
        monkeypatch.setenv("CONDA_OVERRIDE_CUDA", override)
    expect = SimpleNamespace(flavour="cuda", cuda="11.8.*", describe=lambda: "cu118 on linux-64-cu118")
    ctx = SimpleNamespace(torch=fake_torch(), driver=NO_DRIVER, expect=expect)
    result = verify_gpu.check_driver(ctx)
    assert result.status == status
    assert ("CONDA_OVERRIDE_CUDA=11.8" in result.summary) == (override is not None)
