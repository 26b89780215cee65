"""Train one reference model in one variant and record what happened: losses, gradients, accuracy, speed.

Imported only after torch imports (see checks.train).
"""

import contextlib
import math
import time

import torch

from checks import apis, timing
from checks.train.models import SPECS

EPOCHS = 10  # the seeds' `for epoch in range(10)` loop, implemented: every model trains for 10 epochs
EVAL_SAMPLES = 512  # held-out samples (a different seed) for the accuracy bar
WARMUP_STEPS = 5  # left out of ms/step: first-call allocation, cuDNN autotuning, compilation
DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class Variant:
    """One way to train one model: device, precision, eager or compiled, memory format."""

    def __init__(self, model, device, precision="fp32", mode="eager", channels_last=False):
        self.model, self.device, self.precision, self.mode = model, device, precision, mode
        self.channels_last = channels_last

    @property
    def name(self):
        """Return the result name, e.g. `cnn-cuda-bf16-compile` or `cnn-cpu-fp32-eager-channels-last`."""
        parts = [self.model, self.device, self.precision, self.mode]
        return "-".join(parts + (["channels-last"] if self.channels_last else []))

    def but(self, **changes):
        """Return a copy with some fields changed."""
        fields = dict(vars(self), **changes)
        return Variant(**fields)


class Trainer:
    """A model, its optimizer (and gradient scaler), its data, and a step counter that fixes the batch order."""

    def __init__(self, variant, seed=0):
        self.variant = variant
        self.spec = spec = SPECS[variant.model]
        device = variant.device
        torch.manual_seed(seed)
        self.model = spec.build().to(device)
        if variant.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.optimizer = spec.optimizer(self.model.parameters())
        self.scaler = apis.grad_scaler(torch, device) if variant.precision == "fp16" else None
        self.forward = torch.compile(self.model) if variant.mode == "compile" else self.model
        x, y = spec.data(spec.steps // EPOCHS * spec.batch, seed=1)
        self.x, self.y = x.to(device), y.to(device)
        order = torch.Generator().manual_seed(3)  # the same batches for every seed: runs differ only by init
        self.order = [torch.randperm(len(x), generator=order).to(device) for _ in range(EPOCHS)]
        self.step_index = 0

    def autocast(self):
        """Return the autocast context of this variant's precision (none for fp32)."""
        dtype = DTYPES[self.variant.precision]
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.variant.device, dtype=dtype)

    def batch(self, index):
        """Return the (inputs, targets) of step `index`: epoch-wise shuffled, the same on every device."""
        per_epoch = len(self.order[0]) // self.spec.batch
        epoch, i = divmod(index, per_epoch)
        idx = self.order[epoch % EPOCHS][i * self.spec.batch : (i + 1) * self.spec.batch]
        x = self.x[idx]
        if self.variant.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, self.y[idx]

    def step(self):
        """Take one optimizer step; return the loss tensor (gradients are left unscaled for inspection)."""
        x, y = self.batch(self.step_index)
        with self.autocast():
            logits = self.forward(x)
        loss = self.spec.loss(logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            self.optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        self.step_index += 1
        return loss.detach()

    def gradient_problems(self):
        """Return the parameters whose gradient is missing, non-finite, or zero everywhere."""
        problems = []
        for name, p in self.model.named_parameters():
            if p.grad is None:
                problems.append("%s: no gradient" % name)
            elif not bool(torch.isfinite(p.grad).all()):
                problems.append("%s: non-finite gradient" % name)
            elif not bool(p.grad.ne(0).any()):
                problems.append("%s: gradient zero everywhere" % name)
        return problems

    def accuracy(self):
        """Return accuracy on held-out data the model never trained on."""
        x, y = self.spec.data(EVAL_SAMPLES, seed=2)
        self.model.eval()
        with torch.no_grad(), self.autocast():
            correct, total = self.spec.correct(self.model(x.to(self.variant.device)), y.to(self.variant.device))
        self.model.train()
        return correct / total

    def state(self):
        """Return everything a checkpoint holds: model, optimizer, scaler, step."""
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "step": self.step_index}
        if self.scaler is not None:
            state["scaler"] = self.scaler.state_dict()
        return state

    def load(self, state):
        """Restore a checkpoint written by state()."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None:
            self.scaler.load_state_dict(state["scaler"])
        self.step_index = state["step"]


class Run:
    """What one training run did: per-step losses, gradient problems, accuracy, timings."""

    def __init__(self, variant, losses, problems, accuracy, first_step_s, ms_per_step, per_second):
        self.variant, self.losses, self.problems, self.accuracy = variant, losses, problems, accuracy
        self.first_step_s, self.ms_per_step, self.per_second = first_step_s, ms_per_step, per_second

    def window_means(self, size=10):
        """Return the mean loss of the first and of the last `size` steps."""
        size = min(size, len(self.losses) // 2) or 1
        return sum(self.losses[:size]) / size, sum(self.losses[-size:]) / size


def train(variant, steps=None, seed=0, evaluate=True):
    """Train a variant for its step budget (or `steps`); return its Run."""
    trainer = Trainer(variant, seed)
    spec = trainer.spec
    steps = spec.steps if steps is None else steps
    losses, timed_from = [], None
    start = time.perf_counter()
    first_step_s = None
    for k in range(steps):
        if k == WARMUP_STEPS:
            timing.synchronize(torch, variant.device)
            timed_from = time.perf_counter()
        losses.append(trainer.step())
        if k == 0:
            timing.synchronize(torch, variant.device)
            first_step_s = time.perf_counter() - start
    timing.synchronize(torch, variant.device)
    ms_per_step = per_second = None
    if timed_from is not None:
        seconds = (time.perf_counter() - timed_from) / (steps - WARMUP_STEPS)
        ms_per_step = seconds * 1e3
        per_second = spec.per_step(trainer.batch(0)[0]) / seconds
    values = torch.stack(losses).float().cpu().tolist()
    accuracy = trainer.accuracy() if evaluate else None
    return Run(variant, values, trainer.gradient_problems(), accuracy, first_step_s, ms_per_step, per_second)


def resume_difference(variant, steps=10):
    """Save a checkpoint after `steps`, take one step; reload it into a fresh model and take the same step.

    Return the largest absolute difference between the two continuations (loss and every parameter).
    """
    original = Trainer(variant, seed=0)
    for _ in range(steps):
        original.step()
    blob = apis.save_bytes(torch, original.state())
    loss_a = original.step()
    resumed = Trainer(variant, seed=1)  # a different init: loading has to overwrite all of it
    resumed.load(apis.load_bytes(torch, blob))
    loss_b = resumed.step()
    diffs = [float((loss_a - loss_b).abs())]
    for a, b in zip(original.model.state_dict().values(), resumed.model.state_dict().values()):
        diffs.append(float((a.double() - b.double()).abs().max()) if a.numel() else 0.0)
    return max(diffs)


def relative_difference(a, b):
    """Return the largest relative difference between two loss sequences of equal length."""
    if len(a) != len(b):
        return math.inf
    return max((abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a, b)), default=0.0)
