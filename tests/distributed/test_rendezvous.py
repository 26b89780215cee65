"""dist never takes what answers on MASTER_ADDR:MASTER_PORT for its own job's store, and keeps the sentence that names
a cause: the verdicts and fixes of each kind (port in use, not this job's store, nothing there), without torch.
Real runs of the ranks on a taken port: test_port_taken.py.

The torch texts below are what torch prints (public reports in checks/distributed/rendezvous.py's docstring; each also
measured here with torch 2.0.1 and 2.13).
"""

import contextlib
import re
import socket
import threading
import time
from types import SimpleNamespace

import pytest

from checks.distributed import measure as dm
from checks.distributed import rendezvous, world

MANUAL = {"launcher": "RANK/WORLD_SIZE", "rank": 1, "world": 2, "addr": "127.0.0.1", "port": 29500}

# The server side's error when the port is taken, per torch release.
BIND_2_0 = (
    "The server socket has failed to listen on any local network address. The server socket has failed to bind to "
    "[::]:29500 (errno: 98 - Address already in use). The server socket has failed to bind to 0.0.0.0:29500 "
    "(errno: 98 - Address already in use)."
)
LIBUV_2_4 = (
    "The server socket has failed to listen on any local network address. port: 29500, useIpv6: false, code: -98, "
    "name: EADDRINUSE, message: address already in use"
)
LIBUV_MACOS = LIBUV_2_4.replace("false, code: -98", "0, code: -48")
UNKNOWN_ADDR = BIND_2_0.replace("[::]:29500", "?UNKNOWN?").replace("0.0.0.0:29500", "?UNKNOWN?")
GLOO_MESH = (
    "Gloo connectFullMesh failed with [../third_party/gloo/gloo/transport/tcp/pair.h:301] Connect timeout [none]"
)
DENIED_2_2 = BIND_2_0.replace("29500", "98").replace("98 - Address already in use", "13 - Permission denied")


class DistNetworkError(RuntimeError):
    """torch.distributed.DistNetworkError (2.2+), a RuntimeError."""


# --- rank 0 cannot listen: every torch form names the cause, the fix and the tool that finds the holder -----------


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError(BIND_2_0),
        DistNetworkError(BIND_2_0),
        DistNetworkError(LIBUV_2_4),
        DistNetworkError(LIBUV_MACOS),
        RuntimeError(UNKNOWN_ADDR),
    ],
    ids=["2.0-RuntimeError", "2.2-DistNetworkError", "2.4-libuv", "2.4-libuv-macos", "unknown-address"],
)
def test_a_port_in_use_is_named_in_every_torch_form(exc):
    """errno 98, EADDRINUSE (-98 Linux, -48 macOS): `in use`, the second sentence kept, ss to find the holder."""
    problem = rendezvous.listen_problem(exc, dict(MANUAL, rank=0))
    assert problem.usage is True
    assert problem.cause.startswith("rank 0 cannot listen on MASTER_PORT=29500: the port is in use on this host")
    assert re.search(r"errno: 98 - Address already in use\)\.\)$|name: EADDRINUSE, .*in use\)$", problem.cause)
    assert problem.cause.count("failed to bind") <= 1  # the [::] and 0.0.0.0 sentences are one cause
    assert "set another MASTER_PORT for every rank (`--nproc` picks a free one itself)" in problem.fix
    assert "`ss -ltnp 'sport = :29500'` on this host (%s) names it" % socket.gethostname() in problem.fix


def test_a_port_below_1024_names_root_and_the_launcher_s_own_option():
    """errno 13 (a port below 1024 as a user); the fix in the words of the launcher that set MASTER_PORT."""
    problem = rendezvous.listen_problem(DistNetworkError(DENIED_2_2), dict(MANUAL, rank=0, port=98))
    assert problem.cause.startswith("rank 0 cannot listen on MASTER_PORT=98: ports below 1024 need root (")
    assert "(errno: 13 - Permission denied)" in problem.cause and "from 1024 to 65535" in problem.fix
    torchrun = rendezvous.listen_problem(RuntimeError(BIND_2_0), dict(MANUAL, rank=0, launcher="torchrun"))
    assert "pass torchrun another --master-port" in torchrun.fix
    srun = rendezvous.listen_problem(RuntimeError(BIND_2_0), dict(MANUAL, rank=0, launcher="srun"))
    assert "export another MASTER_PORT before srun" in srun.fix and "torchrun" not in srun.fix


def test_the_job_token_is_what_the_ranks_of_one_job_share():
    """--nproc's CHECKS_DIST_JOB, else torchrun's run and restart, else srun's job and step, and the world size."""
    assert rendezvous.job_token({"CHECKS_DIST_JOB": "ab12", "SLURM_JOB_ID": "7"}, 2) == "CHECKS_DIST_JOB=ab12, world 2"
    torchrun = {"TORCHELASTIC_RUN_ID": "r", "TORCHELASTIC_RESTART_COUNT": "1"}
    assert rendezvous.job_token(torchrun, 8) == "torchrun run r.1, world 8"
    assert rendezvous.job_token({"SLURM_JOB_ID": "7", "SLURM_STEP_ID": "0"}, 4) == "SLURM job 7.0, world 4"
    assert rendezvous.job_token({}, 2) != rendezvous.job_token({}, 3)


# --- what a rank other than 0 finds on the port, without torch ---------------------------------------------------


@contextlib.contextmanager
def serve(behave):
    """Listen on a free port of 127.0.0.1 and answer each connection with behave(conn); yield the port."""
    server, held = socket.socket(), []
    server.bind(("127.0.0.1", 0))
    server.listen()

    def loop():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            behave(conn)

    threading.Thread(target=loop, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()
        for conn in held:
            conn.close()


def reach(port, timeout=2, **overrides):
    """Return (StoreProblem or None, seconds) of rendezvous.probe with a deadline `timeout` seconds away."""
    launch = dict(MANUAL, port=port, timeout=timeout, agent=False, owner="this job's rank 0", **overrides)
    start = time.monotonic()
    try:
        rendezvous.probe(launch, start + timeout)
    except rendezvous.StoreProblem as problem:
        return problem, time.monotonic() - start
    return None, time.monotonic() - start


@pytest.mark.parametrize(
    "behave, detail",
    [
        (lambda c: c.sendall(b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n"), "spoke first ('SSH-2.0-OpenSSH_8.9p1"),
        (lambda c: c.close(), "the program there hung up at once, which a TCPStore never does"),
    ],
    ids=["speaks-first", "hangs-up"],
)
def test_a_program_that_is_not_a_tcpstore_is_named_before_torch_talks_to_it(behave, detail):
    """A program that speaks first (an SSH banner aborts torch 2.0.1's client in C++) or hangs up: not our store."""
    with serve(behave) as port:
        problem, seconds = reach(port)
    assert problem is not None and problem.usage is True and seconds < 1.5
    assert problem.cause.startswith(
        "MASTER_ADDR:MASTER_PORT=127.0.0.1:%d answers, but it is not this job's store: " % port
    )
    assert detail in problem.cause and "stop the other program (`ss -ltnp 'sport = :" in problem.fix


def test_a_silent_program_passes_the_look_but_not_the_deadline():
    """A program that accepts and says nothing (as a TCPStore until asked): torch 2.13's client would wait forever
    for its ping's answer; open_store gives up at --timeout, naming the port as not this job's store."""
    release = threading.Event()
    hang = SimpleNamespace(TCPStore=lambda *args, **kwargs: release.wait(30))
    start = time.monotonic()
    with serve(lambda conn: None) as port, pytest.raises(rendezvous.StoreProblem) as caught:
        rendezvous.open_store(hang, dict(MANUAL, port=port), 1.0, "CHECKS_DIST_JOB=x, world 2")
    release.set()
    assert time.monotonic() - start < 1.5 and caught.value.usage is True
    assert "it accepted the connection but did not answer as a TCPStore within 1 s" in caught.value.cause


class Clock:
    """rendezvous's clock, kept by the test: sleep() moves time on at once, so a deadline is reached exactly, on
    any machine, however busy."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_nothing_on_the_port_is_named_within_the_deadline(monkeypatch):
    """Connection refused until the deadline (and not a moment less: retried every 0.1 s until then): nothing
    there, rank 0 not there; not a usage error (exit 1)."""
    clock = Clock()
    monkeypatch.setattr(rendezvous, "time", clock)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = clock.now
    with pytest.raises(rendezvous.StoreProblem) as caught:
        rendezvous.probe(dict(MANUAL, port=port, timeout=2, agent=False, owner="this job's rank 0"), start + 2)
    problem, seconds = caught.value, clock.now - start
    assert abs(seconds - 2) < 1e-6 and problem.usage is False
    assert problem.cause == (
        "nothing answers on MASTER_ADDR:MASTER_PORT=127.0.0.1:%d within 2 s (connection refused: nothing listens "
        "on that port there): this job's rank 0 is not there (not started yet, failed, or on another host)" % port
    )
    assert problem.fix.startswith("start rank 0 with the same MASTER_ADDR and MASTER_PORT")
    problem, _ = reach(port, 0.3, launcher="srun")
    assert "scontrol show hostnames" in problem.fix and "torchrun" not in str(problem)


# --- hints and failure lines fit the backend and keep the cause ----------------------------------------------------


def test_hints_name_nccl_variables_on_nccl_runs_only():
    """gloo runs: GLOO_SOCKET_IFNAME, no NCCL_*; NCCL runs: NCCL_DEBUG and NCCL_SOCKET_IFNAME."""
    assert "NCCL" not in world.HINTS["gloo"] and "GLOO_SOCKET_IFNAME" in world.HINTS["gloo"]
    assert "NCCL_DEBUG=INFO" in world.HINTS["nccl"] and "NCCL_SOCKET_IFNAME" in world.HINTS["nccl"]
    info = {"rank": 1, "local_rank": 1, "host": "n0", "device": "cpu", "wrong": 1, "elements": 8, "first": (0, 1, 2)}
    gloo = dm.judge_allreduce([dict(info, rank=0, wrong=0), info], 2, "gloo")
    nccl = dm.judge_allreduce([dict(info, rank=0, wrong=0), info], 2, "nccl")
    assert not any("NCCL" in r.hint or "GPU" in r.hint for r in gloo if r.hint)
    assert "NCCL_DEBUG=INFO" in nccl[-1].hint and "nvidia-smi topo -m" in nccl[1].hint
    assert "NCCL" not in dm.describe_failure("x", {}, {1: "barrier"}, {}, backend="gloo")[0]


@pytest.mark.parametrize(
    "text, kept",
    [
        (GLOO_MESH, "RuntimeError: Gloo connectFullMesh failed with Connect timeout [none]"),
        (BIND_2_0, "RuntimeError: %s" % BIND_2_0[: BIND_2_0.index(" The server socket has failed to bind to 0")]),
        (
            "NCCL error in: ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1691, unhandled system error (run with "
            "NCCL_DEBUG=INFO for details), NCCL version 2.19.3\nncclSystemError: System call (e.g. socket, malloc) or "
            "external library call failed or device error.",
            "RuntimeError: NCCL error: unhandled system error (run with NCCL_DEBUG=INFO for details), NCCL version "
            "2.19.3 ncclSystemError: System call (e.g. socket, malloc) or external library call failed or device "
            "error.",
        ),
    ],
)
def test_a_failed_step_keeps_the_sentence_that_names_the_cause(text, kept):
    """gloo, c10d and NCCL put the cause after the first full stop: the failure line keeps it, minus source tags."""
    assert world.failed(RuntimeError(text)) == "failed: " + kept


def test_sigterm_blames_torchrun_or_srun_only_when_it_launched_the_job():
    """torchrun and srun stop every rank with SIGTERM; otherwise the signal came from outside, not from torchrun."""
    assert "torchrun stops every rank" in world.sigterm_reason("torchrun")
    assert "srun stops every task" in world.sigterm_reason("srun")
    for launcher in ("RANK/WORLD_SIZE", None):
        assert "torchrun" not in world.sigterm_reason(launcher) and "SIGTERM" in world.sigterm_reason(launcher)


class _Ended(Exception):
    """Session.end() was called (the real one exits the process)."""


class _FrozenStore:
    """A store that never answers once frozen (torch < 2.4's server while a rank is stopped mid-request)."""

    def __init__(self):
        self.frozen = threading.Event()

    def set(self, key, value):
        self._call()

    def add(self, key, amount):
        self._call()
        return 1

    def _call(self):
        if self.frozen.is_set():
            threading.Event().wait(60)


def test_a_store_that_stops_answering_ends_the_step_in_a_line():
    """The heartbeat thread waits on a frozen store: the next step cannot say its name in the store, and ends the run
    naming the store (it raised out of step() before, and rank 0 exited 3, a bug in checks, seen in CI)."""
    args = SimpleNamespace(quick=True, timeout=30.0, json=None)
    launch = dict(MANUAL, rank=0, local_rank=0)
    session = world.Session(None, args, launch, "cpu", "gloo", None)
    session.store, session.grace = _FrozenStore(), 0.1
    ended = []

    def end(phase, why):  # the real one ends the process
        ended.append((phase, why))
        raise _Ended

    session.end = end
    session.store.frozen.set()
    threading.Thread(target=session.op, args=("add", "beat/0", 1), daemon=True).start()  # the heartbeat, stuck
    time.sleep(0.2)
    start = time.monotonic()
    with pytest.raises(_Ended):
        session.step("all-reduce", lambda: [])
    assert ended == [("all-reduce", "could not reach the rendezvous store (no answer within 5.1 s)")]
    assert session.store_silent and time.monotonic() - start < 20
    with pytest.raises(world.StoreSilent):  # later calls give up at once rather than wait again
        session.op("set", "why/0", "x")


def test_a_rank_ending_the_run_leaves_even_when_its_store_call_never_returns(monkeypatch):
    """A rank whose torchrun was killed (SIGTERM from PR_SET_PDEATHSIG) posts its failure to a store whose host is
    gone; torch 2.0.1's client can stay in that call (seen in CI: a rank still running 20 minutes later, one thread
    spinning). end() stops waiting for the store after the grace period and exits."""
    args = SimpleNamespace(quick=True, timeout=30.0, json=None)
    session = world.Session(None, args, dict(MANUAL, rank=1, local_rank=1), "cpu", "gloo", None)
    session.store, session.grace = _FrozenStore(), 0.1
    session.store.frozen.set()
    exits = []

    def leave(code):  # the real one ends the process
        exits.append(code)
        raise _Ended

    def ending():
        with pytest.raises(_Ended):
            session.end("all-reduce", "stopped by SIGTERM")

    monkeypatch.setattr(world.os, "_exit", leave)
    ender = threading.Thread(target=ending, daemon=True)
    start = time.monotonic()
    ender.start()
    ender.join(30)
    assert not ender.is_alive() and exits == [world.EXIT_FAILED]
    assert time.monotonic() - start < 20


def test_the_fix_for_a_silent_store_fits_the_torch_release():
    """Before torch 2.4 one client stopped mid-request stalls the store for all: look for a stopped rank; from 2.4
    the libuv server serves the others, so the store's host itself is the suspect."""
    old = world.store_silent_hint("2.0.1+cu117", MANUAL)
    assert old.startswith(
        "the store at 127.0.0.1:29500 (rank 0 hosts it) stopped answering: on torch 2.0.1+cu117 one rank"
    )
    new = world.store_silent_hint("2.13.0+cpu", dict(MANUAL, addr=None, port=None))
    assert new.startswith("the store at MASTER_ADDR:MASTER_PORT") and "one rank stopped" not in new
