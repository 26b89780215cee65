"""Tests for checks/diagnosis.py: a failure judged against the facts. Each fact is laid out in tmp_path as the real
artefact is (site-packages with dist-info, a library directory, /dev/shm's size), and each failure text is the one
torch or the loader prints (sources at each test)."""

import base64
import dataclasses
import hashlib
import shutil
import subprocess
import sys

import fakes
import pytest

from checks import diagnosis
from checks.machine import gpu_access, provenance, requirements, system

GIB = 1 << 30


def make_system(**changes):
    base = system.System(
        shm_bytes=16 * GIB,
        shm_free_bytes=16 * GIB,
        nofile=(65536, 65536),
        tempdir="/tmp",
        disk_free_bytes=100 * GIB,
        code_dirs=(
            system.CodeDir("torch.compile (inductor)", "/tmp/torchinductor_me", "TORCHINDUCTOR_CACHE_DIR", True, True),
        ),
        glibc="2.36",
        glibc_needed=("2.28", "libtorch_cpu.so"),
        hostname="node7",
        host_addresses=("10.0.0.5",),
        resolve_error=None,
    )
    return dataclasses.replace(base, **changes)


def site(tmp_path, name="env", torch_version="2.0.1", requires=()):
    """An environment prefix with site-packages holding torch (pip metadata with `requires`); returns (prefix, site)."""
    prefix = tmp_path / name
    packages = prefix / "lib" / "python3.10" / "site-packages"
    (packages / "torch" / "lib").mkdir(parents=True)
    (packages / "torch" / "__init__.py").write_text("")
    info = packages / ("torch-%s.dist-info" % torch_version)
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: torch\nVersion: %s\n%s\n"
        % (torch_version, "".join("Requires-Dist: %s\n" % r for r in requires))
    )
    (info / "INSTALLER").write_text("pip\n")
    (info / "RECORD").write_text("torch/__init__.py,,\n")
    return prefix, packages


def facts_for(monkeypatch, prefix, path, environ=None, **system_changes):
    monkeypatch.setattr(sys, "prefix", str(prefix))
    environ = environ or {}
    prov = provenance.Provenance(
        interpreter=str(prefix / "bin" / "python"),
        prefix=str(prefix),
        environment=str(prefix),
        foreign_interpreter=False,
        packages={n: provenance.package(n, [str(p) for p in path], str(prefix), environ) for n in provenance.PACKAGES},
    )
    return diagnosis.Facts(
        provenance=prov,
        requirements=requirements.collect(prov, path=[str(p) for p in path]),
        loader_inputs={k: v for k, v in environ.items() if k.startswith("LD_")},
        system=make_system(**system_changes),
    )


def test_a_torch_from_the_user_site_is_the_cause_whatever_it_raises(tmp_path, monkeypatch):
    """pip install --user puts a torch in ~/.local/lib/pythonX.Y/site-packages, imported before the environment's
    (site.ENABLE_USER_SITE); the fix names the copy to remove, not the error's text."""
    prefix, packages = site(tmp_path)
    user = tmp_path / "home" / ".local" / "lib" / "python3.10" / "site-packages"
    (user / "torch").mkdir(parents=True)
    (user / "torch" / "__init__.py").write_text("")
    monkeypatch.setattr(provenance.site, "getusersitepackages", lambda: str(user))
    found = facts_for(monkeypatch, prefix, [user, packages])
    cause = diagnosis.explain("ImportError: libtorch_cpu.so: cannot open shared object file", found)
    assert cause.fact == "torch imported from user site-packages"
    assert "pip uninstall --user torch" in cause.fix and "PYTHONNOUSERSITE" in cause.fix


def test_an_unmet_requirement_is_named_with_the_exact_install(tmp_path, monkeypatch):
    """torch 2.4's Requires-Dist pins `sympy` and a too-old sympy breaks its import with an AttributeError raised in
    sympy's files: the unmet pin, from the metadata, decides."""
    prefix, packages = site(tmp_path, torch_version="2.5.1", requires=["sympy (==1.13.1)"])
    (packages / "sympy").mkdir()
    (packages / "sympy-1.12.dist-info").mkdir()
    found = facts_for(monkeypatch, prefix, [packages])
    text = (
        "Traceback (most recent call last):\n"
        '  File "%s/sympy/core/numbers.py", line 10, in <module>\n'
        "AttributeError: module 'sympy' has no attribute 'printing'\n" % packages
    )
    cause = diagnosis.explain(text, found)
    assert cause.meaning == "an unmet requirement: torch 2.5.1 requires sympy==1.13.1 (pip metadata); installed: 1.12"
    assert cause.fix == 'python -m pip install "sympy==1.13.1"'


def test_a_library_on_ld_library_path_that_shadows_the_environment_s_is_the_cause(tmp_path, monkeypatch):
    """The environment has its own libnvJitLink.so.12 (the pip wheel's nvidia/nvjitlink/lib) but LD_LIBRARY_PATH puts
    a system CUDA's first; cuSPARSE then misses a symbol of the newer one (the loader's text)."""
    prefix, packages = site(tmp_path)
    own = packages / "nvidia" / "nvjitlink" / "lib"
    own.mkdir(parents=True)
    (own / "libnvJitLink.so.12").write_bytes(b"own")
    cuda = tmp_path / "usr" / "local" / "cuda-12.1" / "lib64"
    cuda.mkdir(parents=True)
    (cuda / "libnvJitLink.so.12").write_bytes(b"system")
    environ = {"LD_LIBRARY_PATH": str(cuda)}
    monkeypatch.setenv("LD_LIBRARY_PATH", str(cuda))
    found = facts_for(monkeypatch, prefix, [packages], environ)
    text = (
        "ImportError: %s/nvidia/cusparse/lib/libcusparse.so.12: undefined symbol: __nvJitLinkComplete_12_4, version "
        "libnvJitLink.so.12" % packages
    )
    cause = diagnosis.explain(text, found)
    assert cause.fact == "libnvJitLink.so.12 via LD_LIBRARY_PATH"
    assert "remove %s from LD_LIBRARY_PATH" % cuda in cause.fix


def test_a_glibc_older_than_the_build_needs(tmp_path, monkeypatch):
    """The loader's text when a library needs a newer glibc symbol version."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], glibc="2.17", glibc_needed=("2.28", "libtorch_cpu.so"))
    text = (
        "OSError: /lib64/libc.so.6: version `GLIBC_2.28' not found (required by %s/torch/lib/libtorch_cpu.so)"
        % packages
    )
    cause = diagnosis.explain(text, found)
    assert cause.meaning.startswith("this build needs glibc 2.28") and "the OS has glibc 2.17" in cause.meaning
    assert "reinstall" not in cause.fix


@pytest.mark.parametrize(
    "text, fact",
    [
        # aten/src/ATen/MapAllocator.cpp's message ("unable to write to file <"), as a worker re-raises it
        (
            "RuntimeError: unable to write to file </torch_18692_1954506624>: No space left on device (28)",
            "/dev/shm 64.0 MiB",
        ),
        # torch/utils/data/dataloader.py's message for a worker killed by SIGBUS (libtorch_python's format string)
        ("RuntimeError: DataLoader worker (pid 4242) is killed by signal: Bus error. ", "/dev/shm 64.0 MiB"),
    ],
)
def test_shared_memory_too_small(tmp_path, monkeypatch, text, fact):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], shm_bytes=64 << 20, shm_free_bytes=0)
    cause = diagnosis.explain(text, found)
    assert cause.fact == fact and "--shm-size" in cause.fix


def test_too_many_open_files_names_the_limit(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], nofile=(1024, 524288))
    cause = diagnosis.explain("OSError: [Errno 24] Too many open files", found)
    assert cause.fact == "RLIMIT_NOFILE soft 1024, hard 524288" and "ulimit -n 524288" in cause.fix


def test_a_noexec_code_directory(tmp_path, monkeypatch):
    """The loader's text for a shared object on a `noexec` mount."""
    prefix, packages = site(tmp_path)
    code = system.CodeDir("triton", "/tmp/triton", "TRITON_CACHE_DIR", True, False)
    found = facts_for(monkeypatch, prefix, [packages], code_dirs=(code,))
    text = "ImportError: /tmp/triton/abc/cuda_utils.so: failed to map segment from shared object"
    cause = diagnosis.explain(text, found)
    assert cause.fact == "/tmp/triton on a noexec mount" and "TRITON_CACHE_DIR" in cause.fix


def test_torch_s_own_remedy_is_kept(tmp_path, monkeypatch):
    """A message of torch's that names its cause and a remedy (torch/utils/data/dataloader.py, 2.0.1 to 2.13)."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    text = (
        "RuntimeError: Too many open files. Communication with the workers is no longer possible. Please increase the"
        " limit using `ulimit -n` in the shell or change the sharing strategy by calling "
        "`torch.multiprocessing.set_sharing_strategy('file_system')` at the beginning of your code"
    )
    cause = diagnosis.explain(text, dataclasses.replace(found, system=make_system(nofile=None)))
    assert cause.fact == "torch's own message" and cause.fix.startswith("Please increase the limit using `ulimit -n`")


def test_an_unrecognised_error_says_so_and_never_says_reinstall(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain("RuntimeError: something nobody has seen before", found)
    assert not cause.recognised and cause.meaning.startswith("not recognised: RuntimeError: something nobody")
    assert "--json" in cause.fix and "reinstall" not in cause.fix


def test_an_error_quoting_a_variable_s_value_names_the_variable(tmp_path, monkeypatch):
    """c10's CachingAllocator refuses an option it does not know (`Unrecognized CachingAllocator option:
    expandable_segments`, torch 2.0.1; ZhengPeng7/BiRefNet#179): the option comes from PYTORCH_CUDA_ALLOC_CONF."""
    prefix, packages = site(tmp_path)
    found = dataclasses.replace(
        facts_for(monkeypatch, prefix, [packages]), variables={"PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True"}
    )
    cause = diagnosis.explain("RuntimeError: Unrecognized CachingAllocator option: expandable_segments", found)
    assert cause.rule == "variable" and cause.fact == "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True"
    assert cause.fix.startswith("remove expandable_segments from PYTORCH_CUDA_ALLOC_CONF")


@pytest.mark.parametrize(
    "text, library",
    [
        # torch's check of the cuDNN it loaded (pytorch/pytorch#80637, before #80877 reworded it)
        (
            "RuntimeError: cuDNN version incompatibility: PyTorch was compiled against (8, 3, 2) but linked against "
            "(8, 0, 3)",
            "libcudnn.so.8",
        ),
        # a self-built libtorch's libraries on the loader path (pytorch/pytorch#137247)
        ("AttributeError: module 'torch._C' has no attribute 'OutOfMemoryError'", "libc10.so"),
    ],
)
def test_a_loader_path_directory_with_the_environment_s_libraries(tmp_path, monkeypatch, text, library):
    prefix, packages = site(tmp_path)
    (packages / "torch" / "lib" / "libc10.so").write_bytes(b"own")
    cudnn = packages / "nvidia" / "cudnn" / "lib"
    cudnn.mkdir(parents=True)
    (cudnn / "libcudnn.so.8").write_bytes(b"own")
    other = tmp_path / "apps" / "lib64"
    other.mkdir(parents=True)
    for name in ("libcudnn.so.8", "libc10.so"):
        (other / name).write_bytes(b"theirs")
    found = facts_for(monkeypatch, prefix, [packages], {"LD_LIBRARY_PATH": str(other)})
    cause = diagnosis.explain(text, found)
    assert cause.rule == "loader-path" and cause.fact == "%s in LD_LIBRARY_PATH, also in the environment" % library
    assert cause.fix.startswith("remove %s from LD_LIBRARY_PATH" % other)


def test_an_unrelated_failure_does_not_blame_the_loader_path(tmp_path, monkeypatch):
    """A cuDNN copy on LD_LIBRARY_PATH is no cause of an error about something else."""
    prefix, packages = site(tmp_path)
    cudnn = packages / "nvidia" / "cudnn" / "lib"
    cudnn.mkdir(parents=True)
    (cudnn / "libcudnn.so.8").write_bytes(b"own")
    other = tmp_path / "apps"
    other.mkdir()
    (other / "libcudnn.so.8").write_bytes(b"theirs")
    found = facts_for(monkeypatch, prefix, [packages], {"LD_LIBRARY_PATH": str(other)})
    assert diagnosis.explain("ValueError: expected 4D input (got 3D input)", found).rule != "loader-path"


def test_a_pre_release_in_torch_s_dependencies(tmp_path, monkeypatch):
    """mpmath 1.4.0a0 beside sympy (sympy/sympy#26273: `module 'mpmath' has no attribute 'rational'`); sympy's own
    pin is met by a pre-release, so the pre-release itself is the fact."""
    prefix, packages = site(tmp_path, requires=["sympy"])
    for name, version, requires in (("sympy", "1.12", ["mpmath (>=0.19)"]), ("mpmath", "1.4.0a0", [])):
        info = packages / ("%s-%s.dist-info" % (name, version))
        info.mkdir()
        lines = "".join("Requires-Dist: %s\n" % r for r in requires)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s\n" % (name, version, lines))
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain("AttributeError: module 'mpmath' has no attribute 'rational'", found)
    assert cause.fact == "mpmath 1.4.0a0 (pre-release)" and cause.fix.startswith('python -m pip install "mpmath<1.4"')


def test_torchaudio_from_another_conda_channel_than_torch(tmp_path, monkeypatch):
    """pytorch/audio#3335: torch from Anaconda's defaults (pkgs/main), torchaudio from the pytorch channel; the
    records are the ones conda writes (channel URL with the subdir)."""
    prefix, packages = site(tmp_path)
    meta = prefix / "conda-meta"
    meta.mkdir()
    (meta / "pytorch-2.0.1-cpu_py310h92724a6_0.json").write_text(
        '{"name": "pytorch", "version": "2.0.1", "channel": "https://repo.anaconda.com/pkgs/main/linux-64"}'
    )
    (meta / "torchaudio-2.0.2-py310_cpu.json").write_text(
        '{"name": "torchaudio", "version": "2.0.2", "channel": "https://conda.anaconda.org/pytorch/linux-64"}'
    )
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    found = facts_for(monkeypatch, prefix, [packages])
    text = (
        "OSError: %s/torchaudio/lib/libtorchaudio.so: undefined symbol: _ZNK5torch8autograd4Node4nameB5cxx11Ev"
        % packages
    )
    cause = diagnosis.explain(text, found)
    assert cause.fact == "torch from pkgs/main, torchaudio from pytorch" and "one channel" in cause.fix


def test_a_symbol_version_provider_taken_from_ld_library_path(tmp_path, monkeypatch):
    """infiniflow/ragflow#4466: the wheel's libcusparse needs a newer libnvJitLink than the CUDA 12.1 toolkit's that
    LD_LIBRARY_PATH puts first (`ldd` in the thread shows the resolution)."""
    prefix, packages = site(tmp_path)
    cuda = tmp_path / "usr" / "local" / "cuda-12.1" / "lib64"
    cuda.mkdir(parents=True)
    (cuda / "libnvJitLink.so.12").write_bytes(b"toolkit")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(cuda))
    found = facts_for(monkeypatch, prefix, [packages], {"LD_LIBRARY_PATH": str(cuda)})
    text = (
        "ImportError: %s/nvidia/cusparse/lib/libcusparse.so.12: undefined symbol: __nvJitLinkAddData_12_1, version "
        "libnvJitLink.so.12" % packages
    )
    cause = diagnosis.explain(text, found)
    assert cause.fact == "libnvJitLink.so.12 via LD_LIBRARY_PATH" and cause.fix.startswith("remove %s" % cuda)


@pytest.mark.parametrize(
    "text, variables, fix",
    [
        # mkl-service's refusal (pytorch/ort#102): the variable is the fact, the stable text's fix is the fix
        (
            "Error: mkl-service + Intel(R) MKL: MKL_THREADING_LAYER=INTEL is incompatible with libgomp.so.1 library.",
            {"MKL_THREADING_LAYER": "INTEL"},
            "MKL_THREADING_LAYER=GNU",
        ),
        # glibc's static TLS (AmpereComputingAI/ampere_model_library#161): preload the library it names
        (
            "OSError: /env/site-packages/torch/lib/libgomp-d22c30c5.so.1: cannot allocate memory in static TLS block",
            {},
            "LD_PRELOAD=/env/site-packages/torch/lib/libgomp-d22c30c5.so.1",
        ),
    ],
)
def test_stable_texts_keep_their_own_fix(tmp_path, monkeypatch, text, variables, fix):
    prefix, packages = site(tmp_path)
    found = dataclasses.replace(facts_for(monkeypatch, prefix, [packages]), variables=variables)
    assert fix in diagnosis.explain(text, found).fix


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/dev/shm is Linux's")
def test_no_dev_shm_at_all(tmp_path, monkeypatch):
    """A sandbox without /dev/shm (AWS Lambda's): DataLoader workers fail in multiprocessing; the missing mount,
    a fact, decides."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], shm_bytes=None, shm_free_bytes=None)
    text = (
        '  File "/usr/lib/python3.11/multiprocessing/synchronize.py", line 57, in __init__\n'
        "FileNotFoundError: [Errno 2] No such file or directory\n"
    )
    cause = diagnosis.explain(text, found)
    assert cause.fact == "/dev/shm missing" and "num_workers=0" in cause.fix
    assert any("no /dev/shm" in p.what for p in system.problems(found.system))


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


# torch/__init__.py (v2.1 to v2.13) when `torch._C` resolves to the wheel's torch/_C folder of stubs
TORCH_C_FOLDER = (
    "Traceback (most recent call last):\n"
    '  File "<string>", line 1, in <module>\n'
    '  File "%s/torch/__init__.py", line 442, in <module>\n'
    "    raise ImportError(\n"
    "ImportError: \n"
    "Failed to load PyTorch C extensions:\n"
    "    It appears that PyTorch has loaded the `torch/_C` folder\n"
    "    of the PyTorch repository rather than the C extensions which\n"
    "    are expected in the `torch._C` namespace.\n"
)
CP35_WHEEL = (
    "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.29.0)\nRoot-Is-Purelib: false\nTag: cp35-cp35m-linux_x86_64\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux extension's file name")
@pytest.mark.parametrize("text", [TORCH_C_FOLDER, "ModuleNotFoundError: No module named 'torch._C'\n"])
def test_an_extension_built_for_another_python_names_the_wheel_to_install(tmp_path, monkeypatch, text):
    """pytorch/pytorch#574: a cp35 wheel renamed to install on another Python leaves _C.cpython-35m-...so, which
    this interpreter never loads (EXTENSION_SUFFIXES), and a WHEEL Tag for cp35: install the build for this
    Python, at the installed version (torch 0.1.x said "No module named 'torch._C'", 2.x its own text)."""
    prefix, packages = site(tmp_path, torch_version="2.13.0+cpu")
    (packages / "torch" / "_C").mkdir()
    (packages / "torch" / "_C.cpython-35m-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    (packages / "torch-2.13.0+cpu.dist-info" / "WHEEL").write_text(CP35_WHEEL)
    monkeypatch.setattr(sys, "path", [str(packages)])
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain(text.replace("%s", str(packages)), found)
    python = "cp%d%d" % sys.version_info[:2]
    assert cause.rule == "extension"
    assert "_C.cpython-35m-x86_64-linux-gnu.so, built for Python 3.5" in cause.meaning
    assert "WHEEL says cp35-cp35m-linux_x86_64" in cause.meaning
    assert python in cause.fix and "rename" not in cause.fix.replace("never a renamed wheel", "")
    assert cause.fix.endswith(
        '`python -m pip install --force-reinstall --no-deps "torch==2.13.0+cpu" '
        "--index-url https://download.pytorch.org/whl/cpu`"
    )


def test_an_extension_its_record_lists_but_that_is_gone_is_an_incomplete_install(tmp_path, monkeypatch):
    """No _C file at all, though the install's RECORD lists one: the installed files differ from what was
    installed, the one fact that makes reinstalling the fix."""
    prefix, packages = site(tmp_path, torch_version="2.0.1")
    record = packages / "torch-2.0.1.dist-info" / "RECORD"
    record.write_text("torch/__init__.py,,\ntorch/_C.cpython-311-x86_64-linux-gnu.so,sha256=AAAA,38000\n")
    monkeypatch.setattr(sys, "path", [str(packages)])
    cause = diagnosis.explain(
        "ModuleNotFoundError: No module named 'torch._C'", facts_for(monkeypatch, prefix, [packages])
    )
    assert cause.rule == "extension" and "installed incompletely" in cause.meaning
    assert cause.fix == '`python -m pip install --force-reinstall --no-deps "torch==2.0.1"`'


def test_a_source_checkout_without_built_extensions_says_so(tmp_path, monkeypatch):
    """A torch source tree (setup.py beside torch/, no .dist-info) whose extensions were never built, imported as
    the environment's (an editable install that failed to build): build in place, or take it off sys.path."""
    checkout = tmp_path / "pytorch"
    (checkout / "torch" / "_C").mkdir(parents=True)
    (checkout / "torch" / "__init__.py").write_text("")
    (checkout / "setup.py").write_text("from setuptools import setup\n")
    prefix, packages = site(tmp_path)
    monkeypatch.setattr(sys, "path", [str(checkout), str(packages)])
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.by_extension(diagnosis.parse(TORCH_C_FOLDER % checkout), found)
    assert cause is not None and cause.meaning.startswith("%s is a source checkout" % checkout)
    assert "pip install -e ." in cause.fix


def _jinja_and_markupsafe(tmp_path, monkeypatch, declared="MarkupSafe (>=0.23)", markupsafe="2.1.5"):
    """An environment with Jinja2 2.11.3 and a user site with MarkupSafe (pallets/jinja#1658 as
    hiyouga/LlamaFactory#4852 met it); returns (facts, traceback text)."""
    prefix, packages = site(tmp_path, torch_version="2.13.0")
    (packages / "jinja2").mkdir()
    (packages / "jinja2" / "__init__.py").write_text("")
    (packages / "jinja2" / "filters.py").write_text("from markupsafe import soft_unicode\n")
    info = packages / "Jinja2-2.11.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.11.3\nRequires-Dist: %s\n"
        "Requires-Dist: Babel (>=0.8) ; extra == 'i18n'\n\nJinja is a fast templating engine.\n" % declared
    )
    (info / "RECORD").write_text("jinja2/__init__.py,sha256=AAAA,1549\njinja2/filters.py,sha256=AAAA,41415\n")
    user = tmp_path / "home" / ".local" / "lib" / "python3.10" / "site-packages"
    (user / "markupsafe").mkdir(parents=True)
    (user / "markupsafe" / "__init__.py").write_text("")
    info = user / ("MarkupSafe-%s.dist-info" % markupsafe)
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: MarkupSafe\nVersion: %s\n" % markupsafe)
    (info / "RECORD").write_text("markupsafe/__init__.py,sha256=AAAA,10367\n")
    monkeypatch.setattr(provenance.site, "getusersitepackages", lambda: str(user))
    monkeypatch.setattr(sys, "path", [str(user), str(packages)])
    text = (
        "Traceback (most recent call last):\n"
        '  File "/src/checks/verify/install.py", line 190, in check_dependencies\n'
        "    importlib.import_module(module)\n"
        '  File "<frozen importlib._bootstrap>", line 1204, in _gcd_import\n'
        '  File "%s/jinja2/__init__.py", line 12, in <module>\n'
        "    from .filters import FILTERS\n"
        '  File "%s/jinja2/filters.py", line 13, in <module>\n'
        "    from markupsafe import soft_unicode\n"
        "ImportError: cannot import name 'soft_unicode' from 'markupsafe' (%s/markupsafe/__init__.py)\n"
        % (packages, packages, user)
    )
    return facts_for(monkeypatch, prefix, [user, packages]), text


def test_two_installed_packages_whose_apis_do_not_meet_are_both_named(tmp_path, monkeypatch):
    """Jinja2 2.11.3 imports soft_unicode, which MarkupSafe 2.1 removed; Jinja2 declares only MarkupSafe>=0.23, so
    pip is satisfied: the pair, their versions and locations, and the fixes (upgrade the importer, pin the provider
    below the installed release, remove the user-site copy)."""
    pytest.importorskip("packaging")
    found, text = _jinja_and_markupsafe(tmp_path, monkeypatch)
    cause = diagnosis.explain(text, found)
    assert cause.rule == "pair"
    assert "Jinja2 2.11.3" in cause.meaning and "MarkupSafe 2.1.5" in cause.meaning
    assert "MarkupSafe>=0.23 is met" in cause.meaning and "a mixed install" in cause.meaning
    assert "`python -m pip install -U Jinja2`" in cause.fix
    assert '`python -m pip install "MarkupSafe<2.1.5"`' in cause.fix
    assert "pip uninstall --user MarkupSafe" in cause.fix
    assert "reinstall" not in cause.fix


def test_an_importer_s_unmet_requirement_is_named_with_its_install(tmp_path, monkeypatch):
    """The importer declares a MarkupSafe the installed one does not meet: the declared requirement decides."""
    pytest.importorskip("packaging")
    found, text = _jinja_and_markupsafe(tmp_path, monkeypatch, declared="MarkupSafe (<2.1)")
    cause = diagnosis.explain(text, found)
    assert cause.rule == "pair" and cause.meaning.startswith("an unmet requirement: Jinja2 2.11.3")
    assert cause.fix.startswith('python -m pip install "MarkupSafe<2.1"')


@pytest.mark.parametrize(
    "line",
    [
        # Python/ceval.c import_from, a circular import: not two packages' APIs
        "ImportError: cannot import name 'soft_unicode' from partially initialized module 'markupsafe' (most likely "
        "due to a circular import) (%s/markupsafe/__init__.py)",
        # a module no .dist-info installed (a stdlib module, a loose file): nothing to pair
        "AttributeError: module 'dis' has no attribute 'Bytecode'",
    ],
)
def test_what_is_not_two_installed_packages_is_not_judged_as_a_pair(tmp_path, monkeypatch, line):
    found, text = _jinja_and_markupsafe(tmp_path, monkeypatch)
    text = text.rsplit("\n", 2)[0] + "\n" + (line % "/x" if "%s" in line else line) + "\n"
    assert diagnosis.explain(text, found).rule != "pair"


def test_a_missing_pure_python_module_of_a_checkout_is_not_called_an_unbuilt_extension(tmp_path, monkeypatch):
    """`No module named 'torch._six'` (a module a release removed) in a source checkout says nothing about its
    compiled extensions: nothing shows the module is one (no stub, not torch's C-extension message)."""
    checkout = tmp_path / "pytorch"
    (checkout / "torch").mkdir(parents=True)
    (checkout / "torch" / "__init__.py").write_text("")
    (checkout / "setup.py").write_text("from setuptools import setup\n")
    prefix, packages = site(tmp_path)
    monkeypatch.setattr(sys, "path", [str(checkout), str(packages)])
    found = facts_for(monkeypatch, prefix, [packages])
    assert diagnosis.by_extension(diagnosis.parse("ModuleNotFoundError: No module named 'torch._six'"), found) is None


def test_every_fact_rule_is_one_of_explain_s_rules():
    """diagnosis.FACT_RULES (what dist trusts over its general advice) names rules explain() runs, in its order."""
    import inspect

    source = inspect.getsource(diagnosis.explain)
    order = [source.index('("%s",' % name) for name in diagnosis.FACT_RULES]
    assert order == sorted(order)


LINUX_GCC = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="needs Linux and gcc to build ELF files"
)


def gcc_library(out, *flags, source="int f(void) { return 1; }\n"):
    """Build a shared library at `out` with gcc and the linker `flags`; return its path as a str."""
    c = out.parent / (out.name + ".c")
    c.write_text(source)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(c), *flags], check=True)
    c.unlink()
    return str(out)


def record(packages, *relatives):
    """torch's RECORD lines (path,sha256=...,size) for files under `packages`, as pip writes them."""
    lines = []
    for relative in relatives:
        data = (packages / relative).read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append("%s,sha256=%s,%d\n" % (relative, digest, len(data)))
    (packages / "torch-2.0.1.dist-info" / "RECORD").write_text("".join(lines) + "torch/__init__.py,,\n")


@LINUX_GCC
def test_a_library_shorter_than_its_record_is_a_broken_install(tmp_path, monkeypatch):
    """pytorch/pytorch#1264: "libTHC.so.1: cannot read file data" (glibc open_verify) for a truncated download; the
    RECORD's size against the file's is the fact, the reinstall bypasses the cache that may hold the same file."""
    prefix, packages = site(tmp_path)
    library = gcc_library(packages / "torch" / "lib" / "libtorch_cpu.so")
    record(packages, "torch/lib/libtorch_cpu.so")
    whole = (packages / "torch" / "lib" / "libtorch_cpu.so").read_bytes()
    (packages / "torch" / "lib" / "libtorch_cpu.so").write_bytes(whole[:300])
    cause = diagnosis.explain(
        "ImportError: %s: cannot read file data" % library, facts_for(monkeypatch, prefix, [packages])
    )
    assert cause.rule == "load" and "300 bytes where torch 2.0.1's RECORD promises %d" % len(whole) in cause.fact
    assert cause.fix == 'python -m pip install --force-reinstall --no-deps --no-cache-dir "torch==2.0.1"'


@LINUX_GCC
def test_a_library_as_its_record_promises_is_not_blamed_on_the_install(tmp_path, monkeypatch):
    """The same message for a file whose size is the RECORD's and whose headers are whole: nothing shows the install
    differs, so no reinstall is offered (the rule that decides nothing says so)."""
    prefix, packages = site(tmp_path)
    library = gcc_library(packages / "torch" / "lib" / "libtorch_cpu.so")
    record(packages, "torch/lib/libtorch_cpu.so")
    cause = diagnosis.explain(
        "ImportError: %s: cannot read file data" % library, facts_for(monkeypatch, prefix, [packages])
    )
    assert not cause.recognised and "reinstall" not in cause.fix


def test_a_git_lfs_pointer_in_place_of_a_library_is_named(tmp_path, monkeypatch):
    """ "invalid ELF header" (glibc open_verify: no ELF magic) for a file no record lists: what the file is decides."""
    prefix, packages = site(tmp_path)
    pointer = packages / "torch" / "lib" / "libcustom.so"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 1024\n" % ("0" * 64))
    cause = diagnosis.explain("OSError: %s: invalid ELF header" % pointer, facts_for(monkeypatch, prefix, [packages]))
    assert "Git LFS pointer" in cause.meaning and "no package record lists it" in cause.fix


@LINUX_GCC
@pytest.mark.parametrize(
    "glibc, reason, says, fix",
    [
        # glibc 2.41 NEWS: dlopen no longer makes the stack executable (conda-forge/pytorch-cpu-feedstock#350)
        ("2.41", "Invalid argument", "glibc 2.41 refuses to dlopen such a library", "glibc.rtld.execstack=2"),
        # before 2.41 the loader's mprotect of the stack can be refused by a security policy
        ("2.36", "Permission denied", "the kernel refused to make the stack executable", "patchelf --clear-execstack"),
    ],
)
def test_an_object_that_asks_for_an_executable_stack(tmp_path, monkeypatch, glibc, reason, says, fix):
    prefix, packages = site(tmp_path)
    library = gcc_library(packages / "torch" / "lib" / "libtorch_cpu.so", "-Wl,-z,execstack")
    record(packages, "torch/lib/libtorch_cpu.so")
    text = "ImportError: libtorch_cpu.so: cannot enable executable stack as shared object requires: %s" % reason
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages], glibc=glibc))
    assert says in cause.meaning and "its PT_GNU_STACK asks for one (RWE)" in cause.meaning
    assert fix in cause.fix and "patchelf --clear-execstack` on %s" % library in cause.fix
    assert "python -m pip install -U torch" in cause.fix
    assert ("glibc.rtld.execstack=2" in cause.fix) == (glibc == "2.41")


@LINUX_GCC
def test_the_loader_s_word_stands_when_the_copy_read_asks_for_no_executable_stack(tmp_path, monkeypatch):
    """The message is evidence that the object the loader opened asks for an executable stack; a copy here that
    does not is another file, and the verdict says so instead of blaming it."""
    prefix, packages = site(tmp_path)
    gcc_library(packages / "torch" / "lib" / "libtorch_cpu.so", "-Wl,-z,noexecstack")
    text = "ImportError: libtorch_cpu.so: cannot enable executable stack as shared object requires: Invalid argument"
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages], glibc="2.41"))
    assert "asks for none (PT_GNU_STACK RW)" in cause.meaning and "LD_DEBUG=files" in cause.fix
    assert cause.fact.endswith("PT_GNU_STACK RW")


@LINUX_GCC
def test_a_32_bit_library_on_the_loader_path_is_named(tmp_path, monkeypatch):
    """glibc's _dl_map_object: only files of the other class were found -> "wrong ELF class: ELFCLASS32"."""
    prefix, packages = site(tmp_path)
    other = tmp_path / "opt" / "lib32"
    other.mkdir(parents=True)
    source = other / "x.c"
    source.write_text("int f(void) { return 1; }\n")
    built = subprocess.run(
        ["gcc", "-m32", "-shared", "-nostdlib", "-fPIC", "-o", str(other / "libfoo.so"), str(source)],
        stderr=subprocess.PIPE,
    )
    if built.returncode != 0:
        pytest.skip("gcc cannot build 32-bit objects here")
    environ = {"LD_LIBRARY_PATH": str(other)}
    monkeypatch.setenv("LD_LIBRARY_PATH", str(other))
    cause = diagnosis.explain(
        "OSError: libfoo.so: wrong ELF class: ELFCLASS32", facts_for(monkeypatch, prefix, [packages], environ)
    )
    assert "32-bit i386 library" in cause.meaning and cause.fix.startswith("remove %s from LD_LIBRARY_PATH" % other)


@LINUX_GCC
@pytest.mark.parametrize(
    "conda, fix",
    [(False, "`python -m pip install intel-openmp`"), (True, "`conda install -c conda-forge intel-openmp`")],
)
def test_a_library_no_package_provides_names_who_needs_it_and_who_provides_it(tmp_path, monkeypatch, conda, fix):
    """pytorch/pytorch#936: a wheel linked against Intel's libiomp5.so that neither ships nor declares it. The
    environment's libraries' DT_NEEDED name the one that needs it; the provider's install fits the environment."""
    prefix, packages = site(tmp_path)
    if conda:
        (prefix / "conda-meta").mkdir()
    stub = tmp_path / "stub"
    stub.mkdir()
    gcc_library(stub / "libiomp5.so")
    gcc_library(packages / "torch" / "lib" / "libtorch_cpu.so", "-L%s" % stub, "-Wl,--no-as-needed", "-liomp5")
    record(packages, "torch/lib/libtorch_cpu.so")
    (stub / "libiomp5.so").unlink()
    text = "ImportError: libiomp5.so: cannot open shared object file: No such file or directory"
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert "(Intel's OpenMP runtime, needed by libtorch_cpu.so)" in cause.meaning
    assert "torch 2.0.1 ships libtorch_cpu.so, which needs it, but not libiomp5.so" in cause.meaning
    assert fix in cause.fix and "LD_PRELOAD" not in cause.fix


@LINUX_GCC
def test_an_undefined_symbol_of_a_library_family_on_ld_library_path(tmp_path, monkeypatch):
    """intel/ipex-llm#12141: oneAPI 2024.2's MKL, put on LD_LIBRARY_PATH by setvars.sh, lacks iJIT_NotifyEvent;
    without such a directory the stable text's own fix (pin mkl) stands (pytorch/pytorch#123097)."""
    prefix, packages = site(tmp_path)
    mkl = tmp_path / "opt" / "intel" / "oneapi" / "mkl" / "2024.2" / "lib"
    mkl.mkdir(parents=True)
    gcc_library(mkl / "libmkl_core.so.2.2024.2")
    (mkl / "libmkl_core.so.2").symlink_to("libmkl_core.so.2.2024.2")
    text = "ImportError: %s/torch/lib/libtorch_cpu.so: undefined symbol: iJIT_NotifyEvent" % packages
    monkeypatch.setenv("LD_LIBRARY_PATH", str(mkl))
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages], {"LD_LIBRARY_PATH": str(mkl)}))
    assert cause.fact == "libmkl_core.so.2 in LD_LIBRARY_PATH" and "remove %s" % mkl in cause.fix
    monkeypatch.delenv("LD_LIBRARY_PATH")
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "table" and "mkl<2024.1" in cause.fix


# torchvision/datasets/mnist.py imports lzma (pytorch/vision#2921; lucidrains/imagen-pytorch#92):
LZMA_TRACEBACK = """Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/torchvision/datasets/mnist.py", line 11, in <module>
    import lzma
  File "/home/u/.pyenv/versions/3.11.7/lib/python3.11/lzma.py", line 27, in <module>
    from _lzma import *
ModuleNotFoundError: No module named '_lzma'"""


def test_a_python_built_without_liblzma_is_the_cause_not_a_pip_package(tmp_path, monkeypatch):
    """_lzma is an optional extension of CPython's standard library, absent from this interpreter's lib-dynload:
    the interpreter must be rebuilt with liblzma's headers; no pip install provides it."""
    from checks.machine import interpreter

    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    build = interpreter.InterpreterBuild(
        version="3.11.7", base_prefix="/home/u/.pyenv/versions/3.11.7", origin="pyenv", dynload="/x", missing=("_lzma",)
    )
    cause = diagnosis.explain(LZMA_TRACEBACK, dataclasses.replace(found, interpreter=build))
    assert cause.rule == "stdlib"
    assert "liblzma-dev" in cause.fix and "xz-devel" in cause.fix and "pyenv install --force 3.11.7" in cause.fix
    assert "pip install" not in cause.fix


def test_a_missing_module_the_interpreter_has_is_not_blamed_on_its_build(tmp_path, monkeypatch):
    """The same text where the interpreter has _lzma (e.g. a stdlib shadow broke it): the stdlib rule stays out."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    assert diagnosis.explain(LZMA_TRACEBACK, found).rule != "stdlib"


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


# numpy/_core/__init__.py (numpy 2.x) when its extension does not import, after CPython's own ModuleNotFoundError
NUMPY_C_EXTENSIONS = (
    "Traceback (most recent call last):\n"
    '  File "%s/numpy/_core/__init__.py", line 23, in <module>\n'
    "    from . import multiarray\n"
    "ModuleNotFoundError: No module named 'numpy._core._multiarray_umath'\n\n"
    "During handling of the above exception, another exception occurred:\n\n"
    "ImportError: \n\nIMPORTANT: PLEASE READ THIS FOR ADVICE ON HOW TO SOLVE THIS ISSUE!\n\n"
    "Importing the numpy C-extensions failed. This error can happen for\nmany reasons, often due to issues with your "
    "setup or how NumPy was\ninstalled.\nThe following compiled module files exist, but seem incompatible\n"
    "with with either python 'cpython-311' or the platform 'linux':\n\n  * _multiarray_umath.x86_64-linux-gnu.so\n"
)


def ros_facts(tmp_path, monkeypatch):
    """ROS 1's setup.bash: PYTHONPATH=/opt/ros/<distro>/lib/python2.7/dist-packages, ROS_DISTRO, CMAKE_PREFIX_PATH;
    its numpy carries Debian's Python 2.7 extension names (`*.x86_64-linux-gnu.so`)."""
    prefix, packages = site(tmp_path)
    ros = tmp_path / "opt" / "ros" / "melodic" / "lib" / "python2.7" / "dist-packages"
    (ros / "numpy" / "_core").mkdir(parents=True)
    (ros / "numpy" / "__init__.py").write_text("")
    (ros / "numpy" / "_core" / "__init__.py").write_text("")
    (ros / "numpy" / "_core" / "_multiarray_umath.x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    (ros / "rospkg").mkdir()
    (ros / "rospkg" / "__init__.py").write_text("")
    environ = {
        "PYTHONPATH": str(ros),
        "ROS_DISTRO": "melodic",
        "CMAKE_PREFIX_PATH": str(tmp_path / "opt" / "ros" / "melodic"),
    }
    monkeypatch.setattr(sys, "path", [str(ros), str(packages)])
    found = facts_for(monkeypatch, prefix, [ros, packages], environ)
    prov = dataclasses.replace(found.provenance, foreign_paths=provenance.foreign_paths(environ, (3, 11)))
    return dataclasses.replace(found, provenance=prov), ros


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux extension's file name")
def test_a_module_from_another_python_s_pythonpath_entry_names_the_entry(tmp_path, monkeypatch):
    """DexaiRobotics/drake-torch#73: sourcing ROS puts python2.7/dist-packages first on PYTHONPATH; the failing
    numpy is that entry's. The extension rule's finding (files for another interpreter) is kept, the entry is why."""
    found, ros = ros_facts(tmp_path, monkeypatch)
    cause = diagnosis.explain(NUMPY_C_EXTENSIONS % ros, found)
    assert cause.rule == "foreign-path"
    assert cause.meaning.startswith("PYTHONPATH holds %s, packages for Python 2.7 (ROS's setup script" % ros)
    assert "numpy is imported from there" in cause.meaning and "built for another interpreter" in cause.meaning
    assert "`unset PYTHONPATH`" in cause.fix and "drop %s from PYTHONPATH after sourcing ROS" % ros in cause.fix
    assert "pip install" not in cause.fix


def test_a_python_2_source_file_on_pythonpath_names_the_entry(tmp_path, monkeypatch):
    """Python 2 syntax in a file from that entry (CPython 3's SyntaxError text for a print statement)."""
    found, ros = ros_facts(tmp_path, monkeypatch)
    text = (
        '  File "%s/rospkg/os_detect.py", line 12\n    print "ok"\n    ^^^^^^^^^^\n'
        "SyntaxError: Missing parentheses in call to 'print'. Did you mean print(...)?" % ros
    )
    cause = diagnosis.explain(text, found)
    assert cause.rule == "foreign-path" and "rospkg is imported from there" in cause.meaning


def test_a_failure_of_a_module_not_on_the_foreign_entry_is_judged_as_before(tmp_path, monkeypatch):
    found, ros = ros_facts(tmp_path, monkeypatch)
    cause = diagnosis.explain("ModuleNotFoundError: No module named 'yaml'", found)
    assert cause.rule != "foreign-path"


# CPython's Modules/_threadmodule.c, libgomp's team.c, os.fork's OSError: all EAGAIN from clone()/fork()
@pytest.mark.parametrize(
    "text",
    [
        "RuntimeError: can't start new thread",
        "libgomp: Thread creation failed: Resource temporarily unavailable",
        "BlockingIOError: [Errno 11] Resource temporarily unavailable",
    ],
)
def test_a_thread_that_cannot_start_under_a_low_pids_limit(tmp_path, monkeypatch, text):
    """vast-ai/base-image#214: pids.max counts threads; torch's pools exhaust it and pthread_create fails."""
    prefix, packages = site(tmp_path)
    pids = system.PidsLimit(1024, 1020, "/sys/fs/cgroup/docker-4f3c.scope", 2)
    found = facts_for(monkeypatch, prefix, [packages], pids=pids, threads=384)
    cause = diagnosis.explain(text, found)
    assert cause.rule == "system" and "pids.max is 1024 (1020 in use)" in cause.meaning
    assert "--pids-limit=" in cause.fix and "OMP_NUM_THREADS=" in cause.fix
    assert cause.fact == "pids.max 1024, pids.current 1020 in /sys/fs/cgroup/docker-4f3c.scope"


def test_eagain_without_a_short_pids_limit_is_not_blamed_on_it(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    roomy = system.PidsLimit(100000, 50, "/sys/fs/cgroup/user.slice", 2)
    for pids in (None, roomy):
        found = facts_for(monkeypatch, prefix, [packages], pids=pids, threads=8)
        cause = diagnosis.explain("RuntimeError: can't start new thread", found)
        assert "pids" not in cause.meaning


@pytest.mark.parametrize(
    "text",
    [
        "OSError: [Errno 30] Read-only file system: '/home/u/.cache/torch/hub'",
        "PermissionError: [Errno 13] Permission denied: '/home/u/.cache/torch/hub/checkpoints'",
    ],
)
def test_an_unwritable_torch_cache_is_fixed_with_torch_home(tmp_path, monkeypatch, text):
    """twosixlabs/armory#779: torch.hub writes under ~/.cache/torch when neither TORCH_HOME nor XDG_CACHE_HOME is
    set (torch/hub.py _get_torch_home); HOME not writable."""
    prefix, packages = site(tmp_path)
    cache = system.CodeDir("torch.hub", "/home/u/.cache/torch", "TORCH_HOME", False, True, runs_code=False)
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages], code_dirs=(cache,)))
    assert cause.rule == "system" and "/home/u/.cache/torch" in cause.meaning
    assert cause.fix.startswith("set TORCH_HOME (or XDG_CACHE_HOME) to a writable directory")


# torch.utils.cpp_extension's messages (torch/utils/cpp_extension.py at v2.0.1: CUDA_MISMATCH_MESSAGE,
# verify_ninja_availability) and the ImportError setuptools 70 gives torch < 2.2 (pypa/setuptools#4385).
CUDA_MISMATCH_TEXT = (
    'Traceback (most recent call last):\n  File "setup.py", line 40, in <module>\nRuntimeError: \nThe detected '
    "CUDA version (12.2) mismatches the version that was used to compile\nPyTorch (11.3). Please make sure to use "
    "the same CUDA versions.\n"
)
SETUPTOOLS70_TEXT = (
    'File "/opt/conda/envs/colbert/lib/python3.8/site-packages/torch/utils/cpp_extension.py", line 25, in '
    "<module>\n    from pkg_resources import packaging  # type: ignore[attr-defined]\nImportError: cannot import "
    "name 'packaging' from 'pkg_resources' (/opt/conda/lib/python3.8/site-packages/pkg_resources/__init__.py)\n"
)


def test_cpp_extension_failures_are_judged_by_the_toolchain(tmp_path, monkeypatch):
    """setuptools 70 against a cpp_extension importing pkg_resources.packaging; a toolkit of another CUDA major;
    ninja missing: each named with its fix, from the facts (setuptools' dist-info, torch's source, PATH)."""
    prefix, packages = site(tmp_path, torch_version="2.0.1")
    (packages / "torch" / "utils").mkdir()
    (packages / "torch" / "utils" / "cpp_extension.py").write_text(
        "from pkg_resources import packaging  # type: ignore[attr-defined]\n"
    )
    (packages / "setuptools-70.0.0.dist-info").mkdir()
    (packages / "setuptools-70.0.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: setuptools\nVersion: 70.0.0\n"
    )
    monkeypatch.syspath_prepend(str(packages))
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain(SETUPTOOLS70_TEXT, found)
    assert cause.rule == "toolchain" and "setuptools<70" in cause.fix and cause.fact == "setuptools 70.0.0"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    for name in ("CUDA_HOME", "CUDA_PATH"):
        monkeypatch.delenv(name, raising=False)
    cause = diagnosis.explain(CUDA_MISMATCH_TEXT, found)
    assert cause.rule == "toolchain" and "CUDA 11.3 toolkit" in cause.fix and "12.2" in cause.meaning
    cause = diagnosis.explain("RuntimeError: Ninja is required to load C++ extensions", found)
    assert cause.rule == "toolchain" and "pip install ninja" in cause.fix and "not on PATH" in cause.meaning
