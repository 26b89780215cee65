"""Tests for checks/compile_check.py: support diagnosis, failure signatures, the child's timeout."""

import sys
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch", reason="the compile check needs torch")

from checks import compile_check, probe  # noqa: E402
from checks.report import FAIL, PASS, SKIP  # noqa: E402


@pytest.fixture
def ctx():
    """A full-run verify context for this machine's CPU."""
    return SimpleNamespace(torch=torch, devices=["cpu"], quick=False, gpu_ok=False, compile_timeout=600)


def test_quick_skips_compile(ctx):
    """--quick skips torch.compile with the reason."""
    ctx.quick = True
    assert compile_check.check_compile(ctx).status == SKIP


def test_this_interpreter_is_supported():
    """torch 2.0 supports Python <= 3.10 for torch.compile; later releases support this test matrix."""
    minor = tuple(int(p) for p in torch.__version__.split(".")[:2])
    problem = compile_check.support_problem(torch)
    if minor == (2, 0) and sys.version_info >= (3, 11):
        assert problem[0] == FAIL and "3.11" in problem[1]
    else:
        assert problem is None


def test_missing_compiler_fails_before_compiling(ctx, monkeypatch):
    """No C++ compiler: FAIL saying which compiler to install, without starting a compile."""
    monkeypatch.setattr(probe, "cxx_compiler", lambda: None)
    monkeypatch.setattr(compile_check, "run_child", lambda *a: pytest.fail("must not compile"))
    result = compile_check.check_compile(ctx)
    assert result.status == FAIL and "no C++ compiler" in result.summary and "g++" in result.hint


def test_hanging_compile_is_bounded(ctx, monkeypatch):
    """A compile that hangs is stopped at --compile-timeout and reported."""
    monkeypatch.setattr(compile_check, "CHILD", "import time; time.sleep(60)")
    ctx.compile_timeout = 1
    result = compile_check.check_compile(ctx)
    assert result.status == FAIL and "timed out after 1 s" in result.summary


def test_failed_compile_is_diagnosed(ctx, monkeypatch):
    """A compile that dies with a compiler error gets the compiler fix."""
    monkeypatch.setattr(
        compile_check, "CHILD", "raise SystemExit('torch._inductor.exc.CppCompileError: C++ compile error')"
    )
    result = compile_check.check_compile(ctx)
    assert result.status == FAIL and "CppCompileError" in result.summary
    assert "C++ compiler" in result.hint


@pytest.mark.parametrize(
    "output, fix",
    [
        ("fatal error: Python.h: No such file or directory", "python3-dev"),
        ("ModuleNotFoundError: No module named 'triton'", "Triton"),
        ("torch.cuda.OutOfMemoryError: CUDA out of memory", "free GPU memory"),
        ("something else entirely", "TORCH_LOGS"),
    ],
)
def test_diagnose(output, fix):
    """Each known compile failure maps to its fix."""
    assert fix in compile_check.diagnose(output)


@pytest.mark.slow
def test_real_compile_matches_eager(ctx):
    """torch.compile really builds and runs on this CPU, forward and backward, matching eager."""
    result = compile_check.check_compile(ctx)
    assert result.status == PASS, (result.summary, result.actual)
