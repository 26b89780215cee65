"""Memory-error verdicts: ECC counts (`gpuN-ecc`) and how the GPU repairs bad memory: row remapping on Ampere and
later (`gpuN-remap`), page retirement before (`gpuN-pages`). Each verdict names the NVIDIA source it follows.

ECC counters (nvidia-smi(1) 535, "ECC Errors"): single-bit (corrected) errors "are automatically corrected by the HW
and do not result in data corruption"; double-bit (uncorrected) errors "are detected but not corrected". Volatile
counts are since the last driver load (without persistence mode the driver unloads when no client is left, so they
may reset with each job); aggregate counts are for the GPU's lifetime.
"""

from checks.health.lines import line, read_failure
from checks.report import FAIL, PASS, SKIP, WARN

# DCGM common/DcgmGPUHardwareLimits.h: DCGM_LIMIT_MAX_RETIRED_PAGES 63, _SOFT_LIMIT 15 ("updated to match the field
# diag"); DCGM_LIMIT_MAX_ROW_REMAP_UNCORRECTABLE 512 (the RMA policy's 512 remappings).
RETIRED_PAGES_LIMIT, RETIRED_DBE_SOFT_LIMIT, ROW_REMAP_UNCORRECTABLE_LIMIT = 63, 15, 512


def _n(value):
    return "?" if value is None else str(value)


def check_ecc(gpu):
    """ECC on, no uncorrectable error since the driver loaded, the SRAM RMA threshold not exceeded."""
    failed = read_failure(gpu, "ecc")
    if failed:
        return failed
    e = gpu["ecc"]
    if e is None:
        return line(gpu, "ecc", SKIP, "ECC is not supported or not reported on this GPU", reason="")
    counts = "since driver load %s corrected, %s uncorrectable; lifetime %s corrected, %s uncorrectable" % (
        _n(e["volatile_corrected"]),
        _n(e["volatile_uncorrected"]),
        _n(e["aggregate_corrected"]),
        _n(e["aggregate_uncorrected"]),
    )
    figures = {k: e[k] for k in e}
    if e["volatile_uncorrected"]:
        # DCGM health (DcgmHealthWatch.cpp MonitorMemVolatileDbes): any volatile DBE is a FAIL;
        # dcgm_errors.h DCGM_FR_VOLATILE_DBE_DETECTED_NEXT: "Drain the GPU and reset it or reboot the node."
        return line(
            gpu,
            "ecc",
            FAIL,
            "%d uncorrectable ECC errors since the driver loaded (%s)" % (e["volatile_uncorrected"], counts),
            "0 uncorrectable errors",
            e["volatile_uncorrected"],
            "drain the GPU and reset it (`sudo nvidia-smi -r -i %d`) or reboot the node (DCGM)" % gpu["index"],
            reason="uncorrectable ECC errors",
            **figures,
        )
    if e["sram_threshold_exceeded"]:
        # NVIDIA RMA policy (a100-gpu-mem-error-mgmt, "RMA Policy Thresholds"): more than 4 (parity) or 2 (SECDED)
        # uncorrectable SRAM events in one bank meet the RMA criteria; nvidia-smi shows `SRAM Threshold Exceeded`.
        return line(
            gpu,
            "ecc",
            FAIL,
            "SRAM Threshold Exceeded: uncorrectable SRAM errors meet NVIDIA's RMA threshold (%s)" % counts,
            "SRAM Threshold Exceeded: No",
            "Yes",
            "pull the GPU: run NVIDIA's field diagnostic and ask the vendor for an RMA",
            reason="SRAM uncorrectable errors over NVIDIA's RMA threshold",
            **figures,
        )
    if e["current"] is False:
        # Our verdict, not an NVIDIA threshold: with ECC off nothing is corrected or counted (nvml.h: the counts
        # "Requires ECC Mode to be enabled"), so the memory lines below cannot see errors.
        return line(
            gpu,
            "ecc",
            WARN,
            "ECC is disabled%s: memory errors are neither corrected nor counted"
            % (" (enabled at the next reboot)" if e["pending"] else ""),
            "ECC enabled",
            "disabled",
            "enable it: `sudo nvidia-smi -e 1 -i %d`, then reboot (nvml.h: changing ECC modes requires a reboot)"
            % gpu["index"],
            reason="ECC disabled",
            **figures,
        )
    if e["pending"] is False:
        return line(
            gpu,
            "ecc",
            WARN,
            "ECC is on now but set to be disabled at the next reboot (%s)" % counts,
            "pending ECC mode: enabled",
            "disabled",
            "keep it on: `sudo nvidia-smi -e 1 -i %d`" % gpu["index"],
            reason="ECC to be disabled at the next reboot",
            **figures,
        )
    # Corrected errors are fixed by the hardware (nvidia-smi(1)); DCGM's advice for volatile SBEs is "Monitor - this
    # GPU can still perform workload." (DCGM_FR_VOLATILE_SBE_DETECTED_NEXT); its SBE rate limit is a placeholder
    # ("dummy value until a real one is determined"), so no threshold is applied to them here. Lifetime
    # uncorrectable errors were handled by row remapping or page retirement: the next line judges that.
    return line(gpu, "ecc", PASS, "ECC on; %s" % counts, reason="", **figures)


def check_repair(gpu):
    """Row remapping (Ampere+) or page retirement (earlier): one line, named after what the GPU has."""
    if gpu["remapped_rows"] is not None or read_failure(gpu, "remap"):
        return check_remap(gpu)
    if gpu["retired_pages"] is not None or read_failure(gpu, "pages"):
        return check_pages(gpu)
    return line(
        gpu,
        "remap",
        SKIP,
        "neither row remapping nor page retirement is reported (nvml.h: remapped rows need Ampere or later and are "
        "not reported while MIG instances are active; retired pages need a datacenter GPU of Kepler or later)",
        reason="",
    )


def check_remap(gpu):
    """Row remapping: a failure is a FAIL (RMA criterion), a pending remap a WARN (needs a GPU reset)."""
    failed = read_failure(gpu, "remap")
    if failed:
        return failed
    r = gpu["remapped_rows"]
    rows = "remapped rows: %d correctable, %d uncorrectable" % (r["correctable"], r["uncorrectable"])
    figures = dict(r)
    if r["failure"]:
        # DCGM MonitorMemRowRemapFailures: FAIL; dcgm_errors.h DCGM_FR_ROW_REMAP_FAILURE_NEXT. NVIDIA RMA policy:
        # "the RMA criteria is met when the row-remapping failure flag is set and validated by the field diagnostic".
        return line(
            gpu,
            "remap",
            FAIL,
            "row remapping failed (Remapping Failure Occurred: Yes; %s)" % rows,
            "no remapping failure",
            "failure flag set",
            "row remapping failure indicates unrecoverable memory damage (DCGM): reset the GPU or reboot now, then run "
            "NVIDIA's field diagnostic; a confirmed failure meets NVIDIA's RMA criteria",
            reason="row remapping failed",
            **figures,
        )
    if r["pending"]:
        # nvml.h nvmlDeviceGetRemappedRows: "A reset will be required to actually remap the row. ... A pending
        # remapping won't affect future work on the GPU"; DCGM_FR_PENDING_ROW_REMAP: "Reset GPU".
        return line(
            gpu,
            "remap",
            WARN,
            "row remapping pending: the GPU must be reset for it to take effect (%s)" % rows,
            "no remapping pending",
            "pending",
            "when the GPU is idle, reset it (`sudo nvidia-smi -r -i %d`) or reboot the node; until then it stays "
            "usable (nvml.h: a pending remapping won't affect future work)" % gpu["index"],
            reason="row remapping pending (needs a GPU reset)",
            **figures,
        )
    if r["uncorrectable"] >= ROW_REMAP_UNCORRECTABLE_LIMIT:
        return line(
            gpu,
            "remap",
            WARN,
            "%d rows remapped for uncorrectable errors: NVIDIA's limit of %d is reached"
            % (r["uncorrectable"], ROW_REMAP_UNCORRECTABLE_LIMIT),
            "< %d" % ROW_REMAP_UNCORRECTABLE_LIMIT,
            r["uncorrectable"],
            "run a field diagnostic on the GPU (DCGM)",
            reason="row remapping reserve used up",
            **figures,
        )
    return line(gpu, "remap", PASS, "no row remapping pending or failed; %s" % rows, reason="", **figures)


def check_pages(gpu):
    """Page retirement (before Ampere): DCGM's limits of 63 pages and 15 DBE pages, pending retirements."""
    failed = read_failure(gpu, "pages")
    if failed:
        return failed
    p = gpu["retired_pages"]
    total = p["sbe"] + p["dbe"]
    pages = "retired pages: %d single-bit, %d double-bit" % (p["sbe"], p["dbe"])
    if total >= RETIRED_PAGES_LIMIT:
        # DCGM MonitorMemSbeDbeRetiredPages: >= 63 -> FAIL DCGM_FR_RETIRED_PAGES_LIMIT, next "Run a field diagnostic
        # on the GPU."; NVIDIA's row-remapping page: legacy GPUs support "a maximum of 64 retirements".
        return line(
            gpu,
            "pages",
            FAIL,
            "%s: DCGM's limit of %d is reached (the GPU can retire at most 64)" % (pages, RETIRED_PAGES_LIMIT),
            "< %d retired pages" % RETIRED_PAGES_LIMIT,
            total,
            "pull the GPU: run a field diagnostic on it (DCGM) and ask the vendor about an RMA",
            reason="%d retired pages" % total,
            **p,
        )
    if p["pending"]:
        # DCGM MonitorMemRetiredPending: WARN; next "Monitor - this GPU can still perform workload", with DBEs
        # (dcgm_errors.h:657) "Drain the GPU and reset it or reboot the node to resolve this issue." DPR whitepaper:
        # "the driver will need to be reloaded for the retirement to take effect".
        fix = (
            "drain the GPU and reset it or reboot the node (DCGM)"
            if p["dbe"]
            else "the GPU can still run work (DCGM); reset it or reload the driver when idle to retire the pages"
        )
        return line(
            gpu,
            "pages",
            WARN,
            "pages pending retirement: they retire when the driver reloads or the GPU resets (%s)" % pages,
            "Pending Page Blacklist: No",
            "Yes",
            fix,
            reason="pages pending retirement (needs a GPU reset)",
            **p,
        )
    if p["dbe"] > RETIRED_DBE_SOFT_LIMIT:
        # DCGM fails > 15 DBE pages only when more than one more retired in the past week; this check cannot date them.
        return line(
            gpu,
            "pages",
            WARN,
            "%s: over DCGM's %d double-bit pages; DCGM fails the GPU if more than one of them retired in the past "
            "week, which this check cannot see" % (pages, RETIRED_DBE_SOFT_LIMIT),
            "<= %d double-bit pages" % RETIRED_DBE_SOFT_LIMIT,
            p["dbe"],
            "watch the count (`nvidia-smi -q -d PAGE_RETIREMENT`) or DCGM's health watch; run a field diagnostic",
            reason="%d double-bit retired pages" % p["dbe"],
            **p,
        )
    return line(
        gpu, "pages", PASS, "%s, none pending (DCGM's limit: %d)" % (pages, RETIRED_PAGES_LIMIT), reason="", **p
    )
