"""`python -m checks compare A.json B.json`: two reports side by side, with the ratio of each figure."""

import argparse
import json
import math
import sys

from checks import report


def parse_args(argv):
    """Parse compare's options; argparse exits 2 on bad usage."""
    parser = argparse.ArgumentParser(
        prog="python -m checks compare",
        description="Compare two reports of the same check (a reference run, a teammate's machine, yesterday's run): "
        "status and figure of each result, and B/A. Exit 0: compared; 1: B is below --threshold of A somewhere, or "
        "(with --threshold) a figure of A is missing, unmeasured or not finite in B; 2: a report cannot be read, or "
        "a bad option.",
    )
    parser.add_argument("a", metavar="A.json", help="the reference report")
    parser.add_argument("b", metavar="B.json", help="the report to compare with it")
    parser.add_argument(
        "--threshold",
        type=ratio,
        default=None,
        metavar="R",
        help="fail when a figure of B is below R times A's (e.g. 0.9), or when a figure A has is missing, unmeasured "
        "or not finite in B (a regression gate must not pass on nothing); R is a finite number above 0; default: "
        "never fail",
    )
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="with --threshold: a figure of A that B lacks, did not measure or measured as NaN/inf is shown, not a "
        "failure",
    )
    return parser.parse_args(argv)


def ratio(text):
    """argparse type of --threshold: a finite number above 0 (`nan`, `inf`, `0`, `-1` are errors, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number" % text) from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("%r: give a finite positive ratio, e.g. 0.9" % text)
    return value


def load(path):
    """Read a report, or raise UsageError saying why it is not one."""
    try:
        with open(path, encoding="utf-8") as handle:
            doc = json.load(handle)
    except OSError as exc:
        raise report.UsageError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    except ValueError as exc:
        raise report.UsageError("%s is not JSON: %s" % (path, exc)) from None
    if not isinstance(doc, dict) or doc.get("schema") != "pytorch-env/report":
        raise report.UsageError("%s is not a pytorch-env report (no schema pytorch-env/report)" % path)
    if doc.get("schema_version") not in (1, 2, report.SCHEMA_VERSION):  # 2, 3 added `interrupted`, `signal`
        raise report.UsageError(
            "%s has schema_version %r; this compare reads 1 to %d"
            % (path, doc.get("schema_version"), report.SCHEMA_VERSION)
        )
    return doc


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def figure(result):
    """Return (value, unit) of a result: bench's value, or train's rate, or (None, None). A non-finite value (NaN,
    inf: JSON from Python writes them) is returned as it is; unmeasured() tells it apart."""
    data = result.get("data") or {}
    if _number(data.get("value")):
        return data["value"], data.get("unit", "")
    if _number(data.get("per_second")):
        return data["per_second"], "%s/s" % data.get("unit", "")
    return None, None


def unmeasured(va, vb, has_b):
    """Why B has no usable figure where A has one: `missing in B`, `not measured in B`, `not finite in B (nan)`;
    None when B's figure is usable or A has none to compare with."""
    if va is None or not math.isfinite(va):
        return None
    if not has_b:
        return "missing in B"
    if vb is None:
        return "not measured in B"
    if not math.isfinite(vb):
        return "not finite in B (%r)" % vb
    return None


def rows(a, b):
    """Return (name, status A, status B, value A, value B, unit, ratio) for every result in either report."""
    by_name = {r["name"]: r for r in b["results"]}
    names = [r["name"] for r in a["results"]] + [n for n in by_name if n not in {r["name"] for r in a["results"]}]
    table = []
    for name in names:
        ra = next((r for r in a["results"] if r["name"] == name), None)
        rb = by_name.get(name)
        (va, unit), (vb, unit_b) = figure(ra or {}), figure(rb or {})
        usable = va and vb is not None and math.isfinite(va) and math.isfinite(vb) and unit == unit_b
        table.append((name, _status(ra), _status(rb), va, vb, unit or unit_b or "", vb / va if usable else None))
    return table


def _status(result):
    """A result's status, with `~` when its figure was measured under contention (checks/machine/contention.py)."""
    if result is None:
        return "-"
    contended = ((result.get("data") or {}).get("contention") or {}).get("contended")
    return result["status"] + ("~" if contended else "")


def _fmt(value):
    return "-" if value is None else "%.4g" % value


def main(argv=None):
    """Print the comparison; return the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    a, b = load(args.a), load(args.b)
    if a["check"] != b["check"]:
        raise report.UsageError("%s is a %s report, %s a %s report" % (args.a, a["check"], args.b, b["check"]))
    print("A: %s  (%s, %s)" % (args.a, a["header"].get("device") or a["header"].get("platform", "?"), a["created"]))
    print("B: %s  (%s, %s)" % (args.b, b["header"].get("device") or b["header"].get("platform", "?"), b["created"]))
    table = rows(a, b)
    width = max(len(r[0]) for r in table) if table else 4
    print("%s  %-5s %-5s %12s %12s  %-10s %s" % ("name".ljust(width), "A", "B", "A", "B", "unit", "B/A"))
    below, lacking = [], []
    for name, sa, sb, va, vb, unit, ratio in table:
        flag = ""
        if ratio is not None and args.threshold and ratio < args.threshold:
            flag = "  < %.2f" % args.threshold
            below.append(name)
        gap = unmeasured(va, vb, sb != "-")
        if gap and args.threshold:
            flag = "  %s" % gap
            lacking.append("%s (%s)" % (name, gap))
        print(
            "%s  %-5s %-5s %12s %12s  %-10s %s%s"
            % (name.ljust(width), sa, sb, _fmt(va), _fmt(vb), unit, "-" if ratio is None else "%.3f" % ratio, flag)
        )
    if any(r[1].endswith("~") or r[2].endswith("~") for r in table):
        print("~ measured under contention (other processes on the CPUs or the GPU): compare it with care")
    failed = False
    if below:
        print("compare: %d figures of B below %.2f x A: %s" % (len(below), args.threshold, ", ".join(below)))
        failed = True
    if lacking and args.allow_missing:
        print("compare: %d figures of A not usable in B, allowed by --allow-missing: %s" % (len(lacking), _j(lacking)))
    elif lacking:
        print(
            "compare: %d figures of A not usable in B: %s; a gate passes only on what B measured (rerun B, or "
            "--allow-missing)" % (len(lacking), _j(lacking))
        )
        failed = True
    if args.threshold and not b["results"]:
        print("compare: B has no results: nothing to gate%s" % ("" if args.allow_missing else "; rerun B"))
        failed = failed or not args.allow_missing
    return report.EXIT_FAILED if failed else report.EXIT_OK


def _j(items):
    return ", ".join(items)
