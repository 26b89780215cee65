"""The manifest audit: what pixi 0.77 would refuse in a manifest, and the PyTorch pitfalls it lets through.

It runs before any lock exists (as the first part of `lock-audit`). Each finding names the manifest line to change.
pixi's rules are those of prefix-dev/pixi at v0.77.0, cited where each check is made; the PyTorch pitfalls are
the ways a manifest that pixi accepts still cannot deliver the build it promises.
"""

from checks.report import FAIL, PASS, WARN, Result
from checks.workspace import channels, promise, versions

# Keys a task may have (crates/pixi_manifest/src/toml/task.rs@v0.77.0:126-296): with `cmd` (an execute task), and
# without it (an alias, which pixi checks against `cmd` plus its own three keys).
EXECUTE_KEYS = ("cmd", "inputs", "outputs", "depends-on", "cwd", "env", "default-environment", "description")
EXECUTE_KEYS += ("clean-env", "args", "depends_on")
ALIAS_KEYS = ("cmd", "depends-on", "description", "args", "depends_on")
CUDA_WORDS = ("cuda", "gpu")


def _where(ws, line):
    return "%s:%s" % (ws.kind, line) if line else ws.kind


def _task_tables(ws):
    """Yield (label, header needle, tasks table) for every tasks table of the manifest."""
    data = ws.data
    yield "[tasks]", "[tasks", data.get("tasks") or {}
    for selector, target in (data.get("target") or {}).items():
        yield "[target.%s.tasks]" % selector, "[target.%s" % selector, target.get("tasks") or {}
    for name, feature in (data.get("feature") or {}).items():
        yield "[feature.%s.tasks]" % name, "[feature.%s" % name, feature.get("tasks") or {}
        for selector, target in (feature.get("target") or {}).items():
            yield "[feature.%s.target.%s.tasks]" % (name, selector), "[feature.%s" % name, target.get("tasks") or {}
    for name, env in (data.get("environments") or {}).items():
        if isinstance(env, dict):
            yield "[environments.%s.tasks]" % name, "[environments", env.get("tasks") or {}


def task_problems(ws):
    """Yield (task, message, line) for task keys pixi rejects: an alias (no `cmd`) takes only `depends-on`,
    `description` and `args` (the Task::Alias branch finalises the table, toml/task.rs@v0.77.0:281-292)."""
    for label, header, tasks in _task_tables(ws):
        for name, task in tasks.items():
            if not isinstance(task, dict):
                continue
            allowed = EXECUTE_KEYS if "cmd" in task else ALIAS_KEYS
            extra = [k for k in task if k not in allowed]
            if not extra:
                continue
            expected = ", ".join("'%s'" % k for k in allowed if k != "depends_on")
            line = ws.locate(extra[0], after="%s.%s]" % (header.rstrip("]"), name)) or ws.locate(
                extra[0], after="%s = " % name
            )
            kind = "an alias (a task without `cmd`)" if "cmd" not in task else "a task"
            message = "%s %s is %s: Unexpected keys, expected only %s; '%s' was not expected here" % (
                label,
                name,
                kind,
                expected,
                "', '".join(extra),
            )
            yield name, message, line


def _channel_order(ws, env, platform, found):
    """Flag a legacy `pytorch-cuda` whose cuda-* libraries conda-forge would shadow under strict priority."""
    on = ws.environment_on(env, platform)
    specs = on.dependencies
    if "pytorch-cuda" not in specs or on.channel_priority != "strict":
        return
    order = [channels.name(c) for c in on.channels]
    if "nvidia" in order and ("conda-forge" not in order or order.index("nvidia") < order.index("conda-forge")):
        return
    cuda = promise._spec(specs, "pytorch-cuda")
    old = versions.key(versions.floor(cuda) or "12")[:1] < (12,)
    feature = next((s["feature"] for s in specs["pytorch-cuda"]), "default")
    line = ws.locate("channels", after="[feature.%s]" % feature) or ws.locate("channels")
    found.append(
        (
            "manifest-channels-%s" % env,
            FAIL if old else WARN,
            "environment %s: effective channel order %s lets conda-forge shadow nvidia (strict priority)"
            % (env, ", ".join(order)),
            "nvidia before conda-forge: pytorch-cuda %s takes cuda-* libraries from nvidia" % cuda,
            ", ".join(order),
            "%s: pixi puts the channels of each feature in order (the workspace's for a feature without any, the "
            "default feature last, an environment's inline content first) and sorts them by priority; give nvidia "
            'priority 1: channels = [{ channel = "nvidia", priority = 1 }, ...] (features_ext.rs@v0.77.0:44-62)%s'
            % (_where(ws, line), "" if old else "; CUDA 12 builds of cuda-* exist on conda-forge, but not pytorch's"),
        )
    )


def pitfalls(ws):
    """Yield Results for PyTorch pitfalls pixi does not flag, one per environment x platform and kind."""
    found, seen = [], set()
    for env in ws.environments:
        for platform in ws.env_platforms(env):
            if env not in seen:
                before = len(found)
                _channel_order(ws, env, platform, found)
                if len(found) > before:
                    seen.add(env)
            promised = promise.promise(ws, env, platform)
            on = ws.environment_on(env, platform)
            deps, pypi = on.dependencies, on.pypi_dependencies
            label = "%s-on-%s" % (env, platform.name)
            if promised.flavour == "unpinned" and promised.kind == "pypi":
                found.append(
                    (
                        "manifest-flavour-" + label,
                        WARN,
                        "%s on %s: %s, whose flavour PyPI leaves open" % (env, platform.name, promised.source),
                        "a PyTorch wheel index for torch",
                        "PyPI's default",
                        '%s: give torch its index: torch = { version = "...", index = '
                        '"https://download.pytorch.org/whl/cpu" } (or /whl/cu128) in a target for %s'
                        % (_where(ws, ws.locate("torch", after="pypi-dependencies")), platform.name),
                    )
                )
            elif promised.flavour == "unpinned":
                found.append(
                    (
                        "manifest-flavour-" + label,
                        WARN,
                        "%s on %s: %s, so the solver picks CPU or CUDA" % (env, platform.name, promised.source),
                        "cpuonly (CPU) or pytorch-cuda (CUDA) from the pytorch channel",
                        "neither",
                        '%s: add [feature.<f>.target.%s.dependencies] cpuonly = { version = "*", channel = "pytorch" } '
                        'or pytorch-cuda = { version = "11.8.*", channel = "pytorch" }'
                        % (_where(ws, ws.locate("pytorch", after="dependencies")), platform.name),
                    )
                )
            named_cuda = any(word in env.lower() for word in CUDA_WORDS) or env.lower().startswith("cu1")
            if promised.flavour == "cpu" and named_cuda and not platform.subdir.startswith("osx-"):
                found.append(
                    (
                        "manifest-flavour-" + label,
                        WARN,
                        "environment %s is named for CUDA but promises a CPU build on %s (%s)"
                        % (env, platform.name, promised.source),
                        "a CUDA promise",
                        "cpu",
                        'declare the driver on the platform ({ platform = "%s", cuda = "12" }) or depend on '
                        "pytorch-gpu" % platform.subdir,
                    )
                )
            if ("pytorch" in deps or "pytorch-gpu" in deps) and "torch" in pypi:
                found.append(
                    (
                        "manifest-two-torches-" + label,
                        WARN,
                        "%s on %s installs torch twice: conda %s and PyPI torch"
                        % (env, platform.name, promised.source),
                        "one torch",
                        "conda pytorch + PyPI torch",
                        "drop one of them; pixi installs the PyPI wheel over the conda package's files",
                    )
                )
    return [
        Result(name=name, status=status, summary=summary, expected=expected, actual=actual, hint=hint)
        for name, status, summary, expected, actual, hint in found
    ]


def unused_features(ws):
    """Yield a WARN per `[feature.<name>]` no environment lists, with pixi's own warning (a `default` in a list names
    the default feature, not one of these): crates/pixi_manifest/src/toml/manifest.rs@v0.77.0:538-551."""
    listed = {f.name for env in ws.environments.values() for f in env.features if f.kind == "named"}
    for name in ws.data.get("feature") or {}:
        if name in listed or name == "default":
            continue
        line = ws.locate("[feature.%s" % name) or ws.locate("feature.%s." % name)
        yield Result(
            name="manifest-unused-feature-%s" % name,
            status=WARN,
            summary="The feature '%s' is defined but not used in any environment. Dependencies of unused features "
            "are not resolved or checked, and use wildcard (*) version specifiers by default, disregarding any set "
            "`pinning-strategy`" % name,
            expected="every feature in an environment",
            actual="%s: [feature.%s]" % (_where(ws, line), name),
            hint="Remove the feature from the manifest or add it to an environment",
        )


def unused_targets(ws):
    """Yield WARN Results for target selectors that match no workspace platform (pixi warns about them:
    crates/pixi_manifest/src/toml/mod.rs@v0.77.0:92-163)."""
    from checks.workspace.manifest import target_matches

    owners = [("[target]", ws.data.get("target") or {})]
    owners += [("[feature.%s.target]" % n, f.get("target") or {}) for n, f in (ws.data.get("feature") or {}).items()]
    for owner, targets in owners:
        for selector in targets:
            if not any(target_matches(selector, p) for p in ws.platforms):
                line = ws.locate(selector, after=owner.split(".target")[0].rstrip("]"))
                yield Result(
                    name="manifest-target",
                    status=WARN,
                    summary="%s: target selector '%s' matches no platform of the workspace" % (owner, selector),
                    expected="a declared platform name, subdir, family or glob",
                    actual=selector,
                    hint="%s: fix the selector or declare the platform" % _where(ws, line),
                )


def audit(ws):
    """Return the manifest audit's Results: FAIL for what pixi rejects, WARN for pitfalls, or one PASS."""
    results = []
    for where, message, fix in ws.problems:
        results.append(
            Result(
                name="manifest",
                status=FAIL,
                summary="pixi 0.77 rejects %s: %s" % (where, message),
                expected="a manifest pixi parses",
                actual="%s: %s" % (ws.kind, where),
                hint=fix or "change that line as the message says",
            )
        )
    for task, message, line in task_problems(ws):
        results.append(
            Result(
                name="manifest-tasks",
                status=FAIL,
                summary="pixi 0.77 rejects %s" % message,
                expected="only the keys pixi accepts",
                actual="%s: task %s" % (_where(ws, line), task),
                hint="%s: remove that key, or give the task a `cmd`" % _where(ws, line),
            )
        )
    results += list(unused_targets(ws))
    results += list(unused_features(ws))
    results += pitfalls(ws)
    if not results:
        count = sum(len(ws.env_platforms(e)) for e in ws.environments)
        results.append(
            Result(
                name="manifest",
                status=PASS,
                summary="pixi 0.77 reads %s: %d environments, %d platforms, %d environment x platform pairs"
                % (ws.kind, len(ws.environments), len(ws.platforms), count),
            )
        )
    return results
