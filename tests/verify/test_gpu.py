"""Tests for checks/verify/gpu.py, in-process with facts shaped as the probes collect them: the driver's states, the
architecture check without a kernel launch, CUDA's own errors from the GPU probe, and --no-gpu."""

import dataclasses
import os
import sys
from types import SimpleNamespace

import fakes
import pytest

from checks import diagnosis
from checks.machine import gpu_access, probe, provenance, requirements, system
from checks.nvidia import driver as nvidia_driver
from checks.nvidia.records import GpuModes
from checks.report import FAIL, PASS, SKIP, WARN
from checks.verify import arch as verify_arch
from checks.verify import gpu as verify_gpu
from checks.verify import origin
from checks.workspace import manifest, promise

LINUX_HOST = probe.Host(subdir="linux-64", os="Linux 6.8.0", python="3.11.7", python_executable="python", cpu_count=8)

REAL_DRIVER = os.path.exists("/proc/driver/nvidia/version") or nvidia_driver.cuda_from_libcuda() is not None
CU117_ARCHES = "sm_37 sm_50 sm_60 sm_70 sm_75 sm_80 sm_86"  # the 2.0.1 cu117 wheel (pytorch/pytorch#110153)
HEALTHY = {
    "present": True,
    "version": "535.161.07",
    "cuda": "12.2",
    "gpus": [],
    "source": "nvidia-smi",
    "state": None,
    "error": None,
    "meaning": None,
    "fix": None,
    "dropped": [],
}
NO_DRIVER = dict(HEALTHY, present=False, version=None, cuda=None, source=None)


def fake_torch(cuda="11.7", arches=CU117_ARCHES):
    """A stand-in for a CUDA build of torch 2.0.1: its CUDA runtime and compiled-in arch list."""
    return SimpleNamespace(
        __version__="2.0.1+cu%s" % cuda.replace(".", "") if cuda else "2.0.1+cpu",
        version=SimpleNamespace(cuda=cuda, hip=None),
        _C=SimpleNamespace(_cuda_getArchFlags=lambda: arches),
    )


@pytest.fixture(scope="module")
def ws(repo_root):
    return manifest.load(str(repo_root / "pixi.toml"))


def context(ws=None, env=None, platform=None, driver=None, gpu=None, torch=None, no_gpu=False):
    """A verify Context with the given facts (the repository's workspace when `env` is given); `gpu` is a
    probe.GpuProbe, as probe.devices returns it."""
    expect = promise.expect(ws, env, "linux-64", {"__cuda": "12.2"}, platform) if env else None
    return SimpleNamespace(
        torch=torch or fake_torch(),
        driver=driver or HEALTHY,
        expect=expect,
        gpu=gpu,
        host=LINUX_HOST,
        no_gpu=no_gpu,
    )


def smi_gpus(*gpus):
    return [{"name": n, "memory_mib": m, "bus_id": b, "compute_cap": c} for n, m, b, c in gpus]


def test_hopper_on_cu117_fails_before_any_kernel_and_names_cu118(ws):
    """An H100 seen by nvidia-smi, the cu117 build: FAIL from the compute capability alone, pointing at the
    environment whose builds have sm_90 kernels."""
    ctx = context(ws, "cu117", driver=dict(HEALTHY, gpus=smi_gpus(fakes.H100)))
    result = verify_arch.check_gpu_arch(ctx)
    assert result.status == FAIL
    assert result.summary == (
        "no kernels for sm_90 (NVIDIA H100 80GB HBM3) in this CUDA 11.7 build (compute "
        "capability from nvidia-smi, no kernel launched)"
    )
    assert result.hint.startswith("use the cu118 environment (its torch 2.0 CUDA 11.8 builds have sm_90 kernels)")


def test_blackwell_on_a_torch20_environment_names_latest(ws):
    """An RTX 5090 (sm_120) with any 2.0 build: only the `latest` environment's CUDA 12.8 builds can have it."""
    ctx = context(
        ws,
        "cu118",
        driver=dict(HEALTHY, gpus=smi_gpus(fakes.RTX_5090)),
        torch=fake_torch("11.8", CU117_ARCHES + " sm_90"),
    )
    result = verify_arch.check_gpu_arch(ctx)
    assert result.status == FAIL and "sm_120" in result.summary
    assert result.hint.startswith(
        "use the latest environment on linux-64-cu128 (CUDA 12.8 builds can have sm_120 kernels)"
    )


def test_without_a_workspace_the_fix_names_the_cuda_needed():
    """No environment to point at: the CUDA versions that can build kernels for that GPU."""
    result = verify_arch.check_gpu_arch(context(driver=dict(HEALTHY, gpus=smi_gpus(fakes.H100))))
    assert result.hint == "install a torch build whose arch list has sm_90 (CUDA 11.8 or newer)"


def test_ada_runs_ampere_kernels():
    """sm_89 runs the build's sm_86 kernels: PASS."""
    l4 = ("NVIDIA L4", 23034, "00000000:00:03.0", "8.9")
    assert verify_arch.check_gpu_arch(context(driver=dict(HEALTHY, gpus=smi_gpus(l4)))).status == PASS


def test_a_470_driver_without_compute_capability_skips_until_cuda_says():
    """470's nvidia-smi cannot tell the capability and the probe failed: SKIP saying so, not a guess
    (a name compat.CAPABILITY_BY_NAME does not know)."""
    ctx = context(
        driver=dict(HEALTHY, gpus=smi_gpus(("NVIDIA Graphics Device", 11441, "00000000:00:04.0", None))),
        gpu=probe.GpuProbe(error="x", hung=False),
    )
    result = verify_arch.check_gpu_arch(ctx)
    assert result.status == SKIP and "compute capability unknown" in result.summary


@pytest.mark.parametrize("driver, status", [("535.104.05", PASS), ("470.82.01", WARN), ("440.33.01", FAIL)])
def test_driver_against_cuda_118(driver, status):
    """Driver floors for CUDA 11.8: full support; 470 runs it under CUDA 11 minor-version compatibility (WARN, not
    FAIL: pytorch/pytorch#82913 tests cu11x wheels on 470.82.01); too old."""
    ctx = context(driver=dict(HEALTHY, version=driver), torch=fake_torch("11.8"))
    assert verify_gpu.check_driver(ctx).status == status


@pytest.mark.parametrize(
    "gpus, status",
    [
        (smi_gpus(("NVIDIA GeForce RTX 2080 Ti", 11264, "00000000:01:00.0", "7.5")), PASS),  # sm_75 SASS in cu117
        (smi_gpus(("NVIDIA Graphics Device", 11264, "00000000:01:00.0", None)), WARN),  # capability unknown
    ],
)
def test_minor_version_compatibility_costs_nothing_where_no_ptx_jit_is_needed(gpus, status):
    """Driver 510.60.02 (CUDA 11.6) under the cu117 build (containerd/nerdctl#1023's machine): minor-version
    compatibility lacks PTX JIT only; with SASS for every GPU it is a PASS, with an unknown architecture a WARN."""
    ctx = context(driver=dict(HEALTHY, version="510.60.02", cuda="11.6", gpus=gpus), torch=fake_torch("11.7"))
    result = verify_gpu.check_driver(ctx)
    assert result.status == status and "minor-version compatibility" in result.summary


@pytest.mark.parametrize("state", ["driver-not-loaded", "version-mismatch", "nvml-missing", "gpu-lost"])
def test_a_driver_state_is_the_driver_line_and_the_gpu_line_cause(state, monkeypatch):
    """A driver that does not answer: the driver line names its state and fix; the gpu line blames it too (the
    node's facts, gpu_node, say nothing here)."""
    from checks.machine import gpu_node

    monkeypatch.setattr(verify_gpu.gpu_node, "collect", lambda: gpu_node.KernelNode())
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)  # a SLURM job granted no GPU is judged first (test_driver.py)
    monkeypatch.delenv("SLURM_JOBID", raising=False)
    text, code = fakes.SMI_STATES[state]
    from checks.nvidia import driver as nvidia_driver

    meaning_state, meaning, fix = nvidia_driver.classify(text, code)
    info = dict(
        NO_DRIVER,
        state=meaning_state,
        error=text,
        meaning=meaning,
        fix=fix,
        source="nvidia-smi",
        present=state == "version-mismatch",
    )
    driver_line = verify_gpu.check_driver(context(driver=info))
    assert driver_line.status == FAIL and driver_line.summary == "nvidia-smi doesn't answer: " + meaning
    assert driver_line.hint == fix
    gpu_line = verify_gpu.check_gpu(context(driver=info, gpu=probe.GpuProbe(error="the GPU probe exited with 1: x")))
    assert gpu_line.status == FAIL and "(see driver)" in gpu_line.summary


def test_torch_seeing_no_gpu_while_the_driver_finds_none_names_the_driver_s_cause(monkeypatch):
    """pop-os/pop#3859: nvidia-smi `No devices were found`, the open module on a Pascal GPU; torch finds no device
    (no error, no warning). The gpu line names the driver's judged cause, never "although a driver answers"."""
    from checks.machine import gpu_node

    node = gpu_node.KernelNode(flavour="open", branch="580", gpu_ids=(("0000:01:00.0", 0x1C8D),), gpu_ids_via="sysfs")
    monkeypatch.setattr(nvidia_driver.gpu_node, "collect", lambda: node)
    text, code = fakes.SMI_STATES["no-devices"]
    state, meaning, fix = nvidia_driver.classify(text, code)
    info = dict(NO_DRIVER, state=state, error=text, meaning=meaning, fix=fix, source="nvidia-smi", present=True)
    gpu_line = verify_gpu.check_gpu(context(driver=info, gpu=probe.GpuProbe(available=False)))
    assert gpu_line.status == FAIL and "although a driver answers" not in gpu_line.summary
    assert gpu_line.summary.startswith("torch sees no GPU: nvidia-smi doesn't answer: the loaded NVIDIA kernel module")
    assert "nvidia-driver-580`" in gpu_line.hint and gpu_line.data["fact"] == "open-module-unsupported-gpu"


@pytest.mark.parametrize("override", [None, "11.8"])
def test_a_cuda_environment_without_a_driver_fails_whatever_conda_override_cuda_says(ws, monkeypatch, override):
    """CONDA_OVERRIDE_CUDA is a solver setting, not a driver: without --no-gpu a CUDA environment with no driver
    is a FAIL, and the variable is named as not being evidence."""
    monkeypatch.delenv("CONDA_OVERRIDE_CUDA", raising=False)
    if override:
        monkeypatch.setenv("CONDA_OVERRIDE_CUDA", override)
    monkeypatch.setattr(verify_gpu.probe, "nvidia_hardware", lambda: [])
    result = verify_gpu.check_driver(context(ws, "cu118", driver=NO_DRIVER))
    assert result.status == FAIL
    assert result.summary.startswith("no NVIDIA driver found; cu118 on linux-64-cu118 needs one")
    assert ("CONDA_OVERRIDE_CUDA=11.8 only tells the solver" in result.summary) == bool(override)
    assert "--no-gpu" in result.hint and result.expected == ">= 520.61.05"


def test_no_gpu_is_the_callers_explicit_choice(ws, monkeypatch):
    """--no-gpu (CI): the build is checked, the GPU checks skip."""
    monkeypatch.setattr(verify_gpu.probe, "nvidia_hardware", lambda: [])
    result = verify_gpu.check_driver(context(ws, "cu118", driver=NO_DRIVER, no_gpu=True))
    assert result.status == SKIP and "--no-gpu" in result.summary


@pytest.mark.parametrize("env, status", [(None, WARN), ("cu118", FAIL)])
def test_a_slurm_job_granted_no_gpu_on_a_node_without_one_asks_for_gpus(ws, monkeypatch, env, status):
    """sbatch's variables of a job submitted without --gres/--gpus (sbatch(1)): no SLURM_JOB_GPUS, SLURM_GPUS_ON_NODE
    or CUDA_VISIBLE_DEVICES; no NVIDIA device, no nvidia-smi on the node it landed on."""
    for name in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS", "SLURM_GPUS_ON_NODE", "SLURM_GPUS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLURM_JOB_ID", "4817263")
    monkeypatch.setenv("SLURMD_NODENAME", "cpu-node-12")
    monkeypatch.setattr(verify_gpu.probe, "nvidia_hardware", lambda: [])
    result = verify_gpu.check_driver(context(ws, env, driver=NO_DRIVER))
    assert result.status == status
    assert result.summary == (
        "no NVIDIA driver: SLURM job 4817263 (node cpu-node-12) was granted no GPU (it requested none: no --gres=gpu "
        "or --gpus) and runs on a node without one"
    )
    assert result.hint.startswith("request GPUs in the job's submission: `#SBATCH --gres=gpu:1`")
    monkeypatch.setenv("SLURM_GPUS_ON_NODE", "1")  # granted, and none seen here: a container not given them
    assert (
        "was granted GPUs (SLURM_GPUS_ON_NODE=1)" in verify_gpu.check_driver(context(ws, env, driver=NO_DRIVER)).summary
    )


@pytest.mark.parametrize("env, status", [(None, WARN), ("cu118", FAIL)])
def test_a_slurm_job_granted_gpus_that_this_process_cannot_see_names_the_container_hook(ws, monkeypatch, env, status):
    """NVIDIA/enroot#205: Slurm granted GPUs 0,1 (SLURM_JOB_GPUS, CUDA_VISIBLE_DEVICES), but the job ran a
    non-NVIDIA image under pyxis/enroot without NVIDIA_VISIBLE_DEVICES, so the hook mounted no driver: "Found no
    NVIDIA driver on your system". The maintainer: set NVIDIA_VISIBLE_DEVICES."""
    for name in ("SLURM_STEP_GPUS", "SLURM_GPUS_ON_NODE", "SLURM_GPUS", "NVIDIA_VISIBLE_DEVICES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLURM_JOB_ID", "4817263")
    monkeypatch.setenv("SLURMD_NODENAME", "gpu-node-017")
    monkeypatch.setenv("SLURM_JOB_GPUS", "0,1")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    monkeypatch.setattr(verify_gpu.probe, "nvidia_hardware", lambda: [])
    result = verify_gpu.check_driver(context(ws, env, driver=NO_DRIVER))
    assert result.status == status
    assert result.summary.startswith(
        "no NVIDIA driver: SLURM job 4817263 (node gpu-node-017) was granted GPUs (SLURM_JOB_GPUS=0,1"
    )
    assert "the job runs in a container the GPUs and the driver were not given to" in result.summary
    assert "set NVIDIA_VISIBLE_DEVICES=all" in result.hint and "`--nv`" in result.hint


def test_a_gpu_without_a_driver_is_named(monkeypatch):
    """An NVIDIA GPU on the PCI bus and no driver: said, even for a CPU build."""
    monkeypatch.setattr(verify_gpu.probe, "nvidia_hardware", lambda: ["PCI device 0000:01:00.0"])
    result = verify_gpu.check_driver(context(driver=NO_DRIVER, torch=fake_torch(None)))
    assert result.status == WARN and "PCI device 0000:01:00.0" in result.summary


@pytest.mark.parametrize("hardware", [[], ["PCI device 0000:01:00.0"]])
def test_a_cuda_build_without_a_driver_advises_the_driver_only_where_a_gpu_is(monkeypatch, hardware):
    """A CUDA build, no environment promising a GPU, no driver: the driver is the fix only where an NVIDIA GPU is in
    the machine (probe.nvidia_hardware's evidence); without one the CPU build is."""
    monkeypatch.setattr(verify_gpu.probe, "nvidia_hardware", lambda: hardware)
    result = verify_gpu.check_driver(context(driver=NO_DRIVER))
    assert result.status == WARN and "torch runs on the CPU" in result.summary and "/whl/cpu" in result.hint
    assert result.hint.startswith("install the NVIDIA driver") == bool(hardware)
    assert ("this machine has no NVIDIA GPU" in result.hint) == (not hardware)


def test_no_kernel_image_in_the_probe_names_the_architecture_not_reinstall(ws):
    """The probe's real error (not its boilerplate) and the environment with kernels for the GPU."""
    error = (
        "the GPU probe exited with 1: RuntimeError: CUDA error: no kernel image is available for execution on "
        "the device"
    )
    ctx = context(
        ws, "cu117", driver=dict(HEALTHY, gpus=smi_gpus(fakes.H100)), gpu=probe.GpuProbe(error=error, hung=False)
    )
    result = verify_gpu.check_gpu(ctx)
    assert result.status == FAIL and "no kernels for the GPU's architecture" in result.summary
    assert "no kernel image is available" in result.actual and "TORCH_USE_CUDA_DSA" not in result.actual
    assert result.hint.startswith("use the cu118 environment") and "reinstall" not in result.hint
    assert "exception" not in (result.data or {})  # judged here: the fix names an environment of the workspace


ECC_ERROR = (  # cudaErrorECCUncorrectable (214), as torch raises it (vllm-project/vllm#5222)
    "the GPU probe exited with 1: RuntimeError: CUDA error: uncorrectable ECC error encountered"
)
A100 = ("NVIDIA A100-SXM4-80GB", 81920, "00000000:10:1C.0", "8.0")


def smi_driver(tmp_path, monkeypatch, gpus, ecc):
    """The driver facts read through the fake nvidia-smi's CSV answers (NVML absent)."""
    monkeypatch.setenv("PATH", fakes.nvidia_smi(tmp_path, gpus=gpus, ecc=ecc)["PATH"])
    monkeypatch.setitem(sys.modules, "pynvml", None)
    return nvidia_driver.facts(timeout=10)


@pytest.mark.skipif(REAL_DRIVER, reason="a real NVIDIA driver answers before the fake one")
@pytest.mark.parametrize(
    "error",
    [ECC_ERROR, "the GPU probe exited with 1: RuntimeError: CUDA error: an illegal memory access was encountered"],
)
def test_a_kernel_fault_on_a_gpu_whose_counters_show_uncorrectable_errors_is_that_gpus_hardware(
    tmp_path, monkeypatch, error
):
    """The probe's fault (214, or 700 illegal address) with GPU 1's counters at 2 uncorrectable errors and rows
    pending remapping: that GPU's hardware fault, reset or reboot, replace if it recurs; GPU 0 (clean) is not named."""
    clean = ("NVIDIA A100-SXM4-80GB", 81920, "00000000:07:00.0", "8.0")
    ecc = {clean[2]: fakes.ECC_A100_CLEAN, A100[2]: fakes.ECC_A100_PENDING}
    driver = smi_driver(tmp_path, monkeypatch, [clean, A100], ecc)
    result = verify_gpu.check_gpu(context(driver=driver, gpu=probe.GpuProbe(error=error)))
    assert result.status == FAIL
    assert result.summary == (
        "CUDA cannot run a kernel: GPU 1 has 2 uncorrectable ECC errors (volatile) and rows pending remapping: a "
        "hardware fault of this GPU"
    )
    assert result.hint.startswith("reset it (`sudo nvidia-smi -r -i 1`) or reboot") and "replace the GPU" in result.hint
    assert "GPU 0" not in result.summary and result.actual == error


@pytest.mark.skipif(REAL_DRIVER, reason="a real NVIDIA driver answers before the fake one")
@pytest.mark.parametrize("ecc", [None, {A100[2]: fakes.ECC_A100_CLEAN}])
def test_a_kernel_fault_without_counters_or_with_clean_ones_keeps_the_general_verdict(tmp_path, monkeypatch, ecc):
    """No ECC (`[N/A]`: GeForce) or counters at zero: nothing says which hardware, the general fault verdict stays."""
    driver = smi_driver(tmp_path, monkeypatch, [A100], ecc)
    result = verify_gpu.check_gpu(context(driver=driver, gpu=probe.GpuProbe(error=ECC_ERROR)))
    assert result.status == FAIL and "a GPU kernel faulted" in result.summary
    assert "nvidia-smi -q -d ECC" in result.hint


def test_a_failed_row_remapping_says_replace_the_gpu():
    """`remapped_rows.failure` Yes: the GPU has no spare rows left (NVIDIA, A100 GPU Memory Error Management)."""
    failed = dict(fakes.ECC_A100_PENDING, **{"remapped_rows.failure": "Yes"})
    errors = nvidia_driver._smi_memory_errors(failed)
    gpus = [dict(smi_gpus(A100)[0], memory_errors=dataclasses.asdict(errors))]
    meaning, fix, _ = verify_gpu.memory_fault(gpus)
    assert "a failed row remapping" in meaning and fix.startswith("replace the GPU")


def test_a_hung_probe_gets_the_xid_advice():
    """CUDA initialisation that hangs: the driver or GPU is hung; look for Xid errors."""
    ctx = context(gpu=probe.GpuProbe(error="the GPU probe did not answer within 5 s", hung=True))
    result = verify_gpu.check_gpu(ctx)
    assert result.status == FAIL and "hung" in result.summary and "xid" in result.hint.lower()


def test_torch_s_init_warning_is_the_cause_when_no_gpu_is_seen():
    """is_available() False with torch's `found version 11040` warning: the driver is too old (CUDA 11.4)."""
    ctx = context(gpu=probe.GpuProbe(available=False, count=0, devices=(), warnings=(fakes.DRIVER_TOO_OLD_WARNING,)))
    result = verify_gpu.check_gpu(ctx)
    assert result.status == FAIL and "supports CUDA 11.4 only" in result.summary
    assert "Triggered internally" not in result.actual


def test_hidden_gpus_are_named(monkeypatch):
    """CUDA_VISIBLE_DEVICES='' hides every GPU: the gpu check says so."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    result = verify_gpu.check_gpu(context(gpu=probe.GpuProbe(available=False, count=0, devices=(), warnings=())))
    assert result.status == FAIL and "hides every GPU" in result.summary


@pytest.mark.parametrize("torch_version, mac, status", [("2.8.0", "13.6.1", "older"), ("2.4.1", "13.6.1", "other")])
def test_mps_unavailable_names_the_macos_floor_of_this_torch(monkeypatch, torch_version, mac, status):
    """MPS built but unavailable: below the release's floor (compat.MPS_MACOS_FLOOR) the FAIL names it; above it the
    cause is elsewhere (Rosetta)."""
    from types import SimpleNamespace

    from checks.verify import gpu

    monkeypatch.setattr(gpu.platform, "system", lambda: "Darwin")
    monkeypatch.setattr(gpu.platform, "machine", lambda: "arm64")
    monkeypatch.setattr(gpu.platform, "mac_ver", lambda: (mac, ("", "", ""), "arm64"))
    mps = SimpleNamespace(is_built=lambda: True, is_available=lambda: False)
    ctx = SimpleNamespace(torch=SimpleNamespace(__version__=torch_version, backends=SimpleNamespace(mps=mps)))
    result = gpu.check_mps(ctx)
    assert result.status == "FAIL"
    if status == "older":
        assert result.summary == "torch 2.8.0 needs macOS 14.0+ for MPS; this is macOS 13.6.1"
    else:
        assert "Rosetta" in result.hint and "needs 12.3+" in result.summary


UNKNOWN_WARNING = (  # torch 2.0.1's warning under CUDA's 999 (pytorch/pytorch#49081; c10/cuda/CUDAFunctions.cpp)
    "CUDA initialization: CUDA unknown error - this may be due to an incorrectly set up environment, e.g. changing env "
    "variable CUDA_VISIBLE_DEVICES after program start. Setting the available devices to be zero. (Triggered "
    "internally at ../c10/cuda/CUDAFunctions.cpp:109.)"
)


def parent_facts(tmp_path, monkeypatch, access):
    """The parent's diagnosis.Facts of an environment holding torch, with the GpuAccess `access`."""
    prefix = tmp_path / "env"
    packages = prefix / "lib" / "python3.11" / "site-packages"
    (packages / "torch").mkdir(parents=True)
    (packages / "torch" / "__init__.py").write_text("")
    monkeypatch.setattr(sys, "prefix", str(prefix))
    prov = provenance.Provenance(
        interpreter=str(prefix / "bin" / "python"),
        prefix=str(prefix),
        environment=str(prefix),
        foreign_interpreter=False,
        packages={n: provenance.package(n, [str(packages)], str(prefix), {}) for n in provenance.PACKAGES},
    )
    return diagnosis.Facts(
        provenance=prov,
        requirements=requirements.Requirements(items=()),
        loader_inputs={},
        system=system.collect(),
        gpu_access=access,
    )


def uvm_nodes(uvm):
    names = [("nvidiactl", gpu_access.CONTROL), ("nvidia0", gpu_access.GPU)]
    names += [("nvidia-uvm", gpu_access.UVM), ("nvidia-uvm-tools", gpu_access.UVM_TOOLS)] if uvm else []
    return gpu_access.GpuAccess(
        nodes=tuple(gpu_access.DeviceNode(path="/dev/" + n, role=r, exists=True, accessible=True) for n, r in names),
        libcuda="/usr/lib/x86_64-linux-gnu/libcuda.so.1",
        libcuda_via="ld.so.cache",
        libcuda_version="535.161.07",
    )


@pytest.mark.parametrize(
    "uvm, words",
    [
        (False, "sudo nvidia-modprobe -c 0 -u"),  # the node is missing: the fact decides
        (True, "sudo modprobe -r nvidia_uvm && sudo modprobe nvidia_uvm"),  # nothing decides: the table's reload
    ],
)
def test_a_cuda_initialisation_warning_is_judged_against_the_access_path(tmp_path, monkeypatch, uvm, words):
    """torch's 999 warning travels in data["exception"]; the parent judges it against /dev (origin.judge)."""
    ctx = context(gpu=probe.GpuProbe(available=False, count=0, devices=(), warnings=(UNKNOWN_WARNING,)))
    result = verify_gpu.check_gpu(ctx)
    assert result.status == FAIL and result.data["exception"] == UNKNOWN_WARNING
    judged = origin.judge(result, parent_facts(tmp_path, monkeypatch, uvm_nodes(uvm)))
    assert judged.status == FAIL and words in judged.hint and "CUDA_VISIBLE_DEVICES" not in judged.hint
    assert judged.data["fact"] and judged.actual == result.actual


def test_cuda_s_init_error_from_the_probe_is_judged_by_the_parent():
    """The probe's `No CUDA GPUs are available` (an initialisation class) carries CUDA's text for the parent."""
    error = "the GPU probe exited with 1: RuntimeError: No CUDA GPUs are available"
    result = verify_gpu.check_gpu(context(gpu=probe.GpuProbe(error=error, hung=False)))
    assert result.status == FAIL and result.data == {"exception": error}
    assert result.summary.startswith("CUDA cannot start: no GPU is visible")


# NVIDIA GeForce GTX TITAN Black, a Kepler GPU (compute capability 3.5) on its last driver branch, R470
# (AUTOMATIC1111/stable-diffusion-webui#3003: torch's warning "Found GPU0 NVIDIA GTX TITAN Black which is of cuda
# capability 3.5. PyTorch no longer supports this GPU because it is too old. The minimum cuda capability supported
# by this library is 3.7.").
TITAN_BLACK = ("NVIDIA GeForce GTX TITAN Black", 6144, "00000000:01:00.0", "3.5")


def test_a_kepler_gpu_is_not_told_to_update_a_driver_nvidia_no_longer_makes_for_it():
    """Driver 470.256.02 under the cu117 build with a Kepler GPU: CUDA 11.7 wants 515+, which no driver for Kepler
    is (R470 is its last branch): the fix is a build for CUDA <= 11.4, never a driver update."""
    ctx = context(driver=dict(HEALTHY, version="470.256.02", cuda="11.4", gpus=smi_gpus(TITAN_BLACK)))
    result = verify_gpu.check_driver(ctx)
    assert result.status == WARN
    assert "R470" in result.hint and "CUDA 11.4 or older" in result.hint
    assert "update" not in result.hint


def test_a_kepler_gpu_too_old_for_the_build_names_the_last_release_with_its_kernels_and_a_source_build():
    """The cu117 build's arch list starts at sm_37: sm_35 kernels are in torch 1.3.0's builds only (pytorch/builder
    2aac90bd), or a source build with TORCH_CUDA_ARCH_LIST=3.5; the driver is not the fix."""
    ctx = context(driver=dict(HEALTHY, version="470.256.02", cuda="11.4", gpus=smi_gpus(TITAN_BLACK)))
    result = verify_arch.check_gpu_arch(ctx)
    assert result.status == FAIL
    assert "torch 1.3.0 (CUDA 9.2/10.1 builds)" in result.hint
    assert "TORCH_CUDA_ARCH_LIST=3.5" in result.hint and "CPU" in result.hint
    assert "driver to" not in result.hint


def test_a_newer_gpu_than_the_build_still_names_the_cuda_that_builds_it():
    """Blackwell (sm_120) on cu117 is newer than the build, not older: the fix stays a build of CUDA 12.8+."""
    rtx5090 = ("NVIDIA GeForce RTX 5090", 32607, "00000000:01:00.0", "12.0")
    ctx = context(driver=dict(HEALTHY, version="575.51.03", cuda="12.9", gpus=smi_gpus(rtx5090)))
    result = verify_arch.check_gpu_arch(ctx)
    assert result.status == FAIL and "CUDA 12.8 or newer" in result.hint and "1.3.0" not in result.hint


GTX_1080_TI = ("NVIDIA GeForce GTX 1080 Ti", 11264, "00000000:02:00.0", "6.1")
TITAN_RTX = ("NVIDIA TITAN RTX", 24576, "00000000:81:00.0", "7.5")


def test_an_index_on_a_machine_of_different_gpus_names_cuda_device_order(monkeypatch):
    """bonito#120: CUDA_VISIBLE_DEVICES=0 read from nvidia-smi (PCI bus order) on a GTX 1080 Ti + TITAN RTX
    machine; CUDA counts fastest first, so the OOM is the other card's: CUDA_DEVICE_ORDER=PCI_BUS_ID is the fix."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    driver = dict(HEALTHY, gpus=smi_gpus(GTX_1080_TI, TITAN_RTX))
    oom = probe.GpuProbe(error="the GPU probe exited with 1: RuntimeError: CUDA error: out of memory")
    result = verify_gpu.check_gpu(context(driver=driver, gpu=oom))
    assert result.status == FAIL and "fastest first" in result.summary and "PCI bus order" in result.summary
    assert result.hint.startswith("export CUDA_DEVICE_ORDER=PCI_BUS_ID")
    monkeypatch.setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    assert "CUDA_DEVICE_ORDER" not in verify_gpu.check_gpu(context(driver=driver, gpu=oom)).hint
    monkeypatch.delenv("CUDA_DEVICE_ORDER")
    same = dict(HEALTHY, gpus=smi_gpus(TITAN_RTX, TITAN_RTX))
    assert "CUDA_DEVICE_ORDER" not in verify_gpu.check_gpu(context(driver=same, gpu=oom)).hint


def test_a_working_gpu_that_is_not_nvidia_smis_at_that_index_warns(monkeypatch):
    """The kernel ran, but torch's device 0 is the TITAN RTX while nvidia-smi's GPU 0 is the GTX 1080 Ti: WARN;
    when they agree it is a PASS."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    driver = dict(HEALTHY, gpus=smi_gpus(GTX_1080_TI, TITAN_RTX))

    def ran(name, cap):
        device = probe.GpuDevice(name=name, capability=cap, memory_gib=24.0, sms=72)
        return probe.GpuProbe(available=True, count=1, devices=(device,), kernel_ok=True)

    warned = verify_gpu.check_gpu(context(driver=driver, gpu=ran("NVIDIA TITAN RTX", (7, 5))))
    assert warned.status == WARN and warned.hint.startswith("export CUDA_DEVICE_ORDER=PCI_BUS_ID")
    assert warned.expected == "NVIDIA GeForce GTX 1080 Ti" and warned.actual == "NVIDIA TITAN RTX"
    right = verify_gpu.check_gpu(context(driver=driver, gpu=ran("NVIDIA GeForce GTX 1080 Ti", (6, 1))))
    assert right.status == PASS


def test_a_cuda_image_started_without_the_nvidia_runtime_names_the_container_toolkit(monkeypatch):
    """DreamMat#14: NVIDIA_VISIBLE_DEVICES=all from the image, no /dev/nvidiactl, no libcuda: the runtime never
    ran; a machine with no NVIDIA variables (a CPU host) keeps the plain no-driver verdict."""
    monkeypatch.setattr(verify_gpu.probe, "nvidia_hardware", lambda: [])
    monkeypatch.setattr(verify_gpu.gpu_node, "container", lambda: ("/.dockerenv",))
    access = gpu_access.GpuAccess(libcuda_via="not found", visible_devices="all", capabilities="compute,utility")
    monkeypatch.setattr(verify_gpu.gpu_access, "collect", lambda: access)
    result = verify_gpu.check_driver(context(driver=NO_DRIVER))
    assert result.status == WARN and "(/.dockerenv) was started without GPU access" in result.summary
    assert "NVIDIA Container Toolkit" in result.hint and "--gpus all" in result.hint
    plain = gpu_access.GpuAccess(libcuda_via="not found")
    monkeypatch.setattr(verify_gpu.gpu_access, "collect", lambda: plain)
    assert "container" not in verify_gpu.check_driver(context(driver=NO_DRIVER)).summary


def test_driver_not_loaded_under_secure_boot_names_the_signature(monkeypatch):
    """nvidia-smi cannot reach the driver, and the node's facts say the module is installed, unloaded, Secure Boot
    on: the driver line names Secure Boot and the MOK fix instead of the generic one."""
    from checks.machine import gpu_node
    from checks.nvidia import driver as nvidia_driver

    text, code = fakes.SMI_STATES["driver-not-loaded"]
    state, meaning, fix = nvidia_driver.classify(text, code)
    info = dict(NO_DRIVER, state=state, error=text, meaning=meaning, fix=fix, source="nvidia-smi")
    node = gpu_node.KernelNode(
        kernel="6.8.0-49-generic",
        loaded=False,
        module_files=("/lib/modules/6.8.0-49-generic/extra/nvidia.ko.xz",),
        module_files_via="modinfo",
        secure_boot=True,
        secure_boot_via="mokutil",
    )
    monkeypatch.setattr(verify_gpu.gpu_node, "collect", lambda: node)
    result = verify_gpu.check_driver(context(driver=info))
    assert result.status == FAIL and "Secure Boot is enabled (mokutil)" in result.summary
    assert "mokutil --import" in result.hint and result.data["fact"] == "signature-required"


RTX_2080 = ("NVIDIA GeForce RTX 2080", 8192, "00000000:01:00.0", "7.5")
# CUDA's text for cudaErrorMemoryAllocation (2) at a kernel launch, as torch surfaces it (c10/cuda/CUDAException.h):
# no figures of who holds what
LAUNCH_OOM = "the GPU probe exited with 1: RuntimeError: CUDA error: out of memory"
# torch 2.0.1's allocator message (c10/cuda/CUDACachingAllocator.cpp; the figures of the fastmri#238 report)
TORCH_2_0_OOM = (
    "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 216.00 MiB (GPU 0; 7.92 GiB total capacity; "
    "69.17 MiB already allocated; 24.56 MiB free; 86.00 MiB reserved in total by PyTorch) If reserved memory is >> "
    "allocated memory try setting max_split_size_mb to avoid fragmentation.  See documentation for Memory Management "
    "and PYTORCH_CUDA_ALLOC_CONF"
)


@pytest.fixture
def leftover():
    """A real process standing for a leftover run (its /proc/<pid>/comm is `sleep`), stopped after the test."""
    import subprocess
    import time

    child = subprocess.Popen(["sleep", "60"])
    for _ in range(200):  # until it has exec'd (comm is the forking Python's before)
        with open("/proc/%d/comm" % child.pid) as comm:
            if comm.read().strip() == "sleep":
                break
        time.sleep(0.01)
    yield child.pid
    child.kill()
    child.wait()


def test_an_out_of_memory_while_another_process_holds_the_gpu_names_it_and_its_memory(monkeypatch, leftover):
    """fastmri#238: a kernel launch's `CUDA error: out of memory` gives no figures; NVML lists the processes on
    GPU 0 now: a leftover process holds 7800 of the RTX 2080's 8192 MiB (this process, listed too, is left out).
    The verdict names its pid, name and memory, and the fix ends it or uses a free GPU; not a smaller batch."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    apps = [(os.getpid(), 300 * 2**20), (leftover, 7800 * 2**20)]
    monkeypatch.setitem(sys.modules, "pynvml", fakes.pynvml(gpus=(RTX_2080,), apps=apps))
    driver = dict(HEALTHY, gpus=smi_gpus(RTX_2080))
    result = verify_gpu.check_gpu(context(driver=driver, gpu=probe.GpuProbe(error=LAUNCH_OOM)))
    assert result.status == FAIL
    assert (
        "GPU 0 (NVIDIA GeForce RTX 2080, 8192 MiB) is out of memory because other processes hold it" in result.summary
    )
    assert "pid %d (sleep) holds 7800 MiB" % leftover in result.summary and str(os.getpid()) not in result.summary
    assert "`kill %d`" % leftover in result.hint and "CUDA_VISIBLE_DEVICES" in result.hint
    assert "batch" not in result.hint and "exception" not in result.data
    assert result.data["gpu_processes"] == [{"pid": leftover, "mib": 7800, "name": "sleep"}]


def test_an_out_of_memory_the_process_list_does_not_explain_goes_to_the_figures(monkeypatch, tmp_path, leftover):
    """Others holding little (an Xorg's 40 MiB of 8192), a list NVML refuses, or CUDA_VISIBLE_DEVICES naming a
    UUID (which GPU is unknown): no live verdict; torch's allocator message goes to the parent's diagnosis (rule
    gpu-memory judges its figures), a launch's figureless one keeps CUDA's meaning. nvidia-smi answers where NVML is
    absent (`--query-compute-apps`, bounded to 10 s)."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    driver = dict(HEALTHY, gpus=smi_gpus(RTX_2080))
    oom = probe.GpuProbe(error=LAUNCH_OOM)
    monkeypatch.setitem(sys.modules, "pynvml", fakes.pynvml(gpus=(RTX_2080,), apps=[(leftover, 40 * 2**20)]))
    small = verify_gpu.check_gpu(context(driver=driver, gpu=oom))
    assert small.data == {} and "pid" not in small.summary and "other processes?" in small.summary
    refused = ["nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetComputeRunningProcesses_v2"]
    monkeypatch.setitem(sys.modules, "pynvml", fakes.pynvml(gpus=(RTX_2080,), unsupported=refused))
    figures = probe.GpuProbe(error="the GPU probe exited with 1: " + TORCH_2_0_OOM)
    facts = parent_facts(tmp_path / "parent", monkeypatch, gpu_access.GpuAccess())
    judged = origin.judge(verify_gpu.check_gpu(context(driver=driver, gpu=figures)), facts)
    assert judged.data["exception"] == figures.error and judged.data["recognised"]
    assert "out of memory because others hold it: 7.8 GiB" in judged.summary
    monkeypatch.setitem(sys.modules, "pynvml", None)  # no nvidia-ml-py: the stand-in nvidia-smi answers
    monkeypatch.setenv("PATH", fakes.nvidia_smi(tmp_path, gpus=(RTX_2080,), apps=[(leftover, 7800)])["PATH"])
    assert "pid %d (sleep) holds 7800 MiB" % leftover in verify_gpu.check_gpu(context(driver=driver, gpu=oom)).summary
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-5b1f0c2e")
    assert verify_gpu.check_gpu(context(driver=driver, gpu=oom)).data == {}


def test_the_gpu_cuda_numbers_0_is_nvidia_smis_only_where_the_order_agrees():
    """CUDA_VISIBLE_DEVICES' first index, or 0; on GPUs that differ only under CUDA_DEVICE_ORDER=PCI_BUS_ID."""
    alike, mixed = smi_gpus(TITAN_RTX, TITAN_RTX), smi_gpus(GTX_1080_TI, TITAN_RTX)
    assert verify_gpu.first_gpu_index({}, alike) == 0
    assert verify_gpu.first_gpu_index({"CUDA_VISIBLE_DEVICES": "1,0"}, alike) == 1
    assert verify_gpu.first_gpu_index({"CUDA_VISIBLE_DEVICES": "2"}, alike) is None
    assert verify_gpu.first_gpu_index({"CUDA_VISIBLE_DEVICES": ""}, alike) is None
    assert verify_gpu.first_gpu_index({"CUDA_VISIBLE_DEVICES": "1"}, mixed) is None
    assert verify_gpu.first_gpu_index({"CUDA_VISIBLE_DEVICES": "1", "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}, mixed) == 1


# ---- MIG mode without instances, and a display GPU's watchdog (records.GpuModes, as driver.modes reads them) -------
A100_40 = ("NVIDIA A100-SXM4-40GB", 40960, "00000000:07:00.0", "8.0")
GTX_980 = ("NVIDIA GeForce GTX 980", 4096, "00000000:01:00.0", "5.2")
# torch's text for cudaErrorLaunchTimeout (c10/cuda's `CUDA error: ` + cudaGetErrorString(702)), numba#9381's words
LAUNCH_TIMEOUT = "RuntimeError: CUDA error: the launch timed out and was terminated"


def modes(monkeypatch, *found):
    monkeypatch.setattr(verify_gpu, "gpu_modes", lambda: found)


def test_mig_mode_without_instances_is_why_torch_sees_no_gpu(monkeypatch):
    """wilicc/gpu-burn#36: an A100 in MIG mode with no GPU instance; torch finds no device without a warning."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    modes(monkeypatch, GpuModes(index=0, bus_id=A100_40[2], mig_mode=True, mig_devices=0))
    ctx = context(driver=dict(HEALTHY, gpus=smi_gpus(A100_40)), gpu=probe.GpuProbe(available=False))
    result = verify_gpu.check_gpu(ctx)
    assert result.status == FAIL and "MIG mode is enabled on GPU 0 but no MIG GPU instance" in result.summary
    assert (
        "`sudo nvidia-smi mig -i 0 -cgi <profile> -C`" in result.hint and "`sudo nvidia-smi -i 0 -mig 0`" in result.hint
    )
    assert result.data["fact"] == "MIG enabled, 0 MIG devices on GPU 0"


@pytest.mark.parametrize(
    "found, visible",
    [
        ((GpuModes(index=0, mig_mode=True, mig_devices=2),), None),  # instances exist: not this cause
        ((GpuModes(index=0, mig_mode=True, mig_devices=0), GpuModes(index=1, mig_mode=False)), None),  # GPU 1 is usable
        ((GpuModes(index=0, mig_mode=True, mig_devices=0), GpuModes(index=1, mig_mode=False)), "1"),
        ((GpuModes(index=0, mig_mode=True, mig_devices=None),), None),  # not counted: unknown
    ],
)
def test_mig_decides_only_where_every_usable_gpu_lacks_instances(monkeypatch, found, visible):
    environ = {} if visible is None else {"CUDA_VISIBLE_DEVICES": visible}
    assert verify_gpu.mig_unusable(environ, found) is None


def test_no_cuda_gpus_from_the_probe_is_judged_by_mig_too(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    modes(monkeypatch, GpuModes(index=0, mig_mode=True, mig_devices=0))
    ctx = context(
        driver=dict(HEALTHY, gpus=smi_gpus(A100_40)),
        gpu=probe.GpuProbe(error="RuntimeError: No CUDA GPUs are available"),
    )
    result = verify_gpu.check_gpu(ctx)
    assert result.summary.startswith("CUDA cannot start: MIG mode is enabled on GPU 0") and not result.data.get(
        "exception"
    )


def test_a_launch_timeout_on_a_display_gpu_is_its_watchdog(monkeypatch):
    """numba#9381: the GTX 980 runs the desktop (display active); a second GPU drives none: the fix selects it."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    modes(
        monkeypatch,
        GpuModes(index=0, display_mode=True, display_active=True),
        GpuModes(index=1, display_mode=False, display_active=False),
    )
    ctx = context(driver=dict(HEALTHY, gpus=smi_gpus(GTX_980, GTX_980)), gpu=probe.GpuProbe(error=LAUNCH_TIMEOUT))
    result = verify_gpu.check_gpu(ctx)
    assert result.status == FAIL
    assert "GPU 0 (NVIDIA GeForce GTX 980) drives a display (nvidia-smi: display active)" in result.summary
    assert "watchdog" in result.summary and "CUDA_VISIBLE_DEVICES=1" in result.hint
    assert "display-manager" in result.hint and result.data["fact"] == "GPU 0 drives a display"


def test_a_launch_timeout_without_a_display_fact_keeps_the_error_s_meaning(monkeypatch):
    modes(monkeypatch, GpuModes(index=0, display_mode=False, display_active=False))
    ctx = context(driver=dict(HEALTHY, gpus=smi_gpus(GTX_980)), gpu=probe.GpuProbe(error=LAUNCH_TIMEOUT))
    result = verify_gpu.check_gpu(ctx)
    assert "run time limit" in result.summary and "drives a display (nvidia-smi" not in result.summary
    assert "not recognised" not in result.summary and not result.data


def test_a_conda_environment_without_a_driver_is_told_about_conda_override_cuda(tmp_path):
    """conda-forge/pytorch-cpu-feedstock#364: `micromamba install pytorch "libtorch=*=cuda12*"` on a login node
    without a GPU: "__cuda =* *, which is missing on the system"; fixed with CONDA_OVERRIDE_CUDA=12.6."""
    from checks.verify import gpu

    note = gpu._solver_note({"CONDA_PREFIX": str(tmp_path)}, prefix=str(tmp_path))
    assert "no __cuda virtual package here" in note and "`CONDA_OVERRIDE_CUDA=12.6`" in note
    assert gpu._solver_note({}, prefix=str(tmp_path)) == ""  # not a conda environment
    assert gpu._solver_note({"CONDA_PREFIX": "x", "CONDA_OVERRIDE_CUDA": "12.6"}, prefix=str(tmp_path)) == ""
    assert gpu._solver_note({"CONDA_PREFIX": "x", "PIXI_ENVIRONMENT_NAME": "cu118"}, prefix=str(tmp_path)) == ""


def test_an_amd_gpu_under_a_cuda_build_names_the_rocm_build():
    """A CUDA (or CPU) build cannot use an AMD GPU: the driver line says so and points at PyTorch's ROCm wheels."""
    from types import SimpleNamespace

    from checks.verify import gpu as gpu_checks

    torch = SimpleNamespace(__version__="2.0.1+cu117", version=SimpleNamespace(cuda="11.7", hip=None))
    result = gpu_checks._amd_result(torch, ["PCI device 0000:03:00.0", "/dev/kfd"])
    assert result.status == "WARN" and result.summary.startswith(
        "this machine's GPU is AMD's (PCI device 0000:03:00.0, /dev/kfd), and torch 2.0.1+cu117 is a CUDA build"
    )
    assert "https://download.pytorch.org/whl/rocmX.Y" in result.hint


V100 = ("Tesla V100-SXM2-32GB", 32768, "00000000:1A:00.0", "7.0")  # the GPU of lm-sys/FastChat#399, vllm#946


def test_a_gpu_before_ampere_names_the_features_it_lacks_with_the_float16_recipe():
    """A V100 (7.0) runs the build's sm_70 kernels (PASS), and the line says it has no bfloat16, TF32 or
    FlashAttention-2 (8.0+) nor FP8 (8.9+), with the float16 settings a recipe written for newer GPUs needs."""
    result = verify_arch.check_gpu_arch(context(driver=dict(HEALTHY, gpus=smi_gpus(V100))))
    assert result.status == PASS
    assert "Tesla V100-SXM2-32GB (compute capability 7.0) has no native bfloat16, TF32 or FlashAttention-2 (8.0+) " in (
        result.summary
    )
    assert "nor FP8 (8.9+)" in result.summary
    assert "`--bf16 False --fp16 True`" in result.summary and '`dtype="half"`' in result.summary


@pytest.mark.parametrize(
    "gpu",
    [("NVIDIA A100-SXM4-80GB", 81920, "00000000:07:00.0", "8.0"), ("NVIDIA L4", 23034, "00000000:00:03.0", "8.9")],
)
def test_an_ampere_or_newer_gpu_line_names_no_missing_feature(gpu):
    """bfloat16 is there (an A100 lacks FP8, which a failure naming it will say): no note on the PASS line."""
    result = verify_arch.check_gpu_arch(context(driver=dict(HEALTHY, gpus=smi_gpus(gpu))))
    assert result.status == PASS and "has no native" not in result.summary


def test_a_gpu_the_driver_gives_no_capability_for_is_judged_by_its_product_name():
    """lm-sys/FastChat#399's node: 510.47.03's nvidia-smi stand-in answers no compute_cap and CUDA did not start; the
    name Tesla V100 is 7.0 (NVIDIA's CUDA GPUs list), which the line says it read."""
    ctx = context(
        driver=dict(HEALTHY, gpus=smi_gpus(("Tesla V100-SXM2-32GB", 32768, "00000000:1A:00.0", None))),
        gpu=probe.GpuProbe(error="x", hung=False),
    )
    result = verify_arch.check_gpu_arch(ctx)
    assert result.status == PASS
    assert result.summary.startswith(
        "sm_70 covered by sm_70 (compute capability from its product name; nvidia-smi gave no compute_cap, no kernel "
        "launched); Tesla V100-SXM2-32GB (compute capability 7.0) has no native bfloat16"
    )
