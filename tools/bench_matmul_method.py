"""Compare matmul measuring methods on one GPU in one run, to check bench's figure against careful references.

Methods, each over the same (m, n, k) shapes, bf16, after one shared warm-up (a cold GPU scores too high):
- bench: bench's own sweep (checks/bench/measure.py: per-shape warm-up, CUDA events per iteration, 256 MiB flush
  before each outside the timed region, median);
- mamf: the MAMF finder's method (stas00/ml-engineering mamf-finder.py: flush and output refresh before each
  iteration, outside the events; 50 warm-up then 100 timed iterations; mean);
- do_bench: triton.testing.do_bench (median), when triton is installed;
- burst: ten back-to-back products after three warm-ups, one pair of events around them (mean), the quick
  measurement that reads higher on a GPU that has not reached its power-capped steady state.
Prints each method's best TFLOP/s and shape, and bench's best as a ratio of each. GPU only.

usage: python tools/bench_matmul_method.py [--warmup-seconds 30] [--quick]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mamf(torch, fn, flush, warmup=50, iterations=100):
    """Return the mean seconds per call, the MAMF finder's way."""
    pairs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(iterations)]
    for _ in range(warmup):
        flush.zero_()
        fn()
    for start, end in pairs:
        flush.zero_()
        start.record()
        fn()
        end.record()
    torch.cuda.synchronize()
    return sum(s.elapsed_time(e) for s, e in pairs) / len(pairs) / 1e3


def burst(torch, fn, warmup=3, iterations=10):
    """Return the mean seconds per call of back-to-back calls, timed as one span."""
    for _ in range(warmup):
        fn()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / iterations / 1e3


def main(argv=None):
    """Measure every method on every shape; print the best of each and bench's ratios; exit 2 without a GPU."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup-seconds", type=float, default=30.0, help="shared warm-up (MAMF: 30 s)")
    parser.add_argument("--quick", action="store_true", help="bench --quick's shapes")
    args = parser.parse_args(argv)
    import torch

    from checks.bench import measure
    from checks.bench.crosscheck import _do_bench
    from checks.timing import Timer

    if not torch.cuda.is_available():
        print("bench_matmul_method: needs a CUDA GPU", file=sys.stderr)
        return 2
    shapes = (measure.QUICK_SHAPES if args.quick else measure.SHAPES)["cuda"]
    timer = Timer(torch, "cuda")
    flush = timer.flush_buffer  # the 256 MiB bench zeroes before each iteration
    timer.warm_up(measure.matmul_operands("bf16", 4096, 4096, 4096, "cuda"), args.warmup_seconds)
    try:
        from triton.testing import do_bench
    except ImportError:
        do_bench = None
    best = {}
    for m, n, k in shapes:
        fn, tflop = measure.matmul_operands("bf16", m, n, k, "cuda"), 2.0 * m * n * k / 1e12
        rows, _ = measure.matmul_sweep(timer, "bf16", [(m, n, k)], 1.0, lambda text: None)
        figures = {"bench": rows[0]["tflops"] if rows else None, "mamf": tflop / mamf(torch, fn, flush)}
        if do_bench is not None:
            figures["do_bench"] = _do_bench(do_bench, fn, tflop, False)  # bench's own call: triton 2.0 too
        figures["burst"] = tflop / burst(torch, fn)
        print("%dx%dx%d: %s" % (m, n, k, ", ".join("%s %.1f" % kv for kv in figures.items() if kv[1])))
        for method, value in figures.items():
            if value and value > best.get(method, (0,))[0]:
                best[method] = (value, (m, n, k))
    print("best per method (TFLOP/s, bf16, %s):" % torch.cuda.get_device_name())
    for method, (value, shape) in best.items():
        ratio = best["bench"][0] / value if "bench" in best else float("nan")
        print("  %-8s %7.1f at %s; bench / %s = %.3f" % (method, value, "x".join(map(str, shape)), method, ratio))
    return 0


if __name__ == "__main__":
    sys.exit(main())
