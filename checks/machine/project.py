"""The project in the working directory: what its Python code imports and what its requirements files name, read
as text (Python's `ast`, PEP 508 lines), never executed. `pixi run` starts tasks in the workspace's root, so there
the working directory is the team's project; verify's project line judges these against what is installed.

Bounded, as any input from another team is: at most MAX_FILES source files (the folder's own `*.py`, then those of
its immediate subfolders, skipping environments, caches, hidden folders, tests and tools, and tooling files such as
noxfile.py and setup.py), MAX_BYTES each, and the first MAX_REQUIREMENTS lines of `requirements*.txt`. Imports
inside `try:` (optional dependencies) or `if TYPE_CHECKING:` are not counted. A file that does not parse is skipped
(it may be for another Python).
"""

import ast
import dataclasses
import functools
import importlib.machinery
import importlib.util
import json
import os
import re
import sys
import sysconfig
from typing import Optional, Tuple

from checks.machine import distributions

MAX_FILES = 40
SOURCE_DEPTH = 2  # folder levels below the working directory whose *.py files are read
MAX_ENTRIES = 400  # entries of the folder looked at for subfolders (a home folder can hold thousands)
MAX_BYTES = 256 << 10
MAX_SOURCE_BYTES = 1 << 20  # bytes of an installed module read for a name it may define
MAX_REQUIREMENTS = 200
SKIP_FOLDERS = {
    "build",
    "dist",
    "docs",
    "env",
    "envs",
    "node_modules",
    "site-packages",
    "test",
    "tests",
    "tools",
    "venv",
}
# the project's tooling, not its code: nox's, setuptools', pytest's and invoke's entry files
TOOLING = {"noxfile.py", "setup.py", "conftest.py", "tasks.py", "fabfile.py"}
# setup.py is read for imports (a source build runs it: NVIDIA/apex#472's `from pip._internal import main` under
# pip 9) though it is no module of the project
READ_TOOLING = TOOLING - {"setup.py"}


@dataclasses.dataclass(frozen=True)
class Import:
    """One absolute import statement: `module` as written (`transformers`, `physicsnemo.distributed.manager`),
    `names` imported from it (`from M import a, b`; empty for `import M`), and where it is (`file`, `line`)."""

    module: str
    names: Tuple[str, ...]
    file: str
    line: int

    @property
    def top(self):
        return self.module.split(".")[0]

    def where(self):
        return "%s:%d" % (os.path.basename(self.file) if os.path.isabs(self.file) else self.file, self.line)


@dataclasses.dataclass(frozen=True)
class Use:
    """One name of torch the code uses, as `torch.compiler.disable` whatever alias it is written with (`import
    torch.nn.functional as F` then `F.scaled_dot_product_attention`), and where (`file`, `line`). A call records the
    keyword arguments it passes (`torch.load(f, weights_only=True)`: keywords ("weights_only",)); `quoted`: the parts
    of the name that the file also writes as a string (`hasattr(torch, "float8_e4m3fn")` elsewhere in it: a guard
    this reader does not follow)."""

    dotted: str
    file: str
    line: int
    keywords: Tuple[str, ...] = ()
    quoted: Tuple[str, ...] = ()
    deferred: bool = False  # inside a function: runs when called, not at import
    argument: str = ""  # a call's first argument, when it is a string constant (`torch.hub.load("owner/repo", ...)`)
    second: str = ""  # its second, when both are string constants (torch.hub.load's entry point: "yolov5m6")

    def where(self):
        return "%s:%d" % (os.path.basename(self.file) if os.path.isabs(self.file) else self.file, self.line)


@dataclasses.dataclass(frozen=True)
class Call:
    """One call the code makes of another package's function or class by its import path (`librosa.filters.mel(...)`
    after `import librosa`; `mel(...)` after `from librosa.filters import mel`): `positional` the number of arguments
    it passes by position, `arguments` their source text (ARGUMENT_CHARS at most each), `keywords` the names it passes
    by keyword, where it is (`file`, `line`), and `deferred` when it is inside a function (it runs when called).
    Calls that unpack (`f(*args, **kwargs)`) are not recorded: their shape is known only when the code runs."""

    dotted: str
    positional: int
    arguments: Tuple[str, ...]
    keywords: Tuple[str, ...]
    file: str
    line: int
    deferred: bool = False
    # a method called on the object a call of `dotted` made (`fabric = L.Fabric(...)`, then `fabric.init_module()`):
    # the method's name; the positional and keyword arguments are then the method's
    member: str = ""

    def where(self):
        return "%s:%d" % (os.path.basename(self.file) if os.path.isabs(self.file) else self.file, self.line)


@dataclasses.dataclass(frozen=True)
class Setting:
    """A variable the code sets for itself (`os.environ["USE_TF"] = "YES"`, `os.environ.setdefault(...)`,
    `os.environ.update({...})`, `os.putenv(...)`, string constants only): its name and value, and where."""

    name: str
    value: str
    file: str
    line: int

    def where(self):
        return "%s:%d" % (os.path.basename(self.file) if os.path.isabs(self.file) else self.file, self.line)


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One PEP 508 line of a requirements file: its text, the file and the line number."""

    text: str
    file: str
    line: int


@dataclasses.dataclass(frozen=True)
class Project:
    """root: the folder read; files: the Python files parsed; imports: their absolute imports of modules that are
    not the project's own nor the standard library's; requirements: the requirements files' lines; torch_uses: the
    names of torch the code of the folder's own files uses outside `try:` and outside tests of hasattr, getattr or a
    version (MAX_USES at most); package_uses: the names one level into the other packages they import whole
    (`pl.LightningDataModule` after `import pytorch_lightning as pl`), under the same guards."""

    root: str
    files: Tuple[str, ...] = ()
    imports: Tuple[Import, ...] = ()
    requirements: Tuple[Requirement, ...] = ()
    local: Tuple[str, ...] = ()
    torch_uses: Tuple[Use, ...] = ()
    package_uses: Tuple[Use, ...] = ()
    hub_repos: Tuple[Tuple[str, str], ...] = ()  # (`owner/repo[:ref]`, where) of torch.hub.load/list/help calls
    hub_entries: Tuple[Tuple[str, str, str], ...] = ()  # (`owner/repo[:ref]`, entry point, where) of torch.hub.load
    settings: Tuple[Setting, ...] = ()  # the variables the folder's own files set for themselves, in file order
    local_imports: Tuple[Import, ...] = ()  # the folder's own files' imports of the project's top-level names
    # the calls of any file read that build a C++/CUDA extension when the code runs (JIT_BUILDS)
    jit_builds: Tuple[Use, ...] = ()
    # the imports, by the package's own name, of scripts (`if __name__ == "__main__":`) inside the project's packages
    package_scripts: Tuple[Import, ...] = ()
    # the calls the folder's files make of other packages' functions and classes (not torch's, not the standard
    # library's), outside `try:` bodies and GUARDS tests, in file order (MAX_CALLS at most)
    package_calls: Tuple[Call, ...] = ()


def _levels(root, depth=SOURCE_DEPTH):
    """Yield (folder, its first MAX_ENTRIES names, sorted) for `root` and its folders down to `depth` levels,
    shallower first; hidden and `_` folders, SKIP_FOLDERS and environments (pyvenv.cfg, conda-meta) are not
    entered. OSError when `root` itself cannot be listed."""
    level, budget = [root], MAX_ENTRIES * 4  # folders entered below root, in all
    for at in range(depth + 1):
        below = []
        for folder in level:
            try:
                names = sorted(os.listdir(folder))[:MAX_ENTRIES]
            except OSError:
                if folder == root:
                    raise
                continue
            yield folder, names
            if at == depth:
                continue
            for name in names:
                if len(below) >= budget:
                    break
                path = os.path.join(folder, name)
                if name.startswith((".", "_")) or name in SKIP_FOLDERS or not os.path.isdir(path):
                    continue
                if os.path.exists(os.path.join(path, "pyvenv.cfg")) or os.path.isdir(os.path.join(path, "conda-meta")):
                    continue
                below.append(path)
        level = below


def _is_script(path, limit=MAX_BYTES):
    """True when the file at `path` runs as a script: a statement at its top level is `if __name__ == "__main__":`
    (either order). The words in a string or a comment (a message telling users to add the guard) are not one."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(limit)
        if re.search(rb"__name__\s*==\s*['\"]__main__['\"]|['\"]__main__['\"]\s*==\s*__name__", text) is None:
            return False
        if len(text) >= limit:  # cut: the guard's own line, written at the start of a line, decides
            return (
                re.search(rb"(?m)^if\s+(__name__\s*==\s*['\"]__main__['\"]|['\"]__main__['\"]\s*==\s*__name__)", text)
                is not None
            )
        tree = ast.parse(text, filename=path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(isinstance(node, ast.If) and _main_test(node.test) for node in tree.body)


def _main_test(test):
    """True for the expression `__name__ == "__main__"` or `"__main__" == __name__`."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [n.id for n in sides if isinstance(n, ast.Name)]
    values = [n.value for n in sides if isinstance(n, ast.Constant)]
    return names == ["__name__"] and values == ["__main__"]


def _package_main(path):
    """True for a package's `__main__.py`: `python -m PKG` runs it with the project's root on sys.path (Python's
    docs, "__main__ — Top-level code environment"), so its import of PKG by name is how it is meant to run, even
    when it also tests `__name__ == "__main__"`."""
    return os.path.basename(path) == "__main__.py"


def _isolated_build(root):
    """True when `root`'s pyproject.toml declares a [build-system] (PEP 517/518): pip builds it in an isolated
    environment holding that table's `requires`, so setup.py's imports (Cython, numpy) need not be installed here."""
    try:
        with open(os.path.join(root, "pyproject.toml"), "rb") as handle:
            return b"[build-system]" in handle.read(MAX_BYTES)
    except OSError:
        return False


def sources(root, depth=SOURCE_DEPTH):
    """The `*.py` files of `root` and of its folders down to `depth` levels (a script in `podalize/`, a plugin in
    ComfyUI's `custom_nodes/<name>/`; _levels), shallower ones first, at most MAX_FILES."""
    files = []
    tooling = TOOLING if _isolated_build(root) else READ_TOOLING
    for folder, names in _levels(root, depth):
        files += [
            os.path.join(folder, n)
            for n in names
            if n.endswith(".py")
            and n not in (tooling if folder == root else TOOLING)
            and os.path.isfile(os.path.join(folder, n))
        ]
        if len(files) >= MAX_FILES:
            break
    return files[:MAX_FILES]


# setuptools' and torch.utils.cpp_extension's extension classes, whose first argument or `name=` is the dotted name of
# the compiled module a setup.py builds (setuptools' Extension(name, sources); CppExtension, CUDAExtension)
EXTENSION_CLASSES = ("Extension", "CppExtension", "CUDAExtension", "Pybind11Extension", "SYCLExtension")


CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin", ".tar", ".pkl", ".pickle", ".safetensors")
MAX_CHECKPOINTS = 10


def checkpoints(root, depth=SOURCE_DEPTH, limit=MAX_CHECKPOINTS):
    """The checkpoint files (CHECKPOINT_SUFFIXES, regular files) in `root` and its folders down to `depth` levels
    (_levels), shallower first, at most `limit`."""
    return files_ending(root, CHECKPOINT_SUFFIXES, depth, limit)


def files_ending(root, suffixes, depth=SOURCE_DEPTH, limit=MAX_CHECKPOINTS):
    """The regular files whose name ends with one of `suffixes` (any case) in `root` and its folders down to `depth`
    levels (_levels), shallower first, at most `limit`; [] when `root` cannot be listed."""
    found = []
    try:
        for folder, names in _levels(root, depth):
            found += [
                os.path.join(folder, n)
                for n in names
                if n.lower().endswith(suffixes) and os.path.isfile(os.path.join(folder, n))
            ]
            if len(found) >= limit:
                break
    except OSError:
        pass
    return found[:limit]


# Audio and video files: what a program that decodes media (ffmpeg, SoX) is run on
MEDIA_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".aac", ".mp4", ".mkv", ".webm", ".avi", ".mov")
MEDIA_LITERAL = re.compile(r"""["']([^"'\n]{0,200}\.(?:%s))["']""" % "|".join(s[1:] for s in MEDIA_SUFFIXES), re.I)


def media_named(root, files, limit=MAX_BYTES):
    """Where the project meets audio or video: (where, name) of the first media file (MEDIA_SUFFIXES) in the folder
    (files_ending), else of the first string in the folder's `files` (its Python files) naming one
    (`"audio/sample0.wav"`, `f"{name}.mp3"`), `where` being `file.py:LINE`; None when neither."""
    found = files_ending(root, MEDIA_SUFFIXES, limit=1)
    if found:
        return os.path.relpath(found[0], root), os.path.basename(found[0])
    for path in files:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read(limit)
        except OSError:
            continue
        match = MEDIA_LITERAL.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            return "%s:%d" % (os.path.relpath(path, root), line), match.group(1)
    return None


# A command line written as a list whose first item is a program and whose second is an option: `["ffmpeg", "-i",
# "pipe:0", ...]` (transformers' pipelines/audio_utils.py), `["ffmpeg", "-nostdin", ...]` (openai-whisper's audio.py)
COMMAND_LIST = re.compile(rb"""\[\s*["']([A-Za-z][\w.+-]{0,40})["']\s*,\s*f?["']-""")


def commands_run(paths, limit=MAX_SOURCE_BYTES):
    """[(program, path, line)] of the command lines (COMMAND_LIST) in the files at `paths` that use `subprocess`,
    each program once (its first place), in `paths`' order; a file is read up to `limit` bytes."""
    found = {}
    for path in paths:
        try:
            with open(path, "rb") as handle:
                data = handle.read(limit)
        except OSError:
            continue
        if b"subprocess" not in data:
            continue
        for match in COMMAND_LIST.finditer(data):
            program = match.group(1).decode()
            if program not in found:
                found[program] = (program, path, data.count(b"\n", 0, match.start()) + 1)
    return list(found.values())


# Hugging Face's config files of a model folder: transformers' config.json (its `model_type`) and PEFT's
# adapter_config.json (its `peft_type`), the keys the libraries dispatch on; and a saved dataset's
# dataset_info.json (datasets' save_to_disk), whose `features` name their types (`"_type": "List"`)
MODEL_CONFIGS = {"config.json": "model_type", "adapter_config.json": "peft_type", "dataset_info.json": "features"}
# the processor class a transformers model folder names (its preprocessor_config.json, as save_pretrained writes it:
# `"image_processor_type": "Idefics3ImageProcessor"`), which AutoImageProcessor / AutoProcessor load
PROCESSOR_CONFIGS = {"preprocessor_config.json": ("image_processor_type", "feature_extractor_type")}
MAX_CONFIG_BYTES = 1 << 20


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """A model folder's config file (MODEL_CONFIGS, PROCESSOR_CONFIGS): its `path`, the key it dispatches on (`kind`:
    "model_type", "peft_type", "image_processor_type", "feature_extractor_type", or "features": then `value` is the
    feature types it uses, joined by commas) and that key's value,
    the library release that wrote it where it says (`saved_by`: config.json's `transformers_version`), and its
    top-level `keys`."""

    path: str
    kind: str
    value: str
    saved_by: str
    keys: Tuple[str, ...]


def _feature_types(features, limit=1000):
    """The `_type` names a datasets `features` mapping uses, nested ones included (at most `limit` nodes visited)."""
    found, stack, seen = set(), [features], 0
    while stack and seen < limit:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            if isinstance(node.get("_type"), str):
                found.add(node["_type"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def model_configs(root, depth=SOURCE_DEPTH, limit=MAX_CHECKPOINTS):
    """The ModelConfigs in `root` and its folders down to `depth` levels (_levels), at most `limit`: files named in
    MODEL_CONFIGS or PROCESSOR_CONFIGS, MAX_CONFIG_BYTES at most, holding a JSON object whose dispatch key (the first
    of PROCESSOR_CONFIGS' keys it has) is a string. Read as JSON, nothing run."""
    found = []
    try:
        for folder, names in _levels(root, depth):
            for name in names:
                kinds = PROCESSOR_CONFIGS.get(name) or (MODEL_CONFIGS.get(name),)
                path = os.path.join(folder, name)
                if kinds[0] is None or not os.path.isfile(path) or os.path.getsize(path) > MAX_CONFIG_BYTES:
                    continue
                try:
                    with open(path, "rb") as handle:
                        data = json.loads(handle.read(MAX_CONFIG_BYTES))
                except (OSError, ValueError, RecursionError):
                    continue
                kind = next((k for k in kinds if isinstance(data, dict) and isinstance(data.get(k), str)), kinds[0])
                if isinstance(data, dict) and kind == "features" and isinstance(data.get(kind), dict):
                    data = dict(data, features=",".join(sorted(_feature_types(data[kind]))))
                if isinstance(data, dict) and isinstance(data.get(kind), str):
                    saved_by = data.get("transformers_version")
                    found.append(
                        ModelConfig(
                            path=path,
                            kind=kind,
                            value=data[kind],
                            saved_by=saved_by if isinstance(saved_by, str) else "",
                            keys=tuple(str(k) for k in data),
                        )
                    )
            if len(found) >= limit:
                break
    except OSError:
        pass
    return found[:limit]


LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"  # the first line of a Git LFS pointer (its specification)
LFS_DEPTH = 6
LFS_ENTRIES = 5000


def lfs_pointers(root, depth=LFS_DEPTH, entries=LFS_ENTRIES):
    """The files under `root` that its .gitattributes stores in Git LFS (`PATTERN filter=lfs ...` lines; a pattern
    without `/` matches a file's name, one with `/` its path from `root`) and that are still LFS pointers (a clone
    without git-lfs, or without `git lfs pull`): their first bytes are LFS_POINTER. At most `entries` folder
    entries looked at, `depth` levels down; [] without a .gitattributes naming LFS."""
    import fnmatch

    try:
        with open(os.path.join(root, ".gitattributes"), "rb") as handle:
            text = handle.read(MAX_BYTES).decode("utf-8", "replace")
    except OSError:
        return []
    patterns = [line.split()[0] for line in text.splitlines() if "filter=lfs" in line and line.split()]
    if not patterns:
        return []
    found, seen = [], 0
    for here, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_FOLDERS)
        if here[len(root) :].count(os.sep) >= depth:
            dirs[:] = []
        for name in sorted(names):
            seen += 1
            if seen > entries:
                return found
            relative = os.path.relpath(os.path.join(here, name), root).replace(os.sep, "/")
            if not any(fnmatch.fnmatch(relative if "/" in p else name, p.lstrip("/")) for p in patterns):
                continue
            try:
                with open(os.path.join(here, name), "rb") as handle:
                    if handle.read(len(LFS_POINTER)) == LFS_POINTER:
                        found.append(relative)
            except OSError:
                continue
    return found


def package_root(path):
    """The top-level package folder holding the file `path`: the last folder up that holds `__init__.py` (from the
    file's own folder), else the file's own folder."""
    folder = os.path.dirname(os.path.abspath(path))
    while os.path.isfile(os.path.join(os.path.dirname(folder), "__init__.py")):
        folder = os.path.dirname(folder)
    return folder


def package_walk(folder, limit, skip=()):
    """Yield the paths of the files under `folder`, folders and names sorted, at most `limit` files; hidden folders,
    `__pycache__` and the folder names in `skip` are not entered."""
    seen = 0
    for here, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__" and d not in skip)
        for name in sorted(names):
            if seen >= limit:
                return
            seen += 1
            yield os.path.join(here, name)


def built_modules(root, limit=MAX_BYTES):
    """{dotted module name: class} of the compiled modules `root`/setup.py declares (EXTENSION_CLASSES calls with a
    literal name), read without running it; {} where there is none or it cannot be parsed."""
    try:
        with open(os.path.join(root, "setup.py"), "rb") as handle:
            source = handle.read(limit + 1)
        if len(source) > limit:
            return {}
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if func not in EXTENSION_CLASSES:
            continue
        name = next((k.value for k in node.keywords if k.arg == "name"), None) or (node.args[0] if node.args else None)
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            found.setdefault(name.value, func)
    return found


def importable_here(root, limit=MAX_ENTRIES):
    """The module names `root`'s own entries provide to code started there (Python puts the script's folder, or the
    working directory for `python -m`, first on sys.path): its `*.py` files and its folders with an `__init__.py`,
    at most `limit` entries looked at; SKIP_FOLDERS and TOOLING are not the project's modules (site-packages often
    holds a stray `tests` package of some wheel, owned by none)."""
    names = set()
    try:
        entries = sorted(os.listdir(root))[:limit]
    except OSError:
        return names
    for name in entries:
        path = os.path.join(root, name)
        if name in SKIP_FOLDERS or name in TOOLING:  # tests, tools, docs, noxfile.py: not the project's modules
            continue
        if name.endswith(".py") and name[:-3].isidentifier() and os.path.isfile(path):
            names.add(name[:-3])
        elif name.isidentifier() and os.path.isfile(os.path.join(path, "__init__.py")):
            names.add(name)
    return names


def _has_init(folder):
    return os.path.isfile(os.path.join(folder, "__init__.py"))


def _local_names(root, files):
    """The module names the project itself provides: its files' stems and its folders (packages or not)."""
    names = {os.path.splitext(os.path.basename(f))[0] for f in files}
    for base in {root} | {os.path.dirname(f) for f in files}:
        try:
            names.update(n for n in os.listdir(base) if os.path.isdir(os.path.join(base, n)))
        except OSError:
            continue
    return names


# the top-level modules a line imports, found without parsing (a file none of whose candidates is another package's
# is not parsed: parsing costs about 5 ms per 30 KiB, and most of a project's files import only its own modules)
CANDIDATE = re.compile(
    rb"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)[\w.]*[ \t]+import\b|import[ \t]+([A-Za-z_][\w., \t]*))", re.M
)


def import_tops(source):
    """The top-level names the import lines of `source` (bytes) name, read as text (CANDIDATE): the sieve before a
    file is parsed."""
    return _candidates(source)


# a module imported by name at run time (`importlib.import_module("attn_core_inplace_cuda")`: OpenFold's
# attention_core.py; `__import__("x")`), a string constant and no `package=`: an import like any other
IMPORT_MODULE = re.compile(rb"""\b(?:import_module|__import__)\(\s*['"]([A-Za-z_]\w*)[\w.]*['"]\s*\)""")


def _import_module_call(node):
    """The module a statement imports by a call (IMPORT_MODULE's kind: `X = importlib.import_module("m")`, or the
    call alone), or None."""
    value = getattr(node, "value", None) if isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)) else None
    if not isinstance(value, ast.Call) or value.keywords or len(value.args) != 1:
        return None
    func = value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name not in ("import_module", "__import__"):
        return None
    if isinstance(func, ast.Attribute) and not (isinstance(func.value, ast.Name) and func.value.id == "importlib"):
        return None
    first = value.args[0]
    text = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
    return text if re.match(r"^[A-Za-z_][\w.]*$", text) else None


def _candidates(source):
    tops = {m.decode() for m in IMPORT_MODULE.findall(source)}
    for single, several in CANDIDATE.findall(source):
        if single:
            tops.add(single.decode())
        for part in several.split(b","):
            words = part.split()
            if words:
                tops.add(words[0].split(b".")[0].decode())
    return tops


MAX_USES = 300
# words of a test that guards a name's use: hasattr/getattr probes, version comparisons, availability checks
# (`torch.cuda.is_available()`, transformers' `is_torch_npu_available()`, `is_torch_greater_or_equal_than_1_13`)
# (`_TORCH_GREATER_EQUAL_2_3`): matched in any case
GUARDS = ("hasattr", "getattr", "version", "type_checking", "available", "greater", "less_than")
# what a missing name or keyword raises: a `try:` whose handler catches one of these (or everything) and does not
# raise again is a fallback around the names it uses
FALLBACK_CATCHES = {
    "AttributeError",
    "BaseException",
    "Exception",
    "ImportError",
    "ModuleNotFoundError",
    "NameError",
    "RuntimeError",
    "TypeError",
}


def _imports(path, skip=frozenset(), uses=None, limit=MAX_BYTES, settings=None, uses_if=None, calls=None):
    """The absolute imports of the file at `path` (parsed only when an import line names a module outside `skip`
    and the standard library, or when `uses` is a list: then torch's names the file uses are appended to it, and
    to `settings`, a list, the variables it sets: _settings). `uses_if` (bytes): collect uses only from a file whose
    text holds it. `calls`, a list: the calls the file makes of what it imports are appended to it (_calls). Files
    over `limit` bytes are not read."""
    try:
        with open(path, "rb") as handle:
            source = handle.read(limit + 1)
        if len(source) > limit:
            return []
        if uses_if is not None and uses_if not in source:
            uses = None
        candidates = _candidates(source)
        outside = not all(top in skip or is_stdlib(top) for top in candidates)
        if not outside and not (uses is not None and "torch" in candidates):
            return []
        wanted = uses is not None
        tree = ast.parse(source, filename=path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found = []
    try:
        if wanted:
            words = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
            collected = []
            _statements(tree.body, path, False, found, collected, _Aliases(_rebound(tree)))
            for use in collected:
                quoted = tuple(p for p in use.dotted.split(".")[1:] if p in words)
                uses.append(dataclasses.replace(use, quoted=quoted) if quoted else use)
            if settings is not None:
                settings.extend(_settings(tree, path))
        else:
            _statements(tree.body, path, False, found, None, _Aliases(()))
        if calls is not None and outside:
            calls.extend(_calls(tree, path, source.decode("utf-8", "replace")))
    except RecursionError:  # nested deeper than the recursion limit lets the reader follow: the file is not read
        del found[:]
    return found


HEADERS = ("test", "iter", "items", "decorator_list", "bases", "returns", "args")


def _words(node):
    """The names, attributes and strings an expression spells (`not _TORCH_GREATER_EQUAL_2_1`,
    `hasattr(torch, "compiler")`), lower-cased and joined: what GUARDS are looked for in (ast.walk: no recursion)."""
    words = []
    for part in ast.walk(node):
        if isinstance(part, ast.Name):
            words.append(part.id)
        elif isinstance(part, ast.Attribute):
            words.append(part.attr)
        elif isinstance(part, ast.Constant) and isinstance(part.value, str):
            words.append(part.value[:100])
    return " ".join(words).lower()


def _is_guard(test):
    return test is not None and any(g in _words(test) for g in GUARDS)


def _falls_back(node):
    """True for a `try:` with a handler that catches what a missing name raises (FALLBACK_CATCHES, or a bare
    `except:`) and does not raise again."""
    for handler in getattr(node, "handlers", None) or ():
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        caught = {k.id if isinstance(k, ast.Name) else getattr(k, "attr", "") for k in kinds if k is not None}
        if (handler.type is None or caught & FALLBACK_CATCHES) and not any(
            isinstance(n, ast.Raise) for n in ast.walk(handler)
        ):
            return True
    return False


def _string(node):
    node = getattr(node, "value", node) if type(node).__name__ == "Index" else node  # Python 3.8's subscript
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_environ(node):
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _settings(tree, path):
    """The Settings the parsed file `tree` makes: `os.environ[K] = V`, `os.environ.setdefault(K, V)`,
    `os.environ.update({K: V}, K=V)` and `os.putenv(K, V)` with string constants, in line order."""
    found = []
    for node in ast.walk(tree):
        pairs = []
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Subscript) and _is_environ(target.value):
                pairs.append((_string(target.slice), _string(node.value)))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            func = node.func
            if (func.attr == "setdefault" and _is_environ(func.value)) or (
                func.attr == "putenv" and isinstance(func.value, ast.Name) and func.value.id == "os"
            ):
                if len(node.args) == 2:
                    pairs.append((_string(node.args[0]), _string(node.args[1])))
            elif func.attr == "update" and _is_environ(func.value):
                for arg in node.args[:1]:
                    if isinstance(arg, ast.Dict):
                        pairs.extend((_string(k), _string(v)) for k, v in zip(arg.keys, arg.values) if k is not None)
                pairs.extend((k.arg, _string(k.value)) for k in node.keywords if k.arg)
        found.extend(
            Setting(name=name, value=value, file=path, line=node.lineno)
            for name, value in pairs
            if name is not None and value is not None
        )
    return sorted(found, key=lambda s: s.line)


class _Aliases(dict):
    """The names a file binds to modules (_statements fills it). A name the file binds to two different modules is
    left out: which one a use means is decided when the code runs (transformers 4.12.3's trainer.py imports
    `smdistributed.dataparallel.torch.distributed as dist` under SageMaker and `torch.distributed as dist` otherwise,
    and calls `dist.get_local_rank()`, which only the first has)."""

    def __init__(self, ambiguous):
        super().__init__()
        self.ambiguous = frozenset(ambiguous)

    def __setitem__(self, name, bound):
        if name not in self.ambiguous:
            super().__setitem__(name, bound)


def _rebound(tree):
    """The names the file's import statements bind to more than one module or object."""
    targets = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                whole = a.name if a.asname else a.name.split(".")[0]
                targets.setdefault(a.asname or whole, set()).add(whole)
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                origin = "%s%s.%s" % ("." * node.level, node.module or "", a.name)
                targets.setdefault(a.asname or a.name, set()).add(origin)
    return {name for name, bound in targets.items() if len(bound) > 1}


def _statements(body, path, optional, found, uses, aliases, quiet=None, deferred=False):
    """Collect the absolute imports of a statement list and of the statement lists nested in it (only statements
    are visited: imports are statements). Inside `try:` or `if TYPE_CHECKING:` an import is optional: skipped.
    With `uses` a list, the names of torch used are appended to it, except where the code guards them (`quiet`):
    under an `if` testing GUARDS or after one that leaves (`if not ok: raise ...`), or in the body of a `try:` that
    falls back (_falls_back). `aliases`: the names the file binds to torch's modules (and, marked "=", to other
    modules it imports whole: `import pytorch_lightning as pl`), filled as its imports are met; `deferred`: inside
    a function."""
    quiet = optional if quiet is None else quiet
    for node in body:
        if (
            isinstance(node, ast.If)
            and not node.orelse
            and _is_guard(node.test)
            and (
                isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not) or "less" in _words(node.test)
            )
            and node.body
            and isinstance(node.body[-1], (ast.Raise, ast.Return, ast.Continue, ast.Break))
        ):
            quiet = True  # `if not GUARD: raise ...`: the statements after it run only where the guard holds
        called = _import_module_call(node)
        if called and not optional:
            found.append(Import(module=called, names=(), file=path, line=node.lineno))
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "torch" or a.name.startswith("torch."):
                    aliases[a.asname or "torch"] = a.name if a.asname else "torch"
                else:  # another module: its own names are judged one level deep (`pl.LightningDataModule`)
                    aliases[a.asname or a.name.split(".")[0]] = "=" + (a.name if a.asname else a.name.split(".")[0])
            if not optional:
                found.extend(Import(module=a.name, names=(), file=path, line=node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and (node.module == "torch" or node.module.startswith("torch.")):
                for a in node.names:
                    aliases[a.asname or a.name] = "%s.%s" % (node.module, a.name)
                    if uses is not None and not quiet and a.name != "*" and len(uses) < MAX_USES:
                        uses.append(Use(dotted="%s.%s" % (node.module, a.name), file=path, line=node.lineno))
            if not optional and node.level == 0 and node.module:
                names = tuple(a.name for a in node.names if a.name != "*")
                found.append(Import(module=node.module, names=names, file=path, line=node.lineno))
        elif isinstance(getattr(node, "body", None), list):  # a compound statement: its header, then its bodies
            is_try = isinstance(node, ast.Try) or type(node).__name__ == "TryStar"
            tested = _is_guard(node.test) if isinstance(node, ast.If) else False
            imports_optional = optional or is_try or tested
            if uses is not None and not quiet:
                for field in HEADERS:
                    _uses(getattr(node, field, None), path, uses, aliases, deferred)
            body_quiet = quiet or tested or (is_try and _falls_back(node))
            inner = deferred or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            _statements(node.body, path, imports_optional, found, uses, aliases, body_quiet, inner)
            for field in ("orelse", "finalbody"):
                nested = getattr(node, field, None)
                if isinstance(nested, list):
                    _statements(nested, path, imports_optional, found, uses, aliases, quiet or tested, deferred)
            for handler in getattr(node, "handlers", None) or ():
                _statements(handler.body, path, imports_optional, found, uses, aliases, quiet, deferred)
        elif uses is not None and not quiet:
            _uses(node, path, uses, aliases, deferred)


MAX_CALLS = 300
ARGUMENT_CHARS = 60


def _bound_by_import(tree):
    """{name: import path} for the names the file binds by absolute imports only (`np` -> `numpy`, `mel` ->
    `librosa.filters.mel`). A name the file also binds otherwise (an assignment, a parameter, a def, a relative
    import, a second import) is left out: which object a use means is decided when the code runs."""
    bound, other = {}, set(_rebound(tree))
    sentinels = _none_fallbacks(tree)
    for node in ast.walk(tree):
        if id(node) in sentinels:
            continue
        if isinstance(node, ast.Import):
            for a in node.names:
                bound[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                if node.level == 0 and node.module and a.name != "*":
                    bound[a.asname or a.name] = "%s.%s" % (node.module, a.name)
                else:
                    other.add(a.asname or a.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            other.add(node.name)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            other.add(node.id)
        elif isinstance(node, ast.arg):
            other.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            other.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            other.update(node.names)
    return {name: path for name, path in bound.items() if name not in other}


def _none_fallbacks(tree):
    """The ids of the Name nodes that set an optionally imported module to None where its import fails (`try:
    import kornia_rs` / `except ImportError: kornia_rs = None`): with the module installed the name is the module,
    so these assignments do not make it ambiguous (_bound_by_import)."""
    return {id(target) for target, _, _ in _optional_bindings(tree)}


def _optional_bindings(tree):
    """Yield (Name node, module, line of its import) for each `NAME = None` in an except handler of a `try:` whose
    body imports NAME (`import torch_cluster`, `import a.b as NAME`)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        imported = {
            a.asname or a.name.split(".")[0]: (a.name, statement.lineno)
            for statement in node.body
            if isinstance(statement, ast.Import)
            for a in statement.names
        }
        for handler in node.handlers:
            for statement in handler.body:
                if (
                    isinstance(statement, ast.Assign)
                    and isinstance(statement.value, ast.Constant)
                    and statement.value.value is None
                ):
                    for target in statement.targets:
                        if isinstance(target, ast.Name) and target.id in imported:
                            yield (target,) + imported[target.id]


def optional_imports(path, limit=MAX_SOURCE_BYTES):
    """{name: (module, line)} of the modules the file at `path` imports optionally, binding the name to None where
    the import fails (_optional_bindings: `try: import torch_cluster` / `except ImportError: torch_cluster = None`,
    PyG 2.3's nn/pool/__init__.py:17); {} when it cannot be read or parsed."""
    try:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(limit))
    except (OSError, SyntaxError, ValueError):
        return {}
    found = {}
    for target, module, line in _optional_bindings(tree):
        found.setdefault(target.id, (module, line))
    return found


def _chain(node, bound):
    """The import path a call's callee spells (`librosa.filters.mel`), or None when it is not a name the file binds
    by import followed by attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in bound:
        return None
    return ".".join([bound[node.id]] + parts[::-1])


def _made_objects(tree, bound):
    """{name: import path of what made it} for the names the file binds exactly once, by an assignment from a call of
    a name it imports (`fabric = L.Fabric(accelerator="cuda")` after `import lightning as L`), and nowhere else
    (no other assignment, parameter, loop target or import of that name)."""
    stores, made = {}, {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, ast.arg):
            stores[node.arg] = stores.get(node.arg, 0) + 2
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stores[node.name] = stores.get(node.name, 0) + 2
        elif isinstance(node, ast.alias):
            name = node.asname or node.name.split(".")[0]
            stores[name] = stores.get(name, 0) + 2
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call)
        ):
            dotted = _chain(node.value.func, bound)
            if dotted:
                made[node.targets[0].id] = dotted
    return {name: dotted for name, dotted in made.items() if stores.get(name) == 1}


def calls_in(path, limit=MAX_BYTES):
    """The Calls (_calls) of the Python file at `path` (an installed package's module), [] for a file over `limit`
    bytes or that does not parse."""
    try:
        with open(path, "rb") as handle:
            source = handle.read(limit + 1)
        if len(source) > limit:
            return []
        text = source.decode("utf-8", "replace")
        return _calls(ast.parse(source, filename=path), path, text)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return []


def _segment(lines, node):
    """The source text of `node` from the file's `lines` (ast.get_source_segment, without splitting the text again
    for each node), or "..." where the node has no position. Columns are UTF-8 byte offsets, as ast gives them."""
    end = getattr(node, "end_lineno", None)
    if end is None or node.lineno < 1 or end > len(lines):
        return "..."
    first, last = node.lineno - 1, end - 1
    parts = [line.encode("utf-8") for line in lines[first : last + 1]]
    if first == last:
        return parts[0][node.col_offset : node.end_col_offset].decode("utf-8", "replace")
    parts[0], parts[-1] = parts[0][node.col_offset :], parts[-1][: node.end_col_offset]
    return b"".join(parts).decode("utf-8", "replace")


def _calls(tree, path, text, limit=MAX_CALLS):
    """The Calls in a parsed file (`text`: its source) of names it binds by import (_bound_by_import), skipping those
    the code guards: in the body of a `try:` (what it catches is not read), under an `if` testing GUARDS, or in
    _guarded_parts. Nodes are visited with a stack (no recursion)."""
    bound = _bound_by_import(tree)
    if not bound:
        return []
    made = _made_objects(tree, bound)
    guarded, found, lines = _guarded_parts(tree), [], None
    stack = [(tree, False, False)]
    while stack and len(found) < limit:
        node, deferred, quiet = stack.pop()
        if isinstance(node, ast.Call) and not quiet and id(node) not in guarded:
            dotted, member = _chain(node.func, bound), ""
            if dotted is None and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                dotted, member = made.get(node.func.value.id), node.func.attr
            unpacks = any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords)
            if dotted and not unpacks:
                lines = text.splitlines(True) if lines is None else lines
                arguments = tuple(_segment(lines, a)[:ARGUMENT_CHARS].replace("\n", " ") for a in node.args)
                found.append(
                    Call(
                        dotted=dotted,
                        positional=len(node.args),
                        arguments=arguments,
                        keywords=tuple(k.arg for k in node.keywords),
                        file=path,
                        line=node.lineno,
                        deferred=deferred,
                        member=member if dotted else "",
                    )
                )
        inner = deferred or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for field, value in ast.iter_fields(node):
            hushed = quiet or (isinstance(node, ast.Try) and field == "body")
            hushed = hushed or (isinstance(node, (ast.If, ast.IfExp)) and field != "test" and _is_guard(node.test))
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    stack.append((child, inner, hushed))
    return sorted(found, key=lambda c: (c.line, c.dotted))


def guarded_imports(path, limit=MAX_BYTES):
    """The absolute `from M import a, b` statements that the file at `path` runs at import inside a `try:` that falls
    back (_falls_back: a handler catching ImportError or broader that does not raise again), as Import records: the
    optional integrations of a package (timm 0.9's _hub.py imports get_hf_file_metadata from huggingface_hub that
    way and sets `_has_hf_hub = False` when it fails). Module-level statements only, and those nested in `if`,
    `try` and `with` there (function bodies run later). [] for a file over `limit` bytes or that does not parse."""
    try:
        with open(path, "rb") as handle:
            source = handle.read(limit + 1)
        if len(source) > limit or b"try" not in source:
            return []
        tree = ast.parse(source, filename=path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found, stack = [], [(tree.body, False)]
    while stack:
        body, guarded = stack.pop()
        for node in body:
            if isinstance(node, ast.ImportFrom) and guarded and node.level == 0 and node.module:
                names = tuple(a.name for a in node.names if a.name != "*")
                found.append(Import(module=node.module, names=names, file=path, line=node.lineno))
            elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
                stack.append((node.body, guarded or _falls_back(node)))
                stack.extend(
                    (part, guarded) for part in [node.orelse, node.finalbody] + [h.body for h in node.handlers]
                )
            elif isinstance(node, (ast.If, ast.With)):
                stack.extend((part, guarded) for part in (node.body, getattr(node, "orelse", [])))
    return sorted(found, key=lambda i: i.line)


def _dotted(node, aliases):
    """The torch name an attribute chain spells (`F.silu` with F bound to torch.nn.functional), else None."""
    chain, base = [node.attr], node.value
    while isinstance(base, ast.Attribute):
        chain.append(base.attr)
        base = base.value
    if isinstance(base, ast.Name) and base.id in aliases:
        bound = aliases[base.id]
        if bound.startswith("="):  # another module: its name one level deep
            return "%s.%s" % (bound[1:], chain[-1])
        return ".".join([bound] + chain[::-1])
    return None


def _guarded_parts(tree):
    """The nodes an expression guards itself: the operands of `and` after a GUARDS test (`ok and torch.x`), and
    both branches of `a if GUARDS-test else b`."""
    guarded = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            for i, value in enumerate(node.values[1:], 1):
                if any(_is_guard(v) for v in node.values[:i]):
                    guarded.update(id(n) for n in ast.walk(value))
        elif isinstance(node, ast.IfExp) and _is_guard(node.test):
            guarded.update(id(n) for part in (node.body, node.orelse) for n in ast.walk(part))
    return guarded


def _uses(tree, path, uses, aliases, deferred=False):
    """Append the dotted names (attribute chains on a name bound to torch, or one level into another module) in
    `tree` to `uses`, with the keywords of the calls made on them."""
    if tree is None or not aliases:
        return
    for top in [tree] if isinstance(tree, ast.AST) else tree:
        guarded = _guarded_parts(top)
        for node in ast.walk(top):
            if len(uses) >= MAX_USES or id(node) in guarded:
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                keywords = tuple(k.arg for k in node.keywords if k.arg)
                strings = [a.value for a in node.args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                first = node.args[0] if node.args else None
                argument = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
                second = strings[1] if argument and len(strings) == 2 else ""
                dotted = _dotted(node.func, aliases) if keywords or argument else None
                if dotted and dotted.startswith("torch"):
                    uses.append(
                        Use(
                            dotted=dotted,
                            file=path,
                            line=node.lineno,
                            keywords=keywords,
                            deferred=deferred,
                            argument=argument[:200],
                            second=second[:200],
                        )
                    )
            elif isinstance(node, ast.Attribute):
                dotted = _dotted(node, aliases)
                if dotted:
                    uses.append(Use(dotted=dotted, file=path, line=node.lineno, deferred=deferred))


# a VCS requirement of a GitHub or GitLab repository, as pip writes it (`git+https://github.com/openai/CLIP.git`,
# optionally `@ref` and `#egg=`): the host, the owner and the repository's name
VCS_URL = re.compile(r"git\+https?://(github\.com|gitlab\.com)/([\w.-]+)/([\w.-]+?)(?:\.git)?(?=[@#\s'\"]|$)")


@dataclasses.dataclass(frozen=True)
class Source:
    """A repository the project's code or requirements install a package from (`git+https://github.com/openai/
    CLIP.git` in FastSAM's prompt.py): `url` as written, `repository` ("openai/CLIP"), and where it is written."""

    url: str
    repository: str
    file: str
    line: int

    def where(self):
        return "%s:%d" % (os.path.basename(self.file) if os.path.isabs(self.file) else self.file, self.line)


def vcs_sources(files, requirements=(), limit=MAX_BYTES):
    """The Sources (VCS_URL) written in the project's `files` (Python source read as text, `limit` bytes each) and
    requirements lines (Requirement), in that order, each repository once."""
    found = {}
    for path in files:
        try:
            with open(path, "rb") as handle:
                text = handle.read(limit).decode("utf-8", "replace")
        except OSError:
            continue
        if "git+" not in text:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for match in VCS_URL.finditer(line):
                repository = "%s/%s" % (match.group(2), match.group(3))
                found.setdefault(repository, Source(url=match.group(0), repository=repository, file=path, line=number))
    for item in requirements:
        for match in VCS_URL.finditer(item.text):
            repository = "%s/%s" % (match.group(2), match.group(3))
            found.setdefault(repository, Source(url=match.group(0), repository=repository, file=item.file,
                                                line=item.line))  # fmt: skip
    return list(found.values())


def _requirements(root):
    found = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if not (name.startswith("requirements") and name.endswith(".txt")) or not os.path.isfile(path):
            continue  # regular files only: a FIFO would block the read
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = [next(handle, "") for _ in range(MAX_REQUIREMENTS)]
        except OSError:
            continue
        for number, line in enumerate(lines, 1):
            text = line.split(" #")[0].strip()
            if text and not text.startswith(("#", "-", "git+", "http:", "https:", "file:", ".")) and "://" not in text:
                found.append(Requirement(text=text, file=path, line=number))
    return found


# A launch script's rendezvous port: `MASTER_PORT=8514` (export or not), torchrun's `--master-port 8514` /
# `--master_port=8514`, accelerate launch's `--main_process_port 8514`, `--rdzv-endpoint host:8514`
LAUNCH_PORT = re.compile(
    rb"(?:\bMASTER_PORT\s*=\s*[\"']?|--master[_-]port[= ]+|--main_process_port[= ]+|--rdzv[_-]endpoint[= ]+\S+?:)"
    rb"(\d{2,5})\b"
)


# A launch script's variable: `export NAME=value`, `NAME=value` on its own or before a command (POSIX sh's
# assignment words); a value quoted or plain, without expansions
SCRIPT_SETTING = re.compile(
    rb"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"$`\n]*\"|'[^'\n]*'|[^\s;#&|$`\"']*)(?=[\s;]|$)",
    re.M,
)


def _launch_scripts(root):
    """The regular `*.sh` files of `root`, at most MAX_FILES, in name order, as (name, text of at most MAX_BYTES)."""
    try:
        names = sorted(n for n in os.listdir(root) if n.endswith(".sh") and os.path.isfile(os.path.join(root, n)))
    except OSError:
        return []
    found = []
    for name in names[:MAX_FILES]:  # regular files only: a FIFO named *.sh would block the read
        try:
            with open(os.path.join(root, name), "rb") as handle:
                found.append((name, handle.read(MAX_BYTES)))
        except OSError:
            continue
    return found


def launched_as_path(relative, root=None):
    """`(script name, line)` of the first line of the working directory's launch scripts (`*.sh`) that starts the
    Python file `relative` (`torchtitan/train.py`) by its path, through `python`, `torchrun`, `accelerate launch` or
    `deepspeed`, not as a module (`-m`); None when none does."""
    root = os.path.abspath(root or os.getcwd())
    target = relative.replace(os.sep, "/")
    started = re.compile(
        rb"(?:python[\d.]*|torchrun|accelerate\s+launch|deepspeed)\b(?:(?!\s-m\s)[^\n])*?(?:^|[\s=\"'])(?:\./)?"
        + re.escape(target.encode())
        + rb"(?=[\s\"';]|$)",
        re.M,
    )
    for name, text in _launch_scripts(root):
        first, command = 1, b""
        for number, line in enumerate(text.split(b"\n"), 1):
            command += line.rstrip(b"\r")
            if command.endswith(b"\\"):  # continued on the next line: one command
                command = command[:-1] + b" "
                continue
            if started.search(command):
                return name, first
            first, command = number + 1, b""
    return None


def script_settings(root=None):
    """The Settings the working directory's launch scripts (`*.sh`) make: `export NAME=value` and `NAME=value`
    assignments whose value holds no expansion, in file order (the file is named by its path under `root`)."""
    root = os.path.abspath(root or os.getcwd())
    found = []
    for name, text in _launch_scripts(root):
        for match in SCRIPT_SETTING.finditer(text):
            value = match.group(2).decode("utf-8", "replace")
            if value[:1] in "\"'":
                value = value[1:-1]
            found.append(
                Setting(
                    name=match.group(1).decode(),
                    value=value,
                    file=os.path.join(root, name),
                    line=text[: match.start(1)].count(b"\n") + 1,
                )
            )
    return found


def launch_ports(root=None):
    """[(port, `file:line`)] of the rendezvous ports the shell scripts in `root` (default: the working directory;
    its own `*.sh`, at most MAX_FILES of MAX_BYTES each) give their jobs, in file order; [] when it cannot be
    listed."""
    found = []
    for name, text in _launch_scripts(os.path.abspath(root or os.getcwd())):
        for match in LAUNCH_PORT.finditer(text):
            port = int(match.group(1))
            if 0 < port < 65536 and port not in [p for p, _ in found]:
                found.append((port, "%s:%d" % (name, text[: match.start()].count(b"\n") + 1)))
    return found


def requirements_here(root=None):
    """The requirements files' lines (Requirement) in `root` (default: the working directory); () when it cannot be
    listed."""
    try:
        return tuple(_requirements(os.path.abspath(root or os.getcwd())))
    except OSError:
        return ()


def requirement_for(module, requirements, known=None):
    """The Requirement among `requirements` that installs the top-level `module`, or None. A line matches when its
    project name (PEP 508, normalised as PEP 503 does) is the module's name, `known` (the distribution a table
    names), the module's name with a `py`/`python-` prefix or a `-python` suffix (PyYAML, python-dateutil), or
    starts with the module's name followed by `-` (hydra_configs from hydra-configs-torch). Exact matches win."""
    wanted = distributions.canonical(module)
    exact = {wanted, distributions.canonical(known)} if known else {wanted}
    exact |= {"py" + wanted, "python-" + wanted, wanted + "-python"}
    prefixed = None
    for item in requirements:
        found = PROJECT_NAME.match(item.text)
        if not found:
            continue
        name = distributions.canonical(found.group(0))
        if name in exact:
            return item
        if prefixed is None and name.startswith(wanted + "-"):
            prefixed = item
    return prefixed


@functools.lru_cache(maxsize=None)
def is_stdlib(top):
    """True for a module of Python's standard library: sys.stdlib_module_names (3.10+), else where importlib finds it
    (built in, frozen, or in sysconfig's stdlib folder outside site-packages; nothing is loaded)."""
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return top in names or top == "__future__"
    if top in sys.builtin_module_names:
        return True
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    origin = (spec.origin or "") if spec is not None else ""
    stdlib = sysconfig.get_paths().get("stdlib") or ""
    return origin in ("built-in", "frozen") or (
        bool(stdlib) and origin.startswith(stdlib + os.sep) and "-packages" not in origin
    )


_HANDED = {}  # (root, ignore) -> Project: scans another process made and handed over (hand_over, take)


def hand_over(ignores, root=None):
    """Scan `root` (default: the working directory) once per `ignore` tuple in `ignores` and return the Projects as
    text for take() in another process of the same checks: verify's parent scans while its worker imports torch,
    so the worker's project and torchaudio lines need not read the folder again after it. Returns None when a scan
    is not possible (then the other process scans for itself). The scans are kept for scan() in this process too."""
    import base64
    import pickle

    root = os.path.abspath(root or os.getcwd())
    scans = {(root, tuple(ignore)): scan(root, ignore) for ignore in ignores}
    if None in scans.values():
        return None
    _HANDED.update(scans)
    return base64.b64encode(pickle.dumps(scans, protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")


def take(text):
    """Keep the Projects hand_over() made in the parent, for scan() to return instead of reading the folder again.
    `text` comes from the parent's own pipe (verify's worker state), never from a file of the project. Returns the
    number kept; text that does not decode keeps nothing (scan() reads the folder itself)."""
    import base64
    import binascii
    import pickle

    _HANDED.clear()
    if not isinstance(text, str):
        return 0
    try:
        scans = pickle.loads(base64.b64decode(text.encode("ascii"), validate=True))
    except (ValueError, binascii.Error, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return 0
    if isinstance(scans, dict):
        _HANDED.update((key, found) for key, found in scans.items() if isinstance(found, Project))
    return len(_HANDED)


def scan(root=None, ignore=()) -> Optional[Project]:
    """Return the Project in `root` (default: the working directory), or None when it cannot be listed. `ignore`:
    top-level modules whose imports do not matter to the caller (a file importing nothing else is not parsed). A
    scan of the same root and `ignore` handed over by the parent (take) is returned as it is."""
    root = os.path.abspath(root or os.getcwd())
    handed = _HANDED.get((root, tuple(ignore)))
    if handed is not None:
        return handed
    try:
        files = sources(root)
        requirements = _requirements(root)
    except OSError:
        return None
    local = _local_names(root, files)
    imports, seen, uses, settings, own_imports, package_files, package_scripts = [], set(), [], [], [], [], []
    calls = []
    # folders without __init__.py: Python imports them as namespace packages only when nothing installed has the
    # name, so an import of one is read (a source checkout beside the code: verify's project line)
    namespaces = {n for n in local if os.path.isdir(os.path.join(root, n)) and not _has_init(os.path.join(root, n))}
    skip = (frozenset(local) - namespaces) | frozenset(ignore)
    for path in files:
        top = os.path.relpath(path, root).split(os.sep)[0]
        # the names each script uses of the packages it imports; the project's own packages' files are read whole
        # by local_package_files() where its scripts import them
        own = None if top != os.path.basename(path) and _has_init(os.path.join(root, top)) else uses
        marker = None
        if own is None:  # a file of the project's own package: only the JIT builds of its uses are kept
            own, marker = [], b"cpp_extension"
            package_files.append(own)
        if marker is not None and len(package_scripts) < MAX_USES and _is_script(path) and not _package_main(path):
            # a script inside package `top`: its imports of `top` by that name
            package_scripts += [i for i in _imports(path) if i.top == top][:1]
        for item in _imports(path, skip, own, settings=settings, uses_if=marker, calls=calls):
            key = (item.module, item.names)
            scripts = os.path.dirname(path) == root  # the folder's own scripts
            if item.top in local and key not in seen and scripts and len(own_imports) < MAX_USES:
                own_imports.append(item)  # the folder's own scripts' imports of its packages (pretrain_gpt.py's)
            if item.top in local or is_stdlib(item.top) or key in seen:
                continue
            seen.add(key)
            imports.append(item)
    return Project(
        root=root,
        files=tuple(files),
        imports=tuple(imports),
        requirements=tuple(requirements),
        local=tuple(sorted(local)),
        settings=tuple(settings) + tuple(script_settings(root)),
        local_imports=tuple(own_imports),
        jit_builds=tuple(u for u in uses + [u for f in package_files for u in f] if u.dotted in JIT_BUILDS),
        package_scripts=tuple(package_scripts),
        torch_uses=tuple(u for u in _unique(uses) if u.dotted.split(".")[0] == "torch"),
        hub_repos=tuple(
            dict.fromkeys((u.argument, u.where()) for u in uses if u.dotted in HUB_CALLS and HUB_REPO.match(u.argument))
        ),
        hub_entries=tuple(
            dict.fromkeys(
                (u.argument, u.second, u.where())
                for u in uses
                if u.dotted == "torch.hub.load" and HUB_REPO.match(u.argument) and u.second.isidentifier()
            )
        ),
        package_calls=tuple(
            c
            for c in calls
            if c.dotted.split(".")[0] not in local
            and not is_stdlib(c.dotted.split(".")[0])
            and c.dotted.split(".")[0] != "torch"
        )[:MAX_CALLS],
        package_uses=tuple(
            u
            for u in _unique(uses)
            if u.dotted.split(".")[0] not in local
            and not is_stdlib(u.dotted.split(".")[0])
            and u.dotted.split(".")[0] != "torch"
        ),
    )


def _unique(uses):
    """`uses` without repeats of a name and its keywords, the first of each kept, in order."""
    return tuple({(u.dotted, u.keywords): u for u in reversed(uses)}.values())[::-1]


HUB_CALLS = ("torch.hub.load", "torch.hub.list", "torch.hub.help")
# torch.utils.cpp_extension's just-in-time builds: they call verify_ninja_availability() first ("Ninja is required to
# load C++ extensions"; torch/utils/cpp_extension.py, _jit_compile -> _write_ninja_file_and_build_library)
JIT_BUILDS = ("torch.utils.cpp_extension.load", "torch.utils.cpp_extension.load_inline")
PROJECT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")  # PEP 508's name, at a line's start
HUB_REPO = re.compile(r"^[\w.-]+/[\w.-]+(?::[\w./-]+)?$")  # torch.hub's `repo_owner/repo_name[:ref]`


def _hubconfs(hub_dir, repo, limit=MAX_BYTES):
    """Yield (folder, parsed hubconf.py) of `repo` (`pytorch/fairseq:main`) in its torch.hub cache folder `hub_dir`
    (torch.hub.get_dir()), read without running it. torch.hub names the folder `owner_name_ref` (torch/hub.py,
    _get_cache_or_reload: `/` in the ref becomes `_`); without a ref, its default branch's (`main`, else
    `master`)."""

    owner, _, rest = repo.partition("/")
    name, _, ref = rest.partition(":")
    refs = [ref.replace("/", "_")] if ref else ["main", "master"]  # no ref: the default branch torch.hub takes
    folders = [os.path.join(hub_dir, "%s_%s_%s" % (owner, name, r)) for r in refs]
    for folder in [f for f in folders if os.path.isdir(f)]:
        path = os.path.join(folder, "hubconf.py")
        try:
            with open(path, "rb") as handle:
                source = handle.read(limit + 1)
            if len(source) > limit:
                continue
            yield folder, ast.parse(source, filename=path)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue


def hub_dependencies(hub_dir, repo):
    """The `dependencies` list (module names) that the cached hubconf.py of `repo` declares (_hubconfs); (folder,
    [names]) or None when it is not cached."""
    for folder, tree in _hubconfs(hub_dir, repo):
        for node in tree.body:
            targets = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
            if "dependencies" in targets and isinstance(node.value, (ast.List, ast.Tuple)):
                names = [e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
                return folder, names
        return folder, []
    return None


def hub_entry_lacking(hub_dir, repo, entry):
    """(folder, date) of the cached copy of `repo` (_hubconfs) whose hubconf.py binds no top-level name `entry` (a
    def, a class, an assignment or an import; not judged when it star-imports or changes its globals at run time):
    torch.hub.load(repo, entry) fails there with "Cannot find callable ENTRY in hubconf" (torch/hub.py,
    _load_entry_from_hubconf). `date`: its hubconf.py's modification day (YYYY-MM-DD). None otherwise."""
    import time

    for folder, tree in _hubconfs(hub_dir, repo):
        bound = set()  # every name the file binds anywhere (under `try:` and `if` too): never too few
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                if any(a.name == "*" for a in node.names):
                    return None
                bound.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bound.add(node.id)
        if entry in bound or "globals" in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}:
            return None
        try:
            day = time.strftime("%Y-%m-%d", time.localtime(os.path.getmtime(os.path.join(folder, "hubconf.py"))))
        except (OSError, ValueError, OverflowError):
            day = None
        return folder, day
    return None


# A package's files, sieved as text before any is parsed: only the files that spell a name worth judging are
# parsed (transformers' top-level modules: 60 files, 3 MB).
MAX_PACKAGE_FILES = 2000
MAX_PACKAGE_FILE_BYTES = 2 << 20
TORCH_CHAIN = re.compile(rb"(?<![\w.])torch((?:\.[A-Za-z_]\w*)+)")
FROM_TORCH = re.compile(rb"^[ \t]*from[ \t]+(torch(?:\.\w+)*)[ \t]+import[ \t]+\(?([\w \t,]+)", re.M)


@dataclasses.dataclass(frozen=True)
class Spelled:
    """One Python file and what its text spells (comments and strings included: a sieve, not a reading): `names`,
    the torch names written out (`torch.float8_e4m3fn`; `torch.nn.functional.silu` from `from torch.nn.functional
    import silu`); `words`, those of the caller's `words` that occur in it."""

    path: str
    names: Tuple[str, ...]
    words: Tuple[str, ...] = ()


def imports_of(path):
    """The absolute imports of the Python file at `path` outside `try:` and `if TYPE_CHECKING:` (_imports), as
    Import records; [] for a file that cannot be read or parsed."""
    return _imports(path)


def module_source(module, root=None):
    """The source file of the dotted `module`: in the folder `root` first (the project's, as `python script.py`
    there finds it), else in the folder importlib's PathFinder finds its top-level package in (nothing imported);
    None when it is not a `.py` file found so."""
    parts = module.split(".")
    folders = [root] if root else []
    try:
        spec = importlib.machinery.PathFinder.find_spec(parts[0])
    except (ImportError, ValueError):
        spec = None
    folders += [os.path.dirname(p) for p in (getattr(spec, "submodule_search_locations", None) or ())]
    for folder in folders:
        base = os.path.join(folder, *parts)
        for candidate in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(candidate):
                return candidate
    return None


# module code that binds names at run time, which no reading of its text can list: multiprocess 0.70's __init__.py
# does `globals().update((name, getattr(context._default_context, name)) for name in ...)` (so `Pool` is there);
# transformers' `sys.modules[__name__] = _LazyModule(...)`; lazy_loader's `__getattr__, ... = lazy.attach(...)`
DYNAMIC_NAMES = (
    rb"globals\(\)\s*(?:\.update|\[)|sys\.modules\[__name__\]|setattr\(sys\.modules|__dict__\.update|"
    rb"\battach(?:_stub)?\("
)


def may_define(path, name, limit=MAX_SOURCE_BYTES):
    """True when the module source at `path` names `name` anywhere as a word (a multi-line import of it), imports
    with `*`, defines a module `__getattr__`, binds names at run time (DYNAMIC_NAMES), or has a submodule or extension
    of that name beside it: it may provide
    the name in ways a line-by-line reading misses. True too where it cannot be read."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(limit)
    except OSError:
        return True
    return may_define_text(path, text, name)


def may_define_text(path, text, name):
    """may_define for the module at `path` whose source `text` (bytes) is already read."""
    folder = os.path.dirname(path)
    if os.path.basename(path) == "__init__.py" and any(n == name or n.startswith(name + ".") for n in _listing(folder)):
        return True
    return bool(
        re.search(rb"\b%s\b|import\s*\*|def\s+__getattr__|%s" % (re.escape(name.encode()), DYNAMIC_NAMES), text)
    )


def _listing(folder, limit=MAX_ENTRIES):
    try:
        return sorted(os.listdir(folder))[:limit]
    except OSError:
        return []


def package_files(folder, loaded=()):
    """The files of the installed package in `folder` that its users' code runs first: its top-level `*.py` modules
    (its core), then the files of `loaded` (module paths) inside it, at most MAX_PACKAGE_FILES."""
    try:
        files = sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".py"))
    except OSError:
        files = []
    inside = os.path.join(folder, "")
    files += sorted(p for p in set(loaded) - set(files) if p and p.startswith(inside) and p.endswith(".py"))
    return files[:MAX_PACKAGE_FILES]


def local_package_files(root, tops, limit=MAX_PACKAGE_FILES):
    """The `*.py` files of the project's own packages `tops` (folders of `root` with an __init__.py), all their
    subfolders included (not SKIP_FOLDERS, hidden or tests), at most `limit` in all: the code the project's scripts
    import, read past the immediate subfolders scan() reads; at most MAX_ENTRIES * 50 folder entries seen."""
    found, seen = [], 0
    for top in tops:
        folder = os.path.join(root, top)
        if not os.path.isfile(os.path.join(folder, "__init__.py")):
            continue
        for here, dirs, names in os.walk(folder):
            seen += len(dirs) + len(names)
            dirs[:] = sorted(d for d in dirs if d not in SKIP_FOLDERS and not d.startswith((".", "_")))
            found += [os.path.join(here, n) for n in sorted(names) if n.endswith(".py")]
            if len(found) >= limit or seen > MAX_ENTRIES * 50:  # a data folder inside a package is not listed whole
                return found[:limit]
    return found


def packages_beside(files, limit=200):
    """`files` (the scan's) and then the *.py files of the packages (folders with an __init__.py) in the folders
    those files are in (local_package_files): the modules a script imports from beside it, read deeper than scan()
    goes (lora-scripts' sd-scripts/library/train_util.py under sd-scripts/train_network.py). At most `limit` files
    added; folders of more than MAX_ENTRIES entries are not listed."""
    found = list(files)
    for folder in dict.fromkeys(os.path.dirname(f) for f in files):
        try:
            names = sorted(os.listdir(folder))[:MAX_ENTRIES]
        except OSError:
            continue
        tops = [n for n in names if not n.startswith(".") and _has_init(os.path.join(folder, n))]
        for path in local_package_files(folder, tops, limit=limit - (len(found) - len(files))):
            if path not in found:
                found.append(path)
        if len(found) - len(files) >= limit:
            break
    return found


def compiled_here(root, limit=200, depth=4):
    """The compiled modules (`*.so`, `*.pyd`) under `root` (default: the working directory) built in place by a source
    checkout (`python setup.py develop`, `pip install -e .`), at most `limit`, `depth` folders down, not in
    SKIP_FOLDERS, hidden folders or environments."""
    root = os.path.abspath(root or os.getcwd())
    found, seen = [], 0
    for here, dirs, names in os.walk(root):
        level = os.path.relpath(here, root).count(os.sep) + (here != root)
        seen += len(dirs) + len(names)
        dirs[:] = (
            []
            if level >= depth or seen > MAX_ENTRIES * 10
            else sorted(d for d in dirs if d not in SKIP_FOLDERS and not d.startswith(".") and d != "site-packages")
        )
        found += [os.path.join(here, n) for n in sorted(names) if n.endswith((".so", ".pyd")) and "." in n[:-3]]
        if len(found) >= limit:
            return found[:limit]
    return found


def spellings(paths, words=(), deadline=None):
    """Return [Spelled] for those of `paths` that mention torch, reading at most MAX_PACKAGE_FILE_BYTES of each and
    stopping at `deadline` (a time.monotonic() value). Nothing is parsed or run."""
    import time

    found = []
    encoded = [(w, w.encode()) for w in words]
    for path in paths:
        if deadline is not None and time.monotonic() > deadline:
            break
        try:
            with open(path, "rb") as handle:
                source = handle.read(MAX_PACKAGE_FILE_BYTES + 1)
        except OSError:
            continue
        if len(source) > MAX_PACKAGE_FILE_BYTES or b"torch" not in source:
            continue
        spelled = {m.group(0).decode() for m in TORCH_CHAIN.finditer(source)}
        for module, listed in FROM_TORCH.findall(source):
            for part in listed.split(b","):
                word = part.split()
                if word:
                    spelled.add("%s.%s" % (module.decode(), word[0].decode()))
        words_in = tuple(w for w, b in encoded if b in source)
        found.append(Spelled(path=path, names=tuple(sorted(spelled)), words=words_in))
    return found


def file_torch_uses(path):
    """The torch names the file at `path` uses outside the guards _statements reads, as Use records ([] when it
    cannot be read or parsed)."""
    uses = []
    _imports(path, uses=uses, limit=MAX_PACKAGE_FILE_BYTES)
    return [u for u in uses if u.dotted == "torch" or u.dotted.startswith("torch.")]
