"""checks/workspace/platforms.py against pixi v0.77.0: every expected value below is pixi's own (test name and file
cited)."""

import pytest

from checks.workspace import platforms as plat


def declared(entry):
    """Return (name, declared virtual packages as pixi.lock writes them) of a platforms entry."""
    platform = plat.parse_entry(entry)
    return platform.name, [str(vp) for vp in platform.declared]


LINUX_DEFAULTS = ["__unix=0=0", "__linux=4.18", "__glibc=2.28", "__archspec=0=x86_64"]


@pytest.mark.parametrize(
    ("entry", "name", "packages"),
    [
        # test_workspace_platform_friendly_virtual_packages_auto_name, crates/pixi_manifest/src/toml/platform.rs
        # @v0.77.0:1109-1129 (its formatter prints __unix=0; the lock writes __unix=0=0, see examples/multi-machine).
        (
            {"platform": "linux-64", "cuda": "12.0", "glibc": "2.28"},
            "linux-64-cuda-12-0",
            ["__cuda=12.0", "__glibc=2.28", "__unix=0=0", "__linux=4.18", "__archspec=0=x86_64"],
        ),
        # toml/platform.rs@v0.77.0:1131-1146
        ({"platform": "linux-64", "archspec": "x86_64_v3"}, "linux-64-archspec-x86-64-v3", None),
        # toml/platform.rs@v0.77.0:1249-1266
        (
            {"platform": "linux-64", "__future_pkg": "1.2"},
            "linux-64-future-pkg-1-2",
            ["__future_pkg=1.2"] + LINUX_DEFAULTS,
        ),
        # toml/platform.rs@v0.77.0:1268-1292
        (
            {"platform": "linux-64", "cuda": {"driver": "12.0", "arch": "8.6"}},
            "linux-64-cuda-12-0-cuda-arch-8-6",
            ["__cuda=12.0", "__cuda_arch=8.6"] + LINUX_DEFAULTS,
        ),
        # toml/platform.rs@v0.77.0:1192-1210
        (
            {"name": "jetson-nano", "platform": "linux-aarch64", "cuda": "12.8"},
            "jetson-nano",
            ["__cuda=12.8", "__unix=0=0", "__linux=4.18", "__glibc=2.28", "__archspec=0=aarch64"],
        ),
        # crates/pixi_manifest/src/manifests/workspace.rs@v0.77.0:3623-3661
        ({"platform": "linux-64", "cuda": "12.9"}, "linux-64-cuda-12-9", None),
        # examples/multi-machine/pixi.toml@v0.77.0:8,12 and its pixi.lock lines 9-28 (p1, p3)
        (
            {"name": "cuda-win-64", "platform": "win-64", "cuda": "12"},
            "cuda-win-64",
            ["__cuda=12", "__win=10.0", "__archspec=0=x86_64"],
        ),
        (
            {"platform": "osx-arm64", "macos": "13.5"},
            "osx-arm64-macos-13-5",
            ["__osx=13.5", "__unix=0=0", "__archspec=0=m1"],
        ),
        ({"platform": "osx-arm64", "osx": "13.5"}, "osx-arm64-macos-13-5", None),  # alias, toml/platform.rs:1212-1232
        # bare entries: examples/multi-machine/pixi.lock@v0.77.0:3-8, 29-32
        ("linux-64", "linux-64", LINUX_DEFAULTS),
        ("win-64", "win-64", ["__win=10.0", "__archspec=0=x86_64"]),
        ({"platform": "linux-64"}, "linux-64", LINUX_DEFAULTS),  # toml/platform.rs:1085-1107
    ],
)
def test_names_and_declared_packages_are_pixis(entry, name, packages):
    """Synthesised names and the declared packages (user's first, then the subdir defaults) match pixi's tests."""
    got_name, got_packages = declared(entry)
    assert got_name == name
    if packages is not None:
        assert got_packages == packages


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        # toml/manifest.rs@v0.77.0:1351-1372 (test_system_requirements_migration_rejects_..._same_name)
        ({"name": "osx-arm64", "platform": "osx-arm64", "macos": "14"}, "special subdir platform"),
        # the same rule through name synthesis: all values are the defaults, so the name is the subdir
        ({"platform": "linux-64", "glibc": "2.28"}, "special subdir platform"),
        ({"platform": "osx-arm64", "macos": "13.0"}, "special subdir platform"),
        # toml/platform.rs@v0.77.0:1371-1382 (snapshot) and platform.rs:113-118 (reserved names)
        (
            {"name": "bad name", "platform": "linux-64"},
            "'bad name' is not a valid platform name (allowed: alphanumeric, '-')",
        ),
        ({"name": "linux", "platform": "linux-64", "cuda": "12"}, "'linux' is not a valid platform name"),
        # toml/platform.rs@v0.77.0:1384-1406
        ({"name": "linux-64-cuda", "cuda": "12"}, "'linux-64-cuda' is not a conda subdir; set 'platform' explicitly"),
        ({}, "a platform entry must set at least one of 'name' or 'platform'"),
        # toml/platform.rs@v0.77.0:1235-1244, 1361-1369, 1324-1333
        ({"platform": "osx-arm64", "osx": "13", "macos": "13.5"}, "'osx' is an alias for 'macos'; set only one"),
        ({"platform": "linux-64", "cuda": "12.0", "__cuda": "11.0"}, "is declared more than once"),
        ({"platform": "linux-64", "__cuda_arch": "8.6"}, "`__cuda_arch` requires `__cuda`"),
        ({"platform": "linux-64", "libc": "2.17"}, "Unexpected keys"),
    ],
)
def test_entries_pixi_rejects(entry, message):
    """Each entry pixi refuses to parse raises PlatformError with pixi's wording."""
    with pytest.raises(plat.PlatformError) as info:
        plat.parse_entry(entry)
    assert message in str(info.value)


def test_the_subdir_platform_message_is_pixis_verbatim():
    """The exact text pixi prints for IsSubdirPlatform (crates/pixi_manifest/src/toml/platform.rs@v0.77.0:292-303)."""
    with pytest.raises(plat.PlatformError) as info:
        plat.parse_entry({"name": "osx-arm64", "platform": "osx-arm64", "macos": "12.3"})
    assert str(info.value) == (
        "platform entry rejected: You tried to add a virtual package into a special subdir platform; either drop "
        "the virtual packages or give the entry a `name` distinct from its subdir"
    )


@pytest.mark.parametrize(
    ("text", "sanitized"),
    [
        ("12.0", "12-0"),
        ("x86-64-v3", "x86-64-v3"),
        ("1.2.3", "1-2-3"),
        ("...", ""),
        ("-leading", "leading"),
        ("trailing-", "trailing"),
    ],
)
def test_name_segments_are_sanitised_as_pixi_does(text, sanitized):
    """sanitize_name_segment's test table, crates/pixi_manifest/src/toml/platform.rs@v0.77.0:1660-1668."""
    assert plat._sanitize(text) == sanitized


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("linux-64", True),
        ("gpu-box-2", True),
        ("1linux", False),
        ("-linux", False),
        ("_linux", False),
        ("linux 64", False),
        ("linux.64", False),
        ("linux-", False),
        ("a" * 65, False),
        ("unix", False),
        ("macos", False),
        ("windows", True),
    ],
)
def test_platform_names(name, ok):
    """PixiPlatformName: alphabetic first, alphanumeric last, `-` inside, 64 bytes, no family name
    (crates/pixi_manifest/src/platform.rs@v0.77.0:1411-1489)."""
    assert (plat.name_problem(name) is None) is ok


def lock_row(subdir, strings):
    return subdir, [plat.parse_virtual_package(s) for s in strings]


def test_lock_rows_match_by_subdir_and_packages_not_by_name():
    """platform_rename.rs@v0.77.0 tests: rename_matches_renamed_workspace_platform (357-386),
    rename_ignores_subdir_defaults_when_matching (458-491); versions compare as versions (`12` == `12.0`)."""
    gpu = plat.parse_entry({"name": "gpu-linux", "platform": "linux-64", "cuda": "12.0"})
    assert gpu.same_definition(*lock_row("linux-64", ["__cuda=12.0"]))
    assert gpu.same_definition(
        *lock_row("linux-64", ["__cuda=12.0", "__linux=4.18", "__glibc=2.28", "__archspec=0=x86_64", "__unix=0=0"])
    )
    assert gpu.same_definition(*lock_row("linux-64", ["__cuda=12"]))
    assert not gpu.same_definition(*lock_row("linux-64", ["__cuda=11.0"]))
    assert not gpu.same_definition(*lock_row("win-64", ["__cuda=12.0"]))
    # rename_leaves_unmatched_entries_alone (388-411): a bare linux-64 is not a row that declares __cuda
    assert not plat.Platform.from_subdir("linux-64").same_definition(*lock_row("linux-64", ["__cuda=12.0"]))


def test_unparsable_lock_packages_are_dropped():
    """parse_locked_virtual_package (platform.rs@v0.77.0:921-933): `__name=version[=build]`, anything else dropped."""
    assert str(plat.parse_virtual_package("__archspec=0=x86_64")) == "__archspec=0=x86_64"
    assert plat.parse_virtual_package("garbage") is None


def test_the_first_platform_this_host_can_run_wins():
    """test_platform_template_renders_pinned_custom_platform (crates/pixi_task/src/task_graph.rs@v0.77.0:1518-1551):
    [generic, local (cuda 12)] -> generic first; a host below a declared version cannot run it
    (capability_satisfied_by, platform.rs@v0.77.0:809-818)."""
    generic = plat.parse_entry({"name": "generic", "platform": "linux-64"})
    local = plat.parse_entry({"name": "local", "platform": "linux-64", "cuda": "12"})
    assert generic.runs_on({}) and not local.runs_on({"__cuda": None})
    assert local.runs_on({"__cuda": "12.4"}) and not local.runs_on({"__cuda": "11.8"})
    assert [vp.name for vp in local.customised] == ["__cuda"]
