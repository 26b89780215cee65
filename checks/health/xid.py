"""Xid errors since boot: read the kernel log (dmesg, else `journalctl -k -b`), find the NVRM Xid lines of every
driver era, map each to its GPU and to NVIDIA's catalog action. Where the log cannot be read, say why and how to
grant it.

Line formats (research notes A.4, from open-gpu-kernel-modules kernel_rc.c, krcReportXid): 515.43.04-565.77 print
`NVRM: Xid (PCI:%04x:%02x:%02x): %d, pid=%s, name=%s, %s`; 570.86.15+ `NVRM: Xid (PCI:...): %d, %s` when no process
is known; MIG adds ` GPU-I:%02u` (and ` GPU-CI:%02u`) inside the parentheses; very old drivers wrote the bus id
without `PCI:` (`NVRM: Xid (0000:03:00): 14, Channel 00000001`, NVIDIA's Xid document). One expression covers them.
"""

import re
import shutil

from checks.machine.probe import run_command
from checks.report import FAIL, PASS, SKIP, WARN, Result

XID_LINE = re.compile(
    r"NVRM: Xid \((?:PCI:)?([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2})[^)]*\): (\d+),\s*(.*)$", re.M
)
# Xid -> (nverror.h mnemonic, description, catalog action, severity, status here). Mnemonics: open-gpu-kernel-modules
# src/common/sdk/nvidia/inc/nverror.h; action and severity: NVIDIA's machine-readable copy of the Xid catalog
# (NVIDIA/NVSentinel gpu-health-monitor/xiderrorsmapping.csv); descriptions marked * are the commonly quoted NVIDIA
# texts the notes could not see on NVIDIA's own page. Status: FATAL -> FAIL; DCGM's health watch WARN
# (DcgmHealthWatch.cpp, Xid handling) -> WARN; the rest (application errors, IGNORE) -> PASS, still listed.
CATALOG = {
    13: ("ROBUST_CHANNEL_GR_EXCEPTION", "Graphics Engine Exception", "RESTART_APP", "NONFATAL", PASS),
    31: ("ROBUST_CHANNEL_FIFO_ERROR_MMU_ERR_FLT", "GPU memory page fault*", "RESTART_APP", "NONFATAL", WARN),
    43: ("ROBUST_CHANNEL_RESETCHANNEL_VERIF_ERROR", "GPU stopped processing*", "IGNORE", "NONFATAL", WARN),
    45: (
        "ROBUST_CHANNEL_PREEMPTIVE_REMOVAL",
        "Preemptive cleanup, due to previous errors*",
        "WORKFLOW_XID_45",
        "NONFATAL",
        PASS,
    ),
    48: ("ROBUST_CHANNEL_GPU_ECC_DBE", "Double Bit ECC Error", "WORKFLOW_XID_48", "FATAL", FAIL),
    61: (
        "PMU_BREAKPOINT",
        "Internal micro-controller breakpoint/warning*",
        "UNEXPECTED_ERR_REPORT_ISSUE",
        "FATAL",
        FAIL,
    ),
    62: ("PMU_HALT_ERROR", "Internal micro-controller halt*", "RESET_GPU", "FATAL", FAIL),
    63: (
        "INFOROM_PAGE_RETIREMENT_EVENT",
        "ECC page retirement or row remapping recording event*",
        "IGNORE",
        "NONFATAL",
        WARN,
    ),
    64: (
        "INFOROM_PAGE_RETIREMENT_FAILURE",
        "ECC page retirement or row remapper recording failure*",
        "RESET_GPU",
        "FATAL",
        FAIL,
    ),
    74: ("NVLINK_ERROR", "NVLink Error*", "WORKFLOW_NVLINK_ERR", "FATAL", FAIL),
    79: ("ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS", "GPU has fallen off the bus", "RESTART_BM", "FATAL", FAIL),
    92: ("EXCESSIVE_SBE_INTERRUPTS", "High single-bit ECC error rate*", "IGNORE", "NONFATAL", PASS),
    94: ("ROBUST_CHANNEL_CONTAINED_ERROR", "Contained ECC error*", "RESTART_APP", "NONFATAL", WARN),
    95: ("ROBUST_CHANNEL_UNCONTAINED_ERROR", "Uncontained ECC error*", "RESET_GPU", "FATAL", FAIL),
    119: ("GSP_RPC_TIMEOUT", "GSP RPC Timeout", "RESET_GPU", "FATAL", FAIL),
    120: ("GSP_ERROR", "GSP Error", "RESET_GPU", "FATAL", FAIL),
    154: ("GPU_RECOVERY_ACTION_CHANGED", "GPU recovery action changed", "FOLLOW_OTHER_XID", "NONFATAL", PASS),
}
# What each catalog action asks, in commands (our words: NVIDIA's definitions of the buckets were not readable).
ACTIONS = {
    "RESTART_APP": "restart the application; the GPU stays usable",
    "IGNORE": "no action",
    "RESET_GPU": "drain the GPU and reset it (`sudo nvidia-smi -r -i N`) or reboot",
    "RESTART_BM": "power-cycle the node (the GPU is gone from PCIe); if it recurs, reseat the GPU and check its power "
    "and cooling (DCGM: then run the field diagnostic)",
    "UNEXPECTED_ERR_REPORT_ISSUE": "report it to NVIDIA with `sudo nvidia-bug-report.sh`",
    "FOLLOW_OTHER_XID": "follow the action of the Xid it accompanies",
}
# Where DCGM warns of an Xid the catalog says to ignore, what DCGM's warning is about (DcgmHealthWatch.cpp).
DCGM_WARNS = {
    43: "DCGM's health watch reports it as a warning",
    63: "DCGM warns of it as a pending retirement: the gpuN-remap or gpuN-pages line says whether a reset is needed",
}
SEVERITY = {PASS: 0, WARN: 1, FAIL: 2}
GRANT = (
    "run it as root (`sudo python -m checks health`), or let this user read the log: `sudo sysctl "
    "kernel.dmesg_restrict=0` for dmesg (with dmesg_restrict=1 it needs CAP_SYSLOG, kernel sysctl docs), or add it "
    "to the systemd-journal or adm group for `journalctl -k` (systemd: members of systemd-journal, adm and wheel can "
    "read all journal files)"
)
# journalctl's words when an unprivileged user sees no kernel messages (systemd; a captured unprivileged run).
HIDDEN = ("not seeing messages from other users and the system", "No journal files were opened", "No journal files")


def action(code):
    """Return the catalog action of an Xid in words."""
    act = CATALOG[code][2] if code in CATALOG else None
    if act is None:
        return "look it up in NVIDIA's Xid catalog (docs.nvidia.com/deploy/xid-errors)"
    words = ACTIONS.get(act, "follow NVIDIA's %s workflow in the Xid catalog (docs.nvidia.com/deploy/xid-errors)" % act)
    return "%s (catalog: %s); %s" % (words, act, DCGM_WARNS[code]) if code in DCGM_WARNS else words


def read_kernel_log(run=run_command, which=shutil.which, timeout=30.0):
    """Return {"source": "dmesg" or "journalctl -k -b", "text"}, or {"source": None, "errors": [why each failed]}."""
    failures = []
    for argv in (["dmesg"], ["journalctl", "-k", "-b", "--no-pager"]):
        label = " ".join(argv[:3])
        if not which(argv[0]):
            failures.append("%s: not installed" % argv[0])
            continue
        code, out = run(argv, timeout)
        hidden = any(words in (out or "") for words in HIDDEN)
        if code == 0 and not hidden:
            return {"source": label, "text": out}
        first = next((s.strip() for s in (out or "").splitlines() if s.strip()), "no output")
        if hidden:
            first = next(s.strip() for s in out.splitlines() if any(w in s for w in HIDDEN))
        said = first if first.startswith(argv[0] + ":") else "%s: %s" % (label, first)  # dmesg names itself
        failures.append("%s%s" % (said, " (exit %s)" % code if code not in (0, None) else ""))
    return {"source": None, "errors": failures}


def parse(text):
    """Return the Xid events of a kernel log: [{pci: `0000:3b:00`, xid, text, line}], in order."""
    return [
        {"pci": m.group(1).lower(), "xid": int(m.group(2)), "text": m.group(3).strip(), "line": m.group(0)}
        for m in XID_LINE.finditer(text or "")
    ]


def pci_key(bus_id):
    """(domain, bus, device) of `00000000:3B:00.0` (NVML) or `0000:3b:00` (an Xid line), or None."""
    m = re.match(r"^([0-9a-fA-F]+):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})", bus_id or "")
    return tuple(int(part, 16) for part in m.groups()) if m else None


def check_xid(log, gpus):
    """The `xid` line: every Xid since boot (or in the ring buffer) grouped by Xid and GPU, judged by the catalog."""
    if log["source"] is None:
        return Result(
            name="xid",
            status=SKIP,
            summary="the kernel log cannot be read, so Xid errors are not checked: %s; to check them, %s"
            % ("; ".join(log["errors"]), GRANT),
            data={"reason": "kernel log unreadable", "errors": log["errors"]},
        )
    where = "since boot" if log["source"].startswith("journalctl") else "in the kernel ring buffer"
    events = parse(log["text"])
    if not events:
        return Result(
            name="xid", status=PASS, summary="no Xid errors %s (%s)" % (where, log["source"]), data={"reason": "no Xid"}
        )
    by_bus = {pci_key(g.get("bus_id")): g for g in gpus}
    groups = {}
    for event in events:
        groups.setdefault((event["xid"], event["pci"]), []).append(event)
    status, parts, judged, hints = PASS, [], [], []
    for (code, pci), seen in sorted(groups.items()):
        entry = CATALOG.get(code)
        this = entry[4] if entry else WARN  # an Xid this catalog does not know: look it up
        gpu = by_bus.get(pci_key(pci))
        who = "GPU %d (%s)" % (gpu["index"], pci) if gpu else pci
        what = entry[1].rstrip("*") if entry else seen[-1]["text"] or "not in this check's catalog"
        parts.append("Xid %d x%d on %s: %s [%s]" % (code, len(seen), who, what, entry[2] if entry else "unknown"))
        if SEVERITY[this] > SEVERITY[status]:
            status = this
        if this != PASS:
            hints.append("Xid %d: %s" % (code, action(code)))
        judged.append((this, gpu, "Xid %d (%s)" % (code, what) if gpu else "Xid %d on %s (%s)" % (code, pci, what)))
    # For the node line: the events at this line's status, per GPU, and those on a bus id no GPU here has.
    by_gpu = {}
    for this, gpu, reason in judged:
        if this == status and gpu:
            by_gpu.setdefault(str(gpu["index"]), reason)
    unmapped = [reason for this, gpu, reason in judged if this == status and not gpu]
    summary = "%d Xid events %s (%s): %s" % (len(events), where, log["source"], "; ".join(parts))
    return Result(
        name="xid",
        status=status,
        summary=summary,
        expected="no Xid that needs action",
        actual="; ".join("Xid %d x%d" % (c, len(s)) for (c, _), s in sorted(groups.items())),
        hint="; ".join(dict.fromkeys(hints)) or None,
        data={"reason": "Xid errors", "by_gpu": by_gpu, "unmapped": unmapped, "events": events[-50:]},
    )
