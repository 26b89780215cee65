"""Verify check for torch.compile: diagnose what would stop it, then compile for real in a child process."""

import json
import os
import sys

from checks import errors
from checks.machine import probe, toolchain
from checks.report import FAIL, PASS, SKIP, WARN, Result

# Runs in a child process: a compile that hangs or crashes the interpreter cannot take verify with it.
CHILD = r"""
import json, sys, time, torch
device = sys.argv[1]
start = time.perf_counter()
def f(x):
    return torch.sin(x) + torch.cos(x)
x = torch.randn(1024, device=device)
err_fn = (torch.compile(f)(x) - f(x)).abs().max().item()
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.GELU(), torch.nn.Linear(32, 4)).to(device)
compiled = torch.compile(model)
y = torch.randn(8, 16, device=device)
out = compiled(y)
err_model = (out - model(y)).abs().max().item()
out.sum().backward()
grads = all(bool(torch.isfinite(p.grad).all()) for p in model.parameters())
print("COMPILE-RESULT " + json.dumps({"err_fn": err_fn, "err_model": err_model, "grads_finite": grads,
                                      "seconds": round(time.perf_counter() - start, 1)}))
"""


def run_child(device, timeout):
    """Compile and run in a child; return (result dict or None, error text)."""
    code, out = probe.run_command([sys.executable, "-c", CHILD, device], timeout)
    if code is None:
        return None, "timed out after %g s" % timeout if "did not answer" in out else out
    for line in out.splitlines():
        if line.startswith("COMPILE-RESULT "):
            return json.loads(line[len("COMPILE-RESULT ") :]), ""
    how = errors.crash(code)
    return None, out + ("\n%s" % how if how else "")


def check_compile(ctx):
    """torch.compile builds and runs a function and a small model (forward and backward) matching eager."""
    torch = ctx.torch
    if torch is None:
        return Result(name="compile", status=SKIP, summary="torch did not import")
    if ctx.quick:  # not run, but a compiler it would call and lacks is named (a WARN: nothing failed yet)
        missing = toolchain.toolchain_problem(torch, ctx.devices, versions=False)  # PATH lookups, no torch._dynamo
        if missing is not None:
            return Result(
                name="compile",
                status=WARN,
                summary="--quick skips torch.compile, which would fail here: %s" % missing.summary,
                expected=missing.expected,
                actual=missing.actual,
                hint=missing.fix,
            )
        return Result(name="compile", status=SKIP, summary="--quick skips torch.compile (tens of seconds)")
    problem = toolchain.compile_blocker(torch, ctx.devices)
    if problem:
        return problem.result("compile")
    notes = []
    for device in [d for d in ctx.devices if d != "mps"]:
        ctx.progress(
            "compile: torch.compile of a function and a small model on %s, in a child process (inductor writes and "
            "builds its kernels: 10-30 s the first time, at most %g s)" % (device, ctx.timeout)
        )
        result, error = run_child(device, ctx.timeout)
        if result is None:
            found = errors.extract(error)
            # a compiler that stopped on inductor's code, and whose version is below what that code needs, is the
            # cause whatever its message (toolchain.judge_compile_failure: the compiler's --version, torch's -std)
            old = toolchain.judge_compile_failure(error, torch.__version__, os.path.dirname(torch.__file__))
            if old is not None:
                return Result(
                    name="compile",
                    status=FAIL,
                    summary="torch.compile on %s failed: %s" % (device, old.summary),
                    expected=old.expected,
                    actual="%s; %s" % (old.actual, found.line),
                    hint=old.fix,
                )
            fix = toolchain.known_fix(error)
            # the child's own failure (an import inside torch.compile, an error of the environment) is judged by the
            # parent against its facts, as any worker FAIL carrying an exception (checks/verify/origin.py judge());
            # a timeout, or a toolchain failure with a known fix, is decided here
            handed = fix is None and not error.startswith("timed out")
            return Result(
                name="compile",
                status=FAIL,
                summary="torch.compile on %s failed: %s" % (device, found.line),
                expected="compiled code runs",
                actual=found.line,
                hint=fix or toolchain.diagnose(error),
                data={"exception": error} if handed else None,
            )
        tolerance = 1e-4 if device == "cpu" else 1e-3
        if max(result["err_fn"], result["err_model"]) > tolerance or not result["grads_finite"]:
            return Result(
                name="compile",
                status=FAIL,
                summary="torch.compile on %s differs from eager" % device,
                expected="max error <= %g" % tolerance,
                actual="fn %.2g, model %.2g, grads finite %s"
                % (result["err_fn"], result["err_model"], result["grads_finite"]),
                hint="report it: compiled and eager results must agree",
            )
        notes.append("%s ok in %.1f s" % (device, result["seconds"]))
    return Result(name="compile", status=PASS, summary="inductor: " + "; ".join(notes))
