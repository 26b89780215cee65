"""Measure `verify --quick` against the seeds' own first program (import torch, print its version, one SGD step of
the 10-5-2 network): the budget is 1.05x, as a ratio of medians in one run; `import torch` alone is shown too.

usage: python tools/bench_verify.py [--rounds N] [--python PATH] [--budget 1.05]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRST_PROGRAM = """
import torch
print(torch.__version__)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(10, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
loss = torch.nn.functional.cross_entropy(model(torch.randn(8, 10)), torch.randint(0, 2, (8,)))
opt.zero_grad()
loss.backward()
opt.step()
print(loss.item())
"""


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
    parser.add_argument("--budget", type=float, default=1.05, help="allowed ratio of medians (default 1.05, issue 18)")
    args = parser.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=ROOT, NO_COLOR="1")
    commands = {
        "import torch": [args.python, "-c", "import torch"],
        "first program": [args.python, "-c", FIRST_PROGRAM],
        "verify --quick": [args.python, "-m", "checks", "verify", "--quick"],
    }
    for command in commands.values():  # warm-up: bytecode caches and the page cache
        timed(command, env)
    samples = {name: [] for name in commands}
    for _ in range(args.rounds):  # interleaved, so drift in machine load hits all alike
        for name, command in commands.items():
            samples[name].append(timed(command, env))
    version = subprocess.run(
        [args.python, "-c", "import torch, sys; print(torch.__version__, sys.version.split()[0])"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print("torch %s; %d rounds each, interleaved" % (version, args.rounds))
    for name, values in samples.items():
        median = statistics.median(values)
        print("%-15s median %.3f s  min %.3f s  max %.3f s" % (name, median, min(values), max(values)))
    ratio = statistics.median(samples["verify --quick"]) / statistics.median(samples["first program"])
    verdict = "PASS" if ratio <= args.budget else "FAIL"
    print("%s verify --quick / first program %.2fx (budget %.2fx)" % (verdict, ratio, args.budget))
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
