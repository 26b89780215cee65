"""`python -m checks verify`: prove this PyTorch environment works, or say exactly what is wrong.

command (this module) -> facts (facts.py: host, driver, the environment's promise, torch, GPU probe) -> verdicts
(install.py, gpu.py, compute.py, libs.py, compile.py: one function per check line). verify has no chart.
"""

from checks import manifest, runner
from checks.verify import compile as compile_
from checks.verify import compute, facts, gpu, install, libs

SPEC = runner.Spec(
    "verify",
    "Prove this PyTorch environment works: versions, build, driver, GPU, cuDNN, AMP, torch.compile and a training "
    "step. Exit 0: all passed; 1: a check failed; 2: usage error; 130: interrupted.",
    quick="skip torch.compile, the extension loads and the gloo all-reduce",
    timeout=120.0,
)

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
    ("compile", compile_.check_compile),
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


def prepare(args, torch):
    """Collect the facts, then plan the checks."""
    ctx = facts.collect(args)
    header = facts.header(ctx, args.manifest or (manifest.find_manifest() if ctx.expect else None))
    jobs = [(name, (lambda f=func: f(ctx))) for name, func in CHECKS]
    return runner.Plan(header, jobs=jobs, hint="a hung GPU, driver or compiler: check `nvidia-smi`, raise --timeout")


def main(argv):
    """Run verify; return the exit code."""
    return runner.run(SPEC, argv, prepare, add_arguments)
