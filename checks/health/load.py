"""The short load: on every GPU at once (so that the node's power supply and cooling carry the full load), the
repeated matmul of checks/health/compute.py, then the memory test of checks/health/memtest.py, each GPU in its own
thread with its own stream, while checks/nvidia/gpuinfo.py's HealthSampler reads the GPU's live state (clocks event
reasons, SM clock, PCIe link, power, temperature) every 0.25 s through NVML (about 1 s through nvidia-smi).

Sampling starts once the first matmul results exist: CUDA and cuBLAS start-up are not part of the load.
"""

import threading
import time

from checks import errors
from checks.health import compute, memtest
from checks.nvidia import gpuinfo
from checks.report import PASS, SKIP, Result

# (seconds of matmul load, seconds the memory test may take, matmul size) per run length.
SETTINGS = {"quick": (3.0, 5.0, 4096), "full": (10.0, 30.0, 8192)}


def cuda_dtypes(torch, device):
    """fp32 (CUDA cores; TF32 as torch's default) and fp16 (tensor cores, Volta and later) on a CUDA device."""
    major = torch.cuda.get_device_capability(device)[0]
    return ("float32", "float16") if major >= 7 else ("float32",)


def _one(torch, target, settings, reader, out, dtypes, budget, chunk_bytes, matrices):
    seconds, memtest_seconds, _ = settings
    index, device = target
    result = out[index] = {"samples": [], "device": device}
    sampler = gpuinfo.HealthSampler(reader) if reader is not None else None
    phase = "compute"
    try:
        if str(device).startswith("cuda"):
            torch.cuda.set_device(device)
            result["sms"] = torch.cuda.get_device_properties(device).multi_processor_count
        kinds = dtypes or cuda_dtypes(torch, device)
        result["compute"] = compute.repeat(
            torch, device, seconds, matrices, kinds, on_warm=sampler.start if sampler else None
        )
        kwargs, phase = ({"chunk_bytes": chunk_bytes} if chunk_bytes else {}), "memtest"
        result["memtest"] = memtest.run(torch, device, memtest_seconds, budget, **kwargs)
    except Exception as exc:  # a CUDA error here is the GPU failing under load: the verdicts say so
        result["error"], result["error_in"] = errors.describe(exc), phase
    finally:
        if sampler is not None:
            sampler.stop()
            result["samples"] = list(sampler.samples)


def run(torch, targets, settings, readers, progress=None, dtypes=None, budget=None, chunk_bytes=None):
    """Load every target (gpu index, torch device) in parallel; return {index: {compute, memtest, samples, sms,
    error, error_in}} (error_in: "compute" or "memtest", the phase that raised; the memory test runs only after
    the matmuls). `readers` maps an index to its live-state reader (or None); `dtypes`, `budget` and `chunk_bytes`
    override the CUDA defaults (the tests run this on the CPU)."""
    out, threads = {}, []
    if progress:
        progress(
            "loading %d GPU%s: matmul for %g s, then a memory test of up to %g s"
            % (len(targets), "s" if len(targets) != 1 else "", settings[0], settings[1])
        )
    start = time.monotonic()
    matrices = compute.inputs(torch, settings[2])
    for target in targets:
        thread = threading.Thread(
            target=_one,
            args=(torch, target, settings, readers.get(target[0]), out, dtypes, budget, chunk_bytes, matrices),
            name="health-gpu%d" % target[0],
            daemon=True,
        )
        threads.append(thread)
        thread.start()
    for thread in threads:
        thread.join()
    for result in out.values():
        result["wall_s"] = round(time.monotonic() - start, 3)
    return out


def check_load(node):
    """The `load` line: run the load (checks/health/facts.py Node.loaded) and say what ran, or why not."""
    if node.load_reason:
        return Result(name="load", status=SKIP, summary="not run: %s" % node.load_reason, data={"reason": ""})
    outcomes, _ = node.loaded()
    if not outcomes:
        why = "; ".join("GPU %d: %s" % (g["index"], node.why_not_loaded(g)) for g in node.gpus)
        return Result(name="load", status=SKIP, summary="not run: no GPU can be loaded (%s)" % why, data={"reason": ""})
    seconds, memtest_seconds, size = SETTINGS["quick" if node.args.quick else "full"]
    wall = max(o["wall_s"] for o in outcomes.values())
    samples = {str(i): len(o["samples"]) for i, o in outcomes.items()}
    left = [g["index"] for g in node.gpus if g["index"] not in outcomes]
    return Result(
        name="load",
        status=PASS,
        summary="loaded %d GPU%s at once for %.1f s: %dx%d matmul for %g s, then the memory test (up to %g s); "
        "%s samples per GPU%s"
        % (
            len(outcomes),
            "s" if len(outcomes) != 1 else "",
            wall,
            size,
            size,
            seconds,
            memtest_seconds,
            "/".join(map(str, samples.values())),
            "; not loaded: GPU %s" % ", ".join(map(str, left)) if left else "",
        ),
        data={"reason": "", "wall_s": wall, "samples": samples},
    )
