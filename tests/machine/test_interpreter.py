"""checks/machine/interpreter.py: which optional standard-library extension modules this interpreter has, read from
a lib-dynload directory shaped like CPython's (`<module>.cpython-311-x86_64-linux-gnu.so`)."""

from checks.machine import interpreter

TAG = ".cpython-311-x86_64-linux-gnu.so"


def dynload(tmp_path, modules):
    folder = tmp_path / "lib" / "python3.11" / "lib-dynload"
    folder.mkdir(parents=True)
    for module in modules:
        (folder / (module + TAG)).write_bytes(b"\x7fELF")
    return folder


def test_an_extension_module_without_its_file_is_missing(tmp_path):
    """A build without liblzma's headers installs every optional module but _lzma (CPython's "The necessary bits to
    build these optional modules were not found: _lzma")."""
    others = [m for m in interpreter.OPTIONAL_EXTENSIONS if m != "_lzma"]
    folder = dynload(tmp_path, others)
    build = interpreter.collect(path=[str(tmp_path), str(folder)], builtin=())
    assert build.missing == ("_lzma",)
    assert build.dynload == str(folder)


def test_a_module_built_into_the_interpreter_is_not_missing(tmp_path):
    """Some builds link zlib or readline into the interpreter (sys.builtin_module_names), with no file for them."""
    folder = dynload(tmp_path, [m for m in interpreter.OPTIONAL_EXTENSIONS if m not in ("zlib", "_lzma")])
    build = interpreter.collect(path=[str(folder)], builtin=("zlib",))
    assert build.missing == ("_lzma",)


def test_without_a_lib_dynload_directory_nothing_is_called_missing(tmp_path):
    assert interpreter.collect(path=[str(tmp_path)], builtin=()).missing == ()


def test_a_pyenv_interpreter_is_rebuilt_by_pyenv():
    build = interpreter.InterpreterBuild(version="3.11.7", base_prefix="/home/u/.pyenv/versions/3.11.7", origin="pyenv")
    assert build.rebuild_command() == "pyenv install --force 3.11.7"
    assert interpreter._origin("/home/u/.pyenv/versions/3.10.4") == "pyenv"
    assert interpreter._origin("/usr") == "system"


# pyvenv.cfg as CPython's venv writes it (Lib/venv/__init__.py, 3.10: home, include-system-site-packages, version),
# and as uv writes it (`version_info`, as virtualenv does).
PYVENV_310 = "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.10.12\n"
PYVENV_UV = "home = /opt/python/bin\nimplementation = CPython\nuv = 0.4.18\nversion_info = 3.10.15\n"


def test_a_venv_made_by_another_python_is_read_from_its_pyvenv_cfg(tmp_path):
    """A venv that Python 3.10 made (its packages in lib/python3.10/site-packages) run by 3.11: the version that
    created it, its home, and the other Python's site-packages; an empty lib/python3.9 is no site-packages."""
    venv = tmp_path / "venv"
    (venv / "lib" / "python3.10" / "site-packages").mkdir(parents=True)
    (venv / "lib" / "python3.9").mkdir()
    (venv / "pyvenv.cfg").write_text(PYVENV_310)
    sites = interpreter.python_sites(str(venv), (3, 11, 2))
    assert (sites.created_with, sites.home, sites.running) == ("3.10.12", "/usr/bin", "3.11.2")
    assert sites.created_minor() == "3.10" and sites.config == str(venv / "pyvenv.cfg")
    assert sites.other_sites == (("3.10", str(venv / "lib" / "python3.10" / "site-packages")),)
    assert interpreter.python_sites(str(venv), (3, 10, 12)).other_sites == ()
    (venv / "pyvenv.cfg").write_text(PYVENV_UV)
    assert interpreter.python_sites(str(venv), (3, 11, 2)).created_with == "3.10.15"


def test_a_venv_this_python_made_has_no_other_python(tmp_path):
    """A real venv made by this interpreter (venv.create): its pyvenv.cfg names this version, no other site."""
    import sys
    import venv

    venv.create(str(tmp_path / "v"), with_pip=False)
    sites = interpreter.python_sites(str(tmp_path / "v"))
    assert sites.created_minor() == "%d.%d" % sys.version_info[:2] and sites.other_sites == ()
    assert interpreter.python_sites(str(tmp_path / "none")).config is None


def test_an_externally_managed_python_outside_a_venv_is_named_and_its_pip_fixes_say_where_they_work(tmp_path):
    """PEP 668: an EXTERNALLY-MANAGED file in the stdlib directory (Debian 12's python3.11 ships one) makes pip refuse
    installs ("error: externally-managed-environment") unless in a virtual environment, where the marker is ignored."""
    (tmp_path / "EXTERNALLY-MANAGED").write_text("[externally-managed]\nError=To install Python packages ...\n")
    marker = interpreter.externally_managed(stdlib=str(tmp_path), virtual=False)
    assert marker == str(tmp_path / "EXTERNALLY-MANAGED")
    assert interpreter.externally_managed(stdlib=str(tmp_path), virtual=True) is None
    assert interpreter.externally_managed(stdlib=str(tmp_path / "none"), virtual=False) is None
    hint = 'python -m pip install "numpy<2"'
    noted = interpreter.pip_blocked_note(hint, marker)
    assert noted.startswith(hint + " -- this Python is externally managed (%s, PEP 668)" % marker)
    assert "python3 -m venv" in noted
    assert interpreter.pip_blocked_note(hint, None) == hint
    assert interpreter.pip_blocked_note("conda install numpy", marker) == "conda install numpy"


def test_verify_adds_the_note_to_its_fixes_on_an_externally_managed_python(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from checks.report import PASS, WARN, Result
    from checks.verify import command, origin

    monkeypatch.setattr(origin, "PARENT_CHECKS", [])
    facts = SimpleNamespace(interpreter=interpreter.InterpreterBuild(externally_managed=str(tmp_path / "M")))
    results = [
        Result(name="numpy", status=WARN, summary="numpy is not installed", hint="pip install 'numpy<2'"),
        Result(name="python", status=PASS, summary="3.11.7", hint="pip install x"),
    ]
    warn, passed = list(command.judged(results, facts))
    assert "externally managed (%s" % (tmp_path / "M") in warn.hint and passed.hint == "pip install x"
