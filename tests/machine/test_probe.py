"""Tests for checks/machine/probe.py: the GPU probe (timeout, real error, signals), NVIDIA hardware evidence, the
build's architectures, conda records."""

import json
import os
import sys

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
    subdir = probe.host()["subdir"]
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
