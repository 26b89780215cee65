"""End-to-end tests of `python -m checks bench` and `python -m checks compare`, run in a child process."""

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="bench's end-to-end tests need torch in this interpreter")


def test_cpu_quick_run_measures_and_writes_a_valid_report(run_checks, tmp_path, report_schema):
    """Without a GPU, bench measures CPU matmul and copy bandwidth, skips the rest with reasons, exit 0."""
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: bench measures it instead")
    out_file = tmp_path / "bench.json"
    proc = run_checks("bench", "--quick", "--json", str(out_file))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(out_file.read_text())
    if report_schema is not None:
        report_schema.validate(doc)
    by_name = {r["name"]: r for r in doc["results"]}
    assert by_name["matmul-fp32"]["status"] == "PASS" and by_name["matmul-fp32"]["data"]["value"] > 0
    assert by_name["copy-d2d"]["data"]["unit"] == "GB/s"
    assert by_name["gpt2-bf16-compile"]["status"] == "SKIP"
    assert "contention" in by_name["matmul-fp32"]["data"] and by_name["contention"]["status"] in ("PASS", "WARN")
    assert doc["header"]["load"].startswith(("other processes used", "CPU load of other processes unknown"))
    assert "bench: measuring matmul fp32" in proc.stderr  # progress goes to stderr
    assert ("chart written to" in proc.stdout) or ("matplotlib is not installed" in proc.stdout)


@pytest.mark.parametrize("argv, needle", [(["--device", "tpu"], "invalid choice"), (["--timeout", "-1"], "positive")])
def test_usage_errors_exit_2(run_checks, argv, needle):
    """Bad options: exit 2 with the usage message."""
    proc = run_checks("bench", *argv)
    assert proc.returncode == 2 and needle in proc.stderr


def report(tmp_path, name, check, values):
    doc = {
        "schema": "pytorch-env/report",
        "schema_version": 1,
        "check": check,
        "created": "2026-11-23T00:00:00+00:00",
        "command": [],
        "seconds": 1.0,
        "header": {"device": name},
        "results": [
            {
                "name": n,
                "status": "PASS",
                "summary": "",
                "expected": None,
                "actual": None,
                "hint": None,
                "seconds": 0.1,
                "data": {"value": v, "unit": "TFLOP/s"},
            }
            for n, v in values.items()
        ],
        "counts": {"PASS": len(values), "FAIL": 0, "WARN": 0, "SKIP": 0},
        "exit_code": 0,
    }
    path = tmp_path / (name + ".json")
    path.write_text(json.dumps(doc))
    return str(path)


def test_compare_prints_ratios_and_fails_below_a_threshold(run_checks, tmp_path):
    """B/A per figure; --threshold 0.9 fails when a figure of B is below 90 % of A's."""
    a = report(tmp_path, "ref", "bench", {"matmul-bf16": 700.0, "matmul-fp32": 50.0})
    b = report(tmp_path, "node7", "bench", {"matmul-bf16": 560.0, "matmul-fp32": 50.0})
    proc = run_checks("compare", a, b)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("matmul-bf16"))
    assert line.split()[-1] == "0.800"
    failed = run_checks("compare", a, b, "--threshold", "0.9")
    assert failed.returncode == 1 and "1 figures of B below 0.90 x A: matmul-bf16" in failed.stdout


def test_compare_refuses_what_it_cannot_compare(run_checks, tmp_path):
    """A non-report, a missing file, or reports of two different checks: one line, exit 2."""
    a = report(tmp_path, "a", "bench", {"x": 1.0})
    other = report(tmp_path, "b", "train", {"x": 1.0})
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2]")
    for argv, needle in (
        ([a, str(junk)], "is not a pytorch-env report"),
        ([a, str(tmp_path / "nope.json")], "cannot read"),
        ([a, other], "is a bench report"),
    ):
        proc = run_checks("compare", *argv)
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr


@pytest.mark.gpu
def test_gpu_quick_bench_measures_every_dtype_the_gpu_has(run_checks, tmp_path):
    """On a CUDA machine: every matmul dtype, copy and GPT-2 figure is measured; nothing fails."""
    out_file = tmp_path / "gpu.json"
    proc = run_checks("bench", "--quick", "--json", str(out_file))
    assert proc.returncode == 0, proc.stdout
    by_name = {r["name"]: r for r in json.loads(out_file.read_text())["results"]}
    for name in ("matmul-fp32", "matmul-bf16", "copy-d2d", "copy-h2d-pinned", "gpt2-bf16-compile"):
        assert by_name[name]["status"] in ("PASS", "WARN") and by_name[name]["data"]["value"] > 0, name


def test_compare_marks_a_figure_measured_under_contention(run_checks, tmp_path):
    """A figure whose report says it was measured under contention (data.contention.contended, as bench and train
    write it: tests/machine/test_contention.py) is compared with a `~` and a note. The report is a recording, so the
    test does not depend on this machine's load."""
    a = report(tmp_path, "ref", "bench", {"matmul-fp32": 50.0, "copy-d2d": 10.0})
    doc = json.loads(Path(a).read_text())
    seen = {"seconds": 2.0, "cpus": 2, "others_cores": 1.0, "steal": 0.0, "unknown": None, "gpu_others": None}
    seen["contended"] = ["other processes used 1.0 of 2 CPUs"]
    doc["results"][0]["data"]["contention"] = seen
    doc["results"][0]["summary"] = "50 TFLOP/s [under contention: other processes used 1.0 of 2 CPUs]"
    Path(a).write_text(json.dumps(doc))
    compared = run_checks("compare", a, a)
    assert compared.returncode == 0, compared.stderr
    assert "PASS~" in compared.stdout and "~ measured under contention" in compared.stdout
    copy_line = next(line for line in compared.stdout.splitlines() if line.startswith("copy-d2d"))
    assert "~" not in copy_line
