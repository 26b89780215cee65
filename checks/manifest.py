"""Read pixi.toml and derive what an environment promises on this machine."""

import os
import re

from checks.report import UsageError

FAMILIES = {"unix": ("linux", "osx"), "linux": ("linux",), "osx": ("osx",), "win": ("win",)}


class ManifestError(UsageError):
    """pixi.toml is missing, unreadable or not shaped as expected."""


def _toml_loads(text):
    try:
        import tomllib  # Python 3.11+
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            raise ManifestError(
                "reading pixi.toml needs Python 3.11+ or the tomli package; "
                "fix: pip install tomli (the pixi environments include it)"
            ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError("pixi.toml is not valid TOML: %s; fix the file or restore it with git" % exc) from None


def find_manifest(start=None):
    """Return the pixi.toml this run belongs to: pixi's variables, then the cwd and its parents."""
    for var in ("PIXI_PROJECT_MANIFEST", "PIXI_WORKSPACE_MANIFEST"):
        if os.environ.get(var):
            return os.environ[var]
    here = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(here, "pixi.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def load(path):
    """Parse pixi.toml at `path` into a dict, with one clear error on failure."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ManifestError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    data = _toml_loads(text)
    workspace = data.get("workspace", data.get("project"))
    if not isinstance(workspace, dict) or not isinstance(data.get("environments", {}), dict):
        raise ManifestError("%s has no [workspace] table; is this the pytorch-env pixi.toml?" % path)
    return data


def platforms(data):
    """Return the workspace platforms in selection order as dicts with name, subdir and cuda."""
    out = []
    for entry in data["workspace"].get("platforms", []):
        if isinstance(entry, str):
            out.append({"name": entry, "subdir": entry, "cuda": None})
        else:
            cuda = entry.get("cuda")
            if isinstance(cuda, dict):
                cuda = cuda.get("driver")
            name = entry.get("name") or entry["platform"]
            out.append({"name": name, "subdir": entry["platform"], "cuda": cuda})
    return out


def environments(data):
    """Return {environment name: {"features": [...], "platforms": [...] or None, "default": bool}}."""
    out = {}
    for name, spec in data.get("environments", {}).items():
        if isinstance(spec, list):
            spec = {"features": spec}
        out[name] = {
            "features": list(spec.get("features", [])),
            "platforms": spec.get("platforms"),
            "default": not spec.get("no-default-feature", False),
        }
    out.setdefault("default", {"features": [], "platforms": None, "default": True})
    return out


def target_matches(selector, platform):
    """Return True if a target selector applies to a platform: name, subdir, family, or a `*` pattern."""
    if "*" in selector:  # `*` is pixi's only metacharacter, matched in full against the name
        return re.fullmatch(".*".join(map(re.escape, selector.split("*"))), platform["name"]) is not None
    if selector in (platform["name"], platform["subdir"]):
        return True
    return platform["subdir"].split("-")[0] in FAMILIES.get(selector, ())


def _tables(data, env_name):
    env = environments(data)[env_name]
    return ([data] if env["default"] else []) + [data.get("feature", {}).get(f, {}) for f in env["features"]]


def specs(data, env_name, platform, key="dependencies"):
    """Return {package: {"version": spec, "channel": name or None}} of one table kind (later targets win)."""
    raw = {}
    for table in _tables(data, env_name):
        raw.update(table.get(key, {}))
        for selector, target in table.get("target", {}).items():
            if target_matches(selector, platform):
                raw.update(target.get(key, {}))
    return {
        name: {"version": spec, "channel": None}
        if isinstance(spec, str)
        else {"version": spec.get("version", "*"), "channel": spec.get("channel")}
        for name, spec in raw.items()
    }


def dependencies(data, env_name, platform):
    """Return the conda dependencies an environment installs on one platform (later targets win)."""
    return {name: spec["version"] for name, spec in specs(data, env_name, platform).items()}


def channels(data, env_name):
    """Return the channel names an environment solves from, highest priority first (features before workspace)."""
    ranked = {}
    for table in _tables(data, env_name) + [data["workspace"]]:
        for entry in table.get("channels", []):
            name, priority = (entry, 0) if isinstance(entry, str) else (entry["channel"], entry.get("priority", 0))
            ranked.setdefault(name, (-priority, len(ranked)))
    return sorted(ranked, key=ranked.get)


def env_platforms(data, env_name):
    """Return an environment's platforms in workspace order (that order is pixi's selection priority)."""
    env = environments(data)[env_name]
    allowed = env["platforms"]
    if allowed is None:
        for feature in env["features"]:
            feature_platforms = data.get("feature", {}).get(feature, {}).get("platforms")
            if feature_platforms is not None:
                allowed = [p for p in (allowed or feature_platforms) if p in feature_platforms]
    everything = platforms(data)
    if allowed is None:
        return everything
    return [p for p in everything if p["name"] in allowed or p["subdir"] in allowed]


def torch_environments(data, subdir, cuda=False):
    """Return the environments a user runs checks in on `subdir` (with cuda=True: those with a CUDA build there).

    An environment counts when it installs pytorch on a platform of that subdir. The project's test
    environments (the ones that add pytest) are left out: they repeat an environment listed already.
    """
    names = []
    for name in environments(data):
        for platform in env_platforms(data, name):
            deps = dependencies(data, name, platform) if platform["subdir"] == subdir else {}
            is_cuda = platform["cuda"] is not None and promised_build(deps)[0] == "cuda"
            if "pytorch" in deps and "pytest" not in deps and (is_cuda or not cuda):
                names.append(name)
                break
    return names


def promised_build(deps):
    """Return (flavour, CUDA spec or None) a platform's dependencies promise: pytorch-cuda or pytorch-gpu is CUDA."""
    flavour = "cuda" if "pytorch-cuda" in deps or "pytorch-gpu" in deps else "cpu"
    return flavour, deps.get("pytorch-cuda") or deps.get("cuda-version")


def select_platform(candidates, subdir, host_cuda):
    """Pick the platform pixi installs: the first for this subdir whose CUDA the driver supports."""
    for platform in candidates:
        if platform["subdir"] != subdir:
            continue
        if platform["cuda"] is None:
            return platform
        if host_cuda is not None and spec_matches(host_cuda, ">=" + platform["cuda"]):
            return platform
    return None


class Expectation:
    """What an environment promises on this machine: versions, build flavour, CUDA."""

    def __init__(self, env, platform, deps, candidates):
        self.env = env
        self.platform = platform
        self.deps = deps
        self.candidates = candidates
        self.python = deps.get("python")
        self.torch = deps.get("pytorch")
        self.torchvision = deps.get("torchvision")
        self.torchaudio = deps.get("torchaudio")
        self.flavour, self.cuda = promised_build(deps)
        self.driver_short = False

    def describe(self):
        """Return a one-line description, e.g. `cu118 on linux-64-cu118`."""
        return "%s on %s" % (self.env, self.platform["name"])


def expect(data, env_name, subdir, host_cuda):
    """Return the Expectation for `env_name` here, or raise ManifestError naming the valid choices."""
    envs = environments(data)
    if env_name not in envs:
        raise ManifestError("unknown environment %r; valid environments: %s" % (env_name, ", ".join(sorted(envs))))
    candidates = env_platforms(data, env_name)
    platform = select_platform(candidates, subdir, host_cuda)
    driver_short = False
    if platform is None:
        # The driver is missing or too old for every CUDA platform: expect the first one for
        # this OS anyway, so the driver check can say what to install.
        here = [p for p in candidates if p["subdir"] == subdir]
        if not here:
            names = ", ".join(p["name"] for p in candidates)
            raise ManifestError(
                "environment %r does not support this machine (%s); it supports: %s" % (env_name, subdir, names)
            )
        platform, driver_short = here[0], True
    expectation = Expectation(env_name, platform, dependencies(data, env_name, platform), candidates)
    expectation.driver_short = driver_short
    return expectation


# ---- version specs (the subset of conda's MatchSpec syntax that pixi.toml uses) ----


def version_key(version):
    """Turn '2.0.1+cu117' or '11.8' into a comparable tuple of numbers."""
    version = str(version).split("+")[0]
    parts = []
    for piece in version.split("."):
        match = re.match(r"\d+", piece)
        if not match:
            break
        parts.append(int(match.group()))
    return tuple(parts)


def _padded(a, b):
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


def _matches_one(version, clause):
    clause = clause.strip()
    if clause in ("", "*"):
        return True
    op_match = re.match(r"(==|!=|>=|<=|>|<|=)?\s*(.+)$", clause)
    op, target = op_match.group(1) or "", op_match.group(2).strip()
    if target.endswith(".*"):
        prefix = version_key(target[:-2])
        head = (version_key(version) + (0,) * len(prefix))[: len(prefix)]
        equal = head == prefix
        return not equal if op == "!=" else equal
    have, want = _padded(version_key(version), version_key(target))
    if op in ("", "==", "="):
        return have == want
    return {"!=": have != want, ">=": have >= want, "<=": have <= want, ">": have > want, "<": have < want}[op]


def spec_matches(version, spec):
    """Return True if `version` satisfies a conda version spec like '2.0.1', '3.10.*', '>=1.21,<2'."""
    if spec is None:
        return True
    return any(all(_matches_one(version, c) for c in alt.split(",")) for alt in str(spec).split("|"))


def spec_floor(spec):
    """Return the lowest version a spec names ('11.8.*' -> '11.8', '>=12.8' -> '12.8'), or None."""
    match = re.search(r"\d+(\.\d+)*", str(spec or ""))
    return match.group() if match else None
