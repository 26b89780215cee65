"""Compatibility facts per release: NVIDIA drivers per CUDA, Python and torch.compile per torch, the domain
libraries that pair with each torch, and which CUDA toolkits can build kernels for each GPU architecture.

Every torch table covers each release through NEWEST_TORCH; a newer torch is not judged by them (the checks say
the tables do not know it) rather than by an older release's answer.
"""

import re
from typing import NamedTuple, Optional, Tuple

from checks.workspace.versions import key as version_key
from checks.workspace.versions import matches as spec_matches
from checks.workspace.versions import minor as minor_key

# The newest torch release these tables know (torch 2.15.0, PyPI, 2026-10-28).
NEWEST_TORCH = (2, 15)

# Minimum NVIDIA driver for each CUDA toolkit at full compatibility (Linux, Windows). Source: NVIDIA CUDA Toolkit
# Release Notes, "CUDA Driver" table (GA rows); CUDA 13.x is given there as a driver branch (R580 ... R615).
MIN_DRIVER = {
    "11.4": ("470.42.01", "471.11"),
    "11.5": ("495.29.05", "496.04"),
    "11.6": ("510.39.01", "511.23"),
    "11.7": ("515.43.04", "516.01"),
    "11.8": ("520.61.05", "520.06"),
    "12.0": ("525.60.13", "527.41"),
    "12.1": ("530.30.02", "531.14"),
    "12.2": ("535.54.03", "536.25"),
    "12.3": ("545.23.06", "545.84"),
    "12.4": ("550.54.14", "551.61"),
    "12.5": ("555.42.02", "555.85"),
    "12.6": ("560.28.03", "560.76"),
    "12.8": ("570.26", "570.65"),
    "12.9": ("575.51.03", "576.02"),
    "13.0": ("580", "580"),
    "13.1": ("590", "590"),
    "13.2": ("595", "595"),
    "13.3": ("610", "610"),
    "13.4": ("615", "615"),
}

# Minor-version compatibility floor per CUDA major (limited feature set: no JIT of newer PTX). Source: the same
# release notes: "11.x >= 450.80.02 (Linux) / 452.39 (Windows)", "12.x >= 525", "13.x >= 580".
MINOR_COMPAT_FLOOR = {11: ("450.80.02", "452.39"), 12: ("525.60.13", "527.41"), 13: ("580", "580")}

# Oldest and newest Python each torch minor release has wheels for (the cpXY tags of its files on PyPI, read
# 2026-11-30: 2.0-2.1 cp38-cp311, 2.2-2.4 cp38-cp312, 2.5-2.8 cp39-cp313, 2.9-2.14 cp310-cp314, 2.15 cp311-cp315).
PYTHON_SUPPORT = {(2, m): ("3.8", "3.11") for m in (0, 1)}
PYTHON_SUPPORT.update({(2, m): ("3.8", "3.12") for m in (2, 3, 4)})
PYTHON_SUPPORT.update({(2, m): ("3.9", "3.13") for m in (5, 6, 7, 8)})
PYTHON_SUPPORT.update({(2, m): ("3.10", "3.14") for m in range(9, 15)})
PYTHON_SUPPORT[(2, 15)] = ("3.11", "3.15")

# The platforms PyPI has torch wheels for, with the first and last release that has one (None: still published):
# the platform tags of every torch file in PyPI's simple index (`/simple/torch/`, JSON, read 2026-12-06). 64-bit
# CPython only: no win32, i686, musllinux, ppc64le or s390x wheel exists for any release.
PYPI_TORCH_PLATFORMS = {
    ("linux", "x86_64"): ("1.0.0", None),
    ("linux", "aarch64"): ("1.8.0", None),
    ("darwin", "arm64"): ("1.8.0", None),
    ("darwin", "x86_64"): ("1.0.0", "2.2.2"),
    ("win32", "amd64"): ("1.7.0", None),
}


def pypi_torch_platform(system, machine):
    """Return (first, last) torch release PyPI has wheels for on this OS (`sys.platform`'s `linux`, `darwin`,
    `win32`) and machine (`platform.machine()`, any case), or None where it has none (see PYPI_TORCH_PLATFORMS)."""
    system = "linux" if system.startswith("linux") else system
    return PYPI_TORCH_PLATFORMS.get((system, machine.lower()))


# Oldest and newest Python each torch 1.x release has wheels for on PyPI (Linux x86-64, CPython), read with pip's
# own client: `pip index versions torch --python-version X.Y --only-binary=:all: --implementation cp --platform
# manylinux1_x86_64 --platform manylinux2014_x86_64 --platform linux_x86_64` for X.Y = 3.5 ... 3.12 (2026-12-06; 3.6
# as 3.6.15, since 1.5 onwards declare Requires-Python >=3.6.2). 1.0-1.4 also have cp27 wheels. 1.7.1 added cp39
# (1.7.0 has none) and 1.13 cp311, which RELEASE.md's compatibility matrix (">=3.7, <=3.10") leaves out.
TORCH1_PYTHON = {v: ("3.5", "3.7") for v in ("1.0.0", "1.0.1", "1.1.0", "1.2.0", "1.3.0", "1.3.1")}
TORCH1_PYTHON.update({v: ("3.5", "3.8") for v in ("1.4.0", "1.5.0", "1.5.1")})
TORCH1_PYTHON.update({v: ("3.6", "3.8") for v in ("1.6.0", "1.7.0")})
TORCH1_PYTHON.update({v: ("3.6", "3.9") for v in ("1.7.1", "1.8.0", "1.8.1", "1.9.0", "1.9.1")})
TORCH1_PYTHON.update({v: ("3.6", "3.9") for v in ("1.10.0", "1.10.1", "1.10.2")})
TORCH1_PYTHON.update({v: ("3.7", "3.10") for v in ("1.11.0", "1.12.0", "1.12.1")})
TORCH1_PYTHON.update({v: ("3.7", "3.11") for v in ("1.13.0", "1.13.1")})

# Newest Python torch.compile accepts per torch minor release: the version gates in torch/__init__.py `compile()`
# and torch/_dynamo/eval_frame.py `check_if_dynamo_supported` of each release's wheel (2.0: "Python 3.11+ not yet
# supported for torch.compile"; 2.1-2.3: 3.12+; 2.4-2.5: 3.13+; 2.6-2.9: 3.14+; 2.10-2.14: 3.15+; 2.15: 3.16+).
COMPILE_PYTHON_MAX = {(2, 0): "3.10"}
COMPILE_PYTHON_MAX.update({(2, m): "3.11" for m in (1, 2, 3)})
COMPILE_PYTHON_MAX.update({(2, m): "3.12" for m in (4, 5)})
COMPILE_PYTHON_MAX.update({(2, m): "3.13" for m in (6, 7, 8, 9)})
COMPILE_PYTHON_MAX.update({(2, m): "3.14" for m in range(10, 15)})
COMPILE_PYTHON_MAX[(2, 15)] = "3.15"
# Inductor's C++ compiler: torch 2.0 hard-codes config.cpp.cxx = (None, "g++"); from 2.1 it is $CXX when set
# (pytorch/pytorch#94926), with clang++ the default on macOS from 2.3 and cl on Windows (cpp_builder, 2.5+).
CXX_FROM_ENV_SINCE = (2, 1)

# torch wheels are built against NumPy 2 from 2.3 (earlier ones print "A module that was compiled using NumPy 1.x
# cannot be run in NumPy 2" and fail with "Numpy is not available": pawansharmaaaa/Lip_Wise#20,
# securefederatedai/openfederatedlearning#999 with 2.2.2).
NUMPY2_SINCE = (2, 3)
# torch.autocast(device_type="mps") exists from torch 2.5 (its release notes: autocast on MPS).
MPS_AUTOCAST_SINCE = (2, 5)
# The macOS that MPS needs, by torch release (since, floor): 12.3 through 2.4 ("The MPS backend is supported on MacOS
# 12.3+", pytorch/pytorch#100879); 13.0 from 2.5, when the 12.3 checks were deleted (pytorch/pytorch#133141, merged
# 2024-08-14); 14.0 from 2.8 (pytorch/pytorch#163515 "PyTorch needs MacOS-14 or newer to use MPS",
# pytorch/pytorch#173149 "the minimum version has been 14.0+ since v2.8.0"; on macOS 13.7 a 2.10 build finds MPS
# unavailable, pytorch/pytorch#164943). A torch newer than the table keeps the last floor.
MPS_MACOS_FLOOR = (((2, 0), "12.3"), ((2, 5), "13.0"), ((2, 8), "14.0"))


def mps_macos_floor(torch_version):
    """Return the macOS version MPS needs under `torch_version` (`2.13.0`), e.g. "14.0" (see MPS_MACOS_FLOOR)."""
    key = minor_key(torch_version)
    return [floor for since, floor in MPS_MACOS_FLOOR if key >= since][-1] if key >= MPS_MACOS_FLOOR[0][0] else None


# The torchvision and torchaudio each torch release ships with (PyTorch's release matrix; checked against the
# wheels' Requires-Dist: torchvision 0.24.1 -> torch==2.9.1, 0.25.0 -> ==2.10.0, 0.28.0 -> ==2.13.0,
# 0.29.0 -> ==2.14.0, 0.29.1/0.29.2 -> >=2.14.0; torchaudio 2.10.0 -> ==2.10.0, 2.11.1 -> >=2.11, and no
# torchaudio after 2.11). A library that pins torch itself is judged by its own pin first (checks/verify).
LAST_TORCHAUDIO = "2.11"
TORCHVISION_FLOATS_SINCE = (2, 14)  # torchvision 0.29.x accepts any torch >= 2.14


def paired_versions(torch_version):
    """Return the (torchvision, torchaudio) releases that pair with a torch release, as version specs, or None for
    a torch newer than NEWEST_TORCH."""
    major, minor, patch = (version_key(torch_version) + (0, 0, 0))[:3]
    if (major, minor) > NEWEST_TORCH:
        return None
    if (major, minor) == (2, 0):
        # 2.0.0 shipped with 0.15.1 / 2.0.1 and 2.0.1 with 0.15.2 / 2.0.2 (previous-versions page).
        return "0.15.%d" % (patch + 1), "2.0.%d" % (patch + 1)
    vision = "0.29.*" if (major, minor) >= TORCHVISION_FLOATS_SINCE else "0.%d.%d" % (minor + 15, patch)
    audio = "%d.%d.%d" % (major, minor, patch) if minor <= 10 else "%s.*" % LAST_TORCHAUDIO
    return vision, audio


def known(torch_version):
    """Return True when the tables here know this torch release (it is not newer than NEWEST_TORCH)."""
    return minor_key(torch_version) <= NEWEST_TORCH


def driver_verdict(cuda_runtime, driver_version, windows=False):
    """Judge a driver against a CUDA runtime: ("ok" | "limited" | "too-old" | "unknown", needed)."""
    column = 1 if windows else 0
    runtime = ".".join(str(p) for p in version_key(cuda_runtime)[:2])
    known_rows = sorted(MIN_DRIVER, key=version_key)
    at_or_below = [v for v in known_rows if version_key(v) <= version_key(runtime)]
    if not at_or_below or driver_version is None:
        return "unknown", None
    needed = MIN_DRIVER[at_or_below[-1]][column]
    if version_key(driver_version) >= version_key(needed):
        return "ok", needed
    floor = MINOR_COMPAT_FLOOR.get(version_key(runtime)[0])
    if floor and version_key(driver_version) >= version_key(floor[column]):
        return "limited", needed
    return "too-old", needed


# The CUDA builds PyTorch publishes of each torch minor release as wheel indexes (https://download.pytorch.org/whl/cuXYZ):
# the "Stable CUDA" and "Experimental CUDA" columns of the Release Compatibility Matrix in pytorch/pytorch RELEASE.md
# (2.0 to 2.14), which are the `--index-url .../cuXYZ` commands the "Previous PyTorch Versions" page
# (pytorch.github.io, _get_started/previous-versions.md) gives per release (e.g. 2.0.1: cu117, cu118; 2.5.1:
# cu118, cu121, cu124). No source read gives 2.15's builds: a torch without a row is not answered from another's.
WHEEL_CUDA = {(2, 0): ("11.7", "11.8")}
WHEEL_CUDA.update({(2, m): ("11.8", "12.1") for m in (1, 2, 3)})
WHEEL_CUDA.update({(2, m): ("11.8", "12.1", "12.4") for m in (4, 5)})
WHEEL_CUDA[(2, 6)] = ("11.8", "12.4", "12.6")
WHEEL_CUDA[(2, 7)] = ("11.8", "12.6", "12.8")
WHEEL_CUDA[(2, 8)] = ("12.6", "12.8", "12.9")
WHEEL_CUDA.update({(2, m): ("12.6", "12.8", "13.0") for m in (9, 10, 11)})
WHEEL_CUDA.update({(2, m): ("12.6", "13.0", "13.2") for m in (12, 13, 14)})

# The `pytorch-cuda` variants of each release on the legacy `pytorch` conda channel (`conda install pytorch==V
# pytorch-cuda=X.Y -c pytorch -c nvidia`): 2.0 and 2.1 as the channel's linux-64 repodata lists its builds
# (py3.x_cuda11.7_*, py3.x_cuda11.8_*, py3.x_cuda12.1_*; tests/data holds 2.0.1's records), 2.2 to 2.5 as the
# previous-versions page gives them. The channel has no pytorch after 2.5 (pixi's PyTorch guide: PyTorch stopped
# publishing there).
PYTORCH_CHANNEL_CUDA = {(2, 0): ("11.7", "11.8")}
PYTORCH_CHANNEL_CUDA.update({(2, m): ("11.8", "12.1") for m in (1, 2, 3)})
PYTORCH_CHANNEL_CUDA.update({(2, m): ("11.8", "12.1", "12.4") for m in (4, 5)})
PYTORCH_CHANNEL_LAST = (2, 5)


class CudaChoice(NamedTuple):
    """Which CUDA build of a release a driver runs (choose_cuda_build()).

    cuda: the chosen build's CUDA (`12.6`; for "too-old" the oldest one the GPUs allow, which `needed` runs), or
    None; verdict: "ok" (the driver supports it fully), "limited" (it runs
    under CUDA minor-version compatibility), "too-old" (the driver runs none of them), "no-kernels" (no build can
    have kernels for a GPU here), or "unknown" (no driver version, or no variants given); needed: the driver that
    supports `cuda` fully, or for "too-old" the one the oldest build needs; variants: the builds considered.
    """

    cuda: Optional[str]
    verdict: str
    needed: Optional[str]
    variants: Tuple[str, ...]


def choose_cuda_build(variants, driver_version, capabilities=(), windows=False):
    """Choose among a release's CUDA builds (`("12.6", "13.0", "13.2")`) the one this driver runs: the newest it
    supports fully (driver_verdict "ok"), else the newest it runs under minor-version compatibility ("limited", no
    JIT of newer PTX); a build whose CUDA cannot have kernels for a GPU here (cuda_can_build False for one of
    `capabilities`, (major, minor) tuples: CUDA 13 for Pascal, CUDA 12.6 for Blackwell) is passed over.

    Returns a CudaChoice; driver floors are MIN_DRIVER's and MINOR_COMPAT_FLOOR's (NVIDIA CUDA release notes)."""
    variants = tuple(sorted(variants or (), key=version_key))
    if not variants or not driver_version:
        return CudaChoice(cuda=None, verdict="unknown", needed=None, variants=variants)
    runnable = [v for v in variants if all(cuda_can_build(v, cap) is not False for cap in capabilities)]
    if not runnable:
        return CudaChoice(cuda=None, verdict="no-kernels", needed=None, variants=variants)
    judged = [(v,) + driver_verdict(v, driver_version, windows) for v in runnable]
    for wanted in ("ok", "limited"):
        fitting = [(v, needed) for v, verdict, needed in judged if verdict == wanted]
        if fitting:
            return CudaChoice(cuda=fitting[-1][0], verdict=wanted, needed=fitting[-1][1], variants=variants)
    return CudaChoice(cuda=judged[0][0], verdict="too-old", needed=judged[0][2], variants=variants)


def newest_release_for_driver(driver_version, capabilities=(), windows=False, table=None):
    """Return ((major, minor), CudaChoice) of the newest torch release in `table` (default WHEEL_CUDA) with a CUDA
    build this driver runs ("ok" or "limited") and that can have kernels for every GPU capability, or None: the
    release to keep a driver that is too old for the installed release's builds."""
    table = WHEEL_CUDA if table is None else table
    for key in sorted(table, reverse=True):
        choice = choose_cuda_build(table[key], driver_version, capabilities, windows)
        if choice.verdict in ("ok", "limited"):
            return key, choice
    return None


def cuda_tag(cuda_version):
    """Return PyTorch's build tag of a CUDA version: `12.6` -> `cu126` (wheel index and local version label)."""
    return "cu%d%d" % minor_key(cuda_version)


def python_ok(python_version, torch_version):
    """Return True/False if this Python is supported by this torch, or None when the table has no entry."""
    support = PYTHON_SUPPORT.get(minor_key(torch_version))
    if support is None:
        return None
    return spec_matches(python_version, ">=%s,<=%s.9999" % support)


def python_support(torch_version):
    """Return (oldest, newest) Python with wheels for a torch release (`1.9.1`, `1.9.1+cu111`: a local build shares
    its release's Pythons; `2.5.1`: the 2.x table is per minor release), or None for a release the tables lack."""
    release = ".".join(str(n) for n in (version_key(torch_version.split("+")[0]) + (0, 0, 0))[:3])
    return TORCH1_PYTHON.get(release) or PYTHON_SUPPORT.get(minor_key(release))


def releases_for_python(python_version, spec):
    """Judge a PEP 440 torch spec (`==1.9.1+cu111`, `>=1.8,<1.10`) against a Python: return (known, with_wheels),
    the known torch releases the spec admits (the 1.x releases, and x.y.0 of each 2.x minor release; a local label
    `+cu111` is dropped, since a local build has its release's Pythons) and those of them with wheels for this
    Python. (); () when the spec admits no release the tables know (nothing to judge)."""
    bare = ",".join(re.sub(r"\+[A-Za-z0-9.]*$", "", part.strip()) for part in str(spec).split(","))
    candidates = sorted(TORCH1_PYTHON, key=version_key)
    candidates += ["2.%d.0" % m for m in range(NEWEST_TORCH[1] + 1)]
    pinned = re.fullmatch(r"===?\s*([0-9][0-9.]*)", bare.strip())
    if pinned and pinned.group(1) not in candidates and python_support(pinned.group(1)):
        candidates.append(pinned.group(1))  # a 2.x patch release: its minor's row
    try:
        known = tuple(v for v in candidates if spec_matches(v, bare, pypi=True))
    except Exception:  # a spec neither packaging nor the conda grammar reads: not judged here
        return (), ()
    supported = []
    for version in known:
        low, high = python_support(version)
        if spec_matches(python_version, ">=%s,<=%s.9999" % (low, high)):
            supported.append(version)
    return known, tuple(supported)


def compile_python_ok(python_version, torch_version):
    """Return True/False if torch.compile of this torch accepts this Python, or None for an unknown torch."""
    newest = COMPILE_PYTHON_MAX.get(minor_key(torch_version))
    return None if newest is None else spec_matches(python_version, "<=%s.9999" % newest)


# The CUDA toolkits that can build kernels (SASS) for each compute capability: (first, first that cannot).
# Sources: NVIDIA CUDA Toolkit release notes (11.8 adds sm_89/sm_90; 12.0 drops sm_35/sm_37; 12.8 adds sm_100 and
# sm_120; 12.9 adds sm_103 and sm_121; 13.0 names Thor sm_110 and drops sm_50 to sm_72).
ARCH_CUDA = {
    (3, 5): ("5.0", "12.0"),
    (3, 7): ("5.0", "12.0"),
    (5, 0): ("6.0", "13.0"),
    (5, 2): ("6.5", "13.0"),
    (6, 0): ("8.0", "13.0"),
    (6, 1): ("8.0", "13.0"),
    (7, 0): ("9.0", "13.0"),
    (7, 2): ("10.0", "13.0"),
    (7, 5): ("10.0", None),
    (8, 0): ("11.0", None),
    (8, 6): ("11.1", None),
    (8, 7): ("11.4", None),
    (8, 9): ("11.8", None),
    (9, 0): ("11.8", None),
    (10, 0): ("12.8", None),
    (10, 3): ("12.9", None),
    (11, 0): ("13.0", None),
    (12, 0): ("12.8", None),
    (12, 1): ("12.9", None),
}
# torch.cuda.get_arch_list() of PyTorch 2.0's own CUDA builds (pip wheels; the pytorch channel's conda builds add
# sm_61 and compute_37). Sources: pytorch/pytorch#110153 (cu117 wheel on an H100), #95648 (the cu118 build).
TORCH20_ARCHES = {
    "11.7": ("sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86"),
    "11.8": ("sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"),
}

# The TORCH_CUDA_ARCH_LIST PyTorch's own CUDA builds (pip wheels and the pytorch conda channel) were compiled with,
# per release and CUDA build: (first release, last release, CUDA builds, TORCH_CUDA_ARCH_LIST). Source: pytorch/builder,
# manywheel/build.sh before its split and manywheel/build_cuda.sh after it, at the commit each release was built from
# (1.3.0: the script before commit 2aac90bd "moved 3.5 to 3.7", 2019-10-29, which dropped sm_35 from every later
# build, pytorch/pytorch#24205; 1.11 to 2.5: the release/1.11 ... release/2.5 branches of pytorch/builder). The CUDA
# builds are those the release published (the "Previous PyTorch Versions" page; 2.0 onwards WHEEL_CUDA). Releases
# 1.3.1 to 1.10 are not rowed here: their scripts start at "3.7" too, so no row is missing an older architecture.
OFFICIAL_BUILD_ARCHES = (
    ("1.3.0", "1.3.0", ("9.2",), "3.5;5.0+PTX;6.0;6.1;7.0"),
    ("1.3.0", "1.3.0", ("10.1",), "3.5;5.0+PTX;6.0;6.1;7.0;7.5"),
    ("1.11.0", "1.11.0", ("10.2",), "3.7;5.0;6.0;7.0"),
    ("1.11.0", "1.11.0", ("11.3", "11.5"), "3.7;5.0;6.0;7.0;7.5;8.0;8.6"),
    ("1.12.0", "1.12.1", ("10.2",), "3.7;5.0;6.0;7.0"),
    ("1.12.0", "1.12.1", ("11.3", "11.6"), "3.7;5.0;6.0;7.0;7.5;8.0;8.6"),
    ("1.13.0", "1.13.1", ("11.6", "11.7"), "3.7;5.0;6.0;7.0;7.5;8.0;8.6"),
    ("2.0.0", "2.0.1", ("11.7",), "3.7;5.0;6.0;7.0;7.5;8.0;8.6"),
    ("2.0.0", "2.0.1", ("11.8",), "3.7;5.0;6.0;7.0;7.5;8.0;8.6;9.0"),
    ("2.1.0", "2.5.1", ("11.8",), "5.0;6.0;7.0;7.5;8.0;8.6;3.7;9.0"),
    ("2.1.0", "2.5.1", ("12.1",), "5.0;6.0;7.0;7.5;8.0;8.6;9.0"),
    ("2.4.0", "2.5.1", ("12.4",), "5.0;6.0;7.0;7.5;8.0;8.6;9.0"),
)
# Oldest and newest Python of the releases rowed above whose wheels stop short of today's Pythons (PyPI file tags):
# torch 1.3.0 has cp27, cp35, cp36 and cp37 wheels.
OFFICIAL_BUILD_PYTHON = {"1.3.0": ("2.7", "3.7")}


def arch_list_names(torch_cuda_arch_list):
    """Turn a TORCH_CUDA_ARCH_LIST (`"3.7;5.0+PTX"`) into torch.cuda.get_arch_list()'s names (`sm_37`, `sm_50`,
    `compute_50`), as torch/utils/cpp_extension.py and cmake/Modules_CUDA_fix expand it."""
    names = []
    for item in torch_cuda_arch_list.replace(" ", ";").split(";"):
        if not item:
            continue
        number, ptx = (item[:-4], True) if item.endswith("+PTX") else (item, False)
        digits = number.replace(".", "")
        names.append("sm_" + digits)
        if ptx:
            names.append("compute_" + digits)
    return names


class OfficialBuild(NamedTuple):
    """The newest official release whose CUDA builds have kernels for a GPU (newest_official_build()).

    release: its version (`1.3.0`); cuda: those of its CUDA builds that have them (`("9.2", "10.1")`); match: the
    architecture that runs (`sm_35`); python: (oldest, newest) Python of its wheels, or None where any Python of
    its day has them; newest_known: True when it is the newest release the table rows (newer ones may have them
    too)."""

    release: str
    cuda: Tuple[str, ...]
    match: str
    python: Optional[Tuple[str, str]]
    newest_known: bool


def newest_official_build(capability):
    """Return the OfficialBuild of the newest release in OFFICIAL_BUILD_ARCHES whose CUDA builds have SASS that runs
    natively on a GPU of `capability` ((major, minor)), or None when none of them has.

    PTX alone is not counted: it needs the driver to JIT-compile every kernel, which a driver too old for the
    build's CUDA cannot do (NVIDIA CUDA Compatibility guide, minor-version compatibility limits)."""
    newest_row = max((row[1] for row in OFFICIAL_BUILD_ARCHES), key=version_key)
    fitting = []
    for _first, last, cudas, arch_list in OFFICIAL_BUILD_ARCHES:
        verdict, match = arch_support(tuple(capability), arch_list_names(arch_list))
        if verdict in ("native", "compatible"):
            fitting.append((version_key(last), last, cudas, match))
    if not fitting:
        return None
    best = max(fitting, key=lambda f: f[0])[0]
    cudas = tuple(sorted({c for key, _, cs, _ in fitting if key == best for c in cs}, key=version_key))
    release, match = next((last, match) for key, last, _, match in fitting if key == best)
    return OfficialBuild(
        release=release,
        cuda=cudas,
        match=match,
        python=OFFICIAL_BUILD_PYTHON.get(release),
        newest_known=release == newest_row,
    )


# The last NVIDIA driver branch that supports each GPU architecture, by compute capability (first, last):
# (architecture, branch). Sources: Kepler: NVIDIA's CUDA and architecture support matrix of 2021 ("Kepler 3.5 ...
# Last Driver Support R470") and its Kepler support plan (R470 is the last branch with Kepler, kept as a long-term
# branch for security fixes only); Maxwell, Pascal, Volta: NVIDIA's Unix graphics feature deprecation schedule
# (forums.developer.nvidia.com): "The release 580 series will be the last to support GPUs based on the Maxwell,
# Pascal, and Volta architectures." Newer architectures have no last branch yet.
LAST_DRIVER_BRANCH = (
    ((3, 0), (3, 7), "Kepler", "470"),
    ((5, 0), (5, 3), "Maxwell", "580"),
    ((6, 0), (6, 2), "Pascal", "580"),
    ((7, 0), (7, 2), "Volta", "580"),
)


class DriverEnd(NamedTuple):
    """The last driver branch of a GPU's architecture (last_driver_branch()): architecture (`Kepler`), branch
    (`470`), and newest_cuda: the newest CUDA toolkit that branch supports fully (`11.4`, from MIN_DRIVER)."""

    architecture: str
    branch: str
    newest_cuda: Optional[str]


def last_driver_branch(capability):
    """Return the DriverEnd of a GPU of `capability` ((major, minor)), or None while NVIDIA still ships new driver
    branches for its architecture (LAST_DRIVER_BRANCH)."""
    for first, last, architecture, branch in LAST_DRIVER_BRANCH:
        if first <= tuple(capability) <= last:
            runs = [cuda for cuda, (linux, _) in MIN_DRIVER.items() if version_key(linux)[0] <= int(branch)]
            newest = max(runs, key=version_key) if runs else None
            return DriverEnd(architecture=architecture, branch=branch, newest_cuda=newest)
    return None


def cuda_can_build(cuda_version, capability):
    """Return True if CUDA `cuda_version` can build kernels that run natively on a GPU of `capability` (its own
    architecture or an older one of the same major), False if not, None when the table does not know the GPU."""
    rows = [(cap, span) for cap, span in ARCH_CUDA.items() if cap[0] == capability[0] and cap[1] <= capability[1]]
    if not rows:
        return None
    cuda = version_key(cuda_version)
    return any(version_key(first) <= cuda and (last is None or cuda < version_key(last)) for _, (first, last) in rows)


def arch_capability(arch):
    """Return the (major, minor) of an arch name (`sm_86`, `compute_90`, `sm_90a`, `sm_100f`), or None."""
    digits = arch.partition("_")[2].rstrip("af")
    return (int(digits[:-1]), int(digits[-1])) if len(digits) >= 2 and digits.isdigit() else None


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


# Compute capability by product name, for a driver that does not report it (nvidia-smi before ~510 has no
# compute_cap field) and a GPU CUDA cannot start: NVIDIA's "CUDA GPUs" list (developer.nvidia.com/cuda-gpus) and
# each product's datasheet. First match wins: the more specific names come first.
CAPABILITY_BY_NAME = (
    (r"\bG?B[12]00\b", (10, 0)),
    (r"RTX (PRO )?50[5-9]0\b|RTX PRO \d000 Blackwell", (12, 0)),
    (r"\bG?H[128]00\b", (9, 0)),
    (r"\bL4\b|\bL40S?\b|\bL20\b|RTX 40\d\d|RTX \d000 Ada", (8, 9)),
    (r"\bA100\b|\bA800\b|\bA30\b", (8, 0)),
    (r"\bA10G?\b|\bA40\b|\bA16\b|\bA2\b|RTX 30\d\d|RTX A\d{3,4}\b", (8, 6)),
    (r"\bT4\b|TITAN RTX|Quadro RTX|RTX 20\d\d|GTX 16\d\d", (7, 5)),
    (r"V100|TITAN V\b", (7, 0)),
    (r"P100", (6, 0)),
    (r"\bP40\b|\bP4\b|GTX 10\d\d|TITAN Xp\b|P6000", (6, 1)),
    (r"\bM60\b|\bM40\b|GTX 9\d\d", (5, 2)),
    (r"\bK80\b", (3, 7)),
)


def capability_of_name(name):
    """Return the (major, minor) compute capability of a GPU product name (`Tesla V100-SXM2-32GB` -> (7, 0)) from
    CAPABILITY_BY_NAME, or None for a name it does not know."""
    for pattern, capability in CAPABILITY_BY_NAME:
        if re.search(pattern, name or ""):
            return capability
    return None


class GpuFeature(NamedTuple):
    """A GPU feature that needs a compute capability: `name` as NVIDIA and PyTorch write it, `floor` (major, minor)
    from which GPUs have it, `words` (a regex, case-insensitive: how a failure text names it), `source` of the
    floor, and the `fix` on a GPU below it."""

    name: str
    floor: Tuple[int, int]
    words: str
    source: str
    fix: str


FLOAT16_FIX = (
    "compute in float16 instead: `--bf16 False --fp16 True` (Hugging Face Trainer), `torch_dtype=torch.float16` "
    '(transformers), `dtype="half"` (vLLM), `torch.autocast("cuda", dtype=torch.float16)` with a GradScaler'
)

# Features older GPUs lack, in the order a failure naming several is judged. Each floor is its source's own test.
GPU_FEATURES = (
    GpuFeature(
        name="bfloat16",
        floor=(8, 0),
        words=r"\bbf16\b|bfloat16",
        source="torch.cuda.is_bf16_supported() (torch 2.0.1: device major >= 8; later releases emulate it slowly on "
        "older GPUs); transformers' TrainingArguments: \"Your setup doesn't support bf16/gpu ... using Ampere GPU\"; "
        'vLLM: "Bfloat16 is only supported on GPUs with compute capability of at least 8.0"',
        fix=FLOAT16_FIX,
    ),
    GpuFeature(
        name="TF32",
        floor=(8, 0),
        words=r"\btf32\b",
        source="TF32 tensor cores came with Ampere; transformers' TrainingArguments: \"--tf32 requires Ampere or a "
        'newer GPU arch"',
        fix="leave TF32 off (`--tf32 False`): fp32 matmuls on this GPU are IEEE fp32 either way",
    ),
    GpuFeature(
        name="FlashAttention-2",
        floor=(8, 0),
        words=r"flash[-_ ]?attn|flash[-_ ]?attention",
        source='flash-attn 2\'s csrc/flash_attn/flash_api.cpp: "FlashAttention only supports Ampere GPUs or newer."',
        fix='use PyTorch\'s own attention instead (transformers: `attn_implementation="sdpa"`; or do not enable '
        "flash-attn)",
    ),
    GpuFeature(
        name="FP8",
        floor=(8, 9),
        words=r"\bfp8\b|float8|_scaled_mm",
        source="torch's aten/src/ATen/native/cuda/Blas.cpp: \"torch._scaled_mm is only supported on CUDA devices with "
        'compute capability >= 9.0 or 8.9"',
        fix="compute without FP8 on this GPU (float16, or bfloat16 where it has it: drop FP8 quantisation, e.g. "
        'vLLM\'s `quantization="fp8"`)',
    ),
)


def gpu_features_lacking(capability):
    """Return the GpuFeatures a GPU of `capability` ((major, minor)) lacks, in GPU_FEATURES' order."""
    return [f for f in GPU_FEATURES if tuple(capability) < f.floor]


def older_gpu_fix(capability):
    """The fix for a GPU older than a build's oldest architecture: the newest official release with kernels for it
    (newest_official_build), else building from source with TORCH_CUDA_ARCH_LIST for a CUDA that can still
    build it (ARCH_CUDA), the driver branch the GPU ends at (last_driver_branch), or the CPU."""
    sm = "sm_%d%d" % tuple(capability)
    number = "%d.%d" % tuple(capability)
    span = ARCH_CUDA.get(tuple(capability))
    end = last_driver_branch(capability)
    cuda_ceiling = span[1] if span else None
    if end is not None and end.newest_cuda:
        words = "CUDA %s or older (this %s GPU's last driver branch, R%s, runs up to CUDA %s)" % (
            end.newest_cuda,
            end.architecture,
            end.branch,
            end.newest_cuda,
        )
    elif cuda_ceiling:
        words = "a CUDA older than %s (the last that can build %s)" % (cuda_ceiling, sm)
    else:
        words = "a CUDA that can build %s" % sm
    source = "build PyTorch from source with TORCH_CUDA_ARCH_LIST=%s and %s" % (number, words)
    official = newest_official_build(capability)
    if official is None:
        return "no official PyTorch build has %s kernels: %s, or run on the CPU" % (sm, source)
    python = " under Python %s or older (its wheels stop there)" % official.python[1] if official.python else ""
    newest = "the newest official release" + (" known here" if official.newest_known else "")
    return "%s with %s kernels is torch %s (CUDA %s build%s): install it%s, or %s, or run on the CPU" % (
        newest,
        sm,
        official.release,
        "/".join(official.cuda),
        "s" if len(official.cuda) > 1 else "",
        python,
        source,
    )


def newer_gpu_fix(capability, torch_version=None):
    """The fix for a GPU newer than every architecture a build has: the first CUDA that can build its kernels
    (ARCH_CUDA); the installed release's wheel of that CUDA or a newer one where it has one (`torch_version`), else
    the first torch release with such a wheel (WHEEL_CUDA); its wheel index; the driver that CUDA needs (MIN_DRIVER)."""
    sm = "sm_%d%d" % tuple(capability)
    span = ARCH_CUDA.get(tuple(capability))
    if span is None:
        return "install a torch build whose arch list has %s (a newer CUDA build)" % sm
    builds = sorted(
        (release, min((c for c in cudas if version_key(c) >= version_key(span[0])), key=version_key))
        for release, cudas in WHEEL_CUDA.items()
        if any(version_key(c) >= version_key(span[0]) for c in cudas)
    )
    if not builds:
        return "install a torch build for CUDA %s or newer, whose arch list has %s" % (span[0], sm)
    installed = minor_key(torch_version) if torch_version else None
    same = [b for b in builds if b[0] == installed]
    (major, minor), build = (same or builds)[0]
    driver = MIN_DRIVER.get(build)
    return (
        "install %s built for CUDA %s, which has %s kernels: `python -m pip install %s --index-url "
        "https://download.pytorch.org/whl/%s` (with the torchvision and torchaudio of that index)%s"
        % (
            "torch %s's wheel" % torch_version.split("+")[0] if same else "torch %d.%d or newer" % (major, minor),
            build,
            sm,
            '"torch==%s"' % torch_version.split("+")[0] if same else "-U torch",
            cuda_tag(build),
            "; it needs NVIDIA driver %s or newer" % driver[0] if driver else "",
        )
    )


# torch names that third-party code meets across releases: dotted name -> (first release with it, first release
# without it), None where open. Checked against the installed wheels: 2.0.1 has torch.compile, torch.func and
# F.scaled_dot_product_attention and no torch._six, torch.compiler, float8 dtypes, torch.amp.GradScaler or
# SAVE_STATE_WARNING; 2.13 has the first six. The releases that added or removed them: PyTorch 2.0's release notes
# (torch.compile, torch.func, scaled_dot_product_attention; torch._six removed); 2.1 for torch.compiler and the
# float8 dtypes (transformers#37238's maintainer; safetensors#404: "PyTorch before 2.1" has no float8); 2.3 for
# torch.amp.GradScaler (checks/apis.py uses it from there); SAVE_STATE_WARNING defined from 1.5 until 1.8 removed it
# (transformers' issues #8232 and #9060 quote both ends). A keyword a function takes is written `torch.load(mmap)`:
# torch.load takes weights_only from 1.13 (the 1.13 documentation of torch.load; transformers#28720: 1.12 rejects
# it) and mmap from 2.1 (absent from 2.0.1's signature, present in 2.13's).
TORCH_API = {
    "torch.load(weights_only)": ("1.13", None),
    "torch.load(mmap)": ("2.1", None),
    "torch.compile": ("2.0", None),
    "torch.func": ("2.0", None),
    "torch.nn.functional.scaled_dot_product_attention": ("2.0", None),
    "torch._six": (None, "2.0"),
    "torch.compiler": ("2.1", None),
    "torch.float8_e4m3fn": ("2.1", None),
    "torch.float8_e5m2": ("2.1", None),
    "torch.amp.GradScaler": ("2.3", None),
    "torch.optim.lr_scheduler.SAVE_STATE_WARNING": ("1.5", "1.8"),
}
# What replaces a removed name in the releases without it (torch 2.0's torch/__init__.py defines inf and nan, which
# torch._six re-exported from math; _six's string_classes and int_classes were (str, bytes) and int on Python 3).
TORCH_API_REPLACED = {
    "torch._six.inf": "`from torch import inf` (or math.inf)",
    "torch._six.nan": "`from torch import nan` (or math.nan)",
    "torch._six.string_classes": "`(str, bytes)`",
    "torch._six.int_classes": "`int`",
    "torch._six.container_abcs": "`collections.abc`",
}


def torch_api_span(module, name):
    """Return TORCH_API's (added, removed) of `name` looked up in torch module `module` (`torch.nn.functional`,
    `scaled_dot_product_attention`), or of the nearest module above it that the table rows (a name of torch._six
    went with torch._six), or None."""
    dotted = "%s.%s" % (module, name) if module else name
    parts = dotted.split(".")
    for end in range(len(parts), 1, -1):  # the name, else the module holding it (torch._six.PY3: torch._six's)
        span = TORCH_API.get(".".join(parts[:end]))
        if span is not None:
            return span
    return None


def torch_api_change(module, name, torch_version):
    """Return ("added", release) when torch `torch_version` predates the release that added `module.name`,
    ("removed", release) when it comes at or after the release that removed it (torch_api_span), else None."""
    span = torch_api_span(module, name)
    if span is None:
        return None
    have = version_key(torch_version.split("+")[0])
    if span[0] and have < version_key(span[0]):
        return "added", span[0]
    if span[1] and have >= version_key(span[1]):
        return "removed", span[1]
    return None


def torch_api_keywords():
    """The keyword names TORCH_API dates (`weights_only`, `mmap`), for a sieve of source text."""
    return tuple(sorted({key[key.index("(") + 1 : -1] for key in TORCH_API if key.endswith(")")}))
