"""`python -m checks bench`: how fast this GPU (or CPU) is at what we do, against what it should do."""

import warnings

from checks import apis, runner
from checks.bench import peaks
from checks.machine import contention, probe
from checks.nvidia import driver as nvidia_driver

BENCH_VERSION = 1


SPEC = runner.Spec(
    "bench",
    "Measure matmul throughput per dtype, memory and PCIe bandwidth and training throughput (MFU), against the GPU's "
    "datasheet; sample clocks, power, temperature and throttling meanwhile. Exit 0: measured (LOW figures are "
    "warnings); 1: a measurement failed, the device cannot be used (or LOW with --strict); 2: usage error or no "
    "torch; 3: internal error; 128+N: stopped by signal N (130 Ctrl-C).",
    options=("json", "quick", "device", "timeout"),
    quick="fewer shapes and no reference models (about a minute on a GPU)",
    chart=True,
    needs_torch=True,
)


def add_arguments(parser):
    """bench's own option."""
    parser.add_argument("--strict", action="store_true", help="a LOW figure fails (exit 1) instead of warning")


class Context:
    """The device, its datasheet entry and theoretical bandwidths, and the live-state reader."""

    def __init__(self, args, torch):
        from checks.nvidia import gpuinfo

        self.torch, self.quick, self.strict = torch, args.quick, args.strict
        self.load_start = contention.snapshot()
        driver = nvidia_driver.facts(timeout=30)
        usable, self.gpu = probe.devices(torch, driver, 60)
        self.device = ("cuda" if "cuda" in usable else "cpu") if args.device == "auto" else args.device
        self.unusable = None
        if self.device not in usable:
            self.unusable = (self.gpu or {}).get("error") or "torch sees no usable CUDA GPU here"
            self.device = "cpu"
        self.reader = gpuinfo.Reader() if self.device == "cuda" else None
        self.state = self.reader.read() if self.reader else {}
        cpu = "cpu (%d threads)" % torch.get_num_threads()
        self.name = torch.cuda.get_device_name() if self.device == "cuda" else cpu
        self.peak = peaks.lookup(self.name) if self.device == "cuda" else None
        self.memory_gbs = self._memory_bandwidth()
        self.driver = driver

    def _memory_bandwidth(self):
        if self.device != "cuda":
            return None
        props = self.torch.cuda.get_device_properties(0)
        clock_mhz = getattr(props, "memory_clock_rate", 0) / 1000 or self.state.get("mem_max_mhz")
        width = getattr(props, "memory_bus_width", None) or (self.reader.bus_width_bits() if self.reader else None)
        return peaks.memory_bandwidth_gbs(clock_mhz, width) or (self.peak or {}).get("bandwidth_gbs")

    def holds_context(self):
        """Whether this process has a CUDA context (then the GPU lists it among its processes)."""
        return self.device == "cuda" and self.torch.cuda.is_initialized()

    def peak_tflops(self, dtype):
        """Return the datasheet TFLOP/s of a dtype here, or None."""
        return (self.peak or {}).get("tflops", {}).get(dtype)


def header(ctx):
    """Return the facts printed above the results: device, versions, clocks, power, PCIe."""
    torch, s = ctx.torch, ctx.state
    facts = {
        "check": "bench v%d%s" % (BENCH_VERSION, " (quick)" if ctx.quick else ""),
        **probe.header_facts(probe.host(), torch),
        "device": ctx.name,
    }
    if ctx.device == "cuda":
        p = torch.cuda.get_device_properties(0)
        facts.update(
            {
                "gpu": "sm_%d%d, %d SMs, %.1f GiB"
                % (p.major, p.minor, p.multi_processor_count, p.total_memory / 2**30),
                "driver": "%s (CUDA %s)" % (ctx.driver["version"], ctx.driver["cuda"]),
                "libraries": "CUDA %s, cuDNN %s, NCCL %s"
                % (torch.version.cuda, torch.backends.cudnn.version(), probe.nccl_version(torch) or "not built in"),
                "clocks": "SM %s / %s MHz max, memory %s MHz"
                % (s.get("sm_mhz"), s.get("sm_max_mhz"), s.get("mem_max_mhz")),
                "power": "limit %s W (default %s W), temperature %s C"
                % (s.get("power_limit_w"), s.get("power_default_w"), s.get("temp_c")),
                "pcie": "gen %s x%s now, gen %s x%s max"
                % (s.get("pcie_gen"), s.get("pcie_width"), s.get("pcie_gen_max"), s.get("pcie_width_max")),
                "datasheet": ctx.peak["source"] if ctx.peak else "unknown GPU: measured without verdicts",
                "memory bw": "%.0f GB/s theoretical" % ctx.memory_gbs if ctx.memory_gbs else None,
                "telemetry": ctx.reader.source or "none (install nvidia-ml-py for NVML)",
            }
        )
    facts["load"] = contention.describe(contention.since(ctx.load_start, ctx.reader, ctx.holds_context()))
    facts["method"] = (
        "time-based warm-up, CUDA events per iteration, 256 MiB cache flush before each, median"
        if ctx.device == "cuda"
        else "time-based warm-up, wall clock per iteration, median"
    )
    return {k: v for k, v in facts.items() if v is not None}


def prepare(args, torch):
    """Find the device and its datasheet entry, then plan the measurements (one FAIL if the device is unusable)."""
    from checks.bench import chart, verdicts

    ctx = Context(args, torch)
    warnings.filterwarnings("ignore", message="TensorFloat32 tensor cores")  # TF32 is set per measurement
    if not args.quick:  # torch.compile runs: inductor imports cpp_extension, which says no CUDA runtime is found
        apis.quiet_cuda_home()
    if ctx.unusable:
        return runner.unusable(header(ctx), args.device, ctx.unusable)
    hint = "a hung GPU: run `python -m checks verify`, look for Xid errors"
    return runner.Plan(header(ctx), jobs=verdicts.jobs(ctx), chart=chart.write_chart, hint=hint)


def main(argv):
    """Run bench; return the exit code."""
    return runner.run(SPEC, argv, prepare, add_arguments)
