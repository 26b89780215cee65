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
    found = toolchain.toolkit_mismatch(kit, "11.7", "2.0.1+cu117", installed=())
    assert found.status == WARN and "CUDA 11.7 toolkit" in found.fix and "torch 2.1 or newer has (cu121)" in found.fix
    assert toolchain.toolkit_mismatch(kit, "12.1", "2.3.1+cu121", installed=()) is None
    default = toolchain.CudaToolkit(home="/usr/local/cuda", how="the default /usr/local/cuda", release="13.0")
    assert toolchain.toolkit_mismatch(default, "11.7", "2.0.1+cu117", installed=()).status == SKIP  # nobody chose it
    assert toolchain.toolkit_mismatch(kit, None, "2.3.1+cpu", installed=()) is None
    other = toolchain.CudaToolkit(home="/c", how="$CUDA_HOME", release="11.8", source="nvcc --version")
    assert "cu118" in toolchain.toolkit_mismatch(other, "12.6", "2.7.1", installed=()).fix


def test_a_fitting_toolkit_installed_here_is_the_fix(tmp_path):
    """prefix-dev/pixi#2145: the system's CUDA_PATH (12.6) outranks the environment's own nvcc (11.x) on PATH, since
    cpp_extension's _find_cuda_home reads CUDA_HOME, then CUDA_PATH, then nvcc on PATH; the fix points CUDA_HOME at
    the environment."""
    system = toolchain.CudaToolkit(home="/opt/cuda", how="$CUDA_PATH", release="12.6", source="nvcc --version")
    env = tmp_path / ".pixi" / "envs" / "default"
    nvcc_tool(env, "Cuda compilation tools, release 11.7, V11.7.99")
    installed = [toolchain.toolkit_at(str(env), "installed at %s" % env)]
    found = toolchain.toolkit_mismatch(system, "11.7", "2.0.1+cu117", installed=installed)
    assert found.fix.startswith("export CUDA_HOME=%s (the CUDA 11.7 toolkit installed there)" % env)
    assert "unset CUDA_PATH" in found.fix


def test_the_toolkit_the_parent_read_is_the_worker_s(tmp_path, monkeypatch):
    """verify's parent reads the toolkit (its `nvcc --version`) while the worker imports torch (hand_over); the
    worker takes it for its own environment (take), reads another environment's itself, and reads its own again
    when the data has another shape."""
    import json

    for variable in ("CUDA_HOME", "CUDA_PATH"):
        monkeypatch.delenv(variable, raising=False)
    home = tmp_path / "cuda-12.2"
    tool(str(home / "bin"), "nvcc", NVCC_122)
    monkeypatch.setenv("PATH", str(home / "bin"))
    data = json.loads(json.dumps(toolchain.hand_over()))  # the worker's pipe carries JSON
    assert data == {"home": str(home), "how": "nvcc on PATH", "release": "12.2", "source": "nvcc --version"}
    monkeypatch.setenv("PATH", str(tmp_path))  # the worker's reading would differ: the parent's stands
    toolchain.take(data)
    assert toolchain.cuda_toolkit_fact().release == "12.2"
    assert toolchain.cuda_toolkit_fact(environ={"PATH": str(tmp_path)}).home != str(home)
    toolchain.take(dict(data, release=12.2))
    assert toolchain.cuda_toolkit_fact().home != str(home)


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


@pytest.fixture(autouse=True)
def own_extensions_root(tmp_path, monkeypatch):
    """The extension build root these tests see is their own (no lock left by a build on this machine)."""
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path / "torch_extensions"))


@pytest.fixture
def ctx():
    return SimpleNamespace(torch=torch, devices=["cpu"], quick=False, progress=lambda text: None)


def test_extensions_line_warns_on_a_lock_left_by_an_interrupted_build(ctx, tmp_path):
    """pytorch/pytorch#59146's kind: load() of an extension waits forever on the `lock` a killed build left."""
    lock = tmp_path / "torch_extensions" / "py311_cpu" / "_pvcnn_backend" / "lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("")
    os.utime(lock, (1_000_000, 1_000_000))
    result = extensions.check_extensions(ctx)
    assert result.status == WARN and "a `lock` left in _pvcnn_backend's build folder" in result.summary
    assert result.hint == "delete it when no build of _pvcnn_backend is running: `rm %s`" % lock


def test_quick_skips_the_extension_toolchain(monkeypatch, tmp_path):
    """--quick does not import torch.utils.cpp_extension (setuptools and pkg_resources come with it); with no
    CUDA_HOME, CUDA_PATH or nvcc on PATH it judges no toolkit."""
    monkeypatch.delenv("CUDA_HOME", raising=False)
    monkeypatch.delenv("CUDA_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(toolchain, "runtime_only", lambda toolkit, cuda: None)  # this machine's /usr/local/cuda
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


# nvcc's `--version` as CUDA 11.0.3 and 11.7.1 print it (the releases' own banners: `release 11.0, V11.0.221`,
# `release 11.7, V11.7.99`), and CUDA 13.0's `--list-gpu-arch` (nvcc 13.0.88, run on this team's machine).
NVCC_110 = (
    "nvcc: NVIDIA (R) Cuda compiler driver\nCopyright (c) 2005-2020 NVIDIA Corporation\nBuilt on "
    "Thu_Jun_11_22:26:38_PDT_2020\nCuda compilation tools, release 11.0, V11.0.221\nBuild "
    "cuda_11.0_bu.TC445_37.28845127_0\n"
)
NVCC_101 = (  # Dao-AILab/flash-attention#825's `nvcc -V`
    "nvcc: NVIDIA (R) Cuda compiler driver\nCopyright (c) 2005-2019 NVIDIA Corporation\nBuilt on "
    "Sun_Jul_28_19:07:16_PDT_2019\nCuda compilation tools, release 10.1, V10.1.243\n"
)
NVCC_117 = (
    "nvcc: NVIDIA (R) Cuda compiler driver\nCopyright (c) 2005-2022 NVIDIA Corporation\nBuilt on "
    "Wed_Jun__8_16:49:14_PDT_2022\nCuda compilation tools, release 11.7, V11.7.99\nBuild "
    "cuda_11.7.r11.7/compiler.31442593_0\n"
)
NVCC_130 = (
    "nvcc: NVIDIA (R) Cuda compiler driver\nCopyright (c) 2005-2025 NVIDIA Corporation\nBuilt on "
    "Wed_Aug_20_01:58:59_PM_PDT_2025\nCuda compilation tools, release 13.0, V13.0.88\nBuild "
    "cuda_13.0.r13.0/compiler.36424714_0\n"
)
LIST_130 = "compute_75\ncompute_80\ncompute_86\ncompute_87\ncompute_88\ncompute_89\ncompute_90\ncompute_100\n" + (
    "compute_110\ncompute_103\ncompute_120\ncompute_121\n"
)


def nvcc_tool(home, banner, arch_list=None):
    """A toolkit folder `home` whose bin/nvcc prints `banner` on --version and `arch_list` on --list-gpu-arch (an
    nvcc that has no such answer fails, as tool() does for any other option)."""
    path = tool(str(home / "bin"), "nvcc", banner)
    if arch_list is not None:
        listed = "".join(" '%s'" % line for line in arch_list.splitlines())
        with open(path) as f:
            text = f.read()
        text = text.replace("*) exit 1;;", '*--list-gpu-arch*) printf "%%s\\n"%s;; *) exit 1;;' % listed)
        with open(path, "w") as f:
            f.write(text)
    return str(home)


def kit(home, release):
    return toolchain.CudaToolkit(home=str(home), how="$CUDA_HOME", release=release, source="nvcc --version")


def test_nvcc_arches_from_list_gpu_arch_else_the_release_notes(tmp_path):
    """nvcc --list-gpu-arch where nvcc answers it; else compat.ARCH_CUDA's rows for the release (11.0: up to sm_80;
    11.1 added sm_86); a release newer than the table is not judged."""
    new = nvcc_tool(tmp_path / "cuda-13.0", NVCC_130, LIST_130)
    arches = toolchain.nvcc_arches(toolchain.cuda_toolkit_fact({"CUDA_HOME": new, "PATH": ""}))
    assert arches.source == "nvcc --list-gpu-arch" and (12, 1) in arches.known and (7, 0) not in arches.known
    old = nvcc_tool(tmp_path / "cuda-11.0", NVCC_110)
    arches = toolchain.nvcc_arches(toolchain.cuda_toolkit_fact({"CUDA_HOME": old, "PATH": ""}))
    assert arches.source == "NVIDIA's release notes" and arches.release == "11.0"
    assert (8, 0) in arches.known and (8, 6) not in arches.known and (3, 5) in arches.known
    assert (8, 6) in toolchain.nvcc_arches(kit("/nowhere", "11.1")).known
    assert toolchain.nvcc_arches(kit("/nowhere", "99.0")).known is None


def test_extension_arches_as_cpp_extension_chooses_them():
    """TORCH_CUDA_ARCH_LIST (names expanded, +PTX dropped) when set; else the GPUs' capability clamped to torch's."""
    assert toolchain.extension_arches(None, [(8, 6)], ["sm_75", "sm_80", "sm_86"]) == [(8, 6)]
    assert toolchain.extension_arches("", [(9, 0), (8, 6)], ["sm_80", "sm_86"]) == [(8, 6)]  # no sm_90: clamped
    assert toolchain.extension_arches("Ampere", [(7, 5)]) == [(8, 0), (8, 6)]
    assert toolchain.extension_arches("7.5+PTX 8.0", []) == [(7, 5), (8, 0)]


def test_a_gpu_newer_than_the_toolkit_s_nvcc(tmp_path):
    """CUDA 11.0's nvcc and an RTX 3090 (8.6), TORCH_CUDA_ARCH_LIST unset: WARN naming both, with an arch list that
    nvcc builds and that runs on 8.6 (8.0: same major), or an installed toolkit that knows 8.6; nothing to say when
    the list asks only for what nvcc knows, or for a toolkit that knows the GPU."""
    old = kit(tmp_path / "cuda-11.0", "11.0")
    arches = toolchain.nvcc_arches(old)
    gpus = [("NVIDIA GeForce RTX 3090", (8, 6))]
    found = toolchain.arch_problem(old, arches, gpus, torch_cuda="11.7")
    assert found.status == WARN and "sm_86 (NVIDIA GeForce RTX 3090)" in found.summary and "11.0" in found.summary
    assert 'TORCH_CUDA_ARCH_LIST="8.0"' in found.fix and "CUDA 11.1 or newer" in found.fix
    installed = [kit(tmp_path / "cuda-11.7", "11.7"), kit(tmp_path / "cuda-12.1", "12.1")]
    found = toolchain.arch_problem(old, arches, gpus, torch_cuda="11.7", installed=installed)
    assert "export CUDA_HOME=%s" % (tmp_path / "cuda-11.7") in found.fix
    assert toolchain.arch_problem(old, arches, gpus, arch_list="7.5", torch_cuda="11.7") is None
    found = toolchain.arch_problem(old, arches, gpus, arch_list="Ampere", torch_cuda="11.7")
    assert "TORCH_CUDA_ARCH_LIST=Ampere asks" in found.summary
    cu117 = kit(tmp_path / "cuda-11.7", "11.7")
    assert toolchain.arch_problem(cu117, toolchain.nvcc_arches(cu117), gpus, torch_cuda="11.7") is None
    # an H100 (9.0) and CUDA 11.7 (up to sm_87): only PTX of an older major runs on it
    found = toolchain.arch_problem(cu117, toolchain.nvcc_arches(cu117), [("NVIDIA H100 80GB HBM3", (9, 0))])
    assert 'TORCH_CUDA_ARCH_LIST="8.7+PTX"' in found.fix and "CUDA 11.8 or newer" in found.fix


def test_a_gpu_older_than_the_toolkit_s_nvcc(tmp_path):
    """A Tesla K80 (3.7) and CUDA 12.2's nvcc (12.0 dropped sm_35 and sm_37): the fix is an older toolkit, never a
    newer one; TORCH_CUDA_ARCH_LIST naming 3.7 beside the GPU's own 8.6 is fixed by the list alone."""
    new = kit(tmp_path / "cuda-12.2", "12.2")
    arches = toolchain.nvcc_arches(new)
    found = toolchain.arch_problem(new, arches, [("Tesla K80", (3, 7))], torch_cuda="11.8")
    assert "CUDA 12.0 dropped sm_37" in found.summary and "from 5.0 to before 12.0" in found.fix
    assert "or newer" not in found.fix and "TORCH_CUDA_ARCH_LIST" not in found.fix
    installed = [kit(tmp_path / "cuda-11.8", "11.8")]
    found = toolchain.arch_problem(new, arches, [("Tesla K80", (3, 7))], torch_cuda="11.8", installed=installed)
    assert "export CUDA_HOME=%s" % (tmp_path / "cuda-11.8") in found.fix
    found = toolchain.arch_problem(new, arches, [("NVIDIA A10", (8, 6))], arch_list="3.7;8.6", torch_cuda="12.1")
    assert 'TORCH_CUDA_ARCH_LIST="8.6"' in found.fix


def test_toolkits_installed_where_cpp_extension_does_not_look(tmp_path):
    """/usr/local/cuda-X.Y-like folders with bin/nvcc: the one of torch's CUDA is named for CUDA_HOME, else the newest
    of its major; nothing when cpp_extension found a toolkit or none is installed."""
    nvcc_tool(tmp_path / "cuda-11.7", NVCC_117)
    nvcc_tool(tmp_path / "cuda-13.0", NVCC_130)
    (tmp_path / "cuda-12.1").mkdir()  # no bin/nvcc: not a toolkit
    installed = toolchain.installed_toolkits([str(tmp_path / "cuda-*")], environ={})
    assert [(t.home, t.release) for t in installed] == [
        (str(tmp_path / "cuda-11.7"), "11.7"),
        (str(tmp_path / "cuda-13.0"), "13.0"),
    ]
    none = toolchain.CudaToolkit(home=None, how="none of $CUDA_HOME, $CUDA_PATH, nvcc on PATH, /usr/local/cuda")
    found = toolchain.missing_toolkit(none, "11.7", installed)
    assert found.status == WARN and "CUDA_HOME is not set" in found.summary
    assert found.fix.startswith("export CUDA_HOME=%s " % (tmp_path / "cuda-11.7"))
    assert toolchain.missing_toolkit(none, "11.8", installed).fix.startswith("export CUDA_HOME=%s " % installed[0].home)
    assert toolchain.missing_toolkit(none, "12.1", installed) is None  # no CUDA 12 toolkit to name
    assert toolchain.missing_toolkit(installed[0], "11.7", installed) is None
    assert toolchain.missing_toolkit(none, "11.7", []) is None


def test_a_cuda_runtime_without_nvcc_is_named_with_the_toolkit_to_install(tmp_path):
    """deepspeedai/DeepSpeed#4553: `pip install deepspeed` in a container whose /usr/local/cuda holds only the CUDA
    runtime ("installation problem: No such file or directory: '/usr/local/cuda/bin/nvcc'"). Its version.json says
    11.7; a toolkit with nvcc installed elsewhere is offered first."""
    runtime = tmp_path / "cuda"
    (runtime / "lib64").mkdir(parents=True)
    (runtime / "version.json").write_text('{"cuda": {"name": "CUDA SDK", "version": "11.7.1"}}')
    toolkit = toolchain.toolkit_at(str(runtime), "the default /usr/local/cuda")
    found = toolchain.runtime_only(toolkit, "11.7", installed=[])
    assert found.status == WARN and "has no nvcc (%s)" % (runtime / "bin" / "nvcc") in found.summary
    assert "No such file or directory: '%s'" % (runtime / "bin" / "nvcc") in found.summary
    assert found.fix.startswith("install the CUDA 11.7 toolkit there") and "-devel-" in found.fix
    nvcc_tool(tmp_path / "cuda-11.7", NVCC_117)
    other = toolchain.installed_toolkits([str(tmp_path / "cuda-11.7")], environ={})
    found = toolchain.runtime_only(toolkit, "11.7", installed=other)
    assert found.fix.startswith("export CUDA_HOME=%s (CUDA 11.7, with nvcc)" % (tmp_path / "cuda-11.7"))
    assert toolchain.runtime_only(other[0], "11.7", installed=[]) is None  # it has nvcc
    assert toolchain.runtime_only(toolkit, None, installed=[]) is None  # a CPU build builds no CUDA code
    nowhere = toolchain.CudaToolkit(home=str(tmp_path / "absent"), how="$CUDA_HOME")
    found = toolchain.runtime_only(nowhere, "11.7", installed=[])
    assert found.summary.startswith("$CUDA_HOME names %s, which does not exist" % (tmp_path / "absent"))
    assert found.fix.startswith("point CUDA_HOME at an installed CUDA toolkit, or unset it")


def test_extensions_line_judges_the_toolkit_against_the_gpu(tmp_path, monkeypatch):
    """CUDA_HOME at CUDA 11.0 under a cu117 torch and an RTX 3090 the driver reports: WARN with both fixes; with
    TORCH_CUDA_ARCH_LIST=8.0 the line passes that judgement."""
    monkeypatch.setenv("CUDA_HOME", nvcc_tool(tmp_path / "cuda-11.0", NVCC_110))
    monkeypatch.delenv("TORCH_CUDA_ARCH_LIST", raising=False)
    monkeypatch.setattr(toolchain, "TOOLKIT_PLACES", ())
    monkeypatch.setattr(torch.version, "cuda", "11.7")
    monkeypatch.setattr(torch, "__version__", "2.0.1+cu117")
    gpu_ctx = SimpleNamespace(
        torch=torch,
        devices=["cpu"],
        quick=False,
        progress=lambda text: None,
        gpu=None,
        driver={"source": "nvidia-smi", "gpus": [{"name": "NVIDIA GeForce RTX 3090", "compute_cap": "8.6"}]},
    )
    result = extensions.check_extensions(gpu_ctx)
    assert result.status == WARN and "sm_86" in result.summary and 'TORCH_CUDA_ARCH_LIST="8.0"' in result.hint
    monkeypatch.setenv("TORCH_CUDA_ARCH_LIST", "8.0")
    assert "sm_86" not in extensions.check_extensions(gpu_ctx).summary


def test_extensions_line_names_an_installed_toolkit_cpp_extension_misses(ctx, tmp_path, monkeypatch):
    """No toolkit where cpp_extension looks, a CUDA 11.7 one in a versioned folder: WARN, export CUDA_HOME=it."""
    home = nvcc_tool(tmp_path / "cuda-11.7", NVCC_117)
    none = toolchain.CudaToolkit(home=None, how="none of $CUDA_HOME, $CUDA_PATH, nvcc on PATH, /usr/local/cuda")
    monkeypatch.setattr(toolchain, "cuda_toolkit_fact", lambda: none)
    monkeypatch.setattr(toolchain, "TOOLKIT_PLACES", (str(tmp_path / "cuda-*"),))
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    monkeypatch.setattr(torch.version, "cuda", "11.7")
    monkeypatch.setattr(torch, "__version__", "2.0.1+cu117")
    result = extensions.check_extensions(ctx)
    assert result.status == WARN and result.hint.startswith("export CUDA_HOME=%s " % home)


# GCC 12 as Debian 12 prints it (`g++ --version` on this team's machine) and CUDA 11.7's include/crt/host_config.h
# around its GNU guard (the #error text as nvcc prints it from line 132: mlverse/torch#631 and its duplicates).
GCC12_DEBIAN = "g++ (Debian 12.2.0-14+deb12u1) 12.2.0\nCopyright (C) 2022 Free Software Foundation, Inc.\n"
HOST_CONFIG_117 = (
    "#endif /* __powerpc__ */\n\n#if defined(__GNUC__)\n\n#if __GNUC__ > 11\n\n#error -- unsupported GNU version! gcc "
    "versions later than 11 are not supported! The nvcc flag '-allow-unsupported-compiler' can be used to override "
    "this version check; however, using an unsupported host compiler may cause compilation failure or incorrect run "
    "time execution. Use at your own risk.\n\n#endif /* __GNUC__ > 11 */\n\n\n#if defined(__clang__) && "
    "!defined(__ibmxl_vrm__) && !defined(__ICC) && !defined(__HORIZON__) && !defined(__APPLE__)\n\n"
    "#if (__clang_major__ >= 14) || (__clang_major__ < 3) || ((__clang_major__ == 3) &&  (__clang_minor__ < 3))\n"
)
# torch.utils.cpp_extension's CUDA_GCC_VERSIONS rows (torch 2.13.0's: min <= version < max)
GCC_BOUNDS = {"11.7": ((6, 0, 0), (12, 0)), "12.0": ((6, 0, 0), (13, 0)), "12.4": ((6, 0, 0), (14, 0))}


def cuda_117(home, header=True):
    """A CUDA 11.7 toolkit folder: bin/nvcc answering --version, and (as NVIDIA's packages lay it out) the header
    under targets/x86_64-linux/include/crt, reached through include -> targets/x86_64-linux/include."""
    nvcc_tool(home, NVCC_117)
    if header:
        crt = home / "targets" / "x86_64-linux" / "include" / "crt"
        crt.mkdir(parents=True)
        (crt / "host_config.h").write_text(HOST_CONFIG_117)
    return kit(home, "11.7")


def test_host_compiler_as_nvcc_takes_it(tmp_path):
    """-ccbin in NVCC_PREPEND_FLAGS first, then $CC (cpp_extension's -ccbin), then NVCC_CCBIN, then g++ on PATH;
    a -ccbin folder means its g++; the version is read from the compiler's --version."""
    bin_ = tmp_path / "bin"
    tool(str(bin_), "g++", GCC12_DEBIAN)
    tool(str(tmp_path / "gcc11" / "bin"), "g++", GCC11_UBUNTU)
    found = toolchain.host_compiler_fact({"PATH": str(bin_)})
    assert (found.name, found.family, found.version) == ("g++", "gcc", (12, 2, 0)) and "default" in found.why
    cc = str(tmp_path / "gcc11" / "bin" / "g++")
    found = toolchain.host_compiler_fact({"PATH": str(bin_), "CC": cc})
    assert found.version == (11, 4, 0) and "$CC" in found.why
    found = toolchain.host_compiler_fact({"PATH": str(bin_), "CC": "g++", "NVCC_PREPEND_FLAGS": "-ccbin %s" % cc})
    assert found.version == (11, 4, 0) and "NVCC_PREPEND_FLAGS" in found.why
    found = toolchain.host_compiler_fact({"PATH": str(bin_), "NVCC_CCBIN": str(tmp_path / "gcc11" / "bin")})
    assert found.version == (11, 4, 0) and found.name.endswith("gcc11/bin/g++")
    assert toolchain.host_compiler_fact({"PATH": str(tmp_path / "none")}).path is None


def test_host_config_guard_is_the_toolkit_s_limit(tmp_path):
    """The newest GCC a toolkit takes is its host_config.h's `#if __GNUC__ > N` guard; no header, no limit."""
    assert toolchain.host_config_gcc_limit(cuda_117(tmp_path / "cuda-11.7").home) == 11
    assert toolchain.host_config_gcc_limit(cuda_117(tmp_path / "bare", header=False).home) is None
    assert toolchain.table_gcc_limit("11.7", GCC_BOUNDS) == 11 and toolchain.table_gcc_limit("12.4", GCC_BOUNDS) == 13
    assert toolchain.table_gcc_limit("10.2", GCC_BOUNDS) is None


def test_a_host_gcc_newer_than_the_toolkit_supports(tmp_path):
    """GCC 12 under CUDA 11.7 (its header stops at 11): WARN naming both and nvcc's #error, fixed by GCC 11 for
    CC/CXX (-ccbin) or a toolkit the table accepts GCC 12 for (12.0); GCC 11 passes; without the header torch's
    table decides the same."""
    gcc12 = toolchain.HostCompiler(name="g++", path="/usr/bin/g++", why="nvcc's default", family="gcc",
                                   version=(12, 2, 0))  # fmt: skip
    gcc11 = toolchain.HostCompiler(name="g++-11", path="/usr/bin/g++-11", why="$CC", family="gcc", version=(11, 4))
    toolkit = cuda_117(tmp_path / "cuda-11.7")
    found = toolchain.host_compiler_problem(toolkit, gcc12, SimpleNamespace(CUDA_GCC_VERSIONS=GCC_BOUNDS))
    assert found.status == WARN and "GCC 12.2.0" in found.summary and "CUDA 11.7" in found.summary
    assert "gcc versions later than 11 are not supported" in found.summary and "host_config.h" in found.summary
    assert "CC=gcc-11 CXX=g++-11" in found.fix and "-ccbin" in found.fix and "CUDA 12.0 or newer" in found.fix
    assert toolchain.host_compiler_problem(toolkit, gcc11, SimpleNamespace(CUDA_GCC_VERSIONS=GCC_BOUNDS)) is None
    bare = cuda_117(tmp_path / "bare", header=False)
    found = toolchain.host_compiler_problem(bare, gcc12, SimpleNamespace(CUDA_GCC_VERSIONS=GCC_BOUNDS))
    assert found.status == WARN and "cpp_extension's table" in found.summary
    assert toolchain.host_compiler_problem(bare, gcc12, None) is None  # nothing says what CUDA 11.7 takes


def test_extensions_line_warns_on_a_host_compiler_the_toolkit_refuses(ctx, tmp_path, monkeypatch):
    """CUDA_HOME at CUDA 11.7 under a cu117 torch, $CC a GCC 12: WARN with the GCC 11 fix; CC at a GCC 11: not."""
    toolkit = cuda_117(tmp_path / "cuda-11.7")
    tool(str(tmp_path / "gcc12"), "g++", GCC12_DEBIAN)
    tool(str(tmp_path / "gcc11"), "g++", GCC11_UBUNTU)
    tool(str(tmp_path / "bin"), "ninja", "1.11.1\n")
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("CUDA_HOME", toolkit.home)
    monkeypatch.setenv("CC", str(tmp_path / "gcc12" / "g++"))
    for variable in ("TORCH_CUDA_ARCH_LIST", "NVCC_PREPEND_FLAGS", "NVCC_APPEND_FLAGS", "NVCC_CCBIN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(torch.version, "cuda", "11.7")
    monkeypatch.setattr(torch, "__version__", "2.0.1+cu117")
    result = extensions.check_extensions(ctx)
    assert result.status == WARN and "GCC 12.2.0" in result.summary and "gcc-11" in result.hint
    monkeypatch.setenv("CC", str(tmp_path / "gcc11" / "g++"))
    assert extensions.check_extensions(ctx).status == PASS


def test_quick_still_judges_the_host_compiler_of_a_chosen_toolkit(tmp_path, monkeypatch):
    """--quick imports no cpp_extension, but a toolkit CUDA_HOME names is still held against the host compiler by its
    header: WARN for GCC 12 under CUDA 11.7; SKIP as before for GCC 11, or for a CPU build."""
    toolkit = cuda_117(tmp_path / "cuda-11.7")
    tool(str(tmp_path / "gcc12"), "g++", GCC12_DEBIAN)
    tool(str(tmp_path / "gcc11"), "g++", GCC11_UBUNTU)
    monkeypatch.setenv("CUDA_HOME", toolkit.home)
    monkeypatch.setenv("CC", str(tmp_path / "gcc12" / "g++"))
    for variable in ("NVCC_PREPEND_FLAGS", "NVCC_APPEND_FLAGS", "NVCC_CCBIN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(torch.version, "cuda", "11.7")
    quick = SimpleNamespace(torch=torch, devices=["cpu"], quick=True, progress=lambda text: None)
    result = extensions.check_extensions(quick)
    assert result.status == WARN and "gcc versions later than 11" in result.summary
    monkeypatch.setenv("CC", str(tmp_path / "gcc11" / "g++"))
    assert extensions.check_extensions(quick).status == SKIP
    monkeypatch.setenv("CC", str(tmp_path / "gcc12" / "g++"))
    monkeypatch.setattr(torch.version, "cuda", None)
    assert extensions.check_extensions(quick).status == SKIP


def test_quick_still_judges_a_chosen_toolkit_of_another_major(tmp_path, monkeypatch):
    """--quick: CUDA_HOME at a CUDA 12.2 toolkit under a cu117 torch WARNs as the full run does (no cpp_extension
    import: nvcc --version against torch.version.cuda)."""
    home = tmp_path / "cuda-12.2"
    tool(str(home / "bin"), "nvcc", NVCC_122)
    monkeypatch.setenv("CUDA_HOME", str(home))
    monkeypatch.setattr(torch.version, "cuda", "11.7")
    monkeypatch.setattr(torch, "__version__", "2.0.1+cu117")
    quick = SimpleNamespace(torch=torch, devices=["cpu"], quick=True, progress=lambda text: None)
    result = extensions.check_extensions(quick)
    assert result.status == WARN and "12.2" in result.summary and "CUDA_HOME" in result.hint


def test_quick_judges_the_nvcc_on_path_of_another_major(tmp_path, monkeypatch):
    """Dao-AILab/flash-attention#825: "FlashAttention is only supported on CUDA 11.6 and above. Note: make sure nvcc
    has a supported version by running nvcc -V", where `nvcc -V` on PATH said "release 10.1, V10.1.243" under a
    CUDA 11 torch. With neither CUDA_HOME nor CUDA_PATH set, cpp_extension's _find_cuda_home takes the folder above
    that nvcc, so --quick judges it as a toolkit this run is pointed at."""
    home = tmp_path / "cuda-10.1"
    nvcc_tool(home, NVCC_101)
    monkeypatch.delenv("CUDA_HOME", raising=False)
    monkeypatch.delenv("CUDA_PATH", raising=False)
    monkeypatch.setenv("PATH", "%s%s%s" % (home / "bin", os.pathsep, os.environ.get("PATH", "")))
    monkeypatch.setattr(torch.version, "cuda", "11.7")
    monkeypatch.setattr(torch, "__version__", "2.0.1+cu117")
    monkeypatch.setattr(toolchain, "installed_toolkits", lambda *a, **k: [])
    quick = SimpleNamespace(torch=torch, devices=["cpu"], quick=True, progress=lambda text: None)
    result = extensions.check_extensions(quick)
    assert result.status == WARN
    assert result.summary.startswith("the CUDA toolkit at %s (nvcc on PATH, CUDA 10.1 by nvcc --version)" % home)
    assert result.hint.startswith("point CUDA_HOME at a CUDA 11.7 toolkit")


def test_a_chosen_toolkit_older_than_torch_s_cuda_minor_warns(tmp_path):
    """NVIDIA/apex#955: CUDA_HOME at a CUDA 11.0 toolkit under torch 2.0.1+cu117; apex's setup.py refuses any
    difference ("Cuda extensions are being compiled with a version of Cuda that does not match the version used to
    compile Pytorch binaries"), cpp_extension only warns. A newer minor, or the default /usr/local/cuda, is left alone;
    an installed toolkit of torch's exact release is the fix."""
    kit = toolchain.CudaToolkit(home=str(tmp_path / "cuda-11.0"), how="$CUDA_HOME", release="11.0")
    found = toolchain.toolkit_mismatch(kit, "11.7", "2.0.1+cu117", installed=[])
    assert found.status == WARN and found.summary.startswith("$CUDA_HOME points at the CUDA 11.0 toolkit")
    assert "apt install cuda-toolkit-11-7" in found.fix
    nvcc_tool(tmp_path / "cuda-11.7", NVCC_117)
    installed = toolchain.installed_toolkits([str(tmp_path / "cuda-11.7")], environ={})
    assert toolchain.toolkit_mismatch(kit, "11.7", "2.0.1", installed=installed).fix.startswith(
        "export CUDA_HOME=%s" % (tmp_path / "cuda-11.7")
    )
    assert toolchain.toolkit_mismatch(kit, "11.7", "2.0.1", installed=[], minor=False) is None
    newer = toolchain.CudaToolkit(home="/opt/cuda-11.8", how="$CUDA_HOME", release="11.8")
    assert toolchain.toolkit_mismatch(newer, "11.7", "2.0.1", installed=[]) is None
    default = toolchain.CudaToolkit(home="/usr/local/cuda", how="the default /usr/local/cuda", release="11.0")
    assert toolchain.toolkit_mismatch(default, "11.7", "2.0.1", installed=[]) is None
