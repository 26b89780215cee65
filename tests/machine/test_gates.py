"""Tests for checks/machine/gates.py: how a package built on torch decides to use it, read from source laid out as
transformers ships it (the lines below are transformers 4.12.3's file_utils.py and 4.57.1's utils/import_utils.py,
abridged to the decision)."""

from checks.machine import gates

TRANSFORMERS_4_12 = """import os
ENV_VARS_TRUE_VALUES = {"1", "ON", "YES", "TRUE"}
ENV_VARS_TRUE_AND_AUTO_VALUES = ENV_VARS_TRUE_VALUES.union({"AUTO"})

USE_TF = os.environ.get("USE_TF", "AUTO").upper()
USE_TORCH = os.environ.get("USE_TORCH", "AUTO").upper()
USE_JAX = os.environ.get("USE_FLAX", "AUTO").upper()

if USE_TORCH in ENV_VARS_TRUE_AND_AUTO_VALUES and USE_TF not in ENV_VARS_TRUE_VALUES:
    _torch_available = importlib.util.find_spec("torch") is not None
else:
    logger.info("Disabling PyTorch because USE_TF is set")
    _torch_available = False
"""
TRANSFORMERS_4_57 = TRANSFORMERS_4_12.replace(
    '    _torch_available = importlib.util.find_spec("torch") is not None\n',
    '    _torch_available, _torch_version = _is_package_available("torch", return_version=True)\n'
    "    if _torch_available:\n"
    '        _torch_available = version.parse(_torch_version) >= version.parse("2.1.0")\n'
    "        if not _torch_available:\n"
    '            logger.warning(f"Disabling PyTorch because PyTorch >= 2.1 is required but found {_torch_version}")\n',
)


def package(tmp_path, text, where=("utils", "import_utils.py")):
    folder = tmp_path / "transformers"
    path = folder.joinpath(*where)
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return str(folder)


def test_the_decision_is_read_with_its_variables_and_line(tmp_path):
    gate = gates.read(package(tmp_path, TRANSFORMERS_4_12, ("file_utils.py",)))
    assert (gate.wanted, gate.refused, gate.line, gate.minimum) == (("USE_TORCH", "AUTO"), ("USE_TF", "AUTO"), 9, None)
    assert gate.true_values == {"1", "ON", "YES", "TRUE"}


def test_which_values_turn_torch_off(tmp_path):
    """Torch stays on only with USE_TORCH true or AUTO (any case: the source upper()s it) and USE_TF not true."""
    gate = gates.read(package(tmp_path, TRANSFORMERS_4_12))
    assert gate.why_off({}, "2.0.1") is None
    assert gate.why_off({"USE_TF": "YES"}, "2.0.1") == ("it disables PyTorch because USE_TF=YES is set", "USE_TF")
    assert gate.why_off({"USE_TORCH": "0"}, "2.0.1") == ("it disables PyTorch because USE_TORCH=0 is set", "USE_TORCH")
    assert gate.why_off({"USE_TORCH": "auto", "USE_TF": "0"}, "2.0.1") is None


def test_a_minimum_torch_release_is_read(tmp_path):
    gate = gates.read(package(tmp_path, TRANSFORMERS_4_57))
    assert gate.minimum == "2.1"
    assert gate.why_off({}, "2.0.1") == ("it disables PyTorch below torch 2.1, and this is 2.0.1", None)
    assert gate.why_off({}, "2.13.0") is None


def test_a_package_that_does_not_decide_so_has_no_gate(tmp_path):
    assert gates.read(package(tmp_path, "import torch\n")) is None
    assert gates.read(str(tmp_path / "absent")) is None


# lightning_fabric 1.9.5's plugins/environments/slurm.py, lines 187-192 (read from its wheel)
SLURM_PY = """def _is_srun_used() -> bool:
    return "SLURM_NTASKS" in os.environ and not _is_slurm_interactive_mode()


def _is_slurm_interactive_mode() -> bool:
    return SLURMEnvironment.job_name() in ("bash", "interactive")
"""


def test_lightning_taking_an_interactive_slurm_shell_for_a_job_step_is_named(tmp_path):
    """Lightning-AI/lightning#16730: `srun --job-name=train --gres=gpu:4 --pty bash`, then a 4-GPU Trainer: Lightning
    sees SLURM_NTASKS=1 and a job name that is not bash/interactive, lets Slurm own the processes, and runs one."""
    site = tmp_path / "site-packages"
    path = site / "lightning_fabric" / "plugins" / "environments" / "slurm.py"
    path.parent.mkdir(parents=True)
    path.write_text(SLURM_PY)
    environ = {"SLURM_NTASKS": "1", "SLURM_JOB_NAME": "train", "SLURM_NNODES": "1", "CUDA_VISIBLE_DEVICES": "0,1,2,3"}
    found = gates.slurm_takeover([str(site)], environ)
    assert (found.package, found.tasks, found.devices, found.interactive) == (
        "lightning_fabric",
        1,
        4,
        ("bash", "interactive"),
    )
    assert gates.slurm_takeover([str(site)], dict(environ, SLURM_JOB_NAME="interactive")) is None
    assert gates.slurm_takeover([str(site)], dict(environ, SLURM_NTASKS="4")) is None  # one task a GPU
    assert gates.slurm_takeover([str(site)], {k: v for k, v in environ.items() if k != "SLURM_NTASKS"}) is None
    assert gates.slurm_takeover([str(tmp_path / "none")], environ) is None
