"""pytest collects every test folder: a folder named like a build output (pytest's default norecursedirs has
`dist` and `build`) would otherwise be skipped without a word, as tests/dist was before it became tests/distributed."""

import fnmatch


def test_no_test_folder_matches_norecursedirs(pytestconfig, repo_root):
    """pytest does not recurse into a folder whose name matches a norecursedirs pattern (fnmatch, as pytest's
    pytest_ignore_collect does): no folder on the way to a test file may match one."""
    patterns = pytestconfig.getini("norecursedirs")
    tests = repo_root / "tests"
    folders = {p.parent.relative_to(tests) for p in tests.rglob("test_*.py")}
    assert any(f.parts == ("distributed",) for f in folders)
    blocked = sorted(
        str(f) for f in folders for part in f.parts for pattern in patterns if fnmatch.fnmatch(part, pattern)
    )
    assert blocked == []
