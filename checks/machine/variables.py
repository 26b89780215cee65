"""The variables torch and the runtimes it loads read, each value checked against its documented grammar (read
before torch is imported; nothing here imports torch).

Sources of the grammars:
- OpenMP: the OpenMP API 5.2 specification, chapter 21 "Environment Variables" (OMP_NUM_THREADS: a list of positive
  integers; OMP_PROC_BIND: true, false, or a list of primary/master/close/spread; OMP_PLACES: an abstract name
  threads/cores/ll_caches/numa_domains/sockets with an optional (count), or a list of {...} places; OMP_SCHEDULE:
  [modifier:]kind[,chunk]; OMP_DYNAMIC/OMP_NESTED/OMP_CANCELLATION/OMP_DISPLAY_AFFINITY: true or false;
  OMP_WAIT_POLICY: active or passive; OMP_STACKSIZE: size[B|K|M|G]; OMP_THREAD_LIMIT: a positive integer;
  OMP_MAX_ACTIVE_LEVELS, OMP_MAX_TASK_PRIORITY, OMP_DEFAULT_DEVICE: a non-negative integer; OMP_DISPLAY_ENV:
  true, false or verbose), and GCC's libgomp manual ("GOMP_CPU_AFFINITY": CPU numbers and ranges a-b[:stride]
  separated by spaces or commas; "GOMP_SPINCOUNT": a count with k/M/G/T, or infinite). libgomp (libgomp/env.c,
  the copy torch's wheels ship in torch/lib) ignores an invalid value and prints "libgomp: Invalid value for
  environment variable NAME" (OMP_SCHEDULE: "Unknown value for environment variable OMP_SCHEDULE"; checked with
  torch 2.13's libgomp.so.1: OMP_NUM_THREADS=all, 0, -1 and 2abc are all rejected so).
- torch: aten/src/ATen/ParallelCommon.cpp (get_env_num_threads) reads OMP_NUM_THREADS and MKL_NUM_THREADS with
  std::stoi and a check that the number is > 0, and falls back to one thread per core otherwise.
- Intel oneMKL developer guide: "MKL_NUM_THREADS" (a positive integer), "Dynamically Selecting the Interface and
  Threading Layer" (MKL_THREADING_LAYER: INTEL, SEQUENTIAL, GNU, TBB, PGI; MKL_INTERFACE_LAYER: LP64 or ILP64,
  optionally with ,GNU), MKL_DYNAMIC: TRUE or FALSE.
- TORCH_CUDA_ARCH_LIST: the installed torch's torch/utils/cpp_extension.py, _get_cuda_arch_flags(): spaces become
  semicolons, the named architectures (`named_arches`) are expanded, and each entry must be one of
  `supported_arches`, with or without "+PTX", else it raises "Unknown CUDA arch (X) or GPU not supported". Both lists
  are read from that file's source (ast), never written here.
- PYTORCH_CUDA_ALLOC_CONF: torch's "CUDA memory management" notes (comma-separated option:value pairs); the options a
  release knows are the literals its parser compares keys with (c10/cuda/CUDAAllocatorConfig.cpp, from torch 2.9
  also c10/core/AllocatorConfig.cpp), which are NUL-terminated strings in torch/lib's libc10_cuda.so / libc10.so;
  an unknown key raises "Unrecognized CachingAllocator option: KEY" (2.0) / "Unrecognized key 'KEY' ..." (2.9+).
- PYTHONOPTIMIZE: Python's documentation (Command line and environment: -OO "Remove docstrings in addition to the -O
  optimizations"; PYTHONOPTIMIZE "If set to an integer, it is equivalent to specifying -O multiple times", any other
  non-empty string counts as 1). At level 2 every __doc__ is None, so code that uses a docstring as a string raises:
  torch 2.0's torch/_functorch/deprecated.py setup_docs (`torch_func_api.__doc__ + warning_note`, pytorch/pytorch
  #100680, guarded by `sys.flags.optimize < 2` in #100750). Which installed files do so is read from their source.
"""

import ast
import dataclasses
import os
import re
import sys
from typing import Tuple

OPENMP = "OpenMP runtime (libgomp / libiomp5)"
_TRUE_FALSE = r"(?i)\s*(true|false)\s*"
_NONNEGATIVE = r"\s*\d+\s*"
# name -> (grammar regex (fullmatch), the grammar in words, who reads it)
GRAMMARS = {
    "OMP_NUM_THREADS": (
        r"\s*0*[1-9]\d*\s*(,\s*0*[1-9]\d*\s*)*",
        "a positive integer (or a comma list of them)",
        OPENMP,
    ),
    "OMP_THREAD_LIMIT": (r"\s*0*[1-9]\d*\s*", "a positive integer", OPENMP),
    "OMP_MAX_ACTIVE_LEVELS": (_NONNEGATIVE, "a non-negative integer", OPENMP),
    "OMP_MAX_TASK_PRIORITY": (_NONNEGATIVE, "a non-negative integer", OPENMP),
    "OMP_DEFAULT_DEVICE": (_NONNEGATIVE, "a non-negative integer", OPENMP),
    "OMP_DYNAMIC": (_TRUE_FALSE, "true or false", OPENMP),
    "OMP_NESTED": (_TRUE_FALSE, "true or false", OPENMP),
    "OMP_CANCELLATION": (_TRUE_FALSE, "true or false", OPENMP),
    "OMP_DISPLAY_AFFINITY": (_TRUE_FALSE, "true or false", OPENMP),
    "OMP_DISPLAY_ENV": (r"(?i)\s*(true|false|verbose)\s*", "true, false or verbose", OPENMP),
    "OMP_WAIT_POLICY": (r"(?i)\s*(active|passive)\s*", "active or passive", OPENMP),
    "OMP_PROC_BIND": (
        r"(?i)\s*(true|false|((primary|master|close|spread)\s*(,\s*(primary|master|close|spread)\s*)*))\s*",
        "true, false, or a comma list of primary, master, close, spread",
        OPENMP,
    ),
    "OMP_PLACES": (
        r"(?i)\s*((threads|cores|ll_caches|numa_domains|sockets)\s*(\(\s*\d+\s*\))?"
        r"|(!?\{[\d\s,:!-]+\}(\s*:\s*\d+(\s*:\s*-?\d+)?)?\s*)(,\s*!?\{[\d\s,:!-]+\}(\s*:\s*\d+(\s*:\s*-?\d+)?)?\s*)*)\s*",
        "threads, cores, ll_caches, numa_domains or sockets (optionally with a (count)), or a list of {...} places",
        OPENMP,
    ),
    "OMP_SCHEDULE": (
        r"(?i)\s*((monotonic|nonmonotonic)\s*:\s*)?(static|dynamic|guided|auto)\s*(,\s*\d+\s*)?",
        "[monotonic:|nonmonotonic:]static|dynamic|guided|auto[,chunk]",
        OPENMP,
    ),
    "OMP_STACKSIZE": (r"(?i)\s*\d+\s*[bkmg]?\s*", "a size: a number with an optional B, K, M or G", OPENMP),
    "GOMP_STACKSIZE": (r"(?i)\s*\d+\s*[bkmg]?\s*", "a size: a number with an optional B, K, M or G", "libgomp"),
    "GOMP_CPU_AFFINITY": (
        r"[\s,]*\d+(\s*-\s*\d+(\s*:\s*\d+)?)?([\s,]+\d+(\s*-\s*\d+(\s*:\s*\d+)?)?)*[\s,]*",
        "CPU numbers or ranges a-b[:stride], separated by spaces or commas",
        "libgomp",
    ),
    "GOMP_SPINCOUNT": (
        r"\s*(infinite|infinity|\d+\s*[kMGT]?)\s*",
        "a count (with k, M, G or T) or infinite",
        "libgomp",
    ),
    "KMP_BLOCKTIME": (r"(?i)\s*(\d+\s*(ms|us)?|infinite)\s*", "milliseconds (an integer) or infinite", "libiomp5"),
    "MKL_NUM_THREADS": (r"\s*0*[1-9]\d*\s*", "a positive integer", "MKL and torch"),
    "MKL_DYNAMIC": (_TRUE_FALSE, "TRUE or FALSE", "MKL"),
    "MKL_THREADING_LAYER": (
        r"(?i)\s*(intel|sequential|gnu|tbb|pgi)\s*",
        "INTEL, SEQUENTIAL, GNU, TBB or PGI",
        "MKL",
    ),
    "MKL_INTERFACE_LAYER": (r"(?i)\s*(lp64|ilp64)(\s*,\s*gnu)?\s*", "LP64 or ILP64 (optionally with ,GNU)", "MKL"),
}
# What an OpenMP or MKL runtime prints or raises about a variable it rejects (libgomp/env.c; LLVM/Intel
# openmp/runtime/src/i18n/en_US.txt: "OMP: Warning #NN: NAME: ..."; ATen/ParallelCommon.cpp: "Invalid NAME variable
# value"): %s is the variable's name.
RUNTIME_EFFECTS = (
    r"(?:Invalid|Unknown) value for (?:environment|enviroment) variable %s\b",
    r"OMP: (?:Warning|Error) #\d+: [^\n]*\b%s\b",
    r"Invalid %s variable value",
)
ARCH_EFFECT = r"Unknown CUDA arch \(([^)\n]*)\) or GPU not supported"
ALLOC_EFFECT = r"Unrecognized CachingAllocator option: (\w+)|Unrecognized key '(\w+)'"
# A traceback line that uses a docstring, then (within a few lines) an error about None: what -OO does.
DOCSTRING_EFFECT = r"__doc__[^\n]*\n(?:[^\n]*\n){0,4}?\w*Error: [^\n]*NoneType"
ALLOC_VARIABLES = ("PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_ALLOC_CONF")
DOC_PACKAGES = ("torch", "torchvision", "torchaudio")


@dataclasses.dataclass(frozen=True)
class Setting:
    """A variable set to a value its reader does not accept (or that breaks this torch).

    name, value: the variable as set; reader: who reads it; expected: its grammar in words; problem: what this
    value does, with its source; fix: the change that works; breaks: True where work stops (a build, an import),
    False where the reader ignores the value with a warning; effect: a regex of what the reader prints or raises
    (a diagnosis traces a failure quoting it to this variable)."""

    name: str
    value: str
    reader: str
    expected: str
    problem: str
    fix: str
    breaks: bool = False
    effect: str = ""

    def describe(self):
        """One line: `NAME='value': problem`."""
        return "%s=%r: %s" % (self.name, self.value, self.problem)

    def to_dict(self):
        return dataclasses.asdict(self)


def check_grammar(name, value):
    """Return the Setting of a variable of GRAMMARS whose value its grammar does not allow, else None."""
    if name not in GRAMMARS or value == "":
        return None
    pattern, words, reader = GRAMMARS[name]
    if re.fullmatch(pattern, value):
        return None
    if name.startswith(("OMP_", "GOMP_", "KMP_")):
        problem = (
            "not valid: %s takes %s (OpenMP 5.2 spec ch. 21; GCC's libgomp manual); the %s ignores it, printing "
            '"Invalid value for environment variable %s", and uses its default' % (name, words, reader, name)
        )
    else:
        problem = "not valid: %s takes %s (Intel oneMKL developer guide); it is ignored" % (name, words)
    if name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        problem += " (torch too: ATen's get_env_num_threads wants an integer > 0, else one thread per core)"
    example = {"OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": "4", "GOMP_CPU_AFFINITY": "0-3"}.get(name)
    fix = "set %s to %s%s, or unset it (`unset %s`)" % (
        name,
        words,
        " (e.g. `export %s=%s`)" % (name, example) if example else "",
        name,
    )
    effect = "|".join(e % re.escape(name) for e in RUNTIME_EFFECTS)
    return Setting(name=name, value=value, reader=reader, expected=words, problem=problem, fix=fix, effect=effect)


def cuda_arch_names(torch_dir):
    """Return (named_arches [(name, expansion)], supported_arches [str], takes_native) as the installed torch's
    torch/utils/cpp_extension.py _get_cuda_arch_flags() defines them (read with ast, not imported), or None where
    that file or function is missing or shaped otherwise."""
    path = os.path.join(torch_dir or "", "utils", "cpp_extension.py")
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return None
    func = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "_get_cuda_arch_flags"), None
    )
    if func is None:
        return None
    named, supported = None, None
    for node in ast.walk(func):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        try:
            if node.targets[0].id == "named_arches" and isinstance(node.value, ast.Call) and node.value.args:
                named = [tuple(pair) for pair in ast.literal_eval(node.value.args[0])]
            elif node.targets[0].id == "supported_arches":
                supported = [str(a) for a in ast.literal_eval(node.value)]
        except (ValueError, TypeError, SyntaxError):
            return None
    if supported is None:
        return None
    native = any(isinstance(n, ast.Constant) and n.value == "native" for n in ast.walk(func))
    return named or [], supported, native


def unknown_cuda_arches(value, names):
    """Return the entries of a TORCH_CUDA_ARCH_LIST value that cpp_extension's _get_cuda_arch_flags() would reject,
    by its own steps: spaces become ';', named architectures are replaced in order, then each ';' entry must be a
    supported arch with or without "+PTX". `names`: cuda_arch_names()'s answer."""
    named, supported, native = names
    if native and value == "native":
        return []
    valid = set(supported) | {s + "+PTX" for s in supported}
    expanded = value.replace(" ", ";")
    for name, arch in named:
        expanded = expanded.replace(name, arch)
    return [a for a in dict.fromkeys(expanded.split(";")) if a not in valid]


def check_cuda_arch_list(value, torch_dir, torch_version="installed"):
    """Return the Setting of a TORCH_CUDA_ARCH_LIST this torch's cpp_extension rejects, else None."""
    names = cuda_arch_names(torch_dir)
    if names is None or not value:
        return None
    unknown = unknown_cuda_arches(value, names)
    if not unknown:
        return None
    supported = names[1]
    cuda = cuda_build(torch_dir)
    shown = ", ".join(repr(a) if a == "" else a for a in unknown)
    keep = [a for a in re.split(r"[;\s]+", value) if a and a not in unknown]
    return Setting(
        name="TORCH_CUDA_ARCH_LIST",
        value=value,
        reader="torch.utils.cpp_extension",
        expected="architectures this torch knows: %s (each optionally +PTX), or the names %s"
        % (" ".join(supported), ", ".join(n for n, _ in names[0]) or "none"),
        problem="names %s, which torch %s's cpp_extension does not know (its supported_arches end at %s): building "
        'any CUDA extension stops with "Unknown CUDA arch (%s) or GPU not supported"%s'
        % (shown, torch_version, supported[-1], unknown[0], "" if cuda else " (this torch is a CPU build)"),
        fix='remove %s from TORCH_CUDA_ARCH_LIST (`export TORCH_CUDA_ARCH_LIST="%s"`), or unset it, or use a '
        "torch release whose cpp_extension knows %s" % (shown, " ".join(keep) or supported[-1], shown),
        breaks=cuda,
        effect=ARCH_EFFECT,
    )


def cuda_build(torch_dir):
    """True where the installed torch is a CUDA build: its torch/version.py (generated at build time) sets
    `cuda = 'X.Y'`, not None."""
    try:
        with open(os.path.join(torch_dir or "", "version.py"), encoding="utf-8", errors="replace") as f:
            return re.search(r"^cuda(?:\s*:[^=\n]*)?\s*=\s*['\"]\d", f.read(), re.M) is not None
    except OSError:
        return False


def allocator_keys(torch_dir):
    """Return the bytes of torch/lib's libc10_cuda.so and libc10.so (where the allocator's option names are NUL
    terminated literals beside its "Unrecognized ..." message), or b"" where neither exists."""
    data = b""
    for name in ("libc10_cuda.so", "libc10.so"):
        try:
            with open(os.path.join(torch_dir or "", "lib", name), "rb") as f:
                data += f.read()
        except OSError:
            continue
    return data


def check_alloc_conf(name, value, torch_dir, torch_version="installed"):
    """Return the Setting of a PYTORCH_CUDA_ALLOC_CONF (or PYTORCH_ALLOC_CONF) that is not option:value pairs, or
    names an option this torch's allocator does not know (its literal is absent from libc10_cuda.so / libc10.so),
    else None. Where torch/lib has neither library (a build without them), only the form is checked."""
    pairs = [p.strip() for p in re.split(r"[,\s]+", value) if p.strip()]
    malformed = [p for p in pairs if not re.fullmatch(r"\w+\s*:\s*[\w.\[\]>:]+", p)]
    fix_form = "write it as option:value pairs separated by commas (e.g. `max_split_size_mb:128`)"
    if malformed:
        return Setting(
            name=name,
            value=value,
            reader="torch's CUDA caching allocator",
            expected="option:value[,option:value...]",
            problem="%r is not an option:value pair (torch's CUDA memory management notes); the allocator stops "
            "with an error when CUDA first allocates" % malformed[0],
            fix=fix_form + ", or unset %s" % name,
            breaks=True,
            effect=ALLOC_EFFECT,
        )
    data = allocator_keys(torch_dir)
    if not re.search(rb"Unrecognized CachingAllocator option|Unrecognized key '", data):
        return None  # the parser (and its option names) is not in these libraries: a CPU build of an older torch
    unknown = [k for k in (p.split(":")[0].strip() for p in pairs) if (k.encode() + b"\0") not in data]
    if not unknown:
        return None
    return Setting(
        name=name,
        value=value,
        reader="torch's CUDA caching allocator",
        expected="options this torch's allocator knows",
        problem="names the option %s, which torch %s's allocator does not know (no such option in its libc10): "
        'the first CUDA allocation stops with "Unrecognized CachingAllocator option: %s"'
        % (", ".join(unknown), torch_version, unknown[0]),
        fix="remove %s from %s (or unset it), or use a torch release that has that option" % (", ".join(unknown), name),
        breaks=True,
        effect=ALLOC_EFFECT,
    )


def optimize_level(environ, flags_optimize=None):
    """Return Python's optimisation level for a process started with `environ`: PYTHONOPTIMIZE as an integer, any
    other non-empty string as 1 (CPython's _Py_get_env_flag), the larger of that and `flags_optimize` (this
    process's sys.flags.optimize, which -O/-OO set)."""
    value = environ.get("PYTHONOPTIMIZE", "")
    try:
        level = int(value) if value else 0
    except ValueError:
        level = 1
    level = level if level >= 0 else 1
    return max(level, flags_optimize or 0)


def docstring_uses(package_dir, limit=20):
    """Return [(relative file, line, source line, at_import)] of places in `package_dir`'s Python files that use a
    docstring as a string without a guard (an operand of + or %, the receiver of a method call such as .format, or
    the argument of textwrap.dedent / inspect.cleandoc), none of which -OO's None survives. Guarded uses (under an
    `if`/conditional expression or `or` that tests the docstring or sys.flags.optimize, or in a `try` that catches
    TypeError / AttributeError) are left out. at_import: the use is in module-level code, or in a top-level function
    that module-level code calls or applies as a decorator. Files not holding "__doc__" are not parsed."""
    found = []
    for root, dirs, files in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d not in ("test", "tests", "testing", "__pycache__"))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if b"__doc__" not in data:
                continue
            try:
                tree = ast.parse(data)
            except (SyntaxError, ValueError):
                continue
            lines = data.decode("utf-8", "replace").splitlines()
            rel = os.path.relpath(path, os.path.dirname(package_dir))
            for line, at_import in _unguarded(tree):
                found.append((rel, line, lines[line - 1].strip() if line <= len(lines) else "", at_import))
                if len(found) >= limit:
                    return found
    return found


def _unguarded(tree):
    """Yield (line, at_import) of unguarded docstring uses in a module's tree (docstring_uses)."""
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    called = set()  # top-level functions module-level code calls or decorates with
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            names.append(node.func.id)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                if isinstance(target, ast.Name):
                    names.append(target.id)
        if names and _function_of(node, parents) is None:
            called.update(names)
    for node in ast.walk(tree):
        is_doc = (isinstance(node, ast.Attribute) and node.attr == "__doc__") or (
            isinstance(node, ast.Name) and node.id == "__doc__"
        )
        if not is_doc or not isinstance(node.ctx, ast.Load):
            continue
        parent = parents.get(node)
        unsafe = (
            (isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Add, ast.Mod)))
            or (isinstance(parent, ast.Attribute) and parent.value is node)
            or (
                isinstance(parent, ast.Call)
                and node in parent.args
                and isinstance(parent.func, (ast.Attribute, ast.Name))
                and getattr(parent.func, "attr", getattr(parent.func, "id", "")) in ("dedent", "cleandoc")
            )
        )
        if not unsafe or _guarded(node, parents):
            continue
        top = _top_function(node, parents)
        yield node.lineno, top is None or top.name in called


def _function_of(node, parents):
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return node
    return None


def _top_function(node, parents):
    top = None
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            top = node
    return top


def _guarded(node, parents):
    child = node
    while child in parents:
        parent = parents[child]
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and _early_exit(parent, node.lineno):
            return True
        if isinstance(parent, (ast.If, ast.IfExp, ast.While, ast.Assert)) and child is not parent.test:
            test = ast.dump(parent.test)
            if "__doc__" in test or "optimize" in test:
                return True
        if isinstance(parent, ast.BoolOp):
            return True
        if isinstance(parent, ast.Try):
            for handler in parent.handlers:
                caught = ast.dump(handler.type) if handler.type is not None else "bare"
                if caught == "bare" or "TypeError" in caught or "AttributeError" in caught or "Exception" in caught:
                    return True
        child = parent
    return False


def _early_exit(func, line):
    """An `if` before `line` in the function's body whose test names a docstring or sys.flags.optimize and whose
    body returns or raises (`if f.__doc__ is None: return`)."""
    for stmt in func.body:
        if stmt.lineno >= line:
            return False
        if isinstance(stmt, ast.If) and any(isinstance(s, (ast.Return, ast.Raise)) for s in stmt.body):
            test = ast.dump(stmt.test)
            if "__doc__" in test or "optimize" in test:
                return True
    return False


def check_optimize(environ, package_dirs, flags_optimize=None):
    """Return the Setting of PYTHONOPTIMIZE (or -OO) at level 2 or more where an installed package of torch's stack
    uses a docstring as a string (docstring_uses), else None. breaks: one such use runs at import."""
    level = optimize_level(environ, flags_optimize)
    if level < 2:
        return None
    uses = []
    for package_dir in package_dirs:
        if package_dir and os.path.isdir(package_dir):
            uses.extend(docstring_uses(package_dir))
    if not uses:
        return None
    at_import = [u for u in uses if u[3]]
    shown = at_import or uses
    places = "; ".join("%s:%d (`%s`)" % (f, n, src[:70]) for f, n, src, _ in shown[:3])
    value = environ.get("PYTHONOPTIMIZE", "")
    return Setting(
        name="PYTHONOPTIMIZE" if value else "python -OO",
        value=value or "-OO",
        reader="the Python interpreter",
        expected="unset, 0 or 1 (2 strips docstrings, which these packages use)",
        problem="level %d strips docstrings (like -OO: every __doc__ is None, Python docs), and the installed "
        "packages use docstrings as strings%s: %s%s"
        % (
            level,
            " when imported" if at_import else "",
            places,
            " (and %d more)" % (len(shown) - 3) if len(shown) > 3 else "",
        ),
        fix="unset PYTHONOPTIMIZE (or `export PYTHONOPTIMIZE=1`: -O keeps docstrings); do not run with -OO",
        breaks=bool(at_import),
        effect=DOCSTRING_EFFECT,
    )


# The interface variables of torch's distributed backends: gloo's GLOO_SOCKET_IFNAME (comma-separated names:
# ProcessGroupGloo's env parsing), NCCL's NCCL_SOCKET_IFNAME (a list of prefixes; `^` excludes, `=` asks for exact
# names: NCCL's "Environment Variables" documentation), TensorPipe's TP_SOCKET_IFNAME (one name). What each prints for
# a name no interface has: gloo's device.cc "Unable to find address for: NAME", NCCL's "Bootstrap : no socket
# interface found" / "NET/Socket : No usable listening interface found" / "no socket interface found".
SOCKET_IFNAME = {
    "GLOO_SOCKET_IFNAME": ("gloo", r"Unable to find address for: %s"),
    "NCCL_SOCKET_IFNAME": ("NCCL", r"no socket interface found|No usable listening interface found|%s"),
    "TP_SOCKET_IFNAME": ("TensorPipe", r"%s"),
}


def interface_names():
    """This host's network interface names (socket.if_nameindex), [] where they cannot be listed."""
    import socket

    try:
        return sorted(name for _, name in socket.if_nameindex())
    except (OSError, AttributeError):
        return []


def unknown_interfaces(variable, value, names):
    """Return the interface names of a *_SOCKET_IFNAME `value` that match none of `names` (NCCL's prefix rules for
    NCCL_SOCKET_IFNAME; exact names for the others)."""
    if variable == "NCCL_SOCKET_IFNAME":
        if value.startswith("^"):
            return []  # an exclusion list cannot name a missing interface
        exact = value.startswith("=")
        wanted = [w for w in value.lstrip("=").split(",") if w]
        return [w for w in wanted if not any(n == w if exact else n.startswith(w) for n in names)]
    return [w for w in value.split(",") if w and w not in names]


def check_socket_ifname(name, value, names):
    """Return the Setting of a *_SOCKET_IFNAME naming an interface this host does not have, else None."""
    missing = unknown_interfaces(name, value, names) if names else []
    if not missing:
        return None
    reader, effect = SOCKET_IFNAME[name]
    return Setting(
        name=name,
        value=value,
        reader=reader,
        expected="one of this host's interfaces: %s" % ", ".join(names),
        problem="names no network interface of this host (%s; it has %s): %s fails when it sets up its sockets"
        % (", ".join(missing), ", ".join(names), reader),
        fix="set %s to the interface the other ranks reach (one of %s), or unset it" % (name, ", ".join(names)),
        breaks=True,
        effect="|".join(effect % re.escape(m) if "%s" in effect else effect for m in missing),
    )


# Variables that name the trusted CA certificates a download verifies its server with. SSL_CERT_FILE is read by
# Python's ssl module (ssl.get_default_verify_paths, OpenSSL's variable), so by urllib, which torch.hub downloads
# with (torch/hub.py: urllib.request.urlopen): one naming no file leaves it no CA ("CERTIFICATE_VERIFY_FAILED").
# REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE are read by requests (sessions.py merge_environment_settings), so by
# huggingface_hub: a file, or a folder of hashed certificates (adapters.py cert_verify); one naming neither makes
# each request fail ("Could not find a suitable TLS CA certificate bundle, invalid path"). SSL_CERT_DIR is not
# judged: a folder it names that does not exist leaves OpenSSL's other sources in use.
CA_PATHS = {
    "SSL_CERT_FILE": (("file",), "Python's ssl module, so urllib and torch.hub's downloads"),
    "REQUESTS_CA_BUNDLE": (("file", "folder"), "requests, so huggingface_hub's downloads"),
    "CURL_CA_BUNDLE": (("file", "folder"), "requests, so huggingface_hub's downloads"),
}


def check_ca_path(name, value):
    """Return the Setting of a CA_PATHS variable naming nothing of the kinds its reader accepts, else None."""
    kinds, reader = CA_PATHS[name]
    exists = ("file" in kinds and os.path.isfile(value)) or ("folder" in kinds and os.path.isdir(value))
    if exists and os.access(value, os.R_OK):
        return None
    return Setting(
        name=name,
        value=value,
        reader=reader,
        expected="a readable %s of CA certificates" % " or ".join(kinds),
        problem="names no readable %s: the downloads of %s fail to verify their server" % (" or ".join(kinds), reader),
        fix="point %s at the CA bundle that exists (the OS's: /etc/ssl/certs/ca-certificates.crt on Debian/Ubuntu; "
        "certifi's: `python -m certifi`), or unset it (`unset %s`)" % (name, name),
        effect=r"Could not find a suitable TLS CA certificate bundle|CERTIFICATE_VERIFY_FAILED",
    )


NCCL_SYSTEM_CONF = "/etc/nccl.conf"
NCCL_CONF_BYTES = 64 << 10
GRAPH_BYTES = 1 << 20


@dataclasses.dataclass(frozen=True)
class NcclSetting:
    """One variable NCCL reads, its value, and where it comes from (`source`: "environment", or the file that set
    it)."""

    name: str
    value: str
    source: str


def _nccl_conf_lines(path, limit=NCCL_CONF_BYTES):
    """[(name, value)] of a NCCL configuration file as NCCL reads it: each line NAME=VALUE, `#` lines skipped, the
    name up to the first `=`, nothing stripped but the newline (src/misc/param.cc setEnvFile); [] when unreadable."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return []
    pairs = []
    for line in text.split("\n"):
        if line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        pairs.append((name[:1023], value[:1023]))
    return pairs


def nccl_settings(environ=None, home=None, system_conf=NCCL_SYSTEM_CONF):
    """The NCCL_* variables NCCL will see, as NcclSettings sorted by name: NCCL loads the file NCCL_CONF_FILE names,
    else ~/.nccl.conf (the home of this uid's passwd entry, `home` to override), then /etc/nccl.conf, and sets each
    line without overwriting (`setenv(name, value, 0)`), so the environment wins, then the first file (NVIDIA/nccl
    src/misc/param.cc, initEnvFunc). Settings from those files are invisible to `env`: an image's /etc/nccl.conf
    (Azure's HPC images write NCCL_TOPO_FILE and NCCL_GRAPH_FILE there; NVIDIA/nccl#1240)."""
    environ = os.environ if environ is None else environ
    if home is None:
        try:
            import pwd

            home = pwd.getpwuid(os.getuid()).pw_dir
        except (ImportError, KeyError, AttributeError):
            home = None
    files = [environ["NCCL_CONF_FILE"]] if environ.get("NCCL_CONF_FILE") else []
    files += [os.path.join(home, ".nccl.conf")] if home and not files else []
    files.append(system_conf)
    found = {n: NcclSetting(name=n, value=v, source="environment") for n, v in environ.items() if n.startswith("NCCL_")}
    for path in files:
        for name, value in _nccl_conf_lines(path):
            if name.startswith("NCCL_") and name not in found:
                found[name] = NcclSetting(name=name, value=value, source=path)
    return tuple(found[n] for n in sorted(found))


def graph_devices(path, limit=GRAPH_BYTES):
    """The GPU device numbers an NCCL graph file (NCCL_GRAPH_FILE: `<graphs><graph ...><channel><gpu dev="0"/>`)
    names, sorted, or None when it cannot be read (NCCL's src/graph/xml.cc reads `dev` of each <gpu>)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return None
    return sorted({int(d) for d in re.findall(r"<gpu\b[^>]*\bdev=\"(\d+)\"", text)})


def collect(environ=None, torch_dir=None, torch_version=None, package_dirs=(), flags_optimize=None, interfaces=None):
    """Return a tuple of Settings: the variables of `environ` (default os.environ) whose value their reader rejects
    or that break this torch (torch_dir: the imported torch's folder; package_dirs: torch, torchvision, torchaudio
    folders for the docstring scan, which runs only at optimisation level 2)."""
    environ = os.environ if environ is None else environ
    version = torch_version or "installed"
    found = []
    for name in sorted(GRAMMARS):
        setting = check_grammar(name, environ.get(name, ""))
        if setting is not None:
            found.append(setting)
    arch = environ.get("TORCH_CUDA_ARCH_LIST", "")
    if arch and torch_dir:
        setting = check_cuda_arch_list(arch, torch_dir, version)
        if setting is not None:
            found.append(setting)
    for name in ALLOC_VARIABLES:
        if environ.get(name):
            setting = check_alloc_conf(name, environ[name], torch_dir, version)
            if setting is not None:
                found.append(setting)
    for name in SOCKET_IFNAME:
        if environ.get(name):
            names = interface_names() if interfaces is None else interfaces
            setting = check_socket_ifname(name, environ[name], names)
            if setting is not None:
                found.append(setting)
    for name in sorted(CA_PATHS):
        if environ.get(name):
            setting = check_ca_path(name, environ[name])
            if setting is not None:
                found.append(setting)
    setting = check_optimize(environ, package_dirs, sys.flags.optimize if flags_optimize is None else flags_optimize)
    if setting is not None:
        found.append(setting)
    return tuple(found)


def traced(settings, text):
    """Return the first Setting a failure text traces to: its reader's own message about it (effect), or, for a
    value that stops work (breaks), the variable's name; else None. A value its reader only ignores is not the
    cause of a failure that merely names the variable (a remedy's text, a launcher's notice)."""
    for setting in settings:
        if setting.effect and re.search(setting.effect, text or ""):
            return setting
    for setting in settings:
        if setting.breaks and re.search(r"\b%s\b" % re.escape(setting.name), text or ""):
            return setting
    return None


Settings = Tuple[Setting, ...]
