"""The result record every check produces, the report that collects them, and the exit codes of every command.

Exit codes (the same in every command, see `python -m checks --help`):
  0  every check passed (WARN and SKIP do not fail)
  1  a check failed
  2  usage or configuration error: bad options, unknown environment, unreadable manifest or lock, no usable torch,
     a --json destination that is not a regular file or a new path, standard output that cannot be written
  3  internal error: a bug in checks, not a fault of the machine; one line names the log file with the traceback
     (a check that hits one is a SKIP `not judged: internal error`, with `data.internal_error`; a FAIL elsewhere
     still makes the run 1)
  128+N  stopped by signal N: 130 SIGINT (Ctrl-C), 143 SIGTERM, 129 SIGHUP; the results so far are printed and
     written, marked `"interrupted": true` and `"signal": "SIGTERM"`
  141  standard output was closed (`python -m checks verify | head -1`): the run stops quietly
"""

import datetime
import os
import re
import signal
import sys
import time
import traceback

# Bump when a field is added, removed or changes meaning; checks/report.schema.json follows.
SCHEMA_VERSION = 3  # 2 added `interrupted`, 3 `signal`

PASS, FAIL, WARN, SKIP = "PASS", "FAIL", "WARN", "SKIP"
STATUSES = (PASS, FAIL, WARN, SKIP)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_CLOSED_PIPE = 0, 1, 2, 3, 130, 141
EXIT_SIGNAL_BASE = 128  # a run stopped by signal N exits 128 + N, as a shell reports a process killed by it


class UsageError(Exception):
    """Bad arguments or configuration: reported in one line, exit code 2."""


class Interrupted(KeyboardInterrupt):
    """A stopping signal (SIGINT, SIGTERM, SIGHUP) arrived: raised in the main thread by the handler that
    checks/__main__.py installs, so every `except KeyboardInterrupt` that ends a run ends it for each of them.
    `signal_name` is the signal's name ("SIGTERM"); `exit_code` is 128 + its number."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = int(signum)
        self.signal_name = signal_name(self.signum)
        self.exit_code = EXIT_SIGNAL_BASE + self.signum


def signal_name(signum):
    """Return a signal's name ("SIGTERM"), or "signal N" for a number without one."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return "signal %d" % signum


def interruption(exc):
    """Return (signal name, exit code) of a KeyboardInterrupt: an Interrupted's, else SIGINT's (Python's own
    handler raised it)."""
    if isinstance(exc, Interrupted):
        return exc.signal_name, exc.exit_code
    return "SIGINT", EXIT_INTERRUPTED


class Result:
    """One verdict: a name, a status, expected vs actual, and a fix for a failure."""

    __slots__ = ("name", "status", "summary", "expected", "actual", "hint", "seconds", "data")

    def __init__(self, *, name, status, summary="", expected=None, actual=None, hint=None, data=None):
        if status not in STATUSES:
            raise ValueError("status must be one of %s, not %r" % (STATUSES, status))
        self.name = name
        self.status = status
        self.summary = summary
        self.expected = expected
        self.actual = actual
        self.hint = hint
        self.seconds = None
        self.data = data or {}

    def to_dict(self):
        """Return the JSON form of this result."""
        return {slot: getattr(self, slot) for slot in self.__slots__}


def run_check(name, func, *args):
    """Run one check function; an exception becomes a FAIL naming it, never a crash."""
    start = time.perf_counter()
    try:
        result = func(*args)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a check must never stop the others
        frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
        frame = frames[-1] if frames else None
        where = " (at %s:%s)" % (os.path.basename(frame.filename), frame.lineno) if frame else ""
        if is_bug_in_checks(exc):
            result = internal_error_result(name, exc, where)
        else:  # raised inside torch or a library: a failure of the environment, judged against the facts (verify)
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-12))[-20000:]
            result = Result(
                name=name,
                status=FAIL,
                summary="raised %s: %s%s" % (type(exc).__name__, first_line(exc), where),
                actual="%s: %s" % (type(exc).__name__, first_line(exc)),
                hint="not recognised; rerun with --json and report the file",
                data={"exception": text},
            )
    result.seconds = round(time.perf_counter() - start, 4)
    return result


# Exceptions that, raised by checks' own code, are a bug in checks and say nothing about the machine.
PROGRAMMING_ERRORS = (AttributeError, AssertionError, IndexError, KeyError, NameError, TypeError, ZeroDivisionError)
CHECKS_DIR = os.path.dirname(os.path.abspath(__file__))
TORCH_LACKS = re.compile(r"module '(torch|torchvision|torchaudio)(\.[\w.]+)?' has no attribute '\w+'")


def is_bug_in_checks(exc):
    """Return True when a check's exception is a bug in checks, not a fault of the machine: a programming error
    (PROGRAMMING_ERRORS) raised in checks' own code (the innermost frame is in the checks package). An error raised
    inside torch, a driver binding or any other library, or an OSError, stays the check's FAIL, and so does an
    AttributeError naming a module of torch (torchvision, torchaudio): that release lacks an API checks uses."""
    if not isinstance(exc, PROGRAMMING_ERRORS) or exc.__traceback__ is None:
        return False
    if isinstance(exc, AttributeError) and TORCH_LACKS.match(str(exc)):
        return False  # the installed torch lacks an API checks uses: a fact of this torch, judged like any failure
    innermost = traceback.extract_tb(exc.__traceback__)[-1].filename
    return os.path.abspath(innermost).startswith(CHECKS_DIR + os.sep)


def internal_error_result(name, exc, where=""):
    """The line of a check that hit a bug in checks: a SKIP (not judged: never a FAIL of the machine, so health's
    node line does not pull a GPU for it) whose data holds `internal_error` (type, message, log file); the run
    exits 3 (Report.exit_code). The traceback goes to the internal-error log (output.write_log)."""
    from checks import output

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log = output.write_log("check %s of python -m checks %s\n%s" % (name, " ".join(sys.argv[1:]), text))
    message = "%s: %s%s" % (type(exc).__name__, first_line(exc), where)
    return Result(
        name=name,
        status=SKIP,
        summary="not judged: internal error in checks (a bug, not a fault of this machine): %s" % message,
        hint="report it with %s" % (log or "the output of CHECKS_DEBUG=1"),
        data={"internal_error": {"error": message, "log": log}},
    )


def first_line(exc):
    """Return the first non-empty line of an exception's message."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


class Report:
    """A check run: which check, the command line, the header facts, the results, and the verdict."""

    def __init__(self, check, argv=None):
        self.check = check
        self.command = [os.path.basename(sys.executable), "-m", "checks"] + list(sys.argv[1:] if argv is None else argv)
        self.created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.header = {}
        self.facts = None  # verify: the facts collected before torch (provenance, requirements, loader, system)
        self.results = []
        self.interrupted = False
        self.signal = None  # the name of the signal that interrupted the run ("SIGTERM"), or None
        self.unusable = None  # why the run could not judge this machine (no usable torch): exit 2, not 1
        self._start = time.perf_counter()

    def add(self, result):
        """Append a result and return it."""
        self.results.append(result)
        return result

    def counts(self):
        """Return how many results have each status."""
        return {status: sum(r.status == status for r in self.results) for status in STATUSES}

    def interrupt(self, exc=None):
        """Mark the run as stopped by the signal of `exc` (a KeyboardInterrupt; SIGINT when None)."""
        self.interrupted = True
        self.signal = interruption(exc)[0] if exc is not None else "SIGINT"

    def internal_errors(self):
        """Return the results that hit a bug in checks (internal_error_result)."""
        return [r for r in self.results if isinstance(r.data, dict) and r.data.get("internal_error")]

    def exit_code(self):
        """Return 128 + the signal's number if interrupted (130 for SIGINT), else 2 when the run found nothing
        usable to judge (`unusable`: no usable torch), else 1 if any check failed, else 3 if a check hit a bug in
        checks (internal_errors), else 0."""
        if self.interrupted:
            try:
                return EXIT_SIGNAL_BASE + int(getattr(signal, self.signal or "SIGINT"))
            except (AttributeError, TypeError):
                return EXIT_INTERRUPTED
        if self.unusable:
            return EXIT_USAGE
        if any(r.status == FAIL for r in self.results):
            return EXIT_FAILED
        return EXIT_INTERNAL if self.internal_errors() else EXIT_OK

    def to_dict(self):
        """Return the JSON document (see checks/report.schema.json)."""
        return {
            "schema": "pytorch-env/report",
            "schema_version": SCHEMA_VERSION,
            "check": self.check,
            "created": self.created,
            "command": self.command,
            "seconds": round(time.perf_counter() - self._start, 3),
            "header": self.header,
            **({"facts": self.facts} if self.facts is not None else {}),
            "results": [r.to_dict() for r in self.results],
            "counts": self.counts(),
            "interrupted": self.interrupted,
            "signal": self.signal,
            "exit_code": self.exit_code(),
        }
