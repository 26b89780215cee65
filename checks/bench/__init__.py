"""`python -m checks bench`: command.py (options, device, header) -> measure.py and crosscheck.py (matmul, copies,
training throughput, the independent timer) -> verdicts.py (against peaks.py, the datasheet table) -> chart.py.

The one command that imports another: bench times train's reference models and GPT-2 with train's trainer
(checks.train.models, checks.train.trainer, checks.train.verdicts.variant_problem), so that the throughput it reports
is of the very loops train proves correct."""
