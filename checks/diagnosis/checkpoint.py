"""Rule 4h: torch.load failing on what the file is, not on torch. torch.save writes a zip archive (since 1.6; the
older format is a pickle stream): torch's reader stops with "PytorchStreamReader failed reading zip archive: failed
finding central directory" (caffe2/serialize/inline_container.cc) when the file is not a whole zip, and pickle with
"invalid load key, 'X'" when the first byte is not a pickle opcode. Which file it is decides the cause:

- a Git LFS pointer (a text file starting "version https://git-lfs.github.com/spec/v1", the LFS specification) where
  the repository's large file was never fetched: pickle reads its 'v';
- an HTML page (an error or login page saved under the checkpoint's name): pickle reads its '<';
- an empty file, or a zip whose end-of-central-directory record (PKWARE's APPNOTE 4.3.16: signature PK\\5\\6 in the
  last 65,557 bytes) is missing: the download or the save was cut short.

The file is read when the failure names it (its path ends in a checkpoint suffix); else the first byte pickle
quotes decides, as those bytes are the start of the same kinds of file.
"""

import os
import re

from checks.diagnosis.model import PATH, Cause

READER = re.compile(r"PytorchStreamReader failed reading zip archive|invalid load key, '(.{1,4})'")
SUFFIX = re.compile(r"\.(pt|pth|bin|ckpt|tar|pkl|pickle|model|safetensors)$", re.I)
LFS = b"version https://git-lfs.github.com/spec/v1"
EOCD = b"PK\x05\x06"


def kind_of(path, limit=1 << 16):
    """Return ("lfs" | "html" | "empty" | "truncated" | None, size in bytes) of the file at `path`: what it is where
    that explains a failed torch.load; None for a whole zip or another pickle stream (or an unreadable file)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(512)
            if head.startswith(LFS):
                return "lfs", size
            if not head:
                return "empty", 0
            if head.lstrip()[:1] == b"<":
                return "html", size
            if head.startswith(b"PK\x03\x04"):
                handle.seek(max(0, size - min(size, limit + 22)))
                tail = handle.read()
                return (None if EOCD in tail else "truncated"), size
    except OSError:
        return None, None
    return None, size


MEANINGS = {
    "lfs": (
        "%s is a Git LFS pointer (a small text file), not the checkpoint: the repository's large files were not "
        "fetched",
        "fetch them: `git lfs install && git lfs pull` in the repository (or download the file from the model's page "
        "directly)",
    ),
    "html": (
        "%s is an HTML page saved under the checkpoint's name (an error, login or redirect page), not the checkpoint",
        "download it again from a direct link (with the credentials the host asks for) and check its size",
    ),
    "empty": (
        "%s is empty: the download or the save that wrote it did not finish",
        "download (or save) it again and check its size or checksum against the source",
    ),
    "truncated": (
        "%s is a zip archive cut short (no end-of-central-directory record): the download or the save did not finish "
        "(a full disk, a killed job, an interrupted transfer)",
        "download (or save) it again, where there is free space, and check its size or checksum against the source",
    ),
}
# pickle's first byte of the same kinds of file, when the failure names no file
BYTE_KINDS = {"v": "lfs", "<": "html"}


def by_checkpoint(parts, facts):
    """Rule 4h (the module docstring)."""
    found = READER.search(parts.text)
    if found is None:
        return None
    for path in [p for p in PATH.findall(parts.text) if SUFFIX.search(p)][-4:]:
        kind, size = kind_of(path)
        if kind is not None:
            meaning, fix = MEANINGS[kind]
            return Cause(meaning=meaning % path, fix=fix, fact="%s: %s, %d bytes" % (path, kind, size or 0))
    kind = BYTE_KINDS.get(found.group(1) or "")
    if kind is not None:
        meaning, fix = MEANINGS[kind]
        return Cause(
            meaning=meaning % "the file torch.load read",
            fix=fix,
            fact="pickle's first byte %r (%s)" % (found.group(1), "a Git LFS pointer's" if kind == "lfs" else "HTML's"),
        )
    if found.group(1) is None:  # torch's zip reader, no file to read: what its message means
        return Cause(
            meaning="the file torch.load read is not a whole zip archive (torch.save's format): cut short by an "
            "unfinished download or save, or another file saved under its name",
            fix="download (or save) it again and check its size or checksum against the source; `head -c 64 FILE` "
            "shows a Git LFS pointer or an HTML page",
            fact="torch's zip reader found no central directory",
        )
    return None
