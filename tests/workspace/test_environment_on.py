"""EnvironmentOnPlatform (checks/workspace/manifest.py): an environment composed once on a platform, the record that
promise, lock-audit and verify read. The expected values follow pixi v0.77.0's rules, cited at each assertion."""

import collections
import dataclasses

import pytest

from checks.lock_audit import manifest_verdicts
from checks.workspace import manifest, promise

MANIFEST = """
[workspace]
channels = ["conda-forge"]
platforms = ["linux-64", { name = "linux-64-cuda", platform = "linux-64", cuda = "12" }, "osx-arm64"]
[workspace.pypi-options]
extra-index-urls = ["https://download.pytorch.org/whl/cu124"]
[dependencies]
python = "3.11.*"
[target.osx-arm64.dependencies]
python = "3.12.*"
[constraints]
numpy = "<2"
[feature.gpu]
platforms = ["linux-64-cuda"]
channels = [{ channel = "nvidia", priority = 1 }, "conda-forge"]
[feature.gpu.dependencies]
pytorch-gpu = "*"
[feature.gpu.host-dependencies]
cuda-version = "12.4.*"
[feature.gpu.pypi-dependencies]
Torch_Audio = "*"
[environments]
cuda = { features = ["gpu"], channel-priority = "flexible" }
"""


@pytest.fixture
def ws(tmp_path):
    path = tmp_path / "pixi.toml"
    path.write_text(MANIFEST, encoding="utf-8")
    return manifest.load(str(path))


def versions(specs):
    return {name: [(s["version"], s["feature"]) for s in found] for name, found in specs.items()}


def test_record_of_an_environment_on_its_platform(ws):
    assert not ws.problems
    (platform,) = ws.env_platforms("cuda")  # only the platform feature gpu names (features_ext.rs@v0.77.0:165-228)
    on = ws.environment_on("cuda", platform)
    assert on.environment == "cuda" and on.platform is platform
    # hidden feature first (its inline channel-priority), then gpu, the default feature last
    # (toml/manifest.rs@v0.77.0:409-489, workspace/environment.rs@v0.77.0:543-556)
    assert on.features == ("cuda", "gpu", "default")
    # run and host dependencies together, one spec per feature (DependencyMap::merge_all)
    assert versions(on.dependencies) == {
        "pytorch-gpu": [("*", "gpu")],
        "cuda-version": [("12.4.*", "gpu")],
        "python": [("3.11.*", "default")],
    }
    assert versions(on.constraints) == {"numpy": [("<2", "default")]}
    assert versions(on.pypi_dependencies) == {"torch-audio": [("*", "gpu")]}  # PEP 503 name
    # nvidia's priority 1 sorts first; the workspace's channels for features without any (features_ext.rs:44-62)
    assert on.channels == ("nvidia", "conda-forge")
    assert on.channel_priority == "flexible"  # the one value set (features_ext.rs@v0.77.0:96-108)
    assert on.indexes == ("https://pypi.org/simple", "https://download.pytorch.org/whl/cu124")  # :367-390
    assert ("__cuda", "12") in [(vp.name, vp.version) for vp in on.virtual_packages]
    assert on.specs("pypi-dependencies") is on.pypi_dependencies and on.specs("constraints") is on.constraints
    with pytest.raises(ValueError, match="kind must be one of"):
        on.specs("host-dependencies")


def test_targets_and_features_that_apply_on_the_platform(ws):
    mac = ws.environment_on("default", ws.platform("osx-arm64"))
    # the matching target replaces the feature's spec (Targets::resolve_for_platform, target.rs@v0.77.0:880-894)
    assert versions(mac.dependencies) == {"python": [("3.12.*", "default")]}
    # gpu does not apply on linux-64 (PixiPlatform::matches_reference, platform.rs@v0.77.0:393-399)
    plain = ws.environment_on("cuda", ws.platform("linux-64"))
    assert plain.features == ("cuda", "default") and "pytorch-gpu" not in plain.dependencies
    assert plain.channels == ("nvidia", "conda-forge")  # channels belong to the environment, whatever the platform


def test_record_is_read_only(ws):
    on = ws.environment_on("default", ws.platform("linux-64"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        on.channels = ("pytorch",)
    with pytest.raises(TypeError):
        on.dependencies["pytorch"] = ({"version": "*"},)
    with pytest.raises(TypeError):
        on.dependencies["python"][0]["version"] = "3.8.*"
    assert ws.environment_on("default", ws.platform("linux-64")).dependencies["python"][0]["version"] == "3.11.*"


def test_each_environment_is_composed_once_per_platform(ws, monkeypatch):
    """promise, the expectation and lock-audit's manifest verdicts all read the one cached record."""
    composed, platforms_of, features_on = collections.Counter(), collections.Counter(), collections.Counter()
    compose, compose_platforms, compose_feature = ws._compose_environment, ws._compose_platforms, ws._compose_feature

    def counting(env, platform):
        composed[(env, platform.name)] += 1
        return compose(env, platform)

    def counting_features(feature, platform):
        features_on[(feature.kind, feature.name, platform.name)] += 1
        return compose_feature(feature, platform)

    def counting_platforms(features):
        platforms_of[tuple(f.name for f in features)] += 1
        return compose_platforms(features)

    monkeypatch.setattr(ws, "_compose_environment", counting)
    monkeypatch.setattr(ws, "_compose_platforms", counting_platforms)
    monkeypatch.setattr(ws, "_compose_feature", counting_features)
    list(manifest_verdicts.audit(ws))
    promise.torch_environments(ws, "linux-64", cuda=True)
    promise.environments_with_kernels(ws, "linux-64", (9, 0))
    pairs = [(env, p) for env in ws.environments for p in ws.env_platforms(env)]
    for env, platform in pairs:
        expectation = promise.expect(ws, env, platform.subdir, {}, platform_name=platform.name)
        assert expectation.on is ws.environment_on(env, platform)
        assert expectation.deps is expectation.on.dependencies
        promise.pypi_promise(ws, env, platform)
    assert sorted(composed) == sorted((env, p.name) for env, p in pairs)
    assert set(composed.values()) == {1}
    assert set(platforms_of.values()) == {1} and len(platforms_of) == len(ws.environments)  # features differ
    # the default feature is composed once per platform, though both environments include it
    assert set(features_on.values()) == {1}, features_on
    assert features_on[("default", "default", "linux-64-cuda")] == 1


def test_environments_with_the_same_features_share_platforms_and_channels(tmp_path):
    """Composition mode (bare subdirs): pixi gives each environment one platform per subdir its features support
    (platform_composition.rs@v0.77.0:24-128); environments listing the same features get the same, composed once."""
    path = tmp_path / "pixi.toml"
    path.write_text(
        '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64", "osx-arm64"]\n'
        '[feature.f.dependencies]\nnumpy = "*"\n[feature.g]\nplatforms = ["linux-64"]\nchannels = ["pytorch"]\n'
        '[environments]\na = ["f"]\nb = ["f"]\nc = ["g"]\n',
        encoding="utf-8",
    )
    ws = manifest.load(str(path))
    assert [p.name for p in ws.env_platforms("a")] == ["linux-64", "osx-arm64"]
    assert [a is b for a, b in zip(ws.env_platforms("a"), ws.env_platforms("b"))] == [True, True]
    assert [p.name for p in ws.env_platforms("c")] == ["linux-64"]
    assert ws.channels("a") == ws.channels("b") == ["conda-forge"] and ws.channels("c") == ["pytorch", "conda-forge"]
    linux = ws.env_platforms("a")[0]
    a, b = ws.environment_on("a", linux), ws.environment_on("b", linux)
    assert a is not b and a.environment == "a" and b.environment == "b"
    assert a.dependencies["numpy"][0] is b.dependencies["numpy"][0]  # feature f's spec, composed once on linux-64
    # another Platform object of the same name is composed for itself, never served another's record
    fresh = ws.environment_on("a", manifest.plat.Platform.from_subdir("linux-64"))
    assert fresh is not a and fresh.dependencies["numpy"][0]["version"] == "*"
