"""Verify's architecture check: the build's compiled-in arch list against each GPU's compute capability as the
driver reports it, so it needs no kernel launch and works when the GPU probe fails; and which environment of the
workspace has kernels for a GPU when this build has none."""

from checks import compat
from checks.diagnosis.model import GpuSeen
from checks.machine import probe
from checks.machine.probe import build_flavour
from checks.report import FAIL, PASS, SKIP, WARN, Result
from checks.workspace import promise


def devices_seen(ctx):
    """Return [(name, (major, minor), where)] of the GPUs: from the probe when CUDA started, else from the driver
    (NVML or nvidia-smi's compute_cap), which needs no kernel launch, else from the product name the driver gives
    (compat.capability_of_name: nvidia-smi before ~510 has no compute_cap)."""
    if ctx.gpu is not None and ctx.gpu.devices:
        return [(g.name, g.capability, "torch") for g in ctx.gpu.devices]
    return [(g.name, g.capability, g.source) for g in GpuSeen.from_driver(ctx.driver)]


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
        name="gpu-arch",
        status=PASS,
        summary="%s covered by %s%s%s" % (sm, match, source, features_lacking(seen)),
        expected=sm,
        actual=shown,
    )


def features_lacking(seen):
    """Return `; <GPU> (compute capability 7.0) has no native bfloat16, TF32 or FlashAttention-2 (8.0+) nor FP8
    (8.9+): <fix>` for the oldest GPU seen (checks/compat.py GPU_FEATURES) when it predates Ampere (no bfloat16),
    else "": a fact every training or serving recipe written for newer GPUs meets there."""
    if not seen:
        return ""
    name, capability, _ = min(seen, key=lambda s: s[1])
    lacking = compat.gpu_features_lacking(capability)
    if not any(f.name == "bfloat16" for f in lacking):  # an Ampere or newer GPU: what it lacks is named on failure
        return ""
    by_floor = {}
    for feature in lacking:
        by_floor.setdefault(feature.floor, []).append(feature.name)
    groups = [
        "%s (%d.%d+)" % ((" or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names),) + floor)
        for floor, names in sorted(by_floor.items())
    ]
    fixes = [f.fix for f in lacking if f.name in ("bfloat16", "FlashAttention-2")]
    return "; %s (compute capability %d.%d) has no native %s: %s" % (
        (name,) + tuple(capability) + (" nor ".join(groups), "; ".join(fixes) or lacking[0].fix)
    )
