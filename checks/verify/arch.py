"""Verify's architecture check: the build's compiled-in arch list against each GPU's compute capability as the
driver reports it, so it needs no kernel launch and works when the GPU probe fails; and which environment of the
workspace has kernels for a GPU when this build has none."""

from checks import compat
from checks.machine import probe
from checks.machine.probe import build_flavour
from checks.report import FAIL, PASS, SKIP, WARN, Result
from checks.workspace import promise


def devices_seen(ctx):
    """Return [(name, (major, minor), where)] of the GPUs: from the probe when CUDA started, else from the driver
    (NVML or nvidia-smi's compute_cap), which needs no kernel launch."""
    if ctx.gpu is not None and ctx.gpu.devices:
        return [(g.name, g.capability, "torch") for g in ctx.gpu.devices]
    seen = []
    for gpu in ctx.driver["gpus"]:
        if gpu.get("compute_cap"):
            major, minor = gpu["compute_cap"].split(".")
            seen.append((gpu["name"], (int(major), int(minor)), ctx.driver["source"]))
    return seen


def arch_fix(ctx, capability):
    """Return where kernels for `capability` are: an environment of the workspace, else the CUDA a build needs."""
    sm = "sm_%d%d" % tuple(capability)
    if ctx.expect is not None:
        fitting = promise.environments_with_kernels(ctx.expect.ws, ctx.host.subdir, capability, ctx.expect.env)
        if fitting:
            env, name, why = fitting[0]
            variants = [p for p in ctx.expect.ws.env_platforms(env) if p.subdir == ctx.host.subdir]
            where = " on %s" % name if len(variants) > 1 else ""
            return "use the %s environment%s (%s): `pixi run -e %s verify`" % (env, where, why, env)
        return "no environment of this workspace has %s kernels: add one whose CUDA can build them" % sm
    if _older_than_build(ctx, capability):
        return compat.older_gpu_fix(capability)
    span = compat.ARCH_CUDA.get(tuple(capability))
    if span:
        return "install a torch build whose arch list has %s (CUDA %s or newer%s)" % (
            sm,
            span[0],
            ", older than %s" % span[1] if span[1] else "",
        )
    return "install a torch build whose arch list has %s" % sm


def _older_than_build(ctx, capability):
    """True when the GPU is older than every architecture this build has SASS for (a newer torch cannot help)."""
    sass = [a for a in probe.arch_list(ctx.torch) if a.startswith("sm_")] if ctx.torch is not None else []
    caps = [compat.arch_capability(a) for a in sass]
    caps = [c for c in caps if c is not None]
    return bool(caps) and tuple(capability) < min(caps)


def check_gpu_arch(ctx):
    """Every GPU's architecture has kernels in this build (judged from the build's arch list and the GPU's compute
    capability as the driver reports it: no kernel launch, so it works when the probe fails)."""
    if ctx.torch is None or build_flavour(ctx.torch) != "cuda":
        return Result(name="gpu-arch", status=SKIP, summary="not a CUDA build")
    arches = probe.arch_list(ctx.torch)
    seen = devices_seen(ctx)
    if not arches:
        return Result(name="gpu-arch", status=SKIP, summary="this build does not list its architectures")
    if not seen:
        unknown = "compute capability unknown (%s gave none" % ctx.driver["source"] if ctx.driver["gpus"] else ""
        return Result(
            name="gpu-arch", status=SKIP, summary=unknown + " and CUDA did not start)" if unknown else "no GPU seen"
        )
    ranks = ["native", "compatible", "ptx", "none"]
    judged = [(compat.arch_support(cap, arches), name, cap, where) for name, cap, where in seen]
    (verdict, match), name, cap, where = max(judged, key=lambda j: ranks.index(j[0][0]))
    sm, shown = "sm_%d%d" % cap, " ".join(arches)
    source = "" if where == "torch" else " (compute capability from %s, no kernel launched)" % where
    if verdict == "none":
        summary = "no kernels for %s (%s) in this CUDA %s build%s" % (sm, name, ctx.torch.version.cuda, source)
        return Result(name="gpu-arch", status=FAIL, summary=summary, expected=sm, actual=shown, hint=arch_fix(ctx, cap))
    if verdict == "ptx":
        return Result(
            name="gpu-arch",
            status=WARN,
            summary="%s runs by JIT-compiling %s PTX (slow first run)" % (sm, match),
            expected=sm,
            actual=shown,
            hint=arch_fix(ctx, cap),
        )
    return Result(
        name="gpu-arch", status=PASS, summary="%s covered by %s%s" % (sm, match, source), expected=sm, actual=shown
    )
