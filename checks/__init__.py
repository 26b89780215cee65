"""pytorch-env checks: `python -m checks verify | train | bench | compare | dist | lock-audit`.

The core, shared by every command: report (result record, exit codes), runner (options, torch guard, watchdog,
finishing), output (text, JSON, PNG), probe, gpuinfo and contention (machine facts, other load), toolchain
(torch.compile's compilers), manifest with platforms, channels and promise (the one reader of a pixi workspace and
what it promises), lockfile (the pixi.lock reader), versions (conda version specs), compat (compatibility tables),
timing, apis (PyTorch APIs that moved between 2.0 and today). One folder per multi-module command; compare is one
module.
"""

__version__ = "0.2.0"
