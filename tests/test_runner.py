"""Tests for checks/runner.py's judging of the results of commands that run torch (train, bench, dist): a FAIL
carrying an exception raised inside torch is judged against the machine's facts, gathered once."""

from checks import diagnosis, runner
from checks.report import FAIL, PASS, Result


def test_a_torch_command_s_exception_fails_are_judged_with_facts_gathered_once(monkeypatch):
    gathered = []
    monkeypatch.setattr(diagnosis, "gather", lambda: gathered.append(1) or "facts")
    monkeypatch.setattr(
        diagnosis, "explain", lambda text, facts: diagnosis.Cause(meaning="cause of " + text, fix="fix", fact=facts)
    )
    results = [
        Result(name="p", status=PASS, summary="ok"),
        Result(name="e1", status=FAIL, summary="raised", data={"exception": "one"}),
        Result(name="e2", status=FAIL, summary="raised", data={"exception": "two"}),
    ]
    out = list(runner.judged(iter(results)))
    assert out[0] is results[0]
    assert [r.summary for r in out[1:]] == ["cause of one", "cause of two"]
    assert [r.data["fact"] for r in out[1:]] == ["facts", "facts"] and gathered == [1]


def test_no_facts_are_gathered_when_nothing_failed_with_an_exception(monkeypatch):
    monkeypatch.setattr(diagnosis, "gather", lambda: (_ for _ in ()).throw(AssertionError("gathered")))
    results = [Result(name="p", status=PASS, summary="ok"), Result(name="f", status=FAIL, summary="no exception")]
    assert list(runner.judged(iter(results))) == results
