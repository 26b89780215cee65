"""Collect facts about this machine without judging them: host, driver, torch import, GPU probe."""

import ctypes
import glob
import json
import os
import platform
import re
import shutil
import subprocess
import sys

# Environment variables that change what torch sees or does; reported in every header.
ENV_VARS = (
    "PIXI_ENVIRONMENT_NAME",
    "CONDA_PREFIX",
    "CONDA_OVERRIDE_CUDA",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "CUDA_HOME",
    "CUDA_MODULE_LOADING",
    "PYTORCH_CUDA_ALLOC_CONF",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TORCHINDUCTOR_CACHE_DIR",
)

# (pattern in the import error, what it means, the fix). First match wins.
IMPORT_SIGNATURES = (
    (
        r"No module named 'torch'$",
        "torch is not installed in this Python (%s)",
        "run inside the environment that has torch (`pixi run verify`, or `pixi shell`), or install it into this "
        "Python (pip: from https://download.pytorch.org/whl/cpu or /whl/cuXYZ for your CUDA)",
    ),
    (
        r"No module named 'torch\._C'",
        "this is a PyTorch source tree, not an installed torch",
        "run from another directory (cd ..), or build torch with `python setup.py develop`",
    ),
    (
        r"iJIT_NotifyEvent",
        "mkl 2024.1 or newer removed a symbol that torch 2.0's libtorch_cpu needs",
        "pin mkl below 2024.1: a constraint `mkl = \"<2024.1\"` in the manifest (conda: `conda install 'mkl<2024.1'`)",
    ),
    (
        r"GLIBCXX_\d|CXXABI_\d",
        "an older libstdc++ (often from the system via LD_LIBRARY_PATH) shadows the one torch needs",
        "remove system library dirs from LD_LIBRARY_PATH, or install libstdcxx-ng>=12 in the environment",
    ),
    (
        r"lib(cudnn|cublas|cublasLt|cudart|cufft|curand|cusparse|cusolver|nccl|nvrtc|nvToolsExt|nvJitLink)[^ ]*: "
        r"cannot open shared object",
        "a CUDA library that this CUDA build of torch loads at import is missing",
        "reinstall the environment (remove .pixi/envs/<env>, run `pixi install`; or pip install torch "
        "from its CUDA index) "
        "and do not mix pip's nvidia-* wheels with conda's cuda-* packages",
    ),
    (
        r"undefined symbol: .*(cudnn|cublas|nccl|cuda|cufft|cusparse)",
        "torch loaded CUDA libraries of another version (LD_LIBRARY_PATH or a system CUDA shadowing the environment's)",
        "unset LD_LIBRARY_PATH (or drop its /usr/local/cuda entries) and run again",
    ),
    (
        r"OMP: Error #15|libiomp5.*already initialized",
        "two OpenMP runtimes were loaded into one process",
        "keep one OpenMP runtime in the environment (conda: _openmp_mutex and intel-openmp from one channel)",
    ),
    (
        r"DLL load failed|WinError 126|WinError 127|fbgemm\.dll|c10\.dll",
        "a Windows DLL that torch needs did not load",
        "install the Microsoft Visual C++ 2015-2022 Redistributable (x64), then open a new terminal",
    ),
    (
        r"(compiled using NumPy 1\.x|_ARRAY_API not found|numpy\.core\.multiarray failed)",
        "NumPy 2 is installed but this torch was built against NumPy 1.x",
        'install numpy<2 (pin `numpy = "<2"` in the manifest)',
    ),
    (
        r"No module named '([\w.]+)'",
        "a package that torch imports is missing: %s",
        "install it into this environment (pip install <name>, or pixi install)",
    ),
    (
        r"undefined symbol",
        "a torch library does not match the others (a partial upgrade or mixed installs)",
        "reinstall torch, torchvision and torchaudio together from one source",
    ),
)


def diagnose_import_error(exc):
    """Return (what went wrong, fix) for a torch import failure from its message."""
    message = "%s: %s" % (type(exc).__name__, exc)
    for pattern, meaning, fix in IMPORT_SIGNATURES:
        match = re.search(pattern, message, re.MULTILINE)
        if match:
            if "%s" in meaning:
                meaning %= match.group(1) if match.groups() else sys.executable
            return meaning, fix
    return "torch failed to import (%s)" % message.splitlines()[0], "reinstall torch into this environment"


def import_torch():
    """Import torch in-process; return (module, None) or (None, (error line, meaning, fix))."""
    try:
        import torch
    except Exception as exc:  # ImportError, OSError (DLLs), RuntimeError from extensions
        line = ("%s: %s" % (type(exc).__name__, exc)).splitlines()[0]
        return None, (line,) + diagnose_import_error(exc)
    return torch, None


def host():
    """Return the conda subdir and basic facts of this machine."""
    system, machine = platform.system(), platform.machine().lower()
    arch = {"x86_64": "64", "amd64": "64", "arm64": "arm64", "aarch64": "aarch64", "ppc64le": "ppc64le"}.get(
        machine, machine
    )
    prefix = {"Linux": "linux", "Darwin": "osx", "Windows": "win"}.get(system, system.lower())
    return {
        "subdir": "%s-%s" % (prefix, arch),
        "os": "%s %s" % (system, platform.release()),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "cpu_count": os.cpu_count(),
    }


def build_flavour(torch):
    """Return 'cuda', 'rocm' or 'cpu' for a torch build."""
    if getattr(torch.version, "cuda", None):
        return "cuda"
    return "rocm" if getattr(torch.version, "hip", None) else "cpu"


def build_label(torch):
    """Return the build as printed in headers, e.g. `cuda 11.8` or `cpu`."""
    flavour = build_flavour(torch)
    return "%s %s" % (flavour, torch.version.cuda) if flavour == "cuda" else flavour


def header_facts(host, torch):
    """Return the header facts every check prints first: Python, platform, torch and its build."""
    return {
        "python": "%s (%s)" % (host["python"], host["python_executable"]),
        "platform": "%s, %s, %s CPUs" % (host["os"], host["subdir"], host["cpu_count"]),
        "torch": torch.__version__ if torch else "not importable",
        "build": build_label(torch) if torch else None,
    }


def _cuda_driver_version():
    names = {"Linux": ("libcuda.so.1", "libcuda.so"), "Windows": ("nvcuda.dll",)}.get(platform.system(), ())
    for name in names:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        version = ctypes.c_int(0)
        if lib.cuDriverGetVersion(ctypes.byref(version)) == 0 and version.value:
            return "%d.%d" % (version.value // 1000, (version.value % 1000) // 10)
    return None


def _run(argv, timeout):
    """Run a command; return (returncode, stdout), or (None, reason) when it cannot finish."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, text=True)
    except subprocess.TimeoutExpired:
        return None, "did not answer within %g s" % timeout
    except OSError as exc:
        return None, str(exc)
    return proc.returncode, proc.stdout


def driver(timeout=15.0):
    """Return the NVIDIA driver facts: version, the CUDA it supports, GPUs from nvidia-smi."""
    info = {"present": False, "version": None, "cuda": None, "gpus": [], "smi": None, "smi_error": None}
    proc_file = "/proc/driver/nvidia/version"
    if os.path.exists(proc_file):
        info["present"] = True
        with open(proc_file) as handle:
            match = re.search(r"Kernel Module\s+(?:for \S+\s+)?([\d.]+)", handle.read())
        info["version"] = match.group(1) if match else None
    info["cuda"] = _cuda_driver_version()
    info["present"] = info["present"] or info["cuda"] is not None
    smi = shutil.which("nvidia-smi")
    if smi:
        info["smi"] = smi
        code, out = _run(
            [smi, "--query-gpu=name,driver_version,compute_cap,memory.total", "--format=csv,noheader"], timeout
        )
        if code == 0:
            info["present"] = True
            for line in out.strip().splitlines():
                fields = [f.strip() for f in line.split(",")]
                if len(fields) >= 2:
                    info["gpus"].append(
                        {
                            "name": fields[0],
                            "compute_cap": fields[2] if len(fields) > 2 else None,
                            "memory": fields[3] if len(fields) > 3 else None,
                        }
                    )
                    info["version"] = info["version"] or fields[1]
            if info["cuda"] is None:
                _, header = _run([smi], timeout)
                match = re.search(r"CUDA Version:\s*([\d.]+)", header or "")
                info["cuda"] = match.group(1) if match else None
        else:
            lines = out.strip().splitlines()
            info["smi_error"] = "nvidia-smi " + (
                out if code is None else lines[0] if lines else "exited with %s" % code
            )
    return info


def torch_installed_by(prefix=None):
    """Return "conda" if the active prefix has a conda `pytorch` record, "pypi" if pip installed torch, else None
    (read from package metadata: torch is not imported)."""
    if conda_record("pytorch", prefix):
        return "conda"
    try:
        from importlib import metadata

        metadata.version("torch")
        return "pypi"
    except Exception:  # PackageNotFoundError, or no importlib.metadata (Python 3.7)
        return None


def pixi_install_record(prefix=None):
    """Return the JSON pixi writes into an environment it installs (`<prefix>/conda-meta/pixi`), or None.

    It names the environment and the platform pixi installed it for (`resolved_platform`: subdir and declared
    virtual packages); EnvironmentFile, crates/pixi_core/src/environment/mod.rs@v0.77.0:502-579.
    """
    prefix = prefix or os.environ.get("CONDA_PREFIX")
    if not prefix:
        return None
    try:
        with open(os.path.join(prefix, "conda-meta", "pixi"), encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def host_mac_version():
    """Return the macOS version (`14.5`) pixi detects as `__osx`, or None elsewhere."""
    return platform.mac_ver()[0] or None if platform.system() == "Darwin" else None


def host_linux():
    """Return the Linux kernel version (`6.1.0`) pixi detects as `__linux`, or None elsewhere."""
    if platform.system() != "Linux":
        return None
    match = re.match(r"\d+(\.\d+)*", platform.release())
    return match.group() if match else None


def host_glibc():
    """Return the glibc version (`2.36`) pixi detects as `__glibc`, or None where there is none."""
    if platform.system() != "Linux":
        return None
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):
        return None
    match = re.match(r"glibc ([\d.]+)", text)
    return match.group(1) if match else None


def environment_vars():
    """Return the variables in ENV_VARS that are set."""
    return {name: os.environ[name] for name in ENV_VARS if name in os.environ}


def conda_record(package, prefix=None):
    """Return a package's conda-meta record (channel, build) from the active conda/pixi prefix."""
    prefix = prefix or os.environ.get("CONDA_PREFIX") or sys.prefix
    for path in glob.glob(os.path.join(prefix, "conda-meta", "%s-*.json" % package)):
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        if record.get("name") == package:
            parts = str(record.get("channel", "")).rstrip("/").split("/")
            if parts and re.match(r"^(noarch|(linux|osx|win)-\w+)$", parts[-1]):
                parts.pop()  # conda writes the channel with its subdir, pixi without
            return {
                "version": record.get("version"),
                "build": record.get("build"),
                "channel": parts[-1] if parts else "",
            }
    return None


GPU_PROBE = r"""
import json, torch
out = {"available": torch.cuda.is_available(), "count": 0, "devices": []}
if out["available"]:
    out["count"] = torch.cuda.device_count()
    for i in range(out["count"]):
        p = torch.cuda.get_device_properties(i)
        out["devices"].append({"name": p.name, "capability": [p.major, p.minor],
                               "memory_gib": round(p.total_memory / 2**30, 1),
                               "sms": p.multi_processor_count})
    x = torch.arange(1024, dtype=torch.float32, device="cuda")
    out["kernel_ok"] = bool(((x * 2).sum().item()) == float(2 * sum(range(1024))))
print("GPU-PROBE " + json.dumps(out))
"""


def gpu_probe(timeout, code=GPU_PROBE):
    """Initialise CUDA in a child process so a hung driver cannot hang us; return facts or an error."""
    code_, out = _run([sys.executable, "-c", code], timeout)
    if code_ is None:
        return {"error": "the GPU probe %s" % out, "hung": "did not answer" in out}
    for line in out.splitlines():
        if line.startswith("GPU-PROBE "):
            return json.loads(line[len("GPU-PROBE ") :])
    tail = [line for line in out.strip().splitlines() if line.strip()]
    return {"error": "the GPU probe exited with %s: %s" % (code_, tail[-1] if tail else "no output"), "hung": False}


def devices(torch, driver_info, timeout):
    """Return (usable devices, GPU probe facts or None): "cpu", plus "cuda" if the probe ran a kernel, "mps"."""
    found, gpu = ["cpu"], None
    if torch.version.cuda and driver_info["present"]:
        gpu = gpu_probe(timeout)
        if gpu.get("available") and gpu.get("kernel_ok"):
            found.append("cuda")
    if platform.system() == "Darwin" and torch.backends.mps.is_available():
        found.append("mps")
    return found, gpu
