"""The NVIDIA node's facts beneath the user-space access path (gpu_access.py): whether the nvidia kernel module is
loaded, whether a module file exists for the running kernel, whether the kernel demands signed modules (UEFI Secure
Boot, kernel lockdown, module.sig_enforce), the DKMS source trees of the driver, and the signs that this process runs
in a container. nvidia/driver.failure() reads them when the driver's kernel module is not loaded, for verify's and
health's driver line alike.

Sources (formats):
- /proc/modules (proc(5)): one line per loaded module, its name first (`nvidia 56823808 2 nvidia_uvm, Live 0x0`);
  /sys/module/<name> exists while it is loaded (or built in).
- /lib/modules/<uname -r>/modules.dep (modules.dep(5), written by depmod(8)): `<path relative to the directory>:
  <dependencies>` per module; DKMS runs depmod after it installs a module, so a built module is listed. Where the
  directory is absent, `modinfo nvidia` answers (`filename:       /lib/modules/<release>/extra/nvidia.ko.xz`; exit 1
  and `modinfo: ERROR: Module nvidia not found.` where there is none); `sig_id:`/`signer:` name its signature.
- UEFI Secure Boot: the EFI variable SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c under
  /sys/firmware/efi/efivars (efivarfs, kernel Documentation/filesystems/efivarfs.rst: 4 bytes of attributes, then
  the data; the UEFI specification, "Globally Defined Variables": 1 when Secure Boot is on, 0 when off), else
  `mokutil --sb-state` (`SecureBoot enabled` / `SecureBoot disabled`). A kernel booted with Secure Boot on (its
  distribution's lockdown patches, kernel_lockdown(7)) loads only modules signed by a key it trusts: the
  distribution's or one enrolled as a Machine Owner Key (`mokutil --import key.der`, confirmed in MokManager at the
  next boot).
- /sys/kernel/security/lockdown (kernel_lockdown(7)): `[none] integrity confidentiality`, the active mode in
  brackets; `integrity` and `confidentiality` refuse unsigned modules. /sys/module/module/parameters/sig_enforce:
  `Y` when the kernel refuses unsigned modules (CONFIG_MODULE_SIG_FORCE or module.sig_enforce=1).
- DKMS (dkms(8)): a module's source lives in /usr/src/<name>-<version>/ with a dkms.conf; `dkms install -m nvidia -v
  <version>` builds and installs it for the running kernel.
- The driver bound to each NVIDIA display device (PCI vendor 0x10de, class 0x03xxxx): the basename of the
  /sys/bus/pci/devices/<address>/driver link (sysfs-bus-pci ABI), else `lspci -k -d 10de:` (`Kernel driver in use:
  nouveau` under the device's line; lspci reads the same sysfs). The NVIDIA driver's README ("Common Problems") and its
  kernel log (`NVRM: The NVIDIA probe routine was not called for 1 device(s). ... a driver such as: nouveau, rivafb,
  nvidiafb or rivatv was loaded and obtained ownership of the NVIDIA device(s)`) say the nvidia module cannot take a
  GPU another driver holds; those drivers loaded are read like the nvidia module (/proc/modules, /sys/module).
- modprobe.d(5): `blacklist <module>` lines in /etc/modprobe.d, /run/modprobe.d, /usr/lib/modprobe.d and
  /lib/modprobe.d (*.conf) stop udev's alias loading of a module; a module still loaded despite one was loaded from
  an initramfs built before the blacklist (or by hand). The kernel command line (/proc/cmdline) can blacklist too:
  `modprobe.blacklist=nouveau` (modprobe.d(5)), `rd.driver.blacklist=nouveau` (dracut.cmdline(7)).
- The kernel module's flavour: /proc/driver/nvidia/version names it (`NVRM version: NVIDIA UNIX x86_64 Kernel Module
  535.161.07 ...` for the proprietary module, `NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05
  Release Build ...` for the open one). NVIDIA's open-gpu-kernel-modules README ("Compatible GPUs"): "The NVIDIA
  open kernel modules can be used on any Turing or later GPU", and its table of supported GPUs starts at PCI device
  id 0x1E02 (TITAN RTX, TU102); every GPU of the earlier architectures (Maxwell, Pascal, Volta: GM1xx, GP1xx, GV100)
  has an id below 0x1E00 (NVIDIA Driver Installation Guide, "Kernel Modules": the proprietary flavour "is required
  for older GPUs from the Maxwell, Pascal, or Volta architectures"; "Switching between Driver Module Flavors" gives
  the commands). On such a GPU the open module loads and refuses the device at probe (its kernel log:
  `NVRM: ... is not supported by open nvidia.ko because it does not include the required GPU System Processor
  (GSP)`), so nvidia-smi finds no devices. The GPU's device id: /sys/bus/pci/devices/<address>/device (sysfs-bus-pci
  ABI, `0x1c8d`), else `lspci -nn -k -d 10de:` (`01:00.0 3D controller [0302]: NVIDIA Corporation GP107M [GeForce
  GTX 1050 Mobile] [10de:1c8d] (rev a1)`).
- Container signs: /.dockerenv (Docker creates it in every container), /run/.containerenv (Podman), `container=` in
  PID 1's environment (systemd's Container Interface), a cgroup path of docker, kubepods, libpod, containerd or lxc in
  /proc/self/cgroup. Each alone is a sign, not a proof (a VM image built from a container's file system keeps its
  /.dockerenv), so the judgements never rest on them: they only word a verdict the NVIDIA variables decide.
"""

import dataclasses
import os
import platform
import re
import shutil
from typing import Optional, Tuple

SECURE_BOOT_VARIABLE = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
MODULE = "nvidia"
MODULE_FILE = re.compile(r"(?:^|/)nvidia\.ko(?:\.(?:xz|zst|gz))?$")
CONTAINER_CGROUP = re.compile(r"/(?:docker|kubepods|libpod|containerd|lxc|actions_job)[/.-]")
LOCKDOWN_ACTIVE = re.compile(r"\[(\w+)\]")
# The drivers the NVIDIA kernel module names as taking its GPUs (its `NVRM: ... a driver such as: nouveau, rivafb,
# nvidiafb or rivatv` log line), nouveau first: the one distributions load by default.
CONFLICTING = ("nouveau", "nvidiafb", "rivafb", "rivatv")
MODPROBE_DIRS = ("etc/modprobe.d", "run/modprobe.d", "usr/lib/modprobe.d", "lib/modprobe.d")
# The lowest PCI device id of NVIDIA's open-gpu-kernel-modules README table (Turing's first GPUs are 0x1E02 on); the
# ids below it are of the earlier architectures, which the open modules do not support (module docstring).
TURING_FIRST_DEVICE_ID = 0x1E00
LSPCI_ID = re.compile(r"\[10de:([0-9a-fA-F]{4})\]")
OPEN_MODULE = re.compile(r"NVIDIA UNIX Open Kernel Module")
PROPRIETARY_MODULE = re.compile(r"NVIDIA UNIX (?:\S+ )?Kernel Module\s")
MODULE_VERSION = re.compile(r"Kernel Module(?: for \S+)?\s+(\d+)\.\d+")
LSPCI_DEVICE = re.compile(r"^(\S+) (VGA compatible controller|3D controller|Display controller)( \[[0-9a-f]+\])?:")


@dataclasses.dataclass(frozen=True)
class KernelNode:
    """The node's kernel-side facts (module docstring). kernel: the running kernel's release (`uname -r`); loaded:
    the nvidia module is loaded (None: /proc/modules unreadable); module_files: nvidia.ko* files for the running
    kernel; module_files_via: how they were looked for (`modules.dep`, `modinfo`, or `not looked up`: then
    module_files says nothing); module_signer: modinfo's signer or sig_id (None: unsigned or unknown);
    secure_boot: True/False, None unknown; secure_boot_via: `efivars`, `mokutil` or `unknown`; lockdown: the active
    kernel_lockdown(7) mode (None: no lockdown LSM); sig_enforce: module.sig_enforce (None: unknown);
    dkms_sources: driver versions whose DKMS source is in /usr/src (`535.161.07`); container: the container signs
    found (paths or `container=podman`); gpu_drivers: (PCI address, bound driver or "") of each NVIDIA display
    device; gpu_drivers_via: `sysfs`, `lspci` or `not looked up`; conflicting: the CONFLICTING modules loaded;
    blacklisted: where those are blacklisted (`/etc/modprobe.d/x.conf`, `/proc/cmdline`); flavour: the loaded
    module's, `open` or `proprietary` (None: /proc/driver/nvidia/version unreadable); branch: its driver branch
    (`580`); gpu_ids: (PCI address, PCI device id) of each NVIDIA display device; gpu_ids_via: `sysfs`, `lspci` or
    `not looked up`."""

    kernel: str = ""
    loaded: Optional[bool] = None
    module_files: Tuple[str, ...] = ()
    module_files_via: str = "not looked up"
    module_signer: Optional[str] = None
    secure_boot: Optional[bool] = None
    secure_boot_via: str = "unknown"
    lockdown: Optional[str] = None
    sig_enforce: Optional[bool] = None
    dkms_sources: Tuple[str, ...] = ()
    container: Tuple[str, ...] = ()
    gpu_drivers: Tuple[Tuple[str, str], ...] = ()
    gpu_drivers_via: str = "not looked up"
    conflicting: Tuple[str, ...] = ()
    blacklisted: Tuple[str, ...] = ()
    flavour: Optional[str] = None
    branch: Optional[str] = None
    gpu_ids: Tuple[Tuple[str, int], ...] = ()
    gpu_ids_via: str = "not looked up"

    def to_dict(self):
        """The JSON form (every field). Reports carry only the decisive() part, in the driver result's data."""
        return dataclasses.asdict(self)

    def decisive(self, state):
        """The facts that decide why_not_loaded()'s `state`, as a dict for a result's data (JSON)."""
        names = ["kernel", "loaded", "module_files", "module_files_via"]
        if state == "open-module-unsupported-gpu":
            return {n: getattr(self, n) for n in ("kernel", "flavour", "branch", "gpu_ids", "gpu_ids_via")}
        if state == "conflicting-driver":
            return {
                n: getattr(self, n) for n in names + ["gpu_drivers", "gpu_drivers_via", "conflicting", "blacklisted"]
            }
        names += ["dkms_sources"] if state == "module-missing" else ["secure_boot", "secure_boot_via", "lockdown"]
        return {name: getattr(self, name) for name in names + (["sig_enforce"] if state != "module-missing" else [])}

    @property
    def module_missing(self):
        """True when the lookup answered and found no nvidia module for the running kernel."""
        return self.module_files_via != "not looked up" and not self.module_files

    @property
    def signatures_required(self):
        """True when the kernel refuses unsigned modules: Secure Boot on, lockdown above `none`, or sig_enforce."""
        return bool(self.secure_boot or (self.lockdown and self.lockdown != "none") or self.sig_enforce)

    @property
    def owner(self):
        """The (PCI address, driver) of an NVIDIA GPU a CONFLICTING driver holds, else (None, that driver) where one is
        loaded and no device's binding could be read, else None."""
        held = [(address, driver) for address, driver in self.gpu_drivers if driver in CONFLICTING]
        if held:
            return held[0]
        if self.conflicting and not self.gpu_drivers:  # no device's binding read: the loaded module decides
            return None, self.conflicting[0]
        return None

    def why_not_loaded(self):
        """Return (state, meaning, fix) for an nvidia module that is not loaded, from these facts, or None where they
        do not decide: `module-missing` (no module file for the running kernel: built for another one),
        `conflicting-driver` (nouveau or a frame-buffer driver holds the GPU, so the nvidia module cannot probe it:
        NVIDIA's README, "Common Problems"; the fix is NVIDIA's Driver Installation Guide, "Disabling Nouveau":
        blacklist it in modprobe.d, regenerate the initramfs, reboot), `signature-required` (a module file exists,
        it is not loaded, and the kernel demands signed modules). A GPU bound to a conflicting driver is judged before
        the signature policy, a conflicting module merely loaded after it."""
        if self.loaded:
            return None
        if self.module_missing:
            if self.dkms_sources:
                version = self.dkms_sources[-1]
                fix = (
                    "build it for this kernel: `sudo dkms install -m nvidia -v %s -k %s` (the driver's source is in "
                    "/usr/src/nvidia-%s), then `sudo modprobe nvidia`; or boot the previous kernel it was built for"
                    % (version, self.kernel, version)
                )
            else:
                fix = (
                    "install the driver's kernel module for this kernel (Ubuntu: `sudo apt install "
                    "linux-modules-nvidia-<branch>-%s`; a DKMS install: `sudo dkms autoinstall`), or boot the "
                    "previous kernel it was built for" % self.kernel
                )
            return (
                "module-missing",
                "no nvidia kernel module is installed for the running kernel %s (%s finds none): the kernel was "
                "upgraded and the module was built only for the previous one" % (self.kernel, self.module_files_via),
                fix,
            )
        if self.owner is not None and self.owner[0]:  # a device bound to it: the direct fact comes first
            return self._conflict()
        if self.module_files and self.signatures_required:
            why = []
            if self.secure_boot:
                why.append("UEFI Secure Boot is enabled (%s)" % self.secure_boot_via)
            if self.lockdown and self.lockdown != "none":
                why.append("kernel lockdown is `%s`" % self.lockdown)
            if self.sig_enforce:
                why.append("module.sig_enforce is on")
            signed = "signed (%s)" % self.module_signer if self.module_signer else "unsigned"
            return (
                "signature-required",
                "the nvidia module for kernel %s is installed (%s, %s) but not loaded, and %s: the kernel loads only "
                "modules signed by a key it trusts, so it rejects this one"
                % (self.kernel, self.module_files[0], signed, " and ".join(why)),
                "sign the module with your own key and enrol that key as a Machine Owner Key (`sudo mokutil --import "
                "key.der`, confirm it in MokManager at the next boot), then `sudo modprobe nvidia`; or disable Secure "
                "Boot in the firmware settings and reboot",
            )
        if self.owner is not None:  # loaded, no device's binding read
            return self._conflict()
        return None

    @property
    def before_turing(self):
        """The (PCI address, device id) of the NVIDIA GPUs older than Turing (id below TURING_FIRST_DEVICE_ID)."""
        return tuple((address, device) for address, device in self.gpu_ids if device < TURING_FIRST_DEVICE_ID)

    def why_no_devices(self):
        """Return (state, meaning, fix) for a loaded driver that finds no usable GPU, from these facts, or None where
        they do not decide: `open-module-unsupported-gpu` (the open kernel module is loaded and a GPU here is older
        than Turing, which the open modules do not support: open-gpu-kernel-modules README, "Compatible GPUs"; the
        fix is the proprietary flavour of the driver, whose last branch for Maxwell, Pascal and Volta is R580,
        checks/compat.py LAST_DRIVER_BRANCH)."""
        older = self.before_turing
        if self.flavour != "open" or not older:
            return None
        listed = ", ".join("%s (PCI id 10de:%04x)" % (address, device) for address, device in older)
        branch = self.branch if self.branch and int(self.branch) <= 580 else "580"
        later = "" if branch == self.branch else " (R580 is the last branch for GPUs before Turing)"
        return (
            "open-module-unsupported-gpu",
            "the loaded NVIDIA kernel module is the open flavour (/proc/driver/nvidia/version: Open Kernel Module%s), "
            "which supports Turing and later GPUs only (NVIDIA open-gpu-kernel-modules README: they need the GPU "
            "System Processor, GSP), and this machine's GPU %s is older than Turing (%s: below 10de:%04x), so the "
            "module refuses it at probe and no GPU is initialised"
            % (" %s" % self.branch if self.branch else "", listed, self.gpu_ids_via, TURING_FIRST_DEVICE_ID),
            "install the proprietary (non-open) kernel module flavour of the driver%s: Ubuntu/Pop!_OS `sudo apt "
            "install nvidia-driver-%s` (it replaces nvidia-driver-%s-open); NVIDIA's own repositories: `sudo apt "
            "install --autoremove --purge cuda-drivers nvidia-driver`; the .run installer: choose the proprietary "
            "kernel module type; then reboot" % (later, branch, self.branch or branch),
        )

    def _conflict(self):
        address, driver = self.owner
        if address:
            held = "the %s driver holds the NVIDIA GPU %s (%s: bound to %s)" % (
                driver,
                address,
                self.gpu_drivers_via,
                driver,
            )
        else:
            held = "the %s driver is loaded" % driver
        installed = " (installed: %s)" % self.module_files[0] if self.module_files else ""
        if self.blacklisted:
            why = (
                "; it is blacklisted (%s) yet loaded: it came from an initramfs built before the blacklist, or was "
                "loaded by hand" % ", ".join(self.blacklisted)
            )
        else:
            why = "; nothing blacklists it (no `blacklist %s` in modprobe.d, none on the kernel command line)" % driver
        meaning = (
            "%s, so the nvidia kernel module%s cannot probe it and no NVIDIA driver runs (NVRM: a driver such as "
            'nouveau "was loaded and obtained ownership of the NVIDIA device(s)")%s' % (held, installed, why)
        )
        fix = (
            "blacklist %s: put `blacklist %s` and `options %s modeset=0` in /etc/modprobe.d/blacklist-%s.conf, "
            "regenerate the initramfs (`sudo update-initramfs -u` on Debian/Ubuntu, `sudo dracut --force` on "
            "Fedora/RHEL; or add `rd.driver.blacklist=%s` to the kernel command line) and reboot (NVIDIA Driver "
            'Installation Guide, "Disabling Nouveau"); without a reboot: stop the display manager, then `sudo '
            "modprobe -r %s && sudo modprobe nvidia`" % ((driver,) * 6)
        )
        return "conflicting-driver", meaning, fix


def _read(path, size=65536):
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return None


def loaded(proc="/proc", sys_root="/sys", names=(MODULE,)):
    """Return {name: True when loaded, False when not, None when neither <proc>/modules nor <sys_root>/module can
    be read} for each module of `names`; /proc/modules is read once."""
    text = _read(os.path.join(proc, "modules"), 1 << 20)
    if text is not None:
        present = {line.split(b" ", 1)[0].decode("ascii", "replace") for line in text.splitlines()}
        return {name: name in present for name in names}
    if os.path.isdir(os.path.join(sys_root, "module")):
        return {name: os.path.isdir(os.path.join(sys_root, "module", name)) for name in names}
    return dict.fromkeys(names)


def module_files(kernel, modules_root="/lib/modules", modinfo=None, run=None):
    """Return (files, via, signer): the nvidia.ko* files of `kernel` from <modules_root>/<kernel>/modules.dep, else
    from `modinfo nvidia` (`modinfo`: its path, found on PATH when None; `run`: probe.run_command or a stand-in),
    else ((), `not looked up`, None)."""
    dep = _read(os.path.join(modules_root, kernel, "modules.dep"), 16 << 20)
    if dep is not None:
        found = []
        for line in dep.decode("utf-8", "replace").splitlines():
            path = line.split(":", 1)[0].strip()
            if MODULE_FILE.search(path):
                found.append(path if path.startswith("/") else os.path.join(modules_root, kernel, path))
        return tuple(found), "modules.dep", None
    modinfo = modinfo or shutil.which("modinfo")
    if not modinfo:
        return (), "not looked up", None
    if run is None:
        from checks.machine.probe import run_command as run
    code, out = run([modinfo, MODULE], 5)
    if code is None:
        return (), "not looked up", None
    fields = dict(re.findall(r"^(\w+):\s*(.*?)\s*$", out or "", re.M))
    if code != 0 or "filename" not in fields:
        return ((), "modinfo", None) if "not found" in (out or "") else ((), "not looked up", None)
    signer = fields.get("signer") or fields.get("sig_id")
    return (fields["filename"],), "modinfo", None if signer in (None, "", "<none>") else signer


def secure_boot(sys_root="/sys", mokutil=None, run=None):
    """Return (state, via): Secure Boot from the EFI variable (its 5th byte, after 4 attribute bytes), else from
    `mokutil --sb-state`; (None, `unknown`) where neither answers."""
    data = _read(os.path.join(sys_root, "firmware", "efi", "efivars", SECURE_BOOT_VARIABLE), 64)
    if data is not None and len(data) >= 5:
        return data[4] == 1, "efivars"
    mokutil = mokutil or shutil.which("mokutil")
    if mokutil:
        if run is None:
            from checks.machine.probe import run_command as run
        code, out = run([mokutil, "--sb-state"], 5)
        found = re.search(r"SecureBoot (enabled|disabled)", out or "") if code is not None else None
        if found:
            return found.group(1) == "enabled", "mokutil"
    return None, "unknown"


def lockdown(sys_root="/sys"):
    """Return the active kernel_lockdown(7) mode (`none`, `integrity`, `confidentiality`), or None."""
    data = _read(os.path.join(sys_root, "kernel", "security", "lockdown"), 256)
    found = LOCKDOWN_ACTIVE.search(data.decode("ascii", "replace")) if data else None
    return found.group(1) if found else None


def sig_enforce(sys_root="/sys"):
    """Return module.sig_enforce (True for `Y`), or None where unreadable."""
    data = _read(os.path.join(sys_root, "module", "module", "parameters", "sig_enforce"), 16)
    return None if data is None else data.strip() in (b"Y", b"1")


def dkms_sources(src="/usr/src"):
    """Return the versions of the nvidia driver whose DKMS source is under `src` (nvidia-<version>/dkms.conf)."""
    try:
        names = sorted(os.listdir(src))
    except OSError:
        return ()
    found = []
    for name in names:
        match = re.match(r"^nvidia-(\d+\.\d+(?:\.\d+)?)$", name)
        if match and os.path.isfile(os.path.join(src, name, "dkms.conf")):
            found.append(match.group(1))
    return tuple(found)


def sysfs_display_devices(sys_root="/sys"):
    """Return ((PCI address, device id or None, driver), ...) of the NVIDIA display devices <sys_root>/bus/pci/devices
    lists (vendor 0x10de, class 0x03xxxx; sysfs-bus-pci ABI); () where it lists none."""
    found = []
    devices = os.path.join(sys_root, "bus", "pci", "devices")
    for address in sorted(os.listdir(devices)) if os.path.isdir(devices) else ():
        vendor, klass, device = (
            _read(os.path.join(devices, address, name), 64) for name in ("vendor", "class", "device")
        )
        if vendor and klass and vendor.strip() == b"0x10de" and klass.strip().startswith(b"0x03"):
            try:
                number = int(device.strip(), 16) if device else None
            except ValueError:
                number = None
            link = os.path.join(devices, address, "driver")
            found.append((address, number, os.path.basename(os.readlink(link)) if os.path.islink(link) else ""))
    return tuple(found)


def display_devices(sys_root="/sys", lspci=None, run=None):
    """Return (((PCI address, device id or None, driver), ...), via): each NVIDIA display device (vendor 0x10de,
    class 0x03xxxx; the GPU's audio function, class 0x0403, is not one), its PCI device id and the driver bound to
    it ("" where none is bound), from <sys_root>/bus/pci/devices, else from `lspci -nn -k -d 10de:` (found on PATH
    when `lspci` is None, bounded to 5 s); ((), `not looked up`) where neither lists one. The one reader of the
    NVIDIA PCI display devices (gpu_drivers and gpu_device_ids are its projections)."""
    sysfs = sysfs_display_devices(sys_root)
    if sysfs and all(number is not None for _, number, _ in sysfs):
        return sysfs, "sysfs"
    lspci = lspci or shutil.which("lspci")  # sysfs lists none, or only part (no `device` file): lspci tells
    if not lspci:
        return sysfs, "sysfs" if sysfs else "not looked up"
    if run is None:
        from checks.machine.probe import run_command as run
    code, out = run([lspci, "-nn", "-k", "-d", "10de:"], 5)
    if code != 0:
        return sysfs, "sysfs" if sysfs else "not looked up"
    found, device = [], None
    for line in (out or "").splitlines():
        if not line[:1].isspace():
            match = LSPCI_DEVICE.match(line)
            device = match.group(1) if match and "NVIDIA" in line else None
            if device:
                number = LSPCI_ID.search(line)
                found.append((device, int(number.group(1), 16) if number else None, ""))
        elif device and line.strip().startswith("Kernel driver in use:"):
            found[-1] = found[-1][:2] + (line.split(":", 1)[1].strip(),)
    if not found:
        return sysfs, "sysfs" if sysfs else "not looked up"
    return tuple(found), "lspci"


def gpu_drivers(sys_root="/sys", lspci=None, run=None):
    """Return (((PCI address, driver), ...), via): the driver bound to each NVIDIA display device ("" where none
    is bound), as display_devices() reads them."""
    found, via = display_devices(sys_root, lspci, run)
    return tuple((address, driver) for address, _, driver in found), via


def module_flavour(proc="/proc"):
    """Return (flavour, branch) of the loaded nvidia module from <proc>/driver/nvidia/version: `open` or
    `proprietary`, and its driver branch (`580`); (None, None) where the file cannot be read or says neither."""
    data = _read(os.path.join(proc, "driver", "nvidia", "version"), 4096)
    text = (data or b"").decode("utf-8", "replace")
    branch = MODULE_VERSION.search(text)
    branch = branch.group(1) if branch else None
    if OPEN_MODULE.search(text):
        return "open", branch
    if PROPRIETARY_MODULE.search(text):
        return "proprietary", branch
    return None, None


def gpu_device_ids(sys_root="/sys", lspci=None, run=None):
    """Return (((PCI address, device id), ...), via): the PCI device id of each NVIDIA display device, as
    display_devices() reads them (a device whose id cannot be read is left out)."""
    found, via = display_devices(sys_root, lspci, run)
    found = tuple((address, number) for address, number, _ in found if number is not None)
    return found, via if found else "not looked up"


def blacklisted(names=CONFLICTING, root="/", proc="/proc"):
    """Return where modules of `names` are blacklisted: the modprobe.d(5) files (MODPROBE_DIRS under `root`, *.conf)
    with a `blacklist <name>` line, and `/proc/cmdline` where it has `modprobe.blacklist=` or
    `rd.driver.blacklist=` naming one (comma-separated lists)."""
    found = []
    for folder in MODPROBE_DIRS:
        path = os.path.join(root, folder)
        for name in sorted(os.listdir(path)) if os.path.isdir(path) else ():
            text = _read(os.path.join(path, name), 1 << 16) if name.endswith(".conf") else None
            words = [line.split() for line in (text or b"").decode("utf-8", "replace").splitlines()]
            if any(len(w) >= 2 and w[0] == "blacklist" and w[1] in names for w in words):
                found.append("/" + folder + "/" + name)
    cmdline = (_read(os.path.join(proc, "cmdline"), 1 << 16) or b"").decode("utf-8", "replace")
    for item in cmdline.split():
        key, _, value = item.partition("=")
        if key in ("modprobe.blacklist", "rd.driver.blacklist") and set(value.split(",")) & set(names):
            found.append("/proc/cmdline (%s)" % item)
            break
    return tuple(found)


def container(root="/", proc="/proc"):
    """Return the container signs found (module docstring), in that order; () where there are none."""
    signs = [p for p in ("/.dockerenv", "/run/.containerenv") if os.path.exists(os.path.join(root, p.lstrip("/")))]
    environ = _read(os.path.join(proc, "1", "environ"), 1 << 16)
    for item in (environ or b"").split(b"\0"):
        if item.startswith(b"container="):
            signs.append(item.decode("utf-8", "replace"))
    cgroup = _read(os.path.join(proc, "self", "cgroup"), 1 << 16)
    for line in (cgroup or b"").decode("utf-8", "replace").splitlines():
        path = line.split(":", 2)[-1]
        if CONTAINER_CGROUP.search(path + "/"):
            signs.append("cgroup %s" % path)
            break
    return tuple(signs)


def collect(
    kernel=None, proc="/proc", sys_root="/sys", modules_root="/lib/modules", src="/usr/src", root="/", run=None
):
    """Return the KernelNode of this machine; the roots are parameters (tests give trees under tmp_path), `run`
    stands in for probe.run_command (the optional tools modinfo, mokutil and lspci, each bounded to 5 s)."""
    kernel = kernel or platform.release()
    files, via, signer = module_files(kernel, modules_root, run=run)
    state, state_via = secure_boot(sys_root, run=run)
    modules = loaded(proc, sys_root, (MODULE,) + CONFLICTING)
    nvidia_loaded = modules[MODULE]
    bound, bound_via = gpu_drivers(sys_root, run=run) if not nvidia_loaded else ((), "not looked up")
    conflicting = tuple(name for name in CONFLICTING if modules[name])
    flavour, branch = module_flavour(proc)
    # the GPUs' ids decide only under the open module (why_no_devices)
    ids, ids_via = gpu_device_ids(sys_root, run=run) if flavour == "open" else ((), "not looked up")
    return KernelNode(
        kernel=kernel,
        loaded=nvidia_loaded,
        module_files=files,
        module_files_via=via,
        module_signer=signer,
        secure_boot=state,
        secure_boot_via=state_via,
        lockdown=lockdown(sys_root),
        sig_enforce=sig_enforce(sys_root),
        dkms_sources=dkms_sources(src),
        container=container(root, proc),
        gpu_drivers=bound,
        gpu_drivers_via=bound_via,
        conflicting=conflicting,
        blacklisted=blacklisted(root=root, proc=proc) if bound or conflicting else (),
        flavour=flavour,
        branch=branch,
        gpu_ids=ids,
        gpu_ids_via=ids_via,
    )
