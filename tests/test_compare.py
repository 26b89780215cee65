"""Tests for checks/compare.py: the regression gate passes only on figures B measured, and takes only sane ratios."""

import json
import math

import pytest

from checks import compare


def report(tmp_path, name, values, check="bench"):
    """Write a report of `values` {result name: figure (None: measured nothing)} as bench writes it; return its path."""
    results = []
    for n, v in values.items():
        data = {} if v is None else {"value": v, "unit": "TFLOP/s"}
        results.append(
            {
                "name": n,
                "status": "PASS" if v is not None else "FAIL",
                "summary": "",
                "expected": None,
                "actual": None,
                "hint": None,
                "seconds": 0.1,
                "data": data,
            }
        )
    doc = {
        "schema": "pytorch-env/report",
        "schema_version": 3,
        "check": check,
        "created": "2026-12-06T00:00:00+00:00",
        "command": [],
        "seconds": 1.0,
        "header": {"device": name},
        "results": results,
        "counts": {},
        "interrupted": False,
        "signal": None,
        "exit_code": 0,
    }
    path = tmp_path / (name + ".json")
    path.write_text(json.dumps(doc))  # Python's json writes NaN and Infinity, as a report with such a figure has
    return str(path)


A = {"matmul-bf16": 700.0, "matmul-fp32": 50.0}


@pytest.mark.parametrize(
    "b_values, figure, why",
    [
        ({"matmul-bf16": 700.0}, "matmul-fp32", "missing in B"),
        ({"matmul-bf16": 700.0, "matmul-fp32": None}, "matmul-fp32", "not measured in B"),
        ({"matmul-bf16": math.nan, "matmul-fp32": 50.0}, "matmul-bf16", "not finite in B (nan)"),
        ({"matmul-bf16": math.inf, "matmul-fp32": 50.0}, "matmul-bf16", "not finite in B (inf)"),
    ],
)
def test_a_gate_fails_on_a_figure_b_did_not_measure(tmp_path, capsys, b_values, figure, why):
    """--threshold 0.9 used to pass when B lacked a figure, measured nothing or measured NaN: it fails naming the
    figure and why; --allow-missing lets it pass, still saying so."""
    a, b = report(tmp_path, "a", A), report(tmp_path, "b", b_values)
    assert compare.main([a, b, "--threshold", "0.9"]) == 1
    out = capsys.readouterr().out
    assert "not usable in B: %s (%s)" % (figure, why) in out
    assert compare.main([a, b, "--threshold", "0.9", "--allow-missing"]) == 0
    assert "allowed by --allow-missing: %s (%s)" % (figure, why) in capsys.readouterr().out


def test_a_gate_fails_when_b_has_no_results(tmp_path, capsys):
    """A B report with no results at all is nothing to gate on: exit 1 naming every figure of A."""
    a, b = report(tmp_path, "a", A), report(tmp_path, "b", {})
    assert compare.main([a, b, "--threshold", "0.9"]) == 1
    out = capsys.readouterr().out
    assert "matmul-bf16 (missing in B)" in out and "B has no results" in out


def test_without_a_threshold_compare_only_shows(tmp_path, capsys):
    """No --threshold: a side-by-side view, exit 0 whatever B lacks (nothing is gated)."""
    a, b = report(tmp_path, "a", A), report(tmp_path, "b", {"matmul-bf16": math.nan})
    assert compare.main([a, b]) == 0


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "abc"])
def test_the_threshold_is_a_finite_positive_ratio(tmp_path, capsys, value):
    """--threshold nan, inf, 0 or -1 is a usage error (exit 2), not a gate that never fails."""
    a = report(tmp_path, "a", A)
    with pytest.raises(SystemExit) as exit_:
        compare.main([a, a, "--threshold", value])
    assert exit_.value.code == 2 and "--threshold" in capsys.readouterr().err
