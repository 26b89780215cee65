"""Rule 3c: an undefined symbol judged by who should define it, not by the words around it.

glibc's "undefined symbol: S" (elf/dl-lookup.c, _dl_lookup_symbol_x) says that no object the process loaded
defines S, which the failing object needs. Which object should define it follows from the symbol itself:
- an Itanium C++ name (the Itanium C++ ABI's mangling, itanium-cxx-abi.github.io/cxx-abi/abi.html#mangling) in one of
  torch's namespaces (c10, at, torch, caffe2) or of its old TH/THP classes belongs to torch's libraries; torch's C++
  API and ABI change between releases, so a compiled extension works only with the torch it was built against
  (pytorch.org/docs/stable/notes/extending; torch.utils.cpp_extension builds against the installed torch);
- a C name of an NVIDIA or OpenMP library's public API (SYMBOL_FAMILIES: cudnn*, cublas*, nccl*, ...) belongs to that
  library; the copy that lacks it is an older release than the one torch's libraries name in DT_NEEDED;
- anything else belongs to one of the libraries the failing object needs (its DT_NEEDED, as the loader takes them).

The facts read: the dynamic symbol tables of torch's libraries and of the candidates (loader.defines), the failing
file's owner (its package's RECORD or conda record), torch's version, and the copies of a library family the loader
or the active conda environment offers.
"""

import glob
import os
import re
import sys

from checks.diagnosis.model import SYMBOL_FAMILIES, TORCH_LIBRARY, Cause, raising_package
from checks.machine import loader
from checks.machine import provenance as provenance_facts
from checks.machine.project import package_root

# torch's C++ namespaces (c10, ATen's at, torch, caffe2), and the prefixes of its older C-style classes (TH, THC,
# THP: TH/THC's tensors and allocators, the Python bindings' THPVariable and friends).
TORCH_SCOPES = ("c10", "at", "torch", "caffe2")
TORCH_CLASS = re.compile(r"^TH[A-Z]")
SPECIAL = {"TI": "typeinfo for ", "TV": "vtable for ", "TS": "typeinfo name for ", "TT": "VTT for "}


def mangled_scope(symbol):
    """Return (names, readable, tags) of an Itanium-mangled `symbol`: its qualified name's components up to the first
    template or parameter (`_ZN3c104cuda9SetDeviceEi` -> ["c10", "cuda", "SetDevice"], "c10::cuda::SetDevice"),
    the ABI tags met (`B5cxx11` -> "cxx11"); ([], symbol, ()) for a name that is not mangled (a C function)."""
    if not symbol.startswith("_Z"):
        return [], symbol, ()
    at, prefix, names, tags = 2, "", [], []
    if symbol[at : at + 2] in SPECIAL:
        prefix, at = SPECIAL[symbol[at : at + 2]], at + 2
    nested = symbol[at : at + 1] == "N"
    if nested:
        at += 1
        while at < len(symbol) and symbol[at] in "rVKRO":
            at += 1
    if symbol[at : at + 2] == "St":
        names.append("std")
        at += 2
    while True:
        number = re.match(r"\d+", symbol[at:])
        if not number:
            break
        at += len(number.group())
        size = int(number.group())
        names.append(symbol[at : at + size])
        at += size
        while symbol[at : at + 1] == "B":  # an ABI tag: B <length> <tag>
            tag = re.match(r"B(\d+)", symbol[at:])
            if not tag:
                break
            start = at + len(tag.group())
            tags.append(symbol[start : start + int(tag.group(1))])
            at = start + int(tag.group(1))
        if not nested:
            break
    tags += re.findall(r"B5(cxx11)", symbol[at:]) + (["cxx11"] if "7__cxx11" in symbol else [])
    return names, prefix + "::".join(names) if names else symbol, tuple(dict.fromkeys(tags))


def is_torch_symbol(symbol):
    """True when `symbol` names something of torch's C++ API (TORCH_SCOPES) or its TH/THP classes."""
    names, _, _ = mangled_scope(symbol)
    return bool(names) and (names[0] in TORCH_SCOPES or bool(TORCH_CLASS.match(names[0])))


# GCC's dual ABI (the libstdc++ manual, "Dual ABI"): built with _GLIBCXX_USE_CXX11_ABI=1 (GCC 5's default) std::string
# and std::list are std::__cxx11:: types, mangled with `__cxx11`; with _GLIBCXX_USE_CXX11_ABI=0 (a compiler before
# GCC 5 such as devtoolset-3's 4.9, or the flag set by hand) std::string is the old type, which the Itanium mangling
# abbreviates `Ss`. Objects built with the two do not link. torch.compiled_with_cxx11_abi() says torch's: its pip
# wheels up to 2.6 are pre-C++11 (torch 2.0.1's libc10.so defines torchCheckFail(..., RKSs)), conda-forge's builds
# and the wheels from 2.7 on are C++11 (2.13.0's defines it with NSt7__cxx1112basic_string...).
CXX11, PRE_CXX11 = "cxx11", "pre-cxx11"
ABI_NAMES = {
    CXX11: "the C++11 ABI (_GLIBCXX_USE_CXX11_ABI=1)",
    PRE_CXX11: "the pre-C++11 ABI (_GLIBCXX_USE_CXX11_ABI=0)",
}


def nested_prefix(symbol):
    """The mangled qualified name that begins a nested `symbol`, through its closing `E` (`_ZN3c106detail14torchCheck
    FailE` of `_ZN3c106detail14torchCheckFailEPKcS2_jRKSs`; a constructor's or destructor's `C1`/`D2` included):
    what its overloads and ABI variants share. None for a name of another shape (a template, a substitution in the
    name, a C function)."""
    found = re.match(r"_ZN[rVKRO]*(?:St)?", symbol)
    if not found:
        return None
    at = found.end()
    while at < len(symbol):
        if symbol[at] == "E":
            return symbol[: at + 1] if at > found.end() else None
        structor = re.match(r"[CD][0-5]", symbol[at:])
        number = re.match(r"B?(\d+)", symbol[at:])  # <length><identifier>, or an ABI tag B<length><tag>
        if structor:
            at += 2
        elif number:
            at += len(number.group()) + int(number.group(1))
        else:
            return None
    return None


def string_abi(symbol):
    """CXX11 when the mangled `symbol` names a type of the C++11 ABI (`__cxx11`, the `cxx11` ABI tag), PRE_CXX11 when
    its parameters name std::string by the old ABI's abbreviation `Ss`, None when it names neither."""
    if "__cxx11" in symbol or "B5cxx11" in symbol:
        return CXX11
    prefix = nested_prefix(symbol)
    params = symbol[len(prefix) :] if prefix else ""
    return PRE_CXX11 if re.search(r"(?:^|[RKPOE_])Ss", params) else None


def abi_mismatch(symbol, libraries):
    """(a definition, its ABI) of the function `symbol` names, found in `libraries` (paths; torch's), when `symbol`
    spells std::string with one of GCC's two C++ ABIs (string_abi) and the libraries define that function with the
    other one only: the object needing it was built with the other _GLIBCXX_USE_CXX11_ABI. None otherwise."""
    mine, prefix = string_abi(symbol), nested_prefix(symbol)
    if mine is None or prefix is None:
        return None
    for library in libraries:
        for name in loader.defined_starting(library, prefix) or ():
            theirs = string_abi(name)
            if theirs is not None and theirs != mine:
                return name, theirs
    return None


def abi_cause(who, symbol, definition, torch_abi, torch_version, fix):
    """The Cause of `who` (a compiled module) needing `symbol` with one C++ ABI where torch `torch_version` defines it
    (`definition`) with the other (`torch_abi`; abi_mismatch); `fix`: how to build or install it for this torch."""
    other = PRE_CXX11 if torch_abi == CXX11 else CXX11
    flag = 1 if torch_abi == CXX11 else 0
    return Cause(
        meaning="%s was built with %s, while torch %s is built with %s: it needs %s, which torch defines only as %s, "
        'so importing it fails with "undefined symbol: %s"'
        % (who, ABI_NAMES[other], torch_version, ABI_NAMES[torch_abi], mangled_scope(symbol)[1], definition, symbol),
        fix="%s; with torch's ABI: torch.utils.cpp_extension's BuildExtension passes -D_GLIBCXX_USE_CXX11_ABI=%d "
        "itself (torch.compiled_with_cxx11_abi() is %s), so drop a flag set by hand%s; a prebuilt wheel must be the "
        "one made for this ABI (flash-attn's wheel names say which: cxx11abi%s)"
        % (fix, flag, flag == 1, " and build with GCC 5 or newer" if flag else "", "TRUE" if flag else "FALSE"),
        fact="%s needs %s (%s); torch %s defines %s (%s)" % (who, symbol, other, torch_version, definition, torch_abi),
    )


def torch_libraries(torch_dir):
    """The shared libraries torch installs in torch/lib (libc10*, libtorch*, libshm, ...), sorted."""
    if not torch_dir:
        return []
    return sorted(p for p in glob.glob(os.path.join(glob.escape(torch_dir), "lib", "lib*.so*")) if os.path.isfile(p))


def defined_by(symbol, libraries):
    """Return (the first of `libraries` whose dynamic symbol table defines `symbol`, whether every one could be
    read): (None, True) when all were read and none defines it."""
    readable = True
    for path in libraries:
        found = loader.defines(path, [symbol])
        if found is None:
            readable = False
        elif symbol in found:
            return path, True
    return None, readable


def _torch_version(facts):
    torch = facts.provenance.packages.get("torch")
    if torch is None or torch.imported is None:
        return None
    return torch.imported.version or provenance_facts.version_py(torch.imported.path).get("__version__")


def _inside(path, folder):
    real, root = os.path.realpath(path), os.path.realpath(folder)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _package_of(path):
    """(package, version) of the installed package whose record lists `path`, else (the package folder under a
    site-packages that holds it, None), else (None, None)."""
    from checks.machine import requirements

    owner = requirements.owner_of(path) if os.path.isfile(path) else None
    if owner is not None:
        return owner.package, owner.version
    found = re.search(r"[/\\](?:site|dist)-packages[/\\]([A-Za-z_][\w-]*)[/\\]", path)
    return (found.group(1), None) if found else (None, None)


def _rebuild_fix(package, version, torch_version):
    """The fix for an extension built against another torch: the release made for this torch, or a build against
    it (pip builds from source with --no-binary; --no-build-isolation makes it build against the installed torch,
    pip's docs on build isolation)."""
    from checks import compat

    if package in ("torchvision", "torchaudio") and torch_version:
        pair = compat.paired_versions(torch_version)
        if pair:
            spec = pair[0] if package == "torchvision" else pair[1]
            return (
                'install the %s release made for torch %s: `python -m pip install "%s==%s"` from the same index '
                "as torch (its CUDA build's index where torch is one)" % (package, torch_version, package, spec)
            )
    if package:
        pinned = "%s==%s" % (package, version) if version else package
        return (
            "install a %s build made for torch %s (prebuilt wheels name the torch they were built for), or build it "
            "from source against this torch: `python -m pip install --no-build-isolation --no-binary %s --no-cache-dir "
            '--force-reinstall --no-deps "%s"`' % (package, torch_version or "installed here", package, pinned)
        )
    return (
        "rebuild it against the installed torch%s (delete its old build folder first, then e.g. `python -m pip "
        "install --no-build-isolation .` in its source)" % (" " + torch_version if torch_version else "")
    )


def _torch_symbol(library, symbol, facts):
    """An undefined torch C++ symbol: which copy of torch the failing object was built for."""
    torch_dir = facts.torch_dir
    libraries = torch_libraries(torch_dir)
    if not libraries:
        return None
    definer, readable = defined_by(symbol, libraries)
    if definer is not None or not readable:
        return None  # torch on disk defines it: another copy was loaded (the shadow and loader-path rules' case)
    _, readable_name, tags = mangled_scope(symbol)
    version = _torch_version(facts)
    base = os.path.basename(library) if library else "a library"
    lib_dir = os.path.join(torch_dir, "lib")
    if library and _inside(library, torch_dir):
        return _torch_file(library, symbol, readable_name, version, facts)
    package, package_version = _package_of(library) if library else (None, None)
    who = (
        "%s %s" % (package, package_version)
        if package and package_version
        else package or "a file no installed package records"
    )
    mismatch = abi_mismatch(symbol, libraries)
    if mismatch is not None:
        return abi_cause("%s (%s)" % (base, who), symbol, mismatch[0], mismatch[1], version or "(installed)",
                         _rebuild_fix(package, package_version, version))  # fmt: skip
    abi = (
        " (or with the other C++ ABI: the symbol carries the %s ABI tag, which only builds with "
        "_GLIBCXX_USE_CXX11_ABI=1 emit)" % tags[0]
        if tags
        else ""
    )
    return Cause(
        meaning="%s (%s) needs %s, which torch %s's libraries do not define: it was built against another torch "
        "release%s; torch's C++ API and ABI change between releases, so a compiled extension runs only with the torch "
        "it was built against" % (base, who, readable_name, version or "(installed)", abi),
        fix=_rebuild_fix(package, package_version, version),
        fact="%s is defined by none of the %d libraries in %s (torch %s); %s is from %s"
        % (symbol, len(libraries), lib_dir, version or "of unknown version", base, who),
    )


def _torch_file(library, symbol, readable_name, version, facts):
    """An undefined torch symbol in one of torch's own files: whether that file is the one torch's record lists."""
    from checks.machine import requirements

    owner = requirements.owner_of(library) if os.path.isfile(library) else None
    base = os.path.basename(library)
    fix = (
        "run `python -m pip uninstall torch` (or `conda remove pytorch`) until no torch is left, delete the leftover "
        "torch folder (%s), then install one torch" % os.path.dirname(facts.torch_dir.rstrip(os.sep))
    )
    if owner is None and os.path.isfile(library):
        return Cause(
            meaning="%s in torch's folder is not one of torch %s's installed files (no install record lists it): it "
            "was left by another install of torch, and it needs %s, which this torch's libraries do not define"
            % (base, version or "", readable_name),
            fix=fix,
            fact="%s listed by no RECORD or conda record; %s defined by none of torch's libraries" % (library, symbol),
        )
    if owner is not None and owner.size is not None:
        size = os.path.getsize(library)
        if size != owner.size:
            return Cause(
                meaning="%s is not the file %s %s installed (%d bytes; its record says %d): another install of "
                "torch wrote over it, and it needs %s, which this torch's libraries do not define"
                % (base, owner.package, owner.version, size, owner.size, readable_name),
                fix=fix,
                fact="%s: %d bytes, recorded %d" % (library, size, owner.size),
            )
    return None


def _family_copies(label, files, facts):
    """[(path, place)] of the copies of a library family (`files`: its file-name pattern) the process may take, in
    the loader's order: the environment's own directories, then the active conda environment's lib/ when it is
    another prefix, then ld.so.cache; each real file once."""
    from checks.diagnosis.libraries import _library_dirs

    copies, seen = [], set()

    def add(path, place):
        real = os.path.realpath(path)
        if real not in seen and os.path.isfile(real):
            seen.add(real)
            copies.append((path, place))

    conda = os.environ.get("CONDA_PREFIX")
    for directory in _library_dirs(facts):
        place = (
            "the active conda environment (CONDA_PREFIX=%s)" % conda
            if conda and _inside(directory, conda) and not _inside(directory, facts.provenance.environment)
            else "the environment (%s)" % directory
        )
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if files.search(name) and ".so" in name:
                add(os.path.join(directory, name), place)
    for name, path in sorted(loader.ld_cache().items()):
        if files.search(name):
            add(path, "ld.so.cache")
    return copies


def _needed_major(files, facts):
    """The sonames of the family that torch's libraries name in DT_NEEDED (`libcudnn.so.8`)."""
    needed = []
    for path in torch_libraries(facts.torch_dir):
        info = loader.dynamic(path)
        for name in info.needed if info else ():
            if files.search(name) and name not in needed:
                needed.append(name)
    return needed


def _family_symbol(library, symbol, facts):
    """A C symbol of an NVIDIA or OpenMP library family: the copy of that family that lacks it, by version and
    owner, against the soname torch's libraries need."""
    from checks.machine import requirements

    family = next((f for f in SYMBOL_FAMILIES if f[0].search(symbol)), None)
    if family is None:
        return None
    _, files, label = family
    needed = _needed_major(files, facts)
    majors = {m.group(1) for m in (re.search(r"\.so\.(\d+)", n) for n in needed) if m}
    # a family may be several files in one folder (cuDNN 8's libcudnn_*_infer/train beside libcudnn): a folder
    # lacks the symbol when none of its files defines it
    groups = {}
    for path, place in _family_copies(label, files, facts):
        groups.setdefault((os.path.dirname(path), place), []).append(path)
    suspects = []
    for (_, place), paths in groups.items():
        answers = [loader.defines(p, [symbol]) for p in paths]
        if any(a is not None and symbol in a for a in answers):
            continue
        path = min(paths, key=lambda p: (len(os.path.basename(p)), p))  # libcudnn.so.6 before libcudnn_ops...
        version = loader.version_of(path)
        major = (version or "").split(".")[0]
        if all(a is None for a in answers) and not (majors and major and major not in majors):
            continue  # unreadable and not of another major: nothing says it lacks the symbol
        suspects.append((path, place, version))
    if not suspects:
        return None
    path, place, version = suspects[0]
    owner = requirements.owner_of(path)
    kind = "conda" if owner is not None and owner.source == requirements.CONDA else "pip"
    owned = " from the %s package `%s` %s" % (kind, owner.package, owner.version) if owner else ""
    wants = " torch's libraries need %s" % " and ".join(needed) if needed else ""
    meaning = "%s needs %s, a %s function, which the %s in %s lacks: %s holds %s (%s %s%s)%s" % (
        os.path.basename(library) if library else "torch",
        symbol,
        label,
        label,
        place,
        place.split(" (")[0],
        os.path.basename(path),
        label,
        version or "of unknown version",
        owned,
        ";" + wants if wants else "",
    )
    if owner is not None and owner.source == requirements.CONDA:
        prefix = path[: -len(os.path.join("lib", os.path.basename(path)))].rstrip(os.sep) or path
        fix = (
            "remove the conda package that brings this %s: `conda remove -p %s %s` (it ships its own %s), then "
            "rebuild or reinstall what was built against it" % (label, prefix, owner.package, label)
        )
    elif owner is not None:
        fix = "remove the package that brings this %s: `python -m pip uninstall %s`" % (label, owner.package)
    elif place == "ld.so.cache":
        fix = (
            "put the environment's %s first (`export LD_LIBRARY_PATH=<its lib folder>:$LD_LIBRARY_PATH`), or remove "
            "%s and run `ldconfig`" % (label, path)
        )
    else:
        fix = "remove %s (no installed package records it) so the %s torch was built with loads" % (path, label)
    return Cause(
        meaning=meaning,
        fix=fix,
        fact="%s (%s %s) lacks %s" % (path, label, version or "?", symbol),
    )


def _needed_symbol(library, symbol, facts):
    """A symbol of no known family in a file outside torch: none of the libraries it needs, as the loader takes them,
    defines it."""
    if not library or not os.path.isfile(library):
        return None
    info = loader.dynamic(library)
    if info is None or not info.needed:
        return None
    taken = []
    for name in info.needed:
        found = loader.resolve(name, library, environment=facts.provenance.environment, torch_dir=facts.torch_dir)
        if found.path is None:
            continue  # the loader found it (the failure is past loading), in a folder this search does not know
        defined = loader.defines(found.path, [symbol])
        if defined is None or symbol in defined:
            return None
        taken.append("%s from %s (%s)" % (name, os.path.dirname(found.path), found.via))
    if not taken:
        return None
    package, version = _package_of(library)
    who = "%s %s" % (package, version) if package and version else package or "a file no installed package records"
    _, readable_name, _ = mangled_scope(symbol)
    return Cause(
        meaning="%s (%s) needs %s, which none of the libraries it links against defines as the loader takes them "
        "(%s): it was built against other releases of them"
        % (os.path.basename(library), who, readable_name, "; ".join(taken)),
        fix="install the %s build made for the libraries installed here, or rebuild it against them"
        % (package or os.path.basename(library)),
        fact="%s defined by none of %s's DT_NEEDED libraries" % (symbol, os.path.basename(library)),
    )


def by_symbol(parts, facts):
    """Rule 3c: each undefined symbol of the failure judged by who should define it (the module docstring)."""
    for library, symbol, version in parts.undefined:
        if version:
            continue  # a versioned symbol names its provider: the library rule's case
        library = library or None
        if is_torch_symbol(symbol):
            cause = _torch_symbol(library, symbol, facts)
        elif any(f[0].search(symbol) for f in SYMBOL_FAMILIES):
            cause = _family_symbol(library, symbol, facts)
        else:
            cause = _needed_symbol(library, symbol, facts)
        if cause is not None:
            return cause
    return None


def by_torch_library(parts, facts):
    """Rule 3d: one of torch's own libraries (libc10_cuda.so, libtorch_cuda_cu.so, ...) cannot be opened by a
    compiled module of another package, judged by torch's lib folder: the library is there (the module was loaded
    before `import torch`, which is what puts torch's libraries in the process: extension modules carry no run path
    to them), or torch lacks it: a CPU-only torch under a module built for a CUDA one (torch/version.py's `cuda`), or
    a module built against another torch release or build that had that library."""
    torch_dir = facts.torch_dir
    names = [n for n in parts.cannot_open if TORCH_LIBRARY.match(n)]
    if torch_dir is None or not names:
        return None
    name = names[0]
    version = _torch_version(facts)
    package = raising_package(parts.text, skip=("torch",))
    module_files = [p for p in parts.paths if re.search(r"\.(so|pyd)$", p) and os.path.basename(p) != name]
    package_version = None
    if module_files and os.path.isfile(module_files[-1]):
        package, package_version = _package_of(module_files[-1])
    who = "%s %s" % (package, package_version) if package and package_version else package or "a compiled module"
    lib_dir = os.path.join(torch_dir, "lib")
    if os.path.exists(os.path.join(lib_dir, name)):
        if re.search(r"[/\\]torch[/\\]__init__\.py", parts.text):
            return None  # torch's own import failed: its _C finds lib/ through its run path; other rules judge that
        return Cause(
            meaning="%s is in torch's own folder (%s), but %s was loaded before torch: a compiled extension finds "
            "torch's libraries only once `import torch` has loaded them" % (name, lib_dir, who),
            fix="`import torch` before importing %s" % (package or "the extension"),
            fact="%s present in %s" % (name, lib_dir),
        )
    return torch_library_absent(name, package, package_version, torch_dir, version)


def stale_extensions(paths, torch_dir, limit=200, torch_version=None):
    """Return (path, symbol) of the first compiled module among `paths` that links torch's libraries (DT_NEEDED
    libc10.so, libtorch*.so) and needs a symbol of torch's C++ API that none of torch's libraries at `torch_dir`
    defines: a module built against another torch release (mmcv-full's wheel for torch 1.6 needs
    at::Tensor::is_cuda() const, which torch 2.0 no longer exports; open-mmlab/mmcv#1734). Read from the ELF files
    without loading them: every module's needed torch symbols, then one pass over each of torch's libraries. A
    library that names another torch release than `torch_version` in its file name (PER_TORCH_FILE), beside the
    package's build of the same library for `torch_version`, is one of its per-release builds, which it loads only
    under that release (DGL 1.1.2's dgl_sparse/libdgl_sparse_pytorch_1.13.0.so beside _2.0.1.so): not judged; with
    no build for this torch it is (DGL 2.1 ships graphbolt for torch 2.0.0 to 2.2.1 only). None when every one is
    defined."""
    have = (torch_version or "").split("+")[0]
    needs = []
    for path in paths[:limit]:
        named = PER_TORCH_FILE.search(os.path.basename(path))
        if named and have and named.group(1) != have:
            base = os.path.basename(path)
            sibling = base[: named.start(1)] + have + base[named.end(1) :]
            if os.path.exists(os.path.join(os.path.dirname(path), sibling)):
                continue  # the package ships a build for this torch, and loads that one
        info = loader.dynamic(path)
        if info is None or not any(TORCH_LIBRARY.match(n) for n in info.needed):
            continue
        wanted = [s for s in (loader.undefined(path) or ()) if is_torch_symbol(s)]
        if wanted:
            needs.append((path, wanted))
    if not needs:
        return None
    libraries = torch_libraries(torch_dir)
    if not libraries:
        return None
    every = {s for _, wanted in needs for s in wanted}
    defined = set()
    for library in libraries:
        found = loader.defines(library, every - defined)
        if found is None:
            return None  # a library that cannot be read: nothing can be said
        defined |= found
    for path, wanted in needs:
        missing = [s for s in wanted if s not in defined]
        if missing:
            return path, missing[0]
    return None


# A library built for one torch release that names it in its file name, as packages that ship one build per torch
# release do (DGL 2.1's wheel: graphbolt/libgraphbolt_pytorch_2.2.1.so, dgl_sparse/libdgl_sparse_pytorch_2.0.0.so,
# tensoradapter/pytorch/libtensoradapter_pytorch_2.1.2.so; dmlc/dgl#7247).
PER_TORCH_FILE = re.compile(r"(?:py)?torch[_-]?v?(\d+\.\d+\.\d+)\.(?:so|dll|dylib)$", re.I)


def shipped_torch_builds(folder, limit=400):
    """The torch releases (sorted, as "2.2.1") a package folder ships per-release libraries for (PER_TORCH_FILE), read
    from the file names of at most `limit` files under `folder`; () where it ships none."""
    from checks.machine.project import package_walk

    found = {m.group(1) for m in map(PER_TORCH_FILE.search, map(os.path.basename, package_walk(folder, limit))) if m}
    return tuple(sorted(found, key=lambda v: tuple(int(n) for n in v.split("."))))


def shipped_torch_fix(folder, package, torch_version):
    """The other way out where a package ships per-torch-release builds (shipped_torch_builds) and none is for
    `torch_version`: install the newest torch it ships for. "" when it ships none or ships this one's."""
    shipped = shipped_torch_builds(folder)
    have = (torch_version or "").split("+")[0]
    if not shipped or have in shipped:
        return ""
    return (
        "; or install a torch it ships builds for (%s ships them for torch %s): `python -m pip install "
        '"torch==%s"` with the torchvision and torchaudio of that torch' % (package, ", ".join(shipped), shipped[-1])
    )


def stale_extension_cause(path, symbol, torch_version, torch_dir=None):
    """The Cause of a compiled module (`path`) needing the torch C++ `symbol` that the installed torch
    (`torch_version`, at `torch_dir`) does not define: built against another torch, or with the other C++ ABI when
    torch's libraries define the same function with it (abi_mismatch); the fix rebuilds or reinstalls it for this
    one. Its package is the one whose record lists it, else the distribution of its top folder under its sys.path
    entry (a PYTHONPATH folder's), else that top folder, a source checkout built in place."""
    from checks.machine import distributions

    package, version = _package_of(path)
    checkout = None
    if package is None:  # the deepest sys.path entry holding it names its top folder, and that folder's distribution
        entries = [e for e in sys.path if isinstance(e, str) and e and _inside(path, e)]
        entry = max(entries, key=lambda e: len(os.path.realpath(e)), default=None)
        top = os.path.relpath(path, entry).split(os.sep)[0] if entry else None
        dist = distributions.find(top) if top else None
        package, version = (dist.name, dist.version) if dist is not None else (None, None)
        if dist is None and top and top != os.path.basename(path):
            checkout = (top, entry)
    # the torch release its metadata names as its floor (`torch (>=2.3.0)`: torchtext 0.18.0's wheel, built against
    # torch 2.3; pytorch/text#1928) is the one it was built against: installing that release is the other way out
    declared = distributions.find(package.replace("-", "_")) if package else None
    declared = declared.requirement_on("torch") if declared is not None else None
    floor = re.search(r"(?:>=|==|~=)\s*(\d+\.\d+)", declared or "")
    name = " ".join(p for p in (package, version) if p)
    who = "%s's %s" % (name or (checkout or ("",))[0], os.path.basename(path)) if package or checkout else None
    who = who or os.path.basename(path)
    readable = mangled_scope(symbol)[1] or symbol
    rebuild = (
        _rebuild_fix(package, version, torch_version)
        if package
        else "rebuild %s against this torch: delete the old build (its build/ folder and the compiled .so files), then "
        "build again in its source%s (`python -m pip install --no-build-isolation -e .` or `python setup.py develop`)"
        % (checkout[0] if checkout else "it", " (%s)" % checkout[1] if checkout else "")
    )
    release = (
        "; or install the torch it was built against, the release its metadata names (%s): `python -m pip "
        'install "torch==%s.*" "%s==%s"` (with the torchvision and torchaudio of that torch)'
        % (declared, floor.group(1), package, version)
        if floor and not (torch_version or "").startswith(floor.group(1) + ".")
        else shipped_torch_fix(package_root(path), package, torch_version)
        if package
        else ""
    )
    abi = abi_mismatch(symbol, torch_libraries(torch_dir)) if torch_dir else None
    if abi is not None and not release:  # nothing says it was made for another torch release: the ABI flag is why
        return abi_cause(who, symbol, abi[0], abi[1], torch_version, rebuild)
    also = (
        " (its C++ ABI is not this torch's either: torch defines it with %s only, as %s; PyTorch's pip wheels changed "
        "ABI between releases)" % (ABI_NAMES[abi[1]], abi[0])
        if abi is not None
        else ""
    )
    return Cause(
        meaning="%s was built against another torch: it needs %s (%s), which torch %s's libraries do not define, so "
        'importing it fails with "undefined symbol: %s"%s' % (who, readable, symbol, torch_version, symbol, also),
        fix=rebuild + release,
        fact="%s needs %s; torch %s does not define it" % (os.path.basename(path), symbol, torch_version),
    )


def torch_library_absent(name, package, package_version, torch_dir, version):
    """The Cause of a compiled module of `package` (its version, or None) that links torch's library `name`, which
    torch `version` at `torch_dir` does not have: a CUDA build of the module under a CPU-only torch (torch's
    version.py), else a module built against another torch release or build. Used by rule 3d and by verify's
    dependents line, which reads the modules' DT_NEEDED without loading them."""
    who = "%s %s" % (package, package_version) if package and package_version else package or "a compiled module"
    lib_dir = os.path.join(torch_dir, "lib")
    built = provenance_facts.version_py(torch_dir)
    if "cuda" in name and built and not built.get("cuda") and not built.get("hip"):
        if package in ("torchvision", "torchaudio"):
            fix = _rebuild_fix(package, None, version).replace("(its CUDA build's index where torch is one)", "")
            fix = fix.rstrip() + " (the CPU index, https://download.pytorch.org/whl/cpu), or install torch's CUDA build"
        else:
            fix = "install %s's CPU build for torch %s, or a CUDA build of torch that it was made for" % (
                package or "that package",
                version,
            )
        return Cause(
            meaning="%s is a CUDA build (it links torch's %s), but torch %s is a CPU-only build, which has no %s"
            % (who, name, version or "(installed)", name),
            fix=fix,
            fact="%s absent from %s; torch/version.py: cuda = None" % (name, lib_dir),
        )
    return Cause(
        meaning="torch %s has no %s (not in %s): %s was built against another torch release or build that had it"
        % (version or "(installed)", name, lib_dir, who),
        fix=_rebuild_fix(package, package_version, version),
        fact="%s absent from %s" % (name, lib_dir),
    )
