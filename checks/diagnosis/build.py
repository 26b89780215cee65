"""A failure that says this torch has no CUDA, judged by the build the environment holds: torch's own version.py
(read as text, never imported: `cuda = '11.7'`, `cuda: Optional[str] = None`, `hip = ...`, `__version__ =
'2.13.0+cpu'`), which torch.version reports. A CPU build raises "Torch not compiled with CUDA enabled"
(torch/cuda/__init__.py _lazy_init), has no NCCL ("Distributed package doesn't have NCCL built in",
torch/distributed/distributed_c10d.py), and cannot load a checkpoint saved on a GPU without map_location
(torch/serialization.py: "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is
False"). macOS has no CUDA build at all (PyTorch's install matrix)."""

import re
import sys

from checks import compat
from checks.diagnosis.model import Cause
from checks.machine.provenance import version_py

NO_CUDA = re.compile(
    r"Torch not compiled with CUDA enabled|Distributed package doesn't have NCCL built in|"
    r"Attempting to deserialize object on a CUDA device but torch\.cuda\.is_available\(\) is False|"
    r"Expected a cuda device, but got: cpu"
)


def by_build(parts, facts):
    """Rule 1e: a failure of a build without CUDA (NO_CUDA), judged by torch's version.py: a CPU build names itself
    and the CUDA build to install; a CUDA build decides nothing here (the GPU's access path does)."""
    if not NO_CUDA.search(parts.text):
        return None
    copy = facts.provenance.packages.get("torch")
    torch = copy.imported if copy else None
    built = version_py(torch.path) if torch is not None else {}
    if not built or built.get("cuda") or built.get("hip"):
        return None
    version = built.get("__version__") or torch.version or "this torch"
    if sys.platform == "darwin":
        fix = "macOS has no CUDA build of torch: use the `mps` device (Apple silicon) or the CPU"
    else:
        release = str(version).split("+")[0]
        cudas = compat.WHEEL_CUDA.get(compat.minor_key(release), ()) if re.match(r"^\d+\.\d+", release) else ()
        pip = (
            ' (`pip install --force-reinstall "torch==%s" --index-url https://download.pytorch.org/whl/%s`, or an '
            "older CUDA of %s for an older driver)" % (release, compat.cuda_tag(cudas[-1]), ", ".join(cudas[:-1]))
            if cudas
            else ""
        )
        fix = (
            "use a CUDA build: a CUDA environment of the pixi workspace (this project's `cu117`, `cu118`, `latest`: "
            "`pixi run -e cu118 verify`), or pip from PyTorch's index for the CUDA your driver supports%s" % pip
        )
    if "deserialize" in parts.text:
        fix += "; to load a GPU checkpoint on this build, pass map_location='cpu' to torch.load"
    return Cause(
        meaning="this torch (%s, %s) is a CPU-only build: it has no CUDA%s"
        % (version, torch.path, " and no NCCL" if "NCCL" in parts.text else ""),
        fix=fix,
        fact="torch/version.py: cuda = None (%s)" % version,
    )
