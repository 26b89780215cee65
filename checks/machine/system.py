"""What a training job needs from the OS beyond the GPU, read without importing torch: shared memory for DataLoader
workers, the open-file limit, free disk, the directories torch.compile and triton write code into and run it from,
the C library against what the installed build needs, and name resolution of this host.

Sources of the rules:
- DataLoader workers hand batches to the main process through shared memory (/dev/shm on Linux); PyTorch's README
  ("Docker Image"): the container default is not enough, use `--ipc=host` or `--shm-size`. Docker's default
  `--shm-size` is 64 MB (docs.docker.com, `docker run --shm-size`).
- torch.multiprocessing's default sharing strategy on Linux is `file_descriptor` (torch/multiprocessing/__init__.py):
  every shared tensor holds a descriptor, so a low `ulimit -n` fails with "Too many open files"; the documented
  remedies are a higher limit or `set_sharing_strategy("file_system")` (docs: torch.multiprocessing, "Sharing
  strategies").
- torch.compile's inductor writes and imports generated code under TORCHINDUCTOR_CACHE_DIR, default
  `<tempdir>/torchinductor_<user>` (torch/_inductor/runtime/cache_dir_utils.py in 2.13, codecache.py in 2.0.1);
  triton under TRITON_CACHE_DIR, default `~/.triton/cache` (triton/runtime/cache.py; compiler.py in triton 2.0).
  A directory on a `noexec` mount can be written but its shared objects cannot be mapped ("failed to map segment
  from shared object").
- The glibc a build needs is the newest `GLIBC_x.y` symbol version its libraries require (the ELF version-needs
  section, read by checks/machine/loader.py); a host glibc older than that fails at import with "version `GLIBC_x.y' not
  found".
- torch's own cache (torch.hub's models, checkpoints downloaded by torchvision's weights) is hub.get_dir():
  TORCH_HOME, else $XDG_CACHE_HOME/torch, else ~/.cache/torch (torch/hub.py, _get_torch_home, 2.0.1 to 2.13).
- The cgroup `pids` controller's pids.max limits the tasks of a cgroup and its descendants, and a task is a thread
  as well as a process (kernel docs, admin-guide/cgroup-v2.rst "PID": fork() or clone() fail with EAGAIN at the
  limit; cgroup-v1/pids.rst). Docker's and podman's `--pids-limit` set it. A training process starts an intra-op
  pool of OMP_NUM_THREADS threads (default: one per CPU; at::get_num_threads) and an inter-op pool of the same
  size (at::get_num_interop_threads), plus DataLoader workers (one process each, torch.set_num_threads(1) in
  torch/utils/data/_utils/worker.py) and their pin-memory and queue threads: PIDS_SPARE below.
- CFS bandwidth control caps the CPU time of a cgroup's tasks at `quota` per `period` (kernel docs,
  scheduler/sched-bwc.rst; cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us, -1 for none; cgroup v2 cpu.max
  "QUOTA PERIOD", "max" for none, admin-guide/cgroup-v2.rst "CPU"); Docker's `--cpus=N` sets quota = N x period.
  torch sizes its intra-op and inter-op pools by the CPUs the process may run on (OpenMP's omp_get_max_threads,
  at::get_num_threads), which a quota does not change, so more threads than quota / period CPUs are throttled
  (each parallel op waits for its slowest thread). The CPUs a quota allows are floor(quota / period), at least 1
  (as uber-go/automaxprocs rounds).
- Free inodes (statvfs f_favail of f_files): a file system with a fixed inode table (ext4, tmpfs `nr_inodes`, XFS's
  current maximum) fails every file or directory creation with ENOSPC once they are used up, however many bytes
  are free (man 2 open, ENOSPC; `df -i`); f_files 0 means the file system has no fixed table (btrfs), so it is
  not judged.
- InfiniBand and RoCE transports (NCCL's IB plugin, UCX) register memory with ibv_reg_mr, which pins its pages; the
  kernel counts pinned pages against RLIMIT_MEMLOCK (`ulimit -l`) and fails the registration with ENOMEM above it
  (drivers/infiniband/core/umem.c, ib_umem_get; man 3 ibv_reg_mr). NCCL's Troubleshooting guide ("Docker") starts
  containers with `--ulimit memlock=-1`. RDMA devices are listed in /sys/class/infiniband.
- The cgroup memory controller caps a cgroup's memory at memory.max (v2) / memory.limit_in_bytes (v1), for its
  descendants too; at the limit the kernel reclaims and then its OOM killer kills a process of the cgroup, counted
  as `oom_kill` in memory.events (v2, hierarchical) or memory.oom_control (v1, the victim's own cgroup, kernel 4.13+)
  (kernel docs, admin-guide/cgroup-v2.rst "Memory Interface Files", cgroup-v1/memory.rst). v1 shows no limit as
  PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB pages), v2 as "max". SLURM's task/cgroup plugin sets the
  job's limit from --mem / --mem-per-cpu (cgroup.conf(5), ConstrainRAMSpace); Docker's --memory sets it too.
- torch.distributed's c10d stores and gloo resolve this host's name (gethostname + getaddrinfo); a name that does
  not resolve fails rendezvous.
"""

import dataclasses
import glob
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
from typing import Optional, Tuple

from checks.machine import loader

GIB = 1 << 30
FULL_BYTES = 1 << 20  # less free than this: the disk is full (a compiler's or pip's next temporary file fails)
SHM_ENOUGH = 1 * GIB  # below this, a few workers with image batches fill it (Docker's 64 MB fails at once)
NOFILE_ENOUGH = 4096  # below this, the file_descriptor strategy runs out with a few workers and pinned batches
DISK_ENOUGH = 2 * GIB  # inductor's and triton's caches and a checkpoint of a small model
# `import torch` alone maps 0.6 GiB (2.13 CPU wheel) to 2.6 GiB (2.0.1 CUDA wheel) of address space (VmSize, measured
# here); initialising CUDA reserves far more address space than there is memory (its unified address space).
ADDRESS_SPACE_ENOUGH = 64 * GIB
# tasks beyond the two thread pools: the main thread, 8 DataLoader workers with a thread or two each, the pin-memory
# and queue-feeder threads, gloo's and the profiler's helpers
PIDS_SPARE = 24
# inductor writes a .py, a .cpp, a .so, a lock and a folder per compiled kernel, triton a few files per kernel: a
# model compiles tens to hundreds of kernels
INODES_ENOUGH = 10000


@dataclasses.dataclass(frozen=True)
class PidsLimit:
    """The cgroup `pids` limit this process runs under: `limit` (pids.max, the smallest on the way from this
    process's cgroup up to the root it sees; tasks = threads and processes), `current` (pids.current of that
    cgroup), `cgroup` (its directory), `version` (1 or 2)."""

    limit: int
    current: Optional[int]
    cgroup: str
    version: int

    def headroom(self):
        """Tasks that can still start (limit - current), or the limit when current is unknown."""
        return self.limit - (self.current or 0)


@dataclasses.dataclass(frozen=True)
class CpuQuota:
    """The CFS bandwidth limit this process runs under (the tightest from its cgroup up to the root it sees):
    `quota_us` of CPU time per `period_us` (microseconds), `cgroup` (the directory that sets it), `version` (1 or 2)."""

    quota_us: int
    period_us: int
    cgroup: str
    version: int

    def cpus(self):
        """The CPUs the quota allows, as a fraction (quota / period)."""
        return self.quota_us / self.period_us

    def threads(self):
        """Threads that fit the quota: floor(quota / period), at least 1."""
        return max(1, self.quota_us // self.period_us)


@dataclasses.dataclass(frozen=True)
class MemoryLimit:
    """The cgroup memory limit this process runs under (the smallest from its cgroup up to the root it sees):
    `limit_bytes` (memory.max / memory.limit_in_bytes), `cgroup` (the directory that sets it), `version` (1 or 2),
    `peak_bytes` (memory.peak / memory.max_usage_in_bytes there; None where the kernel has none), `oom_kills` (the
    OOM killer's kills counted from this process's cgroup up to that one, the largest count: memory.events oom_kill
    (v2), memory.oom_control oom_kill (v1); None where no file counts them), `oom_kills_at_start` (that count when
    this process first read it; None at the first reading)."""

    limit_bytes: int
    cgroup: str
    version: int
    peak_bytes: Optional[int] = None
    oom_kills: Optional[int] = None
    oom_kills_at_start: Optional[int] = None

    def new_oom_kills(self):
        """The OOM kills counted since this process first read the count (all of them where this is the first)."""
        if self.oom_kills is None:
            return 0
        return self.oom_kills - (self.oom_kills_at_start or 0)


@dataclasses.dataclass(frozen=True)
class Inodes:
    """Inodes of the file system under a place a job creates files in: purpose, path (as configured), variable
    (the one that chooses it, "" for none), mount (that file system's mount point), free (statvfs f_favail, for
    an unprivileged process), total (f_files; 0 where the file system has no fixed inode table), bytes_free."""

    purpose: str
    path: str
    variable: str
    mount: str
    free: int
    total: int
    bytes_free: int

    def exhausted(self):
        """True when the file system has a fixed inode table and fewer than INODES_ENOUGH of its inodes are free."""
        return self.total > 0 and self.free < INODES_ENOUGH


@dataclasses.dataclass(frozen=True)
class CodeDir:
    """A directory a compiler writes code into and runs it from: purpose, path, and whether it (or the nearest
    existing parent, for one not yet made) is writable and on a mount that allows execution (`noexec` not set)."""

    purpose: str
    path: str
    variable: str
    writable: bool
    executable: bool
    runs_code: bool = True  # False for a cache whose files are read, never mapped as code (torch.hub's)


@dataclasses.dataclass(frozen=True)
class System:
    """shm_bytes / shm_free_bytes: size and free space of /dev/shm (None where there is none: macOS, Windows);
    nofile: (soft, hard) open-file limit (None on Windows); tempdir and disk_free_bytes: the fullest of the places a
    job writes to (TMPDIR, HOME, the current directory) and its free space; code_dirs: torch.compile's and
    triton's; glibc: the host's (None off glibc); glibc_needed: the newest GLIBC_x.y torch's libraries need, and the
    library that needs it; hostname and host_addresses (empty when it does not resolve, with resolve_error)."""

    shm_bytes: Optional[int]
    shm_free_bytes: Optional[int]
    nofile: Optional[Tuple[int, int]]
    tempdir: str
    disk_free_bytes: Optional[int]
    code_dirs: Tuple[CodeDir, ...]
    glibc: Optional[str]
    glibc_needed: Optional[Tuple[str, str]]
    hostname: str
    host_addresses: Tuple[str, ...]
    resolve_error: Optional[str]
    address_space: Optional[int] = None  # RLIMIT_AS soft limit in bytes (`ulimit -v` x 1024); None: unlimited
    pids: Optional[PidsLimit] = None  # the cgroup pids limit; None: none set (pids.max "max") or no cgroup pids
    threads: int = 1  # threads a training process's pools start: OMP_NUM_THREADS, else the CPUs it may use
    cpu_quota: Optional[CpuQuota] = None  # the cgroup CPU bandwidth limit; None: none set
    inodes: Tuple[Inodes, ...] = ()  # one per file system of the code dirs, the temporary folder and the cwd
    memlock: Optional[Tuple[int, int]] = None  # (soft, hard) RLIMIT_MEMLOCK in bytes, -1 unlimited; None: unknown
    rdma_devices: Tuple[str, ...] = ()  # /sys/class/infiniband's devices (InfiniBand and RoCE adapters)
    memory: Optional[MemoryLimit] = None  # the cgroup memory limit; None: none set
    port_held: Optional["PortHolder"] = None  # the rendezvous port (MASTER_PORT, else 29500) when something holds it
    route: Optional["Route"] = None  # how this host reaches MASTER_ADDR when that is another host
    socket_ifname: Tuple[str, ...] = ()  # the GLOO_SOCKET_IFNAME / NCCL_SOCKET_IFNAME set
    shm_mode: Optional[Tuple[int, int]] = None  # (mode bits, owner uid) of /dev/shm when this user cannot write it

    def threads_needed(self):
        """Tasks a training job starts at least: two pools of `threads` (intra- and inter-op) and PIDS_SPARE."""
        return 2 * self.threads + PIDS_SPARE

    def to_dict(self):
        return dataclasses.asdict(self)


def _statvfs(path):
    try:
        return os.statvfs(path)
    except (OSError, AttributeError):
        return None


def shared_memory(path="/dev/shm"):
    """Return (size, free) in bytes of the shared-memory mount, or (None, None) where there is none."""
    st = _statvfs(path) if os.path.isdir(path) else None
    if st is None:
        return None, None
    return st.f_frsize * st.f_blocks, st.f_frsize * st.f_bavail


def shared_memory_refused(path="/dev/shm"):
    """(mode bits, owner uid) of the shared-memory folder when this user cannot create files in it (os.access W_OK
    and X_OK), else None (also where there is none). shm_open(3) creates its segments there, so NCCL's shared-memory
    transport ("Call to shm_open failed : Permission denied", NVIDIA/nccl#328), DataLoader workers and
    torch.multiprocessing fail; a tmpfs for /dev/shm is mode 1777 (world-writable, sticky)."""
    try:
        if not os.path.isdir(path) or os.access(path, os.W_OK | os.X_OK):
            return None
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mode & 0o7777, st.st_uid


def open_files():
    """Return the (soft, hard) RLIMIT_NOFILE, or None where `resource` does not exist (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinity = resource.RLIM_INFINITY
    return (soft if soft != infinity else -1, hard if hard != infinity else -1)


def _existing(path):
    while path and not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


@dataclasses.dataclass(frozen=True)
class PathFacts:
    """What decides whether this process may write a path a failure names, read with stat(2), statvfs(3) and
    access(2) only (nothing is opened or written): path as named; nearest: the path itself when it exists, else its
    nearest existing parent (where it would be created); read_only: that file system is mounted read-only
    (ST_RDONLY; None unknown); writable: access(nearest, W_OK) for this process; owner_uid / owner: nearest's owner
    (uid, and its name from the password database where it has one); mode: nearest's mode as `ls -l` shows it
    (`drwxr-xr-x`); uid: this process's effective uid."""

    path: str
    nearest: str
    read_only: Optional[bool]
    writable: bool
    owner_uid: Optional[int]
    owner: Optional[str]
    mode: Optional[str]
    uid: Optional[int]


def path_facts(path):
    """Return the PathFacts of `path` (absolute; from an untrusted failure text, so only looked at, never opened)."""
    import stat as stat_module

    nearest = _existing(path) or "/"
    st = _statvfs(nearest)
    flag = getattr(os, "ST_RDONLY", 0)
    try:
        info = os.stat(nearest)
        owner_uid, mode = info.st_uid, stat_module.filemode(info.st_mode)
    except OSError:
        owner_uid = mode = None
    return PathFacts(
        path=path,
        nearest=nearest,
        read_only=bool(st.f_flag & flag) if st is not None and flag else None,
        writable=os.access(nearest, os.W_OK),
        owner_uid=owner_uid,
        owner=user_name(owner_uid),
        mode=mode,
        uid=os.geteuid() if hasattr(os, "geteuid") else None,
    )


def free_bytes(path):
    """Free bytes for an unprivileged user on the file system of `path` (its nearest existing folder), or None."""
    try:
        return shutil.disk_usage(_existing(path) or "/").free
    except (OSError, TypeError, ValueError):
        return None


def user_name(uid):
    """The name of `uid` in the password database, or None."""
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError, TypeError, OverflowError):
        return None


def code_dir(purpose, variable, default):
    """Return the CodeDir of a compiler cache: `variable`'s value, else `default`."""
    path = os.environ.get(variable) or default
    base = _existing(path)
    st = _statvfs(base)
    noexec = getattr(os, "ST_NOEXEC", 0)
    executable = st is not None and not (noexec and st.f_flag & noexec)
    return CodeDir(purpose, path, variable, bool(base) and os.access(base, os.W_OK | os.X_OK), executable)


def torch_home(environ=None):
    """Return torch.hub.get_dir()'s parent without importing torch: TORCH_HOME, else $XDG_CACHE_HOME/torch, else
    ~/.cache/torch, `~` expanded (torch/hub.py, _get_torch_home)."""
    environ = os.environ if environ is None else environ
    cache = environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return os.path.expanduser(environ.get("TORCH_HOME") or os.path.join(cache, "torch"))


def _read_int(path):
    """The integer in a cgroup file; None for "max", a missing or unreadable file."""
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read().strip()
    except (OSError, UnicodeError):
        return None
    return int(text) if text.isdigit() else None


def _cgroup_places(proc, controller, v1_bases, v2_bases):
    """Return (version, base, path) for each hierarchy of /proc/self/cgroup (`proc`) that can hold `controller`'s
    limit: a v1 line listing it (at each of v1_bases(its controller list)) or the v2 line `0::PATH` (at each of
    v2_bases) (man 7 cgroups); None where `proc` cannot be read."""
    try:
        with open(proc, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeError):
        return None
    places = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if controller in controllers.split(","):
            places += [(1, base, path) for base in v1_bases(controllers)]
        elif hierarchy == "0" and controllers == "":
            places += [(2, base, path) for base in v2_bases]
    return places


def _cgroup_dirs(base, path):
    """Yield the cgroup directory of `path` under `base`, then each parent up to `base`: a limit set on a cgroup
    bounds its descendants too."""
    base = os.path.normpath(base)
    directory = os.path.normpath(os.path.join(base, path.lstrip("/")))
    while directory.startswith(base):
        yield directory
        if directory == base:
            break
        directory = os.path.dirname(directory)


def pids_limit(proc="/proc/self/cgroup", root="/sys/fs/cgroup"):
    """Return the PidsLimit of this process, or None when no pids.max on its way to the root is set.

    /proc/self/cgroup has one `hierarchy-ID:controller-list:cgroup-path` line per hierarchy (man 7 cgroups); the
    v1 pids hierarchy's line names `pids` and is mounted at ROOT/pids, the v2 line is `0::PATH` under ROOT (or
    ROOT/unified on a hybrid host). A limit applies to a cgroup's descendants too, so the smallest pids.max from
    the process's cgroup up to ROOT is the one that bites."""
    places = _cgroup_places(proc, "pids", lambda _: [os.path.join(root, "pids")], [root, os.path.join(root, "unified")])
    best = None
    for version, base, path in places or ():
        for directory in _cgroup_dirs(base, path):
            limit = _read_int(os.path.join(directory, "pids.max"))
            if limit is not None and (best is None or limit < best.limit):
                best = PidsLimit(limit, _read_int(os.path.join(directory, "pids.current")), directory, version)
    return best


def _cpu_limit(directory, version):
    """(quota, period) in microseconds set in one cgroup directory, or None when none is set there."""
    if version == 1:
        quota, period = _read_int(os.path.join(directory, "cpu.cfs_quota_us")), None
        if quota:
            period = _read_int(os.path.join(directory, "cpu.cfs_period_us"))
        return (quota, period) if quota and period else None
    try:
        with open(os.path.join(directory, "cpu.max"), encoding="ascii") as handle:
            words = handle.read().split()
    except (OSError, UnicodeError):
        return None
    if len(words) == 2 and words[0].isdigit() and words[1].isdigit() and int(words[0]) and int(words[1]):
        return int(words[0]), int(words[1])
    return None


def cpu_quota(proc="/proc/self/cgroup", root="/sys/fs/cgroup"):
    """Return the CpuQuota of this process, or None when no cgroup on its way to the root sets one.

    The v1 line of /proc/self/cgroup names `cpu` among its controllers and is mounted at ROOT/<controllers> (often
    also linked as ROOT/cpu); the v2 line is `0::PATH` under ROOT (man 7 cgroups). A parent's quota bounds its
    descendants, so the smallest quota / period on the way up is the one that bites."""
    v1 = lambda controllers: [os.path.join(root, controllers), os.path.join(root, "cpu")]  # noqa: E731
    best, seen = None, set()
    for version, base, path in _cgroup_places(proc, "cpu", v1, [root]) or ():
        for directory in _cgroup_dirs(base, path):
            if os.path.realpath(directory) not in seen:
                seen.add(os.path.realpath(directory))
                limit = _cpu_limit(directory, version)
                if limit is not None and (best is None or limit[0] / limit[1] < best.cpus()):
                    best = CpuQuota(limit[0], limit[1], directory, version)
    return best


NO_MEMORY_LIMIT = 1 << 62  # v1 shows no limit as PAGE_COUNTER_MAX pages, about 2**63 bytes
_FIRST_OOM_KILLS = {}  # cgroup directory -> its OOM kill count when this process first read it


def _oom_kills(directory, version):
    """The `oom_kill` count of one cgroup directory (memory.events for v2, memory.oom_control for v1), or None."""
    name = "memory.events" if version == 2 else "memory.oom_control"
    try:
        with open(os.path.join(directory, name), encoding="ascii") as handle:
            for line in handle:
                words = line.split()
                if len(words) == 2 and words[0] == "oom_kill" and words[1].isdigit():
                    return int(words[1])
    except (OSError, UnicodeError):
        pass
    return None


def memory_limit(proc="/proc/self/cgroup", root="/sys/fs/cgroup"):
    """Return the MemoryLimit of this process, or None when no cgroup on its way to the root sets one.

    The v1 line of /proc/self/cgroup names `memory` and is mounted at ROOT/memory; the v2 line is `0::PATH` under
    ROOT (or ROOT/unified on a hybrid host) (man 7 cgroups). The smallest limit on the way up is the one that bites;
    the OOM kills are read from every cgroup between this process's and that one (module docstring)."""
    v1 = lambda _: [os.path.join(root, "memory")]  # noqa: E731
    best, kills = None, {}
    for version, base, path in _cgroup_places(proc, "memory", v1, [root, os.path.join(root, "unified")]) or ():
        for directory in _cgroup_dirs(base, path):
            kills[directory] = _oom_kills(directory, version)
            limit = _read_int(os.path.join(directory, "memory.max" if version == 2 else "memory.limit_in_bytes"))
            if limit is not None and limit < NO_MEMORY_LIMIT and (best is None or limit < best.limit_bytes):
                peak = _read_int(
                    os.path.join(directory, "memory.peak" if version == 2 else "memory.max_usage_in_bytes")
                )
                best = MemoryLimit(limit, directory, version, peak)
    if best is None:
        return None
    counted = [n for d, n in kills.items() if n is not None and (d == best.cgroup or d.startswith(best.cgroup + "/"))]
    count = max(counted) if counted else None
    before = _FIRST_OOM_KILLS.get(best.cgroup)
    if count is not None and before is None:
        _FIRST_OOM_KILLS[best.cgroup] = count
    return dataclasses.replace(best, oom_kills=count, oom_kills_at_start=before)


def mount_point(path):
    """The mount point of the file system holding `path` (or its nearest existing parent): the topmost parent on
    the same device."""
    path = os.path.abspath(_existing(path) or "/")
    try:
        device = os.stat(path).st_dev
        while path != os.path.dirname(path) and os.stat(os.path.dirname(path)).st_dev == device:
            path = os.path.dirname(path)
    except OSError:
        pass
    return path


def inodes(purpose, path, variable=""):
    """Return the Inodes of the file system holding `path` (or its nearest existing parent), or None when statvfs
    fails there."""
    st = _statvfs(_existing(path) or "/")
    if st is None:
        return None
    return Inodes(purpose, path, variable, mount_point(path), st.f_favail, st.f_files, st.f_frsize * st.f_bavail)


def inodes_of_places(code, tempdir):
    """The Inodes of the code dirs, the temporary folder and the current directory, one per file system (the first
    place on it: a code dir names the variable that moves it)."""
    found, devices = [], set()
    places = [(c.purpose, c.path, c.variable) for c in code] + [("temporary files", tempdir, "TMPDIR")]
    try:
        places.append(("the current directory", os.getcwd(), ""))
    except OSError:  # the current directory was removed
        pass
    for purpose, path, variable in places:
        try:
            device = os.stat(_existing(path) or "/").st_dev
        except OSError:
            continue
        if device in devices:
            continue
        devices.add(device)
        fact = inodes(purpose, path, variable)
        if fact is not None:
            found.append(fact)
    return tuple(found)


def locked_memory():
    """Return the (soft, hard) RLIMIT_MEMLOCK in bytes (`ulimit -l` shows KiB), -1 for unlimited; None where
    `resource` does not exist."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    except (ImportError, AttributeError, ValueError, OSError):
        return None
    infinity = resource.RLIM_INFINITY
    return (soft if soft != infinity else -1, hard if hard != infinity else -1)


def rdma_devices(root="/sys/class/infiniband"):
    """The RDMA devices the kernel registered (mlx5_0, ...), sorted; () where there are none."""
    try:
        return tuple(sorted(os.listdir(root)))
    except OSError:
        return ()


def pool_threads(environ=None):
    """Threads torch's intra-op pool starts: OMP_NUM_THREADS when set, else the CPUs this process may run on."""
    environ = os.environ if environ is None else environ
    value = environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def code_dirs():
    """Return the CodeDirs of torch.compile's inductor, of triton, of torch.utils.cpp_extension's builds
    (extensions_root()) and of torch.hub's cache (torch_home(); its files are read, not mapped, so only writability
    counts); see the module docstring for the defaults."""
    try:
        import getpass

        user = getpass.getuser()
    except (KeyError, ImportError, OSError):
        user = "uid_%s" % getattr(os, "getuid", lambda: "unknown")()
    user = re.sub(r'[\\/:*?"<>|]', "_", user)
    return tuple(numba_cache_dirs()) + (
        code_dir(
            "torch.compile (inductor)",
            "TORCHINDUCTOR_CACHE_DIR",
            os.path.join(tempfile.gettempdir(), "torchinductor_" + user),
        ),
        code_dir("triton", "TRITON_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".triton", "cache")),
        code_dir("torch.utils.cpp_extension", "TORCH_EXTENSIONS_DIR", extensions_root()),
        dataclasses.replace(
            code_dir("torch.hub", "TORCH_HOME", torch_home()),
            executable=True,
            runs_code=False,
        ),
    )


def numba_cache_dirs(environ=None):
    """The CodeDir numba caches `@jit(cache=True)` functions in (librosa's, umap's), where one can be judged: none
    when numba is not installed. numba/core/caching.py tries NUMBA_CACHE_DIR when set (_UserProvidedCacheLocator);
    else the `__pycache__` beside the function's source (_InTreeCacheLocator), which for installed packages works
    where numba's own site-packages folder is writable; else the user-wide cache, appdirs' user_cache_dir("numba")
    ($XDG_CACHE_HOME/numba or ~/.cache/numba on Linux; _UserWideCacheLocator). With none writable, the first call
    raises "cannot cache function ...: no locator available for file" (jamiepine/voicebox#415: a non-root container
    user, root-owned site-packages and ~/.cache). A list of at most one CodeDir; nothing is imported."""
    import importlib.machinery

    environ = os.environ if environ is None else environ
    try:
        spec = importlib.machinery.PathFinder.find_spec("numba")
    except (ImportError, ValueError):
        spec = None
    folders = list(getattr(spec, "submodule_search_locations", None) or ())
    if not folders:
        return []
    purpose = "numba (functions compiled with cache=True)"
    if not environ.get("NUMBA_CACHE_DIR"):
        if os.access(os.path.dirname(folders[0]), os.W_OK | os.X_OK):
            return []  # the packages' own __pycache__ folders take the cache
        cache = environ.get("XDG_CACHE_HOME") or os.path.expanduser(os.path.join("~", ".cache"))
        return [
            dataclasses.replace(code_dir(purpose, "NUMBA_CACHE_DIR", os.path.join(cache, "numba")), runs_code=False)
        ]
    return [dataclasses.replace(code_dir(purpose, "NUMBA_CACHE_DIR", environ["NUMBA_CACHE_DIR"]), runs_code=False)]


def extensions_root(environ=None):
    """Return the folder torch.utils.cpp_extension builds and loads extensions in, without importing torch:
    TORCH_EXTENSIONS_DIR, else get_default_build_root(), torch._appdirs.user_cache_dir('torch_extensions'):
    $XDG_CACHE_HOME/torch_extensions or ~/.cache/torch_extensions on Linux, ~/Library/Caches/torch_extensions on
    macOS (torch/utils/cpp_extension.py, 2.0.1 to 2.13; a per-Python-and-CUDA folder such as py311_cu117 is made
    inside it)."""
    environ = os.environ if environ is None else environ
    if environ.get("TORCH_EXTENSIONS_DIR"):
        return environ["TORCH_EXTENSIONS_DIR"]
    if sys.platform == "darwin":
        return os.path.expanduser(os.path.join("~", "Library", "Caches", "torch_extensions"))
    return os.path.join(
        environ.get("XDG_CACHE_HOME") or os.path.expanduser(os.path.join("~", ".cache")), "torch_extensions"
    )


STALE_LOCK_SECONDS = 600  # a lock older than this is not a build that is still running (a large CUDA build aside)


def stale_extension_locks(root=None, older_than=STALE_LOCK_SECONDS, now=None, limit=200):
    """Return [(path, age in seconds)] of the `lock` files in the extension build folders under `root` (default
    extensions_root()) older than `older_than`: torch.utils.cpp_extension's FileBaton creates `<build dir>/lock`
    with O_EXCL, builds, then deletes it, and any other load() of that extension waits for it to go (FileBaton.wait,
    with no timeout); a build that was killed leaves it behind. Build folders: ROOT/NAME (torch 2.0) and
    ROOT/pyXY_cpu|cuXYZ/NAME (later releases); at most `limit` folders are looked at."""
    root = root or extensions_root()
    now = time.time() if now is None else now
    found = []
    candidates = glob.glob(os.path.join(glob.escape(root), "*", "lock")) + glob.glob(
        os.path.join(glob.escape(root), "*", "*", "lock")
    )
    for path in sorted(candidates)[:limit]:
        try:
            age = now - os.stat(path).st_mtime
        except OSError:
            continue
        if age > older_than:
            found.append((path, age))
    return found


def glibc():
    """Return the host's glibc version (`2.36`), or None on another C library."""
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):
        return None
    found = re.match(r"glibc ([\d.]+)", text)
    return found.group(1) if found else None


def _key(version):
    return tuple(int(p) for p in re.findall(r"\d+", version))


def glibc_needed(torch_dir):
    """Return (version, library) of the newest GLIBC_x.y that torch's own libraries need, or None (no torch, not
    ELF). Reads the version-needs sections of torch/lib/libc10.so, libtorch_cpu.so and torch/_C*.so only."""
    if not torch_dir:
        return None
    files = [os.path.join(torch_dir, "lib", n) for n in ("libc10.so", "libtorch_cpu.so", "libtorch_python.so")]
    files += glob.glob(os.path.join(glob.escape(torch_dir), "_C*.so"))
    best = None
    for path in files:
        info = loader.dynamic(path) if os.path.isfile(path) else None
        for _, version in info.versions if info else ():
            if version.startswith("GLIBC_") and re.match(r"GLIBC_\d", version):
                number = version[len("GLIBC_") :]
                if best is None or _key(number) > _key(best[0]):
                    best = (number, os.path.basename(path))
    return best


DEFAULT_PORT = 29500  # torchrun's --master-port default (torch/distributed/run.py), accelerate's main_process_port's


@dataclasses.dataclass(frozen=True)
class PortHolder:
    """The rendezvous TCP `port` (`variable` names where it comes from: MASTER_PORT, a launch script's `file:line`,
    or "" for torch's default) is taken on this host: `pid` and `command` of the process listening on it (None, ""
    where /proc does not say: another user's process, or no /proc)."""

    port: int
    variable: str
    pid: Optional[int] = None
    command: str = ""


def rendezvous_port(environ=None):
    """(port, variable) a distributed job on this host would listen on: MASTER_PORT when it is a port number, else
    torch's default (DEFAULT_PORT, variable "")."""
    value = (os.environ if environ is None else environ).get("MASTER_PORT", "").strip()
    if value.isdigit() and 0 < int(value) < 65536:
        return int(value), "MASTER_PORT"
    return DEFAULT_PORT, ""


def _bound(port):
    """True when this host cannot bind TCP `port` on all IPv4 addresses with SO_REUSEADDR (as c10d's TCPStore server
    binds: a port only in TIME_WAIT binds, one something listens on does not)."""
    import errno

    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("0.0.0.0", port))
        return False
    except OSError as exc:
        return exc.errno == errno.EADDRINUSE
    finally:
        probe.close()


def port_holder(environ=None, proc="/proc", launches=None):
    """Return the PortHolder of the first rendezvous port this host cannot bind (_bound), else None: MASTER_PORT
    (else torch's default), then the ports the working directory's launch scripts give (`launches`: [(port,
    `file:line`)], default project.launch_ports()). The holder is found from /proc/net/tcp{,6}'s LISTEN sockets
    (state 0A) and the socket:[inode] links of /proc/PID/fd (proc(5)), reading at most 4,000 processes."""
    from checks.machine import project

    candidates = [rendezvous_port(environ)]
    candidates += [c for c in (project.launch_ports() if launches is None else launches) if c[0] != candidates[0][0]]
    held = next(((p, v) for p, v in candidates if _bound(p)), None)
    if held is None:
        return None
    port, variable = held
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            with open(os.path.join(proc, "net", table), encoding="ascii", errors="replace") as handle:
                for line in list(handle)[1:]:
                    fields = line.split()
                    if len(fields) > 9 and fields[3] == "0A" and fields[1].rsplit(":", 1)[-1] == "%04X" % port:
                        inodes.add("socket:[%s]" % fields[9])
        except OSError:
            continue
    try:
        pids = sorted((p for p in os.listdir(proc) if p.isdigit()), key=int)[:4000]
    except OSError:
        pids = []
    for pid in pids if inodes else ():
        try:
            fds = os.listdir(os.path.join(proc, pid, "fd"))
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(os.path.join(proc, pid, "fd", fd)) not in inodes:
                    continue
                with open(os.path.join(proc, pid, "cmdline"), "rb") as handle:
                    command = " ".join(handle.read(400).replace(b"\0", b" ").decode("utf-8", "replace").split())
            except OSError:
                continue
            return PortHolder(port=port, variable=variable, pid=int(pid), command=command[:200])
    return PortHolder(port=port, variable=variable)


SIOCGIFADDR = 0x8915  # <linux/sockios.h>


def interfaces():
    """Return interface name -> IPv4 address (Linux: SIOCGIFADDR; elsewhere names only, addresses None)."""
    try:
        names = [name for _, name in socket.if_nameindex()]
    except (OSError, AttributeError):
        return {}
    found = {}
    for name in names:
        found[name] = None
        if not sys.platform.startswith("linux"):
            continue
        try:
            import fcntl

            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                packed = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            found[name] = socket.inet_ntoa(packed[20:24])
        except OSError:
            pass
    return found


@dataclasses.dataclass(frozen=True)
class Route:
    """How this host reaches MASTER_ADDR when that is another host: `master` as set, `address` (its IPv4 address),
    and the `interface` and `local` address the kernel's routing picks for it (a UDP connect(2), which sends
    nothing); interface None where no interface has that address."""

    master: str
    address: str
    interface: Optional[str]
    local: str


def master_route(environ=None, timeout=2.0):
    """Return the Route to MASTER_ADDR when it names another host (not loopback, not one of this host's addresses),
    else None; its name lookup is bounded by `timeout` seconds."""
    import ipaddress

    master = (os.environ if environ is None else environ).get("MASTER_ADDR", "").strip()
    if not master:
        return None
    answer = {}

    def lookup():
        try:
            answer["address"] = socket.getaddrinfo(master, None, socket.AF_INET, socket.SOCK_DGRAM)[0][4][0]
        except (OSError, UnicodeError, IndexError):
            pass

    thread = threading.Thread(target=lookup, name="resolve-master", daemon=True)
    thread.start()
    thread.join(timeout)
    address = answer.get("address")
    if address is None or ipaddress.ip_address(address).is_loopback:
        return None
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((address, 9))
            local = probe.getsockname()[0]
    except OSError:
        return None
    if local == address:
        return None  # MASTER_ADDR is this host
    name = next((n for n, a in sorted(interfaces().items()) if a == local), None)
    return Route(master=master, address=address, interface=name, local=local)


def resolve_host(timeout=2.0):
    """Return (hostname, addresses, error): getaddrinfo of gethostname(), bounded by `timeout` seconds (a stuck
    resolver must not stall verify)."""
    name = socket.gethostname()
    answer = {}

    def lookup():
        try:
            answer["addresses"] = sorted({info[4][0] for info in socket.getaddrinfo(name, None)})
        except (OSError, UnicodeError) as exc:
            answer["error"] = str(exc)

    thread = threading.Thread(target=lookup, name="resolve-host", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return name, (), "no answer from the resolver within %g s" % timeout
    return name, tuple(answer.get("addresses", ())), answer.get("error")


def temp_root(environ=None):
    """The folder temporary files go to: the first of TMPDIR, TEMP and TMP that is set (tempfile's order), else /tmp
    on POSIX, where gcc and nvcc put their intermediate files without TMPDIR (glibc's P_tmpdir). Not
    tempfile.gettempdir(): it skips a full /tmp it cannot write to and falls back to the current directory, hiding
    the full disk the compiler meets (pytorch/pytorch#2046: "No space left on device" from a full /tmp)."""
    environ = os.environ if environ is None else environ
    chosen = next((environ[n] for n in ("TMPDIR", "TEMP", "TMP") if environ.get(n)), None)
    if chosen:
        return chosen
    if os.name == "posix" and os.path.isdir("/tmp"):
        return "/tmp"
    return tempfile.gettempdir()


@dataclasses.dataclass(frozen=True)
class TempEntry:
    """An entry of the temporary-file folder that this user cannot write to: its `path`, the name of the package it
    is named after (`package`), and its owner's uid and name (`owner`, "" when the uid has no passwd entry)."""

    path: str
    package: str
    uid: int
    owner: str


TEMP_ENTRIES = 2000  # entries of the temporary-file folder looked at (a shared /tmp holds many)


def foreign_temp_entries(packages, environ=None, limit=TEMP_ENTRIES):
    """The folders in the temporary-file folder (temp_root) named after one of `packages` (top-level module names:
    `ray` for /tmp/ray, `tensorboard` for /tmp/.tensorboard-info; the name, after leading dots, is the package's or
    starts with it and `-`, `_` or `.`) that this user cannot write to, as TempEntry: on a shared machine the first
    user to run such a package owns its folder there, and the others' runs fail with "Permission denied" creating
    files in it (ray-project/ray#3899). A folder that ends with its owner's name (`torchinductor_bob`) is that user's
    own by design, not judged. At most `limit` entries are listed; [] where there are no POSIX users."""
    try:
        import pwd
    except ImportError:
        return []
    root = temp_root(environ)
    wanted = {p for p in packages if p}
    found = []
    try:
        names = sorted(os.listdir(root))[:limit]
    except OSError:
        return found
    for name in names:
        bare = name.lstrip(".")
        package = next((p for p in wanted if bare == p or bare.startswith((p + "-", p + "_", p + "."))), None)
        path = os.path.join(root, name)
        if package is None or not os.path.isdir(path) or os.access(path, os.W_OK | os.X_OK):
            continue
        try:
            uid = os.stat(path).st_uid
        except OSError:
            continue
        try:
            owner = pwd.getpwuid(uid).pw_name
        except KeyError:
            owner = ""
        if owner and bare.endswith(("_" + owner, "-" + owner)):
            continue
        found.append(TempEntry(path=path, package=package, uid=uid, owner=owner))
    return found


# The caches a training job fills under the home folder, and the variable that moves each (huggingface_hub's and
# datasets' constants: HF_HOME, HF_DATASETS_CACHE; torch.hub's get_dir: TORCH_HOME; all of them follow
# XDG_CACHE_HOME). A full home disk under datasets' Arrow writer says only "No space left on device"
# (hiyouga/LLaMA-Factory#275, fixed with HF_DATASETS_CACHE on the data disk).
HOME_CACHES = (
    ("huggingface", "HF_HOME", "Hugging Face models and datasets; HF_DATASETS_CACHE moves the datasets alone"),
    ("torch", "TORCH_HOME", "torch.hub and torchvision weights"),
)


def _home_caches_fix(place, environ=None):
    """The fix for a full file system holding the home folder `place`: move the caches there (HOME_CACHES) to a
    larger disk with their variables; None when `place` is not the home folder."""
    environ = os.environ if environ is None else environ
    home = environ.get("HOME") or os.path.expanduser("~")
    if os.path.abspath(place) != os.path.abspath(home):
        return None
    cache = environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    moves = []
    for name, variable, what in HOME_CACHES:
        now = os.path.join(cache, name)
        now = ", now %s" % now if os.path.isdir(now) else ""
        moves.append("`export %s=/path/on/a/larger/disk/%s` (%s%s)" % (variable, name, what, now))
    return (
        "the caches under %s live on it: point them at a larger disk, %s, or XDG_CACHE_HOME for all of them; or free "
        "space on it (old checkpoints, logs, caches)" % (cache, "; ".join(moves))
    )


def fullest_disk(environ=None):
    """Return (path, free bytes) of the fullest of the places a job writes to: TMPDIR as set (tempfile would fall
    back to /tmp when it cannot write there, hiding a full one), HOME (its caches), the current directory
    (checkpoints) and the folders in it that are mount points of their own (an `outputs/` volume; at most
    MAX_ENTRIES looked at); (tempdir, None) when none can be read."""
    environ = os.environ if environ is None else environ
    here = os.getcwd()
    places = [temp_root(environ), environ.get("HOME") or os.path.expanduser("~"), here]
    try:
        names = sorted(os.listdir(here))[:400]
    except OSError:
        names = []
    places += [os.path.join(here, n) for n in names if not n.startswith(".") and os.path.ismount(os.path.join(here, n))]
    best = None
    for place in places:
        free = free_bytes(place)
        if free is None:
            continue
        if best is None or free < best[1]:
            best = (place, free)
    return best or (places[0], None)


def collect(torch_dir=None):
    """Return the System facts (a few system calls and the ELF headers of three libraries; name resolution is
    bounded by 2 s)."""
    shm, shm_free = shared_memory() if sys.platform.startswith("linux") else (None, None)
    tmp, free = fullest_disk()
    name, addresses, error = resolve_host()
    code = code_dirs()
    linux = sys.platform.startswith("linux")
    return System(
        shm_bytes=shm,
        shm_free_bytes=shm_free,
        shm_mode=shared_memory_refused() if linux else None,
        nofile=open_files(),
        tempdir=tmp,
        disk_free_bytes=free,
        code_dirs=code,
        glibc=glibc(),
        glibc_needed=glibc_needed(torch_dir),
        hostname=name,
        host_addresses=addresses,
        resolve_error=error,
        address_space=address_space(),
        pids=pids_limit() if sys.platform.startswith("linux") else None,
        threads=pool_threads(),
        cpu_quota=cpu_quota() if linux else None,
        inodes=inodes_of_places(code, tmp),
        memlock=locked_memory(),
        rdma_devices=rdma_devices() if linux else (),
        memory=memory_limit() if linux else None,
        port_held=port_holder() if linux else None,
        route=master_route(),
        socket_ifname=tuple(v for v in ("GLOO_SOCKET_IFNAME", "NCCL_SOCKET_IFNAME") if os.environ.get(v)),
    )


def address_space():
    """Return the soft RLIMIT_AS in bytes (`ulimit -v` sets it in KiB), or None when unlimited or unknown."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, AttributeError, ValueError, OSError):
        return None
    return None if soft == resource.RLIM_INFINITY else soft


@dataclasses.dataclass(frozen=True)
class Commit:
    """The kernel's memory accounting (proc(5)): `mode` of /proc/sys/vm/overcommit_memory (0 heuristic, 1 always,
    2 strict: no allocation beyond CommitLimit), and /proc/meminfo's CommitLimit, Committed_AS, MemAvailable and
    MemTotal in bytes (None where unread)."""

    mode: Optional[int]
    commit_limit: Optional[int]
    committed: Optional[int]
    available: Optional[int]
    total: Optional[int]


def commit(root="/proc"):
    """Return the Commit facts read under `root` (Linux), or None off Linux or when nothing can be read."""
    mode = _read_int(os.path.join(root, "sys", "vm", "overcommit_memory"))
    fields = {}
    try:
        with open(os.path.join(root, "meminfo"), encoding="ascii", errors="replace") as handle:
            for line in handle.read(1 << 16).splitlines():
                name, _, rest = line.partition(":")
                parts = rest.split()
                if parts and parts[0].isdigit():
                    fields[name] = int(parts[0]) * (1024 if parts[1:2] == ["kB"] else 1)
    except OSError:
        pass
    if mode is None and not fields:
        return None
    return Commit(
        mode=mode,
        commit_limit=fields.get("CommitLimit"),
        committed=fields.get("Committed_AS"),
        available=fields.get("MemAvailable"),
        total=fields.get("MemTotal"),
    )


def noexec(path):
    """True when `path` (or its nearest existing parent) is on a mount with `noexec` set."""
    st = _statvfs(_existing(path))
    flag = getattr(os, "ST_NOEXEC", 0)
    return bool(st is not None and flag and st.f_flag & flag)


@dataclasses.dataclass(frozen=True)
class Mount:
    """The mount a path lies on, from one line of /proc/self/mountinfo (proc(5), "/proc/pid/mountinfo"): point: its
    mount point (field 5, octal escapes such as `\\040` decoded); options: its per-mount options (field 6:
    `rw,nosuid,noexec,relatime`); fstype: the file system type (the first field after the ` - ` separator)."""

    point: str
    options: Tuple[str, ...]
    fstype: str


def _unescape(field):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mount_of(path, mountinfo="/proc/self/mountinfo"):
    """Return the Mount that holds `path` (resolved with realpath; its nearest existing parent when it does not
    exist), or None when mountinfo cannot be read (not Linux, no /proc). Of the mount points that contain the path
    the longest wins, and of mounts stacked on one point the last listed (the one on top, which the path reaches)."""
    target = os.path.realpath(_existing(path) or "/")
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    best = None
    for line in lines:
        head, sep, tail = line.partition(" - ")
        fields = head.split()
        if not sep or len(fields) < 6:
            continue
        point = _unescape(fields[4])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best.point)):
            best = Mount(point=point, options=tuple(fields[5].split(",")), fstype=(tail.split() or ["?"])[0])
    return best


@dataclasses.dataclass(frozen=True)
class Problem:
    """A shortfall of the OS: status ("FAIL" or "WARN"), what is short, and the fix."""

    status: str
    what: str
    fix: str


def human_size(number):
    """`1.5 GiB`, `64.0 MiB`, `512 B`; "unknown" for None."""
    if number is None:
        return "unknown"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if number >= scale:
            return "%.1f %s" % (number / scale, unit)
    return "%d B" % number


def older(have, need):
    """True when version `have` (`2.17`) is older than `need` (`2.28`), comparing numeric components."""
    key = lambda v: tuple(int(p) for p in re.findall(r"\d+", v))  # noqa: E731
    return key(have) < key(need)


# multiprocessing's AF_UNIX sockets (the listener that hands file descriptors between DataLoader workers and the main
# process under torch's file_descriptor sharing, and a Manager's) are made at <tempdir>/pymp-XXXXXXXX/listener-XXXXXXXX
# (multiprocessing/util.py get_temp_dir: mkdtemp(prefix="pymp-"); connection.py arbitrary_address: mktemp(prefix=
# "listener-"); tempfile's random names are 8 characters): 32 bytes beyond the temporary folder's path. sun_path holds
# 108 bytes on Linux and 104 on macOS (unix(7); <sys/un.h>), with the terminating NUL, so CPython refuses longer paths
# with "AF_UNIX path too long" (measured here: a 75-byte temporary folder binds, 76 bytes fails).
SOCKET_SUFFIX = len("/pymp-XXXXXXXX/listener-XXXXXXXX")
SUN_PATH = {"linux": 108, "darwin": 104}


def socket_path_too_long(tempdir, platform_name=None):
    """Return (socket path length, sun_path size) when multiprocessing's AF_UNIX sockets under `tempdir` would not
    fit (see SOCKET_SUFFIX), else None; None on a platform without AF_UNIX paths to judge (Windows)."""
    name = platform_name or sys.platform
    limit = next((size for prefix, size in SUN_PATH.items() if name.startswith(prefix)), None)
    if limit is None or not tempdir:
        return None
    length = len(os.fsencode(tempdir)) + SOCKET_SUFFIX
    return (length, limit) if length >= limit else None


# clone3 (Linux 5.3; number 435 in every architecture's table) is what glibc >= 2.34's pthread_create calls first,
# falling back to clone only when the kernel answers ENOSYS (glibc sysdeps/unix/sysv/linux/clone-internal.c). A seccomp
# profile that answers unknown system calls with EPERM, as Docker's default did before 20.10.10 (moby/moby#42836),
# therefore leaves a process unable to start any thread. Called with a zero size, clone3 fails with EINVAL before it
# creates anything (kernel/fork.c copy_clone_args_from_user), so the probe below changes nothing.
CLONE3 = 435


def clone3_refused():
    """True when this process's clone3 is refused with EPERM (a seccomp filter), False when the kernel judged the
    call itself (EINVAL, or ENOSYS on a kernel without clone3), None off Linux or where it cannot be asked."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import errno

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        result = libc.syscall(CLONE3, None, 0)
    except (OSError, AttributeError):
        return None
    return result == -1 and ctypes.get_errno() == errno.EPERM


def clone3_refusal(version=None):
    """Return a Problem (FAIL) when a seccomp filter refuses clone3 (clone3_refused), so no thread can start; else
    None. `version`: this system's glibc, for the sentence."""
    if not clone3_refused():
        return None
    mode = seccomp_mode()
    return Problem(
        "FAIL",
        "this process may not start threads: clone3, which glibc's pthread_create calls first (glibc >= 2.34; this "
        "system has %s), is refused with EPERM by a seccomp filter (Seccomp: %s), and glibc falls back to clone only "
        "on ENOSYS (Docker's default seccomp profile answered so before Docker 20.10.10)"
        % (version or "unknown", "filter" if mode == 2 else mode),
        "update Docker (and runc/containerd's seccomp profile) to 20.10.10 or later, or give the container a profile "
        "that answers clone3 with ENOSYS; for a quick test `docker run --security-opt seccomp=unconfined`",
    )


def seccomp_mode(status="/proc/self/status"):
    """The `Seccomp:` field of /proc/self/status (proc(5)): 0 none, 1 strict, 2 filter; None where unreadable."""
    try:
        with open(status, encoding="utf-8", errors="replace") as handle:
            text = handle.read(65536)
    except OSError:
        return None
    found = re.search(r"^Seccomp:\s*(\d+)", text, re.M)
    return int(found.group(1)) if found else None


def temp_variable(environ=None):
    """The variable that chose the temporary folder (tempfile.gettempdir reads TMPDIR, TEMP, TMP in that order)."""
    environ = os.environ if environ is None else environ
    return next((name for name in ("TMPDIR", "TEMP", "TMP") if environ.get(name)), None)


def problems(system):
    """Return the Problems of the OS facts a training job needs (thresholds above), worst first."""
    found = []
    held = system.port_held
    if held is not None:
        who = "pid %d (%s)" % (held.pid, held.command or "?") if held.pid else "another process"
        found.append(
            Problem(
                "WARN",
                "the rendezvous port %d (%s) is in use by %s on this host: a distributed job started here on it "
                '(torchrun, accelerate launch, torch.distributed.launch) fails with "Address already in use"'
                % (
                    held.port,
                    "torch's default MASTER_PORT"
                    if not held.variable
                    else held.variable
                    if held.variable == "MASTER_PORT"
                    else "the port %s gives its job" % held.variable,
                    who,
                ),
                "%s, or stop the job holding it%s"
                % (
                    "change the port in %s to a free one" % held.variable
                    if held.variable not in ("", "MASTER_PORT")
                    else "give the new job a free port (`torchrun --master-port 29501 ...`, `accelerate launch "
                    "--main_process_port 29501 ...`, or `export MASTER_PORT=29501`)",
                    " if it is stale (`kill %d`)" % held.pid
                    if held.pid
                    else " (`ss -ltnp 'sport = :%d'` names it)" % held.port,
                ),
            )
        )
    too_long = socket_path_too_long(system.tempdir)
    if too_long:
        found.append(
            Problem(
                "FAIL",
                "the temporary folder %s (%s) is too long for the AF_UNIX sockets multiprocessing makes in it: %d "
                "bytes with pymp-*/listener-*, above sun_path's %d (unix(7)), so DataLoader workers cannot hand "
                "tensors to the main process (`OSError: AF_UNIX path too long`)"
                % (system.tempdir, temp_variable() or "the default", too_long[0], too_long[1]),
                "point TMPDIR at a short directory: `export TMPDIR=/tmp`",
            )
        )
    if system.glibc and system.glibc_needed and older(system.glibc, system.glibc_needed[0]):
        found.append(
            Problem(
                "FAIL",
                "glibc %s, but %s needs GLIBC_%s" % (system.glibc, system.glibc_needed[1], system.glibc_needed[0]),
                "upgrade the OS (or the container image) to one with glibc >= %s" % system.glibc_needed[0],
            )
        )
    if system.shm_bytes is None and sys.platform.startswith("linux"):
        found.append(
            Problem(
                "WARN",
                "there is no /dev/shm: DataLoader workers and NCCL's shared-memory transport need it",
                "mount a tmpfs on /dev/shm (a container: `--ipc=host` or `--shm-size=8g`); where none can be had "
                "(AWS Lambda), DataLoader(num_workers=0)",
            )
        )
    if system.shm_mode is not None:
        found.append(
            Problem(
                "FAIL",
                "/dev/shm (mode %04o, owner uid %d) is not writable by this user: shm_open cannot create segments "
                'there, so NCCL\'s shared-memory transport (Permission denied, then "unhandled system error"), '
                "DataLoader workers and torch.multiprocessing fail" % system.shm_mode,
                "make it world-writable with the sticky bit, as a tmpfs for /dev/shm is: `sudo chmod 1777 /dev/shm`",
            )
        )
    if system.shm_bytes is not None and system.shm_bytes < SHM_ENOUGH:
        found.append(
            Problem(
                "WARN",
                "/dev/shm is %s, too small for DataLoader workers and NCCL's shared-memory transport, which use it"
                % human_size(system.shm_bytes),
                "start the container with `--ipc=host` or `--shm-size=8g`",
            )
        )
    if system.nofile and 0 <= system.nofile[0] < NOFILE_ENOUGH:
        found.append(
            Problem(
                "WARN",
                "open-file limit %d: torch's file_descriptor sharing needs one per shared tensor" % system.nofile[0],
                "`ulimit -n %s`" % (system.nofile[1] if system.nofile[1] > system.nofile[0] else "65536"),
            )
        )
    if system.disk_free_bytes is not None and system.disk_free_bytes < DISK_ENOUGH:
        found.append(
            Problem(
                "WARN",
                "the file system holding %s is %s (%s free)"
                % (
                    system.tempdir,
                    "full" if system.disk_free_bytes < FULL_BYTES else "nearly full",
                    human_size(system.disk_free_bytes),
                ),
                "free space or point TMPDIR at a larger disk"
                if system.tempdir == temp_root()
                else _home_caches_fix(system.tempdir)
                or "free space on it (old checkpoints, logs, caches) or write to a larger disk",
            )
        )
    for code in system.code_dirs:
        if not code.writable or not code.executable:
            whose = ""
            if (
                not code.writable
            ):  # whose folder it is decides the fix (another user's shared build root, pytorch#34238)
                facts = path_facts(code.path)
                if facts.owner_uid is not None and facts.uid is not None and facts.owner_uid != facts.uid:
                    whose = " (%sowned by %s, %s)" % (
                        facts.nearest + ", " if facts.nearest != code.path else "",
                        facts.owner or "uid %d" % facts.owner_uid,
                        facts.mode,
                    )
            found.append(
                Problem(
                    "WARN",
                    "%s's %s is %s%s"
                    % (code.purpose, code.path, "not writable" if not code.writable else "on a noexec mount", whose),
                    "`export %s=<a writable directory%s>`"
                    % (code.variable, " on an exec mount" if code.runs_code else "")
                    + (" (or XDG_CACHE_HOME)" if code.variable == "TORCH_HOME" else ""),
                )
            )
    if system.pids is not None and system.pids.headroom() < system.threads_needed():
        found.append(
            Problem(
                "WARN",
                "cgroup pids.max %d (%d in use, %s): threads count against it, and a training process starts about "
                "%d (two pools of %d threads, DataLoader workers, helpers)"
                % (
                    system.pids.limit,
                    system.pids.current or 0,
                    system.pids.cgroup,
                    system.threads_needed(),
                    system.threads,
                ),
                "raise the container's limit (`docker run --pids-limit` / podman, Kubernetes podPidsLimit) above "
                "%d, or cap the pools: OMP_NUM_THREADS=%d and fewer DataLoader workers"
                % (
                    (system.pids.current or 0) + system.threads_needed(),
                    max(1, (system.pids.headroom() - PIDS_SPARE) // 2),
                ),
            )
        )
    if system.address_space is not None and system.address_space < ADDRESS_SPACE_ENOUGH:
        found.append(
            Problem(
                "WARN",
                "address-space limit %s (ulimit -v): torch's libraries and CUDA's reservations need more"
                % human_size(system.address_space),
                "`ulimit -v unlimited`",
            )
        )
    found += limit_problems(system)
    loopback = system.host_addresses and all(a.startswith("127.") or a == "::1" for a in system.host_addresses)
    if system.route is not None and loopback and "GLOO_SOCKET_IFNAME" not in system.socket_ifname:
        route = system.route
        found.append(
            Problem(
                "WARN",
                "this host's name %r resolves to loopback only (%s, the Debian/Ubuntu /etc/hosts default), and "
                "MASTER_ADDR=%s is another host: gloo binds this rank to loopback and advertises it, so the other "
                'node\'s ranks cannot connect to it ("Connection refused" on [127.0.1.1]:PORT)'
                % (system.hostname, ", ".join(system.host_addresses), route.master),
                "set GLOO_SOCKET_IFNAME=%s (and NCCL_SOCKET_IFNAME=%s for NCCL), the interface that reaches %s from "
                "%s, on every node; or map %s to %s in /etc/hosts"
                % (
                    route.interface or "<the interface that reaches MASTER_ADDR>",
                    route.interface or "<it>",
                    route.address,
                    route.local,
                    system.hostname,
                    route.local,
                ),
            )
        )
    if not system.host_addresses:
        found.append(
            Problem(
                "WARN",
                "host name %r does not resolve (%s): multi-process jobs need it"
                % (system.hostname, system.resolve_error),
                "add `127.0.1.1 %s` to /etc/hosts, or set MASTER_ADDR" % system.hostname,
            )
        )
    return found


def limit_problems(system):
    """The WARN Problems of the CPU quota, the inodes and the locked-memory limit (sources in the module docstring):
    thread pools larger than the quota's CPUs; a place the job writes to whose file system has fewer than
    INODES_ENOUGH inodes free; a finite RLIMIT_MEMLOCK on a host with RDMA devices."""
    found = []
    quota = system.cpu_quota
    if quota is not None and system.threads > quota.threads():
        found.append(
            Problem(
                "WARN",
                "torch's thread pools start %d threads each, but the CPU quota allows %g CPU%s (cgroup v%d %s, %s): "
                "the kernel throttles the extra threads"
                % (
                    system.threads,
                    round(quota.cpus(), 2),
                    "" if quota.cpus() == 1 else "s",
                    quota.version,
                    "cpu.cfs_quota_us %d / cpu.cfs_period_us %d" % (quota.quota_us, quota.period_us)
                    if quota.version == 1
                    else "cpu.max %d %d" % (quota.quota_us, quota.period_us),
                    quota.cgroup,
                ),
                "size the pools to the quota: `export OMP_NUM_THREADS=%d` (or torch.set_num_threads(%d) at the start)"
                % (quota.threads(), quota.threads()),
            )
        )
    for place in system.inodes:
        if place.exhausted():
            found.append(
                Problem(
                    "WARN",
                    "%s's %s: its file system (%s) has %s (%d of %d; %s free): creating a file there fails with "
                    "ENOSPC when none are left"
                    % (
                        place.purpose,
                        place.path,
                        place.mount,
                        "no free inodes" if place.free <= 0 else "only %d inodes free" % place.free,
                        place.free,
                        place.total,
                        human_size(place.bytes_free),
                    ),
                    "delete files no longer needed on %s (`df -i %s`; `du --inodes` shows the folders that hold "
                    "most)%s"
                    % (
                        place.mount,
                        place.mount,
                        ", or `export %s=<a folder on a file system with free inodes>`" % place.variable
                        if place.variable
                        else "",
                    ),
                )
            )
    if system.rdma_devices and system.memlock and system.memlock[0] >= 0:
        found.append(
            Problem(
                "WARN",
                "locked-memory limit (ulimit -l) %d KiB with RDMA devices (%s): NCCL's InfiniBand transport pins "
                "its buffers (ibv_reg_mr) and fails beyond it"
                % (system.memlock[0] // 1024, ", ".join(system.rdma_devices[:4])),
                "`ulimit -l unlimited` for the job (`* soft memlock unlimited` and `* hard memlock unlimited` in "
                "/etc/security/limits.conf, then a new login; a container: `--ulimit memlock=-1`)",
            )
        )
    return found


def verdict(system, skip=()):
    """Return the `os` Result of the System facts: FAIL or WARN naming each Problem with its fix, else PASS with the
    decisive figures. `skip`: words of problems a command does not judge (dist leaves the host name to its network
    line)."""
    from checks.report import FAIL, PASS, WARN, Result

    found = [p for p in problems(system) if not any(word in p.what for word in skip)]
    if not found:
        shm = "/dev/shm %s, " % human_size(system.shm_bytes) if system.shm_bytes is not None else ""
        files = "ulimit -n %s, " % system.nofile[0] if system.nofile else ""
        return Result(
            name="os",
            status=PASS,
            summary="%s%s%s free, code dirs writable, host %s resolves"
            % (shm, files, human_size(system.disk_free_bytes), system.hostname),
        )
    return Result(
        name="os",
        status=FAIL if any(p.status == "FAIL" for p in found) else WARN,
        summary="; ".join(p.what for p in found),
        hint="; ".join(p.fix for p in found),
        data={"fact": found[0].what},
    )
