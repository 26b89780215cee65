"""lock-audit: a lock that keeps pixi.toml's promises passes; each way of breaking one fails by name."""

import json

import pytest
from lockdata import lock_names

from checks.lock_audit import command as lock_audit
from checks.lock_audit import lock_verdicts
from checks.workspace import lockfile
from checks.workspace import manifest as manifest_module

# Lock platform names: pixi writes each platform with virtual packages as p1, p2, ... (lockdata.lock_names).
V6_MANIFEST = """
[workspace]
name = "v6"
channels = ["conda-forge"]
platforms = ["linux-64", "osx-arm64"]

[feature.cuda]
channels = [{ channel = "nvidia", priority = 1 }, { channel = "pytorch", priority = -1 }]
platforms = ["linux-64"]

[feature.cuda.dependencies]
python = "3.10.*"
pytorch = { version = "2.0.1", channel = "pytorch" }
torchvision = { version = "0.15.2", channel = "pytorch" }
pytorch-cuda = { version = "11.8.*", channel = "pytorch" }

[environments]
cuda = ["cuda"]
"""


@pytest.fixture(scope="module")
def rows(workspace):
    """Return {manifest platform name: lock platform name} for pixi.toml."""
    return lock_names(workspace)


@pytest.fixture
def cu118(rows):
    """Return (environment, lock platform) of cu118 on linux-64-cu118."""
    return "cu118", rows["linux-64-cu118"]


@pytest.fixture
def good(lock_builder, workspace):
    """Return a v7 lock document in which every promise of pixi.toml is kept."""
    return lock_builder.document(workspace)


def audit(lock_builder, doc, manifest_path, tmp_path, capsys):
    """Run lock-audit on a document; return (exit code, JSON report, printed text)."""
    lock = lock_builder.write(doc, tmp_path / "pixi.lock")
    code = lock_audit.main([str(lock), "--manifest", str(manifest_path), "--json", str(tmp_path / "audit.json")])
    return code, json.loads((tmp_path / "audit.json").read_text()), capsys.readouterr().out


def failed(report):
    """Return {result name: result} of the FAIL results."""
    return {r["name"]: r for r in report["results"] if r["status"] == "FAIL"}


def test_a_good_lock_passes_every_environment_and_platform(
    lock_builder, good, workspace, repo_root, tmp_path, capsys, report_schema
):
    """The manifest audit's PASS, then one PASS per environment x platform of pixi.toml under the manifest's platform
    name (the lock's p-alias in brackets), naming the torch build; exit 0; a valid report."""
    code, report, out = audit(lock_builder, good, repo_root / "pixi.toml", tmp_path, capsys)
    pairs = sum(len(workspace.env_platforms(e)) for e in workspace.environments)
    assert code == 0 and report["counts"]["PASS"] == pairs + 1 == len(report["results"])
    assert "PASS cu118-on-linux-64-cu118: pytorch 2.0.1 cuda 11.8 from pytorch, torchvision 0.15.2" in out
    assert "(lock platform p2)" in out and "PASS cpu-on-osx-arm64-macos-12-3: pytorch 2.0.1 cpu from pytorch" in out
    if report_schema is not None:
        report_schema.validate(report)


def test_a_cpu_build_in_a_cuda_environment_fails(lock_builder, good, cu118, repo_root, tmp_path, capsys):
    """The classic failure: the CPU pytorch record locked where CUDA 11.8 is promised."""
    cpu = lock_builder.real("pytorch-2.0.1-py3.10_cpu_0.tar.bz2")
    code, report, out = audit(
        lock_builder, lock_builder.replace(good, *cu118, "pytorch", cpu), repo_root / "pixi.toml", tmp_path, capsys
    )
    result = failed(report)["cu118-on-linux-64-cu118"]
    assert code == 1 and "a cuda build (linux-64-cu118: pytorch-cuda 11.8.*)" in result["expected"]
    assert "pytorch 2.0.1 py3.10_cpu_0 (pytorch)" in result["actual"]
    assert list(failed(report)) == ["cu118-on-linux-64-cu118"]


def test_a_missing_platform_fails(lock_builder, good, rows, repo_root, tmp_path, capsys):
    """A platform of the manifest that the lock lacks is named, with `pixi lock` as the fix."""
    del good["environments"]["default"]["packages"][rows["linux-64-cu117"]]
    code, report, _ = audit(lock_builder, good, repo_root / "pixi.toml", tmp_path, capsys)
    result = failed(report)["default-on-linux-64-cu117"]
    assert code == 1 and result["summary"] == "missing from the lock" and "pixi lock" in result["hint"]


def test_a_wrong_pairing_fails(lock_builder, good, cu118, repo_root, tmp_path, capsys):
    """torchvision 0.15.0 is built for pytorch 2.0.0: its own pin breaks against the locked 2.0.1."""
    vision = lock_builder.real("torchvision-0.15.0-py310_cu118.tar.bz2")
    doc = lock_builder.replace(good, *cu118, "torchvision", vision)
    code, report, _ = audit(lock_builder, doc, repo_root / "pixi.toml", tmp_path, capsys)
    result = failed(report)["cu118-on-linux-64-cu118"]
    assert code == 1 and "pytorch 2.0.0 (its own pin)" in result["expected"]


def test_an_unpinned_pairing_is_judged_by_the_version_rule(lock_builder, good, rows, repo_root, tmp_path, capsys):
    """In `latest` torchvision is `*`: torchvision 0.19 without a pytorch pin beside pytorch 2.9 fails (0.24.*)."""
    vision = lock_builder.made_up("torchvision", "0.19.1", "cpu_py312_h0123456_0", "linux-64")
    doc = lock_builder.replace(good, "latest", rows["linux-64-cpu"], "torchvision", vision)
    code, report, _ = audit(lock_builder, doc, repo_root / "pixi.toml", tmp_path, capsys)
    assert code == 1 and "torchvision 0.24.* for torch 2.9.1" in failed(report)["latest-on-linux-64-cpu"]["expected"]


def test_a_pin_of_the_package_itself_decides_the_pairing(lock_builder, good, rows, repo_root, tmp_path, capsys):
    """A torchvision that pins `pytorch >=2.10,<2.11` (two depends entries) pairs with torch 2.10 whatever the
    minor+15 rule says; against the locked 2.9.1 it fails by its own pin."""
    vision = lock_builder.made_up(
        "torchvision", "0.24.1", "cpu_py312_h7654321_0", "linux-64", depends=["pytorch >=2.10", "pytorch <2.11"]
    )
    doc = lock_builder.replace(good, "latest", rows["linux-64-cpu"], "torchvision", vision)
    code, report, _ = audit(lock_builder, doc, repo_root / "pixi.toml", tmp_path, capsys)
    assert code == 1 and "pytorch >=2.10,<2.11 (its own pin)" in failed(report)["latest-on-linux-64-cpu"]["expected"]


def test_a_cuda_version_other_than_promised_fails(lock_builder, good, cu118, repo_root, tmp_path, capsys):
    """The CUDA 11.7 build (and pytorch-cuda 11.7) in the cu118 environment."""
    doc = lock_builder.replace(
        good, *cu118, "pytorch", lock_builder.real("pytorch-2.0.1-py3.10_cuda11.7_cudnn8.5.0_0.tar.bz2")
    )
    doc = lock_builder.replace(doc, *cu118, "pytorch-cuda", lock_builder.real("pytorch-cuda-11.7-h778d358_5.tar.bz2"))
    code, report, _ = audit(lock_builder, doc, repo_root / "pixi.toml", tmp_path, capsys)
    result = failed(report)["cu118-on-linux-64-cu118"]
    assert code == 1 and "CUDA 11.8.*" in result["expected"] and "pytorch-cuda 11.8.*" in result["expected"]


def test_a_torch_package_from_the_wrong_channel_fails(lock_builder, good, cu118, repo_root, tmp_path, capsys):
    """pytorch must come from the channel pixi.toml pins it to; conda-forge's is a different build."""
    forge = lock_builder.made_up("pytorch", "2.0.1", "cuda118py310h0123456_300", "linux-64")
    doc = lock_builder.replace(good, *cu118, "pytorch", forge)
    code, report, _ = audit(lock_builder, doc, repo_root / "pixi.toml", tmp_path, capsys)
    assert code == 1 and "pytorch from channel pytorch" in failed(report)["cu118-on-linux-64-cu118"]["expected"]


def test_a_broken_runtime_pin_fails(lock_builder, good, cu118, repo_root, tmp_path, capsys):
    """mkl 2024.1 breaks torch 2.0's libtorch_cpu.so; pixi.toml constrains it below."""
    mkl = lock_builder.made_up("mkl", "2024.1.0", "h0123456_0", "linux-64")
    doc = lock_builder.replace(good, *cu118, "mkl", mkl)
    code, report, _ = audit(lock_builder, doc, repo_root / "pixi.toml", tmp_path, capsys)
    assert code == 1 and "mkl <2024.1 (feature torch20)" in failed(report)["cu118-on-linux-64-cu118"]["expected"]


def test_a_stale_lock_fails(lock_builder, good, repo_root, tmp_path, capsys):
    """pixi.toml moved to Python 3.11 and dropped an environment the lock still holds."""
    text = (repo_root / "pixi.toml").read_text().replace('python = "3.10.*"', 'python = "3.11.*"')
    (tmp_path / "pixi.toml").write_text(text)
    good["environments"]["old"] = good["environments"]["cpu"]
    code, report, _ = audit(lock_builder, good, tmp_path / "pixi.toml", tmp_path, capsys)
    fails = failed(report)
    assert code == 1 and "python 3.11.*" in fails["cu118-on-linux-64-cu118"]["expected"]
    assert "old-on-linux-64-cpu" in fails["stale-entries"]["actual"]


def test_a_lock_platform_that_matches_no_manifest_platform_fails(lock_builder, good, rows, repo_root, tmp_path, capsys):
    """The lock was solved for __cuda=12.4 where the manifest declares 12.8: no manifest platform has that
    definition (align_platform_names keeps the row's name, platform_rename.rs@v0.77.0:122-124); exit 1, `pixi lock`."""
    row = next(r for r in good["platforms"] if r["name"] == rows["linux-64-cu128"])
    row["virtual-packages"][0] = "__cuda=12.4"
    code, report, _ = audit(lock_builder, good, repo_root / "pixi.toml", tmp_path, capsys)
    fails = failed(report)
    name = "lock-platform-%s" % rows["linux-64-cu128"]
    assert code == 1 and "matches no platform of the manifest" in fails[name]["summary"]
    assert (
        "pixi lock" in fails[name]["hint"] and "missing from the lock" in fails["latest-on-linux-64-cu128"]["summary"]
    )


def test_a_lock_platform_that_matches_two_is_named(lock_builder, tmp_path, capsys):
    """Two manifest platforms with one definition (pixi does not refuse it when parsing): a lock row of that
    definition is ambiguous, and pixi keeps its name (platform_rename.rs@v0.77.0:125-130)."""
    text = V6_MANIFEST.replace(
        'platforms = ["linux-64", "osx-arm64"]',
        'platforms = [{ name = "a", platform = "linux-64", cuda = "12" }, '
        '{ name = "b", platform = "linux-64", cuda = "12.0" }]',
    ).replace('platforms = ["linux-64"]\n', "")
    (tmp_path / "pixi.toml").write_text(text)
    ws = manifest_module.load(str(tmp_path / "pixi.toml"))
    doc = lock_builder.document(ws)
    code, report, _ = audit(lock_builder, doc, tmp_path / "pixi.toml", tmp_path, capsys)
    assert code == 1 and "matches 2 platforms of the manifest (a, b)" in failed(report)["lock-platform-p1"]["summary"]


def test_lock_format_v6_is_audited_by_subdir(lock_builder, tmp_path, capsys):
    """A v6 lock (pixi 0.39-0.67) keys platforms by subdir; the same checks apply."""
    (tmp_path / "pixi.toml").write_text(V6_MANIFEST)
    ws = manifest_module.load(str(tmp_path / "pixi.toml"))
    doc = lock_builder.document(ws, version=6)
    code, report, out = audit(lock_builder, doc, tmp_path / "pixi.toml", tmp_path, capsys)
    assert code == 0 and "PASS cuda-on-linux-64: pytorch 2.0.1 cuda 11.8 from pytorch" in out
    cpu = lock_builder.real("pytorch-2.0.1-py3.10_cpu_0.tar.bz2")
    code, report, _ = audit(
        lock_builder,
        lock_builder.replace(doc, "cuda", "linux-64", "pytorch", cpu),
        tmp_path / "pixi.toml",
        tmp_path,
        capsys,
    )
    assert code == 1 and list(failed(report)) == ["cuda-on-linux-64"]


def test_a_v6_lock_holds_one_solve_per_subdir(lock_builder, workspace, repo_root, tmp_path, capsys):
    """A v6 lock has one row per subdir; pixi 0.77 reads it for every platform of that subdir
    (resolve_lock_platform_for, satisfiability/platform.rs@v0.77.0:91-107). The audit says so (WARN) and judges
    each platform against that one solve: here the linux-64 row holds the CPU solve (written last), so the CUDA
    variants fail and the CPU one passes."""
    code, report, _ = audit(
        lock_builder, lock_builder.document(workspace, version=6), repo_root / "pixi.toml", tmp_path, capsys
    )
    by_name = {r["name"]: r for r in report["results"]}
    assert code == 1 and by_name["lock-format"]["status"] == "WARN"
    assert "a cuda build" in by_name["default-on-linux-64-cu118"]["expected"]
    assert by_name["default-on-linux-64-cpu"]["status"] == "PASS"


def test_build_flavours_are_read_from_both_channels_naming():
    """Legacy pytorch-channel and conda-forge build strings give the flavour and the CUDA version."""

    def flavour(name, build):
        return lock_verdicts.flavour(
            lockfile.Package("conda", "https://x/c/linux-64/%s-1-%s.conda" % (name, build), {})
        )

    assert flavour("pytorch", "py3.10_cuda11.8_cudnn8.7.0_0") == ("cuda", "11.8")
    assert flavour("pytorch", "cuda128_mkl_py312_h0123456_300") == ("cuda", "12.8")
    assert flavour("pytorch", "cuda112py39h1ecdb5d_304") == ("cuda", "11.2")
    assert flavour("pytorch", "py3.10_cpu_0") == ("cpu", None)
    assert flavour("pytorch", "py3.10_0") == ("cpu", None)
    assert flavour("torchvision", "py310_cu117") == ("cuda", "11.7")
    assert flavour("torchvision", "py310") == (None, None)


def test_cli_errors_exit_2_with_the_fix(run_checks, repo_root, tmp_path):
    """A named lock that does not exist: exit 2, one line naming `pixi lock`; no manifest anywhere: exit 2, pass
    --manifest; never a traceback."""
    proc = run_checks("lock-audit", str(tmp_path / "none.lock"), "--manifest", str(repo_root / "pixi.toml"))
    assert proc.returncode == 2 and "does not exist: run `pixi lock`" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_checks("lock-audit")
    assert (
        proc.returncode == 2
        and proc.stderr.strip()
        == "python -m checks lock-audit: error: no pixi.toml found here or above; pass --manifest PATH"
    )


def test_no_committed_lock_still_audits_the_manifest(run_checks, repo_root, tmp_path):
    """Before any lock exists the manifest audit runs; the missing lock is one FAIL naming `pixi lock` (exit 1),
    even where PyYAML is not installed (the lock's existence is checked first)."""
    (tmp_path / "pixi.toml").write_text((repo_root / "pixi.toml").read_text())
    (tmp_path / "no-yaml").mkdir(exist_ok=True)
    (tmp_path / "no-yaml" / "yaml.py").write_text("raise ImportError('no PyYAML here')\n")
    proc = run_checks(
        "lock-audit", "--manifest", str(tmp_path / "pixi.toml"), env={"PYTHONPATH": str(tmp_path / "no-yaml")}
    )
    assert proc.returncode == 1 and "PASS manifest: pixi 0.77 reads pixi.toml" in proc.stdout
    assert "FAIL lock: no " in proc.stdout and "run `pixi lock` and commit pixi.lock" in proc.stdout
