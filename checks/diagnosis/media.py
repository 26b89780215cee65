"""Rule 2e: a failure of torchaudio's audio I/O or of torchvision's image extension, judged by their plug-ins' files
(checks/machine/media.py, the facts verify's torchvision and torchaudio lines read): the backends present and the
native library each plug-in lacks. Texts: torchaudio's "Couldn't find appropriate backend to handle uri ..." (2.1 to
2.8, _backend/utils.py), "No audio I/O backend is available." (2.0), "TorchCodec is required ..." (2.9+);
torchvision's "Failed to load image Python extension" warning (io/image.py) and the op that then has no kernel
("No such operator image::decode_jpeg")."""

import os
import re

from checks.diagnosis.model import Cause
from checks.machine import media
from checks.machine import provenance as provenance_facts

AUDIO = re.compile(
    r"Couldn't find appropriate backend to handle uri|No audio I/O backend is available|TorchCodec is required|"
    r"libtorchaudio_sox|libtorio_ffmpeg"
)
IMAGE = re.compile(r"No such operator image::|Failed to load image Python extension|torchvision[/\\]image\.so")


def _copy(name, facts):
    package = facts.provenance.packages.get(name)
    if package is None or package.imported is None:
        return None, None
    copy = package.imported
    return copy.path, copy.version or provenance_facts.version_py(copy.path).get("__version__")


def by_media(parts, facts):
    """Rule 2e (the module docstring)."""
    if AUDIO.search(parts.text):
        path, version = _copy("torchaudio", facts)
        if path and version:
            audio = media.audio_io(version, path)
            problem = audio.problem()
            if problem is not None:
                return Cause(
                    meaning="torchaudio %s: %s" % (version, problem[0]),
                    fix=problem[1],
                    fact="audio I/O present: %s; lacking: %s"
                    % (
                        ", ".join(audio.present) or "none",
                        ", ".join("%s (for %s)" % pair for pair in audio.missing) or "nothing",
                    ),
                )
    if IMAGE.search(parts.text) and facts.torch_dir:
        path, version = _copy("torchvision", facts)
        if path:
            lacks = media.image_extension_lacks(path, os.path.join(facts.torch_dir, "lib"))
            if lacks:
                bundled = all(media.BUNDLED.search(n) for n in lacks)
                return Cause(
                    meaning="torchvision %s's image extension (image.so) cannot load: the loader finds no %s, so "
                    "image decoding and encoding (torchvision.io) fail" % (version or "", ", ".join(lacks)),
                    fix="install torchvision again from the same index as torch (its own copies in torchvision.libs "
                    "are missing)"
                    if bundled
                    else "install what provides %s into this environment (conda/pixi: libjpeg-turbo, libpng), or use "
                    "torchvision from the same source as torch" % ", ".join(lacks),
                    fact="image.so needs %s: not found" % ", ".join(lacks),
                )
    return None
