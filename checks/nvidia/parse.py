"""The helpers every reader of NVIDIA's tools shares (driver.py, gpuinfo.py, nvml.py, smi.py), and the one table of
clocks event (throttle) reasons.

nvidia-smi prints values as `1980`, `350.12`, `100.89 W`, `16x`, `30 C`, a hex bitmask `0x0000000000000004`, or
`N/A`, `[N/A]`, `[Not Supported]` where the GPU or driver has no answer (the captures in tests/fakes.py name their
sources); NVML answers bytes or str for names (nvidia-ml-py before 11.515 returned bytes), milliwatts for power and
an int such as 12040 for a CUDA version (nvml.h, nvmlSystemGetCudaDriverVersion: major * 1000 + minor * 10).
"""

import re
from dataclasses import dataclass

NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class ClocksEventReason:
    """One bit of NVML's clocks event reasons mask (the "throttle reasons" before driver 530).

    bit: its value in the mask; nvml: the suffix of its nvml.h define (nvmlClocksEventReason<nvml> from 535, the
    hardware ones still nvmlClocksThrottleReason<nvml>; NVML API reference, "ClocksEventReasons"); smi_label: its
    label under `Clocks Event Reasons` (530+) or `Clocks Throttle Reasons` (up to 525) in `nvidia-smi -q`, valued
    `Active`/`Not Active`; words: how checks names it; slows: whether it slows the GPU down (idle, application
    clocks, sync boost and display clock are settings, not slowdowns).
    """

    bit: int
    nvml: str
    smi_label: str
    words: str
    slows: bool


# The one table, in bit order. Which of them health counts as a failure is DCGM's rule (checks/health/clocks.py).
REASONS = (
    ClocksEventReason(0x1, "GpuIdle", "Idle", "idle", False),
    ClocksEventReason(
        0x2, "ApplicationsClocksSetting", "Applications Clocks Setting", "application clocks setting", False
    ),
    ClocksEventReason(0x4, "SwPowerCap", "SW Power Cap", "software power cap", True),
    ClocksEventReason(0x8, "HwSlowdown", "HW Slowdown", "hardware slowdown", True),
    ClocksEventReason(0x10, "SyncBoost", "Sync Boost", "sync boost", False),
    ClocksEventReason(0x20, "SwThermalSlowdown", "SW Thermal Slowdown", "software thermal slowdown", True),
    ClocksEventReason(0x40, "HwThermalSlowdown", "HW Thermal Slowdown", "hardware thermal slowdown", True),
    ClocksEventReason(0x80, "HwPowerBrakeSlowdown", "HW Power Brake Slowdown", "hardware power brake", True),
    ClocksEventReason(0x100, "DisplayClockSetting", "Display Clock Setting", "display clock setting", False),
)


def reason_names(mask, slowing_only=False):
    """Return the words of the reasons set in a bitmask (int), in bit order; [] for None. slowing_only: only the
    ones that slow the GPU down."""
    if mask is None:
        return []
    return [r.words for r in REASONS if mask & r.bit and (r.slows or not slowing_only)]


def reasons_mask(block):
    """Return the bitmask of a `Clocks Event Reasons` block of `nvidia-smi -q` ({label: `Active`/`Not Active`}),
    or None when there is no block."""
    if not isinstance(block, dict):
        return None
    mask = 0
    for reason in REASONS:
        if flag(block.get(reason.smi_label)):
            mask |= reason.bit
    return mask


def number(text):
    """Return the number a value of nvidia-smi starts with: `7` -> 7, `16x` -> 16, `100.89 W` -> 100.89,
    `700.00 W` -> 700.0 (a decimal point gives a float), `0x0000000000000004` -> 4; `N/A`, `[N/A]`,
    `[Not Supported]`, anything else or not a str -> None."""
    if not isinstance(text, str):
        return None
    stripped = text.strip()
    if stripped[:2].lower() == "0x":
        try:
            return int(stripped, 16)
        except ValueError:
            return None
    match = NUMBER.match(stripped)
    if not match:
        return None
    return float(match.group(1)) if "." in match.group(1) else int(match.group(1))


def integer(text):
    """number(), truncated to an int (`81559` MiB -> 81559); None where there is no number."""
    value = number(text)
    return None if value is None else int(value)


def flag(text):
    """`Yes`/`Enabled`/`Active` -> True, `No`/`Disabled`/`Not Active` -> False, else (or not a str) None."""
    words = {"yes": True, "enabled": True, "active": True, "no": False, "disabled": False, "not active": False}
    return words.get(text.strip().lower()) if isinstance(text, str) else None


def text(value):
    """NVML's str or bytes answer as str (None stays None)."""
    return value.decode() if isinstance(value, bytes) else value


def watts(milliwatts):
    """NVML's power answers (milliwatts, int) in watts (float); None stays None."""
    return None if milliwatts is None else milliwatts / 1000.0


def cuda_version(code):
    """A CUDA version as the driver API and NVML give it (12040: major * 1000 + minor * 10) -> `12.4`; 0 or None
    -> None."""
    if not code:
        return None
    return "%d.%d" % (code // 1000, code % 1000 // 10)
