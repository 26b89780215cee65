"""Torch API gaps: the names of torch (`torch.compiler.disable`) and the keywords of its functions
(`torch.load(..., weights_only=True)`) that code uses and this torch lacks. The code is read, never run
(checks/machine/project.py: the project's files, and the core of the installed packages built on torch); a name is
looked up in the imported torch, a keyword in compat.TORCH_API's releases, else in the function's signature. The
project and dependents lines WARN with the release that added or removed what is missing, as the code may guard its
use in ways not read here."""

import abc
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
    return _walk(module, dotted)[1]


def resolve(module, dotted):
    """The object `dotted` (`librosa.filters.mel`) names in the imported top-level `module`, looked up as
    missing_name looks it up but only through modules and classes (an instance's attribute may be a property: code
    that runs); None when a part is missing or is reached through anything else."""
    found, missing = _walk(module, dotted, plain=True)
    return None if missing is not None else found


def _walk(module, dotted, plain=False):
    """(object, None) for the object `dotted` names in `module`, or (None, the first missing prefix); with `plain`,
    (None, None) when a part would be looked up on an object that is neither a module nor a class."""
    parts = dotted.split(".")
    obj, path, parent = module, parts[0], None
    for part in parts[1:]:
        if plain and not isinstance(obj, (types.ModuleType, type)):
            return None, None
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
                return None, path
        return None, path
    return obj, None


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


SIGNATURE_CHARS = 160  # a signature is shown up to this many characters, without its annotations


@dataclasses.dataclass(frozen=True)
class Refusal:
    """Why a function's installed signature refuses a call (project_facts.Call): `signature` as inspect writes it
    (`(*, sr, n_fft, n_mels=128, ...)`), `reason` in words, and `keywords`: for arguments passed by position that
    the signature takes only by keyword, the call rewritten with them by name (`sr=hp.sample_rate, n_fft=hp.n_fft`),
    else ""."""

    signature: str
    reason: str
    keywords: str = ""


def _signature(obj):
    """The signature of `obj` as a call meets it, read only from Python code: a function, a bound method of one, or
    a class built by `type`/ABCMeta whose __init__ is a Python function and whose __new__ is object's or one. Not
    followed through functools.wraps (`__wrapped__`): a wrapper that takes `*args, **kwargs` (librosa 0.9's
    deprecate_positional_args) accepts what its target refuses. None for anything else: C functions, metaclasses
    that build their own call (pydantic, enum), callable instances."""
    if inspect.isclass(obj):
        new = getattr(obj, "__new__", None)
        if type(obj) not in (type, abc.ABCMeta) or not inspect.isfunction(getattr(obj, "__init__", None)):
            return None
        if new is not object.__new__ and not inspect.isfunction(new):
            return None
    elif not (inspect.isfunction(obj) or inspect.ismethod(obj) and inspect.isfunction(obj.__func__)):
        return None
    try:
        return inspect.signature(obj, follow_wrapped=False)
    except (TypeError, ValueError):
        return None


def _passes_through(signature):
    """True for a wrapper's signature that takes anything: `(*args, **kwargs)`, after a `self` at most."""
    params = list(signature.parameters.values())
    rest = params[1:] if params and params[0].kind is params[0].POSITIONAL_OR_KEYWORD else params
    return bool(rest) and {p.kind for p in rest} == {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}


WRAPPER_SOURCE_BYTES = 1 << 20


def _quoted_in_file(code, keyword):
    """True when the file that defines a wrapper's code writes `keyword` as a string: the decorator's module handles
    it through a helper (huggingface_hub 0.16's validate_hf_hub_args turns `use_auth_token=` into `token=` in
    smoothly_deprecate_use_auth_token, beside it in utils/_validators.py), so the wrapped function's signature does
    not decide."""
    path = getattr(code, "co_filename", None)
    try:
        with open(path, "rb") as handle:
            text = handle.read(WRAPPER_SOURCE_BYTES)
    except (OSError, TypeError):
        return False
    return any(("%s%s%s" % (q, keyword, q)).encode() in text for q in "\"'")


def _wrapped_keywords(obj, call):
    """For a `functools.wraps` wrapper that takes anything (_passes_through), the keywords of `call` that the function
    it wraps does not take, as a Refusal, else None. Positional arguments are not judged through a wrapper: one may
    move them to keywords (librosa 0.9's deprecate_positional_args; Lightning's _defaults_from_env_vars, which wraps
    Trainer.__init__ and passes `fn(self, **kwargs)`, so Lightning 2.0 refuses `Trainer(gpus=1)`). A keyword the
    wrapper itself holds (a closure cell or a constant naming it: pandas' deprecate_kwarg(old_arg_name=...)) is one
    it translates, not judged."""
    function = obj.__init__ if inspect.isclass(obj) else getattr(obj, "__func__", obj)
    if not hasattr(function, "__wrapped__"):
        return None
    try:
        inner = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    params = inner.parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    held = set()
    for cell in getattr(function, "__closure__", None) or ():
        try:
            held.add(repr(cell.cell_contents))
        except ValueError:  # an empty cell
            continue
    code = getattr(function, "__code__", None)
    held.update(repr(c) for c in (code.co_consts if code else ()))
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    unknown = [k for k in call.keywords if k not in names and not any(repr(k) in h for h in held)]
    unknown = [k for k in unknown if not _quoted_in_file(code, k)]
    if not unknown:
        return None
    text = str(inner.replace(parameters=[p.replace(annotation=p.empty) for p in params]))
    text = text if len(text) <= SIGNATURE_CHARS else text[: SIGNATURE_CHARS - 4] + " ...)"
    return Refusal(signature=text, reason="has no parameter %s" % ", ".join(map(repr, unknown)))


def call_refusal(obj, call):
    """A Refusal when the installed `obj`'s signature (_signature) cannot bind `call`'s arguments (as many positional
    ones, the same keywords), as Python raises TypeError at the call; through a wrapper that takes anything, its
    keywords are judged against the wrapped function (_wrapped_keywords). None when it binds or cannot be read."""
    signature = _signature(obj)
    if signature is None:
        return None
    if _passes_through(signature):
        return _wrapped_keywords(obj, call)
    try:
        signature.bind(*range(call.positional), **dict.fromkeys(call.keywords))
        return None
    except TypeError:
        pass
    params = list(signature.parameters.values())
    kinds = {p.kind for p in params}
    text = str(signature.replace(parameters=[p.replace(annotation=p.empty) for p in params]))
    text = text if len(text) <= SIGNATURE_CHARS else text[: SIGNATURE_CHARS - 4] + " ...)"
    by_position = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    by_name = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if inspect.Parameter.VAR_POSITIONAL not in kinds and call.positional > len(by_position):
        extra = call.arguments[len(by_position) :]
        names = [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name not in call.keywords][: len(extra)]
        rewritten = ""
        if len(names) == len(extra):
            rewritten = ", ".join("%s=%s" % pair for pair in zip(names, extra))
        reason = "takes %d argument%s by position and the call passes %d%s" % (
            len(by_position),
            "" if len(by_position) == 1 else "s",
            call.positional,
            "; %s only by keyword" % ", ".join(names) if names else "",
        )
        return Refusal(signature=text, reason=reason, keywords=rewritten)
    unknown = [k for k in call.keywords if k not in by_name]
    if unknown and inspect.Parameter.VAR_KEYWORD not in kinds:
        return Refusal(signature=text, reason="has no parameter %s" % ", ".join(map(repr, unknown)))
    bound = {p.name for p in by_position[: call.positional]} | set(call.keywords)
    required = [
        p.name
        for p in params
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in bound
    ]
    if required:
        return Refusal(signature=text, reason="requires %s, which the call does not pass" % ", ".join(required))
    return Refusal(signature=text, reason="cannot take these arguments")


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
        name, _, release = gap.package.partition(" ")
        older = ' (an older one: `python -m pip install "%s<%s"`)' % (name, release) if release and not gone else ""
        first = "install a %s release written for torch %s%s" % (name, version, older)
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
