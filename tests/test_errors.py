"""Tests for checks/errors.py: the real error in a process's output, with the texts torch really prints per release
(strings of the released wheels, and public reports; the research notes keep them)."""

import signal

import pytest

from checks import errors

CUDA_201 = """Traceback (most recent call last):
  File "probe.py", line 12, in <module>
    x = torch.arange(1024, dtype=torch.float32, device="cuda")
RuntimeError: CUDA error: no kernel image is available for execution on the device
CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.
For debugging consider passing CUDA_LAUNCH_BLOCKING=1.
Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.

"""
# torch 2.9-2.12: torch.AcceleratorError, the `Search for` help line, no period (bytedance/Protenix#205 form).
CUDA_29 = """Traceback (most recent call last):
  File "x.py", line 134, in forward
    return F.linear(input, self.weight, self.bias)
torch.AcceleratorError: CUDA error: no kernel image is available for execution on the device
Search for `cudaErrorNoKernelImageForDevice' in https://docs.nvidia.com/cuda/cuda-runtime-api/group__CUDART__TYPES.html for more information.
CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.
For debugging consider passing CUDA_LAUNCH_BLOCKING=1
Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.

"""
# torch 2.13: only the help line and CUDA_LOG_FILE (pytorch/pytorch#180427).
CUDA_213 = """torch.AcceleratorError: CUDA error: no kernel image is available for execution on the device
Search for `cudaErrorNoKernelImageForDevice' in https://docs.nvidia.com/cuda/cuda-runtime-api/group__CUDART__TYPES.html for more information.
For more detailed error information, run with CUDA_LOG_FILE=stderr
"""
# torch 2.1-2.6 dynamo boilerplate around a chained inductor error (jianchang512/ChatTTS-ui#18, pytorch#92745).
DYNAMO_21 = """Traceback (most recent call last):
  File "codecache.py", line 128, in cpp_compiler_search
    raise exc.InvalidCxxCompiler()
torch._inductor.exc.InvalidCxxCompiler: No working C++ compiler found in torch._inductor.config.cpp.cxx: (None, 'g++')

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "child.py", line 9, in <module>
    err_fn = (torch.compile(f)(x) - f(x)).abs().max().item()
torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:
InvalidCxxCompiler: No working C++ compiler found in torch._inductor.config.cpp.cxx: (None, 'g++')

Set TORCH_LOGS="+dynamo" and TORCHDYNAMO_VERBOSE=1 for more information


You can suppress this exception and fall back to eager by setting:
    import torch._dynamo
    torch._dynamo.config.suppress_errors = True

"""
# torch 2.0.1's dynamo texts (torch/_dynamo/exc.py of the 2.0.1 wheel).
DYNAMO_20 = """Traceback (most recent call last):
  File "child.py", line 9, in <module>
torch._dynamo.exc.BackendCompilerFailed: debug_wrapper raised DataDependentOutputException: aten._local_scalar_dense.default

Set torch._dynamo.config.verbose=True for more information


You can suppress this exception and fall back to eager by setting:
    torch._dynamo.config.suppress_errors = True
"""
# torch 2.7+: InductorError, the TORCHDYNAMO_VERBOSE line (pytorch/pytorch#158384, triton's C compiler text).
DYNAMO_27 = """Traceback (most recent call last):
  File "child.py", line 9, in <module>
torch._inductor.exc.InductorError: RuntimeError: Failed to find C compiler. Please specify via CC environment variable or set triton.knobs.build.impl.

Set TORCHDYNAMO_VERBOSE=1 for the internal stack trace (please do this especially if you're reporting a bug to PyTorch). For even more developer context, set TORCH_LOGS="+dynamo"

"""
CPP_COMPILE = """Traceback (most recent call last):
  File "child.py", line 9, in <module>
torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:
CppCompileError: C++ compile error

Command:
g++ /tmp/tmpmipqltu2/wo/cwofhk5b.cpp -shared -fPIC -Wall -std=c++17 -Wno-unused-variable -o /tmp/x.so

Output:
/tmp/tmpmipqltu2/wo/cwofhk5b.cpp:2:10: fatal error: Python.h: No such file or directory
compilation terminated.
"""


@pytest.mark.parametrize(
    "text, line",
    [
        (CUDA_201, "RuntimeError: CUDA error: no kernel image is available for execution on the device"),
        (CUDA_29, "torch.AcceleratorError: CUDA error: no kernel image is available for execution on the device"),
        (CUDA_213, "torch.AcceleratorError: CUDA error: no kernel image is available for execution on the device"),
        (
            DYNAMO_21,
            "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised: InvalidCxxCompiler: No working C++ "
            "compiler found in torch._inductor.config.cpp.cxx: (None, 'g++')",
        ),
        (
            DYNAMO_20,
            "torch._dynamo.exc.BackendCompilerFailed: debug_wrapper raised DataDependentOutputException: "
            "aten._local_scalar_dense.default",
        ),
        (
            DYNAMO_27,
            "torch._inductor.exc.InductorError: RuntimeError: Failed to find C compiler. Please specify via CC "
            "environment variable or set triton.knobs.build.impl.",
        ),
        (
            CPP_COMPILE,
            "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised: CppCompileError: C++ compile error "
            "/tmp/tmpmipqltu2/wo/cwofhk5b.cpp:2:10: fatal error: Python.h: No such file or directory",
        ),
    ],
)
def test_the_real_exception_without_boilerplate(text, line):
    """The last exception of a traceback, its whole message, none of the CUDA/dynamo boilerplate of any release."""
    found = errors.extract(text)
    assert found.kind == "python"
    assert found.line == line


@pytest.mark.parametrize(
    "text, kind, line",
    [
        (  # meta-pytorch/csprng#115
            "OMP: Error #15: Initializing libiomp5md.dll, but found libiomp5md.dll already initialized.\n"
            "OMP: Hint This means that multiple copies of the OpenMP runtime have been linked into the program.\n",
            "omp",
            "OMP: Error #15: Initializing libiomp5md.dll, but found libiomp5md.dll already initialized.",
        ),
        (  # a C++ exception that escapes (terminate), the CUDA boilerplate after it
            "terminate called after throwing an instance of 'c10::Error'\n"
            "  what():  CUDA error: an illegal memory access was encountered\n"
            "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below "
            "might be incorrect.\n",
            "c++",
            "CUDA error: an illegal memory access was encountered",
        ),
        (  # open-mmlab/mmdetection3d#2132, whisper-diarization#62
            "Could not load library libcudnn_cnn_infer.so.8. Error: libcuda.so: cannot open shared object file: No "
            "such file or directory\nPlease make sure libcudnn_cnn_infer.so.8 is in your library path!\n",
            "loader",
            "Could not load library libcudnn_cnn_infer.so.8. Error: libcuda.so: cannot open shared object file: No "
            "such file or directory",
        ),
        (
            "Fatal Python error: Segmentation fault\n\nCurrent thread 0x00007f (most recent call first):\n",
            "fatal",
            "Segmentation fault",
        ),
        ("", "none", "no output"),
    ],
)
def test_native_crashes_leave_their_own_line(text, kind, line):
    """Without a Python traceback: C++'s what(), OMP's error, the loader's message, Python's fatal error."""
    found = errors.extract(text)
    assert (found.kind, found.line) == (kind, line)


def test_the_cause_sentence_is_kept_and_repeats_dropped():
    """c10d puts the cause in the second sentence, once per address (pytorch 2.0.1 / torchtune#392): keep it once."""
    text = (
        "torch.distributed.DistNetworkError: The server socket has failed to listen on any local network address. "
        "The server socket has failed to bind to [::]:29500 (errno: 98 - Address already in use). The server socket "
        "has failed to bind to 0.0.0.0:29500 (errno: 98 - Address already in use)."
    )
    assert errors.extract(text).line == (
        "torch.distributed.DistNetworkError: The server socket has failed to listen on any local network address. "
        "The server socket has failed to bind to [::]:29500 (errno: 98 - Address already in use)."
    )


@pytest.mark.parametrize(
    "message, condensed",
    [
        (  # sehoffmann/dmlcloud#47: the source tag goes, the cause stays
            "Gloo connectFullMesh failed with [../third_party/gloo/gloo/transport/tcp/pair.h:301] Connect timeout [none]",
            "Gloo connectFullMesh failed with Connect timeout [none]",
        ),
        (  # zai-org/CogVLM2#178
            "NCCL error in: ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1691, unhandled system error (run "
            "with NCCL_DEBUG=INFO for details), NCCL version 2.19.3 ncclSystemError: System call (e.g. socket, malloc) "
            "or external library call failed or device error.",
            "NCCL error: unhandled system error (run with NCCL_DEBUG=INFO for details), NCCL version 2.19.3 "
            "ncclSystemError: System call (e.g. socket, malloc) or external library call failed or device error.",
        ),
        (  # weaviate/Verba#72: the `Triggered internally` tag goes
            "CUDA initialization: The NVIDIA driver on your system is too old (found version 11040). Please update "
            "your GPU driver. (Triggered internally at ../c10/cuda/CUDAFunctions.cpp:108.)",
            "CUDA initialization: The NVIDIA driver on your system is too old (found version 11040). Please update "
            "your GPU driver.",
        ),
    ],
)
def test_condense_drops_tags_not_causes(message, condensed):
    """Source tags and repeated boilerplate go; every sentence with a cause stays."""
    assert errors.condense(message) == condensed


def test_condense_bounds_the_length_at_a_word():
    """A long message is cut at a word, marked with an ellipsis."""
    text = errors.condense("word " * 200, limit=50)
    assert len(text) <= 50 and text.endswith("...")


@pytest.mark.parametrize(
    "code, text",
    [
        (-signal.SIGSEGV, "killed by SIGSEGV (segmentation fault)"),
        (-signal.SIGABRT, "killed by SIGABRT (aborted)"),
        (0xC0000005, "ended with 0xC0000005 ACCESS_VIOLATION (segmentation fault)"),
        (1, None),
        (0, None),
    ],
)
def test_crash_names_the_signal(code, text):
    """A negative return code is the signal (POSIX); Windows reports NTSTATUS codes; a plain exit is not a crash."""
    assert errors.crash(code) == text


def test_an_exception_re_raised_with_its_original_traceback_yields_the_original():
    """torch's ExceptionWrapper re-raises a DataLoader worker's error as `Caught X in DataLoader worker process N.`
    followed by `Original Traceback (most recent call last):` and the worker's traceback (torch/_utils.py, reraise,
    2.0.1 to 2.13); the worker's own line is the error."""
    text = (
        "Traceback (most recent call last):\n"
        '  File "train.py", line 9, in <module>\n'
        "    for x, y in loader:\n"
        "RuntimeError: Caught RuntimeError in DataLoader worker process 0.\n"
        "Original Traceback (most recent call last):\n"
        '  File "/env/lib/python3.10/site-packages/torch/utils/data/_utils/worker.py", line 308, in _worker_loop\n'
        "    data = fetcher.fetch(index)\n"
        "RuntimeError: unable to write to file </torch_18692_1954506624>: No space left on device (28)\n"
    )
    found = errors.extract(text)
    assert found.line == "RuntimeError: unable to write to file </torch_18692_1954506624>: No space left on device (28)"
