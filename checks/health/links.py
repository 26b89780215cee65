"""Link verdicts: PCIe (`gpuN-pcie`: generation and width under load against the maximum, the replay rate against
DCGM's per-generation rate) and NVLink (`gpuN-nvlink`: links up, error counters during the run).

`load` is what checks/health/load.py saw: {"samples": [live readings during the load], "seconds": the window
between the reading before and after, "after": the GPU's facts read after the load} or {"reason": why no load}.
"""

import math

from checks.health.lines import line, read_failure
from checks.report import FAIL, PASS, SKIP, WARN

# DCGM modules/health/DcgmHealthWatch.cpp GetExpectedPcieReplayRate: replays per minute per lane at a bit error rate
# of 1e-12 (lane rate in Gb/s x 1e-12 x 1e9 x 60): gen 1-6; the limit is ceil(rate x lanes) for the current link,
# generations above 6 use gen 6's. MonitorPcie: more replays than that in its window (a minute) -> WARN.
REPLAYS_PER_MINUTE_PER_LANE = {1: 0.15, 2: 0.3, 3: 0.48, 4: 0.96, 5: 1.92, 6: 3.84}
PCIE_NEXT = (
    "reconnect the PCIe card; run the system's PCIe diagnostics to check the hops off the GPU board; if the issue is "
    "on the board, run the field diagnostic (DCGM)"
)
# DCGM common/DcgmGPUHardwareLimits.h: DCGM_LIMIT_MAX_NVLINK_ERROR 1; DCGM_LIMIT_MAX_NVLINK_CRC_ERROR 100.0 ("RM has
# informed us that CRC errors only matter at rates of 100+ per second").
NVLINK_ERROR_LIMIT, NVLINK_CRC_PER_SECOND = 1, 100.0


def replay_limit(gen, width):
    """DCGM's expected PCIe replays per minute for a link."""
    return math.ceil(REPLAYS_PER_MINUTE_PER_LANE[min(max(gen, 1), 6)] * width)


def _seen(samples, key):
    values = [s[key] for s in samples if s.get(key) is not None]
    return max(values) if values else None


def check_pcie(gpu, load):
    """Under load the link runs at its maximum generation and width; replays stay under DCGM's rate."""
    failed = read_failure(gpu, "pcie")
    if failed:
        return failed
    p, samples = gpu["pcie"], load.get("samples") or []
    if p["gen_max"] is None and p["gen"] is None:
        return line(gpu, "pcie", SKIP, "the PCIe link is not reported", reason="")
    gen, width = _seen(samples, "pcie_gen"), _seen(samples, "pcie_width")
    link = "gen %s x%s, max gen %s x%s" % (gen or p["gen"], width or p["width"], p["gen_max"], p["width_max"])
    after = (load.get("after") or {}).get("pcie") or {}
    data = dict(p, gen_under_load=gen, width_under_load=width)
    rate = None
    if p["replays"] is not None and after.get("replays") is not None and load.get("seconds"):
        rate = (after["replays"] - p["replays"]) * 60.0 / load["seconds"]
        data.update(replays_per_minute=round(rate, 1), window_s=round(load["seconds"], 1))
    limit = replay_limit(gen or p["gen"], width or p["width"]) if rate is not None and (gen or p["gen"]) else None
    if limit is not None and rate > limit:
        return line(
            gpu,
            "pcie",
            WARN,
            "%d PCIe replays in %.0f s = %.0f per minute, above DCGM's %d per minute for gen %s x%s"
            % (after["replays"] - p["replays"], load["seconds"], rate, limit, gen or p["gen"], width or p["width"]),
            "<= %d replays per minute" % limit,
            "%.0f per minute" % rate,
            PCIE_NEXT,
            reason="PCIe replays at %.0f/min" % rate,
            **data,
        )
    replays = "%s replays since reset" % ("?" if p["replays"] is None else p["replays"])
    if rate is not None:
        replays += ", %.0f per minute during the run (DCGM's limit %d)" % (rate, limit)
    if not samples:
        # nvidia-smi(1): current generation and width "may be reduced when the GPU is not in use" - not judged at rest.
        return line(
            gpu,
            "pcie",
            PASS,
            "at rest: %s (not judged: a link may downshift when idle); %s" % (link, replays),
            reason="",
            **data,
        )
    if (gen is not None and p["gen_max"] and gen < p["gen_max"]) or (
        width is not None and p["width_max"] and width < p["width_max"]
    ):
        # Our verdict: the maximum is what this GPU and this slot can do together (nvml.h / nvidia-smi(1)), so a
        # lower link under load is a degraded link (a bad riser, slot or seating), not a power-saving state.
        return line(
            gpu,
            "pcie",
            WARN,
            "under load the link ran at gen %s x%s, below its max gen %s x%s (%s)"
            % (gen, width, p["gen_max"], p["width_max"], replays),
            "gen %s x%s under load" % (p["gen_max"], p["width_max"]),
            "gen %s x%s" % (gen, width),
            "reseat the GPU (and its riser or cable); check the slot's generation in the BIOS and `sudo lspci -vv` "
            "(LnkSta vs LnkCap)",
            reason="PCIe link degraded to gen %s x%s" % (gen, width),
            **data,
        )
    return line(gpu, "pcie", PASS, "under load: %s; %s" % (link, replays), reason="", **data)


def check_nvlink(gpu, load):
    """Every present NVLink link up; no replay or recovery error and CRC errors under 100/s during the run (DCGM)."""
    failed = read_failure(gpu, "nvlink")
    if failed:
        return failed
    nv = gpu["nvlink"]
    if nv is None:
        how = (
            "nvidia-smi -q does not report NVLink: install nvidia-ml-py"
            if gpu.get("source") == "nvidia-smi"
            else ("this GPU has no NVLink (no link answers nvmlDeviceGetNvLinkState)")
        )
        return line(gpu, "nvlink", SKIP, how, reason="")
    links = nv["links"]
    down = sorted(k for k, v in links.items() if not v["up"])
    data = {"links": len(links), "down": down}
    if down and len(down) == len(links):
        # Not DCGM's verdict (DCGM fails any link down): a PCIe card without its NVLink bridge reports its links
        # down too, and NVML reports the links of a MIG-enabled GPU as down (DCGM DcgmTopology.cpp).
        return line(
            gpu,
            "nvlink",
            WARN,
            "none of its %d NVLink links is up" % len(links),
            "links up",
            "all down",
            "if this GPU has NVLink peers (SXM, or a bridge), check `nvidia-smi nvlink -s` and the fabric manager "
            "(`systemctl status nvidia-fabricmanager`); MIG mode also shows the links down",
            reason="no NVLink link up",
            **data,
        )
    if down:
        # DCGM MonitorNVLink: a link in state Down -> FAIL DCGM_FR_NVLINK_DOWN.
        return line(
            gpu,
            "nvlink",
            FAIL,
            "NVLink link%s %s down, %d of %d up"
            % ("s" if len(down) > 1 else "", ", ".join(map(str, down)), len(links) - len(down), len(links)),
            "all %d links up" % len(links),
            "%d down" % len(down),
            "reset the GPU or reboot; if the link stays down, run the field diagnostic and check the NVSwitch "
            "baseboard",
            reason="NVLink link %s down" % ", ".join(map(str, down)),
            **data,
        )
    after = ((load.get("after") or {}).get("nvlink") or {}).get("links") or {}
    seconds = load.get("seconds")
    if not after or not seconds:
        return line(
            gpu,
            "nvlink",
            PASS,
            "%d of %d links up (error counters not rated without a load)" % (len(links), len(links)),
            reason="",
            **data,
        )
    rises = {}
    for counter in ("replay", "recovery", "crc_flit", "crc_data"):
        rise = sum(
            (after.get(k, {}).get(counter) or 0) - (v.get(counter) or 0)
            for k, v in links.items()
            if v.get(counter) is not None
        )
        rises[counter] = rise
    data.update(rises=rises, window_s=round(seconds, 1))
    crc = (rises["crc_flit"] + rises["crc_data"]) / seconds
    # DCGM MonitorNVLink: replay or recovery errors >= DCGM_LIMIT_MAX_NVLINK_ERROR in the window -> FAIL
    # (DCGM_FR_NVLINK_ERROR_CRITICAL); CRC errors >= 100/s -> FAIL; fewer CRC errors -> WARN.
    if rises["replay"] + rises["recovery"] >= NVLINK_ERROR_LIMIT or crc >= NVLINK_CRC_PER_SECOND:
        status, hint = (
            FAIL,
            "reset the GPU or reboot; if errors recur, run the field diagnostic (DCGM: NVLink critical)",
        )
    elif rises["crc_flit"] + rises["crc_data"] >= NVLINK_ERROR_LIMIT:
        status, hint = WARN, "watch the CRC counters (`nvidia-smi nvlink -e`); DCGM fails at 100 per second"
    else:
        return line(
            gpu,
            "nvlink",
            PASS,
            "%d of %d links up; no error counter rose in %.0f s" % (len(links), len(links), seconds),
            reason="",
            **data,
        )
    counts = ", ".join("%s +%d" % (k, v) for k, v in rises.items() if v)
    return line(
        gpu,
        "nvlink",
        status,
        "NVLink errors during the %.0f s run: %s (CRC %.1f/s)" % (seconds, counts, crc),
        "no replay or recovery error, CRC < %g/s" % NVLINK_CRC_PER_SECOND,
        counts,
        hint,
        reason="NVLink errors: %s" % counts,
        **data,
    )
