"""The GitHub workflows' supply chain and permissions, as zizmor and actionlint judge them: every action pinned to a
commit with its version beside it, least-privilege tokens, no persisted checkout credentials; and the lint task
runs both linters (tests/project/test_noxfile.py: the nox lint session installs them from pixi.toml).

zizmor's audits: unpinned-uses, excessive-permissions, artipacked (https://docs.zizmor.sh/audits/). The pins were
read from the actions' own repositories (their release tags); actionlint names the node20 runtime of an old major.
"""

import re

import pytest

yaml = pytest.importorskip("yaml", reason="workflows are YAML: pip install pyyaml")

# `uses: owner/repo[/path]@<40 hex> # vX[.Y[.Z]]`: a commit cannot move, the comment says which release it is.
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}\s*$")
WRITE_JOB = ("lock.yml", "update")  # the one job that pushes a branch and opens a pull request


@pytest.fixture(scope="module")
def texts(repo_root):
    """Return {file name: text} for .github/workflows/*.yml."""
    return {p.name: p.read_text() for p in sorted((repo_root / ".github" / "workflows").glob("*.yml"))}


@pytest.fixture(scope="module")
def workflows(texts):
    return {name: yaml.safe_load(text) for name, text in texts.items()}


def test_every_action_is_pinned_to_a_commit_with_its_version(texts):
    uses = [(name, line) for name, text in texts.items() for line in text.splitlines() if "uses:" in line]
    assert uses, "no `uses:` line found: the workflows moved?"
    assert [(name, line.strip()) for name, line in uses if not PINNED.match(line)] == []


def test_the_same_action_is_pinned_to_the_same_commit_everywhere(texts):
    """One version of each action: two pins of it would be two things to update (and one would be forgotten)."""
    pins = {}
    for text in texts.values():
        for match in re.finditer(r"uses:\s+(\S+)@(\S+) # (\S+)", text):
            pins.setdefault(match.group(1), set()).add((match.group(2), match.group(3)))
    assert {action: len(p) for action, p in pins.items() if len(p) > 1} == {}


def test_no_token_has_more_than_its_job_needs(workflows):
    """The workflow grants nothing; each job grants itself `contents: read`, and only the lock workflow's update job
    may write (contents and pull requests, to push its branch and open the pull request)."""
    for name, workflow in workflows.items():
        assert workflow.get("permissions") == {}, name
        for job_name, job in workflow["jobs"].items():
            granted = job.get("permissions")
            assert isinstance(granted, dict), "%s job %s sets no permissions" % (name, job_name)
            writes = {scope for scope, level in granted.items() if level == "write"}
            if (name, job_name) == WRITE_JOB:
                assert writes == {"contents", "pull-requests"}, granted
            else:
                assert granted == {"contents": "read"}, (name, job_name, granted)


def test_checkout_does_not_leave_the_token_in_the_work_tree(workflows):
    """actions/checkout writes the token into .git/config unless persist-credentials is false; no job pushes with
    git itself (create-pull-request configures the job's token on its own: src/git-config-helper.ts, v8.1.1)."""
    checkouts = [
        (name, job_name, step)
        for name, workflow in workflows.items()
        for job_name, job in workflow["jobs"].items()
        for step in job.get("steps", [])
        if step.get("uses", "").startswith("actions/checkout@")
    ]
    assert checkouts
    assert [(n, j) for n, j, step in checkouts if step.get("with", {}).get("persist-credentials") is not False] == []


def test_the_lint_task_runs_actionlint_and_zizmor_offline(workspace):
    """pixi.toml's lint task (and so the nox lint session, which runs its commands) lints the workflows."""
    commands = [workspace.task(name)["cmd"] for name in workspace.task("lint")["depends-on"]]
    assert "actionlint" in commands
    assert "zizmor --offline .github/workflows" in commands
