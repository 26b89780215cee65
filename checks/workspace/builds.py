"""Which PyPI dependencies of an environment cannot be built where pixi builds them: their build imports torch, and
pixi builds them in an isolated build environment, which holds no torch.

Sources of the rules:
- A build frontend builds a source distribution (or a local or git source) in an isolated environment that holds
  only the build requirements the project declares: pyproject.toml's `[build-system] requires`, or setuptools
  alone (with wheel) when it has no pyproject.toml (PEP 517, "Build environment"; PEP 518; pip's "Build
  isolation", pip.pypa.io/en/stable/reference/build-system/pyproject-toml/). The environment's own packages are not
  there, so a setup.py that imports torch without declaring it stops with `ModuleNotFoundError: No module named
  'torch'` although torch is installed. `pip install --no-build-isolation NAME` builds in the environment itself.
- pixi builds PyPI packages with uv, isolated unless `[pypi-options] no-build-isolation` names the package or is
  `true`; packages without build isolation are installed after the others, in the order listed; conda
  dependencies are installed before PyPI packages are resolved, so they define the build environment
  (docs/reference/pixi_manifest.md@v0.77.0, "No Build Isolation").

What says a package's build imports torch: its own source where it is on this machine (a `path` dependency: its
setup.py imports torch while its pyproject.toml's build requirements do not name it), else the package's own
install instructions (BUILD_NEEDS_TORCH, each with its source).
"""

import ast
import dataclasses
import os
import re
from collections.abc import Mapping

# PyPI projects whose own documentation installs them with --no-build-isolation because their setup.py imports torch
# (PEP 503 names -> the source).
BUILD_NEEDS_TORCH = {
    "flash-attn": "its README installs it with `pip install flash-attn --no-build-isolation` "
    "(github.com/Dao-AILab/flash-attention)",
    "mamba-ssm": 'its README: "If pip complains about PyTorch versions, try passing --no-build-isolation to pip" '
    "(github.com/state-spaces/mamba)",
    "detectron2": 'pixi\'s manifest reference builds it without isolation ("No Build Isolation", '
    "pixi_manifest.md@v0.77.0)",
}
# a source's files are read up to this size (an untrusted workspace: bounded)
MAX_SOURCE_BYTES = 1 << 20


def normal(name):
    """A PyPI name as PEP 503 normalises it."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclasses.dataclass(frozen=True)
class BuildNeed:
    """A PyPI dependency whose build imports `module` (torch) and that pixi builds isolated: `package` as the
    manifest names it, `evidence` (what says its build imports torch), `isolated_by` (why the build is isolated:
    "not in [pypi-options] no-build-isolation")."""

    package: str
    module: str
    evidence: str
    isolated_by: str


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_SOURCE_BYTES).decode("utf-8", "replace")
    except OSError:
        return None


def imports(source, module):
    """True when Python source text imports `module` (`import torch`, `import torch.utils.cpp_extension`, `from
    torch... import ...`) anywhere, read with ast (never executed); False for text that does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == module for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == module:
            return True
    return False


def build_requires(directory):
    """Return the `[build-system] requires` of the project in `directory` (a tuple of requirement strings), None
    when it has no pyproject.toml or no [build-system] table (the frontend then installs setuptools alone: PEP 517)."""
    from checks.workspace.manifest import ManifestError, _toml_parser

    text = _read(os.path.join(directory, "pyproject.toml"))
    if text is None:
        return None
    try:
        data = _toml_parser()[0].loads(text)
    except (ManifestError, ValueError):  # no TOML reader, or a malformed file (tomllib's error is a ValueError)
        return None
    requires = (data.get("build-system") or {}).get("requires") if isinstance(data, dict) else None
    return tuple(r for r in requires if isinstance(r, str)) if isinstance(requires, list) else None


def source_needs(directory, module="torch"):
    """Return the evidence that the project in `directory` imports `module` in its setup.py without declaring it a
    build requirement (so an isolated build stops), or None."""
    source = _read(os.path.join(directory, "setup.py"))
    if source is None or not imports(source, module):
        return None
    requires = build_requires(directory) or ()
    if any(normal(re.match(r"\s*([A-Za-z0-9._-]*)", r).group(1)) == module for r in requires):
        return None
    declared = (
        "its pyproject.toml's [build-system] requires %s, without %s" % (list(requires), module)
        if requires
        else "it declares no build requirements (no pyproject.toml [build-system] requires: setuptools alone)"
    )
    return "%s imports %s, and %s" % (os.path.normpath(os.path.join(directory, "setup.py")), module, declared)


def isolated_needs(ws, env_name, pypi, missing, module="torch"):
    """Return the BuildNeeds among an environment's PyPI dependencies `pypi` ({name: (spec, ...)}, as
    EnvironmentOnPlatform.pypi_dependencies) whose names `missing` holds (not installed here): those whose build
    imports `module` by their own source (a `path` dependency, relative to the manifest's folder) or
    BUILD_NEEDS_TORCH, and that the environment builds isolated (ws.no_build_isolation(env_name))."""
    exempt = ws.no_build_isolation(env_name)
    if exempt is True:
        return []
    root = os.path.dirname(os.path.abspath(ws.path))
    wanted = {normal(n) for n in missing}
    found = []
    for name, specs in pypi.items():
        key = normal(name)
        if key not in wanted or key in exempt:
            continue
        spec = specs[-1] if specs else None
        evidence = None
        if isinstance(spec, Mapping) and isinstance(spec.get("path"), str):
            evidence = source_needs(os.path.join(root, os.path.expanduser(spec["path"])), module)
        elif module == "torch" and key in BUILD_NEEDS_TORCH:
            evidence = BUILD_NEEDS_TORCH[key]
        if evidence:
            found.append(
                BuildNeed(
                    package=name,
                    module=module,
                    evidence=evidence,
                    isolated_by="not in [pypi-options] no-build-isolation%s"
                    % (" (%s)" % ", ".join(exempt) if exempt else ""),
                )
            )
    return found


def describe(needs, env_name, conda_deps):
    """Return (summary, fix) of a verify line for `needs` (BuildNeeds, at least one) in environment `env_name`, whose
    conda dependencies `conda_deps` ({name: specs}) say whether setuptools and torch come from conda."""
    names = [n.package for n in needs]
    quoted = ", ".join('"%s"' % n for n in names)
    first = needs[0]
    summary = (
        "%s is not installed: its build imports %s (%s), and pixi builds PyPI packages in an isolated build "
        "environment that holds only their declared build requirements (PEP 517/518), so the build stops with "
        "`ModuleNotFoundError: No module named '%s'` although the environment %s has %s; %s is %s"
        % (", ".join(names), first.module, first.evidence, first.module, env_name, first.module, names[0],
           first.isolated_by)
    )  # fmt: skip
    conda = {normal(n) for n in conda_deps}
    steps = ['add `no-build-isolation = [%s]` under [pypi-options] (pixi >= 0.29): pixi then builds %s in the '
             "environment itself, after its other packages" % (quoted, " and ".join(names))]  # fmt: skip
    if "setuptools" not in conda:
        steps.append("add setuptools to [dependencies] (the build runs with the environment's own setuptools)")
    if "pytorch" not in conda and "torch" not in conda:
        steps.append(
            "if pixi still cannot resolve %s for want of torch, take torch from conda ([dependencies] pytorch): "
            "conda packages are installed before PyPI packages are resolved (pixi's manifest reference, "
            '"No Build Isolation")' % names[0]
        )
    steps.append("then `pixi install -e %s` (outside pixi: `pip install --no-build-isolation %s` after torch)"
                 % (env_name, " ".join(names)))  # fmt: skip
    return summary, "; ".join(steps)
