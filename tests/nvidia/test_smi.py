"""The `nvidia-smi -q` fallback: the real captures of the research notes (tests/fakes.py names their sources),
old (470) and new (510, 555, 565, 580) layouts, parsed into the facts the verdicts judge."""

import os

import fakes
import pytest

from checks.health import clocks, memory
from checks.nvidia import parse, smi


def test_the_565_h100_capture():
    (gpu,) = smi.gpus(fakes.SMI_Q_H100_565)
    assert (gpu["name"], gpu["bus_id"]) == ("NVIDIA H100 80GB HBM3", "00000000:18:00.0")
    assert gpu["ecc"]["current"] is True and gpu["ecc"]["sram_threshold_exceeded"] is False
    assert (gpu["ecc"]["volatile_uncorrected"], gpu["ecc"]["aggregate_corrected"]) == (0, 0)
    assert gpu["retired_pages"] is None  # `Single Bit ECC : N/A` on Hopper
    assert gpu["remapped_rows"] == {"correctable": 0, "uncorrectable": 0, "pending": False, "failure": False}
    assert gpu["pcie"] == {"gen": 5, "gen_max": 5, "width": 16, "width_max": 16, "replays": 7}
    assert gpu["reasons"] == 0x1  # Clocks Event Reasons: Idle Active
    assert gpu["power"] == {"limit_w": 700, "default_w": 700, "enforced_w": 700, "draw_w": 100.89}
    assert gpu["temp_c"] == 30 and gpu["nvlink"] is None
    assert memory.check_ecc(gpu).status == memory.check_repair(gpu).status == "PASS"


def test_the_555_a100_capture_reads_the_link_and_power():
    (gpu,) = smi.gpus(fakes.SMI_Q_A100_555)
    assert gpu["pcie"]["gen_max"] == 4 and gpu["pcie"]["replays"] == 0  # `Max : 4` beside `Host Max : 5`
    assert gpu["power"]["default_w"] == 500 and gpu["reasons"] == 0x1
    assert gpu["ecc"] is None  # the quoted capture leaves the ECC block out


def test_the_510_a100_with_a_pending_remap():
    """`SRAM Uncorrectable` (one label before 555), 177 corrected DRAM errors, Pending: Yes -> WARN."""
    (gpu,) = smi.gpus(fakes.SMI_Q_A100_510_PENDING)
    assert gpu["ecc"]["volatile_corrected"] == 177 and gpu["ecc"]["volatile_uncorrected"] == 0
    assert gpu["remapped_rows"] == {"correctable": 1, "uncorrectable": 0, "pending": True, "failure": False}
    assert memory.check_repair(gpu).status == "WARN"


def test_the_470_v100_capture_in_the_old_layout():
    """`Ecc Mode`, Single/Double Bit totals, `Clocks Throttle Reasons`, `Power Readings` with `Power Limit` and
    `Enforced Power Limit`, `Remapped Rows : N/A` on one line."""
    (gpu,) = smi.gpus(fakes.SMI_Q_V100_470)
    assert gpu["name"] == "Tesla V100-PCIE-32GB" and gpu["bus_id"] == "00000000:1C:00.0"
    assert gpu["ecc"]["current"] is True
    assert (gpu["ecc"]["volatile_corrected"], gpu["ecc"]["aggregate_corrected"]) == (0, 3)
    assert gpu["retired_pages"] == {"sbe": 1, "dbe": 0, "pending": False}
    assert gpu["remapped_rows"] is None
    assert gpu["pcie"] == {"gen": 3, "gen_max": 3, "width": 16, "width_max": 16, "replays": 0}
    assert gpu["reasons"] == 0x1
    assert gpu["power"] == {"limit_w": 250, "default_w": 250, "enforced_w": 250, "draw_w": 25.13}
    pages = memory.check_repair(gpu)
    assert (pages.name, pages.status) == ("gpu0-pages", "PASS")
    assert clocks.check_power(gpu, {"reason": "--no-load"}).status == "PASS"


def test_the_580_clocks_event_reasons_block():
    """580 adds `Clocks Event Reasons Counters` after the reasons: they are not reasons."""
    assert smi.reasons(smi.tree(fakes.SMI_Q_580_PERFORMANCE)) == 0


@pytest.mark.parametrize(
    "text, value", [("7", 7), ("16x", 16), ("100.89 W", 100.89), ("-8 C", -8), ("N/A", None), ("[N/A]", None)]
)
def test_numbers(text, value):
    assert parse.number(text) == value


def test_the_tree_keeps_sections_apart():
    root = smi.tree(fakes.SMI_Q_H100_565)
    gpu = root["GPU 00000000:18:00.0"]
    assert gpu["Clocks Event Reasons"]["HW Thermal Slowdown"] == "Not Active"  # nested under HW Slowdown
    assert gpu["ECC Errors"]["Aggregate"]["SRAM Threshold Exceeded"] == "No"
    assert root["Driver Version"] == "565.57.01"


@pytest.mark.skipif(os.name != "posix", reason="the fake nvidia-smi is an executable script")
def test_the_live_reader_runs_nvidia_smi_q_for_one_gpu(tmp_path):
    """During the load the fallback samples `nvidia-smi -q -i N` (the fake prints that GPU's block)."""
    fakes.nvidia_smi_q(tmp_path, fakes.SMI_Q_H100_565)
    reader = smi.Reader(str(tmp_path / "nvidia-smi"), 0)
    assert reader.source == "nvidia-smi"
    assert reader.read() == {
        "reasons": 0x1,
        "sm_mhz": None,
        "pcie_gen": 5,
        "pcie_width": 16,
        "power_w": 100.89,
        "temp_c": 30,
    }
    assert smi.Reader(str(tmp_path / "nvidia-smi"), 3).read() == {}  # no such GPU
