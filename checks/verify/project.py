"""Verify's project line: the code in the working directory (checks/machine/project.py reads it without running it)
against this Python. Every module it imports is installed (found as `import` would find it, nothing loaded); what
it imports from other packages imports with this torch, as the project's first run would import it (`from
transformers import Trainer` loads transformers' trainer module; packages built on torch first, within BUDGET
seconds); its requirements files' lines are met. A failed import carries its exception for the parent to judge
against its facts. The names of torch the folder's own files use (`F.scaled_dot_product_attention`,
`torch.compiler.disable`) resolve in this torch; a name it lacks is a WARN with the release that added or removed it
(compat.TORCH_API), as the code may guard its use in ways not read here. The project's own modules are never
imported."""

import dataclasses
import functools
import importlib
import importlib.util
import inspect
import os
import sys
import time
import types
from typing import Optional, Tuple

from checks import compat
from checks.machine import project as project_facts
from checks.report import FAIL, PASS, SKIP, WARN, Result

OWN = ("torch", "torchvision", "torchaudio")  # verify's own lines
BUDGET = {True: 10.0, False: 30.0}
# namespaces whose names exist only once the program registers them (custom operators, TorchScript classes)
RUNTIME_NAMESPACES = (
    "torch.ops.",
    "torch.classes.",
)  # seconds of imports (--quick, full run); the rest are named as not tried


# torch's namespaces of accelerators other than CUDA and the CPU (torch.xpu; torch.npu and torch.mlu, which vendors'
# plugins add): code under them runs only on that hardware, so a name missing there is not judged
OTHER_DEVICES = frozenset({"xpu", "npu", "mlu", "musa", "hpu", "mtia", "xla", "mps", "neuron"})


def _installed(top):
    """(spec or None, True when it is the standard library's): where `import top` would find it, without loading
    it (importlib's find_spec of a top-level name only runs the path finders)."""
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None, False
    return spec, spec is not None and project_facts.is_stdlib(top)


def _unmet_requirements(requirements):
    """The requirements files' lines not met here (pip's metadata, PEP 508 with `packaging`): [(line, why)]."""
    if not requirements:
        return []
    try:
        from packaging.requirements import InvalidRequirement
        from packaging.requirements import Requirement as Parsed
        from packaging.version import InvalidVersion, Version
    except ImportError:
        return []
    from checks.machine import distributions
    from checks.machine import requirements as installed_facts

    installed = installed_facts.pip_installed(list(sys.path))
    unmet = []
    for item in requirements:
        try:
            parsed = Parsed(item.text)
            if parsed.marker is not None and not parsed.marker.evaluate({"extra": ""}):
                continue
        except (InvalidRequirement, ValueError):
            continue
        have = installed.get(distributions.canonical(parsed.name))
        if have is None:
            unmet.append((item, "%s is not installed" % parsed.name))
            continue
        try:
            if parsed.specifier and not parsed.specifier.contains(Version(have[0]), prereleases=True):
                unmet.append((item, "installed: %s %s" % (parsed.name, have[0])))
        except InvalidVersion:
            continue
    return unmet


def _import(item):
    """Import what `item` (a project_facts.Import) names, as the statement would: the module, then each name
    from it (a lazy module's attribute, else its submodule)."""
    module = importlib.import_module(item.module)
    for name in item.names:
        try:
            getattr(module, name)
        except AttributeError:
            importlib.import_module("%s.%s" % (item.module, name))


def missing_torch_name(torch, dotted):
    """Return the first prefix of `dotted` (`torch.compiler.disable`) that the imported torch lacks
    (`torch.compiler`), or None when the whole name resolves: attributes are looked up with getattr, a package's
    submodule is imported as `import` would (torch.distributed.tensor); nothing else runs."""
    parts = dotted.split(".")
    obj, path, parent = torch, "torch", None
    for part in parts[1:]:
        if not hasattr(obj, part) and _is_package(parent) and not isinstance(obj, types.ModuleType):
            # an attribute can shadow its package's submodule of the same name (torch.multiprocessing.spawn, a
            # function); `from torch.multiprocessing.spawn import ProcessRaisedException` imports the module
            try:
                obj = importlib.import_module(path)
            except ImportError:
                pass
        parent, path = obj, "%s.%s" % (path, part)
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        if _is_package(obj):
            try:
                obj = importlib.import_module(path)
                continue
            except ImportError:
                return path
        return path
    return None


def _is_package(obj):
    return isinstance(obj, types.ModuleType) and hasattr(obj, "__path__")


@dataclasses.dataclass(frozen=True)
class Gap:
    """A torch name or keyword that code uses and this torch lacks: `use` (project_facts.Use), `name` the first
    missing prefix (`torch.compiler`) or the call (`torch.load(weights_only=...)`), `change` compat.torch_api_change's
    ("added"|"removed", release) or None, and `package` ("transformers 4.43.1") when the code is an installed
    package's, else ""."""

    use: project_facts.Use
    name: str
    change: Optional[Tuple[str, str]]
    package: str = ""


@functools.lru_cache(maxsize=4096)
def _missing(torch, dotted):
    return missing_torch_name(torch, dotted)


def _takes(obj, keyword):
    """False when the signature of `obj` (a torch function or class) has no parameter `keyword` and no **kwargs;
    True otherwise, also when no signature can be read (functions written in C)."""
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == keyword or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def torch_gap(torch, use, version, private=True):
    """Return a Gap when `use` needs what torch `version` lacks, else None. A name is judged by the imported torch
    (missing_torch_name), unless the file quotes the missing part (a hasattr probe this reader cannot follow). A
    keyword is judged by compat.TORCH_API's release of it, else by the function's signature. `private`: judge
    names with a `_` part too (the project's own code); a package's private names are judged only where TORCH_API
    dates them (torch._six), as packages probe torch's internals in ways not read here. Names under OTHER_DEVICES
    are not judged."""
    if use.dotted.startswith(RUNTIME_NAMESPACES):
        return None
    missing = _missing(torch, use.dotted)
    if missing is not None:
        module, _, name = missing.rpartition(".")
        change = compat.torch_api_change(module, name, version)
        parts = missing.split(".")
        hidden = any(part.startswith("_") for part in parts[1:])
        if name in use.quoted or parts[1] in OTHER_DEVICES or (hidden and not private and change is None):
            return None
        return Gap(use=use, name=missing, change=change)
    module, _, name = use.dotted.rpartition(".")
    for keyword in use.keywords:
        change = compat.torch_api_change(module, "%s(%s)" % (name, keyword), version)
        if change is not None and change[0] == "added":
            return Gap(use=use, name="%s(%s=...)" % (use.dotted, keyword), change=change)
        if change is None:
            try:
                obj = functools.reduce(getattr, use.dotted.split(".")[1:], torch)
            except AttributeError:
                continue
            if callable(obj) and not _takes(obj, keyword):
                return Gap(use=use, name="%s(%s=...)" % (use.dotted, keyword), change=None)
    return None


def _package_gap(torch, version, imported, deadline):
    """The first Gap in the packages built on torch among the `imported` modules, in the code their users run
    first (project_facts.package_files): the files the project's imports loaded, then the package's top-level
    modules (transformers' modeling_utils.py, which from_pretrained loads on first call). Subpackages not loaded
    (models, integrations, optional backends) are not judged: their code runs only for the features that need them.
    Only the files whose text spells a missing name or a dated keyword are parsed. None when none is found before
    `deadline` (time.monotonic())."""
    from checks.verify.install import dependent_modules

    owners = {m: (name, v) for name, v, modules, _ in dependent_modules() for m in modules}
    keywords = compat.torch_api_keywords()
    loaded = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
    for top in dict.fromkeys(m.split(".")[0] for m in imported):
        folders = list(getattr(sys.modules.get(top), "__path__", None) or ())
        if top not in owners or not folders:
            continue
        files = project_facts.package_files(folders[0], loaded)
        for spelled in project_facts.spellings(files, keywords, deadline):
            if not spelled.words and not any(
                _missing(torch, n) for n in spelled.names if not n.startswith(RUNTIME_NAMESPACES)
            ):
                continue
            for use in project_facts.file_torch_uses(spelled.path):
                gap = torch_gap(torch, use, version, private=False)
                if gap is not None:
                    use = dataclasses.replace(use, file=os.path.relpath(spelled.path, os.path.dirname(folders[0])))
                    return dataclasses.replace(gap, use=use, package="%s %s" % owners[top])
            if time.monotonic() > deadline:
                return None
    return None


def _gap_result(gap, version):
    """The project line's WARN for `gap`: who uses what, the release that has it, and the two ways out."""
    gone = gap.change is not None and gap.change[0] == "removed"
    why = " (%s in torch %s)" % gap.change if gap.change else ""
    need = (
        '`python -m pip install -U "torch>=%s"`' % gap.change[1]
        if gap.change and not gone
        else "`python -m pip install -U torch`"
    )
    verb = "calls" if gap.name.endswith("...)") else "uses"
    lacks = "does not take" if verb == "calls" else "does not have"
    where = "%s (%s:%d)" % (gap.package, gap.use.file, gap.use.line) if gap.package else gap.use.where()
    if gap.package:
        first = "install a %s release written for torch %s" % (gap.package.split()[0], version)
    else:
        first = "change the code to this torch's API"
    return Result(
        name="project",
        status=WARN,
        summary="%s %s %s, which torch %s %s%s: code that reaches it fails"
        % (where, verb, gap.name, version, lacks, why),
        expected="%s in torch %s" % (gap.name, version),
        actual="absent",
        hint="%s, or install a torch that has it%s"
        % (first, ": upgrade torch with its torchvision and torchaudio, %s" % need if not gone else ""),
        data={"fact": "torch %s lacks %s (%s)" % (version, gap.name, where)},
    )


def check_project(ctx):
    """The working directory's code finds every module it imports, what it imports from other packages imports with
    this torch (within BUDGET seconds), and its requirements files are met."""
    if ctx.torch is None:
        return Result(name="project", status=SKIP, summary="torch did not import")
    found = project_facts.scan(ignore=OWN)
    if found is None or (not found.files and not found.requirements):
        return Result(
            name="project", status=SKIP, summary="no Python code or requirements file in the working directory"
        )
    missing, third_party = [], []
    for item in found.imports:
        if item.top in OWN:
            continue
        spec, in_stdlib = _installed(item.top)
        if spec is None:
            missing.append(item)
        elif not in_stdlib:
            third_party.append(item)
    if missing:
        first = missing[0]
        if first.names:
            statement = "from %s import %s" % (first.module, ", ".join(first.names))
        else:
            statement = "import %s" % first.module
        text = 'File "%s", line %d, in <module>\n    %s\nModuleNotFoundError: No module named %r' % (
            first.file,
            first.line,
            statement,
            first.top,
        )
        more = ", ".join(sorted({m.top for m in missing[1:]} - {first.top}))
        return Result(
            name="project",
            status=FAIL,
            summary="%s imports %s, which is not installed in this Python%s"
            % (first.where(), first.top, " (nor: %s)" % more if more else ""),
            expected="import %s finds it" % first.top,
            actual="No module named %r" % first.top,
            hint="not judged yet",
            data={"exception": text},
        )
    from checks.verify.install import dependent_modules, import_failure

    built_on_torch = {m for _, _, modules, _ in dependent_modules() for m in modules} if third_party else set()
    start, done, untried = time.monotonic(), [], []
    ordered = sorted(third_party, key=lambda i: i.top not in built_on_torch)  # packages built on torch first
    for item in ordered:
        if time.monotonic() - start > BUDGET[bool(ctx.quick)]:
            untried.append(item.module)
            continue
        failed = import_failure(  # what the project's own first run would meet
            "project",
            "%s: %s does not import with torch %s" % (item.where(), item.module, ctx.torch.__version__),
            "the project's imports succeed",
            lambda item=item: _import(item),
        )
        if failed is not None:
            return failed
        done.append(item.module)
    version = ctx.torch.__version__.split("+")[0]
    gap = next(filter(None, (torch_gap(ctx.torch, use, version) for use in found.torch_uses)), None)
    if gap is None and done:
        gap = _package_gap(ctx.torch, version, done, start + BUDGET[bool(ctx.quick)])
    if gap is not None:
        return _gap_result(gap, version)
    unmet = _unmet_requirements(found.requirements)
    if unmet:
        item, why = unmet[0]
        return Result(
            name="project",
            status=WARN,
            summary="%s:%d asks for %s; %s" % (os.path.basename(item.file), item.line, item.text, why),
            expected=item.text,
            actual=why,
            hint='python -m pip install "%s"' % item.text,
            data={"fact": "%s: %s" % (item.text, why)},
        )
    summary = "%d files: the %d modules they import are installed" % (
        len(found.files),
        len({i.top for i in third_party}),
    )
    if done:
        summary += " and import with this torch: %s" % ", ".join(dict.fromkeys(done))
    if untried:
        summary += "; not tried (time limit): %s" % ", ".join(untried)
    return Result(name="project", status=PASS, summary=summary)
