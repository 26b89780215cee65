"""checks/workspace/versions.py: conda version order and version specs as rattler evaluates them, with and without
py-rattler."""

import itertools

import pytest

from checks.workspace import versions

# (spec, version, matches): rattler's own expectations where cited, the rest real specs from pixi.toml files and
# pixi.lock `depends` (pytorch channel records, conda-forge's python pins).
CASES = [
    ("3.11", "3.11.5", False),  # a bare version in pixi is `==` (crates/pixi_spec/src/toml.rs@v0.77.0:1485-1516)
    ("3.11", "3.11", True),
    ("3.11", "3.11.0", True),  # `==` pads with zeros (Version: PartialEq, rattler version/mod.rs:601)
    ("=3.11", "3.11.5", True),  # `=` is StartsWith (version_spec/parse.rs@rattler_conda_types-v0.49.0:33-57)
    ("3.11.*", "3.11.5", True),
    ("~=3.11", "3.12.1", True),
    ("~=3.11.2", "3.12.1", False),
    ("~=3.11.2", "3.11.9", True),
    (">=1.21,<2", "1.26.4", True),
    (">=1.21,<2", "2.0.0", False),
    ("<3.11.0a0", "3.11.0rc1", False),  # conda-forge python pins: `python >=3.10,<3.11.0a0`
    ("<3.11.0a0", "3.10.99", True),
    ("2.0.1", "2.0.1.0", True),
    (">=2.8", "2.10.0", True),
    ("1.0a1|>=2", "1.0", False),
    ("3.10*", "3.10.2", True),  # parse_logical_constraint (version_spec/parse.rs:500-550)
    (">=3.1*", "3.1.5", True),  # lenient: `>=3.1*` is `>=3.1` (parse.rs:552-570)
    ("==3.12.*", "3.12.1", False),  # lenient rattler reads `==3.12.*` as `==3.12`
    ("!=1.2.*", "1.2.3", False),
    ("!=1.2.*", "1.3", True),
    ("*", "1.0", True),
    (">=11.8,<12.0", "11.8", True),  # pytorch-cuda 11.8's cuda-* range
    ("11.8.*", "11.80", False),
    ("<2024.1", "2024.1.0", False),
    ("<2024.1", "2023.2.0", True),
    (">=3.10,<3.13", "3.13.0", False),
    ("(>=1,<2)|>=3", "2.5", False),
    ("(>=1,<2)|>=3", "3.1", True),
    (">=1.0a1", "1.0.dev1", True),
    ("<1.0", "1.0rc1", True),
    ("1.1c.*", "1.1c.1", True),
    ("1.0.0.*", "1.0", True),  # implicit zeros (segments_starts_with, version/mod.rs:539-598)
    ("==1.2.0", "1.2.3", False),  # test_matches, version_spec/mod.rs@rattler_conda_types-v0.49.0:460-483
    ("1!1.2.*", "1!1.2.3", True),
    ("1!1.2.*", "1.2.3", False),
]
ORDER = ["1.0.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.post1", "1.0_1", "1.1", "0.9", "1!0.1", "2.0.10", "11.8"]


@pytest.mark.parametrize(("spec", "version", "expected"), CASES)
def test_specs_match_as_rattler_decides(spec, version, expected):
    """The same answers from whichever implementation this interpreter has."""
    assert versions.matches(version, spec) is expected


@pytest.mark.parametrize(("spec", "version", "expected"), CASES)
def test_the_builtin_implementation_agrees(monkeypatch, spec, version, expected):
    """Without py-rattler (Python 3.8/3.9, or not installed) the built-in VersionOrder gives the same answers."""
    monkeypatch.setattr(versions, "_rattler", None)
    assert versions.matches(version, spec) is expected


def test_builtin_agrees_with_py_rattler_on_order_and_specs(monkeypatch):
    """Differential test: every ordered pair and every spec above, built-in against py-rattler itself."""
    rattler = pytest.importorskip("rattler", reason="py-rattler is the reference; installed in the 3.11 test session")
    monkeypatch.setattr(versions, "_rattler", None)
    for a, b in itertools.product(ORDER, ORDER):
        ra, rb = rattler.Version(a), rattler.Version(b)
        assert versions.compare(a, b) == (ra > rb) - (ra < rb), (a, b)
    for spec, version, _ in CASES:
        assert versions.matches(version, spec) is rattler.VersionSpec(spec, strict=False).matches(
            rattler.Version(version)
        )


def test_strict_specs_refuse_a_bare_version(monkeypatch):
    """rattler's strict parser: `missing range specifier` (version_spec/parse.rs@rattler_conda_types-v0.49.0:72-73)."""
    for backend in ("installed", "builtin"):
        if backend == "builtin":
            monkeypatch.setattr(versions, "_rattler", None)
        with pytest.raises(versions.SpecError, match="missing range specifier"):
            versions.matches("3.11.5", "3.11", strict=True)


@pytest.mark.parametrize(
    ("spec", "promised"),
    [
        ("11.8.*", "11.8"),
        (">=12.8,<13", "12.8"),
        ("<13", "12"),
        ("<13.0a0", "12"),
        ("<2.1", "2.0"),
        ("<=12.4", "12.4"),
        ("=2.0", "2.0"),
        ("~=2.0.1", "2.0.1"),
        ("==2.0.*", "2.0"),
        ("!=12.4", None),
        ("12.4|11.8", "11.8"),
        (">=13,<12", None),
        ("*", None),
    ],
)
@pytest.mark.parametrize("backend", ["py-rattler", "builtin"])
def test_floor_reads_the_operator(monkeypatch, backend, spec, promised):
    """floor() is the release a spec promises, by its operator: `<13` admits no 13.x, so it promises 12 (CUDA 12.x).
    The expected value is the spec's own verdict, as rattler evaluates it (version_spec/parse.rs at
    rattler_conda_types-v0.49.0:33-57): every promised release matches the spec, and `13` does not match `<13`."""
    if backend == "builtin":
        monkeypatch.setattr(versions, "_rattler", None)
    elif versions._rattler is None:
        pytest.skip("py-rattler is not installed")
    assert versions.floor(spec) == promised
    if promised is not None and not spec.startswith(">"):
        assert versions.matches(promised, spec)
    assert not versions.matches("13", "<13") and not versions.matches("13.0", "<13.0a0")


def test_helpers():
    """release() drops a pip local version; floor() is the lowest version a spec names; minor() pads."""
    assert versions.release("2.0.1+cu117") == "2.0.1"
    assert versions.floor(">=12.8,<13") == "12.8" and versions.floor("11.8.*") == "11.8" and versions.floor("*") is None
    assert versions.minor("12") == (12, 0) and versions.key("2.0.1+cu117") == (2, 0, 1)


@pytest.mark.parametrize(
    ("spec", "valid"),
    [
        (">=1.21,,<2", False),
        ("11.8.**", False),
        (">=1,", False),
        (",>=1", False),
        ("|1", False),
        ("1|", False),
        ("**", False),
        ("", False),
        ("(>=1)", True),
        (">=1,<2|3", True),
        ("1.*.*", True),
        ("*.*", True),
        (">=1.0.*", True),
        ("*", True),
    ],
)
@pytest.mark.parametrize("backend", ["py-rattler", "builtin"])
def test_check_spec_refuses_what_rattler_refuses(monkeypatch, backend, spec, valid):
    """pixi parses a dependency's version spec with rattler (VersionSpec::from_str, lenient): the verdicts are
    rattler's own (py-rattler decides `valid` when installed; the built-in grammar must agree on these typos)."""
    import contextlib

    if backend == "builtin":
        monkeypatch.setattr(versions, "_rattler", None)
    elif versions._rattler is None:
        pytest.skip("py-rattler is not installed")
    else:
        rattler_says = True
        try:
            versions._rattler.VersionSpec(spec, strict=False) if spec not in ("", "*") else None
        except Exception:
            rattler_says = False
        assert rattler_says == valid or spec == ""
    context = contextlib.nullcontext() if valid else pytest.raises(versions.SpecError)
    with context:
        versions.check_spec(spec)
