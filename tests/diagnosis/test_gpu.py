"""Tests for checks/diagnosis/gpu.py: CUDA's initialisation error classes judged against the GPU's access path, and a
device index beyond the one MIG instance CUDA enumerates. Each fact is laid out in tmp_path as the real artefact is,
and each failure text is the one torch or the loader prints (sources at each test)."""

import dataclasses

import fakes
import pytest
from diagnosis_facts import facts_for, site

from checks import diagnosis
from checks.machine import gpu_access

# ---- CUDA's initialisation failures, judged against the GPU's access path (by_gpu_access) -------------------------
# torch's texts: c10/cuda/CUDAFunctions.cpp (strings of the 2.0.1 wheel's libc10_cuda.so; the same in 2.13), as the
# reports quote them; other codes in torch's "Unexpected error from cudaGetDeviceCount()" form with
# cudaGetErrorString's words (strings of libcudart.so.11.0).
NO_DRIVER = (  # containerd/nerdctl#1023 (a container started with capabilities=utility)
    "CUDA initialization: Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and "
    "installed a driver from http://www.nvidia.com/Download/index.aspx (Triggered internally at "
    "../c10/cuda/CUDAFunctions.cpp:109.)"
)


UNKNOWN = (  # pytorch/pytorch#49081
    "RuntimeError: CUDA unknown error - this may be due to an incorrectly set up environment, e.g. changing env "
    "variable CUDA_VISIBLE_DEVICES after program start. Setting the available devices to be zero."
)


UNEXPECTED = (
    "CUDA initialization: Unexpected error from cudaGetDeviceCount(). Did you run some cuda functions before calling "
    "NumCudaDevices() that might have already set an error? Error %s (Triggered internally at "
    "../c10/cuda/CUDAFunctions.cpp:109.)"
)


NO_DEVICE = "RuntimeError: No CUDA GPUs are available"


INIT_FAILED = "RuntimeError: CUDA driver initialization failed, you might not have a CUDA gpu."


def node(name, role, exists=True, accessible=True, group="root"):
    return gpu_access.DeviceNode(
        path="/dev/" + name, role=role, exists=exists, accessible=accessible, group=group if exists else None
    )


def host_nodes(uvm=True, openable=True, group="video"):
    """The nodes of a host (or container) with one GPU: the control node, nvidia0, the UVM pair, no /dev/dxg."""
    return (
        node("nvidiactl", gpu_access.CONTROL, accessible=openable, group=group),
        node("nvidia0", gpu_access.GPU, accessible=openable, group=group),
        node("nvidia-uvm", gpu_access.UVM, exists=uvm, accessible=openable, group=group),
        node("nvidia-uvm-tools", gpu_access.UVM_TOOLS, exists=uvm, accessible=openable, group=group),
        node("dxg", gpu_access.DXG, exists=False),
    )


LIBCUDA_535 = dict(
    libcuda="/usr/lib/x86_64-linux-gnu/libcuda.so.1", libcuda_via="ld.so.cache", libcuda_version="535.161.07"
)


NO_LIBCUDA = dict(libcuda=None, libcuda_via="not found", libcuda_version=None)


def judged(tmp_path, monkeypatch, text, **access):
    """explain(text) with the GpuAccess of `access` (an environment of its own per call)."""
    prefix, packages = site(tmp_path, name="env%d" % len(list(tmp_path.iterdir())))
    found = dataclasses.replace(facts_for(monkeypatch, prefix, [packages]), gpu_access=gpu_access.GpuAccess(**access))
    return diagnosis.explain(text, found)


def test_no_driver_in_a_container_without_the_compute_capability(tmp_path, monkeypatch):
    """NVIDIA_DRIVER_CAPABILITIES=utility (NVIDIA Container Toolkit: `compute` mounts libcuda, `utility`
    nvidia-smi and NVML), and indeed no libcuda: the capability is the cause, the fix names compute."""
    access = dict(nodes=host_nodes(), capabilities="utility", visible_devices="all", **NO_LIBCUDA)
    cause = judged(tmp_path, monkeypatch, NO_DRIVER, **access)
    assert cause.rule == "gpu-access"
    assert cause.fact == "NVIDIA_DRIVER_CAPABILITIES=utility (no compute), libcuda.so.1 not found"
    assert "NVIDIA_DRIVER_CAPABILITIES=compute,utility" in cause.fix and "install" not in cause.fix


def test_a_capability_without_compute_is_not_blamed_where_libcuda_is_there(tmp_path, monkeypatch):
    """The image carries a libcuda of its own: the capability did not take it away; no fact decides, the table's
    meaning stays."""
    cause = judged(tmp_path, monkeypatch, NO_DRIVER, nodes=host_nodes(), capabilities="utility", **LIBCUDA_535)
    assert cause.rule == "table" and "cannot load the driver's libcuda" in cause.meaning


@pytest.mark.parametrize(
    "nodes, words",
    [
        (host_nodes(), "`docker run --gpus all`"),
        ((node("dxg", gpu_access.DXG),), "/usr/lib/wsl/lib"),  # WSL2
    ],
)
def test_no_driver_because_the_loader_finds_no_libcuda(tmp_path, monkeypatch, nodes, words):
    cause = judged(tmp_path, monkeypatch, NO_DRIVER, nodes=nodes, **NO_LIBCUDA)
    assert cause.rule == "gpu-access" and cause.fact == "libcuda.so.1 not found" and words in cause.fix


def test_no_driver_with_a_void_container(tmp_path, monkeypatch):
    """NVIDIA_VISIBLE_DEVICES=void: the runtime gives nothing, neither GPUs nor the driver's libraries."""
    cause = judged(tmp_path, monkeypatch, NO_DRIVER, visible_devices="void", **NO_LIBCUDA)
    assert cause.fact == "NVIDIA_VISIBLE_DEVICES=void" and "--gpus all" in cause.fix


def test_unknown_error_with_the_uvm_node_missing(tmp_path, monkeypatch):
    """999 while /dev/nvidiactl and /dev/nvidia0 are here and /dev/nvidia-uvm is not (pytorch/pytorch#49081)."""
    cause = judged(tmp_path, monkeypatch, UNKNOWN, nodes=host_nodes(uvm=False), **LIBCUDA_535)
    assert cause.rule == "gpu-access" and cause.fact == "/dev/nvidia-uvm missing, /dev/nvidiactl present"
    assert "sudo nvidia-modprobe -c 0 -u" in cause.fix and "--device /dev/nvidia-uvm" in cause.fix
    assert "CUDA_VISIBLE_DEVICES" not in cause.fix


@pytest.mark.parametrize(
    "access",
    [
        dict(nodes=host_nodes(), **NO_LIBCUDA),  # a repro's artefact: CUDA returned 999, so libcuda was loaded
        dict(nodes=(), **NO_LIBCUDA),  # no node at all: another /dev than CUDA's, nothing to judge
        dict(nodes=host_nodes(), **LIBCUDA_535),
    ],
)
def test_unknown_error_without_a_deciding_fact_keeps_the_uvm_reload(tmp_path, monkeypatch, access):
    """Every node is here and openable, the versions agree or are unknown: nvidia_uvm's state (after a suspend) stays
    the meaning; a missing libcuda is never blamed for an error CUDA returns only after loading it."""
    cause = judged(tmp_path, monkeypatch, UNKNOWN, kernel_module="535.161.07", **access)
    assert cause.rule == "table" and "modprobe -r nvidia_uvm" in cause.fix and "libcuda" not in cause.meaning


def test_unknown_error_with_nodes_this_user_may_not_open(tmp_path, monkeypatch):
    cause = judged(tmp_path, monkeypatch, UNKNOWN, nodes=host_nodes(openable=False), **LIBCUDA_535)
    assert cause.rule == "gpu-access" and "sudo usermod -aG video $USER" in cause.fix
    assert "/dev/nvidia0 (group video)" in cause.meaning


def test_a_node_of_group_root_is_not_solved_by_joining_root(tmp_path, monkeypatch):
    cause = judged(tmp_path, monkeypatch, UNKNOWN, nodes=host_nodes(openable=False, group="root"), **LIBCUDA_535)
    assert "usermod" not in cause.fix and "NVreg_DeviceFileMode" in cause.fix


@pytest.mark.parametrize(
    "via, path, fix",
    [
        ("ld.so.cache", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "reboot (or reload the nvidia kernel modules)"),
        ("LD_LIBRARY_PATH", "/usr/local/cuda/compat/libcuda.so.1", "remove /usr/local/cuda/compat from LD_LIBRARY_"),
    ],
)
def test_libcuda_of_another_version_than_the_kernel_module(tmp_path, monkeypatch, via, path, fix):
    """803 (cudaErrorSystemDriverMismatch) with libcuda 550.54.14 and module 535.161.07: where the loader took it
    decides the fix."""
    cause = judged(
        tmp_path,
        monkeypatch,
        UNEXPECTED % "803: system has unsupported display driver / cuda driver combination",
        nodes=host_nodes(),
        libcuda=path,
        libcuda_via=via,
        libcuda_version="550.54.14",
        kernel_module="535.161.07",
    )
    assert cause.rule == "gpu-access" and cause.fact == "libcuda 550.54.14, kernel module 535.161.07"
    assert fix in cause.fix


def test_the_driver_mismatch_class_without_facts_keeps_its_documented_meaning(tmp_path, monkeypatch):
    cause = judged(
        tmp_path, monkeypatch, UNEXPECTED % "803: system has unsupported display driver / cuda driver combination"
    )
    assert cause.rule == "table" and "another driver version than the loaded kernel module" in cause.meaning


# cudaGetErrorString(34), cudaErrorStubLibrary (CUDA Runtime API, "enum cudaError"), in torch's warning
STUB_LIBRARY = UNEXPECTED % "34: CUDA driver is a stub library"


@pytest.mark.parametrize(
    "name, via, path, fix",
    [
        (
            "libcuda.so.1",
            "LD_LIBRARY_PATH",
            "/opt/cuda-10.1/lib64/stubs/libcuda.so.1",
            "take the stubs folder off LD_LIBRARY_PATH (remove /opt/cuda-10.1/lib64/stubs from it",
        ),
        (
            "libcuda.so",
            "ld.so.cache",
            "/usr/local/cuda/lib64/stubs/libcuda.so",
            "drop the stubs folder /usr/local/cuda/lib64/stubs from the loader's configuration",
        ),
        (
            "libcuda.so.1",
            "ld.so.cache",
            "/usr/lib/x86_64-linux-gnu/libcuda.so.1",  # a link made to the stub (no stubs folder of its own)
            "remove /usr/lib/x86_64-linux-gnu/libcuda.so.1, which links to the toolkit's stub",
        ),
    ],
)
def test_a_stub_driver_library_the_loader_takes(tmp_path, monkeypatch, name, via, path, fix):
    """34 (the CUDA driver is a stub library) while the loader takes the toolkit's stubs/libcuda: where it took it
    decides the fix; never a driver update."""
    stub = dict(stub=path, stub_name=name, stub_via=via, stub_size=43752)
    cause = judged(tmp_path, monkeypatch, STUB_LIBRARY, nodes=host_nodes(), **LIBCUDA_535, **stub)
    assert cause.rule == "gpu-access" and cause.fact == "%s -> %s (%s, a stubs folder)" % (name, path, via)
    assert fix in cause.fix and "driver" not in cause.fix.split("so that")[0]
    assert "only for linking" in cause.meaning and "43752 bytes" in cause.meaning


def test_the_stub_class_without_a_stub_found_keeps_its_documented_meaning(tmp_path, monkeypatch):
    """No stub where this process's loader looks (it was loaded by a program's own path): the class's meaning."""
    cause = judged(tmp_path, monkeypatch, STUB_LIBRARY, nodes=host_nodes(), **LIBCUDA_535)
    assert cause.rule == "table" and "stub driver library" in cause.meaning and "stubs folder" in cause.fix


def test_a_driver_too_old_is_not_blamed_on_a_missing_libcuda(tmp_path, monkeypatch):
    """`found version 11040` means libcuda was loaded and answered: its absence here is no cause."""
    cause = judged(tmp_path, monkeypatch, fakes.DRIVER_TOO_OLD_WARNING, nodes=host_nodes(), **NO_LIBCUDA)
    assert cause.rule == "table" and "CUDA 11.4 only" in cause.meaning


@pytest.mark.parametrize(
    "access, fact",
    [
        (dict(visible_devices="none"), "NVIDIA_VISIBLE_DEVICES=none"),
        (dict(nodes=host_nodes()[:1] + host_nodes()[2:]), "no /dev/nvidia[0-9]"),
        (dict(nodes=host_nodes(openable=False)), "/dev/nvidiactl not readable and writable by uid"),
    ],
)
def test_no_device(tmp_path, monkeypatch, access, fact):
    cause = judged(tmp_path, monkeypatch, NO_DEVICE, **access)
    assert cause.rule == "gpu-access" and cause.fact.startswith(fact)


def test_initialization_error_with_the_uvm_node_missing(tmp_path, monkeypatch):
    cause = judged(tmp_path, monkeypatch, INIT_FAILED, nodes=host_nodes(uvm=False), **LIBCUDA_535)
    assert cause.fact.startswith("/dev/nvidia-uvm missing")


def test_operation_not_permitted(tmp_path, monkeypatch):
    """800 with a node this user may not open: the permission; with none, no fact or table decides: said so."""
    text = UNEXPECTED % "800: operation not permitted"
    assert "usermod" in judged(tmp_path, monkeypatch, text, nodes=host_nodes(openable=False)).fix
    assert judged(tmp_path, monkeypatch, text, nodes=host_nodes()).recognised is False


@pytest.mark.parametrize(
    "text, kind",
    [
        (NO_DRIVER, "no-driver"),
        (fakes.DRIVER_TOO_OLD_WARNING, "driver-too-old"),
        ("CUDA error: CUDA driver version is insufficient for CUDA runtime version", "insufficient-driver"),
        (NO_DEVICE, "no-device"),
        ("RuntimeError: CUDA error: no CUDA-capable device is detected", "no-device"),
        (UNKNOWN, "unknown"),
        (UNEXPECTED % "999: unknown error", "unknown"),
        (INIT_FAILED, "initialization"),
        (UNEXPECTED % "3: initialization error", "initialization"),
        (UNEXPECTED % "800: operation not permitted", "not-permitted"),
        ("CUDA error: operation not permitted when stream is capturing", None),
        ("CUDA error: out of memory", None),
    ],
)
def test_cuda_s_initialisation_errors_are_classed(text, kind):
    assert diagnosis.cuda_init_class(text) == kind


# torch 2.5's assert on two MIG slices of one A100 (pytorch/pytorch#130181; aten/src/ATen/cuda/CUDAContext.cpp)
MIG_ASSERT = (
    'RuntimeError: device >= 0 && device < num_gpus INTERNAL ASSERT FAILED at "../aten/src/ATen/cuda/CUDAContext.cpp"'
    ":50, please report a bug to PyTorch. device=1, num_gpus=1"
)


MIGS = "MIG-4c1e8f2a-9b3d-5e6f-a7c8-1d2e3f4a5b6c,MIG-7d9f0a1b-2c3e-5f4a-b6c7-8d9e0f1a2b3c"


def test_two_mig_instances_in_one_process_are_one_device(tmp_path, monkeypatch):
    """CUDA_VISIBLE_DEVICES names two MIG instances and the second device index is beyond CUDA's count: a CUDA
    process enumerates one MIG instance only (NVIDIA MIG User Guide); the fix is one slice per process."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain(MIG_ASSERT, dataclasses.replace(found, variables={"CUDA_VISIBLE_DEVICES": MIGS}))
    assert cause.rule == "mig" and "single MIG instance" in cause.meaning
    assert "CUDA_VISIBLE_DEVICES=MIG-4c1e8f2a-9b3d-5e6f-a7c8-1d2e3f4a5b6c for the first" in cause.fix
    one = dataclasses.replace(found, variables={"CUDA_VISIBLE_DEVICES": MIGS.split(",")[0]})
    assert diagnosis.explain(MIG_ASSERT, one).rule != "mig"
    invalid = "RuntimeError: CUDA error: invalid device ordinal"
    two_gpus = dataclasses.replace(found, variables={"CUDA_VISIBLE_DEVICES": "0,1"})
    assert diagnosis.explain(invalid, two_gpus).rule != "mig"
    assert diagnosis.by_mig(
        diagnosis.parse(invalid), dataclasses.replace(found, variables={"CUDA_VISIBLE_DEVICES": MIGS})
    )


# torch 2.0.1's message, from the format strings in its libc10_cuda.so ("CUDA out of memory. Tried to allocate ",
# " total capacity; ", " already allocated; ", " reserved in total by PyTorch)", " If reserved memory is >> ...").
OOM_2_0 = (
    "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 7.79 GiB total capacity; "
    "%s already allocated; 3.00 MiB free; %s reserved in total by PyTorch) If reserved memory is >> allocated memory "
    "try setting max_split_size_mb to avoid fragmentation.  See documentation for Memory Management and "
    "PYTORCH_CUDA_ALLOC_CONF"
)
# torch >= 2.1's message as users post it: each other process NVML lists on that GPU, then this process.
OOM_2_1_SHARED = (
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.95 GiB. GPU 0 has a total capacity of 14.57 GiB "
    "of which 1.58 GiB is free. Process 2493055 has 12.02 GiB memory in use. Including non-PyTorch memory, this "
    "process has 966.00 MiB memory in use. Of the allocated memory 734.07 MiB is allocated by PyTorch, and 33.93 MiB "
    "is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try setting "
    "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for Memory "
    "Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)"
)
OOM_2_1_OWN = (
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 12.00 MiB. GPU 0 has a total capacity of 79.25 GiB "
    "of which 8.94 MiB is free. Including non-PyTorch memory, this process has 79.23 GiB memory in use. Of the "
    "allocated memory 77.59 GiB is allocated by PyTorch, and 17.18 MiB is reserved by PyTorch but unallocated. If "
    "reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid "
    "fragmentation."
)


@pytest.mark.parametrize(
    "text, meaning, fix",
    [
        (
            OOM_2_1_SHARED,
            "GPU 0 is out of memory because others hold it: process 2493055 (12.02 GiB) of its 14.57 GiB, while this "
            "process holds 966.00 MiB",
            "run on a free GPU",
        ),
        (OOM_2_0 % ("1.10 GiB", "1.20 GiB"), "GPU 0 is out of memory because others hold it: 6.6 GiB that", "end"),
        (
            OOM_2_1_OWN,
            "this process's own work does not fit in GPU 0: it holds 79.23 GiB of 79.25 GiB",
            "torch's own advice: If reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=",
        ),
        (OOM_2_0 % ("7.10 GiB", "7.30 GiB"), "this process's own work does not fit in GPU 0", "max_split_size_mb"),
    ],
)
def test_cuda_out_of_memory_is_judged_by_who_holds_the_gpu(tmp_path, monkeypatch, text, meaning, fix):
    """The figures of torch's message decide: other processes holding more than this one are the cause (free the GPU
    or use another), else this process's own work does not fit, with torch's own remedy kept."""
    prefix, packages = site(tmp_path)
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "gpu-memory" and cause.meaning.startswith(meaning) and fix in cause.fix, cause
    assert "reinstall" not in cause.fix


# ---- a CUDA error whose documented meaning names a cause (by_cuda_error, checks/nvidia/cuda_errors.py) -----------
MPS_CLIENT = (  # apecloud/ApeRAG#120 (an MPS client whose control daemon it cannot reach)
    "UserWarning: CUDA initialization: Unexpected error from cudaGetDeviceCount(). Did you run some cuda functions "
    "before calling NumCudaDevices() that might have already set an error? Error 805: MPS client failed to connect "
    "to the MPS control daemon or the MPS server (Triggered internally at "
    "conda-bld/pytorch_1682343967769/work/c10/cuda/CUDAFunctions.cpp:109.)"
)  # the reporter's absolute conda prefix cut: a path outside this repository


def test_a_cuda_error_with_a_documented_cause_is_named_with_its_code(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    pipes = "/tmp/nvidia-mps"
    facts = dataclasses.replace(
        facts_for(monkeypatch, prefix, [str(packages)]), variables={"CUDA_MPS_PIPE_DIRECTORY": pipes}
    )
    cause = diagnosis.explain(MPS_CLIENT, facts)
    assert cause.rule == "cuda-error" and cause.recognised
    assert "Multi-Process Service" in cause.meaning and "cudaErrorMpsConnectionFailed" in cause.meaning
    assert "nvidia-cuda-mps-control" in cause.fix and "CUDA_MPS_PIPE_DIRECTORY=%s" % pipes in cause.fact


def test_a_cuda_api_misuse_stays_unrecognised(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    facts = facts_for(monkeypatch, prefix, [str(packages)])
    cause = diagnosis.explain("RuntimeError: CUDA error: invalid resource handle", facts)
    assert cause.rule == "unrecognised" and not cause.recognised


def test_a_device_side_assert_names_the_data_not_the_machine(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    facts = facts_for(monkeypatch, prefix, [str(packages)])
    text = (  # modelscope/ms-swift#3267: a label >= the number of classes of the loss
        "[rank0]: RuntimeError: CUDA error: device-side assert triggered\n[rank0]: CUDA kernel errors might be "
        "asynchronously reported at some other API call, so the stacktrace below might be incorrect.\n"
        "../aten/src/ATen/native/cuda/Loss.cu:250: nll_loss_forward_reduce_cuda_kernel_2d: block: [0,0,0], thread: "
        "[0,0,0] Assertion `t >= 0 && t < n_classes` failed."
    )
    cause = diagnosis.explain(text, facts)
    assert cause.rule == "cuda-error"
    assert "index out of range" in cause.meaning and "CUDA_LAUNCH_BLOCKING=1" in cause.fix
    assert "reinstall" not in cause.fix.lower()


# ---- torch's warning that the build has no kernels for a GPU (by_gpu_arch) -----------------------------------------
# The texts are torch/cuda/__init__.py's templates (read in the installed 2.0.1 and 2.13 wheels) filled in for an
# RTX 5090 (compute capability 12.0) under a build up to sm_90 and a GTX 770 (3.0) under 2.0.1: incompatible_device_warn
# (2.0.1's _check_capability, 2.13's _check_cubins) and 2.0.1's old_gpu_warn.
NEWER_GPU = (
    "UserWarning: \nNVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with the current PyTorch "
    "installation.\nThe current PyTorch install supports CUDA capabilities sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90."
    "\nIf you want to use the NVIDIA GeForce RTX 5090 GPU with PyTorch, please check the instructions at "
    "https://pytorch.org/get-started/locally/"
)
OLDER_GPU = (
    "UserWarning: \n    Found GPU0 NVIDIA GeForce GTX 770 which is of cuda capability 3.0.\n    PyTorch no longer "
    "supports this GPU because it is too old.\n    The minimum cuda capability supported by this library is 3.7.\n"
)


def test_a_gpu_newer_than_the_build_needs_a_build_of_a_newer_cuda(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path, torch_version="2.5.1")
    cause = diagnosis.explain(NEWER_GPU, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "gpu-arch" and "no kernels for this GPU's architecture sm_120" in cause.meaning
    # CUDA 12.8 is the first to build sm_120 (compat.ARCH_CUDA); torch 2.7 the first release with a cu128 wheel
    assert "torch 2.7 or newer built for CUDA 12.8" in cause.fix and "/whl/cu128" in cause.fix
    assert "sm_90" in cause.fact


def test_a_gpu_newer_than_the_build_keeps_the_release_when_it_has_a_fitting_wheel(tmp_path, monkeypatch):
    """torch 2.0.1's cu117 wheel lacks sm_90; its cu118 wheel has it (compat.TORCH20_ARCHES)."""
    prefix, packages = site(tmp_path, torch_version="2.0.1")
    text = NEWER_GPU.replace("NVIDIA GeForce RTX 5090", "NVIDIA H100 PCIe").replace("sm_120", "sm_90")
    text = text.replace(" sm_90.", ".")
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "gpu-arch" and '"torch==2.0.1" --index-url https://download.pytorch.org/whl/cu118' in cause.fix


def test_a_gpu_older_than_the_build_is_not_helped_by_a_newer_torch(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    cause = diagnosis.explain(OLDER_GPU, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "gpu-arch" and "older than every architecture" in cause.meaning
    assert "no official PyTorch build has sm_30 kernels" in cause.fix and "TORCH_CUDA_ARCH_LIST=3.0" in cause.fix


# ---- a GPU feature the GPU's compute capability lacks (by_gpu_feature) --------------------------------------------
V100_DRIVER = {"gpus": [{"name": "Tesla V100-SXM2-32GB", "compute_cap": "7.0"}], "source": "nvidia-smi"}
A100_DRIVER = {"gpus": [{"name": "NVIDIA A100-SXM4-80GB", "compute_cap": "8.0"}], "source": "NVML"}
FEATURE_FAILURES = [
    # transformers 4.28 training_args.py (lm-sys/FastChat#399)
    ("ValueError: Your setup doesn't support bf16/gpu. You need torch>=1.10, using Ampere GPU with cuda>=11.0", "bf"),
    # vLLM 0.1.4 vllm/config.py (vllm-project/vllm#946)
    (
        "ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your Tesla "
        "V100-SXM2-32GB GPU has compute capability 7.0.",
        "bf",
    ),
    # transformers training_args.py
    ("ValueError: --tf32 requires Ampere or a newer GPU arch, cuda>=11 and torch>=1.7", "TF32"),
    # flash-attn 2 csrc/flash_attn/flash_api.cpp
    ("RuntimeError: FlashAttention only supports Ampere GPUs or newer.", "FlashAttention-2"),
    # torch aten/src/ATen/native/cuda/Blas.cpp
    (
        "RuntimeError: torch._scaled_mm is only supported on CUDA devices with compute capability >= 9.0 or 8.9, "
        "or ROCm MI300+",
        "FP8",
    ),
]


@pytest.mark.parametrize("text, feature", FEATURE_FAILURES)
def test_a_feature_the_gpu_is_too_old_for_is_decided_by_its_compute_capability(tmp_path, monkeypatch, text, feature):
    """The driver's compute capability (7.0) is below the feature's floor: the GPU is named with it, whichever
    library refused, and the fix avoids the feature."""
    prefix, packages = site(tmp_path)
    found = dataclasses.replace(
        facts_for(monkeypatch, prefix, [packages]), gpus=diagnosis.GpuSeen.from_driver(V100_DRIVER)
    )
    cause = diagnosis.explain(text, found)
    assert cause.rule == "gpu-feature"
    assert cause.meaning.startswith("Tesla V100-SXM2-32GB (compute capability 7.0) has no native ")
    assert feature.lower() in cause.meaning.lower()
    assert cause.fact == "GPU 0 Tesla V100-SXM2-32GB: compute capability 7.0 (nvidia-smi)"
    if feature == "bf":
        assert "`--bf16 False --fp16 True`" in cause.fix and '`dtype="half"`' in cause.fix
    assert "reinstall" not in cause.fix.lower()


def test_a_gpu_that_has_the_feature_or_a_dtype_mismatch_is_not_the_gpus_fault(tmp_path, monkeypatch):
    """An A100 has bfloat16 (the refusal has another cause); a dtype mismatch names BFloat16 but not the hardware;
    without GPU facts nothing is claimed."""
    prefix, packages = site(tmp_path)
    base = facts_for(monkeypatch, prefix, [packages])
    a100 = dataclasses.replace(base, gpus=diagnosis.GpuSeen.from_driver(A100_DRIVER))
    v100 = dataclasses.replace(base, gpus=diagnosis.GpuSeen.from_driver(V100_DRIVER))
    assert diagnosis.explain(FEATURE_FAILURES[0][0], a100).rule != "gpu-feature"
    assert diagnosis.explain("RuntimeError: expected scalar type BFloat16 but found Float", v100).rule != (
        "gpu-feature"
    )
    assert diagnosis.explain(FEATURE_FAILURES[1][0], base).rule != "gpu-feature"
    assert diagnosis.explain(FEATURE_FAILURES[4][0], a100).rule == "gpu-feature"  # FP8 needs 8.9


def test_a_gpu_without_compute_cap_is_known_by_its_product_name_or_left_out():
    """nvidia-smi before ~510 cannot tell compute_cap: the product name decides (NVIDIA's CUDA GPUs list: K80 3.7),
    saying so; a name the table does not know is left out, not guessed."""
    seen = diagnosis.GpuSeen.from_driver(
        {
            "gpus": [
                {"name": "Tesla K80", "compute_cap": None},
                {"name": "Tesla T4", "compute_cap": "7.5"},
                {"name": "NVIDIA Graphics Device", "compute_cap": None},
            ],
            "source": "nvidia-smi",
        }
    )
    assert seen == (
        diagnosis.GpuSeen(0, "Tesla K80", (3, 7), "its product name; nvidia-smi gave no compute_cap"),
        diagnosis.GpuSeen(1, "Tesla T4", (7, 5), "nvidia-smi"),
    )
