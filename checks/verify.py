"""`python -m checks verify`: prove this PyTorch environment works, or say exactly what is wrong."""

import argparse
import os
import sys

from checks import manifest, probe, report
from checks import verify_compute as compute
from checks import verify_gpu as gpu
from checks import verify_install as install
from checks import verify_libs as libs
from checks.compile_check import check_compile
from checks.verify_install import header_facts

CHECK_VERSION = 1

# Every check, in the order verify prints them; each is independent of the others.
CHECKS = (
    ("python", install.check_python),
    ("torch", install.check_torch),
    ("torchvision", lambda ctx: install.check_domain(ctx, "torchvision")),
    ("torchaudio", lambda ctx: install.check_domain(ctx, "torchaudio")),
    ("build", install.check_build),
    ("cuda-runtime", install.check_cuda_runtime),
    ("cudnn", install.check_cudnn),
    ("nccl", install.check_nccl),
    ("driver", gpu.check_driver),
    ("gpu", gpu.check_gpu),
    ("gpu-arch", gpu.check_gpu_arch),
    ("mps", gpu.check_mps),
    ("cpu-backends", libs.check_cpu_backends),
    ("kernels", compute.check_kernels),
    ("conv", compute.check_conv),
    ("amp", compute.check_amp),
    ("sdpa", compute.check_sdpa),
    ("distributed", libs.check_distributed),
    ("numpy", libs.check_numpy),
    ("first-step", compute.check_first_step),
    ("compile", check_compile),
)


def parse_args(argv):
    """Parse verify's options; argparse exits 2 on bad usage."""
    parser = argparse.ArgumentParser(
        prog="python -m checks verify",
        description="Prove this PyTorch environment works: versions, build, driver, GPU, cuDNN, AMP, "
        "torch.compile and a training step. Exit 0: all passed; 1: a check failed; 2: usage error.",
    )
    parser.add_argument(
        "--env", metavar="NAME", help="the pixi environment to expect (default: the active pixi environment, if any)"
    )
    parser.add_argument("--manifest", metavar="PATH", help="pixi.toml to read (default: the active pixi workspace's)")
    parser.add_argument(
        "--json", metavar="PATH", help="also write the report as JSON (schema: checks/report.schema.json)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="skip slow checks: torch.compile, extension loads, the gloo all-reduce"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds the GPU probe and nvidia-smi may take (default 60)",
    )
    parser.add_argument(
        "--compile-timeout",
        type=float,
        default=600.0,
        metavar="S",
        help="seconds torch.compile may take per device (default 600)",
    )
    return parser.parse_args(argv)


class Context:
    """Everything the checks read: torch, host and driver facts, the environment's promises."""

    def __init__(self, args):
        self.quick = args.quick
        self.compile_timeout = args.compile_timeout
        self.host = probe.host()
        self.driver = probe.driver(timeout=args.timeout)
        self.expect = None
        self.torch, self.import_error = None, None
        self.gpu = None
        self.devices = ["cpu"]

    @property
    def gpu_ok(self):
        """True when the GPU probe found a working CUDA device."""
        return bool(self.gpu and self.gpu.get("available") and self.gpu.get("kernel_ok"))


def resolve_expectation(args, ctx):
    """Return the Expectation for --env or the active pixi environment, or None for generic checks."""
    name = args.env or os.environ.get("PIXI_ENVIRONMENT_NAME")
    if not name:
        return None
    path = args.manifest or manifest.find_manifest()
    if path is None:
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        path = manifest.find_manifest(here)
    if path is None:
        raise manifest.ManifestError("--env %s needs pixi.toml: none found here or above; pass --manifest PATH" % name)
    data = manifest.load(path)
    return manifest.expect(data, name, ctx.host["subdir"], probe.host_cuda(ctx.driver))


def header(ctx, manifest_path):
    """Return the facts printed above the verdicts."""
    torch = ctx.torch
    facts = {
        "check": "verify v%d%s" % (CHECK_VERSION, " (quick)" if ctx.quick else ""),
        **header_facts(ctx.host, torch),
        "environment": ctx.expect.describe() if ctx.expect else "none given (generic checks; use --env NAME)",
        "manifest": manifest_path,
        "driver": "%s (CUDA %s)" % (ctx.driver["version"], ctx.driver["cuda"]) if ctx.driver["present"] else "none",
        "gpus": ", ".join(g["name"] for g in ctx.driver["gpus"]) or None,
    }
    facts.update(("env " + k, v) for k, v in probe.environment_vars().items())
    return {k: v for k, v in facts.items() if v is not None}


def collect(args):
    """Gather facts: driver, the environment's promises, torch, and the GPU probe."""
    ctx = Context(args)
    ctx.expect = resolve_expectation(args, ctx)
    ctx.torch, ctx.import_error = probe.import_torch()
    if ctx.torch is not None:
        ctx.devices, ctx.gpu = probe.devices(ctx.torch, ctx.driver, args.timeout)
    return ctx


def main(argv=None):
    """Run verify; return the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    rep = report.Report("verify", argv)
    try:
        ctx = collect(args)
    except report.UsageError as exc:
        print("verify: error: %s" % exc, file=sys.stderr)
        return report.EXIT_USAGE
    rep.header = header(ctx, args.manifest or (manifest.find_manifest() if ctx.expect else None))
    return report.stream_results(rep, (report.run_check(name, func, ctx) for name, func in CHECKS), args.json)
