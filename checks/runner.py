"""The one way a command runs: its options (the shared ones defined once here), the torch guard, the results as they
come (each check bounded by the watchdog), then the finish: summary, JSON report, chart.

A command module defines a Spec and a `prepare(args, torch)` that collects its facts and returns a Plan (header
facts plus the checks to run); `run(SPEC, argv, prepare, add_arguments)` does the rest. Errors that stop a run
(UsageError, Ctrl-C, a closed stdout, a crash) are turned into one line and an exit code by the boundary in
checks/__main__.py; see checks/report.py for the exit-code table.
"""

import argparse
import math
import os
import sys
import threading

from checks import output
from checks.report import EXIT_FAILED, EXIT_USAGE, FAIL, Report, Result, UsageError, interruption, run_check

# The longest --timeout: a watchdog further away than this is no watchdog at all, and threading's timers and
# waits stop at threading.TIMEOUT_MAX (OverflowError beyond it). 10**6 s is 11.6 days.
MAX_TIMEOUT = 1e6

# The shared options, one meaning each.
SHARED_HELP = {
    "json": "also write the report as JSON to PATH, a regular file or a new path (schema: "
    "checks/report.schema.json); `-` writes it to standard output and the human lines to standard error",
    "quick": "the short run: %s",
    "device": "run on this device only (default: %s); a device that cannot be used here is a FAIL",
    "timeout": "seconds one check may take before it is stopped and reported as hung: a finite number above 0, at "
    "most 1e6 (default %g); there is no unbounded run, give a long one instead, e.g. 86400",
}


class Spec:
    """How a command runs: its name, description, which shared options it takes and their defaults, and whether it
    needs torch (`needs_torch`: no torch is a usage error before anything runs). Its one-line summary is in the
    command table (checks/__main__.py)."""

    def __init__(self, name, description, options=("json", "quick", "timeout"), **settings):
        self.name, self.description, self.options = name, description, options
        self.quick = settings.get("quick", "skip the slow checks")
        self.devices = settings.get("devices", ("auto", "cpu", "cuda"))
        self.device_repeat = settings.get("device_repeat", False)
        self.timeout = settings.get("timeout", 600.0)
        self.chart = settings.get("chart", False)
        self.needs_torch = settings.get("needs_torch", False)


class Plan:
    """A run ready to go: header facts, then either `jobs` [(name, function)] (each run under the watchdog) or
    `results` (an iterator of Results, for a command that bounds its own steps); `chart(document, json_path)`
    draws the PNG; `quiet` runs the checks without printing or writing (dist's ranks other than 0); `report` is a
    Report the command already holds (dist's watchdog writes it when a rank hangs); `unusable` says why the run
    has nothing usable to judge (verify without a usable torch): its lines still print, and it exits 2."""

    def __init__(
        self,
        header,
        jobs=None,
        results=None,
        chart=None,
        hint=None,
        quiet=False,
        report=None,
        unusable=None,
        facts=None,
    ):
        self.header, self.jobs, self.results, self.chart, self.report = header, jobs, results, chart, report
        self.unusable = unusable  # why there is nothing usable to judge (no usable torch): the run exits 2
        self.facts = facts  # the facts collected before torch (checks.diagnosis.Facts.to_dict), for the JSON
        self.hint, self.quiet = hint or "a hung GPU, driver or compiler: run `python -m checks verify`", quiet


def parser(spec):
    """Return the argparse parser of a command with its shared options."""
    p = argparse.ArgumentParser(prog="python -m checks %s" % spec.name, description=spec.description)
    if "json" in spec.options:
        help_ = SHARED_HELP["json"] + (", and a PNG chart beside it" if spec.chart else "")
        p.add_argument("--json", metavar="PATH", help=help_)
    if "quick" in spec.options:
        p.add_argument("--quick", action="store_true", help=SHARED_HELP["quick"] % spec.quick)
    if "device" in spec.options:
        kwargs = {"action": "append"} if spec.device_repeat else {"default": "auto"}
        help_ = SHARED_HELP["device"] % ("every usable one" if spec.device_repeat else "auto")
        p.add_argument(
            "--device", choices=spec.devices, help=help_ + (" (repeatable)" if spec.device_repeat else ""), **kwargs
        )
    if "timeout" in spec.options:
        p.add_argument(
            "--timeout", type=seconds, default=spec.timeout, metavar="S", help=SHARED_HELP["timeout"] % spec.timeout
        )
    return p


def seconds(text):
    """argparse type of --timeout: a finite number of seconds above 0 and at most MAX_TIMEOUT; anything else
    (`inf`, `nan`, `0`, `-1`, `none`) is an argparse error, exit 2, naming the value."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of seconds" % text) from None
    if not math.isfinite(value) or value <= 0 or value > MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            "%r: give a finite positive number of seconds, at most %g (a day is 86400)" % (text, MAX_TIMEOUT)
        )
    return value


def parse(spec, argv, add_arguments=None):
    """Parse a command's arguments (argparse exits 2 on bad usage); check --timeout and the --json destination."""
    p = parser(spec)
    if add_arguments:
        add_arguments(p)
    args = p.parse_args(argv)
    if getattr(args, "json", None):
        output.check_writable(args.json)
        if args.json == output.STDOUT:
            output.report_to_stdout()
    return args


def import_torch():
    """Import torch, or raise UsageError saying why not and how to fix it (a check that needs torch exits 2)."""
    from checks.machine.probe import import_torch as probe_import

    torch, error = probe_import()
    if torch is None:
        from checks import diagnosis

        line, _, _, text = error
        cause = diagnosis.explain(text, diagnosis.gather())
        raise UsageError(
            "torch did not import: %s\n  meaning: %s\n  decided by: %s\n  fix: %s"
            % (line, cause.meaning, cause.fact, cause.fix)
        )
    return torch


def run(spec, argv, prepare, add_arguments=None):
    """Run a command: parse, guard torch, prepare (facts), then stream the checks and finish; return the exit code."""
    args = parse(spec, argv, add_arguments)
    torch = import_torch() if spec.needs_torch else None
    plan = prepare(args, torch)
    if isinstance(plan, int):  # the command delegated (dist --nproc starts its own ranks)
        return plan
    rep = plan.report or Report(spec.name, [spec.name] + list(argv))
    rep.header, rep.unusable = plan.header, plan.unusable
    rep.facts = plan.facts
    results = plan.results
    if plan.jobs is not None:
        results = Watchdog(rep, getattr(args, "timeout", spec.timeout), getattr(args, "json", None), plan.hint).run(
            plan.jobs
        )
        if spec.needs_torch:
            results = judged(results)
    if plan.quiet:
        for _ in results:
            pass
        return 0
    return stream(rep, results, getattr(args, "json", None), plan.chart)


def judged(results):
    """Yield each result; a FAIL carrying an exception raised inside torch or a library is judged against this
    machine's facts (checks.diagnosis.judge), which are gathered once, at the first such FAIL."""
    from checks import diagnosis

    facts = []

    def once():
        if not facts:
            facts.append(diagnosis.gather())
        return facts[0]

    for result in results:
        yield diagnosis.judge(result, once)


def stream(rep, results, json_path=None, chart=None):
    """Print the header, each result as it arrives, then finish; Ctrl-C ends the stream and marks the report."""
    print(output.render_header(rep.header))
    print()
    color = output.use_color(sys.stdout)
    try:
        for result in results:
            print(output.render_result(rep.add(result), color), flush=True)
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM or SIGHUP (report.Interrupted)
        rep.interrupt(exc)
        print("\n%s: interrupted (%s); the results so far are above" % (rep.check, why(exc)), file=sys.stderr)
    return finish(rep, json_path, chart)


def why(exc):
    """Return how a KeyboardInterrupt came: `Ctrl-C` for SIGINT, else the signal's name."""
    name = interruption(exc)[0]
    return "Ctrl-C" if name == "SIGINT" else name


def finish(rep, json_path=None, chart=None):
    """Print the summary line, write the JSON report and the chart; return the exit code."""
    print()
    print(output.render_summary(rep))
    if json_path:
        try:
            where = output.write_report(json_path, rep.to_dict())
        except BrokenPipeError:
            raise  # `--json -` into a closed pipe: exit 141 at the boundary, quietly
        except OSError as exc:
            output.error(rep.check, "cannot write %s: %s" % (json_path, exc.strerror or exc))
            return EXIT_USAGE
        print("report written to %s" % where)
        if chart is not None and json_path != output.STDOUT:
            print(chart(rep.to_dict(), json_path))
    return rep.exit_code()


class Watchdog:
    """Bound each job: if one runs past the timeout, report it as hung, write the report, and exit 1."""

    def __init__(self, rep, seconds, json_path, hint):
        self.rep, self.seconds, self.json_path, self.hint = rep, seconds, json_path, hint
        self.timer = None

    def arm(self, name):
        """Start the clock for the job `name`."""
        self.disarm()
        self.timer = threading.Timer(self.seconds, self._fire, (name,))
        self.timer.daemon = True
        self.timer.start()

    def disarm(self):
        """Stop the clock."""
        if self.timer is not None:
            self.timer.cancel()

    def run(self, jobs):
        """Yield run_check(name, func) for each (name, func), each bounded by the timeout."""
        for name, func in jobs:
            self.arm(name)
            try:
                yield run_check(name, func)
            finally:
                self.disarm()

    def _fire(self, name):
        result = Result(
            name=name,
            status=FAIL,
            summary="did not finish within %g s; %s stopped" % (self.seconds, self.rep.check),
            expected="finishes within --timeout %g" % self.seconds,
            actual="still running (hung GPU, driver or compiler?)",
            hint=self.hint,
        )
        abort(self.rep, result, self.json_path)


def abort(rep, result, json_path, chart=None):
    """End the run now from any thread (a hung check, a failed distributed run): print `result`, finish (summary,
    JSON, chart), and exit 1 without waiting for the thread that hangs."""
    print(output.render_result(rep.add(result)), flush=True)
    finish(rep, json_path, chart)
    sys.stdout.flush()
    os._exit(EXIT_FAILED)


def unusable(header, device, why):
    """Return a Plan of one FAIL: `--device DEVICE` cannot be used here, and why."""
    failed = Result(
        name=device,
        status=FAIL,
        summary="--device %s cannot be used here: %s" % (device, why),
        expected=device,
        actual="not usable",
        hint="run `python -m checks verify` to see why",
    )
    return Plan(header, jobs=[(device, lambda: failed)])
