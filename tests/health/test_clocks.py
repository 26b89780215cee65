"""Clocks event reasons at rest and under load (DCGM's failure mask) and the power limit against its default,
through the fake NVML."""

import fakes

from checks.health import clocks
from checks.nvidia import nvml


def read(**changes):
    return nvml.gpus(fakes.pynvml_health([dict(fakes.HEALTH_H100, **changes)]), [0])[0]


def samples(*masks, sm=1980, power=690.0):
    return {"samples": [{"reasons": m, "sm_mhz": sm, "power_w": power} for m in masks], "seconds": 5.0}


def test_hw_slowdown_or_thermal_during_load_fails():
    """HW slowdown (0x8) or HW thermal slowdown (0x40) in a sample under load -> FAIL (DcgmRecorder failureMask)."""
    for bit in (0x8, 0x20, 0x40, 0x80):
        result = clocks.check_clocks(read(), samples(0x4, 0x4 | bit, 0x4))
        assert result.status == "FAIL", bit
        assert "in 1 of 3 samples" in result.summary and result.hint
    assert "power supply" in clocks.check_clocks(read(), samples(0x80)).hint


def test_the_software_power_cap_at_full_load_passes():
    """SW power cap (0x4) is normal at full load: PASS, with its share of samples."""
    result = clocks.check_clocks(read(), samples(0x4, 0x4, 0x0, 0x4))
    assert result.status == "PASS" and "software power cap 75%" in result.summary


def test_at_rest_a_slowdown_only_warns():
    """Without a load, HW slowdown may be a P-state change (nvml.h): WARN, not FAIL."""
    result = clocks.check_clocks(read(reasons=0x1 | 0x8), {"reason": "--no-load"})
    assert result.status == "WARN" and "at rest" in result.summary
    assert clocks.check_clocks(read(), {"reason": "--no-load"}).status == "PASS"


def test_a_470_driver_answers_through_the_throttle_reasons_call():
    """nvmlDeviceGetCurrentClocksEventReasons is FUNCTION_NOT_FOUND on 470: the Throttle call is used."""
    module = fakes.pynvml_health([dict(fakes.HEALTH_V100, reasons=0x1)], driver="470.129.06", event_reasons=False)
    gpu = nvml.gpus(module, [0])[0]
    assert gpu["reasons"] == 0x1 and not gpu["errors"]


def test_an_enforced_power_limit_below_the_default_warns():
    """Enforced 500 W against a 700 W default: WARN, restore with nvidia-smi -pl (or the BMC set it)."""
    result = clocks.check_power(read(power_mw=(700000, 700000, 500000, 480000)), samples(0x4, power=499.0))
    assert result.status == "WARN" and "500 W is below the default 700 W" in result.summary
    assert "nvidia-smi -pl 700 -i 0" in result.hint


def test_the_default_power_limit_passes_with_the_draw_seen():
    result = clocks.check_power(read(), samples(0x4, power=698.2))
    assert result.status == "PASS" and "drew up to 698 W" in result.summary
