"""bench's cross-check: its own timer against triton.testing.do_bench on the same work, in the same run."""

import torch

from checks.bench import measure as bm
from checks.report import PASS, SKIP, WARN, Result

# bench's timer may differ this much from triton.testing.do_bench's on the same work, measured alternately.
CROSSCHECK_TOLERANCE = 0.05
# The reported figure may differ this much from the best do_bench reaches over the same shapes in the same run
# (the bar: an independent, careful measurement on the same GPU agrees within 2 %).
AGREEMENT = 0.02


def crosscheck(ctx, timer, what, progress):
    """Measure the best bf16 shape (or the d2d copy) with bench's timer and triton's do_bench, alternating."""
    name = "crosscheck-%s" % what
    try:
        from triton.testing import do_bench
    except ImportError:
        return Result(name=name, status=SKIP, summary="triton is not installed (the independent reference)")
    if ctx.device != "cuda" or (what == "matmul" and not ctx.swept.get("bf16")):
        return Result(name=name, status=SKIP, summary="nothing to cross-check on this device")
    progress("%s with bench's timer and triton.testing.do_bench, alternating" % what)
    if what == "matmul":
        shapes = [r["shape"] for r in ctx.swept["bf16"]]
        m, n, k = max(ctx.swept["bf16"], key=lambda r: r["tflops"])["shape"]
        fn, work, unit = bm.matmul_operands("bf16", m, n, k, "cuda"), 2.0 * m * n * k / 1e12, "TFLOP/s"
        # The sweep's peak against the best do_bench gets over the same shapes, now (clocks drift in between).
        later = max(
            _do_bench(do_bench, bm.matmul_operands("bf16", *sh, "cuda"), 2.0 * sh[0] * sh[1] * sh[2] / 1e12, ctx.quick)
            for sh in shapes
        )
    else:
        size = (256 if ctx.quick else 1024) * 2**20
        src, dst = (torch.empty(size, dtype=torch.uint8, device="cuda") for _ in range(2))
        fn, work, unit = (lambda: dst.copy_(src)), 2.0 * size / 1e9, "GB/s"
        later = _do_bench(do_bench, fn, work, ctx.quick)
    ours, theirs = [], []
    for _ in range(3):  # alternating, so power-cap and thermal drift hit both harnesses alike
        ours.append(work / timer.measure(fn, timer.iterations_for(fn, 0.1 if ctx.quick else 0.5)).median)
        theirs.append(_do_bench(do_bench, fn, work, ctx.quick))
    ours, theirs = sorted(ours)[1], sorted(theirs)[1]
    ratio, reported = ours / theirs, ctx.reported.get(what)
    data = {
        "bench": ours,
        "do_bench": theirs,
        "ratio": ratio,
        "unit": unit,
        "reported": reported,
        "do_bench_after_sweep": later,
        "reported_ratio": reported / later if reported else None,
    }
    text = (
        "same work, alternating: bench %.1f vs do_bench %.1f %s (ratio %.3f); reported %.1f vs do_bench later %.1f"
        % (ours, theirs, unit, ratio, reported or 0, later)
    )
    if agree(ratio, data["reported_ratio"]):
        return Result(name=name, status=PASS, summary=text, data=data)
    return Result(
        name=name,
        status=WARN,
        summary=text,
        expected="same work within 1 +- %.2f; reported within 1 +- %.2f of do_bench's best over the same shapes"
        % (CROSSCHECK_TOLERANCE, AGREEMENT),
        actual="%.3f; %s" % (ratio, "%.3f" % data["reported_ratio"] if data["reported_ratio"] else "n/a"),
        hint="bench's figure disagrees with do_bench's on the same GPU in the same run: rerun; if it persists, report "
        "both figures (the GPU's clocks and power are in the health line)",
        data=data,
    )


def agree(same_work, reported):
    """Return True when bench's timer matches do_bench's on the same work (CROSSCHECK_TOLERANCE) and the reported
    figure is within AGREEMENT of the best do_bench reaches over the same shapes (None: nothing reported)."""
    return abs(same_work - 1) <= CROSSCHECK_TOLERANCE and (reported is None or abs(reported - 1) <= AGREEMENT)


def _do_bench(do_bench, fn, work, quick):
    """Return work per second at do_bench's median time (triton 2.0 takes percentiles, later return_mode)."""
    warmup, rep = (25, 100) if quick else (100, 500)  # milliseconds, do_bench's own units
    try:
        ms = do_bench(fn, warmup=warmup, rep=rep, return_mode="median")
    except TypeError:
        ms = do_bench(fn, warmup=warmup, rep=rep, percentiles=(0.5,))
        ms = ms[0] if isinstance(ms, (list, tuple)) else ms
    return work / (ms / 1e3)
