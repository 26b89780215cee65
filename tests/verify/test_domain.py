"""Tests for checks/verify/domain.py: torchvision and torchaudio judged from their metadata without loading them,
with packages laid out as the real wheels lay them out (version.py `__version__ = '0.15.2+cu117'`, METADATA's
`Requires-Dist: torch (==2.0.1)`)."""

from types import SimpleNamespace

import pytest

from checks.report import FAIL, PASS, WARN
from checks.verify import domain


@pytest.fixture
def install(tmp_path, monkeypatch):
    """Return a function that lays out a fake installed library on sys.path (package + dist-info)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(domain.probe, "conda_record", lambda name: None)

    def lay_out(name, version, local=None, requires=None):
        package = tmp_path / name
        package.mkdir()
        (package / "__init__.py").write_text("raise ImportError('the extension must not be loaded by --quick')\n")
        shown = version + ("+" + local if local else "")
        (package / "version.py").write_text("__version__ = %r\ngit_version = 'fa99a53'\n" % shown)
        info = tmp_path / ("%s-%s.dist-info" % (name, version))
        info.mkdir()
        lines = ["Metadata-Version: 2.1", "Name: %s" % name, "Version: %s" % version]
        lines += ["Requires-Dist: %s" % r for r in requires or ()]
        (info / "METADATA").write_text("\n".join(lines) + "\n")
        return package

    return lay_out


def torch(version="2.0.1+cu117", cuda="11.7"):
    return SimpleNamespace(__version__=version, version=SimpleNamespace(cuda=cuda, hip=None))


def ctx(torch_, quick=True):
    return SimpleNamespace(torch=torch_, expect=None, quick=quick)


def test_a_cpu_torchvision_beside_a_cuda_torch_fails_without_loading_it(install):
    """0.15.2+cpu next to 2.0.1+cu117: its CUDA ops are missing (pytorch/pytorch#122494's kind): FAIL in --quick."""
    install("torchvision", "0.15.2", "cpu", ["torch (==2.0.1)"])
    result = domain.check_domain(ctx(torch()), "torchvision")
    assert result.status == FAIL
    assert result.summary == (
        "torchvision 0.15.2+cpu is a CPU build but torch 2.0.1+cu117 is a CUDA build: its CUDA ops are missing"
    )
    assert result.hint.startswith(
        "pip install --force-reinstall --no-deps torchvision==0.15.2+cu117 --index-url "
        "https://download.pytorch.org/whl/cu117"
    )


def test_another_cuda_minor_fails_for_the_releases_that_refuse_it(install):
    """torchaudio (2.0.2, 2.10.0) and torchvision 0.15 refuse another CUDA major.minor at import."""
    install("torchaudio", "2.0.2", "cu118", ["torch (==2.0.1)"])
    result = domain.check_domain(ctx(torch()), "torchaudio")
    assert result.status == FAIL and "built for CUDA 11.8, torch 2.0.1+cu117 for CUDA 11.7" in result.summary


def test_newer_torchvision_accepts_another_cuda_minor(install):
    """torchvision 0.24+ checks the CUDA major only (extension.py of 0.24.1-0.29.0): a WARN."""
    install("torchvision", "0.25.0", "cu126", ["torch (==2.10.0)"])
    result = domain.check_domain(ctx(torch("2.10.0+cu128", "12.8")), "torchvision")
    assert result.status == WARN and "checks the major version only" in result.summary


def test_the_library_s_own_pin_decides_the_pairing(install):
    """torchvision 0.16.0 pins torch 2.1.0: with torch 2.0.1 that is a FAIL quoting the pin."""
    install("torchvision", "0.16.0", "cu118", ["torch (==2.1.0)"])
    result = domain.check_domain(ctx(torch("2.0.1+cu118", "11.8")), "torchvision")
    assert result.status == FAIL and result.summary == "torchvision 0.16.0+cu118 requires torch ==2.1.0, not 2.0.1"


def test_without_a_pin_the_release_matrix_decides(install):
    """No Requires-Dist on torch (some conda builds): 0.15.1 with torch 2.0.1 is a patch off the pairing: WARN."""
    install("torchvision", "0.15.1", "cu117")
    assert domain.check_domain(ctx(torch()), "torchvision").status == WARN


def test_matching_builds_pass_and_say_their_build(install):
    """Same release pairing, same CUDA: PASS naming the build."""
    install("torchvision", "0.15.2", "cu117", ["torch (==2.0.1)", "scipy ; extra == 'scipy'"])
    result = domain.check_domain(ctx(torch()), "torchvision")
    assert result.status == PASS and result.summary == "0.15.2+cu117 (cuda 11.7)"


def test_the_build_comes_from_the_conda_record_when_the_version_has_no_tag(install, monkeypatch):
    """The pytorch channel's builds carry no local tag; their build string says `cpu` or `cu117`."""
    install("torchaudio", "2.0.2", None, ["torch (==2.0.1)"])
    record = {"version": "2.0.2", "build": "py310_cpu", "channel": "pytorch"}
    monkeypatch.setattr(domain.probe, "conda_record", lambda name: record)
    result = domain.check_domain(ctx(torch()), "torchaudio")
    assert result.status == FAIL and "is a CPU build" in result.summary


def test_a_torch_newer_than_the_tables_is_said_not_guessed(install):
    """No pin and a torch newer than the pairing table: WARN saying the table ends."""
    install("torchaudio", "2.11.1", None)
    result = domain.check_domain(ctx(torch("2.16.0+cpu", None)), "torchaudio")
    assert result.status == WARN and "newer than the pairing table" in result.summary


def test_a_full_run_imports_an_unpaired_library_and_hands_its_failure_to_the_parent(install, monkeypatch):
    """torchvision 0.4.2 (pinned to torch 1.3.1) whose import fails on Pillow 7's removed PILLOW_VERSION
    (pytorch/vision#1712): the import's exception is kept for the parent's judgement, the pairing as `actual`."""
    package = install("torchvision", "0.4.2", None, ["torch (==1.3.1)", "pillow (>=4.1.1)"])
    # the same failure's class, from a module every Python has (Pillow itself need not be installed for this test)
    (package / "__init__.py").write_text("from os import PILLOW_VERSION_REMOVED_IN_PILLOW_7\n")
    monkeypatch.delitem(__import__("sys").modules, "torchvision", raising=False)
    monkeypatch.setattr(domain, "_shadowing", lambda name: True)  # a copy over the environment's own: not imported
    shadowing = domain.check_domain(ctx(torch(), quick=False), "torchvision")
    assert shadowing.summary == "torchvision 0.4.2 requires torch ==1.3.1, not 2.0.1"
    monkeypatch.setattr(domain, "_shadowing", lambda name: False)  # the environment's own copy
    result = domain.check_domain(ctx(torch(), quick=False), "torchvision")
    assert result.status == FAIL and result.summary.startswith("import torchvision fails: ")
    assert result.actual == "torchvision 0.4.2 requires torch ==1.3.1, not 2.0.1"
    assert "PILLOW_VERSION_REMOVED_IN_PILLOW_7" in result.data["exception"]
    quick = domain.check_domain(ctx(torch(), quick=True), "torchvision")  # --quick never imports it
    assert quick.summary == "torchvision 0.4.2 requires torch ==1.3.1, not 2.0.1"


def test_a_missing_library_the_project_imports_fails_with_the_paired_install(tmp_path, monkeypatch):
    """pytorch/pytorch#1052: torch built from source, torchvision never installed, and the user's script imports
    it. Without the import it stays an optional SKIP."""
    monkeypatch.setattr(domain, "library_facts", lambda name: None)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.py").write_text("import torch\nimport torchvision.transforms as T\n")
    result = domain.check_domain(ctx(torch("2.0.1+cu117")), "torchvision")
    assert result.status == FAIL and result.summary == "not installed, and main.py:2 imports it"
    assert result.hint.startswith(
        "pip install torchvision==0.15.2+cu117 --index-url https://download.pytorch.org/whl/cu117"
    )
    assert domain.check_domain(ctx(torch("2.0.1+cu117")), "torchaudio").status == "SKIP"


def test_torchaudio_io_the_code_uses_without_its_ffmpeg_libraries_warns(install, tmp_path, monkeypatch):
    """pytorch/audio#2925: torchaudio 2.0.2's StreamReader dlopens FFmpeg 4 (libavdevice.so.58, ...), not installed:
    a note on the line when nothing uses it, a WARN with the FFmpeg 4 install when the working directory's code
    imports torchaudio.io."""
    from checks.machine import media

    install("torchaudio", "2.0.2", "cu117", ["torch (==2.0.1)"])
    audio = media.AudioIO((2, 0), ("sox",), ("sox",), (), streaming=False, streaming_lacks=("libavdevice.so.58",))
    monkeypatch.setattr(domain, "audio_io", lambda version, where: audio)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert domain.check_domain(ctx(torch()), "torchaudio").status == PASS
    (work / "run_cuvid.py").write_text("import torch\nfrom torchaudio.io import StreamReader\n")
    result = domain.check_domain(ctx(torch()), "torchaudio")
    assert result.status == WARN and "run_cuvid.py:2 uses torchaudio.io, which cannot load here" in result.summary
    assert result.hint.startswith('install FFmpeg 4 (`conda install -c conda-forge "ffmpeg<5"`)')
