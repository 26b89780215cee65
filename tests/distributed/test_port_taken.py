"""Real runs of dist's ranks on a MASTER_PORT that something else holds, or where nothing listens: every rank ends
within --timeout with the cause named (port in use, not this job's store, nothing there), the fix, and its exit
code. The port is held by a plain socket (another program) or by another process's TCPStore (another job); --timeout
3 keeps each test to seconds. The verdicts' logic: test_rendezvous.py.
"""

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from checks.distributed import rendezvous

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="dist's runs need torch")
TIMEOUT = 3  # --timeout of the real runs
SLACK = 20  # seconds allowed on top of it for starting Python and importing torch on a loaded 2-core machine


def child_env(**extra):
    """This environment without any launcher's variables (tests may run inside a SLURM job), plus extra."""
    drop = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_", "SLURM_", "PIXI_", "TORCHELASTIC")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k != rendezvous.JOB_VAR}
    return dict(env, NO_COLOR="1", **extra)


def start(repo_root, rank, port, *args, addr="127.0.0.1", **env):
    """Start rank `rank` of a world of 2 by hand, as job `mine`; return the process (text stdout and stderr)."""
    env = child_env(
        RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR=addr, MASTER_PORT=str(port), CHECKS_DIST_JOB="mine", **env
    )
    command = [sys.executable, "-m", "checks", "dist", "--device", "cpu", "--quick", "--timeout", str(TIMEOUT), *args]
    return subprocess.Popen(
        command, cwd=str(repo_root), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc):
    """Return (exit code, stdout, stderr, seconds from now) of a started rank."""
    begin = time.monotonic()
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err, time.monotonic() - begin


def both_ranks(repo_root, port):
    """Start ranks 0 and 1 on a port held by something else; return ((code, out, err) of each, seconds in all)."""
    begin = time.monotonic()
    procs = [start(repo_root, rank, port) for rank in (0, 1)]
    (code0, out0, err0, _), (code1, out1, err1, _) = [finish(p) for p in procs]
    return (code0, out0, err0), (code1, out1, err1), time.monotonic() - begin


def assert_port_in_use(rank0, port):
    """Rank 0: one line, exit 2 (a configuration error, as every `cannot listen`): in use, the cause, the fix."""
    code, out, err = rank0
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(
        "python -m checks dist: error: rank 0 cannot listen on MASTER_PORT=%d: the port is in use "
        "on this host by another program or job (The server socket has failed to listen" % port
    ), err
    assert "Address already in use" in err or "EADDRINUSE" in err
    assert (
        "; fix: set another MASTER_PORT for every rank (`--nproc` picks a free one itself), or stop the stale "
        "job holding it (`ss -ltnp 'sport = :%d'`" % port in err
    )


def assert_not_our_store(rank1, port, detail):
    """Rank 1: one line, exit 2: what answers is not this job's store, why, and the fix."""
    code, out, err = rank1
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(
        "dist: rank 1: error: MASTER_ADDR:MASTER_PORT=127.0.0.1:%d answers, but it is not this "
        "job's store: %s" % (port, detail)
    ), err
    assert (
        "; fix: this job's rank 0 could not listen there (port in use) or runs elsewhere: set another "
        "MASTER_PORT for every rank"
        in err
        and "torchrun" not in err
    )


@needs_torch
def test_a_port_held_by_another_program(repo_root):
    """A plain listening socket on MASTER_PORT: rank 0 names the port in use; rank 1 does not join it, and ends
    within --timeout (torch 2.13 alone would wait forever for the ping's answer; 2.0.1 fails a store operation)."""
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))  # all addresses, as the TCPStore server binds
        holder.listen()
        port = holder.getsockname()[1]
        rank0, rank1, seconds = both_ranks(repo_root, port)
    assert_port_in_use(rank0, port)
    detail = (
        "(it accepted the connection but did not answer as a TCPStore|no rank 0 of this job wrote the job's "
        "token there) within %d s" % TIMEOUT
    )
    assert re.search(detail, rank1[2]) and seconds < TIMEOUT + SLACK, rank1
    assert_not_our_store(rank1, port, "")


FOREIGN_STORE = """
import datetime, sys
import torch.distributed as dist
store = dist.TCPStore("0.0.0.0", 0, None, True, datetime.timedelta(seconds=60), wait_for_workers=False)
if sys.argv[1]:
    store.set("checks-dist/job", sys.argv[1])
print(store.port, flush=True)
sys.stdin.read()
"""


@needs_torch
@pytest.mark.parametrize(
    "token, detail",
    [
        (
            "",
            "no rank 0 of this job wrote the job's token there within %d s (another job's store, or a program "
            "that is not a TCPStore)" % TIMEOUT,
        ),
        (
            "CHECKS_DIST_JOB=theirs, world 2",
            "it holds another job's token (CHECKS_DIST_JOB=theirs, world 2; this job: CHECKS_DIST_JOB=mine, world 2)",
        ),
    ],
    ids=["any-tcpstore", "another-checks-dist-job"],
)
def test_another_job_s_store_on_the_port(repo_root, token, detail):
    """Another job's TCPStore holds MASTER_PORT (another checks dist job's, with its token, or any other): rank 0
    names the port in use, rank 1 sees that the store is not this job's and says whose; both exit 2."""
    other = subprocess.Popen(
        [sys.executable, "-c", FOREIGN_STORE, token],
        cwd=str(repo_root),
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(other.stdout.readline())
        rank0, rank1, seconds = both_ranks(repo_root, port)
    finally:
        other.kill()
        other.communicate()
    assert_port_in_use(rank0, port)
    assert_not_our_store(rank1, port, detail)
    assert seconds < TIMEOUT + SLACK


@needs_torch
def test_nothing_on_the_port_and_an_address_that_does_not_resolve(repo_root, tmp_path, report_schema):
    """Rank 1 where nothing listens: one line, exit 1 within --timeout. Rank 0 of an agent store (torchrun's) where
    nothing listens: a FAIL in its report, exit 1, the fix in torchrun's words. MASTER_ADDR that does not resolve:
    a configuration error, exit 2."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    report = tmp_path / "agent.json"
    agent = {"TORCHELASTIC_USE_AGENT_STORE": "True", "TORCHELASTIC_RUN_ID": "r1"}
    procs = [
        start(repo_root, 1, port),
        start(repo_root, 0, port, "--json", str(report), **agent),
        start(repo_root, 1, port, addr="no-such-host.invalid"),
    ]
    (code, out, err, seconds), (code0, out0, err0, _), (code2, _, err2, _) = [finish(p) for p in procs]
    assert (
        code == 1
        and seconds < TIMEOUT + SLACK
        and err
        == (
            "dist: rank 1: error: nothing answers on MASTER_ADDR:MASTER_PORT=127.0.0.1:%d within %d s (connection "
            "refused: nothing listens on that port there): this job's rank 0 is not there (not started yet, failed, or "
            "on another host); fix: start rank 0 with the same MASTER_ADDR and MASTER_PORT on the host MASTER_ADDR "
            "names, within --timeout\n" % (port, TIMEOUT)
        )
    )
    assert code0 == 1 and "Traceback" not in out0 + err0, out0 + err0
    assert re.search(
        r"^FAIL init: nothing answers on MASTER_ADDR:MASTER_PORT=127\.0\.0\.1:%d within %d s \(.*\): "
        r"torchrun's agent is not there" % (port, TIMEOUT),
        out0,
        re.M,
    ), out0
    assert "fix:      give every node's torchrun the same --master-addr/--rdzv-endpoint" in out0
    doc = json.loads(report.read_text())
    if report_schema is not None:
        report_schema.validate(doc)
    assert doc["exit_code"] == 1 and doc["results"][-1]["name"] == "init" and doc["results"][-1]["status"] == "FAIL"
    assert (
        code2 == 2
        and err2.startswith("dist: rank 1: error: MASTER_ADDR=no-such-host.invalid does not resolve to an address (")
        and err2.endswith("; fix: set MASTER_ADDR to rank 0's hostname or IP address on every rank\n")
    ), err2
