"""Rule 2d: a failure in torchvision or torchaudio whose installed release is not the one made for the installed
torch, where their own metadata does not say (a conda or source install, a wheel installed with --no-deps, or a
metadata pin that is met by the local version only). Their compiled operators (torchvision::nms, torchaudio's
libtorchaudio) link against one torch release; the pairs are checks/compat.py's table (the previous-versions page
and the wheels' Requires-Dist)."""

import re

from checks import compat
from checks.diagnosis.model import Cause
from checks.machine import provenance as provenance_facts
from checks.workspace import versions

# The failure classes a mismatched pair produces: an operator or extension that does not load, a name that moved.
MISMATCH = re.compile(
    r"operator (?:torchvision|torchaudio)::\w+ does not exist|Couldn't load custom C\+\+ ops|undefined symbol|"
    r"cannot import name|has no attribute|No module named 'torch\.|were compiled with different CUDA|"
    r"Failed to load image Python extension|libtorchaudio|DLL load failed",
    re.I,
)


def _version(name, facts):
    package = facts.provenance.packages.get(name)
    if package is None or package.imported is None:
        return None
    return package.imported.version or provenance_facts.version_py(package.imported.path).get("__version__")


def _pinned(name, facts):
    """True when `name`'s own metadata declares a torch requirement (rule 2 judges that one)."""
    return any(r.owner.split()[0] == name and r.name in ("torch", "pytorch") for r in facts.requirements.items)


def by_paired(parts, facts):
    """Rule 2d (the module docstring): the library the failure is in, its release against the pair of torch's."""
    torch = _version("torch", facts)
    if not torch or not MISMATCH.search(parts.text):
        return None
    table = compat.paired_versions(versions.release(torch))
    if table is None:
        return None
    for index, name in enumerate(("torchvision", "torchaudio")):
        if name not in parts.packages and not re.search(r"\b%s\b" % name, parts.text, re.I):
            continue
        have = _version(name, facts)
        if not have or _pinned(name, facts):
            continue
        wanted = table[index]
        try:
            if versions.matches(versions.release(have), wanted):
                continue
        except versions.SpecError:
            continue
        if versions.minor(versions.release(have)) == versions.minor(wanted.rstrip(".*")):
            continue  # another patch release of the right minor: its operators load
        local = torch.partition("+")[2]
        pin = "%s==%s%s" % (name, wanted, "+" + local if local and "*" not in wanted else "")
        index_url = " --index-url https://download.pytorch.org/whl/%s" % local if local else ""
        return Cause(
            meaning="%s %s is not the release made for torch %s (that is %s %s): its compiled operators are built "
            "against another torch and fail to load with this one" % (name, have, torch, name, wanted),
            fix='install the %s that pairs with torch %s: `python -m pip install --no-deps "%s"%s`'
            % (name, torch, pin, index_url),
            fact="%s %s with torch %s (pairs: checks/compat.py)" % (name, have, torch),
        )
    return None
