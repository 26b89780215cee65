"""The last line, one a team can grep for: `node healthy: 8 GPUs (8 x NVIDIA H100 80GB HBM3)`, `node usable, needs
attention: GPU 2 (...): row remapping pending (needs a GPU reset)` or `node unhealthy: pull GPU 3
(00000000:3B:00.0): row remapping failed`. It gathers the FAIL and WARN lines above it per GPU (their `data.gpu`,
or `data.by_gpu` for the node-level lines that name GPUs) and quotes each line's short reason."""

from checks.health.lines import models
from checks.report import FAIL, PASS, SKIP, WARN, Result

PREFIX = {FAIL: "node unhealthy", WARN: "node usable, needs attention", PASS: "node healthy"}


def _gather(results, status):
    found = {}
    for r in results:
        if r.status != status or r.name == "node":
            continue
        per = r.data.get("by_gpu")
        if per is not None:  # a node-level line (xid, consistency) that names GPUs
            for index, reason in per.items():
                found.setdefault(int(index), []).append(reason)
            for reason in r.data.get("unmapped") or []:
                found.setdefault(None, []).append(reason)
        else:
            found.setdefault(r.data.get("gpu"), []).append(r.data.get("reason") or r.summary)
    return found


def _words(found, gpus, status):
    buses = {g["index"]: g.get("bus_id") or "bus id unknown" for g in gpus}
    parts = []
    for key in sorted(found, key=lambda k: (k is None, k or 0)):
        reasons = ", ".join(dict.fromkeys(found[key]))
        if key is None:
            parts.append(reasons)
        else:
            verb = "pull GPU" if status == FAIL else "GPU"
            parts.append("%s %d (%s): %s" % (verb, key, buses.get(key, "?"), reasons))
    return " | ".join(parts)


def check_node(results, gpus, untested=None):
    """The node verdict from the lines so far: FAIL names the GPUs to pull, WARN those that need attention; a line
    that hit a bug in checks (report.internal_error_result) is named as not judged, never counted against a GPU."""
    fails, warns = _gather(results, FAIL), _gather(results, WARN)
    data = {
        "gpus": len(gpus),
        "pull": sorted(k for k in fails if k is not None),
        "attention": sorted(k for k in warns if k is not None),
    }
    if fails:
        text = "%s: %s" % (PREFIX[FAIL], _words(fails, gpus, FAIL))
        return Result(
            name="node",
            status=FAIL,
            summary=text,
            expected="a healthy node",
            actual="unhealthy",
            hint="see the FAIL lines above",
            data=dict(data, reason=text),
        )
    if warns:
        text = "%s: %s" % (PREFIX[WARN], _words(warns, gpus, WARN))
        return Result(
            name="node",
            status=WARN,
            summary=text,
            expected="no warning",
            actual="warnings",
            hint="see the WARN lines above",
            data=dict(data, reason=text),
        )
    if not gpus:
        return Result(
            name="node",
            status=SKIP,
            summary="no NVIDIA GPU on this machine: nothing to check",
            data=dict(data, reason=""),
        )
    text = "%s: %d GPU%s (%s)" % (PREFIX[PASS], len(gpus), "s" if len(gpus) != 1 else "", models(gpus))
    if untested:
        text += "; not load-tested: %s" % untested
    unjudged = [r.name for r in results if r.name != "node" and (r.data or {}).get("internal_error")]
    if unjudged:  # a bug in checks says nothing about the GPUs: named, never a reason to pull one
        text += "; not judged (a bug in checks): %s" % ", ".join(unjudged)
    return Result(name="node", status=PASS, summary=text, data=dict(data, reason="", unjudged=unjudged))
