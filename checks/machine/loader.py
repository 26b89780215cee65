"""The native library search, as the platform's loader does it: its inputs (LD_LIBRARY_PATH, LD_PRELOAD; DYLD_*
on macOS; PATH on Windows), which file a library named in a failure would be taken from, and after a good import
the CUDA, cuDNN, NCCL and cuBLAS libraries this process really loaded (/proc/self/maps), each marked as the
environment's own or not.

Linux's search order (ld.so(8), "Rpath token expansion" and the list under DESCRIPTION): LD_PRELOAD objects first;
then for a dependency of an object, that object's DT_RPATH (only when it has no DT_RUNPATH), LD_LIBRARY_PATH, its
DT_RUNPATH, /etc/ld.so.cache, then the default directories /lib and /usr/lib (with their multiarch and 64 variants).
`$ORIGIN` in a run path is the directory of the object that names it. The dynamic section is read with the ELF
layout of the System V gABI (elf(5)): DT_NEEDED 1, DT_STRTAB 5, DT_SONAME 14, DT_RPATH 15, DT_RUNPATH 29.
"""

import dataclasses
import functools
import glob
import os
import re
import struct
import subprocess
import sys
from typing import Dict, Optional, Tuple

# The variables each platform's loader reads (ld.so(8); dyld(1); LoadLibraryEx's standard search order).
VARIABLES = {
    "linux": ("LD_LIBRARY_PATH", "LD_PRELOAD", "GLIBC_TUNABLES"),
    "darwin": (
        "DYLD_LIBRARY_PATH",
        "DYLD_FALLBACK_LIBRARY_PATH",
        "DYLD_INSERT_LIBRARIES",
        "DYLD_FRAMEWORK_PATH",
    ),
    "win32": ("PATH", "CONDA_DLL_SEARCH_MODIFICATION_ENABLE"),
}
# The libraries of NVIDIA's stack a CUDA build loads; their names in /proc/self/maps.
NVIDIA_LIBRARY = re.compile(
    r"lib(cudart|cudnn\w*|nccl|cublas|cublasLt|nvrtc\w*|nvJitLink|cusparse\w*|cufft\w*|curand|cusolver\w*|cupti|"
    r"nvToolsExt|cuda)\.so(\.[\d.]+)?$"
)
# A shared library's file name in an error text: libfoo.so, libfoo.so.8, libfoo.so.12.1, foo.dll, libfoo.dylib.
LIBRARY_NAME = re.compile(r"(?<![\w.+-])((?:lib[\w+-]+(?:\.[\w+-]+)*?\.so(?:\.\d+)*)|[\w+-]+\.dll|lib[\w.+-]+\.dylib)")
# How `ldconfig -p` marks a 64-bit library of this machine (glibc's elf/cache.c, print_entry's flag names).
ABI_WORD = {"x86_64": "x86-64", "aarch64": "AArch64", "ppc64le": "64bit"}
DEFAULT_DIRS = ("/lib", "/usr/lib", "/lib64", "/usr/lib64")

DT_NEEDED, DT_STRTAB, DT_SONAME, DT_RPATH, DT_RUNPATH = 1, 5, 14, 15, 29
DT_VERNEED, DT_VERNEEDNUM = 0x6FFFFFFE, 0x6FFFFFFF  # symbol versions needed (the GNU extension, elf(5))
PT_LOAD, PT_DYNAMIC = 1, 2
PT_GNU_STACK, PF_X, PF_W, PF_R = 0x6474E551, 1, 2, 4  # the stack's permissions an object asks for (elf(5))
# e_machine values (the System V gABI's registry, elf(5)) of the machines torch is built for, and their neighbours
MACHINES = {
    3: "i386",
    8: "MIPS",
    20: "PowerPC",
    21: "PowerPC64",
    22: "s390",
    40: "ARM",
    62: "x86-64",
    183: "AArch64",
    243: "RISC-V",
}
# Machines whose ABI makes the stack executable when an object has no PT_GNU_STACK: glibc's sysdeps/*/stackinfo.h
# DEFAULT_STACK_PROT_PERMS holds PROT_EXEC for i386, x86_64, arm, powerpc32, s390, mips (among others); the generic
# default (aarch64, powerpc64, riscv) is PROT_READ|PROT_WRITE.
EXEC_STACK_DEFAULT = (3, 8, 20, 22, 40, 62)


@dataclasses.dataclass(frozen=True)
class Dynamic:
    """An ELF object's dynamic section: needed sonames, its own soname, DT_RPATH and DT_RUNPATH ($ORIGIN expanded)."""

    needed: Tuple[str, ...] = ()
    soname: Optional[str] = None
    rpath: Tuple[str, ...] = ()
    runpath: Tuple[str, ...] = ()
    versions: Tuple[Tuple[str, str], ...] = ()  # (library, version) needed, e.g. ("libc.so.6", "GLIBC_2.28")


@dataclasses.dataclass(frozen=True)
class Library:
    """A library file: soname or file name, its path, where the loader found it (`via`: LD_PRELOAD, LD_LIBRARY_PATH,
    DT_RPATH of X, DT_RUNPATH of X, ld.so.cache, default directory, /proc/self/maps), its version where the file
    name or its package says it, and `own`: True when it lies inside the environment (its prefix or torch's
    site-packages), False when outside, None when unknown."""

    name: str
    path: Optional[str]
    via: str
    version: Optional[str] = None
    own: Optional[bool] = None


@dataclasses.dataclass(frozen=True)
class Header:
    """What an ELF file's headers say about it, and its size on disk (elf(5); the System V gABI).

    path; size: bytes on disk; elf: True when it starts with the ELF magic; bits: 32 or 64 (EI_CLASS), None when not
    ELF; machine: e_machine (MACHINES names it); extent: the bytes the headers say the file holds (the end of the
    program header table, of the section header table and of every PT_LOAD segment's file image), None when not
    read; stack: the PT_GNU_STACK flags as `RW`/`RWE`, "" when the object has none, None when its program headers
    could not be read; start: the file's first bytes (at most 64), to tell what a non-ELF file is."""

    path: str
    size: int
    elf: bool
    bits: Optional[int] = None
    machine: Optional[int] = None
    extent: Optional[int] = None
    stack: Optional[str] = None
    start: bytes = b""

    @property
    def truncated(self):
        """True when the file is shorter than its own headers say (an interrupted download or copy)."""
        return self.extent is not None and self.size < self.extent

    @property
    def executable_stack(self):
        """True when the object asks for an executable stack: PF_X in PT_GNU_STACK, or no PT_GNU_STACK on a
        machine whose ABI default is executable (EXEC_STACK_DEFAULT); None when the headers were not read."""
        if self.stack is None:
            return None
        if self.stack == "":
            return self.machine in EXEC_STACK_DEFAULT
        return "E" in self.stack

    def architecture(self):
        """`64-bit x86-64`, `32-bit i386`, or `not ELF`."""
        if not self.elf:
            return "not ELF"
        return "%s-bit %s" % (self.bits, MACHINES.get(self.machine, "machine %s" % self.machine))


def header(path):
    """Return the Header of the file at `path` (reads the ELF header and the program header table only), or None
    when it cannot be opened."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            ident = handle.read(64)
            if ident[:4] != b"\x7fELF":
                return Header(path=path, size=size, elf=False, start=ident)
            bits = {1: 32, 2: 64}.get(ident[4]) if len(ident) > 4 else None
            order = "<" if len(ident) > 5 and ident[5] == 1 else ">"
            need = 64 if bits == 64 else 52
            if bits is None or len(ident) < need:
                return Header(path=path, size=size, elf=True, bits=bits, extent=need, start=ident)
            machine = struct.unpack(order + "H", ident[18:20])[0]
            if bits == 64:
                phoff, shoff = struct.unpack(order + "QQ", ident[32:48])
                phentsize, phnum, shentsize, shnum = struct.unpack(order + "HHHH", ident[54:62])
            else:
                phoff, shoff = struct.unpack(order + "II", ident[28:36])
                phentsize, phnum, shentsize, shnum = struct.unpack(order + "HHHH", ident[42:50])
            extent = max(need, phoff + phentsize * phnum, shoff + shentsize * shnum if shoff else 0)
            stack = None
            handle.seek(phoff)
            table = handle.read(phentsize * phnum)
            if phnum and len(table) == phentsize * phnum and phentsize >= (56 if bits == 64 else 32):
                stack = ""
                for i in range(phnum):
                    raw = table[i * phentsize : (i + 1) * phentsize]
                    if bits == 64:
                        kind, flags, offset, _, _, filesz = struct.unpack(order + "IIQQQQ", raw[:40])
                    else:
                        kind, offset, _, _, filesz, _, flags = struct.unpack(order + "IIIIIII", raw[:28])
                    if kind == PT_LOAD:
                        extent = max(extent, offset + filesz)
                    elif kind == PT_GNU_STACK:
                        stack = "".join(c for bit, c in ((PF_R, "R"), (PF_W, "W"), (PF_X, "E")) if flags & bit)
            return Header(
                path=path, size=size, elf=True, bits=bits, machine=machine, extent=extent, stack=stack, start=ident
            )
    except (OSError, struct.error):
        return None


def host():
    """Return the Header of this interpreter's own executable: the ELF class and machine the loader accepts here
    (glibc's open_verify rejects another EI_CLASS with "wrong ELF class" and another e_machine as not found)."""
    for path in ("/proc/self/exe", sys.executable):
        found = header(path) if path else None
        if found is not None and found.elf:
            return found
    return None


# glibc's dynamic loader's messages, by what they mean (glibc elf/dl-load.c open_verify, _dl_map_object_from_fd and
# _dl_map_object; elf/dl-load.h DL_MAP_SEGMENTS_ERROR_*; elf/dl-reloc.c; elf/dl-lookup.c; elf/dl-version.c; at
# bminor/glibc 04e750e, 2026-01). dlerror() writes `OBJECT: MESSAGE` and, where errno is set, `: strerror(errno)`
# (dlfcn/dlerror.c); Python's ImportError / OSError carry that text.
MISSING, SHORT, HEADER, CLASS, EXECSTACK, MAP, TLS, SYMBOL, VERSION = (
    "missing",  # no file of that name where the loader looks (or only files for another machine)
    "short",  # the file ends before its headers do
    "header",  # the first bytes are not an ELF header this loader accepts
    "class",  # an ELF file of the other class (32/64-bit)
    "execstack",  # the object asks for an executable stack and the loader may not make the stack executable
    "map",  # mmap/mprotect of its segments refused (noexec mount, address-space limit, security policy)
    "tls",  # no room left in the static TLS block for its initial-exec TLS
    "symbol",  # a symbol no loaded object defines
    "version",  # a symbol version no loaded object defines
)
LOAD_ERRORS = (
    (MISSING, r"cannot open shared object file"),
    (SHORT, r"file too short|cannot read file data"),
    (
        HEADER,
        r"invalid ELF header|ELF file data encoding not (?:big|little)-endian|ELF file version ident does not match "
        r"current one|ELF file OS ABI invalid|ELF file ABI version invalid|nonzero padding in e_ident|ELF file "
        r"version does not match current one|only ET_DYN and ET_EXEC can be loaded|ELF file's phentsize not the "
        r"expected size|ELF load command address/offset not page-aligned|object file has no loadable segments|"
        r"object file has no dynamic section",
    ),
    (CLASS, r"wrong ELF class: ELFCLASS(?:32|64)"),
    (EXECSTACK, r"cannot enable executable stack as shared object requires"),
    (
        MAP,
        r"failed to map segment from shared object|cannot map zero-fill pages|cannot change memory protections|"
        r"cannot make segment writable for relocation|cannot restore segment prot after reloc",
    ),
    (TLS, r"cannot allocate memory in static TLS block"),
    (SYMBOL, r"undefined symbol: \S+"),
    (VERSION, r"version `[^']+' not found"),
)
LOAD_ERROR = re.compile(
    r"(?:(?P<object>[^\s:'\"]+): )?(?P<message>%s)(?:: (?P<reason>[A-Z][\w ]+))?"
    % "|".join("(?P<%s>%s)" % (kind, pattern) for kind, pattern in LOAD_ERRORS)
)


@dataclasses.dataclass(frozen=True)
class LoadError:
    """One loader failure in a text: kind (MISSING, SHORT, ...), the object it names (a path or a soname as the
    loader was asked for it; "" when none is named), glibc's message and the errno text after it ("" when none)."""

    kind: str
    object: str
    message: str
    reason: str = ""


def load_errors(text):
    """Return the LoadErrors in a failure's text, in order (LOAD_ERRORS lists the messages and their source)."""
    out = []
    for found in LOAD_ERROR.finditer(text or ""):
        kind = next(k for k, _ in LOAD_ERRORS if found.group(k))
        error = LoadError(kind, found.group("object") or "", found.group("message"), found.group("reason") or "")
        if error not in out:
            out.append(error)
    return out


def inputs(environ=None, system=None):
    """Return the loader variables that are set, for this platform (name -> value)."""
    environ = os.environ if environ is None else environ
    names = VARIABLES.get(system or sys.platform, VARIABLES["linux"])
    return {name: environ[name] for name in names if environ.get(name)}


def names_in(text):
    """Return the shared libraries named in a failure's text, in order, without repeats."""
    found = []
    for name in LIBRARY_NAME.findall(text or ""):
        base = os.path.basename(name)
        if base not in found and not base.startswith(("libpython",)):
            found.append(base)
    return found


# Where the ELF header (elf(5), Elf64_Ehdr / Elf32_Ehdr) keeps each header table's file offset and its entry size
# and count: (table, 64-bit) -> (offset of e_phoff/e_shoff, offset of e_phentsize/e_shentsize then the count)
HEADER_FIELDS = {
    ("program", True): (32, 54),
    ("program", False): (28, 42),
    ("section", True): (40, 58),
    ("section", False): (32, 46),
}


def _header_table(ident, wide, order, which):
    """(file offset, entry size, entry count) of the ELF header `ident`'s program or section header table."""
    at, sizes = HEADER_FIELDS[(which, wide)]
    offset = struct.unpack(order + ("Q" if wide else "I"), ident[at : at + (8 if wide else 4)])[0]
    entsize, count = struct.unpack(order + "HH", ident[sizes : sizes + 4])
    return offset, entsize, count


def dynamic(path, limit=64 << 20):
    """Return the Dynamic section of the ELF file at `path`, or None when it is not a readable ELF file (or larger
    than `limit` bytes where the section lies)."""
    try:
        with open(path, "rb") as handle:
            ident = handle.read(64)
            if len(ident) < 64 or ident[:4] != b"\x7fELF":
                return None
            wide, order = ident[4] == 2, "<" if ident[5] == 1 else ">"
            phoff, phentsize, phnum = _header_table(ident, wide, order, "program")
            handle.seek(phoff)
            table = handle.read(phentsize * phnum)
            loads, dyn = [], None
            for i in range(phnum):
                raw = table[i * phentsize : (i + 1) * phentsize]
                if wide:
                    kind, _, offset, vaddr, _, filesz = struct.unpack(order + "IIQQQQ", raw[:40])
                else:
                    kind, offset, vaddr, _, filesz = struct.unpack(order + "IIIII", raw[:20])
                if kind == PT_LOAD:
                    loads.append((vaddr, offset, filesz))
                elif kind == PT_DYNAMIC:
                    dyn = (offset, filesz)
            if dyn is None or dyn[1] > limit:
                return Dynamic()
            handle.seek(dyn[0])
            data = handle.read(dyn[1])
            size = 16 if wide else 8
            entries = [
                struct.unpack(order + ("qQ" if wide else "iI"), data[i : i + size])
                for i in range(0, len(data) - size + 1, size)
            ]
            strtab = next((value for tag, value in entries if tag == DT_STRTAB), None)
            if strtab is None:
                return Dynamic()
            base = next((off + strtab - va for va, off, sz in loads if va <= strtab < va + sz), strtab)

            def string(at):
                handle.seek(base + at)
                raw = handle.read(4096)
                return raw.split(b"\0", 1)[0].decode("utf-8", "replace")

            origin = os.path.dirname(os.path.abspath(path))

            def paths(tag):
                out = []
                for t, value in entries:
                    if t == tag:
                        for item in string(value).split(":"):
                            if item:
                                out.append(item.replace("$ORIGIN", origin).replace("${ORIGIN}", origin))
                return tuple(out)

            def offset(vaddr):
                return next((off + vaddr - va for va, off, sz in loads if va <= vaddr < va + sz), vaddr)

            needs = []
            verneed = next((v for t, v in entries if t == DT_VERNEED), None)
            count = next((v for t, v in entries if t == DT_VERNEEDNUM), 0)
            at = offset(verneed) if verneed is not None else None
            for _ in range(min(count, 256) if at is not None else 0):
                handle.seek(at)
                _, cnt, file_, aux, next_ = struct.unpack(order + "HHIII", handle.read(16))
                library, here = string(file_), at + aux
                for _ in range(min(cnt, 256)):
                    handle.seek(here)
                    _, _, _, name, next_aux = struct.unpack(order + "IHHII", handle.read(16))
                    needs.append((library, string(name)))
                    if not next_aux:
                        break
                    here += next_aux
                if not next_:
                    break
                at += next_

            soname = next((string(v) for t, v in entries if t == DT_SONAME), None)
            return Dynamic(
                versions=tuple(needs),
                needed=tuple(string(v) for t, v in entries if t == DT_NEEDED),
                soname=soname,
                rpath=paths(DT_RPATH),
                runpath=paths(DT_RUNPATH),
            )
    except (OSError, struct.error, ValueError):
        return None


SHT_DYNSYM, SHN_UNDEF = 11, 0  # the dynamic symbol table's section type; an undefined symbol's section index


def _section_headers(handle):
    """Read the open ELF file's section header table (elf(5)): (64-bit, byte order, e_shstrndx, [(sh_name, sh_type,
    sh_offset, sh_size, sh_link, sh_entsize), ...]), or None when it is not an ELF file or has no table."""
    ident = handle.read(64)
    if len(ident) < 52 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2):
        return None
    wide, order = ident[4] == 2, "<" if ident[5] == 1 else ">"
    shoff, shentsize, shnum = _header_table(ident, wide, order, "section")
    if not shoff or not shnum or shnum > 65535:
        return None
    at = HEADER_FIELDS[("section", wide)][1] + 4  # e_shstrndx follows e_shentsize and e_shnum
    names_index = struct.unpack(order + "H", ident[at : at + 2])[0]
    handle.seek(shoff)
    table = handle.read(shentsize * shnum)
    sections = []
    for i in range(shnum):
        raw = table[i * shentsize : (i + 1) * shentsize]
        if wide:
            name, kind, _, _, offset, size, link, _, _, entsize = struct.unpack(order + "IIQQQQIIQQ", raw[:64])
        else:
            name, kind, _, _, offset, size, link, _, _, entsize = struct.unpack(order + "IIIIIIIIII", raw[:40])
        sections.append((name, kind, offset, size, link, entsize))
    return wide, order, names_index, sections


def section_names(path, limit=1 << 20):
    """The names of the sections of the ELF file at `path` (`.text`, `.nv_fatbin`, ...: the section header table,
    named from the string table e_shstrndx gives; elf(5)), or None when it is not a readable ELF file or that string
    table exceeds `limit` bytes."""
    try:
        with open(path, "rb") as handle:
            headers = _section_headers(handle)
            if headers is None or headers[2] >= len(headers[3]) or headers[3][headers[2]][3] > limit:
                return None
            _, _, index, sections = headers
            handle.seek(sections[index][2])
            strings = handle.read(sections[index][3])
    except (OSError, struct.error, ValueError):
        return None
    return tuple(strings[s[0] : strings.find(b"\0", s[0])].decode("ascii", "replace") for s in sections if s[0])


def _dynsym(handle, limit):
    """Read the open ELF file's dynamic symbol table: (entries, .dynstr bytes, entry size, 64-bit, byte order), or
    None when it has none or the tables exceed `limit` bytes. `entries` and the string table are read in full."""
    headers = _section_headers(handle)
    if headers is None:
        return None
    wide, order, _, named = headers
    sections = [s[1:] for s in named]
    symtab = next((s for s in sections if s[0] == SHT_DYNSYM), None)
    if symtab is None or symtab[3] >= len(sections):
        return None
    strings = sections[symtab[3]]
    if strings[2] > limit or symtab[2] > limit:
        return None
    handle.seek(strings[1])
    names = handle.read(strings[2])
    handle.seek(symtab[1])
    return handle.read(symtab[2]), names, symtab[4] or (24 if wide else 16), wide, order


def _read_dynsym(path, limit):
    """_dynsym of the ELF file at `path`, or None when it cannot be read as one."""
    try:
        with open(path, "rb") as handle:
            return _dynsym(handle, limit)
    except (OSError, struct.error, ValueError):
        return None


def _entry(data, at, wide, order):
    """(name offset, section index) of the .dynsym entry at byte `at` (Elf64_Sym / Elf32_Sym, elf(5))."""
    if wide:
        name, _, _, index = struct.unpack(order + "IBBH", data[at : at + 8])
        return name, index
    return struct.unpack(order + "I", data[at : at + 4])[0], struct.unpack(order + "H", data[at + 14 : at + 16])[0]


def undefined(path, limit=8 << 20):
    """Return the names of the symbols the ELF file at `path` needs from other objects (.dynsym entries whose section
    index is SHN_UNDEF, elf(5)), or None when it is not a readable ELF object or its tables exceed `limit` bytes (an
    extension module's are small; torch's own libraries are not read so)."""
    table = _read_dynsym(path, limit)
    if table is None:
        return None
    data, names, entsize, wide, order = table
    found = []
    for at in range(entsize, len(data) - entsize + 1, entsize):  # entry 0 is the null symbol
        name, index = _entry(data, at, wide, order)
        if index == SHN_UNDEF and 0 < name < len(names):
            found.append(names[name : names.index(b"\0", name)].decode("utf-8", "replace"))
    return found


def defines(path, symbols, limit=128 << 20):
    """Return the subset of `symbols` (names, as `nm -D` prints them without a version) that the ELF file at `path`
    defines in its dynamic symbol table (.dynsym entries with a section index other than SHN_UNDEF, elf(5)); None
    when the file is not a readable ELF object or its tables are larger than `limit` bytes. The names are found in
    .dynstr first (also as the tail of a longer string: linkers merge suffixes), then the entries naming them are
    checked."""
    wanted = {s.encode("utf-8", "replace") for s in symbols}
    table = _read_dynsym(path, limit)
    if table is None:
        return None
    data, names, entsize, wide, order = table
    offsets = {}
    for name in wanted:  # a name may be the tail of a longer string (the linker merges suffixes)
        at = names.find(name + b"\0")
        while at >= 0:
            offsets[at] = name
            at = names.find(name + b"\0", at + 1)
    if not offsets:
        return set()
    found = set()
    for at in range(0, len(data) - entsize + 1, entsize):
        name, index = _entry(data, at, wide, order)
        if name in offsets and index != SHN_UNDEF:
            found.add(offsets[name].decode("utf-8", "replace"))
    return found


def defined_starting(path, prefix, limit=128 << 20, most=32):
    """Return the names (at most `most`) that the ELF file at `path` defines in its dynamic symbol table and that
    begin with `prefix` (a mangled C++ function's qualified name, `_ZN3c106detail14torchCheckFailE`: its overloads
    and ABI variants); None when the file is not a readable ELF object or its tables exceed `limit` bytes."""
    table = _read_dynsym(path, limit)
    if table is None:
        return None
    names = table[1]
    start = prefix.encode("utf-8", "replace")
    candidates, at = [], names.find(start)
    while at >= 0 and len(candidates) < most * 4:
        if at == 0 or names[at - 1 : at] == b"\0":  # the start of a string, not the tail of a longer one
            candidates.append(names[at : names.index(b"\0", at)].decode("utf-8", "replace"))
        at = names.find(start, at + 1)
    found = defines(path, candidates, limit) if candidates else set()
    return None if found is None else sorted(found)[:most]


def ld_cache(timeout=5.0):
    """Return soname -> path from /etc/ld.so.cache (`ldconfig -p`), or {} where it cannot be read; read once per
    process (the cache does not change while a check runs), a fresh dict each call."""
    return dict(_ld_cache(timeout))


@functools.lru_cache(maxsize=None)
def _ld_cache(timeout):
    for exe in ("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"):
        try:
            out = subprocess.run(
                [exe, "-p"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=timeout, text=True
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        cache, word = {}, ABI_WORD.get(os.uname().machine)
        for line in out.splitlines():
            found = re.match(r"\s+(\S+) \(([^)]*)\) => (\S+)", line)
            if found and (word is None or word in found.group(2)):
                cache.setdefault(found.group(1), found.group(3))
        return cache
    return {}


def version_of(path):
    """Return a library's version from its real file name (`libcudnn.so.8.9.2` -> `8.9.2`) or the pip wheel that
    installed it (`site-packages/nvidia/cudnn/lib` -> the `nvidia_cudnn_*` dist-info's version), else None."""
    if not path:
        return None
    real = os.path.realpath(path)
    found = re.search(r"\.so\.(\d+(?:\.\d+)+)$", real) or re.search(r"\.(\d+(?:\.\d+)+)\.dylib$", real)
    if found:
        return found.group(1)
    parts = real.split(os.sep)
    if "nvidia" in parts:
        at = len(parts) - 1 - parts[::-1].index("nvidia")
        if at + 1 < len(parts):
            site_dir = os.sep.join(parts[:at])
            component = parts[at + 1]
            for info in glob.glob(os.path.join(glob.escape(site_dir), "nvidia_%s*.dist-info" % component)):
                name = os.path.basename(info)[: -len(".dist-info")]
                return name.rsplit("-", 1)[-1]
    found = re.search(r"\.so\.(\d+)$", real)
    return found.group(1) if found else None


def environment_dirs(environment, torch_dir=None):
    """Return the directories where the environment keeps its own native libraries: torch's lib/, the pip wheels'
    nvidia/*/lib beside torch, and the prefix's lib/ (Library/bin on Windows)."""
    dirs = []
    if torch_dir:
        dirs.append(os.path.join(torch_dir, "lib"))
        dirs += sorted(glob.glob(os.path.join(glob.escape(os.path.dirname(torch_dir)), "nvidia", "*", "lib")))
    dirs += [os.path.join(environment, "lib"), os.path.join(environment, "Library", "bin")]
    return [d for d in dirs if os.path.isdir(d)]


def is_own(path, environment, torch_dir=None):
    """True when `path` lies in the environment (its prefix or the site-packages that holds torch)."""
    real = os.path.realpath(path)
    roots = [environment] + ([os.path.dirname(torch_dir)] if torch_dir else [])
    return any(
        real == os.path.realpath(r) or real.startswith(os.path.realpath(r).rstrip(os.sep) + os.sep) for r in roots
    )


def own_copies(name, environment, torch_dir=None):
    """Return the files named `name` in the environment's library directories."""
    return [
        os.path.join(d, name) for d in environment_dirs(environment, torch_dir) if os.path.exists(os.path.join(d, name))
    ]


@dataclasses.dataclass(frozen=True)
class ForeignCopy:
    """A library the loader takes (or took) from outside the environment while the environment holds its own,
    different file of that name: library (the file taken, with the `via` that explains it), own (the environment's
    copy), own_version. The one judgement of a foreign library, for a failure (checks/diagnosis/libraries.py) and
    for what a good import loaded (verify's `libraries` line)."""

    library: Library
    own: str
    own_version: Optional[str] = None

    @property
    def variable(self):
        """LD_LIBRARY_PATH or LD_PRELOAD where that variable made the loader take it, else None."""
        return self.library.via if self.library.via in ("LD_LIBRARY_PATH", "LD_PRELOAD") else None

    def meaning(self):
        """One sentence: which file the loader takes, how, and the environment's copy it should have taken."""
        lib = self.library
        return "the loader takes %s from %s (%s%s) instead of the environment's %s%s" % (
            lib.name,
            lib.path,
            lib.via,
            ", version %s" % lib.version if lib.version else "",
            self.own,
            " (version %s)" % self.own_version if self.own_version else "",
        )

    def fix(self):
        """The variable or directory to change: drop the foreign directory (or file) from the variable that put it
        first, else remove the system copy the cache or a default directory gives, or put the environment's first."""
        where, own_dir = os.path.dirname(self.library.path), os.path.dirname(self.own)
        if self.variable == "LD_PRELOAD":
            return "remove %s from LD_PRELOAD" % self.library.path
        if self.variable == "LD_LIBRARY_PATH":
            return "remove %s from LD_LIBRARY_PATH (unset it, or put the environment's %s first)" % (where, own_dir)
        return (
            "the loader takes it from %s (%s): run `ldconfig` after removing that copy, or put %s on "
            "LD_LIBRARY_PATH" % (where, self.library.via, own_dir)
        )

    def fact(self):
        """The decisive fact, for a result's data: `libcudnn.so.8 via LD_LIBRARY_PATH`."""
        return "%s via %s" % (self.library.name, self.library.via)


def foreign_copy(library, environment, torch_dir=None):
    """Return a ForeignCopy when `library` (resolve()'s answer, or loaded()'s with the `via` resolve() gives) lies
    outside the environment and the environment holds a different file of that name; else None."""
    if library.path is None or library.own:
        return None
    own = own_copies(library.name, environment, torch_dir)
    if not own or any(os.path.realpath(o) == os.path.realpath(library.path) for o in own):
        return None
    return ForeignCopy(library=library, own=own[0], own_version=version_of(own[0]))


def resolve(name, requester=None, environ=None, cache=None, environment=None, torch_dir=None):
    """Return the Library file the Linux loader would take for `name` when `requester` (an ELF path, or None)
    needs it, following ld.so(8)'s order; path None when no directory has it. `cache`: ld_cache()'s answer, read
    when needed."""
    environ = os.environ if environ is None else environ
    environment = environment or sys.prefix

    def found(path, via):
        return Library(name, path, via, version_of(path), is_own(path, environment, torch_dir))

    for preload in re.split(r"[:\s]+", environ.get("LD_PRELOAD", "")):
        if preload and os.path.basename(preload) == name and os.path.exists(preload):
            return found(preload, "LD_PRELOAD")
    info = dynamic(requester) if requester else None
    label = os.path.basename(requester) if requester else None
    if info is not None and not info.runpath:
        for d in info.rpath:
            if os.path.exists(os.path.join(d, name)):
                return found(os.path.join(d, name), "DT_RPATH of %s" % label)
    for d in environ.get("LD_LIBRARY_PATH", "").split(":"):
        if d and os.path.exists(os.path.join(d, name)):
            return found(os.path.join(d, name), "LD_LIBRARY_PATH")
    if info is not None:
        for d in info.runpath:
            if os.path.exists(os.path.join(d, name)):
                return found(os.path.join(d, name), "DT_RUNPATH of %s" % label)
    cache = ld_cache() if cache is None else cache
    if name in cache and os.path.exists(cache[name]):  # a stale entry (the file removed since ldconfig): ld.so
        return found(cache[name], "ld.so.cache")  # goes on to the default directories, as here
    for d in DEFAULT_DIRS:
        if os.path.exists(os.path.join(d, name)):
            return found(os.path.join(d, name), "default directory")
    return Library(name, None, "not found", None, None)


def loaded(environment, torch_dir=None, maps="/proc/self/maps"):
    """Return the NVIDIA libraries mapped into this process (CUDA runtime, cuDNN, NCCL, cuBLAS, ...), one Library
    each, from /proc/self/maps (Linux; [] elsewhere)."""
    seen: Dict[str, Library] = {}
    for path in mapped_files(maps):
        base = os.path.basename(path)
        if NVIDIA_LIBRARY.search(base) and path not in seen:
            seen[path] = Library(base, path, "/proc/self/maps", version_of(path), is_own(path, environment, torch_dir))
    return list(seen.values())


def mapped_files(maps="/proc/self/maps"):
    """Return the files mapped into this process, in /proc/self/maps order (repeats included; Linux; [] where it
    cannot be read)."""
    try:
        with open(maps, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    return [
        parts[5].strip()
        for parts in (line.split(None, 5) for line in lines)
        if len(parts) == 6 and parts[5].startswith("/")
    ]
