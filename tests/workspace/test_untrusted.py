"""Another team's workspace is untrusted input: only regular files, bounded in size, UTF-8, YAML without aliases,
nesting bounded; every refusal is a usage error (exit 2) naming the file and, where it applies, the line."""

import os
import sys
import time

import pytest

from checks.__main__ import main
from checks.workspace import lockfile, manifest, untrusted

MANIFEST = (
    '[workspace]\nname = "w"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npython = "3.11.*"\n'
)
LOCK = "version: 6\nenvironments: {}\npackages: []\n"


def lock_audit(capsys, *args):
    """Run `python -m checks lock-audit ARGS` in-process; return (exit code, stderr)."""
    code = main(["lock-audit", *args])
    return code, capsys.readouterr().err


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "pixi.toml").write_text(MANIFEST)
    return tmp_path


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero on this system")
def test_a_device_is_refused_before_any_read(capsys):
    """`--manifest /dev/zero` would read until memory runs out: it is refused at once, exit 2."""
    start = time.perf_counter()
    code, err = lock_audit(capsys, "--manifest", "/dev/zero")
    assert code == 2 and "/dev/zero is a character device, not a regular file" in err
    assert time.perf_counter() - start < 5


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_hanging(workspace, capsys):
    """A FIFO as manifest or lock would block the open (nobody writes to it): refused at once, exit 2."""
    fifo = workspace / "fifo"
    os.mkfifo(str(fifo))
    code, err = lock_audit(capsys, "--manifest", str(fifo))
    assert code == 2 and "is a FIFO (named pipe), not a regular file" in err
    code, err = lock_audit(capsys, str(fifo), "--manifest", str(workspace / "pixi.toml"))
    assert code == 2 and "lock %s is a FIFO" % fifo in err


def test_a_directory_is_refused(workspace, capsys):
    code, err = lock_audit(capsys, "--manifest", str(workspace))
    assert code == 2 and "is a directory, not a regular file" in err


def test_a_file_over_the_limit_is_refused_before_parsing(workspace, capsys, monkeypatch):
    """The lock limit, lowered here to 1 MiB: a 2 MiB lock is refused by its size, not parsed."""
    monkeypatch.setattr(untrusted, "LOCK_LIMIT", untrusted.MiB)
    (workspace / "pixi.lock").write_text(LOCK + "#" * (2 * untrusted.MiB))
    code, err = lock_audit(capsys, "--manifest", str(workspace / "pixi.toml"))
    assert code == 2 and "pixi.lock is larger than 1 MiB, the limit for a lock" in err


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (LOCK.encode("utf-16"), 1, "the file is UTF-16"),
        (b"version: 6\nenvironments: {}\npackages: [\xff]\n", 3, "not UTF-8 text (byte 0xff)"),
        (b"version: 6\n\x00\x01\x02binary", 2, "binary data (a NUL byte)"),
    ],
)
def test_a_lock_that_is_not_utf8_text_names_the_line(workspace, capsys, data, line, words):
    (workspace / "pixi.lock").write_bytes(data)
    code, err = lock_audit(capsys, "--manifest", str(workspace / "pixi.toml"))
    assert code == 2 and "pixi.lock line %d: %s" % (line, words) in err and "pixi lock" in err


def test_a_manifest_that_is_not_utf8_names_the_line(tmp_path):
    (tmp_path / "pixi.toml").write_bytes(MANIFEST.encode() + b'bad = "\xc3\x28"\n')
    with pytest.raises(manifest.ManifestError, match=r"pixi.toml line 7: not UTF-8 text \(byte 0xc3\)"):
        manifest.load(str(tmp_path / "pixi.toml"))


def test_deeply_nested_toml_is_a_usage_error(tmp_path):
    """tomllib recurses per level: 100,000 nested arrays end in RecursionError, reported as exit 2 with the line."""
    (tmp_path / "pixi.toml").write_text(MANIFEST + "deep = " + "[" * 100000 + "]" * 100000 + "\n")
    with pytest.raises(manifest.ManifestError, match=r"pixi.toml line 7: arrays or inline tables nested too deeply"):
        manifest.load(str(tmp_path / "pixi.toml"))


ALIAS_BOMB = "version: 6\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    "%s: &%s [%s]\n" % (chr(98 + i), chr(98 + i), ", ".join(["*" + chr(97 + i)] * 9)) for i in range(8)
)


def test_a_yaml_alias_is_refused_at_its_line(tmp_path):
    """pixi's lock writer (serde_yaml) emits no aliases, so a lock with one was not written by pixi; refusing it keeps
    the cost linear (this 9-level bomb would be 9^9 = 387 million references to walk)."""
    (tmp_path / "pixi.lock").write_text(ALIAS_BOMB)
    start = time.perf_counter()
    with pytest.raises(
        lockfile.LockError, match=r"line 2 is not valid YAML: this node is used again through a YAML alias"
    ):
        lockfile.load(str(tmp_path / "pixi.lock"))
    assert time.perf_counter() - start < 1


def test_a_yaml_merge_key_is_refused(tmp_path):
    (tmp_path / "pixi.lock").write_text("version: 6\nbase: &b {a: 1}\nother:\n  <<: *b\n")
    with pytest.raises(lockfile.LockError, match="line 4 is not valid YAML: a YAML merge key"):
        lockfile.load(str(tmp_path / "pixi.lock"))


def test_deeply_nested_yaml_is_a_usage_error(tmp_path):
    (tmp_path / "pixi.lock").write_text("version: 6\nx: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(lockfile.LockError, match="pixi.lock line 2 is not valid YAML"):
        lockfile.load(str(tmp_path / "pixi.lock"))


def test_escape_writes_control_characters_visibly():
    """An environment name with an escape sequence cannot recolour or rewrite the terminal."""
    assert untrusted.escape("env\x1b[2J\rx\u202e") == "env\\x1b[2J\\x0dx\\u202e"
    assert untrusted.escape("plain\tand\nnewline") == "plain\tand\nnewline"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_an_unreadable_manifest_is_a_usage_error(tmp_path):
    path = tmp_path / "pixi.toml"
    path.write_text(MANIFEST)
    path.chmod(0)
    if os.access(str(path), os.R_OK):
        pytest.skip("running as root: the file stays readable")
    with pytest.raises(manifest.ManifestError, match="cannot read manifest"):
        manifest.load(str(path))


def test_a_name_with_terminal_escapes_is_printed_escaped(tmp_path, capsys):
    """An environment named with an escape sequence (legal in a quoted TOML key) is printed with it escaped."""
    (tmp_path / "pixi.toml").write_text(MANIFEST + '[environments]\n"x\\u001b]0;owned\\u0007\\u001b[2J" = []\n')
    assert main(["lock-audit", "--manifest", str(tmp_path / "pixi.toml"), "--json", str(tmp_path / "r.json")]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "x\\x1b]0;owned\\x07\\x1b[2J" in out
