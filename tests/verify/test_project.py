"""Tests for checks/verify/project.py: the working directory's imports and requirements against this Python. The
project and the packages it imports are laid out in tmp_path; the imports are real."""

import importlib.util
import os
import sys
import types
from types import SimpleNamespace

import pytest
from diagnosis_facts import facts_for, site

from checks import diagnosis
from checks.machine import hf_hub
from checks.report import FAIL, PASS, WARN
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
        "train.py:8 uses torch.nn.functional.not_in_any_torch_b, which torch %s does not have: code that reaches it "
        "fails" % version
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


def _dist(site, name, version, files, requires=()):
    """An installed distribution as pip writes it: its modules from `files` {relative path: text}, a dist-info with
    METADATA (`requires`: Requires-Dist values), RECORD listing the files, and top_level.txt."""
    for rel, text in files.items():
        path = site / name / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    info = site / ("%s-%s.dist-info" % (name, version))
    info.mkdir()
    declared = "".join("Requires-Dist: %s\n" % r for r in requires)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s" % (name, version, declared))
    (info / "RECORD").write_text("".join("%s/%s,,\n" % (name, rel) for rel in files) + "%s/RECORD,,\n" % info.name)
    (info / "top_level.txt").write_text(name + "\n")


def _built_on_torch(site, name, version, files):
    """An installed package requiring torch through an extra, as transformers declares it."""
    _dist(site, name, version, files, requires=["torch ; extra == 'torch'"])


# transformers 4.43.1's modeling_utils.py, lines 866-872 (transformers#32185; PR #32193 guarded it with
# hasattr(torch, "float8_e4m3fn") in 4.43.2), loaded only on the first from_pretrained call
FLOAT8_4431 = """import torch


def _load_state_dict_into_meta_model(model, state_dict, dtype=None):
    for param_name, param in state_dict.items():
        # We convert floating dtypes to the `dtype` passed. We want to keep the buffers/params
        # in int/uint/bool and not cast them.
        if dtype is not None and torch.is_floating_point(param) and param.dtype != torch.float8_e4m3fn:
            param = param.to(dtype)
    return model
"""
FLOAT8_4432 = FLOAT8_4431.replace(
    "    for param_name",
    '    is_torch_e4m3fn_available = hasattr(torch, "float8_e4m3fn")\n    for param_name',
).replace(
    "param.dtype != torch.float8_e4m3fn", "not (is_torch_e4m3fn_available and param.dtype == torch.float8_e4m3fn)"
)
LAZY_INIT = (
    "def __getattr__(name):\n    import importlib\n\n"
    "    return getattr(importlib.import_module('.auto', __name__), name)\n"
)
AUTO = (
    "class AutoModelForCausalLM:\n    @classmethod\n    def from_pretrained(cls, name):\n"
    "        from .modeling_utils import _load_state_dict_into_meta_model\n"
)


@pytest.fixture
def packages(layout, monkeypatch):
    from checks.verify import install

    pytest.importorskip("torch")  # before sys.path loses site-packages
    site, work = layout
    monkeypatch.setattr(sys, "path", [str(site)] + [p for p in sys.path if "-packages" not in p and p != str(site)])
    install._built_on_torch.cache_clear()
    yield site, work
    install._built_on_torch.cache_clear()
    for name in [n for n in sys.modules if n.startswith(("lazyformers", "loadlib"))]:
        sys.modules.pop(name, None)


@pytest.mark.parametrize("release", ["4.43.1", "4.43.2"])
def test_a_package_s_core_module_using_a_name_this_torch_lacks_warns(packages, release):
    """The float8 comparison fails only on the first from_pretrained call, not at import (modeling_utils is not
    loaded by the import): the package's top-level modules are read. 4.43.2's hasattr probe guards it."""
    torch = pytest.importorskip("torch")
    if hasattr(torch, "float8_e4m3fn"):
        pytest.skip("torch %s has float8_e4m3fn (from 2.1 on)" % torch.__version__)
    site, work = packages
    body = FLOAT8_4431 if release == "4.43.1" else FLOAT8_4432
    _built_on_torch(
        site, "lazyformers", release, {"__init__.py": LAZY_INIT, "auto.py": AUTO, "modeling_utils.py": body}
    )
    (work / "run.py").write_text("import torch\nfrom lazyformers import AutoModelForCausalLM\n")
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    if release == "4.43.2":
        assert result.status == "PASS", result.summary
        return
    assert result.status == "WARN" and result.summary == (
        "lazyformers 4.43.1 (lazyformers/modeling_utils.py:8) uses torch.float8_e4m3fn, which torch 2.0.1 does not "
        "have (added in torch 2.1): code that reaches it fails"
    )
    assert "install a lazyformers release written for torch 2.0.1" in result.hint and '"torch>=2.1"' in result.hint
    assert '(an older one: `python -m pip install "lazyformers<4.43.1"`)' in result.hint


def test_a_keyword_this_torch_does_not_take_warns_with_its_release(packages, monkeypatch):
    """transformers 4.37.1's load_state_dict passes weights_only to torch.load, which torch 1.12 does not take
    (transformers#28720): a torch reporting 1.12.1. Its `except Exception` raises again, so it is no fallback."""
    torch = pytest.importorskip("torch")
    site, work = packages
    body = (
        "import torch\n\n\ndef load_state_dict(checkpoint_file):\n    try:\n"
        "        return torch.load(checkpoint_file, map_location='cpu', weights_only=True)\n"
        "    except Exception as e:\n"
        "        raise OSError('Unable to load weights from pytorch checkpoint file') from e\n"
    )
    _built_on_torch(
        site,
        "loadlib",
        "4.37.1",
        {"__init__.py": "from .modeling_utils import load_state_dict\n", "modeling_utils.py": body},
    )
    (work / "run.py").write_text("import loadlib\n")
    monkeypatch.setattr(torch, "__version__", "1.12.1")
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == "WARN" and result.summary == (
        "loadlib 4.37.1 (loadlib/modeling_utils.py:6) calls torch.load(weights_only=...), which torch 1.12.1 does "
        "not take (added in torch 1.13): code that reaches it fails"
    )
    assert '"torch>=1.13"' in result.hint


# transformers 4.12.3's file_utils.py, lines 60-77, abridged: torch is used only with USE_TORCH true or AUTO and
# USE_TF not true (transformers#14303: a script converted from TensorFlow kept `os.environ['USE_TF'] = 'YES'`)
GATE_4123 = """import importlib.util
import os
ENV_VARS_TRUE_VALUES = {"1", "ON", "YES", "TRUE"}
ENV_VARS_TRUE_AND_AUTO_VALUES = ENV_VARS_TRUE_VALUES.union({"AUTO"})
USE_TF = os.environ.get("USE_TF", "AUTO").upper()
USE_TORCH = os.environ.get("USE_TORCH", "AUTO").upper()
if USE_TORCH in ENV_VARS_TRUE_AND_AUTO_VALUES and USE_TF not in ENV_VARS_TRUE_VALUES:
    _torch_available = importlib.util.find_spec("torch") is not None
else:
    print("Disabling PyTorch because USE_TF is set")
    _torch_available = False
"""


def test_a_variable_the_code_sets_that_turns_a_package_s_torch_off_fails(packages, monkeypatch):
    torch = pytest.importorskip("torch")
    site, work = packages
    _built_on_torch(
        site, "lazyformers", "4.12.3", {"__init__.py": "from . import file_utils\n", "file_utils.py": GATE_4123}
    )
    (work / "train.py").write_text(
        "import os\nos.environ['USE_TF'] = 'YES'\nos.environ.setdefault('OMP_NUM_THREADS', 'all')\n"
        "from lazyformers import file_utils\n"
    )
    monkeypatch.delenv("USE_TF", raising=False)
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    version = torch.__version__.split("+")[0]
    assert result.status == FAIL and result.summary.startswith(
        "lazyformers 4.12.3 does not use torch here: it disables PyTorch because USE_TF=YES is set (train.py:2 sets "
        "it) (lazyformers/file_utils.py:7)"
    )
    assert result.hint.startswith("remove the line that sets USE_TF in train.py:2") and version in result.summary
    (work / "train.py").write_text("import os\nos.environ.setdefault('OMP_NUM_THREADS', 'all')\nimport lazyformers\n")
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))  # the OpenMP grammar, judged as set
    assert result.status == "WARN" and result.summary.startswith("train.py:2 sets OMP_NUM_THREADS='all': not valid")
    assert result.hint.startswith("change OMP_NUM_THREADS in train.py:2: ")


def test_a_package_turned_off_by_the_environment_is_a_dependents_warning(packages, monkeypatch):
    torch = pytest.importorskip("torch")
    from checks.verify import install

    site, _ = packages
    _built_on_torch(site, "lazyformers", "4.12.3", {"__init__.py": "", "file_utils.py": GATE_4123})
    monkeypatch.setenv("USE_TF", "1")
    result = install.check_dependents(SimpleNamespace(torch=torch, quick=True))
    assert result.status == "WARN" and "it disables PyTorch because USE_TF=1 is set" in result.summary
    assert result.hint.startswith("`unset USE_TF`")
    monkeypatch.setenv("USE_TF", "AUTO")
    assert "disables PyTorch" not in install.check_dependents(SimpleNamespace(torch=torch, quick=True)).summary


def test_cuda_visible_devices_the_launch_script_sets_beyond_the_driver_s_gpus_fails(layout):
    """A launch script copied from an 8-GPU node (`export CUDA_VISIBLE_DEVICES=4,5`) on a machine whose driver sees
    one GPU: CUDA hides every GPU from that job. The driver's list is verify's own (ctx.driver)."""
    _, work = layout
    (work / "train.sh").write_text("#!/bin/bash\nexport CUDA_VISIBLE_DEVICES=4,5\npython train.py\n")
    driver = {"state": None, "gpus": [{"name": "NVIDIA A10", "uuid": "GPU-1b2c"}]}
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True, driver=driver))
    assert result.status == FAIL and result.summary.startswith(
        "train.sh:2 sets CUDA_VISIBLE_DEVICES='4,5', but the driver sees 1 GPU and 4, 5 names none of them"
    )
    assert result.hint.startswith("set CUDA_VISIBLE_DEVICES=0 in train.sh:2 (the GPUs this machine has)")
    (work / "train.sh").write_text("export CUDA_VISIBLE_DEVICES=0\n")
    assert project.check_project(SimpleNamespace(torch=TORCH, quick=True, driver=driver)).status == "PASS"
    (work / "train.sh").write_text("export CUDA_VISIBLE_DEVICES=\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True, driver=driver))
    assert "which hides every GPU" in result.summary


def test_a_source_checkout_beside_the_code_of_a_package_not_installed_fails(layout):
    """ultralytics/ultralytics#2709: `git clone` of ultralytics inside the project, ultralytics installed in another
    Python: `from ultralytics import YOLO` imports the clone's root (no __init__.py) as an empty namespace package,
    "cannot import name 'YOLO' from 'ultralytics' (unknown location)". Installed, the regular package wins."""
    site, work = layout
    (work / "main.py").write_text("from ultralytics_clone import YOLO\n")
    (work / "ultralytics_clone" / "ultralytics_clone").mkdir(parents=True)
    (work / "ultralytics_clone" / "ultralytics_clone" / "__init__.py").write_text("YOLO = 1\n")
    (work / "ultralytics_clone" / "README.md").write_text("# clone\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == FAIL and result.summary.startswith(
        "main.py:1: `from ultralytics_clone import YOLO` finds %s, a source checkout" % (work / "ultralytics_clone")
    )
    assert "`python -m pip install -e ./ultralytics_clone`" in result.hint
    _dist(site, "ultralytics_clone", "8.0.105", {"__init__.py": "YOLO = 1\n"})
    assert project.check_project(SimpleNamespace(torch=TORCH, quick=True)).status != FAIL
    sys.modules.pop("ultralytics_clone", None)


def test_a_removed_torch_name_deep_in_the_project_s_own_package_warns_with_its_replacement(layout, monkeypatch):
    """NVIDIA/Megatron-LM#293: pretrain_gpt.py imports megatron, whose megatron/optimizer/clip_grads.py does
    `from torch._six import inf` (torch 2.0 removed torch._six; Megatron's commit f7056ab moved to `from torch
    import inf`). Every file of the project's own packages is read; a git checkout is told to update first."""
    torch = SimpleNamespace(__version__="2.0.1", __file__=None)
    _, work = layout
    (work / "pretrain_gpt.py").write_text("import torch\nfrom megatron_like.training import pretrain\n")
    deep = work / "megatron_like" / "optimizer"
    deep.mkdir(parents=True)
    for folder in (work / "megatron_like", deep):
        (folder / "__init__.py").write_text("")
    (work / "megatron_like" / "training.py").write_text("def pretrain():\n    pass\n")
    (deep / "clip_grads.py").write_text('"""Gradient clipping."""\n\nimport torch\nfrom torch._six import inf\n')
    monkeypatch.setattr(project.api, "_missing", lambda torch, name: name.startswith("torch._six"))
    monkeypatch.setattr(project.api, "torch_gap", _six_gap)
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == "WARN" and result.summary.startswith(
        "megatron_like/optimizer/clip_grads.py:4 uses torch._six, which torch 2.0.1 does not have (removed in "
        "torch 2.0)"
    )
    assert result.hint.startswith("change the code to this torch's API: `from torch import inf` (or math.inf)")
    (work / ".git").mkdir()
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.hint.startswith("update this checkout (`git pull` in %s" % work)


def _six_gap(torch, use, version, private=True):
    """api.torch_gap for a stand-in torch that lacks torch._six (as 2.0 does), whatever torch runs the tests."""
    from checks.verify import api

    if use.dotted.startswith("torch._six"):
        return api.Gap(use=use, name="torch._six", change=("removed", "2.0"))
    return None


def _judged(result):
    from checks import diagnosis

    return diagnosis.judge(result, diagnosis.gather())


@pytest.fixture
def dists(layout, monkeypatch):
    site, work = layout
    yield site, work
    for name in [
        n
        for n in sys.modules
        if n.startswith(
            (
                "oldaccel",
                "plite",
                "npish",
                "lrosa",
                "raylike",
                "tmlike",
                "hublike",
                "rslike",
                "kornlike",
                "asrlike",
                "ta2like",
                "sb2like",
            )
        )
    ]:
        sys.modules.pop(name, None)


def test_a_name_a_package_release_does_not_define_is_imported_as_cpython_would_and_judged(dists):
    """huggingface/accelerate#112: `from accelerate import DeepSpeedPlugin` with accelerate 0.3.0, which predates it:
    CPython's "cannot import name" (not a missing submodule), from the project's file, judged as a release that is
    older than the code."""
    site, work = dists
    _dist(site, "oldaccel", "0.3.0", {"__init__.py": "__version__ = '0.3.0'\nclass Accelerator:\n    pass\n"})
    (work / "train.py").write_text("import os\nfrom oldaccel import Accelerator, DeepSpeedPlugin\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    text = result.data["exception"]
    assert text.splitlines()[1:3] == [
        '  File "%s", line 2, in <module>' % (work / "train.py"),
        "    from oldaccel import Accelerator, DeepSpeedPlugin",
    ]
    assert text.rstrip().endswith(
        "ImportError: cannot import name 'DeepSpeedPlugin' from 'oldaccel' (%s)" % (site / "oldaccel" / "__init__.py")
    )
    assert "checks" + os.sep not in text  # checks' own frames are not the code's
    judged = _judged(result)
    assert judged.summary.startswith("oldaccel 0.3.0 from %s (" % site)
    assert "does not have oldaccel.DeepSpeedPlugin, which train.py uses" in judged.summary
    assert "written for another release of oldaccel, a newer one that added it or an older one" in judged.summary
    assert judged.hint.startswith(
        "upgrade oldaccel if a later release added DeepSpeedPlugin (`python -m pip install -U oldaccel`); if it was "
        'removed, install an older oldaccel (`python -m pip install "oldaccel<0.3.0"`)'
    )


def test_a_release_lacking_the_name_that_hides_a_later_copy_with_it_names_the_entry(dists, tmp_path, monkeypatch):
    """The same import where the copy Python finds first (a folder on PYTHONPATH) is 0.3.0 and a later sys.path entry
    holds 0.5.0, which defines DeepSpeedPlugin: upgrading would not reach the import; the entry is the cause."""
    site, work = dists
    later = tmp_path / "later"
    _dist(site, "oldaccel", "0.3.0", {"__init__.py": "class Accelerator:\n    pass\n"})
    _dist(later, "oldaccel", "0.5.0", {"__init__.py": "from .utils import DeepSpeedPlugin\n", "utils.py": ""})
    monkeypatch.setattr(sys, "path", sys.path + [str(later)])
    monkeypatch.setenv("PYTHONPATH", str(site))
    (work / "train.py").write_text("from oldaccel import Accelerator, DeepSpeedPlugin\n")
    judged = _judged(project.check_project(SimpleNamespace(torch=TORCH, quick=True)))
    assert "has no oldaccel.DeepSpeedPlugin, which train.py uses, and it hides oldaccel 0.5.0 in %s" % later in (
        judged.summary
    )
    assert judged.hint == "drop %s from PYTHONPATH (its oldaccel hides the one behind it)" % site
    (later / "oldaccel" / "__init__.py").write_text("")  # the later copy lacks it too: judged as before
    judged = _judged(project.check_project(SimpleNamespace(torch=TORCH, quick=True)))
    assert "written for another release of oldaccel, a newer one that added it" in judged.summary


def test_an_export_that_needs_a_missing_optional_dependency_names_it(dists):
    """Lightning-AI/pytorch-lightning#1487: 0.7's loggers export WandbLogger only when `import wandb` works
    (loggers/__init__.py: `try: from pytorch_lightning.loggers.wandb import WandbLogger except ImportError: pass`)."""
    site, work = dists
    init = "try:\n    from plite.loggers.wandb import WandbLogger\nexcept ImportError:\n    pass\n"
    wandb = "try:\n    import wandb_not_installed_here\nexcept ImportError:\n    raise ImportError('install wandb')\n"
    _dist(site, "plite", "0.7.3", {"__init__.py": "", "loggers/__init__.py": init, "loggers/wandb.py": wandb})
    (work / "train.py").write_text("from plite.loggers import WandbLogger\n")
    judged = _judged(project.check_project(SimpleNamespace(torch=TORCH, quick=True)))
    assert judged.summary.startswith(
        "plite.loggers exports WandbLogger from plite.loggers.wandb only when that module imports, and it imports "
        "wandb_not_installed_here, which is not installed"
    )
    assert judged.hint == "install it into this environment: `python -m pip install wandb_not_installed_here`"


def test_a_package_name_the_code_uses_is_judged_by_whether_the_release_still_names_it(dists):
    """Lightning-AI/pytorch-lightning#2733: `pl.LightningDataModule` (a base class: used at import) on 0.8.5, which
    predates it: a FAIL judged as too old. numpy 1.24 removed np.float and its __init__ still names it in
    `__former_attrs__`: used inside a function, a WARN that names an older release."""
    site, work = dists
    _dist(site, "npish", "2.4.6", {"__init__.py": "__former_attrs__ = {'float': 'use float'}\nfloat32 = 1\n"})
    _dist(site, "plite", "0.8.5", {"__init__.py": "class Trainer:\n    pass\n"})
    (work / "data.py").write_text(
        "import npish as np\nimport plite as pl\n\n\nclass Data(pl.LightningDataModule):\n    pass\n"
    )
    judged = _judged(project.check_project(SimpleNamespace(torch=TORCH, quick=True)))
    assert judged.status == FAIL and "does not have plite.LightningDataModule, which data.py uses" in judged.summary
    assert "written for another release of plite, a newer one that added it" in judged.summary
    (work / "data.py").write_text(
        "import npish as np\nimport plite as pl\n\n\ndef f():\n    if hasattr(np, 'float'):\n        return np.float\n"
        "    return np.float(pl.Trainer)\n"
    )
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == "WARN" and result.summary == (
        "npish 2.4.6 from %s (another prefix) no longer has npish.float, which data.py:8 uses: its module still "
        "names it (a removed or deprecated name), so the code was written for an older npish" % site
    )
    assert result.hint.endswith('`python -m pip install "npish<2.4.6"`')


def test_a_folder_here_with_an_installed_package_s_name_shadows_it(dists, tmp_path):
    """vllm-project/vllm#1367: `python -m vllm.entrypoints.api_server` in vllm's source checkout imports its `vllm/`
    (no compiled ops), not the installed vllm."""
    site, work = dists
    _dist(site, "plite", "0.2.0", {"__init__.py": ""})
    (work / "plite").mkdir()
    (work / "plite" / "__init__.py").write_text("")
    (work / "serve.py").write_text("import os\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == "WARN" and result.summary.startswith(
        "%s in the working directory shadows the installed plite 0.2.0 from %s" % (work / "plite", site)
    )
    assert result.hint.startswith("start the code from outside this folder")
    (work / "plite" / "__init__.py").unlink()  # a plain folder of that name is no package: nothing shadowed
    assert project.check_project(SimpleNamespace(torch=TORCH, quick=True)).status == "PASS"


def _hub_cache(tmp_path, monkeypatch, folder, hubconf):
    """torch.hub's cache under TORCH_HOME=tmp_path/torch-home holding `folder` (`owner_name_ref`) with `hubconf`
    as its hubconf.py; returns the folder's Path."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    cached = tmp_path / "torch-home" / "hub" / folder
    cached.mkdir(parents=True)
    (cached / "hubconf.py").write_text(hubconf)
    return cached


def test_a_torch_hub_repository_whose_dependencies_are_missing_fails(dists, tmp_path, monkeypatch):
    """pytorch/pytorch#45786: fairseq's hubconf.py lists `dependencies` (hydra among them); torch.hub checks them
    (torch/hub.py _check_dependencies, "Missing dependencies") and installs nothing. The cache folder is
    `owner_name_ref` (torch/hub.py: "_".join([repo_owner, repo_name, normalized_br]))."""
    torch = pytest.importorskip("torch")
    _, work = dists
    cached = _hub_cache(tmp_path, monkeypatch, "pytorch_fairseq_main", (
        'dependencies = ["dataclasses", "hydra_not_installed_here", "torch"]\n'
        "for dep in dependencies:\n    __import__(dep)\n"
    ))  # fmt: skip
    (work / "load.py").write_text("import torch\n\nmodel = torch.hub.load('pytorch/fairseq:main', 'roberta.large')\n")
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == FAIL and result.summary.startswith(
        "load.py:3 loads the torch.hub repository pytorch/fairseq:main, whose hubconf.py (%s) needs "
        "hydra_not_installed_here, not installed here" % cached
    )
    assert result.hint == "install them into this environment: `python -m pip install hydra_not_installed_here`"
    (work / "load.py").write_text("import torch\n\nmodel = torch.hub.load('pytorch/vision:v0.15.2', 'resnet18')\n")
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == "PASS"  # not cached: not read


def test_a_torch_hub_cache_older_than_the_entry_point_loaded_fails(dists, tmp_path, monkeypatch):
    """ultralytics/yolov5#4459: `torch.hub.load('ultralytics/yolov5', 'yolov5m6')` with a cache fetched months
    before (YOLOv5 v4.0's hubconf.py defines yolov5s/m/l/x and custom, not yolov5m6): torch.hub said "Using cache
    found in ...ultralytics_yolov5_master" and "Cannot find callable yolov5m6 in hubconf". The fix that worked:
    delete the cache (force_reload=True does the same). Entry points the cache binds are not judged."""
    torch = pytest.importorskip("torch")
    _, work = dists
    cached = _hub_cache(tmp_path, monkeypatch, "ultralytics_yolov5_master", (
        '"""YOLOv5 hubconf"""\nimport torch\nfrom models.yolo import Model\n\ndependencies = ["torch", "yaml"]\n\n'
        "def create(name, pretrained, channels, classes, autoshape):\n    return Model(name)\n\n"
        + "".join(
            "def %s(pretrained=False, channels=3, classes=80, autoshape=True):\n    return create(%r, pretrained, "
            "channels, classes, autoshape)\n\n" % (n, n)
            for n in ("yolov5s", "yolov5m", "yolov5l", "yolov5x")
        )
        + "def custom(path_or_model='path/to/model.pt', autoshape=True):\n    return Model(path_or_model)\n"
    ))  # fmt: skip
    os.utime(cached / "hubconf.py", (1612915200, 1612915200))  # 2021-02-10
    (work / "detect.py").write_text("import torch\n\nmodel = torch.hub.load('ultralytics/yolov5', 'yolov5m6')\n")
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == FAIL and result.summary.startswith(
        "detect.py:3 loads 'yolov5m6' from the torch.hub repository ultralytics/yolov5, and torch.hub's cached copy "
        "of it (%s, from 2021-02-1" % cached
    )
    assert "force_reload=True" in result.hint and "rm -rf %s" % cached in result.hint
    (work / "detect.py").write_text("import torch\n\nmodel = torch.hub.load('ultralytics/yolov5', 'yolov5m')\n")
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == "PASS"
    (work / "detect.py").write_text("import torch\n\nmodel = torch.hub.load('ultralytics/yolov5', 'yolov5m6')\n")
    (cached / "hubconf.py").write_text("try:\n    from models.yolo import yolov5m6\nexcept ImportError:\n    pass\n")
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == "PASS"  # bound under try:
    (cached / "hubconf.py").write_text("from models.common import *\n")  # names it cannot see: not judged
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == "PASS"
    (cached / "hubconf.py").unlink()
    old = cached.parent / "ultralytics_yolov5_dev"  # another branch's copy: torch.hub.load without a ref takes main
    old.mkdir()
    (old / "hubconf.py").write_text("def yolov5s():\n    pass\n")
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == "PASS"


def test_a_missing_module_the_projects_requirements_name_gets_that_line(layout, tmp_path, monkeypatch):
    """facebookresearch/hydra-torch: `from hydra_configs.torch.optim import AdamConf` without the distribution
    `hydra-configs-torch` installed. The module's name does not say what to install; the project's requirements
    line does, so the fix installs that line (and everything the file asks for)."""
    _, work = layout
    (work / "requirements.txt").write_text("torch>=1.6\nhydra-configs-not-here-torch==1.0.0\n")
    (work / "train.py").write_text("from hydra_configs_not_here.torch.optim import AdamConf\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == FAIL
    prefix, packages = site(tmp_path)
    cause = diagnosis.explain(result.data["exception"], facts_for(monkeypatch, prefix, [packages]))
    assert "requirements.txt:2 asks for hydra-configs-not-here-torch==1.0.0" in cause.meaning
    assert 'pip install "hydra-configs-not-here-torch==1.0.0"' in cause.fix and "-r requirements.txt" in cause.fix


def test_init_process_group_without_a_launcher_s_variables_is_noted(layout, monkeypatch):
    """NVIDIA/apex#99: a DDP script calling init_process_group(backend='nccl', init_method='env://', world_size=2),
    started with plain python: "environment variable RANK expected, but not set". A PASS notes the launcher."""
    torch = pytest.importorskip("torch")
    _, work = layout
    (work / "train.py").write_text(
        "import torch\n\ntorch.distributed.init_process_group(backend='nccl', init_method='env://', world_size=2)\n"
    )
    monkeypatch.delenv("RANK", raising=False)
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == "PASS" and "train.py:3 calls torch.distributed.init_process_group" in result.summary
    assert "`torchrun --nproc-per-node=<GPUs> train.py`" in result.summary
    monkeypatch.setenv("RANK", "0")  # under torchrun
    assert "init_process_group" not in project.check_project(SimpleNamespace(torch=torch, quick=True)).summary


def test_a_name_a_script_in_a_subfolder_uses_from_another_project_of_the_same_name(dists, monkeypatch):
    """tkanarsky/podalize#14: the app's requirements line `whisper` installs PyPI's whisper 1.1.10, Graphite's
    database (its METADATA: "Summary: Fixed size round-robin style database", "Home-page: http://graphiteapp.org/"),
    and podalize/myutils.py calls `whisper.load_model` inside a function: the script one folder down is read, and the
    installed whisper is named as another project than OpenAI's (openai-whisper)."""
    site, work = dists
    _dist(site, "whisper", "1.1.10", {"__init__.py": "def create(path):\n    pass\n"})
    metadata = site / "whisper-1.1.10.dist-info" / "METADATA"
    metadata.write_text(
        metadata.read_text() + "Summary: Fixed size round-robin style database\nHome-page: http://graphiteapp.org/\n"
    )
    (work / "podalize").mkdir()
    (work / "podalize" / "myutils.py").write_text(
        "import whisper\n\n\ndef get_transcript(size, path):\n    return whisper.load_model(size).transcribe(path)\n"
    )
    monkeypatch.delitem(sys.modules, "whisper", raising=False)
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    monkeypatch.delitem(sys.modules, "whisper", raising=False)
    assert result.status == WARN and result.summary.startswith("the installed whisper 1.1.10 from %s" % site)
    assert "is another project named whisper, not OpenAI Whisper (its metadata: Fixed size round-robin" in (
        result.summary
    )
    assert result.hint == "`python -m pip uninstall -y whisper && python -m pip install -U openai-whisper`"


def test_an_extension_built_as_the_code_runs_needs_ninja_and_a_compiler_on_path(layout, monkeypatch, tmp_path):
    """OpenGVLab/Vision-RWKV#23: vrwkv/vrwkv.py calls torch.utils.cpp_extension.load at import, in an environment
    without ninja ("RuntimeError: Ninja is required to load C++ extensions"); the maintainer's fix: `pip install
    ninja`. The call is read in the project's own package, which its script imports."""
    import torch

    site, work = layout
    (work / "vrwkv").mkdir()
    (work / "vrwkv" / "__init__.py").write_text("")
    (work / "vrwkv" / "vrwkv.py").write_text(
        "import torch\nfrom torch.utils.cpp_extension import load\n\nwkv_cuda = load(name='wkv', sources=['a.cpp'])\n"
    )
    (work / "test_vrwkv.py").write_text("import torch\nfrom vrwkv import vrwkv\n")
    tools = tmp_path / "bin"
    tools.mkdir()
    compiler = tools / "c++"
    compiler.write_text("#!/bin/sh\n")
    compiler.chmod(0o755)
    monkeypatch.setenv("PATH", str(tools))
    monkeypatch.delenv("CXX", raising=False)
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == WARN and result.summary == (
        "vrwkv.py:2 uses torch.utils.cpp_extension.load, which builds a C++ extension when the code runs, and ninja "
        "is not found on PATH"
    )
    assert result.hint.startswith("`python -m pip install ninja`")
    ninja = tools / "ninja"
    ninja.write_text("#!/bin/sh\n")
    ninja.chmod(0o755)
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == PASS


def test_a_module_the_folder_s_setup_py_builds_is_named_as_not_built(layout):
    """NVIDIA/apex#472's checkout: apex/ imports amp_C, which setup.py declares as `CUDAExtension(name='amp_C', ...)`;
    before the build it is no missing PyPI package but a module to build here. setup.py's own imports are tried
    first (a build that cannot start builds nothing); setuptools is found, not imported."""
    site, work = layout
    (work / "setup.py").write_text(
        "import torch\nfrom setuptools import setup\nfrom torch.utils.cpp_extension import CUDAExtension\n"
        "setup(name='apex', ext_modules=[CUDAExtension(name='amp_C', sources=['csrc/amp_C_frontend.cpp'])])\n"
    )
    (work / "apex").mkdir()
    (work / "apex" / "__init__.py").write_text("")
    (work / "apex" / "multi_tensor_apply.py").write_text("import amp_C\n")
    (work / "train.py").write_text("import apex.multi_tensor_apply\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == FAIL and result.summary == (
        "multi_tensor_apply.py:1 imports amp_C, a compiled module this folder's setup.py builds (CUDAExtension) that "
        "is not built here"
    )
    assert result.hint.startswith("build it in %s: `python -m pip install -v --no-build-isolation .`" % work)


def test_a_placeholder_class_a_package_exports_for_a_missing_backend_is_named(dists):
    """huggingface/transformers#9093: without sentencepiece, `from transformers import T5Tokenizer` imports a dummy
    object (transformers' utils/import_utils.py: `class DummyObject(type)` with `_backends`, raising requires_backends'
    "T5Tokenizer requires the SentencePiece library but it was not found in your environment" on use)."""
    site, work = dists
    init = (
        "class DummyObject(type):\n    def __getattribute__(cls, key):\n        if key.startswith('_'):\n"
        "            return super().__getattribute__(key)\n        raise ImportError('%s requires the SentencePiece "
        "library but it was not found in your environment.' % cls.__name__)\n\n\n"
        "class T5Tokenizer(metaclass=DummyObject):\n    _backends = ['sentencepiece']\n"
    )
    _dist(site, "plite", "4.41.2", {"__init__.py": init})
    (work / "summarize.py").write_text("from plite import T5Tokenizer\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == FAIL and result.summary.startswith(
        "summarize.py:1 imports T5Tokenizer from plite, a placeholder that plite exports because sentencepiece is not "
        'installed: every use of it raises ("T5Tokenizer requires the SentencePiece library'
    )
    assert result.hint == "install sentencepiece: `python -m pip install sentencepiece`"


def test_a_checkpoint_the_weights_only_default_refuses_is_named_before_the_load_fails(layout):
    """rhasspy/piper#718: resuming from a downloaded Lightning checkpoint whose hyper-parameters hold pathlib.PosixPath
    objects, under torch >= 2.6 ("Weights only load failed ... Unsupported global: GLOBAL pathlib.PosixPath was not
    an allowed global by default"). The checkpoint's pickle is read for its globals, never unpickled; torch's own
    allow-list decides. A call that passes weights_only, or a torch before 2.6, is left alone."""
    import pathlib

    import torch

    site, work = layout
    (work / "checkpoints").mkdir()
    torch.save({"state_dict": {"w": torch.zeros(2)}, "dataset": [pathlib.PurePosixPath("/d.jsonl")]},
               str(work / "checkpoints" / "epoch=2164.ckpt"))  # fmt: skip
    (work / "resume.py").write_text("import torch\ncheckpoint = torch.load('checkpoints/epoch=2164.ckpt')\n")
    newer, older = types.ModuleType("torch"), types.ModuleType("torch")  # this torch, reporting another release
    for fake, version in ((newer, "2.6.0"), (older, "2.5.1")):
        fake.__dict__.update({k: v for k, v in vars(torch).items() if k != "__file__"}, __version__=version)
    result = project.check_project(SimpleNamespace(torch=newer, quick=True))
    assert result.status == WARN and result.summary.startswith(
        "resume.py:2 calls torch.load without weights_only, which torch 2.6.0 sets to True by default (since 2.6), "
        "and checkpoints/epoch=2164.ckpt holds pathlib.PurePosixPath, which that default refuses"
    )
    assert result.hint.startswith("for a checkpoint you trust: `torch.load(path, weights_only=False)`")
    assert project.check_project(SimpleNamespace(torch=older, quick=True)).status == PASS
    (work / "resume.py").write_text("import torch\ncheckpoint = torch.load('x.ckpt', weights_only=False)\n")
    assert project.check_project(SimpleNamespace(torch=newer, quick=True)).status == PASS


def test_a_safetensors_checkpoint_of_a_dtype_this_torch_lacks_is_named(layout):
    """huggingface/diffusers#8537: SD3's single-file checkpoint with its T5 in fp8 under torch 2.0.1, which predates
    the float8 dtypes (safetensors/torch.py: "AttributeError: module 'torch' has no attribute 'float8_e4m3fn'"). The
    file's header (8-byte length, then JSON: {"name": {"dtype": "F8_E4M3", ...}}) says what it holds."""
    import json
    import struct

    import torch

    site, work = layout
    header = json.dumps({"__metadata__": {}, "t5.w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}})
    (work / "sd3_t5xxlfp8.safetensors").write_bytes(struct.pack("<Q", len(header)) + header.encode() + b"\0\0")
    (work / "run.py").write_text("import torch\n")
    older = types.ModuleType("torch")
    older.__dict__.update({k: v for k, v in vars(torch).items() if k not in ("__file__", "float8_e4m3fn")})
    older.__version__ = "2.0.1"
    result = project.check_project(SimpleNamespace(torch=older, quick=True))
    assert result.status == FAIL and result.summary == (
        "sd3_t5xxlfp8.safetensors holds F8_E4M3 tensors (torch.float8_e4m3fn), which torch 2.0.1 does not have (added "
        "in torch 2.1): loading it fails"
    )
    assert result.hint.startswith('upgrade torch: `python -m pip install "torch>=2.1"`')
    if hasattr(torch, "float8_e4m3fn"):
        assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == PASS


def test_an_unmet_requirement_of_a_package_the_code_imports_is_named(dists):
    """pip's check for what the project imports: numba 0.60.0 declares `Requires-Dist: numpy<2.1,>=1.22` (its wheel's
    METADATA) and numpy 2.1.3 is installed (WASasquatch/was-node-suite-comfyui#5 after a ComfyUI update). The package
    imports, so the code meets it later: a WARN with both ways out."""
    site, work = dists
    _dist(site, "npish", "2.1.3", {"__init__.py": ""})
    _dist(site, "plite", "0.60.0", {"__init__.py": ""}, requires=["npish<2.1,>=1.22"])
    (work / "node.py").write_text("import plite\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN and result.summary.startswith(
        "plite 0.60.0 requires npish<2.1,>=1.22 (pip metadata); installed: 2.1.3"
    )
    assert 'python -m pip install "npish<2.1,>=1.22"' in result.hint
    assert result.hint.endswith(
        "or upgrade plite to a release that accepts the installed npish (`python -m pip install -U plite`)"
    )


def test_a_requirements_pin_on_a_torch_without_wheels_for_this_python_says_so(layout):
    """A requirements.txt pinning torch==1.12.1 (PyPI's wheels: cp37 to cp310) read by Python 3.11: `pip install` of
    it fails ("Could not find a version that satisfies the requirement"), so the fix is a Python it supports."""
    site, work = layout
    (work / "requirements.txt").write_text("torch==1.12.1\n")
    (work / "train.py").write_text("import os\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN and result.summary.startswith("requirements.txt:1 asks for torch==1.12.1")
    if sys.version_info[:2] > (3, 10):
        assert (
            "no torch release it admits has a wheel for Python %d.%d (torch 1.12.1: Python 3.7 to 3.10)"
            % (sys.version_info[:2])
            in result.summary
        )
        assert result.hint.startswith("install it with a Python that release supports (an environment whose python")
    else:
        assert result.hint == 'python -m pip install "torch==1.12.1"'


def test_a_pickle_that_refers_to_a_module_this_python_cannot_import_is_named(dists, monkeypatch):
    """4DVLab/DexGrasp-Anything#7: object_pcds_nors.pkl was pickled under NumPy 2 (it refers to
    numpy._core.multiarray._reconstruct) and the environment has numpy 1.23.5 ("No module named 'numpy._core'").
    The pickle's GLOBAL opcodes are read, never unpickled; a renamed module names the release that wrote it, a package
    not installed is named as such."""
    site, work = dists
    _dist(site, "plite", "1.23.5", {"__init__.py": "", "core/__init__.py": ""})
    monkeypatch.setitem(project.RENAMED_MODULES, "plite._core", ("plite", ">=2", "plite 2.0 renamed plite.core"))
    (work / "data").mkdir()
    (work / "data" / "pcds.pkl").write_bytes(b"\x80\x02cplite._core.multiarray\n_reconstruct\nq\x00)\x81q\x01.")
    (work / "train.py").write_text("import pickle\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN and result.summary == (
        "data/pcds.pkl refers to plite._core.multiarray._reconstruct, which plite 1.23.5 lacks: plite 2.0 renamed "
        'plite.core, so the file was written with plite>=2: loading it fails with "No module named '
        'plite._core.multiarray"'
    )
    assert result.hint.startswith('load it with plite>=2 (`python -m pip install "plite>=2"`)')
    (work / "data" / "pcds.pkl").write_bytes(b"\x80\x02cnot_installed_pkg.sub\nThing\nq\x00)\x81q\x01.")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.summary.startswith("data/pcds.pkl refers to not_installed_pkg.sub.Thing, whose package")


def test_files_git_lfs_keeps_that_are_still_pointers_are_named(layout):
    """hhj1897/face_parsing#3: cloned without git-lfs, ibug/face_parsing/rtnet/weights/rtnet50-fcn-14.torch is the
    LFS pointer text (the Git LFS specification's first line, "version https://git-lfs.github.com/spec/v1"), and
    torch.load fails with "invalid load key, 'v'"; the maintainer: `git lfs pull`."""
    site, work = layout
    (work / ".gitattributes").write_text("*.torch filter=lfs diff=lfs merge=lfs -text\n")
    weights = work / "ibug" / "face_parsing" / "rtnet" / "weights"
    weights.mkdir(parents=True)
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 108740301\n" % ("0" * 64)
    (weights / "rtnet50-fcn-14.torch").write_text(pointer)
    (work / "face_parsing_test.py").write_text("import os\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == FAIL and result.summary.startswith(
        "1 file that .gitattributes keeps in Git LFS is still a Git LFS pointer, not the content "
        "(ibug/face_parsing/rtnet/weights/rtnet50-fcn-14.torch)"
    )
    assert result.hint.startswith("fetch them: `git lfs install && git lfs pull`")
    (weights / "rtnet50-fcn-14.torch").write_bytes(b"PK\x03\x04 the weights")
    assert project.check_project(SimpleNamespace(torch=TORCH, quick=True)).status == PASS


def test_a_pointer_gitattributes_names_is_said_once(layout):
    """A `.pth` kept in Git LFS and never pulled is named by the .gitattributes rule, not a second time as a
    checkpoint that is not one."""
    site, work = layout
    (work / ".gitattributes").write_text("*.pth filter=lfs diff=lfs merge=lfs -text\n")
    (work / "w.pth").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 9\n" % ("0" * 64))
    (work / "run.py").write_text("import os\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == FAIL and "still a Git LFS pointer" in result.summary and "also" not in result.summary


def test_a_checkpoint_file_that_is_a_download_page_is_named(layout):
    """Daniil-Osokin/gccpm-look-into-person-cvpr19.pytorch#22: `wget` of a Google Drive link saved Drive's "Virus scan
    warning" page as checkpoint_epoch_70.pth; val.py's torch.load failed with "invalid load key, '<'". The fix that
    worked: download the real file. A whole checkpoint beside it is not judged."""
    import torch
    from fakes import DRIVE_PAGE, whole_zip

    site, work = layout
    (work / "val.py").write_text("import torch\ncheckpoint = torch.load('checkpoint_epoch_70.pth')\n")
    whole_zip(work / "good.pth")
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == PASS
    (work / "checkpoint_epoch_70.pth").write_text(DRIVE_PAGE)
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == FAIL and result.summary.startswith(
        'checkpoint_epoch_70.pth is Google Drive\'s page ("Google Drive - Virus scan warning")'
    )
    assert "gdown FILE_ID -O checkpoint_epoch_70.pth" in result.hint
    assert result.data["fact"] == "checkpoint_epoch_70.pth: html, %d bytes" % len(DRIVE_PAGE)


def test_uncached_hub_ids_while_the_hub_does_not_answer_are_named_with_the_rest(layout, tmp_path, monkeypatch, request):
    """Akegarasu/lora-scripts#609: sd-scripts/train_network.py imports library/train_util.py, whose
    CLIPTokenizer.from_pretrained(TOKENIZER_PATH) needs openai/clip-vit-large-patch14; nothing was cached and
    huggingface.co did not answer ("Can't load tokenizer"); the fix that worked: HF_ENDPOINT=https://hf-mirror.com.
    The endpoint here is a closed port of this machine. With HF_HUB_OFFLINE=1 the switch is named instead; once
    cached, nothing is said. Another finding about the folder's files comes first and this one follows it."""
    import torch
    from fakes import DRIVE_PAGE, TRAIN_UTIL, closed_port

    site, work = layout
    if importlib.util.find_spec("transformers") is None:  # a stand-in with the one name the code imports
        _package(site, "transformers", "class CLIPTokenizer:\n    pass\n")
        request.addfinalizer(lambda: sys.modules.pop("transformers", None))
    (work / "sd-scripts" / "library").mkdir(parents=True)
    (work / "sd-scripts" / "library" / "__init__.py").write_text("")
    (work / "sd-scripts" / "library" / "train_util.py").write_text(TRAIN_UTIL)
    (work / "sd-scripts" / "train_network.py").write_text("import torch\nfrom library import train_util\n")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:%d" % closed_port())
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE") + hf_hub.PROXIES:
        monkeypatch.delenv(name, raising=False)
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == FAIL and result.summary.startswith(
        "the code loads openai/clip-vit-large-patch14 (sd-scripts/library/train_util.py:4) and 3 more from the "
        "Hugging Face Hub (http://127.0.0.1:"
    )
    assert "127.0.0.1 cannot be reached from this machine (cannot connect to 127.0.0.1 port" in result.summary
    assert "`export HF_ENDPOINT=https://hf-mirror.com`" in result.hint
    (work / "model.pth").write_text(DRIVE_PAGE)
    both = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert both.summary.startswith("model.pth is Google Drive's page") and "; also: the code loads openai/" in (
        both.summary
    )
    assert "gdown" in both.hint and "HF_ENDPOINT" in both.hint
    (work / "model.pth").unlink()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    offline = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert "which is not cached here, and HF_HUB_OFFLINE=1 keeps the Hub client offline" in offline.summary
    for repo in ("openai/clip-vit-large-patch14", "stabilityai/stable-diffusion-2", "madebyollin/sdxl-vae-fp16-fix"):
        (tmp_path / "hf" / "hub" / ("models--" + repo.replace("/", "--"))).mkdir(parents=True)
    (tmp_path / "hf" / "hub" / "models--runwayml--stable-diffusion-v1-5").mkdir()
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == PASS


def test_a_script_inside_the_project_s_package_that_imports_it_uninstalled_is_named(layout):
    """XPixelGroup/BasicSR#261: `python basicsr/train.py` in a clone never installed: Python puts basicsr/ on
    sys.path, not the clone's root, so `from basicsr.data import create_dataloader` fails; the reporter's fix was
    `python setup.py develop`. A module of the package that is no script is not judged."""
    import torch

    site, work = layout
    (work / "basicsr" / "data").mkdir(parents=True)
    (work / "basicsr" / "__init__.py").write_text("")
    (work / "basicsr" / "data" / "__init__.py").write_text("")
    (work / "basicsr" / "helper.py").write_text("import torch\nfrom basicsr.data import x\n")
    (work / "setup.py").write_text("from setuptools import setup\nsetup(name='basicsr')\n")
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == PASS
    (work / "basicsr" / "train.py").write_text(
        "import torch\nfrom basicsr.data import create_dataloader\n\nif __name__ == '__main__':\n    pass\n"
    )
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == WARN and result.summary.startswith(
        "basicsr/train.py is a script inside the package basicsr and imports basicsr (train.py:2), which is not "
        "installed"
    )
    assert "`python -m pip install -e .`" in result.hint and "`python -m basicsr.train`" in result.hint


def test_a_launch_script_that_starts_the_package_s_script_by_path_makes_it_the_first_failure(layout):
    """pytorch/torchtitan#897: run_train.sh runs `torchrun ... torchtitan/train.py` (over continued lines) in a clone
    never installed, so train.py:14's `from torchtitan.components.checkpoint import ...` fails first; torchao, which
    a module of the package imports only inside a function, is never reached. The fixes that worked: `pip install -e
    .`, or `torchrun -m torchtitan.train`. A launch script that starts it with `-m` does not make it a FAIL."""
    import torch

    site, work = layout
    (work / "torchtitan" / "components").mkdir(parents=True)
    (work / "torchtitan" / "__init__.py").write_text("")
    (work / "torchtitan" / "components" / "__init__.py").write_text("")
    (work / "torchtitan" / "components" / "float8.py").write_text(
        "class Float8Converter:\n    def convert(self, model):\n        if not self.enabled:\n            return\n\n"
        "        from torchao_absent.float8 import convert_to_float8_training\n\n"
        "        convert_to_float8_training(model)\n"
    )
    (work / "torchtitan" / "train.py").write_text(
        "import torch\nfrom torchtitan.components.float8 import Float8Converter\n\nif __name__ == '__main__':\n"
        "    Float8Converter()\n"
    )
    (work / "run_train.sh").write_text(
        '#!/usr/bin/bash\nNGPU=${NGPU:-"8"}\nPYTORCH_CUDA_ALLOC_CONF="expandable_segments:True" \\\n'
        'torchrun --nproc_per_node=${NGPU} --rdzv_backend c10d --rdzv_endpoint="localhost:0" \\\n'
        "torchtitan/train.py --job.config_file ${CONFIG_FILE} $overrides\n"
    )
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == FAIL, result.summary
    assert result.summary.startswith(
        "torchtitan/train.py is a script inside the package torchtitan and imports torchtitan (train.py:2), which "
        "is not installed: run_train.sh:3 starts it so"
    )
    assert "`torchrun -m torchtitan.train`" in result.hint and "`python -m pip install -e .`" in result.hint
    (work / "run_train.sh").write_text("torchrun --nproc_per_node=8 -m torchtitan.train --job.config_file x\n")
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == WARN and "started as `python torchtitan/train.py`" in result.summary


def test_a_package_s_main_module_is_not_a_script_inside_it(layout):
    """A package's __main__.py runs as `python -m PKG`, with the project's root on sys.path (Python's docs,
    "__main__ — Top-level code environment"), so its `import PKG` works uninstalled even though it tests
    `__name__ == "__main__"`: this repository's own checks/__main__.py was named as a script inside checks, and so
    was checks/causes.py, whose message quotes the guard. A real guard, either way round, still makes a script."""
    import torch

    site, work = layout
    (work / "basicsr").mkdir()
    (work / "basicsr" / "__init__.py").write_text("")
    main = "import torch\nfrom basicsr import train\n\nif __name__ == '__main__':\n    train()\n"
    (work / "basicsr" / "__main__.py").write_text(main)
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == PASS
    hint = "import torch\nfrom basicsr import train\nHINT = 'put it under `if __name__ == \"__main__\":`'\n"
    (work / "basicsr" / "hints.py").write_text(hint)  # the guard's words in a message: checks/causes.py's
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == PASS
    (work / "basicsr" / "cli.py").write_text(main.replace("__name__ == '__main__'", '"__main__" == __name__'))
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == WARN


def test_a_requirement_met_by_another_release_comes_before_one_not_installed(dists):
    """Picsart-AI-Research/HD-Painter#13: requirements.txt pins gradio==3.47.1 and gradio 4 is installed (it removed
    the `_js` argument app.py passes): the release the code runs into is named before a line not installed."""
    site, work = dists
    _dist(site, "plite", "4.19.2", {"__init__.py": ""})
    (work / "requirements.txt").write_text("not-installed-here==0.20.2\nplite==3.47.1\n")
    (work / "app.py").write_text("import os\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN and result.summary == (
        "requirements.txt:2 asks for plite==3.47.1; installed: plite 4.19.2"
    )


def test_an_allocator_backend_set_after_import_torch_is_named(layout):
    """pytorch/pytorch#104801: `import torch` then `os.environ['PYTORCH_CUDA_ALLOC_CONF'] =
    'backend:cudaMallocAsync'`: torch read the backend at load, so CUDA's initialisation stops with "Allocator backend
    parsed at runtime != allocator backend parsed at load time"; the fix (ptrblck): set it before the import. Other
    options, read at the first allocation, and a setting above the import are not judged."""
    import torch

    site, work = layout
    (work / "tmp.py").write_text(
        "import torch\nimport os\n\nos.environ['PYTORCH_CUDA_ALLOC_CONF'] = 'backend:cudaMallocAsync'\n"
    )
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == WARN and result.summary.startswith(
        "tmp.py:4 sets PYTORCH_CUDA_ALLOC_CONF='backend:cudaMallocAsync' after tmp.py:1 imports torch"
    )
    (work / "tmp.py").write_text(
        "import os\nos.environ['PYTORCH_CUDA_ALLOC_CONF'] = 'backend:cudaMallocAsync'\nimport torch\n"
    )
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == PASS


def test_a_call_the_installed_release_refuses_is_named_with_the_call_that_works(dists):
    """ajay-sainy/Wav2Lip-GFPGAN#8: Wav2Lip's audio.py calls `librosa.filters.mel(hp.sample_rate, hp.n_fft,
    n_mels=...)` inside a function; librosa 0.10.0 made mel's arguments keyword-only (filters.py: `def mel(*, sr,
    n_fft, n_mels=128, ...)`): a WARN with the call by keyword. The same call at import is a FAIL, and a requirements
    line the release does not meet is the first way out."""
    pytest.importorskip("packaging")
    site, work = dists
    _dist(site, "lrosa", "0.10.0", {
        "__init__.py": "from . import filters\n",
        "filters.py": "def mel(*, sr, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False):\n    return None\n",
    })  # fmt: skip
    (work / "audio.py").write_text(
        "import lrosa\n\n\ndef _build_mel_basis():\n"
        "    return lrosa.filters.mel(hp.sample_rate, hp.n_fft, n_mels=hp.num_mels, fmin=hp.fmin, fmax=hp.fmax)\n"
    )
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN and result.summary == (
        "audio.py:5 calls lrosa.filters.mel, which lrosa 0.10.0 refuses: mel takes 0 arguments by position and the "
        "call passes 2; sr, n_fft only by keyword (TypeError when the call runs)"
    )
    assert result.hint.startswith(
        "pass them by keyword as lrosa 0.10.0 names them: `mel(sr=hp.sample_rate, n_fft=hp.n_fft, ...)`; or install "
        "the older lrosa release the code was written for"
    )
    (work / "audio.py").write_text("from lrosa.filters import mel\n\nBASIS = mel(22050, 2048)\n")
    (work / "requirements.txt").write_text("lrosa==0.9.1\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == FAIL and result.summary.startswith("audio.py:3 calls lrosa.filters.mel, which lrosa")
    assert result.hint.startswith('`python -m pip install "lrosa==0.9.1"` (requirements.txt:1 asks for it); or pass')
    (work / "audio.py").write_text("from lrosa.filters import mel\n\nBASIS = mel(sr=22050, n_fft=2048)\n")
    (work / "requirements.txt").write_text("lrosa>=0.10\n")
    assert project.check_project(SimpleNamespace(torch=TORCH, quick=True)).status == PASS


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX users only")
def test_a_temp_folder_of_an_imported_package_owned_by_another_user_names_the_package_s_variable(dists, monkeypatch):
    """ray-project/ray#3899: /tmp/ray belongs to the user who started Ray first; the fix that worked gives Ray a
    temporary folder of this user's (ray 2.9's _private/utils.py reads `os.environ["RAY_TMPDIR"]`). Tests run as root:
    os.access answers as for another user."""
    site, work = dists
    _dist(site, "raylike", "2.9.3", {
        "__init__.py": "from ._private import utils\n\n\ndef init():\n    return utils\n",
        "_private/__init__.py": "",
        "_private/utils.py": "import os\nRUNTIME = os.environ.get('RAYLIKE_RUNTIME_ENV_TEMPORARY_S')\n"
                             "def get_user_temp_dir():\n    return os.environ['RAYLIKE_TMPDIR']\n",
    })  # fmt: skip
    temp = work.parent / "tmp"
    (temp / "raylike").mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(temp))
    (work / "tune_job.py").write_text("import raylike\n\nraylike.init()\n")
    from checks.machine import system

    real = os.access
    monkeypatch.setattr(
        system.os, "access", lambda path, mode: False if path.startswith(str(temp)) else real(path, mode)
    )
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN, result.summary
    assert result.summary.startswith("%s, named after raylike, belongs to another user" % (temp / "raylike"))
    assert result.hint.startswith(
        "give raylike a temporary folder of your own: `export RAYLIKE_TMPDIR=$HOME/tmp/raylike`"
    )


def test_a_package_s_guarded_import_of_a_name_its_provider_lacks_is_the_fallback_it_takes(dists):
    """huggingface/pytorch-image-models#1966: timm 0.9.7's _hub.py imports get_hf_file_metadata from huggingface_hub
    inside `try:`; huggingface_hub 0.9.1 predates it (its __init__ never names it), so timm takes the fallback and
    says "Hugging Face hub model specified but package not installed". The fix that worked: upgrade the hub."""
    site, work = dists
    _dist(site, "hublike", "0.9.1", {"__init__.py": "def hf_hub_download(repo_id):\n    return repo_id\n"})
    _dist(site, "tmlike", "0.9.7", {
        "__init__.py": "from . import _hub\n",
        "_hub.py": "try:\n    from hublike import hf_hub_download, get_hf_file_metadata\n    _has_hf_hub = True\n"
                   "except ImportError:\n    _has_hf_hub = False\n",
    })  # fmt: skip
    (work / "infer.py").write_text("import tmlike\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN, result.summary
    assert result.summary.startswith(
        "tmlike 0.9.7's tmlike/_hub.py:2 imports get_hf_file_metadata from hublike inside `try:`, and hublike 0.9.1 "
        "does not have it: tmlike takes its fallback, as if hublike were not installed."
    )
    assert "`python -m pip install -U hublike`" in result.hint


def test_a_model_folder_config_the_installed_library_cannot_load_is_named(dists):
    """huggingface/peft#1979: an adapter saved by PEFT >= 0.10 writes `layer_replication` to adapter_config.json;
    PEFT 0.9.0 builds `LoraConfig(**kwargs)` (peft/config.py from_peft_type) and fails with "unexpected keyword
    argument 'layer_replication'". The fix that worked: upgrade PEFT, or remove the key. A config.json whose
    model_type transformers does not know (`mistral` before 4.34) names the release that saved it."""
    site, work = dists
    _dist(site, "peft", "0.9.0", {
        "__init__.py": "",
        "mapping.py": "import dataclasses\n\n\n@dataclasses.dataclass\nclass LoraConfig:\n    peft_type: str = 'LORA'\n"
                      "    r: int = 8\n\n\nPEFT_TYPE_TO_CONFIG_MAPPING = {'LORA': LoraConfig}\n",
    })  # fmt: skip
    _dist(site, "transformers", "4.33.3", {
        "__init__.py": "",
        "models/__init__.py": "",
        "models/auto/__init__.py": "",
        "models/auto/configuration_auto.py": "CONFIG_MAPPING_NAMES = {'llama': 'LlamaConfig'}\n",
    })  # fmt: skip
    (work / "infer.py").write_text("import os\n")
    (work / "lora_adapter").mkdir()
    (work / "lora_adapter" / "adapter_config.json").write_text(
        '{"peft_type": "LORA", "r": 8, "layer_replication": null}'
    )
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN and result.summary == (
        "lora_adapter/adapter_config.json was saved by a newer PEFT than peft 0.9.0: LoraConfig has no parameter "
        "'layer_replication', so loading the adapter fails (TypeError: unexpected keyword argument)"
    )
    assert result.hint.startswith("upgrade PEFT to the release that wrote it: `python -m pip install -U peft`")
    (work / "lora_adapter" / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 8}')
    (work / "model").mkdir()
    (work / "model" / "config.json").write_text('{"model_type": "mistral", "transformers_version": "4.34.0.dev0"}')
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN and result.summary.startswith(
        "model/config.json has model_type 'mistral', which transformers 4.33.3 does not know (transformers "
        "4.34.0.dev0 saved it)"
    )
    assert (
        result.hint
        == 'upgrade transformers to a release that has it: `python -m pip install -U "transformers>=4.34.0"`'
    )
    (work / "model" / "config.json").write_text('{"model_type": "llama"}')
    assert project.check_project(SimpleNamespace(torch=TORCH, quick=True)).status == PASS


def test_a_call_an_imported_package_makes_of_another_that_refuses_it_is_named_with_both_ways_out(dists):
    """huggingface/transformers#34714: transformers 4.37.2's trainer.py calls `Accelerator(dispatch_batches=...,
    split_batches=...)`; accelerate 1.0 removed dispatch_batches (its accelerator.py still names it in the
    deprecation text), so "Accelerator.__init__() got an unexpected keyword argument 'dispatch_batches'". Fixes that
    worked: accelerate below 1.0, or a newer transformers."""
    site, work = dists
    _dist(site, "acclike", "1.0.1", {
        "__init__.py": "from .accelerator import Accelerator\n",
        "accelerator.py": "class Accelerator:\n    def __init__(self, split_batches=False, deepspeed_plugin=None):\n"
                          "        self.split_batches = split_batches\n\n\n"
                          "REMOVED = 'dispatch_batches and split_batches moved to DataLoaderConfiguration'\n"
                          "OLD = ('dispatch_batches',)\n",
    })  # fmt: skip
    _dist(site, "tflike", "4.37.2", {
        "__init__.py": "from .trainer import Trainer\n",
        "trainer.py": "from acclike import Accelerator\n\n\nclass Trainer:\n    def create_accelerator(self):\n"
                      "        self.accelerator = Accelerator(\n            dispatch_batches=None,\n"
                      "            split_batches=False,\n        )\n",
    })  # fmt: skip
    (work / "train.py").write_text("from tflike import Trainer\n\nTrainer().create_accelerator()\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN, result.summary
    assert result.summary == (
        "tflike 4.37.2's tflike/trainer.py:6 calls acclike.Accelerator, which acclike 1.0.1 refuses: Accelerator has "
        "no parameter 'dispatch_batches' (TypeError when it runs): the two releases do not fit together; acclike "
        "1.0.1 still names it, so it was removed"
    )
    assert result.hint == (
        'install the acclike release tflike 4.37.2 was written for (`python -m pip install "acclike<1.0.1"`), or '
        "upgrade tflike to a release written for acclike 1.0.1 (`python -m pip install -U tflike`)"
    )


def test_a_call_of_a_name_a_compiled_package_lacks_names_the_caller_s_own_pin(dists):
    """kornia/kornia-rs#43: kornia 0.7.1's kornia/io/io.py imports kornia_rs inside `try:` (None when missing) and
    calls kornia_rs.read_image_rs, which kornia_rs 0.1 (a maturin build: __init__.py re-exporting its .so) no longer
    has ("module 'kornia_rs' has no attribute 'read_image_rs'"). kornia 0.7.1's METADATA pins kornia-rs ==0.0.8 for
    its dev extra; the reporter's fix: that pin. A caller that probes the name with hasattr is not judged."""
    site, work = dists
    _dist(site, "rslike", "0.1.1", {
        "__init__.py": "def read_image_any(path):\n    return path\n",
        "rslike.cpython-311-x86_64-linux-gnu.so": "",  # the layout's shared library (not loaded here)
    })  # fmt: skip
    io = (
        "try:\n    import rslike\nexcept ImportError:\n    rslike = None\n\n\n"
        "def load_image(path):\n    return rslike.read_image_rs(path)\n"
    )
    _dist(site, "kornlike", "0.7.1", {"__init__.py": "from . import io\n", "io.py": io},
          requires=["packaging", "rslike ==0.0.8 ; extra == 'dev'"])  # fmt: skip
    (work / "match.py").write_text("import kornlike\n\nkornlike.io.load_image('a.jpg')\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN and result.summary == (
        "kornlike 0.7.1's kornlike/io.py:8 calls rslike.read_image_rs, which rslike 0.1.1 does not have "
        "(AttributeError when it runs): the two releases do not fit together"
    )
    assert result.hint == (
        'install the rslike release kornlike 0.7.1 pins in its own metadata (`python -m pip install "rslike==0.0.8"`), '
        "or upgrade kornlike to a release written for rslike 0.1.1 (`python -m pip install -U kornlike`)"
    )
    (site / "kornlike" / "io.py").write_text(
        io.replace("    return rslike", "    if hasattr(rslike, 'read_image_rs'):\n        return rslike")
    )
    for name in [n for n in sys.modules if n.startswith(("rslike", "kornlike"))]:
        sys.modules.pop(name)
    assert project.check_project(SimpleNamespace(torch=TORCH, quick=True)).status == PASS


def test_a_checkpoint_naming_a_class_the_folder_s_code_does_not_define_is_from_another_revision(layout, monkeypatch):
    """Jacobi93/Alpha-IoU#4: YOLOv5 v4.0's code with the v6.0 yolov5s.pt, which pickles models.common.SPPF (added in
    v6.0): "Can't get attribute 'SPPF' on <module 'models.common'>". The fix that worked: the weights of the matching
    release. A class the module defines (Conv), or names in a multi-line import, is not judged. `python -m checks`
    finds the folder's modules as the project's scripts do: the working directory is on sys.path."""
    _, work = layout
    monkeypatch.syspath_prepend(str(work))
    (work / "models").mkdir()
    (work / "models" / "__init__.py").write_text("")
    (work / "models" / "common.py").write_text("class Conv:\n    pass\n\n\nclass SPP:\n    pass\n")
    (work / "detect.py").write_text(
        "import pickle\nfrom models.common import Conv\n\nmodel = pickle.load(open('yolov5s.pt', 'rb'))\n"
    )
    (work / "yolov5s.pt").write_bytes(b"\x80\x02cmodels.common\nConv\nq\x00cmodels.common\nSPPF\nq\x01\x86q\x02.")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN, result.summary
    assert result.summary.startswith(
        "yolov5s.pt refers to models.common.SPPF, which is not defined in this folder's models/common.py: the "
        "checkpoint was written by another (a newer) revision of that code"
    )
    assert result.hint.startswith("use the matching checkpoint, written by this revision of the code")
    (work / "models" / "common.py").write_text("from .layers import (\n    Conv,\n    SPPF,\n)\n")
    assert project.check_project(SimpleNamespace(torch=TORCH, quick=True)).status == PASS


def test_a_package_installed_from_an_index_that_is_not_the_repository_the_code_names_is_another_project(dists):
    """CASIA-LMC-Lab/FastSAM#141: prompt.py falls back to `check_requirements('git+https://github.com/openai/
    CLIP.git')`; `pip install clip` had installed PyPI's clip 0.2.0 ("A CLI clipboard manager"), so `clip.load` is
    missing. The fix that worked: uninstall it and install from that repository. A distribution whose metadata names
    the repository, or one installed from a URL or folder (PEP 610 direct_url.json), is not judged."""
    site, work = dists
    _dist(site, "cliplike", "0.2.0", {"__init__.py": "def copy(text):\n    return text\n"})
    info = site / "cliplike-0.2.0.dist-info"
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: cliplike\nVersion: 0.2.0\nSummary: A CLI clipboard manager\n"
        "Home-page: http://procrastinatingdev.com/clip/\n"
    )
    (work / "prompt.py").write_text(
        "try:\n    import cliplike\nexcept ImportError:\n"
        "    check_requirements('git+https://github.com/someorg/cliplike.git')\n    import cliplike\n"
    )
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN and result.summary.startswith(
        "prompt.py:4 installs cliplike from someorg/cliplike, but the installed cliplike 0.2.0 is another project of "
        "that name (A CLI clipboard manager; http://procrastinatingdev.com/clip/), installed from an index"
    )
    assert result.hint == (
        '`python -m pip uninstall -y cliplike && python -m pip install "git+https://github.com/someorg/cliplike.git"`'
    )
    (info / "direct_url.json").write_text('{"url": "file:///tmp/dl/cliplike-0.2.0.tar.gz", "archive_info": {}}')
    assert "installed from file:///tmp/dl/cliplike-0.2.0.tar.gz" in (
        project.check_project(SimpleNamespace(torch=TORCH, quick=True)).summary
    )  # an archive of that name from elsewhere is the same other project
    (info / "direct_url.json").write_text('{"url": "file:///src/cliplike", "dir_info": {}}')
    assert project.check_project(SimpleNamespace(torch=TORCH, quick=True)).status == PASS


def test_a_saved_dataset_with_feature_types_the_installed_datasets_lacks_was_saved_by_a_newer_one(dists):
    """huggingface/datasets#7739: a dataset saved by datasets 4.0.0 (dataset_info.json: `{"_type": "List"}`) under
    datasets 3.6.0, whose _FEATURE_TYPES has no List: "Feature type 'List' not found". The maintainer: upgrade."""
    site, work = dists
    _dist(site, "datasets", "3.6.0", {
        "__init__.py": "",
        "features/__init__.py": "",
        "features/features.py": "_FEATURE_TYPES = {'Value': 1, 'Sequence': 2, 'ClassLabel': 3}\n",
    })  # fmt: skip
    (work / "train.py").write_text("import os\n")
    saved = work / "data" / "tokenized_train"
    saved.mkdir(parents=True)
    (saved / "dataset_info.json").write_text(
        '{"features": {"input_ids": {"feature": {"dtype": "int32", "_type": "Value"}, "_type": "List"}, '
        '"label": {"dtype": "int64", "_type": "Value"}}}'
    )
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN and result.summary.startswith(
        "data/tokenized_train/dataset_info.json was saved by a newer datasets than datasets 3.6.0: its features use "
        "List, a feature type this release does not know"
    )
    assert result.hint.endswith("`python -m pip install -U datasets`")


def test_a_local_folder_named_like_the_hub_repository_a_loader_is_given_shadows_it(dists):
    """huggingface/datasets#6146: `load_dataset("glue", "ax")` run where an earlier run left a folder glue/ (one
    predictions file): datasets loads the folder and fails. The fix that worked: rename or move it. A path written as
    one ("./glue"), and from_pretrained of a folder holding a saved model (config.json), are the user's own."""
    site, work = dists
    _dist(site, "dslike", "2.14.4", {"__init__.py": "def load_dataset(path, name=None):\n    return path\n"})
    (work / "load_glue.py").write_text('from dslike import load_dataset\n\ndataset = load_dataset("glue", "ax")\n')
    (work / "glue").mkdir()
    (work / "glue" / "ax_predictions.txt").write_text("")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN and result.summary == (
        'load_glue.py:3 calls load_dataset("glue"), and the working directory has a folder glue/: load_dataset takes '
        "that local folder (its files: ax_predictions.txt), not the Hub's 'glue'"
    )
    assert result.hint.startswith("rename or move the folder glue/ (or run from another directory)")
    (work / "load_glue.py").write_text('from dslike import load_dataset\n\ndataset = load_dataset("./glue")\n')
    assert project.check_project(SimpleNamespace(torch=TORCH, quick=True)).status == PASS


def test_an_installed_module_that_fails_before_a_missing_one_in_the_same_file_is_what_the_run_meets(layout):
    """n1teshy/py-listener#1: listener/core.py imports sounddevice (line 9), which raises "OSError: PortAudio
    library not found", before a module that is not installed here: the run stops at sounddevice."""
    site, work = layout
    (site / "brokenpkg_sd.py").write_text("raise OSError('PortAudio library not found')\n")
    (work / "core.py").write_text("import os\nimport brokenpkg_sd as sd\nimport whisper_not_here\n")
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == FAIL and result.summary.startswith("core.py:2: brokenpkg_sd does not import")
    assert "OSError: PortAudio library not found" in result.data["exception"]


def test_an_installed_module_that_does_not_import_comes_before_modules_not_installed(layout):
    """XPixelGroup/DiffBIR#65: ldm/models/diffusion/ddpm.py imports rank_zero_only from
    pytorch_lightning.utilities.distributed, which pytorch-lightning 2.x no longer has; other files import modules
    not installed in that environment. The release that does not fit is named, and the missing ones after it with
    their install. A failure inside an import that is only one more missing module is not preferred."""
    site, work = layout
    (site / "brokenpkg_pl.py").write_text("from brokenpkg_pl_utils import rank_zero_only\n")
    (site / "brokenpkg_pl_utils.py").write_text("rank_zero_info = print\n")
    (site / "brokenpkg_needs.py").write_text("import albumentations_not_here\n")
    (work / "data.py").write_text("import cv2_not_here\nimport brokenpkg_needs\n")
    (work / "ddpm.py").write_text("import brokenpkg_pl\n")
    result = _judged(project.check_project(SimpleNamespace(torch=TORCH, quick=True)))
    assert result.status == FAIL and "rank_zero_only" in result.summary
    assert result.summary.endswith("; also not installed here: cv2_not_here (data.py:1)")
    assert result.hint.endswith("; install those too: `python -m pip install cv2_not_here`")


def test_a_method_the_installed_class_lacks_called_on_an_object_it_made_is_named(dists):
    """Lightning-AI/lit-llama#281: lit-llama calls `fabric.init_module()`, which lightning 2.0.2's Fabric predates
    (added in 2.1; the maintainer: install lightning from master): "'Fabric' object has no attribute 'init_module'"."""
    site, work = dists
    _dist(site, "fablike", "2.0.2", {
        "__init__.py": "class Fabric:\n    def __init__(self, accelerator='auto'):\n"
                       "        self.accelerator = accelerator\n\n    def launch(self):\n        return None\n",
    })  # fmt: skip
    (work / "lora.py").write_text(
        "import fablike as L\n\n\ndef main():\n    fabric = L.Fabric(accelerator='cuda')\n    fabric.launch()\n"
        "    with fabric.init_module():\n        pass\n"
    )
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN and result.summary == (
        "lora.py:7 calls init_module() on a fablike.Fabric, which fablike 2.0.2's Fabric does not have (nor does its "
        "module name it: added later): AttributeError when it runs"
    )
    assert result.hint.startswith(
        "upgrade fablike to a release whose Fabric has it (`python -m pip install -U fablike`)"
    )


# transformers 4.30.2's pipelines/audio_utils.py, ffmpeg_read (lines 10-31): the ASR pipeline decodes a file name it
# is given by running the ffmpeg program on it
AUDIO_UTILS = """import subprocess

import numpy as np


def ffmpeg_read(bpayload: bytes, sampling_rate: int) -> np.array:
    ar = f"{sampling_rate}"
    ac = "1"
    format_for_conversion = "f32le"
    ffmpeg_command = [
        "ffmpeg",
        "-i",
        "pipe:0",
        "-ac",
        ac,
        "-ar",
        ar,
        "-f",
        format_for_conversion,
        "-hide_banner",
        "-loglevel",
        "quiet",
        "pipe:1",
    ]

    try:
        with subprocess.Popen(ffmpeg_command, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as ffmpeg_process:
            output_stream = ffmpeg_process.communicate(bpayload)
    except FileNotFoundError as error:
        raise ValueError("ffmpeg was not found but is required to load audio files from filename") from error
"""


def test_a_media_program_a_reached_module_runs_that_is_not_on_path_warns_where_the_folder_has_media(
    dists, tmp_path, monkeypatch
):
    """huggingface/transformers#16563: the quick tour's ASR pipeline is given file names; transformers decodes them by
    running ffmpeg (pipelines/audio_utils.py), which the machine lacks: "ffmpeg was not found but is required to
    load audio files from filename". The maintainer's fix: install ffmpeg, or pass the decoded array. With an
    `ffmpeg` on PATH, or no media in the folder, nothing is said."""
    site, work = dists
    _dist(site, "asrlike", "4.30.2", {
        "__init__.py": "from .pipelines import pipeline\n",
        "pipelines/__init__.py": "from .audio_utils import ffmpeg_read\n\n\ndef pipeline(task, model=None):\n"
                                 "    return ffmpeg_read\n",
        "pipelines/audio_utils.py": AUDIO_UTILS,
    })  # fmt: skip
    (work / "quicktour.py").write_text(
        'from asrlike import pipeline\n\nspeech_recognizer = pipeline("automatic-speech-recognition")\n'
        'files = ["audio/sample0.wav", "audio/sample1.wav"]\nprint(speech_recognizer(files))\n'
    )
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN, result.summary
    assert result.summary == (
        "asrlike 4.30.2 runs the ffmpeg program to decode audio and video (asrlike/pipelines/audio_utils.py:10), "
        "and this folder works on media (quicktour.py:4: 'audio/sample0.wav'), but ffmpeg is not installed: no "
        "ffmpeg on PATH (FileNotFoundError when it runs)"
    )
    assert "`sudo apt install ffmpeg`" in result.hint and "`conda install -c conda-forge ffmpeg`" in result.hint
    (empty / "ffmpeg").write_text("#!/bin/sh\n")
    (empty / "ffmpeg").chmod(0o755)
    assert project.check_project(SimpleNamespace(torch=TORCH, quick=True)).status == PASS
    (empty / "ffmpeg").unlink()
    (work / "quicktour.py").write_text('from asrlike import pipeline\n\npipeline("text-classification")\n')
    assert project.check_project(SimpleNamespace(torch=TORCH, quick=True)).status == PASS


def test_a_call_a_provider_predates_names_the_release_the_caller_s_own_text_states(dists):
    """speechbrain/speechbrain#2820: speechbrain 1.0.3's dataio.py calls `torchaudio.info(path, backend=backend)`,
    which torchaudio 2.0.2 refuses (backend came in 2.1); speechbrain's utils/torch_audio_backend.py:65 warns
    "update torchaudio to >=2.1.0", the fix that worked. The fix names that release and where it is stated."""
    site, work = dists
    _dist(site, "ta2like", "2.0.2", {
        "__init__.py": "def info(filepath, format=None):\n    return filepath\n",
    })  # fmt: skip
    _dist(site, "sb2like", "1.0.3", {
        "__init__.py": "from .dataio import read_audio_info\n",
        "dataio.py": "import ta2like\n\n\ndef read_audio_info(path, backend=None):\n"
                     "    return ta2like.info(path, backend=backend)\n",
        "backend.py": "import logging\n\nlogger = logging.getLogger(__name__)\n\n\ndef check():\n"
                      '    logger.warning("This version of ta2like is old. If you encounter issues, update ta2like to '
                      '>=2.1.0.")\n',
    })  # fmt: skip
    (work / "train.py").write_text('from sb2like import read_audio_info\n\nread_audio_info("noisy/p232_001.wav")\n')
    result = project.check_project(SimpleNamespace(torch=TORCH, quick=True))
    assert result.status == WARN, result.summary
    assert "info has no parameter 'backend'" in result.summary
    assert result.hint.startswith(
        "upgrade ta2like to 2.1.0 or newer, as sb2like 1.0.3 states (sb2like/backend.py:7): `python -m pip install "
        '"ta2like>=2.1.0"`; or install the sb2like release written for ta2like 2.0.2'
    )


# PyG 2.3.1's torch_geometric/nn/pool/__init__.py, lines 17-20 and knn_graph's return (line 130), and its README's
# install line as its METADATA carries it
PYG_POOL = """import torch

try:
    import torch_cluster
except ImportError:
    torch_cluster = None


def knn_graph(x, k, batch=None, loop=False, flow='source_to_target', cosine=False, num_workers=1):
    return torch_cluster.knn_graph(x, k, batch, loop, flow, cosine, num_workers)


def voxel_grid(pos, size):
    return pos
"""
PYG_README = (
    "\n**For PyTorch 2.0**\n\n```\n"
    "pip install pyg_lib torch_scatter torch_sparse torch_cluster torch_spline_conv -f "
    "https://data.pyg.org/whl/torch-2.0.0+${CUDA}.html\n```\n\n**For PyTorch 1.13**\n\n```\n"
    "pip install pyg_lib torch_scatter torch_sparse torch_cluster torch_spline_conv -f "
    "https://data.pyg.org/whl/torch-1.13.0+${CUDA}.html\n```\n"
)


def test_a_call_of_a_function_using_an_optional_dependency_that_is_not_installed_fails(dists):
    """pyg-team/pytorch_geometric#7783: PyG 2.3.1's knn_graph calls torch_cluster, bound to None when its import
    failed, so "'NoneType' object has no attribute 'knn_graph'"; the maintainer's answer: torch_cluster is missing.
    The fix is the install line PyG's README gives for this torch, its ${CUDA} made this build's tag. A function
    that does not use it is fine."""
    site, work = dists
    _dist(site, "pyglike", "2.3.1", {"__init__.py": "", "nn/__init__.py": "from .pool import *\n",
                                      "nn/pool/__init__.py": PYG_POOL})  # fmt: skip
    metadata = next(site.glob("pyglike-*.dist-info")) / "METADATA"
    metadata.write_text(metadata.read_text() + PYG_README)
    (work / "knn_example.py").write_text(
        "from pyglike.nn import knn_graph\n\nx = [[-1.0, -1.0], [1.0, 1.0]]\n\nedge_index = knn_graph(x, k=1)\n"
    )
    torch = SimpleNamespace(__version__="2.0.1+cu117")
    result = project.check_project(SimpleNamespace(torch=torch, quick=True))
    assert result.status == FAIL, result.summary
    assert result.summary.startswith(
        "knn_example.py:5 calls pyglike.nn.knn_graph, which uses torch_cluster, an optional dependency of pyglike "
        "2.3.1 that is not installed: pyglike/nn/pool/__init__.py:4 sets torch_cluster to None when its import fails"
    )
    assert result.hint == (
        "install torch_cluster into this environment: `pip install pyg_lib torch_scatter torch_sparse torch_cluster "
        "torch_spline_conv -f https://data.pyg.org/whl/torch-2.0.0+cu117.html`"
    )
    (work / "knn_example.py").write_text("from pyglike.nn import voxel_grid\n\nvoxel_grid(1, 2)\n")
    assert project.check_project(SimpleNamespace(torch=torch, quick=True)).status == PASS


def _module_at(monkeypatch, name, path, text):
    """A loaded module `name` whose file is `path` holding `text` (sys.modules, restored after the test)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    monkeypatch.setitem(sys.modules, name, module)


def test_two_copies_of_lightning_in_one_program_warn_with_the_library_s_import(tmp_path, monkeypatch):
    """ray-project/ray#39715: the script imports lightning.pytorch, ray 2.7.1's ray.train.lightning imports
    pytorch_lightning (its _lightning_utils.py:23, `import pytorch_lightning as pl`), and the Trainer rejects Ray's
    strategy ("It must be either a string or an instance of `lightning.pytorch.strategies.Strategy`")."""
    from checks.machine.project import Import

    site_dir = tmp_path / "site"
    _module_at(monkeypatch, "lightning.pytorch", site_dir / "lightning" / "pytorch" / "__init__.py", "")
    _module_at(monkeypatch, "ray", site_dir / "ray" / "__init__.py", "")
    utils = site_dir / "ray" / "train" / "lightning" / "_lightning_utils.py"
    _module_at(
        monkeypatch, "ray.train.lightning._lightning_utils", utils, "import os\n\nimport pytorch_lightning as pl\n"
    )
    script = str(tmp_path / "bug.py")
    imports = (
        Import(module="lightning.pytorch", names=(), file=script, line=5),
        Import(module="ray.train.lightning", names=("RayDDPStrategy",), file=script, line=9),
    )
    done = ["lightning.pytorch", "ray.train.lightning"]
    assert project._lightning_copies_mixed(imports, done, deadline=float("inf")) is None  # one copy loaded
    _module_at(monkeypatch, "pytorch_lightning", site_dir / "pytorch_lightning" / "__init__.py", "")
    result = project._lightning_copies_mixed(imports, done, deadline=float("inf"))
    assert result.status == WARN
    assert result.summary.startswith(
        "bug.py:5 imports lightning.pytorch, while ray.train.lightning (ray/train/lightning/_lightning_utils.py:3) "
        "imports pytorch_lightning: they are two copies of Lightning"
    )
    assert "`import pytorch_lightning as pl` in place of `import lightning.pytorch as pl` (bug.py:5)" in result.hint
    own = imports + (Import(module="pytorch_lightning", names=("Trainer",), file=script, line=6),)
    both = project._lightning_copies_mixed(own, done, deadline=float("inf"))
    assert both.summary.startswith("bug.py:5 imports lightning.pytorch, while its own code (bug.py:6)")


# transformers 5.12.1's models/idefics3/image_processing_idefics3.py, the lines that matter (line 20 and 202)
IDEFICS3_IMAGE_PROCESSING = (
    "import math\n\nimport numpy as np\nimport torch\nfrom torchvision.transforms.v2 import functional as tvF\n\n"
    "from ...image_processing_backends import TorchvisionBackend\n\n\n"
    "class Idefics3ImageProcessor(TorchvisionBackend):\n    pass\n"
)


def test_a_model_folder_s_processor_whose_module_imports_a_missing_module_warns(tmp_path, monkeypatch):
    """huggingface/transformers#46726: SmolVLM's preprocessor_config.json names Idefics3ImageProcessor, whose module
    in transformers 5 imports torchvision at its top; without torchvision AutoProcessor says only "Unrecognized image
    processor". The fix installs the torchvision paired with this torch."""
    from checks.machine import project as project_facts

    site_dir = tmp_path / "site"
    models = site_dir / "transformers" / "models" / "idefics3"
    models.mkdir(parents=True)
    (site_dir / "transformers" / "__init__.py").write_text("")
    (models / "image_processing_idefics3.py").write_text(IDEFICS3_IMAGE_PROCESSING)
    monkeypatch.syspath_prepend(str(site_dir))
    monkeypatch.delitem(sys.modules, "transformers", raising=False)  # another test's stand-in: this one is read
    findable = project._module_findable
    monkeypatch.setattr(project, "_module_findable", lambda module: module != "torchvision" and findable(module))
    folder = tmp_path / "work" / "SmolVLM-256M-Instruct"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "idefics3", "transformers_version": "4.47.0"}')
    (folder / "preprocessor_config.json").write_text(
        '{"do_resize": true, "image_processor_type": "Idefics3ImageProcessor", "processor_class": "Idefics3Processor"}'
    )
    root = str(tmp_path / "work")
    configs = project_facts.model_configs(root)
    assert project._model_config_refused(configs, root) is None  # idefics3 is no unknown model_type
    result = project._processor_needs(configs, root, "2.13.0+cpu")
    assert result.status == WARN
    assert result.summary.startswith(
        "SmolVLM-256M-Instruct/preprocessor_config.json names the processor Idefics3ImageProcessor, whose module in "
        "transformers (transformers/models/idefics3/image_processing_idefics3.py:5) imports torchvision, which is "
        "not installed"
    )
    assert '`python -m pip install "torchvision==0.28.0"`' in result.hint
    monkeypatch.setattr(project, "_module_findable", findable)
    (models / "image_processing_idefics3.py").write_text(IDEFICS3_IMAGE_PROCESSING.replace("torchvision", "numpy"))
    assert project._processor_needs(configs, root, "2.13.0+cpu") is None


def test_a_checkout_whose_setup_py_builds_a_module_never_built_warns(tmp_path, monkeypatch):
    """aqlaboratory/openfold#445: OpenFold cloned into the working directory, its environment made, `python setup.py
    install` never run: its CUDAExtension attn_core_inplace_cuda is neither built nor installed."""
    checkout = tmp_path / "openfold"
    checkout.mkdir()
    (checkout / "setup.py").write_text(
        "from setuptools import setup\nfrom torch.utils.cpp_extension import BuildExtension, CUDAExtension\n"
        'setup(name="openfold", ext_modules=[CUDAExtension(name="attn_core_inplace_cuda", sources=["a.cu"])],\n'
        '      cmdclass={"build_ext": BuildExtension})\n'
    )
    result = project._unbuilt_checkout(str(tmp_path))
    assert result.status == WARN
    assert result.summary.startswith(
        "openfold/setup.py builds attn_core_inplace_cuda (CUDAExtension), which is neither built in %s nor installed"
        % checkout
    )
    assert "`python -m pip install -v --no-build-isolation .`" in result.hint
    (checkout / "attn_core_inplace_cuda.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")  # built in place
    assert project._unbuilt_checkout(str(tmp_path)) is None


def test_a_project_module_named_like_a_cached_hub_repository_s_package_fails(tmp_path, monkeypatch):
    """ultralytics/yolov5#6048: the project's own utils.py, imported before torch.hub.load('ultralytics/yolov5',
    ...), takes the name of YOLOv5's utils package ("No module named 'utils.datasets'; 'utils' is not a package");
    renaming utils.py fixed it."""
    from checks.machine import project as project_facts

    hub_dir = tmp_path / "hub"
    repo = hub_dir / "ultralytics_yolov5_master"
    (repo / "utils").mkdir(parents=True)
    (repo / "utils" / "__init__.py").write_text("")
    (repo / "hubconf.py").write_text("from utils.datasets import exif_transpose, letterbox\n")
    work = tmp_path / "work"
    work.mkdir()
    (work / "utils.py").write_text("def draw(x):\n    return x\n")
    (work / "detect_app.py").write_text(
        "import torch\nimport numpy\nfrom utils import draw\n\n"
        "model = torch.hub.load('ultralytics/yolov5', 'yolov5s')\n"
    )
    found = project_facts.scan(str(work), ignore=("torch", "torchvision", "torchaudio"))
    torch = SimpleNamespace(hub=SimpleNamespace(get_dir=lambda: str(hub_dir)))
    result = project._hub_names_shadowed(torch, found.hub_repos, found)
    assert result.status == FAIL
    assert result.summary.startswith(
        "detect_app.py:3 imports the project's own utils (utils.py), and the torch.hub repository ultralytics/yolov5 "
        "it loads (detect_app.py:5) has a top-level utils of its own"
    )
    assert "'utils' is not a package" in result.summary and result.hint.startswith("rename the project's utils.py")
    (work / "utils.py").rename(work / "helpers.py")
    (work / "detect_app.py").write_text(
        "import torch\nfrom helpers import draw\n\nmodel = torch.hub.load('ultralytics/yolov5', 'yolov5s')\n"
    )
    found = project_facts.scan(str(work), ignore=("torch", "torchvision", "torchaudio"))
    assert project._hub_names_shadowed(torch, found.hub_repos, found) is None
