"""Tests for checks/machine/children.py: verify's worker begun before the parent's imports is adopted by the command
that matches it and ended otherwise. The interpreter is a stand-in script that waits on its standard input, as the
real worker does after `import torch`."""

import os
import stat
import sys

import pytest

from checks.machine import children

POSIX = pytest.mark.skipif(os.name != "posix", reason="a shebang script stands in for the interpreter")


@pytest.fixture
def interpreter(tmp_path, monkeypatch):
    """sys.executable replaced by a script that reads its standard input and exits: `python -m checks verify ...`
    started early runs it instead of the real worker."""
    script = tmp_path / "python"
    script.write_text("#!%s\nimport sys\nsys.stdin.read()\n" % sys.executable)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(sys, "executable", str(script))
    yield str(script)
    children.drop_early()


@POSIX
def test_the_worker_begun_early_is_adopted_by_its_own_command(interpreter):
    children.start_early(["verify", "--quick"])
    command = children.worker_command([interpreter, "-m", "checks", "verify", "--quick"], children.FIRST_STATE)
    proc = children.adopt(command)
    assert proc is not None and proc.poll() is None
    assert proc.args == command
    assert children.adopt(command) is None  # taken once
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    proc.stdout.close()


@POSIX
def test_a_worker_begun_for_another_command_is_ended(interpreter):
    children.start_early(["verify", "--quick"])
    began = children._EARLY[0][1]
    other = children.worker_command([interpreter, "-m", "checks", "verify"], children.FIRST_STATE)
    assert children.adopt(other) is None
    assert began.returncode is not None  # killed and reaped


@POSIX
def test_an_unadopted_worker_ends_with_the_command(interpreter):
    """A usage error ends the command before any Supervisor: checks/__main__.py main() drops what began early."""
    from checks import __main__ as entry

    children.start_early(["verify", "--no-such-option"])
    began = children._EARLY[0][1]
    assert entry.main(["verify", "--no-such-option"]) == 2
    assert not children._EARLY and began.returncode is not None


def test_help_begins_no_worker(interpreter):
    children.start_early(["verify", "--help"])
    children.start_early(["verify", "-h"])
    assert children._EARLY == []
