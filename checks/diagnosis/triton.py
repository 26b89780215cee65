"""Triton cannot link its CUDA launcher against the driver's library. Triton builds a small C module per kernel
and links it with `-lcuda`, so the linker needs an unversioned `libcuda.so` in one of the directories Triton
searches (triton's libcuda_dirs(): 2.0 asks `whereis libcuda.so`; 2.1 to 3.x take TRITON_LIBCUDA_PATH, else the
directories of libcuda.so.1 in `ldconfig -p`, else those on LD_LIBRARY_PATH, and fail with "libcuda.so cannot
found! ... Please create a symlink of libcuda.so to any of the files."). The driver installs libcuda.so.1; the
unversioned link comes with the driver's development files or not at all (WSL and containers often lack it).
Facts: where the loader finds libcuda.so.1 (checks/machine/gpu_access.py) and whether a libcuda.so lies beside it."""

import os
import re

from checks.diagnosis.model import Cause

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
