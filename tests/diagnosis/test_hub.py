"""Tests for checks/diagnosis/hub.py: a failure fetching from the Hugging Face Hub judged by whether this machine
reaches it (an endpoint on this machine stands in for the Hub: a closed port is one that does not answer)."""

import socket

from diagnosis_facts import facts_for, site
from fakes import closed_port

from checks import diagnosis
from checks.diagnosis.hub import by_hub
from checks.machine import hf_hub

# lm-eval 0.4.2's import on a server without a route to the Hub (EleutherAI/lm-evaluation-harness#1697): evaluate
# 0.4.1's loading.py, evaluation_module_factory
LM_EVAL_IMPORT = (
    "Traceback (most recent call last):\n"
    '  File "/srv/run_eval.py", line 1, in <module>\n'
    "    import lm_eval\n"
    '  File "/env/site-packages/lm_eval/api/metrics.py", line 168, in <module>\n'
    '    exact_match = hf_evaluate.load("exact_match")\n'
    '  File "/env/site-packages/evaluate/loading.py", line 681, in evaluation_module_factory\n'
    "    raise FileNotFoundError(\n"
    "FileNotFoundError: Couldn't find a module script at /srv/exact_match/exact_match.py. Module 'exact_match' "
    "doesn't exist on the Hugging Face Hub either.\n"
)


def test_a_hub_fetch_that_fails_where_the_endpoint_does_not_answer_names_the_hub_and_a_mirror(tmp_path, monkeypatch):
    """The endpoint (HF_ENDPOINT, a closed port here) refuses the connection: the Hub is the cause, whichever
    library fetched; the fix names a mirror, a proxy, or a download elsewhere copied into the cache."""
    prefix, packages = site(tmp_path)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:%d" % closed_port())
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE") + hf_hub.PROXIES:
        monkeypatch.delenv(name, raising=False)
    cause = diagnosis.explain(LM_EVAL_IMPORT, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "hub"
    assert cause.meaning.startswith("the Hugging Face Hub (http://127.0.0.1:") and "cannot be reached" in cause.meaning
    assert "`export HF_ENDPOINT=https://hf-mirror.com`" in cause.fix and str(tmp_path / "hf") in cause.fix
    assert cause.fact.startswith("127.0.0.1: cannot connect to 127.0.0.1 port ")


def test_the_hub_rule_says_nothing_where_the_hub_answers_a_proxy_decides_or_the_text_is_not_a_hub_fetch(tmp_path):
    """An endpoint that answers (a listening socket), a proxy set, or a failure that names no Hub fetch: not this
    rule's. HF_HUB_OFFLINE=1 is the cause where it is set."""
    parts = diagnosis.parse(LM_EVAL_IMPORT)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        answering = {"HF_ENDPOINT": "http://127.0.0.1:%d" % server.getsockname()[1], "HF_HOME": str(tmp_path)}
        assert by_hub(parts, None, environ=answering) is None
    closed = {"HF_ENDPOINT": "http://127.0.0.1:%d" % closed_port(), "HF_HOME": str(tmp_path)}
    assert by_hub(parts, None, environ=dict(closed, HTTPS_PROXY="http://proxy:3128")) is None
    assert by_hub(diagnosis.parse("FileNotFoundError: [Errno 2] No such file: 'x.py'"), None, environ=closed) is None
    offline = by_hub(parts, None, environ=dict(closed, HF_HUB_OFFLINE="1"))
    assert offline.fact == "HF_HUB_OFFLINE=1" and "unset HF_HUB_OFFLINE" in offline.fix
