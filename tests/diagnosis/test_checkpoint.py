"""Tests for checks/diagnosis/checkpoint.py: torch.load's failure judged by what the file is. The files are laid out
as the real ones are (a Git LFS pointer's text per the LFS specification, a zip from Python's zipfile cut short);
the failure texts are pickle's and torch's zip reader's."""

import pytest
from diagnosis_facts import facts_for, site
from fakes import DRIVE_PAGE, whole_zip

from checks import diagnosis
from checks.diagnosis import checkpoint

POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n"
)


@pytest.mark.parametrize(
    "make, kind",
    [
        (lambda p: p.write_text(POINTER), "lfs"),
        (lambda p: p.write_text("<!DOCTYPE html><html><body>Sign in</body></html>"), "html"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(whole_zip(p).read_bytes()[:-30]), "truncated"),
        (lambda p: whole_zip(p), None),
        (lambda p: p.write_bytes(b"<\x00\x01\x02 a data shard"), None),  # starts with '<', is no page
        (lambda p: p.write_text("\n  <HTML><BODY>403 Forbidden</BODY></HTML>"), "html"),
        (lambda p: p.write_text('<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>'), "html"),
    ],
)
def test_kind_of_reads_what_the_file_is(tmp_path, make, kind):
    path = tmp_path / "model.pth"
    make(path)
    assert checkpoint.kind_of(str(path))[0] == kind


@pytest.mark.parametrize(
    "page, meaning, fix",
    [
        (DRIVE_PAGE, 'is Google Drive\'s page ("Google Drive - Virus scan warning")', "gdown FILE_ID -O model.pth"),
        ("<html><head><title>model.pth · openai/whisper at main</title></head>", "is an HTML page", "direct link"),
        (
            "<html><head><title>\n  openai/clip at main - Hugging Face\n</title>",
            'is a Hugging Face Hub web page ("openai/clip at main - Hugging Face")',
            "`/resolve/` link",
        ),
    ],
)
def test_an_html_page_is_named_with_the_host_its_title_shows(tmp_path, page, meaning, fix):
    """The page's host decides the download that gets the file; a safetensors file whose 8-byte header length
    happens to start with the byte '<' is no page."""
    header = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    tensors = tmp_path / "model.safetensors"
    tensors.write_bytes(b"<" + bytes(7) + header + bytes(4))
    assert checkpoint.kind_of(str(tensors))[0] is None
    path = tmp_path / "model.pth"
    path.write_text(page)
    said, how = checkpoint.file_cause(str(path), checkpoint.kind_of(str(path))[0])
    assert said.startswith("%s %s" % (path, meaning)) and fix in how


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


def _load_error(load):
    """The text of the exception `load()` raises with the installed torch: the real message, not a copy of it."""
    with pytest.raises(Exception) as caught:
        load()
    return "%s: %s" % (type(caught.value).__name__, caught.value)


def _prefixed(prefix):
    """Load into a bare model the state dict its wrapper saves: DataParallel's and DDP's keys carry `module.`,
    torch.compile's OptimizedModule's `_orig_mod.` (their attribute names for the wrapped model)."""

    def load(torch, model):
        model.load_state_dict({prefix + k: v for k, v in model.state_dict().items()})

    return load


def _into_data_parallel(torch, model):
    """Load a bare model's state dict into DataParallel (on a CPU it wraps without replicas)."""
    torch.nn.DataParallel(model).load_state_dict(model.state_dict())


@pytest.mark.parametrize(
    "load, meaning, fix",
    [
        (_prefixed("module."), "saved from a model wrapped by torch.nn.DataParallel", "removeprefix('module.')"),
        (_into_data_parallel, "loaded into one wrapped", "model.module.load_state_dict(state)"),
        (_prefixed("_orig_mod."), "wrapped by torch.compile", "removeprefix('_orig_mod.')"),
    ],
)
def test_state_dict_keys_that_differ_by_a_wrapper_s_prefix(load, meaning, fix):
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    text = _load_error(lambda: load(torch, model))  # the installed torch's own message
    cause = diagnosis.explain(text, diagnosis.gather())
    assert cause.rule == "checkpoint" and meaning in cause.meaning and fix in cause.fix


def test_a_checkpoint_of_another_configuration_is_named_by_its_shapes():
    torch = pytest.importorskip("torch")
    saved = torch.nn.Linear(512, 10).state_dict()
    text = _load_error(lambda: torch.nn.Linear(512, 1000).load_state_dict(saved))
    cause = diagnosis.explain(text, diagnosis.gather())
    assert cause.rule == "checkpoint" and "another configuration" in cause.meaning
    assert "torch.Size([10, 512])" in cause.fact and "torch.Size([1000, 512])" in cause.fact


def test_a_global_refused_by_weights_only_names_the_global_and_both_ways_out(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "state.pt"
    torch.save({"epoch": __import__("fractions").Fraction(1, 3)}, str(path))  # a class no release allow-lists
    text = _load_error(lambda: torch.load(str(path), weights_only=True))
    cause = diagnosis.explain(text, diagnosis.gather())
    assert cause.rule == "checkpoint" and "fractions.Fraction" in cause.meaning
    assert "weights_only=False" in cause.fix
    newer = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2]) >= (2, 4)
    assert ("add_safe_globals([Fraction])" in cause.fix) == newer  # torch.serialization.add_safe_globals: 2.4+


def test_a_terminal_s_colours_do_not_reach_the_verdict(tmp_path, monkeypatch):
    """torch 2.6's weights_only message puts its warning in bold (ANSI SGR sequences)."""
    prefix, packages = site(tmp_path)
    text = (
        "_pickle.UnpicklingError: Weights only load failed. This file can still be loaded, to do so you have two "
        "options, \x1b[1mdo those steps only if you trust the source of the checkpoint\x1b[0m.\n\tWeightsUnpickler "
        "error: Unsupported global: GLOBAL numpy.core.multiarray.scalar was not an allowed global by default."
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert "\x1b" not in cause.meaning + cause.fix + cause.fact and "numpy.core.multiarray.scalar" in cause.meaning
