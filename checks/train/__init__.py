"""`python -m checks train`: command.py (options, devices, the variant plan) -> trainer.py and models.py (the
measurements: reference models on synthetic data, the training loop) -> verdicts.py (learns, finite, accurate,
compiled matches eager, deterministic, resumes from a checkpoint, GPU agrees with CPU). train has no chart."""
