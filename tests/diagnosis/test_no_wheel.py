"""Tests for checks/diagnosis/no_wheel.py: torch missing where PyPI has no wheel for the interpreter or platform.
The platforms and Pythons are checks/compat.py's tables (PyPI's own file lists); the texts are pip's."""

import dataclasses

import pytest
from diagnosis_facts import facts_for, site

from checks import compat, diagnosis
from checks.diagnosis import no_wheel

LINUX = no_wheel.Platform(system="linux", machine="x86_64", bits=64, libc="glibc", python="3.11.7")
NO_MATCH = (  # pip's resolver when no file fits (pip/_internal/resolution/resolvelib/factory.py)
    "ERROR: Could not find a version that satisfies the requirement torch (from versions: none)\n"
    "ERROR: No matching distribution found for torch"
)


@pytest.mark.parametrize(
    ("changes", "words", "fix"),
    [
        ({"bits": 32}, "32-bit", "64-bit Python"),
        ({"libc": "musl"}, "musl", "glibc-based image"),
        ({"machine": "ppc64le"}, "no torch wheel for linux ppc64le", "from source"),
        ({"system": "darwin", "machine": "x86_64"}, "is 2.2.2", 'pip install "torch==2.2.2"'),
        ({"python": "3.99.0"}, "Python 3.99.0", "or older"),
    ],
)
def test_each_platform_pypi_has_no_torch_for_is_named(changes, words, fix):
    meaning, remedy, _ = no_wheel.problem(dataclasses.replace(LINUX, **changes))
    assert words in meaning and fix in remedy


@pytest.mark.parametrize(
    "where",
    [LINUX, dataclasses.replace(LINUX, machine="aarch64"), no_wheel.Platform("win32", "AMD64", 64, None, "3.12.1")],
)
def test_platforms_with_wheels_decide_nothing(where):
    assert no_wheel.problem(where) is None


def test_the_newest_python_of_the_table_still_has_wheels():
    newest = compat.PYTHON_SUPPORT[compat.NEWEST_TORCH][1]
    assert no_wheel.problem(dataclasses.replace(LINUX, python=newest + ".0")) is None


def test_a_missing_torch_on_a_32_bit_python_is_judged_by_it(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    facts = facts_for(monkeypatch, prefix, [packages])
    monkeypatch.setattr(no_wheel, "here", lambda glibc: dataclasses.replace(LINUX, bits=32))
    cause = diagnosis.explain(NO_MATCH, facts)
    assert cause.rule == "no-wheel" and "64-bit wheels only" in cause.meaning
    monkeypatch.setattr(no_wheel, "here", lambda glibc: LINUX)
    assert diagnosis.explain(NO_MATCH, facts).rule != "no-wheel"


def test_a_wheel_file_for_another_python_or_platform_is_named():
    """pip's `<file> is not a supported wheel on this platform.` (pip/_internal/resolution/resolvelib/factory.py),
    judged by the file's PEP 425 tags against this interpreter's."""
    ours = no_wheel.distributions.interpreter_tag()
    other = "cp310" if ours[0] != "cp310" else "cp312"
    text = "ERROR: torch-2.0.1+cu117-%s-%s-%s.whl is not a supported wheel on this platform." % (other, other, ours[2])
    meaning, fix, fact = no_wheel.refused_wheel(text)
    assert "pip refused the wheel torch-2.0.1+cu117-%s" % other in meaning and "it is for Python" in meaning
    assert "take the %s wheel" % ours[0] in fix
    windows = "ERROR: torch-2.0.1-%s-%s-win_amd64.whl is not a supported wheel on this platform." % ours[:2]
    assert "platform win_amd64" in no_wheel.refused_wheel(windows)[0]
    fits = "ERROR: torch-2.0.1-%s-%s-%s.whl is not a supported wheel on this platform." % ours
    assert no_wheel.refused_wheel(fits) is None  # pip's reason is elsewhere: nothing decided here


@pytest.mark.parametrize(
    "text, python, meaning",
    [
        # pip's resolver (pip/_internal/resolution/resolvelib/factory.py) on Python 3.12 asked for torch 2.0.1
        (
            "ERROR: Could not find a version that satisfies the requirement torch==2.0.1 (from versions: 2.2.0, "
            "2.2.1, 2.2.2, 2.3.0)\nERROR: No matching distribution found for torch==2.0.1",
            "3.12.1",
            "torch==2.0.1 has no wheel for Python 3.12: torch 2.0.1 supports Python 3.8 to 3.11",
        ),
        (
            "ERROR: No matching distribution found for torch<2.5",
            "3.13.0",
            "torch<2.5 has no wheel for Python 3.13: torch 2.4.0 supports Python 3.8 to 3.12",
        ),
    ],
)
def test_a_pinned_release_without_wheels_for_this_python(text, python, meaning):
    """compat.PYTHON_SUPPORT (PyPI's cpXY tags) decides; the fix names the newest Python of that release."""
    found = no_wheel.pinned_release(text, python)
    assert found[0].startswith(meaning)
    assert "create the environment with Python" in found[1]


def test_a_pinned_release_with_wheels_for_this_python_is_not_blamed():
    assert no_wheel.pinned_release("ERROR: No matching distribution found for torch==2.0.1", "3.11.7") is None
    assert no_wheel.pinned_release("ERROR: No matching distribution found for torchvision==9.9", "3.12.1") is None


# musl's dynamic linker (ldso/dynlink.c: "Error loading shared library %s: %m (needed by %s)") loading torch's
# glibc build on Alpine (pytorch/pytorch#1618's kind)
MUSL_TEXT = (
    "ImportError: Error loading shared library ld-linux-x86-64.so.2: No such file or directory (needed by "
    "/usr/lib/python3.11/site-packages/torch/_C.cpython-311-x86_64-linux-musl.so)"
)


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="a Linux C library's failure")
def test_a_glibc_build_on_a_system_without_glibc(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    cause = diagnosis.explain(MUSL_TEXT, facts_for(monkeypatch, prefix, [packages], glibc=None))
    assert cause.rule == "no-wheel" and "C library is not glibc" in cause.meaning and "Debian" in cause.fix
    glibc_loader = "OSError: ld-linux-x86-64.so.2: cannot open shared object file: No such file or directory"
    cause = diagnosis.explain(glibc_loader, facts_for(monkeypatch, prefix, [packages], glibc=None))
    assert cause.rule == "no-wheel" and "no glibc here" in cause.meaning
    cause = diagnosis.explain(MUSL_TEXT, facts_for(monkeypatch, prefix, [packages]))  # glibc 2.36: not this rule
    assert cause.rule != "no-wheel"
