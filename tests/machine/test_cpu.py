"""Tests for checks/machine/cpu.py: /proc/cpuinfo's flags line (the kernel's names) and the x86-64 psABI levels."""

from checks.machine import cpu

# The flags of a QEMU guest with the default `qemu64` model (x86-64-v1: no SSE4.1/4.2, no POPCNT, no AVX), as
# /proc/cpuinfo prints them; and of a Haswell (x86-64-v3: AVX2, no AVX-512)
QEMU64 = (
    "fpu de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 syscall nx lm pni"
)
HASWELL = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht "
    "tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc pni pclmulqdq dtes64 monitor ds_cpl vmx est tm2 ssse3 sdbg fma "
    "cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm abm cpuid_fault epb "
    "invpcid_single pti ssbd ibrs ibpb stibp tpr_shadow flexpriority ept vpid fsgsbase tsc_adjust bmi1 avx2 smep bmi2 "
    "erms invpcid xsaveopt"
)


def cpuinfo(tmp_path, flags):
    path = tmp_path / "cpuinfo"
    path.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: %s\nbogomips\t: 4800.00\n\n" % flags)
    return str(path)


def test_levels_follow_the_psabi(tmp_path):
    assert cpu.describe("x86_64", cpuinfo(tmp_path, QEMU64))[1:] == (
        1,
        ("cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"),
    )
    assert cpu.describe("x86_64", cpuinfo(tmp_path, HASWELL))[1] == 3
    full = HASWELL + " avx512f avx512dq avx512cd avx512bw avx512vl"
    assert cpu.describe("x86_64", cpuinfo(tmp_path, full))[1:] == (4, ())


def test_other_machines_and_missing_files_are_unknown(tmp_path):
    assert cpu.describe("aarch64", cpuinfo(tmp_path, "fp asimd evtstrm aes"))[1:] == (None, None)
    assert cpu.describe("x86_64", str(tmp_path / "absent"))[1:] == (None, None)
