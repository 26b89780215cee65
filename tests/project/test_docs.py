"""README.md and docs/ held against the code: the command table (checks/__main__.py), pixi.toml's tasks, the nox
sessions, the exit codes (checks/report.py) and CI's test command (.ci/run); the README stays short."""

import os
import re
import signal
import subprocess
import sys

import pytest

from checks import report
from checks.__main__ import COMMANDS

README_MAX_LINES = 200  # issue 21: a README that fits on two screens, docs/ behind it
README_SECTIONS = ["Onboarding", "Environments", "Commands", "Exit codes", "Layout", "Running the tests"]


@pytest.fixture(scope="module")
def readme(repo_root):
    return (repo_root / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def docs(repo_root):
    """Return {file name: text} of every page in docs/."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((repo_root / "docs").glob("*.md"))}


def visible_tasks(workspace):
    """Return the names of pixi.toml's tasks a user sees, read through checks.workspace.manifest (the root table and
    every feature). pixi hides a task whose name starts with `_` from its user-facing commands
    (docs/workspace/advanced_tasks.md@v0.77.0:90; crates/pixi_core/src/workspace/environment.rs@v0.77.0:414)."""
    tables = [workspace.default.table] + [f.table for f in workspace.features.values()]
    names = {name for table in tables for name in (table.get("tasks") or {})}
    return {name for name in names if not name.startswith("_")}


def nox_sessions(repo_root):
    """Return the session names `nox -l` lists (every session, the default run's and the others), without the
    parametrisation: `* verify(cpu) -> ...` and `- gpu(cu118) -> ...` are verify and gpu."""
    pytest.importorskip("nox", reason="listing the sessions runs nox")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXI_")}
    env["NO_COLOR"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(repo_root / "noxfile.py"), "-l"],
        cwd=str(repo_root),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    names = set(re.findall(r"^[*-] ([\w-]+)(?:\(.*?\))? -> ", proc.stdout, re.M))
    assert names, proc.stdout
    return names


def test_commands_tasks_and_sessions_are_documented(repo_root, workspace, readme, docs):
    """Each command has its line in the README and its page; each visible pixi task is shown as `pixi run NAME` and
    each nox session as `nox -s NAME` in the README or docs/; and what they name exists (no stale command, task
    or session)."""
    text = readme + "\n".join(docs.values())
    for name in COMMANDS:
        assert re.search(r"^- `python -m checks %s[ `]" % re.escape(name), readme, re.M), name
        assert "python -m checks %s" % name in docs.get("%s.md" % name, ""), name
    assert set(re.findall(r"python -m checks ([a-z][\w-]*)", text)) == set(COMMANDS)

    tasks = visible_tasks(workspace)
    assert set(COMMANDS) <= tasks
    run = r"pixi run (?:--locked )?(?:(?:-e|--environment) [\w-]+ )?([a-z][\w-]*)"
    shown = set(re.findall(run, text))
    assert tasks - shown == set(), "pixi tasks the README and docs/ do not show"
    assert shown - tasks <= {"python"}, "`pixi run NAME` of no task (pixi runs `python` as a command)"

    sessions = nox_sessions(repo_root)
    assert {"verify", "train", "tests", "lint"} <= sessions
    named = set(re.findall(r"nox (?:-f \S+ )?-s \"?'?([a-z][\w-]*)", text))
    assert sessions - named == set(), "nox sessions the README and docs/ do not show"
    assert named - sessions == set(), "`nox -s NAME` of no session"


def test_readme_is_short_with_its_sections_in_order_and_a_page_per_command(repo_root, readme, docs):
    """README.md: at most 200 lines; its sections in the order of issue 21; docs/ has a page for every command,
    and the README links to each."""
    lines = readme.splitlines()
    assert len(lines) <= README_MAX_LINES, len(lines)
    assert re.findall(r"^## (.+)$", readme, re.M) == README_SECTIONS
    for name in COMMANDS:
        assert "%s.md" % name in docs, name
        assert "(docs/%s.md)" % name in readme, name


def test_readme_test_command_is_what_ci_runs(repo_root, readme):
    """The README's test command is .ci/run's last command, word for word."""
    ci = [line for line in (repo_root / ".ci" / "run").read_text(encoding="utf-8").splitlines() if line.strip()]
    command = ci[-1].strip()
    assert command.startswith("python -m nox ")
    section = readme.split("## Running the tests", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    assert command in block.splitlines()


def test_readme_exit_codes_are_checks_report(readme):
    """The README's exit-code table has one row per code of checks/report.py, and the signal codes are 128 + the
    signal's number on this platform (SIGINT 2, SIGTERM 15, SIGHUP 1 on Linux and macOS)."""
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    codes = re.findall(r"^\| (\d+(?:\+N)?) \|", section, re.M)
    assert codes == [
        str(report.EXIT_OK),
        str(report.EXIT_FAILED),
        str(report.EXIT_USAGE),
        str(report.EXIT_INTERNAL),
        "%d+N" % report.EXIT_SIGNAL_BASE,
        str(report.EXIT_CLOSED_PIPE),
    ]
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            assert "%d %s" % (report.EXIT_SIGNAL_BASE + int(number), name) in section, name
    assert report.EXIT_SIGNAL_BASE + int(signal.SIGINT) == report.EXIT_INTERRUPTED


def test_relative_links_in_readme_and_docs_resolve(repo_root, readme, docs):
    """Every relative link of README.md and docs/*.md names a file or folder of the repository (the text moved
    into docs/, one level down)."""
    pages = [(repo_root, readme)] + [(repo_root / "docs", text) for text in docs.values()]
    missing = []
    for folder, text in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (folder / target.split("#", 1)[0]).resolve()
            if not path.exists():
                missing.append(target)
    assert missing == []
