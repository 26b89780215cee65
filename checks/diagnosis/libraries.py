"""Rule 3: the native loader's own message judged by the facts of the file it names (truncated, another
architecture, an executable stack), a library taken from outside the environment, a C library older than the build
needs, a library nowhere the loader looks, and a loader path that puts another copy of torch's libraries first."""

import os
import re

from checks.diagnosis.model import (
    COMPONENT_WORDS,
    DRIVER_LIBRARIES,
    FRAME,
    OPENCV_GUI,
    PROVIDERS,
    SYMBOL_FAMILIES,
    TORCH_LIBRARY,
    Cause,
    component,
)
from checks.machine import loader
from checks.machine import system as system_rules


def _shadow(library, facts, requester=None):
    """A Cause when the loader takes `library` from outside the environment and the environment has its own copy
    (loader.foreign_copy; the variable or directory responsible is the fix), else None."""
    env = facts.provenance.environment
    found = loader.resolve(library, requester, environment=env, torch_dir=facts.torch_dir)
    foreign = loader.foreign_copy(found, env, facts.torch_dir)
    if foreign is None:
        return None
    return Cause(meaning=foreign.meaning(), fix=foreign.fix(), fact=foreign.fact())


def _library_dirs(facts):
    """The environment's library directories (loader.environment_dirs) and the active conda environment's lib/, each
    once."""
    dirs = loader.environment_dirs(facts.provenance.environment, facts.torch_dir)
    conda = os.environ.get("CONDA_PREFIX")
    if conda and os.path.isdir(os.path.join(conda, "lib")):
        dirs.append(os.path.join(conda, "lib"))
    return list(dict.fromkeys(dirs))


def _unlinked(soname, facts):
    """A Cause when an environment's library directory holds a versioned file of `soname` (libstdc++.so.6.0.34) but
    no `soname` link to it: the loader looks up the soname only, so it takes another copy (a conda package whose
    link went missing, pytorch/pytorch#157709)."""
    for d in _library_dirs(facts):
        try:
            names = os.listdir(d)
        except OSError:
            continue
        versioned = sorted(
            (n for n in names if n.startswith(soname + ".")), key=lambda n: [int(x) for x in re.findall(r"\d+", n)]
        )
        if versioned and soname not in names:
            return Cause(
                meaning="%s holds %s but no %s link to it, so the loader takes another %s"
                % (d, versioned[-1], soname, soname),
                fix="restore the link: `cd %s && ln -s %s %s` (or reinstall the package that owns it, e.g. "
                "`conda install -c conda-forge libstdcxx-ng`)" % (d, versioned[-1], soname),
                fact="%s without %s" % (os.path.join(d, versioned[-1]), soname),
            )
    return None


def _unsearched(soname, version, facts, text, limit=64 << 20):
    """A Cause when an environment's library directory (its prefix's lib/, or the active conda environment's) holds
    `soname` defining `version` (`CXXABI_1.3.15`: the version name is in the file's dynamic string table, so its
    bytes hold it), while the loader takes another copy that lacks it: that directory is not on the loader's path
    for the failing library (a conda environment whose pip-installed torch finds the system's libstdc++)."""
    taken = re.search(r"(/\S*%s)\S*: version" % re.escape(soname), text or "")
    for d in _library_dirs(facts):
        path = os.path.join(d, soname)
        try:
            with open(path, "rb") as handle:
                if version.encode() not in handle.read(limit):
                    continue
        except OSError:
            continue
        other = taken.group(1) if taken else loader.resolve(soname).path or "another copy"
        if os.path.realpath(other) == os.path.realpath(path):
            continue
        return Cause(
            meaning="%s in %s defines %s, but the loader takes %s, which lacks it: %s is not on the loader's path"
            % (soname, d, version, other, d),
            fix="put the environment's lib/ first: `export LD_LIBRARY_PATH=%s:$LD_LIBRARY_PATH` (for a conda "
            "environment, in its etc/conda/activate.d so that activation sets it), or `export LD_PRELOAD=%s`"
            % (d, path),
            fact="%s has %s; %s is taken" % (path, version, other),
        )
    return None


def _requester(path, facts):
    if path and os.path.isfile(path):
        return path
    torch_dir = facts.torch_dir
    if not torch_dir:
        return None
    for name in ("lib/libtorch_cuda.so", "lib/libtorch_cpu.so", "lib/libtorch_global_deps.so"):
        if os.path.isfile(os.path.join(torch_dir, name)):
            return os.path.join(torch_dir, name)
    return None


def _environment_kind(facts):
    """How packages get into the environment: "pixi", "conda" (a prefix with conda-meta/) or "pip"."""
    prov = facts.provenance
    if getattr(prov, "activated_by", None) == "pixi":
        return "pixi"
    if os.path.isdir(os.path.join(prov.environment, "conda-meta")):
        return "conda"
    return "pip"


def _locate(name, facts):
    """The file a loader message names: the path itself, else the copy the loader would take for that soname, else
    the environment's own copy; None when there is none."""
    if not name:
        return None
    if "/" in name:
        return name if os.path.isfile(name) else None
    env, torch_dir = facts.provenance.environment, facts.torch_dir
    found = loader.resolve(name, _requester(None, facts), environment=env, torch_dir=torch_dir)
    if found.path and os.path.isfile(found.path):
        return found.path
    own = loader.own_copies(name, env, torch_dir)
    return own[0] if own else None


def _what(head):
    """What a file that is not a loadable ELF object is, from its first bytes."""
    if head.size == 0:
        return "an empty file"
    if head.start.startswith(b"version https://git-lfs"):
        return "a Git LFS pointer (a text file naming the real one), not the library"
    if head.start.lstrip()[:1] == b"<":
        return "an HTML or XML page (a download that saved an error page), not the library"
    if head.elf:
        return "a %s ELF file of %d bytes" % (head.architecture(), head.size)
    text = all(32 <= b < 127 or b in (9, 10, 13) for b in head.start)
    return "a %s file of %d bytes, not an ELF library" % ("text" if text else "binary", head.size)


def _damaged(error, facts):
    """ "file too short", "cannot read file data", "invalid ELF header" and the other header checks of glibc's
    open_verify: the file's bytes are not the library. Decided by its size against its package's record (pip RECORD,
    conda paths_data) and against its own headers' extent."""
    from checks.machine import requirements

    path = _locate(error.object, facts)
    head = loader.header(path) if path else None
    if head is None:
        return None
    owner = requirements.owner_of(path)
    if owner is not None and owner.size is not None and owner.size != head.size:
        gap = requirements.Gap(owner.package, owner.version, owner.source, path, owner.size, head.size)
        return Cause(
            meaning="the loader cannot load %s (%s): the file is %d bytes where %s %s's %s promises %d, a truncated "
            "or corrupt install (an interrupted download or extraction, or a broken package cache)"
            % (
                path,
                error.message,
                head.size,
                owner.package,
                owner.version,
                "RECORD" if owner.source == requirements.PIP else "conda record",
                owner.size,
            ),
            fix=gap.fix(),
            fact=gap.describe(),
        )
    if head.truncated or not head.elf:
        state = (
            "is %d bytes, shorter than its own ELF headers say (%d)" % (head.size, head.extent)
            if head.truncated
            else "is %s" % _what(head)
        )
        who = (
            "%s %s installed it: `%s`"
            % (owner.package, owner.version, requirements.Gap(owner.package, owner.version, owner.source, path).fix())
            if owner is not None
            else "no package record lists it; replace it with a complete copy from where it came (reinstall the "
            "package that put it there)"
        )
        return Cause(
            meaning="the loader cannot load %s (%s): the file %s" % (path, error.message, state),
            fix=who,
            fact="%s %s" % (path, state),
        )
    return None


def _foreign_files(name, facts):
    """[(path, Header, where)] of the files called `name` the loader would look at (the path itself, LD_PRELOAD,
    LD_LIBRARY_PATH, the requester's run paths, the environment's library directories, the default directories)
    that are ELF files of another class or machine than this interpreter."""
    host = loader.host()
    if host is None or not name:
        return []
    if "/" in name:
        places = [(name, "the path named")]
    else:
        places = [(p, "LD_PRELOAD") for p in re.split(r"[:\s]+", facts.loader_inputs.get("LD_PRELOAD", "")) if p]
        places = [(p, w) for p, w in places if os.path.basename(p) == name]
        places += [
            (os.path.join(d, name), "LD_LIBRARY_PATH")
            for d in facts.loader_inputs.get("LD_LIBRARY_PATH", "").split(":")
            if d
        ]
        info = loader.dynamic(_requester(None, facts) or "")
        for d in (info.rpath + info.runpath) if info else ():
            places.append((os.path.join(d, name), "the run path of %s" % os.path.basename(_requester(None, facts))))
        for d in loader.environment_dirs(facts.provenance.environment, facts.torch_dir):
            places.append((os.path.join(d, name), "the environment"))
        places += [(os.path.join(d, name), "a default directory") for d in loader.DEFAULT_DIRS]
    out, seen = [], set()
    for path, where in places:
        real = os.path.realpath(path)
        if real in seen or not os.path.isfile(path):
            continue
        seen.add(real)
        head = loader.header(path)
        if head is not None and head.elf and head.bits and (head.bits, head.machine) != (host.bits, host.machine):
            out.append((path, head, where))
    return out


def _foreign(error, facts):
    """ "wrong ELF class: ELFCLASS32/64" (glibc found only files of the other class), or "cannot open shared object
    file" where a file of that name exists (open_verify skips another e_machine as if absent): the file is built
    for another architecture."""
    from checks.machine import requirements

    found = _foreign_files(error.object, facts)
    if not found:
        return None
    path, head, where = found[0]
    host = loader.host()
    owner = requirements.owner_of(path)
    if owner is not None:
        fix = "install %s's build for %s: %s" % (
            owner.package,
            host.architecture(),
            'python -m pip install --force-reinstall --no-deps --no-cache-dir "%s==%s" (pip picks the wheel of this '
            "machine's platform)" % (owner.package, owner.version)
            if owner.source == requirements.PIP
            else "an environment solved for this machine's platform (`conda install --force-reinstall %s`, or "
            "recreate the environment here)" % owner.package,
        )
    elif where == "LD_LIBRARY_PATH":
        fix = "remove %s from LD_LIBRARY_PATH (it holds a %s copy)" % (os.path.dirname(path), head.architecture())
    else:
        fix = "replace %s with a %s build of it" % (path, host.architecture())
    return Cause(
        meaning="%s is a %s library and this Python is %s: the loader cannot use it (%s)"
        % (path, head.architecture(), host.architecture(), error.message),
        fix=fix,
        fact="%s: %s (%s), host %s" % (path, head.architecture(), where, host.architecture()),
    )


def _execstack(error, facts):
    """ "cannot enable executable stack as shared object requires": the object's PT_GNU_STACK asks for an executable
    stack (or it has none, on a machine whose ABI default is executable) and the loader may not grant it. glibc 2.41
    NEWS: dlopen no longer makes the stack executable, such objects fail to load (EINVAL); the tunable
    glibc.rtld.execstack=2 (glibc 2.42, manual/tunables.texi) makes the stack executable from the start; before
    2.41 the loader's mprotect can be refused by a security policy (EACCES/EPERM), or by glibc.rtld.execstack=0."""
    from checks.machine import requirements

    path = _locate(error.object, facts)
    head = loader.header(path) if path else None
    asks = head.executable_stack if head is not None else None
    glibc = facts.system.glibc
    tunables = facts.loader_inputs.get("GLIBC_TUNABLES", "")
    target = path or error.object or "the library"
    if asks:
        flag = (
            "its PT_GNU_STACK asks for one (%s)" % head.stack
            if head.stack
            else "it has no PT_GNU_STACK, which on %s means an executable stack" % head.architecture()
        )
    elif asks is False:
        # the loader's message is the evidence: the object it opened asks for an executable stack, this copy not
        flag = (
            "the loader says so of the object it opened; the copy at %s asks for none (PT_GNU_STACK %s), so the "
            "loader opened another file of that name (`LD_DEBUG=files` shows which)" % (path, head.stack)
        )
        target = "the file `LD_DEBUG=files python -c 'import torch'` names for %s" % os.path.basename(path)
    else:
        flag = "the loader says so of the object it opened (its headers were not read here)"
    if re.search(r"glibc\.rtld\.execstack=0", tunables):
        why = "GLIBC_TUNABLES=%s forbids executable stacks" % tunables
    elif glibc and not system_rules.older(glibc, "2.41") and error.reason in ("", "Invalid argument"):
        why = "glibc %s refuses to dlopen such a library (glibc 2.41 and later do)" % glibc
    elif error.reason in ("Permission denied", "Operation not permitted"):
        why = (
            "the kernel refused to make the stack executable (%s: a security policy such as SELinux's execstack "
            "denial)" % error.reason
        )
    else:
        why = "the loader could not make the stack executable (%s; glibc %s)" % (
            error.reason or "no reason given",
            glibc or "unknown",
        )
    owner = requirements.owner_of(path) if path else None
    update = ""
    if owner is not None:
        update = ", or install a build of %s linked with `-z noexecstack` where one exists (%s)" % (
            owner.package,
            "`python -m pip install -U %s`" % owner.package
            if owner.source == requirements.PIP
            else "`conda update %s`" % owner.package,
        )
    fix = "clear the flag: `patchelf --clear-execstack` on %s (or `execstack -c`)%s" % (target, update)
    if glibc and not system_rules.older(glibc, "2.41"):
        fix += (
            "; or keep the file and start Python with `GLIBC_TUNABLES=glibc.rtld.execstack=2` (glibc >= 2.42 makes "
            "the stack executable from the start)"
        )
    return Cause(
        meaning="%s needs an executable stack and %s: %s" % (error.object or path, why, flag),
        fix=fix,
        fact="%s; glibc %s; PT_GNU_STACK %s"
        % (error.message, glibc or "unknown", head.stack if head is not None and head.stack is not None else "unknown"),
    )


def by_load_error(parts, facts):
    """Rule 3a: the loader's own message (glibc's classes, loader.LOAD_ERRORS) and the facts of the file it names:
    a file shorter than its package's record or its own headers (truncated, corrupt), a file for another
    architecture, an object that needs an executable stack."""
    rules = {
        loader.SHORT: _damaged,
        loader.HEADER: _damaged,
        loader.CLASS: _foreign,
        loader.MISSING: _foreign,
        loader.EXECSTACK: _execstack,
    }
    for error in parts.load_errors:
        rule = rules.get(error.kind)
        cause = rule(error, facts) if rule else None
        if cause is not None:
            return cause
    return None


def _needed_by(name, facts, limit=400):
    """The environment's libraries (torch's, the nvidia wheels', the prefix's lib/) whose DT_NEEDED names `name`;
    at most `limit` files are read."""
    dirs = loader.environment_dirs(facts.provenance.environment, facts.torch_dir)
    if facts.torch_dir:
        dirs.insert(0, facts.torch_dir)
    out, read = [], 0
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for base in names:
            if ".so" not in base or read >= limit:
                continue
            read += 1
            info = loader.dynamic(os.path.join(d, base))
            if info is not None and name in info.needed:
                out.append(os.path.join(d, base))
    return out


def _unprovided(name, facts, text=""):
    """A Cause for a library (not NVIDIA's) that no directory the loader searches holds and no installed package's
    record lists: which of the environment's libraries needs it, and the install command of the package that
    provides it (PROVIDERS) for this environment's kind."""
    from checks.machine import requirements

    torch = facts.provenance.packages.get("torch")
    entries = [torch.imported.entry] if torch is not None and torch.imported is not None else []
    listed = requirements.providers({name}, entries=entries, prefixes=[facts.provenance.environment]).get(name)
    needers = _needed_by(name, facts)
    who = "needed by %s" % ", ".join(os.path.basename(n) for n in needers[:3]) if needers else ""
    if listed:
        owner = listed[0]
        return Cause(
            meaning="%s%s is installed (by %s %s) but in no directory the loader searches"
            % (name, " (%s)" % who if who else "", owner.package, owner.version),
            fix="put its directory on the loader path (LD_LIBRARY_PATH), or install a build of the library that "
            "needs it whose run path finds it",
            fact="%s listed by %s %s, not found by the loader" % (name, owner.package, owner.version),
        )
    provider = next((p for p in PROVIDERS if p[0].search(name)), None)
    kind = _environment_kind(facts)
    if provider is None:
        stem = re.sub(r"^lib|\.(so|dylib|dll).*$", "", name)
        fix = (
            "install the package that provides %s into the environment, or add its directory to LD_LIBRARY_PATH; "
            "for a system library, the OS's package (Debian/Ubuntu: `apt-cache search %s` names it, then `sudo apt "
            "install` it) or conda-forge's (`conda search -c conda-forge %s`)" % (name, stem, stem)
        )
        what = ""
    else:
        _, what, pip, conda, system_package = provider
        if kind == "pixi":
            fix = "`pixi add %s`" % conda
        elif kind == "conda":
            fix = "`conda install -c conda-forge %s`" % conda
        elif pip:
            fix = (
                "`python -m pip install %s` (it puts %s in %s; add that directory to LD_LIBRARY_PATH if the "
                "library that needs it does not look there)"
                % (pip, name, os.path.join(facts.provenance.environment, "lib"))
            )
        else:
            fix = (
                "install %s: the OS's package (Debian/Ubuntu: `apt install %s`), or use a conda environment "
                "(conda-forge `%s`)" % (what, system_package, conda)
            )
        fix = "install the package that provides %s (%s): %s" % (name, what, fix)
        what = " (%s%s)" % (what, ", " + who if who else "")
    owner = ""
    if needers:
        lib_owner = requirements.owner_of(needers[0])
        if lib_owner is not None:
            owner = "; %s %s ships %s, which needs it, but not %s" % (
                lib_owner.package,
                lib_owner.version,
                os.path.basename(needers[0]),
                name,
            )
            fix += ", or install a build of %s that ships it" % lib_owner.package
    if OPENCV_GUI.search(name) and re.search(r"[/\\]cv2[/\\]", text or ""):
        fix += (
            ", or replace opencv-python with opencv-python-headless, the same cv2 without the GUI libraries "
            "(`python -m pip uninstall -y opencv-python && python -m pip install opencv-python-headless`)"
        )
    return Cause(
        meaning="%s%s is in no directory the loader searches and no installed package provides it%s"
        % (name, what or (" (%s)" % who if who else ""), owner),
        fix=fix,
        fact="%s: no file, no package record" % name,
    )


def _loader_inputs_files(facts):
    """Yield (variable, entry, folder, file names) for each LD_PRELOAD file and LD_LIBRARY_PATH directory, in the
    loader's order (ld.so(8): preloads first, then LD_LIBRARY_PATH); an entry that cannot be listed is left out."""
    sources = [("LD_PRELOAD", p) for p in re.split(r"[:\s]+", facts.loader_inputs.get("LD_PRELOAD", "")) if p]
    sources += [("LD_LIBRARY_PATH", d) for d in facts.loader_inputs.get("LD_LIBRARY_PATH", "").split(":") if d]
    for variable, where in sources:
        try:
            names = [os.path.basename(where)] if variable == "LD_PRELOAD" else sorted(os.listdir(where))
        except OSError:
            continue
        yield variable, where, (os.path.dirname(where) if variable == "LD_PRELOAD" else where), names


def _symbol_family(library, symbol, facts):
    """A Cause when an undefined `symbol` belongs to a library family (SYMBOL_FAMILIES) of which LD_PRELOAD or an
    LD_LIBRARY_PATH directory holds copies from outside the environment: the loader takes those first."""
    family = next((f for f in SYMBOL_FAMILIES if f[0].search(symbol)), None)
    if family is None:
        return None
    _, files, label = family
    env, torch_dir = facts.provenance.environment, facts.torch_dir
    for variable, where, folder, names in _loader_inputs_files(facts):
        mine, reals = [], set()
        for n in names:
            real = os.path.realpath(os.path.join(folder, n))
            if files.search(n) and real not in reals and not loader.is_own(real, env, torch_dir):
                mine.append(n)
                reals.add(real)
        if not mine:
            continue
        version = loader.version_of(os.path.join(folder, mine[0]))
        return Cause(
            meaning="%s lacks %s, a %s symbol, and %s puts %s first, which holds %s's own %s%s from outside the "
            "environment"
            % (
                os.path.basename(library) if library else "a library",
                symbol,
                label,
                variable,
                where,
                label,
                ", ".join(mine[:3]),
                " (version %s)" % version if version else "",
            ),
            fix="unset %s, or remove %s from it (and do not source the script that adds it), so that the %s the "
            "environment's libraries were built with loads" % (variable, where, label),
            fact="%s in %s" % (mine[0], variable),
        )
    return None


# The CUDA release a library's soname fixes: libcudart, libcublas, libcublasLt and libnvrtc carry CUDA's major version
# in their soname (libcudart.so.10.1 up to CUDA 10.2, libcudart.so.11.0 for every 11.x, libcudart.so.12 from 12.0;
# libcublas.so.11, libnvrtc.so.11.2), as the CUDA Toolkit's release notes list them ("CUDA Toolkit Major Component
# Versions"). cuFFT, cuRAND, cuSPARSE and cuSOLVER number their sonames on their own (libcufft.so.10 is CUDA 11).
CUDA_SONAME = re.compile(r"^lib(?:cudart|cublas|cublasLt|nvrtc)\.so\.(\d+)(?:\.(\d+))?$")
PACKAGE_SCAN = 400  # compiled files read at most, in the failing package


def cuda_of_soname(name):
    """The CUDA release a library's soname fixes (CUDA_SONAME): "10.1" for libcudart.so.10.1 (CUDA 10.x named its
    minor), "12" for libcudart.so.12 or libcublas.so.12; None for a soname that fixes none."""
    shape = CUDA_SONAME.match(name)
    if shape is None:
        return None
    major, minor = shape.group(1), shape.group(2)
    return "%s.%s" % (major, minor) if minor and int(major) <= 10 else major


def frame_package_modules(text, torch_dir=None, limit=PACKAGE_SCAN):
    """The compiled modules (`*.so`, `*.pyd`) of the packages the traceback `text` passes through, deepest frame
    first: each frame's file is climbed to its top-level package (the last folder up that holds `__init__.py`), and
    at most `limit` files of those packages are listed (torch's own and the standard library's frames skipped)."""
    from checks.machine.project import package_root, package_walk

    seen, out = set(), []
    for path in reversed(FRAME.findall(text or "")):
        if path.startswith("<") or (torch_dir and path.startswith(torch_dir + os.sep)):
            continue
        if not os.path.isfile(os.path.join(os.path.dirname(path), "__init__.py")):
            continue
        folder = package_root(path)
        if folder in seen:
            continue
        seen.add(folder)
        for found in package_walk(folder, limit * 10):
            if re.search(r"\.(so(\.[\d.]+)?|pyd)$", found):
                out.append(found)
                if len(out) >= limit:
                    return out
    return out


def _built_for_other_cuda(name, text, facts):
    """Rule 3c: the failure cannot open a CUDA library whose soname fixes another CUDA major than torch's
    (CUDA_SONAME: libcudart.so.10.1 under a CUDA 11.7 torch), and a compiled module of a package in the traceback
    needs it (its DT_NEEDED, read without loading): that package was built for the other CUDA, so installing the
    library is not the fix; its build for this torch is (facebookresearch/detectron2#2064: a cu101 detectron2 wheel
    beside torch built for another CUDA). None when the soname fixes no CUDA, torch is a CPU build, the majors agree,
    or no module in the traceback's packages needs it."""
    needs = cuda_of_soname(name)
    if needs is None or not facts.torch_dir:
        return None
    from checks.machine import distributions
    from checks.machine.provenance import version_py

    built = version_py(facts.torch_dir)
    torch_cuda, torch_version = built.get("cuda"), built.get("__version__", "")
    if not torch_cuda or needs.split(".")[0] == torch_cuda.split(".")[0]:
        return None
    needs = "CUDA %s" % needs
    for path in frame_package_modules(text, facts.torch_dir):
        dynamic = loader.dynamic(path)
        if dynamic is None or name not in dynamic.needed:
            continue
        dist = distributions.owner(path, facts.provenance.environment)
        project = dist.name if dist is not None else os.path.basename(os.path.dirname(path))
        made = " %s" % dist.version if dist is not None else ""
        return Cause(
            meaning="%s%s was built for %s: its %s needs %s, and torch %s is a CUDA %s build, which brings the CUDA "
            "%s libraries"
            % (project, made, needs, os.path.basename(path), name, torch_version, torch_cuda, torch_cuda.split(".")[0]),
            fix="install the %s build made for torch %s with CUDA %s (its wheel index or release page lists them by "
            "cuXY), or build %s from source against this torch (in its source checkout: `python -m pip install "
            "--no-build-isolation .`); installing CUDA %s's %s would load a second CUDA beside torch's"
            % (project, torch_version.split("+")[0], torch_cuda, project, needs[5:], name),
            fact="%s DT_NEEDED %s (%s); torch CUDA %s" % (os.path.basename(path), name, needs, torch_cuda),
        )
    return None


def by_library(parts, facts):
    """Rule 3: the libraries the failure names, resolved as the loader would."""
    system = facts.system
    for kind, number, required_by in parts.version_needed:
        if kind == "GLIBC" and system.glibc and system_rules.older(system.glibc, number):
            needed = system.glibc_needed
            return Cause(
                meaning="this build needs glibc %s (%s requires GLIBC_%s); the OS has glibc %s"
                % (number, os.path.basename(required_by) if required_by else "torch", number, system.glibc),
                fix="upgrade the OS (or the container image) to one with glibc >= %s, or install a torch release "
                "whose libraries need at most GLIBC_%s" % (number, system.glibc),
                fact="host glibc %s < needed %s%s" % (system.glibc, number, " (%s)" % needed[1] if needed else ""),
            )
        if kind in ("GLIBCXX", "CXXABI"):
            cause = (
                _shadow("libstdc++.so.6", facts, _requester(required_by, facts))
                or _unlinked("libstdc++.so.6", facts)
                or _unsearched("libstdc++.so.6", "%s_%s" % (kind, number), facts, parts.text)
            )
            if cause:
                return cause
            return Cause(
                meaning="the libstdc++ the loader takes is older than %s needs (%s_%s)"
                % (os.path.basename(required_by) if required_by else "torch", kind, number),
                fix="install a newer libstdc++ into the environment (conda: `libstdcxx-ng>=12`, pixi: add "
                "`libstdcxx-ng`), or drop the directory of the old one from LD_LIBRARY_PATH",
                fact="%s_%s not in %s" % (kind, number, loader.resolve("libstdc++.so.6").path or "any libstdc++"),
            )
    for library, symbol, provider in parts.undefined:
        if not provider:
            continue
        requester = library if library and os.path.isfile(library) else None
        found = loader.resolve(provider, requester, environment=facts.provenance.environment, torch_dir=facts.torch_dir)
        if found.path and not found.own and found.via in ("LD_LIBRARY_PATH", "LD_PRELOAD"):
            return Cause(
                meaning="%s needs %s from %s, but the loader takes %s from %s (%s%s), which lacks it"
                % (
                    os.path.basename(library) if library else "a library",
                    symbol,
                    provider,
                    provider,
                    os.path.dirname(found.path),
                    found.via,
                    ", version %s" % found.version if found.version else "",
                ),
                fix="remove %s from %s so that the environment's own %s loads"
                % (os.path.dirname(found.path) if found.via == "LD_LIBRARY_PATH" else found.path, found.via, provider),
                fact="%s via %s" % (provider, found.via),
            )
    for library, symbol, provider in parts.undefined:
        cause = None if provider else _symbol_family(library, symbol, facts)
        if cause:
            return cause
    names = list(parts.libraries)
    for _, _, version in parts.undefined:
        if version and version not in names:
            names.insert(0, version)
    torch_libs = ("libtorch", "libc10", "libshm", "libtorch_python", "_C")
    for name in names:
        if name.startswith(torch_libs):
            continue
        cause = _shadow(name, facts, _requester(None, facts))
        if cause:
            return cause
    torch = facts.provenance.packages.get("torch")
    if parts.cannot_open and torch is not None and torch.imported is not None:
        from checks.machine import requirements

        gaps = requirements.record_gaps(torch.imported.entry, names=set(parts.cannot_open))
        if gaps:
            gap = gaps[0]
            return Cause(
                meaning="%s %s is installed incompletely: %s, which its RECORD lists, is missing"
                % (gap.package, gap.version, gap.path),
                fix=gap.fix(),
                fact="%s missing from %s %s's installed files" % (os.path.basename(gap.path), gap.package, gap.version),
            )
    for name in parts.cannot_open:
        other = _built_for_other_cuda(name, parts.text, facts)
        if other is not None:
            return other
    for name in parts.cannot_open:
        if name.startswith(torch_libs) or DRIVER_LIBRARIES.search(name):
            continue
        found = loader.resolve(
            name, _requester(None, facts), environment=facts.provenance.environment, torch_dir=facts.torch_dir
        )
        if found.path is not None and found.via.startswith(("DT_RUNPATH of", "DT_RPATH of")):
            # only torch's own run path holds it, yet the failing dlopen did not find it: that dlopen searched the
            # caller's run path, LD_LIBRARY_PATH and ld.so.cache (dlopen(3)), and this folder is in none of them
            folder = os.path.dirname(found.path)
            return Cause(
                meaning="%s is in %s (%s), but the process that failed did not search there: a dlopen by bare name "
                "searches the calling library's run path, LD_LIBRARY_PATH and ld.so.cache (dlopen(3))"
                % (name, folder, found.via),
                fix="add %s to LD_LIBRARY_PATH (`export LD_LIBRARY_PATH=%s:$LD_LIBRARY_PATH`; in an IDE, in the run "
                "configuration's environment)" % (folder, folder),
                fact="%s found only through %s" % (found.path, found.via),
            )
        if found.path is None and component(name) is None:
            return _unprovided(name, facts, parts.text)
        if found.path is None:
            key = component(name)
            where = "LD_LIBRARY_PATH" if facts.loader_inputs.get("LD_LIBRARY_PATH") else "the loader path"
            return Cause(
                meaning="%s is in no directory the loader searches (the environment, %s, ld.so.cache)" % (name, where),
                fix=(
                    "install the package that provides it into the environment: pip `nvidia-%s-cuXX` for your "
                    "CUDA, conda `%s`" % (key.split("|")[0], "lib" + key.split("|")[-1])
                    if key
                    else "install the package that provides %s into the environment, or add its directory to "
                    "LD_LIBRARY_PATH" % name
                ),
                fact="%s not found" % name,
            )
    # An undefined symbol in a library the environment owns, whose dependencies all resolve inside it.
    return None


def by_loader_path(parts, facts):
    """Rule 3b: a directory on LD_LIBRARY_PATH (or a file in LD_PRELOAD) holds its own copy of a library the
    environment has, and the failure concerns it: one of torch's own libraries (any torch failure does), or a library
    of a component the error names ("cuDNN version incompatibility")."""
    named = {m.lower() for m in COMPONENT_WORDS.findall(" ".join([parts.line] + list(parts.libraries)))}
    named |= {k for k in map(component, parts.libraries) if k}
    env_dirs = loader.environment_dirs(facts.provenance.environment, facts.torch_dir)
    own = {}
    for d in env_dirs:
        try:
            for name in os.listdir(d):
                own.setdefault(name, os.path.join(d, name))
        except OSError:
            continue
    candidates = []  # (rank, variable, where, name): a library of a component the error names first
    for variable, where, folder, names in _loader_inputs_files(facts):
        for name in names:
            if name not in own or loader.is_own(
                os.path.join(folder, name), facts.provenance.environment, facts.torch_dir
            ):
                continue
            key = component(name)
            if key and any(k in named for k in key.split("|")):
                candidates.append((0, variable, where, name))
            elif TORCH_LIBRARY.search(name):
                candidates.append((1, variable, where, name))
    if not candidates:
        return None
    _, variable, where, name = min(candidates, key=lambda c: c[0])
    theirs = where if variable == "LD_PRELOAD" else os.path.join(where, name)
    version, mine = loader.version_of(theirs), loader.version_of(own[name])
    return Cause(
        meaning="%s puts %s first, which holds another %s%s than the environment's: the loader takes that copy "
        "instead of the environment's %s%s"
        % (
            variable,
            where,
            name,
            " (version %s)" % version if version else "",
            own[name],
            " (version %s)" % mine if mine else "",
        ),
        fix="remove %s from %s (or unset %s) so that the environment's own libraries load"
        % (where, variable, variable),
        fact="%s in %s, also in the environment" % (name, variable),
    )
