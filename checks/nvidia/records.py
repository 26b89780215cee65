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
