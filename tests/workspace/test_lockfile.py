"""pixi.lock reader: formats v4 to v7, file-name parsing, and one clear error for every bad file."""

import pytest

from checks.workspace import lockfile

yaml = pytest.importorskip("yaml", reason="lock files are YAML: pip install pyyaml")


def test_conda_urls_split_into_name_version_build_channel():
    """Names with dashes, .conda and .tar.bz2, the channel's short name."""
    url = "https://conda.anaconda.org/pytorch/linux-64/pytorch-cuda-11.8-h7e8668a_5.tar.bz2"
    assert lockfile.parse_conda_url(url) == {
        "name": "pytorch-cuda",
        "version": "11.8",
        "build": "h7e8668a_5",
        "subdir": "linux-64",
        "channel": "https://conda.anaconda.org/pytorch",
    }
    forge = lockfile.parse_conda_url("https://conda.anaconda.org/conda-forge/noarch/cuda-version-11.8-h70ddcb2_3.conda")
    assert (forge["name"], forge["subdir"], forge["channel"]) == (
        "cuda-version",
        "noarch",
        "https://conda.anaconda.org/conda-forge",
    )


@pytest.mark.parametrize("version", [6, 7])
def test_both_formats_read_into_the_same_records(lock_builder, workspace, tmp_path, version):
    """v7 keys packages by lock platform name (p2: linux-64 with __cuda=11.8); v6 by subdir."""
    path = lock_builder.write(lock_builder.document(workspace, version), tmp_path / "pixi.lock")
    lock = lockfile.load(str(path))
    assert lock.version == version
    key = "p2" if version == 7 else "linux-64"
    pkgs = lock.packages("cu118", key).conda
    assert pkgs["pytorch"].build == "py3.10_cuda11.8_cudnn8.7.0_0" and pkgs["pytorch"].channel == "pytorch"
    assert pkgs["pytorch"].depends_on("pytorch-cuda") == ">=11.8,<11.9"
    assert pkgs["torchvision"].depends_on("pytorch") == "2.0.1"
    assert lock.environments["cu118"]["channels"] == [
        "https://conda.anaconda.org/%s/" % c for c in ("nvidia", "conda-forge", "pytorch")
    ]
    if version == 7:
        row = lock.platforms["p2"]
        assert (row.subdir, row.strings[0]) == ("linux-64", "__cuda=11.8")
    assert lock.packages("cu118", "osx-arm64") is None


# examples/multi-machine/pixi.toml@v0.77.0:7-13 (its platform declarations) and the platforms block pixi wrote for
# them, examples/multi-machine/pixi.lock@v0.77.0:1-32.
MULTI_MACHINE = """[workspace]
channels = ["conda-forge"]
platforms = [
  { name = "cuda-win-64", platform = "win-64", cuda = "12" },
  "win-64",
  { name = "cuda-linux-64", platform = "linux-64", cuda = "12" },
  "linux-64",
  { platform = "osx-arm64", macos = "13.5" },
]
[dependencies]
python = "3.12.*"
"""
PIXI_WROTE = [
    {"name": "linux-64", "virtual-packages": ["__unix=0=0", "__linux=4.18", "__glibc=2.28", "__archspec=0=x86_64"]},
    {"name": "p1", "subdir": "win-64", "virtual-packages": ["__cuda=12", "__win=10.0", "__archspec=0=x86_64"]},
    {
        "name": "p2",
        "subdir": "linux-64",
        "virtual-packages": ["__cuda=12", "__unix=0=0", "__linux=4.18", "__glibc=2.28", "__archspec=0=x86_64"],
    },
    {"name": "p3", "subdir": "osx-arm64", "virtual-packages": ["__osx=13.5", "__unix=0=0", "__archspec=0=m1"]},
    {"name": "win-64", "virtual-packages": ["__win=10.0", "__archspec=0=x86_64"]},
]


def test_test_locks_have_the_shape_pixi_writes(lock_builder, tmp_path):
    """The locks the tests build are shaped as pixi 0.77 writes them: the platforms block of pixi's own example lock
    (names p1..p3 in declaration order, subdir only where it differs, full virtual-package lists, sorted), top-level
    keys in rattler_lock's order, `- url:` channels ending in `/`."""
    from checks.workspace import manifest

    (tmp_path / "pixi.toml").write_text(MULTI_MACHINE)
    doc = lock_builder.document(manifest.load(str(tmp_path / "pixi.toml")))
    assert list(doc) == ["version", "platforms", "environments", "packages"] and doc["version"] == 7
    assert doc["platforms"] == PIXI_WROTE
    assert doc["environments"]["default"]["channels"] == [{"url": "https://conda.anaconda.org/conda-forge/"}]
    assert list(doc["environments"]["default"]["packages"]) == ["linux-64", "p1", "p2", "p3", "win-64"]
    text = lock_builder.write(doc, tmp_path / "pixi.lock").read_text()
    assert text.startswith("version: 7\nplatforms:\n- name: linux-64\n  virtual-packages:\n  - __unix=0=0\n")


def test_a_lock_written_by_rattler_reads_the_same(lock_builder, tmp_path):
    """py-rattler, the reference implementation, writes a v7 lock from real records; the reader agrees."""
    rattler = pytest.importorskip("rattler", reason="py-rattler (the reference lock writer) is not installed")
    import json

    names = ["pytorch-2.0.1-py3.10_cuda11.8_cudnn8.7.0_0.tar.bz2", "torchvision-0.15.2-py310_cu118.tar.bz2"]
    subdir = getattr(rattler, "Subdir", None) or rattler.Platform  # renamed in py-rattler 0.2x
    platform = rattler.LockPlatform("linux-64-cu118", subdir("linux-64"), ["__cuda=11.8"])
    lock = rattler.LockFile([platform])
    lock.set_channels("cu118", [rattler.LockChannel("https://conda.anaconda.org/pytorch/")])
    for name in names:
        index = tmp_path / "index.json"
        index.write_text(json.dumps(lock_builder.repodata[name]))
        record = rattler.PackageRecord.from_index_json(str(index))
        url = "https://conda.anaconda.org/pytorch/linux-64/" + name
        lock.add_conda_package(
            "cu118", platform, rattler.RepoDataRecord(record, name, url, "https://conda.anaconda.org/pytorch/")
        )
    lock.to_path(str(tmp_path / "pixi.lock"))
    ours = lockfile.load(str(tmp_path / "pixi.lock"))
    assert ours.version == 7 and ours.platforms["linux-64-cu118"].strings == ["__cuda=11.8"]
    pkgs = ours.packages("cu118", "linux-64-cu118").conda
    assert (pkgs["pytorch"].version, pkgs["pytorch"].build) == ("2.0.1", "py3.10_cuda11.8_cudnn8.7.0_0")
    assert pkgs["torchvision"].depends_on("pytorch-cuda") == "11.8.*"


@pytest.mark.parametrize(
    "text, message",
    [
        ("version: 3\nenvironments: {}\n", "lock format v3"),
        ("just: [a list\n", "not valid YAML"),
        ("- a\n- b\n", "not a pixi lock file"),
        (
            "version: 7\nenvironments:\n  default:\n    packages: 3\n",
            "line 4: `environments.default.packages`: expected a mapping of platforms, found an integer",
        ),
        (
            "version: 7\npackages:\n- conda: 5\n",
            "line 3: `packages[0].conda`: expected a URL or path, found an integer",
        ),
        ("version: 7\nplatforms: linux-64\n", "pixi.lock line 2: `platforms`: expected a list, found a string"),
        (
            "version: 6\nenvironments:\n  default:\n    channels: []\n    packages:\n      linux-64:\n"
            "      - conda: https://conda.anaconda.org/pytorch/linux-64/x-1-0.tar.bz2\npackages: []\n",
            "not in `packages:`",
        ),
    ],
)
def test_bad_lock_files_raise_one_clear_error(tmp_path, text, message):
    """Unsupported versions, broken YAML, the wrong shape and dangling references: LockError with a fix."""
    path = tmp_path / "pixi.lock"
    path.write_text(text)
    with pytest.raises(lockfile.LockError) as info:
        lockfile.load(str(path))
    assert message in str(info.value) and "pixi lock" in str(info.value)


def test_a_missing_lock_says_how_to_make_one(tmp_path):
    """No pixi.lock: the error names `pixi lock`."""
    with pytest.raises(lockfile.LockError, match="does not exist: run `pixi lock`"):
        lockfile.load(str(tmp_path / "pixi.lock"))
