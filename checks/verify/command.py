"""`python -m checks verify`: prove this PyTorch environment works, or say exactly what is wrong.

command (this module) -> facts (facts.py: host, driver, the environment's promise, torch, GPU probe) -> verdicts
(install.py, gpu.py, compute.py, libs.py, compile.py: one function per check line). verify has no chart.

torch is imported and the checks run in a worker process (checks/worker.py): when a native crash (two OpenMP
runtimes, a cuDNN load abort, an illegal instruction, a segfault) or a hang ends it, the user still gets the lines
so far, a FAIL naming the check and how it died, the remaining checks from a new worker, the summary and the JSON.
"""

import argparse
import json
import os
import sys

from checks import runner, worker
from checks.machine import interpreter
from checks.report import FAIL, WARN, Result, run_check

SPEC = runner.Spec(
    "verify",
    "Prove this PyTorch environment works: versions, build, driver, GPU, cuDNN, AMP, torch.compile and a training "
    "step. Exit 0: all passed; 1: a check failed; 2: usage error, or no usable torch (the torch line says why); "
    "3: internal error; 128+N: stopped by signal N (130 Ctrl-C, 143 SIGTERM).",
    quick="skip torch.compile, the extension loads and the gloo all-reduce",
    timeout=120.0,
)


def checks():
    """Return every check as (name, function of the Context), in the order verify prints them; each is independent
    of the others. The architecture check comes before the GPU probe's: it needs no kernel launch."""
    from checks.verify import arch, compute, domain, extensions, gpu, install, libs, project
    from checks.verify import compile as compile_

    return (
        ("python", install.check_python),
        ("torch", install.check_torch),
        ("torchvision", lambda ctx: domain.check_domain(ctx, "torchvision")),
        ("torchaudio", lambda ctx: domain.check_domain(ctx, "torchaudio")),
        ("dependencies", install.check_dependencies),
        ("dependents", install.check_dependents),
        ("project", project.check_project),
        ("pypi", install.check_pypi),
        ("build", install.check_build),
        ("cuda-runtime", install.check_cuda_runtime),
        ("cudnn", install.check_cudnn),
        ("nccl", install.check_nccl),
        ("libraries", libs.check_libraries),
        ("driver", gpu.check_driver),
        ("gpu-arch", arch.check_gpu_arch),
        ("gpu", gpu.check_gpu),
        ("mps", gpu.check_mps),
        ("cpu-backends", libs.check_cpu_backends),
        ("kernels", compute.check_kernels),
        ("conv", compute.check_conv),
        ("amp", compute.check_amp),
        ("sdpa", compute.check_sdpa),
        ("distributed", libs.check_distributed),
        ("numpy", libs.check_numpy),
        ("first-step", compute.check_first_step),
        ("compile", compile_.check_compile),
        ("extensions", extensions.check_extensions),
    )


def add_arguments(parser):
    """verify's own options: which environment (and platform) of which manifest to judge against."""
    parser.add_argument(
        "--env", metavar="NAME", help="the pixi environment to expect (default: the active pixi environment, if any)"
    )
    parser.add_argument(
        "--manifest", metavar="PATH", help="pixi.toml or pyproject.toml to read (default: the active pixi workspace's)"
    )
    parser.add_argument(
        "--platform",
        metavar="NAME",
        help="the platform of --env to expect (pixi's task passes the one pixi installed; default: as pixi would "
        "choose it on this machine)",
    )
    parser.add_argument(
        "--no-gpu",
        action="store_true",
        help="this machine has no GPU on purpose (a CI runner): a CUDA environment's build is checked and its GPU "
        "checks are skipped; without it, a CUDA environment with no driver is a FAIL",
    )
    parser.add_argument("--worker", metavar="STATE", help=argparse.SUPPRESS)


def work(args, state):
    """The worker: import torch first (the parent collects its facts meanwhile), take the parent's facts from
    standard input, collect the rest, then run the checks and send their results to the parent."""
    from checks.machine import probe
    from checks.verify import facts

    imported = None if state.get("startup_failure") else (probe.EARLY[0] if probe.EARLY else probe.import_torch())
    state.update(json.loads(sys.stdin.readline() or "{}"))
    channel = worker.Channel()
    ctx = facts.collect(args, state, channel.progress, imported)
    header = facts.header(ctx, facts.manifest_shown(args, ctx))
    return worker.serve(channel, header, [(name, (lambda f=func: f(ctx))) for name, func in checks()], state)


def diagnoser(facts):
    """Return diagnose(name, found, how): the FAIL of a check whose worker died or hung (how, the real error it
    printed), judged against the parent's facts (checks/diagnosis/)."""
    from checks import diagnosis

    def diagnose(name, found, how):
        text = "%s\n%s" % (how, found.message or "")
        cause = diagnosis.explain(text, facts)
        summary = "the check's process %s%s (%s)" % (
            how,
            ": " + found.line if found.kind != "none" else "",
            cause.meaning,
        )
        fix = cause.fix
        if not cause.recognised:
            fix += "; run `python -X faulthandler -m checks verify` to see where it stopped"
        return Result(
            name=name,
            status=FAIL,
            summary=summary,
            expected="%s finishes" % name,
            actual=found.line or how,
            hint=fix,
            data={"fact": cause.fact, "recognised": cause.recognised, "exception": text},
        )

    return diagnose


def judged(results, facts):
    """Yield the worker's results, each FAIL that carries an exception judged against the facts, with the parent's
    own checks (verify/origin.py) after torchaudio (or at the end, if the worker stopped before it). On an externally
    managed Python (PEP 668) a fix that runs `pip install` says to run it in a virtual environment."""
    from checks.verify import origin

    pending = list(origin.PARENT_CHECKS)

    def parents():
        while pending:
            name, check = pending.pop(0)
            yield run_check(name, check, facts)

    marker = getattr(facts.interpreter, "externally_managed", None)

    def installable(result):  # a pip fix on a Python whose pip refuses installs (PEP 668) says where it works
        if result.status in (FAIL, WARN):
            result.hint = interpreter.pip_blocked_note(result.hint, marker)
        return result

    for result in results:
        yield installable(origin.judge(result, facts))
        if result.name == "torchaudio":
            yield from map(installable, parents())
    yield from map(installable, parents())


def progress(text):
    """Say on stderr what a slow step is doing (stdout keeps one line per check)."""
    print("verify: %s ..." % text, file=sys.stderr, flush=True)


SCAN_SECONDS = 5.0  # the parent's project scans: longer than torch's import, and the worker scans for itself


def _project_scans(limit=SCAN_SECONDS):
    """The working directory's project scans the worker's checks read (facts.PROJECT_SCANS) and the Hub ids its
    project line reads (hf_hub.hand_over), made here while the worker imports torch: {"project_scans": text of
    project.hand_over, "hub_ids": data of hf_hub.hand_over}, or {}: a scan that fails, or takes over `limit` seconds
    (a hung network mount: the worker's own scan then meets it under the check's timeout), is the worker's to make
    and judge."""
    import threading

    from checks.machine import hf_hub, project
    from checks.verify import facts

    answer = {}

    def scan():
        try:
            scans = project.hand_over(facts.PROJECT_SCANS)
            found = project.scan(ignore=facts.OWN) if scans is not None else None
            hub = hf_hub.hand_over(project.packages_beside(found.files), found.root) if found is not None else None
            answer.update(project_scans=scans, hub_ids=hub)
        except Exception:  # any failure is met again, and reported, where the worker's check scans for itself
            pass

    thread = threading.Thread(target=scan, name="project-scans", daemon=True)
    thread.start()
    thread.join(limit)
    return dict(answer) if not thread.is_alive() else {}


def prepare(args, argv):
    """Parent: judge the options and the manifest (usage errors), start the worker, and stream its results."""
    if args.worker is not None:
        return work(args, json.loads(args.worker))
    supervisor = worker.Supervisor(
        [sys.executable, "-m", "checks", "verify"] + list(argv), args.timeout, None, progress
    )
    # the worker `python -m checks` began before its own imports (children.start_early), or a new one: its
    # interpreter start and `import torch` overlap the parent's imports, facts and project scans below
    supervisor.launch()
    from checks import diagnosis
    from checks.machine import toolchain
    from checks.verify import facts

    try:
        ctx = facts.prepare(args)
        found = diagnosis.gather(driver=ctx.driver)
        scans = _project_scans()
        scans["cuda_toolkit"] = toolchain.hand_over()  # its `nvcc --version`, out of the worker's way too
    except BaseException:
        supervisor.worker.kill()
        raise
    supervisor.diagnose = diagnoser(found)
    try:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None  # before any OpenMP
        header = supervisor.start(dict(scans, driver=ctx.driver, torch_source=ctx.torch_source, cpus=cpus))
    except RuntimeError as exc:  # the worker died before its header even without torch: not torch's fault
        hint = "rerun with CHECKS_DEBUG=1 and report the output: this is a bug in checks or in this Python"
        failed = Result(
            name="worker",
            status=FAIL,
            summary=str(exc),
            expected="the checks' worker process starts",
            actual="it died",
            hint=hint,
        )
        header = facts.header(ctx, facts.manifest_shown(args, ctx))
        header.update(facts.decisive(found))
        return runner.Plan(header, results=iter([failed]), facts=found.to_dict())
    header.update(facts.decisive(found))
    # No usable torch (the FAIL of the torch line says why): exit 2, as for every command that needs torch.
    unusable = "no usable torch" if header.get("torch") == "not importable" else None
    return runner.Plan(header, results=judged(supervisor.results(), found), unusable=unusable, facts=found.to_dict())


def main(argv):
    """Run verify; return the exit code."""
    return runner.run(SPEC, argv, lambda args, torch: prepare(args, argv), add_arguments)
