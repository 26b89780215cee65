"""pixi's workspace platforms: subdirs, declared virtual packages, names, and how lock rows map back to them.

Every rule mirrors pixi v0.77.0 (prefix-dev/pixi at tag v0.77.0; rattler crates at the versions its Cargo.lock pins);
each function names the source it follows. A workspace platform is a conda subdir plus the virtual packages it
declares: a bare string (`"linux-64"`) declares exactly the subdir's defaults, an inline table
(`{ name = "gpu", platform = "linux-64", cuda = "12.0" }`) declares its own packages with the defaults merged in.
"""

import re

from checks.workspace import versions

# Every subdir rattler knows (crates/rattler_conda_types/src/platform.rs@rattler_conda_types-v0.49.0:422-459).
SUBDIRS = (
    "noarch",
    "linux-32",
    "linux-64",
    "linux-aarch64",
    "linux-armv6l",
    "linux-armv7l",
    "linux-loongarch64",
    "linux-ppc64le",
    "linux-ppc64",
    "linux-ppc",
    "linux-s390x",
    "linux-riscv32",
    "linux-riscv64",
    "freebsd-32",
    "freebsd-64",
    "freebsd-arm64",
    "osx-64",
    "osx-arm64",
    "ios-arm64",
    "iossimulator-arm64",
    "iossimulator-64",
    "android-aarch64",
    "android-armv7a",
    "android-64",
    "android-32",
    "win-32",
    "win-64",
    "win-arm64",
    "emscripten-wasm32",
    "wasi-wasm32",
    "zos-z",
)
# Family target selectors; a platform may not be named after one (crates/pixi_manifest/src/target.rs@v0.77.0:775-785).
FAMILIES = {"linux": "linux", "unix": "unix", "win": "win", "osx": "osx", "macos": "osx"}
# Inline-table keys for virtual packages, in the order that names are built from
# (FRIENDLY_VIRTUAL_PACKAGES, crates/pixi_manifest/src/toml/platform.rs@v0.77.0:128-165).
FRIENDLY = (("cuda", "__cuda"), ("archspec", "__archspec"), ("glibc", "__glibc"), ("linux", "__linux"))
FRIENDLY += (("macos", "__osx"), ("windows", "__win"))
TABLE_KEYS = ("name", "platform", "cuda", "archspec", "glibc", "linux", "macos", "osx", "windows")
# The minimal microarchitecture per subdir (Archspec::from_platform,
# crates/rattler_virtual_packages/src/lib.rs@rattler_virtual_packages-v4.1.0:864-900).
ARCHSPEC = {"win-32": "x86", "linux-32": "x86", "android-32": "x86", "win-64": "x86_64", "osx-64": "x86_64"}
ARCHSPEC.update({"linux-64": "x86_64", "iossimulator-64": "x86_64", "android-64": "x86_64", "osx-arm64": "m1"})
ARCHSPEC.update({s: "aarch64" for s in ("linux-aarch64", "linux-armv6l", "linux-armv7l", "win-arm64")})
ARCHSPEC.update({s: "aarch64" for s in ("ios-arm64", "iossimulator-arm64", "android-aarch64")})
ARCHSPEC.update({"linux-" + a: a for a in ("loongarch64", "ppc64le", "ppc64", "ppc", "s390x", "riscv32", "riscv64")})
SUBDIR_PLATFORM_ERROR = (
    "platform entry rejected: You tried to add a virtual package into a special subdir platform; either drop the "
    "virtual packages or give the entry a `name` distinct from its subdir"
)


class PlatformError(ValueError):
    """An entry of `platforms` that pixi rejects; the message is pixi's own wording."""


class VirtualPackage:
    """A declared virtual package: `__cuda` version `12.0`, build `` (the lock writes `__cuda=12.0`)."""

    __slots__ = ("name", "version", "build")

    def __init__(self, name, version, build=""):
        self.name, self.version, self.build = name, str(version).lower(), build

    def __str__(self):
        """Return pixi's lock form: `name=version`, plus `=build` when the build is not empty.

        GenericVirtualPackage's Display, crates/rattler_conda_types/src/generic_virtual_package.rs at
        rattler_conda_types-v0.49.0:20-28: `__cuda=12`, `__glibc=2.28`, `__unix=0=0`, `__archspec=0=x86_64`.
        """
        return "%s=%s%s" % (self.name, self.version, "=" + self.build if self.build else "")

    def __repr__(self):
        return "VirtualPackage(%s)" % self

    def same(self, other, canonical_build=False):
        """Return True for the same name, an equal version (`12` == `12.0`) and the same build string."""
        builds = (self.build, other.build)
        if canonical_build:  # PixiPlatform::customised_virtual_packages treats build "0" as "" (platform.rs:549-563)
            builds = tuple("" if b == "0" else b for b in builds)
        return self.name == other.name and builds[0] == builds[1] and versions.compare(self.version, other.version) == 0


def parse_virtual_package(text):
    """Parse a lock's `__name=version[=build]`, or return None for text pixi would drop.

    parse_locked_virtual_package, crates/pixi_manifest/src/platform.rs@v0.77.0:921-933 (splitn(3, '=')).
    """
    parts = str(text).split("=", 2)
    if len(parts) < 2 or not parts[0].startswith("__") or not parts[1]:
        return None
    try:
        versions.compare(parts[1], parts[1])
    except (versions.SpecError, ValueError, RuntimeError):
        return None
    return VirtualPackage(parts[0], parts[1], parts[2] if len(parts) > 2 else "")


def is_linux(subdir):
    return subdir.startswith("linux-")


def is_unix(subdir):
    """linux, osx, ios, android, freebsd and emscripten subdirs (Platform::is_unix, rattler platform.rs:309-321)."""
    return subdir.split("-")[0] in ("linux", "osx", "ios", "iossimulator", "android", "freebsd", "emscripten")


def family_matches(family, subdir):
    """Return True if a family selector (`linux`, `unix`, `win`, `osx`/`macos`) covers a subdir."""
    family = FAMILIES[family]
    return is_unix(subdir) if family == "unix" else subdir.split("-")[0] == family


def subdir_defaults(subdir):
    """Return the virtual packages pixi assumes for a bare subdir, in pixi's order.

    subdir_default_virtual_packages, crates/pixi_manifest/src/platform.rs@v0.77.0:758-795, with the versions of
    crates/pixi_default_versions/src/lib.rs@v0.77.0:4-26: `__unix=0=0`, `__linux=4.18`, `__glibc=2.28`,
    `__win=10.0`, `__osx=13.0`, `__archspec=0=<minimal microarchitecture>`. `__cuda` is never a default.
    """
    out = []
    if is_unix(subdir):
        out.append(VirtualPackage("__unix", "0", "0"))
    if is_linux(subdir):
        out += [VirtualPackage("__linux", "4.18"), VirtualPackage("__glibc", "2.28")]
    if subdir.startswith("win-"):
        out.append(VirtualPackage("__win", "10.0"))
    if subdir in ("osx-64", "osx-arm64"):
        out.append(VirtualPackage("__osx", "13.0"))
    if subdir in ARCHSPEC:
        out.append(VirtualPackage("__archspec", "0", ARCHSPEC[subdir]))
    return out


def _is_default(vp, subdir):
    return any(vp.same(d) for d in subdir_defaults(subdir))


def _sanitize(text):
    """sanitize_name_segment, crates/pixi_manifest/src/toml/platform.rs@v0.77.0:742-761: `12.0` -> `12-0`."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def synthesize_name(subdir, declared):
    """Return the name pixi gives an entry without `name`: `<subdir>[-<key>-<value>...]`.

    synthesize_name_string and classify_virtual_packages, crates/pixi_manifest/src/toml/platform.rs@v0.77.0:715-851:
    default-valued packages are left out; friendly keys in FRIENDLY order, then the rest alphabetically with their
    leading `_` stripped. `{ platform = "linux-64", cuda = "12.0" }` -> `linux-64-cuda-12-0`.
    """
    custom = [vp for vp in declared if not _is_default(vp, subdir)]
    parts, used = [subdir], set()
    for key, conda in FRIENDLY:
        vp = next((v for v in custom if v.name == conda), None)
        if vp is None:
            continue
        if key == "archspec":
            if versions.compare(vp.version, "0") != 0 or not vp.build:
                continue
            value = vp.build
        elif vp.build in ("", "0"):
            value = vp.version
        else:
            continue
        used.add(conda)
        parts.append("%s-%s" % (key, _sanitize(value)))
    for vp in sorted((v for v in custom if v.name not in used), key=lambda v: v.name):
        value = vp.version if vp.build in ("", "0") else "%s=%s" % (vp.version, vp.build)
        parts.append("%s-%s" % (_sanitize(vp.name.lstrip("_")), _sanitize(value)))
    return "-".join(parts)


def name_problem(name):
    """Return pixi's error for an invalid platform name, or None (PixiPlatformName, platform.rs@v0.77.0:70-120).

    In pixi.toml every invalid name gets one message (toml/platform.rs@v0.77.0:601-616), reserved names included.
    """
    ok = (
        0 < len(name.encode()) <= 64
        and name[0].isascii()
        and name[0].isalpha()
        and name[-1].isascii()
        and name[-1].isalnum()
        and all(c.isascii() and (c.isalnum() or c == "-") for c in name)
        and name not in FAMILIES
    )
    return None if ok else "'%s' is not a valid platform name (allowed: alphanumeric, '-')" % name


class Platform:
    """A workspace platform: name, subdir, the virtual packages it declares (defaults included), its position.

    `explicit` is True when the manifest wrote a `name`; `declared` lists the user's packages first, then the
    subdir defaults it did not override (merge_subdir_defaults, platform.rs@v0.77.0:940-953).
    """

    def __init__(self, name, subdir, declared, explicit=False):
        self.name, self.subdir, self.declared, self.explicit = name, subdir, list(declared), explicit

    @classmethod
    def from_subdir(cls, subdir):
        """A bare-string entry: named after its subdir, declaring exactly the defaults (platform.rs:314-320)."""
        return cls(subdir, subdir, subdir_defaults(subdir))

    @classmethod
    def with_defaults(cls, name, subdir, user, explicit=False):
        """new_with_defaults (platform.rs@v0.77.0:447-461): the user's packages, then the defaults they lack.

        Raises PlatformError when a platform named after its subdir declares packages (IsSubdirPlatform).
        """
        if name == subdir:
            if user:
                raise PlatformError(SUBDIR_PLATFORM_ERROR)
            return cls.from_subdir(subdir)
        names = {vp.name for vp in user}
        libc = {"__glibc", "__musl", "__eglibc"}
        merged = list(user)
        for vp in subdir_defaults(subdir):
            if vp.name not in names and not (vp.name == "__glibc" and names & libc):
                merged.append(vp)
        if "__cuda_arch" in names and "__cuda" not in names:
            raise PlatformError("`__cuda_arch` requires `__cuda` to be declared as well")
        return cls(name, subdir, merged, explicit)

    @property
    def is_subdir(self):
        """True for a bare subdir platform (its name is its subdir)."""
        return self.name == self.subdir

    @property
    def customised(self):
        """The declared packages that are not subdir defaults: the platform's identity besides its subdir."""
        return [vp for vp in self.declared if not _is_default(vp, self.subdir)]

    def declares(self, name):
        """Return the version this platform declares for a virtual package (e.g. `__cuda`), or None."""
        return next((vp.version for vp in self.declared if vp.name == name), None)

    @property
    def cuda(self):
        """The CUDA driver version this platform declares (`__cuda`), or None."""
        return self.declares("__cuda")

    def same_definition(self, subdir, packages):
        """Return True if a lock row (subdir, parsed virtual packages) is this platform.

        compute_renames, crates/pixi_core/src/lock_file/platform_rename.rs@v0.77.0:94-180: same subdir and the
        same packages once the lock subdir's defaults are dropped, versions compared as versions (`12` == `12.0`).
        """
        if subdir != self.subdir:
            return False
        theirs = sorted((vp for vp in packages if not _is_default(vp, subdir)), key=lambda v: v.name)
        mine = sorted(self.customised, key=lambda v: v.name)
        return len(mine) == len(theirs) and all(a.same(b) for a, b in zip(mine, theirs))

    def same_declared(self, packages):
        """Return True if `packages` are exactly this platform's declared packages, defaults included, in any order
        (virtual_packages_match, crates/pixi_core/src/workspace/environment.rs@v0.77.0:517-527)."""
        key = lambda v: (v.name, v.version, v.build)  # noqa: E731
        mine, theirs = sorted(self.declared, key=key), sorted(packages, key=key)
        return len(mine) == len(theirs) and all(a.same(b) for a, b in zip(mine, theirs))

    def runs_on(self, host):
        """Return True if a host with virtual packages {name: version} can run this platform.

        capability_satisfied_by, crates/pixi_manifest/src/platform.rs@v0.77.0:809-818: every non-default package
        needs a host package of the same name at an equal or higher version; defaults are never required.
        """
        return all(
            vp.name in host and host[vp.name] is not None and versions.compare(host[vp.name], vp.version) >= 0
            for vp in self.customised
        )

    def label(self):
        """Return `name (subdir, __cuda=12.0)` for messages."""
        extra = ", ".join(str(vp) for vp in self.customised)
        return "%s (%s%s)" % (self.name, self.subdir, ", " + extra if extra else "")

    def __repr__(self):
        return "Platform(%s)" % self.label()


def parse_entry(entry):
    """Parse one `platforms` entry of `[workspace]` into a Platform, or raise PlatformError with pixi's message.

    TomlPixiPlatform::deserialize, crates/pixi_manifest/src/toml/platform.rs@v0.77.0:207-309.
    """
    if isinstance(entry, str):
        if entry not in SUBDIRS:
            raise PlatformError("'%s' is not a known platform" % entry)
        return Platform.from_subdir(entry)
    if not isinstance(entry, dict):
        raise PlatformError("expected a string or table, found %s" % type(entry).__name__)
    unknown = [k for k in entry if k not in TABLE_KEYS and not k.startswith("__")]
    if unknown:
        raise PlatformError(
            "Unexpected keys, expected only %s ('%s' was not expected here)"
            % (", ".join("'%s'" % k for k in TABLE_KEYS), "', '".join(unknown))
        )
    if "macos" in entry and "osx" in entry:
        raise PlatformError("'osx' is an alias for 'macos'; set only one")
    user = []
    cuda = entry.get("cuda")
    if isinstance(cuda, dict):
        if "driver" not in cuda:
            raise PlatformError("`cuda` table must set `driver` (and optionally `arch`)")
        user.append(VirtualPackage("__cuda", cuda["driver"]))
        if "arch" in cuda:
            user.append(VirtualPackage("__cuda_arch", cuda["arch"]))
    elif cuda is not None:
        user.append(VirtualPackage("__cuda", cuda))
    for key, conda in FRIENDLY[1:]:
        value = entry.get(key, entry.get("osx") if key == "macos" else None)
        if value is None:
            continue
        if not isinstance(value, str):
            raise PlatformError("'%s': expected a string, found %s" % (key, type(value).__name__))
        user.append(VirtualPackage(conda, "0", value) if key == "archspec" else VirtualPackage(conda, value))
    for key in sorted(k for k in entry if k.startswith("__")):
        if any(vp.name == key for vp in user):
            raise PlatformError(
                "'%s' is declared more than once; set it via either a friendly key or the raw '%s' key, not both"
                % (key, key)
            )
        version, _, build = str(entry[key]).partition("=")
        user.append(VirtualPackage(key, version, build))
    name, subdir = entry.get("name"), entry.get("platform")
    if subdir is None:
        if name is None:
            raise PlatformError("a platform entry must set at least one of 'name' or 'platform'")
        if name not in SUBDIRS:
            raise PlatformError("'%s' is not a conda subdir; set 'platform' explicitly when using a custom name" % name)
        subdir = name
    if subdir not in SUBDIRS:
        raise PlatformError("'%s' is not a known platform" % subdir)
    if name is not None and name_problem(name):
        raise PlatformError(name_problem(name))
    explicit = name is not None
    name = name if explicit else synthesize_name(subdir, user)
    return Platform.with_defaults(name, subdir, user, explicit)
