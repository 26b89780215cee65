"""Tests for checks/diagnosis/triton.py: Triton's link step without libcuda.so, judged by where the driver's
libcuda.so.1 is. Texts: GNU ld's `cannot find -lcuda` as torch.compile reports Triton's build failure, and Triton
2.1+'s own `libcuda.so cannot found!` (triton/common/build.py, later backends/nvidia/driver.py). Then inductor's
"Cannot find a working triton installation" judged by the triton distribution beside torch (its text: torch 2.0.1's
torch/_inductor/scheduler.py, 2.13's TritonMissing in torch/_inductor/exc.py)."""

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


NO_TRITON_20 = (
    "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:\nRuntimeError: Cannot find a working triton "
    "installation. More information on installing Triton can be found at https://github.com/openai/triton"
)
NO_TRITON_213 = (
    "torch._inductor.exc.TritonMissing: Cannot find a working triton installation. Either the package is not "
    "installed or it is too old. More information on installing Triton can be found at: "
    "https://github.com/triton-lang/triton"
)
PIN = 'triton (==2.0.0) ; platform_system == "Linux" and platform_machine == "x86_64"'  # torch 2.0.1's METADATA


def triton_site(tmp_path, monkeypatch, triton=None, requires=()):
    prefix, packages = site(tmp_path, requires=requires)
    if triton is not None:
        (packages / "triton").mkdir()
        (packages / "triton" / "__init__.py").write_text("")
        info = packages / ("triton-%s.dist-info" % triton)
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: triton\nVersion: %s\n" % triton)
    return facts_for(monkeypatch, prefix, [packages])


def test_no_triton_beside_a_torch_that_pins_it(tmp_path, monkeypatch):
    facts = triton_site(tmp_path, monkeypatch, requires=[PIN])
    cause = diagnosis.explain(NO_TRITON_20, facts)
    assert cause.rule in ("requirement", "triton-missing") and "triton==2.0.0" in cause.fix.replace(" ", "")


def test_no_triton_beside_a_torch_that_declares_none(tmp_path, monkeypatch):
    cause = diagnosis.explain(NO_TRITON_213, triton_site(tmp_path, monkeypatch))
    assert cause.rule == "triton-missing" and "no triton package is installed" in cause.meaning
    assert "pip install triton" in cause.fix


def test_the_pinned_triton_installed_yet_unusable_says_its_import_fails(tmp_path, monkeypatch):
    facts = triton_site(tmp_path, monkeypatch, triton="2.0.0", requires=[PIN])
    cause = diagnosis.explain(NO_TRITON_20, facts)
    assert cause.rule == "triton-missing" and "`import triton` fails" in cause.meaning
    assert "reinstall" not in cause.fix


def test_another_triton_than_torch_pins(tmp_path, monkeypatch):
    facts = triton_site(tmp_path, monkeypatch, triton="2.1.0", requires=[PIN])
    cause = diagnosis.explain(NO_TRITON_20, facts)
    assert cause.rule in ("requirement", "triton-missing") and "2.1.0" in cause.meaning
    assert "triton==2.0.0" in cause.fix.replace(" ", "")
