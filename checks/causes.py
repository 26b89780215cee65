"""What a failure's text means and how to fix it: torch's import and library-load failures (IMPORT_SIGNATURES),
a process that crashed while importing torch, and CUDA's errors as torch reports them (CUDA_SIGNATURES).

Texts are matched by their stable part, as torch, CUDA and the loaders print them in every release (the research
notes list the real reports each row was checked against); the first match wins.
"""

import re
import sys

from checks import errors

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
        r"Could not load library libcudnn\S*\. Error: libcuda\.so[^:]*: cannot open shared object",
        "cuDNN cannot load the driver's libcuda.so: the driver's library directory is not on the loader path (WSL2 "
        "keeps it in /usr/lib/wsl/lib; a container started without the NVIDIA runtime has none; mmdetection3d#2132)",
        "put the driver's library directory on the loader path (WSL2: `export LD_LIBRARY_PATH=/usr/lib/wsl/lib:"
        "$LD_LIBRARY_PATH`); in a container pass `--gpus all`",
    ),
    (
        r"Could not load library libcudnn\S*\. Error: (libnvrtc\S*): cannot open shared object",
        "cuDNN cannot load NVIDIA's runtime compiler %s, which it opens by that name (AUTOMATIC1111/stable-"
        "diffusion-webui#10230, voicepaw/so-vits-svc-fork#364)",
        "install NVRTC beside torch: the pixi environments have it (pytorch-cuda requires cuda-nvrtc); with pip "
        "install the nvidia-cuda-nvrtc wheel of the build's CUDA (e.g. nvidia-cuda-nvrtc-cu11)",
    ),
    (
        r"Could not load library (libcudnn\S*)\. Error: \1: cannot open shared object",
        "the cuDNN library %s itself is missing or not on the loader path: cuDNN is not installed where this "
        "program looks (yeyupiaoling/Whisper-Finetune#16, jianchang512/stt#76)",
        "install cuDNN into the environment (pixi: reinstall the environment; pip: the nvidia-cudnn wheel torch "
        "requires), and drop other CUDA directories from LD_LIBRARY_PATH",
    ),
    (
        r"Could not load library (libcudnn\S*)\. Error: (\S+): cannot open shared object",
        "the cuDNN library %s cannot load %s, a library it needs",
        "install cuDNN complete and from one source with torch (pixi: reinstall the environment; pip: the "
        "nvidia-cudnn wheel torch requires), and drop other CUDA directories from LD_LIBRARY_PATH",
    ),
    (
        r"lib(cudnn|cublas|cublasLt|cudart|cufft|curand|cusparse|cusolver|nccl|nvrtc|nvToolsExt|nvJitLink)[^ ]*: "
        r"cannot open shared object",
        "a CUDA library that this CUDA build of torch loads at import is missing",
        "install the package that provides it into the environment (pip: the nvidia-*-cuXX wheel torch requires; "
        "conda: its lib* package), and do not mix pip's nvidia-* wheels with conda's cuda-* packages",
    ),
    (
        # torch/distributed/rendezvous.py _env_error (2.0 to 2.14), and the KeyError of a script reading the variable
        r"(?:environment variable |KeyError: ')(RANK|WORLD_SIZE|MASTER_ADDR|MASTER_PORT|LOCAL_RANK|LOCAL_WORLD_SIZE)"
        r"(?: expected, but not set|'$)",
        "the script initialises torch.distributed from the environment (init_method env://) but was started "
        "without the variables a launcher sets (%s is not set)",
        "start it with torchrun, which sets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT "
        "(`torchrun --nproc_per_node=<GPUs> script.py`; `python -m checks dist` shows it working), or under SLURM "
        "with srun and those variables exported; a single process needs RANK=0 WORLD_SIZE=1 MASTER_ADDR=127.0.0.1 "
        "MASTER_PORT=29500",
    ),
    (
        # torch/_inductor (2.0 to 2.14) before it generates Triton code: "Found <GPU> which is too old to be supported
        # by the triton GPU compiler, which is used as the backend. Triton only supports devices of CUDA Capability >=
        # 7.0, but your device is of CUDA capability 6.1"
        r"too old to be supported by the triton GPU compiler",
        "this GPU is older than Triton, torch.compile's GPU code generator, supports (it needs compute capability "
        "7.0 or newer: Volta and later)",
        'compile without Triton on this GPU: `torch.compile(model, backend="aot_eager")` (or do not compile), or run '
        "on a GPU of compute capability 7.0 or newer",
    ),
    (
        # flash-attn's csrc/flash_attn/flash_api.cpp: "FlashAttention only supports Ampere GPUs or newer."
        r"FlashAttention only supports Ampere GPUs or newer",
        "flash-attn's kernels need an Ampere or newer GPU (compute capability 8.0+); this GPU is older",
        'use PyTorch\'s own attention instead (transformers: `attn_implementation="sdpa"`; or do not enable '
        "flash-attn), or run on an Ampere or newer GPU",
    ),
    (
        # torch/distributed/elastic/multiprocessing/api.py's SignalException: torchrun's agent received SIGHUP
        r"SignalException: Process \d+ got signal: 1\b|Received 1 death signal|got signal: SIGHUP",
        "torchrun's agent received SIGHUP: the terminal or SSH session that started it closed, and the job went "
        "with it",
        "start the job so that it outlives the session: inside tmux or screen, with `nohup torchrun ... &`, or through "
        "the batch scheduler (sbatch)",
    ),
    (
        r"SignalException: Process \d+ got signal: 15\b|Received 15 death signal|got signal: SIGTERM",
        "torchrun's agent received SIGTERM: something stopped the job from outside (a scheduler's time limit or "
        "preemption, `kill`, a container being stopped)",
        "look at the scheduler's record of the job (`sacct -j <id>`: TIMEOUT, PREEMPTED, CANCELLED) and give it the "
        "time it needs, or checkpoint and resume",
    ),
    (
        # torch's CPU kernels without a float16 variant (2.0 to 2.1 lack most: "addmm_impl_cpu_" not implemented for
        # 'Half'), met when a model loaded in float16 runs on the CPU
        r"\"[\w_]+\" not implemented for 'Half'",
        "a float16 (Half) operation ran on the CPU, where this torch has no float16 kernel for it: the model was "
        "loaded in float16 but runs on the CPU (no GPU in use)",
        "load the model in float32 (or bfloat16) for the CPU (`torch_dtype=torch.float32`), or move model and inputs "
        'to the GPU (`.to("cuda")`; verify\'s gpu line says whether torch sees one)',
    ),
    (
        # torch/distributed/distributed_c10d.py _get_default_group
        r"Default process group has not been initialized",
        "the code uses torch.distributed (DDP, FSDP, a collective) but no process group was created: the script was "
        "started as a plain Python process rather than by a launcher, or it never called init_process_group",
        "start it with a launcher (`torchrun --nproc_per_node=<GPUs> script.py`, or `accelerate launch`), which sets "
        "the variables init_process_group reads; for one process, call torch.distributed.init_process_group first "
        "or do not wrap the model in DDP",
    ),
    (
        r"SIGILL|ILLEGAL_INSTRUCTION",
        "the CPU lacks an instruction set this torch build uses at import (AVX/AVX2; pytorch#37577, #22338)",
        "run on a CPU with AVX2; in a virtual machine expose the host CPU's flags (QEMU/libvirt `-cpu host`)",
    ),
    (
        r"(\S+\.so[.\d]*): cannot allocate memory in static TLS block",
        "glibc has no static TLS space left when %s is loaded late (common on aarch64 with the libgomp torch's wheel "
        "bundles; AmpereComputingAI/ampere_model_library#161)",
        "load it first, before Python starts: `export LD_PRELOAD=%s`",
    ),
    (
        r"MKL_THREADING_LAYER=INTEL is incompatible with libgomp",
        "mkl-service refuses Intel's MKL threading layer once GNU OpenMP (libgomp, loaded with torch) is in the "
        "process (pytorch/ort#102)",
        "set `MKL_THREADING_LAYER=GNU` (or import numpy before torch; `MKL_SERVICE_FORCE_INTEL=1` forces Intel's)",
    ),
    (
        r"OMP: Error #15|libiomp5.*already initialized",
        "two OpenMP runtimes were loaded into one process (e.g. a pip torch wheel's libiomp5 beside conda's "
        "intel-openmp; csprng#115)",
        "install torch, MKL and OpenMP from one source (all conda, or all pip) so one libiomp5 is loaded; "
        "KMP_DUPLICATE_LIB_OK=TRUE only hides it (Intel: it may crash or give wrong results)",
    ),
    (
        # torch/cuda/__init__.py _lazy_init (2.0 to 2.14): CUDA was initialised in the parent, then fork() copied it
        r"Cannot re-initialize CUDA in forked subprocess",
        "CUDA was initialised in the parent process before it forked (a DataLoader worker or multiprocessing "
        "child started with `fork`, Linux's default), and CUDA cannot be used again in a forked child",
        "keep CUDA out of the parent until the workers start (create CUDA tensors in the training loop, not in the "
        "Dataset or at import), or start the children with spawn: `torch.multiprocessing.set_start_method('spawn')` "
        "(DataLoader: `multiprocessing_context='spawn'`)",
    ),
    (
        # CPython's multiprocessing/spawn.py _check_not_importing_main: a spawned child re-imports the main module
        r"An attempt has been made to start a new process before the\s+current process has finished its "
        r"bootstrapping phase",
        "the script starts processes (DataLoader workers with num_workers > 0, multiprocessing) at its top level, "
        "and under the spawn start method (Windows' and macOS's default) each child re-imports the script and tries "
        "to start them again",
        'put the script\'s top-level code under `if __name__ == "__main__":` (or use DataLoader(num_workers=0))',
    ),
    (
        # torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp broadcastUniqueNCCLID: rank 0 publishes the NCCL id in
        # the store it hosts; the others' get() fails when it is gone (2.0.1's and 2.13's libtorch_cuda spell it
        # "retrieving"; reports quote "retreiving" too)
        r"is setting up NCCL communicator and retr(?:ie|ei)ving ncclUniqueId from \[0\] via c10d key-value store "
        r"by key '[^']*', but store->get\('[^']*'\) got error",
        "rank 0, which hosts the job's store and publishes NCCL's id there, went away before this rank read it: "
        "rank 0 crashed or exited first (its own error is the cause), or was killed",
        "read rank 0's output for the first error (torchrun prints each failed rank's; set "
        "TORCHELASTIC_ERROR_FILE to keep it), and rerun with NCCL_DEBUG=INFO and TORCH_DISTRIBUTED_DEBUG=DETAIL; "
        "`python -m checks dist` checks the ranks' rendezvous on this machine",
    ),
    (
        # torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp's watchdog (2.0: "Watchdog caught collective operation
        # timeout: WorkNCCL(SeqNum=..., OpType=ALLREDUCE, Timeout(ms)=1800000) ran for ... milliseconds before timing
        # out"; later releases the same words)
        r"Watchdog caught collective operation timeout",
        "a collective did not complete within the process group's timeout: not every rank reached it (one was still "
        "in other work, such as evaluation, checkpointing or data loading done on one rank only, was stuck, or had "
        "died), or the ranks called different collectives",
        "find the rank that lagged (TORCH_DISTRIBUTED_DEBUG=DETAIL names a mismatch; NCCL_DEBUG=INFO the ranks' "
        "progress), make every rank run the same collectives in the same order, and give long one-rank steps a "
        "longer `timeout=` in init_process_group",
    ),
    (
        # torch/distributed/distributed_c10d.py: a build without NCCL (Windows and macOS builds have none; a CPU
        # build neither: build.py judges that case by torch's version.py first)
        r"Distributed package doesn't have NCCL built in",
        "this torch build has no NCCL: PyTorch's Windows and macOS builds never have it, nor do CPU builds",
        'use the gloo backend there: `init_process_group(backend="gloo")` (Lightning: `strategy=DDPStrategy('
        'process_group_backend="gloo")`); NCCL needs a Linux CUDA build',
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
        "install it into this environment: `python -m pip install %s` (a conda or pixi environment: `conda install` / "
        "`pixi add` of its package)",
    ),
)


def of_import_error(exc):
    """Return (what went wrong, fix) for a torch import failure from its message."""
    return of_text("%s: %s" % (type(exc).__name__, exc))


def match(message):
    """Return (what went wrong, fix) of the first IMPORT_SIGNATURES row that matches what was printed, or None."""
    for pattern, meaning, fix in IMPORT_SIGNATURES:
        found = re.search(pattern, message, re.MULTILINE)
        if found:
            if "%s" in meaning:
                meaning %= found.groups()[: meaning.count("%s")] if found.groups() else sys.executable
            if "%s" in fix and found.groups():
                fix %= found.groups()[: fix.count("%s")]
            return meaning, fix
    return None


def of_text(message):
    """Return (what went wrong, fix) for a failure to load torch's libraries, from what was printed."""
    return match(message) or (
        "torch failed to import (%s): not recognised from the text alone" % errors.extract(message).line,
        "rerun `python -m checks verify --json report.json`: it judges the failure against the facts it collects",
    )


def import_crash(how, output):
    """Return (error line, meaning, fix, text) for an `import torch` that killed its process (a native crash: OMP's
    duplicate runtime abort, an illegal instruction, a loader abort), from how it ended and what it printed."""
    found = errors.extract(output)
    text = "%s\n%s" % (how, output)
    meaning, fix = of_text(text)
    line = "import torch %s" % how + (": %s" % found.line if found.kind != "none" else " with no output")
    return line, meaning, fix, text


# (pattern in CUDA's error or torch's CUDA warning, what it means, the fix). Texts: cudaGetErrorString as
# torch's `CUDA error: ...` prints it, and torch's `CUDA initialization: ...` warnings (c10/cuda/CUDAFunctions.cpp,
# the same in 2.0.1 to 2.14); the fix of `no-kernel-image` names an environment, so the caller supplies it.
CUDA_SIGNATURES = (
    (
        "no-kernel-image",
        r"no kernel image is available for execution on the device",
        "this torch build has no kernels for the GPU's architecture (see gpu-arch)",
        None,
    ),
    (
        "driver-too-old",
        r"driver version is insufficient for CUDA runtime version|driver on your system is too old",
        "the driver is older than this build's CUDA needs",
        "update the NVIDIA driver (see the driver check for the "
        "version), or use an environment built for an older CUDA",
    ),
    (
        "no-driver",
        r"Found no NVIDIA driver on your system",
        "torch's process cannot load the driver's libcuda "
        "although a driver answers elsewhere (LD_LIBRARY_PATH, or a container without the driver's libraries)",
        "start the container with the NVIDIA runtime (`--gpus all`); check `ldconfig -p | grep libcuda`",
    ),
    (
        "forward-compat",
        r"forward compatibility was attempted on non supported HW",
        "the CUDA forward-compatibility "
        "libraries (cuda-compat) are loaded on a GPU that does not support them (they are for data-center GPUs)",
        "remove the cuda-compat directory from LD_LIBRARY_PATH (often /usr/local/cuda/compat), or update the driver",
    ),
    (
        "driver-mismatch",
        r"system has unsupported display driver / cuda driver combination",
        "the CUDA driver library (libcuda) is of another driver version than the loaded kernel module (cudaError 803)",
        "reboot (or reload the nvidia kernel modules) after a driver update; in a container, remove any libcuda the "
        "image carries so that the runtime's (the host's) is used",
    ),
    (
        "stub",
        r"CUDA driver is a stub library|CUDA_ERROR_STUB_LIBRARY",
        "CUDA loaded a stub driver library: the CUDA toolkit's lib64/stubs/libcuda.so, which exists only for linking, "
        "comes before the real driver's libcuda.so.1 on the loader's path (cudaErrorStubLibrary, 34)",
        "take the toolkit's stubs folder off LD_LIBRARY_PATH and out of /etc/ld.so.conf.d (then `sudo ldconfig`), so "
        "that the loader finds the driver's own libcuda.so.1",
    ),
    (
        "fabric-manager",
        r"system not yet initialized",
        "the NVSwitch fabric is not up: nvidia-fabricmanager is not running (HGX/DGX systems)",
        "start it: `sudo systemctl start nvidia-fabricmanager` (same version as the driver)",
    ),
    (
        "busy",
        r"all CUDA-capable devices are busy or unavailable",
        "another process holds the GPU in exclusive compute mode, or the compute mode forbids use",
        "`nvidia-smi -q -d COMPUTE`; stop the other process, or set `sudo nvidia-smi -c DEFAULT`",
    ),
    (
        "out-of-memory",
        r"out of memory",
        "the GPU's memory is full (other processes?)",
        "free it: `nvidia-smi` lists the processes using it",
    ),
    (
        "uvm",
        # torch 0.x/1.x's THC form carries the code of the numbering before CUDA 10.1 (30: cudaErrorUnknown)
        r"CUDA unknown error - this may be due to an incorrectly set up environment|CUDA error: unknown error|"
        r"cuda runtime error \(30\) : unknown error|error=30 : unknown error",
        "the driver's nvidia_uvm module is in a bad state (often after suspend or a crashed job; pytorch#159954)",
        "reload it: `sudo modprobe -r nvidia_uvm && sudo modprobe nvidia_uvm`, or reboot",
    ),
    (
        "no-devices",
        r"No CUDA GPUs are available",
        "no GPU is visible to this process",
        "check CUDA_VISIBLE_DEVICES (unset it, or list existing indices); in a container pass `--gpus all`",
    ),
    (
        "init-failed",
        r"CUDA driver initialization failed|initialization error",
        "the CUDA driver failed to initialise",
        "run `nvidia-smi`; look at `dmesg | grep -i -e xid -e NVRM`; reboot if the driver is wedged",
    ),
    (
        "launch-timeout",
        r"the launch timed out and was terminated|CUDA_ERROR_LAUNCH_TIMEOUT|cudaErrorLaunchTimeout",
        "a kernel ran past the driver's run time limit and was terminated (cudaErrorLaunchTimeout, 702, which occurs "
        "only where kernel timeouts are enabled: the watchdog of a GPU that also drives a display, an X server)",
        "run on a GPU that drives no display (CUDA_VISIBLE_DEVICES=<its index>), or stop the X server / display "
        "manager on it while computing (`sudo systemctl stop display-manager`)",
    ),
    (
        "fault",
        r"illegal memory access|unspecified launch failure|uncorrectable ECC error|illegal instruction was "
        r"encountered",
        "a GPU kernel faulted (a hardware or driver fault when it repeats)",
        "`nvidia-smi -q -d ECC`; run `python -m checks health`; move the job to another GPU if it repeats",
    ),
)


# The rows whose texts CUDA's initialisation gives (cuInit, cudaGetDeviceCount; torch's `CUDA initialization: ...`
# warnings): a failure of one of these is judged against the access path's facts first (checks/diagnosis/gpu.py
# by_gpu_access), the row's meaning and fix where no fact decides.
CUDA_INIT_KINDS = frozenset(
    (
        "driver-too-old",
        "no-driver",
        "driver-mismatch",
        "stub",
        "forward-compat",
        "fabric-manager",
        "busy",
        "uvm",
        "no-devices",
        "init-failed",
    )
)


def of_cuda_init(text):
    """Return (meaning, fix) of the CUDA_SIGNATURES row of an initialisation failure's text, or None."""
    found = of_cuda(text)
    return found[1:] if found and found[0] in CUDA_INIT_KINDS else None


def of_cuda(text):
    """Return (kind, meaning, fix) for CUDA's error or warning text, or None when no row matches."""
    for kind, pattern, meaning, fix in CUDA_SIGNATURES:
        if re.search(pattern, text or ""):
            if kind == "driver-too-old":
                found = re.search(r"found version (\d+)", text)
                if found:
                    number = int(found.group(1))
                    meaning = "the driver supports CUDA %d.%d only, older than this build's CUDA" % (
                        number // 1000,
                        number % 1000 // 10,
                    )
            return kind, meaning, fix
    return None
