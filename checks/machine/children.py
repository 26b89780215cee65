"""The processes checks starts, made to end with it: a child gets SIGKILL (or the signal asked for) when its parent
dies, even by SIGKILL (Linux prctl(PR_SET_PDEATHSIG)); and verify's worker, started before the rest of checks is
imported (start_early).

Standard library only, and light: `python -m checks verify` imports this module first, so that its worker's
interpreter start and `import torch` begin at once instead of after the parent's own imports (the worker is most of
verify --quick's time: tools/bench_verify.py).
"""

import json
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _libc():
    """Return libc's prctl and signal (Linux), loaded once before any fork, or (None, None) elsewhere."""
    if not sys.platform.startswith("linux"):
        return None, None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl, set_signal = libc.prctl, libc.signal
    except (OSError, AttributeError, ImportError):
        return None, None
    prctl.restype = ctypes.c_int
    prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
    set_signal.restype = ctypes.c_void_p
    set_signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
    return prctl, set_signal


_PRCTL, _SIGNAL = _libc()
SIG_DFL, SIG_IGN = 0, 1  # <signal.h> on Linux


def dies_with_parent(signum=signal.SIGKILL):
    """Return a subprocess `preexec_fn` that makes the child receive `signum` when its parent dies, even by SIGKILL
    (Linux prctl(PR_SET_PDEATHSIG), man 2 PR_SET_PDEATHSIG), or None where there is none (macOS, Windows: there a
    child whose parent is killed outright outlives it; a parent that ends normally still ends its children).

    The signal fires when the *thread* that started the child exits, not the process (man 2 PR_SET_PDEATHSIG):
    start children from a thread that outlives them (the main thread, or the thread that waits for the child, as
    run_command does). A parent that died between the fork and the prctl is caught by comparing getppid()."""
    if _PRCTL is None:
        return None
    parent = os.getpid()
    # With a preexec_fn, subprocess runs os.register_at_fork's child hooks, and checks/__main__.py's ignores SIGINT
    # (meant for forked helpers that never exec): give the command the SIGINT state of this process instead, through
    # libc (Python's signal.signal works in the main thread only).
    sigint = SIG_IGN if signal.getsignal(signal.SIGINT) == signal.SIG_IGN else SIG_DFL

    def preexec():
        _SIGNAL(int(signal.SIGINT), sigint)
        _PRCTL(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
        if os.getppid() != parent:  # the parent is already gone: no death signal will come
            os.kill(os.getpid(), int(signum))

    return preexec


def worker_popen(command):
    """Start `command` as a worker: standard input and output are pipes, standard error goes to standard output;
    a new session (POSIX; a new process group on Windows), so Ctrl-C at the terminal reaches the parent only, which
    stops it; dies_with_parent. Returns the subprocess.Popen; raises OSError when it cannot start."""
    if os.name == "posix":
        kwargs = {"start_new_session": True, "preexec_fn": dies_with_parent()}
    else:
        kwargs = {"creationflags": 0x200}  # CREATE_NEW_PROCESS_GROUP
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwargs)


FIRST_STATE = {"skip": []}  # what a first worker is told (checks/worker.py Supervisor.state)
_EARLY = []  # [(command, Popen)]: a worker start_early() began that no Supervisor adopted yet


def worker_command(argv, state):
    """The worker's command line: `argv` (the parent's own command, `python -m checks verify ...`) with
    `--worker STATE`."""
    return list(argv) + ["--worker", json.dumps(state)]


def start_early(argv):
    """`python -m checks verify ARGS` (argv: sys.argv[1:]): start its first worker now, before the parent imports
    anything else; the Supervisor adopts it (adopt) once the options are parsed. Nothing starts for --help, and a
    start that fails leaves the Supervisor to start one (and say why)."""
    if any(a in ("-h", "--help") for a in argv):
        return
    command = worker_command([sys.executable, "-m", "checks"] + list(argv), FIRST_STATE)
    try:
        _EARLY.append((command, worker_popen(command)))
    except (OSError, ValueError, subprocess.SubprocessError):
        pass


def adopt(command):
    """Return the worker start_early() began with exactly `command` (subprocess.Popen), or None (then the caller
    starts one). A worker began for another command is ended."""
    while _EARLY:
        began, proc = _EARLY.pop()
        if began == list(command):
            return proc
        _end(proc)
    return None


def drop_early():
    """End a worker start_early() began that nobody adopted (a usage error, --version): the command is over."""
    while _EARLY:
        _end(_EARLY.pop()[1])


def _end(proc):
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except OSError:
        pass
    for stream in (proc.stdin, proc.stdout):
        try:
            stream.close()
        except OSError:
            pass
    proc.wait()
