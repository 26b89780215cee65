"""The typed records the readers of NVIDIA's tools hand to other modules."""

from dataclasses import asdict, dataclass
from typing import Optional


@dataclass(frozen=True)
class LiveState:
    """One GPU's state at one moment, as NVML (nvml.py) or `nvidia-smi -q -i N` (smi.py) gives it; None where the
    GPU or driver has no answer.

    reasons: the clocks event (throttle) reasons bitmask (checks/nvidia/parse.py REASONS); sm_mhz: the SM clock in
    MHz; pcie_gen, pcie_width: the PCIe link's current generation and width (lanes); power_w: the power draw in
    watts; temp_c: the GPU temperature in degrees Celsius.
    """

    reasons: Optional[int] = None
    sm_mhz: Optional[int] = None
    pcie_gen: Optional[int] = None
    pcie_width: Optional[int] = None
    power_w: Optional[float] = None
    temp_c: Optional[int] = None

    def sample(self):
        """The dict a HealthSampler keeps (checks/nvidia/gpuinfo.py stamps its time `t` in it; the samples travel
        into the report as JSON): the fields by name."""
        return asdict(self)


@dataclass(frozen=True)
class MemoryErrors:
    """One GPU's memory error state as the driver counts it, read with the driver's other facts (driver.py): from
    NVML (nvmlDeviceGetEccMode, nvmlDeviceGetTotalEccErrors(UNCORRECTED, VOLATILE),
    nvmlDeviceGetRetiredPagesPendingStatus, nvmlDeviceGetRemappedRows) or from the nvidia-smi query fields of the same
    names (`nvidia-smi --help-query-gpu`: `ecc.mode.current`, `ecc.errors.uncorrected.volatile.total`,
    `retired_pages.pending`, `remapped_rows.pending`, `remapped_rows.failure`). None where the GPU or driver has no
    answer (`[N/A]`, `[Not Supported]`: GeForce GPUs have no ECC; Ampere and later remap rows instead of retiring
    pages).

    ecc_enabled: ECC is on now; volatile_uncorrected: uncorrectable (double-bit) ECC errors since the driver
    loaded; retired_pages_pending: pages are waiting to be retired at the next reset or reboot (pre-Ampere);
    remapped_rows_pending: rows are waiting to be remapped at the next reset (Ampere+); remapped_rows_failure: a
    remapping failed (the GPU has run out of spare rows: NVIDIA's "A100 GPU Memory Error Management" guide says to
    replace it).
    """

    ecc_enabled: Optional[bool] = None
    volatile_uncorrected: Optional[int] = None
    retired_pages_pending: Optional[bool] = None
    remapped_rows_pending: Optional[bool] = None
    remapped_rows_failure: Optional[bool] = None

    def counted(self):
        """True when the driver answered any of the counters (False on a GPU without ECC)."""
        return any(v is not None for v in asdict(self).values())

    def faults(self):
        """Return the phrases of the memory faults the counters show ([] when none): uncorrectable errors since the
        driver loaded, pages or rows waiting for a reset, a failed row remapping."""
        found = []
        if self.volatile_uncorrected:
            found.append("%d uncorrectable ECC errors (volatile)" % self.volatile_uncorrected)
        if self.retired_pages_pending:
            found.append("pages pending retirement")
        if self.remapped_rows_pending:
            found.append("rows pending remapping")
        if self.remapped_rows_failure:
            found.append("a failed row remapping (no spare rows left)")
        return found


@dataclass(frozen=True)
class GpuModes:
    """One GPU's MIG and display modes, as NVML (nvmlDeviceGetMigMode, nvmlDeviceGetMigDeviceHandleByIndex,
    nvmlDeviceGetDisplayMode, nvmlDeviceGetDisplayActive) or nvidia-smi (`--query-gpu=mig.mode.current,display_mode,
    display_active`, `nvidia-smi -L`'s MIG lines) give them (driver.modes()); None where the GPU or driver has no
    answer (`[N/A]`: a GPU without MIG).

    index: nvidia-smi's (and NVML's) index, in PCI bus order; bus_id: `00000000:07:00.0`; mig_mode: MIG mode is on now
    (its current, not its pending, state); mig_devices: the MIG devices (GPU instance with a compute instance) created
    on it, counted only where MIG is on; display_mode: a display (monitor) is attached to one of its connectors;
    display_active: a display is initialised on it (memory is allocated for it: an X server or console uses it,
    attached monitor or not) (`nvidia-smi --help-query-gpu`).
    """

    index: int
    bus_id: Optional[str] = None
    mig_mode: Optional[bool] = None
    mig_devices: Optional[int] = None
    display_mode: Optional[bool] = None
    display_active: Optional[bool] = None

    @property
    def mig_without_instances(self):
        """True when MIG mode is on and no MIG device is created: NVIDIA's MIG User Guide ("Getting Started with
        MIG", "Creating GPU Instances"): without GPU instances and their compute instances, CUDA workloads cannot run
        on a GPU in MIG mode; enabling MIG mode alone is not sufficient."""
        return self.mig_mode is True and self.mig_devices == 0

    @property
    def drives_display(self):
        """True when a display is initialised on the GPU (display_active), or, where that is unknown, a monitor is
        attached (display_mode)."""
        return self.display_active is True or (self.display_active is None and self.display_mode is True)
