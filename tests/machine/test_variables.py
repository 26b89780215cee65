"""Tests for checks/machine/variables.py: each grammar against the real reader where this machine has it (the
libgomp torch ships in torch/lib, the installed torch's cpp_extension and libc10, Python's -OO), else against the
documented grammar's own examples."""

import dataclasses
import glob
import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

from checks.machine import variables

TORCH_SPEC = importlib.util.find_spec("torch")
TORCH_DIR = os.path.dirname(TORCH_SPEC.origin) if TORCH_SPEC and TORCH_SPEC.origin else None
LIBGOMP = sorted(glob.glob(os.path.join(TORCH_DIR or "/nonexistent", "lib", "libgomp*.so*")))

# (variable, value, valid by its documented grammar). Values libgomp rejects were checked with torch 2.13's copy
# (libgomp prints "Invalid value for environment variable NAME"); OMP_PROC_BIND=primary (OpenMP 5.1) and
# OMP_PLACES=ll_caches (5.1) are valid by the spec though the GCC of torch's libgomp predates them (SPEC_ONLY).
CASES = [
    ("OMP_NUM_THREADS", "4", True),
    ("OMP_NUM_THREADS", "4,2", True),
    ("OMP_NUM_THREADS", " 3", True),
    ("OMP_NUM_THREADS", "all", False),
    ("OMP_NUM_THREADS", "0", False),
    ("OMP_NUM_THREADS", "-1", False),
    ("OMP_NUM_THREADS", "2abc", False),
    ("OMP_PROC_BIND", "TRUE", True),
    ("OMP_PROC_BIND", "spread,close", True),
    ("OMP_PROC_BIND", "master", True),
    ("OMP_PROC_BIND", "yes", False),
    ("OMP_PLACES", "cores", True),
    ("OMP_PLACES", "cores(2)", True),
    ("OMP_PLACES", "{0:2}", True),
    ("OMP_PLACES", "bogus", False),
    ("OMP_DYNAMIC", "true", True),
    ("OMP_DYNAMIC", "1", False),
    ("OMP_DYNAMIC", "yes", False),
    ("OMP_SCHEDULE", "static,4", True),
    ("OMP_SCHEDULE", "guided, 3", True),
    ("OMP_SCHEDULE", "foo", False),
    ("OMP_WAIT_POLICY", "ACTIVE", True),
    ("OMP_WAIT_POLICY", "x", False),
    ("GOMP_CPU_AFFINITY", "0-3", True),
    ("GOMP_CPU_AFFINITY", "0 2 4", True),
]
SPEC_ONLY = [
    ("OMP_PROC_BIND", "primary", True),
    ("OMP_PLACES", "ll_caches", True),
    ("OMP_SCHEDULE", "monotonic:dynamic,2", True),  # OpenMP 4.5; torch 2.0.1's older libgomp says "Unknown value"
    ("GOMP_CPU_AFFINITY", "a", False),  # torch 2.13's libgomp does not return from parsing it: not run
    ("MKL_THREADING_LAYER", "GNU", True),
    ("MKL_THREADING_LAYER", "gnu-omp", False),
    ("MKL_NUM_THREADS", "all", False),
    ("MKL_INTERFACE_LAYER", "ILP64,GNU", True),
]


@pytest.mark.parametrize("name, value, valid", CASES + SPEC_ONLY)
def test_the_grammar_decides(name, value, valid):
    setting = variables.check_grammar(name, value)
    assert (setting is None) == valid
    if setting is not None:
        assert name in setting.problem and "unset %s" % name in setting.fix and not setting.breaks


@pytest.mark.skipif(not LIBGOMP, reason="this torch ships no libgomp in torch/lib")
@pytest.mark.parametrize("name, value, valid", CASES)
def test_libgomp_itself_agrees(name, value, valid):
    """libgomp parses its variables when loaded (initialize_env, a constructor): what it prints is the verdict."""
    run = subprocess.run(
        [sys.executable, "-c", "import ctypes, sys; ctypes.CDLL(sys.argv[1])", LIBGOMP[0]],
        env=dict(os.environ, **{name: value}),
        capture_output=True,
        text=True,
        timeout=30,
    )
    rejected = "value for environment variable %s" % name in run.stderr
    assert rejected == (not valid), run.stderr
    if rejected:
        assert variables.traced((variables.check_grammar(name, value),), run.stderr) is not None


def test_cpp_extension_lists_are_read_from_a_file_shaped_like_torch_2_0(tmp_path):
    (tmp_path / "utils").mkdir()
    (tmp_path / "utils" / "cpp_extension.py").write_text(
        textwrap.dedent(
            """
            import collections
            def _get_cuda_arch_flags(cflags=None):
                named_arches = collections.OrderedDict([
                    ('Kepler+Tesla', '3.7'),
                    ('Ampere', '8.0;8.6+PTX'),
                    ('Hopper', '9.0+PTX'),
                ])
                supported_arches = ['3.5', '3.7', '8.0', '8.6', '9.0']
                valid_arch_strings = supported_arches + [s + "+PTX" for s in supported_arches]
            """
        )
    )
    names = variables.cuda_arch_names(str(tmp_path))
    assert names == ([("Kepler+Tesla", "3.7"), ("Ampere", "8.0;8.6+PTX"), ("Hopper", "9.0+PTX")],
                     ["3.5", "3.7", "8.0", "8.6", "9.0"], False)  # fmt: skip
    assert variables.unknown_cuda_arches("Ampere 9.0+PTX", names) == []
    assert variables.unknown_cuda_arches("8.0;8.6 12.0+PTX", names) == ["12.0+PTX"]
    setting = variables.check_cuda_arch_list("8.0 8.6 12.0+PTX", str(tmp_path), "2.0.1")
    assert not setting.breaks and "(this torch is a CPU build)" in setting.problem  # no version.py: not CUDA
    (tmp_path / "version.py").write_text("__version__ = '2.0.1+cu117'\ndebug = False\ncuda = '11.7'\n")
    setting = variables.check_cuda_arch_list("8.0 8.6 12.0+PTX", str(tmp_path), "2.0.1")
    assert setting.breaks and "12.0+PTX" in setting.problem and 'TORCH_CUDA_ARCH_LIST="8.0 8.6"' in setting.fix


@pytest.mark.skipif(TORCH_DIR is None, reason="torch is not installed")
def test_the_installed_cpp_extension_raises_exactly_for_the_entries_found_unknown():
    names = variables.cuda_arch_names(TORCH_DIR)
    assert names is not None and names[1]
    newest = names[1][-1]
    beyond = "%d.0+PTX" % (int(newest.split(".")[0]) + 3)
    for value in ("%s %s" % (names[1][0], newest), "%s;%s" % (newest, beyond)):
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                "import torch.utils.cpp_extension as c\ntry:\n print(c._get_cuda_arch_flags())\n"
                "except ValueError as e:\n print('ValueError:', e)",
            ],
            env=dict(os.environ, TORCH_CUDA_ARCH_LIST=value),
            capture_output=True,
            text=True,
            timeout=120,
        )
        unknown = variables.unknown_cuda_arches(value, names)
        assert ("Unknown CUDA arch (%s)" % beyond in run.stdout) == bool(unknown), run.stdout + run.stderr
        assert unknown == ([beyond] if beyond in value else [])
        if unknown:
            setting = variables.check_cuda_arch_list(value, TORCH_DIR)
            assert variables.traced((setting,), run.stdout) is setting


@pytest.mark.skipif(not glob.glob(os.path.join(TORCH_DIR or "/nonexistent", "lib", "libc10*.so")), reason="no libc10")
def test_allocator_options_are_judged_by_the_installed_libc10():
    assert variables.check_alloc_conf("PYTORCH_CUDA_ALLOC_CONF", "max_split_size_mb:128", TORCH_DIR) is None
    setting = variables.check_alloc_conf("PYTORCH_CUDA_ALLOC_CONF", "max_split_size_mb:128,no_such_knob:1", TORCH_DIR)
    assert setting.breaks and "no_such_knob" in setting.fix and "max_split_size_mb" not in setting.fix
    # torch 2.0.1's own message for it (c10/cuda/CUDACachingAllocator.cpp)
    assert variables.traced((setting,), "RuntimeError: Unrecognized CachingAllocator option: no_such_knob")


def test_allocator_options_are_not_judged_where_the_libraries_hold_no_parser(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "libc10.so").write_bytes(b"\x7fELF...no allocator here\0")  # a CPU build of torch 2.0
    assert variables.check_alloc_conf("PYTORCH_CUDA_ALLOC_CONF", "max_split_size_mb:128", str(tmp_path)) is None
    (tmp_path / "lib" / "libc10_cuda.so").write_bytes(
        b"\0max_split_size_mb\0backend\0Unrecognized CachingAllocator option: \0"  # 2.0.1's literals, in its order
    )
    assert variables.check_alloc_conf("PYTORCH_CUDA_ALLOC_CONF", "max_split_size_mb:128", str(tmp_path)) is None
    assert variables.check_alloc_conf("PYTORCH_CUDA_ALLOC_CONF", "expandable_segments:True", str(tmp_path))


def test_an_allocator_value_not_made_of_pairs_is_named(tmp_path):
    setting = variables.check_alloc_conf("PYTORCH_CUDA_ALLOC_CONF", "expandable_segments=True", str(tmp_path))
    assert setting is not None and "'expandable_segments=True'" in setting.problem


def _package(tmp_path, source):
    pkg = tmp_path / "docpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent(source))
    return pkg


def test_docstring_uses_at_import_are_found_and_really_raise_under_oo(tmp_path):
    # the shape of torch 2.0's torch/_functorch/deprecated.py (setup_docs, called at module level)
    pkg = _package(
        tmp_path,
        """
        def api():
            "The API."
        def alias():
            "An alias."
        def setup_docs(functorch_api, torch_func_api):
            functorch_api.__doc__ = torch_func_api.__doc__ + "\\n.. warning:: deprecated"
        setup_docs(alias, api)
        """,
    )
    uses = variables.docstring_uses(str(pkg))
    assert [(u[0], u[1], u[3]) for u in uses] == [(os.path.join("docpkg", "__init__.py"), 7, True)]
    run = subprocess.run(
        [sys.executable, "-c", "import docpkg"],
        cwd=str(tmp_path),
        env=dict(os.environ, PYTHONOPTIMIZE="2"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "TypeError: unsupported operand type(s) for +: 'NoneType' and 'str'" in run.stderr
    setting = variables.check_optimize({"PYTHONOPTIMIZE": "2"}, [str(pkg)])
    assert setting.breaks and "unset PYTHONOPTIMIZE" in setting.fix
    assert variables.traced((setting,), run.stderr) is setting
    assert variables.check_optimize({"PYTHONOPTIMIZE": "1"}, [str(pkg)], flags_optimize=0) is None


@pytest.mark.parametrize(
    "body",
    [
        # torch 2.1+'s fix (#100750) and 2.13's form: an early return
        "    if torch_func_api.__doc__ is None:\n        return\n"
        "    functorch_api.__doc__ = torch_func_api.__doc__ + 'x'",
        "    if sys.flags.optimize < 2:\n        functorch_api.__doc__ = torch_func_api.__doc__ + 'x'",
        "    functorch_api.__doc__ = (torch_func_api.__doc__ or '') + 'x'",
    ],
)
def test_guarded_docstring_uses_are_left_out(tmp_path, body):
    pkg = _package(tmp_path, "import sys\ndef setup_docs(functorch_api, torch_func_api):\n%s\n" % body)
    assert variables.docstring_uses(str(pkg)) == []


def test_optimize_level_reads_python_s_rules():
    assert variables.optimize_level({}, 0) == 0
    assert variables.optimize_level({"PYTHONOPTIMIZE": "2"}, 0) == 2
    assert variables.optimize_level({"PYTHONOPTIMIZE": "yes"}, 0) == 1  # any other string counts as -O
    assert variables.optimize_level({}, 2) == 2  # python -OO


def test_collect_gathers_each_reader_s_findings(tmp_path):
    found = variables.collect({"OMP_NUM_THREADS": "all", "MKL_NUM_THREADS": "8"}, str(tmp_path), "2.0.1", ())
    assert [s.name for s in found] == ["OMP_NUM_THREADS"]
    assert dataclasses.asdict(found[0])["value"] == "all"


def test_an_ignored_value_is_traced_by_its_reader_s_message_not_by_its_name():
    setting = variables.check_grammar("OMP_NUM_THREADS", "all")
    assert variables.traced((setting,), "libgomp: Invalid value for environment variable OMP_NUM_THREADS") is setting
    # torch.distributed.run's notice names the variable; an ignored value is not the cause of what follows
    notice = "Setting OMP_NUM_THREADS environment variable for each process to be 1 in default"
    assert variables.traced((setting,), notice + "\nRuntimeError: Socket Timeout") is None


@pytest.mark.parametrize(
    "name, value, missing",
    [
        ("GLOO_SOCKET_IFNAME", "eth9", ["eth9"]),
        ("GLOO_SOCKET_IFNAME", "eth0,ib0", ["ib0"]),
        ("NCCL_SOCKET_IFNAME", "ens", []),  # a prefix of ens5 (NCCL's prefix rule)
        ("NCCL_SOCKET_IFNAME", "=ens", ["ens"]),  # exact names only
        ("NCCL_SOCKET_IFNAME", "^docker,lo", []),  # an exclusion list
        ("TP_SOCKET_IFNAME", "bond0", ["bond0"]),
    ],
)
def test_socket_interface_variables_are_judged_by_this_host_s_interfaces(name, value, missing):
    names = ["eth0", "ens5", "lo"]
    assert variables.unknown_interfaces(name, value, names) == missing
    found = variables.collect({name: value}, interfaces=names)
    assert [s.name for s in found] == ([name] if missing else [])
    if missing:
        assert found[0].breaks and "one of eth0, ens5, lo" in found[0].fix


def test_gloo_s_message_traces_to_its_variable():
    """gloo's device.cc text for an interface it cannot find."""
    settings = variables.collect({"GLOO_SOCKET_IFNAME": "eth9"}, interfaces=["eth0", "lo"])
    text = (
        "RuntimeError: [enforce fail at ../third_party/gloo/gloo/transport/tcp/device.cc:83] ifa != nullptr. Unable "
        "to find address for: eth9"
    )
    assert variables.traced(settings, text).name == "GLOO_SOCKET_IFNAME"


def test_a_ca_bundle_variable_that_names_nothing_is_named(tmp_path):
    """SSL_CERT_FILE (Python's ssl module, so urllib) and REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (requests: a file or a
    folder; "Could not find a suitable TLS CA certificate bundle, invalid path") name the CAs downloads verify with;
    one naming nothing is a WARN, a readable file or (for requests) folder is not; SSL_CERT_DIR is not judged."""
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    found = variables.collect({"REQUESTS_CA_BUNDLE": str(tmp_path / "gone.pem"), "SSL_CERT_FILE": str(bundle),
                               "CURL_CA_BUNDLE": str(tmp_path), "SSL_CERT_DIR": str(tmp_path / "none")})  # fmt: skip
    assert [(s.name, s.breaks) for s in found] == [("REQUESTS_CA_BUNDLE", False)]
    assert "names no readable file or folder" in found[0].problem and "`unset REQUESTS_CA_BUNDLE`" in found[0].fix
    assert [s.name for s in variables.collect({"SSL_CERT_FILE": str(tmp_path)})] == ["SSL_CERT_FILE"]


def test_nccl_settings_are_read_as_nccl_reads_its_configuration_files(tmp_path):
    """NVIDIA/nccl src/misc/param.cc: the file NCCL_CONF_FILE names, else ~/.nccl.conf, then /etc/nccl.conf; lines
    NAME=VALUE, `#` lines skipped; `setenv(name, value, 0)`, so the environment wins, then the first file. The Azure
    HPC image's /etc/nccl.conf (NVIDIA/nccl#1240) sets NCCL_TOPO_FILE and NCCL_GRAPH_FILE."""
    system = tmp_path / "nccl.conf"
    system.write_text(
        "NCCL_TOPO_FILE=/opt/microsoft/ncv4/topo.xml\nNCCL_GRAPH_FILE=/opt/microsoft/ncv4/graph.xml\n"
        "# NCCL_DEBUG=INFO\nNCCL_IGNORE_CPU_AFFINITY=1\nnot a setting\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    (home / ".nccl.conf").write_text("NCCL_IGNORE_CPU_AFFINITY=0\n")
    found = variables.nccl_settings({"NCCL_DEBUG": "WARN"}, home=str(home), system_conf=str(system))
    assert [(s.name, s.value, s.source) for s in found] == [
        ("NCCL_DEBUG", "WARN", "environment"),
        ("NCCL_GRAPH_FILE", "/opt/microsoft/ncv4/graph.xml", str(system)),
        ("NCCL_IGNORE_CPU_AFFINITY", "0", str(home / ".nccl.conf")),
        ("NCCL_TOPO_FILE", "/opt/microsoft/ncv4/topo.xml", str(system)),
    ]
    chosen = tmp_path / "mine.conf"
    chosen.write_text("NCCL_GRAPH_FILE=/elsewhere.xml\n")
    found = variables.nccl_settings({"NCCL_CONF_FILE": str(chosen)}, home=str(home), system_conf=str(system))
    assert {s.name: s.value for s in found}["NCCL_GRAPH_FILE"] == "/elsewhere.xml"
    assert {s.name: s.value for s in found}["NCCL_IGNORE_CPU_AFFINITY"] == "1"  # ~/.nccl.conf not read then


def test_graph_devices_are_the_gpus_an_nccl_graph_file_names(tmp_path):
    """The Azure NC A100 v4 image's graph.xml: `<graph ...><channel><gpu dev="0"/>...<gpu dev="3"/>`."""
    graph = tmp_path / "graph.xml"
    graph.write_text(
        '<graphs version="1">\n  <graph id="0" pattern="4" nchannels="2">\n    <channel>\n'
        '      <gpu dev="0"/>\n      <gpu dev="1"/>\n      <gpu dev="3"/>\n      <gpu dev="2"/>\n'
        "    </channel>\n  </graph>\n</graphs>\n"
    )
    assert variables.graph_devices(str(graph)) == [0, 1, 2, 3]
    assert variables.graph_devices(str(tmp_path / "absent.xml")) is None
