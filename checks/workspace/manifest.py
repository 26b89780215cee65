"""The one reader of a pixi workspace manifest (pixi.toml, or pyproject.toml with `[tool.pixi.*]`).

`load(path)` returns a Workspace that answers what pixi v0.77.0 computes for it: each environment's features in
order, its platforms, its channels in priority order, and its conda and PyPI dependencies on one platform after
targets. `Workspace.environment_on(environment, platform)` composes an environment on a platform once into an
EnvironmentOnPlatform record (dependencies, constraints, PyPI dependencies, channels, indexes, virtual packages),
cached on the Workspace, that promise, lock-audit and verify read. Each rule names the pixi source it mirrors
(`file@v0.77.0:line` in prefix-dev/pixi). What pixi would reject is collected in `Workspace.problems` (and reported
by `lock-audit`) instead of stopping the read, so that a check can still say something useful about the rest.
"""

import bisect
import dataclasses
import os
import re
import sys
import types
import typing

from checks.report import UsageError
from checks.workspace import platforms as plat

# The environment keys besides `features`, `solve-group` and `no-default-feature`: content of the environment's own
# hidden feature (crates/pixi_manifest/src/toml/environment.rs@v0.77.0:152-233).
INLINE_KEYS = ("platforms", "channels", "channel-priority", "solve-strategy", "target", "dependencies")
INLINE_KEYS += ("pypi-dependencies", "dev", "constraints", "activation", "tasks", "pypi-options")
ENV_KEYS = ("features", "solve-group", "no-default-feature") + INLINE_KEYS
# Root tables that form the default feature (crates/pixi_manifest/src/toml/manifest.rs@v0.77.0:884-1009).
ROOT_FEATURE_KEYS = ("dependencies", "host-dependencies", "build-dependencies", "constraints", "pypi-dependencies")
ROOT_FEATURE_KEYS += ("target", "tasks", "activation", "system-requirements", "pypi-options")
ENV_NAME = re.compile(r"^[a-z0-9-]+$")  # crates/pixi_manifest/src/environment.rs@v0.77.0:16-23


class ManifestError(UsageError):
    """The manifest is missing, unreadable, not TOML, or not a pixi workspace."""


def _toml_parser():
    """Return (TOML parser module, whether it reads TOML 1.1): tomli >= 2.4, else the stdlib's tomllib (TOML 1.1
    from Python 3.15), else an older tomli; ManifestError when there is none (Python 3.8-3.10 without tomli)."""
    try:
        import tomli
    except ImportError:
        tomli = None
    if tomli is not None and tuple(int(p) for p in re.findall(r"\d+", getattr(tomli, "__version__", "0"))[:2]) >= (
        2,
        4,
    ):
        return tomli, True
    try:
        import tomllib

        return tomllib, sys.version_info >= (3, 15)
    except ImportError:
        if tomli is not None:
            return tomli, False
    raise ManifestError("reading a pixi manifest needs Python 3.11+ or tomli: pip install 'tomli>=2.4'")


def _toml_loads(text, path):
    """Parse TOML 1.1 as pixi does (toml-span 0.7, crates/pixi_manifest/src/toml/mod.rs@v0.77.0:53-60).

    With a TOML 1.0 parser, a 1.1-only construct (an inline table spread over lines) gets a message naming it,
    its line and the fix.
    """
    parser, reads_1_1 = _toml_parser()
    try:
        return parser.loads(text)
    except RecursionError:
        raise ManifestError(
            "%s line %d: arrays or inline tables nested too deeply to read; pixi manifests nest a few levels"
            % (path, _deepest_line(text))
        ) from None
    except parser.TOMLDecodeError as exc:
        line = None if reads_1_1 else _toml11_line(text)
        if line:
            raise ManifestError(
                "%s line %d: an inline table spread over several lines is TOML 1.1 (pixi reads it; this Python's "
                "TOML parser reads 1.0 only); fix: pip install 'tomli>=2.4'" % (path, line)
            ) from None
        raise ManifestError("%s is not valid TOML: %s" % (path, exc)) from None


def _deepest_line(text):
    """Return the line where bracket nesting (outside strings) is deepest: where a too-deep document goes wrong."""
    depth, deepest, where = 0, -1, 1
    for number, line in enumerate(text.splitlines(), 1):
        for char in re.sub(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'", '""', line).split("#")[0]:
            depth += 1 if char in "[{" else -1 if char in "]}" else 0
            if depth > deepest:
                deepest, where = depth, number
    return where


def _toml11_line(text):
    """Return the line where an inline table `{` is left open at the end of a line (TOML 1.1 only), or None."""
    depth, start = 0, None
    for number, line in enumerate(text.splitlines(), 1):
        code = re.sub(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'", '""', line).split("#")[0]
        for char in code:
            if char == "{":
                depth += 1
                start = start or number
            elif char == "}":
                depth = max(depth - 1, 0)
        if depth:
            return start
        start = None
    return None


# What pixi sets in every process it runs (`pixi run`, `pixi shell`): the manifest of the workspace it activated,
# PIXI_PROJECT_ + MANIFEST (Workspace::get_metadata_env, crates/pixi_core/src/activation.rs@v0.77.0:23, 50-91), and
# the name of the environment, PIXI_ENVIRONMENT_ + NAME (Environment::get_metadata_env, same file:94-114).
PIXI_MANIFEST_VARIABLE = "PIXI_PROJECT_MANIFEST"


def active_manifest():
    """Return the manifest of the pixi environment this process runs in (PIXI_PROJECT_MANIFEST, which pixi sets
    beside PIXI_ENVIRONMENT_NAME), or None outside pixi. That environment is defined there, whatever the directory."""
    return os.environ.get(PIXI_MANIFEST_VARIABLE) or None


def find_manifest(start=None):
    """Return the workspace manifest as pixi locates it for a command run in `start` (default: the working
    directory), or None if there is none.

    The nearest directory from `start` upwards with a pixi.toml, or a pyproject.toml that has a pixi workspace
    (pixi.toml first; crates/pixi_manifest/src/discovery.rs@v0.77.0:435-474, 670-689); where there is none, and
    `start` is not given, the manifest pixi activated (PIXI_PROJECT_MANIFEST): a local manifest wins over the
    variable, as in pixi's WorkspaceLocator (apply_environment_overrides,
    crates/pixi_core/src/workspace/discovery.rs@v0.77.0:398-437). To judge the environment pixi activated, take
    active_manifest() first: that environment belongs to it.
    """
    here = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(here, "pixi.toml")
        if os.path.isfile(candidate):
            return candidate
        candidate = os.path.join(here, "pyproject.toml")
        if os.path.isfile(candidate) and _has_pixi_workspace(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return active_manifest() if start is None else None
        here = parent


def _has_pixi_workspace(path):
    from checks.workspace import untrusted

    try:
        text = untrusted.read_text(path, "manifest", untrusted.MANIFEST_LIMIT, ManifestError, "")
    except ManifestError:
        return False
    return bool(re.search(r"^\s*\[tool\.pixi\.(workspace|project)\]|tool\.pixi\.(workspace|project)\.", text, re.M))


class Feature:
    """One feature: a named table of dependencies, targets, channels, platforms (the default feature is the root)."""

    def __init__(self, name, table, kind="named"):
        self.name, self.table, self.kind = name, table, kind  # kind: named, default, environment (hidden)
        channels = table.get("channels")
        self.channels = None if channels is None else list(channels)
        self.platforms = None if table.get("platforms") is None else list(table["platforms"])
        self.system_requirements = dict(table.get("system-requirements") or {})

    def __repr__(self):
        return "Feature(%s)" % self.name


class Environment:
    """An environment: its features in pixi's order (hidden feature first, default feature last)."""

    def __init__(self, name, features, no_default_feature=False, solve_group=None):
        self.name, self.features = name, features
        self.no_default_feature, self.solve_group = no_default_feature, solve_group


@dataclasses.dataclass(frozen=True)
class EnvironmentOnPlatform:
    """An environment composed on one platform, as pixi v0.77.0 composes it; built once per (environment, platform)
    by `Workspace.environment_on` and read by promise, lock-audit and verify.

    environment: its name; platform: the workspace Platform; features: the names of its features in pixi's order
    (an environment's hidden feature first, then the listed ones, the default feature last unless
    `no-default-feature`: toml/manifest.rs@v0.77.0:409-489, workspace/environment.rs@v0.77.0:543-556), only those
    that apply on the platform (PixiPlatform::matches_reference, platform.rs@v0.77.0:393-399).
    dependencies (run, host and build together), constraints, pypi_dependencies: {package: (spec, ...)}, one spec
    per feature that names the package, after targets (Targets::resolve_for_platform, target.rs@v0.77.0:880-894;
    DependencyMap::merge_all); a spec is a mapping with `version` (`*` when absent), the table's own keys
    (`channel`, `build`, `index`, ...) and `feature`. Conda names are lower case, PyPI names PEP 503-normalised.
    channels: highest priority first (prioritized_channels, features_ext.rs@v0.77.0:44-62); channel_priority:
    `strict`, `flexible` or `disabled` (features_ext.rs@v0.77.0:96-108); indexes: PyPI index URLs, primary first
    (features_ext.rs@v0.77.0:367-390); virtual_packages: the platform's declared virtual packages (`__cuda`, ...).
    All fields are read-only (tuples and mapping proxies): the record is shared by everything that reads it.
    """

    __slots__ = ("environment", "platform", "features", "dependencies", "constraints", "pypi_dependencies")
    __slots__ += ("channels", "channel_priority", "indexes", "virtual_packages")

    environment: str
    platform: plat.Platform
    features: typing.Tuple[str, ...]
    dependencies: typing.Mapping[str, tuple]
    constraints: typing.Mapping[str, tuple]
    pypi_dependencies: typing.Mapping[str, tuple]
    channels: typing.Tuple[str, ...]
    channel_priority: str
    indexes: typing.Tuple[str, ...]
    virtual_packages: tuple

    def specs(self, kind="dependencies"):
        """Return the {package: (spec, ...)} of `dependencies`, `constraints` or `pypi-dependencies`."""
        if kind not in _SPEC_FIELDS:
            raise ValueError("kind must be one of %s, not %r" % (", ".join(_SPEC_FIELDS), kind))
        return getattr(self, _SPEC_FIELDS[kind])


_SPEC_FIELDS = {"dependencies": "dependencies", "constraints": "constraints", "pypi-dependencies": "pypi_dependencies"}
# The manifest tables each kind reads: conda run, host and build dependencies are one set for the solver.
_SPEC_TABLES = {
    "dependencies": ("dependencies", "host-dependencies", "build-dependencies"),
    "constraints": ("constraints",),
    "pypi-dependencies": ("pypi-dependencies",),
}
_EMPTY = types.MappingProxyType({})


class Workspace:
    """A parsed manifest: workspace table, platforms, features, environments, and what pixi would reject.

    `problems` is a list of (where, message, fix) for everything pixi 0.77 would refuse to parse; `notes` lists
    (where, message) for what pixi only warns about (deprecated `[project]`, `[system-requirements]`).
    """

    def __init__(self, doc, path, text=""):
        self.path, self.text, self._lines, self._keys, self._starts = path, text, None, None, {}
        self._on, self._env_platforms, self._env_parts = {}, {}, {}  # composed once (environment_on)
        self._platforms_of, self._parts_of = {}, {}  # shared by environments with the same features
        self._feature_on = {}  # a feature's specs on a platform, shared by the environments that include it
        self.problems, self.notes = [], []
        self.kind = "pyproject.toml" if os.path.basename(path) == "pyproject.toml" else "pixi.toml"
        tool = doc.get("tool") if self.kind == "pyproject.toml" else None
        data = tool.get("pixi") if isinstance(tool, dict) else doc if self.kind == "pixi.toml" else None
        python_project = doc.get("project") if self.kind == "pyproject.toml" else None
        if not isinstance(data, dict) or not isinstance(data.get("workspace", data.get("project")), dict):
            where = "[tool.pixi.workspace]" if self.kind == "pyproject.toml" else "[workspace]"
            raise ManifestError("%s has no %s table: it is not a pixi workspace manifest" % (path, where))
        self.data = data
        self.era = "workspace" if "workspace" in data else "project"
        _Shapes(self).check(data, python_project, doc.get("dependency-groups"))
        self.table = data[self.era]
        if self.era == "project":
            self.notes.append(("[project]", "the `project` field is deprecated; pixi reads it as `workspace`"))
        elif "project" in data:
            self.problem("[project]", "Unexpected keys: 'project' was not expected here", "remove [project]")
        self.default = Feature("default", {k: data[k] for k in ROOT_FEATURE_KEYS if k in data}, "default")
        self.features = {}
        for name, table in (data.get("feature") or {}).items():
            if name == "default":
                self.problem("[feature.default]", "The feature 'default' is reserved and cannot be redefined")
            self.features[name] = Feature(name, table if isinstance(table, dict) else {})
        if python_project:
            _read_python_project(self, python_project, doc.get("dependency-groups") or {})
        self.platforms = self._read_platforms()
        self.environments = self._read_environments()
        self.composed = all(p.is_subdir for p in self.platforms)  # toml/manifest.rs@v0.77.0:641-654
        self._check_platform_references()

    def problem(self, where, message, fix=None, line=None):
        """Record something pixi 0.77 would refuse: where (with the manifest line, if known), what, the fix.

        line: a line number, or a function returning one (looked up only when there is a problem to report)."""
        line = line() if callable(line) else line
        self.problems.append(("%s (line %d)" % (where, line) if line else where, message, fix))

    # ---- platforms -----------------------------------------------------------------------------------------

    def _read_platforms(self):
        out, seen = [], set()
        for index, entry in enumerate(self.table.get("platforms") or []):
            where = "platforms[%d] %s" % (index, _short(entry))
            needles = ['"%s"' % entry] if isinstance(entry, str) else ['%s = "%s"' % kv for kv in entry.items()]
            line = lambda needles=needles: next(  # noqa: E731  (looked up only for a problem)
                filter(None, (self.locate(n, after="platforms") for n in needles)), None
            )
            try:
                platform = plat.parse_entry(entry)
            except plat.PlatformError as exc:
                self.problem(where, str(exc), _platform_fix(entry, exc), line)
                platform = _lenient_platform(entry)
                if platform is None:
                    continue
            if platform.name in seen:
                self.problem(where, "duplicate key: `%s`" % platform.name, "give each platform a distinct name", line)
                continue
            seen.add(platform.name)
            out.append(platform)
        return out

    def platform(self, name):
        """Return the workspace platform called `name` (or the only one of a subdir called so), or None."""
        return next((p for p in self.platforms if p.name == name), None)

    # ---- environments --------------------------------------------------------------------------------------

    def _read_environments(self):
        envs = {}
        declared = self.data.get("environments") or {}
        if "default" not in declared:
            envs["default"] = Environment("default", [self.default])  # inserted first (toml/manifest.rs:367-377)
        for name, spec in declared.items():
            where = "[environments] %s" % name
            line = lambda name=name: (  # noqa: E731  (looked up only for a problem)
                self.key_line(name, after="[environments]") or self.locate("[environments.%s" % name)
            )
            if not ENV_NAME.match(name):
                self.problem(
                    where,
                    "Failed to parse environment name '%s', please use only lowercase letters, numbers and dashes"
                    % name,
                    line=line,
                )
            spec = {"features": spec} if isinstance(spec, list) else spec if isinstance(spec, dict) else {}
            unknown = [k for k in spec if k not in ENV_KEYS]
            if unknown:
                self.problem(
                    where,
                    "Unexpected keys, expected only %s ('%s' was not expected here)"
                    % (", ".join("'%s'" % k for k in ENV_KEYS), "', '".join(unknown)),
                    "system-requirements, host- and build-dependencies belong in a feature",
                    line,
                )
            features = []
            inline = {k: spec[k] for k in INLINE_KEYS if spec.get(k) not in (None, {}, [])}
            if inline:  # the hidden feature goes first (toml/manifest.rs@v0.77.0:409-429, 522-526)
                features.append(Feature(name, inline, "environment"))
            seen = set()
            for feature in spec.get("features", []):
                # `default` names the default feature (FeatureName::from, pixi_manifest/src/feature.rs@v0.77.0:
                # 45-58); listed, it takes that place, and is added again at the end unless no-default-feature
                # (toml/manifest.rs@v0.77.0:452-489, workspace/environment.rs@v0.77.0:543-556).
                if feature != "default" and feature not in self.features:
                    self.problem(where, "The feature '%s' is not defined in the manifest" % feature, line=line)
                elif feature in seen:
                    self.problem(where, "The feature '%s' is included more than once." % feature, line=line)
                else:
                    features.append(self.default if feature == "default" else self.features[feature])
                seen.add(feature)
            no_default = bool(spec.get("no-default-feature", False))
            envs[name] = Environment(name, features + ([] if no_default else [self.default]), no_default)
            envs[name].solve_group = spec.get("solve-group")
        return envs

    def environment(self, name):
        """Return the Environment called `name`, or raise ManifestError naming the valid ones."""
        if name not in self.environments:
            raise ManifestError(
                "unknown environment %r in %s; valid environments: %s"
                % (name, self.path, ", ".join(sorted(self.environments)))
            )
        return self.environments[name]

    def _check_platform_references(self):
        """Feature and environment `platforms` name declared platforms (toml/manifest.rs@v0.77.0:633-767)."""
        names = [p.name for p in self.platforms]
        owners = [(f, "feature '%s'" % f.name) for f in self.features.values()]
        owners += [(f, "environment '%s'" % e.name) for e in self.environments.values() for f in e.features]
        sysreq = [f for f, _ in owners if f.system_requirements] + (
            [self.default] if self.default.system_requirements else []
        )
        if sysreq:
            self.notes.append(("[system-requirements]", "deprecated in favour of virtual packages on `platforms`"))
            if not self.composed:
                self.problem(
                    "[system-requirements]",
                    "feature '%s' uses `[system-requirements]` but the workspace declares per-platform virtual "
                    "packages; remove the system-requirements table and declare the constraints on the platforms "
                    "instead" % sysreq[0].name,
                )
        for feature, who in owners:
            for ref in feature.platforms or []:
                if ref in names:
                    continue
                if self.composed and ref in plat.SUBDIRS:
                    self.platforms.append(plat.Platform.from_subdir(ref))  # silently added (:656-657, 699-721)
                    names.append(ref)
                    continue
                self.problem(
                    "%s platforms" % who,
                    "%s references platform '%s' which is not declared in the workspace" % (who, ref),
                    "the workspace declares: %s" % ", ".join(names),
                    self.locate('"%s"' % ref, after="platforms = ["),
                )

    def env_platforms(self, env_name):
        """Return an environment's platforms in workspace declaration order (pixi's selection priority).

        Without rich platforms (composition mode) one platform per supported subdir, carrying the union of the
        features' `[system-requirements]` (platform_composition.rs@v0.77.0:24-128; toml/manifest.rs:793-867);
        otherwise the declared platforms every feature supports, a bare-subdir reference widening to same-subdir
        variants only where no feature names one exactly (FeaturesExt::platforms, features_ext.rs@v0.77.0:165-228).
        """
        found = self._env_platforms.get(env_name)
        if found is None:
            features = self.environment(env_name).features
            same = tuple(id(f) for f in features)
            found = self._platforms_of.get(same)
            if found is None:
                found = self._platforms_of[same] = tuple(self._compose_platforms(features))
            self._env_platforms[env_name] = found
        return list(found)

    def _compose_platforms(self, features):
        if self.composed:
            subdirs = [p.subdir for p in self.platforms]
            keep = [s for s in subdirs if all(f.platforms is None or s in f.platforms for f in features)]
            return [_compose(s, [f.system_requirements for f in features]) for s in keep]
        exact = {ref for f in features for ref in f.platforms or []}
        exact_subdirs = {p.subdir for p in self.platforms if p.name in exact}
        return [
            p
            for p in self.platforms
            if all(supports(f, p) for f in features) and (p.name in exact or p.subdir not in exact_subdirs)
        ]

    def used_platforms(self):
        """Return every platform some environment uses, declared ones in order, then those pixi composes from
        `[system-requirements]` (which it registers in the workspace too: manifests/workspace.rs@v0.77.0:83-103)."""
        found = {}
        for env in self.environments:
            for platform in self.env_platforms(env):
                found.setdefault(platform.name, platform)
        declared = [p for p in self.platforms if p.name in found]
        names = {d.name for d in declared}
        return declared + [p for name, p in found.items() if name not in names]

    def env_platform(self, env_name, name):
        """Return the platform `name` of an environment (a name or, if unambiguous, a subdir), or raise."""
        candidates = self.env_platforms(env_name)
        found = [p for p in candidates if p.name == name] or [p for p in candidates if p.subdir == name]
        if len(found) != 1:
            raise ManifestError(
                "environment %r has no platform %r; its platforms: %s"
                % (env_name, name, ", ".join(p.name for p in candidates))
            )
        return found[0]

    # ---- channels and dependencies -------------------------------------------------------------------------

    def environment_on(self, env_name, platform):
        """Return the EnvironmentOnPlatform of environment `env_name` on `platform` (a Platform), composed on the
        first call and cached on the workspace; raise ManifestError for an unknown environment."""
        found = self._on.get((env_name, id(platform)))
        if found is None or found.platform is not platform:  # the record holds its platform: ids are not reused
            found = self._on[(env_name, id(platform))] = self._compose_environment(env_name, platform)
        return found

    def _compose_environment(self, env_name, platform):
        features = [f for f in self.environment(env_name).features if supports(f, platform)]
        chosen, priority, indexes = self._environment_parts(env_name)
        tables = {kind: {} for kind in _SPEC_FIELDS}
        for feature in features:
            for kind, specs in self._feature_specs(feature, platform).items():
                for name, spec in specs:
                    tables[kind].setdefault(name, []).append(spec)
        frozen = {
            kind: types.MappingProxyType({k: tuple(v) for k, v in t.items()}) if t else _EMPTY
            for kind, t in tables.items()
        }
        return EnvironmentOnPlatform(
            environment=env_name,
            platform=platform,
            features=tuple(f.name for f in features),
            dependencies=frozen["dependencies"],
            constraints=frozen["constraints"],
            pypi_dependencies=frozen["pypi-dependencies"],
            channels=chosen,
            channel_priority=priority,
            indexes=indexes,
            virtual_packages=tuple(platform.declared),
        )

    def _feature_specs(self, feature, platform):
        """Return {kind: [(package, spec), ...]} of one feature on a platform: the feature's table, then each
        matching target in manifest order replacing a package's spec (Targets::resolve_for_platform,
        target.rs@v0.77.0:880-894); run, host and build dependencies together. Composed once per feature and
        platform, and shared by every environment that includes the feature."""
        found = self._feature_on.get((id(feature), id(platform)))
        if found is None or found[0] is not platform:  # the entry holds its platform: ids are not reused
            found = self._feature_on[(id(feature), id(platform))] = (platform, self._compose_feature(feature, platform))
        return found[1]

    def _compose_feature(self, feature, platform):
        layers = [feature.table] + matching_targets(feature.table.get("target") or {}, platform)
        found = {}
        for kind in _SPEC_FIELDS:
            merged = {}
            for table in layers:
                for k in _SPEC_TABLES[kind]:
                    merged.update(table.get(k) or {})
            specs = []
            for name, spec in merged.items():
                spec = {"version": spec} if isinstance(spec, str) else dict(spec) if isinstance(spec, dict) else {}
                spec.setdefault("version", "*")
                spec["feature"] = feature.name
                specs.append((_normalize_name(name, kind), types.MappingProxyType(spec)))
            if specs:
                found[kind] = specs
        return found

    def _environment_parts(self, env_name):
        """Return (channels, channel priority, PyPI indexes) of an environment: what its platforms share, and what
        environments with the same features share."""
        found = self._env_parts.get(env_name)
        if found is None:
            features = self.environment(env_name).features
            same = tuple(id(f) for f in features)
            found = self._parts_of.get(same)
            if found is None:
                found = self._parts_of[same] = (
                    tuple(self._channels(features)),
                    self._channel_priority(features),
                    tuple(self._pypi_indexes(features)),
                )
            self._env_parts[env_name] = found
        return found

    def channels(self, env_name):
        """Return an environment's channels, highest priority first (a list; see _channels)."""
        return list(self._environment_parts(env_name)[0])

    def _channels(self, features):
        """prioritized_channels (crates/pixi_manifest/src/features_ext.rs@v0.77.0:44-62): each feature in order
        contributes its `channels`, or the workspace's when it sets none (the hidden feature of an environment
        with inline content, and the default feature, included); a stable sort on priority (default 0, higher
        first); the first occurrence of a channel wins. Channels are compared as written.
        """
        entries = []
        for feature in features:
            for entry in feature.channels if feature.channels is not None else self.table.get("channels") or []:
                name, priority = (entry, 0) if isinstance(entry, str) else (entry.get("channel"), entry.get("priority"))
                entries.append((name, priority or 0))
        ordered = sorted(entries, key=lambda e: -e[1])  # sorted() is stable
        return list(dict.fromkeys(name for name, _ in ordered))

    def channel_priority(self, env_name):
        """Return `strict` (the default), `flexible` or `disabled` for an environment (see _channel_priority)."""
        return self._environment_parts(env_name)[1]

    def _channel_priority(self, features):
        """The default feature carries the workspace's value (features_ext.rs@v0.77.0:96-108,
        toml/manifest.rs@v0.77.0:301); features that disagree leave `strict`."""
        values = set()
        for feature in features:
            table = self.table if feature.kind == "default" else feature.table
            values.add(table.get("channel-priority"))
        values.discard(None)
        return values.pop() if len(values) == 1 else "strict"

    def specs(self, env_name, platform, kind="dependencies"):
        """Return {package: (spec, ...)} of one table kind (`dependencies`, `constraints`, `pypi-dependencies`)
        of an environment on a platform: EnvironmentOnPlatform.specs of environment_on(env_name, platform)."""
        return self.environment_on(env_name, platform).specs(kind)

    def pypi_indexes(self, env_name):
        """Return the PyPI index URLs an environment resolves from, primary first (a list; see _pypi_indexes)."""
        return list(self._environment_parts(env_name)[2])

    def _pypi_indexes(self, features):
        """`index-url`, else PyPI, then every `extra-index-urls`, merged over the workspace and the features
        (features_ext.rs@v0.77.0:367-390)."""
        tables = [self.table.get("pypi-options") or {}]
        tables += [f.table.get("pypi-options") or {} for f in features]
        primary = next((t["index-url"] for t in reversed(tables) if t.get("index-url")), "https://pypi.org/simple")
        extra = [url for t in tables for url in t.get("extra-index-urls") or []]
        return list(dict.fromkeys([primary] + extra))

    def no_build_isolation(self, env_name):
        """Return the PyPI packages an environment builds without build isolation: True for all (`no-build-isolation
        = true`), else a tuple of PEP 503 names, merged over the workspace's, the default feature's and the
        environment's features' [pypi-options] (union-like: pixi_manifest.md@v0.77.0, "pypi-options" and "No
        Build Isolation")."""
        tables = [self.table.get("pypi-options") or {}]
        tables += [f.table.get("pypi-options") or {} for f in self.environment(env_name).features]
        names = []
        for table in tables:
            value = table.get("no-build-isolation") if isinstance(table, dict) else None
            if value is True:
                return True
            if isinstance(value, list):
                names += [re.sub(r"[-_.]+", "-", n).lower() for n in value if isinstance(n, str)]
        return tuple(dict.fromkeys(names))

    def task(self, name):
        """Return a task's table (`cmd`, `depends-on`, `description`, ...) from the root or any feature, or None."""
        for table in [self.default.table] + [f.table for f in self.features.values()]:
            task = (table.get("tasks") or {}).get(name)
            if task is not None:
                return {"cmd": task} if isinstance(task, str) else task
        return None

    @property
    def lines(self):
        """The manifest's lines, split once."""
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def _start(self, after):
        """Return the 0-based index of the first line holding `after` (0 if none), each `after` searched once."""
        if after not in self._starts:
            self._starts[after] = next((i for i, line in enumerate(self.lines) if after in line), 0)
        return self._starts[after]

    def key_line(self, key, after=None):
        """Return the 1-based line that sets `key` (bare or quoted, at the start of a line) at or after the line
        holding `after`, or None: from an index of the manifest's keys built once, so that looking up every
        environment of a large manifest stays linear."""
        if self._keys is None:
            self._keys = {}
            pattern = re.compile(r"""\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*[=.]""")
            for number, line in enumerate(self.lines):
                found = pattern.match(line)
                if found:
                    self._keys.setdefault(found.group(1).strip("\"'"), []).append(number)
        numbers = self._keys.get(key, [])
        index = bisect.bisect_left(numbers, self._start(after) if after else 0)
        return numbers[index] + 1 if index < len(numbers) else None

    def locate(self, *needles, after=None):
        """Return the 1-based line of the manifest holding every needle (at or after the line holding `after`)."""
        lines = self.lines
        start = self._start(after) if after else 0
        for number in range(start, len(lines)):
            if all(n in lines[number] for n in needles):
                return number + 1
        return None


def supports(feature, platform):
    """Return True if a feature applies on a platform: no `platforms`, or it names the platform or its subdir
    (PixiPlatform::matches_reference, crates/pixi_manifest/src/platform.rs@v0.77.0:393-399)."""
    refs = feature.platforms
    return refs is None or platform.name in refs or platform.subdir in refs


def target_matches(selector, platform):
    """Return True if a `[target.<selector>]` applies to a platform (TargetSelector, target.rs@v0.77.0:675-785).

    A family (`linux`, `unix`, `win`, `osx`, `macos`) or a subdir matches every platform of it, rich ones too; a
    glob (`*`) matches platform names only, anchored; anything else is a platform name.
    """
    if selector in plat.FAMILIES:
        return plat.family_matches(selector, platform.subdir)
    if selector in plat.SUBDIRS:
        return platform.subdir == selector
    if any(c in selector for c in "*?["):
        pattern = "".join(".*" if c == "*" else re.escape(c) for c in re.sub(r"\*+", "*", selector))
        return re.fullmatch(pattern, platform.name) is not None
    return platform.name == selector


def matching_targets(targets, platform):
    """Return the target tables that apply to a platform, least specific first (later in the file wins)."""
    return [table for selector, table in targets.items() if target_matches(selector, platform)]


def _normalize_name(name, kind):
    """PyPI names compare case- and separator-insensitively (PEP 503); conda names are lower case."""
    name = name.strip().lower()
    return re.sub(r"[-_.]+", "-", name) if kind == "pypi-dependencies" else name


# System requirement -> virtual package, and the subdirs it applies to
# (to_declared_virtual_packages, crates/pixi_manifest/src/system_requirements.rs@v0.77.0:151-204).
SYSREQ_PACKAGES = (("linux", "__linux", plat.is_linux), ("cuda", "__cuda", lambda s: not s.startswith("osx-")))
SYSREQ_PACKAGES += (("macos", "__osx", lambda s: s.startswith("osx-")),)


def _compose(subdir, requirements):
    """Return the platform an environment gets for a subdir in composition mode: the bare subdir, or the
    union (highest version per package) of its features' system requirements there, named as pixi names it."""
    from checks.workspace import versions

    wanted = {}
    for req in requirements:
        found = [(conda, req.get(key)) for key, conda, applies in SYSREQ_PACKAGES if applies(subdir)]
        libc = req.get("libc")
        if libc is not None and plat.is_linux(subdir):
            table = libc if isinstance(libc, dict) else {"version": libc}
            found.append(("__" + table.get("family", "glibc"), table.get("version")))
        for conda, value in found:
            if value is not None and (conda not in wanted or versions.compare(value, wanted[conda]) > 0):
                wanted[conda] = str(value)
    user = [plat.VirtualPackage(name, version) for name, version in wanted.items()]
    name = plat.synthesize_name(subdir, user)
    if name == subdir:
        return plat.Platform.from_subdir(subdir)
    return plat.Platform.with_defaults(name, subdir, user)


def _lenient_platform(entry):
    """Keep a rejected entry (named after its subdir, say) in the model so the rest can still be checked."""
    if not isinstance(entry, dict):
        return None
    subdir = entry.get("platform") or entry.get("name")
    if subdir not in plat.SUBDIRS:
        return None
    cuda = entry.get("cuda")
    cuda = cuda.get("driver") if isinstance(cuda, dict) else cuda
    packages = [plat.VirtualPackage("__cuda", cuda)] if cuda else []
    if entry.get("macos") or entry.get("osx"):
        packages.append(plat.VirtualPackage("__osx", entry.get("macos") or entry.get("osx")))
    defaults = [d for d in plat.subdir_defaults(subdir) if d.name not in {p.name for p in packages}]
    return plat.Platform(str(entry.get("name") or subdir), subdir, packages + defaults, "name" in entry)


def _platform_fix(entry, exc):
    if str(exc) == plat.SUBDIR_PLATFORM_ERROR and isinstance(entry, dict):
        user = {k: v for k, v in entry.items() if k not in ("name", "platform")}
        name = plat.synthesize_name(entry.get("platform") or entry["name"], [])
        suggestion = ", ".join('%s = "%s"' % (k, v) for k, v in user.items())
        return 'drop `name` to let pixi name it ({ platform = "%s", %s }) or choose a name other than %r' % (
            entry.get("platform") or name,
            suggestion,
            name,
        )
    return None


def _short(entry):
    return '"%s"' % entry if isinstance(entry, str) else "{ %s }" % ", ".join('%s = "%s"' % kv for kv in entry.items())


def _read_python_project(ws, project, groups):
    """Fold the Python `[project]` table of a pyproject.toml into the workspace as pixi does
    (into_workspace_manifest, crates/pixi_manifest/src/pyproject.rs@v0.77.0:173-317): `dependencies` are PyPI
    dependencies of the default feature, each optional-dependency extra and dependency group is a feature of that
    name (unless `[tool.pixi.feature.<name>]` exists), `requires-python` is the conda `python` when none is set."""
    table = ws.default.table
    pypi = table.setdefault("pypi-dependencies", {})
    for requirement in project.get("dependencies") or []:
        name, spec = _split_requirement(requirement)
        pypi.setdefault(name, spec)
    extras = dict(project.get("optional-dependencies") or {})
    extras.update({k: [r for r in v if isinstance(r, str)] for k, v in groups.items()})
    for group, requirements in extras.items():
        if group in ws.features:
            continue
        feature_deps = dict(_split_requirement(r) for r in requirements)
        ws.features[group] = Feature(group, {"pypi-dependencies": feature_deps})
    deps = table.setdefault("dependencies", {})
    if "python" not in deps:
        requires = project.get("requires-python")
        deps["python"] = re.sub(r"^==", "", requires.replace(" ", "")) if requires else "*"


def pypi_requirement(path, name):
    """Return the version spec a manifest gives PyPI package `name` (PEP 503-normalised names compared), `*` for any
    version, or None when it does not name it: a pixi workspace's default-feature `[pypi-dependencies]` (which a
    pyproject.toml's `[project] dependencies` fold into), else a plain pyproject.toml's `[project] dependencies` (PEP
    621, each a PEP 508 requirement: `torch==1.9.1+cu111`). ManifestError for a file that cannot be read as TOML."""
    from checks.workspace import untrusted

    text = untrusted.read_text(path, "manifest", untrusted.MANIFEST_LIMIT, ManifestError, "save it as UTF-8")
    doc = _toml_loads(text, path)
    wanted = _normalize_name(name, "pypi-dependencies")
    try:
        specs = Workspace(doc, path, text).default.table.get("pypi-dependencies") or {}
    except ManifestError:  # not a pixi workspace: the Python project's own dependencies
        project = doc.get("project") if isinstance(doc.get("project"), dict) else {}
        requirements = [r for r in project.get("dependencies") or [] if isinstance(r, str)]
        specs = dict(_split_requirement(r) for r in requirements)
    for key, spec in specs.items():
        if _normalize_name(key, "pypi-dependencies") == wanted:
            version = spec.get("version", "*") if isinstance(spec, dict) else spec
            return (version.strip() or "*") if isinstance(version, str) else "*"
    return None


def _split_requirement(requirement):
    """Split a PEP 508 requirement `torch[opt]>=2.5; sys_platform == 'linux'` into (name, spec)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;@]*)(@\s*([^;]+))?", requirement)
    name = match.group(1) if match else requirement.strip()
    version = (match.group(3) or "").strip().replace(" ", "") if match else ""
    spec = {"version": version or "*"}
    if match and match.group(5):
        spec["url"] = match.group(5).strip()
    return name, spec


# ---- the boundary: every value the model reads has the type pixi expects ---------------------------------------------

_TYPE_NAMES = ((bool, "boolean"), (str, "string"), (int, "integer"), (float, "float"), (list, "array"))
_TYPE_NAMES += ((dict, "table"),)
CONDA_KINDS = ("dependencies", "host-dependencies", "build-dependencies", "constraints")


def _found(value):
    """Name a TOML value's type as toml-span does in "expected ..., found ..." (ErrorKind::Wanted)."""
    return next((name for kind, name in _TYPE_NAMES if isinstance(value, kind)), "datetime")


class _Shapes:
    """Check the types and shapes of every manifest value the model reads, before it reads them.

    A violation raises ManifestError (exit 2) naming the file, the line, the key and what pixi expects, in
    toml-span's words where pixi's deserializer would stop there ("expected a string, found integer": the
    `ErrorKind::Wanted` message toml-span prints for pixi's TOML deserializers), or rattler's / PEP 440's parse error
    for a version spec. Which types each key takes: pixi's JSON schema at v0.77.0 (tests/data/pixi-schema-v0.77.0.json)
    and the TOML deserializers it documents (crates/pixi_manifest/src/toml/*.rs@v0.77.0).
    """

    def __init__(self, ws):
        self.ws = ws
        self.prefix = ["tool", "pixi"] if ws.kind == "pyproject.toml" else []

    def fail(self, path, message):
        keys = self.prefix + list(path)
        line = self.line([str(k) for k in keys if not isinstance(k, int)])
        where = "%s line %d" % (self.ws.path, line) if line else self.ws.path
        raise ManifestError("%s: `%s`: %s" % (where, _dotted(keys), message))

    def line(self, keys):
        """Return the manifest line of a key path: the key's own line after its table's header, best effort."""
        names, lines = keys, self.ws.lines
        for cut in range(len(names) - 1, 0, -1):
            header = _header_line(lines, names[:cut])
            if header is not None:
                rest = names[cut:]
                for number in range(header, len(lines)):
                    if number > header and lines[number].lstrip().startswith("["):
                        break
                    if _key_at(lines[number], rest[0]):
                        return number + 1
                return header + 1
        for number, text in enumerate(lines):
            if names and _key_at(text, names[-1]):
                return number + 1
        return None

    def want(self, value, path, kinds, expected):
        if not isinstance(value, kinds) or (bool not in _as_tuple(kinds) and isinstance(value, bool)):
            self.fail(path, "expected %s, found %s" % (expected, _found(value)))
        return value

    def table(self, value, path):
        return self.want(value, path, dict, "a table")

    def strings(self, value, path, what="a string"):
        for index, item in enumerate(self.want(value, path, list, "an array of strings")):
            self.want(item, path + [index], str, what)

    # ---- the document --------------------------------------------------------------------------------------------

    def check(self, data, python_project, groups):
        table = self.table(data[self.ws.era], [self.ws.era])
        self.feature(table, [self.ws.era], workspace=True)
        for key in ("requires-pixi", "name", "version"):
            if key in table:
                self.want(table[key], [self.ws.era, key], str, "a string")
        for index, entry in enumerate(
            self.want(table.get("platforms", []), [self.ws.era, "platforms"], list, "an array")
        ):
            self.platform(self.want(entry, [self.ws.era, "platforms", index], (str, dict), "a string or table"), index)
        self.feature(data, [])
        for name, feature in self.table(data.get("feature", {}), ["feature"]).items():
            self.feature(self.table(feature, ["feature", name]), ["feature", name])
        for name, env in self.table(data.get("environments", {}), ["environments"]).items():
            path = ["environments", name]
            if isinstance(env, list):
                self.strings(env, path, "a feature name (a string)")
                continue
            self.want(env, path, (list, dict), "a list of features or a table")
            if "features" in env:
                self.strings(env["features"], path + ["features"], "a feature name (a string)")
            if "solve-group" in env:
                self.want(env["solve-group"], path + ["solve-group"], str, "a string")
            if "no-default-feature" in env:
                self.want(env["no-default-feature"], path + ["no-default-feature"], bool, "a boolean")
            self.feature(env, path)
        if python_project is not None:
            self.python_project(python_project, groups)

    def platform(self, entry, index):
        """A rich platform's values are strings, versions where they declare a virtual package (WorkspacePlatform in
        pixi's schema: "Declare a `__cuda` virtual package at the given version (e.g. `12.0`), or a `{ driver, arch }`
        table"; the other keys likewise)."""
        if not isinstance(entry, dict):
            return
        path = [self.ws.era, "platforms", index]
        for key, value in entry.items():
            where = path + [key]
            if key == "cuda" and isinstance(value, dict):
                for part in ("driver", "arch"):
                    if part in value:
                        self.version(
                            self.want(value[part], where + [part], str, "a version (a string)"), where + [part]
                        )
                continue
            expected = "a string or a `{ driver, arch }` table" if key == "cuda" else "a string"
            self.want(value, where, str, expected)
            if key in ("cuda", "glibc", "linux", "macos", "osx") or key.startswith("__"):
                self.version(value.partition("=")[0] if key.startswith("__") else value, where)

    def feature(self, table, path, workspace=False):
        """A feature's keys (also the root's, an environment's inline ones, and the workspace table's)."""
        if "channels" in table:
            for index, entry in enumerate(self.want(table["channels"], path + ["channels"], list, "an array")):
                where = path + ["channels", index]
                self.want(entry, where, (str, dict), "a channel (a string or a table with `channel`)")
                if isinstance(entry, dict):
                    self.want(entry.get("channel"), where + ["channel"], str, "a string")
                    if "priority" in entry:
                        self.want(entry["priority"], where + ["priority"], int, "an integer")
        if "platforms" in table and not workspace:
            self.strings(table["platforms"], path + ["platforms"], "a platform name (a string)")
        if "channel-priority" in table:
            self.want(table["channel-priority"], path + ["channel-priority"], str, "a string")
        if "pypi-options" in table:
            options = self.table(table["pypi-options"], path + ["pypi-options"])
            if "index-url" in options:
                self.want(options["index-url"], path + ["pypi-options", "index-url"], str, "a URL (a string)")
            if "extra-index-urls" in options:
                self.strings(options["extra-index-urls"], path + ["pypi-options", "extra-index-urls"], "a URL")
            if "no-build-isolation" in options and not isinstance(options["no-build-isolation"], bool):
                where = path + ["pypi-options", "no-build-isolation"]
                self.strings(options["no-build-isolation"], where, "a package name (a string), or true for all")
        if workspace:
            return
        self.dependencies(table, path)
        for selector, target in self.table(table.get("target", {}), path + ["target"]).items():
            where = path + ["target", selector]
            self.dependencies(self.table(target, where), where)
            for key in ("tasks", "activation"):
                if key in target:
                    self.table(target[key], where + [key])
        requirements = self.table(table.get("system-requirements", {}), path + ["system-requirements"])
        for key, value in requirements.items():
            where = path + ["system-requirements", key]
            if key == "libc" and isinstance(value, dict):
                self.want(value.get("family", "glibc"), where + ["family"], str, "a string")
                value = value.get("version")
                where = where + ["version"]
            self.want(value, where, (str, int, float), "a version (a string or a number)")
            self.version(str(value), where)
        for key in ("tasks", "activation"):
            if key in table:
                self.table(table[key], path + [key])

    def dependencies(self, table, path):
        for kind in CONDA_KINDS + ("pypi-dependencies",):
            for name, spec in self.table(table.get(kind, {}), path + [kind]).items():
                where = path + [kind, name]
                self.want(spec, where, (str, dict), "a version spec (a string) or a table")
                if isinstance(spec, dict):
                    for key in ("version", "channel", "build", "index", "path", "git", "url", "branch", "tag", "rev"):
                        if key in spec:
                            self.want(spec[key], where + [key], str, "a string")
                    version, where = spec.get("version"), where + ["version"]
                else:
                    version = spec
                if version is not None:
                    self.spec(version, where, kind == "pypi-dependencies")

    def spec(self, text, path, pypi):
        """A version spec that pixi would fail to parse is a usage error naming it (rattler's, PEP 440's words)."""
        from checks.workspace import versions

        try:
            versions.check_spec(text, pypi=pypi)
        except versions.SpecError as exc:
            kind = "PEP 440 version specifier" if pypi else "conda version spec"
            self.fail(path, "%r is not a valid %s: %s" % (text, kind, exc))

    def version(self, text, path):
        from checks.workspace import versions

        try:
            versions.check_version(text)
        except versions.SpecError as exc:
            self.fail(path, "%r is not a valid version: %s" % (text, exc))

    def python_project(self, project, groups):
        self.prefix = []
        self.table(project, ["project"])
        if "dependencies" in project:
            self.strings(project["dependencies"], ["project", "dependencies"], "a PEP 508 requirement (a string)")
        extras = self.table(project.get("optional-dependencies", {}), ["project", "optional-dependencies"])
        for name, requirements in extras.items():
            self.strings(requirements, ["project", "optional-dependencies", name], "a PEP 508 requirement")
        if "requires-python" in project:
            self.want(project["requires-python"], ["project", "requires-python"], str, "a string")
        for name, requirements in self.table(groups or {}, ["dependency-groups"]).items():
            self.want(requirements, ["dependency-groups", name], list, "an array")


def _as_tuple(kinds):
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _dotted(keys):
    """Write a key path as TOML would: `feature.cuda.channels[0]`, quoting keys that need it."""
    out = ""
    for key in keys:
        if isinstance(key, int):
            out += "[%d]" % key
        else:
            out += ("." if out else "") + (key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else '"%s"' % key)
    return out


def _key_at(line, key):
    """Return True if a TOML line sets `key` (bare or quoted, possibly dotted further)."""
    text = line.lstrip()
    return any(text.startswith(form) for form in (key + " ", key + "=", key + ".", '"%s"' % key, "'%s'" % key))


def _header_line(lines, names):
    """Return the 0-based line of the table header `[a.b]` (or `[[a.b]]`), or None."""
    wanted = ".".join(names)
    for number, text in enumerate(lines):
        stripped = text.strip()
        if stripped.startswith("[") and stripped.strip("[]").replace('"', "").replace(" ", "") == wanted:
            return number
    return None


def load(path):
    """Read a manifest (pixi.toml or pyproject.toml) into a Workspace; raise ManifestError with the fix.

    The file is untrusted input: a regular file of at most untrusted.MANIFEST_LIMIT bytes of UTF-8, read once
    (checks/workspace/untrusted.py); every value the model reads is checked for its type there (`_check_shapes`).
    """
    from checks.workspace import untrusted

    text = untrusted.read_text(
        path, "manifest", untrusted.MANIFEST_LIMIT, ManifestError, "pixi reads UTF-8 TOML only: save it as UTF-8"
    )
    return Workspace(_toml_loads(text, path), path, text)
