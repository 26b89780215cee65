"""checks/workspace/manifest.py against pixi v0.77.0: channels, environments, platforms, targets, manifest forms.

Each manifest here is small and our own; the expected value is pixi's, from the test or source line cited.
"""

import pytest

from checks.workspace import manifest
from checks.workspace.manifest import ManifestError


@pytest.fixture
def load(tmp_path):
    """Return a function that writes a manifest and reads it with checks.workspace.manifest."""

    def read(text, name="pixi.toml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return manifest.load(str(path))

    return read


def names(platforms):
    return [p.name for p in platforms]


# ---- channels: prioritized_channels, crates/pixi_manifest/src/features_ext.rs@v0.77.0:44-62 -----------------------

CHANNEL_FEATURES = """
[workspace]
channels = ["a", "b"]
platforms = ["linux-64"]
[feature.foo]
channels = ["c", "d"]
[feature.bar]
channels = ["e", "f"]
[feature.barfoo]
channels = ["a", "f"]
[environments]
foobar = ["foo", "bar"]
foo = ["foo"]
barfoo = { features = ["barfoo"], no-default-feature = true }
"""


def test_channel_order_of_features(load):
    """test_channel_feature_priority, crates/pixi_core/src/workspace/environment.rs@v0.77.0:1006-1062."""
    ws = load(CHANNEL_FEATURES)
    assert ws.channels("foobar") == ["c", "d", "e", "f", "a", "b"]
    assert ws.channels("foo") == ["c", "d", "a", "b"]
    assert ws.channels("barfoo") == ["a", "f"]


def test_channel_redefinition_keeps_the_first(load):
    """test_channel_feature_priority_with_redefinition, environment.rs@v0.77.0:1064-1103."""
    ws = load(
        '[workspace]\nchannels = ["d", "a", "b"]\nplatforms = ["linux-64"]\n[feature.foo]\nchannels = ["a", "c", "b"]\n'
        '[environments]\nfoo = ["foo"]\n'
    )
    assert ws.channels("default") == ["d", "a", "b"]
    assert ws.channels("foo") == ["a", "c", "b", "d"]


def test_channel_priorities(load):
    """test_channel_priorities, environment.rs@v0.77.0:1105-1154."""
    ws = load(
        '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n'
        '[feature.foo]\nchannels = [{ channel = "nvidia", priority = 1 }, "pytorch"]\n'
        '[feature.bar]\nchannels = [{ channel = "bar", priority = -10 }, "barry"]\n'
        '[environments]\nfoobar = ["foo", "bar"]\nfoo = ["foo"]\nbar = ["bar"]\n'
    )
    assert ws.channels("foobar") == ["nvidia", "pytorch", "barry", "conda-forge", "bar"]
    assert ws.channels("foo") == ["nvidia", "pytorch", "conda-forge"]
    assert ws.channels("bar") == ["barry", "conda-forge", "bar"]


TORCH20 = """
[workspace]
channels = ["conda-forge"]
platforms = ["linux-64"]
[feature.torch20]
channels = ["nvidia", { channel = "pytorch", priority = -1 }]
[environments]
as-list = ["torch20"]
as-table = { features = ["torch20"] }
with-platforms = { features = ["torch20"], platforms = ["linux-64"] }
"""


def test_inline_environment_content_puts_the_workspace_channels_first(load):
    """An environment with inline content gets a hidden feature first (toml/manifest.rs@v0.77.0:409-429, 522-526)
    that brings the workspace channels: the cause of last round's unsolvable CUDA 11 environments."""
    ws = load(TORCH20)
    assert ws.channels("as-list") == ["nvidia", "conda-forge", "pytorch"]
    assert ws.channels("as-table") == ["nvidia", "conda-forge", "pytorch"]
    assert ws.channels("with-platforms") == ["conda-forge", "nvidia", "pytorch"]
    fixed = load(TORCH20.replace('channels = ["nvidia",', 'channels = [{ channel = "nvidia", priority = 1 },'))
    assert fixed.channels("with-platforms") == ["nvidia", "conda-forge", "pytorch"]
    assert [f.kind for f in ws.environments["with-platforms"].features] == ["environment", "named", "default"]
    assert [f.kind for f in ws.environments["as-table"].features] == ["named", "default"]


def test_inline_channels_docs_table(load):
    """docs/advanced/channel_logic.md@v0.77.0:96-126 ("Force a Specific Channel Priority")."""
    ws = load(
        '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[environments]\n'
        'a = { channels = ["nvidia"] }\n'
        'b = { channels = ["pytorch", { channel = "nvidia", priority = 1 }] }\n'
        'c = { channels = ["pytorch", { channel = "nvidia", priority = -1 }] }\n'
    )
    assert ws.channels("a") == ["nvidia", "conda-forge"]
    assert ws.channels("b") == ["nvidia", "pytorch", "conda-forge"]
    assert ws.channels("c") == ["pytorch", "conda-forge", "nvidia"]


# ---- environments ---------------------------------------------------------------------------------------------


def test_default_environment_is_inserted_first_and_errors_are_pixis(load):
    """No declared default: inserted first (toml/manifest.rs@v0.77.0:367-377); unknown and repeated features and bad
    names are pixi's errors (snapshots unknown_feature, duplicate_feature, invalid_key@environment)."""
    ws = load(
        '[workspace]\nchannels = ["c"]\nplatforms = ["linux-64"]\n[feature.f]\n[environments]\n'
        'e = ["f", "nope"]\ntwice = ["f", "f"]\nBAD = ["f"]\n'
    )
    assert list(ws.environments)[0] == "default"
    messages = [message for _, message, _ in ws.problems]
    assert "The feature 'nope' is not defined in the manifest" in messages
    assert "The feature 'f' is included more than once." in messages
    assert any("Failed to parse environment name 'BAD'" in m for m in messages)
    with pytest.raises(ManifestError, match="valid environments: BAD, default, e, twice"):
        ws.environment("x")


def test_the_default_feature_may_be_listed(load):
    """`features = [..., "default"]` names the default feature (FeatureName::from: "default" is FeatureName::Default,
    crates/pixi_manifest/src/feature.rs@v0.77.0:45-58): no problem; its place in the list sets channel and target
    priority, and pixi appends it again at the end unless no-default-feature (workspace/environment.rs@v0.77.0:
    543-556: `environment_features.chain([default_feature])`). Listed twice it is a duplicate like any other."""
    ws = load(
        '[workspace]\nchannels = ["w"]\nplatforms = ["linux-64"]\n[dependencies]\nnumpy = "1.*"\n[feature.f]\n'
        'channels = ["c"]\n[environments]\nfirst = ["default", "f"]\nonly = { features = ["default"], '
        'no-default-feature = true }\ntwice = ["default", "default"]\n'
    )
    assert [m for _, m, _ in ws.problems] == ["The feature 'default' is included more than once."]
    assert [f.name for f in ws.environment("first").features] == ["default", "f", "default"]
    assert ws.channels("first") == ["w", "c"]  # the default feature's (workspace) channels first
    assert [f.name for f in ws.environment("only").features] == ["default"]
    assert ws.specs("only", ws.platforms[0])["numpy"][0]["version"] == "1.*"


def test_system_requirements_are_not_allowed_inline(load):
    """test_parse_invalid_environment family (toml/environment.rs@v0.77.0:301-311; toml/manifest.rs:3248-3275)."""
    ws = load(
        '[workspace]\nchannels = ["c"]\nplatforms = ["linux-64"]\n'
        '[environments]\ne = { system-requirements = { cuda = "12" } }\n'
    )
    assert any("Unexpected keys" in m and "system-requirements" in m for _, m, _ in ws.problems)


# ---- platforms of an environment: FeaturesExt::platforms, features_ext.rs@v0.77.0:165-228 ----------------------


def test_bare_subdir_feature_excludes_the_rich_variant(load):
    """test_bare_subdir_feature_excludes_custom_rich_platform, environment.rs@v0.77.0:720-768 (pixi#6493)."""
    ws = load(
        '[workspace]\nchannels = ["c"]\n'
        'platforms = ["linux-64", { name = "linux-64-cuda", platform = "linux-64", cuda = "12" }]\n'
        '[feature.cpu]\nplatforms = ["linux-64"]\n[feature.cuda]\nplatforms = ["linux-64-cuda"]\n'
        '[environments]\ncpu = ["cpu"]\ncuda = ["cuda"]\n'
    )
    assert names(ws.env_platforms("cpu")) == ["linux-64"]
    assert names(ws.env_platforms("cuda")) == ["linux-64-cuda"]
    assert names(ws.env_platforms("default")) == ["linux-64", "linux-64-cuda"]


def test_undeclared_platform_references(load):
    """feature_references_undeclared_platform snapshot (toml/manifest.rs@v0.77.0:2805-2869); with only bare subdirs a
    valid subdir is added silently (extend_originals_with_referenced_subdirs, toml/manifest.rs:656-657, 699-721)."""
    rich = load(
        '[workspace]\nchannels = ["c"]\nplatforms = [{ name = "cpu-linux-64", platform = "linux-64" }, '
        '{ name = "cuda-linux-64", platform = "linux-64", cuda = "12" }]\n'
        '[feature.gpu]\nplatforms = ["linux-64-cuda"]\n'
        '[environments]\ngpu = ["gpu"]\n'
    )
    assert ("feature 'gpu' references platform 'linux-64-cuda' which is not declared in the workspace") in [
        m for _, m, _ in rich.problems
    ]
    bare = load(
        '[workspace]\nchannels = ["c"]\nplatforms = ["linux-64"]\n[feature.mac]\nplatforms = ["osx-arm64"]\n'
        '[environments]\nmac = ["mac"]\n'
    )
    assert not bare.problems and names(bare.env_platforms("mac")) == ["osx-arm64"]


def test_system_requirements_become_platforms(load):
    """test_system_requirements_migration_named_feature_rewrites_platforms (toml/manifest.rs@v0.77.0:1274-1322):
    feature cuda on linux-64 with cuda 12.0 -> platform `linux-64-cuda-12-0`; with rich platforms it is an error
    (toml/manifest.rs:681-686, test :1324-1348)."""
    ws = load(
        '[workspace]\nchannels = ["c"]\nplatforms = ["linux-64", "osx-64"]\n'
        '[feature.cuda]\nplatforms = ["linux-64"]\nsystem-requirements = { cuda = "12.0" }\n'
        '[environments]\ncuda = ["cuda"]\n'
    )
    (platform,) = ws.env_platforms("cuda")
    assert platform.name == "linux-64-cuda-12-0" and platform.cuda == "12.0"
    assert names(ws.env_platforms("default")) == ["linux-64", "osx-64"]
    everywhere = load(
        '[workspace]\nchannels = ["c"]\nplatforms = ["linux-64", "osx-64", "win-64"]\n'
        '[system-requirements]\ncuda = "12"\n'
    )
    assert names(everywhere.env_platforms("default")) == ["linux-64-cuda-12", "osx-64", "win-64-cuda-12"]
    glibc_default = load(
        '[workspace]\nchannels = ["c"]\nplatforms = ["linux-64"]\n[system-requirements]\nlibc = "2.28"\n'
    )
    assert names(glibc_default.env_platforms("default")) == ["linux-64"]  # toml/manifest.rs:1196-1235
    clash = load(
        '[workspace]\nchannels = ["c"]\nplatforms = [{ name = "gpu", platform = "linux-64", cuda = "12" }]\n'
        '[system-requirements]\ncuda = "12"\n'
    )
    assert any("per-platform virtual packages" in m for _, m, _ in clash.problems)


# ---- targets: TargetSelector, target.rs@v0.77.0:675-894 -------------------------------------------------------

TARGETS = """
[workspace]
channels = ["c"]
platforms = ["linux-64", { name = "cuda-linux-64", platform = "linux-64", cuda = "12" },
             { name = "cuda-win-64", platform = "win-64", cuda = "12" }, "osx-arm64"]
[dependencies]
foo = "1.0"
[target."cuda-*".dependencies]
foo = "2.0"
[target.cuda-win-64.dependencies]
foo = "3.0"
[target.linux.dependencies]
fam = "*"
[target.linux-64.dependencies]
sub = "*"
[target.unix.dependencies]
nix = "*"
"""


def test_targets_later_wins_and_selectors_match_rich_platforms(load):
    """glob_target_applies_with_insertion_order_precedence (target.rs@v0.77.0:1326-1388); family and subdir selectors
    apply to rich platforms (crates/pixi/tests/integration_rust/upgrade_tests.rs@v0.77.0:215-285)."""
    ws = load(TARGETS)
    foo = {p.name: ws.specs("default", p)["foo"][0]["version"] for p in ws.platforms}
    assert foo == {"linux-64": "1.0", "cuda-linux-64": "2.0", "cuda-win-64": "3.0", "osx-arm64": "1.0"}
    rich = ws.platform("cuda-linux-64")
    assert {"fam", "sub", "nix"} <= set(ws.specs("default", rich))
    assert "nix" in ws.specs("default", ws.platform("osx-arm64")) and "fam" not in ws.specs(
        "default", ws.platform("osx-arm64")
    )
    assert "nix" not in ws.specs("default", ws.platform("cuda-win-64"))


@pytest.mark.parametrize(
    ("selector", "name", "expected"),
    [
        ("cuda-*", "cuda-win-64", True),
        ("cuda-*", "win-64", False),
        ("*-64", "linux-aarch64", False),
        ("*-64", "linux-64", True),
        ("CUDA-*", "cuda-win-64", False),
        ("cuda**-*", "cuda-win-64", True),
    ],
)
def test_globs_match_names_only(selector, name, expected):
    """PlatformGlob tests, crates/pixi_manifest/src/platform.rs@v0.77.0:1711-1820: anchored, case-sensitive."""
    subdir = "win-64" if "win" in name else "linux-aarch64" if "aarch" in name else "linux-64"
    platform = manifest.plat.Platform(name, subdir, [])
    assert manifest.target_matches(selector, platform) is expected


def test_specs_of_several_features_are_all_kept(load):
    """DependencyMap::merge_all (crates/pixi_spec_containers/src/lib.rs@v0.77.0:152-163): both specs apply."""
    ws = load(
        '[workspace]\nchannels = ["c"]\nplatforms = ["linux-64"]\n[dependencies]\nnumpy = "<2"\n'
        '[feature.f.dependencies]\nnumpy = ">=1.21"\n[environments]\ne = ["f"]\n'
    )
    assert [s["version"] for s in ws.specs("e", ws.platform("linux-64"))["numpy"]] == [">=1.21", "<2"]


# ---- manifest forms: [project], pyproject.toml, TOML 1.1, discovery -------------------------------------------


def test_project_table_is_read_as_the_workspace(load):
    """`[project]` instead of `[workspace]` is deprecated but read (toml/manifest.rs@v0.77.0:874-883, test at
    :3539-3561); both at once is an error."""
    ws = load(
        '[project]\nname = "old"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npytorch = "*"\n'
    )
    assert ws.era == "project" and names(ws.platforms) == ["linux-64"] and not ws.problems
    assert ws.notes and "deprecated" in ws.notes[0][1]
    both = load('[project]\nname = "x"\nchannels = ["c"]\n[workspace]\nchannels = ["c"]\n')
    assert both.problems


@pytest.mark.parametrize("table", ["workspace", "project"])
def test_pyproject_tool_pixi(load, table):
    """pyproject.toml: the pixi workspace is [tool.pixi.workspace|project]; the Python [project] table's
    dependencies are PyPI dependencies of the default feature, extras become features, requires-python the conda python
    (crates/pixi_manifest/src/pyproject.rs@v0.77.0:173-317; test_version_url_to_matchspec :507-523)."""
    ws = load(
        '[project]\nname = "pkg"\nrequires-python = ">=3.10,<3.13"\ndependencies = ["torch>=2.5", "numpy"]\n'
        '[project.optional-dependencies]\ncuda = ["nvidia-nccl-cu12"]\n'
        '[tool.pixi.%s]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n'
        '[tool.pixi.environments]\ncuda = ["cuda"]\n' % table,
        name="pyproject.toml",
    )
    linux = ws.platform("linux-64")
    assert ws.kind == "pyproject.toml" and set(ws.environments) == {"default", "cuda"}
    pypi = ws.specs("cuda", linux, "pypi-dependencies")
    assert pypi["torch"][0]["version"] == ">=2.5" and "nvidia-nccl-cu12" in pypi
    assert ws.specs("default", linux)["python"][0]["version"] == ">=3.10,<3.13"


def test_multi_line_inline_tables_are_toml_1_1(load, monkeypatch):
    """pixi parses TOML 1.1 (toml-span 0.7; test_parse_multiline_inline_table, toml/manifest.rs@v0.77.0:3481-3508);
    with a TOML 1.0 parser the error names the syntax, the line and the fix."""
    text = '[workspace]\nchannels = ["c"]\nplatforms = ["linux-64"]\n[dependencies]\n'
    text += 'python = {\n    version = ">=3.12",\n    channel = "conda-forge",\n}\n'
    parser, reads_1_1 = manifest._toml_parser()
    if reads_1_1:
        ws = load(text)
        assert ws.specs("default", ws.platform("linux-64"))["python"][0]["channel"] == "conda-forge"
    tomllib = pytest.importorskip("tomllib", reason="a TOML 1.0 parser to read it with: Python 3.11+'s tomllib")
    monkeypatch.setattr(manifest, "_toml_parser", lambda: (tomllib, False))
    with pytest.raises(
        ManifestError, match=r"line 5: an inline table spread over several lines is TOML 1.1.*tomli>=2.4"
    ):
        load(text)


def test_find_manifest(tmp_path, monkeypatch):
    """pixi.toml before pyproject.toml per directory, a pyproject without a pixi workspace skipped, upwards
    (crates/pixi_manifest/src/discovery.rs@v0.77.0:435-474, 670-689)."""
    monkeypatch.delenv("PIXI_PROJECT_MANIFEST", raising=False)
    (tmp_path / "pyproject.toml").write_text('[tool.pixi.workspace]\nchannels = ["c"]\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "pyproject.toml").write_text('[project]\nname = "not-pixi"\n')
    assert manifest.find_manifest(str(nested)) == str(tmp_path / "pyproject.toml")
    (tmp_path / "pixi.toml").write_text('[workspace]\nchannels = ["c"]\n')
    assert manifest.find_manifest(str(nested)) == str(tmp_path / "pixi.toml")


def test_find_manifest_as_pixi_locates_it(tmp_path, monkeypatch):
    """pixi's WorkspaceLocator: the manifest found from the working directory up wins; PIXI_PROJECT_MANIFEST (which
    `pixi run` and `pixi shell` set to the workspace they activated) only where none is found
    (apply_environment_overrides, crates/pixi_core/src/workspace/discovery.rs@v0.77.0:398-437). The variable's name is
    `PIXI_PROJECT_` + `MANIFEST` (crates/pixi_core/src/activation.rs@v0.77.0:23, 62)."""
    elsewhere = tmp_path / "elsewhere" / "pixi.toml"
    monkeypatch.setenv("PIXI_PROJECT_MANIFEST", str(elsewhere))
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert manifest.find_manifest() == str(elsewhere)
    assert manifest.active_manifest() == str(elsewhere)
    assert manifest.find_manifest(str(outside)) is None  # an explicit start: the directories alone
    local = tmp_path / "local"
    (local / "sub").mkdir(parents=True)
    (local / "pixi.toml").write_text('[workspace]\nchannels = ["c"]\n')
    monkeypatch.chdir(local / "sub")
    assert manifest.find_manifest() == str(local / "pixi.toml")
    assert manifest.active_manifest() == str(elsewhere)  # the environment pixi activated stays its workspace's
    monkeypatch.delenv("PIXI_PROJECT_MANIFEST")
    monkeypatch.chdir(outside)
    assert manifest.find_manifest() is None and manifest.active_manifest() is None


def test_load_errors_are_manifest_errors(tmp_path):
    """Missing, malformed or foreign files raise ManifestError with a readable message."""
    with pytest.raises(ManifestError, match="cannot read"):
        manifest.load(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[workspace\n")
    with pytest.raises(ManifestError, match="not valid TOML"):
        manifest.load(str(bad))
    foreign = tmp_path / "pixi.toml"
    foreign.write_text("[tool.black]\nline-length = 100\n")
    with pytest.raises(ManifestError, match="not a pixi workspace manifest"):
        manifest.load(str(foreign))


def test_this_repositorys_manifest(workspace):
    """The repository's pixi.toml: nothing pixi rejects; nvidia first where pytorch-cuda is; the osx-arm64 variant
    named as pixi names it."""
    assert workspace.problems == []
    for env in ("default", "cu117", "cu118", "test"):
        assert workspace.channels(env) == ["nvidia", "conda-forge", "pytorch"]
    assert workspace.channels("latest") == ["conda-forge"]
    assert "osx-arm64-macos-12-3" in names(workspace.env_platforms("default"))
    assert workspace.platform("osx-arm64-macos-12-3").declares("__osx") == "12.3"


# ---- the boundary: wrong types and unparseable specs are usage errors with the line --------------------------------

BASE = (
    '[workspace]\nname = "w"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n[dependencies]\npython = "3.11.*"\n'
)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('numpy = ">=1.21,,<2"', r"line 7: `dependencies.numpy`: '>=1.21,,<2' is not a valid conda version spec"),
        ('cuda-version = { version = "11.8.**" }', r"line 7: `dependencies.cuda-version.version`: '11.8.\*\*' is not"),
        ('[system-requirements]\ncuda = ""', r"line 8: `system-requirements.cuda`: '' is not a valid version"),
        ("[feature.f]\nchannels = 5", r"line 8: `feature.f.channels`: expected an array, found integer"),
        ("[environments]\ne = { features = 5 }", r"line 8: `environments.e.features`: expected an array of strings"),
        ('[target]\nlinux-64 = "x"', r"line 8: `target.linux-64`: expected a table, found string"),
        ("[environments]\ne = [5]", r"line 8: `environments.e\[0\]`: expected a feature name \(a string\), found int"),
        ('[feature.f.pypi-dependencies]\ntorch = "=>2"', r"line 8: .*'=>2' is not a valid PEP 440 version specifier"),
        (
            "[environments]\ne = { no-default-feature = 1 }",
            r"line 8: `environments.e.no-default-feature`: expected a boolean",
        ),
    ],
)
def test_a_value_of_the_wrong_type_or_an_unparseable_spec_is_a_usage_error(load, extra, words):
    """Every value the model reads is checked where it reads it; the message names the file, line, key and what pixi
    expects (toml-span's "expected ..., found ..."; rattler's or PEP 440's parse error for a spec)."""
    if "PEP 440" in words:
        pytest.importorskip("packaging")
    with pytest.raises(ManifestError, match=r"pixi.toml " + words):
        load(BASE + extra + "\n")


WRONG_TYPES = [
    "[feature.f]\nchannels = 5",
    "[environments]\ne = { features = 5 }",
    '[target]\nlinux-64 = "x"',
    "[environments]\ne = [5]",
    "[environments]\ne = { no-default-feature = 1 }",
    "[feature.f.dependencies]\nnumpy = 5",
    '[workspace.pypi-options]\nindex-url = ["x"]',
    "[system-requirements]\ncuda = []",
]


@pytest.mark.parametrize("extra", WRONG_TYPES)
def test_wrong_types_are_what_pixis_schema_rejects(load, repo_root, extra):
    """The expected verdict comes from pixi: its JSON schema at v0.77.0 (tests/data/pixi-schema-v0.77.0.json) rejects
    each of these documents, and the base document passes it; the model refuses exactly these too."""
    jsonschema = pytest.importorskip("jsonschema")
    import json

    from checks.workspace.manifest import _toml_loads

    with open(str(repo_root / "tests" / "data" / "pixi-schema-v0.77.0.json"), encoding="utf-8") as handle:
        schema = json.load(handle)
    text = BASE + extra + "\n"
    if extra.startswith("[workspace."):
        text = BASE.replace("[dependencies]", extra + "\n[dependencies]")
    jsonschema.validate(_toml_loads(BASE, "pixi.toml"), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_toml_loads(text, "pixi.toml"), schema)
    with pytest.raises(ManifestError, match=r"pixi.toml line \d+: `[^`]+`: expected"):
        load(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[workspace]\nname = "w"\nchannels = 5\nplatforms = ["linux-64"]\n', "line 3: `workspace.channels`: expected"),
        ("[workspace]\nchannels = []\nplatforms = [5]\n", r"line 3: `workspace.platforms\[0\]`: expected a string or"),
    ],
)
def test_wrong_types_in_the_workspace_table(load, text, words):
    with pytest.raises(ManifestError, match=words):
        load(text)


def test_ten_thousand_environments_read_in_linear_time(load):
    """The manifest text is split once, and a line is looked up only for a problem: 10,000 environments read and
    resolve in about a second (30 s before, when every environment re-split the text)."""
    import time

    text = BASE + '[feature.f.dependencies]\nnumpy = "*"\n[environments]\n'
    text += "".join('e%05d = ["f"]\n' % i for i in range(10000))
    start = time.perf_counter()
    ws = load(text)
    assert len(ws.used_platforms()) == 1 and len(ws.environments) == 10001
    assert time.perf_counter() - start < 10  # about 1 s on a 2-core CI machine; 10x headroom for a loaded one


def test_ten_thousand_problems_are_located_in_linear_time(load):
    """A line is looked up for every problem: from an index of the manifest's keys built once, so 10,000 misnamed
    environments with an undefined feature each (20,000 problems) take well under a second, not a minute."""
    import time

    text = BASE + '[feature.f.dependencies]\nnumpy = "*"\n[environments]\n'
    text += "".join('E%05d = ["f", "nope"]\n' % i for i in range(10000))
    start = time.perf_counter()
    ws = load(text)
    assert len(ws.problems) == 20000 and ws.problems[-1][0] == "[environments] E09999 (line 10009)"
    assert time.perf_counter() - start < 10  # 0.25 s on a 2-core CI machine; it took 65 s when each was a scan


def test_the_pypi_requirement_of_a_python_project_and_of_a_pixi_workspace(tmp_path):
    """A plain pyproject.toml's PEP 621 `dependencies` (PEP 508 strings), and a pixi workspace's
    `[pypi-dependencies]`; names compare as PEP 503 normalises them."""
    project = tmp_path / "pyproject.toml"
    project.write_text(
        '[project]\nname = "pose-tracker"\nversion = "0.1.0"\n'
        'dependencies = ["torch==1.9.1+cu111", "Torch_Vision >= 0.10 ; sys_platform == \'linux\'", "numpy"]\n'
    )
    assert manifest.pypi_requirement(str(project), "torch") == "==1.9.1+cu111"
    assert manifest.pypi_requirement(str(project), "torch-vision") == ">=0.10"
    assert manifest.pypi_requirement(str(project), "numpy") == "*"
    assert manifest.pypi_requirement(str(project), "scipy") is None
    pixi = tmp_path / "pixi.toml"
    pixi.write_text(
        '[workspace]\nname = "serve"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n\n'
        '[dependencies]\npython = "3.11.*"\n\n[pypi-dependencies]\ntorch = ">=2.9"\nvllm = { version = "==0.13.0" }\n'
    )
    assert manifest.pypi_requirement(str(pixi), "torch") == ">=2.9"
    assert manifest.pypi_requirement(str(pixi), "vllm") == "==0.13.0"
    assert manifest.pypi_requirement(str(pixi), "python") is None
