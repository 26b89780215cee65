"""Tests for checks/machine/project.py: the working directory's code and requirements read as text, never run."""

import os
import sys

import pytest

from checks.machine import project


def test_scan_reads_what_the_project_imports_and_requires(tmp_path):
    (tmp_path / "train.py").write_text(
        "import os, json\nimport numpy as np\nfrom transformers import Trainer, TrainingArguments\n"
        "from models.net import Net\nimport utils\nfrom . import sibling\n"
        "try:\n    import wandb\nexcept ImportError:\n    wandb = None\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mypy_extensions\n"
        "def later():\n    import lightning as L\n"
    )
    (tmp_path / "utils.py").write_text("import physicsnemo.distributed.manager\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "net.py").write_text("import timm\n")
    (tmp_path / "noxfile.py").write_text("import nox\n")  # tooling, not the project's code
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("import pytest\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "x.py").write_text("import hidden\n")
    (tmp_path / "broken.py").write_text("def (:\n")  # does not parse: skipped
    (tmp_path / "requirements.txt").write_text(
        "# pinned\ntorch==2.0.1\n-r base.txt\nlightning>=2.0  # trainer\ngit+https://github.com/x/y\n\n"
    )
    found = project.scan(str(tmp_path))
    assert [(i.module, i.names) for i in found.imports] == [  # the folder's files in name order, then models/
        ("numpy", ()),
        ("transformers", ("Trainer", "TrainingArguments")),
        ("lightning", ()),
        ("physicsnemo.distributed.manager", ()),
        ("timm", ()),
    ]
    assert {i.where() for i in found.imports if i.top == "transformers"} == {"train.py:3"}
    assert [(r.text, r.line) for r in found.requirements] == [("torch==2.0.1", 2), ("lightning>=2.0", 4)]
    assert "noxfile.py" not in " ".join(found.files) and "tests" not in " ".join(found.files)


def test_scan_is_bounded(tmp_path):
    for n in range(project.MAX_FILES + 10):
        (tmp_path / ("m%03d.py" % n)).write_text("import pkg%d\n" % n)
    (tmp_path / "big.py").write_text("import huge\n" + "x = 1\n" * (project.MAX_BYTES // 6 + 1))
    found = project.scan(str(tmp_path))
    assert len(found.files) == project.MAX_FILES and "huge" not in {i.top for i in found.imports}


def test_scan_reads_the_torch_names_the_folder_s_own_code_uses(tmp_path):
    (tmp_path / "train.py").write_text(
        "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nfrom torch.amp import GradScaler\n"
        "def f(x):\n"
        "    y = F.scaled_dot_product_attention(x, x, x)\n"
        "    if hasattr(torch, 'compiler'):\n        torch.compiler.disable()\n"
        "    try:\n        torch.float8_e4m3fn\n    except AttributeError:\n        pass\n"
        "    return nn.RMSNorm(3)\n"
    )
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "m.py").write_text("import torch\ntorch.not_read_in_the_project_s_packages()\n")
    (tmp_path / "custom_nodes" / "node").mkdir(parents=True)  # ComfyUI's plugin folders: scripts two levels down
    (tmp_path / "custom_nodes" / "node" / "n.py").write_text("import torch\ntorch.read_two_levels_down()\n")
    (tmp_path / "custom_nodes" / "node" / "deeper").mkdir()
    (tmp_path / "custom_nodes" / "node" / "deeper" / "d.py").write_text("import torch\ntorch.not_read()\n")
    uses = [(u.dotted, u.line) for u in project.scan(str(tmp_path)).torch_uses]
    assert uses == [
        ("torch.nn", 3),
        ("torch.amp.GradScaler", 4),
        ("torch.nn.functional.scaled_dot_product_attention", 6),
        ("torch.nn.RMSNorm", 13),
        ("torch.read_two_levels_down", 2),
    ]


def _uses_of(tmp_path, text):
    path = tmp_path / "m.py"
    path.write_text(text)
    return [(u.dotted, u.line, u.keywords, u.quoted) for u in project.file_torch_uses(str(path))]


def test_guards_the_reader_follows(tmp_path):
    """A fallback `try:`, an early exit on a version flag (lightning 2.2's `if not _TORCH_GREATER_EQUAL_2_1:
    raise`), `ok and torch.x`, `a if ok else b` guard a use; a handler that raises again does not."""
    uses = _uses_of(
        tmp_path,
        "import torch\n"
        "def a():\n    try:\n        torch.g1()\n    except AttributeError:\n        return None\n"
        "def b():\n    try:\n        torch.u1()\n    except Exception as e:\n        raise OSError('x') from e\n"
        "def c():\n    if not _TORCH_GREATER_EQUAL_2_1:\n        raise ImportError('needs 2.1')\n    torch.g2()\n"
        "def d(ok):\n    return is_fp8_available and torch.g3\n"
        "def e():\n    return torch.g4 if hasattr(torch, 'g4') else None\n"
        "def f(x):\n    return torch.u2(x, weights_only=True)\n",
    )
    assert uses == [("torch.u1", 9, (), ()), ("torch.u2", 21, ("weights_only",), ()), ("torch.u2", 21, (), ())]
    quoted = _uses_of(tmp_path, "import torch\nOK = hasattr(torch, 'q1')\ndef f():\n    return torch.q1\n")
    assert quoted == [("torch.q1", 4, (), ("q1",))]


def test_a_package_s_files_are_its_top_level_modules_and_those_loaded(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "models" / "deep").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "core.py").write_text("import torch\nx = torch.float8_e4m3fn  # comment: torch.not_code\n")
    (pkg / "models" / "deep" / "m.py").write_text("from torch.nn.functional import (silu, gelu)\nweights_only=1\n")
    (pkg / "models" / "unused.py").write_text("import torch\ntorch.never_loaded\n")
    loaded = [str(pkg / "models" / "deep" / "m.py"), str(tmp_path / "elsewhere.py")]
    files = project.package_files(str(pkg), loaded)
    assert files == [str(pkg / "__init__.py"), str(pkg / "core.py"), str(pkg / "models" / "deep" / "m.py")]
    spelled = project.spellings(files, words=("weights_only", "mmap"))
    assert [(os.path.basename(s.path), s.names, s.words) for s in spelled] == [
        ("core.py", ("torch.float8_e4m3fn", "torch.not_code"), ()),
        ("m.py", ("torch.nn.functional", "torch.nn.functional.gelu", "torch.nn.functional.silu"), ("weights_only",)),
    ]


def test_a_file_nested_too_deep_to_read_is_skipped(tmp_path):
    """Another team's file is untrusted: an expression nested past the recursion limit is not read, never a crash."""
    deep = "import torch\nimport fancy\nif " + "(" * 50 + "hasattr(torch, 'x')" + ")" * 50 + ":\n    pass\n"
    (tmp_path / "deep.py").write_text(deep)
    (tmp_path / "deeper.py").write_text("import torch\nimport fancy\nx = " + "-" * 100000 + "1\n")  # parser
    (tmp_path / "deepest.py").write_text("import torch\nif " + "not " * 2000 + "x:\n    torch.y\n")  # deep, valid
    found = project.scan(str(tmp_path))
    assert found is not None and "deeper" not in {os.path.basename(u.file) for u in found.torch_uses}
    assert project.file_torch_uses(str(tmp_path / "deeper.py")) == []
    # 2,000 nested `not`s parse with Python 3.9's PEG parser and the reader walks them without recursion, so the file
    # is read; Python 3.8's LL(1) parser overflows its stack ("s_push: parser stack overflow", MemoryError): skipped
    read = [(u.dotted, u.line) for u in project.file_torch_uses(str(tmp_path / "deepest.py"))]
    assert read == ([("torch.y", 3)] if sys.version_info >= (3, 9) else [])


def test_the_requirements_line_that_installs_a_module(tmp_path):
    """A module's distribution is found among the project's requirements by PEP 503's normalised name: the same
    name, the name a table knows (hydra -> hydra-core), a py/python- prefix or -python suffix (PyYAML installs yaml),
    or the module's name followed by `-` (hydra-configs-torch installs hydra_configs, facebookresearch/hydra-torch's
    README: `pip install hydra-configs-torch`); an exact match wins over a prefix."""
    (tmp_path / "requirements.txt").write_text(
        "torch>=1.6\nhydra-configs-torch==1.0.0\nPyYAML>=5.1\nhydra-core==1.0.4\nOmegaConf\nscikit-learn\n"
    )
    lines = project.requirements_here(str(tmp_path))
    assert project.requirement_for("hydra_configs", lines).text == "hydra-configs-torch==1.0.0"
    assert project.requirement_for("yaml", lines).text == "PyYAML>=5.1"
    assert project.requirement_for("hydra", lines, known="hydra-core").text == "hydra-core==1.0.4"
    assert project.requirement_for("omegaconf", lines).line == 5
    assert project.requirement_for("sklearn", lines) is None  # no rule relates the two names without the table
    assert project.requirement_for("sklearn", lines, known="scikit-learn").text == "scikit-learn"
    assert project.requirement_for("wandb", lines) is None
    assert project.requirements_here(str(tmp_path / "absent")) == ()


def test_a_name_bound_to_two_modules_is_not_judged_as_either(tmp_path):
    """transformers 4.12.3's trainer.py: `import smdistributed.dataparallel.torch.distributed as dist` when SageMaker's
    data parallelism is enabled, else `import torch.distributed as dist`; `dist.get_local_rank()` is the first's
    (torch.distributed has none), so a use through `dist` is not torch's to judge. `F`, bound once, still is."""
    (tmp_path / "trainer.py").write_text(
        "import torch\nimport torch.nn.functional as F\n\nif is_sagemaker_dp_enabled():\n"
        "    import smdistributed.dataparallel.torch.distributed as dist\n"
        "else:\n    import torch.distributed as dist\n\n"
        "def setup():\n    return dist.get_local_rank(), F.silu\n"
    )
    uses = [u.dotted for u in project.file_torch_uses(str(tmp_path / "trainer.py"))]
    assert "torch.nn.functional.silu" in uses and not any("get_local_rank" in u for u in uses)


def test_the_variables_the_code_sets_for_itself(tmp_path):
    """String constants only, in line order: a computed value is not the code's to judge here."""
    (tmp_path / "train.py").write_text(
        "import os\nimport torch\nos.environ['USE_TF'] = 'YES'\nos.environ.update({'A': '1'}, B='2')\n"
        "os.putenv('C', '3')\nos.environ['D'] = str(4)\nos.environ.setdefault('E', '5')\n"
    )
    found = project.scan(str(tmp_path))
    assert [(s.name, s.value, s.where()) for s in found.settings] == [
        ("USE_TF", "YES", "train.py:3"),
        ("A", "1", "train.py:4"),
        ("B", "2", "train.py:4"),
        ("C", "3", "train.py:5"),
        ("E", "5", "train.py:7"),
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_named_like_a_requirements_file_or_launch_script_is_not_read(tmp_path):
    """Another team's folder is untrusted input: a FIFO would block open() and read() forever."""
    os.mkfifo(str(tmp_path / "requirements.txt"))
    os.mkfifo(str(tmp_path / "launch.sh"))
    (tmp_path / "run.sh").write_text("torchrun --master-port 29611 train.py\n")
    assert project.requirements_here(str(tmp_path)) == ()
    assert project.launch_ports(str(tmp_path)) == [(29611, "run.sh:1")]


def test_the_variables_a_launch_script_sets(tmp_path):
    """`export NAME=value` and `NAME=value` before a command, plain or quoted; a value with an expansion is not the
    script's constant and is left out."""
    (tmp_path / "run.sh").write_text(
        "#!/bin/bash\nexport CUDA_VISIBLE_DEVICES=1\nOMP_NUM_THREADS='0' python train.py\nNCCL_DEBUG=\"INFO\"\n"
        "MASTER_ADDR=$(hostname)\nexport PATH=$PATH:/opt/bin\n  WORLD=2;\n"
    )
    found = project.script_settings(str(tmp_path))
    assert [(s.name, s.value, s.where()) for s in found] == [
        ("CUDA_VISIBLE_DEVICES", "1", "run.sh:2"),
        ("OMP_NUM_THREADS", "0", "run.sh:3"),
        ("NCCL_DEBUG", "INFO", "run.sh:4"),
        ("WORLD", "2", "run.sh:7"),
    ]
    assert [s.name for s in project.scan(str(tmp_path)).settings] == [
        "CUDA_VISIBLE_DEVICES",
        "OMP_NUM_THREADS",
        "NCCL_DEBUG",
        "WORLD",
    ]


def test_the_modules_a_setup_py_builds_are_read_without_running_it(tmp_path):
    (tmp_path / "setup.py").write_text(
        "from setuptools import setup, Extension\nfrom torch.utils import cpp_extension as ce\n"
        "ext = [ce.CppExtension('apex_C', ['csrc/flatten_unflatten.cpp']), ce.CUDAExtension(name='amp_C', sources=[]),"
        " Extension(name=NAME, sources=[])]\nsetup(ext_modules=ext)\n"
    )
    assert project.built_modules(str(tmp_path)) == {"apex_C": "CppExtension", "amp_C": "CUDAExtension"}
    assert project.built_modules(str(tmp_path / "none")) == {}


def test_calls_of_imported_packages_are_read_with_their_shape(tmp_path):
    """ajay-sainy/Wav2Lip-GFPGAN#8: audio.py's `librosa.filters.mel(hp.sample_rate, hp.n_fft, n_mels=hp.num_mels,
    fmin=hp.fmin, fmax=hp.fmax)`, inside a function. Calls that unpack, sit in a `try:` body or under a GUARDS test,
    and names the file also binds otherwise (a parameter), are not read; torch's and the standard library's calls
    are not kept."""
    (tmp_path / "audio.py").write_text(
        "import os\nimport torch\nimport librosa\nimport librosa.filters\nfrom somepkg.sub import build as make\n"
        "from somepkg import conv\n\n"
        "def _build_mel_basis():\n"
        "    return librosa.filters.mel(hp.sample_rate, hp.n_fft, n_mels=hp.num_mels,\n"
        "                               fmin=hp.fmin, fmax=hp.fmax)\n"
        "try:\n    librosa.load('x.wav', 22050)\nexcept TypeError:\n    pass\n"
        "if hasattr(librosa, 'stft'):\n    librosa.stft(1)\n"
        "net = make(3, *[1], **{})\nnet = make(3, depth=2)\ntorch.ones(3)\nos.path.join('a', 'b')\n"
        "def f(conv):\n    return conv(1)\n"
    )
    found = project.scan(str(tmp_path)).package_calls
    assert [(c.dotted, c.positional, c.arguments, c.keywords, c.line, c.deferred) for c in found] == [
        ("librosa.filters.mel", 2, ("hp.sample_rate", "hp.n_fft"), ("n_mels", "fmin", "fmax"), 9, True),
        ("somepkg.sub.build", 1, ("3",), ("depth",), 18, False),
    ]
    assert found[0].where() == "audio.py:9"


def test_guarded_imports_are_the_module_level_ones_a_fallback_catches(tmp_path):
    """timm 0.9.7's models/_hub.py: `try: from huggingface_hub import (create_repo, get_hf_file_metadata, ...)` with
    `except ImportError: hf_hub_download = None; _has_hf_hub = False`. An import in a function, a relative one, and
    one under a handler that raises again are not kept."""
    path = tmp_path / "_hub.py"
    path.write_text(
        "import os\ntry:\n    from huggingface_hub import (create_repo, get_hf_file_metadata)\n"
        "    from huggingface_hub.utils import EntryNotFoundError\n    _has_hf_hub = True\n"
        "except ImportError:\n    _has_hf_hub = False\n"
        "if os.name:\n    try:\n        from safetensors.torch import load_file\n    except Exception:\n        pass\n"
        "try:\n    from strict import needed\nexcept ImportError as e:\n    raise RuntimeError('x') from e\n"
        "try:\n    from . import sibling\nexcept ImportError:\n    pass\n"
        "def f():\n    try:\n        from later import x\n    except ImportError:\n        pass\n"
    )
    found = project.guarded_imports(str(path))
    assert [(i.module, i.names, i.line) for i in found] == [
        ("huggingface_hub", ("create_repo", "get_hf_file_metadata"), 3),
        ("huggingface_hub.utils", ("EntryNotFoundError",), 4),
        ("safetensors.torch", ("load_file",), 10),
    ]


def test_model_configs_are_the_hugging_face_config_files_of_the_folder(tmp_path):
    """A model folder two levels down (CodeLlama-7b-Instruct-hf's config.json: model_type "llama", transformers_version
    "4.33.0.dev0") and a LoRA adapter's adapter_config.json (peft_type "LORA"); a config.json without model_type
    (another tool's) and one that is not JSON are not kept."""
    model = tmp_path / "files" / "CodeLlama-7b-Instruct-hf"
    model.mkdir(parents=True)
    (model / "config.json").write_text('{"model_type": "llama", "transformers_version": "4.33.0.dev0", "x": 1}')
    (tmp_path / "lora_adapter").mkdir()
    (tmp_path / "lora_adapter" / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 8}')
    (tmp_path / "config.json").write_text('{"port": 8080}')
    (tmp_path / "lora_adapter" / "config.json").write_text("{not json")
    found = project.model_configs(str(tmp_path))
    assert [(os.path.relpath(c.path, tmp_path), c.kind, c.value, c.saved_by, c.keys) for c in found] == [
        (os.path.join("lora_adapter", "adapter_config.json"), "peft_type", "LORA", "", ("peft_type", "r")),
        (
            os.path.join("files", "CodeLlama-7b-Instruct-hf", "config.json"),
            "model_type",
            "llama",
            "4.33.0.dev0",
            ("model_type", "transformers_version", "x"),
        ),
    ]


def test_vcs_sources_are_the_repositories_code_and_requirements_install_from(tmp_path):
    """FastSAM's prompt.py: `check_requirements('git+https://github.com/openai/CLIP.git')`; a requirements line
    `git+https://gitlab.com/group/tool@v1.2#egg=tool`. Each repository once, code first."""
    prompt = tmp_path / "prompt.py"
    prompt.write_text("x = 1\ncheck_requirements('git+https://github.com/openai/CLIP.git')  # lap\n")
    line = project.Requirement(text="git+https://gitlab.com/group/tool@v1.2#egg=tool", file="requirements.txt", line=3)
    found = project.vcs_sources([str(prompt)], [line])
    assert [(s.url, s.repository, s.where()) for s in found] == [
        ("git+https://github.com/openai/CLIP.git", "openai/CLIP", "prompt.py:2"),
        ("git+https://gitlab.com/group/tool", "group/tool", "requirements.txt:3"),
    ]


def test_methods_called_on_an_object_an_imported_class_made_are_read(tmp_path):
    """Lightning-AI/lit-llama#281: finetune/lora.py makes `fabric = L.Fabric(...)` and calls
    `fabric.init_module()`. A name bound twice, or also a parameter, is not followed."""
    (tmp_path / "lora.py").write_text(
        "import lightning as L\n\n\ndef main():\n    fabric = L.Fabric(accelerator='cuda', devices=1)\n"
        "    with fabric.init_module():\n        pass\n    trainer = L.Trainer()\n    trainer = None\n"
        "    trainer.fit(1)\n\n\ndef other(model):\n    model.train()\n"
    )
    found = [(c.dotted, c.member, c.positional, c.line) for c in project.scan(str(tmp_path)).package_calls]
    assert found == [
        ("lightning.Fabric", "", 0, 5),
        ("lightning.Fabric", "init_module", 0, 6),
        ("lightning.Trainer", "", 0, 8),
    ]


def test_a_scan_handed_over_is_the_one_returned_for_its_root_and_ignore(tmp_path, monkeypatch):
    """verify's parent scans while its worker imports torch and hands the Projects over (hand_over, take): the
    worker's scan() of the same folder and `ignore` returns them without reading the folder again; another `ignore`
    or another folder is read; text that does not decode keeps nothing."""
    monkeypatch.setattr(project, "_HANDED", {})
    (tmp_path / "train.py").write_text("import numpy\nimport torchaudio.io\n")
    text = project.hand_over([("torch",), ("torch", "torchaudio")], root=str(tmp_path))
    assert project.take(text) == 2
    (tmp_path / "train.py").write_text("import pandas\n")  # changed after the parent's scan
    assert [i.top for i in project.scan(str(tmp_path), ignore=("torch",)).imports] == ["numpy", "torchaudio"]
    assert [i.top for i in project.scan(str(tmp_path), ignore=("torch", "numpy")).imports] == ["pandas"]
    old = [i.top for i in project.scan(str(tmp_path / "."), ignore=("torch", "torchaudio")).imports]
    assert old == ["numpy", "torchaudio"]
    assert project.take("not base64 !") == 0
    assert [i.top for i in project.scan(str(tmp_path), ignore=("torch",)).imports] == ["pandas"]
    assert project.take(None) == 0
    assert project.hand_over([("torch",)], root=str(tmp_path / "missing")) is None


def test_a_script_is_a_file_with_the_guard_at_its_top_level(tmp_path):
    """`if __name__ == "__main__":` at the top level (either way round) makes a script; the words in a string do
    not; a file longer than the bytes read is judged by the guard's own line."""
    cases = {
        "a.py": "def main():\n    pass\n\nif __name__ == '__main__':\n    main()\n",
        "b.py": "if '__main__' == __name__:\n    pass\n",
        "c.py": "HINT = 'put it under `if __name__ == \"__main__\":`'\n",
        "d.py": "if __name__ == '__main__':\n    pass\n" + "#" * (project.MAX_BYTES + 10),
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
    assert [n for n in sorted(cases) if project._is_script(str(tmp_path / n))] == ["a.py", "b.py", "d.py"]


def test_media_the_folder_holds_or_its_code_names_and_the_media_commands_a_module_runs(tmp_path):
    """files_ending finds audio and video files (any case) below the folder; media_named prefers a file and else
    quotes the first string naming one, with its line; commands_run reads command-line lists of files that use
    subprocess (openai-whisper 20231117's audio.py: `cmd = ["ffmpeg", "-nostdin", "-threads", "0", "-i", file, ...]`),
    each program once, and skips a file that never runs a process."""
    code = tmp_path / "transcribe.py"
    code.write_text('import whisper\n\nmodel = whisper.load_model("base")\nprint(model.transcribe(f"{name}.mp3"))\n')
    assert project.media_named(str(tmp_path), [str(code)]) == ("transcribe.py:4", "{name}.mp3")
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "Intro.MP4").write_bytes(b"\0")
    assert project.files_ending(str(tmp_path), project.MEDIA_SUFFIXES) == [str(tmp_path / "clips" / "Intro.MP4")]
    assert project.media_named(str(tmp_path), [str(code)]) == ("clips/Intro.MP4", "Intro.MP4")
    audio = tmp_path / "audio.py"
    audio.write_text(
        'import subprocess\n\n\ndef load_audio(file, sr=16000):\n    cmd = [\n        "ffmpeg",\n'
        '        "-nostdin",\n        "-threads",\n        "0",\n        "-i",\n        file,\n    ]\n'
        "    return subprocess.run(cmd, capture_output=True, check=True).stdout\n\n\n"
        'def again(file):\n    return subprocess.run(["ffmpeg", "-i", file])\n'
    )
    quiet = tmp_path / "quiet.py"
    quiet.write_text('ARGS = ["sox", "-n"]\n')
    assert project.commands_run([str(quiet), str(audio)]) == [("ffmpeg", str(audio), 5)]


# OpenFold's openfold/utils/kernel/attention_core.py imports its compiled kernel by name (aqlaboratory/openfold#445)
ATTENTION_CORE = (
    "import importlib\nfrom functools import reduce\nfrom operator import mul\n\nimport torch\n\n"
    'attn_core_inplace_cuda = importlib.import_module("attn_core_inplace_cuda")\n'
)


def test_a_module_imported_by_name_at_run_time_is_an_import(tmp_path):
    """`importlib.import_module("m")` with a string constant is an import like `import m`; a relative name, a
    computed one or a `package=` is not read."""
    path = tmp_path / "attention_core.py"
    path.write_text(ATTENTION_CORE + 'other = importlib.import_module(".ops", package="x")\nimport_module(name)\n')
    assert "attn_core_inplace_cuda" in project.import_tops(path.read_bytes())
    found = project.imports_of(str(path))
    assert [(i.module, i.line) for i in found if i.top not in ("importlib", "functools", "operator", "torch")] == [
        ("attn_core_inplace_cuda", 7)
    ]
