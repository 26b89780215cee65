"""pytorch-env checks: `python -m checks verify | train | bench | compare | dist | health | lock-audit`, or
`pytorch-env COMMAND` where the package is installed (`pip install .`; pyproject.toml).

The core, shared by every command, at the top: __main__ (the command table and the error boundary), report (result
record, exit codes), runner (options, torch guard, watchdog, finishing), worker, output (text, JSON, PNG), progress,
errors, causes and diagnosis (what a failure means), compat (compatibility tables), timing, apis (PyTorch APIs that
moved between 2.0 and today). Three folders of facts: workspace/ (a pixi workspace: manifest, platforms, channels,
promise, lockfile, versions, untrusted input), machine/ (probe, contention, toolchain, provenance, loader,
requirements, system) and nvidia/ (driver, gpuinfo). One folder per multi-module command (verify, train, bench,
distributed for dist, health, lock_audit); compare is one module.
"""

__version__ = "0.2.0"
