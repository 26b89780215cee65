"""`python -m checks health` end to end: on this machine (no GPU: exit 0, the summary line, a valid report), and
in-process against the fake NVML and the fake `nvidia-smi -q` (tests/fakes.py), including a load run on the CPU in
place of the GPUs."""

import itertools
import json
import os
import re
import sys
from pathlib import Path

import fakes
import pytest

from checks.__main__ import main
from checks.health import load, xid
from checks.machine import probe

POSIX = pytest.mark.skipif(os.name != "posix", reason="the fake nvidia-smi is an executable script")
NO_GPU_HERE = pytest.mark.skipif(bool(probe.nvidia_hardware()), reason="this machine has NVIDIA hardware")
EMPTY_LOG = {"source": "dmesg", "text": "[ 0.0] Linux version 6.1\n"}


@pytest.fixture
def health(monkeypatch, capsys):
    """Run `python -m checks health ARGS` in this process against fakes; return (exit code, stdout)."""

    def run(*argv, profiles=None, module=None, log=EMPTY_LOG, hardware=()):
        if module is None and profiles is not None:
            module = fakes.pynvml_health(profiles)
        monkeypatch.setitem(sys.modules, "pynvml", module)  # None: `import pynvml` fails
        monkeypatch.setattr(probe, "nvidia_hardware", lambda sys_root="/": list(hardware))
        monkeypatch.setattr(xid, "read_kernel_log", lambda: log)
        monkeypatch.setenv("NO_COLOR", "1")
        code = main(["health", *argv])
        captured = capsys.readouterr()
        run.err = captured.err
        return code, captured.out

    return run


@NO_GPU_HERE
def test_no_gpu_on_this_machine_skips_and_exits_0(run_checks, tmp_path, report_schema):
    """No NVIDIA hardware or driver: the header, SKIP lines saying so, the node line; exit 0; a valid report."""
    report = tmp_path / "health.json"
    proc = run_checks("health", "--json", str(report), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "driver  : none" in proc.stdout and "source  : none" in proc.stdout
    assert "SKIP gpus: no NVIDIA GPU on this machine" in proc.stdout
    assert "SKIP node: no NVIDIA GPU on this machine: nothing to check" in proc.stdout
    assert "health: 0 passed, 0 failed, 2 skipped" in proc.stdout
    doc = json.loads(report.read_text())
    if report_schema is not None:
        report_schema.validate(doc)
    assert doc["check"] == "health" and doc["results"][-1]["name"] == "node" and doc["exit_code"] == 0


@pytest.mark.parametrize("argv, words", [(["--gpu", "x"], "invalid int value"), (["--timeout", "0"], "positive")])
def test_usage_errors_exit_2(run_checks, argv, words):
    proc = run_checks("health", *argv)
    assert proc.returncode == 2 and words in proc.stderr


def test_a_healthy_node_through_nvml(health, tmp_path, report_schema):
    """Two H100s of the 565 capture, read only: every line PASS or SKIP, `node healthy`, exit 0."""
    report = tmp_path / "r.json"
    code, out = health("--no-load", "--json", str(report), profiles=[fakes.HEALTH_H100, fakes.HEALTH_H100])
    assert code == 0, out
    assert "source    : NVML" in out and "gpus      : 2 x NVIDIA H100 80GB HBM3" in out
    assert "PASS gpu1-nvlink: 18 of 18 links up" in out and "PASS xid: no Xid errors" in out
    assert "PASS node: node healthy: 2 GPUs (2 x NVIDIA H100 80GB HBM3); not load-tested: --no-load" in out
    assert "FAIL" not in out and "WARN" not in out
    doc = json.loads(report.read_text())
    if report_schema is not None:
        report_schema.validate(doc)
    names = [r["name"] for r in doc["results"]]
    assert names[:6] == ["gpu0-ecc", "gpu0-remap", "gpu1-ecc", "gpu1-remap", "xid", "load"]
    assert names[6:12] == ["gpu0-" + a for a in ("pcie", "nvlink", "clocks", "power", "memtest", "compute")]
    assert names[-2:] == ["consistency", "node"] and doc["results"][-1]["data"]["pull"] == []
    assert "SKIP load: not run: --no-load" in out


def test_a_bug_in_a_check_never_pulls_a_gpu(health, tmp_path, monkeypatch, report_schema):
    """A bug in checks' own code inside gpuN-ecc (here a helper that raises TypeError) is an internal error: the line
    is `not judged` (SKIP, data.internal_error naming the log), the node line does not say `unhealthy` or `pull GPU`
    (exit 1 of health means "pull this GPU"), and the run exits 3. It was a FAIL that pulled both healthy GPUs."""
    from checks.health import memory

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(memory, "_n", len)  # len(0): TypeError, raised in memory.check_ecc's own frame
    report = tmp_path / "r.json"
    code, out = health("--no-load", "--json", str(report), profiles=[fakes.HEALTH_H100, fakes.HEALTH_H100])
    assert code == 3, out
    assert "SKIP gpu0-ecc: not judged: internal error in checks" in out and "FAIL" not in out
    assert "pull GPU" not in out
    assert re.search(r"^PASS node: node healthy: .*; not judged \(a bug in checks\): gpu0-ecc, gpu1-ecc$", out, re.M)
    assert re.search(r"^health: .*, 2 internal errors \(a bug in checks\)$", out, re.M)
    doc = json.loads(report.read_text())
    if report_schema is not None:
        report_schema.validate(doc)
    bug = doc["results"][0]["data"]["internal_error"]
    assert doc["exit_code"] == 3 and bug["error"].startswith("TypeError: ")
    assert "Traceback" in Path(bug["log"]).read_text() and bug["log"].startswith(str(tmp_path / "cache"))


def test_a_pending_remap_is_a_warning_and_exit_0(health):
    code, out = health(
        "--no-load", profiles=[fakes.HEALTH_H100, dict(fakes.HEALTH_A100_PENDING, bus_id="00000000:3B:00.0")]
    )
    assert code == 0
    assert "WARN gpu1-remap: row remapping pending" in out
    assert "WARN node: node usable, needs attention: GPU 1 (00000000:3B:00.0): row remapping pending" in out


def test_failures_name_the_gpu_to_pull(health):
    """A row remap failure on GPU 1 and Xid 79 on GPU 2: exit 1, one node line naming both."""
    log = {"source": "dmesg", "text": "[ 9.1] NVRM: Xid (PCI:0000:5c:00): 79, GPU has fallen off the bus.\n"}
    profiles = [
        fakes.HEALTH_H100,
        dict(fakes.HEALTH_H100, bus_id="00000000:3B:00.0", remapped_rows=(0, 8, 0, 1)),
        dict(fakes.HEALTH_H100, bus_id="00000000:5C:00.0"),
    ]
    code, out = health("--no-load", profiles=profiles, log=log)
    assert code == 1
    node = [line for line in out.splitlines() if line.startswith("FAIL node: ")]
    assert node == [
        "FAIL node: node unhealthy: pull GPU 1 (00000000:3B:00.0): row remapping failed | pull GPU 2 "
        "(00000000:5C:00.0): Xid 79 (GPU has fallen off the bus)"
    ]


def test_gpu_selects_and_an_unknown_gpu_is_a_usage_error(health):
    code, out = health("--no-load", "--gpu", "1", profiles=[fakes.HEALTH_H100, fakes.HEALTH_V100])
    assert code == 0 and "gpu1-pages" in out and "gpu0-" not in out
    code, _ = health("--no-load", "--gpu", "7", profiles=[fakes.HEALTH_H100])
    assert code == 2 and "python -m checks health: error: --gpu 7: this node has 1 GPUs (0-0)" in health.err


def test_hardware_with_a_broken_driver_fails_naming_the_state(health):
    """NVML answers "RM has detected an NVML/RM version mismatch." (18): FAIL driver with the reboot fix."""
    module = fakes.pynvml(init_error=18)
    code, out = health(module=module, hardware=["PCI device 0000:3b:00.0"])
    assert code == 1
    assert "FAIL driver: NVML doesn't answer: the driver's libraries were upgraded" in out and "reboot" in out
    assert "FAIL node: node unhealthy: driver not answering" in out


def test_hardware_without_any_driver_fails(health, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    code, out = health(module=None, hardware=["PCI device 0000:3b:00.0"])
    assert code == 1 and "FAIL driver: an NVIDIA GPU is in this machine (PCI device 0000:3b:00.0)" in out


@POSIX
def test_a_470_v100_through_nvidia_smi_q(health, tmp_path, monkeypatch):
    """No nvidia-ml-py: `nvidia-smi -q` of the 470 V100 capture, old layout, judged the same way."""
    env = fakes.nvidia_smi_q(
        tmp_path,
        fakes.SMI_Q_V100_470,
        driver="470.129.06",
        cuda="11.4",
        gpus=[("Tesla V100-PCIE-32GB", 32510, "00000000:1C:00.0", "7.0")],
    )
    monkeypatch.setenv("PATH", env["PATH"])
    code, out = health("--no-load", module=None)
    assert code == 0, out
    assert "source    : nvidia-smi -q (install nvidia-ml-py for NVML: NVLink needs it)" in out
    assert "PASS gpu0-ecc: ECC on; since driver load 0 corrected, 0 uncorrectable; lifetime 3 corrected" in out
    assert "PASS gpu0-pages: retired pages: 1 single-bit, 0 double-bit, none pending" in out
    assert "SKIP gpu0-nvlink: nvidia-smi -q does not report NVLink" in out
    assert "PASS node: node healthy: 1 GPU (1 x Tesla V100-PCIE-32GB)" in out


@pytest.fixture
def cpu_load(monkeypatch):
    """Make the load run on the CPU in place of the GPUs (small matmul and memory test)."""
    torch = pytest.importorskip("torch", reason="the load runs on torch tensors")
    monkeypatch.setattr(probe, "import_torch", lambda: (torch, None))
    monkeypatch.setattr(probe, "build_flavour", lambda torch: "cuda")
    monkeypatch.setattr(probe, "gpu_probe", lambda timeout: {"available": True, "kernel_ok": True})
    monkeypatch.setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    from checks.health import facts

    monkeypatch.setattr(facts, "match", lambda torch, gpus, everyone: {g["index"]: g["index"] for g in gpus})
    real = load.run

    def on_cpu(torch, targets, settings, readers, progress=None):
        cpu = [(index, "cpu") for index, _ in targets]
        return real(torch, cpu, (0.4, 1.0, 32), readers, progress, ("float32",), 2**20, 2**18)

    monkeypatch.setattr(load, "run", on_cpu)


def test_a_loaded_healthy_node_passes_every_line(health, cpu_load):
    code, out = health("--quick", profiles=[fakes.HEALTH_H100, fakes.HEALTH_H100])
    assert code == 0, out
    assert "PASS load: loaded 2 GPUs at once for" in out
    assert "PASS gpu0-pcie: under load: gen 5 x16, max gen 5 x16" in out
    assert "PASS gpu1-memtest: 0.0 GiB, 5 of 5 patterns over all of it read back intact" in out
    assert "PASS gpu1-compute: 32x32 matmul (float32) repeated" in out
    assert "PASS consistency: identical matmul results across 2 x NVIDIA H100 80GB HBM3" in out
    assert "PASS node: node healthy: 2 GPUs (2 x NVIDIA H100 80GB HBM3)\n" in out


def test_under_load_thermal_slowdown_a_narrow_link_and_replays_are_caught(health, cpu_load):
    """GPU 0 throttles thermally (FAIL), GPU 1's link runs x8 of x16 and its replay counter climbs (WARN)."""
    replays = itertools.count(0, 100)
    profiles = [
        dict(fakes.HEALTH_H100, reasons=0x4 | 0x40),
        dict(fakes.HEALTH_H100, bus_id="00000000:3B:00.0", pcie=(5, 5, 8, 16, lambda: next(replays))),
    ]
    code, out = health("--quick", profiles=profiles)
    assert code == 1, out
    assert "FAIL gpu0-clocks: under load: hardware thermal slowdown in" in out
    assert "WARN gpu1-pcie: " in out and "per minute, above DCGM's 16 per minute for gen 5 x8" in out
    assert "FAIL node: node unhealthy: pull GPU 0 (00000000:18:00.0): hardware thermal slowdown under load" in out


def test_a_driver_module_missing_for_the_running_kernel_is_named_in_health_too(health, monkeypatch):
    """NVML_ERROR_DRIVER_NOT_LOADED (9) and no nvidia module for the running kernel, its DKMS source in /usr/src:
    health's driver line names the kernel upgrade and the dkms fix, as verify's does (nvidia/driver.failure)."""
    from checks.machine import gpu_node

    node = gpu_node.KernelNode(
        kernel="6.8.0-51-generic", loaded=False, module_files_via="modules.dep", dkms_sources=("535.183.01",)
    )
    monkeypatch.setattr(gpu_node, "collect", lambda: node)
    code, out = health(module=fakes.pynvml(init_error=9), hardware=["PCI device 0000:3b:00.0"])
    assert code == 1, out
    assert "FAIL driver: NVML doesn't answer: no nvidia kernel module is installed for the running kernel 6.8" in out
    assert "sudo dkms install -m nvidia -v 535.183.01 -k 6.8.0-51-generic" in out
