"""`python -m checks verify`: command.py (options, the checks in print order) -> facts.py (host, driver, the
environment's promise, torch, the GPU probe) -> the verdicts, one function per line: install.py (Python, torch,
domain libraries, build, CUDA runtime, cuDNN, NCCL), gpu.py (driver, GPUs, architectures, MPS), compute.py (kernels,
conv, AMP, SDPA, a first training step), libs.py (CPU backends, distributed, NumPy), compile.py (torch.compile)."""
