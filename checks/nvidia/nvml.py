"""The first reader: each GPU's health facts through NVML (nvidia-ml-py, imported as pynvml), one dict per GPU.

Facts (the same keys checks/nvidia/smi.py fills from `nvidia-smi -q`; None where the GPU or driver has no answer):
index, name, bus_id, uuid; ecc {current, pending, volatile_corrected, volatile_uncorrected, aggregate_corrected,
aggregate_uncorrected, sram_threshold_exceeded}; retired_pages {sbe, dbe, pending}; remapped_rows {correctable,
uncorrectable, pending, failure}; pcie {gen, gen_max, width, width_max, replays}; nvlink {count, links {N: {up,
replay, recovery, crc_flit, crc_data}}}; reasons (the clocks event reasons bitmask); sm_mhz, sm_max_mhz; power
{limit_w, default_w, enforced_w, draw_w}; temp_c; errors {aspect: (text, NVML code)}.

API names, return shapes and constants are nvidia-ml-py 13.615.71's (research notes A.1-A.7). A call that answers
NVML_ERROR_NOT_SUPPORTED (3), NVML_ERROR_INVALID_ARGUMENT (2: a link the GPU does not have) or
NVML_ERROR_FUNCTION_NOT_FOUND (13: an older driver, e.g. the clocks *event* reasons on 470) means "not there", as in
DCGM (dcgmlib/DcgmTopology.cpp:495-519 treats any NVLink error as not supported); any other error (GPU is lost,
reset required) is kept in `errors` and judged.
"""

from checks.nvidia import parse
from checks.nvidia.records import LiveState

NOT_THERE = (2, 3, 13)
# nvml.h / pynvml constants (notes A.1-A.7), used when an older nvidia-ml-py lacks the name.
CONSTANTS = {
    "NVML_VOLATILE_ECC": 0,
    "NVML_AGGREGATE_ECC": 1,
    "NVML_MEMORY_ERROR_TYPE_CORRECTED": 0,
    "NVML_MEMORY_ERROR_TYPE_UNCORRECTED": 1,
    "NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS": 0,
    "NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR": 1,
    "NVML_FI_DEV_NVLINK_LINK_COUNT": 91,
    "NVML_NVLINK_MAX_LINKS": 18,
    "NVML_NVLINK_ERROR_DL_REPLAY": 0,
    "NVML_NVLINK_ERROR_DL_RECOVERY": 1,
    "NVML_NVLINK_ERROR_DL_CRC_FLIT": 2,
    "NVML_NVLINK_ERROR_DL_CRC_DATA": 3,
    "NVML_CLOCK_SM": 1,
    "NVML_TEMPERATURE_GPU": 0,
}
COUNTERS = (
    ("replay", "NVML_NVLINK_ERROR_DL_REPLAY"),
    ("recovery", "NVML_NVLINK_ERROR_DL_RECOVERY"),
    ("crc_flit", "NVML_NVLINK_ERROR_DL_CRC_FLIT"),
    ("crc_data", "NVML_NVLINK_ERROR_DL_CRC_DATA"),
)


class Device:
    """One GPU through NVML: `call` answers None for "not there" and records other errors under an aspect."""

    def __init__(self, nvml, index):
        self.nvml, self.index, self.errors, self.handle = nvml, index, {}, None
        self.handle = self.call("device", "nvmlDeviceGetHandleByIndex", _raw=True)

    def const(self, name):
        return getattr(self.nvml, name, CONSTANTS[name])

    def call(self, aspect, function, *args, _raw=False):
        found = getattr(self.nvml, function, None)
        if found is None or (self.handle is None and not _raw):
            return None  # an older nvidia-ml-py, or no handle
        try:
            return found(self.index if _raw else self.handle, *args)
        except self.nvml.NVMLError as exc:
            code = getattr(exc, "value", None)
            if code not in NOT_THERE:
                self.errors.setdefault(aspect, (str(exc), code))
            return None

    def ecc(self):
        mode = self.call("ecc", "nvmlDeviceGetEccMode")
        if mode is None:
            return None
        counts = {}
        for kind in ("volatile", "aggregate"):
            for what in ("corrected", "uncorrected"):
                counts["%s_%s" % (kind, what)] = self.call(
                    "ecc",
                    "nvmlDeviceGetTotalEccErrors",
                    self.const("NVML_MEMORY_ERROR_TYPE_%s" % what.upper()),
                    self.const("NVML_%s_ECC" % kind.upper()),
                )
        return dict(counts, current=bool(mode[0]), pending=bool(mode[1]), sram_threshold_exceeded=None)

    def retired_pages(self):
        sbe = self.call(
            "pages",
            "nvmlDeviceGetRetiredPages",
            self.const("NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS"),
        )
        dbe = self.call(
            "pages", "nvmlDeviceGetRetiredPages", self.const("NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR")
        )
        if sbe is None and dbe is None:
            return None
        pending = self.call("pages", "nvmlDeviceGetRetiredPagesPendingStatus")
        return {"sbe": len(sbe or ()), "dbe": len(dbe or ()), "pending": None if pending is None else bool(pending)}

    def remapped_rows(self):
        rows = self.call("remap", "nvmlDeviceGetRemappedRows")  # (corrRows, uncRows, isPending, failureOccurred)
        if rows is None:
            return None
        corrected, uncorrected, pending, failure = rows
        return {
            "correctable": corrected,
            "uncorrectable": uncorrected,
            "pending": bool(pending),
            "failure": bool(failure),
        }

    def pcie(self):
        return {
            "gen": self.call("pcie", "nvmlDeviceGetCurrPcieLinkGeneration"),
            "gen_max": self.call("pcie", "nvmlDeviceGetMaxPcieLinkGeneration"),
            "width": self.call("pcie", "nvmlDeviceGetCurrPcieLinkWidth"),
            "width_max": self.call("pcie", "nvmlDeviceGetMaxPcieLinkWidth"),
            "replays": self.call("pcie", "nvmlDeviceGetPcieReplayCounter"),
        }

    def nvlink(self):
        count = None
        values = self.call("nvlink", "nvmlDeviceGetFieldValues", [self.const("NVML_FI_DEV_NVLINK_LINK_COUNT")])
        if values and getattr(values[0], "nvmlReturn", 1) == 0:
            count = values[0].value.uiVal
        links = {}
        for link in range(count if count is not None else self.const("NVML_NVLINK_MAX_LINKS")):
            state = self.call("nvlink", "nvmlDeviceGetNvLinkState", link)
            if state is None:
                continue  # not present
            counters = {
                k: self.call("nvlink", "nvmlDeviceGetNvLinkErrorCounter", link, self.const(c)) for k, c in COUNTERS
            }
            links[link] = dict(counters, up=bool(state))
        return {"count": count, "links": links} if links else None

    def reasons(self):
        value = self.call("clocks", "nvmlDeviceGetCurrentClocksEventReasons")  # 535+; 470 has only the next one
        return value if value is not None else self.call("clocks", "nvmlDeviceGetCurrentClocksThrottleReasons")

    def live(self):
        """Return the LiveState now: the fields sampled during the load."""
        return LiveState(
            reasons=self.reasons(),
            sm_mhz=self.call("clocks", "nvmlDeviceGetClockInfo", self.const("NVML_CLOCK_SM")),
            pcie_gen=self.call("pcie", "nvmlDeviceGetCurrPcieLinkGeneration"),
            pcie_width=self.call("pcie", "nvmlDeviceGetCurrPcieLinkWidth"),
            power_w=parse.watts(self.call("power", "nvmlDeviceGetPowerUsage")),
            temp_c=self.call("temperature", "nvmlDeviceGetTemperature", self.const("NVML_TEMPERATURE_GPU")),
        )

    def bus_id(self):
        pci = self.call("device", "nvmlDeviceGetPciInfo")
        return parse.text(pci.busId) if pci is not None else None

    def facts(self):
        live = self.live()
        return {
            "index": self.index,
            "name": parse.text(self.call("device", "nvmlDeviceGetName")),
            "bus_id": self.bus_id(),
            "uuid": parse.text(self.call("device", "nvmlDeviceGetUUID")),
            "ecc": self.ecc(),
            "retired_pages": self.retired_pages(),
            "remapped_rows": self.remapped_rows(),
            "pcie": self.pcie(),
            "nvlink": self.nvlink(),
            "reasons": live.reasons,
            "sm_mhz": live.sm_mhz,
            "sm_max_mhz": self.call("clocks", "nvmlDeviceGetMaxClockInfo", self.const("NVML_CLOCK_SM")),
            "power": {
                "limit_w": parse.watts(self.call("power", "nvmlDeviceGetPowerManagementLimit")),
                "default_w": parse.watts(self.call("power", "nvmlDeviceGetPowerManagementDefaultLimit")),
                "enforced_w": parse.watts(self.call("power", "nvmlDeviceGetEnforcedPowerLimit")),
                "draw_w": live.power_w,
            },
            "temp_c": live.temp_c,
            "errors": self.errors,
        }


def count(nvml):
    """Return how many GPUs NVML sees."""
    return nvml.nvmlDeviceGetCount()


def gpus(nvml, indices):
    """Return the facts of the GPUs `indices` (NVML initialised by the caller)."""
    return [Device(nvml, index).facts() for index in indices]


class Reader:
    """Live state of one GPU through NVML, for checks/nvidia/gpuinfo.py's HealthSampler (every 0.25 s)."""

    source = "NVML"

    def __init__(self, nvml, index):
        self.device = Device(nvml, index)

    def read(self):
        """Return the throttle reasons, SM clock, PCIe link, power and temperature now (None where unknown), as
        LiveState.sample()'s dict."""
        return self.device.live().sample()
