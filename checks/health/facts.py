"""Collect what health judges: the driver's facts and failure state (checks/nvidia/driver.py), the evidence of NVIDIA
hardware (checks/machine/probe.py), each GPU's health facts at rest (NVML through nvidia-ml-py, else
`nvidia-smi -q`), the kernel log, whether torch can load the GPUs and which CUDA device each GPU is; then, once, the
load itself and a second reading of the GPUs after it (the counters' window).
"""

import os
import shutil
import time

from checks.health import lines, load, xid
from checks.machine import probe
from checks.nvidia import driver, nvml, smi
from checks.report import UsageError


class Node:
    """This machine as health sees it; `gpus` are the selected GPUs' facts at rest."""

    def __init__(self, args, progress=None):
        self.args, self.progress = args, progress or (lambda text: None)
        self.timeout = min(args.timeout, 60.0)
        self.pynvml = driver.import_pynvml()
        self.driver = driver.facts(self.timeout, pynvml=self.pynvml)
        broken = self.driver["state"] or not self.driver["present"]
        self.hardware = probe.nvidia_hardware() if broken else []
        self.source, self.smi, self.gpus, self.failure, self.everyone = None, None, [], None, []
        if not broken:
            self._read()
        needed = self.gpus or self.hardware or self.failure or self.driver["state"]
        self.kernel_log = xid.read_kernel_log() if needed else None
        self.torch, self.cuda_index, self.load_reason, self._load = None, {}, None, None
        if self.gpus:
            self._plan_load()

    # ---- the GPUs at rest ------------------------------------------------------------------------------------------

    def _read(self):
        if self.driver["source"] == "NVML":
            self.source = "NVML"
            self.pynvml.nvmlInit()
            self.everyone = [
                {"index": i, "bus_id": nvml.Device(self.pynvml, i).bus_id()} for i in range(nvml.count(self.pynvml))
            ]
        else:
            self.source, self.smi = "nvidia-smi -q", shutil.which("nvidia-smi")
            code, text = smi.query(self.smi, self.timeout)
            if code != 0:
                self.failure = (text or "", code)
                return
            self.everyone = smi.gpus(text)
            if not self.everyone and self.driver["gpus"]:
                self.failure = ("nvidia-smi -q printed no GPU block this check can read:\n" + text[:300], None)
                return
        wanted = self.args.gpu if self.args.gpu is not None else [g["index"] for g in self.everyone]
        unknown = [i for i in wanted if not 0 <= i < len(self.everyone)]
        if unknown:
            raise UsageError(
                "--gpu %s: this node has %d GPUs (0-%d)" % (unknown[0], len(self.everyone), len(self.everyone) - 1)
            )
        if self.source == "NVML":
            self.gpus = self.read_again(sorted(set(wanted)))
        else:  # `nvidia-smi -q` above already read every GPU's facts: keep the selected ones
            self.gpus = self._stamp([g for g in self.everyone if g["index"] in wanted])

    def read_again(self, indices=None):
        """Read the GPUs' facts now (all selected ones by default)."""
        indices = [g["index"] for g in self.gpus] if indices is None else indices
        if self.source == "NVML":
            found = nvml.gpus(self.pynvml, indices)
        else:
            code, text = smi.query(self.smi, self.timeout)
            found = [g for g in (smi.gpus(text) if code == 0 else []) if g["index"] in indices]
        return self._stamp(found)

    def _stamp(self, found):
        for g in found:
            g.update(source="NVML" if self.source == "NVML" else "nvidia-smi", read_at=time.monotonic())
        return found

    # ---- the load ------------------------------------------------------------------------------------------------

    def _plan_load(self):
        if self.args.no_load:
            self.load_reason = "--no-load"
            return
        torch, error = probe.import_torch()
        if torch is None:
            self.load_reason = "torch does not import (%s)" % error[0]
            return
        self.torch = torch
        if probe.build_flavour(torch) != "cuda":
            self.load_reason = "torch %s is a %s build (run it in a CUDA environment)" % (
                torch.__version__,
                probe.build_flavour(torch),
            )
            return
        # Before CUDA starts (here and in the probe's child): CUDA numbers GPUs in PCI order like NVML, and cuBLAS
        # is deterministic even across streams (cuBLAS documentation, "Results reproducibility").
        os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        self.progress("starting CUDA in a child process")
        seen = probe.gpu_probe(self.timeout)
        if not (seen.get("available") and seen.get("kernel_ok")):
            words = seen.get("error") or "; ".join(seen.get("warnings") or []) or "torch sees no usable CUDA GPU"
            self.load_reason = "CUDA is not usable from torch: %s (`python -m checks verify` says why)" % words
            return
        self.cuda_index = match(torch, self.gpus, self.everyone)

    def why_not_loaded(self, gpu):
        """Return why this GPU gets no load (None when it does)."""
        if self.load_reason:
            return self.load_reason
        if gpu["index"] not in self.cuda_index:
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
            return (
                "torch does not see it (CUDA_VISIBLE_DEVICES=%s)" % visible
                if visible is not None
                else "cannot tell which CUDA device it is"
            )
        return None

    def untested(self):
        """Return which GPUs get no load and why, in a few words (None when every GPU is loaded)."""
        if self.load_reason or not self.gpus:
            return self.load_reason
        left = [g for g in self.gpus if self.why_not_loaded(g)]
        if not left:
            return None
        return "GPU %s (%s)" % (", ".join(str(g["index"]) for g in left), self.why_not_loaded(left[0]))

    def loaded(self):
        """Run the load once (all GPUs together); return {index: outcome} and the second reading."""
        if self._load is None:
            targets = [
                (g["index"], "cuda:%d" % self.cuda_index[g["index"]]) for g in self.gpus if not self.why_not_loaded(g)
            ]
            readers = {
                i: nvml.Reader(self.pynvml, i) if self.source == "NVML" else smi.Reader(self.smi, i) for i, _ in targets
            }
            quick = "quick" if self.args.quick else "full"
            outcomes = load.run(self.torch, targets, load.SETTINGS[quick], readers, self.progress) if targets else {}
            after = {g["index"]: g for g in self.read_again()} if targets else {}
            self._load = (outcomes, after)
        return self._load

    def load_for(self, gpu):
        """What the link and clock verdicts need of the load: samples, the counters' window, the reading after."""
        reason = self.why_not_loaded(gpu)
        if reason:
            return {"reason": reason}
        outcomes, after = self.loaded()
        mine, later = outcomes.get(gpu["index"]) or {}, after.get(gpu["index"])
        seconds = later["read_at"] - gpu["read_at"] if later else None
        return {"samples": mine.get("samples") or [], "seconds": seconds, "after": later, "outcome": mine}


def match(torch, gpus, everyone):
    """Map NVML GPU index -> CUDA device index: by UUID or PCI address where this torch reports them, else by
    order when CUDA numbers every GPU in PCI order (CUDA_DEVICE_ORDER=PCI_BUS_ID, no CUDA_VISIBLE_DEVICES)."""
    count = torch.cuda.device_count()
    props = [torch.cuda.get_device_properties(i) for i in range(count)]
    found = {}
    for cuda, p in enumerate(props):
        uuid = str(getattr(p, "uuid", "") or "").lower()
        pci = tuple(getattr(p, k, None) for k in ("pci_domain_id", "pci_bus_id", "pci_device_id"))
        for g in gpus:
            if (uuid and uuid in (g.get("uuid") or "").lower()) or (
                None not in pci and xid.pci_key(g["bus_id"]) == pci
            ):
                found.setdefault(g["index"], cuda)
    in_order = os.environ.get("CUDA_DEVICE_ORDER") == "PCI_BUS_ID" and "CUDA_VISIBLE_DEVICES" not in os.environ
    if not found and in_order and count == len(everyone):
        ordered = sorted(everyone, key=lambda g: xid.pci_key(g["bus_id"]) or ())
        by_index = {g["index"]: g for g in gpus}
        for cuda, g in enumerate(ordered):
            if g["index"] in by_index and props[cuda].name == by_index[g["index"]].get("name"):
                found[g["index"]] = cuda
    return found


def header(node):
    """The facts printed above the results."""
    facts = {"check": "health v1%s" % (" (quick)" if node.args.quick else "")}
    facts.update(probe.header_facts(probe.host(), node.torch))
    if node.torch is None:
        del facts["torch"], facts["build"]
    facts["driver"] = driver.describe(node.driver)
    if node.source == "nvidia-smi -q" and node.pynvml is None:
        facts["source"] = "nvidia-smi -q (install nvidia-ml-py for NVML: NVLink needs it)"
    else:
        facts["source"] = node.source or "none"
    facts["gpus"] = lines.models(node.gpus) or "none"
    if node.gpus:
        seconds, memtest_seconds, size = load.SETTINGS["quick" if node.args.quick else "full"]
        facts["load"] = (
            "not run: %s" % node.load_reason
            if node.load_reason
            else "all GPUs at once: %dx%d matmul for %g s, then a memory test of up to %g s"
            % (size, size, seconds, memtest_seconds)
        )
    if node.kernel_log is not None:
        facts["kernel log"] = node.kernel_log["source"] or "not readable"
    return facts
