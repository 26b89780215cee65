"""Tests for checks/diagnosis/__init__.py: the order of the rules, stable texts, torch's own remedy, and an error
nothing explains. Each fact is laid out in tmp_path as the real artefact is, and each failure text is the one torch
or the loader prints (sources at each test)."""

import dataclasses

import pytest
from diagnosis_facts import facts_for, make_system, site

from checks import diagnosis


def test_torch_s_own_remedy_is_kept(tmp_path, monkeypatch):
    """A message of torch's that names its cause and a remedy (torch/utils/data/dataloader.py, 2.0.1 to 2.13)."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    text = (
        "RuntimeError: Too many open files. Communication with the workers is no longer possible. Please increase the"
        " limit using `ulimit -n` in the shell or change the sharing strategy by calling "
        "`torch.multiprocessing.set_sharing_strategy('file_system')` at the beginning of your code"
    )
    cause = diagnosis.explain(text, dataclasses.replace(found, system=make_system(nofile=None)))
    assert cause.fact == "torch's own message" and cause.fix.startswith("Please increase the limit using `ulimit -n`")


# protobuf 4.21's refusal of generated code older than protoc 3.19 (google/protobuf/descriptor.py, as tensorboard and
# onnx users meet it), with its two numbered workarounds on lines of their own.
PROTOBUF_TEXT = """Traceback (most recent call last):
  File "train.py", line 3, in <module>
    from torch.utils.tensorboard import SummaryWriter
TypeError: Descriptors cannot be created directly.
If this call came from a _pb2.py file, your generated code is out of date and must be regenerated with protoc >= 3.19.0.
If you cannot immediately regenerate your protos, some other possible workarounds are:
 1. Downgrade the protobuf package to 3.20.x or lower.
 2. Set PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python (but this will use pure-Python parsing and will be much slower).

More information: https://developers.google.com/protocol-buffers/docs/news/2022-05-06#python-updates
"""


@pytest.mark.parametrize("condensed", [False, True])
def test_every_remedy_a_message_lists_is_kept(tmp_path, monkeypatch, condensed):
    """A message that lists its workarounds keeps all of them, in its order, whether the text keeps the message's
    line breaks or a worker condensed it onto one line."""
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    text = " ".join(PROTOBUF_TEXT.split("\n")[3:]) if condensed else PROTOBUF_TEXT
    cause = diagnosis.explain(text, found)
    assert cause.fact == "torch's own message"
    assert cause.fix.startswith(
        "Downgrade the protobuf package to 3.20.x or lower; or Set PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python"
    )


def test_an_unrecognised_error_says_so_and_never_says_reinstall(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain("RuntimeError: something nobody has seen before", found)
    assert not cause.recognised and cause.meaning.startswith("not recognised: RuntimeError: something nobody")
    assert "--json" in cause.fix and "reinstall" not in cause.fix


def test_an_unrecognised_error_raised_in_a_package_s_own_code_names_that_release(tmp_path, monkeypatch):
    """bitsandbytes-foundation/bitsandbytes#592: bitsandbytes 0.40.1's cuda_setup/main.py raises "ValueError: too
    many values to unpack (expected 4)" at import on a machine without CUDA; 0.40.2 fixed it. No rule knows the
    message: it stays unrecognised, and names the release whose code raised it and that project's upgrade."""
    from diagnosis_facts import installed

    prefix, packages = site(tmp_path)
    files = {"bnblike/__init__.py": "", "bnblike/cuda_setup/main.py": "x = 1\n"}
    installed(packages, "bnblike", "0.40.1", files)
    found = facts_for(monkeypatch, prefix, [packages])
    text = (
        'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n'
        '  File "%s/bnblike/cuda_setup/main.py", line 120, in get_cuda_version_tuple\n'
        "    major, minor, patch, _ = version\nValueError: too many values to unpack (expected 4)" % packages
    )
    cause = diagnosis.explain(text, found)
    assert not cause.recognised
    assert "; raised in bnblike 0.40.1's own code (bnblike/cuda_setup/main.py:120)" in cause.meaning
    assert "a later release may handle this machine (`python -m pip install -U bnblike`)" in cause.fix
    assert "reinstall" not in cause.fix


@pytest.mark.parametrize(
    "text, variables, fix",
    [
        # mkl-service's refusal (pytorch/ort#102): the variable is the fact, the stable text's fix is the fix
        (
            "Error: mkl-service + Intel(R) MKL: MKL_THREADING_LAYER=INTEL is incompatible with libgomp.so.1 library.",
            {"MKL_THREADING_LAYER": "INTEL"},
            "MKL_THREADING_LAYER=GNU",
        ),
        # glibc's static TLS (AmpereComputingAI/ampere_model_library#161): preload the library it names
        (
            "OSError: /env/site-packages/torch/lib/libgomp-d22c30c5.so.1: cannot allocate memory in static TLS block",
            {},
            "LD_PRELOAD=/env/site-packages/torch/lib/libgomp-d22c30c5.so.1",
        ),
    ],
)
def test_stable_texts_keep_their_own_fix(tmp_path, monkeypatch, text, variables, fix):
    prefix, packages = site(tmp_path)
    found = dataclasses.replace(facts_for(monkeypatch, prefix, [packages]), variables=variables)
    assert fix in diagnosis.explain(text, found).fix


def test_every_fact_rule_is_one_of_explain_s_rules():
    """diagnosis.FACT_RULES (what dist trusts over its general advice) names rules explain() runs, in its order."""
    import inspect

    source = inspect.getsource(diagnosis.explain)
    order = [source.index('("%s",' % name) for name in diagnosis.FACT_RULES]
    assert order == sorted(order)


def test_judge_replaces_an_exception_s_fail_with_its_cause_and_leaves_the_rest(tmp_path, monkeypatch):
    """diagnosis.judge: a FAIL carrying an exception from the environment gets the cause, the fix and the deciding
    fact; the facts are asked for only then; a PASS, a FAIL without an exception or one judged already is kept."""
    from checks.report import FAIL, PASS, Result

    prefix, packages = site(tmp_path)
    found = facts_for(monkeypatch, prefix, [packages])
    asked = []

    def facts():
        asked.append(1)
        return found

    kept = [
        Result(name="a", status=PASS, summary="ok"),
        Result(name="b", status=FAIL, summary="plain", hint="h"),
        Result(name="c", status=FAIL, summary="done", data={"exception": "x", "fact": "judged before"}),
    ]
    assert [diagnosis.judge(r, facts) for r in kept] == kept and not asked
    raised = Result(  # modelscope/ms-swift#3267's error, as run_check records an exception raised inside torch
        name="simplenet-cuda-fp32-eager",
        status=FAIL,
        summary="raised RuntimeError: CUDA error: device-side assert triggered (at module.py:1)",
        actual="RuntimeError: CUDA error: device-side assert triggered",
        hint="not recognised; rerun with --json and report the file",
        data={"exception": "RuntimeError: CUDA error: device-side assert triggered"},
    )
    judged = diagnosis.judge(raised, facts)
    assert asked == [1]
    assert judged.name == raised.name and judged.status == FAIL and judged.actual == raised.actual
    assert "index out of range" in judged.summary and "CUDA_LAUNCH_BLOCKING=1" in judged.hint
    assert judged.data["fact"].startswith("CUDA error cudaErrorAssert (code 710") and judged.data["recognised"] is True


def test_torch_s_remedy_after_as_a_temporary_fix_is_kept(tmp_path, monkeypatch):
    """torch's message for an operator MPS lacks puts its remedy after "As a temporary fix," (the text as reports of
    torch 2.x quote it, e.g. for aten::isin.Tensor_Tensor_out)."""
    prefix, packages = site(tmp_path)
    text = (
        "NotImplementedError: The operator 'aten::_linalg_solve_ex.result' is not currently implemented for the MPS "
        "device. If you want this op to be added in priority during the prototype phase of this feature, please "
        "comment on https://github.com/pytorch/pytorch/issues/77764. As a temporary fix, you can set the environment "
        "variable `PYTORCH_ENABLE_MPS_FALLBACK=1` to use the CPU as a fallback for this op. WARNING: this will be "
        "slower than running natively on MPS."
    )
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "torch" and cause.fix.startswith("you can set the environment variable")
    assert "PYTORCH_ENABLE_MPS_FALLBACK=1" in cause.fix
