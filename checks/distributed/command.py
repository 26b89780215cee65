"""`python -m checks dist`: prove that the processes of a multi-GPU or multi-node job talk, correctly and fast."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import warnings

from checks import errors, runner
from checks.distributed import absence, network, rendezvous
from checks.distributed import measure as dm
from checks.distributed.chart import write_chart
from checks.distributed.world import Session, watch_sigterm
from checks.machine import children, probe, provenance, system
from checks.report import EXIT_FAILED, EXIT_USAGE, FAIL, WARN, Report, Result, UsageError, interruption

DIST_VERSION = 1
TORCHRUN = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")
SLURM = ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE")
LAUNCH = ("launcher", "rank", "world", "local_rank", "local_world", "addr", "port")
UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}


def parse_size(text):
    """Return the bytes of `4096`, `64K`, `1MiB` or `1G` (binary units); raise ValueError if it is not one."""
    match = re.match(r"^(\d+)\s*([kmg]?)(i?b)?$", text.strip(), re.IGNORECASE)
    if not match:
        raise ValueError("--sizes: %r is not a size (examples: 4096, 64K, 1MiB, 1G)" % text)
    nbytes = int(match.group(1)) * UNITS[match.group(2).lower()]
    if nbytes < 4 or nbytes % 4:
        raise ValueError("--sizes: %r is not a positive multiple of 4 bytes (float32 elements)" % text)
    return nbytes


SPEC = runner.Spec(
    "dist",
    "Check a distributed job's processes: all join, an all-reduce is exact on every rank, barriers pass; then "
    "all-reduce bus bandwidth per message size. Launch with `torchrun --nproc-per-node N -m checks dist` or srun; "
    "alone it runs as 1 process. Exit 0: passed; 1: a check failed (missing, hung, dead or wrong ranks are named); "
    "2: usage error or no usable torch; 3: internal error; 128+N: stopped by signal N (130 Ctrl-C, 143 SIGTERM).",
    options=("json", "quick", "device", "timeout"),
    quick="fewer message sizes, shorter timing",
    timeout=60.0,
    chart=True,
    needs_torch=True,
)


def add_arguments(parser):
    """dist's own options: message sizes, and starting the ranks without a launcher."""
    parser.add_argument("--sizes", nargs="+", metavar="SIZE", help="message sizes to time, e.g. 1K,1M,64MiB")
    parser.add_argument(
        "--nproc",
        metavar="N",
        help="without a launcher: start N processes on this machine (`gpu`: one per GPU; `auto`: one per GPU, "
        "else 2 on CPU); for several machines use torchrun or srun",
    )


def check_args(args):
    """Validate --nproc and parse --sizes; raise UsageError naming the bad value."""
    if args.nproc not in (None, "gpu", "auto") and not (args.nproc.isdigit() and int(args.nproc) >= 1):
        raise UsageError("--nproc: %r is not a process count, `gpu` or `auto`" % args.nproc)
    try:
        args.sizes = sorted({parse_size(t) for arg in args.sizes or () for t in arg.split(",") if t.strip()}) or None
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _int(environ, name, default=None):
    value = environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise UsageError("%s=%r is not a whole number" % (name, value))
    return int(value)


def launch_env(environ):
    """Return this process's place in the world from torchrun's variables, else SLURM's (srun), else a world of 1."""
    if "RANK" in environ or "WORLD_SIZE" in environ:
        names, launcher = TORCHRUN, "torchrun" if "TORCHELASTIC_RUN_ID" in environ else "RANK/WORLD_SIZE"
        fix = "launch with torchrun, or set RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT for every process"
    elif "SLURM_PROCID" in environ and "SLURM_NTASKS" in environ:
        names, launcher = SLURM, "srun"
        fix = rendezvous.SLURM_FIX
    else:
        return dict(zip(LAUNCH, (None, 0, 1, 0, 1, None, None)))
    missing = [n for n in names[:2] + ("MASTER_ADDR", "MASTER_PORT") if not environ.get(n, "").strip()]
    if missing and names is TORCHRUN and not any(n in missing for n in names[:2]):
        # env:// rendezvous reads MASTER_ADDR and MASTER_PORT and fails without them (torch/distributed/rendezvous.py,
        # _env_rendezvous_handler: "environment variable MASTER_ADDR expected, but not set"); only a launcher sets them.
        raise UsageError(
            "%s not set: %s is set%s, so the rendezvous is env://, which needs them: export MASTER_ADDR=<rank 0's "
            "host, localhost on one machine> MASTER_PORT=<a free port, e.g. 29500> for every process, or launch "
            "with torchrun (it sets them)"
            % (
                " and ".join(missing) + (" is" if len(missing) == 1 else " are"),
                "/".join(names[:2]),
                " by hand (no launcher)" if launcher == "RANK/WORLD_SIZE" else " by %s" % launcher,
            )
        )
    if missing:
        raise UsageError("%s is set but not %s: %s" % (names[0], ", ".join(missing), fix))
    rank, world, port = _int(environ, names[0]), _int(environ, names[1]), _int(environ, "MASTER_PORT")
    if world < 1 or rank >= world:
        raise UsageError("%s=%d with %s=%d: a rank is 0 to world size - 1" % (names[0], rank, names[1], world))
    if not 0 < port < 65536:
        raise UsageError("MASTER_PORT=%d is not a TCP port (1-65535)" % port)
    local_world = environ.get(names[3], "").strip()  # SLURM_NTASKS_PER_NODE exists only with --ntasks-per-node
    local_world = int(local_world) if local_world.isdigit() else None
    addr = environ["MASTER_ADDR"].strip()
    return dict(zip(LAUNCH, (launcher, rank, world, _int(environ, names[2], rank), local_world, addr, port)))


def start_local_world(torch, args, argv):
    """Start --nproc copies of this check on this machine, as torchrun would; return the worst exit code."""
    gpus = torch.cuda.device_count() if torch.cuda.is_available() and args.device != "cpu" else 0
    if args.nproc == "gpu" and not gpus:
        raise UsageError("--nproc gpu: torch sees no usable CUDA GPU here; use --nproc 2 --device cpu")
    n = int(args.nproc) if args.nproc.isdigit() else gpus or 2
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(n), LOCAL_WORLD_SIZE=str(n))
    base[rendezvous.JOB_VAR] = rendezvous.fresh_job_token()  # the ranks tell their store from another job's by it
    command = [sys.executable, "-m", "checks", "dist", *argv]  # under RANK/WORLD_SIZE, --nproc is ignored
    print("dist: starting %d processes on this machine (RANK 0-%d, port %d)" % (n, n - 1, port), file=sys.stderr)
    if hasattr(signal, "pthread_sigmask"):  # main() blocked SIGTERM for the ranks' watcher; the launcher takes it
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    # Each rank gets SIGTERM when this launcher dies, even by SIGKILL (Linux), and then ends as under torchrun.
    procs = [
        subprocess.Popen(
            command,
            env=dict(base, RANK=str(r), LOCAL_RANK=str(r), GROUP_RANK="0"),
            preexec_fn=children.dies_with_parent(signal.SIGTERM),
        )
        for r in range(n)
    ]
    try:
        code = procs[0].wait()
        deadline = time.monotonic() + 10  # the others finish with rank 0, or have failed already
        for proc in procs[1:]:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        return max([code] + [p.wait() for p in procs[1:]])
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM or SIGHUP (report.Interrupted)
        return stop_ranks(procs, exc)


STOP_GRACE = 30.0  # seconds a rank has to write its report after the launcher forwarded a signal


def stop_ranks(procs, exc):
    """The launcher was stopped by a signal: forward it to every rank still running, wait for them (SIGKILL after
    STOP_GRACE), say on stderr which ranks it stopped; return 128 + the signal's number (130 for Ctrl-C).

    Ctrl-C at a terminal reaches every rank too (one process group): the ranks get 5 s to stop by themselves
    before the launcher sends SIGINT in turn. SIGTERM and SIGHUP reach the launcher alone (kill, a scheduler): it
    forwards them at once; a rank stopped by SIGTERM ends as under torchrun (its report names the ranks)."""
    name, code = interruption(exc)
    signum = getattr(signal, name, signal.SIGINT)
    if signum == signal.SIGINT:
        deadline = time.monotonic() + 5
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
    stopped = []
    for rank, proc in enumerate(procs):
        if proc.poll() is None:
            try:
                proc.send_signal(signum)
                stopped.append(rank)
            except OSError:
                pass
    deadline, killed = time.monotonic() + STOP_GRACE, []
    for rank, proc in enumerate(procs):
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            killed.append(rank)
    what = "sent %s to rank%s %s" % (name, "" if len(stopped) == 1 else "s", _ranks(stopped)) if stopped else None
    print(
        "dist: %s: %s%s"
        % (
            name,
            what or "every rank had already ended",
            "; killed rank%s %s after %g s" % ("" if len(killed) == 1 else "s", _ranks(killed), STOP_GRACE)
            if killed
            else "",
        ),
        file=sys.stderr,
        flush=True,
    )
    return code


def _ranks(ranks):
    return ", ".join(str(r) for r in ranks)


class Unusable(Exception):
    """--device cuda asked for, but not usable here: a FAIL (exit 1), as in train and bench."""


def choose_device(torch, asked, launch, visible=None):
    """Return (device, backend, GPU index): NCCL, one process per GPU, or gloo on CPU; UsageError if impossible."""
    dist = torch.distributed
    if not dist.is_available():
        raise UsageError("this torch is built without torch.distributed: install an official build")
    cuda = torch.cuda.is_available()
    device = asked if asked != "auto" else ("cuda" if cuda and dist.is_nccl_available() else "cpu")
    if device == "cpu":
        if not dist.is_gloo_available():
            raise UsageError("this torch has no gloo backend, which the CPU check and the control plane use")
        return "cpu", "gloo", None
    if not cuda:
        raise Unusable("torch sees no usable CUDA GPU here; run with --device cpu")
    if not dist.is_nccl_available():
        raise Unusable("NCCL is not in this torch (Linux CUDA builds have it)")
    count, local = torch.cuda.device_count(), max(launch["local_world"] or 0, launch["local_rank"] + 1)
    # One visible GPU per process (srun --gpus-per-task=1 sets CUDA_VISIBLE_DEVICES so): cuda:0, whatever the
    # local rank. torchrun never binds GPUs to processes that way.
    if count == 1 and visible and "," not in visible and launch["launcher"] != "torchrun":
        return "cuda", "nccl", 0
    if local > count:
        fix = "one process per GPU: launch with --nproc-per-node %d" % count
        raise UsageError("%d processes on this node but %d GPUs: %s" % (local, count, fix))
    return "cuda", "nccl", launch["local_rank"]


def header(s, sizes):
    """Return the facts printed above the results: launcher, world, backend, devices, method."""
    torch, cuda = s.torch, s.device == "cuda"
    nccl = probe.nccl_version(torch) if cuda else None
    threads = torch.get_num_threads()
    device = "cpu (%d thread%s per rank)" % (threads, "" if threads == 1 else "s")
    if cuda:
        device = "%d x %s here" % (torch.cuda.device_count(), torch.cuda.get_device_name(s.gpu))
    facts = {
        "check": "dist v%d%s" % (DIST_VERSION, " (quick)" if s.quick else ""),
        **probe.header_facts(probe.host(), torch),
        "launcher": s.launch["launcher"] or "none (1 process)",
        "world": "%d process%s: %s" % (s.world, "" if s.world == 1 else "es", dm.host_ranges(s.hosts)),
        "backend": "nccl %s, gloo for control" % nccl if cuda else "gloo",
        "device": device,
        "nccl env": " ".join("%s=%s" % kv for kv in sorted(os.environ.items()) if kv[0].startswith("NCCL_")),
        "sizes": ", ".join(dm.size_label(n) for n in sizes) if s.world > 1 else None,
        "method": "all-reduce SUM of float32, %s per iteration, median per rank, the slowest rank's; "
        "busbw = algbw x 2(n-1)/n (nccl-tests)" % ("CUDA events" if cuda else "wall clock"),
        "timeout": "%g s per step" % s.timeout,
    }
    return {k: v for k, v in facts.items() if v not in (None, "")}


def run(s, missing, sizes):
    """Yield the results in print order: the roll-call and init, then each step of dist_measure."""
    if missing:
        where = "%s:%s" % (s.launch["addr"], s.launch["port"])
        here = [r for r, host in s.hosts.items() if host == socket.gethostname()]
        yield judge_absence(dm.judge_join(missing, s.world, s.timeout, s.hosts, where), missing, s.launch, here)
        return
    yield network.judge(network.collect(os.environ), multi_host=len(set((s.hosts or {}).values())) > 1)
    yield system.verdict(system.collect(), skip=("host name",))
    found = provenance.launcher("torchrun")
    if found is not None and found.foreign():
        yield Result(
            name="launcher",
            status=WARN,
            summary="torchrun on PATH (%s) runs %s, not this Python (%s): a job started with `torchrun` uses that "
            "Python's packages and torch, not this environment's" % (found.path, found.interpreter, sys.executable),
            expected="torchrun of this environment",
            actual=found.interpreter,
            hint="start jobs with this environment's Python: `%s -m torch.distributed.run ...` (torchrun's module), "
            "or put this environment's bin first on PATH" % os.path.basename(sys.executable),
            data={"fact": "%s: #!%s" % (found.path, found.interpreter)},
        )
    yield from s.step("init", s.init_groups)
    for name, func in dm.jobs(s, sizes):
        yield from s.step(name, func)
    s.step("finish", s.leave)


def judge_absence(result, missing, launch, joined_here=(), environ=None, proc="/proc"):
    """Return the roll-call's FAIL `result` with the cause of the missing ranks and its fix where the launch's facts
    decide it (absence.why_missing; joined_here: the ranks that joined from this host), else as it is."""
    environ = os.environ if environ is None else environ
    found = absence.why_missing(absence.collect(environ, launch, proc), missing, joined_here)
    if found is None:
        return result
    return Result(
        name=result.name,
        status=result.status,
        summary="%s: %s" % (result.summary, found.meaning),
        expected=result.expected,
        actual=result.actual,
        hint=found.fix,
        data=dict(result.data, fact=found.fact),
    )


def prepare(args, torch, argv):
    """Place this process in the world, join the others (the roll-call), and plan the steps; rank 0 reports."""
    check_args(args)
    launch = launch_env(os.environ)
    if launch["rank"] != 0:
        warnings.simplefilter("ignore")  # ranks other than 0 stay quiet
    if args.nproc and launch["launcher"] is None:
        return start_local_world(torch, args, argv)
    try:
        device = choose_device(torch, args.device, launch, os.environ.get("CUDA_VISIBLE_DEVICES"))
    except Unusable as exc:
        return runner.unusable(probe.header_facts(probe.host(), torch), "cuda", exc)
    s = Session(torch, args, launch, *device)
    s.rep = Report("dist", ["dist"] + list(argv)) if s.rank == 0 else None
    watch_sigterm(s)
    try:
        s.connect()
    except rendezvous.StoreProblem as problem:
        return store_problem(s, problem)
    try:
        missing = s.join()
    except RuntimeError as exc:  # rank 0 gone during the roll-call
        print("dist: rank %d: error: %s" % (launch["rank"], errors.describe(exc)), file=sys.stderr)
        return leave_now(EXIT_FAILED)
    sizes = args.sizes or dm.default_sizes(s.device, args.quick)
    if s.rank != 0:
        if missing is None:
            print("dist: rank %d: error: rank 0 stopped waiting for the other ranks" % s.rank, file=sys.stderr)
            return leave_now(EXIT_FAILED)
        return runner.Plan({}, results=run(s, missing, sizes), quiet=True)
    s.rep.header = header(s, sizes)
    return runner.Plan(s.rep.header, results=run(s, missing, sizes), chart=write_chart, report=s.rep)


def leave_now(code):
    """End a rank other than 0 at once, after its one line: torch 2.0.1 aborts a process that exits slowly while its
    store client is still connected or rank 0's store goes away meanwhile (`terminate called without an active
    exception`, SIGABRT, seen here on a loaded machine); only rank 0 has a report to finish."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def store_problem(s, problem):
    """This rank did not reach this job's store: a configuration error is one line and exit 2 on every rank (rank 0
    through UsageError, as every usage error); otherwise rank 0 FAILs init in its report and the others print one
    line; exit 1."""
    if s.rank != 0:
        found = (
            None
            if problem.usage
            else absence.loopback_across_nodes(
                absence.collect(os.environ, s.launch), "so this rank looks for rank 0's store on this node"
            )
        )
        if found is not None:
            problem = rendezvous.StoreProblem("%s: %s" % (problem.cause, found.meaning), found.fix, False)
        print("dist: rank %d: error: %s" % (s.rank, problem), file=sys.stderr)
        return leave_now(EXIT_USAGE if problem.usage else EXIT_FAILED)
    if problem.usage:
        raise UsageError(str(problem))
    where = "%s:%s" % (s.launch["addr"], s.launch["port"])
    failed = Result(
        name="init",
        status=FAIL,
        summary=problem.cause,
        expected="this job's store at " + where,
        actual="not reached",
        hint=problem.fix,
    )
    facts = {"check": "dist v%d" % DIST_VERSION, **probe.header_facts(probe.host(), s.torch)}
    return runner.Plan(facts, jobs=[("init", lambda: failed)], report=s.rep)


def main(argv):
    """Run dist on this rank; return the exit code (rank 0 prints the results and writes --json)."""
    # Both before `import torch`: it starts a thread (only dist's SIGTERM thread may receive SIGTERM), and c10 reads
    # TORCH_CPP_LOG_LEVEL as it loads (not c10d's C++ warnings: dist names failures in a line).
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "FATAL")
    return runner.run(SPEC, argv, lambda args, torch: prepare(args, torch, argv), add_arguments)
