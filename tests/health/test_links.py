"""PCIe and NVLink through the fake NVML: the link under load, DCGM's replay rate per generation, NVLink links
absent (NOT_SUPPORTED / INVALID_ARGUMENT), down, and error counters rising during the run."""

import fakes
import pytest

from checks.health import links
from checks.nvidia import nvml


def gpus(*profiles):
    return nvml.gpus(fakes.pynvml_health(list(profiles)), range(len(profiles)))


def under_load(gen, width, seconds=60.0, after=None):
    return {"samples": [{"pcie_gen": gen, "pcie_width": width}] * 3, "seconds": seconds, "after": after}


def test_dcgm_replay_limits_per_generation():
    """ceil(rate per lane x lanes): gen 3 x16 -> 8, gen 4 x16 -> 16, gen 5 x16 -> 31 per minute; gen 7 capped."""
    assert [links.replay_limit(g, 16) for g in (3, 4, 5, 6, 7)] == [8, 16, 31, 62, 62]


def test_a_healthy_link_under_load_passes():
    (gpu,) = gpus(fakes.HEALTH_H100)
    result = links.check_pcie(gpu, under_load(5, 16, after=gpu))
    assert result.status == "PASS" and "under load: gen 5 x16, max gen 5 x16" in result.summary


@pytest.mark.parametrize("gen, width", [(4, 16), (5, 8)])
def test_a_link_below_its_maximum_under_load_warns(gen, width):
    """Gen or width under the maximum while loaded: a degraded link (reseat, riser, BIOS)."""
    (gpu,) = gpus(fakes.HEALTH_H100)
    result = links.check_pcie(gpu, under_load(gen, width))
    assert result.status == "WARN" and "gen %d x%d" % (gen, width) in result.summary
    assert "reseat" in result.hint


def test_a_downshifted_link_at_rest_is_not_judged():
    """nvidia-smi(1): the link "may be reduced when the GPU is not in use" (the A16 capture: gen 1 x4 at P8)."""
    (gpu,) = gpus(dict(fakes.HEALTH_H100, pcie=(1, 4, 4, 16, 0)))
    result = links.check_pcie(gpu, {"reason": "--no-load"})
    assert result.status == "PASS" and "not judged" in result.summary


def test_replays_faster_than_dcgm_rate_warn():
    """40 replays in one minute on gen 5 x16 (limit 31/min) -> WARN with DCGM's next step."""
    before, after = gpus(fakes.HEALTH_H100, dict(fakes.HEALTH_H100, pcie=(5, 5, 16, 16, 47)))
    result = links.check_pcie(before, under_load(5, 16, 60.0, after))
    assert result.status == "WARN" and "above DCGM's 31 per minute" in result.summary
    assert "Reconnect" in result.hint or "reconnect" in result.hint
    ok = links.check_pcie(before, under_load(5, 16, 60.0, dict(after, pcie=dict(after["pcie"], replays=30))))
    assert ok.status == "PASS" and "23 per minute" in ok.summary


def test_a_gpu_without_nvlink_skips():
    """The V100 PCIe card: the link count field and every link answer NOT_SUPPORTED."""
    (gpu,) = gpus(fakes.HEALTH_V100)
    assert gpu["nvlink"] is None
    assert links.check_nvlink(gpu, {"reason": "--no-load"}).status == "SKIP"


def test_links_beyond_the_count_are_absent_not_down():
    """Without the count field, links past the last answer INVALID_ARGUMENT: absent, as DCGM treats them."""
    module = fakes.pynvml_health([fakes.HEALTH_A100_PENDING])
    module.nvmlDeviceGetFieldValues = lambda handle, ids: [type("F", (), {"nvmlReturn": 3})()]
    gpu = nvml.gpus(module, [0])[0]
    assert gpu["nvlink"]["count"] is None and sorted(gpu["nvlink"]["links"]) == list(range(12))


def test_an_nvlink_link_down_fails():
    """One of 18 links down (DCGM MonitorNVLink: DCGM_FR_NVLINK_DOWN)."""
    up = (1,) * 5 + (0,) + (1,) * 12
    (gpu,) = gpus(dict(fakes.HEALTH_H100, nvlink={"count": 18, "up": up, "errors": {}}))
    result = links.check_nvlink(gpu, {"reason": "--no-load"})
    assert result.status == "FAIL" and "link 5 down, 17 of 18 up" in result.summary


def test_every_link_down_warns_with_the_likely_causes():
    """All links down: a PCIe card without its bridge or MIG look the same, so WARN, not FAIL."""
    (gpu,) = gpus(dict(fakes.HEALTH_H100, nvlink={"count": 4, "up": (0,) * 4, "errors": {}}))
    result = links.check_nvlink(gpu, {"reason": "--no-load"})
    assert result.status == "WARN" and "MIG" in result.hint


@pytest.mark.parametrize(
    "errors, status",
    [
        ({(3, 0): 1}, "FAIL"),  # a replay error: DCGM_LIMIT_MAX_NVLINK_ERROR 1 -> critical
        ({(3, 1): 2}, "FAIL"),  # a recovery
        ({(3, 2): 50}, "WARN"),  # CRC flit errors under 100/s
        ({(3, 3): 10000}, "FAIL"),  # CRC data errors at 1000/s
        ({}, "PASS"),
    ],
)
def test_nvlink_counters_rising_during_the_run(errors, status):
    """Counters read before and after a 10 s run, judged as DCGM's health watch does."""
    before, after = gpus(
        fakes.HEALTH_H100, dict(fakes.HEALTH_H100, nvlink={"count": 18, "up": (1,) * 18, "errors": errors})
    )
    result = links.check_nvlink(before, {"samples": [], "seconds": 10.0, "after": after})
    assert result.status == status, result.summary
