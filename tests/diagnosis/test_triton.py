"""Tests for checks/diagnosis/triton.py: Triton's link step without libcuda.so, judged by where the driver's
libcuda.so.1 is. Texts: GNU ld's `cannot find -lcuda` as torch.compile reports Triton's build failure, and Triton
2.1+'s own `libcuda.so cannot found!` (triton/common/build.py, later backends/nvidia/driver.py)."""

import dataclasses

from diagnosis_facts import facts_for, site

from checks import diagnosis
from checks.machine import gpu_access

LINK = (
    "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:\n"
    "CalledProcessError: Command '['/usr/bin/gcc', '/tmp/tmpx/main.c', '-O3', '-lcuda', '-o', "
    "'/tmp/tmpx/cuda_utils.cpython-310-x86_64-linux-gnu.so']' returned non-zero exit status 1.\n"
    "/usr/bin/ld: cannot find -lcuda: No such file or directory\ncollect2: error: ld returned 1 exit status"
)


def facts_with(tmp_path, monkeypatch, libcuda, variables=None):
    prefix, packages = site(tmp_path, name="env%d" % len(list(tmp_path.iterdir())))
    facts = facts_for(monkeypatch, prefix, [packages])
    access = gpu_access.GpuAccess(libcuda=libcuda, libcuda_via="ld.so.cache" if libcuda else "not found")
    return dataclasses.replace(facts, gpu_access=access, variables=variables or {})


def test_libcuda_so_1_without_the_unversioned_link_names_the_folder(tmp_path, monkeypatch):
    driver = tmp_path / "usr" / "lib" / "x86_64-linux-gnu"
    driver.mkdir(parents=True)
    (driver / "libcuda.so.1").write_bytes(b"\x7fELF")
    cause = diagnosis.explain(LINK, facts_with(tmp_path, monkeypatch, str(driver / "libcuda.so.1")))
    assert cause.rule == "triton-libcuda" and str(driver) in cause.meaning
    assert "TRITON_LIBCUDA_PATH" in cause.fix and "ln -sf %s/libcuda.so.1" % driver in cause.fix
    (driver / "libcuda.so").symlink_to("libcuda.so.1")  # the link is there: not this cause
    assert diagnosis.explain(LINK, facts_with(tmp_path, monkeypatch, str(driver / "libcuda.so.1"))).rule != (
        "triton-libcuda"
    )


def test_no_driver_library_at_all(tmp_path, monkeypatch):
    text = 'AssertionError: libcuda.so cannot found!\nPlease make sure GPU is set up and then run "/sbin/ldconfig"'
    cause = diagnosis.explain(text, facts_with(tmp_path, monkeypatch, None))
    assert cause.rule == "triton-libcuda" and "finds no libcuda.so.1" in cause.meaning and "--gpus all" in cause.fix


def test_a_triton_libcuda_path_without_the_link(tmp_path, monkeypatch):
    driver = tmp_path / "drv"
    driver.mkdir()
    (driver / "libcuda.so.1").write_bytes(b"\x7fELF")
    (driver / "libcuda.so").symlink_to("libcuda.so.1")
    chosen = tmp_path / "empty"
    chosen.mkdir()
    facts = facts_with(tmp_path, monkeypatch, str(driver / "libcuda.so.1"), {"TRITON_LIBCUDA_PATH": str(chosen)})
    cause = diagnosis.explain(LINK, facts)
    assert cause.rule == "triton-libcuda" and "TRITON_LIBCUDA_PATH=%s holds no libcuda.so" % chosen in cause.meaning
