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
