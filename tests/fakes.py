"""Fakes shaped like the real artefacts, for tests: nvidia-smi in each state it reports, NVML through a module shaped
like nvidia-ml-py's pynvml, and a torch that fails the ways public reports show (a hook in sitecustomize).

Every text below is copied from a real source, named beside it; the research notes keep the full reports.
"""

import dataclasses
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import types

import pytest

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
# The memory error fields (`nvidia-smi --help-query-gpu`) are known to both; a GPU without ECC (GeForce) answers
# `[N/A]` for each, Ampere and later `[N/A]` for retired_pages.pending (they remap rows), booleans are `Yes`/`No`.
MEMORY_FIELDS = (
    "ecc.mode.current",
    "ecc.errors.uncorrected.volatile.total",
    "retired_pages.pending",
    "remapped_rows.pending",
    "remapped_rows.failure",
)
FIELDS_470 = ("name", "driver_version", "memory.total", "pci.bus_id") + MEMORY_FIELDS
FIELDS_535 = FIELDS_470 + ("compute_cap",)
# The memory error answers of an A100 (ECC on) after a double-bit error: two uncorrectable errors since the driver
# loaded, their rows waiting for the remap at the next reset (NVIDIA, "A100 GPU Memory Error Management").
ECC_A100_PENDING = {
    "ecc.mode.current": "Enabled",
    "ecc.errors.uncorrected.volatile.total": "2",
    "retired_pages.pending": "[N/A]",
    "remapped_rows.pending": "Yes",
    "remapped_rows.failure": "No",
}
ECC_A100_CLEAN = dict(ECC_A100_PENDING, **{"ecc.errors.uncorrected.volatile.total": "0", "remapped_rows.pending": "No"})
H100 = ("NVIDIA H100 80GB HBM3", 81559, "00000000:19:00.0", "9.0")
RTX_5090 = ("NVIDIA GeForce RTX 5090", 32607, "00000000:01:00.0", "12.0")
T4 = ("Tesla T4", 15360, "00000000:00:04.0", "7.5")

SMI_SCRIPT = """\
#!{python}
import sys, time
STATE, SLEEP = {state!r}, {sleep!r}
ECC = {ecc!r}
if SLEEP:
    time.sleep(SLEEP)
if STATE:
    sys.stdout.write({text!r})
    sys.exit({code!r})
args = sys.argv[1:]
apps = [a for a in args if a.startswith("--query-compute-apps=")]
if apps:  # one `pid, used_memory` row per process (nounits: MiB), nothing when there is none
    for pid, mib in {apps!r}:
        print("%d, %s" % (pid, "[N/A]" if mib is None else mib))
    sys.exit(0)
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
    row.update({{f: "[N/A]" for f in {memory_fields!r}}}, **ECC.get(bus, {{}}))
    row["memory.total"] = "%d MiB" % memory if units else str(memory)
    print(", ".join(row[f] for f in fields))
"""


def nvidia_smi(directory, state=None, driver="535.161.07", cuda="12.2", gpus=(H100,), sleep=None, apps=(), ecc=None):
    """Write an executable fake `nvidia-smi` into `directory` and return {"PATH": ...} that puts it first.

    ecc: {bus id: {memory field: answer}} (e.g. ECC_A100_PENDING) for GPUs that count memory errors; the others
    answer `[N/A]` to the memory fields.

    state: None (answers, like a 470 or 535 driver by `driver`'s major) or a key of SMI_STATES; sleep: seconds to
    hang before answering; apps: (pid, MiB or None) rows of `--query-compute-apps=pid,used_memory`.
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
                apps=tuple(apps),
                ecc=dict(ecc or {}),
                memory_fields=MEMORY_FIELDS,
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
    13: "Function Not Found",
    15: "GPU is lost",
    18: "RM has detected an NVML/RM version mismatch.",
    999: "Unknown Error",
}


def pynvml(init_error=None, driver="535.161.07", cuda=12020, gpus=(H100,), unsupported=(), apps=(), apps_v3=True):
    """Return a module shaped like nvidia-ml-py's pynvml: nvmlInit raises NVMLError(init_error) when given; the
    functions named in `unsupported` raise NVMLError(3) (NVML_ERROR_NOT_SUPPORTED). `apps`: (pid, bytes or None)
    of the compute processes on every GPU, as nvmlDeviceGetComputeRunningProcesses answers them (objects with the
    fields of c_nvmlProcessInfo_v2_t; usedGpuMemory None where NVML_VALUE_NOT_AVAILABLE); apps_v3=False: a driver
    without the _v3 call, where that function raises NVMLError(13) and the _v2 one answers (nvidia-ml-py 13.615)."""
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

    def running(listed, v3=True):
        if not v3:
            raise NVMLError(13)
        none = 0xFFFFFFFF  # gpuInstanceId / computeInstanceId outside MIG
        return [
            types.SimpleNamespace(pid=p, usedGpuMemory=m, gpuInstanceId=none, computeInstanceId=none) for p, m in listed
        ]

    call("nvmlDeviceGetComputeRunningProcesses", lambda i: running(apps, apps_v3))
    call("nvmlDeviceGetComputeRunningProcesses_v2", lambda i: running(apps))
    call("nvmlDeviceGetGraphicsRunningProcesses", lambda i: running((), apps_v3))
    call("nvmlDeviceGetGraphicsRunningProcesses_v2", lambda i: running(()))
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
NO_DRIVER_WARNING = (  # torch 2.0.1 in a container given nvidia-smi but no libcuda (containerd/nerdctl#1023)
    "CUDA initialization: Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and "
    "installed a driver from http://www.nvidia.com/Download/index.aspx (Triggered internally at "
    "../c10/cuda/CUDAFunctions.cpp:109.)"
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
    elif FAULT in ("h100-no-kernel-image", "driver-too-old", "no-driver"):
        import types, warnings
        def available():
            if FAULT == "driver-too-old":
                warnings.warn({too_old!r})
                return False
            if FAULT == "no-driver":
                warnings.warn({no_driver!r})
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
    driver-too-old (is_available() warns as torch does under a too-old driver), no-driver (it warns as torch does
    where no libcuda loads).
    """
    text = textwrap.dedent(FAULT_HOOK).format(
        fault=fault,
        cudnn=CUDNN_ABORT,
        omp=OMP_15,
        too_old=DRIVER_TOO_OLD_WARNING,
        no_driver=NO_DRIVER_WARNING,
        no_kernel=NO_KERNEL_IMAGE_201,
    )
    with open(os.path.join(str(directory), "sitecustomize.py"), "w") as handle:
        handle.write(text)
    return {"PYTHONPATH": str(directory)}


# ---- node health (checks/health) ------------------------------------------------------------------------------------
# Real `nvidia-smi -q` captures, verbatim as the research notes quote them (Part B; `...` and `[...]` mark lines the
# quoting left out, trailing spaces are the originals'):
# - H100 80GB HBM3, driver 565.57.01: github thamada/nvidia-smi @ c4c8a463, gls/H100SXMx8_smi.py lines 57-240.
# - A100-SXM4-80GB, driver 555.42.02: the same repository, gls/A100SXMx4_smi.py lines 40-263.
# - A100-SXM4-80GB with a pending row remap, driver 510.73.08: github stas00/ml-engineering @ 744d01e1,
#   compute/accelerator/nvidia/debug.md lines 40-74.
# - RTX PRO 6000 Blackwell, driver 580.105.06, `-q -d MEMORY,PERFORMANCE`: github bigstack-oss/cubecos issue #312.
# - Tesla V100-PCIE-32GB, driver 470.129.06: github bsyonline/hexo.post @ 6135ed34,
#   _posts/llm/nvidia-smi-usage.md lines 110-296.
# - NVIDIA A16, driver 470.129.04, idle (PCIe downshifted): a Nutanix vGPU write-up (repository not recorded).
SMI_Q_H100_565 = (
    "Timestamp                                 : Thu Nov 14 07:00:14 2024\n"
    "Driver Version                            : 565.57.01\n"
    "CUDA Version                              : 12.7\n"
    "\n"
    "Attached GPUs                             : 8\n"
    "GPU 00000000:18:00.0\n"
    "    Product Name                          : NVIDIA H100 80GB HBM3\n"
    "...\n"
    "    GPU Reset Status\n"
    "        Reset Required                    : No\n"
    "        Drain and Reset Recommended       : No\n"
    "    GPU Recovery Action                   : None\n"
    "    GSP Firmware Version                  : 565.57.01\n"
    "...\n"
    "    PCI\n"
    "        Bus                               : 0x18\n"
    "...\n"
    "        GPU Link Info\n"
    "            PCIe Generation\n"
    "                Max                       : 5\n"
    "                Current                   : 5\n"
    "                Device Current            : 5\n"
    "                Device Max                : 5\n"
    "                Host Max                  : 5\n"
    "            Link Width\n"
    "                Max                       : 16x\n"
    "                Current                   : 16x\n"
    "        Bridge Chip\n"
    "            Type                          : N/A\n"
    "            Firmware                      : N/A\n"
    "        Replays Since Reset               : 7\n"
    "        Replay Number Rollovers           : 0\n"
    "        Tx Throughput                     : 567 KB/s\n"
    "        Rx Throughput                     : 559 KB/s\n"
    "...\n"
    "    Fan Speed                             : N/A\n"
    "    Performance State                     : P0\n"
    "    Clocks Event Reasons\n"
    "        Idle                              : Active\n"
    "        Applications Clocks Setting       : Not Active\n"
    "        SW Power Cap                      : Not Active\n"
    "        HW Slowdown                       : Not Active\n"
    "            HW Thermal Slowdown           : Not Active\n"
    "            HW Power Brake Slowdown       : Not Active\n"
    "        Sync Boost                        : Not Active\n"
    "        SW Thermal Slowdown               : Not Active\n"
    "        Display Clock Setting             : Not Active\n"
    "    Sparse Operation Mode                 : Disabled\n"
    "...\n"
    "    ECC Mode\n"
    "        Current                           : Enabled\n"
    "        Pending                           : Enabled\n"
    "    ECC Errors\n"
    "        Volatile\n"
    "            SRAM Correctable              : 0\n"
    "            SRAM Uncorrectable Parity     : 0\n"
    "            SRAM Uncorrectable SEC-DED    : 0\n"
    "            DRAM Correctable              : 0\n"
    "            DRAM Uncorrectable            : 0\n"
    "        Aggregate\n"
    "            SRAM Correctable              : 0\n"
    "            SRAM Uncorrectable Parity     : 0\n"
    "            SRAM Uncorrectable SEC-DED    : 0\n"
    "            DRAM Correctable              : 0\n"
    "            DRAM Uncorrectable            : 0\n"
    "            SRAM Threshold Exceeded       : No\n"
    "        Aggregate Uncorrectable SRAM Sources\n"
    "            SRAM L2                       : 0\n"
    "            SRAM SM                       : 0\n"
    "            SRAM Microcontroller          : 0\n"
    "            SRAM PCIE                     : 0\n"
    "            SRAM Other                    : 0\n"
    "    Retired Pages\n"
    "        Single Bit ECC                    : N/A\n"
    "        Double Bit ECC                    : N/A\n"
    "        Pending Page Blacklist            : N/A\n"
    "    Remapped Rows\n"
    "        Correctable Error                 : 0\n"
    "        Uncorrectable Error               : 0\n"
    "        Pending                           : No\n"
    "        Remapping Failure Occurred        : No\n"
    "        Bank Remap Availability Histogram\n"
    "            Max                           : 2560 bank(s)\n"
    "            High                          : 0 bank(s)\n"
    "            Partial                       : 0 bank(s)\n"
    "            Low                           : 0 bank(s)\n"
    "            None                          : 0 bank(s)\n"
    "    Temperature\n"
    "        GPU Current Temp                  : 30 C\n"
    "        GPU T.Limit Temp                  : 57 C\n"
    "        GPU Shutdown T.Limit Temp         : -8 C\n"
    "        GPU Slowdown T.Limit Temp         : -2 C\n"
    "        GPU Max Operating T.Limit Temp    : 0 C\n"
    "        GPU Target Temperature            : N/A\n"
    "        Memory Current Temp               : 36 C\n"
    "        Memory Max Operating T.Limit Temp : 0 C\n"
    "    GPU Power Readings\n"
    "        Power Draw                        : 100.89 W\n"
    "        Current Power Limit               : 700.00 W\n"
    "        Requested Power Limit             : 700.00 W\n"
    "        Default Power Limit               : 700.00 W\n"
    "        Min Power Limit                   : 200.00 W\n"
    "        Max Power Limit                   : 700.00 W\n"
)
SMI_Q_A100_555 = (
    "Timestamp                                 : Thu Nov 14 10:45:47 2024\n"
    "Driver Version                            : 555.42.02\n"
    "CUDA Version                              : 12.5\n"
    "\n"
    "Attached GPUs                             : 4\n"
    "GPU 00000000:68:00.0\n"
    "    Product Name                          : NVIDIA A100-SXM4-80GB\n"
    "...\n"
    "        GPU Link Info\n"
    "            PCIe Generation\n"
    "                Max                       : 4\n"
    "                Current                   : 4\n"
    "                Device Current            : 4\n"
    "                Device Max                : 4\n"
    "                Host Max                  : 5\n"
    "            Link Width\n"
    "                Max                       : 16x\n"
    "                Current                   : 16x\n"
    "        Bridge Chip\n"
    "            Type                          : N/A\n"
    "            Firmware                      : N/A\n"
    "        Replays Since Reset               : 0\n"
    "        Replay Number Rollovers           : 0\n"
    "...\n"
    "    Performance State                     : P0\n"
    "    Clocks Event Reasons\n"
    "        Idle                              : Active\n"
    "        Applications Clocks Setting       : Not Active\n"
    "        SW Power Cap                      : Not Active\n"
    "        HW Slowdown                       : Not Active\n"
    "            HW Thermal Slowdown           : Not Active\n"
    "            HW Power Brake Slowdown       : Not Active\n"
    "        Sync Boost                        : Not Active\n"
    "        SW Thermal Slowdown               : Not Active\n"
    "        Display Clock Setting             : Not Active\n"
    "...\n"
    "    Retired Pages\n"
    "        Single Bit ECC                    : N/A\n"
    "        Double Bit ECC                    : N/A\n"
    "        Pending Page Blacklist            : N/A\n"
    "    Remapped Rows\n"
    "        Correctable Error                 : 0\n"
    "        Uncorrectable Error               : 0\n"
    "        Pending                           : No\n"
    "        Remapping Failure Occurred        : No\n"
    "        Bank Remap Availability Histogram\n"
    "            Max                           : 640 bank(s)\n"
    "            High                          : 0 bank(s)\n"
    "            Partial                       : 0 bank(s)\n"
    "            Low                           : 0 bank(s)\n"
    "            None                          : 0 bank(s)\n"
    "    Temperature\n"
    "        GPU Current Temp                  : 25 C\n"
    "        GPU T.Limit Temp                  : N/A\n"
    "        GPU Shutdown Temp                 : 92 C\n"
    "        GPU Slowdown Temp                 : 89 C\n"
    "        GPU Max Operating Temp            : 85 C\n"
    "        GPU Target Temperature            : N/A\n"
    "        Memory Current Temp               : 43 C\n"
    "        Memory Max Operating Temp         : 95 C\n"
    "    GPU Power Readings\n"
    "        Power Draw                        : 59.77 W\n"
    "        Current Power Limit               : 500.00 W\n"
    "        Requested Power Limit             : 500.00 W\n"
    "        Default Power Limit               : 500.00 W\n"
    "        Min Power Limit                   : 100.00 W\n"
    "        Max Power Limit                   : 500.00 W\n"
)
SMI_Q_A100_510_PENDING = (
    "Timestamp                                 : Wed Jun  7 19:32:16 2023\n"
    "Driver Version                            : 510.73.08\n"
    "CUDA Version                              : 11.6\n"
    "\n"
    "Attached GPUs                             : 8\n"
    "GPU 00000000:10:1C.0\n"
    "    Product Name                          : NVIDIA A100-SXM4-80GB\n"
    "    [...]\n"
    "    ECC Errors\n"
    "        Volatile\n"
    "            SRAM Correctable              : 0\n"
    "            SRAM Uncorrectable            : 0\n"
    "            DRAM Correctable              : 177\n"
    "            DRAM Uncorrectable            : 0\n"
    "        Aggregate\n"
    "            SRAM Correctable              : 0\n"
    "            SRAM Uncorrectable            : 0\n"
    "            DRAM Correctable              : 177\n"
    "            DRAM Uncorrectable            : 0\n"
    "    Retired Pages\n"
    "        Single Bit ECC                    : N/A\n"
    "        Double Bit ECC                    : N/A\n"
    "        Pending Page Blacklist            : N/A\n"
    "    Remapped Rows\n"
    "        Correctable Error                 : 1\n"
    "        Uncorrectable Error               : 0\n"
    "        Pending                           : Yes\n"
    "        Remapping Failure Occurred        : No\n"
    "        Bank Remap Availability Histogram\n"
    "            Max                           : 639 bank(s)\n"
    "            High                          : 1 bank(s)\n"
    "            Partial                       : 0 bank(s)\n"
    "            Low                           : 0 bank(s)\n"
    "            None                          : 0 bank(s)\n"
)
SMI_Q_580_PERFORMANCE = (
    "Driver Version                            : 580.105.06\n"
    "...\n"
    "    Performance State                     : P8\n"
    "    Clocks Event Reasons\n"
    "        Idle                              : Not Active\n"
    "        Applications Clocks Setting       : Not Active\n"
    "        SW Power Cap                      : Not Active\n"
    "        HW Slowdown                       : Not Active\n"
    "            HW Thermal Slowdown           : Not Active\n"
    "            HW Power Brake Slowdown       : Not Active\n"
    "        Sync Boost                        : Not Active\n"
    "        SW Thermal Slowdown               : Not Active\n"
    "        Display Clock Setting             : Not Active\n"
    "    Clocks Event Reasons Counters\n"
    "        SW Power Capping                  : 1202176 us\n"
    "        Sync Boost                        : 0 us\n"
    "        SW Thermal Slowdown               : 0 us\n"
    "        HW Thermal Slowdown               : 0 us\n"
    "        HW Power Braking                  : 0 us\n"
)
SMI_Q_V100_470 = (
    "Timestamp                                 : Fri Nov  3 11:39:46 2023\n"
    "Driver Version                            : 470.129.06\n"
    "CUDA Version                              : 11.4\n"
    "\n"
    "Attached GPUs                             : 8\n"
    "GPU 00000000:1C:00.0\n"
    "    Product Name                          : Tesla V100-PCIE-32GB\n"
    "...\n"
    "        GPU Link Info\n"
    "            PCIe Generation\n"
    "                Max                       : 3\n"
    "                Current                   : 3\n"
    "            Link Width\n"
    "                Max                       : 16x\n"
    "                Current                   : 16x\n"
    "        Bridge Chip\n"
    "            Type                          : N/A\n"
    "            Firmware                      : N/A\n"
    "        Replays Since Reset               : 0\n"
    "        Replay Number Rollovers           : 0\n"
    "        Tx Throughput                     : 0 KB/s\n"
    "        Rx Throughput                     : 0 KB/s\n"
    "    Fan Speed                             : N/A\n"
    "    Performance State                     : P0\n"
    "    Clocks Throttle Reasons\n"
    "        Idle                              : Active\n"
    "        Applications Clocks Setting       : Not Active\n"
    "        SW Power Cap                      : Not Active\n"
    "        HW Slowdown                       : Not Active\n"
    "            HW Thermal Slowdown           : Not Active\n"
    "            HW Power Brake Slowdown       : Not Active\n"
    "        Sync Boost                        : Not Active\n"
    "        SW Thermal Slowdown               : Not Active\n"
    "        Display Clock Setting             : Not Active\n"
    "...\n"
    "    Ecc Mode\n"
    "        Current                           : Enabled\n"
    "        Pending                           : Enabled\n"
    "    ECC Errors\n"
    "        Volatile\n"
    "            Single Bit            \n"
    "                Device Memory             : 0\n"
    "                Register File             : 0\n"
    "                L1 Cache                  : 0\n"
    "                L2 Cache                  : 0\n"
    "                Texture Memory            : N/A\n"
    "                Texture Shared            : N/A\n"
    "                CBU                       : N/A\n"
    "                Total                     : 0\n"
    "            Double Bit            \n"
    "                Device Memory             : 0\n"
    "                Register File             : 0\n"
    "                L1 Cache                  : 0\n"
    "                L2 Cache                  : 0\n"
    "                Texture Memory            : N/A\n"
    "                Texture Shared            : N/A\n"
    "                CBU                       : 0\n"
    "                Total                     : 0\n"
    "        Aggregate\n"
    "            Single Bit            \n"
    "                Device Memory             : 3\n"
    "...\n"
    "                Total                     : 3\n"
    "            Double Bit            \n"
    "...\n"
    "                Total                     : 0\n"
    "    Retired Pages\n"
    "        Single Bit ECC                    : 1\n"
    "        Double Bit ECC                    : 0\n"
    "        Pending Page Blacklist            : No\n"
    "    Remapped Rows                         : N/A\n"
    "    Temperature\n"
    "        GPU Current Temp                  : 29 C\n"
    "        GPU Shutdown Temp                 : 90 C\n"
    "        GPU Slowdown Temp                 : 87 C\n"
    "        GPU Max Operating Temp            : 83 C\n"
    "        GPU Target Temperature            : N/A\n"
    "        Memory Current Temp               : 29 C\n"
    "        Memory Max Operating Temp         : 85 C\n"
    "    Power Readings\n"
    "        Power Management                  : Supported\n"
    "        Power Draw                        : 25.13 W\n"
    "        Power Limit                       : 250.00 W\n"
    "        Default Power Limit               : 250.00 W\n"
    "        Enforced Power Limit              : 250.00 W\n"
    "        Min Power Limit                   : 100.00 W\n"
    "        Max Power Limit                   : 250.00 W\n"
)
SMI_Q_A16_470_IDLE = (
    "        GPU Link Info\n"
    "            PCIe Generation\n"
    "                Max                       : 4\n"
    "                Current                   : 1\n"
    "            Link Width\n"
    "                Max                       : 16x\n"
    "                Current                   : 4x\n"
    "...\n"
    "    Performance State                     : P8\n"
    "    Clocks Throttle Reasons\n"
    "        Idle                              : Active\n"
)

SMI_Q_HANDLER = """\
if "-q" in args:
    text = {text!r}
    if "-i" in args:
        want = int(args[args.index("-i") + 1])
        head, _, rest = text.partition("\\nGPU ")
        blocks = ["GPU " + b for b in rest.split("\\nGPU ")] if rest else []
        text = head + "\\n" + (blocks[want] if want < len(blocks) else "")
    sys.stdout.write(text)
    sys.exit(0)
"""


def nvidia_smi_q(directory, text, **kwargs):
    """Write a fake `nvidia-smi` (as nvidia_smi: kwargs driver, cuda, gpus, state, sleep) that also answers `-q`
    (and `-q -i N`, that GPU's block) with `text`, e.g. SMI_Q_V100_470; return {"PATH": ...}."""
    env = nvidia_smi(directory, **kwargs)
    path = os.path.join(str(directory), "nvidia-smi")
    with open(path) as handle:
        script = handle.read()
    marker = "args = sys.argv[1:]\n"
    script = script.replace(marker, marker + SMI_Q_HANDLER.format(text=text), 1)
    with open(path, "w") as handle:
        handle.write(script)
    return env


class NVMLFail:
    """A profile value that makes the NVML call raise NVMLError(code), e.g. NVMLFail(15) (GPU is lost)."""

    def __init__(self, code):
        self.code = code


# Health profiles for pynvml_health(): the fields of one GPU as NVML answers them (API names and shapes of
# nvidia-ml-py 13.615.71, research notes A.1-A.7). Values may be callables (read at each call: counters that rise,
# reasons that change under load) or NVMLFail. None means NVML_ERROR_NOT_SUPPORTED.
# The H100 values are the 565.57.01 capture's (SMI_Q_H100_565); its NVLink (18 links, H100 SXM), UUID and clocks are
# not in the capture: 18 links is NVML_NVLINK_MAX_LINKS of nvidia-ml-py 12.x, 1980 MHz the H100 SXM boost clock.
HEALTH_H100 = {
    "name": "NVIDIA H100 80GB HBM3",
    "memory_mib": 81559,
    "bus_id": "00000000:18:00.0",
    "cc": "9.0",
    "uuid": "GPU-00000000-0000-0000-0000-000000000018",
    "ecc_mode": (1, 1),
    "ecc": {"volatile": (0, 0), "aggregate": (0, 0)},  # (corrected, uncorrected)
    "retired_pages": None,  # (SBE pages, DBE pages, pending): N/A on Ampere and Hopper
    "remapped_rows": (0, 0, 0, 0),  # (corrRows, uncRows, isPending, failureOccurred)
    "pcie": (5, 5, 16, 16, 7),  # (current gen, max gen, current width, max width, replay counter)
    "nvlink": {"count": 18, "up": (1,) * 18, "errors": {}},  # errors: {(link, counter): value}
    "reasons": 0x1,  # Idle: Active
    "sm_mhz": 1980,
    "sm_max_mhz": 1980,
    "power_mw": (700000, 700000, 700000, 100890),  # (management limit, default, enforced, usage)
    "temp_c": 30,
}
# The 510.73.08 capture: a pending remap after 177 corrected DRAM errors (SMI_Q_A100_510_PENDING); PCIe, power and
# NVLink (12 links on A100 SXM4) are not in that excerpt and come from the 555.42.02 A100 capture / the A100 SXM4.
HEALTH_A100_PENDING = dict(
    HEALTH_H100,
    name="NVIDIA A100-SXM4-80GB",
    bus_id="00000000:10:1C.0",
    cc="8.0",
    uuid="GPU-00000000-0000-0000-0000-00000000101c",
    ecc={"volatile": (177, 0), "aggregate": (177, 0)},
    remapped_rows=(1, 0, 1, 0),
    pcie=(4, 4, 16, 16, 0),
    nvlink={"count": 12, "up": (1,) * 12, "errors": {}},
    sm_max_mhz=1410,
    sm_mhz=1410,
    power_mw=(500000, 500000, 500000, 59770),
)
# The 470.129.06 V100 capture (SMI_Q_V100_470): 3 lifetime corrected errors, 1 page retired for them, no row
# remapper; PCIe gen 3 x16; 250 W. Driver 470 has no ...ClocksEventReasons (LIBML470): only the Throttle call.
HEALTH_V100 = dict(
    HEALTH_H100,
    name="Tesla V100-PCIE-32GB",
    memory_mib=32510,
    bus_id="00000000:1C:00.0",
    cc="7.0",
    uuid="GPU-00000000-0000-0000-0000-00000000001c",
    ecc={"volatile": (0, 0), "aggregate": (3, 0)},
    retired_pages=(1, 0, 0),
    remapped_rows=None,
    pcie=(3, 3, 16, 16, 0),
    nvlink=None,
    sm_mhz=1380,
    sm_max_mhz=1380,
    power_mw=(250000, 250000, 250000, 25130),
    temp_c=29,
)


def pynvml_health(gpus=(HEALTH_H100,), driver="565.57.01", cuda=12070, event_reasons=True):
    """Return a fake pynvml (as pynvml()) that also answers the health calls for each profile in `gpus`;
    event_reasons=False: a 470 driver, where nvmlDeviceGetCurrentClocksEventReasons raises FUNCTION_NOT_FOUND (13)."""
    module = pynvml(driver=driver, cuda=cuda, gpus=[(g["name"], g["memory_mib"], g["bus_id"], g["cc"]) for g in gpus])
    error = module.NVMLError
    # nvml.h's values, written out apart from checks/nvidia/nvml.py's fallback table on purpose: a fake that took
    # them from the code under test could not catch a wrong one there.
    constants = {
        "NVML_VOLATILE_ECC": 0,
        "NVML_AGGREGATE_ECC": 1,
        "NVML_MEMORY_ERROR_TYPE_CORRECTED": 0,
        "NVML_MEMORY_ERROR_TYPE_UNCORRECTED": 1,
        "NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS": 0,
        "NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR": 1,
        "NVML_FI_DEV_NVLINK_LINK_COUNT": 91,
        "NVML_NVLINK_MAX_LINKS": 18,
        "NVML_NVLINK_ERROR_DL_REPLAY": 0,
        "NVML_NVLINK_ERROR_DL_RECOVERY": 1,
        "NVML_NVLINK_ERROR_DL_CRC_FLIT": 2,
        "NVML_NVLINK_ERROR_DL_CRC_DATA": 3,
        "NVML_CLOCK_SM": 1,
        "NVML_TEMPERATURE_GPU": 0,
    }
    for key, value in constants.items():
        setattr(module, key, value)

    def value(v):
        v = v() if callable(v) else v
        if isinstance(v, NVMLFail):
            raise error(v.code)
        if v is None:
            raise error(3)
        return v

    def field(key, pick=None):
        def function(handle, *args):
            got = value(gpus[handle][key])
            return pick(got, *args) if pick else got

        return function

    def pages(got, cause):
        return [0x1000 * (i + 1) for i in range(got[cause])]

    def nvlink(handle, link, *rest):
        links = value(gpus[handle]["nvlink"])
        if link >= links["count"]:
            raise error(2)  # NVML_ERROR_INVALID_ARGUMENT: no such link
        if rest:
            return value(links["errors"].get((link, rest[0]), 0))
        return value(links["up"][link])

    def field_values(handle, ids):
        links = gpus[handle]["nvlink"]
        code, count = (3, 0) if links is None else (0, value(links)["count"])
        return [
            types.SimpleNamespace(fieldId=i, nvmlReturn=code, value=types.SimpleNamespace(uiVal=count)) for i in ids
        ]

    def event_reasons_(handle):
        if not event_reasons:
            raise error(13)
        return value(gpus[handle]["reasons"])

    calls = {
        "nvmlDeviceGetUUID": field("uuid"),
        "nvmlDeviceGetEccMode": field("ecc_mode", lambda got: list(got)),
        "nvmlDeviceGetTotalEccErrors": field(
            "ecc", lambda got, kind, counter: got[("volatile", "aggregate")[counter]][kind]
        ),
        "nvmlDeviceGetRetiredPages": field("retired_pages", pages),
        "nvmlDeviceGetRetiredPagesPendingStatus": field("retired_pages", lambda got: got[2]),
        "nvmlDeviceGetRemappedRows": field("remapped_rows", tuple),
        "nvmlDeviceGetCurrPcieLinkGeneration": field("pcie", lambda got: got[0]),
        "nvmlDeviceGetMaxPcieLinkGeneration": field("pcie", lambda got: got[1]),
        "nvmlDeviceGetCurrPcieLinkWidth": field("pcie", lambda got: got[2]),
        "nvmlDeviceGetMaxPcieLinkWidth": field("pcie", lambda got: got[3]),
        "nvmlDeviceGetPcieReplayCounter": field("pcie", lambda got: value(got[4])),
        "nvmlDeviceGetFieldValues": field_values,
        "nvmlDeviceGetNvLinkState": nvlink,
        "nvmlDeviceGetNvLinkErrorCounter": nvlink,
        "nvmlDeviceGetCurrentClocksEventReasons": event_reasons_,
        "nvmlDeviceGetCurrentClocksThrottleReasons": field("reasons"),
        "nvmlDeviceGetClockInfo": field("sm_mhz", lambda got, clock: got),
        "nvmlDeviceGetMaxClockInfo": field("sm_max_mhz", lambda got, clock: got),
        "nvmlDeviceGetPowerManagementLimit": field("power_mw", lambda got: value(got[0])),
        "nvmlDeviceGetPowerManagementDefaultLimit": field("power_mw", lambda got: value(got[1])),
        "nvmlDeviceGetEnforcedPowerLimit": field("power_mw", lambda got: value(got[2])),
        "nvmlDeviceGetPowerUsage": field("power_mw", lambda got: value(got[3])),
        "nvmlDeviceGetTemperature": field("temp_c", lambda got, sensor: got),
    }
    for key, function in calls.items():
        setattr(module, key, function)
    return module


def cgroup_tree(tmp_path, lines, files):
    """A process's cgroup view under tmp_path: `lines` as /proc/self/cgroup holds them (`hierarchy-ID:controllers:
    path`, man 7 cgroups) and `files` ({relative path: value}) under a cgroup root as the kernel shows them
    (pids.max, cpu.max, cpu.cfs_quota_us, ...); return (that /proc/self/cgroup, the root)."""
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(lines)
    root = tmp_path / "cgroup"
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    root.mkdir(exist_ok=True)
    return str(proc), str(root)


def cgroup_v1(controller, setting):
    """The mark of a test that needs a writable cgroup-v1 `controller` hierarchy holding `setting` (a file name)."""
    root = os.path.join("/sys/fs/cgroup", controller)
    return pytest.mark.skipif(
        not os.access(root, os.W_OK) or not os.path.exists(os.path.join(root, setting)),
        reason="needs a writable cgroup-v1 %s hierarchy" % controller,
    )


def in_cgroup_v1(controller, name, settings, code, repo_root, timeout=120):
    """Run Python `code` (with the repository on PYTHONPATH) inside a new cgroup-v1 group `name` of `controller`
    whose files are written with `settings` ({file: value}, in order) first; the group is removed afterwards;
    return the finished process (text)."""
    group = os.path.join("/sys/fs/cgroup", controller, name)
    os.mkdir(group)
    try:
        for setting, value in settings.items():
            with open(os.path.join(group, setting), "w") as handle:
                handle.write(str(value))
        return subprocess.run(
            ["sh", "-c", 'echo $$ > "$1/cgroup.procs" && exec "$2" -c "$3"', "sh", group, sys.executable, code],
            env=dict(os.environ, PYTHONPATH=str(repo_root)),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        os.rmdir(group)


PRIVATE_MOUNTS = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0 or not shutil.which("unshare"),
    reason="needs root and unshare(1) to mount in a private mount namespace",
)
# Shell set-ups for in_private_mount ("$1": the folder): the folder bind-mounted over itself with an option (ro,
# noexec), or a tmpfs of 64 inodes mounted there and filled with empty files until creating one fails (ENOSPC while
# bytes are free; tmpfs(5) nr_inodes), an empty `inductor` folder left in it.
BIND_REMOUNT = 'mount --bind "$1" "$1" && mount -o remount,bind,%s "$1"'
INODELESS_TMPFS = (
    'mount -t tmpfs -o size=8m,nr_inodes=64 tmpfs "$1" && mkdir "$1/inductor" && '
    '{ i=0; while true > "$1/entry-$i"; do i=$((i+1)); done; } 2>/dev/null'
)


def in_private_mount(setup, folder, code, **env):
    """Run Python `code` in a private mount namespace (unshare -m; the mark PRIVATE_MOUNTS) once the shell `setup`
    has mounted something at `folder`, with `env` added to this environment; return the finished process (text)."""
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", setup + ' && exec "$2" -c "$3"', "sh", str(folder), sys.executable, code],
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def healthy_system(**changes):
    """checks.machine.system.System of a node no OS rule objects to (16 GiB /dev/shm, 65536 open files, 100 GiB
    free, glibc 2.36, a host name that resolves), with `changes`."""
    from checks.machine import system

    base = system.System(
        shm_bytes=16 << 30,
        shm_free_bytes=16 << 30,
        nofile=(65536, 65536),
        tempdir="/tmp",
        disk_free_bytes=100 << 30,
        code_dirs=(),
        glibc="2.36",
        glibc_needed=None,
        hostname="node7",
        host_addresses=("10.0.0.5",),
        resolve_error=None,
    )
    return dataclasses.replace(base, **changes)


def alive(pid):
    """Return True while `pid` is a live process (a zombie is dead: /proc/PID/stat's state field is Z)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children(pid):
    """Return the pids of the live processes whose parent is `pid` (read from /proc: stat's fourth field)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def compile_library(out, source="int f(void) { return 1; }\n", *flags, cxx=False):
    """Compile C (C++ with `cxx`) `source` into the shared library `out` (a Path) with gcc/g++ and the linker
    `flags`; the source file is written beside it and removed. Returns the library's path as a str."""
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.parent / (out.name + (".cc" if cxx else ".c"))
    src.write_text(source)
    subprocess.run(["g++" if cxx else "gcc", "-shared", "-fPIC", "-o", str(out), str(src), *flags], check=True)
    src.unlink()
    return str(out)


def shared_library(out, needs=()):
    """Build a real ELF shared library at `out` (a Path) with gcc whose DT_NEEDED names `needs` (each linked from a
    stub built beside it, then removed, as a plug-in whose library the system lacks); return `out`."""
    plugin = "int plugin(void) { return 1; }\n"
    stubs = [compile_library(out.parent / soname, plugin, "-Wl,-soname," + soname) for soname in needs]
    compile_library(out, plugin, "-Wl,--no-as-needed", *stubs)
    for stub in stubs:
        os.unlink(stub)
    return out


# The head of Google Drive's page for a large file, as a plain wget of a `uc?export=download` link saves it
# (Daniil-Osokin/gccpm-look-into-person-cvpr19.pytorch#22; the page's title and first caption as Drive writes them).
DRIVE_PAGE = (
    '<!DOCTYPE html><html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"/>'
    '<title>Google Drive - Virus scan warning</title></head><body><div class="uc-main"><div id="uc-text">'
    '<p class="uc-warning-caption">Google Drive can\'t scan this file for viruses.</p>'
)


def whole_zip(path):
    """Write a small whole zip shaped like torch.save's (an `archive/data.pkl` member holding a pickle); return
    `path`."""
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00." * 100)
    return path


# lora-scripts' sd-scripts/library/train_util.py as Akegarasu/lora-scripts#609 ran it (the tokenizer ids are module
# constants, chosen at run time), with an argparse default and a direct call beside them.
TRAIN_UTIL = """import argparse
from transformers import CLIPTokenizer

TOKENIZER_PATH = "openai/clip-vit-large-patch14"
V2_STABLE_DIFFUSION_PATH = "stabilityai/stable-diffusion-2"
LOG_DIR = "logs/train"


def load_tokenizer(args):
    original_path = V2_STABLE_DIFFUSION_PATH if args.v2 else TOKENIZER_PATH
    return CLIPTokenizer.from_pretrained(original_path, subfolder="tokenizer")


def parser():
    p = argparse.ArgumentParser()
    p.add_argument("--vae", default="madebyollin/sdxl-vae-fp16-fix")
    p.add_argument("--config", default="configs/base.yaml")
    p.add_argument("--output_dir", default="runs/exp")
    return p


def load_vae(args):
    return CLIPTokenizer.from_pretrained(args.vae)


unet = CLIPTokenizer.from_pretrained(pretrained_model_name_or_path="runwayml/stable-diffusion-v1-5")
"""


def closed_port():
    """A TCP port of this machine that nothing listens on (bound, then closed)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
