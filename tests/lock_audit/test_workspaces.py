"""lock-audit on the shapes other teams' pixi workspaces have: one small fixture of our own per kind, each the shape
of real public workspaces (their sources are listed in the closing note of the issue that added these; their files
are not in this repository). Each asserts the verdict that is right for that shape, and that nothing crashes."""

import json

import pytest
from lockdata import dump

from checks.lock_audit import command as lock_audit

CF = "https://conda.anaconda.org/conda-forge/"
LINUX = ["__unix=0=0", "__linux=4.18", "__glibc=2.28", "__archspec=0=x86_64"]


def conda(name, version, build, subdir="linux-64", channel=CF, depends=(), fmt=7):
    """A conda record as the lock writes it: v7/v6 by URL only, v4/v5 with `kind` and explicit fields."""
    url = "%s%s/%s-%s-%s.conda" % (channel, subdir, name, version, build)
    if fmt >= 6:
        entry = {"conda": url}
    else:
        entry = {"kind": "conda", "name": name, "version": version, "build": build, "subdir": subdir, "url": url}
    if depends:
        entry["depends"] = list(depends)
    return entry


def pypi(name, version, url, requires=(), index=None):
    entry = {"pypi": url, "name": name, "version": version, "sha256": "0" * 64}
    if index:
        entry["index"] = index
    if requires:
        entry["requires_dist"] = list(requires)
    return entry


def lock(envs, fmt=7, platforms=None, indexes=None):
    """envs: {env: {platform: [entries]}}; channels conda-forge; a v7 lock gets the platforms block given."""
    doc, packages = {"version": fmt}, {}
    if fmt >= 7:
        doc["platforms"] = platforms or [{"name": "linux-64", "virtual-packages": LINUX}]
    doc["environments"] = {}
    for env, by_platform in envs.items():
        body = {"channels": [{"url": CF}], "packages": {}}
        if indexes:
            body["indexes"] = indexes
        for platform, entries in by_platform.items():
            refs = []
            for e in entries:
                kind = "pypi" if ("pypi" in e or e.get("kind") == "pypi") else "conda"
                key = e.get(kind) or e["url"]
                refs.append({kind: key})
                packages[(kind, key)] = e
            body["packages"][platform] = refs
        doc["environments"][env] = body
    doc["packages"] = list(packages.values())
    return doc


@pytest.fixture
def run(tmp_path, capsys):
    """Write manifest (+ lock) and run lock-audit; return (exit code, {result name: result})."""

    def audit(manifest_text, doc=None, name="pixi.toml"):
        (tmp_path / name).write_text(manifest_text)
        argv = ["--manifest", str(tmp_path / name), "--json", str(tmp_path / "r.json")]
        if doc is not None:
            (tmp_path / "pixi.lock").write_text(dump(doc))
        code = lock_audit.main(argv)
        capsys.readouterr()
        report = json.loads((tmp_path / "r.json").read_text())
        return code, {r["name"]: r for r in report["results"]}

    return audit


PY311 = conda("python", "3.11.9", "h1234567_0")


def test_project_era_manifest_with_a_v5_lock(run):
    """`[project]` (pixi still reads it) and a v5 lock (`kind: conda` records): read and judged, no KeyError."""
    text = '[project]\nname = "p"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npython = "=3.11"\npytorch-cpu = "*"\n'
    entries = [
        conda("python", "3.11.9", "h1234567_0", fmt=5),
        conda("pytorch-cpu", "2.1.0", "h1234567_0", "noarch", fmt=5),
        conda("pytorch", "2.1.0", "cpu_mkl_py311h1234567_100", fmt=5),
    ]
    code, results = run(text, lock({"default": {"linux-64": entries}}, fmt=5))
    assert code == 0 and results["default-on-linux-64"]["status"] == "PASS"  # `=3.11` matches 3.11.9


def test_pyproject_workspace(run):
    """pyproject.toml with [tool.pixi.workspace]: the Python [project]'s dependencies are PyPI dependencies."""
    text = (
        '[project]\nname = "p"\ndependencies = ["rich>=13"]\n[tool.pixi.workspace]\nchannels = ["conda-forge"]\n'
        'platforms = ["linux-64"]\n[tool.pixi.dependencies]\npython = "3.11.*"\npytorch-cpu = "*"\n'
    )
    entries = [
        PY311,
        conda("pytorch-cpu", "2.1.0", "h1234567_0", "noarch"),
        conda("pytorch", "2.1.0", "cpu_mkl_py311h1234567_100"),
        pypi("rich", "12.0.0", "https://files.pythonhosted.org/packages/rich-12.0.0-py3-none-any.whl"),
    ]
    code, results = run(text, lock({"default": {"linux-64": entries}}), name="pyproject.toml")
    assert code == 1 and "rich >=13" in results["default-on-linux-64"]["expected"]


SYSREQ = '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[system-requirements]\ncuda = "12"\n[dependencies]\npython = "3.11.*"\npytorch = ">=2.5"\n'


@pytest.mark.parametrize(
    ("build", "status"), [("cuda126_mkl_py311h1234567_300", "PASS"), ("cpu_mkl_py311h1234567_100", "FAIL")]
)
def test_cuda_promised_by_system_requirements(run, build, status):
    """conda-forge pytorch + [system-requirements] cuda: the CUDA build passes, the CPU build fails (v6 lock, one
    row per subdir standing for the synthesised linux-64-cuda-12)."""
    code, results = run(SYSREQ, lock({"default": {"linux-64": [PY311, conda("pytorch", "2.5.1", build)]}}, fmt=6))
    assert results["default-on-linux-64-cuda-12"]["status"] == status and results["lock-format"]["status"] == "WARN"


RICH = '[workspace]\nchannels = ["conda-forge"]\nplatforms = [{ platform = "linux-64", cuda = "12.0" }]\n[dependencies]\npython = "3.11.*"\npytorch = ">=2.5"\n'


def test_unnamed_rich_platform_and_its_p_alias(run):
    """An unnamed rich platform is `linux-64-cuda-12-0` (pixi's name); its lock row is `p1`; a CUDA 13 build on a
    platform that declares __cuda=12.0 will not load (FAIL), a newer 12.x minor is a WARN."""
    rows = [{"name": "p1", "subdir": "linux-64", "virtual-packages": ["__cuda=12.0"] + LINUX}]
    for build, status in (("cuda130_mkl_py311h1234567_300", "FAIL"), ("cuda128_mkl_py311h1234567_300", "WARN")):
        code, results = run(RICH, lock({"default": {"p1": [PY311, conda("pytorch", "2.9.1", build)]}}, platforms=rows))
        result = results["default-on-linux-64-cuda-12-0"]
        assert result["status"] == status and result["data"]["lock_platform"] == "p1", result


PYPI_CU124 = (
    '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64", "osx-arm64"]\n[dependencies]\npython = "3.11.*"\n'
    '[target.linux-64.pypi-dependencies]\ntorch = { version = "==2.5.1", index = "https://download.pytorch.org/whl/cu124" }\n'
    '[target.osx-arm64.pypi-dependencies]\ntorch = { version = "==2.5.1", index = "https://download.pytorch.org/whl/cpu" }\n'
)
WHL = "https://download.pytorch.org/whl/%s/torch-2.5.1%s-cp311-cp311-%s.whl"
NVIDIA = ["nvidia-cuda-runtime-cu12==12.4.127 ; platform_system == 'Linux' and platform_machine == 'x86_64'"]


@pytest.mark.parametrize(
    ("linux", "mac", "status"),
    [
        (pypi("torch", "2.5.1+cu124", WHL % ("cu124", "%2Bcu124", "linux_x86_64")), None, "PASS"),
        (pypi("torch", "2.5.1+cpu", WHL % ("cpu", "%2Bcpu", "linux_x86_64")), None, "FAIL"),
    ],
)
def test_pypi_torch_from_a_wheel_index(run, linux, mac, status):
    """PyPI torch: the local version (`+cu124`, `+cpu`) against the index the manifest gives; a macOS wheel whose
    requires_dist names nvidia wheels for Linux only is still a CPU build."""
    mac = pypi("torch", "2.5.1", WHL % ("cpu", "", "macosx_11_0_arm64"), NVIDIA)
    doc = lock(
        {
            "default": {
                "linux-64": [PY311, linux],
                "osx-arm64": [conda("python", "3.11.9", "h1234567_0", "osx-arm64"), mac],
            }
        },
        platforms=[
            {"name": "linux-64", "virtual-packages": LINUX},
            {"name": "osx-arm64", "virtual-packages": ["__unix=0=0", "__osx=13.0", "__archspec=0=m1"]},
        ],
    )
    code, results = run(PYPI_CU124, doc)
    assert results["default-on-linux-64"]["status"] == status and results["default-on-osx-arm64"]["status"] == "PASS"


def test_pypi_torch_pulled_in_by_another_package(run):
    """torch not in the manifest, locked from PyPI for another package: judged by PyPI's rule (the Linux wheel with
    nvidia-*-cu12 requirements is CUDA 12.x; here PyPI gives no promise of a version, so it passes)."""
    text = '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npython = "3.11.*"\n[pypi-dependencies]\nlerobot = "*"\n'
    torch = pypi(
        "torch",
        "2.7.1",
        "https://files.pythonhosted.org/packages/torch-2.7.1-cp311-cp311-manylinux_2_28_x86_64.whl",
        NVIDIA,
    )
    lerobot = pypi(
        "lerobot", "0.4.2", "https://files.pythonhosted.org/packages/lerobot-0.4.2-py3-none-any.whl", ["torch>=2.2"]
    )
    code, results = run(text, lock({"default": {"linux-64": [PY311, torch, lerobot]}}))
    assert code == 0 and "torch 2.7.1 cuda 12.4 from PyPI" in results["default-on-linux-64"]["summary"]


def test_the_same_name_from_conda_and_pypi(run):
    """`tzdata` (and `cuda-toolkit`) locked from both conda and PyPI in one environment: each is judged against its
    own kind of spec, and neither replaces the other."""
    text = '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npython = "3.11.*"\ntzdata = ">=2024a"\n[pypi-dependencies]\ntzdata = "<2025"\n'
    entries = [
        PY311,
        conda("tzdata", "2025b", "h78e105d_0", "noarch"),
        pypi("tzdata", "2024.2", "https://files.pythonhosted.org/packages/tzdata-2024.2-py2.py3-none-any.whl"),
    ]
    code, results = run(text, lock({"default": {"linux-64": entries}}))
    assert code == 0 and results["default-on-linux-64"]["status"] == "PASS"


def test_channels_given_as_urls(run):
    """A package pinned to `https://prefix.dev/conda-forge` and locked from there passes; the channel is compared
    by its base URL, as pixi resolves it."""
    text = (
        '[workspace]\nchannels = ["https://prefix.dev/conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\n'
        'python = "3.11.*"\npytorch = { version = ">=2.5", channel = "https://prefix.dev/conda-forge" }\n'
    )
    pf = "https://prefix.dev/conda-forge/"
    entries = [
        conda("python", "3.11.9", "h1234567_0", channel=pf),
        conda("pytorch", "2.5.1", "cpu_mkl_py311h1234567_100", channel=pf),
    ]
    doc = lock({"default": {"linux-64": entries}})
    doc["environments"]["default"]["channels"] = [{"url": pf}]
    code, results = run(text, doc)
    assert code == 0 and results["default-on-linux-64"]["status"] == "PASS"
    doc["packages"][1]["conda"] = doc["environments"]["default"]["packages"]["linux-64"][1]["conda"] = (
        CF + "linux-64/pytorch-2.5.1-cpu_mkl_py311h1234567_100.conda"
    )
    code, results = run(text, doc)
    assert (
        code == 1
        and "pytorch from channel https://prefix.dev/conda-forge" in results["default-on-linux-64"]["expected"]
    )


@pytest.mark.parametrize(
    ("spec", "locked", "status"),
    [
        ("=3.11", "3.11.9", "PASS"),
        ("~=3.11.2", "3.12.1", "FAIL"),
        ("3.11", "3.11.9", "FAIL"),
        ("3.11.*", "3.11.9", "PASS"),
    ],
)
def test_conda_version_spec_meaning(run, spec, locked, status):
    """`=3.11` is 3.11.*; a bare `3.11` is ==3.11 in pixi; `~=` is a compatible release."""
    text = '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npython = "%s"\n' % spec
    code, results = run(text, lock({"default": {"linux-64": [conda("python", locked, "h1234567_0")]}}))
    assert results["default-on-linux-64"]["status"] == status


def test_pytorch_1_era_cudatoolkit(run):
    """`cudatoolkit 11.6` with conda-forge's `cuda112py39` build (PyTorch 1.x): CUDA 11, as promised."""
    text = '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npython = "3.9.*"\npytorch = "1.12.*"\ncudatoolkit = "11.6.*"\n'
    entries = [
        conda("python", "3.9.18", "h1234567_0"),
        conda("pytorch", "1.12.1", "cuda112py39hb0b7ed5_201"),
        conda("cudatoolkit", "11.6.2", "hfc3e2af_12"),
    ]
    code, results = run(text, lock({"default": {"linux-64": entries}}))
    assert code == 0 and "pytorch 1.12.1 cuda 11.2" in results["default-on-linux-64"]["summary"]


def test_a_legacy_pytorch_without_a_flavour_is_unpinned(run):
    """pytorch from the pytorch channel with neither cpuonly nor pytorch-cuda: WARN in the manifest and in the lock,
    whatever the solver picked; never "CPU" by guess."""
    text = '[workspace]\nchannels = ["pytorch", "conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npython = "3.11.*"\npytorch = "2.5.*"\n'
    torch = conda("pytorch", "2.5.0", "py3.11_cuda12.1_cudnn9.1.0_0", channel="https://conda.anaconda.org/pytorch/")
    doc = lock({"default": {"linux-64": [PY311, torch]}})
    doc["environments"]["default"]["channels"] = [{"url": "https://conda.anaconda.org/pytorch/"}, {"url": CF}]
    code, results = run(text, doc)
    assert code == 0 and results["default-on-linux-64"]["status"] == "WARN"
    assert results["manifest-flavour-default-on-linux-64"]["status"] == "WARN"


def test_an_environment_without_torch(run):
    """A lint environment: no torch promise to judge; its pins still are."""
    text = '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npython = "3.11.*"\n[feature.lint.dependencies]\nruff = "*"\n[environments]\nlint = ["lint"]\n'
    entries = [PY311, conda("ruff", "0.6.9", "py311h1234567_0")]
    code, results = run(text, lock({"default": {"linux-64": [PY311]}, "lint": {"linux-64": entries}}))
    assert code == 0 and results["lint-on-linux-64"]["summary"] == "python 3.11.9"


def test_a_cuda_toolkit_of_another_major_than_torch_warns(run):
    """A CUDA 11.7 nvcc next to PyPI torch built with CUDA 12: extensions built here fail
    (torch.utils.cpp_extension's CUDA_MISMATCH_MESSAGE); a WARN naming both."""
    text = '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npython = "3.11.*"\ncuda-nvcc = "11.7.*"\n[pypi-dependencies]\ntorch = "==2.3.1"\n'
    torch = pypi(
        "torch",
        "2.3.1",
        "https://files.pythonhosted.org/packages/torch-2.3.1-cp311-cp311-manylinux1_x86_64.whl",
        ["nvidia-cuda-runtime-cu12==12.1.105 ; platform_system == 'Linux'"],
    )
    code, results = run(text, lock({"default": {"linux-64": [PY311, conda("cuda-nvcc", "11.7.64", "0"), torch]}}))
    result = results["default-on-linux-64"]
    assert (
        code == 0 and result["status"] == "WARN" and "a CUDA 12.x toolkit, as torch's CUDA 12.1" in result["expected"]
    )


def test_an_empty_environment_needs_no_lock_entries(run):
    """An environment with no dependencies has no package lists in the lock: nothing is missing."""
    text = '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[feature.t.dependencies]\npython = "3.11.*"\n[environments]\nt = { features = ["t"], no-default-feature = true }\n'
    doc = lock({"t": {"linux-64": [PY311]}})
    doc["environments"]["default"] = {"channels": [{"url": CF}], "packages": {}}
    code, results = run(text, doc)
    assert code == 0 and "nothing to lock" in results["default-on-linux-64"]["summary"]


def test_a_v7_lock_written_by_pixi_0_70_is_read_for_the_rich_platform(run):
    """pixi 0.70 wrote v7 locks whose platform rows carry no virtual packages (`- name: linux-64`: pixi.lock at
    prefix-dev/pixi v0.70.0, lines 1-7). pixi 0.77 reads such a row for every manifest platform of its subdir,
    whatever the format version (resolve_lock_platform_for: `locked.is_empty() || ...`,
    crates/pixi_core/src/lock_file/satisfiability/platform.rs@v0.77.0:91-107; and a row whose subdir an environment
    targets is not an additional platform, satisfiability/environment.rs@v0.77.0:80-110). So nothing is "missing" or
    "stale": the real defect, a CPU torch where the platform declares CUDA, is the finding."""
    rows = [{"name": "linux-64"}]
    build = "cpu_mkl_py311h1234567_100"
    cpu = lock({"default": {"linux-64": [PY311, conda("pytorch", "2.5.1", build)]}}, platforms=rows)
    code, results = run(RICH, cpu)
    result = results["default-on-linux-64-cuda-12-0"]
    assert code == 1 and result["status"] == "FAIL" and "a cuda build" in result["expected"], result
    assert result["data"]["lock_platform"] == "linux-64" and "stale-entries" not in results
    assert results["lock-format"]["status"] == "WARN" and "lock-platform-linux-64" not in results
    build = "cuda120_mkl_py311h1234567_300"
    good = lock({"default": {"linux-64": [PY311, conda("pytorch", "2.5.1", build)]}}, platforms=rows)
    code, results = run(RICH, good)
    assert results["default-on-linux-64-cuda-12-0"]["status"] == "PASS" and code == 0


def test_a_subdir_row_declaring_other_virtual_packages_is_not_read_for_a_rich_platform(run):
    """The fallback row must declare every virtual package of the platform when it declares any
    (`declared.iter().all(|d| locked.iter().any(|l| l == d))`, satisfiability/platform.rs@v0.77.0:105): a linux-64 row
    that declares only the defaults does not stand for linux-64-cuda-12-0."""
    rows = [{"name": "linux-64", "virtual-packages": LINUX}]
    build = "cuda120_mkl_py311h1234567_300"
    doc = lock({"default": {"linux-64": [PY311, conda("pytorch", "2.5.1", build)]}}, platforms=rows)
    code, results = run(RICH, doc)
    assert code == 1 and results["default-on-linux-64-cuda-12-0"]["summary"] == "missing from the lock"


def test_an_upper_bound_on_cuda_version_promises_the_major_below(run):
    """`cuda-version = "<13"` admits no CUDA 13 (the `<` operator, rattler_conda_types version_spec/parse.rs at
    rattler_conda_types-v0.49.0:33-57): a CUDA 13.0 build fails naming CUDA 12.x, a CUDA 12.8 build passes."""
    text = '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npython = "3.11.*"\n'
    text += 'pytorch = ">=2.5"\ncuda-version = "<13"\n'
    for build, cuda, status in (
        ("cuda130_mkl_py311h1234567_300", "13.0", "FAIL"),
        ("cuda128_mkl_py311h1234567_300", "12.8", "PASS"),
    ):
        entries = [PY311, conda("pytorch", "2.9.1", build), conda("cuda-version", cuda, "h1234567_0", "noarch")]
        code, results = run(text, lock({"default": {"linux-64": entries}}))
        result = results["default-on-linux-64"]
        assert result["status"] == status, result
        assert status == "PASS" or "CUDA 12.x (cuda-version <13)" in result["expected"]


VLLM = (
    '[workspace]\nname = "serve"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n%s[dependencies]\n'
    'python = "3.11.*"\n[pypi-dependencies]\ntorch = ">=2.9"\nvllm = "==0.13.0"\n'
)
VLLM_WHL = "https://files.pythonhosted.org/packages/3c/7e/vllm-0.13.0-cp38-abi3-manylinux_2_31_x86_64.whl"
TORCH_WHL = "https://files.pythonhosted.org/packages/56/be/torch-2.9.1-cp311-cp311-manylinux_2_28_x86_64.whl"


@pytest.mark.parametrize(
    ("requirements", "platform_row", "status"),
    [
        ("", LINUX, "FAIL"),  # pixi's default glibc 2.28 rules the manylinux_2_31 wheel out
        (
            '[system-requirements]\nlibc = "2.31"\n',
            ["__unix=0=0", "__linux=4.18", "__glibc=2.31", "__archspec=0=x86_64"],
            "PASS",
        ),
    ],
)
def test_a_locked_wheel_for_a_newer_glibc_than_the_workspace_libc(run, requirements, platform_row, status):
    """pixi#5266: vllm 0.13.0's wheels are manylinux_2_31; without `[system-requirements] libc` pixi resolves for
    glibc 2.28 (pypi_tags.rs@v0.77.0 get_linux_platform_tags), so such a locked wheel was locked for another libc."""
    rows = [{"name": "linux-64", "subdir": "linux-64", "virtual-packages": platform_row}]
    if requirements:
        rows[0]["name"] = "linux-64-glibc-2-31"
    entries = [PY311, pypi("torch", "2.9.1", TORCH_WHL, NVIDIA), pypi("vllm", "0.13.0", VLLM_WHL)]
    code, results = run(VLLM % requirements, lock({"default": {rows[0]["name"]: entries}}, platforms=rows))
    result = next(r for n, r in results.items() if n.startswith("default-on-linux-64"))
    assert result["status"] == status, result
    if status == "FAIL":
        assert "vllm 0.13.0, a wheel tagged manylinux_2_31_x86_64 (glibc 2.31)" in result["actual"]
        assert "glibc 2.28 or older (no libc declared: pixi's default)" in result["expected"]
        assert '[system-requirements] libc = "2.31"' in result["hint"]
