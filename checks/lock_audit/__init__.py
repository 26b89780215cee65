"""`python -m checks lock-audit`: command.py (options; the manifest through checks/workspace/manifest.py, the lock
through
checks/workspace/lockfile.py) -> manifest_verdicts.py (what pixi 0.77 rejects, PyTorch pitfalls) -> lock_verdicts.py
(each environment x platform against the lock). No chart."""
