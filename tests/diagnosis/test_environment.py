"""Tests for checks/diagnosis/environment.py: a variable the error quotes, an OS resource its errno names, and the build
toolchain. Each fact is laid out in tmp_path as the real artefact is, and each failure text is the one torch or the
loader prints (sources at each test)."""

import dataclasses
import shutil
import subprocess
import sys

import fakes
import pytest
from diagnosis_facts import facts_for, site

from checks import diagnosis
from checks.machine import system


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


def test_a_large_shared_memory_with_room_now_is_not_called_too_small(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])  # /dev/shm 16 GiB, all free
    text = "RuntimeError: unable to write to file </torch_18692_1954506624>: No space left on device (28)"
    cause = diagnosis.explain(text, found)
    assert cause.rule == "system" and "filled while it ran" in cause.meaning and "too small" not in cause.meaning
    assert "prefetch_factor" in cause.fix


# pip's text when a write fails (pip/_internal/commands/install.py, create_os_error_message)
PIP_ENOSPC = "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device"


def test_a_full_disk_among_the_places_pip_writes_is_named(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], tempdir=str(tmp_path / "tmp"), disk_free_bytes=4096)
    cause = diagnosis.explain(PIP_ENOSPC, found)
    assert cause.rule == "system" and cause.meaning == "a disk is full: %s has 4.0 KiB free" % (tmp_path / "tmp")
    assert "pip cache purge" in cause.fix


def test_no_space_where_every_place_has_room_now_says_so(tmp_path, monkeypatch):
    """The places pip writes (TMPDIR, its cache, the prefix) are read with statvfs; here each reads 50 GiB free."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], disk_free_bytes=50 << 30)
    found = dataclasses.replace(found, path_variables={"PIP_CACHE_DIR": str(tmp_path / "pip-cache")})
    monkeypatch.setattr(system, "free_bytes", lambda path: 50 << 30)
    cause = diagnosis.explain(PIP_ENOSPC, found)
    assert cause.rule == "system" and "none of the places it writes to is short of space now" in cause.meaning
    assert str(tmp_path / "pip-cache") in cause.fact and "TMPDIR" in cause.fix and "a disk is full" not in cause.meaning


def test_free_bytes_reads_the_nearest_existing_folder(tmp_path):
    assert system.free_bytes(str(tmp_path / "not" / "yet")) == shutil.disk_usage(str(tmp_path)).free


def test_too_many_open_files_names_the_limit(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], nofile=(1024, 524288))
    cause = diagnosis.explain("OSError: [Errno 24] Too many open files", found)
    assert cause.fact == "RLIMIT_NOFILE soft 1024, hard 524288" and "ulimit -n 524288" in cause.fix


def test_ancdata_is_the_open_file_limit_and_a_limit_at_its_hard_one_is_not_raised(tmp_path, monkeypatch):
    """multiprocessing.reduction.recvfds' `received 0 items of ancdata` (a DataLoader worker's tensor passed as a
    file descriptor, pytorch/pytorch#973's kind); soft == hard: only root can raise it, the sharing strategy is the
    fix this user can apply."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], nofile=(4096, 4096))
    cause = diagnosis.explain("RuntimeError: received 0 items of ancdata", found)
    assert cause.rule == "system" and "ulimit -n 4096" in cause.meaning
    assert cause.fix.startswith("call torch.multiprocessing.set_sharing_strategy('file_system')")


def test_a_noexec_code_directory(tmp_path, monkeypatch):
    """The loader's text for a shared object on a `noexec` mount."""
    prefix, packages = site(tmp_path)
    code = system.CodeDir("triton", "/tmp/triton", "TRITON_CACHE_DIR", True, False)
    found = facts_for(monkeypatch, prefix, [packages], code_dirs=(code,))
    text = "ImportError: /tmp/triton/abc/cuda_utils.so: failed to map segment from shared object"
    cause = diagnosis.explain(text, found)
    assert cause.fact == "/tmp/triton on a noexec mount" and "TRITON_CACHE_DIR" in cause.fix


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


# CPython's Modules/_threadmodule.c, libgomp's team.c, os.fork's OSError: all EAGAIN from clone()/fork()
@pytest.mark.parametrize(
    "text",
    [
        "RuntimeError: can't start new thread",
        "libgomp: Thread creation failed: Resource temporarily unavailable",
        "BlockingIOError: [Errno 11] Resource temporarily unavailable",
    ],
)
def test_a_thread_that_cannot_start_under_a_low_pids_limit(tmp_path, monkeypatch, text):
    """vast-ai/base-image#214: pids.max counts threads; torch's pools exhaust it and pthread_create fails."""
    prefix, packages = site(tmp_path)
    pids = system.PidsLimit(1024, 1020, "/sys/fs/cgroup/docker-4f3c.scope", 2)
    found = facts_for(monkeypatch, prefix, [packages], pids=pids, threads=384)
    cause = diagnosis.explain(text, found)
    assert cause.rule == "system" and "pids.max is 1024 (1020 in use)" in cause.meaning
    assert "--pids-limit=" in cause.fix and "OMP_NUM_THREADS=" in cause.fix
    assert cause.fact == "pids.max 1024, pids.current 1020 in /sys/fs/cgroup/docker-4f3c.scope"


def test_eagain_without_a_short_pids_limit_is_not_blamed_on_it(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    roomy = system.PidsLimit(100000, 50, "/sys/fs/cgroup/user.slice", 2)
    for pids in (None, roomy):
        found = facts_for(monkeypatch, prefix, [packages], pids=pids, threads=8)
        cause = diagnosis.explain("RuntimeError: can't start new thread", found)
        assert "pids" not in cause.meaning


@pytest.mark.parametrize(
    "text",
    [
        "OSError: [Errno 30] Read-only file system: '/home/u/.cache/torch/hub'",
        "PermissionError: [Errno 13] Permission denied: '/home/u/.cache/torch/hub/checkpoints'",
    ],
)
def test_an_unwritable_torch_cache_is_fixed_with_torch_home(tmp_path, monkeypatch, text):
    """twosixlabs/armory#779: torch.hub writes under ~/.cache/torch when neither TORCH_HOME nor XDG_CACHE_HOME is
    set (torch/hub.py _get_torch_home); HOME not writable."""
    prefix, packages = site(tmp_path)
    cache = system.CodeDir("torch.hub", "/home/u/.cache/torch", "TORCH_HOME", False, True, runs_code=False)
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages], code_dirs=(cache,)))
    assert cause.rule == "system" and "/home/u/.cache/torch" in cause.meaning
    assert cause.fix.startswith("set TORCH_HOME (or XDG_CACHE_HOME) to a writable directory")


# torch.utils.cpp_extension's messages (torch/utils/cpp_extension.py at v2.0.1: CUDA_MISMATCH_MESSAGE,
# verify_ninja_availability) and the ImportError setuptools 70 gives torch < 2.2 (pypa/setuptools#4385).
CUDA_MISMATCH_TEXT = (
    'Traceback (most recent call last):\n  File "setup.py", line 40, in <module>\nRuntimeError: \nThe detected '
    "CUDA version (12.2) mismatches the version that was used to compile\nPyTorch (11.3). Please make sure to use "
    "the same CUDA versions.\n"
)


SETUPTOOLS70_TEXT = (
    'File "/opt/conda/envs/colbert/lib/python3.8/site-packages/torch/utils/cpp_extension.py", line 25, in '
    "<module>\n    from pkg_resources import packaging  # type: ignore[attr-defined]\nImportError: cannot import "
    "name 'packaging' from 'pkg_resources' (/opt/conda/lib/python3.8/site-packages/pkg_resources/__init__.py)\n"
)


def test_cpp_extension_failures_are_judged_by_the_toolchain(tmp_path, monkeypatch):
    """setuptools 70 against a cpp_extension importing pkg_resources.packaging; a toolkit of another CUDA major;
    ninja missing: each named with its fix, from the facts (setuptools' dist-info, torch's source, PATH)."""
    prefix, packages = site(tmp_path, torch_version="2.0.1")
    (packages / "torch" / "utils").mkdir()
    (packages / "torch" / "utils" / "cpp_extension.py").write_text(
        "from pkg_resources import packaging  # type: ignore[attr-defined]\n"
    )
    (packages / "setuptools-70.0.0.dist-info").mkdir()
    (packages / "setuptools-70.0.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: setuptools\nVersion: 70.0.0\n"
    )
    monkeypatch.syspath_prepend(str(packages))
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain(SETUPTOOLS70_TEXT, found)
    assert cause.rule == "toolchain" and "setuptools<70" in cause.fix and cause.fact == "setuptools 70.0.0"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    for name in ("CUDA_HOME", "CUDA_PATH"):
        monkeypatch.delenv(name, raising=False)
    cause = diagnosis.explain(CUDA_MISMATCH_TEXT, found)
    assert cause.rule == "toolchain" and "CUDA 11.3 toolkit" in cause.fix and "12.2" in cause.meaning
    cause = diagnosis.explain("RuntimeError: Ninja is required to load C++ extensions", found)
    assert cause.rule == "toolchain" and "pip install ninja" in cause.fix and "not on PATH" in cause.meaning


def test_ninja_in_the_environment_off_path_is_an_environment_not_activated(tmp_path, monkeypatch):
    """pip's ninja wheel puts its binary in the environment's bin; a Python started by its path (no activation) runs
    cpp_extension with a PATH that lacks that folder."""
    prefix, packages = site(tmp_path)
    (prefix / "bin").mkdir()
    (prefix / "bin" / "ninja").write_text("#!/bin/sh\necho 1.11.1\n")
    found = facts_for(monkeypatch, prefix, [packages])  # sys.prefix is the environment's
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    cause = diagnosis.explain("RuntimeError: Ninja is required to load C++ extensions", found)
    assert cause.rule == "toolchain" and "not activated" in cause.meaning
    assert cause.fix == "activate the environment, or `export PATH=%s:$PATH`" % (prefix / "bin")


def _path_facts(path, **changes):
    """system.PathFacts of `path` as a user (uid 1000, `me`) who may not write a folder root owns."""
    base = dict(
        path=path, nearest="/data/models", read_only=False, writable=False, owner_uid=0, owner="root", mode="drwxr-xr-x"
    )
    return system.PathFacts(**dict(base, uid=1000, **changes))


# Python's OSError text for errno 13 and 30 (Objects/exceptions.c: `[Errno N] strerror: 'filename'`).
DENIED = "PermissionError: [Errno 13] Permission denied: '/data/models/hub/checkpoints/resnet50.pth'"
READ_ONLY = "OSError: [Errno 30] Read-only file system: '/data/models/hub/checkpoints/resnet50.pth'"


def test_a_folder_of_another_owner_is_named_with_the_variable_that_chose_it(tmp_path, monkeypatch):
    """A download into TORCH_HOME=/data/models that root owns: the path's owner and mode are the fact, and the fix
    points TORCH_HOME elsewhere, not a reinstall."""
    prefix, packages = site(tmp_path)
    found = dataclasses.replace(
        facts_for(monkeypatch, prefix, [packages]), path_variables={"TORCH_HOME": "/data/models"}
    )
    monkeypatch.setattr(system, "path_facts", lambda path: _path_facts(path))
    monkeypatch.setattr(system, "user_name", lambda uid: {0: "root", 1000: "me"}.get(uid))
    cause = diagnosis.explain(DENIED, found)
    assert cause.rule == "path" and "/data/models (drwxr-xr-x) belongs to root, not to this user (me)" in cause.meaning
    assert cause.fix.startswith("point TORCH_HOME (now /data/models) at a directory this user can write")
    assert cause.fact == "/data/models drwxr-xr-x, owner root, this user me" and "reinstall" not in cause.fix


def test_a_read_only_mount_or_a_folder_without_write_permission_has_its_own_fix(tmp_path, monkeypatch):
    """No variable chose the folder: a read-only file system wants a writable mount; the owner's own folder without
    write permission wants chmod; another owner's wants chown."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    monkeypatch.setattr(system, "user_name", lambda uid: {0: "root", 1000: "me"}.get(uid))
    for changes, text, meaning, fix in (
        (dict(read_only=True), READ_ONLY, "is on a read-only file system", "mount /data/models read-write"),
        (dict(owner_uid=1000, owner="me", mode="dr-xr-xr-x"), DENIED, "no write permission for its owner", "chmod u+w"),
        ({}, DENIED, "belongs to root, not to this user (me)", "`sudo chown -R me /data/models`"),
    ):
        monkeypatch.setattr(system, "path_facts", lambda path, c=changes: _path_facts(path, **c))
        cause = diagnosis.explain(text, found)
        assert cause.rule == "path" and meaning in cause.meaning and fix in cause.fix, cause


def test_a_path_this_user_may_write_or_a_frame_s_path_is_not_blamed(tmp_path, monkeypatch):
    """The facts decide: a writable path on a read-write mount is no cause; only the last line's paths count (a
    traceback's frames name source files)."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    monkeypatch.setattr(system, "path_facts", lambda path: _path_facts(path, writable=True))
    assert diagnosis.explain(DENIED, found).rule != "path"
    monkeypatch.setattr(system, "path_facts", lambda path: _path_facts(path))
    frames = 'Traceback (most recent call last):\n  File "/data/models/x.py", line 3, in <module>\nPermissionError: x\n'
    assert diagnosis.explain(frames, found).rule != "path"


@fakes.PRIVATE_MOUNTS
def test_a_real_read_only_mount_is_read_from_the_file_system(repo_root, tmp_path):
    """A folder bind-mounted read-only in a private mount namespace; writing there raises EROFS, and the judgement
    reads the mount's flags (statvfs ST_RDONLY) and names HF_HOME, which chose the folder."""
    folder = tmp_path / "cache"
    folder.mkdir()
    judge = (
        "from checks import diagnosis\n"
        "try:\n    open(%r, 'w')\nexcept OSError as exc:\n    text = '%%s: %%s' %% (type(exc).__name__, exc)\n"
        "cause = diagnosis.explain(text, diagnosis.gather())\nprint(cause.rule, cause.meaning, cause.fix, sep='|')\n"
        % str(folder / "model.bin")
    )
    proc = fakes.in_private_mount(
        fakes.BIND_REMOUNT % "ro", folder, judge, PYTHONPATH=str(repo_root), HF_HOME=str(folder)
    )
    rule, meaning, fix = proc.stdout.strip().split("|")
    assert rule == "path" and "is on a read-only file system" in meaning, proc.stdout + proc.stderr
    assert fix.startswith("point HF_HOME (now %s)" % folder)


# nvcc's refusal as zhanghang1989/PyTorch-Encoding#383 quotes it (CUDA 11.0's nvcc asked for compute_86, through
# cpp_extension's build), and cpp_extension's OSError when it found no toolkit (torch/utils/cpp_extension.py
# _join_cuda_home, 2.0 to 2.13; CSAILVision/gandissect#19).
UNSUPPORTED_ARCH_TEXT = (
    "subprocess.CalledProcessError: Command '['ninja', '-v']' returned non-zero exit status 1.\n"
    "nvcc fatal   : Unsupported gpu architecture 'compute_86'\nninja: build stopped: subcommand failed.\n"
)
CUDA_HOME_TEXT = "OSError: CUDA_HOME environment variable is not set. Please set it to your CUDA install root."
NVCC_110 = "Cuda compilation tools, release 11.0, V11.0.221"  # nvcc --version's release line (CUDA 11.0.3)
NVCC_117 = "Cuda compilation tools, release 11.7, V11.7.99"  # (CUDA 11.7.1)


def _nvcc(home, release_line):
    """A toolkit folder with bin/nvcc answering --version with `release_line` (and failing on anything else)."""
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "nvcc").write_text(
        "#!/bin/sh\ncase \"$*\" in *--version*) echo 'nvcc: NVIDIA (R) Cuda compiler driver'; echo '%s';; "
        "*) exit 1;; esac\n" % release_line
    )
    (home / "bin" / "nvcc").chmod(0o755)
    return str(home)


def test_cuda_extension_builds_judged_by_the_toolkit(tmp_path, monkeypatch):
    """nvcc refusing compute_86: the toolkit cpp_extension takes is CUDA 11.0 (release notes: sm_86 from 11.1), so
    the fix is an arch list it builds or a newer toolkit; a toolkit that knows sm_86 is not blamed. No toolkit
    found while CUDA 11.7 sits in a versioned folder: CUDA_HOME names it (torch's version.py says cu117)."""
    from checks.machine import toolchain

    prefix, packages = site(tmp_path, torch_version="2.0.1")
    (packages / "torch" / "version.py").write_text("__version__ = '2.0.1+cu117'\ncuda: Optional[str] = '11.7'\n")
    found = facts_for(monkeypatch, prefix, [packages])
    monkeypatch.setattr(toolchain, "TOOLKIT_PLACES", (str(tmp_path / "cuda-*"),))
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    monkeypatch.setenv("CUDA_HOME", _nvcc(tmp_path / "old" / "cuda-11.0", NVCC_110))
    cause = diagnosis.explain(UNSUPPORTED_ARCH_TEXT, found)
    assert cause.rule == "toolchain" and "sm_86" in cause.meaning and "CUDA 11.0" in cause.meaning
    assert 'TORCH_CUDA_ARCH_LIST="8.0"' in cause.fix and "CUDA 11.1 or newer" in cause.fix
    home = _nvcc(tmp_path / "cuda-11.7", NVCC_117)
    assert "export CUDA_HOME=%s" % home in diagnosis.explain(UNSUPPORTED_ARCH_TEXT, found).fix
    monkeypatch.setenv("CUDA_HOME", home)
    assert diagnosis.explain(UNSUPPORTED_ARCH_TEXT, found).rule != "toolchain"
    none = toolchain.CudaToolkit(home=None, how="none of $CUDA_HOME, $CUDA_PATH, nvcc on PATH, /usr/local/cuda")
    monkeypatch.setattr(toolchain, "cuda_toolkit_fact", lambda: none)
    cause = diagnosis.explain(CUDA_HOME_TEXT, found)
    assert cause.rule == "toolchain" and cause.fix.startswith("export CUDA_HOME=%s " % home)
    monkeypatch.setattr(toolchain, "TOOLKIT_PLACES", ())
    cause = diagnosis.explain(CUDA_HOME_TEXT, found)
    assert cause.rule == "toolchain" and "install the CUDA 11.7 toolkit" in cause.fix


@fakes.PRIVATE_MOUNTS
@pytest.mark.skipif(not shutil.which("gcc"), reason="needs gcc to build a shared library")
def test_a_library_on_a_real_noexec_mount_names_the_mount_point(repo_root, tmp_path):
    """py-faster-rcnn#162: `failed to map segment from shared object` for a library on a partition mounted noexec
    (glibc's dl-map-segments.h message for a refused mmap). A folder bind-mounted noexec in a private namespace: the
    fix names that mount point, read from /proc/self/mountinfo, with `mount -o remount,exec`."""
    folder = tmp_path / "ext"
    folder.mkdir()
    source = folder / "f.c"
    source.write_text("int f(void) { return 1; }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(folder / "libf.so"), str(source)], check=True)
    judge = (
        "import ctypes\nfrom checks import diagnosis\n"
        "try:\n    ctypes.CDLL(%r)\nexcept OSError as exc:\n    text = 'OSError: %%s' %% exc\n"
        "cause = diagnosis.explain(text, diagnosis.gather())\nprint(text, cause.meaning, cause.fix, sep='|')\n"
        % str(folder / "libf.so")
    )
    proc = fakes.in_private_mount(fakes.BIND_REMOUNT % "noexec", folder, judge, PYTHONPATH=str(repo_root))
    text, meaning, fix = proc.stdout.strip().split("|")
    assert "failed to map segment from shared object" in text, proc.stdout + proc.stderr
    assert meaning.startswith("%s lies on %s, a file system mounted noexec" % (folder / "libf.so", folder))
    assert fix.startswith("remount that file system with exec: `sudo mount -o remount,exec %s`" % folder)
    assert fix.endswith("or move %s to a file system mounted with exec" % folder)


# The texts each reader prints or raises about a value it rejects (sources: libgomp/env.c as torch 2.13's copy prints
# it; torch/utils/cpp_extension.py _get_cuda_arch_flags, 2.0 to 2.13; c10/cuda/CUDACachingAllocator.cpp, 2.0; the
# traceback of torch 2.0.1's torchaudio import under PYTHONOPTIMIZE=2, pytorch/pytorch#100680's class of error).
SETTING_FAILURES = [
    (
        {"OMP_NUM_THREADS": "all"},
        "\nlibgomp: Invalid value for environment variable OMP_NUM_THREADS\n",
        "OMP_NUM_THREADS",
    ),
    (
        {"TORCH_CUDA_ARCH_LIST": "8.6 12.0+PTX"},
        "ValueError: Unknown CUDA arch (12.0+PTX) or GPU not supported",
        "TORCH_CUDA_ARCH_LIST",
    ),
    (
        {"PYTHONOPTIMIZE": "2"},
        'Traceback (most recent call last):\n  File "{audio}/_stream_reader.py", line 3, in decorator\n'
        "    obj.__doc__ = obj.__doc__.format(**kwargs)\n"
        "                  ^^^^^^^^^^^^^^^^^^\n"
        "AttributeError: 'NoneType' object has no attribute 'format'\n",
        "PYTHONOPTIMIZE",
    ),
]


@pytest.mark.parametrize("environ, text, name", SETTING_FAILURES)
def test_a_failure_quoting_a_rejected_value_s_effect_is_traced_to_the_variable(
    tmp_path, monkeypatch, environ, text, name
):
    from checks.machine import variables

    prefix, packages = site(tmp_path)
    torch_dir = packages / "torch"
    (torch_dir / "utils").mkdir()
    (torch_dir / "utils" / "cpp_extension.py").write_text(
        "def _get_cuda_arch_flags(cflags=None):\n"
        "    named_arches = collections.OrderedDict([('Ampere', '8.0;8.6+PTX'), ('Hopper', '9.0+PTX')])\n"
        "    supported_arches = ['8.0', '8.6', '9.0']\n"
    )
    audio = packages / "torchaudio" / "io"
    audio.mkdir(parents=True)
    (audio.parent / "__init__.py").write_text("from torchaudio import io\n")
    (audio / "__init__.py").write_text("from ._stream_reader import StreamReader\n")
    info = packages / "torchaudio-2.0.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: torchaudio\nVersion: 2.0.2\n")
    (info / "RECORD").write_text("torchaudio/__init__.py,,\n")
    (audio / "_stream_reader.py").write_text(
        "def _format_audio_args(**kwargs):\n    def decorator(obj):\n"
        "        obj.__doc__ = obj.__doc__.format(**kwargs)\n        return obj\n    return decorator\n"
        "class StreamReader:\n    @_format_audio_args(x=1)\n    def add(self):\n        '''{x}'''\n"
    )
    found = dataclasses.replace(
        facts_for(monkeypatch, prefix, [packages], environ=environ),
        settings=variables.collect(environ, str(torch_dir), "2.0.1", [str(torch_dir), str(packages / "torchaudio")], 0),
    )
    assert [s.name for s in found.settings] == [name]
    cause = diagnosis.explain(text.replace("{audio}", str(audio)), found)
    assert cause.rule == "setting" and cause.fact.startswith(name + "=")
    assert ("unset %s" % name in cause.fix) or ("remove 12.0+PTX from TORCH_CUDA_ARCH_LIST" in cause.fix)


def test_a_failure_not_quoting_the_setting_is_not_blamed_on_it(tmp_path, monkeypatch):
    from checks.machine import variables

    prefix, packages = site(tmp_path)
    found = dataclasses.replace(
        facts_for(monkeypatch, prefix, [packages], environ={"OMP_NUM_THREADS": "all"}),
        settings=variables.collect({"OMP_NUM_THREADS": "all"}, None, None, (), 0),
    )
    cause = diagnosis.explain("RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)", found)
    assert cause.rule != "setting"


@pytest.mark.parametrize(
    "text",
    [
        # CPython's socket module, from a DataLoader worker's feeder (multiprocessing/resource_sharer.py's Listener)
        "OSError: AF_UNIX path too long",
        # torch's DataLoader when the batch that feeder could not send never arrives (_MultiProcessingDataLoaderIter)
        "RuntimeError: DataLoader timed out after 60 seconds",
    ],
)
def test_a_temporary_folder_too_long_for_sockets_is_the_cause(tmp_path, monkeypatch, text):
    """The temporary folder's length decides: multiprocessing's listener sockets under it exceed sun_path."""
    prefix, packages = site(tmp_path)
    deep = "/scratch/job-5521907/workdir/tmp/" + "x" * 60
    found = facts_for(monkeypatch, prefix, [packages], tempdir=deep)
    monkeypatch.setattr(sys, "platform", "linux")
    cause = diagnosis.explain(text, found)
    assert cause.rule == "system" and "too long for the AF_UNIX sockets" in cause.meaning, cause
    assert cause.fix.startswith("point TMPDIR at a short directory") and "reinstall" not in cause.fix
    short = facts_for(monkeypatch, prefix, [packages], tempdir="/tmp")
    assert diagnosis.explain(text, short).rule != "system"


def test_a_thread_refused_by_a_seccomp_filter_names_the_filter_before_the_pids_limit(tmp_path, monkeypatch):
    """CPython's `can't start new thread` where clone3 answers EPERM (system.clone3_refused, probed for real in
    tests/machine/test_system.py): the filter and Docker's fix, even beside a short pids limit."""
    prefix, packages = site(tmp_path)
    short = system.PidsLimit(limit=64, current=60, cgroup="/x", version=2)
    found = facts_for(monkeypatch, prefix, [packages], pids=short)
    monkeypatch.setattr(system, "clone3_refused", lambda: True)
    cause = diagnosis.explain("RuntimeError: can't start new thread", found)
    assert cause.rule == "system" and "refused with EPERM by a seccomp filter" in cause.meaning
    assert "20.10.10" in cause.fix and cause.fact == "clone3: EPERM under a seccomp filter"
    monkeypatch.setattr(system, "clone3_refused", lambda: False)
    assert "pids.max" in diagnosis.explain("RuntimeError: can't start new thread", found).meaning


# nvcc's #error for a host GCC newer than CUDA 11.7 takes (mlverse/torch#631 and its duplicates: the toolkit's
# crt/host_config.h line 132), and cpp_extension's own refusal (torch 2.0.1's _check_cuda_version, raised with this
# machine's g++ 12.2.0 and a CUDA 11.7 nvcc).
HOST_GNU_TEXT = (
    "/usr/local/cuda-11.7/bin/../targets/x86_64-linux/include/crt/host_config.h:132:2: error: #error -- unsupported "
    "GNU version! gcc versions later than 11 are not supported! The nvcc flag '-allow-unsupported-compiler' can be "
    "used to override this version check; however, using an unsupported host compiler may cause compilation failure "
    "or incorrect run time execution. Use at your own risk.\n"
)
HOST_BOUND_TEXT = (
    "RuntimeError: The current installed version of g++ (12.2.0) is greater than the maximum required version by "
    "CUDA 11.7. Please make sure to use an adequate version of g++ (>=6.0.0, <12.0)."
)


@pytest.mark.parametrize("text", [HOST_GNU_TEXT, HOST_BOUND_TEXT])
def test_a_host_compiler_the_toolkit_refuses_names_the_gcc_it_takes(tmp_path, monkeypatch, text):
    """The toolkit CUDA_HOME names (CUDA 11.7, its header's guard at 11) and $CC a GCC 12: the rule names both and
    GCC 11 for CC/CXX; where the facts here do not show it (CC a GCC 11 now), the message's own numbers decide."""
    prefix, packages = site(tmp_path, torch_version="2.0.1")
    found = facts_for(monkeypatch, prefix, [packages])
    home = tmp_path / "cuda-11.7"
    _nvcc(home, NVCC_117)
    (home / "include" / "crt").mkdir(parents=True)
    (home / "include" / "crt" / "host_config.h").write_text(
        "#if defined(__GNUC__)\n\n#if __GNUC__ > 11\n\n%s\n#endif /* __GNUC__ > 11 */\n"
        % HOST_GNU_TEXT.split(": ", 2)[2]
    )
    for name, banner in (
        ("gcc12", "g++ (Debian 12.2.0-14) 12.2.0"),
        ("gcc11", "g++ (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0"),
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "g++").write_text("#!/bin/sh\necho '%s'\necho 'Free Software Foundation'\n" % banner)
        (tmp_path / name / "g++").chmod(0o755)
    monkeypatch.setenv("CUDA_HOME", str(home))
    monkeypatch.setenv("CC", str(tmp_path / "gcc12" / "g++"))
    for variable in ("NVCC_PREPEND_FLAGS", "NVCC_APPEND_FLAGS", "NVCC_CCBIN"):
        monkeypatch.delenv(variable, raising=False)
    cause = diagnosis.explain(text, found)
    assert cause.rule == "host-compiler" and "GCC 12.2.0" in cause.meaning and "CUDA 11.7" in cause.meaning
    assert "CC=gcc-11 CXX=g++-11" in cause.fix
    monkeypatch.setenv("CC", str(tmp_path / "gcc11" / "g++"))
    cause = diagnosis.explain(text, found)
    assert cause.rule == "host-compiler" and "GCC up to 11" in cause.meaning and "CC=gcc-11" in cause.fix


@pytest.mark.parametrize(
    "text",
    [
        # setuptools' spawn (setuptools/_distutils/spawn.py) building an extension
        "error: command 'gcc' failed: No such file or directory",
        # inductor's cpp_builder when no C compiler is found
        "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:\nRuntimeError: Failed to find C "
        "compiler. Please specify via CC environment variable.",
    ],
)
def test_a_compiler_that_is_not_installed_is_named(tmp_path, monkeypatch, text):
    prefix, packages = site(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("CC", raising=False)
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "toolchain" and cause.meaning.startswith("no gcc is installed (not on PATH)")
    assert "build-essential" in cause.fix


def test_cc_naming_a_missing_compiler_is_the_cause(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("CC", "gcc-13")
    cause = diagnosis.explain(
        "error: command 'gcc-13' failed: No such file or directory", facts_for(monkeypatch, prefix, [packages])
    )
    assert cause.meaning.startswith("CC=gcc-13 names a compiler that is not installed") and "unset CC" in cause.fix


def test_a_compiler_on_path_is_not_blamed(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "gcc").write_text("#!/bin/sh\n")
    (tools / "gcc").chmod(0o755)
    monkeypatch.setenv("PATH", str(tools))
    cause = diagnosis.explain(
        "error: command 'gcc' failed: No such file or directory", facts_for(monkeypatch, prefix, [packages])
    )
    assert cause.rule != "toolchain"


def test_missing_python_headers_are_named(tmp_path, monkeypatch):
    """gcc's text when Python.h is not installed (Debian's python3.X-dev not installed)."""
    from checks.machine import toolchain

    prefix, packages = site(tmp_path)
    monkeypatch.setattr(toolchain, "python_headers", lambda: None)
    cause = diagnosis.explain(
        "/tmp/x/main.c:5:10: fatal error: Python.h: No such file or directory\ncompilation terminated.",
        facts_for(monkeypatch, prefix, [packages]),
    )
    assert cause.meaning.startswith("this Python's C headers are not installed") and "-dev" in cause.fix


def test_a_user_id_without_a_passwd_entry_names_user(tmp_path, monkeypatch):
    """pwd's KeyError through getpass.getuser() in inductor's cache path (a container run with an arbitrary UID)."""
    import pwd

    prefix, packages = site(tmp_path)
    uid = next(u for u in range(1000680000, 1000690000) if not _has_uid(pwd, u))
    cause = diagnosis.explain(
        "KeyError: 'getpwuid(): uid not found: %d'" % uid, facts_for(monkeypatch, prefix, [packages])
    )
    assert cause.rule == "user" and cause.meaning.startswith("user id %d has no entry" % uid)
    assert "export USER=" in cause.fix
    assert (
        diagnosis.explain("KeyError: 'getpwuid(): uid not found: 0'", facts_for(monkeypatch, prefix, [packages])).rule
        != "user"
    )


def _has_uid(pwd, uid):
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


# ENOMEM's texts: CPython's os.fork in multiprocessing's popen_fork (a DataLoader starting its workers), and torch's
# CPU allocator (c10/core/impl/alloc_cpu.cpp: "DefaultCPUAllocator: can't allocate memory: you tried to allocate N
# bytes. Error code 12 (Cannot allocate memory)").
FORK_ENOMEM = (
    '  File "/usr/lib/python3.10/multiprocessing/popen_fork.py", line 66, in _launch\n    self.pid = os.fork()\n'
    "OSError: [Errno 12] Cannot allocate memory"
)
ALLOC_ENOMEM = (
    "RuntimeError: [enforce fail at alloc_cpu.cpp:83] err == 0. DefaultCPUAllocator: can't allocate memory: you "
    "tried to allocate 8589934592 bytes. Error code 12 (Cannot allocate memory)"
)


def _commit(mode, available=20 << 30):
    return system.Commit(mode=mode, commit_limit=12 << 30, committed=11 << 30, available=available, total=24 << 30)


@pytest.mark.parametrize(
    "changes, commit, words",
    [
        ({"address_space": 8 << 30}, _commit(0), "ulimit -v 8388608 KiB"),
        ({}, _commit(2), "vm.overcommit_memory=2"),
        (
            {"memory": system.MemoryLimit(limit_bytes=4 << 30, cgroup="/sys/fs/cgroup/job", version=2)},
            _commit(0),
            "memory cgroup limit (4.0 GiB",
        ),
        ({}, _commit(0, available=1 << 30), "1.0 GiB of 24.0 GiB is available now"),
    ],
)
def test_no_memory_is_judged_by_the_limit_that_refuses_it(tmp_path, monkeypatch, changes, commit, words):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages], **changes)
    monkeypatch.setattr(system, "commit", lambda: commit)
    for text in (FORK_ENOMEM, ALLOC_ENOMEM):
        cause = diagnosis.explain(text, found)
        assert cause.rule == "system" and words in cause.meaning


def test_commit_reads_the_kernel_s_accounting(tmp_path):
    """/proc's files as Linux writes them (proc(5): meminfo in kB)."""
    (tmp_path / "sys" / "vm").mkdir(parents=True)
    (tmp_path / "sys" / "vm" / "overcommit_memory").write_text("2\n")
    (tmp_path / "meminfo").write_text(
        "MemTotal:       24576000 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\n"
        "CommitLimit:    12288000 kB\nCommitted_AS:   11000000 kB\nHugePages_Total:       0\n"
    )
    found = system.commit(str(tmp_path))
    assert found == system.Commit(
        mode=2,
        commit_limit=12288000 * 1024,
        committed=11000000 * 1024,
        available=20000000 * 1024,
        total=24576000 * 1024,
    )
    assert system.commit(str(tmp_path / "none")) is None


def test_a_question_on_stdin_that_nothing_answers_names_the_variable_read_before_it(tmp_path, monkeypatch):
    """dmlc/dgl#2129: dgl 0.4.3's backend/__init__.py asks "Backend choice (pytorch, mxnet or tensorflow): " with
    input() at import when DGLBACKEND is unset; a run without a terminal meets "EOFError: EOF when reading a line".
    The asking function's own reads of os.environ name the answer to give ahead of time."""
    prefix, packages = site(tmp_path)
    backend = packages / "dglish" / "backend"
    backend.mkdir(parents=True)
    (backend / "__init__.py").write_text(
        "import os\n\n\ndef get_preferred_backend():\n    if 'DGLBACKEND' in os.environ:\n"
        "        return os.getenv('DGLBACKEND')\n    print('DGL does not detect a valid backend option.')\n"
        "    return input('Backend choice (pytorch, mxnet or tensorflow): ').lower()\n"
    )
    text = (
        'Traceback (most recent call last):\n  File "%s", line 8, in get_preferred_backend\n'
        "    return input('Backend choice (pytorch, mxnet or tensorflow): ').lower()\nEOFError: EOF when reading a line"
        % (backend / "__init__.py")
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "stdin"
    assert 'asks a question on standard input at __init__.py:8 ("Backend choice (pytorch, mxnet or tensorflow):")' in (
        cause.meaning
    )
    assert cause.fix.startswith("give the answer ahead of time: set DGLBACKEND") and "`export DGLBACKEND=pytorch`" in (
        cause.fix
    )
