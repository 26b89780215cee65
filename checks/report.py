"""The report record every check produces: results, header facts, text and JSON output."""

import datetime
import json
import os
import sys
import tempfile
import threading
import time
import traceback

# Bump when a field is added, removed or changes meaning; checks/report.schema.json follows.
SCHEMA_VERSION = 1

PASS, FAIL, WARN, SKIP = "PASS", "FAIL", "WARN", "SKIP"
STATUSES = (PASS, FAIL, WARN, SKIP)

# Exit codes shared by every check command.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = " (at %s:%s)" % (os.path.basename(frame.filename), frame.lineno) if frame else ""
        result = Result(
            name,
            FAIL,
            "raised %s: %s%s" % (type(exc).__name__, first_line(exc), where),
            hint="this is unexpected; rerun with --json and report the file",
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
    """A check run: which check, the header facts, the results, and the verdict."""

    def __init__(self, check, argv=None):
        self.check = check
        self.command = [os.path.basename(sys.executable), "-m", "checks"] + list(sys.argv[1:] if argv is None else argv)
        self.created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.header = {}
        self.results = []
        self._start = time.perf_counter()

    def add(self, result):
        """Append a result and return it."""
        self.results.append(result)
        return result

    def counts(self):
        """Return how many results have each status."""
        return {status: sum(r.status == status for r in self.results) for status in STATUSES}

    def exit_code(self):
        """Return 1 if any check failed, else 0."""
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
            "results": [r.to_dict() for r in self.results],
            "counts": self.counts(),
            "exit_code": self.exit_code(),
        }


def render_result(result, color=False):
    """Format one result as a PASS/FAIL line plus indented expected/actual/fix lines."""
    status = result.status
    if color:
        code = {PASS: "32", FAIL: "31", WARN: "33", SKIP: "36"}[status]
        status = "\033[%sm%s\033[0m" % (code, status)
    lines = ["%s %s: %s" % (status, result.name, result.summary)]
    if result.status in (FAIL, WARN):
        if result.expected is not None:
            lines.append("       expected: %s" % (result.expected,))
        if result.actual is not None:
            lines.append("       actual:   %s" % (result.actual,))
        if result.hint:
            lines.append("       fix:      %s" % (result.hint,))
    return "\n".join(lines)


def render_header(header):
    """Format the header facts as aligned `key: value` lines."""
    if not header:
        return ""
    width = max(len(k) for k in header)
    return "\n".join("%s: %s" % (k.ljust(width), "not available" if v is None else v) for k, v in header.items())


def render_summary(report):
    """Format the closing line, e.g. `verify: 20 passed, 1 failed, 2 skipped`."""
    c = report.counts()
    parts = ["%d passed" % c[PASS], "%d failed" % c[FAIL]]
    if c[WARN]:
        parts.append("%d warnings" % c[WARN])
    if c[SKIP]:
        parts.append("%d skipped" % c[SKIP])
    return "%s: %s" % (report.check, ", ".join(parts))


def write_json_atomic(path, document):
    """Write a JSON document so that readers see the old file or the new one, never half."""
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, sort_keys=False, default=str)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def stream_results(rep, results, json_path=None):
    """Print the header, each result as it arrives, the summary, and write --json; return the exit code."""
    print(render_header(rep.header))
    print()
    color = use_color(sys.stdout)
    try:
        for result in results:
            print(render_result(rep.add(result), color), flush=True)
    except KeyboardInterrupt:
        print("\n%s: interrupted; results so far are above" % rep.check, file=sys.stderr)
    return finish(rep, json_path)


def finish(rep, json_path=None):
    """Print the summary line and write the JSON report; return the exit code (2 if it cannot be written)."""
    print()
    print(render_summary(rep))
    if json_path:
        try:
            write_json_atomic(json_path, rep.to_dict())
        except OSError as exc:
            print("%s: error: cannot write %s: %s" % (rep.check, json_path, exc.strerror or exc), file=sys.stderr)
            return EXIT_USAGE
        print("report written to %s" % json_path)
    return rep.exit_code()


class Watchdog:
    """Bound each job: if one runs past the timeout, report it as hung, write the report, and exit 1."""

    def __init__(self, rep, seconds, json_path, hint):
        self.rep, self.seconds, self.json_path, self.hint = rep, seconds, json_path, hint
        self.timer = None

    def arm(self, name):
        """Start the clock for the job `name`."""
        self.disarm()
        self.timer = threading.Timer(self.seconds, self._fire, (name,))
        self.timer.daemon = True
        self.timer.start()

    def disarm(self):
        """Stop the clock."""
        if self.timer is not None:
            self.timer.cancel()

    def run(self, jobs):
        """Yield run_check(name, func) for each (name, func), each bounded by the timeout."""
        for name, func in jobs:
            self.arm(name)
            try:
                yield run_check(name, func)
            finally:
                self.disarm()

    def _fire(self, name):
        result = Result(
            name,
            FAIL,
            "did not finish within %g s; %s stopped" % (self.seconds, self.rep.check),
            "finishes within --timeout %g" % self.seconds,
            "still running (hung GPU, driver or compiler?)",
            self.hint,
        )
        print(render_result(self.rep.add(result)), flush=True)
        finish(self.rep, self.json_path)
        sys.stdout.flush()
        os._exit(EXIT_FAILED)


def add_timeout_option(parser, what, default=600.0):
    """Add --timeout S: how long `what` may run before the watchdog reports it as hung."""
    parser.add_argument(
        "--timeout",
        type=float,
        default=default,
        metavar="S",
        help="seconds %s may take before it is stopped and reported as hung (default %g)" % (what, default),
    )


def parse_checked(parser, argv):
    """Parse argv; a non-positive --timeout is a usage error (exit 2)."""
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    return args


def require_torch(check):
    """Import torch, or print why not (with the fix) and return None: a check that needs torch exits 2."""
    from checks.probe import import_torch

    torch, error = import_torch()
    if torch is None:
        line, meaning, fix = error
        print(
            "%s: error: torch did not import: %s\n  meaning: %s\n  fix: %s" % (check, line, meaning, fix),
            file=sys.stderr,
        )
    return torch


def use_color(stream):
    """Return True when colour codes suit the stream (a terminal, NO_COLOR unset)."""
    return hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ
