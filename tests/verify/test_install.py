"""Tests for checks/verify_install.py, in-process with synthetic facts: GPU verdicts without a GPU."""

import os
import shutil
import sys
from types import SimpleNamespace

import pytest
from fakes import compile_library

torch = pytest.importorskip("torch", reason="the install checks need torch")

from checks.machine import probe  # noqa: E402
from checks.report import FAIL  # noqa: E402
from checks.verify import install as verify_install  # noqa: E402
from checks.workspace import promise  # noqa: E402

LINUX_HOST = probe.Host(subdir="linux-64", os="Linux 6.8.0", python="3.11.7", python_executable="python", cpu_count=8)

# The driver facts as checks/nvidia/driver.py's facts() returns them on a machine without a driver (no kernel
# module, no libcuda, neither NVML nor nvidia-smi): the keys verify reads, no others.
NO_DRIVER = {
    "present": False,
    "version": None,
    "cuda": None,
    "gpus": [],
    "source": None,
    "state": None,
    "error": None,
    "meaning": None,
    "fix": None,
    "dropped": [],
}


def test_cpu_build_from_cpu_variant_in_cuda_environment_names_the_cause(monkeypatch, repo_root):
    """A CPU conda build where CUDA was promised: FAIL naming the package, channel and why."""
    record = {"version": "2.0.1", "build": "py3.10_cpu_0", "channel": "pytorch"}
    monkeypatch.setattr(verify_install.probe, "conda_record", lambda name: record)
    from checks.workspace import manifest

    ws = manifest.load(str(repo_root / "pixi.toml"))
    expect = promise.expect(ws, "cu118", "linux-64", {"__cuda": "12.0"})
    ctx = SimpleNamespace(
        torch=SimpleNamespace(__version__="2.0.1", version=SimpleNamespace(cuda=None, hip=None)),
        driver=NO_DRIVER,
        expect=expect,
    )
    result = verify_install.check_build(ctx)
    assert result.status == FAIL
    assert "CPU build, but cu118 on linux-64-cu118 promises CUDA" in result.summary
    assert (
        "py3.10_cpu_0 from channel pytorch" in result.summary
        and "pixi clean -e cu118 && pixi install -e cu118" in result.hint
    )


def test_cpu_build_on_a_gpu_machine_names_the_cuda_build_and_the_workspace_environment(monkeypatch, repo_root):
    """torch 2.13.0+cpu from pip, driver 535.161.07 (CUDA 12.2) with an RTX 4080, run in this repository: WARN build
    with the CUDA 12.6 wheel of 2.13.0 (its builds: 12.6, 13.0, 13.2) and this workspace's CUDA environment that
    pixi installs on CUDA 12.2 (cu118; `latest` declares CUDA 12.8, which this driver lacks), read from pixi.toml."""
    monkeypatch.chdir(repo_root)
    monkeypatch.setattr(verify_install.probe, "conda_record", lambda name, prefix=None: None)
    monkeypatch.setattr(verify_install.cuda_build, "installed_domain", lambda: {})
    monkeypatch.setattr(verify_install.cuda_build, "torch_copy", lambda: None)
    gpu = {"name": "NVIDIA GeForce RTX 4080", "memory_mib": 16376, "bus_id": "00000000:01:00.0", "compute_cap": "8.9"}
    ctx = SimpleNamespace(
        torch=SimpleNamespace(__version__="2.13.0+cpu", version=SimpleNamespace(cuda=None, hip=None)),
        driver=dict(NO_DRIVER, present=True, version="535.161.07", cuda="12.2", gpus=[gpu], source="nvidia-smi"),
        expect=None,
        host=LINUX_HOST,
    )
    result = verify_install.check_build(ctx)
    assert result.status == "WARN" and "NVIDIA GeForce RTX 4080 goes unused" in result.summary
    assert "`pip install torch==2.13.0+cu126 --index-url https://download.pytorch.org/whl/cu126`" in result.hint
    assert result.hint.endswith("or in this workspace: `pixi run -e cu118 verify`")


def _site_with_declared(tmp_path, broken):
    """A site-packages with a torch .dist-info declaring `pairdep` (and an extra that is not requested), and a
    pairdep whose import raises as a package that does not fit its dependency does."""
    site = tmp_path / "site-packages"
    (site / "torch").mkdir(parents=True)
    (site / "torch" / "__init__.py").write_text("")
    info = site / "torch-2.13.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: torch\nVersion: 2.13.0\nRequires-Dist: pairdep\n"
        'Requires-Dist: notinstalled\nRequires-Dist: optree>=0.13.0; extra == "optree"\n'
    )
    (info / "RECORD").write_text("torch/__init__.py,,\n")
    (info / "top_level.txt").write_text("torch\n")
    (site / "pairdep").mkdir()
    body = "from pairdep_provider import soft_unicode\n" if broken else "VALUE = 1\n"
    (site / "pairdep" / "__init__.py").write_text(body)
    info = site / "pairdep-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pairdep\nVersion: 1.0\n")
    (info / "RECORD").write_text("pairdep/__init__.py,sha256=AAAA,40\n")
    (site / "pairdep_provider.py").write_text("escape = str\n")
    return site


@pytest.mark.parametrize("broken", [False, True])
def test_what_torch_declares_is_imported(tmp_path, monkeypatch, broken):
    """Each installed package torch's Requires-Dist names (markers holding) is imported: a FAIL carries the
    exception for the parent to judge; a missing one is left to the requirements check."""
    site = _site_with_declared(tmp_path, broken)
    monkeypatch.setattr(sys, "path", [str(site)] + sys.path)
    for name in ("pairdep", "pairdep_provider"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert verify_install.declared_modules(str(site / "torch" / "__init__.py"))[0] == ("pairdep", ["pairdep"])
    torch = SimpleNamespace(__version__="2.13.0", __file__=str(site / "torch" / "__init__.py"))
    quick = verify_install.check_dependencies(SimpleNamespace(torch=torch, quick=True))
    assert quick.status == "SKIP" and "pairdep" not in sys.modules  # --quick imports nothing
    ctx = SimpleNamespace(torch=torch, quick=False)
    try:
        result = verify_install.check_dependencies(ctx)
    finally:
        for name in ("pairdep", "pairdep_provider"):
            sys.modules.pop(name, None)
    if broken:
        assert result.status == FAIL and result.actual.startswith("ImportError: cannot import name 'soft_unicode'")
        assert "pairdep/__init__.py" in result.data["exception"]
    else:
        assert result.status == "PASS" and result.summary == "1 declared by torch import: pairdep"


def test_a_pinned_torch_without_wheels_for_this_python_fails_python(tmp_path, monkeypatch):
    """pytorch/pytorch#66399: `torch==1.9.1+cu111` on Python 3.10 ("ERROR: No matching distribution found");
    malfet: "Python-3.10 is not supported neither by 1.9.1 nor but 1.10"."""
    project = tmp_path / "pyproject.toml"
    project.write_text('[project]\nname = "p"\nversion = "0"\ndependencies = ["torch==1.9.1+cu111", "numpy"]\n')
    monkeypatch.setattr(verify_install.platform, "python_version", lambda: "3.10.12")
    ctx = SimpleNamespace(torch=None, expect=None, manifest=str(project))
    result = verify_install.check_python(ctx)
    assert result.status == FAIL and result.expected == "Python 3.6 to 3.9"
    assert "torch 1.9.1 has no wheel for Python 3.10.12" in result.summary
    assert result.hint.startswith("create this environment with Python 3.9")
    assert result.hint.endswith("to torch>=1.11.0, the oldest release with Python 3.10 wheels")
    project.write_text('[project]\nname = "p"\nversion = "0"\ndependencies = ["torch==1.12.1"]\n')
    assert verify_install.check_python(ctx).status != FAIL
    project.write_text('[project]\nname = "p"\nversion = "0"\ndependencies = ["torch==1.9.1"]\n')
    built = SimpleNamespace(**dict(vars(ctx), torch=SimpleNamespace(__version__="1.9.1")))
    assert verify_install.pinned_torch_python(built, "3.10.12") is None, "a 1.9.1 built here for 3.10 is installed"


VLLM_WHEEL = "https://files.pythonhosted.org/packages/3c/7e/vllm-0.13.0-cp38-abi3-manylinux_2_31_x86_64.whl"


def _pixi_expectation(tmp_path, requirements="", lock=None):
    """pixi#5266's workspace: python from conda-forge, torch and vllm from PyPI."""
    from checks.workspace import manifest

    path = tmp_path / "pixi.toml"
    path.write_text(
        '[workspace]\nname = "serve"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n\n%s'
        '[dependencies]\npython = "3.11.*"\n\n[pypi-dependencies]\ntorch = ">=2.9"\nvllm = "==0.13.0"\n' % requirements
    )
    if lock:
        (tmp_path / "pixi.lock").write_text(lock)
    ws = manifest.load(str(path))
    platform = ws.env_platforms("default")[0]
    on = ws.environment_on("default", platform)
    return SimpleNamespace(expect=SimpleNamespace(ws=ws, env="default", platform=platform, pypi=on.pypi_dependencies))


def test_a_locked_wheel_for_a_newer_glibc_than_the_default_names_the_libc_to_declare(tmp_path, monkeypatch):
    """pixi#5266 (baszalmstra): "Those wheels require glibc version 2.31. Pixi by default uses glibc 2.28 ...
    `pixi workspace system-requirements add glibc 2.31`". The tag is read from the lock's wheel URL (lock v6)."""
    from checks.workspace import wheels

    lock = (
        "version: 6\nenvironments:\n  default:\n    channels:\n    - url: https://conda.anaconda.org/conda-forge/\n"
        "    indexes:\n    - https://pypi.org/simple\n    packages:\n      linux-64:\n      - pypi: %s\n"
        "packages:\n- pypi: %s\n  name: vllm\n  version: 0.13.0\n" % (VLLM_WHEEL, VLLM_WHEEL)
    )
    ctx = _pixi_expectation(tmp_path, lock=lock)
    monkeypatch.setattr(wheels, "installed_tags", lambda name: None)
    monkeypatch.setattr(verify_install.probe, "host_glibc", lambda: "2.36")
    result = verify_install.check_pypi(ctx)
    assert result.status == FAIL and result.actual == "vllm: manylinux_2_31_x86_64"
    assert "tagged manylinux_2_31_x86_64 (glibc 2.31, read from pixi.lock)" in result.summary
    assert "pixi resolves PyPI packages for glibc 2.28 (its default)" in result.summary
    assert result.hint.startswith("declare glibc 2.31: `pixi workspace system-requirements add glibc 2.31` ")
    assert '[system-requirements] libc = "2.31"' in result.hint
    monkeypatch.setattr(verify_install.probe, "host_glibc", lambda: "2.28")
    assert verify_install.check_pypi(ctx).hint.startswith("this machine's glibc 2.28 is older than 2.31")


def test_a_missing_pypi_package_under_the_default_libc_names_the_default_and_this_machine_s_glibc(
    tmp_path, monkeypatch
):
    from checks.workspace import wheels

    monkeypatch.setattr(wheels, "installed_tags", lambda name: None)
    monkeypatch.setattr(verify_install.probe, "host_glibc", lambda: "2.36")
    result = verify_install.check_pypi(_pixi_expectation(tmp_path))
    assert result.status == FAIL
    assert result.summary.startswith("vllm==0.13.0, a PyPI dependency of default, is not installed in this Python")
    assert "declares no libc, so pixi resolves PyPI wheels for glibc 2.28 (its default)" in result.summary
    assert '`pixi workspace system-requirements add glibc 2.36` ([system-requirements] libc = "2.36")' in result.hint
    declared = _pixi_expectation(tmp_path, '[system-requirements]\nlibc = "2.31"\n\n')
    assert verify_install.check_pypi(declared).hint == "`pixi install -e default`"
    monkeypatch.setattr(wheels, "installed_tags", lambda name: ("manylinux_2_17_x86_64", "manylinux2014_x86_64"))
    assert verify_install.check_pypi(_pixi_expectation(tmp_path)).status == "PASS"


def test_a_package_whose_build_imports_torch_built_isolated_names_no_build_isolation(tmp_path, monkeypatch):
    """pixi#1880: flash-attn among the PyPI dependencies, not installed (the isolated build stopped at `import
    torch`): the pypi line names the isolated build and `no-build-isolation = ["flash-attn"]`, not the glibc; with
    it declared, the line judges as before."""
    from checks.workspace import manifest, wheels

    path = tmp_path / "pixi.toml"
    text = (
        '[project]\nname = "florence2"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n\n[dependencies]\n'
        'python = ">=3.11"\nsetuptools = "*"\n\n%s[pypi-dependencies]\ntorch = "*"\nflash-attn = "*"\n'
    )

    def expectation(options=""):
        path.write_text(text % options)
        ws = manifest.load(str(path))
        platform = ws.env_platforms("default")[0]
        on = ws.environment_on("default", platform)
        expect = SimpleNamespace(ws=ws, env="default", platform=platform, pypi=on.pypi_dependencies,
                                 deps=on.dependencies, chosen=None, candidates=[platform])  # fmt: skip
        return SimpleNamespace(expect=expect)

    monkeypatch.setattr(wheels, "installed_tags", lambda name: None)
    monkeypatch.setattr(verify_install.probe, "host_glibc", lambda: "2.36")
    result = verify_install.check_pypi(expectation())
    assert result.status == FAIL and result.summary.startswith("flash-attn is not installed: its build imports torch")
    assert 'no-build-isolation = ["flash-attn"]' in result.hint and "glibc" not in result.summary
    # the reinstall other lines advise would stop at the same build: the no-build-isolation step comes first
    assert verify_install.env_hint(expectation()).startswith('first add `no-build-isolation = ["flash-attn"]`')
    declared = verify_install.check_pypi(expectation('[pypi-options]\nno-build-isolation = ["flash-attn"]\n\n'))
    assert declared.status == FAIL and "no-build-isolation" not in declared.hint
    assert verify_install.env_hint(expectation("[pypi-options]\nno-build-isolation = true\n\n")).startswith("reinstall")


def _dependent(site, name, requires, body):
    (site / name).mkdir()
    (site / name / "__init__.py").write_text(body)
    info = site / ("%s-1.0.dist-info" % name)
    info.mkdir()
    declared = "".join("Requires-Dist: %s\n" % r for r in requires)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n%s" % (name, declared))
    (info / "RECORD").write_text("%s/__init__.py,,\n" % name)


@pytest.mark.parametrize("broken", [False, True])
def test_the_packages_built_on_torch_are_imported(tmp_path, monkeypatch, broken):
    """A package requiring torch outright or through an extra is imported in the full run; one torch requires in
    turn (triton 2.0's METADATA requires torch) is the dependencies line's. The broken one raises the loader's
    text for an extension built against another torch (flash-attn's, Dao-AILab/flash-attention#620)."""
    site = _site_with_declared(tmp_path, False)
    text = (
        "raise ImportError('/x/flash_attn_2_cuda.cpython-310-x86_64-linux-gnu.so: undefined symbol: "
        "_ZN3c104cuda9SetDeviceEi')\n"
    )
    _dependent(site, "flashy", ["torch"], text if broken else "VALUE = 1\n")
    _dependent(site, "lazyhub", ['torch>=2.0; extra == "torch"'], "VALUE = 2\n")
    _dependent(site, "pairdep_user", ["pairdep"], "raise ImportError('not a dependent of torch')\n")
    (site / "torch-2.13.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: torch\nVersion: 2.13.0\nRequires-Dist: lazyhub\n"
    )
    stdlib = [p for p in sys.path if "-packages" not in p]  # no installed distribution but the site's
    monkeypatch.setattr(sys, "path", [str(site)] + stdlib)
    names = ("flashy", "lazyhub", "pairdep_user")
    for name in names:
        monkeypatch.delitem(sys.modules, name, raising=False)
    found = verify_install.dependent_modules(skip={"lazyhub"})
    assert [(p, m) for p, _, m, _ in found] == [("flashy", ["flashy"])]
    assert [p for p, _, _, _ in verify_install.dependent_modules()] == ["flashy", "lazyhub"]
    torch = SimpleNamespace(__version__="2.13.0", __file__=str(site / "torch" / "__init__.py"))
    for quick in (True, False):  # --quick imports them too, within a shorter budget
        try:
            result = verify_install.check_dependents(SimpleNamespace(torch=torch, quick=quick))
        finally:
            for name in names:
                sys.modules.pop(name, None)
        assert result.status == (FAIL if broken else "PASS")
    if broken:
        assert result.status == FAIL and "flashy 1.0, which requires torch, does not import" in result.summary
        assert "undefined symbol: _ZN3c104cuda9SetDeviceEi" in result.data["exception"]
    else:
        assert result.status == "PASS" and result.summary == "1 built on torch import: flashy 1.0"


def test_quick_reads_the_core_of_the_packages_built_on_torch_for_names_this_torch_lacks(tmp_path, monkeypatch):
    """transformers 4.50's modeling_utils.py reads torch.compiler at import (transformers#37238): a package's
    top-level modules are read whether or not its import loaded them. Here a dated name every torch here lacks:
    torch._six, which 2.0 removed (DeepSpeed's `from torch._six import inf`, deepspeedai/DeepSpeed#2845)."""
    torch = pytest.importorskip("torch")
    site = _site_with_declared(tmp_path, False)
    _dependent(site, "sixuser", ["torch"], "")
    (site / "sixuser" / "utils.py").write_text("import torch\nfrom torch._six import inf\n")
    (site / "sixuser" / "models").mkdir()
    (site / "sixuser" / "models" / "m.py").write_text("import torch\nx = torch.not_in_any_torch\n")
    stdlib = [p for p in sys.path if "-packages" not in p]
    monkeypatch.setattr(sys, "path", [str(site)] + stdlib)
    verify_install._built_on_torch.cache_clear()
    try:
        result = verify_install.check_dependents(SimpleNamespace(torch=torch, quick=True))
    finally:
        verify_install._built_on_torch.cache_clear()
    version = torch.__version__.split("+")[0]
    assert result.status == "WARN" and result.summary == (
        "sixuser 1.0 (sixuser/utils.py:2) uses torch._six, which torch %s does not have (removed in torch 2.0): "
        "code that reaches it fails" % version
    )
    sys.modules.pop("sixuser", None)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="needs Linux and gcc to build ELF files"
)
def test_a_compiled_module_linking_a_torch_library_this_torch_lacks_fails_without_loading_it(tmp_path, monkeypatch):
    """torch-scatter's wheels for torch 1.x link libtorch_cuda_cu.so (DT_NEEDED), which a later torch does not have:
    the module is built here with gcc against a stand-in of that library, then read, never loaded."""
    site = _site_with_declared(tmp_path, False)
    (site / "torch" / "lib").mkdir()
    (site / "torch" / "version.py").write_text("__version__ = '2.13.0'\ncuda = '12.6'\n")
    stub = tmp_path / "stub"
    compile_library(stub / "libtorch_cuda_cu.so", "int scatter_stub(void) { return 0; }\n")
    _dependent(site, "torch_scatter", ["torch"], "raise ImportError('never imported in this test')\n")
    module = site / "torch_scatter" / "_scatter_cuda.so"
    call = "int scatter_stub(void);\nint f(void) { return scatter_stub(); }\n"
    compile_library(module, call, "-L", str(stub), "-ltorch_cuda_cu")
    (site / "torch_scatter-1.0.dist-info" / "RECORD").write_text(
        "torch_scatter/__init__.py,,\ntorch_scatter/_scatter_cuda.so,,\n"
    )
    stdlib = [p for p in sys.path if "-packages" not in p]
    monkeypatch.setattr(sys, "path", [str(site)] + stdlib)
    torch = SimpleNamespace(__version__="2.13.0", __file__=str(site / "torch" / "__init__.py"))
    result = verify_install.check_dependents(SimpleNamespace(torch=torch, quick=True))
    assert result.status == FAIL and "torch 2.13.0 has no libtorch_cuda_cu.so" in result.summary
    assert "torch-scatter 1.0 was built against another torch" in result.summary and "torch_scatter" not in sys.modules
    assert "--no-build-isolation" in result.hint and result.data["fact"].startswith("libtorch_cuda_cu.so absent")


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="needs Linux and gcc to build ELF files"
)
def test_a_compiled_module_needing_another_cuda_s_runtime_fails_without_loading_it(tmp_path, monkeypatch):
    """vllm-project/vllm#1718: vllm 0.2.2's wheel (built for torch 2.1 + CUDA 12.1; its `_C`-style modules'
    DT_NEEDED hold libcudart.so.12, read with readelf from the PyPI wheel) beside torch 2.0.1+cu117, whose pip wheels
    bring libcudart.so.11.0: `import vllm` fails with "libcudart.so.12: cannot open shared object file"."""
    import fakes

    site = _site_with_declared(tmp_path, False)
    (site / "torch" / "lib").mkdir()
    (site / "nvidia" / "cuda_runtime" / "lib").mkdir(parents=True)
    (site / "nvidia" / "cuda_runtime" / "lib" / "libcudart.so.11.0").write_bytes(b"\x7fELF")
    _dependent(site, "vllmish", ["torch >= 2.1.0"], "raise ImportError('never imported in this test')\n")
    fakes.shared_library(site / "vllmish" / "cache_ops.so", needs=("libcudart.so.12", "libc10.so"))
    (site / "torch" / "lib" / "libc10.so").write_bytes(b"\x7fELF")
    # a plain library for another CUDA, picked at run time (bitsandbytes' libbitsandbytes_cuda121.so): not judged
    fakes.shared_library(site / "vllmish" / "libvllmish_cuda121.so", needs=("libcudart.so.12",))
    (site / "vllmish-1.0.dist-info" / "RECORD").write_text(
        "vllmish/__init__.py,,\nvllmish/libvllmish_cuda121.so,,\nvllmish/cache_ops.so,,\n"
    )
    stdlib = [p for p in sys.path if "-packages" not in p]
    monkeypatch.setattr(sys, "path", [str(site)] + stdlib)
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    monkeypatch.setattr("checks.machine.loader.ld_cache", lambda *a, **k: {}, raising=False)
    torch = SimpleNamespace(
        __version__="2.0.1+cu117", __file__=str(site / "torch" / "__init__.py"), version=SimpleNamespace(cuda="11.7")
    )
    result = verify_install.check_dependents(SimpleNamespace(torch=torch, quick=True))
    assert result.status == FAIL and result.summary.startswith(
        "vllmish 1.0 was built for CUDA 12: cache_ops.so needs libcudart.so.12, which nothing here provides"
    )
    assert '`python -m pip install "vllmish" "torch==2.0.1"`' in result.hint and '"torch>=2.1.0"' in result.hint
    assert "vllmish" not in sys.modules
    (site / "vllmish" / "cache_ops.so").unlink()  # the plain library alone is not judged
    assert "libcudart.so.12" not in verify_install.check_dependents(SimpleNamespace(torch=torch, quick=True)).summary
    fakes.shared_library(site / "vllmish" / "cache_ops.so", needs=("libcudart.so.12", "libc10.so"))
    (site / "nvidia" / "cuda_runtime" / "lib" / "libcudart.so.12").write_bytes(b"\x7fELF")  # a cu12 runtime wheel
    assert "libcudart.so.12" not in verify_install.check_dependents(SimpleNamespace(torch=torch, quick=True)).summary


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="needs Linux and gcc to build ELF files"
)
def test_a_package_s_own_library_named_like_torch_s_is_not_torch_s(tmp_path):
    """torchtext's _torchtext.so links its own lib/libtorchtext.so (found through its run path, $ORIGIN/lib), a name
    TORCH_LIBRARY matches: not a torch library this torch lacks."""
    site = tmp_path / "site-packages"
    (site / "torch" / "lib").mkdir(parents=True)
    lib = site / "texty" / "lib"
    lib.mkdir(parents=True)
    compile_library(lib / "libtorchtext.so", "int text_stub(void) { return 0; }\n")
    module = site / "texty" / "_texty.so"
    call = "int text_stub(void);\nint f(void) { return text_stub(); }\n"
    compile_library(module, call, "-L", str(lib), "-ltorchtext", "-Wl,-rpath,$ORIGIN/lib")
    info = site / "texty-0.18.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: texty\nVersion: 0.18.0\nRequires-Dist: torch>=2.3.0\n")
    (info / "RECORD").write_text("texty/_texty.so,,\n")
    torch = SimpleNamespace(__file__=str(site / "torch" / "__init__.py"))
    found = [("texty", "0.18.0", ["texty"], str(info / "METADATA"))]
    assert verify_install.absent_torch_library(found, torch) is None
    (lib / "libtorchtext.so").unlink()  # gone: then it is named
    assert verify_install.absent_torch_library(found, torch)[3] == "libtorchtext.so"
    # torchtext 0.15.2's wheel: no run path; its RECORD lists lib/libtorchtext.so, which its _extension.py loads
    # before _torchtext.so (pytorch/tutorials#2409's environment): the package's own, not torch's
    (info / "RECORD").write_text("texty/_texty.so,,\ntexty/lib/libtorchtext.so,,\n")
    assert verify_install.absent_torch_library(found, torch) is None


def test_a_torch_before_2_0_is_named_as_older_than_the_checks_support():
    torch = SimpleNamespace(__version__="1.13.1+cpu", version=SimpleNamespace(git_version="cf30153c4c", debug=False))
    result = verify_install.check_torch(SimpleNamespace(torch=torch, expect=None))
    assert result.status == "WARN" and result.summary.startswith("torch 1.13.1+cpu predates 2.0")
    assert '"torch>=2.0"' in result.hint
    torch.__version__ = "2.0.1+cu117"
    assert verify_install.check_torch(SimpleNamespace(torch=torch, expect=None)).status == "PASS"


def test_a_package_that_imports_torch_without_declaring_it_is_built_on_torch(tmp_path, monkeypatch):
    """bitsandbytes 0.39.0's METADATA requires nothing, yet its functional.py does `import torch` (and `from
    scipy.stats import norm`, which it does not declare either: TimDettmers/bitsandbytes#426): it is a package built
    on torch, imported and judged as one."""
    site = _site_with_declared(tmp_path, False)
    _dependent(site, "bnbish", [], "from . import functional\n")
    (site / "bnbish" / "functional.py").write_text("import torch\nfrom scipy_not_here.stats import norm\n")
    _dependent(site, "plainpkg", [], "VALUE = 1\n")
    stdlib = [p for p in sys.path if "-packages" not in p]
    monkeypatch.setattr(sys, "path", [str(site)] + stdlib)
    verify_install._built_on_torch.cache_clear()
    try:
        assert [p for p, _, _, _ in verify_install.dependent_modules()] == ["bnbish"]
    finally:
        verify_install._built_on_torch.cache_clear()


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="needs Linux and gcc to build ELF files"
)
def test_a_package_linking_torch_without_any_cuda_is_a_cpu_only_build(tmp_path, monkeypatch):
    """dmlc/dgl#5427: PyPI's dgl 1.1.2 is DGL's CPU build: dgl_sparse/libdgl_sparse_pytorch_2.0.1.so links libtorch
    and libc10, and no file of the package carries CUDA device code or links a CUDA library, so "Device API cuda is
    not enabled. Please install the cuda version of dgl". A build with kernels (a `.nv_fatbin` section, as nvcc
    writes) or linking libcudart is not one; the fix names DGL's CUDA index for this torch."""
    site = tmp_path / "site"
    lib = tmp_path / "torch" / "lib"
    compile_library(lib / "libc10.so", "int c10(void) { return 0; }\n", "-Wl,-soname,libc10.so")
    compile_library(lib / "libcudart.so.11.0", "int rt(void) { return 0; }\n", "-Wl,-soname,libcudart.so.11.0")
    monkeypatch.syspath_prepend(str(site))
    links = ("-L", str(lib), "-Wl,--no-as-needed", "-lc10")
    module = compile_library(site / "dgl" / "dgl_sparse" / "libdgl_sparse_pytorch_2.0.1.so", "int s(void);\n", *links)
    compile_library(site / "dgl" / "libdgl.so")
    assert verify_install.cpu_only_build([module]) == (str(site / "dgl"), module)
    kernels = '__attribute__((section(".nv_fatbin"))) const char fatbin[8] = "x";\n'
    compile_library(site / "dgl" / "libdgl.so", kernels)
    assert verify_install.cpu_only_build([module]) is None
    compile_library(
        site / "dgl" / "libdgl.so", "int d(void);\n", "-L", str(lib), "-Wl,--no-as-needed", "-l:libcudart.so.11.0"
    )
    assert verify_install.cpu_only_build([module]) is None
    assert verify_install._cuda_build_fix("dgl", "2.0.1+cu117", "11.7") == (
        "`python -m pip install --force-reinstall dgl -f https://data.dgl.ai/wheels/cu117/repo.html` (dgl's CUDA 11.7 "
        "builds for torch 2.0.1)"
    )
    assert "FORCE_CUDA=1 python -m pip install" in verify_install._cuda_build_fix("detectron2", "2.0.1+cu117", "11.7")


def test_a_package_importing_a_name_its_provider_does_not_define_is_found_without_importing_it(tmp_path, monkeypatch):
    """Sanster/tldream#5: tldream 0.6.1's util.py does `from diffusers.utils import DIFFUSERS_CACHE`, which diffusers
    0.25 removed; tldream imports util only when its server starts, so `import tldream` succeeds and the `tldream`
    command fails. Read from the files: a name the provider defines, names in a multi-line import, or that a
    `try:` guards, is not judged."""
    import time

    site = tmp_path / "site"
    (site / "tdlike").mkdir(parents=True)
    (site / "tdlike" / "__init__.py").write_text("def start():\n    from .util import load\n")
    (site / "tdlike" / "util.py").write_text(
        "import os\nfrom dflike.utils import DF_CACHE, load_image\ntry:\n    from dflike.utils import maybe\n"
        "except ImportError:\n    maybe = None\n"
    )
    (site / "dflike" / "utils").mkdir(parents=True)
    (site / "dflike" / "__init__.py").write_text("")
    (site / "dflike" / "utils" / "__init__.py").write_text("from .images import (\n    load_image,\n)\nHF_HOME = 1\n")
    monkeypatch.syspath_prepend(str(site))
    found = verify_install.package_import_gap([("tdlike", "0.6.1", ["tdlike"])], time.monotonic() + 5)
    project, made, path, item, name, source = found
    assert (project, made, os.path.basename(path), item.module, item.line, name) == (
        "tdlike",
        "0.6.1",
        "util.py",
        "dflike.utils",
        2,
        "DF_CACHE",
    )
    assert source == str(site / "dflike" / "utils" / "__init__.py")
    (site / "dflike" / "utils" / "__init__.py").write_text("DF_CACHE = '~/.cache'\nfrom .images import load_image\n")
    assert verify_install.package_import_gap([("tdlike", "0.6.1", ["tdlike"])], time.monotonic() + 5) is None
    # NVIDIA/NeMo#6202: a module deep in the package (nemo/utils/exp_manager.py), not loaded by `import nemo`
    (site / "tdlike" / "collections" / "nlp").mkdir(parents=True)
    (site / "tdlike" / "collections" / "nlp" / "model.py").write_text("from dflike.utils import EPOCH_OUTPUT\n")
    (site / "tdlike" / "tests").mkdir()
    (site / "tdlike" / "tests" / "test_a.py").write_text("from dflike.utils import NOT_JUDGED\n")
    found = verify_install.package_import_gap([("tdlike", "0.6.1", ["tdlike"])], time.monotonic() + 5)
    assert found[3].module == "dflike.utils" and found[4] == "EPOCH_OUTPUT"


def test_a_name_the_provider_binds_at_run_time_is_not_a_gap(tmp_path, monkeypatch):
    """torchaudio 2.0's __init__.py never writes `load`: backend/utils.py's set_audio_backend sets it on the package
    (`for func in ["save", "load", "info"]: setattr(torchaudio, func, ...)`), so s3prl 0.4.13's `from torchaudio
    import load` works (s3prl/s3prl#522 was about Python 3.11, not this). The provider, imported once its source
    lacks the name, has it: no gap."""
    import time

    site = tmp_path / "site"
    (site / "s3like").mkdir(parents=True)
    (site / "s3like" / "__init__.py").write_text("from .dataset import reader\n")
    (site / "s3like" / "dataset.py").write_text("from talike import load\n\n\ndef reader(path):\n    return load(1)\n")
    (site / "talike" / "backend").mkdir(parents=True)
    (site / "talike" / "__init__.py").write_text("from talike.backend import utils\n\nutils._init_backend()\n")
    (site / "talike" / "backend" / "__init__.py").write_text("")
    (site / "talike" / "backend" / "utils.py").write_text(
        "import sys\n\n\ndef _load(path):\n    return path\n\n\ndef _init_backend():\n"
        "    torchaudio = sys.modules['talike']\n    for func in ['load']:\n"
        "        setattr(torchaudio, func, globals()['_' + func])\n"
    )
    monkeypatch.syspath_prepend(str(site))
    try:
        assert verify_install.package_import_gap([("s3like", "0.4.13", ["s3like"])], time.monotonic() + 5) is None
    finally:
        for name in [n for n in sys.modules if n.startswith(("talike", "s3like"))]:
            sys.modules.pop(name)


def test_a_package_whose_import_failed_half_way_reports_its_first_failure_again(tmp_path, monkeypatch):
    """lm-eval 0.4.2 (EleutherAI/lm-evaluation-harness#1697): its metrics module registers names, then fails on the
    Hub ("Module 'exact_match' doesn't exist on the Hugging Face Hub either"); a second import runs that module
    again over the registry that stayed in sys.modules and fails on its own names ("aggregation named 'bypass'
    conflicts"), which the user's code never meets. The dependents and project lines import the same package: the
    second reports the first failure."""
    import importlib

    from checks.verify import install

    package = tmp_path / "halfpkg"
    package.mkdir()
    (package / "__init__.py").write_text("from . import metrics\n")
    (package / "registry.py").write_text(
        "NAMES = set()\n\n\ndef register(name):\n    if name in NAMES:\n"
        "        raise AssertionError('aggregation named %r conflicts with existing registered aggregation!' % name)\n"
        "    NAMES.add(name)\n"
    )
    (package / "metrics.py").write_text(
        "from .registry import register\n\nregister('bypass')\nraise FileNotFoundError(\"Couldn't find a module "
        "script at exact_match.py. Module 'exact_match' doesn't exist on the Hugging Face Hub either.\")\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        first, again = (
            install.import_failure(
                "x", "halfpkg", "imports", lambda: importlib.import_module("halfpkg"), module="halfpkg"
            )
            for _ in range(2)
        )
        assert first.actual.startswith("FileNotFoundError: Couldn't find a module script")
        assert again.actual == first.actual and again.data["exception"] == first.data["exception"]
        # without the package named, the second import meets the half-imported state
        second = install.import_failure("x", "halfpkg", "imports", lambda: importlib.import_module("halfpkg"))
        assert second.actual.startswith("AssertionError: aggregation named 'bypass' conflicts")
    finally:
        for name in [n for n in sys.modules if n.startswith("halfpkg")]:
            sys.modules.pop(name)
