"""Facts about the toolchain torch.compile needs on this machine: whether TorchDynamo supports this Python and
platform, the C++ compiler inductor will really call (torch 2.0: g++; later: $CXX when set), and for GPU compile
the C compiler and Python.h triton builds its launcher with. verify judges them; train skips compiled variants by
them."""

import dataclasses
import os
import platform
import re
import shutil
from typing import Optional

from checks import compat
from checks.report import FAIL, SKIP


@dataclasses.dataclass(frozen=True)
class Blocker:
    """Why torch.compile cannot run here: the status its check takes (FAIL; SKIP where torch does not support the
    platform at all), a one-line summary, what it needs (expected) and what is here (actual), and the fix. verify's
    compile line reports it as it is; train skips or fails its compiled variants by it."""

    status: str
    summary: str
    expected: Optional[str] = None
    actual: Optional[str] = None
    fix: Optional[str] = None


def cxx_compiler(torch_version=None):
    """Return (the C++ compiler inductor's CPU backend will call, its path or None, why that one).

    torch 2.0 hard-codes config.cpp.cxx = (None, "g++") and ignores $CXX; from 2.1 $CXX is used when set
    (pytorch/pytorch#94926), else g++ (clang++ on macOS from 2.3; cl on Windows). inductor does not fall back
    from a $CXX that is missing: it fails with InvalidCxxCompiler naming it (torch/_inductor/codecache.py,
    cpp_compiler_search)."""
    minor = compat.minor_key(torch_version or "2.1")
    default = "cl" if platform.system() == "Windows" else "clang++" if platform.system() == "Darwin" else "g++"
    if minor < compat.CXX_FROM_ENV_SINCE:
        default = "g++"
        why = "torch %d.%d calls g++%s" % (minor + (" and ignores $CXX" if os.environ.get("CXX") else "",))
        return default, shutil.which(default), why
    if os.environ.get("CXX"):
        return os.environ["CXX"], shutil.which(os.environ["CXX"]), "$CXX"
    return default, shutil.which(default), "the default (no $CXX)"


def c_compiler():
    """Return (the C compiler triton builds its GPU launcher with, its path or None, why): $CC when set (triton
    does not check it), else gcc, else clang (triton/runtime/build.py, 2.0 to 3.x)."""
    if os.environ.get("CC"):
        return os.environ["CC"], shutil.which(os.environ["CC"]), "$CC"
    for name in ("gcc", "clang"):
        path = shutil.which(name)
        if path:
            return name, path, "on PATH"
    return "gcc", None, "none of $CC, gcc, clang"


def python_headers():
    """Return the path of Python.h that triton's launcher (and inductor's C++ wrapper) include, or None."""
    import sysconfig

    for key in ("include", "platinclude"):
        path = os.path.join(sysconfig.get_paths().get(key) or "", "Python.h")
        if os.path.isfile(path):
            return path
    return None


def toolchain_problem(torch, devices=("cpu",)):
    """Return a Blocker when a compiler torch.compile will call is missing, else None."""
    name, path, why = cxx_compiler(torch.__version__)
    if path is None:
        if why == "$CXX":
            return Blocker(
                status=FAIL,
                summary="$CXX=%s points nowhere: inductor calls it and fails with InvalidCxxCompiler" % name,
                expected="$CXX names an installed C++ compiler",
                actual="not found",
                fix="unset CXX, or point it at g++/clang++",
            )
        return Blocker(
            status=FAIL,
            summary="no C++ compiler for inductor's CPU kernels (%s)" % why,
            expected="%s on PATH" % name,
            actual="none found",
            fix="install one (Debian/Ubuntu: apt install g++), or use the pixi environment (it has cxx-compiler)",
        )
    if "cuda" in devices:
        cc, cc_path, cc_why = c_compiler()
        if cc_path is None:
            summary = ("$CC=%s points nowhere" % cc if cc_why == "$CC" else "no C compiler") + (
                " for triton, which builds its GPU launcher with it"
            )
            return Blocker(
                status=FAIL,
                summary=summary,
                expected="$CC, gcc or clang",
                actual="not found",
                fix="install gcc (Debian/Ubuntu: apt install gcc), or set CC to an installed C compiler",
            )
        if python_headers() is None:
            return Blocker(
                status=FAIL,
                summary="Python.h is missing: triton's GPU launcher includes it",
                expected="Python.h",
                actual="missing",
                fix="install the Python development headers (Debian/Ubuntu: apt install python3-dev)",
            )
    return None


def support_problem(torch):
    """Return why torch.compile cannot run here, as a Blocker without expected and actual, or None if it should."""
    if not hasattr(torch, "compile"):
        return Blocker(
            status=FAIL, summary="this torch has no torch.compile (needs 2.0+)", fix="install torch 2.0 or newer"
        )
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
        return Blocker(status=SKIP, summary="%s (torch %s on Windows)" % (message, torch.__version__))
    return Blocker(
        status=FAIL,
        summary=message,
        fix="use Python <= 3.10 with torch 2.0 (the pixi environments do), or a newer torch",
    )


def compile_blocker(torch, devices=("cpu",)):
    """Return why torch.compile cannot run here as a Blocker, or None."""
    problem = support_problem(torch)
    if problem:
        where = "%s, Python %s" % (platform.system(), platform.python_version())
        return dataclasses.replace(problem, expected="torch.compile supported", actual=where)
    return toolchain_problem(torch, devices)


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


def known_fix(output):
    """Return the fix for a failed child compile whose output matches FAILURE_SIGNATURES, or None."""
    for pattern, fix in FAILURE_SIGNATURES:
        if re.search(pattern, output):
            return fix
    return None


def diagnose(output):
    """Return the fix for a failed child compile from its output."""
    return known_fix(output) or "rerun with TORCH_LOGS=+dynamo for details; report the error"
