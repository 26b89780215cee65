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
        Result(name="x", status="OK")


def test_run_check_turns_an_exception_into_a_fail():
    """A check that raises becomes one FAIL naming the exception and where it happened."""
    result = report.run_check("boom", failing_check)
    assert result.status == FAIL
    assert "raised ZeroDivisionError: division by zero" in result.summary
    assert "test_report.py:" in result.summary
    assert result.seconds is not None and result.seconds >= 0


def test_a_bug_in_checks_is_not_judged_and_a_library_error_is_a_fail(tmp_path, monkeypatch):
    """A programming error raised in checks' own code (here output.render_header given a number) is an internal
    error: SKIP `not judged`, data.internal_error, exit 3 unless something really failed. The same error raised
    outside checks (this test file, standing in for torch or a driver binding) stays the check's FAIL."""
    from checks import output

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    bug = report.run_check("header", output.render_header, 5)
    assert bug.status == SKIP and bug.summary.startswith("not judged: internal error in checks")
    assert bug.data["internal_error"]["error"].startswith("TypeError: ") and "(at output.py:" in bug.summary
    rep = report.Report("verify", argv=["verify"])
    rep.add(Result(name="torch", status=PASS, summary="2.0.1"))
    rep.add(bug)
    assert rep.exit_code() == 3 and rep.to_dict()["exit_code"] == 3
    rep.add(report.run_check("boom", failing_check))  # raised in this file: the check's FAIL
    assert rep.results[-1].status == FAIL and rep.exit_code() == 1


def test_a_torch_api_the_installed_torch_lacks_is_a_fail_not_a_bug_in_checks(monkeypatch):
    """checks' own code reaching a torch name this release does not have (torch < 2.0 has no
    F.scaled_dot_product_attention) meets a fact of the installed torch: a FAIL carrying the exception, never exit 3."""
    import types

    from checks import apis

    fake = types.SimpleNamespace(amp=types.ModuleType("torch.amp"))  # a torch without torch.amp.GradScaler
    fake.cuda = types.SimpleNamespace(amp=types.ModuleType("torch.cuda.amp"))
    result = report.run_check("amp", apis.grad_scaler, fake, "cuda")  # raises inside checks/apis.py
    assert result.status == FAIL and "module 'torch.cuda.amp' has no attribute 'GradScaler'" in result.actual
    assert "exception" in result.data and "internal_error" not in result.data


def test_exit_code_and_summary_follow_the_results():
    """Exit code 1 only when something failed; warnings and skips do not fail a run."""
    rep = report.Report("verify", argv=["verify"])
    for status in (PASS, WARN, SKIP):
        rep.add(Result(name=status.lower(), status=status, summary="s"))
    assert rep.exit_code() == 0
    rep.add(Result(name="bad", status=FAIL, summary="s"))
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
    rep.add(Result(name="torch", status=PASS, summary="2.0.1", expected="2.0.1", actual="2.0.1"))
    report_schema.validate(json.loads(json.dumps(rep.to_dict())))
