"""Tests for checks/causes.py: what each failure text means and its fix, with texts from real reports."""

import fakes
import pytest

from checks import causes


@pytest.mark.parametrize(
    "exc, meaning, fix",
    [
        (ImportError("libtorch_cpu.so: undefined symbol: iJIT_NotifyEvent"), "mkl 2024.1", "mkl<2024.1"),
        (ImportError("libcublasLt.so.11: cannot open shared object file"), "CUDA library", "package that provides it"),
        # an undefined symbol's cause is a fact (which copy lacks it: checks/diagnosis/symbols.py), not its text
        (ImportError("libtorch_cuda.so: undefined symbol: cudnnGetVersion_v8"), "not recognised", "against the facts"),
        (OSError("[WinError 126] Error loading fbgemm.dll"), "Windows DLL", "Visual C++"),
        (ImportError("No module named 'torch._C'"), "source tree", "another directory"),
        (ModuleNotFoundError("No module named 'typing_extensions'"), "missing: typing_extensions", "install it"),
        (ImportError("something new"), "(ImportError: something new): not recognised", "against the facts"),
    ],
)
def test_import_signatures(exc, meaning, fix):
    """Each known import failure maps to its cause and fix; an unknown one says so, and nothing says reinstall."""
    got_meaning, got_fix = causes.of_import_error(exc)
    assert meaning in got_meaning
    assert fix in got_fix
    assert "reinstall" not in got_fix


@pytest.mark.parametrize(
    "how, output, meaning, fix",
    [
        ("killed by SIGABRT (aborted)", fakes.OMP_15, "two OpenMP runtimes", "one source"),
        ("killed by SIGILL (illegal instruction: ...)", "", "lacks an instruction set", "-cpu host"),
        ("killed by SIGABRT (aborted)", fakes.CUDNN_ABORT, "cannot load the driver's libcuda.so", "/usr/lib/wsl/lib"),
        (  # yeyupiaoling/Whisper-Finetune#16: the library itself is missing
            "killed by SIGABRT (aborted)",
            "Could not load library libcudnn_ops_infer.so.8. Error: libcudnn_ops_infer.so.8: cannot open shared object"
            " file: No such file or directory\nPlease make sure libcudnn_ops_infer.so.8 is in your library path!\n",
            "the cuDNN library libcudnn_ops_infer.so.8 itself is missing",
            "install cuDNN into the environment",
        ),
        (  # AUTOMATIC1111/stable-diffusion-webui#10230: cuDNN opens NVRTC by its unversioned name
            "killed by SIGABRT (aborted)",
            "Could not load library libcudnn_cnn_infer.so.8. Error: libnvrtc.so: cannot open shared object file: No "
            "such file or directory\n",
            "runtime compiler libnvrtc.so",
            "nvidia-cuda-nvrtc",
        ),
        (  # the same message shape with any other dependency
            "killed by SIGABRT (aborted)",
            "Could not load library libcudnn_adv_train.so.8. Error: libcublasLt.so.11: cannot open shared object file:"
            " No such file or directory\n",
            "libcudnn_adv_train.so.8 cannot load libcublasLt.so.11",
            "from one source",
        ),
    ],
)
def test_a_crash_while_importing_torch_is_diagnosed_from_what_it_printed(how, output, meaning, fix):
    """`import torch` that kills the process: the signature matches the text it printed (OMP #15, SIGILL)."""
    line, got_meaning, got_fix, _ = causes.import_crash(how, output)
    assert line.startswith("import torch " + how)
    assert meaning in got_meaning and fix in got_fix


@pytest.mark.parametrize(
    "text, kind",
    [
        (fakes.NO_KERNEL_IMAGE_201, "no-kernel-image"),
        (fakes.DRIVER_TOO_OLD_WARNING, "driver-too-old"),
        ("CUDA error: CUDA driver version is insufficient for CUDA runtime version", "driver-too-old"),
        (  # uncitable log of torch 2.0.x on a GeForce with cuda-compat (research notes, kind 4.3)
            "CUDA initialization: Unexpected error from cudaGetDeviceCount(). Did you run some cuda functions before "
            "calling NumCudaDevices() that might have already set an error? Error 804: forward compatibility was "
            "attempted on non supported HW",
            "forward-compat",
        ),
        (  # pytorch/pytorch#159954
            "CUDA initialization: CUDA unknown error - this may be due to an incorrectly set up environment, e.g. "
            "changing env variable CUDA_VISIBLE_DEVICES after program start. Setting the available devices to be zero.",
            "uvm",
        ),
        ("RuntimeError: No CUDA GPUs are available", "no-devices"),  # jiaw-z/CoR-GS#23
        ("CUDA error: out of memory", "out-of-memory"),
        ("something else entirely", None),
    ],
)
def test_cuda_errors_are_told_apart(text, kind):
    """CUDA's and torch's texts map to their own cause; an unknown text maps to none."""
    found = causes.of_cuda(text)
    assert (found[0] if found else None) == kind


def test_found_version_is_read_as_the_driver_s_cuda():
    """`found version 11040` is the driver's CUDA, 11.4 (a 470-series driver)."""
    assert "CUDA 11.4 only" in causes.of_cuda(fakes.DRIVER_TOO_OLD_WARNING)[1]


@pytest.mark.parametrize(
    "text, variable",
    [
        # torch/distributed/rendezvous.py _env_error
        (
            "ValueError: Error initializing torch.distributed using env:// rendezvous: environment variable RANK "
            "expected, but not set",
            "RANK",
        ),
        ("KeyError: 'LOCAL_RANK'", "LOCAL_RANK"),
    ],
)
def test_a_distributed_script_started_without_a_launcher(text, variable):
    meaning, fix = causes.match(text)
    assert "(%s is not set)" % variable in meaning and fix.startswith("start it with torchrun")


def test_a_key_error_of_another_name_is_not_the_launcher_s():
    assert causes.match("KeyError: 'RANKS'") is None


@pytest.mark.parametrize(
    "text, words",
    [
        (
            "RuntimeError: Found NVIDIA GeForce GTX 1080 which is too old to be supported by the triton GPU compiler, "
            "which is used as the backend. Triton only supports devices of CUDA Capability >= 7.0, but your device is "
            "of CUDA capability 6.1",
            'backend="aot_eager"',
        ),
        ("RuntimeError: FlashAttention only supports Ampere GPUs or newer.", 'attn_implementation="sdpa"'),
    ],
)
def test_a_gpu_too_old_for_a_compiler_or_kernel_library(text, words):
    meaning, fix = causes.match(text)
    assert "GPU" in meaning and words in fix


@pytest.mark.parametrize(
    "text, words",
    [
        ("torch.distributed.elastic.multiprocessing.api.SignalException: Process 40512 got signal: 1", "SIGHUP"),
        ("torch.distributed.elastic.multiprocessing.api.SignalException: Process 40512 got signal: 15", "SIGTERM"),
    ],
)
def test_torchrun_s_agent_stopped_by_a_signal(text, words):
    """torch/distributed/elastic/multiprocessing/api.py's SignalException text."""
    meaning, _ = causes.match(text)
    assert words in meaning


@pytest.mark.parametrize(
    "text, words",
    [
        ("RuntimeError: \"addmm_impl_cpu_\" not implemented for 'Half'", "float32"),
        (
            "RuntimeError: Default process group has not been initialized, please make sure to call "
            "init_process_group.",
            "torchrun",
        ),
        (
            "RuntimeError: Cannot re-initialize CUDA in forked subprocess. To use CUDA with multiprocessing, you must "
            "use the 'spawn' start method",
            "set_start_method('spawn')",
        ),
        (  # CPython 3.11's multiprocessing/spawn.py text, as a DataLoader on Windows or macOS meets it
            "RuntimeError: \n        An attempt has been made to start a new process before the\n        current "
            "process has finished its bootstrapping phase.\n\n        This probably means that you are not using fork "
            "to start your\n        child processes and you have forgotten to use the proper idiom\n        in the "
            "main module:",
            'if __name__ == "__main__":',
        ),
        (  # the spelling some reports quote; 2.0.1's libtorch_cuda.so string ("retrieving") below
            "RuntimeError: [1] is setting up NCCL communicator and retreiving ncclUniqueId from [0] via c10d "
            "key-value store by key '0', but store->get('0') got error: Connection reset by peer",
            "rank 0's output",
        ),
        (
            "torch.distributed.DistBackendError: [3] is setting up NCCL communicator and retrieving ncclUniqueId "
            "from [0] via c10d key-value store by key '0', but store->get('0') got error: Socket Timeout",
            "rank 0's output",
        ),
        (
            "RuntimeError: NCCL communicator was aborted on rank 1. Original reason for failure was: [Rank 1] "
            "Watchdog caught collective operation timeout: WorkNCCL(SeqNum=5, OpType=ALLREDUCE, Timeout(ms)=1800000) "
            "ran for 1800529 milliseconds before timing out.",
            "same collectives",
        ),
        ("RuntimeError: Distributed package doesn't have NCCL built in", 'backend="gloo"'),
    ],
)
def test_a_half_op_on_the_cpu_and_a_missing_process_group(text, words):
    _, fix = causes.match(text)
    assert words in fix
