"""checks/__main__.py: the command table, and the one error boundary (exit codes, Ctrl-C, a closed pipe, --json)."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from checks.__main__ import COMMANDS, usage

POSIX = pytest.mark.skipif(os.name != "posix", reason="signals and process groups as on Linux and macOS")


def test_usage_is_built_from_the_command_table():
    """Every command of the table, with its summary, and the exit-code table."""
    text = usage()
    for name, command in COMMANDS.items():
        assert re.search(r"^  %s +%s$" % (re.escape(name), re.escape(command.summary)), text, re.M), name
    assert "3 internal error" in text and "128+N stopped by signal N (130 Ctrl-C, 143 SIGTERM" in text


def test_pixi_tasks_and_the_readme_match_the_table(manifest, repo_root):
    """Each command's pixi task runs `python -m checks NAME` and carries the table's summary as its description;
    the README names every command and no other."""
    tasks = dict(manifest.get("tasks", {}))
    for feature in manifest.get("feature", {}).values():
        tasks.update(feature.get("tasks", {}))
    for name, command in COMMANDS.items():
        task = tasks[name]
        assert task["cmd"].startswith("python -m checks %s" % name), task
        assert task["description"] == command.summary, name
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    assert set(re.findall(r"python -m checks ([a-z][\w-]*)", readme)) == set(COMMANDS)


@pytest.mark.parametrize("argv", [[], ["nope"]])
def test_no_or_unknown_command_is_a_usage_error(run_checks, argv):
    """Exit 2 and the valid commands."""
    proc = run_checks(*argv)
    assert proc.returncode == 2 and ("usage:" in proc.stderr or "valid commands" in proc.stderr)


@pytest.mark.parametrize(
    "command", ["verify --quick", "train --quick", "bench --quick", "dist", "lock-audit", "health"]
)
@pytest.mark.parametrize("case", ["a-directory", "below-a-file"])
def test_an_unwritable_json_path_fails_before_any_work(run_checks, tmp_path, command, case):
    """--json to a folder, or below a file: exit 2 with one line before anything runs (no result printed)."""
    (tmp_path / "file").write_text("x")
    target = tmp_path if case == "a-directory" else tmp_path / "file" / "r.json"
    proc = run_checks(*command.split(), "--json", str(target), timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("python -m checks %s: error: --json " % command.split()[0])


@pytest.mark.parametrize("command", ["train --quick --model net", "bench --quick", "dist"])
def test_an_unusable_device_is_a_failed_check_in_every_command(run_checks, command):
    """--device cuda on a machine without a usable CUDA GPU: a FAIL line naming why, exit 1, in train, bench and
    dist alike (it was 1 in train and 2 in bench)."""
    torch = pytest.importorskip("torch", reason="these commands need torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a usable CUDA GPU")
    proc = run_checks(*command.split(), "--device", "cuda", timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"^FAIL \S+: ", proc.stdout, re.M) and "Traceback" not in proc.stderr


def test_an_internal_error_is_exit_3_and_one_line_naming_the_log(run_checks, tmp_path):
    """A crash outside the checks: exit 3 (never 1, a failed check: for health that means "pull this GPU"), one
    line on stderr naming the exception and the log file that holds the traceback (as pre-commit writes
    ~/.cache/pre-commit/pre-commit.log), no traceback on the terminal (CHECKS_DEBUG=1 shows it)."""
    # compare reads its reports with json.load; a report whose `results` is not a list breaks it inside.
    bad = {
        "schema": "pytorch-env/report",
        "schema_version": 2,
        "check": "bench",
        "results": 3,
        "created": "",
        "header": {},
    }
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(bad))
    cache = tmp_path / "cache"
    argv = ("compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    proc = run_checks(*argv, env={"XDG_CACHE_HOME": str(cache)})
    assert proc.returncode == 3 and "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1
    log = cache / "pytorch-env" / "checks.log"
    assert re.match(
        r"python -m checks compare: internal error: TypeError: .*\(at compare\.py:\d+\); this is a bug in checks, "
        r"not a fault of this machine: the traceback is in %s" % re.escape(str(log)),
        proc.stderr,
    )
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "TypeError" in text and "compare.py" in text
    assert [p.name for p in log.parent.iterdir()] == ["checks.log"]  # written through a temp file, none left
    proc = run_checks(*argv, env={"XDG_CACHE_HOME": str(cache), "CHECKS_DEBUG": "1"})
    assert proc.returncode == 3 and "Traceback" in proc.stderr


@POSIX
def test_a_closed_stdout_ends_quietly(repo_root, tmp_path):
    """`python -m checks lock-audit | head -0`: a reader gone before the first line: exit 141 (128 + SIGPIPE), nothing
    on stderr."""
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run(
        [sys.executable, "-m", "checks", "lock-audit", "--manifest", str(repo_root / "pixi.toml")],
        stdout=write,
        stderr=subprocess.PIPE,
        cwd=str(tmp_path),
        env=dict(os.environ, PYTHONPATH=str(repo_root)),
        timeout=120,
    )
    os.close(write)
    assert proc.returncode == 141 and proc.stderr.decode() == ""


@POSIX
def test_a_stdout_closed_mid_run_ends_quietly(repo_root, tmp_path):
    """`python -m checks verify | head -1`: the reader leaves after the first line while verify has seconds of checks
    to go (the full run); the next line meets the closed pipe: exit 141, nothing on stderr, no worker left."""
    pytest.importorskip("torch", reason="verify's checks need torch")
    env = dict(os.environ, PYTHONPATH=str(repo_root))
    proc = subprocess.Popen(
        [sys.executable, "-m", "checks", "verify"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(tmp_path),
        env=env,
    )
    proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 141 and err.decode() == ""


def interrupt(argv, repo_root, tmp_path, after, signum=signal.SIGINT):
    """Start `python -m checks ARGV` in its own process group, press Ctrl-C (SIGINT to the group; or send `signum`)
    once a line matching `after` appears; return (exit code, stdout, stderr, JSON report)."""
    report = tmp_path / "r.json"
    env = dict(os.environ, PYTHONPATH=str(repo_root), NO_COLOR="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "checks", *argv, "--json", str(report)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(tmp_path),
        env=env,
        start_new_session=True,
        # Ctrl-C at an interactive terminal reaches a foreground job whose SIGINT is in its default state; pytest
        # itself may run as a background job of a script, whose children inherit SIGINT ignored (tests/test_signals.py).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        text=True,
    )
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if re.match(after, line):
            break
    time.sleep(0.2)
    os.killpg(proc.pid, signum)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, "".join(seen) + out, err, json.loads(report.read_text())


@POSIX
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_ctrl_c_in_train_is_130_with_the_results_so_far(repo_root, tmp_path, signame):
    """Ctrl-C (or SIGTERM, which ended train with no summary and no JSON) mid-run: exit 128 + N, the summary says
    interrupted, the JSON holds the results so far, `"interrupted": true` and the signal, and no process prints a
    traceback."""
    pytest.importorskip("torch", reason="train needs torch")
    signum = getattr(signal, signame)
    argv = ["train", "--quick", "--device", "cpu"]
    code, out, err, doc = interrupt(argv, repo_root, tmp_path, r"PASS ", signum)
    assert code == 128 + signum and doc["interrupted"] is True and doc["exit_code"] == 128 + signum
    assert doc["signal"] == signame
    assert doc["results"] and "interrupted" in out.splitlines()[-2]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


@POSIX
def test_ctrl_c_in_dist_stops_every_rank_quietly(repo_root, tmp_path):
    """dist --nproc 2: Ctrl-C reaches rank 0, rank 1 and the launcher; exit 130 and no traceback from any of them."""
    pytest.importorskip("torch", reason="dist needs torch")
    code, out, err, doc = interrupt(["dist", "--nproc", "2", "--device", "cpu"], repo_root, tmp_path, r"PASS init")
    assert code == 130 and doc["interrupted"] is True, (out, err, doc["results"][-1])
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


@POSIX
@pytest.mark.parametrize("argv", [["--help"], ["compare", "--help"]])
def test_help_into_a_closed_pipe_is_141_and_quiet(repo_root, tmp_path, argv):
    """`python -m checks --help | head -0`: exit 141, nothing on stderr (it was a BrokenPipeError traceback, exit 1)."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    env = dict(os.environ, PYTHONPATH=str(repo_root))
    proc = subprocess.run(
        [sys.executable, "-m", "checks", *argv], stdout=write, stderr=subprocess.PIPE, env=env, timeout=120
    )
    os.close(write)
    assert proc.returncode == 141 and proc.stderr.decode() == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full (Linux has it)")
@pytest.mark.parametrize("argv", [["--help"], ["lock-audit", "--manifest", "MANIFEST"]])
def test_a_full_stdout_is_a_write_error_exit_2(repo_root, argv):
    """Standard output on a full device (/dev/full: ENOSPC): exit 2, one line naming it, not an internal error."""
    argv = [str(repo_root / "pixi.toml") if a == "MANIFEST" else a for a in argv]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "checks", *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            env=dict(os.environ, PYTHONPATH=str(repo_root)),
            text=True,
            timeout=120,
        )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().endswith("cannot write to standard output: No space left on device")
    assert "internal error" not in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_an_ascii_stdout_gets_backslash_escapes(run_checks, repo_root, tmp_path):
    """PYTHONIOENCODING=ascii and a non-ASCII name in the output (here the manifest's folder): every line still
    prints, the character as a backslash escape, and the JSON report is written (it was an internal error)."""
    folder = tmp_path / "caf\u00e9"
    folder.mkdir()
    (folder / "pixi.toml").write_text((repo_root / "pixi.toml").read_text(encoding="utf-8"), encoding="utf-8")
    report = tmp_path / "r.json"
    proc = run_checks(
        "lock-audit", "--manifest", str(folder / "pixi.toml"), "--json", str(report), env={"PYTHONIOENCODING": "ascii"}
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # no pixi.lock beside the copied manifest
    assert "caf\\xe9" in proc.stdout and "internal error" not in proc.stderr
    assert "caf\u00e9" in json.loads(report.read_text(encoding="utf-8"))["header"]["manifest"]


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1", "none", "1e7", "ten"])
def test_timeout_is_a_finite_positive_number(run_checks, value):
    """--timeout inf killed the watchdog thread (OverflowError) and the run went on unguarded; nan reported a bogus
    hang: each is a usage error, exit 2, before any work."""
    proc = run_checks("verify", "--timeout", value)
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout + proc.stderr
    assert "argument --timeout: %r" % value in proc.stderr and "Traceback" not in proc.stderr


def test_the_timeout_bound_is_below_what_threads_can_wait():
    """The longest --timeout, plus the worker's grace, is a wait threading accepts (threading.TIMEOUT_MAX)."""
    import threading

    from checks import runner, worker

    assert runner.seconds(str(runner.MAX_TIMEOUT)) + worker.GRACE < threading.TIMEOUT_MAX
    assert runner.seconds("0.5") == 0.5


@pytest.mark.parametrize("command", ["train --quick", "bench --quick", "dist", "verify --quick"])
@pytest.mark.parametrize("install", ["none", "empty-folder", "raising-init"])
def test_no_usable_torch_is_exit_2_naming_where(run_checks, bare_python, tmp_path, command, install):
    """A Python without torch, with an empty `torch/` folder on its path (it imports as a namespace package: train,
    bench and dist crashed with internal errors), or with a torch whose __init__.py raises: "no usable torch here",
    exit 2, naming the path; verify prints its torch FAIL line saying why, and exits 2 too (it exited 1, while the
    README says 2)."""
    site = tmp_path / "site"
    (site / "torch").mkdir(parents=True)
    if install == "raising-init":
        (site / "torch" / "__init__.py").write_text('raise RuntimeError("half-installed on purpose")\n')
    env = {"PYTHONPATH": str(site)} if install != "none" else None
    proc = run_checks(*command.split(), python=bare_python, env=env, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    text = proc.stdout + proc.stderr
    if install != "none":
        assert str(site / "torch") in text
    if command.startswith("verify"):
        assert re.search(r"^FAIL torch: ", proc.stdout, re.M)
    else:
        assert proc.stdout == "" and "torch did not import" in proc.stderr


@POSIX
def test_json_dash_into_a_closed_pipe_is_141_and_quiet(repo_root):
    """`--json -` whose reader is gone: exit 141, quietly (no `cannot write` line, no traceback), not exit 2."""
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run(
        [sys.executable, "-m", "checks", "lock-audit", "--manifest", str(repo_root / "pixi.toml"), "--json", "-"],
        stdout=write,
        stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(repo_root)),
        timeout=120,
    )
    os.close(write)
    assert proc.returncode == 141, proc.stderr
    assert "cannot write" not in proc.stderr.decode() and "Traceback" not in proc.stderr.decode()


def test_an_ascii_stdout_and_a_non_ascii_environment_in_verify(run_checks, tmp_path):
    """verify on an ASCII-only stdout with a non-ASCII value among the environment variables its header shows
    (CUDA_HOME here): the line prints with a backslash escape, the run ends normally, the JSON holds the value."""
    pytest.importorskip("torch", reason="verify's checks need torch to pass")
    report = tmp_path / "v.json"
    home = "/opt/caf\u00e9"
    proc = run_checks(
        "verify", "--quick", "--json", str(report), env={"PYTHONIOENCODING": "ascii", "CUDA_HOME": home}, timeout=600
    )
    # the header pads its keys to the longest one shown, which depends on the variables set
    assert re.search(r"^env CUDA_HOME *: /opt/caf\\xe9$", proc.stdout, re.M), proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr and proc.returncode in (0, 1)
    assert json.loads(report.read_text(encoding="utf-8"))["header"]["env CUDA_HOME"] == home
