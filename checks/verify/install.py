"""Verify checks of what is installed: Python, torch and its libraries, build flavour, CUDA stack, driver, GPUs."""

import functools
import glob
import importlib
import os
import platform
import re
import sys
import traceback
import warnings
from collections.abc import Mapping

from checks import compat
from checks.machine import distributions, gates, probe
from checks.machine.probe import build_flavour
from checks.report import FAIL, PASS, SKIP, WARN, Result, UsageError
from checks.verify import cuda_build
from checks.workspace import promise, versions
from checks.workspace.versions import matches as spec_matches
from checks.workspace.versions import release


def env_hint(ctx):
    """Return the reinstall fix for this environment, in the workspace's own terms."""
    e = ctx.expect
    if e is None:
        return (
            "install the build you need into this Python (pip: `pip install --force-reinstall torch==VERSION "
            "--index-url https://download.pytorch.org/whl/cuXYZ` or `/whl/cpu`)"
        )
    variant = ""
    if e.chosen == "pixi" or len([p for p in e.candidates if p.subdir == e.platform.subdir]) > 1:
        variant = " --platform %s" % e.platform.name
    # `pixi install` alone keeps an environment it believes in sync (a pip install inside it goes unseen): remove
    # it first (`pixi clean -e`, crates/pixi_cli/src/clean.rs@v0.77.0).
    fix = "reinstall the environment: `pixi clean -e %s && pixi install -e %s%s`" % (e.env, e.env, variant)
    needs = isolated_needs(e)
    if needs:  # pixi install stops at that build again: the pypi line's fix comes first
        names = ", ".join('"%s"' % n.package for n in needs)
        fix = (
            "first add `no-build-isolation = [%s]` under [pypi-options] (the pypi line: its isolated build has no "
            "torch, so pixi install stops there), then %s" % (names, fix)
        )
    pip = os.path.join(
        os.path.dirname(os.path.abspath(e.ws.path)), "envs", e.env, e.platform.name + ".requirements.txt"
    )
    if os.path.isfile(pip):
        shown = os.path.relpath(pip)
        shown = pip if shown.startswith("..") else shown  # outside the workspace a path that climbs out misleads
        fix += ", or without pixi: pip install --force-reinstall -r %s" % shown
    return fix


def pinned_torch_python(ctx, actual):
    """The torch the manifest pins (--manifest, or the environment's workspace: a pyproject.toml's PEP 621
    `dependencies`, a pixi workspace's `[pypi-dependencies]`) has no wheel for this Python: pip answers "No matching
    distribution found" and installs nothing (PEP 425: a cpXY wheel installs on CPython X.Y only). Return the FAIL
    naming the Pythons the pinned releases support (compat.TORCH1_PYTHON / PYTHON_SUPPORT, PyPI's files) and the
    releases that do have this Python, or None when the pin has a release for it or the tables do not know it."""
    path = getattr(ctx, "manifest", None) or (ctx.expect.ws.path if ctx.expect else None)
    if not path:
        return None
    from checks.workspace import manifest

    try:
        spec = manifest.pypi_requirement(path, "torch")
    except manifest.ManifestError:
        return None  # the manifest's own problems are reported where it is read for the environment
    if not spec or spec == "*":
        return None
    known, supported = compat.releases_for_python(actual, spec)
    if not known or supported:
        return None
    if ctx.torch is not None and release(ctx.torch.__version__) in known:
        return None  # the pinned release is here after all (built from source, another index): it installed
    ranges = sorted({compat.python_support(v) for v in known}, key=lambda r: versions.key(r[0]))
    low, high = ranges[0][0], max((r[1] for r in ranges), key=versions.key)
    shown = known[0] if len(known) == 1 else "%s to %s" % (known[0], known[-1])
    python = ".".join(actual.split(".")[:2])
    usable = [v for v in compat.TORCH1_PYTHON if compat.releases_for_python(actual, "==" + v)[1]]
    usable += ["2.%d" % m for m in range(compat.NEWEST_TORCH[1] + 1) if compat.python_ok(actual, "2.%d" % m)]
    other = (
        "torch>=%s, the oldest release with Python %s wheels" % (usable[0], python)
        if usable
        else "a torch release built for Python %s" % python
    )
    return Result(
        name="python",
        status=FAIL,
        summary="%s pins torch%s, and torch %s has no wheel for Python %s (its wheels are for Python %s to %s): pip "
        "finds no matching distribution" % (os.path.basename(path), spec, shown, actual, low, high),
        expected="Python %s to %s" % (low, high),
        actual=actual,
        hint="create this environment with Python %s (%s to %s have torch %s wheels), or move the pin in %s to %s"
        % (high, low, high, shown, path, other),
    )


def check_python(ctx):
    """Python is the version the environment pins, one this torch has wheels for, and one its torch.compile accepts
    (so --quick, which skips torch.compile, still says when it cannot run)."""
    actual = platform.python_version()
    want = ctx.expect.python if ctx.expect else None
    if want and not spec_matches(actual, want):
        return Result(
            name="python",
            status=FAIL,
            summary="not the environment's Python",
            expected=want,
            actual=actual,
            hint="run inside the environment: `pixi run -e %s verify`" % ctx.expect.env,
        )
    pinned = pinned_torch_python(ctx, actual)
    if pinned is not None:
        return pinned
    if ctx.torch is None or not compat.known(ctx.torch.__version__):
        return Result(
            name="python",
            status=PASS,
            summary="%s (%s)" % (actual, platform.python_implementation()),
            expected=want,
            actual=actual,
        )
    torch_version = release(ctx.torch.__version__)
    if compat.python_ok(actual, torch_version) is False:
        low, high = compat.PYTHON_SUPPORT[compat.minor_key(torch_version)]
        return Result(
            name="python",
            status=FAIL,
            summary="torch %s has no build for Python %s" % (torch_version, actual),
            expected="%s to %s" % (low, high),
            actual=actual,
            hint="use Python %s to %s, or a torch release built for %s" % (low, high, actual),
        )
    if compat.compile_python_ok(actual, torch_version) is False:
        newest = compat.COMPILE_PYTHON_MAX[compat.minor_key(torch_version)]
        return Result(
            name="python",
            status=WARN,
            summary="torch.compile of torch %s accepts Python up to %s; this is %s" % (torch_version, newest, actual),
            expected="<= %s for torch.compile" % newest,
            actual=actual,
            hint="use Python %s (the pixi environments pin it) or a newer torch" % newest,
        )
    return Result(
        name="python",
        status=PASS,
        summary="%s (%s)" % (actual, platform.python_implementation()),
        expected=want,
        actual=actual,
    )


OLDEST_TORCH = "2.0"  # the README's promise: checks run in any Python with torch >= 2.0


def check_torch(ctx):
    """torch imports and is the version the environment pins."""
    if ctx.torch is None:
        line, meaning, fix, text = ctx.import_error
        return Result(
            name="torch",
            status=FAIL,
            summary=meaning,
            expected="import torch succeeds",
            actual=line,
            hint=fix,
            data={"exception": text},
        )
    torch = ctx.torch
    actual = torch.__version__
    want = ctx.expect.torch if ctx.expect else None
    label = promise.local_without_index(ctx.expect.promise) if ctx.expect else None
    if label:
        return Result(
            name="torch",
            status=FAIL,
            summary="%s asks PyPI for torch%s, a local version (+%s) that pypi.org does not host, and names no PyTorch "
            'index: pixi cannot resolve it ("there is no version of torch%s")'
            % (ctx.expect.describe(), want, label, want),
            expected="torch%s from https://download.pytorch.org/whl/%s" % (want, label),
            actual=actual,
            hint="add the PyTorch index to the workspace: `[pypi-options] extra-index-urls = "
            '["https://download.pytorch.org/whl/%s"]` (pyproject.toml: `[tool.pixi.pypi-options]`), or give torch '
            'its own: `torch = { version = "%s", index = "https://download.pytorch.org/whl/%s" }`; then `pixi install`'
            % (label, want, label),
            data={"fact": "torch%s with indexes %s" % (want, ", ".join(ctx.expect.ws.pypi_indexes(ctx.expect.env)))},
        )
    if want and not spec_matches(release(actual), want):
        return Result(
            name="torch",
            status=FAIL,
            summary="wrong torch version for %s" % ctx.expect.describe(),
            expected=want,
            actual=actual,
            hint=env_hint(ctx),
        )
    if compat.version_key(release(actual)) < compat.version_key(OLDEST_TORCH):
        return Result(
            name="torch",
            status=WARN,
            summary="torch %s predates %s, the oldest release these checks support: code written for torch 2.x "
            "(torch.compile, F.scaled_dot_product_attention and what uses them) does not run on it"
            % (actual, OLDEST_TORCH),
            expected="torch >= %s" % OLDEST_TORCH,
            actual=actual,
            hint='upgrade torch with its torchvision and torchaudio: `python -m pip install -U "torch>=%s"` (or the '
            "pixi environment of the release you need)" % OLDEST_TORCH,
            data={"fact": "torch %s < %s" % (actual, OLDEST_TORCH)},
        )
    if not compat.known(actual):
        return Result(
            name="torch",
            status=WARN,
            summary="%s is newer than this check's tables (they end at torch %d.%d): its Python, pairing and compile "
            "limits are not judged" % ((actual,) + compat.NEWEST_TORCH),
            expected="torch <= %d.%d" % compat.NEWEST_TORCH,
            actual=actual,
            hint="update checks/compat.py (NEWEST_TORCH and its tables) from the new release",
        )
    if getattr(torch.version, "debug", False):
        return Result(
            name="torch",
            status=WARN,
            summary="%s is a debug build (slow)" % actual,
            expected="a release build",
            actual="debug build",
            hint="install a release build of torch",
        )
    return Result(
        name="torch",
        status=PASS,
        summary="%s (git %s)" % (actual, str(torch.version.git_version)[:10]),
        expected=want,
        actual=actual,
    )


def declared_modules(torch_file, path=None):
    """Return [(project, [top-level module, ...])] of what torch's .dist-info declares (Requires-Dist whose marker
    holds here, extras not requested skipped; without `packaging` only the unconditional ones) and is installed on
    `path` (default sys.path); [] when torch has no .dist-info (a source checkout)."""
    from checks.machine import requirements

    torch = distributions.owner(torch_file)
    if torch is None:
        return []
    try:
        from packaging.requirements import InvalidRequirement
        from packaging.requirements import Requirement as Parsed
    except ImportError:
        Parsed = None
    installed = requirements.pip_installed(list(sys.path if path is None else path))
    out = []
    for text in torch.requires:
        if Parsed is not None:
            try:
                parsed = Parsed(text)
                if parsed.marker is not None and not parsed.marker.evaluate({"extra": ""}):
                    continue
                name = parsed.name
            except (InvalidRequirement, ValueError):
                continue
        elif ";" in text:
            continue
        else:
            name = distributions.required_project(text) or ""
        have = installed.get(distributions.canonical(name))
        if have is None:  # not installed: the requirements check names it
            continue
        info = os.path.dirname(have[1])
        out.append((name, [m for m in distributions.top_level_names(info, name) if not m.startswith("_")]))
    return out


# The first failure of an import of each module in this process: a second import of a module whose first import
# failed half-way runs its modules again over the ones that stayed in sys.modules (lm-eval 0.4.2's registry then
# refuses its own names twice: "aggregation named 'bypass' conflicts"), which the code never meets
FIRST_FAILURES = {}


def import_failure(name, what, expected, load, module=None):
    """Run `load()` (an import) with its warnings silenced (a deprecation notice of an import is not a failure);
    return None, or the FAIL of line `name` for the exception it raised, SystemExit included: summary `what: Type:
    message`, the traceback in data.exception for the parent to judge against its facts. `module`: the module
    imported; once an import of it failed, later ones are not run again and report that first failure
    (FIRST_FAILURES). Another module of the same package is imported anew: it may fail on its own (a package's
    submodule that needs one more package)."""
    first = FIRST_FAILURES.get(module) if module is not None else None
    if first is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                load()
            return None
        except (Exception, SystemExit) as exc:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-20000:]
            first = (text, "%s: %s" % (type(exc).__name__, str(exc).splitlines()[0] if str(exc) else ""))
            if module is not None:
                FIRST_FAILURES[module] = first
    text, line = first
    return Result(
        name=name,
        status=FAIL,
        summary="%s: %s" % (what, line),
        expected=expected,
        actual=line,
        hint="not judged yet",
        data={"exception": text},
    )


def check_dependencies(ctx):
    """The packages torch declares import. torch imports several only when a feature needs them, and some of those
    imports swallow the ImportError (inductor's jinja2 templates: torch/_inductor/codegen/common.py jinja2_env()
    returns None): a declared dependency that is installed but does not import (two packages' releases that do not
    fit, a stale copy outside the environment) breaks a feature later, without its cause. A FAIL carries the
    exception, which the parent judges against its facts (checks/verify/origin.py judge())."""
    if ctx.torch is None:
        return Result(name="dependencies", status=SKIP, summary="torch did not import")
    if ctx.quick:  # sympy, networkx, jinja2 and the rest: more than --quick's whole budget over `import torch`
        return Result(name="dependencies", status=SKIP, summary="--quick skips importing what torch declares")
    declared = declared_modules(ctx.torch.__file__)
    if not declared:
        return Result(name="dependencies", status=SKIP, summary="no pip metadata beside torch to read")
    done = []
    for project, modules in declared:
        for module in modules:
            failed = import_failure(
                "dependencies",
                "%s, which torch %s declares, does not import" % (module, ctx.torch.__version__),
                "import %s succeeds" % module,
                lambda module=module: importlib.import_module(module),
            )
            if failed is not None:  # the package's own failure, judged by the parent
                return failed
        done.append(project)
    return Result(
        name="dependencies",
        status=PASS,
        summary="%d declared by torch import: %s" % (len(done), ", ".join(done)),
    )


BUILT_ON = ("torch", "torchvision", "torchaudio")
DEPENDENTS_LIMIT = 24  # packages imported at most (sorted by name; the rest named as not tried)
DEPENDENTS_BUDGET = 30.0  # seconds of imports before the rest are left untried (a check's own timeout still holds)
DEPENDENTS_READ_BUDGET = 5.0  # seconds of reading their core for torch names this torch lacks (checks/verify/api.py)
# --quick imports them too, for fewer seconds: a package that does not import is what its user meets first
# (`import botorch` under a gpytorch that removed a name it imports); those left are read as text instead
QUICK_DEPENDENTS_BUDGET = 4.0


def dependent_modules(path=None, skip=()):
    """Return [(project, version, [top-level module, ...], METADATA path)] of the installed distributions (on
    `path`, default sys.path) whose Requires-Dist names torch, torchvision or torchaudio under any marker, extras
    included (the packages built on torch: transformers declares it as an extra, flash-attn and xformers outright),
    sorted by name; torch, torchvision and torchaudio themselves are verify's own lines, and projects in `skip`
    (canonical names: what torch itself requires, which the dependencies line imports; triton 2.0 requires torch in
    turn)."""
    return [d for d in _built_on_torch(tuple(sys.path if path is None else path)) if d[0] not in skip]


@functools.lru_cache(maxsize=4)
def _built_on_torch(entries):
    """dependent_modules() of the sys.path `entries`, read once per process (the dependents and project lines both
    ask)."""
    from checks.machine import distributions, requirements

    out = []
    for name, (version, metadata) in sorted(requirements.pip_installed(list(entries)).items()):
        if name in BUILT_ON:
            continue
        modules = [m for m in distributions.top_level_names(os.path.dirname(metadata), name) if not m.startswith("_")]
        if modules and (
            _declares_torch(metadata) or _imports_torch(os.path.dirname(os.path.dirname(metadata)), modules)
        ):
            out.append((name, version, modules, metadata))
    return tuple(out)


def _declares_torch(metadata):
    """True when the METADATA file's Requires-Dist names torch, torchvision or torchaudio (any marker or extra)."""
    from checks.machine import distributions, requirements

    return bool({distributions.required_project(t) for t in requirements.requires_dist(metadata)} & set(BUILT_ON))


TORCH_IMPORT = re.compile(rb"^(?:import torch\b|from torch\b)", re.M)  # at module level, not an optional import


def _imports_torch(entry, modules, files=8, head=16 << 10):
    """True when the top-level `*.py` files of a distribution's first package (at most `files`, their first `head`
    bytes) import torch: a package built on torch that does not declare it (bitsandbytes 0.39's functional.py does
    `import torch`, its METADATA requires nothing; mmcv-full's wheels declare no torch either)."""
    folder = os.path.join(entry, modules[0])
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".py"))[:files]
    except OSError:
        return False
    for name in names:
        try:
            with open(os.path.join(folder, name), "rb") as handle:
                if TORCH_IMPORT.search(handle.read(head)):
                    return True
        except OSError:
            continue
    return False


def compiled_files(metadata, limit=2000):
    """Return the paths of the shared objects (.so, .pyd) a distribution's RECORD lists (PEP 376; paths relative to
    the folder holding its .dist-info), at most `limit` RECORD lines read."""
    info = os.path.dirname(metadata)
    paths = [path for path, _, _ in distributions.record_rows(info, limit)]
    entry = os.path.dirname(info)
    return [os.path.join(entry, p) for p in paths if re.search(r"\.(so(\.[\d.]+)?|pyd)$", p) and ".." not in p]


def absent_torch_library(found, torch):
    """Return (project, version, module file, library) of the first compiled module of the packages in `found`
    (dependent_modules) whose DT_NEEDED names one of torch's libraries (libc10*, libtorch*, libshm) that this torch's
    lib folder lacks, read from the ELF files without loading them; None when there is none."""
    from checks.diagnosis.model import TORCH_LIBRARY
    from checks.machine import loader

    lib_dir = os.path.join(os.path.dirname(torch.__file__), "lib")
    for project, version, _, metadata in found:
        compiled = compiled_files(metadata)
        own = {os.path.basename(p) for p in compiled}  # libraries the package ships itself
        for path in compiled[:64]:
            dynamic = loader.dynamic(path)
            for name in dynamic.needed if dynamic is not None else ():
                if TORCH_LIBRARY.match(name) and not os.path.exists(os.path.join(lib_dir, name)):
                    # a library of the package's own (torchtext's lib/libtorchtext.so, which its RECORD lists and
                    # its _extension.py loads before _torchtext.so; or one its run path $ORIGIN/lib finds) is not
                    # torch's, whatever its name
                    if name in own or loader.resolve(name, path, environment=sys.prefix).path is not None:
                        continue
                    return project, version, path, name
    return None


def _declared_torch(found, project):
    """The version specs (`>=2.1.0`) `project`'s Requires-Dist gives torch, without markers, for the fix's command."""
    from checks.machine import distributions, requirements

    for name, _, _, metadata in found:
        if name != project:
            continue
        for text in requirements.requires_dist(metadata):
            if distributions.required_project(text) == "torch":
                spec = text.split(";")[0][len("torch") :].strip().strip("()").replace(" ", "")
                if spec and spec[0] in "<>=!~":
                    yield spec


def absent_nvidia_library(found, torch):
    """Return (project, version, module file, library) of the first compiled module of the packages in `found`
    (dependent_modules) whose DT_NEEDED names a library of NVIDIA's CUDA stack (loader.NVIDIA_LIBRARY: libcudart.so.12,
    libcublas.so.12, ...) that the loader finds nowhere (loader.resolve: LD_PRELOAD, its DT_RPATH, LD_LIBRARY_PATH, its
    DT_RUNPATH, ld.so.cache, the default folders) and no pip `nvidia-*` wheel's lib folder holds: a package built for
    another CUDA than this torch's (vllm 0.2.2's wheel, built for CUDA 12.1, needs libcudart.so.12; torch 2.0.1+cu117
    brings libcudart.so.11.0: vllm-project/vllm#1718). Only Python extension modules are read (an importable name,
    not `lib*`): a plain library beside them may be one of several a package picks from at run time by torch's CUDA
    (bitsandbytes ships libbitsandbytes_cuda118.so to _cuda123.so and loads one with ctypes). Read from the ELF files
    without loading them; None when every one is found."""
    from checks.machine import loader

    environment = sys.prefix
    torch_dir = os.path.dirname(torch.__file__)
    wheels = os.path.join(os.path.dirname(torch_dir), "nvidia")
    for project, version, _, metadata in found:
        for path in compiled_files(metadata)[:64]:
            stem = os.path.basename(path).split(".")[0]
            if not stem.isidentifier() or stem.startswith("lib"):
                continue
            dynamic = loader.dynamic(path)
            for name in dynamic.needed if dynamic is not None else ():
                if not loader.NVIDIA_LIBRARY.search(name) or name.startswith("libcuda.so"):
                    continue  # libcuda.so.1 is the driver's, judged by the driver and gpu lines
                if glob.glob(os.path.join(glob.escape(wheels), "*", "lib", name)):
                    continue
                if loader.resolve(name, path, environment=environment, torch_dir=torch_dir).path is None:
                    return project, version, path, name
    return None


# torch's companions, whose compiled modules verify's own lines judge; torch's own top-level packages are read from
# its distribution (_own_compiled: torch 2.0's wheel also installs functorch/, torchgen/ and nvfuser/)
OWN_COMPILED = ("torch", "torchvision", "torchaudio", "triton", "nvidia")


def _own_compiled():
    """OWN_COMPILED and the top-level packages the installed torch distribution lays down (its top_level.txt or
    RECORD)."""
    torch = distributions.find("torch")
    return set(OWN_COMPILED) | set(distributions.top_level_names(torch.info, torch.name) if torch else ())


def installed_extensions(limit=200):
    """The compiled modules of installed packages other than torch's own (OWN_COMPILED) one or two folders deep in
    the folders on sys.path (site-packages, PYTHONPATH entries; not the standard library's nor the working
    directory, the project line's), at most `limit`: the packages that link torch whether or not their metadata
    declares it (mmcv-full's wheels declare no torch)."""
    import sysconfig

    stdlib = {os.path.realpath(p) for p in (sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")) if p}
    here = os.path.realpath(os.getcwd())
    entries = [
        p
        for p in dict.fromkeys(e for e in sys.path if isinstance(e, str) and e)
        if os.path.isdir(p) and os.path.realpath(p) not in stdlib | {here} and os.path.basename(p) != "lib-dynload"
    ]
    own, found = _own_compiled(), []
    for entry in entries:
        for pattern in ("*/*.so", "*/*/*.so"):
            for path in sorted(glob.glob(os.path.join(glob.escape(entry), pattern))):
                top = os.path.relpath(path, entry).split(os.sep)[0]
                if top in own or top.endswith((".libs", ".dist-info", ".data")):
                    continue
                found.append(path)
                if len(found) >= limit:
                    return found
    return found


# the ELF sections nvcc writes a module's device code (fat binary) and its registration descriptor to: a library with
# CUDA kernels has them (torch 2.0.1+cu117's libtorch_cuda.so does, its libc10.so does not)
CUDA_CODE = (".nv_fatbin", ".nvFatBinSegment")
TORCH_CUDA_LIBRARY = re.compile(r"^lib(?:torch_cuda\w*|c10_cuda)\.so")
PACKAGE_FILES = 2000  # files of one package walked for its compiled libraries
# where projects publish the CUDA builds of their torch extensions ({torch}: torch's release, 2.0.1; {minor}: its
# major.minor, 2.0; {cu}: its CUDA tag, cu117), by canonical distribution name. PyG's installation page
# (`pip install torch-scatter -f https://data.pyg.org/whl/torch-${TORCH}+${CUDA}.html`); DGL's start page for 1.x
# (`pip install dgl -f https://data.dgl.ai/wheels/cu117/repo.html`); mmcv's installation page (`pip install mmcv -f
# https://download.openmmlab.com/mmcv/dist/cu117/torch2.0/index.html`).
CUDA_BUILD_INDEX = {
    "dgl": "https://data.dgl.ai/wheels/{cu}/repo.html",
    "mmcv": "https://download.openmmlab.com/mmcv/dist/{cu}/torch{minor}/index.html",
    "mmcv-full": "https://download.openmmlab.com/mmcv/dist/{cu}/torch{minor}/index.html",
    "pyg-lib": "https://data.pyg.org/whl/torch-{torch}+{cu}.html",
    "torch-cluster": "https://data.pyg.org/whl/torch-{torch}+{cu}.html",
    "torch-scatter": "https://data.pyg.org/whl/torch-{torch}+{cu}.html",
    "torch-sparse": "https://data.pyg.org/whl/torch-{torch}+{cu}.html",
    "torch-spline-conv": "https://data.pyg.org/whl/torch-{torch}+{cu}.html",
}


def _package_folder(path):
    """The top-level package folder of the installed file `path`: its first folder below the sys.path entry that
    holds it (the longest one), else its own folder."""
    entries = sorted((e for e in sys.path if isinstance(e, str) and e), key=len, reverse=True)
    for entry in entries:
        entry = os.path.abspath(entry)
        if path.startswith(entry + os.sep):
            return os.path.join(entry, os.path.relpath(path, entry).split(os.sep)[0])
    return os.path.dirname(path)


def _carries_cuda(path):
    """True when the ELF file at `path` holds CUDA device code (CUDA_CODE sections) or links a CUDA library
    (NVIDIA_LIBRARY, libcuda.so.1 included) or torch's CUDA libraries (TORCH_CUDA_LIBRARY)."""
    from checks.machine import loader

    if set(loader.section_names(path) or ()) & set(CUDA_CODE):
        return True
    dynamic = loader.dynamic(path)
    return any(
        loader.NVIDIA_LIBRARY.search(n) or TORCH_CUDA_LIBRARY.match(n) for n in (dynamic.needed if dynamic else ())
    )


def cpu_only_build(paths):
    """(package folder, a compiled module of it that links torch) for the first package among the compiled modules
    `paths` (installed_extensions) that links torch's libraries while none of its compiled files (every `.so` under
    its folder, PACKAGE_FILES files walked) carries CUDA (_carries_cuda): a build made without CUDA, whose operators
    on CUDA tensors fail ("Not compiled with GPU support", DGL's "Device API cuda is not enabled"). Read from the
    ELF files without loading them; None when there is none."""
    from checks.diagnosis.model import TORCH_LIBRARY
    from checks.machine import loader
    from checks.machine.project import package_walk

    judged = set()
    for path in paths:
        folder = _package_folder(path)
        dynamic = loader.dynamic(path)
        if folder in judged or not any(TORCH_LIBRARY.match(n) for n in (dynamic.needed if dynamic else ())):
            continue
        judged.add(folder)
        compiled = [f for f in package_walk(folder, PACKAGE_FILES) if re.search(r"\.so(\.[\d.]+)?$", f)]
        if not any(_carries_cuda(f) for f in compiled):
            return folder, path
    return None


def _cuda_build_fix(project, torch_version, cuda):
    """The install command of `project`'s build for this torch (`torch_version`, 2.0.1+cu117) and CUDA (11.7): from
    its project's index (CUDA_BUILD_INDEX), else a source build with CUDA forced on."""
    from checks.machine import distributions

    release = torch_version.split("+")[0]
    tag = "cu" + cuda.replace(".", "")
    index = CUDA_BUILD_INDEX.get(distributions.canonical(project))
    if index:
        url = index.format(torch=release, minor=".".join(release.split(".")[:2]), cu=tag)
        return "`python -m pip install --force-reinstall %s -f %s` (%s's CUDA %s builds for torch %s)" % (
            project, url, project, cuda, release)  # fmt: skip
    return (
        "install %s's CUDA %s build for torch %s from its project's wheel index, or build it here against this torch: "
        "`FORCE_CUDA=1 python -m pip install --no-build-isolation --no-cache-dir --force-reinstall %s` (FORCE_CUDA "
        "is what detectron2's, mmcv's and PyG's setup.py read to build CUDA kernels)"
        % (project, cuda, release, project)
    )


def check_dependents(ctx):
    """The installed packages built on torch import (dependent_modules): their compiled parts are built against one
    torch release and their Python against its API, so a package that does not fit this torch fails at its import
    (flash-attn's undefined symbol, a torchvision-style operator library, a removed torch name), which a user meets
    at their first `import`, not at verify's. First their compiled modules' DT_NEEDED are read, `--quick` included
    (absent_torch_library: nothing is loaded): one linking a torch library this torch lacks FAILs with its verdict. A
    failed import carries the exception for the parent to judge. Imports stop after DEPENDENTS_BUDGET seconds or
    DEPENDENTS_LIMIT packages, and the line names the rest. Then (in `--quick` instead of the imports) their core
    code is read for torch names and keywords this torch lacks (api.package_gap, DEPENDENTS_READ_BUDGET seconds): a
    WARN with the release, as such a use fails only when reached."""
    if ctx.torch is None:
        return Result(name="dependents", status=SKIP, summary="torch did not import")
    import time

    from checks.machine import distributions

    torch_file = getattr(ctx.torch, "__file__", None)
    extensions = installed_extensions() if torch_file else []
    if torch_file:  # any installed package's module linking torch, declared or not: built for this torch?
        from checks.diagnosis.symbols import stale_extension_cause, stale_extensions

        stale = stale_extensions(extensions, os.path.dirname(torch_file), torch_version=ctx.torch.__version__)
        if stale is not None:
            cause = stale_extension_cause(stale[0], stale[1], ctx.torch.__version__, os.path.dirname(torch_file))
            return Result(
                name="dependents",
                status=FAIL,
                summary=cause.meaning,
                expected="%s defined by torch %s" % (stale[1], ctx.torch.__version__),
                actual="not defined",
                hint=cause.fix,
                data={"fact": cause.fact, "recognised": True},
            )
    cuda = getattr(getattr(ctx.torch, "version", None), "cuda", None)
    driver = getattr(ctx, "driver", None) or {}
    cpu_only = cpu_only_build(extensions) if cuda and driver.get("present") else None
    if cpu_only is not None:
        folder, path = cpu_only
        owner = distributions.owner(path)
        project, made = (owner.name, owner.version) if owner is not None else (os.path.basename(folder), "")
        return Result(
            name="dependents",
            status=WARN,
            summary="%s %s is a CPU-only build: its compiled modules link torch (%s) but none carries CUDA device code "
            "or links a CUDA library, while torch %s is a CUDA %s build on a machine with an NVIDIA driver: %s's "
            "operations on CUDA tensors fail (not compiled with GPU support)"
            % (project, made, os.path.basename(path), ctx.torch.__version__, cuda, project),
            expected="%s built with CUDA %s" % (project, cuda),
            actual="built without CUDA",
            hint=_cuda_build_fix(project, ctx.torch.__version__, cuda),
            data={"fact": "no %s section and no CUDA library in %s's compiled files" % ("/".join(CUDA_CODE), folder)},
        )
    own = distributions.owner(ctx.torch.__file__)
    required = {distributions.required_project(t) for t in (own.requires if own is not None else ())}
    found = dependent_modules(skip=required)
    if not found:
        return Result(name="dependents", status=SKIP, summary="no other installed package requires torch")
    absent = absent_torch_library(found, ctx.torch)
    if absent is not None:
        from checks.diagnosis.symbols import torch_library_absent

        project, version, path, name = absent
        cause = torch_library_absent(name, project, version, os.path.dirname(ctx.torch.__file__), ctx.torch.__version__)
        return Result(
            name="dependents",
            status=FAIL,
            summary="%s (%s links %s)" % (cause.meaning, os.path.basename(path), name),
            expected="%s in torch's lib folder" % name,
            actual="absent",
            hint=cause.fix,
            data={"fact": cause.fact, "recognised": True},
        )
    from checks.verify import api

    cuda = getattr(getattr(ctx.torch, "version", None), "cuda", None)
    missing = absent_nvidia_library(found, ctx.torch) if cuda else None
    if missing is not None:
        project, made, path, name = missing
        from checks.diagnosis.libraries import cuda_of_soname

        needs = "CUDA %s" % cuda_of_soname(name) if cuda_of_soname(name) else "another CUDA"
        torch_pin = next((r for r in _declared_torch(found, project)), "")
        return Result(
            name="dependents",
            status=FAIL,
            summary="%s %s was built for %s: %s needs %s, which nothing here provides (torch %s is a CUDA %s build), "
            'so `import` of it fails with "%s: cannot open shared object file"'
            % (project, made, needs, os.path.basename(path), name, ctx.torch.__version__, cuda, name),
            expected="%s found by the loader" % name,
            actual="not found",
            hint='install the %s release built for this torch (`python -m pip install "%s" "torch==%s"`), or the torch '
            "it was built for with its torchvision and torchaudio%s"
            % (
                project,
                project,
                ctx.torch.__version__.split("+")[0],
                ' (`python -m pip install "torch%s"`, a %s build)' % (torch_pin, needs)
                if torch_pin
                else " (a %s build)" % needs,
            ),
            data={
                "fact": "%s DT_NEEDED %s; not found by the loader" % (os.path.basename(path), name),
                "recognised": True,
            },
        )
    version = ctx.torch.__version__.split("+")[0]
    folders = []  # (project, version, package folder): where a package decides whether to use torch (gates.py)
    for project, made, modules, metadata in found:
        entry = os.path.dirname(os.path.dirname(metadata))
        folders += [(project, made, os.path.join(entry, m)) for m in modules if os.path.isdir(os.path.join(entry, m))]
    gate = api.gate_result("dependents", folders, version)
    if gate is not None:
        return gate
    takeover = gates.slurm_takeover(list(dict.fromkeys(os.path.dirname(f) for _, _, f in folders)), os.environ)
    if takeover is not None:
        return Result(
            name="dependents",
            status=WARN,
            summary="%s will take this shell for a Slurm job step of %d task%s per node (SLURM_NTASKS set; job name "
            "%r is not one it treats as interactive: %s), so it launches no processes of its own and trains on %d of "
            "this node's %d GPUs"
            % (
                takeover.package,
                takeover.tasks,
                "" if takeover.tasks == 1 else "s",
                takeover.job_name,
                "/".join(takeover.interactive),
                takeover.tasks,
                takeover.devices,
            ),
            expected="%d processes, one a GPU" % takeover.devices,
            actual="%d (SLURM_NTASKS)" % takeover.tasks,
            hint="start one task a GPU (`srun --ntasks-per-node=%d python train.py`, `#SBATCH --ntasks-per-node=%d`), "
            "or, in an interactive shell, name the job interactive (`srun --job-name=interactive ...`, or `export "
            "SLURM_JOB_NAME=interactive` here) so that Lightning starts the processes itself"
            % (
                takeover.devices,
                takeover.devices,
            ),
            data={
                "fact": "SLURM_NTASKS=%s, SLURM_JOB_NAME=%s, %d GPUs; %s"
                % (os.environ.get("SLURM_NTASKS"), takeover.job_name, takeover.devices, takeover.file)
            },
        )
    start, done = time.monotonic(), []
    budget = QUICK_DEPENDENTS_BUDGET if ctx.quick else DEPENDENTS_BUDGET
    undeclared = {p for p, _, _, metadata in found if not _declares_torch(metadata)}  # built on torch by their code
    for project, made, modules, _ in found[:DEPENDENTS_LIMIT]:
        if time.monotonic() - start > budget:
            break
        for module in modules:
            failed = import_failure(
                "dependents",
                "%s %s, which %s torch, does not import with torch %s"
                % (project, made, "imports" if project in undeclared else "requires", ctx.torch.__version__),
                "import %s succeeds" % module,
                lambda module=module: importlib.import_module(module),
                module=module,
            )
            if failed is not None:
                return failed
        done.append("%s %s" % (project, made))
    untried = [p for p, _, _, _ in found[len(done) :]]
    loaded = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
    # those imported: the files the imports loaded; those left untried (--quick's shorter budget): their core
    packages = [(p, v, modules) for p, v, modules, _ in found[: len(done)]]
    gap = api.package_gap(ctx.torch, version, packages, time.monotonic() + DEPENDENTS_READ_BUDGET, loaded)
    if gap is None and untried:
        rest = [(p, v, modules) for p, v, modules, _ in found[len(done) :]]
        gap = api.package_gap(ctx.torch, version, rest, time.monotonic() + DEPENDENTS_READ_BUDGET)
    drift = package_import_gap(
        [(p, v, modules) for p, v, modules, _ in found], time.monotonic() + DEPENDENTS_READ_BUDGET, loaded
    )
    if drift is not None:
        from checks.diagnosis.installed import release_lacks_name

        project, made, path, item, name, source = drift
        provider = distributions.owner(source)
        if provider is not None:
            who = "%s %s's %s:%d" % (project, made, os.path.basename(path), item.line)
            caller = distributions.owner(path)
            cause = release_lacks_name(provider, item.module, name, source, who, caller=caller, caller_file=path)
            return Result(
                name="dependents",
                status=WARN,
                summary="%s imports %s from %s, which %s %s does not define: importing that module fails. %s"
                % (who, name, item.module, provider.name, provider.version, cause.meaning),
                expected="%s.%s in %s %s" % (item.module, name, provider.name, provider.version),
                actual="absent",
                hint="%s; or install the %s release written for %s %s"
                % (cause.fix, project, provider.name, provider.version),  # fmt: skip
                data={"fact": cause.fact},
            )
    if gap is not None:
        return api.gap_result("dependents", gap, version)
    return Result(
        name="dependents",
        status=PASS,
        summary="%d built on torch import: %s%s"
        % (len(done), ", ".join(done), "; not tried (time or count limit): %s" % ", ".join(untried) if untried else ""),
    )


SKIP_SUBFOLDERS = ("tests", "test", "examples", "docs", "benchmarks", "scripts")  # not what the package runs


def _imports_another(path, top, limit=1 << 20):
    """True when the file at `path` has an import line whose top-level module is neither `top` nor torch nor the
    standard library's (project_facts.import_tops, read as text, `limit` bytes)."""
    from checks.machine import project as project_facts

    try:
        with open(path, "rb") as handle:
            text = handle.read(limit)
    except OSError:
        return False
    return any(t not in (top, "torch") and not project_facts.is_stdlib(t) for t in project_facts.import_tops(text))


def package_import_gap(packages, deadline, loaded=()):
    """(project, version, file, Import, name, provider's source) of the first absolute `from M import name` in the
    files of the installed `packages` (project_facts.package_files, top-level modules and those loaded, of every
    package first; then the rest of each, PACKAGE_FILES at most, tests and examples left out, those that import
    another package)
    ([(project, version, [top-level module, ...])]) whose provider M (another package: not the importer's own, not
    torch's, not the standard library's) is installed while its source defines no `name` (installed._defines,
    project_facts.may_define): importing that file fails, at whatever point the package imports it (tldream
    0.6.1's util.py: `from diffusers.utils import DIFFUSERS_CACHE`, which diffusers 0.25 removed; tldream imports it
    only when its server starts; Sanster/tldream#5). Imports under `try:` are not read. Read, never imported; None
    at `deadline` (time.monotonic())."""
    import time as _time

    from checks.diagnosis.installed import MAX_SOURCE, defines_text
    from checks.machine import project as project_facts
    from checks.verify import api

    sources = {}  # module source path: its text, each read once

    def lacks(source, name):
        if source not in sources:
            try:
                with open(source, "rb") as handle:
                    sources[source] = handle.read(MAX_SOURCE)
            except OSError:
                sources[source] = None
        text = sources[source]
        return (
            text is not None and not defines_text(text, name) and not project_facts.may_define_text(source, text, name)
        )

    folders = []  # (project, version, top-level module, its folder)
    for project, made, modules in packages:
        for top in modules:
            found = list(getattr(api._find(top), "submodule_search_locations", None) or ())
            folders += [(project, made, top, found[0])] if found else []
    for deep in (False, True):  # every package's core files first, then the rest of each
        for project, made, top, folder in folders:
            first = project_facts.package_files(folder, loaded)
            if deep:
                paths = [f for f in project_facts.package_walk(folder, PACKAGE_FILES, skip=SKIP_SUBFOLDERS)
                         if f.endswith(".py") and f not in first]  # fmt: skip
            else:
                paths = first
            for path in paths:
                if _time.monotonic() > deadline:
                    return None
                if deep and not _imports_another(path, top):
                    continue  # the text sieve: only files with an absolute import of another package are parsed
                for item in project_facts.imports_of(path):
                    if item.top in (top, "torch") or project_facts.is_stdlib(item.top):
                        continue
                    source = project_facts.module_source(item.module) if item.names else None
                    for name in item.names if source else ():
                        if lacks(source, name) and not _bound_at_run_time(item.module, name):
                            return project, made, path, item, name, source
    return None


def _bound_at_run_time(module, name):
    """True when `module`, imported (it is installed: its source was read), has `name`: a name its code binds at run
    time, which no reading of its source finds (torchaudio 2.0's __init__.py sets `load` through backend.utils'
    _init_backend). Only asked once the source lacks it; a module that fails to import decides nothing (False)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            imported = sys.modules.get(module) or importlib.import_module(module)
        return hasattr(imported, name)
    except (Exception, SystemExit):
        return False


def flavour_cause(torch, want, promised=None):
    """Explain where a wrong-flavour torch came from: its conda record or its pip version tag; the wheel index to
    use is the environment's own (its promise), else the one matching torch's CUDA."""
    record = probe.conda_record("pytorch")
    if record:
        cause = "conda package pytorch %(version)s %(build)s from channel %(channel)s" % record
        if want == "cuda" and "cpu" in (record["build"] or ""):
            return cause + " (the CPU variant: pixi saw no CUDA driver, or cpuonly was installed)"
        if record["channel"] != "pytorch" and want == "cuda":
            return cause + " (channel priority picked it over the pytorch channel)"
        return cause
    local = torch.__version__.partition("+")[2]
    if want == "cpu" and local.startswith("cu"):
        return (
            "pip wheel %s: PyPI's default torch for Linux is a CUDA build; CPU wheels are on "
            "https://download.pytorch.org/whl/cpu" % torch.__version__
        )
    if want == "cuda":
        index = promised.index if promised is not None and promised.index else None
        cuda = promised.cuda if promised is not None else None
        driver = promised.driver if promised is not None else None
        index = index or "https://download.pytorch.org/whl/cu%s" % (
            "".join(versions.floor(cuda).split(".")[:2])
            if cuda and versions.floor(cuda)
            else "XYZ (a CUDA %s.x build)" % versions.minor(driver)[0]
            if driver
            else "XYZ (your CUDA)"
        )
        return "pip wheel %s: install torch from the CUDA wheel index %s" % (torch.__version__, index)
    return "torch %s" % torch.__version__


def cuda_declaration(ctx):
    """How a workspace tells pixi this platform has CUDA (the driver's major version): pixi solves a CUDA build only
    where the platform declares the __cuda virtual package, a platform entry's `cuda` in pixi 0.77, formerly
    `[system-requirements] cuda` (crates/pixi_manifest/src/system_requirements.rs@v0.77.0:22-39; deprecated in
    favour of platform entries, toml/manifest.rs@v0.77.0)."""
    major = (ctx.driver.get("cuda") or "12").split(".")[0]
    subdir = ctx.expect.platform.subdir
    return (
        'declare CUDA on the platform: `platforms = [{ name = "%s-cuda", platform = "%s", cuda = "%s" }]` (pixi '
        'before 0.77: `[system-requirements] cuda = "%s"`)' % (subdir, subdir, major, major)
    )


def _locked_pypi(e):
    """The environment's locked PyPI records on its platform ({PEP 503 name: lockfile.Package}), {} without a
    readable pixi.lock beside the manifest (PyYAML permitting)."""
    from checks.workspace import lockfile

    path = os.path.join(os.path.dirname(os.path.abspath(e.ws.path)), "pixi.lock")
    try:
        lock = lockfile.load(path) if os.path.isfile(path) else None
    except UsageError:
        return {}
    if lock is None:
        return {}
    rows = lock.packages(e.env, e.platform.name)
    if rows is None:  # v4-v6 name platforms by subdir
        rows = lock.packages(e.env, e.platform.subdir)
    return dict(rows.pypi) if rows is not None else {}


def check_pypi(ctx):
    """The environment's PyPI dependencies are installed, and the wheels known for them (the lock's wheel URLs, an
    installed dist-info WHEEL) fit the glibc pixi resolves PyPI packages for: `[system-requirements] libc`, else
    pixi's default 2.28 (checks/workspace/wheels.py, its sources). A package with no wheel for that glibc is built
    from source by pixi (pixi#5266), so a missing one under the default libc on a newer host names that libc."""
    from checks.workspace import wheels

    e = ctx.expect
    if e is None:
        return Result(name="pypi", status=SKIP, summary="no pixi environment given (--env NAME)")
    isolated = _isolated_builds(e)
    if isolated is not None:
        return isolated
    libc, explicit = wheels.declared_libc(e.platform)
    plain = {}
    for name, specs in sorted(e.pypi.items()):
        if wheels.normal(name) in wheels.TORCH_FAMILY:
            continue  # torch, torchvision, torchaudio: the torch, build and domain checks judge them
        spec = dict(specs[-1]) if specs and isinstance(specs[-1], Mapping) else {"version": "*"}
        if any(k in spec for k in ("path", "git", "url")):
            continue  # built or fetched from a source the workspace names, not resolved against an index
        plain[name] = str(spec.get("version") or "*")
    if not plain:
        return Result(name="pypi", status=SKIP, summary="no PyPI dependencies besides torch's family")
    if libc is None:
        return Result(name="pypi", status=SKIP, summary="%s declares no glibc" % e.platform.name)
    locked, ruled_out, missing = _locked_pypi(e), [], []
    for name, spec in plain.items():
        record = locked.get(wheels.normal(name))
        found = None
        if record is not None:
            found = wheels.beyond(name, spec, wheels.platform_tags(record.url), "pixi.lock", libc)
        tags = wheels.installed_tags(name)
        if found is None and tags:
            found = wheels.beyond(name, spec, tags, "its installed WHEEL", libc)
        if found is not None:
            ruled_out.append(found)
        if tags is None:
            missing.append("%s%s" % (name, "" if spec == "*" else spec))
    host = probe.host_glibc()
    install = "pixi install -e %s" % e.env
    if ruled_out:
        need = max((w.glibc for w in ruled_out), key=versions.key)
        first = ruled_out[0]
        where = "this workspace declares libc %s" % libc if explicit else "this workspace declares no libc, so "
        where += "" if explicit else "pixi resolves PyPI packages for glibc %s (its default)" % libc
        if host and versions.compare(host, need) >= 0:
            hint = (
                "declare glibc %s: `pixi workspace system-requirements add glibc %s` "
                '([system-requirements] libc = "%s"), then `%s`' % (need, need, need, install)
            )
        else:
            hint = (
                "this machine's glibc %s is older than %s: pin a release of %s whose wheels are tagged for glibc %s or "
                "older, or use a machine with glibc %s or newer" % (host, need, first.package, libc, need)
            )
        return Result(
            name="pypi",
            status=FAIL,
            summary="%s's wheel is tagged %s (glibc %s, read from %s); %s: pixi will not install that wheel and "
            "builds %s from its source distribution instead"
            % (first.package, first.tag, first.glibc, first.source, where, first.package),
            expected="wheels for glibc <= %s" % libc,
            actual=", ".join("%s: %s" % (w.package, w.tag) for w in ruled_out),
            hint=hint,
            data={"fact": "%s %s, libc %s" % (first.package, first.tag, libc)},
        )
    if missing:
        summary = "%s, %s of %s, %s not installed in this Python" % (
            ", ".join(missing),
            "a PyPI dependency" if len(missing) == 1 else "PyPI dependencies",
            e.env,
            "is" if len(missing) == 1 else "are",
        )
        hint = "`%s`" % install
        if not explicit and host and versions.compare(host, libc) > 0:
            summary += (
                "; this workspace declares no libc, so pixi resolves PyPI wheels for glibc %s (its default), "
                "although this machine has glibc %s: a package whose wheels all need a newer glibc (manylinux_2_29 "
                "or later) gets no wheel, and pixi builds it from its source distribution instead, which needs that "
                "package's whole build toolchain" % (libc, host)
            )
            hint = (
                "if `%s` fails building one of them, declare this machine's glibc: `pixi workspace system-requirements "
                'add glibc %s` ([system-requirements] libc = "%s"), then `%s`; otherwise run `%s`'
                % (install, host, host, install, install)
            )
        return Result(
            name="pypi",
            status=FAIL,
            summary=summary,
            expected="installed",
            actual="not installed",
            hint=hint,
            data={
                "fact": "not installed: %s; libc %s%s" % (", ".join(missing), libc, "" if explicit else " (default)")
            },
        )
    return Result(
        name="pypi",
        status=PASS,
        summary="%d PyPI dependencies installed, none with a wheel for a glibc newer than %s" % (len(plain), libc),
    )


def isolated_needs(e):
    """The BuildNeeds of an expectation's PyPI dependencies that are not installed because their build imports torch
    and pixi builds them isolated (checks/workspace/builds.py, its sources); [] without PyPI dependencies."""
    from checks.workspace import builds, wheels

    pypi = getattr(e, "pypi", None) or {}
    absent = [n for n in pypi if wheels.normal(n) not in wheels.TORCH_FAMILY and wheels.installed_tags(n) is None]
    return builds.isolated_needs(e.ws, e.env, pypi, absent) if absent else []


def _isolated_builds(e):
    """The pypi line's FAIL for isolated_needs(e), or None."""
    from checks.workspace import builds

    needs = isolated_needs(e)
    if not needs:
        return None
    summary, hint = builds.describe(needs, e.env, e.deps)
    return Result(
        name="pypi",
        status=FAIL,
        summary=summary,
        expected="%s built with the environment's torch" % ", ".join(n.package for n in needs),
        actual="not installed (its isolated build has no torch)",
        hint=hint,
        data={"fact": "; ".join("%s: %s; %s" % (n.package, n.evidence, n.isolated_by) for n in needs)},
    )


def check_build(ctx):
    """The build flavour (CPU / CUDA) is what the environment promises on this machine."""
    if ctx.torch is None:
        return Result(name="build", status=SKIP, summary="torch did not import")
    flavour = build_flavour(ctx.torch)
    actual = probe.build_label(ctx.torch)
    if ctx.expect is None:
        if flavour == "cpu" and ctx.driver["present"]:
            mutex = probe.conda_record("cpuonly") or (
                (probe.conda_record("pytorch-mutex") or {}).get("build") == "cpu"
                and probe.conda_record("pytorch-mutex")
            )
            if mutex:  # the pytorch channel's variant switch: cpuonly pins pytorch-mutex=*=cpu
                return Result(
                    name="build",
                    status=WARN,
                    summary="CPU build on a machine with an NVIDIA driver: cpuonly / pytorch-mutex=*=cpu is "
                    "installed, which selects the CPU variant of pytorch",
                    expected="a CUDA build",
                    actual=actual,
                    hint="remove cpuonly and what requires it (`conda remove cpuonly`; a package that depends on it "
                    "pulls it back), then %s" % cuda_build.for_context(ctx).hint(),
                    data={"fact": "conda record cpuonly/pytorch-mutex cpu"},
                )
            fix = cuda_build.for_context(ctx)
            gpus = [g.get("name") for g in ctx.driver.get("gpus") or [] if g.get("name")]
            return Result(
                name="build",
                status=WARN,
                summary="CPU build on a machine with an NVIDIA driver: torch %s has no CUDA, so %s goes unused "
                "(driver %s, CUDA %s)"
                % (
                    ctx.torch.__version__,
                    ", ".join(gpus) or "the GPU",
                    ctx.driver.get("version") or "unknown",
                    ctx.driver.get("cuda") or "unknown",
                ),
                expected="a CUDA build",
                actual=actual,
                hint=fix.hint(),
                data={
                    "fact": "torch %s, installed by %s; its CUDA builds %s"
                    % (
                        ctx.torch.__version__,
                        fix.how,
                        ", ".join(fix.choice.variants) if fix.choice else "not tabled",
                    )
                },
            )
        return Result(name="build", status=PASS, summary=actual)
    want = ctx.expect.flavour
    if want == "unpinned":
        hint = "pin it in the manifest: cpuonly (CPU) or pytorch-cuda (CUDA) for %s" % ctx.expect.platform.name
        if flavour == "cpu" and ctx.driver["present"]:
            hint = cuda_declaration(ctx) + ", then `pixi install`; or pin pytorch-cuda"
        return Result(
            name="build",
            status=WARN,
            summary="%s build; %s leaves the flavour to the solver (%s)"
            % (flavour.upper(), ctx.expect.describe(), ctx.expect.promise.source),
            expected="a pinned flavour",
            actual=actual,
            hint=hint,
        )
    if flavour != want:
        return Result(
            name="build",
            status=FAIL,
            summary="%s build, but %s promises %s (%s); %s"
            % (
                flavour.upper(),
                ctx.expect.describe(),
                want.upper(),
                ctx.expect.promise.source,
                flavour_cause(ctx.torch, want, ctx.expect.promise),
            ),
            expected=want,
            actual=actual,
            hint=env_hint(ctx),
        )
    if want == "cpu" and ctx.driver["present"] and any(p.cuda for p in ctx.expect.candidates):
        return Result(
            name="build",
            status=WARN,
            summary="CPU build selected although an NVIDIA driver is present",
            expected="cuda",
            actual=actual,
            hint="the driver (CUDA %s) is older than this environment's CUDA variants; update it"
            % (ctx.driver["cuda"] or "unknown"),
        )
    if want == "cpu" and ctx.driver["present"] and ctx.driver.get("gpus"):
        return Result(
            name="build",
            status=WARN,
            summary="%s promises a CPU build on a machine with %s: none of its platforms declares CUDA, so pixi "
            "solves the CPU variant" % (ctx.expect.describe(), ctx.driver["gpus"][0].get("name", "an NVIDIA GPU")),
            expected="a CUDA build where there is a GPU",
            actual=actual,
            hint=cuda_declaration(ctx) + ", in a GPU environment of its own if the CPU one should stay",
            data={"fact": "no platform of %s declares __cuda" % ctx.expect.env},
        )
    return Result(
        name="build",
        status=PASS,
        summary="%s, as %s promises (%s)" % (actual, ctx.expect.describe(), ctx.expect.promise.source),
        expected=want,
        actual=actual,
    )


def check_cuda_runtime(ctx):
    """The CUDA runtime torch was built with is the environment's CUDA, and not newer than the platform declares."""
    if ctx.torch is None or build_flavour(ctx.torch) != "cuda":
        return Result(name="cuda-runtime", status=SKIP, summary="not a CUDA build")
    actual = ctx.torch.version.cuda
    if ctx.expect is None:
        return Result(name="cuda-runtime", status=PASS, summary="CUDA %s" % actual, actual=actual)
    verdict, want = promise.cuda_verdict(actual, ctx.expect.promise)
    if verdict in ("wrong", "too-new"):
        summary = "CUDA %s, %s promises %s" % (actual, ctx.expect.describe(), want)
        return Result(
            name="cuda-runtime", status=FAIL, summary=summary, expected=want, actual=actual, hint=env_hint(ctx)
        )
    if verdict == "newer-minor":
        summary = "CUDA %s is newer than %s declares: it runs under minor-version compatibility" % (
            actual,
            ctx.expect.platform.name,
        )
        return Result(
            name="cuda-runtime",
            status=WARN,
            summary=summary,
            expected=want,
            actual=actual,
            hint="declare the newer CUDA on the platform",
        )
    return Result(name="cuda-runtime", status=PASS, summary="CUDA %s" % actual, expected=want, actual=actual)


def cudnn_tuple(number):
    """Return (major, minor) of torch.backends.cudnn.version() (cuDNN 9 counts 10000 per major, 8 counts 1000)."""
    return (number // 10000, number % 10000 // 100) if number >= 90000 else (number // 1000, number % 1000 // 100)


def check_cudnn(ctx):
    """cuDNN loads and its runtime version equals the version torch was compiled with."""
    torch = ctx.torch
    if torch is None or build_flavour(torch) != "cuda":
        return Result(name="cudnn", status=SKIP, summary="not a CUDA build")
    if not torch.backends.cudnn.is_available():
        return Result(
            name="cudnn",
            status=FAIL,
            summary="libcudnn is not loadable",
            expected="cuDNN available",
            actual="unavailable",
            hint=env_hint(ctx),
        )
    runtime = cudnn_tuple(torch.backends.cudnn.version())
    compiled = tuple(torch._C._cudnn.getCompileVersion())[:2]
    shown = lambda v: ".".join(map(str, v))  # noqa: E731
    if runtime != compiled:
        return Result(
            name="cudnn",
            status=FAIL,
            summary="runtime cuDNN differs from compiled",
            expected=shown(compiled),
            actual=shown(runtime),
            hint="another libcudnn is loaded first (LD_LIBRARY_PATH?); " + env_hint(ctx),
        )
    return Result(
        name="cudnn",
        status=PASS,
        summary="cuDNN %s (runtime = compiled)" % shown(runtime),
        expected=shown(compiled),
        actual=shown(runtime),
    )


def check_nccl(ctx):
    """NCCL is built in (Linux CUDA builds)."""
    torch = ctx.torch
    if torch is None or build_flavour(torch) != "cuda":
        return Result(name="nccl", status=SKIP, summary="not a CUDA build")
    if platform.system() != "Linux":
        return Result(name="nccl", status=SKIP, summary="NCCL is Linux-only")
    shown = probe.nccl_version(torch)
    return Result(name="nccl", status=PASS, summary="NCCL %s" % shown, actual=shown)
