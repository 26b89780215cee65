"""Measure `verify --quick` against a bare `import torch`: the budget is 1.5x, as a ratio in one run.

usage: python tools/bench_verify.py [--rounds N] [--python PATH] [--budget 1.5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(argv, env):
    """Run a command once; return its wall time in seconds (its output is discarded)."""
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main(argv=None):
    """Alternate the two commands, then print medians, spread and the ratio; exit 1 over budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="measured rounds of each command (default 15)")
    parser.add_argument("--python", default=sys.executable, help="interpreter with torch (default: this one)")
    parser.add_argument("--budget", type=float, default=1.5, help="allowed ratio of medians (default 1.5)")
    args = parser.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=ROOT, NO_COLOR="1")
    bare = [args.python, "-c", "import torch"]
    verify = [args.python, "-m", "checks", "verify", "--quick"]
    for command in (bare, verify):  # warm-up: bytecode caches and the page cache
        timed(command, env)
    samples = {"import torch": [], "verify --quick": []}
    for _ in range(args.rounds):  # interleaved, so drift in machine load hits both alike
        samples["import torch"].append(timed(bare, env))
        samples["verify --quick"].append(timed(verify, env))
    version = subprocess.run(
        [args.python, "-c", "import torch, sys; print(torch.__version__, sys.version.split()[0])"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print("torch %s; %d rounds each, interleaved" % (version, args.rounds))
    for name, values in samples.items():
        median = statistics.median(values)
        print("%-15s median %.3f s  min %.3f s  max %.3f s" % (name, median, min(values), max(values)))
    ratio = statistics.median(samples["verify --quick"]) / statistics.median(samples["import torch"])
    verdict = "PASS" if ratio <= args.budget else "FAIL"
    print("%s ratio %.2fx (budget %.2fx)" % (verdict, ratio, args.budget))
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
