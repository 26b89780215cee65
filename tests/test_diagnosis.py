"""Tests for checks/diagnosis.py: a failure judged against the facts. Each fact is laid out in tmp_path as the real
artefact is (site-packages with dist-info, a library directory, /dev/shm's size), and each failure text is the one
torch or the loader prints (sources at each test)."""

import base64
import dataclasses
import hashlib
import shutil
import subprocess
import sys

import pytest

from checks import diagnosis
from checks.machine import provenance, requirements, system

GIB = 1 << 30


def make_system(**changes):
    base = system.System(
        shm_bytes=16 * GIB,
        shm_free_bytes=16 * GIB,
        nofile=(65536, 65536),
        tempdir="/tmp",
        disk_free_bytes=100 * GIB,
        code_dirs=(
            system.CodeDir("torch.compile (inductor)", "/tmp/torchinductor_me", "TORCHINDUCTOR_CACHE_DIR", True, True),
        ),
        glibc="2.36",
        glibc_needed=("2.28", "libtorch_cpu.so"),
        hostname="node7",
        host_addresses=("10.0.0.5",),
        resolve_error=None,
    )
    return dataclasses.replace(base, **changes)


def site(tmp_path, name="env", torch_version="2.0.1", requires=()):
    """An environment prefix with site-packages holding torch (pip metadata with `requires`); returns (prefix, site)."""
    prefix = tmp_path / name
    packages = prefix / "lib" / "python3.10" / "site-packages"
    (packages / "torch" / "lib").mkdir(parents=True)
    (packages / "torch" / "__init__.py").write_text("")
    info = packages / ("torch-%s.dist-info" % torch_version)
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: torch\nVersion: %s\n%s\n"
        % (torch_version, "".join("Requires-Dist: %s\n" % r for r in requires))
    )
    (info / "INSTALLER").write_text("pip\n")
    (info / "RECORD").write_text("torch/__init__.py,,\n")
    return prefix, packages


def facts_for(monkeypatch, prefix, path, environ=None, **system_changes):
    monkeypatch.setattr(sys, "prefix", str(prefix))
    environ = environ or {}
    prov = provenance.Provenance(
        interpreter=str(prefix / "bin" / "python"),
        prefix=str(prefix),
        environment=str(prefix),
        foreign_interpreter=False,
        packages={n: provenance.package(n, [str(p) for p in path], str(prefix), environ) for n in provenance.PACKAGES},
    )
    return diagnosis.Facts(
        provenance=prov,
        requirements=requirements.collect(prov, path=[str(p) for p in path]),
        loader_inputs={k: v for k, v in environ.items() if k.startswith("LD_")},
        system=make_system(**system_changes),
    )


def test_a_torch_from_the_user_site_is_the_cause_whatever_it_raises(tmp_path, monkeypatch):
    """pip install --user puts a torch in ~/.local/lib/pythonX.Y/site-packages, imported before the environment's
    (site.ENABLE_USER_SITE); the fix names the copy to remove, not the error's text."""
    prefix, packages = site(tmp_path)
    user = tmp_path / "home" / ".local" / "lib" / "python3.10" / "site-packages"
    (user / "torch").mkdir(parents=True)
    (user / "torch" / "__init__.py").write_text("")
    monkeypatch.setattr(provenance.site, "getusersitepackages", lambda: str(user))
    found = facts_for(monkeypatch, prefix, [user, packages])
    cause = diagnosis.explain("ImportError: libtorch_cpu.so: cannot open shared object file", found)
    assert cause.fact == "torch imported from user site-packages"
    assert "pip uninstall --user torch" in cause.fix and "PYTHONNOUSERSITE" in cause.fix


def test_an_unmet_requirement_is_named_with_the_exact_install(tmp_path, monkeypatch):
    """torch 2.4's Requires-Dist pins `sympy` and a too-old sympy breaks its import with an AttributeError raised in
    sympy's files: the unmet pin, from the metadata, decides."""
    prefix, packages = site(tmp_path, torch_version="2.5.1", requires=["sympy (==1.13.1)"])
    (packages / "sympy").mkdir()
    (packages / "sympy-1.12.dist-info").mkdir()
    found = facts_for(monkeypatch, prefix, [packages])
    text = (
        "Traceback (most recent call last):\n"
        '  File "%s/sympy/core/numbers.py", line 10, in <module>\n'
        "AttributeError: module 'sympy' has no attribute 'printing'\n" % packages
    )
    cause = diagnosis.explain(text, found)
    assert cause.meaning == "an unmet requirement: torch 2.5.1 requires sympy==1.13.1 (pip metadata); installed: 1.12"
    assert cause.fix == 'python -m pip install "sympy==1.13.1"'


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
    "text, fact",
    [
        # aten/src/ATen/MapAllocator.cpp's message ("unable to write to file <"), as a worker re-raises it
        (
            "RuntimeError: unable to write to file </torch_18692_1954506624>: No space left on device (28)",
            "/dev/shm 64.0 MiB",
        ),
        # torch/utils/data/dataloader.py's message for a worker killed by SIGBUS (libtorch_python's format string)
        ("RuntimeError: DataLoader worker (pid 4242) is killed by signal: Bus error. ", "/dev/shm 64.0 MiB"),
    ],
)
def test_shared_memory_too_small(tmp_path, monkeypatch, text, fact):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], shm_bytes=64 << 20, shm_free_bytes=0)
    cause = diagnosis.explain(text, found)
    assert cause.fact == fact and "--shm-size" in cause.fix


def test_too_many_open_files_names_the_limit(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], nofile=(1024, 524288))
    cause = diagnosis.explain("OSError: [Errno 24] Too many open files", found)
    assert cause.fact == "RLIMIT_NOFILE soft 1024, hard 524288" and "ulimit -n 524288" in cause.fix


def test_a_noexec_code_directory(tmp_path, monkeypatch):
    """The loader's text for a shared object on a `noexec` mount."""
    prefix, packages = site(tmp_path)
    code = system.CodeDir("triton", "/tmp/triton", "TRITON_CACHE_DIR", True, False)
    found = facts_for(monkeypatch, prefix, [packages], code_dirs=(code,))
    text = "ImportError: /tmp/triton/abc/cuda_utils.so: failed to map segment from shared object"
    cause = diagnosis.explain(text, found)
    assert cause.fact == "/tmp/triton on a noexec mount" and "TRITON_CACHE_DIR" in cause.fix


def test_torch_s_own_remedy_is_kept(tmp_path, monkeypatch):
    """A message of torch's that names its cause and a remedy (torch/utils/data/dataloader.py, 2.0.1 to 2.13)."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    text = (
        "RuntimeError: Too many open files. Communication with the workers is no longer possible. Please increase the"
        " limit using `ulimit -n` in the shell or change the sharing strategy by calling "
        "`torch.multiprocessing.set_sharing_strategy('file_system')` at the beginning of your code"
    )
    cause = diagnosis.explain(text, dataclasses.replace(found, system=make_system(nofile=None)))
    assert cause.fact == "torch's own message" and cause.fix.startswith("Please increase the limit using `ulimit -n`")


def test_an_unrecognised_error_says_so_and_never_says_reinstall(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain("RuntimeError: something nobody has seen before", found)
    assert not cause.recognised and cause.meaning.startswith("not recognised: RuntimeError: something nobody")
    assert "--json" in cause.fix and "reinstall" not in cause.fix


def test_an_error_quoting_a_variable_s_value_names_the_variable(tmp_path, monkeypatch):
    """c10's CachingAllocator refuses an option it does not know (`Unrecognized CachingAllocator option:
    expandable_segments`, torch 2.0.1; ZhengPeng7/BiRefNet#179): the option comes from PYTORCH_CUDA_ALLOC_CONF."""
    prefix, packages = site(tmp_path)
    found = dataclasses.replace(
        facts_for(monkeypatch, prefix, [packages]), variables={"PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True"}
    )
    cause = diagnosis.explain("RuntimeError: Unrecognized CachingAllocator option: expandable_segments", found)
    assert cause.rule == "variable" and cause.fact == "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True"
    assert cause.fix.startswith("remove expandable_segments from PYTORCH_CUDA_ALLOC_CONF")


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


def test_a_pre_release_in_torch_s_dependencies(tmp_path, monkeypatch):
    """mpmath 1.4.0a0 beside sympy (sympy/sympy#26273: `module 'mpmath' has no attribute 'rational'`); sympy's own
    pin is met by a pre-release, so the pre-release itself is the fact."""
    prefix, packages = site(tmp_path, requires=["sympy"])
    for name, version, requires in (("sympy", "1.12", ["mpmath (>=0.19)"]), ("mpmath", "1.4.0a0", [])):
        info = packages / ("%s-%s.dist-info" % (name, version))
        info.mkdir()
        lines = "".join("Requires-Dist: %s\n" % r for r in requires)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s\n" % (name, version, lines))
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain("AttributeError: module 'mpmath' has no attribute 'rational'", found)
    assert cause.fact == "mpmath 1.4.0a0 (pre-release)" and cause.fix.startswith('python -m pip install "mpmath<1.4"')


def test_torchaudio_from_another_conda_channel_than_torch(tmp_path, monkeypatch):
    """pytorch/audio#3335: torch from Anaconda's defaults (pkgs/main), torchaudio from the pytorch channel; the
    records are the ones conda writes (channel URL with the subdir)."""
    prefix, packages = site(tmp_path)
    meta = prefix / "conda-meta"
    meta.mkdir()
    (meta / "pytorch-2.0.1-cpu_py310h92724a6_0.json").write_text(
        '{"name": "pytorch", "version": "2.0.1", "channel": "https://repo.anaconda.com/pkgs/main/linux-64"}'
    )
    (meta / "torchaudio-2.0.2-py310_cpu.json").write_text(
        '{"name": "torchaudio", "version": "2.0.2", "channel": "https://conda.anaconda.org/pytorch/linux-64"}'
    )
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    found = facts_for(monkeypatch, prefix, [packages])
    text = (
        "OSError: %s/torchaudio/lib/libtorchaudio.so: undefined symbol: _ZNK5torch8autograd4Node4nameB5cxx11Ev"
        % packages
    )
    cause = diagnosis.explain(text, found)
    assert cause.fact == "torch from pkgs/main, torchaudio from pytorch" and "one channel" in cause.fix


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


@pytest.mark.parametrize(
    "text, variables, fix",
    [
        # mkl-service's refusal (pytorch/ort#102): the variable is the fact, the stable text's fix is the fix
        (
            "Error: mkl-service + Intel(R) MKL: MKL_THREADING_LAYER=INTEL is incompatible with libgomp.so.1 library.",
            {"MKL_THREADING_LAYER": "INTEL"},
            "MKL_THREADING_LAYER=GNU",
        ),
        # glibc's static TLS (AmpereComputingAI/ampere_model_library#161): preload the library it names
        (
            "OSError: /env/site-packages/torch/lib/libgomp-d22c30c5.so.1: cannot allocate memory in static TLS block",
            {},
            "LD_PRELOAD=/env/site-packages/torch/lib/libgomp-d22c30c5.so.1",
        ),
    ],
)
def test_stable_texts_keep_their_own_fix(tmp_path, monkeypatch, text, variables, fix):
    prefix, packages = site(tmp_path)
    found = dataclasses.replace(facts_for(monkeypatch, prefix, [packages]), variables=variables)
    assert fix in diagnosis.explain(text, found).fix


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/dev/shm is Linux's")
def test_no_dev_shm_at_all(tmp_path, monkeypatch):
    """A sandbox without /dev/shm (AWS Lambda's): DataLoader workers fail in multiprocessing; the missing mount,
    a fact, decides."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], shm_bytes=None, shm_free_bytes=None)
    text = (
        '  File "/usr/lib/python3.11/multiprocessing/synchronize.py", line 57, in __init__\n'
        "FileNotFoundError: [Errno 2] No such file or directory\n"
    )
    cause = diagnosis.explain(text, found)
    assert cause.fact == "/dev/shm missing" and "num_workers=0" in cause.fix
    assert any("no /dev/shm" in p.what for p in system.problems(found.system))


LINUX_GCC = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="needs Linux and gcc to build ELF files"
)


def gcc_library(out, *flags, source="int f(void) { return 1; }\n"):
    """Build a shared library at `out` with gcc and the linker `flags`; return its path as a str."""
    c = out.parent / (out.name + ".c")
    c.write_text(source)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(c), *flags], check=True)
    c.unlink()
    return str(out)


def record(packages, *relatives):
    """torch's RECORD lines (path,sha256=...,size) for files under `packages`, as pip writes them."""
    lines = []
    for relative in relatives:
        data = (packages / relative).read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append("%s,sha256=%s,%d\n" % (relative, digest, len(data)))
    (packages / "torch-2.0.1.dist-info" / "RECORD").write_text("".join(lines) + "torch/__init__.py,,\n")


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
