"""The model a diagnosis works on: the Facts collected before torch is imported, a failure text taken apart
into Parts (parse), the Cause a rule returns, and the patterns and tables the rules share."""

import dataclasses
import os
import re
from typing import Dict, List, Optional, Tuple

from checks import compat, errors
from checks.machine import distributions, loader
from checks.machine.gpu_access import GpuAccess
from checks.machine.interpreter import InterpreterBuild, PythonSites
from checks.machine.variables import Setting

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
    # System libraries that wheels built on torch load and do not bundle (opencv-python's cv2: libGL, glib, X11's
    # libSM/libXext/libXrender; soundfile: libsndfile; deepspeed's async I/O: libaio; numa-aware launchers: libnuma).
    # Debian's packages holding each soname (packages.debian.org file lists) and conda-forge's of the same library.
    (re.compile(r"^lib(GL|GLX|GLdispatch|EGL)\.so"), "OpenGL (libglvnd)", None, "libgl", "libgl1"),
    (re.compile(r"^lib(glib|gthread|gobject)-2\.0\.so"), "GLib", None, "glib", "libglib2.0-0"),
    (re.compile(r"^libSM\.so"), "X11's session management library", None, "xorg-libsm", "libsm6"),
    (re.compile(r"^libXext\.so"), "X11's extension library", None, "xorg-libxext", "libxext6"),
    (re.compile(r"^libXrender\.so"), "X11's render library", None, "xorg-libxrender", "libxrender1"),
    (re.compile(r"^libsndfile\.so"), "libsndfile (soundfile's audio I/O)", None, "libsndfile", "libsndfile1"),
    (re.compile(r"^libaio\.so"), "libaio (Linux async I/O)", None, "libaio", "libaio1"),
    (re.compile(r"^libnuma\.so"), "libnuma (NUMA policy)", None, "libnuma", "libnuma1"),
)
# The GUI libraries opencv-python's cv2 links; opencv-python-headless is the same cv2 built without them (the
# opencv-python project's README: "Packages for server (headless) environments").
OPENCV_GUI = re.compile(r"^lib(GL|GLX|gthread-2\.0|glib-2\.0|SM|Xext|Xrender)\.so")
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
    # multiprocessing.reduction.recvfds' "received 0 items of ancdata": a DataLoader worker's tensor sent as a file
    # descriptor (torch's file_descriptor sharing strategy) that the receiver could not take: the open-file limit
    ("EMFILE", re.compile(r"Too many open files|EMFILE|Errno 24\b|received 0 items of ancdata")),
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
    ("ENOMEM", re.compile(r"Cannot allocate memory|\bENOMEM\b|Errno 12\b")),
    ("UNIX_PATH", re.compile(r"AF_UNIX path too long")),  # CPython's socket module (sun_path; system.py)
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
# the file names of torch's own libraries (libc10.so, libtorch_cuda_cu.so, libshm.so, libcaffe2_nvrtc.so)
TORCH_LIBRARY = re.compile(r"^lib(?:torch\w*|c10\w*|shm|caffe2\w*)\.(?:so|dylib)")
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
# A library a Python wrapper looked for with ctypes.util.find_library(NAME) and did not find, in the wrapper's own
# words: python-soundfile 0.10's "OSError: sndfile library not found" (soundfile.py), sounddevice's "OSError:
# PortAudio library not found", cffi's "cannot load library 'libsndfile.so'"; the library is then lib<name>.so,
# lower-cased as find_library's names are (libportaudio.so).
NOT_FOUND_LIBRARY = re.compile(
    r"\b(?!(?i:the|a|shared|dynamic|native|driver|cuda|system|required|runtime|python)\b)([A-Za-z][A-Za-z0-9_+-]*) "
    r"library not found\b|cannot load library '(lib[\w.+-]+)'"
)
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
    r"(?:^|[.!:]\s+|(?:[Aa]s a (?:temporary )?(?:fix|workaround)),\s+)((?:Please|Try|To fix|To resolve|"
    r"[Yy]ou (?:can|may|should|need|might)|Consider|Set|Use|Install|Run|Make sure|Ensure|Either|Downgrade|Upgrade|"
    r"Update|Uninstall|Reinstall|Remove|Export|Pass|Increase|Reduce|Specify)\b[^\n]*)",
    re.M,
)


def raising_package(text, skip=()):
    """The installed package of the innermost traceback frame (the top folder under a site-packages or
    dist-packages) not in `skip`, or None when the frames name none."""
    for path in reversed(FRAME.findall(text or "")):
        found = re.search(r"[/\\](?:site|dist)-packages[/\\]([A-Za-z_]\w*)", path)
        if found and found.group(1) not in skip:
            return found.group(1)
    return None


def raising_distribution(text, environment=None):
    """(Distribution, file relative to its entry, line) of the innermost traceback frame whose file an installed
    distribution other than torch's owns (its .dist-info found above it), or None: the package whose own code
    raised a message no rule knows (bitsandbytes 0.40.1's cuda_setup raising "too many values to unpack" on a
    machine without CUDA, fixed in 0.40.2; bitsandbytes-foundation/bitsandbytes#592)."""
    for path, line in reversed(re.findall(r'File "([^"]+)", line (\d+)', text or "")):
        if path.startswith("<") or not os.path.isfile(path):
            continue
        dist = distributions.owner(path, environment)
        if dist is not None and distributions.canonical(dist.name) not in ("torch", "pytorch"):
            return dist, os.path.relpath(path, dist.entry), line
        if dist is not None:
            return None
    return None


def package_of_file(path):
    """The top-level package holding the source file `path` (the highest folder above it that has an __init__.py,
    as Python's import system nests packages), else the file's own module name."""
    folder, top = os.path.dirname(path), None
    for _ in range(16):
        if not os.path.isfile(os.path.join(folder, "__init__.py")):
            break
        top, folder = os.path.basename(folder), os.path.dirname(folder)
    return top or os.path.splitext(os.path.basename(path))[0]


@dataclasses.dataclass(frozen=True)
class GpuSeen:
    """A GPU as the driver reports it (checks/nvidia/driver.py facts()): its index, name, compute capability
    (major, minor) and the driver tool that said so (NVML or nvidia-smi)."""

    index: int
    name: str
    capability: Tuple[int, int]
    source: str

    def describe(self):
        return "GPU %d %s: compute capability %d.%d (%s)" % ((self.index, self.name) + self.capability + (self.source,))

    @staticmethod
    def from_driver(driver):
        """The GPUs of a driver-facts dict whose compute capability is known, as GpuSeen records: the driver's
        compute_cap, else the capability of the product name it gives (compat.capability_of_name; source
        `NAME's product name`); a GPU known by neither is left out."""
        seen = []
        for index, gpu in enumerate((driver or {}).get("gpus") or ()):
            name = gpu.get("name") or "?"
            major, _, minor = str(gpu.get("compute_cap") or "").partition(".")
            if major.isdigit() and minor.isdigit():
                seen.append(GpuSeen(index, name, (int(major), int(minor)), driver.get("source") or "?"))
            elif compat.capability_of_name(name) is not None:
                source = "its product name; %s gave no compute_cap" % (driver.get("source") or "the driver")
                seen.append(GpuSeen(index, name, compat.capability_of_name(name), source))
        return tuple(seen)


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
    # the variables whose value is one absolute path (TMPDIR, HF_HOME, ...): which of them chose a directory
    path_variables: Dict[str, str] = dataclasses.field(default_factory=dict)
    # the variables set to a value their reader rejects or that breaks this torch (checks/machine/variables.py)
    settings: Tuple[Setting, ...] = ()
    # the prefix's pyvenv.cfg and the site-packages of other Pythons in it (checks/machine/interpreter.py)
    python_sites: PythonSites = dataclasses.field(default_factory=PythonSites)
    # the batch-scheduler job this process runs in (checks/machine/scheduler.py's Job), None outside one
    job: Optional[object] = None
    # the GPUs the driver reports with their compute capability (none known: empty)
    gpus: Tuple[GpuSeen, ...] = ()

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
            "settings": [s.to_dict() for s in self.settings],
            "python_sites": self.python_sites.to_dict(),
            "job": self.job.to_dict() if self.job is not None else None,
            "gpus": [dict(dataclasses.asdict(g), capability="%d.%d" % g.capability) for g in self.gpus],
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
        cannot_open=tuple(
            dict.fromkeys(
                [os.path.basename(n) for n in CANNOT_OPEN.findall(text)]
                + [named or "lib%s.so" % word.lower() for word, named in NOT_FOUND_LIBRARY.findall(text)]
            )
        ),
        undefined=tuple(UNDEFINED.findall(text)),
        version_needed=tuple(VERSION_NOT_FOUND.findall(text)),
        paths=tuple(dict.fromkeys(p for p in PATH.findall(text) if len(p) > 1)),
        load_errors=tuple(loader.load_errors(text)),
    )


def component(library):
    """Return the NVIDIA component key of a library name (`libcudnn.so.8` -> `cudnn`), or None."""
    for pattern, key in COMPONENTS:
        if pattern.search(library):
            return key
    return None
