"""The device memory test's core on CPU tensors (it takes any torch device): patterns written and read back, a
corrupted word found with its offset, the time bound, and the verdict line."""

import pytest

from checks.health import memtest

torch = pytest.importorskip("torch", reason="the memory test runs on torch tensors")
GPU = {"index": 2, "bus_id": "00000000:3B:00.0"}


def corrupt_at(pattern_index, chunk, word):
    def after_write(p, chunks):
        if p == pattern_index:
            chunks[chunk][word] ^= 1 << 7  # one flipped bit

    return after_write


def test_intact_memory_passes_every_pattern():
    done = memtest.run(torch, "cpu", 10, budget=3 * 2**20, chunk_bytes=2**20)
    assert done["errors"] == [] and done["complete"] and done["bytes"] == 3 * 2**20
    assert [p["pattern"] for p in done["patterns"]] == [p for p, _ in memtest.PATTERNS]
    assert done["bytes_moved"] == 2 * 5 * 3 * 2**20 and done["mb_s"] > 0
    result = memtest.check_memtest(GPU, {"memtest": done})
    assert result.status == "PASS" and "5 of 5 patterns" in result.summary and result.data["gib"] == 0.0


@pytest.mark.parametrize("pattern", range(len(memtest.PATTERNS)))
def test_a_corrupted_word_is_found_in_every_pattern(pattern):
    """A bit flipped after writing, in the second 1 MiB chunk at word 1000: FAIL at offset 1 MiB + 4000 bytes."""
    done = memtest.run(torch, "cpu", 10, budget=2 * 2**20, chunk_bytes=2**20, after_write=corrupt_at(pattern, 1, 1000))
    assert done["errors"] == [{"pattern": memtest.PATTERNS[pattern][0], "offset": 2**20 + 4000, "words": 1}]
    result = memtest.check_memtest(GPU, {"memtest": done})
    assert result.status == "FAIL" and result.name == "gpu2-memtest"
    assert "1 words read back wrong" in result.summary and "about 1.0 MiB" in result.summary
    assert "pull GPU 2" in result.hint and result.data["errors"][0]["offset"] == 2**20 + 4000


def test_the_time_bound_stops_the_writes_and_says_so():
    """A clock past the deadline after two chunks: only they are written and read back."""
    ticks = iter(range(1000))
    done = memtest.run(torch, "cpu", 2.5, budget=4 * 2**10, chunk_bytes=2**10, clock=lambda: next(ticks))
    assert not done["complete"] and done["patterns"][0]["bytes"] < done["bytes"]
    assert "stopped at the time limit" in memtest.check_memtest(GPU, {"memtest": done}).summary


def test_a_cuda_error_while_testing_fails():
    result = memtest.check_memtest(GPU, {"error": "RuntimeError: CUDA error: uncorrectable ECC error encountered"})
    assert result.status == "FAIL" and "uncorrectable ECC error" in result.summary


def test_no_memory_to_test_skips():
    assert memtest.check_memtest(GPU, {"memtest": memtest.run(torch, "cpu", 1, budget=0)}).status == "SKIP"
    assert memtest.check_memtest(GPU, {"error": "OutOfMemoryError: CUDA out of memory."}).status == "SKIP"


def test_running_out_of_memory_stops_the_allocation():
    real = torch.empty
    calls = []

    def empty(*args, **kwargs):
        calls.append(args)
        if len(calls) > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 256.00 MiB")
        return real(*args, **kwargs)

    fake = type("T", (), {"empty": staticmethod(empty), "int32": torch.int32})
    assert len(memtest.allocate(fake, "cpu", 10 * 2**10, 2**10)) == 2


def test_a_failure_in_the_matmuls_is_not_reported_again_as_a_memory_fault():
    """The memory test runs after the matmuls (load._one): when they raised, it did not run."""
    failed = {"error": "RuntimeError: CUDA error: an illegal memory access was encountered", "error_in": "compute"}
    result = memtest.check_memtest(GPU, failed)
    assert result.status == "SKIP" and result.summary == "not run: the matmuls failed first (see gpu2-compute)"
