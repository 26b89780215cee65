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
from checks import manifest as manifest_reader  # noqa: E402  (the repository root is not installed)
from checks.platforms import Platform  # noqa: E402
from checks.promise import torch_environments  # noqa: E402
from checks.versions import pep440  # noqa: E402

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
# python -m pip install -r envs/{{env}}/{{platform}}.requirements.txt"""
README = f"""\
# envs/

{GENERATED}

conda and pip equivalents of the pixi environments, for machines without pixi
(with pixi: `pixi install -e <env>`). PyPI wheels are not the conda builds.

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
    """Return the X.Y Python version of a python spec such as `3.10.*`."""
    match = re.search(r"\d+\.\d+", deps.get("python", {}).get("version", ""))
    return match.group(0) if match else "any"


def wheel_flavour(info: dict) -> str | None:
    """Return the PyTorch wheel index flavour (cpu, cu118, ...); None on macOS (plain PyPI)."""
    if info["subdir"].startswith("osx-"):
        return None
    return "cu" + "".join(info["cuda"].split(".")[:2]) if info["cuda"] else "cpu"


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


def requirements_file(env: str, platform: str, info: dict) -> str:
    """Render a pip requirements file for one environment and platform."""
    deps = info["dependencies"]
    lines = [PIP_HEADER.format(env=env, platform=platform, python=python_version(deps))]
    if flavour := wheel_flavour(info):
        lines += [f"--index-url {WHEEL_INDEX}{flavour}", f"--extra-index-url {PYPI_INDEX}"]
    for pkg, spec in sorted(deps.items(), key=lambda item: PYPI_NAMES.get(item[0], item[0])):
        if pkg not in CONDA_ONLY and pkg not in PYPI_NAMES:
            raise ManifestError(f"{pkg}: no PyPI name; add it to PYPI_NAMES or CONDA_ONLY")
        if pkg in PYPI_NAMES:
            marker = f"; {PYPI_MARKERS[pkg]}" if pkg in PYPI_MARKERS else ""
            lines.append(PYPI_NAMES[pkg] + pep440(spec["version"]) + marker)
    return "\n".join(lines) + "\n"


def build_files(ws: manifest_reader.Workspace) -> dict[str, str]:
    """Return {path relative to envs/: content} for every generated file."""
    files, rows = {}, []
    for env in user_facing(ws):
        for platform in ws.env_platforms(env):
            name = platform.name
            info, stem = resolve(ws, env, platform), f"{env}/{name}"
            files[f"{stem}.conda.yml"] = conda_file(env, name, info)
            files[f"{stem}.requirements.txt"] = requirements_file(env, name, info)
            cuda = f" (CUDA {info['cuda']})" if info["cuda"] else ""
            links = f"[{name}.conda.yml]({stem}.conda.yml) | [{name}.requirements.txt]({stem}.requirements.txt)"
            rows.append(f"| {env} | {name}{cuda} | {python_version(info['dependencies'])} | {links} |")
    if any(not re.fullmatch(r"[\w.-]+/[\w.-]+", path) or ".." in path for path in files):
        raise ManifestError("environment and platform names must be plain file names")
    return {**files, "README.md": README.format(rows="\n".join(rows))}


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
