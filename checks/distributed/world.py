"""dist's control plane: the rendezvous store for roll-call and progress, and ending a run that a rank broke."""

import os
import re
import signal
import socket
import sys
import threading
import time

from checks import diagnosis, errors, runner
from checks.distributed import measure as dm
from checks.distributed import rendezvous
from checks.distributed.chart import write_chart
from checks.report import EXIT_FAILED, FAIL, PASS, Result

BEAT = 0.5  # seconds between heartbeats: a rank whose heartbeat stops is dead or frozen, not just waiting
# The variables each backend reads (NCCL: docs.nvidia.com/deeplearning/nccl/user-guide/docs/env.html; gloo and
# c10d: pytorch.org/docs/stable/distributed.html, "Common environment variables" and "Logging").
# The diagnosis rules that rest on this host's facts (checks/diagnosis/), not on a failure text alone.
HINTS = {
    "nccl": "look at the named ranks' hosts (dmesg, nvidia-smi, `python -m checks verify`); rerun with "
    "NCCL_DEBUG=INFO, and NCCL_SOCKET_IFNAME=<nic> where the hosts have several networks",
    "gloo": "look at the named ranks' hosts (dmesg, `python -m checks verify`); set GLOO_SOCKET_IFNAME=<nic> where "
    "the hosts have several networks; rerun with TORCH_CPP_LOG_LEVEL=INFO for c10d's and gloo's own messages",
}
# Who sends SIGTERM to every rank, per launcher (torchrun: torch/distributed/elastic/agent; srun: --kill-on-bad-exit,
# scancel and the time limit send it).
SIGTERM_FROM = {
    "torchrun": "torchrun stops every rank once one exits or fails",
    "srun": "srun stops every task once one fails, or the job was cancelled or reached its time limit",
}


class Session:
    """One rank: its place in the world, the rendezvous store as control plane, and how a failure ends the run."""

    def __init__(self, torch, args, launch, device, backend, gpu):
        self.torch, self.launch, self.device, self.backend, self.gpu = torch, launch, device, backend, gpu
        self.rank, self.world, self.local_rank = launch["rank"], launch["world"], launch["local_rank"]
        self.quick, self.timeout, self.json_path = args.quick, args.timeout, args.json
        self.device_name = "cuda:%d" % gpu if device == "cuda" else "cpu"
        self.rep = self.store = self.ctrl = None  # ctrl: the gloo group for control (None: the default group)
        self.phase, self.hosts, self.grace = "join", {}, max(3 * BEAT, min(3.0, self.timeout / 2))
        self._store_lock, self._ending = threading.Lock(), threading.Lock()
        self.store_silent = False  # a call waited past the grace period behind one the store never answered
        self.watchdog = _Watchdog(self)

    def op(self, name, *args):
        """Call one store method, serialised across this rank's threads; raise StoreSilent when another thread's call
        holds the store past the grace period (and at once after the first such wait, so that ending the run does
        not wait again for each call)."""
        wait = 0.5 if self.store_silent else self.grace + 5
        if not self._store_lock.acquire(timeout=wait):
            self.store_silent = True
            raise StoreSilent("could not reach the rendezvous store (no answer within %g s)" % (self.grace + 5))
        try:
            return getattr(self.store, name)(*args)
        finally:
            self._store_lock.release()

    def connect(self):
        """Open the store: torchrun's agent store, or the one rank 0 hosts (srun, torch 2.0's torchrun, manual), and
        make sure it is this job's (rendezvous.open_store); raise rendezvous.StoreProblem naming the cause."""
        dist = self.torch.distributed
        if self.world == 1:
            self.store = dist.HashStore()
            return
        agent = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
        token = rendezvous.job_token(os.environ, self.world)
        store = rendezvous.open_store(dist, self.launch, self.timeout, token, agent)
        store.set_timeout(rendezvous.timeout_of(self.timeout + 15))  # a store operation may wait for rank 0's roll-call
        run = "%s.%s" % (os.environ.get("TORCHELASTIC_RUN_ID", "run"), os.environ.get("TORCHELASTIC_RESTART_COUNT", 0))
        self.store = dist.PrefixStore("checks-dist/%s/" % run, store)

    def mark(self, phase):
        """Say in the store which step this rank is in (rank 0 names the laggards from it)."""
        self.phase = phase
        self.op("set", "phase/%d" % self.rank, phase)
        self.op("add", "step/%d" % self.rank, 1)

    def join(self):
        """Roll-call: every rank checks in; rank 0 waits up to --timeout and returns the ranks that did not."""
        self.op("set", "host/%d" % self.rank, socket.gethostname())
        self.mark("join")
        self.op("add", "joined", 1)
        self.beat()
        if self.rank != 0:
            self.store.wait(["go"])
            go = self.store.get("go")
            self.store.add("read", 1)  # rank 0 may host the store: it waits for this before it exits
            return [] if go == b"ok" else None
        deadline = time.monotonic() + self.timeout
        while self.op("add", "joined", 0) < self.world and time.monotonic() < deadline:
            time.sleep(0.05)
        missing = [r for r in range(self.world) if not self.op("add", "step/%d" % r, 0)]
        self.hosts = {r: self.op("get", "host/%d" % r).decode() for r in range(self.world) if r not in missing}
        self.op("set", "go", "abort" if missing else "ok")
        deadline = time.monotonic() + self.grace
        while missing and self.op("add", "read", 0) < len(self.hosts) - 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        return missing

    def init_groups(self):
        """Create the process group (NCCL or gloo) and, beside NCCL, a gloo group for control."""
        dist, pg_timeout = (
            self.torch.distributed,
            rendezvous.timeout_of(self.timeout + 60),
        )  # dist's watchdog fires first
        if self.device == "cuda":
            self.torch.cuda.set_device(self.gpu)
        store = dist.PrefixStore("pg/", self.store)
        dist.init_process_group(self.backend, store=store, rank=self.rank, world_size=self.world, timeout=pg_timeout)
        if self.backend != "gloo":
            self.ctrl = dist.new_group(backend="gloo", timeout=pg_timeout)
        backend = self.backend + (" + gloo for control" if self.ctrl else "")
        if self.world == 1:
            return [Result(name="init", status=PASS, summary="%s (%s process group up)" % (dm.SINGLE, backend))]
        text = "%d of %d ranks joined from %s; %s process group up" % (
            self.world,
            self.world,
            self.count_hosts(),
            backend,
        )
        return [
            Result(name="init", status=PASS, summary=text, data={"hosts": {str(r): h for r, h in self.hosts.items()}})
        ]

    def count_hosts(self):
        """Return `1 host` or `N hosts` (rank 0 knows them from the roll-call)."""
        count = len(set(self.hosts.values()))
        return "%d host%s" % (count, "" if count == 1 else "s")

    def step(self, name, func):
        """Run one step on this rank within --timeout; a failure ends the run (rank 0 names the ranks). Saying the
        step in the store is part of it: a store that stops answering ends the step too (a rank frozen in the middle
        of a request stalls the whole store before torch 2.4's libuv server; seen in CI on torch 2.0.1)."""
        self.watchdog.arm(name)
        start = time.perf_counter()
        try:
            self.mark(name)
            results = func()
        except StoreSilent as exc:
            self.end(name, str(exc))
        except Exception as exc:
            self.end(name, failed(exc))
        finally:
            self.watchdog.disarm()
        for result in results:
            result.seconds = round(time.perf_counter() - start, 4)
        return results

    def end(self, phase, why):
        """Stop the run: post this rank's failure; rank 0 names who did not answer, prints, writes; exit 1."""
        if not self._ending.acquire(blocking=False):
            threading.Event().wait()  # another thread of this rank is already ending the run

        def post():
            try:
                self.op("set", "why/%d" % self.rank, why)
                self.op("add", "down/%d" % self.rank, 1)
            except Exception:
                pass  # the store went with rank 0 (srun or manual launch): nobody is left to tell
            if self.rank != 0:
                try:  # stay until rank 0 has read every rank's state
                    self.store.wait(["over"], rendezvous.timeout_of(self.grace + 2))
                except Exception:
                    pass

        if self.rank != 0:
            print("dist: rank %d %s (in %s)" % (self.rank, why, phase), file=sys.stderr, flush=True)
        # A store call is bounded by its own timeout only while its host answers: a client of a store whose host
        # is gone can stay in the call (a torch 2.0.1 rank, its torchrun killed, was still running 20 minutes later
        # with a thread spinning), so the calls run in a thread this rank stops waiting for.
        poster = threading.Thread(target=post, name="dist-end", daemon=True)
        poster.start()
        poster.join(self.grace + 5)
        if self.rank != 0:
            os._exit(EXIT_FAILED)
        others = self.others()
        summary, actual = dm.describe_failure("rank 0 " + why, *others, backend=self.backend)
        expected = "every rank finishes %s within --timeout %g s" % (phase, self.timeout)
        hint = HINTS.get(self.backend, HINTS["gloo"])
        if others[0] is None:  # the store itself did not answer: where it is, and what stalls it
            hint = store_silent_hint(self.torch.__version__, self.launch)
        cause = diagnosis.explain("%s\n%s" % (summary, actual or ""), diagnosis.gather())
        # a fact of this host decides it, or CUDA's documented meaning of its error code: its fix, not the general
        # advice
        if cause.rule in diagnosis.FACT_RULES or cause.rule == "cuda-error":
            summary, hint = "%s (%s)" % (summary, cause.meaning), cause.fix
        runner.abort(
            self.rep,
            Result(name=phase, status=FAIL, summary=summary, expected=expected, actual=actual, hint=hint),
            self.json_path,
            write_chart,
        )

    def others(self):
        """Give the others a grace period; return silent and waiting ranks' last steps, failed ranks' reasons."""
        try:
            others, deadline, down = [r for r in range(self.world) if r != self.rank], time.monotonic() + self.grace, []
            beats = {r: self.op("add", "beat/%d" % r, 0) for r in others}
            while len(down) < len(others) and time.monotonic() < deadline:
                time.sleep(0.25)
                down = [r for r in others if self.op("add", "down/%d" % r, 0)]
            steps = {r: self.op("get", "phase/%d" % r).decode() for r in others if r not in down}
            alive = {r for r in steps if self.op("add", "beat/%d" % r, 0) > beats[r]}
            failed = {r: self.op("get", "why/%d" % r).decode() for r in down}
            self.op("set", "over", "1")
            silent = {r: step for r, step in steps.items() if r not in alive}
            return silent, {r: step for r, step in steps.items() if r in alive}, failed
        except Exception:
            return None, None, None

    def beat(self):
        """Bump this rank's heartbeat in the store twice a second, from a thread, until the store goes away."""

        def loop():
            try:
                while True:
                    self.op("add", "beat/%d" % self.rank, 1)
                    time.sleep(BEAT)
            except Exception:
                return

        threading.Thread(target=loop, name="dist-heartbeat", daemon=True).start()

    def leave(self):
        """After the last step: a barrier, tear the groups down, and let rank 0 (maybe hosting the store) go last."""
        self.torch.distributed.barrier(group=self.ctrl)
        # torch 2.0.1's gloo teardown can stay in destroy_process_group() after the barrier has passed (CI: rank 0 of
        # `dist --nproc 2`, its main thread there 8 minutes after rank 1 had left, py-spy's dump): every rank has
        # passed, so the teardown is given the grace period and then left to the process's exit
        teardown = threading.Thread(
            target=self.torch.distributed.destroy_process_group, name="dist-teardown", daemon=True
        )
        teardown.start()
        teardown.join(self.grace)
        self.op("add", "left", 1)
        deadline = time.monotonic() + self.grace
        while self.rank == 0 and self.op("add", "left", 0) < self.world and time.monotonic() < deadline:
            time.sleep(0.05)
        return []


def store_silent_hint(version, launch):
    """Return the fix for a rendezvous store that stopped answering. Before torch 2.4 the TCPStore server reads each
    request to its end with blocking reads, so one client stopped in the middle of a request (a rank frozen: SIGSTOP,
    a debugger, a node swapping) stalls it for every rank (tests/distributed/test_command.py reproduces it with
    torch 2.0.1); from 2.4 its libuv server serves the others meanwhile (torch 2.4 release notes: libuv TCPStore
    backend by default)."""
    where = "%s:%s" % (launch.get("addr") or "MASTER_ADDR", launch.get("port") or "MASTER_PORT")
    release = tuple(int(x) for x in re.findall(r"\d+", version)[:2])
    if release and release < (2, 4):
        return (
            "the store at %s (rank 0 hosts it) stopped answering: on torch %s one rank stopped in the middle of a "
            "request stalls it for all; look for a frozen or stopped rank process (`ps -o pid,stat,cmd` shows T or "
            "D) on each host, or a host that swaps" % (where, version)
        )
    return (
        "the store at %s (rank 0 or torchrun's agent hosts it) stopped answering: check that its host is up and "
        "reachable from every node, and that its process is not stopped (`ps -o pid,stat,cmd`)" % where
    )


class StoreSilent(RuntimeError):
    """A store call of this rank could not start: another of its calls has waited on the store past the grace
    period."""


class _Watchdog(runner.Watchdog):
    """runner.Watchdog whose alarm ends the distributed run: rank 0 names the ranks that did not answer."""

    def __init__(self, session):
        super().__init__(None, session.timeout, None, None)
        self.session = session

    def _fire(self, name):
        self.session.end(name, "did not finish within %g s (--timeout)" % self.seconds)


def failed(exc):
    """Return why a step failed on this rank: the error's type and every sentence that names its cause (gloo, c10d
    and NCCL put the cause in the second one), without C++ source tags (errors.describe)."""
    return "failed: " + errors.describe(exc)


def sigterm_reason(launcher):
    """Return why this rank stopped on SIGTERM, blaming torchrun or srun only when it launched the job."""
    return "stopped by SIGTERM (%s)" % SIGTERM_FROM.get(launcher, "sent from outside the job: kill, a scheduler")


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>: the signal this process gets when its parent exits (prctl(2))


def die_with_launcher(launcher, getppid=os.getppid):
    """Linux, under torchrun: ask the kernel to send this rank SIGTERM when torchrun exits, however it ends (a SIGKILL
    it cannot pass on, a crash, a caller's timeout), so that a rank never outlives its launcher waiting on peers that
    are gone (prctl(2), PR_SET_PDEATHSIG; torchrun starts each rank from its agent's main thread). Returns True when
    it was set; a launcher already gone (the rank re-parented to init) gets the signal at once."""
    if launcher != "torchrun" or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if getppid() == 1:
        os.kill(os.getpid(), signal.SIGTERM)
    return True


def watch_sigterm(session):
    """Turn SIGTERM (torchrun stops every rank when one fails) into a FAIL naming the ranks, even mid-collective."""
    why = sigterm_reason(session.launch["launcher"])
    if not hasattr(signal, "pthread_sigmask"):  # Windows: the handler runs once the main thread is in Python
        signal.signal(signal.SIGTERM, lambda *_: session.end(session.phase, why))
        return

    def wait():
        signal.sigwait({signal.SIGTERM})  # main() blocked it in every thread, so it arrives here
        session.end(session.phase, why)

    threading.Thread(target=wait, name="dist-sigterm", daemon=True).start()
    die_with_launcher(session.launch["launcher"])
