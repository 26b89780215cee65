"""Facts about the toolchain torch.compile needs on this machine: whether TorchDynamo supports this Python and
platform, the C++ compiler inductor will really call (torch 2.0: g++; later: $CXX when set), and for GPU compile
the C compiler and Python.h triton builds its launcher with. verify judges them; train skips compiled variants by
them. It also holds the facts torch.utils.cpp_extension builds with: the C++ compiler's version against the C++
standard inductor passes, ninja, the CUDA toolkit against torch's CUDA, and setuptools against cpp_extension's
import of pkg_resources."""

import dataclasses
import json
import os
import platform
import re
import shutil
from typing import Optional, Tuple

from checks import compat
from checks.report import FAIL, SKIP, Result

# The first releases that accept a `-std=` spelling (a compiler rejects a spelling it does not know with
# "unrecognized command line option"): GCC's "C++ Standards Support in GCC" (gcc.gnu.org/projects/cxx-status.html:
# -std=c++17 from GCC 7, -std=c++1z in 5 and 6; -std=c++20 from GCC 10, -std=c++2a in 8 and 9) and Clang's "C++
# Support in Clang" (clang.llvm.org/cxx_status.html: -std=c++17 from Clang 5; -std=c++20 from Clang 10).
STD_FLOORS = {"c++17": {"gcc": (7,), "clang": (5,)}, "c++20": {"gcc": (10,), "clang": (10,)}}
# The code inductor generates includes torch's headers, which use the C++20 attribute [[unlikely]] whatever
# -std is passed; GCC accepts it from 9 (cxx-status: P0479R5, GCC 9), and GCC 8 stops with "expected identifier
# before '[' token" (pytorch/pytorch#130815; torchtune #676: "torch.compile needs at least [GCC 9]").
GENERATED_CODE_FLOORS = {"gcc": (9,)}
VERSION = re.compile(r"(?<![\w.])(\d+)\.(\d+)(?:\.(\d+))?")
# a compiler stopping: inductor's exception, an option it rejects, or a diagnostic `FILE:LINE:COL: error:` (GCC's and
# Clang's format)
COMPILE_ERROR = re.compile(r"CppCompileError|unrecognized command.line option|:\d+:\d+: error: ")


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

    def result(self, name):
        """The check line `name` that reports this Blocker as it is."""
        return Result(
            name=name,
            status=self.status,
            summary=self.summary,
            expected=self.expected,
            actual=self.actual,
            hint=self.fix,
        )


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


@dataclasses.dataclass(frozen=True)
class Compiler:
    """A C++ compiler as inductor or cpp_extension would call it: the command (`name`), its path (None: not found),
    why that one (`why`), the first line of its `--version` (`banner`), its family ("gcc", "clang", or None for
    another or Apple clang, whose numbers are Xcode's) and its version as integers (None where unknown)."""

    name: str
    path: Optional[str]
    why: str
    banner: Optional[str] = None
    family: Optional[str] = None
    version: Optional[Tuple[int, ...]] = None

    def describe(self):
        """`g++ (GCC 8.3.0)`, or the name alone when the version is unknown."""
        if self.version is None:
            return self.name
        return "%s (%s %s)" % (self.name, "GCC" if self.family == "gcc" else "Clang", _dotted(self.version))


def _dotted(version):
    return ".".join(str(n) for n in version)


def compiler_banner(output):
    """Return (family, version) from a compiler's `--version` output: GCC prints `g++ (GCC) 8.3.0` or `g++ (Ubuntu
    11.4.0-1ubuntu1~22.04) 11.4.0` (the version last on the first line) and its copyright names the Free Software
    Foundation; Clang prints `clang version 14.0.0` (Apple's `Apple clang version 15.0.0` counts Xcode releases:
    family None). (None, None) for anything else."""
    lines = (output or "").strip().splitlines()
    first = lines[0] if lines else ""
    if "clang" in first.lower():
        if first.startswith("Apple"):
            return None, None
        found = re.search(r"clang version (\d+)\.(\d+)(?:\.(\d+))?", first)
        return ("clang", tuple(int(n) for n in found.groups() if n is not None)) if found else ("clang", None)
    if "(GCC)" in first or "Free Software Foundation" in output or re.search(r"\b(g\+\+|gcc|c\+\+)\b", first):
        found = VERSION.findall(first)
        return "gcc", tuple(int(n) for n in found[-1] if n) if found else None
    return None, None


def cxx_fact(torch_version=None, timeout=10.0):
    """Return the Compiler inductor calls (cxx_compiler()), with its `--version` read (one bounded call)."""
    from checks.machine import probe

    name, path, why = cxx_compiler(torch_version)
    if path is None:
        return Compiler(name=name, path=None, why=why)
    code, out = probe.run_command([path, "--version"], timeout)
    if code != 0:
        return Compiler(name=name, path=path, why=why)
    family, version = compiler_banner(out)
    return Compiler(name=name, path=path, why=why, banner=out.strip().splitlines()[0], family=family, version=version)


def inductor_std(torch_dir):
    """Return the `-std=` standard the installed torch's inductor compiles its C++ with ("c++17", "c++20"), read
    from its source: torch/_inductor/cpp_builder.py's _get_cpp_std_cflag default (2.4+; c++17 at first, c++20
    later), else codecache.py's `-std=c++17` (2.0 to 2.3). None when neither says."""
    if not torch_dir:
        return None
    for name, pattern in (
        ("cpp_builder.py", r'def _get_cpp_std_cflag\(std_num: str = "(c\+\+\d+)"'),
        ("codecache.py", r"-std=(c\+\+\d+)"),
    ):
        try:
            with open(os.path.join(torch_dir, "_inductor", name), encoding="utf-8", errors="replace") as f:
                found = re.search(pattern, f.read())
        except OSError:
            continue
        if found:
            return found.group(1)
    return None


def compiler_floor(compiler, std, generated=False):
    """Return the first version of `compiler`'s family that compiles inductor's code with `-std=std` (STD_FLOORS),
    and with `generated` the code itself (GENERATED_CODE_FLOORS), or None where no floor is known."""
    floors = [STD_FLOORS.get(std or "", {}).get(compiler.family)]
    if generated:
        floors.append(GENERATED_CODE_FLOORS.get(compiler.family))
    floors = [f for f in floors if f]
    return max(floors) if floors else None


def too_old(compiler, std, torch_version, generated=False):
    """Return a Blocker when `compiler`'s version is below compiler_floor(), else None (also when unknown)."""
    floor = compiler_floor(compiler, std, generated)
    if floor is None or compiler.version is None or compiler.version >= floor:
        return None
    family = "GCC" if compiler.family == "gcc" else "Clang"
    need = "%s >= %s" % (family, _dotted(floor))
    why = "inductor compiles with -std=%s" % std if std and not generated else "inductor's generated C++ needs it"
    if compat.minor_key(torch_version or "2.1") < compat.CXX_FROM_ENV_SINCE:
        point = "put its g++ first on PATH (torch %s calls g++ and ignores $CXX)" % torch_version
    else:
        point = (
            "point CXX at it (export CXX=/path/to/g++-%s)" % _dotted(floor) if family == "GCC" else "point CXX at it"
        )
    return Blocker(
        status=FAIL,
        summary="the C++ compiler %s is older than inductor needs (%s: %s)" % (compiler.describe(), need, why),
        expected=need,
        actual=compiler.banner or compiler.describe(),
        fix="install a newer %s (>= %s; e.g. a distro g++-%s package, gcc-toolset or devtoolset) and %s"
        % (family, _dotted(floor), _dotted(floor), point),
    )


def judge_compile_failure(output, torch_version, torch_dir, compiler=None):
    """Return a Blocker when a failed compile's output shows the compiler stopping (an `error:` of the compiler, an
    unrecognized option, CppCompileError) and the compiler is older than inductor's floors; else None."""
    if not COMPILE_ERROR.search(output or ""):
        return None
    compiler = compiler or cxx_fact(torch_version)
    return too_old(compiler, inductor_std(torch_dir), torch_version, generated=True)


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


def toolchain_problem(torch, devices=("cpu",), versions=True):
    """Return a Blocker when a compiler torch.compile will call is missing, or older than the standard inductor
    passes accepts (too_old()), else None. `versions` False looks for the compilers only (PATH lookups, no
    `--version` call: verify --quick)."""
    if versions:
        compiler = cxx_fact(torch.__version__)
    else:
        name, path, why = cxx_compiler(torch.__version__)
        compiler = Compiler(name=name, path=path, why=why)
    name, path, why = compiler.name, compiler.path, compiler.why
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
            summary="no C++ compiler for inductor's CPU kernels: %s not found on PATH (%s)" % (name, why),
            expected="%s on PATH" % name,
            actual="none found",
            fix="install one (Debian/Ubuntu: apt install g++), or use the pixi environment (it has cxx-compiler)",
        )
    torch_dir = os.path.dirname(getattr(torch, "__file__", "") or "")
    old = too_old(compiler, inductor_std(torch_dir), torch.__version__) if versions else None
    if old is not None:
        return old
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


# ---- what torch.utils.cpp_extension builds with ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Ninja:
    """ninja as torch.utils.cpp_extension.is_ninja_available() finds it (`ninja --version` on PATH succeeds):
    its path (None: not on PATH) and the version it prints (None: it did not answer)."""

    path: Optional[str]
    version: Optional[str] = None


def ninja_fact(timeout=5.0):
    """Return the Ninja fact (one bounded `ninja --version` when ninja is on PATH)."""
    from checks.machine import probe

    path = shutil.which("ninja")
    if path is None:
        return Ninja(path=None)
    code, out = probe.run_command([path, "--version"], timeout)
    return Ninja(path=path, version=out.strip().splitlines()[0] if code == 0 and out.strip() else None)


@dataclasses.dataclass(frozen=True)
class CudaToolkit:
    """The CUDA toolkit cpp_extension builds CUDA extensions with, found as its _find_cuda_home() finds it
    ($CUDA_HOME, $CUDA_PATH, the folder above `nvcc` on PATH, /usr/local/cuda): `home` (None: none), `how`, and
    its release ("12.2", from `nvcc --version`'s `release X.Y` as _check_cuda_version reads it, else
    version.json / version.txt), `source` of that version."""

    home: Optional[str]
    how: str
    release: Optional[str] = None
    source: Optional[str] = None


_HANDED = []  # the CudaToolkit another process of the same checks read for this environment (take)


def hand_over(timeout=10.0):
    """cuda_toolkit_fact() as JSON-able data for take() in another process of the same checks and environment:
    verify's parent reads it (its `nvcc --version`) while its worker imports torch."""
    return dataclasses.asdict(cuda_toolkit_fact(timeout=timeout))


def take(data):
    """Keep the CudaToolkit hand_over() read (data: its answer, from the parent's own pipe), for cuda_toolkit_fact()
    of this process's environment to return. Data of another shape keeps nothing (the toolkit is read here)."""
    _HANDED.clear()
    names = {f.name for f in dataclasses.fields(CudaToolkit)}
    if not isinstance(data, dict) or set(data) != names or not isinstance(data["how"], str):
        return
    if all(value is None or isinstance(value, str) for value in data.values()):
        _HANDED.append(CudaToolkit(**data))


def cuda_toolkit_fact(environ=None, timeout=10.0):
    """Return the CudaToolkit fact (one bounded `nvcc --version` when the toolkit has nvcc). For this process's own
    environment, the one the parent read is returned when it handed it over (take)."""
    if environ is None and _HANDED:
        return _HANDED[0]
    environ = os.environ if environ is None else environ
    home, how = None, "none of $CUDA_HOME, $CUDA_PATH, nvcc on PATH, /usr/local/cuda"
    for variable in ("CUDA_HOME", "CUDA_PATH"):
        if environ.get(variable):
            home, how = environ[variable], "$" + variable
            break
    else:
        nvcc = shutil.which("nvcc", path=environ.get("PATH"))
        if nvcc:
            home, how = os.path.dirname(os.path.dirname(nvcc)), "nvcc on PATH"
        elif platform.system() != "Windows" and os.path.exists("/usr/local/cuda"):
            home, how = "/usr/local/cuda", "the default /usr/local/cuda"
    if home is None:
        return CudaToolkit(home=None, how=how)
    return toolkit_at(home, how, timeout)


def _nvcc(home):
    return os.path.join(home, "bin", "nvcc.exe" if platform.system() == "Windows" else "nvcc")


def toolkit_at(home, how, timeout=10.0):
    """Return the CudaToolkit at `home` (a folder with bin/nvcc), its release read as cuda_toolkit_fact() reads it:
    `nvcc --version` (one bounded call), else version.json, else version.txt."""
    from checks.machine import probe

    nvcc = _nvcc(home)
    if os.path.exists(nvcc):
        code, out = probe.run_command([nvcc, "--version"], timeout)
        found = re.search(r"release (\d+\.\d+)", out or "") if code == 0 else None
        if found:
            return CudaToolkit(home=home, how=how, release=found.group(1), source="nvcc --version")
    try:
        with open(os.path.join(home, "version.json"), encoding="utf-8") as f:
            version = json.load(f)["cuda"]["version"]
        return CudaToolkit(home=home, how=how, release=".".join(version.split(".")[:2]), source="version.json")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    try:
        with open(os.path.join(home, "version.txt"), encoding="utf-8") as f:
            found = re.search(r"CUDA Version (\d+\.\d+)", f.read())
        if found:
            return CudaToolkit(home=home, how=how, release=found.group(1), source="version.txt")
    except OSError:
        pass
    return CudaToolkit(home=home, how=how)


# CudaToolkit.how of a toolkit this run is pointed at: the variables, or an nvcc put on PATH (NVIDIA's
# post-installation actions add /usr/local/cuda-X.Y/bin to PATH; cpp_extension's _find_cuda_home then takes the folder
# above it: Dao-AILab/flash-attention#825, a CUDA 10.1 nvcc on PATH under a CUDA 11 torch)
CHOSEN = ("$CUDA_HOME", "$CUDA_PATH", "nvcc on PATH")


def toolkit_mismatch(toolkit, torch_cuda, torch_version, installed=None, minor=True):
    """Return a Blocker (WARN: torch runs; only CUDA extension builds stop; SKIP where nobody chose the toolkit, the
    default /usr/local/cuda, which a machine that builds no extension need not match) when the toolkit's CUDA major
    differs
    from the CUDA torch was built with, which torch.utils.cpp_extension._check_cuda_version refuses ("The detected
    CUDA version (X) mismatches the version that was used to compile PyTorch (Y)"; a minor difference only warns),
    else None. The fix names a toolkit of torch's major installed here (`installed`: CudaToolkits, default
    installed_toolkits(), looked for only on a mismatch) where there is one. With `minor`, a toolkit this run is
    pointed at (CHOSEN) of the same major but an older release than torch's is a WARN too."""
    from checks.report import WARN

    if not torch_cuda or toolkit.release is None:
        return None
    have, built = toolkit.release.split(".")[0], torch_cuda.split(".")[0]
    older = _release_key(toolkit.release) < _release_key(torch_cuda)
    if minor and have == built and older and toolkit.how in CHOSEN:
        # the same major: cpp_extension only warns, but builds that check the exact release stop (NVIDIA apex's
        # setup.py: "Cuda extensions are being compiled with a version of Cuda that does not match the version used
        # to compile Pytorch binaries"); said only for a toolkit this run is pointed at
        fitting = best_toolkit(installed_toolkits() if installed is None else installed, torch_cuda)
        exact = fitting is not None and _release_key(fitting.release) == _release_key(torch_cuda)
        return Blocker(
            status=WARN,
            summary="%s points at the CUDA %s toolkit (%s), torch was built with CUDA %s: torch.utils.cpp_extension "
            "only warns about the minor difference, but builds that check the exact release stop (NVIDIA apex's "
            'setup.py: "Cuda extensions are being compiled with a version of Cuda that does not match the version '
            'used to compile Pytorch binaries")' % (toolkit.how, toolkit.release, toolkit.home, torch_cuda),
            expected="a CUDA %s toolkit" % torch_cuda,
            actual="CUDA %s" % toolkit.release,
            fix="export CUDA_HOME=%s (the CUDA %s toolkit installed there)" % (fitting.home, fitting.release)
            if exact
            else "install the CUDA %s toolkit (NVIDIA's repository: `apt install cuda-toolkit-%s`; conda: "
            "`conda install -c nvidia cuda-nvcc=%s`) and point CUDA_HOME at it"
            % (torch_cuda, torch_cuda.replace(".", "-"), torch_cuda),
        )
    if have == built:
        return None
    key = compat.minor_key(torch_version)
    builds = [c for c in compat.WHEEL_CUDA.get(key, ()) if c.split(".")[0] == have]
    first = min((k for k, cs in compat.WHEEL_CUDA.items() if any(c.split(".")[0] == have for c in cs)), default=None)
    if builds:
        later = "the CUDA %s build of torch %d.%d (cu%s)" % (builds[-1], key[0], key[1], builds[-1].replace(".", ""))
    elif first is not None:
        cuda = [c for c in compat.WHEEL_CUDA[first] if c.split(".")[0] == have][0]
        later = "a torch built for CUDA %s: torch %d.%d has none; torch %d.%d or newer has (cu%s)" % (
            have,
            key[0],
            key[1],
            first[0],
            first[1],
            cuda.replace(".", ""),
        )
    else:
        later = "a torch built for CUDA %s" % have
    fix = "point CUDA_HOME at a CUDA %s toolkit (any %s.x builds; a minor difference only warns), or install %s" % (
        torch_cuda,
        built,
        later,
    )
    # a toolkit of torch's major installed here (the environment's own nvcc, /usr/local/cuda-X.Y) is the exact fix
    fitting = best_toolkit(
        [t for t in (installed_toolkits() if installed is None else installed) if t.home != toolkit.home], torch_cuda
    )
    if fitting is not None and fitting.release.split(".")[0] == built:
        fix = "export CUDA_HOME=%s (the CUDA %s toolkit installed there)%s; or install %s" % (
            fitting.home,
            fitting.release,
            # cpp_extension's _find_cuda_home: CUDA_HOME, else CUDA_PATH, else the folder above nvcc on PATH
            ", since CUDA_PATH outranks the nvcc on PATH when CUDA_HOME is unset (or unset CUDA_PATH)"
            if "CUDA_PATH" in toolkit.how
            else "",
            later,
        )
    return Blocker(
        status=SKIP if toolkit.how.startswith("the default") else WARN,
        summary="the CUDA toolkit at %s (%s, CUDA %s by %s) is CUDA %s; torch was built with CUDA %s: "
        "torch.utils.cpp_extension refuses to build CUDA extensions across a major-version mismatch"
        % (toolkit.home, toolkit.how, toolkit.release, toolkit.source, have, torch_cuda),
        expected="a CUDA %s.x toolkit" % built,
        actual="CUDA %s at %s" % (toolkit.release, toolkit.home),
        fix=fix,
    )


# Where CUDA toolkits are installed when nobody points at them: NVIDIA's runfile and distribution packages install
# /usr/local/cuda-X.Y and (optionally) the /usr/local/cuda link to it (CUDA Installation Guide for Linux,
# "Post-installation Actions": `export PATH=/usr/local/cuda-X.Y/bin${PATH:+:${PATH}}`); Arch Linux's cuda package
# uses /opt/cuda; conda's cuda-nvcc puts nvcc in the environment's bin ($CONDA_PREFIX, the CUDA_HOME it needs).
TOOLKIT_PLACES = ("/usr/local/cuda-*", "/usr/local/cuda", "/opt/cuda", "/opt/cuda-*")


def installed_toolkits(places=None, environ=None, timeout=10.0):
    """Return the CudaToolkits installed in the standard places (TOOLKIT_PLACES, glob patterns, and $CONDA_PREFIX)
    that have bin/nvcc, each once (by real path), release read by toolkit_at(); `how` is "installed at HOME"."""
    import glob

    environ = os.environ if environ is None else environ
    homes = [h for pattern in (TOOLKIT_PLACES if places is None else places) for h in sorted(glob.glob(pattern))]
    if environ.get("CONDA_PREFIX"):
        homes.append(environ["CONDA_PREFIX"])
    found, seen = [], set()
    for home in homes:
        real = os.path.realpath(home)
        if real in seen or not os.path.isfile(_nvcc(home)):
            continue
        seen.add(real)
        found.append(toolkit_at(home, "installed at %s" % home, timeout))
    return found


def _release_key(release):
    return tuple(int(n) for n in re.findall(r"\d+", release or "")[:2])


def best_toolkit(installed, torch_cuda, wanted=None):
    """Return the installed CudaToolkit to build torch's extensions with: among those `wanted` accepts (a predicate;
    all when None), the one of torch's CUDA release, else the newest of torch's CUDA major (cpp_extension refuses a
    major mismatch, a minor one only warns), else None."""
    fits = [t for t in installed if t.release and (wanted is None or wanted(t))]
    built = _release_key(torch_cuda)
    same = [t for t in fits if _release_key(t.release) == built]
    if same:
        return same[0]
    major = [t for t in fits if built and _release_key(t.release)[:1] == built[:1]]
    return max(major, key=lambda t: _release_key(t.release)) if major else None


def runtime_only(toolkit, torch_cuda, installed=None):
    """Return a Blocker (WARN: torch runs; building a CUDA extension stops) when the toolkit cpp_extension would take
    (`toolkit.home`: $CUDA_HOME, $CUDA_PATH, or /usr/local/cuda) has no bin/nvcc, as NVIDIA's `-runtime` container
    images and a CUDA runtime installed without its toolkit leave it: cpp_extension, and the setup.py of packages that
    build CUDA code (deepspeed's ops, flash-attn, apex) run `$CUDA_HOME/bin/nvcc`, which fails with "No such file or
    directory: '/usr/local/cuda/bin/nvcc'" (deepspeedai/DeepSpeed#4553). None when it has nvcc, for a CPU build, or
    with no toolkit at all (missing_toolkit's case). `installed` (default installed_toolkits(), looked for only when
    nvcc is missing) may name a toolkit with nvcc for the fix."""
    from checks.report import WARN

    if toolkit.home is None or not torch_cuda or os.path.exists(_nvcc(toolkit.home)):
        return None
    best = best_toolkit(installed_toolkits() if installed is None else installed, torch_cuda)
    release = toolkit.release or torch_cuda
    major, minor = (release.split(".") + ["0"])[:2]
    fix = (
        "install the CUDA %s toolkit there (NVIDIA's repository: `apt install cuda-toolkit-%s-%s`; a container: start "
        "from an `nvidia/cuda:%s.x-devel-*` image, not `-runtime`; conda: `conda install -c nvidia cuda-nvcc=%s`)"
        % (release, major, minor, release, release)
    )
    if best is not None:
        fix = "export CUDA_HOME=%s (CUDA %s, with nvcc) before building, or %s" % (best.home, best.release, fix)
    if not os.path.isdir(toolkit.home):
        return Blocker(
            status=WARN,
            summary="%s names %s, which does not exist: building a CUDA extension (torch.utils.cpp_extension, "
            "`pip install` of deepspeed, flash-attn or apex from source) stops there" % (toolkit.how, toolkit.home),
            expected="a CUDA %s toolkit at %s" % (torch_cuda, toolkit.home),
            actual="no such folder",
            fix="point %s at an installed CUDA toolkit, or unset it; %s"
            % (toolkit.how.lstrip("$") if toolkit.how.startswith("$") else "CUDA_HOME", fix),
        )
    return Blocker(
        status=WARN,
        summary="the CUDA at %s (%s%s) has no nvcc (%s): a runtime without its toolkit, so building a CUDA extension "
        '(torch.utils.cpp_extension, `pip install` of deepspeed, flash-attn or apex from source) stops with "No such '
        "file or directory: '%s'\""
        % (
            toolkit.home,
            toolkit.how,
            ", CUDA %s" % toolkit.release if toolkit.release else "",
            _nvcc(toolkit.home),
            _nvcc(toolkit.home),
        ),
        expected="%s with a CUDA %s toolkit" % (_nvcc(toolkit.home), torch_cuda),
        actual="no nvcc",
        fix=fix,
    )


def missing_toolkit(toolkit, torch_cuda, installed):
    """Return a Blocker (WARN: torch runs; building a CUDA extension stops) when cpp_extension finds no toolkit
    (`toolkit.home` is None: no $CUDA_HOME or $CUDA_PATH, no nvcc on PATH, no /usr/local/cuda; _find_cuda_home() of
    torch 2.0 to 2.13) while a toolkit for torch's CUDA is installed elsewhere (installed_toolkits()): building then
    stops with cpp_extension's "OSError: CUDA_HOME environment variable is not set. Please set it to your CUDA install
    root." The fix names that toolkit. None otherwise (no toolkit anywhere is not a fault: most never build one)."""
    from checks.report import WARN

    if toolkit.home is not None or not torch_cuda:
        return None
    best = best_toolkit(installed, torch_cuda)
    if best is None:
        return None
    others = ", ".join("%s (CUDA %s)" % (t.home, t.release) for t in installed if t.release)
    return Blocker(
        status=WARN,
        summary="CUDA_HOME is not set and torch.utils.cpp_extension finds no CUDA toolkit by itself (%s), so "
        'building a CUDA extension stops with "CUDA_HOME environment variable is not set"; installed: %s'
        % (toolkit.how, others),
        expected="a CUDA %s toolkit cpp_extension finds" % torch_cuda,
        actual="none found by cpp_extension",
        fix="export CUDA_HOME=%s (CUDA %s; torch was built with %s) before building, or put %s/bin on PATH"
        % (best.home, best.release, torch_cuda, best.home),
    )


# nvcc's `--list-gpu-arch` lists the virtual architectures it compiles for, one a line (`compute_75` ...; CUDA 13.0's
# nvcc, seen here; CUDA 11.0 and later have the option: NVIDIA's nvcc documentation, "--list-gpu-arch").
COMPUTE_ARCH = re.compile(r"^compute_(\d+)[a-z]?\s*$", re.M)


@dataclasses.dataclass(frozen=True)
class NvccArches:
    """The compute capabilities a toolkit's nvcc compiles for: `known` ((major, minor), sorted; None where the
    release is too old or too new for the table), `source` ("nvcc --list-gpu-arch", or "NVIDIA's release notes" for
    compat.ARCH_CUDA) and the toolkit's `release`."""

    release: Optional[str]
    known: Optional[Tuple[Tuple[int, int], ...]]
    source: str


def nvcc_arches(toolkit, timeout=10.0):
    """Return the NvccArches of `toolkit`: what its nvcc answers to `--list-gpu-arch` (one bounded call) where it
    answers, else the rows of compat.ARCH_CUDA (NVIDIA's CUDA Toolkit release notes) that span its release. `known`
    is None when neither says (no release, or a release newer than the table's newest row)."""
    from checks.machine import probe

    if toolkit.home and os.path.isfile(_nvcc(toolkit.home)):
        code, out = probe.run_command([_nvcc(toolkit.home), "--list-gpu-arch"], timeout)
        listed = COMPUTE_ARCH.findall(out or "") if code == 0 else []
        if listed:
            caps = sorted({(int(d[:-1]), int(d[-1])) for d in listed})
            return NvccArches(release=toolkit.release, known=tuple(caps), source="nvcc --list-gpu-arch")
    release = _release_key(toolkit.release)
    newest = max(_release_key(first) for first, _ in compat.ARCH_CUDA.values())
    if not release or release > newest:
        return NvccArches(release=toolkit.release, known=None, source="NVIDIA's release notes")
    known = [
        cap
        for cap, (first, last) in compat.ARCH_CUDA.items()
        if _release_key(first) <= release and (last is None or release < _release_key(last))
    ]
    return NvccArches(release=toolkit.release, known=tuple(sorted(known)), source="NVIDIA's release notes")


# TORCH_CUDA_ARCH_LIST's names, as torch/utils/cpp_extension.py _get_cuda_arch_flags expands them (v2.13.0; 2.0
# has the plain names only). Combined names first: they are replaced as substrings, in this order.
NAMED_ARCHES = (
    ("Kepler+Tesla", "3.7"),
    ("Kepler", "3.5+PTX"),
    ("Maxwell+Tegra", "5.3"),
    ("Maxwell", "5.0;5.2+PTX"),
    ("Pascal", "6.0;6.1+PTX"),
    ("Volta+Tegra", "7.2"),
    ("Volta", "7.0+PTX"),
    ("Turing", "7.5+PTX"),
    ("Ampere+Tegra", "8.7"),
    ("Ampere", "8.0;8.6+PTX"),
    ("Ada", "8.9+PTX"),
    ("Hopper", "9.0+PTX"),
    ("Blackwell+Tegra", "11.0"),
    ("Blackwell", "10.0;10.3;12.0;12.1+PTX"),
)


def extension_arches(arch_list, capabilities, torch_arches=()):
    """Return [(major, minor)] cpp_extension passes to nvcc (_get_cuda_arch_flags, torch 2.0 to 2.13): the entries
    of TORCH_CUDA_ARCH_LIST (`arch_list`; ";" or " " separated, NAMED_ARCHES expanded, "+PTX" dropped) when set
    (and not "native"), else each visible GPU's compute capability (`capabilities`) clamped to the newest `sm_` of
    torch's own arch list (`torch_arches`, e.g. ["sm_80", "sm_86"]). Entries it cannot read are left out."""
    if arch_list and arch_list != "native":
        text = arch_list.replace(" ", ";")
        for name, value in NAMED_ARCHES:
            text = text.replace(name, value)
        found = []
        for item in text.split(";"):
            parts = re.match(r"^(\d+)\.(\d+)a?(\+PTX)?$", item.strip())
            if parts and (int(parts.group(1)), int(parts.group(2))) not in found:
                found.append((int(parts.group(1)), int(parts.group(2))))
        return found
    sms = [compat.arch_capability(a) for a in torch_arches or () if a.startswith("sm_")]
    newest = max((s for s in sms if s), default=None)
    found = []
    for cap in capabilities:
        cap = tuple(cap) if newest is None else min(newest, tuple(cap))
        if cap not in found:
            found.append(cap)
    return sorted(found)


def _sm(cap):
    return "sm_%d%d" % tuple(cap)


def arch_problem(toolkit, arches, gpus, arch_list=None, torch_arches=(), torch_cuda=None, installed=(), asked=None):
    """Return a Blocker (WARN: torch runs; only CUDA extension builds stop) when an architecture cpp_extension
    would pass to nvcc (extension_arches()) is one this toolkit's nvcc does not compile for (`arches`, NvccArches),
    which stops the build with nvcc's "nvcc fatal : Unsupported gpu architecture 'compute_XY'"; else None.

    gpus: [(name, (major, minor))] of the visible GPUs; `asked`, where given, the architectures a failed build asked
    for (from nvcc's message), instead of extension_arches(). The fix: a TORCH_CUDA_ARCH_LIST this nvcc compiles for
    that runs on each GPU (its newest known architecture of the GPU's major: SASS runs on a GPU of the same major and an
    equal or higher minor; of an older major only as PTX, "+PTX": CUDA C++ Programming Guide, "Binary
    Compatibility" and "PTX Compatibility"), or a toolkit whose nvcc knows them (compat.ARCH_CUDA's first release;
    an installed one named, best_toolkit(), from `installed`: the toolkits, or a function that finds them, called
    only when there is a problem)."""
    from checks.report import WARN

    if arches is None or arches.known is None or toolkit.home is None:
        return None
    why = (
        "the build asked nvcc for it"
        if asked
        else "TORCH_CUDA_ARCH_LIST=%s asks for it" % arch_list
        if arch_list and arch_list != "native"
        else "TORCH_CUDA_ARCH_LIST is unset, so cpp_extension compiles for the visible GPUs' compute capability"
    )
    asked = asked or extension_arches(arch_list, [cap for _, cap in gpus], torch_arches)
    unknown = [cap for cap in asked if cap not in arches.known]
    if not unknown:
        return None
    known = set(arches.known)
    choice = []
    for _, cap in gpus or [(None, cap) for cap in unknown]:
        fits = [k for k in arches.known if k <= tuple(cap)]
        if fits:
            best = max(fits)
            item = "%d.%d" % best + ("" if best[0] == cap[0] else "+PTX")
            if item not in choice:
                choice.append(item)
    spans = [compat.ARCH_CUDA.get(cap) for cap in unknown]
    release = _release_key(toolkit.release)
    # too new for this nvcc (it came later) or too old (a later release dropped it): compat.ARCH_CUDA's span
    dropped = [cap for cap, span in zip(unknown, spans) if span and span[1] and release >= _release_key(span[1])]
    need = max((span[0] for span in spans), key=_release_key) if all(spans) else None
    below = min((span[1] for span in spans if span[1]), key=_release_key, default=None) if all(spans) else None

    def knows(kit):
        have = _release_key(kit.release)
        return bool(spans) and all(span and _release_key(span[0]) <= have and
                                   (not span[1] or have < _release_key(span[1])) for span in spans)  # fmt: skip

    installed = installed() if callable(installed) else installed  # looked for only now that a problem is found
    other = best_toolkit([t for t in installed if os.path.realpath(t.home) != os.path.realpath(toolkit.home)],
                         torch_cuda, knows)  # fmt: skip
    names = ", ".join("%s%s" % (_sm(cap), " (%s)" % n if n else "") for cap in unknown for n in
                      [next((g for g, c in gpus if tuple(c) == cap), None)])  # fmt: skip
    if dropped and known:
        newest = "its oldest is %s; CUDA %s dropped %s" % (_sm(min(known)), compat.ARCH_CUDA[dropped[0]][1],
                                                          _sm(dropped[0]))  # fmt: skip
    else:
        newest = "its newest is %s" % _sm(max(known)) if known else "it lists none"
    fixes = []
    if choice:
        fixes.append('export TORCH_CUDA_ARCH_LIST="%s" before building (architectures this nvcc compiles for that '
                     "run on these GPUs)" % ";".join(choice))  # fmt: skip
    wanted = ", ".join(_sm(c) for c in unknown)
    if other is not None:
        fixes.append("use a CUDA %s toolkit that knows them: export CUDA_HOME=%s" % (other.release, other.home))
    elif need is not None and not dropped:
        fixes.append("use a CUDA %s or newer toolkit (CUDA %s added %s) and point CUDA_HOME at it"
                     % (need, need, wanted))  # fmt: skip
    elif need is not None and below is not None and _release_key(need) < _release_key(below):
        fixes.append("use a CUDA toolkit from %s to before %s (CUDA %s dropped %s) and point CUDA_HOME at it"
                     % (need, below, below, wanted))  # fmt: skip
    return Blocker(
        status=WARN,
        summary="%s: the CUDA %s toolkit's nvcc at %s does not compile for it (%s, by %s); %s, and nvcc stops with "
        "\"Unsupported gpu architecture 'compute_%d%d'\""
        % (names, toolkit.release, toolkit.home, newest, arches.source, why, unknown[0][0], unknown[0][1]),
        expected="nvcc knows %s" % ", ".join(_sm(c) for c in unknown),
        actual="CUDA %s nvcc: %s" % (toolkit.release, " ".join(_sm(c) for c in arches.known) or "none"),
        fix=", or ".join(fixes)
        or "build with a CUDA toolkit whose nvcc lists %s in `nvcc --list-gpu-arch`"
        % ", ".join("compute_%d%d" % c for c in unknown),
    )


@dataclasses.dataclass(frozen=True)
class Setuptools:
    """setuptools as `import pkg_resources` would find it: its version (None: not installed) and where; and
    whether the installed torch's torch/utils/cpp_extension.py does `from pkg_resources import packaging` (torch
    before 2.2; pypa/setuptools#4385), which setuptools 70.0 broke by no longer exposing `packaging` there."""

    version: Optional[str]
    location: Optional[str]
    torch_imports_packaging: bool


BROKE_PKG_RESOURCES_PACKAGING = (70,)  # setuptools v70.0.0 (pypa/setuptools#4385)
PKG_RESOURCES_PACKAGING = re.compile(r"from pkg_resources import packaging")
NAMES_PKG_RESOURCES = re.compile(r"cannot import name 'packaging' from 'pkg_resources'|'pkg_resources'.*'packaging'")


def setuptools_fact(torch_dir):
    """Return the Setuptools fact (metadata and one source file read; nothing imported)."""
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution("setuptools")
        version, location = dist.version, str(dist.locate_file(""))
    except importlib.metadata.PackageNotFoundError:
        version, location = None, None
    imports = False
    if torch_dir:
        try:
            with open(os.path.join(torch_dir, "utils", "cpp_extension.py"), encoding="utf-8", errors="replace") as f:
                imports = bool(PKG_RESOURCES_PACKAGING.search(f.read()))
        except OSError:
            pass
    return Setuptools(version=version, location=location, torch_imports_packaging=imports)


def setuptools_problem(fact, torch_version, text):
    """Return a Blocker when the failure `text` is the ImportError of `from pkg_resources import packaging`
    (NAMES_PKG_RESOURCES) and the installed torch's cpp_extension does that import, else None. The error decides,
    not setuptools' version alone: 70.0 removed the name (pypa/setuptools#4385), and later releases import
    `packaging` in pkg_resources again (`from pkg_resources import packaging` works with 75.3.4, seen here)."""
    if not fact.torch_imports_packaging or not NAMES_PKG_RESOURCES.search(text or ""):
        return None
    return Blocker(
        status=FAIL,
        summary="setuptools %s (%s) has no pkg_resources.packaging (70.0 removed it), which torch %s's "
        "torch.utils.cpp_extension imports: it cannot be imported (inductor and extension builds use it)"
        % (fact.version, fact.location, torch_version),
        expected="a setuptools with pkg_resources.packaging for torch %s" % torch_version,
        actual="setuptools %s" % fact.version,
        fix='install setuptools<70: `python -m pip install "setuptools<70"` (69.5.1 is the last that has it), '
        "or a torch release from 2.2 on, whose cpp_extension does not import it",
    )


# nvcc's own check of the host GCC: the toolkit's include/crt/host_config.h stops every compile under
# `#if __GNUC__ > N` with "#error -- unsupported GNU version! gcc versions later than N are not supported!" (CUDA
# 11.7's header, line 132, as nvcc prints it: mlverse/torch#631; the newest supported GCC per release is NVIDIA's
# CUDA Installation Guide for Linux, "System Requirements"). The nvcc flag -allow-unsupported-compiler skips it.
HOST_CONFIG_GNU = re.compile(r"#if\s+__GNUC__\s*>\s*(\d+)\s+#error\s+--\s+unsupported GNU version")


@dataclasses.dataclass(frozen=True)
class HostCompiler:
    """The host C++ compiler nvcc compiles a CUDA extension's host code with: the command (`name`), its path (None:
    not found), why that one (`why`), and from its `--version` the family ("gcc", "clang" or None) and version."""

    name: str
    path: Optional[str]
    why: str
    family: Optional[str] = None
    version: Optional[Tuple[int, ...]] = None

    def describe(self):
        """`g++ (GCC 12.2.0; nvcc's default, g++ on PATH)`."""
        if self.version is None:
            return "%s (%s)" % (self.name, self.why)
        return "%s (%s %s; %s)" % (
            self.name,
            "GCC" if self.family == "gcc" else "Clang",
            _dotted(self.version),
            self.why,
        )


def _ccbin(flags):
    """The value of -ccbin / --compiler-bindir in a flag string, or None."""
    found = re.search(r"(?:-ccbin|--compiler-bindir)(?:=|\s+)(\S+)", flags or "")
    return found.group(1) if found else None


def host_compiler_fact(environ=None, timeout=10.0):
    """Return the HostCompiler nvcc takes for torch.utils.cpp_extension's CUDA builds, in nvcc's order: -ccbin in
    NVCC_PREPEND_FLAGS / NVCC_APPEND_FLAGS (nvcc adds them to every command: NVIDIA's nvcc documentation), else $CC
    (cpp_extension passes `-ccbin $CC` when CC is set, torch 2.0 to 2.13: _write_ninja_file_and_compile_objects,
    unix_wrap_ninja_compile), else NVCC_CCBIN (nvcc's variable for the default host compiler), else g++ on PATH
    (nvcc's default on Linux). A -ccbin naming a directory means g++ in it. One bounded `--version` call."""
    from checks.machine import probe

    environ = os.environ if environ is None else environ
    name, why = None, None
    for variable in ("NVCC_PREPEND_FLAGS", "NVCC_APPEND_FLAGS"):
        name = _ccbin(environ.get(variable))
        if name:
            why = "-ccbin in $%s" % variable
            break
    else:
        if environ.get("CC"):
            name, why = environ["CC"], "$CC, which cpp_extension passes to nvcc as -ccbin"
        elif environ.get("NVCC_CCBIN"):
            name, why = environ["NVCC_CCBIN"], "$NVCC_CCBIN"
        else:
            name, why = "g++", "nvcc's default: g++ on PATH"
    if os.path.isdir(name):
        name = os.path.join(name, "g++")
    path = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name, path=environ.get("PATH"))
    if path is None:
        return HostCompiler(name=name, path=None, why=why)
    code, out = probe.run_command([path, "--version"], timeout)
    family, version = compiler_banner(out) if code == 0 else (None, None)
    return HostCompiler(name=name, path=path, why=why, family=family, version=version)


def host_config_gcc_limit(home):
    """Return the newest GCC major the toolkit at `home` accepts, read from its include/crt/host_config.h (also
    targets/*/include/crt/host_config.h, where NVIDIA's packages keep it) as nvcc checks it (HOST_CONFIG_GNU), or
    None where the header or the guard is not there."""
    import glob

    places = [os.path.join(home, "include", "crt", "host_config.h")]
    places += sorted(glob.glob(os.path.join(glob.escape(home), "targets", "*", "include", "crt", "host_config.h")))
    for place in places:
        try:
            with open(place, encoding="utf-8", errors="replace") as f:
                text = f.read(1 << 20)
        except OSError:
            continue
        found = HOST_CONFIG_GNU.search(text)
        if found:
            return int(found.group(1))
    return None


def table_gcc_limit(release, bounds):
    """Return the newest compiler major a CUDA release accepts by a table shaped like cpp_extension's
    CUDA_GCC_VERSIONS / CUDA_CLANG_VERSIONS ({"11.7": ((6, 0, 0), (12, 0))}: min <= version < max, the upper bound
    exclusive), or None where the table has no row for it."""
    row = (bounds or {}).get(release or "")
    if not row:
        return None
    return row[1][0] - 1 if row[1][1:2] in ((0,), ()) else row[1][0]


def host_compiler_problem(toolkit, compiler, cpp_extension=None):
    """Return a Blocker (WARN: torch runs; every CUDA extension build stops) when the host compiler nvcc would use
    (`compiler`, a HostCompiler) is newer than the toolkit supports: for GCC the toolkit's own host_config.h guard
    (host_config_gcc_limit), else the installed cpp_extension's CUDA_GCC_VERSIONS row of its release (torch's
    _check_cuda_version raises "The current installed version of g++ (12.2.0) is greater than the maximum required
    version by CUDA 11.7"); for Clang its CUDA_CLANG_VERSIONS. The fix: a compiler it supports for CC/CXX (nvcc's
    -ccbin), or a toolkit whose table accepts this compiler (named from the same table). None otherwise."""
    from checks.report import WARN

    if toolkit.home is None or not toolkit.release or compiler.version is None or compiler.family is None:
        return None
    limit, source = None, None
    if compiler.family == "gcc":
        limit = host_config_gcc_limit(toolkit.home)
        source = "its include/crt/host_config.h, which nvcc reads" if limit is not None else None
    table = getattr(cpp_extension, "CUDA_GCC_VERSIONS" if compiler.family == "gcc" else "CUDA_CLANG_VERSIONS", None)
    if limit is None:
        limit = table_gcc_limit(toolkit.release, table)
        source = "torch.utils.cpp_extension's table for CUDA %s" % toolkit.release if limit is not None else None
    if limit is None or compiler.version[0] <= limit:
        return None
    word = "GCC" if compiler.family == "gcc" else "Clang"
    newer = sorted(
        (r for r in (table or {}) if _release_key(r) > _release_key(toolkit.release)
         and (table_gcc_limit(r, table) or 0) >= compiler.version[0]),
        key=_release_key,
    )  # fmt: skip
    later = (
        "a CUDA %s or newer toolkit, which accepts %s %d (torch.utils.cpp_extension's table), with CUDA_HOME at it"
        % (newer[0], word, compiler.version[0])
        if newer
        else "a newer CUDA toolkit that accepts %s %d (NVIDIA's CUDA Installation Guide lists the host compilers "
        "of each release), with CUDA_HOME at it" % (word, compiler.version[0])
    )
    if compiler.family == "gcc":
        fix = (
            "install GCC %d (Debian/Ubuntu: `apt install gcc-%d g++-%d`; conda: `gcc=%d gxx=%d`) and build with "
            "`CC=gcc-%d CXX=g++-%d` (cpp_extension passes $CC to nvcc as -ccbin; elsewhere `nvcc -ccbin g++-%d`), "
            "or use %s" % ((limit,) * 8 + (later,))
        )
    else:
        fix = "build with a Clang %d or older (CC/CXX, nvcc -ccbin), or use %s" % (limit, later)
    stops = (
        'nvcc: "#error -- unsupported GNU version! gcc versions later than %d are not supported!"' % limit
        if compiler.family == "gcc"
        else "nvcc's host_config.h and cpp_extension refuse it"
    )
    return Blocker(
        status=WARN,
        summary="the host compiler nvcc would use, %s, is newer than the CUDA %s toolkit at %s supports (%s up to "
        "%d, by %s): every CUDA extension build stops (%s)"
        % (compiler.describe(), toolkit.release, toolkit.home, word, limit, source, stops),
        expected="%s <= %d for CUDA %s" % (word, limit, toolkit.release),
        actual="%s %s" % (word, _dotted(compiler.version)),
        fix=fix,
    )
