"""Tests for checks/verify_compute.py, in-process: each check passes here and fails when its subject breaks."""

import os
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch", reason="the compute checks need torch")

from checks.report import FAIL, PASS, SKIP, WARN  # noqa: E402
from checks.verify import command as verify  # noqa: E402
from checks.verify import compute as verify_compute  # noqa: E402
from checks.verify import libs as verify_libs  # noqa: E402

COMPUTE = [(n, f) for n, f in verify.checks() if f.__module__ in ("checks.verify.compute", "checks.verify.libs")]


@pytest.fixture
def ctx():
    """A verify context for this machine's CPU."""
    return SimpleNamespace(torch=torch, devices=["cpu"], quick=True, gpu_ok=False)


@pytest.mark.parametrize("name, check", COMPUTE, ids=[n for n, _ in COMPUTE])
def test_each_check_passes_on_this_cpu(ctx, name, check):
    """Every compute check passes on a healthy CPU install."""
    result = check(ctx)
    if name == "libraries" and not torch.version.cuda:  # a CPU build loads no NVIDIA library to judge
        assert result.status == SKIP and "CPU build" in result.summary
        return
    assert result.status in (PASS, WARN), (result.summary, result.actual)


@pytest.mark.parametrize("name, check", COMPUTE, ids=[n for n, _ in COMPUTE])
def test_each_check_skips_without_torch(name, check):
    """Without torch every compute check is a SKIP, never a crash."""
    result = check(SimpleNamespace(torch=None, devices=["cpu"], quick=True, gpu_ok=False))
    assert result.status == SKIP and result.summary == "torch did not import"


def test_numpy_that_torch_cannot_use_fails_with_a_fix(ctx, monkeypatch):
    """torch.from_numpy failing (NumPy 2 with torch 2.0) is a FAIL naming numpy and a fix."""

    def broken(array):
        raise RuntimeError("Numpy is not available")

    monkeypatch.setattr(torch, "from_numpy", broken)
    result = verify_libs.check_numpy(ctx)
    assert result.status == FAIL
    assert "Numpy is not available" in result.summary
    assert "numpy" in result.hint


def test_numpy_2_hiding_the_environments_numpy_1_names_the_folder(ctx, monkeypatch, tmp_path):
    """torch built against NumPy 1.x, numpy 2.1.3 imported from a PYTHONPATH folder ahead of the environment's
    1.26.4: the fix takes the folder off the path (installing numpy<2 would change nothing)."""
    numpy = pytest.importorskip("numpy")
    env, extra = tmp_path / "site-packages", tmp_path / "extra"
    for where, version in ((env, "1.26.4"), (extra, "2.1.3")):
        info = where / ("numpy-%s.dist-info" % version)
        info.mkdir(parents=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: %s\n" % version)
    monkeypatch.setattr("sys.path", [str(extra), str(env)])
    monkeypatch.setenv("PYTHONPATH", str(extra))
    monkeypatch.setattr(numpy, "__version__", "2.1.3")
    monkeypatch.setattr(verify_libs, "numpy_1_only", lambda torch: True)

    def broken(array):
        raise RuntimeError("Numpy is not available")

    monkeypatch.setattr(torch, "from_numpy", broken)
    result = verify_libs.check_numpy(ctx)
    assert result.status == FAIL and result.hint.startswith("drop %s from PYTHONPATH (its numpy hides" % extra)
    expected = "numpy 2.1.3 there hides 1.26.4 in %s, which torch %s can use" % (env, torch.__version__)
    assert result.hint.endswith(expected)


def test_single_thread_on_many_cores_warns(ctx, monkeypatch):
    """One torch thread on a multi-core machine, with no OMP_NUM_THREADS, is a WARN about OpenMP runtimes."""
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    result = verify_libs.check_cpu_backends(ctx)
    assert result.status == WARN and "1 thread on 4 cores" in result.summary


def test_wrong_linear_algebra_fails(ctx, monkeypatch):
    """An SVD whose factors do not reconstruct the matrix is a FAIL with the error size."""
    real_svd = torch.linalg.svd

    def bad_svd(a, full_matrices=True):
        u, s, vh = real_svd(a, full_matrices=full_matrices)
        return u, s * 2, vh

    monkeypatch.setattr(torch.linalg, "svd", bad_svd)
    result = verify_compute.check_kernels(ctx)
    assert result.status == FAIL and "cpu results differ" in result.summary


def test_training_step_that_does_not_update_fails(ctx, monkeypatch):
    """An optimizer step that changes nothing is a FAIL of the first program."""
    monkeypatch.setattr(torch.optim.SGD, "step", lambda self, closure=None: None)
    result = verify_compute.check_first_step(ctx)
    assert result.status == FAIL and "updated False" in result.actual


def test_full_run_does_a_gloo_all_reduce(ctx):
    """Without --quick the distributed check initialises gloo and all-reduces for real."""
    ctx.quick = False
    result = verify_libs.check_distributed(ctx)
    assert result.status == PASS and "gloo (all-reduce ok)" in result.summary
