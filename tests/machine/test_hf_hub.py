"""Tests for checks/machine/hf_hub.py: the Hub's cache, offline switch and endpoint read as huggingface_hub reads
them (huggingface_hub/constants.py), the ids the code names, and a reachability probe against a port of this machine
that is closed (refused at once: no network is used)."""

import json
import socket

import pytest
from fakes import TRAIN_UTIL, closed_port

from checks.machine import hf_hub


def test_the_ids_the_code_names_beside_a_loader(tmp_path):
    (tmp_path / "train_util.py").write_text(TRAIN_UTIL)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "train").mkdir()  # an existing path: not an id
    (tmp_path / "other.py").write_text('NAME = "org/model"\n')  # no loader in the file: not read
    ids = hf_hub.repo_ids([str(tmp_path / "train_util.py"), str(tmp_path / "other.py")], str(tmp_path))
    assert [(i.repo, i.where) for i in ids] == [
        ("openai/clip-vit-large-patch14", "train_util.py:4"),
        ("stabilityai/stable-diffusion-2", "train_util.py:5"),
        ("madebyollin/sdxl-vae-fp16-fix", "train_util.py:16"),
        ("runwayml/stable-diffusion-v1-5", "train_util.py:26"),
    ]


def test_the_ids_the_parent_read_are_taken_by_the_worker_for_the_same_files(tmp_path):
    """verify's parent reads the ids while its worker imports torch (hand_over); the worker (take) does not parse the
    same files again, reads a different file list itself, and keeps nothing from data of another shape."""
    script = tmp_path / "train_util.py"
    script.write_text(TRAIN_UTIL)
    files, root = [str(script)], str(tmp_path)
    data = json.loads(json.dumps(hf_hub.hand_over(files, root)))  # the worker's pipe carries JSON
    script.write_text("")  # the parent's reading stands: the file is not read again
    try:
        hf_hub.take(data)
        assert [i.repo for i in hf_hub.repo_ids(files, root)][:2] == [
            "openai/clip-vit-large-patch14",
            "stabilityai/stable-diffusion-2",
        ]
        assert hf_hub.repo_ids(files + [str(tmp_path / "other.py")], root) == ()  # another list: read here
        hf_hub.take({"key": data["key"], "ids": [["org/model"]]})
        assert hf_hub.repo_ids(files, root) == ()
    finally:
        hf_hub.take(None)


def test_the_cache_folders_and_switches_are_huggingface_hub_s(tmp_path):
    home = str(tmp_path / "home")
    assert hf_hub.cache_folders({"HOME": home, "XDG_CACHE_HOME": "/x"}) == ["/x/huggingface/hub"]
    assert hf_hub.cache_folders({"HF_HOME": "/h", "HUGGINGFACE_HUB_CACHE": "/legacy"}) == ["/legacy"]
    both = {"HF_HUB_CACHE": "/new", "HUGGINGFACE_HUB_CACHE": "/legacy", "TRANSFORMERS_CACHE": "/t"}
    assert hf_hub.cache_folders(both) == ["/new", "/t"]
    assert hf_hub.offline({"HF_HUB_OFFLINE": "1"}) == "HF_HUB_OFFLINE=1"
    assert hf_hub.offline({"TRANSFORMERS_OFFLINE": "yes"}) == "TRANSFORMERS_OFFLINE=yes"
    assert hf_hub.offline({"HF_HUB_OFFLINE": "0"}) is None
    assert hf_hub.endpoint({}) == ("https://huggingface.co", "huggingface.co", 443)
    assert hf_hub.endpoint({"HF_ENDPOINT": "https://hf-mirror.com/"}) == ("https://hf-mirror.com", "hf-mirror.com", 443)
    (tmp_path / "hub" / "models--openai--clip-vit-large-patch14").mkdir(parents=True)
    assert hf_hub.cached("openai/clip-vit-large-patch14", [str(tmp_path / "hub")])
    assert not hf_hub.cached("openai/clip-vit-base-patch32", [str(tmp_path / "hub")])


def test_a_refused_connection_is_the_answer_and_an_open_port_is_none():
    port = closed_port()
    assert hf_hub.reach("127.0.0.1", port, timeout=2.0).startswith("cannot connect to 127.0.0.1 port %d" % port)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        assert hf_hub.reach("127.0.0.1", server.getsockname()[1], timeout=2.0) is None


@pytest.mark.parametrize("proxy", [None, "HTTPS_PROXY"])
def test_uncached_ids_with_the_hub_unanswered_are_named_unless_a_proxy_decides(tmp_path, proxy):
    environ = {"HF_HOME": str(tmp_path), "HF_ENDPOINT": "http://127.0.0.1:%d" % closed_port()}
    if proxy:
        environ[proxy] = "http://proxy.example:3128"
    ids = (hf_hub.HubId("openai/clip-vit-large-patch14", "train_util.py:4"),)
    gap = hf_hub.unreachable(ids, environ, timeout=2.0)
    if proxy:
        assert gap is None
        return
    assert gap.missing == ids and gap.why.startswith("cannot connect to 127.0.0.1") and gap.offline is None
    (tmp_path / "hub" / "models--openai--clip-vit-large-patch14").mkdir(parents=True)
    assert hf_hub.unreachable(ids, environ, timeout=2.0) is None  # cached: the Hub is not asked


def test_paths_and_calls_with_their_own_cache_are_not_ids(tmp_path):
    """A string whose first part is a folder here is a path (`checkpoints/best` beside checkpoints/); a loader given
    its own cache_dir or local_files_only is not judged against the Hub's cache."""
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "train.py").write_text(
        "import argparse\nfrom transformers import AutoModel\n"
        "p = argparse.ArgumentParser()\np.add_argument('--output_dir', default='checkpoints/best')\n"
        "args = p.parse_args()\nAutoModel.from_pretrained(args.output_dir)\n"
        "AutoModel.from_pretrained('org/with-own-cache', cache_dir='/data/hf')\n"
        "AutoModel.from_pretrained('org/offline-only', local_files_only=True)\n"
        "AutoModel.from_pretrained('org/from-the-hub')\n"
    )
    assert [i.repo for i in hf_hub.repo_ids([str(tmp_path / "train.py")], str(tmp_path))] == ["org/from-the-hub"]


def test_an_endpoint_with_a_bad_port_takes_the_scheme_s():
    assert hf_hub.endpoint({"HF_ENDPOINT": "https://hf-mirror.com:99999"}) == (
        "https://hf-mirror.com:99999",
        "hf-mirror.com",
        443,
    )
