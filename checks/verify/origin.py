"""verify's checks of the facts collected before torch is imported (checks/diagnosis.Facts), run in the parent while
the worker imports torch: where torch comes from, the declared requirements, what the OS gives a training job; and
the judging of every worker FAIL that carries an exception against those facts."""

from checks import diagnosis, provenance
from checks import system as system_rules
from checks.report import FAIL, PASS, SKIP, WARN, Result


def check_provenance(facts):
    """torch, torchvision and torchaudio are the environment's own copies, imported by the environment's Python."""
    cause = diagnosis.by_provenance(diagnosis.parse(""), facts)
    if cause is None:
        for name in provenance.PACKAGES:
            cause = diagnosis.by_provenance(diagnosis.parse("%s/" % name), facts)
            if cause is not None:
                break
    torch = facts.provenance.packages["torch"]
    if cause is not None:
        return Result(
            name="provenance",
            status=FAIL,
            summary=cause.meaning,
            expected="the environment's own copy",
            actual=cause.fact,
            hint=cause.fix,
            data={"fact": cause.fact},
        )
    if torch.imported is None:
        return Result(name="provenance", status=SKIP, summary="torch is not on sys.path")
    outside = facts.provenance.outside()
    shadowed = [(p.name, c) for p in facts.provenance.packages.values() for c in p.others]
    if outside:
        package = outside[0]
        return Result(
            name="provenance",
            status=WARN,
            summary="%s is imported from %s (%s), not from the environment %s"
            % (package.name, package.imported.entry, package.imported.origin, facts.provenance.environment),
            expected="inside %s" % facts.provenance.environment,
            actual=package.imported.entry,
            hint="install it into the environment; the copy outside it changes with whoever runs this",
            data={"fact": "%s from %s" % (package.name, package.imported.origin)},
        )
    if shadowed:
        name, copy = shadowed[0]
        return Result(
            name="provenance",
            status=WARN,
            summary="another %s (%s) is on sys.path, shadowed by the environment's" % (name, copy.describe()),
            expected="one copy",
            actual=copy.path,
            hint="remove it (%s) so that a change of sys.path order cannot pick it" % copy.path,
            data={"fact": "%s also at %s" % (name, copy.origin)},
        )
    return Result(
        name="provenance",
        status=PASS,
        summary="torch %s" % torch.imported.describe(),
        actual=torch.imported.entry,
    )


def check_requirements(facts):
    """What torch, torchvision and torchaudio declare (pip Requires-Dist, conda depends) is installed."""
    reqs = facts.requirements
    unmet = reqs.unmet()
    if unmet:
        first = unmet[0]
        more = " (and %d more)" % (len(unmet) - 1) if len(unmet) > 1 else ""
        return Result(
            name="requirements",
            status=FAIL,
            summary="unmet: %s%s" % (first.describe(), more),
            expected="%s%s" % (first.name, first.spec),
            actual=first.installed or "not installed",
            hint="; ".join(dict.fromkeys(r.fix() for r in unmet)),
            data={"fact": first.describe(), "unmet": [r.describe() for r in unmet]},
        )
    if not reqs.items:
        return Result(name="requirements", status=SKIP, summary=reqs.unjudged or "no package metadata to read")
    if reqs.unjudged:
        return Result(name="requirements", status=WARN, summary=reqs.unjudged, hint="python -m pip install packaging")
    return Result(
        name="requirements",
        status=PASS,
        summary="%d declared requirements met (%s)"
        % (len(reqs.items), ", ".join(sorted({r.source for r in reqs.items}))),
    )


def check_os(facts):
    """The OS gives a training job what it needs: shared memory, open files, disk, compiler code directories, a C
    library the build runs on, a host name that resolves."""
    problems = [(p.status, p.what, p.fix) for p in system_rules.problems(facts.system)]
    system = facts.system
    if not problems:
        shm = "/dev/shm %s, " % system_rules.human_size(system.shm_bytes) if system.shm_bytes is not None else ""
        files = "ulimit -n %s, " % system.nofile[0] if system.nofile else ""
        return Result(
            name="os", status=PASS, summary="%s%scode dirs writable, host %s resolves" % (shm, files, system.hostname)
        )
    worst = FAIL if any(p[0] == FAIL for p in problems) else WARN
    return Result(
        name="os",
        status=worst,
        summary="; ".join(p[1] for p in problems),
        hint="; ".join(p[2] for p in problems),
        data={"fact": problems[0][1]},
    )


PARENT_CHECKS = (("provenance", check_provenance), ("requirements", check_requirements), ("os", check_os))


def judge(result, facts):
    """Return `result` with its cause judged against the facts when it is a FAIL carrying an exception from the
    environment (not from checks' own code): summary = the cause, hint = its fix, data.fact = the deciding fact."""
    data = result.data or {}
    text = data.get("exception")
    if result.status != FAIL or not text or data.get("internal") or "fact" in data:  # "fact": judged already
        return result
    cause = diagnosis.explain(text, facts)
    data = dict(result.data, fact=cause.fact, recognised=cause.recognised)
    judged = Result(
        name=result.name,
        status=FAIL,
        summary=cause.meaning,
        expected=result.expected,
        actual=result.actual,
        hint=cause.fix,
        data=data,
    )
    judged.seconds = result.seconds
    return judged
