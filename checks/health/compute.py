"""Compute consistency: the same matmul (fixed seed) repeated for the length of the load must give bit-identical
results on a GPU, and GPUs of one model must agree with each other.

Why bit-identical is the right expectation: cuBLAS documents "Results reproducibility": all cuBLAS routines of one
toolkit version give the same bit-wise results at every run on GPUs of the same architecture and the same number
of SMs, as long as a single CUDA stream is active (cuBLAS documentation, section 2.1.4). Deterministic settings
here: inputs made on the CPU from one seed (identical on every GPU), one stream per GPU (each GPU's own thread),
CUBLAS_WORKSPACE_CONFIG=:4096:8 set before CUDA starts (the same section: deterministic even if streams share a
handle), TF32 as torch's default (off for matmul). GPUs are compared only within a group of the same name and SM
count; a different group is not a disagreement. A repeat that differs, or a GPU that differs from the others of its
group, is a FAIL: silent data corruption in the SMs or tensor cores.

`repeat` takes any torch device: the tests run it on the CPU and inject a wrong result.
"""

import time

from checks.health.lines import line
from checks.report import FAIL, PASS, SKIP, Result

SEED = 1234
INT_OF_SIZE = {1: "uint8", 2: "int16", 4: "int32", 8: "int64"}


def fingerprint(torch, tensor):
    """Return a 16-hex-digit fingerprint of a tensor's bits (a position-weighted sum mod 2**64): equal bits give
    equal fingerprints on any device, because integer sums do not depend on the order they are added in."""
    bits = tensor.contiguous().view(getattr(torch, INT_OF_SIZE[tensor.element_size()])).flatten().to(torch.int64)
    weights = torch.arange(1, bits.numel() + 1, dtype=torch.int64, device=bits.device)
    return "%016x" % (int((bits * weights).sum().item()) & (2**64 - 1))


def _sync(torch, device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)


def inputs(torch, size):
    """The two matrices every GPU multiplies: fp32 on the CPU from one seed, made once for all GPUs."""
    generator = torch.Generator().manual_seed(SEED)
    return torch.randn(size, size, generator=generator), torch.randn(size, size, generator=generator)


def repeat(torch, device, seconds, matrices, dtypes, clock=time.monotonic, on_warm=None, mm=None):
    """Multiply the same two matrices (`inputs`), cast to each dtype, again and again for `seconds`; return {size,
    repeats, dtypes: {name: {mismatches, checksum}}}. `on_warm` runs once the first results exist (the samplers start
    there); `mm` replaces torch.mm (the tests inject a fault)."""
    mm = mm or torch.mm
    work = []
    for name in dtypes:
        a, b = (m.to(device=device, dtype=getattr(torch, name)) for m in matrices)
        reference = mm(a, b)
        work.append((name, a, b, reference, torch.zeros((), dtype=torch.int64, device=device)))
    _sync(torch, device)
    if on_warm is not None:
        on_warm()
    start, repeats = clock(), 0
    while True:
        for _, a, b, reference, wrong in work:
            wrong += (mm(a, b) != reference).any()  # counted on the device: no wait per repeat
        repeats += 1
        if repeats % 8 == 0 or clock() - start >= seconds:
            _sync(torch, device)
            if clock() - start >= seconds:
                break
    return {
        "size": matrices[0].shape[0],
        "repeats": repeats,
        "seconds": round(clock() - start, 3),
        "dtypes": {
            name: {"mismatches": int(wrong.item()), "checksum": fingerprint(torch, reference)}
            for name, _, _, reference, wrong in work
        },
    }


def check_compute(gpu, outcome, skipped=None):
    """The `gpuN-compute` line: every repeat of every dtype bit-identical to the first."""
    if skipped:
        return skipped
    if outcome.get("error_in", "compute") != "compute":  # the memory test raised, after the matmuls were done
        outcome = {k: v for k, v in outcome.items() if k != "error"}
    if "out of memory" in (outcome.get("error") or "").lower():
        return line(gpu, "compute", SKIP, "not run: not enough free memory (%s)" % outcome["error"], reason="")
    if outcome.get("error"):
        return line(
            gpu,
            "compute",
            FAIL,
            "the GPU failed under load: %s" % outcome["error"],
            "the matmuls run",
            outcome["error"],
            "look for Xid errors (`sudo dmesg | grep -i xid`); reset the GPU (`sudo nvidia-smi -r -i %d`) or reboot, "
            "then rerun" % gpu["index"],
            reason="compute: %s" % outcome["error"],
        )
    done = outcome["compute"]
    wrong = {name: d["mismatches"] for name, d in done["dtypes"].items() if d["mismatches"]}
    sums = {name: d["checksum"] for name, d in done["dtypes"].items()}
    what = "%dx%d matmul (%s) repeated %d times in %.1f s" % (
        done["size"],
        done["size"],
        ", ".join(done["dtypes"]),
        done["repeats"],
        done["seconds"],
    )
    if wrong:
        return line(
            gpu,
            "compute",
            FAIL,
            "%s: %s differed from the first result" % (what, ", ".join("%d %s" % (n, k) for k, n in wrong.items())),
            "bit-identical repeats (cuBLAS: same GPU, same inputs, one stream)",
            "%d repeats differed" % sum(wrong.values()),
            "pull GPU %d: it computes wrong results; run NVIDIA's field diagnostic (`dcgmi diag -r 3`)" % gpu["index"],
            reason="matmul results differ between repeats",
            checksums=sums,
            repeats=done["repeats"],
        )
    return line(gpu, "compute", PASS, "%s: every result bit-identical" % what, checksums=sums, repeats=done["repeats"])


def check_consistency(gpus, outcomes, reason=None):
    """The `consistency` line: within each group of GPUs of the same name and SM count, the same checksums. A GPU
    that differs from the majority of its group is named; a tie (two GPUs that differ) names both."""
    if reason:
        return Result(
            name="consistency",
            status=SKIP,
            summary="results across GPUs not compared: %s" % reason,
            data={"reason": reason},
        )
    groups = {}
    for gpu in gpus:
        done = (outcomes.get(gpu["index"]) or {}).get("compute")
        if done:
            key = (gpu.get("name"), outcomes[gpu["index"]].get("sms"))
            groups.setdefault(key, []).append((gpu, tuple(sorted(d["checksum"] for d in done["dtypes"].values()))))
    compared = {k: v for k, v in groups.items() if len(v) > 1}
    if not compared:
        why = "only one GPU ran the matmul" if groups else "no GPU ran the matmul"
        return Result(
            name="consistency", status=SKIP, summary="results across GPUs not compared: %s" % why, data={"reason": why}
        )
    odd, lines = {}, []
    for (model, sms), members in compared.items():
        counts = {}
        for _, sums in members:
            counts[sums] = counts.get(sums, 0) + 1
        majority = max(counts.values())
        tie = list(counts.values()).count(majority) > 1
        for gpu, sums in members:
            if counts[sums] < majority or (tie and len(counts) > 1):
                odd[str(gpu["index"])] = "its matmul results differ from the other %s GPUs" % model
        lines.append("%d x %s%s" % (len(members), model, " (%s SMs)" % sms if sms else ""))
    if odd:
        return Result(
            name="consistency",
            status=FAIL,
            summary="the same matmul gave different bits on GPU %s than on the other GPUs of the same model (%s)"
            % (", ".join(sorted(odd, key=int)), "; ".join(lines)),
            expected="identical results on GPUs of one model",
            actual="GPU %s differ" % ", ".join(sorted(odd, key=int)),
            hint="pull the GPU(s) named: they compute wrong results; confirm with NVIDIA's field diagnostic",
            data={"reason": "results differ across GPUs", "by_gpu": odd},
        )
    return Result(
        name="consistency",
        status=PASS,
        summary="identical matmul results across %s" % "; ".join(lines),
        data={"reason": ""},
    )
