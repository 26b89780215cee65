"""Tests for checks/verify_install.py, in-process with synthetic facts: GPU verdicts without a GPU."""

from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch", reason="the install checks need torch")

from checks.report import FAIL  # noqa: E402
from checks.verify import install as verify_install  # noqa: E402
from checks.workspace import promise  # noqa: E402

# The driver facts as checks/nvidia/driver.py's facts() returns them on a machine without a driver (no kernel
# module, no libcuda, neither NVML nor nvidia-smi): the keys verify reads, no others.
NO_DRIVER = {
    "present": False,
    "version": None,
    "cuda": None,
    "gpus": [],
    "source": None,
    "state": None,
    "error": None,
    "meaning": None,
    "fix": None,
    "dropped": [],
}


def test_cpu_build_from_cpu_variant_in_cuda_environment_names_the_cause(monkeypatch, repo_root):
    """A CPU conda build where CUDA was promised: FAIL naming the package, channel and why."""
    record = {"version": "2.0.1", "build": "py3.10_cpu_0", "channel": "pytorch"}
    monkeypatch.setattr(verify_install.probe, "conda_record", lambda name: record)
    from checks.workspace import manifest

    ws = manifest.load(str(repo_root / "pixi.toml"))
    expect = promise.expect(ws, "cu118", "linux-64", {"__cuda": "12.0"})
    ctx = SimpleNamespace(
        torch=SimpleNamespace(__version__="2.0.1", version=SimpleNamespace(cuda=None, hip=None)),
        driver=NO_DRIVER,
        expect=expect,
    )
    result = verify_install.check_build(ctx)
    assert result.status == FAIL
    assert "CPU build, but cu118 on linux-64-cu118 promises CUDA" in result.summary
    assert (
        "py3.10_cpu_0 from channel pytorch" in result.summary
        and "pixi clean -e cu118 && pixi install -e cu118" in result.hint
    )


def test_cpu_build_on_a_gpu_machine_names_the_cuda_build_and_the_workspace_environment(monkeypatch, repo_root):
    """torch 2.13.0+cpu from pip, driver 535.161.07 (CUDA 12.2) with an RTX 4080, run in this repository: WARN build
    with the CUDA 12.6 wheel of 2.13.0 (its builds: 12.6, 13.0, 13.2) and this workspace's CUDA environment that
    pixi installs on CUDA 12.2 (cu118; `latest` declares CUDA 12.8, which this driver lacks), read from pixi.toml."""
    monkeypatch.chdir(repo_root)
    monkeypatch.setattr(verify_install.probe, "conda_record", lambda name, prefix=None: None)
    monkeypatch.setattr(verify_install.cuda_build, "installed_domain", lambda: {})
    monkeypatch.setattr(verify_install.cuda_build, "torch_copy", lambda: None)
    gpu = {"name": "NVIDIA GeForce RTX 4080", "memory_mib": 16376, "bus_id": "00000000:01:00.0", "compute_cap": "8.9"}
    ctx = SimpleNamespace(
        torch=SimpleNamespace(__version__="2.13.0+cpu", version=SimpleNamespace(cuda=None, hip=None)),
        driver=dict(NO_DRIVER, present=True, version="535.161.07", cuda="12.2", gpus=[gpu], source="nvidia-smi"),
        expect=None,
        host={"subdir": "linux-64"},
    )
    result = verify_install.check_build(ctx)
    assert result.status == "WARN" and "NVIDIA GeForce RTX 4080 goes unused" in result.summary
    assert "`pip install torch==2.13.0+cu126 --index-url https://download.pytorch.org/whl/cu126`" in result.hint
    assert result.hint.endswith("or in this workspace: `pixi run -e cu118 verify`")
