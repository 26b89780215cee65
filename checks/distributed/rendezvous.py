"""Opening this job's rendezvous store, and naming what answers on MASTER_ADDR:MASTER_PORT when it is not that store.

Whatever listens on MASTER_ADDR:MASTER_PORT is not taken for this job's store: every step is bounded by --timeout,
and each rank other than 0 checks a job token that rank 0 writes into the store it opens.

What torch prints, per release (reports: github.com/intelligent-machine-learning/dlrover/issues/443,
meta-pytorch/torchtune/issues/392, vllm-project/vllm/issues/39015, KimMeen/Time-LLM/issues/158; the same texts
measured here with torch 2.0.1 and 2.13):
- rank 0 cannot listen: torch 2.0.1 `RuntimeError: The server socket has failed to listen on any local network
  address. The server socket has failed to bind to [::]:29500 (errno: 98 - Address already in use). ...`; 2.2+ the
  same as `torch.distributed.DistNetworkError`; 2.4+ (libuv server) `... address. port: 29500, useIpv6: false,
  code: -98, name: EADDRINUSE, message: address already in use`; ports below 1024 `(errno: 13 - Permission
  denied)`. The cause is in the second sentence: it is matched by errno name, number or text, never one sentence.
- a client: `The client socket has timed out after 3000ms while trying to connect to (127.0.0.1, 29500).` (2.13
  gives up after twice its timeout, 2.0.1 a little before), `The client socket has failed to connect to any network
  address of (h, 29500).`
- a program that is not a TCPStore on the port (measured here with plain sockets): 2.13's client waits for its
  ping's answer forever; 2.0.1's client returns and its first operation fails (`Socket Timeout`, `Connection reset
  by peer`, `Stop_waiting response is expected`), or the process aborts in C++ (`std::bad_alloc`) on a program
  that speaks first (an SSH banner). Hence a plain socket looks first (a TCPStore server never speaks first), and
  the TCPStore is opened in a thread that may be abandoned at the deadline.
"""

import datetime
import errno
import os
import re
import socket
import threading
import time

from checks import errors

TOKEN_KEY = "checks-dist/job"  # not under the run's prefix: another checks dist job's store shows its own token
SLURM_FIX = 'export MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1) MASTER_PORT=29500'
JOB_VAR = "CHECKS_DIST_JOB"  # `--nproc` exports a fresh one to its ranks; set it by hand for ranks started by hand
IN_USE = re.compile(r"EADDRINUSE|errno: (98|48)\b|address already in use", re.IGNORECASE)  # 48: macOS
DENIED = re.compile(r"EACCES|errno: 13\b|permission denied", re.IGNORECASE)
LOOK = 0.2  # seconds a plain socket waits to see whether the program on the port speaks first
UNREACHABLE = "the address is unreachable from here"
REFUSALS = {  # why a connection failed, by errno (Linux and macOS names)
    errno.ECONNREFUSED: "connection refused: nothing listens on that port there",
    errno.EHOSTUNREACH: "no route to host: " + UNREACHABLE,
    errno.ENETUNREACH: "network unreachable: " + UNREACHABLE,
}


class StoreProblem(Exception):
    """This rank did not reach this job's store: `cause` and `fix` in words; `usage` True for a configuration error
    (exit 2: the port or address is wrong for this job), False when rank 0 is just not there (exit 1)."""

    def __init__(self, cause, fix, usage):
        super().__init__("%s; fix: %s" % (cause, fix))
        self.cause, self.fix, self.usage = cause, fix, usage


def job_token(environ, world):
    """Return the token every rank of one job shares: CHECKS_DIST_JOB (`--nproc`), torchrun's run id and restart,
    or srun's job and step; with none of them only the world size tells two hand-started jobs apart."""
    if environ.get(JOB_VAR):
        job = "%s=%s" % (JOB_VAR, environ[JOB_VAR])
    elif environ.get("TORCHELASTIC_RUN_ID"):
        job = "torchrun run %s.%s" % (environ["TORCHELASTIC_RUN_ID"], environ.get("TORCHELASTIC_RESTART_COUNT", 0))
    elif environ.get("SLURM_JOB_ID"):
        job = "SLURM job %s.%s" % (environ["SLURM_JOB_ID"], environ.get("SLURM_STEP_ID", "-"))
    else:
        job = "no job token"
    return "%s, world %d" % (job, world)


def other_port(launch):
    """Return how to give this job another port, in the words of the launcher that set MASTER_PORT."""
    if launch["launcher"] == "torchrun":
        return "pass torchrun another --master-port (or --rdzv-endpoint HOST:PORT)"
    if launch["launcher"] == "srun":
        return "export another MASTER_PORT before srun"
    return "set another MASTER_PORT for every rank (`--nproc` picks a free one itself)"


def listen_problem(exc, launch):
    """Return the StoreProblem of rank 0 failing to open the store it hosts (all configuration errors)."""
    port, text = launch["port"], errors.condense(exc)
    if IN_USE.search(text):
        where = "`ss -ltnp 'sport = :%d'` on this host (%s) names it" % (port, socket.gethostname())
        cause = "the port is in use on this host by another program or job"
        fix = "%s, or stop the stale job holding it (%s)" % (other_port(launch), where)
    elif DENIED.search(text):
        cause = "ports below 1024 need root"
        fix = "use a port from 1024 to 65535 (torch's default is 29500): " + other_port(launch)
    else:
        cause = "rank 0 cannot open its store at MASTER_ADDR:MASTER_PORT=%s:%d (%s)" % (launch["addr"], port, text)
        return StoreProblem(cause, "MASTER_ADDR must name rank 0's host, MASTER_PORT a free port there", True)
    return StoreProblem("rank 0 cannot listen on MASTER_PORT=%d: %s (%s)" % (port, cause, text), fix, True)


def absent_fix(launch):
    """Return what to do when nothing answers on MASTER_ADDR:MASTER_PORT."""
    if launch["agent"] and launch["launcher"] != "torchrun":
        return "unset TORCHELASTIC_USE_AGENT_STORE: no torchrun agent hosts a store at MASTER_ADDR:MASTER_PORT"
    if launch["launcher"] == "torchrun":
        return "give every node's torchrun the same --master-addr/--rdzv-endpoint, the address of a node that is up"
    if launch["launcher"] == "srun":
        return "MASTER_ADDR must name the job's first node: " + SLURM_FIX
    return "start rank 0 with the same MASTER_ADDR and MASTER_PORT on the host MASTER_ADDR names, within --timeout"


def foreign(launch, detail):
    """Return the StoreProblem of reaching something on MASTER_ADDR:MASTER_PORT that is not this job's store."""
    addr, port = launch["addr"], launch["port"]
    cause = "MASTER_ADDR:MASTER_PORT=%s:%d answers, but it is not this job's store: %s" % (addr, port, detail)
    fix = (
        "%s could not listen there (port in use) or runs elsewhere: %s, or stop the other program "
        "(`ss -ltnp 'sport = :%d'` on %s names it)" % (launch["owner"], other_port(launch), port, addr)
    )
    return StoreProblem(cause, fix, True)


def resolve(launch):
    """Raise StoreProblem (a configuration error) if MASTER_ADDR names no address."""
    try:
        socket.getaddrinfo(launch["addr"], launch["port"], type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        cause = "MASTER_ADDR=%s does not resolve to an address (%s)" % (launch["addr"], exc.strerror or exc)
        raise StoreProblem(cause, "set MASTER_ADDR to rank 0's hostname or IP address on every rank", True) from None


def probe(launch, deadline):
    """Wait until something accepts a TCP connection on MASTER_ADDR:MASTER_PORT; raise StoreProblem if nothing
    does by the deadline, or if the program there speaks first or hangs up."""
    addr, port, reason = launch["addr"], launch["port"], "no answer"
    while time.monotonic() < deadline:
        try:
            sock = socket.create_connection((addr, port), timeout=max(0.05, min(1.0, deadline - time.monotonic())))
        except socket.timeout:
            reason = "connecting timed out: a firewall drops the packets, or " + UNREACHABLE
        except OSError as exc:  # refused (nothing listens yet), no route
            reason = REFUSALS.get(exc.errno, exc.strerror or str(exc))
        else:
            with sock:
                return look(sock, launch)
        time.sleep(max(0.0, min(0.1, deadline - time.monotonic())))
    cause = (
        "nothing answers on MASTER_ADDR:MASTER_PORT=%s:%d within %g s (%s): %s is not there (not started yet, "
        "failed, or on another host)" % (addr, port, launch["timeout"], reason, launch["owner"])
    )
    raise StoreProblem(cause, absent_fix(launch), False)


def look(sock, launch):
    """Return if the program that accepted the connection stays silent, as a TCPStore server does until asked;
    raise StoreProblem if it speaks first or hangs up at once."""
    sock.settimeout(LOOK)
    try:
        first = sock.recv(64)
    except socket.timeout:
        return
    except OSError:
        first = b""
    if first:
        said = first.decode("ascii", "replace").split("\n")[0].strip()[:40]
        raise foreign(launch, "the program there spoke first (%r), which a TCPStore never does" % said)
    raise foreign(launch, "the program there hung up at once, which a TCPStore never does")


class Late(Exception):
    """bounded(): the function did not return by the deadline."""


def bounded(func, deadline):
    """Return func() run in a thread, or raise Late at the deadline (the thread is left to itself)."""
    box = {}

    def target():
        try:
            box["value"] = func()
        except Exception as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="dist-open-store", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if thread.is_alive():
        raise Late
    if "error" in box:
        raise box["error"]
    return box["value"]


def check_token(store, token, launch, deadline):
    """Wait until the store holds this job's token (rank 0 writes it); raise StoreProblem at the deadline."""
    seen = None
    try:
        store.wait([TOKEN_KEY], timeout_of(deadline - time.monotonic()))
        while True:
            seen = store.get(TOKEN_KEY).decode("utf-8", "replace")
            if seen == token or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
    except Exception:  # the wait timed out, or the program there is not a TCPStore: either way no token
        pass
    if seen == token:
        return
    if seen is None:
        detail = (
            "no rank 0 of this job wrote the job's token there within %g s (another job's store, or a "
            "program that is not a TCPStore)" % launch["timeout"]
        )
    else:
        detail = "it holds another job's token (%s; this job: %s)" % (seen, token)
    raise foreign(launch, detail)


def open_store(dist, launch, timeout, token, agent=False):
    """Return this job's raw TCPStore at MASTER_ADDR:MASTER_PORT within timeout: rank 0 hosts it (unless a torchrun
    agent does: agent) and writes the job token into it, the others check the token. Raise StoreProblem otherwise."""
    addr, port, deadline = launch["addr"], launch["port"], time.monotonic() + timeout
    owner = "this job's rank 0"
    if agent:
        owner = "torchrun's agent" if launch["launcher"] == "torchrun" else "the agent of TORCHELASTIC_USE_AGENT_STORE"
    launch, host_it = dict(launch, timeout=timeout, agent=agent, owner=owner), launch["rank"] == 0 and not agent
    resolve(launch)
    if not host_it:
        probe(launch, deadline)
    left = max(0.5, deadline - time.monotonic())
    try:
        store = bounded(
            lambda: dist.TCPStore(addr, port, None, host_it, timeout_of(left), wait_for_workers=False), deadline
        )
    except Late:  # torch 2.13's client waits forever for a ping's answer from a program that is silent
        if host_it:  # its own client part connects to MASTER_ADDR: another host's
            cause = "rank 0 listens on MASTER_PORT=%d but does not reach itself at MASTER_ADDR=%s within %g s" % (
                port,
                addr,
                timeout,
            )
            raise StoreProblem(cause, "MASTER_ADDR must name rank 0's own host", True) from None
        detail = "it accepted the connection but did not answer as a TCPStore within %g s" % timeout
        raise foreign(launch, detail) from None
    except Exception as exc:  # torch's TCPStore errors are RuntimeError (2.0) or DistError subclasses (2.2+)
        if host_it:
            raise listen_problem(exc, launch) from None
        if re.search(r"timed out|failed to connect", str(exc)):  # the program went away after the probe
            cause = "MASTER_ADDR:MASTER_PORT=%s:%d stopped answering (%s)" % (addr, port, errors.condense(exc))
            raise StoreProblem(cause, absent_fix(launch), False) from None
        raise foreign(launch, "it does not answer as a TCPStore (%s)" % errors.describe(exc)) from None
    if launch["rank"] == 0:
        store.set(TOKEN_KEY, token)
    else:
        check_token(store, token, launch, deadline)
    return store


def timeout_of(seconds):
    """Return a store or process-group timeout of `seconds` (at least 0.05 s: c10d refuses zero)."""
    return datetime.timedelta(seconds=max(0.05, seconds))


def fresh_job_token():
    """Return a new CHECKS_DIST_JOB value for the ranks one `--nproc` starts."""
    return os.urandom(8).hex()
