"""The fallback reader: `nvidia-smi -q` text, parsed into the same per-GPU facts as NVML gives (checks/nvidia/nvml.py).

The output is a tree by indentation, `Label : value` or a section label alone. Field names differ between driver
eras (research notes B.2, from the real captures of nvidia-smi 470.129.06, 510.73.08, 555.42.02, 565.57.01):
`Ecc Mode` (470) vs `ECC Mode`; ECC counts per memory with `Single Bit`/`Double Bit` totals (470) vs `SRAM
Correctable`, `SRAM Uncorrectable` (510) or `SRAM Uncorrectable Parity` + `SRAM Uncorrectable SEC-DED` (555+) and
`DRAM Correctable/Uncorrectable`; `Clocks Throttle Reasons` (up to 525) vs `Clocks Event Reasons` (530+, nvidia-smi(1)
535 changelog); `Power Readings` with `Power Limit`/`Enforced Power Limit` (470) vs `GPU Power Readings` with
`Requested Power Limit`/`Current Power Limit` (555+); `Remapped Rows : N/A` on one line where the GPU has none.
`nvidia-smi -q` has no NVLink section: NVLink needs NVML.
"""

import re

from checks.machine.probe import run_command
from checks.nvidia.parse import flag, number, reasons_mask
from checks.nvidia.records import LiveState

LABEL = re.compile(r"^(\S.*?)\s+: ?(.*)$")
GPU_LABEL = re.compile(r"^GPU [0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f]$")


def tree(text):
    """Return the `-q` text as nested dicts: a section label maps to its dict, `Label : value` to the value."""
    root = {}
    stack = [(-1, root)]
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped in ("...", "[...]"):  # elisions in quoted captures
            continue
        indent = len(raw) - len(raw.lstrip())
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        match = LABEL.match(stripped)
        if match:
            parent[match.group(1)] = match.group(2).strip()
        else:
            node = parent.setdefault(stripped, {})
            stack.append((indent, node))
    return root


def _get(node, *path):
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _first(node, *labels):
    for label in labels:
        if isinstance(node, dict) and label in node:
            return node[label]
    return None


def _total(block, labels):
    values = [number(block.get(label)) for label in labels if isinstance(block, dict) and label in block]
    values = [v for v in values if v is not None]
    return sum(values) if values else None


def ecc_counts(block):
    """Return (corrected, uncorrected) of a `Volatile` or `Aggregate` block, old or new layout."""
    if not isinstance(block, dict):
        return None, None
    if "Single Bit" in block or "Double Bit" in block:  # 470: per memory, with a Total
        return number(_get(block, "Single Bit", "Total")), number(_get(block, "Double Bit", "Total"))
    corrected = _total(block, ("SRAM Correctable", "DRAM Correctable"))
    uncorrected = _total(
        block, ("SRAM Uncorrectable", "SRAM Uncorrectable Parity", "SRAM Uncorrectable SEC-DED", "DRAM Uncorrectable")
    )
    return corrected, uncorrected


def _ecc(g):
    mode = _first(g, "ECC Mode", "Ecc Mode")
    current = flag(_get(mode, "Current"))
    errors = g.get("ECC Errors")
    if current is None and not isinstance(errors, dict):
        return None
    vc, vu = ecc_counts(_get(errors, "Volatile"))
    ac, au = ecc_counts(_get(errors, "Aggregate"))
    return {
        "current": current,
        "pending": flag(_get(mode, "Pending")),
        "volatile_corrected": vc,
        "volatile_uncorrected": vu,
        "aggregate_corrected": ac,
        "aggregate_uncorrected": au,
        "sram_threshold_exceeded": flag(_get(errors, "Aggregate", "SRAM Threshold Exceeded")),
    }


def _pages(g):
    block = g.get("Retired Pages")
    sbe, dbe = number(_get(block, "Single Bit ECC")), number(_get(block, "Double Bit ECC"))
    if sbe is None and dbe is None:
        return None
    pending = next((v for k, v in block.items() if k.startswith("Pending")), None)
    return {"sbe": sbe or 0, "dbe": dbe or 0, "pending": flag(pending)}


def _rows(g):
    block = g.get("Remapped Rows")
    if not isinstance(block, dict) or number(block.get("Correctable Error")) is None:
        return None
    return {
        "correctable": number(block.get("Correctable Error")),
        "uncorrectable": number(block.get("Uncorrectable Error")) or 0,
        "pending": bool(flag(block.get("Pending"))),
        "failure": bool(flag(block.get("Remapping Failure Occurred"))),
    }


def reasons(g):
    """Return the clocks event reasons bitmask of a GPU block (`Clocks Event Reasons`, 530+, or `Clocks Throttle
    Reasons`, up to 525), or None where it has neither."""
    return reasons_mask(_first(g, "Clocks Event Reasons", "Clocks Throttle Reasons"))


def _power(g):
    block = _first(g, "GPU Power Readings", "Power Readings")
    # 470 prints the set limit as `Power Limit` beside `Enforced Power Limit`; 555+ prints `Requested Power Limit`
    # and `Current Power Limit` (read here as the set and the enforced one: an inference from the label names).
    return {
        "limit_w": number(_first(block, "Power Limit", "Requested Power Limit")),
        "default_w": number(_get(block, "Default Power Limit")),
        "enforced_w": number(_first(block, "Enforced Power Limit", "Current Power Limit")),
        "draw_w": number(_get(block, "Power Draw")),
    }


def gpu(label, g, index):
    """Return one GPU's facts from its `GPU 00000000:18:00.0` block (keys as checks/nvidia/nvml.py's)."""
    pci = g.get("PCI") if isinstance(g.get("PCI"), dict) else g  # captures that elide the `PCI` label
    link = pci.get("GPU Link Info")
    pcie = {
        "gen": number(_get(link, "PCIe Generation", "Current")),
        "gen_max": number(_get(link, "PCIe Generation", "Max")),
        "width": number(_get(link, "Link Width", "Current")),
        "width_max": number(_get(link, "Link Width", "Max")),
        "replays": number(pci.get("Replays Since Reset")),
    }
    return {
        "index": index,
        "name": g.get("Product Name"),
        "bus_id": label.split(" ", 1)[1],
        "uuid": g.get("GPU UUID"),
        "ecc": _ecc(g),
        "retired_pages": _pages(g),
        "remapped_rows": _rows(g),
        "pcie": pcie,
        "nvlink": None,
        "reasons": reasons(g),
        "sm_mhz": number(_get(g, "Clocks", "SM")),
        "sm_max_mhz": number(_get(g, "Max Clocks", "SM")),
        "power": _power(g),
        "temp_c": number(_get(g, "Temperature", "GPU Current Temp")),
        "errors": {},
    }


def gpus(text):
    """Return every GPU block of a `nvidia-smi -q` text, in order, as facts."""
    root = tree(text)
    labels = [k for k, v in root.items() if GPU_LABEL.match(k) and isinstance(v, dict)]
    return [gpu(label, root[label], index) for index, label in enumerate(labels)]


def query(smi, timeout, index=None):
    """Run `nvidia-smi -q` (one GPU with index); return (exit code, text), or (None, reason) when it cannot."""
    argv = [smi, "-q"] + (["-i", str(index)] if index is not None else [])
    code, out = run_command(argv, timeout)
    return code, ("nvidia-smi -q %s" % out if code is None and "did not answer" in out else out)


class Reader:
    """Live state of one GPU through `nvidia-smi -q -i N`, for checks/nvidia/gpuinfo.py's HealthSampler (about 1 s
    apart)."""

    source = "nvidia-smi"

    def __init__(self, smi, index, timeout=10.0):
        self.smi, self.index, self.timeout = smi, index, timeout

    def read(self):
        """Return the throttle reasons, SM clock, PCIe link, power and temperature now (None where unknown), as
        LiveState.sample()'s dict; {} when nvidia-smi fails or prints no block for this GPU."""
        code, text = query(self.smi, self.timeout, self.index)
        found = gpus(text) if code == 0 else []
        if not found:
            return {}
        g = found[0]
        return LiveState(
            reasons=g["reasons"],
            sm_mhz=g["sm_mhz"],
            pcie_gen=g["pcie"]["gen"],
            pcie_width=g["pcie"]["width"],
            power_w=g["power"]["draw_w"],
            temp_c=g["temp_c"],
        ).sample()
