"""How a package built on torch decides at import whether to use torch at all, read from its source (never run).

Hugging Face's libraries decide it once, when they are imported, and log the decision at INFO level only (so users
do not see it): transformers (`transformers/file_utils.py` up to 4.x's split, `transformers/utils/import_utils.py`
after it) and diffusers (`diffusers/utils/import_utils.py`) read USE_TORCH and USE_TF with `os.environ.get(NAME,
"AUTO").upper()` and use torch only when

    if USE_TORCH in ENV_VARS_TRUE_AND_AUTO_VALUES and USE_TF not in ENV_VARS_TRUE_VALUES:

with ENV_VARS_TRUE_VALUES = {"1", "ON", "YES", "TRUE"} (the source's own set is read); otherwise they log
"Disabling PyTorch because USE_TF is set". transformers 4.57 also turns torch off below a release ("Disabling PyTorch
because PyTorch >= 2.1 is required but found ..."). With torch off, every model class is a placeholder that raises
"... requires the PyTorch library but it was not found in your environment", although torch imports: the symptom
names torch, the cause is a variable or the torch release (transformers 4.12.3, 4.57.1 and diffusers 0.30.0, read
from their PyPI wheels).
"""

import dataclasses
import os
import re
from typing import Dict, FrozenSet, Optional, Tuple

from checks.workspace import versions

MAX_BYTES = 512 * 1024
FILES = (("utils", "import_utils.py"), ("file_utils.py",), ("import_utils.py",))
DISABLING = re.compile(rb"Disabling PyTorch because")
READS = re.compile(rb"^(\w+)\s*=\s*os\.environ\.get\(\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w*)[\"']\s*\)\.upper\(\)", re.M)
CONDITION = re.compile(
    rb"^[ \t]*if (\w+) in ENV_VARS_TRUE_AND_AUTO_VALUES and (\w+) not in ENV_VARS_TRUE_VALUES:", re.M
)
TRUE_VALUES = re.compile(rb"^ENV_VARS_TRUE_VALUES\s*=\s*\{([^}]*)\}", re.M)
MINIMUM = re.compile(rb"Disabling PyTorch because PyTorch >= ([\d.]+) is required")
DEFAULT_TRUE = frozenset({"1", "ON", "YES", "TRUE"})


@dataclasses.dataclass(frozen=True)
class Gate:
    """Where and how a package decides to use torch: `file` and `line` of the decision; `wanted` the variable that
    must be true or AUTO (USE_TORCH) and `refused` the one that must not be true (USE_TF), each (name, default);
    `true_values` the values counted as true; `minimum` the torch release below which it turns torch off, or None."""

    package: str
    file: str
    line: int
    wanted: Tuple[str, str]
    refused: Tuple[str, str]
    true_values: FrozenSet[str] = DEFAULT_TRUE
    minimum: Optional[str] = None

    def why_off(self, environ, torch_version=None):
        """Why this gate turns torch off under `environ` (a mapping of variables) and the installed torch release
        `torch_version` ("2.0.1"), as (reason, the variable or None), or None when torch stays on."""
        wanted = environ.get(self.wanted[0], self.wanted[1]).upper()
        refused = environ.get(self.refused[0], self.refused[1]).upper()
        off = [
            name
            for name, value, on in ((self.refused[0], refused, False), (self.wanted[0], wanted, True))
            if (value in self.true_values | ({"AUTO"} if on else set())) != on
        ]
        if off:
            return "it disables PyTorch because %s=%s is set" % (off[0], environ.get(off[0])), off[0]
        if self.minimum and torch_version and versions.key(torch_version) < versions.key(self.minimum):
            return "it disables PyTorch below torch %s, and this is %s" % (self.minimum, torch_version), None
        return None


def _sources(folder, candidates):
    """Yield (path, first MAX_BYTES of its text) of each of the `candidates` (path parts under `folder`) that reads."""
    for parts in candidates:
        path = os.path.join(folder, *parts)
        try:
            with open(path, "rb") as handle:
                yield path, handle.read(MAX_BYTES)
        except OSError:
            continue


def read(package_dir, name=None) -> Optional[Gate]:
    """The Gate of the installed package folder `package_dir`, or None when none of FILES decides on torch so."""
    for path, text in _sources(package_dir, FILES):
        if not DISABLING.search(text):
            continue
        reads: Dict[bytes, Tuple[str, str]] = {
            m.group(1): (m.group(2).decode(), m.group(3).decode()) for m in READS.finditer(text)
        }
        condition = next((c for c in CONDITION.finditer(text) if c.group(1) in reads and c.group(2) in reads), None)
        if condition is None:
            continue
        true = TRUE_VALUES.search(text)
        values = frozenset(re.findall(r"[\"'](\w+)[\"']", true.group(1).decode())) if true else DEFAULT_TRUE
        minimum = MINIMUM.search(text)
        return Gate(
            package=name or os.path.basename(package_dir),
            file=path,
            line=text[: condition.start(0)].count(b"\n") + 1,
            wanted=reads[condition.group(1)],
            refused=reads[condition.group(2)],
            true_values=values or DEFAULT_TRUE,
            minimum=minimum.group(1).decode() if minimum else None,
        )
    return None


# Where Lightning decides that Slurm started its processes (lightning_fabric 1.8+ and the unified `lightning`
# package: plugins/environments/slurm.py; pytorch_lightning before 1.8: plugins/environments/slurm_environment.py):
# `_is_srun_used()` is `"SLURM_NTASKS" in os.environ and not _is_slurm_interactive_mode()`, the latter a job name in
# ("bash", "interactive") (lightning_fabric 1.9.5, read from its wheel). Detected so, Lightning launches no processes
# of its own: the world is the SLURM_NTASKS tasks srun started.
SLURM_FILES = (
    ("lightning_fabric", "plugins", "environments", "slurm.py"),
    ("lightning", "fabric", "plugins", "environments", "slurm.py"),
    ("pytorch_lightning", "plugins", "environments", "slurm_environment.py"),
)
INTERACTIVE = re.compile(rb"job_name\(\)\s+in\s+\(([^)]*)\)")


@dataclasses.dataclass(frozen=True)
class SlurmTakeover:
    """Lightning (`package` `file`) will take Slurm's `tasks` processes per node as the world, where this node has
    `devices` GPUs for the job: only `tasks` of them train. `interactive`: the job names it treats as a shell."""

    package: str
    file: str
    tasks: int
    devices: int
    job_name: str
    interactive: Tuple[str, ...]


def slurm_takeover(site_dirs, environ) -> Optional[SlurmTakeover]:
    """The SlurmTakeover when an installed Lightning (in one of `site_dirs`) would see a Slurm job step (SLURM_NTASKS
    set, its job name not one it treats as interactive) whose tasks on this node are fewer than the GPUs it has
    (CUDA_VISIBLE_DEVICES' entries, else SLURM_GPUS_ON_NODE), else None."""
    if "SLURM_NTASKS" not in environ:
        return None
    for site in site_dirs:
        for path, text in _sources(site, SLURM_FILES):
            names = INTERACTIVE.search(text)
            if names is None or b"SLURM_NTASKS" not in text:
                continue
            interactive = tuple(re.findall(r"[\"'](\w+)[\"']", names.group(1).decode()))
            job = environ.get("SLURM_JOB_NAME", "")
            if job in interactive:
                return None
            try:
                nodes = max(1, int(environ.get("SLURM_NNODES") or environ.get("SLURM_JOB_NUM_NODES") or 1))
                tasks = int(environ.get("SLURM_NTASKS_PER_NODE") or int(environ["SLURM_NTASKS"]) // nodes)
            except ValueError:
                return None
            visible = [e for e in environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if e.strip()]
            gpus = len(visible) or int(environ.get("SLURM_GPUS_ON_NODE", "0") or 0)
            if gpus > tasks:
                return SlurmTakeover(os.path.relpath(path, site).split(os.sep)[0], path, tasks, gpus, job, interactive)
            return None
    return None
