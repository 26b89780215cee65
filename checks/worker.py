"""Run a command's checks in a worker process, so that a native crash (a segfault, an abort from two OpenMP runtimes
or from a cuDNN load, an illegal instruction) or a hang costs one check, not the run.

The parent, the command the user started, runs `python -m checks COMMAND ARGS --worker STATE` and reads the
worker's standard output: protocol lines (PREFIX + JSON) and everything else the worker and its libraries print,
which is kept for diagnosis and never shown as is. The worker sends `progress` while it collects its facts (so
the parent can say what takes long), `header`, then per check `start` and `result`, then `end`.

When the worker dies in a check, the parent reports that check as a FAIL (how it died and the real error from
its output, see checks/errors.py) and starts a new worker that skips the checks already reported. When no event
arrives within the timeout, it kills the worker (and the worker's own children) and reports the check as hung.
When the worker dies before its header (in `import torch`), the next worker is told so (STATE
`startup_failure`) and runs the checks without importing torch, so the import failure is judged like any other.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

from checks import errors
from checks.machine import children
from checks.report import FAIL, Result, run_check

PREFIX = "\x1echecks-worker "
GRACE = 10.0  # seconds beyond --timeout: a check's own time limits (its child processes) fire first
TAIL = 400  # lines of a worker's other output kept for diagnosis


class Channel:
    """The worker's side: send events to the parent on the real standard output."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, event, **fields):
        """Write one event line and flush it."""
        self.stream.write(PREFIX + json.dumps(dict(fields, event=event), default=str) + "\n")
        self.stream.flush()

    def progress(self, text):
        """Say what the worker is doing now (the parent prints it on stderr and restarts its clock)."""
        self.send("progress", text=text)


def serve(channel, header, jobs, state):
    """Worker: send the header, run each (name, function) not in state["skip"], send each Result, then end the process
    at once (exit status 0): the parent has every result, so the interpreter's teardown (torch's module destructors
    and atexit handlers) would only delay it. The parent then kills the worker's process group (Worker.kill), so no
    process the checks started outlives it. Never returns."""
    if hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops this worker
    channel.send("header", header=header)
    skip = set(state.get("skip", ()))
    for name, func in jobs:
        if name in skip:
            continue
        channel.send("start", name=name)
        channel.send("result", result=run_check(name, func).to_dict())
    channel.send("end")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def result_from(fields):
    """Return the Result an event carries."""
    result = Result(
        name=fields["name"],
        status=fields["status"],
        summary=fields["summary"],
        expected=fields["expected"],
        actual=fields["actual"],
        hint=fields["hint"],
        data=fields["data"],
    )
    result.seconds = fields.get("seconds")
    return result


class Worker:
    """One running worker process and the lines it printed."""

    def __init__(self, argv, state):
        # A new session: Ctrl-C at the terminal is the parent's, which stops the worker. SIGKILL when the parent
        # dies, even by SIGKILL (Linux; children.dies_with_parent): no worker outlives the command. The worker
        # `python -m checks verify` began before its own imports (children.start_early) is taken when it matches.
        command = children.worker_command(argv, state)
        self.proc = children.adopt(command) or children.worker_popen(command)
        self.events, self.output = queue.Queue(), []
        self.reader = threading.Thread(target=self._read, name="worker-reader", daemon=True)
        self.reader.start()

    def _read(self):
        try:
            for raw in iter(self.proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                at = line.find(PREFIX)
                if at < 0:
                    self.events.put(("output", line))
                    continue
                if at:
                    self.events.put(("output", line[:at]))  # a library's unterminated print before ours
                try:
                    self.events.put(("event", json.loads(line[at + len(PREFIX) :])))
                except ValueError:
                    self.events.put(("output", line))
        finally:
            self.proc.stdout.close()
            self.events.put(("eof", None))

    def send(self, facts):
        """Hand the worker the parent's facts (one JSON line on its standard input, which then closes): the worker
        reads them once torch is imported, so the two collect at the same time. The line is written from a thread:
        one longer than the pipe holds (64 KiB on Linux; the handed-over project scans can be) would otherwise block
        the parent until the worker reads, and a worker hung in `import torch` never does, so the parent's timeout
        would never fire."""
        data = (json.dumps(facts) + "\n").encode()
        threading.Thread(target=self._write, args=(data,), name="checks-worker-stdin", daemon=True).start()

    def _write(self, data):
        try:
            self.proc.stdin.write(data)
        except (OSError, ValueError):  # it died already: its end is read from its output
            pass
        finally:
            try:
                self.proc.stdin.close()
            except (OSError, ValueError):  # the rest of the line could not be flushed to a dead worker
                pass

    def next(self, timeout):
        """Return the next ("event", dict) / ("eof", None), keeping other output; ("hung", None) after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                kind, value = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return "hung", None
            if kind != "output":
                return kind, value
            self.output.append(value)
            del self.output[:-TAIL]

    def ended(self):
        """Wait for the process; return how it ended abnormally (errors.crash) or `exited with N`, or None."""
        code = self.proc.wait()
        return errors.crash(code) or ("exited with %d" % code if code else None)

    def finish(self):
        """Let a worker that sent `end` exit (killed if it lingers), and its output be read."""
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def kill(self):
        """Kill the worker and every process it started (on POSIX its whole process group, also after the worker
        itself has exited: a compiler's pool it started may still be there)."""
        try:
            if os.name == "posix":
                os.killpg(self.proc.pid, signal.SIGKILL)
            elif self.proc.poll() is None:
                self.proc.kill()
        except OSError:
            pass  # the group is empty (ESRCH): every process of it has exited
        self.proc.wait()
        self.reader.join(timeout=5)


class Supervisor:
    """The parent's side: start workers, turn their events into Results, survive their crashes and hangs.

    `diagnose(name, found, how)` returns the FAIL Result of a check whose worker died (`how`: errors.crash text,
    `hung after N s`) with `found` (errors.Found) from its output; `progress(text)` shows what a worker is doing.
    """

    def __init__(self, argv, timeout, diagnose, progress=None):
        self.argv, self.timeout, self.diagnose, self.progress = argv, timeout + GRACE, diagnose, progress
        self.state, self.worker, self.header = dict(children.FIRST_STATE, skip=[]), None, None
        self.facts = {}  # what the parent hands every worker on its standard input
        self.names = set()  # checks reported so far

    def launch(self):
        """Start the first worker now, before the parent collects its facts (the worker's interpreter start and
        `import torch` overlap them); start() hands it those facts."""
        self.worker = Worker(self.argv, self.state)

    def _new_worker(self):
        self.worker = Worker(self.argv, self.state)
        self.worker.send(self.facts)

    def start(self, facts=None):
        """Hand the launched worker `facts`, and return its header (a worker that cannot start is restarted as
        `startup_failure`; a second failure raises RuntimeError with the cause)."""
        self.facts = facts or {}
        if self.worker is None:
            self.launch()
        self.worker.send(self.facts)
        while self.header is None:
            if self.worker is None:
                self._new_worker()
            try:
                kind, value = self._first_event()
            except BaseException:  # Ctrl-C, SIGTERM, SIGHUP while the worker starts: it ends with the parent
                self.worker.kill()
                raise
            if kind == "event" and value["event"] == "header":
                self.header = value["header"]
                return self.header
            how = self._stop(kind)
            found = errors.extract("\n".join(self.worker.output))
            if "startup_failure" in self.state:
                raise RuntimeError("the check's worker process %s again: %s" % (how, found.line))
            self.state["startup_failure"] = {"how": how, "output": "\n".join(self.worker.output[-80:])}
            self.worker = None

    def _first_event(self):
        """Return the worker's first event other than progress (shown as it comes)."""
        while True:
            kind, value = self.worker.next(self.timeout)
            if kind == "event" and value["event"] == "progress":
                self._progress(value["text"])
                continue
            return kind, value

    def _progress(self, text):
        if self.progress:
            self.progress(text)

    def _stop(self, kind):
        """End a worker that hung or died; return how it ended."""
        if kind == "hung":
            self.worker.kill()
            return "did not answer within %g s" % self.timeout
        if kind == "event":  # an event out of order: a protocol error, not expected
            self.worker.kill()
            return "sent an unexpected event"
        return self.worker.ended() or "exited without finishing"

    def results(self):
        """Yield the Results of every check, restarting the worker after a crash or hang; kill it when done."""
        try:
            yield from self._results()
        finally:
            if self.worker is not None:
                self.worker.kill()

    def _results(self):
        current = None
        while True:
            kind, value = self.worker.next(self.timeout)
            event = value["event"] if kind == "event" else None
            if event == "header":
                continue  # a restarted worker's header: the first one was printed
            if event == "progress":
                self._progress(value["text"])
            elif event == "start":
                current, self.worker.output = value["name"], []
            elif event == "result":
                result = result_from(value["result"])
                self.names.add(result.name)
                current = None
                yield result
            elif event == "end":
                self.worker.finish()
                return
            else:
                how = self._stop(kind)
                found = errors.extract("\n".join(self.worker.output))
                if current is None:  # it died between checks: nothing to skip on a restart
                    yield Result(
                        name="worker", status=FAIL, summary="the check's worker process %s: %s" % (how, found.line)
                    )
                    return
                self.names.add(current)
                yield self.diagnose(current, found, how)
                self.state["skip"] = sorted(self.names)
                self._new_worker()
                current = None
