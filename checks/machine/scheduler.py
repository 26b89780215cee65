"""The batch-scheduler job this process runs in, read from the variables the scheduler exports (no command is run).

SLURM is read (sbatch(1), srun(1), "OUTPUT ENVIRONMENT VARIABLES"; slurm.schedmd.com/sbatch.html):
- the job: SLURM_JOB_ID (SLURM_JOBID in older releases), SLURM_JOB_NUM_NODES (SLURM_NNODES), SLURM_JOB_NODELIST
  (SLURM_NODELIST), SLURMD_NODENAME; a job step started by srun adds SLURM_STEP_NUM_NODES, SLURM_STEP_NUM_TASKS
  and SLURM_PROCID; SLURM_NTASKS is the job's task count.
- the GPUs granted: "Jobs will not be allocated any generic resources unless specifically requested at job submit
  time using the options --gres, --gpus, --gpus-per-node, --gpus-per-socket, --gpus-per-task" (Generic Resource
  (GRES) Scheduling, slurm.schedmd.com/gres.html, "Running Jobs"). For a job granted GPUs SLURM exports
  SLURM_JOB_GPUS (the batch step), SLURM_STEP_GPUS (an srun step), SLURM_GPUS_ON_NODE, and its gres/gpu plugin sets
  CUDA_VISIBLE_DEVICES for each step (gres.html, "GPU Management"); the --gpus* options are exported as SLURM_GPUS,
  SLURM_GPUS_PER_NODE, SLURM_GPUS_PER_TASK, SLURM_GPUS_PER_SOCKET. A node with GPUs in gres.conf gives a step
  granted none CUDA_VISIBLE_DEVICES=NoDevFiles (src/plugins/gres/common/gres_common.c, common_gres_set_env). With
  ConstrainDevices=yes in cgroup.conf the job's device cgroup admits only the devices granted (cgroup.conf(5)), so a
  job without GPUs cannot open the node's /dev/nvidiaN.
- the memory requested: SLURM_MEM_PER_NODE (--mem) or SLURM_MEM_PER_CPU (--mem-per-cpu), in MB; the CPUs:
  SLURM_CPUS_PER_TASK, SLURM_CPUS_ON_NODE. slurmd's task/cgroup plugin enforces the memory as the job's memory
  cgroup limit (cgroup.conf(5), ConstrainRAMSpace).
"""

import dataclasses
from typing import Optional, Tuple

# The variables SLURM sets only for a job or step granted GPUs (module docstring); CUDA_VISIBLE_DEVICES is read apart.
GPU_VARIABLES = (
    "SLURM_JOB_GPUS",
    "SLURM_STEP_GPUS",
    "SLURM_GPUS_ON_NODE",
    "SLURM_GPUS",
    "SLURM_GPUS_PER_NODE",
    "SLURM_GPUS_PER_TASK",
    "SLURM_GPUS_PER_SOCKET",
)
NO_DEVICE_FILES = "NoDevFiles"


def _int(environ, *names):
    for name in names:
        value = (environ.get(name) or "").strip()
        if value.isdigit():
            return int(value)
    return None


@dataclasses.dataclass(frozen=True)
class Job:
    """A SLURM job (module docstring). job_id; nodes: the job's node count (None: not exported); node_list: its
    nodes in SLURM's hostlist form (`gpu-[017-018]`); node: this node's name; step_nodes / tasks: the srun step's
    nodes and tasks (tasks: SLURM_STEP_NUM_TASKS, else SLURM_NTASKS); task: this task's SLURM_PROCID; gpu_signs:
    the (variable, value) pairs that show GPUs granted (GPU_VARIABLES with a value other than empty or 0, and
    CUDA_VISIBLE_DEVICES other than NoDevFiles); no_device_files: CUDA_VISIBLE_DEVICES is NoDevFiles;
    mem_per_node_mb / mem_per_cpu_mb: --mem / --mem-per-cpu in MB; cpus_per_task, cpus_on_node."""

    job_id: str
    nodes: Optional[int] = None
    node_list: str = ""
    node: str = ""
    step_nodes: Optional[int] = None
    tasks: Optional[int] = None
    task: Optional[int] = None
    gpu_signs: Tuple[Tuple[str, str], ...] = ()
    no_device_files: bool = False
    mem_per_node_mb: Optional[int] = None
    mem_per_cpu_mb: Optional[int] = None
    cpus_per_task: Optional[int] = None
    cpus_on_node: Optional[int] = None

    @property
    def scheduler(self):
        return "SLURM"

    @property
    def gpus_granted(self):
        """False when no variable SLURM sets for granted GPUs is here (the job requested none), True otherwise."""
        return bool(self.gpu_signs)

    def describe(self):
        """`SLURM job 4817263 (node gpu-node-07)`."""
        return "SLURM job %s%s" % (self.job_id, " (node %s)" % self.node if self.node else "")

    def memory_request(self):
        """The memory the job asked for in words, `--mem-per-cpu=220M x 2 CPUs` or `--mem=32000M`, or None."""
        if self.mem_per_cpu_mb is not None:
            cpus = self.cpus_per_task or self.cpus_on_node
            per_cpu = "--mem-per-cpu=%dM (SLURM_MEM_PER_CPU)" % self.mem_per_cpu_mb
            return per_cpu + (" x %d CPUs = %d MB" % (cpus, cpus * self.mem_per_cpu_mb) if cpus else "")
        if self.mem_per_node_mb is not None:
            return "--mem=%dM (SLURM_MEM_PER_NODE)" % self.mem_per_node_mb
        return None

    def to_dict(self):
        return dataclasses.asdict(self)


def collect(environ):
    """Return the Job of a SLURM job this process runs in (SLURM_JOB_ID or SLURM_JOBID set), else None."""
    job_id = (environ.get("SLURM_JOB_ID") or environ.get("SLURM_JOBID") or "").strip()
    if not job_id:
        return None
    signs = [(n, environ[n].strip()) for n in GPU_VARIABLES if (environ.get(n) or "").strip() not in ("", "0")]
    visible = (environ.get("CUDA_VISIBLE_DEVICES") or "").strip()
    if visible and visible != NO_DEVICE_FILES:
        signs.append(("CUDA_VISIBLE_DEVICES", visible))
    return Job(
        job_id=job_id,
        nodes=_int(environ, "SLURM_JOB_NUM_NODES", "SLURM_NNODES"),
        node_list=(environ.get("SLURM_JOB_NODELIST") or environ.get("SLURM_NODELIST") or "").strip(),
        node=(environ.get("SLURMD_NODENAME") or "").strip(),
        step_nodes=_int(environ, "SLURM_STEP_NUM_NODES"),
        tasks=_int(environ, "SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"),
        task=_int(environ, "SLURM_PROCID"),
        gpu_signs=tuple(signs),
        no_device_files=visible == NO_DEVICE_FILES,
        mem_per_node_mb=_int(environ, "SLURM_MEM_PER_NODE"),
        mem_per_cpu_mb=_int(environ, "SLURM_MEM_PER_CPU"),
        cpus_per_task=_int(environ, "SLURM_CPUS_PER_TASK"),
        cpus_on_node=_int(environ, "SLURM_CPUS_ON_NODE"),
    )
