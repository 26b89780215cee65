"""Everything a command writes: text lines on the terminal, the JSON report, and PNG charts. Nothing else."""

import json
import os
import stat
import sys
import tempfile

from checks.report import FAIL, PASS, SKIP, WARN, UsageError
from checks.workspace.untrusted import escape

NO_MATPLOTLIB = "chart: not written (matplotlib is not installed)"


# ---- text ---------------------------------------------------------------------------------------------------------


def use_color(stream, environ=None):
    """Return True when colour codes suit the stream: a terminal, NO_COLOR unset (no-color.org: set to anything,
    even empty) and TERM not `dumb` (a terminal without escape codes, as Emacs' shell sets it)."""
    environ = os.environ if environ is None else environ
    if "NO_COLOR" in environ or environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def render_result(result, color=False):
    """Format one result as a PASS/FAIL line plus indented expected/actual/fix lines."""
    status = result.status
    if color:
        code = {PASS: "32", FAIL: "31", WARN: "33", SKIP: "36"}[status]
        status = "\033[%sm%s\033[0m" % (code, status)
    lines = ["%s %s: %s" % (status, escape(result.name), escape(result.summary))]  # names come from manifests
    if result.status in (FAIL, WARN):
        if result.expected is not None:
            lines.append("       expected: %s" % escape(result.expected))
        if result.actual is not None:
            lines.append("       actual:   %s" % escape(result.actual))
        if result.hint:
            lines.append("       fix:      %s" % escape(result.hint))
    return "\n".join(lines)


def render_header(header):
    """Format the header facts as aligned `key: value` lines."""
    if not header:
        return ""
    width = max(len(k) for k in header)
    return "\n".join(
        "%s: %s" % (k.ljust(width), "not available" if v is None else escape(v)) for k, v in header.items()
    )


def render_summary(report):
    """Format the closing line, e.g. `verify: 20 passed, 1 failed, 2 skipped` (`, interrupted` after Ctrl-C)."""
    c = report.counts()
    parts = ["%d passed" % c[PASS], "%d failed" % c[FAIL]]
    if c[WARN]:
        parts.append("%d warnings" % c[WARN])
    if c[SKIP]:
        parts.append("%d skipped" % c[SKIP])
    bugs = len(report.internal_errors())
    if bugs:
        parts.append("%d internal error%s (a bug in checks)" % (bugs, "" if bugs == 1 else "s"))
    if report.interrupted:
        parts.append("interrupted")
    return "%s: %s" % (report.check, ", ".join(parts))


def error(command, message):
    """Print `python -m checks COMMAND: error: MESSAGE` on stderr (the one line a usage error gets)."""
    print("python -m checks %s: error: %s" % (command, escape(message)), file=sys.stderr)


# ---- JSON -------------------------------------------------------------------------------------------------------


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


STDOUT = "-"  # `--json -`: the report goes to standard output, the human lines to standard error
_REPORT_STREAM = []  # the real standard output once report_to_stdout() has moved the human lines to stderr


def report_to_stdout():
    """`--json -`: keep the real standard output for the JSON report and send every human line (sys.stdout) to
    standard error from now on, so that `python -m checks verify --json - | jq` reads one JSON document."""
    if not _REPORT_STREAM:
        _REPORT_STREAM.append(sys.stdout)
        sys.stdout = sys.stderr


KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


# Paths that name devices and processes' files on Linux, reached also through links (/dev/stdout is a link to
# /proc/self/fd/1, which resolves to whatever standard output is, even a regular file).
# /dev/shm is a tmpfs of regular files: a report may go there.
SYSTEM_FOLDERS = tuple(os.sep + name + os.sep for name in ("dev", "proc")) if os.name == "posix" else ()
SHARED_MEMORY = "/dev/shm/"


def not_a_file(path):
    """Return why a report cannot replace what is at `path` (a device, a FIFO, a socket, a directory), or None for a
    regular file or a new path. A symlink is judged by what it points to: the report replaces that file. A path in
    /dev or /proc, or this process's standard input, output or error, is never a report's file."""
    absolute = os.path.abspath(path)
    if absolute.startswith(SYSTEM_FOLDERS) and not os.path.realpath(path).startswith(SHARED_MEMORY):
        return "in /%s (a device or a process's file)" % absolute.split(os.sep)[1]
    try:
        st = os.stat(path)
    except OSError:
        return None  # a new path (or a link to one); check_writable judges its folder
    mode = st.st_mode
    if stat.S_ISREG(mode):
        for fd, stream in ((0, "standard input"), (1, "standard output"), (2, "standard error")):
            try:
                if os.path.samestat(st, os.fstat(fd)):
                    return "this run's %s" % stream
            except OSError:
                continue
        return None
    for test, kind in KINDS:
        if test(mode):
            return kind
    return "not a regular file"


def check_writable(path):
    """Raise UsageError unless a report can be written at `path` (checked before any work starts): `-` (standard
    output), a regular file, or a new path in a folder that exists or can be made. Anything else (a device such as
    /dev/null or /dev/stdout, a symlink to one, a FIFO, a socket, a directory) is refused: the atomic write would
    replace it with a regular file (as root, even /dev/null)."""
    if path == STDOUT:
        return
    kind = not_a_file(path)
    if kind and kind != "a directory":
        raise UsageError(
            "--json %s is %s, not a regular file: the report would replace it; give a file name, or `--json -` "
            "for standard output" % (path, kind)
        )
    path = os.path.realpath(path)
    if os.path.isdir(path):
        raise UsageError(
            "--json %s is a directory; give a file name, e.g. %s" % (path, os.path.join(path, "report.json"))
        )
    directory = os.path.dirname(path)
    existing = directory
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise UsageError("--json %s: %s is a file, not a folder" % (path, existing))
    if not os.access(existing, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageError("--json %s: no permission to write there; choose another path" % path)


def write_report(path, document):
    """Write the report to `path` atomically (write_json_atomic), or to standard output for `-`; return where it
    went, for the `report written to` line."""
    if path != STDOUT:
        write_json_atomic(path, document)
        return path
    stream = _REPORT_STREAM[0] if _REPORT_STREAM else sys.stdout
    stream.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    stream.flush()
    return "standard output"


def write_json_atomic(path, document):
    """Write a JSON document so that readers see the old file or the new one, never half; mode as the umask says.
    A symlink is followed (its target is replaced); raise OSError when the path is no longer a regular file or a new
    path (see check_writable)."""
    kind = not_a_file(path)
    if kind:
        raise OSError("%s is %s, not a regular file" % (path, kind))
    path = os.path.realpath(path)
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, sort_keys=False, default=str)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600: a shared reference report must be readable
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---- the internal-error log ---------------------------------------------------------------------------------------


def log_path(environ=None):
    """Return where an internal error's traceback is written: $XDG_CACHE_HOME (else ~/.cache; on Windows
    %LOCALAPPDATA%)/pytorch-env/checks.log, as pre-commit keeps ~/.cache/pre-commit/pre-commit.log; the system's
    temporary folder when there is no home."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME") or (environ.get("LOCALAPPDATA") if os.name == "nt" else None)
    if not base:
        home = os.path.expanduser("~")
        base = os.path.join(home, ".cache") if home != "~" else tempfile.gettempdir()
    return os.path.join(base, "pytorch-env", "checks.log")


def write_log(text, path=None):
    """Write `text` to the internal-error log atomically (a temp file in the same folder, then os.replace), falling
    back to the temporary folder; return the path written, or None when nothing could be written."""
    for target in (path or log_path(), os.path.join(tempfile.gettempdir(), "pytorch-env-checks.log")):
        tmp = None
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".checks.log.", dir=os.path.dirname(target))
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(text)
            os.replace(tmp, target)
            return target
        except OSError:
            if tmp and os.path.exists(tmp):
                os.unlink(tmp)
    return None


# ---- PNG --------------------------------------------------------------------------------------------------------


def pyplot():
    """Return matplotlib.pyplot on the headless Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        return None
    return plt


def save_chart(plt, fig, json_path):
    """Write fig to <json without .json>.png (readers see the old file or the new one); return a line saying where."""
    base = json_path[:-5] if json_path.endswith(".json") else json_path
    path = base + ".png"
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)
    return "chart written to %s" % path
