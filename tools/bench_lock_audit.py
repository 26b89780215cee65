#!/usr/bin/env python3
"""How long `python -m checks lock-audit` takes on a 1 MB pixi.lock, against reading that file's YAML alone.

The lock is this repository's pixi.toml locked as pixi 0.77 writes it (tests/lockdata.py, real `pytorch` channel
records), padded with made-up conda records, shaped as real ones, up to --size bytes. Each round runs lock-audit in a
fresh interpreter (start, imports, read, audit, report) and, in the same run, times PyYAML's C loader on the file, so
the ratio holds on any machine. Target: under 1 s wall on a 2-core machine.

    python tools/bench_lock_audit.py [--size 1000000] [--rounds 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import yaml  # noqa: E402
from lockdata import LockBuilder  # noqa: E402

from checks.workspace import manifest  # noqa: E402


def padded_lock(size):
    """Return the YAML text of a lock of this repository's manifest, padded to about `size` bytes."""
    ws = manifest.load(os.path.join(ROOT, "pixi.toml"))
    builder = LockBuilder(os.path.join(ROOT, "tests", "data", "pytorch-channel-linux-64.json"))
    doc = builder.document(ws)
    envs = list(doc["environments"].values())
    depends = ["libgcc >=14", "libstdcxx >=14", "python >=3.10,<3.11.0a0", "python_abi 3.10.* *_cp310"]
    n = 0
    while len(yaml.safe_dump(doc)) < size:
        for _ in range(50):
            entry = builder.made_up("filler-%04d" % n, "1.%d.0" % n, "py310h0123456_0", "linux-64", depends=depends)
            entry.update({"sha256": "%064x" % n, "md5": "%032x" % n, "license": "BSD-3-Clause", "size": 1000 + n})
            doc["packages"].append(entry)
            for body in envs:
                for refs in body["packages"].values():
                    refs.append({"conda": entry["conda"]})
            n += 1
    return yaml.safe_dump(doc, sort_keys=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="lock size in bytes (default 1000000)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "pixi.lock")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(padded_lock(args.size))
        command = [sys.executable, "-m", "checks", "lock-audit", path, "--manifest", os.path.join(ROOT, "pixi.toml")]
        audit, parse = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            audit.append(time.perf_counter() - start)
            if proc.returncode != 0:
                sys.exit("lock-audit exited %d:\n%s%s" % (proc.returncode, proc.stdout[-2000:], proc.stderr))
            start = time.perf_counter()
            with open(path, encoding="utf-8") as handle:
                yaml.load(handle.read(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            parse.append(time.perf_counter() - start)
        median, base = statistics.median(audit), statistics.median(parse)
        print("lock: %d bytes, %d rounds, Python %s" % (os.path.getsize(path), args.rounds, sys.version.split()[0]))
        print(
            "lock-audit (fresh interpreter): median %.2f s (min %.2f, max %.2f); target < 1 s"
            % (median, min(audit), max(audit))
        )
        print("YAML parse alone:               median %.2f s; lock-audit / parse = %.1fx" % (base, median / base))
    return 0 if median < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
