"""Fakes shaped like the real artefacts, for tests: nvidia-smi in each state it reports, NVML through a module shaped
like nvidia-ml-py's pynvml, and a torch that fails the ways public reports show (a hook in sitecustomize).

Every text below is copied from a real source, named beside it; the research notes keep the full reports.
"""

import os
import stat
import sys
import textwrap
import types

# nvidia-smi's failure states: (what it prints on stdout, exit code). Exit codes are NVML's nvmlReturn_t values
# (nvidia-smi(1), RETURN VALUE); where no report shows the code, the man page's is used and marked.
SMI_STATES = {
    # Reproduced with the 470.256.02 and 535.261.03 binaries without a kernel module (message, blank line, exit 9).
    "driver-not-loaded": (
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest "
        "NVIDIA driver is installed and running.\n\n",
        9,
    ),
    # Reproduced with the 535.261.03 binary without libnvidia-ml on the loader path (exit 12).
    "nvml-missing": (
        "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system. Please make sure that the NVIDIA Display "
        "Driver is properly installed and present in your system.\nPlease also try adding directory that contains "
        "libnvidia-ml.so to your system PATH.\n",
        12,
    ),
    # anderskm/gputil#55 (exit 18 shown there); mozilla/translations#1167 confirms stdout.
    "version-mismatch": (
        "Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 535.161\n",
        18,
    ),
    # nvidia-docker#1608 title; exit 4 from the man page (not seen in a report).
    "no-permission": ("Failed to initialize NVML: Insufficient Permissions\n", 4),
    # NVIDIA/open-gpu-kernel-modules#862 (RTX 5090, BIOS); exit 6 from the man page (not seen in a report).
    "no-devices": ("No devices were found\n", 6),
    # pdbear/syno_nvidia_gpu_driver#22 (535-style, no space); exit 15 from the man page (not seen in a report).
    "gpu-lost": ("Unable to determine the device handle for GPU0000:07:00.0: Unknown Error\n", 15),
    # NVIDIA/nvidia-docker#1671 (container after `systemctl daemon-reload`); exit 255 is the man page's "other".
    "nvml-unknown": ("Failed to initialize NVML: Unknown Error\n", 255),
}
# The first lines of a plain `nvidia-smi` (templates from the 470.256.02 and 535.261.03 binaries; real output in
# pytorch/pytorch#82913 for 470.82.01 and canonical/inference-snaps#128 for 570.133.07).
SMI_HEADER_470 = (
    "+-----------------------------------------------------------------------------+\n"
    "| NVIDIA-SMI {tool:<10}   Driver Version: {driver:<10}   CUDA Version: {cuda:<9}|\n"
)
SMI_HEADER_535 = (
    "+---------------------------------------------------------------------------------------+\n"
    "| NVIDIA-SMI {tool:<22} Driver Version: {driver:<14} CUDA Version: {cuda:<9}|\n"
)
# Query fields our checks ask for; 470's nvidia-smi has no compute_cap (absent from the 470.256.02 binary, present
# in 525.147.05): it answers `Field "compute_cap" is not a valid field to query.`, a blank line, exit 2
# (huggingface/candle#733, canonical/inference-snaps#128, CoHDI/composable-resource-operator#37).
FIELDS_470 = ("name", "driver_version", "memory.total", "pci.bus_id")
FIELDS_535 = FIELDS_470 + ("compute_cap",)
H100 = ("NVIDIA H100 80GB HBM3", 81559, "00000000:19:00.0", "9.0")
RTX_5090 = ("NVIDIA GeForce RTX 5090", 32607, "00000000:01:00.0", "12.0")
T4 = ("Tesla T4", 15360, "00000000:00:04.0", "7.5")

SMI_SCRIPT = """\
#!{python}
import sys, time
STATE, SLEEP = {state!r}, {sleep!r}
if SLEEP:
    time.sleep(SLEEP)
if STATE:
    sys.stdout.write({text!r})
    sys.exit({code!r})
args = sys.argv[1:]
query = [a for a in args if a.startswith("--query-gpu=")]
if not query:
    sys.stdout.write({header!r})
    sys.exit(0)
fields = query[0].split("=", 1)[1].split(",")
for field in fields:
    if field not in {fields!r}:
        sys.stdout.write('Field "%s" is not a valid field to query.\\n\\n' % field)
        sys.exit(2)
units = not any("nounits" in a for a in args)
for name, memory, bus, cap in {gpus!r}:
    row = {{"name": name, "driver_version": {driver!r}, "pci.bus_id": bus, "compute_cap": cap}}
    row["memory.total"] = "%d MiB" % memory if units else str(memory)
    print(", ".join(row[f] for f in fields))
"""


def nvidia_smi(directory, state=None, driver="535.161.07", cuda="12.2", gpus=(H100,), sleep=None):
    """Write an executable fake `nvidia-smi` into `directory` and return {"PATH": ...} that puts it first.

    state: None (answers, like a 470 or 535 driver by `driver`'s major) or a key of SMI_STATES; sleep: seconds to
    hang before answering.
    """
    old = int(driver.split(".")[0]) < 510
    text, code = SMI_STATES.get(state, ("", 0))
    header = (SMI_HEADER_470 if old else SMI_HEADER_535).format(tool=driver, driver=driver, cuda=cuda)
    path = os.path.join(str(directory), "nvidia-smi")
    with open(path, "w") as handle:
        handle.write(
            SMI_SCRIPT.format(
                python=sys.executable,
                state=state,
                sleep=sleep,
                text=text,
                code=code,
                header=header,
                fields=FIELDS_470 if old else FIELDS_535,
                gpus=tuple(gpus),
                driver=driver,
            )
        )
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    return {"PATH": str(directory) + os.pathsep + os.environ["PATH"]}


# pynvml's error strings (nvidia-ml-py's _errcode_to_string, printed by str(NVMLError(code))).
NVML_ERRORS = {
    3: "Not Supported",
    4: "Insufficient Permissions",
    9: "Driver Not Loaded",
    12: "NVML Shared Library Not Found",
    15: "GPU is lost",
    18: "RM has detected an NVML/RM version mismatch.",
    999: "Unknown Error",
}


def pynvml(init_error=None, driver="535.161.07", cuda=12020, gpus=(H100,), unsupported=()):
    """Return a module shaped like nvidia-ml-py's pynvml: nvmlInit raises NVMLError(init_error) when given; the
    functions named in `unsupported` raise NVMLError(3) (NVML_ERROR_NOT_SUPPORTED)."""
    module = types.ModuleType("pynvml")

    class NVMLError(Exception):
        def __init__(self, value):
            super().__init__(value)
            self.value = value

        def __str__(self):
            return NVML_ERRORS.get(self.value, "NVML Error with code %d" % self.value)

    module.NVMLError = NVMLError

    def call(name, result):
        def function(*args):
            if name in unsupported:
                raise NVMLError(3)
            return result(*args)

        setattr(module, name, function)

    def init():
        if init_error is not None:
            raise NVMLError(init_error)

    module.nvmlInit = init
    module.nvmlShutdown = lambda: None
    call("nvmlSystemGetDriverVersion", lambda: driver)
    call("nvmlSystemGetCudaDriverVersion", lambda: cuda)
    call("nvmlDeviceGetCount", lambda: len(gpus))
    call("nvmlDeviceGetHandleByIndex", lambda i: i)
    call("nvmlDeviceGetName", lambda i: gpus[i][0])
    call("nvmlDeviceGetMemoryInfo", lambda i: types.SimpleNamespace(total=gpus[i][1] * 2**20))
    call("nvmlDeviceGetPciInfo", lambda i: types.SimpleNamespace(busId=gpus[i][2].encode()))
    call("nvmlDeviceGetCudaComputeCapability", lambda i: tuple(int(p) for p in gpus[i][3].split(".")))
    return module


# Texts of torch failures, each from a public report (see the research notes).
OMP_15 = (  # meta-pytorch/csprng#115 (Windows; the same runtime message on Linux names libiomp5.so)
    "OMP: Error #15: Initializing libiomp5md.dll, but found libiomp5md.dll already initialized.\n"
    "OMP: Hint This means that multiple copies of the OpenMP runtime have been linked into the program. That is "
    "dangerous, since it can degrade performance or cause incorrect results. The best thing to do is to ensure that "
    "only a single OpenMP runtime is linked into the process, e.g. by avoiding static linking of the OpenMP runtime "
    "in any library. As an unsafe, unsupported, undocumented workaround you can set the environment variable "
    "KMP_DUPLICATE_LIB_OK=TRUE to allow the program to continue to execute, but that may cause crashes or silently "
    "produce incorrect results. For more information, please see http://www.intel.com/software/products/support/.\n"
)
CUDNN_ABORT = (  # open-mmlab/mmdetection3d#2132 (title), then the process aborts (whisper-diarization#62)
    "Could not load library libcudnn_cnn_infer.so.8. Error: libcuda.so: cannot open shared object file: No such "
    "file or directory\nPlease make sure libcudnn_cnn_infer.so.8 is in your library path!\n"
)
NO_KERNEL_IMAGE_201 = (  # torch 2.0.1's CUDA error (c10/cuda strings of the 2.0.1 wheel; hustvl/Vim#42 shows it)
    "CUDA error: no kernel image is available for execution on the device\n"
    "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be "
    "incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1.\n"
    "Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.\n"
)
DRIVER_TOO_OLD_WARNING = (  # weaviate/Verba#72 (a 470 driver under a CUDA 12 build)
    "CUDA initialization: The NVIDIA driver on your system is too old (found version 11040). Please update your "
    "GPU driver by downloading and installing a new version from the URL: http://www.nvidia.com/Download/index.aspx "
    "Alternatively, go to: https://pytorch.org to install a PyTorch version that has been compiled with your version "
    "of the CUDA driver. (Triggered internally at ../c10/cuda/CUDAFunctions.cpp:108.)"
)

FAULT_HOOK = """\
import builtins, os, sys
FAULT = {fault!r}
_real_import = builtins.__import__


def _die(text, how):
    sys.stderr.write(text)
    sys.stderr.flush()
    if how == "abort":
        os.abort()
    import signal
    os.kill(os.getpid(), getattr(signal, how))


def _install(torch):
    if FAULT == "abort-in-conv":
        def conv(self, *args, **kwargs):
            _die({cudnn!r}, "abort")
        torch.nn.Conv2d._conv_forward = conv
    elif FAULT == "segv-in-sdpa":
        def sdpa(*args, **kwargs):
            import ctypes
            ctypes.string_at(0)
        torch.nn.functional.scaled_dot_product_attention = sdpa
    elif FAULT == "hang-in-amp":
        import time
        torch.autocast.__enter__ = lambda self: time.sleep(3600)
    elif FAULT in ("h100-no-kernel-image", "driver-too-old"):
        import types, warnings
        def available():
            if FAULT == "driver-too-old":
                warnings.warn({too_old!r})
                return False
            return True
        torch.cuda.is_available = available
        torch.cuda.device_count = lambda: 1
        torch.cuda.get_device_properties = lambda i: types.SimpleNamespace(
            name="NVIDIA H100 80GB HBM3", major=9, minor=0, total_memory=85520809984, multi_processor_count=132)
        real_arange = torch.arange
        def arange(*args, **kwargs):
            if str(kwargs.get("device", "")).startswith("cuda"):
                raise RuntimeError({no_kernel!r})
            return real_arange(*args, **kwargs)
        torch.arange = arange


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    first = level == 0 and name == "torch" and "torch" not in sys.modules
    if first and FAULT == "omp-at-import":
        _die({omp!r}, "abort")
    if first and FAULT == "sigill-at-import":
        _die("", "SIGILL")
    module = _real_import(name, globals, locals, fromlist, level)
    if first:
        _install(sys.modules["torch"])
    return module


builtins.__import__ = _import
"""


def torch_fault(directory, fault):
    """Write a sitecustomize.py into `directory` that makes torch fail as `fault` says; return {"PYTHONPATH": ...}.

    Faults: omp-at-import (OMP #15 then abort), sigill-at-import, abort-in-conv (cuDNN's loader message then abort),
    segv-in-sdpa, hang-in-amp, h100-no-kernel-image (an H100 seen, its first kernel fails as 2.0.1 reports it),
    driver-too-old (is_available() warns as torch does under a too-old driver).
    """
    text = textwrap.dedent(FAULT_HOOK).format(
        fault=fault,
        cudnn=CUDNN_ABORT,
        omp=OMP_15,
        too_old=DRIVER_TOO_OLD_WARNING,
        no_kernel=NO_KERNEL_IMAGE_201,
    )
    with open(os.path.join(str(directory), "sitecustomize.py"), "w") as handle:
        handle.write(text)
    return {"PYTHONPATH": str(directory)}
