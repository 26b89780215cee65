"""Tests for checks/diagnosis/libraries.py: the loader's message judged by the file it names, a library taken from
outside the environment, a C library older than the build needs, a library nowhere the loader looks, the loader path.
Each fact is laid out in tmp_path as the real artefact is, and each failure text is the one torch or the loader
prints (sources at each test)."""

import shutil
import subprocess
import sys

import pytest
from diagnosis_facts import facts_for, record, site
from fakes import compile_library

from checks import diagnosis


def test_a_library_on_ld_library_path_that_shadows_the_environment_s_is_the_cause(tmp_path, monkeypatch):
    """The environment has its own libnvJitLink.so.12 (the pip wheel's nvidia/nvjitlink/lib) but LD_LIBRARY_PATH puts
    a system CUDA's first; cuSPARSE then misses a symbol of the newer one (the loader's text)."""
    prefix, packages = site(tmp_path)
    own = packages / "nvidia" / "nvjitlink" / "lib"
    own.mkdir(parents=True)
    (own / "libnvJitLink.so.12").write_bytes(b"own")
    cuda = tmp_path / "usr" / "local" / "cuda-12.1" / "lib64"
    cuda.mkdir(parents=True)
    (cuda / "libnvJitLink.so.12").write_bytes(b"system")
    environ = {"LD_LIBRARY_PATH": str(cuda)}
    monkeypatch.setenv("LD_LIBRARY_PATH", str(cuda))
    found = facts_for(monkeypatch, prefix, [packages], environ)
    text = (
        "ImportError: %s/nvidia/cusparse/lib/libcusparse.so.12: undefined symbol: __nvJitLinkComplete_12_4, version "
        "libnvJitLink.so.12" % packages
    )
    cause = diagnosis.explain(text, found)
    assert cause.fact == "libnvJitLink.so.12 via LD_LIBRARY_PATH"
    assert "remove %s from LD_LIBRARY_PATH" % cuda in cause.fix


def test_a_glibc_older_than_the_build_needs(tmp_path, monkeypatch):
    """The loader's text when a library needs a newer glibc symbol version."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], glibc="2.17", glibc_needed=("2.28", "libtorch_cpu.so"))
    text = (
        "OSError: /lib64/libc.so.6: version `GLIBC_2.28' not found (required by %s/torch/lib/libtorch_cpu.so)"
        % packages
    )
    cause = diagnosis.explain(text, found)
    assert cause.meaning.startswith("this build needs glibc 2.28") and "the OS has glibc 2.17" in cause.meaning
    assert "reinstall" not in cause.fix


@pytest.mark.parametrize(
    "text, library",
    [
        # torch's check of the cuDNN it loaded (pytorch/pytorch#80637, before #80877 reworded it)
        (
            "RuntimeError: cuDNN version incompatibility: PyTorch was compiled against (8, 3, 2) but linked against "
            "(8, 0, 3)",
            "libcudnn.so.8",
        ),
        # a self-built libtorch's libraries on the loader path (pytorch/pytorch#137247)
        ("AttributeError: module 'torch._C' has no attribute 'OutOfMemoryError'", "libc10.so"),
    ],
)
def test_a_loader_path_directory_with_the_environment_s_libraries(tmp_path, monkeypatch, text, library):
    prefix, packages = site(tmp_path)
    (packages / "torch" / "lib" / "libc10.so").write_bytes(b"own")
    cudnn = packages / "nvidia" / "cudnn" / "lib"
    cudnn.mkdir(parents=True)
    (cudnn / "libcudnn.so.8").write_bytes(b"own")
    other = tmp_path / "apps" / "lib64"
    other.mkdir(parents=True)
    for name in ("libcudnn.so.8", "libc10.so"):
        (other / name).write_bytes(b"theirs")
    found = facts_for(monkeypatch, prefix, [packages], {"LD_LIBRARY_PATH": str(other)})
    cause = diagnosis.explain(text, found)
    assert cause.rule == "loader-path" and cause.fact == "%s in LD_LIBRARY_PATH, also in the environment" % library
    assert cause.fix.startswith("remove %s from LD_LIBRARY_PATH" % other)


def test_an_unrelated_failure_does_not_blame_the_loader_path(tmp_path, monkeypatch):
    """A cuDNN copy on LD_LIBRARY_PATH is no cause of an error about something else."""
    prefix, packages = site(tmp_path)
    cudnn = packages / "nvidia" / "cudnn" / "lib"
    cudnn.mkdir(parents=True)
    (cudnn / "libcudnn.so.8").write_bytes(b"own")
    other = tmp_path / "apps"
    other.mkdir()
    (other / "libcudnn.so.8").write_bytes(b"theirs")
    found = facts_for(monkeypatch, prefix, [packages], {"LD_LIBRARY_PATH": str(other)})
    assert diagnosis.explain("ValueError: expected 4D input (got 3D input)", found).rule != "loader-path"


def test_a_symbol_version_provider_taken_from_ld_library_path(tmp_path, monkeypatch):
    """infiniflow/ragflow#4466: the wheel's libcusparse needs a newer libnvJitLink than the CUDA 12.1 toolkit's that
    LD_LIBRARY_PATH puts first (`ldd` in the thread shows the resolution)."""
    prefix, packages = site(tmp_path)
    cuda = tmp_path / "usr" / "local" / "cuda-12.1" / "lib64"
    cuda.mkdir(parents=True)
    (cuda / "libnvJitLink.so.12").write_bytes(b"toolkit")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(cuda))
    found = facts_for(monkeypatch, prefix, [packages], {"LD_LIBRARY_PATH": str(cuda)})
    text = (
        "ImportError: %s/nvidia/cusparse/lib/libcusparse.so.12: undefined symbol: __nvJitLinkAddData_12_1, version "
        "libnvJitLink.so.12" % packages
    )
    cause = diagnosis.explain(text, found)
    assert cause.fact == "libnvJitLink.so.12 via LD_LIBRARY_PATH" and cause.fix.startswith("remove %s" % cuda)


LINUX_GCC = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="needs Linux and gcc to build ELF files"
)


def gcc_library(out, *flags, source="int f(void) { return 1; }\n"):
    """A shared library at `out` built with gcc and the linker `flags` (fakes.compile_library); its path."""
    return compile_library(out, source, *flags)


def without_system_libraries(monkeypatch, tmp_path, cache=None):
    """A machine whose loader finds nothing of its own: ld.so.cache holds `cache` ({soname: path}) and the default
    folders are an empty one under tmp_path."""
    from checks.machine import loader

    monkeypatch.setattr(loader, "ld_cache", lambda *a, **k: dict(cache or {}))
    monkeypatch.setattr(loader, "DEFAULT_DIRS", (str(tmp_path / "none"),))


@LINUX_GCC
def test_a_library_shorter_than_its_record_is_a_broken_install(tmp_path, monkeypatch):
    """pytorch/pytorch#1264: "libTHC.so.1: cannot read file data" (glibc open_verify) for a truncated download; the
    RECORD's size against the file's is the fact, the reinstall bypasses the cache that may hold the same file."""
    prefix, packages = site(tmp_path)
    library = gcc_library(packages / "torch" / "lib" / "libtorch_cpu.so")
    record(packages, "torch/lib/libtorch_cpu.so")
    whole = (packages / "torch" / "lib" / "libtorch_cpu.so").read_bytes()
    (packages / "torch" / "lib" / "libtorch_cpu.so").write_bytes(whole[:300])
    cause = diagnosis.explain(
        "ImportError: %s: cannot read file data" % library, facts_for(monkeypatch, prefix, [packages])
    )
    assert cause.rule == "load" and "300 bytes where torch 2.0.1's RECORD promises %d" % len(whole) in cause.fact
    assert cause.fix == 'python -m pip install --force-reinstall --no-deps --no-cache-dir "torch==2.0.1"'


@LINUX_GCC
def test_a_library_as_its_record_promises_is_not_blamed_on_the_install(tmp_path, monkeypatch):
    """The same message for a file whose size is the RECORD's and whose headers are whole: nothing shows the install
    differs, so no reinstall is offered (the rule that decides nothing says so)."""
    prefix, packages = site(tmp_path)
    library = gcc_library(packages / "torch" / "lib" / "libtorch_cpu.so")
    record(packages, "torch/lib/libtorch_cpu.so")
    cause = diagnosis.explain(
        "ImportError: %s: cannot read file data" % library, facts_for(monkeypatch, prefix, [packages])
    )
    assert not cause.recognised and "reinstall" not in cause.fix


def test_a_git_lfs_pointer_in_place_of_a_library_is_named(tmp_path, monkeypatch):
    """ "invalid ELF header" (glibc open_verify: no ELF magic) for a file no record lists: what the file is decides."""
    prefix, packages = site(tmp_path)
    pointer = packages / "torch" / "lib" / "libcustom.so"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 1024\n" % ("0" * 64))
    cause = diagnosis.explain("OSError: %s: invalid ELF header" % pointer, facts_for(monkeypatch, prefix, [packages]))
    assert "Git LFS pointer" in cause.meaning and "no package record lists it" in cause.fix


@LINUX_GCC
@pytest.mark.parametrize(
    "glibc, reason, says, fix",
    [
        # glibc 2.41 NEWS: dlopen no longer makes the stack executable (conda-forge/pytorch-cpu-feedstock#350)
        ("2.41", "Invalid argument", "glibc 2.41 refuses to dlopen such a library", "glibc.rtld.execstack=2"),
        # before 2.41 the loader's mprotect of the stack can be refused by a security policy
        ("2.36", "Permission denied", "the kernel refused to make the stack executable", "patchelf --clear-execstack"),
    ],
)
def test_an_object_that_asks_for_an_executable_stack(tmp_path, monkeypatch, glibc, reason, says, fix):
    prefix, packages = site(tmp_path)
    library = gcc_library(packages / "torch" / "lib" / "libtorch_cpu.so", "-Wl,-z,execstack")
    record(packages, "torch/lib/libtorch_cpu.so")
    text = "ImportError: libtorch_cpu.so: cannot enable executable stack as shared object requires: %s" % reason
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages], glibc=glibc))
    assert says in cause.meaning and "its PT_GNU_STACK asks for one (RWE)" in cause.meaning
    assert fix in cause.fix and "patchelf --clear-execstack` on %s" % library in cause.fix
    assert "python -m pip install -U torch" in cause.fix
    assert ("glibc.rtld.execstack=2" in cause.fix) == (glibc == "2.41")


@LINUX_GCC
def test_the_loader_s_word_stands_when_the_copy_read_asks_for_no_executable_stack(tmp_path, monkeypatch):
    """The message is evidence that the object the loader opened asks for an executable stack; a copy here that
    does not is another file, and the verdict says so instead of blaming it."""
    prefix, packages = site(tmp_path)
    gcc_library(packages / "torch" / "lib" / "libtorch_cpu.so", "-Wl,-z,noexecstack")
    text = "ImportError: libtorch_cpu.so: cannot enable executable stack as shared object requires: Invalid argument"
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages], glibc="2.41"))
    assert "asks for none (PT_GNU_STACK RW)" in cause.meaning and "LD_DEBUG=files" in cause.fix
    assert cause.fact.endswith("PT_GNU_STACK RW")


@LINUX_GCC
def test_a_32_bit_library_on_the_loader_path_is_named(tmp_path, monkeypatch):
    """glibc's _dl_map_object: only files of the other class were found -> "wrong ELF class: ELFCLASS32"."""
    prefix, packages = site(tmp_path)
    other = tmp_path / "opt" / "lib32"
    other.mkdir(parents=True)
    source = other / "x.c"
    source.write_text("int f(void) { return 1; }\n")
    built = subprocess.run(
        ["gcc", "-m32", "-shared", "-nostdlib", "-fPIC", "-o", str(other / "libfoo.so"), str(source)],
        stderr=subprocess.PIPE,
    )
    if built.returncode != 0:
        pytest.skip("gcc cannot build 32-bit objects here")
    environ = {"LD_LIBRARY_PATH": str(other)}
    monkeypatch.setenv("LD_LIBRARY_PATH", str(other))
    cause = diagnosis.explain(
        "OSError: libfoo.so: wrong ELF class: ELFCLASS32", facts_for(monkeypatch, prefix, [packages], environ)
    )
    assert "32-bit i386 library" in cause.meaning and cause.fix.startswith("remove %s from LD_LIBRARY_PATH" % other)


@LINUX_GCC
@pytest.mark.parametrize(
    "conda, fix",
    [(False, "`python -m pip install intel-openmp`"), (True, "`conda install -c conda-forge intel-openmp`")],
)
def test_a_library_no_package_provides_names_who_needs_it_and_who_provides_it(tmp_path, monkeypatch, conda, fix):
    """pytorch/pytorch#936: a wheel linked against Intel's libiomp5.so that neither ships nor declares it. The
    environment's libraries' DT_NEEDED name the one that needs it; the provider's install fits the environment."""
    prefix, packages = site(tmp_path)
    if conda:
        (prefix / "conda-meta").mkdir()
    stub = tmp_path / "stub"
    stub.mkdir()
    gcc_library(stub / "libiomp5.so")
    gcc_library(packages / "torch" / "lib" / "libtorch_cpu.so", "-L%s" % stub, "-Wl,--no-as-needed", "-liomp5")
    record(packages, "torch/lib/libtorch_cpu.so")
    (stub / "libiomp5.so").unlink()
    text = "ImportError: libiomp5.so: cannot open shared object file: No such file or directory"
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert "(Intel's OpenMP runtime, needed by libtorch_cpu.so)" in cause.meaning
    assert "torch 2.0.1 ships libtorch_cpu.so, which needs it, but not libiomp5.so" in cause.meaning
    assert fix in cause.fix and "LD_PRELOAD" not in cause.fix


def test_a_system_library_a_wheel_needs_names_the_os_package_and_opencv_s_headless_build(tmp_path, monkeypatch):
    """ultralytics/ultralytics#1270: `import ultralytics` in a slim container imports cv2, whose extension needs
    libGL.so.1 (Debian's libgl1), which the image lacks. The frames show cv2, so its headless build is offered too
    (the opencv-python README: "Packages for server (headless) environments"). A stale ld.so.cache entry for a file
    that is gone is not a find: ld.so goes on searching."""
    prefix, packages = site(tmp_path)
    without_system_libraries(monkeypatch, tmp_path, {"libGL.so.1": str(tmp_path / "gone" / "libGL.so.1")})
    text = (
        'Traceback (most recent call last):\n  File "%s/cv2/__init__.py", line 181, in bootstrap\n'
        '    native_module = importlib.import_module("cv2")\n'
        "ImportError: libGL.so.1: cannot open shared object file: No such file or directory" % packages
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.meaning.startswith("libGL.so.1 (OpenGL (libglvnd)) is in no directory the loader searches")
    assert "(Debian/Ubuntu: `apt install libgl1`)" in cause.fix and "conda-forge `libgl`" in cause.fix
    assert "opencv-python-headless" in cause.fix
    text = "OSError: libsndfile.so.1: cannot open shared object file: No such file or directory"
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert "`apt install libsndfile1`" in cause.fix and "opencv" not in cause.fix


@LINUX_GCC
def test_an_undefined_symbol_of_a_library_family_on_ld_library_path(tmp_path, monkeypatch):
    """intel/ipex-llm#12141: oneAPI 2024.2's MKL, put on LD_LIBRARY_PATH by setvars.sh, lacks iJIT_NotifyEvent;
    without such a directory the stable text's own fix (pin mkl) stands (pytorch/pytorch#123097)."""
    prefix, packages = site(tmp_path)
    mkl = tmp_path / "opt" / "intel" / "oneapi" / "mkl" / "2024.2" / "lib"
    mkl.mkdir(parents=True)
    gcc_library(mkl / "libmkl_core.so.2.2024.2")
    (mkl / "libmkl_core.so.2").symlink_to("libmkl_core.so.2.2024.2")
    text = "ImportError: %s/torch/lib/libtorch_cpu.so: undefined symbol: iJIT_NotifyEvent" % packages
    monkeypatch.setenv("LD_LIBRARY_PATH", str(mkl))
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages], {"LD_LIBRARY_PATH": str(mkl)}))
    assert cause.fact == "libmkl_core.so.2 in LD_LIBRARY_PATH" and "remove %s" % mkl in cause.fix
    monkeypatch.delenv("LD_LIBRARY_PATH")
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "table" and "mkl<2024.1" in cause.fix


@LINUX_GCC
def test_the_environment_s_newer_libstdcxx_off_the_loader_path_is_named(tmp_path, monkeypatch):
    """pytorch/pytorch#8318's kind: the active conda environment's lib/ holds a libstdc++.so.6 that defines the
    version torch needs (built here with gcc and a version script, so the name is in its dynamic string table),
    while the loader takes the system's (glibc's message names it)."""
    prefix, packages = site(tmp_path)
    lib = tmp_path / "anaconda3" / "envs" / "pytorch" / "lib"
    lib.mkdir(parents=True)
    script = tmp_path / "v.map"
    script.write_text("CXXABI_1.3.15 { global: f; local: *; };\n")
    gcc_library(lib / "libstdc++.so.6", "-Wl,--version-script=%s" % script, "-Wl,-soname,libstdc++.so.6")
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    monkeypatch.setenv("CONDA_PREFIX", str(lib.parent))
    text = (
        "ImportError: /usr/lib/x86_64-linux-gnu/libstdc++.so.6: version `CXXABI_1.3.15' not found (required by "
        "%s/torch/lib/libtorch_cpu.so)" % packages
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "library" and "defines CXXABI_1.3.15" in cause.meaning
    assert "export LD_LIBRARY_PATH=%s:" % lib in cause.fix


@LINUX_GCC
def test_a_library_only_torch_s_run_path_finds_names_that_folder(tmp_path, monkeypatch):
    """pytorch/pytorch#31554's kind: ATen's dlopen of libcaffe2_nvrtc.so by bare name failed in a process started from
    an IDE, although the file is in torch/lib, which only torch's own run path ($ORIGIN) reaches."""
    prefix, packages = site(tmp_path)
    lib = packages / "torch" / "lib"
    gcc_library(lib / "libtorch_cpu.so", "-Wl,-rpath,$ORIGIN", "-Wl,--disable-new-dtags")
    gcc_library(lib / "libcaffe2_nvrtc.so")
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    text = (
        "RuntimeError: Error in dlopen or dlsym: libcaffe2_nvrtc.so: cannot open shared object file: No such file or "
        "directory (checkDL at /pytorch/aten/src/ATen/DynamicLibrary.cpp:21)"
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "library" and "did not search there" in cause.meaning
    assert "export LD_LIBRARY_PATH=%s:" % lib in cause.fix


@LINUX_GCC
def test_a_package_built_for_another_cuda_is_named_instead_of_the_library_it_needs(tmp_path, monkeypatch):
    """facebookresearch/detectron2#2064: "ImportError: libcudart.so.10.1: cannot open shared object file" from
    `from detectron2 import _C`, a detectron2 0.2.1+cu101 wheel beside a CUDA 11.7 torch. The module in the
    traceback's package that needs the library (its DT_NEEDED) was built for CUDA 10.1: its build for this torch is
    the fix, not the library. A CUDA library of torch's own major keeps the install-the-component rule."""
    prefix, packages = site(tmp_path)
    (packages / "torch" / "version.py").write_text("__version__ = '2.0.1+cu117'\ncuda = '11.7'\n")
    stub = tmp_path / "stub"
    stub.mkdir()
    gcc_library(stub / "libcudart.so.10.1", "-Wl,-soname,libcudart.so.10.1")
    package = packages / "detectron2"
    (package / "layers").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "layers" / "__init__.py").write_text("")
    (package / "layers" / "deform_conv.py").write_text("from detectron2 import _C\n")
    gcc_library(
        package / "_C.cpython-310-x86_64-linux-gnu.so", "-L%s" % stub, "-Wl,--no-as-needed", "-l:libcudart.so.10.1"
    )
    info = packages / "detectron2-0.2.1+cu101.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: detectron2\nVersion: 0.2.1+cu101\n")
    (info / "RECORD").write_text("detectron2/__init__.py,,\ndetectron2/_C.cpython-310-x86_64-linux-gnu.so,,\n")
    (stub / "libcudart.so.10.1").unlink()
    text = (
        'Traceback (most recent call last):\n  File "%s/layers/deform_conv.py", line 1, in <module>\n'
        "    from detectron2 import _C\n"
        "ImportError: libcudart.so.10.1: cannot open shared object file: No such file or directory" % package
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.meaning.startswith("detectron2 0.2.1+cu101 was built for CUDA 10.1: its _C.cpython-310")
    assert "torch 2.0.1+cu117 is a CUDA 11.7 build" in cause.meaning
    assert cause.fix.startswith("install the detectron2 build made for torch 2.0.1 with CUDA 11.7")
    assert "build detectron2 from source against this torch" in cause.fix
    same = text.replace("libcudart.so.10.1", "libcudart.so.11.0")
    cause = diagnosis.explain(same, facts_for(monkeypatch, prefix, [packages]))
    assert cause.meaning.startswith("libcudart.so.11.0 is in no directory the loader searches")
    assert "nvidia-cuda-runtime-cuXX" in cause.fix


def _wrapper_lookup_failure(tmp_path, monkeypatch, module, line, message):
    """The Cause of a Python wrapper's own `raise OSError(message)` at `module`.py:`line`, after its
    ctypes.util.find_library found nothing, on a machine whose loader finds no system library."""
    prefix, packages = site(tmp_path)
    without_system_libraries(monkeypatch, tmp_path)
    frame = 'Traceback (most recent call last):\n  File "%s/%s.py", line %d, in <module>\n' % (packages, module, line)
    text = frame + "    raise OSError(%r)\nOSError: %s" % (message, message)
    return diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))


def test_a_library_a_wrapper_found_with_find_library_is_judged_as_a_missing_library(tmp_path, monkeypatch):
    """f90/Wave-U-Net-Pytorch#11: python-soundfile 0.10 (no bundled library) raises "OSError: sndfile library not
    found" (soundfile.py, after ctypes.util.find_library('sndfile')) on a machine without libsndfile."""
    cause = _wrapper_lookup_failure(tmp_path, monkeypatch, "soundfile", 142, "sndfile library not found")
    assert cause.meaning.startswith("libsndfile.so (libsndfile")
    assert "`apt install libsndfile1`" in cause.fix and "conda-forge `libsndfile`" in cause.fix


def test_a_capitalised_library_name_is_looked_up_as_find_library_would_and_the_os_package_found(tmp_path, monkeypatch):
    """n1teshy/py-listener#1: sounddevice raises "OSError: PortAudio library not found" (after
    ctypes.util.find_library('portaudio')) on Ubuntu without PortAudio; `sudo apt install portaudio19-dev` fixed it.
    A library no provider table names gets the OS's package search with its name."""
    cause = _wrapper_lookup_failure(tmp_path, monkeypatch, "sounddevice", 71, "PortAudio library not found")
    assert cause.meaning.startswith("libportaudio.so is in no directory the loader searches")
    assert "`apt-cache search portaudio` names it" in cause.fix
    assert "`conda search -c conda-forge portaudio`" in cause.fix
