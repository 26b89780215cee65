"""The training verdicts: what makes a variant FAIL or SKIP, judged from synthetic runs and contexts."""

import sys
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch", reason="the training checks need torch")

from checks.train import verdicts as tc  # noqa: E402
from checks.train.trainer import Run, Variant  # noqa: E402

GOOD_LOSSES = [2.0] * 10 + [1.0] * 20 + [0.2] * 10


def ctx(**overrides):
    fields = {"unusable": lambda device: None, "asked": [], "quick": False, "models": ["net", "transformer"]}
    fields.update(overrides)
    return SimpleNamespace(**fields)


def judge(losses=GOOD_LOSSES, problems=(), accuracy=0.99, variant=None):
    variant = variant or Variant("net", "cpu")
    return tc._judge(variant, Run(variant, list(losses), list(problems), accuracy, 0.01, 1.5, 2e4))


def test_a_run_that_learns_passes_with_its_figures():
    """A falling finite loss, clean gradients and accuracy over the bar: PASS with ms/step and samples/s."""
    result = judge()
    assert result.status == "PASS"
    assert "loss 2 -> 0.2 in 40 steps, accuracy 0.99 (bar 0.85, chance 0.50), 1.50 ms/step, 20.0k samples/s" in (
        result.summary
    )
    assert result.data["losses"] == GOOD_LOSSES and result.data["unit"] == "samples"


@pytest.mark.parametrize(
    "kwargs, reason, actual",
    [
        ({"losses": GOOD_LOSSES[:-1] + [float("nan")]}, "loss not finite", "non-finite loss at step 39"),
        ({"losses": [2.0] * 40}, "loss did not fall", "last-10 mean 2 vs first-10 mean 2"),
        ({"problems": ["fc1.weight: non-finite gradient"]}, "bad gradients", "fc1.weight: non-finite gradient"),
        ({"accuracy": 0.5}, "accuracy below the bar", "held-out accuracy 0.500 < 0.85"),
    ],
)
def test_each_broken_property_fails_with_expected_and_actual(kwargs, reason, actual):
    """Every assertion of a variant can fail on its own, naming what was expected and what happened."""
    result = judge(**kwargs)
    assert result.status == "FAIL"
    assert result.summary.startswith(reason)
    assert actual in result.actual
    assert "accuracy >= 0.85" in result.expected and result.hint


def test_fp16_failure_points_at_the_scaler():
    """An fp16 variant that goes non-finite gets the gradient-scaler hint."""
    result = judge(losses=[float("inf")] * 40, variant=Variant("net", "cuda", "fp16"))
    assert "GradScaler" in result.hint


@pytest.mark.parametrize(
    "variant, context, status, needle",
    [
        (Variant("net", "cpu", "fp16"), ctx(), "SKIP", "CPU mixed precision is bf16"),
        (Variant("net", "cpu", mode="compile"), ctx(quick=True), "SKIP", "--quick skips torch.compile"),
        (Variant("net", "mps", "bf16"), ctx(), "SKIP", "MPS runs the fp32 eager variants only"),
    ],
)
def test_variants_the_machine_cannot_run_skip_with_a_reason(variant, context, status, needle):
    """SKIP, never silence: the reason is in the line."""
    result = tc.check_variant(context, variant)
    assert (result.status, needle in result.summary) == (status, True), result.summary


def test_unusable_device_is_one_skip_line_or_a_fail_when_asked():
    """A missing device is one SKIP naming what was not run; asked for with --device it FAILs."""
    names = ["net-cuda-fp32-eager", "determinism-cuda"]
    skipped = tc.device_unusable(ctx(), "cuda", "this torch is a cpu build", names)
    assert skipped.status == "SKIP" and skipped.data["not_run"] == names
    assert skipped.summary == "2 variants and checks not run: this torch is a cpu build"
    failed = tc.device_unusable(ctx(asked=["cuda"]), "cuda", "no NVIDIA driver found", names)
    assert failed.status == "FAIL" and failed.actual == "no NVIDIA driver found"


def test_cross_check_fails_beyond_tolerance():
    """A difference above the tolerance fails with the largest difference and a hint."""
    variants = [Variant("net", "cpu"), Variant("transformer", "cpu")]
    diffs = {"net": 0.0, "transformer": 3e-3}
    result = tc._cross("determinism-cpu", variants, lambda v: diffs[v.model], 1e-3)
    assert result.status == "FAIL"
    assert result.actual == "0.003" and result.expected == "<= 0.001"
    assert "use_deterministic_algorithms" in result.hint
    assert tc._cross("determinism-cpu", variants, lambda v: 0.0, 0.0).status == "PASS"


def test_out_of_memory_fails_with_a_fix():
    """An OOM inside a variant is a FAIL that says to free GPU memory, not a traceback."""

    def boom():
        raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")

    result = tc._guarded("cnn-cuda-fp32-eager", boom)
    assert result.status == "FAIL" and result.summary == "out of memory" and "nvidia-smi" in result.hint


def test_compile_failure_fails_with_the_diagnosed_fix():
    """A compiler error inside a compiled variant is a FAIL naming it, with the fix for its cause."""

    def boom():
        raise RuntimeError("backend='inductor' raised:\nCppCompileError: C++ compile error\ng++: not found")

    result = tc._guarded("net-cpu-fp32-compile", boom, compiling=True)
    assert result.status == "FAIL" and result.summary == (
        "torch.compile failed: RuntimeError: backend='inductor' raised: CppCompileError: C++ compile error g++: not "
        "found"
    )  # the cause on the third line is kept
    assert "C++ compiler" in result.hint and "exception" not in result.data
    with pytest.raises(RuntimeError):  # in an eager variant the same error is not mistaken for the compiler's
        tc._guarded("net-cpu-fp32-eager", boom)


def test_a_compile_failure_no_toolchain_signature_knows_carries_its_exception_to_be_judged():
    """Not "rerun with TORCH_LOGS": the exception travels in data["exception"] for runner.judged (the facts)."""

    def boom():
        raise RuntimeError(
            "backend='inductor' raised:\nRuntimeError: CUDA error: the launch timed out and was terminated"
        )

    result = tc._guarded("net-cuda-fp32-compile", boom, compiling=True)
    assert result.status == "FAIL" and "launch timed out" in result.data["exception"]
    assert "TORCH_LOGS" not in result.hint


def test_cpu_determinism_and_checkpoint_pass_here():
    """On this CPU, repeated runs are bit-identical and checkpoints resume exactly."""
    context = ctx(models=["net"])
    assert tc.check_determinism(context, "cpu").status == "PASS"
    result = tc.check_checkpoint(context, "cpu")
    assert result.status == "PASS" and result.data["tolerance"] == 0.0


@pytest.mark.parametrize("quiet", [True, False], ids=["loader-queue", "plain-queue"])
def test_a_queue_whose_reader_is_gone_prints_no_feeder_traceback(capfd, quiet):
    """The DataLoader's queues (tc._loader_context) drop the feeder thread's BrokenPipeError traceback that a dead
    worker's queue prints (seen on Python 3.8 beside a full /dev/shm); a plain multiprocessing Queue, the control,
    prints it."""
    import multiprocessing

    queue = tc._loader_context().Queue() if quiet else multiprocessing.get_context().Queue()
    queue._reader.close()  # the other end is gone, as a killed worker's is
    queue.put(b"x")
    queue.close()
    queue.join_thread()  # the feeder thread has sent (and failed) by now
    err = capfd.readouterr().err
    assert ("BrokenPipeError" in err) is not quiet, err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="torch's file_descriptor sharing is Linux's default")
def test_a_batch_that_cannot_be_sent_is_one_line_not_a_traceback(repo_root, tmp_path):
    """A tensor whose file descriptor cannot be handed over: a fresh interpreter whose TMPDIR is too long for
    multiprocessing's AF_UNIX listener (sun_path); torch's own reduction raises `OSError: AF_UNIX path too long` in
    the feeder thread, which the loader queue reports in one line instead of a traceback."""
    import os
    import subprocess

    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    script = (
        "import torch, torch.multiprocessing\n"
        "from checks.train import verdicts\n"
        "queue = verdicts._loader_context().Queue()\n"
        "queue.put(torch.zeros(4).share_memory_())\n"
        "queue.close()\n"
        "queue.join_thread()\n"
    )
    env = dict(os.environ, TMPDIR=str(deep), PYTHONPATH=str(repo_root))
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert "DataLoader worker: a batch could not be sent: OSError: AF_UNIX path too long" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
