"""Reading another team's workspace files (pixi.toml, pyproject.toml, pixi.lock) as untrusted input.

`read_text(path, what, limit, error)` returns the text of a regular file of at most `limit` bytes, decoded as UTF-8,
or raises `error` (a UsageError subclass: exit 2) naming the file, the line where it applies, and the fix:
- only a regular file is read: a directory, FIFO, socket or device (`/dev/zero`) is refused before any read, and
  the file is opened non-blocking, so a FIFO swapped in after the check cannot hang the read either;
- at most `limit` bytes are read (limit + 1 to tell "too large"), so size bounds both time and memory;
- the text must be UTF-8 (pixi reads UTF-8 only: toml-span takes a `&str`, rattler_lock reads the lock with
  `std::fs::read_to_string`); UTF-16 (a byte-order mark), NUL bytes (binary data) and invalid UTF-8 are named with
  the line they start on.

`escape(text)` writes text taken from such a file with control characters escaped, for a terminal.
"""

import os
import re
import stat

# The limits, and why: pixi's own pixi.toml at v0.77.0 is 19,858 bytes and the largest pixi.lock in its repository
# (examples/ros2-nav2) 2,868,036 bytes; the limits are about 200x and 6x those, far above any real workspace, and
# keep a hostile file's cost bounded: a lock just under the limit takes lock-audit about 5 s and 0.5 GB on a 2-core
# machine (tools/measure_untrusted.py; docs/workspaces.md).
MANIFEST_LIMIT = 4 * 1024 * 1024
LOCK_LIMIT = 16 * 1024 * 1024
MiB = 1024 * 1024

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))
_KINDS += ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _kind(mode):
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_text(path, what, limit, error, fix):
    """Return the UTF-8 text of the regular file `path` (at most `limit` bytes), or raise `error`.

    what: how messages name the file (`manifest`, `lock`); fix: the remedy for a file that is not UTF-8 text.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise error("cannot read %s %s: %s" % (what, path, exc.strerror or exc)) from None
    if not stat.S_ISREG(mode):
        raise error("%s %s is %s, not a regular file: pass the path of the file itself" % (what, path, _kind(mode)))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise error("cannot read %s %s: %s" % (what, path, exc.strerror or exc)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # replaced between the two looks
            raise error("%s %s is %s, not a regular file" % (what, path, _kind(mode)))
        with os.fdopen(fd, "rb") as handle:
            fd = None
            data = handle.read(limit + 1)
    except OSError as exc:
        raise error("cannot read %s %s: %s" % (what, path, exc.strerror or exc)) from None
    finally:
        if fd is not None:
            os.close(fd)
    if len(data) > limit:
        raise error(
            "%s %s is larger than %d MiB, the limit for a %s (pixi's own are far smaller: see docs/workspaces.md, "
            '"Reading another team\'s workspace"); this is not a %s pixi wrote' % (what, path, limit // MiB, what, what)
        )
    return decode(data, path, what, error, fix)


def decode(data, path, what, error, fix):
    """Return bytes decoded as UTF-8 (a UTF-8 byte-order mark dropped), or raise `error` naming the line."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise error(
            "%s %s line 1: the file is UTF-16 (it starts with a UTF-16 byte-order mark); %s" % (what, path, fix)
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise error("%s %s line %d: binary data (a NUL byte), not text; %s" % (what, path, line, fix))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(
            "%s %s line %d: not UTF-8 text (byte 0x%02x); %s" % (what, path, line, data[exc.start], fix)
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape(text):
    """Return `text` with control characters (C0 but tab and newline, DEL, C1, bidirectional overrides) written as
    `\\xNN` / `\\uNNNN`, so that a name taken from a file cannot move the cursor or recolour a terminal."""
    text = str(text)
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(
        lambda m: "\\x%02x" % ord(m.group()) if ord(m.group()) < 256 else "\\u%04x" % ord(m.group()), text
    )
