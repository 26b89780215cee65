"""checks/workspace/promise.py: what an environment promises on a platform, from every kind of manifest that says it."""

import pytest

from checks.workspace import manifest, promise

HEAD = '[workspace]\nchannels = ["conda-forge"]\nplatforms = %s\n'


@pytest.fixture
def promised(tmp_path):
    """Return a function: manifest text, environment, platform name -> Promise."""

    def run(text, env="default", platform=None):
        path = tmp_path / "pixi.toml"
        path.write_text(text, encoding="utf-8")
        ws = manifest.load(str(path))
        candidates = ws.env_platforms(env)
        chosen = next(p for p in candidates if platform in (None, p.name))
        return promise.promise(ws, env, chosen)

    return run


@pytest.mark.parametrize(
    ("text", "platform", "flavour", "cuda", "driver"),
    [
        # legacy pytorch channel, as pytorch.org's 2.0 commands
        (
            HEAD % '["linux-64"]'
            + '[dependencies]\npytorch = { version = "2.0.1", channel = "pytorch" }\npytorch-cuda = "11.8.*"\n',
            "linux-64",
            "cuda",
            "11.8.*",
            None,
        ),
        (
            HEAD % '["linux-64"]'
            + '[dependencies]\npytorch = { version = "2.0.1", channel = "pytorch" }\ncpuonly = "*"\n',
            "linux-64",
            "cpu",
            None,
            None,
        ),
        (
            HEAD % '["linux-64"]' + '[dependencies]\npytorch = { version = "2.0.1", channel = "pytorch" }\n',
            "linux-64",
            "unpinned",
            None,
            None,
        ),
        # conda-forge: metapackages, cuda-version, and __cuda from a rich platform or [system-requirements]
        (
            HEAD % '["linux-64"]' + '[dependencies]\npytorch-gpu = "*"\ncuda-version = "12.6.*"\n',
            "linux-64",
            "cuda",
            "12.6.*",
            None,
        ),
        (HEAD % '["linux-64"]' + '[dependencies]\npytorch-cpu = "*"\n', "linux-64", "cpu", None, None),
        (
            HEAD % '[{ platform = "linux-64", cuda = "12.0" }]' + '[dependencies]\npytorch = ">=2.5"\n',
            None,
            "cuda",
            None,
            "12.0",
        ),
        (
            HEAD % '["linux-64", "osx-arm64"]' + '[system-requirements]\ncuda = "12"\n[dependencies]\npytorch = "*"\n',
            "linux-64-cuda-12",
            "cuda",
            None,
            "12",
        ),
        (
            HEAD % '["linux-64", "osx-arm64"]' + '[system-requirements]\ncuda = "12"\n[dependencies]\npytorch = "*"\n',
            "osx-arm64",
            "cpu",
            None,
            None,
        ),
        (HEAD % '["linux-64"]' + '[dependencies]\npytorch = "*"\n', "linux-64", "cpu", None, None),
        # PyTorch 1.x era: cudatoolkit
        (
            HEAD % '["linux-64"]' + '[dependencies]\npytorch = "1.13.*"\ncudatoolkit = "11.6.*"\n',
            "linux-64",
            "cuda",
            "11.6.*",
            None,
        ),
        # PyPI: the wheel index decides, per package or through [pypi-options]
        (
            HEAD % '["linux-64"]'
            + '[pypi-dependencies]\ntorch = { version = ">=2.5", index = "https://download.pytorch.org/whl/cu124" }\n',
            "linux-64",
            "cuda",
            "12.4.*",
            None,
        ),
        (
            HEAD % '["linux-64"]' + '[pypi-options]\nextra-index-urls = ["https://download.pytorch.org/whl/cpu"]\n'
            '[pypi-dependencies]\ntorch = "*"\n',
            "linux-64",
            "cpu",
            None,
            None,
        ),
        (HEAD % '["linux-64"]' + '[pypi-dependencies]\ntorch = "==2.5.1"\n', "linux-64", "cuda", None, None),
        (HEAD % '["win-64"]' + '[pypi-dependencies]\ntorch = "==2.5.1"\n', "win-64", "cpu", None, None),
        (
            HEAD % '["linux-64"]'
            + "[target.linux-64.pypi-dependencies]\n"
            + 'torch = { version = "*", index = "https://download.pytorch.org/whl/cu128" }\n',
            "linux-64",
            "cuda",
            "12.8.*",
            None,
        ),
    ],
)
def test_promises(promised, text, platform, flavour, cuda, driver):
    """Each way a manifest promises (or leaves open) the build flavour and CUDA version."""
    got = promised(text, platform=platform)
    assert (got.flavour, got.cuda, got.driver) == (flavour, cuda, driver), got.source


def test_an_environment_without_torch_promises_nothing(promised):
    """A lint or docs environment: no torch promise at all (flavour None), never "CPU"."""
    got = promised(HEAD % '["linux-64"]' + '[dependencies]\nruff = "*"\n')
    assert got.flavour is None and "no torch" in got.source


@pytest.mark.parametrize(
    ("build", "cuda", "driver", "verdict"),
    [
        ("11.8", "11.8.*", "11.8", None),
        ("11.7", "11.8.*", "11.8", "wrong"),
        ("12.4", None, "12.0", "newer-minor"),
        ("13.0", None, "12.9", "too-new"),
        ("12.8", ">=12.8", "12.8", None),
        ("12.6", None, "12", None),
    ],
)
def test_cuda_verdicts(build, cuda, driver, verdict):
    """A CUDA major above the platform's __cuda will not load; a newer minor runs under minor-version compatibility."""
    assert promise.cuda_verdict(build, promise.Promise("cuda", "x", cuda, driver))[0] == verdict


@pytest.mark.parametrize(
    ("build", "cuda", "verdict"),
    [
        ("13.0", ">=12.8", None),
        ("13.0", "12.*", "wrong"),
        ("13.0", ">=12.8,<13", "wrong"),
        ("12.9", ">=12.8", None),
        ("13.0", "<13", "wrong"),  # an upper bound promises CUDA 12.x, not 13
        ("12.8", "<13", None),
    ],
)
def test_a_range_promise_takes_any_cuda_it_allows(build, cuda, verdict):
    """A promise that is a range (conda-forge's `cuda-version >=12.8`, not exact) accepts a newer major it allows."""
    assert promise.cuda_verdict(build, promise.Promise("cuda", "x", cuda, exact=False))[0] == verdict


def test_selection_and_expectations(workspace):
    """The repository's default: cu118 on a CUDA 12 driver, cu117 on a 515-series (CUDA 11.7) one, CPU without;
    CONDA_OVERRIDE_CUDA is pixi's override (crates/pixi_core/src/workspace/mod.rs@v0.77.0:358-429)."""

    def chosen(cuda, subdir="linux-64"):
        return promise.expect(workspace, "default", subdir, {"__cuda": cuda}).platform.name

    assert chosen("12.2") == "linux-64-cu118" and chosen("11.7") == "linux-64-cu117" and chosen(None) == "linux-64-cpu"
    assert chosen(None, "win-64") == "win-64-cpu"
    gpu_only = promise.expect(workspace, "cu118", "linux-64", {"__cuda": None})
    assert gpu_only.chosen == "fallback" and gpu_only.flavour == "cuda" and gpu_only.driver_short
    pinned = promise.expect(workspace, "default", "linux-64", {"__cuda": None}, "linux-64-cu117")
    assert pinned.chosen == "pixi" and pinned.cuda == "11.7.*"
    with pytest.raises(manifest.ManifestError, match="does not support this machine"):
        promise.expect(workspace, "cu118", "osx-arm64", {})


def test_conda_override_cuda(monkeypatch):
    """Set: replaces the driver's CUDA; empty: removes it; unset: the driver's."""
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "11.8")
    assert promise.host_packages(None)["__cuda"] == "11.8"
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "")
    assert promise.host_packages("12.4")["__cuda"] is None
    monkeypatch.delenv("CONDA_OVERRIDE_CUDA")
    assert promise.host_packages("12.4")["__cuda"] == "12.4"


def test_torch_environment_lists(workspace):
    """The nox sessions' and CI's lists: torch environments (not test*, not lint), and those with CUDA here."""
    assert promise.torch_environments(workspace, "linux-64") == ["default", "cpu", "cu117", "cu118", "latest"]
    assert promise.torch_environments(workspace, "linux-64", cuda=True) == ["default", "cu117", "cu118", "latest"]
    assert promise.torch_environments(workspace, "osx-arm64", cuda=True) == []


TEAM = """[workspace]
channels = ["conda-forge"]
platforms = ["linux-64", "osx-arm64"]
[feature.gpu.dependencies]
pytorch-gpu = "*"
[feature.gpu]
platforms = ["linux-64"]
[feature.wheels.pypi-dependencies]
torch = { version = ">=2.5", index = "https://download.pytorch.org/whl/cu124" }
[feature.sys.system-requirements]
cuda = "12"
[feature.sys.dependencies]
pytorch = "*"
[feature.docs.dependencies]
sphinx = "*"
[environments]
gpu = ["gpu"]
wheels = ["wheels"]
sys = ["sys"]
docs = { features = ["docs"], no-default-feature = true }
"""


def test_lists_for_nox_and_ci_follow_the_model(tmp_path):
    """Another team's workspace: pytorch-gpu, PyPI torch from a CUDA index and [system-requirements] cuda are
    CUDA environments; a docs environment is none; CI's matrix (tools/ci_matrix.py) gets the same."""
    from tools import ci_matrix

    (tmp_path / "pixi.toml").write_text(TEAM)
    ws = manifest.load(str(tmp_path / "pixi.toml"))
    assert promise.torch_environments(ws, "linux-64") == ["gpu", "wheels", "sys"]
    assert promise.torch_environments(ws, "linux-64", cuda=True) == ["gpu", "wheels", "sys"]
    assert promise.torch_environments(ws, "osx-arm64") == ["wheels", "sys"]
    jobs = {(j["environment"], j["platform"]): j["cuda"] for j in ci_matrix.matrices(ws)["verify"]}
    assert jobs[("sys", "linux-64-cuda-12")] == "12" and jobs[("wheels", "osx-arm64")] == ""
    assert not any(env == "docs" for env, _ in jobs)


@pytest.mark.parametrize(
    ("pypi", "label"),
    [
        # prefix-dev/pixi#2398: "there is no version of torch==2.5.1+cu121" without the PyTorch index
        ('[pypi-dependencies]\ntorch = { version = "==2.5.1+cu121" }\n', "cu121"),
        # the same pin with the index, per package or through [pypi-options]: resolvable
        (
            '[pypi-dependencies]\ntorch = { version = "==2.5.1+cu121", '
            'index = "https://download.pytorch.org/whl/cu121" }\n',
            None,
        ),
        (
            '[pypi-options]\nextra-index-urls = ["https://download.pytorch.org/whl/cu121"]\n'
            '[pypi-dependencies]\ntorch = "==2.5.1+cu121"\n',
            None,
        ),
        ('[pypi-dependencies]\ntorch = "==2.5.1"\n', None),  # a public version: PyPI has it
    ],
)
def test_a_local_version_from_pypi_needs_a_pytorch_index(promised, pypi, label):
    """PEP 440's local versions are not on pypi.org; only a PyTorch wheel index serves `+cu121`."""
    assert promise.local_without_index(promised(HEAD % '["linux-64"]' + pypi, platform="linux-64")) == label
