"""Tests for checks/machine/probe.py: the GPU probe (timeout, real error, signals), NVIDIA hardware evidence, the
build's architectures, conda records."""

import json
import os
import sys
from types import SimpleNamespace

import fakes
import pytest

from checks.machine import probe


def test_gpu_probe_that_hangs_is_bounded():
    """A probe child that hangs is killed at the timeout and reported as hung."""
    result = probe.gpu_probe(timeout=1, code="import time; time.sleep(60)")
    assert result["hung"] is True
    assert "did not answer within 1 s" in result["error"]


def test_gpu_probe_that_fails_reports_the_real_error_not_the_last_line():
    """A probe child that dies reports how and the exception it raised, not the boilerplate after it."""
    code = "raise RuntimeError(%r)" % fakes.NO_KERNEL_IMAGE_201
    result = probe.gpu_probe(timeout=30, code=code)
    assert result["hung"] is False
    assert result["error"] == (
        "the GPU probe exited with 1: RuntimeError: CUDA error: no kernel image is available for execution on the "
        "device"
    )


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_gpu_probe_that_crashes_names_the_signal():
    """A probe child killed by a signal: the signal, and what it printed before."""
    code = "import os, sys; sys.stderr.write(%r); sys.stderr.flush(); os.abort()" % fakes.CUDNN_ABORT
    result = probe.gpu_probe(timeout=30, code=code)
    assert result["error"].startswith("the GPU probe killed by SIGABRT (aborted): Could not load library")


def test_gpu_probe_reads_the_child_result():
    """A probe child's GPU-PROBE line is parsed as JSON."""
    code = "import json; print('noise'); print('GPU-PROBE ' + json.dumps({'available': False, 'count': 0}))"
    assert probe.gpu_probe(timeout=30, code=code) == {"available": False, "count": 0}


def test_gpu_probe_facts_become_a_typed_record():
    """The probe child's JSON (as GPU_PROBE prints it: capability a [major, minor] list) becomes a GpuProbe with
    GpuDevice records; a failed probe keeps its error and hang."""
    facts = {
        "available": True,
        "count": 1,
        "devices": [{"name": "NVIDIA H100 80GB HBM3", "capability": [9, 0], "memory_gib": 79.1, "sms": 132}],
        "warnings": [],
        "kernel_ok": True,
    }
    gpu = probe.GpuProbe.from_facts(json.loads(json.dumps(facts)))
    assert gpu.devices == (probe.GpuDevice(name="NVIDIA H100 80GB HBM3", capability=(9, 0), memory_gib=79.1, sms=132),)
    assert gpu.usable and gpu.count == 1 and gpu.error is None and gpu.hung is False
    assert not probe.GpuProbe.from_facts(dict(facts, kernel_ok=False)).usable
    started = probe.GpuProbe.from_facts({"available": True, "count": 0, "devices": [], "warnings": []})
    assert started.kernel_ok is None and not started.usable
    hung = probe.GpuProbe.from_facts(probe.gpu_probe(timeout=1, code="import time; time.sleep(60)"))
    assert hung.hung is True and hung.error.startswith("the GPU probe did not answer") and not hung.usable


def test_devices_gives_the_probe_record(monkeypatch):
    """probe.devices runs the probe only for a CUDA build with a driver, and returns its typed record."""
    answer = {"available": True, "count": 0, "devices": [], "warnings": ["CUDA initialization: x"]}
    monkeypatch.setattr(probe, "gpu_probe", lambda timeout: dict(answer, error="the GPU probe exited with 1: x"))
    monkeypatch.setattr(probe.platform, "system", lambda: "Linux")
    cuda = SimpleNamespace(version=SimpleNamespace(cuda="11.8"))
    found, gpu = probe.devices(cuda, {"present": True}, 5)
    assert found == ["cpu"]
    assert gpu == probe.GpuProbe(
        available=True, warnings=("CUDA initialization: x",), error="the GPU probe exited with 1: x"
    )
    assert probe.devices(cuda, {"present": False}, 5) == (["cpu"], None)


def test_conda_record_reads_conda_meta(tmp_path):
    """The installed pytorch's build and channel come from conda-meta in the prefix."""
    meta = tmp_path / "conda-meta"
    meta.mkdir()
    record = {
        "name": "pytorch",
        "version": "2.0.1",
        "build": "py3.10_cpu_0",
        "channel": "https://conda.anaconda.org/pytorch/linux-64",
    }
    (meta / "pytorch-2.0.1-py3.10_cpu_0.json").write_text(json.dumps(record))
    (meta / "pytorch-cuda-11.8-h7e8668a_5.json").write_text(json.dumps({"name": "pytorch-cuda"}))
    assert probe.conda_record("pytorch", str(tmp_path)) == {
        "version": "2.0.1",
        "build": "py3.10_cpu_0",
        "channel": "pytorch",
    }
    record["channel"] = "https://conda.anaconda.org/conda-forge/"
    (meta / "pytorch-2.0.1-py3.10_cpu_0.json").write_text(json.dumps(record))
    assert probe.conda_record("pytorch", str(tmp_path))["channel"] == "conda-forge"
    assert probe.conda_record("torchvision", str(tmp_path)) is None


def test_host_subdir_matches_this_interpreter():
    """The subdir is the conda name of this OS and architecture."""
    subdir = probe.host().subdir
    prefix = {"linux": "linux-", "darwin": "osx-", "win32": "win-"}[sys.platform]
    assert subdir.startswith(prefix)


def test_nvidia_hardware_is_seen_without_a_driver(tmp_path):
    """An NVIDIA display controller on the PCI bus (vendor 0x10de, class 0x03xxxx) is evidence without any driver;
    another vendor's, or NVIDIA's audio function (class 0x04), is not."""
    for address, vendor, klass in (
        ("0000:01:00.0", "0x10de", "0x030200"),
        ("0000:01:00.1", "0x10de", "0x040300"),
        ("0000:02:00.0", "0x8086", "0x030000"),
    ):
        device = tmp_path / "sys" / "bus" / "pci" / "devices" / address
        device.mkdir(parents=True)
        (device / "vendor").write_text(vendor + "\n")
        (device / "class").write_text(klass + "\n")
    found = probe.nvidia_hardware(str(tmp_path) + os.sep)
    assert found[0] == "PCI device 0000:01:00.0"
    assert not any("0000:01:00.1" in f or "0000:02:00.0" in f for f in found)


def test_arch_list_is_read_without_starting_cuda():
    """The build's arch list comes from what was compiled in, so it is known on a machine without a GPU."""
    torch = pytest.importorskip("torch")
    arches = probe.arch_list(torch)
    if not torch.version.cuda:
        assert arches is None
    else:
        assert arches and all(a.startswith(("sm_", "compute_")) for a in arches)
        assert not torch.cuda.is_initialized()


@pytest.mark.parametrize(
    "argv, imported",
    [
        (["verify", "--quick", "--worker", "{}"], True),
        (["verify", "--worker", '{"startup_failure": "died"}'], False),  # a worker died in `import torch` before
        (["verify", "--worker", "not json"], False),  # the worker's own option parser says why
        (["verify", "--worker"], False),
    ],
)
def test_import_first_imports_torch_for_a_worker_that_may(monkeypatch, argv, imported):
    """verify's worker imports torch before the rest of checks unless its STATE says an earlier worker died there;
    the answer waits in probe.EARLY."""
    calls = []
    monkeypatch.setattr(probe, "EARLY", [])
    monkeypatch.setattr(probe, "import_torch", lambda: calls.append(1) or ("torch", None))
    probe.import_first(argv)
    expected = [("torch", None)] if imported else []
    early = probe.EARLY
    assert early == expected and len(calls) == int(imported)


def test_an_amd_gpu_rocm_can_drive_is_found_from_sysfs_and_dev_kfd(tmp_path):
    """A PCI display controller of vendor 0x1002 plus amdgpu's /dev/kfd (ROCm's compute node): the GPU a CUDA or CPU
    build of torch cannot use. Without /dev/kfd (no ROCm-capable driver) nothing is said."""
    device = tmp_path / "sys" / "bus" / "pci" / "devices" / "0000:03:00.0"
    device.mkdir(parents=True)
    (device / "vendor").write_text("0x1002\n")
    (device / "class").write_text("0x030000\n")
    assert probe.amd_gpu(str(tmp_path)) == []
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "kfd").write_text("")
    assert probe.amd_gpu(str(tmp_path)) == ["PCI device 0000:03:00.0", "/dev/kfd"]
    (device / "vendor").write_text("0x8086\n")
    assert probe.amd_gpu(str(tmp_path)) == []
