"""Tests for checks/machine/provenance.py: which copy of torch Python imports, read from a sys.path laid out in
tmp_path."""

import sys

import pytest

from checks.machine import provenance


def layout(tmp_path, name, version=None, installer="pip", init=True):
    """Make `tmp_path/name` hold a package `torch` (and its pip dist-info when `version`); return the entry."""
    entry = tmp_path / name
    package = entry / "torch"
    package.mkdir(parents=True)
    if init:
        (package / "__init__.py").write_text("__version__ = %r\n" % (version or "0"))
    if version:
        info = entry / ("torch-%s.dist-info" % version)
        info.mkdir()
        (info / "INSTALLER").write_text(installer + "\n")
    return str(entry)


def test_the_first_copy_on_the_path_is_imported_and_the_rest_are_shadowed(tmp_path, monkeypatch):
    """PYTHONPATH comes before site-packages (docs.python.org/3/library/sys_path_init.html)."""
    env = tmp_path / "env"
    site = layout(env, "site-packages", "2.0.1")
    extra = layout(tmp_path, "extra", "2.1.0")
    monkeypatch.setattr(sys, "prefix", str(env))
    found = provenance.package("torch", [extra, site], str(env), {"PYTHONPATH": extra})
    assert found.imported.entry == extra and found.imported.origin == provenance.PYTHONPATH
    assert found.imported.version == "2.1.0" and found.imported.installer == "pip"
    assert [c.entry for c in found.others] == [site] and found.others[0].origin == provenance.ENVIRONMENT


def test_an_empty_torch_directory_is_seen_as_empty(tmp_path, monkeypatch):
    entry = layout(tmp_path, "here", init=False)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "elsewhere"))
    found = provenance.package("torch", [entry], str(tmp_path / "elsewhere"), {})
    assert found.imported.empty and "an empty directory" in found.imported.describe()


def test_a_regular_package_wins_over_an_earlier_namespace_directory(tmp_path, monkeypatch):
    """PathFinder takes a regular package from any entry before a namespace portion (PEP 420)."""
    empty = layout(tmp_path, "cwd", init=False)
    env = tmp_path / "env"
    site = layout(env, "site-packages", "2.0.1")
    monkeypatch.setattr(sys, "prefix", str(env))
    found = provenance.package("torch", [empty, site], str(env), {})
    assert found.imported.entry == site and [c.entry for c in found.others] == [empty]


def test_pixi_s_environment_is_conda_prefix_and_another_interpreter_is_foreign(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    env = {"CONDA_PREFIX": str(tmp_path / ".pixi" / "envs" / "cu118"), "PIXI_ENVIRONMENT_NAME": "cu118"}
    assert provenance.environment_prefix(env) == (env["CONDA_PREFIX"], True)
    assert provenance.environment_prefix({"CONDA_PREFIX": env["CONDA_PREFIX"]}) == (str(tmp_path / "venv"), False)


def test_a_conda_installed_torch_takes_its_version_from_conda_meta(tmp_path, monkeypatch):
    """conda-meta/pytorch-2.0.1-py3.10_cuda11.8_cudnn8.7.0_0.json, the record conda and pixi write."""
    env = tmp_path / "env"
    site = layout(env, "site-packages")
    (env / "conda-meta").mkdir()
    (env / "conda-meta" / "pytorch-2.0.1-py3.10_cuda11.8_cudnn8.7.0_0.json").write_text(
        '{"name": "pytorch", "version": "2.0.1", "build": "py3.10_cuda11.8_cudnn8.7.0_0"}'
    )
    monkeypatch.setattr(sys, "prefix", str(env))
    found = provenance.package("torch", [site], str(env), {})
    assert found.imported.version == "2.0.1" and found.imported.installer == "conda"


def test_pythonpath_entries_of_another_python_are_named():
    """sysconfig's purelib lib/pythonX.Y/site-packages and Debian's pythonX[.Y]/dist-packages name their Python; ROS
    1's setup.bash puts /opt/ros/<distro>/lib/python2.7/dist-packages on PYTHONPATH and exports ROS_DISTRO."""
    environ = {
        "PYTHONPATH": ":".join(
            [
                "/opt/ros/melodic/lib/python2.7/dist-packages",
                "/usr/lib/python3/dist-packages",
                "/srv/env/lib/python3.11/site-packages",
                "/srv/old/lib/python3.8/site-packages",
                "/home/u/src",
            ]
        ),
        "ROS_DISTRO": "melodic",
    }
    found = provenance.foreign_paths(environ, (3, 11))
    assert found == (
        provenance.ForeignPath("/opt/ros/melodic/lib/python2.7/dist-packages", "2.7", "ROS's setup script"),
        provenance.ForeignPath("/srv/old/lib/python3.8/site-packages", "3.8", None),
    )
    assert provenance.foreign_paths({"PYTHONPATH": "/srv/env/lib/python3.11/site-packages"}, (3, 11)) == ()


def test_torchrun_of_another_python_is_foreign(tmp_path):
    """A console script's `#!` names the Python pip installed it with (an environment module's torchrun on PATH,
    pytorch/pytorch#92132's kind); the same environment's bin/ (or the same file) is not foreign."""
    bin_dir = tmp_path / "modules" / "pytorch" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "torchrun"
    script.write_text("#!/opt/modules/pytorch/1.12.0/bin/python3.9\nimport sys\n")
    script.chmod(0o755)
    found = provenance.launcher("torchrun", {"PATH": str(bin_dir)})
    assert found == provenance.Launcher("torchrun", str(script), "/opt/modules/pytorch/1.12.0/bin/python3.9")
    assert found.foreign(executable="/srv/env/bin/python", prefix="/srv/env", base_prefix="/usr")
    beside = provenance.Launcher("torchrun", "/srv/env/bin/torchrun", "/srv/env/bin/python3.11")
    assert not beside.foreign(executable="/srv/env/bin/python", prefix="/srv/env", base_prefix="/usr")
    (tmp_path / "empty").mkdir()
    assert provenance.launcher("torchrun", {"PATH": str(tmp_path / "empty")}) is None


def test_elsewhere_finds_pixi_environments_and_jupyter_kernels(tmp_path, monkeypatch):
    """pixi keeps a workspace's environments in .pixi/envs/<name>; a Jupyter kernel spec's argv[0] is its Python
    (jupyter_client's kernel.json)."""
    home, project = tmp_path / "home", tmp_path / "project"
    pixi_env = project / ".pixi" / "envs" / "cuda"
    kernel_env = tmp_path / "opt" / "kernel-env"
    for prefix in (pixi_env, kernel_env):
        (prefix / "lib" / "python3.11" / "site-packages" / "torch").mkdir(parents=True)
        (prefix / "lib" / "python3.11" / "site-packages" / "torch" / "__init__.py").write_text("")
        (prefix / "bin").mkdir()
        (prefix / "bin" / "python").write_text("")
    spec = home / ".local" / "share" / "jupyter" / "kernels" / "trainer"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        '{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "language": "python"}'
        % (kernel_env / "bin" / "python")
    )
    found = provenance.elsewhere("torch", environ={"PATH": ""}, cwd=str(project), home=str(home))
    assert [(e.prefix, e.found_by) for e in found] == [
        (str(pixi_env), "pixi"),
        (str(kernel_env), "Jupyter kernel trainer"),
    ]


@pytest.mark.parametrize(
    "script, interpreter",
    [
        ("#!/opt/old/bin/python3.9\nimport sys\n", "/opt/old/bin/python3.9"),
        # pip's form for a path too long for `#!` (pip/_internal/... distlib ScriptMaker): a sh line, then exec
        ("#!/bin/sh\n'''exec' \"/opt/old/bin/python3.9\" \"$0\" \"$@\"\n' '''\nimport sys\n", "/opt/old/bin/python3.9"),
        ('#!/bin/sh\n# a wrapper\nexec /opt/old/bin/python3.9 -m pip "$@"\n', "/opt/old/bin/python3.9"),
    ],
)
def test_a_console_script_on_path_that_runs_another_python(tmp_path, script, interpreter):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pip3").write_text(script)
    (bin_dir / "pip3").chmod(0o755)
    environ = {"PATH": str(bin_dir)}
    assert provenance.launcher("pip3", environ).interpreter == interpreter
    assert provenance.foreign_tools(("pip3", "ipython"), environ) == [("pip3", str(bin_dir / "pip3"), interpreter)]
    (bin_dir / "pip3").write_text("#!%s\nimport sys\n" % sys.executable)  # this Python's own pip
    assert provenance.foreign_tools(("pip3",), environ) == []


def interpreter_at(folder, real=None):
    """A Python at `folder`/bin/python: a link to `real` (an interpreter file of its own when None) whose first bytes
    are an ELF file's, as a real interpreter's are."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True)
    if real is None:
        (bin_dir / "python").write_bytes(b"\x7fELF\x02\x01\x01")
        (bin_dir / "python").chmod(0o755)
    else:
        (bin_dir / "python").symlink_to(real)
    return bin_dir / "python"


def test_a_pip_on_path_that_installs_into_another_python_than_the_python_on_path(tmp_path):
    """pytorch/pytorch#172808: `pip list` shows torch, `import torch` fails: the pip first on PATH (~/.local/bin)
    belongs to one Python, the `python` on PATH (a project venv) is another; both venvs' pythons link to one base
    interpreter, and pyvenv.cfg tells them apart."""
    base = interpreter_at(tmp_path / "base")
    project, other = tmp_path / "proj", tmp_path / "other"
    for venv in (project, other):
        interpreter_at(venv, real=base)
        (venv / "pyvenv.cfg").write_text("home = %s\n" % base.parent)
    local = tmp_path / "home" / ".local" / "bin"
    local.mkdir(parents=True)
    (local / "pip").write_text("#!%s\nimport sys\n" % (other / "bin" / "python"))
    (local / "pip").chmod(0o755)
    environ = {"PATH": "%s:%s" % (local, project / "bin")}
    assert provenance.pip_apart(environ) == ("pip", str(local / "pip"), str(other / "bin" / "python"),
                                             str(project / "bin" / "python"))  # fmt: skip
    (local / "pip").write_text("#!%s\nimport sys\n" % (project / "bin" / "python"))  # the project's own pip
    assert provenance.pip_apart(environ) is None
    (local / "pip").write_text("#!%s\nimport sys\n" % (other / "bin" / "python"))
    (project / "bin" / "python").unlink()
    (project / "bin" / "python").write_text('#!/usr/bin/env bash\nexec pyenv exec python "$@"\n')  # a shim
    (project / "bin" / "python").chmod(0o755)
    assert provenance.pip_apart(environ) is None  # which Python a shim runs is not known without running it


def test_elsewhere_follows_the_pip_on_path_to_its_python(tmp_path):
    """A `pip3` that belongs to another Python installs torch there (pytorch/pytorch#7472's kind)."""
    other = tmp_path / "other"
    (other / "lib" / "python3.11" / "site-packages" / "torch").mkdir(parents=True)
    (other / "lib" / "python3.11" / "site-packages" / "torch" / "__init__.py").write_text("")
    (other / "bin").mkdir()
    (other / "bin" / "pip3").write_text("#!%s\nimport sys\n" % (other / "bin" / "python"))
    (other / "bin" / "pip3").chmod(0o755)
    (tmp_path / "home").mkdir()
    found = provenance.elsewhere(
        "torch", environ={"PATH": str(other / "bin")}, cwd=str(tmp_path), home=str(tmp_path / "home")
    )
    assert [(e.prefix, e.found_by) for e in found] == [(str(other), "the pip3 on PATH, which belongs to that Python")]


def test_a_script_named_torch_py_ahead_of_the_package_is_the_copy_imported(tmp_path):
    """pytorch/pytorch#7575's kind: the user's own torch.py in the folder Python starts from is what `import torch`
    takes (Python's path finder takes a module file where the entry has no package of that name)."""
    work, site = tmp_path / "work", tmp_path / "site"
    work.mkdir()
    (work / "torch.py").write_text("import torch\ntorch.cuda.is_available()\n")
    (site / "torch").mkdir(parents=True)
    (site / "torch" / "__init__.py").write_text("")
    found = provenance.package("torch", [str(work), str(site)], str(tmp_path), {})
    assert found.imported.path == str(work / "torch.py") and [c.path for c in found.others] == [str(site / "torch")]
    assert found.imported.describe().startswith("from the file %s" % (work / "torch.py"))


def test_a_command_two_installed_distributions_declare_names_the_one_its_script_runs(tmp_path):
    """meta-pytorch/torchtune#2001: torchtune declares `tune = torchtune._cli.tune:main`, and Ray (`ray[tune]`)
    declares `tune = ray.tune.cli.scripts:cli`; installed last, Ray's wrote bin/tune, so `tune run` says "No such
    command 'run'". The script is pip's template, which imports its entry point."""
    site, bin_dir = tmp_path / "site", tmp_path / "bin"
    bin_dir.mkdir()
    for project, version, target in (
        ("torchtune", "0.4.0", "torchtune._cli.tune:main"),
        ("ray", "2.39.0", "ray.tune.cli.scripts:cli"),
    ):
        info = site / ("%s-%s.dist-info" % (project, version))
        info.mkdir(parents=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (project, version))
        (info / "entry_points.txt").write_text("[console_scripts]\ntune = %s\n" % target)
    script = bin_dir / "tune"
    script.write_text(
        "#!/usr/bin/python3\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom ray.tune.cli.scripts import cli\n"
        "if __name__ == '__main__':\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        "    sys.exit(cli())\n"
    )
    script.chmod(0o755)
    (found,) = provenance.command_conflicts([str(site)], {"PATH": str(bin_dir)})
    assert (found.command, found.path, found.runs, found.others) == (
        "tune",
        str(script),
        ("ray", "ray.tune.cli.scripts:cli"),
        (("torchtune", "torchtune._cli.tune:main"),),
    )
    assert provenance.command_conflicts([str(site)], {"PATH": str(tmp_path / "nowhere")}) == []
