"""Tests for checks/diagnosis/media.py: torchaudio's I/O and torchvision's image extension failures judged by their
plug-ins' files (real ELF files built by gcc, as tests/machine/test_media.py builds them)."""

import shutil
import sys

import fakes
import pytest
from diagnosis_facts import facts_for, site

from checks import diagnosis

BUILD = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="needs Linux and gcc to build ELF files"
)


@BUILD
def test_torchaudio_without_a_usable_backend(tmp_path, monkeypatch):
    """torchaudio 2.5's dispatcher (_backend/utils.py) with no soundfile and plug-ins lacking libsox / FFmpeg."""
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    prefix, packages = site(tmp_path)
    (packages / "torchaudio").mkdir()
    (packages / "torchaudio" / "__init__.py").write_text("")
    (packages / "torchaudio" / "version.py").write_text("__version__ = '2.5.1'\n")
    fakes.shared_library(packages / "torchaudio" / "lib" / "libtorchaudio_sox.so", ["libsox.so"])
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    cause = diagnosis.explain(
        "RuntimeError: Couldn't find appropriate backend to handle uri speech.wav and format None.",
        facts_for(monkeypatch, prefix, [packages]),
    )
    assert cause.rule == "media"
    assert "no I/O backend" in cause.meaning and "libsox.so (for libtorchaudio_sox.so)" in cause.meaning
    assert cause.fix.startswith("pip install soundfile")


@BUILD
def test_torchvision_s_image_extension_lacking_libjpeg(tmp_path, monkeypatch):
    """torchvision's io/image.py warning, then the op without a kernel."""
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    prefix, packages = site(tmp_path)
    (packages / "torchvision").mkdir()
    (packages / "torchvision" / "__init__.py").write_text("")
    fakes.shared_library(packages / "torchvision" / "image.so", ["libjpeg.so.8"])
    cause = diagnosis.explain(
        "UserWarning: Failed to load image Python extension: libjpeg.so.8: cannot open shared object file\n"
        "RuntimeError: No such operator image::decode_jpeg",
        facts_for(monkeypatch, prefix, [packages]),
    )
    assert cause.rule == "media" and "the loader finds no libjpeg.so.8" in cause.meaning
    assert "libjpeg-turbo" in cause.fix
