"""The helpers every reader of NVIDIA's tools shares, and the one clocks event reasons table (checks/nvidia/parse.py),
against values as nvidia-smi and NVML give them (the captures in tests/fakes.py name their sources)."""

import ast
from pathlib import Path

import fakes
import pytest

from checks.nvidia import gpuinfo, parse, smi

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text, value",
    [
        ("7", 7),
        (" 1980", 1980),
        ("16x", 16),
        ("100.89 W", 100.89),
        ("350.12", 350.12),
        ("-8 C", -8),
        ("0x0000000000000004", 4),
        ("N/A", None),
        ("[N/A]", None),
        ("[Not Supported]", None),
        ("", None),
        (None, None),
    ],
)
def test_numbers_with_units_hex_and_no_answer(text, value):
    assert parse.number(text) == value


def test_a_decimal_point_gives_a_float_and_integer_truncates():
    assert isinstance(parse.number("700.00 W"), float) and isinstance(parse.number("81559"), int)
    assert parse.integer("81559") == 81559 and parse.integer("12.7") == 12 and parse.integer("[N/A]") is None


def test_flags_texts_watts_and_cuda_versions():
    assert [parse.flag(t) for t in ("Active", "Not Active", "Enabled", "No", "N/A", None)] == [
        True,
        False,
        True,
        False,
        None,
        None,
    ]
    assert parse.text(b"NVIDIA H100 80GB HBM3") == parse.text("NVIDIA H100 80GB HBM3") == "NVIDIA H100 80GB HBM3"
    assert parse.watts(100890) == 100.89 and parse.watts(None) is None
    assert parse.cuda_version(12040) == "12.4" and parse.cuda_version(11080) == "11.8"
    assert parse.cuda_version(0) is None and parse.cuda_version(None) is None


def test_the_table_is_one_bit_each_in_nvml_order():
    bits = [r.bit for r in parse.REASONS]
    assert bits == [1 << n for n in range(9)]  # nvml.h: 0x1 (GpuIdle) .. 0x100 (DisplayClockSetting)
    assert len({r.smi_label for r in parse.REASONS}) == len({r.words for r in parse.REASONS}) == 9


def test_names_of_a_mask():
    mask = 0x1 | 0x4 | 0x10 | 0x40
    assert parse.reason_names(mask) == ["idle", "software power cap", "sync boost", "hardware thermal slowdown"]
    assert parse.reason_names(mask, slowing_only=True) == gpuinfo.decode_reasons(mask)
    assert parse.reason_names(None) == []


@pytest.mark.parametrize(
    "capture, mask",
    [(fakes.SMI_Q_H100_565, 0x1), (fakes.SMI_Q_V100_470, 0x1)],
)
def test_the_smi_labels_give_nvmls_bits(capture, mask):
    """`Clocks Event Reasons` (530+) and `Clocks Throttle Reasons` (470) read through the same table."""
    gpu = next(v for k, v in smi.tree(capture).items() if smi.GPU_LABEL.match(k))
    block = gpu.get("Clocks Event Reasons") or gpu.get("Clocks Throttle Reasons")
    assert parse.reasons_mask(block) == mask
    every = {label: "Active" for label in (r.smi_label for r in parse.REASONS)}
    assert parse.reasons_mask(every) == 0x1FF and parse.reasons_mask(None) is None


def defined(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} | {
        t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
    }


def test_one_set_of_helpers_and_one_table():
    """No other reader of NVIDIA's tools, nor health, keeps its own number/text helpers or reasons table."""
    own = {"_number", "number", "_text", "text", "flag", "_watts", "watts", "REASON_BITS", "REASONS"}
    folders = [ROOT / "checks" / "nvidia", ROOT / "checks" / "health"]
    found = {
        "%s: %s" % (p.relative_to(ROOT), sorted(defined(p) & own))
        for folder in folders
        for p in folder.glob("*.py")
        if p.name != "parse.py" and defined(p) & own
    }
    assert not found
    labels = [p for folder in folders for p in folder.glob("*.py") if "HW Power Brake Slowdown" in p.read_text()]
    assert [p.name for p in labels] == ["parse.py"]
