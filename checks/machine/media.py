"""What torchaudio's audio I/O and torchvision's image extension can load here, read from their files without
importing them: which backends are present and usable, and the native libraries a plug-in's DT_NEEDED names that the
loader would not find (checks/machine/loader.py). verify's torchvision and torchaudio lines and the diagnosis of a
failure in them read the same facts."""

import dataclasses
import glob
import importlib.util
import os
import re
from typing import Optional, Tuple

from checks.machine import loader
from checks.workspace import versions

# torchaudio's audio I/O (torchaudio.load / save / info), by release, from torchaudio's own sources:
# - 2.0: backend/utils.py list_audio_backends(): "soundfile" when the module is importable, "sox_io" when its sox
#   extension (lib/libtorchaudio_sox.so) initialised; with neither, load raises "No audio I/O backend is available.";
# - 2.1 to 2.8: _backend/utils.py's dispatcher tries FFmpeg (torio/lib/libtorio_ffmpeg{4,5,6}.so, each needing the
#   FFmpeg libraries of its major), SoX (lib/libtorchaudio_sox.so, needing the system's libsox.so.3) and soundfile;
#   with none, "Couldn't find appropriate backend to handle uri ... and format ...";
# - 2.9 and later: load and save go through TorchCodec (_torchcodec.py: "TorchCodec is required for
#   load_with_torchcodec. Please install torchcodec to use this function.").
# A backend's native library is usable when every FAMILY library it needs (DT_NEEDED) resolves as ld.so would.
AUDIO_NATIVE = re.compile(r"^lib(sox|avutil|avcodec|avformat|avdevice|avfilter|swresample|swscale)\.so")
TORCHCODEC_SINCE = (2, 9)


@dataclasses.dataclass(frozen=True)
class AudioIO:
    """What torchaudio's I/O can use here: the backends present (`soundfile`, `sox`, `ffmpeg`, `torchcodec`), the
    one(s) its release uses, and the native libraries a present plug-in lacks (soname, the plug-in needing it)."""

    release: Tuple[int, int]
    present: Tuple[str, ...]
    usable: Tuple[str, ...]
    missing: Tuple[Tuple[str, str], ...] = ()
    # torchaudio.io's StreamReader / StreamWriter: whether an FFmpeg plug-in loads here (None: this release has no
    # such plug-in), and the FFmpeg library it lacks
    streaming: Optional[bool] = None
    streaming_lacks: Tuple[str, ...] = ()

    def notes(self):
        """What of the optional audio features is unavailable and how to get it (phrases; [] when all are): the
        soundfile backend of releases before 2.9, and torchaudio.io's FFmpeg libraries."""
        found = []
        if self.release < TORCHCODEC_SINCE and "soundfile" not in self.present:
            found.append('the "soundfile" backend: soundfile is not installed (`pip install soundfile`)')
        if self.streaming is False:
            found.append(
                "torchaudio.io (StreamReader, StreamWriter): %s: %s" % (self.streaming_missing(), self.streaming_fix())
            )
        return found

    def streaming_missing(self):
        """`the FFmpeg libraries it loads are missing (libavutil.so.56 is in no directory the loader searches)`."""
        return "the FFmpeg libraries it loads are missing (%s %s in no directory the loader searches)" % (
            ", ".join(self.streaming_lacks),
            "is" if len(self.streaming_lacks) == 1 else "are",
        )

    def streaming_fix(self):
        """How to give torchaudio.io the FFmpeg libraries of the major its plug-ins load (2.0: FFmpeg 4; 2.1 to 2.8:
        4 to 6)."""
        major = (
            'FFmpeg 4 (`conda install -c conda-forge "ffmpeg<5"`)'
            if self.release < (2, 1)
            else 'FFmpeg 4 to 6 (`conda install -c conda-forge "ffmpeg<7"`)'
        )
        return "install %s, or the OS's ffmpeg libraries of that major" % major

    def problem(self):
        """Return (summary, fix) when torchaudio.load / save cannot work, else None."""
        if self.usable:
            return None
        lacking = ", ".join("%s (for %s)" % pair for pair in self.missing)
        if self.release >= TORCHCODEC_SINCE:
            return (
                "torchaudio %d.%d's load and save need TorchCodec, which is %s"
                % (
                    self.release
                    + ("installed but cannot load " + lacking if "torchcodec" in self.present else "not installed",)
                ),
                "pip install torchcodec (with the FFmpeg libraries it loads: conda/pixi `ffmpeg`, apt install "
                "ffmpeg); or read audio with soundfile",
            )
        return (
            "torchaudio.load / save have no I/O backend: soundfile is not installed%s"
            % ("; SoX / FFmpeg plug-ins lack " + lacking if lacking else ""),
            "pip install soundfile (its wheels carry libsndfile); or provide what a plug-in lacks (libsox.so: apt "
            "install libsox-dev, or conda/pixi `sox`; libav*: FFmpeg of the plug-in's major, apt install ffmpeg or "
            "conda/pixi `ffmpeg`)",
        )


def audio_io(version, package_dir, find_spec=None):
    """Return the AudioIO of torchaudio `version` installed in `package_dir` (its torchaudio/ folder), from files
    only: nothing is imported (`find_spec` looks modules up; libraries are resolved by checks/machine/loader.py)."""
    release = versions.minor(versions.release(version))
    find_spec = find_spec or importlib.util.find_spec

    def module(name):
        try:
            return find_spec(name) is not None
        except (ImportError, ValueError):
            return False

    def plugins(pattern):
        """(usable, missing) of the native plug-ins matching pattern (beside torchaudio's folder)."""
        usable, missing = False, []
        for path in sorted(glob.glob(os.path.join(os.path.dirname(package_dir), pattern))):
            info = loader.dynamic(path)
            needed = [n for n in (info.needed if info else ()) if AUDIO_NATIVE.match(n)]
            lacking = [n for n in needed if loader.resolve(n, requester=path).path is None]
            missing += [(lacking[0], os.path.basename(path))] if lacking else []  # the first names the family
            usable = usable or (info is not None and not lacking)
        return usable, missing

    present, usable, missing = [], [], []
    if release >= TORCHCODEC_SINCE:
        if module("torchcodec"):
            present.append("torchcodec")
            ok, lacking = plugins("torchcodec/libtorchcodec_core*.so")
            missing += lacking
            if ok or not lacking:
                usable.append("torchcodec")
        return AudioIO(release, tuple(present), tuple(usable), tuple(missing))
    if module("soundfile"):
        present.append("soundfile")
        usable.append("soundfile")
    sox_ok, sox_missing = plugins("torchaudio/lib/libtorchaudio_sox.so")
    if sox_ok or sox_missing:
        present.append("sox")
        usable += ["sox"] if sox_ok else []
    ffmpeg_ok, ffmpeg_missing = plugins("torio/lib/libtorio_ffmpeg*.so")
    if ffmpeg_ok or ffmpeg_missing:
        present.append("ffmpeg")
        usable += ["ffmpeg"] if ffmpeg_ok else []
    missing = sox_missing + ([] if ffmpeg_ok else ffmpeg_missing)
    # torchaudio.io: 2.0's lib/libtorchaudio_ffmpeg.so (FFmpeg 4: libavutil.so.56, libavcodec.so.58, ...), 2.1-2.8's
    # torio plug-ins (FFmpeg 4, 5 or 6)
    stream_ok, stream_missing = (
        plugins("torchaudio/lib/libtorchaudio_ffmpeg.so") if release < (2, 1) else (ffmpeg_ok, ffmpeg_missing)
    )
    streaming = None if not (stream_ok or stream_missing) else bool(stream_ok)
    return AudioIO(
        release,
        tuple(present),
        tuple(usable),
        tuple(missing),
        streaming=streaming,
        streaming_lacks=tuple(dict.fromkeys(n for n, _ in stream_missing)),
    )


BUNDLED = re.compile(r"\.[0-9a-f]{8}\.so")  # auditwheel repair's renamed copies inside a wheel's <name>.libs


def image_extension_lacks(package_dir, torch_lib):
    """Return the sonames torchvision's image extension (image.so: decode_jpeg, read_image, encode_png, ...) needs
    and the loader would not find (its DT_RUNPATH first: the pip wheel's torchvision.libs), ignoring torch's own
    libraries in `torch_lib` (loaded with torch); () when all resolve or there is no such file. torchvision only
    warns at import when it cannot load (io/image.py: `Failed to load image Python extension`), and every image
    I/O call then fails."""
    path = os.path.join(package_dir, "image.so")
    info = loader.dynamic(path) if os.path.isfile(path) else None
    if info is None:
        return ()
    # a soname this process has mapped already (the C and C++ runtimes, torch's own) is reused by ld.so, not searched
    mapped = {os.path.basename(f) for f in loader.mapped_files()}
    return tuple(
        n
        for n in info.needed
        if n not in mapped
        and not os.path.exists(os.path.join(torch_lib, n))
        and loader.resolve(n, requester=path).path is None
    )


def video_notes(package_dir, find_spec=None):
    """What of torchvision's optional video features is unavailable here, from its files (phrases): the pyav
    backend needs the `av` package; the video_reader backend exists only where torchvision was built from source
    with FFmpeg (torchvision/io/_video_opt.py loads the `video_reader` extension; PyTorch's wheels and conda
    packages ship none: "video_reader video backend is not available. Please compile torchvision from source")."""
    find_spec = find_spec or importlib.util.find_spec
    if not package_dir or not os.path.isfile(os.path.join(package_dir, "io", "_video_opt.py")):
        return []
    found = []
    try:
        has_av = find_spec("av") is not None
    except (ImportError, ValueError):
        has_av = False
    if not has_av:
        found.append('the "pyav" video backend: av is not installed (`pip install av`)')
    if not glob.glob(os.path.join(glob.escape(package_dir), "video_reader*.so")):
        found.append(
            'the "video_reader" video backend: not built into this torchvision (only a build from source with FFmpeg '
            "has it: build torchvision from source at the tag of its release)"
        )
    return found
