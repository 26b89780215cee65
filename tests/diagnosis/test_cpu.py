"""Tests for checks/diagnosis/cpu.py: a SIGILL judged by the CPU's x86-64 level."""

from diagnosis_facts import facts_for, site

from checks import diagnosis
from checks.diagnosis import cpu

# verify's line for an `import torch` that died of SIGILL (checks/errors.py's signal meaning, causes.of_crash)
CRASH = "import torch was killed by SIGILL (illegal instruction)"


def test_a_cpu_without_avx2_is_named(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    facts = facts_for(monkeypatch, prefix, [packages])
    monkeypatch.setattr(cpu.cpu, "describe", lambda: ("x86_64", 2, ("avx", "avx2", "fma")))
    cause = diagnosis.explain(CRASH, facts)
    assert cause.rule == "cpu" and "x86-64-v2" in cause.meaning and "avx2" in cause.meaning
    assert "-cpu host" in cause.fix


def test_a_cpu_with_avx2_points_at_a_library_built_for_more(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    facts = facts_for(monkeypatch, prefix, [packages])
    monkeypatch.setattr(cpu.cpu, "describe", lambda: ("x86_64", 3, ("avx512f",)))
    cause = diagnosis.explain(CRASH, facts)
    assert cause.rule == "cpu" and "has AVX2" in cause.meaning and "invalid opcode" in cause.fix


def test_an_avx512_cpu_or_an_unknown_one_leaves_it_to_the_table(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    facts = facts_for(monkeypatch, prefix, [packages])
    for answer in (("x86_64", 4, ()), ("aarch64", None, None)):
        monkeypatch.setattr(cpu.cpu, "describe", lambda answer=answer: answer)
        assert diagnosis.explain(CRASH, facts).rule != "cpu"
