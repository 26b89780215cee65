"""`python -m checks train`: prove a real training loop runs, learns and is sane on every device and precision."""

import os
import platform
import warnings

from checks import apis, compat, progress, runner
from checks.machine import contention, probe, system
from checks.machine.probe import build_flavour
from checks.nvidia import driver as nvidia_driver

CHECK_VERSION = 1
DEVICES = ("cpu", "cuda", "mps")
MODELS = ("net", "simplenet", "cnn", "transformer")

# What every usable device trains: (model, precision, mode, channels_last). The matrix is the same on every
# machine; what a device or torch cannot run is reported as SKIP with the reason.
PLAN = (
    ("net", "fp32", "eager", False),
    ("simplenet", "fp32", "eager", False),
    ("cnn", "fp32", "eager", False),
    ("cnn", "fp32", "eager", True),
    ("cnn", "bf16", "eager", False),
    ("cnn", "fp16", "eager", False),
    ("transformer", "fp32", "eager", False),
    ("transformer", "bf16", "eager", False),
    ("transformer", "fp16", "eager", False),
    ("simplenet", "fp32", "compile", False),
    ("cnn", "fp32", "compile", False),
    ("transformer", "fp32", "compile", False),
    ("transformer", "bf16", "compile", False),
)


SPEC = runner.Spec(
    "train",
    "Train the reference models (the seeds' Net and SimpleNet, a CNN, a small transformer) on synthetic data on "
    "every device and precision this machine supports, and check that they learn. Exit 0: all passed; 1: a check "
    "failed; 2: usage error or no usable torch; 3: internal error; 128+N: stopped by signal N (130 Ctrl-C).",
    options=("json", "quick", "device", "timeout"),
    quick="skip the torch.compile variants (the slow part)",
    devices=DEVICES,
    device_repeat=True,
    needs_torch=True,
)


def add_arguments(parser):
    """train's own option: which reference models."""
    parser.add_argument("--model", action="append", choices=MODELS, help="train only this model (repeatable)")


class Context:
    """What the checks read: torch, the devices asked for, and why any of them cannot be used."""

    def __init__(self, args, torch):
        self.torch = torch
        self.quick = args.quick
        self.asked = args.device or []
        self.models = args.model or list(MODELS)
        self.driver = nvidia_driver.facts(timeout=min(args.timeout, 60))
        self.usable, self.gpu = probe.devices(torch, self.driver, min(args.timeout, 60))
        self.devices = [d for d in DEVICES if d in (self.asked or DEVICES)]
        self.watch = None  # contention.Watch, made by prepare() when the plan is run

    def watching(self):
        """Return the contention.Watch of this run: CPU load of other processes, and the GPU's processes when CUDA
        is trained on (a gpuinfo.Reader, NVML or nvidia-smi)."""
        reader = None
        if "cuda" in self.devices and "cuda" in self.usable:
            from checks.nvidia import gpuinfo

            reader = gpuinfo.Reader()
        cuda = self.torch.cuda
        return contention.Watch(reader, lambda: "cuda" in self.usable and cuda.is_initialized())

    def unusable(self, device):
        """Return why a device cannot be used here, or None if it can."""
        if device in self.usable:
            return None
        if device == "mps":
            if platform.system() != "Darwin":
                return "MPS is Apple's GPU backend (macOS only)"
            floor = compat.mps_macos_floor(self.torch.__version__) or "12.3"
            return (
                "MPS is not available (torch %s needs Apple Silicon, macOS %s+ and an MPS build; this is macOS %s)"
                % (
                    self.torch.__version__,
                    floor,
                    platform.mac_ver()[0],
                )
            )
        if not self.torch.version.cuda:
            return "this torch is a %s build" % build_flavour(self.torch)
        if not self.driver["present"]:
            return "no NVIDIA driver found (nvidia-smi / libcuda)"
        if self.gpu is not None and self.gpu.error:
            return self.gpu.error
        return "torch sees no usable CUDA device (CUDA_VISIBLE_DEVICES=%r)" % os.environ.get("CUDA_VISIBLE_DEVICES")

    def describe_devices(self):
        """Return the header line that names the devices trained on."""
        parts = []
        for device in self.devices:
            if device == "cpu":
                parts.append("cpu (%d threads)" % self.torch.get_num_threads())
            elif device == "cuda" and device in self.usable:
                gpu = self.gpu.devices[0]
                parts.append("cuda (%s, sm_%d%d)" % (gpu.name, gpu.capability[0], gpu.capability[1]))
            elif device in self.usable:
                parts.append(device)
        return ", ".join(parts)


def header(ctx):
    """Return the facts printed above the verdicts."""
    from checks.train.trainer import EPOCHS, WARMUP_STEPS

    return {
        "check": "train v%d%s" % (CHECK_VERSION, " (quick)" if ctx.quick else ""),
        **probe.header_facts(probe.host(), ctx.torch),
        "devices": ctx.describe_devices() or "none usable",
        "method": "seed 0, synthetic data, %d epochs; ms/step after %d warm-up steps; fp32 = IEEE fp32 (TF32 off)"
        % (EPOCHS, WARMUP_STEPS),
    }


def jobs(ctx, say=progress.stderr_line):
    """Yield (name, function) for every variant and cross-check, in print order; one line per unusable device; then
    the `contention` line. Each variant's figures (ms/step, samples/s) are marked when other processes used the
    CPUs or the GPU meanwhile (ctx.watch, a contention.Watch, as bench does), and a step still running after a few
    seconds says so on stderr (progress.Heartbeat) through `say`."""
    for kind, name, func in _plan(ctx):
        if kind == "variant":  # a figure: marked under contention; a FAIL's fix is not about speed
            func = progress.beating("train: training %s" % name, ctx.watch.around(func, fix=False), say)
        elif kind == "cross":
            func = progress.beating("train: checking %s" % name, func, say)
        yield name, func
    yield "contention", ctx.watch.verdict


def torch_dir(torch):
    """The directory of the imported torch (its libraries' glibc needs are read from there), or None."""
    return os.path.dirname(os.path.abspath(torch.__file__)) if torch is not None else None


def _plan(ctx):
    """Yield (kind, name, function): kind `os` (what the OS gives the job, first), `variant` (one training run),
    `refused` (a variant that cannot run here: its SKIP or FAIL, measuring nothing),
    `cross` (runs compared, the DataLoader) or `device` (one line for a device that cannot be used)."""
    from checks.train import verdicts as tc
    from checks.train.trainer import Variant

    yield "os", "os", lambda: system.verdict(system.collect(torch_dir(getattr(ctx, "torch", None))))
    for device in ctx.devices:
        variants = [Variant(m, device, p, mode, cl) for m, p, mode, cl in PLAN if m in ctx.models]
        cross = ["dataloader-" + device, "determinism-" + device, "checkpoint-" + device] + (
            [] if device == "cpu" else [device + "-matches-cpu"]
        )
        reason = ctx.unusable(device)
        if reason:
            names = [v.name for v in variants] + cross
            yield "device", device, (lambda d=device, r=reason, n=names: tc.device_unusable(ctx, d, r, n))
            continue
        for variant in variants:
            refused = tc.refusal(ctx, variant)  # measures nothing: not marked under contention, not a figure
            if refused is not None:
                yield "refused", variant.name, (lambda r=refused: r)
            else:
                yield "variant", variant.name, (lambda v=variant: tc.check_variant(ctx, v))
        yield "cross", cross[0], (lambda d=device: tc.check_dataloader(ctx, d))
        yield "cross", cross[1], (lambda d=device: tc.check_determinism(ctx, d))
        yield "cross", cross[2], (lambda d=device: tc.check_checkpoint(ctx, d))
        if device != "cpu":
            yield "cross", cross[3], (lambda d=device: tc.check_matches_cpu(ctx, d))


def prepare(args, torch):
    """Find the usable devices, switch TF32 off (fp32 means IEEE fp32 here), and plan every variant."""
    from checks.apis import disable_tf32

    ctx = Context(args, torch)
    ctx.watch = ctx.watching()
    disable_tf32(torch)
    if not args.quick:  # torch.compile runs: inductor imports cpp_extension, which says no CUDA runtime is found
        apis.quiet_cuda_home()
    # TF32 is off on purpose; inductor would suggest turning it on.
    warnings.filterwarnings("ignore", message="TensorFloat32 tensor cores")
    hint = "run `python -m checks verify`; if the machine is only slow, raise --timeout"
    return runner.Plan(header(ctx), jobs=jobs(ctx), hint=hint)


def main(argv):
    """Run train; return the exit code."""
    return runner.run(SPEC, argv, prepare, add_arguments)
