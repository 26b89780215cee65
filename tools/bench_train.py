"""Measure `train --quick` and the full `train` against their budgets (30 s and 180 s), cold compile caches.

usage: python tools/bench_train.py [--python PATH] [--rounds N] [--quick-budget 30] [--full-budget 180]

Each run gets a fresh, empty TORCHINDUCTOR_CACHE_DIR, as on a new team member's machine, and the
figure includes interpreter start-up and `import torch`: the wall time a user waits.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_once(python, args):
    """Run `python -m checks train ARGS` with cold caches; return (seconds, exit code, summary line)."""
    with tempfile.TemporaryDirectory(prefix="bench-train-") as cache:
        env = dict(os.environ, PYTHONPATH=ROOT, NO_COLOR="1", TORCHINDUCTOR_CACHE_DIR=cache, TRITON_CACHE_DIR=cache)
        start = time.perf_counter()
        proc = subprocess.run(
            [python, "-m", "checks", "train", *args], cwd=cache, env=env, capture_output=True, text=True, check=False
        )
        seconds = time.perf_counter() - start
    summary = [line for line in proc.stdout.splitlines() if line.startswith("train: ")]
    return seconds, proc.returncode, summary[-1] if summary else proc.stderr.strip()[-300:]


def main(argv=None):
    """Time each mode, print median/min/max and the ratio to its budget; exit 1 over budget or on a failed run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter with torch (default: this one)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each mode (default 3)")
    parser.add_argument("--quick-budget", type=float, default=30.0, help="seconds allowed for --quick (default 30)")
    parser.add_argument("--full-budget", type=float, default=180.0, help="seconds allowed for a full run (default 180)")
    args = parser.parse_args(argv)
    version = subprocess.run(
        [args.python, "-c", "import torch, sys, os; print(torch.__version__, sys.version.split()[0], os.cpu_count())"],
        capture_output=True,
        text=True,
    ).stdout.split()
    print("torch %s, Python %s, %s CPUs; %d rounds each, cold inductor cache" % (*version, args.rounds))
    ok = True
    for label, train_args, budget in (("--quick", ["--quick"], args.quick_budget), ("full", [], args.full_budget)):
        runs = [run_once(args.python, train_args) for _ in range(args.rounds)]
        times = [r[0] for r in runs]
        median = statistics.median(times)
        failed = [r for r in runs if r[1] != 0]
        verdict = "PASS" if median <= budget and not failed else "FAIL"
        ok = ok and verdict == "PASS"
        print(
            "%s train %-7s median %.1f s  min %.1f s  max %.1f s  = %.2fx its %.0f s budget  (%s)"
            % (verdict, label, median, min(times), max(times), median / budget, budget, runs[-1][2])
        )
        for seconds, code, summary in failed:
            print("     a run exited %d after %.1f s: %s" % (code, seconds, summary))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
