"""Tests for tools/gen_envs.py: drift, --check reporting, errors, target matching, output."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools import gen_envs

GEN_ENVS = Path(__file__).resolve().parents[2] / "tools" / "gen_envs.py"
FIX = "run `pixi run envs` or `python tools/gen_envs.py`"
WHL = "https://download.pytorch.org/whl/"


def run_cli(*args: object) -> subprocess.CompletedProcess:
    """Run the generator as a script."""
    command = [sys.executable, str(GEN_ENVS), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def requirement_lines(text: str) -> list[str]:
    """Return the non-comment lines of a requirements file."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def yaml_list(text: str, key: str) -> list[str]:
    """Return the `  - item` entries under a top-level `key:` of a generated conda file."""
    lines = text.splitlines()
    start = lines.index(f"{key}:") + 1
    items = []
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        if line.startswith("  - "):
            items.append(line[4:])
    return items


@pytest.fixture(scope="module")
def files(workspace) -> dict[str, str]:
    """Return the generated files for the real pixi.toml, keyed by path under envs/."""
    return gen_envs.build_files(workspace)


@pytest.fixture
def generated(tmp_path: Path, repo_root: Path) -> Path:
    """Copy pixi.toml into tmp_path, generate envs/ beside it, and return the copy's path."""
    copy = tmp_path / "pixi.toml"
    shutil.copy(repo_root / "pixi.toml", copy)
    result = run_cli("--manifest", copy)
    assert result.returncode == 0, f"expected exit 0 from generation, got {result.returncode}: {result.stderr}"
    return copy


def test_envs_up_to_date(repo_root: Path) -> None:
    """The committed envs/ matches pixi.toml."""
    result = run_cli("--check", "--manifest", repo_root / "pixi.toml")
    assert result.returncode == 0, f"expected exit 0, got {result.returncode}:\n{result.stderr}"


def test_check_names_stale_files(generated: Path) -> None:
    """Changing a torch20 pin makes --check fail and name exactly the files it affects."""
    text = generated.read_text(encoding="utf-8")
    changed = text.replace('numpy = ">=1.21,<2"', 'numpy = ">=1.22,<2"')
    assert changed != text, "the numpy pin to edit was not found in pixi.toml"
    generated.write_text(changed, encoding="utf-8")
    result = run_cli("--check", "--manifest", generated)
    assert result.returncode == 1, f"expected exit 1, got {result.returncode}: {result.stderr}"
    for stale in ("cu118/linux-64-cu118.conda.yml", "cpu/osx-arm64-macos-12-3.requirements.txt"):
        assert f"stale: envs/{stale}" in result.stderr, f"expected {stale} reported, got:\n{result.stderr}"
    assert "envs/latest/" not in result.stderr, f"latest does not use torch20, got:\n{result.stderr}"
    assert FIX in result.stderr, f"expected the fix hint, got:\n{result.stderr}"


def test_check_names_missing_and_extra(generated: Path) -> None:
    """--check reports missing and extra files; a normal run repairs both."""
    envs = generated.parent / "envs"
    (envs / "cpu" / "osx-64.conda.yml").unlink()
    (envs / "cpu" / "old.txt").write_text("left over\n", encoding="utf-8")
    result = run_cli("--check", "--manifest", generated)
    assert result.returncode == 1, f"expected exit 1, got {result.returncode}: {result.stderr}"
    assert "missing: envs/cpu/osx-64.conda.yml" in result.stderr, result.stderr
    assert "extra: envs/cpu/old.txt" in result.stderr, result.stderr
    assert run_cli("--manifest", generated).returncode == 0
    assert not (envs / "cpu" / "old.txt").exists(), "expected the extra file to be removed"
    result = run_cli("--check", "--manifest", generated)
    assert result.returncode == 0, f"expected exit 0 after regenerating, got:\n{result.stderr}"


@pytest.mark.parametrize(
    "text",
    [
        "[workspace\nname = 'broken'\n",
        '[tool]\nname = "not-a-workspace"\n',
        '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n'
        '[dependencies]\npytorch = "*"\nfoo = { git = "x" }\n',
    ],
    ids=["toml-syntax", "not-a-workspace", "untranslatable"],
)
def test_malformed_manifest_is_one_line_exit_2(tmp_path: Path, text: str) -> None:
    """A malformed pixi.toml gives exit 2 and a one-line error, never a traceback."""
    manifest = tmp_path / "pixi.toml"
    manifest.write_text(text, encoding="utf-8")
    result = run_cli("--check", "--manifest", manifest)
    assert result.returncode == 2, f"expected exit 2, got {result.returncode}: {result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gen_envs: error:"), f"got {lines!r}"


def test_unknown_pypi_name_is_an_error(generated: Path) -> None:
    """A dependency without a known PyPI name stops generation instead of being dropped."""
    text = generated.read_text(encoding="utf-8")
    header = "[feature.torch20.dependencies]\n"
    assert header in text, "expected a [feature.torch20.dependencies] table"
    generated.write_text(text.replace(header, header + 'mystery-lib = "*"\n'), encoding="utf-8")
    result = run_cli("--manifest", generated)
    assert result.returncode == 2, f"expected exit 2, got {result.returncode}: {result.stderr}"
    assert "mystery-lib" in result.stderr, f"expected the package named, got: {result.stderr}"


@pytest.mark.parametrize(
    ("pixi", "conda", "pip"),
    [
        ("2.0.1", "pkg==2.0.1", "==2.0.1"),
        ("11.8.*", "pkg=11.8.*", "==11.8.*"),
        (">=1.21,<2", "pkg>=1.21,<2", ">=1.21,<2"),
        ("*", "pkg", ""),
        ("=1.2", "pkg=1.2", "==1.2.*"),
    ],
)
def test_spec_translation(pixi: str, conda: str, pip: str) -> None:
    """pixi version specs become equivalent conda matchspecs and PEP 440 specifiers."""
    assert gen_envs.conda_spec("pkg", {"version": pixi, "channel": None}) == conda
    assert gen_envs.pep440(pixi) == pip


def test_user_facing_environments(workspace, files: dict[str, str]) -> None:
    """Files are generated for the torch environments, not for lint or test*."""
    expected = {"cpu", "cu117", "cu118", "default", "latest"}
    assert set(gen_envs.user_facing(workspace)) == expected
    folders = {path.split("/")[0] for path in files if "/" in path}
    assert folders == expected, f"expected envs/ folders {sorted(expected)}, got {sorted(folders)}"


@pytest.mark.parametrize(
    ("env", "platform", "index"),
    [
        ("cu118", "linux-64-cu118", "cu118"),
        ("cu117", "win-64-cu117", "cu117"),
        ("default", "linux-64-cu118", "cu118"),
        ("cpu", "linux-64-cpu", "cpu"),
        ("latest", "win-64-cu128", "cu128"),
        ("cpu", "osx-arm64-macos-12-3", None),
        ("default", "osx-64", None),
    ],
)
def test_requirements_index(files: dict[str, str], env: str, platform: str, index: str | None) -> None:
    """The wheel index follows the platform's CUDA; macOS uses plain PyPI."""
    lines = requirement_lines(files[f"{env}/{platform}.requirements.txt"])
    if index is None:
        assert not any(line.startswith(("--index-url", "--extra-index-url")) for line in lines), lines
    else:
        expected = [f"--index-url {WHL}{index}", "--extra-index-url https://pypi.org/simple"]
        assert lines[:2] == expected, f"expected {expected}, got {lines[:2]}"


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("cu118/linux-64-cu118", "+cu118"),
        ("cu118/win-64-cu118", "+cu118"),
        ("cu117/linux-64-cu117", "+cu117"),
        ("default/win-64-cu117", "+cu117"),
        ("cpu/linux-64-cpu", "+cpu"),
        ("default/win-64-cpu", "+cpu"),
        ("cpu/osx-arm64-macos-12-3", ""),
        ("default/osx-64", ""),
    ],
)
def test_requirements_pin_the_build(files: dict[str, str], path: str, label: str) -> None:
    """torch, torchvision, torchaudio carry the local version of the index's builds (macOS wheels have none), first;
    then the other PyPI names and pins, without conda-only packages."""
    lines = [line for line in requirement_lines(files[f"{path}.requirements.txt"]) if not line.startswith("--")]
    expected = [f"torch==2.0.1{label}", f"torchvision==0.15.2{label}", f"torchaudio==2.0.2{label}"]
    expected += ["numpy>=1.21,<2", 'tomli>=2.4; python_version < "3.11"']
    assert lines == expected, f"expected {expected}, got {lines}"
    assert "Python 3.10" in files[f"{path}.requirements.txt"]


def test_a_range_cannot_pin_the_build(files: dict[str, str]) -> None:
    """`torch>=2.8` cannot carry `+cu128` (PEP 440 allows a local version only after ==): the header says so and its
    command line adds --force-reinstall, which alone replaces an installed torch of another build."""
    text = files["latest/linux-64-cu128.requirements.txt"]
    lines = requirement_lines(text)[2:]
    assert lines == ["torch>=2.8", "torchvision", "torchaudio", "numpy", 'tomli>=2.4; python_version < "3.11"'], lines
    assert "Python 3.12" in text and "PEP 440 allows a local version (+cu128) only after ==" in text
    assert "# python -m pip install --force-reinstall -r envs/latest/linux-64-cu128.requirements.txt" in text


@pytest.mark.parametrize(
    ("pkg", "version", "flavour", "expected"),
    [
        ("pytorch", "2.0.1", "cu118", "==2.0.1+cu118"),
        ("torchaudio", "2.0.2", "cpu", "==2.0.2+cpu"),
        ("pytorch", "2.0.1", None, "==2.0.1"),
        ("pytorch", ">=2.8", "cu128", ">=2.8"),
        ("pytorch", "2.0.*", "cu118", "==2.0.*"),
        ("torchvision", "*", "cpu", ""),
        ("numpy", "1.26.4", "cpu", "==1.26.4"),
    ],
)
def test_pip_spec_labels_only_exact_torch_pins(pkg: str, version: str, flavour: str | None, expected: str) -> None:
    """Only an exact pin of a PyTorch-index package gets the label: PEP 440 allows none with a range or wildcard."""
    assert gen_envs.pip_spec(pkg, {"version": version}, flavour) == expected


def test_pins_refuse_pypi_builds(files: dict[str, str]) -> None:
    """What pip reads (packaging, PEP 440): PyPI's unlabelled torch 2.0.1 cannot satisfy a labelled file, nor can
    a build of another index; the file's own build can."""
    requirements = pytest.importorskip("packaging.requirements")
    torch = requirements.Requirement(requirement_lines(files["cu118/linux-64-cu118.requirements.txt"])[2])
    assert torch.name == "torch"
    assert not torch.specifier.contains("2.0.1") and not torch.specifier.contains("2.0.1+cu117")
    assert torch.specifier.contains("2.0.1+cu118")


def test_header_says_when_to_use_each_file(files: dict[str, str]) -> None:
    """Each pip file names its machine and the verify to run; a CUDA file names the CPU file of its torch, which
    exists and uses the CPU index; a pinned file installs with a plain `pip install -r`."""
    cu118 = files["cu118/linux-64-cu118.requirements.txt"]
    assert "# For: Linux x86-64, NVIDIA driver for CUDA >= 11.8." in cu118
    assert "# No NVIDIA GPU: use envs/cpu/linux-64-cpu.requirements.txt instead." in cu118
    assert "# python -m pip install -r envs/cu118/linux-64-cu118.requirements.txt" in cu118
    assert "python -m checks verify --env cu118" in cu118
    assert (
        "# No NVIDIA GPU: use envs/latest/win-64-cpu.requirements.txt" in files["latest/win-64-cu128.requirements.txt"]
    )
    assert "# For: Linux x86-64, no NVIDIA GPU." in files["cpu/linux-64-cpu.requirements.txt"]
    assert "# For: macOS 12.3 or newer on Apple silicon." in files["cpu/osx-arm64-macos-12-3.requirements.txt"]
    for path, text in files.items():
        cpu = re.search(r"No NVIDIA GPU: use envs/(\S+) instead", text)
        assert bool(cpu) == (f"{WHL}cu" in text), path
        if cpu:
            assert f"--index-url {WHL}cpu" in files[cpu.group(1)], (path, cpu.group(1))


def test_readme_says_which_file(files: dict[str, str]) -> None:
    """envs/README.md: per machine (pixi's platform order) the file for each torch; no NVIDIA GPU -> the cpu file."""
    readme = files["README.md"]
    assert "| Machine | torch 2.0.1 | torch >=2.8 |" in readme
    assert (
        "| Linux x86-64, no NVIDIA GPU | [cpu/linux-64-cpu](cpu/linux-64-cpu.requirements.txt) "
        "| [latest/linux-64-cpu](latest/linux-64-cpu.requirements.txt) |" in readme
    )
    assert "| Windows x86-64, NVIDIA driver for CUDA >= 11.8 | [cu118/win-64-cu118]" in readme
    assert "| macOS on Apple silicon | - | [latest/osx-arm64](latest/osx-arm64.requirements.txt) |" in readme
    rows = [line for line in readme.splitlines() if line.startswith("| Linux")]
    assert [row.split(" | ")[0] for row in rows[:4]] == [
        "| Linux x86-64, NVIDIA driver for CUDA >= 12.8",
        "| Linux x86-64, NVIDIA driver for CUDA >= 11.8",
        "| Linux x86-64, NVIDIA driver for CUDA >= 11.7",
        "| Linux x86-64, no NVIDIA GPU",
    ]
    for target in re.findall(r"\]\(([\w./-]+)\)", readme):
        assert target in files, target


def test_conda_file_cuda(files: dict[str, str]) -> None:
    """The cu118 conda file has pixi's channel order, channel-pinned specs and the mkl pin."""
    text = files["cu118/linux-64-cu118.conda.yml"]
    assert "name: pytorch-env-cu118" in text.splitlines()
    assert yaml_list(text, "channels") == ["nvidia", "conda-forge", "pytorch"]
    deps = yaml_list(text, "dependencies")
    for spec in ("pytorch::pytorch==2.0.1", "pytorch::pytorch-cuda=11.8.*", "numpy>=1.21,<2", "mkl<2024.1"):
        assert spec in deps, f"expected {spec} in {deps}"
    assert "pytorch::cpuonly" not in deps, deps


def test_conda_file_cpu_and_osx(files: dict[str, str]) -> None:
    """CPU platforms ask for cpuonly; on osx-arm64 the mkl constraint is only a comment."""
    linux = yaml_list(files["cpu/linux-64-cpu.conda.yml"], "dependencies")
    assert "pytorch::cpuonly" in linux and "mkl<2024.1" in linux, linux
    assert not any("pytorch-cuda" in spec for spec in linux), linux
    osx_text = files["cpu/osx-arm64-macos-12-3.conda.yml"]
    osx = yaml_list(osx_text, "dependencies")
    assert "mkl<2024.1" not in osx and "pytorch::cpuonly" not in osx, osx
    assert "constraint mkl<2024.1" in osx_text, "expected the constraint as a comment"
