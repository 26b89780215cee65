"""Collect facts about this machine without judging them: host, NVIDIA hardware, torch import, GPU probe.

The NVIDIA driver's own facts are checks/nvidia/driver.py's (driver.facts), which runs its tools through
run_command here; nothing here imports it back.
"""

import dataclasses
import glob
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from typing import Optional, Tuple

from checks import errors
from checks.machine.children import dies_with_parent

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


def torch_location():
    """Return where `import torch` finds torch (its __init__.py, or the folder of a namespace package: a `torch/`
    without __init__.py), without importing it; None when it is not on sys.path."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("namespace", "built-in"):
        return spec.origin
    locations = list(spec.submodule_search_locations or ())
    return ", ".join(locations) or None


class _Tee:
    """A text stream that writes through to `stream` and keeps a copy (at most 64 KiB)."""

    def __init__(self, stream):
        self.stream, self.kept = stream, []

    def write(self, data):
        if sum(map(len, self.kept)) < 65536:
            self.kept.append(str(data))
        return self.stream.write(data) if self.stream is not None else len(data)

    def flush(self):
        if self.stream is not None:
            self.stream.flush()

    def text(self):
        return "".join(self.kept)

    def __getattr__(self, name):  # encoding, isatty, fileno, ... of the real stream
        return getattr(self.stream, name)


EARLY = []  # verify's worker: import_torch()'s answer when import_first() ran it before the rest of checks


def import_first(argv):
    """verify's worker (`... verify --worker STATE`): run import_torch() before the rest of checks is imported
    (checks/__main__.py calls this first), so that the worker's interpreter start is followed at once by its one long
    step; the answer waits in EARLY. Nothing is imported when STATE says an earlier worker died inside `import torch`
    (`startup_failure`: this worker runs its checks without torch) or cannot be read (the worker's own option parser
    then says why)."""
    try:
        state = json.loads(argv[argv.index("--worker") + 1])
    except (ValueError, IndexError):
        return
    if isinstance(state, dict) and not state.get("startup_failure"):
        EARLY.append(import_torch())


def import_torch():
    """Import torch in-process; return (module, None) or (None, (error line, meaning, fix, text)): no usable torch
    here. `text` is the exception with its traceback's last frames (the files show which copy of which package
    failed), for checks/diagnosis/ to judge against the facts; meaning and fix are the text alone's
    (checks/causes.py). A `torch` that imports but is not PyTorch (an empty or partial `torch/` folder on sys.path
    imports as a namespace package; a module without __version__) is no torch either; the line names where it was
    found."""
    printed = _Tee(sys.stderr)  # what the import prints (numpy's C-API complaint, a warning) is part of the failure
    sys.stderr = printed
    try:
        import torch
    except Exception as exc:  # ImportError, OSError (DLLs), RuntimeError from extensions, AttributeError
        from checks import causes

        where = torch_location()
        line = errors.describe(exc) + (" (torch at %s)" % where if where else "")
        text = printed.text()[-8000:] + errors.traceback_text(exc)
        return None, (line,) + causes.of_import_error(exc) + (text,)
    finally:
        sys.stderr = printed.stream
    if not isinstance(getattr(torch, "__version__", None), str) or not hasattr(torch, "version"):
        where = getattr(torch, "__file__", None) or ", ".join(getattr(torch, "__path__", ())) or "an unknown place"
        sys.modules.pop("torch", None)  # a later `import torch` looks again instead of reusing the empty one
        line = "`import torch` found %s, which is not PyTorch (no torch.__version__)" % where
        return None, (
            line,
            "a torch folder without PyTorch in it is on sys.path and no real torch is installed: an empty or "
            "half-deleted install, or a folder named torch in the current directory or on PYTHONPATH",
            "remove or rename %s, then reinstall torch (`pixi install`, or `pip install torch`)" % where,
            line,
        )
    return torch, None


@dataclasses.dataclass(frozen=True)
class Host:
    """This machine as conda and the header name it: subdir (conda's platform, `linux-64`), os (`Linux 6.8.0`),
    python (`3.11.7`), python_executable (its path), cpu_count (os.cpu_count(), None where unknown)."""

    subdir: str
    os: str
    python: str
    python_executable: str
    cpu_count: Optional[int]


def host():
    """Return the Host record of this machine (conda's subdir naming: `<linux|osx|win>-<64|arm64|aarch64|...>`)."""
    system, machine = platform.system(), platform.machine().lower()
    arch = {"x86_64": "64", "amd64": "64", "arm64": "arm64", "aarch64": "aarch64", "ppc64le": "ppc64le"}.get(
        machine, machine
    )
    prefix = {"Linux": "linux", "Darwin": "osx", "Windows": "win"}.get(system, system.lower())
    return Host(
        subdir="%s-%s" % (prefix, arch),
        os="%s %s" % (system, platform.release()),
        python=platform.python_version(),
        python_executable=sys.executable,
        cpu_count=os.cpu_count(),
    )


def build_flavour(torch):
    """Return 'cuda', 'rocm' or 'cpu' for a torch build."""
    if getattr(torch.version, "cuda", None):
        return "cuda"
    return "rocm" if getattr(torch.version, "hip", None) else "cpu"


def arch_list(torch):
    """Return the CUDA architectures a build has kernels for (`sm_86`, `sm_90`, `compute_37` for PTX), read without
    initialising CUDA: torch._C._cuda_getArchFlags is the list compiled in, which torch.cuda.get_arch_list() returns
    only once a GPU is usable (torch/cuda/__init__.py, 2.0.1 to 2.15). None for a build without CUDA."""
    flags = getattr(torch._C, "_cuda_getArchFlags", None)
    if flags is None or not torch.version.cuda:
        return None
    text = flags()
    return text.split() if text else None


def build_label(torch):
    """Return the build as printed in headers, e.g. `cuda 11.8` or `cpu`."""
    flavour = build_flavour(torch)
    return "%s %s" % (flavour, torch.version.cuda) if flavour == "cuda" else flavour


def nccl_version(torch):
    """Return the NCCL version built into torch as text ("2.14.3"; torch 1.x gave one integer, e.g. "2708"), or
    None where there is none (a CPU build, macOS, Windows)."""
    try:
        version = torch.cuda.nccl.version()
    except (AttributeError, RuntimeError):
        return None
    return ".".join(map(str, version)) if isinstance(version, tuple) else str(version)


def header_facts(host, torch):
    """Return the header facts every check prints first: Python, platform, torch and its build."""
    return {
        "python": "%s (%s)" % (host.python, host.python_executable),
        "platform": "%s, %s, %s CPUs" % (host.os, host.subdir, host.cpu_count),
        "torch": torch.__version__ if torch else "not importable",
        "build": build_label(torch) if torch else None,
    }


def run_command(argv, timeout):
    """Run a command, stderr folded into stdout; return (returncode, output), or (None, reason) when it cannot
    finish (`did not answer within N s`, or the OSError's text when it cannot start). The command is killed with
    this process (dies_with_parent)."""
    try:
        proc = subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            text=True,
            preexec_fn=dies_with_parent(),
        )
    except subprocess.TimeoutExpired:
        return None, "did not answer within %g s" % timeout
    except OSError as exc:
        return None, str(exc)
    return proc.returncode, proc.stdout


def nvidia_hardware(sys_root="/"):
    """Return the evidence that this machine has an NVIDIA GPU, whether or not its driver works: a PCI display or
    3D controller of vendor 0x10de (Linux sysfs), a /dev/nvidiaN node, the kernel module's /proc entry, or
    nvidia-smi on PATH; an empty list on a machine without one (a GPU-less CI runner or container)."""
    evidence = pci_displays("0x10de", sys_root)
    evidence += sorted(glob.glob(os.path.join(sys_root, "dev/nvidia[0-9]*")))[:1]
    evidence += [p for p in [os.path.join(sys_root, "proc/driver/nvidia/version")] if os.path.exists(p)]
    smi = shutil.which("nvidia-smi")
    return evidence + (["nvidia-smi at %s" % smi] if smi else [])


def amd_gpu(sys_root="/"):
    """Return the evidence of an AMD GPU that ROCm can drive: a PCI display controller of vendor 0x1002 (sysfs) and
    the amdgpu driver's compute interface /dev/kfd (ROCm's kernel fusion driver node); [] where either is missing."""
    if not os.path.exists(os.path.join(sys_root, "dev/kfd")):
        return []
    found = pci_displays("0x1002", sys_root)
    return found + ["/dev/kfd"] if found else []


def pci_displays(vendor_id, sys_root="/"):
    """["PCI device ADDRESS", ...] of the display or 3D controllers (PCI class 0x03xxxx) of vendor `vendor_id`
    ("0x10de" NVIDIA, "0x1002" AMD) that Linux sysfs lists (sysfs-bus-pci ABI: each device's `vendor` and
    `class`); [] elsewhere."""
    found = []
    for device in sorted(glob.glob(os.path.join(sys_root, "sys/bus/pci/devices/*"))):
        try:
            with open(os.path.join(device, "vendor")) as vendor, open(os.path.join(device, "class")) as klass:
                if vendor.read().strip() == vendor_id and klass.read().strip().startswith("0x03"):
                    found.append("PCI device %s" % os.path.basename(device))
        except OSError:
            continue
    return found


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
import json, warnings, torch
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    out = {"available": torch.cuda.is_available(), "count": 0, "devices": []}
out["warnings"] = [str(w.message) for w in seen]
print("GPU-PROBE " + json.dumps(out), flush=True)
if out["available"]:
    out["count"] = torch.cuda.device_count()
    for i in range(out["count"]):
        p = torch.cuda.get_device_properties(i)
        out["devices"].append({"name": p.name, "capability": [p.major, p.minor],
                               "memory_gib": round(p.total_memory / 2**30, 1),
                               "sms": p.multi_processor_count})
    print("GPU-PROBE " + json.dumps(out), flush=True)
    x = torch.arange(1024, dtype=torch.float32, device="cuda")
    out["kernel_ok"] = bool(((x * 2).sum().item()) == float(2 * sum(range(1024))))
print("GPU-PROBE " + json.dumps(out))
"""


def gpu_probe(timeout, code=GPU_PROBE):
    """Initialise CUDA in a child process so a hung or crashing driver cannot take us with it; return its facts
    (available, count, devices, warnings such as `CUDA initialization: ...`, kernel_ok) as far as it got, plus
    `error` (the real error from its output, errors.extract) and `hung` when it did not finish."""
    code_, out = run_command([sys.executable, "-c", code], timeout)
    facts = {}
    for line in (out or "").splitlines():
        if line.startswith("GPU-PROBE "):
            facts = json.loads(line[len("GPU-PROBE ") :])
    if code_ is None:
        return dict(facts, error="the GPU probe %s" % out, hung="did not answer" in out)
    if code_ != 0 or "kernel_ok" not in facts and facts.get("available"):
        how = errors.crash(code_) or "exited with %s" % code_
        return dict(facts, error="the GPU probe %s: %s" % (how, errors.extract(out).line), hung=False)
    return facts


@dataclasses.dataclass(frozen=True)
class GpuDevice:
    """One CUDA device as torch sees it (torch.cuda.get_device_properties, in the GPU probe's child)."""

    name: str  # "NVIDIA H100 80GB HBM3"
    capability: Tuple[int, int]  # compute capability (major, minor): sm_86 is (8, 6)
    memory_gib: float  # total memory in GiB (2**30 bytes), one decimal
    sms: int  # streaming multiprocessors


@dataclasses.dataclass(frozen=True)
class GpuProbe:
    """What the GPU probe's child found before it finished or failed (gpu_probe's facts, typed).

    available: torch.cuda.is_available(); count: torch.cuda.device_count() (0 until CUDA starts); devices: one
    GpuDevice each; warnings: what torch warned while starting CUDA (`CUDA initialization: ...`); kernel_ok: a
    kernel's result was right, None when none ran; error: how the probe failed (errors.extract's line), None when
    it finished; hung: it did not answer within the timeout."""

    available: bool = False
    count: int = 0
    devices: Tuple[GpuDevice, ...] = ()
    warnings: Tuple[str, ...] = ()
    kernel_ok: Optional[bool] = None
    error: Optional[str] = None
    hung: bool = False

    @classmethod
    def from_facts(cls, facts):
        """Return the record of gpu_probe's dict (the child's JSON, plus error and hung when it failed)."""
        return cls(
            available=bool(facts.get("available")),
            count=int(facts.get("count") or 0),
            devices=tuple(
                GpuDevice(
                    name=d["name"],
                    capability=(int(d["capability"][0]), int(d["capability"][1])),
                    memory_gib=d["memory_gib"],
                    sms=d["sms"],
                )
                for d in facts.get("devices") or ()
            ),
            warnings=tuple(facts.get("warnings") or ()),
            kernel_ok=facts.get("kernel_ok"),
            error=facts.get("error"),
            hung=bool(facts.get("hung")),
        )

    @property
    def usable(self):
        """True when CUDA started and a kernel gave the right result."""
        return self.available and bool(self.kernel_ok)


def devices(torch, driver_info, timeout):
    """Return (usable devices, GpuProbe or None): "cpu", plus "cuda" if the probe ran a kernel, "mps". None: no
    probe ran (not a CUDA build, or no driver)."""
    found, gpu = ["cpu"], None
    if torch.version.cuda and driver_info["present"]:
        gpu = GpuProbe.from_facts(gpu_probe(timeout))
        if gpu.usable:
            found.append("cuda")
    if platform.system() == "Darwin" and torch.backends.mps.is_available():
        found.append("mps")
    return found, gpu
