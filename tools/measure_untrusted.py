"""Measure how `lock-audit` copes with large and hostile workspaces (the figures docs/workspaces.md's "Reading another
team's workspace" quotes): 10,000 environments, a real-size 1 MB lock, a YAML alias bomb, a lock over the size limit.

    python tools/measure_untrusted.py        # prints one line per case: seconds, peak memory (MiB), exit code
    python tools/measure_untrusted.py MANIFEST LOCK   # also a real workspace's files (e.g. a checkout of pixi's
                                                     # examples/turtlesim at v0.77.0)

Each case runs `python -m checks lock-audit` in a child process (as a user would), in a temporary directory, and
reports wall time and the child's peak resident memory (`ru_maxrss`, Linux/macOS only).
"""

import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAD = (
    '[workspace]\nname = "m"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npython = "3.11.*"\n'
)
CF = "https://conda.anaconda.org/conda-forge/linux-64/"


# The child reports its own peak resident memory (ru_maxrss: KiB on Linux, bytes on macOS) as its last stderr line.
CHILD = (
    "import resource, sys\n"
    "from checks.__main__ import main\n"
    "code = main(sys.argv[1:])\n"
    "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "sys.stderr.write('\\npeak %d\\n' % (peak if sys.platform == 'darwin' else peak * 1024))\n"
    "sys.exit(code)\n"
)


def run(directory, *args):
    """Run lock-audit in a child; return (seconds, peak MiB of the child, exit code, its last error line)."""
    start = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=ROOT, NO_COLOR="1")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, "lock-audit", *args],
        cwd=directory,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=600,
    )
    seconds = time.perf_counter() - start
    lines = [line for line in proc.stderr.decode().splitlines() if line.strip()]
    peak = int(lines.pop().split()[1]) / 2**20 if lines and lines[-1].startswith("peak ") else float("nan")
    return seconds, peak, proc.returncode, lines[-1] if lines else ""


def manifest_for(environments=4):
    """The manifest the generated locks belong to: `default` plus env1..envN-1, each with a feature."""
    text = HEAD + "".join('[feature.f%d]\n[feature.f%d.dependencies]\npython = "*"\n' % (i, i) for i in range(1, 4))
    return text + "[environments]\n" + "".join('env%d = ["f%d"]\n' % (i, i) for i in range(1, environments))


def lock_lines(environments=4, packages=1300):
    """Yield the lines of a lock shaped as pixi writes one (v6): a few environments sharing `packages` conda records;
    1,300 make about 1 MB. Lines are yielded, not joined, so that the measuring process stays small (a child's peak
    memory, ru_maxrss, starts at its parent's)."""
    urls = ["%spkg%04d-1.%d.0-h0123456_%d.conda" % (CF, i, i % 9, i % 3) for i in range(packages)]
    yield "version: 6\nenvironments:\n"
    for env in ["default"] + ["env%d" % i for i in range(1, environments)]:
        yield "  %s:\n    channels:\n    - url: https://conda.anaconda.org/conda-forge/\n    packages:\n" % env
        yield "      linux-64:\n"
        for url in urls:
            yield "      - conda: %s\n" % url
    yield "packages:\n"
    for url in urls:
        yield "- conda: %s\n  sha256: %s\n  md5: %s\n" % (url, "0" * 64, "0" * 32)
        yield "  depends:\n  - python >=3.11,<3.12.0a0\n  - libgcc >=13\n  license: BSD-3-Clause\n"
        yield "  size: 123456\n  timestamp: 1700000000000\n"


def real_size_lock(environments=4, packages=1300):
    """Return (manifest, lock text) of about 1 MB (see lock_lines)."""
    return manifest_for(environments), "".join(lock_lines(environments, packages))


def alias_bomb(levels=9):
    """A 9-level YAML alias bomb: ~1 KB of text naming 9^9 (387 million) leaves."""
    text = "version: 6\na: &a [x, x, x, x, x, x, x, x, x]\n"
    for i in range(levels - 1):
        text += "%s: &%s [%s]\n" % (chr(98 + i), chr(98 + i), ", ".join(["*" + chr(97 + i)] * 9))
    return text


def main(argv):
    cases = []
    if len(argv) == 2:
        manifest, lock = (os.path.abspath(p) for p in argv)
        name = "given lock %s (%.1f MB)" % (os.path.basename(os.path.dirname(lock)), os.path.getsize(lock) / 1e6)
        cases.append((name, run(os.path.dirname(lock), lock, "--manifest", manifest)))
    with tempfile.TemporaryDirectory() as tmp:
        manifest = os.path.join(tmp, "pixi.toml")
        with open(manifest, "w") as handle:
            handle.write(HEAD + '[feature.f.dependencies]\nnumpy = "*"\n[environments]\n')
            handle.write("".join('e%05d = ["f"]\n' % i for i in range(10000)))
        cases.append(("manifest with 10,000 environments, no lock", run(tmp, "--manifest", manifest)))
        with open(manifest, "w") as handle:
            handle.write(manifest_for())
        lock_path = os.path.join(tmp, "pixi.lock")
        with open(lock_path, "w") as handle:
            handle.writelines(lock_lines())
        size = os.path.getsize(lock_path) / 1e6
        cases.append(("real-size lock (%.1f MB)" % size, run(tmp, lock_path, "--manifest", manifest)))
        with open(lock_path, "w") as handle:
            handle.writelines(lock_lines(packages=23500))
        size = os.path.getsize(lock_path) / 2**20
        cases.append(("lock of %.1f MiB (just under the limit)" % size, run(tmp, lock_path, "--manifest", manifest)))
        with open(lock_path, "w") as handle:
            handle.write(alias_bomb())
        cases.append(
            ("YAML alias bomb (%d bytes)" % os.path.getsize(lock_path), run(tmp, lock_path, "--manifest", manifest))
        )
        with open(lock_path, "w") as handle:
            handle.writelines(lock_lines())
            chunk = "#" * (1 << 20) + "\n"
            for _ in range(200):
                handle.write(chunk)
        size = os.path.getsize(lock_path) / 1e6
        cases.append(("lock of %.0f MB (over the limit)" % size, run(tmp, lock_path, "--manifest", manifest)))
        cases.append(("--manifest /dev/zero", run(tmp, "--manifest", "/dev/zero")))
        fifo = os.path.join(tmp, "fifo")
        os.mkfifo(fifo)
        cases.append(("--manifest FIFO", run(tmp, "--manifest", fifo)))
    print("%-44s %8s %9s %5s" % ("case", "seconds", "peak MiB", "exit"))
    for name, (seconds, peak, code, err) in cases:
        print("%-44s %8.2f %9.0f %5d" % (name, seconds, peak, code))
        if code == 2:
            print("    " + err[:150])
    print("machine: %s, %d CPUs, Python %s" % (os.uname().machine, os.cpu_count() or 0, sys.version.split()[0]))


if __name__ == "__main__":
    main(sys.argv[1:])
