"""Read pixi.lock (formats v4 to v7, as conda/rattler's rattler_lock reads them) into plain records.

The layout (rattler_lock 0.32.0, the version pixi v0.77.0 pins): `version`; (v7) a `platforms` list of
{name, subdir, virtual-packages}, where pixi writes each rich platform as `p1`, `p2`, ... and maps it back to the
manifest by its subdir and virtual packages (crates/pixi_core/src/lock_file/platform_rename.rs@v0.77.0);
`environments`, each with its `channels` and, per platform, a list of references (`conda: URL`, `pypi: URL`); one
flat `packages` list holding each referenced record once, keyed by kind and URL. A conda record's name, version,
build and subdir come from its file name unless written out. Older formats (v4, v5: `kind: conda`, explicit fields;
v6: packages keyed by subdir, no platforms block) are read too, as pixi 0.77 reads them.
"""

import os
import posixpath
import re

from checks.report import UsageError
from checks.workspace import channels, platforms

SUPPORTED = (4, 5, 6, 7)
ARCHIVES = (".tar.bz2", ".conda", ".whl", ".tar.gz", ".zip")


class LockError(UsageError):
    """pixi.lock is missing, not YAML, of a format this reader does not know, or malformed."""


class Package:
    """One locked package: kind (conda or pypi), name, version, build, subdir, channel, url, depends."""

    def __init__(self, kind, url, fields, index=None):
        self.kind, self.url = kind, url
        self.depends = [str(d) for d in fields.get("depends") or fields.get("requires_dist") or []]
        parsed = parse_conda_url(url) if kind == "conda" else {}
        self.name = str(fields.get("name") or parsed.get("name") or "")
        self.version = str(fields.get("version") or parsed.get("version") or "")
        self.build = str(fields.get("build") or parsed.get("build") or "")
        self.subdir = str(fields.get("subdir") or parsed.get("subdir") or "")
        if kind == "conda":
            self.channel_url = channels.base_url(fields.get("channel") or parsed.get("channel"))
            self.channel = channels.name(self.channel_url)
        else:  # v7 writes `index` unless it is PyPI; older formats only have the URL the wheel came from
            wheel_index = re.match(r"(https://%s[\w.]+)/" % channels.WHEEL_INDEX_ROOT, url)
            self.channel = fields.get("index") or (wheel_index and wheel_index.group(1)) or index
            self.channel = self.channel or "https://pypi.org/simple"

    def label(self):
        """Return `name version build (channel)` for messages."""
        return " ".join(x for x in (self.name, self.version, self.build) if x) + " (%s)" % self.channel

    def depends_on(self, name):
        """Return the version spec this record's depends gives for `name`, '' if unversioned, None if absent.

        Several entries for one name (`pytorch >=2.10`, `pytorch <2.11`) are joined with `,`.
        """
        found = []
        for dep in self.depends:
            match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*([^;]*)", dep)
            if match and match.group(1).lower() == name:
                found.append(match.group(2).strip().split(" ")[0] if self.kind == "conda" else match.group(2).strip())
        if not found:
            return None
        return ",".join(f for f in found if f)


class Locked:
    """What one environment x lock platform holds: conda and PyPI records, each keyed by name."""

    def __init__(self, records):
        self.conda = {p.name: p for p in records if p.kind == "conda"}
        self.pypi = {_pypi_name(p.name): p for p in records if p.kind == "pypi"}

    def __len__(self):
        return len(self.conda) + len(self.pypi)

    def get(self, name):
        """Return the conda record of `name`, else the PyPI one, else None."""
        return self.conda.get(name) or self.pypi.get(_pypi_name(name))

    def torch(self):
        """Return the torch record: conda `pytorch`, else PyPI `torch`, else None."""
        return self.conda.get("pytorch") or self.pypi.get("torch")


def _pypi_name(name):
    return re.sub(r"[-_.]+", "-", name.lower())


class _LockShapes:
    """Check the types and shapes of every lock value the reader uses, before it uses them: a violation is a LockError
    (exit 2) naming the file, the line and the key, and what the lock format holds there (rattler_lock's
    serialization, crates/rattler_lock/src/parse/ at rattler_lock-v0.32.0, the version pixi v0.77.0 pins)."""

    def __init__(self, path, lines):
        self.path, self.lines = path, lines

    def fail(self, parent, keys, message):
        line = self.lines.get((id(parent), keys[-1])) or self.lines.get(id(parent))
        where = "%s line %d" % (self.path, line) if line else self.path
        dotted = "".join("[%d]" % k if isinstance(k, int) else ("." if i else "") + str(k) for i, k in enumerate(keys))
        raise LockError("lock %s: `%s`: %s; regenerate it with `pixi lock`" % (where, dotted, message))

    def want(self, parent, keys, value, kinds, expected):
        if not isinstance(value, kinds) or isinstance(value, bool):
            found = next((n for t, n in _YAML_NAMES if isinstance(value, t)), type(value).__name__)
            self.fail(parent, keys, "expected %s, found %s" % (expected, found))
        return value

    def strings(self, parent, keys, value, expected="a string"):
        for index, item in enumerate(self.want(parent, keys, value, list, "a list")):
            self.want(value, keys + [index], item, (str, int, float), expected)

    def check(self, doc):
        rows = self.want(doc, ["platforms"], doc.get("platforms") or [], list, "a list")
        for index, row in enumerate(rows):
            where = ["platforms", index]
            self.want(rows, where, row, dict, "a platform (`name`, `subdir`, `virtual-packages`)")
            self.want(row, where + ["name"], row.get("name"), (str, int, float), "a platform name")
            if "subdir" in row:
                self.want(row, where + ["subdir"], row["subdir"], str, "a conda subdir")
            self.strings(row, where + ["virtual-packages"], row.get("virtual-packages") or [], "`__name=version`")
        entries = self.want(doc, ["packages"], doc.get("packages") or [], list, "a list")
        for index, entry in enumerate(entries):
            where = ["packages", index]
            self.want(entries, where, entry, dict, "a package record")
            url = entry.get("conda") or entry.get("pypi") or entry.get("url") or entry.get("path")
            self.want(entry, where + ["conda" if "conda" in entry else "pypi"], url, str, "a URL or path")
            for key in ("name", "version", "build", "subdir", "channel", "index"):
                if entry.get(key) is not None:
                    self.want(entry, where + [key], entry[key], (str, int, float), "a string")
            for key in ("depends", "requires_dist"):
                if entry.get(key) is not None:
                    self.strings(entry, where + [key], entry[key], "a requirement (a string)")
        environments = self.want(doc, ["environments"], doc.get("environments") or {}, dict, "a mapping")
        for env, body in environments.items():
            where = ["environments", str(env)]
            self.want(environments, where, body, dict, "an environment (`channels`, `packages`)")
            for index, channel in enumerate(
                self.want(body, where + ["channels"], body.get("channels") or [], list, "a list")
            ):
                self.want(body["channels"], where + ["channels", index], channel, (str, dict), "a channel (`url: ...`)")
                if isinstance(channel, dict):
                    self.want(channel, where + ["channels", index, "url"], channel.get("url"), str, "a URL")
            self.strings(body, where + ["indexes"], body.get("indexes") or [], "an index URL")
            packages = self.want(body, where + ["packages"], body.get("packages") or {}, dict, "a mapping of platforms")
            for platform, refs in packages.items():
                for index, ref in enumerate(
                    self.want(packages, where + ["packages", str(platform)], refs or [], list, "a list")
                ):
                    keys = where + ["packages", str(platform), index]
                    self.want(refs, keys, ref, dict, "a reference (`conda: URL` or `pypi: URL`)")
                    kind = "conda" if "conda" in ref else "pypi"
                    self.want(ref, keys + [kind], ref.get(kind), str, "a URL or path")


_YAML_NAMES = ((bool, "a boolean"), (str, "a string"), (int, "an integer"), (float, "a float"), (list, "a list"))
_YAML_NAMES += ((dict, "a mapping"), (type(None), "nothing (null)"))


def parse_conda_url(url):
    """Split `.../<channel>/<subdir>/<name>-<version>-<build>.tar.bz2` into its parts (name may hold dashes)."""
    directory, filename = posixpath.split(url.split("#")[0])
    stem = next((filename[: -len(a)] for a in ARCHIVES if filename.endswith(a)), filename)
    name, version, build = (stem.rsplit("-", 2) + ["", ""])[:3] if stem.count("-") >= 2 else (stem, "", "")
    channel_dir, subdir = posixpath.split(directory)
    return {"name": name, "version": version, "build": build, "subdir": subdir, "channel": channel_dir}


class LockPlatform:
    """A platform row of the lock: its name (`p1` or a subdir), subdir and parsed virtual packages."""

    def __init__(self, name, subdir, virtual_packages):
        self.name, self.subdir = name, subdir
        self.strings = [str(v) for v in virtual_packages]
        self.packages = [vp for vp in map(platforms.parse_virtual_package, self.strings) if vp is not None]

    def label(self):
        """Return `p2 (linux-64, __cuda=12)` for messages: the subdir and the non-default packages."""
        defaults = platforms.subdir_defaults(self.subdir)
        extra = [str(v) for v in self.packages if not any(v.same(d) for d in defaults)]
        return "%s (%s%s)" % (self.name, self.subdir, ", " + ", ".join(extra) if extra else "")


class Lock:
    """A parsed pixi.lock: version, platforms {name: LockPlatform}, environments {name: {channels, packages}}."""

    def __init__(self, document, path="pixi.lock", lines=None):
        if not isinstance(document, dict) or "version" not in document:
            raise LockError("%s is not a pixi lock file (no `version:`); regenerate it with `pixi lock`" % path)
        self.path, self.version = path, document["version"]
        if self.version not in SUPPORTED or isinstance(self.version, bool):
            raise LockError(
                "%s is lock format v%s; pixi 0.77 and this audit read v4 to v7: regenerate it with the pixi that "
                "requires-pixi names (`pixi lock`)" % (path, self.version)
            )
        _LockShapes(path, lines or {}).check(document)
        try:
            self.platforms = {
                str(p["name"]): LockPlatform(
                    str(p["name"]), str(p.get("subdir") or p["name"]), p.get("virtual-packages") or []
                )
                for p in document.get("platforms") or []
            }
            records, self._made = {}, {}
            for entry in document.get("packages") or []:
                kind = "conda" if "conda" in entry or entry.get("kind") == "conda" else "pypi"
                url = entry.get(kind) or entry.get("url") or entry.get("path")  # v4/v5: `url:` or `path:`
                records[(kind, url)] = entry
            self.environments = {}
            for env, body in (document.get("environments") or {}).items():
                indexes = body.get("indexes") or []
                packages = {}
                for platform, refs in (body.get("packages") or {}).items():
                    packages[str(platform)] = Locked(
                        [self._resolve(records, ref, env, platform, indexes) for ref in refs or []]
                    )
                    self.platforms.setdefault(str(platform), LockPlatform(str(platform), str(platform), []))  # v4-v6
                self.environments[env] = {
                    "channels": [
                        channels.base_url(c["url"] if isinstance(c, dict) else c) for c in body.get("channels") or []
                    ],
                    "indexes": list(indexes),
                    "packages": packages,
                }
        except (KeyError, TypeError, AttributeError) as exc:
            raise LockError(
                "%s is malformed (%s: %s); regenerate it with `pixi lock`" % (path, type(exc).__name__, exc)
            ) from None

    def _resolve(self, records, ref, env, platform, indexes):
        kind = "conda" if "conda" in ref else "pypi"
        key = (kind, ref.get(kind), indexes[0] if indexes and kind == "pypi" else None)
        package = self._made.get(key)
        if package is None:
            try:
                entry = records[key[:2]]
            except KeyError:
                raise LockError(
                    "%s: environment %s, platform %s refers to %s, which is not in `packages:`; "
                    "regenerate it with `pixi lock`" % (self.path, env, platform, ref.get(kind, ref))
                ) from None
            package = self._made[key] = Package(kind, ref[kind], entry, key[2])  # one record, many references
        return package

    def packages(self, env, platform):
        """Return the Locked records of an environment on a lock platform name, or None if absent."""
        return self.environments.get(env, {}).get("packages", {}).get(platform)


def _loader(yaml):
    """Return a safe YAML loader that refuses aliases, anchors' other half, and merge keys.

    pixi's lock writer (serde_yaml through rattler_lock) never emits an alias, so a lock holding one was not written
    by pixi; refusing it keeps the cost of a document linear in its size (an alias bomb expands exponentially in
    whatever walks it). The C loader is used when PyYAML has it; a node constructed a second time is an alias.
    """
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class NoAliasLoader(base):
        lines = None

        def construct_yaml_map(self, node):
            """A mapping, its line recorded ({id(mapping): line}) for messages about it."""
            data = {}
            self.lines[id(data)] = node.start_mark.line + 1
            yield data
            data.update(self.construct_mapping(node))
            for key, value in node.value:
                if isinstance(key.value, str):
                    self.lines[(id(data), key.value)] = value.start_mark.line + 1

        def construct_yaml_seq(self, node):
            """A list, each item's line recorded ({(id(list), index): line})."""
            data = []
            self.lines[id(data)] = node.start_mark.line + 1
            yield data
            data.extend(self.construct_sequence(node))
            for index, item in enumerate(node.value):
                self.lines[(id(data), index)] = item.start_mark.line + 1

        def construct_object(self, node, deep=False):
            if node in self.constructed_objects or node in self.recursive_objects:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    "this node is used again through a YAML alias (`*name`), which pixi's lock writer never emits",
                    node.start_mark,
                )
            return super().construct_object(node, deep)

        def flatten_mapping(self, node):
            for key, _ in node.value:
                if key.tag == "tag:yaml.org,2002:merge":
                    raise yaml.constructor.ConstructorError(
                        None, None, "a YAML merge key (`<<`): pixi's lock writer emits none", key.start_mark
                    )
            return super().flatten_mapping(node)

    NoAliasLoader.add_constructor("tag:yaml.org,2002:map", NoAliasLoader.construct_yaml_map)
    NoAliasLoader.add_constructor("tag:yaml.org,2002:seq", NoAliasLoader.construct_yaml_seq)
    return NoAliasLoader


MAX_DEPTH = 100  # flow brackets plus indentation levels; pixi's own locks stay below 10


def _too_deep(text):
    """Return the first line (1-based) where YAML's nesting, flow brackets and block indentation together, passes
    MAX_DEPTH, else None (one linear pass; quoted brackets count too, which only errs towards refusing)."""
    flow = 0
    for number, line in enumerate(text.splitlines(), 1):
        indent = (len(line) - len(line.lstrip(" "))) // 2
        for char in line:
            if char in "[{":
                flow += 1
                if flow + indent > MAX_DEPTH:
                    return number
            elif char in "]}":
                flow = max(0, flow - 1)
        if indent > MAX_DEPTH:
            return number
    return None


def load(path):
    """Read and parse a pixi.lock file; raise LockError with the fix on any problem.

    The file is untrusted input: a regular file of at most untrusted.LOCK_LIMIT bytes of UTF-8
    (checks/workspace/untrusted.py),
    YAML without aliases or merge keys (`_loader`); libyaml refuses nesting beyond 1,000 levels, and a recursion
    limit reached while building the document is refused the same way.
    """
    from checks.workspace import untrusted

    if not os.path.exists(path):
        raise LockError("%s does not exist: run `pixi lock` (and commit pixi.lock)" % path)
    try:
        import yaml
    except ImportError:
        raise LockError(
            "reading pixi.lock needs PyYAML: `pixi run lock-audit` (the lint environment has it) "
            "or `pip install pyyaml`"
        ) from None
    regenerate = "regenerate it with `pixi lock`"
    text = untrusted.read_text(path, "lock", untrusted.LOCK_LIMIT, LockError, regenerate)
    deep = _too_deep(text)
    if deep is not None:  # some libyaml builds (PyYAML's wheels for older Pythons) set no nesting limit
        raise LockError(
            "lock %s line %d is not valid YAML: nested deeper than %d levels (pixi's locks nest about 6); %s"
            % (path, deep, MAX_DEPTH, regenerate)
        )
    loader = _loader(yaml)(text)
    loader.lines = {}
    try:
        document = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = " line %d" % (mark.line + 1) if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise LockError("lock %s%s is not valid YAML: %s; %s" % (path, where, problem, regenerate)) from None
    except RecursionError:
        raise LockError("lock %s: nested deeper than a pixi lock is; %s" % (path, regenerate)) from None
    finally:
        loader.dispose()
    return Lock(document, path, loader.lines)
