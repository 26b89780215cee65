"""The shape of a health line: `gpuN-ASPECT` per GPU, the node-level lines, and the short reason the node summary
quotes (`data.reason`); a GPU whose read failed (fallen off the bus, NVML error) is a FAIL naming the driver state."""

from checks.nvidia import driver
from checks.report import FAIL, Result


def name(gpu, aspect):
    """Return the line name of an aspect of a GPU: `gpu3-ecc`."""
    return "gpu%d-%s" % (gpu["index"], aspect)


def models(gpus):
    """Return the GPUs counted by model: `2 x NVIDIA H100 80GB HBM3, 1 x NVIDIA A100-SXM4-80GB`."""
    names = {}
    for g in gpus:
        names[g.get("name")] = names.get(g.get("name"), 0) + 1
    return ", ".join("%d x %s" % (n, name) for name, n in names.items())


def line(gpu, aspect, status, summary, expected=None, actual=None, hint=None, reason=None, **data):
    """Return the Result of one aspect of one GPU; `reason` is the few words the node summary quotes (default: the
    summary), data carries the GPU's index and bus id so that the summary can name it."""
    data.update(gpu=gpu["index"], bus_id=gpu.get("bus_id"), reason=reason or summary)
    return Result(
        name=name(gpu, aspect), status=status, summary=summary, expected=expected, actual=actual, hint=hint, data=data
    )


def read_failure(gpu, aspect):
    """Return a FAIL when reading this aspect of the GPU failed for a reason other than "not supported" (the GPU
    fell off the bus, needs a reset, NVML lost it), or None. The state and fix are checks/nvidia/driver.py's."""
    failed = (gpu.get("errors") or {}).get(aspect) or (gpu.get("errors") or {}).get("device")
    if not failed:
        return None
    text, code = failed
    state, meaning, fix = driver.classify(text, code)
    return line(
        gpu,
        aspect,
        FAIL,
        "cannot read it: %s (%s)" % (text, meaning),
        "the GPU answers",
        text,
        fix,
        reason="%s (%s)" % (meaning, state),
    )
