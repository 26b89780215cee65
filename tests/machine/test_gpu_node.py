"""Tests for checks/machine/gpu_node.py with /proc, /sys, /lib/modules and /usr/src trees under tmp_path shaped like
the real files (formats cited in the module's docstring) and stand-ins for modinfo and mokutil's answers."""

import pytest

from checks.machine import gpu_node

KERNEL = "6.8.0-49-generic"
SECURE_BOOT_ON = b"\x06\x00\x00\x00\x01"  # efivarfs: 4 attribute bytes (NV|BS|RT = 0x6), then the data byte
SECURE_BOOT_OFF = b"\x06\x00\x00\x00\x00"
PROC_MODULES = "nvidia_uvm 1789952 0 - Live 0x0000000000000000 (POE)\nnvidia 56823808 1 nvidia_uvm, Live 0x0 (POE)\n"
OTHER_MODULES = "snd_hda_intel 61440 4 - Live 0x0000000000000000\nnouveau 2740224 0 - Live 0x0\n"
MODINFO = (  # `modinfo nvidia` of an unsigned akmod build (Fedora), as the report's machine
    "filename:       /lib/modules/%s/extra/nvidia/nvidia.ko.xz\nversion:        535.161.07\nlicense:        NVIDIA\n"
    "sig_id:         <none>\n" % KERNEL
)


def tree(tmp_path, modules=None, dep=None, efi=None, lockdown=None, sig_enforce=None, dkms=(), gpu_driver=""):
    """The roots gpu_node.collect reads, under tmp_path: proc, sys, lib/modules, usr/src, /. sysfs lists an NVIDIA
    GPU (0000:01:00.0, class 0x030000) and its audio function (0000:01:00.1, class 0x040300, bound to
    snd_hda_intel); the GPU is bound to `gpu_driver` (none where "")."""
    proc, sys_root, mods, src = (tmp_path / n for n in ("proc", "sys", "lib/modules", "usr/src"))
    for folder in (proc, sys_root, mods, src):
        folder.mkdir(parents=True)
    drivers = sys_root / "bus/pci/drivers"
    for address, klass, driver in (
        ("0000:01:00.0", "0x030000", gpu_driver),
        ("0000:01:00.1", "0x040300", "snd_hda_intel"),
    ):
        device = sys_root / "bus/pci/devices" / address
        device.mkdir(parents=True)
        (device / "vendor").write_text("0x10de\n")
        (device / "class").write_text(klass + "\n")
        if driver:
            (drivers / driver).mkdir(parents=True, exist_ok=True)
            (device / "driver").symlink_to(drivers / driver)
    if modules is not None:
        (proc / "modules").write_text(modules)
    if dep is not None:
        (mods / KERNEL).mkdir()
        (mods / KERNEL / "modules.dep").write_text(dep)
    if efi is not None:
        (sys_root / "firmware/efi/efivars").mkdir(parents=True)
        (sys_root / "firmware/efi/efivars" / gpu_node.SECURE_BOOT_VARIABLE).write_bytes(efi)
    if lockdown is not None:
        (sys_root / "kernel/security").mkdir(parents=True)
        (sys_root / "kernel/security/lockdown").write_text(lockdown)
    if sig_enforce is not None:
        (sys_root / "module/module/parameters").mkdir(parents=True)
        (sys_root / "module/module/parameters/sig_enforce").write_text(sig_enforce)
    for version in dkms:
        (src / ("nvidia-" + version)).mkdir()
        (src / ("nvidia-" + version) / "dkms.conf").write_text(
            'PACKAGE_NAME="nvidia"\nPACKAGE_VERSION="%s"\n' % version
        )
    return dict(kernel=KERNEL, proc=str(proc), sys_root=str(sys_root), modules_root=str(mods), src=str(src))


def no_tools(argv, timeout):
    raise AssertionError("no tool is run where the files answer: %s" % argv)


def test_a_module_built_only_for_the_previous_kernel_names_dkms_for_the_running_one(tmp_path):
    """The kernel was upgraded, DKMS built nvidia for the old one only: modules.dep of the running kernel lists no
    nvidia.ko; DKMS's source tree names the version to build. Secure Boot is not mentioned."""
    roots = tree(
        tmp_path, modules=OTHER_MODULES, dep="kernel/sound/pci/hda/snd-hda-intel.ko.zst:\n", dkms=["535.161.07"]
    )
    node = gpu_node.collect(root=str(tmp_path), run=no_tools, **roots)
    assert node.loaded is False and node.module_missing and node.module_files_via == "modules.dep"
    state, meaning, fix = node.why_not_loaded()
    assert state == "module-missing" and KERNEL in meaning
    assert "sudo dkms install -m nvidia -v 535.161.07 -k %s" % KERNEL in fix
    assert "secure boot" not in (meaning + fix).lower()


def test_a_module_present_but_not_loaded_under_secure_boot_is_the_signature(tmp_path):
    """The module file is there (modules.dep), not loaded, and the SecureBoot EFI variable's data byte is 1."""
    roots = tree(
        tmp_path, modules=OTHER_MODULES, dep="updates/dkms/nvidia.ko.zst: kernel/drm/drm.ko.zst\n", efi=SECURE_BOOT_ON
    )
    node = gpu_node.collect(root=str(tmp_path), run=no_tools, **roots)
    assert node.secure_boot is True and node.secure_boot_via == "efivars"
    assert node.module_files == (str(tmp_path / "lib/modules" / KERNEL / "updates/dkms/nvidia.ko.zst"),)
    state, meaning, fix = node.why_not_loaded()
    assert state == "signature-required" and "Secure Boot is enabled (efivars)" in meaning
    assert "mokutil --import" in fix and "disable Secure Boot" in fix and "dkms" not in fix.lower()


def test_a_loaded_module_or_no_signature_rule_decides_nothing(tmp_path):
    """Loaded: nothing to explain; present, not loaded, Secure Boot off and lockdown none: the facts do not say
    why (the driver's generic fix stays)."""
    dep = "kernel/drivers/video/nvidia.ko: \n"
    loaded = gpu_node.collect(root=str(tmp_path), run=no_tools, **tree(tmp_path / "a", modules=PROC_MODULES, dep=dep))
    assert loaded.loaded is True and loaded.why_not_loaded() is None
    roots = tree(tmp_path / "b", modules=OTHER_MODULES, dep=dep, efi=SECURE_BOOT_OFF, lockdown="[none] integrity\n")
    off = gpu_node.collect(root=str(tmp_path), run=no_tools, **roots)
    assert off.secure_boot is False and off.lockdown == "none" and off.why_not_loaded() is None


def test_lockdown_or_sig_enforce_alone_require_signatures(tmp_path):
    """kernel_lockdown(7)'s bracketed mode and module.sig_enforce=Y refuse unsigned modules without Secure Boot."""
    dep = "extra/nvidia.ko.xz:\n"
    lock = gpu_node.collect(
        root=str(tmp_path),
        run=no_tools,
        **tree(tmp_path / "a", modules="", dep=dep, lockdown="none [integrity] confidentiality\n"),
    )
    assert lock.lockdown == "integrity" and lock.why_not_loaded()[0] == "signature-required"
    enforce = gpu_node.collect(
        root=str(tmp_path), run=no_tools, **tree(tmp_path / "b", modules="", dep=dep, sig_enforce="Y\n")
    )
    assert enforce.sig_enforce is True and "sig_enforce" in enforce.why_not_loaded()[1]


def test_modinfo_and_mokutil_answer_where_the_files_cannot(tmp_path):
    """No /lib/modules/<release> and no efivars (a VM, a chroot): `modinfo nvidia` and `mokutil --sb-state` answer."""
    answers = {"modinfo": (0, MODINFO), "mokutil": (0, "SecureBoot enabled\n")}
    runs = []

    def run(argv, timeout):
        runs.append(argv)
        return answers[argv[0].rsplit("/", 1)[-1]]

    files, via, signer = gpu_node.module_files(KERNEL, str(tmp_path), modinfo="/usr/sbin/modinfo", run=run)
    assert files == ("/lib/modules/%s/extra/nvidia/nvidia.ko.xz" % KERNEL,) and via == "modinfo" and signer is None
    assert gpu_node.secure_boot(str(tmp_path), mokutil="/usr/bin/mokutil", run=run) == (True, "mokutil")
    assert runs == [["/usr/sbin/modinfo", "nvidia"], ["/usr/bin/mokutil", "--sb-state"]]
    missing = gpu_node.module_files(
        KERNEL, str(tmp_path), modinfo="modinfo", run=lambda a, t: (1, "modinfo: ERROR: Module nvidia not found.\n")
    )
    assert missing == ((), "modinfo", None)
    unknown = gpu_node.module_files(KERNEL, str(tmp_path), modinfo="modinfo", run=lambda a, t: (None, "did not answer"))
    assert unknown[1] == "not looked up"


def test_container_signs_and_none_on_a_plain_host(tmp_path):
    """/.dockerenv, /run/.containerenv, container= in PID 1's environment, a docker cgroup path; none on a host
    whose cgroups are at the root (cgroup v2's `0::/`)."""
    proc = tmp_path / "proc"
    (proc / "1").mkdir(parents=True)
    (proc / "self").mkdir()
    (proc / "self/cgroup").write_text("0::/\n")
    (proc / "1/environ").write_bytes(b"PATH=/usr/bin\0HOME=/root\0")
    assert gpu_node.container(str(tmp_path), str(proc)) == ()
    (tmp_path / ".dockerenv").write_text("")
    (proc / "1/environ").write_bytes(b"PATH=/usr/bin\0container=podman\0")
    (proc / "self/cgroup").write_text("0::/system.slice/docker-3f2a9c.scope\n")
    assert gpu_node.container(str(tmp_path), str(proc)) == (
        "/.dockerenv",
        "container=podman",
        "cgroup /system.slice/docker-3f2a9c.scope",
    )


# `lspci -k -d 10de:` of the report's machine (pciutils; the GPU's audio function is bound to snd_hda_intel)
LSPCI_NOUVEAU = (
    "01:00.0 VGA compatible controller: NVIDIA Corporation GA102 [GeForce RTX 3090] (rev a1)\n"
    "\tSubsystem: NVIDIA Corporation Device 147d\n\tKernel driver in use: nouveau\n"
    "\tKernel modules: nouveau, nvidia_drm, nvidia\n"
    "01:00.1 Audio device: NVIDIA Corporation GA102 High Definition Audio Controller (rev a1)\n"
    "\tKernel driver in use: snd_hda_intel\n\tKernel modules: snd_hda_intel\n"
)


def test_a_gpu_bound_to_nouveau_is_the_cause_and_the_fix_is_nvidias_blacklist(tmp_path):
    """The nvidia module is installed and not loaded; sysfs binds the GPU to nouveau (the audio function's
    snd_hda_intel is no display driver). Judged before Secure Boot: nouveau holding the GPU is the direct fact. No
    modprobe.d file blacklists nouveau."""
    roots = tree(
        tmp_path,
        modules=OTHER_MODULES,
        dep="extra/nvidia/nvidia.ko.xz: kernel/drm/drm.ko.zst\n",
        efi=SECURE_BOOT_ON,
        gpu_driver="nouveau",
    )
    node = gpu_node.collect(root=str(tmp_path), run=no_tools, **roots)
    assert node.gpu_drivers == (("0000:01:00.0", "nouveau"),) and node.gpu_drivers_via == "sysfs"
    assert node.conflicting == ("nouveau",) and node.blacklisted == ()
    state, meaning, fix = node.why_not_loaded()
    assert state == "conflicting-driver"
    assert "nouveau driver holds the NVIDIA GPU 0000:01:00.0 (sysfs: bound to nouveau)" in meaning
    assert "nothing blacklists it" in meaning
    assert "blacklist nouveau" in fix and "update-initramfs -u" in fix and "dracut --force" in fix and "reboot" in fix
    assert "mokutil" not in fix and set(node.decisive(state)) >= {"gpu_drivers", "conflicting", "blacklisted"}


def test_a_blacklisted_nouveau_still_bound_came_from_the_initramfs(tmp_path):
    """`blacklist nouveau` in /usr/lib/modprobe.d (the driver package's file) yet nouveau holds the GPU: the
    initramfs was built before the blacklist. lspci answers where sysfs lists no NVIDIA device (a partial /sys)."""
    roots = tree(tmp_path, modules="nouveau 2830336 1 - Live 0x0\n", dep="extra/nvidia/nvidia.ko.xz:\n")
    for device in (tmp_path / "sys/bus/pci/devices").iterdir():
        (device / "vendor").write_text("0x8086\n")
    (tmp_path / "usr/lib/modprobe.d").mkdir(parents=True)
    (tmp_path / "usr/lib/modprobe.d/nvidia.conf").write_text("# nouveau off\nblacklist nouveau\noptions nvidia x=1\n")
    (tmp_path / "proc/cmdline").write_text("BOOT_IMAGE=/vmlinuz-%s root=UUID=1 ro rhgb quiet\n" % KERNEL)
    runs = []

    def lspci(argv, timeout):
        runs.append(argv)
        return 0, LSPCI_NOUVEAU

    bound, via = gpu_node.gpu_drivers(roots["sys_root"], lspci="/usr/bin/lspci", run=lspci)
    assert (
        bound == (("01:00.0", "nouveau"),)
        and via == "lspci"
        and runs == [["/usr/bin/lspci", "-nn", "-k", "-d", "10de:"]]
    )
    node = gpu_node.KernelNode(
        kernel=KERNEL,
        loaded=False,
        module_files=("/lib/modules/%s/extra/nvidia/nvidia.ko.xz" % KERNEL,),
        module_files_via="modules.dep",
        gpu_drivers=bound,
        gpu_drivers_via=via,
        conflicting=("nouveau",),
        blacklisted=gpu_node.blacklisted(root=str(tmp_path), proc=roots["proc"]),
    )
    assert node.blacklisted == ("/usr/lib/modprobe.d/nvidia.conf",)
    state, meaning, _ = node.why_not_loaded()
    assert state == "conflicting-driver" and "blacklisted (/usr/lib/modprobe.d/nvidia.conf) yet loaded" in meaning
    (tmp_path / "proc/cmdline").write_text("ro rd.driver.blacklist=nouveau modprobe.blacklist=nvidiafb\n")
    assert gpu_node.blacklisted(root=str(tmp_path / "none"), proc=roots["proc"]) == (
        "/proc/cmdline (rd.driver.blacklist=nouveau)",
    )


def test_nouveau_loaded_but_not_holding_the_gpu_decides_nothing(tmp_path):
    """nouveau is loaded (another, older NVIDIA card, say) but sysfs shows the compute GPU unbound: not the cause;
    with no binding readable, the loaded module decides, after the signature policy."""
    roots = tree(tmp_path / "a", modules=OTHER_MODULES, dep="extra/nvidia.ko.xz:\n")
    node = gpu_node.collect(root=str(tmp_path), run=no_tools, **roots)
    assert node.gpu_drivers == (("0000:01:00.0", ""),) and node.why_not_loaded() is None
    blind = gpu_node.KernelNode(kernel=KERNEL, loaded=False, module_files=("nvidia.ko",), conflicting=("nouveau",))
    assert blind.why_not_loaded()[0] == "conflicting-driver" and "nouveau driver is loaded" in blind.why_not_loaded()[1]
    signed = gpu_node.KernelNode(
        kernel=KERNEL, loaded=False, module_files=("nvidia.ko",), conflicting=("nouveau",), secure_boot=True
    )
    assert signed.why_not_loaded()[0] == "signature-required"


# ---- the open kernel module on a GPU older than Turing (pop-os/pop#3859) -------------------------------------------
# /proc/driver/nvidia/version of the open module (580.95.05, as that report's machine) and of the proprietary one
OPEN_580 = (
    "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05  Release Build  "
    "(dvs-builder@U22-I3-AE18-09-3)  Wed Sep 24 19:55:01 UTC 2025\n"
    "GCC version:  gcc version 13.3.0 (Ubuntu 13.3.0-6ubuntu2~24.04)\n"
)
PROPRIETARY_580 = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Wed Sep 24 19:55:01 UTC 2025\n"
# `lspci -nn -k -d 10de:` of a GTX 1050 Mobile (GP107M, 10de:1c8d: the id the report's kernel log names)
LSPCI_PASCAL = (
    "01:00.0 3D controller [0302]: NVIDIA Corporation GP107M [GeForce GTX 1050 Mobile] [10de:1c8d] (rev a1)\n"
    "\tSubsystem: ASUSTeK Computer Inc. GP107M [GeForce GTX 1050 Mobile] [1043:14e1]\n"
    "\tKernel modules: nvidiafb, nouveau, nvidia_drm, nvidia\n"
)


def open_node(tmp_path, version_text, device_id=None):
    """A node whose nvidia module is loaded with /proc/driver/nvidia/version `version_text`; sysfs gives the GPU's
    device id `device_id` (`0x1c8d`), or none (then lspci is asked)."""
    roots = tree(tmp_path, modules=PROC_MODULES)
    (tmp_path / "proc/driver/nvidia").mkdir(parents=True)
    (tmp_path / "proc/driver/nvidia/version").write_text(version_text)
    if device_id:
        (tmp_path / "sys/bus/pci/devices/0000:01:00.0/device").write_text(device_id + "\n")
        (tmp_path / "sys/bus/pci/devices/0000:01:00.1/device").write_text("0x0fb9\n")  # its audio function
    return roots


def test_the_open_module_on_a_pascal_gpu_asks_for_the_proprietary_flavour(tmp_path):
    node = gpu_node.collect(root=str(tmp_path), run=no_tools, **open_node(tmp_path, OPEN_580, "0x1c8d"))
    assert (node.flavour, node.branch) == ("open", "580")
    assert node.gpu_ids == (("0000:01:00.0", 0x1C8D),) and node.gpu_ids_via == "sysfs"
    state, meaning, fix = node.why_no_devices()
    assert state == "open-module-unsupported-gpu"
    assert "open flavour" in meaning and "0000:01:00.0 (PCI id 10de:1c8d) is older than Turing" in meaning
    assert "`sudo apt install nvidia-driver-580`" in fix and "replaces nvidia-driver-580-open" in fix
    assert node.decisive(state)["gpu_ids"] == (("0000:01:00.0", 0x1C8D),)


@pytest.mark.parametrize(
    "text, device_id",
    [
        (OPEN_580, "0x1e87"),  # Turing (RTX 2080, the README's table): the open module supports it
        (OPEN_580, "0x2684"),  # Ada (RTX 4090)
        (PROPRIETARY_580, "0x1c8d"),  # Pascal under the proprietary module
    ],
)
def test_a_supported_pairing_decides_nothing(tmp_path, text, device_id):
    node = gpu_node.collect(root=str(tmp_path), run=no_tools, **open_node(tmp_path, text, device_id))
    assert node.why_no_devices() is None


def test_the_device_id_from_lspci_where_sysfs_has_none(tmp_path):
    runs = []

    def lspci(argv, timeout):
        runs.append(argv)
        return 0, LSPCI_PASCAL

    roots = open_node(tmp_path, OPEN_580)
    assert gpu_node.gpu_device_ids(roots["sys_root"], lspci="/usr/bin/lspci", run=lspci) == (
        (("01:00.0", 0x1C8D),),
        "lspci",
    )
    assert runs == [["/usr/bin/lspci", "-nn", "-k", "-d", "10de:"]]


def test_a_later_open_branch_points_at_the_last_branch_for_pascal(tmp_path):
    """R590 and later have no proprietary module for GPUs before Turing: the fix names R580."""
    node = gpu_node.KernelNode(flavour="open", branch="590", gpu_ids=(("0000:01:00.0", 0x1B80),), gpu_ids_via="sysfs")
    fix = node.why_no_devices()[2]
    assert "nvidia-driver-580`" in fix and "R580 is the last branch" in fix


def test_the_ids_are_not_looked_up_without_the_open_module(tmp_path):
    """No /proc/driver/nvidia/version: no flavour, and lspci is not run (no_tools)."""
    node = gpu_node.collect(root=str(tmp_path), run=no_tools, **tree(tmp_path, modules=PROC_MODULES))
    assert node.flavour is None and node.gpu_ids_via == "not looked up" and node.why_no_devices() is None
