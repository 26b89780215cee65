"""Timing statistics and the timer's loop, on CPU with a fake clock."""

import pytest

from checks.timing import Stats, Timer

torch = pytest.importorskip("torch", reason="the timer takes torch")


class FakeClock:
    """A clock that advances by `step` seconds on every call."""

    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_stats_median_min_max_and_rates():
    """Median, min and max of the samples, and work per second at each."""
    s = Stats([0.3, 0.1, 0.2, 0.4])
    assert (s.median, s.min, s.max, len(s)) == (pytest.approx(0.25), 0.1, 0.4, 4)
    assert s.rate(1.0) == {"median": pytest.approx(4.0), "best": pytest.approx(10.0), "worst": pytest.approx(2.5)}
    assert s.to_dict()["median_ms"] == pytest.approx(250.0)
    with pytest.raises(ValueError):
        Stats([])


def test_warm_up_is_by_time_not_by_count():
    """warm_up keeps calling until the time has passed (and at least 3 times)."""
    calls = []
    timer = Timer(torch, "cpu", clock=FakeClock(0.1))
    assert timer.warm_up(lambda: calls.append(1), 1.0) == len(calls) >= 9


def test_measure_times_each_iteration():
    """One sample per iteration, each the clock's difference around one call."""
    timer = Timer(torch, "cpu", clock=FakeClock(0.5))
    stats = timer.measure(lambda: None, 7)
    assert len(stats) == 7 and stats.median == pytest.approx(0.5)


def test_iterations_fit_the_budget_within_bounds():
    """Iterations = budget / one call, clamped to [low, high]."""
    assert Timer(torch, "cpu", clock=FakeClock(0.01)).iterations_for(lambda: None, 1.0) == 100
    assert Timer(torch, "cpu", clock=FakeClock(1.0)).iterations_for(lambda: None, 1.0) == 5
    assert Timer(torch, "cpu", clock=FakeClock(1e-5)).iterations_for(lambda: None, 1.0) == 200
