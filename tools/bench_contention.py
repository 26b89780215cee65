"""Measure what other load does to bench's CPU figures, and whether bench marks it: `bench --quick --device cpu`
alternately on an idle machine and beside busy-loop processes (one per half of the CPUs, at least one) that are
not bench's children. Prints the median of each figure both ways, their ratio, and how many runs of each kind
bench marked as measured under contention (it should mark every loaded run and no idle one).

usage: python tools/bench_contention.py [--rounds N] [--python PATH]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIGURES = ("matmul-fp32", "matmul-bf16", "copy-d2d")


def bench(python, env, path):
    """Run bench once; return {figure: value} and whether its contention line warned."""
    argv = [python, "-m", "checks", "bench", "--quick", "--device", "cpu", "--json", path]
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    with open(path) as f:
        results = {r["name"]: r for r in json.load(f)["results"]}
    values = {name: results[name]["data"]["value"] for name in FIGURES if results.get(name, {}).get("data")}
    return values, results["contention"]["status"] == "WARN"


def main(argv=None):
    """Alternate idle and loaded runs; print medians, ratios and the marks; exit 1 if a mark is wrong."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each kind (default 5)")
    parser.add_argument("--python", default=sys.executable, help="interpreter with torch (default: this one)")
    args = parser.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=ROOT, NO_COLOR="1")
    busy = max(1, (os.cpu_count() or 2) // 2)
    runs = {"idle": [], "loaded": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.json")
        bench(args.python, env, path)  # warm-up: bytecode and page caches
        for _ in range(args.rounds):
            runs["idle"].append(bench(args.python, env, path))
            loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
            try:
                runs["loaded"].append(bench(args.python, env, path))
            finally:
                for p in loops:
                    p.kill()
                    p.wait()
    print(
        "%d CPUs, %d busy-loop process(es) while loaded; %d runs each, interleaved"
        % (os.cpu_count(), busy, args.rounds)
    )
    for name in FIGURES:
        idle = statistics.median(v[name] for v, _ in runs["idle"])
        loaded = statistics.median(v[name] for v, _ in runs["loaded"])
        print("%-12s idle %.4g  loaded %.4g  loaded/idle %.2f" % (name, idle, loaded, loaded / idle))
    marked = {kind: sum(m for _, m in r) for kind, r in runs.items()}
    print(
        "marked under contention: idle %d of %d, loaded %d of %d"
        % (marked["idle"], args.rounds, marked["loaded"], args.rounds)
    )
    return 0 if marked == {"idle": 0, "loaded": args.rounds} else 1


if __name__ == "__main__":
    sys.exit(main())
