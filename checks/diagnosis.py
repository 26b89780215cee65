"""Judge a failure against the facts: the error is taken apart into the objects it names (libraries, symbols,
symbol versions, Python packages, paths, the errno it ends in), and each object is looked up in the facts collected
before torch was imported (checks/machine/provenance.py, requirements.py, loader.py, system.py). The first fact that
explains the failure decides it, and the verdict names that fact:

1. the copy of torch (torchvision, torchaudio) imported is not the environment's, or the interpreter is not;
1b. a compiled extension module the failure misses is on disk only for another interpreter (its file's tag and
   its wheel's WHEEL tags), missing from an install whose RECORD lists it, or never built in a source checkout;
2. a declared requirement of the failing package is unmet (pip Requires-Dist, conda depends);
2b. a name one installed package imports from another is not there although the declared requirement is met: the
   two releases do not fit together (both named, with their versions and locations);
3. the loader's own message (glibc's classes, loader.LOAD_ERRORS) judged by the facts of the file it names: shorter
   than its package's record or its own headers (truncated, corrupt), built for another architecture, asking for an
   executable stack the host's glibc will not grant; then a library the failure names is taken from outside the
   environment while the environment has its own copy (or a library family an undefined symbol belongs to is), or
   the build needs a newer C library than the OS has, or the library is nowhere the loader looks (and which package
   provides it);
3b. CUDA could not initialise and a fact of the GPU's access path (checks/machine/gpu_access.py) consistent with
   CUDA's error class explains it (a container without the compute capability, a missing /dev/nvidia-uvm, a device
   node this user may not open, a libcuda of another version than the kernel module);
3e. a device index beyond what CUDA enumerated while CUDA_VISIBLE_DEVICES names several MIG instances (a CUDA
   process enumerates one MIG instance only);
4. an OS resource the errno names is short: shared memory, open files, disk, a code directory that is read-only or
   `noexec`, a host name that does not resolve;
5. a failure text whose meaning is stable across releases (checks/causes.py's tables);
6. torch's own message, when it already names the cause and a remedy (kept, never replaced);
7. otherwise the failure is not recognised: it says so, lists the facts, and says what to attach to a report.

"Reinstall" is offered only where a fact shows the installed files differ from what the environment promises (a
file its package's RECORD or conda record lists is missing, or of another size than recorded).
"""

import dataclasses
import glob
import os
import re
import sys
from typing import Dict, List, Optional, Tuple

from checks import errors
from checks.machine import distributions, gpu_access, interpreter, loader, provenance
from checks.machine import system as system_rules
from checks.machine.gpu_access import GpuAccess
from checks.machine.interpreter import InterpreterBuild

# NVIDIA components: a library's name -> (key in pip/conda package names). pip: nvidia-<key>-cuXX wheels; conda:
# lib<key>, cuda-<key> (conda-forge and nvidia channels).
COMPONENTS = (
    (re.compile(r"^libcudnn"), "cudnn"),
    (re.compile(r"^libcublas"), "cublas"),
    (re.compile(r"^libcufft"), "cufft"),
    (re.compile(r"^libcurand"), "curand"),
    (re.compile(r"^libcusolver"), "cusolver"),
    (re.compile(r"^libcusparse"), "cusparse"),
    (re.compile(r"^libnccl"), "nccl"),
    (re.compile(r"^libnvJitLink", re.I), "nvjitlink"),
    (re.compile(r"^libnvrtc"), "nvrtc"),
    (re.compile(r"^libcudart"), "cuda-runtime|cudart"),
    (re.compile(r"^libcupti"), "cupti"),
    (re.compile(r"^libnvToolsExt"), "nvtx"),
)
# How errors name NVIDIA's components in words ("cuDNN version incompatibility", "NCCL error"): word -> component key.
COMPONENT_WORDS = re.compile(
    r"\b(cuDNN|cuBLAS(?:Lt)?|cuFFT|cuRAND|cuSOLVER|cuSPARSE|NCCL|nvJitLink|NVRTC|cudart)\b", re.I
)
# Who provides a library that is not one of NVIDIA's: soname pattern -> (what it is, pip project, conda package,
# the OS's package on Debian/Ubuntu). From the packages' file lists: PyPI's intel-openmp, mkl and tbb wheels install
# lib/libiomp5.so, lib/libmkl_*.so.2 and lib/libtbb.so.12 into the environment's prefix; conda-forge's llvm-openmp
# (lib/libomp.so), libgomp (lib/libgomp.so.1), libopenblas, libgfortran5, libjpeg-turbo, libpng, ffmpeg and sox
# packages hold the others; Debian's libgomp1, libomp5, libopenblas0, libgfortran5, libjpeg62-turbo, libpng16-16,
# ffmpeg and libsox3 packages the same sonames for the system.
PROVIDERS = (
    (re.compile(r"^libiomp5\b"), "Intel's OpenMP runtime", "intel-openmp", "intel-openmp", None),
    (re.compile(r"^libomp\b"), "LLVM's OpenMP runtime", None, "llvm-openmp", "libomp5"),
    (re.compile(r"^libgomp\b"), "GNU OpenMP (GCC's runtime)", None, "libgomp", "libgomp1"),
    (re.compile(r"^libmkl_"), "Intel MKL", "mkl", "mkl", None),
    (re.compile(r"^libtbb\b"), "Intel oneTBB", "tbb", "tbb", "libtbb12"),
    (re.compile(r"^libopenblas"), "OpenBLAS", None, "libopenblas", "libopenblas0"),
    (re.compile(r"^libgfortran\b"), "GNU Fortran's runtime", None, "libgfortran5", "libgfortran5"),
    (re.compile(r"^libjpeg\b"), "libjpeg (torchvision's image decoding)", None, "libjpeg-turbo", "libjpeg62-turbo"),
    (re.compile(r"^libpng"), "libpng (torchvision's image decoding)", None, "libpng", "libpng16-16"),
    (
        re.compile(r"^lib(avcodec|avformat|avutil|avfilter|avdevice|swscale|swresample)\b"),
        "FFmpeg (torchaudio's and torchvision's media I/O)",
        None,
        "ffmpeg",
        "ffmpeg",
    ),
    (re.compile(r"^libsox\b"), "SoX (torchaudio's sox backend)", None, "sox", "libsox3"),
)
# Which library family defines an undefined symbol, by the symbol's prefix: (symbol, library file, family). The
# prefixes are each library's public API (Intel's ITT/JIT profiling API iJIT_* that MKL exports, pytorch/pytorch
# #123097; MKL's mkl_*; GCC's GOMP_* and the Intel/LLVM runtime's __kmpc_* OpenMP entry points; NVIDIA's libraries).
SYMBOL_FAMILIES = (
    (re.compile(r"^(iJIT_|mkl_|MKL_)"), re.compile(r"^libmkl_"), "MKL"),
    (re.compile(r"^GOMP_"), re.compile(r"^libgomp"), "GNU OpenMP"),
    (re.compile(r"^__kmpc_|^__kmp_|^kmp_"), re.compile(r"^lib(iomp5|omp)\b"), "OpenMP (Intel/LLVM)"),
    (re.compile(r"^cudnn", re.I), re.compile(r"^libcudnn"), "cuDNN"),
    (re.compile(r"^cublas", re.I), re.compile(r"^libcublas"), "cuBLAS"),
    (re.compile(r"^nccl", re.I), re.compile(r"^libnccl"), "NCCL"),
    (re.compile(r"^_*nvJitLink", re.I), re.compile(r"^libnvJitLink"), "nvJitLink"),
    (re.compile(r"^cusparse", re.I), re.compile(r"^libcusparse"), "cuSPARSE"),
    (re.compile(r"^cufft", re.I), re.compile(r"^libcufft"), "cuFFT"),
    (re.compile(r"^cuda[A-Z]"), re.compile(r"^libcudart"), "the CUDA runtime"),
)
# The variables torch and the libraries it loads read (their documentation: torch.cuda's memory management notes,
# NCCL's and gloo's environment variables, OpenMP's and MKL's, triton's and inductor's cache settings).
VARIABLE_PREFIXES = (
    "PYTORCH_",
    "TORCH_",
    "TORCHINDUCTOR_",
    "CUDA_",
    "NCCL_",
    "GLOO_",
    "TP_",
    "OMP_",
    "KMP_",
    "GOMP_",
    "MKL_",
    "TRITON_",
    "CUBLAS_",
    "CUDNN_",
)
ERRNO = (
    ("ENOSPC", re.compile(r"No space left on device|ENOSPC|Errno 28\b")),
    ("EMFILE", re.compile(r"Too many open files|EMFILE|Errno 24\b")),
    ("EBUS", re.compile(r"\bBus error\b|SIGBUS")),
    (
        "NOEXEC",
        re.compile(
            r"failed to map segment from shared object|cannot map zero-fill pages|cannot change memory protections|"
            r"Operation not permitted.*\.so"
        ),
    ),
    # a thread or process could not be created: clone()/fork() return EAGAIN at a cgroup's pids.max or RLIMIT_NPROC
    # (man 2 clone, man 2 fork); CPython's "can't start new thread" (Modules/_threadmodule.c), libgomp's "Thread
    # creation failed" (libgomp/config/linux/team / team.c), OpenBLAS's "pthread_create failed" (blas_server.c).
    (
        "EAGAIN",
        re.compile(
            r"Resource temporarily unavailable|\bEAGAIN\b|Errno 11\b|can't start new thread|pthread_create failed|"
            r"Thread creation failed"
        ),
    ),
    ("EACCES", re.compile(r"Permission denied|EACCES|Errno 13\b|Read-only file system|Errno 30\b")),
    (
        "RESOLVE",
        re.compile(
            r"Name or service not known|Temporary failure in name resolution|nodename nor servname|getaddrinfo|"
            r"gethostbyname|hostname of the client socket cannot be retrieved|Unknown host|No address associated"
        ),
    ),
)
PATH = re.compile(r"(?<![\w.])(/(?:[\w.+@~-]+/)*[\w.+@~-]+)")
FRAME = re.compile(r'File "([^"]+)", line \d+')
SITE_PACKAGE = re.compile(r"(?:site|dist)-packages[/\\]([A-Za-z_][\w]*)")
MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")
FROM_MODULE = re.compile(r"(?:cannot import name '[\w.]+' from '([\w.]+)'|module '([\w.]+)' has no attribute)")
# CPython's texts for a name a module does not define (Python/ceval.c import_from: "cannot import name %R from %R
# (%S)", the location "unknown location" for a namespace package; Objects/moduleobject.c module_getattro: "module %R
# has no attribute %R"). The "partially initialized module" forms are a circular import, not two packages' APIs.
CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)' \(([^)]*)\)")
NO_ATTRIBUTE = re.compile(r"(?<!initialized )module '([\w.]+)' has no attribute '(\w+)'")
# torch/__init__.py (1.x to 2.13): `from torch._C import *` failed and `torch._C` resolved to the `torch/_C` folder
# of stubs (a namespace package, __file__ None): no extension module torch._C exists for this interpreter.
TORCH_C_FOLDER = re.compile(r"Failed to load PyTorch C extensions")
# the local version label of torch's own wheel indexes (download.pytorch.org/whl/cpu, /whl/cu121, /whl/rocm6.1)
TORCH_INDEX_LABEL = re.compile(r"^(cpu|cu\d+|rocm[\d.]+|xpu)$")
CANNOT_OPEN = re.compile(r"([\w.+-]+\.so[.\d]*|[\w.+-]+\.dylib|[\w.+-]+\.dll): cannot open shared object file")
# The NVIDIA driver's own libraries: installed with the driver, never by an environment (checks/causes.py judges
# their absence: a container without the NVIDIA runtime, WSL2's /usr/lib/wsl/lib).
DRIVER_LIBRARIES = re.compile(r"^lib(cuda|nvidia-\w+|nvcuvid|nvoptix)\.so")
# A failure inside worker processes or their shared memory (torch.utils.data's workers, multiprocessing's SemLock)
WORKERS = re.compile(r"DataLoader|multiprocessing|SemLock|/torch_\d+")
# numpy's import check (numpy/core/code_generators, _import_array): "module compiled against API version 0xN but this
# version of numpy is 0xM", stable since numpy 1.x.
NUMPY_API = re.compile(
    r"compiled against (?:ABI|API) version 0x([0-9a-fA-F]+) but this version of numpy is 0x([0-9a-fA-F]+)"
)
UNDEFINED = re.compile(r"(?:(\S+\.so[.\d]*): )?undefined symbol: (\S+?)(?:, version (\S+))?$", re.M)
VERSION_NOT_FOUND = re.compile(r"version `([A-Z]+)_([\d.]+)' not found(?: \(required by ([^)]+)\))?")
REMEDY = re.compile(
    r"(?:^|[.!:]\s+)((?:Please|Try|To fix|To resolve|You (?:can|may|should|need|might)|Consider|Set|Use|Install|"
    r"Run|Make sure|Ensure|Either)\b[^\n]*)",
    re.M,
)


@dataclasses.dataclass(frozen=True)
class Facts:
    """The facts a diagnosis reads, all collected before torch is imported: provenance (checks/machine/provenance.py),
    requirements (requirements.py), the loader's variables (loader.py), the OS (system.py) and the GPU's access
    path (gpu_access.py). The libraries
    loaded after a good import are verify's `libraries` check's (they exist only in the process that imported)."""

    provenance: object
    requirements: object
    loader_inputs: Dict[str, str]
    system: object
    variables: Dict[str, str] = dataclasses.field(default_factory=dict)
    gpu_access: GpuAccess = dataclasses.field(default_factory=GpuAccess)
    interpreter: InterpreterBuild = dataclasses.field(default_factory=InterpreterBuild)

    def to_dict(self):
        """The JSON form (report.schema.json: facts)."""
        return {
            "provenance": self.provenance.to_dict(),
            "requirements": self.requirements.to_dict(),
            "loader": {"inputs": dict(self.loader_inputs)},
            "system": self.system.to_dict(),
            "variables": dict(self.variables),
            "gpu_access": self.gpu_access.to_dict(),
            "interpreter": self.interpreter.to_dict(),
        }

    @property
    def torch_dir(self):
        torch = self.provenance.packages.get("torch")
        return torch.imported.path if torch is not None and torch.imported is not None else None


@dataclasses.dataclass(frozen=True)
class Cause:
    """A diagnosis: what went wrong (`meaning`), the fix, and the fact that decides it; `recognised` False for an
    error no fact or table explains."""

    meaning: str
    fix: str
    fact: str
    recognised: bool = True
    rule: str = ""  # which rule decided (the by_* function's name, without by_)


@dataclasses.dataclass(frozen=True)
class Parts:
    """The objects a failure text names."""

    line: str
    text: str
    errno: Tuple[str, ...]
    libraries: Tuple[str, ...]
    packages: Tuple[str, ...]
    missing_module: Optional[str]
    cannot_open: Tuple[str, ...]
    undefined: Tuple[Tuple[Optional[str], str, Optional[str]], ...]
    version_needed: Tuple[Tuple[str, str, Optional[str]], ...]
    paths: Tuple[str, ...]
    load_errors: Tuple[loader.LoadError, ...] = ()


def parse(text):
    """Take a failure's text (an exception line, a traceback, a crashed process's output) apart into Parts."""
    text = text or ""
    packages: List[str] = []
    found = MISSING_MODULE.search(text)
    missing = found.group(1) if found else "torch._C" if TORCH_C_FOLDER.search(text) else None
    for name in (
        ([missing] if missing else [])
        + [a or b for a, b in FROM_MODULE.findall(text)]
        + SITE_PACKAGE.findall(text)
        + [m for m in re.findall(r"\b(torch(?:vision|audio)?)[/\\:.]", text)]
    ):
        top = name.split(".")[0]
        if top and top not in packages:
            packages.append(top)
    return Parts(
        line=errors.extract(text).line,
        text=text[-20000:],
        errno=tuple(kind for kind, pattern in ERRNO if pattern.search(text)),
        libraries=tuple(loader.names_in(text)),
        packages=tuple(packages),
        missing_module=missing,
        cannot_open=tuple(dict.fromkeys(os.path.basename(n) for n in CANNOT_OPEN.findall(text))),
        undefined=tuple(UNDEFINED.findall(text)),
        version_needed=tuple(VERSION_NOT_FOUND.findall(text)),
        paths=tuple(dict.fromkeys(p for p in PATH.findall(text) if len(p) > 1)),
        load_errors=tuple(loader.load_errors(text)),
    )


def _component(library):
    for pattern, key in COMPONENTS:
        if pattern.search(library):
            return key
    return None


def _relevant(requirement, names):
    """True when an unmet requirement concerns one of `names` (packages or NVIDIA component keys)."""
    canonical = requirement.name.lower().replace("_", "-")
    owner = requirement.owner.split()[0].lower()
    for name in names:
        name = name.lower().replace("_", "-")
        if canonical == name or owner == name or re.search(r"(^|-)(%s)(-|$)" % name, canonical):
            return True
    return False


def _fix_origin(copy, name):
    if copy.origin == provenance.USER_SITE:
        return "remove the user-site copy: `python -m pip uninstall --user %s` (or set PYTHONNOUSERSITE=1)" % name
    if copy.origin == provenance.PYTHONPATH:
        return "drop %s from PYTHONPATH" % copy.entry
    if copy.origin == provenance.CURRENT_DIRECTORY:
        return "run from another directory: %s holds a %s/ folder that shadows the installed one" % (copy.entry, name)
    return "remove %s from sys.path (a .pth file or PYTHONHOME adds it), or uninstall %s there" % (copy.entry, name)


def by_provenance(parts, facts):
    """Rule 1: the copy imported, or the interpreter, is not the environment's."""
    prov = facts.provenance
    if prov.foreign_interpreter:
        own = os.path.join(prov.environment, "Scripts" if os.name == "nt" else "bin", "python")
        return Cause(
            meaning="this Python (%s) is not the activated environment's (%s)" % (prov.interpreter, prov.environment),
            fix="run the environment's own Python: `%s -m ...` (under pixi: `pixi run python ...`; a notebook: select "
            "that environment's kernel)" % own,
            fact="interpreter %s outside %s" % (prov.interpreter, prov.environment),
        )
    names = [n for n in provenance.PACKAGES if n in parts.packages] or ["torch"]
    for name in names:
        package = prov.packages.get(name)
        copy = package.imported if package else None
        if copy is None:
            continue
        if copy.empty:
            return Cause(
                meaning="the %s that Python finds is an empty directory (%s): a leftover of an uninstall, or a folder "
                "of that name, imported as an empty namespace package" % (name, copy.path),
                fix="remove %s (or run from another directory), then use the environment's %s" % (copy.path, name),
                fact="%s: %s" % (name, copy.describe()),
            )
        own = [c for c in package.others if c.origin == provenance.ENVIRONMENT]
        if copy.origin != provenance.ENVIRONMENT and (own or copy.origin == provenance.CURRENT_DIRECTORY):
            behind = (" ahead of the environment's %s" % own[0].describe()) if own else ""
            return Cause(
                meaning="Python imports %s %s%s" % (name, copy.describe(), behind),
                fix=_fix_origin(copy, name),
                fact="%s imported from %s" % (name, copy.origin),
            )
    return None


def _held_by(entry, name):
    """True when sys.path entry `entry` holds top-level module `name` (a package, a .py file or an extension)."""
    base = os.path.join(entry, name)
    return os.path.isdir(base) or os.path.isfile(base + ".py") or bool(glob.glob(glob.escape(base) + ".*so"))


def by_foreign_path(parts, facts):
    """Rule 1a: the failing module is imported from a PYTHONPATH entry of another Python's packages
    (provenance.foreign_paths: lib/python2.7/dist-packages on a Python 3). PYTHONPATH precedes the environment's
    site-packages (docs.python.org/3/library/sys_path_init.html), so its copy is taken first, whatever it was built
    for; the failure is that copy's (pure Python for 2.7, or extension modules named for another interpreter, which
    the extension rule 1b describes). Precedes 1b: the entry is why the wrong files are on the path at all."""
    foreign = getattr(facts.provenance, "foreign_paths", ())
    if not foreign:
        return None
    names = [n.split(".")[0] for n in ([parts.missing_module] if parts.missing_module else []) + list(parts.packages)]
    for position, item in enumerate(foreign):
        root = item.entry.rstrip("/\\")
        named = [p for p in parts.paths if p.startswith(root + "/")]
        modules = [n for n in dict.fromkeys(names) if _held_by(item.entry, n)]
        # an earlier PYTHONPATH entry holding it would be imported instead
        modules = [n for n in modules if not any(_held_by(f.entry, n) for f in foreign[:position])]
        if not modules and not named:
            continue
        module = modules[0] if modules else named[0][len(root) + 1 :].split("/")[0]
        python = "%d.%d" % sys.version_info[:2]
        extension = by_extension(parts, facts)
        meaning = (
            "PYTHONPATH holds %s, packages for Python %s%s, ahead of this Python %s's own: %s is imported "
            % (
                item.entry,
                item.python,
                " (%s puts it there)" % item.set_by if item.set_by else "",
                python,
                module,
            )
            + "from there, not from the environment"
        )
        if extension is not None:
            meaning += "; " + extension.meaning
        after = " after sourcing %s" % item.set_by if item.set_by else ""
        return Cause(
            meaning=meaning,
            fix="remove it from PYTHONPATH: `unset PYTHONPATH`, or drop %s from PYTHONPATH%s, so that Python %s "
            "imports its own %s" % (item.entry, after, python, module),
            fact="PYTHONPATH entry %s (Python %s) holds %s" % (item.entry, item.python, module),
        )
    return None


def by_stdlib(parts, facts):
    """Rule 1a: the module the failure misses is one of CPython's optional standard-library extension modules
    (interpreter.OPTIONAL_EXTENSIONS) and this interpreter has no file of it in its lib-dynload directory nor has it
    built in: the interpreter was compiled without that library's headers (CPython's build skips the module then),
    so no pip package can provide it; it must be built again with the headers, or another Python used."""
    build = facts.interpreter
    name = (parts.missing_module or "").split(".")[0]
    if not name or name not in build.missing:
        return None
    library, debian, fedora = interpreter.OPTIONAL_EXTENSIONS[name]
    where = {
        "pyenv": "built from source by pyenv",
        "conda": "a conda package",
        "system": "the OS's package",
        "source": "built from source",
    }.get(build.origin, "of unknown origin")
    rebuild = build.rebuild_command()
    again = "`%s`" % rebuild if rebuild else "its `./configure && make && make install` again"
    if build.origin == "system":
        fix = (
            "install the OS package that ships this module (Debian/Ubuntu split the standard library into "
            "packages), or use a Python built with %s (conda's or pixi's python)" % library
        )
    else:
        fix = (
            "install %s's headers (Debian/Ubuntu: `apt install %s`; Fedora/RHEL: `dnf install %s`), then rebuild "
            "this Python: %s (environments made from it keep working); or use a Python built with %s (conda's or "
            "pixi's python, the OS's)" % (library, debian, fedora, again, library)
        )
    return Cause(
        meaning="this Python %s (%s, %s) was compiled without %s's headers, so its standard-library module %s was "
        "never built: CPython skips an optional module whose library it cannot find, and no pip package provides it"
        % (build.version, build.base_prefix, where, library, name),
        fix=fix,
        fact="%s missing from %s" % (name, build.dynload),
    )


def by_requirement(parts, facts):
    """Rule 2: what the failing package needs is not what is installed: an unmet declared requirement (in torch's
    whole dependency closure), a pre-release of a package the closure holds, or torchvision/torchaudio from another
    conda channel than torch (each distributor builds against its own torch binary)."""
    reqs = facts.requirements
    keys = list(parts.packages) + [k for k in map(_component, parts.libraries) if k]
    if parts.missing_module:
        keys.append(parts.missing_module.split(".")[0])
    for key in keys:
        for req in reqs.unmet():
            if _relevant(req, key.split("|")):
                return Cause(
                    meaning="an unmet requirement: %s" % req.describe(),
                    fix=req.fix(),
                    fact=req.describe(),
                )
    named = {k.lower().replace("_", "-") for k in keys}
    api = NUMPY_API.search(parts.text)
    numpy = reqs.closure.get("numpy")
    if api and numpy and int(api.group(1), 16) > int(api.group(2), 16):
        return Cause(
            meaning="numpy %s is older than the numpy this build was compiled against (its C API version 0x%s, "
            "numpy's 0x%s)" % (numpy, api.group(1), api.group(2)),
            fix="upgrade numpy: `python -m pip install -U numpy` (conda: `conda update numpy`)",
            fact="numpy %s, C API 0x%s < 0x%s" % (numpy, api.group(2), api.group(1)),
        )
    for name, version in reqs.prereleases():
        if name in named:
            release = re.match(r"\d+(\.\d+)?", version).group()
            return Cause(
                meaning="%s %s is a pre-release, installed where torch's dependencies expect a release"
                % (name, version),
                fix='python -m pip install "%s<%s" (the newest release before it)' % (name, release),
                fact="%s %s (pre-release)" % (name, version),
            )
    torch_channel = reqs.channels.get("torch")
    for name in ("torchvision", "torchaudio"):
        channel = reqs.channels.get(name)
        if name in named and torch_channel and channel and channel != torch_channel:
            return Cause(
                meaning="torch comes from the conda channel %s and %s from %s: each channel builds against its own "
                "torch binary, so their libraries do not fit" % (torch_channel, name, channel),
                fix="install torch, torchvision and torchaudio from one channel (e.g. `conda install -c pytorch "
                'pytorch %s`, or pin the channel per package in pixi: `pytorch = { channel = "pytorch" }`)' % name,
                fact="torch from %s, %s from %s" % (torch_channel, name, channel),
            )
    return None


def _install_command(dist, extra=""):
    """The exact command that installs `dist`'s version again, chosen for this interpreter: pip (with torch's own
    index for a `+cpu`/`+cuXYZ` local label) or conda for a conda-installed one."""
    if dist.installer == "conda":
        name = provenance.CONDA_NAMES.get(dist.name.lower(), (dist.name,))[0]
        return 'conda install --force-reinstall "%s==%s"' % (name, dist.version)
    local = dist.version.partition("+")[2]
    index = (
        " --index-url https://download.pytorch.org/whl/%s" % local
        if TORCH_INDEX_LABEL.match(local) and dist.name.lower() in provenance.PACKAGES
        else ""
    )
    return 'python -m pip install --force-reinstall --no-deps%s "%s==%s"%s' % (extra, dist.name, dist.version, index)


def by_extension(parts, facts):
    """Rule 1b: the compiled extension module the failure misses (`No module named 'torch._C'`, torch's "Failed to
    load PyTorch C extensions", `numpy.core._multiarray_umath`) as the import system sees it: Python loads an
    extension only from a file named NAME + one of importlib.machinery.EXTENSION_SUFFIXES (its FileFinder), so a
    `_C.cpython-35m-x86_64-linux-gnu.so` beside `torch/__init__.py` is never loaded by Python 3.11; the wheel's
    WHEEL `Tag:` lines (PEP 425) say which interpreter it was built for. Three facts decide: files for another
    interpreter only; no file, although the install's RECORD lists one (an incomplete install); no file and no
    .dist-info at all under a source checkout (setup.py/pyproject.toml beside the package: extensions not built)."""
    module = parts.missing_module
    if not module or "." not in module:
        return None
    found = distributions.extension(module, environment=facts.provenance.environment)
    if found is None or found.loadable:
        return None
    dist = found.distribution
    python, abi, plat = distributions.interpreter_tag()
    here = "%s (%s-%s-%s)" % (sys.version.split()[0], python, abi, plat)
    if found.files:
        tags = [distributions.EXTENSION_FILE.match(f).group("tag") or "" for f in found.files]
        pythons = sorted({distributions.built_for(t) for t in tags} - {None})
        meaning = "%s's compiled extension %s is there only as %s%s; this Python %s loads only %s (%s)" % (
            module.rpartition(".")[0],
            module,
            ", ".join(found.files),
            ", built for Python %s" % " and ".join(pythons) if pythons else ", built for another interpreter",
            here,
            ", ".join(module.rpartition(".")[2] + s for s in found.suffixes),
            "importlib.machinery.EXTENSION_SUFFIXES",
        )
        fact = "%s in %s, none with this interpreter's suffix" % (", ".join(found.files), found.directory)
        if dist is not None and found.foreign_tags:
            meaning += "; %s %s's WHEEL says %s: a wheel for another Python, renamed or forced onto this one" % (
                dist.name,
                dist.version,
                ", ".join(found.foreign_tags),
            )
            fact += "; WHEEL Tag %s" % ", ".join(found.foreign_tags)
        if dist is None:
            return Cause(
                meaning=meaning,
                fix="build %s for this Python (%s) where it came from, or install the release built for it"
                % (module.split(".")[0], python),
                fact=fact,
            )
        return Cause(
            meaning=meaning,
            fix="install the %s wheel built for this interpreter (%s-%s, %s; never a renamed wheel for another "
            "Python): `%s`" % (dist.name, python, abi, plat, _install_command(dist)),
            fact=fact,
        )
    if dist is not None and found.listed:
        return Cause(
            meaning="%s %s is installed incompletely: %s, which its RECORD lists, is missing"
            % (dist.name, dist.version, ", ".join(found.listed)),
            fix="`%s`" % _install_command(dist),
            fact="%s missing from %s %s's installed files" % (found.listed[0], dist.name, dist.version),
        )
    top = found.directory
    for _ in range(module.count(".") - 1):  # up from the extension's package to the top-level package
        top = os.path.dirname(top.rstrip(os.sep))
    checkout = os.path.dirname(top.rstrip(os.sep))
    last = module.rpartition(".")[2]
    # that the module is a compiled one: torch's own message says so, or a type stub describes it (PEP 484 stubs
    # accompany extension modules: torch/_C/__init__.pyi, generated from __init__.pyi.in at build time)
    stub = any(
        os.path.exists(os.path.join(found.directory, *p))
        for p in ((last + ".pyi",), (last, "__init__.pyi"), (last, "__init__.pyi.in"))
    )
    built_here = any(os.path.isfile(os.path.join(checkout, f)) for f in ("setup.py", "pyproject.toml"))
    if dist is None and built_here and (stub or TORCH_C_FOLDER.search(parts.text)):
        return Cause(
            meaning="%s is a source checkout whose compiled extensions are not built: %s has no %s file for this "
            "Python %s" % (checkout, found.directory, last + found.suffixes[0], here),
            fix="build them in place (`cd %s && python -m pip install -e . --no-build-isolation`), or take %s off "
            "sys.path (run from another directory, drop it from PYTHONPATH) to use an installed release"
            % (checkout, checkout),
            fact="no %s extension in %s, no .dist-info" % (module, found.directory),
        )
    return None


def by_pair(parts, facts):
    """Rule 2b: one installed package imports a name another installed package does not define (CPython's
    "cannot import name 'X' from 'M' (PATH)" / "module 'M' has no attribute 'X'"; the importer is the package of the
    innermost traceback frame outside M). Facts: both .dist-infos (version, location, the importer's Requires-Dist
    on M). Rule 2 has already judged unmet requirements of torch's closure; here an unmet one of any importer is
    named, and a met one means the two releases do not fit although pip is satisfied: upgrade the importer, or pin
    M below the installed release; a copy of M from outside the environment is itself a fact, and its removal a
    fix."""
    found = None
    for match in CANNOT_IMPORT.finditer(parts.text):
        found = (match.start(), match.group(2), match.group(1), match.group(3))
    for match in NO_ATTRIBUTE.finditer(parts.text):
        if found is None or match.start() > found[0]:
            found = (match.start(), match.group(1), match.group(2), None)
    if found is None:
        return None
    start, module, name, location = found
    top = module.split(".")[0]
    inside = re.compile(r"[/\\]%s(?:[/\\]|\.py$|\.[\w-]+\.(?:so|pyd)$)" % re.escape(top))
    frames = [f for f in FRAME.findall(parts.text[:start]) if not f.startswith("<") and not inside.search(f)]
    if not frames:
        return None
    module_file = location if location and os.path.isabs(location) else None
    found_pair = distributions.pair(frames[-1], module, name, module_file, environment=facts.provenance.environment)
    if found_pair is None:
        return None
    importer, provider = found_pair.importer, found_pair.provider
    away = "; %s comes from outside the environment: %s" % (provider.name, _fix_origin(provider, provider.name))
    away = away if provider.origin != provenance.ENVIRONMENT else ""
    if found_pair.met is False:
        return Cause(
            meaning="an unmet requirement: %s requires %s; installed: %s (%r is not in it)"
            % (importer.describe(), found_pair.declared, provider.describe(), name),
            fix='python -m pip install "%s"%s' % (found_pair.declared.split(";")[0].strip(), away),
            fact="%s %s requires %s; %s %s installed"
            % (importer.name, importer.version, found_pair.declared, provider.name, provider.version),
        )
    if found_pair.declared is None:
        declared = "%s declares no requirement on %s" % (importer.name, provider.name)
    elif found_pair.met:
        declared = "%s's declared requirement %s is met, so pip sees no conflict" % (importer.name, found_pair.declared)
    else:
        declared = "%s declares %s (not judged: `packaging` is not installed)" % (importer.name, found_pair.declared)
    mixed = (
        "; a mixed install: %s from %s, %s from %s" % (importer.name, importer.origin, provider.name, provider.origin)
        if importer.origin != provider.origin
        else ""
    )
    upgrade = "upgrade %s: `python -m pip install -U %s`" % (importer.name, importer.name)
    if importer.origin != provenance.ENVIRONMENT:
        upgrade += " (its copy from %s is imported first: upgrade or remove that one; %s)" % (
            importer.origin,
            _fix_origin(importer, importer.name),
        )
    return Cause(
        meaning="%s imports %r from %s, which %s does not define: the two releases do not fit together (%s)%s"
        % (importer.describe(), name, module, provider.describe(), declared, mixed),
        fix='%s, or install a %s release that still provides %s: `python -m pip install "%s<%s"`%s'
        % (upgrade, provider.name, name, provider.name, provider.version, away),
        fact="%s %s (%s) with %s %s (%s): %s.%s missing"
        % (
            importer.name,
            importer.version,
            importer.origin,
            provider.name,
            provider.version,
            provider.origin,
            module,
            name,
        ),
    )


def _shadow(library, facts, requester=None):
    """A Cause when the loader takes `library` from outside the environment and the environment has its own copy
    (loader.foreign_copy; the variable or directory responsible is the fix), else None."""
    env = facts.provenance.environment
    found = loader.resolve(library, requester, environment=env, torch_dir=facts.torch_dir)
    foreign = loader.foreign_copy(found, env, facts.torch_dir)
    if foreign is None:
        return None
    return Cause(meaning=foreign.meaning(), fix=foreign.fix(), fact=foreign.fact())


def _unlinked(soname, facts):
    """A Cause when an environment's library directory holds a versioned file of `soname` (libstdc++.so.6.0.34) but
    no `soname` link to it: the loader looks up the soname only, so it takes another copy (a conda package whose
    link went missing, pytorch/pytorch#157709)."""
    dirs = loader.environment_dirs(facts.provenance.environment, facts.torch_dir)
    conda = os.environ.get("CONDA_PREFIX")
    if conda and os.path.isdir(os.path.join(conda, "lib")):
        dirs.append(os.path.join(conda, "lib"))
    for d in dict.fromkeys(dirs):
        try:
            names = os.listdir(d)
        except OSError:
            continue
        versioned = sorted(
            (n for n in names if n.startswith(soname + ".")), key=lambda n: [int(x) for x in re.findall(r"\d+", n)]
        )
        if versioned and soname not in names:
            return Cause(
                meaning="%s holds %s but no %s link to it, so the loader takes another %s"
                % (d, versioned[-1], soname, soname),
                fix="restore the link: `cd %s && ln -s %s %s` (or reinstall the package that owns it, e.g. "
                "`conda install -c conda-forge libstdcxx-ng`)" % (d, versioned[-1], soname),
                fact="%s without %s" % (os.path.join(d, versioned[-1]), soname),
            )
    return None


def _requester(path, facts):
    if path and os.path.isfile(path):
        return path
    torch_dir = facts.torch_dir
    if not torch_dir:
        return None
    for name in ("lib/libtorch_cuda.so", "lib/libtorch_cpu.so", "lib/libtorch_global_deps.so"):
        if os.path.isfile(os.path.join(torch_dir, name)):
            return os.path.join(torch_dir, name)
    return None


def _environment_kind(facts):
    """How packages get into the environment: "pixi", "conda" (a prefix with conda-meta/) or "pip"."""
    prov = facts.provenance
    if getattr(prov, "activated_by", None) == "pixi":
        return "pixi"
    if os.path.isdir(os.path.join(prov.environment, "conda-meta")):
        return "conda"
    return "pip"


def _locate(name, facts):
    """The file a loader message names: the path itself, else the copy the loader would take for that soname, else
    the environment's own copy; None when there is none."""
    if not name:
        return None
    if "/" in name:
        return name if os.path.isfile(name) else None
    env, torch_dir = facts.provenance.environment, facts.torch_dir
    found = loader.resolve(name, _requester(None, facts), environment=env, torch_dir=torch_dir)
    if found.path and os.path.isfile(found.path):
        return found.path
    own = loader.own_copies(name, env, torch_dir)
    return own[0] if own else None


def _what(head):
    """What a file that is not a loadable ELF object is, from its first bytes."""
    if head.size == 0:
        return "an empty file"
    if head.start.startswith(b"version https://git-lfs"):
        return "a Git LFS pointer (a text file naming the real one), not the library"
    if head.start.lstrip()[:1] == b"<":
        return "an HTML or XML page (a download that saved an error page), not the library"
    if head.elf:
        return "a %s ELF file of %d bytes" % (head.architecture(), head.size)
    text = all(32 <= b < 127 or b in (9, 10, 13) for b in head.start)
    return "a %s file of %d bytes, not an ELF library" % ("text" if text else "binary", head.size)


def _damaged(error, facts):
    """ "file too short", "cannot read file data", "invalid ELF header" and the other header checks of glibc's
    open_verify: the file's bytes are not the library. Decided by its size against its package's record (pip RECORD,
    conda paths_data) and against its own headers' extent."""
    from checks.machine import requirements

    path = _locate(error.object, facts)
    head = loader.header(path) if path else None
    if head is None:
        return None
    owner = requirements.owner_of(path)
    if owner is not None and owner.size is not None and owner.size != head.size:
        gap = requirements.Gap(owner.package, owner.version, owner.source, path, owner.size, head.size)
        return Cause(
            meaning="the loader cannot load %s (%s): the file is %d bytes where %s %s's %s promises %d, a truncated "
            "or corrupt install (an interrupted download or extraction, or a broken package cache)"
            % (
                path,
                error.message,
                head.size,
                owner.package,
                owner.version,
                "RECORD" if owner.source == requirements.PIP else "conda record",
                owner.size,
            ),
            fix=gap.fix(),
            fact=gap.describe(),
        )
    if head.truncated or not head.elf:
        state = (
            "is %d bytes, shorter than its own ELF headers say (%d)" % (head.size, head.extent)
            if head.truncated
            else "is %s" % _what(head)
        )
        who = (
            "%s %s installed it: `%s`"
            % (owner.package, owner.version, requirements.Gap(owner.package, owner.version, owner.source, path).fix())
            if owner is not None
            else "no package record lists it; replace it with a complete copy from where it came (reinstall the "
            "package that put it there)"
        )
        return Cause(
            meaning="the loader cannot load %s (%s): the file %s" % (path, error.message, state),
            fix=who,
            fact="%s %s" % (path, state),
        )
    return None


def _foreign_files(name, facts):
    """[(path, Header, where)] of the files called `name` the loader would look at (the path itself, LD_PRELOAD,
    LD_LIBRARY_PATH, the requester's run paths, the environment's library directories, the default directories)
    that are ELF files of another class or machine than this interpreter."""
    host = loader.host()
    if host is None or not name:
        return []
    if "/" in name:
        places = [(name, "the path named")]
    else:
        places = [(p, "LD_PRELOAD") for p in re.split(r"[:\s]+", facts.loader_inputs.get("LD_PRELOAD", "")) if p]
        places = [(p, w) for p, w in places if os.path.basename(p) == name]
        places += [
            (os.path.join(d, name), "LD_LIBRARY_PATH")
            for d in facts.loader_inputs.get("LD_LIBRARY_PATH", "").split(":")
            if d
        ]
        info = loader.dynamic(_requester(None, facts) or "")
        for d in (info.rpath + info.runpath) if info else ():
            places.append((os.path.join(d, name), "the run path of %s" % os.path.basename(_requester(None, facts))))
        for d in loader.environment_dirs(facts.provenance.environment, facts.torch_dir):
            places.append((os.path.join(d, name), "the environment"))
        places += [(os.path.join(d, name), "a default directory") for d in loader.DEFAULT_DIRS]
    out, seen = [], set()
    for path, where in places:
        real = os.path.realpath(path)
        if real in seen or not os.path.isfile(path):
            continue
        seen.add(real)
        head = loader.header(path)
        if head is not None and head.elf and head.bits and (head.bits, head.machine) != (host.bits, host.machine):
            out.append((path, head, where))
    return out


def _foreign(error, facts):
    """ "wrong ELF class: ELFCLASS32/64" (glibc found only files of the other class), or "cannot open shared object
    file" where a file of that name exists (open_verify skips another e_machine as if absent): the file is built
    for another architecture."""
    from checks.machine import requirements

    found = _foreign_files(error.object, facts)
    if not found:
        return None
    path, head, where = found[0]
    host = loader.host()
    owner = requirements.owner_of(path)
    if owner is not None:
        fix = "install %s's build for %s: %s" % (
            owner.package,
            host.architecture(),
            'python -m pip install --force-reinstall --no-deps --no-cache-dir "%s==%s" (pip picks the wheel of this '
            "machine's platform)" % (owner.package, owner.version)
            if owner.source == requirements.PIP
            else "an environment solved for this machine's platform (`conda install --force-reinstall %s`, or "
            "recreate the environment here)" % owner.package,
        )
    elif where == "LD_LIBRARY_PATH":
        fix = "remove %s from LD_LIBRARY_PATH (it holds a %s copy)" % (os.path.dirname(path), head.architecture())
    else:
        fix = "replace %s with a %s build of it" % (path, host.architecture())
    return Cause(
        meaning="%s is a %s library and this Python is %s: the loader cannot use it (%s)"
        % (path, head.architecture(), host.architecture(), error.message),
        fix=fix,
        fact="%s: %s (%s), host %s" % (path, head.architecture(), where, host.architecture()),
    )


def _execstack(error, facts):
    """ "cannot enable executable stack as shared object requires": the object's PT_GNU_STACK asks for an executable
    stack (or it has none, on a machine whose ABI default is executable) and the loader may not grant it. glibc 2.41
    NEWS: dlopen no longer makes the stack executable, such objects fail to load (EINVAL); the tunable
    glibc.rtld.execstack=2 (glibc 2.42, manual/tunables.texi) makes the stack executable from the start; before
    2.41 the loader's mprotect can be refused by a security policy (EACCES/EPERM), or by glibc.rtld.execstack=0."""
    from checks.machine import requirements

    path = _locate(error.object, facts)
    head = loader.header(path) if path else None
    asks = head.executable_stack if head is not None else None
    glibc = facts.system.glibc
    tunables = facts.loader_inputs.get("GLIBC_TUNABLES", "")
    target = path or error.object or "the library"
    if asks:
        flag = (
            "its PT_GNU_STACK asks for one (%s)" % head.stack
            if head.stack
            else "it has no PT_GNU_STACK, which on %s means an executable stack" % head.architecture()
        )
    elif asks is False:
        # the loader's message is the evidence: the object it opened asks for an executable stack, this copy not
        flag = (
            "the loader says so of the object it opened; the copy at %s asks for none (PT_GNU_STACK %s), so the "
            "loader opened another file of that name (`LD_DEBUG=files` shows which)" % (path, head.stack)
        )
        target = "the file `LD_DEBUG=files python -c 'import torch'` names for %s" % os.path.basename(path)
    else:
        flag = "the loader says so of the object it opened (its headers were not read here)"
    if re.search(r"glibc\.rtld\.execstack=0", tunables):
        why = "GLIBC_TUNABLES=%s forbids executable stacks" % tunables
    elif glibc and not system_rules.older(glibc, "2.41") and error.reason in ("", "Invalid argument"):
        why = "glibc %s refuses to dlopen such a library (glibc 2.41 and later do)" % glibc
    elif error.reason in ("Permission denied", "Operation not permitted"):
        why = (
            "the kernel refused to make the stack executable (%s: a security policy such as SELinux's execstack "
            "denial)" % error.reason
        )
    else:
        why = "the loader could not make the stack executable (%s; glibc %s)" % (
            error.reason or "no reason given",
            glibc or "unknown",
        )
    owner = requirements.owner_of(path) if path else None
    update = ""
    if owner is not None:
        update = ", or install a build of %s linked with `-z noexecstack` where one exists (%s)" % (
            owner.package,
            "`python -m pip install -U %s`" % owner.package
            if owner.source == requirements.PIP
            else "`conda update %s`" % owner.package,
        )
    fix = "clear the flag: `patchelf --clear-execstack` on %s (or `execstack -c`)%s" % (target, update)
    if glibc and not system_rules.older(glibc, "2.41"):
        fix += (
            "; or keep the file and start Python with `GLIBC_TUNABLES=glibc.rtld.execstack=2` (glibc >= 2.42 makes "
            "the stack executable from the start)"
        )
    return Cause(
        meaning="%s needs an executable stack and %s: %s" % (error.object or path, why, flag),
        fix=fix,
        fact="%s; glibc %s; PT_GNU_STACK %s"
        % (error.message, glibc or "unknown", head.stack if head is not None and head.stack is not None else "unknown"),
    )


def by_load_error(parts, facts):
    """Rule 3a: the loader's own message (glibc's classes, loader.LOAD_ERRORS) and the facts of the file it names:
    a file shorter than its package's record or its own headers (truncated, corrupt), a file for another
    architecture, an object that needs an executable stack."""
    rules = {
        loader.SHORT: _damaged,
        loader.HEADER: _damaged,
        loader.CLASS: _foreign,
        loader.MISSING: _foreign,
        loader.EXECSTACK: _execstack,
    }
    for error in parts.load_errors:
        rule = rules.get(error.kind)
        cause = rule(error, facts) if rule else None
        if cause is not None:
            return cause
    return None


def _needed_by(name, facts, limit=400):
    """The environment's libraries (torch's, the nvidia wheels', the prefix's lib/) whose DT_NEEDED names `name`;
    at most `limit` files are read."""
    dirs = loader.environment_dirs(facts.provenance.environment, facts.torch_dir)
    if facts.torch_dir:
        dirs.insert(0, facts.torch_dir)
    out, read = [], 0
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for base in names:
            if ".so" not in base or read >= limit:
                continue
            read += 1
            info = loader.dynamic(os.path.join(d, base))
            if info is not None and name in info.needed:
                out.append(os.path.join(d, base))
    return out


def _unprovided(name, facts):
    """A Cause for a library (not NVIDIA's) that no directory the loader searches holds and no installed package's
    record lists: which of the environment's libraries needs it, and the install command of the package that
    provides it (PROVIDERS) for this environment's kind."""
    from checks.machine import requirements

    torch = facts.provenance.packages.get("torch")
    entries = [torch.imported.entry] if torch is not None and torch.imported is not None else []
    listed = requirements.providers({name}, entries=entries, prefixes=[facts.provenance.environment]).get(name)
    needers = _needed_by(name, facts)
    who = "needed by %s" % ", ".join(os.path.basename(n) for n in needers[:3]) if needers else ""
    if listed:
        owner = listed[0]
        return Cause(
            meaning="%s%s is installed (by %s %s) but in no directory the loader searches"
            % (name, " (%s)" % who if who else "", owner.package, owner.version),
            fix="put its directory on the loader path (LD_LIBRARY_PATH), or install a build of the library that "
            "needs it whose run path finds it",
            fact="%s listed by %s %s, not found by the loader" % (name, owner.package, owner.version),
        )
    provider = next((p for p in PROVIDERS if p[0].search(name)), None)
    kind = _environment_kind(facts)
    if provider is None:
        fix = "install the package that provides %s into the environment, or add its directory to LD_LIBRARY_PATH" % (
            name
        )
        what = ""
    else:
        _, what, pip, conda, system_package = provider
        if kind == "pixi":
            fix = "`pixi add %s`" % conda
        elif kind == "conda":
            fix = "`conda install -c conda-forge %s`" % conda
        elif pip:
            fix = (
                "`python -m pip install %s` (it puts %s in %s; add that directory to LD_LIBRARY_PATH if the "
                "library that needs it does not look there)"
                % (pip, name, os.path.join(facts.provenance.environment, "lib"))
            )
        else:
            fix = (
                "install %s: the OS's package (Debian/Ubuntu: `apt install %s`), or use a conda environment "
                "(conda-forge `%s`)" % (what, system_package, conda)
            )
        fix = "install the package that provides %s (%s): %s" % (name, what, fix)
        what = " (%s%s)" % (what, ", " + who if who else "")
    owner = ""
    if needers:
        lib_owner = requirements.owner_of(needers[0])
        if lib_owner is not None:
            owner = "; %s %s ships %s, which needs it, but not %s" % (
                lib_owner.package,
                lib_owner.version,
                os.path.basename(needers[0]),
                name,
            )
            fix += ", or install a build of %s that ships it" % lib_owner.package
    return Cause(
        meaning="%s%s is in no directory the loader searches and no installed package provides it%s"
        % (name, what or (" (%s)" % who if who else ""), owner),
        fix=fix,
        fact="%s: no file, no package record" % name,
    )


def _loader_inputs_files(facts):
    """Yield (variable, entry, folder, file names) for each LD_PRELOAD file and LD_LIBRARY_PATH directory, in the
    loader's order (ld.so(8): preloads first, then LD_LIBRARY_PATH); an entry that cannot be listed is left out."""
    sources = [("LD_PRELOAD", p) for p in re.split(r"[:\s]+", facts.loader_inputs.get("LD_PRELOAD", "")) if p]
    sources += [("LD_LIBRARY_PATH", d) for d in facts.loader_inputs.get("LD_LIBRARY_PATH", "").split(":") if d]
    for variable, where in sources:
        try:
            names = [os.path.basename(where)] if variable == "LD_PRELOAD" else sorted(os.listdir(where))
        except OSError:
            continue
        yield variable, where, (os.path.dirname(where) if variable == "LD_PRELOAD" else where), names


def _symbol_family(library, symbol, facts):
    """A Cause when an undefined `symbol` belongs to a library family (SYMBOL_FAMILIES) of which LD_PRELOAD or an
    LD_LIBRARY_PATH directory holds copies from outside the environment: the loader takes those first."""
    family = next((f for f in SYMBOL_FAMILIES if f[0].search(symbol)), None)
    if family is None:
        return None
    _, files, label = family
    env, torch_dir = facts.provenance.environment, facts.torch_dir
    for variable, where, folder, names in _loader_inputs_files(facts):
        mine, reals = [], set()
        for n in names:
            real = os.path.realpath(os.path.join(folder, n))
            if files.search(n) and real not in reals and not loader.is_own(real, env, torch_dir):
                mine.append(n)
                reals.add(real)
        if not mine:
            continue
        version = loader.version_of(os.path.join(folder, mine[0]))
        return Cause(
            meaning="%s lacks %s, a %s symbol, and %s puts %s first, which holds %s's own %s%s from outside the "
            "environment"
            % (
                os.path.basename(library) if library else "a library",
                symbol,
                label,
                variable,
                where,
                label,
                ", ".join(mine[:3]),
                " (version %s)" % version if version else "",
            ),
            fix="unset %s, or remove %s from it (and do not source the script that adds it), so that the %s the "
            "environment's libraries were built with loads" % (variable, where, label),
            fact="%s in %s" % (mine[0], variable),
        )
    return None


def by_library(parts, facts):
    """Rule 3: the libraries the failure names, resolved as the loader would."""
    system = facts.system
    for kind, number, required_by in parts.version_needed:
        if kind == "GLIBC" and system.glibc and system_rules.older(system.glibc, number):
            needed = system.glibc_needed
            return Cause(
                meaning="this build needs glibc %s (%s requires GLIBC_%s); the OS has glibc %s"
                % (number, os.path.basename(required_by) if required_by else "torch", number, system.glibc),
                fix="upgrade the OS (or the container image) to one with glibc >= %s, or install a torch release "
                "whose libraries need at most GLIBC_%s" % (number, system.glibc),
                fact="host glibc %s < needed %s%s" % (system.glibc, number, " (%s)" % needed[1] if needed else ""),
            )
        if kind in ("GLIBCXX", "CXXABI"):
            cause = _shadow("libstdc++.so.6", facts, _requester(required_by, facts)) or _unlinked(
                "libstdc++.so.6", facts
            )
            if cause:
                return cause
            return Cause(
                meaning="the libstdc++ the loader takes is older than %s needs (%s_%s)"
                % (os.path.basename(required_by) if required_by else "torch", kind, number),
                fix="install a newer libstdc++ into the environment (conda: `libstdcxx-ng>=12`, pixi: add "
                "`libstdcxx-ng`), or drop the directory of the old one from LD_LIBRARY_PATH",
                fact="%s_%s not in %s" % (kind, number, loader.resolve("libstdc++.so.6").path or "any libstdc++"),
            )
    for library, symbol, provider in parts.undefined:
        if not provider:
            continue
        requester = library if library and os.path.isfile(library) else None
        found = loader.resolve(provider, requester, environment=facts.provenance.environment, torch_dir=facts.torch_dir)
        if found.path and not found.own and found.via in ("LD_LIBRARY_PATH", "LD_PRELOAD"):
            return Cause(
                meaning="%s needs %s from %s, but the loader takes %s from %s (%s%s), which lacks it"
                % (
                    os.path.basename(library) if library else "a library",
                    symbol,
                    provider,
                    provider,
                    os.path.dirname(found.path),
                    found.via,
                    ", version %s" % found.version if found.version else "",
                ),
                fix="remove %s from %s so that the environment's own %s loads"
                % (os.path.dirname(found.path) if found.via == "LD_LIBRARY_PATH" else found.path, found.via, provider),
                fact="%s via %s" % (provider, found.via),
            )
    for library, symbol, provider in parts.undefined:
        cause = None if provider else _symbol_family(library, symbol, facts)
        if cause:
            return cause
    names = list(parts.libraries)
    for _, _, version in parts.undefined:
        if version and version not in names:
            names.insert(0, version)
    torch_libs = ("libtorch", "libc10", "libshm", "libtorch_python", "_C")
    for name in names:
        if name.startswith(torch_libs):
            continue
        cause = _shadow(name, facts, _requester(None, facts))
        if cause:
            return cause
    torch = facts.provenance.packages.get("torch")
    if parts.cannot_open and torch is not None and torch.imported is not None:
        from checks.machine import requirements

        gaps = requirements.record_gaps(torch.imported.entry, names=set(parts.cannot_open))
        if gaps:
            gap = gaps[0]
            return Cause(
                meaning="%s %s is installed incompletely: %s, which its RECORD lists, is missing"
                % (gap.package, gap.version, gap.path),
                fix=gap.fix(),
                fact="%s missing from %s %s's installed files" % (os.path.basename(gap.path), gap.package, gap.version),
            )
    for name in parts.cannot_open:
        if name.startswith(torch_libs) or DRIVER_LIBRARIES.search(name):
            continue
        found = loader.resolve(
            name, _requester(None, facts), environment=facts.provenance.environment, torch_dir=facts.torch_dir
        )
        if found.path is None and _component(name) is None:
            return _unprovided(name, facts)
        if found.path is None:
            key = _component(name)
            where = "LD_LIBRARY_PATH" if facts.loader_inputs.get("LD_LIBRARY_PATH") else "the loader path"
            return Cause(
                meaning="%s is in no directory the loader searches (the environment, %s, ld.so.cache)" % (name, where),
                fix=(
                    "install the package that provides it into the environment: pip `nvidia-%s-cuXX` for your "
                    "CUDA, conda `%s`" % (key.split("|")[0], "lib" + key.split("|")[-1])
                    if key
                    else "install the package that provides %s into the environment, or add its directory to "
                    "LD_LIBRARY_PATH" % name
                ),
                fact="%s not found" % name,
            )
    # An undefined symbol in a library the environment owns, whose dependencies all resolve inside it.
    return None


TORCH_LIBRARIES = re.compile(r"^lib(torch\w*|c10\w*|shm|caffe2\w*)\.(so|dylib)")


def by_loader_path(parts, facts):
    """Rule 3b: a directory on LD_LIBRARY_PATH (or a file in LD_PRELOAD) holds its own copy of a library the
    environment has, and the failure concerns it: one of torch's own libraries (any torch failure does), or a library
    of a component the error names ("cuDNN version incompatibility")."""
    named = {m.lower() for m in COMPONENT_WORDS.findall(" ".join([parts.line] + list(parts.libraries)))}
    named |= {k for k in map(_component, parts.libraries) if k}
    env_dirs = loader.environment_dirs(facts.provenance.environment, facts.torch_dir)
    own = {}
    for d in env_dirs:
        try:
            for name in os.listdir(d):
                own.setdefault(name, os.path.join(d, name))
        except OSError:
            continue
    candidates = []  # (rank, variable, where, name): a library of a component the error names first
    for variable, where, folder, names in _loader_inputs_files(facts):
        for name in names:
            if name not in own or loader.is_own(
                os.path.join(folder, name), facts.provenance.environment, facts.torch_dir
            ):
                continue
            key = _component(name)
            if key and any(k in named for k in key.split("|")):
                candidates.append((0, variable, where, name))
            elif TORCH_LIBRARIES.search(name):
                candidates.append((1, variable, where, name))
    if not candidates:
        return None
    _, variable, where, name = min(candidates, key=lambda c: c[0])
    theirs = where if variable == "LD_PRELOAD" else os.path.join(where, name)
    version, mine = loader.version_of(theirs), loader.version_of(own[name])
    return Cause(
        meaning="%s puts %s first, which holds its own %s%s, not the environment's %s%s"
        % (
            variable,
            where,
            name,
            " (version %s)" % version if version else "",
            own[name],
            " (version %s)" % mine if mine else "",
        ),
        fix="remove %s from %s (or unset %s) so that the environment's own libraries load"
        % (where, variable, variable),
        fact="%s in %s, also in the environment" % (name, variable),
    )


# CUDA's initialisation errors by class: (class, cudaError_t value, the texts torch surfaces). Meanings: CUDA Runtime
# API reference, "enum cudaError": cudaErrorInsufficientDriver (35) the driver is older than the runtime, or none is
# loaded; cudaErrorNoDevice (100) no CUDA-capable device; cudaErrorInitializationError (3) the driver and runtime
# could not be initialised; cudaErrorNotPermitted (800); cudaErrorSystemDriverMismatch (803) "a mismatch between the
# versions of the display driver and the CUDA driver"; cudaErrorUnknown (999). Texts: torch's own for 35, 100, 3 and
# 999 (c10/cuda/CUDAFunctions.cpp device_count_impl, alike in 2.0.1 and 2.13: "Found no NVIDIA driver" is 35 with
# cudaDriverGetVersion() 0, no libcuda loaded; "too old (found version N)" is 35 with a libcuda of CUDA N), else
# cudaGetErrorString's (strings of libcudart.so.11.0) after `CUDA error: `, or torch's `Error N: ` (its "Unexpected
# error from cudaGetDeviceCount()" warning).
CUDA_INIT_CLASSES = (
    ("no-driver", None, r"Found no NVIDIA driver on your system"),
    ("driver-too-old", None, r"NVIDIA driver on your system is too old"),
    ("insufficient-driver", 35, r"driver version is insufficient for CUDA runtime version"),
    ("no-device", 100, r"No CUDA GPUs are available|no CUDA-capable device is detected"),
    ("unknown", 999, r"CUDA unknown error|CUDA error: unknown error"),
    ("initialization", 3, r"CUDA driver initialization failed|CUDA error: initialization error"),
    ("not-permitted", 800, r"CUDA error: operation not permitted(?! (?:on|when))"),
    ("driver-mismatch", 803, r"system has unsupported display driver / cuda driver combination"),
)
CUDA_ERROR_CODE = re.compile(r"\bError (\d+): ")


def cuda_init_class(text):
    """Return the class (CUDA_INIT_CLASSES) of a CUDA initialisation failure's text, by its words, else by torch's
    `Error N: ` code; None for any other text."""
    for kind, _, pattern in CUDA_INIT_CLASSES:
        if re.search(pattern, text or ""):
            return kind
    code = CUDA_ERROR_CODE.search(text or "")
    return next((kind for kind, number, _ in CUDA_INIT_CLASSES if code and number == int(code.group(1))), None)


def _capabilities(access):
    """NVIDIA_DRIVER_CAPABILITIES without compute, and indeed no libcuda here."""
    if access.compute_granted is not False or not access.libcuda_missing:
        return None
    return Cause(
        meaning="the container was started with NVIDIA_DRIVER_CAPABILITIES=%s: the NVIDIA runtime mounts the driver's "
        "files of those capabilities only, and without `compute` not libcuda.so.1, so CUDA finds no driver (nvidia-smi "
        "and NVML, `utility`, still answer)" % access.capabilities,
        fix="start the container with the compute capability: `-e NVIDIA_DRIVER_CAPABILITIES=compute,utility` (or "
        "`all`); with --gpus: `--gpus 'all,\"capabilities=compute,utility\"'`",
        fact="NVIDIA_DRIVER_CAPABILITIES=%s (no compute), %s not found" % (access.capabilities, gpu_access.LIBCUDA),
    )


def _withheld(access, libcuda_too=False):
    """NVIDIA_VISIBLE_DEVICES gives the container no GPU (`none`), or nothing at all (`void`, empty: then no libcuda
    either, which `libcuda_too` requires)."""
    if not access.devices_withheld:
        return None
    value = access.visible_devices.strip().lower()
    if libcuda_too and (value == "none" or not access.libcuda_missing):
        return None
    return Cause(
        meaning="NVIDIA_VISIBLE_DEVICES=%s: the NVIDIA runtime gives this container no GPU%s"
        % (access.visible_devices, "" if value == "none" else " and none of the driver's libraries"),
        fix="start the container with the GPUs: `docker run --gpus all` (or NVIDIA_VISIBLE_DEVICES=all, or the GPUs' "
        "indices or UUIDs)",
        fact="NVIDIA_VISIBLE_DEVICES=%s" % access.visible_devices,
    )


def _libcuda_missing(access):
    """The loader finds no libcuda.so.1 (the class must say CUDA loaded none)."""
    if not access.libcuda_missing:
        return None
    if access.present(gpu_access.DXG):
        fix = (
            "WSL2 keeps libcuda in /usr/lib/wsl/lib: add it to LD_LIBRARY_PATH (or to /etc/ld.so.conf.d, then run "
            "`sudo ldconfig`)"
        )
    elif access.visible_devices is not None or access.capabilities is not None:
        fix = (
            "start the container with the NVIDIA runtime and its compute capability (`docker run --gpus all`, "
            "Apptainer `--nv`): it mounts the host's libcuda"
        )
    elif access.kernel_module:
        fix = (
            "install the user-space libraries of driver %s, the loaded kernel module's version (Ubuntu: "
            "libnvidia-compute-%s), or add the directory that holds libcuda.so.1 to /etc/ld.so.conf.d and run "
            "`sudo ldconfig`" % (access.kernel_module, access.kernel_module.split(".")[0])
        )
    else:
        fix = (
            "in a container, start it with the NVIDIA runtime (`docker run --gpus all`); on a host, add the "
            "directory that holds the driver's libcuda.so.1 to /etc/ld.so.conf.d and run `sudo ldconfig`"
        )
    return Cause(
        meaning="the CUDA runtime cannot load the driver's %s: it is in no directory the loader searches "
        "(LD_LIBRARY_PATH, ld.so.cache, /lib, /usr/lib), so CUDA reports no driver" % gpu_access.LIBCUDA,
        fix=fix,
        fact="%s not found" % gpu_access.LIBCUDA,
    )


def _no_gpu_node(access):
    """The control node without any /dev/nvidiaN."""
    if not access.gpu_nodes_missing:
        return None
    return Cause(
        meaning="/dev/nvidiactl is here but no /dev/nvidiaN: this process was given the driver but no GPU's device "
        "node",
        fix="pass the GPUs into the container (`docker run --gpus all`, or `--device /dev/nvidia0`); on a host, "
        "`sudo nvidia-modprobe -c 0` creates /dev/nvidia0",
        fact="no /dev/nvidia[0-9]",
    )


def _unopenable(access):
    """A node CUDA opens exists, but this process may not open it read-write."""
    nodes = access.unopenable()
    if not nodes:
        return None
    groups = sorted({n.group for n in nodes if n.group and n.group != "root"})
    fix = (
        "add the user to the group that owns them: `sudo usermod -aG %s $USER`, then log in again" % groups[0]
        if groups
        else "make them readable and writable for this user: the driver creates them 0666 unless its module options "
        "NVreg_DeviceFileMode / NVreg_DeviceFileGID say otherwise"
    )
    return Cause(
        meaning="this user may not open %s, which CUDA opens to reach the GPU"
        % ", ".join("%s (group %s)" % (n.path, n.group) if n.group else n.path for n in nodes),
        fix=fix + "; in a container, pass the devices with the NVIDIA runtime (`--gpus all`)",
        fact="%s not readable and writable by uid %s" % (nodes[0].path, getattr(os, "getuid", lambda: "?")()),
    )


def _uvm_missing(access):
    """The control node without /dev/nvidia-uvm."""
    if not access.uvm_missing:
        return None
    here = [n.path for n in access.nodes if n.exists and n.role in (gpu_access.CONTROL, gpu_access.GPU)]
    return Cause(
        meaning="/dev/nvidia-uvm is missing (the node of the driver's Unified Memory module, nvidia_uvm, which CUDA "
        "opens to create a context) while %s %s here: nvidia-smi can answer, CUDA cannot start"
        % (", ".join(here), "is" if len(here) == 1 else "are"),
        fix="create the nodes on the host: `sudo nvidia-modprobe -c 0 -u` (it loads nvidia_uvm and makes "
        "/dev/nvidia-uvm and /dev/nvidia-uvm-tools; CUDA runs it itself where it is installed setuid); in a "
        "container, pass both too (`--device /dev/nvidia-uvm "
        "--device /dev/nvidia-uvm-tools`, or the NVIDIA runtime's `--gpus all`)",
        fact="/dev/nvidia-uvm missing, %s present" % here[0],
    )


def _mismatch(access):
    """libcuda's version (its file name) is not the loaded kernel module's."""
    if not access.mismatch:
        return None
    library, module = access.mismatch
    if access.libcuda_via in ("LD_LIBRARY_PATH", "LD_PRELOAD"):
        fix = "remove %s from %s: the loader takes that libcuda before the driver's own" % (
            os.path.dirname(access.libcuda) if access.libcuda_via == "LD_LIBRARY_PATH" else access.libcuda,
            access.libcuda_via,
        )
    else:
        fix = (
            "reboot (or reload the nvidia kernel modules) so that the module is the libraries' version; in a "
            "container whose image carries its own libcuda (%s), remove it so that the runtime mounts the host's"
            % access.libcuda
        )
    return Cause(
        meaning="the loader takes libcuda %s (%s, via %s) while the loaded NVIDIA kernel module is %s: CUDA's driver "
        "library and the kernel module must be of one driver version"
        % (library, access.libcuda, access.libcuda_via, module),
        fix=fix,
        fact="libcuda %s, kernel module %s" % (library, module),
    )


# For each class, the facts consistent with it, most specific first: a fact is asked only where the class allows
# it (no "libcuda not found" for an error CUDA can only return after loading libcuda: 999, 3, 800, 803, "found
# version N").
GPU_ACCESS_CHECKS = {
    "no-driver": (_capabilities, lambda a: _withheld(a, libcuda_too=True), _libcuda_missing),
    "insufficient-driver": (_capabilities, lambda a: _withheld(a, libcuda_too=True), _libcuda_missing, _mismatch),
    "driver-too-old": (_mismatch,),
    "no-device": (_withheld, _no_gpu_node, _unopenable),
    "unknown": (_uvm_missing, _unopenable, _mismatch),
    "initialization": (_unopenable, _mismatch, _uvm_missing),
    "not-permitted": (_unopenable,),
    "driver-mismatch": (_mismatch,),
}


def by_gpu_access(parts, facts):
    """Rule 3d: CUDA could not initialise, and a fact of the GPU's access path that CUDA's error class allows
    explains it (GPU_ACCESS_CHECKS, in its order); None where none does (the CUDA table then keeps its meaning)."""
    kind = cuda_init_class(parts.text)
    if kind is None:
        return None
    for check in GPU_ACCESS_CHECKS[kind]:
        cause = check(facts.gpu_access)
        if cause is not None:
            return cause
    return None


# An index at or beyond the number of devices CUDA enumerated: torch's assert (aten/src/ATen/cuda/CUDAContext.cpp
# getDeviceProperties, 2.0.1 to 2.13: `device >= 0 && device < num_gpus INTERNAL ASSERT FAILED`), CUDA's
# cudaErrorInvalidDevice (101, "invalid device ordinal"), torch's `Invalid device id` / `invalid device ordinal`.
DEVICE_BEYOND_COUNT = re.compile(r"device < num_gpus|invalid device ordinal|Invalid device id", re.I)
MIG_ENTRY = re.compile(r"^MIG-")


def by_mig(parts, facts):
    """Rule 3e: a device index beyond what CUDA enumerated, while CUDA_VISIBLE_DEVICES names several MIG instances.
    NVIDIA's MIG User Guide ("CUDA Device Enumeration"; ptrblck on pytorch#130181 for CUDA 11/R450 and 12/R525):
    a CUDA process enumerates only a single MIG instance, however many are created or made visible, so the second
    named instance is no device of this process."""
    if not DEVICE_BEYOND_COUNT.search(parts.text):
        return None
    visible = facts.variables.get("CUDA_VISIBLE_DEVICES", "")
    migs = [e.strip() for e in visible.split(",") if MIG_ENTRY.match(e.strip())]
    if len(migs) < 2:
        return None
    return Cause(
        meaning="CUDA_VISIBLE_DEVICES names %d MIG instances, but a CUDA process can enumerate only a single MIG "
        'instance (NVIDIA MIG User Guide, "CUDA Device Enumeration"): this process has one device, and the job '
        "used a second" % len(migs),
        fix="run one process per MIG instance, each with one slice: CUDA_VISIBLE_DEVICES=%s for the first, "
        "CUDA_VISIBLE_DEVICES=%s for the second (e.g. one torchrun worker per slice); MIG slices cannot be used "
        "together as several devices of one process" % (migs[0], migs[1]),
        fact="CUDA_VISIBLE_DEVICES=%s (%d MIG instances)" % (visible, len(migs)),
    )


def by_variable(parts, facts, text=""):
    """Rule 3c: the error quotes a variable torch or a library it loads reads (its name, or a word of its value):
    that setting is the cause (an option this release does not know, an interface this host lacks, ...)."""
    for name, value in sorted(facts.variables.items()):
        if re.search(r"\b%s\b" % re.escape(name), text):
            return Cause(
                meaning="the error names %s=%s: %s" % (name, value, parts.line),
                fix="correct or unset %s (`unset %s`) and run again" % (name, name),
                fact="%s=%s" % (name, value),
            )
        for word in re.split(r"[,;:=\s]+", value):
            # a word, not a number, an address or a switch value: those appear in errors as context, not as cause
            if len(word) < 3 or not re.search(r"[A-Za-z]{2}", word) or word.lower() in ("true", "false", "yes", "none"):
                continue
            if re.search(r"(?<![\w.-])%s(?![\w-])" % re.escape(word), text):
                return Cause(
                    meaning="the error is about %r, which comes from %s=%s (this torch %s does not accept it)"
                    % (word, name, value, _torch_version(facts)),
                    fix="remove %s from %s (or unset %s), or use a torch release that knows it" % (word, name, name),
                    fact="%s=%s" % (name, value),
                )
    return None


def _torch_version(facts):
    torch = facts.provenance.packages.get("torch")
    return (
        torch.imported.version
        if torch is not None and torch.imported is not None and torch.imported.version
        else "installed"
    )


def by_system(parts, facts):
    """Rule 4: the OS resource the errno names."""
    system = facts.system
    paths = parts.paths
    # torch's shared-memory files are named /torch_<pid>_<random> (libshm's manager, torch/lib/libshm/core.cpp).
    shm_named = any(p.startswith(("/dev/shm", "/torch_")) for p in paths) or "shared memory" in parts.line.lower()
    if system.shm_bytes is None and sys.platform.startswith("linux") and WORKERS.search(parts.text):
        return Cause(
            meaning="there is no /dev/shm, through which DataLoader workers (and multiprocessing's locks) share memory",
            fix="mount a tmpfs on /dev/shm (a container: `--ipc=host` or `--shm-size=8g`); where none can be had "
            "(AWS Lambda), use DataLoader(num_workers=0)",
            fact="/dev/shm missing",
        )
    if system.shm_bytes is not None and ("EBUS" in parts.errno or ("ENOSPC" in parts.errno and shm_named)):
        return Cause(
            meaning="shared memory (/dev/shm, %s, %s free) is too small for the DataLoader workers' batches"
            % (system_rules.human_size(system.shm_bytes), system_rules.human_size(system.shm_free_bytes)),
            fix="give the container more shared memory (`docker run --ipc=host` or `--shm-size=8g`; Kubernetes: "
            "an emptyDir with medium: Memory on /dev/shm), or use fewer DataLoader workers",
            fact="/dev/shm %s" % system_rules.human_size(system.shm_bytes),
        )
    if "EMFILE" in parts.errno and system.nofile:
        soft, hard = system.nofile
        raise_to = hard if hard > soft or hard < 0 else None
        return Cause(
            meaning="the open-file limit (ulimit -n %s) is reached: with torch's file_descriptor sharing strategy "
            "every tensor a DataLoader worker shares holds a descriptor" % soft,
            fix=("raise it: `ulimit -n %s`" % (raise_to if raise_to and raise_to > 0 else "unlimited"))
            + ", or call torch.multiprocessing.set_sharing_strategy('file_system')",
            fact="RLIMIT_NOFILE soft %s, hard %s" % (soft, hard),
        )
    pids = getattr(system, "pids", None)
    if "EAGAIN" in parts.errno and pids is not None and pids.headroom() < system.threads_needed():
        return Cause(
            meaning="a thread or process could not be started: this cgroup's pids.max is %d (%d in use), and it "
            "counts every thread; torch's two thread pools of %d and DataLoader workers need about %d"
            % (pids.limit, pids.current or 0, system.threads, system.threads_needed()),
            fix="raise the container's pids limit (`docker run --pids-limit=%d` or more, podman likewise, Kubernetes "
            "podPidsLimit), or cap the thread pools to fit: `export OMP_NUM_THREADS=%d MKL_NUM_THREADS=%d` and fewer "
            "DataLoader workers"
            % (
                (pids.current or 0) + system.threads_needed(),
                max(1, (pids.headroom() - system_rules.PIDS_SPARE) // 2),
                max(1, (pids.headroom() - system_rules.PIDS_SPARE) // 2),
            ),
            fact="pids.max %d, pids.current %s in %s" % (pids.limit, pids.current, pids.cgroup),
        )
    if "NOEXEC" in parts.errno:  # the loader could not map a library: the address-space limit, or its mount
        if system.address_space is not None:
            return Cause(
                meaning="the address-space limit (ulimit -v %d KiB) is too small to map torch's libraries"
                % (system.address_space // 1024),
                fix="raise it: `ulimit -v unlimited` (or a larger limit in the job script or scheduler)",
                fact="RLIMIT_AS %d bytes" % system.address_space,
            )
        mapped = [p for p in paths if re.search(r"\.so(\.|$)", p) and system_rules.noexec(p)]
        if mapped:
            return Cause(
                meaning="%s lies on a mount without execute permission (noexec): its code cannot be mapped" % mapped[0],
                fix="move it (or the directory that holds it) to an exec mount, or remount %s without noexec"
                % os.path.dirname(mapped[0]),
                fact="%s on a noexec mount" % os.path.dirname(mapped[0]),
            )
    for code in system.code_dirs:
        named = any(p.startswith(code.path.rstrip("/")) or code.path.startswith(p.rstrip("/") + "/") for p in paths)
        if ("NOEXEC" in parts.errno or "EACCES" in parts.errno) and (named or "NOEXEC" in parts.errno):
            if not code.executable:
                return Cause(
                    meaning="%s runs compiled code from %s, on a mount without execute permission (noexec)"
                    % (code.purpose, code.path),
                    fix="point %s at a directory on an exec mount: `export %s=$HOME/.cache/%s`"
                    % (code.variable, code.variable, code.variable.lower()),
                    fact="%s on a noexec mount" % code.path,
                )
            if not code.writable:
                if not code.runs_code:  # torch's cache: its default is under HOME, which may be the unwritable one
                    return Cause(
                        meaning="%s's cache directory (downloaded models and weights) is %s, which this process "
                        "cannot write (read-only or not its own)" % (code.purpose, code.path),
                        fix="set %s (or XDG_CACHE_HOME) to a writable directory: `export %s=<a writable directory>`"
                        % (code.variable, code.variable),
                        fact="%s not writable" % code.path,
                    )
                return Cause(
                    meaning="%s writes code to %s, which this user cannot write" % (code.purpose, code.path),
                    fix="point %s at a writable directory: `export %s=$HOME/.cache/%s`"
                    % (code.variable, code.variable, code.variable.lower()),
                    fact="%s not writable" % code.path,
                )
    if "ENOSPC" in parts.errno and system.disk_free_bytes is not None:
        return Cause(
            meaning="a disk is full: %s has %s free"
            % (system.tempdir, system_rules.human_size(system.disk_free_bytes)),
            fix="free space there, or point TMPDIR (and TORCHINDUCTOR_CACHE_DIR) at a disk with room",
            fact="%s free in %s" % (system_rules.human_size(system.disk_free_bytes), system.tempdir),
        )
    if "RESOLVE" in parts.errno and not system.host_addresses:
        return Cause(
            meaning="this host's name %r does not resolve (%s): c10d and gloo need it"
            % (system.hostname, system.resolve_error or "no address"),
            fix="add it to /etc/hosts (`127.0.1.1 %s`), or set MASTER_ADDR to an address and GLOO_SOCKET_IFNAME/"
            "NCCL_SOCKET_IFNAME to an interface" % system.hostname,
            fact="getaddrinfo(%r): %s" % (system.hostname, system.resolve_error or "no address"),
        )
    return None


# torch.utils.cpp_extension's own messages (torch/utils/cpp_extension.py, 2.0 to 2.13: CUDA_MISMATCH_MESSAGE,
# verify_ninja_availability) and Python's for the import setuptools 70 broke (pypa/setuptools#4385).
CUDA_MISMATCH = re.compile(
    r"detected CUDA version \((\d+\.\d+)\) mismatches the version that was used to compile\s+PyTorch \((\d+\.\d+)\)"
)
NINJA_REQUIRED = re.compile(r"Ninja is required to load C\+\+ extensions")
PKG_RESOURCES_PACKAGING = re.compile(
    r"cannot import name 'packaging' from 'pkg_resources'|module 'pkg_resources' has no attribute 'packaging'"
)


def by_toolchain(parts, facts):
    """Rule 1c: what torch.utils.cpp_extension and inductor build with (checks/machine/toolchain.py), read only
    when the failure is of their class: setuptools >= 70 under a torch whose cpp_extension imports
    pkg_resources.packaging; the CUDA toolkit of another major (torch's own numbers, the toolkit's place from the
    CudaToolkit fact); ninja missing; a C++ compiler older than inductor's floors that stopped on its code."""
    from checks.machine import toolchain

    text = parts.text
    version = _torch_version(facts)
    if PKG_RESOURCES_PACKAGING.search(text):
        problem = toolchain.setuptools_problem(toolchain.setuptools_fact(facts.torch_dir), version, text)
        if problem is not None:
            return Cause(meaning=problem.summary, fix=problem.fix, fact=problem.actual)
        return None
    found = CUDA_MISMATCH.search(text)
    if found:
        toolkit = toolchain.cuda_toolkit_fact()
        if toolkit.release is None or toolkit.release.split(".")[0] != found.group(1).split(".")[0]:
            toolkit = toolchain.CudaToolkit(home=toolkit.home or "?", how=toolkit.how, release=found.group(1),
                                            source="torch's message")  # fmt: skip
        problem = toolchain.toolkit_mismatch(toolkit, found.group(2), version)
        if problem is not None:
            return Cause(meaning=problem.summary, fix=problem.fix, fact=problem.actual)
    if NINJA_REQUIRED.search(text):
        ninja = toolchain.ninja_fact()
        if ninja.version is None:
            return Cause(
                meaning="ninja is %s: torch.utils.cpp_extension builds JIT C++/CUDA extensions with it"
                % ("not on PATH" if ninja.path is None else "at %s but does not answer `--version`" % ninja.path),
                fix="`python -m pip install ninja` into this environment (or put a ninja on PATH)",
                fact="ninja: %s" % (ninja.path or "not on PATH"),
            )
    if facts.torch_dir:
        old = toolchain.judge_compile_failure(text, version, facts.torch_dir)
        if old is not None:
            return Cause(meaning=old.summary, fix=old.fix, fact=old.actual)
    return None


def by_table(parts, text, facts):
    """Rule 5: a failure text whose meaning is stable (checks/causes.py)."""
    from checks import causes

    known = causes.match(text) or causes.of_cuda_init(text)
    if known is None:
        return None
    meaning, fix = known
    return Cause(meaning=meaning, fix=fix, fact="the error text: %s" % parts.line)


def by_torch(parts, text):
    """Rule 6: torch's own message names the cause and a remedy: keep both."""
    found = REMEDY.search(text.split("\n", 1)[0] if "\n" not in parts.line else parts.line) or REMEDY.search(parts.line)
    if found is None:
        return None
    remedy = found.group(1).strip()
    return Cause(
        meaning=parts.line[: parts.line.find(remedy)].rstrip(" .:") or parts.line,
        fix=remedy,
        fact="torch's own message",
    )


def unrecognised(parts, facts):
    """Rule 7: nothing explains it; say so, and what to attach."""
    torch = facts.provenance.packages.get("torch")
    shown = torch.imported.describe() if torch and torch.imported else "torch not found"
    inputs = ", ".join("%s=%s" % kv for kv in facts.loader_inputs.items()) or "no loader variables set"
    return Cause(
        meaning="not recognised: %s (facts collected: torch %s; %s)" % (parts.line, shown, inputs),
        fix="no known cause fits; rerun with `--json report.json` and attach that file (it holds the facts "
        "collected) and the full output to a report",
        fact="none decides it",
        recognised=False,
    )


# The rules whose verdict a fact of this machine decides (explain()'s order); the others read the text alone.
FACT_RULES = (
    "provenance",
    "foreign-path",
    "stdlib",
    "toolchain",
    "extension",
    "requirement",
    "pair",
    "load",
    "library",
    "loader-path",
    "gpu-access",
    "mig",
    "variable",
    "system",
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
    parts = parse(text)
    rules = (
        ("provenance", lambda: by_provenance(parts, facts)),
        ("foreign-path", lambda: by_foreign_path(parts, facts)),
        ("stdlib", lambda: by_stdlib(parts, facts)),
        ("toolchain", lambda: by_toolchain(parts, facts)),
        ("extension", lambda: by_extension(parts, facts)),
        ("requirement", lambda: by_requirement(parts, facts)),
        ("pair", lambda: by_pair(parts, facts)),
        ("load", lambda: by_load_error(parts, facts)),
        ("library", lambda: by_library(parts, facts)),
        ("loader-path", lambda: by_loader_path(parts, facts)),
        ("gpu-access", lambda: by_gpu_access(parts, facts)),
        ("mig", lambda: by_mig(parts, facts)),
        ("variable", lambda: by_variable(parts, facts, text)),
        ("system", lambda: by_system(parts, facts)),
        ("table", lambda: by_table(parts, text, facts)),
        ("torch", lambda: by_torch(parts, text)),
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


def gather(environ=None):
    """Collect the Facts available before torch is imported (a few milliseconds: stat calls, small metadata
    files, three ELF headers, one bounded name lookup, one `ldconfig -p`)."""
    from checks.machine import requirements, system

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
    )
