"""The reference models keep the seeds' architectures; the synthetic data is deterministic and learnable."""

import pytest

torch = pytest.importorskip("torch", reason="the models need torch")

from checks.train import models  # noqa: E402

GENERATORS = [models.linear_rule, models.noisy_prototypes, models.placed_patches, models.repeated_sequences]


def shapes(module):
    return [tuple(p.shape) for p in module.parameters()]


def test_seed_programs_are_kept_faithfully():
    """Net is Linear 10->5->2 and SimpleNet is Linear 784->128->64->10, as in the seeds."""
    assert shapes(models.Net()) == [(5, 10), (5,), (2, 5), (2,)]
    assert shapes(models.SimpleNet()) == [(128, 784), (128,), (64, 128), (64,), (10, 64), (10,)]
    assert models.SimpleNet()(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    net = models.SPECS["net"].optimizer(models.Net().parameters())
    assert isinstance(net, torch.optim.SGD) and net.defaults["lr"] == 0.01 and net.defaults["momentum"] == 0.9
    simple = models.SPECS["simplenet"].optimizer(models.SimpleNet().parameters())
    assert isinstance(simple, torch.optim.SGD) and simple.defaults["lr"] == 0.01 and simple.defaults["momentum"] == 0


def test_transformer_uses_adamw_and_is_causal():
    """The transformer's logit at position t does not depend on later tokens."""
    torch.manual_seed(0)
    model = models.TinyGPT().eval()
    idx = torch.randint(0, 32, (1, 32))
    changed = idx.clone()
    changed[0, 20:] = (changed[0, 20:] + 1) % 32
    with torch.no_grad():
        a, b = model(idx), model(changed)
    assert torch.equal(a[0, :20], b[0, :20])
    assert not torch.equal(a[0, 20:], b[0, 20:])
    assert isinstance(models.SPECS["transformer"].optimizer(model.parameters()), torch.optim.AdamW)


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_data_is_deterministic_per_seed(make):
    """The same seed gives the same data; another seed gives other data."""
    x1, y1 = make(64, 5)
    x2, y2 = make(64, 5)
    x3, _ = make(64, 6)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)


def test_labels_follow_a_rule_the_models_can_learn():
    """Labels are a function of the inputs: linear side, class prototype, pasted patch, repeated tokens."""
    x, y = models.linear_rule(256, 0)
    assert 0.2 < y.float().mean() < 0.8  # both classes present
    x, y = models.noisy_prototypes(256, 0)
    prototypes = torch.randn(10, 1, 28, 28, generator=torch.Generator().manual_seed(1001))
    nearest = ((x[:, None] - prototypes[None]) ** 2).flatten(2).sum(-1).argmin(1)
    assert (nearest == y).float().mean() > 0.9
    inputs, targets = models.repeated_sequences(8, 0)
    assert torch.equal(inputs[:, 1:], targets[:, :-1])
    assert torch.equal(targets[:, 15:], inputs[:, :16])


def test_loss_and_accuracy_skip_unpredictable_tokens():
    """Only the repeated half of a sequence is scored: chance is 1/32 there, not diluted by random tokens."""
    spec = models.SPECS["transformer"]
    inputs, targets = models.repeated_sequences(4, 0)
    perfect = torch.nn.functional.one_hot(targets, 32).float() * 100
    assert spec.correct(perfect, targets) == (4 * 16, 4 * 16)
    assert spec.loss(perfect, targets) < 1e-6
    assert spec.per_step(inputs) == 4 * 31
