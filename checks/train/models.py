"""The training check's reference models and their synthetic, learnable data (nothing is downloaded).

Imported only after torch imports (see checks.train).
"""

import math

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812


class Net(nn.Module):
    """The seeds' first program: Linear 10 -> 5 -> 2 with ReLU."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 2)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class SimpleNet(nn.Module):
    """The seeds' second program: flatten, Linear 784 -> 128 -> 64 -> 10 with ReLU."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class SmallCNN(nn.Module):
    """Two conv blocks with batch norm and global pooling: the cuDNN / oneDNN path."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.head = nn.Linear(32, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.bn2(self.conv2(x)))
        return self.head(torch.flatten(F.adaptive_max_pool2d(x, 1), 1))


class Block(nn.Module):
    """Pre-norm transformer block: causal self-attention through SDPA, then a GELU MLP."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    """A small decoder-only transformer: token and position embeddings, blocks, final norm, tied head."""

    def __init__(self, vocab=32, context=32, dim=64, heads=4, layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(context, dim)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(dim)
        for name, p in self.named_parameters():  # GPT-2's initialisation
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, std=std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        for block in self.blocks:
            x = block(x)
        return self.ln(x) @ self.tok.weight.t()


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def linear_rule(n, seed):
    """Points in R^10 labelled by the side of a fixed hyperplane they fall on (2 classes)."""
    g = _gen(seed)
    w = torch.randn(10, generator=_gen(1000))
    x = torch.randn(n, 10, generator=g)
    return x, (x @ w > 0).long()


def noisy_prototypes(n, seed):
    """28x28 'digits': one fixed random image per class plus heavy noise (10 classes)."""
    g = _gen(seed)
    prototypes = torch.randn(10, 1, 28, 28, generator=_gen(1001))
    y = torch.randint(0, 10, (n,), generator=g)
    return prototypes[y] + 2.0 * torch.randn(n, 1, 28, 28, generator=g), y


def placed_patches(n, seed):
    """32x32 RGB noise with one class's 8x8 patch pasted at a random place: only a conv net finds it anywhere."""
    g = _gen(seed)
    patches = torch.randn(10, 3, 8, 8, generator=_gen(1002))
    y = torch.randint(0, 10, (n,), generator=g)
    x = 0.5 * torch.randn(n, 3, 32, 32, generator=g)
    rows, cols = torch.randint(0, 25, (2, n), generator=g).tolist()
    for i in range(n):
        x[i, :, rows[i] : rows[i] + 8, cols[i] : cols[i] + 8] += patches[y[i]]
    return x, y


def repeated_sequences(n, seed, vocab=32, half=16):
    """Random tokens, then the same tokens again: the second half is predictable only by attending back."""
    first = torch.randint(0, vocab, (n, half), generator=_gen(seed))
    seq = torch.cat([first, first], 1)
    return seq[:, :-1], seq[:, 1:]


class Spec:
    """One reference model: how to build it, its data, optimizer, step budget and accuracy bar."""

    def __init__(self, name, build, data, optimizer, steps, batch, bar, chance, unit="samples", skip_first=0):
        self.name, self.build, self.data, self.optimizer = name, build, data, optimizer
        self.steps, self.batch, self.bar, self.chance, self.unit = steps, batch, bar, chance, unit
        self.skip_first = skip_first  # leading target positions that cannot be predicted (not scored)

    def loss(self, logits, y):
        """Cross-entropy over classes, or over every scored token position."""
        if logits.dim() == 3:
            logits, y = logits[:, self.skip_first :], y[:, self.skip_first :]
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1))
        return F.cross_entropy(logits.float(), y)

    def correct(self, logits, y):
        """Return (correct predictions, predictions scored)."""
        if logits.dim() == 3:
            logits, y = logits[:, self.skip_first :], y[:, self.skip_first :]
        return int((logits.argmax(-1) == y).sum()), y.numel()

    def per_step(self, x):
        """Samples (or tokens) one step processes."""
        return x.numel() if self.unit == "tokens" else x.shape[0]


def _sgd(lr, momentum=0.0):
    return lambda params: torch.optim.SGD(params, lr=lr, momentum=momentum)


def _adamw(lr):
    return lambda params: torch.optim.AdamW(params, lr=lr, weight_decay=0.01)


SPECS = {
    spec.name: spec
    for spec in (
        Spec("net", Net, linear_rule, _sgd(0.01, 0.9), steps=200, batch=32, bar=0.85, chance=0.5),
        # SimpleNet's 10 epochs over 640 samples: 10 x 20 steps of 32.
        Spec("simplenet", SimpleNet, noisy_prototypes, _sgd(0.01), steps=200, batch=32, bar=0.9, chance=0.1),
        Spec("cnn", SmallCNN, placed_patches, _sgd(0.05, 0.9), steps=150, batch=32, bar=0.6, chance=0.1),
        Spec(
            "transformer",
            TinyGPT,
            repeated_sequences,
            _adamw(3e-3),
            steps=120,
            batch=32,
            bar=0.5,
            chance=1 / 32,
            unit="tokens",
            skip_first=15,  # targets 0-14 are fresh random tokens; 15-30 repeat the first half
        ),
    )
}
