"""The training check's verdicts: each variant learns and is sane; runs repeat, resume, and agree across devices."""

import math
import multiprocessing
import multiprocessing.queues
import sys

import torch

from checks import apis, errors
from checks.machine import toolchain
from checks.report import FAIL, PASS, SKIP, Result
from checks.train import trainer
from checks.train.models import SPECS
from checks.train.trainer import Variant

AGREEMENT_STEPS = 20  # steps compared between two runs that should agree
LOSS_DROP = 0.5  # the mean loss of the last 10 steps must be at most this fraction of the first 10
# Largest relative loss difference over AGREEMENT_STEPS between compiled and eager training (measured on CPU:
# about 3e-6 in fp32 and 2e-4 in bf16; inductor reorders reductions).
COMPILE_TOLERANCE = {"fp32": 1e-4, "bf16": 1e-2, "fp16": 1e-2}
DEVICE_TOLERANCE = 1e-3  # a GPU's fp32 losses against the CPU's (different kernels, same maths)
GPU_REPEAT_TOLERANCE = 1e-4  # GPU kernels may use atomics: repeated runs agree closely, not bit for bit
OOM_HINT = "free GPU memory (nvidia-smi lists the processes holding it) and rerun"


def variant_problem(ctx, variant):
    """Return (status, reason, hint) when a variant cannot run here, else None."""
    if variant.device == "mps" and (variant.precision != "fp32" or variant.mode != "eager"):
        return SKIP, "MPS runs the fp32 eager variants only (autocast and compile on MPS are partial)", None
    if variant.precision == "fp16" and variant.device == "cpu":
        return SKIP, "fp16 with a gradient scaler is the CUDA recipe; CPU mixed precision is bf16", None
    if variant.precision == "bf16" and variant.device == "cuda" and not torch.cuda.is_bf16_supported():
        return SKIP, "this GPU has no bf16 support (needs sm_80+)", None
    if variant.mode == "compile":
        if ctx.quick:
            return SKIP, "--quick skips torch.compile", None
        blocker = toolchain.compile_blocker(torch, (variant.device,))
        if blocker:
            return blocker.status, blocker.summary, blocker.fix
    return None


def _fmt_rate(value, unit):
    if value is None:
        return "too few steps to time"
    scaled = "%.1fk" % (value / 1e3) if value >= 1e4 else "%.0f" % value
    return "%s %s/s" % (scaled, unit)


def _guarded(name, body, compiling=False):
    """Run body(); turn OOM (and, when compiling, compiler errors) into a FAIL with the right fix."""
    try:
        return body()
    except RuntimeError as exc:  # torch.cuda.OutOfMemoryError and inductor's errors are RuntimeErrors
        text = str(exc)
        if apis.is_oom(exc):
            return Result(
                name=name,
                status=FAIL,
                summary="out of memory",
                expected="fits in free memory",
                actual=text.splitlines()[0],
                hint=OOM_HINT,
            )
        if compiling:  # dynamo's and inductor's errors (BackendCompilerFailed, ...) are RuntimeErrors
            found = errors.describe(exc)
            fix = toolchain.known_fix(text)
            # a failure no toolchain signature knows is judged against the facts (runner.judged), as verify's is
            return Result(
                name=name,
                status=FAIL,
                summary="torch.compile failed: %s" % found,
                expected="compiles",
                actual=found,
                hint=fix or "not recognised; rerun with --json and report the file",
                data=None if fix else {"exception": errors.traceback_text(exc)},
            )
        raise


def device_unusable(ctx, device, reason, names):
    """One line for a device that cannot run: SKIP, or FAIL when --device asked for it."""
    data = {"not_run": names}
    summary = "%d variants and checks not run: %s" % (len(names), reason)
    if device in ctx.asked:
        return Result(
            name=device,
            status=FAIL,
            summary=summary,
            expected="%s usable" % device,
            actual=reason,
            hint="run `python -m checks verify`",
            data=data,
        )
    return Result(name=device, status=SKIP, summary=summary, data=data)


def check_variant(ctx, variant):
    """Train one variant for its budget and judge: finite falling loss, sane gradients, accuracy, agreement."""
    return refusal(ctx, variant) or _guarded(
        variant.name, lambda: _judge(variant, trainer.train(variant)), variant.mode == "compile"
    )


def refusal(ctx, variant):
    """The Result of a variant that cannot run here (variant_problem: a SKIP, or a FAIL such as torch 2.0's
    "Python 3.11+ not yet supported for torch.compile"), which measures nothing; None for one that can run."""
    problem = variant_problem(ctx, variant)
    if problem is None:
        return None
    status, reason, hint = problem
    return Result(name=variant.name, status=status, summary=reason, hint=hint)


def _judge(variant, run):
    spec = SPECS[variant.model]
    first, last = run.window_means()
    failures = []
    if not all(math.isfinite(v) for v in run.losses):
        failures.append(("loss not finite", "non-finite loss at step %d" % _first_bad(run.losses)))
    elif last > LOSS_DROP * first:
        failures.append(("loss did not fall", "last-10 mean %.3g vs first-10 mean %.3g" % (last, first)))
    if run.problems:
        failures.append(("bad gradients", "; ".join(run.problems[:3])))
    if not run.accuracy >= spec.bar:
        failures.append(("accuracy below the bar", "held-out accuracy %.3f < %.2f" % (run.accuracy, spec.bar)))
    data = {
        "steps": len(run.losses),
        "losses": run.losses,
        "accuracy": run.accuracy,
        "bar": spec.bar,
        "chance": spec.chance,
        "ms_per_step": run.ms_per_step,
        "per_second": run.per_second,
        "unit": spec.unit,
        "first_step_s": run.first_step_s,
    }
    notes = []
    if variant.mode == "compile":
        eager = trainer.train(variant.but(mode="eager"), steps=AGREEMENT_STEPS, evaluate=False)
        diff = trainer.relative_difference(run.losses[:AGREEMENT_STEPS], eager.losses)
        tolerance = COMPILE_TOLERANCE[variant.precision]
        data.update(compile_s=run.first_step_s, eager_difference=diff, eager_tolerance=tolerance)
        notes.append("compiled in %.1f s, matches eager (%.1e <= %.0e)" % (run.first_step_s, diff, tolerance))
        if not diff <= tolerance:
            failures.append(("compiled differs from eager", "relative loss difference %.2g > %g" % (diff, tolerance)))
    summary = "loss %.4g -> %.4g in %d steps, accuracy %.2f (bar %.2f, chance %.2f), %s, %s" % (
        first,
        last,
        len(run.losses),
        run.accuracy,
        spec.bar,
        spec.chance,
        "%.2f ms/step" % run.ms_per_step if run.ms_per_step is not None else "untimed",
        _fmt_rate(run.per_second, spec.unit),
    )
    summary += "".join("; " + n for n in notes)
    if failures:
        return Result(
            name=variant.name,
            status=FAIL,
            summary="%s: %s" % (", ".join(f[0] for f in failures), summary),
            expected="finite loss falling to <= %.1fx its start, finite non-zero gradients, accuracy >= %.2f%s"
            % (LOSS_DROP, spec.bar, ", compiled = eager" if variant.mode == "compile" else ""),
            actual="; ".join(f[1] for f in failures),
            hint=_hint(variant, failures),
            data=data,
        )
    return Result(name=variant.name, status=PASS, summary=summary, data=data)


def _first_bad(values):
    return next(i for i, v in enumerate(values) if not math.isfinite(v))


def _hint(variant, failures):
    kinds = [f[0] for f in failures]
    if "compiled differs from eager" in kinds:
        return "train eager meanwhile; report the difference to PyTorch with TORCH_LOGS=+inductor output"
    if variant.precision == "fp16":
        return "fp16 overflowed: check that the GradScaler steps (compare the bf16 and fp32 variants)"
    return "run `python -m checks verify` (kernels, amp); compare with the same model's cpu fp32 variant"


def _cross(name, variants, body, limit):
    """Run body(variant) -> difference for each variant; PASS when the largest is within `limit`."""

    def run():
        diffs = {_label(v): body(v) for v in variants}
        worst = max(diffs.values())
        data = {"differences": diffs, "tolerance": limit, "steps": AGREEMENT_STEPS}
        detail = "%s (largest %.2g, allowed %g)" % (", ".join("%s %.2g" % kv for kv in diffs.items()), worst, limit)
        if worst <= limit:
            return Result(name=name, status=PASS, summary=detail, data=data)
        return Result(
            name=name,
            status=FAIL,
            summary=detail,
            expected="<= %g" % limit,
            actual="%.3g" % worst,
            hint=_CROSS_HINTS[name.split("-")[0]],
            data=data,
        )

    return _guarded(name, run)


_CROSS_HINTS = {
    "determinism": "something is nondeterministic: set torch.use_deterministic_algorithms(True) to find the op",
    "checkpoint": "a state_dict misses state (optimizer, scaler, buffers); resume would not continue the run",
    "cuda": "CUDA and CPU kernels disagree in fp32: run `python -m checks verify` (kernels, conv)",
    "mps": "MPS and CPU kernels disagree in fp32: update macOS and torch",
}


def _label(variant):
    return variant.model if variant.precision == "fp32" else "%s %s" % (variant.model, variant.precision)


def _fp32_variants(ctx, device):
    return [Variant(model, device) for model in ctx.models]


def _repeat_tolerance(device):
    return 0.0 if device == "cpu" else GPU_REPEAT_TOLERANCE


def check_determinism(ctx, device):
    """The same seed twice gives the same losses: bit-exact on CPU, within tolerance on a GPU."""

    def body(variant):
        a = trainer.train(variant, steps=AGREEMENT_STEPS, evaluate=False)
        b = trainer.train(variant, steps=AGREEMENT_STEPS, evaluate=False)
        return trainer.relative_difference(a.losses, b.losses)

    return _cross("determinism-" + device, _fp32_variants(ctx, device), body, _repeat_tolerance(device))


def check_checkpoint(ctx, device):
    """Model, optimizer (and scaler) state saved and reloaded into a fresh model resume to the same next step."""
    variants = _fp32_variants(ctx, device)
    if device == "cuda" and "transformer" in ctx.models:
        variants.append(Variant("transformer", device, "fp16"))  # the GradScaler's state too
    return _cross("checkpoint-" + device, variants, trainer.resume_difference, _repeat_tolerance(device))


def check_matches_cpu(ctx, device):
    """A GPU's fp32 training agrees with the CPU's after AGREEMENT_STEPS steps from the same start."""

    def body(variant):
        gpu = trainer.train(variant, steps=AGREEMENT_STEPS, evaluate=False)
        cpu = trainer.train(variant.but(device="cpu"), steps=AGREEMENT_STEPS, evaluate=False)
        return trainer.relative_difference(gpu.losses, cpu.losses)

    return _cross(device + "-matches-cpu", _fp32_variants(ctx, device), body, DEVICE_TOLERANCE)


# The DataLoader check's load: image-sized samples (3x224x224 fp32, 0.6 MB) in batches of 32 (19 MB), two worker
# processes with the default prefetch of 2 batches each: about 77 MB in shared memory at once, more than the 64 MB
# a container gets by default (docker run --shm-size), as a real image pipeline would have.
LOADER_SAMPLE = (3, 224, 224)
LOADER_BATCH, LOADER_WORKERS, LOADER_BATCHES = 32, 2, 6
# DataLoader(timeout=): how long the main process waits for one batch (torch raises "DataLoader timed out after N
# seconds"); a batch here takes well under a second, so this bounds a batch that can never arrive (a worker whose
# feeder failed) far below train's --timeout.
LOADER_TIMEOUT = 60


class _ImageLike(torch.utils.data.Dataset):
    """Synthetic image-sized samples, each filled with its index (so the batches' order can be checked)."""

    def __len__(self):
        return LOADER_BATCH * LOADER_BATCHES

    def __getitem__(self, index):
        return torch.full(LOADER_SAMPLE, float(index)), index % 10


class _LoaderQueue(multiprocessing.queues.Queue):
    """multiprocessing's Queue, less one report: when a DataLoader worker dies (a bus error on a full /dev/shm), the
    feeder thread still sending to it gets EPIPE and prints a traceback of its own (multiprocessing/queues.py, _feed:
    `_on_queue_feeder_error`, the hook the standard library keeps for overriding). The worker's death itself reaches
    the main process as torch's RuntimeError and is judged; another feeder error (`AF_UNIX path too long`: the
    batch's file descriptors cannot be handed over) is one line on stderr, and the main process's wait for that
    batch ends at LOADER_TIMEOUT with torch's "DataLoader timed out", judged against the OS facts."""

    @staticmethod
    def _on_queue_feeder_error(e, obj):
        if not isinstance(e, BrokenPipeError):  # one line, not the standard library's traceback
            sys.stderr.write("DataLoader worker: a batch could not be sent: %s: %s\n" % (type(e).__name__, e))


def _loader_context():
    """The context of this platform's default start method (fork on Linux, spawn on macOS and Windows), whose queues
    are _LoaderQueue: torch's DataLoader takes any multiprocessing context (`multiprocessing_context`)."""

    class LoaderContext(type(multiprocessing.get_context())):
        def Queue(self, maxsize=0):  # noqa: N802 (multiprocessing's name)
            return _LoaderQueue(maxsize, ctx=self.get_context())

    return LoaderContext()


def check_dataloader(ctx, device, facts=None):
    """A DataLoader with worker processes feeds `device` as a training job's would (worker start-up, batches
    through shared memory, pinned memory on CUDA) and the batches arrive whole and in order; a failure is judged
    against the OS facts (checks/diagnosis/environment.py: shared memory, open files, ...)."""
    import gc

    name = "dataloader-" + device
    # A DataLoader iterator whose start failed halfway raises again in __del__ ("Exception ignored in ...
    # _MultiProcessingDataLoaderIter.__del__"): keep that second report out of the output; the first is judged.
    unraisable, sys.unraisablehook = sys.unraisablehook, lambda report: None
    try:
        return _dataloader(name, device, facts)
    finally:
        gc.collect()
        sys.unraisablehook = unraisable


def _dataloader(name, device, facts):
    from checks import diagnosis

    loader = torch.utils.data.DataLoader(
        _ImageLike(),
        batch_size=LOADER_BATCH,
        num_workers=LOADER_WORKERS,
        pin_memory=device == "cuda",
        multiprocessing_context=_loader_context(),
        timeout=LOADER_TIMEOUT,
    )
    try:
        seen = 0
        for x, _ in loader:
            x = x.to(device, non_blocking=True)
            first = float(x[0, 0, 0, 0])
            if first != float(seen) or tuple(x.shape[1:]) != LOADER_SAMPLE:
                return Result(
                    name=name,
                    status=FAIL,
                    summary="batch %d arrived wrong (first sample %g, shape %s)"
                    % (seen // LOADER_BATCH, first, tuple(x.shape)),
                    expected="sample %d" % seen,
                    actual="%g" % first,
                    hint="run `python -m checks verify`: the workers' shared memory is corrupt",
                )
            seen += x.shape[0]
    except Exception as exc:  # RuntimeError from a dead worker, OSError from shared memory, ...
        text = errors.traceback_text(exc)
        cause = diagnosis.explain(text, facts or diagnosis.gather())
        return Result(
            name=name,
            status=FAIL,
            summary="DataLoader with %d workers failed: %s" % (LOADER_WORKERS, cause.meaning),
            expected="%d batches through %d worker processes" % (LOADER_BATCHES, LOADER_WORKERS),
            actual=errors.extract(text).line,
            hint=cause.fix,
            data={"fact": cause.fact, "recognised": cause.recognised},
        )
    mib = LOADER_BATCH * 4 * LOADER_SAMPLE[0] * LOADER_SAMPLE[1] * LOADER_SAMPLE[2] / float(1 << 20)
    return Result(
        name=name,
        status=PASS,
        summary="%d batches of %.0f MiB through %d worker processes%s"
        % (LOADER_BATCHES, mib, LOADER_WORKERS, ", pinned" if device == "cuda" else ""),
    )
