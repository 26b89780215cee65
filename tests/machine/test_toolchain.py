"""Tests for checks/machine/toolchain.py's build facts (the C++ compiler's version against inductor's -std, ninja,
the CUDA toolkit against torch's CUDA, setuptools against cpp_extension's pkg_resources import) and for verify's
extensions line. The stand-in compilers, nvcc and ninja print the banners the real tools print:
GCC's `--version` (gcc.c print_version: `g++ (GCC) 8.3.0` + the FSF copyright; Debian/Ubuntu put their package
version in the parentheses), Clang's (`Ubuntu clang version 14.0.0-1ubuntu1.1`), nvcc's (CUDA 12.2.2:
`Cuda compilation tools, release 12.2, V12.2.140`) and ninja's (`1.11.1`)."""

import os
import shutil
import sys
from types import SimpleNamespace

import pytest

from checks.machine import toolchain
from checks.report import FAIL, PASS, SKIP, WARN

GCC8 = (
    "g++ (GCC) 8.3.0\nCopyright (C) 2018 Free Software Foundation, Inc.\nThis is free software; see the source for "
    "copying conditions.  There is NO\nwarranty; not even for MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.\n"
)
GCC11_UBUNTU = "g++ (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0\nCopyright (C) 2021 Free Software Foundation, Inc.\n"
CLANG14 = "Ubuntu clang version 14.0.0-1ubuntu1.1\nTarget: x86_64-pc-linux-gnu\nThread model: posix\n"
APPLE_CLANG = "Apple clang version 15.0.0 (clang-1500.3.9.4)\nTarget: arm64-apple-darwin23.4.0\n"
NVCC_122 = (
    "nvcc: NVIDIA (R) Cuda compiler driver\nCopyright (c) 2005-2023 NVIDIA Corporation\nBuilt on "
    "Tue_Aug_15_22:02:13_PDT_2023\nCuda compilation tools, release 12.2, V12.2.140\nBuild "
    "cuda_12.2.r12.2/compiler.33191640_0\n"
)
# GCC 8.3 on inductor's code (pytorch/pytorch#130815's log)
GCC8_ON_INDUCTOR = (
    "torch._inductor.exc.CppCompileError: C++ compile error\n/tmp/x/c.cpp: In function 'T parse_arg(PyObject*, "
    "size_t)':\n/tmp/x/c.cpp:59:10: error: expected identifier before '[' token\n"
    '         [[unlikely]] throw std::runtime_error("expected int arg");\n'
)


def tool(folder, name, banner):
    """Write an executable `name` into `folder` that prints `banner` on --version (and fails otherwise)."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    lines = "".join(" '%s'" % line for line in banner.splitlines())  # printf is a builtin: PATH may be empty
    with open(path, "w") as f:
        f.write('#!/bin/sh\ncase "$*" in *--version*) printf "%%s\\n"%s;; *) exit 1;; esac\n' % lines)
    os.chmod(path, 0o755)
    return path


@pytest.mark.parametrize(
    "banner, family, version",
    [
        (GCC8, "gcc", (8, 3, 0)),
        (GCC11_UBUNTU, "gcc", (11, 4, 0)),
        (CLANG14, "clang", (14, 0, 0)),
        (APPLE_CLANG, None, None),
        ("icpx: Intel(R) oneAPI DPC++/C++ Compiler 2024.0.0\n", None, None),
    ],
)
def test_compiler_banner(banner, family, version):
    """GCC's and Clang's banners give family and version; Apple's numbers (Xcode's) and other compilers none."""
    assert toolchain.compiler_banner(banner) == (family, version)


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs a real g++")
def test_real_gcc_banner():
    """This machine's real g++ answers as GCC with a version."""
    import subprocess

    family, version = toolchain.compiler_banner(
        subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout
    )
    assert family == "gcc" and version and version[0] >= 4


def test_old_gcc_is_older_than_cxx20(tmp_path, monkeypatch):
    """GCC 8.3 as g++: below GCC 10, the first to accept -std=c++20; -std=c++17 it accepts (GCC 7+), yet the
    generated code's [[unlikely]] needs GCC 9."""
    tool(str(tmp_path), "g++", GCC8)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CXX", raising=False)
    compiler = toolchain.cxx_fact("2.13.0")
    assert (compiler.family, compiler.version, compiler.banner) == ("gcc", (8, 3, 0), "g++ (GCC) 8.3.0")
    old = toolchain.too_old(compiler, "c++20", "2.13.0")
    assert old.status == FAIL and old.expected == "GCC >= 10" and "8.3.0" in old.summary
    assert "install a newer GCC (>= 10" in old.fix and "CXX" in old.fix
    assert toolchain.too_old(compiler, "c++17", "2.3.0") is None
    assert toolchain.too_old(compiler, "c++17", "2.3.0", generated=True).expected == "GCC >= 9"
    assert "first on PATH" in toolchain.too_old(compiler, "c++17", "2.0.1", generated=True).fix  # 2.0 ignores CXX


def test_new_and_unknown_compilers_pass(tmp_path, monkeypatch):
    """GCC 11, Clang 14, and a compiler whose version is unknown: no verdict."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CXX", "clang++")
    for name, banner in (("clang++", CLANG14), ("clang++", APPLE_CLANG)):
        tool(str(tmp_path), name, banner)
        assert toolchain.too_old(toolchain.cxx_fact("2.13.0"), "c++20", "2.13.0", generated=True) is None
    tool(str(tmp_path), "g++", GCC11_UBUNTU)
    monkeypatch.delenv("CXX")
    assert toolchain.too_old(toolchain.cxx_fact("2.13.0"), "c++20", "2.13.0", generated=True) is None


def test_inductor_std_from_source(tmp_path):
    """The -std read from cpp_builder.py's default (2.4+) or codecache.py (2.0 to 2.3); and the installed torch's."""
    (tmp_path / "new" / "_inductor").mkdir(parents=True)
    (tmp_path / "new" / "_inductor" / "cpp_builder.py").write_text(
        'def _get_cpp_std_cflag(std_num: str = "c++20") -> list[str]:\n'
    )
    (tmp_path / "old" / "_inductor").mkdir(parents=True)
    (tmp_path / "old" / "_inductor" / "codecache.py").write_text(
        'def cpp_flags():\n    return "-std=c++17 -Wno-unused-variable"\n'
    )
    assert toolchain.inductor_std(str(tmp_path / "new")) == "c++20"
    assert toolchain.inductor_std(str(tmp_path / "old")) == "c++17"
    assert toolchain.inductor_std(str(tmp_path)) is None
    torch = pytest.importorskip("torch")
    want = "c++17" if torch.__version__.startswith("2.0.") else "c++20"
    assert toolchain.inductor_std(os.path.dirname(torch.__file__)) == want


def test_compile_failure_judged_by_the_compiler(tmp_path, monkeypatch):
    """A compile error from GCC 8 is the compiler's age; the same from GCC 11, or a non-compiler error, is not."""
    old = toolchain.Compiler(name="g++", path="/x/g++", why="default", banner="g++ (GCC) 8.3.0", family="gcc",
                             version=(8, 3, 0))  # fmt: skip
    new = toolchain.Compiler(name="g++", path="/x/g++", why="default", family="gcc", version=(11, 4, 0))
    (tmp_path / "_inductor").mkdir()
    (tmp_path / "_inductor" / "codecache.py").write_text('x = "-std=c++17"\n')
    judged = toolchain.judge_compile_failure(GCC8_ON_INDUCTOR, "2.3.1", str(tmp_path), old)
    assert judged.expected == "GCC >= 9"
    assert toolchain.judge_compile_failure(GCC8_ON_INDUCTOR, "2.3.1", str(tmp_path), new) is None
    oom = "torch.OutOfMemoryError: CUDA out of memory"
    assert toolchain.judge_compile_failure(oom, "2.3.1", str(tmp_path), old) is None


def test_cuda_toolkit_found_as_cpp_extension_finds_it(tmp_path):
    """$CUDA_HOME first, then nvcc on PATH; the release from nvcc, else version.json."""
    home = tmp_path / "cuda-12.2"
    tool(str(home / "bin"), "nvcc", NVCC_122)
    fact = toolchain.cuda_toolkit_fact({"CUDA_HOME": str(home), "PATH": ""})
    assert (fact.home, fact.how, fact.release, fact.source) == (str(home), "$CUDA_HOME", "12.2", "nvcc --version")
    fact = toolchain.cuda_toolkit_fact({"PATH": str(home / "bin")})
    assert (fact.home, fact.how, fact.release) == (str(home), "nvcc on PATH", "12.2")
    bare = tmp_path / "cuda-11.8"
    bare.mkdir()
    (bare / "version.json").write_text('{"cuda": {"name": "CUDA SDK", "version": "11.8.20220929"}}\n')
    fact = toolchain.cuda_toolkit_fact({"CUDA_PATH": str(bare)})
    assert (fact.release, fact.source) == ("11.8", "version.json")


def test_toolkit_major_mismatch_warns():
    """cpp_extension._check_cuda_version: a major mismatch refuses (WARN here), a minor one only warns (none)."""
    kit = toolchain.CudaToolkit(home="/opt/cuda-12.2", how="$CUDA_HOME", release="12.2", source="nvcc --version")
    found = toolchain.toolkit_mismatch(kit, "11.7", "2.0.1+cu117")
    assert found.status == WARN and "CUDA 11.7 toolkit" in found.fix and "torch 2.1 or newer has (cu121)" in found.fix
    assert toolchain.toolkit_mismatch(kit, "12.1", "2.3.1+cu121") is None
    default = toolchain.CudaToolkit(home="/usr/local/cuda", how="the default /usr/local/cuda", release="13.0")
    assert toolchain.toolkit_mismatch(default, "11.7", "2.0.1+cu117").status == SKIP  # nobody chose it
    assert toolchain.toolkit_mismatch(kit, None, "2.3.1+cpu") is None
    assert (
        "cu118"
        in toolchain.toolkit_mismatch(
            toolchain.CudaToolkit(home="/c", how="$CUDA_HOME", release="11.8", source="nvcc --version"), "12.6", "2.7.1"
        ).fix
    )


def test_ninja(tmp_path, monkeypatch):
    """ninja on PATH answering --version, or not there."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert toolchain.ninja_fact() == toolchain.Ninja(path=None)
    tool(str(tmp_path), "ninja", "1.11.1\n")
    assert toolchain.ninja_fact().version == "1.11.1"


def torch_tree(folder, line):
    (folder / "utils").mkdir(parents=True)
    (folder / "utils" / "cpp_extension.py").write_text("import os\n%s\n" % line)
    return str(folder)


def test_setuptools_70_against_old_cpp_extension(tmp_path, monkeypatch):
    """setuptools 70.0.0 (pypa/setuptools#4385) against torch < 2.2's `from pkg_resources import packaging`."""
    site = tmp_path / "site"
    (site / "setuptools-70.0.0.dist-info").mkdir(parents=True)
    (site / "setuptools-70.0.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: setuptools\nVersion: 70.0.0\n"
    )
    monkeypatch.syspath_prepend(str(site))
    old = torch_tree(tmp_path / "old", "from pkg_resources import packaging  # type: ignore[attr-defined]")
    new = torch_tree(tmp_path / "new", "from torch._vendor.packaging.version import Version")
    fact = toolchain.setuptools_fact(old)
    assert (fact.version, fact.torch_imports_packaging) == ("70.0.0", True)
    # the ImportError as pypa/setuptools#4385 quotes it
    error = "ImportError: cannot import name 'packaging' from 'pkg_resources' (/site/pkg_resources/__init__.py)"
    found = toolchain.setuptools_problem(fact, "2.0.1", error)
    assert found.status == FAIL and "setuptools<70" in found.fix and "pkg_resources.packaging" in found.summary
    assert toolchain.setuptools_problem(toolchain.setuptools_fact(new), "2.4.0", error) is None
    # Another failure of the same import (pkg_resources' DeprecationWarning under `-W error`) is not this one.
    warned = "DeprecationWarning: pkg_resources is deprecated as an API."
    assert toolchain.setuptools_problem(fact, "2.0.1", warned) is None


torch = pytest.importorskip("torch")
from checks.verify import extensions  # noqa: E402


@pytest.fixture
def ctx():
    return SimpleNamespace(torch=torch, devices=["cpu"], quick=False, progress=lambda text: None)


def test_quick_skips_the_extension_toolchain():
    """--quick does not import torch.utils.cpp_extension (setuptools and pkg_resources come with it)."""
    quick = SimpleNamespace(torch=torch, devices=["cpu"], quick=True, progress=lambda text: None)
    result = extensions.check_extensions(quick)
    assert result.status == SKIP and "--quick" in result.summary


def test_extensions_line_without_ninja_skips_with_the_fix(ctx, tmp_path, monkeypatch):
    """No ninja, no toolkit: SKIP naming ninja and `pip install ninja` (not a fault of a machine that builds none)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    for name in ("CUDA_HOME", "CUDA_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(torch.version, "cuda", None)  # a CPU build: the toolkit (a /usr/local/cuda) is not judged
    result = extensions.check_extensions(ctx)
    assert result.status == SKIP and "ninja is not on PATH" in result.summary and "pip install ninja" in result.summary
    tool(str(tmp_path), "ninja", "1.11.1\n")
    assert extensions.check_extensions(ctx).status == PASS


def test_extensions_line_warns_on_a_toolkit_of_another_major(ctx, tmp_path, monkeypatch):
    """CUDA_HOME at a CUDA 12.2 toolkit under a torch built with 11.7: WARN with both fixes."""
    home = tmp_path / "cuda-12.2"
    tool(str(home / "bin"), "nvcc", NVCC_122)
    monkeypatch.setenv("CUDA_HOME", str(home))
    monkeypatch.setattr(torch.version, "cuda", "11.7")
    monkeypatch.setattr(torch, "__version__", "2.0.1+cu117")
    result = extensions.check_extensions(ctx)
    assert result.status == WARN and "12.2" in result.summary and "11.7" in result.summary
    assert "CUDA_HOME" in result.hint


def test_extensions_line_fails_when_cpp_extension_does_not_import(ctx, monkeypatch, tmp_path):
    """The import fails with pypa/setuptools#4385's ImportError and an old cpp_extension: FAIL with setuptools<70;
    any other failure of the import is handed to the parent's judgement (data.exception), setuptools not blamed."""

    class Refuse:  # a meta path finder: `import torch.utils.cpp_extension` raises `error`
        error = None

        def find_spec(self, name, path=None, target=None):
            if name == "torch.utils.cpp_extension":
                raise self.error
            return None

    finder = Refuse()
    monkeypatch.delitem(sys.modules, "torch.utils.cpp_extension", raising=False)
    monkeypatch.setattr(sys, "meta_path", [finder] + sys.meta_path)
    fact = toolchain.Setuptools(version="70.0.0", location=str(tmp_path), torch_imports_packaging=True)
    monkeypatch.setattr(toolchain, "setuptools_fact", lambda torch_dir: fact)
    finder.error = ImportError("cannot import name 'packaging' from 'pkg_resources' (/site/pkg_resources/__init__.py)")
    result = extensions.check_extensions(ctx)
    assert result.status == FAIL and "setuptools<70" in result.hint
    finder.error = ImportError("libfoo.so.1: cannot open shared object file: No such file or directory")
    result = extensions.check_extensions(ctx)
    assert result.status == FAIL and "exception" in result.data and "setuptools" not in result.summary
