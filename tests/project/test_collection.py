"""pytest collects every test folder: a folder named like a build output (pytest's default norecursedirs has
`dist` and `build`) would otherwise be skipped without a word, as tests/dist was."""

import subprocess
import sys


def test_every_folder_of_tests_is_collected(repo_root):
    folders = {p.parent.relative_to(repo_root).as_posix() for p in (repo_root / "tests").rglob("test_*.py")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=str(repo_root),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    collected = {line.split("::")[0].rsplit("/", 1)[0] for line in proc.stdout.splitlines() if "::" in line}
    assert "tests/dist" in folders and collected == folders
