"""Property-based: failure texts that are cut, spliced and sprinkled with arbitrary characters never make the
diagnosis raise, and always give a verdict with a meaning, a fix and a fact. The seeds are failure texts the rules
key on (torch's, the loader's, pip's, NCCL's, CPython's), so the mutations reach every rule's parser; the facts are
this machine's, read once."""

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in pixi.toml's test feature; pip install it")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from checks import diagnosis  # noqa: E402

SEEDS = (
    "OSError: libc10_cuda.so: cannot open shared object file: No such file or directory",
    "ImportError: /env/lib/python3.10/site-packages/torch/lib/libtorch_cpu.so: undefined symbol: iJIT_NotifyEvent",
    "ImportError: /x/flash_attn_2_cuda.cpython-310-x86_64-linux-gnu.so: undefined symbol: _ZN3c104cuda9SetDeviceEi",
    "ImportError: /usr/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.30' not found (required by "
    "/env/lib/python3.10/site-packages/torch/lib/libtorch_python.so)",
    'RuntimeError: Error(s) in loading state_dict for ResNet:\n\tMissing key(s) in state_dict: "conv1.weight". '
    '\n\tUnexpected key(s) in state_dict: "module.conv1.weight". ',
    "RuntimeError: Error(s) in loading state_dict for Linear:\n\tsize mismatch for weight: copying a param with "
    "shape torch.Size([10, 512]) from checkpoint, the shape in current model is torch.Size([1000, 512]).",
    "_pickle.UnpicklingError: Weights only load failed. \x1b[1mdo those steps\x1b[0m WeightsUnpickler error: "
    "Unsupported global: GLOBAL numpy.core.multiarray.scalar was not an allowed global by default.",
    "UserWarning: \nNVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with the current PyTorch "
    "installation.\nThe current PyTorch install supports CUDA capabilities sm_50 sm_60 sm_70 sm_75 sm_80 sm_86.",
    "Found GPU0 Tesla K80 which is of compute capability (CC) 3.7.\n- 5.0 which supports hardware CC >=5.0,<6.0",
    "RuntimeError: Cannot find a working triton installation. More information on installing Triton can be found "
    "at https://github.com/openai/triton",
    "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device",
    "RuntimeError: unable to write to file </torch_18692_1954506624>: No space left on device (28)",
    "OSError: [Errno 12] Cannot allocate memory",
    "RuntimeError: Ninja is required to load C++ extensions",
    "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 23.69 GiB total capacity; "
    "1.05 GiB already allocated; 2.56 MiB free; 1.10 GiB reserved in total by PyTorch)",
    "RuntimeError: [1] is setting up NCCL communicator and retrieving ncclUniqueId from [0] via c10d key-value "
    "store by key '0', but store->get('0') got error: Connection reset by peer",
    "ImportError: cannot import name 'Iterable' from 'collections' (/usr/lib/python3.10/collections/__init__.py)",
    "ModuleNotFoundError: No module named 'torch._six'",
    "RuntimeError: CUDA error: no kernel image is available for execution on the device",
    "AttributeError: module 'numpy' has no attribute 'bool'.",
)


@pytest.fixture(scope="module")
def facts():
    return diagnosis.gather()


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["cut", "insert", "splice"]))
        if how == "cut":
            text = text[:at] if draw(st.booleans()) else text[at:]
        elif how == "insert":
            text = text[:at] + draw(st.text(max_size=12)) + text[at:]
        else:
            text = text[:at] + draw(st.sampled_from(SEEDS))
    return text


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated())
def test_every_mutated_failure_text_gets_a_verdict(facts, text):
    cause = diagnosis.explain(text, facts)
    assert cause.rule and cause.meaning and cause.fix and cause.fact is not None
