"""Tests for checks/output.py: text lines, the JSON report (atomic, readable by the team), where it may go."""

import json
import os
import stat

import pytest

from checks import output
from checks.report import FAIL, PASS, SKIP, WARN, Report, Result, UsageError


def test_fail_renders_expected_actual_and_fix_but_pass_does_not():
    """FAIL/WARN lines carry expected, actual and fix; PASS stays one line."""
    failed = Result("torch", FAIL, "wrong version", "2.0.1", "2.13.0", "pixi install -e cpu")
    assert output.render_result(failed).splitlines() == [
        "FAIL torch: wrong version",
        "       expected: 2.0.1",
        "       actual:   2.13.0",
        "       fix:      pixi install -e cpu",
    ]
    assert output.render_result(Result("torch", PASS, "2.0.1", "2.0.1", "2.0.1")) == "PASS torch: 2.0.1"


def test_summary_counts_and_says_interrupted():
    """The closing line counts each status; after Ctrl-C it says so."""
    rep = Report("verify", argv=["verify"])
    for status in (PASS, WARN, SKIP):
        rep.add(Result(status.lower(), status, "s"))
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
