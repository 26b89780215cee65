"""Rules 3b and 3e: CUDA's initialisation error classes judged against the GPU's access path (a container
without the compute capability, a missing /dev/nvidia-uvm, a device node this user may not open, a libcuda of
another version than the kernel module), and a device index beyond the one MIG instance CUDA enumerates."""

import os
import re

from checks import compat
from checks.diagnosis.model import Cause
from checks.machine import gpu_access
from checks.machine import system as system_rules

# CUDA's initialisation errors by class: (class, cudaError_t value, the texts torch surfaces). Meanings: CUDA Runtime
# API reference, "enum cudaError": cudaErrorInsufficientDriver (35) the driver is older than the runtime, or none is
# loaded; cudaErrorNoDevice (100) no CUDA-capable device; cudaErrorInitializationError (3) the driver and runtime
# could not be initialised; cudaErrorStubLibrary (34) "the CUDA driver that the application has loaded is a stub
# library"; cudaErrorNotPermitted (800); cudaErrorSystemDriverMismatch (803) "a mismatch between the
# versions of the display driver and the CUDA driver"; cudaErrorUnknown (999). Texts: torch's own for 35, 100, 3 and
# 999 (c10/cuda/CUDAFunctions.cpp device_count_impl, alike in 2.0.1 and 2.13: "Found no NVIDIA driver" is 35 with
# cudaDriverGetVersion() 0, no libcuda loaded; "too old (found version N)" is 35 with a libcuda of CUDA N), else
# cudaGetErrorString's (strings of libcudart.so.11.0) after `CUDA error: `, or torch's `Error N: ` (its "Unexpected
# error from cudaGetDeviceCount()" warning).
CUDA_INIT_CLASSES = (
    ("stub", 34, r"CUDA driver is a stub library|CUDA_ERROR_STUB_LIBRARY"),  # first: torch's raise may follow it
    ("no-driver", None, r"Found no NVIDIA driver on your system"),
    ("driver-too-old", None, r"NVIDIA driver on your system is too old"),
    ("insufficient-driver", 35, r"driver version is insufficient for CUDA runtime version"),
    ("no-device", 100, r"No CUDA GPUs are available|no CUDA-capable device is detected"),
    ("unknown", 999, r"CUDA unknown error|CUDA error: unknown error"),
    ("initialization", 3, r"CUDA driver initialization failed|CUDA error: initialization error"),
    ("not-permitted", 800, r"CUDA error: operation not permitted(?! (?:on|when))"),
    ("driver-mismatch", 803, r"system has unsupported display driver / cuda driver combination"),
)
CUDA_ERROR_CODE = re.compile(r"\bError (\d+): ")


def cuda_init_class(text):
    """Return the class (CUDA_INIT_CLASSES) of a CUDA initialisation failure's text, by its words, else by torch's
    `Error N: ` code; None for any other text."""
    for kind, _, pattern in CUDA_INIT_CLASSES:
        if re.search(pattern, text or ""):
            return kind
    code = CUDA_ERROR_CODE.search(text or "")
    return next((kind for kind, number, _ in CUDA_INIT_CLASSES if code and number == int(code.group(1))), None)


def _capabilities(access):
    """NVIDIA_DRIVER_CAPABILITIES without compute, and indeed no libcuda here."""
    if access.compute_granted is not False or not access.libcuda_missing:
        return None
    return Cause(
        meaning="the container was started with NVIDIA_DRIVER_CAPABILITIES=%s: the NVIDIA runtime mounts the driver's "
        "files of those capabilities only, and without `compute` not libcuda.so.1, so CUDA finds no driver (nvidia-smi "
        "and NVML, `utility`, still answer)" % access.capabilities,
        fix="start the container with the compute capability: `-e NVIDIA_DRIVER_CAPABILITIES=compute,utility` (or "
        "`all`); with --gpus: `--gpus 'all,\"capabilities=compute,utility\"'`",
        fact="NVIDIA_DRIVER_CAPABILITIES=%s (no compute), %s not found" % (access.capabilities, gpu_access.LIBCUDA),
    )


def _withheld(access, libcuda_too=False):
    """NVIDIA_VISIBLE_DEVICES gives the container no GPU (`none`), or nothing at all (`void`, empty: then no libcuda
    either, which `libcuda_too` requires)."""
    if not access.devices_withheld:
        return None
    value = access.visible_devices.strip().lower()
    if libcuda_too and (value == "none" or not access.libcuda_missing):
        return None
    return Cause(
        meaning="NVIDIA_VISIBLE_DEVICES=%s: the NVIDIA runtime gives this container no GPU%s"
        % (access.visible_devices, "" if value == "none" else " and none of the driver's libraries"),
        fix="start the container with the GPUs: `docker run --gpus all` (or NVIDIA_VISIBLE_DEVICES=all, or the GPUs' "
        "indices or UUIDs)",
        fact="NVIDIA_VISIBLE_DEVICES=%s" % access.visible_devices,
    )


def _libcuda_missing(access):
    """The loader finds no libcuda.so.1 (the class must say CUDA loaded none)."""
    if not access.libcuda_missing:
        return None
    if access.present(gpu_access.DXG):
        fix = (
            "WSL2 keeps libcuda in /usr/lib/wsl/lib: add it to LD_LIBRARY_PATH (or to /etc/ld.so.conf.d, then run "
            "`sudo ldconfig`)"
        )
    elif access.visible_devices is not None or access.capabilities is not None:
        fix = (
            "start the container with the NVIDIA runtime and its compute capability (`docker run --gpus all`, "
            "Apptainer `--nv`): it mounts the host's libcuda"
        )
    elif access.kernel_module:
        fix = (
            "install the user-space libraries of driver %s, the loaded kernel module's version (Ubuntu: "
            "libnvidia-compute-%s), or add the directory that holds libcuda.so.1 to /etc/ld.so.conf.d and run "
            "`sudo ldconfig`" % (access.kernel_module, access.kernel_module.split(".")[0])
        )
    else:
        fix = (
            "in a container, start it with the NVIDIA runtime (`docker run --gpus all`); on a host, add the "
            "directory that holds the driver's libcuda.so.1 to /etc/ld.so.conf.d and run `sudo ldconfig`"
        )
    return Cause(
        meaning="the CUDA runtime cannot load the driver's %s: it is in no directory the loader searches "
        "(LD_LIBRARY_PATH, ld.so.cache, /lib, /usr/lib), so CUDA reports no driver" % gpu_access.LIBCUDA,
        fix=fix,
        fact="%s not found" % gpu_access.LIBCUDA,
    )


def _no_gpu_node(access):
    """The control node without any /dev/nvidiaN."""
    if not access.gpu_nodes_missing:
        return None
    return Cause(
        meaning="/dev/nvidiactl is here but no /dev/nvidiaN: this process was given the driver but no GPU's device "
        "node",
        fix="pass the GPUs into the container (`docker run --gpus all`, or `--device /dev/nvidia0`); on a host, "
        "`sudo nvidia-modprobe -c 0` creates /dev/nvidia0",
        fact="no /dev/nvidia[0-9]",
    )


def _unopenable(access):
    """A node CUDA opens exists, but this process may not open it read-write."""
    nodes = access.unopenable()
    if not nodes:
        return None
    groups = sorted({n.group for n in nodes if n.group and n.group != "root"})
    fix = (
        "add the user to the group that owns them: `sudo usermod -aG %s $USER`, then log in again" % groups[0]
        if groups
        else "make them readable and writable for this user: the driver creates them 0666 unless its module options "
        "NVreg_DeviceFileMode / NVreg_DeviceFileGID say otherwise"
    )
    return Cause(
        meaning="this user may not open %s, which CUDA opens to reach the GPU"
        % ", ".join("%s (group %s)" % (n.path, n.group) if n.group else n.path for n in nodes),
        fix=fix + "; in a container, pass the devices with the NVIDIA runtime (`--gpus all`)",
        fact="%s not readable and writable by uid %s" % (nodes[0].path, getattr(os, "getuid", lambda: "?")()),
    )


def _uvm_missing(access):
    """The control node without /dev/nvidia-uvm."""
    if not access.uvm_missing:
        return None
    here = [n.path for n in access.nodes if n.exists and n.role in (gpu_access.CONTROL, gpu_access.GPU)]
    return Cause(
        meaning="/dev/nvidia-uvm is missing (the node of the driver's Unified Memory module, nvidia_uvm, which CUDA "
        "opens to create a context) while %s %s here: nvidia-smi can answer, CUDA cannot start"
        % (", ".join(here), "is" if len(here) == 1 else "are"),
        fix="create the nodes on the host: `sudo nvidia-modprobe -c 0 -u` (it loads nvidia_uvm and makes "
        "/dev/nvidia-uvm and /dev/nvidia-uvm-tools; CUDA runs it itself where it is installed setuid); in a "
        "container, pass both too (`--device /dev/nvidia-uvm "
        "--device /dev/nvidia-uvm-tools`, or the NVIDIA runtime's `--gpus all`)",
        fact="/dev/nvidia-uvm missing, %s present" % here[0],
    )


def _mismatch(access):
    """libcuda's version (its file name) is not the loaded kernel module's."""
    if not access.mismatch:
        return None
    library, module = access.mismatch
    if access.libcuda_via in ("LD_LIBRARY_PATH", "LD_PRELOAD"):
        fix = "remove %s from %s: the loader takes that libcuda before the driver's own" % (
            os.path.dirname(access.libcuda) if access.libcuda_via == "LD_LIBRARY_PATH" else access.libcuda,
            access.libcuda_via,
        )
    else:
        fix = (
            "reboot (or reload the nvidia kernel modules) so that the module is the libraries' version; in a "
            "container whose image carries its own libcuda (%s), remove it so that the runtime mounts the host's"
            % access.libcuda
        )
    return Cause(
        meaning="the loader takes libcuda %s (%s, via %s) while the loaded NVIDIA kernel module is %s: CUDA's driver "
        "library and the kernel module must be of one driver version"
        % (library, access.libcuda, access.libcuda_via, module),
        fix=fix,
        fact="libcuda %s, kernel module %s" % (library, module),
    )


def _stub(access):
    """The loader takes the CUDA toolkit's stub libcuda (gpu_access.GpuAccess.stub) for libcuda.so.1 or libcuda.so."""
    if not access.stub:
        return None
    folder = os.path.dirname(access.stub)
    real = os.path.realpath(access.stub)
    if os.path.basename(folder) != gpu_access.STUBS_FOLDER:  # a link elsewhere to a stub: the link is the fault
        fix = (
            "remove %s, which links to the toolkit's stub %s (the stubs folder is for linking only), then run `sudo "
            "ldconfig` so that the loader finds the driver's own libcuda.so.1" % (access.stub, real)
        )
    elif access.stub_via == "LD_LIBRARY_PATH":
        fix = (
            "take the stubs folder off LD_LIBRARY_PATH (remove %s from it; a module file or shell profile that sets it "
            "for building is where it comes from), so that the loader reaches the driver's own libcuda.so.1" % folder
        )
    elif access.stub_via == "LD_PRELOAD":
        fix = "remove the stubs library %s from LD_PRELOAD" % access.stub
    else:  # ld.so.cache or a default directory's entry
        fix = (
            "drop the stubs folder %s from the loader's configuration (/etc/ld.so.conf and /etc/ld.so.conf.d/*.conf), "
            "then run `sudo ldconfig`, so that ld.so.cache gives the driver's own libcuda.so.1" % folder
        )
    size = " (%d bytes)" % access.stub_size if access.stub_size is not None else ""
    return Cause(
        meaning="the loader takes %s from the CUDA toolkit's stubs folder: %s%s, via %s, ahead of the real driver's "
        "library; the stub exists only for linking and implements nothing, so CUDA answers every call with "
        "cudaErrorStubLibrary (34)" % (access.stub_name, access.stub, size, access.stub_via),
        fix=fix,
        fact="%s -> %s (%s, a stubs folder)" % (access.stub_name, access.stub, access.stub_via),
    )


# For each class, the facts consistent with it, most specific first: a fact is asked only where the class allows
# it (no "libcuda not found" for an error CUDA can only return after loading libcuda: 999, 3, 800, 803, "found
# version N").
GPU_ACCESS_CHECKS = {
    "no-driver": (_capabilities, lambda a: _withheld(a, libcuda_too=True), _libcuda_missing),
    "insufficient-driver": (_capabilities, lambda a: _withheld(a, libcuda_too=True), _libcuda_missing, _mismatch),
    "driver-too-old": (_mismatch,),
    "no-device": (_withheld, _no_gpu_node, _unopenable),
    "unknown": (_uvm_missing, _unopenable, _mismatch),
    "initialization": (_unopenable, _mismatch, _uvm_missing),
    "not-permitted": (_unopenable,),
    "driver-mismatch": (_mismatch,),
    "stub": (_stub,),
}


def by_gpu_access(parts, facts):
    """Rule 3d: CUDA could not initialise, and a fact of the GPU's access path that CUDA's error class allows
    explains it (GPU_ACCESS_CHECKS, in its order); None where none does (the CUDA table then keeps its meaning)."""
    kind = cuda_init_class(parts.text)
    if kind is None:
        return None
    for check in GPU_ACCESS_CHECKS[kind]:
        cause = check(facts.gpu_access)
        if cause is not None:
            return cause
    return None


# An index at or beyond the number of devices CUDA enumerated: torch's assert (aten/src/ATen/cuda/CUDAContext.cpp
# getDeviceProperties, 2.0.1 to 2.13: `device >= 0 && device < num_gpus INTERNAL ASSERT FAILED`), CUDA's
# cudaErrorInvalidDevice (101, "invalid device ordinal"), torch's `Invalid device id` / `invalid device ordinal`.
DEVICE_BEYOND_COUNT = re.compile(r"device < num_gpus|invalid device ordinal|Invalid device id", re.I)
MIG_ENTRY = re.compile(r"^MIG-")


def by_mig(parts, facts):
    """Rule 3e: a device index beyond what CUDA enumerated, while CUDA_VISIBLE_DEVICES names several MIG instances.
    NVIDIA's MIG User Guide ("CUDA Device Enumeration"; ptrblck on pytorch#130181 for CUDA 11/R450 and 12/R525):
    a CUDA process enumerates only a single MIG instance, however many are created or made visible, so the second
    named instance is no device of this process."""
    if not DEVICE_BEYOND_COUNT.search(parts.text):
        return None
    visible = facts.variables.get("CUDA_VISIBLE_DEVICES", "")
    migs = [e.strip() for e in visible.split(",") if MIG_ENTRY.match(e.strip())]
    if len(migs) < 2:
        return None
    return Cause(
        meaning="CUDA_VISIBLE_DEVICES names %d MIG instances, but a CUDA process can enumerate only a single MIG "
        'instance (NVIDIA MIG User Guide, "CUDA Device Enumeration"): this process has one device, and the job '
        "used a second" % len(migs),
        fix="run one process per MIG instance, each with one slice: CUDA_VISIBLE_DEVICES=%s for the first, "
        "CUDA_VISIBLE_DEVICES=%s for the second (e.g. one torchrun worker per slice); MIG slices cannot be used "
        "together as several devices of one process" % (migs[0], migs[1]),
        fact="CUDA_VISIBLE_DEVICES=%s (%d MIG instances)" % (visible, len(migs)),
    )


# torch's CUDA out-of-memory message (c10/cuda/CUDACachingAllocator.cpp). torch 2.0.1 (format strings read from its
# libc10_cuda.so): "CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 7.79 GiB total capacity; 6.10 GiB already
# allocated; 3.00 MiB free; 6.20 GiB reserved in total by PyTorch) If reserved memory is >> allocated memory try
# setting max_split_size_mb ...". From 2.1 (as users post it): "Tried to allocate 1.95 GiB. GPU 0 has a total
# capacity of 14.57 GiB of which 1.58 GiB is free. Process 2493055 has 12.02 GiB memory in use. Including non-PyTorch
# memory, this process has 966.00 MiB memory in use. ..." -- the other processes on that GPU (NVML's), then this one.
OUT_OF_MEMORY = re.compile(r"CUDA out of memory\. Tried to allocate")
SIZE = r"([\d.]+ [KMGT]?i?B)"
OOM_FIGURES = {
    "gpu": (r"\(GPU (\d+);", r"GPU (\d+) has a total capacity"),
    "total": (SIZE + r" total capacity", r"total capacity of " + SIZE),
    "free": (SIZE + r" free;", r"of which " + SIZE + r" is free"),
    "this": (SIZE + r" reserved in total by PyTorch", r"this process has " + SIZE + r" memory in use"),
}
OTHER_PROCESS = re.compile(r"Process (\d+) has " + SIZE + r" memory in use")
# A CUDA context holds some hundreds of MiB of device memory (its size varies with the GPU, driver and loaded
# kernels; NVIDIA documents no figure): below this, memory outside PyTorch's reservation is not taken as another
# process's.
CONTEXT_ALLOWANCE = 1 << 30
UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def _bytes(size):
    number, unit = size.split()
    return int(float(number) * UNITS.get(unit, 1))


def by_gpu_memory(parts, facts):
    """Rule 3f: CUDA ran out of memory, judged by who holds that GPU's memory, from the figures torch's message
    gives (its GPU's total and free memory, this process's share, and from torch 2.1 each other process NVML
    lists; with torch 2.0 the others' share is total - free - this process's reserved memory). Other processes
    holding more than this one is the cause (free the GPU, or use another); else this process's own work does not
    fit, and torch's own remedy for fragmentation, where its message gives one, is kept in the fix."""
    text = parts.text
    if not OUT_OF_MEMORY.search(text):
        return None
    found = {}
    for name, patterns in OOM_FIGURES.items():
        match = next((m for m in (re.search(p, text) for p in patterns) if m), None)
        found[name] = match.group(1) if match else None
    if not (found["total"] and found["this"]):
        return None
    total, mine = _bytes(found["total"]), _bytes(found["this"])
    listed = [(pid, size) for pid, size in OTHER_PROCESS.findall(text)]
    if listed:
        others = sum(_bytes(size) for _, size in listed)
        named = ", ".join("process %s (%s)" % kv for kv in listed)
    else:  # torch 2.0 names no process: what this process's PyTorch did not reserve, less its own CUDA context
        others = max(0, total - (_bytes(found["free"]) if found["free"] else 0) - mine)
        named = "%s that this process's PyTorch did not reserve (other processes, or its own CUDA context)" % (
            system_rules.human_size(others)
        )
        if others < CONTEXT_ALLOWANCE:
            others = 0  # a CUDA context alone may hold that much: not evidence of another process
    gpu = "GPU %s" % found["gpu"] if found["gpu"] is not None else "the GPU"
    fact = "%s: %s total, this process %s, others %s" % (
        gpu,
        found["total"],
        found["this"],
        system_rules.human_size(others),
    )
    if others > mine:
        return Cause(
            meaning="%s is out of memory because others hold it: %s of its %s, while this process holds %s"
            % (gpu, named, found["total"], found["this"]),
            fix="free that GPU (`nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv` lists "
            "who holds it; end those processes), or run on a free GPU: `CUDA_VISIBLE_DEVICES=<its index>`",
            fact=fact,
        )
    remedy = re.search(r"(If reserved (?:but unallocated )?memory is[^.]*\.)", text)
    return Cause(
        meaning="this process's own work does not fit in %s: it holds %s of %s" % (gpu, found["this"], found["total"]),
        fix="make it fit: a smaller batch, mixed precision (torch.autocast), activation checkpointing, or a GPU with "
        "more memory" + ("; torch's own advice: %s" % remedy.group(1) if remedy else ""),
        fact=fact,
    )


# torch's warnings for a GPU the build has no kernels for (torch/cuda/__init__.py): 2.0 to 2.x `NAME with CUDA
# capability sm_120 is not compatible with the current PyTorch installation. The current PyTorch install supports
# CUDA capabilities sm_50 ... sm_90.`; 2.0's `Found GPU0 NAME which is of cuda capability 3.0. PyTorch no longer
# supports this GPU because it is too old. The minimum cuda capability supported by this library is 3.7.`; newer
# releases' `Found GPU0 NAME which is of compute capability (CC) 12.0.` with a list `- 9.0 which supports hardware CC`.
ARCH_WARNINGS = (
    re.compile(r"with CUDA capability sm_(\d+) is not compatible with the current PyTorch installation"),
    re.compile(r"which is of (?:cuda|compute) capability (?:\(CC\) )?(\d+\.\d+)"),
)
BUILD_ARCHES = re.compile(r"supports CUDA capabilities ((?:(?:sm|compute)_\d+[af]?\s*)+)")
BUILD_MINIMUM = re.compile(r"minimum cuda capability supported by this library is (\d+\.\d+)")
BUILD_CC_LIST = re.compile(r"^\s*- (\d+\.\d+) which supports", re.M)


def by_gpu_arch(parts, facts):
    """Rule 3i: torch's own warning that the build has no kernels for a GPU, judged by the GPU's compute capability
    and the build's architectures that it quotes: a GPU older than all of them needs an older release or a source
    build (compat.older_gpu_fix), a newer one a build of a CUDA that can compile for it (compat.newer_gpu_fix)."""
    capability = None
    for pattern in ARCH_WARNINGS:
        found = pattern.search(parts.text)
        if found:
            value = found.group(1)
            capability = compat.arch_capability("sm_" + value.replace(".", ""))
            break
    if capability is None:
        return None
    listed = BUILD_ARCHES.search(parts.text)
    caps = [compat.arch_capability(a) for a in listed.group(1).split()] if listed else []
    caps += [compat.arch_capability("sm_" + v.replace(".", "")) for v in BUILD_CC_LIST.findall(parts.text)]
    minimum = BUILD_MINIMUM.search(parts.text)
    if minimum:
        caps.append(compat.arch_capability("sm_" + minimum.group(1).replace(".", "")))
    caps = sorted(c for c in caps if c is not None)
    sm = "sm_%d%d" % capability
    torch = facts.provenance.packages.get("torch")
    version = torch.imported.version if torch is not None and torch.imported is not None else None
    built = "its oldest, sm_%d%d" % caps[0] if caps else "its architectures"
    if caps and capability < caps[0]:
        return Cause(
            meaning="this GPU (%s) is older than every architecture this torch build has kernels for (%s): no "
            "newer torch will run on it" % (sm, built),
            fix=compat.older_gpu_fix(capability),
            fact="GPU %s; build's oldest sm_%d%d" % (sm, caps[0][0], caps[0][1]),
        )
    newest = " (its newest: sm_%d%d)" % caps[-1] if caps else ""
    return Cause(
        meaning="this torch build has no kernels for this GPU's architecture %s%s: the GPU is newer than the build's "
        "CUDA can compile for" % (sm, newest),
        fix=compat.newer_gpu_fix(capability, version),
        fact="GPU %s; build's architectures %s" % (sm, " ".join("sm_%d%d" % c for c in caps) or "not quoted"),
    )


# How a failure text says it concerns the hardware, beside a GPU feature's name (a dtype mismatch naming BFloat16
# does not: "expected scalar type BFloat16 but found Float" is the code's, not the GPU's)
HARDWARE = re.compile(
    r"\bGPUs?\b|Ampere|Ada\b|Hopper|Volta|Turing|Pascal|compute capability|capabilit(y|ies)\b|\bsm_?\d\d|"
    r"\barch\b|architecture|hardware|\bsetup\b",
    re.I,
)


def by_gpu_feature(parts, facts):
    """Rule 3k: a failure naming a GPU feature (bfloat16, TF32, FlashAttention-2, FP8: checks/compat.py
    GPU_FEATURES) and the hardware, on a machine whose GPU, by the compute capability its driver reports, is older
    than the feature's floor: the GPU lacks it, whichever library refused (transformers' "Your setup doesn't support
    bf16/gpu", vLLM's "Bfloat16 is only supported on GPUs with compute capability of at least 8.0", flash-attn's
    "FlashAttention only supports Ampere GPUs or newer", torch._scaled_mm's refusal)."""
    if not facts.gpus or not HARDWARE.search(parts.text):
        return None
    for feature in compat.GPU_FEATURES:
        if not re.search(feature.words, parts.text, re.I):
            continue
        lacking = [g for g in facts.gpus if g.capability < feature.floor]
        if not lacking:
            return None  # every GPU has it: the cause is elsewhere
        gpu = lacking[0]
        return Cause(
            meaning="%s (compute capability %d.%d) has no native %s: it needs compute capability %d.%d or newer"
            % ((gpu.name,) + gpu.capability + (feature.name,) + feature.floor),
            fix="%s; or run on a GPU of compute capability %d.%d or newer" % ((feature.fix,) + feature.floor),
            fact=gpu.describe(),
        )
    return None
