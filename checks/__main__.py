"""`python -m checks COMMAND`, or `pytorch-env COMMAND` where the package is installed (pyproject.toml's console
script, entry() here): the command table, and the one error boundary every command runs inside.

Nothing heavy is imported until a command runs: the table names each command's module and its summary (whether it
needs torch is its runner.Spec's). The usage text, the pixi task descriptions and the README are held against this
table by the tests.
"""

import sys

if __name__ == "__main__" and sys.argv[1:2] == ["verify"]:
    if "--worker" in sys.argv:
        # verify's worker: `import torch` before the rest of checks, the one long step of its critical path (see
        # probe.import_first; checks/verify/command.py work() takes the answer).
        from checks.machine import probe as _probe

        _probe.import_first(sys.argv)
    else:
        # verify itself: its worker starts now, not after the imports below and the option parsing (the Supervisor
        # adopts it; main() ends it when nothing did: a usage error).
        from checks.machine import children as _children

        _children.start_early(sys.argv[1:])

import datetime  # noqa: E402 (after the worker's early `import torch`)
import importlib  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import traceback  # noqa: E402

from checks import output  # noqa: E402
from checks.report import EXIT_CLOSED_PIPE, EXIT_INTERNAL, EXIT_USAGE, Interrupted, UsageError, interruption


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
        "checks.distributed.command",
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
3 internal error (a bug in checks), 128+N stopped by signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP),
141 standard output closed"""


def usage():
    """Return the usage text, built from the command table."""
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: python -m checks COMMAND [options]", "   or: pytorch-env COMMAND [options]", "", "commands:"]
    lines += ["  %s  %s" % (name.ljust(width), c.summary) for name, c in COMMANDS.items()]
    lines += ["", "`python -m checks COMMAND --help` shows a command's options.", EXIT_CODES]
    return "\n".join(lines)


# The signals that stop a run the way Ctrl-C does: the results so far, the summary, the JSON marked interrupted with
# the signal's name, exit 128 + N. `timeout`, `kill`, schedulers (Slurm, Kubernetes) send SIGTERM; a closed
# terminal or SSH session SIGHUP.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _stop(signum, frame):
    raise Interrupted(signum)


def install_signal_handlers():
    """Make SIGINT, SIGTERM and SIGHUP raise report.Interrupted in the main thread (each ends a run like Ctrl-C).

    A signal that is ignored when checks starts stays ignored: `nohup` ignores SIGHUP, and a shell without job
    control starts a background job (`cmd &` in a script) with SIGINT ignored so that a Ctrl-C meant for the script's
    foreground leaves it running; Python keeps such a SIG_IGN, and so do the checks (POSIX, "Signal Actions").
    Such a job still stops on SIGTERM. Returns the signals handled."""
    handled = []
    for signum in STOP_SIGNALS:
        try:
            if signal.getsignal(signum) == signal.SIG_IGN:
                continue
            signal.signal(signum, _stop)
        except (OSError, ValueError):  # not the main thread, or a signal this platform cannot catch
            continue
        handled.append(signum)
    return handled


def _in_forked_child():
    """In forked helpers (torch 2.0's inductor compile pool, DataLoader workers): Ctrl-C is for the parent, which
    ends them; without this each prints a KeyboardInterrupt traceback after the report. SIGTERM and SIGHUP get
    their default action back (end at once, no traceback) instead of the parent's handler."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in STOP_SIGNALS:
        if signum != signal.SIGINT and signal.getsignal(signum) == _stop:
            signal.signal(signum, signal.SIG_DFL)


_FORK_HOOK = []


class OutputError(OSError):
    """Standard output cannot be written (ENOSPC, EIO, ...; a closed pipe stays BrokenPipeError): exit 2."""


class _Stdout(io.RawIOBase):
    """The file descriptor of standard output, raising OutputError for a write error other than a closed pipe, so
    that the boundary tells a failing standard output from an OSError inside a check."""

    def __init__(self, fd):
        super().__init__()
        self.fd = fd

    def writable(self):
        return True

    def fileno(self):
        return self.fd

    def isatty(self):
        return os.isatty(self.fd)

    def write(self, data):
        try:
            return os.write(self.fd, data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(exc.errno, exc.strerror) from None

    def close(self):  # the descriptor is the process's: never closed here
        self.flush()
        super().close()


def wrap_stdout():
    """Replace sys.stdout by one that escapes what its encoding cannot hold (`\\xe9`, as stderr does: an ASCII
    terminal and a non-ASCII environment name still get every line) and reports write errors as OutputError."""
    old = sys.stdout
    try:
        fd = old.fileno()
    except (AttributeError, ValueError, OSError):
        return
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(_Stdout(fd)),
        encoding=old.encoding,
        errors="backslashreplace",
        line_buffering=os.isatty(fd),
        write_through=bool(getattr(old, "write_through", False)),  # python -u, PYTHONUNBUFFERED
    )


def _close_stdout():
    """Point stdout at /dev/null so that the interpreter's final flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def shadowed_stdlib(exc):
    """Return (module, file) when the exception's traceback runs through a file that shadows a standard-library
    module (a `dis.py` in the working directory or on PYTHONPATH): the failure is that file's, not a bug in checks."""
    try:
        from checks.machine import shadows as stdlib

        shadows = stdlib.stdlib_shadows()
    except Exception:  # the facts themselves may be what the shadowing broke
        return None
    files = {os.path.realpath(f.filename) for f in traceback.extract_tb(exc.__traceback__)}
    for module, path in shadows:
        if os.path.realpath(path) in files or os.path.realpath(os.path.join(path, "__init__.py")) in files:
            return module, path
    return None


def thread_refused(name):
    """The OS refused this process a new thread (CPython's `RuntimeError: can't start new thread`): a fault of the
    machine, never of checks. One line naming why where a fact decides it (a seccomp filter refusing clone3, the
    cgroup's pids.max reached; checks/machine/system.py), else the limits to look at; exit 2."""
    from checks.machine import system

    refusal = system.clone3_refusal(system.glibc())
    pids = system.pids_limit()
    if refusal is not None:
        why, fix = refusal.what, refusal.fix
    elif pids is not None and pids.headroom() <= system.PIDS_SPARE:
        why = "the cgroup's pids.max (%d, %s in use) is reached: threads count as tasks" % (pids.limit, pids.current)
        fix = "raise the container's pids limit (`docker run --pids-limit`, Kubernetes podPidsLimit)"
    else:
        why = "the OS refused a new thread (no seccomp filter on clone3, no cgroup pids limit reached)"
        fix = "look at `ulimit -u`, the container's limits and free memory"
    print("python -m checks %s: error: cannot start a thread: %s; fix: %s" % (name, why, fix), file=sys.stderr)
    return EXIT_USAGE


def internal_error(name, exc):
    """Report a bug in checks: the traceback to the log file, one line on stderr naming it; return 3. A failure
    that runs through a file shadowing a standard-library module is not a bug in checks: one line naming it, exit 2."""
    shadow = shadowed_stdlib(exc)
    if shadow is not None:
        module, path = shadow
        print(
            "python -m checks %s: error: %s shadows Python's standard module %r, so what imports it (%s: %s) breaks; "
            "fix: rename %s, or run from another directory / drop its folder from PYTHONPATH"
            % (name, path, module, type(exc).__name__, exc, path),
            file=sys.stderr,
        )
        return EXIT_USAGE
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if os.environ.get("CHECKS_DEBUG"):
        sys.stderr.write(text)
    header = "python -m checks %s (checks %s, Python %s)\n%s\n" % (
        " ".join(sys.argv[1:]) or name,
        _version(),
        sys.version.split()[0],
        datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    )
    path = output.write_log(header + text)
    frames = traceback.extract_tb(exc.__traceback__)
    where = " (at %s:%d)" % (os.path.basename(frames[-1].filename), frames[-1].lineno) if frames else ""
    print(
        "python -m checks %s: internal error: %s: %s%s; this is a bug in checks, not a fault of this machine: %s"
        % (
            name,
            type(exc).__name__,
            exc,
            where,
            "the traceback is in %s; please report it with that file" % path
            if path
            else "rerun with CHECKS_DEBUG=1 for the traceback and report it",
        ),
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def _version():
    from checks import __version__

    return __version__


def main(argv=None):
    """Run the command named by the first argument inside the error boundary; return its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    name = argv[0] if argv else "checks"
    try:
        return _main(argv, name)
    finally:  # verify's worker begun before the options were parsed, when no Supervisor took it
        from checks.machine import children

        children.drop_early()


def _main(argv, name):
    try:
        return _run(argv)
    except SystemExit as exc:  # argparse: --help (0) or bad usage (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except UsageError as exc:
        output.error(name, exc)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:  # before or after a run's results stream (Ctrl-C, SIGTERM, SIGHUP)
        signal_name, code = interruption(exc)
        print("\npython -m checks %s: interrupted (%s)" % (name, signal_name), file=sys.stderr)
        return code
    except BrokenPipeError:
        _close_stdout()
        return EXIT_CLOSED_PIPE
    except OutputError as exc:
        _close_stdout()
        output.error(name, "cannot write to standard output: %s" % (exc.strerror or exc))
        return EXIT_USAGE
    except Exception as exc:  # the last line of defence: one line, the traceback in a log file
        if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
            return thread_refused(name)
        return internal_error(name, exc)


def _run(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else EXIT_USAGE
    if argv[0] == "--version":
        print("checks %s" % _version())
        return 0
    name = argv[0]
    if name not in COMMANDS:
        print("python -m checks: unknown command %r; valid commands: %s" % (name, ", ".join(COMMANDS)), file=sys.stderr)
        return EXIT_USAGE
    if hasattr(os, "register_at_fork") and not _FORK_HOOK:
        os.register_at_fork(after_in_child=_in_forked_child)
        _FORK_HOOK.append(True)
    return importlib.import_module(COMMANDS[name].module).main(argv[1:])


def flush_stdout(code, name=""):
    """Flush standard output before the interpreter does (its failure there would print a traceback); return the
    exit code: `code`, or 141 for a closed pipe, 2 for another write error."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _close_stdout()
        return EXIT_CLOSED_PIPE
    except OSError as exc:
        _close_stdout()
        where = "python -m checks" + (" " + name if name in COMMANDS else "")
        print("%s: error: cannot write to standard output: %s" % (where, exc.strerror or exc), file=sys.stderr)
        return EXIT_USAGE
    return code


def entry():
    """`python -m checks` and the `pytorch-env` console script: the process-wide settings (signals, standard
    output), then main(); returns the exit code (the console script's wrapper passes it to sys.exit)."""
    install_signal_handlers()
    wrap_stdout()
    argv = sys.argv[1:]
    code = main(argv)
    try:
        return flush_stdout(code, argv[0] if argv else "")
    except KeyboardInterrupt as exc:
        return interruption(exc)[1]


if __name__ == "__main__":
    sys.exit(entry())
