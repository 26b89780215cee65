"""Verify checks of the libraries torch links or talks to: OpenMP/MKL threads, torch.distributed, NumPy."""

import dataclasses
import os
import platform
import re
import tempfile

from checks import compat
from checks.report import FAIL, PASS, SKIP, WARN, Result

# The variables with which OpenMP runtimes bind threads to CPUs (GNU libgomp: GOMP_CPU_AFFINITY; Intel's libiomp5:
# KMP_AFFINITY; OpenMP 4.0: OMP_PLACES, OMP_PROC_BIND); libgomp binds the importing thread itself
# (pytorch/pytorch#49971).
AFFINITY_VARIABLES = ("GOMP_CPU_AFFINITY", "KMP_AFFINITY", "OMP_PLACES", "OMP_PROC_BIND")


def check_cpu_backends(ctx):
    """OpenMP and MKL/oneDNN are built in, and torch uses more than one thread where it can."""
    torch = ctx.torch
    if torch is None:
        return Result(name="cpu-backends", status=SKIP, summary="torch did not import")
    if not torch.backends.openmp.is_available():
        return Result(
            name="cpu-backends",
            status=FAIL,
            summary="torch was built without OpenMP",
            expected="OpenMP",
            actual="missing",
            hint="install an official torch build",
        )
    match = re.search(r"CPU capability usage: (\w+)", torch.__config__.show())
    isa = match.group(1) if match else "unknown"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = torch.get_num_threads()
    parts = [
        "OpenMP",
        "MKL" if torch.backends.mkl.is_available() else "no MKL",
        "oneDNN" if torch.backends.mkldnn.is_available() else "no oneDNN",
        "ISA %s" % isa,
        "%d threads / %d cores" % (threads, cores),
    ]
    before = getattr(ctx, "cpus_before_torch", None)
    if before and cores < before:
        bound = [v for v in AFFINITY_VARIABLES if os.environ.get(v)]
        shown = ", ".join("%s=%s" % (v, os.environ[v]) for v in bound) or "no affinity variable set"
        return Result(
            name="cpu-backends",
            status=WARN,
            summary="importing torch narrowed this process from %d to %d CPUs (%s): OpenMP bound it, and every worker "
            "it starts inherits that" % (before, cores, shown),
            expected="%d CPUs" % before,
            actual="%d CPUs" % cores,
            hint=("unset %s and bind with `taskset -c` or `numactl --physcpubind` instead" % " and ".join(bound))
            if bound
            else "look for an OpenMP affinity setting (OMP_PLACES, OMP_PROC_BIND, GOMP_CPU_AFFINITY, KMP_AFFINITY)",
            data={"fact": shown},
        )
    if threads == 1 and cores > 1 and "OMP_NUM_THREADS" not in os.environ:
        return Result(
            name="cpu-backends",
            status=WARN,
            summary="torch uses 1 thread on %d cores" % cores,
            expected="%d threads" % cores,
            actual=threads,
            hint="two OpenMP runtimes may be loaded (libgomp + libiomp5); reinstall from one channel",
        )
    if platform.machine().lower() in ("x86_64", "amd64") and not torch.backends.mkl.is_available():
        return Result(
            name="cpu-backends",
            status=WARN,
            summary=", ".join(parts),
            expected="MKL on x86-64",
            actual="no MKL",
            hint="install a build with MKL",
        )
    return Result(name="cpu-backends", status=PASS, summary=", ".join(parts))


def _nccl_graph_too_wide(ctx):
    """A FAIL when NCCL_GRAPH_FILE, as NCCL sees it (variables.nccl_settings: the environment, ~/.nccl.conf or
    /etc/nccl.conf), names GPUs this machine does not have (the driver's count): NCCL imports the graph at
    communicator set-up and fails with "XML Import Channel : dev N not found" (ncclSystemError; NVIDIA/nccl#1240,
    where the maintainer says the variable should never be set in production). None otherwise."""
    from checks.machine import variables

    gpus = len((getattr(ctx, "driver", None) or {}).get("gpus") or ())
    setting = next((s for s in variables.nccl_settings() if s.name == "NCCL_GRAPH_FILE"), None)
    if setting is None or not gpus:
        return None
    devices = variables.graph_devices(setting.value)
    if not devices or devices[-1] < gpus:
        return None
    where = "the environment" if setting.source == "environment" else setting.source
    fix = (
        "unset NCCL_GRAPH_FILE (`unset NCCL_GRAPH_FILE`, and drop it from the job's environment)"
        if setting.source == "environment"
        else "remove the NCCL_GRAPH_FILE line from %s (NCCL reads that file at start-up)" % setting.source
    )
    return Result(
        name="distributed",
        status=FAIL,
        summary="NCCL_GRAPH_FILE=%s (set by %s) is a fixed graph over GPUs %s, and this machine has %d: NCCL's "
        'communicator set-up fails ("XML Import Channel : dev %d not found", unhandled system error)'
        % (setting.value, where, ", ".join(map(str, devices)), gpus, gpus),
        expected="GPUs 0-%d" % (gpus - 1),
        actual="GPUs %s" % ", ".join(map(str, devices)),
        hint="%s: a graph file fixes the rings for another machine's GPUs; NCCL searches its own without it" % fix,
        data={"fact": "NCCL_GRAPH_FILE=%s from %s; %d GPUs" % (setting.value, where, gpus)},
    )


def check_distributed(ctx):
    """torch.distributed backends are built in; a one-process gloo all-reduce runs (full run)."""
    torch = ctx.torch
    if torch is None:
        return Result(name="distributed", status=SKIP, summary="torch did not import")
    dist = torch.distributed
    if not dist.is_available():
        return Result(
            name="distributed",
            status=FAIL,
            summary="torch.distributed is not built in",
            expected="available",
            actual="missing",
            hint="install an official build",
        )
    have = [n for n in ("gloo", "nccl", "mpi") if getattr(dist, "is_%s_available" % n)()]
    if ctx.gpu_ok and platform.system() == "Linux" and "nccl" not in have:
        return Result(
            name="distributed",
            status=FAIL,
            summary="NCCL backend missing in a Linux CUDA build",
            expected="gloo, nccl",
            actual=", ".join(have),
            hint="install an official CUDA build",
        )
    graph = _nccl_graph_too_wide(ctx) if "nccl" in have else None
    if graph is not None:
        return graph
    if not ctx.quick and "gloo" in have:
        with tempfile.TemporaryDirectory() as tmp:
            init = "file:///" + os.path.join(tmp, "store").replace("\\", "/").lstrip("/")
            dist.init_process_group("gloo", init_method=init, rank=0, world_size=1)
            try:
                t = torch.ones(4)
                dist.all_reduce(t)
                ok = t.tolist() == [1.0] * 4
            finally:
                dist.destroy_process_group()
        if not ok:
            return Result(
                name="distributed",
                status=FAIL,
                summary="gloo all-reduce gave a wrong result",
                expected="[1, 1, 1, 1]",
                actual=t.tolist(),
                hint="report it with `--json`: a wrong gloo sum on one process is not fixed by reinstalling",
            )
        have[have.index("gloo")] = "gloo (all-reduce ok)"
    return Result(name="distributed", status=PASS, summary=", ".join(have) or "none")


def numpy_1_only(torch):
    """Return True for a torch built against NumPy 1.x (before compat.NUMPY2_SINCE): it needs numpy<2."""
    return compat.minor_key(torch.__version__) < compat.NUMPY2_SINCE


def check_numpy(ctx):
    """NumPy is importable and round-trips with torch (torch built before NumPy 2 needs numpy<2)."""
    torch = ctx.torch
    if torch is None:
        return Result(name="numpy", status=SKIP, summary="torch did not import")
    try:
        import numpy
    except ImportError:
        return Result(
            name="numpy",
            status=WARN,
            summary="numpy is not installed",
            expected="numpy",
            actual="missing",
            hint="pip install 'numpy<2'" if numpy_1_only(torch) else "pip install numpy",
        )
    try:
        t = torch.from_numpy(numpy.arange(6, dtype=numpy.float32))
        back = (t * 2).numpy()
        ok = back.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    except RuntimeError as exc:
        from checks.machine import requirements

        major = int(numpy.__version__.split(".")[0])
        hint = (
            "install numpy<2 (torch %s was built against NumPy 1.x)" % torch.__version__
            if major >= 2 and numpy_1_only(torch)
            else "report it with `--json` (numpy %s, torch %s)" % (numpy.__version__, torch.__version__)
        )
        hidden = requirements.hiding_copy("numpy", "<2") if major >= 2 and numpy_1_only(torch) else None
        if hidden:
            hint = "%s: numpy %s there hides %s, which torch %s can use" % (
                requirements.hiding_fix("numpy", hidden[0]),
                numpy.__version__,
                hidden[1],
                torch.__version__,
            )
        return Result(
            name="numpy",
            status=FAIL,
            summary="torch cannot use numpy %s: %s" % (numpy.__version__, str(exc).splitlines()[0]),
            expected="round-trip works",
            actual="error",
            hint=hint,
        )
    if not ok:
        return Result(
            name="numpy",
            status=FAIL,
            summary="round-trip gave wrong values",
            expected="[0, 2, ..., 10]",
            actual=back.tolist(),
            hint="report it with `--json` (numpy %s, torch %s)" % (numpy.__version__, torch.__version__),
        )
    removed = removed_numpy_use(numpy)
    if removed is not None:
        path, line, name, release, owner = removed
        return Result(
            name="numpy",
            status=WARN,
            summary="%s uses np.%s (%s:%d), which numpy %s no longer has: NumPy %s removed it, so that line raises "
            "\"module 'numpy' has no attribute '%s'\" when it runs"
            % (owner, name, path, line, numpy.__version__, release, name),
            expected="np.%s" % name,
            actual="absent from numpy %s" % numpy.__version__,
            hint='install a numpy from before %s (`python -m pip install "numpy<%s"`), or upgrade %s to a release '
            "that no longer uses it" % (release, release, owner),
            data={"fact": "%s:%d: np.%s; numpy %s (removed in %s)" % (path, line, name, numpy.__version__, release)},
        )
    return Result(
        name="numpy", status=PASS, summary="numpy %s round-trips" % numpy.__version__, actual=numpy.__version__
    )


# NumPy's own lists of the names it removed, with the release that removed them: numpy/__init__.py's
# `__former_attrs__` (the aliases np.int, np.float, np.bool, np.object, np.str, np.complex: removed in NumPy 1.24,
# its release notes' "Expired deprecations") and numpy/_expired_attrs_2_0.py's `__expired_attributes__` (np.float_,
# np.NaN, np.Inf, np.string_, np.unicode_, ...: NumPy 2.0's release notes, "NumPy 2.0 Python API removals").
NUMPY_REMOVALS = (("__former_attrs__", "1.24"), ("_expired_attrs_2_0.__expired_attributes__", "2.0"))
NUMPY_SCAN_FILES = 400
NUMPY_SCAN_BYTES = 256 << 10


def _removed_names(numpy):
    """{name: release} of the names this numpy lists as removed (NUMPY_REMOVALS) and does not have."""
    import importlib
    import warnings

    found = {}
    for where, release in NUMPY_REMOVALS:
        module, _, attribute = where.rpartition(".")
        try:
            holder = importlib.import_module("numpy." + module) if module else numpy
        except ImportError:
            continue
        for name in getattr(holder, attribute, None) or {}:
            with warnings.catch_warnings():  # numpy 1.24-1.26 warn that np.bool and np.str will come back
                warnings.simplefilter("ignore")
                absent = isinstance(name, str) and name.isidentifier() and not hasattr(numpy, name)
            if absent:
                found.setdefault(name, release)
    return found


def _scanned_files(limit=NUMPY_SCAN_FILES):
    """(file, owner) to read for numpy names: the working directory's code (project.scan's files), the packages in
    PYTHONPATH entries (a source checkout put on the path), and the installed packages built on torch
    (install.dependent_modules), at most `limit`; checks' own code is not read."""
    import sys

    from checks.machine import project as project_facts

    own = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = []
    try:
        files += [(f, "this project") for f in project_facts.sources(os.getcwd()) if not f.startswith(own + os.sep)]
    except OSError:
        pass
    folders = []
    for entry in [e for e in os.environ.get("PYTHONPATH", "").split(os.pathsep) if e and os.path.isdir(e)]:
        try:
            names = sorted(os.listdir(entry))[:200]
        except OSError:
            continue
        folders += [(os.path.join(entry, n), n) for n in names if os.path.isfile(os.path.join(entry, n, "__init__.py"))]
    try:
        from checks.verify.install import dependent_modules

        for project, _, modules, metadata in dependent_modules():
            entry = os.path.dirname(os.path.dirname(metadata))
            folders += [(os.path.join(entry, m), project) for m in modules if os.path.isdir(os.path.join(entry, m))]
    except Exception:  # noqa: BLE001 - the installed packages' metadata is an extra source; the others still count
        pass
    seen = {own}
    for folder, owner in folders:
        if folder in seen or not folder.startswith(tuple(p for p in sys.path if p)):
            continue
        seen.add(folder)
        walked = project_facts.package_walk(folder, limit * 4, skip=("tests", "test"))
        files += [(path, owner) for path in walked if path.endswith(".py")]
        if len(files) >= limit:
            break
    return files[:limit]


def _token_use(text, removed):
    """(line, name) of the first `np.NAME` / `numpy.NAME` in `text`'s code (Python's tokenizer: strings and comments
    are not code) whose NAME is in `removed` and whose line does not test for it (hasattr, getattr), else None."""
    import io
    import tokenize

    lines = text.splitlines()
    try:
        tokens = [
            t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type in (tokenize.NAME, tokenize.OP)
        ]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    for first, dot, name in zip(tokens, tokens[1:], tokens[2:]):
        if first.string in ("np", "numpy") and dot.string == "." and name.string in removed:
            number = name.start[0]
            context = "\n".join(lines[max(0, number - 4) : number])  # the line and the three above it
            if not GUARD.search(context):
                return number, name.string
    return None


# A use the code guards: a test of the attribute (hasattr, getattr) or of numpy's version on the line or the three
# above it (`if np.lib.NumpyVersion(np.__version__) < "2.0.0": FLOAT = np.float_`), or a `try:` there.
GUARD = re.compile(r"hasattr|getattr|[Vv]ersion|\btry\s*:")


def removed_numpy_use(numpy, files=None):
    """The first use of a name this numpy removed (_removed_names) written `np.NAME` or `numpy.NAME` in the code of
    `files` ([(path, owner)], default _scanned_files()): (path, line, name, release, owner), or None. A file is
    tokenized only when its text spells such a name."""
    removed = _removed_names(numpy)
    if not removed:
        return None
    pattern = re.compile(r"\b(?:np|numpy)\.(?:%s)\b" % "|".join(map(re.escape, sorted(removed))))
    for path, owner in _scanned_files() if files is None else files:
        try:
            with open(path, "rb") as handle:
                text = handle.read(NUMPY_SCAN_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        if pattern.search(text) is None:
            continue
        found = _token_use(text, removed)
        if found is not None:
            return path, found[0], found[1], removed[found[1]], owner
    return None


def check_libraries(ctx):
    """The CUDA, cuDNN, NCCL and cuBLAS libraries this process loaded with torch are the environment's own: one
    loaded from outside it (LD_LIBRARY_PATH, LD_PRELOAD, ld.so.cache) that differs from the environment's copy is a
    FAIL naming the variable or directory (checks/machine/loader.py reads /proc/self/maps)."""
    from checks.machine import loader, provenance

    if ctx.torch is None:
        return Result(name="libraries", status=SKIP, summary="torch did not import")
    if not ctx.torch.version.cuda:
        return Result(name="libraries", status=SKIP, summary="no NVIDIA library is loaded (a CPU build)")
    environment = provenance.environment_prefix()[0]
    torch_dir = os.path.dirname(os.path.abspath(ctx.torch.__file__))
    loaded = loader.loaded(environment, torch_dir)
    if not loaded:
        return Result(name="libraries", status=SKIP, summary="no NVIDIA library is mapped (no /proc/self/maps here?)")
    inputs = loader.inputs()
    for lib in loaded:
        if lib.own:
            continue
        via = loader.resolve(lib.name, environment=environment, torch_dir=torch_dir).via  # why the loader took it
        foreign = loader.foreign_copy(dataclasses.replace(lib, via=via), environment, torch_dir)
        if foreign is None:
            continue
        return Result(
            name="libraries",
            status=FAIL,
            summary=foreign.meaning(),
            expected=foreign.own,
            actual=lib.path,
            hint=foreign.fix(),
            data={"fact": foreign.fact(), "loaded": [x.path for x in loaded]},
        )
    names = sorted({lib.name.split(".so")[0] for lib in loaded})
    return Result(
        name="libraries",
        status=PASS,
        summary="%d NVIDIA libraries loaded, all the environment's own (%s)" % (len(loaded), ", ".join(names[:6])),
        data={"loaded": [x.path for x in loaded], "inputs": inputs},
    )
