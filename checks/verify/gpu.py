"""Verify checks of the GPU stack: the NVIDIA driver, CUDA starting and running a kernel in the probe's child
process, Apple MPS (the architecture check is in arch.py).

Each FAIL names the cause from the facts collected (checks/nvidia/driver.py: the driver's state; checks/causes.py:
CUDA's own error text), and says which environment of the workspace fits when the build is the cause. A failure of
CUDA's initialisation carries CUDA's text in data["exception"]: the parent judges it against the GPU access path's
facts (checks/diagnosis/gpu.py by_gpu_access), the table's meaning where no fact decides.
"""

import os
import platform
import sys
from dataclasses import asdict

from checks import compat
from checks.causes import CUDA_INIT_KINDS, of_cuda
from checks.diagnosis import gpu as diagnosis_gpu
from checks.machine import gpu_access, gpu_node, probe, scheduler
from checks.machine.probe import build_flavour
from checks.nvidia import driver as nvidia_driver
from checks.nvidia import gpuinfo
from checks.report import FAIL, PASS, SKIP, WARN, Result
from checks.verify import arch
from checks.verify.install import env_hint
from checks.workspace import versions
from checks.workspace.versions import floor as spec_floor

# The prefix of torch's warnings when CUDA does not initialise (c10/cuda/CUDAFunctions.cpp, TORCH_WARN in
# device_count(), 2.0.1 to 2.13)
INIT_WARNING = "CUDA initialization: "


def _cuda_build(ctx):
    """Return True when the torch here is a CUDA build."""
    return ctx.torch is not None and build_flavour(ctx.torch) == "cuda"


def _expects_cuda(ctx):
    """Return True when the environment promises a CUDA build here."""
    return bool(ctx.expect and ctx.expect.flavour == "cuda")


def _needs_gpu(ctx):
    """Return True when this build or the environment promises CUDA."""
    return _cuda_build(ctx) or _expects_cuda(ctx)


def _no_runtime(ctx):
    """The driver verdict when the NVIDIA Container Toolkit's variables ask for GPUs but nothing of the driver is
    here (gpu_access.GpuAccess.runtime_skipped): the container was started without the NVIDIA runtime; None
    otherwise."""
    access = gpu_access.collect()
    if not access.runtime_skipped:
        return None
    signs = gpu_node.container()
    where = "this container (%s)" % ", ".join(signs) if signs else "this container"
    return Result(
        name="driver",
        status=FAIL if _expects_cuda(ctx) and not ctx.no_gpu else WARN,
        summary="%s was started without GPU access: NVIDIA_VISIBLE_DEVICES=%s asks for GPUs (CUDA images set it), "
        "but no /dev/nvidiactl, no nvidia-smi and no %s are here, which the NVIDIA Container Toolkit mounts when it "
        "starts the container" % (where, access.visible_devices, gpu_access.LIBCUDA),
        expected="the driver's devices and libraries, mounted by the NVIDIA runtime",
        actual="none",
        hint="install the NVIDIA Container Toolkit on the host and start the container with `docker run --gpus all` "
        "(Podman: `--device nvidia.com/gpu=all` with the toolkit's CDI spec; Kubernetes: the NVIDIA device plugin and "
        "a `nvidia.com/gpu` resource limit)",
        data={
            "fact": "NVIDIA_VISIBLE_DEVICES=%s, no /dev/nvidiactl, no %s" % (access.visible_devices, gpu_access.LIBCUDA)
        },
    )


def _job_without_gpus(job, hardware):
    """The words for a SLURM job (`job`: scheduler.Job or None) granted no GPU on a node without one (SLURM allocates
    GPUs only to a job that requests them, gres.html "Running Jobs"), or None."""
    if job is None or job.gpus_granted or hardware:
        return None
    return "%s was granted no GPU (it requested none: no --gres=gpu or --gpus) and runs on a node without one" % (
        job.describe()
    )


def _granted_unseen(job, hardware):
    """The words for a SLURM job (`job`: scheduler.Job or None) granted GPUs (its gpu_signs: SLURM_JOB_GPUS=0,1)
    whose process sees no NVIDIA device nor driver (`hardware`: probe.nvidia_hardware(), empty), or None: the GPUs
    are on the node but not here, which is a container they were not given to (Slurm's pyxis/enroot hook injects
    the driver only when NVIDIA_VISIBLE_DEVICES is set, as NVIDIA's images set it; NVIDIA/enroot#205), or a node
    whose driver is not loaded."""
    if job is None or not job.gpus_granted or hardware:
        return None
    return "%s was granted GPUs (%s), but this process sees no NVIDIA device (/dev/nvidia*), no nvidia-smi and no " \
        "driver" % (job.describe(), ", ".join("%s=%s" % sign for sign in job.gpu_signs))  # fmt: skip


def _no_driver(ctx):
    """The verdict when no NVIDIA driver answers."""
    container = _no_runtime(ctx)
    if container is not None:
        return container
    hardware = probe.nvidia_hardware()
    slurm = scheduler.collect(os.environ)
    unseen = _granted_unseen(slurm, hardware)
    if unseen and _needs_gpu(ctx) and not ctx.no_gpu:
        return Result(
            name="driver",
            status=FAIL if _expects_cuda(ctx) else WARN,
            summary="no NVIDIA driver: %s: the job runs in a container the GPUs and the driver were not given to, or "
            "on a node whose driver is not loaded" % unseen,
            expected="the granted GPUs and their driver",
            actual="none",
            hint="in a container started by Slurm (pyxis/enroot), set NVIDIA_VISIBLE_DEVICES=all (and "
            "NVIDIA_DRIVER_CAPABILITIES=compute,utility) in the job's environment or the image, as NVIDIA's images "
            "do, so that enroot's NVIDIA hook mounts them; Apptainer/Singularity: `--nv`; Docker: `--gpus all`; "
            "outside a container, ask the cluster's admins about the node's driver",
            data={"fact": unseen},
        )
    job = _job_without_gpus(slurm, hardware)
    if job and _needs_gpu(ctx) and not ctx.no_gpu:
        return Result(
            name="driver",
            status=FAIL if _expects_cuda(ctx) else WARN,
            summary="no NVIDIA driver: %s" % job,
            expected="a GPU granted to the job",
            actual="none",
            hint="request GPUs in the job's submission: `#SBATCH --gres=gpu:1` (or `--gpus=1`), and run inside that "
            "allocation; where the job is meant for the CPU, a CPU build of torch is smaller (`/whl/cpu`)",
            data={"fact": job},
        )
    seen = "; an NVIDIA GPU is in this machine (%s) but no driver answers" % hardware[0] if hardware else ""
    if not _needs_gpu(ctx):
        if hardware:
            return Result(
                name="driver",
                status=WARN,
                summary="no NVIDIA driver" + seen,
                expected="a driver for the GPU",
                actual="none",
                hint="install the NVIDIA driver to use the GPU",
            )
        return Result(name="driver", status=SKIP, summary="no NVIDIA driver on this machine" + _solver_note())
    if not (ctx.expect and ctx.expect.flavour == "cuda"):  # a CUDA build, and no environment promising a GPU
        if ctx.no_gpu:
            return Result(name="driver", status=SKIP, summary="no NVIDIA driver; --no-gpu: the GPU checks skip")
        amd = probe.amd_gpu() if not hardware else []
        if amd:
            return _amd_result(ctx.torch, amd)
        return Result(
            name="driver",
            status=WARN,
            summary="CUDA %s build without an NVIDIA driver%s: torch runs on the CPU only"
            % (ctx.torch.version.cuda, seen),
            expected="a driver",
            actual="none",
            # hardware: probe.nvidia_hardware()'s evidence; with none, there is no GPU a driver could serve
            hint="install the NVIDIA driver to use a GPU; without a GPU a CPU build is smaller (`/whl/cpu`)"
            if hardware
            else "this machine has no NVIDIA GPU (no PCI device of vendor 0x10de, no /dev/nvidiaN, no nvidia-smi), "
            "so torch runs on the CPU: a CPU build is smaller (`/whl/cpu`); a GPU machine needs NVIDIA's driver",
        )
    what = ctx.expect.describe()
    if ctx.no_gpu:
        return Result(
            name="driver",
            status=SKIP,
            summary="no NVIDIA driver; --no-gpu: %s's build is checked, its GPU checks skip" % what,
        )
    override = os.environ.get("CONDA_OVERRIDE_CUDA")
    if override is not None:
        seen += "; CONDA_OVERRIDE_CUDA=%s only tells the solver which CUDA to assume, it is not a driver" % override
    floor = spec_floor(ctx.expect.cuda) if ctx.expect and ctx.expect.cuda else None
    floor = floor or (ctx.torch.version.cuda if ctx.torch is not None else None)
    row = compat.MIN_DRIVER.get(".".join(map(str, compat.minor_key(floor)))) if floor else None
    need = ">= %s" % row[platform.system() == "Windows"] if row else "an NVIDIA driver"
    return Result(
        name="driver",
        status=FAIL,
        summary="no NVIDIA driver found; %s needs one%s" % (what, seen),
        expected=need,
        actual="none",
        hint="install the NVIDIA driver (nvidia-smi must work), or use a CPU environment; on a machine without a GPU "
        "on purpose (a CI runner) pass --no-gpu",
    )


def _no_jit_needed(ctx):
    """True when this CUDA build has kernels (SASS) for the architecture of every GPU the driver or CUDA reports: then
    CUDA minor-version compatibility's limitation, no PTX JIT with an older driver (CUDA Compatibility guide,
    "Minor Version Compatibility"), does not touch it."""
    arches = probe.arch_list(ctx.torch) if _cuda_build(ctx) else None
    seen = arch.devices_seen(ctx)
    return bool(arches and seen) and all(
        compat.arch_support(cap, arches)[0] in ("native", "compatible") for _, cap, _ in seen
    )


def _amd_result(torch, evidence):
    """The driver line on a machine whose GPU is AMD's (probe.amd_gpu) under a torch that is no ROCm build
    (torch.version.hip unset): CUDA and CPU builds cannot use it; PyTorch's ROCm wheels can
    (https://download.pytorch.org/whl/rocmX.Y, one index per ROCm release)."""
    return Result(
        name="driver",
        status=WARN,
        summary="this machine's GPU is AMD's (%s), and torch %s is a %s build, which cannot use it: torch runs on the "
        "CPU only; PyTorch's ROCm build can use the AMD GPUs ROCm supports (most discrete Radeon and Instinct cards, "
        "few integrated ones)" % (", ".join(evidence), torch.__version__, "CUDA" if torch.version.cuda else "CPU"),
        expected="a ROCm build of torch",
        actual="%s build" % ("CUDA" if torch.version.cuda else "CPU"),
        hint="install PyTorch's ROCm build, from the index of the ROCm release this machine has "
        "(`python -m pip install torch torchvision torchaudio --index-url https://download.pytorch.org/whl/rocmX.Y`, "
        "as pytorch.org's install selector gives it)",
        data={"fact": "AMD GPU: %s; torch.version.hip unset" % ", ".join(evidence)},
    )


def check_driver(ctx):
    """An NVIDIA driver answers and is new enough for the build's CUDA runtime."""
    d = ctx.driver
    if d["state"]:
        return nvidia_driver.failure(d).result()
    if not d["present"]:
        return _no_driver(ctx)
    runtime = (
        ctx.torch.version.cuda if _cuda_build(ctx) else (spec_floor(ctx.expect.cuda) if _expects_cuda(ctx) else None)
    )
    summary = "driver %s (supports CUDA %s)" % (d["version"] or "unknown", d["cuda"] or "unknown")
    if runtime is None:
        return Result(name="driver", status=PASS, summary=summary, actual=d["version"])
    windows = platform.system() == "Windows"
    declared = ctx.expect.platform.cuda if ctx.expect is not None and ctx.expect.driver_short else None
    if declared:  # pixi would not install this platform here: its `cuda` is a system requirement the driver misses
        needed = compat.driver_verdict(declared, "0", windows)[1]
        summary = "driver %s supports CUDA %s, but %s declares CUDA %s: pixi will not install it on this driver" % (
            d["version"],
            d["cuda"] or "unknown",
            ctx.expect.platform.name,
            declared,
        )
        return Result(
            name="driver",
            status=FAIL,
            summary=summary,
            expected=">= %s" % needed if needed else "CUDA %s" % declared,
            actual=d["version"],
            hint="update the NVIDIA driver%s, or use a variant whose CUDA this driver has"
            % (" to %s or newer" % needed if needed else ""),
        )
    verdict, needed = compat.driver_verdict(runtime, d["version"], windows)
    ended = _driver_ended(ctx, needed) if verdict in ("too-old", "limited") else None
    if ended is not None:
        name, end = ended
        fix = (
            "no driver for CUDA %s exists for the %s (%s): NVIDIA's last driver branch for it is R%s, which runs CUDA "
            "up to %s; use a torch build for CUDA %s or older (an older release)"
            % (runtime, name, end.architecture, end.branch, end.newest_cuda, end.newest_cuda)
        )
        limited = verdict == "limited"
        return Result(
            name="driver",
            status=WARN if limited else FAIL,
            summary=("CUDA %s runs under minor-version compatibility only" if limited else "driver too old for CUDA %s")
            % runtime,
            expected=">= %s" % needed,
            actual=d["version"],
            hint=fix + (", or keep this one under minor-version compatibility (no PTX JIT)" if limited else ""),
        )
    if verdict == "too-old":
        return Result(
            name="driver",
            status=FAIL,
            summary="driver too old for CUDA %s" % runtime,
            expected=">= %s" % needed,
            actual=d["version"],
            hint="update the NVIDIA driver to %s or newer" % needed,
        )
    if verdict == "limited" and _no_jit_needed(ctx):
        return Result(
            name="driver",
            status=PASS,
            summary=summary + "; CUDA %s runs under minor-version compatibility, and this build has kernels for "
            "every GPU here, so it needs no PTX JIT" % runtime,
            expected=">= %s for PTX JIT" % needed,
            actual=d["version"],
        )
    if verdict == "limited":
        return Result(
            name="driver",
            status=WARN,
            summary="CUDA %s runs under minor-version compatibility only" % runtime,
            expected=">= %s" % needed,
            actual=d["version"],
            hint="update the driver to %s+ for full support (PTX JIT needs it)" % needed,
        )
    return Result(
        name="driver",
        status=PASS,
        summary=summary + ", enough for CUDA %s" % runtime,
        expected=needed and ">= %s" % needed,
        actual=d["version"],
    )


def _driver_ended(ctx, needed):
    """Return (GPU name, compat.DriverEnd) of a GPU here whose architecture's last driver branch is older than the
    `needed` driver (so updating the driver cannot help), else None. Branches: compat.LAST_DRIVER_BRANCH (NVIDIA)."""
    if not needed:
        return None
    for name, capability, _ in arch.devices_seen(ctx):
        end = compat.last_driver_branch(capability)
        if end is not None and int(end.branch) < versions.key(needed)[0]:
            return name, end
    return None


def _probe_failed(ctx):
    """The gpu FAIL when CUDA did not start in the probe: the driver's state, a hang, or CUDA's own error."""
    d, error = ctx.driver, ctx.gpu.error
    if d["state"]:
        return Result(
            name="gpu",
            status=FAIL,
            summary="CUDA cannot start: %s (see driver)" % d["meaning"],
            expected="CUDA initialises",
            actual=error,
            hint=d["fix"],
        )
    if ctx.gpu.hung:
        return Result(
            name="gpu",
            status=FAIL,
            summary="initialising CUDA did not finish: the driver or a GPU is hung (%s)" % error,
            expected="CUDA initialises",
            actual="hung",
            hint=nvidia_driver.HUNG_FIX,
        )
    cause = of_cuda(error)
    if cause is None:  # no CUDA text of a known meaning: the parent judges it against its facts
        return Result(
            name="gpu",
            status=FAIL,
            summary="CUDA failed: %s" % error,
            expected="a kernel runs",
            actual=error,
            hint="run `nvidia-smi` and `dmesg | grep -i -e xid -e NVRM`; report the error with --json",
            data={"exception": error},
        )
    kind, meaning, fix = cause
    modal = mig_unusable(os.environ, gpu_modes()) if kind == "no-devices" else None
    modal = modal or (
        display_watchdog(os.environ, ctx.driver["gpus"], gpu_modes()) if kind == "launch-timeout" else None
    )
    if modal is not None:  # a mode of the GPU decides: MIG without instances, or a display's watchdog
        return Result(
            name="gpu",
            status=FAIL,
            summary="CUDA %s: %s" % ("cannot start" if kind == "no-devices" else "cannot run a kernel", modal[0]),
            expected="CUDA initialises" if kind == "no-devices" else "a kernel runs",
            actual=error,
            hint=modal[1],
            data=modal[2],
        )
    fault = memory_fault(ctx.driver["gpus"]) if kind in COUNTED_KINDS else None
    fault = fault or (memory_held(ctx) if kind == "out-of-memory" else None)
    if fault is not None:  # a fact of the GPU decides: its error counters, or who holds its memory now
        return Result(
            name="gpu",
            status=FAIL,
            summary="CUDA cannot run a kernel: %s" % fault[0],
            expected="a kernel runs",
            actual=error,
            hint=fault[1],
            data=fault[2],
        )
    if kind in CUDA_INIT_KINDS:  # CUDA did not start: the parent judges it against the GPU access path's facts
        return Result(
            name="gpu",
            status=FAIL,
            summary="CUDA cannot start: %s" % meaning,
            expected="CUDA initialises",
            actual=error,
            hint=fix,
            data={"exception": error},
        )
    if kind == "no-kernel-image":
        seen = arch.devices_seen(ctx)
        fix = arch.arch_fix(ctx, seen[0][1]) if seen else "use a build whose arch list has this GPU's architecture"
    order = order_differs(os.environ, ctx.driver["gpus"]) if kind in DEVICE_KINDS else None
    if order is not None:  # the failure is the selected GPU's, and CUDA may have selected another than intended
        meaning += "; %s" % order[0]
        fix = "%s; otherwise: %s" % (order[1], fix)
    # an out-of-memory no live list decides, in torch's allocator message: the parent judges it by its figures
    # (diagnosis rule gpu-memory), unless the GPU's selection is in doubt
    figures = kind == "out-of-memory" and order is None and diagnosis_gpu.OUT_OF_MEMORY.search(error)
    judged = {"exception": error} if figures else None
    return Result(
        name="gpu",
        status=FAIL,
        summary="CUDA cannot run a kernel: %s" % meaning,
        expected="a kernel runs",
        actual=error,
        hint=fix,
        data=judged,
    )


def first_gpu_index(environ, gpus):
    """Return the nvidia-smi (and NVML) index of the GPU that CUDA numbers 0 in this process, or None where it cannot
    be told: CUDA_VISIBLE_DEVICES' first entry (an index; a UUID or MIG entry: None), else 0. nvidia-smi and NVML
    number GPUs by PCI bus ID; CUDA does so too under CUDA_DEVICE_ORDER=PCI_BUS_ID, and by default (FASTEST_FIRST)
    only where the GPUs are alike (CUDA C Programming Guide, "CUDA Environment Variables"; order_differs)."""
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    entries = [e.strip() for e in (visible or "").split(",") if e.strip()] if visible is not None else ["0"]
    if not entries or not entries[0].isdigit() or int(entries[0]) >= len(gpus):
        return None
    alike = len({(g.get("name"), g.get("compute_cap")) for g in gpus}) == 1
    if not alike and environ.get("CUDA_DEVICE_ORDER", "FASTEST_FIRST").strip().upper() != "PCI_BUS_ID":
        return None
    return int(entries[0])


# Other processes are taken as the cause of the probe's out-of-memory (it allocates a few MiB) when they hold at
# least this share of the GPU's memory, or when the driver lists them without their memory (containers).
OTHERS_SHARE = 0.5


def others_holding(index, gpu, found):
    """Return (meaning, fix, data) when the processes `found` (gpuinfo.holders of GPU `index`, this process left out;
    `gpu`: the driver's facts of it, memory_mib its total) hold that GPU's memory: together at least OTHERS_SHARE of
    its total, or listed without their memory; None where they do not (or the list is unknown: `found` None)."""
    if not found:
        return None
    known = [p.mib for p in found if p.mib is not None]
    total = gpu.get("memory_mib")
    if known and sum(known) < (total * OTHERS_SHARE if total else 1024):  # MiB; 1 GiB where the total is unknown
        return None

    def one(p):
        name = " (%s)" % p.name if p.name else ""
        return "pid %d%s holds %s" % (p.pid, name, "%d MiB" % p.mib if p.mib is not None else "a context")

    listed = "; ".join(one(p) for p in found[:5]) + ("; and %d more" % (len(found) - 5) if len(found) > 5 else "")
    size = ", %d MiB" % total if total else ""
    held = " (%d MiB together)" % sum(known) if len(known) > 1 else ""
    meaning = "GPU %d (%s%s) is out of memory because other processes hold it: %s%s" % (
        index,
        gpu.get("name") or "unknown",
        size,
        listed,
        held,
    )
    pids = " ".join(str(p.pid) for p in found[:5])
    fix = (
        "end those processes if they are leftovers of earlier runs (`kill %s`; `nvidia-smi "
        "--query-compute-apps=pid,process_name,used_memory --format=csv` lists who holds each GPU), or run on a free "
        "GPU: `CUDA_VISIBLE_DEVICES=<its index>`" % pids
    )
    data = {"fact": "processes on GPU %d" % index, "gpu_processes": [asdict(p) for p in found]}
    return meaning, fix, data


def memory_held(ctx, reader=None):
    """Return others_holding()'s (meaning, fix, data) for the GPU the probe ran on (first_gpu_index), read now from
    the driver (gpuinfo.Reader: NVML, else nvidia-smi bounded to 10 s; `reader` stands in for it), this process left
    out; None where that GPU, or the processes on it, cannot be told."""
    gpus = ctx.driver["gpus"]
    index = first_gpu_index(os.environ, gpus)
    if index is None:
        return None
    reader = reader if reader is not None else gpuinfo.Reader(index)
    if reader.source is None:
        return None
    return others_holding(index, gpus[index], gpuinfo.holders(reader, own={os.getpid()}))


# CUDA failures a GPU memory fault gives, judged by the GPU's error counters (memory_fault): CUDA Runtime API,
# cudaError_t: cudaErrorECCUncorrectable (214) "uncorrectable ECC error encountered", cudaErrorIllegalAddress (700)
# "an illegal memory access was encountered", cudaErrorLaunchFailure (719) "unspecified launch failure" and
# cudaErrorUnknown (999) "unknown error" (checks/causes.py rows `fault` and `uvm`); NVIDIA's Xid catalogue lists
# Xid 48 (double-bit ECC error) and 63/64 (page retirement / row remapping event) as what the driver logs with them.
COUNTED_KINDS = ("fault", "uvm")


def memory_fault(gpus):
    """Return (meaning, fix, data: {"memory_errors": {index: MemoryErrors as dict}}) when the driver's counters of
    some GPU of `gpus` (driver facts, in nvidia-smi's index order) show an uncorrectable ECC error since the driver
    loaded, pages or rows pending retirement/remapping, or a failed remapping (records.MemoryErrors.faults); None
    where they show none or the driver counts none (no ECC: GeForce). Pending pages and rows are retired/remapped at
    the next GPU reset or reboot (NVIDIA, "A100 GPU Memory Error Management" and "Dynamic Page Retirement"); a
    failed remapping, or faults that come back after it, mean the GPU needs replacing."""
    found = []
    for index, gpu in enumerate(gpus):
        errors = nvidia_driver.memory_errors(gpu)
        if errors is not None and errors.faults():
            found.append((index, errors))
    if not found:
        return None
    lines = ["GPU %d has %s" % (index, _and(errors.faults())) for index, errors in found]
    indices = ",".join(str(index) for index, _ in found)
    one = len(found) == 1
    meaning = "%s: a hardware fault of %s" % ("; ".join(lines), "this GPU" if one else "these GPUs")
    fix = (
        "reset %s (`sudo nvidia-smi -r -i %s`) or reboot to retire the pages; if it recurs, replace %s "
        "(`python -m checks health` names it)" % ("it" if one else "them", indices, "the GPU" if one else "them")
    )
    if any(errors.remapped_rows_failure for _, errors in found):
        fix = "replace the GPU: row remapping failed (no spare rows left); until then " + fix
    return meaning, fix, {"memory_errors": {str(index): asdict(errors) for index, errors in found}}


def _and(phrases):
    return " and ".join(phrases) if len(phrases) < 3 else "%s and %s" % (", ".join(phrases[:-1]), phrases[-1])


# CUDA failures that belong to the GPU the process selected (its memory, its architecture, a fault on it)
DEVICE_KINDS = ("out-of-memory", "no-kernel-image", "fault")


def order_differs(environ, gpus):
    """Return (meaning, fix) when CUDA_VISIBLE_DEVICES selects GPUs by index on a machine whose GPUs differ (name or
    compute capability, as the driver lists them in PCI bus order) and CUDA_DEVICE_ORDER is not PCI_BUS_ID, else None.
    CUDA C Programming Guide, "CUDA Environment Variables": CUDA_DEVICE_ORDER `FASTEST_FIRST` (the default) orders
    the devices fastest first, `PCI_BUS_ID` by PCI bus ID; CUDA_VISIBLE_DEVICES' indices count in that order, while
    nvidia-smi numbers GPUs by PCI bus ID, so on such a machine an index read from nvidia-smi may name another GPU."""
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    entries = [e.strip() for e in (visible or "").split(",") if e.strip()]
    if not entries or not all(e.isdigit() for e in entries):
        return None
    if environ.get("CUDA_DEVICE_ORDER", "FASTEST_FIRST").strip().upper() == "PCI_BUS_ID":
        return None
    kinds = {(g.get("name"), g.get("compute_cap")) for g in gpus}
    if len(gpus) < 2 or len(kinds) < 2:
        return None
    chosen = [gpus[int(e)]["name"] for e in entries if int(e) < len(gpus)]
    return (
        "CUDA_VISIBLE_DEVICES=%s counts in CUDA's order, fastest first (CUDA_DEVICE_ORDER %s), while nvidia-smi "
        "numbers this machine's different GPUs (%s) in PCI bus order: the index may select another GPU than "
        "nvidia-smi's %s"
        % (
            visible,
            "unset" if environ.get("CUDA_DEVICE_ORDER") is None else "=" + environ["CUDA_DEVICE_ORDER"],
            ", ".join(sorted({str(g.get("name")) for g in gpus})),
            " and ".join(chosen) or visible,
        ),
        "export CUDA_DEVICE_ORDER=PCI_BUS_ID so that CUDA numbers the GPUs as nvidia-smi does, then "
        "CUDA_VISIBLE_DEVICES=%s is nvidia-smi's GPU %s" % (visible, visible),
    )


def _solver_note(environ=None, prefix=None):
    """For a conda or mamba environment (not pixi's: PIXI_ENVIRONMENT_NAME set) on a machine without a driver: their
    solvers detect no `__cuda` virtual package here, so a CUDA build of pytorch does not solve ("... __cuda ...,
    which is missing on the system"; conda's "Managing virtual packages" docs); CONDA_OVERRIDE_CUDA declares one. ""
    elsewhere, or when it is set."""
    environ = os.environ if environ is None else environ
    prefix = sys.prefix if prefix is None else prefix
    conda = bool(environ.get("CONDA_PREFIX")) or os.path.isdir(os.path.join(prefix, "conda-meta"))
    if not conda or environ.get("PIXI_ENVIRONMENT_NAME") or environ.get("CONDA_OVERRIDE_CUDA") is not None:
        return ""
    return (
        "; conda's and mamba's solvers see no __cuda virtual package here (it comes from the driver), so a CUDA "
        "build of pytorch does not solve on this machine: install it with `CONDA_OVERRIDE_CUDA=12.6` (the CUDA the "
        "GPU machines' driver supports) set"
    )


def visible_unmatched(visible, gpus):
    """Return the CUDA_VISIBLE_DEVICES entries that name no GPU the driver sees: an index >= the GPU count, or a
    UUID (`GPU-...`, a prefix is enough) of none of them. CUDA stops at the first invalid entry (CUDA C Programming
    Guide, "CUDA Environment Variables"), so what follows it is hidden too."""
    entries = [e.strip() for e in visible.split(",") if e.strip()]
    uuids = [str(g.get("uuid") or "") for g in gpus]
    wrong = []
    for entry in entries:
        if entry.isdigit():
            if int(entry) >= len(gpus):
                wrong.append(entry)
        elif entry.startswith(("GPU-", "MIG-")) and uuids and not any(u.startswith(entry) for u in uuids):
            wrong.append(entry)
    return wrong


def _unavailable(ctx):
    """The gpu FAIL when torch sees no GPU: the driver's failure where it does not answer (nvidia_driver.failure, the
    driver line's words), else what torch warned, or what hides them."""
    if ctx.driver["state"]:
        failed = nvidia_driver.failure(ctx.driver)
        return Result(
            name="gpu",
            status=FAIL,
            summary="torch sees no GPU: %s (see driver)" % failed.summary,
            expected=">= 1 GPU",
            actual="0",
            hint=failed.fix,
            data=failed.data,
        )
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1", "none", "NoDevFiles"):
        return Result(
            name="gpu",
            status=FAIL,
            summary="CUDA_VISIBLE_DEVICES=%r hides every GPU" % visible,
            expected=">= 1 GPU",
            actual="0",
            hint="unset CUDA_VISIBLE_DEVICES or list device indices, e.g. CUDA_VISIBLE_DEVICES=0",
        )
    unmatched = visible_unmatched(visible, ctx.driver["gpus"]) if visible else None
    if unmatched:
        count = len(ctx.driver["gpus"])
        indices = ",".join(str(i) for i in range(count)) or "none"
        return Result(
            name="gpu",
            status=FAIL,
            summary="CUDA_VISIBLE_DEVICES=%s names %s, but the driver sees %d GPU%s (indices %s)"
            % (visible, ", ".join(unmatched), count, "" if count == 1 else "s", indices),
            expected="indices below %d, or the GPUs' UUIDs" % count,
            actual=visible,
            hint="set CUDA_VISIBLE_DEVICES=%s (or unset CUDA_VISIBLE_DEVICES); it counts the GPUs this process may "
            "see, from 0, whatever a launcher or a scheduler set" % ("0" if count else ""),
            data={"fact": "driver GPUs %d, CUDA_VISIBLE_DEVICES=%s" % (count, visible)},
        )
    for warning in ctx.gpu.warnings:
        cause = of_cuda(warning)
        if cause or warning.startswith(INIT_WARNING):
            from checks import errors

            # CUDA's initialisation failed: the parent judges torch's warning against the GPU access path's facts
            judged = cause is None or cause[0] in CUDA_INIT_KINDS
            return Result(
                name="gpu",
                status=FAIL,
                summary="torch sees no GPU: %s" % (cause[1] if cause else errors.condense(warning)),
                expected=">= 1 GPU",
                actual=errors.condense(warning),
                hint=cause[2] if cause else "run `nvidia-smi`; report the error with --json",
                data={"exception": warning} if judged else None,
            )
    modal = mig_unusable(os.environ, gpu_modes())
    if modal is not None:
        return Result(
            name="gpu",
            status=FAIL,
            summary="torch sees no GPU: %s" % modal[0],
            expected=">= 1 GPU",
            actual="0",
            hint=modal[1],
            data=modal[2],
        )
    where = "CUDA_VISIBLE_DEVICES=%s" % visible if visible is not None else "no warning from torch"
    return Result(
        name="gpu",
        status=FAIL,
        summary="torch.cuda.is_available() is False although a driver answers (%s)" % where,
        expected=">= 1 GPU",
        actual="0",
        hint="check the indices in CUDA_VISIBLE_DEVICES; in a container pass --gpus all",
    )


def gpu_modes():
    """The driver's records.GpuModes of every GPU (nvidia_driver.modes: NVML, else nvidia-smi bounded to 10 s); tests
    replace it."""
    return nvidia_driver.modes()


def _selected(environ, found):
    """The GpuModes of `found` that CUDA_VISIBLE_DEVICES selects by index (all where it is unset; None where it names
    UUIDs or MIG devices: then which GPUs it means is not told here)."""
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return list(found)
    entries = [e.strip() for e in visible.split(",") if e.strip()]
    if not all(e.isdigit() for e in entries):
        return None
    by_index = {g.index: g for g in found}
    return [by_index[int(e)] for e in entries if int(e) in by_index]


def mig_unusable(environ, found):
    """Return (meaning, fix, data) when every GPU this process may use (CUDA_VISIBLE_DEVICES' indices, else all of
    `found`, records.GpuModes) is in MIG mode with no MIG device created, so CUDA has no device to enumerate
    (GpuModes.mig_without_instances: NVIDIA MIG User Guide, "Creating GPU Instances"); None otherwise. The fix is the
    guide's: create GPU and compute instances (`nvidia-smi mig -cgi <profiles> -C`), or disable MIG mode
    (`nvidia-smi -i N -mig 0`, which takes effect after a GPU reset)."""
    chosen = _selected(environ, found)
    if not chosen or not all(g.mig_without_instances for g in chosen):
        return None
    indices = ",".join(str(g.index) for g in chosen)
    one = len(chosen) == 1
    meaning = (
        "MIG mode is enabled on GPU %s but no MIG GPU instance is created on %s (0 MIG devices): a GPU in MIG mode "
        'runs CUDA work only inside its MIG instances (NVIDIA MIG User Guide, "Creating GPU Instances"), so CUDA '
        "finds no device" % (indices, "it" if one else "them")
    )
    first = chosen[0].index
    fix = (
        "create MIG instances: `sudo nvidia-smi mig -i %d -cgi <profile> -C` (`nvidia-smi mig -i %d -lgip` lists the "
        "profiles), then run on one (its MIG-... UUID from `nvidia-smi -L` in CUDA_VISIBLE_DEVICES); or disable MIG: "
        "`sudo nvidia-smi -i %d -mig 0`, then reset the GPU (`sudo nvidia-smi -r -i %d`) or reboot"
        % (first, first, first, first)
    )
    data = {"fact": "MIG enabled, 0 MIG devices on GPU %s" % indices, "gpu_modes": [asdict(g) for g in chosen]}
    return meaning, fix, data


def display_watchdog(environ, gpus, found):
    """Return (meaning, fix, data) when the GPU CUDA ran on (first_gpu_index; `gpus`: the driver's facts) drives a
    display (records.GpuModes.drives_display), whose watchdog is what terminates a long kernel: CUDA Runtime API,
    cudaErrorLaunchTimeout (702), "can only occur if timeouts are enabled" (cudaDevAttrKernelExecTimeout); NVIDIA's
    CUDA release notes for Linux: kernel launches on a GPU with a display attached are limited in run time, GPUs
    without one are not, so CUDA should run on a GPU not attached to an X display. None otherwise."""
    index = first_gpu_index(environ, gpus) if gpus else (0 if len(found) == 1 else None)
    gpu = next((g for g in found if g.index == index), None)
    if gpu is None or not gpu.drives_display:
        return None
    name = gpus[index].get("name") if gpus and index < len(gpus) else None
    how = "display active" if gpu.display_active else "a monitor attached"
    others = [g.index for g in found if not g.drives_display]
    meaning = (
        "GPU %d%s drives a display (nvidia-smi: %s), so the driver's watchdog limits each kernel's run time on it "
        "and terminated this one (cudaErrorLaunchTimeout: kernel timeouts are on only where a GPU drives a display)"
        % (index, " (%s)" % name if name else "", how)
    )
    fix = (
        "run on a GPU that drives no display (%s), or stop the X server / display manager while computing (`sudo "
        "systemctl stop display-manager`, or boot to a text console: `sudo systemctl isolate multi-user.target`) and "
        "let the display use another GPU (the integrated one)"
        % ("CUDA_VISIBLE_DEVICES=%d" % others[0] if others else "another GPU, with CUDA_VISIBLE_DEVICES=<its index>")
    )
    data = {"fact": "GPU %d drives a display" % index, "gpu_modes": [asdict(gpu)]}
    return meaning, fix, data


def check_gpu(ctx):
    """GPUs are visible to torch and a kernel runs (probed in a child process with a timeout)."""
    if ctx.torch is None or build_flavour(ctx.torch) != "cuda":
        return Result(name="gpu", status=SKIP, summary="not a CUDA build")
    if ctx.gpu is None:
        return Result(
            name="gpu",
            status=SKIP,
            summary="no working NVIDIA driver (see driver)"
            if ctx.driver["state"]
            else "no NVIDIA driver on this machine",
        )
    if ctx.gpu.error is not None:
        return _probe_failed(ctx)
    if not ctx.gpu.available:
        return _unavailable(ctx)
    if not ctx.gpu.kernel_ok:
        return Result(
            name="gpu",
            status=FAIL,
            summary="a CUDA kernel gave a wrong result",
            expected="2*sum(0..1023)",
            actual="mismatch",
            hint="the GPU or driver is faulty: `nvidia-smi -q -d ECC`, then `python -m checks health`",
        )
    names = ", ".join(
        "%s (sm_%d%d, %s GiB)" % (d.name, d.capability[0], d.capability[1], d.memory_gib) for d in ctx.gpu.devices
    )
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    suffix = "" if visible is None else "; CUDA_VISIBLE_DEVICES=%s" % visible
    order = order_differs(os.environ, ctx.driver["gpus"])
    if order is not None:
        entries = [int(e) for e in visible.split(",") if e.strip()]
        meant = [ctx.driver["gpus"][i]["name"] for i in entries if i < len(ctx.driver["gpus"])]
        got = [d.name for d in ctx.gpu.devices]
        if meant[: len(got)] != got[: len(meant)]:  # torch's devices are not nvidia-smi's at those indices
            return Result(
                name="gpu",
                status=WARN,
                summary="%d visible: %s; %s" % (ctx.gpu.count, names, order[0]),
                expected=", ".join(meant),
                actual=", ".join(got),
                hint=order[1],
            )
    return Result(
        name="gpu", status=PASS, summary="%d visible: %s%s" % (ctx.gpu.count, names, suffix), actual=ctx.gpu.count
    )


def check_mps(ctx):
    """Apple Silicon: the MPS backend is built and available."""
    if platform.system() != "Darwin" or platform.machine() != "arm64":
        return Result(name="mps", status=SKIP, summary="MPS exists on Apple Silicon only")
    if ctx.torch is None:
        return Result(name="mps", status=SKIP, summary="torch did not import")
    mps = ctx.torch.backends.mps
    if not mps.is_built():
        return Result(
            name="mps",
            status=FAIL,
            summary="this torch was built without MPS",
            expected="built",
            actual="not built",
            hint=env_hint(ctx),
        )
    if not mps.is_available():
        floor = compat.mps_macos_floor(ctx.torch.__version__) or "12.3"
        mac = platform.mac_ver()[0]
        if mac and versions.key(mac) < versions.key(floor):
            return Result(
                name="mps",
                status=FAIL,
                summary="torch %s needs macOS %s+ for MPS; this is macOS %s" % (ctx.torch.__version__, floor, mac),
                expected="macOS %s+" % floor,
                actual=mac,
                hint="update macOS to %s or newer, or use a torch release whose MPS floor this macOS meets "
                "(checks/compat.py MPS_MACOS_FLOOR)" % floor,
                data={"fact": "macOS %s < %s" % (mac, floor)},
            )
        return Result(
            name="mps",
            status=FAIL,
            summary="MPS is built but unavailable on macOS %s (torch %s needs %s+)"
            % (mac, ctx.torch.__version__, floor),
            expected="macOS %s+ on Apple Silicon" % floor,
            actual=mac,
            hint="run natively, not under Rosetta (`python -c 'import platform; print(platform.machine())'` must say "
            "arm64)",
        )
    return Result(name="mps", status=PASS, summary="MPS available (macOS %s)" % platform.mac_ver()[0])
