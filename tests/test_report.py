"""Tests for checks/report.py: the result record, a check that raises, the report and its exit codes."""

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


def test_exit_code_and_summary_follow_the_results():
    """Exit code 1 only when something failed; warnings and skips do not fail a run."""
    rep = report.Report("verify", argv=["verify"])
    for status in (PASS, WARN, SKIP):
        rep.add(Result(status.lower(), status, "s"))
    assert rep.exit_code() == 0
    rep.add(Result("bad", FAIL, "s"))
    assert rep.exit_code() == 1
    assert rep.to_dict()["counts"] == {"PASS": 1, "FAIL": 1, "WARN": 1, "SKIP": 1}
    rep.interrupted = True
    assert rep.exit_code() == 130 and rep.to_dict()["interrupted"] is True


def test_report_document_matches_the_schema(report_schema):
    """The JSON document validates against checks/report.schema.json."""
    if report_schema is None:
        pytest.skip("jsonschema is not installed")
    rep = report.Report("verify", argv=["verify", "--quick"])
    rep.header = {"torch": "2.0.1", "cpus": 2}
    rep.add(report.run_check("boom", failing_check))
    rep.add(Result("torch", PASS, "2.0.1", "2.0.1", "2.0.1"))
    report_schema.validate(json.loads(json.dumps(rep.to_dict())))
