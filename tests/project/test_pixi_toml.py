"""Tests for pixi.toml: schema, the environment matrix, and the real pytorch-channel repodata."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools import gen_envs

DATA = Path(__file__).resolve().parents[1] / "data"
SCHEMA = DATA / "pixi-schema-v0.77.0.json"
REPODATA = DATA / "pytorch-channel-linux-64.json"
TORCH20_PINS = {"pytorch": "2.0.1", "torchvision": "0.15.2", "torchaudio": "2.0.2"}
# pytorch-cuda X.Y pins every cuda-* library to this range (read from the channel's records).
CUDA_LIBRARY_RANGE = {"11.7": ">=11.7,<11.8", "11.8": ">=11.8,<12.0"}
CPU_SUBDIRS = ["linux-64", "osx-64", "osx-arm64", "win-64"]


def version(text: str) -> tuple[int, ...]:
    """Turn `12.8` into (12, 8)."""
    return tuple(int(part) for part in text.split("."))


def floor(spec: str) -> tuple[int, ...]:
    """Return the `>=` lower bound of a version spec, or () when there is none."""
    match = re.search(r">=\s*(\d+(?:\.\d+)*)", spec)
    return version(match.group(1)) if match else ()


def torch20_envs(workspace) -> list[str]:
    """Name the environments built from the torch20 feature."""
    return [name for name, env in workspace.environments.items() if any(f.name == "torch20" for f in env.features)]


@pytest.fixture(scope="module")
def platforms(workspace) -> dict[str, dict]:
    """Return the workspace platforms: name -> subdir and cuda."""
    return {p.name: {"subdir": p.subdir, "cuda": p.cuda} for p in workspace.platforms}


@pytest.fixture(scope="module")
def envs(workspace) -> dict[str, dict]:
    """Return the environments with their platform names."""
    return {name: {"platforms": [p.name for p in workspace.env_platforms(name)]} for name in workspace.environments}


def resolve(workspace, env: str, name: str) -> dict:
    """Return gen_envs' view of an environment on a platform: channels, dependencies, constraints."""
    return gen_envs.resolve(workspace, env, workspace.platform(name))


def test_validates_against_pixi_schema(manifest: dict) -> None:
    """pixi.toml parses as TOML 1.0 and matches the pixi v0.77.0 manifest schema."""
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is needed to validate pixi.toml")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    errors = sorted(validator(schema).iter_errors(manifest), key=lambda e: e.json_path)
    details = "\n".join(f"{e.json_path}: {e.message}" for e in errors)
    assert not errors, f"pixi.toml does not match the schema:\n{details}"


def test_workspace_table(manifest: dict) -> None:
    """The manifest uses [workspace] (not the deprecated [project]) and pins pixi >= 0.71."""
    assert "workspace" in manifest and "project" not in manifest, sorted(manifest)
    requires = manifest["workspace"].get("requires-pixi", "")
    assert floor(requires) >= (0, 71, 0), f"expected requires-pixi >=0.71 (rich platforms), got {requires!r}"


def test_environments_exist(manifest: dict) -> None:
    """The user-facing environments are all defined."""
    missing = {"cpu", "cu117", "cu118", "default", "latest"} - set(manifest["environments"])
    assert not missing, f"missing environments: {sorted(missing)}"


def test_environment_names(manifest: dict) -> None:
    """Environment names match pixi's pattern ^[a-z\\d\\-]+$."""
    bad = [name for name in manifest["environments"] if not re.fullmatch(r"[a-z\d\-]+", name)]
    assert not bad, f"invalid environment names: {bad}"


def test_torch20_pins(manifest: dict) -> None:
    """torch20 pins pytorch, torchvision and torchaudio to the 2.0.1 set, from the pytorch channel."""
    deps = manifest["feature"]["torch20"]["dependencies"]
    for name, pin in TORCH20_PINS.items():
        expected = {"version": pin, "channel": "pytorch"}
        assert deps.get(name) == expected, f"{name}: expected {expected}, got {deps.get(name)}"


def test_torch20_flavour_per_platform(workspace, envs: dict, platforms: dict) -> None:
    """torch20 CPU platforms get cpuonly; CUDA ones get the matching pytorch-cuda; osx neither."""
    problems = []
    for env in torch20_envs(workspace):
        for name in envs[env]["platforms"]:
            deps, cuda = resolve(workspace, env, name)["dependencies"], platforms[name]["cuda"]
            got = (deps.get("pytorch-cuda", {}).get("version"), "cpuonly" in deps)
            if cuda:
                expected = (f"{cuda}.*", False)
            else:
                expected = (None, not platforms[name]["subdir"].startswith("osx-"))
            if got != expected:
                problems.append(f"{env}/{name}: expected (pytorch-cuda, cpuonly)={expected}, got {got}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("env", "cuda"), [("cu117", "11.7"), ("cu118", "11.8")])
def test_cuda_env_coverage(envs: dict, platforms: dict, env: str, cuda: str) -> None:
    """CUDA environments cover exactly linux-64 and win-64, all with their CUDA version."""
    got = sorted((platforms[p]["subdir"], platforms[p]["cuda"]) for p in envs[env]["platforms"])
    assert got == [("linux-64", cuda), ("win-64", cuda)], f"{env}: got {got}"


def test_cpu_env_coverage(envs: dict, platforms: dict) -> None:
    """The cpu environment covers linux-64, win-64, osx-64 and osx-arm64 without CUDA."""
    got = sorted((platforms[p]["subdir"], platforms[p]["cuda"]) for p in envs["cpu"]["platforms"])
    assert got == [(subdir, None) for subdir in CPU_SUBDIRS], f"got {got}"


@pytest.mark.parametrize("subdir", ["linux-64", "win-64"])
def test_default_prefers_cuda_118(envs: dict, platforms: dict, subdir: str) -> None:
    """default offers CUDA 11.8, then 11.7, then CPU per subdir, in that order in workspace.platforms."""
    names = [p for p in envs["default"]["platforms"] if platforms[p]["subdir"] == subdir]
    cudas = [platforms[p]["cuda"] for p in names]
    assert cudas == ["11.8", "11.7", None], f"{subdir}: expected CUDA 11.8, 11.7, CPU; got {dict(zip(names, cudas))}"
    order = list(platforms)
    positions = [order.index(n) for n in names]
    assert positions == sorted(positions), f"{names} must appear in this order in workspace.platforms"


def test_latest_has_cuda_128(workspace, envs: dict, platforms: dict) -> None:
    """latest has a CUDA >= 12.8 platform whose cuda-version floor is >= 12.8 (Blackwell)."""
    names = envs["latest"]["platforms"]
    cu128 = [p for p in names if platforms[p]["cuda"] and version(platforms[p]["cuda"]) >= (12, 8)]
    assert cu128, f"expected a CUDA >= 12.8 platform in latest, got {names}"
    for name in cu128:
        deps = resolve(workspace, "latest", name)["dependencies"]
        spec = deps.get("cuda-version", {}).get("version", "")
        assert floor(spec) >= (12, 8), f"{name}: expected cuda-version >=12.8, got {spec!r}"
        assert "pytorch-gpu" in deps, f"{name}: expected pytorch-gpu, got {sorted(deps)}"


def test_tasks(manifest: dict) -> None:
    """verify, train, test and lint exist, and every public task has a description."""
    tables = [manifest.get("tasks", {})] + [f.get("tasks", {}) for f in manifest["feature"].values()]
    tasks = {name: task for table in tables for name, task in table.items()}
    missing = {"verify", "train", "test", "lint"} - set(tasks)
    assert not missing, f"missing tasks: {sorted(missing)}"
    public = {name: task for name, task in tasks.items() if not name.startswith("_")}
    undocumented = [name for name, task in public.items() if not (isinstance(task, dict) and task.get("description"))]
    assert not undocumented, f"tasks without a description: {undocumented}"


def test_referenced_platforms_exist(manifest: dict, platforms: dict) -> None:
    """Every platform an environment or feature lists is a workspace platform."""
    tables = list(manifest["environments"].values()) + list(manifest["feature"].values())
    listed = {p for t in tables if isinstance(t, dict) for p in t.get("platforms", [])}
    unknown = listed - set(platforms)
    assert not unknown, f"platforms not in workspace.platforms: {sorted(unknown)}"


def test_target_selectors_match(manifest: dict, workspace) -> None:
    """Every target selector matches at least one workspace platform."""
    from checks.workspace.manifest import target_matches

    owners = [manifest, *manifest["feature"].values()]
    owners += [env for env in manifest["environments"].values() if isinstance(env, dict)]
    selectors = {key for owner in owners for key in owner.get("target", {})}
    assert selectors, "expected target selectors in pixi.toml"
    dead = [k for k in selectors if not any(target_matches(k, p) for p in workspace.platforms)]
    assert not dead, f"target selectors matching no platform: {sorted(dead)}"


def test_variant_names_match_contents(workspace, envs: dict, platforms: dict) -> None:
    """Names that say cuXYZ or cpu describe their platforms' CUDA and pytorch-cuda truthfully."""
    problems = []
    for env, table in envs.items():
        for name in table["platforms"]:
            cuda = platforms[name]["cuda"]
            pin = resolve(workspace, env, name)["dependencies"].get("pytorch-cuda", {})
            for label in (env, name):
                for part in label.split("-"):
                    if match := re.fullmatch(r"cu(\d+)(\d)", part):
                        claimed = f"{match[1]}.{match[2]}"
                        if cuda != claimed or pin.get("version", f"{claimed}.*") != f"{claimed}.*":
                            problems.append(f"{env}/{name}: {label} says CUDA {claimed}, has {cuda} / {pin}")
                    elif part == "cpu" and (cuda or pin):
                        problems.append(f"{env}/{name}: {label} says cpu, has CUDA {cuda} / {pin}")
    assert not problems, "\n".join(problems)


# The real repodata of the legacy pytorch channel (linux-64) proves that each pin resolves.


@pytest.fixture(scope="module")
def records() -> list[dict]:
    """Return the pytorch channel's linux-64 records of tests/data (an extract of the real repodata)."""
    data = json.loads(REPODATA.read_text(encoding="utf-8"))
    return [*data.get("packages", {}).values(), *data.get("packages.conda", {}).values()]


@pytest.fixture(scope="module")
def linux_torch20(workspace, envs: dict, platforms: dict) -> list[dict]:
    """Describe each linux-64 torch20 platform: name, flavour, python, deps, constraints."""
    found = {}
    for env in torch20_envs(workspace):
        for name in envs[env]["platforms"]:
            if platforms[name]["subdir"] == "linux-64" and name not in found:
                info = resolve(workspace, env, name)
                python = re.match(r"\d+\.\d+", info["dependencies"]["python"]["version"])[0]
                cuda = info["cuda"]
                flavour = "cu" + cuda.replace(".", "") if cuda else "cpu"
                marker = f"_cuda{cuda}_" if cuda else "_cpu_"
                found[name] = {**info, "name": name, "python": python, "flavour": flavour, "marker": marker}
    return list(found.values())


def find(records: list[dict], name: str, version: str) -> list[dict]:
    """Return the records of package `name` at exactly `version`."""
    return [r for r in records if r["name"] == name and r["version"] == version]


def pytorch_records(records: list[dict], plat: dict) -> list[dict]:
    """Return the pinned pytorch records for one platform's python and flavour."""
    build = f"py{plat['python']}{plat['marker']}"
    return [r for r in find(records, "pytorch", TORCH20_PINS["pytorch"]) if r["build"].startswith(build)]


def test_linux_flavours_covered(linux_torch20: list[dict]) -> None:
    """The linux-64 torch20 platforms are one CPU, one CUDA 11.7 and one CUDA 11.8 variant."""
    flavours = sorted(p["flavour"] for p in linux_torch20)
    assert flavours == ["cpu", "cu117", "cu118"], f"expected cpu, cu117, cu118; got {flavours}"


def test_pytorch_record_exists(records: list[dict], linux_torch20: list[dict]) -> None:
    """pytorch 2.0.1 exists for the pinned python and each platform's flavour."""
    for plat in linux_torch20:
        wanted = f"pytorch 2.0.1 py{plat['python']}{plat['marker']}*"
        assert pytorch_records(records, plat), f"{plat['name']}: no {wanted} record in the pytorch channel"


@pytest.mark.parametrize("package", ["torchvision", "torchaudio"])
def test_companion_pairs_with_pytorch(records: list[dict], linux_torch20: list[dict], package: str) -> None:
    """torchvision 0.15.2 / torchaudio 2.0.2 exist per flavour and require exactly pytorch 2.0.1."""
    for plat in linux_torch20:
        build = f"py{plat['python'].replace('.', '')}_{plat['flavour']}"
        found = [r for r in find(records, package, TORCH20_PINS[package]) if r["build"] == build]
        assert found, f"{plat['name']}: no {package} {TORCH20_PINS[package]} build {build}"
        for record in found:
            pins = [d for d in record["depends"] if d.split()[0] == "pytorch"]
            assert pins == [f"pytorch {TORCH20_PINS['pytorch']}"], f"{package} {build}: depends on {pins}"


def test_pytorch_cuda_pins_cuda_libraries(records: list[dict], linux_torch20: list[dict]) -> None:
    """The chosen pytorch-cuda exists, fits pytorch's range, and pins the cuda-* libraries."""
    cuda_plats = [p for p in linux_torch20 if p["cuda"]]
    assert cuda_plats, "expected CUDA platforms"
    for plat in cuda_plats:
        wanted = plat["dependencies"]["pytorch-cuda"]["version"].split(".*")[0]
        found = find(records, "pytorch-cuda", wanted)
        assert found, f"{plat['name']}: no pytorch-cuda {wanted} record"
        for record in found:
            ranges = {d.split()[1] for d in record["depends"] if d.startswith("cuda-")}
            assert ranges == {CUDA_LIBRARY_RANGE[wanted]}, f"pytorch-cuda {record['build']}: cuda-* {ranges}"
        for record in pytorch_records(records, plat):
            needs = [d for d in record["depends"] if d.startswith("pytorch-cuda ")]
            assert len(needs) == 1, f"{record['build']}: expected one pytorch-cuda range, got {needs}"
            low, high = re.fullmatch(r"pytorch-cuda >=([\d.]+),<([\d.]+)", needs[0]).groups()
            assert version(low) <= version(wanted) < version(high), f"{record['build']} needs {needs}"


def test_mutex_selects_flavour(records: list[dict], linux_torch20: list[dict]) -> None:
    """CUDA builds need pytorch-mutex cuda and forbid cpuonly; CPU builds need the cpu mutex."""
    for plat in linux_torch20:
        for record in pytorch_records(records, plat):
            if plat["cuda"]:
                assert "pytorch-mutex 1.0 cuda" in record["depends"], record["depends"]
                assert "cpuonly <0" in record.get("constrains", []), record.get("constrains")
            else:
                assert "pytorch-mutex 1.0 cpu" in record["depends"], record["depends"]
                assert "cpuonly" in plat["dependencies"], f"{plat['name']}: cpuonly selects this build"


def test_mkl_constraint_closes_open_bound(records: list[dict], linux_torch20: list[dict]) -> None:
    """pytorch's `mkl >=2018` has no upper bound; the manifest's mkl <2024.1 constraint closes it."""
    for plat in linux_torch20:
        constraint = plat["constraints"].get("mkl", {}).get("version")
        assert constraint == "<2024.1", f"{plat['name']}: expected mkl <2024.1, got {constraint!r}"
        for record in pytorch_records(records, plat):
            mkl = [d for d in record["depends"] if d.split()[0] == "mkl"]
            assert mkl == ["mkl >=2018"], f"{record['build']}: expected open 'mkl >=2018', got {mkl}"


def test_torchtriton_exists(records: list[dict], linux_torch20: list[dict]) -> None:
    """CUDA builds need torchtriton 2.0.0, which exists for the pinned python."""
    for plat in (p for p in linux_torch20 if p["cuda"]):
        tag = "py" + plat["python"].replace(".", "")
        assert [r for r in find(records, "torchtriton", "2.0.0") if r["build"] == tag], f"no torchtriton 2.0.0 {tag}"
        for record in pytorch_records(records, plat):
            assert "torchtriton 2.0.0" in record["depends"], f"{record['build']}: {record['depends']}"
