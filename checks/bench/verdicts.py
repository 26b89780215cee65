"""bench's measurements as report results, each with a verdict against the datasheet and the likely causes of LOW."""

import sys

import torch

from checks.bench import measure as bm
from checks.bench import peaks
from checks.bench.crosscheck import crosscheck
from checks.machine import contention
from checks.report import FAIL, PASS, SKIP, WARN, Result
from checks.timing import Timer

COPIES = ("d2d", "h2d-pinned", "d2h-pinned", "h2d-pageable", "d2h-pageable")
# (model, precision, mode) of the training-step check's models timed by the full run.
REFERENCE_TRAINING = tuple(
    (m, p, mode) for m in ("cnn", "transformer") for p in ("fp32", "bf16") for mode in ("eager", "compile")
)


def progress(text):
    """Say what is being measured (stderr, so --json and the result lines stay clean)."""
    print("bench: measuring %s ..." % text, file=sys.stderr, flush=True)


def likely_causes(ctx, kind, dtype=None):
    """Return what most often makes a figure LOW, from the facts seen during this run."""
    causes, health = [], ctx.sampler.summary() if ctx.sampler else {}
    for reason, share in sorted(health.get("throttle", {}).items(), key=lambda kv: -kv[1]):
        causes.append("%s in %.0f%% of samples" % (reason, share * 100))
    s = ctx.state
    if s.get("power_limit_w") and s.get("power_default_w") and s["power_limit_w"] < 0.95 * s["power_default_w"]:
        causes.append("power limit %s W below the default %s W" % (s["power_limit_w"], s["power_default_w"]))
    if (
        health.get("sm_mhz_median")
        and health.get("sm_max_mhz")
        and health["sm_mhz_median"] < 0.8 * health["sm_max_mhz"]
    ):
        causes.append("SM clock median %s of %s MHz" % (health["sm_mhz_median"], health["sm_max_mhz"]))
    if kind == "pcie" and s.get("pcie_gen_max"):
        gen, width = (
            health.get("pcie_gen_seen") or s.get("pcie_gen"),
            health.get("pcie_width_seen") or s.get("pcie_width"),
        )
        if (gen, width) < (s["pcie_gen_max"], s["pcie_width_max"]):
            causes.append(
                "PCIe link at gen %s x%s, below its gen %s x%s" % (gen, width, s["pcie_gen_max"], s["pcie_width_max"])
            )
    if ctx.device == "cuda":
        major, minor = torch.cuda.get_device_capability()
        if "sm_%d%d" % (major, minor) not in torch.cuda.get_arch_list():
            causes.append(
                "no sm_%d%d kernels in this build: PTX JIT fallback (use an environment built for it)" % (major, minor)
            )
    if dtype == "tf32":
        causes.append("TF32 disabled or unsupported (pre-Ampere GPUs have none)")
    return causes or ["another process on the GPU (nvidia-smi lists them)", "a shared or partitioned GPU (MIG, vGPU)"]


def judged(ctx, name, value, unit, peak, kind, text, data, dtype=None):
    """Return a Result for a measured figure: PASS (OK or no verdict), WARN/FAIL (LOW) with causes."""
    verdict, fraction = peaks.verdict(value, peak, kind)
    data.update(value=value, unit=unit, peak=peak, fraction=fraction, verdict=verdict)
    if verdict is None:
        return Result(name=name, status=PASS, summary=text + "; no datasheet figure here: measured only", data=data)
    text += ", %.0f%% of %g %s (%s)" % (fraction * 100, peak, unit, verdict)
    if verdict == peaks.OK:
        return Result(name=name, status=PASS, summary=text, data=data)
    return Result(
        name=name,
        status=FAIL if ctx.strict else WARN,
        summary=text,
        expected=">= %.0f%% of the datasheet" % (peaks.OK_FRACTION[kind] * 100),
        actual="%.0f%%" % (fraction * 100),
        hint="likely: " + "; ".join(likely_causes(ctx, kind, dtype)),
        data=data,
    )


def matmul(ctx, timer, dtype):
    """Sweep shapes for one dtype; report the best median TFLOP/s and its fraction of the datasheet."""
    name = "matmul-%s" % dtype
    if ctx.device == "cpu" and dtype not in ("fp32", "bf16"):
        return Result(name=name, status=SKIP, summary="%s matmul is measured on GPUs only" % dtype)
    problem = bm.fp8_problem(ctx.device) if dtype == "fp8" else None
    if problem:
        return Result(name=name, status=SKIP, summary=problem)
    shapes = (bm.QUICK_SHAPES if ctx.quick else bm.SHAPES)[ctx.device]
    rows, notes = bm.matmul_sweep(timer, dtype, list(shapes), 0.5 if ctx.quick else 1.0, progress)
    if not rows:
        return Result(name=name, status=FAIL, summary="no shape fitted in memory", hint="free GPU memory and rerun")
    best = max(rows, key=lambda r: r["tflops"])
    ctx.swept[dtype] = rows
    text = "%.4g TFLOP/s at %s (median of %d; best iteration %.4g)" % (
        best["tflops"],
        "x".join(map(str, best["shape"])),
        best["n"],
        best["tflops_best"],
    )
    text += "".join("; " + n for n in notes)
    data = {"shapes": rows, "notes": notes}
    return judged(ctx, name, best["tflops"], "TFLOP/s", ctx.peak_tflops(dtype), "matmul", text, data, dtype)


def copies(ctx, timer, kind):
    """Measure one copy kind; judge d2d against DRAM bandwidth and pinned host copies against the PCIe link."""
    name = "copy-%s" % kind
    if ctx.device == "cpu" and kind != "d2d":
        return Result(name=name, status=SKIP, summary="host-device copies need a GPU")
    progress("%s copy" % kind)
    size = (256 if ctx.quick else 1024) * 2**20
    m = bm.copy_bandwidth(timer, kind, size, 0.5)
    text = "%.1f GB/s (%d MiB, %s)" % (m["gbs"], size // 2**20, "read + write counted" if kind == "d2d" else "one way")
    if kind == "d2d":
        return judged(ctx, name, m["gbs"], "GB/s", ctx.memory_gbs, "bandwidth", text, m)
    peak = peaks.pcie_gbs(ctx.state.get("pcie_gen_max"), ctx.state.get("pcie_width_max"))
    if kind.endswith("pageable"):  # bounded by host memcpy into a staging buffer: no datasheet figure
        peak = None
    return judged(ctx, name, m["gbs"], "GB/s", peak, "pcie", text, m)


def gpt2(ctx, timer, compile_model):
    """GPT-2 small training step in bf16 (fused AdamW): tokens/s and model FLOPs utilisation."""
    name = "gpt2-bf16-%s" % ("compile" if compile_model else "eager")
    if ctx.device != "cuda":
        return Result(
            name=name, status=SKIP, summary="GPT-2 small is a GPU benchmark; the CPU run times the reference models"
        )
    progress("GPT-2 small training, bf16, %s (compiles first)" % ("torch.compile" if compile_model else "eager"))
    m, notes = bm.with_smaller_batch(
        lambda b: bm.gpt2_throughput(timer, b, compile_model, 1.0 if ctx.quick else 4.0), 32
    )
    flops = m["tokens_per_s"] * m["flops_per_token"] / 1e12
    text = "%.0fk tokens/s, %.1f ms/step (batch %d x %d), %.0f TFLOP/s model FLOPs" % (
        m["tokens_per_s"] / 1e3,
        m["ms_per_step"],
        m["batch"],
        m["context"],
        flops,
    )
    text += "".join("; " + n for n in notes)
    m["model_tflops"], m["notes"] = flops, notes
    return judged(ctx, name, flops, "TFLOP/s", ctx.peak_tflops("bf16"), "mfu", text, m, "bf16")


def reference(ctx, timer, model, precision, mode):
    """Time the training-step check's model in one variant: ms/step and samples (or tokens) per second."""
    from checks.train.trainer import Variant
    from checks.train.verdicts import variant_problem

    variant = Variant(model, ctx.device, precision, mode)
    name = "train-%s-%s-%s" % (model, precision, mode)
    problem = variant_problem(ctx, variant)
    if problem:
        return Result(name=name, status=problem[0], summary=problem[1], hint=problem[2])
    progress("%s training" % variant.name)
    m = bm.reference_training(timer, variant, 1.0)
    text = "%.2f ms/step, %.0f %s/s" % (m["ms_per_step"], m["per_s"], m["unit"])
    m.update(value=m["per_s"], unit="%s/s" % m["unit"])
    return Result(name=name, status=PASS, summary=text, data=m)


def health(ctx):
    """What the GPU did during the run: clocks, temperature, power, throttle reasons."""
    if ctx.sampler is None or not ctx.sampler.samples:
        return Result(
            name="health",
            status=SKIP,
            summary="no GPU telemetry (NVML or nvidia-smi)" if ctx.device == "cuda" else "CPU run",
        )
    h = ctx.sampler.stop()
    text = "%d samples: SM clock median %s (min %s) of %s MHz, max %s C, max %s W" % (
        h["samples"],
        h["sm_mhz_median"],
        h["sm_mhz_min"],
        h["sm_max_mhz"],
        h["temp_c_max"],
        h["power_w_max"],
    )
    slow = {r: s for r, s in h["throttle"].items() if r != "software power cap" and s > 0.05}
    if h["throttle"]:
        text += "; throttling: " + ", ".join("%s %.0f%%" % (r, s * 100) for r, s in h["throttle"].items())
    if slow:
        return Result(
            name="health",
            status=WARN,
            summary=text,
            expected="no thermal or hardware slowdown",
            actual=", ".join(slow),
            hint="check cooling and power delivery; compare with `nvidia-smi -q -d PERFORMANCE`",
            data=h,
        )
    return Result(
        name="health",
        status=PASS,
        summary=text + (" (power cap at full load is normal)" if h["throttle"] else ""),
        data=h,
    )


def jobs(ctx):
    """Yield (name, function) for every measurement in print order; health sampling runs throughout, and each
    measurement notes the other load it ran under (contention.Watch)."""
    ctx.watch = contention.Watch(ctx.reader, ctx.holds_context)
    for name, func in _measurements(ctx):
        yield name, ctx.watch.around(func)
    yield "contention", ctx.watch.verdict
    yield "health", lambda: health(ctx)


def _measurements(ctx):
    from checks.nvidia.gpuinfo import HealthSampler

    timer = Timer(torch, ctx.device)
    ctx.swept, ctx.reported = {}, {}
    ctx.sampler = HealthSampler(ctx.reader).start() if ctx.reader else None

    def warm_then(dtype):
        def run():
            if dtype == bm.MATMUL_DTYPES[0]:
                seconds = (3 if ctx.quick else 20) if ctx.device == "cuda" else 1
                warm_dtype = "bf16" if ctx.device == "cuda" else "fp32"
                progress("warm-up (%d s of %s matmul)" % (seconds, warm_dtype))
                timer.warm_up(bm.matmul_operands(warm_dtype, 4096, 4096, 4096, ctx.device), seconds)
            result = matmul(ctx, timer, dtype)
            if dtype == "bf16" and result.status != SKIP:
                ctx.reported["matmul"] = result.data.get("value")
            return result

        return run

    for dtype in bm.MATMUL_DTYPES:
        yield "matmul-" + dtype, warm_then(dtype)
    yield "crosscheck-matmul", lambda: crosscheck(ctx, timer, "matmul", progress)
    for kind in COPIES:
        yield "copy-" + kind, (lambda k=kind: _remember(ctx, k, copies(ctx, timer, k)))
    yield "crosscheck-copy", lambda: crosscheck(ctx, timer, "copy", progress)
    if not ctx.quick:
        for model, precision, mode in REFERENCE_TRAINING:
            yield (
                "train-%s-%s-%s" % (model, precision, mode),
                (lambda a=(model, precision, mode): reference(ctx, timer, *a)),
            )
        yield "gpt2-bf16-eager", lambda: gpt2(ctx, timer, False)
    yield "gpt2-bf16-compile", lambda: gpt2(ctx, timer, True)


def _remember(ctx, kind, result):
    if kind == "d2d" and result.status != SKIP:
        ctx.reported["copy"] = result.data.get("value")
    return result
