"""No tracked folder has a name that GitHub's Python.gitignore ignores: a team that copies this repository into one
made from that template would silently lose it (as checks/dist/ was lost to `dist/`). The folder patterns below are
the template's own (github/gitignore, Python.gitignore at dcc0fc7b, 2026-05-21: its lines that end in `/`)."""

import subprocess

PYTHON_GITIGNORE_FOLDERS = {
    "__pycache__", "build", "develop-eggs", "dist", "downloads", "eggs", ".eggs", "lib", "parts", "sdist", "var",
    "wheels", "htmlcov", ".tox", ".nox", ".hypothesis", ".pytest_cache", "cover", "instance", ".pybuilder", "target",
    "profile_default", ".pdm-build", "__pypackages__", "mnesia", "rabbitmq", "rabbitmq-data", "activemq-data", "env",
    "venv", "ENV", "env.bak", "venv.bak", ".mypy_cache", ".pyre", ".pytype", "cython_debug", ".abstra", ".ruff_cache",
    "__marimo__",
}  # fmt: skip


def test_no_tracked_folder_is_named_like_a_python_build_output(repo_root):
    files = subprocess.run(["git", "ls-files"], cwd=str(repo_root), capture_output=True, text=True, check=True)
    folders = {part for path in files.stdout.split() for part in path.split("/")[:-1]}
    assert sorted(folders & PYTHON_GITIGNORE_FOLDERS) == []
