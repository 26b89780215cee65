"""Read pixi.lock (formats v6 and v7, as conda/rattler's rattler_lock writes them) into plain records.

The layout: `version`, (v7) a `platforms` list of {name, subdir, virtual-packages}, `environments` mapping
each environment to its `channels` and, per platform, a list of package references (`conda: URL` or
`pypi: URL`), and one flat `packages` list holding each referenced record once, keyed by that URL.
A conda record's name, version, build and subdir come from its file name unless written out.
"""

import posixpath

from checks.report import UsageError

SUPPORTED = (6, 7)
ARCHIVES = (".tar.bz2", ".conda", ".whl", ".tar.gz", ".zip")


class LockError(UsageError):
    """pixi.lock is missing, not YAML, of a format this reader does not know, or malformed."""


class Package:
    """One locked package: kind (conda or pypi), name, version, build, subdir, channel, url, depends."""

    def __init__(self, kind, url, fields):
        self.kind, self.url = kind, url
        self.depends = list(fields.get("depends") or fields.get("requires_dist") or [])
        parsed = parse_conda_url(url) if kind == "conda" else {}
        self.name = str(fields.get("name") or parsed.get("name") or "")
        self.version = str(fields.get("version") or parsed.get("version") or "")
        self.build = str(fields.get("build") or parsed.get("build") or "")
        self.subdir = str(fields.get("subdir") or parsed.get("subdir") or "")
        self.channel = parsed.get("channel") if kind == "conda" else fields.get("index") or "pypi"

    def label(self):
        """Return `name version build (channel)` for messages."""
        return " ".join(x for x in (self.name, self.version, self.build) if x) + " (%s)" % self.channel

    def depends_on(self, name):
        """Return the version spec this record's depends gives for `name`, '' if unversioned, None if absent."""
        for dep in self.depends:
            parts = dep.split()
            if parts and parts[0] == name:
                return parts[1] if len(parts) > 1 else ""
        return None


def parse_conda_url(url):
    """Split `.../<channel>/<subdir>/<name>-<version>-<build>.tar.bz2` into its parts (name may hold dashes)."""
    directory, filename = posixpath.split(url.split("#")[0])
    stem = next((filename[: -len(a)] for a in ARCHIVES if filename.endswith(a)), filename)
    name, version, build = (stem.rsplit("-", 2) + ["", ""])[:3] if stem.count("-") >= 2 else (stem, "", "")
    channel_dir, subdir = posixpath.split(directory)
    return {"name": name, "version": version, "build": build, "subdir": subdir, "channel": _channel(channel_dir)}


def _channel(url):
    """Return a channel's short name: `https://conda.anaconda.org/pytorch` -> `pytorch`; local paths as given."""
    url = url.rstrip("/")
    for prefix in ("https://conda.anaconda.org/", "https://prefix.dev/", "https://repo.prefix.dev/"):
        if url.startswith(prefix):
            return url[len(prefix) :]
    return url


class Lock:
    """A parsed pixi.lock: version, platforms {name: {subdir, virtual_packages}}, environments."""

    def __init__(self, document, path="pixi.lock"):
        if not isinstance(document, dict) or "version" not in document:
            raise LockError("%s is not a pixi lock file (no `version:`); regenerate it with `pixi lock`" % path)
        self.path, self.version = path, document["version"]
        if self.version not in SUPPORTED:
            raise LockError(
                "%s is lock format v%s; this audit reads v6 (pixi 0.39-0.67) and v7 (pixi 0.68+): "
                "regenerate it with the pixi that requires-pixi names (`pixi lock`)" % (path, self.version)
            )
        try:
            self.platforms = {
                p["name"]: {
                    "subdir": p.get("subdir", p["name"]),
                    "virtual_packages": list(p.get("virtual-packages", [])),
                }
                for p in document.get("platforms") or []
            }
            records = {}
            for entry in document.get("packages") or []:
                kind = "conda" if "conda" in entry else "pypi"
                records[(kind, entry[kind])] = Package(kind, entry[kind], entry)
            self.environments = {}
            for env, body in (document.get("environments") or {}).items():
                packages = {}
                for platform, refs in (body.get("packages") or {}).items():
                    packages[platform] = [self._resolve(records, ref, env, platform) for ref in refs or []]
                    self.platforms.setdefault(platform, {"subdir": platform, "virtual_packages": []})  # v6
                self.environments[env] = {
                    "channels": [_channel(c["url"] if isinstance(c, dict) else c) for c in body.get("channels") or []],
                    "packages": packages,
                }
        except (KeyError, TypeError, AttributeError) as exc:
            raise LockError(
                "%s is malformed (%s: %s); regenerate it with `pixi lock`" % (path, type(exc).__name__, exc)
            ) from None

    def _resolve(self, records, ref, env, platform):
        kind = "conda" if "conda" in ref else "pypi"
        try:
            return records[(kind, ref[kind])]
        except KeyError:
            raise LockError(
                "%s: environment %s, platform %s refers to %s, which is not in `packages:`; "
                "regenerate it with `pixi lock`" % (self.path, env, platform, ref[kind])
            ) from None

    def packages(self, env, platform):
        """Return {name: Package} locked for an environment on a platform name, or None if absent."""
        refs = self.environments.get(env, {}).get("packages", {}).get(platform)
        return None if refs is None else {p.name: p for p in refs}


def load(path):
    """Read and parse a pixi.lock file; raise LockError with the fix on any problem."""
    try:
        import yaml
    except ImportError:
        raise LockError(
            "reading pixi.lock needs PyYAML: `pixi run lock-audit` (the lint environment has it) "
            "or `pip install pyyaml`"
        ) from None
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise LockError("cannot read %s (%s): run `pixi lock` to create it" % (path, exc.strerror)) from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(text, Loader=loader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        raise LockError("%s is not valid YAML (%s); regenerate it with `pixi lock`" % (path, exc)) from None
    return Lock(document, path)
