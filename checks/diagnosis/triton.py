"""Triton cannot link its CUDA launcher against the driver's library. Triton builds a small C module per kernel
and links it with `-lcuda`, so the linker needs an unversioned `libcuda.so` in one of the directories Triton
searches (triton's libcuda_dirs(): 2.0 asks `whereis libcuda.so`; 2.1 to 3.x take TRITON_LIBCUDA_PATH, else the
directories of libcuda.so.1 in `ldconfig -p`, else those on LD_LIBRARY_PATH, and fail with "libcuda.so cannot
found! ... Please create a symlink of libcuda.so to any of the files."). The driver installs libcuda.so.1; the
unversioned link comes with the driver's development files or not at all (WSL and containers often lack it).
Facts: where the loader finds libcuda.so.1 (checks/machine/gpu_access.py) and whether a libcuda.so lies beside it."""

import os
import re
import sys

from checks.diagnosis.model import Cause
from checks.machine import distributions
from checks.machine.distributions import canonical

NO_LIBCUDA = re.compile(r"cannot find -lcuda|libcuda\.so cannot found")


def by_triton_libcuda(parts, facts):
    """Rule 3h: Triton's link step found no libcuda.so, judged by where libcuda.so.1 is (None when the text is not
    that failure, or a libcuda.so lies beside libcuda.so.1 and TRITON_LIBCUDA_PATH is unset: nothing to decide)."""
    if not NO_LIBCUDA.search(parts.text):
        return None
    found = facts.gpu_access.libcuda
    chosen = facts.variables.get("TRITON_LIBCUDA_PATH")
    if found is None:
        return Cause(
            meaning="Triton links against the NVIDIA driver's library, and the loader finds no libcuda.so.1 here "
            "(no driver, or a container started without the NVIDIA runtime)",
            fix="run where the NVIDIA driver is installed (`nvidia-smi` works); in a container use `--gpus all` "
            "(the NVIDIA Container Toolkit mounts libcuda.so.1); then `sudo ldconfig`",
            fact="libcuda.so.1 not found by the loader",
        )
    folder = os.path.dirname(found)
    if chosen and not os.path.exists(os.path.join(chosen, "libcuda.so")):
        return Cause(
            meaning="TRITON_LIBCUDA_PATH=%s holds no libcuda.so, and Triton links with -lcuda there" % chosen,
            fix="point it at a folder with a libcuda.so link: `mkdir -p ~/.triton-libcuda && ln -sf %s "
            "~/.triton-libcuda/libcuda.so && export TRITON_LIBCUDA_PATH=~/.triton-libcuda`" % found,
            fact="TRITON_LIBCUDA_PATH=%s; libcuda.so.1 at %s" % (chosen, found),
        )
    if os.path.exists(os.path.join(folder, "libcuda.so")):
        return None
    return Cause(
        meaning="the driver's libcuda.so.1 is at %s but there is no unversioned libcuda.so beside it, and Triton "
        "links with -lcuda" % folder,
        fix="give Triton the link: `mkdir -p ~/.triton-libcuda && ln -sf %s ~/.triton-libcuda/libcuda.so && export "
        "TRITON_LIBCUDA_PATH=~/.triton-libcuda` (Triton 2.1+); with Triton 2.0: `sudo ln -s libcuda.so.1 %s/libcuda.so`"
        % (found, folder),
        fact="libcuda.so.1 at %s, no libcuda.so there" % folder,
    )


# inductor's text when it cannot use Triton for a GPU: torch 2.0's `Cannot find a working triton installation. More
# information on installing Triton can be found at https://github.com/openai/triton` (torch/_inductor/scheduler.py),
# 2.13's TritonMissing `... Either the package is not installed or it is too old. ...` (torch/_inductor/exc.py).
# inductor's has_triton() is False when `import triton` raises ImportError (2.0: torch/_inductor/utils.py; 2.13:
# torch/utils/_triton.py), so the package's presence and release are the facts.
NO_WORKING_TRITON = re.compile(r"Cannot find a working triton installation")
TRITON_PROJECTS = ("triton", "pytorch-triton", "triton-windows")  # PyPI's triton, the nightlies', Windows' port


def by_triton_missing(parts, facts):
    """Rule 3j: inductor found no usable Triton, judged by the triton distribution beside torch and what torch's
    metadata declares of it (a pin on Linux x86-64 wheels; none on conda builds, Windows or macOS)."""
    if not NO_WORKING_TRITON.search(parts.text):
        return None
    torch = facts.provenance.packages.get("torch")
    copy = torch.imported if torch is not None else None
    version = copy.version if copy is not None else "?"
    declared = [
        r for r in facts.requirements.items if r.owner.split()[0] == "torch" and canonical(r.name) in TRITON_PROJECTS
    ]
    entries = [c.imported.entry for c in facts.provenance.packages.values() if c.imported is not None]
    found = distributions.find("triton", path=list(dict.fromkeys(entries)) or None)
    pin = declared[0] if declared else None
    wanted = '"%s%s"' % (pin.name, pin.spec) if pin is not None else None
    if found is None:
        if wanted is not None:
            fix = "python -m pip install %s (the release torch %s declares)" % (wanted, version)
        elif sys.platform == "win32":
            fix = (
                "python -m pip install triton-windows (the port of Triton for Windows; choose the release its "
                "page pairs with torch %s)" % version
            )
        elif copy is not None and copy.installer == "conda":
            fix = (
                "install conda-forge's triton into this environment (`pixi add triton`, or `conda install -c "
                "conda-forge triton`)"
            )
        else:
            fix = (
                "python -m pip install triton (the release made with torch %s; nightlies use pytorch-triton)" % version
            )
        return Cause(
            meaning="torch.compile's inductor writes its GPU kernels in Triton, and no triton package is installed "
            "beside torch %s%s" % (version, " (torch declares %s)" % wanted if wanted else ""),
            fix=fix,
            fact="no triton distribution beside torch; torch declares %s" % (wanted or "none"),
        )
    if pin is not None and pin.met is False:
        return Cause(
            meaning="triton %s is installed (%s), and torch %s requires %s: inductor cannot use it"
            % (found.version, found.entry, version, wanted),
            fix="python -m pip install %s" % wanted,
            fact="triton %s installed; torch %s requires %s" % (found.version, version, wanted),
        )
    broken = [r for r in facts.requirements.unmet() if r.owner.split()[0] in TRITON_PROJECTS]
    if broken:
        return Cause(
            meaning="triton %s is installed, but `import triton` fails: an unmet requirement: %s"
            % (found.version, broken[0].describe()),
            fix=broken[0].fix(),
            fact=broken[0].describe(),
        )
    known = "torch %s declares %s, which is installed" % (version, wanted) if pin is not None else None
    return Cause(
        meaning="triton %s is installed (%s), yet inductor could not use it: %s"
        % (
            found.version,
            found.describe(),
            "`import triton` fails in this Python (%s)" % known
            if known
            else "`import triton` fails in this Python, or this triton is older than torch %s's inductor needs"
            % version,
        ),
        fix='run `python -c "import triton"` in this environment to see why it fails%s'
        % ("" if known else "; install the triton release torch %s was made with" % version),
        fact="triton %s at %s; torch %s declares %s" % (found.version, found.entry, version, wanted or "none"),
    )
