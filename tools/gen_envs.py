#!/usr/bin/env python3
"""Generate envs/ (conda environment files and pip requirements) from pixi.toml."""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 in the pixi `test` environment, which has tomli
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
from checks import manifest as manifest_reader  # noqa: E402  (the repository root is not installed)

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
    """pixi.toml cannot be read or uses something this generator does not support."""


def load_manifest(path: Path) -> dict:
    """Parse pixi.toml, turning read and syntax errors into ManifestError."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"{path.name}: {exc}") from None


def workspace_platforms(manifest: dict) -> dict[str, dict]:
    """Map each workspace platform name to its subdir and declared CUDA version, in order."""
    out = {}
    for entry in manifest["workspace"]["platforms"]:
        entry = {"name": entry, "platform": entry} if isinstance(entry, str) else entry
        if "name" not in entry and set(entry) != {"platform"}:
            raise ManifestError(f"platform {entry} needs a `name` (synthesized names unsupported)")
        cuda = entry.get("cuda")
        cuda = cuda.get("driver") if isinstance(cuda, dict) else cuda
        out[entry.get("name", entry["platform"])] = {"subdir": entry["platform"], "cuda": cuda}
    return out


def target_matches(key: str, name: str, subdir: str) -> bool:
    """Apply pixi's target-selector rule (shared with the checks): name, subdir, family, or `*` pattern."""
    return manifest_reader.target_matches(key, {"name": name, "subdir": subdir})


def environments(manifest: dict) -> dict[str, dict]:
    """Return each environment's platforms and feature tables (the default feature last)."""
    envs, everywhere = {}, list(workspace_platforms(manifest))
    for name, env in manifest.get("environments", {}).items():
        env = {"features": env} if isinstance(env, list) else env
        tables = [manifest["feature"][f] for f in env.get("features", [])]
        limits = [t["platforms"] for t in tables if "platforms" in t]
        platforms = env.get("platforms", [p for p in everywhere if all(p in lim for lim in limits)])
        if not env.get("no-default-feature", False):
            keys = ("dependencies", "pypi-dependencies", "constraints", "target")
            tables.append({k: manifest[k] for k in keys if k in manifest})
        envs[name] = {"platforms": platforms, "tables": tables}
    return envs


def platform_specs(table: dict, kind: str, name: str, subdir: str) -> dict:
    """Return a feature's `kind` table on one platform; later matching targets win."""
    specs = dict(table.get(kind, {}))
    for key, target in table.get("target", {}).items():
        if target_matches(key, name, subdir):
            specs.update(target.get(kind, {}))
    return specs


def normalize(pkg: str, spec: str | dict) -> dict:
    """Turn a pixi dependency value into {'version', 'channel'}."""
    spec = {"version": spec} if isinstance(spec, str) else spec
    if not isinstance(spec, dict) or not set(spec) <= {"version", "channel"}:
        raise ManifestError(f"{pkg}: only `version` and `channel` are supported, got {spec!r}")
    return {"version": spec.get("version", "*").replace(" ", ""), "channel": spec.get("channel")}


def resolve(manifest: dict, env_name: str, platform: str) -> dict:
    """Return the channels, dependencies and constraints of an environment on a platform."""
    tables = environments(manifest)[env_name]["tables"]
    info = workspace_platforms(manifest)[platform]
    # As pixi does: each feature's channels (the workspace's if it sets none; the default
    # feature last), stable-sorted on priority (default 0, higher first), first one kept.
    ranked = [c for t in tables for c in t.get("channels", manifest["workspace"]["channels"])]
    ranked = [c if isinstance(c, dict) else {"channel": c} for c in ranked]
    ranked.sort(key=lambda c: -c.get("priority", 0))
    info = {**info, "channels": list(dict.fromkeys(c["channel"] for c in ranked))}
    if any(platform_specs(t, "pypi-dependencies", platform, info["subdir"]) for t in tables):
        raise ManifestError(f"environment {env_name}: pypi-dependencies are not supported")
    for kind in ("dependencies", "constraints"):
        info[kind] = {}
        for table in tables:
            for pkg, spec in platform_specs(table, kind, platform, info["subdir"]).items():
                if info[kind].setdefault(pkg, normalize(pkg, spec)) != normalize(pkg, spec):
                    raise ManifestError(f"environment {env_name}: features disagree on {pkg}")
    return info


def user_facing(manifest: dict) -> list[str]:
    """Name the environments envs/ is for: those with pytorch, except the test* ones."""
    # lint has no torch; test and test-latest only add pytest and nox to a user environment.
    return [
        name
        for name, env in environments(manifest).items()
        if not name.startswith("test")
        and any("pytorch" in resolve(manifest, name, p)["dependencies"] for p in env["platforms"])
    ]


def conda_spec(pkg: str, spec: dict) -> str:
    """Write a pixi spec as a conda matchspec; a bare pixi version is exact, hence `==`."""
    version, text = spec["version"], pkg
    if version != "*":
        exact = "=" if version.endswith(".*") else "=="
        text += version if version[0] in "<>=!~" else exact + version
    return f"{spec['channel']}::{text}" if spec["channel"] else text


def pip_spec(version: str) -> str:
    """Write a pixi version spec in PEP 440 syntax."""
    out = []
    for clause in (c for c in version.split(",") if c and c != "*"):
        if clause.startswith("=") and not clause.startswith("=="):  # conda `=1.2` means 1.2.*
            clause = clause[1:] if clause.endswith(".*") else clause[1:] + ".*"
        out.append(clause if clause[0] in "<>=!~" else "==" + clause)
    return ",".join(out)


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
            lines.append(PYPI_NAMES[pkg] + pip_spec(spec["version"]) + marker)
    return "\n".join(lines) + "\n"


def build_files(manifest: dict) -> dict[str, str]:
    """Return {path relative to envs/: content} for every generated file."""
    try:
        files, rows = {}, []
        for env in user_facing(manifest):
            for platform in environments(manifest)[env]["platforms"]:
                info, stem = resolve(manifest, env, platform), f"{env}/{platform}"
                files[f"{stem}.conda.yml"] = conda_file(env, platform, info)
                files[f"{stem}.requirements.txt"] = requirements_file(env, platform, info)
                cuda = f" (CUDA {info['cuda']})" if info["cuda"] else ""
                links = (
                    f"[{platform}.conda.yml]({stem}.conda.yml) | [{platform}.requirements.txt]({stem}.requirements.txt)"
                )
                rows.append(f"| {env} | {platform}{cuda} | {python_version(info['dependencies'])} | {links} |")
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        raise ManifestError(f"unexpected structure ({type(exc).__name__}: {exc})") from None
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
        expected = build_files(load_manifest(args.manifest))
    except ManifestError as exc:
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
