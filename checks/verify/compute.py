"""Verify checks that run real work: kernels, cuDNN conv, AMP, SDPA, distributed, numpy, threads, one SGD step."""

import math

from checks import apis, compat
from checks.report import FAIL, PASS, SKIP, Result


def wrong_result_fix(device):
    """The fix for a wrong numerical result: the hardware on a GPU; on a CPU a report (reinstalling the same build
    replaces the same files, so it cannot change a result)."""
    if device == "cuda":
        return (
            "check the GPU: `nvidia-smi -q -d ECC`, then `python -m checks health`; move to another GPU if it repeats"
        )
    return "report it with `--json` (the torch build and CPU ISA are in it); reinstalling the same build will not help"


def _gen(torch, seed=0):
    return torch.Generator().manual_seed(seed)


def _max_err(a, b):
    return float((a.detach().float().cpu() - b.detach().float().cpu()).abs().max())


def _per_device(ctx, name, body):
    """Run body(device) on every usable device; one FAIL line names the first device that failed."""
    if ctx.torch is None:
        return Result(name=name, status=SKIP, summary="torch did not import")
    notes = []
    for device in ctx.devices:
        outcome = body(device)
        if isinstance(outcome, Result):
            return outcome
        notes.append("%s %s" % (device, outcome))
    return Result(name=name, status=PASS, summary="; ".join(notes))


def check_kernels(ctx):
    """Matmul and SVD on every device agree with float64 on the CPU."""
    torch = ctx.torch

    def body(device):
        a = torch.randn(64, 48, generator=_gen(torch), dtype=torch.float64)
        b = torch.randn(48, 32, generator=_gen(torch, 1), dtype=torch.float64)
        reference = a @ b
        got = a.float().to(device) @ b.float().to(device)
        err = _max_err(got, reference)
        u, s, vh = torch.linalg.svd(a.float().to(device), full_matrices=False)
        svd_err = _max_err(u @ torch.diag(s) @ vh, a)
        if not (err < 1e-3 and svd_err < 1e-3):
            return Result(
                name="kernels",
                status=FAIL,
                summary="%s results differ from float64 CPU" % device,
                expected="max error < 1e-3",
                actual="matmul %.2g, svd %.2g" % (err, svd_err),
                hint=wrong_result_fix(device),
            )
        return "ok (err %.1e)" % max(err, svd_err)

    return _per_device(ctx, "kernels", body)


def check_conv(ctx):
    """Conv2d forward and backward (cuDNN on CUDA, oneDNN on CPU) match a float64 CPU reference."""
    torch = ctx.torch

    def body(device):
        conv = torch.nn.Conv2d(3, 8, 3, padding=1, stride=2).double()
        x = torch.randn(2, 3, 16, 16, generator=_gen(torch), dtype=torch.float64, requires_grad=True)
        reference = conv(x)
        reference.sum().backward()
        ref_grad = x.grad.clone()
        conv_d = conv.float().to(device)
        x_d = x.detach().float().to(device).requires_grad_()
        out = conv_d(x_d)
        out.sum().backward()
        err = max(_max_err(out, reference), _max_err(x_d.grad, ref_grad))
        if err > 1e-3:
            return Result(
                name="conv",
                status=FAIL,
                summary="%s conv2d differs from the reference" % device,
                expected="< 1e-3",
                actual="%.2g" % err,
                hint=wrong_result_fix(device),
            )
        backend = "cuDNN" if device == "cuda" and torch.backends.cudnn.enabled else "native"
        return "ok (%s, err %.1e)" % (backend, err)

    return _per_device(ctx, "conv", body)


def check_amp(ctx):
    """Autocast runs in bf16 on CPU and fp16/bf16 on CUDA, close to fp32, with a GradScaler step on CUDA."""
    torch = ctx.torch

    def body(device):
        if device == "mps":
            if compat.minor_key(torch.__version__) < compat.MPS_AUTOCAST_SINCE:
                return "skipped (autocast on MPS needs torch %d.%d+)" % compat.MPS_AUTOCAST_SINCE
            return "skipped (verify's autocast check runs on CPU and CUDA)"
        layer = torch.nn.Linear(64, 32).to(device)
        x = torch.randn(16, 64, generator=_gen(torch)).to(device)
        exact = layer(x)
        dtypes = [torch.bfloat16] if device == "cpu" else [torch.float16]
        if device == "cuda" and torch.cuda.is_bf16_supported():
            dtypes.append(torch.bfloat16)
        for dtype in dtypes:
            with torch.autocast(device_type=device, dtype=dtype):
                out = layer(x)
            err = _max_err(out, exact)
            if out.dtype != dtype or err > 0.1:
                return Result(
                    name="amp",
                    status=FAIL,
                    summary="%s autocast(%s) wrong" % (device, dtype),
                    expected="%s, err < 0.1" % dtype,
                    actual="%s, err %.2g" % (out.dtype, err),
                    hint=wrong_result_fix(device),
                )
        if device == "cuda":
            scaler = apis.grad_scaler(torch, "cuda")
            opt = torch.optim.SGD(layer.parameters(), lr=0.1)
            with torch.autocast(device_type="cuda", dtype=torch.float16):
                loss = layer(x).float().pow(2).mean()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        return "ok (%s)" % ", ".join(str(d).replace("torch.", "") for d in dtypes)

    return _per_device(ctx, "amp", body)


def check_sdpa(ctx):
    """scaled_dot_product_attention matches explicit attention; on CUDA each fused backend is tried."""
    torch = ctx.torch
    sdpa = torch.nn.functional.scaled_dot_product_attention if torch is not None else None

    def body(device):
        q, k, v = (torch.randn(2, 4, 32, 64, generator=_gen(torch, i)) for i in range(3))
        mask = torch.ones(32, 32, dtype=torch.bool).tril()
        reference = (q @ k.transpose(-2, -1) / math.sqrt(64)).masked_fill(~mask, float("-inf")).softmax(-1) @ v
        if device != "cuda":
            err = _max_err(sdpa(q.to(device), k.to(device), v.to(device), is_causal=True), reference)
            if err > 1e-4:
                return Result(
                    name="sdpa",
                    status=FAIL,
                    summary="%s SDPA differs from explicit attention" % device,
                    expected="< 1e-4",
                    actual="%.2g" % err,
                    hint=wrong_result_fix(device),
                )
            return "ok (err %.1e)" % err
        working = []
        for name, forced in apis.sdpa_backends(torch).items():
            try:
                with forced():
                    out = sdpa(*(t.half().cuda() for t in (q, k, v)), is_causal=True)
                if _max_err(out, reference) < 1e-2:
                    working.append(name)
            except RuntimeError:
                continue
        if "math" not in working:
            return Result(
                name="sdpa",
                status=FAIL,
                summary="CUDA SDPA math backend failed",
                expected="math works",
                actual=", ".join(working) or "none",
                hint=wrong_result_fix(device),
            )
        return "backends %s" % "+".join(working)

    return _per_device(ctx, "sdpa", body)


def check_first_step(ctx):
    """The classic first program: a small nn.Module, cross-entropy, SGD with momentum, one step."""
    torch = ctx.torch
    nn = torch.nn if torch is not None else None

    def body(device):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 2)).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(8, 10, generator=_gen(torch)).to(device)
        y = torch.randint(0, 2, (8,), generator=_gen(torch)).to(device)
        before = [p.detach().clone() for p in model.parameters()]
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        grads_finite = all(bool(torch.isfinite(p.grad).all()) for p in model.parameters())
        opt.step()
        moved = any(not torch.equal(b, p.detach()) for b, p in zip(before, model.parameters()))
        if not (math.isfinite(loss.item()) and grads_finite and moved):
            return Result(
                name="first-step",
                status=FAIL,
                summary="%s training step is broken" % device,
                expected="finite loss and gradients, parameters updated",
                actual="loss %s, grads finite %s, updated %s" % (loss.item(), grads_finite, moved),
                hint=wrong_result_fix(device),
            )
        return "ok (loss %.3f)" % loss.item()

    return _per_device(ctx, "first-step", body)
