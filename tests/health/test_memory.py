"""ECC, row remapping and retired pages, read through the fake NVML (tests/fakes.py, nvidia-ml-py's API) and judged
as NVIDIA documents or DCGM does (checks/health/memory.py names each source)."""

import fakes
import pytest

from checks.health import memory
from checks.nvidia import nvml


def read(**changes):
    """One GPU's facts through NVML: the healthy H100 of the 565 capture with `changes` to its profile."""
    return nvml.gpus(fakes.pynvml_health([dict(fakes.HEALTH_H100, **changes)]), [0])[0]


def test_a_healthy_h100_passes_ecc_and_row_remapping():
    """ECC on, no error; row remapper present, nothing pending or failed; retired pages N/A (Hopper)."""
    gpu = read()
    assert gpu["retired_pages"] is None and gpu["remapped_rows"]["pending"] is False
    ecc, remap = memory.check_ecc(gpu), memory.check_repair(gpu)
    assert (ecc.name, ecc.status) == ("gpu0-ecc", "PASS")
    assert (remap.name, remap.status) == ("gpu0-remap", "PASS")
    assert "remapped rows: 0 correctable, 0 uncorrectable" in remap.summary


def test_a_pending_row_remap_warns_that_the_gpu_needs_a_reset():
    """The 510 capture's A100: isPending=1 -> WARN (nvml.h: a reset is required; the GPU stays usable)."""
    gpu = nvml.gpus(fakes.pynvml_health([fakes.HEALTH_A100_PENDING]), [0])[0]
    result = memory.check_repair(gpu)
    assert result.status == "WARN" and "reset" in result.summary
    assert "nvidia-smi -r -i 0" in result.hint
    assert result.data["reason"] == "row remapping pending (needs a GPU reset)"
    assert memory.check_ecc(gpu).status == "PASS"  # 177 corrected errors: corrected by the hardware


def test_a_row_remap_failure_fails_as_an_rma_criterion():
    """failureOccurred=1 -> FAIL (DCGM DCGM_FR_ROW_REMAP_FAILURE; NVIDIA's RMA policy)."""
    result = memory.check_repair(read(remapped_rows=(0, 8, 0, 1)))
    assert result.status == "FAIL" and result.data["reason"] == "row remapping failed"
    assert "RMA" in result.hint and "field diagnostic" in result.hint


def test_512_uncorrectable_remaps_warn():
    """DCGM_LIMIT_MAX_ROW_REMAP_UNCORRECTABLE 512 -> WARN, run a field diagnostic."""
    result = memory.check_repair(read(remapped_rows=(0, 512, 0, 0)))
    assert result.status == "WARN" and "field diagnostic" in result.hint


def test_volatile_uncorrectable_ecc_fails():
    """Any volatile DBE -> FAIL, "Drain the GPU and reset it or reboot the node." (DCGM)."""
    result = memory.check_ecc(read(ecc={"volatile": (0, 2), "aggregate": (0, 2)}))
    assert result.status == "FAIL" and "2 uncorrectable" in result.summary
    assert "reset" in result.hint and "reboot" in result.hint


@pytest.mark.parametrize("volatile", [(0, 0), (5, 0)])
def test_corrected_errors_pass_with_their_counts(volatile):
    """Corrected errors are fixed in hardware (nvidia-smi(1)); DCGM's SBE limit is a placeholder: PASS, counted."""
    result = memory.check_ecc(read(ecc={"volatile": volatile, "aggregate": (12, 0)}))
    assert result.status == "PASS" and "lifetime 12 corrected" in result.summary
    assert result.data["aggregate_corrected"] == 12


def test_lifetime_uncorrectable_errors_alone_do_not_fail_ecc():
    """Aggregate DBEs with none since the driver loaded: the repair line judges them, ECC passes."""
    assert memory.check_ecc(read(ecc={"volatile": (0, 0), "aggregate": (0, 3)})).status == "PASS"


def test_ecc_disabled_or_about_to_be_warns():
    """Our verdict (no NVIDIA threshold): ECC off means nothing is corrected or counted."""
    assert memory.check_ecc(read(ecc_mode=(0, 0))).status == "WARN"
    result = memory.check_ecc(read(ecc_mode=(1, 0)))
    assert result.status == "WARN" and "next reboot" in result.summary


def test_a_gpu_without_ecc_skips():
    """NVML_ERROR_NOT_SUPPORTED for the ECC mode (a consumer GPU): SKIP."""
    assert memory.check_ecc(read(ecc_mode=None)).status == "SKIP"


@pytest.mark.parametrize(
    "pages, status",
    [
        ((1, 0, 0), "PASS"),  # the V100 capture
        ((60, 3, 0), "FAIL"),  # 63 retired pages: DCGM_LIMIT_MAX_RETIRED_PAGES
        ((2, 16, 0), "WARN"),  # > 15 DBE pages: DCGM's soft limit (its weekly rate cannot be seen here)
        ((1, 1, 1), "WARN"),  # pending retirement
    ],
)
def test_retired_pages_on_a_v100(pages, status):
    """Before Ampere the line is gpuN-pages, judged by DCGM's limits."""
    gpu = nvml.gpus(fakes.pynvml_health([dict(fakes.HEALTH_V100, retired_pages=pages)]), [0])[0]
    result = memory.check_repair(gpu)
    assert (result.name, result.status) == ("gpu0-pages", status), result.summary
    if pages == (1, 1, 1):
        assert "Drain the GPU" in result.hint or "drain the GPU" in result.hint


def test_neither_remapping_nor_retirement_skips():
    """A GPU that reports neither (consumer, or MIG with active instances): SKIP."""
    result = memory.check_repair(read(remapped_rows=None, retired_pages=None))
    assert (result.name, result.status) == ("gpu0-remap", "SKIP")


def test_a_gpu_that_fell_off_the_bus_fails_naming_the_state():
    """NVML_ERROR_GPU_IS_LOST (15) on a read: FAIL with checks/nvidia/driver.py's state and fix."""
    gpu = read(remapped_rows=fakes.NVMLFail(15))
    result = memory.check_repair(gpu)
    assert result.status == "FAIL" and "GPU is lost" in result.summary
    assert "gpu-lost" in result.data["reason"] and "reboot" in result.hint
