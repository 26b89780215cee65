"""`python -m checks health`: command.py (options, the lines in print order) -> facts.py (driver state, hardware
evidence, the GPUs read by checks/nvidia/ (nvml.py through nvidia-ml-py, else smi.py from `nvidia-smi -q`), the
kernel log, torch and the CUDA device of each GPU; the load once, load.py) -> the verdicts, one function per line:
memory.py (ECC, row remapping, retired pages), links.py (PCIe, NVLink), clocks.py (clocks event reasons, power limit),
memtest.py (the device memory test), compute.py (repeated matmul, results across GPUs), xid.py (Xid lines of the
kernel log and NVIDIA's catalog), node.py (the summary line); lines.py names the lines. health has no chart."""
