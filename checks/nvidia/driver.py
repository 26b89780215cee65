"""The NVIDIA driver's facts (version, the CUDA it supports, each GPU's name, memory and compute capability) and, when
it does not answer, which state it is in: from NVML through nvidia-ml-py where installed, else nvidia-smi.

Each failure state has its own cause and fix (STATES). nvidia-smi's exit codes are NVML's nvmlReturn_t values (its
man page, "RETURN VALUE", driver 470 and 535; 18 is NVML_ERROR_LIB_RM_VERSION_MISMATCH, which the page omits), and
its messages go to standard output. The texts matched here are the ones nvidia-smi 470.256.02 / 535.261.03 and
pynvml print (strings of those binaries; reports in the research notes): e.g. `NVIDIA-SMI has failed because it
couldn't communicate with the NVIDIA driver.` (exit 9), `Failed to initialize NVML: Driver/library version
mismatch` (18), `Field "compute_cap" is not a valid field to query.` (exit 2: the 470 driver's nvidia-smi predates
that field, so it is queried only where it exists).
"""

import ctypes
import os
import platform
import re
import shutil
from dataclasses import asdict, replace
from typing import NamedTuple, Optional

from checks.machine import gpu_node, scheduler
from checks.machine.probe import run_command
from checks.nvidia import parse
from checks.nvidia.records import GpuModes, MemoryErrors
from checks.report import FAIL, Result


class KnownState(NamedTuple):
    """One failure state of the driver: its name, the nvmlReturn_t code nvidia-smi exits with (NVML's return value),
    a regular expression for its message, what it means and the fix."""

    state: str
    nvml_code: int
    pattern: str
    meaning: str
    fix: str


class DriverState(NamedTuple):
    """What classify() says of a failed answer: the state's name (a KnownState's, or `failed`), meaning and fix."""

    state: str
    meaning: str
    fix: str


class Failure(NamedTuple):
    """What failure() says of a driver that does not answer: the summary line, its own words (condensed), the fix,
    and data: the node's facts that decided it ({"fact": state, "gpu_node": {...}}), None where none did."""

    summary: str
    words: str
    fix: str
    data: Optional[dict] = None

    def result(self, **extra):
        """The FAIL `driver` line every check prints for it (verify's, health's), its data plus `extra`."""
        return Result(
            name="driver",
            status=FAIL,
            summary=self.summary,
            expected="the driver answers",
            actual=self.words,
            hint=self.fix,
            data={**extra, **(self.data or {})} or None,
        )


# Matched by text first, by code second.
STATES = (
    KnownState(
        "driver-not-loaded",
        9,
        r"couldn't communicate with the NVIDIA driver|Driver Not Loaded",
        "the NVIDIA kernel module is not loaded",
        "load it (`sudo modprobe nvidia`); after a kernel update reinstall the driver for the running kernel; "
        "`dmesg | grep NVRM` says why it did not load (e.g. nouveau holds the GPU)",
    ),
    KnownState(
        "nvml-missing",
        12,
        r"couldn't find libnvidia-ml\.so|NVML Shared Library Not Found",
        "the driver's NVML library (libnvidia-ml.so) is missing or not visible",
        "in a container, start it with the NVIDIA runtime (`docker run --gpus all`, Apptainer `--nv`); "
        "otherwise reinstall the NVIDIA driver",
    ),
    KnownState(
        "version-mismatch",
        18,
        r"Driver/library version mismatch|NVML/RM version mismatch",
        "the driver's libraries were upgraded while the old kernel module is still loaded",
        "reboot (or reload the nvidia kernel modules); then hold the driver packages so unattended upgrades "
        "cannot do it again",
    ),
    KnownState(
        "no-permission",
        4,
        r"Insufficient Permissions",
        "this user may not open the GPU device nodes (/dev/nvidia*)",
        "add the user to the group that owns /dev/nvidia* (`ls -l /dev/nvidia*`), or give the container the devices",
    ),
    KnownState(
        "gpu-lost",
        15,
        r"GPU is lost|fallen off the bus|Unable to determine the device handle",
        "a GPU fell off the bus or stopped responding (Xid 79)",
        "reboot; if it recurs, check the GPU's power, cooling and seating (`dmesg | grep -i xid`)",
    ),
    KnownState(
        "reset-required",
        16,
        r"GPU requires restart|requires a reset",
        "a GPU needs a reset",
        "reset it when idle (`sudo nvidia-smi -r -i N`) or reboot",
    ),
    KnownState(
        "inforom",
        14,
        r"infoROM is corrupted|Corrupted infoROM",
        "a GPU's infoROM is corrupted",
        "the GPU needs service: report it to the vendor; move the job to another GPU",
    ),
    KnownState(
        "no-devices",
        6,
        r"No devices were found|No supported GPUs were found",
        "the driver is loaded but finds no usable GPU",
        "`dmesg | grep NVRM` (RmInitAdapter failed: enable Above 4G Decoding / Resizable BAR in the BIOS); "
        "in a container, pass the devices (`--gpus all`)",
    ),
    KnownState(
        "nvml-unknown",
        999,
        r"Failed to initialize NVML: Unknown Error",
        "NVML cannot reach the GPUs (in a container: it lost the device nodes, e.g. after `systemctl "
        "daemon-reload` on the host)",
        "restart the container; on a host, reboot",
    ),
)
HUNG_FIX = "look for Xid errors (`dmesg | grep -i xid`), then reset the GPU (`sudo nvidia-smi -r`) or reboot"
# The memory error fields (records.MemoryErrors) ride in the same query: their names are `nvidia-smi
# --help-query-gpu`'s; a driver whose nvidia-smi lacks one drops it like compute_cap.
MEMORY_FIELDS = (
    "ecc.mode.current",
    "ecc.errors.uncorrected.volatile.total",
    "retired_pages.pending",
    "remapped_rows.pending",
    "remapped_rows.failure",
)
QUERY = ("name", "driver_version", "memory.total", "pci.bus_id", "compute_cap") + MEMORY_FIELDS
NOT_A_FIELD = re.compile(r'Field "([\w.]+)" is not a valid field to query')


def classify(text, code=None):
    """Return a DriverState (state, meaning, fix) for a failed NVML/nvidia-smi answer (its text, its exit code or
    NVML return value), from its text first, its code second; `failed` with its first line where no state matches."""
    for known in STATES:
        if re.search(known.pattern, text or ""):
            return DriverState(state=known.state, meaning=known.meaning, fix=known.fix)
    for known in STATES:
        if code == known.nvml_code:
            return DriverState(state=known.state, meaning=known.meaning, fix=known.fix)
    line = next((s.strip() for s in (text or "").splitlines() if s.strip()), "no output")
    return DriverState(
        state="failed",
        meaning="nvidia-smi failed (%s): %s" % ("exit %s" % code if code is not None else "error", line),
        fix="run `nvidia-smi` and `dmesg | grep -i -e xid -e NVRM`; reinstall or update the driver if it keeps failing",
    )


def cuda_from_libcuda():
    """Return the CUDA version the loaded libcuda supports (`12.4`), from cuDriverGetVersion, or None."""
    names = {"Linux": ("libcuda.so.1", "libcuda.so"), "Windows": ("nvcuda.dll",)}.get(platform.system(), ())
    for name in names:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        version = ctypes.c_int(0)
        if lib.cuDriverGetVersion(ctypes.byref(version)) == 0 and version.value:
            return parse.cuda_version(version.value)
    return None


def kernel_module_version(path="/proc/driver/nvidia/version"):
    """Return the loaded kernel module's version (`535.161.07`) from /proc, or None."""
    try:
        with open(path) as handle:
            match = re.search(r"Kernel Module\s+(?:for \S+\s+)?([\d.]+)", handle.read())
    except OSError:
        return None
    return match.group(1) if match else None


def _gpu(name, memory_mib=None, bus_id=None, capability=None, memory_errors=None):
    errors = asdict(memory_errors) if memory_errors is not None and memory_errors.counted() else None
    gpu = {"name": name, "memory_mib": memory_mib, "bus_id": bus_id, "compute_cap": capability}
    return dict(gpu, memory_errors=errors)


def memory_errors(gpu):
    """Return the records.MemoryErrors of one GPU of facts()["gpus"], or None where the driver counts none."""
    found = gpu.get("memory_errors")
    return MemoryErrors(**found) if found else None


def _smi_memory_errors(row):
    return MemoryErrors(
        ecc_enabled=parse.flag(row.get("ecc.mode.current")),
        volatile_uncorrected=parse.integer(row.get("ecc.errors.uncorrected.volatile.total")),
        retired_pages_pending=parse.flag(row.get("retired_pages.pending")),
        remapped_rows_pending=parse.flag(row.get("remapped_rows.pending")),
        remapped_rows_failure=parse.flag(row.get("remapped_rows.failure")),
    )


def _nvml_memory_errors(pynvml, handle):
    # nvml.h: NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1, NVML_VOLATILE_ECC = 0; the mode is (current, pending)
    mode = _nvml_optional(pynvml, "nvmlDeviceGetEccMode", handle)
    uncorrected = getattr(pynvml, "NVML_MEMORY_ERROR_TYPE_UNCORRECTED", 1)
    volatile = getattr(pynvml, "NVML_VOLATILE_ECC", 0)
    count = _nvml_optional(pynvml, "nvmlDeviceGetTotalEccErrors", handle, uncorrected, volatile) if mode else None
    pages = _nvml_optional(pynvml, "nvmlDeviceGetRetiredPagesPendingStatus", handle)
    rows = _nvml_optional(pynvml, "nvmlDeviceGetRemappedRows", handle)  # (corrRows, uncRows, isPending, failure)
    return MemoryErrors(
        ecc_enabled=bool(mode[0]) if mode else None,
        volatile_uncorrected=count,
        retired_pages_pending=None if pages is None else bool(pages),
        remapped_rows_pending=bool(rows[2]) if rows else None,
        remapped_rows_failure=bool(rows[3]) if rows else None,
    )


def from_nvml(pynvml):
    """Return the driver facts read through NVML, or a failure state; None when NVML's library is not there."""
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        if getattr(exc, "value", None) == 12:  # NVML_ERROR_LIBRARY_NOT_FOUND: leave it to nvidia-smi
            return None
        return {"source": "NVML", "error": "NVML: %s" % exc, "code": getattr(exc, "value", None)}
    try:
        info = {"source": "NVML", "version": parse.text(pynvml.nvmlSystemGetDriverVersion()), "gpus": []}
        info["cuda"] = parse.cuda_version(pynvml.nvmlSystemGetCudaDriverVersion())
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            capability = _nvml_optional(pynvml, "nvmlDeviceGetCudaComputeCapability", handle)
            memory = _nvml_optional(pynvml, "nvmlDeviceGetMemoryInfo", handle)
            bus = _nvml_optional(pynvml, "nvmlDeviceGetPciInfo", handle)
            info["gpus"].append(
                _gpu(
                    parse.text(pynvml.nvmlDeviceGetName(handle)),
                    memory.total // 2**20 if memory is not None else None,
                    parse.text(bus.busId) if bus is not None else None,
                    "%d.%d" % tuple(capability) if capability else None,
                    _nvml_memory_errors(pynvml, handle),
                )
            )
        return info
    except pynvml.NVMLError as exc:
        return {"source": "NVML", "error": "NVML: %s" % exc, "code": getattr(exc, "value", None)}
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass


def _nvml_optional(pynvml, name, handle, *args):
    try:
        return getattr(pynvml, name)(handle, *args)
    except (pynvml.NVMLError, AttributeError):  # not on this GPU or driver, or an older nvidia-ml-py
        return None


def from_smi(smi, timeout, want_cuda=True):
    """Return the driver facts from nvidia-smi, or its failure (error text and exit code); a field this driver's
    nvidia-smi does not know (compute_cap before ~510) is left out of the query and reported as unknown.
    want_cuda: also read "CUDA Version" from the plain nvidia-smi header (one more run of it)."""
    fields, dropped = list(QUERY), []
    while True:
        code, out = run_command([smi, "--query-gpu=" + ",".join(fields), "--format=csv,noheader,nounits"], timeout)
        missing = NOT_A_FIELD.search(out or "") if code == 2 else None
        if not missing or missing.group(1) not in fields:
            break
        fields.remove(missing.group(1))
        dropped.append(missing.group(1))
    if code is None:
        return {"source": "nvidia-smi", "error": "nvidia-smi %s" % out, "hung": "did not answer" in out}
    if code != 0:
        return {"source": "nvidia-smi", "error": (out or "").strip(), "code": code}
    info = {"source": "nvidia-smi", "gpus": [], "version": None, "dropped": dropped}
    for line in out.strip().splitlines():
        row = dict(zip(fields, (value.strip() for value in line.split(", "))))
        if "name" not in row or "driver_version" not in row:
            continue
        info["version"] = info["version"] or row["driver_version"]
        cap = row.get("compute_cap")
        info["gpus"].append(
            _gpu(
                row["name"],
                parse.integer(row.get("memory.total", "")),
                row.get("pci.bus_id"),
                cap if cap and re.match(r"^\d+\.\d+$", cap) else None,
                _smi_memory_errors(row),
            )
        )
    info["cuda"] = None
    if want_cuda or not info["gpus"]:
        _, header = run_command([smi], timeout)
        match = re.search(r"CUDA Version:\s*([\d.]+)", header or "")
        info["cuda"] = match.group(1) if match else None
        if not info["gpus"]:  # a query answered with no CSV row: the table's own lines still name them
            info.update(_from_table(header or ""))
    return info


# nvidia-smi's table: its banner's "Driver Version: 535.146.02", each GPU's first row "|   0  NVIDIA GeForce RTX 3090
# Off | 00000000:01:00.0 Off |" and, two rows down, "|      1MiB / 24576MiB |" (nvidia-smi 450 to 580).
TABLE_DRIVER = re.compile(r"Driver Version:\s*([\d.]+)")
TABLE_GPU = re.compile(
    r"^\|\s+(\d+)\s+(.+?)\s+(?:On|Off)\s+\|\s+([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.\d)", re.M
)
TABLE_MEMORY = re.compile(r"(\d+)MiB\s*/\s*(\d+)MiB")


def _from_table(text):
    """{"version", "gpus"} read from nvidia-smi's plain table (TABLE_*), for an nvidia-smi whose --query-gpu gave no
    row; {} where the table names no GPU."""
    gpus = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        row = TABLE_GPU.match(line)
        if row is None:
            continue
        memory = TABLE_MEMORY.search(" ".join(lines[number + 1 : number + 3]))
        gpus.append(_gpu(row.group(2).strip(), int(memory.group(2)) if memory else None, row.group(3)))
    if not gpus:
        return {}
    version = TABLE_DRIVER.search(text)
    return {"gpus": gpus, "version": version.group(1) if version else None}


def import_pynvml():
    """Return nvidia-ml-py's pynvml module, or None where it is not installed (then nvidia-smi is read)."""
    try:
        import pynvml
    except ImportError:
        return None
    return pynvml


def facts(timeout=15.0, pynvml=None):
    """Return the driver facts: present, version, cuda, gpus [{name, memory_mib, bus_id, compute_cap, memory_errors
    (records.MemoryErrors as a dict, None where the driver counts none; memory_errors() reads it)}], source
    (NVML, nvidia-smi or None), and when it does not answer: state, error (its own words), meaning, fix.

    `pynvml`: the nvidia-ml-py module to use (tests pass a fake); by default imported where installed.
    """
    info = {"present": False, "version": kernel_module_version(), "cuda": cuda_from_libcuda(), "gpus": []}
    info.update(source=None, state=None, error=None, meaning=None, fix=None, dropped=[])
    info["present"] = info["version"] is not None or info["cuda"] is not None
    pynvml = pynvml or import_pynvml()
    answer = from_nvml(pynvml) if pynvml is not None else None
    smi = shutil.which("nvidia-smi")
    if answer is None and smi:
        answer = from_smi(smi, timeout, want_cuda=info["cuda"] is None)  # libcuda's answer is the same number
    if answer is None:
        return info
    info["source"], info["dropped"] = answer["source"], answer.get("dropped", [])
    if answer.get("error"):
        info["error"] = answer["error"]
        if answer.get("hung"):
            info.update(state="hung", meaning="the driver or a GPU is hung (%s)" % answer["error"], fix=HUNG_FIX)
        else:
            info["state"], info["meaning"], info["fix"] = classify(answer["error"], answer.get("code"))
        return info
    info["present"] = True
    info["gpus"] = answer["gpus"]
    info["version"] = answer["version"] or info["version"]
    info["cuda"] = info["cuda"] or answer.get("cuda")
    return info


# The states of a driver that no GPU device reaches: the control device cannot be opened (driver-not-loaded's
# message), no GPU is listed, a device node may not be opened, NVML's unknown error of a device cgroup that denies
# the nodes (containers after `systemctl daemon-reload`, NVIDIA Container Toolkit troubleshooting).
NO_DEVICE_STATES = ("driver-not-loaded", "no-devices", "no-permission", "nvml-unknown")


def nvidia_on_pci(sys_root="/sys"):
    """Return (listed, found): whether <sys_root>/bus/pci/devices lists any device, and the addresses of the NVIDIA
    display devices there (gpu_node.sysfs_display_devices; lspci is not asked: a partial /sys says nothing here)."""
    devices = os.path.join(sys_root, "bus", "pci", "devices")
    try:
        listed = bool(os.listdir(devices))
    except OSError:
        return False, ()
    return listed, tuple(address for address, _, _ in gpu_node.sysfs_display_devices(sys_root))


def job_without_gpus(info, node, job, sys_root="/sys"):
    """Return (meaning, fix, fact) when a SLURM job granted no GPU (scheduler.Job.gpus_granted False) explains a driver
    that no device reaches (NO_DEVICE_STATES): SLURM allocates GPUs only to a job that requests them (gres.html,
    "Running Jobs"), so the job's device cgroup admits none where the node's nvidia module is loaded, or the job runs
    on a node with no NVIDIA GPU on its PCI bus. None otherwise, and where the module is not loaded although an
    NVIDIA GPU is on the bus (the node's own fault: gpu_node's verdict)."""
    if job is None or job.gpus_granted or info.get("state") not in NO_DEVICE_STATES:
        return None
    listed, gpus = nvidia_on_pci(sys_root)
    if node.loaded:
        where = (
            "the nvidia kernel module is loaded on this node (/proc/modules), but the job's device cgroup admits no "
            "GPU device to a job granted none (cgroup.conf ConstrainDevices)"
        )
    elif listed and not gpus:
        where = "this node has no NVIDIA GPU on its PCI bus (no display device of vendor 0x10de in sysfs), so the job "
        where += "was placed on a node without GPUs"
    elif not listed and node.loaded is None:
        where = "the job cannot reach a GPU"
    else:
        return None
    granted = "no %s or CUDA_VISIBLE_DEVICES in its environment" % ", ".join(scheduler.GPU_VARIABLES[:3])
    if job.no_device_files:
        granted = "CUDA_VISIBLE_DEVICES=NoDevFiles, SLURM's value for a step granted no GPU"
    meaning = (
        "%s was granted no GPU (%s; SLURM exports them for a job granted GPUs): SLURM allocates GPUs only to a job "
        "that requests them, and %s" % (job.describe(), granted, where)
    )
    fix = (
        "request GPUs in the job's submission: `#SBATCH --gres=gpu:1` (or `--gpus=1`, `--gpus-per-node=N`), and run "
        "inside that allocation (`srun` within the job, or `salloc --gres=gpu:1`); no driver change is needed"
    )
    fact = "%s: GPUs granted none; nvidia module %s; NVIDIA PCI display devices: %s" % (
        job.describe(),
        {True: "loaded", False: "not loaded", None: "unknown"}[node.loaded],
        ", ".join(gpus) or ("none" if listed else "unknown"),
    )
    return meaning, fix, fact


def failure(info, node=None, job=False, sys_root="/sys"):
    """Return a Failure (summary, the driver's own words, fix, data) of a driver in a failure state (info["state"]
    set): the same line wherever a check reports it (verify's driver line, health's). A SLURM job granted no GPU is
    judged first (job_without_gpus); a driver whose kernel module is not loaded is judged further from the node's
    kernel facts (gpu_node.KernelNode.why_not_loaded: no module for the running kernel, or one the kernel's signature
    policy refuses), and one that finds no devices too (KernelNode.why_no_devices: the open module on a GPU older
    than Turing); `node` stands in for gpu_node.collect(), `job` for scheduler.collect(os.environ) (None: no job),
    `sys_root` for /sys."""
    from checks import errors

    words = errors.condense(info["error"]) or "no answer"
    meaning, fix, data = info["meaning"], info["fix"], None
    job = scheduler.collect(os.environ) if job is False else job
    if info.get("state") in NO_DEVICE_STATES and job is not None and not job.gpus_granted:
        node = node if node is not None else gpu_node.collect()
        verdict = job_without_gpus(info, node, job, sys_root)
        if verdict is not None:
            return Failure(
                summary="%s doesn't answer: %s" % (info["source"], verdict[0]),
                words=words,
                fix=verdict[1],
                data={"fact": verdict[2], "job": job.to_dict()},
            )
    judge = {"driver-not-loaded": "why_not_loaded", "no-devices": "why_no_devices"}.get(info.get("state"))
    if judge is not None:
        node = node if node is not None else gpu_node.collect()
        verdict = getattr(node, judge)()
        if verdict is not None:
            meaning, fix = verdict[1], verdict[2]
            data = {"fact": verdict[0], "gpu_node": node.decisive(verdict[0])}
    return Failure(summary="%s doesn't answer: %s" % (info["source"], meaning), words=words, fix=fix, data=data)


def describe(info, proc="/proc"):
    """Return the header's driver line: `535.161.07 (CUDA 12.2)`, `none`, or the failure state in a few words. The
    state driver-not-loaded is nvidia-smi's reading of its message; where <proc>/modules lists the nvidia module it is
    loaded after all (a job or container the GPU devices are hidden from), and the line says so."""
    if info["state"] == "driver-not-loaded" and gpu_node.loaded(proc, names=(gpu_node.MODULE,))[gpu_node.MODULE]:
        return (
            "not answering: nvidia-smi cannot reach the driver, although the nvidia module is loaded (%s)"
            % (info["source"])
        )
    if info["state"]:
        return "not answering: %s (%s)" % (info["meaning"], info["source"])
    if not info["present"]:
        return "none"
    return "%s (CUDA %s)" % (info["version"] or "unknown version", info["cuda"] or "unknown")


# The mode fields (`nvidia-smi --help-query-gpu`): `mig.mode.current` (Enabled/Disabled, [N/A] without MIG),
# `display_mode` (a monitor attached), `display_active` (a display initialised on the GPU).
MODE_FIELDS = ("index", "pci.bus_id", "mig.mode.current", "display_mode", "display_active")
# `nvidia-smi -L`: `GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-...)`, and under a GPU in MIG mode one line per MIG
# device, `  MIG 1g.5gb      Device  0: (UUID: MIG-...)` (NVIDIA MIG User Guide, "Device Enumeration"; R450+).
LIST_GPU = re.compile(r"^GPU (\d+): ")
LIST_MIG = re.compile(r"^\s+MIG \S+\s+Device\s+\d+: ")


def mig_devices_listed(text):
    """Return {GPU index: MIG devices listed under it} of a `nvidia-smi -L` text (every GPU listed, 0 where none)."""
    counts, current = {}, None
    for line in (text or "").splitlines():
        gpu = LIST_GPU.match(line)
        if gpu:
            current = int(gpu.group(1))
            counts[current] = 0
        elif current is not None and LIST_MIG.match(line):
            counts[current] += 1
    return counts


def _smi_modes(smi, timeout):
    fields = list(MODE_FIELDS)
    while True:
        code, out = run_command([smi, "--query-gpu=" + ",".join(fields), "--format=csv,noheader,nounits"], timeout)
        missing = NOT_A_FIELD.search(out or "") if code == 2 else None
        if not missing or missing.group(1) not in fields or missing.group(1) == "index":
            break
        fields.remove(missing.group(1))
    if code != 0:
        return ()
    found = []
    for line in (out or "").strip().splitlines():
        row = dict(zip(fields, (value.strip() for value in line.split(", "))))
        if not (row.get("index") or "").isdigit():
            continue
        found.append(
            GpuModes(
                index=int(row["index"]),
                bus_id=row.get("pci.bus_id"),
                mig_mode=parse.flag(row.get("mig.mode.current")),
                display_mode=parse.flag(row.get("display_mode")),
                display_active=parse.flag(row.get("display_active")),
            )
        )
    if any(g.mig_mode for g in found):
        code, out = run_command([smi, "-L"], timeout)
        counts = mig_devices_listed(out) if code == 0 else {}
        found = [replace(g, mig_devices=counts.get(g.index)) if g.mig_mode else g for g in found]
    return tuple(found)


def _nvml_mig_devices(pynvml, handle):
    most = _nvml_optional(pynvml, "nvmlDeviceGetMaxMigDeviceCount", handle)
    if most is None:
        return None
    # an index without a MIG device answers NVML_ERROR_NOT_FOUND (nvml.h, nvmlDeviceGetMigDeviceHandleByIndex)
    return sum(1 for i in range(most) if _nvml_optional(pynvml, "nvmlDeviceGetMigDeviceHandleByIndex", handle, i))


def _nvml_modes(pynvml):
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return None
    try:
        found = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            mig = _nvml_optional(pynvml, "nvmlDeviceGetMigMode", handle)  # (current, pending)
            bus = _nvml_optional(pynvml, "nvmlDeviceGetPciInfo", handle)
            display = _nvml_optional(pynvml, "nvmlDeviceGetDisplayMode", handle)
            active = _nvml_optional(pynvml, "nvmlDeviceGetDisplayActive", handle)
            on = bool(mig[0]) if mig else None
            found.append(
                GpuModes(
                    index=index,
                    bus_id=parse.text(bus.busId) if bus is not None else None,
                    mig_mode=on,
                    mig_devices=_nvml_mig_devices(pynvml, handle) if on else None,
                    display_mode=None if display is None else bool(display),
                    display_active=None if active is None else bool(active),
                )
            )
        return tuple(found)
    except pynvml.NVMLError:
        return None
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass


def modes(timeout=10.0, pynvml=None):
    """Return the records.GpuModes of every GPU (MIG mode and MIG devices, display mode and activity), from NVML
    where nvidia-ml-py is installed and answers, else from nvidia-smi (each run bounded to `timeout` s); () where
    neither answers. Read only when a failure asks (verify's gpu line), not with facts()."""
    pynvml = pynvml or import_pynvml()
    found = _nvml_modes(pynvml) if pynvml is not None else None
    if found is not None:
        return found
    smi = shutil.which("nvidia-smi")
    return _smi_modes(smi, timeout) if smi else ()
