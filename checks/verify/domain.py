"""Verify checks of torchvision and torchaudio: installed, paired with this torch, and built for the same CUDA (or
CPU) as torch, judged from their metadata without loading their extensions; the full run then runs one op.

A library built for another flavour or CUDA fails only at its first op (`torchvision::nms does not exist`,
`Could not run 'torchvision::nms' with arguments from the 'CUDA' backend`), so --quick judges the build from:
the `+cu117` / `+cpu` tag of the package's own version.py (read as text: importing it loads the extension), else
its conda record's build string (`py310_cu117`, `cuda118_py310h...`, `cpu_py310h...`). The CUDA rule is the
libraries' own `_check_cuda_version`: torchaudio (2.0.2, 2.10.0) and torchvision 0.15.2 require the same CUDA
major.minor as torch; torchvision 0.24.1 to 0.29 only the same major.
"""

import importlib
import importlib.util
import os
import re

from checks import compat
from checks.machine import probe, provenance
from checks.machine.media import BUNDLED, audio_io, image_extension_lacks, video_notes
from checks.machine.probe import build_flavour
from checks.report import FAIL, PASS, SKIP, WARN, Result
from checks.verify import facts
from checks.verify.install import env_hint
from checks.workspace import versions

VISION_MAJOR_ONLY_SINCE = (0, 24)


def library_facts(name):
    """Return what is installed of `name` without importing it: version, build (`cu117`, `cpu` or None), cuda
    (`11.7`), the torch it requires (Requires-Dist spec or None); None when it is not installed."""
    try:
        from importlib import metadata

        version = metadata.version(name)
        requires = metadata.requires(name) or []
    except Exception:  # PackageNotFoundError; Python without importlib.metadata
        return None
    facts = {"version": version, "build": None, "cuda": None, "torch": None}
    for line in requires:
        match = re.match(r"^torch\s*\(?\s*([^;)]*)\)?\s*(;.*)?$", line)
        if match and match.group(1).strip() and not (match.group(2) or "").strip().startswith("; extra"):
            facts["torch"] = match.group(1).strip().replace(" ", "")
    local = _version_py(name) or version
    tag = local.partition("+")[2]
    record = probe.conda_record(name)
    if not tag and record:
        found = re.search(r"(?:^|_)(cu\d{3}|cuda\d{3}|cpu)(?:_|$)", record["build"] or "")
        tag = found.group(1) if found else ""
    if tag:
        digits = re.sub(r"\D", "", tag)
        facts["build"] = "cpu" if tag == "cpu" else "cuda" if digits else tag
        facts["cuda"] = "%s.%s" % (digits[:-1], digits[-1]) if digits else None
    facts["version"] = local if "+" in local else version
    return facts


def _version_py(name):
    """Return `__version__` from the package's version.py, read as text (provenance.version_py), or None."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    value = provenance.version_py(os.path.dirname(spec.origin)).get("__version__")
    return value if isinstance(value, str) else None


def _smoke(name):
    """Import a library and run one op that needs its compiled extension."""
    torch = importlib.import_module("torch")
    module = importlib.import_module(name)
    if name == "torchvision":
        boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
        kept = module.ops.nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5).tolist()
        if kept != [0, 2]:
            raise RuntimeError("torchvision.ops.nms kept %s, expected [0, 2]" % kept)
    else:
        spec = module.transforms.Spectrogram(n_fft=64)(torch.ones(1, 256))
        if tuple(spec.shape[:2]) != (1, 33):
            raise RuntimeError("torchaudio Spectrogram gave shape %s" % (tuple(spec.shape),))


def _shadowing(name):
    """True when the copy of `name` Python imports shadows the environment's own (the provenance line's verdict,
    checks/machine/provenance.py): its import failure is that copy's, and this line keeps its pairing verdict."""
    package = provenance.package(name)
    copy = package.imported
    return (
        copy is not None
        and copy.origin != provenance.ENVIRONMENT
        and any(c.origin == provenance.ENVIRONMENT for c in package.others)
    )


def _import_failure(name):
    """The exception `import name` raises in this process, or None when it imports."""
    try:
        importlib.import_module(name)
    except Exception as exc:  # any import-time failure is the library's, judged by the parent
        return exc
    return None


def build_problem(name, lib, torch):
    """Return (status, why) when the library's build does not match torch's, or None."""
    flavour = build_flavour(torch)
    if lib["build"] is None or flavour == "rocm":
        return None
    label = "%s %s" % (name, lib["version"])
    if lib["build"] != flavour:
        return FAIL, "%s is a %s build but torch %s is a %s build: its %s ops are missing" % (
            label,
            lib["build"].upper(),
            torch.__version__,
            flavour.upper(),
            "CUDA" if flavour == "cuda" else "compiled",
        )
    if flavour != "cuda" or not lib["cuda"]:
        return None
    ours, theirs = versions.minor(torch.version.cuda), versions.minor(lib["cuda"])
    if ours == theirs:
        return None
    major_only = name == "torchvision" and versions.minor(lib["version"]) >= VISION_MAJOR_ONLY_SINCE
    why = "%s is built for CUDA %s, torch %s for CUDA %s" % (label, lib["cuda"], torch.__version__, torch.version.cuda)
    if ours[0] == theirs[0] and major_only:
        return WARN, why + " (accepted: torchvision 0.24+ checks the major version only)"
    return FAIL, why + " (it refuses to load: `Detected that PyTorch and %s were compiled with different CUDA " % (
        "torchvision" if name == "torchvision" else "TorchAudio"
    ) + "versions`)"


def pairing_problem(name, lib, torch):
    """Return (status, why, wanted) when the library does not pair with this torch, or None."""
    actual_torch = versions.release(torch.__version__)
    if lib["torch"]:  # the library's own pin first
        if not versions.matches(actual_torch, lib["torch"]):
            return FAIL, "%s %s requires torch %s, not %s" % (name, lib["version"], lib["torch"], actual_torch), None
        return None
    paired = compat.paired_versions(actual_torch)
    if paired is None:
        return (
            WARN,
            "torch %s is newer than the pairing table (it ends at %d.%d)" % ((actual_torch,) + compat.NEWEST_TORCH),
            None,
        )
    wanted = paired[0 if name == "torchvision" else 1]
    base = versions.release(lib["version"])
    if versions.matches(base, wanted):
        return None
    if versions.minor(base) == versions.minor(wanted.rstrip(".*")):
        return WARN, "patch release differs from the pairing", wanted
    return FAIL, "%s %s does not pair with torch %s" % (name, lib["version"], torch.__version__), wanted


def fix_for(ctx, name, wanted):
    """Return the fix: the environment's reinstall under pixi, else pip with torch's own build tag and index."""
    if ctx.expect is not None:
        return env_hint(ctx)
    local = ctx.torch.__version__.partition("+")[2]
    version = (wanted or compat.paired_versions(versions.release(ctx.torch.__version__)) or ("", ""))[
        0 if name == "torchvision" else 1
    ]
    pin = "%s==%s%s" % (name, version, "+" + local if local and "*" not in version else "") if version else name
    index = " --index-url https://download.pytorch.org/whl/%s" % local if local else ""
    return "pip install --force-reinstall --no-deps %s%s (the build that matches torch %s)" % (
        pin,
        index,
        ctx.torch.__version__,
    )


def _imported_by_project(name):
    """The first import of `name` (torchvision, torchaudio) in the code of the working directory
    (checks/machine/project.py, read without running it), or None."""
    from checks.machine import project

    found = project.scan(ignore=tuple(n for n in ("torch", "torchvision", "torchaudio") if n != name))
    return next((i for i in (found.imports if found else ()) if i.top == name), None)


def _project_streams():
    """Where the code of the working directory uses torchaudio.io (StreamReader, StreamWriter: its FFmpeg-backed
    streaming API), as `file:line`, or None (read without running it)."""
    from checks.machine import project

    found = project.scan(ignore=facts.STREAMS)
    uses = [i.where() for i in (found.imports if found else ()) if i.module.startswith("torchaudio.io")]
    uses += [u.where() for u in (found.package_uses if found else ()) if u.dotted.startswith("torchaudio.io")]
    return uses[0] if uses else None


def check_domain(ctx, name):
    """torchvision / torchaudio: installed, paired with this torch, the same build (CPU / CUDA X.Y) as torch; the
    full run also runs one op that needs its compiled extension. Not installed is a SKIP, unless an environment
    promises it or the code in the working directory imports it (a FAIL with the paired install command)."""
    if ctx.torch is None:
        return Result(name=name, status=SKIP, summary="torch did not import")
    lib = library_facts(name)
    if lib is None:
        if ctx.expect and getattr(ctx.expect, name):
            return Result(
                name=name,
                status=FAIL,
                summary="not installed",
                expected=getattr(ctx.expect, name),
                actual="missing",
                hint=env_hint(ctx),
            )
        user = _imported_by_project(name)
        if user is not None:
            return Result(
                name=name,
                status=FAIL,
                summary="not installed, and %s imports it" % user.where(),
                expected="%s paired with torch %s" % (name, ctx.torch.__version__),
                actual="missing",
                hint=fix_for(ctx, name, None).replace("--force-reinstall --no-deps ", ""),
            )
        return Result(name=name, status=SKIP, summary="not installed (optional outside the pixi environments)")
    want = getattr(ctx.expect, name) if ctx.expect else None
    if want and not versions.matches(versions.release(lib["version"]), want):
        summary = "%s %s is not the version %s promises" % (name, lib["version"], ctx.expect.describe())
        return Result(name=name, status=FAIL, summary=summary, expected=want, actual=lib["version"], hint=env_hint(ctx))
    for problem in (build_problem(name, lib, ctx.torch), pairing_problem(name, lib, ctx.torch)):
        if problem:
            status, why, wanted = (problem + (None,))[:3]
            expected = "%s's build and a release paired with torch %s" % (name, ctx.torch.__version__)
            failed = _import_failure(name) if status == FAIL and not ctx.quick and not _shadowing(name) else None
            if failed is not None:
                # the import's own failure is what users meet; the parent judges it (its cause may be another
                # package's release), and the pairing stays on the line as the `actual`
                from checks import errors

                return Result(
                    name=name,
                    status=FAIL,
                    summary="import %s fails: %s" % (name, errors.describe(failed)),
                    expected=expected,
                    actual=why,
                    hint=fix_for(ctx, name, wanted),
                    data={"exception": errors.traceback_text(failed)},
                )
            return Result(
                name=name,
                status=status,
                summary=why,
                expected=expected,
                actual=lib["version"],
                hint=fix_for(ctx, name, wanted),
            )
    if not ctx.quick:
        try:
            _smoke(name)
        except Exception as exc:
            from checks import errors

            summary = "installed, paired and built like torch, yet an op fails: %s" % errors.describe(exc)
            hint = "reinstalling the same files will not change this; report it with `--json` (versions and builds)"
            return Result(
                name=name,
                status=FAIL,
                summary=summary,
                expected="an op runs",
                actual=lib["version"],
                hint=hint,
                data={"exception": errors.traceback_text(exc)},  # the parent judges it against its facts
            )
    build = "%s%s" % (lib["build"] or "build unknown", " " + lib["cuda"] if lib["cuda"] else "")
    spec = importlib.util.find_spec(name)
    where = os.path.dirname(spec.origin) if spec and spec.origin else None
    audio = audio_io(lib["version"], where) if where and name == "torchaudio" else None
    problem = audio.problem() if audio else None
    lacks = (
        image_extension_lacks(where, os.path.join(os.path.dirname(ctx.torch.__file__), "lib"))
        if (where and name == "torchvision" and getattr(ctx.torch, "__file__", None))
        else ()
    )
    if lacks:
        return Result(
            name=name,
            status=WARN,
            summary="%s (%s); its image extension (image.so) cannot load: the loader finds no %s, so image "
            "decoding and encoding (torchvision.io) fail" % (lib["version"], build, ", ".join(lacks)),
            expected="image.so's libraries found",
            actual="missing: %s" % ", ".join(lacks),
            hint=(
                # auditwheel's names (`libjpeg.ceea7512.so.62`): the wheel's own copies, gone from torchvision.libs
                "torchvision's own copies are missing from torchvision.libs: %s" % fix_for(ctx, name, None)
                if all(BUNDLED.search(n) for n in lacks)
                else "install what provides %s into this environment (conda/pixi: libjpeg-turbo, libpng), or use "
                "torchvision from the same source as torch" % ", ".join(lacks)
            ),
            data={"fact": "image.so needs %s: not found" % ", ".join(lacks)},
        )
    if problem:
        return Result(
            name=name,
            status=WARN,
            summary="%s (%s); %s" % (lib["version"], build, problem[0]),
            expected="an audio I/O backend for torchaudio.load / save",
            actual="present: %s" % (", ".join(audio.present) or "none"),
            hint=problem[1],
            data={"fact": "audio I/O: %s" % (", ".join(audio.present) or "none")},
        )
    notes = audio.notes() if audio else video_notes(where) if name == "torchvision" else []
    streams = _project_streams() if audio is not None and audio.streaming is False else None
    if streams is not None:  # the code uses what is not available: a WARN, not a note
        return Result(
            name=name,
            status=WARN,
            summary="%s (%s); %s uses torchaudio.io, which cannot load here: %s"
            % (lib["version"], build, streams, audio.streaming_missing()),
            expected="torchaudio.io's FFmpeg libraries",
            actual="missing: %s" % ", ".join(audio.streaming_lacks),
            hint=audio.streaming_fix(),
            data={"fact": "%s not found; used at %s" % (", ".join(audio.streaming_lacks), streams)},
        )
    return Result(
        name=name,
        status=PASS,
        summary="%s (%s%s)%s"
        % (
            lib["version"],
            build,
            "" if ctx.quick else ", extension loads",
            "; not available here: " + "; ".join(notes) if notes else "",
        ),
        expected=want,
        data={"unavailable": notes} if notes else None,
    )
