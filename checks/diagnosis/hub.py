"""Rule 4j: a failure fetching from the Hugging Face Hub, judged by whether this machine reaches the Hub
(checks/machine/hf_hub.py): the client told to stay offline, or its endpoint not answering, is the cause, whichever
library fetched (transformers, datasets, evaluate at lm-eval 0.4.2's import: "Module 'exact_match' doesn't exist on
the Hugging Face Hub either", EleutherAI/lm-evaluation-harness#1697). With a proxy set, or the endpoint answering,
the failure has another cause and the rule says nothing."""

import re

from checks.diagnosis.model import Cause
from checks.machine import hf_hub

# How a failure says it fetched from the Hub: huggingface_hub's errors and messages, and the libraries' own
HUB_FETCH = re.compile(
    r"Hugging Face Hub|huggingface\.co\b|\bhf\.co\b|HfHubHTTPError|LocalEntryNotFoundError|OfflineModeIsEnabled|"
    r"couldn't connect to '?https?://|Couldn't reach .{0,200}on the Hub",
    re.I,
)


def by_hub(parts, facts, environ=None, timeout=3.0):
    """Rule 4j (module docstring): the deciding fact is the offline variable, or the endpoint's answer to a TCP
    connection within `timeout` seconds (hf_hub.reach)."""
    if not HUB_FETCH.search(parts.text):
        return None
    gap = hf_hub.blocked(environ, timeout)
    if gap is None:
        return None
    why, url, stays = gap
    if stays:
        return Cause(
            meaning="%s keeps the Hugging Face Hub client offline, and what the code loads from the Hub is not in "
            "the cache here (%s)" % (stays, hf_hub.cache_folders(environ)[0]),
            fix="download it once with the Hub reachable (unset %s), or point the code at a local folder"
            % stays.split("=")[0],
            fact=stays,
        )
    return Cause(
        meaning="the Hugging Face Hub (%s) cannot be reached from this machine (%s): what the code fetches from it "
        "at run time (a model, dataset, metric or script not in the cache) cannot load" % (url, why),
        fix=hf_hub.unreachable_fix(environ=environ),
        fact="%s: %s" % (hf_hub.endpoint(environ)[1], why),
    )
