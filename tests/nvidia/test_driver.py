"""Tests for checks/nvidia/driver.py: the driver's facts and each failure state, through a fake nvidia-smi and a fake
pynvml shaped like the real ones (tests/fakes.py names the sources of every text and exit code)."""

import os
import sys
from types import SimpleNamespace

import fakes
import pytest

from checks.nvidia import driver
from checks.nvidia.records import MemoryErrors

POSIX = pytest.mark.skipif(os.name != "posix", reason="the fake nvidia-smi is an executable script")
# A real driver answers through /proc and libcuda before any nvidia-smi on PATH.
REAL_DRIVER = os.path.exists("/proc/driver/nvidia/version") or driver.cuda_from_libcuda() is not None
NO_REAL_DRIVER = pytest.mark.skipif(REAL_DRIVER, reason="a real NVIDIA driver answers before the fake one")


@pytest.fixture
def smi(tmp_path, monkeypatch):
    """Return a function that installs a fake nvidia-smi and reads the driver facts through it (NVML absent)."""

    def read(**kwargs):
        monkeypatch.setenv("PATH", fakes.nvidia_smi(tmp_path, **kwargs)["PATH"])
        monkeypatch.setitem(__import__("sys").modules, "pynvml", None)  # `import pynvml` fails: nvidia-smi is used
        return driver.facts(timeout=kwargs.get("sleep", 0) and 1 or 10)

    return read


@POSIX
@NO_REAL_DRIVER
def test_a_535_driver_reports_every_gpu_with_its_compute_capability(smi):
    """The query gives name, memory, bus id and compute capability per GPU; the header gives the CUDA version."""
    info = smi(gpus=[fakes.H100, fakes.H100])
    assert info["present"] and info["state"] is None and info["source"] == "nvidia-smi"
    assert info["version"] == "535.161.07" and info["cuda"] == "12.2"
    assert info["gpus"][0] == {
        "name": "NVIDIA H100 80GB HBM3",
        "memory_mib": 81559,
        "bus_id": "00000000:19:00.0",
        "compute_cap": "9.0",
        "memory_errors": None,  # the fake's H100 answers `[N/A]` to the memory fields: no counters
    }
    assert driver.describe(info) == "535.161.07 (CUDA 12.2)"


@POSIX
@NO_REAL_DRIVER
def test_the_memory_error_counters_come_with_the_same_query(smi):
    """An A100 with ECC on after a double-bit error (`ecc.errors.uncorrected.volatile.total` 2, `remapped_rows.pending`
    Yes, `retired_pages.pending` [N/A] as on Ampere); a GPU answering `[N/A]` everywhere (no ECC) counts nothing."""
    a100 = ("NVIDIA A100-SXM4-80GB", 81920, "00000000:10:1C.0", "8.0")
    info = smi(gpus=[a100, fakes.RTX_5090], ecc={a100[2]: fakes.ECC_A100_PENDING})
    errors = driver.memory_errors(info["gpus"][0])
    assert errors == MemoryErrors(
        ecc_enabled=True,
        volatile_uncorrected=2,
        retired_pages_pending=None,
        remapped_rows_pending=True,
        remapped_rows_failure=False,
    )
    assert errors.faults() == ["2 uncorrectable ECC errors (volatile)", "rows pending remapping"]
    assert info["gpus"][1]["memory_errors"] is None and driver.memory_errors(info["gpus"][1]) is None
    clean = smi(gpus=[a100], ecc={a100[2]: fakes.ECC_A100_CLEAN})
    assert driver.memory_errors(clean["gpus"][0]).faults() == []


def test_nvml_gives_the_same_memory_error_counters():
    """Through NVML: nvmlDeviceGetEccMode (current, pending), nvmlDeviceGetTotalEccErrors(handle, UNCORRECTED=1,
    VOLATILE=0), nvmlDeviceGetRetiredPagesPendingStatus (NOT_SUPPORTED on Ampere), nvmlDeviceGetRemappedRows."""

    class NVMLError(Exception):
        def __init__(self, value):
            self.value = value

    asked = []

    def total(handle, kind, counter):
        asked.append((kind, counter))
        return 3

    def not_supported(handle):
        raise NVMLError(3)

    pynvml = SimpleNamespace(
        NVMLError=NVMLError,
        nvmlDeviceGetEccMode=lambda handle: (1, 1),
        nvmlDeviceGetTotalEccErrors=total,
        nvmlDeviceGetRetiredPagesPendingStatus=not_supported,
        nvmlDeviceGetRemappedRows=lambda handle: (0, 3, 1, 0),
    )
    errors = driver._nvml_memory_errors(pynvml, "handle")
    assert asked == [(1, 0)]
    assert errors == MemoryErrors(True, 3, None, True, False)


@POSIX
@NO_REAL_DRIVER
def test_a_470_driver_is_queried_without_the_field_it_lacks(smi):
    """470's nvidia-smi has no compute_cap (exit 2, `Field "compute_cap" is not a valid field to query.`): the
    query is repeated without it and the driver is healthy, the capability unknown."""
    info = smi(driver="470.82.01", cuda="11.4", gpus=[fakes.T4])
    assert info["state"] is None and info["present"]
    assert info["version"] == "470.82.01" and info["cuda"] == "11.4"
    assert info["gpus"][0]["name"] == "Tesla T4" and info["gpus"][0]["compute_cap"] is None
    assert info["dropped"] == ["compute_cap"]


@POSIX
@pytest.mark.parametrize(
    "state, words",
    [
        ("driver-not-loaded", "kernel module is not loaded"),
        ("nvml-missing", "libnvidia-ml.so"),
        ("version-mismatch", "upgraded while the old kernel module is still loaded"),
        ("no-permission", "may not open the GPU device nodes"),
        ("no-devices", "finds no usable GPU"),
        ("gpu-lost", "fell off the bus"),
        ("nvml-unknown", "lost the device nodes"),
    ],
)
def test_each_failure_state_has_its_own_cause(smi, state, words):
    """Every state nvidia-smi reports is told apart, by its text first and its exit code second."""
    info = smi(state=state)
    assert info["state"] == state
    assert words in info["meaning"]
    assert info["fix"] and "Xid" not in info["fix"] or state == "gpu-lost"
    assert driver.describe(info).startswith("not answering: ")


@POSIX
def test_a_hung_nvidia_smi_is_stopped_and_named(smi):
    """An nvidia-smi that does not answer within the timeout: state `hung`, the Xid/reset advice."""
    info = smi(sleep=30)
    assert info["state"] == "hung" and "did not answer within 1 s" in info["meaning"]
    assert "dmesg | grep -i xid" in info["fix"]


def test_an_unknown_exit_is_reported_in_its_own_words():
    """A failure no row knows keeps nvidia-smi's first line and exit code."""
    state, meaning, fix = driver.classify("Something new went wrong\nmore", 3)
    assert state == "failed" and meaning == "nvidia-smi failed (exit 3): Something new went wrong"


def test_states_are_records_with_named_fields():
    """classify() and failure() answer records (still unpacked as tuples by verify): fields named, not counted."""
    text, code = fakes.SMI_STATES["version-mismatch"]
    found = driver.classify(text, code)
    assert (found.state, found.fix) == ("version-mismatch", driver.STATES[2].fix) and driver.STATES[2].nvml_code == 18
    assert driver.classify("", 9).state == "driver-not-loaded"  # by code where the text says nothing
    info = {"source": "nvidia-smi", "error": text, "meaning": found.meaning, "fix": found.fix}
    failed = driver.failure(info)
    assert failed.summary == "nvidia-smi doesn't answer: " + found.meaning and failed.fix == found.fix


def test_no_devices_under_the_open_module_on_a_pascal_gpu_is_judged_by_the_node():
    """nvidia-smi's `No devices were found` (exit 6) while the open module is loaded and the GPU is a Pascal one
    (pop-os/pop#3859): the node's facts replace the generic no-devices advice (BIOS, containers); its facts ride in
    the result's data. Without such facts the state's own meaning stays."""
    from checks.machine import gpu_node

    text, code = fakes.SMI_STATES["no-devices"]
    found = driver.classify(text, code)
    info = {"source": "nvidia-smi", "error": text, "state": found.state, "meaning": found.meaning, "fix": found.fix}
    pascal = gpu_node.KernelNode(
        kernel="6.8.0-49-generic",
        flavour="open",
        branch="580",
        gpu_ids=(("0000:01:00.0", 0x1C8D),),
        gpu_ids_via="sysfs",
    )
    failed = driver.failure(info, node=pascal)
    assert failed.summary.startswith("nvidia-smi doesn't answer: the loaded NVIDIA kernel module is the open flavour")
    assert "nvidia-driver-580`" in failed.fix and "4G Decoding" not in failed.fix
    assert failed.data == {"fact": "open-module-unsupported-gpu", "gpu_node": pascal.decisive(failed.data["fact"])}
    turing = gpu_node.KernelNode(flavour="open", branch="580", gpu_ids=(("0000:01:00.0", 0x1E87),))
    assert driver.failure(info, node=turing).fix == found.fix


def test_nvml_gives_the_same_facts():
    """Through nvidia-ml-py: driver, CUDA (12020 -> 12.2), each GPU with memory, bus id and compute capability."""
    info = driver.from_nvml(fakes.pynvml(gpus=[fakes.H100, fakes.RTX_5090]))
    assert info["source"] == "NVML" and info["version"] == "535.161.07" and info["cuda"] == "12.2"
    assert [g["compute_cap"] for g in info["gpus"]] == ["9.0", "12.0"]
    assert info["gpus"][1]["memory_mib"] == 32607 and info["gpus"][1]["bus_id"] == "00000000:01:00.0"


def test_nvml_without_compute_capability_leaves_it_unknown():
    """A call the GPU or driver does not support (NVML_ERROR_NOT_SUPPORTED) leaves that field unknown."""
    info = driver.from_nvml(fakes.pynvml(unsupported=("nvmlDeviceGetCudaComputeCapability",)))
    assert info["gpus"][0]["compute_cap"] is None and info["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3"


@pytest.mark.parametrize("code, state", [(9, "driver-not-loaded"), (18, "version-mismatch"), (999, "nvml-unknown")])
def test_nvml_init_errors_map_to_the_same_states(code, state, monkeypatch):
    """nvmlInit's errors (NVMLError with nvmlReturn_t codes) map to the states nvidia-smi's texts do."""
    monkeypatch.setattr(driver, "shutil", type("S", (), {"which": staticmethod(lambda name: None)}))
    info = driver.facts(timeout=5, pynvml=fakes.pynvml(init_error=code))
    if REAL_DRIVER:
        pytest.skip("a real driver answers")
    assert info["source"] == "NVML" and info["state"] == state


def test_nvml_library_missing_falls_back_to_nvidia_smi():
    """NVML_ERROR_LIBRARY_NOT_FOUND from nvidia-ml-py means no driver library: nvidia-smi is asked instead."""
    assert driver.from_nvml(fakes.pynvml(init_error=12)) is None


# ---- the GPUs' MIG and display modes (driver.modes) -----------------------------------------------------------------
# `nvidia-smi --query-gpu=index,pci.bus_id,mig.mode.current,display_mode,display_active --format=csv,noheader,nounits`
# rows (`nvidia-smi --help-query-gpu` names the fields; Enabled/Disabled, `[N/A]` where a GPU has no MIG), and
# `nvidia-smi -L` as NVIDIA's MIG User Guide shows it (an A100 in MIG mode, its MIG devices indented under it).
A100_MIG_ROW = "0, 00000000:07:00.0, Enabled, Disabled, Disabled"
GTX_980_X_ROW = "0, 00000000:01:00.0, [N/A], Enabled, Enabled"
A100_LIST = "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77)\n"
A100_LIST_MIG = A100_LIST + (
    "  MIG 1g.5gb      Device  0: (UUID: MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f)\n"
    "  MIG 1g.5gb      Device  1: (UUID: MIG-cba663e8-9bed-5b25-b243-5985ef7c9beb)\n"
)
MODES_SMI = """#!{python}
import sys
args = sys.argv[1:]
if "-L" in args:
    sys.stdout.write({listing!r})
    sys.exit(0)
query = [a.split("=", 1)[1] for a in args if a.startswith("--query-gpu=")]
if query and {old!r} and "mig.mode.current" in query[0]:
    sys.stdout.write('Field "mig.mode.current" is not a valid field to query.\\n\\n')
    sys.exit(2)
sys.stdout.write({rows!r})
"""


@pytest.fixture
def modes_smi(tmp_path, monkeypatch):
    """Install a fake nvidia-smi answering the mode query with `rows` and -L with `listing` (NVML absent); `old`: a
    driver whose nvidia-smi predates MIG (exit 2 for mig.mode.current, as for any unknown field)."""

    def read(rows, listing="", old=False):
        path = tmp_path / "nvidia-smi"
        path.write_text(MODES_SMI.format(python=sys.executable, rows=rows, listing=listing, old=old))
        path.chmod(0o755)
        monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ["PATH"])
        monkeypatch.setitem(sys.modules, "pynvml", None)
        return driver.modes(timeout=10)

    return read


@POSIX
def test_mig_mode_without_mig_devices(modes_smi):
    """wilicc/gpu-burn#36: MIG enabled on an A100, no GPU instance created: `-L` lists the GPU alone."""
    (gpu,) = modes_smi(A100_MIG_ROW + "\n", A100_LIST)
    assert (gpu.index, gpu.bus_id, gpu.mig_mode, gpu.mig_devices) == (0, "00000000:07:00.0", True, 0)
    assert gpu.mig_without_instances and not gpu.drives_display


@POSIX
def test_mig_devices_listed_under_their_gpu_are_counted(modes_smi):
    (gpu,) = modes_smi(A100_MIG_ROW + "\n", A100_LIST_MIG)
    assert gpu.mig_devices == 2 and not gpu.mig_without_instances


@POSIX
def test_a_display_gpu_and_no_mig(modes_smi):
    """numba#9381: a GeForce GTX 980 running the X server (display mode and active Enabled); no MIG ([N/A]), so
    -L is not run (its listing would count nothing anyway)."""
    (gpu,) = modes_smi(GTX_980_X_ROW + "\n", "not to be read")
    assert gpu.drives_display and gpu.mig_mode is None and gpu.mig_devices is None


@POSIX
def test_a_driver_without_the_mig_field_still_answers_the_display(modes_smi):
    (gpu,) = modes_smi("0, 00000000:01:00.0, Enabled, Enabled\n", old=True)
    assert gpu.mig_mode is None and gpu.display_active is True


def test_nvml_gives_the_same_modes():
    """nvmlDeviceGetMigMode (current, pending), nvmlDeviceGetMaxMigDeviceCount and nvmlDeviceGetMigDeviceHandleByIndex
    (NVML_ERROR_NOT_FOUND, 6, for a slot without a MIG device), nvmlDeviceGetDisplayMode/Active (0 or 1)."""

    class NVMLError(Exception):
        def __init__(self, value):
            self.value = value

    def mig_handle(handle, index):
        if index >= 1:
            raise NVMLError(6)
        return "mig0"

    pynvml = SimpleNamespace(
        NVMLError=NVMLError,
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: None,
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda index: "gpu%d" % index,
        nvmlDeviceGetMigMode=lambda handle: [1, 1],
        nvmlDeviceGetPciInfo=lambda handle: SimpleNamespace(busId=b"00000000:07:00.0"),
        nvmlDeviceGetDisplayMode=lambda handle: 0,
        nvmlDeviceGetDisplayActive=lambda handle: 0,
        nvmlDeviceGetMaxMigDeviceCount=lambda handle: 7,
        nvmlDeviceGetMigDeviceHandleByIndex=mig_handle,
    )
    (gpu,) = driver.modes(pynvml=pynvml)
    assert (gpu.bus_id, gpu.mig_mode, gpu.mig_devices, gpu.display_active) == ("00000000:07:00.0", True, 1, False)


def test_the_listing_is_read_per_gpu():
    listing = A100_LIST_MIG + A100_LIST.replace("GPU 0", "GPU 1")
    assert driver.mig_devices_listed(listing) == {0: 2, 1: 0}


# --- a SLURM job granted no GPU ------------------------------------------------------------------------------------
# sbatch's variables on a GPU partition without --gres/--gpus (github.com/3dem/model-angelo/issues/60): no
# SLURM_JOB_GPUS, SLURM_STEP_GPUS, SLURM_GPUS_ON_NODE or CUDA_VISIBLE_DEVICES (gres.html: only a job that requests
# GPUs is granted any; sbatch(1) OUTPUT ENVIRONMENT VARIABLES). PCI devices as sysfs shows them: `vendor` and
# `class` files holding `0x10de` and `0x030200` (an NVIDIA 3D controller) or a virtio device's `0x1af4`/`0x018000`.
NO_GPU_JOB = {
    "SLURM_JOB_ID": "4817263",
    "SLURM_JOB_PARTITION": "gpu",
    "SLURM_JOB_NODELIST": "gpu-node-07",
    "SLURMD_NODENAME": "gpu-node-07",
    "SLURM_CPUS_ON_NODE": "8",
}
COULD_NOT_COMMUNICATE = {
    "source": "nvidia-smi",
    "state": "driver-not-loaded",
    "error": fakes.SMI_STATES["driver-not-loaded"][0],
    "meaning": driver.STATES[0].meaning,
    "fix": driver.STATES[0].fix,
}


def pci(tmp_path, *devices):
    """A sysfs tree under tmp_path with the given (address, vendor, class) devices; return its root."""
    for address, vendor, klass in devices:
        folder = tmp_path / "bus" / "pci" / "devices" / address
        folder.mkdir(parents=True)
        (folder / "vendor").write_text(vendor + "\n")
        (folder / "class").write_text(klass + "\n")
    return str(tmp_path)


VIRTIO = ("0000:00:02.0", "0x1af4", "0x018000")
A100 = ("0000:17:00.0", "0x10de", "0x030200")


def test_a_job_granted_no_gpu_on_a_node_whose_module_is_loaded(tmp_path):
    """The device cgroup hides the GPUs of a job without --gres: the module is loaded, nvidia-smi reaches no GPU."""
    from checks.machine import gpu_node, scheduler

    job = scheduler.collect(NO_GPU_JOB)
    for state in ("driver-not-loaded", "no-devices", "no-permission", "nvml-unknown"):
        found = driver.job_without_gpus(
            dict(COULD_NOT_COMMUNICATE, state=state),
            gpu_node.KernelNode(loaded=True),
            job,
            pci(tmp_path / state, VIRTIO, A100),
        )
        assert found[0].startswith("SLURM job 4817263 (node gpu-node-07) was granted no GPU (no SLURM_JOB_GPUS")
        assert "the nvidia kernel module is loaded on this node" in found[0] and "device cgroup" in found[0]
        assert "`#SBATCH --gres=gpu:1`" in found[1] and "install" not in found[1]
        assert found[2].endswith("nvidia module loaded; NVIDIA PCI display devices: 0000:17:00.0")


def test_a_job_granted_no_gpu_on_a_node_without_one(tmp_path, monkeypatch):
    """failure() reads the job from the environment: a node with no NVIDIA device and no module."""
    from checks.machine import gpu_node

    for name, value in NO_GPU_JOB.items():
        monkeypatch.setenv(name, value)
    for name in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS", "SLURM_GPUS_ON_NODE"):
        monkeypatch.delenv(name, raising=False)
    failed = driver.failure(
        COULD_NOT_COMMUNICATE, node=gpu_node.KernelNode(loaded=False), sys_root=pci(tmp_path, VIRTIO)
    )
    assert "was granted no GPU" in failed.summary and "this node has no NVIDIA GPU on its PCI bus" in failed.summary
    assert failed.fix.startswith("request GPUs in the job's submission") and failed.data["job"]["job_id"] == "4817263"


def test_gpus_granted_or_a_gpu_without_its_module_keep_the_driver_verdict(tmp_path):
    from checks.machine import gpu_node, scheduler

    node = gpu_node.KernelNode(loaded=False)
    with_gpus = scheduler.collect(dict(NO_GPU_JOB, SLURM_JOB_GPUS="0", CUDA_VISIBLE_DEVICES="0"))
    assert with_gpus.gpus_granted
    assert driver.failure(COULD_NOT_COMMUNICATE, node=node, job=with_gpus).fix == driver.STATES[0].fix
    nodev = scheduler.collect(dict(NO_GPU_JOB, CUDA_VISIBLE_DEVICES="NoDevFiles"))
    assert not nodev.gpus_granted and nodev.no_device_files
    # an NVIDIA GPU on the bus whose module is not loaded: the node's fault, not the request's
    assert driver.job_without_gpus(COULD_NOT_COMMUNICATE, node, nodev, pci(tmp_path, A100)) is None
    # a state no hidden device explains (the driver's libraries upgraded under the running module)
    mismatch = dict(COULD_NOT_COMMUNICATE, state="version-mismatch")
    assert driver.job_without_gpus(mismatch, gpu_node.KernelNode(loaded=True), nodev, pci(tmp_path)) is None
    assert driver.failure(COULD_NOT_COMMUNICATE, node=node, job=None).fix == driver.STATES[0].fix


def test_the_header_does_not_call_a_loaded_module_not_loaded(tmp_path):
    """nvidia-smi's `couldn't communicate` is read as a module not loaded; /proc/modules (proc(5): name, size, use
    count, users, state, address) listing nvidia says otherwise."""
    (tmp_path / "modules").write_text(
        "nvidia_uvm 1515520 0 - Live 0x0000000000000000 (POE)\n"
        "nvidia 56823808 2 nvidia_uvm, Live 0x0000000000000000 (POE)\n"
    )
    loaded = driver.describe(COULD_NOT_COMMUNICATE, proc=str(tmp_path))
    assert (
        loaded == "not answering: nvidia-smi cannot reach the driver, although the nvidia module is loaded (nvidia-smi)"
    )
    (tmp_path / "modules").write_text("virtio_net 61440 0 - Live 0x0000000000000000\n")
    assert driver.describe(COULD_NOT_COMMUNICATE, proc=str(tmp_path)) == (
        "not answering: the NVIDIA kernel module is not loaded (nvidia-smi)"
    )


# nvidia-smi 535.146.02's plain table (its banner and one GPU's rows), as it prints it
SMI_535_TABLE = """+---------------------------------------------------------------------------------------+
| NVIDIA-SMI 535.146.02             Driver Version: 535.146.02   CUDA Version: 12.2     |
|-----------------------------------------+----------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id        Disp.A | Volatile Uncorr. ECC |
| Fan  Temp   Perf          Pwr:Usage/Cap |         Memory-Usage | GPU-Util  Compute M. |
|                                         |                      |               MIG M. |
|=========================================+======================+======================|
|   0  NVIDIA GeForce RTX 3090        Off | 00000000:01:00.0 Off |                  N/A |
|  0%   38C    P8              22W / 350W |      1MiB / 24576MiB |      0%      Default |
|                                         |                      |                  N/A |
+-----------------------------------------+----------------------+----------------------+
"""


def test_the_table_names_the_gpus_when_the_query_gives_no_row():
    from checks.nvidia import driver

    found = driver._from_table(SMI_535_TABLE)
    assert found["version"] == "535.146.02"
    assert [(g["name"], g["memory_mib"], g["bus_id"]) for g in found["gpus"]] == [
        ("NVIDIA GeForce RTX 3090", 24576, "00000000:01:00.0")
    ]
    assert driver._from_table("No devices were found\n") == {}
