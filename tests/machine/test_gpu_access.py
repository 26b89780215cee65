"""Tests for checks/machine/gpu_access.py: the GPU's access path read from a /dev and /proc laid out in tmp_path as the
driver makes them (nodes named as nvidia-modprobe creates them, /proc/driver/nvidia/version in the driver's format),
libcuda.so.1 as the driver installs it (a link to libcuda.so.<version>), and the NVIDIA Container Toolkit's variables
as the runtime sets them."""

import json
import os

import pytest

from checks.machine import gpu_access

# /proc/driver/nvidia/version as the proprietary and the open kernel modules write it (driver 535 on Ubuntu 22.04;
# the open module of driver 550, NVIDIA/open-gpu-kernel-modules issues quote it)
PROPRIETARY = (
    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.161.07  Sat Feb 17 22:55:48 UTC 2024\n"
    "GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04)\n"
)
OPEN = (
    "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release Build  (dvs-builder@U16-I3-B13-4-3)  "
    "Thu Feb 22 01:33:26 UTC 2024\nGCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04)\n"
)


def make_dev(root, names):
    dev = root / "dev"
    dev.mkdir()
    for name in names:
        (dev / name).write_bytes(b"")
        (dev / name).chmod(0o666)
    return dev


def make_proc(root, text):
    proc = root / "proc"
    (proc / "driver" / "nvidia").mkdir(parents=True)
    (proc / "driver" / "nvidia" / "version").write_text(text)
    return proc


def make_libcuda(root, version):
    """The driver's libcuda as its installer lays it out: libcuda.so.<version> and the soname link to it."""
    lib = root / "driver-lib"
    lib.mkdir()
    (lib / ("libcuda.so.%s" % version)).write_bytes(b"\x7fELF")
    (lib / "libcuda.so.1").symlink_to("libcuda.so.%s" % version)
    return lib


def test_a_driver_host_is_read_whole(tmp_path):
    """Every node, the libcuda the loader takes with its version, the kernel module's version."""
    dev = make_dev(tmp_path, ["nvidiactl", "nvidia1", "nvidia0", "nvidia-uvm", "nvidia-uvm-tools", "null"])
    (dev / "nvidia-caps").mkdir()
    lib = make_libcuda(tmp_path, "535.161.07")
    found = gpu_access.collect(
        environ={"LD_LIBRARY_PATH": str(lib)}, dev=str(dev), proc=str(make_proc(tmp_path, PROPRIETARY)), cache={}
    )
    assert [(os.path.basename(n.path), n.role, n.exists) for n in found.nodes] == [
        ("nvidiactl", "control", True),
        ("nvidia0", "gpu", True),
        ("nvidia1", "gpu", True),
        ("nvidia-uvm", "uvm", True),
        ("nvidia-uvm-tools", "uvm-tools", True),
        ("dxg", "dxg", False),
    ]
    assert all(n.accessible for n in found.nodes if n.exists)
    assert found.libcuda == str(lib / "libcuda.so.1") and found.libcuda_via == "LD_LIBRARY_PATH"
    assert found.libcuda_version == "535.161.07" and found.kernel_module == "535.161.07"
    assert found.mismatch is None and found.problems() == []


def test_the_open_kernel_module_s_version_is_read():
    assert gpu_access.KERNEL_MODULE.search(OPEN).group(1) == "550.54.14"


def test_a_machine_without_nvidia_has_nothing_wrong(tmp_path):
    """No node, no /proc/driver/nvidia, no libcuda, no container variables: nothing of it matters."""
    found = gpu_access.collect(environ={}, dev=str(make_dev(tmp_path, ["null"])), proc=str(tmp_path), cache={})
    assert not any(n.exists for n in found.nodes) and found.kernel_module is None
    assert found.problems() == []


def test_a_container_with_the_utility_capability_only(tmp_path):
    """NVIDIA_DRIVER_CAPABILITIES=utility: the runtime mounts nvidia-smi and NVML, not libcuda."""
    if gpu_access.collect(environ={}, dev=str(tmp_path), proc=str(tmp_path)).libcuda:
        pytest.skip("this machine has a libcuda.so.1 where the loader looks")
    dev = make_dev(tmp_path, ["nvidiactl", "nvidia0", "nvidia-uvm", "nvidia-uvm-tools"])
    environ = {
        "NVIDIA_VISIBLE_DEVICES": "GPU-3a23c669-1f69-c64e-cf85-44e9b07e7a2a",
        "NVIDIA_DRIVER_CAPABILITIES": "utility",
    }
    found = gpu_access.collect(environ=environ, dev=str(dev), proc=str(tmp_path))
    assert found.compute_granted is False and found.libcuda_missing and not found.devices_withheld
    assert found.problems() == [
        "NVIDIA_DRIVER_CAPABILITIES=utility lacks compute (no libcuda mounted)",
        "libcuda.so.1 not found by the loader",
    ]


@pytest.mark.parametrize(
    "value, granted",
    [("compute,utility", True), ("utility, compute", True), ("all", True), ("graphics,utility", False), ("", None)],
)
def test_the_capabilities_are_read_as_the_toolkit_documents_them(value, granted):
    assert gpu_access.GpuAccess(capabilities=value).compute_granted is granted


@pytest.mark.parametrize("value, withheld", [("none", True), ("void", True), ("", True), ("all", False), ("0", False)])
def test_the_visible_devices_are_read_as_the_toolkit_documents_them(value, withheld):
    assert gpu_access.GpuAccess(visible_devices=value).devices_withheld is withheld
    assert gpu_access.GpuAccess().devices_withheld is False  # unset: not a container of the NVIDIA runtime


def test_a_missing_uvm_node_beside_the_control_node(tmp_path):
    """A container given /dev/nvidiactl and /dev/nvidia0 but not the Unified Memory nodes (podman without the NVIDIA
    hook, pytorch/pytorch#49081)."""
    found = gpu_access.collect(
        environ={}, dev=str(make_dev(tmp_path, ["nvidiactl", "nvidia0"])), proc=str(tmp_path), cache={}
    )
    assert found.uvm_missing and not found.gpu_nodes_missing
    # not for the header: on a host, CUDA's first use makes it (nvidia-modprobe -u)
    assert not any("uvm" in p for p in found.problems())


def test_libcuda_of_another_version_than_the_module(tmp_path):
    """A driver update without a reboot: libcuda 550.54.14, module 535.161.07."""
    lib = make_libcuda(tmp_path, "550.54.14")
    found = gpu_access.collect(
        environ={"LD_LIBRARY_PATH": str(lib)},
        dev=str(make_dev(tmp_path, ["nvidiactl"])),
        proc=str(make_proc(tmp_path, PROPRIETARY)),
        cache={},
    )
    assert found.mismatch == ("550.54.14", "535.161.07")
    assert "libcuda 550.54.14, kernel module 535.161.07" in found.problems()


def test_wsl_s_libcuda_has_no_version_in_its_name(tmp_path):
    """WSL2: /dev/dxg, and /usr/lib/wsl/lib/libcuda.so.1 is a file of that name; no version is made up from `.1`."""
    lib = tmp_path / "wsl" / "lib"
    lib.mkdir(parents=True)
    (lib / "libcuda.so.1").write_bytes(b"\x7fELF")
    found = gpu_access.collect(
        environ={"LD_LIBRARY_PATH": str(lib)}, dev=str(make_dev(tmp_path, ["dxg"])), proc=str(tmp_path), cache={}
    )
    assert found.present(gpu_access.DXG) and found.libcuda_version is None and found.problems() == []


def test_a_node_this_user_may_not_open(tmp_path, monkeypatch):
    """Whether the process may open a node is os.access(R_OK | W_OK) (root may open anything, so the answer is
    stood in for here)."""
    dev = make_dev(tmp_path, ["nvidiactl", "nvidia0", "nvidia-uvm"])
    asked = []

    def access(path, mode):
        asked.append(mode)
        return not path.endswith("nvidia0")

    monkeypatch.setattr(gpu_access.os, "access", access)
    found = gpu_access.collect(environ={}, dev=str(dev), proc=str(tmp_path), cache={})
    assert set(asked) == {os.R_OK | os.W_OK}
    assert [n.path for n in found.unopenable()] == [str(dev / "nvidia0")]
    assert found.unopenable()[0].group  # the owning group, named (or its number)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may open any node")
def test_a_node_without_permission_is_not_openable(tmp_path):
    dev = make_dev(tmp_path, ["nvidiactl", "nvidia0", "nvidia-uvm"])
    (dev / "nvidia0").chmod(0o000)
    found = gpu_access.collect(environ={}, dev=str(dev), proc=str(tmp_path), cache={})
    assert [n.path for n in found.unopenable()] == [str(dev / "nvidia0")]


def test_the_record_matches_the_report_schema(tmp_path, repo_root):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((repo_root / "checks" / "report.schema.json").read_text())
    lib = make_libcuda(tmp_path, "535.161.07")
    found = gpu_access.collect(
        environ={"LD_LIBRARY_PATH": str(lib), "NVIDIA_DRIVER_CAPABILITIES": "compute,utility"},
        dev=str(make_dev(tmp_path, ["nvidiactl", "nvidia0"])),
        proc=str(make_proc(tmp_path, PROPRIETARY)),
        cache={},
    )
    jsonschema.validate(
        json.loads(json.dumps(found.to_dict())), schema["properties"]["facts"]["properties"]["gpu_access"]
    )


def make_toolkit_stubs(root, names=("libcuda.so",)):
    """The CUDA toolkit's stubs folder as its installer lays it out (cuda-<version>/lib64/stubs holds libcuda.so
    only, no .so.1: tensorpipe#294 quotes /public/apps/cuda/10.1/lib64/stubs/libcuda.so); `names` adds the
    libcuda.so.1 link some images make to it."""
    stubs = root / "cuda-10.1" / "lib64" / "stubs"
    stubs.mkdir(parents=True)
    (stubs / "libcuda.so").write_bytes(b"\x7fELF")
    for name in names:
        if name != "libcuda.so":
            (stubs / name).symlink_to("libcuda.so")
    return stubs


def test_the_toolkit_s_stub_libcuda_so_ahead_of_the_driver_s(tmp_path):
    """tensorpipe#294: LD_LIBRARY_PATH holds the toolkit's lib64/stubs; libcuda.so.1 still comes from the driver (the
    stubs folder has no .so.1), but a program that opens libcuda.so gets the stub."""
    driver = make_libcuda(tmp_path, "535.161.07")
    (driver / "libcuda.so").symlink_to("libcuda.so.1")
    stubs = make_toolkit_stubs(tmp_path)
    cache = {"libcuda.so.1": str(driver / "libcuda.so.1"), "libcuda.so": str(driver / "libcuda.so")}
    found = gpu_access.collect(
        environ={"LD_LIBRARY_PATH": "%s:%s" % (stubs, stubs.parent)}, dev=str(tmp_path), proc=str(tmp_path), cache=cache
    )
    assert found.libcuda == str(driver / "libcuda.so.1") and found.libcuda_version == "535.161.07"
    assert (found.stub, found.stub_name, found.stub_via) == (str(stubs / "libcuda.so"), "libcuda.so", "LD_LIBRARY_PATH")
    assert found.stub_size == 4
    assert "libcuda.so is the CUDA toolkit's stub %s (LD_LIBRARY_PATH)" % (stubs / "libcuda.so") in found.problems()


def test_a_stub_answering_for_libcuda_so_1(tmp_path):
    """A libcuda.so.1 link made inside the stubs folder: the CUDA runtime itself loads the stub."""
    stubs = make_toolkit_stubs(tmp_path, names=("libcuda.so", "libcuda.so.1"))
    found = gpu_access.collect(environ={"LD_LIBRARY_PATH": str(stubs)}, dev=str(tmp_path), proc=str(tmp_path), cache={})
    assert (found.stub_name, found.stub) == ("libcuda.so.1", str(stubs / "libcuda.so.1"))


def test_a_system_link_to_the_stub_is_a_stub(tmp_path):
    """/usr/lib/.../libcuda.so.1 made as a link to the toolkit's stub (found through ld.so.cache): its target's
    folder tells it."""
    stubs = make_toolkit_stubs(tmp_path)
    system = tmp_path / "usr-lib"
    system.mkdir()
    (system / "libcuda.so.1").symlink_to(stubs / "libcuda.so")
    found = gpu_access.collect(
        environ={}, dev=str(tmp_path), proc=str(tmp_path), cache={"libcuda.so.1": str(system / "libcuda.so.1")}
    )
    assert (found.stub, found.stub_via) == (str(system / "libcuda.so.1"), "ld.so.cache")


def test_the_driver_s_own_libcuda_is_no_stub(tmp_path):
    lib = make_libcuda(tmp_path, "535.161.07")
    (lib / "libcuda.so").symlink_to("libcuda.so.1")
    found = gpu_access.collect(environ={"LD_LIBRARY_PATH": str(lib)}, dev=str(tmp_path), proc=str(tmp_path), cache={})
    assert found.stub is None and found.stub_name is None and found.problems() == []


def test_a_record_with_a_stub_matches_the_report_schema(tmp_path, repo_root):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((repo_root / "checks" / "report.schema.json").read_text())
    stubs = make_toolkit_stubs(tmp_path, names=("libcuda.so", "libcuda.so.1"))
    found = gpu_access.collect(environ={"LD_LIBRARY_PATH": str(stubs)}, dev=str(tmp_path), proc=str(tmp_path), cache={})
    assert found.stub
    jsonschema.validate(
        json.loads(json.dumps(found.to_dict())), schema["properties"]["facts"]["properties"]["gpu_access"]
    )
