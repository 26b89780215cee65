"""tools/measure_untrusted.py measures what it says: its real-size lock is a lock the reader accepts, of about 1 MB,
and its alias bomb is one the reader refuses."""

import pytest

from checks.workspace import lockfile, manifest
from tools import measure_untrusted

pytest.importorskip("yaml")


def test_the_real_size_lock_reads_and_is_about_a_megabyte(tmp_path):
    text, lock = measure_untrusted.real_size_lock()
    (tmp_path / "pixi.toml").write_text(text)
    (tmp_path / "pixi.lock").write_text(lock)
    ws, read = manifest.load(str(tmp_path / "pixi.toml")), lockfile.load(str(tmp_path / "pixi.lock"))
    assert 0.8e6 < len(lock) < 1.2e6 and set(read.environments) == set(ws.environments)
    assert len(read.packages("default", "linux-64")) == 1300


def test_the_alias_bomb_is_refused(tmp_path):
    (tmp_path / "pixi.lock").write_text(measure_untrusted.alias_bomb())
    with pytest.raises(lockfile.LockError, match="YAML alias"):
        lockfile.load(str(tmp_path / "pixi.lock"))
