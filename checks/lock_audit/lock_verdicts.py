"""lock-audit's verdicts on the lock: one per environment x platform of the manifest, and the lock's leftovers.

Lock platforms are matched to manifest platforms as pixi matches them (by subdir and virtual packages: rich
platforms are written as `p1`, `p2`, ...), and every finding is reported under the manifest's platform name.
"""

import re

from checks import compat
from checks.report import FAIL, PASS, WARN, Result
from checks.workspace import channels, promise, versions

TORCH_PACKAGES = ("pytorch", "torchvision", "torchaudio")
NVIDIA_WHEEL = re.compile(r"^nvidia-[a-z-]+-cu(\d+)$")


def flavour(package):
    """Return (flavour, CUDA version or None) of a torch build: "cuda", "cpu", "rocm", or None if unknown.

    conda, pytorch channel: `py3.10_cuda11.8_cudnn8.7.0_0`, `py3.8_cuda10.1.243_cudnn7.6.3_0`, `py3.10_cpu_0`,
    `py310_cu118`; conda-forge: `cuda128_mkl_py312_h..`, `cuda112py39h.._304` (1.x era), `cpu_mkl_py312_h..`; a
    pytorch build naming neither (osx) is a CPU build. PyPI: see pypi_flavour.
    """
    if package.kind == "pypi":
        return pypi_flavour(package)
    match = (
        re.search(r"(?:^|_)cuda(\d+\.\d+)(?:\.\d+)?(?=_|py|$)", package.build)
        or re.search(r"(?:^|_)cuda(\d{3})(?=_|py|$)", package.build)
        or re.search(r"_cu(\d{3})$", package.build)
    )
    if not match:
        says_cpu = package.name == "pytorch" or re.search(r"(?:^|_)cpu(?:_|$)", package.build)
        return ("cpu" if says_cpu else None), None
    digits = match.group(1)
    return "cuda", digits if "." in digits else "%s.%s" % (digits[:-1], digits[-1])


def _requirement_name(dep):
    return re.split(r"[\s;<>=!~\[]", dep.strip(), maxsplit=1)[0].lower()


def pypi_flavour(package):
    """Return (flavour, CUDA) of a PyPI torch, torchvision or torchaudio record.

    In order: the local version (`2.5.1+cu124`, `+cpu`, `+rocm6.2`); the PyTorch wheel index it was locked from
    (`download.pytorch.org/whl/cu124/...`); a macOS or Windows wheel is a CPU build; PyPI's own Linux torch wheel
    is a CUDA build exactly when it requires `nvidia-*-cuXX` wheels (their markers name Linux, so only a Linux wheel
    is judged by them). A PyPI torchvision or torchaudio without such hints follows its torch: unknown (None).
    """
    tagged = channels.tag_flavour(package.version.partition("+")[2])
    if tagged[0]:
        return tagged
    indexed, cuda = promise.index_flavour(package.url)
    if indexed:
        return indexed, cuda
    filename = package.url.split("#")[0].rsplit("/", 1)[-1]
    platform_tag = filename[:-4].rsplit("-", 1)[-1] if filename.endswith(".whl") else ""
    if platform_tag.startswith(("macosx", "win")):
        return "cpu", None
    if package.name.lower() != "torch" or (platform_tag and "linux" not in platform_tag):
        return None, None
    nvidia = [d for d in package.depends if NVIDIA_WHEEL.match(_requirement_name(d))]
    runtime = next((d for d in nvidia if "cuda-runtime" in _requirement_name(d)), None)
    if runtime:
        pin = re.search(r"==\s*(\d+)\.(\d+)", runtime)
        return "cuda", "%s.%s" % pin.groups() if pin else None
    return ("cuda", None) if nvidia else ("cpu", None)


def paired(torch_version, name, version):
    """Return None if torchvision/torchaudio `version` has the minor release that pairs with torch, else that
    minor as a spec: compat.paired_versions' table (the one verify uses), else, for a torch newer than the table,
    minor+15 / the same minor."""
    table = compat.paired_versions(torch_version)
    if table:
        want = versions.minor(versions.floor(table[0 if name == "torchvision" else 1]))
    else:
        major, minor = versions.minor(torch_version)
        want = (0, minor + 15) if name == "torchvision" else (major, minor)  # 2.0 -> 0.15 / 2.0; 2.5 -> 0.20 / 2.5
    return None if versions.minor(version) == want else "%d.%d.*" % want


def _pairing(torch, name, pkg):
    """Return a problem triple if `pkg` does not pair with the locked torch, else None.

    The package's own pins come first (`pytorch 2.0.1`, `pytorch >=2.10,<2.11`, PyPI's `torch==2.5.1`): they
    decide; only a record without any falls back to the pairing table (paired).
    """
    pin = pkg.depends_on("pytorch") if pkg.kind == "conda" else None
    pin = pin if pin is not None else pkg.depends_on("torch")
    if pin:
        release = re.sub(r"\+[\w.]+", "", pin)  # `torch==2.4.1+cu124`: the flavour is judged on its own
        if _satisfies(torch.version, release, torch.kind == "pypi") is False:
            return (name, "pytorch %s (its own pin)" % pin, "pytorch %s" % torch.version)
        return None
    should = paired(torch.version, name, pkg.version)
    if should:
        return (name, "%s %s for torch %s" % (name, should, torch.version), pkg.label())
    return None


def _specs_problems(ws, env, platform, locked):
    """Return problems where a locked record breaks a manifest dependency or constraint of the platform."""
    problems, on = [], ws.environment_on(env, platform)
    for kind in ("dependencies", "constraints", "pypi-dependencies"):
        for name, specs in sorted(on.specs(kind).items()):
            pkg = locked.pypi.get(name) if kind == "pypi-dependencies" else locked.conda.get(name)
            if pkg is None:
                if kind == "dependencies" and not _is_source(specs):
                    problems.append(
                        (name, "%s %s locked" % (name, specs[0]["version"]), "not in the lock (stale lock)")
                    )
                continue
            for spec in specs:
                kept = _satisfies(pkg.version, spec["version"], kind == "pypi-dependencies")
                if kept is None:
                    problems.append(
                        (name, "%s %s (a version the spec can judge)" % (name, spec["version"]), pkg.label())
                    )
                elif not kept:
                    problems.append(
                        (name, "%s %s (feature %s)" % (name, spec["version"], spec["feature"]), pkg.label())
                    )
                if spec.get("channel") and not channels.same(pkg.channel_url, spec["channel"]):
                    problems.append((name, "%s from channel %s" % (name, spec["channel"]), pkg.label()))
    return problems


def _satisfies(version, spec, pypi=False):
    """Return whether a locked version meets a spec, or None when either does not parse (the lock's own version
    string is another team's text: an unparseable one is a finding, not a crash)."""
    try:
        return versions.matches(versions.release(version), spec, pypi=pypi)
    except versions.SpecError:
        return None


def _has_dependencies(ws, env, platform):
    """pixi writes no packages for an environment with none (its platforms then have no entry in the lock)."""
    on = ws.environment_on(env, platform)
    return bool(on.dependencies or on.pypi_dependencies)


def _is_source(specs):
    return any(s.get(k) for s in specs for k in ("path", "git", "url"))


def audit_platform(ws, env, platform, locked, lock_channels):
    """Return (problems, warnings) of one environment x platform, each a list of (what, expected, actual)."""
    problems, warnings = _specs_problems(ws, env, platform, locked), []
    torch = locked.torch()
    want = promise.promise(ws, env, platform, torch.kind if torch is not None else None)
    for name in TORCH_PACKAGES:
        pkg = locked.conda.get(name) or locked.pypi.get("torch" if name == "pytorch" else name)
        if pkg is None:
            continue
        if pkg.kind == "conda" and not any(channels.same(pkg.channel_url, c) for c in lock_channels):
            shown = ", ".join(channels.name(c) for c in lock_channels)
            problems.append((name, "a channel of the environment (%s)" % shown, pkg.label()))
        if torch is None or want.flavour is None:
            continue
        got, cuda = flavour(pkg)
        if want.flavour == "unpinned":
            if name == "pytorch":
                warnings.append((name, "a pinned flavour (%s)" % want.source, "%s: %s" % (got, pkg.label())))
        elif got is not None and got != want.flavour:
            problems.append((name, "a %s build (%s: %s)" % (want.flavour, platform.name, want.source), pkg.label()))
        elif got == "cuda" and cuda:
            verdict, expected = promise.cuda_verdict(cuda, want)
            if verdict in ("wrong", "too-new"):
                problems.append((name, expected, "CUDA %s: %s" % (cuda, pkg.label())))
            elif verdict == "newer-minor":
                warnings.append((name, expected, "CUDA %s: %s" % (cuda, pkg.label())))
        if name != "pytorch":
            problem = _pairing(torch, name, pkg)
            if problem:
                problems.append(problem)
    problems.extend(_wheels_beyond_libc(platform, locked))
    toolkit = _toolkit_mismatch(locked, torch)
    if toolkit:
        warnings.append(toolkit)
    mutex = locked.conda.get("pytorch-mutex")
    if torch is not None and mutex is not None and want.flavour in ("cuda", "cpu") and mutex.build != want.flavour:
        problems.append(("pytorch-mutex", "pytorch-mutex %s" % want.flavour, mutex.label()))
    return problems, warnings


# Conda packages that say which CUDA toolkit an environment has, most telling first.
TOOLKITS = ("cuda-version", "cudatoolkit", "cuda-nvcc", "cuda-cudart")


def _toolkit_mismatch(locked, torch):
    """Return a warning when the environment's CUDA toolkit has another major version than torch's CUDA build:
    extensions built against it (torch.utils.cpp_extension) then stop with "The detected CUDA version (%s)
    mismatches the version that was used to compile PyTorch (%s)" (CUDA_MISMATCH_MESSAGE, torch 2.0 to 2.13)."""
    if torch is None:
        return None
    built, cuda = flavour(torch)
    kit = next((locked.conda[n] for n in TOOLKITS if n in locked.conda), None)
    if built != "cuda" or not cuda or kit is None or versions.minor(kit.version)[0] == versions.minor(cuda)[0]:
        return None
    return (kit.name, "a CUDA %s.x toolkit, as torch's CUDA %s" % (versions.minor(cuda)[0], cuda), kit.label())


def _wheels_beyond_libc(platform, locked):
    """Return problems for locked PyPI wheels tagged for a newer glibc than the platform's libc (`[system-requirements]
    libc`, else pixi's default 2.28): pixi's resolver does not take them for this workspace (checks/workspace/wheels.py,
    its sources), so the lock was written for another libc and re-locking builds the package from source."""
    from checks.workspace import wheels

    libc, explicit = wheels.declared_libc(platform)
    if libc is None:
        return []
    out = []
    for name, pkg in sorted(locked.pypi.items()):
        found = wheels.beyond(name, pkg.version, wheels.platform_tags(pkg.url or ""), "pixi.lock", libc)
        if found is not None:
            out.append(
                (
                    name,
                    "a wheel for glibc %s or older (%s)"
                    % (libc, "[system-requirements] libc" if explicit else "no libc declared: pixi's default"),
                    "%s %s, a wheel tagged %s (glibc %s)" % (pkg.name, pkg.version, found.tag, found.glibc),
                )
            )
    return out


def _fix(problems):
    """The fix for a platform's problems: re-lock; for a torch build of the wrong flavour, first the manifest; for
    a wheel beyond the workspace's libc, declare the glibc it needs first."""
    needs = [re.search(r"\(glibc ([\d.]+)\)$", p[2]) for p in problems if p[1].startswith("a wheel for glibc")]
    needs = [m.group(1) for m in needs if m]
    if needs:
        need = max(needs, key=versions.key)
        return (
            "declare the glibc those wheels need: `pixi workspace system-requirements add glibc %s` "
            '([system-requirements] libc = "%s"; on machines with glibc %s or newer), then `pixi lock`'
            % (need, need, need)
        )
    if any(p[1].startswith("a ") and " build (" in p[1] for p in problems):
        return (
            "make the manifest say the flavour (pin each torch package's channel and the variant's pytorch-cuda / "
            "pytorch-gpu / cpuonly, or declare the platform's cuda), then `pixi lock`"
        )
    return "the lock does not hold what the manifest asks: run `pixi lock` and commit pixi.lock"


def summary(locked):
    """Return a one-line account of the torch stack locked on a platform."""
    torch = locked.torch()
    parts = []
    if torch is not None:
        got, cuda = flavour(torch)
        where = torch.channel if torch.kind == "conda" else "PyPI %s" % torch.channel
        parts.append("%s %s %s%s from %s" % (torch.name, torch.version, got, " " + cuda if cuda else "", where))
    for name in ("torchvision", "torchaudio", "python"):
        if locked.get(name) is not None:
            parts.append("%s %s" % (name, locked.get(name).version))
    return ", ".join(parts) or "%d packages, no torch" % len(locked)


def match_platforms(ws, lock):
    """Map each lock platform row to the manifest platforms it stands for, as pixi 0.77 does on load.

    First by identity (align_platform_names, crates/pixi_core/src/lock_file/platform_rename.rs@v0.77.0:30-180): a row
    named like a manifest platform with the same definition is that platform; otherwise the one manifest platform
    with the same subdir and customised virtual packages. Then each manifest platform still without a row reads the
    row named as its subdir when that row declares no virtual packages, or declares all of the platform's
    (resolve_lock_platform_for, crates/pixi_core/src/lock_file/satisfiability/platform.rs@v0.77.0:91-107), whatever
    the lock format: v4-v6 rows (one per subdir) and the v7 rows pixi 0.70 and 0.71 wrote (`- name: linux-64`, no
    `virtual-packages`: pixi.lock@v0.70.0:1-7) stand for every platform of their subdir.
    Returns ({row name: [Platform, ...]}, {row name: [candidate Platforms]} for rows matching none or several).
    """
    candidates = ws.used_platforms()
    by_name = {p.name: p for p in candidates}
    assigned, unmatched = {}, {}
    for name, row in lock.platforms.items():
        if name in by_name and by_name[name].same_definition(row.subdir, row.packages):
            found = [by_name[name]]
        else:
            found = [p for p in candidates if p.same_definition(row.subdir, row.packages)]
        if len(found) == 1 and found[0].name not in assigned:
            assigned[found[0].name] = name
        else:
            unmatched[name] = found
    for platform in candidates:
        row = lock.platforms.get(platform.subdir)
        if platform.name in assigned or row is None:
            continue
        if not row.strings or all(str(vp) in row.strings for vp in platform.declared):
            assigned[platform.name] = row.name
    mapping = {}
    for platform in candidates:
        if platform.name in assigned:
            mapping.setdefault(assigned[platform.name], []).append(platform)
    return mapping, {name: found for name, found in unmatched.items() if name not in mapping}


def _bare_rows(ws, lock, mapping):
    """Return [(row, [rich platform names])] of rows without virtual packages read for platforms that declare some."""
    out = []
    for name, platforms in sorted(mapping.items()):
        rich = [p.name for p in platforms if p.customised]
        if rich and not lock.platforms[name].strings:
            out.append((name, rich))
    return out


def _platform_results(lock, mapping, unmatched, used):
    for name, found in sorted(unmatched.items()):
        if name not in used:
            continue
        row = lock.platforms[name]
        what = (
            "matches no platform of the manifest"
            if not found
            else "matches %d platforms of the manifest (%s)"
            % (
                len(found),
                ", ".join(p.name for p in found),
            )
        )
        yield Result(
            name="lock-platform-" + name,
            status=FAIL,
            summary="lock platform %s %s" % (row.label(), what),
            expected="one manifest platform with subdir %s and these virtual packages" % row.subdir,
            actual=", ".join(row.strings) or "no virtual packages",
            hint="the lock is stale or was written for another manifest: run `pixi lock` and commit pixi.lock",
        )


def audit(ws, lock):
    """Yield one Result per environment x platform of the manifest, then the lock's leftovers."""
    rich = [p.name for p in ws.used_platforms() if p.customised]
    if rich and lock.version < 7:
        yield Result(
            name="lock-format",
            status=WARN,
            summary="lock format v%s has one solve per subdir: pixi reads it for every platform of that subdir, "
            "whatever the virtual packages the manifest declares (%s)" % (lock.version, ", ".join(rich)),
            expected="lock format v7 (pixi 0.68+), one solve per platform",
            actual="v%s" % lock.version,
            hint="regenerate the lock with the pixi that requires-pixi names: `pixi lock`",
        )
    mapping, unmatched = match_platforms(ws, lock)
    bare = _bare_rows(ws, lock, mapping) if lock.version >= 7 else []
    if bare:
        yield Result(
            name="lock-format",
            status=WARN,
            summary="lock platform %s declares no virtual packages (as pixi 0.70-0.71 wrote v7 locks): pixi 0.77 "
            "reads it for every platform of its subdir, whatever the virtual packages the manifest declares (%s)"
            % (", ".join(row for row, _ in bare), ", ".join(n for _, names in bare for n in names)),
            expected="one solve per platform, each row with its virtual packages (pixi 0.72+)",
            actual="one solve per subdir",
            hint="regenerate the lock with the pixi that requires-pixi names: `pixi lock`",
        )
    used = {p for body in lock.environments.values() for p in body["packages"]}
    yield from _platform_results(lock, mapping, unmatched, used)
    rows_of = {}
    for row, platforms in mapping.items():
        for platform in platforms:
            rows_of.setdefault(platform.name, []).append(row)
    known = set()
    for env in ws.environments:
        body = lock.environments.get(env)
        for platform in ws.env_platforms(env):
            name = "%s-on-%s" % (env, platform.name)
            rows = [r for r in rows_of.get(platform.name, []) if body and r in body["packages"]]
            known.update((env, r) for r in rows)
            if not rows and body is not None and not _has_dependencies(ws, env, platform):
                yield Result(
                    name=name,
                    status=PASS,
                    summary="nothing to lock: the environment has no dependencies on %s" % platform.name,
                )
                continue
            if not rows:
                yield Result(
                    name=name,
                    status=FAIL,
                    summary="missing from the lock",
                    expected="%s locked for %s" % (env, platform.label()),
                    actual="absent" if body else "no environment %s" % env,
                    hint="the lock is stale: run `pixi lock` and commit pixi.lock",
                )
                continue
            locked = body["packages"][rows[0]]
            problems, warnings = audit_platform(ws, env, platform, locked, body["channels"])
            where = "" if rows[0] == platform.name else " (lock platform %s)" % rows[0]
            if problems:
                yield Result(
                    name=name,
                    status=FAIL,
                    summary="%d problem%s: %s%s"
                    % (len(problems), "s"[: len(problems) > 1], ", ".join(p[0] for p in problems), where),
                    expected="; ".join(p[1] for p in problems),
                    actual="; ".join(p[2] for p in problems),
                    hint=_fix(problems),
                    data={"problems": [list(p) for p in problems], "lock_platform": rows[0]},
                )
            elif warnings:
                yield Result(
                    name=name,
                    status=WARN,
                    summary="%s%s; %s" % (summary(locked), where, ", ".join(w[0] for w in warnings)),
                    expected="; ".join(w[1] for w in warnings),
                    actual="; ".join(w[2] for w in warnings),
                    hint="pin the flavour in the manifest, or declare the newer CUDA on the platform",
                    data={"warnings": [list(w) for w in warnings], "lock_platform": rows[0]},
                )
            else:
                yield Result(name=name, status=PASS, summary=summary(locked) + where, data={"lock_platform": rows[0]})
    extra = sorted(
        "%s-on-%s" % (env, mapping[row][0].name if len(mapping.get(row, ())) == 1 else row)
        for env, body in lock.environments.items()
        for row in body["packages"]
        if (env, row) not in known and row not in unmatched
    )
    if extra:
        yield Result(
            name="stale-entries",
            status=FAIL,
            summary="the lock has %d environment x platform pairs the manifest no longer declares" % len(extra),
            expected="only what the manifest declares",
            actual=", ".join(extra),
            hint="run `pixi lock` and commit pixi.lock",
        )
