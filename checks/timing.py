"""Benchmark timing done carefully: time-based warm-up, one timing per iteration, cache flush, robust statistics.

The method follows the MAMF finder and triton's do_bench: warm up for a time, not a count; time each
iteration on its own (CUDA events on a GPU); before each, outside the timed region, overwrite a buffer larger
than the last-level cache so no operand is served from it; report the median with min and max.
"""

import statistics
import time

FLUSH_BYTES = 256 * 2**20  # at least the largest L2 / last-level cache of current GPUs (MI300X: 256 MiB)


def synchronize(torch, device):
    """Wait for the work queued on `device` ("cuda", "mps"; the CPU has no queue), so wall-clock timings are real."""
    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


class Stats:
    """Per-iteration times of one measurement, in seconds: median, min, max, count."""

    def __init__(self, seconds):
        if not seconds:
            raise ValueError("no timings")
        self.samples = sorted(seconds)
        self.median = statistics.median(self.samples)
        self.min, self.max = self.samples[0], self.samples[-1]

    def rate(self, work):
        """Return work per second at the median, the best (min) and the worst (max) time."""
        return {"median": work / self.median, "best": work / self.min, "worst": work / self.max}

    def to_dict(self):
        """Return the JSON form: median/min/max in milliseconds and the iteration count."""
        return {"median_ms": self.median * 1e3, "min_ms": self.min * 1e3, "max_ms": self.max * 1e3, "n": len(self)}

    def __len__(self):
        return len(self.samples)


class Timer:
    """Time a callable on one device: CUDA events per iteration on CUDA, wall clock plus synchronize elsewhere."""

    def __init__(self, torch, device, flush=True, clock=time.perf_counter):
        self.torch, self.device, self.clock = torch, device, clock
        self.flush_buffer = None
        if flush and device == "cuda":
            self.flush_buffer = torch.empty(FLUSH_BYTES, dtype=torch.uint8, device=device)

    def synchronize(self):
        """Wait for the device."""
        synchronize(self.torch, self.device)

    def warm_up(self, fn, seconds):
        """Run fn repeatedly for at least `seconds` (clocks and caches settle; a cold GPU scores too high)."""
        end = self.clock() + seconds
        calls = 0
        while calls < 3 or self.clock() < end:
            fn()
            calls += 1
            if calls % 8 == 0:
                self.synchronize()
        self.synchronize()
        return calls

    def measure(self, fn, iterations):
        """Time `iterations` calls of fn, each on its own, the cache flushed before each; return Stats."""
        if self.device == "cuda":
            return self._measure_events(fn, iterations)
        seconds = []
        for _ in range(iterations):
            self.synchronize()
            start = self.clock()
            fn()
            self.synchronize()
            seconds.append(self.clock() - start)
        return Stats(seconds)

    def _measure_events(self, fn, iterations):
        cuda = self.torch.cuda
        pairs = [(cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)) for _ in range(iterations)]
        for start, end in pairs:
            if self.flush_buffer is not None:
                self.flush_buffer.zero_()
            start.record()
            fn()
            end.record()
        cuda.synchronize()
        return Stats([start.elapsed_time(end) / 1e3 for start, end in pairs])

    def iterations_for(self, fn, budget_seconds, low=5, high=200):
        """Return how many timed iterations fit in a time budget, from one synchronised call."""
        self.synchronize()
        start = self.clock()
        fn()
        self.synchronize()
        once = max(self.clock() - start, 1e-6)
        return int(min(high, max(low, budget_seconds / once)))
