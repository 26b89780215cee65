"""`python -m checks verify`: command.py (options, the checks in print order; the parent that runs them in a worker
process, checks/worker.py) -> facts.py (host, driver, the environment's promise, torch, the GPU probe) -> the
verdicts, one function per line: install.py (Python, torch, build, CUDA runtime, cuDNN, NCCL; cuda_build.py: the
CUDA build of this torch release to install in place of a CPU build on a GPU machine), domain.py
(torchvision, torchaudio), gpu.py (driver, GPUs, MPS), arch.py (architectures, no kernel launch), compute.py
(kernels, conv, AMP, SDPA, a first training step), libs.py (CPU backends, distributed, NumPy), compile.py
(torch.compile)."""
