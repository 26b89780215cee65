"""NVIDIA GPU facts and health while a benchmark runs: clocks, power, temperature, PCIe link, throttle reasons.

Through NVML (`pip install nvidia-ml-py`, imported as pynvml) where present, else nvidia-smi, else nothing:
every field may be None and the benchmark still runs.
"""

import os
import shutil
import threading
import time
from dataclasses import dataclass
from typing import Optional

from checks.machine.probe import run_command
from checks.nvidia import parse

SMI_FIELDS = (
    "clocks.sm",
    "clocks.max.sm",
    "clocks.mem",
    "clocks.max.mem",
    "power.draw",
    "power.limit",
    "power.default_limit",
    "temperature.gpu",
    "pcie.link.gen.current",
    "pcie.link.gen.max",
    "pcie.link.width.current",
    "pcie.link.width.max",
    "clocks_event_reasons.active",
)
KEYS = (
    "sm_mhz",
    "sm_max_mhz",
    "mem_mhz",
    "mem_max_mhz",
    "power_w",
    "power_limit_w",
    "power_default_w",
    "temp_c",
    "pcie_gen",
    "pcie_gen_max",
    "pcie_width",
    "pcie_width_max",
    "reasons",
)


def decode_reasons(mask):
    """Return the words of the active clocks event (throttle) reasons that slow the GPU down (checks/nvidia/parse.py
    REASONS); [] for None."""
    return parse.reason_names(mask, slowing_only=True)


class Reader:
    """Read one GPU's live state from NVML, or nvidia-smi; `source` says which (or None)."""

    def __init__(self, index=0):
        self.index, self.nvml, self.handle, self.source = index, None, None, None
        try:
            import pynvml

            pynvml.nvmlInit()
            self.nvml, self.handle = pynvml, pynvml.nvmlDeviceGetHandleByIndex(index)
            self.source = "NVML"
        except Exception:  # no package, no driver, or no such GPU
            self.source = "nvidia-smi" if shutil.which("nvidia-smi") else None

    def _nvml(self, name, *args):
        try:
            return getattr(self.nvml, name)(self.handle, *args)
        except Exception:  # a field this GPU or driver does not support
            return None

    def read(self):
        """Return the state as a dict of KEYS (None where unknown)."""
        if self.source == "NVML":
            n = self.nvml
            reasons = (
                "nvmlDeviceGetCurrentClocksEventReasons"
                if hasattr(n, "nvmlDeviceGetCurrentClocksEventReasons")
                else "nvmlDeviceGetCurrentClocksThrottleReasons"
            )
            values = (
                self._nvml("nvmlDeviceGetClockInfo", n.NVML_CLOCK_SM),
                self._nvml("nvmlDeviceGetMaxClockInfo", n.NVML_CLOCK_SM),
                self._nvml("nvmlDeviceGetClockInfo", n.NVML_CLOCK_MEM),
                self._nvml("nvmlDeviceGetMaxClockInfo", n.NVML_CLOCK_MEM),
                parse.watts(self._nvml("nvmlDeviceGetPowerUsage")),
                parse.watts(self._nvml("nvmlDeviceGetEnforcedPowerLimit")),
                parse.watts(self._nvml("nvmlDeviceGetPowerManagementDefaultLimit")),
                self._nvml("nvmlDeviceGetTemperature", n.NVML_TEMPERATURE_GPU),
                self._nvml("nvmlDeviceGetCurrPcieLinkGeneration"),
                self._nvml("nvmlDeviceGetMaxPcieLinkGeneration"),
                self._nvml("nvmlDeviceGetCurrPcieLinkWidth"),
                self._nvml("nvmlDeviceGetMaxPcieLinkWidth"),
                self._nvml(reasons),
            )
            return dict(zip(KEYS, values))
        if self.source == "nvidia-smi":
            query = ["-i", str(self.index), "--query-gpu=" + ",".join(SMI_FIELDS), "--format=csv,noheader,nounits"]
            code, out = run_command(["nvidia-smi", *query], 10)
            if code == 0:
                return dict(zip(KEYS, (parse.number(v) for v in out.strip().split(","))))
        return dict.fromkeys(KEYS)

    def processes(self):
        """Return the processes holding a context on this GPU as [{pid, mib}] (mib None where the driver does not
        say, e.g. in some containers), or None when unknown. NVML: compute then graphics processes, falling back
        to the _v2 calls of drivers older than the _v3 ones (FUNCTION_NOT_FOUND); nvidia-smi:
        --query-compute-apps=pid,used_memory (MiB; "[N/A]" where unknown)."""
        if self.source == "NVML":
            found, answered = {}, set()
            for kind in ("Compute", "Graphics"):
                for suffix in ("", "_v2"):
                    call = getattr(self.nvml, "nvmlDeviceGet%sRunningProcesses%s" % (kind, suffix), None)
                    if call is None:
                        continue
                    try:
                        listed = call(self.handle)
                    except Exception:  # this driver lacks the call, or refuses it
                        continue
                    for p in listed or []:
                        used = getattr(p, "usedGpuMemory", None)
                        found[p.pid] = {"pid": p.pid, "mib": used // 2**20 if used is not None else None}
                    answered.add(kind)
                    break
            if "Compute" not in answered:  # the processes that matter to a benchmark are unknown
                return None
            return sorted(found.values(), key=lambda p: p["pid"])
        if self.source == "nvidia-smi":
            query = ["-i", str(self.index), "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"]
            code, out = run_command(["nvidia-smi", *query], 10)
            if code != 0:
                return None
            rows = [[parse.number(v) for v in line.split(",")] for line in out.splitlines() if "," in line]
            return [{"pid": r[0], "mib": r[1]} for r in rows if isinstance(r[0], int)]
        return None

    def bus_width_bits(self):
        """Return the memory bus width from NVML, or None."""
        return self._nvml("nvmlDeviceGetMemoryBusWidth") if self.source == "NVML" else None


@dataclass(frozen=True)
class GpuProcess:
    """A process holding a context on a GPU, as the driver lists it (Reader.processes()). pid: as the driver gives
    it (the host's PID, also inside a container: NVIDIA/nvidia-docker#1483); mib: its GPU memory in MiB (None where
    the driver does not say); name: /proc/<pid>/comm (proc_pid_comm(5)), None where this process cannot map the
    driver's PIDs onto its own /proc (another PID namespace) or the process is gone."""

    pid: int
    mib: Optional[int] = None
    name: Optional[str] = None


def same_pid_namespace(proc="/proc"):
    """True when this process runs in the initial PID namespace, where the driver's (host) PIDs are this /proc's:
    the `NSpid:` line of /proc/self/status lists one PID per namespace level (proc_pid_status(5), Linux 4.1+), one
    entry in the initial namespace. False in a nested namespace (a container), None where the line is absent."""
    try:
        with open(os.path.join(proc, "self", "status")) as handle:
            for line in handle:
                if line.startswith("NSpid:"):
                    return len(line.split()) == 2
    except OSError:
        pass
    return None


def holders(reader, own=(), proc="/proc"):
    """Return the processes other than `own` (PIDs) holding a context on the reader's GPU, as (GpuProcess, ...) by
    memory held, largest first; None when the driver does not list them (Reader.processes() is None). Bounded by
    Reader's nvidia-smi timeout (10 s). Names are read only where the driver's PIDs are this /proc's
    (same_pid_namespace)."""
    listed = reader.processes()
    if listed is None:
        return None
    named = same_pid_namespace(proc) is True
    found = []
    for entry in listed:
        pid = entry.get("pid")
        if not isinstance(pid, int) or pid in own:
            continue
        name = None
        if named:
            try:
                with open(os.path.join(proc, str(pid), "comm")) as handle:
                    name = handle.read().strip() or None
            except OSError:  # gone since the driver listed it, or not ours to read
                name = None
        found.append(GpuProcess(pid=pid, mib=entry.get("mib"), name=name))
    return tuple(sorted(found, key=lambda p: (-(p.mib or 0), p.pid)))


class HealthSampler:
    """Sample a Reader in a background thread while a benchmark runs; summarise what was seen."""

    def __init__(self, reader, interval=0.25):
        self.reader, self.interval = reader, interval if reader.source == "NVML" else max(interval, 1.0)
        self.samples, self._stop = [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            sample = self.reader.read()
            sample["t"] = time.monotonic()
            self.samples.append(sample)
            self._stop.wait(self.interval)

    def start(self):
        """Begin sampling (a reader without a source samples nothing)."""
        if self.reader.source:
            self._thread.start()
        return self

    def stop(self):
        """Stop sampling and return summary()."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        return self.summary()

    def summary(self):
        """Return max temperature and power, SM clock median/min vs max, PCIe link seen, throttle reasons seen."""
        got = [s for s in self.samples if s.get("sm_mhz") is not None]
        if not got:
            return {"samples": 0}
        clocks = sorted(s["sm_mhz"] for s in got)
        seen = {}
        for s in got:
            for reason in decode_reasons(s.get("reasons")):
                seen[reason] = seen.get(reason, 0) + 1
        return {
            "samples": len(got),
            "sm_mhz_median": clocks[len(clocks) // 2],
            "sm_mhz_min": clocks[0],
            "sm_max_mhz": got[0].get("sm_max_mhz"),
            "temp_c_max": max((s["temp_c"] for s in got if s.get("temp_c") is not None), default=None),
            "power_w_max": max((s["power_w"] for s in got if s.get("power_w") is not None), default=None),
            "pcie_gen_seen": max((s["pcie_gen"] for s in got if s.get("pcie_gen") is not None), default=None),
            "pcie_width_seen": max((s["pcie_width"] for s in got if s.get("pcie_width") is not None), default=None),
            "throttle": {reason: round(count / len(got), 3) for reason, count in seen.items()},
        }
