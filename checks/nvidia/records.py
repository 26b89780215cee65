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
