"""The architecture, as the tree shows it: a core at the top of checks/, one folder per multi-module command, one
reader of the manifest. These rules are checked on the source, so a new module cannot quietly break them."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("verify", "train", "bench", "distributed", "lock_audit", "health")
EXCEPTION = ("bench", "train")  # bench times train's reference models (named in checks/bench/__init__.py)


def imports(path):
    """Return every `checks...` module a file imports (absolute imports, as the project writes them)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("checks"):
            found.add(node.module)
            found.update("%s.%s" % (node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("checks"))
    return found


def folder_of(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in COMMANDS else None


def test_command_folders_import_the_core_and_themselves_only():
    """No command folder imports another, except bench -> train; the core imports no command folder."""
    wrong = []
    for path in (ROOT / "checks").rglob("*.py"):
        here = path.relative_to(ROOT / "checks").parts
        mine = here[0] if len(here) > 1 else None
        for module in imports(path):
            other = folder_of(module)
            if other and other != mine and (mine, other) != EXCEPTION:
                wrong.append("%s imports %s" % ("/".join(here), module))
    assert not wrong, "\n".join(wrong)


def test_every_command_folder_has_the_same_shape():
    """Each folder has command.py (options, plan) and a package docstring naming its parts."""
    for name in COMMANDS:
        folder = ROOT / "checks" / name
        assert (folder / "command.py").is_file(), name
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "command.py" in doc, name


def test_one_reader_of_the_manifest():
    """Only checks/workspace/manifest.py parses TOML: everything else (tools, noxfile, the tests) goes through it."""
    readers = []
    files = [p for folder in ("checks", "tools", "tests") for p in (ROOT / folder).rglob("*.py")] + [
        ROOT / "noxfile.py"
    ]
    for path in files:
        names = {
            a.name
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Import)
            for a in n.names
        }
        if names & {"tomllib", "tomli"}:
            readers.append(str(path.relative_to(ROOT)))
    assert readers == ["checks/workspace/manifest.py"]


# Folders whose Result(...) calls are still positional (issue 21: other engineers' folders, converted in their own
# branches). The lead empties this after merging; then Result's parameters after `name, status` can be keyword-only.
POSITIONAL_RESULT_ALLOWED = ()


def positional_result_calls(source):
    """Return the line numbers of the `Result(...)` and `x.Result(...)` calls in Python source that pass any
    argument positionally (checks/report.py's Result(name, status, summary, expected, actual, hint, data))."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name == "Result":
                lines.append(node.lineno)
    return sorted(lines)


def test_positional_result_calls_are_found():
    """The finder flags a positional call, a starred one and an attribute call, and passes keyword calls."""
    source = (
        'Result(name="a", status=PASS)\n'
        'Result("b", FAIL, summary="x")\n'
        "report.Result(*fields)\n"
        'report.Result(name="c", status=SKIP, summary="y")\n'
        'Result(**{"name": "d", "status": PASS})\n'
    )
    assert positional_result_calls(source) == [2, 3]


def test_result_takes_keyword_arguments_at_every_call_site():
    """Every Result(...) outside the allowed folders names its arguments, so expected and actual are told apart at
    the call site (issue 21)."""
    files = [p for folder in ("checks", "tools", "tests") for p in (ROOT / folder).rglob("*.py")] + [
        ROOT / "noxfile.py"
    ]
    positional = []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(tuple(folder + "/" for folder in POSITIONAL_RESULT_ALLOWED)):
            continue
        lines = positional_result_calls(path.read_text(encoding="utf-8"))
        positional += ["%s:%d" % (rel, line) for line in lines]
    assert not positional, "call Result with keyword arguments:\n" + "\n".join(sorted(positional))
