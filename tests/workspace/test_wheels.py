"""checks/workspace/wheels.py: the glibc a wheel's platform tags need (PEP 427, PEP 425, PEP 600)."""

import pytest

from checks.workspace import manifest, wheels


@pytest.mark.parametrize(
    "filename, tags, glibc",
    [
        # pixi#5266: vllm 0.13.0's wheel on PyPI
        ("vllm-0.13.0-cp38-abi3-manylinux_2_31_x86_64.whl", ("manylinux_2_31_x86_64",), (2, 31)),
        # a compressed tag set (PEP 425): installs where either tag does, so the older glibc decides
        (
            "numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
            ("manylinux_2_27_x86_64", "manylinux_2_28_x86_64"),
            (2, 27),
        ),
        ("torch-2.0.1-cp311-cp311-manylinux1_x86_64.whl", ("manylinux1_x86_64",), (2, 5)),
        ("pkg-1.0-1-cp311-cp311-manylinux2014_x86_64.whl", ("manylinux2014_x86_64",), (2, 17)),
        ("six-1.16.0-py2.py3-none-any.whl", ("any",), None),
        ("regex-2024.1-cp311-cp311-musllinux_1_2_x86_64.whl", ("musllinux_1_2_x86_64",), None),
        ("vllm-0.13.0.tar.gz", (), None),
    ],
)
def test_the_glibc_of_a_wheel_file_name(filename, tags, glibc):
    assert wheels.platform_tags("https://files.pythonhosted.org/packages/ab/cd/" + filename) == tags
    assert wheels.needed_glibc(tags) == glibc


def test_the_tags_of_an_installed_wheel():
    """A dist-info WHEEL file as bdist_wheel writes it (PEP 427): one `Tag:` line per expanded tag."""
    text = (
        "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.45.1)\nRoot-Is-Purelib: false\n"
        "Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n"
    )
    assert wheels.wheel_tag_lines(text) == ("manylinux_2_17_x86_64", "manylinux2014_x86_64")
    assert wheels.needed_glibc(wheels.wheel_tag_lines(text)) == (2, 17)


def test_a_wheel_beyond_the_workspace_libc():
    found = wheels.beyond("vllm", "==0.13.0", ("manylinux_2_31_x86_64",), "pixi.lock", "2.28")
    assert found == wheels.WheelGlibc("vllm", "==0.13.0", "manylinux_2_31_x86_64", "2.31", "pixi.lock")
    assert wheels.beyond("vllm", "==0.13.0", ("manylinux_2_31_x86_64",), "pixi.lock", "2.31") is None
    assert wheels.beyond("six", "*", ("any",), "pixi.lock", "2.28") is None


@pytest.mark.parametrize(
    "requirements, libc",
    [
        ("", ("2.28", False)),  # pixi_default_versions@v0.77.0: __glibc=2.28
        ('[system-requirements]\nlibc = "2.31"\n', ("2.31", True)),
        ('[system-requirements]\nlibc = { family = "glibc", version = "2.34" }\n', ("2.34", True)),
    ],
)
def test_the_libc_a_workspace_resolves_for(tmp_path, requirements, libc):
    path = tmp_path / "pixi.toml"
    path.write_text(
        '[workspace]\nname = "serve"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n\n%s'
        '[dependencies]\npython = "3.11.*"\n' % requirements
    )
    ws = manifest.load(str(path))
    assert wheels.declared_libc(ws.env_platforms("default")[0]) == libc
