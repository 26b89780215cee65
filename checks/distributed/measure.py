"""dist's collectives and verdicts: a checked all-reduce, barriers, all-reduce bus bandwidth per message size."""

import datetime
import socket
import time

from checks.report import FAIL, PASS, SKIP, Result
from checks.timing import Timer

KIB, MIB = 2**10, 2**20
ELEMENT = 4  # bytes of float32, the dtype nccl-tests measures by default
# The checked all-reduce: 4 MiB of float64 (enough for NCCL's ring and tree to chunk it; sums of up to 2**53 exact).
CHECK_ELEMENTS = 2**19
SINGLE = "1 process: launch with torchrun --nproc-per-node N for a multi-process check"


def default_sizes(device, quick):
    """Return the message sizes in bytes: 1 KiB to 256 MiB on a GPU (x2 steps, quick x4), to 64 MiB on a CPU."""
    top = 256 * MIB if device == "cuda" else (4 * MIB if quick else 64 * MIB)
    factor = 2 if device == "cuda" and not quick else 4
    sizes = [KIB]
    while sizes[-1] * factor <= top:
        sizes.append(sizes[-1] * factor)
    return sizes


def size_label(nbytes):
    """Return `1 KiB`, `256 MiB` or `12 B`."""
    for unit, name in ((2**30, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if nbytes >= unit and nbytes % unit == 0:
            return "%d %s" % (nbytes // unit, name)
    return "%d B" % nbytes


def result_name(nbytes):
    """Return the result name of one size, e.g. busbw-256mib."""
    return "busbw-" + size_label(nbytes).replace(" ", "").lower()


def bandwidth(nbytes, seconds, world):
    """Return (algbw, busbw) in GB/s of an all-reduce, as nccl-tests defines them: busbw = algbw x 2(n-1)/n."""
    algbw = nbytes / seconds / 1e9
    return algbw, algbw * 2.0 * (world - 1) / world


def iterations(once, budget, low, high):
    """Return how many timed iterations fit in the budget, given the slowest rank's time for one."""
    return int(min(high, max(low, budget / max(once, 1e-7))))


def rank_list(ranks):
    """Return `rank 3` or `ranks 1, 2`."""
    return "rank%s %s" % ("s" if len(ranks) > 1 else "", ", ".join(map(str, sorted(ranks))))


def host_ranges(hosts):
    """Return `a (ranks 0-7), b (ranks 8-15)` from {rank: host}, listing at most four hosts."""
    spans = []
    for rank in sorted(hosts):
        if spans and spans[-1][0] == hosts[rank] and spans[-1][2] == rank - 1:
            spans[-1][2] = rank
        else:
            spans.append([hosts[rank], rank, rank])
    text = ["%s (%s)" % (h, "rank %d" % a if a == b else "ranks %d-%d" % (a, b)) for h, a, b in spans]
    return ", ".join(text[:4]) + (", and %d more hosts" % (len(text) - 4) if len(text) > 4 else "")


def judge_join(missing, world, timeout, hosts, where):
    """Return the init FAIL of a roll-call that some ranks missed."""
    text = "%d of %d ranks joined within %g s; missing: %s" % (world - len(missing), world, timeout, rank_list(missing))
    hint = "start the missing ranks (under SLURM with srun, not in the batch shell); check they reach %s" % where
    joined = "joined: %s" % (host_ranges(hosts) or "none")
    return Result(
        name="init",
        status=FAIL,
        summary=text,
        expected="%d ranks" % world,
        actual=joined,
        hint=hint,
        data={"missing_ranks": sorted(missing)},
    )


def describe_failure(why, silent, waiting, failed, backend="gloo"):
    """Return (summary, actual) of a failed step: who fell silent, who is alive but waiting, who failed too."""
    if silent is None:
        return why + "; the rendezvous store did not answer, so the other ranks are unknown", "unknown"
    parts = ["rank %d: no answer, no heartbeat (dead or frozen; last seen in %s)" % kv for kv in sorted(silent.items())]
    parts += ["rank %d: alive, still waiting in %s" % kv for kv in sorted(waiting.items())]
    parts += ["rank %d %s" % kv for kv in sorted(failed.items())]
    if silent:
        return "%s; %s did not respond" % (why, rank_list(silent)), "; ".join(parts)
    if parts:
        stuck = "network, NCCL or a GPU" if backend == "nccl" else "network or gloo"
        why += "; every other rank answered (the collective itself is stuck or broken: %s)" % stuck
    return why, "; ".join(parts) or "rank 0 alone"


def judge_allreduce(infos, world, backend="gloo"):
    """Return a rank-N line per rank and the all-reduce verdict, naming every rank whose sum was wrong; the hints
    name GPU links and NCCL_DEBUG on NCCL runs only."""
    gpus = backend == "nccl"
    results, broken = [], []
    for info in sorted(infos, key=lambda i: i["rank"]):
        name = "rank-%d" % info["rank"]
        where = "host %s, local rank %d, %s" % (info["host"], info["local_rank"], info["device"])
        if not info["wrong"]:
            results.append(Result(name=name, status=PASS, summary=where + ": all-reduce ok", data=info))
            continue
        broken.append(info["rank"])
        text = "%s: all-reduce WRONG in %d of %d elements, e.g. [%d] = %g (expected %g)" % (
            (where, info["wrong"], info["elements"]) + tuple(info["first"])
        )
        hint = "run `python -m checks verify` on %s" % info["host"] + (
            "; check its GPU links (nvidia-smi topo -m)" if gpus else ""
        )
        results.append(
            Result(
                name=name,
                status=FAIL,
                summary=text,
                expected="the exact sum",
                actual="%d wrong elements" % info["wrong"],
                hint=hint,
                data=info,
            )
        )
    want = "on every rank: the sum over ranks of (rank + 1 + i mod 7), %d float64 elements" % CHECK_ELEMENTS
    if broken:
        hint = "the named ranks' %s corrupt data: run `python -m checks verify` there%s" % (
            ("GPUs or links", ", and NCCL_DEBUG=INFO") if gpus else ("hosts (memory, CPU)", "")
        )
        return results + [
            Result(
                name="all-reduce",
                status=FAIL,
                summary="wrong sum on " + rank_list(broken),
                expected=want,
                actual=None,
                hint=hint,
            )
        ]
    text = "%d of %d ranks hold the exact sum (%s of float64)" % (len(infos), world, size_label(CHECK_ELEMENTS * 8))
    return results + [Result(name="all-reduce", status=PASS, summary=text, expected=want, actual="exact on every rank")]


def check_allreduce(s):
    """All-reduce (rank + 1 + i mod 7) on the data backend; check it on every rank; gather the verdicts to rank 0."""
    torch, dist = s.torch, s.torch.distributed
    base = (torch.arange(CHECK_ELEMENTS, device=s.device_name) % 7).double()
    tensor = base + (s.rank + 1)
    dist.all_reduce(tensor)
    expected = base * s.world + s.world * (s.world + 1) / 2
    wrong = tensor != expected
    count, first = int(wrong.sum().item()), None
    if count:
        index = int(wrong.nonzero()[0].item())
        first = (index, float(tensor[index].item()), float(expected[index].item()))
    device = "%s %s" % (s.device_name, torch.cuda.get_device_name(s.gpu)) if s.device == "cuda" else "cpu"
    info = {"rank": s.rank, "local_rank": s.local_rank, "host": socket.gethostname(), "device": device}
    info.update(wrong=count, elements=CHECK_ELEMENTS, first=first)
    infos = [None] * s.world
    dist.all_gather_object(infos, info, group=s.ctrl)
    return judge_allreduce(infos, s.world, s.backend)


def check_barrier(s):
    """A barrier on the data backend, then a monitored barrier on the gloo group (it names late ranks)."""
    dist, start = s.torch.distributed, time.perf_counter()
    if s.backend == "nccl":
        dist.barrier(device_ids=[s.gpu])
    else:
        dist.barrier()
    dist.monitored_barrier(group=s.ctrl, timeout=datetime.timedelta(seconds=s.timeout * 0.8), wait_all_ranks=True)
    ms = (time.perf_counter() - start) * 1e3
    text = "%d rank%s passed a %s barrier and a monitored gloo barrier in %.1f ms" % (
        (s.world, "" if s.world == 1 else "s", s.backend, ms)
    )
    return [Result(name="barrier", status=PASS, summary=text)]


class Sweep:
    """All-reduce bus bandwidth per message size: warm-up, timed iterations, median per rank, the slowest rank."""

    def __init__(self, s, sizes):
        self.s, self.rows, self.timer = s, [], Timer(s.torch, s.device, flush=False)
        self.width = max(len(result_name(n)) for n in sizes)  # pads the lines into a table
        self.warm_up, self.budget, self.low, self.high = (2, 0.1, 3, 50) if s.quick else (5, 0.5, 5, 200)

    def _every_rank(self, value):
        """Return every rank's float value, gathered over the gloo group."""
        values = [None] * self.s.world
        self.s.torch.distributed.all_gather_object(values, float(value), group=self.s.ctrl)
        return values

    def measure(self, nbytes):
        """Time the all-reduce of nbytes on every rank; return its result line (the slowest rank's median)."""
        s, name = self.s, result_name(nbytes)
        tensor = s.torch.zeros(nbytes // ELEMENT, device=s.device_name)  # zeros: the sum never overflows

        def reduce():
            s.torch.distributed.all_reduce(tensor)

        for _ in range(self.warm_up):
            reduce()
        once = self.timer.measure(reduce, 1).median
        count = iterations(max(self._every_rank(once)), self.budget, self.low, self.high)  # the same on every rank
        medians = self._every_rank(self.timer.measure(reduce, count).median)
        seconds, slowest = max(medians), medians.index(max(medians))
        algbw, busbw = bandwidth(nbytes, seconds, s.world)
        row = {"bytes": nbytes, "median_ms": seconds * 1e3, "algbw": algbw, "busbw": busbw, "iterations": count}
        row.update(slowest_rank=slowest, rank_median_ms=[m * 1e3 for m in medians])
        self.rows.append(row)
        text = "%s%9.3f ms  algbw %9.4g GB/s  busbw %9.4g GB/s  (median of %d, slowest rank %d)" % (
            (" " * (self.width - len(name)), seconds * 1e3, algbw, busbw, count, slowest)
        )
        return [Result(name=name, status=PASS, summary=text, data=dict(row, value=busbw, unit="GB/s"))]

    def summary(self):
        """Return the busbw line: the peak, and the whole table in its data (the chart reads it)."""
        best = max(self.rows, key=lambda r: r["busbw"])
        text = "peak %.3f GB/s bus bandwidth at %s over %d ranks (%s, %s)" % (
            (best["busbw"], size_label(best["bytes"]), self.s.world, self.s.backend, self.s.count_hosts())
        )
        data = {"value": best["busbw"], "unit": "GB/s", "world": self.s.world, "backend": self.s.backend}
        return [Result(name="busbw", status=PASS, summary=text, data=dict(data, table=self.rows))]


def jobs(s, sizes):
    """Yield (step name, function returning results) in order; every rank runs the same steps."""
    yield "all-reduce", lambda: check_allreduce(s)
    yield "barrier", lambda: check_barrier(s)
    if s.world == 1:
        yield "busbw", lambda: [Result(name="busbw", status=SKIP, summary=SINGLE)]
        return
    sweep = Sweep(s, sizes)
    for nbytes in sizes:
        yield result_name(nbytes), lambda n=nbytes: sweep.measure(n)
    yield "busbw", sweep.summary
