"""End-to-end tests of `python -m checks verify`, run as a user runs it: in a child process."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import fakes
import pytest

from checks.machine import gpu_access, probe, toolchain
from checks.nvidia import driver as nvidia_driver

torch = pytest.importorskip("torch", reason="verify's end-to-end tests need torch in this interpreter")

POSIX = pytest.mark.skipif(os.name != "posix", reason="fake nvidia-smi scripts need a POSIX shell")
CUDA_WHEEL = pytest.mark.skipif(
    not torch.version.cuda, reason="needs a CUDA build of torch (e.g. the 2.0.1 PyPI wheel)"
)
CPU_WHEEL = pytest.mark.skipif(bool(torch.version.cuda), reason="needs a CPU build of torch")
# A real driver answers through /proc and libcuda before any nvidia-smi on PATH, so a fake one cannot stand in.
FAKE_DRIVER = pytest.mark.skipif(
    nvidia_driver.facts(timeout=30)["present"], reason="a real NVIDIA driver answers before a fake nvidia-smi"
)

# --env NAME names an environment of this repository's pixi.toml; the tests run from an empty folder, where verify
# finds no workspace of its own.
THIS_MANIFEST = ("--manifest", str(Path(__file__).resolve().parents[2] / "pixi.toml"))

INSTALL = [
    "python",
    "torch",
    "torchvision",
    "torchaudio",
    "provenance",
    "requirements",
    "loader",
    "os",
    "variables",
    "integrations",
    "dependencies",
    "dependents",
    "project",
    "pypi",
    "build",
    "cuda-runtime",
    "cudnn",
    "nccl",
    "libraries",
    "driver",
    "gpu-arch",
    "gpu",
    "mps",
]
COMPUTE = [
    "cpu-backends",
    "kernels",
    "conv",
    "amp",
    "sdpa",
    "distributed",
    "numpy",
    "first-step",
    "compile",
    "extensions",
]


def lines(out, status):
    """Return the result lines with a given status."""
    return [line for line in out.splitlines() if line.startswith(status + " ")]


def result(doc, name):
    """Return one result from a JSON report by name."""
    return next(r for r in doc["results"] if r["name"] == name)


def test_quick_run_passes_and_reports_every_check(run_checks, tmp_path, report_schema):
    """A quick generic run on this machine passes, covers every check once, and writes schema-valid JSON."""
    out_file = tmp_path / "sub" / "verify.json"
    proc = run_checks("verify", "--quick", "--json", str(out_file))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(out_file.read_text())
    assert [r["name"] for r in doc["results"]] == INSTALL + COMPUTE
    assert doc["counts"]["FAIL"] == 0 and doc["exit_code"] == 0
    assert result(doc, "compile")["status"] == "SKIP" and "--quick" in result(doc, "compile")["summary"]
    assert result(doc, "first-step")["status"] == "PASS"
    if report_schema is not None:
        report_schema.validate(doc)
    assert proc.stdout.rstrip().endswith("report written to %s" % out_file)
    assert not list(out_file.parent.glob(".*.tmp")), "a temporary file was left behind"


def test_unknown_environment_lists_valid_ones(run_checks):
    """--env with a name pixi.toml lacks: exit 2, one line naming every valid environment."""
    proc = run_checks("verify", "--quick", "--env", "cu999", *THIS_MANIFEST)
    assert proc.returncode == 2
    assert "unknown environment 'cu999'" in proc.stderr
    for name in ("cpu", "cu117", "cu118", "default", "latest"):
        assert name in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_malformed_manifest_is_a_usage_error(run_checks, tmp_path):
    """A pixi.toml that is not TOML: exit 2 and a message naming the problem, no traceback."""
    bad = tmp_path / "pixi.toml"
    bad.write_text("[workspace\nchannels = [\n")
    proc = run_checks("verify", "--quick", "--env", "cpu", "--manifest", str(bad))
    assert proc.returncode == 2
    assert "not valid TOML" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_manifest_without_workspace_is_a_usage_error(run_checks, tmp_path):
    """A TOML file that is not a pixi manifest: exit 2 and a message saying so."""
    other = tmp_path / "pixi.toml"
    other.write_text('[tool]\nname = "x"\n')
    proc = run_checks("verify", "--quick", "--env", "cpu", "--manifest", str(other))
    assert proc.returncode == 2
    assert "not a pixi workspace manifest" in proc.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="the install record below is for linux-64")
def test_under_pixi_the_installed_platform_is_the_expectation(run_checks, repo_root, tmp_path):
    """pixi records the platform it installed in <prefix>/conda-meta/pixi (subdir and declared virtual packages, no
    name: EnvironmentFile, crates/pixi_core/src/environment/mod.rs@v0.77.0:502-579) and keeps using it; verify
    maps it back to the manifest's platform (cu117 here, whatever this machine's driver), or takes the task's
    `--platform {{ pixi.platform }}`."""
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    record = {
        "manifest_path": str(repo_root / "pixi.toml"),
        "environment_name": "default",
        "pixi_version": "0.77.0",
        "environment_lock_file_hash": "0" * 16,
        "resolved_platform": {
            "subdir": "linux-64",
            "virtual_packages": ["__cuda=11.7", "__unix=0=0", "__linux=4.18", "__glibc=2.28", "__archspec=0=x86_64"],
        },
    }
    (prefix / "conda-meta" / "pixi").write_text(json.dumps(record, indent=2))
    env = {"PIXI_ENVIRONMENT_NAME": "default", "PIXI_PROJECT_MANIFEST": str(repo_root / "pixi.toml")}
    proc = run_checks("verify", "--quick", env=dict(env, CONDA_PREFIX=str(prefix)))
    assert re.search(r"^environment\s*: default on linux-64-cu117 \(installed by pixi\)", proc.stdout, re.M), (
        proc.stdout
    )
    proc = run_checks("verify", "--quick", "--platform", "linux-64-cpu", env=env)
    assert re.search(r"^environment\s*: default on linux-64-cpu \(installed by pixi\)", proc.stdout, re.M), proc.stdout


def test_active_pixi_environment_sets_the_expectation(run_checks, repo_root):
    """Inside pixi (PIXI_ENVIRONMENT_NAME, PIXI_PROJECT_MANIFEST) verify expects that environment."""
    proc = run_checks(
        "verify",
        "--quick",
        env={"PIXI_ENVIRONMENT_NAME": "cpu", "PIXI_PROJECT_MANIFEST": str(repo_root / "pixi.toml")},
    )
    subdir = {"linux": "linux-64", "win32": "win-64"}.get(sys.platform, "osx")
    assert re.search(r"^environment\s*: cpu on %s" % subdir, proc.stdout, re.MULTILINE), proc.stdout
    assert any(line.startswith(("PASS torch", "FAIL torch")) for line in proc.stdout.splitlines())


def test_env_without_a_workspace_is_a_usage_error_naming_where_it_looked(run_checks, tmp_path):
    """--env NAME run where no manifest is found (no pixi.toml above the working directory, no PIXI_PROJECT_MANIFEST):
    exit 2, one line naming the folder and the fix; never the checkout's own pixi.toml (an installed pytorch-env
    has none beside it)."""
    proc = run_checks("verify", "--quick", "--env", "cpu")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--env cpu needs the workspace that defines it" in proc.stderr
    assert str(tmp_path / "cwd") in proc.stderr and "pass --manifest PATH" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and proc.stdout == ""


def manifest_line(proc):
    match = re.search(r"^manifest\s*: (.*)$", proc.stdout, re.M)
    assert match, proc.stdout + proc.stderr
    return match.group(1)


def test_env_finds_the_workspace_above_the_working_directory_and_names_it(run_checks, repo_root, tmp_path):
    """Outside pixi, --env NAME is judged against the manifest pixi would find from the working directory upwards,
    and the header names it."""
    (tmp_path / "pixi.toml").write_text((repo_root / "pixi.toml").read_text(encoding="utf-8"), encoding="utf-8")
    proc = run_checks("verify", "--quick", "--env", "cpu")  # from tmp_path/cwd
    assert manifest_line(proc) == str(tmp_path / "pixi.toml")
    assert re.search(r"^environment\s*: cpu on ", proc.stdout, re.M), proc.stdout


def test_the_active_pixi_environment_is_judged_against_its_own_manifest(run_checks, repo_root, tmp_path):
    """Under pixi, the environment pixi activated (PIXI_ENVIRONMENT_NAME) is judged against the manifest pixi set
    beside it (PIXI_PROJECT_MANIFEST), even from inside another workspace; --env NAME there takes that other
    workspace, the one pixi would locate (a local manifest wins, discovery.rs@v0.77.0:398-437)."""
    (tmp_path / "pixi.toml").write_text(
        '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64", "win-64", "osx-arm64", "osx-64"]\n'
        '[dependencies]\npytorch-cpu = "*"\n',
        encoding="utf-8",
    )
    env = {"PIXI_ENVIRONMENT_NAME": "cpu", "PIXI_PROJECT_MANIFEST": str(repo_root / "pixi.toml")}
    proc = run_checks("verify", "--quick", env=env)
    assert manifest_line(proc) == str(repo_root / "pixi.toml")
    assert re.search(r"^environment\s*: cpu on ", proc.stdout, re.M), proc.stdout
    proc = run_checks("verify", "--quick", "--env", "default", env=env)
    assert manifest_line(proc) == str(tmp_path / "pixi.toml")


@pytest.mark.skipif(torch.__version__.startswith("2.0.1"), reason="needs a torch other than 2.0.1")
def test_wrong_torch_version_for_environment_fails(run_checks):
    """A torch that is not the environment's pin is a FAIL with expected vs actual."""
    proc = run_checks("verify", "--quick", "--env", "cpu", *THIS_MANIFEST)
    assert proc.returncode == 1
    failed = "\n".join(lines(proc.stdout, "FAIL"))
    assert "FAIL torch: wrong torch version for cpu" in failed
    assert "expected: 2.0.1" in proc.stdout and "actual:   %s" % torch.__version__ in proc.stdout


@CUDA_WHEEL
def test_cuda_build_where_cpu_promised_names_the_cause(run_checks):
    """The PyPI 2.0.1 wheel (a CUDA build) in the cpu environment: FAIL naming where it came from."""
    proc = run_checks("verify", "--quick", "--env", "cpu", *THIS_MANIFEST)
    assert proc.returncode == 1
    build = next(line for line in lines(proc.stdout, "FAIL") if line.startswith("FAIL build"))
    assert "CUDA build, but cpu on" in build and "promises CPU" in build
    assert "PyPI's default torch for Linux is a CUDA build" in build
    assert "https://download.pytorch.org/whl/cpu" in build


@pytest.mark.skipif(sys.platform != "linux", reason="the cu118 environment's Linux driver floor")
def test_cuda_environment_without_driver_fails_with_the_driver_needed(run_checks):
    """cu118 on a machine with no NVIDIA driver: the driver check says which driver to install."""
    proc = run_checks(
        "verify", "--quick", "--env", "cu118", *THIS_MANIFEST, env={"PATH": os.path.dirname(sys.executable)}
    )
    if "driver " not in proc.stdout or "PASS driver" in proc.stdout:
        pytest.skip("this machine has an NVIDIA driver")
    assert proc.returncode == 1
    assert "FAIL driver: no NVIDIA driver found; cu118 on linux-64-cu118 needs one" in proc.stdout
    assert "expected: >= 520.61.05" in proc.stdout


def test_missing_torch_is_reported_not_raised(run_checks, bare_python):
    """A Python without torch: FAIL torch with the install fix, torch checks SKIP, exit 2 (no usable torch, as the
    README's exit-code table says), no traceback. Where a `pip` on PATH belongs to a Python that has torch (nox's
    session environment, which nox puts first on PATH), the fix names that Python instead (provenance.elsewhere)."""
    proc = run_checks("verify", "--quick", python=bare_python)
    assert proc.returncode == 2
    assert "FAIL torch: torch is not installed in this Python" in proc.stdout
    fixes = [line for line in proc.stdout.splitlines() if line.startswith("       fix:      run ")]
    assert fixes and fixes[0].startswith(
        (
            "       fix:      run inside the environment that has torch (`pixi run verify`",
            "       fix:      run the program with that environment's Python",
        )
    )
    assert "SKIP kernels: torch did not import" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def site_packages(python):
    """Return the site-packages directory of a virtual environment's interpreter."""
    out = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True
    )
    return Path(out.stdout.strip())


@pytest.mark.parametrize(
    "message, meaning, fix",
    [
        ("libtorch_cpu.so: undefined symbol: iJIT_NotifyEvent", "mkl 2024.1", "mkl<2024.1"),
        (
            "/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.30' not found",
            "libstdc++ the loader takes is older",
            "LD_LIBRARY_PATH",
        ),
        (
            "libcudnn.so.8: cannot open shared object file: No such file or directory",
            "libcudnn.so.8 is in no directory the loader searches",
            "nvidia-cudnn",
        ),
        (
            "DLL load failed while importing _C: The specified module could not be found.",
            "Windows DLL",
            "Visual C++",
        ),
        ("No module named 'sympy'", "sympy is not installed", "python -m pip install sympy"),
    ],
)
def test_torch_import_failure_signatures(run_checks, bare_python, message, meaning, fix):
    """The environment's own torch fails to import with a known text: its cause and fix, no traceback, no
    reinstall (no fact shows the files differ)."""
    fake = site_packages(bare_python) / "torch"
    fake.mkdir()
    error = "ModuleNotFoundError" if message.startswith("No module") else "ImportError"
    (fake / "__init__.py").write_text("raise %s(%r)\n" % (error, message))
    proc = run_checks("verify", "--quick", python=bare_python)
    assert proc.returncode == 2  # no usable torch, as in every command
    failed = "\n".join(lines(proc.stdout, "FAIL"))
    assert "FAIL torch: " in failed and meaning in failed, failed
    assert fix in proc.stdout
    assert "reinstall" not in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


@POSIX
def test_hanging_nvidia_smi_is_bounded(run_checks, tmp_path):
    """An nvidia-smi that hangs: FAIL driver within the timeout, with the Xid/reset fix."""
    start = time.monotonic()
    proc = run_checks("verify", "--quick", "--timeout", "1", env=fakes.nvidia_smi(tmp_path, sleep=60))
    assert time.monotonic() - start < 45
    assert proc.returncode == 1
    assert (
        "FAIL driver: nvidia-smi doesn't answer: the driver or a GPU is hung (nvidia-smi did not answer "
        "within 1 s)" in proc.stdout
    )
    assert "dmesg | grep -i xid" in proc.stdout


@POSIX
@FAKE_DRIVER
@pytest.mark.parametrize("state", ["version-mismatch", "driver-not-loaded"])
def test_header_driver_and_gpu_lines_agree_on_a_broken_driver(run_checks, tmp_path, state):
    """A driver in a failure state: the header says it does not answer, the driver line names the state's cause and
    fix, and no line calls the machine driverless."""
    proc = run_checks(
        "verify", "--quick", "--env", "cu118", *THIS_MANIFEST, env=fakes.nvidia_smi(tmp_path, state=state)
    )
    assert proc.returncode == 1
    header = next(line for line in proc.stdout.splitlines() if line.startswith("driver "))
    assert "not answering" in header, header
    failed = next(line for line in lines(proc.stdout, "FAIL") if line.startswith("FAIL driver"))
    words = "upgraded while the old kernel module" if state == "version-mismatch" else "kernel module is not loaded"
    assert words in failed
    assert "no NVIDIA driver found" not in proc.stdout


@POSIX
@FAKE_DRIVER
@CUDA_WHEEL
def test_hopper_on_the_cu117_build_fails_from_nvidia_smi_alone(run_checks, tmp_path):
    """An H100 seen by nvidia-smi and the cu117 build (sm_37-sm_86): gpu-arch FAILs before any kernel runs and
    names the environment with sm_90 kernels; the probe's `no kernel image` is the gpu line's cause."""
    env = dict(fakes.nvidia_smi(tmp_path, gpus=[fakes.H100]), **fakes.torch_fault(tmp_path, "h100-no-kernel-image"))
    proc = run_checks("verify", "--quick", "--env", "cu117", *THIS_MANIFEST, env=env)
    arch = next(line for line in lines(proc.stdout, "FAIL") if line.startswith("FAIL gpu-arch"))
    assert "no kernels for sm_90 (NVIDIA H100 80GB HBM3) in this CUDA 11.7 build" in arch
    assert "use the cu118 environment (its torch 2.0 CUDA 11.8 builds have sm_90 kernels)" in proc.stdout
    gpu = proc.stdout[proc.stdout.index("FAIL gpu:") :].split("\nSKIP mps")[0]
    assert "FAIL gpu: CUDA cannot run a kernel: this torch build has no kernels for the GPU's architecture" in gpu
    assert "actual:   the GPU probe exited with 1: RuntimeError: CUDA error: no kernel image is available" in gpu
    assert "TORCH_USE_CUDA_DSA" not in proc.stdout and "reinstall the environment" not in gpu


@POSIX
@FAKE_DRIVER
@CUDA_WHEEL
def test_a_470_driver_is_old_not_unhealthy(run_checks, tmp_path):
    """Driver 470, whose nvidia-smi lacks compute_cap: not Xid advice. In the cu118 environment (a platform that
    declares CUDA 11.8, which pixi will not install on a CUDA 11.4 driver) the fix is the driver version; for the
    CUDA 11.7 build itself, generic checks say it runs under minor-version compatibility, which costs nothing here:
    the T4's capability, read from its name (compat.CAPABILITY_BY_NAME: 7.5), has SASS in the build (no PTX JIT)."""
    smi = fakes.nvidia_smi(tmp_path, driver="470.82.01", cuda="11.4", gpus=[fakes.T4])
    proc = run_checks("verify", "--quick", "--env", "cu118", *THIS_MANIFEST, env=dict(smi, CUDA_VISIBLE_DEVICES=""))
    assert re.search(r"^driver\s*: 470.82.01 \(CUDA 11.4\)$", proc.stdout, re.M), proc.stdout
    assert "FAIL driver: driver 470.82.01 supports CUDA 11.4, but linux-64-cu118 declares CUDA 11.8" in proc.stdout
    assert "expected: >= 520.61.05" in proc.stdout
    assert "xid" not in proc.stdout.lower()
    proc = run_checks("verify", "--quick", env=dict(smi, CUDA_VISIBLE_DEVICES=""))
    assert (
        "PASS driver: driver 470.82.01 (supports CUDA 11.4); CUDA 11.7 runs under minor-version compatibility, and "
        "this build has kernels for every GPU here, so it needs no PTX JIT" in proc.stdout
    ), proc.stdout
    assert "PASS gpu-arch: sm_75 covered by sm_75 (compute capability from its product name" in proc.stdout


@POSIX
@FAKE_DRIVER
@CUDA_WHEEL
def test_a_container_without_the_compute_capability_is_named(run_checks, tmp_path, report_schema):
    """nvidia-smi answers, NVIDIA_DRIVER_CAPABILITIES=utility, no libcuda where the loader looks, and torch warns that
    it found no driver (containerd/nerdctl#1023): the gpu line names the capability and the fix adds compute; the
    header shows what is wrong on the access path, the JSON holds its facts."""
    if gpu_access.collect().libcuda:
        pytest.skip("this machine has a libcuda.so.1 where the loader looks")
    out = tmp_path / "verify.json"
    env = dict(fakes.nvidia_smi(tmp_path), **fakes.torch_fault(tmp_path, "no-driver"))
    env.update(NVIDIA_DRIVER_CAPABILITIES="utility", NVIDIA_VISIBLE_DEVICES="all")
    proc = run_checks("verify", "--quick", "--json", str(out), env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"^gpu access\s*: NVIDIA_DRIVER_CAPABILITIES=utility lacks compute", proc.stdout, re.M)
    gpu = proc.stdout[proc.stdout.index("FAIL gpu:") :].split("\nSKIP mps")[0]
    assert "FAIL gpu: the container was started with NVIDIA_DRIVER_CAPABILITIES=utility" in gpu
    assert "NVIDIA_DRIVER_CAPABILITIES=compute,utility" in gpu and "Traceback" not in proc.stdout + proc.stderr
    doc = json.loads(out.read_text())
    assert doc["facts"]["gpu_access"]["capabilities"] == "utility"
    assert result(doc, "gpu")["data"]["fact"].startswith("NVIDIA_DRIVER_CAPABILITIES=utility")
    if report_schema is not None:
        report_schema.validate(doc)


@POSIX
@FAKE_DRIVER
@CPU_WHEEL
def test_cpu_build_with_driver_present_warns(run_checks, tmp_path):
    """A CPU build on a machine whose driver answers (535, CUDA 12.2, an H100): WARN build naming the CUDA build of
    the same torch release this driver runs. torch 2.12-2.14 have CUDA 12.6, 13.0 and 13.2 wheels (RELEASE.md);
    12.6 runs on 535 under minor-version compatibility, 13.x needs R580."""
    proc = run_checks("verify", "--quick", env=fakes.nvidia_smi(tmp_path))
    assert "WARN build: CPU build on a machine with an NVIDIA driver" in proc.stdout
    release = torch.__version__.split("+")[0]
    if tuple(int(p) for p in release.split(".")[:2]) not in ((2, 12), (2, 13), (2, 14)):
        pytest.skip("the CUDA builds asserted here are torch 2.12-2.14's")
    assert "pip install torch==%s+cu126 --index-url https://download.pytorch.org/whl/cu126" % release in proc.stdout
    assert "NVIDIA H100 80GB HBM3 goes unused (driver 535.161.07, CUDA 12.2)" in proc.stdout


@POSIX
@FAKE_DRIVER
@CPU_WHEEL
def test_cpu_build_on_a_driver_too_old_for_every_cuda_build_says_update_the_driver(run_checks, tmp_path):
    """An RTX 5090 (sm_120) on driver 570: torch 2.12-2.14's CUDA 12.6 wheels have no sm_120 kernels (CUDA 12.6
    cannot build them) and their CUDA 13 wheels need R580, so the fix is the driver, or torch 2.11, the newest
    release with a CUDA 12.8 build (RELEASE.md's matrix, compat.WHEEL_CUDA), which driver 570 runs."""
    release = torch.__version__.split("+")[0]
    if tuple(int(p) for p in release.split(".")[:2]) not in ((2, 12), (2, 13), (2, 14)):
        pytest.skip("the CUDA builds asserted here are torch 2.12-2.14's")
    smi = fakes.nvidia_smi(tmp_path, driver="570.86.10", cuda="12.8", gpus=[fakes.RTX_5090])
    proc = run_checks("verify", "--quick", env=smi)
    build = next(line for line in proc.stdout.splitlines() if line.startswith("WARN build"))
    fix = proc.stdout[proc.stdout.index(build) :].split("\n")[3]
    assert "too old for every CUDA build of torch %s" % release in fix
    assert "update the NVIDIA driver to 580 or newer, then install its CUDA 13.0 build" in fix
    assert fix.endswith(
        'or keep driver 570.86.10 and install torch 2.11, whose CUDA 12.8 build it runs: `pip install "torch==2.11.*" '
        "--index-url https://download.pytorch.org/whl/cu128`"
    )


@pytest.mark.skipif(sys.platform != "linux", reason="the cu118 environment's Linux variant")
@pytest.mark.parametrize("flag", [[], ["--no-gpu"]])
def test_conda_override_cuda_is_not_a_gpu(run_checks, flag):
    """CONDA_OVERRIDE_CUDA with no driver: a FAIL naming it as a solver setting; --no-gpu (CI) makes it a SKIP."""
    if nvidia_driver.facts(timeout=30)["present"] or probe.nvidia_hardware():
        pytest.skip("this machine has an NVIDIA GPU or driver")
    proc = run_checks("verify", "--quick", "--env", "cu118", *THIS_MANIFEST, *flag, env={"CONDA_OVERRIDE_CUDA": "11.8"})
    driver_line = next(line for line in proc.stdout.splitlines() if " driver: " in line)
    if flag:
        assert driver_line.startswith("SKIP driver: no NVIDIA driver; --no-gpu")
    else:
        assert driver_line.startswith("FAIL driver: no NVIDIA driver found; cu118 on linux-64-cu118 needs one")
        assert "CONDA_OVERRIDE_CUDA=11.8 only tells the solver" in driver_line and proc.returncode == 1


@POSIX
@pytest.mark.parametrize(
    "fault, line, fix",
    [
        ("omp-at-import", "FAIL torch: two OpenMP runtimes were loaded into one process", "from one source"),
        ("sigill-at-import", "FAIL torch: the CPU lacks an instruction set", "-cpu host"),
    ],
)
def test_a_native_crash_in_import_torch_is_a_diagnosed_fail(run_checks, tmp_path, fault, line, fix):
    """`import torch` that kills the process: the header, a torch FAIL naming the crash and its cause, every
    other line, the summary and the JSON; exit 2 (no usable torch here)."""
    out = tmp_path / "verify.json"
    proc = run_checks("verify", "--quick", "--json", str(out), env=fakes.torch_fault(tmp_path, fault))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert line in proc.stdout and fix in proc.stdout
    assert "actual:   import torch killed by SIG" in proc.stdout
    doc = json.loads(out.read_text())
    assert [r["name"] for r in doc["results"]] == INSTALL + COMPUTE
    assert "Traceback" not in proc.stdout + proc.stderr


@POSIX
@pytest.mark.parametrize(
    "fault, name, how, cause",
    [
        (
            "abort-in-conv",
            "conv",
            "killed by SIGABRT (aborted)",
            "Could not load library libcudnn_cnn_infer.so.8. Error: libcuda.so: cannot open shared object file",
        ),
        ("segv-in-sdpa", "sdpa", "killed by SIGSEGV (segmentation fault)", ""),
    ],
)
def test_a_native_crash_in_a_check_costs_that_check_only(run_checks, tmp_path, fault, name, how, cause):
    """A check whose process dies: FAIL naming the check, the signal and the real error it printed; the checks
    after it still run; summary and JSON are written; exit 1."""
    out = tmp_path / "verify.json"
    proc = run_checks("verify", "--quick", "--json", str(out), env=fakes.torch_fault(tmp_path, fault))
    assert proc.returncode == 1
    failed = lines(proc.stdout, "FAIL")
    assert len(failed) == 1 and failed[0].startswith("FAIL %s: the check's process %s" % (name, how)), failed
    assert cause in failed[0]
    doc = json.loads(out.read_text())
    assert [r["name"] for r in doc["results"]] == INSTALL + COMPUTE
    assert result(doc, "first-step")["status"] == "PASS"


@POSIX
def test_a_hung_check_is_stopped_and_the_rest_run(run_checks, tmp_path):
    """A check that hangs: FAIL after --timeout (plus the grace for its own limits), then the rest run."""
    start = time.monotonic()
    proc = run_checks("verify", "--quick", "--timeout", "2", env=fakes.torch_fault(tmp_path, "hang-in-amp"))
    assert time.monotonic() - start < 60
    assert proc.returncode == 1
    assert "FAIL amp: the check's process did not answer within 12 s" in proc.stdout
    assert "PASS first-step" in proc.stdout


@pytest.mark.parametrize(
    "argv, needle",
    [
        ([], "usage: python -m checks COMMAND"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["verify", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors_exit_2(run_checks, argv, needle):
    """No command, an unknown command, or an unknown option: exit 2 with a usage message."""
    proc = run_checks(*argv)
    assert proc.returncode == 2
    assert needle in proc.stderr


@pytest.mark.slow
def test_full_run_compiles(run_checks, tmp_path):
    """The full run (torch.compile included) passes on this machine's CPU."""
    out_file = tmp_path / "full.json"
    proc = run_checks("verify", "--json", str(out_file))
    doc = json.loads(out_file.read_text())
    compile_result = result(doc, "compile")
    if compile_result["status"] == "SKIP":
        pytest.skip("torch.compile unsupported here: %s" % compile_result["summary"])
    unsupported = toolchain.support_problem(torch)
    if unsupported:  # torch 2.0 on Python 3.11: the one FAIL, naming why
        assert compile_result["status"] == "FAIL" and compile_result["summary"] == unsupported.summary
        assert proc.returncode == 1 and doc["counts"]["FAIL"] == 1, proc.stdout
        return
    assert compile_result["status"] == "PASS", compile_result
    assert proc.returncode == 0, proc.stdout
    assert result(doc, "distributed")["summary"].startswith("gloo (all-reduce ok)")


@pytest.mark.gpu
def test_gpu_checks_pass_on_a_gpu(run_checks):
    """On a CUDA machine every GPU check passes."""
    proc = run_checks("verify", "--quick")
    for name in ("driver", "gpu", "gpu-arch", "cudnn"):
        assert "PASS %s:" % name in proc.stdout, proc.stdout
    assert "cuda ok" in proc.stdout


def test_the_parent_s_project_scans_give_up_after_their_limit(monkeypatch):
    """A scan that does not finish (a hung network mount under the working directory) leaves the scans to the
    worker, whose check runs under --timeout: the parent stops waiting after its limit."""
    import threading
    import time

    from checks.machine import project as project_facts
    from checks.verify import command

    release = threading.Event()
    monkeypatch.setattr(project_facts, "hand_over", lambda ignores: release.wait(30))
    started = time.monotonic()
    assert command._project_scans(limit=0.2) == {}
    assert time.monotonic() - started < 5
    release.set()
    monkeypatch.setattr(project_facts, "hand_over", lambda ignores: None)
    assert command._project_scans(limit=5) == {"project_scans": None, "hub_ids": None}
