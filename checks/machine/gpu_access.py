"""The GPU's user-space access path, read without torch in a few milliseconds: the NVIDIA device nodes CUDA opens,
the driver's libcuda.so.1 the loader would take, the loaded kernel module's version, and the NVIDIA Container
Toolkit's variables that decide what a container was given. checks/diagnosis/gpu.py judges CUDA's initialisation errors
against them (by_gpu_access).

Sources:
- Device nodes (NVIDIA driver README, "Installing the NVIDIA Driver": nvidia-modprobe; nvidia-modprobe(1)):
  /dev/nvidiactl (the control node), /dev/nvidiaN (one per GPU), /dev/nvidia-uvm and /dev/nvidia-uvm-tools (the
  Unified Memory module nvidia_uvm, which CUDA opens for every context); `nvidia-modprobe -c N -u` loads the modules
  and creates them. WSL2 has none of these: CUDA reaches the GPU through /dev/dxg and /usr/lib/wsl/lib/libcuda.so.1.
  Whether this process may open a node is os.access(R_OK | W_OK): its mode and groups (a cgroup's device rules in a
  container are not visible this way).
- libcuda.so.1: the soname the CUDA runtime dlopens (strings of libcudart.so.11.0 and .12); the driver installs it
  as libcuda.so.<driver version>, so the real file's name gives its version (loader.version_of). Its path follows
  ld.so(8)'s order (loader.resolve).
- The CUDA toolkit's stub driver library: the toolkit ships lib64/stubs/libcuda.so (and
  targets/<arch>/lib/stubs; conda's cuda-driver-dev: lib/stubs) so that programs can link against the driver API on a
  machine without a driver; it implements nothing, and CUDA answers every call through it with cudaErrorStubLibrary
  (34, CUDA Runtime API "enum cudaError": "the CUDA driver that the application has loaded is a stub library.
  Applications that run with the stub rather than a real driver loaded will result in CUDA API returning this
  error"). A stub is told by its folder, named `stubs` (the file's own or, through a link, its target's); the loader
  takes it wherever that folder comes first in ld.so(8)'s order for libcuda.so.1 (the CUDA runtime's soname) or
  libcuda.so (the name some programs dlopen, e.g. tensorpipe).
- /proc/driver/nvidia/version: `NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.161.07  <date>` (the open
  modules: `NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release Build ...`).
- NVIDIA Container Toolkit, "Specialized Configurations with Docker" ("GPU Enumeration", "Driver Capabilities"):
  NVIDIA_VISIBLE_DEVICES lists the GPUs given to the container (indices, UUIDs, `all`); `none`: no GPU, but the
  driver's capabilities are; `void`, empty: nothing at all (as runc). NVIDIA_DRIVER_CAPABILITIES lists the driver
  features mounted: `compute` (CUDA and OpenCL: libcuda), `utility` (nvidia-smi and NVML), `graphics`, `video`,
  `compat32`, `display`, or `all`; unset or empty means the default (`utility,compute` in the current docs; the
  first nvidia-container-runtime documented `utility` alone), so only a set value is judged.
"""

import dataclasses
import os
import re
import sys
from typing import Optional, Tuple

from checks.machine import loader

CONTROL, GPU, UVM, UVM_TOOLS, DXG = "control", "gpu", "uvm", "uvm-tools", "dxg"
FIXED_NODES = (("nvidiactl", CONTROL), ("nvidia-uvm", UVM), ("nvidia-uvm-tools", UVM_TOOLS), ("dxg", DXG))
GPU_NODE = re.compile(r"^nvidia(\d+)$")
KERNEL_MODULE = re.compile(r"Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)\s")
LIBCUDA = "libcuda.so.1"
# The names CUDA code opens the driver library by: the runtime's soname, then the development link's name.
LIBCUDA_NAMES = (LIBCUDA, "libcuda.so")
STUBS_FOLDER = "stubs"
# NVIDIA_VISIBLE_DEVICES values that give the container no GPU (the toolkit's "GPU Enumeration")
NO_DEVICES = ("none", "void", "")


@dataclasses.dataclass(frozen=True)
class DeviceNode:
    """One device node: its path, role (control, gpu, uvm, uvm-tools, dxg), whether it exists, whether this process
    may open it read-write (os.access), and the group that owns it (None where it does not exist or has no name)."""

    path: str
    role: str
    exists: bool
    accessible: bool
    group: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class GpuAccess:
    """The access path's facts (module docstring). nodes: the NVIDIA nodes looked for (the fixed ones, present or
    not, and every /dev/nvidiaN there is); libcuda: the file the loader would take for libcuda.so.1 (None: none
    found), libcuda_via: how (loader.Library.via; `not looked up` off Linux), libcuda_version: from its real file
    name, dotted (`535.161.07`), else None; kernel_module: the loaded module's version, None without
    /proc/driver/nvidia; visible_devices, capabilities: NVIDIA_VISIBLE_DEVICES, NVIDIA_DRIVER_CAPABILITIES as set
    (None: unset); stub: the CUDA toolkit's stub libcuda the loader takes for stub_name (libcuda.so.1, else
    libcuda.so: LIBCUDA_NAMES), found via stub_via, stub_size bytes on disk (None: the loader takes no stub). The
    defaults say nothing is known."""

    nodes: Tuple[DeviceNode, ...] = ()
    libcuda: Optional[str] = None
    libcuda_via: str = "not looked up"
    libcuda_version: Optional[str] = None
    kernel_module: Optional[str] = None
    visible_devices: Optional[str] = None
    capabilities: Optional[str] = None
    stub: Optional[str] = None
    stub_name: Optional[str] = None
    stub_via: Optional[str] = None
    stub_size: Optional[int] = None

    def to_dict(self):
        """The JSON form (report.schema.json: facts.gpu_access)."""
        return dataclasses.asdict(self)

    def node(self, role):
        """The first DeviceNode of `role`, or None."""
        return next((n for n in self.nodes if n.role == role), None)

    def present(self, role):
        """True when a node of `role` exists."""
        return any(n.exists for n in self.nodes if n.role == role)

    @property
    def libcuda_looked_up(self):
        return self.libcuda_via != "not looked up"

    @property
    def libcuda_missing(self):
        """True when the loader was asked and finds no libcuda.so.1."""
        return self.libcuda_looked_up and self.libcuda is None

    @property
    def compute_granted(self):
        """False when NVIDIA_DRIVER_CAPABILITIES is set and names neither `compute` nor `all` (the container runtime
        mounts no libcuda); True when it names one; None when unset or empty (the default includes compute)."""
        if not (self.capabilities or "").strip():
            return None
        words = {w.strip().lower() for w in self.capabilities.split(",")}
        return bool(words & {"compute", "all"})

    @property
    def devices_withheld(self):
        """True when NVIDIA_VISIBLE_DEVICES is set to a value that gives the container no GPU (`none`, `void`,
        empty)."""
        return self.visible_devices is not None and self.visible_devices.strip().lower() in NO_DEVICES

    def unopenable(self, roles=(CONTROL, GPU, UVM)):
        """The nodes of `roles` that exist but this process may not open read-write."""
        return [n for n in self.nodes if n.role in roles and n.exists and not n.accessible]

    @property
    def uvm_missing(self):
        """True when the control node is here but /dev/nvidia-uvm is not (the driver's nodes were made or passed,
        the Unified Memory module's were not)."""
        return self.present(CONTROL) and not self.present(UVM)

    @property
    def gpu_nodes_missing(self):
        """True when the control node is here but no /dev/nvidiaN (a container given the driver, not a GPU)."""
        return self.present(CONTROL) and not self.present(GPU)

    @property
    def mismatch(self):
        """(libcuda's version, the kernel module's) when both are known and differ, else None."""
        if self.libcuda_version and self.kernel_module and self.libcuda_version != self.kernel_module:
            return self.libcuda_version, self.kernel_module
        return None

    @property
    def runtime_skipped(self):
        """True when NVIDIA_VISIBLE_DEVICES asks for GPUs (a value other than none, void or empty: CUDA images set
        `all`) while neither /dev/nvidiactl nor libcuda.so.1 is here: the NVIDIA runtime, which mounts both when it
        starts a container with that variable (the toolkit's "GPU Enumeration"), did not start this one (plain runc,
        no `--gpus`)."""
        return (
            self.visible_devices is not None
            and not self.devices_withheld
            and not self.present(CONTROL)
            and not self.present(DXG)
            and self.libcuda_missing
        )

    @property
    def driver_here(self):
        """True when the NVIDIA driver's kernel side is visible here (its control node or /proc/driver/nvidia)."""
        return self.present(CONTROL) or self.kernel_module is not None

    def problems(self):
        """Short phrases of what on the path is wrong, for verify's header: [] when nothing is (also on a machine
        without any NVIDIA driver, where none of it matters). A missing /dev/nvidiaN or /dev/nvidia-uvm is not
        among them: on a host, nvidia-modprobe makes them when nvidia-smi or CUDA first needs them, so their absence
        before CUDA ran is no fault (diagnosis judges it after CUDA failed)."""
        found = []
        if self.compute_granted is False:
            found.append("NVIDIA_DRIVER_CAPABILITIES=%s lacks compute (no libcuda mounted)" % self.capabilities)
        if self.devices_withheld:
            found.append("NVIDIA_VISIBLE_DEVICES=%s gives no GPU" % self.visible_devices)
        for n in self.unopenable():
            found.append("%s not openable by this user%s" % (n.path, " (group %s)" % n.group if n.group else ""))
        if self.mismatch:
            found.append("libcuda %s, kernel module %s" % self.mismatch)
        if self.libcuda_missing and (self.driver_here or self.compute_granted is not None):
            found.append("%s not found by the loader" % LIBCUDA)
        if self.stub:
            found.append("%s is the CUDA toolkit's stub %s (%s)" % (self.stub_name, self.stub, self.stub_via))
        return found


def _group(gid):
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError, OverflowError):
        return str(gid)


def _node(path, role):
    try:
        st = os.stat(path)
    except OSError:
        return DeviceNode(path=path, role=role, exists=False, accessible=False)
    return DeviceNode(
        path=path, role=role, exists=True, accessible=os.access(path, os.R_OK | os.W_OK), group=_group(st.st_gid)
    )


def device_nodes(dev="/dev"):
    """Return the DeviceNodes under `dev`: the fixed ones (present or not) and each nvidiaN present, by number."""
    nodes = [_node(os.path.join(dev, name), role) for name, role in FIXED_NODES]
    try:
        names = os.listdir(dev)
    except OSError:
        names = []
    numbered = sorted((int(m.group(1)), name) for name, m in ((n, GPU_NODE.match(n)) for n in names) if m)
    nodes[1:1] = [_node(os.path.join(dev, name), GPU) for _, name in numbered]
    return tuple(nodes)


def kernel_module(proc="/proc"):
    """Return the loaded NVIDIA kernel module's version from <proc>/driver/nvidia/version, or None."""
    try:
        with open(os.path.join(proc, "driver", "nvidia", "version"), encoding="utf-8", errors="replace") as handle:
            found = KERNEL_MODULE.search(handle.read(4096))
    except OSError:
        return None
    return found.group(1) if found else None


def is_stub(path):
    """True when `path` is in a folder named `stubs`, or links to a file in one: where the CUDA toolkit keeps the
    driver libraries it ships for linking only (module docstring)."""
    folders = {os.path.basename(os.path.dirname(p)) for p in (path, os.path.realpath(path))}
    return STUBS_FOLDER in folders


def stub_taken(environ=None, cache=None):
    """Return the loader.Library of the first stub libcuda (is_stub) the loader takes for a name of LIBCUDA_NAMES, in
    that order, or None where it takes the real library (or none) for each. `cache`: loader.ld_cache()'s answer."""
    for name in LIBCUDA_NAMES:
        found = loader.resolve(name, environ=environ, cache=cache)
        if found.path and is_stub(found.path):
            return found
    return None


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def collect(environ=None, dev="/dev", proc="/proc", cache=None, system=None):
    """Return the GpuAccess of this process. `dev`, `proc`: the roots read (tests give a tree under tmp_path);
    `cache`: loader.ld_cache()'s answer (read when None); `system`: sys.platform (libcuda is looked up on Linux)."""
    environ = os.environ if environ is None else environ
    libcuda, via, version, stub = None, "not looked up", None, None
    if (system or sys.platform).startswith("linux"):
        cache = loader.ld_cache() if cache is None else cache
        found = loader.resolve(LIBCUDA, environ=environ, cache=cache)
        libcuda, via = found.path, found.via
        version = found.version if found.version and re.match(r"^\d+\.\d+", found.version) else None
        stub = stub_taken(environ, cache)
    return GpuAccess(
        nodes=device_nodes(dev),
        libcuda=libcuda,
        libcuda_via=via,
        libcuda_version=version,
        kernel_module=kernel_module(proc),
        visible_devices=environ.get("NVIDIA_VISIBLE_DEVICES"),
        capabilities=environ.get("NVIDIA_DRIVER_CAPABILITIES"),
        stub=stub.path if stub else None,
        stub_name=stub.name if stub else None,
        stub_via=stub.via if stub else None,
        stub_size=_size(stub.path) if stub else None,
    )
