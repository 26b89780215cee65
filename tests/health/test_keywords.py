"""Results are built with keyword arguments in health and in checks/nvidia (issue 21: expected and actual are told
apart at the call site, not by counting arguments)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_result_call_names_its_arguments():
    positional = []
    for folder in ("health", "nvidia"):
        for path in sorted((ROOT / "checks" / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Result" and node.args:
                    positional.append("%s:%d" % (path.relative_to(ROOT), node.lineno))
    assert not positional, positional
