"""Judge a failure against the facts: the error is taken apart into the objects it names (libraries, symbols,
symbol versions, Python packages, paths, the errno it ends in), and each object is looked up in the facts collected
before torch was imported (checks/machine/provenance.py, requirements.py, loader.py, system.py). The first fact that
explains the failure decides it, and the verdict names that fact:

0. a module missing inside an isolated PEP 517 build (pip's pip-build-env-*, uv's build backend): the package's
   build imports it without declaring it; build without isolation;
1. the copy of torch (torchvision, torchaudio) imported is not the environment's, or the interpreter is not;
1a. the missing module is in this prefix only in another Python's site-packages (a virtual environment whose
   interpreter was upgraded: pyvenv.cfg's version against the running one);
1h. a frame of the failure is in a distribution whose Requires-Python excludes the running Python (installed.py
   by_requires_python): its code is for other Pythons, whatever the error says;
1i. for a failure nothing else explains: its innermost package frame is in a distribution whose classifiers list
   only Python releases older than the running one (installed.py by_python_classifiers);
1j. a failure a change of Python makes in code written for an older release (installed.py PYTHON_CHANGES: 3.11's
   dataclass defaults, 3.12's removal of distutils and imp), on a Python that has the change;
1f. torch is not installed in this Python but another environment on this machine holds it (a notebook or IDE
   running another interpreter: installed.py by_elsewhere);
1g. torch missing from a Python whose site-packages this user may not write (a system Python: installs need root;
   installed.py by_unwritable_site);
1e. a failure of a build without CUDA ("Torch not compiled with CUDA enabled", no NCCL) where torch's version.py
   says it is a CPU build (build.py);
1d. torch is missing, or pip found none, where PyPI has no torch wheel for this interpreter or platform (no_wheel.py);
1b. a compiled extension module the failure misses is on disk only for another interpreter (its file's tag and
   its wheel's WHEEL tags), missing from an install whose RECORD lists it, or never built in a source checkout;
2. a declared requirement of the failing package is unmet (pip Requires-Dist, conda depends);
2c. a failure in a file of torch whose folder holds two install records of it (a `setup.py install` under a pip
   wheel): the two installs' files are mixed (installed.py by_layered);
2b. a name one installed package imports from another is not there although the declared requirement is met: the
   two releases do not fit together (both named, with their versions and locations);
2d. a failure in torchvision or torchaudio whose release is not the one made for the installed torch, where their
   own metadata does not pin torch (paired.py: checks/compat.py's pairs);
2e. a failure of torchaudio's audio I/O or torchvision's image extension, judged by their plug-ins' files: the
   backends present and the native library each lacks (media.py);
2g. the failing package's installed distribution is another project of that name (installed.py OTHER_PROJECT:
   PyPI's `apex` is not NVIDIA Apex), read from its metadata;
2h. the failing (or named) package was installed without the extra that brings its PyTorch part, a companion
   distribution of its own project (installed.py by_framework_extra: transformer_engine[pytorch]);
2f. a module the failing code imports is not installed: the importer, whether its install record declares it, and
   the install command for this environment (installed.py by_missing_module);
3. the loader's own message (glibc's classes, loader.LOAD_ERRORS) judged by the facts of the file it names: shorter
   than its package's record or its own headers (truncated, corrupt), built for another architecture, asking for an
   executable stack the host's glibc will not grant; then a library the failure names is taken from outside the
   environment while the environment has its own copy (or a library family an undefined symbol belongs to is), or
   the build needs a newer C library than the OS has, or the library is nowhere the loader looks (and which package
   provides it);
3c. an undefined symbol judged by who should define it (symbols.py): a symbol of torch's C++ API that the installed
   torch's libraries do not define (the failing extension was built against another torch; a file in torch's folder
   that no record lists, or of another size, was left by another install), a symbol of an NVIDIA or OpenMP library
   family that the copy offered lacks (named with its version and the package that brought it), or a symbol none
   of the failing object's own libraries defines;
3d. one of torch's own libraries cannot be opened by another package's compiled module, judged by torch's lib
   folder: there (the module was loaded before torch), absent from a CPU-only torch (a CUDA build of the module), or
   absent (built against another torch) (symbols.py);
3b. CUDA could not initialise and a fact of the GPU's access path (checks/machine/gpu_access.py) consistent with
   CUDA's error class explains it (a container without the compute capability, a missing /dev/nvidia-uvm, a device
   node this user may not open, a libcuda of another version than the kernel module);
3e. a device index beyond what CUDA enumerated while CUDA_VISIBLE_DEVICES names several MIG instances (a CUDA
   process enumerates one MIG instance only);
3f. CUDA out of memory, judged by who holds that GPU's memory (the figures of torch's own message);
3i. torch's warning that its build has no kernels for a GPU, judged by the GPU's compute capability and the
   build's architectures it quotes: older than all of them, or newer than its CUDA can compile for (gpu.py);
3k. a failure naming a GPU feature (bfloat16, TF32, FlashAttention-2, FP8) and the hardware, on a GPU whose compute
   capability, as its driver reports it, is below the feature's floor (gpu.py, checks/compat.py GPU_FEATURES);
3h. Triton's link step finds no libcuda.so, judged by where the driver's libcuda.so.1 is (triton.py);
3j. inductor finds no working Triton, judged by the triton distribution beside torch and torch's pin on it
   (triton.py);
3g. a variable set to a value its reader rejects (checks/machine/variables.py: the reader's documented grammar, or
   the installed torch's own lists), when the failure names it or carries its reader's message about it;
4a. an OS limit the failure's class meets: ENOSPC on a file system with no free inodes, an InfiniBand memory
   registration failing with ENOMEM under a finite locked-memory limit (before 3c: the folder a variable names is
   where the limit bites, not what is wrong with the variable);
4c. a process of the job was killed (SIGKILL) and the memory cgroup's OOM killer counted kills: the job reached
   its memory limit (jobs.py);
4. an OS resource the errno names is short: shared memory, open files, disk, a code directory that is read-only or
   `noexec`, a host name that does not resolve;
4e. NCCL's shared-memory segments cannot be made (/dev/shm too small or not writable), or two ranks share a GPU
   (nccl.py);
4f. a process killed by SIGILL, judged by the CPU's x86-64 level (cpu.py);
4b. an access error on a path the error's last line names, judged by that path's facts: a read-only file system,
   or a path this user may not write; the fix names the variable that chose the directory where one did;
4d. the process's user id has no entry in the user database (getpass.getuser() fails; environment.py);
4i. a process killed by SIGKILL that no memory cgroup counted (after every OS resource rule): the host's OOM killer
   or a kill from outside, which the kernel log tells apart (jobs.py by_killed);
4g. a failure text that states the release it needs of torch, torchvision, torchaudio or Python ("requires
   torch>=2.1", "upgrade torch to at least v2.6"), where the installed release does not meet it (stated.py);
4j. a failure fetching from the Hugging Face Hub while the client is told to stay offline or the Hub's endpoint
   does not answer (hub.py);
4h. torch.load failing on what the file is: a Git LFS pointer, an HTML page, an empty or cut-short zip (the file
   read when the failure names it, else the byte pickle quotes; checkpoint.py);
5. a failure text whose meaning is stable across releases (checks/causes.py's tables);
5b. a CUDA runtime error or cuDNN status whose documented meaning names a cause (checks/nvidia/cuda_errors.py: every
   cudaError_t code, read from libcudart itself, and the cause NVIDIA's driver_types.h gives the codes that name
   one; cuDNN's cudnnStatus_t and cuBLAS's cublasStatus_t likewise);
6. torch's own message, when it already names the cause and a remedy (kept, never replaced);
7. otherwise the failure is not recognised: it says so, lists the facts, and says what to attach to a report.

The rules live by family: model.py (the Facts, a failure taken apart into Parts, the Cause), installed.py (1, 1b,
1f, 1g, 1j, 2, 2b, 2f), paired.py (2d), media.py (2e), no_wheel.py (1d), build.py (1e), libraries.py (3), symbols.py
(3c, 3d), gpu.py (3b, 3e, 3f, 3i, 3k), triton.py (3h, 3j), environment.py (the variable the error quotes, 4, 4d, and the
build toolchain), jobs.py (4c, 4i), hub.py (4j), nccl.py (4e), cpu.py (4f), stated.py (4g), checkpoint.py (4h); this
module holds 5-7, the order they are tried in (explain) and gather().

"Reinstall" is offered only where a fact shows the installed files differ from what the environment promises (a
file its package's RECORD or conda record lists is missing, or of another size than recorded).
"""

import dataclasses
import os
import re

from checks.diagnosis.build import by_build
from checks.diagnosis.checkpoint import by_checkpoint
from checks.diagnosis.cpu import by_cpu
from checks.diagnosis.environment import (
    by_host_compiler,
    by_os_limit,
    by_path,
    by_setting,
    by_stdin,
    by_system,
    by_toolchain,
    by_user,
    by_variable,
)
from checks.diagnosis.gpu import by_gpu_access, by_gpu_arch, by_gpu_feature, by_gpu_memory, by_mig, cuda_init_class
from checks.diagnosis.hub import by_hub
from checks.diagnosis.installed import (
    by_build_isolation,
    by_elsewhere,
    by_extension,
    by_foreign_path,
    by_framework_extra,
    by_layered,
    by_missing_module,
    by_other_project,
    by_other_python,
    by_pair,
    by_provenance,
    by_python_change,
    by_python_classifiers,
    by_requirement,
    by_requires_python,
    by_stdlib,
    by_unwritable_site,
)
from checks.diagnosis.jobs import by_killed, by_memory_limit
from checks.diagnosis.libraries import by_library, by_load_error, by_loader_path
from checks.diagnosis.media import by_media
from checks.diagnosis.model import (
    REMEDY,
    VARIABLE_PREFIXES,
    Cause,
    Facts,
    GpuSeen,
    Parts,
    parse,
    raising_distribution,
)
from checks.diagnosis.nccl import by_nccl
from checks.diagnosis.no_wheel import by_no_wheel
from checks.diagnosis.paired import by_paired
from checks.diagnosis.stated import by_stated
from checks.diagnosis.symbols import by_symbol, by_torch_library
from checks.diagnosis.triton import by_triton_libcuda, by_triton_missing
from checks.machine import gpu_access, interpreter, loader, provenance, scheduler, variables

# What the rest of checks and the tests use; the rules' helpers stay in their family's module.
__all__ = [
    "FACT_RULES",
    "Cause",
    "Facts",
    "GpuSeen",
    "Parts",
    "by_extension",
    "by_mig",
    "by_provenance",
    "cuda_init_class",
    "explain",
    "gather",
    "judge",
    "parse",
]


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # ECMA-48 control sequences: SGR colours, erase line


def by_table(parts, text, facts):
    """Rule 5: a failure text whose meaning is stable (checks/causes.py)."""
    from checks import causes

    known = causes.match(text) or causes.of_cuda_init(text)
    if known is None:
        return None
    meaning, fix = known
    return Cause(meaning=meaning, fix=fix, fact="the error text: %s" % parts.line)


# Variables a CUDA error class's fix concerns: shown as the deciding fact's context where set.
CUDA_CLASS_VARIABLES = {
    "stub-library": ("LD_LIBRARY_PATH",),
    "invalid-device": ("CUDA_VISIBLE_DEVICES",),
    "no-device": ("CUDA_VISIBLE_DEVICES",),
    "ptx-jit": ("CUDA_DISABLE_PTX_JIT",),
    "mps": ("CUDA_MPS_PIPE_DIRECTORY",),
    "watchdog": ("CUDA_VISIBLE_DEVICES",),
}


def by_cuda_error(parts, text, facts):
    """Rule 5b: the CUDA error the text names (by name, code or cudaGetErrorString text), or the cuDNN status, where
    NVIDIA documents a cause for it (checks/nvidia/cuda_errors.py CLASS_OF, CUDNN_STATUSES); the fact names the
    code and the variables its fix concerns that are set."""
    from checks.nvidia import cuda_errors

    found = cuda_errors.judge(text)
    if found is None:
        return None
    error, meaning, fix = found
    if error.library in ("cuDNN", "cuBLAS"):
        return Cause(
            meaning="%s (%s)" % (meaning, error.name), fix=fix, fact="%s status %s" % (error.library, error.name)
        )
    environ = dict(facts.loader_inputs, **facts.variables)
    shown = [
        "%s=%s" % (name, environ[name])
        for name in CUDA_CLASS_VARIABLES.get(cuda_errors.CLASS_OF[error.code], ())
        if environ.get(name)
    ]
    return Cause(
        meaning="%s (%s)" % (meaning, error.name),
        fix=fix,
        fact="CUDA error %s (code %d since CUDA 10.1): %s%s"
        % (error.name, error.code, error.text, "; " + ", ".join(shown) if shown else ""),
    )


# An install command a library's message quotes as its remedy (`pip install -U bitsandbytes`)
INSTALL_COMMAND = re.compile(r"`((?:python3? -m )?(?:pip|uv pip|conda|pixi) (?:install|add)\b[^`]{1,200})`")


def by_torch(parts, text):
    """Rule 6: torch's own message names the cause and a remedy: keep both. The remedies are looked for in the
    error's whole message, its later lines included (torch.load's "Weights only load failed ... Please use
    `torch.serialization.add_safe_globals(...)`"; protobuf's numbered workarounds "1. Downgrade the protobuf package
    to 3.20.x or lower. 2. Set PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python"), never in the output before the
    error; each one it states is kept (at most three), since the message's own alternatives are the user's choice."""
    words = parts.line.split("\n", 1)[0][:120].split()
    # the exception line as the text has it: its first words, whatever line breaks condensing took out
    starts = list(re.finditer(r"\s+".join(map(re.escape, words)), text)) if words else []
    message = text[starts[-1].start() : starts[-1].start() + 6000] if starts else parts.line
    remedies = []
    for match in REMEDY.finditer(message):
        # a numbered list of alternatives on one line ("1. Downgrade ... 2. Set ..."): one remedy each
        remedies += [p.strip().rstrip(".") for p in re.split(r"\s\d\.\s+(?=[A-Z])", match.group(1)) if p.strip()]
    remedies = list(dict.fromkeys(remedies))[:3]
    if not remedies:
        command = INSTALL_COMMAND.search(parts.line)
        if command is None:
            return None
        # a message whose remedy is the install command it quotes
        return Cause(meaning=parts.line.rstrip(" .:"), fix=command.group(1), fact="the failing library's own message")
    first = parts.line.find(remedies[0])
    return Cause(
        meaning=parts.line[:first].rstrip(" .:") if first > 0 else parts.line.rstrip(" .:"),
        fix="; or ".join(remedies),
        fact="torch's own message",
    )


def unrecognised(parts, facts):
    """Rule 7: nothing explains it; say so, and what to attach."""
    torch = facts.provenance.packages.get("torch")
    shown = torch.imported.describe() if torch and torch.imported else "torch not found"
    inputs = ", ".join("%s=%s" % kv for kv in facts.loader_inputs.items()) or "no loader variables set"
    raiser = raising_distribution(parts.text, facts.provenance.environment)
    where, upgrade = "", ""
    if raiser is not None:
        dist, frame, line = raiser
        where = "; raised in %s %s's own code (%s:%s)" % (dist.name, dist.version, frame, line)
        upgrade = (
            "; it is raised inside %s %s: that project's issue tracker may know the message, and a later release "
            "may handle this machine (`python -m pip install -U %s`)" % (dist.name, dist.version, dist.name)
        )
    return Cause(
        meaning="not recognised: %s%s (facts collected: torch %s; %s)" % (parts.line, where, shown, inputs),
        fix="no known cause fits%s; rerun with `--json report.json` and attach that file (it holds the facts "
        "collected) and the full output to a report" % upgrade,
        fact="none decides it",
        recognised=False,
    )


# The rules whose verdict a fact of this machine decides (explain()'s order); the others read the text alone.
FACT_RULES = (
    "build-isolation",
    "provenance",
    "foreign-path",
    "other-python",
    "no-wheel",
    "elsewhere",
    "unwritable-site",
    "build",
    "stdlib",
    "python-change",
    "toolchain",
    "host-compiler",
    "extension",
    "framework-extra",
    "requirement",
    "layered",
    "pair",
    "paired",
    "media",
    "missing-module",
    "load",
    "library",
    "loader-path",
    "symbol",
    "gpu-access",
    "mig",
    "gpu-memory",
    "gpu-feature",
    "triton-libcuda",
    "os-limit",
    "memory-limit",
    "setting",
    "variable",
    "nccl",
    "cpu",
    "system",
    "path",
    "user",
    "killed",
    "stated",
    "stdin",
    "checkpoint",
    "hub",
    "python-classifiers",
)


def explain(text, facts):
    """Return the Cause of a failure from its text and the facts (rules 1-7 of the module docstring, in order).

    Order: which copy is imported (1) explains every later symptom; the build toolchain (1c) is read only for the
    error classes of cpp_extension and inductor's compiler, whose cause no Python requirement states; a missing
    extension's files (1b) name the exact module the failure lacks, which an unrelated unmet requirement of torch
    (2, keyed on any torch failure) would not; a declared requirement (2) is pip's own promise and its spec the
    surest fix, so it precedes the pair judgement (2b), which applies when declarations are met; 2b precedes the
    library, loader, variable and system rules (3-4), which concern native libraries and the OS, not a Python name,
    and the table (5), whose "No module named" row is generic."""
    text = ANSI_ESCAPE.sub("", text or "")  # a terminal's colours (torch 2.6's weights_only message has them)
    parts = parse(text)
    rules = (
        ("build-isolation", lambda: by_build_isolation(parts, facts)),
        ("provenance", lambda: by_provenance(parts, facts)),
        ("foreign-path", lambda: by_foreign_path(parts, facts)),
        ("other-python", lambda: by_other_python(parts, facts)),
        ("requires-python", lambda: by_requires_python(parts, facts)),
        ("no-wheel", lambda: by_no_wheel(parts, facts)),
        ("elsewhere", lambda: by_elsewhere(parts, facts)),
        ("unwritable-site", lambda: by_unwritable_site(parts, facts)),
        ("build", lambda: by_build(parts, facts)),
        ("stdlib", lambda: by_stdlib(parts, facts)),
        ("python-change", lambda: by_python_change(parts, facts)),
        ("toolchain", lambda: by_toolchain(parts, facts)),
        ("host-compiler", lambda: by_host_compiler(parts, facts)),
        ("extension", lambda: by_extension(parts, facts)),
        ("other-project", lambda: by_other_project(parts, facts)),
        ("framework-extra", lambda: by_framework_extra(parts, facts)),
        ("requirement", lambda: by_requirement(parts, facts)),
        ("layered", lambda: by_layered(parts, facts)),
        ("pair", lambda: by_pair(parts, facts)),
        ("paired", lambda: by_paired(parts, facts)),
        ("media", lambda: by_media(parts, facts)),
        ("missing-module", lambda: by_missing_module(parts, facts)),
        ("load", lambda: by_load_error(parts, facts)),
        ("library", lambda: by_library(parts, facts)),
        ("loader-path", lambda: by_loader_path(parts, facts)),
        ("symbol", lambda: by_symbol(parts, facts)),
        ("torch-library", lambda: by_torch_library(parts, facts)),
        ("gpu-access", lambda: by_gpu_access(parts, facts)),
        ("mig", lambda: by_mig(parts, facts)),
        ("gpu-memory", lambda: by_gpu_memory(parts, facts)),
        ("gpu-arch", lambda: by_gpu_arch(parts, facts)),
        ("gpu-feature", lambda: by_gpu_feature(parts, facts)),
        ("triton-libcuda", lambda: by_triton_libcuda(parts, facts)),
        ("triton-missing", lambda: by_triton_missing(parts, facts)),
        ("os-limit", lambda: by_os_limit(parts, facts)),
        ("memory-limit", lambda: by_memory_limit(parts, facts)),
        ("setting", lambda: by_setting(parts, facts, text)),
        ("variable", lambda: by_variable(parts, facts, text)),
        ("nccl", lambda: by_nccl(parts, facts)),
        ("cpu", lambda: by_cpu(parts, facts)),
        ("system", lambda: by_system(parts, facts)),
        ("path", lambda: by_path(parts, facts)),
        ("user", lambda: by_user(parts, facts)),
        ("killed", lambda: by_killed(parts, facts)),
        ("stated", lambda: by_stated(parts, facts)),
        ("stdin", lambda: by_stdin(parts, facts)),
        ("checkpoint", lambda: by_checkpoint(parts, facts)),
        ("hub", lambda: by_hub(parts, facts)),
        ("table", lambda: by_table(parts, text, facts)),
        ("cuda-error", lambda: by_cuda_error(parts, text, facts)),
        ("torch", lambda: by_torch(parts, text)),
        ("python-classifiers", lambda: by_python_classifiers(parts, facts)),
        ("unrecognised", lambda: unrecognised(parts, facts)),
    )
    for name, rule in rules:
        cause = rule()
        if cause is not None:
            if name == "variable":  # the variable is the fact; a stable text's meaning, if any, is the better fix
                known = by_table(parts, text, facts)
                if known is not None:
                    cause = dataclasses.replace(known, fact=cause.fact)
            return dataclasses.replace(cause, rule=name)
    raise AssertionError("unrecognised always answers")


def judge(result, facts):
    """Return `result` (a checks.report.Result) with its cause judged against the facts when it is a FAIL carrying
    an exception from the environment (data["exception"]: raised inside torch or a library, not in checks' own
    code): summary = the cause, hint = its fix, data.fact = the deciding fact, data.recognised; data["also"]
    ({"summary", "hint"}: what else the line found) is appended to both. Any other result,
    or one judged already ("fact" in data), is returned as it is. `facts` is Facts, or a callable returning them
    (called only when a result needs judging)."""
    from checks.report import FAIL, Result

    data = result.data or {}
    text = data.get("exception")
    if result.status != FAIL or not text or "fact" in data:  # "fact": judged already (a bug in checks is a SKIP)
        return result
    cause = explain(text, facts() if callable(facts) else facts)
    also = data.get("also") if isinstance(data.get("also"), dict) else {}  # more the same line found (project's)
    judged = Result(
        name=result.name,
        status=FAIL,
        summary="; ".join(filter(None, [cause.meaning, also.get("summary")])),
        expected=result.expected,
        actual=result.actual,
        hint="; ".join(filter(None, [cause.fix, also.get("hint")])),
        data=dict(data, fact=cause.fact, recognised=cause.recognised),
    )
    judged.seconds = result.seconds
    return judged


def gather(environ=None, driver=None):
    """Collect the Facts available before torch is imported (a few milliseconds: stat calls, small metadata
    files, three ELF headers, one bounded name lookup, one `ldconfig -p`). `driver`: the NVIDIA driver's facts
    (checks/nvidia/driver.py facts()) when the caller has read them; else they are read here (NVML, or nvidia-smi
    with a 10 s limit) for the GPUs' compute capabilities."""
    from checks.machine import requirements, system
    from checks.nvidia import driver as nvidia_driver

    prov = provenance.collect(environ=environ)
    torch = prov.packages["torch"].imported
    environ = os.environ if environ is None else environ
    return Facts(
        provenance=prov,
        requirements=requirements.collect(prov),
        loader_inputs=loader.inputs(environ),
        system=system.collect(torch.path if torch is not None else None),
        variables={k: v for k, v in environ.items() if k.startswith(VARIABLE_PREFIXES) and v},
        gpu_access=gpu_access.collect(environ),
        interpreter=interpreter.collect(),
        python_sites=interpreter.python_sites(),
        settings=variables.collect(
            environ,
            torch.path if torch is not None else None,
            torch.version if torch is not None else None,
            [c.imported.path for c in prov.packages.values() if c.imported is not None],
        ),
        job=scheduler.collect(environ),
        gpus=GpuSeen.from_driver(driver if driver is not None else nvidia_driver.facts(timeout=10.0)),
        path_variables={
            k: v for k, v in environ.items() if v.startswith("/") and ":" not in v and "\n" not in v and len(v) < 4096
        },
    )
