"""Tests for checks/diagnosis/stated.py: a failure that states the release it needs, judged against the installed
one; and rule 6 finding torch's remedy further down a multi-line message. Texts are quoted from the sources named."""

import sys

import pytest
from diagnosis_facts import facts_for, site

from checks import diagnosis
from checks.diagnosis import stated


@pytest.mark.parametrize(
    "text, bounds",
    [
        # transformers' check_torch_load_is_safe (transformers 4.50+, src/transformers/utils/import_utils.py)
        (
            "ValueError: Due to a serious vulnerability issue in `torch.load`, even with `weights_only=True`, we now "
            "require users to upgrade torch to at least v2.6 in order to use the function.",
            [("torch", "2.6")],
        ),
        ("ImportError: accelerate requires PyTorch >= 2.0.0", [("torch", "2.0.0")]),
        ("RuntimeError: FlashAttention is only supported with PyTorch 2.2 or newer", [("torch", "2.2")]),
        ("RuntimeError: torchvision version must be at least 0.16.0", [("torchvision", "0.16.0")]),
        ("RuntimeError: This package requires Python >= 3.9", [("python", "3.9")]),
        ("RuntimeError: torch 2.0.1 is installed", []),  # a version named, no bound stated
    ],
)
def test_statements_read_the_lower_bounds_a_text_states(text, bounds):
    assert stated.statements(text) == bounds


def test_an_unmet_stated_torch_release_names_both_and_the_raiser(tmp_path, monkeypatch):
    """transformers' guard raised from its own frame; torch 2.0.1 is installed."""
    prefix, packages = site(tmp_path)
    text = (
        "Traceback (most recent call last):\n"
        '  File "%s/transformers/modeling_utils.py", line 5012, in _load_state_dict\n'
        "    check_torch_load_is_safe()\n"
        "ValueError: Due to a serious vulnerability issue in `torch.load`, even with `weights_only=True`, we now "
        "require users to upgrade torch to at least v2.6 in order to use the function." % packages
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "stated"
    assert cause.meaning == "transformers needs torch >= 2.6 (its message says so); torch 2.0.1 is installed"
    assert 'python -m pip install "torch>=2.6"' in cause.fix
    assert "or install a release of transformers that supports torch 2.0.1" in cause.fix


def test_a_met_stated_release_decides_nothing(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path, torch_version="2.6.0")
    cause = diagnosis.explain(
        "ImportError: accelerate requires PyTorch >= 2.0.0", facts_for(monkeypatch, prefix, [packages])
    )
    assert cause.rule != "stated"


def test_a_stated_python_release_is_judged_by_the_running_interpreter(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    newer = "%d.%d" % (sys.version_info[0], sys.version_info[1] + 1)
    cause = diagnosis.explain(
        "RuntimeError: This package requires Python >= %s" % newer, facts_for(monkeypatch, prefix, [packages])
    )
    assert cause.rule == "stated" and "needs python >= %s" % newer in cause.meaning


def test_torch_s_remedies_further_down_its_message_are_kept(tmp_path, monkeypatch):
    """torch 2.6's torch.load (torch/serialization.py, _get_wo_message): the remedy is on the message's last line."""
    prefix, packages = site(tmp_path)
    text = (
        "_pickle.UnpicklingError: Weights only load failed. This file can still be loaded, to do so you have two "
        "options, do those steps only if you trust the source of the checkpoint. \n"
        "\t(1) In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` from "
        "`False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely succeed, but it can "
        "result in arbitrary code execution. Do it only if you got the file from a trusted source.\n"
        "\t(2) Alternatively, to load with `weights_only=True` please check the recommended steps in the following "
        "error message.\n"
        "\tWeightsUnpickler error: Unsupported global: GLOBAL numpy.core.multiarray._reconstruct was not an allowed "
        "global by default. Please use `torch.serialization.add_safe_globals([_reconstruct])` or the "
        "`torch.serialization.safe_globals([_reconstruct])` context manager to allowlist this global if you trust "
        "this class/function."
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "checkpoint" and "numpy.core.multiarray._reconstruct" in cause.meaning
    assert "weights_only=False" in cause.fix and "add_safe_globals([_reconstruct])" in cause.fix  # both of torch's


def test_another_installed_distribution_below_a_stated_requirement(tmp_path, monkeypatch):
    """transformers' dependency_versions_check text: "accelerate>=0.26.0 is required for a normal functioning of this
    module, but found accelerate==0.21.0." judged by accelerate's dist-info."""
    prefix, packages = site(tmp_path)
    info = packages / "accelerate-0.21.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: accelerate\nVersion: 0.21.0\n")
    monkeypatch.syspath_prepend(str(packages))
    text = (
        "ImportError: accelerate>=0.26.0 is required for a normal functioning of this module, but found "
        "accelerate==0.21.0.\nTry: `pip install transformers -U` or `pip install -e '.[dev]'` if you're working with "
        "git main"
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "stated" and "needs accelerate >= 0.26.0" in cause.meaning
    assert 'python -m pip install "accelerate>=0.26.0"' in cause.fix and "download.pytorch.org" not in cause.fix


def test_a_requirement_on_a_distribution_not_installed_here_is_not_judged(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    cause = diagnosis.explain("ImportError: nosuchdist>=1.0 is required", facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule != "stated"


def test_a_library_s_quoted_install_command_is_its_remedy(tmp_path, monkeypatch):
    """transformers' text for an old bitsandbytes: the command it quotes is kept as the fix."""
    prefix, packages = site(tmp_path)
    cause = diagnosis.explain(
        "ImportError: Using `bitsandbytes` 8-bit quantization requires the latest version of bitsandbytes: "
        "`pip install -U bitsandbytes`",
        facts_for(monkeypatch, prefix, [packages]),
    )
    assert cause.rule == "torch" and cause.fix == "pip install -U bitsandbytes"


@pytest.mark.parametrize(
    "text, bounds",
    [
        # numba 0.60's numba/__init__.py, _ensure_critical_deps
        ("ImportError: Numba needs NumPy 2.0 or less. Got NumPy 2.1.", [("numpy", "2.0", False)]),
        # protobuf 4.21's google/protobuf/descriptor.py
        (
            " 1. Downgrade the protobuf package to 3.20.x or lower.\n 2. Set PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION",
            [("protobuf", "3.20", False)],
        ),
        ("RuntimeError: this build requires numpy<2", [("numpy", "2", True)]),
        ("RuntimeError: numpy 2.1.3 is installed", []),
    ],
)
def test_upper_bounds_read_the_bounds_a_text_states(text, bounds):
    assert stated.upper_bounds(text) == bounds


def _installed(packages, *dists):
    for name, version in dists:
        info = packages / ("%s-%s.dist-info" % (name, version))
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))


@pytest.mark.parametrize(
    "numpy, judged",
    [("2.1.3", True), ("2.0.2", False), ("1.26.4", False)],
)
def test_an_installed_release_above_a_stated_upper_bound_offers_both_ways(tmp_path, monkeypatch, numpy, judged):
    """WASasquatch/was-node-suite-comfyui#5's text, "Numba needs NumPy 2.0 or less. Got NumPy 2.1.": numpy below the
    bound (2.0 or less allows every 2.0.x), or a numba release that supports the installed numpy."""
    prefix, packages = site(tmp_path)
    _installed(packages, ("numpy", numpy), ("numba", "0.60.0"))
    monkeypatch.syspath_prepend(str(packages))
    text = "ImportError: Numba needs NumPy 2.0 or less. Got NumPy 2.1."
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    if not judged:
        assert cause.rule != "stated"
        return
    assert cause.rule == "stated"
    assert cause.meaning == "numba 0.60.0 needs numpy <2.1 (its message says so); numpy 2.1.3 is installed"
    assert cause.fix == (
        'install numpy <2.1: `python -m pip install "numpy<2.1"`, or upgrade numba to a release that supports numpy '
        "2.1.3 (`python -m pip install -U numba`)"
    )


@pytest.mark.parametrize("floor, where", [(None, None), ("1.3.2", "init"), ("1.3.2", "metadata"), ("1.2.0", "init")])
def test_the_way_down_is_not_offered_where_it_breaks_another_installed_package(tmp_path, monkeypatch, floor, where):
    """open-mmlab/mmpose#748: mmpose 0.12.0 accepts only mmcv<1.3 ("MMCV==1.3.7 is used but incompatible. Please
    install mmcv>=1.1.3, <1.3."), while mmdet 2.13.0 beside it needs mmcv>=1.3.2 (its __init__.py sets
    mmcv_minimum_version = '1.3.2'): installing mmcv<1.3 breaks mmdet, so the fix is mmpose's upgrade."""
    prefix, packages = site(tmp_path)
    _installed(packages, ("mmcv", "1.3.7"), ("mmpose", "0.12.0"), ("mmdet", "2.13.0"))
    if where == "init":
        (packages / "mmdet").mkdir()
        (packages / "mmdet" / "__init__.py").write_text(
            "import mmcv\n\nmmcv_minimum_version = '%s'\nmmcv_maximum_version = '1.4.0'\n" % floor
        )
    elif where == "metadata":
        with open(packages / "mmdet-2.13.0.dist-info" / "METADATA", "a") as handle:
            handle.write("Requires-Dist: mmcv (>=%s)\n" % floor)
    monkeypatch.syspath_prepend(str(packages))
    text = (
        'File "%s/mmpose/__init__.py", line 22, in <module>\n    assert (mmcv_version >= digit_version(mmcv_min'
        "imum_version)\nAssertionError: MMCV==1.3.7 is used but incompatible. Please install mmcv<1.3.\n" % packages
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "stated"
    if floor is None or floor < "1.3":
        assert cause.fix.startswith('install mmcv <1.3: `python -m pip install "mmcv<1.3"`')
        return
    assert cause.fix.startswith("upgrade mmpose to a release that supports mmcv 1.3.7 (`python -m pip install -U")
    assert "a mmcv older than 1.3 would break mmdet 2.13.0, which needs mmcv>=1.3.2" in cause.fix
    assert "mmcv<1.3" not in cause.fix
