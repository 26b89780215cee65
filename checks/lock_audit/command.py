"""`python -m checks lock-audit [pixi.lock]`: does the manifest hold up to pixi, and the lock to the manifest?

command (this module) -> facts (the manifest through checks/workspace/manifest.py, the lock through
checks/workspace/lockfile.py) -> verdicts: manifest_verdicts.py (what pixi 0.77 would reject, and the PyTorch pitfalls
it lets through), then
lock_verdicts.py (one line per environment x platform: torch build, CUDA, pairing, Python, channels, pins).
"""

import os

from checks import runner
from checks.lock_audit import lock_verdicts, manifest_verdicts
from checks.report import FAIL, Result, UsageError
from checks.workspace import lockfile, manifest, versions

SPEC = runner.Spec(
    "lock-audit",
    "Check the manifest against pixi 0.77's rules and PyTorch pitfalls, then every environment x platform against "
    "pixi.lock (formats v4 to v7): torch version, build flavour and CUDA version, torchvision/torchaudio pairing, "
    "Python, channels, the manifest's pins, and that nothing is missing or stale. Exit 0: all kept; 1: something "
    "broken (a missing pixi.lock included); 2: usage error, or an unreadable lock or manifest.",
    options=("json",),
)


def add_arguments(parser):
    """lock-audit's own options: which lock and which manifest."""
    parser.add_argument("lock", nargs="?", default=None, help="the lock file (default: pixi.lock beside the manifest)")
    parser.add_argument("--manifest", metavar="PATH", help="pixi.toml or pyproject.toml (default: found from here up)")


def prepare(args, torch):
    """Read the manifest and the lock (if there is one); plan the manifest's verdicts, then the lock's."""
    manifest_path = args.manifest or manifest.find_manifest()
    if manifest_path is None:
        raise UsageError("no pixi.toml found here or above; pass --manifest PATH")
    ws = manifest.load(manifest_path)
    lock_path = args.lock or os.path.join(os.path.dirname(os.path.abspath(manifest_path)), "pixi.lock")
    lock = lockfile.load(lock_path) if os.path.exists(lock_path) or args.lock else None
    header = {
        "check": "lock-audit",
        "manifest": "%s (%s)" % (os.path.relpath(manifest_path), ws.kind),
        "lock": "%s (format v%s)" % (os.path.relpath(lock_path), lock.version) if lock else "none",
        "requires-pixi": ws.table.get("requires-pixi", "not set"),
        "environments": ", ".join(ws.environments) or "none",
        "version specs": versions.backend(),
    }

    def results():
        yield from manifest_verdicts.audit(ws)
        if lock is not None:
            yield from lock_verdicts.audit(ws, lock)
        else:
            yield Result(
                name="lock",
                status=FAIL,
                summary="no %s beside the manifest" % os.path.relpath(lock_path),
                expected="a committed pixi.lock",
                actual="none",
                hint="run `pixi lock` and commit pixi.lock (the lock workflow does it for you)",
            )

    return runner.Plan(header, results=results())


def main(argv):
    """Run lock-audit; return the exit code."""
    return runner.run(SPEC, argv, prepare, add_arguments)
