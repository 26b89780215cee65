"""Clock and power verdicts: the clocks event (throttle) reasons at rest and under load (`gpuN-clocks`), and the
power limit against its default (`gpuN-power`).

Which reasons mean trouble is DCGM's rule: its diagnostic fails a run on HW slowdown, SW thermal slowdown, HW
thermal slowdown or HW power brake (nvvs/src/DcgmRecorder.cpp:956-957, `failureMask`); a SW power cap, idle,
application clocks and sync boost are not failures (a GPU at full load normally runs into its power cap). The
bitmask is instantaneous, so it is sampled during the load (research notes A.7).
"""

from checks.health.lines import line, read_failure
from checks.nvidia import parse
from checks.report import FAIL, PASS, SKIP, WARN

FAILURE_MASK = 0x8 | 0x20 | 0x40 | 0x80
# DCGM's detail per reason (DcgmRecorder.cpp:994-1012); HW thermal slowdown's from nvml.h.
DETAILS = {
    0x8: "either the temperature is too high or there is a power supply problem (the power brake assertion has been "
    "tripped)",
    0x20: "the GPU or its memory have reached unsafe temperatures",
    0x40: "the temperature is too high (HW Thermal Slowdown halves the clocks or more)",
    0x80: "the power brake assertion has triggered. Please check the power supply.",
}
NAMES = {reason.bit: reason.words for reason in parse.REASONS}  # checks/nvidia/parse.py, the one table


def names(mask):
    """The names of the reasons in a bitmask (checks/nvidia/parse.py's words)."""
    return parse.reason_names(mask)


def check_clocks(gpu, load):
    """Under load no reason of DCGM's failure mask; at rest (no load possible) they are only a warning, because
    nvml.h says HW slowdown "may be also reported during PState or clock change"."""
    failed = read_failure(gpu, "clocks")
    if failed:
        return failed
    samples = [s for s in load.get("samples") or [] if s.get("reasons") is not None]
    rest = gpu["reasons"]
    clock = "; SM %s MHz (max %s)" % (gpu["sm_mhz"], gpu.get("sm_max_mhz") or "?") if gpu.get("sm_mhz") else ""
    if not samples:
        if rest is None:
            return line(gpu, "clocks", SKIP, "the clocks event reasons are not reported", reason="")
        bad = rest & FAILURE_MASK
        at_rest = "at rest (no load): %s%s" % (", ".join(names(rest)) or "no reason active", clock)
        if bad:
            return line(
                gpu,
                "clocks",
                WARN,
                at_rest,
                "no slowdown",
                ", ".join(names(bad)),
                "check cooling and power: %s; rerun with a load (torch with CUDA) to judge it"
                % "; ".join(DETAILS[b] for b in DETAILS if bad & b),
                reason="%s at rest" % ", ".join(names(bad)),
                reasons=rest,
            )
        return line(gpu, "clocks", PASS, at_rest, reason="", reasons=rest)
    seen = {}
    for s in samples:
        for bit in NAMES:
            if s["reasons"] & bit:
                seen[bit] = seen.get(bit, 0) + 1
    share = {NAMES[b]: round(n / len(samples), 3) for b, n in seen.items()}
    clocks = sorted(s["sm_mhz"] for s in samples if s.get("sm_mhz") is not None)
    median = "SM median %s MHz (max %s)" % (clocks[len(clocks) // 2] if clocks else "?", gpu.get("sm_max_mhz") or "?")
    data = dict(samples=len(samples), share=share, reasons_at_rest=rest)
    bad = [b for b in seen if b & FAILURE_MASK]
    if bad:
        return line(
            gpu,
            "clocks",
            FAIL,
            "under load: %s in %s of %d samples; %s"
            % (", ".join(NAMES[b] for b in bad), "/".join(str(seen[b]) for b in bad), len(samples), median),
            "no HW slowdown, thermal slowdown or power brake",
            ", ".join(NAMES[b] for b in bad),
            "%s: check airflow, fans, inlet temperature and the power supply (`nvidia-smi -q -d PERFORMANCE`)"
            % "; ".join(DETAILS[b] for b in sorted(bad)),
            reason="%s under load" % ", ".join(NAMES[b] for b in bad),
            **data,
        )
    normal = ", ".join("%s %d%%" % (k, round(100 * v)) for k, v in share.items()) or "no reason active"
    return line(gpu, "clocks", PASS, "under load (%d samples): %s; %s" % (len(samples), normal, median), **data)


def check_power(gpu, load):
    """The enforced power limit is not below the default one (our verdict; see below)."""
    failed = read_failure(gpu, "power")
    if failed:
        return failed
    p = gpu["power"]
    if p["default_w"] is None or (p["enforced_w"] is None and p["limit_w"] is None):
        return line(gpu, "power", SKIP, "the power limits are not reported", reason="")
    limit = p["enforced_w"] if p["enforced_w"] is not None else p["limit_w"]
    draws = [s["power_w"] for s in load.get("samples") or [] if s.get("power_w") is not None]
    drew = ("; drew up to %.0f W under load" % max(draws)) if draws else ""
    data = dict(p, max_draw_w=max(draws) if draws else None)
    lowest = min(x for x in (p["enforced_w"], p["limit_w"]) if x is not None)
    if lowest < p["default_w"]:
        # Derived, not an NVIDIA threshold: nvml.h says the enforced limit takes "all limiters" into account,
        # "the out of band power limit interface" included; below the default the GPU runs slower than it should.
        return line(
            gpu,
            "power",
            WARN,
            "power limit %.0f W is below the default %.0f W%s" % (lowest, p["default_w"], drew),
            "%.0f W (the default)" % p["default_w"],
            "%.0f W" % lowest,
            "restore it with `sudo nvidia-smi -pl %.0f -i %d`; if it comes back lower, the BMC (out-of-band) sets it"
            % (p["default_w"], gpu["index"]),
            reason="power limit %.0f W below the default %.0f W" % (lowest, p["default_w"]),
            **data,
        )
    return line(
        gpu, "power", PASS, "limit %.0f W (default %.0f W)%s" % (limit, p["default_w"], drew), reason="", **data
    )
