"""NVIDIA's tools read in one place: the driver's state (driver: NVML first, nvidia-smi as the fallback) and
the GPUs it sees (gpuinfo)."""
