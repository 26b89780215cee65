"""Tests for checks/machine/system.py's cgroup pids limit and torch.hub's cache directory. The cgroup trees are laid
out under tmp_path as the kernel shows them: /proc/self/cgroup lines `hierarchy-ID:controller-list:cgroup-path`
(man 7 cgroups), pids.max holding a number or `max`, pids.current a number (admin-guide/cgroup-v2.rst "PID",
cgroup-v1/pids.rst)."""

import os
import shutil
import stat
import sys

import fakes
import pytest

from checks.machine import system

V1_CGROUP = """12:pids:/docker/4f3c
11:memory:/docker/4f3c
1:name=systemd:/docker/4f3c
0::/
"""


def test_a_v2_limit_is_read_from_the_process_cgroup(tmp_path):
    proc, root = fakes.cgroup_tree(
        tmp_path,
        "0::/system.slice/docker-4f3c.scope\n",
        {"system.slice/docker-4f3c.scope/pids.max": "1024", "system.slice/docker-4f3c.scope/pids.current": "363"},
    )
    found = system.pids_limit(proc, root)
    assert (found.limit, found.current, found.version) == (1024, 363, 2)
    assert found.cgroup.endswith("docker-4f3c.scope")
    assert found.headroom() == 661


def test_a_v1_limit_is_read_from_the_pids_hierarchy(tmp_path):
    proc, root = fakes.cgroup_tree(
        tmp_path, V1_CGROUP, {"pids/docker/4f3c/pids.max": "5", "pids/docker/4f3c/pids.current": "2"}
    )
    found = system.pids_limit(proc, root)
    assert (found.limit, found.current, found.version) == (5, 2, 1)


def test_the_smallest_limit_up_to_the_root_bites(tmp_path):
    """A parent's pids.max limits its descendants too (cgroup-v2.rst: the hierarchical limit)."""
    proc, root = fakes.cgroup_tree(
        tmp_path,
        "0::/kubepods/pod1/ctr\n",
        {
            "kubepods/pod1/ctr/pids.max": "max",
            "kubepods/pod1/ctr/pids.current": "40",
            "kubepods/pod1/pids.max": "64",
            "kubepods/pod1/pids.current": "60",
        },
    )
    found = system.pids_limit(proc, root)
    assert (found.limit, found.current) == (64, 60)


def test_max_everywhere_is_no_limit(tmp_path):
    proc, root = fakes.cgroup_tree(
        tmp_path, "0::/user.slice\n", {"user.slice/pids.max": "max", "user.slice/pids.current": "9"}
    )
    assert system.pids_limit(proc, root) is None
    assert system.pids_limit(str(tmp_path / "absent"), root) is None


@pytest.mark.parametrize(
    "limit, current, threads, warned",
    [(5, 3, 2, True), (1024, 363, 384, True), (1024, 100, 8, False), (4096, 10, 64, False)],
)
def test_a_pids_limit_below_the_pools_is_a_warning(limit, current, threads, warned):
    """Two pools of OMP_NUM_THREADS (intra- and inter-op) plus PIDS_SPARE must fit in pids.max - pids.current; the
    report's host (384 CPUs, pids.max 1024) did not."""
    facts = fakes.healthy_system(pids=system.PidsLimit(limit, current, "/sys/fs/cgroup/x", 2), threads=threads)
    found = [p for p in system.problems(facts) if "pids.max" in p.what]
    assert bool(found) == warned
    if warned:
        assert "--pids-limit" in found[0].fix and "OMP_NUM_THREADS=" in found[0].fix


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({"TORCH_HOME": "/data/torch", "XDG_CACHE_HOME": "/xdg"}, "/data/torch"),
        ({"XDG_CACHE_HOME": "/xdg"}, "/xdg/torch"),
        ({"HOME": "/home/u"}, "/home/u/.cache/torch"),
    ],
)
def test_torch_home_follows_torch_hub(environ, expected, monkeypatch):
    """torch/hub.py _get_torch_home: TORCH_HOME, else $XDG_CACHE_HOME/torch, else ~/.cache/torch."""
    monkeypatch.setenv("HOME", environ.get("HOME", "/home/u"))
    assert system.torch_home(environ) == expected


def test_an_unwritable_torch_cache_names_torch_home():
    cache = system.CodeDir("torch.hub", "/home/u/.cache/torch", "TORCH_HOME", False, True, runs_code=False)
    (found,) = system.problems(fakes.healthy_system(code_dirs=(cache,)))
    assert "/home/u/.cache/torch is not writable" in found.what
    assert "export TORCH_HOME=" in found.fix and "exec mount" not in found.fix


def test_the_torch_cache_of_this_process_is_collected(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "t"))
    (cache,) = [c for c in system.code_dirs() if c.variable == "TORCH_HOME"]
    assert (cache.path, cache.writable, cache.runs_code) == (str(tmp_path / "t"), True, False)


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({"TORCH_EXTENSIONS_DIR": "/data/ext", "XDG_CACHE_HOME": "/xdg"}, "/data/ext"),
        ({"XDG_CACHE_HOME": "/xdg"}, "/xdg/torch_extensions"),
        ({}, "/home/u/.cache/torch_extensions"),
    ],
)
def test_the_extensions_root_follows_cpp_extension(environ, expected, monkeypatch):
    """torch/utils/cpp_extension.py _get_build_directory: TORCH_EXTENSIONS_DIR, else get_default_build_root():
    torch._appdirs.user_cache_dir('torch_extensions'), $XDG_CACHE_HOME or ~/.cache on Linux."""
    monkeypatch.setenv("HOME", "/home/u")
    monkeypatch.setattr(sys, "platform", "linux")
    assert system.extensions_root(environ) == expected


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give a folder away")
def test_another_user_s_extensions_root_is_named_with_its_owner(tmp_path, monkeypatch):
    """pytorch/pytorch#34238: a shared build root another user made (mode 755) is not writable for this one; the
    os line names its owner (this process's effective uid stands in as 1000)."""
    root = tmp_path / "torch_extensions"
    root.mkdir()
    os.chown(root, 65534, 65534)
    root.chmod(0o755)
    code = system.CodeDir("torch.utils.cpp_extension", str(root), "TORCH_EXTENSIONS_DIR", False, True)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    (found,) = system.problems(fakes.healthy_system(code_dirs=(code,)))
    assert "%s is not writable (owned by" % root in found.what and "drwxr-xr-x" in found.what
    assert "export TORCH_EXTENSIONS_DIR=" in found.fix


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX owners and modes")
def test_path_facts_look_at_the_nearest_existing_folder(tmp_path, monkeypatch):
    """A path not yet made is judged by the folder it would be created in: its owner, mode and mount flags; a
    read-only mount is statvfs's ST_RDONLY."""
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o750)
    found = system.path_facts(str(folder / "hub" / "model.bin"))
    assert found.nearest == str(folder) and found.mode == stat.filemode(os.stat(folder).st_mode) == "drwxr-x---"
    assert found.owner_uid == os.stat(folder).st_uid and found.uid == os.geteuid() and found.read_only is False
    flagged = os.statvfs(str(folder))
    monkeypatch.setattr(os, "statvfs", lambda path: type("V", (), {"f_flag": flagged.f_flag | os.ST_RDONLY})())
    assert system.path_facts(str(folder / "x")).read_only is True


def test_the_mount_of_a_path_is_the_longest_mount_point_on_top(tmp_path):
    """/proc/self/mountinfo lines as proc(5) shows them: a folder bind-mounted onto itself with noexec is a second
    mount of the same point, listed after the first; a space in a mount point is written `\\040`."""
    env = tmp_path / "my env"
    (env / "lib").mkdir(parents=True)
    point = str(env).replace(" ", "\\040")
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
        "30 22 0:26 / /dev/shm rw,nosuid,nodev shared:2 - tmpfs tmpfs rw\n"
        "41 22 259:1 %s %s rw,relatime - ext4 /dev/root rw\n"
        "42 41 259:1 %s %s rw,nosuid,noexec,relatime - ext4 /dev/root rw\n" % (point, point, point, point)
    )
    found = system.mount_of(str(env / "lib" / "libx.so"), mountinfo=str(mountinfo))
    assert found == system.Mount(point=str(env), options=("rw", "nosuid", "noexec", "relatime"), fstype="ext4")
    assert system.mount_of("/dev/shmem", mountinfo=str(mountinfo)).point == "/"
    assert system.mount_of("/x", mountinfo=str(tmp_path / "absent")) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's sun_path (108 bytes)")
@pytest.mark.parametrize("length", [75, 76])
def test_a_temporary_folder_too_long_for_multiprocessing_s_sockets_is_the_real_limit(tmp_path, length):
    """The verdict agrees with multiprocessing itself: a Listener (the socket that hands file descriptors between
    DataLoader workers and the main process) made under a temporary folder of that length binds or fails."""
    import subprocess

    base = str(tmp_path)
    folder = os.path.join(base, "t" * (length - len(base) - 1))
    os.makedirs(folder)
    assert len(os.fsencode(folder)) == length
    probe = "from multiprocessing.connection import Listener\nListener(family='AF_UNIX').close()\n"
    proc = subprocess.run([sys.executable, "-c", probe], env=dict(os.environ, TMPDIR=folder), capture_output=True)
    fails = b"AF_UNIX path too long" in proc.stderr
    assert fails == (system.socket_path_too_long(folder) is not None), proc.stderr
    assert system.socket_path_too_long(folder, "win32") is None


def test_a_temporary_folder_too_long_for_sockets_fails_the_os_line():
    """system.problems: a FAIL naming the folder, the byte counts and the fix (TMPDIR)."""
    deep = "/scratch/" + "x" * 80
    found = [p for p in system.problems(fakes.healthy_system(tempdir=deep)) if "AF_UNIX" in p.what]
    assert found and found[0].status == "FAIL" and "export TMPDIR=/tmp" in found[0].fix
    assert "%d bytes with pymp-*/listener-*, above sun_path's 108" % (len(deep) + 32) in found[0].what


# A seccomp filter that answers clone3 (435) with EPERM and allows every other call: the shape of Docker's default
# profile before 20.10.10 for a system call it did not know (seccomp(2): SECCOMP_RET_ERRNO; BPF over seccomp_data).
REFUSE_CLONE3 = r"""
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
int main(int argc, char **argv) {
  struct sock_filter code[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 435, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {sizeof(code) / sizeof(code[0]), code};
  if (argc < 2 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program))
    return 125;
  execvp(argv[1], argv + 1);
  return 127;
}
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.uname().machine != "x86_64" or not shutil.which("gcc"),
    reason="needs Linux x86-64 and gcc to build a seccomp filter",
)
def test_a_seccomp_filter_refusing_clone3_is_named_and_no_command_crashes(repo_root, tmp_path):
    """Under the filter glibc's pthread_create fails (this machine's glibc is 2.36): the probe says clone3 is
    refused, and `checks verify` prints one line naming the filter and the Docker fix, exit 2, never the internal
    error it raised before (`RuntimeError: can't start new thread` from its worker's reader thread)."""
    import subprocess

    source, runner = tmp_path / "refuse.c", tmp_path / "refuse"
    source.write_text(REFUSE_CLONE3)
    subprocess.run(["gcc", "-O1", "-o", str(runner), str(source)], check=True)
    assert system.clone3_refused() is False  # this process: no filter
    env = dict(os.environ, PYTHONPATH=str(repo_root), NO_COLOR="1")
    probe = "from checks.machine import system; print(system.clone3_refused(), system.seccomp_mode())"
    out = subprocess.run([str(runner), sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["True", "2"], out.stdout + out.stderr
    run = [str(runner), sys.executable, "-m", "checks", "verify", "--quick"]
    proc = subprocess.run(run, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert "cannot start a thread: this process may not start threads: clone3" in proc.stderr
    assert "docker run --security-opt seccomp=unconfined" in proc.stderr


def test_stale_extension_locks_are_the_old_lock_files_of_build_folders(tmp_path):
    """cpp_extension's FileBaton leaves `<build dir>/lock` when its build is killed; 2.0 builds in ROOT/NAME, later
    releases in ROOT/py311_cu121/NAME."""
    old = tmp_path / "py311_cpu" / "_pvcnn_backend" / "lock"
    old.parent.mkdir(parents=True)
    old.write_text("")
    os.utime(old, (1_000_000, 1_000_000))
    young = tmp_path / "fused" / "lock"  # a build running now
    young.parent.mkdir(parents=True)
    young.write_text("")
    found = system.stale_extension_locks(str(tmp_path), now=young.stat().st_mtime + 5)
    assert [p for p, _ in found] == [str(old)] and found[0][1] > 10**8


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the holder is read from Linux's /proc")
def test_a_held_rendezvous_port_names_the_process_listening_on_it():
    """accelerate#508: a second `accelerate launch` while the first still runs fails with "Address already in use" on
    29500. Here this test's own process listens on a port MASTER_PORT names; a free port has no holder."""
    import socket

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("0.0.0.0", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        held = system.port_holder({"MASTER_PORT": str(port)}, launches=[])
        assert (held.port, held.variable, held.pid) == (port, "MASTER_PORT", os.getpid())
        facts = system.System(
            shm_bytes=None,
            shm_free_bytes=None,
            nofile=None,
            tempdir="/tmp",
            disk_free_bytes=None,
            code_dirs=(),
            glibc=None,
            glibc_needed=None,
            hostname="node7",
            host_addresses=("10.0.0.5",),
            resolve_error=None,
            port_held=held,
        )
        (problem,) = [p for p in system.problems(facts) if "rendezvous port" in p.what]
        assert problem.status == "WARN" and "in use by pid %d" % os.getpid() in problem.what
        assert "`kill %d`" % os.getpid() in problem.fix and "--main_process_port" in problem.fix
    finally:
        listener.close()
    assert system.port_holder({"MASTER_PORT": str(port)}, launches=[]) is None
    assert system.rendezvous_port({"MASTER_PORT": "x"}) == (system.DEFAULT_PORT, "")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the holder is read from Linux's /proc")
def test_a_port_a_launch_script_gives_its_job_is_checked_too(tmp_path, monkeypatch):
    """Megatron-LM#343: pretrain_gpt_distributed.sh sets `MASTER_PORT=8514` and passes `--master_port $MASTER_PORT`;
    an earlier run still holds it. The script's port is read from its text (never run)."""
    import socket

    from checks.machine import project

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("0.0.0.0", 0))
    listener.listen()
    port = listener.getsockname()[1]
    (tmp_path / "pretrain_gpt_distributed.sh").write_text(
        "#!/bin/bash\nGPUS_PER_NODE=8\nMASTER_ADDR=localhost\nMASTER_PORT=%d\n"
        'DISTRIBUTED_ARGS="--nproc_per_node $GPUS_PER_NODE --master_port $MASTER_PORT"\n'
        "accelerate launch --main_process_port 29555 train.py\n" % port
    )
    assert project.launch_ports(str(tmp_path)) == [
        (port, "pretrain_gpt_distributed.sh:4"),
        (29555, "pretrain_gpt_distributed.sh:6"),
    ]
    monkeypatch.chdir(tmp_path)
    try:
        held = system.port_holder({"MASTER_PORT": "1"})  # MASTER_PORT=1 binds for root or not at all: never EADDRINUSE
        assert (held.port, held.variable, held.pid) == (port, "pretrain_gpt_distributed.sh:4", os.getpid())
    finally:
        listener.close()


def test_a_loopback_host_name_in_a_job_whose_master_is_another_host_warns(monkeypatch):
    """pytorch/pytorch#15592: two Ubuntu nodes whose /etc/hosts map each hostname to 127.0.1.1; rank 1's gloo binds
    to it and rank 0's node gets "Connection refused" on [127.0.1.1]:PORT. Fixed by GLOO_SOCKET_IFNAME."""
    from diagnosis_facts import make_system

    route = system.Route(master="10.77.0.1", address="10.77.0.1", interface="eth0", local="10.77.0.2")
    facts = make_system(hostname="node2", host_addresses=("127.0.1.1",), route=route)
    (found,) = [p for p in system.problems(facts) if "loopback only" in p.what]
    assert found.status == "WARN" and "MASTER_ADDR=10.77.0.1 is another host" in found.what
    assert found.fix.startswith("set GLOO_SOCKET_IFNAME=eth0 (and NCCL_SOCKET_IFNAME=eth0 for NCCL)")
    routed = make_system(hostname="node2", host_addresses=("10.77.0.2",), route=route)
    assert not [p for p in system.problems(routed) if "loopback only" in p.what]
    chosen = make_system(host_addresses=("127.0.1.1",), route=route, socket_ifname=("GLOO_SOCKET_IFNAME",))
    assert not [p for p in system.problems(chosen) if "loopback only" in p.what]
    assert system.master_route({"MASTER_ADDR": "127.0.0.1"}) is None and system.master_route({}) is None


def test_a_full_volume_mounted_in_the_working_directory_is_the_fullest_place(tmp_path, monkeypatch):
    """pytorch/pytorch#10577: torch.save into outputs/, a volume of its own that is full ("PytorchStreamWriter failed
    writing file data/0: file write failed"); freeing space fixed it. A folder of the working directory that is a
    mount point is one of the places a job writes to."""
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(system.os.path, "ismount", lambda path: str(path) == str(outputs))
    monkeypatch.setattr(system, "free_bytes", lambda path: 64 * 1024 if str(path) == str(outputs) else 50 << 30)
    assert system.fullest_disk({"TMPDIR": str(tmp_path), "HOME": str(tmp_path)}) == (str(outputs), 64 * 1024)
    from diagnosis_facts import make_system

    (found,) = [
        p
        for p in system.problems(make_system(tempdir=str(outputs), disk_free_bytes=64 * 1024))
        if "file system holding" in p.what
    ]
    assert found.what == "the file system holding %s is full (64.0 KiB free)" % outputs
    assert found.fix.startswith("free space on it (old checkpoints")


def test_a_full_home_disk_names_the_caches_on_it_and_their_variables(tmp_path, monkeypatch):
    """hiyouga/LLaMA-Factory#275: datasets wrote its Arrow cache under ~/.cache/huggingface on a small system disk
    ("OSError: [Errno 28] No space left on device") while the data disk had 200 GB; HF_DATASETS_CACHE on the data
    disk fixed it."""
    from diagnosis_facts import make_system

    home = tmp_path / "home"
    (home / ".cache" / "huggingface").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    (found,) = [
        p
        for p in system.problems(make_system(tempdir=str(home), disk_free_bytes=6 << 20))
        if "file system holding" in p.what
    ]
    assert found.fix.startswith("the caches under %s live on it: point them at a larger disk" % (home / ".cache"))
    assert "`export HF_HOME=/path/on/a/larger/disk/huggingface` (Hugging Face models and datasets; " in found.fix
    assert "HF_DATASETS_CACHE moves the datasets alone, now %s)" % (home / ".cache" / "huggingface") in found.fix
    assert "`export TORCH_HOME=/path/on/a/larger/disk/torch` (torch.hub and torchvision weights)" in found.fix


def test_temporary_files_go_to_the_variable_set_else_tmp_even_when_it_is_full(monkeypatch):
    """pytorch/pytorch#2046: TMPDIR unset and /tmp full, gcc fails with "No space left on device" in /tmp; tempfile's
    gettempdir() cannot write there and falls back to the working directory, so it would hide the full disk."""
    assert system.temp_root({"TMP": "/scratch/t", "TMPDIR": "/scratch/u"}) == "/scratch/u"
    assert system.temp_root({"TMP": "/scratch/t"}) == "/scratch/t"
    monkeypatch.setattr(system.tempfile, "gettempdir", lambda: os.getcwd())  # as when /tmp cannot be written
    assert system.temp_root({}) == "/tmp"


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX users only")
def test_temp_folders_named_after_a_package_that_this_user_cannot_write_are_listed(tmp_path, monkeypatch):
    """ray-project/ray#3899: another user started Ray first, so /tmp/ray is theirs (drwxr-xr-x) and this user's
    ray.init() fails with "Permission denied: '/tmp/ray/session_...'". Tests run as root, which writes anywhere:
    os.access answers as it would for another user. A folder ending with its owner's name (torchinductor_<user>)
    is per-user by design; one named after no imported package is not looked at."""
    import pwd

    me = pwd.getpwuid(os.getuid()).pw_name
    for name in ("ray", ".tensorboard-info", "torchinductor_%s" % me, "other", "rayon"):
        (tmp_path / name).mkdir()
    monkeypatch.setattr(system.os, "access", lambda path, mode: False)
    found = system.foreign_temp_entries(["ray", "tensorboard", "torchinductor", "numpy"], {"TMPDIR": str(tmp_path)})
    assert [(os.path.basename(e.path), e.package, e.uid, e.owner) for e in found] == [
        (".tensorboard-info", "tensorboard", os.getuid(), me),
        ("ray", "ray", os.getuid(), me),
    ]
    monkeypatch.undo()
    assert system.foreign_temp_entries(["ray"], {"TMPDIR": str(tmp_path)}) == []  # writable: nothing to say


def test_a_shared_memory_folder_this_user_cannot_write_is_a_fail_with_its_mode(tmp_path, monkeypatch):
    """NVIDIA/nccl#328: /dev/shm (a root-owned tmpfs, mode 0755) that the training account cannot write: "Call to
    shm_open failed : Permission denied", then "unhandled system error"; `chmod 777 /dev/shm` fixed it (a tmpfs for
    /dev/shm is 1777). Root writes anywhere: os.access answers as for another user."""
    shm = tmp_path / "shm"
    shm.mkdir(mode=0o755)
    shm.chmod(0o755)
    assert system.shared_memory_refused(str(shm)) is None or os.getuid() != 0
    monkeypatch.setattr(system.os, "access", lambda path, mode: False)
    assert system.shared_memory_refused(str(shm)) == (0o755, os.getuid())
    (found,) = [p for p in system.problems(fakes.healthy_system(shm_mode=(0o755, 0))) if "/dev/shm" in p.what]
    assert found.status == "FAIL" and found.what.startswith("/dev/shm (mode 0755, owner uid 0) is not writable")
    assert found.fix.endswith("`sudo chmod 1777 /dev/shm`")


def test_numba_s_cache_is_judged_where_no_in_tree_cache_can_be_written(tmp_path, monkeypatch):
    """jamiepine/voicebox#415: a non-root container user, root-owned site-packages and ~/.cache: librosa's
    cache=True functions fail with "cannot cache function '__o_fold': no locator available"; NUMBA_CACHE_DIR set to a
    writable folder fixed it. Root writes anywhere: os.access answers as for that user."""
    site = tmp_path / "site"
    (site / "numba").mkdir(parents=True)
    (site / "numba" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(site))
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert system.numba_cache_dirs(environ) == []  # site-packages writable: the in-tree __pycache__ takes it
    monkeypatch.setattr(system.os, "access", lambda path, mode: False)
    (found,) = system.numba_cache_dirs(environ)
    assert (found.path, found.variable, found.writable, found.runs_code) == (
        str(tmp_path / "cache" / "numba"),
        "NUMBA_CACHE_DIR",
        False,
        False,
    )
    (chosen,) = system.numba_cache_dirs(dict(environ, NUMBA_CACHE_DIR="/tmp/numba_cache"))
    assert chosen.path == "/tmp/numba_cache"
