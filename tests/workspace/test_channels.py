"""Channel names and URLs as pixi resolves them, and PyTorch's wheel-index tags."""

import pytest

from checks.workspace import channels


@pytest.mark.parametrize(
    ("channel", "short", "base"),
    [
        ("conda-forge", "conda-forge", "https://conda.anaconda.org/conda-forge/"),
        ("https://conda.anaconda.org/pytorch", "pytorch", "https://conda.anaconda.org/pytorch/"),
        ("https://prefix.dev/conda-forge/", "conda-forge", "https://prefix.dev/conda-forge/"),
    ],
)
def test_names_and_base_urls(channel, short, base):
    """rattler resolves a name under the channel alias and ends every base URL with `/` (channels.py cites it)."""
    assert (channels.name(channel), channels.base_url(channel)) == (short, base)


@pytest.mark.parametrize(
    ("tag", "flavour"),
    [
        ("cu118", ("cuda", "11.8")),
        ("cu128", ("cuda", "12.8")),
        ("cu92", ("cuda", "9.2")),
        ("cpu", ("cpu", None)),
        ("rocm6.2", ("rocm", None)),
        ("xpu", ("xpu", None)),
        ("cu", (None, None)),
        ("", (None, None)),
        ("g1234abc", (None, None)),
    ],
)
def test_build_tags(tag, flavour):
    """The tag of an index (`/whl/cu118/`) or of a local version (`2.0.1+cu118`)."""
    assert channels.tag_flavour(tag) == flavour
