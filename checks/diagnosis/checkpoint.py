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

Two failures of loading a file that torch read whole are judged by what their own text lists:
- load_state_dict's "Error(s) in loading state_dict for M: Missing key(s) ... Unexpected key(s) ..." (torch/nn/
  modules/module.py): when the two lists are the same names but for one prefix, the checkpoint was saved from a
  wrapped model and loaded into the bare one, or the other way round. The wrappers' prefixes are their attribute
  names: `module.` (torch.nn.DataParallel and DistributedDataParallel keep the model as `self.module`) and
  `_orig_mod.` (torch.compile's OptimizedModule keeps it as `self._orig_mod`). Its "size mismatch for P: copying a
  param with shape A from checkpoint, the shape in current model is B" means the model was built with another
  configuration than the one saved (the checkpoint's shape is the fact).
- torch.load's "Weights only load failed" (torch/serialization.py): from torch 2.6 torch.load defaults to
  weights_only=True (PyTorch 2.6 release notes), and the unpickler refuses any global not allow-listed, which its
  message names ("Unsupported global: GLOBAL numpy.core.multiarray.scalar").
"""

import os
import re

from checks.compat import version_key
from checks.diagnosis.model import PATH, Cause

READER = re.compile(r"PytorchStreamReader failed reading zip archive|invalid load key, '(.{1,4})'")
SUFFIX = re.compile(r"\.(pt|pth|bin|ckpt|tar|pkl|pickle|model|safetensors)$", re.I)
LFS = b"version https://git-lfs.github.com/spec/v1"
# how a web page or a server's error document starts (a data file that merely begins with '<' is not one)
HTML_START = re.compile(rb"\s*<(!doctype|html|head|body|title|\?xml|!--)", re.I)
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
            if HTML_START.match(head) and not path.endswith(".safetensors"):
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

# Hosts whose download link returns a page instead of the file, told by the page's <title>, and the download that
# gets the file. Google Drive answers a plain wget/curl of a large file's link with its "Virus scan warning" page
# (Daniil-Osokin/gccpm-look-into-person-cvpr19.pytorch#22); gdown answers that page's confirmation. The Hugging Face
# Hub's `/blob/` URL is the file's web page; `/resolve/` is the file.
HTML_HOSTS = (
    (
        re.compile(r"Google Drive", re.I),
        "Google Drive's page (%s) that a plain wget or curl of a Drive link saves for a large file",
        "download it again with gdown, which answers Drive's confirmation (`python -m pip install gdown && gdown "
        "FILE_ID -O %s`), or from a browser, and check its size",
    ),
    (
        re.compile(r"Hugging Face", re.I),
        "a Hugging Face Hub web page (%s): a `/blob/` link is the file's page, not the file",
        "download it again from the `/resolve/` link (or `huggingface-cli download REPO FILE`), and check its size",
    ),
)
TITLE = re.compile(rb"<title[^>]*>([^<]{1,200})</title>", re.I)


def html_title(path, limit=1 << 16):
    """The <title> of the HTML page at `path` (its first `limit` bytes read), or None."""
    try:
        with open(path, "rb") as handle:
            found = TITLE.search(handle.read(limit))
    except OSError:
        return None
    return " ".join(found.group(1).decode("utf-8", "replace").split()) if found else None


def file_cause(path, kind):
    """(meaning, fix) for the checkpoint at `path` that kind_of() found to be `kind`: MEANINGS', or for an HTML page
    whose title names a host (HTML_HOSTS) that host's page and the download that gets the file."""
    meaning, fix = MEANINGS[kind]
    meaning = meaning % path
    if kind == "html":
        title = html_title(path)
        for pattern, page, download in HTML_HOSTS if title else ():
            if pattern.search(title):
                page = page % ('"%s"' % title)
                meaning = "%s is %s, not the checkpoint" % (path, page)
                fix = download % os.path.basename(path) if "%s" in download else download
                break
    return meaning, fix


STATE_DICT = re.compile(r"Error\(s\) in loading state_dict for (\w+)")
KEYS = re.compile(r"(Missing|Unexpected) key\(s\) in state_dict: ((?:\"[^\"\n]*\"(?:, )?)+)")
SIZE_MISMATCH = re.compile(
    r"size mismatch for ([\w.]+): copying a param with shape (torch\.Size\(\[[\d, ]*\]\)) from checkpoint, the "
    r"shape in current model is (torch\.Size\(\[[\d, ]*\]\))"
)
WRAPPERS = {"module.": "torch.nn.DataParallel or DistributedDataParallel", "_orig_mod.": "torch.compile"}
WEIGHTS_ONLY = re.compile(r"Weights only load failed")
UNSUPPORTED_GLOBAL = re.compile(r"Unsupported (?:global: GLOBAL|class) ([\w.]+)")  # 2.4+; 2.0 to 2.3


def _prefix(extra, lacking):
    """Return the wrapper prefix that turns every key of `lacking` into one of `extra`, or None."""
    for prefix in WRAPPERS:
        if extra and all(k.startswith(prefix) for k in extra) and {k[len(prefix) :] for k in extra} >= set(lacking):
            return prefix
    return None


def by_state_dict(parts):
    """load_state_dict's key and shape errors, judged by the keys and shapes its message lists (module docstring)."""
    found = STATE_DICT.search(parts.text)
    if found is None:
        return None
    model = found.group(1)
    keys = {kind: re.findall(r'"([^"]*)"', listed) for kind, listed in KEYS.findall(parts.text)}
    missing, unexpected = keys.get("Missing", []), keys.get("Unexpected", [])
    saved = _prefix(unexpected, missing)
    if saved is not None:
        return Cause(
            meaning="the checkpoint was saved from a model wrapped by %s: its keys carry the prefix %r (%s), which "
            "the bare %s being loaded does not have" % (WRAPPERS[saved], saved, unexpected[0], model),
            fix="strip the prefix before loading: `state = {k.removeprefix(%r): v for k, v in state.items()}` "
            "(and save the unwrapped model's state_dict: `model.%s.state_dict()`)" % (saved, saved.rstrip(".")),
            fact="every unexpected key is a missing key with the prefix %r" % saved,
        )
    wrapped = _prefix(missing, unexpected)
    if wrapped is not None:
        return Cause(
            meaning="the checkpoint was saved from the bare model and is loaded into one wrapped by %s: the model's "
            "keys carry the prefix %r (%s), the checkpoint's do not" % (WRAPPERS[wrapped], wrapped, missing[0]),
            fix="load it into the wrapped model's own module: `model.%s.load_state_dict(state)` (or before wrapping)"
            % wrapped.rstrip("."),
            fact="every missing key is an unexpected key with the prefix %r" % wrapped,
        )
    shape = SIZE_MISMATCH.search(parts.text)
    if shape is not None:
        name, saved_shape, current = shape.groups()
        return Cause(
            meaning="the checkpoint's %s has shape %s and this %s's has %s: the model was built with another "
            "configuration than the one saved (a different number of classes, vocabulary or width)"
            % (name, saved_shape, model, current),
            fix="build the model with the checkpoint's configuration; to reuse it for another head, drop the "
            "mismatched entries from the state dict and load with `strict=False`",
            fact="%s: %s in the checkpoint, %s in the model" % (name, saved_shape, current),
        )
    return None


PICKLE_LIMIT = 8 << 20  # bytes of a checkpoint's pickle read for its globals


DOTTED = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")  # a module or qualified name as pickle writes it
PUSHES_NOTHING = ("PROTO", "FRAME", "MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT", "MARK", "POP", "POP_MARK", "STOP")


def pickle_globals(path, limit=PICKLE_LIMIT):
    """The globals ("module.name") a torch.save file's pickle refers to, read without unpickling (pickletools reads
    the opcodes: GLOBAL's argument; STACK_GLOBAL's module and name, the two strings pushed just before it, directly
    or from the memo by GET, as protocol 4 writes a repeated module name): the zip format's `<name>/data.pkl` member
    (torch.save since 1.6; () when that member is over `limit` bytes), else the file itself when it starts as a
    pickle of protocol 2 or later does (PROTO, 0x80), its first `limit` bytes read. Names that are not dotted
    identifiers are dropped."""
    import pickletools
    import zipfile

    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                member = next((i for i in archive.infolist() if i.filename.endswith("/data.pkl")), None)
                if member is None or member.file_size > limit:
                    return ()
                data = archive.read(member)
        else:  # a plain pickle: its first `limit` bytes (the globals of a long one's start)
            with open(path, "rb") as handle:
                data = handle.read(limit)
    except (OSError, ValueError, zipfile.BadZipFile, RuntimeError, NotImplementedError):
        return ()
    if data[:1] != b"\x80":  # not a pickle (a tar archive, a text file) or a protocol 0/1 one: not read
        return ()
    found, pushed, memo = [], [], {}
    try:
        for opcode, argument, _ in pickletools.genops(data):
            name = opcode.name
            if name == "GLOBAL" and isinstance(argument, str):
                found.append(argument.replace(" ", ".", 1))
                pushed.append(None)
            elif name == "STACK_GLOBAL":
                pair = pushed[-2:]
                if len(pair) == 2 and all(isinstance(p, str) for p in pair):
                    found.append("%s.%s" % tuple(pair))
                pushed.append(None)
            elif "UNICODE" in name and isinstance(argument, str):
                pushed.append(argument)
            elif name == "MEMOIZE" and pushed:
                memo[len(memo)] = pushed[-1]
            elif name in ("PUT", "BINPUT", "LONG_BINPUT") and pushed:
                memo[argument] = pushed[-1]
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                pushed.append(memo.get(argument))
            elif name == "STOP":
                break
            elif name not in PUSHES_NOTHING:
                pushed.append(None)
            del pushed[:-4]
    except (ValueError, EOFError, KeyError, IndexError):
        pass
    return tuple(dict.fromkeys(g for g in found if DOTTED.match(g)))


# safetensors' dtype names and the torch dtype each loads as (safetensors/torch.py's _TYPES): the ones a torch
# release may lack.
SAFETENSORS_DTYPES = {
    "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2",
    "F8_E8M0": "float8_e8m0fnu",
    "U16": "uint16",
    "U32": "uint32",
    "U64": "uint64",
}
HEADER_LIMIT = 8 << 20  # bytes of a .safetensors header read (the format allows 100 MB; real ones are far smaller)


def safetensors_dtypes(path, limit=HEADER_LIMIT):
    """The dtypes (safetensors' names: "F8_E4M3", "BF16") of the tensors a .safetensors file holds, read from its
    header (the format: an 8-byte little-endian length N, then N bytes of JSON mapping each tensor to its dtype,
    shape and offsets; `__metadata__` is not a tensor). () when it is not one or its header is over `limit`."""
    import json
    import struct

    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
            if len(head) < 8:
                return ()
            (size,) = struct.unpack("<Q", head)
            if size > limit:
                return ()
            header = json.loads(handle.read(size).decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, struct.error, RecursionError):
        return ()
    if not isinstance(header, dict):
        return ()
    kinds = (v.get("dtype") for k, v in header.items() if k != "__metadata__" and isinstance(v, dict))
    return tuple(dict.fromkeys(k for k in kinds if isinstance(k, str)))


def refused_globals(path, torch):
    """The globals of the checkpoint at `path` (pickle_globals) that the installed `torch`'s weights_only unpickler
    does not allow by default: torch._weights_only_unpickler._get_allowed_globals() (present from torch 2.0) and, from
    2.5, torch.serialization.get_safe_globals(). None when torch's list cannot be read."""
    try:
        from torch import _weights_only_unpickler

        allowed = set(_weights_only_unpickler._get_allowed_globals())
    except (ImportError, AttributeError, TypeError):
        return None
    safe = getattr(getattr(torch, "serialization", None), "get_safe_globals", None)
    try:
        for item in safe() if safe is not None else ():
            item = item[0] if isinstance(item, tuple) else item
            allowed.add("%s.%s" % (getattr(item, "__module__", ""), getattr(item, "__qualname__", "")))
    except Exception:  # noqa: BLE001 - the user's own allow-list is an extra; without it the default list decides
        pass
    import _compat_pickle  # pickle's own map of Python 2 module names (protocol 2 writes `__builtin__ set`)

    found = []
    for name in pickle_globals(path):
        module, _, attribute = name.rpartition(".")
        name = "%s.%s" % (_compat_pickle.IMPORT_MAPPING.get(module, module), attribute)
        if name not in allowed:
            found.append(name)
    return tuple(found)


def by_weights_only(parts, facts):
    """torch.load refused a global under weights_only=True (module docstring); the installed torch's release says
    whether that is torch 2.6's new default."""
    if WEIGHTS_ONLY.search(parts.text) is None:
        return None
    name = UNSUPPORTED_GLOBAL.search(parts.text)
    torch = facts.provenance.packages.get("torch")
    version = torch.imported.version if torch is not None and torch.imported is not None else None
    default = version is not None and version_key(version) >= version_key("2.6")
    what = "a global torch does not allow-list by default (%s)" % name.group(1) if name else "a non-tensor object"
    short = name.group(1).rsplit(".", 1)[-1] if name else "THE_CLASS"
    # torch.serialization.add_safe_globals: torch 2.4+ (its message names it where the raising torch has it)
    allow = version is None or version_key(version) >= version_key("2.4") or "add_safe_globals" in parts.text
    return Cause(
        meaning="torch.load read the file with weights_only=True%s, and the checkpoint holds %s"
        % (" (the default from torch 2.6; this is torch %s)" % version if default else "", what),
        fix="if you trust the file's source: `torch.load(path, weights_only=False)`"
        + ("; else allow-list that global: `torch.serialization.add_safe_globals([%s])` before loading" % short)
        * allow,
        fact="torch %s; %s" % (version or "?", "unsupported global %s" % name.group(1) if name else "weights_only"),
    )


def by_checkpoint(parts, facts):
    """Rule 4h (the module docstring)."""
    judged = by_state_dict(parts) or by_weights_only(parts, facts)
    if judged is not None:
        return judged
    found = READER.search(parts.text)
    if found is None:
        return None
    for path in [p for p in PATH.findall(parts.text) if SUFFIX.search(p)][-4:]:
        kind, size = kind_of(path)
        if kind is not None:
            meaning, fix = file_cause(path, kind)
            return Cause(meaning=meaning, fix=fix, fact="%s: %s, %d bytes" % (path, kind, size or 0))
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
