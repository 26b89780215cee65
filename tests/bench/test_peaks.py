"""The datasheet table and the verdicts against it."""

import pytest

from checks.bench import peaks


@pytest.mark.parametrize(
    "name, bf16, bandwidth",
    [
        ("NVIDIA H200", 989, 4800),
        ("NVIDIA GH200 480GB", 989, 4000),
        ("NVIDIA H100 80GB HBM3", 989, 3350),
        ("NVIDIA H100 PCIe", 756, 2000),
        ("NVIDIA A100-SXM4-80GB", 312, 2039),
        ("NVIDIA A100-SXM4-40GB", 312, 1555),
        ("NVIDIA L4", 121, 300),
        ("NVIDIA GeForce RTX 4090", 165.2, 1008),
        ("Tesla T4", None, 320),
    ],
)
def test_lookup_finds_the_specific_model_first(name, bf16, bandwidth):
    """Names as torch reports them map to the right row (GH200 is not an H200, H100 PCIe is not SXM)."""
    entry = peaks.lookup(name)
    assert entry["tflops"].get("bf16") == bf16 and entry["bandwidth_gbs"] == bandwidth and entry["source"]


def test_unknown_gpu_has_no_entry():
    """An unknown device is measured without a verdict, never guessed."""
    assert peaks.lookup("NVIDIA Quadro P620") is None
    assert peaks.verdict(123.0, None, "matmul") == (None, None)


def test_table_is_dense_and_consistent():
    """Every row has a source; tensor-core dtypes are at least the fp32 rate."""
    for _, tflops, bandwidth, source in peaks.GPUS:
        assert source and bandwidth > 0
        for dtype in ("tf32", "bf16", "fp16", "fp8"):
            assert tflops.get(dtype, tflops["fp32"]) >= tflops["fp32"]


def test_theoretical_bandwidths():
    """DRAM: clock x bus width x 2 (the H200's 3201 MHz x 6016 bit = 4.8 TB/s); PCIe gen 5 x16 = 63 GB/s."""
    assert peaks.memory_bandwidth_gbs(3201, 6016) == pytest.approx(4814.3, abs=0.1)
    assert peaks.memory_bandwidth_gbs(None, 6016) is None
    assert peaks.pcie_gbs(5, 16) == pytest.approx(63.0, abs=0.1)
    assert peaks.pcie_gbs(4, 8) == pytest.approx(15.75, abs=0.01)
    assert peaks.pcie_gbs(None, 16) is None


def test_verdict_threshold():
    """At or above the kind's fraction: OK; below: LOW; the fraction is returned either way."""
    assert peaks.verdict(600, 989, "matmul") == (peaks.OK, pytest.approx(0.607, abs=1e-3))
    assert peaks.verdict(500, 989, "matmul")[0] == peaks.LOW
    assert peaks.verdict(200, 989, "mfu")[0] == peaks.LOW and peaks.verdict(300, 989, "mfu")[0] == peaks.OK
