"""Tests for checks/verify/libs.py: names the installed numpy removed, used by the code that will run."""

import pytest


def test_a_name_numpy_removed_is_found_in_code_not_in_strings_or_comments(tmp_path):
    """kha-white/mokuro#38: comic_text_detector/utils/db_utils.py's `.astype(np.int)` under numpy 1.24+ ("module
    'numpy' has no attribute 'int'"; numpy's __former_attrs__, 1.24's expired deprecations). The names and the release
    come from the installed numpy's own lists; a string or a comment naming it is not a use, nor a hasattr test."""
    import numpy

    from checks.verify import libs

    removed = libs._removed_names(numpy)
    if not removed:
        pytest.skip("numpy %s lists no removed name it lacks" % numpy.__version__)
    name, release = sorted(removed.items())[0]
    quiet = tmp_path / "quiet.py"
    quiet.write_text(
        '"""np.%s was removed"""\n# np.%s\nif hasattr(np, "%s"): x = np.%s\n'
        'if np.lib.NumpyVersion(np.__version__) < "2.0.0":\n    y = np.%s\n' % ((name,) * 5)
    )
    used = tmp_path / "db_utils.py"
    used.write_text("import numpy as np\n\n\ndef f(box):\n    return box.astype(np.%s)\n" % name)
    assert libs.removed_numpy_use(numpy, [(str(quiet), "quiet")]) is None
    assert libs.removed_numpy_use(numpy, [(str(quiet), "quiet"), (str(used), "comic_text_detector")]) == (
        str(used),
        5,
        name,
        release,
        "comic_text_detector",
    )


def test_an_nccl_graph_file_over_gpus_this_machine_lacks_fails_the_distributed_line(tmp_path, monkeypatch):
    """NVIDIA/nccl#1240: the Azure HPC image's /etc/nccl.conf sets NCCL_GRAPH_FILE to a 4-GPU ring graph; on a 2-GPU
    VM NCCL fails with "XML Import Channel : dev 2 not found". The maintainer: it should never be set; removing it
    fixed it. A graph within the machine's GPUs, or no driver, is not judged."""
    from types import SimpleNamespace

    torch = pytest.importorskip("torch")
    if not torch.distributed.is_available() or not torch.distributed.is_nccl_available():
        pytest.skip("this torch has no NCCL backend")
    from checks.machine import variables
    from checks.verify import libs

    graph = tmp_path / "graph.xml"
    graph.write_text('<graphs version="1"><graph id="0"><channel><gpu dev="0"/><gpu dev="1"/><gpu dev="2"/>'
                     '<gpu dev="3"/></channel></graph></graphs>\n')  # fmt: skip
    conf = tmp_path / "nccl.conf"
    conf.write_text("NCCL_GRAPH_FILE=%s\n" % graph)
    monkeypatch.delenv("NCCL_GRAPH_FILE", raising=False)
    monkeypatch.delenv("NCCL_CONF_FILE", raising=False)
    monkeypatch.setattr(variables, "NCCL_SYSTEM_CONF", str(conf))
    monkeypatch.setattr(variables.nccl_settings, "__defaults__", (None, str(tmp_path / "home"), str(conf)))
    ctx = SimpleNamespace(torch=torch, quick=True, gpu_ok=False, driver={"gpus": [{"index": 0}, {"index": 1}]})
    result = libs.check_distributed(ctx)
    assert result.status == "FAIL" and result.summary.startswith(
        "NCCL_GRAPH_FILE=%s (set by %s) is a fixed graph over GPUs 0, 1, 2, 3, and this machine has 2" % (graph, conf)
    )
    assert result.hint.startswith("remove the NCCL_GRAPH_FILE line from %s" % conf)
    ctx.driver = {"gpus": [{"index": i} for i in range(4)]}
    assert libs.check_distributed(ctx).status == "PASS"
