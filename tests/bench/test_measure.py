"""bench's measurements on CPU: FLOP accounting, the out-of-memory fallbacks, copy bandwidth, the chart."""

import json

import pytest

torch = pytest.importorskip("torch", reason="bench's measurements need torch")

from checks.bench import measure as bm  # noqa: E402
from checks.timing import Timer  # noqa: E402
from checks.train.models import TinyGPT  # noqa: E402

TINY = dict(bm.GPT2, vocab=128, context=32, dim=32, heads=2, layers=2)


def test_gpt2_flops_per_token_is_6n_plus_attention():
    """6 x parameters (position embedding excluded, tied head once) + 12 x layers x width x context."""
    model = TinyGPT(128, 32, 32, 2, 2)
    n = sum(p.numel() for p in model.parameters()) - 32 * 32
    assert bm.gpt2_flops_per_token(model, 32) == 6 * n + 12 * 2 * 32 * 32


def test_gpt2_small_really_is_124m():
    """The configuration bench trains is GPT-2 small: about 124M parameters."""
    model = TinyGPT(**{k: bm.GPT2[k] for k in ("vocab", "context", "dim", "heads", "layers")})
    assert 123e6 < sum(p.numel() for p in model.parameters()) < 125e6


def test_out_of_memory_halves_the_batch_and_says_so():
    """A batch that does not fit is halved until one does; each retry is a note."""

    def run(batch):
        if batch > 8:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return batch

    assert bm.with_smaller_batch(run, 32) == (
        8,
        ["batch 32 did not fit in memory; retried with 16", "batch 16 did not fit in memory; retried with 8"],
    )
    with pytest.raises(RuntimeError, match="illegal memory access"):
        bm.with_smaller_batch(lambda b: (_ for _ in ()).throw(RuntimeError("illegal memory access")), 32)


def test_matmul_sweep_skips_shapes_that_do_not_fit(monkeypatch):
    """An out-of-memory shape is noted and the sweep goes on with the others."""
    real = bm.matmul_operands

    def operands(dtype, m, n, k, device):
        if m > 64:
            raise RuntimeError("CUDA out of memory")
        return real(dtype, m, n, k, device)

    monkeypatch.setattr(bm, "matmul_operands", operands)
    rows, notes = bm.matmul_sweep(Timer(torch, "cpu"), "fp32", [(64, 64, 64), (128, 128, 128)], 0.05, lambda _: None)
    assert [r["shape"] for r in rows] == [[64, 64, 64]] and rows[0]["tflops"] > 0
    assert notes == ["128x128x128 did not fit in memory; smaller shapes measured"]


def test_cpu_copy_bandwidth_counts_read_and_write():
    """A device-to-device (here host) copy counts its bytes twice."""
    m = bm.copy_bandwidth(Timer(torch, "cpu"), "d2d", 2**20, 0.05)
    assert m["counted_bytes"] == 2 * 2**20 and m["gbs"] > 0


def test_gpt2_step_runs_on_cpu_with_a_tiny_configuration():
    """The GPT-2 training step (loss inside the module) runs and reports tokens/s."""
    m = bm.gpt2_throughput(Timer(torch, "cpu"), 2, False, 0.05, TINY)
    assert m["tokens_per_s"] > 0 and m["batch"] == 2 and m["context"] == 32


def test_chart_is_written_next_to_the_json(tmp_path):
    """With matplotlib: <report>.png beside <report>.json, from the report's figures."""
    pytest.importorskip("matplotlib", reason="the chart needs matplotlib")
    from checks.bench.chart import write_chart

    doc = {
        "header": {"device": "test"},
        "results": [
            {"name": "matmul-bf16", "status": "PASS", "data": {"value": 700.0, "unit": "TFLOP/s", "peak": 989}},
            {"name": "copy-d2d", "status": "PASS", "data": {"value": 4000.0, "unit": "GB/s", "peak": 4800}},
            {
                "name": "gpt2-bf16-compile",
                "status": "PASS",
                "data": {"value": 380.0, "unit": "TFLOP/s", "ms_per_step": 74.0},
            },
        ],
    }
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(doc))
    assert write_chart(doc, str(path)) == "chart written to %s" % (tmp_path / "bench.png")
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
