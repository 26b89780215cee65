"""verify's checks of the facts collected before torch is imported (checks.diagnosis.Facts), run in the parent while
the worker imports torch: where torch comes from, the declared requirements, what the OS gives a training job; and
the judging of every worker FAIL that carries an exception against those facts."""

import os
import re
import sys

from checks import diagnosis
from checks.machine import provenance
from checks.machine import system as system_rules
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
    prov = facts.provenance
    apart = getattr(prov, "pip_apart", None)
    soft = cause is not None and prov.foreign_interpreter and prov.activated_by == "VIRTUAL_ENV" and torch.imported
    if apart is not None and (cause is None or soft):
        pip, path, installs, python = apart
        return Result(
            name="provenance",
            status=WARN,
            summary="the `%s` on PATH (%s) installs into %s, while the `%s` on PATH is %s: `%s install` and `%s list` "
            "work on another environment than the one `%s` runs, so what they install and list is not importable there"
            % (pip, path, installs, os.path.basename(python), python, pip, pip, os.path.basename(python)),
            expected="%s and %s of one environment" % (pip, os.path.basename(python)),
            actual="%s runs %s; %s is %s" % (pip, installs, os.path.basename(python), python),
            hint="install with the Python you run: `python -m pip install PACKAGE` (`python -m pip list` shows what "
            "it has); to make `%s` that Python's, put its environment's bin folder first on PATH or remove %s"
            % (pip, path),
            data={"fact": "%s on PATH runs %s; %s on PATH is %s" % (pip, installs, os.path.basename(python), python)},
        )
    if soft:
        # a python from elsewhere while a virtual environment is activated, whose torch imports: worth saying,
        # not a failure (the activation may be a leftover; pixi's own environment is another matter)
        return Result(
            name="provenance",
            status=WARN,
            summary=cause.meaning,
            expected="the activated environment's Python",
            actual=prov.interpreter,
            hint=cause.fix + "; or deactivate the environment that is not meant",
            data={"fact": cause.fact},
        )
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
    from checks.machine import shadows

    shadowing = shadows.stdlib_shadows()
    if shadowing:
        module, path = shadowing[0]
        return Result(
            name="provenance",
            status=WARN,
            summary="%s shadows Python's standard module %r: whatever imports it gets this file instead"
            % (path, module),
            expected="no file named like a standard module on sys.path",
            actual=path,
            hint="rename %s, or run from another directory / drop its folder from PYTHONPATH" % path,
            data={"fact": "%s shadows %s" % (path, module)},
        )
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
    foreign = getattr(facts.provenance, "foreign_paths", ())
    if foreign:
        item = foreign[0]
        return Result(
            name="provenance",
            status=WARN,
            summary="PYTHONPATH holds %s, packages for Python %s%s: whatever this Python %d.%d imports from there "
            "comes ahead of its own"
            % (
                item.entry,
                item.python,
                " (put there by %s)" % item.set_by if item.set_by else "",
                *sys.version_info[:2],
            ),
            expected="no other Python's packages on PYTHONPATH",
            actual=item.entry,
            hint="drop %s from PYTHONPATH (or `unset PYTHONPATH`)" % item.entry,
            data={"fact": "PYTHONPATH entry for Python %s" % item.python},
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
    conflicts = getattr(facts.provenance, "command_conflicts", ())
    if conflicts:
        conflict = conflicts[0]
        (project, target), others = conflict.runs, conflict.others
        said = ", ".join("%s's (%s)" % o for o in others)
        return Result(
            name="provenance",
            status=WARN,
            summary="the `%s` command on PATH (%s) runs %s's entry point (%s); %s also declare%s a `%s` command: the "
            "package installed last wrote the script, so the other's `%s ...` commands are not there"
            % (
                conflict.command,
                conflict.path,
                project,
                target,
                said,
                "s" if len(others) == 1 else "",
                conflict.command,
                conflict.command,
            ),  # fmt: skip
            expected="one package's `%s`" % conflict.command,
            actual="%s, %s" % (project, ", ".join(p for p, _ in others)),
            hint="to run %s's `%s`, reinstall it so that it writes its script again (`python -m pip install "
            "--force-reinstall --no-deps %s`), or keep %s and %s in separate environments"
            % (others[0][0], conflict.command, others[0][0], others[0][0], project),
            data={
                "fact": "console script %s declared by %s; %s runs %s"
                % (conflict.command, ", ".join([project] + [p for p, _ in others]), conflict.path, target)
            },  # fmt: skip
        )
    tools = [t for t in getattr(facts.provenance, "foreign_tools", ()) if t[0] in provenance.RUNS_CODE]
    if tools:  # each one named: the one the user starts is not known here
        modules = {"ipython": "IPython", "jupyter": "jupyter", "torchrun": "torch.distributed.run"}
        said = ["the %s on PATH (%s) runs %s" % (name, path, interpreter) for name, path, interpreter in tools]
        names = [name for name, _, _ in tools]
        return Result(
            name="provenance",
            status=WARN,
            summary="%s, another Python than this one (%s): code started with `%s` does not see this environment's "
            "packages" % ("; ".join(said), facts.provenance.interpreter, "` or `".join(names)),
            expected="%s of this environment" % " and ".join(names),
            actual=", ".join(interpreter for _, _, interpreter in tools),
            hint="; ".join(
                "install %s into this environment (`python -m pip install %s`; conda or pixi: add it) or start it as "
                "`python -m %s`" % (name, name, modules[name])
                for name in names
            ),
            data={"fact": "; ".join("%s on PATH runs %s" % (name, interpreter) for name, _, interpreter in tools)},
        )
    return Result(
        name="provenance",
        status=PASS,
        summary="torch %s" % torch.imported.describe(),
        actual=torch.imported.entry,
    )


def check_requirements(facts):
    """What torch, torchvision and torchaudio declare (pip Requires-Dist, conda depends) is installed. An unmet
    requirement of theirs is a FAIL; one only a package further down declares (nvidia-*-cu11 wheels require
    setuptools and wheel, which torch never imports) a WARN."""
    reqs = facts.requirements
    unmet = reqs.unmet()
    if unmet:
        direct = [r for r in unmet if r.owner.split()[0].lower() in ("torch", "pytorch", "torchvision", "torchaudio")]
        unmet = direct + [r for r in unmet if r not in direct]
        first = unmet[0]
        more = " (and %d more)" % (len(unmet) - 1) if len(unmet) > 1 else ""
        return Result(
            name="requirements",
            status=FAIL if direct else WARN,
            summary="unmet: %s%s" % (first.describe(), more),
            expected="%s%s" % (first.name, first.spec),
            actual=first.installed or "not installed",
            hint="; ".join(dict.fromkeys(r.fix() for r in unmet)),
            data={"fact": first.describe(), "unmet": [r.describe() for r in unmet]},
        )
    if reqs.dependents:
        first = reqs.dependents[0]
        more = " (and %d more)" % (len(reqs.dependents) - 1) if len(reqs.dependents) > 1 else ""
        return Result(
            name="requirements",
            status=WARN,
            summary="%s%s: it was made for another release and may fail to import or crash" % (first.describe(), more),
            expected="%s%s" % (first.name, first.spec),
            actual=first.installed,
            hint="; ".join(dict.fromkeys(r.fix() for r in reqs.dependents)),
            data={"fact": first.describe(), "dependents": [r.describe() for r in reqs.dependents]},
        )
    if reqs.unrecorded:
        return _unrecorded(reqs.unrecorded, facts)
    if not reqs.items:
        return Result(name="requirements", status=SKIP, summary=reqs.unjudged or "no package metadata to read")
    if reqs.unjudged:
        return Result(name="requirements", status=WARN, summary=reqs.unjudged, hint="python -m pip install packaging")
    channels = reqs.channels
    mixed = sorted(n for n, c in channels.items() if n != "torch" and channels.get("torch") and c != channels["torch"])
    if mixed:
        return Result(
            name="requirements",
            status=WARN,
            summary="torch is from the conda channel %s, %s"
            % (channels["torch"], ", ".join("%s from %s" % (n, channels[n]) for n in mixed)),
            expected="one channel",
            actual=", ".join("%s: %s" % kv for kv in sorted(channels.items())),
            hint="install torch, torchvision and torchaudio from one channel (their libraries are built against that "
            "channel's torch)",
            data={"fact": "channels %s" % channels},
        )
    early = reqs.prereleases()
    if early:
        return Result(
            name="requirements",
            status=WARN,
            summary="pre-releases among torch's dependencies: %s" % ", ".join("%s %s" % nv for nv in early),
            expected="releases",
            actual=", ".join("%s %s" % nv for nv in early),
            hint="; ".join(
                'python -m pip install "%s<%s"' % (n, re.match(r"\d+(\.\d+)?", v).group()) for n, v in early
            ),
            data={"fact": "pre-releases: %s" % early},
        )
    return Result(
        name="requirements",
        status=PASS,
        summary="%d declared requirements met (%s)"
        % (len(reqs.items), ", ".join(sorted({r.source for r in reqs.items}))),
    )


def _unrecorded(unrecorded, facts):
    """torch (torchvision, torchaudio) imported from a folder without an install record pip reads: pip counts it as
    not installed, and resolves any package requiring it by installing another copy (pip's resolver reads installed
    distributions through importlib.metadata, which finds dist-info and egg-info only)."""
    name, path = next(iter(unrecorded.items()))
    package = facts.provenance.packages.get(name)
    version = provenance.version_py(path).get("__version__") if name == "torch" else None
    if package is not None and package.imported is not None and package.imported.version:
        version = package.imported.version
    dependents = [n for n in ("torchvision", "torchaudio") if n != name]
    conda = package is not None and package.imported is not None and package.imported.installer == "conda"
    return Result(
        name="requirements",
        status=WARN,
        summary="%s%s in %s is installed without metadata pip can read (no %s-*.dist-info or .egg-info beside it%s): "
        "pip counts %s as not installed, so `pip install` of a package that requires it (%s, ...) installs another "
        "%s from the index over this one"
        % (
            name,
            " " + version if version else "",
            os.path.dirname(path),
            name,
            "; conda's record is not pip's" if conda else "",
            name,
            ", ".join(dependents),
            name,
        ),
        expected="an install record of %s pip reads" % name,
        actual="none in %s" % os.path.dirname(path),
        hint="install packages that require %s with `python -m pip install --no-deps NAME` (then `python -m pip "
        "check` lists what else they need), or let pip record %s: `python -m pip install %s%s` from the index of "
        "its build" % (name, name, name, "==" + version if version else ""),
        data={"fact": "no install record of %s in %s" % (name, os.path.dirname(path)), "unrecorded": unrecorded},
    )


def check_os(facts):
    """The OS gives a training job what it needs (checks/machine/system.py's verdict)."""
    return system_rules.verdict(facts.system)


def check_loader(facts):
    """The native loader's variables do not undermine the environment: every LD_PRELOAD entry exists (ld.so ignores
    a missing one with an error at every start), and no LD_LIBRARY_PATH directory holds its own copy of a library
    the environment has (the loader would take it before any DT_RUNPATH)."""
    from checks.machine import loader

    inputs = facts.loader_inputs
    if not inputs:
        return Result(name="loader", status=PASS, summary="no loader variables set")
    env, torch_dir = facts.provenance.environment, facts.torch_dir
    for entry in re.split(r"[:\s]+", inputs.get("LD_PRELOAD", "")):
        if not entry:
            continue
        found = os.path.exists(entry) if "/" in entry else loader.resolve(entry, environment=env).path is not None
        if not found:
            return Result(
                name="loader",
                status=WARN,
                summary="LD_PRELOAD names %s, which does not exist: the loader ignores it, with an error at every "
                "start" % entry,
                expected="an existing library",
                actual=entry,
                hint="install the library it names, or remove %s from LD_PRELOAD" % entry,
                data={"fact": "LD_PRELOAD %s missing" % entry},
            )
    own = set()
    for d in loader.environment_dirs(env, torch_dir):
        try:
            own.update(n for n in os.listdir(d) if ".so" in n or n.endswith((".dylib", ".dll")))
        except OSError:
            continue
    for d in [d for d in inputs.get("LD_LIBRARY_PATH", "").split(":") if d]:
        try:
            shared = sorted(n for n in os.listdir(d) if n in own)
        except OSError:
            continue
        if shared and not loader.is_own(d, env, torch_dir):
            return Result(
                name="loader",
                status=WARN,
                summary="LD_LIBRARY_PATH's %s holds its own %s, which the environment also has: the loader takes "
                "those first wherever a library uses DT_RUNPATH"
                % (d, ", ".join(shared[:4]) + (" ..." if len(shared) > 4 else "")),
                expected="no copies of the environment's libraries on LD_LIBRARY_PATH",
                actual=d,
                hint="remove %s from LD_LIBRARY_PATH" % d,
                data={"fact": "%s in LD_LIBRARY_PATH" % shared[0]},
            )
    return Result(
        name="loader",
        status=PASS,
        summary="%s: no missing preload, no copies of the environment's libraries" % ", ".join(sorted(inputs)),
    )


def check_variables(facts):
    """The variables torch, its OpenMP runtime, MKL, cpp_extension, the CUDA caching allocator and Python read hold
    values their documented grammar allows and this torch accepts (checks/machine/variables.py, which cites each
    grammar): FAIL where the value stops work (an extension build, an import, the first CUDA allocation), WARN where
    its reader ignores it."""
    settings = facts.settings
    if not settings:
        return Result(
            name="variables", status=PASS, summary="no variable torch or its runtimes read holds a value they reject"
        )
    worst = next((s for s in settings if s.breaks), settings[0])
    more = [s.name for s in settings if s is not worst]
    return Result(
        name="variables",
        status=FAIL if worst.breaks else WARN,
        summary="%s%s" % (worst.describe(), " (also: %s)" % ", ".join(more) if more else ""),
        expected="%s: %s" % (worst.name, worst.expected),
        actual="%s=%s" % (worst.name, worst.value),
        hint="; ".join(s.fix for s in [worst] + [s for s in settings if s is not worst]),
        data={"fact": "%s=%s" % (worst.name, worst.value), "settings": [s.describe() for s in settings]},
    )


# torch's features that import a package torch does not require (torch/onnx/_internal: "Module onnx is not
# installed!" / No module named 'onnx'; torch/utils/tensorboard/__init__.py: "TensorBoard logging requires TensorBoard
# ..."): (module, the feature, the pip distribution).
INTEGRATIONS = (
    ("onnx", "torch.onnx.export", "onnx"),
    ("tensorboard", "torch.utils.tensorboard", "tensorboard"),
)


def check_integrations(facts, find_spec=None):
    """torch's optional integrations: the packages its features import but it does not require, looked up on this
    Python's path (importlib's find_spec; nothing is imported). A SKIP lists the absent ones with their install."""
    import importlib.util

    find_spec = find_spec or importlib.util.find_spec
    absent = []
    for module, feature, distribution in INTEGRATIONS:
        try:
            there = find_spec(module) is not None
        except (ImportError, ValueError):
            there = False
        if not there:
            absent.append(
                "%s is not installed (%s needs it: `python -m pip install %s`)" % (module, feature, distribution)
            )
    if absent:
        return Result(
            name="integrations",
            status=SKIP,
            summary="optional: %s" % "; ".join(absent),
            data={"absent": [a.split()[0] for a in absent]},
        )
    return Result(name="integrations", status=PASS, summary="installed: %s" % ", ".join(m for m, _, _ in INTEGRATIONS))


judge = diagnosis.judge  # every worker FAIL carrying an exception, judged against the parent's facts

PARENT_CHECKS = (
    ("provenance", check_provenance),
    ("requirements", check_requirements),
    ("loader", check_loader),
    ("os", check_os),
    ("variables", check_variables),
    ("integrations", check_integrations),
)
