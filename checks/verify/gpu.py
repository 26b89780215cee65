"""Verify checks of the GPU stack: NVIDIA driver, visible GPUs, architecture coverage, Apple MPS."""

import os
import platform

from checks import compat
from checks.probe import build_flavour
from checks.report import FAIL, PASS, SKIP, WARN, Result
from checks.verify.install import env_hint
from checks.versions import floor as spec_floor


def check_driver(ctx):
    """An NVIDIA driver answers and is new enough for the build's CUDA runtime."""
    d = ctx.driver
    cuda_build = ctx.torch is not None and build_flavour(ctx.torch) == "cuda"
    expects_cuda = bool(ctx.expect and ctx.expect.flavour == "cuda")
    if d["smi_error"]:
        return Result(
            "driver",
            FAIL,
            d["smi_error"],
            "nvidia-smi answers",
            d["smi_error"],
            "the driver is not healthy: look for Xid errors (`dmesg | grep -i xid`), then reset the GPU or reboot",
        )
    if not d["present"]:
        override = os.environ.get("CONDA_OVERRIDE_CUDA")
        if expects_cuda and override:
            return Result(
                "driver",
                SKIP,
                "no NVIDIA driver; CONDA_OVERRIDE_CUDA=%s stands in for one (a GPU-less CI runner): "
                "the build is checked, the GPU checks skip" % override,
            )
        if expects_cuda:
            floor = spec_floor(ctx.expect.cuda)
            need = compat.MIN_DRIVER.get(floor, ("a recent driver",) * 2)[platform.system() == "Windows"]
            return Result(
                "driver",
                FAIL,
                "no NVIDIA driver found; %s needs one" % ctx.expect.describe(),
                ">= %s" % need,
                "none",
                "install the NVIDIA driver (nvidia-smi must work), or use the cpu environment",
            )
        return Result("driver", SKIP, "no NVIDIA driver on this machine")
    runtime = ctx.torch.version.cuda if cuda_build else (spec_floor(ctx.expect.cuda) if expects_cuda else None)
    summary = "driver %s (supports CUDA %s)" % (d["version"] or "unknown", d["cuda"] or "unknown")
    if runtime is None:
        return Result("driver", PASS, summary, actual=d["version"])
    verdict, needed = compat.driver_verdict(runtime, d["version"], platform.system() == "Windows")
    if ctx.expect is not None and ctx.expect.driver_short:
        verdict = "too-old" if verdict != "unknown" else verdict
    if verdict == "too-old":
        return Result(
            "driver",
            FAIL,
            "driver too old for CUDA %s" % runtime,
            ">= %s" % needed,
            d["version"],
            "update the NVIDIA driver to %s or newer" % needed,
        )
    if verdict == "limited":
        return Result(
            "driver",
            WARN,
            "CUDA %s runs under minor-version compatibility only" % runtime,
            ">= %s" % needed,
            d["version"],
            "update the driver to %s+ for full support (PTX JIT needs it)" % needed,
        )
    return Result("driver", PASS, summary + ", enough for CUDA %s" % runtime, needed and ">= %s" % needed, d["version"])


def check_gpu(ctx):
    """GPUs are visible to torch and a kernel runs (probed in a child process with a timeout)."""
    if ctx.torch is None or build_flavour(ctx.torch) != "cuda":
        return Result("gpu", SKIP, "not a CUDA build")
    if ctx.gpu is None:
        return Result("gpu", SKIP, "no NVIDIA driver on this machine")
    if "error" in ctx.gpu:
        hint = (
            "the driver or a GPU is hung: check `nvidia-smi` and `dmesg | grep -i xid`; reset the GPU or reboot"
            if ctx.gpu["hung"]
            else "run `nvidia-smi`; if it works, reinstall the environment"
        )
        return Result("gpu", FAIL, ctx.gpu["error"], "CUDA initialises", "probe failed", hint)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if not ctx.gpu["available"]:
        if visible is not None and visible.strip() in ("", "-1", "none", "NoDevFiles"):
            return Result(
                "gpu",
                FAIL,
                "CUDA_VISIBLE_DEVICES=%r hides every GPU" % visible,
                ">= 1 GPU",
                "0",
                "unset CUDA_VISIBLE_DEVICES or list device indices, e.g. CUDA_VISIBLE_DEVICES=0",
            )
        return Result(
            "gpu",
            FAIL,
            "torch.cuda.is_available() is False although a driver is present",
            ">= 1 GPU",
            "0",
            "check the driver with `nvidia-smi`; in containers pass --gpus all",
        )
    if not ctx.gpu.get("kernel_ok"):
        return Result(
            "gpu",
            FAIL,
            "a CUDA kernel gave a wrong result",
            "2*sum(0..1023)",
            "mismatch",
            "the GPU or driver is faulty: run `nvidia-smi -q -d ECC`, reset the GPU",
        )
    names = ", ".join(
        "%s (sm_%d%d, %s GiB)" % (d["name"], d["capability"][0], d["capability"][1], d["memory_gib"])
        for d in ctx.gpu["devices"]
    )
    suffix = "" if visible is None else "; CUDA_VISIBLE_DEVICES=%s" % visible
    return Result("gpu", PASS, "%d visible: %s%s" % (ctx.gpu["count"], names, suffix), actual=ctx.gpu["count"])


def check_gpu_arch(ctx):
    """Every visible GPU's architecture has kernels in this build's arch list."""
    if ctx.torch is None or not ctx.gpu_ok:
        return Result("gpu-arch", SKIP, "no usable GPU")
    arch_list = ctx.torch.cuda.get_arch_list()
    worst = None
    for device in ctx.gpu["devices"]:
        verdict, match = compat.arch_support(tuple(device["capability"]), arch_list)
        rank = ["native", "compatible", "ptx", "none"].index(verdict)
        if worst is None or rank > worst[0]:
            worst = (rank, verdict, match, device)
    _, verdict, match, device = worst
    sm = "sm_%d%d" % tuple(device["capability"])
    shown = " ".join(arch_list)
    if verdict == "none":
        newer = device["capability"][0] >= 10
        return Result(
            "gpu-arch",
            FAIL,
            "no kernels for %s (%s) in this build" % (sm, device["name"]),
            sm,
            shown,
            "use the `latest` environment (CUDA 12.8+)" if newer else "use the cu118 environment (adds sm_90)",
        )
    if verdict == "ptx":
        return Result(
            "gpu-arch",
            WARN,
            "%s runs by JIT-compiling %s PTX (slow first run)" % (sm, match),
            sm,
            shown,
            "use an environment whose build includes %s" % sm,
        )
    return Result("gpu-arch", PASS, "%s covered by %s" % (sm, match), sm, shown)


def check_mps(ctx):
    """Apple Silicon: the MPS backend is built and available."""
    if platform.system() != "Darwin" or platform.machine() != "arm64":
        return Result("mps", SKIP, "MPS exists on Apple Silicon only")
    if ctx.torch is None:
        return Result("mps", SKIP, "torch did not import")
    mps = ctx.torch.backends.mps
    if not mps.is_built():
        return Result("mps", FAIL, "this torch was built without MPS", "built", "not built", env_hint(ctx))
    if not mps.is_available():
        return Result(
            "mps",
            FAIL,
            "MPS is built but unavailable",
            "macOS 12.3+ on Apple Silicon",
            platform.mac_ver()[0],
            "update macOS to 12.3 or newer; run natively, not under Rosetta",
        )
    return Result("mps", PASS, "MPS available (macOS %s)" % platform.mac_ver()[0])
