"""Which CUDA build of the installed torch release runs on this machine, and the command that installs it the way this
environment was installed (pip or uv from a PyTorch wheel index, the legacy `pytorch` conda channel, conda-forge, or
an environment of the pixi workspace here): the fix of a CPU build on a machine whose NVIDIA driver answers.

The release's CUDA builds are compat.WHEEL_CUDA / compat.PYTORCH_CHANNEL_CUDA (PyTorch's release matrix and
previous-versions page); the one chosen is the newest the driver runs (compat.choose_cuda_build: NVIDIA's minimum
drivers, with minor-version compatibility) that can have kernels for each GPU the driver lists.
"""

import dataclasses
from typing import Optional

from checks import compat
from checks.diagnosis.model import GpuSeen
from checks.machine import probe
from checks.workspace import versions

WHEEL_INDEX = "https://download.pytorch.org/whl/%s"
DOMAIN = ("torchvision", "torchaudio")


@dataclasses.dataclass(frozen=True)
class CudaBuildFix:
    """The CUDA build to install in place of a CPU build.

    how: "pip", "uv", "pytorch-channel", "conda-forge" (how torch is installed here); choice: compat.CudaChoice over
    the release's builds for that route (None where the route's table has no row for this release); command: the
    install command, or None when there is none to give; reason: the sentence that says which build and why, or
    why none; workspace: `pixi run -e ENV verify` of a CUDA environment of the pixi workspace here, or None.
    """

    how: str
    choice: Optional[compat.CudaChoice]
    command: Optional[str]
    reason: str
    workspace: Optional[str] = None

    def hint(self):
        """Return the fix as one line: the command (or why there is none), then the workspace's environment."""
        text = "%s: `%s`" % (self.reason, self.command) if self.command else self.reason
        return text + ("; or in this workspace: `%s`" % self.workspace if self.workspace else "")


def gpu_capabilities(driver):
    """Return the compute capabilities ((major, minor)) of the GPUs the driver lists (NVML or nvidia-smi's
    compute_cap, else the product name's: diagnosis.model.GpuSeen.from_driver), skipping those known by neither."""
    return tuple(g.capability for g in GpuSeen.from_driver(driver))


def installer(torch_record=None, copy=None):
    """Return how torch was installed: "pytorch-channel" or "conda-forge" (its conda record's channel; another
    conda channel counts as conda-forge's way), "uv" (the dist-info's INSTALLER says uv, PEP 376 / PEP 627), else
    "pip". `torch_record`: probe.conda_record("pytorch"); `copy`: provenance's Copy of the imported torch."""
    if torch_record:
        return "pytorch-channel" if torch_record.get("channel") == "pytorch" else "conda-forge"
    return "uv" if copy is not None and copy.installer == "uv" else "pip"


def domain_versions(torch_version, installed):
    """Return [(name, version)] of torchvision/torchaudio to reinstall beside torch `torch_version`: those in
    `installed` ({name: version}), at the release that pairs with this torch (compat.paired_versions) where it names
    one, else at the installed release when that matches the pairing's spec (torchvision 0.29.* with torch 2.14+).
    A library whose pairing leaves it behind (torchaudio ends at 2.11) is left out: it has no build of its own for
    this torch's CUDA builds to name."""
    pair = compat.paired_versions(torch_version)
    chosen = []
    for name, spec in zip(DOMAIN, pair or (None, None)):
        have = installed.get(name)
        if not have or spec is None:
            continue
        if "*" not in spec:
            chosen.append((name, spec))
        elif spec.startswith(compat.LAST_TORCHAUDIO) and name == "torchaudio":
            continue
        elif versions.matches(versions.release(have), spec):
            chosen.append((name, versions.release(have)))
    return chosen


def pip_command(tool, torch_version, domain, cuda):
    """Return the pip (or `uv pip`) command that replaces the installed build with the CUDA `cuda` one.

    The local label is written out (`torch==2.13.0+cu126`): `==2.13.0` would be met by the installed 2.13.0+cpu, as
    PEP 440 ignores a candidate's local label when the specifier has none ("Version matching"), and pip would keep
    it."""
    tag = compat.cuda_tag(cuda)
    pins = ["torch==%s+%s" % (torch_version, tag)] + ["%s==%s+%s" % (n, v, tag) for n, v in domain]
    prefix = "uv pip install" if tool == "uv" else "pip install"
    return "%s %s --index-url %s" % (prefix, " ".join(pins), WHEEL_INDEX % tag)


def conda_command(how, torch_version, domain, cuda):
    """Return the conda command for a CUDA build: the legacy channel's `pytorch-cuda=X.Y` (previous-versions page), or
    conda-forge's CUDA build string (`pytorch=V=cuda*`), whose CUDA conda picks by the `__cuda` virtual package
    (the driver's CUDA: conda-forge cuda-feedstock, end_user_run_guide.md, FAQ)."""
    if how == "pytorch-channel":
        pins = ["pytorch==%s" % torch_version] + ["%s==%s" % (n, v) for n, v in domain]
        return "conda install %s pytorch-cuda=%s -c pytorch -c nvidia" % (" ".join(pins), cuda)
    return 'conda install -c conda-forge "pytorch=%s=cuda*"' % torch_version


def describe(choice, release, driver):
    """Return the sentence that says which CUDA build of torch `release` this driver runs, or why none."""
    builds = ", ".join("CUDA %s" % v for v in choice.variants)
    shown = "driver %s" % driver["version"]
    if choice.verdict == "ok":
        return "install the CUDA %s build of torch %s (its builds: %s; %s supports CUDA %s)" % (
            choice.cuda,
            release,
            builds,
            shown,
            driver.get("cuda") or choice.cuda,
        )
    if choice.verdict == "limited":
        return (
            "install the CUDA %s build of torch %s (its builds: %s; %s runs CUDA %s under minor-version "
            "compatibility, fully from %s)" % (choice.cuda, release, builds, shown, choice.cuda, choice.needed)
        )
    if choice.verdict == "too-old":
        return (
            "%s is too old for every CUDA build of torch %s (%s) that can have kernels for these GPUs: update the "
            "NVIDIA driver to %s or newer, then install its CUDA %s build (`--index-url %s`)"
            % (shown, release, builds, choice.needed, choice.cuda, WHEEL_INDEX % compat.cuda_tag(choice.cuda))
        )
    if choice.verdict == "no-kernels":
        return "no CUDA build of torch %s (%s) can have kernels for this GPU: use an older torch release" % (
            release,
            builds,
        )
    return "the driver gives no version: install the CUDA build of torch %s whose CUDA it supports (%s)" % (
        release,
        builds,
    )


def workspace_environment(subdir, host, capabilities):
    """Return `pixi run -e ENV verify` for the first CUDA environment of the pixi workspace found from the current
    directory that pixi would install here (promise.select_platform with this host's `__cuda`) and whose builds can
    have kernels for each GPU (promise.environments_with_kernels): the newest CUDA first, then the one with the
    fewest platforms of this subdir (nothing else to choose); None when there is no workspace, none fits, or the
    manifest does not read."""
    from checks.report import UsageError
    from checks.workspace import manifest, promise

    try:
        path = manifest.find_manifest()
        if path is None:
            return None
        ws = manifest.load(path)
        names = promise.torch_environments(ws, subdir, cuda=True)
        for capability in capabilities:
            fitting = {env for env, _, _ in promise.environments_with_kernels(ws, subdir, capability)}
            names = [n for n in names if n in fitting]
        found = []
        for name in names:
            platform = promise.select_platform(ws.env_platforms(name), subdir, host)
            made = promise.promise(ws, name, platform) if platform is not None else None
            if made is not None and made.flavour == "cuda":
                cuda = versions.floor(made.cuda) if made.cuda else made.driver
                here = len([p for p in ws.env_platforms(name) if p.subdir == subdir])
                found.append((tuple(-p for p in versions.key(cuda or "0")), here, name))
        if found:
            return "pixi run -e %s verify" % min(found)[2]
    except UsageError:
        return None
    return None


def fix_for_cpu_build(torch_version, driver, subdir, installed=None, record=None, copy=None, host=None):
    """Return the CudaBuildFix for a CPU build of torch `torch_version` (`2.13.0+cpu`) on a machine whose driver
    answers (`driver`: checks/nvidia/driver.py facts), on conda subdir `subdir` (`linux-64`, `win-64`).

    installed: {torchvision/torchaudio: version} installed beside torch; record: the conda record of pytorch (None for
    a pip install); copy: provenance's Copy of the imported torch (its INSTALLER); host: the host's virtual packages
    for pixi's platform choice (promise.host_packages), None to skip the workspace's environments.
    """
    release = versions.release(torch_version)
    how = installer(record, copy)
    capabilities = gpu_capabilities(driver)
    windows = subdir.startswith("win")
    key = compat.minor_key(release)
    if how == "conda-forge":
        # conda-forge's CUDA builds per release are not tabled here: conda chooses by the __cuda virtual package
        reason = "install conda-forge's CUDA build of pytorch %s (conda picks a CUDA that __cuda %s allows)" % (
            release,
            driver.get("cuda") or "unknown",
        )
        choice, command = None, conda_command(how, release, [], None)
    else:
        table = compat.PYTORCH_CHANNEL_CUDA if how == "pytorch-channel" else compat.WHEEL_CUDA
        variants = table.get(key)
        choice = compat.choose_cuda_build(variants, driver.get("version"), capabilities, windows) if variants else None
        command = None
        if choice is None and how == "pytorch-channel" and key > compat.PYTORCH_CHANNEL_LAST:
            reason = (
                "the pytorch conda channel has no builds of torch %s (its last is %d.%d): install conda-forge's CUDA "
                'build (`conda install -c conda-forge "pytorch=%s=cuda*"`) or a CUDA wheel with pip'
                % ((release,) + compat.PYTORCH_CHANNEL_LAST + (release,))
            )
        elif choice is None:
            reason = (
                "this check's table has no CUDA builds of torch %s: install the one whose CUDA driver %s supports "
                "(CUDA %s or older) from https://pytorch.org/get-started/previous-versions/"
                % (release, driver.get("version"), driver.get("cuda") or "unknown")
            )
        else:
            reason = describe(choice, release, driver)
            if choice.verdict == "too-old" and how != "pytorch-channel":
                older = compat.newest_release_for_driver(driver.get("version"), capabilities, windows, table)
                if older is not None:
                    (major, minor), kept = older
                    reason += (
                        "; or keep driver %s and install torch %d.%d, whose CUDA %s build it runs: `pip install "
                        '"torch==%d.%d.*" --index-url %s`'
                        % (
                            driver.get("version"),
                            major,
                            minor,
                            kept.cuda,
                            major,
                            minor,
                            WHEEL_INDEX % compat.cuda_tag(kept.cuda),
                        )
                    )
            domain = domain_versions(release, installed or {})
            if choice.verdict in ("ok", "limited") and how == "pytorch-channel":
                command = conda_command(how, release, domain, choice.cuda)
            elif choice.verdict in ("ok", "limited"):
                command = pip_command(how, release, domain, choice.cuda)
    workspace = workspace_environment(subdir, host, capabilities) if host is not None else None
    return CudaBuildFix(how=how, choice=choice, command=command, reason=reason, workspace=workspace)


def installed_domain():
    """Return {name: version} of torchvision and torchaudio as installed here (package metadata; not imported)."""
    found = {}
    for name in DOMAIN:
        try:
            from importlib import metadata

            found[name] = metadata.version(name)
        except Exception:  # PackageNotFoundError; Python without importlib.metadata
            continue
    return found


def torch_copy():
    """Return provenance's Copy of the torch this Python imports (its INSTALLER), or None."""
    from checks.machine import provenance

    return provenance.package("torch").imported


def for_context(ctx):
    """Return the CudaBuildFix for verify's context (a CPU build, no environment given, a driver that answers)."""
    from checks.workspace import promise

    host = promise.host_packages(ctx.driver.get("cuda"), None, probe.host_glibc(), probe.host_linux())
    return fix_for_cpu_build(
        ctx.torch.__version__,
        ctx.driver,
        ctx.host.subdir,
        installed=installed_domain(),
        record=probe.conda_record("pytorch"),
        copy=torch_copy(),
        host=host,
    )
