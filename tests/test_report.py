"""Tests for checks/report.py: the shared result record, rendering, exit codes, atomic JSON."""

import json

import pytest

from checks import report
from checks.report import FAIL, PASS, SKIP, WARN, Result


def failing_check():
    """A check that raises instead of returning a Result."""
    raise ZeroDivisionError("division by zero")


def test_result_rejects_unknown_status():
    """A status outside PASS/FAIL/WARN/SKIP is a programming error."""
    with pytest.raises(ValueError, match="status must be one of"):
        Result("x", "OK")


def test_run_check_turns_an_exception_into_a_fail():
    """A check that raises becomes one FAIL naming the exception and where it happened."""
    result = report.run_check("boom", failing_check)
    assert result.status == FAIL
    assert "raised ZeroDivisionError: division by zero" in result.summary
    assert "test_report.py:" in result.summary
    assert result.seconds is not None and result.seconds >= 0


def test_fail_renders_expected_actual_and_fix_but_pass_does_not():
    """FAIL/WARN lines carry expected, actual and fix; PASS stays one line."""
    failed = Result("torch", FAIL, "wrong version", "2.0.1", "2.13.0", "pixi install -e cpu")
    assert report.render_result(failed).splitlines() == [
        "FAIL torch: wrong version",
        "       expected: 2.0.1",
        "       actual:   2.13.0",
        "       fix:      pixi install -e cpu",
    ]
    assert report.render_result(Result("torch", PASS, "2.0.1", "2.0.1", "2.0.1")) == "PASS torch: 2.0.1"


def test_exit_code_and_summary_follow_the_results():
    """Exit code 1 only when something failed; warnings and skips do not fail a run."""
    rep = report.Report("verify", argv=["verify"])
    for status in (PASS, WARN, SKIP):
        rep.add(Result(status.lower(), status, "s"))
    assert rep.exit_code() == 0
    assert report.render_summary(rep) == "verify: 1 passed, 0 failed, 1 warnings, 1 skipped"
    rep.add(Result("bad", FAIL, "s"))
    assert rep.exit_code() == 1
    assert rep.to_dict()["counts"] == {"PASS": 1, "FAIL": 1, "WARN": 1, "SKIP": 1}


def test_report_document_matches_the_schema(report_schema):
    """The JSON document validates against checks/report.schema.json."""
    if report_schema is None:
        pytest.skip("jsonschema is not installed")
    rep = report.Report("verify", argv=["verify", "--quick"])
    rep.header = {"torch": "2.0.1", "cpus": 2}
    rep.add(report.run_check("boom", failing_check))
    rep.add(Result("torch", PASS, "2.0.1", "2.0.1", "2.0.1"))
    report_schema.validate(json.loads(json.dumps(rep.to_dict())))


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    """A document that cannot be serialised leaves the previous report intact and no temp file."""
    target = tmp_path / "report.json"
    report.write_json_atomic(str(target), {"ok": 1})
    with pytest.raises(TypeError):
        report.write_json_atomic(str(target), {("tuple", "key"): 1})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
