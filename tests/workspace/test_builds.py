"""Tests for checks/workspace/builds.py: which PyPI dependencies pixi would build isolated although their build
imports torch. Projects are laid out in tmp_path as their sources are: a setup.py that starts as flash-attn's does
(`import torch` and `from torch.utils.cpp_extension import BuildExtension, CppExtension, CUDAExtension, CUDA_HOME`,
github.com/Dao-AILab/flash-attention/blob/main/setup.py), and pyproject.toml files with and without torch among
their build requirements (PEP 518)."""

import pytest

from checks.workspace import builds, manifest

SETUP_IMPORTS_TORCH = (
    "import sys\nimport os\nfrom setuptools import setup, find_packages\nimport torch\n"
    "from torch.utils.cpp_extension import BuildExtension, CppExtension, CUDAExtension, CUDA_HOME\n\n"
    'setup(name="ext", ext_modules=[CUDAExtension("ext_cuda", ["ext.cu"])], cmdclass={"build_ext": BuildExtension})\n'
)
SETUP_PLAIN = 'from setuptools import setup\n\nsetup(name="plain", packages=["plain"])\n'


def project(folder, setup, pyproject=None):
    folder.mkdir(parents=True)
    (folder / "setup.py").write_text(setup)
    if pyproject is not None:
        (folder / "pyproject.toml").write_text(pyproject)
    return folder


def test_a_setup_py_that_imports_torch_without_declaring_it(tmp_path):
    """setup.py imports torch and no build requirement names it: an isolated build stops; torch in [build-system]
    requires (the frontend installs it there) or a setup.py without torch: nothing to say."""
    bare = project(tmp_path / "bare", SETUP_IMPORTS_TORCH)
    assert "imports torch" in builds.source_needs(
        str(bare)
    ) and "no pyproject.toml [build-system] requires" in builds.source_needs(str(bare))
    only_setuptools = project(tmp_path / "st", SETUP_IMPORTS_TORCH, '[build-system]\nrequires = ["setuptools>=64"]\n')
    assert "['setuptools>=64']" in builds.source_needs(str(only_setuptools))
    declared = project(
        tmp_path / "decl", SETUP_IMPORTS_TORCH, '[build-system]\nrequires = ["setuptools", "torch>=2"]\n'
    )
    assert builds.source_needs(str(declared)) is None
    assert builds.source_needs(str(project(tmp_path / "plain", SETUP_PLAIN))) is None
    assert builds.source_needs(str(project(tmp_path / "broken", "import torch\ndef (:\n"))) is None  # not Python
    assert builds.source_needs(str(tmp_path / "nowhere")) is None


def workspace(tmp_path, options="", pypi='flash-attn = "*"\n'):
    """pixi#1880's manifest: torch, torchvision and flash-attn from PyPI, setuptools from conda-forge."""
    path = tmp_path / "pixi.toml"
    path.write_text(
        '[project]\nname = "florence2"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n\n'
        '[dependencies]\npython = ">=3.11"\nsetuptools = "*"\n\n%s[pypi-dependencies]\ntorch = "*"\n'
        'torchvision = "*"\n%s' % (options, pypi)
    )
    ws = manifest.load(str(path))
    on = ws.environment_on("default", ws.env_platforms("default")[0])
    return ws, on


def test_flash_attn_built_isolated_is_named_with_no_build_isolation(tmp_path):
    """flash-attn missing and isolated: its README's --no-build-isolation is the evidence, the fix names
    `no-build-isolation = ["flash-attn"]`; listed there (or `true`), or installed, it is not judged."""
    ws, on = workspace(tmp_path)
    needs = builds.isolated_needs(ws, "default", on.pypi_dependencies, ["flash-attn"])
    assert [n.package for n in needs] == ["flash-attn"] and "Dao-AILab" in needs[0].evidence
    summary, fix = builds.describe(needs, "default", on.dependencies)
    assert "isolated build environment" in summary and "No module named 'torch'" in summary
    assert fix.startswith('add `no-build-isolation = ["flash-attn"]` under [pypi-options]')
    assert "setuptools to [dependencies]" not in fix and "[dependencies] pytorch" in fix
    assert builds.isolated_needs(ws, "default", on.pypi_dependencies, []) == []
    listed, on = workspace(tmp_path, '[pypi-options]\nno-build-isolation = ["flash_attn"]\n\n')
    assert listed.no_build_isolation("default") == ("flash-attn",)
    assert builds.isolated_needs(listed, "default", on.pypi_dependencies, ["flash-attn"]) == []
    every, on = workspace(tmp_path, "[pypi-options]\nno-build-isolation = true\n\n")
    assert builds.isolated_needs(every, "default", on.pypi_dependencies, ["flash-attn"]) == []


def test_a_local_package_whose_setup_py_imports_torch(tmp_path):
    """A path dependency is judged by its own source: setup.py imports torch, nothing declares it."""
    project(tmp_path / "ext", SETUP_IMPORTS_TORCH)
    project(tmp_path / "plain", SETUP_PLAIN)
    ws, on = workspace(tmp_path, pypi='ext = { path = "./ext" }\nplain = { path = "./plain" }\n')
    needs = builds.isolated_needs(ws, "default", on.pypi_dependencies, ["ext", "plain"])
    assert [n.package for n in needs] == ["ext"] and needs[0].evidence.startswith(str(tmp_path / "ext" / "setup.py"))


def test_a_no_build_isolation_of_another_shape_is_what_pixi_rejects(tmp_path):
    """pixi takes a list of names or true; a string stops the manifest's reading, naming the key."""
    with pytest.raises(manifest.ManifestError, match="pypi-options.no-build-isolation`: expected an array"):
        workspace(tmp_path, '[pypi-options]\nno-build-isolation = "flash-attn"\n\n')
