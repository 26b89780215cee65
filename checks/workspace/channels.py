"""Conda channels written as names or URLs, compared as pixi resolves them.

A channel name resolves against the channel alias (`https://conda.anaconda.org/` by default) into a base URL that
ends with `/` (NamedChannelOrUrl::into_base_url, crates/rattler_conda_types/src/channel/mod.rs at
rattler_conda_types-v0.49.0:112-132); pixi.lock stores that URL (`- url: https://conda.anaconda.org/conda-forge/`).
So `conda-forge`, `https://conda.anaconda.org/conda-forge` and `https://conda.anaconda.org/conda-forge/` are one
channel. `https://prefix.dev/conda-forge` is another channel URL (a mirror): pixi compares resolved URLs
(crates/pixi_core/src/lock_file/satisfiability/environment.rs@v0.77.0:37-69), and so does `same`; `name` shows
both as `conda-forge`.

PyTorch's wheel indexes are the PyPI side of the same question: `https://download.pytorch.org/whl/<tag>/` (also
under `nightly/` and `test/`), one per build tag (`cu118`, `cpu`, `rocm6.2`, `xpu`); a wheel's PEP 440 local
version carries the same tag (`2.0.1+cu118`).
"""

import re

ALIAS = "https://conda.anaconda.org/"
WHEEL_INDEX_ROOT = r"download\.pytorch\.org/whl/(?:nightly/|test/)?"
WHEEL_TAG = r"cu\d{2,3}|cpu|rocm[\d.]+|xpu"
MIRRORS = (ALIAS, "https://prefix.dev/", "https://repo.prefix.dev/")


def name(channel):
    """Return a channel's short name: `https://conda.anaconda.org/pytorch/` -> `pytorch`; other URLs and paths as
    given without a trailing `/`."""
    text = str(channel or "").strip().rstrip("/")
    for prefix in MIRRORS:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def base_url(channel):
    """Return the base URL pixi resolves a channel to: a name is put under the default channel alias."""
    text = str(channel or "").strip()
    if "://" not in text and not text.startswith(("/", "./", "../", "~")):
        text = ALIAS + text
    return text.rstrip("/") + "/"


def same(a, b):
    """Return True if two channels (names or URLs) resolve to the same base URL."""
    return base_url(a) == base_url(b)


def tag_flavour(tag):
    """Return (flavour, CUDA version) of a PyTorch build tag: `cu118` -> ("cuda", "11.8"), `cpu` -> ("cpu", None),
    `rocm6.2` -> ("rocm", None), `xpu` -> ("xpu", None); (None, None) for anything else."""
    tag = tag or ""
    if not re.fullmatch(WHEEL_TAG, tag):
        return None, None
    if tag.startswith("cu"):
        return "cuda", "%s.%s" % (tag[2:-1], tag[-1])
    return ("cpu", None) if tag == "cpu" else (re.sub(r"[\d.]+$", "", tag), None)
