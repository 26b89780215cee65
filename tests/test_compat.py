"""Tests for checks/compat.py: driver floors, Python support, domain-library pairing, arch lists."""

import pytest

from checks import compat


@pytest.mark.parametrize(
    "runtime, driver, windows, verdict, needed",
    [
        ("11.8", "535.104.05", False, "ok", "520.61.05"),
        ("11.8", "520.61.05", False, "ok", "520.61.05"),
        ("11.8", "470.82.01", False, "limited", "520.61.05"),
        ("11.7", "440.33.01", False, "too-old", "515.43.04"),
        ("11.8", "520.06", True, "ok", "520.06"),
        ("12.8", "550.54.14", False, "limited", "570.26"),
        ("12.8", "470.82.01", False, "too-old", "570.26"),
        ("12.9", "575.51.03", False, "ok", "575.51.03"),
        ("12.2", "530.30.02", False, "limited", "535.54.03"),
        ("12.2", "535.54.03", False, "ok", "535.54.03"),
        ("13.0", "575.51.03", False, "too-old", "580"),
        ("13.2", "580.95.05", False, "limited", "595"),
    ],
)
def test_driver_verdict(runtime, driver, windows, verdict, needed):
    """A driver is judged against NVIDIA's table for the runtime's CUDA release (or the one before it); below it,
    CUDA minor-version compatibility (11.x >= 450.80.02, 12.x >= 525, 13.x >= 580) makes it `limited`."""
    assert compat.driver_verdict(runtime, driver, windows) == (verdict, needed)


def test_driver_verdict_unknown_without_a_version():
    """No driver version or a runtime older than the table: no verdict rather than a guess."""
    assert compat.driver_verdict("11.8", None)[0] == "unknown"
    assert compat.driver_verdict("10.2", "440.33")[0] == "unknown"


@pytest.mark.parametrize(
    "torch_version, pair",
    [
        ("2.0.0", ("0.15.1", "2.0.1")),
        ("2.0.1", ("0.15.2", "2.0.2")),
        ("2.1.2", ("0.16.2", "2.1.2")),
        ("2.10.0", ("0.25.0", "2.10.0")),
        ("2.13.0", ("0.28.0", "2.11.*")),
        ("2.14.1", ("0.29.*", "2.11.*")),
        ("2.15.0", ("0.29.*", "2.11.*")),
        ("2.16.0", None),
        ("2.0.1+cu117", ("0.15.2", "2.0.2")),
    ],
)
def test_paired_versions_follow_the_release_matrix(torch_version, pair):
    """torch 2.0.x pairs with 0.15.(x+1)/2.0.(x+1); later releases with 0.(m+15).p/2.m.p until torchaudio's last
    release (2.11) and torchvision 0.29 (which accepts torch >= 2.14); a torch newer than the table gets None."""
    assert compat.paired_versions(torch_version) == pair


@pytest.mark.parametrize(
    "python, torch_version, ok",
    [
        ("3.10.13", "2.0.1", True),
        ("3.8.18", "2.0.1", True),
        ("3.12.1", "2.0.1", False),
        ("3.7.16", "2.0.1", False),
        ("3.13.0", "2.5.1", True),
        ("3.8.18", "2.5.1", False),
        ("3.14.0", "2.13.0", True),
        ("3.9.18", "2.13.0", False),
        ("3.15.0", "2.15.0", True),
        ("3.10.13", "2.15.0", False),
        ("3.13.0", "2.99.0", None),
    ],
)
def test_python_support(python, torch_version, ok):
    """Python support comes from each release's wheels on PyPI; a torch beyond the table gives no verdict."""
    assert compat.python_ok(python, torch_version) is ok


@pytest.mark.parametrize(
    "python, torch_version, ok",
    [
        ("3.10.13", "2.0.1", True),
        ("3.11.7", "2.0.1", False),  # pytorch/pytorch#104918: "Python 3.11+ not yet supported for torch.compile"
        ("3.11.7", "2.1.2", True),
        ("3.12.1", "2.3.1", False),  # pytorch/pytorch#120233: "Dynamo is not supported on Python 3.12+" (2.2.2)
        ("3.12.1", "2.4.1", True),
        ("3.14.0", "2.9.1", False),
        ("3.14.0", "2.10.0", True),
        ("3.15.0", "2.15.0", True),
        ("3.14.0", "2.16.0", None),
    ],
)
def test_compile_python_support(python, torch_version, ok):
    """torch.compile's own version gate per release (torch/__init__.py and eval_frame.py of each wheel)."""
    assert compat.compile_python_ok(python, torch_version) is ok


def test_every_release_through_the_newest_is_in_every_table():
    """No torch release up to NEWEST_TORCH is missing from a per-release table."""
    releases = [(2, m) for m in range(compat.NEWEST_TORCH[1] + 1)]
    for table in (compat.PYTHON_SUPPORT, compat.COMPILE_PYTHON_MAX):
        assert sorted(table) == releases
    assert compat.known("2.15.0") and not compat.known("2.16.0")


@pytest.mark.parametrize(
    "cuda, capability, ok",
    [
        ("11.7", (9, 0), False),
        ("11.8", (9, 0), True),
        ("11.8", (8, 9), True),
        ("12.8", (12, 0), True),
        ("12.6", (12, 0), False),
        ("12.8", (3, 7), False),  # CUDA 12.0 dropped Kepler
        ("13.0", (6, 1), False),  # CUDA 13.0 dropped sm_50 to sm_72
        ("13.0", (8, 9), True),
        ("12.8", (99, 0), None),
    ],
)
def test_which_cuda_can_build_kernels_for_a_gpu(cuda, capability, ok):
    """NVIDIA's toolkit support per architecture (an older minor of the same major counts)."""
    assert compat.cuda_can_build(cuda, capability) is ok


CU117_LINUX = ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "compute_37"]
CU118_LINUX = CU117_LINUX[:-1] + ["sm_90", "compute_37"]


@pytest.mark.parametrize(
    "capability, arch_list, verdict",
    [
        ((9, 0), CU118_LINUX, "native"),
        ((8, 9), CU118_LINUX, "compatible"),
        ((9, 0), CU117_LINUX, "ptx"),
        ((9, 0), CU117_LINUX[:-1], "none"),
        ((12, 0), ["sm_80", "sm_90"], "none"),
        ((12, 0), ["sm_90", "sm_120"], "native"),
        ((9, 0), ["sm_90a"], "native"),
    ],
)
def test_arch_support(capability, arch_list, verdict):
    """SASS of the same major runs forward within it; PTX JIT-compiles for newer; otherwise no kernels."""
    assert compat.arch_support(capability, arch_list)[0] == verdict


@pytest.mark.parametrize(
    "torch_version, floor",
    [("2.0.1", "12.3"), ("2.4.1", "12.3"), ("2.5.0", "13.0"), ("2.7.1", "13.0"), ("2.8.0", "14.0"), ("2.13.0", "14.0")],
)
def test_mps_needs_the_macos_of_its_release(torch_version, floor):
    """12.3 through 2.4 (pytorch/pytorch#100879), 13.0 from 2.5 (#133141), 14.0 from 2.8 (#163515, #173149)."""
    assert compat.mps_macos_floor(torch_version) == floor


@pytest.mark.parametrize(
    "torch_version, builds",
    [
        # pytorch/pytorch RELEASE.md, Release Compatibility Matrix: Stable CUDA + Experimental CUDA columns
        ("2.0.1", ("11.7", "11.8")),  # "CUDA 11.7, CUDNN 8.5.0.96 | CUDA 11.8, CUDNN 8.7.0.84"
        ("2.5.1", ("11.8", "12.1", "12.4")),  # "CUDA 11.8, CUDA 12.1, CUDA 12.4, CUDNN 9.1.0.70 | None"
        ("2.7.0", ("11.8", "12.6", "12.8")),  # "CUDA 11.8 (...), CUDA 12.6 (...) | CUDA 12.8 (...)"
        ("2.8.0", ("12.6", "12.8", "12.9")),
        ("2.11.0", ("12.6", "12.8", "13.0")),
        ("2.13.0", ("12.6", "13.0", "13.2")),  # "CUDA 12.6 (...), CUDA 13.0 (...) | CUDA 13.2 (...)"
    ],
)
def test_wheel_cuda_builds_follow_the_release_matrix(torch_version, builds):
    """The wheel indexes of a release are its matrix row's stable and experimental CUDA versions."""
    assert compat.WHEEL_CUDA[compat.minor_key(torch_version)] == builds


def test_wheel_cuda_table_covers_each_release_it_has_a_source_for():
    """2.0 to 2.14 each have a row (RELEASE.md); 2.15, which no source read lists, has none rather than a guess."""
    assert sorted(compat.WHEEL_CUDA) == [(2, m) for m in range(15)]
    assert (2, 15) not in compat.WHEEL_CUDA


def test_pytorch_channel_cuda_matches_the_channels_records(data_dir):
    """2.0's pytorch-cuda variants are the CUDA builds of pytorch 2.0.1 in the channel's own repodata (tests/data):
    build strings `py3.10_cuda11.7_cudnn8.5.0_0` and `py3.10_cuda11.8_cudnn8.7.0_0`."""
    import json
    import re

    records = json.loads((data_dir / "pytorch-channel-linux-64.json").read_text())["packages"].values()
    cudas = {
        re.search(r"_cuda(\d+\.\d+)_", r["build"]).group(1)
        for r in records
        if r["name"] == "pytorch" and r["version"] == "2.0.1" and "_cuda" in r["build"]
    }
    assert tuple(sorted(cudas)) == compat.PYTORCH_CHANNEL_CUDA[(2, 0)]
    assert max(compat.PYTORCH_CHANNEL_CUDA) == compat.PYTORCH_CHANNEL_LAST == (2, 5)


@pytest.mark.parametrize(
    "builds, driver, capabilities, windows, choice",
    [
        # driver 535 (CUDA 12.2): 12.6 needs 560.28.03 fully, 12.x runs from 525.60.13 (minor-version compatibility)
        (("12.6", "13.0", "13.2"), "535.161.07", [(8, 9)], False, ("12.6", "limited", "560.28.03")),
        # 13.0 needs R580; 13.2 (R595) would only be `limited`: the fully supported one wins
        (("12.6", "13.0", "13.2"), "590.44.01", [(8, 9)], False, ("13.0", "ok", "580")),
        (("12.6", "13.0", "13.2"), "595.10", [(9, 0)], False, ("13.2", "ok", "595")),
        # full support of an older build is preferred to minor-version compatibility of a newer one
        (("11.8", "12.6", "12.8"), "535.161.07", [(8, 9)], False, ("11.8", "ok", "520.61.05")),
        (("11.8", "12.6", "12.8"), "520.06", [], True, ("11.8", "ok", "520.06")),  # Windows column
        # Blackwell (sm_120): CUDA 12.6 cannot build for it, and 13.x needs R580
        (("12.6", "13.0", "13.2"), "570.86.10", [(12, 0)], False, ("13.0", "too-old", "580")),
        # driver 470 (CUDA 11.4) is below 12.x's 525 floor: the oldest build's full-support driver is named
        (("12.6", "13.0", "13.2"), "470.256.02", [(7, 5)], False, ("12.6", "too-old", "560.28.03")),
        # Kepler (sm_37): CUDA 12.0 dropped it, so no 2.13 build can have its kernels
        (("12.6", "13.0", "13.2"), "580.95.05", [(3, 7)], False, (None, "no-kernels", None)),
        (("12.6", "13.0", "13.2"), None, [(8, 9)], False, (None, "unknown", None)),
        ((), "580.95.05", [(8, 9)], False, (None, "unknown", None)),
    ],
)
def test_choose_cuda_build(builds, driver, capabilities, windows, choice):
    """The newest build the driver supports fully, else the newest it runs under minor-version compatibility, among
    those that can have kernels for every GPU; none when the driver is too old for all (NVIDIA CUDA Toolkit release
    notes, "CUDA Driver" table and minor-version compatibility floors)."""
    got = compat.choose_cuda_build(builds, driver, capabilities, windows)
    assert (got.cuda, got.verdict, got.needed) == choice
    assert got.variants == tuple(builds)


def test_cuda_tag():
    assert compat.cuda_tag("12.6") == "cu126" and compat.cuda_tag("11.8.0") == "cu118"


@pytest.mark.parametrize(
    "capability, release, cudas, newest_known",
    [
        ((3, 5), "1.3.0", ("9.2", "10.1"), False),  # builder 2aac90bd moved 3.5 to 3.7 after 1.3.0
        ((3, 7), "2.5.1", ("11.8",), True),  # release/2.5's build_cuda.sh keeps 3.7 for CUDA 11.8 only
        ((5, 2), "2.5.1", ("11.8", "12.1", "12.4"), True),  # sm_50 SASS runs on sm_52
    ],
)
def test_the_newest_official_build_with_kernels_for_an_old_gpu(capability, release, cudas, newest_known):
    found = compat.newest_official_build(capability)
    assert (found.release, found.cuda, found.newest_known) == (release, cudas, newest_known)


def test_no_official_build_has_kernels_for_kepler_sm30():
    """sm_30 was never in a rowed release's list (pytorch/pytorch#4841 removed 3.0 from the binaries)."""
    assert compat.newest_official_build((3, 0)) is None


def test_a_torch_cuda_arch_list_turns_into_get_arch_list_names():
    assert compat.arch_list_names("3.5;5.0+PTX;6.0") == ["sm_35", "sm_50", "compute_50", "sm_60"]


@pytest.mark.parametrize(
    "capability, branch, newest_cuda",
    [((3, 5), "470", "11.4"), ((3, 7), "470", "11.4"), ((6, 1), "580", "13.0"), ((7, 0), "580", "13.0")],
)
def test_the_last_driver_branch_of_an_architecture_and_the_cuda_it_runs(capability, branch, newest_cuda):
    end = compat.last_driver_branch(capability)
    assert (end.branch, end.newest_cuda) == (branch, newest_cuda)


@pytest.mark.parametrize("capability", [(7, 5), (8, 6), (12, 0)])
def test_architectures_nvidia_still_makes_drivers_for_have_no_last_branch(capability):
    assert compat.last_driver_branch(capability) is None


@pytest.mark.parametrize(
    "release, pythons",
    [
        ("1.9.1+cu111", ("3.6", "3.9")),  # pytorch/pytorch#66399: "Python-3.10 is not supported ... by 1.9.1"
        ("1.7.0", ("3.6", "3.8")),
        ("1.7.1", ("3.6", "3.9")),  # 1.7.1 added cp39 wheels
        ("1.13.1", ("3.7", "3.11")),
        ("2.5.1", ("3.9", "3.13")),
        ("0.4.1", None),
    ],
)
def test_the_pythons_of_a_torch_release(release, pythons):
    assert compat.python_support(release) == pythons


def test_a_pin_without_a_wheel_for_this_python_admits_no_release():
    """pip's "No matching distribution found for torch==1.9.1+cu111" on Python 3.10/3.11 (pytorch/pytorch#66399)."""
    assert compat.releases_for_python("3.11.7", "==1.9.1+cu111") == (("1.9.1",), ())
    assert compat.releases_for_python("3.9.18", "==1.9.1+cu111") == (("1.9.1",), ("1.9.1",))
    known, supported = compat.releases_for_python("3.11.7", ">=1.8,<1.14")
    assert known[0] == "1.8.0" and supported == ("1.13.0", "1.13.1")
    assert compat.releases_for_python("3.11.7", "==2.0.1") == (("2.0.1",), ("2.0.1",))
    assert compat.releases_for_python("3.8.10", ">=2.5")[1] == ()
    assert compat.releases_for_python("3.11.7", "==9.0") == ((), ())


def test_every_torch_1_release_has_its_pythons():
    """The 1.x releases on PyPI, 1.0.0 to 1.13.1; each row an ascending range of Pythons."""
    assert len(compat.TORCH1_PYTHON) == 24
    for low, high in compat.TORCH1_PYTHON.values():
        assert compat.version_key(low) < compat.version_key(high)


def test_torch_api_span_reads_the_name_or_the_module_holding_it():
    """compat.TORCH_API rows the float8 dtypes (2.1) and torch._six (gone in 2.0); a name inside torch._six goes with
    it (lightning-bolts#600: `from torch._six import PY3`)."""
    assert compat.torch_api_span("torch", "float8_e4m3fn") == ("2.1", None)
    assert compat.torch_api_span("torch._six", "PY3") == (None, "2.0")
    assert compat.torch_api_span("torch.nn", "Linear") is None
