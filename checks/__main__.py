"""`python -m checks COMMAND`: the command table, and the one error boundary every command runs inside.

Nothing heavy is imported until a command runs: the table names each command's module and its summary (whether it
needs torch is its runner.Spec's). The usage text, the pixi task descriptions and the README are held against this
table by the tests.
"""

import importlib
import os
import signal
import sys
import traceback

from checks import output
from checks.report import EXIT_CLOSED_PIPE, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, UsageError


class Command:
    """One entry of the command table."""

    def __init__(self, module, summary):
        self.module, self.summary = module, summary


COMMANDS = {
    "verify": Command(
        "checks.verify.command",
        "Prove this environment works: versions, build, driver, GPU, cuDNN, AMP, torch.compile, a training step",
    ),
    "train": Command(
        "checks.train.command",
        "Train the reference models on every device and precision here; check they learn, repeat, resume and agree",
    ),
    "bench": Command(
        "checks.bench.command",
        "Benchmark this GPU (or CPU): matmul per dtype, bandwidth, training throughput and MFU against its datasheet",
    ),
    "compare": Command("checks.compare", "Compare two reports (A.json B.json) figure by figure, B/A for each"),
    "dist": Command(
        "checks.dist.command",
        "Check distributed training: every rank joins, all-reduce is exact, barriers pass; all-reduce bus bandwidth",
    ),
    "health": Command(
        "checks.health.command",
        "Check this GPU node's health: ECC, row remapping, Xid, PCIe, NVLink, throttling, memory and matmul tests; "
        "name the GPU to pull",
    ),
    "lock-audit": Command(
        "checks.lock_audit.command",
        "Check pixi.toml against pixi's rules, then that pixi.lock holds the builds it promises everywhere",
    ),
}

EXIT_CODES = """exit codes: 0 all checks passed, 1 a check failed, 2 usage or configuration error,
130 interrupted (Ctrl-C), 141 standard output closed"""


def usage():
    """Return the usage text, built from the command table."""
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: python -m checks COMMAND [options]", "", "commands:"]
    lines += ["  %s  %s" % (name.ljust(width), c.summary) for name, c in COMMANDS.items()]
    lines += ["", "`python -m checks COMMAND --help` shows a command's options.", EXIT_CODES]
    return "\n".join(lines)


def _ignore_sigint():
    """In forked helpers (torch 2.0's inductor compile pool, DataLoader workers): Ctrl-C is for the parent, which
    ends them; without this each prints a KeyboardInterrupt traceback after the report."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_FORK_HOOK = []


def _close_stdout():
    """Point stdout at /dev/null so that the interpreter's final flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv=None):
    """Run the command named by the first argument inside the error boundary; return its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else EXIT_USAGE
    if argv[0] == "--version":
        from checks import __version__

        print("checks %s" % __version__)
        return 0
    name = argv[0]
    if name not in COMMANDS:
        print("python -m checks: unknown command %r; valid commands: %s" % (name, ", ".join(COMMANDS)), file=sys.stderr)
        return EXIT_USAGE
    if hasattr(os, "register_at_fork") and not _FORK_HOOK:
        os.register_at_fork(after_in_child=_ignore_sigint)
        _FORK_HOOK.append(True)
    try:
        return importlib.import_module(COMMANDS[name].module).main(argv[1:])
    except UsageError as exc:
        output.error(name, exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\npython -m checks %s: interrupted (Ctrl-C)" % name, file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _close_stdout()
        return EXIT_CLOSED_PIPE
    except Exception as exc:  # the last line of defence: one line, no traceback (CHECKS_DEBUG=1 shows it)
        if os.environ.get("CHECKS_DEBUG"):
            traceback.print_exc()
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        print(
            "python -m checks %s: internal error: %s: %s (at %s:%d); this is a bug in checks: rerun with "
            "CHECKS_DEBUG=1 for the traceback and report it"
            % (name, type(exc).__name__, exc, os.path.basename(frame.filename), frame.lineno),
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
