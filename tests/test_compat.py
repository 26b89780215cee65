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
        ("12.2", "530.30.02", False, "ok", "530.30.02"),
    ],
)
def test_driver_verdict(runtime, driver, windows, verdict, needed):
    """A driver is judged against the table for the runtime's CUDA release (or the one before it)."""
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
        ("2.13.0", ("0.28.0", "2.13.0")),
        ("2.0.1+cu117", ("0.15.2", "2.0.2")),
    ],
)
def test_paired_versions_follow_the_release_matrix(torch_version, pair):
    """torch 2.0.x pairs with 0.15.(x+1)/2.0.(x+1); later releases with 0.(m+15).p/2.m.p."""
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
        ("3.13.0", "2.99.0", None),
    ],
)
def test_python_support(python, torch_version, ok):
    """Python support comes from the release matrix; a torch beyond the table gives no verdict."""
    assert compat.python_ok(python, torch_version) is ok


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
