"""Tests for checks/verify/origin.py (the parent's checks of the facts collected before torch) and the affinity rule
of verify's cpu-backends check."""

import dataclasses
import os
import sys
from types import SimpleNamespace

import pytest

from checks import diagnosis
from checks.machine import provenance, requirements, system
from checks.verify import libs, origin


def facts(tmp_path, monkeypatch, inputs):
    prefix = tmp_path / "env"
    packages = prefix / "lib" / "python3.11" / "site-packages"
    (packages / "torch" / "lib").mkdir(parents=True)
    (packages / "torch" / "__init__.py").write_text("")
    (packages / "torch" / "lib" / "libc10.so").write_bytes(b"own")
    monkeypatch.setattr(sys, "prefix", str(prefix))
    prov = provenance.Provenance(
        interpreter="python",
        prefix=str(prefix),
        environment=str(prefix),
        foreign_interpreter=False,
        packages={n: provenance.package(n, [str(packages)], str(prefix), {}) for n in provenance.PACKAGES},
    )
    return diagnosis.Facts(
        provenance=prov,
        requirements=requirements.Requirements(items=()),
        loader_inputs=inputs,
        system=system.collect(),
    )


def test_no_loader_variables_pass(tmp_path, monkeypatch):
    assert origin.check_loader(facts(tmp_path, monkeypatch, {})).status == "PASS"


def test_a_missing_ld_preload_entry_warns(tmp_path, monkeypatch):
    """ld.so ignores it with `ERROR: ld.so: object '...' from LD_PRELOAD cannot be preloaded` at every start."""
    missing = str(tmp_path / "libtcmalloc.so.4")
    result = origin.check_loader(facts(tmp_path, monkeypatch, {"LD_PRELOAD": missing}))
    assert (
        result.status == "WARN" and missing in result.summary and "remove %s from LD_PRELOAD" % missing in result.hint
    )


def test_a_loader_path_directory_with_the_environment_s_libraries_warns(tmp_path, monkeypatch):
    other = tmp_path / "libtorch" / "lib"
    other.mkdir(parents=True)
    (other / "libc10.so").write_bytes(b"theirs")
    result = origin.check_loader(facts(tmp_path, monkeypatch, {"LD_LIBRARY_PATH": str(other)}))
    assert (
        result.status == "WARN"
        and "libc10.so" in result.summary
        and result.hint == "remove %s from LD_LIBRARY_PATH" % other
    )


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU affinity is Linux's")
def test_importing_torch_that_narrows_the_affinity_names_the_variable(monkeypatch):
    """pytorch/pytorch#49971: with GOMP_CPU_AFFINITY set, libgomp binds the importing thread (and every worker it
    forks) to the list's first CPU."""
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("GOMP_CPU_AFFINITY", "4-15")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {4})
    ctx = SimpleNamespace(torch=torch, cpus_before_torch=12)
    result = libs.check_cpu_backends(ctx)
    assert result.status == "WARN" and "from 12 to 1 CPUs (GOMP_CPU_AFFINITY=4-15)" in result.summary
    assert result.hint.startswith("unset GOMP_CPU_AFFINITY")


def test_another_python_s_pythonpath_entry_warns_in_provenance(tmp_path, monkeypatch):
    """Nothing has failed yet, but whatever Python imports from python2.7/dist-packages comes ahead of its own."""
    found = facts(tmp_path, monkeypatch, {})
    monkeypatch.setattr(shadows_module(), "stdlib_shadows", lambda: [])
    entry = provenance.ForeignPath("/opt/ros/melodic/lib/python2.7/dist-packages", "2.7", "ROS's setup script")
    found = dataclasses.replace(found, provenance=dataclasses.replace(found.provenance, foreign_paths=(entry,)))
    result = origin.check_provenance(found)
    assert result.status == "WARN" and result.actual == entry.entry
    assert "packages for Python 2.7 (put there by ROS's setup script)" in result.summary
    assert result.hint.startswith("drop /opt/ros/melodic/lib/python2.7/dist-packages from PYTHONPATH")
    clean = dataclasses.replace(found, provenance=dataclasses.replace(found.provenance, foreign_paths=()))
    assert origin.check_provenance(clean).status == "PASS"


def shadows_module():
    from checks.machine import shadows

    return shadows


def test_a_loaded_nvidia_library_from_outside_the_environment_fails_naming_the_variable(tmp_path, monkeypatch):
    """/proc/self/maps shows cuBLASLt mapped from a CUDA toolkit on LD_LIBRARY_PATH while the environment has its
    own: the libraries line FAILs with the environment's copy expected and that directory's removal as the fix."""
    from types import SimpleNamespace

    from checks.machine import loader, provenance

    env, other = tmp_path / "env", tmp_path / "cuda-11.2" / "lib64"
    for d in (env / "lib", other):
        d.mkdir(parents=True)
        (d / "libcublasLt.so.11").write_bytes(b"a copy in %s" % str(d).encode())
    maps = tmp_path / "maps"
    maps.write_text("7f1c2b000000-7f1c2b200000 r-xp 00000000 08:01 1235 %s/libcublasLt.so.11\n" % other)
    real_loaded = loader.loaded
    monkeypatch.setattr(loader, "loaded", lambda environment, torch_dir: real_loaded(environment, torch_dir, str(maps)))
    monkeypatch.setattr(provenance, "environment_prefix", lambda: (str(env), False))
    monkeypatch.setenv("LD_LIBRARY_PATH", str(other))
    torch = SimpleNamespace(version=SimpleNamespace(cuda="11.7"), __file__=str(env / "site-packages/torch/__init__.py"))
    result = libs.check_libraries(SimpleNamespace(torch=torch))
    assert result.status == "FAIL" and result.expected == str(env / "lib" / "libcublasLt.so.11"), result
    assert result.hint.startswith("remove %s from LD_LIBRARY_PATH" % other)
    assert result.data["fact"] == "libcublasLt.so.11 via LD_LIBRARY_PATH"


def test_a_rejected_openmp_value_warns_and_an_unknown_cuda_arch_fails(tmp_path, monkeypatch):
    from checks.machine import variables

    base = facts(tmp_path, monkeypatch, {})
    assert origin.check_variables(base).status == "PASS"
    torch_dir = tmp_path / "env" / "lib" / "python3.11" / "site-packages" / "torch"
    (torch_dir / "utils").mkdir()
    (torch_dir / "version.py").write_text("__version__ = '2.0.1+cu117'\ncuda = '11.7'\n")
    (torch_dir / "utils" / "cpp_extension.py").write_text(
        "def _get_cuda_arch_flags(cflags=None):\n    supported_arches = ['8.0', '8.6', '9.0']\n"
    )
    omp = {"OMP_NUM_THREADS": "all"}
    warned = origin.check_variables(dataclasses.replace(base, settings=variables.collect(omp, str(torch_dir))))
    assert warned.status == "WARN" and warned.actual == "OMP_NUM_THREADS=all" and "'all': not valid" in warned.summary
    assert "export OMP_NUM_THREADS=4" in warned.hint
    both = dict(omp, TORCH_CUDA_ARCH_LIST="8.6;12.0+PTX")
    failed = origin.check_variables(
        dataclasses.replace(base, settings=variables.collect(both, str(torch_dir), "2.0.1"))
    )
    assert failed.status == "FAIL" and failed.summary.startswith("TORCH_CUDA_ARCH_LIST='8.6;12.0+PTX': names 12.0+PTX")
    assert "(also: OMP_NUM_THREADS)" in failed.summary and "export OMP_NUM_THREADS=4" in failed.hint


def unrecorded_facts(tmp_path, monkeypatch, record):
    """A torch folder whose site-packages holds `record` (a dist-info name) or no install record at all."""
    found = facts(tmp_path, monkeypatch, {})
    packages = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    (packages / "torch" / "version.py").write_text("__version__ = '2.0.1'\ncuda = '11.7'\n")
    if record:
        (packages / record).mkdir()
        (packages / record / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.0.1\n")
    prov = dataclasses.replace(
        found.provenance,
        packages={n: provenance.package(n, [str(packages)], str(tmp_path / "env"), {}) for n in provenance.PACKAGES},
    )
    return dataclasses.replace(found, provenance=prov, requirements=requirements.collect(prov, path=[str(packages)]))


def test_torch_without_an_install_record_pip_reads_warns_with_no_deps(tmp_path, monkeypatch):
    """pytorch/pytorch#566: with torch installed outside pip (conda, a source build), `pip install torchvision` tried
    to install torch from PyPI ("PyTorch does not currently provide packages for PyPI"); the fix that worked was
    `pip install --no-deps torchvision`. pip reads installed distributions from dist-info and egg-info only."""
    result = origin.check_requirements(unrecorded_facts(tmp_path, monkeypatch, None))
    assert result.status == "WARN"
    assert (
        "torch 2.0.1 in %s is installed without metadata pip can read"
        % (tmp_path / "env" / "lib" / "python3.11" / "site-packages")
        in result.summary
    )
    assert "`python -m pip install --no-deps NAME`" in result.hint
    assert result.data["unrecorded"] == {
        "torch": str(tmp_path / "env" / "lib" / "python3.11" / "site-packages" / "torch")
    }


def test_torch_with_its_dist_info_is_recorded(tmp_path, monkeypatch):
    found = unrecorded_facts(tmp_path, monkeypatch, "torch-2.0.1.dist-info")
    assert found.requirements.unrecorded == {}
    assert origin.check_requirements(found).status != "WARN"


def test_integrations_list_the_optional_packages_torch_s_features_import(tmp_path, monkeypatch):
    """pytorch/tutorials#2646: torch.onnx.export failed for want of onnx, which torch does not require."""
    found = facts(tmp_path, monkeypatch, {})
    result = origin.check_integrations(found, find_spec=lambda name: None)
    assert result.status == "SKIP"
    assert "onnx is not installed (torch.onnx.export needs it: `python -m pip install onnx`)" in result.summary
    present = origin.check_integrations(found, find_spec=lambda name: object())
    assert present.status == "PASS" and "onnx" in present.summary


def test_an_ipython_on_path_that_runs_another_python_warns_in_provenance(tmp_path, monkeypatch):
    """pytorch/pytorch#1621's kind: `ipython` left from an old Anaconda 2 runs that interpreter, not this one."""
    found = facts(tmp_path, monkeypatch, {})
    monkeypatch.setattr(shadows_module(), "stdlib_shadows", lambda: [])
    tool = ("ipython", "/opt/anaconda2/bin/ipython", "/opt/anaconda2/bin/python")
    pip = ("pip3", "/opt/anaconda2/bin/pip3", "/opt/anaconda2/bin/python")  # said where torch is missing, not here
    found = dataclasses.replace(found, provenance=dataclasses.replace(found.provenance, foreign_tools=(pip, tool)))
    result = origin.check_provenance(found)
    assert result.status == "WARN" and result.summary.startswith(
        "the ipython on PATH (/opt/anaconda2/bin/ipython) runs /opt/anaconda2/bin/python, another Python"
    )
    assert "python -m pip install ipython" in result.hint and "python -m IPython" in result.hint
    only_pip = dataclasses.replace(found, provenance=dataclasses.replace(found.provenance, foreign_tools=(pip,)))
    assert origin.check_provenance(only_pip).status == "PASS"
    # pytorch/pytorch#13536: a base environment's jupyter as well: each is named, not only the first
    notebook = ("jupyter", "/opt/conda/bin/jupyter", "/opt/conda/bin/python")
    both = dataclasses.replace(found, provenance=dataclasses.replace(found.provenance, foreign_tools=(tool, notebook)))
    result = origin.check_provenance(both)
    assert "; the jupyter on PATH (/opt/conda/bin/jupyter) runs /opt/conda/bin/python, another Python" in (
        result.summary
    )
    assert "started with `ipython` or `jupyter`" in result.summary and "python -m jupyter" in result.hint


def test_a_pip_and_a_python_on_path_of_two_environments_warn_in_provenance(tmp_path, monkeypatch):
    """pytorch/pytorch#172808: the pip on PATH installs into another Python than the python on PATH runs."""
    found = facts(tmp_path, monkeypatch, {})
    monkeypatch.setattr(shadows_module(), "stdlib_shadows", lambda: [])
    apart = ("pip", "/home/u/.local/bin/pip", "/usr/bin/python3", "/home/u/.venvs/proj/bin/python")
    assert origin.check_provenance(found).status == "PASS"
    found = dataclasses.replace(found, provenance=dataclasses.replace(found.provenance, pip_apart=apart))
    result = origin.check_provenance(found)
    assert result.status == "WARN" and result.summary.startswith(
        "the `pip` on PATH (/home/u/.local/bin/pip) installs into /usr/bin/python3, while the `python` on PATH is "
        "/home/u/.venvs/proj/bin/python"
    )
    assert "`python -m pip install PACKAGE`" in result.hint


def test_an_unmet_requirement_only_a_dependency_declares_warns_and_torch_s_own_fails(tmp_path, monkeypatch):
    """nvidia-cuda-runtime-cu11 11.7.99 declares setuptools and wheel, and wheel 0.48 packaging>=24.0: torch never
    imports them, so that chain unmet is a WARN; torch's own typing-extensions unmet is a FAIL, named first."""
    found = facts(tmp_path, monkeypatch, {})
    deep = requirements.Requirement("wheel 0.48.0", requirements.PIP, "packaging", ">=24.0", "23.0", False)
    own = requirements.Requirement("torch 2.13.0", requirements.PIP, "typing-extensions", ">=4.10.0", "4.4.0", False)
    found = dataclasses.replace(found, requirements=requirements.Requirements(items=(deep,)))
    result = origin.check_requirements(found)
    assert result.status == "WARN" and result.summary.startswith("unmet: wheel 0.48.0 requires packaging>=24.0")
    found = dataclasses.replace(found, requirements=requirements.Requirements(items=(deep, own)))
    result = origin.check_requirements(found)
    assert result.status == "FAIL" and result.summary.startswith("unmet: torch 2.13.0 requires typing-extensions")


def test_a_command_another_package_overwrote_warns_in_provenance(tmp_path, monkeypatch):
    """meta-pytorch/torchtune#2001: bin/tune runs Ray's entry point while torchtune declares `tune` too: the fix
    that worked was a clean environment or reinstalling torchtune."""
    found = facts(tmp_path, monkeypatch, {})
    conflict = provenance.CommandConflict(
        command="tune",
        path="/env/bin/tune",
        runs=("ray", "ray.tune.cli.scripts:cli"),
        others=(("torchtune", "torchtune._cli.tune:main"),),
    )
    found = dataclasses.replace(found, provenance=dataclasses.replace(found.provenance, command_conflicts=(conflict,)))
    result = origin.check_provenance(found)
    assert result.status == "WARN" and result.summary.startswith(
        "the `tune` command on PATH (/env/bin/tune) runs ray's entry point (ray.tune.cli.scripts:cli); torchtune's "
        "(torchtune._cli.tune:main) also declares a `tune` command"
    )
    assert "`python -m pip install --force-reinstall --no-deps torchtune`" in result.hint
