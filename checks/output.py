"""Everything a command writes: text lines on the terminal, the JSON report, and PNG charts. Nothing else."""

import json
import os
import sys
import tempfile

from checks.report import FAIL, PASS, SKIP, WARN, UsageError
from checks.untrusted import escape

NO_MATPLOTLIB = "chart: not written (matplotlib is not installed)"


# ---- text ---------------------------------------------------------------------------------------------------------


def use_color(stream):
    """Return True when colour codes suit the stream (a terminal, NO_COLOR unset)."""
    return hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ


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


def check_writable(path):
    """Raise UsageError unless a report can be written at `path` (checked before any work starts)."""
    path = os.path.abspath(path)
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


def write_json_atomic(path, document):
    """Write a JSON document so that readers see the old file or the new one, never half; mode as the umask says."""
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
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600: a shared reference report must be readable
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
