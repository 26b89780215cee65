"""pixi.lock reader: formats v6 and v7, file-name parsing, and one clear error for every bad file."""

import pytest

from checks import lockfile

yaml = pytest.importorskip("yaml", reason="lock files are YAML: pip install pyyaml")


def test_conda_urls_split_into_name_version_build_channel():
    """Names with dashes, .conda and .tar.bz2, the channel's short name."""
    url = "https://conda.anaconda.org/pytorch/linux-64/pytorch-cuda-11.8-h7e8668a_5.tar.bz2"
    assert lockfile.parse_conda_url(url) == {
        "name": "pytorch-cuda",
        "version": "11.8",
        "build": "h7e8668a_5",
        "subdir": "linux-64",
        "channel": "pytorch",
    }
    forge = lockfile.parse_conda_url("https://conda.anaconda.org/conda-forge/noarch/cuda-version-11.8-h70ddcb2_3.conda")
    assert (forge["name"], forge["subdir"], forge["channel"]) == ("cuda-version", "noarch", "conda-forge")


@pytest.mark.parametrize("version", [6, 7])
def test_both_formats_read_into_the_same_records(lock_builder, manifest, tmp_path, version):
    """v7 keys packages by platform name (with a platforms block); v6 by subdir."""
    path = lock_builder.write(lock_builder.document(manifest, version), tmp_path / "pixi.lock")
    lock = lockfile.load(str(path))
    assert lock.version == version
    key = "linux-64-cu118" if version == 7 else "linux-64"
    pkgs = lock.packages("cu118", key)
    assert pkgs["pytorch"].build == "py3.10_cuda11.8_cudnn8.7.0_0" and pkgs["pytorch"].channel == "pytorch"
    assert pkgs["pytorch"].depends_on("pytorch-cuda") == ">=11.8,<11.9"
    assert pkgs["torchvision"].depends_on("pytorch") == "2.0.1"
    assert lock.environments["cu118"]["channels"] == ["nvidia", "conda-forge", "pytorch"]
    if version == 7:
        assert lock.platforms["linux-64-cu118"] == {"subdir": "linux-64", "virtual_packages": ["__cuda=11.8"]}
    assert lock.packages("cu118", "osx-arm64") is None


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
    assert ours.version == 7 and ours.platforms["linux-64-cu118"]["virtual_packages"] == ["__cuda=11.8"]
    pkgs = ours.packages("cu118", "linux-64-cu118")
    assert (pkgs["pytorch"].version, pkgs["pytorch"].build) == ("2.0.1", "py3.10_cuda11.8_cudnn8.7.0_0")
    assert pkgs["torchvision"].depends_on("pytorch-cuda") == "11.8.*"


@pytest.mark.parametrize(
    "text, message",
    [
        ("version: 5\nenvironments: {}\n", "lock format v5"),
        ("just: [a list\n", "not valid YAML"),
        ("- a\n- b\n", "not a pixi lock file"),
        ("version: 7\nenvironments:\n  default:\n    packages: 3\n", "malformed"),
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
    with pytest.raises(lockfile.LockError, match="run `pixi lock` to create it"):
        lockfile.load(str(tmp_path / "pixi.lock"))
