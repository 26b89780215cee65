"""Tests for checks/output.py: text lines, the JSON report (atomic, readable by the team), where it may go."""

import json
import os
import stat

import pytest

from checks import output
from checks.report import FAIL, PASS, SKIP, WARN, Report, Result, UsageError


def test_fail_renders_expected_actual_and_fix_but_pass_does_not():
    """FAIL/WARN lines carry expected, actual and fix; PASS stays one line."""
    failed = Result(
        name="torch",
        status=FAIL,
        summary="wrong version",
        expected="2.0.1",
        actual="2.13.0",
        hint="pixi install -e cpu",
    )
    assert output.render_result(failed).splitlines() == [
        "FAIL torch: wrong version",
        "       expected: 2.0.1",
        "       actual:   2.13.0",
        "       fix:      pixi install -e cpu",
    ]
    assert (
        output.render_result(Result(name="torch", status=PASS, summary="2.0.1", expected="2.0.1", actual="2.0.1"))
        == "PASS torch: 2.0.1"
    )


def test_summary_counts_and_says_interrupted():
    """The closing line counts each status; after Ctrl-C it says so."""
    rep = Report("verify", argv=["verify"])
    for status in (PASS, WARN, SKIP):
        rep.add(Result(name=status.lower(), status=status, summary="s"))
    assert output.render_summary(rep) == "verify: 1 passed, 0 failed, 1 warnings, 1 skipped"
    rep.interrupted = True
    assert output.render_summary(rep).endswith(", interrupted")


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    """A document that cannot be serialised leaves the previous report intact and no temp file."""
    target = tmp_path / "report.json"
    output.write_json_atomic(str(target), {"ok": 1})
    with pytest.raises(TypeError):
        output.write_json_atomic(str(target), {("tuple", "key"): 1})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_reports_follow_the_umask(tmp_path):
    """A team's shared reference report is readable by the team: 0644 under umask 022, not mkstemp's 0600."""
    old = os.umask(0o022)
    try:
        output.write_json_atomic(str(tmp_path / "r.json"), {"ok": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o644


@pytest.mark.parametrize("case", ["directory", "under-a-file", "read-only"])
def test_unwritable_json_destinations_are_refused_up_front(tmp_path, case):
    """A folder, a path below a file, a folder without write permission: UsageError naming it, before any work."""
    if case == "directory":
        path, words = tmp_path, "is a directory"
    elif case == "under-a-file":
        (tmp_path / "file").write_text("x")
        path, words = tmp_path / "file" / "r.json", "is a file, not a folder"
    else:
        if os.name != "posix" or os.geteuid() == 0:
            pytest.skip("root (or Windows) writes into a read-only folder anyway")
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        path, words = locked / "r.json", "no permission"
    with pytest.raises(UsageError, match=words):
        output.check_writable(str(path))


def test_a_new_folder_for_the_report_is_fine(tmp_path):
    """A destination whose folders do not exist yet is writable: they are created on write."""
    output.check_writable(str(tmp_path / "a" / "b" / "r.json"))


POSIX = pytest.mark.skipif(os.name != "posix", reason="devices, FIFOs and /dev/stdout as on Linux and macOS")


def _device(tmp_path):
    """Return a character device a failing run may replace: as root (who can replace /dev/null, which this test must
    never risk) a null device node made in tmp_path, else /dev/null itself (a user cannot replace it)."""
    if os.geteuid() != 0:
        return os.devnull
    node = str(tmp_path / "null")
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null's numbers on Linux
    except (OSError, AttributeError):
        pytest.skip("root without mknod (a container without CAP_MKNOD): no device to test with safely")
    return node


def _special(tmp_path, case):
    """Return a --json destination that is not a regular file or a new path."""
    if case == "fifo":
        os.mkfifo(str(tmp_path / "fifo"))
        return str(tmp_path / "fifo")
    if case == "link-to-device":
        (tmp_path / "link").symlink_to(_device(tmp_path))
        return str(tmp_path / "link")
    if case == "device":
        return _device(tmp_path)
    return {"dev-stdout": "/dev/stdout", "directory": str(tmp_path)}[case]


@POSIX
@pytest.mark.parametrize("case", ["device", "link-to-device", "dev-stdout", "fifo", "directory"])
def test_json_goes_only_to_a_regular_file_or_a_new_path(run_checks, repo_root, tmp_path, case):
    """--json /dev/null (as root the atomic write replaced the device with a file), a symlink to it, /dev/stdout (it
    turned a redirected stdout into a file), a FIFO, a folder: exit 2 with one line before any work, and the target
    unchanged."""
    target = _special(tmp_path, case)
    before = os.stat(target)
    proc = run_checks("lock-audit", "--manifest", str(repo_root / "pixi.toml"), "--json", target)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith("python -m checks lock-audit: error: --json %s is " % target)
    after = os.stat(target)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm (Linux has it)")
def test_a_report_may_go_to_dev_shm():
    """/dev/shm holds regular files (a tmpfs): a new path there is fine, unlike the devices beside it."""
    output.check_writable("/dev/shm/pytorch-env-checks-%d.json" % os.getpid())
    with pytest.raises(UsageError, match="is in /dev"):
        output.check_writable("/dev/stdout")


def test_a_regular_file_a_new_path_and_a_link_to_a_file_are_fine(tmp_path):
    """A report replaces a regular file; through a symlink it replaces the file the link points to, the link stays."""
    (tmp_path / "old.json").write_text("{}")
    (tmp_path / "link.json").symlink_to(tmp_path / "old.json")
    for name in ("old.json", "new.json", "link.json"):
        output.check_writable(str(tmp_path / name))
    output.write_json_atomic(str(tmp_path / "link.json"), {"ok": 2})
    assert (tmp_path / "link.json").is_symlink() and json.loads((tmp_path / "old.json").read_text()) == {"ok": 2}


def test_json_dash_writes_the_report_to_stdout_and_the_lines_to_stderr(run_checks, repo_root):
    """`--json -`: standard output holds exactly one JSON document (the report), the human lines go to stderr."""
    proc = run_checks("lock-audit", "--manifest", str(repo_root / "pixi.toml"), "--json", "-")
    doc = json.loads(proc.stdout)
    assert doc["check"] == "lock-audit" and doc["exit_code"] == proc.returncode
    assert "lock-audit: " in proc.stderr and "report written to standard output" in proc.stderr


class FakeTerminal:
    """A stream that says it is a terminal."""

    def isatty(self):
        return True


@pytest.mark.parametrize(
    "environ, stream, expected",
    [
        ({"TERM": "xterm-256color"}, FakeTerminal(), True),
        ({"TERM": "dumb"}, FakeTerminal(), False),
        ({"TERM": "xterm", "NO_COLOR": ""}, FakeTerminal(), False),
        ({"TERM": "xterm"}, object(), False),
    ],
)
def test_colour_only_on_a_terminal_that_takes_it(environ, stream, expected):
    """Colour on a terminal only, and not when TERM=dumb or NO_COLOR is set (even empty, no-color.org)."""
    assert output.use_color(stream, environ) is expected
