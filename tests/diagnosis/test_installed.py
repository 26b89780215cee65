"""Tests for checks/diagnosis/installed.py: which copy and interpreter run, a foreign path entry, a shadowed standard
module, a compiled extension missing for this interpreter, unmet requirements and two releases that do not fit. Each
fact is laid out in tmp_path as the real artefact is, and each failure text is the one torch or the loader prints
(sources at each test)."""

import dataclasses
import os
import sys
import sysconfig

import pytest
from diagnosis_facts import facts_for, installed, site

from checks import diagnosis
from checks.machine import interpreter, provenance


def test_a_torch_from_the_user_site_is_the_cause_whatever_it_raises(tmp_path, monkeypatch):
    """pip install --user puts a torch in ~/.local/lib/pythonX.Y/site-packages, imported before the environment's
    (site.ENABLE_USER_SITE); the fix names the copy to remove, not the error's text."""
    prefix, packages = site(tmp_path)
    user = tmp_path / "home" / ".local" / "lib" / "python3.10" / "site-packages"
    (user / "torch").mkdir(parents=True)
    (user / "torch" / "__init__.py").write_text("")
    monkeypatch.setattr(provenance.site, "getusersitepackages", lambda: str(user))
    found = facts_for(monkeypatch, prefix, [user, packages])
    cause = diagnosis.explain("ImportError: libtorch_cpu.so: cannot open shared object file", found)
    assert cause.fact == "torch imported from user site-packages"
    assert "pip uninstall --user torch" in cause.fix and "PYTHONNOUSERSITE" in cause.fix


def test_an_unmet_requirement_is_named_with_the_exact_install(tmp_path, monkeypatch):
    """torch 2.4's Requires-Dist pins `sympy` and a too-old sympy breaks its import with an AttributeError raised in
    sympy's files: the unmet pin, from the metadata, decides."""
    prefix, packages = site(tmp_path, torch_version="2.5.1", requires=["sympy (==1.13.1)"])
    (packages / "sympy").mkdir()
    (packages / "sympy-1.12.dist-info").mkdir()
    found = facts_for(monkeypatch, prefix, [packages])
    text = (
        "Traceback (most recent call last):\n"
        '  File "%s/sympy/core/numbers.py", line 10, in <module>\n'
        "AttributeError: module 'sympy' has no attribute 'printing'\n" % packages
    )
    cause = diagnosis.explain(text, found)
    assert cause.meaning == "an unmet requirement: torch 2.5.1 requires sympy==1.13.1 (pip metadata); installed: 1.12"
    assert cause.fix == 'python -m pip install "sympy==1.13.1"'


def test_a_pre_release_in_torch_s_dependencies(tmp_path, monkeypatch):
    """mpmath 1.4.0a0 beside sympy (sympy/sympy#26273: `module 'mpmath' has no attribute 'rational'`); sympy's own
    pin is met by a pre-release, so the pre-release itself is the fact."""
    prefix, packages = site(tmp_path, requires=["sympy"])
    for name, version, requires in (("sympy", "1.12", ["mpmath (>=0.19)"]), ("mpmath", "1.4.0a0", [])):
        info = packages / ("%s-%s.dist-info" % (name, version))
        info.mkdir()
        lines = "".join("Requires-Dist: %s\n" % r for r in requires)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s\n" % (name, version, lines))
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain("AttributeError: module 'mpmath' has no attribute 'rational'", found)
    assert cause.fact == "mpmath 1.4.0a0 (pre-release)" and cause.fix.startswith('python -m pip install "mpmath<1.4"')


def test_torchaudio_from_another_conda_channel_than_torch(tmp_path, monkeypatch):
    """pytorch/audio#3335: torch from Anaconda's defaults (pkgs/main), torchaudio from the pytorch channel; the
    records are the ones conda writes (channel URL with the subdir)."""
    prefix, packages = site(tmp_path)
    meta = prefix / "conda-meta"
    meta.mkdir()
    (meta / "pytorch-2.0.1-cpu_py310h92724a6_0.json").write_text(
        '{"name": "pytorch", "version": "2.0.1", "channel": "https://repo.anaconda.com/pkgs/main/linux-64"}'
    )
    (meta / "torchaudio-2.0.2-py310_cpu.json").write_text(
        '{"name": "torchaudio", "version": "2.0.2", "channel": "https://conda.anaconda.org/pytorch/linux-64"}'
    )
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    found = facts_for(monkeypatch, prefix, [packages])
    text = (
        "OSError: %s/torchaudio/lib/libtorchaudio.so: undefined symbol: _ZNK5torch8autograd4Node4nameB5cxx11Ev"
        % packages
    )
    cause = diagnosis.explain(text, found)
    assert cause.fact == "torch from pkgs/main, torchaudio from pytorch" and "one channel" in cause.fix


# torch/__init__.py (v2.1 to v2.13) when `torch._C` resolves to the wheel's torch/_C folder of stubs
TORCH_C_FOLDER = (
    "Traceback (most recent call last):\n"
    '  File "<string>", line 1, in <module>\n'
    '  File "%s/torch/__init__.py", line 442, in <module>\n'
    "    raise ImportError(\n"
    "ImportError: \n"
    "Failed to load PyTorch C extensions:\n"
    "    It appears that PyTorch has loaded the `torch/_C` folder\n"
    "    of the PyTorch repository rather than the C extensions which\n"
    "    are expected in the `torch._C` namespace.\n"
)


CP35_WHEEL = (
    "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.29.0)\nRoot-Is-Purelib: false\nTag: cp35-cp35m-linux_x86_64\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux extension's file name")
@pytest.mark.parametrize("text", [TORCH_C_FOLDER, "ModuleNotFoundError: No module named 'torch._C'\n"])
def test_an_extension_built_for_another_python_names_the_wheel_to_install(tmp_path, monkeypatch, text):
    """pytorch/pytorch#574: a cp35 wheel renamed to install on another Python leaves _C.cpython-35m-...so, which
    this interpreter never loads (EXTENSION_SUFFIXES), and a WHEEL Tag for cp35: install the build for this
    Python, at the installed version (torch 0.1.x said "No module named 'torch._C'", 2.x its own text)."""
    prefix, packages = site(tmp_path, torch_version="2.13.0+cpu")
    (packages / "torch" / "_C").mkdir()
    (packages / "torch" / "_C.cpython-35m-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    (packages / "torch-2.13.0+cpu.dist-info" / "WHEEL").write_text(CP35_WHEEL)
    monkeypatch.setattr(sys, "path", [str(packages)])
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain(text.replace("%s", str(packages)), found)
    python = "cp%d%d" % sys.version_info[:2]
    assert cause.rule == "extension"
    assert "_C.cpython-35m-x86_64-linux-gnu.so, built for Python 3.5" in cause.meaning
    assert "WHEEL says cp35-cp35m-linux_x86_64" in cause.meaning
    assert python in cause.fix and "rename" not in cause.fix.replace("never a renamed wheel", "")
    assert cause.fix.endswith(
        '`python -m pip install --force-reinstall --no-deps "torch==2.13.0+cpu" '
        "--index-url https://download.pytorch.org/whl/cpu`"
    )


def test_an_extension_its_record_lists_but_that_is_gone_is_an_incomplete_install(tmp_path, monkeypatch):
    """No _C file at all, though the install's RECORD lists one: the installed files differ from what was
    installed, the one fact that makes reinstalling the fix."""
    prefix, packages = site(tmp_path, torch_version="2.0.1")
    record = packages / "torch-2.0.1.dist-info" / "RECORD"
    record.write_text("torch/__init__.py,,\ntorch/_C.cpython-311-x86_64-linux-gnu.so,sha256=AAAA,38000\n")
    monkeypatch.setattr(sys, "path", [str(packages)])
    cause = diagnosis.explain(
        "ModuleNotFoundError: No module named 'torch._C'", facts_for(monkeypatch, prefix, [packages])
    )
    assert cause.rule == "extension" and "installed incompletely" in cause.meaning
    assert cause.fix == '`python -m pip install --force-reinstall --no-deps "torch==2.0.1"`'


def test_a_source_checkout_without_built_extensions_says_so(tmp_path, monkeypatch):
    """A torch source tree (setup.py beside torch/, no .dist-info) whose extensions were never built, imported as
    the environment's (an editable install that failed to build): build in place, or take it off sys.path."""
    checkout = tmp_path / "pytorch"
    (checkout / "torch" / "_C").mkdir(parents=True)
    (checkout / "torch" / "__init__.py").write_text("")
    (checkout / "setup.py").write_text("from setuptools import setup\n")
    prefix, packages = site(tmp_path)
    monkeypatch.setattr(sys, "path", [str(checkout), str(packages)])
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.by_extension(diagnosis.parse(TORCH_C_FOLDER % checkout), found)
    assert cause is not None and cause.meaning.startswith("%s is a source checkout" % checkout)
    assert "pip install -e ." in cause.fix


def _jinja_and_markupsafe(tmp_path, monkeypatch, declared="MarkupSafe (>=0.23)", markupsafe="2.1.5"):
    """An environment with Jinja2 2.11.3 and a user site with MarkupSafe (pallets/jinja#1658 as
    hiyouga/LlamaFactory#4852 met it); returns (facts, traceback text)."""
    prefix, packages = site(tmp_path, torch_version="2.13.0")
    (packages / "jinja2").mkdir()
    (packages / "jinja2" / "__init__.py").write_text("")
    (packages / "jinja2" / "filters.py").write_text("from markupsafe import soft_unicode\n")
    info = packages / "Jinja2-2.11.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.11.3\nRequires-Dist: %s\n"
        "Requires-Dist: Babel (>=0.8) ; extra == 'i18n'\n\nJinja is a fast templating engine.\n" % declared
    )
    (info / "RECORD").write_text("jinja2/__init__.py,sha256=AAAA,1549\njinja2/filters.py,sha256=AAAA,41415\n")
    user = tmp_path / "home" / ".local" / "lib" / "python3.10" / "site-packages"
    (user / "markupsafe").mkdir(parents=True)
    (user / "markupsafe" / "__init__.py").write_text("")
    info = user / ("MarkupSafe-%s.dist-info" % markupsafe)
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: MarkupSafe\nVersion: %s\n" % markupsafe)
    (info / "RECORD").write_text("markupsafe/__init__.py,sha256=AAAA,10367\n")
    monkeypatch.setattr(provenance.site, "getusersitepackages", lambda: str(user))
    monkeypatch.setattr(sys, "path", [str(user), str(packages)])
    text = (
        "Traceback (most recent call last):\n"
        '  File "/src/checks/verify/install.py", line 190, in check_dependencies\n'
        "    importlib.import_module(module)\n"
        '  File "<frozen importlib._bootstrap>", line 1204, in _gcd_import\n'
        '  File "%s/jinja2/__init__.py", line 12, in <module>\n'
        "    from .filters import FILTERS\n"
        '  File "%s/jinja2/filters.py", line 13, in <module>\n'
        "    from markupsafe import soft_unicode\n"
        "ImportError: cannot import name 'soft_unicode' from 'markupsafe' (%s/markupsafe/__init__.py)\n"
        % (packages, packages, user)
    )
    return facts_for(monkeypatch, prefix, [user, packages]), text


def test_two_installed_packages_whose_apis_do_not_meet_are_both_named(tmp_path, monkeypatch):
    """Jinja2 2.11.3 imports soft_unicode, which MarkupSafe 2.1 removed; Jinja2 declares only MarkupSafe>=0.23, so
    pip is satisfied: the pair, their versions and locations, and the fixes (upgrade the importer, pin the provider
    below the installed release, remove the user-site copy)."""
    pytest.importorskip("packaging")
    found, text = _jinja_and_markupsafe(tmp_path, monkeypatch)
    cause = diagnosis.explain(text, found)
    assert cause.rule == "pair"
    assert "Jinja2 2.11.3" in cause.meaning and "MarkupSafe 2.1.5" in cause.meaning
    assert "MarkupSafe>=0.23 is met" in cause.meaning and "a mixed install" in cause.meaning
    assert "`python -m pip install -U Jinja2`" in cause.fix
    assert '`python -m pip install "MarkupSafe<2.1.5"`' in cause.fix
    assert "pip uninstall --user MarkupSafe" in cause.fix
    assert "reinstall" not in cause.fix


def test_an_importer_s_unmet_requirement_is_named_with_its_install(tmp_path, monkeypatch):
    """The importer declares a MarkupSafe the installed one does not meet: the declared requirement decides."""
    pytest.importorskip("packaging")
    found, text = _jinja_and_markupsafe(tmp_path, monkeypatch, declared="MarkupSafe (<2.1)")
    cause = diagnosis.explain(text, found)
    assert cause.rule == "pair" and cause.meaning.startswith("an unmet requirement: Jinja2 2.11.3")
    assert cause.fix.startswith('python -m pip install "MarkupSafe<2.1"')


@pytest.mark.parametrize(
    "line",
    [
        # Python/ceval.c import_from, a circular import: not two packages' APIs
        "ImportError: cannot import name 'soft_unicode' from partially initialized module 'markupsafe' (most likely "
        "due to a circular import) (%s/markupsafe/__init__.py)",
        # a module no .dist-info installed (a stdlib module, a loose file): nothing to pair
        "AttributeError: module 'dis' has no attribute 'Bytecode'",
    ],
)
def test_what_is_not_two_installed_packages_is_not_judged_as_a_pair(tmp_path, monkeypatch, line):
    found, text = _jinja_and_markupsafe(tmp_path, monkeypatch)
    text = text.rsplit("\n", 2)[0] + "\n" + (line % "/x" if "%s" in line else line) + "\n"
    assert diagnosis.explain(text, found).rule != "pair"


def test_a_missing_pure_python_module_of_a_checkout_is_not_called_an_unbuilt_extension(tmp_path, monkeypatch):
    """`No module named 'torch._six'` (a module a release removed) in a source checkout says nothing about its
    compiled extensions: nothing shows the module is one (no stub, not torch's C-extension message)."""
    checkout = tmp_path / "pytorch"
    (checkout / "torch").mkdir(parents=True)
    (checkout / "torch" / "__init__.py").write_text("")
    (checkout / "setup.py").write_text("from setuptools import setup\n")
    prefix, packages = site(tmp_path)
    monkeypatch.setattr(sys, "path", [str(checkout), str(packages)])
    found = facts_for(monkeypatch, prefix, [packages])
    assert diagnosis.by_extension(diagnosis.parse("ModuleNotFoundError: No module named 'torch._six'"), found) is None


# torchvision/datasets/mnist.py imports lzma (pytorch/vision#2921; lucidrains/imagen-pytorch#92):
LZMA_TRACEBACK = """Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/torchvision/datasets/mnist.py", line 11, in <module>
    import lzma
  File "/home/u/.pyenv/versions/3.11.7/lib/python3.11/lzma.py", line 27, in <module>
    from _lzma import *
ModuleNotFoundError: No module named '_lzma'"""


def test_a_python_built_without_liblzma_is_the_cause_not_a_pip_package(tmp_path, monkeypatch):
    """_lzma is an optional extension of CPython's standard library, absent from this interpreter's lib-dynload:
    the interpreter must be rebuilt with liblzma's headers; no pip install provides it."""
    from checks.machine import interpreter

    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    build = interpreter.InterpreterBuild(
        version="3.11.7", base_prefix="/home/u/.pyenv/versions/3.11.7", origin="pyenv", dynload="/x", missing=("_lzma",)
    )
    cause = diagnosis.explain(LZMA_TRACEBACK, dataclasses.replace(found, interpreter=build))
    assert cause.rule == "stdlib"
    assert "liblzma-dev" in cause.fix and "xz-devel" in cause.fix and "pyenv install --force 3.11.7" in cause.fix
    assert "pip install" not in cause.fix


def test_a_missing_module_the_interpreter_has_is_not_blamed_on_its_build(tmp_path, monkeypatch):
    """The same text where the interpreter has _lzma (e.g. a stdlib shadow broke it): the stdlib rule stays out."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    assert diagnosis.explain(LZMA_TRACEBACK, found).rule != "stdlib"


# numpy/_core/__init__.py (numpy 2.x) when its extension does not import, after CPython's own ModuleNotFoundError
NUMPY_C_EXTENSIONS = (
    "Traceback (most recent call last):\n"
    '  File "%s/numpy/_core/__init__.py", line 23, in <module>\n'
    "    from . import multiarray\n"
    "ModuleNotFoundError: No module named 'numpy._core._multiarray_umath'\n\n"
    "During handling of the above exception, another exception occurred:\n\n"
    "ImportError: \n\nIMPORTANT: PLEASE READ THIS FOR ADVICE ON HOW TO SOLVE THIS ISSUE!\n\n"
    "Importing the numpy C-extensions failed. This error can happen for\nmany reasons, often due to issues with your "
    "setup or how NumPy was\ninstalled.\nThe following compiled module files exist, but seem incompatible\n"
    "with with either python 'cpython-311' or the platform 'linux':\n\n  * _multiarray_umath.x86_64-linux-gnu.so\n"
)


def ros_facts(tmp_path, monkeypatch):
    """ROS 1's setup.bash: PYTHONPATH=/opt/ros/<distro>/lib/python2.7/dist-packages, ROS_DISTRO, CMAKE_PREFIX_PATH;
    its numpy carries Debian's Python 2.7 extension names (`*.x86_64-linux-gnu.so`)."""
    prefix, packages = site(tmp_path)
    ros = tmp_path / "opt" / "ros" / "melodic" / "lib" / "python2.7" / "dist-packages"
    (ros / "numpy" / "_core").mkdir(parents=True)
    (ros / "numpy" / "__init__.py").write_text("")
    (ros / "numpy" / "_core" / "__init__.py").write_text("")
    (ros / "numpy" / "_core" / "_multiarray_umath.x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    (ros / "rospkg").mkdir()
    (ros / "rospkg" / "__init__.py").write_text("")
    environ = {
        "PYTHONPATH": str(ros),
        "ROS_DISTRO": "melodic",
        "CMAKE_PREFIX_PATH": str(tmp_path / "opt" / "ros" / "melodic"),
    }
    monkeypatch.setattr(sys, "path", [str(ros), str(packages)])
    found = facts_for(monkeypatch, prefix, [ros, packages], environ)
    prov = dataclasses.replace(found.provenance, foreign_paths=provenance.foreign_paths(environ, (3, 11)))
    return dataclasses.replace(found, provenance=prov), ros


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux extension's file name")
def test_a_module_from_another_python_s_pythonpath_entry_names_the_entry(tmp_path, monkeypatch):
    """DexaiRobotics/drake-torch#73: sourcing ROS puts python2.7/dist-packages first on PYTHONPATH; the failing
    numpy is that entry's. The extension rule's finding (files for another interpreter) is kept, the entry is why."""
    found, ros = ros_facts(tmp_path, monkeypatch)
    cause = diagnosis.explain(NUMPY_C_EXTENSIONS % ros, found)
    assert cause.rule == "foreign-path"
    assert cause.meaning.startswith("PYTHONPATH holds %s, packages for Python 2.7 (ROS's setup script" % ros)
    assert "numpy is imported from there" in cause.meaning and "built for another interpreter" in cause.meaning
    assert "`unset PYTHONPATH`" in cause.fix and "drop %s from PYTHONPATH after sourcing ROS" % ros in cause.fix
    assert "pip install" not in cause.fix


def test_a_python_2_source_file_on_pythonpath_names_the_entry(tmp_path, monkeypatch):
    """Python 2 syntax in a file from that entry (CPython 3's SyntaxError text for a print statement)."""
    found, ros = ros_facts(tmp_path, monkeypatch)
    text = (
        '  File "%s/rospkg/os_detect.py", line 12\n    print "ok"\n    ^^^^^^^^^^\n'
        "SyntaxError: Missing parentheses in call to 'print'. Did you mean print(...)?" % ros
    )
    cause = diagnosis.explain(text, found)
    assert cause.rule == "foreign-path" and "rospkg is imported from there" in cause.meaning


def test_a_failure_of_a_module_not_on_the_foreign_entry_is_judged_as_before(tmp_path, monkeypatch):
    found, ros = ros_facts(tmp_path, monkeypatch)
    cause = diagnosis.explain("ModuleNotFoundError: No module named 'yaml'", found)
    assert cause.rule != "foreign-path"


def test_a_failure_in_a_package_pinned_to_another_torch_names_the_pin(tmp_path, monkeypatch):
    """xformers 0.0.23 (`Requires-Dist: torch ==2.1.1`, its PyPI wheel) beside torch 2.2.0: its extension fails to
    load with an undefined torch symbol (the warning's format as users post it: `WARNING[XFORMERS]: xFormers can't
    load C++/CUDA extensions. xFormers was built for: PyTorch X with CUDA N (you have Y)`)."""
    from checks.machine import requirements

    prefix, packages = site(tmp_path, torch_version="2.2.0")
    facts = facts_for(monkeypatch, prefix, [packages])
    pin = requirements.Requirement(
        owner="xformers 0.0.23", source=requirements.PIP, name="torch", spec="==2.1.1", installed="2.2.0", met=False
    )
    facts = dataclasses.replace(facts, requirements=dataclasses.replace(facts.requirements, dependents=(pin,)))
    text = (
        "WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n"
        "    PyTorch 2.1.1+cu121 with CUDA 1201 (you have 2.2.0+cu121)\n"
        "ImportError: %s/xformers/_C.so: undefined symbol: _ZN3c104cuda9SetDeviceEi" % packages
    )
    cause = diagnosis.explain(text, facts)
    assert cause.rule == "requirement"
    assert "xformers 0.0.23 requires torch==2.1.1" in cause.meaning
    assert cause.fix.startswith('python -m pip install "xformers" "torch==2.2.0"')


def upgraded_venv(
    tmp_path, monkeypatch, cfg="home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.10.12\n"
):
    """A venv Python 3.10 made, torch in its lib/python3.10/site-packages, now run by Python 3.11.2 (its bin/python a
    link to /usr/bin/python3, which an OS upgrade moved to 3.11: discuss.python.org/t/12588)."""
    prefix, packages = site(tmp_path, name="venv")
    if cfg is not None:
        (prefix / "pyvenv.cfg").write_text(cfg)
    found = facts_for(monkeypatch, prefix, [prefix / "lib" / "python3.11" / "site-packages"])
    return dataclasses.replace(found, python_sites=interpreter.python_sites(str(prefix), (3, 11, 2))), prefix


def test_a_venv_whose_python_was_upgraded_is_re_created(tmp_path, monkeypatch):
    """`No module named 'torch'` while the venv's pyvenv.cfg says 3.10 and torch is in lib/python3.10: the venv
    was made by another Python; re-create it (never PYTHONPATH: its extensions are 3.10's)."""
    found, prefix = upgraded_venv(tmp_path, monkeypatch)
    cause = diagnosis.explain("ModuleNotFoundError: No module named 'torch'", found)
    assert cause.rule == "other-python" and "created with Python 3.10" in cause.meaning and "3.11.2" in cause.meaning
    assert "python3.11 -m venv --clear %s" % prefix in cause.fix and "PYTHONPATH" not in cause.fix
    assert diagnosis.explain("ModuleNotFoundError: No module named 'yaml'", found).rule != "other-python"


def test_a_prefix_with_another_python_s_packages_but_no_venv(tmp_path, monkeypatch):
    """No pyvenv.cfg (a conda or system prefix whose Python changed minor version): torch is named in the other
    Python's site-packages, and installed for this one."""
    found, prefix = upgraded_venv(tmp_path, monkeypatch, cfg=None)
    cause = diagnosis.explain("ModuleNotFoundError: No module named 'torch'", found)
    assert cause.rule == "other-python" and "site-packages of Python 3.10" in cause.meaning
    assert "python3.11 -m pip install torch" in cause.fix


# pip 23.2.1's output (a venv with torch installed, its folder shown as /opt/venv) for `pip wheel --no-deps
# ./needs_torch`, a project whose setup.py is `from setuptools import setup` / `import torch` / `setup(...)`: run on
# this team's machine; flash-attn's reports (Dao-AILab/flash-attention#246 and its duplicates) show the same frames
# under "Collecting flash-attn".
PIP_ISOLATED = """Processing ./needs_torch
  Installing build dependencies: started
  Installing build dependencies: finished with status 'done'
  Getting requirements to build wheel: started
  Getting requirements to build wheel: finished with status 'error'
  error: subprocess-exited-with-error

  × Getting requirements to build wheel did not run successfully.
  │ exit code: 1
  ╰─> [21 lines of output]
      Traceback (most recent call last):
        File "%(hooks)s/_in_process.py", line 353, in <module>
          main()
        File "%(hooks)s/_in_process.py", line 335, in main
          json_out['return_val'] = hook(**hook_input['kwargs'])
        File "%(hooks)s/_in_process.py", line 118, in get_requires_for_build_wheel
          return hook(config_settings)
        File "%(backend)s/build_meta.py", line 333, in get_requires_for_build_wheel
          return self._get_build_requires(config_settings, requirements=[])
        File "%(backend)s/build_meta.py", line 317, in run_setup
          exec(code, locals())  # noqa: S102 # exec is intentional here
        File "<string>", line 2, in <module>
      ModuleNotFoundError: No module named 'torch'
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.
""" % {
    "hooks": "/opt/venv/lib/python3.11/site-packages/pip/_vendor/pyproject_hooks/_in_process",
    "backend": "/tmp/pip-build-env-xrbnlpfu/overlay/lib/python3.11/site-packages/setuptools",
}


def test_a_module_missing_in_an_isolated_build_is_build_isolation(tmp_path, monkeypatch):
    """pip's isolated build environment lacks torch although the environment has it: build without isolation,
    naming the package (pip's `Processing`/`Collecting` line); without torch here, install it first. The same
    `No module named 'torch'` outside a build is judged as before."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain(PIP_ISOLATED, found)
    assert cause.rule == "build-isolation" and "isolated build environment" in cause.meaning
    assert "although this environment has torch" in cause.meaning
    assert "pip install --no-build-isolation needs_torch" in cause.fix and "install torch" not in cause.fix
    text = PIP_ISOLATED.replace(
        "Processing ./needs_torch", "Collecting flash-attn\n  Using cached flash_attn-2.6.3.tar.gz"
    )
    assert 'no-build-isolation = ["flash-attn"]' in diagnosis.explain(text, found).fix
    bare = facts_for(monkeypatch, prefix, [tmp_path / "empty"])
    assert diagnosis.explain(PIP_ISOLATED, bare).fix.startswith("install torch into the environment first")
    assert diagnosis.explain("ModuleNotFoundError: No module named 'torch'", found).rule != "build-isolation"


# uv's report of the same failure (whyNLP/LCKV#17, uv pip install of flash-attn 2.8.1), and pip 20's older form,
# pep517's in_process and the unpacked source folder (imoneoi/openchat#8).
UV_ISOLATED = (
    "  × Failed to build `flash-attn==2.8.1`\n  ├─▶ The build backend returned an error\n  ╰─▶ Call to "
    "`setuptools.build_meta:__legacy__.build_wheel` failed (exit status: 1)\n      ModuleNotFoundError: No module "
    "named 'torch'\n      hint: This error likely indicates that `flash-attn@2.8.1` depends on `torch`, but doesn't "
    "declare it as a build dependency. If `flash-attn` is a first-party package, consider adding `torch` to its "
    "`build-system.requires`. Otherwise, `uv pip install torch` into the environment and re-run with "
    "`--no-build-isolation`.\n"
)
PIP20_ISOLATED = (  # the reporter's home prefix before miniconda3/ cut: a path outside this repository
    "Getting requirements to build wheel ... error\nERROR: Command errored out with exit status 1:\ncommand: "
    "miniconda3/bin/python miniconda3/lib/python3.8/site-packages/pip/_vendor/pep517/in_process/"
    "_in_process.py get_requires_for_build_wheel /tmp/tmpt4c_a3i6\ncwd: "
    "/tmp/pip-install-_op0fkvy/flash-attn_32ecdb534ca149cebac1b8d1956665eb\nComplete output (15 lines):\n"
    'Traceback (most recent call last):\nFile "/tmp/pip-build-env-0d5h4yvd/overlay/lib/python3.8/site-packages/'
    'setuptools/build_meta.py", line 341, in get_requires_for_build_wheel\n'
    "ModuleNotFoundError: No module named 'torch'\n"
)


@pytest.mark.parametrize("text", [UV_ISOLATED, PIP20_ISOLATED])
def test_uv_s_and_older_pip_s_isolated_builds_name_the_package(tmp_path, monkeypatch, text):
    """uv's build backend error and pip 20's form name flash-attn as the package to build without isolation."""
    prefix, packages = site(tmp_path)
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "build-isolation" and "pip install --no-build-isolation flash-attn`" in cause.fix


def test_an_empty_torch_folder_with_no_other_copy_says_to_install_torch(tmp_path, monkeypatch):
    """pytorch/pytorch#29305's kind: torch uninstalled, a `torch/` folder left, imported as a namespace package."""
    prefix = tmp_path / "env"
    packages = prefix / "lib" / "python3.10" / "site-packages"
    (packages / "torch").mkdir(parents=True)
    facts = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain("AttributeError: module 'torch' has no attribute 'cuda'", facts)
    assert cause.rule == "provenance" and "empty directory" in cause.meaning
    assert "install torch into this environment" in cause.fix and str(packages / "torch") in cause.fix


def test_a_source_install_under_a_wheel_is_named_with_both_records(tmp_path, monkeypatch):
    """pytorch/pytorch#10234's kind: `python setup.py install` left torch-1.0.0a0+ab3a2ab-py3.11.egg-info (setuptools'
    record) beside the wheel's dist-info; a library of the source build fails against the wheel's."""
    prefix, packages = site(tmp_path, torch_version="2.13.0+cpu")
    egg = packages / "torch-1.0.0a0+ab3a2ab-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 1.0.0a0+ab3a2ab\n")
    (egg / "installed-files.txt").write_text("../torch/__init__.py\n../torch/lib/libshm.so\n")
    facts = facts_for(monkeypatch, prefix, [packages])
    text = "ImportError: %s/torch/lib/libshm.so: undefined symbol: _ZTI24THRefcountedMapAllocator" % packages
    cause = diagnosis.explain(text, facts)
    assert cause.rule == "layered" and "torch-1.0.0a0+ab3a2ab-py3.11.egg-info" in cause.meaning
    assert "torch-2.13.0+cpu.dist-info" in cause.meaning and "pip uninstall torch` until" in cause.fix
    egg_free = tmp_path / "single"
    prefix, packages = site(egg_free)
    facts = facts_for(monkeypatch, prefix, [packages])
    text = "ImportError: %s/torch/lib/libshm.so: undefined symbol: _ZTI24THRefcountedMapAllocator" % packages
    assert diagnosis.explain(text, facts).rule != "layered"  # one record: not this cause


def test_a_submodule_the_installed_torch_lacks_is_not_a_missing_package(tmp_path, monkeypatch):
    """`No module named 'torch._six'` (torch 2.0 removed torch/_six.py; apex and old deepspeed import it): the
    installed torch has no such file, so code written for another torch release imports it; not "install it"."""
    prefix, packages = site(tmp_path)
    facts = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain("ModuleNotFoundError: No module named 'torch._six'", facts)
    assert cause.rule == "pair" and "has no module torch._six" in cause.meaning
    assert "upgrade the package whose code imports torch._six" in cause.fix
    (packages / "torch" / "_six.py").write_text("")
    assert diagnosis.explain("ModuleNotFoundError: No module named 'torch._six'", facts).rule != "pair"


def test_two_conda_packages_owning_torch_s_files_are_layered_installs(tmp_path, monkeypatch):
    """pytorch/pytorch#13893's kind: conda records pytorch-nightly and pytorch (conda-meta JSON, `files` relative to
    the prefix) both list torch's files in one environment."""
    import json

    prefix, packages = site(tmp_path)
    meta = prefix / "conda-meta"
    meta.mkdir()
    init = "lib/python3.10/site-packages/torch/__init__.py"
    for name, version in (("pytorch-nightly", "1.0.0.dev20181113"), ("pytorch", "0.4.1")):
        record = {"name": name, "version": version, "build": "py3.7_0", "files": [init]}
        (meta / ("%s-%s-py3.7_0.json" % (name, version))).write_text(json.dumps(record))
    facts = facts_for(monkeypatch, prefix, [packages])
    text = "ImportError: %s/torch/lib/libtorch.so.1: undefined symbol: _ZTIN2at10TensorImplE" % packages
    cause = diagnosis.explain(text, facts)
    assert cause.rule == "layered" and "conda package pytorch-nightly 1.0.0.dev20181113" in cause.meaning
    assert "`conda uninstall pytorch pytorch-nightly`" in cause.fix


NUMPY_UNAVAILABLE = (
    "A module that was compiled using NumPy 1.x cannot be run in\nNumPy 2.0.0 as it may crash.\n"
    "UserWarning: Failed to initialize NumPy: _ARRAY_API not found (Triggered internally at "
    "../torch/csrc/utils/tensor_numpy.cpp:84.)\nRuntimeError: Numpy is not available"
)


def test_numpy_2_under_a_torch_built_against_numpy_1_is_named(tmp_path, monkeypatch):
    """pawansharmaaaa/Lip_Wise#20 (torch 2.0/2.1 with numpy 2.0.0): fixed by `pip install "numpy<2"`."""
    prefix, packages = site(tmp_path)
    info = packages / "numpy-2.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: 2.0.0\n")
    cause = diagnosis.explain(NUMPY_UNAVAILABLE, facts_for(monkeypatch, prefix, [packages]))
    assert cause.meaning.startswith("numpy 2.0.0 is NumPy 2, but torch 2.0.1 was built against NumPy 1.x")
    assert cause.fix.startswith('`python -m pip install "numpy<2"`')


def test_numpy_missing_is_named_with_the_release_this_torch_takes(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    cause = diagnosis.explain("RuntimeError: Numpy is not available", facts_for(monkeypatch, prefix, [packages]))
    assert cause.meaning.startswith("numpy is not installed") and '"numpy<2"' in cause.fix


def test_a_numpy_that_fits_decides_nothing(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    info = packages / "numpy-1.26.4.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: 1.26.4\n")
    cause = diagnosis.explain("RuntimeError: Numpy is not available", facts_for(monkeypatch, prefix, [packages]))
    assert "numpy" not in cause.fact


def _torch_in_a_conda_environment(tmp_path, monkeypatch):
    """(the conda environment ~/.conda/environments.txt records, which holds torch 2.0.1; the Facts of a bare Python
    without torch, whose working directory is `tmp_path`)."""
    home = tmp_path / "home"
    other = home / "miniconda3" / "envs" / "ml"
    torch_dir = other / "lib" / "python3.10" / "site-packages" / "torch"
    torch_dir.mkdir(parents=True)
    (torch_dir / "__init__.py").write_text("")
    (torch_dir.parent / "torch-2.0.1.dist-info").mkdir()
    (other / "bin").mkdir()
    (other / "bin" / "python").write_text("")
    (home / ".conda").mkdir()
    (home / ".conda" / "environments.txt").write_text("%s\n" % other)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    prefix = tmp_path / "bare"
    packages = prefix / "lib" / "python3.10" / "site-packages"
    packages.mkdir(parents=True)
    return other, facts_for(monkeypatch, prefix, [packages])


def test_torch_missing_here_but_in_another_conda_environment(tmp_path, monkeypatch):
    """A notebook whose kernel is another Python: `No module named 'torch'` while the conda environment conda
    records in ~/.conda/environments.txt has it."""
    other, found = _torch_in_a_conda_environment(tmp_path, monkeypatch)
    cause = diagnosis.explain("ModuleNotFoundError: No module named 'torch'", found)
    assert cause.rule == "elsewhere"
    assert "but it is in another environment on this machine: %s (conda, torch 2.0.1)" % other in cause.meaning
    assert "`%s -m ...`" % (other / "bin" / "python") in cause.fix and "conda activate ml" in cause.fix


def test_torch_installed_by_a_pip_of_another_python_names_the_pip(tmp_path, monkeypatch):
    """pytorch/pytorch#172808: `pip list` shows torch, `import torch` fails: the environment holding torch is the one
    the pip on PATH installs into, not the one the python on PATH runs; the fix installs with `python -m pip`."""
    import dataclasses

    other, found = _torch_in_a_conda_environment(tmp_path, monkeypatch)
    home, prefix = tmp_path / "home", tmp_path / "bare"
    apart = ("pip", str(home / ".local" / "bin" / "pip"), str(other / "bin" / "python"), str(prefix / "bin" / "python"))
    found = dataclasses.replace(found, provenance=dataclasses.replace(found.provenance, pip_apart=apart))
    cause = diagnosis.explain("ModuleNotFoundError: No module named 'torch'", found)
    assert cause.rule == "elsewhere"
    assert (
        "the environment the `pip` on PATH (%s) installs into, while the `python` on PATH is %s"
        % (
            apart[1],
            apart[3],
        )
        in cause.meaning
    )
    assert cause.fix.startswith("install with the Python you run: `python -m pip install torch`")


def test_torch_missing_everywhere_keeps_the_install_advice(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    monkeypatch.chdir(tmp_path)
    prefix = tmp_path / "bare"
    packages = prefix / "lib" / "python3.10" / "site-packages"
    packages.mkdir(parents=True)
    monkeypatch.setattr(provenance, "_candidate_prefixes", lambda environ, cwd, home: [])
    cause = diagnosis.explain(
        "ModuleNotFoundError: No module named 'torch'", facts_for(monkeypatch, prefix, [packages])
    )
    assert cause.rule != "elsewhere"


def test_a_missing_module_names_its_distribution_and_the_install_command(tmp_path, monkeypatch):
    """conda-forge/pytorch-cpu-feedstock#29: torch imports typing_extensions, which its package did not declare."""
    prefix, packages = site(tmp_path, requires=("filelock",))
    (packages / "filelock-3.12.0.dist-info").mkdir()
    (packages / "filelock-3.12.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: filelock\n")
    text = (
        'Traceback (most recent call last):\n  File "%s/torch/__init__.py", line 12, in <module>\n'
        "    from typing_extensions import ParamSpec\nModuleNotFoundError: No module named 'typing_extensions'"
        % packages
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "missing-module"
    assert cause.meaning.startswith(
        "typing_extensions is not installed: torch imports it; torch 2.0.1's pip metadata does not declare it"
    )
    assert cause.fix == "install it into this environment: `python -m pip install typing_extensions`"
    pil = diagnosis.explain("ModuleNotFoundError: No module named 'PIL'", facts_for(monkeypatch, prefix, [packages]))
    assert "(the Pillow package)" in pil.meaning and "pip install Pillow" in pil.fix


def test_a_package_s_own_folder_on_pythonpath_names_its_parent(tmp_path, monkeypatch):
    """JJGO/shrinkbench#3: the README's `echo "export PYTHONPATH=$PWD:..." >> ~/.bashrc` run inside the
    clone put ~/shrinkbench, the package's own folder (no __init__.py at its top: a namespace package), on
    PYTHONPATH; `from shrinkbench.experiment import PruningExperiment` failed with "No module named 'shrinkbench'".
    The maintainer's fix: the parent folder on PYTHONPATH."""
    prefix, packages = site(tmp_path)
    home = tmp_path / "home"
    clone = home / "shrinkbench"
    (clone / "experiment").mkdir(parents=True)
    (clone / "experiment" / "__init__.py").write_text("")
    (home / ".bashrc").write_text('# ROS\nexport PYTHONPATH="%s:$PYTHONPATH"\n' % clone)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PYTHONPATH", "%s:/opt/ros/melodic/lib/python2.7/dist-packages" % clone)
    monkeypatch.setattr(sys, "path", [str(tmp_path / "work"), str(clone), str(packages)])
    text = (
        'Traceback (most recent call last):\n  File "prune_mnist.py", line 2, in <module>\n'
        "    from shrinkbench.experiment import PruningExperiment\nModuleNotFoundError: No module named 'shrinkbench'"
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "missing-module"
    assert cause.meaning.startswith(
        "%s on sys.path (from PYTHONPATH, set in ~/.bashrc:2) is the shrinkbench package's own folder" % clone
    )
    assert cause.fix.startswith(
        'put the folder above it on PYTHONPATH instead: `export PYTHONPATH="%s:/opt/ros/melodic/lib/python2.7/'
        'dist-packages"`' % home
    )
    monkeypatch.delenv("PYTHONPATH")  # the script's own folder, named like the package: not a path set by hand
    monkeypatch.chdir(clone)
    monkeypatch.setattr(sys, "path", [str(clone), str(packages)] + sys.path)
    assert "own folder" not in diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages])).meaning
    monkeypatch.setenv("PYTHONPATH", str(clone))
    (tmp_path / "work" / "shrinkbench").mkdir(parents=True)  # importable after all: not this rule's case
    assert "own folder" not in diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages])).meaning


# transformer_engine 1.13.0's METADATA (the PyPI wheel's): the core is required, each framework's part is an extra.
TE_REQUIRES = (
    ("Requires-Dist", "transformer_engine_cu12==1.13.0"),
    ("Provides-Extra", "pytorch"),
    ("Requires-Dist", 'transformer_engine_torch==1.13.0; extra == "pytorch"'),
    ("Provides-Extra", "jax"),
    ("Requires-Dist", 'transformer_engine_jax==1.13.0; extra == "jax"'),
)


@pytest.mark.parametrize(
    "text",
    [
        # the reporter's: the attribute the missing part would have set
        'Traceback (most recent call last):\n  File "train.py", line 5, in <module>\n    layer = te.pytorch.Linear('
        "64, 64)\nAttributeError: module 'transformer_engine' has no attribute 'pytorch'",
        # 1.13.0's own loader looking for the extension's shared library it never got
        'Traceback (most recent call last):\n  File "{packages}/transformer_engine/pytorch/__init__.py", line 55, in '
        '_load_library\n    so_path = next(so_dir.glob(f"{{module_name}}.*.{{extension}}"))\nStopIteration',
    ],
)
def test_a_package_installed_without_its_pytorch_extra_names_the_extra(tmp_path, monkeypatch, text):
    """NVIDIA/TransformerEngine#1379: `pip install transformer_engine` installed the meta package and the core, not
    transformer_engine_torch; the maintainer's fix: `pip install transformer_engine[pytorch]`. With the companion
    installed, the rule has nothing to say; the jax extra is never judged."""
    prefix, packages = site(tmp_path)
    files = {"transformer_engine/__init__.py": "", "transformer_engine/pytorch/__init__.py": "import torch\n"}
    installed(packages, "transformer_engine", "1.13.0", files, TE_REQUIRES)
    installed(packages, "transformer_engine_cu12", "1.13.0", {"transformer_engine/common/__init__.py": ""})
    monkeypatch.syspath_prepend(str(packages))
    cause = diagnosis.explain(text.format(packages=packages), facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "framework-extra"
    assert cause.meaning.startswith(
        "transformer_engine 1.13.0 is installed without its PyTorch part: its [pytorch] extra's "
        "transformer_engine_torch is not installed"
    )
    assert cause.fix.endswith('`python -m pip install "transformer_engine[pytorch]==1.13.0"`')
    installed(packages, "transformer_engine_torch", "1.13.0", {"transformer_engine_torch.py": ""})
    again = diagnosis.explain(text.format(packages=packages), facts_for(monkeypatch, prefix, [packages]))
    assert again.rule != "framework-extra"


def test_torch_missing_from_a_python_whose_site_packages_this_user_cannot_write(tmp_path, monkeypatch):
    """pytorch/pytorch#23649: `setup.py install` needed root; `--user` fixed it. The install target's facts (owner,
    mode, writability) decide; as root every folder is writable, so the test gives the facts of a root-owned one."""
    from checks.diagnosis import installed
    from checks.machine import system

    prefix = tmp_path / "usr"
    packages = prefix / "lib" / "python3.11" / "dist-packages"
    packages.mkdir(parents=True)
    found = facts_for(monkeypatch, prefix, [packages])
    monkeypatch.setattr(
        system,
        "path_facts",
        lambda path: system.PathFacts(
            path=path,
            nearest=path,
            read_only=False,
            writable=False,
            owner_uid=0,
            owner="root",
            mode="drwxr-xr-x",
            uid=65534,
        ),
    )
    parts = diagnosis.parse("ModuleNotFoundError: No module named 'torch'")
    cause = installed.by_unwritable_site(parts, found, purelib=str(packages), virtual=False)
    assert "its site-packages (%s, drwxr-xr-x, owner root) is not writable by this user" % packages in cause.meaning
    assert "-m pip install --user torch" in cause.fix and "-m venv" in cause.fix
    assert installed.by_unwritable_site(parts, found, purelib=str(packages), virtual=True) is None


def _import_text(packages, name, version, body):
    """Install package `name` into `packages` as pip lays it out (dist-info with METADATA and RECORD), import it in
    a child Python and return what that printed on stderr: the real text of its failure."""
    import subprocess

    (packages / name).mkdir()
    (packages / name / "__init__.py").write_text(body)
    info = packages / ("%s-%s.dist-info" % (name, version))
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
    (info / "RECORD").write_text("%s/__init__.py,,\n" % name)
    return subprocess.run(
        [sys.executable, "-c", "import %s" % name],
        env={"PYTHONPATH": str(packages), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    ).stderr


@pytest.mark.skipif(sys.version_info < (3, 10), reason="collections' ABC aliases went in Python 3.10")
def test_a_name_the_standard_library_no_longer_has_names_the_package_written_for_an_older_python(tmp_path, monkeypatch):
    """An installed package doing `from collections import Iterable` (removed in Python 3.10, What's New): the text
    is this Python's own, from importing it in a child process."""
    prefix, packages = site(tmp_path)
    text = _import_text(packages, "oldpkg", "1.2", "from collections import Iterable\n")
    assert "cannot import name 'Iterable' from 'collections'" in text
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "pair" and cause.meaning.startswith("oldpkg 1.2 imports 'Iterable' from the standard library")
    assert "python -m pip install -U oldpkg" in cause.fix and "reinstall" not in cause.fix


def test_a_torch_name_a_package_uses_that_this_torch_removed_names_the_package(tmp_path):
    """transformers 4.0's trainer_pt_utils imports SAVE_STATE_WARNING, which torch 1.8 removed (transformers#9060);
    the text is this Python's own, raised by a package laid out as pip installs it, against the installed torch."""
    torch = pytest.importorskip("torch")
    packages = tmp_path / "site"
    packages.mkdir()
    text = _import_text(packages, "oldtrainer", "4.0.1", "from torch.optim.lr_scheduler import SAVE_STATE_WARNING\n")
    assert "cannot import name 'SAVE_STATE_WARNING'" in text
    version = torch.__version__.split("+")[0]
    cause = diagnosis.explain(text, diagnosis.gather())
    assert cause.rule == "pair" and cause.meaning.startswith(
        "torch %s no longer has torch.optim.lr_scheduler.SAVE_STATE_WARNING (removed in torch 1.8)" % version
    )
    assert "python -m pip install -U oldtrainer" in cause.fix


def test_a_torch_name_added_later_or_kept_private_asks_for_a_newer_torch(tmp_path):
    from checks.diagnosis import installed
    from checks.machine import distributions

    entry = tmp_path / "site"
    (entry / "torch" / "distributed" / "_tensor").mkdir(parents=True)
    (entry / "torch" / "distributed" / "_tensor" / "placement_types.py").write_text("")
    (entry / "torch" / "_utils.py").write_text("")  # an unrelated private module beside torch/utils
    (entry / "torch" / "utils").mkdir()
    torch = distributions.Distribution(
        name="torch", version="2.0.1", info=str(entry / "torch-2.0.1.dist-info"), entry=str(entry), origin="environment"
    )
    # compat.TORCH_API: the float8 dtypes came with torch 2.1 (transformers#32185)
    cause = installed._torch_api("transformers", "4.43.1", torch, "torch", "float8_e4m3fn", "")
    assert cause.meaning == (
        "torch 2.0.1 is older than transformers 4.43.1 needs: it has no torch.float8_e4m3fn (added in torch 2.1)"
    )
    assert '`python -m pip install -U "torch>=2.1"`' in cause.fix
    # not rowed, but this torch keeps the module private: a later torch made it public (physicsnemo#815)
    cause = installed._torch_api("physicsnemo", None, torch, "torch.distributed.tensor", "placement_types", "")
    assert "this torch keeps it private, as torch.distributed._tensor" in cause.meaning
    assert cause.fix.startswith("upgrade torch to a newer release")
    # torch._utils is another module than torch.utils: no twin (torchtune#846's return_and_correct_aliasing)
    cause = installed._torch_api("torchtune", "0.1.0", torch, "torch.utils._python_dispatch", "x", "")
    assert "the two releases do not fit" in cause.meaning
    # neither: both ways out
    cause = installed._torch_api("pkg", "1.0", torch, "torch.special", "zeta2", "")
    assert (
        "the two releases do not fit" in cause.meaning and "install the pkg release made for torch 2.0.1" in cause.fix
    )


def test_numpy_2_from_a_pythonpath_folder_hiding_the_environments_numpy_1_names_the_folder(tmp_path, monkeypatch):
    """The same failure (NUMPY_UNAVAILABLE) where the environment's own numpy is 1.26.4 and a PYTHONPATH folder holds
    numpy 2.1.3: `pip install "numpy<2"` would change nothing (it is installed); the folder is the cause."""
    prefix, packages = site(tmp_path)
    extra = tmp_path / "extra"
    for where, version in ((packages, "1.26.4"), (extra, "2.1.3")):
        info = where / ("numpy-%s.dist-info" % version)
        info.mkdir(parents=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: %s\n" % version)
    monkeypatch.setenv("PYTHONPATH", str(extra))
    cause = diagnosis.explain(NUMPY_UNAVAILABLE, facts_for(monkeypatch, prefix, [extra, packages]))
    expected = "numpy 2.1.3, NumPy 2, is imported from %s, ahead of 1.26.4 in %s" % (extra, packages)
    assert cause.meaning.startswith(expected)
    assert cause.fix == "drop %s from PYTHONPATH (its numpy hides the one behind it)" % extra


def test_a_frame_in_a_package_whose_requires_python_excludes_this_python_names_it(tmp_path, monkeypatch):
    """A package declaring `Requires-Python: >=3.10` (core metadata 1.2) that reached a Python 3.8 without pip's
    check (another Python installed it into a shared folder): its `X | None` annotation fails at import with
    CPython 3.8's TypeError. The metadata, not the error's text, decides."""
    prefix, packages = site(tmp_path)
    installed(
        packages,
        "newpkg",
        "2.0",
        {"newpkg/__init__.py": "def f(x: int | None): ...\n"},
        [("Requires-Python", ">=3.10")],
    )
    text = (
        'Traceback (most recent call last):\n  File "train.py", line 2, in <module>\n    import newpkg\n'
        '  File "%s", line 1, in <module>\n    def f(x: int | None): ...\n'
        "TypeError: unsupported operand type(s) for |: 'type' and 'NoneType'" % (packages / "newpkg" / "__init__.py")
    )
    monkeypatch.setattr("platform.python_version", lambda: "3.8.18")
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "requires-python" and "declares Requires-Python >=3.10, and this is Python 3.8.18" in (
        cause.meaning
    )
    assert cause.fix.startswith(
        'install a release of newpkg that supports Python 3.8.18: `python -m pip install "newpkg<2.0"`'
    )
    monkeypatch.setattr("platform.python_version", lambda: "3.11.7")  # a Python it admits: another rule's failure
    assert diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages])).rule != "requires-python"


def test_a_name_the_provider_never_mentions_offers_its_upgrade_first(tmp_path, monkeypatch):
    """huggingface/peft#860: peft 0.5.0 imports is_npu_available from accelerate.utils, which came in accelerate
    0.21; accelerate 0.20.3 never names it (read from its wheel), so upgrading accelerate is offered first. The
    Jinja2/MarkupSafe pair above, whose module keeps no trace of the removed name either, still gets its own fixes."""
    prefix, packages = site(tmp_path)
    for name, version, files in (
        ("peft", "0.5.0", {"peft/__init__.py": "from accelerate.utils import is_npu_available\n"}),
        (
            "accelerate",
            "0.20.3",
            {"accelerate/__init__.py": "", "accelerate/utils/__init__.py": "def is_tpu_available(): pass\n"},
        ),
    ):
        info = packages / ("%s-%s.dist-info" % (name, version))
        info.mkdir()
        (info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: %s\nVersion: %s\nRequires-Dist: accelerate\n" % (name, version)
        )
        (info / "RECORD").write_text("".join("%s,,\n" % f for f in files))
        for rel, body in files.items():
            (packages / rel).parent.mkdir(parents=True, exist_ok=True)
            (packages / rel).write_text(body)
    text = (
        'Traceback (most recent call last):\n  File "train.py", line 1, in <module>\n    import peft\n'
        '  File "%s/peft/__init__.py", line 1, in <module>\n    from accelerate.utils import is_npu_available\n'
        "ImportError: cannot import name 'is_npu_available' from 'accelerate.utils' (%s/accelerate/utils/__init__.py)"
        % (packages, packages)
    )
    monkeypatch.setattr(sys, "path", [str(packages)])
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "pair" and "accelerate's module does not name it anywhere" in cause.meaning
    assert cause.fix.startswith(
        "upgrade accelerate if a later release added is_npu_available (`python -m pip install -U accelerate`)"
    )


def test_an_installed_package_that_is_another_project_of_the_same_name_is_named(tmp_path, monkeypatch):
    """NVIDIA/apex#1063: `pip install apex` installs PyPI's apex 0.9.10.dev0, a Pyramid toolkit (its METADATA's
    Summary and Home-page below); `from apex import amp` then fails inside it. NVIDIA Apex (its setup.py's
    description: "PyTorch Extensions written by NVIDIA") is not judged so."""
    prefix, packages = site(tmp_path)
    info = installed(
        packages,
        "apex",
        "0.9.10.dev0",
        {"apex/__init__.py": "from pyramid.session import UnencryptedCookieSessionFactoryConfig\n"},
        [
            ("Summary", "Pyramid toolkit to add Velruse, Flash Messages,CSRF, ReCaptcha and Sessions"),
            ("Home-page", "http://thesoftwarestudio.com/apex/"),
        ],
    )
    monkeypatch.setattr(sys, "path", [str(packages)])
    text = (
        'Traceback (most recent call last):\n  File "train.py", line 2, in <module>\n    from apex import amp\n'
        '  File "%s/apex/__init__.py", line 1, in <module>\n'
        "ImportError: cannot import name 'UnencryptedCookieSessionFactoryConfig' from 'pyramid.session'" % packages
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "other-project" and "is another project named apex, not NVIDIA Apex" in cause.meaning
    assert cause.fix.startswith("`python -m pip uninstall -y apex`") and "nvidia-apex" in cause.fix
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: apex\nVersion: 0.1\nSummary: PyTorch Extensions written by NVIDIA\n"
    )
    assert diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages])).rule != "other-project"


def _lite_mmcv(tmp_path, monkeypatch, mmdet_requires):
    """A site with mmcv 1.7.2's lite build (pure Python; its RECORD lists no mmcv/_ext*) and mmdet 2.28.2 requiring
    `mmdet_requires`; returns (facts, traceback text)."""
    prefix, packages = site(tmp_path)
    mmcv = ("mmcv/__init__.py", "mmcv/utils/__init__.py", "mmcv/utils/ext_loader.py", "mmcv/ops/__init__.py")
    installed(packages, "mmcv", "1.7.2", dict.fromkeys(mmcv, ""))
    mmdet = ("mmdet/__init__.py", "mmdet/apis/__init__.py", "mmdet/apis/inference.py")
    installed(packages, "mmdet", "2.28.2", dict.fromkeys(mmdet, ""), [("Requires-Dist", r) for r in mmdet_requires])
    monkeypatch.setattr(sys, "path", [str(packages)])
    # open-mmlab/mmdetection#3272's traceback, the frames' folders moved to this site
    text = (
        "Traceback (most recent call last):\n"
        '  File "%(p)s/mmdet/apis/inference.py", line 8, in <module>\n    from mmcv.ops import RoIPool\n'
        '  File "%(p)s/mmcv/ops/__init__.py", line 2, in <module>\n    from .bbox import bbox_overlaps\n'
        '  File "%(p)s/mmcv/utils/ext_loader.py", line 11, in load_ext\n'
        "    ext = importlib.import_module('mmcv.' + name)\n"
        '  File "%(stdlib)s/importlib/__init__.py", line 127, in import_module\n'
        "    return _bootstrap._gcd_import(name[level:], package, level)\n"
        "ModuleNotFoundError: No module named 'mmcv._ext'"
    ) % {"p": packages, "stdlib": sysconfig.get_path("stdlib")}
    return facts_for(monkeypatch, prefix, [packages]), text


def test_a_build_without_the_module_its_own_code_imports_names_the_full_build(tmp_path, monkeypatch):
    """open-mmlab/mmdetection#3272: `pip install mmcv` put the lite mmcv (no compiled ops) under mmdet 2.x, whose
    mmcv/utils/ext_loader.py imports mmcv._ext. mmcv's RECORD lists no such module, and mmdet's metadata asks for
    mmcv-full (`Requires-Dist: mmcv-full (>=1.3.17) ; extra == 'mim'`, from the mmdet 2.28.2 wheel): swap the
    builds. Without such a requirement, the build is still named as made without the module."""
    found, text = _lite_mmcv(tmp_path, monkeypatch, ["mmcv-full (>=1.3.17) ; extra == 'mim'"])
    cause = diagnosis.explain(text, found)
    assert cause.meaning.startswith("mmcv 1.7.2 (environment) has no mmcv._ext, which its own ext_loader.py imports")
    assert "ships no compiled module at all" in cause.meaning and "asks for mmcv-full" in cause.meaning
    assert cause.fix.startswith('`python -m pip uninstall -y mmcv && python -m pip install "mmcv-full>=1.3.17"`')
    found, text = _lite_mmcv(tmp_path / "other", monkeypatch, ["torch-scatter ; extra == 'all'"])
    cause = diagnosis.explain(text, found)
    assert "this build of mmcv was made without it" in cause.meaning and "torch-scatter" not in cause.fix
    assert cause.fix.startswith("install a build of mmcv that includes mmcv._ext")


def _package_at(packages, name, version, classifiers=()):
    """An installed distribution `name` with one module, mod.py, and METADATA listing `classifiers`."""
    headers = [("Classifier", "Programming Language :: Python :: %s" % c) for c in classifiers]
    installed(packages, name, version, {"%s/__init__.py" % name: "", "%s/mod.py" % name: "x = 1\n" * 3}, headers)


def test_a_failure_in_a_package_made_for_older_pythons_names_the_python(tmp_path, monkeypatch):
    """s3prl/s3prl#522: under Python 3.11, s3prl 0.4.13's dataclass with a class-instance default meets 3.11's
    dataclasses ("ValueError: mutable default <class '...EncDecBaseConfig'> for field encoder is not allowed: use
    default_factory"); the maintainer: use Python 3.10. A package whose classifiers list only older Pythons is named
    from its classifiers; one that lists none, from the standard library frame that raised."""
    prefix, packages = site(tmp_path)
    _package_at(packages, "olds", "0.4.13", ["3.7", "3.8", "3.9", "3.10"])
    _package_at(packages, "bare", "0.4.13")
    dataclasses_py = os.path.join(sysconfig.get_path("stdlib"), "dataclasses.py")
    found = facts_for(monkeypatch, prefix, [packages])
    for name in ("olds", "bare"):
        text = (
            'Traceback (most recent call last):\n  File "%s/%s/mod.py", line 2, in <module>\n'
            '  File "%s", line 815, in _get_field\n'
            "ValueError: mutable default <class 'x.EncDecBaseConfig'> for field encoder is not allowed: use "
            "default_factory" % (packages, name, dataclasses_py)
        )
        cause = diagnosis.by_python_classifiers(diagnosis.parse(text), found, running=(3, 11))
        if name == "bare":  # no classifier: an ordinary bug raised in the standard library reads the same
            assert cause is None
            continue
        assert cause.fix.startswith("run it with Python 3.10 (an environment whose python is 3.10), or upgrade olds")
        assert "lists Python 3.7, 3.8, 3.9, 3.10 as the releases it supports" in cause.meaning
        assert diagnosis.by_python_classifiers(diagnosis.parse(text), found, running=(3, 10)) is None


def test_pkg_resources_missing_names_a_setuptools_that_still_ships_it(tmp_path, monkeypatch):
    """Lightning-AI/utilities#195: lightning 2.1 imports pkg_resources in an environment without setuptools (uv,
    PDM). pkg_resources is setuptools', and setuptools 82.0.0 no longer ships it (81.0.0's wheel holds
    pkg_resources/, 82.0.0's does not): the fix is a release below 82."""
    prefix, packages = site(tmp_path)
    monkeypatch.setattr(sys, "path", [str(packages)])
    text = (
        'Traceback (most recent call last):\n  File "%s/lightning_utilities/core/imports.py", line 14, in <module>\n'
        "    import pkg_resources\nModuleNotFoundError: No module named 'pkg_resources'" % packages
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.meaning.startswith("pkg_resources (the setuptools package) is not installed")
    assert "setuptools, which ships it, is not installed (and releases from 82.0 on no longer ship it)" in cause.meaning
    assert cause.fix == 'install a setuptools that still ships pkg_resources: `python -m pip install "setuptools<82"`'
    installed(packages, "setuptools", "82.0.1", {"setuptools/__init__.py": ""})
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert "setuptools 82.0.1 is installed, and setuptools 82.0 stopped shipping pkg_resources" in cause.meaning


def test_a_subpackage_named_like_another_package_is_not_that_package(tmp_path):
    """bitsandbytes-foundation/bitsandbytes#1492: bitsandbytes 0.44.1's bitsandbytes/triton/
    int8_matmul_mixed_dequantize.py imports triton.ops, which triton 3.2+ removed. The frame's file is bitsandbytes'
    (its top-level package folder), not triton's own: the pair of releases is judged, not a triton build."""
    import re

    from checks.diagnosis import installed

    for relative in ("bitsandbytes/__init__.py", "bitsandbytes/triton/__init__.py", "triton/__init__.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    (tmp_path / "bitsandbytes" / "triton" / "int8_matmul_mixed_dequantize.py").write_text("import triton.ops\n")
    (tmp_path / "triton" / "runtime.py").write_text("")
    inside = re.compile(r"[/\\]triton(?:[/\\]|\.py$)")
    assert not installed._in_package(
        str(tmp_path / "bitsandbytes" / "triton" / "int8_matmul_mixed_dequantize.py"), inside
    )
    assert installed._in_package(str(tmp_path / "triton" / "runtime.py"), inside)
    assert installed._in_package("/elsewhere/site-packages/triton/runtime.py", inside)  # not here: by its text


def test_a_name_a_release_never_mentions_offers_the_repository_the_metadata_names(tmp_path):
    """CompVis/stable-diffusion#72: PyPI's only taming-transformers release, 0.0.1, predates the VectorQuantizer2 that
    ldm/models/autoencoder.py imports; its METADATA's Home-page is https://github.com/CompVis/taming-transformers,
    whose master has it (the fix that worked: that code). A distribution naming no repository gets no such line."""
    from checks.diagnosis import installed as rules
    from checks.machine import distributions

    packages = tmp_path / "site"
    packages.mkdir()
    files = {"taming/modules/vqvae/quantize.py": "class VectorQuantizer:\n    pass\n"}
    home = (("Home-page", "https://github.com/CompVis/taming-transformers"),)
    info = installed(packages, "taming_transformers", "0.0.1", files, headers=home)
    dist = distributions.find("taming", path=[str(packages)])
    assert dist is not None and dist.info == str(info)
    source = str(packages / "taming" / "modules" / "vqvae" / "quantize.py")
    cause = rules.release_lacks_name(dist, "taming.modules.vqvae.quantize", "VectorQuantizer2", source, "x.py:5")
    assert 'newer than its last release: `python -m pip install "git+https://github.com/CompVis/taming-' in (cause.fix)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: taming-transformers\nVersion: 0.0.1\n")
    cause = rules.release_lacks_name(dist, "taming.modules.vqvae.quantize", "VectorQuantizer2", source, "x.py:5")
    assert "git+" not in cause.fix


def test_a_name_its_module_made_private_was_removed_so_the_code_is_older(tmp_path):
    """NVIDIA/NeMo#6202: NeMo imports CheckpointConnector from pytorch_lightning.trainer.connectors.
    checkpoint_connector; Lightning 2.0 renamed it _CheckpointConnector. The fix that worked: pytorch-lightning 1.9."""
    from checks.diagnosis import installed as rules
    from checks.machine import distributions

    packages = tmp_path / "site"
    packages.mkdir()
    module = "pllike/trainer/connectors/checkpoint_connector.py"
    installed(
        packages, "pllike", "2.0.0", {"pllike/__init__.py": "", module: "class _CheckpointConnector:\n    pass\n"}
    )
    dist = distributions.find("pllike", path=[str(packages)])
    cause = rules.release_lacks_name(
        dist, "pllike.trainer.connectors.checkpoint_connector", "CheckpointConnector", str(packages / module), "x:1"
    )
    assert "defines _CheckpointConnector (made private), so the code was written for an older pllike" in cause.meaning
    assert '`python -m pip install "pllike<2.0.0"`' in cause.fix


# s3prl/s3prl#522 on Python 3.11 (dataclasses.py _process_class's message)
S3PRL_DEFAULT = (
    "ValueError: mutable default <class 's3prl.upstream.roberta.roberta_model.EncDecBaseConfig'> for field encoder "
    "is not allowed: use default_factory"
)


def test_a_failure_a_change_of_python_makes_is_judged_by_the_running_python(tmp_path, monkeypatch):
    """Python 3.11's dataclasses reject an unhashable object as a default (3.10 rejected list, dict and set only):
    s3prl 0.4.13 fails at import on 3.11, whatever its classifiers say; the fix runs 3.10 or a newer s3prl. 3.12
    removed distutils: setuptools brings a copy. On a Python before the change, or for a list default, the rule
    says nothing."""
    from checks.diagnosis.installed import by_python_change

    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    cause = by_python_change(diagnosis.parse(S3PRL_DEFAULT), found, running=(3, 11))
    assert cause.meaning == (
        "the failing code gives the dataclass field encoder a default that is an object of its class "
        "s3prl.upstream.roberta.roberta_model.EncDecBaseConfig, which is not hashable: Python 3.11 and later reject "
        "such defaults (3.10 rejected only list, dict and set; What's New in Python 3.11, dataclasses): it was "
        "written for Python 3.10 or older, and this is Python 3.11"
    )
    assert cause.fix.startswith("run it with Python 3.10 (an environment whose python is 3.10")
    assert by_python_change(diagnosis.parse(S3PRL_DEFAULT), found, running=(3, 10)) is None
    listed = "ValueError: mutable default <class 'list'> for field layers is not allowed: use default_factory"
    assert by_python_change(diagnosis.parse(listed), found, running=(3, 11)) is None
    distutils = by_python_change(
        diagnosis.parse("ModuleNotFoundError: No module named 'distutils'"), found, running=(3, 12)
    )
    assert "Python 3.12 removed" in distutils.meaning and distutils.fix.startswith("install setuptools")
    assert by_python_change(diagnosis.parse("No module named 'distutils'"), found, running=(3, 11)) is None
