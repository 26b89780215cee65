"""The process contract under signals (checks/__main__.py, runner.py, worker.py, probe.py, dist/command.py):
SIGTERM and SIGHUP end a run as Ctrl-C does (the results so far, the summary, the JSON marked with the signal,
exit 128 + N); a signal ignored at start stays ignored (a background job of a script, nohup); no child outlives
its parent, even one killed by SIGKILL.

Each test starts `python -m checks` as a user would, waits for a line that says the run has reached the point to
interrupt (never a sleep), and bounds every wait generously: a loaded machine makes them slower, not red.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import fakes
import pytest

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG are Linux's")
WAIT = 300.0  # seconds any one step may take on a loaded 2-core machine before the test gives up
# verify's first result line (WARN where torch.compile does not support this Python): the run then has seconds of
# checks to go (the full run, with torch.compile and the extension loads, not --quick), so a signal sent on seeing
# it lands mid-run however fast the machine.
FIRST_LINE = r"^(PASS|WARN|FAIL) python: "


class Run:
    """`python -m checks ARGV --json r.json` in a child process, its stdout and stderr read by threads."""

    def __init__(self, argv, repo_root, tmp_path, sigint=signal.SIG_DFL, shell_background=False):
        self.report = tmp_path / "r.json"
        env = dict(os.environ, PYTHONPATH=str(repo_root), NO_COLOR="1")
        command = [sys.executable, "-m", "checks", *argv, "--json", str(self.report)]
        if shell_background:
            # A background job of a non-interactive shell (job control off): POSIX has the shell start it with
            # SIGINT and SIGQUIT ignored (XCU 2.11, "Signals and Error Handling"); the job's pid comes first.
            command = ["sh", "-c", '"$@" & echo "pid $!" >&2; wait $!', "sh", *command]

        def preexec():  # SIGHUP as a terminal session starts it, even where the tests run under `nohup`
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
            signal.signal(signal.SIGINT, sigint)

        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(tmp_path),
            env=env,
            start_new_session=True,
            preexec_fn=preexec,
            text=True,
        )
        self.out, self.err = [], []
        self.readers = [
            threading.Thread(target=self._read, args=(stream, kept), daemon=True)
            for stream, kept in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))
        ]
        for reader in self.readers:
            reader.start()
        self.pid = self.proc.pid
        if shell_background:
            self.pid = int(self.wait_for(r"^pid (\d+)$", stream="err").group(1))

    @staticmethod
    def _read(stream, kept):
        with stream:
            for line in stream:
                kept.append(line)

    def wait_for(self, pattern, stream="out"):
        """Wait until a line of `stream` matches `pattern`; return the match."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            kept = self.out if stream == "out" else self.err
            for line in list(kept):
                match = re.search(pattern, line)
                if match:
                    return match
            if not any(reader.is_alive() for reader in self.readers):
                break
            time.sleep(0.1)
        pytest.fail("no line matching %r; stdout:\n%s\nstderr:\n%s" % (pattern, "".join(self.out), "".join(self.err)))

    def finish(self):
        """Wait for the run to end; return (exit code, stdout, stderr, the JSON report)."""
        code = self.proc.wait(WAIT)
        for reader in self.readers:  # what is left in the pipes (a rank may hold them a little longer)
            reader.join(WAIT)
        doc = json.loads(self.report.read_text()) if self.report.exists() else None
        return code, "".join(self.out), "".join(self.err), doc


def pending(pid):
    """Return the signals pending for the whole process `pid` (ShdPnd of /proc/PID/status) as a set of numbers."""
    with open("/proc/%d/status" % pid) as handle:
        mask = int(re.search(r"^ShdPnd:\s*([0-9a-f]+)$", handle.read(), re.M).group(1), 16)
    return {n for n in range(1, 65) if mask & (1 << (n - 1))}


def stopped(pids):
    """SIGSTOP `pids` and wait until each is stopped (state T): then nothing they do can end them by itself."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + WAIT
    for pid in pids:
        while time.monotonic() < deadline:
            with open("/proc/%d/stat" % pid) as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] in ("T", "t"):
                    break
            time.sleep(0.05)


def gone(pids, wait=WAIT):
    """Wait (bounded) until none of `pids` lives; return those still alive."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and any(fakes.alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if fakes.alive(p)]


def worker_of(run):
    """Return the pid of verify's worker (the parent's child started with --worker)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for pid in fakes.children(run.pid):
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as handle:
                    if b"--worker" in handle.read():
                        return pid
            except OSError:
                continue
        time.sleep(0.1)
    pytest.fail("verify's worker was not found among the children of %d" % run.pid)


@LINUX
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_stopping_signal_ends_verify_like_ctrl_c(repo_root, tmp_path, signame):
    """kill -TERM / -HUP / -INT of verify mid-run: the results so far, the summary marked interrupted, the JSON with
    `"interrupted": true` and the signal's name, exit 128 + N (SIGTERM and SIGHUP ended it with neither, 143/129),
    no traceback; its worker does not outlive it."""
    pytest.importorskip("torch", reason="verify's worker imports torch")
    run = Run(["verify"], repo_root, tmp_path)
    run.wait_for(FIRST_LINE)
    worker = worker_of(run)
    os.kill(run.pid, getattr(signal, signame))
    code, out, err, doc = run.finish()
    number = int(getattr(signal, signame))
    assert code == 128 + number, out + err
    assert doc["interrupted"] is True and doc["signal"] == signame and doc["exit_code"] == 128 + number
    assert doc["results"][0]["name"] == "python"
    assert re.search(r"^verify: .*, interrupted$", out, re.M) and "Traceback" not in err
    assert gone([worker]) == []


@LINUX
def test_a_background_job_of_a_script_keeps_sigint_ignored_and_stops_on_sigterm(repo_root, tmp_path):
    """`python -m checks verify &` in a script: the shell starts it with SIGINT ignored, and the checks keep it so
    (a Ctrl-C meant for the script's foreground leaves it running, as POSIX intends); SIGTERM still stops it, and
    the report names SIGTERM."""
    pytest.importorskip("torch", reason="verify's worker imports torch")
    run = Run(["verify"], repo_root, tmp_path, shell_background=True)
    run.wait_for(FIRST_LINE)
    with open("/proc/%d/status" % run.pid) as handle:
        ignored = int(re.search(r"^SigIgn:\s*([0-9a-f]+)$", handle.read(), re.M).group(1), 16)
    assert ignored & (1 << (signal.SIGINT - 1)), "the shell did not start the job with SIGINT ignored"
    os.kill(run.pid, signal.SIGINT)
    os.kill(run.pid, signal.SIGTERM)
    code, out, err, doc = run.finish()  # the shell's `wait $!` returns the job's exit code
    assert code == 143 and doc["signal"] == "SIGTERM", out + err


@LINUX
def test_verify_s_worker_dies_with_its_parent_even_on_sigkill(repo_root, tmp_path):
    """SIGKILL of verify (no handler runs) used to leave its worker running as an orphan: PR_SET_PDEATHSIG kills it.
    The worker is stopped first, so that it cannot end by itself (a write to its dead parent's pipe would)."""
    pytest.importorskip("torch", reason="verify's worker imports torch")
    run = Run(["verify"], repo_root, tmp_path)
    run.wait_for(FIRST_LINE)
    worker = worker_of(run)
    try:
        stopped([worker])
        os.kill(run.pid, signal.SIGKILL)
        run.proc.wait(WAIT)
        assert gone([worker], wait=60) == []  # the kernel sends it at the parent's exit: no wait is needed
    finally:
        if fakes.alive(worker):
            os.kill(worker, signal.SIGKILL)
        run.finish()


CHILD_OF_A_PARENT = r"""
import sys
sys.path.insert(0, {root!r})
from checks.machine import probe
print("ready", flush=True)
probe.run_command(["sleep", "600"], 600)
"""


@LINUX
def test_a_probe_s_command_dies_with_its_parent_even_on_sigkill(repo_root, tmp_path):
    """probe.run_command (the GPU probe, the compile child, nvidia-smi): its command does not outlive a parent
    killed by SIGKILL."""
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD_OF_A_PARENT.format(root=str(repo_root))], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + WAIT
    while not fakes.children(parent.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    (sleeper,) = fakes.children(parent.pid)
    try:
        parent.kill()
        parent.wait(WAIT)
        parent.stdout.close()
        assert gone([sleeper], wait=60) == []  # the kernel sends SIGKILL at the parent's exit: no wait is needed
    finally:
        if fakes.alive(sleeper):
            os.kill(sleeper, signal.SIGKILL)


@LINUX
def test_dist_s_launcher_forwards_sigterm_to_its_ranks(repo_root, tmp_path):
    """`dist --nproc 2` ignored SIGTERM: it now forwards it to its ranks, says which ranks it stopped and exits
    143; no rank outlives it."""
    pytest.importorskip("torch", reason="dist needs torch")
    run = Run(["dist", "--nproc", "2", "--device", "cpu"], repo_root, tmp_path)
    run.wait_for(r"^PASS init")
    ranks = fakes.children(run.pid)
    assert len(ranks) == 2
    os.kill(run.pid, signal.SIGTERM)
    code, out, err, _ = run.finish()
    assert gone(ranks) == [], err
    assert code == 143, out + err
    assert re.search(r"^dist: SIGTERM: sent SIGTERM to ranks 0, 1", err, re.M), err
    assert "Traceback" not in err


@LINUX
def test_dist_s_ranks_get_sigterm_when_the_launcher_is_killed(repo_root, tmp_path):
    """Killed by SIGKILL, the launcher cannot forward anything: the kernel sends each rank SIGTERM
    (PR_SET_PDEATHSIG), which ends it as torchrun's SIGTERM does. The ranks are stopped first, so the SIGTERM is
    seen pending, not raced against the ranks finishing by themselves."""
    pytest.importorskip("torch", reason="dist needs torch")
    run = Run(["dist", "--nproc", "2", "--device", "cpu"], repo_root, tmp_path)
    run.wait_for(r"^PASS init")
    ranks = fakes.children(run.pid)
    assert len(ranks) == 2
    try:
        stopped(ranks)
        os.kill(run.pid, signal.SIGKILL)
        run.proc.wait(WAIT)
        assert all(signal.SIGTERM in pending(rank) for rank in ranks)
    finally:
        for rank in ranks:
            if fakes.alive(rank):
                os.kill(rank, signal.SIGCONT)
    assert gone(ranks) == []
    run.finish()
