"""Tests for checks/machine/scheduler.py: a SLURM job read from the variables sbatch and srun export (sbatch(1),
srun(1) "OUTPUT ENVIRONMENT VARIABLES"; gres.html "GPU Management"; src/plugins/gres/common/gres_common.c for
NoDevFiles)."""

from checks.machine import scheduler

# sbatch --nodes=2 --ntasks-per-node=4 --gres=gpu:4 --mem-per-cpu=4G --cpus-per-task=2, in an srun step of one task
GPU_JOB = {
    "SLURM_JOB_ID": "5521907",
    "SLURM_JOB_NUM_NODES": "2",
    "SLURM_JOB_NODELIST": "gpu-[017-018]",
    "SLURMD_NODENAME": "gpu-017",
    "SLURM_STEP_NUM_NODES": "1",
    "SLURM_STEP_NUM_TASKS": "1",
    "SLURM_NTASKS": "8",
    "SLURM_PROCID": "0",
    "SLURM_JOB_GPUS": "0,1,2,3",
    "SLURM_GPUS_ON_NODE": "4",
    "CUDA_VISIBLE_DEVICES": "0,1,2,3",
    "SLURM_MEM_PER_CPU": "4096",
    "SLURM_CPUS_PER_TASK": "2",
}


def test_outside_a_job_there_is_none():
    assert scheduler.collect({"PATH": "/usr/bin", "CUDA_VISIBLE_DEVICES": "0"}) is None


def test_a_gpu_job_s_variables():
    job = scheduler.collect(GPU_JOB)
    assert (job.job_id, job.nodes, job.node_list, job.node) == ("5521907", 2, "gpu-[017-018]", "gpu-017")
    assert (job.step_nodes, job.tasks, job.task) == (1, 1, 0)  # the step's task count before the job's
    assert job.gpus_granted and ("SLURM_JOB_GPUS", "0,1,2,3") in job.gpu_signs
    assert job.memory_request() == "--mem-per-cpu=4096M (SLURM_MEM_PER_CPU) x 2 CPUs = 8192 MB"
    assert job.describe() == "SLURM job 5521907 (node gpu-017)"


def test_a_job_that_requested_no_gpu():
    """Older names (SLURM_JOBID, SLURM_NNODES), --mem, and NoDevFiles: no GPU granted."""
    job = scheduler.collect(
        {"SLURM_JOBID": "7", "SLURM_NNODES": "1", "SLURM_MEM_PER_NODE": "32000", "CUDA_VISIBLE_DEVICES": "NoDevFiles"}
    )
    assert (job.job_id, job.nodes, job.gpus_granted, job.no_device_files) == ("7", 1, False, True)
    assert job.memory_request() == "--mem=32000M (SLURM_MEM_PER_NODE)"
    assert not scheduler.collect({"SLURM_JOB_ID": "8", "SLURM_GPUS_ON_NODE": "0"}).gpus_granted
