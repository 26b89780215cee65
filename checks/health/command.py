"""`python -m checks health`: is this GPU node fit to run jobs? Per GPU: memory errors, memory repair, PCIe, NVLink,
clocks and power, a memory test and a compute test under a short load; for the node: Xid errors since boot, the
same results on every GPU, and one summary line naming the GPU to pull."""

import sys

from checks import runner
from checks.health import clocks, compute, facts, links, load, memory, memtest, node, xid
from checks.health.lines import line, name
from checks.nvidia import driver
from checks.report import FAIL, SKIP, Report, Result

SPEC = runner.Spec(
    "health",
    "Check this GPU node's health: per GPU ECC errors, row remapping or retired pages, PCIe and NVLink, clocks "
    "events and power under a short load, a memory test and a repeated matmul; Xid errors in the kernel log; one "
    "summary line naming the GPU to pull. Through NVML (nvidia-ml-py), else nvidia-smi -q. Exit 0: healthy (WARN "
    "and SKIP do not fail); 1: a check failed; 2: usage error; 3: internal error (a bug in checks, never a "
    "verdict on the node); 128+N: stopped by signal N (130 Ctrl-C).",
    quick="a 3 s load and a memory test of up to 5 s (full: 10 s and 30 s)",
    timeout=300.0,
)
NO_GPU = (
    "no NVIDIA GPU on this machine (no PCI device of vendor 0x10de, /dev/nvidiaN, /proc/driver/nvidia or nvidia-smi)"
)
HANG_HINT = "a hung GPU or driver: look for Xid errors (`sudo dmesg | grep -i xid`), reset the GPU or reboot"


def add_arguments(parser):
    """health's own options."""
    parser.add_argument(
        "--gpu",
        type=int,
        action="append",
        metavar="N",
        help="check only this GPU (NVML's index, as nvidia-smi numbers them; repeatable; default: every GPU)",
    )
    parser.add_argument(
        "--no-load",
        action="store_true",
        help="read only: no load, memory test or matmul (for a node running jobs); clocks and PCIe are then read at "
        "rest",
    )


def progress(text):
    """Say on stderr what a slow step is doing."""
    print("health: %s ..." % text, file=sys.stderr, flush=True)


def _driver_failure(n):
    """The FAIL of a node whose NVIDIA hardware has no working driver (or whose nvidia-smi -q fails)."""
    d = n.driver
    if n.failure:
        text, code = n.failure
        state, meaning, fix = driver.classify(text, code)
        return Result(
            name="driver",
            status=FAIL,
            summary="nvidia-smi -q fails: %s" % meaning,
            expected="it answers",
            actual=text.strip()[:300],
            hint=fix,
            data={"reason": "nvidia-smi -q fails: %s" % meaning, "state": state},
        )
    if d["state"]:
        return driver.failure(d).result(reason="driver not answering: %s" % d["meaning"], state=d["state"])
    if d["present"]:  # the driver answers and sees no GPU
        state, meaning, fix = driver.classify("No devices were found")
        return Result(
            name="driver",
            status=FAIL,
            summary=meaning,
            expected="the GPUs",
            actual="none",
            hint=fix,
            data={"reason": meaning, "state": state},
        )
    return Result(
        name="driver",
        status=FAIL,
        summary="an NVIDIA GPU is in this machine (%s) but no NVIDIA driver answers" % "; ".join(n.hardware),
        expected="a working driver",
        actual="none",
        hint="install or load the NVIDIA driver (`nvidia-smi` must work); `dmesg | grep NVRM` says why it did not load",
        data={"reason": "NVIDIA GPU present but no driver answers", "state": "no-driver"},
    )


def _skipped(gpu, aspect, reason):
    return line(gpu, aspect, SKIP, "not run: %s" % reason, reason="")


def static_jobs(gpu):
    """The lines of one GPU that read its counters only."""
    return [
        (name(gpu, "ecc"), lambda: memory.check_ecc(gpu)),
        (name(gpu, "remap"), lambda: memory.check_repair(gpu)),
    ]


def loaded_jobs(n, gpu):
    """The lines of one GPU judged under the load (which the `load` line before them has run)."""

    def loaded(check):
        return lambda: check(gpu, n.load_for(gpu))

    def tested(check, aspect):
        def run():
            reason = n.why_not_loaded(gpu)
            return check(gpu, n.load_for(gpu).get("outcome") or {}, _skipped(gpu, aspect, reason) if reason else None)

        return run

    return [
        (name(gpu, "pcie"), loaded(links.check_pcie)),
        (name(gpu, "nvlink"), loaded(links.check_nvlink)),
        (name(gpu, "clocks"), loaded(clocks.check_clocks)),
        (name(gpu, "power"), loaded(clocks.check_power)),
        (name(gpu, "memtest"), tested(memtest.check_memtest, "memtest")),
        (name(gpu, "compute"), tested(compute.check_compute, "compute")),
    ]


def prepare(args, argv):
    """Collect the facts, then plan the lines: what the counters say (per GPU, then Xid), the load, what it showed
    (per GPU, then across GPUs), the node. The evidence at rest prints first: if the load hangs a GPU, the watchdog
    names the `load` line and the counters and Xid lines are already out."""
    n = facts.Node(args, progress)
    rep = Report(SPEC.name, [SPEC.name] + list(argv))
    jobs = []
    if not n.gpus:
        if n.failure or n.driver["state"] or n.hardware or n.driver["present"]:
            failed = _driver_failure(n)
            jobs.append(("driver", lambda: failed))
        else:
            jobs.append(("gpus", lambda: Result(name="gpus", status=SKIP, summary=NO_GPU)))
    for gpu in n.gpus:
        jobs += static_jobs(gpu)
    if n.kernel_log is not None:
        jobs.append(("xid", lambda: xid.check_xid(n.kernel_log, n.gpus)))
    if n.gpus:
        jobs.append(("load", lambda: load.check_load(n)))
    for gpu in n.gpus:
        jobs += loaded_jobs(n, gpu)
    if n.gpus:
        jobs.append(("consistency", lambda: consistency(n)))
    jobs.append(("node", lambda: node.check_node(rep.results, n.gpus, n.untested())))
    return runner.Plan(facts.header(n), jobs=jobs, report=rep, hint=HANG_HINT)


def consistency(n):
    """The `consistency` line over the GPUs that ran the matmul."""
    if n.load_reason:
        return compute.check_consistency(n.gpus, {}, n.load_reason)
    outcomes = {g["index"]: n.load_for(g).get("outcome") or {} for g in n.gpus if not n.why_not_loaded(g)}
    return compute.check_consistency(n.gpus, outcomes)


def main(argv):
    """Run health; return the exit code."""
    return runner.run(SPEC, argv, lambda args, torch: prepare(args, argv), add_arguments)
