"""Tests for checks/machine/loader.py: the ELF dynamic section and ld.so(8)'s search order, on libraries gcc builds
here."""

import dataclasses
import pathlib
import shutil
import subprocess
import sys

import pytest

from checks.machine import loader

LINUX_GCC = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="needs Linux and gcc to build ELF files"
)


def build(tmp_path, name, *flags):
    """Compile a one-function shared library with the linker `flags`; return its path."""
    source = tmp_path / "lib.c"
    source.write_text('#include <stdio.h>\nint f(void) { return puts("x"); }\n')
    out = tmp_path / name
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(source), *flags], check=True)
    return str(out)


@LINUX_GCC
def test_dynamic_reads_soname_needed_run_paths_and_symbol_versions(tmp_path):
    """What the linker was told is what the reader finds: DT_SONAME, DT_NEEDED libc, DT_RUNPATH with $ORIGIN
    expanded (--enable-new-dtags), and libc's GLIBC_ version needs (puts is versioned)."""
    path = build(tmp_path, "libdemo.so.1", "-Wl,-soname,libdemo.so.1", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/deps")
    info = loader.dynamic(path)
    assert info.soname == "libdemo.so.1"
    assert "libc.so.6" in info.needed
    assert info.runpath == (str(tmp_path / "deps"),) and info.rpath == ()
    assert any(lib == "libc.so.6" and version.startswith("GLIBC_") for lib, version in info.versions)


@LINUX_GCC
def test_dynamic_tells_rpath_from_runpath(tmp_path):
    """--disable-new-dtags writes DT_RPATH, searched before LD_LIBRARY_PATH."""
    info = loader.dynamic(build(tmp_path, "libold.so", "-Wl,--disable-new-dtags,-rpath,/opt/x"))
    assert info.rpath == ("/opt/x",) and info.runpath == ()


def test_dynamic_of_a_file_that_is_not_elf_is_none(tmp_path):
    bogus = tmp_path / "libfake.so.8"
    bogus.write_bytes(b"not an ELF file at all" * 4)
    assert loader.dynamic(str(bogus)) is None
    assert loader.dynamic(str(tmp_path / "missing.so")) is None


@LINUX_GCC
@pytest.mark.parametrize(
    "dtags, first", [("--disable-new-dtags", "DT_RPATH"), ("--enable-new-dtags", "LD_LIBRARY_PATH")]
)
def test_search_order_is_ld_so_s(tmp_path, dtags, first):
    """ld.so(8): DT_RPATH (without DT_RUNPATH) comes before LD_LIBRARY_PATH, which comes before DT_RUNPATH; LD_PRELOAD
    before all."""
    own, other = tmp_path / "own", tmp_path / "other"
    own.mkdir()
    other.mkdir()
    for d in (own, other):
        (d / "libdep.so.2").write_bytes(b"\x7fELF stand-in")
    requester = build(tmp_path, "libreq.so", "-Wl,%s,-rpath,%s" % (dtags, own))
    found = loader.resolve("libdep.so.2", requester, environ={"LD_LIBRARY_PATH": str(other)}, cache={})
    assert found.via.startswith(first)
    assert found.path == str((own if first == "DT_RPATH" else other) / "libdep.so.2")
    preload = loader.resolve(
        "libdep.so.2", requester, environ={"LD_PRELOAD": str(other / "libdep.so.2"), "LD_LIBRARY_PATH": ""}, cache={}
    )
    assert preload.via == "LD_PRELOAD"


def test_a_library_nowhere_is_not_found(tmp_path):
    found = loader.resolve("libnowhere.so.9", None, environ={"LD_LIBRARY_PATH": str(tmp_path)}, cache={})
    assert found.path is None and found.via == "not found"


def test_names_in_a_failure_text():
    """Library names as loaders print them (torch's OSError, cuDNN's loader line, a Windows DLL)."""
    text = (
        "OSError: /x/nvidia/cusparse/lib/libcusparse.so.12: undefined symbol: __nvJitLinkAddData_12_1, version "
        "libnvJitLink.so.12\nCould not load library libcudnn_cnn_infer.so.8. Error: libnvrtc.so: cannot open "
        "shared object file\n[WinError 126] Error loading c10.dll"
    )
    assert loader.names_in(text) == [
        "libcusparse.so.12",
        "libnvJitLink.so.12",
        "libcudnn_cnn_infer.so.8",
        "libnvrtc.so",
        "c10.dll",
    ]


def test_version_of_a_library_from_its_file_name_or_its_wheel(tmp_path):
    real = tmp_path / "libcudnn.so.8.9.2"
    real.write_bytes(b"x")
    link = tmp_path / "libcudnn.so.8"
    link.symlink_to(real.name)
    assert loader.version_of(str(link)) == "8.9.2"
    lib = tmp_path / "site-packages" / "nvidia" / "cublas" / "lib"
    lib.mkdir(parents=True)
    (lib / "libcublas.so.12").write_bytes(b"x")
    (tmp_path / "site-packages" / "nvidia_cublas_cu12-12.1.3.1.dist-info").mkdir()
    assert loader.version_of(str(lib / "libcublas.so.12")) == "12.1.3.1"


def test_loaded_reads_maps_and_marks_the_environment_s_own(tmp_path):
    """/proc/self/maps lines as the kernel writes them (proc_pid_maps(5)): address, perms, offset, dev, inode,
    path."""
    env = tmp_path / "env"
    (env / "lib").mkdir(parents=True)
    maps = tmp_path / "maps"
    maps.write_text(
        "7f1c2a000000-7f1c2a200000 r-xp 00000000 08:01 1234 %s/lib/libcudart.so.11.0\n"
        "7f1c2b000000-7f1c2b200000 r-xp 00000000 08:01 1235 /usr/local/cuda-11.2/lib64/libcublasLt.so.11\n"
        "7f1c2c000000-7f1c2c200000 r-xp 00000000 08:01 1236 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
        "7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0 [stack]\n" % env
    )
    got = {lib.name: lib.own for lib in loader.loaded(str(env), None, str(maps))}
    assert got == {"libcudart.so.11.0": True, "libcublasLt.so.11": False}


def test_a_foreign_copy_is_one_that_differs_from_the_environment_s_own(tmp_path):
    """A library outside the environment is foreign only where the environment has its own, different file; the fix
    names the variable that put it first, else the directory the loader's cache gives."""
    env, other = tmp_path / "env", tmp_path / "cuda-11.2" / "lib64"
    for d in (env / "lib", other):
        d.mkdir(parents=True)
        (d / "libcublasLt.so.11").write_bytes(b"a copy in %s" % str(d).encode())
    taken = loader.Library("libcublasLt.so.11", str(other / "libcublasLt.so.11"), "LD_LIBRARY_PATH", own=False)
    foreign = loader.foreign_copy(taken, str(env))
    assert (
        foreign.own == str(env / "lib" / "libcublasLt.so.11")
        and foreign.fact() == "libcublasLt.so.11 via LD_LIBRARY_PATH"
    )
    assert foreign.fix().startswith("remove %s from LD_LIBRARY_PATH" % other)
    cached = dataclasses.replace(taken, via="ld.so.cache")
    assert "run `ldconfig` after removing that copy" in loader.foreign_copy(cached, str(env)).fix()
    assert loader.foreign_copy(dataclasses.replace(taken, own=True), str(env)) is None
    (env / "lib" / "libcublasLt.so.11").unlink()
    assert loader.foreign_copy(taken, str(env)) is None  # the environment has no copy of its own: nothing to prefer


def _dlopen_error(path):
    """The loader's own message for `path` (dlopen through ctypes), or None when it loads."""
    import ctypes

    try:
        ctypes.CDLL(path)
    except OSError as exc:
        return str(exc)
    return None


def build_32bit(tmp_path, name):
    """A 32-bit i386 shared object (gcc -m32 without the C runtime: only the compiler is needed), or skip."""
    source = tmp_path / "lib32.c"
    source.write_text("int f(void) { return 1; }\n")
    out = tmp_path / name
    done = subprocess.run(
        ["gcc", "-m32", "-shared", "-nostdlib", "-fPIC", "-o", str(out), str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    if done.returncode != 0:
        pytest.skip("gcc cannot build 32-bit objects here: %s" % done.stdout.decode(errors="replace")[-200:])
    return str(out)


@LINUX_GCC
@pytest.mark.parametrize(
    "flag, stack, executable", [("-Wl,-z,execstack", "RWE", True), ("-Wl,-z,noexecstack", "RW", False)]
)
def test_header_reads_the_stack_the_object_asks_for(tmp_path, flag, stack, executable):
    """ld's `-z execstack` sets PF_X in PT_GNU_STACK, `-z noexecstack` leaves it out (ld(1))."""
    head = loader.header(build(tmp_path, "libstack.so", flag))
    host = loader.host()
    assert (head.stack, head.executable_stack) == (stack, executable)
    assert (head.bits, head.machine) == (host.bits, host.machine) and not head.truncated


def test_an_object_without_pt_gnu_stack_asks_for_the_abi_default(tmp_path):
    """glibc's DEFAULT_STACK_PROT_PERMS (sysdeps/x86_64/stackinfo.h: executable; sysdeps/generic: not)."""
    x86 = loader.Header(path="a", size=1, elf=True, bits=64, machine=62, stack="")
    arm = dataclasses.replace(x86, machine=183)
    assert x86.executable_stack is True and arm.executable_stack is False
    assert dataclasses.replace(x86, stack=None).executable_stack is None


@LINUX_GCC
def test_a_truncated_copy_is_shorter_than_its_headers_and_the_loader_says_so(tmp_path):
    """The first 300 bytes of a library: the ELF header reads, the program headers do not; glibc's open_verify
    answers "cannot read file data" (elf/dl-load.c), a file shorter than the ELF header "file too short"."""
    whole = build(tmp_path, "libwhole.so")
    part = tmp_path / "libpart.so"
    part.write_bytes(pathlib.Path(whole).read_bytes()[:300])
    head = loader.header(str(part))
    assert head.elf and head.truncated and head.size == 300 and head.extent > 300
    assert loader.header(whole).extent <= loader.header(whole).size
    (error,) = loader.load_errors(_dlopen_error(str(part)))
    assert (error.kind, error.object, error.message) == (loader.SHORT, str(part), "cannot read file data")
    tiny = tmp_path / "libtiny.so"
    tiny.write_bytes(b"\x7fELF")
    assert loader.load_errors(_dlopen_error(str(tiny)))[0].kind == loader.SHORT
    lfs = tmp_path / "liblfs.so"
    # a Git LFS pointer (git-lfs's spec: version, oid, size lines), longer than an ELF header
    lfs.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 434184800\n" % ("ab" * 32))
    assert not loader.header(str(lfs)).elf
    assert loader.load_errors(_dlopen_error(str(lfs)))[0].kind == loader.HEADER


@LINUX_GCC
def test_another_class_or_machine_is_read_and_the_loader_refuses_it(tmp_path):
    """glibc's open_verify: another EI_CLASS gives "wrong ELF class: ELFCLASS32", another e_machine is skipped as
    if absent ("cannot open shared object file: No such file or directory")."""
    host = loader.host()
    narrow = loader.header(build_32bit(tmp_path, "lib32.so"))
    assert (narrow.bits, narrow.architecture()) == (32, "32-bit i386") and host.bits == 64
    assert loader.load_errors(_dlopen_error(narrow.path))[0].kind == loader.CLASS
    data = bytearray(pathlib.Path(build(tmp_path, "libarm.so")).read_bytes())
    data[18:20] = (183 if host.machine != 183 else 62).to_bytes(2, "little")
    other = tmp_path / "libother.so"
    other.write_bytes(bytes(data))
    assert loader.header(str(other)).machine != host.machine
    (error,) = loader.load_errors(_dlopen_error(str(other)))
    assert (error.kind, error.reason) == (loader.MISSING, "No such file or directory")


@pytest.mark.parametrize(
    "text, kind, obj, reason",
    [
        # conda-forge/pytorch-cpu-feedstock#350 (glibc 2.41)
        (
            "ImportError: libtorch_cpu.so: cannot enable executable stack as shared object requires: Invalid argument",
            loader.EXECSTACK,
            "libtorch_cpu.so",
            "Invalid argument",
        ),
        # pytorch/pytorch#936
        (
            "ImportError: libiomp5.so: cannot open shared object file: No such file or directory",
            loader.MISSING,
            "libiomp5.so",
            "No such file or directory",
        ),
        # pytorch/pytorch#1264
        (
            "ImportError: /a/site-packages/torch/lib/libTHC.so.1: cannot read file data",
            loader.SHORT,
            "/a/site-packages/torch/lib/libTHC.so.1",
            "",
        ),
        ("OSError: /x/lib.so: invalid ELF header", loader.HEADER, "/x/lib.so", ""),
        ("OSError: /x/lib.so: ELF file OS ABI invalid", loader.HEADER, "/x/lib.so", ""),
        ("ImportError: /x/_C.so: failed to map segment from shared object", loader.MAP, "/x/_C.so", ""),
        (
            "OSError: /x/libgomp.so.1: cannot allocate memory in static TLS block",
            loader.TLS,
            "/x/libgomp.so.1",
            "",
        ),
        (
            "ImportError: /x/libtorch_cpu.so: undefined symbol: iJIT_NotifyEvent",
            loader.SYMBOL,
            "/x/libtorch_cpu.so",
            "",
        ),
    ],
)
def test_load_errors_take_glibc_s_message_apart(text, kind, obj, reason):
    """dlerror()'s `OBJECT: MESSAGE[: strerror]` (glibc dlfcn/dlerror.c)."""
    (error,) = loader.load_errors(text)
    assert (error.kind, error.object, error.reason) == (kind, obj, reason)


def test_a_text_without_a_loader_message_has_no_load_errors():
    assert loader.load_errors("RuntimeError: CUDA error: out of memory") == []


@LINUX_GCC
def test_defines_reads_the_dynamic_symbol_table(tmp_path):
    """`f` is defined (nm -D: T), `puts` only referenced (U); a name stored as the tail of a longer one (the linker
    merges `puts` into nothing here, but `x_f`'s tail is `f`) is still found at its own entry."""
    source = tmp_path / "lib.c"
    source.write_text('#include <stdio.h>\nint f(void) { return puts("x"); }\nint x_f(void) { return 2; }\n')
    out = tmp_path / "libdefs.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(source)], check=True)
    assert loader.defines(str(out), ["f", "x_f", "puts", "absent"]) == {"f", "x_f"}
    listed = subprocess.run(["nm", "-D", "--defined-only", str(out)], capture_output=True, text=True)
    if listed.returncode == 0:  # binutils' own answer, where nm is installed
        assert {"f", "x_f"} <= {line.split()[-1] for line in listed.stdout.splitlines() if line.strip()}


def test_defines_of_a_file_that_is_not_elf_is_none(tmp_path):
    stub = tmp_path / "libcudnn.so.6"
    stub.write_bytes(b"stub shared object (not ELF)\n")
    assert loader.defines(str(stub), ["cudnnCreate"]) is None
    assert loader.defines(str(tmp_path / "missing.so"), ["cudnnCreate"]) is None


@LINUX_GCC
def test_section_names_are_read_from_the_section_header_table(tmp_path):
    """nvcc writes a module's device code to `.nv_fatbin` (torch 2.0.1+cu117's libtorch_cuda.so has `.nv_fatbin` and
    `.nvFatBinSegment`; its libc10.so has neither): a variable gcc places in a section of that name stands in."""
    from fakes import compile_library

    kernels = compile_library(
        tmp_path / "libkern.so", '__attribute__((section(".nv_fatbin"))) const char fatbin[8] = "x";\n'
    )
    plain = compile_library(tmp_path / "libplain.so")
    assert ".nv_fatbin" in loader.section_names(kernels) and ".text" in loader.section_names(kernels)
    assert ".nv_fatbin" not in loader.section_names(plain) and ".dynsym" in loader.section_names(plain)
    (tmp_path / "not.so").write_bytes(b"\x7fELF")
    assert loader.section_names(str(tmp_path / "not.so")) is None
    assert loader.section_names(str(tmp_path / "absent.so")) is None
