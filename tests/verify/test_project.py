"""Tests for checks/verify/project.py: the working directory's imports and requirements against this Python. The
project and the packages it imports are laid out in tmp_path; the imports are real."""

import sys
import types
from types import SimpleNamespace

import pytest

from checks.report import FAIL
from checks.verify import project

TORCH = SimpleNamespace(__version__="2.0.1")


@pytest.fixture
def layout(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.syspath_prepend(str(site))
    yield site, work
    for name in [n for n in sys.modules if n.startswith(("fitpkg", "brokenpkg"))]:
        sys.modules.pop(name, None)


def _package(site, name, body):
    (site / name).mkdir()
    (site / name / "__init__.py").write_text(body)


def test_no_code_in_the_working_directory_is_a_skip(layout):
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == "SKIP"


def test_a_module_the_code_imports_that_is_not_installed(layout):
    _, work = layout
    (work / "train.py").write_text("import os\nimport lightning_not_here as L\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == FAIL and result.summary.startswith("train.py:2 imports lightning_not_here")
    assert "ModuleNotFoundError: No module named 'lightning_not_here'" in result.data["exception"]


def test_what_the_code_imports_is_imported_and_a_failure_carries_its_exception(layout):
    site, work = layout
    _package(site, "fitpkg", "VALUE = 1\n")
    _package(site, "brokenpkg", "from torch.optim.lr_scheduler import SAVE_STATE_WARNING_NOT_HERE\n")
    (work / "train.py").write_text("from fitpkg import VALUE\nimport brokenpkg\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=False))
    assert result.status == FAIL and result.summary.startswith("train.py:2: brokenpkg does not import with torch 2.0.1")
    assert "cannot import name 'SAVE_STATE_WARNING_NOT_HERE'" in result.data["exception"]
    (work / "train.py").write_text("from fitpkg import VALUE\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == "PASS" and "import with this torch: fitpkg" in result.summary


def test_an_unmet_requirements_line_is_a_warning(layout):
    pytest.importorskip("packaging")
    _, work = layout
    (work / "requirements.txt").write_text("surely-not-installed-pkg>=1.0\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == "WARN" and "surely-not-installed-pkg is not installed" in result.summary
    assert result.hint == 'python -m pip install "surely-not-installed-pkg>=1.0"'


def test_a_torch_name_the_code_uses_that_this_torch_lacks_warns(layout):
    torch = pytest.importorskip("torch")
    _, work = layout
    (work / "train.py").write_text(
        "import torch\nimport torch.nn.functional as F\n"
        "def step(x):\n"
        "    if hasattr(torch, 'not_in_any_torch_a'):\n        torch.not_in_any_torch_a(x)\n"  # guarded: fine
        "    y = F.relu(x)\n"
        "    torch.ops.myns.myop(y)\n"  # registered at run time: not judged
        "    return F.not_in_any_torch_b(y)\n"
    )
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    version = torch.__version__.split("+")[0]
    assert result.status == "WARN" and result.summary == (
        "train.py:8 uses torch.nn.functional.not_in_any_torch_b, which torch %s does not have: the code fails there"
        % version
    )
    assert "install a torch that has it" in result.hint
    (work / "train.py").write_text("import torch\nimport torch.nn.functional as F\ny = F.relu(torch.ones(2))\n")
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == "PASS"


def test_the_release_that_added_a_name_is_named(layout, monkeypatch):
    """compat.TORCH_API: torch.compiler came with 2.1; a torch reporting 2.0.1 without it."""
    _, work = layout
    (work / "train.py").write_text("import torch\ntorch.compiler.reset()\n")
    fake = types.ModuleType("torch")
    fake.__version__ = "2.0.1+cu117"
    result = project.check_project(SimpleNamespace(torch=fake, quick=True))
    assert result.status == "WARN" and "torch.compiler, which torch 2.0.1 does not have (added in torch 2.1)" in (
        result.summary
    )
    assert '"torch>=2.1"' in result.hint
