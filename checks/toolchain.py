"""Facts about the toolchain torch.compile needs on this machine: whether TorchDynamo supports this Python and
platform, and which C++ compiler inductor would call. verify judges them; train skips compiled variants by them."""

import os
import platform
import re
import shutil

from checks.report import FAIL, SKIP


def cxx_compiler():
    """Return the C++ compiler torch.compile's CPU backend would use, or None."""
    candidates = [os.environ.get("CXX")] if os.environ.get("CXX") else []
    candidates += ["cl"] if platform.system() == "Windows" else ["g++", "c++", "clang++"]
    for name in candidates:
        path = shutil.which(name)
        if path:
            return path
    return None


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


def compile_blocker(torch):
    """Return why torch.compile cannot run here as (status, summary, expected, actual, fix), or None."""
    problem = support_problem(torch)
    if problem:
        status, reason, fix = problem
        where = "%s, Python %s" % (platform.system(), platform.python_version())
        return status, reason, "torch.compile supported", where, fix
    if cxx_compiler() is None:
        return (
            FAIL,
            "no C++ compiler for inductor's CPU kernels",
            "g++/clang++ on PATH (or $CXX)",
            "none found",
            "install one (Debian/Ubuntu: apt install g++), or use the pixi environment",
        )
    return None


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


def diagnose(output):
    """Return the fix for a failed child compile from its output."""
    for pattern, fix in FAILURE_SIGNATURES:
        if re.search(pattern, output):
            return fix
    return "rerun with TORCH_LOGS=+dynamo for details; report the error"
