"""Datasheet peaks of common GPUs, and the verdict of a measured figure against one.

Dense figures (no sparsity), in TFLOP/s for matmul dtypes and GB/s for memory bandwidth. NVIDIA's
datasheets print Hopper/Ampere/Ada tensor figures with sparsity; they are halved here. GeForce cards are
listed at FP32 accumulate (what PyTorch uses), half their FP16-accumulate rate.
"""

import re

OK, LOW = "OK", "LOW"
# A figure at or above this fraction of its datasheet peak is OK. Careful public measurements reach
# 78-87 % for bf16 matmul (MAMF finder: A100 87 %, H100 80 %, B200 78 %) and 80-95 % for large copies.
# Model FLOPs utilisation under 25 % suggests no compile, no flash attention, fp32 or a small batch.
OK_FRACTION = {"matmul": 0.6, "bandwidth": 0.7, "pcie": 0.6, "mfu": 0.25}

# (name pattern, {dtype: TFLOP/s}, memory GB/s, source). First match wins: specific names before general.
GPUS = (
    (r"B200", {"fp32": 80, "tf32": 1125, "bf16": 2250, "fp16": 2250, "fp8": 4500}, 8000, "NVIDIA DGX/HGX B200"),
    (r"GH200", {"fp32": 67, "tf32": 494.5, "bf16": 989, "fp16": 989, "fp8": 1979}, 4000, "GH200 datasheet (HBM3)"),
    (r"\bH200", {"fp32": 67, "tf32": 494.5, "bf16": 989, "fp16": 989, "fp8": 1979}, 4800, "nvidia.com/h200"),
    (r"H100.*PCIe", {"fp32": 51, "tf32": 378, "bf16": 756, "fp16": 756, "fp8": 1513}, 2000, "H100 datasheet"),
    (r"H100", {"fp32": 67, "tf32": 494.5, "bf16": 989, "fp16": 989, "fp8": 1979}, 3350, "H100 datasheet"),
    (r"A100.*80GB", {"fp32": 19.5, "tf32": 156, "bf16": 312, "fp16": 312}, 2039, "A100 datasheet"),
    (r"A100", {"fp32": 19.5, "tf32": 156, "bf16": 312, "fp16": 312}, 1555, "A100 datasheet"),
    (r"L40S", {"fp32": 91.6, "tf32": 183, "bf16": 362, "fp16": 362, "fp8": 733}, 864, "L40S datasheet"),
    (r"\bL4\b", {"fp32": 30.3, "tf32": 60, "bf16": 121, "fp16": 121, "fp8": 242.5}, 300, "L4 datasheet"),
    (r"\bA10\b", {"fp32": 31.2, "tf32": 62.5, "bf16": 125, "fp16": 125}, 600, "A10 datasheet"),
    (r"\bT4\b", {"fp32": 8.1, "fp16": 65}, 320, "T4 datasheet"),
    (r"V100S", {"fp32": 16.4, "fp16": 130}, 1134, "V100 datasheet"),
    (r"V100", {"fp32": 15.7, "fp16": 125}, 900, "V100 datasheet (SXM2)"),
    (r"RTX 5090", {"fp32": 104.8, "tf32": 104.8, "bf16": 209.5, "fp16": 209.5, "fp8": 419}, 1792, "NVIDIA RTX 5090"),
    (r"RTX 4090", {"fp32": 82.6, "tf32": 82.6, "bf16": 165.2, "fp16": 165.2, "fp8": 330.3}, 1008, "Ada whitepaper"),
    (r"RTX 3090", {"fp32": 35.6, "tf32": 35.6, "bf16": 71, "fp16": 71}, 936, "Ampere GA102 whitepaper"),
)

# Apple unified-memory bandwidth (GB/s); Apple publishes no matrix peak, so matmul gets no verdict there.
APPLE_BANDWIDTH = (
    (r"M1 Ultra|M2 Ultra", 800),
    (r"M3 Ultra", 819),
    (r"M4 Max", 546),
    (r"M1 Max|M2 Max", 400),
    (r"M3 Max", 400),
    (r"M4 Pro", 273),
    (r"M1 Pro|M2 Pro", 200),
    (r"M3 Pro", 150),
    (r"M4", 120),
    (r"M2|M3", 100),
    (r"M1", 68),
)

# PCIe payload bandwidth per direction and lane, GB/s, after line encoding (8b/10b to gen 2, 128b/130b after).
PCIE_LANE_GBS = {1: 0.25, 2: 0.5, 3: 0.985, 4: 1.969, 5: 3.938, 6: 7.563}


def lookup(name):
    """Return {"tflops", "bandwidth_gbs", "source"} for a device name, or None for an unknown device."""
    for pattern, tflops, bandwidth, source in GPUS:
        if re.search(pattern, name, re.I):
            return {"tflops": dict(tflops), "bandwidth_gbs": bandwidth, "source": source}
    if re.search(r"Apple|M\d", name):
        for pattern, bandwidth in APPLE_BANDWIDTH:
            if re.search(pattern, name):
                return {"tflops": {}, "bandwidth_gbs": bandwidth, "source": "Apple newsroom"}
    return None


def memory_bandwidth_gbs(memory_clock_mhz, bus_width_bits):
    """Return the theoretical DRAM bandwidth (double data rate) from the memory clock and bus width, or None."""
    if not memory_clock_mhz or not bus_width_bits:
        return None
    return memory_clock_mhz * 1e6 * bus_width_bits / 8 * 2 / 1e9


def pcie_gbs(generation, width):
    """Return the theoretical PCIe bandwidth per direction for a link, or None."""
    if not generation or not width or generation not in PCIE_LANE_GBS:
        return None
    return PCIE_LANE_GBS[generation] * width


def verdict(measured, peak, kind):
    """Return (OK | LOW | None, fraction of peak or None): None when there is no peak to judge against."""
    if not peak or measured is None:
        return None, None
    fraction = measured / peak
    return (OK if fraction >= OK_FRACTION[kind] else LOW), fraction
