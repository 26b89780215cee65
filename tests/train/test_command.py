"""End-to-end tests of `python -m checks train`, run as a user runs it: in a child process."""

import json
import os
import subprocess
import sys

import fakes
import pytest

torch = pytest.importorskip("torch", reason="train's end-to-end tests need torch in this interpreter")

from checks.machine import toolchain  # noqa: E402


def statuses(doc):
    return {r["name"]: r["status"] for r in doc["results"]}


def test_quick_run_learns_and_writes_a_valid_report(run_checks, tmp_path, report_schema):
    """--quick on this CPU: every CPU eager variant passes, compile SKIPs, other devices are one line each."""
    out_file = tmp_path / "train.json"
    proc = run_checks("train", "--quick", "--model", "net", "--model", "transformer", "--json", str(out_file))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(out_file.read_text())
    if report_schema is not None:
        report_schema.validate(doc)
    got = statuses(doc)
    assert got["net-cpu-fp32-eager"] == got["transformer-cpu-bf16-eager"] == "PASS"
    assert got["transformer-cpu-fp32-compile"] == "SKIP"
    assert got["determinism-cpu"] == got["checkpoint-cpu"] == got["dataloader-cpu"] == "PASS"
    assert "cnn-cpu-fp32-eager" not in got  # --model filters
    assert doc["check"] == "train" and doc["header"]["check"] == "train v1 (quick)"
    line = next(line for line in proc.stdout.splitlines() if line.startswith("PASS transformer-cpu-fp32-eager"))
    assert "ms/step" in line and "tokens/s" in line
    if not torch.cuda.is_available():
        assert got["cuda"] == "SKIP"
    by_name = {r["name"]: r for r in doc["results"]}  # the other load each figure ran under, and the verdict
    assert "others_cores" in by_name["net-cpu-fp32-eager"]["data"]["contention"]
    assert got["contention"] in ("PASS", "WARN") and doc["results"][-1]["name"] == "contention"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a usable CUDA GPU")
def test_asking_for_a_missing_device_fails(run_checks):
    """--device cuda where CUDA cannot run: one FAIL naming why, exit 1 (so `nox -s gpu` cannot pass by skipping)."""
    proc = run_checks("train", "--device", "cuda", "--quick")
    assert proc.returncode == 1
    assert "FAIL cuda: " in proc.stdout and "variants and checks not run" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_variant_past_the_timeout_is_reported_as_hung(run_checks, tmp_path):
    """The watchdog stops a variant that runs too long: FAIL naming it, report written, exit 1."""
    out_file = tmp_path / "hung.json"
    proc = run_checks(
        "train", "--quick", "--model", "cnn", "--device", "cpu", "--timeout", "0.2", "--json", str(out_file)
    )
    assert proc.returncode == 1
    assert "FAIL cnn-cpu-fp32-eager: did not finish within 0.2 s; train stopped" in proc.stdout
    doc = json.loads(out_file.read_text())
    assert doc["results"][-1]["status"] == "FAIL" and doc["exit_code"] == 1


def test_missing_torch_is_a_configuration_error(run_checks, bare_python):
    """A Python without torch: one message with the fix, exit 2, no traceback."""
    proc = run_checks("train", python=bare_python)
    assert proc.returncode == 2
    assert "python -m checks train: error: torch did not import" in proc.stderr and "fix:" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--device", "tpu"], "invalid choice: 'tpu'"),
        (["--model", "resnet"], "invalid choice: 'resnet'"),
        (["--timeout", "0"], "argument --timeout: '0': give a finite positive number of seconds"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors_exit_2(run_checks, argv, needle):
    """Bad options: exit 2 with argparse's usage message."""
    proc = run_checks("train", *argv)
    assert proc.returncode == 2
    assert needle in proc.stderr and "usage: python -m checks train" in proc.stderr


@pytest.mark.slow
def test_full_run_compiles_and_matches_eager(run_checks, tmp_path):
    """The compiled variants train, reach the bar, and agree with eager on this CPU."""
    out_file = tmp_path / "full.json"
    proc = run_checks("train", "--device", "cpu", "--model", "transformer", "--json", str(out_file))
    doc = json.loads(out_file.read_text())
    compiled = next(r for r in doc["results"] if r["name"] == "transformer-cpu-fp32-compile")
    if compiled["status"] == "SKIP":
        pytest.skip("torch.compile unsupported here: %s" % compiled["summary"])
    unsupported = toolchain.support_problem(torch)
    if unsupported:  # torch 2.0 on Python 3.11: every compiled variant FAILs naming why, the eager ones pass
        failed = [r for r in doc["results"] if r["status"] == "FAIL"]
        others = [(r["name"], r["summary"]) for r in failed if not r["name"].endswith("-compile")]
        assert failed and not others, proc.stdout + proc.stderr
        assert all(r["summary"] == unsupported.summary for r in failed), proc.stdout
        return
    assert proc.returncode == 0, proc.stdout
    assert compiled["status"] == "PASS" and compiled["data"]["eager_difference"] <= 1e-4


@pytest.mark.gpu
def test_cuda_variants_pass_on_a_gpu(run_checks):
    """On a CUDA machine every CUDA variant passes, agrees with the CPU, and resumes from a checkpoint."""
    proc = run_checks("train", "--device", "cuda", "--quick")
    assert proc.returncode == 0, proc.stdout
    for name in ("transformer-cuda-fp16-eager", "checkpoint-cuda", "cuda-matches-cpu"):
        assert "PASS %s:" % name in proc.stdout


@fakes.PRIVATE_MOUNTS
def test_a_small_dev_shm_fails_the_dataloader_naming_shared_memory(repo_root, tmp_path):
    """The container case (docker's default --shm-size is 64 MB): /dev/shm of 1 MiB in a private mount namespace.
    The DataLoader's workers cannot hand over their batches; the FAIL names /dev/shm's size and the docker fix."""
    script = (
        "mount -t tmpfs -o size=1M tmpfs /dev/shm && exec %s -m checks train --quick --model net --device cpu"
        % sys.executable
    )
    env = dict(os.environ, PYTHONPATH=str(repo_root), NO_COLOR="1")
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", script], cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("FAIL dataloader-cpu"))
    assert "shared memory (/dev/shm, 1.0 MiB" in line
    assert "--shm-size" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def test_figures_measured_under_contention_are_marked_and_a_slow_step_says_so(monkeypatch):
    """In process, on recorded snapshots: the variant measured while other processes used 0.9 of 2 CPUs is marked
    and named by the contention line (WARN, as bench's); the cross-checks are not figures; a step past
    progress.AFTER says what it is doing on stderr (`say`), a quick one says nothing."""
    import threading
    import types

    from checks import progress
    from checks.machine import contention
    from checks.report import PASS, Result
    from checks.train import command
    from checks.train import verdicts as tc

    hz = contention._HZ

    def snap(t, busy):
        return contention.Snapshot(t, (busy, 0, int(t * hz * 2), 2), 0, frozenset([1]), None, (0, 1))

    snaps = iter([snap(0, 0), snap(2, int(0.9 * 2 * hz))])
    said, beat = [], threading.Event()

    def say(text):
        said.append(text)
        beat.set()

    def slow_variant(ctx, variant):  # lasts until its progress line came out
        assert beat.wait(30)
        return Result(name=variant.name, status=PASS, summary="loss 2.3 -> 0.1, 1.00 ms/step")

    monkeypatch.setattr(progress, "AFTER", 0.01)
    monkeypatch.setattr(tc, "check_variant", slow_variant)
    monkeypatch.setattr(
        tc, "check_determinism", lambda ctx, d: Result(name="determinism-" + d, status=PASS, summary="0")
    )
    monkeypatch.setattr(tc, "check_checkpoint", lambda ctx, d: Result(name="checkpoint-" + d, status=PASS, summary="0"))
    monkeypatch.setattr(
        tc, "check_dataloader", lambda ctx, d: Result(name="dataloader-" + d, status=PASS, summary="6 batches")
    )
    ctx = types.SimpleNamespace(devices=["cpu"], models=["net"], unusable=lambda device: None)
    ctx.watch = contention.Watch(take=lambda: next(snaps))
    results = {name: func() for name, func in command.jobs(ctx, say)}
    assert list(results) == [
        "os",
        "net-cpu-fp32-eager",
        "dataloader-cpu",
        "determinism-cpu",
        "checkpoint-cpu",
        "contention",
    ]
    variant = results["net-cpu-fp32-eager"]
    assert variant.summary.endswith("[under contention: other processes used 0.9 of 2 CPUs]")
    assert "contention" not in results["determinism-cpu"].data
    assert results["contention"].status == "WARN"
    assert results["contention"].summary == "1 of 1 figures measured under contention: net-cpu-fp32-eager"
    assert said[0].startswith("train: training net-cpu-fp32-eager (") and said[0].endswith(" s so far) ...")
    assert not [line for line in said if "determinism" in line or "checkpoint" in line]


def test_a_variant_refused_before_it_runs_is_not_marked_under_contention(monkeypatch):
    """torch 2.0's "Python 3.11+ not yet supported for torch.compile" FAIL measures nothing: even beside other load
    it keeps its own summary and is no figure of the contention line (seen in CI: the mark broke the summary)."""
    import types

    from checks.machine import contention
    from checks.report import FAIL, PASS, Result
    from checks.train import command
    from checks.train import verdicts as tc

    hz = contention._HZ

    def snap(t, busy):
        return contention.Snapshot(t, (busy, 0, int(t * hz * 2), 2), 0, frozenset([1]), None, (0, 1))

    snaps = iter([snap(0, 0)] + [snap(2 + i, int((1 + i) * 0.9 * 2 * hz)) for i in range(8)])
    monkeypatch.setattr(tc, "variant_problem", lambda ctx, v: (FAIL, "not supported here", "use another Python"))
    for name in ("check_dataloader", "check_determinism", "check_checkpoint"):
        monkeypatch.setattr(tc, name, lambda ctx, d, n=name: Result(name=n, status=PASS, summary="ok"))
    ctx = types.SimpleNamespace(devices=["cpu"], models=["net"], unusable=lambda device: None)
    ctx.watch = contention.Watch(take=lambda: next(snaps))
    results = {name: func() for name, func in command.jobs(ctx, lambda text: None)}
    refused = results["net-cpu-fp32-eager"]
    assert refused.status == FAIL and refused.summary == "not supported here" and "contention" not in refused.data
    assert results["contention"].status == "SKIP"  # nothing was measured
