"""Rules 3c, 4a, 4 and 1c: a variable the error quotes, an OS limit the failure's class meets (inodes, the
locked-memory limit), an OS resource its errno names (shared memory, open files, disk, a read-only or noexec code
directory, a host name that does not resolve), and the build toolchain of cpp_extension and Inductor."""

import os
import re
import shutil
import sys

from checks.diagnosis.model import PATH, WORKERS, Cause
from checks.machine import system as system_rules


def by_variable(parts, facts, text=""):
    """Rule 3c: the error quotes a variable torch or a library it loads reads (its name, or a word of its value):
    that setting is the cause (an option this release does not know, an interface this host lacks, ...)."""
    for name, value in sorted(facts.variables.items()):
        if re.search(r"\b%s\b" % re.escape(name), text):
            return Cause(
                meaning="the error names %s=%s: %s" % (name, value, parts.line),
                fix="correct or unset %s (`unset %s`) and run again" % (name, name),
                fact="%s=%s" % (name, value),
            )
        for word in re.split(r"[,;:=\s]+", value):
            # a word, not a number, an address or a switch value: those appear in errors as context, not as cause
            if len(word) < 3 or not re.search(r"[A-Za-z]{2}", word) or word.lower() in ("true", "false", "yes", "none"):
                continue
            if re.search(r"(?<![\w.-])%s(?![\w-])" % re.escape(word), text):
                return Cause(
                    meaning="the error is about %r, which comes from %s=%s (this torch %s does not accept it)"
                    % (word, name, value, _torch_version(facts)),
                    fix="remove %s from %s (or unset %s), or use a torch release that knows it" % (word, name, name),
                    fact="%s=%s" % (name, value),
                )
    return None


def _torch_version(facts):
    torch = facts.provenance.packages.get("torch")
    return (
        torch.imported.version
        if torch is not None and torch.imported is not None and torch.imported.version
        else "installed"
    )


def _noexec_library(library, facts):
    """A shared object on a mount with `noexec`: mmap(2) with PROT_EXEC fails with EPERM on such a mount ("the file
    resides on a file system mounted noexec", mmap(2) ERRORS), so ld.so cannot map its code segment. The fix names the
    mount point that carries the flag (/proc/self/mountinfo; mount(8): `-o remount,exec`) and, where the library is
    part of the Python environment, moving that environment to a file system mounted with exec."""
    mount = system_rules.mount_of(library)
    point = mount.point if mount is not None else os.path.dirname(library)
    environment = getattr(facts.provenance, "environment", None) or sys.prefix
    inside = library.startswith(environment.rstrip("/") + "/")
    holder = "the environment (%s)" % environment if inside else os.path.dirname(library)
    return Cause(
        meaning="%s lies on %s, a file system mounted noexec%s: the kernel refuses to map its code, so the loader "
        "cannot load it" % (library, point, " (%s)" % mount.fstype if mount is not None else ""),
        fix="remount that file system with exec: `sudo mount -o remount,exec %s` (and remove noexec where "
        "/etc/fstab sets it), or move %s to a file system mounted with exec" % (point, holder),
        fact="%s on a noexec mount" % os.path.dirname(library),
    )


# CPython's and the native thread pools' words for a thread that could not be created (model.ERRNO's EAGAIN class).
THREAD_START = re.compile(r"can't start new thread|pthread_create failed|Thread creation failed")


# pwd.getpwuid's KeyError (Modules/pwdmodule.c: "getpwuid(): uid not found: N"), which getpass.getuser() raises when
# none of LOGNAME, USER, LNAME, USERNAME is set; torch's inductor and triton name their cache folders after it.
UID_NOT_FOUND = re.compile(r"getpwuid\(\): uid not found: (\d+)")


def by_user(parts, facts):
    """Rule 4d: the process's user id has no entry in the user database (a container started with an arbitrary UID:
    OpenShift, `docker run --user N`), judged by pwd.getpwuid of that id; getpass.getuser() reads LOGNAME, USER,
    LNAME and USERNAME before the database (docs.python.org/3/library/getpass.html), so setting USER is the fix."""
    found = UID_NOT_FOUND.search(parts.text)
    if found is None or not hasattr(os, "getuid"):
        return None
    import pwd

    uid = int(found.group(1))
    try:
        pwd.getpwuid(uid)
        return None  # the database has it here: not this machine's state
    except KeyError:
        pass
    return Cause(
        meaning="user id %d has no entry in the user database (/etc/passwd; a container started with an arbitrary "
        "user id), so getpass.getuser(), which torch.compile's and triton's cache folders are named after, fails" % uid,
        fix="set USER for the job (`export USER=trainer`: getpass reads it before the database), or "
        "TORCHINDUCTOR_CACHE_DIR and TRITON_CACHE_DIR to writable folders; or give the user an /etc/passwd entry in "
        "the image",
        fact="pwd.getpwuid(%d): no entry%s" % (uid, "" if os.getuid() != uid else " (this process's user)"),
    )


def by_system(parts, facts):
    """Rule 4: the OS resource the errno names."""
    system = facts.system
    paths = parts.paths
    # torch's shared-memory files are named /torch_<pid>_<random> (libshm's manager, torch/lib/libshm/core.cpp).
    shm_named = any(p.startswith(("/dev/shm", "/torch_")) for p in paths) or "shared memory" in parts.line.lower()
    if system.shm_bytes is None and sys.platform.startswith("linux") and WORKERS.search(parts.text):
        return Cause(
            meaning="there is no /dev/shm, through which DataLoader workers (and multiprocessing's locks) share memory",
            fix="mount a tmpfs on /dev/shm (a container: `--ipc=host` or `--shm-size=8g`); where none can be had "
            "(AWS Lambda), use DataLoader(num_workers=0)",
            fact="/dev/shm missing",
        )
    if system.shm_bytes is not None and ("EBUS" in parts.errno or ("ENOSPC" in parts.errno and shm_named)):
        if system.shm_bytes >= system_rules.DISK_ENOUGH and (system.shm_free_bytes or 0) >= system_rules.DISK_ENOUGH:
            return Cause(  # a large /dev/shm with room now: the run's own batches in flight filled it
                meaning="shared memory (/dev/shm, %s, %s free now) filled while it ran: the batches DataLoader "
                "workers hand over (num_workers x prefetch_factor batches in flight) outgrew it"
                % (system_rules.human_size(system.shm_bytes), system_rules.human_size(system.shm_free_bytes)),
                fix="use fewer DataLoader workers or a smaller prefetch_factor or batch, or give it more shared memory "
                "(a container: `--shm-size`); `df -h /dev/shm` while the job runs shows it fill",
                fact="/dev/shm %s, %s free now"
                % (system_rules.human_size(system.shm_bytes), system_rules.human_size(system.shm_free_bytes)),
            )
        return Cause(
            meaning="shared memory (/dev/shm, %s, %s free) is too small for the DataLoader workers' batches"
            % (system_rules.human_size(system.shm_bytes), system_rules.human_size(system.shm_free_bytes)),
            fix="give the container more shared memory (`docker run --ipc=host` or `--shm-size=8g`; Kubernetes: "
            "an emptyDir with medium: Memory on /dev/shm), or use fewer DataLoader workers",
            fact="/dev/shm %s" % system_rules.human_size(system.shm_bytes),
        )
    if "EMFILE" in parts.errno and system.nofile:
        soft, hard = system.nofile
        if hard < 0 or hard > soft:  # the soft limit can be raised up to the hard one without privileges
            fix = "raise it: `ulimit -n %s`, or call torch.multiprocessing.set_sharing_strategy('file_system')" % (
                "unlimited" if hard < 0 else hard
            )
        else:  # soft == hard: only root raises the hard limit (limits.conf, the container's --ulimit nofile=)
            fix = (
                "call torch.multiprocessing.set_sharing_strategy('file_system') at the start of the program (the "
                "soft limit is already the hard limit %s; raising that needs root: /etc/security/limits.conf, or "
                "the container's `--ulimit nofile=65536:65536`)" % hard
            )
        return Cause(
            meaning="the open-file limit (ulimit -n %s) is reached: with torch's file_descriptor sharing strategy "
            "every tensor a DataLoader worker shares holds a descriptor" % soft,
            fix=fix,
            fact="RLIMIT_NOFILE soft %s, hard %s" % (soft, hard),
        )
    refusal = system_rules.clone3_refusal(system.glibc) if THREAD_START.search(parts.text) else None
    if "EAGAIN" in parts.errno and refusal is not None:
        return Cause(meaning=refusal.what, fix=refusal.fix, fact="clone3: EPERM under a seccomp filter")
    pids = getattr(system, "pids", None)
    if "EAGAIN" in parts.errno and pids is not None and pids.headroom() < system.threads_needed():
        return Cause(
            meaning="a thread or process could not be started: this cgroup's pids.max is %d (%d in use), and it "
            "counts every thread; torch's two thread pools of %d and DataLoader workers need about %d"
            % (pids.limit, pids.current or 0, system.threads, system.threads_needed()),
            fix="raise the container's pids limit (`docker run --pids-limit=%d` or more, podman likewise, Kubernetes "
            "podPidsLimit), or cap the thread pools to fit: `export OMP_NUM_THREADS=%d MKL_NUM_THREADS=%d` and fewer "
            "DataLoader workers"
            % (
                (pids.current or 0) + system.threads_needed(),
                max(1, (pids.headroom() - system_rules.PIDS_SPARE) // 2),
                max(1, (pids.headroom() - system_rules.PIDS_SPARE) // 2),
            ),
            fact="pids.max %d, pids.current %s in %s" % (pids.limit, pids.current, pids.cgroup),
        )
    if "NOEXEC" in parts.errno:  # the loader could not map a library: the address-space limit, or its mount
        if system.address_space is not None:
            return Cause(
                meaning="the address-space limit (ulimit -v %d KiB) is too small to map torch's libraries"
                % (system.address_space // 1024),
                fix="raise it: `ulimit -v unlimited` (or a larger limit in the job script or scheduler)",
                fact="RLIMIT_AS %d bytes" % system.address_space,
            )
        mapped = [p for p in paths if re.search(r"\.so(\.|$)", p) and system_rules.noexec(p)]
        if mapped:
            return _noexec_library(mapped[0], facts)
    for code in system.code_dirs:
        named = any(p.startswith(code.path.rstrip("/")) or code.path.startswith(p.rstrip("/") + "/") for p in paths)
        if ("NOEXEC" in parts.errno or "EACCES" in parts.errno) and (named or "NOEXEC" in parts.errno):
            if not code.executable:
                return Cause(
                    meaning="%s runs compiled code from %s, on a mount without execute permission (noexec)"
                    % (code.purpose, code.path),
                    fix="point %s at a directory on an exec mount: `export %s=$HOME/.cache/%s`"
                    % (code.variable, code.variable, code.variable.lower()),
                    fact="%s on a noexec mount" % code.path,
                )
            if not code.writable:
                if not code.runs_code:  # torch's cache: its default is under HOME, which may be the unwritable one
                    return Cause(
                        meaning="%s's cache directory (downloaded models and weights) is %s, which this process "
                        "cannot write (read-only or not its own)" % (code.purpose, code.path),
                        fix="set %s (or XDG_CACHE_HOME) to a writable directory: `export %s=<a writable directory>`"
                        % (code.variable, code.variable),
                        fact="%s not writable" % code.path,
                    )
                return Cause(
                    meaning="%s writes code to %s, which this user cannot write" % (code.purpose, code.path),
                    fix="point %s at a writable directory: `export %s=$HOME/.cache/%s`"
                    % (code.variable, code.variable, code.variable.lower()),
                    fact="%s not writable" % code.path,
                )
    too_long = system_rules.socket_path_too_long(system.tempdir)
    stalled = WORKERS.search(parts.text) and re.search(r"timed out", parts.text)
    if too_long and ("UNIX_PATH" in parts.errno or stalled):
        return Cause(
            meaning="the temporary folder %s is too long for the AF_UNIX sockets multiprocessing makes in it (%d "
            "bytes with pymp-*/listener-*, above sun_path's %d, unix(7)): DataLoader workers cannot hand tensors to "
            "the main process" % (system.tempdir, too_long[0], too_long[1]),
            fix="point TMPDIR at a short directory: `export TMPDIR=/tmp` (or unset it)",
            fact="temporary folder %s, %d bytes" % (system.tempdir, len(os.fsencode(system.tempdir))),
        )
    if "ENOSPC" in parts.errno and system.disk_free_bytes is not None:
        return _disk_full(parts, facts)
    if "ENOMEM" in parts.errno and not IB_REGISTRATION.search(parts.text):
        return _no_memory(system)
    if "RESOLVE" in parts.errno and not system.host_addresses:
        return Cause(
            meaning="this host's name %r does not resolve (%s): c10d and gloo need it"
            % (system.hostname, system.resolve_error or "no address"),
            fix="add it to /etc/hosts (`127.0.1.1 %s`), or set MASTER_ADDR to an address and GLOO_SOCKET_IFNAME/"
            "NCCL_SOCKET_IFNAME to an interface" % system.hostname,
            fact="getaddrinfo(%r): %s" % (system.hostname, system.resolve_error or "no address"),
        )
    return None


PIP_INSTALL = re.compile(r"Could not install packages|pip install|site-packages/pip/")


def _disk_full(parts, facts):
    """ENOSPC judged by the free space of the places the failing step writes to: the folders its last line names,
    the fullest of TMPDIR, HOME and the current directory (system.fullest_disk), and for pip its cache (PIP_CACHE_DIR,
    else XDG_CACHE_HOME/pip or ~/.cache/pip, pip's documented default on Linux) and the environment's prefix, where it
    installs. The fullest decides; when none of them is short of space now, that is said, not a full disk."""
    system = facts.system
    places = [(system.tempdir, system.disk_free_bytes)]
    named = [p for p in PATH.findall(parts.line) if len(p) > 1][:4]
    if PIP_INSTALL.search(parts.text):
        chosen = facts.path_variables  # the variables holding one absolute path, as gather() read them
        cache = chosen.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        named += [chosen.get("PIP_CACHE_DIR") or os.path.join(cache, "pip"), facts.provenance.environment or ""]
    for path in [p for p in named if p and os.path.isabs(p)]:
        free = system_rules.free_bytes(path)
        if free is not None:
            places.append((path, free))
    place, free = min(places, key=lambda p: p[1])
    checked = ", ".join("%s %s" % (p, system_rules.human_size(f)) for p, f in dict(places).items())
    if free >= system_rules.DISK_ENOUGH:
        return Cause(
            meaning="no space was left on a device while it ran, but none of the places it writes to is short of "
            "space now (%s free): a temporary file filled the disk and was removed (pip unpacks a CUDA wheel of "
            "several GiB into TMPDIR), or a quota or a small tmpfs limits it" % checked,
            fix="point TMPDIR at a disk with room for the run (`export TMPDIR=<a big disk>`; for pip also "
            "`--no-cache-dir`), and check quotas (`quota -s`) and tmpfs sizes (`df -h %s`)" % system.tempdir,
            fact="free now: %s" % checked,
        )
    pip = " and `python -m pip cache purge`" if PIP_INSTALL.search(parts.text) else ""
    return Cause(
        meaning="a disk is full: %s has %s free" % (place, system_rules.human_size(free)),
        fix="free space there%s, or point TMPDIR (and TORCHINDUCTOR_CACHE_DIR) at a disk with room" % pip,
        fact="%s free in %s" % (system_rules.human_size(free), place),
    )


def _no_memory(system, commit=None):
    """ENOMEM ("Cannot allocate memory": fork(2), mmap(2) and malloc refuse) judged by the limits that refuse it,
    in the order the kernel applies them: the address-space limit (RLIMIT_AS, setrlimit(2)), strict overcommit
    (vm.overcommit_memory=2 refuses a commit beyond CommitLimit, proc(5); a fork commits the parent's whole writable
    memory again, which is how DataLoader workers of a large process meet it), the memory cgroup's limit, and the
    memory left on the machine (MemAvailable); `commit`: system.commit()'s facts (read now when None)."""
    commit = commit if commit is not None else system_rules.commit()
    size = system_rules.human_size
    if system.address_space is not None:
        return Cause(
            meaning="the address-space limit (ulimit -v %s KiB) refuses the memory asked for: it counts every "
            "mapping, CUDA's and the libraries' reservations included" % (system.address_space // 1024),
            fix="raise it: `ulimit -v unlimited` in the job script (or the scheduler's option that sets it)",
            fact="RLIMIT_AS %d bytes" % system.address_space,
        )
    if commit is not None and commit.mode == 2:
        used = " (%s of %s committed)" % (size(commit.committed), size(commit.commit_limit)) if commit.committed else ""
        return Cause(
            meaning="the kernel's strict overcommit (vm.overcommit_memory=2) refuses memory beyond CommitLimit%s: "
            "each fork of a large process (DataLoader workers) commits its writable memory again" % used,
            fix="with root: `sysctl vm.overcommit_memory=0` (the default heuristic); without: fewer DataLoader workers "
            "(num_workers), or start them with spawn (`multiprocessing_context='spawn'`), which does not copy the "
            "parent",
            fact="vm.overcommit_memory=2%s" % used,
        )
    memory = getattr(system, "memory", None)
    if memory is not None:
        return Cause(
            meaning="the job's memory cgroup limit (%s%s) is reached: the kernel refuses memory beyond it"
            % (size(memory.limit_bytes), ", peak use %s" % size(memory.peak_bytes) if memory.peak_bytes else ""),
            fix="raise the memory limit of the job or container (sbatch --mem, `docker run --memory`), or use less: "
            "fewer DataLoader workers, smaller batches",
            fact="%s memory limit %d bytes" % (memory.cgroup, memory.limit_bytes),
        )
    if commit is None or commit.available is None:
        return None
    return Cause(
        meaning="the machine's memory ran out while the job ran (no address-space, overcommit or cgroup limit "
        "applies here; %s of %s is available now): at its peak the job, with its DataLoader workers' copies, needed "
        "more than the machine had" % (size(commit.available), size(commit.total or 0)),
        fix="use less memory: fewer DataLoader workers (each holds its own copy of the dataset object), smaller "
        "batches; or run where there is more memory (or add swap)",
        fact="MemAvailable %s of MemTotal %s" % (size(commit.available), size(commit.total or 0)),
    )


def by_path(parts, facts):
    """Rule 4b: an access error (EACCES, EROFS: the errno classes of model.ERRNO) on a path the error's last line
    names, judged by that path's facts (system.path_facts): a read-only file system, or a path this user may not
    write (another owner, or no write permission). Frames of a traceback name source files, not what failed, so
    only the last line's paths count. The fix points the variable that chose the directory elsewhere where one did
    (a variable whose value is a folder holding the path), else TMPDIR for a path in the temporary folder (Python's
    tempfile and most tools read it), else XDG_CACHE_HOME for one under ~/.cache (the XDG Base Directory
    specification's default, which torch.hub follows), else the directory itself."""
    if "EACCES" not in parts.errno:
        return None
    for path in [p for p in PATH.findall(parts.line) if len(p) > 1][:4]:
        found = system_rules.path_facts(path)
        if found.read_only:
            meaning = "%s is on a read-only file system (%s cannot be written)" % (path, found.nearest)
            fact = "%s on a read-only mount" % found.nearest
        elif not found.writable:
            owner = found.owner or "uid %s" % found.owner_uid
            me = system_rules.user_name(found.uid) or "uid %s" % found.uid
            if found.owner_uid != found.uid:
                whose = "belongs to %s, not to this user (%s)" % (owner, me)
            else:
                whose = "has no write permission for its owner, this user (%s)" % me
            meaning = "%s cannot be written by this process: %s (%s) %s" % (path, found.nearest, found.mode, whose)
            fact = "%s %s, owner %s, this user %s" % (found.nearest, found.mode, owner, me)
        else:
            continue
        return Cause(meaning=meaning, fix=_elsewhere(path, found, facts), fact=fact)
    return None


def _elsewhere(path, found, facts):
    """The fix of a path this process cannot write: the variable that chose it, or the directory's own remedy."""
    name = _choosing_variable(path, facts)
    if name:
        return "point %s (now %s) at a directory this user can write: `export %s=<a writable directory>`" % (
            name,
            facts.path_variables[name],
            name,
        )
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, facts.provenance.environment) if p}
    if not found.read_only and any(os.path.realpath(found.nearest).startswith(p + "/") for p in prefixes):
        return (
            "%s is inside a Python installation this user does not own: install into an environment of your own "
            "(`pixi install`, or `python -m venv` and its pip) instead of writing there" % found.nearest
        )
    cache = os.path.join(os.path.expanduser("~"), ".cache")
    for name, folder in (("TMPDIR", facts.system.tempdir), ("XDG_CACHE_HOME", cache)):
        if folder and path.startswith(folder.rstrip("/") + "/"):
            return "set %s to a directory this user can write: `export %s=<a writable directory>`" % (name, name)
    if found.read_only:
        return "write it to a writable directory, or mount %s read-write (a container: a writable volume there)" % (
            found.nearest
        )
    if found.owner_uid == found.uid:
        return "`chmod u+w %s`, or write to another directory" % found.nearest
    return "give this user write access (`sudo chown -R %s %s`), or write to a directory it owns" % (
        system_rules.user_name(found.uid) or "$(id -un)",
        found.nearest,
    )


# torch.utils.cpp_extension's own messages (torch/utils/cpp_extension.py, 2.0 to 2.13: CUDA_MISMATCH_MESSAGE,
# verify_ninja_availability) and Python's for the import setuptools 70 broke (pypa/setuptools#4385).
CUDA_MISMATCH = re.compile(
    r"detected CUDA version \((\d+\.\d+)\) mismatches the version that was used to compile\s+PyTorch \((\d+\.\d+)\)"
)
NINJA_REQUIRED = re.compile(r"Ninja is required to load C\+\+ extensions")
PKG_RESOURCES_PACKAGING = re.compile(
    r"cannot import name 'packaging' from 'pkg_resources'|module 'pkg_resources' has no attribute 'packaging'"
)


def by_toolchain(parts, facts):
    """Rule 1c: what torch.utils.cpp_extension and inductor build with (checks/machine/toolchain.py), read only
    when the failure is of their class: setuptools >= 70 under a torch whose cpp_extension imports
    pkg_resources.packaging; the CUDA toolkit of another major (torch's own numbers, the toolkit's place from the
    CudaToolkit fact); ninja missing; a C++ compiler older than inductor's floors that stopped on its code."""
    from checks.machine import toolchain

    text = parts.text
    version = _torch_version(facts)
    toolkit = by_cuda_toolkit(parts, facts)
    if toolkit is not None:
        return toolkit
    if PKG_RESOURCES_PACKAGING.search(text):
        problem = toolchain.setuptools_problem(toolchain.setuptools_fact(facts.torch_dir), version, text)
        if problem is not None:
            return Cause(meaning=problem.summary, fix=problem.fix, fact=problem.actual)
        return None
    found = CUDA_MISMATCH.search(text)
    if found:
        toolkit = toolchain.cuda_toolkit_fact()
        if toolkit.release is None or toolkit.release.split(".")[0] != found.group(1).split(".")[0]:
            toolkit = toolchain.CudaToolkit(home=toolkit.home or "?", how=toolkit.how, release=found.group(1),
                                            source="torch's message")  # fmt: skip
        problem = toolchain.toolkit_mismatch(toolkit, found.group(2), version)
        if problem is not None:
            return Cause(meaning=problem.summary, fix=problem.fix, fact=problem.actual)
    compiler = _missing_compiler(text)
    if compiler is not None:
        return compiler
    if PYTHON_H.search(text):
        headers = toolchain.python_headers()
        if headers is None:
            import sysconfig

            minor = "%d.%d" % sys.version_info[:2]
            return Cause(
                meaning="this Python's C headers are not installed (no Python.h in %s): C and C++ extensions, and "
                "triton's launcher, compile against them" % (sysconfig.get_paths().get("include") or "its include dir"),
                fix="install them: Debian/Ubuntu `apt install python%s-dev`, RHEL/Fedora `dnf install python%s-devel`; "
                "or use a Python that ships them (conda's, pixi's, uv's)" % (minor, minor.replace(".", "")),
                fact="Python.h: not found for %s" % sys.executable,
            )
    if NINJA_REQUIRED.search(text):
        ninja = toolchain.ninja_fact()
        beside = os.path.join(sys.prefix, "Scripts" if sys.platform == "win32" else "bin", "ninja")
        if ninja.path is None and os.path.exists(beside):  # pip's ninja wheel installs its binary there
            return Cause(
                meaning="ninja is installed in this environment (%s) but its folder is not on PATH (the environment "
                "is not activated), and torch.utils.cpp_extension runs `ninja` from PATH" % beside,
                fix="activate the environment, or `export PATH=%s:$PATH`" % os.path.dirname(beside),
                fact="ninja: %s, not on PATH" % beside,
            )
        if ninja.version is None:
            return Cause(
                meaning="ninja is %s: torch.utils.cpp_extension builds JIT C++/CUDA extensions with it"
                % ("not on PATH" if ninja.path is None else "at %s but does not answer `--version`" % ninja.path),
                fix="`python -m pip install ninja` into this environment (or put a ninja on PATH)",
                fact="ninja: %s" % (ninja.path or "not on PATH"),
            )
    if facts.torch_dir:
        old = toolchain.judge_compile_failure(text, version, facts.torch_dir)
        if old is not None:
            return Cause(meaning=old.summary, fix=old.fix, fact=old.actual)
    return None


# A compiler that could not be run: setuptools' spawn ("error: command 'gcc' failed: No such file or directory"; the
# older distutils "unable to execute 'gcc': No such file or directory"), a shell's "gcc: not found", inductor's
# "Failed to find C compiler. Please specify via CC environment variable." (torch/_inductor/cpp_builder.py), and
# Python's headers missing for a build ("fatal error: Python.h: No such file or directory", gcc's text).
NO_COMPILER = re.compile(
    r"command '([^']+)' failed: No such file or directory|unable to execute '([^']+)': No such file|"
    r"(?:^|\s)([\w./+-]*(?:gcc|g\+\+|cc|c\+\+|clang\+*)(?:-\d+)?): (?:command )?not found|"
    r"Failed to find (C|C\+\+) compiler",
    re.M,
)
PYTHON_H = re.compile(r"Python\.h: No such file or directory")


def _missing_compiler(text):
    """A Cause when the compiler a build ran is not installed (NO_COMPILER), naming the variable that chose it
    (CC, CXX) where one did; None when it is on PATH after all."""
    found = NO_COMPILER.search(text)
    if found is None:
        return None
    named = found.group(1) or found.group(2) or found.group(3)
    language = found.group(4)
    if named is None:
        variable = "CXX" if language == "C++" else "CC"
        named = os.environ.get(variable) or ("g++" if language == "C++" else "gcc")
    if not re.search(r"(gcc|g\+\+|cc|c\+\+|clang|nvcc)", os.path.basename(named)):
        return None  # another program that could not be run
    if shutil.which(named):
        return None
    chosen = next((v for v in ("CC", "CXX", "CUDAHOSTCXX") if os.environ.get(v) == named), None)
    if chosen:
        return Cause(
            meaning="%s=%s names a compiler that is not installed (not on PATH), so the build cannot run it"
            % (chosen, named),
            fix="unset %s (the build then takes the default compiler), or install %s" % (chosen, named),
            fact="%s=%s, not on PATH" % (chosen, named),
        )
    others = [c for c in ("gcc", "g++", "cc", "c++", "clang") if shutil.which(c)]
    return Cause(
        meaning="no %s is installed (not on PATH%s): building C/C++ code (torch.utils.cpp_extension, torch.compile's "
        "CPU code, triton's launcher, a package built from source) needs a compiler"
        % (named, "; found: %s" % ", ".join(others) if others else ""),
        fix="install a compiler: Debian/Ubuntu `apt install build-essential`, RHEL/Fedora `dnf install gcc gcc-c++`, "
        "conda/pixi: the `c-compiler` and `cxx-compiler` packages%s"
        % ("; or point CC/CXX at %s" % others[0] if others else ""),
        fact="%s: not on PATH" % named,
    )


# nvcc's message for an architecture it does not compile for (`nvcc fatal   : Unsupported gpu architecture
# 'compute_86'`, CUDA 11.0's nvcc asked for 8.6: zhanghang1989/PyTorch-Encoding#383) and cpp_extension's when it found
# no toolkit (torch/utils/cpp_extension.py _join_cuda_home, 2.0 to 2.13: "CUDA_HOME environment variable is not set.
# Please set it to your CUDA install root.").
UNSUPPORTED_ARCH = re.compile(r"Unsupported gpu architecture '(?:compute|sm|lto)_(\d+)[a-z]?'")
# ... and DeepSpeed's op builder's (deepspeed/ops/op_builder/builder.py: "CUDA_HOME does not exist, unable to compile
# CUDA op(s)").
CUDA_HOME_UNSET = re.compile(r"CUDA_HOME environment variable is not set|CUDA_HOME does not exist, unable to compile")
TORCH_CUDA = re.compile(r"^cuda\b[^=\n]*=\s*['\"](\d+\.\d+)", re.M)


def _torch_cuda(facts):
    """The CUDA release torch was built with, read from its torch/version.py (`cuda: Optional[str] = '11.7'`), or
    None (a CPU build, or no torch)."""
    try:
        with open(os.path.join(facts.torch_dir or "", "version.py"), encoding="utf-8") as f:
            found = TORCH_CUDA.search(f.read())
    except OSError:
        return None
    return found.group(1) if found else None


def by_cuda_toolkit(parts, facts):
    """Rule 1c (CUDA toolkit): a CUDA extension build stopped on the toolkit cpp_extension took, judged from the
    toolkit (checks/machine/toolchain.py): nvcc refusing an architecture that its release does not compile for
    (toolchain.arch_problem: `nvcc --list-gpu-arch`, else NVIDIA's release notes), or cpp_extension finding no
    toolkit, with the one installed in a standard place for torch's CUDA named (toolchain.installed_toolkits)."""
    from checks.machine import toolchain

    text = parts.text
    found = UNSUPPORTED_ARCH.search(text)
    if found:
        digits = found.group(1)
        cap = (int(digits[:-1]), int(digits[-1]))
        toolkit = toolchain.cuda_toolkit_fact()
        problem = toolchain.arch_problem(
            toolkit,
            toolchain.nvcc_arches(toolkit),
            [],
            torch_cuda=_torch_cuda(facts),
            installed=toolchain.installed_toolkits,
            asked=[cap],
        )
        if problem is not None:
            return Cause(meaning=problem.summary, fix=problem.fix, fact=problem.actual)
        return None
    if CUDA_HOME_UNSET.search(text):
        toolkit = toolchain.cuda_toolkit_fact()
        torch_cuda = _torch_cuda(facts)
        installed = toolchain.installed_toolkits()
        have = ", ".join("%s (CUDA %s)" % (t.home, t.release) for t in installed) or "none with bin/nvcc"
        problem = toolchain.missing_toolkit(toolkit, torch_cuda, installed) if toolkit.home is None else None
        if problem is not None:
            return Cause(meaning=problem.summary, fix=problem.fix, fact="toolkits: %s" % have)
        if toolkit.home is None:
            want = "CUDA %s" % torch_cuda if torch_cuda else "a CUDA"
            return Cause(
                meaning="CUDA_HOME is not set and torch.utils.cpp_extension finds no CUDA toolkit (%s); the CUDA "
                "libraries that come with torch have no nvcc. Installed toolkits: %s" % (toolkit.how, have),
                fix="install the %s toolkit (NVIDIA's installer puts it at /usr/local/cuda-X.Y) and export CUDA_HOME "
                "to its folder (the one holding bin/nvcc) before building" % want,
                fact="toolkits: %s" % have,
            )
    return None


# ibverbs' memory registration (man 3 ibv_reg_mr; NCCL's wrappers in misc/ibvwrap.cc also call ibv_reg_mr_iova2 and
# ibv_reg_dmabuf_mr); ENOMEM is model.ERRNO's class (strerror's text, the errno name or Python's "[Errno 12]").
IB_REGISTRATION = re.compile(r"\bibv_reg_(?:dmabuf_)?mr\w*")


def by_os_limit(parts, facts):
    """Rule 4a: an OS limit the failure's class meets, judged by the limit's fact (sources: system.py's docstring).

    - ENOSPC on a path the error's last line names (else on a place the job writes to) whose file system has a fixed
      inode table with none free (statvfs f_favail 0 of f_files > 0): the inodes are used up, not the bytes.
    - ibv_reg_mr failing with ENOMEM under a finite RLIMIT_MEMLOCK: the kernel refuses to pin pages beyond the
      locked-memory limit (drivers/infiniband/core/umem.c, ib_umem_get), so the registration of NCCL's (or UCX's)
      InfiniBand buffers fails; NCCL's Troubleshooting guide runs containers with `--ulimit memlock=-1`.
    Returns a Cause or None."""
    system = facts.system
    if "ENOSPC" in parts.errno:
        named = [p for p in PATH.findall(parts.line) if len(p) > 1][:4]
        places = [system_rules.inodes("the path the error names", p) for p in named] or list(system.inodes)
        for place in places:
            if place is None or place.total <= 0 or place.free > 0:
                continue
            variable = _choosing_variable(place.path, facts) or place.variable
            return Cause(
                meaning="the file system holding %s (%s) has no free inodes left (0 of %d) although %s are free: "
                "every new file or folder there fails with ENOSPC (many small files used up its inode table)"
                % (place.path, place.mount, place.total, system_rules.human_size(place.bytes_free)),
                fix="delete files no longer needed on %s (`df -i %s` shows the inodes; `du --inodes %s | sort -n` "
                "the folders holding most files)%s"
                % (
                    place.mount,
                    place.mount,
                    place.mount,
                    ", or move what is written there to another file system with free inodes: "
                    "`export %s=<a folder there>`" % variable
                    if variable
                    else ", or write to another file system with free inodes",
                ),
                fact="statvfs(%s): f_favail 0 of f_files %d, %s free"
                % (place.mount, place.total, system_rules.human_size(place.bytes_free)),
            )
    memlock = system.memlock
    if memlock and memlock[0] >= 0 and IB_REGISTRATION.search(parts.text) and "ENOMEM" in parts.errno:
        soft, hard = memlock
        return Cause(
            meaning="InfiniBand memory registration (%s, which pins memory) failed with ENOMEM: the locked-memory "
            "limit (RLIMIT_MEMLOCK, `ulimit -l`) is %d KiB, and the kernel refuses to pin more than it"
            % (IB_REGISTRATION.search(parts.text).group(0), soft // 1024),
            fix="raise the locked-memory limit to unlimited for the job: `ulimit -l unlimited` in the launch script%s; "
            "for every login `* soft memlock unlimited` and `* hard memlock unlimited` in /etc/security/limits.conf "
            "(then a new session), LimitMEMLOCK=infinity for a systemd service, `--ulimit memlock=-1` for a Docker "
            "container; check `ulimit -l` inside the job (under mpirun or srun too)"
            % ("" if hard < 0 else " (the hard limit is %d KiB: raising it past that needs root)" % (hard // 1024)),
            fact="RLIMIT_MEMLOCK soft %s, hard %s"
            % tuple("unlimited" if v < 0 else "%d KiB" % (v // 1024) for v in (soft, hard)),
        )
    return None


def _choosing_variable(path, facts):
    """The variable whose value is the longest folder holding `path` (facts.path_variables), or None."""
    chosen = [
        (name, value)
        for name, value in facts.path_variables.items()
        if path == value or path.startswith(value.rstrip("/") + "/")
    ]
    return max(chosen, key=lambda kv: len(kv[1]))[0] if chosen else None


def by_setting(parts, facts, text=""):
    """Rule 3c': a failure that quotes a variable set to a value its reader rejects (Facts.settings, from
    checks/machine/variables.py: each value checked against its reader's documented grammar, or the installed
    torch's own lists) is traced to that variable: the text names the variable, or carries its reader's own
    message about it (libgomp's "Invalid value for environment variable NAME", cpp_extension's "Unknown CUDA arch
    (X) or GPU not supported", the allocator's "Unrecognized CachingAllocator option: X", a docstring that -OO made
    None). The verdict is the setting's: what the value does, its source, and the fix."""
    from checks.machine import variables

    setting = variables.traced(facts.settings, text or parts.text)
    if setting is None:
        return None
    return Cause(
        meaning="%s=%s is the cause: %s (the error: %s)" % (setting.name, setting.value, setting.problem, parts.line),
        fix=setting.fix,
        fact="%s=%s" % (setting.name, setting.value),
    )


# A host compiler the CUDA toolkit does not take: nvcc's #error from the toolkit's include/crt/host_config.h
# ("unsupported GNU version! gcc versions later than 11 are not supported!": CUDA 11.7, mlverse/torch#631), and
# torch.utils.cpp_extension's _check_cuda_version (2.0 to 2.13: "The current installed version of g++ (12.2.0) is
# greater than the maximum required version by CUDA 11.7. Please make sure to use an adequate version of g++
# (>=6.0.0, <12.0).").
HOST_GNU_ERROR = re.compile(r"unsupported GNU version! gcc versions later than (\d+) are not supported")
HOST_BOUND_ERROR = re.compile(
    r"The current installed version of (\S+) \((\d+)[\d.]*\) is greater than the maximum required version by CUDA "
    r"(\d+\.\d+)\.(?: Please make sure to use an adequate version of \S+ \(>=[\d.]+, <(\d+))?"
)


def by_host_compiler(parts, facts):
    """Rule 1c (host compiler): a CUDA extension build refused the host compiler (HOST_GNU_ERROR, HOST_BOUND_ERROR).
    The toolkit and the compiler nvcc takes are read (toolchain.cuda_toolkit_fact, host_compiler_fact) and judged by
    the toolkit's header (toolchain.host_compiler_problem); where they do not show it (the build ran with another
    CC or CUDA_HOME), the message's own numbers decide: the newest GCC it takes, the compiler's version."""
    from checks.machine import toolchain

    nvcc, bound = HOST_GNU_ERROR.search(parts.text), HOST_BOUND_ERROR.search(parts.text)
    if nvcc is None and bound is None:
        return None
    compiler = toolchain.host_compiler_fact()
    toolkit = toolchain.cuda_toolkit_fact()
    problem = toolchain.host_compiler_problem(toolkit, compiler, None)
    if problem is not None:
        return Cause(meaning=problem.summary, fix=problem.fix, fact="%s; %s" % (problem.actual, problem.expected))
    limit = int(nvcc.group(1)) if nvcc else int(bound.group(4)) - 1 if bound.group(4) else None
    release = bound.group(3) if bound else toolkit.release
    used = (
        "%s %s" % (bound.group(1), bound.group(2))
        if bound
        else compiler.describe()
        if compiler.version and limit is not None and compiler.version[0] > limit
        else "the host GCC"
    )
    if limit is None:
        return None
    return Cause(
        meaning="the host compiler the build used (%s) is newer than the CUDA %s toolkit takes (GCC up to %d): nvcc "
        "and cpp_extension refuse it" % (used, release or "", limit),
        fix="install GCC %d (Debian/Ubuntu: `apt install gcc-%d g++-%d`; conda: `gcc=%d gxx=%d`) and build with "
        "`CC=gcc-%d CXX=g++-%d` (cpp_extension passes $CC to nvcc as -ccbin), or use a newer CUDA toolkit that takes "
        "this GCC, with CUDA_HOME at it" % ((limit,) * 7),
        fact="host compiler %s; CUDA %s takes GCC <= %d (the message)" % (used, release or "?", limit),
    )


STDIN_LIMIT = 256 << 10  # bytes of the asking file read


def _asking_variables(path, line, limit=STDIN_LIMIT):
    """(prompt, [variable]) of the input() call at `path`:`line`: its prompt when a string constant, and the
    environment variables the function holding it reads (`os.environ.get("X")`, `os.getenv("X")`, `"X" in
    os.environ`, `os.environ["X"]`), which the code consults before it asks. Read, never run."""
    import ast

    try:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(limit))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None, []
    holder = tree
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= (
            getattr(node, "end_lineno", None) or node.lineno
        ):
            holder = node  # the innermost function holding the line (ast.walk goes outside in)
    prompt, names = None, []
    for node in ast.walk(holder):
        asks = isinstance(node, ast.Call) and getattr(node.func, "id", None) == "input" and node.lineno == line
        if asks and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            prompt = node.args[0].value
        names += _variable_read(node)
    return prompt, list(dict.fromkeys(names))


def _variable_read(node):
    """The environment variable names one AST node reads: `os.environ.get("X")` / `os.getenv("X")`, `"X" in
    os.environ`, `os.environ["X"]` (Python 3.8's ast.Index included)."""
    import ast

    def constant(value):
        value = getattr(value, "value", value) if isinstance(value, getattr(ast, "Index", ())) else value
        return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None

    def environ(value):
        return (isinstance(value, ast.Attribute) and value.attr == "environ") or getattr(value, "id", None) == "environ"

    found = []
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
        if node.func.attr == "getenv" or (node.func.attr == "get" and environ(node.func.value)):
            found.append(constant(node.args[0]))
    elif isinstance(node, ast.Compare) and node.comparators and environ(node.comparators[0]):
        found.append(constant(node.left))
    elif isinstance(node, ast.Subscript) and environ(node.value):
        found.append(constant(node.slice))
    return [n for n in found if n and re.match(r"^[A-Z][A-Z0-9_]+$", n)]


def by_stdin(parts, facts):
    """A package's code asked a question on standard input (`input()`) where nothing answers it (EOFError: "EOF when
    reading a line": a batch job, a pipe, a notebook or service without a terminal; dmlc/dgl#2129: dgl 0.4.3 asks
    "Backend choice (pytorch, mxnet or tensorflow): " at import when DGLBACKEND and ~/.dgl/config.json are unset).
    The variables the asking function reads before it asks are the answer to give ahead of time."""
    if not (parts.line or "").startswith("EOFError"):
        return None
    frames = list(re.finditer(r'File "([^"]+)", line (\d+)', parts.text))
    if not frames:
        return None
    path, line = frames[-1].group(1), int(frames[-1].group(2))
    if not os.path.isfile(path):
        return None
    prompt, names = _asking_variables(path, line)
    if prompt is None and not names:
        return None
    asked = ' ("%s")' % prompt.strip() if prompt else ""
    where = "%s:%d" % (os.path.basename(path), line)
    choice = re.search(r"\b(pytorch|torch)\b", prompt or "")  # a question whose choices include torch's name
    fix = (
        "give the answer ahead of time: set %s, which that code reads before it asks (`export %s=%s`)"
        % (" or ".join(names), names[0], choice.group(1) if choice else "...")
        if names
        else "run it where it can ask (an interactive terminal), or answer it on standard input"
    )
    return Cause(
        meaning="the code asks a question on standard input at %s%s, and this run has no input to answer it (stdin "
        "is at its end: a batch job, a pipe, a service or notebook without a terminal)" % (where, asked),
        fix=fix,
        fact="input() at %s; EOF on stdin%s" % (where, "; reads %s first" % ", ".join(names) if names else ""),
    )
