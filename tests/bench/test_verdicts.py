"""bench's verdicts and the likely causes of a LOW figure, from synthetic facts."""

from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch", reason="bench's checks need torch")

from checks.bench import verdicts as bc  # noqa: E402


class Sampler:
    def __init__(self, summary, samples=(1,)):
        self._summary, self.samples = summary, list(samples)

    def summary(self):
        return self._summary

    def stop(self):
        return self._summary


def ctx(**overrides):
    fields = {"sampler": None, "state": {}, "device": "cpu", "strict": False, "quick": True}
    fields.update(overrides)
    return SimpleNamespace(**fields)


def test_verdicts_map_to_statuses():
    """OK is PASS; LOW is WARN (FAIL with --strict) with causes; no peak is PASS, measured only."""
    ok = bc.judged(ctx(), "matmul-bf16", 700.0, "TFLOP/s", 989, "matmul", "700 TFLOP/s", {})
    assert ok.status == "PASS" and "71% of 989 TFLOP/s (OK)" in ok.summary and ok.data["verdict"] == "OK"
    low = bc.judged(ctx(), "matmul-bf16", 300.0, "TFLOP/s", 989, "matmul", "300 TFLOP/s", {})
    assert low.status == "WARN" and low.expected == ">= 60% of the datasheet" and low.actual == "30%"
    assert low.hint.startswith("likely: ")
    assert bc.judged(ctx(strict=True), "m", 300.0, "TFLOP/s", 989, "matmul", "t", {}).status == "FAIL"
    unknown = bc.judged(ctx(), "matmul-bf16", 300.0, "TFLOP/s", None, "matmul", "300 TFLOP/s", {})
    assert unknown.status == "PASS" and "measured only" in unknown.summary and unknown.data["verdict"] is None


def test_likely_causes_come_from_what_was_seen():
    """Throttling, a lowered power limit, low clocks and a downtrained PCIe link are named."""
    health = {
        "throttle": {"hardware thermal slowdown": 0.4},
        "sm_mhz_median": 1200,
        "sm_max_mhz": 1980,
        "pcie_gen_seen": 3,
        "pcie_width_seen": 4,
    }
    state = {"power_limit_w": 400, "power_default_w": 700, "pcie_gen_max": 5, "pcie_width_max": 16}
    causes = bc.likely_causes(ctx(sampler=Sampler(health), state=state), "pcie")
    assert causes == [
        "hardware thermal slowdown in 40% of samples",
        "power limit 400 W below the default 700 W",
        "SM clock median 1200 of 1980 MHz",
        "PCIe link at gen 3 x4, below its gen 5 x16",
    ]
    assert "TF32" in bc.likely_causes(ctx(), "matmul", "tf32")[-1]
    assert "another process" in bc.likely_causes(ctx(), "matmul")[0]


def test_health_warns_on_thermal_slowdown_not_on_power_cap():
    """A power cap at full load is normal; a thermal slowdown in over 5 % of samples is a warning."""
    base = {
        "samples": 40,
        "sm_mhz_median": 1900,
        "sm_mhz_min": 1700,
        "sm_max_mhz": 1980,
        "temp_c_max": 70,
        "power_w_max": 690.0,
    }
    capped = bc.health(ctx(sampler=Sampler(dict(base, throttle={"software power cap": 0.6}))))
    assert capped.status == "PASS" and "power cap at full load is normal" in capped.summary
    hot = bc.health(ctx(sampler=Sampler(dict(base, throttle={"software thermal slowdown": 0.3}))))
    assert hot.status == "WARN" and hot.actual == "software thermal slowdown"
    assert bc.health(ctx()).status == "SKIP"


def test_cpu_skips_what_needs_a_gpu():
    """On CPU: fp16/tf32/fp8 matmul, host-device copies, GPT-2 and the cross-check SKIP with reasons."""
    c = ctx(swept={}, reported={})
    assert bc.matmul(c, None, "fp16").summary == "fp16 matmul is measured on GPUs only"
    assert bc.copies(c, None, "h2d-pinned").summary == "host-device copies need a GPU"
    assert bc.gpt2(c, None, True).status == "SKIP"
    assert bc.crosscheck(c, None, "matmul", print).status == "SKIP"


def test_do_bench_speaks_both_triton_signatures():
    """The cross-check reads do_bench's median under triton 2.0 (percentiles) and later (return_mode)."""
    from checks.bench.crosscheck import _do_bench

    seen = []

    def new(fn, warmup, rep, return_mode):
        seen.append((warmup, rep, return_mode))
        return 2.0  # ms

    def old(fn, warmup, rep, percentiles):
        seen.append((warmup, rep, percentiles))
        return [4.0]

    assert _do_bench(new, None, 10.0, quick=False) == pytest.approx(5000.0)
    assert _do_bench(old, None, 10.0, quick=True) == pytest.approx(2500.0)
    assert seen == [(100, 500, "median"), (25, 100, (0.5,))]


@pytest.mark.parametrize(
    "same_work, reported, ok",
    [
        (1.038, 1.01, True),
        (1.038, 0.959, False),  # last round's H200: the sweep's 734 against do_bench's best over its shapes
        (1.07, 1.0, False),
        (1.0, None, True),
    ],
)
def test_the_reported_figure_must_agree_with_do_bench_within_2_percent(same_work, reported, ok):
    """bench's timer against do_bench on the same work (5 %), the reported figure against do_bench's best over the
    same shapes in the same run (2 %)."""
    from checks.bench.crosscheck import agree

    assert agree(same_work, reported) is ok


def test_the_sweep_includes_the_shapes_mamf_found_best():
    """Squares alone stay below the ceiling; the MAMF finder's best shapes (long K) are swept too, quick included."""
    from checks.bench import measure

    assert (2048, 2048, 13312) in measure.SHAPES["cuda"] and (2048, 2048, 13312) in measure.QUICK_SHAPES["cuda"]
