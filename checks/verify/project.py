"""Verify's project line: the code in the working directory (checks/machine/project.py reads it without running it)
against this Python. Every module it imports is installed (found as `import` would find it, nothing loaded); what
it imports from other packages imports with this torch, as the project's first run would import it (`from
transformers import Trainer` loads transformers' trainer module; packages built on torch first, within BUDGET
seconds); its requirements files' lines are met. A failed import carries its exception for the parent to judge
against its facts. The names of torch the folder's own files use (`F.scaled_dot_product_attention`,
`torch.compiler.disable`) resolve in this torch; a name it lacks is a WARN with the release that added or removed it
(compat.TORCH_API), as the code may guard its use in ways not read here. The project's own modules are never
imported."""

import glob
import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import re
import shutil
import sys
import time
import types

from checks.machine import project as project_facts
from checks.report import FAIL, PASS, SKIP, WARN, Result
from checks.verify import api, facts

OWN = facts.OWN  # verify's own lines
BUDGET = {True: 10.0, False: 30.0}  # seconds of imports and reading (--quick, full run); the rest is named as not tried


# Found, not imported: setuptools' distutils shim asserts that the standard library's distutils was not imported
# first ("AssertionError: .../distutils/core.py", _distutils_hack), which this process may already have done.
NO_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")
MAX_SOURCE = 1 << 20  # bytes of a module read for a name or keyword it still writes
FOUND_ONLY = ("setuptools", "pkg_resources", "distutils")


def _installed(top):
    """(spec or None, True when it is the standard library's): where `import top` would find it, without loading
    it (importlib's find_spec of a top-level name only runs the path finders)."""
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None, False
    return spec, spec is not None and project_facts.is_stdlib(top)


def _release(top):
    """The installed version of the distribution that provides the top-level module `top`, or "" when none."""
    from checks.machine import distributions

    found = distributions.find(top)
    return found.version if found is not None else ""


def _settings_rejected(torch, settings):
    """A Result for the first variable the project's code sets for itself (project_facts.Setting) to a value its
    reader rejects, judged as verify's variables line judges the environment's (machine/variables.py), else None."""
    if not settings:
        return None
    from checks.machine import variables

    last = {s.name: s for s in settings}  # the code's last assignment wins
    torch_dir = os.path.dirname(os.path.abspath(torch.__file__)) if getattr(torch, "__file__", None) else None
    judged = variables.collect({n: s.value for n, s in last.items()}, torch_dir, torch.__version__, flags_optimize=0)
    if not judged:
        return None
    worst = next((s for s in judged if s.breaks), judged[0])
    where = last[worst.name].where()
    return Result(
        name="project",
        status=FAIL if worst.breaks else WARN,
        summary="%s sets %s" % (where, worst.describe()),
        expected="%s: %s" % (worst.name, worst.expected),
        actual="%s=%s" % (worst.name, worst.value),
        hint="change %s in %s: %s" % (worst.name, where, worst.fix),
        data={"fact": "%s=%s set by %s" % (worst.name, worst.value, where)},
    )


# Variables torch reads once, when it is loaded: the caching allocator's backend (c10/cuda/CUDAAllocatorConfig: set
# after `import torch`, CUDA's initialisation stops with "Allocator backend parsed at runtime != allocator backend
# parsed at load time", pytorch/pytorch#104801; the other options are read at the first allocation).
READ_AT_LOAD = {"PYTORCH_CUDA_ALLOC_CONF": "backend:", "PYTORCH_ALLOC_CONF": "backend:"}
TORCH_IMPORT_LINE = re.compile(r"^\s*(?:import torch\b|from torch\b)")


def _set_after_load(settings, limit=256 << 10):
    """A WARN for a variable torch reads when it is loaded (READ_AT_LOAD, its value naming that part) that the
    project's code sets in a file after that file's own `import torch`: too late for this process. None otherwise."""
    for setting in settings:
        part = READ_AT_LOAD.get(setting.name)
        if part is None or part not in setting.value or not setting.file.endswith(".py"):
            continue
        try:
            with open(setting.file, encoding="utf-8", errors="replace") as handle:
                lines = handle.read(limit).splitlines()
        except OSError:
            continue
        first = next((n for n, line in enumerate(lines, 1) if TORCH_IMPORT_LINE.match(line)), None)
        if first is None or first >= setting.line:
            continue
        return Result(
            name="project",
            status=WARN,
            summary="%s sets %s=%r after %s:%d imports torch, which reads its %s when it is loaded: CUDA's "
            'initialisation then stops with "Allocator backend parsed at runtime != allocator backend parsed at '
            'load time"'
            % (setting.where(), setting.name, setting.value, os.path.basename(setting.file), first, part.rstrip(":")),
            expected="%s set before torch is imported" % setting.name,
            actual="set at line %d, torch imported at line %d" % (setting.line, first),
            hint="set it before `import torch` (move the line above it), or in the shell: `export %s=%s`"
            % (setting.name, setting.value),
            data={"fact": "%s set at %s; import torch at line %d" % (setting.name, setting.where(), first)},
        )
    return None


def _devices_hidden(ctx, settings):
    """A Result when the project's code or launch scripts set CUDA_VISIBLE_DEVICES (their last setting) so that it
    hides every GPU, or names one the driver does not have (verify/gpu.py's visible_unmatched: CUDA stops at the first
    invalid entry); None otherwise, or where the driver reports no GPU list."""
    from checks.verify.gpu import visible_unmatched

    setting = next((s for s in reversed(settings) if s.name == "CUDA_VISIBLE_DEVICES"), None)
    driver = getattr(ctx, "driver", None) or {}
    gpus = driver.get("gpus") or []
    if setting is None or driver.get("state") or not gpus:
        return None
    value = setting.value.strip()
    if value in ("", "-1", "none", "NoDevFiles"):
        why = "which hides every GPU"
    else:
        wrong = visible_unmatched(value, gpus)
        if not wrong:
            return None
        why = "but the driver sees %d GPU%s and %s names none of them (CUDA stops at the first such entry)" % (
            len(gpus),
            "" if len(gpus) == 1 else "s",
            ", ".join(wrong),
        )
    return Result(
        name="project",
        status=FAIL,
        summary="%s sets CUDA_VISIBLE_DEVICES=%r, %s: torch in that code sees no GPU there"
        % (setting.where(), setting.value, why),
        expected="indices below %d, or the GPUs' UUIDs" % len(gpus),
        actual=setting.value,
        hint="set CUDA_VISIBLE_DEVICES=%s in %s (the GPUs this machine has), or remove the line that sets it there"
        % (",".join(str(i) for i in range(len(gpus))), setting.where()),
        data={"fact": "driver GPUs %d; %s sets CUDA_VISIBLE_DEVICES=%s" % (len(gpus), setting.where(), setting.value)},
    )


def _launch_note(uses, environ=None):
    """A note when the code calls torch.distributed.init_process_group without a `rank` of its own while this
    environment has no RANK: its default env:// rendezvous reads RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT,
    which a launcher (torchrun) sets for each process; started with plain `python` it fails ("environment variable
    RANK expected, but not set"; NVIDIA/apex#99). None otherwise."""
    environ = os.environ if environ is None else environ
    call = next((u for u in uses if u.dotted == "torch.distributed.init_process_group"), None)
    if call is None or "rank" in call.keywords or environ.get("RANK"):
        return None
    return (
        "%s calls torch.distributed.init_process_group, whose env:// rendezvous reads RANK, WORLD_SIZE, MASTER_ADDR "
        "and MASTER_PORT from the environment (not set here): a launcher sets them, so start it with `torchrun "
        "--nproc-per-node=<GPUs> %s`, not plain python" % (call.where(), os.path.basename(call.file))
    )


# Hugging Face's placeholder classes: transformers' and diffusers' dummy objects (utils/import_utils.py: `class
# DummyObject(type)`, whose classes carry `_backends` and raise requires_backends' ImportError on any use) stand in
# for a name whose optional backend is not installed. Backend keys that are not the distribution's name:
BACKEND_DISTRIBUTION = {"vision": "Pillow", "speech": "torchaudio", "sklearn": "scikit-learn", "tf": "tensorflow",
                        "bs4": "beautifulsoup4", "cv2": "opencv-python", "pytesseract": "pytesseract"}  # fmt: skip


def _placeholders(items):
    """A FAIL for the first name the project imports from a package (`items`: Imports that imported) that is one of
    its placeholder classes (BACKEND_DISTRIBUTION's note): the import works, every use raises. The package's own
    message is quoted; the fix installs the backends it names. None when there is none."""
    for item in items:
        module = sys.modules.get(item.module)
        for name in item.names if module is not None else ():
            value = getattr(module, name, None)
            backends = getattr(value, "_backends", None)
            if type(value).__name__ != "DummyObject" or not isinstance(backends, (list, tuple)):
                continue
            try:
                value.from_pretrained  # noqa: B018 - the placeholder raises its package's own ImportError here
                message = ""
            except ImportError as exc:
                message = " ".join(str(exc).split())
            except Exception:  # noqa: BLE001 - a placeholder of another shape: its message is not needed
                message = ""
            missing = [BACKEND_DISTRIBUTION.get(str(b), str(b)) for b in backends]  # a backend it found unavailable
            return Result(
                name="project",
                status=FAIL,
                summary="%s imports %s from %s, a placeholder that %s exports because %s is not installed: every "
                "use of it raises%s"
                % (
                    item.where(),
                    name,
                    item.module,
                    item.module.split(".")[0],
                    " and ".join(missing),
                    ' ("%s")' % message[:240] if message else "",
                ),
                expected="%s usable" % name,
                actual="a placeholder (%s)" % ", ".join(map(str, backends)),
                hint="install %s: `python -m pip install %s`" % (" and ".join(missing), " ".join(missing)),
                data={"fact": "%s.%s is a DummyObject needing %s" % (item.module, name, ", ".join(map(str, backends)))},
            )
    return None


def _checkpoint_dtypes(torch, root, paths):
    """A FAIL when a .safetensors checkpoint in the folder holds tensors of a dtype this torch does not have
    (checkpoint.SAFETENSORS_DTYPES: float8 from torch 2.1), read from the file's header: loading it fails
    ("module 'torch' has no attribute 'float8_e4m3fn'", huggingface/diffusers#8537). The fix names the first release
    with it where compat.TORCH_API records one. None otherwise."""
    from checks import compat
    from checks.diagnosis.checkpoint import SAFETENSORS_DTYPES, safetensors_dtypes

    for path in paths:
        if not path.endswith(".safetensors"):
            continue
        lacking = [
            (kind, SAFETENSORS_DTYPES[kind])
            for kind in safetensors_dtypes(path)
            if kind in SAFETENSORS_DTYPES and not hasattr(torch, SAFETENSORS_DTYPES[kind])
        ]
        if not lacking:
            continue
        kind, dtype = lacking[0]
        first = compat.TORCH_API.get("torch." + dtype, (None, None))[0]
        return Result(
            name="project",
            status=FAIL,
            summary="%s holds %s tensors (torch.%s), which torch %s does not have%s: loading it fails"
            % (
                os.path.relpath(path, root),
                kind,
                dtype,
                torch.__version__,
                " (added in torch %s)" % first if first else "",
            ),
            expected="torch.%s" % dtype,
            actual="absent from torch %s" % torch.__version__,
            hint='upgrade torch: `python -m pip install "torch>=%s"` with its torchvision and torchaudio' % first
            if first
            else "upgrade torch to a release that has torch.%s (`python -m pip install -U torch`)" % dtype,
            data={
                "fact": "%s: dtypes %s; torch %s lacks torch.%s"
                % (path, [k for k, _ in lacking], torch.__version__, dtype)
            },
        )
    return None


# Modules a release renamed, which a pickle written by the other side names: NumPy 2.0 renamed numpy.core to
# numpy._core (NumPy 2.0's release notes, "numpy.core namespace"); a pickle of numpy arrays written under NumPy 2
# refers to numpy._core.multiarray._reconstruct, which NumPy 1.x lacks.
RENAMED_MODULES = {"numpy._core": ("numpy", ">=2", "NumPy 2.0 renamed numpy.core to numpy._core")}


def _module_findable(module):
    """True when the dotted `module` is on this Python's path, looked up without importing anything (the import
    system's PathFinder for the top-level name, then the file system for each submodule: a package folder, a `.py`
    file or an extension module), so that no package's code runs; True too where it cannot be judged."""
    top, *rest = module.split(".")
    try:
        spec = sys.modules[top].__spec__ if top in sys.modules else importlib.machinery.PathFinder.find_spec(top)
    except Exception:  # noqa: BLE001 - a finder hook's own failure: not judged
        return True
    if spec is None:
        return False
    locations = list(getattr(spec, "submodule_search_locations", None) or ())
    suffixes = tuple(importlib.machinery.all_suffixes())
    for part in rest:
        folders = [os.path.join(p, part) for p in locations if os.path.isdir(os.path.join(p, part))]
        if folders:
            locations = folders
            continue
        return any(os.path.isfile(os.path.join(p, part + suffix)) for p in locations for suffix in suffixes)
    return True


def _pickle_modules_missing(root, paths, torch=None):
    """A WARN for the first pickle in the folder (project.checkpoints: .pkl, .pt, ...; its opcodes read, never
    unpickled) that refers to a module this Python cannot import: written by another release of that package
    (RENAMED_MODULES) or with a package not installed here; loading it fails with "No module named ...". None
    otherwise."""
    from checks import compat
    from checks.diagnosis.checkpoint import pickle_globals
    from checks.machine import distributions
    from checks.verify.libs import numpy_1_only

    for path in paths:
        if path.endswith(".safetensors"):
            continue
        for name in pickle_globals(path):
            module = name.rpartition(".")[0]
            if not module or module.startswith(("builtins", "__builtin__", "copy_reg", "_codecs", "torch")):
                continue
            if _module_findable(module):
                lacking = _pickled_name_lacking(name, root, path)
                if lacking is not None:
                    return lacking
                continue
            top = module.split(".")[0]
            dist = distributions.find(top)
            renamed = next((v for k, v in RENAMED_MODULES.items() if module == k or module.startswith(k + ".")), None)
            where = os.path.relpath(path, root)
            if renamed is not None and dist is not None:
                package, spec, why = renamed
                summary = "%s refers to %s, which %s %s lacks: %s, so the file was written with %s%s" % (
                    where,
                    name,
                    dist.name,
                    dist.version,
                    why,
                    package,
                    spec,
                )
                fix = 'load it with %s%s (`python -m pip install "%s%s"`), or write it again without %s objects' % (
                    package,
                    spec,
                    package,
                    spec,
                    package,
                )
                if package == "numpy" and torch is not None and numpy_1_only(torch):
                    fix += " (torch %s was built against NumPy 1.x: NumPy 2 needs torch %d.%d or newer)" % (
                        torch.__version__,
                        *compat.NUMPY2_SINCE,
                    )
            elif dist is not None:
                summary = "%s refers to %s, which %s %s does not have: the file was written with another release" % (
                    where,
                    name,
                    dist.name,
                    dist.version,
                )
                fix = "install the %s release the file was written with, or write it again with this one" % dist.name
            else:
                summary = "%s refers to %s, whose package %s is not installed here" % (where, name, top)
                fix = "install the package that provides %s (`python -m pip install %s`)" % (top, top)
            return Result(
                name="project",
                status=WARN,
                summary=summary + ': loading it fails with "No module named %s"' % module,
                expected="%s importable" % module,
                actual="not importable",
                hint=fix,
                data={"fact": "%s: pickle global %s; module %s not importable" % (path, name, module)},
            )
    return None


def _another_project(sources):
    """A WARN for the first repository the project installs a package from (project_facts.vcs_sources) whose name
    is an installed import name (`openai/CLIP` and `clip`) while that installed distribution came from an index or
    an archive, or a repository, that is not it (PEP 610's direct_url.json; a local folder may be a clone of it and
    is not judged) and its metadata (Summary, Home-page, Project-URL) does not name the repository: the project of
    that name there is another one (`pip install clip` gives "A CLI clipboard manager", so `clip.load` is missing;
    CASIA-LMC-Lab/FastSAM#141). None otherwise."""
    from checks.machine import distributions

    for source in sources:
        name = source.repository.split("/")[1]
        module = name.lower().replace("-", "_").replace(".", "_")
        dist = distributions.find(module) if module.isidentifier() else None
        if dist is None:
            continue
        wanted = source.repository.lower()
        about = distributions.about(dist)
        kind, url = distributions.install_source(dist)
        if kind == "folder" or wanted in url.lower() or any(wanted in v.lower() for v in about):
            continue  # installed from a folder (a clone of that repository, maybe), or from it, or says it is it
        said = "; ".join(about[:2]) or "no summary or home page"
        return Result(
            name="project",
            status=WARN,
            summary="%s installs %s from %s, but the installed %s %s is another project of that name (%s), "
            "installed from %s: `import %s` finds it, and the code's uses of %s fail"
            % (
                source.where(),
                module,
                source.repository,
                dist.name,
                dist.version,
                said,
                "an index" if kind == "index" else url,
                module,
                source.repository,
            ),  # fmt: skip
            expected="%s from %s" % (module, source.repository),
            actual="%s %s: %s" % (dist.name, dist.version, said),
            hint='`python -m pip uninstall -y %s && python -m pip install "%s"`' % (dist.name, source.url),
            data={"fact": "%s %s: %s; no direct_url.json naming %s" % (dist.name, dist.version, said, wanted)},
        )
    return None


# Hugging Face loaders that take a local folder before a Hub repository of the same name: datasets' load_dataset
# ("if `path` is a local directory" it is loaded; huggingface/datasets#6146) and from_pretrained (a directory holding
# the saved files, else a model id on the Hub)
HUB_LOADERS = ("load_dataset", "from_pretrained")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(?:/[\w.-]+)?$")


def _local_folder_shadows(calls, root):
    """A WARN for the first call of a Hub loader (HUB_LOADERS) whose first argument is a string written as a Hub id
    (HUB_ID: `"glue"`, not `"./glue"`) that names a folder of the working directory `root`: the loader takes the
    folder, not the Hub's repository. For from_pretrained only a folder without any `.json` file (no saved model in
    it) is judged: one holding a saved model is the user's own. None otherwise."""
    for call in calls:
        name = call.dotted.rpartition(".")[2]
        text = call.arguments[0] if call.arguments and not call.member else ""
        if name not in HUB_LOADERS or len(text) < 3 or text[0] not in "'\"" or text[-1] != text[0]:
            continue
        value = text[1:-1]
        folder = os.path.join(root, value)
        if not HUB_ID.match(value) or not os.path.isdir(folder):
            continue
        try:
            entries = sorted(os.listdir(folder))[:5]
        except OSError:
            continue
        if name == "from_pretrained" and any(e.endswith(".json") for e in entries):
            continue
        return Result(
            name="project",
            status=WARN,
            summary="%s calls %s(%s), and the working directory has a folder %s/: %s takes that local folder "
            "(its files: %s), not the Hub's %r"
            % (call.where(), name, text, value, name, ", ".join(entries) or "none", value),  # fmt: skip
            expected="the Hub's %s" % value,
            actual="the local folder %s" % folder,
            hint="rename or move the folder %s/ (or run from another directory) to load the Hub's %r; to load the "
            'folder, write it as a path ("./%s")' % (value, value, value),
            data={"fact": "%s(%s) at %s; folder %s exists" % (name, text, call.where(), folder)},
        )
    return None


def _pickled_name_lacking(name, root, path):
    """A WARN when the pickle at `path` refers to `name` (`models.common.SPPF`) in a module that imports here but
    whose source does not define it (installed._defines: a def, class, assignment, import or string naming it at
    its top level): the checkpoint was written by another revision of that code, and unpickling fails with
    "Can't get attribute 'SPPF' on <module 'models.common'>" (YOLOv5 v6.0's yolov5s.pt under v4.0's code;
    Jacobi93/Alpha-IoU#4). None otherwise."""
    from checks.diagnosis.installed import _defines
    from checks.machine import distributions

    module, _, attribute = name.rpartition(".")
    source = project_facts.module_source(module, root)
    if source is None or _defines(source, attribute) or project_facts.may_define(source, attribute):
        return None
    where, checkpoint = os.path.relpath(source, root), os.path.relpath(path, root)
    inside = not where.startswith("..")
    owner = None if inside else distributions.owner(source)
    code = "this folder's %s" % where if inside else ("%s %s" % (owner.name, owner.version) if owner else source)
    return Result(
        name="project",
        status=WARN,
        summary="%s refers to %s, which is not defined in %s: the checkpoint was written by another (a newer) "
        "revision of that code, so loading it fails (\"Can't get attribute '%s' on <module '%s'>\")"
        % (checkpoint, name, code, attribute, module),
        expected="%s defined" % name,
        actual="not defined in %s" % where,
        hint="use the matching checkpoint, written by this revision of the code (the weights its own release "
        "publishes), or update the code to the revision the checkpoint was written with%s"
        % (" (`git pull`)" if inside and os.path.isdir(os.path.join(root, ".git")) else ""),
        data={"fact": "%s: pickle global %s; %s defines no %s" % (checkpoint, name, where, attribute)},
    )


def _package_script(found):
    """The first import, by a script inside one of the project's packages, of that package by its name while the
    package is not installed (project_facts.Project.package_scripts), else None."""
    from checks.machine import distributions

    for item in found.package_scripts:
        if distributions.find(item.top) is None and not _installed_elsewhere(item.top, found.root):
            return item
    return None


def _script_inside_package(found, item):
    """A WARN for a script inside one of the project's packages that imports that package by its name while the
    package is not installed (_package_script): started as `python PKG/train.py`, Python puts PKG/ on sys.path (the
    script's folder), not the project's root, so `import PKG` fails ("No module named 'basicsr'",
    XPixelGroup/BasicSR#261; the fix that worked: `python setup.py develop`). A FAIL when a launch script of the
    folder starts it so (project_facts.launched_as_path: torchtitan's run_train.sh ran `torchrun
    torchtitan/train.py`, pytorch/torchtitan#897). `item`: _package_script's; None when it is None."""
    if item is None:
        return None
    script = os.path.relpath(item.file, found.root)
    dotted = os.path.splitext(script)[0].replace(os.sep, ".")
    launched = project_facts.launched_as_path(script, found.root)
    how = "%s:%d starts it so" % launched if launched else "started as `python %s`" % script
    return Result(
        name="project",
        status=FAIL if launched else WARN,
        summary="%s is a script inside the package %s and imports %s (%s), which is not installed: %s, and Python "
        "puts the script's folder on sys.path, not %s, so that import fails"
        % (script, item.top, item.top, item.where(), how, found.root),
        expected="%s importable from the script" % item.top,
        actual="not installed",
        hint="install the project into this environment (`python -m pip install -e .` in %s, or `python setup.py "
        "develop`), or start it as a module: `python -m %s`%s"
        % (found.root, dotted, " (`torchrun -m %s`)" % dotted if launched else ""),
        data={
            "fact": "%s imports %s; %s not installed%s" % (script, item.top, item.top, "; " + how if launched else "")
        },
    )


def _installed_elsewhere(top, root):
    """True when `top` is importable from a sys.path entry other than `root` (a PYTHONPATH entry, an egg-link)."""
    for entry in sys.path:
        if not entry or os.path.abspath(entry) == root:
            continue
        if os.path.isfile(os.path.join(entry, top, "__init__.py")) or os.path.isfile(os.path.join(entry, top + ".py")):
            return True
    return False


def _lfs_pointers(root, pointers):
    """A FAIL when files the project's .gitattributes keeps in Git LFS are still pointers (project.lfs_pointers): the
    clone was made without git-lfs, so the code reads a 130-byte text file where the weights should be (torch.load:
    "invalid load key, 'v'"; hhj1897/face_parsing#3). `pointers`: project.lfs_pointers(root). None otherwise."""
    if not pointers:
        return None
    return Result(
        name="project",
        status=FAIL,
        summary="%d file%s that .gitattributes keeps in Git LFS %s, not the content (%s): the clone was made "
        "without git-lfs, and loading %s fails (torch.load: \"invalid load key, 'v'\")"
        % (
            len(pointers),
            "" if len(pointers) == 1 else "s",
            "is still a Git LFS pointer" if len(pointers) == 1 else "are still Git LFS pointers",
            ", ".join(pointers[:3]) + (", ..." if len(pointers) > 3 else ""),
            "it" if len(pointers) == 1 else "them",
        ),
        expected="the files' content",
        actual="LFS pointers",
        hint="fetch them: `git lfs install && git lfs pull` in %s (install git-lfs first: `apt install git-lfs` or "
        "`conda install -c conda-forge git-lfs`)" % root,
        data={"fact": "LFS pointers: %s" % ", ".join(pointers[:10])},
    )


def _unloadable_checkpoints(root, paths, pointers=()):
    """A FAIL for the first checkpoint file in the folder that is not one (diagnosis/checkpoint.py kind_of): a Git
    LFS pointer, an HTML page saved under its name (Google Drive's virus-scan page from a plain wget:
    Daniil-Osokin/gccpm-look-into-person-cvpr19.pytorch#22), an empty file or a zip cut short. torch.load of it
    fails ("invalid load key, '<'"). None otherwise."""
    from checks.diagnosis.checkpoint import file_cause, kind_of

    for path in paths:
        kind, size = kind_of(path)
        shown = os.path.relpath(path, root)
        if kind is None or shown.replace(os.sep, "/") in pointers:  # named by _lfs_pointers already
            continue
        meaning, fix = file_cause(shown, kind)
        return Result(
            name="project",
            status=FAIL,
            summary="%s (%d bytes): loading it fails" % (meaning, size or 0),
            expected="%s holds a checkpoint" % shown,
            actual={"lfs": "a Git LFS pointer", "html": "an HTML page", "empty": "an empty file"}.get(
                kind, "a zip cut short"
            ),
            hint=fix,
            data={"fact": "%s: %s, %d bytes" % (shown, kind, size or 0)},
        )
    return None


def _with_the_rest(findings):
    """The first of `findings` (Results or None; the project line's independent findings about the folder's files
    and the machine it needs) that is a FAIL, else the first: the others follow it on the same line ("; also: ..."),
    so one run shows every one of them."""
    found = [f for f in findings if f is not None]
    first = next((f for f in found if f.status == FAIL), found[0])
    rest = [f for f in found if f is not first]
    if rest:
        first.summary += "".join("; also: %s" % f.summary for f in rest)
        first.hint += "".join("; %s" % f.hint for f in rest if f.hint)
        first.data = dict(first.data or {}, also_found=[f.data.get("fact") for f in rest if f.data])
    return first


def _hub_unreachable(found):
    """A FAIL when the code names Hugging Face Hub repositories (machine/hf_hub.py repo_ids: from_pretrained's ids,
    module constants and argparse defaults beside a loader) that are in no Hub cache here while the Hub client is
    told to stay offline, or its endpoint (HF_ENDPOINT, else huggingface.co) does not answer: the first load fails
    ("Can't load tokenizer for 'openai/clip-vit-large-patch14'", "We couldn't connect to 'https://huggingface.co'";
    Akegarasu/lora-scripts#609, whose fix was HF_ENDPOINT=https://hf-mirror.com). None otherwise; with a proxy set
    the Hub is not judged."""
    from checks.machine import hf_hub

    ids = hf_hub.repo_ids(project_facts.packages_beside(found.files), found.root)
    gap = hf_hub.unreachable(ids) if ids else None
    if gap is None:
        return None
    first = gap.missing[0]
    named = "%s (%s)%s" % (first.repo, first.where, " and %d more" % (len(gap.missing) - 1) if gap.missing[1:] else "")
    host = hf_hub.endpoint()[1]
    download = "`huggingface-cli download %s`" % first.repo
    if gap.offline:
        return Result(
            name="project",
            status=FAIL,
            summary="the code loads %s from the Hugging Face Hub, which is not cached here, and %s keeps the Hub "
            "client offline: the load fails" % (named, gap.offline),
            expected="%s in the Hub cache (%s)" % (first.repo, hf_hub.cache_folders()[0]),
            actual="not cached; %s" % gap.offline,
            hint="download it once with the Hub reachable (unset %s, or %s), or point the code at a local folder"
            % (gap.offline.split("=")[0], download),
            data={"fact": "%s not in %s; %s" % (first.repo, ", ".join(hf_hub.cache_folders()), gap.offline)},
        )
    return Result(
        name="project",
        status=FAIL,
        summary="the code loads %s from the Hugging Face Hub (%s), which is not cached here, and %s cannot be reached "
        "from this machine (%s): the load fails" % (named, gap.endpoint, host, gap.why),
        expected="%s answers, or %s cached" % (host, first.repo),
        actual=gap.why,
        hint="%s; or point the code at a local folder" % hf_hub.unreachable_fix(download),
        data={"fact": "%s not in %s; %s: %s" % (first.repo, ", ".join(hf_hub.cache_folders()), host, gap.why)},
    )


def _weights_only_refusal(torch, uses, root, paths):
    """A WARN when this torch's torch.load defaults to weights_only=True (from 2.6, PyTorch 2.6's release notes), the
    code calls torch.load without `weights_only`, and a checkpoint in the folder holds a global that the installed
    torch's weights_only unpickler refuses (read from its pickle's opcodes, never unpickled): that load will fail
    ("Weights only load failed ... Unsupported global"). None otherwise."""
    from checks.compat import version_key
    from checks.diagnosis.checkpoint import refused_globals

    version = getattr(torch, "__version__", "0")
    if version_key(version) < version_key("2.6"):
        return None
    loads = [u for u in uses if u.dotted == "torch.load"]  # the name and, for a call, its keywords: one Use each
    passed = {(u.file, u.line) for u in loads if "weights_only" in u.keywords}
    call = next((u for u in loads if (u.file, u.line) not in passed), None)
    if call is None:
        return None
    for path in paths:
        if path.endswith(".safetensors"):  # no pickle: nothing for weights_only to refuse
            continue
        refused = refused_globals(path, torch)
        if not refused:
            continue
        short = refused[0].rsplit(".", 1)
        return Result(
            name="project",
            status=WARN,
            summary="%s calls torch.load without weights_only, which torch %s sets to True by default (since 2.6), and "
            '%s holds %s, which that default refuses: loading it fails with "Weights only load failed"'
            % (call.where(), version, os.path.relpath(path, root), ", ".join(refused[:3])),
            expected="a checkpoint of tensors and allowed globals",
            actual=", ".join(refused[:3]),
            hint="for a checkpoint you trust: `torch.load(path, weights_only=False)`; or allow-list what it holds "
            "before loading: `torch.serialization.add_safe_globals([%s])` (`import %s` first)" % (short[1], short[0]),
            data={"fact": "%s: globals %s refused by torch %s's weights_only unpickler" % (path, refused, version)},
        )
    return None


def _unmet_below(tops):
    """A WARN for the first unmet requirement (requirements.unmet_closure: a conflict before a missing package) of
    the distributions of the top-level modules `tops` the project imports and of what they require in turn; torch,
    torchvision and torchaudio are the requirements line's. The fix meets it, or upgrades its owner to a release
    that accepts what is installed. None when all are met."""
    from checks.machine import distributions, requirements

    roots = []
    for top in tops:
        dist = distributions.find(top)
        if dist is not None and distributions.canonical(dist.name) not in OWN:
            roots.append(dist.name)
    unmet = requirements.unmet_closure(dict.fromkeys(roots)) if roots else []
    if not unmet:
        return None
    first = unmet[0]
    owner = first.owner.split()[0]
    return Result(
        name="project",
        status=WARN,
        summary="%s: pip's check fails for a package the code imports (or one it requires)" % first.describe(),
        expected="%s%s" % (first.name, first.spec),
        actual=first.installed or "not installed",
        hint="%s, or upgrade %s to a release that accepts the installed %s (`python -m pip install -U %s`)"
        % (first.fix(), owner, first.name, owner)
        if first.installed
        else first.fix(),
        data={"fact": first.describe()},
    )


def _jit_build_tools(builds, environ=None):
    """A WARN when the project builds an extension as it runs (`builds`: its torch.utils.cpp_extension.load or
    load_inline calls) and a tool that build runs is not on PATH: ninja (verify_ninja_availability runs `ninja
    --version`: "Ninja is required to load C++ extensions") or the C++ compiler (cpp_extension takes $CXX, else
    `c++`); None when both are found or nothing is built. PATH lookups only, as --quick allows."""
    import shutil

    if not builds:
        return None
    environ = os.environ if environ is None else environ
    path = environ.get("PATH")
    import shlex

    try:  # CXX may carry a launcher or flags (`ccache g++`): the program is its first word
        compiler = (shlex.split(environ.get("CXX") or "") or ["c++"])[0]
    except ValueError:
        compiler = "c++"
    missing = [
        (tool, fix)
        for tool, fix in (
            ("ninja", "`python -m pip install ninja` (the wheel puts it in this environment's bin folder)"),
            (compiler, "install a C++ compiler (Debian/Ubuntu: `apt install g++`; conda/pixi: `cxx-compiler`)"),
        )
        if shutil.which(tool, path=path) is None
    ]
    if not missing:
        return None
    use = builds[0]
    return Result(
        name="project",
        status=WARN,
        summary="%s uses %s, which builds a C++ extension when the code runs, and %s not found on PATH"
        % (use.where(), use.dotted, " and ".join("%s is" % t for t, _ in missing)),
        expected="ninja and a C++ compiler on PATH",
        actual="%s missing" % ", ".join(t for t, _ in missing),
        hint="; ".join(f for _, f in missing),
        data={"fact": "%s: %s not on PATH" % (use.where(), ", ".join(t for t, _ in missing))},
    )


def _no_wheel_for_this_python(text):
    """(" ...", fix) when the requirement `text` asks for torch releases none of which has a wheel for the running
    Python (compat.releases_for_python: torch 1.12.1's wheels stop at Python 3.10), so `pip install` of it fails
    ("Could not find a version that satisfies the requirement"); ("", "") otherwise."""
    from checks import compat
    from checks.machine import distributions

    name = distributions.required_project(text)
    if name != "torch":
        return "", ""
    spec = text.split(";")[0].strip()[len("torch") :].strip()
    python = "%d.%d" % sys.version_info[:2]
    known, supported = compat.releases_for_python(python, spec) if spec else ((), ())
    if not known or supported:
        return "", ""
    low, high = compat.python_support(known[-1]) or ("?", "?")
    return (
        "; no torch release it admits has a wheel for Python %s (torch %s: Python %s to %s), so pip cannot install it "
        "here" % (python, known[-1], low, high),
        "install it with a Python that release supports (an environment whose python is %s), or ask for a torch "
        "release with wheels for Python %s" % (high, python),
    )


def _unmet_requirements(requirements):
    """The requirements files' lines not met here (pip's metadata, PEP 508 with `packaging`): [(line, why)], those
    with another release installed first (HD-Painter's `gradio==3.47.1` under gradio 4), then those not installed."""
    if not requirements:
        return []
    try:
        from packaging.requirements import InvalidRequirement
        from packaging.requirements import Requirement as Parsed
        from packaging.version import InvalidVersion, Version
    except ImportError:
        return []
    from checks.machine import distributions
    from checks.machine import requirements as installed_facts

    installed = installed_facts.pip_installed(list(sys.path))
    unmet, missing = [], []  # another release installed first: the code runs into it; then what is not installed
    for item in requirements:
        try:
            parsed = Parsed(item.text)
            if parsed.marker is not None and not parsed.marker.evaluate({"extra": ""}):
                continue
        except (InvalidRequirement, ValueError):
            continue
        have = installed.get(distributions.canonical(parsed.name))
        if have is None:
            missing.append((item, "%s is not installed" % parsed.name))
            continue
        try:
            if parsed.specifier and not parsed.specifier.contains(Version(have[0]), prereleases=True):
                unmet.append((item, "installed: %s %s" % (parsed.name, have[0])))
        except InvalidVersion:
            continue
    return unmet + missing


def _import(item):
    """Import what `item` (a project_facts.Import) names, as the statement would: the module, then each name
    from it (an attribute, a lazy module's attribute, else its submodule). A name that is neither raises CPython's
    own ImportError ("cannot import name 'X' from 'M' (PATH)", Python/ceval.c import_from)."""
    module = importlib.import_module(item.module)
    for name in item.names:
        try:
            getattr(module, name)
            continue
        except AttributeError:
            pass
        try:
            importlib.import_module("%s.%s" % (item.module, name))
        except ModuleNotFoundError as exc:
            if exc.name != "%s.%s" % (item.module, name):
                raise
            where = getattr(module, "__file__", None) or "unknown location"
            raise ImportError(
                "cannot import name %r from %r (%s)" % (name, item.module, where), name=item.module, path=where
            ) from None


def _hub_dir(torch):
    """torch.hub's cache folder (torch.hub.get_dir(): TORCH_HOME/hub), or None."""
    try:
        return torch.hub.get_dir()
    except Exception:  # a torch without torch.hub, or a TORCH_HOME it cannot read
        return None


def _hub_dependency_missing(torch, repos):
    """A FAIL when a torch.hub repository the code loads (project_facts.Project.hub_repos) is in torch.hub's cache
    and its hubconf.py's `dependencies` name a module that is not installed: torch.hub checks them
    (torch/hub.py, _check_dependencies: "Missing dependencies") and installs nothing."""
    hub_dir = _hub_dir(torch) if repos else None
    if hub_dir is None:
        return None
    from checks.diagnosis.installed import DISTRIBUTION_OF

    for repo, where in repos:
        cached = project_facts.hub_dependencies(hub_dir, repo)
        if cached is None:
            continue
        folder, names = cached
        missing = [n for n in names if _installed(n.split(".")[0])[0] is None]
        if missing:
            wanted = [DISTRIBUTION_OF.get(n, n) for n in missing]
            named = [n if n == w else "%s (the %s package)" % (n, w) for n, w in zip(missing, wanted)]
            return Result(
                name="project",
                status=FAIL,
                summary="%s loads the torch.hub repository %s, whose hubconf.py (%s) needs %s, not installed here: "
                "torch.hub checks a repository's dependencies but does not install them"
                % (where, repo, folder, ", ".join(named)),
                expected="%s importable" % ", ".join(names),
                actual="missing: %s" % ", ".join(missing),
                hint="install them into this environment: `python -m pip install %s`" % " ".join(wanted),
                data={"fact": "%s's hubconf.py dependencies %s; missing %s" % (repo, names, missing)},
            )
    return None


def _hub_names_shadowed(torch, repos, found):
    """A FAIL when a torch.hub repository the code loads is in torch.hub's cache and a top-level module or package of
    that repository has the name of one of the project's own modules that the project imports: torch.hub puts the
    repository's folder first on sys.path and runs its hubconf.py, whose `from utils.datasets import ...` then finds
    the project's `utils` already imported ("No module named 'utils.datasets'; 'utils' is not a package";
    ultralytics/yolov5#6048, fixed by renaming the project's utils.py)."""
    hub_dir = _hub_dir(torch) if repos and found.local_imports else None
    if hub_dir is None:
        return None
    imported = {}
    for item in found.local_imports:
        imported.setdefault(item.top, item)
    for repo, where in repos:
        for folder, _ in project_facts._hubconfs(hub_dir, repo):
            try:
                names = sorted(os.listdir(folder))[: project_facts.MAX_ENTRIES]
            except OSError:
                continue
            theirs = {n[:-3] if n.endswith(".py") else n for n in names if n.endswith(".py") or "." not in n}
            for top in sorted(set(imported) & theirs - {"hubconf"}):
                item = imported[top]
                mine = next(
                    (
                        p
                        for p in (os.path.join(found.root, top + ".py"), os.path.join(found.root, top))
                        if os.path.exists(p)
                    ),
                    None,
                )
                if mine is None:
                    continue
                return Result(
                    name="project",
                    status=FAIL,
                    summary="%s imports the project's own %s (%s), and the torch.hub repository %s it loads (%s) has a "
                    "top-level %s of its own (%s): Python reuses the module already imported, so the repository's "
                    "imports from its %s fail (\"No module named '%s.…'%s\")"
                    % (item.where(), top, os.path.relpath(mine, found.root), repo, where, top, folder, top, top,
                       "; '%s' is not a package" % top if mine.endswith(".py") else ""),
                    expected="no project module named like the repository's",
                    actual="%s in both" % top,
                    hint="rename the project's %s (and its imports), e.g. to %s_%s, so that the repository's %s is "
                    "the one imported" % (os.path.relpath(mine, found.root), os.path.basename(found.root) or "my", top,
                                          top),
                    data={"fact": "%s: %s and %s" % (top, mine, os.path.join(folder, top))},
                )  # fmt: skip
    return None


def _hub_entry_lacking(torch, entries):
    """A FAIL when the code calls torch.hub.load(REPO, ENTRY) and torch.hub's cached copy of REPO has no entry point
    ENTRY in its hubconf.py (project_facts.hub_entry_lacking): torch.hub takes the cache as it is ("Using cache
    found in ...") and does not look for newer code, so a copy fetched before the repository added ENTRY fails with
    "Cannot find callable ENTRY in hubconf" (ultralytics/yolov5#4459: yolov5m6 and a months-old cache; the fix that
    worked: delete the cache, or force_reload=True)."""
    hub_dir = _hub_dir(torch) if entries else None
    if hub_dir is None:
        return None
    for repo, entry, where in entries:
        lacking = project_facts.hub_entry_lacking(hub_dir, repo, entry)
        if lacking is None:
            continue
        folder, day = lacking
        return Result(
            name="project",
            status=FAIL,
            summary="%s loads %r from the torch.hub repository %s, and torch.hub's cached copy of it (%s%s) is older "
            "than that entry point: its hubconf.py defines no %s, and torch.hub uses the cache without looking for "
            'newer code ("Cannot find callable %s in hubconf")'
            % (where, entry, repo, folder, ", from %s" % day if day else "", entry, entry),
            expected="%s in the cached hubconf.py" % entry,
            actual="not defined",
            hint="fetch the repository again: `torch.hub.load(%r, %r, force_reload=True)` once, or delete the cached "
            "copy (`rm -rf %s`)" % (repo, entry, folder),
            data={"fact": "%s/hubconf.py binds no %s" % (folder, entry)},
        )
    return None


def _checkout_not_installed(found):
    """A FAIL when the code imports a name from a folder of the working directory that has no __init__.py but holds a
    package of the same name or a build file (setup.py, pyproject.toml, setup.cfg): a source checkout (`git clone`)
    of a package that is not installed in this Python. Python then imports the folder as an empty namespace package
    (PEP 420: a directory without __init__.py, used only when no regular package of the name is found), so `from X
    import Y` fails with "cannot import name 'Y' from 'X' (unknown location)". With the package installed, the
    installed copy wins and nothing is reported."""
    entries = [p for p in sys.path if p and os.path.abspath(p) != found.root]
    for item in found.local_imports:
        folder = os.path.join(found.root, item.top)
        if not os.path.isdir(folder) or os.path.isfile(os.path.join(folder, "__init__.py")):
            continue
        inner = os.path.isfile(os.path.join(folder, item.top, "__init__.py"))
        build = [n for n in ("setup.py", "pyproject.toml", "setup.cfg") if os.path.isfile(os.path.join(folder, n))]
        if not inner and not build:
            continue
        try:
            spec = importlib.machinery.PathFinder.find_spec(item.top, entries)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin not in (None, "namespace"):
            continue  # installed elsewhere: the regular package is imported, not the folder
        what = "from %s import %s" % (item.module, ", ".join(item.names)) if item.names else "import %s" % item.module
        return Result(
            name="project",
            status=FAIL,
            summary="%s: `%s` finds %s, a source checkout of %s (%s), not an installed package: %s is not installed "
            "in this Python, so the folder is imported as an empty namespace package (PEP 420) and its names are "
            'missing ("cannot import name ... (unknown location)")'
            % (
                item.where(),
                what,
                folder,
                item.top,
                "it holds %s" % ", ".join(([os.path.join(item.top, item.top) + "/"] if inner else []) + build),
                item.top,
            ),
            expected="%s installed in %s" % (item.top, sys.prefix),
            actual="a namespace package: %s" % folder,
            hint="install it into this Python (the one that runs the code: %s): `python -m pip install -e %s` (this "
            "checkout) or `python -m pip install %s`" % (sys.executable, os.path.join(".", item.top), item.top),
            data={"fact": "%s/ has no __init__.py; %s is not installed" % (folder, item.top)},
        )
    return None


def _shadowed_package(root):
    """A WARN when a module or package of the working directory (project_facts.importable_here) has the name of an
    installed distribution's top-level module found elsewhere on sys.path: code started here (`python -m vllm...`
    in vllm's source checkout, whose `vllm/` has no compiled extensions) imports the folder's copy instead of the
    installed one. torch, torchvision and torchaudio are the provenance line's."""
    from checks.machine import distributions

    entries = [p for p in sys.path if p and os.path.abspath(p) != root]
    for name in sorted(project_facts.importable_here(root) - set(OWN)):
        dist = distributions.find(name, path=entries)
        if dist is None or os.path.abspath(dist.entry) == root:
            continue
        local = os.path.join(root, name if os.path.isdir(os.path.join(root, name)) else name + ".py")
        return Result(
            name="project",
            status=WARN,
            summary="%s in the working directory shadows the installed %s: code started here (a script in this "
            "folder, `python -m %s...`) imports this copy, not the installed one" % (local, dist.describe(), name),
            expected="%s from %s" % (name, dist.entry),
            actual=local,
            hint="start the code from outside this folder (or rename %s); to run this copy instead, install it: "
            "`python -m pip install -e .`" % os.path.basename(local),
            data={"fact": "%s beside the installed %s %s" % (local, dist.name, dist.version)},
        )
    return None


def _package_name_lacking(uses, imported):
    """The first of `uses` (project_facts.Use: `pytorch_lightning.LightningDataModule`) whose package was imported
    (`imported`: module names) and lacks the name, as a Result: a FAIL carrying the AttributeError the code meets at
    import (judged by the parent against the installed release), a WARN for a use inside a function (it fails when
    called, unless guarded in ways not read here); None when all resolve."""
    tops = {m.split(".")[0] for m in imported}
    for use in uses:
        top = use.dotted.split(".")[0]
        module = sys.modules.get(top)
        if top not in tops or module is None:
            continue
        missing = api.missing_name(module, use.dotted)
        if missing is None:
            continue
        owner, _, name = missing.rpartition(".")
        message = "module %r has no attribute %r" % (owner, name)
        if use.deferred:  # fails when called, unless guarded in ways not read here: a WARN judged here
            from checks.diagnosis.installed import release_lacks_name
            from checks.machine import distributions

            dist = distributions.find(top)
            if dist is None:
                continue
            cause = release_lacks_name(
                dist, owner, name, getattr(sys.modules.get(owner), "__file__", None), use.where()
            )
            return Result(
                name="project",
                status=WARN,
                summary=cause.meaning,
                expected="%s in %s %s" % (missing, dist.name, dist.version),
                actual="absent",
                hint=cause.fix,
                data={"fact": cause.fact},
            )
        text = 'Traceback (most recent call last):\n  File "%s", line %d, in <module>\nAttributeError: %s\n' % (
            use.file,
            use.line,
            message,
        )
        return Result(
            name="project",
            status=FAIL,
            summary="%s: AttributeError: %s" % (use.where(), message),
            expected="%s in the installed %s" % (missing, top),
            actual="AttributeError: %s" % message,
            hint="not judged yet",
            data={"exception": text},
        )
    return None


def _call_refused(calls, imported, requirements, deadline):
    """The first of `calls` (project_facts.Call) into a package of `imported` (module names) that the installed
    function's signature refuses (api.call_refusal), as a Result: a FAIL for a call made at import, a WARN for one
    inside a function (it fails when called). Only Python code's signatures are read; what the call's objects are
    is looked up in the imported modules and classes (api.resolve). None when all bind, or at `deadline`
    (time.monotonic())."""
    from checks.machine import distributions

    tops = {m.split(".")[0] for m in imported}
    for call in calls:
        top = call.dotted.split(".")[0]
        if top not in tops or sys.modules.get(top) is None:
            continue
        if time.monotonic() > deadline:
            return None
        if call.member:
            lacking = _member_lacking(call)
            if lacking is not None:
                return lacking
            continue
        refusal = api.call_refusal(api.resolve(sys.modules[top], call.dotted), call)
        dist = distributions.find(top) if refusal is not None else None
        if dist is None:
            continue
        name = call.dotted.rpartition(".")[2]
        release = "%s %s" % (dist.name, dist.version)
        ways = []
        if refusal.keywords:
            ways.append("pass them by keyword as %s names them: `%s(%s, ...)`" % (release, name, refusal.keywords))
            ways.append("install the older %s release the code was written for, from before they became keyword-only"
                        % dist.name)  # fmt: skip
        else:
            ways.append("install the %s release the code was written for" % dist.name)
            ways.append("change the call to this release's `%s%s`" % (name, refusal.signature))
        pinned = project_facts.requirement_for(top, requirements, dist.name)
        if pinned is not None and not _met(pinned.text, dist.version):
            ways.insert(0, '`python -m pip install "%s"` (%s:%d asks for it)' % (
                pinned.text, os.path.basename(pinned.file), pinned.line))  # fmt: skip
        return Result(
            name="project",
            status=WARN if call.deferred else FAIL,
            summary="%s calls %s, which %s refuses: %s %s (TypeError when the call runs)"
            % (call.where(), call.dotted, release, name, refusal.reason),
            expected="a call %s%s takes" % (name, refusal.signature),
            actual=refusal.reason,
            hint="; or ".join(ways),
            data={"fact": "%s's %s%s (%s)" % (release, call.dotted, refusal.signature, call.where())},
        )
    return None


def _member_lacking(call):
    """A WARN (FAIL at import) when `call` (project_facts.Call with a member) calls a method that the class it made
    an object of lacks in the installed release (`fabric = L.Fabric(...)`, then `fabric.init_module()`, which
    lightning 2.0 predates: "'Fabric' object has no attribute 'init_module'"; Lightning-AI/lit-llama#281). Only
    classes built by `type` or ABCMeta without a `__getattr__` of their own are judged (an instance's own attributes
    are set in __init__, so only calls, which methods answer, are judged). None otherwise."""
    import abc

    from checks.machine import distributions

    top = call.dotted.split(".")[0]
    cls = api.resolve(sys.modules[top], call.dotted)
    if not inspect.isclass(cls) or type(cls) not in (type, abc.ABCMeta) or hasattr(cls, call.member):
        return None
    if any("__getattr__" in vars(k) or "__getattribute__" in vars(k) for k in cls.__mro__[:-1]):
        return None
    dist = distributions.find(top)
    if dist is None:
        return None
    removed = _names_keyword(cls, call.member)
    name = cls.__name__
    way = (
        'install the older %s release the code was written for (`python -m pip install "%s<%s"`)'
        % (dist.name, dist.name, dist.version)
        if removed
        else "upgrade %s to a release whose %s has it (`python -m pip install -U %s`)" % (dist.name, name, dist.name)
    )
    return Result(
        name="project",
        status=WARN if call.deferred else FAIL,
        summary="%s calls %s() on a %s, which %s %s's %s does not have%s: AttributeError when it runs"
        % (
            call.where(),
            call.member,
            call.dotted,
            dist.name,
            dist.version,
            name,
            " (its module still names it: removed)" if removed else " (nor does its module name it: added later)",
        ),  # fmt: skip
        expected="%s.%s in %s %s" % (name, call.member, dist.name, dist.version),
        actual="absent",
        hint="%s, or change the code to this release's %s" % (way, name),
        data={"fact": "%s %s: %s has no %s (%s)" % (dist.name, dist.version, call.dotted, call.member, call.where())},
    )


def _met(text, version):
    """False when the PEP 508 line `text` has a version specifier that `version` does not meet."""
    try:
        from packaging.requirements import Requirement

        return Requirement(text).specifier.contains(version, prereleases=True)
    except (ImportError, ValueError):  # packaging missing, or a line it cannot read: not judged
        return True


def _checkout_builds(missing, root):
    """({module: extension class} of the compiled modules a setup.py builds, its folder) for the missing imports: the
    setup.py of `root` or of a folder above a missing import's file inside it (a checkout cloned into the working
    directory: `openfold/setup.py` beside `openfold/openfold/`), the first that declares one of them; ({}, root)
    when none does."""
    folders = [root]
    for item in missing:
        folder = os.path.dirname(os.path.abspath(item.file))
        while folder.startswith(root.rstrip(os.sep) + os.sep) and folder not in folders:
            folders.append(folder)
            folder = os.path.dirname(folder)
    for folder in folders:
        if not os.path.isfile(os.path.join(folder, "setup.py")):
            continue
        built = project_facts.built_modules(folder)
        if any(m.module in built or m.top in built for m in missing):
            return built, folder
    return {}, root


def _setup_named(folder, root):
    """ "this folder's setup.py", or the relative path of a checkout's setup.py below the working directory."""
    return "this folder's setup.py" if folder == root else os.path.join(os.path.relpath(folder, root), "setup.py")


MAX_CHECKOUTS = 100  # folders of the working directory looked at for a setup.py


def _unbuilt_checkout(root, limit=MAX_CHECKOUTS):
    """A WARN when the setup.py of the working directory, or of a source checkout one folder down (`git clone` of
    OpenFold into it: openfold/setup.py), declares a compiled module (project_facts.built_modules) that is neither
    importable here nor built in that folder: the checkout was cloned but never built, and the code that imports
    the module fails ("No module named 'attn_core_inplace_cuda'", aqlaboratory/openfold#445, whose attention_core.py
    imports it by importlib.import_module). At most `limit` folders looked at; None otherwise."""
    try:
        names = sorted(os.listdir(root))[:limit]
    except OSError:
        return None
    folders = [root] + [os.path.join(root, n) for n in names if not n.startswith(".")]
    for folder in folders:
        if not os.path.isfile(os.path.join(folder, "setup.py")):
            continue
        built = project_facts.built_modules(folder)
        made = {os.path.basename(p).split(".")[0] for p in project_facts.compiled_here(folder)} if built else set()
        for module, kind in built.items():
            if module.split(".")[-1] in made or _module_findable(module):
                continue
            where = _setup_named(folder, root)
            return Result(
                name="project",
                status=WARN,
                summary="%s builds %s (%s), which is neither built in %s nor installed: code that imports it fails "
                '("No module named %r"); the checkout was not built' % (where, module, kind, folder, module),
                expected="%s built" % module,
                actual="not importable",
                hint="build it in %s: `python -m pip install -v --no-build-isolation .` (against the installed torch), "
                "or `python setup.py build_ext --inplace` to use the folder in place" % folder,
                data={"fact": "%s declares %s(%r); no such module importable" % (where, kind, module)},
            )
    return None


def _processor_needs(configs, root, torch_version):
    """A WARN when a model folder's preprocessor_config.json names a processor class (project_facts.PROCESSOR_CONFIGS:
    `"image_processor_type": "Idefics3ImageProcessor"`) whose module in the installed transformers, in the folder of
    the model_type its config.json names (transformers/models/<model_type>/), imports at its top a module that is not
    installed: AutoProcessor / AutoImageProcessor cannot load that class, and transformers 5 says only
    "Unrecognized image processor" (huggingface/transformers#46726: its image processors import torchvision, which
    was missing). The module file is read, never imported. None otherwise."""
    from checks.machine import distributions

    model_types = {os.path.dirname(c.path): c.value for c in configs if c.kind == "model_type"}
    for config in configs:
        if config.kind not in project_facts.PROCESSOR_CONFIGS["preprocessor_config.json"]:
            continue
        model_type = model_types.get(os.path.dirname(config.path))
        spec = importlib.util.find_spec("transformers") if model_type and _module_findable("transformers") else None
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = os.path.join(list(spec.submodule_search_locations)[0], "models", model_type.replace("-", "_"))
        defining = re.compile(r"(?m)^class %s\b" % re.escape(config.value))
        for path in sorted(glob.glob(os.path.join(glob.escape(folder), "*.py")))[:40]:
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read(project_facts.MAX_SOURCE_BYTES)
            except OSError:
                continue
            if not defining.search(text):
                continue
            missing = next((i for i in project_facts.imports_of(path) if not _module_findable(i.top)), None)
            if missing is None:
                break
            dist = distributions.find("transformers")
            release = " %s" % dist.version if dist is not None else ""
            where = os.path.relpath(config.path, root)
            line = "transformers/models/%s/%s:%d" % (os.path.basename(folder), os.path.basename(path), missing.line)
            return Result(
                name="project",
                status=WARN,
                summary="%s names the processor %s, whose module in transformers%s (%s) imports %s, which is not "
                'installed: loading the processor fails (transformers 5 says "Unrecognized image processor")'
                % (where, config.value, release, line, missing.top),
                expected="%s installed" % missing.top,
                actual="not installed",
                hint=_install_missing(missing.top, torch_version),
                data={"fact": "%s at %s; %s not installed" % (config.value, line, missing.top)},
            )
    return None


def _install_missing(module, torch_version):
    """The install command for a missing module: torchvision and torchaudio at the release paired with this torch
    (compat.paired_versions), others by their distribution's name (installed.DISTRIBUTION_OF)."""
    from checks import compat
    from checks.diagnosis.installed import DISTRIBUTION_OF

    pair = compat.paired_versions(torch_version) if module in ("torchvision", "torchaudio") else None
    if pair:
        spec = pair[0] if module == "torchvision" else pair[1]
        return 'install %s, the release made for torch %s: `python -m pip install "%s==%s"` from the same index as ' \
            "torch" % (module, torch_version, module, spec)  # fmt: skip
    return "install it: `python -m pip install %s`" % DISTRIBUTION_OF.get(module, module)


def _model_config_refused(configs, root):
    """A WARN for the first model folder config (project_facts.model_configs) that the installed library cannot load:
    an adapter_config.json whose keys the installed PEFT's config class for its `peft_type` does not take (PEFT
    builds it as `config_cls(**kwargs)`, peft/config.py from_peft_type: "LoraConfig.__init__() got an unexpected
    keyword argument 'layer_replication'" from an adapter a newer PEFT saved; huggingface/peft#1979), or a
    config.json whose `model_type` the installed transformers does not know (CONFIG_MAPPING_NAMES). Only libraries
    installed here are imported to judge. A saved dataset's dataset_info.json whose feature types the installed
    datasets lacks (`List`, added in datasets 4.0, under 3.6: "Feature type 'List' not found"; huggingface/datasets
    #7739) was saved by a newer release. None when every one loads."""
    from checks.machine import distributions

    for config in configs:
        if config.kind not in project_facts.MODEL_CONFIGS.values():
            continue  # a processor's class: _processor_needs
        library = {"peft_type": "peft", "features": "datasets"}.get(config.kind, "transformers")
        dist = distributions.find(library) if _module_findable(library) else None
        if dist is None:
            continue
        where = os.path.relpath(config.path, root)
        try:
            if library == "peft":
                from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING as table
            elif library == "datasets":
                from datasets.features.features import _FEATURE_TYPES as table
            else:
                from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES as table
        except Exception:  # noqa: BLE001 - the library's own import failure is the import lines' to judge
            continue
        if library == "transformers" and config.value not in table:
            newer = ' "transformers>=%s"' % config.saved_by.split(".dev")[0] if config.saved_by else " transformers"
            return Result(
                name="project",
                status=WARN,
                summary='%s has model_type %r, which transformers %s does not know%s: loading it fails ("does not '
                'recognize this architecture")'
                % (
                    where,
                    config.value,
                    dist.version,
                    " (transformers %s saved it)" % config.saved_by if config.saved_by else "",
                ),  # fmt: skip
                expected="model_type %r in transformers %s" % (config.value, dist.version),
                actual="unknown",
                hint="upgrade transformers to a release that has it: `python -m pip install -U%s`" % newer,
                data={"fact": "%s: model_type %s; transformers %s" % (where, config.value, dist.version)},
            )
        unknown_types = [t for t in config.value.split(",") if t and t not in table] if library == "datasets" else []
        if unknown_types:
            return Result(
                name="project",
                status=WARN,
                summary="%s was saved by a newer datasets than datasets %s: its features use %s, a feature type this "
                'release does not know, so loading it fails ("Feature type %r not found")'
                % (where, dist.version, ", ".join(unknown_types), unknown_types[0]),
                expected="feature types of datasets %s" % dist.version,
                actual=", ".join(unknown_types),
                hint="upgrade datasets to the release that saved it (datasets reads what older releases saved, not "
                "what newer ones did): `python -m pip install -U datasets`",
                data={"fact": "%s: feature types %s; datasets %s" % (where, config.value, dist.version)},
            )
        config_cls = table.get(config.value) if library == "peft" else None
        keys = tuple(k for k in config.keys if k.isidentifier())
        call = project_facts.Call(dotted=library, positional=0, arguments=(), keywords=keys, file=config.path, line=1)
        refusal = api.call_refusal(config_cls, call) if config_cls is not None else None
        if refusal is None or not refusal.reason.startswith("has no parameter"):
            continue
        unknown = refusal.reason[len("has no parameter ") :]
        return Result(
            name="project",
            status=WARN,
            summary="%s was saved by a newer PEFT than peft %s: %s %s, so loading the adapter fails (TypeError: "
            "unexpected keyword argument)" % (where, dist.version, config_cls.__name__, refusal.reason),
            expected="the keys of peft %s's %s" % (dist.version, config_cls.__name__),
            actual=unknown,
            hint="upgrade PEFT to the release that wrote it: `python -m pip install -U peft`; or remove %s from %s"
            % (unknown, where),
            data={
                "fact": "%s: %s; peft %s %s%s" % (where, unknown, dist.version, config_cls.__name__, refusal.signature)
            },  # fmt: skip
        )
    return None


GUARDED_FILES = 2000  # loaded modules of the project's imported packages read for guarded imports and calls
LIBRARY_READ_BUDGET = 3.0  # seconds of reading the imported packages' modules for calls, and again for guarded imports


def _loaded_files(imports, limit=GUARDED_FILES):
    """(module name, file) of the loaded pure-Python modules of the packages the project's `imports`
    (project_facts.Import, imported) name, those the imports reached first: each imported module, and the module that
    defines each name imported from it (`from transformers import Trainer`: transformers/trainer.py); then the rest
    those packages loaded (transformers loads about 300 for Trainer; 2 s to read their calls on this machine's kind,
    so callers bound the reading by time), at most `limit`."""
    found = {}
    for item in imports:
        module = sys.modules.get(item.module)
        if module is None:
            continue
        named = [sys.modules.get(getattr(getattr(module, n, None), "__module__", None) or "") for n in item.names]
        for each in [module] + named:
            path = getattr(each, "__file__", None)
            if isinstance(path, str) and path.endswith(".py") and each.__name__.split(".")[0] == item.top:
                found.setdefault(each.__name__, path)
    tops = {i.top for i in imports}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name.split(".")[0] in tops and isinstance(path, str) and path.endswith(".py"):
            found.setdefault(name, path)
    return list(found.items())[:limit]


def _library_call_refused(imports, deadline):
    """A WARN (FAIL at import) for the first call, in the modules the project's `imports` reached (_loaded_files), of
    another imported
    package's function or class that the installed provider's signature refuses (api.call_refusal): two releases
    that do not fit (transformers 4.37.2's Trainer calls `Accelerator(dispatch_batches=...)`, which accelerate 1.0
    removed; huggingface/transformers#34714). A keyword the provider's module still names as a string was removed
    (the caller was written for an older provider), else the provider predates it. Only providers already imported
    are judged; None at `deadline` (time.monotonic())."""
    from checks.diagnosis.installed import stated_floor_fix
    from checks.machine import distributions

    for name, path in _loaded_files(imports):
        if time.monotonic() > deadline:
            return None
        own = name.split(".")[0]
        for call in project_facts.calls_in(path):
            top = call.dotted.split(".")[0]
            if call.member or top in (own, "torch") or project_facts.is_stdlib(top) or sys.modules.get(top) is None:
                continue  # a method of a made object is judged in the project's own code only (_member_lacking)
            target = api.resolve(sys.modules[top], call.dotted)
            if target is None:
                lacking = _compiled_lacks(sys.modules[top], call, path)
                if lacking is not None:
                    return lacking
                continue
            refusal = api.call_refusal(target, call)
            provider = distributions.find(top) if refusal is not None else None
            caller = distributions.owner(path) if provider is not None else None
            if caller is None or distributions.canonical(caller.name) == distributions.canonical(provider.name):
                continue
            where = "%s:%d" % (os.path.relpath(path, caller.entry), call.line)
            callee = call.dotted.rpartition(".")[2]
            removed = any(_names_keyword(target, k) for k in call.keywords if repr(k) in refusal.reason)
            if removed:
                hint = (
                    'install the %s release %s %s was written for (`python -m pip install "%s<%s"`), or upgrade %s '
                    "to a release written for %s %s (`python -m pip install -U %s`)"
                    % (
                        provider.name,
                        caller.name,
                        caller.version,
                        provider.name,
                        provider.version,
                        caller.name,
                        provider.name,
                        provider.version,
                        caller.name,
                    )  # fmt: skip
                )
            else:
                hint = "upgrade %s to a release that has it (`python -m pip install -U %s`), or install the %s " \
                    "release written for %s %s" % (provider.name, provider.name, caller.name, provider.name,
                                                   provider.version)  # fmt: skip
                stated = stated_floor_fix(caller, provider, path)
                if stated is not None:  # the caller's own text says which release it needs
                    hint = stated + "; or " + hint.split(", or ", 1)[1]
            return Result(
                name="project",
                status=WARN if call.deferred else FAIL,
                summary="%s %s's %s calls %s, which %s %s refuses: %s %s (TypeError when it runs): the two releases do "
                "not fit together%s"
                % (
                    caller.name,
                    caller.version,
                    where,
                    call.dotted,
                    provider.name,
                    provider.version,
                    callee,
                    refusal.reason,
                    "; %s %s still names it, so it was removed" % (provider.name, provider.version) if removed else "",
                ),  # fmt: skip
                expected="a call %s%s takes" % (callee, refusal.signature),
                actual=refusal.reason,
                hint=hint,
                data={
                    "fact": "%s %s: %s%s; called by %s %s (%s)"
                    % (
                        provider.name,
                        provider.version,
                        call.dotted,
                        refusal.signature,
                        caller.name,
                        caller.version,
                        where,
                    )
                },  # fmt: skip
            )
    return None


# Programs that decode the audio and video files they are given, and the package that installs each (the OS's,
# conda-forge's and pixi's, Homebrew's): a library that runs one fails with FileNotFoundError when it is not on PATH
MEDIA_PROGRAMS = {
    "ffmpeg": "ffmpeg",
    "ffprobe": "ffmpeg",
    "avconv": "ffmpeg",
    "sox": "sox",
}


def _media_program_missing(imports, found):
    """A WARN when a module the project's `imports` reached (_loaded_files) runs a media program (MEDIA_PROGRAMS, as
    a command-line list: project_facts.commands_run) that is not on PATH, while the folder holds or names an audio or
    video file (project_facts.media_named): transformers' ASR pipeline runs `ffmpeg` on the file names it is given
    (huggingface/transformers#16563), openai-whisper's load_audio runs it on every file."""
    absent = [p for p in MEDIA_PROGRAMS if shutil.which(p) is None]
    media = project_facts.media_named(found.root, found.files) if absent else None
    if media is None:
        return None
    from checks.machine import distributions

    for program, path, line in project_facts.commands_run([p for _, p in _loaded_files(imports)]):
        if program not in absent:
            continue
        owner = distributions.owner(path)
        who = "%s %s" % (owner.name, owner.version) if owner is not None else os.path.dirname(path)
        where = "%s:%d" % (os.path.relpath(path, owner.entry) if owner is not None else path, line)
        package = MEDIA_PROGRAMS[program]
        return Result(
            name="project",
            status=WARN,
            summary="%s runs the %s program to decode audio and video (%s), and this folder works on media (%s), "
            "but %s is not installed: no %s on PATH (FileNotFoundError when it runs)"
            % (who, program, where, media[0] if media[0].endswith(media[1]) else "%s: %r" % media, program, program),
            expected="%s on PATH" % program,
            actual="not on PATH",
            hint="install the %s program: `sudo apt install %s` (Debian, Ubuntu), `conda install -c conda-forge %s` "
            "or `pixi add %s` (into this environment), `brew install %s` (macOS); or give the library decoded samples "
            "(an array at the model's sampling rate) instead of file names" % ((program,) + (package,) * 4),
            data={"fact": "%s: not on PATH; run by %s (%s)" % (program, who, where)},
        )
    return None


INSTALL_LINE = re.compile(r"(?:pip|conda|mamba|uv pip) install [^\n`]{1,300}")


def _documented_install(dist, module, torch_version):
    """The install command `dist`'s own description (its METADATA body: the README on PyPI) gives for `module`: the
    line naming it, preferring one that names this torch's release (`-f https://data.pyg.org/whl/torch-2.0.0+...`),
    its `${CUDA}` made this build's tag (`cu117`, `cpu`: PyG's README says to replace it so), else None."""
    try:
        with open(os.path.join(dist.info, "METADATA"), encoding="utf-8", errors="replace") as handle:
            text = handle.read(MAX_SOURCE)
    except OSError:
        return None
    name = re.compile(r"(?<![\w-])%s(?![\w-])" % re.escape(module).replace("_", "[-_]"), re.I)
    lines = [m.group(0).strip() for m in INSTALL_LINE.finditer(text) if name.search(m.group(0))]
    release = "torch-%s" % ".".join(torch_version.split("+")[0].split(".")[:2])
    preferred = [line for line in lines if release in line] or lines
    if not preferred:
        return None
    local = torch_version.partition("+")[2]  # the build's tag (cu117, cpu): what PyG's ${CUDA} stands for
    return preferred[0].replace("${CUDA}", local) if local else preferred[0]


# The `lightning` package (2.0 on) carries Lightning's code a second time under its own names: lightning.pytorch is
# pytorch_lightning's code, lightning.fabric lightning_fabric's (its own `lightning/pytorch/__init__.py` imports only
# from lightning.*). The two copies' classes are distinct, so a Trainer of one rejects a strategy, callback, plugin
# or logger built on the other: ray 2.7's ray.train.lightning imports pytorch_lightning, and its RayDDPStrategy given
# to lightning.pytorch's Trainer fails with "You selected an invalid strategy name: ... It must be either a string or
# an instance of `lightning.pytorch.strategies.Strategy`" (ray-project/ray#39715, fixed in ray 2.8).
LIGHTNING_COPIES = (("lightning.pytorch", "pytorch_lightning"), ("lightning.fabric", "lightning_fabric"))
LIGHTNING_TOPS = {"lightning", "pytorch_lightning", "lightning_fabric", "lightning_utilities", "torchmetrics"}
MIXED_READ_FILES = 400  # a library's loaded modules read for an import of the other copy, at most


def _copy_of(item):
    """The copy of Lightning (a LIGHTNING_COPIES name) an Import of the project reaches, or None: `lightning` itself
    and its `Trainer`/`LightningModule` are lightning.pytorch's, its `Fabric` lightning.fabric's."""
    for unified, standalone in LIGHTNING_COPIES:
        if item.module == standalone or item.module.startswith(standalone + "."):
            return standalone
        if item.module == unified or item.module.startswith(unified + "."):
            return unified
    if item.module == "lightning":
        return (
            "lightning.fabric"
            if item.names and all(n.startswith("Fabric") for n in item.names)
            else "lightning.pytorch"
        )
    return None


def _lightning_copies_mixed(imports, done, deadline):
    """A WARN when the project imports one copy of Lightning (LIGHTNING_COPIES) and a library it imports, or its own
    code elsewhere, imports the other one, both loaded by the project line's imports: objects of one are rejected
    by the other. The library's loaded modules are read for an import of the other copy (MIXED_READ_FILES at most,
    until `deadline`, time.monotonic()). None otherwise."""
    from checks.machine import distributions

    for unified, standalone in LIGHTNING_COPIES:
        if unified not in sys.modules or standalone not in sys.modules:
            continue
        mine = {}
        for item in imports:
            mine.setdefault(_copy_of(item), item)
        if (unified in mine) == (standalone in mine):
            if unified in mine:  # the project's own code imports both copies
                first, second = sorted((mine[unified], mine[standalone]), key=lambda i: (i.file, i.line))
                return _mixed_result(first, second.module, second.where(), "its own code", None)
            continue
        ours = mine.get(unified) or mine.get(standalone)
        other = standalone if unified in mine else unified
        pattern = re.compile(r"(?m)^[ \t]*(?:import|from)[ \t]+%s\b" % re.escape(other).replace("\\.", r"\."))
        tops = {m.split(".")[0] for m in done} - LIGHTNING_TOPS
        read = 0
        loaded = [n for n in list(sys.modules) if n.split(".")[0] in tops]
        near = {n for n in loaded if any(n == d or n.startswith(d + ".") for d in done)}  # ray.train.lightning.*
        for name in sorted(loaded, key=lambda n: n not in near):
            path = getattr(sys.modules.get(name), "__file__", None)
            if not path or not path.endswith(".py"):
                continue
            read += 1
            if read > MIXED_READ_FILES or time.monotonic() > deadline:
                return None
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read(project_facts.MAX_SOURCE_BYTES)
            except OSError:
                continue
            found = pattern.search(text)
            if found is None:
                continue
            line = text.count("\n", 0, found.start()) + 1
            owner = distributions.owner(path)
            where = "%s:%d" % (
                os.path.relpath(path, os.path.dirname(sys.modules[name.split(".")[0]].__file__ or path)),
                line,
            )
            imported = max((d for d in done if name == d or name.startswith(d + ".")), key=len, default=name)
            return _mixed_result(ours, other, "%s/%s" % (name.split(".")[0], where), imported, owner)
    return None


def _mixed_result(ours, other, where, who, owner):
    """The project line's WARN for two copies of Lightning in one program (_lightning_copies_mixed)."""
    mine = _copy_of(ours)
    package = "%s %s" % (owner.name, owner.version) if owner is not None else None
    upgrade = (
        ", or upgrade %s to a release whose %s imports %s (`python -m pip install -U %s`)"
        % (owner.name, who, mine, owner.name)
        if owner is not None
        else ""
    )
    return Result(
        name="project",
        status=WARN,
        summary="%s imports %s, while %s (%s%s) imports %s: they are two copies of Lightning whose classes do not mix, "
        'so a Trainer or Fabric of one rejects a strategy, callback, plugin or logger built on the other ("It must be '
        'either a string or an instance of `%s.strategies.Strategy`")'
        % (ours.where(), ours.module, who, where, ", " + package if package else "", other, mine),
        expected="one copy of Lightning: %s or %s" % (mine, other),
        actual="both: %s (%s) and %s (%s)" % (mine, ours.where(), other, where),
        hint="import the copy %s uses: `%s` in place of `%s` (%s)%s"
        % (who, _import_line(ours, other), _import_line(ours, mine), ours.where(), upgrade),
        data={"fact": "%s at %s; %s at %s" % (mine, ours.where(), other, where)},
    )


def _import_line(item, module):
    """`import X as pl`-style text for the project's import `item`, written for `module`."""
    alias = "pl" if "pytorch" in module else "L"
    if item.names:
        return "from %s import %s" % (module, ", ".join(item.names))
    return "import %s as %s" % (module, alias)


def _optional_dependency_missing(calls, torch_version, deadline):
    """A FAIL (WARN for a call inside a function) when the project calls a function of an installed package whose
    body uses a module that package imports optionally, binding it to None where the import fails
    (project_facts.optional_imports), and that module is not installed: the call raises "'NoneType' object has no
    attribute ..." (PyG 2.3.1's knn_graph without torch-cluster, pyg-team/pytorch_geometric#7783). The fix installs
    the module, with the command the package's own description gives where it gives one. None at `deadline`
    (time.monotonic())."""
    from checks.machine import distributions

    read = {}  # each module file parsed once
    for call in calls:
        top = call.dotted.split(".")[0]
        if call.member or sys.modules.get(top) is None:
            continue
        if time.monotonic() > deadline:
            return None
        target = api.resolve(sys.modules[top], call.dotted)
        function = getattr(target, "__init__", None) if inspect.isclass(target) else target
        code = getattr(function, "__code__", None)
        source = getattr(code, "co_filename", None)
        if code is None or not source or not os.path.isfile(source):
            continue
        if source not in read:
            read[source] = project_facts.optional_imports(source)
        optional = read[source]
        for name in code.co_names:
            if name not in optional or function.__globals__.get(name, 0) is not None:
                continue
            module, line = optional[name]
            if _module_findable(module.split(".")[0]):
                continue
            dist = distributions.owner(source)
            who = "%s %s" % (dist.name, dist.version) if dist else top
            where = "%s:%d" % (os.path.relpath(source, dist.entry) if dist else source, line)
            command = (_documented_install(dist, module, torch_version) if dist else None) or (
                "python -m pip install %s" % module.replace("_", "-")
            )
            return Result(
                name="project",
                status=WARN if call.deferred else FAIL,
                summary="%s calls %s, which uses %s, an optional dependency of %s that is not installed: %s sets %s "
                "to None when its import fails, so the call raises AttributeError: 'NoneType' object has no "
                "attribute ..." % (call.where(), call.dotted, module, who, where, name),
                expected="%s installed" % module,
                actual="No module named %r" % module,
                hint="install %s into this environment: `%s`" % (module, command),
                data={"fact": "%s not installed; %s binds %s = None; %s uses it" % (module, where, name, call.dotted)},
            )
    return None


def _compiled_lacks(module, call, path):
    """A WARN (FAIL at import) when `call` (in the installed module at `path`) names an attribute that a compiled
    module of another installed package does not have: a plain module built from a shared library (its source is
    not there to read; no module-level __getattr__ that could make the name), so the call raises AttributeError
    (kornia 0.7.1's kornia/io/io.py calls kornia_rs.read_image_rs, gone in kornia_rs 0.1; kornia/kornia-rs#43).
    A caller that writes the name as a string (a hasattr probe) is not judged. The fix names the provider's release
    the caller's own metadata pins in any extra, when the installed one does not meet it."""
    from checks.machine import distributions
    from checks.workspace import versions

    missing = api.missing_name(module, call.dotted)
    if missing is None:
        return None
    owner_name, _, attribute = missing.rpartition(".")
    holder = sys.modules.get(owner_name)
    compiled = getattr(holder, "__file__", "") or ""
    if type(holder) is not types.ModuleType or "__getattr__" in vars(holder):
        return None
    if not compiled.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)) and not _reexports_compiled(holder):
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            if re.search(r"['\"]%s['\"]" % re.escape(attribute), handle.read(project_facts.MAX_BYTES)):
                return None
    except OSError:
        return None
    provider = distributions.find(call.dotted.split(".")[0])
    caller = distributions.owner(path)
    if (
        provider is None
        or caller is None
        or distributions.canonical(caller.name) == distributions.canonical(provider.name)
    ):
        return None
    pinned = None
    for text in caller.requires:
        if distributions.required_project(text) != distributions.canonical(provider.name):
            continue
        spec = _specifier(text)
        try:
            if spec and not versions.matches(provider.version, spec, pypi=True):
                pinned = "%s%s" % (provider.name, spec)
                break
        except versions.SpecError:
            continue
    where = "%s:%d" % (os.path.relpath(path, caller.entry), call.line)
    first = (
        'install the %s release %s %s pins in its own metadata (`python -m pip install "%s"`)'
        % (provider.name, caller.name, caller.version, pinned)
        if pinned
        else "install the %s release %s %s was written for" % (provider.name, caller.name, caller.version)
    )
    return Result(
        name="project",
        status=WARN if call.deferred else FAIL,
        summary="%s %s's %s calls %s, which %s %s does not have (AttributeError when it runs): the two releases do "
        "not fit together" % (caller.name, caller.version, where, call.dotted, provider.name, provider.version),
        expected="%s in %s %s" % (missing, provider.name, provider.version),
        actual="not defined",
        hint="%s, or upgrade %s to a release written for %s %s (`python -m pip install -U %s`)"
        % (first, caller.name, provider.name, provider.version, caller.name),
        data={
            "fact": "%s %s (%s) has no %s; called by %s %s (%s)%s"
            % (
                provider.name,
                provider.version,
                os.path.basename(compiled) or "compiled",
                attribute,
                caller.name,
                caller.version,
                where,
                "; %s pins %s" % (caller.name, pinned) if pinned else "",
            )
        },  # fmt: skip
    )


def _specifier(text):
    """The version specifier of a Requires-Dist value (PEP 508, read by `packaging` as requirements.judge_pip reads
    them: `kornia-rs ==0.0.8 ; extra == 'dev'` -> `==0.0.8`), or "" (no specifier, or packaging not installed)."""
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:
        return ""
    try:
        return str(Requirement(text).specifier)
    except InvalidRequirement:
        return ""


def _reexports_compiled(module):
    """True when a package's __init__ is a thin re-export of a compiled submodule of it (`from .kornia_rs import *`,
    maturin's layout): one of its submodules is a shared library."""
    path = getattr(module, "__file__", "") or ""
    if os.path.basename(path) != "__init__.py":  # a single-file module: its folder is site-packages
        return False
    folder = os.path.dirname(path)
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return any(n.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)) for n in names[:200])


def _names_keyword(target, keyword):
    """True when the source file that defines `target` (a function or class) writes `keyword` as a string
    (installed.writes_name, backquotes counted): a removed or deprecated argument that the module still mentions
    (accelerate 1.0's accelerator.py names `dispatch_batches` in its deprecation text)."""
    from checks.diagnosis.installed import writes_name

    try:
        path = inspect.getsourcefile(target)
    except TypeError:
        return False
    return bool(path) and writes_name(path, keyword, quotes="'\"`")


def _fallback_taken(imports, deadline):
    """A WARN for the first guarded import (project_facts.guarded_imports) in the modules the project's `imports`
    reached (_loaded_files) that names what the imported provider lacks: the package took its fallback at import and
    behaves as if the provider were not installed (timm 0.9.7 with huggingface_hub 0.9.1 says "Hugging Face hub
    model specified but package not installed"; huggingface/pytorch-image-models#1966). Only providers already
    imported are judged (one not installed is an optional dependency left out); the direction comes from
    release_lacks_name. None when there
    is none before `deadline` (time.monotonic())."""
    from checks.diagnosis.installed import release_lacks_name
    from checks.machine import distributions

    for name, path in _loaded_files(imports):
        if time.monotonic() > deadline:
            return None
        for item in project_facts.guarded_imports(path):
            provider = sys.modules.get(item.module)
            if item.top == name.split(".")[0] or provider is None:
                continue
            missing = [
                n for n in item.names if not hasattr(provider, n) and not _module_findable(item.module + "." + n)
            ]
            dist = distributions.find(item.top) if missing else None
            owner = distributions.owner(path) if dist is not None else None
            if owner is None:
                continue
            where = "%s:%d" % (os.path.relpath(path, owner.entry), item.line)
            source = getattr(provider, "__file__", None)
            cause = release_lacks_name(dist, item.module, missing[0], source, where, caller=owner, caller_file=path)
            return Result(
                name="project",
                status=WARN,
                summary="%s %s's %s imports %s from %s inside `try:`, and %s %s does not have it: %s takes its "
                "fallback, as if %s were not installed. %s"
                % (
                    owner.name,
                    owner.version,
                    where,
                    missing[0],
                    item.module,
                    dist.name,
                    dist.version,
                    owner.name,
                    dist.name,
                    cause.meaning,
                ),  # fmt: skip
                expected="%s.%s in %s %s" % (item.module, missing[0], dist.name, dist.version),
                actual="absent",
                hint=cause.fix,
                data={"fact": cause.fact},
            )
    return None


TEMP_VARIABLE_FILES = 600  # a package's files read for the variable naming its temporary folder


def _temp_variables(top, deadline):
    """The environment variables a package's code names for its temporary folder (`RAY_TMPDIR` in ray/_private/
    utils.py, `GRADIO_TEMP_DIR`): quoted upper-case names that start with the package's name and end in TMPDIR,
    TMP_DIR, TEMPDIR, TEMP_DIR, TMP or TEMP, read from its `.py`
    files (TEMP_VARIABLE_FILES at most, MAX_BYTES each) until `deadline` (time.monotonic())."""
    module = sys.modules.get(top)
    folder = os.path.dirname(getattr(module, "__file__", None) or "")
    if not folder:
        return []
    pattern = re.compile(
        r"""["'](%s_(?:[A-Z0-9]+_)*(?:TMPDIR|TMP_DIR|TEMPDIR|TEMP_DIR|TMP|TEMP))["']""" % re.escape(top.upper())
    )
    found = []
    for path in project_facts.package_walk(folder, TEMP_VARIABLE_FILES):
        if not path.endswith(".py") or time.monotonic() > deadline:
            continue
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                found += [n for n in pattern.findall(handle.read(project_facts.MAX_BYTES)) if n not in found]
        except OSError:
            continue
        if found:
            break
    return found


def _foreign_temp_folder(tops, deadline):
    """A WARN for the first folder of the temporary-file folder named after a package the project imports (`tops`)
    that another user owns and this one cannot write to (system.foreign_temp_entries), with the package's own
    variable for its temporary folder (_temp_variables) as the fix; None when there is none."""
    from checks.machine import system

    entries = system.foreign_temp_entries(tops)
    if not entries:
        return None
    entry = entries[0]
    owner = "%s (uid %d)" % (entry.owner, entry.uid) if entry.owner else "uid %d" % entry.uid
    variables = _temp_variables(entry.package, deadline)
    ways = (
        ["`export %s=$HOME/tmp/%s` (%s reads it)" % (variables[0], entry.package, entry.package)] if variables else []
    )
    ways.append("`export TMPDIR=$HOME/tmp` for a temporary folder of your own, where %s builds its path from it"
                % entry.package)  # fmt: skip
    ways.append("ask %s to remove %s" % (owner, entry.path))
    return Result(
        name="project",
        status=WARN,
        summary="%s, named after %s, belongs to another user, %s, and this user cannot write to it: %s's runs that "
        "create files there fail with Permission denied" % (entry.path, entry.package, owner, entry.package),
        expected="%s writable by this user" % entry.path,
        actual="owned by %s" % owner,
        hint="give %s a temporary folder of your own: %s" % (entry.package, "; or ".join(ways)),
        data={"fact": "%s: owner uid %d, not writable by uid %d" % (entry.path, entry.uid, os.getuid())},
    )


def _also_missing(failed, missing):
    """`failed` (an import failure's Result) carrying, in data["also"], the modules of `missing` (Imports) that are
    not installed here, with their install command: the parent appends both to the judged cause."""
    from checks.diagnosis.installed import DISTRIBUTION_OF

    tops = list(dict.fromkeys(m.top for m in missing))
    wanted = [DISTRIBUTION_OF.get(t, t) for t in tops]
    named = [t if t == w else "%s (%s)" % (t, w) for t, w in zip(tops, wanted)]
    failed.data["also"] = {
        "summary": "also not installed here: %s (%s)" % (", ".join(named), missing[0].where()),
        "hint": "install those too: `python -m pip install %s`" % " ".join(wanted),
    }
    return failed


def _as_the_code_meets_it(item, failed):
    """`failed` (import_failure's Result) with its traceback as the project's own run shows it: the project's file
    and statement first, then the frames below checks' own (importlib's bootstrap frames dropped, as CPython
    drops them)."""
    text = failed.data.get("exception", "")
    from checks.diagnosis.model import FRAME  # the traceback frame pattern the rules read

    own = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lines, skip = text.splitlines(), False
    kept = []
    for line in lines[1:]:
        frame = FRAME.match(line.strip()) if line.startswith("  File ") else None
        if frame:
            path = frame.group(1)
            skip = path.startswith(own + os.sep) or path.startswith("<frozen importlib")
        elif not line.startswith("    "):
            skip = False
        if not skip:
            kept.append(line)
    statement = "from %s import %s" % (item.module, ", ".join(item.names)) if item.names else "import %s" % item.module
    head = ['Traceback (most recent call last):', '  File "%s", line %d, in <module>' % (item.file, item.line),
            "    " + statement]  # fmt: skip
    failed.data["exception"] = "\n".join(head + kept) + "\n"
    return failed


def check_project(ctx):
    """The working directory's code finds every module it imports, what it imports from other packages imports with
    this torch (within BUDGET seconds), and its requirements files are met."""
    if ctx.torch is None:
        return Result(name="project", status=SKIP, summary="torch did not import")
    found = project_facts.scan(ignore=OWN)
    root = found.root if found is not None else os.getcwd()
    if getattr(ctx.torch, "__file__", None):  # modules the checkout built in place, against which torch?
        from checks.diagnosis.symbols import stale_extension_cause, stale_extensions

        stale = stale_extensions(
            project_facts.compiled_here(root), os.path.dirname(ctx.torch.__file__), torch_version=ctx.torch.__version__
        )
        if stale is not None:
            cause = stale_extension_cause(
                stale[0], stale[1], ctx.torch.__version__, os.path.dirname(ctx.torch.__file__)
            )
            return Result(
                name="project",
                status=FAIL,
                summary="%s (%s)" % (cause.meaning, os.path.relpath(stale[0], root)),
                expected="%s defined by torch %s" % (stale[1], ctx.torch.__version__),
                actual="not defined",
                hint=cause.fix,
                data={"fact": cause.fact, "recognised": True},
            )
    if found is None or (not found.files and not found.requirements and not found.settings):
        return Result(
            name="project", status=SKIP, summary="no Python code or requirements file in the working directory"
        )
    checkout = _checkout_not_installed(found)
    if checkout is not None:
        return checkout
    missing, third_party = [], []
    for item in found.imports:
        if item.top in OWN:
            continue
        spec, in_stdlib = _installed(item.top)
        if spec is None:
            missing.append(item)
        elif not in_stdlib and item.top not in FOUND_ONLY:
            third_party.append(item)
    # a script inside the project's package whose import of that package fails first: what the package's other
    # files import is not reached until it is installed
    script = _package_script(found)
    inside_package = _script_inside_package(found, script)  # its launch scripts read once, for both places below
    if script is not None:
        inside = os.path.join(found.root, script.top) + os.sep
        missing = [
            m for m in missing if not m.file.startswith(inside) or (m.file == script.file and m.line < script.line)
        ]
        if not missing and inside_package.status == FAIL:
            return inside_package
    # modules this folder's setup.py compiles, not built yet: judged after what the build itself imports
    built, setup_folder = _checkout_builds(missing, root)
    unbuilt = [m for m in missing if m.module in built or m.top in built]
    missing = [m for m in missing if m not in unbuilt]
    from checks.verify.install import dependent_modules, import_failure

    if missing:
        first = missing[0]
        # an installed module that does not import is named first, with the missing ones after it: an install
        # adds a missing module, while a release that does not fit is the puzzle (and a module the same file imports
        # earlier fails first when the code runs: sounddevice's "PortAudio library not found" at listener/core.py:9,
        # before a missing whisper; n1teshy/py-listener#1)
        earlier = [i for i in third_party if i.file == first.file and i.line < first.line]
        tried = time.monotonic()
        for item in earlier + [i for i in third_party if i not in earlier]:
            if time.monotonic() - tried > BUDGET[bool(ctx.quick)]:
                break
            failed = import_failure(
                "project",
                "%s: %s does not import with torch %s" % (item.where(), item.module, ctx.torch.__version__),
                "the project's imports succeed",
                lambda item=item: _import(item),
                module=item.module,
            )
            absent = NO_MODULE.search((failed.data or {}).get("exception", "")) if failed is not None else None
            if absent and not _module_findable(absent.group(1).split(".")[0]):
                continue  # one more package not installed, inside that import: the missing verdict covers its kind
            if failed is not None:
                return _also_missing(_as_the_code_meets_it(item, failed), missing)
        if first.names:
            statement = "from %s import %s" % (first.module, ", ".join(first.names))
        else:
            statement = "import %s" % first.module
        text = 'File "%s", line %d, in <module>\n    %s\nModuleNotFoundError: No module named %r' % (
            first.file,
            first.line,
            statement,
            first.top,
        )
        more = ", ".join(sorted({m.top for m in missing[1:]} - {first.top}))
        return Result(
            name="project",
            status=FAIL,
            summary="%s imports %s, which is not installed in this Python%s"
            % (first.where(), first.top, " (nor: %s)" % more if more else ""),
            expected="import %s finds it" % first.top,
            actual="No module named %r" % first.top,
            hint="not judged yet",
            data={"exception": text},
        )
    built_on_torch = {m for _, _, modules, _ in dependent_modules() for m in modules} if third_party else set()
    start, done, untried = time.monotonic(), [], []
    ordered = sorted(third_party, key=lambda i: i.top not in built_on_torch)  # packages built on torch first
    for item in ordered:
        if time.monotonic() - start > BUDGET[bool(ctx.quick)]:
            untried.append(item.module)
            continue
        failed = import_failure(  # what the project's own first run would meet
            "project",
            "%s: %s does not import with torch %s" % (item.where(), item.module, ctx.torch.__version__),
            "the project's imports succeed",
            lambda item=item: _import(item),
            module=item.module,
        )
        if failed is not None:
            return _as_the_code_meets_it(item, failed)
        done.append(item.module)
    placeholder = _placeholders([i for i in ordered if i.module in done])
    if placeholder is not None:
        return placeholder
    if unbuilt:
        first = unbuilt[0]
        kind = built.get(first.module) or built.get(first.top)
        return Result(
            name="project",
            status=FAIL,
            summary="%s imports %s, a compiled module %s builds (%s) that is not built here"
            % (first.where(), first.top, _setup_named(setup_folder, root), kind),
            expected="%s built" % first.top,
            actual="No module named %r" % first.top,
            hint="build it in %s: `python -m pip install -v --no-build-isolation .` (against the installed torch), or "
            "`python setup.py build_ext --inplace` to use the folder in place" % setup_folder,
            data={"fact": "setup.py declares %s(%r); no such module importable" % (kind, first.top)},
        )
    version = ctx.torch.__version__.split("+")[0]
    tops = list(dict.fromkeys(m.split(".")[0] for m in done))
    folders = [(t, getattr(sys.modules.get(t), "__file__", None)) for t in tops]
    packages = [(t, _release(t), os.path.dirname(f)) for t, f in folders if f and f.endswith("__init__.py")]
    gate = api.gate_result("project", packages, version, found.settings, status=FAIL)
    if gate is not None:
        return gate
    gap = next(filter(None, (api.torch_gap(ctx.torch, use, version) for use in found.torch_uses)), None)
    if gap is None and found.local_imports:  # the project's own packages its scripts import, every file of them
        tops = list(dict.fromkeys(i.top for i in found.local_imports))
        gap = api.local_gap(ctx.torch, version, found.root, tops, start + BUDGET[bool(ctx.quick)])
    if gap is None and done:
        tops = set(m.split(".")[0] for m in done)
        packages = [(p, v, [m for m in ms if m in tops]) for p, v, ms, _ in dependent_modules() if tops & set(ms)]
        loaded = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
        gap = api.package_gap(ctx.torch, version, packages, start + BUDGET[bool(ctx.quick)], loaded)
    if gap is not None:
        return api.gap_result("project", gap, version, found.root)
    shadowed = _local_folder_shadows(found.package_calls, found.root)
    if shadowed is not None:
        return shadowed
    other = _another_project(project_facts.vcs_sources(found.files, found.requirements))
    if other is not None:
        return other
    lacking = _package_name_lacking(found.package_uses, done)
    if lacking is not None:
        return lacking
    optional = _optional_dependency_missing(found.package_calls, ctx.torch.__version__, start + BUDGET[bool(ctx.quick)])
    if optional is not None:
        return optional
    refused = _call_refused(found.package_calls, done, found.requirements, start + BUDGET[bool(ctx.quick)])
    if refused is not None:
        return refused
    mixed = _lightning_copies_mixed(found.imports, done, time.monotonic() + LIBRARY_READ_BUDGET)
    if mixed is not None:
        return mixed
    reached = [i for i in ordered if i.module in done]
    configs = project_facts.model_configs(found.root)
    refused_config = _model_config_refused(configs, found.root) or _processor_needs(
        configs, found.root, ctx.torch.__version__
    )
    if refused_config is not None:
        return refused_config
    fallback = _fallback_taken(reached, time.monotonic() + LIBRARY_READ_BUDGET)
    if fallback is not None:
        return fallback
    foreign = _foreign_temp_folder([m.split(".")[0] for m in done], start + BUDGET[bool(ctx.quick)] + 2.0)
    if foreign is not None:
        return foreign
    hub = (
        _hub_dependency_missing(ctx.torch, found.hub_repos)
        or _hub_entry_lacking(ctx.torch, found.hub_entries)
        or _hub_names_shadowed(ctx.torch, found.hub_repos, found)
    )
    if hub is not None:
        return hub
    shadow = _shadowed_package(found.root)
    if shadow is not None:
        return shadow
    hidden = _devices_hidden(ctx, found.settings)
    if hidden is not None:
        return hidden
    rejected = _settings_rejected(ctx.torch, found.settings) or _set_after_load(found.settings)
    if rejected is not None:
        return rejected
    saved = project_facts.checkpoints(found.root)  # the checkpoint files in the folder, listed once
    pointers = project_facts.lfs_pointers(found.root)  # read once for both rules that name them
    refusal = (
        _lfs_pointers(found.root, pointers),
        _unloadable_checkpoints(found.root, saved, pointers),
        _checkpoint_dtypes(ctx.torch, found.root, saved),
        _weights_only_refusal(ctx.torch, found.torch_uses, found.root, saved),
        _pickle_modules_missing(found.root, saved, ctx.torch),
        _hub_unreachable(found),
        inside_package,  # only for a run of that script: after what every run meets
    )
    if any(refusal):
        return _with_the_rest(refusal)
    builds = _jit_build_tools(found.jit_builds) or _unbuilt_checkout(found.root)
    if builds is not None:
        return builds
    # calls inside the packages may lie on paths this project never takes (transformers 4.38.2's modeling_utils.py
    # calls offload_weight with one argument too many on a CPU-offload path): after what the project itself meets
    program = _media_program_missing(reached, found)
    if program is not None:
        return program
    refused = _library_call_refused(reached, time.monotonic() + LIBRARY_READ_BUDGET)
    if refused is not None:
        return refused
    below = _unmet_below(dict.fromkeys(m.split(".")[0] for m in done))
    if below is not None:
        return below
    unmet = _unmet_requirements(found.requirements)
    if unmet:
        item, why = unmet[0]
        no_wheel = _no_wheel_for_this_python(item.text)
        return Result(
            name="project",
            status=WARN,
            summary="%s:%d asks for %s; %s%s" % (os.path.basename(item.file), item.line, item.text, why, no_wheel[0]),
            expected=item.text,
            actual=why,
            hint=no_wheel[1] or 'python -m pip install "%s"' % item.text,
            data={"fact": "%s: %s%s" % (item.text, why, no_wheel[0])},
        )
    others = len({i.top for i in third_party})
    summary = "%d files: %s" % (
        len(found.files),
        "the %d modules they import are installed" % others
        if others
        else "they import nothing beyond torch, torchvision, torchaudio, the standard library and their own modules",
    )
    if done:
        summary += " and import with this torch: %s" % ", ".join(dict.fromkeys(done))
    launched = _launch_note(found.torch_uses)
    if launched:
        summary += "; " + launched
    if untried:
        summary += "; not tried (time limit): %s" % ", ".join(untried)
    return Result(name="project", status=PASS, summary=summary)
