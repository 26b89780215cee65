"""Tests for checks/nvidia/cuda_errors.py: the table against the CUDA runtime library itself where one is installed,
and finding the code a failure's text names. Texts as torch prints them: C10_CUDA_CHECK's `CUDA error: <text>`
and the initialisation warning `... Error <code>: <text>` (c10/cuda/CUDAException.cpp, CUDAFunctions.cpp; the
strings of the 2.0.1 wheel's libc10_cuda.so), and torch >= 2.1's `Search for `<name>' in ...` line."""

import ctypes
import glob
import os
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.nvidia import cuda_errors


def installed_libcudart():
    """The libcudart.so.11.0 of the nvidia-cuda-runtime-cu11 wheel torch 2.0.1 installs from PyPI, or None."""
    for entry in sys.path:
        found = glob.glob(os.path.join(entry, "nvidia", "cuda_runtime", "lib", "libcudart.so.11*"))
        if found:
            return found[0]
    return None


LIBCUDART = installed_libcudart()


@pytest.mark.skipif(LIBCUDART is None, reason="no nvidia-cuda-runtime-cu11 wheel here (torch 2.0.1's PyPI install)")
def test_the_table_is_what_the_installed_cuda_runtime_names():
    lib = ctypes.CDLL(LIBCUDART)
    lib.cudaGetErrorName.restype = ctypes.c_char_p
    lib.cudaGetErrorString.restype = ctypes.c_char_p
    named = {}
    for code in range(1200):
        name = lib.cudaGetErrorName(code).decode()
        if name.startswith("cudaError") and (name != "cudaErrorUnknown" or code == 999):
            named[code] = (name, lib.cudaGetErrorString(code).decode())
    assert len(named) > 100
    for code, (name, text) in named.items():
        row = cuda_errors.BY_CODE[code]
        assert row.name == name
        assert row.text == text or code == 27  # 11.7's "32-bit non float type", later "data type"
    assert {e.code for e in cuda_errors.ERRORS if e.since == "11.7"} == set(named)


def test_every_class_has_its_meaning_and_every_classified_code_exists():
    assert set(cuda_errors.CLASS_OF.values()) == set(cuda_errors.CLASSES)
    assert set(cuda_errors.CLASS_OF) <= set(cuda_errors.BY_CODE)


STUB = (  # fboulnois/stable-diffusion-docker#22 (a toolkit's lib64/stubs first on the loader's path)
    "UserWarning: CUDA initialization: Unexpected error from cudaGetDeviceCount(). Did you run some cuda functions "
    "before calling NumCudaDevices() that might have already set an error? Error 34: CUDA driver is a stub library "
    "(Triggered internally at  ../c10/cuda/CUDAFunctions.cpp:109.)"
)
TIMEOUT = (  # torch >= 2.1's C10_CUDA_CHECK text (c10/cuda/CUDAException.cpp)
    "RuntimeError: CUDA error: the launch timed out and was terminated\n"
    "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be "
    "incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1.\n"
    "Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions."
)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (STUB, "cudaErrorStubLibrary"),
        (TIMEOUT, "cudaErrorLaunchTimeout"),
        ("RuntimeError: CUDA error: device-side assert triggered", "cudaErrorAssert"),
        # isht7/pytorch-deeplab-resnet#19 (torch 0.2's THC form; its code 59 predates CUDA 10's numbering)
        ("RuntimeError: cuda runtime error (59) : device-side assert triggered", "cudaErrorAssert"),
        ("Search for `cudaErrorMpsConnectionFailed' in https://docs.nvidia.com/cuda/cuda-runtime-api/", None),
        ("cuInit failed: CUDA_ERROR_DEVICE_NOT_LICENSED", "cudaErrorDeviceNotLicensed"),  # the driver API's name
        # NCCL's CUDACHECK warning as torch's NCCL error quotes it after `Last error:` (src/include/checks.h)
        (
            "ncclUnhandledCudaError: Call to CUDA function failed.\nLast error:\nCuda failure 'peer access is not "
            "supported between these two devices'",
            "cudaErrorPeerAccessUnsupported",
        ),
        ("Last error:\nCuda failure 2 'out of memory'", "cudaErrorMemoryAllocation"),
        # THC's `cuda runtime error (N) : <text> at <file>:<line>` (aten/src/THC/THCGeneral.cpp, torch 0.4 to 1.x)
        (
            "RuntimeError: cuda runtime error (38) : no CUDA-capable device is detected at "
            "/pytorch/aten/src/THC/THCGeneral.cpp:51",
            "cudaErrorNoDevice",
        ),
        # the numbering before CUDA 10.1 (its driver_types.h: cudaErrorNoKernelImageForDevice = 48); the text decides
        (
            "THCudaCheck FAIL file=/pytorch/aten/src/THC/THCGeneral.cpp line=663 error=48 : no kernel image is "
            "available for execution on the device",
            "cudaErrorNoKernelImageForDevice",
        ),
        # torch 1.x's THCudaCheck form (aten/src/THC/THCGeneral.cpp)
        (
            "THCudaCheck FAIL file=/pytorch/aten/src/THC/THCGeneral.cpp line=50 error=100 : no CUDA-capable device "
            "is detected",
            "cudaErrorNoDevice",
        ),
    ],
)
def test_the_code_is_found_by_its_text_its_code_or_its_name(text, name):
    found = cuda_errors.find(text)
    assert found is not None
    assert found.name == (name or "cudaErrorMpsConnectionFailed")


@pytest.mark.parametrize(
    "text",
    [
        "OSError: [Errno 1] Operation not permitted",  # the OS's, not CUDA's
        "ValueError: invalid argument",
        "RuntimeError: CUDA error: unknown error",  # 999: no cause documented, left to the other rules
        "RuntimeError: CUDA error: invalid argument",  # an API misuse: no cause outside the call
        "Error 34 while reading the file",  # a code without its text is not CUDA's
    ],
)
def test_texts_that_name_no_documented_cause_are_not_judged(text):
    assert cuda_errors.judge(text) is None


@given(st.sampled_from(cuda_errors.ERRORS), st.sampled_from(["RuntimeError: CUDA error: %s", "CUDA Error: %s.\n"]))
def test_every_text_is_found_after_the_prefix_torch_prints(error, form):
    found = cuda_errors.find(form % error.text)
    assert found is not None and found.text == error.text


def test_torch_s_allocator_words_are_cuda_s_out_of_memory():
    """c10/cuda/CUDACachingAllocator.cpp's message (2.0.1's format, as the 2.0.1 wheel's libc10_cuda.so holds it)."""
    text = (
        "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 7.79 GiB total "
        "capacity; 6.80 GiB already allocated; 3.06 MiB free; 6.85 GiB reserved in total by PyTorch)"
    )
    error, meaning, fix = cuda_errors.judge(text)
    assert error.name == "cudaErrorMemoryAllocation" and "memory is full" in meaning and "batch size" in fix


def test_cudnn_statuses_with_a_documented_cause():
    """torch's `cuDNN error: <cudnnGetErrorString>` (ATen/cudnn/Exceptions.h; the strings of cuDNN 8.5's
    libcudnn_ops_infer are the status names themselves)."""
    error, meaning, fix = cuda_errors.judge("RuntimeError: cuDNN error: CUDNN_STATUS_NOT_INITIALIZED")
    assert error.library == "cuDNN" and "GPU's memory was already full" in meaning and "nvidia-smi" in fix
    assert "memory is full" in cuda_errors.judge("RuntimeError: cuDNN error: CUDNN_STATUS_ALLOC_FAILED")[1]
    assert "gpu-arch" in cuda_errors.judge("RuntimeError: cuDNN error: CUDNN_STATUS_EXECUTION_FAILED")[2]
    assert cuda_errors.judge("RuntimeError: cuDNN error: CUDNN_STATUS_BAD_PARAM") is None  # the call's own fault
    assert cuda_errors.judge("RuntimeError: cuDNN error: CUDNN_STATUS_INTERNAL_ERROR") is None  # names no cause


def test_cublas_statuses_of_a_documented_cause_are_judged():
    """torch's TORCH_CUDABLAS_CHECK text (aten/src/ATen/cuda/CUDABlas.cpp); the meanings are cuBLAS's cublasStatus_t
    table's; INVALID_VALUE names no cause of its own."""
    error, meaning, _ = cuda_errors.judge(
        "RuntimeError: CUDA error: CUBLAS_STATUS_NOT_INITIALIZED when calling `cublasCreate(handle)`"
    )
    assert error.library == "cuBLAS" and error.code == 1 and "cublasCreate failed" in meaning
    error, meaning, _ = cuda_errors.judge("RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `x`")
    assert error.code == 3 and meaning == cuda_errors.CLASSES["out-of-memory"][0]
    assert cuda_errors.judge("RuntimeError: CUDA error: CUBLAS_STATUS_INVALID_VALUE when calling `cublasSgemm`") is None
