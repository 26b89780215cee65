"""The training loop: batches are fixed by the step, runs record what happened, checkpoints resume exactly."""

import math

import pytest

torch = pytest.importorskip("torch", reason="the trainer needs torch")

from checks.train import trainer  # noqa: E402
from checks.train.trainer import Trainer, Variant  # noqa: E402


def test_variant_names_are_report_names():
    """Names join model, device, precision, mode and the memory format, in the report's name alphabet."""
    assert Variant("cnn", "cuda", "bf16", "compile").name == "cnn-cuda-bf16-compile"
    assert Variant("cnn", "cpu", channels_last=True).name == "cnn-cpu-fp32-eager-channels-last"
    assert Variant("net", "cpu").but(device="cuda").name == "net-cuda-fp32-eager"


def test_batches_depend_on_the_step_not_the_seed():
    """Two models with different seeds see the same batches, epoch by epoch, and differ only by init."""
    a, b = Trainer(Variant("net", "cpu"), seed=0), Trainer(Variant("net", "cpu"), seed=1)
    for index in (0, 7, 25, 199):
        assert all(torch.equal(p, q) for p, q in zip(a.batch(index), b.batch(index)))
    assert not torch.equal(a.model.fc1.weight, b.model.fc1.weight)
    first_epoch = torch.cat([a.batch(i)[1] for i in range(20)])
    assert first_epoch.numel() == len(a.y)  # an epoch visits every sample once


def test_channels_last_batches_are_channels_last():
    """The channels-last variant feeds channels-last inputs to a channels-last model."""
    t = Trainer(Variant("cnn", "cpu", channels_last=True))
    x, _ = t.batch(0)
    assert x.is_contiguous(memory_format=torch.channels_last)
    assert t.model.conv1.weight.is_contiguous(memory_format=torch.channels_last)


def test_train_records_losses_accuracy_and_speed():
    """A short run records one finite loss per step, accuracy on held-out data, and a timing."""
    run = trainer.train(Variant("net", "cpu"), steps=12)
    assert len(run.losses) == 12 and all(math.isfinite(v) for v in run.losses)
    assert 0.0 <= run.accuracy <= 1.0
    assert run.ms_per_step > 0 and run.per_second > 0
    assert run.problems == []


def test_too_short_a_run_is_untimed():
    """Fewer steps than the warm-up: no figure is invented."""
    run = trainer.train(Variant("net", "cpu"), steps=trainer.WARMUP_STEPS, evaluate=False)
    assert run.ms_per_step is None and run.per_second is None and run.accuracy is None


def test_gradient_problems_are_named():
    """A missing, non-finite or all-zero gradient is reported with the parameter's name."""
    t = Trainer(Variant("net", "cpu"))
    t.step()
    assert t.gradient_problems() == []
    t.model.fc1.weight.grad[0, 0] = float("nan")
    t.model.fc2.bias.grad.zero_()
    t.model.fc1.bias.grad = None
    assert t.gradient_problems() == [
        "fc1.weight: non-finite gradient",
        "fc1.bias: no gradient",
        "fc2.bias: gradient zero everywhere",
    ]


@pytest.mark.parametrize("model", ["net", "cnn", "transformer"])
def test_checkpoint_resumes_bit_exactly_on_cpu(model):
    """Optimizer state (momentum, AdamW moments) and BN buffers survive a checkpoint: the next step is identical."""
    assert trainer.resume_difference(Variant(model, "cpu"), steps=3) == 0.0


def test_checkpoint_without_optimizer_state_is_caught(monkeypatch):
    """The resume comparison is not vacuous: dropping the optimizer state makes the next step differ."""
    monkeypatch.setattr(Trainer, "load", lambda self, state: self.model.load_state_dict(state["model"]))
    assert trainer.resume_difference(Variant("net", "cpu"), steps=3) > 0


def test_relative_difference():
    """Largest relative difference; unequal lengths never agree."""
    assert trainer.relative_difference([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert trainer.relative_difference([1.0, 2.2], [1.0, 2.0]) == pytest.approx(0.1)
    assert trainer.relative_difference([1.0], [1.0, 2.0]) == math.inf
