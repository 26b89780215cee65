"""Tests for checks/machine/distributions.py. Each .dist-info is laid out as pip writes it (packaging spec
"Recording installed projects": METADATA with the core metadata headers, WHEEL with `Tag:` lines as the "Binary
distribution format" spec writes them, RECORD as `path,sha256=...,size`, INSTALLER), under tmp_path."""

import importlib.machinery
import sys

from checks.machine import distributions

JINJA_METADATA = (
    "Metadata-Version: 2.1\n"
    "Name: Jinja2\n"
    "Version: 2.11.3\n"
    "Summary: A very fast and expressive template engine.\n"
    "Requires-Python: >=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, !=3.4.*\n"
    "Requires-Dist: MarkupSafe (>=0.23)\n"
    "Provides-Extra: i18n\n"
    "Requires-Dist: Babel (>=0.8) ; extra == 'i18n'\n"
    "\n"
    "Jinja is a fast, expressive, extensible templating engine.\n"
    "Requires-Dist: not-a-header (the description is not read)\n"
)
PURE_WHEEL = (
    "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.36.2)\nRoot-Is-Purelib: true\nTag: py2-none-any\nTag: py3-none-any\n"
)


def dist_info(site, name, version, metadata=None, wheel=PURE_WHEEL, record=(), top_level=None):
    """Write NAME-VERSION.dist-info into `site` as pip does; returns its path."""
    info = site / ("%s-%s.dist-info" % (name, version))
    info.mkdir(parents=True)
    (info / "METADATA").write_text(metadata or "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
    if wheel is not None:
        (info / "WHEEL").write_text(wheel)
    (info / "INSTALLER").write_text("pip\n")
    lines = ["%s,sha256=AAAA,10" % r for r in record] + ["%s-%s.dist-info/RECORD,," % (name, version)]
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    if top_level is not None:
        (info / "top_level.txt").write_text(top_level)
    return info


def test_metadata_headers_are_read_and_the_description_is_not(tmp_path):
    """Name, Version and Requires-Dist come from METADATA's header block; WHEEL's Tag lines are all kept."""
    info = dist_info(tmp_path, "Jinja2", "2.11.3", JINJA_METADATA, record=["jinja2/__init__.py", "jinja2/filters.py"])
    found = distributions.read(str(info), environment=str(tmp_path / "env"), environ={})
    assert (found.name, found.version, found.installer) == ("Jinja2", "2.11.3", "pip")
    assert found.requires == ("MarkupSafe (>=0.23)", "Babel (>=0.8) ; extra == 'i18n'")
    assert found.tags == ("py2-none-any", "py3-none-any")
    assert found.top_level == ("jinja2",)  # from RECORD: no top_level.txt
    assert found.requirement_on("markupsafe") == "MarkupSafe (>=0.23)"
    assert found.requirement_on("babel") is None  # only with the i18n extra


def test_top_level_names_come_from_top_level_txt_then_record_then_the_name(tmp_path):
    """setuptools' top_level.txt wins; RECORD's first components (a module file, a package directory) otherwise;
    an empty RECORD (a hand-made install) leaves the project name as a module name."""
    a = dist_info(tmp_path, "setuptools", "80.9.0", top_level="_distutils_hack\npkg_resources\nsetuptools\n")
    b = dist_info(tmp_path, "six", "1.16.0", record=["six.py", "__pycache__/six.cpython-311.pyc", "../../bin/x"])
    c = dist_info(tmp_path, "typing_extensions", "4.8.0")
    # nvidia-cuda-runtime-cu11 11.7.99's top_level.txt names its namespace package's folder
    d = dist_info(tmp_path, "nvidia_cuda_runtime_cu11", "11.7.99", top_level="nvidia/cuda_runtime\n")
    assert distributions.top_level_names(str(d), "nvidia_cuda_runtime_cu11") == ("nvidia",)
    assert distributions.top_level_names(str(a), "setuptools") == ("_distutils_hack", "pkg_resources", "setuptools")
    assert distributions.top_level_names(str(b), "six") == ("six",)
    assert distributions.top_level_names(str(c), "typing_extensions") == ("typing_extensions",)


def test_the_owner_of_a_frame_s_file_is_found_above_it(tmp_path):
    """A traceback frame's file deep in a package is owned by the .dist-info of its sys.path entry; a loose file
    (a source checkout, the standard library) has none."""
    site = tmp_path / "site-packages"
    (site / "jinja2").mkdir(parents=True)
    (site / "jinja2" / "filters.py").write_text("")
    dist_info(site, "Jinja2", "2.11.3", JINJA_METADATA, record=["jinja2/filters.py"])
    found = distributions.owner(str(site / "jinja2" / "filters.py"), environment=str(tmp_path / "env"), environ={})
    assert found is not None and found.name == "Jinja2" and found.entry == str(site)
    (tmp_path / "loose.py").write_text("")
    assert distributions.owner(str(tmp_path / "loose.py"), environment=str(tmp_path / "env"), environ={}) is None


def test_this_interpreter_s_tags_are_supported_and_another_python_s_are_not():
    """PEP 425: a pure wheel and this interpreter's own tag install here; cp35's does not."""
    python, abi, plat = distributions.interpreter_tag()
    assert python == "cp%d%d" % sys.version_info[:2] or sys.implementation.name != "cpython"
    assert distributions.supported("py3-none-any")
    assert not distributions.supported("cp35-cp35m-linux_x86_64")
    assert not distributions.supported("py2-none-any")
    if sys.platform.startswith("linux"):
        assert distributions.supported("%s-%s-%s" % (python, abi, plat))


def test_the_standard_library_judges_tags_without_packaging(monkeypatch):
    """`packaging` is optional: with it hidden the PEP 425 rules of the standard library answer the same."""
    monkeypatch.setitem(sys.modules, "packaging", None)
    python, abi, plat = distributions.interpreter_tag()
    assert distributions.supported("py3-none-any") and distributions.supported("py2.py3-none-any")
    assert not distributions.supported("cp35-cp35m-linux_x86_64")
    if sys.platform.startswith("linux"):
        assert distributions.supported("%s-%s-%s" % (python, abi, plat))
        assert distributions.supported("%s-abi3-manylinux_2_17_%s" % (python, plat.split("_", 1)[1]))


def test_an_extension_built_for_another_python_is_not_loadable(tmp_path):
    """A cp35 wheel renamed to install here: torch/_C.cpython-35m-x86_64-linux-gnu.so, WHEEL Tag cp35; the import
    system looks only for _C + EXTENSION_SUFFIXES."""
    site = tmp_path / "site-packages"
    (site / "torch" / "_C").mkdir(parents=True)  # the wheel's folder of .pyi stubs
    (site / "torch" / "__init__.py").write_text("")
    (site / "torch" / "_C.cpython-35m-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    wheel = (
        "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.29.0)\nRoot-Is-Purelib: false\nTag: cp35-cp35m-linux_x86_64\n"
    )
    dist_info(
        site,
        "torch",
        "0.1.6.post22",
        wheel=wheel,
        record=["torch/__init__.py", "torch/_C.cpython-35m-x86_64-linux-gnu.so"],
    )
    found = distributions.extension("torch._C", path=[str(site)], environment=str(tmp_path / "env"), environ={})
    assert found.files == ("_C.cpython-35m-x86_64-linux-gnu.so",) and found.loadable == ()
    assert found.suffixes == tuple(importlib.machinery.EXTENSION_SUFFIXES)
    assert found.distribution.name == "torch" and found.foreign_tags == ("cp35-cp35m-linux_x86_64",)
    assert distributions.built_for("cpython-35m-x86_64-linux-gnu") == "3.5"
    assert distributions.built_for("cp310-win_amd64") == "3.10"


def test_a_pair_is_judged_against_the_importer_s_declared_requirement(tmp_path):
    """Jinja2 2.11.3 declares MarkupSafe>=0.23, which 2.1.5 meets: the pair is named, its requirement met."""
    env = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    user = tmp_path / "home" / ".local" / "lib" / "python3.11" / "site-packages"
    (env / "jinja2").mkdir(parents=True)
    (env / "jinja2" / "__init__.py").write_text("")
    dist_info(env, "Jinja2", "2.11.3", JINJA_METADATA, record=["jinja2/__init__.py"])
    (user / "markupsafe").mkdir(parents=True)
    (user / "markupsafe" / "__init__.py").write_text("")
    dist_info(user, "MarkupSafe", "2.1.5", record=["markupsafe/__init__.py"])
    found = distributions.pair(
        str(env / "jinja2" / "__init__.py"),
        "markupsafe",
        "soft_unicode",
        str(user / "markupsafe" / "__init__.py"),
        environment=str(tmp_path / "env"),
        environ={},
    )
    assert (found.importer.name, found.provider.name, found.provider.version) == ("Jinja2", "MarkupSafe", "2.1.5")
    try:
        import packaging  # noqa: F401

        assert found.declared == "MarkupSafe>=0.23" and found.met is True
    except ImportError:  # not judged without `packaging`
        assert found.declared == "MarkupSafe (>=0.23)" and found.met is None
    assert found.importer.origin == "environment" and found.provider.origin != "environment"


def test_a_file_two_distributions_record_is_claimed_by_both_and_the_hash_names_the_last_writer(tmp_path):
    """huggingface/transformers#26465: adapter-transformers (a fork) writes into transformers/. RECORD rows are
    `path,sha256=<urlsafe b64, unpadded>,size` (the "Recording installed projects" spec)."""
    import base64
    import hashlib

    site = tmp_path / "site"
    (site / "transformers" / "utils").mkdir(parents=True)
    shared = site / "transformers" / "utils" / "__init__.py"
    shared.write_text("# the fork's copy\n")
    digest = base64.urlsafe_b64encode(hashlib.sha256(shared.read_bytes()).digest()).rstrip(b"=").decode()
    dist_info(site, "transformers", "4.33.3", record=["transformers/utils/__init__.py"])
    fork = dist_info(site, "adapter_transformers", "3.2.1")
    (fork / "RECORD").write_text(
        "transformers/utils/__init__.py,sha256=%s,18\nadapter_transformers-3.2.1.dist-info/RECORD,,\n" % digest
    )
    claims = [(d.name, d.version, same) for d, same in distributions.claims(str(shared))]
    assert claims == [("adapter_transformers", "3.2.1", True), ("transformers", "4.33.3", False)]
    assert distributions.claims(str(tmp_path / "elsewhere.py")) == []


def test_a_name_missing_from_a_file_two_distributions_wrote_is_judged_as_a_mixed_folder(tmp_path):
    from checks import diagnosis

    site = tmp_path / "site"
    (site / "transformers" / "utils").mkdir(parents=True)
    shared = site / "transformers" / "utils" / "__init__.py"
    shared.write_text("")
    dist_info(site, "transformers", "4.33.3", record=["transformers/utils/__init__.py"])
    dist_info(site, "adapter_transformers", "3.2.1", record=["transformers/utils/__init__.py"])
    text = (
        'Traceback (most recent call last):\n  File "/home/u/run.py", line 1, in <module>\n'
        "    from transformers import AutoModelForCausalLM\n"
        "ImportError: cannot import name 'check_peft_version' from 'transformers.utils' (%s)\n" % shared
    )
    cause = diagnosis.explain(text, diagnosis.gather())
    assert cause.meaning.startswith("%s is a file of both adapter_transformers 3.2.1" % shared)
    assert "they install into one package folder" in cause.meaning
    assert cause.fix.startswith("uninstall both and install only the one you need: `python -m pip uninstall -y")


def test_the_upgrade_command_follows_pep_610_s_direct_url(tmp_path):
    """pip's direct_url.json (PEP 610): detectron2 built from a local folder (`{"dir_info": {}, "url":
    "file:///tmp/d2"}`, facebookresearch/detectron2#5010's install from source), a VCS install, and none (the
    index)."""
    site = tmp_path / "site"
    info = dist_info(site, "detectron2", "0.6")
    dist = distributions.read(str(info))
    assert distributions.upgrade_command(dist) == "`python -m pip install -U detectron2`"
    (info / "direct_url.json").write_text('{"dir_info": {}, "url": "file:///tmp/d2"}')
    assert distributions.upgrade_command(dist).startswith(
        "update its source in /tmp/d2 (it was installed from that folder, not from an index"
    )
    (info / "direct_url.json").write_text(
        '{"url": "https://github.com/facebookresearch/detectron2.git", "vcs_info": {"vcs": "git", "commit_id": "a"}}'
    )
    assert distributions.upgrade_command(dist).startswith(
        '`python -m pip install -U "git+https://github.com/facebookresearch/detectron2.git"`'
    )


def test_the_release_of_another_project_a_distribution_s_text_states_it_needs(tmp_path):
    """speechbrain 1.0.3's utils/torch_audio_backend.py:65 warns "update torchaudio to >=2.1.0" (speechbrain#2820,
    whose fix was torchaudio 2.1): the highest stated release above the installed one, with where it is said; a
    stated release the installed one meets, or another project's, is not one; `first` is read before the RECORD."""
    site = tmp_path / "site"
    (site / "sblike" / "utils").mkdir(parents=True)
    (site / "sblike" / "utils" / "torch_audio_backend.py").write_text(
        "import logging\n\nlogger = logging.getLogger(__name__)\n\n\ndef check_torchaudio_backend():\n"
        '    logger.warning(\n        "This version of torchaudio is old. SpeechBrain no longer tries using the '
        "torchaudio global backend mechanism in recipes, so if you encounter issues, update torchaudio to "
        '>=2.1.0."\n    )\n'
    )
    (site / "sblike" / "notes.py").write_text(
        "# needs torchaudio>=0.13 and torchvision>=0.99\nMSG = 'requires torchaudio version 1.9 or higher'\n"
    )
    info = dist_info(
        site, "sblike", "1.0.3", record=["sblike/utils/torch_audio_backend.py", "sblike/notes.py"], top_level="sblike"
    )
    dist = distributions.read(str(info))
    assert distributions.stated_floor(dist, "torchaudio", "2.0.2") == (
        "2.1.0",
        "sblike/utils/torch_audio_backend.py:8",
    )
    assert distributions.stated_floor(dist, "torchaudio", "2.1.0") is None
    assert distributions.stated_floor(dist, "torchaudio", "1.0") == ("2.1.0", "sblike/utils/torch_audio_backend.py:8")
    assert distributions.stated_floor(dist, "torchvision", "0.15.2") == ("0.99", "sblike/notes.py:1")
    assert distributions.stated_floor(dist, "accelerate", "0.1") is None
