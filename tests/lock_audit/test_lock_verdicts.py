"""lock_verdicts' rules on their own."""

import pytest

from checks.lock_audit import lock_verdicts


@pytest.mark.parametrize(
    ("torch", "name", "version", "problem"),
    [
        ("2.0.1", "torchvision", "0.15.2", None),
        ("2.0.1", "torchaudio", "2.0.2", None),
        ("2.5.1", "torchvision", "0.19.1", "0.20.*"),
        ("2.13.0", "torchaudio", "2.11.0", None),  # no torchaudio after 2.11 (compat.LAST_TORCHAUDIO)
        ("2.13.0", "torchaudio", "2.13.0", "2.11.*"),
        ("2.15.0", "torchvision", "0.29.0", None),  # torchvision 0.29 accepts torch >= 2.14 (its Requires-Dist)
        ("2.99.0", "torchvision", "0.114.0", None),  # newer than the table: minor + 15
    ],
)
def test_pairing_follows_the_table_verify_uses(torch, name, version, problem):
    assert lock_verdicts.paired(torch, name, version) == problem
