#!/usr/bin/env python3
"""Generate envs/ (conda environment files and pip requirements) from pixi.toml."""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
from checks.workspace import manifest as manifest_reader  # noqa: E402  (the repository root is not installed)
from checks.workspace.platforms import Platform  # noqa: E402
from checks.workspace.promise import torch_environments  # noqa: E402
from checks.workspace.versions import floor, minor, pep440  # noqa: E402

SUBDIRS = ("linux-64", "win-64", "osx-64", "osx-arm64")

FIX = "run `pixi run envs` or `python tools/gen_envs.py`"
GENERATED = "Generated from pixi.toml by tools/gen_envs.py: do not edit; run `pixi run envs`."
WHEEL_INDEX = "https://download.pytorch.org/whl/"
PYPI_INDEX = "https://pypi.org/simple"
# No PyPI counterpart: compilers, conda build selectors and the interpreter itself.
CONDA_ONLY = {"c-compiler", "cxx-compiler", "cpuonly", "pytorch-cuda", "cuda-version", "python"}
CONDA_ONLY |= {"pytorch-gpu", "pytorch-cpu"}
PYPI_NAMES = {"pytorch": "torch", "torchvision": "torchvision", "torchaudio": "torchaudio"}
PYPI_NAMES.update({"numpy": "numpy", "tomli": "tomli"})
PYPI_MARKERS = {"tomli": 'python_version < "3.11"'}  # tomllib is in the stdlib from 3.11
# The PyTorch wheel indexes name each build with a PEP 440 local version label: torch-2.0.1+cu118-...whl on
# /whl/cu118, torch-2.0.1+cpu-...whl on /whl/cpu (torchvision and torchaudio likewise); PyPI's wheels and all macOS
# wheels have none. `==2.0.1+cu118` is met by that build only (PEP 440, "Version matching"), so pip fails instead of
# taking PyPI's build when download.pytorch.org is unreachable, and replaces an installed build with another label.
# PEP 440 allows a label only after `==`, so a range (`>=2.8`) cannot carry one.
LABELLED = ("pytorch", "torchvision", "torchaudio")  # first in the files: pip fails on them before fetching the rest
OS_NAMES = {"linux-64": "Linux x86-64", "win-64": "Windows x86-64"}
OS_NAMES.update({"osx-64": "macOS on Intel", "osx-arm64": "macOS on Apple silicon"})
# environment.yml has no constraints section: a constraint becomes a dependency where the
# package is installed anyway (the legacy pytorch builds need mkl there), a comment elsewhere.
CONSTRAINED_SUBDIRS = {"mkl": {"linux-64", "win-64", "osx-64"}}
DONE = {"missing": "wrote", "stale": "updated", "extra": "removed"}
CONDA_HEADER = f"""\
# {GENERATED}
# Environment {{env}}, platform {{platform}} (subdir {{subdir}}{{cuda}}).
# Create: conda env create -f envs/{{env}}/{{platform}}.conda.yml
# with CONDA_CHANNEL_PRIORITY=strict set: pixi.toml's channel-priority, which environment.yml cannot carry.
name: pytorch-env-{{env}}
channels:"""
PIP_HEADER = f"""\
# {GENERATED}
# Environment {{env}}, platform {{platform}}: use Python {{python}}.
# For: {{machine}}.{{advice}}
# python -m pip install {{force}}-r envs/{{env}}/{{platform}}.requirements.txt
# then, from the repository root: python -m checks verify --env {{env}}"""
PINNED = (
    "\n# The +{flavour} pins name the build: pip fails rather than take another index's torch, and it replaces"
    "\n# an installed torch of another build."
)
UNPINNED = (
    "\n# torch {torch} is a range, and PEP 440 allows a local version (+{flavour}) only after ==: where"
    "\n# download.pytorch.org is unreachable pip may take PyPI's build, and only --force-reinstall replaces an"
    "\n# installed torch of another build."
)
README = f"""\
# envs/

{GENERATED}

conda and pip equivalents of the pixi environments, for machines without pixi
(with pixi: `pixi install -e <env>`). PyPI wheels are not the conda builds.

Which file: in the column of the torch you want, the first row your machine matches, top down (pixi's own
order of choice; "CUDA >= 11.8" is the `CUDA Version` that `nvidia-smi` shows). The `.conda.yml` of the same name
is its conda file. Then `python -m checks verify --env ENV`, ENV the file's folder.

{{which}}

| Environment | Platform | Python | conda | pip |
|---|---|---|---|---|
{{rows}}

```sh
CONDA_CHANNEL_PRIORITY=strict conda env create -f envs/cu118/linux-64-cu118.conda.yml
python3.10 -m venv .venv && .venv/bin/python -m pip install -r envs/cpu/linux-64-cpu.requirements.txt
python -m checks verify --env <env>  # from the repository root, in the new environment
```
"""


class ManifestError(Exception):
    """The manifest uses something this generator cannot translate."""


def resolve(ws: manifest_reader.Workspace, env: str, platform: Platform) -> dict:
    """Return the channels, dependencies and constraints of an environment on a platform, as pixi computes them."""
    info = {"subdir": platform.subdir, "cuda": platform.cuda, "channels": ws.channels(env)}
    if ws.specs(env, platform, "pypi-dependencies"):
        raise ManifestError(f"environment {env}: pypi-dependencies are not supported")
    for kind in ("dependencies", "constraints"):
        info[kind] = {}
        for pkg, specs in ws.specs(env, platform, kind).items():
            normalized = {normalize(pkg, spec) for spec in specs}
            if len(normalized) > 1:
                raise ManifestError(f"environment {env}: features disagree on {pkg}")
            version, channel = normalized.pop()
            info[kind][pkg] = {"version": version, "channel": channel}
    return info


def user_facing(ws: manifest_reader.Workspace) -> list[str]:
    """Name the environments envs/ is for: those with torch, except the project's test environments."""
    return [name for name in ws.environments if name in {e for s in SUBDIRS for e in torch_environments(ws, s)}]


def normalize(pkg: str, spec: dict) -> tuple[str, str | None]:
    """Turn a pixi dependency into (version, channel); other keys (build, path, ...) cannot be translated."""
    extra = set(spec) - {"version", "channel", "feature"}
    if extra:
        raise ManifestError(f"{pkg}: only `version` and `channel` are supported, got {sorted(extra)}")
    return spec["version"].replace(" ", ""), spec.get("channel")


def conda_spec(pkg: str, spec: dict) -> str:
    """Write a pixi spec as a conda matchspec; a bare pixi version is exact, hence `==`."""
    version, text = spec["version"], pkg
    if version != "*":
        exact = "=" if version.endswith(".*") else "=="
        text += version if version[0] in "<>=!~" else exact + version
    return f"{spec['channel']}::{text}" if spec["channel"] else text


def python_version(deps: dict) -> str:
    """Return the X.Y Python version a python spec promises (`3.10.*` -> 3.10, `<3.12` -> 3.11), read by its
    operators (checks.workspace.versions.floor)."""
    version = floor(deps.get("python", {}).get("version", ""))
    return "%d.%d" % minor(version) if version else "any"


def wheel_flavour(info: dict) -> str | None:
    """Return the PyTorch wheel index flavour (cpu, cu118, ...); None on macOS (plain PyPI)."""
    if info["subdir"].startswith("osx-"):
        return None
    return "cu" + "".join(info["cuda"].split(".")[:2]) if info["cuda"] else "cpu"


def torch_spec(info: dict) -> str:
    """Return the torch version spec of an environment on a platform (`2.0.1`, `>=2.8`)."""
    deps = info["dependencies"]
    return next((deps[name]["version"] for name in ("pytorch", "pytorch-gpu", "pytorch-cpu") if name in deps), "*")


def pip_spec(pkg: str, spec: dict, flavour: str | None) -> str:
    """Write a dependency's PEP 440 specifier, with the wheel's local version label where it can carry one."""
    text = pep440(spec["version"])
    if flavour and pkg in LABELLED and re.fullmatch(r"==[\w.]+", text):
        text += f"+{flavour}"
    return text


def machine(platform: Platform) -> str:
    """Describe the machines a platform is for: pixi installs it where the host has each virtual package it declares
    beyond its subdir's defaults at that version or higher (checks.workspace.platforms.Platform.runs_on)."""
    text = OS_NAMES.get(platform.subdir, platform.subdir)
    macos = next((vp.version for vp in platform.customised if vp.name == "__osx"), None)
    if macos:
        text = text.replace("macOS", f"macOS {macos} or newer")
    if platform.cuda:
        return f"{text}, NVIDIA driver for CUDA >= {platform.cuda}"
    return text if platform.subdir.startswith("osx-") else f"{text}, no NVIDIA GPU"


def dedicated(entries: list, candidates: list) -> tuple | None:
    """Return the (env, platform, info) of `candidates` whose environment is made for its platform: the one with the
    fewest platforms of that subdir, then in all (cpu rather than default, which selects among variants), the first
    on a tie; None without candidates."""

    def variants(entry: tuple) -> tuple:
        mine = [platform for env, platform, _ in entries if env == entry[0]]
        return sum(1 for platform in mine if platform.subdir == entry[1].subdir), len(mine)

    return min(candidates, key=variants, default=None)


def advice(entries: list, env: str, platform: Platform, info: dict) -> str:
    """Return the header lines after `For:`: the file to use without an NVIDIA GPU, and how torch is pinned."""
    text, flavour = "", wheel_flavour(info)
    if info["cuda"]:
        cpu = [e for e in entries if e[1].subdir == platform.subdir and wheel_flavour(e[2]) == "cpu"]
        cpu = dedicated(entries, [e for e in cpu if torch_spec(e[2]) == torch_spec(info)])
        if cpu:
            text += f"\n# No NVIDIA GPU: use envs/{cpu[0]}/{cpu[1].name}.requirements.txt instead."
    if flavour:
        text += (PINNED if build_pinned(info) else UNPINNED).format(flavour=flavour, torch=torch_spec(info))
    return text


def which_table(ws: manifest_reader.Workspace, entries: list) -> str:
    """Return the README table: per workspace platform (pixi's order of choice), the file for each torch."""
    torches = list(dict.fromkeys(torch_spec(info) for _, _, info in entries))
    lines = ["| Machine | " + " | ".join(f"torch {t}" for t in torches) + " |", "|---" * (len(torches) + 1) + "|"]
    for platform in ws.platforms:
        here = [e for e in entries if e[1].name == platform.name]
        cells = [dedicated(entries, [e for e in here if torch_spec(e[2]) == t]) for t in torches]
        if any(cells):
            links = [f"[{c[0]}/{c[1].name}]({c[0]}/{c[1].name}.requirements.txt)" if c else "-" for c in cells]
            lines.append(f"| {machine(platform)} | " + " | ".join(links) + " |")
    return "\n".join(lines)


def conda_file(env: str, platform: str, info: dict) -> str:
    """Render an environment.yml for one environment and platform."""
    cuda = f", needs an NVIDIA driver for CUDA >= {info['cuda']}" if info["cuda"] else ""
    lines = [CONDA_HEADER.format(env=env, platform=platform, subdir=info["subdir"], cuda=cuda)]
    lines += [f"  - {channel}" for channel in info["channels"]] + ["dependencies:"]
    lines += [f"  - {conda_spec(pkg, spec)}" for pkg, spec in sorted(info["dependencies"].items())]
    for pkg, spec in sorted(info["constraints"].items()):
        text, subdir = conda_spec(pkg, spec), info["subdir"]
        note = f"  # pixi.toml constraint {text}: environment.yml has no constraints, so it is"
        if subdir in CONSTRAINED_SUBDIRS.get(pkg, ()):
            lines += [f"{note} a dependency here ({pkg} is used on {subdir} anyway):", f"  - {text}"]
        else:
            lines.append(f"{note} left out here ({pkg} is not used on {subdir}).")
    return "\n".join(lines) + "\n"


def build_pinned(info: dict) -> bool:
    """Return True if the pip file pins torch's build: a PyTorch wheel index and an exact version (see LABELLED)."""
    flavour = wheel_flavour(info)
    return bool(flavour) and pip_spec("pytorch", {"version": torch_spec(info)}, flavour).endswith(f"+{flavour}")


def pip_order(item: tuple) -> tuple:
    """Sort key of a requirements file's lines: torch, torchvision, torchaudio first, then by PyPI name."""
    pkg = item[0]
    return (LABELLED.index(pkg) if pkg in LABELLED else len(LABELLED), PYPI_NAMES.get(pkg, pkg))


def requirements_file(env: str, platform: Platform, info: dict, notes: str) -> str:
    """Render a pip requirements file for one environment and platform, `notes` (see advice()) under its `For:` line.

    Without a build pin, pip keeps an installed torch of another build that meets the version: --force-reinstall.
    """
    deps, flavour = info["dependencies"], wheel_flavour(info)
    force = "--force-reinstall " if flavour and not build_pinned(info) else ""
    header = dict(env=env, platform=platform.name, python=python_version(deps), advice=notes, force=force)
    lines = [PIP_HEADER.format(machine=machine(platform), **header)]
    if flavour:
        lines += [f"--index-url {WHEEL_INDEX}{flavour}", f"--extra-index-url {PYPI_INDEX}"]
    for pkg, spec in sorted(deps.items(), key=pip_order):
        if pkg not in CONDA_ONLY and pkg not in PYPI_NAMES:
            raise ManifestError(f"{pkg}: no PyPI name; add it to PYPI_NAMES or CONDA_ONLY")
        if pkg in PYPI_NAMES:
            marker = f"; {PYPI_MARKERS[pkg]}" if pkg in PYPI_MARKERS else ""
            lines.append(PYPI_NAMES[pkg] + pip_spec(pkg, spec, flavour) + marker)
    return "\n".join(lines) + "\n"


def build_files(ws: manifest_reader.Workspace) -> dict[str, str]:
    """Return {path relative to envs/: content} for every generated file."""
    entries = [
        (env, platform, resolve(ws, env, platform)) for env in user_facing(ws) for platform in ws.env_platforms(env)
    ]
    files, rows = {}, []
    for env, platform, info in entries:
        name, stem = platform.name, f"{env}/{platform.name}"
        files[f"{stem}.conda.yml"] = conda_file(env, name, info)
        files[f"{stem}.requirements.txt"] = requirements_file(env, platform, info, advice(entries, env, platform, info))
        cuda = f" (CUDA {info['cuda']})" if info["cuda"] else ""
        links = f"[{name}.conda.yml]({stem}.conda.yml) | [{name}.requirements.txt]({stem}.requirements.txt)"
        rows.append(f"| {env} | {name}{cuda} | {python_version(info['dependencies'])} | {links} |")
    if any(not re.fullmatch(r"[\w.-]+/[\w.-]+", path) or ".." in path for path in files):
        raise ManifestError("environment and platform names must be plain file names")
    return {**files, "README.md": README.format(rows="\n".join(rows), which=which_table(ws, entries))}


def write_atomic(path: Path, text: str) -> None:
    """Write text to path through a temporary file and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def changes(out: Path, expected: dict[str, str]) -> list[tuple[str, str]]:
    """List (missing|stale|extra, path relative to envs/) for everything out of date."""
    existing = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    # A CRLF checkout (git autocrlf on Windows) is not stale: compare with LF line ends.
    same = {
        rel
        for rel in existing & set(expected)
        if (out / rel).read_bytes().replace(b"\r\n", b"\n") == expected[rel].encode()
    }
    found = [("stale" if rel in existing else "missing", rel) for rel in sorted(set(expected) - same)]
    return found + [("extra", rel) for rel in sorted(existing - set(expected))]


def main(argv: list[str] | None = None) -> int:
    """Generate envs/, or with --check list what is missing, stale or extra."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if envs/ is out of date")
    parser.add_argument(
        "--manifest", type=Path, default=REPO_ROOT / "pixi.toml", help="pixi.toml to read; envs/ is beside it"
    )
    args = parser.parse_args(argv)
    out = args.manifest.parent / "envs"
    try:
        expected = build_files(manifest_reader.load(str(args.manifest)))
    except (ManifestError, manifest_reader.ManifestError) as exc:
        print(f"gen_envs: error: {exc}", file=sys.stderr)
        return 2
    todo = changes(out, expected)
    if args.check:
        for kind, rel in todo:
            print(f"{kind}: envs/{rel}", file=sys.stderr)
        if todo:
            print(f"envs/ is out of date with pixi.toml: {FIX}", file=sys.stderr)
            return 1
        print("envs/ is up to date")
        return 0
    for kind, rel in todo:
        if kind == "extra":
            (out / rel).unlink()
        else:
            write_atomic(out / rel, expected[rel])
        print(f"{DONE[kind]} envs/{rel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
