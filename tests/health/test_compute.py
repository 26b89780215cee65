"""Compute consistency on the CPU: the repeated matmul, a wrong repeat injected, the fingerprint, and the
comparison across GPUs of one model."""

import pytest

from checks.health import compute

torch = pytest.importorskip("torch", reason="the matmul runs on torch tensors")
GPUS = [{"index": i, "bus_id": "00000000:%02X:00.0" % (0x18 + i), "name": "NVIDIA H100 80GB HBM3"} for i in range(4)]


def test_repeats_are_bit_identical_and_fingerprinted():
    done = compute.repeat(torch, "cpu", 0.2, compute.inputs(torch, 32), ("float32", "bfloat16"))
    assert done["repeats"] > 1 and all(d["mismatches"] == 0 for d in done["dtypes"].values())
    again = compute.repeat(torch, "cpu", 0.0, compute.inputs(torch, 32), ("float32", "bfloat16"))
    assert {k: d["checksum"] for k, d in again["dtypes"].items()} == {
        k: d["checksum"] for k, d in done["dtypes"].items()
    }
    result = compute.check_compute(GPUS[0], {"compute": done})
    assert result.status == "PASS" and "bit-identical" in result.summary


def test_a_repeat_that_differs_fails():
    """The fifth product has one element off by one ulp: FAIL naming the dtype and how many repeats differed."""
    calls = []

    def flaky(a, b):
        out = torch.mm(a, b)
        calls.append(1)
        if len(calls) == 5:
            out.view(-1)[7] = torch.nextafter(out.view(-1)[7], torch.tensor(float("inf")))
        return out

    done = compute.repeat(torch, "cpu", 0.05, compute.inputs(torch, 16), ("float32",), mm=flaky)
    assert done["dtypes"]["float32"]["mismatches"] == 1
    result = compute.check_compute(GPUS[1], {"compute": done})
    assert result.status == "FAIL" and "1 float32 differed" in result.summary and "pull GPU 1" in result.hint


def test_fingerprint_sees_one_bit():
    a = torch.randn(64, 64)
    b = a.clone()
    b.view(torch.int32)[3, 3] ^= 1
    assert compute.fingerprint(torch, a) != compute.fingerprint(torch, b)
    assert compute.fingerprint(torch, a) == compute.fingerprint(torch, a.clone())


def test_out_of_memory_is_not_a_gpu_fault():
    """Another process holds the memory: SKIP, not FAIL."""
    error = {"error": "OutOfMemoryError: CUDA out of memory. Tried to allocate 256.00 MiB"}
    assert compute.check_compute(GPUS[0], error).status == "SKIP"


def outcome(checksum, sms=132):
    return {"compute": {"dtypes": {"float32": {"checksum": checksum, "mismatches": 0}}}, "sms": sms}


def test_the_gpu_that_differs_from_its_peers_is_named():
    outcomes = {0: outcome("a"), 1: outcome("a"), 2: outcome("b"), 3: outcome("a")}
    result = compute.check_consistency(GPUS, outcomes)
    assert result.status == "FAIL" and result.data["by_gpu"] == {
        "2": "its matmul results differ from the other NVIDIA H100 80GB HBM3 GPUs"
    }
    assert compute.check_consistency(GPUS, {i: outcome("a") for i in range(4)}).status == "PASS"


def test_different_models_or_sm_counts_are_not_compared():
    """cuBLAS promises identical bits only for the same architecture and SM count."""
    outcomes = {0: outcome("a", 132), 1: outcome("b", 114)}
    assert compute.check_consistency(GPUS[:2], outcomes).status == "SKIP"
    assert compute.check_consistency(GPUS, {}, "--no-load").status == "SKIP"


def test_a_failure_in_the_memory_test_leaves_the_finished_matmuls_judged_on_their_results():
    done = compute.repeat(torch, "cpu", 0.0, compute.inputs(torch, 32), ("float32",))
    raised = {"compute": done, "error": "RuntimeError: CUDA error: uncorrectable ECC error encountered"}
    raised["error_in"] = "memtest"
    assert compute.check_compute(GPUS[0], raised).status == "PASS"
    raised["error_in"] = "compute"
    assert compute.check_compute(GPUS[0], raised).status == "FAIL"
