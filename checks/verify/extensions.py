"""Verify check for what torch.utils.cpp_extension builds extensions with (toolchain.py's facts): that the module
imports (setuptools 70 against torch < 2.2), the CUDA toolkit's major version against torch's, the host compiler
nvcc would use against the toolkit's supported range, and ninja. A machine without ninja or a toolkit is not at
fault (most never build an extension): the line then says so and SKIPs."""

import contextlib
import io
import os
import warnings

from checks import errors
from checks.machine import system, toolchain
from checks.report import FAIL, PASS, SKIP, WARN, Result


def _age(seconds):
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return "%d %s" % (seconds // size, unit)
    return "%d seconds" % seconds


def check_extensions(ctx):
    """torch.utils.cpp_extension imports, and the ninja and CUDA toolkit it would build with fit this torch."""
    torch = ctx.torch
    if torch is None:
        return Result(name="extensions", status=SKIP, summary="torch did not import")
    stale = system.stale_extension_locks()
    if stale:
        path, age = stale[0]
        name = os.path.basename(os.path.dirname(path))
        return Result(
            name="extensions",
            status=WARN,
            summary="a `lock` left in %s's build folder by an interrupted build (%s old): torch.utils.cpp_extension's "
            "load() of %s waits for it to go, forever" % (name, _age(age), name),
            expected="no lock without a build running",
            actual=path,
            hint="delete it when no build of %s is running: `rm %s`" % (name, path),
            data={"fact": "%s, %d s old" % (path, age)},
        )
    if ctx.quick:  # importing cpp_extension brings setuptools and pkg_resources: 0.2 s of torch 2.0.1's verify --quick
        problem = _chosen_toolkit(torch)
        if problem is not None:
            return problem.result("extensions")
        return Result(name="extensions", status=SKIP, summary="--quick skips the extension-build toolchain")
    torch_dir = os.path.dirname(torch.__file__)
    stderr = io.StringIO()
    try:
        # 2.0 prints "No CUDA runtime is found, using CUDA_HOME=..."; pkg_resources warns that it is deprecated,
        # which `-W error` (pytest's strict settings among them) would turn into a failed import of cpp_extension.
        with contextlib.redirect_stderr(stderr), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import torch.utils.cpp_extension  # noqa: F401
    except Exception as exc:  # an import that fails is the finding
        text = errors.traceback_text(exc)
        problem = toolchain.setuptools_problem(toolchain.setuptools_fact(torch_dir), torch.__version__, text)
        if problem is not None:
            return Result(
                name="extensions",
                status=FAIL,
                summary=problem.summary,
                expected=problem.expected,
                actual="%s (%s)" % (problem.actual, errors.describe(exc)),
                hint=problem.fix,
            )
        return Result(
            name="extensions",
            status=FAIL,
            summary="torch.utils.cpp_extension does not import: %s" % errors.describe(exc),
            expected="it imports",
            actual=errors.describe(exc),
            data={"exception": errors.traceback_text(exc)},  # the parent judges it against its facts
        )
    toolkit = toolchain.cuda_toolkit_fact()
    without_nvcc = toolchain.runtime_only(toolkit, torch.version.cuda)
    if without_nvcc is not None:
        return without_nvcc.result("extensions")
    mismatch = toolchain.toolkit_mismatch(toolkit, torch.version.cuda, torch.__version__, minor=False)
    if mismatch is not None and mismatch.status == SKIP:  # the default toolkit: said, with the fix, not a fault
        return Result(name="extensions", status=SKIP, summary="%s: %s" % (mismatch.summary, mismatch.fix))
    if mismatch is not None:
        return mismatch.result("extensions")
    problem = _toolkit_problem(ctx, toolkit) if torch.version.cuda else None
    if problem is None and torch.version.cuda and toolkit.home is not None:
        problem = toolchain.host_compiler_problem(toolkit, toolchain.host_compiler_fact(), torch.utils.cpp_extension)
    if problem is None:  # an older minor release than torch's: after the problems that name what stops a build
        problem = toolchain.toolkit_mismatch(toolkit, torch.version.cuda, torch.__version__)
    if problem is not None:
        return problem.result("extensions")
    ninja = toolchain.ninja_fact()
    if ninja.path is None or ninja.version is None:
        return Result(
            name="extensions",
            status=SKIP,
            summary="ninja is %s, so torch.utils.cpp_extension.load() (JIT C++/CUDA extensions) would stop with "
            '"Ninja is required to load C++ extensions": `pip install ninja` if you build extensions'
            % ("not on PATH" if ninja.path is None else "at %s but does not answer `--version`" % ninja.path),
        )
    cuda = (
        "CUDA %s toolkit at %s" % (toolkit.release, toolkit.home)
        if toolkit.release
        else "no CUDA toolkit (%s): building a CUDA extension needs one, so install it (conda/pixi `cuda-nvcc` %s) "
        "or set CUDA_HOME to the root of one installed elsewhere" % (toolkit.how, torch.version.cuda)
        if torch.version.cuda
        else "CPU build"
    )
    return Result(name="extensions", status=PASS, summary="cpp_extension imports; ninja %s; %s" % (ninja.version, cuda))


def _chosen_toolkit(torch):
    """--quick's extension judgements, without importing cpp_extension: where a CUDA build runs with a toolkit
    this run is pointed at (toolchain.CHOSEN: $CUDA_HOME, $CUDA_PATH or the nvcc on PATH; not the default
    /usr/local/cuda), its CUDA major against
    torch's (toolkit_mismatch), then the host compiler nvcc would use against the toolkit's own host_config.h (two
    bounded --version calls and one header read). A Blocker or None."""
    if not torch.version.cuda:
        return None
    toolkit = toolchain.cuda_toolkit_fact()
    without_nvcc = toolchain.runtime_only(toolkit, torch.version.cuda)
    if without_nvcc is not None:
        return without_nvcc
    if toolkit.home is None or toolkit.how not in toolchain.CHOSEN:
        return None
    mismatch = toolchain.toolkit_mismatch(toolkit, torch.version.cuda, torch.__version__)
    if mismatch is not None:
        return mismatch
    return toolchain.host_compiler_problem(toolkit, toolchain.host_compiler_fact(), None)


def _gpus(ctx):
    """[(name, (major, minor))] of the visible GPUs as gpu-arch sees them (the probe, else the driver), or []."""
    from checks.verify.arch import devices_seen

    if not hasattr(ctx, "driver") or not hasattr(ctx, "gpu"):
        return []
    return [(name, tuple(cap)) for name, cap, _ in devices_seen(ctx)]


def _toolkit_problem(ctx, toolkit):
    """The toolkit cpp_extension would take judged for a CUDA build: none found while one is installed in a standard
    place (toolchain.missing_toolkit), or an nvcc that does not compile for the architectures cpp_extension asks of
    it (toolchain.arch_problem: TORCH_CUDA_ARCH_LIST, else the GPUs' compute capability). A Blocker or None."""
    from checks.machine import probe

    torch = ctx.torch
    if toolkit.home is None:
        return toolchain.missing_toolkit(toolkit, torch.version.cuda, toolchain.installed_toolkits())
    gpus = _gpus(ctx)
    arch_list = os.environ.get("TORCH_CUDA_ARCH_LIST")
    if not gpus and not arch_list:
        return None
    judge = dict(arch_list=arch_list, torch_arches=probe.arch_list(torch) or (), torch_cuda=torch.version.cuda)
    arches = toolchain.nvcc_arches(toolkit)
    # other toolkits (an nvcc --version each) are looked for only for a problem's fix
    return toolchain.arch_problem(toolkit, arches, gpus, installed=toolchain.installed_toolkits, **judge)
