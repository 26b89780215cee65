"""Torch API gaps: the names of torch (`torch.compiler.disable`) and the keywords of its functions
(`torch.load(..., weights_only=True)`) that code uses and this torch lacks. The code is read, never run
(checks/machine/project.py: the project's files, and the core of the installed packages built on torch); a name is
looked up in the imported torch, a keyword in compat.TORCH_API's releases, else in the function's signature. The
project and dependents lines WARN with the release that added or removed what is missing, as the code may guard its
use in ways not read here."""

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
from checks.report import WARN, Result

# namespaces whose names exist only once the program registers them (custom operators, TorchScript classes)
RUNTIME_NAMESPACES = (
    "torch.ops.",
    "torch.classes.",
)


# torch's namespaces of accelerators other than CUDA and the CPU (torch.xpu; torch.npu and torch.mlu, which vendors'
# plugins add): code under them runs only on that hardware, so a name missing there is not judged
OTHER_DEVICES = frozenset({"xpu", "npu", "mlu", "musa", "hpu", "mtia", "xla", "mps", "neuron"})


def missing_torch_name(torch, dotted):
    """Return the first prefix of `dotted` (`torch.compiler.disable`) that the imported torch lacks
    (`torch.compiler`), or None when the whole name resolves: attributes are looked up with getattr, a package's
    submodule is imported as `import` would (torch.distributed.tensor); nothing else runs."""
    return missing_name(torch, dotted)


def missing_name(module, dotted):
    """missing_torch_name for any imported top-level `module` (`pytorch_lightning`, `pytorch_lightning.Trainer`)."""
    parts = dotted.split(".")
    obj, path, parent = module, parts[0], None
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


def package_gap(torch, version, packages, deadline, loaded=()):
    """The first Gap in the installed `packages` ([(project, version, [top-level module, ...])], packages built on
    torch), in the code their users run first (project_facts.package_files): the files of `loaded` (module paths)
    inside them, then their top-level modules (transformers' modeling_utils.py, which from_pretrained loads on first
    call). Subpackages not loaded (models, integrations, optional backends) are not judged: their code runs only for
    the features that need them. Only the files whose text spells a missing name or a dated keyword are parsed.
    Nothing is imported or run but torch's own modules. None when none is found before `deadline`
    (time.monotonic())."""
    keywords = compat.torch_api_keywords()
    for project, project_version, modules in packages:
        for top in modules:
            spec = _find(top)
            folders = list(getattr(spec, "submodule_search_locations", None) or ())
            if not folders:
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
                        where = os.path.relpath(spelled.path, os.path.dirname(folders[0]))
                        return dataclasses.replace(
                            gap, use=dataclasses.replace(use, file=where), package="%s %s" % (project, project_version)
                        )
                if time.monotonic() > deadline:
                    return None
    return None


def local_gap(torch, version, root, tops, deadline):
    """The first Gap in the project's own packages `tops` (folders of `root` its code imports; every file of them,
    project_facts.local_package_files), read as package_gap reads an installed package's: the text sieve, then the
    files that spell a missing name or a dated keyword parsed. Megatron-LM's megatron/optimizer/clip_grads.py does
    `from torch._six import inf` (torch 2.0 removed torch._six; NVIDIA/Megatron-LM#293). None before `deadline`."""
    keywords = compat.torch_api_keywords()
    files = project_facts.local_package_files(root, tops)
    for spelled in project_facts.spellings(files, keywords, deadline):
        if not spelled.words and not any(
            _missing(torch, n) for n in spelled.names if not n.startswith(RUNTIME_NAMESPACES)
        ):
            continue
        for use in project_facts.file_torch_uses(spelled.path):
            gap = torch_gap(torch, use, version)
            if gap is not None:
                return dataclasses.replace(gap, use=dataclasses.replace(use, file=os.path.relpath(spelled.path, root)))
        if time.monotonic() > deadline:
            return None
    return None


def _find(top):
    """importlib's spec of the top-level module `top` (already imported: its own), None when not found."""
    module = sys.modules.get(top)
    if module is not None:
        return getattr(module, "__spec__", None)
    try:
        return importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None


def gap_result(line, gap, version, root=None):
    """The WARN of verify line `line` for `gap`: who uses what, the release that has it, and the two ways out. `root`:
    the project's folder; a git checkout there (another team's repository cloned) is told to update first."""
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
        replaced = next(
            (text for name, text in compat.TORCH_API_REPLACED.items() if gap.use.dotted.startswith(name)), None
        )
        first = "change the code to this torch's API%s" % (": %s" % replaced if replaced else "")
        if root and os.path.isdir(os.path.join(root, ".git")):
            first = (
                "update this checkout (`git pull` in %s: a later revision may already use this torch's API), or %s"
                % (
                    root,
                    first,
                )
            )
    return Result(
        name=line,
        status=WARN,
        summary="%s %s %s, which torch %s %s%s: code that reaches it fails"
        % (where, verb, gap.name, version, lacks, why),
        expected="%s in torch %s" % (gap.name, version),
        actual="absent",
        hint="%s, or install a torch that has it%s"
        % (first, ": upgrade torch with its torchvision and torchaudio, %s" % need if not gone else ""),
        data={"fact": "torch %s lacks %s (%s)" % (version, gap.name, where)},
    )


def gate_result(line, packages, version, settings=(), status=WARN, environ=None):
    """The Result of verify line `line` for the first of `packages` ([(name, version, package folder)]) that turns
    its PyTorch support off under this environment (machine/gates.py reads how it decides): `settings`
    (project_facts.Setting) are the variables the project's code sets for itself, applied over `environ` (default
    os.environ), as the code would run; `version` is the installed torch's ("2.0.1"). None when every one uses
    torch."""
    from checks.machine import gates

    environ = dict(os.environ if environ is None else environ)
    set_by = {}
    for setting in settings:
        environ[setting.name] = setting.value
        set_by[setting.name] = setting
    for name, release, folder in packages:
        gate = gates.read(folder, name)
        off = gate.why_off(environ, version) if gate is not None else None
        if off is None:
            continue
        reason, variable = off
        where = "%s:%d" % (os.path.relpath(gate.file, os.path.dirname(folder)), gate.line)
        if variable is None:
            fix = (
                'upgrade torch with its torchvision and torchaudio (`python -m pip install -U "torch>=%s"`), or '
                'install a %s release that supports torch %s (`python -m pip install "%s<%s"`)'
                % (gate.minimum, name, version, name, release)
            )
            fact = "%s %s needs torch >= %s; torch %s" % (name, release, gate.minimum, version)
        elif variable in set_by:
            fix = "remove the line that sets %s in %s (or set it to AUTO): then %s uses torch" % (
                variable,
                set_by[variable].where(),
                name,
            )
            fact = "%s=%s set by %s" % (variable, set_by[variable].value, set_by[variable].where())
            reason = "%s (%s sets it)" % (reason, set_by[variable].where())
        else:
            fix = "`unset %s` (or set it to AUTO) where the job's environment sets it: then %s uses torch" % (
                variable,
                name,
            )
            fact = "%s=%s in the environment" % (variable, environ.get(variable))
        return Result(
            name=line,
            status=status,
            summary='%s %s does not use torch here: %s (%s), so its PyTorch models raise "requires the PyTorch '
            'library but it was not found" although torch %s imports' % (name, release, reason, where, version),
            expected="%s uses torch %s" % (name, version),
            actual="PyTorch support off",
            hint=fix,
            data={"fact": fact},
        )
    return None
