"""Tests for checks/verify/domain.py: torchvision and torchaudio judged from their metadata without loading them,
with packages laid out as the real wheels lay them out (version.py `__version__ = '0.15.2+cu117'`, METADATA's
`Requires-Dist: torch (==2.0.1)`)."""

import shutil
import subprocess
import sys
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


# ---- torchaudio's audio I/O, from its files (domain.audio_io) ------------------------------------------------------
needs_gcc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="needs Linux and gcc to build ELF files"
)


def shared_library(out, needs=()):
    """Build a real ELF shared library at `out` whose DT_NEEDED names `needs` (each linked from a stub built beside
    it, then removed, as a plug-in whose library the system lacks)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    source = out.parent / "plugin.c"
    source.write_text("int plugin(void) { return 1; }\n")
    stubs = []
    for soname in needs:
        stub = out.parent / soname
        subprocess.run(["gcc", "-shared", "-fPIC", "-Wl,-soname," + soname, "-o", str(stub), str(source)], check=True)
        stubs.append(stub)
    flags = ["-Wl,--no-as-needed"] + [str(s) for s in stubs]
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(source)] + flags, check=True)
    for stub in stubs:
        stub.unlink()
    source.unlink()
    return out


def no_soundfile(name):
    return None


@needs_gcc
def test_torchaudio_2_5_whose_plugins_lack_their_libraries_and_no_soundfile_warns(tmp_path, monkeypatch):
    """torchaudio 2.1-2.8: the SoX plug-in needs libsox.so, torio's FFmpeg 6 plug-in libavutil.so.58 (the DT_NEEDED
    of the 2.5.1 wheel's lib/libtorchaudio_sox.so and torio/lib/libtorio_ffmpeg6.so)."""
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    shared_library(tmp_path / "torchaudio" / "lib" / "libtorchaudio_sox.so", ["libsox.so"])
    shared_library(tmp_path / "torio" / "lib" / "libtorio_ffmpeg6.so", ["libavutil.so.58", "libavcodec.so.60"])
    audio = domain.audio_io("2.5.1", str(tmp_path / "torchaudio"), find_spec=no_soundfile)
    assert audio.present == ("sox", "ffmpeg") and audio.usable == ()
    assert audio.missing == (("libsox.so", "libtorchaudio_sox.so"), ("libavutil.so.58", "libtorio_ffmpeg6.so"))
    summary, fix = audio.problem()
    assert "no I/O backend" in summary and "libsox.so (for libtorchaudio_sox.so)" in summary
    assert fix.startswith("pip install soundfile")


@needs_gcc
def test_a_plugin_whose_library_resolves_or_soundfile_is_enough(tmp_path, monkeypatch):
    shared_library(tmp_path / "torchaudio" / "lib" / "libtorchaudio_sox.so")  # 2.0's: SoX linked in, nothing needed
    assert domain.audio_io("2.0.2", str(tmp_path / "torchaudio"), find_spec=no_soundfile).problem() is None
    empty = tmp_path / "bare" / "torchaudio"
    empty.mkdir(parents=True)
    found = domain.audio_io("2.5.1", str(empty), find_spec=lambda name: name == "soundfile" or None)
    assert found.usable == ("soundfile",) and found.problem() is None


def test_torchaudio_2_9_needs_torchcodec(tmp_path):
    """torchaudio 2.9's _torchcodec.py: load and save import torchcodec; soundfile does not serve them."""
    (tmp_path / "torchaudio").mkdir()
    audio = domain.audio_io("2.9.0", str(tmp_path / "torchaudio"), find_spec=lambda name: name == "soundfile" or None)
    summary, fix = audio.problem()
    assert "TorchCodec, which is not installed" in summary and fix.startswith("pip install torchcodec")
    with_codec = domain.audio_io("2.9.0", str(tmp_path / "torchaudio"), find_spec=lambda name: True)
    assert with_codec.problem() is None


@needs_gcc
def test_torchvision_s_image_extension_lacking_a_library_is_named(tmp_path, monkeypatch):
    """image.so needs libjpeg (torchvision 0.15.2's wheel: libjpeg.ceea7512.so.62 in torchvision.libs, found through
    its DT_RUNPATH) and torch's libraries, which torch's lib folder provides."""
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    torch_lib = tmp_path / "torch" / "lib"
    torch_lib.mkdir(parents=True)
    shared_library(tmp_path / "torchvision" / "image.so", ["libjpeg.so.8", "libc10.so"])
    (torch_lib / "libc10.so").write_bytes(b"")  # loaded with torch: not looked for
    assert domain.image_extension_lacks(str(tmp_path / "torchvision"), str(torch_lib)) == ("libjpeg.so.8",)
    healthy = tmp_path / "ok" / "torchvision"
    shared_library(healthy / "image.so", ["libc10.so"])
    assert domain.image_extension_lacks(str(healthy), str(torch_lib)) == ()
    assert domain.image_extension_lacks(str(tmp_path / "absent"), str(torch_lib)) == ()
