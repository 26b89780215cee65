"""Rule 4g: a failure whose text states the release it needs of torch, torchvision, torchaudio or Python ("requires
torch>=2.1", "upgrade torch to at least v2.6", "PyTorch 2.4 or newer is required", "requires Python >= 3.9"), or of
another installed distribution as a requirement ("accelerate>=0.26.0 is required"), judged against the release
installed. Libraries check these at import or call time (transformers' `torch.load` guard,
accelerate's and Lightning's version checks, vLLM's, a model's remote code) and word them in these few ways; the
statement decides only where the installed release does not meet it, so a text that merely mentions a version is not
blamed.
"""

import os
import re
import sys

from checks.diagnosis.model import FRAME, Cause, raising_package
from checks.machine import provenance as provenance_facts

NAMES = r"(?P<name>torch|pytorch|torchvision|torchaudio|python)"
VERSION = r"v?(?P<version>\d+\.\d+(?:\.\d+)?)"
# The wordings of a lower bound: an operator, "X or newer", "at least X", "upgrade ... to X".
AT_LEAST = (
    re.compile(r"\b%s\s*(?:version\s*)?(?:>=|=>|≥)\s*%s" % (NAMES, VERSION), re.I),
    re.compile(
        r"\b%s\s+(?:version\s+)?%s\s*(?:\+|or (?:newer|higher|later|above|greater)|and (?:newer|higher|later|above))"
        % (NAMES, VERSION),
        re.I,
    ),
    re.compile(r"\b(?:upgrade|update)\s+%s\s+to\s+(?:at least\s+|version\s+|>=\s*)*%s" % (NAMES, VERSION), re.I),
    re.compile(
        r"\b%s\s+(?:version\s+)?(?:must|should|needs to|has to)\s+be\s+(?:at least|>=|newer than|higher than)\s+%s"
        % (NAMES, VERSION),
        re.I,
    ),
    re.compile(r"\brequires?\s+(?:at least\s+)?%s\s*(?:version\s*)?(?:at least\s+)?%s" % (NAMES, VERSION), re.I),
    re.compile(r"\bat least\s+%s\s+(?:version\s+)?%s" % (NAMES, VERSION), re.I),
)


# Any distribution's lower bound written as a requirement (`accelerate>=0.26.0 is required`, transformers'
# dependency_versions_check); judged only for a distribution installed here (its dist-info names its version).
ANY_AT_LEAST = re.compile(
    r"(?<![\w.-])(?P<name>[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9])\s*>=\s*v?(?P<version>\d+(?:\.\d+){0,2})"
)


# The wordings of an upper bound, on any distribution: "Numba needs NumPy 2.0 or less" (numba/__init__.py's
# _ensure_critical_deps), "Downgrade the protobuf package to 3.20.x or lower" (protobuf 4's descriptor.py), and a
# requirement's `<` or `<=` ("requires numpy<2"). strict: `<`; otherwise the bound's own release is allowed, at the
# precision written (2.0 or less allows 2.0.2).
AT_MOST = (
    re.compile(
        r"(?<![\w.-])(?!(?:to|is|be|or|and|than|of|at|the|with|for|got|found|has|have|version)\b)"
        r"(?P<name>[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9])\s+(?:package\s+)?(?:version\s+)?v?"
        r"(?P<version>\d+(?:\.\d+){0,2})(?:\.x)?\s+or\s+(?:less|lower|older|earlier|below)\b"
    ),
    re.compile(
        r"\b[Dd]owngrade\s+(?:the\s+)?(?P<name>[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9])\s+(?:package\s+)?to\s+"
        r"(?:version\s+)?v?(?P<version>\d+(?:\.\d+){0,2})(?:\.x)?(?:\s+or\s+(?:lower|less|older|earlier|below))?"
    ),
    re.compile(
        r"(?<![\w.-])(?P<name>[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9])\s*(?P<strict><)(?!=)\s*v?(?P<version>\d+(?:\.\d+){0,2})"
    ),
    re.compile(r"(?<![\w.-])(?P<name>[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9])\s*<=\s*v?(?P<version>\d+(?:\.\d+){0,2})"),
)


DOMAIN = ("torch", "torchvision", "torchaudio")


def upper_bounds(text):
    """[(name, version, strict)]: the upper bounds on installed distributions the text states, in order (names
    lower-cased; `strict` for `<`)."""
    found = []
    for pattern in AT_MOST:
        for match in pattern.finditer(text):
            strict = bool(match.groupdict().get("strict"))
            found.append((match.start(), match.group("name").lower(), match.group("version"), strict))
    return [(name, version, strict) for _, name, version, strict in sorted(found)]


def exceeds(have, bound, strict):
    """True when the release `have` lies above the bound: `< bound` (strict), else `bound` or less at the bound's
    precision (have 2.1.3 exceeds "2.0 or less"; 2.0.2 does not)."""
    numbers, limit = _numbers(have), _numbers(bound)
    if strict:
        return numbers >= limit
    return numbers[: len(limit)] > limit


def below_spec(bound, strict):
    """The pip specifier for a bound: `<bound` when strict, else `<` the next release at its precision (2.0 or less:
    `<2.1`; 3.20.x or lower: `<3.21`)."""
    if strict:
        return "<%s" % bound
    parts = list(_numbers(bound))
    parts[-1] += 1
    return "<%s" % ".".join(map(str, parts))


def floor_elsewhere(name, spec, installed, skip=()):
    """(distribution, version, floor, where) of an installed distribution (`installed`: requirements.pip_installed's
    answer) other than those in `skip` that needs `name` at a release `spec` (`<X`) excludes: its Requires-Dist
    lower bound on `name`, or the `<name>_minimum_version = "X"` its package's __init__.py sets (OpenMMLab's
    packages check mmcv so: mmdet 2.13's mmcv_minimum_version = '1.3.2', which "mmcv<1.3" would break;
    open-mmlab/mmpose#748). None when none does."""
    below = _numbers(spec.lstrip("<"))
    wanted = re.sub(r"[-_.]+", "-", name).lower()
    required = re.compile(
        r"(?im)^Requires-Dist:\s*%s\s*\(?[^;\n]*?>=\s*([\d.]+)" % re.escape(name).replace("\\-", "[-_.]")
    )
    stated = re.compile(r"(?m)^%s_minimum_version\s*=\s*['\"]([\d.]+)['\"]" % re.escape(name.replace("-", "_")))
    for project, (version, metadata) in sorted(installed.items()):
        if project == wanted or project in {re.sub(r"[-_.]+", "-", s).lower() for s in skip}:
            continue
        for path, pattern in (
            (metadata, required),
            (
                os.path.join(os.path.dirname(os.path.dirname(metadata)), project.replace("-", "_"), "__init__.py"),
                stated,
            ),
        ):
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    found = pattern.search(handle.read(1 << 16))
            except OSError:
                continue
            if found and _numbers(found.group(1)) >= below:
                where = os.path.basename(path) if path == metadata else "%s/__init__.py" % project.replace("-", "_")
                return project, version, found.group(1), where
    return None


def _numbers(version):
    return tuple(int(n) for n in re.findall(r"\d+", version.split("+")[0])[:3])


def _installed(name, facts, distributions=None):
    """The installed release of `name` as this process would import it (Python: the running interpreter; another
    distribution: its dist-info or egg-info on sys.path, `distributions` as requirements.pip_installed gives them)."""
    if name == "python":
        return "%d.%d.%d" % sys.version_info[:3]
    if name in facts.provenance.packages:
        package = facts.provenance.packages[name]
        if package.imported is None:
            return None
        return package.imported.version or provenance_facts.version_py(package.imported.path).get("__version__")
    found = (distributions or {}).get(re.sub(r"[-_.]+", "-", name).lower())
    return found[0] if found else None


def statements(text):
    """[(name, version)]: the lower bounds on torch, torchvision, torchaudio or Python the text states, in order."""
    found = []
    for pattern in AT_LEAST:
        for match in pattern.finditer(text):
            name = match.group("name").lower()
            name = "torch" if name == "pytorch" else name
            found.append((match.start(), name, match.group("version")))
    named = {(start, name) for start, name, _ in found}
    for match in ANY_AT_LEAST.finditer(text):
        name = match.group("name").lower()
        if name in ("torch", "pytorch", "torchvision", "torchaudio", "python") or (match.start(), name) in named:
            continue
        found.append((match.start(), name, match.group("version")))
    return [(name, version) for _, name, version in sorted(found)]


def by_stated(parts, facts):
    """Rule 4g (the module docstring): the first stated lower bound the installed release does not meet."""
    from checks.machine import requirements

    block = parts.text[-8000:]
    found = statements(block)
    others = [n for n, _ in found if n not in ("torch", "torchvision", "torchaudio", "python")]
    distributions = requirements.pip_installed(list(sys.path)) if others else {}
    for name, needed in found:
        have = _installed(name, facts, distributions)
        if not have or _numbers(have) >= _numbers(needed):
            continue
        raiser = raising_package(parts.text, skip=("torch", "torchvision", "torchaudio"))
        if name == "python":
            fix = "run it with Python %s or newer (an environment whose python is >= %s)" % (needed, needed)
        else:
            domain = name in ("torch", "torchvision", "torchaudio")
            cuda = provenance_facts.version_py(facts.torch_dir).get("cuda") if facts.torch_dir and domain else None
            index = (
                " from the index of its CUDA build (https://download.pytorch.org/whl/cu%s, or a newer CUDA's)"
                % cuda.replace(".", "")
                if cuda
                else ""
            )
            fix = 'install %s %s or newer: `python -m pip install "%s>=%s"`%s' % (name, needed, name, needed, index)
        if raiser:
            fix += ", or install a release of %s that supports %s %s" % (raiser, name, have)
        return Cause(
            meaning="%s needs %s >= %s (its message says so); %s %s is installed"
            % (raiser or "the code that failed", name, needed, name, have),
            fix=fix,
            fact="installed %s %s < %s, the release the failure's text requires" % (name, have, needed),
        )
    return _above_bound(parts, block)


def _above_bound(parts, block):
    """Rule 4g's upper bounds: the first bound the text states on an installed distribution that the installed
    release exceeds, with both ways out: that distribution below the bound, or a release of the package that raised
    which supports the installed one (numba 0.61 supports NumPy 2.1; numba 0.60 says "Numba needs NumPy 2.0 or
    less")."""
    from checks.machine import distributions as dist_facts
    from checks.machine import requirements

    bounds = upper_bounds(block)
    installed = requirements.pip_installed(list(sys.path)) if bounds else {}
    for name, bound, strict in bounds:
        found = installed.get(re.sub(r"[-_.]+", "-", name))
        if not found or not exceeds(found[0], bound, strict):
            continue
        have, metadata = found
        raiser, made = None, None
        for path in reversed(FRAME.findall(parts.text)):  # the innermost frame of another installed distribution
            owner = dist_facts.owner(path) if not path.startswith("<") else None
            if owner is not None and dist_facts.canonical(owner.name) not in (dist_facts.canonical(name),) + DOMAIN:
                raiser, made = owner.name, owner.version
                break
        if raiser is None:  # "Numba needs NumPy 2.0 or less": the package that says it needs
            said = re.search(r"\b([A-Za-z][\w.-]*) (?:needs|requires)\b", block)
            said = said.group(1).lower() if said else None
            if said and said != name and said in installed:
                raiser, made = said, installed[said][0]
        spec = below_spec(bound, strict)
        fix = 'install %s %s: `python -m pip install "%s%s"`' % (name, spec, name, spec)
        if raiser and raiser != name:
            fix += ", or upgrade %s to a release that supports %s %s (`python -m pip install -U %s`)" % (
                raiser,
                name,
                have,
                raiser,
            )
        other = floor_elsewhere(name, spec, installed, skip=(raiser or "",))
        if raiser and raiser != name and other is not None:  # the way down breaks another: only the way up is left
            fix = (
                "upgrade %s to a release that supports %s %s (`python -m pip install -U %s`); a %s older than %s "
                "would break %s %s, which needs %s>=%s (%s)" % (raiser, name, have, raiser, name, spec.lstrip("<"),
                                                                other[0], other[1], name, other[2], other[3])
            )  # fmt: skip
        return Cause(
            meaning="%s%s needs %s %s (its message says so); %s %s is installed"
            % (raiser or "the code that failed", " %s" % made if made else "", name, spec, name, have),
            fix=fix,
            fact="installed %s %s, above the bound %s the failure's text states" % (name, have, spec),
        )
    return None
