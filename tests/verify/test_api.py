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


def _call(positional=(), keywords=()):
    from checks.machine.project import Call

    return Call(dotted="lib.f", positional=len(positional), arguments=tuple(positional), keywords=tuple(keywords),
                file="m.py", line=1)  # fmt: skip


def test_a_call_an_installed_signature_refuses_is_named_with_the_reason():
    """librosa 0.10.0's filters.py: `def mel(*, sr: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0, fmax:
    Optional[float] = None, htk: bool = False, ...)`, called as Wav2Lip's audio.py does (ajay-sainy/Wav2Lip-GFPGAN#8:
    "mel() takes 0 positional arguments but 2 positional arguments (and 3 keyword-only arguments) were given")."""

    def mel(*, sr: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0, fmax=None, htk: bool = False):
        return None

    refused = api.call_refusal(mel, _call(("hp.sample_rate", "hp.n_fft"), ("n_mels", "fmin", "fmax")))
    assert refused.reason == "takes 0 arguments by position and the call passes 2; sr, n_fft only by keyword"
    assert refused.keywords == "sr=hp.sample_rate, n_fft=hp.n_fft"
    assert refused.signature == "(*, sr, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False)"
    assert api.call_refusal(mel, _call((), ("sr", "n_fft"))) is None
    assert api.call_refusal(mel, _call((), ("sr", "n_fft", "center"))).reason == "has no parameter 'center'"
    assert api.call_refusal(mel, _call((), ("sr",))).reason == "requires n_fft, which the call does not pass"


def test_signatures_that_do_not_show_what_a_call_meets_are_not_judged():
    """librosa 0.9.2 wraps the same keyword-only mel in `deprecate_positional_args` (librosa/util/decorators.py:
    `@wraps(f) def inner_f(*args, **kwargs)`), which passes positional arguments on with a FutureWarning: the
    wrapper's signature is read, not `__wrapped__`'s. C functions, metaclass-built classes and callable instances
    have none read."""
    import enum
    import functools
    import math

    def mel(*, sr, n_fft):
        return None

    @functools.wraps(mel)
    def inner_f(*args, **kwargs):
        return mel(**kwargs)

    class Kind(enum.Enum):
        A = 1

    class Plain:
        def __init__(self, depth, width=2):
            self.depth = depth

    assert api.call_refusal(inner_f, _call(("22050", "2048"))) is None
    assert api.call_refusal(math.floor, _call(("1", "2", "3"))) is None
    assert api.call_refusal(Kind, _call(("1", "2", "3"))) is None
    assert api.call_refusal(functools.partial(mel), _call(("1",))) is None
    assert api.call_refusal(Plain, _call(("1", "2"))) is None
    assert api.call_refusal(Plain, _call(("1", "2", "3"))).reason == (
        "takes 2 arguments by position and the call passes 3"
    )


WRAPPERS = """
import functools


def _defaults_from_env_vars(fn):
    @functools.wraps(fn)
    def insert_env_defaults(self, *args, **kwargs):
        return fn(self, **kwargs)

    return insert_env_defaults


def deprecate_kwarg(old_arg_name, new_arg_name):
    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            if old_arg_name in kwargs:
                kwargs[new_arg_name] = kwargs.pop(old_arg_name)
            return fn(*args, **kwargs)

        return inner

    return wrap


def validate_hf_hub_args(fn):
    @functools.wraps(fn)
    def _inner_fn(*args, **kwargs):
        kwargs = smoothly_deprecate_use_auth_token(kwargs)
        return fn(*args, **kwargs)

    return _inner_fn


def smoothly_deprecate_use_auth_token(kwargs):
    if "use_auth_token" in kwargs:
        kwargs["token"] = kwargs.pop("use_auth_token")
    return kwargs


class Trainer:
    @_defaults_from_env_vars
    def __init__(self, accelerator="auto", devices="auto", max_epochs=None):
        self.devices = devices


@deprecate_kwarg("cols", "columns")
def to_csv(path, columns=None):
    return path


@validate_hf_hub_args
def build_hf_headers(token=None, library_name=None):
    return {}
"""


def test_through_a_wrapper_that_takes_anything_only_keywords_are_judged(tmp_path):
    """Lightning 2.0's Trainer.__init__ is wrapped by `_defaults_from_env_vars` (lightning/pytorch/utilities/
    argparse.py: `@wraps(fn) def insert_env_defaults(self, *args, **kwargs)`, which moves positional arguments to
    keywords and calls `fn(self, **kwargs)`), so `Trainer(gpus=1)` fails: "Trainer.__init__() got an unexpected
    keyword argument 'gpus'" (gpus was removed in 2.0). A keyword the wrapper translates is not judged: pandas'
    deprecate_kwarg holds `old_arg_name` in its closure; huggingface_hub 0.16's validate_hf_hub_args turns
    `use_auth_token=` into `token=` in a helper of its file (utils/_validators.py), which writes it as a string
    (huggingface/transformers#16563's build_hf_headers(use_auth_token=...) call is fine). The wrappers live in a
    module file of their own, as in those packages."""
    import importlib.util

    (tmp_path / "wrappers.py").write_text(WRAPPERS)
    spec = importlib.util.spec_from_file_location("wrappers", tmp_path / "wrappers.py")
    wrappers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wrappers)

    refused = api.call_refusal(wrappers.Trainer, _call((), ("gpus", "max_epochs")))
    assert refused.reason == "has no parameter 'gpus'"
    assert refused.signature == "(accelerator='auto', devices='auto', max_epochs=None)"
    assert api.call_refusal(wrappers.Trainer, _call(("1", "2", "3", "4"), ("devices",))) is None  # positions
    assert api.call_refusal(wrappers.to_csv, _call(("p",), ("cols",))) is None
    assert api.call_refusal(wrappers.to_csv, _call(("p",), ("sep",))).reason == "has no parameter 'sep'"
    assert api.call_refusal(wrappers.build_hf_headers, _call((), ("use_auth_token",))) is None
    assert api.call_refusal(wrappers.build_hf_headers, _call((), ("tokn",))).reason == "has no parameter 'tokn'"
