"""verify's facts: the host, the NVIDIA driver, what the environment promises here, torch, and the GPU probe."""

import os

from checks import causes
from checks.machine import hf_hub, probe, project, toolchain
from checks.nvidia import driver as nvidia_driver
from checks.report import UsageError

# The workspace model (manifest, lockfile, platforms, promise) is imported where an environment is expected: a
# generic run (no --env, no pixi) never reads a manifest and its worker starts without it.

CHECK_VERSION = 1

OWN = ("torch", "torchvision", "torchaudio")  # the libraries verify judges on lines of their own
STREAMS = ("torch", "torchvision")  # ignored by the scan for the project's uses of torchaudio.io
# The project scans the worker's checks read (project.scan's `ignore`): the project line's, torchaudio's streams'.
# The parent makes them while the worker imports torch and hands them over with its facts.
PROJECT_SCANS = (OWN, STREAMS)


class Context:
    """Everything the checks read: torch, host and driver facts, the environment's promises; `progress(text)`
    says what a slow step is doing (the worker passes it to the parent, which prints it)."""

    def __init__(self, args, driver=None, progress=None):
        self.quick = args.quick
        self.timeout = args.timeout
        self.no_gpu = getattr(args, "no_gpu", False)
        self.host = probe.host()
        self.driver = driver if driver is not None else nvidia_driver.facts(timeout=args.timeout)
        self.expect, self.torch_source = None, None
        self.manifest = getattr(args, "manifest", None)  # --manifest: the project whose pins are judged
        self.torch, self.import_error = None, None
        self.gpu = None  # probe.GpuProbe once the probe ran
        self.devices = ["cpu"]
        self.progress = progress or (lambda text: None)

    @property
    def gpu_ok(self):
        """True when the GPU probe found a working CUDA device."""
        return self.gpu is not None and self.gpu.usable


UNKNOWN = object()


def resolve_expectation(args, ctx, source=UNKNOWN):
    """Return the Expectation for --env or the active pixi environment, or None for generic checks.

    The platform is the one pixi installed when verify runs under pixi (`--platform {{ pixi.platform }}` from the
    task, else the environment's install record); outside pixi it is derived as pixi would choose it here.
    `source`: torch_source()'s answer when the parent already has it (the worker need not read pixi.lock again);
    the answer used is kept in ctx.torch_source.
    """
    name = args.env or os.environ.get("PIXI_ENVIRONMENT_NAME")
    if not name:
        if args.platform:
            raise UsageError("--platform %s needs --env NAME (or a pixi environment)" % args.platform)
        return None
    from checks.workspace import manifest, promise

    # The environment pixi activated is judged against its own workspace (PIXI_PROJECT_MANIFEST); --env NAME against
    # the workspace pixi would locate here.
    path = args.manifest or (None if args.env else manifest.active_manifest()) or manifest.find_manifest()
    if path is None:
        given = "--env " if args.env else "PIXI_ENVIRONMENT_NAME="
        raise manifest.ManifestError(
            "%s%s needs the workspace that defines it: no pixi.toml (nor pyproject.toml with [tool.pixi.workspace]) "
            "in %s or any folder above it, and PIXI_PROJECT_MANIFEST is not set (`pixi run` sets it); run from the "
            "workspace or pass --manifest PATH" % (given, name, os.getcwd())
        )
    ws = manifest.load(path)
    chosen = args.platform or None
    if chosen is None and not args.env:
        chosen = installed_platform(ws, name, probe.pixi_install_record())
    host = promise.host_packages(ctx.driver["cuda"], probe.host_mac_version(), probe.host_glibc(), probe.host_linux())
    ctx.torch_source = torch_source(ws, name, args) if source is UNKNOWN else source
    expectation = promise.expect(ws, name, ctx.host.subdir, host, chosen, ctx.torch_source)
    if expectation.flavour is None:
        with_torch = promise.torch_environments(ws, ctx.host.subdir)
        raise manifest.ManifestError(
            "environment %r has no torch on %s (no pytorch, pytorch-gpu, pytorch-cpu or PyPI torch): there is no "
            "torch promise to verify; environments with torch here: %s"
            % (name, expectation.platform.name, ", ".join(with_torch) or "none")
        )
    return expectation


def torch_source(ws, env_name, args):
    """Return how torch reaches an environment whose manifest does not name it ("conda", "pypi" or None): from the
    environment itself when verify runs in it under pixi, else from the workspace's pixi.lock (PyYAML permitting)."""
    from checks.workspace import lockfile

    if not args.env and os.environ.get("PIXI_ENVIRONMENT_NAME") == env_name:
        return probe.torch_installed_by()
    path = os.path.join(os.path.dirname(os.path.abspath(ws.path)), "pixi.lock")
    try:
        lock = lockfile.load(path) if os.path.isfile(path) else None
    except UsageError:
        return None
    rows = (lock.environments.get(env_name, {}).get("packages", {}) if lock else {}).values()
    kinds = {locked.torch().kind for locked in rows if locked.torch() is not None}
    return "conda" if "conda" in kinds else kinds.pop() if kinds else None


def installed_platform(ws, env_name, record):
    """Return the name of the platform pixi last installed `env_name` for, from its install record, or None.

    pixi keeps using that platform until `pixi install` re-selects it; the record holds the subdir and declared
    virtual packages, not the name, and pixi maps it back to the first workspace platform with the same subdir and
    the same packages (Environment::installed_resolved_platform, crates/pixi_core/src/workspace/environment.rs at
    v0.77.0:127-148, 517-527).
    """
    from checks.workspace import platforms

    if not record or record.get("environment_name") not in (None, env_name):
        return None
    resolved = record.get("resolved_platform") or {}
    strings = resolved.get("virtual_packages") or []
    packages = [p for p in map(platforms.parse_virtual_package, strings) if p is not None]
    for platform in ws.env_platforms(env_name):
        if platform.subdir == resolved.get("subdir") and platform.same_declared(packages):
            return platform.name
    return None


def manifest_shown(args, ctx):
    """Return the manifest the header names: --manifest, else the workspace's when an environment is expected."""
    return args.manifest or (ctx.expect.ws.path if ctx.expect else None)


def decisive(found):
    """Return the header lines of the facts collected before torch (checks/diagnosis.Facts): where torch comes from,
    the loader's variables, what the OS gives a training job, and what is wrong on the GPU's access path (only
    when something is)."""
    prov, system = found.provenance, found.system
    lines = {}
    for name, package in prov.packages.items():
        if package.imported is not None:
            lines["%s from" % name] = package.imported.describe() + (
                "; shadows %d other cop%s" % (len(package.others), "y" if len(package.others) == 1 else "ies")
                if package.others
                else ""
            )
    if prov.foreign_interpreter:
        lines["interpreter"] = "%s, not the environment's (%s)" % (prov.interpreter, prov.environment)
    lines["loader"] = ", ".join("%s=%s" % kv for kv in found.loader_inputs.items()) or "no loader variables set"
    items = []
    if system.shm_bytes is not None:
        items.append("/dev/shm %s" % _gib(system.shm_bytes))
    if system.nofile:
        items.append("ulimit -n %s" % system.nofile[0])
    if system.glibc:
        items.append(
            "glibc %s%s" % (system.glibc, " (torch needs %s)" % system.glibc_needed[0] if system.glibc_needed else "")
        )
    loopback = system.host_addresses and all(a.startswith("127.") or a == "::1" for a in system.host_addresses)
    items.append(
        "host %s%s"
        % (
            system.hostname,
            " (does not resolve)"
            if not system.host_addresses
            else " (loopback only; MASTER_ADDR is another host)"
            if loopback and system.route is not None
            else "",
        )
    )
    if system.port_held is not None:
        items.append(
            "port %d in use%s"
            % (system.port_held.port, " (pid %d)" % system.port_held.pid if system.port_held.pid else "")
        )
    lines["os"] = ", ".join(items)
    access = found.gpu_access.problems()
    if access:  # only where something on the GPU's access path is wrong (checks/machine/gpu_access.py)
        lines["gpu access"] = "; ".join(access)
    return lines


def _gib(number):
    return "%.1f GiB" % (number / float(1 << 30))


def header(ctx, manifest_path):
    """Return the facts printed above the verdicts."""
    torch = ctx.torch
    facts = {
        "check": "verify v%d%s" % (CHECK_VERSION, " (quick)" if ctx.quick else ""),
        **probe.header_facts(ctx.host, torch),
        "environment": ctx.expect.header() if ctx.expect else "none given (generic checks; use --env NAME)",
        "manifest": manifest_path,
        "driver": nvidia_driver.describe(ctx.driver),
        "gpus": ", ".join(gpu_label(g) for g in ctx.driver["gpus"]) or None,
    }
    facts.update(("env " + k, v) for k, v in probe.environment_vars().items())
    return {k: v for k, v in facts.items() if v is not None}


def gpu_label(gpu):
    """Return `NVIDIA H100 80GB HBM3 (sm_90)`, or the name alone where the compute capability is unknown."""
    cap = gpu.get("compute_cap")
    return "%s (sm_%s)" % (gpu["name"], cap.replace(".", "")) if cap else gpu["name"]


def prepare(args):
    """The parent's facts, before any worker starts: the driver, and the expectation (a bad --env or manifest is a
    usage error here, in one line); returns the Context without torch."""
    ctx = Context(args)
    ctx.expect = resolve_expectation(args, ctx)
    return ctx


def collect(args, state=None, progress=None, imported=None):
    """The worker's facts: the driver and how torch reaches the environment (from the parent's `state` when given),
    the environment's promises, torch (`imported`: probe.import_torch()'s answer when the worker imported it first;
    not imported when the parent says `import torch` killed the previous worker), and the GPU probe."""
    state = state or {}
    project.take(state.get("project_scans"))
    hf_hub.take(state.get("hub_ids"))
    toolchain.take(state.get("cuda_toolkit"))
    ctx = Context(args, state.get("driver"), progress)
    ctx.cpus_before_torch = state.get("cpus")  # the parent's CPU affinity, taken before any OpenMP runtime loaded
    ctx.expect = resolve_expectation(args, ctx, state.get("torch_source", UNKNOWN))
    failure = state.get("startup_failure")
    if failure:
        ctx.import_error = causes.import_crash(failure["how"], failure["output"])
    else:
        ctx.torch, ctx.import_error = imported or probe.import_torch()
    if ctx.torch is not None:
        if ctx.torch.version.cuda and ctx.driver["present"]:
            ctx.progress("initialising CUDA in a child process (the GPU probe, at most %g s)" % args.timeout)
        ctx.devices, ctx.gpu = probe.devices(ctx.torch, ctx.driver, args.timeout)
    return ctx
