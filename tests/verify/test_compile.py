"""Tests for checks/verify/compile.py and checks/machine/toolchain.py: support, failure signatures, the child's
timeout."""

import os
import platform
import sys
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch", reason="the compile check needs torch")

from test_errors import DYNAMO_21  # noqa: E402

from checks.machine import toolchain  # noqa: E402
from checks.report import FAIL, PASS, SKIP  # noqa: E402
from checks.verify import compile as compile_check  # noqa: E402

# torch 2.0's compile does not support Python 3.11 (the 3.11 + torch 2.0.1 test session): what then happens is
# itself tested; the tests of the compile child's own handling pretend the support check passed.
UNSUPPORTED = toolchain.support_problem(torch)


@pytest.fixture
def ctx():
    """A full-run verify context for this machine's CPU."""
    return SimpleNamespace(torch=torch, devices=["cpu"], quick=False, gpu_ok=False, timeout=600, progress=said.append)


said = []


@pytest.fixture
def supported(monkeypatch):
    """Let the compile child run even where TorchDynamo refuses this Python (its own handling is under test)."""
    monkeypatch.setattr(toolchain, "support_problem", lambda torch: None)


def test_quick_skips_compile(ctx):
    """--quick skips torch.compile with the reason."""
    ctx.quick = True
    assert compile_check.check_compile(ctx).status == SKIP


def test_quick_names_a_missing_compiler_torch_compile_would_call(ctx, monkeypatch):
    """pytorch/pytorch#116696: torch.compile in PyTorch's -runtime image, which has no g++, fails with
    InvalidCxxCompiler. --quick runs no compile, but a compiler missing from PATH is a WARN with its install."""
    ctx.quick = True
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    result = compile_check.check_compile(ctx)
    assert result.status == "WARN" and result.summary.startswith("--quick skips torch.compile, which would fail here")
    assert "apt install g++" in result.hint


def test_this_interpreter_is_supported():
    """torch 2.0 supports Python <= 3.10 for torch.compile; later releases support this test matrix."""
    minor = tuple(int(p) for p in torch.__version__.split(".")[:2])
    problem = toolchain.support_problem(torch)
    if minor == (2, 0) and sys.version_info >= (3, 11):
        assert problem.status == FAIL and "3.11" in problem.summary
    else:
        assert problem is None


def test_missing_compiler_fails_before_compiling(ctx, monkeypatch, supported, tmp_path):
    """No C++ compiler on PATH: FAIL saying which compiler to install, without starting a compile."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(compile_check, "run_child", lambda *a: pytest.fail("must not compile"))
    result = compile_check.check_compile(ctx)
    assert result.status == FAIL and "no C++ compiler" in result.summary and "g++" in result.hint


def test_unsupported_platform_is_the_compile_line(ctx, monkeypatch):
    """A platform TorchDynamo refuses (torch 2.0.1's torch/_dynamo/eval_frame.py: "Python 3.11+ not yet supported for
    torch.compile"): the compile line carries the Blocker's status, summary and fix, with what it needs and what this
    machine is."""
    said = "Python 3.11+ not yet supported for torch.compile"
    refused = toolchain.Blocker(status=FAIL, summary=said, fix="use Python 3.10")
    monkeypatch.setattr(toolchain, "support_problem", lambda torch: refused)
    result = compile_check.check_compile(ctx)
    assert (result.status, result.summary, result.hint) == (FAIL, said, "use Python 3.10")
    assert result.expected == "torch.compile supported"
    assert result.actual == "%s, Python %s" % (platform.system(), platform.python_version())


def test_cxx_pointing_nowhere_is_named_where_torch_uses_it(ctx, monkeypatch, supported):
    """$CXX set to a missing compiler: torch 2.1+ calls it (InvalidCxxCompiler), so FAIL naming it; torch 2.0
    ignores $CXX and calls g++, so it is not the cause there."""
    monkeypatch.setenv("CXX", "/opt/nowhere/bin/g++")
    name, path, why = toolchain.cxx_compiler(torch.__version__)
    if torch.__version__.startswith("2.0."):
        assert name == "g++" and why == "torch 2.0 calls g++ and ignores $CXX"
        return
    monkeypatch.setattr(compile_check, "run_child", lambda *a: pytest.fail("must not compile"))
    result = compile_check.check_compile(ctx)
    assert result.status == FAIL and result.summary.startswith("$CXX=/opt/nowhere/bin/g++ points nowhere")
    assert "unset CXX" in result.hint


def test_gpu_compile_needs_a_c_compiler_for_triton(monkeypatch, tmp_path):
    """GPU torch.compile: triton builds its launcher with $CC, gcc or clang; none of them is a FAIL before any
    compile; $CC pointing nowhere is named (triton does not check it)."""
    monkeypatch.setattr(
        toolchain.shutil, "which", lambda name: None if name in ("gcc", "clang") else "/usr/bin/" + name
    )
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.delenv("CXX", raising=False)
    problem = toolchain.toolchain_problem(torch, ("cpu", "cuda"))
    assert (
        problem.status == FAIL and problem.summary == "no C compiler for triton, which builds its GPU launcher with it"
    )
    monkeypatch.setenv("CC", "/opt/nowhere/cc")
    monkeypatch.setattr(toolchain.shutil, "which", lambda name: None if "nowhere" in name else "/usr/bin/" + name)
    assert toolchain.toolchain_problem(torch, ("cuda",)).summary.startswith("$CC=/opt/nowhere/cc points nowhere")
    assert toolchain.toolchain_problem(torch, ("cpu",)) is None


def test_hanging_compile_is_bounded(ctx, monkeypatch, supported):
    """A compile that hangs is stopped at --timeout and reported."""
    monkeypatch.setattr(compile_check, "CHILD", "import time; time.sleep(60)")
    ctx.timeout = 1
    result = compile_check.check_compile(ctx)
    assert result.status == FAIL and "timed out after 1 s" in result.summary


def test_failed_compile_is_diagnosed(ctx, monkeypatch, supported):
    """A compile that dies with a compiler error gets the compiler fix."""
    monkeypatch.setattr(compile_check, "CHILD", "import sys; sys.stderr.write(%r); sys.exit(1)" % DYNAMO_21)
    result = compile_check.check_compile(ctx)
    assert result.status == FAIL
    assert result.summary == (
        "torch.compile on cpu failed: torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised: "
        "InvalidCxxCompiler: No working C++ compiler found in torch._inductor.config.cpp.cxx: (None, 'g++')"
    )
    assert "C++ compiler" in result.hint and "suppress_errors" not in result.actual


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
    assert fix in toolchain.diagnose(output)


@pytest.mark.slow
def test_real_compile_matches_eager(ctx):
    """torch.compile really builds and runs on this CPU, forward and backward, matching eager; where TorchDynamo
    refuses this Python (torch 2.0 on 3.11) that is the FAIL, with the fix, and nothing is compiled."""
    result = compile_check.check_compile(ctx)
    if UNSUPPORTED:
        assert result.status == FAIL and result.summary == UNSUPPORTED.summary and "Python <= 3.10" in result.hint
        return
    assert result.status == PASS, (result.summary, result.actual)


def test_a_compile_failure_of_the_environment_is_handed_to_the_parent(ctx, monkeypatch, supported):
    """An error the compile child raised that no toolchain signature knows carries its text, for the parent to
    judge against its facts (origin.judge); a known toolchain failure keeps its own fix."""
    error = (
        "Traceback (most recent call last):\n"
        '  File "/env/site-packages/torch/_inductor/codecache.py", line 40, in <module>\n'
        "    from filelock import FileLock\n"
        "ModuleNotFoundError: No module named 'filelock'\n"
    )
    monkeypatch.setattr(compile_check.toolchain, "toolchain_problem", lambda torch, devices: None)
    monkeypatch.setattr(compile_check, "run_child", lambda *a: (None, error))
    result = compile_check.check_compile(ctx)
    assert result.status == FAIL and result.data == {"exception": error}
    known = error.replace("No module named 'filelock'", "CppCompileError: C++ compile error")
    monkeypatch.setattr(compile_check, "run_child", lambda *a: (None, known))
    result = compile_check.check_compile(ctx)
    assert result.status == FAIL and "exception" not in result.data and "C++ compiler" in result.hint


def test_too_old_gcc_fails_before_compiling(ctx, monkeypatch, supported, tmp_path):
    """g++ answering as GCC 8.3.0 (GCC's own banner, gcc.c print_version): below the floor of the -std the installed
    torch's inductor passes (c++17: GCC 7 accepts it, so 2.0 compiles; c++20: GCC 10), FAIL naming GCC >= 10."""
    gxx = tmp_path / "g++"
    gxx.write_text("#!/bin/sh\nprintf '%s\\n' 'g++ (GCC) 8.3.0' 'Copyright (C) 2018 Free Software Foundation, Inc.'\n")
    gxx.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CXX", raising=False)
    std = toolchain.inductor_std(os.path.dirname(torch.__file__))
    if std != "c++20":
        assert toolchain.toolchain_problem(torch) is None
        return
    monkeypatch.setattr(compile_check, "run_child", lambda *a: pytest.fail("must not compile"))
    result = compile_check.check_compile(ctx)
    assert result.status == FAIL and result.expected == "GCC >= 10" and "8.3.0" in result.summary
    assert "install a newer GCC (>= 10" in result.hint
