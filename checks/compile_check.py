"""Verify check for torch.compile: diagnose what would stop it, then compile for real in a child process."""

import json
import platform
import re
import subprocess
import sys

from checks import probe
from checks.report import FAIL, PASS, SKIP, Result

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

# (pattern in the child's output, fix). First match wins.
FAILURE_SIGNATURES = (
    (r"Python\.h: No such file", "install the Python development headers (Debian/Ubuntu: apt install python3-dev)"),
    (
        r"InvalidCxxCompiler|CppCompileError|g\+\+: not found|No such file or directory: 'g\+\+'",
        "install a working C++ compiler (the pixi environments ship cxx-compiler; Debian/Ubuntu: apt install g++)",
    ),
    (
        r"No module named 'triton'|ModuleNotFoundError: .*triton",
        "install Triton for GPU compile (torch 2.0: torchtriton from the pytorch channel; pip: triton==2.0.0)",
    ),
    (
        r"libcuda\.so cannot found|cannot find -lcuda",
        "Triton cannot find libcuda.so: run `ldconfig` or set TRITON_LIBCUDA_PATH",
    ),
    (r"OutOfMemoryError|CUDA out of memory", "free GPU memory (other processes?) and retry"),
    (r"Unsupported|not yet supported", "use a torch/Python combination torch.compile supports (see README)"),
)


def support_problem(torch):
    """Return why torch.compile cannot run here, as (status, reason, fix), or None if it should."""
    if not hasattr(torch, "compile"):
        return FAIL, "this torch has no torch.compile (needs 2.0+)", "install torch 2.0 or newer"
    try:
        import torch._dynamo as dynamo

        if hasattr(dynamo, "is_dynamo_supported"):  # torch >= 2.1
            supported, message = dynamo.is_dynamo_supported(), None
        else:  # torch 2.0 raises with the reason
            dynamo.eval_frame.check_if_dynamo_supported()
            supported, message = True, None
    except RuntimeError as exc:
        supported, message = False, str(exc).splitlines()[0]
    if supported:
        return None
    message = message or "TorchDynamo does not support this platform/Python"
    if platform.system() == "Windows":
        return SKIP, "%s (torch %s on Windows)" % (message, torch.__version__), None
    return FAIL, message, "use Python <= 3.10 with torch 2.0 (the pixi environments do), or a newer torch"


def blocker(torch):
    """Return why torch.compile cannot run here as (status, summary, expected, actual, fix), or None."""
    problem = support_problem(torch)
    if problem:
        status, reason, fix = problem
        where = "%s, Python %s" % (platform.system(), platform.python_version())
        return status, reason, "torch.compile supported", where, fix
    if probe.cxx_compiler() is None:
        return (
            FAIL,
            "no C++ compiler for inductor's CPU kernels",
            "g++/clang++ on PATH (or $CXX)",
            "none found",
            "install one (Debian/Ubuntu: apt install g++), or use the pixi environment",
        )
    return None


def diagnose(output):
    """Return the fix for a failed child compile from its output."""
    for pattern, fix in FAILURE_SIGNATURES:
        if re.search(pattern, output):
            return fix
    return "rerun with TORCH_LOGS=+dynamo for details; report the error"


def run_child(device, timeout):
    """Compile and run in a child; return (result dict or None, error text)."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, device],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            text=True,
        )
    except subprocess.TimeoutExpired:
        return None, "timed out after %g s" % timeout
    for line in proc.stdout.splitlines():
        if line.startswith("COMPILE-RESULT "):
            return json.loads(line[len("COMPILE-RESULT ") :]), ""
    return None, proc.stdout


def check_compile(ctx):
    """torch.compile builds and runs a function and a small model (forward and backward) matching eager."""
    torch = ctx.torch
    if torch is None:
        return Result("compile", SKIP, "torch did not import")
    if ctx.quick:
        return Result("compile", SKIP, "--quick skips torch.compile (tens of seconds)")
    problem = blocker(torch)
    if problem:
        return Result("compile", *problem)
    notes = []
    for device in [d for d in ctx.devices if d != "mps"]:
        result, error = run_child(device, ctx.compile_timeout)
        if result is None:
            last = [line for line in error.strip().splitlines() if line.strip()]
            shown = last[-1] if last else error
            return Result(
                "compile",
                FAIL,
                "torch.compile on %s failed: %s" % (device, shown[:200]),
                "compiled code runs",
                shown[:500],
                diagnose(error),
            )
        tolerance = 1e-4 if device == "cpu" else 1e-3
        if max(result["err_fn"], result["err_model"]) > tolerance or not result["grads_finite"]:
            return Result(
                "compile",
                FAIL,
                "torch.compile on %s differs from eager" % device,
                "max error <= %g" % tolerance,
                "fn %.2g, model %.2g, grads finite %s"
                % (result["err_fn"], result["err_model"], result["grads_finite"]),
                "report it: compiled and eager results must agree",
            )
        notes.append("%s ok in %.1f s" % (device, result["seconds"]))
    return Result("compile", PASS, "inductor: " + "; ".join(notes))
