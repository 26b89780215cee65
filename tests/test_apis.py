"""Moved PyTorch APIs: each helper works on this torch (the test matrix runs 2.0.1 and the newest)."""

import pytest

torch = pytest.importorskip("torch", reason="the API helpers need torch")

from checks import apis  # noqa: E402


def test_checkpoint_bytes_round_trip_weights_only():
    """A model and optimizer state dict survive save_bytes/load_bytes, loaded with weights_only."""
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    state = apis.load_bytes(torch, apis.save_bytes(torch, {"model": model.state_dict(), "opt": opt.state_dict()}))
    assert torch.equal(state["model"]["weight"], model.weight.detach())
    assert state["opt"]["param_groups"][0]["lr"] == opt.param_groups[0]["lr"]


def test_load_bytes_refuses_arbitrary_objects():
    """weights_only: a pickled callable is refused, not executed."""
    with pytest.raises(Exception, match="(?i)weights.only|unsupported"):
        apis.load_bytes(torch, apis.save_bytes(torch, {"f": print}))


def test_disable_tf32_sets_the_flags_torch_reads():
    """After disable_tf32, CUDA matmuls and cuDNN convolutions are IEEE fp32 (flags readable on a CPU build)."""
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    try:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        apis.disable_tf32(torch)
        assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (False, False)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def test_sdpa_backends_names_three_backends():
    """The backend-forcing helper offers flash, efficient and math on every torch."""
    assert set(apis.sdpa_backends(torch)) == {"flash", "efficient", "math"}


@pytest.mark.gpu
def test_grad_scaler_steps_on_cuda():
    """The CUDA gradient scaler scales, steps and updates on this torch."""
    model = torch.nn.Linear(4, 1).cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = apis.grad_scaler(torch, "cuda")
    with torch.autocast("cuda", dtype=torch.float16):
        loss = model(torch.randn(8, 4, device="cuda")).float().mean()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() > 0
