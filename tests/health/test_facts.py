"""Which CUDA device each NVML GPU is (UUID, PCI address, or PCI order), and why a GPU gets no load."""

import types

from checks.health import facts

GPUS = [
    {"index": 0, "bus_id": "00000000:18:00.0", "uuid": "GPU-aaaa", "name": "NVIDIA H100 80GB HBM3"},
    {"index": 1, "bus_id": "00000000:3B:00.0", "uuid": "GPU-bbbb", "name": "NVIDIA H100 80GB HBM3"},
]


def fake_torch(*props):
    cuda = types.SimpleNamespace(device_count=lambda: len(props), get_device_properties=lambda i: props[i])
    return types.SimpleNamespace(cuda=cuda)


def test_by_uuid_where_torch_reports_it():
    torch = fake_torch(types.SimpleNamespace(uuid="bbbb", name="x"), types.SimpleNamespace(uuid="aaaa", name="x"))
    assert facts.match(torch, GPUS, GPUS) == {1: 0, 0: 1}


def test_by_pci_address_where_torch_reports_it():
    def props(bus):
        return types.SimpleNamespace(pci_domain_id=0, pci_bus_id=bus, pci_device_id=0, name="x")

    assert facts.match(fake_torch(props(0x3B), props(0x18)), GPUS, GPUS) == {1: 0, 0: 1}


def test_by_pci_order_only_when_cuda_numbers_every_gpu_in_that_order(monkeypatch):
    torch = fake_torch(*(types.SimpleNamespace(name="NVIDIA H100 80GB HBM3") for _ in GPUS))
    monkeypatch.setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert facts.match(torch, GPUS, GPUS) == {0: 0, 1: 1}
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,0")
    assert facts.match(torch, GPUS, GPUS) == {}  # cannot tell: those GPUs' load lines skip, saying so
