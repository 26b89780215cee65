"""`python -m checks COMMAND`: dispatch to one check; imports nothing heavy until a command runs."""

import importlib
import sys

# Each command is a module with main(argv) -> exit code.
COMMANDS = {
    "verify": "checks.verify",
    "train": "checks.train",
    "bench": "checks.bench",
    "compare": "checks.compare",
    "lock-audit": "checks.lock_audit",
    "dist": "checks.dist",
}

USAGE = """usage: python -m checks COMMAND [options]

commands:
  verify      prove this PyTorch environment works (versions, build, GPU, compile, a training step)
  train       train reference models on every device and precision; check they learn, repeat and agree
  bench       measure matmul, bandwidth and training throughput against the GPU's datasheet
  compare     compare two reports (A.json B.json) figure by figure
  lock-audit  check pixi.lock holds the builds pixi.toml promises (torch flavour, CUDA, pairing, pins)
  dist        ranks of a multi-GPU / multi-node job join, all-reduce exactly, bus bandwidth (torchrun, srun)

`python -m checks COMMAND --help` shows a command's options.
exit codes: 0 all checks passed, 1 a check failed, 2 usage or configuration error"""


def main(argv=None):
    """Run the command named by the first argument; return its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] == "--version":
        from checks import __version__

        print("checks %s" % __version__)
        return 0
    if argv[0] not in COMMANDS:
        print(
            "python -m checks: unknown command %r; valid commands: %s" % (argv[0], ", ".join(COMMANDS)), file=sys.stderr
        )
        return 2
    return importlib.import_module(COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
