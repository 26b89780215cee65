"""NVIDIA's tools read in one place, NVML (nvidia-ml-py, imported as pynvml) first and nvidia-smi as the fallback:
driver.py (the driver's state and failure states), gpuinfo.py (one GPU's live state and processes while bench and
train run), nvml.py and smi.py (each GPU's health facts, through NVML or `nvidia-smi -q`, for health); parse.py holds
the helpers they share (numbers with units, N/A, hex, flags, milliwatts, CUDA versions) and the one clocks event
(throttle) reasons table; records.py the typed LiveState both health readers build. Nothing here imports a
command folder."""
