"""What a pixi environment promises on one platform: the torch build flavour, its CUDA, and where that comes from.

One model for verify (what to expect here), lock-audit (what the lock must hold), the nox sessions and CI's
matrix (which environments have torch, and which a CUDA build). It reads the environment composed on the
platform once (manifest.EnvironmentOnPlatform, from `ws.environment_on`). A promise comes from, in this order:
- legacy `pytorch` channel: `pytorch-cuda X.Y` is CUDA X.Y, `cpuonly` is CPU, neither leaves the flavour to the
  solver (`unpinned`: say so, never guess);
- conda-forge: `pytorch-gpu` / `pytorch-cpu`, `cudatoolkit X.Y` (PyTorch 1.x era), `cuda-version`, or a plain
  `pytorch` on a platform that declares `__cuda` (a rich platform's `cuda = "12.0"`, or `[system-requirements]
  cuda`): conda-forge's CUDA builds need `__cuda`, so the solver prefers them exactly there;
- PyPI: a `torch` from a PyTorch wheel index (`/whl/cu124` is CUDA 12.4, `/whl/cpu` is CPU), given per package,
  by `[pypi-options]`, or for torch pulled in by another PyPI package; PyPI's own Linux x86-64 wheel is a CUDA build.
"""

import re

from checks.workspace import channels, versions

TORCH_NAMES = ("pytorch", "torch")
WHEEL_INDEX = re.compile(channels.WHEEL_INDEX_ROOT + r"(%s)\b" % channels.WHEEL_TAG)


class Promise:
    """The torch promise of an environment on a platform.

    flavour: "cuda", "cpu", "rocm", "unpinned" (the solver decides) or None (no torch here);
    cuda: a version spec of the CUDA (`11.8.*`, `>=12.8`), or None; exact: the build's own CUDA must match it
    (pytorch-cuda, a PyTorch wheel index), else it names the runtime (cuda-version, cudatoolkit) and only the
    build's CUDA major must agree (conda-forge's `cuda112` builds run on cudatoolkit 11.8);
    driver: the CUDA the platform declares (`__cuda`), an upper bound on the build's CUDA major, or None;
    source: what makes the promise, for messages; kind: "conda", "pypi" or None;
    torch: the version spec of torch, or None; index: the PyPI index torch comes from (PyPI torch only).
    """

    def __init__(self, flavour, source, cuda=None, driver=None, kind=None, torch=None, index=None, exact=True):
        self.flavour, self.source, self.cuda, self.driver = flavour, source, cuda, driver
        self.kind, self.torch, self.index, self.exact = kind, torch, index, exact

    def __repr__(self):
        return "Promise(%s, cuda=%s, driver=%s, %s)" % (self.flavour, self.cuda, self.driver, self.source)


def _spec(specs, name):
    """Return the combined version spec of a package (`a,b` for several features), or None if absent."""
    found = [s["version"] for s in specs.get(name, []) if s.get("version") not in (None, "*")]
    return ",".join(found) if found else ("*" if name in specs else None)


def _channel(specs, name):
    return next((s.get("channel") for s in specs.get(name, []) if s.get("channel")), None)


def index_flavour(url):
    """Return (flavour, CUDA version) of a PyTorch wheel index URL, or (None, None) for another index."""
    match = WHEEL_INDEX.search(url or "")
    return channels.tag_flavour(match.group(1)) if match else (None, None)


def local_without_index(promise):
    """Return the local version label (`cu121`) when a PyPI torch spec pins a local version (`==2.5.1+cu121`) that
    the environment's indexes cannot serve, else None: PyPI does not host local versions (PEP 440, "Local version
    identifiers": they "SHOULD NOT be used when publishing upstream projects to a public index server"; pypi.org
    refuses their upload), so only a PyTorch wheel index (download.pytorch.org/whl/<label>: the torch promise's
    `index`) has them, given per package (`index = ...`) or by [pypi-options] `index-url` / `extra-index-urls`
    (features_ext.rs@v0.77.0:367-390)."""
    if promise.kind != "pypi" or not promise.torch:
        return None
    found = re.search(r"\+([A-Za-z0-9.]+)", promise.torch)
    if not found or index_flavour(promise.index)[0]:
        return None
    return found.group(1)


def pypi_promise(ws, env_name, platform, pypi=None, direct=True):
    """Return the Promise of a PyPI torch in an environment: from its own `index`, else the first PyTorch wheel
    index among the environment's indexes, else PyPI's default wheel for the platform. Reads the environment's
    EnvironmentOnPlatform (ws.environment_on); pypi: its PyPI dependencies with torch added, when torch is
    there through another package."""
    on = ws.environment_on(env_name, platform)
    pypi = on.pypi_dependencies if pypi is None else pypi
    torch = pypi.get("torch", [])
    own = next((s["index"] for s in torch if s.get("index")), None)
    indexes = [own] if own else list(on.indexes)
    for url in indexes:
        flavour, cuda = index_flavour(url)
        if flavour:
            where = "torch from %s" % url if direct else "PyPI packages (torch comes with them) from %s" % url
            cuda_spec = "%s.*" % cuda if cuda else None
            return Promise(flavour, where, cuda_spec, platform.cuda, "pypi", _spec(pypi, "torch"), url)
    if platform.subdir == "linux-64":
        source = "torch from PyPI (its Linux x86-64 wheel is a CUDA build)"
        return Promise("cuda", source, None, platform.cuda, "pypi", _spec(pypi, "torch"), indexes[0])
    if platform.subdir.startswith(("win-", "osx-")):
        source = "torch from PyPI (its %s wheel is a CPU build)" % platform.subdir
        return Promise("cpu", source, None, None, "pypi", _spec(pypi, "torch"), indexes[0])
    return Promise("unpinned", "torch from PyPI on %s" % platform.subdir, None, None, "pypi", _spec(pypi, "torch"))


def promise(ws, env_name, platform, installed=None):
    """Return what environment `env_name` promises on workspace platform `platform` (a Promise).

    installed: "conda" or "pypi" when torch is there without being a dependency of the manifest (pulled in by
    another package, as the lock or the environment shows): the same rules then apply as to a plain `pytorch`
    (conda) or `torch` (PyPI) dependency. Reads the environment's EnvironmentOnPlatform (ws.environment_on).
    """
    on = ws.environment_on(env_name, platform)
    deps, pypi = on.dependencies, on.pypi_dependencies
    if "pytorch" not in deps and "pytorch-gpu" not in deps and "pytorch-cpu" not in deps:
        if "torch" in pypi or installed == "pypi":
            return pypi_promise(ws, env_name, platform, pypi, direct="torch" in pypi)
        if installed != "conda":
            return Promise(None, "no torch in this environment")
        deps = dict(deps, pytorch=[{"version": "*", "feature": "(through another package)"}])
    torch = _spec(deps, "pytorch") or _spec(deps, "pytorch-gpu") or _spec(deps, "pytorch-cpu")
    driver = platform.cuda
    legacy = _from_pytorch_channel(on.channels, deps)
    if "pytorch-cuda" in deps:
        cuda = _spec(deps, "pytorch-cuda")
        return Promise("cuda", "pytorch-cuda %s" % cuda, cuda, driver, "conda", torch)
    if "cpuonly" in deps or "pytorch-cpu" in deps:
        return Promise("cpu", "cpuonly" if "cpuonly" in deps else "pytorch-cpu", None, None, "conda", torch)
    if "cudatoolkit" in deps:
        cuda = _spec(deps, "cudatoolkit")
        cuda = None if cuda == "*" else cuda
        return Promise("cuda", "cudatoolkit %s" % cuda, cuda, driver, "conda", torch, exact=False)
    if "pytorch-gpu" in deps or (not legacy and "cuda-version" in deps):
        cuda = _spec(deps, "cuda-version")
        source = "pytorch-gpu" if "pytorch-gpu" in deps else "cuda-version %s" % cuda
        return Promise("cuda", source, cuda, driver, "conda", torch, exact=False)
    if platform.subdir.startswith("osx-"):
        return Promise("cpu", "pytorch on %s (macOS builds have no CUDA)" % platform.subdir, None, None, "conda", torch)
    if legacy:
        source = "pytorch from the pytorch channel with neither cpuonly nor pytorch-cuda"
        return Promise("unpinned", source, None, driver, "conda", torch)
    if driver:
        source = "conda-forge pytorch on %s (declares __cuda=%s)" % (platform.name, driver)
        return Promise("cuda", source, None, driver, "conda", torch)
    return Promise("cpu", "conda-forge pytorch on %s (no __cuda declared)" % platform.name, None, None, "conda", torch)


def _from_pytorch_channel(env_channels, deps):
    """Return True if `pytorch` comes from the legacy `pytorch` channel: pinned there, or (unpinned) that channel
    precedes conda-forge, which under strict priority decides (rattler_solve resolvo/mod.rs@rattler_solve-v9.0.0)."""
    pinned = _channel(deps, "pytorch")
    if pinned:
        return channels.same(pinned, "pytorch")
    order = [channels.name(c) for c in env_channels]
    return "pytorch" in order and ("conda-forge" not in order or order.index("pytorch") < order.index("conda-forge"))


def torch_environments(ws, subdir, cuda=False):
    """Return the environments with torch on a platform of `subdir` (cuda=True: a CUDA build there).

    The project's own test environments (those that add pytest) are left out: they repeat a listed one.
    """
    names = []
    for name in ws.environments:
        for platform in ws.env_platforms(name):
            if platform.subdir != subdir or "pytest" in ws.environment_on(name, platform).dependencies:
                continue
            flavour = promise(ws, name, platform).flavour
            if flavour is not None and (flavour == "cuda" or not cuda):
                names.append(name)
                break
    return names


def environments_with_kernels(ws, subdir, capability, exclude=None):
    """Return [(environment, platform name, why)] of the workspace's CUDA environments on `subdir` whose torch
    builds have kernels for a GPU of compute capability `capability` ((9, 0)): PyTorch 2.0's own arch lists for its
    CUDA 11.7 / 11.8 builds (compat.TORCH20_ARCHES), else whether the environment's CUDA can build kernels for that
    GPU at all (compat.cuda_can_build). Environments with one platform here come first (nothing else to choose)."""
    from checks import compat

    sm = "sm_%d%d" % tuple(capability)
    found = []
    for env in torch_environments(ws, subdir, cuda=True):
        here = [p for p in ws.env_platforms(env) if p.subdir == subdir and env != exclude]
        for platform in here:
            made = promise(ws, env, platform)
            cuda = versions.floor(made.cuda) or made.driver if made.flavour == "cuda" else None
            if not cuda:
                continue
            arches = compat.TORCH20_ARCHES.get(".".join(map(str, versions.minor(cuda))))
            if arches and versions.minor(versions.floor(made.torch) or "0") == (2, 0):
                why = "its torch 2.0 CUDA %s builds have %s kernels" % (cuda, sm)
                fits = compat.arch_support(capability, arches)[0] != "none"
            else:
                why, fits = "CUDA %s builds can have %s kernels" % (cuda, sm), compat.cuda_can_build(cuda, capability)
            if fits:
                found.append((len(here), env, platform.name, why))
                break
    return [entry[1:] for entry in sorted(found, key=lambda entry: entry[0])]


def host_packages(driver_cuda, mac_version=None, glibc=None, linux=None):
    """Return the host's virtual packages as pixi sees them when it selects a platform ({name: version}).

    CONDA_OVERRIDE_CUDA replaces (or, empty, removes) the detected `__cuda`, as pixi applies it
    (apply_environment_variable_overrides, crates/pixi_core/src/workspace/mod.rs@v0.77.0:358-429).
    """
    import os

    override = os.environ.get("CONDA_OVERRIDE_CUDA")
    cuda = (override or None) if override is not None else driver_cuda
    return {"__cuda": cuda, "__osx": mac_version, "__glibc": glibc, "__linux": linux}


def select_platform(candidates, subdir, host):
    """Return the platform pixi installs: the first of `subdir` (declaration order) this host can run, or None.

    Workspace::possible_pixi_platforms, crates/pixi_manifest/src/workspace.rs@v0.77.0:155-197.
    """
    subdirs = [subdir] + (["osx-64"] if subdir == "osx-arm64" else []) + (["win-64"] if subdir == "win-arm64" else [])
    for wanted in subdirs:
        for platform in candidates:
            if platform.subdir == wanted and platform.runs_on(host):
                return platform
    return None


class Expectation:
    """What an environment promises on this machine: its platform (and how it was chosen), dependencies, promise.

    on: the environment composed on that platform (EnvironmentOnPlatform); deps and pypi are its dependencies and
    PyPI dependencies.

    chosen: "pixi" (the platform pixi installed, from `--platform` or the environment's install record),
    "derived" (this host's first runnable platform, as pixi would choose), or "fallback" (no platform of this OS
    runs here, e.g. the driver is too old: the first one, so that the driver check can say what to install).
    """

    def __init__(self, ws, env, platform, candidates, chosen, installed=None):
        self.ws, self.env, self.platform, self.candidates, self.chosen = ws, env, platform, candidates, chosen
        self.on = ws.environment_on(env, platform)
        self.deps, self.pypi = self.on.dependencies, self.on.pypi_dependencies
        self.promise = promise(ws, env, platform, installed)
        self.python = _spec(self.deps, "python")
        self.torch = self.promise.torch
        self.torchvision = _spec(self.deps, "torchvision") or _spec(self.pypi, "torchvision")
        self.torchaudio = _spec(self.deps, "torchaudio") or _spec(self.pypi, "torchaudio")

    @property
    def flavour(self):
        return self.promise.flavour

    @property
    def cuda(self):
        return self.promise.cuda or (self.promise.driver if self.promise.flavour == "cuda" else None)

    @property
    def driver_short(self):
        return self.chosen == "fallback"

    def describe(self):
        """Return a one-line description, e.g. `cu118 on linux-64-cu118`."""
        return "%s on %s" % (self.env, self.platform.name)

    def header(self):
        """Return the header line: the description and how the platform was chosen."""
        how = {
            "pixi": "installed by pixi",
            "derived": "as pixi would choose it here",
            "fallback": "none of its platforms runs here: the first",
        }
        return "%s (%s)" % (self.describe(), how[self.chosen])


def expect(ws, env_name, subdir, host, platform_name=None, installed=None):
    """Return the Expectation for an environment here, or raise ManifestError naming the valid choices.

    platform_name: the platform pixi chose (`{{ pixi.platform }}` in the task, or its install record); without it
    the choice is derived as pixi would make it for this host. installed: how torch is installed when the manifest
    does not name it ("conda" or "pypi"; see promise()).
    """
    from checks.workspace.manifest import ManifestError

    ws.environment(env_name)
    candidates = ws.env_platforms(env_name)
    if platform_name:
        return Expectation(ws, env_name, ws.env_platform(env_name, platform_name), candidates, "pixi", installed)
    platform = select_platform(candidates, subdir, host)
    if platform is not None:
        return Expectation(ws, env_name, platform, candidates, "derived", installed)
    here = [p for p in candidates if p.subdir == subdir]
    if not here:
        raise ManifestError(
            "environment %r does not support this machine (%s); it supports: %s"
            % (env_name, subdir, ", ".join(p.name for p in candidates))
        )
    return Expectation(ws, env_name, here[0], candidates, "fallback", installed)


def cuda_verdict(build_cuda, promised):
    """Judge a build's CUDA against a promise: (None | "newer-minor" | "wrong" | "too-new", expected text).

    `wrong`: not the promised CUDA spec; `too-new`: a newer CUDA major than the platform's `__cuda` (the build
    will not load on such a driver); `newer-minor`: a newer minor of the same major (conda-forge's `cuda-version
    12.x` needs only `__cuda >= 12`, so it loads, but under minor-version compatibility).
    """
    if promised.cuda and promised.exact and not versions.matches(versions.release(build_cuda), promised.cuda):
        return "wrong", "CUDA %s" % promised.cuda
    floor = versions.floor(promised.cuda)
    if (
        promised.cuda
        and not promised.exact
        and floor
        and versions.minor(build_cuda)[0] != versions.minor(floor)[0]
        and not versions.matches(versions.release(build_cuda), promised.cuda)  # `>=12.8` allows CUDA 13
    ):
        return "wrong", "CUDA %d.x (%s)" % (versions.minor(floor)[0], promised.source)
    if promised.driver:
        have, ceiling = versions.minor(build_cuda), versions.minor(promised.driver)
        if have[0] > ceiling[0]:
            return "too-new", "CUDA %d.x at most (the platform declares __cuda=%s)" % (ceiling[0], promised.driver)
        if have > ceiling and versions.key(promised.driver)[1:]:
            return "newer-minor", "CUDA <= %s (the platform declares __cuda=%s)" % (promised.driver, promised.driver)
    return None, promised.cuda and "CUDA %s" % promised.cuda
