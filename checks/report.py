"""The result record every check produces, the report that collects them, and the exit codes of every command.

Exit codes (the same in every command, see `python -m checks --help`):
  0  every check passed (WARN and SKIP do not fail)
  1  a check failed (also: an internal error, reported in one line)
  2  usage or configuration error: bad options, unknown environment, unreadable manifest or lock, no torch
  130  interrupted (Ctrl-C); the results so far are printed and written, marked `"interrupted": true`
  141  standard output was closed (`python -m checks verify | head -1`): the run stops quietly
"""

import datetime
import os
import sys
import time
import traceback

# Bump when a field is added, removed or changes meaning; checks/report.schema.json follows.
SCHEMA_VERSION = 2

PASS, FAIL, WARN, SKIP = "PASS", "FAIL", "WARN", "SKIP"
STATUSES = (PASS, FAIL, WARN, SKIP)

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_CLOSED_PIPE = 0, 1, 2, 130, 141


class UsageError(Exception):
    """Bad arguments or configuration: reported in one line, exit code 2."""


class Result:
    """One verdict: a name, a status, expected vs actual, and a fix for a failure."""

    __slots__ = ("name", "status", "summary", "expected", "actual", "hint", "seconds", "data")

    def __init__(self, name, status, summary="", expected=None, actual=None, hint=None, data=None):
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
        # Raised by checks' own code (its innermost frame is in this package) is a bug in checks, never the
        # machine's fault; raised inside torch or a library, it is a failure of the environment to be judged.
        internal = bool(frame) and os.path.abspath(frame.filename).startswith(PACKAGE_DIR + os.sep)
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-12))[-20000:]
        result = Result(
            name=name,
            status=FAIL,
            summary="raised %s: %s%s" % (type(exc).__name__, first_line(exc), where),
            actual="%s: %s" % (type(exc).__name__, first_line(exc)),
            hint="this is a bug in checks; rerun with --json and report the file"
            if internal
            else "not recognised; rerun with --json and report the file",
            data={"exception": text, "internal": internal},
        )
    result.seconds = round(time.perf_counter() - start, 4)
    return result


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
        self._start = time.perf_counter()

    def add(self, result):
        """Append a result and return it."""
        self.results.append(result)
        return result

    def counts(self):
        """Return how many results have each status."""
        return {status: sum(r.status == status for r in self.results) for status in STATUSES}

    def exit_code(self):
        """Return 130 if interrupted, else 1 if any check failed, else 0."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILED if any(r.status == FAIL for r in self.results) else EXIT_OK

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
            "exit_code": self.exit_code(),
        }
