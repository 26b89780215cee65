"""The glibc a PyPI wheel needs, read from its platform tags, and which of an environment's PyPI dependencies the
workspace's libc rules out.

Sources of the rules:
- A wheel's file name is `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`, and each tag may be a set
  joined by `.` (PEP 427, "File name convention"; PEP 425, "Compressed Tag Sets"). An installed wheel keeps its tags
  as `Tag:` lines of its dist-info WHEEL file (PEP 427, "The .dist-info directory").
- `manylinux_X_Y_ARCH` needs glibc X.Y or newer (PEP 600); the legacy aliases are manylinux1 = 2.5,
  manylinux2010 = 2.12 and manylinux2014 = 2.17 (PEP 600, "Legacy manylinux tags"). A wheel with several platform
  tags installs where any one of them does, so it needs the oldest glibc among them.
- pixi resolves PyPI packages for the glibc the environment's platform declares: `[system-requirements] libc`
  (`libc = "2.31"` or `{ family = "glibc", version = "2.31" }`,
  crates/pixi_manifest/src/system_requirements.rs@v0.77.0:25-26), else its default `__glibc=2.28`
  (`default_glibc_version`, crates/pixi_default_versions/src/lib.rs@v0.77.0:3-6; checks/workspace/platforms.py
  subdir_defaults): get_linux_platform_tags (crates/pypi_modifiers/src/pypi_tags.rs@v0.77.0:111-135) gives uv the
  platform `Manylinux {major, minor}` of the declared libc or that default, so only wheels whose manylinux tags that
  glibc satisfies are candidates, and a package with no such wheel is built from its source distribution
  (pixi#5266: vllm 0.13.0's `manylinux_2_31` wheels under the default 2.28).
  `pixi workspace system-requirements add glibc X.Y` writes `[system-requirements] libc = "X.Y"`.
"""

import dataclasses
import os
import re
from typing import Optional, Tuple

LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_\w+$")
# pixi's default __glibc for a Linux platform that declares no libc (pixi_default_versions@v0.77.0)
PIXI_DEFAULT_GLIBC = "2.28"
TORCH_FAMILY = ("torch", "torchvision", "torchaudio")


def normal(name):
    """A PyPI name as PEP 503 normalises it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def tag_glibc(platform_tag):
    """Return the (major, minor) glibc a manylinux platform tag needs, or None for any other tag (`any`,
    `linux_x86_64`, `musllinux_1_2_x86_64`, `macosx_...`)."""
    match = MANYLINUX.match(platform_tag)
    if match:
        return int(match.group(1)), int(match.group(2))
    arch = platform_tag.split("_", 1)[0]
    return LEGACY_MANYLINUX.get(arch)


def platform_tags(filename):
    """Return the platform tags of a wheel file name (PEP 427; a compressed set `a.b` gives both), or () for a name
    that is not a wheel's (a source distribution's `.tar.gz`)."""
    base = os.path.basename(filename.split("#")[0].split("?")[0])
    if not base.endswith(".whl"):
        return ()
    parts = base[: -len(".whl")].split("-")
    if len(parts) not in (5, 6):
        return ()
    return tuple(parts[-1].split("."))


def wheel_tag_lines(text):
    """Return the platform tags of a dist-info WHEEL file's `Tag:` lines (`Tag: cp38-abi3-manylinux_2_31_x86_64`)."""
    out = []
    for line in text.splitlines():
        if line.startswith("Tag:"):
            out.extend(line.split(":", 1)[1].strip().split("-")[-1].split("."))
    return tuple(out)


def needed_glibc(tags):
    """Return the glibc (major, minor) a wheel with these platform tags needs (the oldest among its manylinux tags),
    or None when one of its tags is not a manylinux tag (`any`: no glibc needed) or there are none."""
    found = [tag_glibc(t) for t in tags]
    if not found or any(g is None for g in found):
        return None
    return min(found)


@dataclasses.dataclass(frozen=True)
class WheelGlibc:
    """A PyPI dependency whose known wheel needs a newer glibc than the workspace resolves for: package (PEP 503
    name), spec (as declared), tag (the manylinux tag that gives the glibc), glibc (`2.31`), source (where the tag
    was read: the lock's URL, or the installed dist-info WHEEL)."""

    package: str
    spec: str
    tag: str
    glibc: str
    source: str


def beyond(package, spec, tags, source, libc):
    """Return a WheelGlibc when a wheel with `tags` needs a glibc newer than `libc` (`2.28`), else None."""
    need = needed_glibc(tags)
    have = tuple(int(p) for p in re.findall(r"\d+", libc)[:2])
    if need is None or need <= have:
        return None
    tag = next(t for t in tags if tag_glibc(t) == need)
    return WheelGlibc(package=package, spec=spec, tag=tag, glibc="%d.%d" % need, source=source)


def installed_tags(name):
    """Return the platform tags of the installed distribution `name` (its dist-info WHEEL), () when it is installed
    without a WHEEL file, or None when it is not installed in this Python."""
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    return wheel_tag_lines(dist.read_text("WHEEL") or "")


def declared_libc(platform) -> Tuple[Optional[str], bool]:
    """Return (glibc version pixi resolves for on this workspace platform, whether the workspace declares it); the
    version is None for a platform that is not Linux or declares musl."""
    version = platform.declares("__glibc")
    explicit = any(vp.name == "__glibc" for vp in platform.customised)
    return version, explicit
