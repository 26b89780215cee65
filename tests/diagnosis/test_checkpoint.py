"""Tests for checks/diagnosis/checkpoint.py: torch.load's failure judged by what the file is. The files are laid out
as the real ones are (a Git LFS pointer's text per the LFS specification, a zip from Python's zipfile cut short);
the failure texts are pickle's and torch's zip reader's."""

import zipfile

import pytest
from diagnosis_facts import facts_for, site

from checks import diagnosis
from checks.diagnosis import checkpoint

POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n"
)


def whole_zip(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00." * 100)
    return path


@pytest.mark.parametrize(
    "make, kind",
    [
        (lambda p: p.write_text(POINTER), "lfs"),
        (lambda p: p.write_text("<!DOCTYPE html><html><body>Sign in</body></html>"), "html"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(whole_zip(p).read_bytes()[:-30]), "truncated"),
        (lambda p: whole_zip(p), None),
    ],
)
def test_kind_of_reads_what_the_file_is(tmp_path, make, kind):
    path = tmp_path / "model.pth"
    make(path)
    assert checkpoint.kind_of(str(path))[0] == kind


def test_a_git_lfs_pointer_named_by_the_failure_is_the_cause(tmp_path, monkeypatch):
    """pickle's text for a pointer file (its first byte 'v'): "_pickle.UnpicklingError: invalid load key, 'v'."."""
    prefix, packages = site(tmp_path)
    model = tmp_path / "repo" / "weights" / "model.pth"
    model.parent.mkdir(parents=True)
    model.write_text(POINTER)
    text = (
        'Traceback (most recent call last):\n  File "train.py", line 3, in <module>\n'
        "    state = torch.load('%s')\n_pickle.UnpicklingError: invalid load key, 'v'." % model
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "checkpoint" and cause.meaning.startswith("%s is a Git LFS pointer" % model)
    assert "git lfs pull" in cause.fix


def test_a_cut_short_zip_named_by_the_failure(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    model = whole_zip(tmp_path / "last.ckpt")
    model.write_bytes(model.read_bytes()[:-30])
    text = (
        "  File \"fit.py\", line 9, in load\n    torch.load('%s')\nRuntimeError: PytorchStreamReader failed reading "
        "zip archive: failed finding central directory" % model
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "checkpoint" and "zip archive cut short" in cause.meaning


def test_without_a_file_the_byte_or_the_reader_s_message_decides(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain("_pickle.UnpicklingError: invalid load key, '<'.", found)
    assert cause.rule == "checkpoint" and "HTML page" in cause.meaning
    cause = diagnosis.explain(
        "RuntimeError: PytorchStreamReader failed reading zip archive: failed finding central directory", found
    )
    assert cause.rule == "checkpoint" and "not a whole zip archive" in cause.meaning
    assert diagnosis.explain("_pickle.UnpicklingError: invalid load key, '\\x00'.", found).rule != "checkpoint"
