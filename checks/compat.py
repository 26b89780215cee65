"""Compatibility facts: drivers per CUDA release, Python per torch release, domain-library pairing."""

from checks.versions import key as version_key
from checks.versions import matches as spec_matches
from checks.versions import minor as minor_key

# Minimum NVIDIA driver for each CUDA toolkit at full compatibility (Linux, Windows).
# Source: NVIDIA CUDA Toolkit Release Notes, Table 3.
MIN_DRIVER = {
    "11.7": ("515.43.04", "516.01"),
    "11.8": ("520.61.05", "520.06"),
    "12.0": ("525.60.13", "527.41"),
    "12.1": ("530.30.02", "531.14"),
    "12.4": ("550.54.14", "551.61"),
    "12.6": ("560.28.03", "560.76"),
    "12.8": ("570.26", "570.65"),
    "12.9": ("575.51.03", "576.02"),
    "13.0": ("580", "580"),  # the compatibility guide: CUDA 13.x needs a 580+ driver
}

# Minor-version compatibility floor per CUDA major (limited feature set: no PTX JIT of newer PTX).
# Source: NVIDIA "CUDA Minor Version Compatibility".
MINOR_COMPAT_FLOOR = {11: ("450.80.02", "452.39"), 12: ("525.60.13", "527.41"), 13: ("580", "580")}

# Oldest and newest Python each torch minor release supports (pytorch RELEASE.md matrix).
PYTHON_SUPPORT = {
    (2, 0): ("3.8", "3.11"),
    (2, 1): ("3.8", "3.11"),
    (2, 2): ("3.8", "3.12"),
    (2, 3): ("3.8", "3.12"),
    (2, 4): ("3.8", "3.12"),
    (2, 5): ("3.9", "3.13"),
    (2, 6): ("3.9", "3.13"),
    (2, 7): ("3.9", "3.13"),
    (2, 8): ("3.9", "3.13"),
    (2, 9): ("3.10", "3.14"),
}


def driver_verdict(cuda_runtime, driver_version, windows=False):
    """Judge a driver against a CUDA runtime: ("ok" | "limited" | "too-old" | "unknown", needed)."""
    column = 1 if windows else 0
    runtime = ".".join(str(p) for p in version_key(cuda_runtime)[:2])
    known = sorted(MIN_DRIVER, key=version_key)
    at_or_below = [v for v in known if version_key(v) <= version_key(runtime)]
    if not at_or_below or driver_version is None:
        return "unknown", None
    needed = MIN_DRIVER[at_or_below[-1]][column]
    if version_key(driver_version) >= version_key(needed):
        return "ok", needed
    floor = MINOR_COMPAT_FLOOR.get(version_key(runtime)[0])
    if floor and version_key(driver_version) >= version_key(floor[column]):
        return "limited", needed
    return "too-old", needed


def python_ok(python_version, torch_version):
    """Return True/False if this Python is supported by this torch, or None when the table has no entry."""
    support = PYTHON_SUPPORT.get(minor_key(torch_version))
    if support is None:
        return None
    return spec_matches(python_version, ">=%s,<=%s.9999" % support)


def paired_versions(torch_version):
    """Return the (torchvision, torchaudio) release that pairs with a torch release."""
    major, minor, patch = (version_key(torch_version) + (0, 0, 0))[:3]
    if (major, minor) == (2, 0):
        # 2.0.0 shipped with 0.15.1 / 2.0.1 and 2.0.1 with 0.15.2 / 2.0.2 (previous-versions page).
        return "0.15.%d" % (patch + 1), "2.0.%d" % (patch + 1)
    return "0.%d.%d" % (minor + 15, patch), "%d.%d.%d" % (major, minor, patch)


def arch_support(capability, arch_list):
    """Judge a device capability against a build's arch list: ("native" | "compatible" | "ptx" | "none", detail)."""
    major, minor = capability
    sass = {}
    ptx = []
    for arch in arch_list:
        kind, _, digits = arch.partition("_")
        digits = digits.rstrip("af")
        if not digits.isdigit():
            continue
        cap = (int(digits[:-1]), int(digits[-1]))
        (sass.__setitem__(cap, arch) if kind == "sm" else ptx.append(cap))
    if (major, minor) in sass:
        return "native", sass[(major, minor)]
    same_major = [c for c in sass if c[0] == major and c[1] <= minor]
    if same_major:
        return "compatible", sass[max(same_major)]
    usable_ptx = [c for c in ptx if c <= (major, minor)]
    if usable_ptx:
        return "ptx", "compute_%d%d" % max(usable_ptx)
    return "none", None
