"""Rules 1-2b: which copy of torch (torchvision, torchaudio) and which interpreter run, a path entry that puts
another copy first, a shadowed standard module, a compiled extension module missing for this interpreter, an unmet
declared requirement, and two installed releases that do not fit together."""

import dataclasses
import glob
import importlib.util
import os
import platform
import re
import sys

from checks.diagnosis.libraries import _environment_kind
from checks.diagnosis.model import (
    CANNOT_IMPORT,
    FRAME,
    NO_ATTRIBUTE,
    NUMPY_API,
    TORCH_C_FOLDER,
    TORCH_INDEX_LABEL,
    Cause,
    component,
    package_of_file,
    raising_distribution,
    raising_package,
)
from checks.machine import distributions, interpreter, provenance, requirements
from checks.machine import project as project_facts
from checks.machine.project import PROJECT_NAME


def _relevant(requirement, names):
    """True when an unmet requirement concerns one of `names` (packages or NVIDIA component keys)."""
    canonical = requirement.name.lower().replace("_", "-")
    owner = requirement.owner.split()[0].lower()
    for name in names:
        name = name.lower().replace("_", "-")
        if canonical == name or owner == name or re.search(r"(^|-)(%s)(-|$)" % name, canonical):
            return True
    return False


def _fix_origin(copy, name):
    if getattr(copy, "path", "").endswith(".py"):  # a script or module named like the package
        return "rename %s (a file named %s.py is imported as %s), and delete its %s.*.pyc in __pycache__" % (
            copy.path,
            name,
            name,
            name,
        )
    if copy.origin == provenance.USER_SITE:
        return "remove the user-site copy: `python -m pip uninstall --user %s` (or set PYTHONNOUSERSITE=1)" % name
    if copy.origin == provenance.PYTHONPATH:
        return "drop %s from PYTHONPATH" % copy.entry
    if copy.origin == provenance.CURRENT_DIRECTORY:
        return "run from another directory: %s holds a %s/ folder that shadows the installed one" % (copy.entry, name)
    return "remove %s from sys.path (a .pth file or PYTHONHOME adds it), or uninstall %s there" % (copy.entry, name)


def by_elsewhere(parts, facts):
    """Rule 1f: torch (torchvision, torchaudio) is not installed in this Python, but another environment on this
    machine holds it (provenance.elsewhere: conda's list of environments, pixi's, pyenv's, virtualenvs, the python on
    PATH, Jupyter's kernels): the program ran with the wrong interpreter, the common case in notebooks and IDEs."""
    missing = (parts.missing_module or "").split(".")[0]
    if missing not in provenance.PACKAGES:
        return None
    package = facts.provenance.packages.get(missing)
    if package is not None and package.imported is not None:
        return None
    found = provenance.elsewhere(missing)
    if not found:
        return None
    first = found[0]
    where = "; ".join(
        "%s (%s%s)" % (e.prefix, e.found_by, ", %s %s" % (missing, e.version) if e.version else "") for e in found[:3]
    )
    apart = getattr(facts.provenance, "pip_apart", None)
    into = next((e for e in found if apart and provenance.same_python(e.interpreter, apart[2])), None)
    if into is not None:  # `pip install` went there: pip and python on PATH are two Pythons
        pip, path, _, python = apart
        return Cause(
            meaning="%s is not installed in this Python (%s), but in %s, the environment the `%s` on PATH (%s) "
            "installs into, while the `%s` on PATH is %s: `%s install` and `%s list` work on another environment "
            "than the one `%s` runs" % (missing, facts.provenance.interpreter, into.prefix, pip, path,
                                        os.path.basename(python), python, pip, pip, os.path.basename(python)),
            fix="install with the Python you run: `python -m pip install %s` (`%s -m pip install %s`); `python -m pip` "
            "always works on that Python's own environment" % (missing, facts.provenance.interpreter, missing),
            fact="%s in %s; %s on PATH runs %s; python on PATH is %s" % (missing, into.prefix, pip, apart[2], python),
        )  # fmt: skip
    return Cause(
        meaning="%s is not installed in this Python (%s), but it is in another environment on this machine: %s"
        % (missing, facts.provenance.interpreter, where),
        fix="run the program with that environment's Python (`%s -m ...` or `%s script.py`; conda: `conda activate "
        "%s`; pixi: `pixi run ...`; a notebook or IDE: select that interpreter or kernel, or register it with `%s -m "
        "ipykernel install --user --name %s`), or install %s into this Python"
        % (
            first.interpreter,
            first.interpreter,
            os.path.basename(first.prefix),
            first.interpreter,
            os.path.basename(first.prefix),
            missing,
        ),
        fact="%s in %s, not on this Python's sys.path" % (missing, first.prefix),
    )


# Import names whose distribution is named otherwise (each project's PyPI page): what `pip install` needs.
DISTRIBUTION_OF = {
    "PIL": "Pillow",
    "cv2": "opencv-python",
    "yaml": "PyYAML",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "attr": "attrs",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "google": "protobuf",
    "soundfile": "soundfile",
    "av": "av",
    "jwt": "PyJWT",
    "Crypto": "pycryptodome",
    "OpenSSL": "pyOpenSSL",
    "serial": "pyserial",
    "git": "GitPython",
    "hydra": "hydra-core",
    "pkg_resources": "setuptools",
}
# Modules a distribution stopped shipping, with the first release without them: setuptools 82.0.0 no longer ships
# pkg_resources (read from the PyPI wheels: setuptools-81.0.0-py3-none-any.whl holds pkg_resources/, 82.0.0's does
# not); code that still imports it needs a release below that one.
SHIPPED_UNTIL = {"pkg_resources": ("setuptools", "82")}


# Import names whose PyPI project of the same name is another project than the one torch users mean: import name ->
# (the project meant, a word its metadata carries, how to install it). NVIDIA Apex is not on PyPI (its README installs
# it from the GitHub clone; conda-forge packages it as nvidia-apex); PyPI's `apex` is a Pyramid toolkit (its
# METADATA: "Pyramid toolkit to add Velruse, Flash Messages,CSRF, ReCaptcha and Sessions"; NVIDIA/apex#1063).
OTHER_PROJECT = {
    "apex": (
        "NVIDIA Apex",
        "nvidia",
        "`python -m pip uninstall -y apex`, then install NVIDIA Apex from its source (`git clone "
        "https://github.com/NVIDIA/apex` and, in the clone, its README's `pip install -v --no-build-isolation ...`) "
        "or conda-forge's `nvidia-apex`",
    ),
    # OpenAI's Whisper is the PyPI project openai-whisper (its README: `pip install -U openai-whisper`); PyPI's
    # `whisper` is Graphite's round-robin database (its METADATA Summary: "Fixed size round-robin style database").
    "whisper": (
        "OpenAI Whisper",
        "openai",
        "`python -m pip uninstall -y whisper && python -m pip install -U openai-whisper`",
    ),
}


def other_project(dist, name):
    """Rule 2g's judgement of one installed Distribution `dist` of the import name `name`: a Cause when OTHER_PROJECT
    lists the name and `dist`'s metadata (Summary, Home-page, Project-URL) lacks the meant project's word, else
    None."""
    if name not in OTHER_PROJECT:
        return None
    meant, word, fix = OTHER_PROJECT[name]
    about = distributions.about(dist)
    if any(word in v.lower() for v in about):
        return None
    return Cause(
        meaning="the installed %s is another project named %s, not %s (its metadata: %s)"
        % (dist.describe(), name, meant, "; ".join(about[:2]) or "no summary or home page"),
        fix=fix,
        fact="%s %s: %s" % (dist.name, dist.version, "; ".join(about[:2]) or "no summary"),
    )


def by_other_project(parts, facts):
    """Rule 2g: the failure is in, or names, a package whose installed distribution is another project of the same
    name than the one the code means (OTHER_PROJECT): its metadata (Summary, Home-page, Project-URL) lacks the
    meant project's word. `pip install apex` installs a Pyramid toolkit, not NVIDIA Apex."""
    for name in OTHER_PROJECT:
        if not re.search(r"[/\\]%s[/\\]|['\"]%s(\.\w+)*['\"]|\bfrom %s\b" % ((re.escape(name),) * 3), parts.text):
            continue
        dist = distributions.find(name, environment=facts.provenance.environment)
        cause = other_project(dist, name) if dist is not None else None
        if cause is not None:
            return cause
    return None


QUOTED_MODULE = re.compile(r"""(?:module|named) ['"]([A-Za-z_]\w*)""")


def by_framework_extra(parts, facts, path=None):
    """Rule 2h: the failure is raised in, or names, a package installed without the extra that brings its PyTorch
    part (distributions.framework_extra_unmet: transformer_engine 1.13.0 without transformer_engine_torch fails in
    transformer_engine/pytorch/__init__.py, or as "module 'transformer_engine' has no attribute 'pytorch'";
    NVIDIA/TransformerEngine#1379, the maintainer's fix `pip install transformer_engine[pytorch]`)."""
    path = sys.path if path is None else path
    environment = facts.provenance.environment
    raiser = raising_distribution(parts.text, environment)
    dists = [raiser[0]] if raiser is not None else []
    dists += [distributions.find(n, path, environment) for n in QUOTED_MODULE.findall(parts.line or "")]
    seen = set()
    for dist in dists:
        if dist is None or dist.name in seen or distributions.canonical(dist.name) in ("torch", "pytorch"):
            continue
        seen.add(dist.name)
        unmet = distributions.framework_extra_unmet(dist, requirements.pip_installed(path))
        if unmet is None:
            continue
        extra, missing = unmet
        wanted = ", ".join(distributions.REQUIRED_NAME.match(t).group(1) for t in missing)
        return Cause(
            meaning="%s %s is installed without its PyTorch part: its [%s] extra's %s is not installed (`pip install "
            "%s` without the extra installs the core only)" % (dist.name, dist.version, extra, wanted, dist.name),
            fix='install the extra at the same release: `python -m pip install "%s[%s]==%s"`'
            % (dist.name, extra, dist.version),
            fact="%s %s declares %s; not installed" % (dist.name, dist.version, "; ".join(missing)),
        )
    return None


def by_missing_module(parts, facts):
    """Rule 2f: a module the failing code imports is not installed. Facts: the importer (the innermost traceback
    frame's package), whether its install record declares the module's distribution (pip Requires-Dist, a conda
    record's depends: a package that imports what it does not declare leaves a solver nothing to install), and how
    this environment installs packages; the fix is the exact install command. When the importer is not torch's,
    the project's requirements files are read too (machine.project.requirement_for): a line that installs the module
    names the distribution its name does not (hydra_configs is hydra-configs-torch's) and the version the project
    pins."""
    module = (parts.missing_module or "").split(".")[0]
    if not module or module in provenance.PACKAGES or module.startswith("_"):
        return None
    if parts.missing_module and "." in parts.missing_module and _importable(module):
        return None  # the package is there, a submodule is not: another rule's case (a release mismatch)
    inside = provenance.inside_package(module)
    if inside is not None:
        return _inside_package(inside)
    distribution = DISTRIBUTION_OF.get(module, module)
    importer = raising_package(parts.text, skip=(module,))
    declared = None
    if importer == "torch":
        owned = [r for r in facts.requirements.items if r.owner.split()[0] in ("torch", "pytorch")]
        if owned:
            key = distribution.lower().replace("_", "-")
            declared = any(r.name.lower().replace("_", "-") == key for r in owned)
            source = owned[0].source
            owner = owned[0].owner
    fix = "install it into this environment: `%s`" % _add_command(distribution, facts)
    why = asked = ""
    if module in SHIPPED_UNTIL:  # a release that still ships it
        project, until = SHIPPED_UNTIL[module]
        have = distributions.find(project.replace("-", "_"), environment=facts.provenance.environment)
        fix = 'install a %s that still ships %s: `python -m pip install "%s<%s"`' % (project, module, project, until)
        why = (
            "; %s %s is installed, and %s %s.0 stopped shipping %s" % (project, have.version, project, until, module)
            if have is not None
            else "; %s, which ships it, is not installed (and releases from %s.0 on no longer ship it)"
            % (project, until)
        )
    if declared is False:
        why = "; %s's %s does not declare it, so installing torch did not bring it" % (owner, source)
    elif importer is None or importer not in provenance.PACKAGES:
        asked = project_facts.requirement_for(module, project_facts.requirements_here(), DISTRIBUTION_OF.get(module))
    if asked:
        where = "%s:%d" % (os.path.basename(asked.file), asked.line)
        distribution = PROJECT_NAME.match(asked.text).group(0)
        why = "; the project's %s asks for %s, which was not installed" % (where, asked.text)
        pip = "pixi add --pypi" if _environment_kind(facts) == "pixi" else "python -m pip install"
        fix = (
            'install it into this environment: `%s "%s"` (everything the project asks for: `python -m pip install '
            "-r %s`)" % (pip, asked.text, os.path.basename(asked.file))
        )
    return Cause(
        meaning="%s is not installed: %s imports it%s"
        % (
            module if distribution == module else "%s (the %s package)" % (module, distribution),
            importer or "the failing code",
            why,
        ),
        fix=fix,
        fact="no module %s on this Python's path%s"
        % (
            module,
            "; not in %s's %s" % (owner, source)
            if declared is False
            else "; %s asks for %s" % (where, asked.text)
            if asked
            else "",
        ),
    )


def _inside_package(inside):
    """The Cause for a module whose package folder is itself on sys.path (provenance.InsidePackage): the folder
    above it is what Python needs on its path."""
    where = "from " + inside.origin + (", set in %s" % inside.set_in if inside.set_in else "")
    if inside.origin == provenance.PYTHONPATH:
        entries = os.environ.get("PYTHONPATH", "").split(os.pathsep)
        rest = [p for p in entries if p and os.path.abspath(p) != inside.entry]
        fix = 'put the folder above it on PYTHONPATH instead: `export PYTHONPATH="%s"`%s' % (
            os.pathsep.join([inside.parent] + rest),
            " (change that line of %s the same way)" % inside.set_in if inside.set_in else "",
        )
    else:
        fix = "put %s on sys.path instead of %s (or install the package: `python -m pip install -e` its project)" % (
            inside.parent,
            inside.entry,
        )
    return Cause(
        meaning="%s on sys.path (%s) is the %s package's own folder, not the folder that holds it: Python looks for "
        "`%s` inside the folders on its path, so it needs the parent %s there instead"
        % (inside.entry, where, inside.name, inside.name, inside.parent),
        fix=fix,
        fact="sys.path entry %s holds %s's code; no entry holds %s/" % (inside.entry, inside.name, inside.name),
    )


def _add_command(distribution, facts):
    """The command that adds `distribution` the way this environment installs packages."""
    return {
        "pixi": "pixi add %s" % distribution.lower(),
        "conda": "conda install -c conda-forge %s" % distribution.lower(),
    }.get(_environment_kind(facts), "python -m pip install %s" % distribution)


def _importable(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def by_unwritable_site(parts, facts, purelib=None, virtual=None):
    """Rule 1g: torch (torchvision, torchaudio) is missing from this Python, whose own site-packages (sysconfig's
    purelib: where pip installs) this user may not write: a system Python, whose installs need root, so an install
    there failed with Permission denied. The fix installs where this user can (pip's --user scheme, or a virtual
    environment the user owns)."""
    import sysconfig

    from checks.machine import system as system_rules

    missing = (parts.missing_module or "").split(".")[0]
    virtual = sys.prefix != sys.base_prefix if virtual is None else virtual
    if missing not in provenance.PACKAGES or virtual:
        return None
    package = facts.provenance.packages.get(missing)
    if package is not None and package.imported is not None:
        return None
    target = purelib or sysconfig.get_paths().get("purelib")
    if not target:
        return None
    found = system_rules.path_facts(target)
    if found.writable:
        return None
    me = system_rules.user_name(found.uid) or "uid %s" % found.uid
    return Cause(
        meaning="%s is not installed in this Python (%s), and its site-packages (%s, %s, owner %s) is not writable by "
        "this user (%s): installing into it needs root, so `pip install` there fails with Permission denied"
        % (missing, facts.provenance.interpreter, found.nearest, found.mode, found.owner or found.owner_uid, me),
        fix="install where this user can write: `%s -m pip install --user %s` (the user site, ~/.local), or a virtual "
        "environment of your own: `%s -m venv ~/venvs/torch && ~/venvs/torch/bin/python -m pip install %s`"
        % (facts.provenance.interpreter, missing, facts.provenance.interpreter, missing),
        fact="%s not writable by %s" % (found.nearest, me),
    )


def by_provenance(parts, facts):
    """Rule 1: the copy imported, or the interpreter, is not the environment's."""
    prov = facts.provenance
    if prov.foreign_interpreter:
        own = os.path.join(prov.environment, "Scripts" if os.name == "nt" else "bin", "python")
        return Cause(
            meaning="this Python (%s) is not the activated environment's (%s)" % (prov.interpreter, prov.environment),
            fix="run the environment's own Python: `%s -m ...` (under pixi: `pixi run python ...`; a notebook: select "
            "that environment's kernel)" % own,
            fact="interpreter %s outside %s" % (prov.interpreter, prov.environment),
        )
    names = [n for n in provenance.PACKAGES if n in parts.packages] or ["torch"]
    for name in names:
        package = prov.packages.get(name)
        copy = package.imported if package else None
        if copy is None:
            continue
        if copy.empty:
            return Cause(
                meaning="the %s that Python finds is an empty directory (%s): a leftover of an uninstall, or a folder "
                "of that name, imported as an empty namespace package" % (name, copy.path),
                fix=(
                    "remove %s (or run from another directory): Python then imports %s"
                    % (copy.path, next(c for c in package.others if not c.empty).describe())
                    if any(not c.empty for c in package.others)
                    else "remove %s and install %s into this environment (`pixi install`, or `python -m pip install "
                    "%s` from PyTorch's index for your CUDA): no other copy of it is on sys.path"
                    % (copy.path, name, name)
                ),
                fact="%s: %s" % (name, copy.describe()),
            )
        own = [c for c in package.others if c.origin == provenance.ENVIRONMENT]
        if copy.origin != provenance.ENVIRONMENT and (own or copy.origin == provenance.CURRENT_DIRECTORY):
            behind = (" ahead of the environment's %s" % own[0].describe()) if own else ""
            return Cause(
                meaning="Python imports %s %s%s" % (name, copy.describe(), behind),
                fix=_fix_origin(copy, name),
                fact="%s imported from %s" % (name, copy.origin),
            )
    return None


def _held_by(entry, name):
    """True when sys.path entry `entry` holds top-level module `name` (a package, a .py file or an extension)."""
    base = os.path.join(entry, name)
    return os.path.isdir(base) or os.path.isfile(base + ".py") or bool(glob.glob(glob.escape(base) + ".*so"))


def by_foreign_path(parts, facts):
    """Rule 1a: the failing module is imported from a PYTHONPATH entry of another Python's packages
    (provenance.foreign_paths: lib/python2.7/dist-packages on a Python 3). PYTHONPATH precedes the environment's
    site-packages (docs.python.org/3/library/sys_path_init.html), so its copy is taken first, whatever it was built
    for; the failure is that copy's (pure Python for 2.7, or extension modules named for another interpreter, which
    the extension rule 1b describes). Precedes 1b: the entry is why the wrong files are on the path at all."""
    foreign = getattr(facts.provenance, "foreign_paths", ())
    if not foreign:
        return None
    names = [n.split(".")[0] for n in ([parts.missing_module] if parts.missing_module else []) + list(parts.packages)]
    for position, item in enumerate(foreign):
        root = item.entry.rstrip("/\\")
        named = [p for p in parts.paths if p.startswith(root + "/")]
        modules = [n for n in dict.fromkeys(names) if _held_by(item.entry, n)]
        # an earlier PYTHONPATH entry holding it would be imported instead
        modules = [n for n in modules if not any(_held_by(f.entry, n) for f in foreign[:position])]
        if not modules and not named:
            continue
        module = modules[0] if modules else named[0][len(root) + 1 :].split("/")[0]
        python = "%d.%d" % sys.version_info[:2]
        extension = by_extension(parts, facts)
        meaning = (
            "PYTHONPATH holds %s, packages for Python %s%s, ahead of this Python %s's own: %s is imported "
            % (
                item.entry,
                item.python,
                " (%s puts it there)" % item.set_by if item.set_by else "",
                python,
                module,
            )
            + "from there, not from the environment"
        )
        if extension is not None:
            meaning += "; " + extension.meaning
        after = " after sourcing %s" % item.set_by if item.set_by else ""
        return Cause(
            meaning=meaning,
            fix="remove it from PYTHONPATH: `unset PYTHONPATH`, or drop %s from PYTHONPATH%s, so that Python %s "
            "imports its own %s" % (item.entry, after, python, module),
            fact="PYTHONPATH entry %s (Python %s) holds %s" % (item.entry, item.python, module),
        )
    return None


def by_requires_python(parts, facts, running=None):
    """Rule 1h: a frame of the failure is in a distribution whose Requires-Python (core metadata, PEP 345; pip
    honours it when it picks a release, PEP 503's data-requires-python) excludes the running Python: its code is
    written for other Pythons (`X | None` annotations, `match`), so it fails on this one however the error reads. It
    got here without pip's check: installed by another Python into a shared folder, or pip's
    `--ignore-requires-python`. The fix installs a release that supports this Python (pip picks the newest below the
    installed one whose Requires-Python admits it) or runs a Python it supports."""
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import Version
    except ImportError:
        return None
    running = running or platform.python_version()
    seen = set()
    for path in reversed(FRAME.findall(parts.text)):
        if not os.path.isfile(path):
            continue
        dist = distributions.owner(path, facts.provenance.environment)
        if dist is None or not dist.requires_python or dist.info in seen:
            continue
        seen.add(dist.info)
        try:
            if SpecifierSet(dist.requires_python).contains(Version(running), prereleases=True):
                continue
        except (InvalidSpecifier, ValueError):
            continue
        return Cause(
            meaning="%s declares Requires-Python %s, and this is Python %s: its code is written for other Pythons, "
            "so it fails here (%s)" % (dist.describe(), dist.requires_python, running, os.path.basename(path)),
            fix='install a release of %s that supports Python %s: `python -m pip install "%s<%s"` (pip picks the '
            "newest one whose Requires-Python admits this Python), or run it with a Python it supports (%s)"
            % (dist.name, running, dist.name, dist.version, dist.requires_python),
            fact="%s %s: Requires-Python %s; running Python %s"
            % (dist.name, dist.version, dist.requires_python, running),
        )
    return None


def python_classifiers(dist):
    """The Python minor releases (3, 10) a Distribution's METADATA lists as trove classifiers ("Programming Language
    :: Python :: 3.10", core metadata's Classifier field), sorted; () where it lists none."""
    headers = distributions.metadata_headers(dist)
    found = set()
    for key, value in headers:
        shape = re.match(r"Programming Language :: Python :: (\d+)\.(\d+)$", value.strip())
        if key.lower() == "classifier" and shape:
            found.add((int(shape.group(1)), int(shape.group(2))))
    return tuple(sorted(found))


def by_python_classifiers(parts, facts, running=None):
    """Rule 1i, for a failure no other rule explains: its innermost frame in an installed distribution is in one whose
    classifiers list the Python releases it supports, all older than the running one: its code was not made for this
    Python, whose changes it may trip over however the error reads (s3prl 0.4.13 lists 3.7-3.10; Python 3.11's
    dataclasses reject its class-instance defaults: "ValueError: mutable default ... is not allowed: use
    default_factory", s3prl/s3prl#522, where s3prl's README says so). A package that lists no Python release is not
    judged: an ordinary bug raised in the standard library reads the same. The fix runs a Python it lists or a
    release that lists this one."""
    import sysconfig

    running = running or tuple(sys.version_info[:2])
    stdlib = sysconfig.get_path("stdlib") or ""
    frames = [f for f in FRAME.findall(parts.text) if os.path.isfile(f)]
    for path in reversed(frames):
        if stdlib and path.startswith(stdlib + os.sep) and "site-packages" not in path:
            continue
        dist = distributions.owner(path, facts.provenance.environment)
        if dist is None:
            continue
        listed = python_classifiers(dist)
        if not listed or running in listed or max(listed) > running:
            return None
        newest = "%d.%d" % max(listed)
        return Cause(
            meaning="%s lists Python %s as the releases it supports (its classifiers), and this is Python %d.%d, "
            "newer than all of them: the failure is in its code (%s), which was not made for this Python"
            % (dist.describe(), ", ".join("%d.%d" % v for v in listed), running[0], running[1], os.path.basename(path)),
            fix="run it with Python %s (an environment whose python is %s), or upgrade %s to a release that supports "
            "Python %d.%d (`python -m pip install -U %s`)"
            % (newest, newest, dist.name, running[0], running[1], dist.name),
            fact="%s %s: classifiers up to Python %s; running %d.%d" % (dist.name, dist.version, newest, *running),
        )
    return None


def by_other_python(parts, facts):
    """Rule 1a: the module the failure misses is installed in this prefix, but only in the site-packages of another
    Python (facts.python_sites: lib/pythonX.Y/site-packages for another X.Y), which this interpreter never searches.
    A virtual environment is tied to the Python version that created it (PEP 405: its pyvenv.cfg names the base
    interpreter's `home`; docs.python.org/3/library/venv.html: its scripts and packages are that version's, and
    an environment is re-created, not moved to another Python), so a venv whose bin/python now runs another minor
    version (the base interpreter upgraded in place, or the link it points to replaced) finds none of its
    packages. Precedes the table's generic "not installed in this Python": the files are there, for another Python."""
    sites = facts.python_sites
    name = (parts.missing_module or "").split(".")[0]
    if not name or not sites.other_sites:
        return None
    holding = [(version, path) for version, path in sites.other_sites if _held_by(path, name)]
    if not holding:
        return None
    version, path = holding[-1]
    running = ".".join(sites.running.split(".")[:2])
    own = os.path.join(sites.prefix, "lib", "python%s" % running, "site-packages")
    created = sites.created_minor()
    listed = "`ls %s`: its *.dist-info folders name them" % path
    if sites.config and created and created != running:
        return Cause(
            meaning="this virtual environment %s was created with Python %s (its pyvenv.cfg: version = %s%s), but "
            "its python now runs Python %s: the interpreter it links to was upgraded or replaced. Its packages, %s "
            "among them, are in %s, which Python %s never searches (it looks in %s); a virtual environment is tied "
            "to the Python version that created it (PEP 405)"
            % (
                sites.prefix,
                created,
                sites.created_with,
                ", home = %s" % sites.home if sites.home else "",
                sites.running,
                name,
                path,
                running,
                own,
            ),
            fix="re-create the virtual environment with this Python and reinstall its packages (list them first: "
            "%s): `python%s -m venv --clear %s`, then `%s/bin/python -m pip install ...`; or run it with the Python "
            "%s it was created for (python%s%s)"
            % (listed, running, sites.prefix, sites.prefix, created, created, " from %s" % sites.home if sites.home
               else ""),
            fact="pyvenv.cfg version %s, running %s; %s in %s" % (sites.created_with, sites.running, name, path),
        )  # fmt: skip
    return Cause(
        meaning="%s is installed in %s, the site-packages of Python %s, but this Python %s searches %s: the packages "
        "of this prefix were installed by another Python version" % (name, path, version, sites.running, own),
        fix="install %s for this Python (`python%s -m pip install %s`), or run the Python %s those packages belong to"
        % (name, running, name, version),
        fact="%s in %s (Python %s), running %s" % (name, path, version, sites.running),
    )


# An isolated PEP 517 build: pip's build environment (pip/_internal/build_env.py: a TempDirectory of kind
# "build-env", named pip-build-env-XXXX, its packages under overlay/), pyproject_hooks' (earlier pep517's)
# _in_process.py running a backend hook (PEP 517's hook names), uv's ("The build backend returned an error", "Call
# to `setuptools.build_meta:__legacy__.build_wheel` failed", its hint "... doesn't declare it as a build
# dependency", its builds-vN cache bucket).
BUILD_ENV = re.compile(
    r"pip-build-env-|[/\\]builds-v\d+[/\\]|_in_process\.py\S*, line \d+, in (?:get_requires_for_build_\w+|"
    r"prepare_metadata_for_build_\w+|build_wheel|build_editable)\b|The build backend returned an error|"
    r"Call to `[\w.:]+\.build_(?:wheel|editable|sdist)` failed|doesn't declare it as a build dependency"
)
# what was being built: pip's "Processing ./dir", "Collecting NAME", "Building wheel for NAME" and its unpacked
# source folder pip-install-XXXX/NAME_<32 hex>; uv's "Failed to build `NAME==V`", "Failed to download and build
# `NAME==V`" and its hint's "`NAME@V` depends on `MODULE`"
BUILT = re.compile(
    r"(?:Collecting|Building wheel for|Processing) (\S+)|Failed to (?:download and )?build `([^`=<>~! @]+)|"
    r"pip-install-[^/\\\s]+[/\\]([\w.-]+?)_[0-9a-f]{32}|`([\w.-]+)@[^`]+` depends on `"
)


def by_build_isolation(parts, facts):
    """Rule 0: a module missing inside an isolated build (BUILD_ENV): a build frontend builds a source
    distribution in an environment holding only its declared build requirements (PEP 517 "Build environment",
    PEP 518; pip's "Build isolation"), so a setup.py importing a module it does not declare (torch, for a CUDA
    extension) stops there whatever this environment has. Decided by the text's class (a hook of the isolated build)
    and whether this environment has the module (provenance, else the path finder, never importing it)."""
    import importlib.machinery

    name = (parts.missing_module or "").split(".")[0]
    if not name or not BUILD_ENV.search(parts.text):
        return None
    built = [next(g for g in groups if g) for groups in BUILT.findall(parts.text)]
    package = os.path.basename(built[-1].rstrip("/\\")) if built else None
    package = re.split(r"[=<>~!\[;@ ]", package)[0] if package else None
    copy = facts.provenance.packages.get(name)
    try:
        here = copy.imported is not None if copy is not None else importlib.machinery.PathFinder.find_spec(name)
    except (ImportError, ValueError):
        here = None
    what = package or "the package"
    have = "although this environment has %s" % name if here else "and this environment has no %s either" % name
    first = "" if here else "install %s into the environment first, then " % name
    return Cause(
        meaning="the build of %s ran in an isolated build environment that holds only its declared build "
        "requirements (PEP 517/518), not %s: its setup.py imports %s without declaring it, so the build stops %s"
        % (what, name, name, have),
        fix="%sbuild it against the environment's own %s: `python -m pip install --no-build-isolation %s` (pixi: "
        '`no-build-isolation = ["%s"]` under [pypi-options]; uv: `--no-build-isolation-package %s`)'
        % (first, name, package or "PACKAGE", package or "PACKAGE", package or "PACKAGE"),
        fact="No module named %r in an isolated build of %s; %s %s here"
        % (name, what, name, "is" if here else "is not"),
    )


def by_stdlib(parts, facts):
    """Rule 1a: the module the failure misses is one of CPython's optional standard-library extension modules
    (interpreter.OPTIONAL_EXTENSIONS) and this interpreter has no file of it in its lib-dynload directory nor has it
    built in: the interpreter was compiled without that library's headers (CPython's build skips the module then),
    so no pip package can provide it; it must be built again with the headers, or another Python used."""
    build = facts.interpreter
    name = (parts.missing_module or "").split(".")[0]
    if not name or name not in build.missing:
        return None
    library, debian, fedora = interpreter.OPTIONAL_EXTENSIONS[name]
    where = {
        "pyenv": "built from source by pyenv",
        "conda": "a conda package",
        "system": "the OS's package",
        "source": "built from source",
    }.get(build.origin, "of unknown origin")
    rebuild = build.rebuild_command()
    again = "`%s`" % rebuild if rebuild else "its `./configure && make && make install` again"
    if build.origin == "system":
        fix = (
            "install the OS package that ships this module (Debian/Ubuntu split the standard library into "
            "packages), or use a Python built with %s (conda's or pixi's python)" % library
        )
    else:
        fix = (
            "install %s's headers (Debian/Ubuntu: `apt install %s`; Fedora/RHEL: `dnf install %s`), then rebuild "
            "this Python: %s (environments made from it keep working); or use a Python built with %s (conda's or "
            "pixi's python, the OS's)" % (library, debian, fedora, again, library)
        )
    return Cause(
        meaning="this Python %s (%s, %s) was compiled without %s's headers, so its standard-library module %s was "
        "never built: CPython skips an optional module whose library it cannot find, and no pip package provides it"
        % (build.version, build.base_prefix, where, library, name),
        fix=fix,
        fact="%s missing from %s" % (name, build.dynload),
    )


# Changes of Python that break code written for an older one, each keyed by the failure it makes and the release
# that made it (What's New in Python 3.11: dataclasses accept only hashable defaults, bpo-44674; 3.12: PEP 632
# removed distutils, gh-98040 removed imp). The default's class of the first is not list, dict or set: those were
# refused before 3.11 too.
PYTHON_CHANGES = (
    (
        re.compile(r"mutable default <class '(?!list'|dict'|set')([\w.]+)'> for field (\w+) is not allowed"),
        (3, 11),
        "gives the dataclass field %(2)s a default that is an object of its class %(1)s, which is not hashable: "
        "Python 3.11 and later reject such defaults (3.10 rejected only list, dict and set; What's New in Python "
        "3.11, dataclasses)",
        "",
    ),
    (
        re.compile(r"No module named '(distutils)(?:\.[\w.]+)?'"),
        (3, 12),
        "imports %(1)s, which Python 3.12 removed from the standard library (PEP 632)",
        "install setuptools, whose copy of distutils is imported in its place (`python -m pip install setuptools`)",
    ),
    (
        re.compile(r"No module named '(imp)'"),
        (3, 12),
        "imports %(1)s, which Python 3.12 removed from the standard library (importlib replaces it; gh-98040)",
        "",
    ),
)


def by_python_change(parts, facts, running=None):
    """Rule 1j: the failure is one a change of Python makes in code written for an older release (PYTHON_CHANGES),
    and the running Python (`running`, (major, minor); default this one) has that change: the code was written for
    an older Python. The fix runs the Python before the change, or a release of the raising package made for this
    one (its own fix where the change has one)."""
    running = running or tuple(sys.version_info[:2])
    for pattern, since, what, own_fix in PYTHON_CHANGES:
        found = pattern.search(parts.text)
        if found is None or running < since:
            continue
        raiser = raising_distribution(parts.text, facts.provenance.environment)
        who = "%s %s" % (raiser[0].name, raiser[0].version) if raiser else "the failing code"
        before = "%d.%d" % (since[0], since[1] - 1)
        upgrade = (
            "upgrade %s to a release made for Python %d.%d (`python -m pip install -U %s`)"
            % (raiser[0].name, running[0], running[1], raiser[0].name)
            if raiser
            else "change the code for Python %d.%d" % running
        )
        values = {str(i): found.group(i) for i in range(1, (pattern.groups or 0) + 1)}
        return Cause(
            meaning="%s %s: it was written for Python %s or older, and this is Python %d.%d"
            % ((who, what % values, before) + running),
            fix="; or ".join(
                filter(
                    None,
                    [
                        own_fix,
                        "run it with Python %s (an environment whose python is %s: `conda create -n NAME python=%s`, "
                        'pixi `python = "%s.*"`)' % (before, before, before, before),
                        upgrade,
                    ],
                )
            ),
            fact="Python %d.%d (the change came in %d.%d); %s" % (running + since + (parts.line,)),
        )
    return None


def by_requirement(parts, facts):
    """Rule 2: what the failing package needs is not what is installed: an unmet declared requirement (in torch's
    whole dependency closure), a pre-release of a package the closure holds, or torchvision/torchaudio from another
    conda channel than torch (each distributor builds against its own torch binary)."""
    reqs = facts.requirements
    keys = list(parts.packages) + [k for k in map(component, parts.libraries) if k]
    if parts.missing_module:
        keys.append(parts.missing_module.split(".")[0])
    names = [m.group(2) for m in CANNOT_IMPORT.finditer(parts.text)]
    if names:  # "cannot import name X from M": the requirement that matters is on M, not on its importer's others
        top = names[-1].split(".")[0]
        keys = [top, DISTRIBUTION_OF.get(top, top)]
    for key in keys:
        for req in reqs.unmet() + list(reqs.dependents):
            if _relevant(req, key.split("|")):
                return Cause(
                    meaning="an unmet requirement: %s" % req.describe(),
                    fix=req.fix(),
                    fact=req.describe(),
                )
    named = {k.lower().replace("_", "-") for k in keys}
    api = NUMPY_API.search(parts.text)
    numpy = reqs.closure.get("numpy")
    if api and numpy and int(api.group(1), 16) > int(api.group(2), 16):
        return Cause(
            meaning="numpy %s is older than the numpy this build was compiled against (its C API version 0x%s, "
            "numpy's 0x%s)" % (numpy, api.group(1), api.group(2)),
            fix="upgrade numpy: `python -m pip install -U numpy` (conda: `conda update numpy`)",
            fact="numpy %s, C API 0x%s < 0x%s" % (numpy, api.group(2), api.group(1)),
        )
    numpy_cause = _numpy(parts, facts, numpy)
    if numpy_cause is not None:
        return numpy_cause
    for name, version in reqs.prereleases():
        if name in named:
            release = re.match(r"\d+(\.\d+)?", version).group()
            return Cause(
                meaning="%s %s is a pre-release, installed where torch's dependencies expect a release"
                % (name, version),
                fix='python -m pip install "%s<%s" (the newest release before it)' % (name, release),
                fact="%s %s (pre-release)" % (name, version),
            )
    torch_channel = reqs.channels.get("torch")
    for name in ("torchvision", "torchaudio"):
        channel = reqs.channels.get(name)
        if name in named and torch_channel and channel and channel != torch_channel:
            return Cause(
                meaning="torch comes from the conda channel %s and %s from %s: each channel builds against its own "
                "torch binary, so their libraries do not fit" % (torch_channel, name, channel),
                fix="install torch, torchvision and torchaudio from one channel (e.g. `conda install -c pytorch "
                'pytorch %s`, or pin the channel per package in pixi: `pytorch = { channel = "pytorch" }`)' % name,
                fact="torch from %s, %s from %s" % (torch_channel, name, channel),
            )
    return None


# torch's NumPy bridge failing: "Numpy is not available" (torch/csrc/utils/tensor_numpy.cpp, TORCH_CHECK of
# is_numpy_available), its import-time warning "Failed to initialize NumPy: ...", and NumPy 2's message for an
# extension built against NumPy 1.x ("A module that was compiled using NumPy 1.x cannot be run in NumPy 2...",
# "_ARRAY_API not found").
NUMPY_UNAVAILABLE = re.compile(
    r"Numpy is not available|Failed to initialize NumPy|compiled using NumPy 1\.x|_ARRAY_API not found|"
    r"numpy\.core\.multiarray failed to import"
)


def _numpy(parts, facts, numpy):
    """torch's NumPy bridge failed: numpy missing, or NumPy 2 under a torch built against NumPy 1.x (before
    compat.NUMPY2_SINCE); None when the installed numpy fits this torch."""
    from checks import compat

    if not NUMPY_UNAVAILABLE.search(parts.text):
        return None
    torch = facts.provenance.packages.get("torch")
    version = torch.imported.version if torch is not None and torch.imported is not None else None
    if not version:
        return None
    numpy_1 = compat.minor_key(version) < compat.NUMPY2_SINCE
    if numpy is None:
        return Cause(
            meaning="numpy is not installed: torch's NumPy bridge (Tensor.numpy(), torch.from_numpy, the DataLoader's "
            "collation of numpy arrays) needs it",
            fix="`python -m pip install %s` into this environment" % ('"numpy<2"' if numpy_1 else "numpy"),
            fact="numpy: not installed",
        )
    if numpy_1 and compat.minor_key(numpy) >= (2, 0):
        hidden = requirements.hiding_copy("numpy", "<2", facts.requirements.copies)
        if hidden:
            return Cause(
                meaning="numpy %s, NumPy 2, is imported from %s, ahead of %s: torch %s was built against NumPy 1.x, "
                "so its NumPy bridge does not load" % (numpy, hidden[0], hidden[1], version),
                fix=requirements.hiding_fix("numpy", hidden[0]),
                fact="numpy %s from %s; numpy %s" % (numpy, hidden[0], hidden[1]),
            )
        return Cause(
            meaning="numpy %s is NumPy 2, but torch %s was built against NumPy 1.x (torch's wheels support NumPy 2 "
            "from %d.%d), so its NumPy bridge does not load" % ((numpy, version) + compat.NUMPY2_SINCE),
            fix='`python -m pip install "numpy<2"` (pixi: `numpy = "<2"` in the manifest), or a torch >= %d.%d'
            % compat.NUMPY2_SINCE,
            fact="numpy %s with torch %s" % (numpy, version),
        )
    return None


def _install_command(dist, extra=""):
    """The exact command that installs `dist`'s version again, chosen for this interpreter: pip (with torch's own
    index for a `+cpu`/`+cuXYZ` local label) or conda for a conda-installed one."""
    if dist.installer == "conda":
        name = provenance.CONDA_NAMES.get(dist.name.lower(), (dist.name,))[0]
        return 'conda install --force-reinstall "%s==%s"' % (name, dist.version)
    local = dist.version.partition("+")[2]
    index = (
        " --index-url https://download.pytorch.org/whl/%s" % local
        if TORCH_INDEX_LABEL.match(local) and dist.name.lower() in provenance.PACKAGES
        else ""
    )
    return 'python -m pip install --force-reinstall --no-deps%s "%s==%s"%s' % (extra, dist.name, dist.version, index)


def by_extension(parts, facts):
    """Rule 1b: the compiled extension module the failure misses (`No module named 'torch._C'`, torch's "Failed to
    load PyTorch C extensions", `numpy.core._multiarray_umath`) as the import system sees it: Python loads an
    extension only from a file named NAME + one of importlib.machinery.EXTENSION_SUFFIXES (its FileFinder), so a
    `_C.cpython-35m-x86_64-linux-gnu.so` beside `torch/__init__.py` is never loaded by Python 3.11; the wheel's
    WHEEL `Tag:` lines (PEP 425) say which interpreter it was built for. Three facts decide: files for another
    interpreter only; no file, although the install's RECORD lists one (an incomplete install); no file and no
    .dist-info at all under a source checkout (setup.py/pyproject.toml beside the package: extensions not built)."""
    module = parts.missing_module
    if not module or "." not in module:
        return None
    found = distributions.extension(module, environment=facts.provenance.environment)
    if found is None or found.loadable:
        return None
    dist = found.distribution
    python, abi, plat = distributions.interpreter_tag()
    here = "%s (%s-%s-%s)" % (sys.version.split()[0], python, abi, plat)
    if found.files:
        tags = [distributions.EXTENSION_FILE.match(f).group("tag") or "" for f in found.files]
        pythons = sorted({distributions.built_for(t) for t in tags} - {None})
        meaning = "%s's compiled extension %s is there only as %s%s; this Python %s loads only %s (%s)" % (
            module.rpartition(".")[0],
            module,
            ", ".join(found.files),
            ", built for Python %s" % " and ".join(pythons) if pythons else ", built for another interpreter",
            here,
            ", ".join(module.rpartition(".")[2] + s for s in found.suffixes),
            "importlib.machinery.EXTENSION_SUFFIXES",
        )
        fact = "%s in %s, none with this interpreter's suffix" % (", ".join(found.files), found.directory)
        if dist is not None and found.foreign_tags:
            meaning += "; %s %s's WHEEL says %s: a wheel for another Python, renamed or forced onto this one" % (
                dist.name,
                dist.version,
                ", ".join(found.foreign_tags),
            )
            fact += "; WHEEL Tag %s" % ", ".join(found.foreign_tags)
        if dist is None:
            return Cause(
                meaning=meaning,
                fix="build %s for this Python (%s) where it came from, or install the release built for it"
                % (module.split(".")[0], python),
                fact=fact,
            )
        return Cause(
            meaning=meaning,
            fix="install the %s wheel built for this interpreter (%s-%s, %s; never a renamed wheel for another "
            "Python): `%s`" % (dist.name, python, abi, plat, _install_command(dist)),
            fact=fact,
        )
    if dist is not None and found.listed:
        return Cause(
            meaning="%s %s is installed incompletely: %s, which its RECORD lists, is missing"
            % (dist.name, dist.version, ", ".join(found.listed)),
            fix="`%s`" % _install_command(dist),
            fact="%s missing from %s %s's installed files" % (found.listed[0], dist.name, dist.version),
        )
    top = found.directory
    for _ in range(module.count(".") - 1):  # up from the extension's package to the top-level package
        top = os.path.dirname(top.rstrip(os.sep))
    checkout = os.path.dirname(top.rstrip(os.sep))
    last = module.rpartition(".")[2]
    # that the module is a compiled one: torch's own message says so, or a type stub describes it (PEP 484 stubs
    # accompany extension modules: torch/_C/__init__.pyi, generated from __init__.pyi.in at build time)
    stub = any(
        os.path.exists(os.path.join(found.directory, *p))
        for p in ((last + ".pyi",), (last, "__init__.pyi"), (last, "__init__.pyi.in"))
    )
    built_here = any(os.path.isfile(os.path.join(checkout, f)) for f in ("setup.py", "pyproject.toml"))
    if dist is None and built_here and (stub or TORCH_C_FOLDER.search(parts.text)):
        return Cause(
            meaning="%s is a source checkout whose compiled extensions are not built: %s has no %s file for this "
            "Python %s" % (checkout, found.directory, last + found.suffixes[0], here),
            fix="build them in place (`cd %s && python -m pip install -e . --no-build-isolation`), or take %s off "
            "sys.path (run from another directory, drop it from PYTHONPATH) to use an installed release"
            % (checkout, checkout),
            fact="no %s extension in %s, no .dist-info" % (module, found.directory),
        )
    return None


# setuptools' `setup.py install` records an install as NAME-VERSION(-pyX.Y).egg-info (installed-files.txt), pip as
# NAME-VERSION.dist-info (PEP 376 RECORD); `setup.py develop` leaves NAME.egg-link. pip replaces only the record it
# finds first, so a source install followed by a wheel (or the reverse) leaves two sets of files in one folder.


def install_records(entry, name):
    """Return the install records of package `name` in sys.path entry `entry` (dist-info, egg-info, egg-link file
    names), sorted."""
    try:
        names = os.listdir(entry)
    except OSError:
        return []
    wanted = name.lower().replace("-", "_")
    found = []
    for item in names:
        match = requirements.INSTALL_RECORD.match(item)
        recorded = match.group("name").lower().replace("-", "_") if match else None
        if recorded == wanted or item.lower() == wanted + ".egg-link":
            found.append(item)
    return sorted(found)


def conda_owners(prefix, package_dir):
    """Return `conda package NAME VERSION` for each conda record of `prefix` (conda-meta/*.json, `files`) that lists
    a file of the package folder `package_dir` (its __init__.py, relative to the prefix)."""
    try:
        relative = os.path.relpath(os.path.join(package_dir, "__init__.py"), prefix).replace(os.sep, "/")
    except ValueError:
        return []
    if relative.startswith(".."):
        return []
    return sorted(
        "conda package %s %s" % (record.get("name"), record.get("version"))
        for record in requirements.conda_records(prefix).values()
        if relative in (record.get("files") or ())
    )


def _layered_fix(name, records, path):
    """The fix of by_layered: conda's packages are removed with conda, pip's records with pip (once per record)."""
    conda = [r.split()[2] for r in records if r.startswith("conda package ")]
    steps = []
    if conda:
        steps.append("`conda uninstall %s`" % " ".join(dict.fromkeys(conda)))
    if len(conda) < len(records):
        steps.append(
            "`python -m pip uninstall %s` until it reports nothing to uninstall (each run removes one record)" % name
        )
    return (
        "remove both: %s, then delete what is left of %s and the stale records, and install %s once (or use a "
        "fresh environment)" % (" and ".join(steps), path, name)
    )


def by_layered(parts, facts):
    """Rule 2c: a failure in a file of torch (torchvision, torchaudio) whose folder holds two install records of it
    (install_records: a `setup.py install` and a pip wheel, two wheels' dist-infos): the two installs' files are
    mixed, and a library left by one is loaded with the other's. The fix removes both before one install."""
    for name in provenance.PACKAGES:
        package = facts.provenance.packages.get(name)
        copy = package.imported if package else None
        if copy is None or not any(p.startswith(copy.path + os.sep) or p == copy.path for p in parts.paths):
            continue
        records = install_records(copy.entry, name) + conda_owners(facts.provenance.environment, copy.path)
        if len(records) < 2:
            continue
        return Cause(
            meaning="%s installs of %s are layered in %s (%s): files left by one (here %s) are loaded with "
            "another's"
            % (
                {2: "two", 3: "three"}.get(len(records), str(len(records))),
                name,
                copy.entry,
                ", ".join(records),
                next(os.path.basename(p) for p in parts.paths if p.startswith(copy.path)),
            ),
            fix=_layered_fix(name, records, copy.path),
            fact="%s holds %s" % (copy.entry, ", ".join(records)),
        )
    return None


# `No module named 'torch._six'`: a submodule of a package (the part before the last dot) is not in it
MISSING_SUBMODULE = re.compile(r"No module named '([A-Za-z_][\w.]*)\.(\w+)'")


def _missing_submodule(module, name, facts):
    """A Cause, without a frame to name the importer, when `module` is torch (torchvision, torchaudio) as imported
    here and it has no submodule `name` (neither NAME.py, NAME/ nor an extension file in its folder): code written
    for another release of it imports it."""
    top = module.split(".")[0]
    package = facts.provenance.packages.get(top)
    copy = package.imported if package else None
    if copy is None or copy.empty:
        return None
    folder = os.path.join(copy.path, *module.split(".")[1:])
    if not os.path.isdir(folder) or any(n == name or n.startswith(name + ".") for n in os.listdir(folder)):
        return None
    return Cause(
        meaning="%s %s has no module %s.%s: the code importing it was written for another release of %s (one that "
        "still had it, or a newer one)" % (top, copy.describe(), module, name, top),
        fix="upgrade the package whose code imports %s.%s (its traceback frame names it) to a release made for %s %s, "
        "or install the %s release it was written for" % (module, name, top, copy.version or "", top),
        fact="%s has no %s" % (folder, name),
    )


def _stdlib_name(module, name, importer_file, facts):
    """A name imported from a module of Python's standard library (sys.stdlib_module_names, 3.10+) that this Python's
    module does not define: the importing package was written for an older Python, whose module still had it
    (collections' ABC aliases went in 3.10, inspect.getargspec in 3.11: the "Removed" sections of What's New).
    Judged by this Python's own module, looked up without importing anything new when it is not loaded yet."""
    import importlib

    top = module.split(".")[0]
    if top not in getattr(sys, "stdlib_module_names", ()):
        return None
    try:
        loaded = sys.modules.get(module) or importlib.import_module(module)
    except Exception:  # a module this Python lacks: not this rule's case
        return None
    if hasattr(loaded, name):
        return None
    importer = distributions.owner(importer_file, facts.provenance.environment)
    who = "%s %s" % (importer.name, importer.version) if importer is not None else "the code importing it"
    python = "%d.%d" % sys.version_info[:2]
    return Cause(
        meaning="%s imports %r from the standard library's %s, which Python %s no longer has: it was written for an "
        "older Python" % (who, name, module, python),
        fix="upgrade %s to a release that supports Python %s (`python -m pip install -U %s`), or run it with an "
        "older Python" % (importer.name if importer else "that package", python, importer.name if importer else "it"),
        fact="%s.%s missing in Python %s; importer %s" % (module, name, python, who),
    )


MAX_SOURCE = 1 << 20  # bytes of a package module read to find where it exports a name


def _source_imports(path):
    """The parsed module at `path` (at most MAX_SOURCE bytes), or None."""
    import ast

    try:
        with open(path, "rb") as handle:
            source = handle.read(MAX_SOURCE + 1)
        if len(source) > MAX_SOURCE:
            return None
        return ast.parse(source, filename=path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _module_file(module, top_folder):
    """The source file of the dotted `module` inside its top-level package folder `top_folder`, found on disk
    (nothing is imported), or None."""
    base = os.path.join(os.path.dirname(top_folder), *module.split("."))
    for candidate in (os.path.join(base, "__init__.py"), base + ".py"):
        if os.path.isfile(candidate):
            return candidate
    return None


def _optional_export(module, name, module_file):
    """Where `module` (its file `module_file`) binds `name` only when an import succeeds: a `from SUB import name`
    inside a `try:` or `if` (Lightning's loggers: `try: from pytorch_lightning.loggers.wandb import WandbLogger
    except ImportError: pass`). Returns (SUB, missing top-level module) when SUB's own imports name a module that is
    not installed, read from the files without importing anything; else None."""
    import ast

    tree = _source_imports(module_file) if module_file and os.path.isfile(module_file) else None
    if tree is None:
        return None
    package = module if module_file.endswith("__init__.py") else module.rpartition(".")[0]
    top_folder = os.path.join(os.path.dirname(module_file), *[".."] * package.count("."))
    top_folder = os.path.normpath(top_folder)
    for guard in ast.walk(tree):
        if not isinstance(guard, (ast.Try, ast.If)):
            continue
        for node in (n for stmt in guard.body for n in ast.walk(stmt)):
            if not isinstance(node, ast.ImportFrom) or not any(a.name == name for a in node.names):
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                sub = ".".join(base + ([node.module] if node.module else []))
            else:
                sub = node.module or ""
            sub_file = _module_file(sub, top_folder) if sub.split(".")[0] == package.split(".")[0] else None
            sub_tree = _source_imports(sub_file) if sub_file else None
            if sub_tree is None:
                continue
            for inner in ast.walk(sub_tree):
                tops = []
                if isinstance(inner, ast.Import):
                    tops = [a.name.split(".")[0] for a in inner.names]
                elif isinstance(inner, ast.ImportFrom) and not inner.level and inner.module:
                    tops = [inner.module.split(".")[0]]
                for top in tops:
                    if top != package.split(".")[0] and top not in sys.builtin_module_names and not _importable(top):
                        return sub, top
    return None


def _shared_file(path, facts):
    """Rule 2b when the module a name is missing from is a file two installed distributions both wrote (their RECORDs
    list it: adapter-transformers installs into transformers/, huggingface/transformers#26465): the package folder
    mixes two releases. The one whose recorded hash matches the file wrote it last."""
    claims = distributions.claims(path, facts.provenance.environment)
    if len(claims) < 2:
        return None
    last = [d for d, same in claims if same]
    others = [d for d, same in claims if not same] if last else [d for d, _ in claims[1:]]
    last = last[0] if last else claims[0][0]
    names = " and ".join(d.describe() for d, _ in claims)
    return Cause(
        meaning="%s is a file of both %s: they install into one package folder, and %s %s overwrote the other's "
        "copy, so the folder mixes two releases" % (path, names, last.name, last.version),
        fix="uninstall both and install only the one you need: `python -m pip uninstall -y %s` then `python -m pip "
        'install "%s==%s"`' % (" ".join(d.name for d, _ in claims), others[0].name, others[0].version)
        if others
        else "uninstall one of them: `python -m pip uninstall -y %s`" % last.name,
        fact="%s listed in the RECORD of %s; its hash matches %s %s's"
        % (path, ", ".join("%s %s" % (d.name, d.version) for d, _ in claims), last.name, last.version),
    )


def _release_lacks_name(module, name, module_file, importer_file, facts):
    """Rule 2b for the project's own code (a file no distribution installed) importing a name an installed package
    does not define. The package may export it only when an optional dependency imports (_optional_export): then
    the missing dependency is the cause and its install the fix. Otherwise the installed release lacks it
    (release_lacks_name)."""
    environment = facts.provenance.environment
    provider = distributions.owner(module_file, environment) if module_file else None
    if provider is None:
        provider = distributions.find(module.split(".")[0], environment=environment)
    if provider is None or distributions.canonical(provider.name) in ("torch", "pytorch"):
        return None
    who = os.path.basename(importer_file)
    optional = _optional_export(module, name, module_file)
    if optional is not None:
        sub, missing = optional
        distribution = DISTRIBUTION_OF.get(missing, missing)
        return Cause(
            meaning="%s exports %s from %s only when that module imports, and it imports %s, which is not installed "
            "(%s imports %s from %s)" % (module, name, sub, missing, who, name, module),
            fix="install it into this environment: `%s`" % _add_command(distribution, facts),
            fact="%s: no module %s on this Python's path; %s's export of %s is optional"
            % (provider.describe(), missing, module, name),
        )
    return release_lacks_name(provider, module, name, module_file, who)


def release_lacks_name(provider, module, name, module_file, who, caller=None, caller_file=None):
    """The Cause for code (`who`: its file and line) using `module.name` that the installed `provider`
    (distributions.Distribution) does not define. The direction is read from the module's own text: a module that
    still writes the name as a string (numpy's `__former_attrs__` for np.float, a deprecation message) removed it,
    so the code was written for an older release; one that never mentions it predates it (accelerate 0.3.0 and
    DeepSpeedPlugin), so the code follows a newer release's documentation. `caller`: the installed distribution
    whose file `caller_file` uses it; where its own text states a release of the provider newer than the installed
    one (distributions.stated_floor), the fix installs that release first."""
    hidden = _hidden_copy_with(provider, module, name)
    quoted = _still_named(provider, module, name, module_file)
    if hidden is not None:
        return Cause(
            meaning="%s has no %s.%s, which %s uses, and it hides %s %s in %s, which has it: %s comes first on "
            "sys.path"
            % (provider.describe(), module, name, who, hidden.name, hidden.version, hidden.entry, provider.entry),
            fix=requirements.hiding_fix(provider.name, provider.entry),
            fact="%s %s in %s ahead of %s %s in %s"
            % (provider.name, provider.version, provider.entry, hidden.name, hidden.version, hidden.entry),
        )
    private = module_file and not name.startswith("_") and _defines(module_file, "_" + name)
    if quoted or private:
        return Cause(
            meaning="%s no longer has %s.%s, which %s uses: its module still %s, so the code was written for an "
            "older %s"
            % (
                provider.describe(),
                module,
                name,
                who,
                "names it (a removed or deprecated name)" if quoted else "defines _%s (made private)" % name,
                provider.name,
            ),  # fmt: skip
            fix='change the code to this release\'s API, or install an older %s: `python -m pip install "%s<%s"`'
            % (provider.name, provider.name, provider.version),
            fact="%s %s: %s.%s removed; used by %s" % (provider.name, provider.version, module, name, who),
        )
    other = other_project(provider, module.split(".")[0])
    if other is not None:
        return other
    about = distributions.about(provider)
    stated = stated_floor_fix(caller, provider, caller_file)
    return Cause(
        meaning="%s does not have %s.%s, which %s uses, nor names it anywhere in that module: the code was written "
        "for another release of %s, a newer one that added it or an older one, if %s removed it without trace%s"
        % (
            provider.describe(),
            module,
            name,
            who,
            provider.name,
            provider.name,
            "; its metadata says it is: %s" % "; ".join(about[:2]) if about else "",
        ),
        fix=("%s; otherwise, " % stated if stated else "")
        + "upgrade %s if a later release added %s (`python -m pip install -U %s`); if it was removed, install an "
        'older %s (`python -m pip install "%s<%s"`) or change the code to this release\'s API%s'
        % (
            provider.name,
            name,
            provider.name,
            provider.name,
            provider.name,
            provider.version,
            _repository_install(about),
        ),
        fact="%s %s: %s.%s missing; used by %s" % (provider.name, provider.version, module, name, who),
    )


def stated_floor_fix(caller, provider, caller_file=None):
    """`upgrade torchaudio to 2.1.0 or newer, as speechbrain 1.0.3 states (utils/...py:65): `python -m pip install
    "torchaudio>=2.1.0"`` where the caller's own text states a release of `provider` newer than the installed one
    (distributions.stated_floor; `caller_file` read first), else None."""
    floor = distributions.stated_floor(caller, provider.name, provider.version, first=caller_file) if caller else None
    if floor is None:
        return None
    release, where = floor
    return 'upgrade %s to %s or newer, as %s %s states (%s): `python -m pip install "%s>=%s"`' % (
        provider.name,
        release,
        caller.name,
        caller.version,
        where,
        provider.name,
        release,
    )


REPOSITORY = re.compile(r"https?://(?:github\.com|gitlab\.com)/[\w.-]+/[\w.-]+")


def _repository_install(about):
    """For a distribution whose metadata (`about`: distributions.about) names its GitHub or GitLab repository, the
    install of that repository's code, newer than any release where the project stopped publishing them (PyPI's
    taming-transformers 0.0.1 lacks the VectorQuantizer2 of CompVis/taming-transformers' master; CompVis/
    stable-diffusion#72): "; or its repository's newest code, ...: `...`"; else ""."""
    found = next((m.group(0) for m in map(REPOSITORY.search, about) if m), None)
    if found is None:
        return ""
    url = found[: -len(".git")] if found.endswith(".git") else found
    return '; or its repository\'s newest code, newer than its last release: `python -m pip install "git+%s"`' % url


def _still_named(provider, module, name, module_file=None):
    """True when `module`'s file in the installed `provider` (module_file, else found under provider.entry) still
    writes `name` as a string: a removed or deprecated name (numpy's `__former_attrs__`), not one added later."""
    path = module_file
    if not path or not os.path.isfile(path):
        spec_file = os.path.join(provider.entry, *module.split("."))
        path = next((p for p in (os.path.join(spec_file, "__init__.py"), spec_file + ".py") if os.path.isfile(p)), None)
    return writes_name(path, name)


def writes_name(path, name, quotes="'\""):
    """True when the source file `path` (MAX_SOURCE bytes) writes `name` inside one of `quotes` (a removed name
    that a deprecation table or message still names); False when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_SOURCE)
    except (OSError, TypeError):
        return False
    return any(("%s%s%s" % (q, name, q)).encode() in text for q in quotes)


def _defines(path, name):
    """True when the Python file `path` (at most MAX_SOURCE bytes) binds `name` at its top level or imports it: a
    def, a class, an assignment, an import naming it, or a string naming it (a lazy module's export table)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_SOURCE)
    except OSError:
        return False
    return defines_text(text, name)


def defines_text(text, name):
    """_defines for a module's source `text` (bytes) already read."""
    word = re.escape(name.encode())
    return bool(
        re.search(
            rb"^(?:def|class)[ \t]+"
            + word
            + rb"\b|^"
            + word
            + rb"[ \t]*=|\bimport\b[^\n]*\b"
            + word
            + rb"\b|['\"]"
            + word
            + rb"['\"]",
            text,
            re.M,
        )
    )


def _hidden_copy_with(provider, module, name):
    """The installed Distribution of `module`'s package in a later sys.path entry whose module defines `name`, when
    `provider` (the copy Python imports) is not the environment's own (a user site, PYTHONPATH, the working
    directory); else None."""
    if provider.origin == provenance.ENVIRONMENT:
        return None
    parts = module.split(".")
    for later in distributions.later_copies(provider, parts[0]):
        base = os.path.join(later.entry, *parts)
        for path in (os.path.join(base, "__init__.py"), base + ".py"):
            if os.path.isfile(path) and _defines(path, name):
                return later
    return None


def _private_twin(torch_dir, module, name):
    """The private module under which the installed torch keeps a public part of `module.name`, holding the part that
    follows it (`torch.distributed._tensor` with `placement_types` for `torch.distributed.tensor.placement_types`), or
    None: a name torch keeps private in one release and makes public in a later one (PyTorch's public API policy:
    underscored modules are private). An unrelated private module of that name (torch._utils beside torch.utils)
    does not count."""
    parts = module.split(".")[1:] + [name]
    for i, part in enumerate(parts[:-1]):
        if part.startswith("_"):
            continue
        twin = parts[:i] + ["_" + part]
        base = os.path.join(torch_dir, *twin)
        inside = os.path.join(base, parts[i + 1])  # the twin holds what comes next: the same module, kept private
        if os.path.isdir(base) and (os.path.isdir(inside) or os.path.isfile(inside + ".py")):
            return "torch." + ".".join(twin)
    return None


def _torch_api(importer, importer_version, provider, module, name, declared):
    """Rule 2b for a torch name a third-party package uses and the installed torch lacks: the direction is read from
    compat.TORCH_API (the release that added or removed it) or from a private twin in this torch (a later release
    made it public); otherwise both ways out are named."""
    from checks import compat

    version = provider.version.split("+")[0]
    dotted = "%s.%s" % (module, name)
    change = compat.torch_api_change(module, name, version)
    added = change[1] if change and change[0] == "added" else None
    twin = _private_twin(os.path.join(provider.entry, "torch"), module, name)
    who = "%s %s" % (importer, importer_version) if importer_version else importer
    pair_fix = "install the %s release made for torch %s" % (importer, version)
    if importer == "checks":  # verify's own checks, written for torch >= 2.0 (the README's promise)
        return Cause(
            meaning="torch %s has no %s%s, which these checks (written for torch 2.0 and newer) use, as code written "
            "for a newer torch does" % (version, dotted, " (added in torch %s)" % added if added else ""),
            fix='upgrade torch with its torchvision and torchaudio: `python -m pip install -U "torch>=%s"`'
            % (added or "2.0"),
            fact="torch %s lacks %s" % (version, dotted),
        )
    if added or (twin and compat.torch_api_span(module, name) is None):
        since = " (added in torch %s)" % added if added else " (this torch keeps it private, as %s)" % twin
        need = added
        return Cause(
            meaning="torch %s is older than %s needs: it has no %s%s%s" % (version, who, dotted, since, declared),
            fix="upgrade torch%s with its torchvision and torchaudio (`python -m pip install -U %s`), or %s"
            % (
                " to %s or newer" % need if need else " to a newer release",
                '"torch>=%s"' % need if need else "torch",
                pair_fix,
            ),
            fact="torch %s lacks %s; %s uses it" % (version, dotted, who),
        )
    if change is not None and change[0] == "removed":
        removed = change[1]
        return Cause(
            meaning="torch %s no longer has %s (removed in torch %s), which %s uses: it was written for an older "
            "torch%s" % (version, dotted, removed, who, declared),
            fix="upgrade %s to its latest release, made for newer torch releases (`python -m pip install -U %s`), or "
            "install a torch older than %s" % (importer, importer, removed),
            fact="torch %s lacks %s (removed in %s); %s uses it" % (version, dotted, removed, who),
        )
    return Cause(
        meaning="torch %s lacks %s, which %s uses: the two releases do not fit (the name came in a later torch, or "
        "went before this one)%s" % (version, dotted, who, declared),
        fix="upgrade %s to its newest release (`python -m pip install -U %s`) and torch with it if that release asks "
        "for a newer one, or %s" % (importer, importer, pair_fix),
        fact="torch %s lacks %s; %s uses it" % (version, dotted, who),
    )


# How PyPI names another build of the same import package: a suffix after the project's import name (mmcv-full,
# onnxruntime-gpu, faiss-cpu, tensorflow-gpu, cupy-cuda12x, mxnet-cu117, opencv-contrib-python's "contrib").
VARIANT_SUFFIX = re.compile(r"^(full|lite|gpu|cpu|cuda\d*x?|cu\d+|headless|contrib|nightly)$")


def _own_import(text, inside):
    """The innermost traceback frame of `text` when it lies inside the package `inside` matches (the package imports
    its own module: mmcv/utils/ext_loader.py's `importlib.import_module('mmcv.' + name)`), the standard library's
    frames (importlib's) skipped; else None."""
    import sysconfig

    stdlib = sysconfig.get_path("stdlib") or ""
    frames = [
        f for f in FRAME.findall(text) if not f.startswith("<") and not (stdlib and f.startswith(stdlib + os.sep))
    ]
    return frames[-1] if frames and _in_package(frames[-1], inside) else None


def _in_package(path, inside):
    """True when the frame file `path` lies inside the package `inside` matches (`[/\\]triton[/\\]`): by its text,
    and, for a file on this machine, by the top-level package folder that holds it (project.package_root), so that a
    subpackage of another package named like it (bitsandbytes/triton/, whose int8_matmul_mixed_dequantize.py imports
    triton.ops; bitsandbytes-foundation/bitsandbytes#1492) is not taken for it."""
    if not inside.search(path):
        return False
    if not os.path.isfile(path):
        return True
    from checks.machine.project import package_root

    return bool(inside.search(package_root(path) + os.sep))


def _build_lacks_module(module, name, importer_file, facts):
    """Rule 2h: a package's own code imports its module `module.name`, which its distribution's RECORD does not list:
    the installed build was made without it (a RECORD that lists it but lacks the file is an incomplete install,
    judged elsewhere). Where an installed package requires, under any extra, a not-installed project named as another
    build of the same import package (VARIANT_SUFFIX: mmdet 2.x's `Requires-Dist: mmcv-full (>=1.3.17) ; extra ==
    'mim'` beside the `mmcv` 1.x lite build, which ships no compiled ops: open-mmlab/mmdetection#3272), that build
    is the fix. None when `module`'s distribution is not found or lists the module."""
    top = module.split(".")[0]
    dist = distributions.find(top, environment=facts.provenance.environment)
    if dist is None:
        return None
    relative = "/".join(module.split(".") + [name])
    rows = [path for path, _, _ in distributions.record_rows(dist.info, distributions.RECORD_LIMIT * 5)]
    if not rows or any(p == relative + ".py" or p.startswith((relative + "/", relative + ".")) for p in rows):
        return None
    compiled = [p for p in rows if re.search(r"\.(so(\.[\d.]+)?|pyd)$", p)]
    installed = requirements.pip_installed([e for e in sys.path if isinstance(e, str)])
    own = distributions.canonical(dist.name)
    variant = None
    for project, (version, metadata) in sorted(installed.items()):
        for text in requirements.requires_dist(metadata):
            wanted = distributions.required_project(text) or ""
            base, _, suffix = wanted.rpartition("-")
            if wanted != own and wanted not in installed and base == own and VARIANT_SUFFIX.match(suffix):
                variant = (project, version, text)
                break
        if variant:
            break
    shipped = "; %s %s ships no compiled module at all (its RECORD lists none)" % (dist.name, dist.version)
    meaning = (
        "%s %s (%s) has no %s.%s, which its own %s imports, and its RECORD does not list it: this build of %s "
        "was made without it%s"
    ) % (
        dist.name,
        dist.version,
        dist.origin,
        module,
        name,
        os.path.basename(importer_file),
        dist.name,
        shipped if not compiled else "",
    )
    fact = "%s.%s not in %s %s's RECORD" % (module, name, dist.name, dist.version)
    if variant is not None:
        project, version, text = variant
        spec = text.split(";")[0].strip()
        wanted = distributions.required_project(text)
        return Cause(
            meaning=meaning
            + "; %s %s asks for %s (Requires-Dist: %s), the build of %s that has it"
            % (project, version, wanted, text, top),
            fix='`python -m pip uninstall -y %s && python -m pip install "%s"` (the %s build made for this torch; '
            "both install the import package %s, so remove %s first)"
            % (dist.name, spec.replace(" ", "").replace("(", "").replace(")", ""), wanted, top, dist.name),
            fact=fact + "; %s %s requires %s" % (project, version, text),
        )
    return Cause(
        meaning=meaning,
        fix="install a build of %s that includes %s.%s (for a compiled module: the build made for this torch and its "
        "CUDA, or build %s from source against this torch)" % (dist.name, module, name, dist.name),
        fact=fact,
    )


def by_pair(parts, facts):
    """Rule 2b: one installed package imports a name another installed package does not define (CPython's
    "cannot import name 'X' from 'M' (PATH)" / "module 'M' has no attribute 'X'"; the importer is the package of the
    innermost traceback frame outside M). Facts: both .dist-infos (version, location, the importer's Requires-Dist
    on M). Rule 2 has already judged unmet requirements of torch's closure; here an unmet one of any importer is
    named, and a met one means the two releases do not fit although pip is satisfied: upgrade the importer, or pin
    M below the installed release; a copy of M from outside the environment is itself a fact, and its removal a
    fix."""
    found = None
    for match in CANNOT_IMPORT.finditer(parts.text):
        found = (match.start(), match.group(2), match.group(1), match.group(3))
    for match in NO_ATTRIBUTE.finditer(parts.text):
        if found is None or match.start() > found[0]:
            found = (match.start(), match.group(1), match.group(2), None)
    for match in MISSING_SUBMODULE.finditer(parts.text):  # `import torch._six`: torch is there, its _six is not
        if found is None or match.start() > found[0]:
            found = (match.start(), match.group(1), match.group(2), None)
    if found is None:
        return None
    start, module, name, location = found
    top = module.split(".")[0]
    shared = _shared_file(location, facts) if location and os.path.isabs(location) else None
    if shared is not None:
        return shared
    inside = re.compile(r"[/\\]%s(?:[/\\]|\.py$|\.[\w-]+\.(?:so|pyd)$)" % re.escape(top))
    own = _own_import(parts.text[:start], inside)
    if own is not None:  # the package imports its own module (mmcv's ext_loader imports mmcv._ext)
        lacking = _build_lacks_module(module, name, own, facts)
        if lacking is not None:
            return lacking
    frames = [f for f in FRAME.findall(parts.text[:start]) if not f.startswith("<") and not _in_package(f, inside)]
    if not frames:
        return _missing_submodule(module, name, facts)
    module_file = location if location and os.path.isabs(location) else None
    found_pair = distributions.pair(frames[-1], module, name, module_file, environment=facts.provenance.environment)
    if found_pair is None and top == "torch":  # the importer has no install record (a loose file, a stand-in)
        torch = distributions.find("torch", environment=facts.provenance.environment)
        if torch is not None and torch.origin == provenance.ENVIRONMENT:
            imported = facts.provenance.packages["torch"].imported if "torch" in facts.provenance.packages else None
            if imported is not None and imported.version:  # the copy imported, as it reports itself
                torch = dataclasses.replace(torch, version=imported.version)
            who = raising_package(parts.text[:start], skip=("torch",)) or package_of_file(frames[-1])
            return _torch_api(who, None, torch, module, name, "")
    if found_pair is None:
        return _stdlib_name(module, name, frames[-1], facts) or _release_lacks_name(
            module, name, module_file, frames[-1], facts
        )
    importer, provider = found_pair.importer, found_pair.provider
    away = "; %s comes from outside the environment: %s" % (provider.name, _fix_origin(provider, provider.name))
    away = away if provider.origin != provenance.ENVIRONMENT else ""
    if found_pair.met is False:
        return Cause(
            meaning="an unmet requirement: %s requires %s; installed: %s (%r is not in it)"
            % (importer.describe(), found_pair.declared, provider.describe(), name),
            fix='python -m pip install "%s"%s' % (found_pair.declared.split(";")[0].strip(), away),
            fact="%s %s requires %s; %s %s installed"
            % (importer.name, importer.version, found_pair.declared, provider.name, provider.version),
        )
    if found_pair.declared is None:
        declared = "%s declares no requirement on %s" % (importer.name, provider.name)
    elif found_pair.met:
        declared = "%s's declared requirement %s is met, so pip sees no conflict" % (importer.name, found_pair.declared)
    else:
        declared = "%s declares %s (not judged: `packaging` is not installed)" % (importer.name, found_pair.declared)
    if distributions.canonical(provider.name) == "torch" and provider.origin == provenance.ENVIRONMENT:
        return _torch_api(importer.name, importer.version, provider, module, name, "; " + declared)
    mixed = (
        "; a mixed install: %s from %s, %s from %s" % (importer.name, importer.origin, provider.name, provider.origin)
        if importer.origin != provider.origin
        else ""
    )
    upgrade = "upgrade %s: %s" % (importer.name, distributions.upgrade_command(importer))
    if importer.origin != provenance.ENVIRONMENT:
        upgrade += " (its copy from %s is imported first: upgrade or remove that one; %s)" % (
            importer.origin,
            _fix_origin(importer, importer.name),
        )
    if _still_named(provider, module, name, module_file):  # removed from the provider: the importer is older
        fix = '%s, or install a %s release that still provides %s: `python -m pip install "%s<%s"`%s' % (
            upgrade,
            provider.name,
            name,
            provider.name,
            provider.version,
            away,
        )
        why = ""
    else:  # never named: added later (peft 0.5 imports accelerate 0.21's is_npu_available), or removed without trace
        fix = (
            "upgrade %s if a later release added %s (`python -m pip install -U %s`); if %s removed it, %s or install "
            '`python -m pip install "%s<%s"`%s'
            % (provider.name, name, provider.name, provider.name, upgrade, provider.name, provider.version, away)
        )
        why = "; %s's module does not name it anywhere" % provider.name
    return Cause(
        meaning="%s imports %r from %s, which %s does not define: the two releases do not fit together (%s)%s%s"
        % (importer.describe(), name, module, provider.describe(), declared, mixed, why),
        fix=fix,
        fact="%s %s (%s) with %s %s (%s): %s.%s missing"
        % (
            importer.name,
            importer.version,
            importer.origin,
            provider.name,
            provider.version,
            provider.origin,
            module,
            name,
        ),
    )
