"""PyTorch APIs that moved between 2.0 and the newest release: one helper each, so callers never branch."""

import contextlib
import io
import warnings


def grad_scaler(torch, device):
    """Return a gradient scaler for fp16 training (torch.amp.GradScaler from 2.3, torch.cuda.amp before)."""
    if hasattr(torch.amp, "GradScaler"):  # torch >= 2.3; torch.cuda.amp.GradScaler is deprecated there
        return torch.amp.GradScaler(device)
    return torch.cuda.amp.GradScaler()  # torch 2.0 to 2.2: CUDA only


def sdpa_backends(torch):
    """Return {backend: context-manager factory} forcing one SDPA backend (torch.nn.attention from 2.3)."""
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel  # torch >= 2.3
    except ImportError:  # torch 2.0 to 2.2
        # (enable_flash, enable_math, enable_mem_efficient) for torch.backends.cuda.sdp_kernel
        flags = {"flash": (True, False, False), "efficient": (False, False, True), "math": (False, True, False)}
        return {k: _sdp_kernel(torch, f) for k, f in flags.items()}
    names = {"flash": SDPBackend.FLASH_ATTENTION, "efficient": SDPBackend.EFFICIENT_ATTENTION, "math": SDPBackend.MATH}
    return {k: (lambda b=b: sdpa_kernel(b)) for k, b in names.items()}


def _sdp_kernel(torch, flags):
    flash, math, efficient = flags
    return lambda: torch.backends.cuda.sdp_kernel(enable_flash=flash, enable_math=math, enable_mem_efficient=efficient)


def scaled_mm(torch, a, b):
    """Multiply two fp8 matrices with unit scales into bf16 (torch._scaled_mm returned (out, amax) before 2.4)."""
    one = torch.ones((), device=a.device, dtype=torch.float32)
    out = torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
    return out[0] if isinstance(out, tuple) else out


def is_oom(exc):
    """True for an out-of-memory error (torch.cuda.OutOfMemoryError, from 1.13, is a RuntimeError)."""
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc)


def save_bytes(torch, obj):
    """Serialise tensors and state dicts to bytes with torch.save."""
    buffer = io.BytesIO()
    with _quiet_storage():
        torch.save(obj, buffer)
    return buffer.getvalue()


def load_bytes(torch, data):
    """Load what save_bytes wrote, weights only (the default from torch 2.6; explicit for 2.0 to 2.5)."""
    with _quiet_storage():
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


@contextlib.contextmanager
def _quiet_storage():
    """Silence torch 2.0's warning about its own internal use of TypedStorage in save and load."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="TypedStorage is deprecated")
        yield


def disable_tf32(torch):
    """Make CUDA fp32 matmuls and cuDNN convolutions use IEEE fp32, never TF32."""
    # The legacy flags work silently from 2.0 to 2.13. The fp32_precision API of torch >= 2.9 is avoided on
    # purpose: once it is used, reading torch.backends.cudnn.allow_tf32 raises (mixed legacy and new flags).
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def quiet_cuda_home():
    """Import torch.utils.cpp_extension (torch.compile's inductor imports it) without its notice `No CUDA runtime is
    found, using CUDA_HOME='...'`, which torch prints wherever a CUDA toolkit is installed but no GPU is usable: a
    CPU build, or a CUDA build without a driver. verify reports those facts; train and bench need not repeat them.
    torch 2.0 prints it to stderr at import; later releases log it as a warning (torch/utils/cpp_extension.py)."""
    import logging

    logger = logging.getLogger("torch.utils.cpp_extension")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            import torch.utils.cpp_extension  # noqa: F401
    finally:
        logger.setLevel(level)
