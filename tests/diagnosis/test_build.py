"""Tests for checks/diagnosis/build.py: a failure of a build without CUDA judged by torch's version.py, laid out as
the 2.13.0+cpu wheel writes it (`cuda: Optional[str] = None`) and as the 2.0.1 wheel does (`cuda = '11.7'`)."""

import pytest
from diagnosis_facts import facts_for, site

from checks import diagnosis
from checks.diagnosis import build

CPU_VERSION_PY = (
    "from typing import Optional\n\n__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip']\n"
    "__version__ = '2.13.0+cpu'\ndebug = False\ncuda: Optional[str] = None\n"
    "git_version = 'cf30153c4c131c8164ee7798e5022d810682e2cb'\nhip: Optional[str] = None\n"
)
CUDA_VERSION_PY = "__version__ = '2.0.1'\ndebug = False\ncuda = '11.7'\ngit_version = 'e9ebda29d8'\nhip = None\n"


@pytest.mark.parametrize(
    "text",
    [
        "AssertionError: Torch not compiled with CUDA enabled",  # torch/cuda/__init__.py _lazy_init
        "RuntimeError: Distributed package doesn't have NCCL built in",  # distributed_c10d.py
        "RuntimeError: Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
        "If you are running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') to "
        "map your storages to the CPU.",  # torch/serialization.py
    ],
)
def test_a_cpu_build_names_itself_and_the_cuda_build_to_install(tmp_path, monkeypatch, text):
    prefix, packages = site(tmp_path, torch_version="2.13.0+cpu")
    (packages / "torch" / "version.py").write_text(CPU_VERSION_PY)
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "build" and "2.13.0+cpu" in cause.meaning and "CPU-only build" in cause.meaning
    assert "--index-url https://download.pytorch.org/whl/cu" in cause.fix or "macOS" in cause.fix
    assert ("map_location" in cause.fix) == ("deserialize" in text)


def test_a_cuda_build_is_left_to_the_gpu_s_access_path(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    (packages / "torch" / "version.py").write_text(CUDA_VERSION_PY)
    facts = facts_for(monkeypatch, prefix, [packages])
    assert diagnosis.explain("AssertionError: Torch not compiled with CUDA enabled", facts).rule != "build"
    assert build.version_py(str(packages / "torch"))["cuda"] == "11.7"
