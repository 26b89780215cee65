"""Why ranks missed dist's roll-call, from the launch's facts: the world the variables declare, the nodes it spans,
the scheduler's job, where MASTER_ADDR points, and which ranks of this job run on this host.

Rules and their sources:
- env:// initialisation (torch.distributed docs, "Environment variable initialization"; torch/distributed/
  rendezvous.py, _env_rendezvous_handler): every process reads MASTER_ADDR and MASTER_PORT ("address of the rank 0
  node"), WORLD_SIZE and RANK, and the group forms only once WORLD_SIZE processes have joined rank 0's store. A
  WORLD_SIZE larger than the processes started leaves the started ones waiting for ranks that never come.
- torchrun starts LOCAL_WORLD_SIZE workers per node and exports WORLD_SIZE, LOCAL_WORLD_SIZE and GROUP_WORLD_SIZE
  (its nodes) to each (torch/distributed/elastic/agent/server/local_elastic_agent.py, 2.0.1 to 2.13); a node's
  ranks are consecutive: RANK - LOCAL_RANK to RANK - LOCAL_RANK + LOCAL_WORLD_SIZE - 1. srun starts SLURM_NTASKS
  tasks (SLURM_STEP_NUM_TASKS in the step) over the job's SLURM_JOB_NUM_NODES nodes (checks/machine/scheduler.py).
- A loopback address (127.0.0.0/8, ::1; RFC 1122 3.2.1.3, RFC 4291 2.5.3) reaches only the host that uses it: a
  MASTER_ADDR that resolves to loopback alone sends each node's ranks to a store on their own node, so ranks on
  other nodes never meet rank 0 (SLURM's own recipe takes the job's first node: `scontrol show hostnames
  "$SLURM_JOB_NODELIST" | head -n 1`, rendezvous.SLURM_FIX).
- A process's initial environment is /proc/<pid>/environ (proc(5)), readable by its owner: the ranks of this job
  running on this host are the processes whose MASTER_ADDR, MASTER_PORT and WORLD_SIZE (and run id) are this
  rank's, each with its RANK. Processes of another user or in another PID namespace (a second container sharing
  this host's network) are not seen, so the verdict says "never started, or ended before the roll-call" of ranks
  this host should run and does not show.
"""

import dataclasses
import ipaddress
import os
import socket
import time
from typing import Dict, Optional, Tuple

from checks.distributed import rendezvous
from checks.machine import scheduler

ENVIRON_BYTES = 1 << 18  # at most this much of one process's environment is read
SCAN_SECONDS = 2.0  # the scan of /proc stops after this long
JOB_KEYS = ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "TORCHELASTIC_RUN_ID", rendezvous.JOB_VAR)


@dataclasses.dataclass(frozen=True)
class World:
    """The launch as this rank sees it. world: WORLD_SIZE; local_world: LOCAL_WORLD_SIZE (None: not set); rank,
    local_rank; torchrun: TORCHELASTIC_RUN_ID is set; group_world: GROUP_WORLD_SIZE (torchrun's nodes, None: not
    set); master: MASTER_ADDR; master_addresses: what it resolves to (empty: it does not); job: the SLURM job
    (scheduler.Job) or None; peers: {RANK: pid} of this job's processes on this host (this one included); peers_read:
    False where /proc could not be read."""

    world: int
    local_world: Optional[int]
    rank: int
    local_rank: int
    torchrun: bool
    group_world: Optional[int]
    master: str
    master_addresses: Tuple[str, ...]
    job: Optional[scheduler.Job]
    peers: Dict[int, int]
    peers_read: bool

    @property
    def loopback(self):
        """True when MASTER_ADDR resolves to loopback addresses only."""
        return bool(self.master_addresses) and all(_is_loopback(a) for a in self.master_addresses)

    def nodes(self):
        """(count, evidence) of the nodes the world spans by the launch's own facts, the largest; (1, "") for none."""
        found = [(1, "")]
        if self.group_world:
            found.append((self.group_world, "GROUP_WORLD_SIZE=%d" % self.group_world))
        if self.local_world and self.world > self.local_world:
            count = -(-self.world // self.local_world)
            found.append((count, "WORLD_SIZE=%d with LOCAL_WORLD_SIZE=%d" % (self.world, self.local_world)))
        job_nodes = self.job_nodes()
        if job_nodes:
            found.append(job_nodes)
        most = max(count for count, _ in found)
        return most, ", ".join(e for count, e in found if count == most and e)

    def job_nodes(self):
        """(count, evidence) of the nodes of the SLURM job (its step's where srun started one), or None."""
        if self.job is None:
            return None
        if self.job.step_nodes:
            return self.job.step_nodes, "SLURM_STEP_NUM_NODES=%d" % self.job.step_nodes
        if self.job.nodes:
            return self.job.nodes, "SLURM_JOB_NUM_NODES=%d" % self.job.nodes
        return None

    def here(self):
        """The ranks this host should run: this node's block of LOCAL_WORLD_SIZE, or every rank of a world on one
        node (LOCAL_WORLD_SIZE = WORLD_SIZE; or no sign of other nodes and a loopback MASTER_ADDR, which only this
        host's processes reach); None where the launch does not say."""
        if self.local_world:
            base = self.rank - self.local_rank
            return range(base, min(self.world, base + self.local_world))
        if self.nodes()[0] == 1 and (self.loopback or (self.job_nodes() or (0,))[0] == 1):
            return range(self.world)
        return None


@dataclasses.dataclass(frozen=True)
class Absence:
    """Why ranks are missing: meaning, fix, and the fact that decides it."""

    meaning: str
    fix: str
    fact: str


def _is_loopback(address):
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def _environ(pid, proc):
    try:
        with open(os.path.join(proc, pid, "environ"), "rb") as handle:
            data = handle.read(ENVIRON_BYTES)
    except OSError:
        return None
    pairs = (item.partition(b"=") for item in data.split(b"\0") if b"=" in item)
    return {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, _, v in pairs}


def peers(environ, proc="/proc", budget=SCAN_SECONDS):
    """Return ({RANK: pid}, read): the processes on this host whose environment holds this job's JOB_KEYS values
    (those set here), read from <proc>/<pid>/environ within `budget` seconds; read is False where <proc> cannot be
    listed."""
    want = {k: environ[k] for k in JOB_KEYS if environ.get(k)}
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return {}, False
    found, deadline = {}, time.monotonic() + budget
    for pid in pids:
        if time.monotonic() > deadline:
            break
        env = _environ(pid, proc)
        if env and all(env.get(k) == v for k, v in want.items()) and (env.get("RANK") or "").isdigit():
            found.setdefault(int(env["RANK"]), int(pid))
    return found, True


def _resolve(name):
    try:
        return tuple(sorted({i[4][0] for i in socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)}))
    except (OSError, UnicodeError):
        return ()


def _int(environ, name):
    value = (environ.get(name) or "").strip()
    return int(value) if value.isdigit() else None


def collect(environ, launch, proc="/proc"):
    """Return the World of this rank from its variables and `launch` (command.launch_env's dict), with the peers on
    this host (peers())."""
    found, read = peers(environ, proc)
    return World(
        world=launch["world"],
        local_world=launch["local_world"],
        rank=launch["rank"],
        local_rank=launch["local_rank"],
        torchrun="TORCHELASTIC_RUN_ID" in environ,
        group_world=_int(environ, "GROUP_WORLD_SIZE"),
        master=launch["addr"] or "",
        master_addresses=_resolve(launch["addr"]) if launch["addr"] else (),
        job=scheduler.collect(environ),
        peers=found,
        peers_read=read,
    )


def _ranks(ranks):
    ranks = sorted(ranks)
    return "rank%s %s" % ("s" if len(ranks) > 1 else "", ", ".join(map(str, ranks)))


def _count(n, word="process"):
    return "%d %s%s" % (n, word, "" if n == 1 else "es" if word.endswith("s") else "s")


def loopback_across_nodes(w, consequence):
    """Return the Absence of a loopback MASTER_ADDR in a world that spans several nodes (World.nodes()), its
    `consequence` for the ranks in words; None where MASTER_ADDR is not loopback or the world is on one node."""
    nodes, evidence = w.nodes()
    if not w.loopback or nodes < 2:
        return None
    first = "the job's first node: %s" % rendezvous.SLURM_FIX if w.job is not None else "rank 0's node"
    return Absence(
        meaning="MASTER_ADDR=%s is a loopback address (%s), but the world spans %d nodes (%s): each node's ranks look "
        "for the store on their own node, %s" % (w.master, ", ".join(w.master_addresses), nodes, evidence, consequence),
        fix="set MASTER_ADDR on every node to the same reachable address of %s (torchrun: --master-addr, or "
        "--rdzv-endpoint HOST:PORT); never fall back to localhost in a job across nodes" % first,
        fact="MASTER_ADDR=%s -> %s; %s" % (w.master, ", ".join(w.master_addresses), evidence),
    )


def why_missing(w, missing, joined_here=()):
    """Return the Absence of `missing` ranks (the roll-call's) from World `w`, or None where the facts do not decide
    (module docstring): the scheduler started fewer tasks or nodes than the world needs; a loopback MASTER_ADDR in a
    world across nodes; ranks this host should run that no process here has; ranks that run here but did not
    join. joined_here: the ranks that joined from this host (they may have ended since)."""
    missing = sorted(missing)
    job = w.job
    if job is not None and not w.torchrun and job.task == w.rank and job.tasks and w.world > job.tasks:
        return Absence(
            meaning="WORLD_SIZE=%d but srun started only %s (SLURM_NTASKS=%d): %s never started"
            % (w.world, _count(job.tasks, "task"), job.tasks, _ranks(range(job.tasks, w.world))),
            fix="start as many tasks as WORLD_SIZE: `srun --ntasks %d` (#SBATCH --ntasks=%d, or --nodes and "
            "--ntasks-per-node that multiply to it), or set WORLD_SIZE to the tasks started (%d, $SLURM_NTASKS)"
            % (w.world, w.world, job.tasks),
            fact="WORLD_SIZE=%d, SLURM_NTASKS=%d, SLURM_PROCID=%d" % (w.world, job.tasks, job.task),
        )
    job_nodes = w.job_nodes()
    if w.local_world and job_nodes and -(-w.world // w.local_world) > job_nodes[0]:
        need = -(-w.world // w.local_world)
        return Absence(
            meaning="WORLD_SIZE=%d with LOCAL_WORLD_SIZE=%d processes per node needs %d nodes, but %s has %d (%s): "
            "the ranks of the other nodes were never started"
            % (w.world, w.local_world, need, job.describe(), job_nodes[0], job_nodes[1]),
            fix="request %d nodes for the job (#SBATCH --nodes=%d, one launcher per node: `srun --ntasks-per-node=1 "
            "torchrun --nnodes %d --nproc-per-node %d ...`), or launch as many processes as the job's nodes hold "
            "(torchrun --nnodes %d)" % (need, need, need, w.local_world, job_nodes[0]),
            fact="WORLD_SIZE=%d, LOCAL_WORLD_SIZE=%d, %s" % (w.world, w.local_world, job_nodes[1]),
        )
    here = w.here()
    elsewhere = [r for r in missing if here is None or r not in here]
    if elsewhere and not any(r in w.peers for r in elsewhere):
        found = loopback_across_nodes(w, "so %s on the other nodes cannot reach rank 0's" % _ranks(elsewhere))
        if found is not None:
            return found
    if here is None or not w.peers_read:
        return None
    absent = [r for r in missing if r in here and r not in w.peers]
    running = {r: w.peers[r] for r in missing if r in w.peers}
    if absent:
        local = sorted(r for r in here if r in w.peers or r in joined_here)
        size = "WORLD_SIZE=%d" % w.world if len(here) == w.world else "LOCAL_WORLD_SIZE=%d" % len(here)
        started = len(local)
        return Absence(
            meaning="%s but only %s of this job %s on this host (%s): %s never started, or ended before the roll-call"
            % (
                size,
                _count(started),
                "runs" if started == 1 else "run",
                _ranks(local) if local else "none",
                _ranks(absent),
            ),
            fix="start as many processes as %s (`torchrun --nproc-per-node %d`, `srun --ntasks%s %d`), or set "
            "WORLD_SIZE to the number of processes started"
            % (size, len(here), "" if len(here) == w.world else "-per-node", len(here)),
            fact="processes with this job's MASTER_ADDR, MASTER_PORT and WORLD_SIZE on this host: %s"
            % (", ".join("RANK=%d (pid %d)" % kv for kv in sorted(w.peers.items())) or "none"),
        )
    if running:
        return Absence(
            meaning="%s %s on this host (%s) but did not join within the timeout"
            % (
                _ranks(running),
                "runs" if len(running) == 1 else "run",
                ", ".join("pid %d" % p for p in running.values()),
            ),
            fix="look at those processes' own output (or `py-spy dump --pid PID`): they started but did not reach "
            "the store at %s" % w.master,
            fact="running: %s" % ", ".join("RANK=%d (pid %d)" % kv for kv in sorted(running.items())),
        )
    return None
