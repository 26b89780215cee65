"""Files that shadow Python's standard library: a `dis.py` in the working directory or on PYTHONPATH is imported
instead of the standard module, and whatever imports that module (inspect imports dis; dataclasses imports inspect)
breaks, in checks as in torch. Only os, sys and sysconfig are imported here, so the scan works while the shadowing
has broken the rest."""

import os
import sys


def stdlib_shadows(path=None):
    """Return [(module, file)] of files on `path` (default sys.path) outside the standard library that have the name
    of a standard-library module (`dis.py`, `random.py`, `typing/`): Python imports them instead of the standard
    module, and whatever imports that module (inspect imports dis) breaks. sys.stdlib_module_names on 3.10+, else
    the standard library directory's listing."""
    import sysconfig

    stdlib = os.path.normcase(os.path.realpath(sysconfig.get_paths()["stdlib"]))
    names = set(getattr(sys, "stdlib_module_names", ()))
    if not names:
        try:
            names = {os.path.splitext(n)[0] for n in os.listdir(stdlib) if n.endswith(".py") or "." not in n}
        except OSError:
            names = set()
    names -= {"__future__", "__main__", "this", "antigravity", "idlelib", "test", "tests"}
    found = []
    for entry in sys.path if path is None else path:
        if not isinstance(entry, str):
            continue
        folder = os.path.normcase(os.path.realpath(entry or os.curdir))
        if (
            folder == stdlib
            or folder.startswith(stdlib + os.sep)
            or "site-packages" in folder
            or "dist-packages" in folder
        ):
            continue
        try:
            listing = os.listdir(folder)
        except OSError:
            continue
        for item in listing:
            stem = item[:-3] if item.endswith(".py") else item
            if stem in names and (item.endswith(".py") or os.path.isfile(os.path.join(folder, item, "__init__.py"))):
                found.append((stem, os.path.join(entry or os.curdir, item)))
    return found
