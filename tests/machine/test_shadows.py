"""Tests for checks/machine/shadows.py, and the boundary that tells a shadowed standard module from a bug in checks."""

import subprocess
import sys

from checks.machine import shadows


def test_a_file_named_like_a_standard_module_is_found(tmp_path):
    (tmp_path / "dis.py").write_text("import torch\n")
    (tmp_path / "mytools.py").write_text("")
    found = shadows.stdlib_shadows([str(tmp_path)])
    assert found == [("dis", str(tmp_path / "dis.py"))]


def test_a_shadowed_standard_module_is_named_not_called_a_bug_in_checks(tmp_path, repo_root):
    """A project's own `dis.py` on the path: inspect imports dis and dataclasses imports inspect, so checks cannot
    even start. Exit 2, one line naming the file, no "bug in checks", no traceback."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "dis.py").write_text("raise ImportError('this is the project dis, not the standard one')\n")
    env = {"PYTHONPATH": "%s:%s" % (project, repo_root), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "checks", "verify", "--quick"],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "%s shadows Python's standard module 'dis'" % (project / "dis.py") in proc.stderr
    assert "bug in checks" not in proc.stderr and "Traceback" not in proc.stderr
