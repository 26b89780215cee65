"""Tests for checks/probe.py: import-failure signatures, the GPU probe's timeout, driver facts, conda records."""

import json
import os
import stat
import sys

import pytest

from checks import probe

POSIX = pytest.mark.skipif(os.name != "posix", reason="fake nvidia-smi scripts need a POSIX shell")


@pytest.mark.parametrize(
    "exc, meaning, fix",
    [
        (ImportError("libtorch_cpu.so: undefined symbol: iJIT_NotifyEvent"), "mkl 2024.1", "mkl<2024.1"),
        (ImportError("libcublasLt.so.11: cannot open shared object file"), "CUDA library", "reinstall"),
        (ImportError("libtorch_cuda.so: undefined symbol: cudnnGetVersion_v8"), "another version", "LD_LIBRARY_PATH"),
        (OSError("[WinError 126] Error loading fbgemm.dll"), "Windows DLL", "Visual C++"),
        (ImportError("No module named 'torch._C'"), "source tree", "another directory"),
        (ModuleNotFoundError("No module named 'typing_extensions'"), "missing: typing_extensions", "install it"),
        (ImportError("something new"), "torch failed to import", "reinstall torch"),
    ],
)
def test_import_signatures(exc, meaning, fix):
    """Each known import failure maps to its cause and fix; an unknown one still gets a fix."""
    got_meaning, got_fix = probe.diagnose_import_error(exc)
    assert meaning in got_meaning
    assert fix in got_fix


def test_gpu_probe_that_hangs_is_bounded():
    """A probe child that hangs is killed at the timeout and reported as hung."""
    result = probe.gpu_probe(timeout=1, code="import time; time.sleep(60)")
    assert result["hung"] is True
    assert "did not answer within 1 s" in result["error"]


def test_gpu_probe_that_crashes_reports_its_last_line():
    """A probe child that dies reports its exit code and last output line."""
    result = probe.gpu_probe(timeout=30, code="raise SystemExit('CUDA driver initialization failed')")
    assert result["hung"] is False
    assert "exited with 1: CUDA driver initialization failed" in result["error"]


def test_gpu_probe_reads_the_child_result():
    """A probe child's GPU-PROBE line is parsed as JSON."""
    code = "import json; print('noise'); print('GPU-PROBE ' + json.dumps({'available': False, 'count': 0}))"
    assert probe.gpu_probe(timeout=30, code=code) == {"available": False, "count": 0}


def write_smi(tmp_path, body):
    """Put an executable fake nvidia-smi first on PATH."""
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\n" + body)
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    return str(tmp_path) + os.pathsep + os.environ["PATH"]


@POSIX
def test_driver_parses_nvidia_smi(tmp_path, monkeypatch):
    """nvidia-smi's CSV gives the driver version and one entry per GPU."""
    monkeypatch.setenv(
        "PATH",
        write_smi(
            tmp_path,
            'echo "NVIDIA H200, 570.124.06, 9.0, 143771 MiB"\necho "NVIDIA H200, 570.124.06, 9.0, 143771 MiB"\n',
        ),
    )
    info = probe.driver(timeout=10)
    assert info["present"] and info["smi_error"] is None
    if not os.path.exists("/proc/driver/nvidia/version"):  # a real driver's module version wins over nvidia-smi
        assert info["version"] == "570.124.06"
    assert [g["name"] for g in info["gpus"]] == ["NVIDIA H200", "NVIDIA H200"]
    assert info["gpus"][0]["compute_cap"] == "9.0"


@POSIX
def test_driver_reports_a_failing_nvidia_smi(tmp_path, monkeypatch):
    """An nvidia-smi that fails says why, in one line."""
    monkeypatch.setenv(
        "PATH",
        write_smi(
            tmp_path, 'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver."; exit 9\n'
        ),
    )
    info = probe.driver(timeout=10)
    assert info["smi_error"].startswith("nvidia-smi NVIDIA-SMI has failed because it couldn't communicate")


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
