"""The GitHub workflows: pixi pinned to requires-pixi, the lock enforced, jobs derived from pixi.toml."""

import json
import re
import subprocess
import sys

import pytest

from checks.workspace import versions
from tools import ci_matrix

yaml = pytest.importorskip("yaml", reason="workflows are YAML: pip install pyyaml")


@pytest.fixture(scope="module")
def workflows(repo_root):
    """Return {file name: parsed workflow} for .github/workflows/*.yml."""
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted((repo_root / ".github" / "workflows").glob("*.yml"))}


def steps(workflow):
    """Yield (job name, step) of every step of a workflow."""
    for name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


def pixi_runs(workflow):
    """Yield each `pixi run ...` command line of a workflow's run steps."""
    for _, step in steps(workflow):
        for line in step.get("run", "").splitlines():
            if line.strip().startswith("pixi run"):
                yield line.strip()


def test_both_workflows_exist(workflows):
    """ci.yml installs and verifies; lock.yml checks, audits and regenerates the lock."""
    assert {"ci.yml", "lock.yml"} <= set(workflows)


def test_pixi_is_pinned_to_requires_pixi(workflows, manifest):
    """Every setup-pixi step pins the pixi version whose lock format and manifest schema the project uses."""
    floor = "v" + versions.floor(manifest["workspace"]["requires-pixi"])
    pins = [
        step.get("with", {}).get("pixi-version")
        for workflow in workflows.values()
        for _, step in steps(workflow)
        if step.get("uses", "").startswith("prefix-dev/setup-pixi@")
    ]
    assert pins and set(pins) == {floor}


def test_every_pixi_run_enforces_the_lock_and_names_a_real_task(workflows, manifest):
    """`pixi run --locked` everywhere, and each task it runs is defined in pixi.toml."""
    tasks = set(manifest.get("tasks", {}))
    for feature in manifest.get("feature", {}).values():
        tasks |= set(feature.get("tasks", {}))
    runs = [line for workflow in workflows.values() for line in pixi_runs(workflow)]
    assert runs
    for line in runs:
        assert "--locked" in line.split(), line
        words = re.sub(r"--(environment|platform) (\$\{\{[^}]*\}\}|\S+)", "", line).split()
        task = next(w for w in words[2:] if not w.startswith("-"))
        assert task in tasks, line


def test_the_lock_workflow_checks_without_writing_and_proposes_updates(workflows):
    """On change: `pixi lock --check --dry-run` and the audit; by hand: `pixi lock`, audit, pull request."""
    lock = workflows["lock.yml"]
    check = [s.get("run", "") for s in lock["jobs"]["check"]["steps"]]
    assert any("pixi lock --check --dry-run" in r for r in check)
    assert any("lock-audit" in r for r in check)
    update = lock["jobs"]["update"]["steps"]
    runs = [s.get("run", "") for s in update]
    assert "pixi lock" in runs and any("lock-audit" in r for r in runs)
    pr = next(s for s in update if s.get("uses", "").startswith("peter-evans/create-pull-request@"))
    assert pr["with"]["add-paths"] == "pixi.lock"
    triggers = lock.get("on", lock.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"pull_request", "push", "workflow_dispatch", "schedule"}
    assert triggers["pull_request"]["paths"] == ["pixi.toml", "pixi.lock"]


def test_ci_jobs_come_from_pixi_toml(workflows, repo_root):
    """The verify and tests matrices are tools/ci_matrix.py's output, not a list in the workflow."""
    ci = workflows["ci.yml"]
    assert any("tools/ci_matrix.py" in s.get("run", "") for s in ci["jobs"]["plan"]["steps"])
    for job in ("verify", "tests"):
        assert ci["jobs"][job]["strategy"]["matrix"]["include"] == "${{ fromJSON(needs.plan.outputs.%s) }}" % job
    assert ci["jobs"]["verify"]["env"]["CONDA_OVERRIDE_CUDA"] == "${{ matrix.cuda }}"
    # the runners have no GPU on purpose: verify is told so explicitly (CONDA_OVERRIDE_CUDA alone is a FAIL)
    runs = [step.get("run", "") for step in ci["jobs"]["verify"]["steps"]]
    assert any(" verify --no-gpu " in run for run in runs), runs
    out = subprocess.run([sys.executable, "tools/ci_matrix.py"], cwd=str(repo_root), capture_output=True, text=True)
    assert out.returncode == 0 and [line.split("=")[0] for line in out.stdout.splitlines()] == ["verify", "tests"]


def test_the_matrix_covers_every_environment_and_platform_once(workspace):
    """One verify job per torch environment x platform (CUDA ones with their driver declared), tests per OS."""
    jobs = ci_matrix.matrices(workspace)
    verify = {(j["environment"], j["platform"]): j for j in jobs["verify"]}
    assert len(verify) == len(jobs["verify"])
    for env in ("default", "cpu", "cu117", "cu118", "latest"):
        for platform in workspace.env_platforms(env):
            job = verify.pop((env, platform.name))
            assert job["cuda"] == (platform.cuda or "")
            assert job["os"] == ci_matrix.RUNNERS[platform.subdir]
    assert not verify
    assert {j["environment"] for j in jobs["tests"]} == {"test", "test-latest"}
    assert json.dumps(jobs)  # serialisable for fromJSON
