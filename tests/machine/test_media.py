"""Tests for checks/machine/media.py: torchaudio's audio I/O and torchvision's image extension judged from their
files, with real ELF plug-ins built by gcc whose DT_NEEDED names the libraries the real wheels' plug-ins need."""

import shutil
import sys

import fakes
import pytest

from checks.machine import media

needs_gcc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="needs Linux and gcc to build ELF files"
)


def no_soundfile(name):
    return None


@needs_gcc
def test_torchaudio_2_5_whose_plugins_lack_their_libraries_and_no_soundfile_warns(tmp_path, monkeypatch):
    """torchaudio 2.1-2.8: the SoX plug-in needs libsox.so, torio's FFmpeg 6 plug-in libavutil.so.58 (the DT_NEEDED
    of the 2.5.1 wheel's lib/libtorchaudio_sox.so and torio/lib/libtorio_ffmpeg6.so)."""
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    fakes.shared_library(tmp_path / "torchaudio" / "lib" / "libtorchaudio_sox.so", ["libsox.so"])
    fakes.shared_library(tmp_path / "torio" / "lib" / "libtorio_ffmpeg6.so", ["libavutil.so.58", "libavcodec.so.60"])
    audio = media.audio_io("2.5.1", str(tmp_path / "torchaudio"), find_spec=no_soundfile)
    assert audio.present == ("sox", "ffmpeg") and audio.usable == ()
    assert audio.missing == (("libsox.so", "libtorchaudio_sox.so"), ("libavutil.so.58", "libtorio_ffmpeg6.so"))
    summary, fix = audio.problem()
    assert "no I/O backend" in summary and "libsox.so (for libtorchaudio_sox.so)" in summary
    assert fix.startswith("pip install soundfile")


@needs_gcc
def test_a_plugin_whose_library_resolves_or_soundfile_is_enough(tmp_path, monkeypatch):
    # torchaudio 2.0's SoX plug-in: SoX linked in, nothing needed
    fakes.shared_library(tmp_path / "torchaudio" / "lib" / "libtorchaudio_sox.so")
    assert media.audio_io("2.0.2", str(tmp_path / "torchaudio"), find_spec=no_soundfile).problem() is None
    empty = tmp_path / "bare" / "torchaudio"
    empty.mkdir(parents=True)
    found = media.audio_io("2.5.1", str(empty), find_spec=lambda name: name == "soundfile" or None)
    assert found.usable == ("soundfile",) and found.problem() is None


def test_torchaudio_2_9_needs_torchcodec(tmp_path):
    """torchaudio 2.9's _torchcodec.py: load and save import torchcodec; soundfile does not serve them."""
    (tmp_path / "torchaudio").mkdir()
    audio = media.audio_io("2.9.0", str(tmp_path / "torchaudio"), find_spec=lambda name: name == "soundfile" or None)
    summary, fix = audio.problem()
    assert "TorchCodec, which is not installed" in summary and fix.startswith("pip install torchcodec")
    with_codec = media.audio_io("2.9.0", str(tmp_path / "torchaudio"), find_spec=lambda name: True)
    assert with_codec.problem() is None


@needs_gcc
def test_torchvision_s_image_extension_lacking_a_library_is_named(tmp_path, monkeypatch):
    """image.so needs libjpeg (torchvision 0.15.2's wheel: libjpeg.ceea7512.so.62 in torchvision.libs, found through
    its DT_RUNPATH) and torch's libraries, which torch's lib folder provides."""
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    torch_lib = tmp_path / "torch" / "lib"
    torch_lib.mkdir(parents=True)
    fakes.shared_library(tmp_path / "torchvision" / "image.so", ["libjpeg.so.8", "libc10.so"])
    (torch_lib / "libc10.so").write_bytes(b"")  # loaded with torch: not looked for
    assert media.image_extension_lacks(str(tmp_path / "torchvision"), str(torch_lib)) == ("libjpeg.so.8",)
    healthy = tmp_path / "ok" / "torchvision"
    fakes.shared_library(healthy / "image.so", ["libc10.so"])
    assert media.image_extension_lacks(str(healthy), str(torch_lib)) == ()
    assert media.image_extension_lacks(str(tmp_path / "absent"), str(torch_lib)) == ()


def test_notes_name_the_soundfile_backend_and_torchaudio_io_s_ffmpeg(tmp_path, monkeypatch):
    """pytorch/audio#837 (the "soundfile" backend needs soundfile) and #2925 (torchaudio.io's FFmpeg 4 libraries:
    2.0.2's lib/libtorchaudio_ffmpeg.so needs libavutil.so.56 and friends)."""
    if not sys.platform.startswith("linux") or shutil.which("gcc") is None:
        pytest.skip("needs Linux and gcc to build ELF files")
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    fakes.shared_library(tmp_path / "torchaudio" / "lib" / "libtorchaudio_sox.so")
    fakes.shared_library(tmp_path / "torchaudio" / "lib" / "libtorchaudio_ffmpeg.so", ["libavutil.so.56"])
    audio = media.audio_io("2.0.2", str(tmp_path / "torchaudio"), find_spec=no_soundfile)
    assert audio.problem() is None and audio.streaming is False and audio.streaming_lacks == ("libavutil.so.56",)
    notes = audio.notes()
    assert notes[0].startswith('the "soundfile" backend: soundfile is not installed (`pip install soundfile`)')
    assert (
        "the FFmpeg libraries it loads are missing (libavutil.so.56 is in no directory the loader searches)" in notes[1]
        and '"ffmpeg<5"' in notes[1]
    )


def test_video_notes_name_pyav_and_the_source_built_video_reader(tmp_path):
    """pytorch/vision#3283: "video_reader video backend is not available. Please compile torchvision from source"."""
    (tmp_path / "torchvision" / "io").mkdir(parents=True)
    (tmp_path / "torchvision" / "io" / "_video_opt.py").write_text("")
    notes = media.video_notes(str(tmp_path / "torchvision"), find_spec=lambda name: None)
    assert notes[0].startswith('the "pyav" video backend: av is not installed')
    assert "build torchvision from source" in notes[1]
    (tmp_path / "torchvision" / "video_reader.so").write_bytes(b"")
    assert len(media.video_notes(str(tmp_path / "torchvision"), find_spec=lambda name: object())) == 0
