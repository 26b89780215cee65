"""Tests for checks/verify/api.py: the torch names and keywords code uses that the installed torch lacks, judged
against the real torch (names that no torch release has, and real ones: torch.multiprocessing.spawn, nn.Linear)."""

import pytest

from checks.verify import api


def test_gaps_the_code_guards_or_that_belong_to_other_devices_are_not_judged():
    torch = pytest.importorskip("torch")
    from checks.machine.project import Use

    def gap(dotted, **kw):
        return api.torch_gap(torch, Use(dotted=dotted, file="m.py", line=1, **kw), "2.13.0", private=False)

    assert gap("torch.not_in_any_torch") is not None
    assert gap("torch.not_in_any_torch", quoted=("not_in_any_torch",)) is None  # hasattr(torch, "...") elsewhere
    assert gap("torch.npu.synchronize") is None and gap("torch.xpu.FloatTensor") is None
    assert gap("torch._not_in_any_torch") is None  # a package's private name, undated
    assert api.torch_gap(torch, Use(dotted="torch._not_in_any_torch", file="m.py", line=1), "2.13.0")
    assert gap("torch._six.inf") is not None and gap("torch._six.inf").change == ("removed", "2.0")
    # a signature without the keyword and without **kwargs (nn.Linear's), a keyword it takes
    assert gap("torch.nn.Linear", keywords=("no_such_keyword",)).name == "torch.nn.Linear(no_such_keyword=...)"
    assert gap("torch.nn.Linear", keywords=("bias",)) is None


def test_a_submodule_shadowed_by_a_function_of_its_name_resolves():
    """torch.multiprocessing.spawn is a function and a module: `from torch.multiprocessing.spawn import
    ProcessRaisedException` (accelerate 0.30's launchers.py) imports the module."""
    torch = pytest.importorskip("torch")
    assert api.missing_torch_name(torch, "torch.multiprocessing.spawn.ProcessRaisedException") is None
    assert api.missing_torch_name(torch, "torch.multiprocessing.spawn.NotThere") == (
        "torch.multiprocessing.spawn.NotThere"
    )
