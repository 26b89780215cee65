"""pytorch-env checks: prove a PyTorch environment works (`python -m checks verify`)."""

__version__ = "0.1.0"
