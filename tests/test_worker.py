"""Tests for checks/worker.py: a supervisor that survives its worker's crashes and hangs, with a scripted worker."""

import os
import signal
import sys
import time

import fakes
import pytest

from checks import worker
from checks.report import FAIL, PASS, Interrupted, Result

POSIX = pytest.mark.skipif(os.name != "posix", reason="signals")

# A worker speaking the protocol: checks a, b, c; `plan` says what each does (pass, abort, segv, hang, noise).
SCRIPT = r"""
import json, os, signal, sys, time
sys.path.insert(0, {root!r})
from checks import worker
from checks.report import PASS, Result
state = json.loads(sys.argv[sys.argv.index("--worker") + 1])
plan = {plan!r}
if "startup" in plan and "startup_failure" not in state:
    sys.stderr.write("OMP: Error #15: Initializing libiomp5.so, but found libiomp5.so already initialized.\n")
    sys.stderr.flush()
    os.abort()

def run(name):
    def check():
        what = plan.get(name, "pass")
        print("some library noise before", name, flush=True)
        if what == "abort":
            sys.stderr.write("Could not load library libcudnn_cnn_infer.so.8. Error: libcuda.so: cannot open shared "
                             "object file: No such file or directory\n")
            sys.stderr.flush()
            os.abort()
        if what == "segv":
            import ctypes
            ctypes.string_at(0)
        if what == "hang":
            time.sleep(60)
        if what.startswith("child:"):  # start a process that would outlive the worker, and say its pid
            import subprocess
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            with open(what[len("child:"):], "w") as f:
                f.write(str(child.pid))
        return Result(name=name, status=PASS, summary="ok, startup_failure=%s" % ("startup_failure" in state))
    return check

channel = worker.Channel()
channel.progress("collecting facts")
worker.serve(channel, {{"check": "test"}}, [(n, run(n)) for n in "abc"], state)
"""


def supervise(tmp_path, plan, timeout=30):
    """Run the scripted worker under a Supervisor; return (header, results, progress lines)."""
    script = tmp_path / "fake_worker.py"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script.write_text(SCRIPT.format(root=root, plan=plan))
    said = []

    def diagnose(name, found, how):
        return Result(name=name, status=FAIL, summary="%s: %s" % (how, found.line))

    supervisor = worker.Supervisor([sys.executable, str(script)], timeout, diagnose, said.append)
    supervisor.timeout = timeout  # no grace in tests
    header = supervisor.start()
    return header, list(supervisor.results()), said


def test_every_check_reports_in_order(tmp_path):
    """A worker that finishes: its header, every result in order, its progress passed on; its noise kept back."""
    header, results, said = supervise(tmp_path, {})
    assert header == {"check": "test"}
    assert [(r.name, r.status) for r in results] == [("a", PASS), ("b", PASS), ("c", PASS)]
    assert said == ["collecting facts"]


@POSIX
@pytest.mark.parametrize(
    "fault, how, line",
    [
        ("abort", "killed by SIGABRT (aborted)", "Could not load library libcudnn_cnn_infer.so.8."),
        ("segv", "killed by SIGSEGV (segmentation fault)", "some library noise before b"),
    ],
)
def test_a_crash_costs_one_check(tmp_path, fault, how, line):
    """b kills its worker: b is a FAIL naming how and the real error; a new worker runs c."""
    _, results, _ = supervise(tmp_path, {"b": fault})
    assert [(r.name, r.status) for r in results] == [("a", PASS), ("b", FAIL), ("c", PASS)]
    assert results[1].summary.startswith(how) and line in results[1].summary


def test_a_hang_costs_one_check(tmp_path):
    """b hangs: after the timeout it is a FAIL, its worker is killed, c still runs."""
    _, results, _ = supervise(tmp_path, {"b": "hang"}, timeout=3)
    assert [(r.name, r.status) for r in results] == [("a", PASS), ("b", FAIL), ("c", PASS)]
    assert results[1].summary.startswith("did not answer within 3 s")


@POSIX
def test_a_crash_at_startup_is_passed_to_the_next_worker(tmp_path):
    """The worker dies before its header (in `import torch`): the next one is told, and runs every check."""
    header, results, _ = supervise(tmp_path, {"startup": True})
    assert header == {"check": "test"}
    assert all("startup_failure=True" in r.summary for r in results)


def test_a_signal_while_the_worker_starts_ends_the_worker(tmp_path):
    """Ctrl-C, SIGTERM or SIGHUP (report.Interrupted, a KeyboardInterrupt) while the first worker collects its facts:
    the worker is killed before the interruption goes on (it was left running until it wrote again)."""
    script = tmp_path / "slow_worker.py"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script.write_text(
        "import sys, time\nsys.path.insert(0, %r)\nfrom checks import worker\n"
        "worker.Channel().progress('importing torch')\ntime.sleep(600)\n" % root
    )

    def stopped(text):
        raise Interrupted(signal.SIGTERM)

    supervisor = worker.Supervisor([sys.executable, str(script)], 60, None, stopped)
    with pytest.raises(Interrupted):
        supervisor.start()
    assert supervisor.worker.proc.poll() is not None  # killed, and reaped


@POSIX
def test_a_finished_worker_ends_at_once_and_takes_what_it_started_with_it(tmp_path):
    """serve() ends the worker right after `end` (os._exit, no interpreter teardown); the parent then kills the
    worker's process group, so a process a check started (a compiler's pool) does not outlive the command."""
    pidfile = tmp_path / "child.pid"
    header, results, _ = supervise(tmp_path, {"b": "child:%s" % pidfile})
    assert [r.status for r in results] == [PASS, PASS, PASS]
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and fakes.alive(pid):
        time.sleep(0.05)
    assert not fakes.alive(pid)


def test_facts_longer_than_the_pipe_do_not_stop_the_parent_while_the_worker_is_hung(tmp_path):
    """The parent's facts (with the project scans handed over) can be longer than a pipe holds (64 KiB on Linux);
    a worker hung in `import torch` never reads them, and the parent must still reach its timeout: send() returns
    at once and the supervisor reports the worker as hung."""
    script = tmp_path / "hung_worker.py"
    script.write_text("import time\ntime.sleep(600)\n")
    supervisor = worker.Supervisor([sys.executable, str(script)], 60, None)
    supervisor.timeout = 1.0
    supervisor.launch()
    started = time.monotonic()
    supervisor.worker.send({"project_scans": "x" * (1 << 20)})
    assert time.monotonic() - started < 5
    assert supervisor.worker.next(supervisor.timeout) == ("hung", None)
    supervisor.worker.kill()
