"""Tests for checks/verify/cuda_build.py: which CUDA build of the installed torch release to install in place of a
CPU build, in the way the environment was installed, from driver facts shaped as checks/nvidia/driver.py returns
them (no GPU needed)."""

import pytest

from checks.machine import provenance
from checks.verify import cuda_build
from checks.workspace import promise


def driver(version="535.161.07", cuda="12.2", gpus=(("NVIDIA GeForce RTX 4080", "8.9"),)):
    """Driver facts as nvidia-smi gives them (driver.facts(): the keys cuda_build reads and their neighbours)."""
    listed = [{"name": n, "memory_mib": 16376, "bus_id": "00000000:01:00.0", "compute_cap": c} for n, c in gpus]
    return {"present": True, "version": version, "cuda": cuda, "gpus": listed, "source": "nvidia-smi", "state": None}


def torch_copy(tmp_path, installer):
    """Return provenance's Copy of a torch installed by `installer` (a real dist-info with its INSTALLER file)."""
    site = tmp_path / "site-packages"
    (site / "torch").mkdir(parents=True)
    (site / "torch" / "__init__.py").write_text("")
    info = site / "torch-2.13.0+cpu.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.13.0+cpu\n")
    (info / "INSTALLER").write_text(installer + "\n")
    return provenance.copies("torch", path=[str(site)], environment=str(tmp_path))[0]


def test_pip_cpu_wheel_on_driver_535_gets_the_cu126_wheel(tmp_path):
    """torch 2.13.0+cpu (builds: CUDA 12.6, 13.0, 13.2), driver 535 (CUDA 12.2), RTX 4080: the CUDA 12.6 wheel, which
    this driver runs under minor-version compatibility (12.x from 525.60.13; fully from 560.28.03), with its local
    label so that pip replaces the +cpu build."""
    fix = cuda_build.fix_for_cpu_build("2.13.0+cpu", driver(), "linux-64", copy=torch_copy(tmp_path, "pip"))
    assert fix.how == "pip" and fix.choice.cuda == "12.6" and fix.choice.verdict == "limited"
    assert fix.command == "pip install torch==2.13.0+cu126 --index-url https://download.pytorch.org/whl/cu126"
    assert "minor-version compatibility, fully from 560.28.03" in fix.reason
    assert fix.workspace is None and fix.command in fix.hint()


def test_uv_install_keeps_uv_and_pins_the_paired_torchvision(tmp_path):
    """INSTALLER `uv`: `uv pip install`; torchvision at the release that pairs with torch 2.13 (0.28.0), and the
    installed torchaudio 2.11 left out (its releases end at 2.11, so 2.13's CUDA indexes need not have it)."""
    installed = {"torchvision": "0.28.0+cpu", "torchaudio": "2.11.0+cpu"}
    fix = cuda_build.fix_for_cpu_build(
        "2.13.0+cpu", driver(version="590.44.01", cuda="13.1"), "linux-64", installed, copy=torch_copy(tmp_path, "uv")
    )
    assert fix.choice.cuda == "13.0" and fix.choice.verdict == "ok"
    assert fix.command == (
        "uv pip install torch==2.13.0+cu130 torchvision==0.28.0+cu130 --index-url https://download.pytorch.org/whl/cu130"
    )


def test_torch_20_gets_cu118_at_full_support_with_its_domain_libraries():
    """torch 2.0.1 (builds: CUDA 11.7, 11.8) on driver 535: CUDA 11.8 is fully supported (>= 520.61.05); torchvision
    and torchaudio at their 2.0.1 pairing (0.15.2, 2.0.2), as the previous-versions page's cu118 command has them."""
    installed = {"torchvision": "0.15.2+cpu", "torchaudio": "2.0.2+cpu"}
    fix = cuda_build.fix_for_cpu_build("2.0.1+cpu", driver(), "linux-64", installed)
    assert (fix.choice.cuda, fix.choice.verdict) == ("11.8", "ok")
    assert fix.command == (
        "pip install torch==2.0.1+cu118 torchvision==0.15.2+cu118 torchaudio==2.0.2+cu118 "
        "--index-url https://download.pytorch.org/whl/cu118"
    )


def test_pytorch_channel_record_gets_pytorch_cuda():
    """A conda record of pytorch from the `pytorch` channel: `pytorch-cuda=X.Y` of that channel."""
    record = {"version": "2.0.1", "build": "py3.10_cpu_0", "channel": "pytorch"}
    fix = cuda_build.fix_for_cpu_build("2.0.1", driver(), "linux-64", {"torchvision": "0.15.2"}, record=record)
    assert fix.how == "pytorch-channel"
    assert fix.command == "conda install pytorch==2.0.1 torchvision==0.15.2 pytorch-cuda=11.8 -c pytorch -c nvidia"


def test_pytorch_channel_has_nothing_after_25():
    """The pytorch channel's last release is 2.5: for 2.13 no pytorch-cuda is named, conda-forge or pip instead."""
    record = {"version": "2.13.0", "build": "py3.11_cpu_0", "channel": "pytorch"}
    fix = cuda_build.fix_for_cpu_build("2.13.0", driver(), "linux-64", record=record)
    assert fix.command is None and "pytorch-cuda" not in fix.hint()
    assert "no builds of torch 2.13.0 (its last is 2.5)" in fix.reason and '"pytorch=2.13.0=cuda*"' in fix.reason


def test_conda_forge_record_gets_its_cuda_build_string():
    """conda-forge: its CUDA build of the same version (`cuda*` build strings); conda picks the CUDA by __cuda."""
    record = {"version": "2.13.0", "build": "cpu_mkl_py311_h0f3a2b1_100", "channel": "conda-forge"}
    fix = cuda_build.fix_for_cpu_build("2.13.0", driver(), "linux-64", record=record)
    assert fix.how == "conda-forge" and fix.command == 'conda install -c conda-forge "pytorch=2.13.0=cuda*"'
    assert "__cuda 12.2" in fix.reason


@pytest.mark.parametrize(
    "facts, needed",
    [
        (driver(version="470.256.02", cuda="11.4", gpus=[("Tesla T4", "7.5")]), ("560.28.03", "12.6")),
        (driver(version="570.86.10", cuda="12.8", gpus=[("NVIDIA GeForce RTX 5090", "12.0")]), ("580", "13.0")),
    ],
)
def test_a_driver_too_old_for_every_build_says_update_the_driver(facts, needed):
    """Driver 470 is below CUDA 12.x's 525 floor; for an RTX 5090 (sm_120) CUDA 12.6 cannot build kernels and 13.x
    needs R580: no install command, the driver to update to."""
    fix = cuda_build.fix_for_cpu_build("2.13.0+cpu", facts, "linux-64")
    assert fix.choice.verdict == "too-old" and fix.command is None
    assert "too old for every CUDA build of torch 2.13.0" in fix.reason
    assert "update the NVIDIA driver to %s or newer, then install its CUDA %s build" % needed in fix.reason


def test_a_driver_too_old_for_this_release_is_offered_the_newest_release_it_runs():
    """compat.newest_release_for_driver: R570 runs CUDA 12.8 (MIN_DRIVER), so for a Blackwell GPU (sm_100, which
    needs CUDA 12.8) the newest release with such a build is 2.11 (WHEEL_CUDA: 12.6, 12.8, 13.0); an R450 driver
    runs CUDA 11.0 only, older than every build tabled."""
    from checks import compat

    key, choice = compat.newest_release_for_driver("570.172.08", capabilities=[(10, 0)])
    assert key == (2, 11) and choice.cuda == "12.8" and choice.verdict == "ok"
    assert compat.newest_release_for_driver("450.51.06") is None


def test_a_gpu_no_build_can_serve_says_so():
    """A Kepler GPU (sm_37): CUDA 12.0 dropped it, so no CUDA build of torch 2.13 has its kernels."""
    fix = cuda_build.fix_for_cpu_build("2.13.0+cpu", driver(gpus=[("Tesla K80", "3.7")]), "linux-64")
    assert fix.choice.verdict == "no-kernels" and fix.command is None and "older torch" in fix.reason


def test_a_release_without_a_row_is_not_guessed():
    """torch 2.15 has no row in the table: no cuXYZ is named, the previous-versions page is."""
    fix = cuda_build.fix_for_cpu_build("2.15.0+cpu", driver(), "linux-64")
    assert fix.choice is None and fix.command is None
    assert "no CUDA builds of torch 2.15.0" in fix.reason and "cu1" not in fix.hint()


WORKSPACE = """\
[workspace]
channels = ["conda-forge"]
platforms = [
  { name = "linux-64-cu130", platform = "linux-64", cuda = "13.0" },
  { name = "linux-64-cu120", platform = "linux-64", cuda = "12.0" },
  "linux-64",
]

[dependencies]
python = "3.11.*"

[feature.cpu.dependencies]
pytorch-cpu = "*"

[feature.gpu.dependencies]
pytorch-gpu = "*"

[environments]
cpu = { features = ["cpu"], platforms = ["linux-64"] }
gpu13 = { features = ["gpu"], platforms = ["linux-64-cu130"] }
gpu = { features = ["gpu"], platforms = ["linux-64-cu120", "linux-64-cu130"] }
"""


def test_the_workspaces_cuda_environment_that_runs_here_is_named(tmp_path, monkeypatch):
    """In a pixi workspace: the CUDA environment pixi would install on this driver (CUDA 12.2 runs the platform that
    declares 12.0, not the one that declares 13.0), read from its manifest, not a fixed name."""
    (tmp_path / "pixi.toml").write_text(WORKSPACE)
    monkeypatch.chdir(tmp_path)
    host = promise.host_packages("12.2", None, "2.36", "6.1")
    fix = cuda_build.fix_for_cpu_build("2.13.0+cpu", driver(), "linux-64", host=host)
    assert fix.workspace == "pixi run -e gpu verify"
    assert fix.hint().endswith("; or in this workspace: `pixi run -e gpu verify`")
    host = promise.host_packages("13.1", None, "2.36", "6.1")
    assert cuda_build.fix_for_cpu_build("2.13.0+cpu", driver(cuda="13.1"), "linux-64", host=host).workspace == (
        "pixi run -e gpu13 verify"
    )


def test_no_workspace_environment_without_a_manifest_or_with_a_broken_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    host = promise.host_packages("12.2", None, "2.36", "6.1")
    assert cuda_build.fix_for_cpu_build("2.13.0+cpu", driver(), "linux-64", host=host).workspace is None
    (tmp_path / "pixi.toml").write_text("[workspace\n")
    assert cuda_build.fix_for_cpu_build("2.13.0+cpu", driver(), "linux-64", host=host).workspace is None
