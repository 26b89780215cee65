"""What `checks bench` measures: matmul throughput per dtype, copy bandwidths, training throughput and MFU.

Imported only after torch imports. Every function returns plain dicts (figures, shapes, Stats as dicts).
"""

import torch
from torch.nn import functional as F  # noqa: N812

from checks import apis
from checks.timing import Timer  # noqa: F401 (callers pass one)
from checks.train.models import TinyGPT

MATMUL_DTYPES = ("fp32", "tf32", "fp16", "bf16", "fp8")
# The (m, n, k) shapes swept per dtype. Squares, plus the shapes at which the MAMF finder measured its best matmul
# on the GPUs its table lists (stas00/ml-engineering compute/accelerator/README.md: H100/H200 SXM bf16 794.5 TFLOP/s
# at 2048x2048x13312, A100 SXM at 1024x10240x5120, GH200 at 1024x15360x4096): a long K amortises the output tile's
# epilogue, and squares alone stay below that ceiling (its README: a 4096-wide sweep "should give around 80-90% of
# the maximum achievable result").
MAMF_BEST = ((2048, 2048, 13312), (1024, 10240, 5120), (1024, 15360, 4096))
SHAPES = {
    "cuda": tuple((n, n, n) for n in (2048, 4096, 6144, 8192, 12288, 16384)) + MAMF_BEST,
    "cpu": tuple((n, n, n) for n in (512, 1024, 2048)),
}
QUICK_SHAPES = {"cuda": ((4096, 4096, 4096), (8192, 8192, 8192), MAMF_BEST[0]), "cpu": ((1024, 1024, 1024),)}
# GPT-2 small (124M): 12 layers, 12 heads, width 768, context 1024, vocabulary padded to 50304.
GPT2 = {"vocab": 50304, "context": 1024, "dim": 768, "heads": 12, "layers": 12}


def fp8_problem(device):
    """Return why fp8 matmul cannot run here, or None."""
    if device != "cuda":
        return "fp8 matmul is a GPU feature"
    if not hasattr(torch, "float8_e4m3fn") or not hasattr(torch, "_scaled_mm"):
        return "this torch has no fp8 matmul (needs 2.1+, torch._scaled_mm)"
    if torch.cuda.get_device_capability() < (8, 9):
        return "fp8 needs sm_89 or newer (Ada, Hopper, Blackwell)"
    return None


def matmul_operands(dtype, m, n, k, device):
    """Return a callable computing C = A @ B.T for random normal operands of one dtype (fp8 via _scaled_mm)."""
    torch.backends.cuda.matmul.allow_tf32 = dtype == "tf32"
    if dtype == "fp8":
        a = torch.randn(m, k, device=device).to(torch.float8_e4m3fn)
        b = torch.randn(n, k, device=device).to(torch.float8_e4m3fn)
        return lambda: apis.scaled_mm(torch, a, b.t())
    real = {"fp32": torch.float32, "tf32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[dtype]
    a = torch.randn(m, k, device=device, dtype=real)
    b = torch.randn(n, k, device=device, dtype=real)
    c = torch.empty(m, n, device=device, dtype=real)
    return lambda: torch.mm(a, b.t(), out=c)


def matmul_sweep(timer, dtype, shapes, budget, progress):
    """Time each (m, n, k); return per-shape TFLOP/s and the notes of shapes that did not fit in memory."""
    rows, notes = [], []
    for i, (m, n, k) in enumerate(shapes):
        progress("matmul %s %dx%dx%d (%d/%d)" % (dtype, m, n, k, i + 1, len(shapes)))
        try:
            fn = matmul_operands(dtype, m, n, k, timer.device)
            timer.warm_up(fn, budget / 2)  # per shape: cuBLAS picks its kernel, clocks settle at this load
            stats = timer.measure(fn, timer.iterations_for(fn, budget))
        except RuntimeError as exc:
            if not apis.is_oom(exc):
                raise
            notes.append("%dx%dx%d did not fit in memory; smaller shapes measured" % (m, n, k))
            _free(timer.device)
            continue
        finally:
            torch.backends.cuda.matmul.allow_tf32 = False
        flops = 2.0 * m * n * k
        rate = stats.rate(flops / 1e12)
        rows.append({"shape": [m, n, k], "tflops": rate["median"], "tflops_best": rate["best"], **stats.to_dict()})
        _free(timer.device)
    return rows, notes


def _free(device):
    if device == "cuda":
        torch.cuda.empty_cache()


def copy_bandwidth(timer, kind, size, budget):
    """Time one copy kind (d2d counts read + write; h2d/d2h pinned or pageable); return GB/s and Stats."""
    device = timer.device
    src_dev, dst_dev = {"d2d": (device, device), "h2d": ("cpu", device), "d2h": (device, "cpu")}[kind[:3]]
    pinned = kind.endswith("pinned") and device == "cuda"
    src = torch.empty(size, dtype=torch.uint8, device=src_dev)
    dst = torch.empty(size, dtype=torch.uint8, device=dst_dev)
    if pinned:
        src, dst = (src.pin_memory() if src_dev == "cpu" else src), (dst.pin_memory() if dst_dev == "cpu" else dst)
    fn = lambda: dst.copy_(src, non_blocking=pinned)  # noqa: E731
    timer.warm_up(fn, 0.2)
    stats = timer.measure(fn, timer.iterations_for(fn, budget, low=5, high=50))
    moved = size * (2 if kind == "d2d" else 1)
    return {"gbs": stats.rate(moved / 1e9)["median"], "bytes": size, "counted_bytes": moved, **stats.to_dict()}


class WithLoss(torch.nn.Module):
    """A language model and its cross-entropy in one module, so torch.compile fuses the loss into the graph."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, y):
        logits = self.model(x)
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1))


def gpt2_flops_per_token(model, context):
    """Return training FLOPs per token, 6N + 12*L*d*T (PaLM appendix B; N without the position embedding)."""
    n = sum(p.numel() for p in model.parameters()) - model.pos.weight.numel()
    return 6 * n + 12 * len(model.blocks) * model.tok.weight.shape[1] * context


def _adamw(params):
    params = list(params)  # a generator would be spent by the first attempt
    try:
        return torch.optim.AdamW(params, lr=6e-4, weight_decay=0.1, fused=True)
    except (TypeError, RuntimeError):  # fused AdamW needs torch 2.0+ with CUDA parameters
        return torch.optim.AdamW(params, lr=6e-4, weight_decay=0.1)


def gpt2_throughput(timer, batch, compile_model, budget, config=GPT2):
    """Train GPT-2 small in bf16 autocast on random tokens; return tokens/s, ms/step, FLOPs/token, batch used."""
    device = timer.device
    torch.manual_seed(0)
    model = TinyGPT(config["vocab"], config["context"], config["dim"], config["heads"], config["layers"]).to(device)
    optimizer = _adamw(model.parameters())
    forward = torch.compile(WithLoss(model)) if compile_model else WithLoss(model)
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, config["vocab"], (batch, config["context"]), generator=g).to(device)
    y = torch.randint(0, config["vocab"], (batch, config["context"]), generator=g).to(device)

    def step():
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            loss = forward(x, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    timer.warm_up(step, 1.0)  # includes compilation
    stats = timer.measure(step, timer.iterations_for(step, budget, low=5, high=30))
    tokens = batch * config["context"]
    return {
        "tokens_per_s": tokens / stats.median,
        "ms_per_step": stats.median * 1e3,
        "flops_per_token": gpt2_flops_per_token(model, config["context"]),
        "batch": batch,
        "context": config["context"],
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
        **stats.to_dict(),
    }


def with_smaller_batch(run, batch, floor=1):
    """Call run(batch), halving the batch on out-of-memory; return (result, notes)."""
    notes = []
    while True:
        try:
            return run(batch), notes
        except RuntimeError as exc:
            if not apis.is_oom(exc) or batch <= floor:
                raise
            notes.append("batch %d did not fit in memory; retried with %d" % (batch, batch // 2))
            batch //= 2
            _free("cuda" if torch.cuda.is_available() else "cpu")


def reference_training(timer, variant, budget):
    """Time training steps of one checks.trainer variant; return ms/step and samples (or tokens) per second."""
    from checks.train.trainer import Trainer

    trainer = Trainer(variant)
    trainer.step()  # first step: compilation, cuDNN autotuning
    timer.warm_up(trainer.step, 0.5)
    stats = timer.measure(trainer.step, timer.iterations_for(trainer.step, budget, low=5, high=100))
    per_step = trainer.spec.per_step(trainer.batch(0)[0])
    return {
        "ms_per_step": stats.median * 1e3,
        "per_s": per_step / stats.median,
        "unit": trainer.spec.unit,
        **stats.to_dict(),
    }
