"""The NVML reader (checks/nvidia/nvml.py) against the fake pynvml shaped like nvidia-ml-py 13.615.71: every field,
"not there" answers (NOT_SUPPORTED, INVALID_ARGUMENT for absent links, FUNCTION_NOT_FOUND on old drivers) as None,
other errors kept for the verdicts."""

import dataclasses

import fakes

from checks.nvidia import nvml
from checks.nvidia.records import LiveState


def test_the_h100_profile_is_read_field_by_field():
    gpu = nvml.gpus(fakes.pynvml_health([fakes.HEALTH_H100]), [0])[0]
    assert gpu["name"] == "NVIDIA H100 80GB HBM3" and gpu["bus_id"] == "00000000:18:00.0"
    assert gpu["ecc"] == {
        "current": True,
        "pending": True,
        "volatile_corrected": 0,
        "volatile_uncorrected": 0,
        "aggregate_corrected": 0,
        "aggregate_uncorrected": 0,
        "sram_threshold_exceeded": None,
    }
    assert gpu["remapped_rows"] == {"correctable": 0, "uncorrectable": 0, "pending": False, "failure": False}
    assert gpu["retired_pages"] is None
    assert gpu["pcie"] == {"gen": 5, "gen_max": 5, "width": 16, "width_max": 16, "replays": 7}
    assert gpu["nvlink"]["count"] == 18 and all(link["up"] for link in gpu["nvlink"]["links"].values())
    assert gpu["nvlink"]["links"][0] == {"up": True, "replay": 0, "recovery": 0, "crc_flit": 0, "crc_data": 0}
    assert gpu["power"] == {"limit_w": 700.0, "default_w": 700.0, "enforced_w": 700.0, "draw_w": 100.89}
    assert (gpu["reasons"], gpu["sm_mhz"], gpu["temp_c"], gpu["errors"]) == (0x1, 1980, 30, {})


def test_the_v100_reports_retired_pages_and_no_nvlink():
    gpu = nvml.gpus(fakes.pynvml_health([fakes.HEALTH_V100]), [0])[0]
    assert gpu["retired_pages"] == {"sbe": 1, "dbe": 0, "pending": False}
    assert gpu["remapped_rows"] is None and gpu["nvlink"] is None and gpu["errors"] == {}
    assert gpu["ecc"]["aggregate_corrected"] == 3


def test_an_error_other_than_not_supported_is_kept_for_the_verdict():
    gpu = nvml.gpus(fakes.pynvml_health([dict(fakes.HEALTH_H100, pcie=fakes.NVMLFail(15))]), [0])[0]
    assert gpu["errors"] == {"pcie": ("GPU is lost", 15)}
    assert gpu["pcie"]["gen"] is None


def test_the_live_reader_samples_the_load_fields():
    reader = nvml.Reader(fakes.pynvml_health([dict(fakes.HEALTH_H100, reasons=0x4)]), 0)
    assert reader.source == "NVML"
    assert reader.read() == {
        "reasons": 0x4,
        "sm_mhz": 1980,
        "pcie_gen": 5,
        "pcie_width": 16,
        "power_w": 100.89,
        "temp_c": 30,
    }


def test_the_live_state_is_a_typed_record_with_the_same_fields_as_nvidia_smis():
    """Both readers give one record (checks/nvidia/records.py LiveState); its units are in the field names."""
    live = nvml.Device(fakes.pynvml_health([fakes.HEALTH_H100]), 0).live()
    assert isinstance(live, LiveState) and (live.power_w, live.temp_c, live.reasons) == (100.89, 30, 0x1)
    assert set(live.sample()) == {f.name for f in dataclasses.fields(LiveState)}


def test_an_older_nvidia_ml_py_without_a_function_reads_none():
    module = fakes.pynvml_health([fakes.HEALTH_H100])
    del module.nvmlDeviceGetCurrentClocksEventReasons  # nvidia-ml-py <= 11.525 has only the Throttle name
    del module.nvmlDeviceGetRemappedRows
    gpu = nvml.gpus(module, [0])[0]
    assert gpu["reasons"] == 0x1 and gpu["remapped_rows"] is None and gpu["errors"] == {}
