"""GPU telemetry: throttle-reason decoding, nvidia-smi field parsing, the health summary."""

import sys

import fakes

from checks.nvidia import gpuinfo


def test_decode_reasons_keeps_the_ones_that_slow_the_gpu():
    """Idle and sync boost are not slowdowns; power cap and thermal slowdown are."""
    assert gpuinfo.decode_reasons(0x1 | 0x4 | 0x10 | 0x40) == ["software power cap", "hardware thermal slowdown"]
    assert gpuinfo.decode_reasons(None) == []


class FakeReader:
    source = "fake"

    def __init__(self, samples):
        self.samples = iter(samples)

    def read(self):
        return dict(next(self.samples))


def test_health_summary():
    """Median/min clock, max temperature and power, the link seen, and the share of samples per reason."""
    base = {"sm_max_mhz": 1980, "pcie_gen": 5, "pcie_width": 16, "power_w": 500.0}
    samples = [
        dict(base, sm_mhz=1980, temp_c=50, reasons=0),
        dict(base, sm_mhz=1700, temp_c=60, reasons=0x4),
        dict(base, sm_mhz=1800, temp_c=55, reasons=0x4 | 0x20),
        dict(base, sm_mhz=1900, temp_c=52, reasons=0x1),
    ]
    sampler = gpuinfo.HealthSampler(FakeReader(samples))
    for _ in samples:
        sampler.samples.append(sampler.reader.read())
    h = sampler.summary()
    assert (h["samples"], h["sm_mhz_median"], h["sm_mhz_min"], h["temp_c_max"]) == (4, 1900, 1700, 60)
    assert h["throttle"] == {"software power cap": 0.5, "software thermal slowdown": 0.25}
    assert gpuinfo.HealthSampler(FakeReader([])).summary() == {"samples": 0}


def test_reader_without_nvml_or_smi_reads_nothing(monkeypatch):
    """No pynvml and no nvidia-smi: every field None, and the sampler samples nothing."""
    import builtins
    import shutil

    real_import = builtins.__import__

    def no_pynvml(name, *args, **kwargs):
        if name == "pynvml":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pynvml)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    reader = gpuinfo.Reader()
    assert reader.source is None and set(reader.read().values()) == {None}
    assert gpuinfo.HealthSampler(reader).start().stop() == {"samples": 0}


def nvml_reader(monkeypatch, **kwargs):
    monkeypatch.setitem(sys.modules, "pynvml", fakes.pynvml(**kwargs))
    reader = gpuinfo.Reader()
    assert reader.source == "NVML"
    return reader


def test_processes_from_nvml(monkeypatch):
    """Compute processes with their memory in MiB; None where NVML does not know it (NVML_VALUE_NOT_AVAILABLE)."""
    reader = nvml_reader(monkeypatch, apps=[(4242, 3 * 2**30), (17, None)])
    assert reader.processes() == [{"pid": 17, "mib": None}, {"pid": 4242, "mib": 3072}]
    assert nvml_reader(monkeypatch).processes() == []


def test_processes_from_a_driver_without_the_v3_calls(monkeypatch):
    """pynvml's default calls are _v3; a driver without them raises Function Not Found (13): _v2 answers."""
    assert nvml_reader(monkeypatch, apps=[(4242, 2**20)], apps_v3=False).processes() == [{"pid": 4242, "mib": 1}]


def test_processes_unknown_when_nvml_refuses(monkeypatch):
    """Not Supported for every variant: unknown (None), not "no process"."""
    names = [
        "nvmlDeviceGet%sRunningProcesses%s" % (kind, suffix)
        for kind in ("Compute", "Graphics")
        for suffix in ("", "_v2")
    ]
    assert nvml_reader(monkeypatch, unsupported=names).processes() is None


def test_processes_from_nvidia_smi(monkeypatch, tmp_path):
    """`--query-compute-apps=pid,used_memory --format=csv,noheader,nounits`; [N/A] memory is None."""
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml fails: the nvidia-smi route
    monkeypatch.setenv("PATH", fakes.nvidia_smi(tmp_path, apps=[(4242, 3072), (17, None)])["PATH"])
    reader = gpuinfo.Reader()
    assert reader.source == "nvidia-smi"
    assert reader.processes() == [{"pid": 4242, "mib": 3072}, {"pid": 17, "mib": None}]
    (tmp_path / "broken").mkdir()
    monkeypatch.setenv("PATH", fakes.nvidia_smi(tmp_path / "broken", state="driver-not-loaded")["PATH"])
    assert gpuinfo.Reader().processes() is None


def test_processes_kept_when_only_the_graphics_list_is_refused(monkeypatch):
    """The compute processes are what a benchmark competes with; a refused graphics list does not hide them."""
    graphics = ["nvmlDeviceGetGraphicsRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses_v2"]
    reader = nvml_reader(monkeypatch, apps=[(4242, 2**20)], unsupported=graphics)
    assert reader.processes() == [{"pid": 4242, "mib": 1}]


def test_holders_leave_this_process_out_and_name_others_only_in_the_drivers_pid_namespace(monkeypatch, tmp_path):
    """/proc/<pid>/comm names a listed process where /proc/self/status' NSpid has one entry (the initial PID
    namespace, whose PIDs NVML gives); in a container (`NSpid: 31 7`) the driver's host PIDs are not this /proc's,
    so no name is read. Largest holder first; None where the list is unknown."""
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self/status").write_text("Name:\tpython\nPid:\t31\nNSpid:\t31\n")
    (proc / "4242").mkdir()
    (proc / "4242/comm").write_text("python\n")
    reader = nvml_reader(monkeypatch, apps=[(31, 2**29), (17, None), (4242, 7800 * 2**20)])
    assert gpuinfo.holders(reader, own={31}, proc=str(proc)) == (
        gpuinfo.GpuProcess(pid=4242, mib=7800, name="python"),
        gpuinfo.GpuProcess(pid=17, mib=None, name=None),
    )
    (proc / "self/status").write_text("Name:\tpython\nPid:\t7\nNSpid:\t31\t7\n")
    assert gpuinfo.holders(reader, own={7}, proc=str(proc))[0] == gpuinfo.GpuProcess(pid=4242, mib=7800)
    names = ["nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetComputeRunningProcesses_v2"]
    assert gpuinfo.holders(nvml_reader(monkeypatch, unsupported=names), proc=str(proc)) is None
