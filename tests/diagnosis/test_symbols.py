"""Tests for checks/diagnosis/symbols.py: an undefined symbol judged by who should define it. The libraries are real
ELF files built with gcc/g++ in tmp_path (their dynamic symbol tables are the facts), laid out as pip and conda
install them; each failure text is the loader's, as quoted in the report cited at each test."""

import shutil
import sys

import pytest
from diagnosis_facts import facts_for, record, site
from fakes import compile_library

from checks import diagnosis
from checks.diagnosis import symbols
from checks.machine import loader

BUILD = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("g++") is None or shutil.which("gcc") is None,
    reason="needs Linux, gcc and g++ to build ELF files",
)


build = compile_library  # build(out, source, *linker flags, cxx=False): one ELF file, with gcc/g++


def dist_info(packages, name, version, *relatives):
    """A pip install record of `name` listing the files `relatives` (paths under `packages`)."""
    info = packages / ("%s-%s.dist-info" % (name.replace("-", "_"), version))
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
    (info / "RECORD").write_text("".join("%s,,\n" % r for r in relatives))


@pytest.fixture
def no_cache(monkeypatch):
    """This machine's ld.so.cache stays out of the judgement."""
    monkeypatch.setattr(loader, "ld_cache", lambda timeout=5.0: {})
    monkeypatch.delenv("CONDA_PREFIX", raising=False)


@pytest.mark.parametrize(
    "symbol, names, readable, tags",
    [
        ("_ZN3c104cuda9SetDeviceEi", ["c10", "cuda", "SetDevice"], "c10::cuda::SetDevice", ()),
        ("_ZNK3c105Error4whatEv", ["c10", "Error", "what"], "c10::Error::what", ()),
        ("_ZTIN2at10TensorImplE", ["at", "TensorImpl"], "typeinfo for at::TensorImpl", ()),
        ("_ZTI24THRefcountedMapAllocator", ["THRefcountedMapAllocator"], "typeinfo for THRefcountedMapAllocator", ()),
        (
            "_ZN3c105ErrorC1ENS_14SourceLocationERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE",
            ["c10", "Error"],
            "c10::Error",
            ("cxx11",),
        ),
        ("cudnnSetConvolutionGroupCount", [], "cudnnSetConvolutionGroupCount", ()),
    ],
)
def test_mangled_scope_reads_the_qualified_name(symbol, names, readable, tags):
    """The Itanium C++ ABI's <nested-name> (N [CV-qualifiers] <source-name>... E), special names TI/TV, and the
    std::__cxx11 namespace of libstdc++'s new string ABI."""
    assert symbols.mangled_scope(symbol) == (names, readable, tags)


def test_torch_symbols_are_those_of_its_namespaces_and_th_classes():
    assert symbols.is_torch_symbol("_ZN2at4_ops9_pad_enum4callERKNS_6TensorE")
    assert symbols.is_torch_symbol("_ZN6caffe26detail37_typeMetaDataInstance_preallocated_30E")
    assert symbols.is_torch_symbol("_ZTI24THRefcountedMapAllocator")
    assert not symbols.is_torch_symbol(
        "_ZNSt6thread15_M_start_threadESt10unique_ptrINS_6_StateESt14default_deleteIS1_EEPFvvE"
    )
    assert not symbols.is_torch_symbol("cudnnSetConvolutionGroupCount")


def torch_with_c10(packages, source="namespace c10 { namespace cuda { void SetDevice(signed char) {} } }\n"):
    """torch/lib/libc10.so exporting what `source` defines (torch 2.8's c10::cuda::SetDevice(DeviceIndex), int8)."""
    return build(packages / "torch" / "lib" / "libc10.so", source, cxx=True)


@BUILD
def test_an_extension_built_against_another_torch_names_its_package_and_the_build_for_this_torch(
    tmp_path, monkeypatch, no_cache
):
    """Dao-AILab/flash-attention#931 (torch 2.3.0, flash-attn 2.5.7): "flash_attn_2_cuda.cpython-310-x86_64-linux-
    gnu.so: undefined symbol: _ZN3c104cuda9SetDeviceEi"; fixed by the flash-attn release built for that torch, or by
    building it from source. The installed torch's libc10 defines SetDevice(signed char) only."""
    prefix, packages = site(tmp_path)
    torch_with_c10(packages)
    extension = build(packages / "flash_attn_2_cuda.cpython-310-x86_64-linux-gnu.so", "int flash(void) { return 0; }\n")
    dist_info(packages, "flash-attn", "2.5.7", "flash_attn_2_cuda.cpython-310-x86_64-linux-gnu.so")
    text = "ImportError: %s: undefined symbol: _ZN3c104cuda9SetDeviceEi" % extension
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "symbol"
    assert "(flash-attn 2.5.7) needs c10::cuda::SetDevice, which torch 2.0.1's libraries do not define" in cause.meaning
    assert "built against another torch release" in cause.meaning
    assert (
        '--no-build-isolation --no-binary flash-attn --no-cache-dir --force-reinstall --no-deps "flash-attn==2.5.7"'
        in (cause.fix)
    )
    assert "reinstall torch" not in cause.fix
    assert cause.fact.startswith("_ZN3c104cuda9SetDeviceEi is defined by none of the 1 libraries in")


@BUILD
def test_a_symbol_the_installed_torch_defines_is_not_blamed_on_the_extension(tmp_path, monkeypatch, no_cache):
    """The same text where torch's libc10 does define c10::cuda::SetDevice(int): another libc10 was loaded, which
    this rule cannot tell; it is not the extension's build."""
    prefix, packages = site(tmp_path)
    torch_with_c10(packages, "namespace c10 { namespace cuda { void SetDevice(int) {} } }\n")
    extension = build(packages / "flash_attn_2_cuda.cpython-310-x86_64-linux-gnu.so", "int flash(void) { return 0; }\n")
    text = "ImportError: %s: undefined symbol: _ZN3c104cuda9SetDeviceEi" % extension
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule != "symbol"
    assert "built against another torch" not in cause.meaning


@BUILD
def test_torchvision_built_for_another_torch_gets_the_paired_release(tmp_path, monkeypatch, no_cache):
    """facebookresearch/maskrcnn-benchmark#891: "torchvision/_C.cpython-36m-x86_64-linux-gnu.so: undefined symbol:
    _ZN3c106Device8validateEv"; fixed by the torchvision release of the installed torch (`pip install -U
    torchvision==0.4.0`). torchvision's metadata here declares no torch pin (a source build): the pair rule (2d)
    answers before this one, with the same release."""
    prefix, packages = site(tmp_path)
    torch_with_c10(packages)
    (packages / "torchvision").mkdir()
    (packages / "torchvision" / "__init__.py").write_text("")
    extension = build(packages / "torchvision" / "_C.so", "int vision(void) { return 0; }\n")
    dist_info(packages, "torchvision", "0.16.0", "torchvision/_C.so")
    cause = diagnosis.explain(
        "ImportError: %s: undefined symbol: _ZN3c106Device8validateEv" % extension,
        facts_for(monkeypatch, prefix, [packages]),
    )
    assert cause.rule == "paired" and 'python -m pip install --no-deps "torchvision==0.15.2"' in cause.fix
    fix = symbols._rebuild_fix("torchvision", "0.16.0", "2.0.1")
    assert 'python -m pip install "torchvision==0.15.2"' in fix


@BUILD
def test_a_file_in_torch_s_folder_no_record_lists_is_left_from_another_install(tmp_path, monkeypatch, no_cache):
    """pytorch/pytorch#10234: "torch/lib/libshm.so: undefined symbol: _ZTI24THRefcountedMapAllocator" after a
    `setup.py install` and a pip wheel in one site-packages; fixed by uninstalling torch until none is left."""
    prefix, packages = site(tmp_path)
    torch_with_c10(packages)
    record(packages, "torch/lib/libc10.so")
    leftover = build(packages / "torch" / "lib" / "libshm.so", "int shm(void) { return 0; }\n")
    cause = diagnosis.explain(
        "ImportError: %s: undefined symbol: _ZTI24THRefcountedMapAllocator" % leftover,
        facts_for(monkeypatch, prefix, [packages]),
    )
    assert cause.rule == "symbol"
    assert "libshm.so in torch's folder is not one of torch 2.0.1's installed files" in cause.meaning
    assert "uninstall torch` (or `conda remove pytorch`) until no torch is left" in cause.fix


@BUILD
def test_an_older_cudnn_from_a_conda_package_is_named_with_its_package(tmp_path, monkeypatch, no_cache):
    """pytorch/pytorch#3567: "_C.cpython-36m-x86_64-linux-gnu.so: undefined symbol: cudnnSetConvolutionGroupCount";
    "There turned out to be sneaky conda package. Fixed by doing `conda uninstall cuda`": the conda package `cuda`
    8.0 shipped libcudnn.so.6, older than the cuDNN 7 torch was built with."""
    prefix, packages = site(tmp_path)
    lib = packages / "torch" / "lib"
    build(tmp_path / "stub" / "libcudnn.so.7", "int cudnnCreate(void) { return 0; }\n", "-Wl,-soname,libcudnn.so.7")
    build(
        lib / "libtorch_cuda.so",
        "int cuda_op(void) { return 0; }\n",
        "-Wl,--no-as-needed",
        "-L%s" % (tmp_path / "stub"),
        "-l:libcudnn.so.7",
    )
    conda = tmp_path / "conda"
    build(conda / "lib" / "libcudnn.so.6.0.21", "int cudnnCreate(void) { return 0; }\n")
    (conda / "lib" / "libcudnn.so.6").symlink_to("libcudnn.so.6.0.21")
    (conda / "conda-meta").mkdir()
    (conda / "conda-meta" / "cuda-8.0-3.json").write_text(
        '{"name": "cuda", "version": "8.0", "build": "3", "files": ["lib/libcudnn.so.6", "lib/libcudnn.so.6.0.21"]}'
    )
    monkeypatch.setenv("CONDA_PREFIX", str(conda))
    cause = diagnosis.explain(
        "ImportError: %s/torch/_C.cpython-36m-x86_64-linux-gnu.so: undefined symbol: cudnnSetConvolutionGroupCount"
        % packages,
        facts_for(monkeypatch, prefix, [packages]),
    )
    assert cause.rule == "symbol"
    assert "libcudnn.so.6 (cuDNN 6.0.21 from the conda package `cuda` 8.0)" in cause.meaning
    assert "torch's libraries need libcudnn.so.7" in cause.meaning
    assert cause.fix.startswith("remove the conda package that brings this cuDNN: `conda remove -p %s cuda`" % conda)


@BUILD
def test_a_cudnn_folder_whose_library_defines_the_symbol_is_not_blamed(tmp_path, monkeypatch, no_cache):
    """cuDNN 8 is several files in one folder; the folder holds the symbol when any of them defines it."""
    prefix, packages = site(tmp_path)
    own = packages / "nvidia" / "cudnn" / "lib"
    build(own / "libcudnn.so.8", "int cudnnSetConvolutionGroupCount(void) { return 0; }\n")
    build(own / "libcudnn_ops_infer.so.8", "int cudnnOpsInferVersionCheck(void) { return 0; }\n")
    cause = diagnosis.explain(
        "ImportError: %s/torch/_C.so: undefined symbol: cudnnSetConvolutionGroupCount" % packages,
        facts_for(monkeypatch, prefix, [packages]),
    )
    assert cause.rule != "symbol"


@BUILD
def test_a_symbol_none_of_an_extension_s_libraries_defines(tmp_path, monkeypatch, no_cache):
    """glibc's text for an object whose needed library (found through its DT_RUNPATH) is another release without the
    function it was linked against."""
    prefix, packages = site(tmp_path)
    folder = packages / "codec"
    build(folder / "libcodec.so.2", "int codec_open(void) { return 0; }\n", "-Wl,-soname,libcodec.so.2")
    extension = build(
        folder / "_codec.so",
        "int codec_open(void); int use(void) { return codec_open(); }\n",
        "-Wl,--no-as-needed",
        "-L%s" % folder,
        "-l:libcodec.so.2",
        "-Wl,-rpath,$ORIGIN",
    )
    dist_info(packages, "codec", "1.4.0", "codec/_codec.so", "codec/libcodec.so.2")
    cause = diagnosis.explain(
        "ImportError: %s: undefined symbol: codec_open_v2" % extension, facts_for(monkeypatch, prefix, [packages])
    )
    assert cause.rule == "symbol"
    assert "_codec.so (codec 1.4.0) needs codec_open_v2, which none of the libraries it links against" in cause.meaning
    assert "libcodec.so.2 from %s (DT_RUNPATH of _codec.so)" % folder in cause.meaning


# ---- one of torch's own libraries cannot be opened (by_torch_library) ----------------------------------------------
# The loader's text as ctypes (torch.ops.load_library) and Python's extension import report it: "NAME: cannot open
# shared object file: No such file or directory" (glibc's dlerror), under the frames of the package that loads it.
def _frames(package, name):
    return (
        'Traceback (most recent call last):\n  File "train.py", line 3, in <module>\n    import %s\n'
        '  File "/env/lib/python3.10/site-packages/%s/__init__.py", line 16, in <module>\n'
        "    torch.ops.load_library(spec.origin)\nOSError: %s: cannot open shared object file: No such file or "
        "directory" % (package, package, name)
    )


def _torch_build(packages, cuda):
    (packages / "torch" / "version.py").write_text("__version__ = '2.0.1'\ncuda = %r\n" % cuda)


def test_a_cuda_torchvision_under_a_cpu_torch(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    _torch_build(packages, None)
    cause = diagnosis.explain(_frames("torchvision", "libc10_cuda.so"), facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "torch-library" and "torch 2.0.1 is a CPU-only build" in cause.meaning
    assert '"torchvision==0.15.2"' in cause.fix and "whl/cpu" in cause.fix  # compat's pair for torch 2.0.1


def test_a_torch_library_of_another_release_names_the_module_built_against_it(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    _torch_build(packages, "11.7")
    text = _frames("torch_scatter", "libtorch_cuda_cu.so")
    cause = diagnosis.explain(text, facts_for(monkeypatch, prefix, [packages]))
    assert cause.rule == "torch-library" and "torch_scatter was built against another torch" in cause.meaning
    assert "--no-build-isolation" in cause.fix and "reinstall torch" not in cause.fix


def test_a_torch_library_that_is_there_means_the_module_came_before_torch(tmp_path, monkeypatch):
    prefix, packages = site(tmp_path)
    (packages / "torch" / "lib" / "libc10.so").write_bytes(b"\x7fELF")
    found = facts_for(monkeypatch, prefix, [packages])
    cause = diagnosis.explain(_frames("detectron2", "libc10.so"), found)
    assert cause.rule == "torch-library" and cause.fix == "`import torch` before importing detectron2"
    own = 'File "%s/torch/__init__.py", line 229, in <module>\n    from torch._C import *\n' % packages
    cause = diagnosis.explain(own + "ImportError: libc10.so: cannot open shared object file", found)
    assert cause.rule != "torch-library"  # torch's own import: its _C reaches lib/ through its run path


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="needs Linux and gcc to build ELF files"
)
def test_a_module_needing_a_torch_symbol_this_torch_does_not_define_is_stale(tmp_path):
    """open-mmlab/mmcv#1734: mmcv-full's _ext built for torch 1.6 needs at::Tensor::is_cuda() const
    (`_ZNK2at6Tensor7is_cudaEv`), which torch 2.0's libraries no longer export ("undefined symbol"). Built here with
    gcc: a module whose DT_NEEDED names libc10.so and whose dynamic symbol table needs that symbol, read, never
    loaded; torch's lib folder holds a libc10.so that defines another one."""
    torch_dir = tmp_path / "torch"
    c10 = torch_dir / "lib" / "libc10.so"
    assert_fail = "int _ZN3c106detail23torchInternalAssertFailEv(void) { return 0; }\n"
    build(c10, assert_fail, "-Wl,-soname,libc10.so")
    module = tmp_path / "mmcv" / "_ext.cpython-311-x86_64-linux-gnu.so"
    ext = (
        "int _ZNK2at6Tensor7is_cudaEv(void);\nint _ZN3c106detail23torchInternalAssertFailEv(void);\n"
        "int f(void) { return _ZNK2at6Tensor7is_cudaEv() + _ZN3c106detail23torchInternalAssertFailEv(); }\n"
    )
    build(module, ext, "-L", str(torch_dir / "lib"), "-Wl,--no-as-needed", "-lc10")
    assert "_ZNK2at6Tensor7is_cudaEv" in loader.undefined(str(module))
    assert symbols.stale_extensions([str(module)], str(torch_dir)) == (str(module), "_ZNK2at6Tensor7is_cudaEv")
    cause = symbols.stale_extension_cause(str(module), "_ZNK2at6Tensor7is_cudaEv", "2.0.1")
    assert "was built against another torch: it needs at::Tensor::is_cuda (_ZNK2at6Tensor7is_cudaEv)" in cause.meaning
    assert "rebuild it against this torch" in cause.fix
    build(c10, assert_fail + "int _ZNK2at6Tensor7is_cudaEv(void) { return 1; }\n", "-Wl,-soname,libc10.so")
    assert symbols.stale_extensions([str(module)], str(torch_dir)) is None  # this torch defines both


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None, reason="needs Linux and gcc to build ELF files"
)
def test_a_per_torch_release_build_for_another_torch_is_not_stale(tmp_path):
    """DGL 1.1.2's wheel ships dgl_sparse/libdgl_sparse_pytorch_1.13.0.so beside _2.0.1.so and loads the one named
    for the running torch: the 1.13.0 build needing a symbol torch 2.0.1 lacks is not a stale module under 2.0.1.
    Without a build for the running torch it is (dmlc/dgl#7157: no graphbolt build for torch 2.3)."""
    torch_dir = tmp_path / "torch"
    build(torch_dir / "lib" / "libc10.so", "int c10_here(void) { return 0; }\n", "-Wl,-soname,libc10.so")
    symbol = "_ZN3c106detail19maybe_wrap_dim_slowEllb"
    ext = "int %s(void);\nint f(void) { return %s(); }\n" % (symbol, symbol)
    module = tmp_path / "dgl" / "dgl_sparse" / "libdgl_sparse_pytorch_1.13.0.so"
    build(module, ext, "-L", str(torch_dir / "lib"), "-Wl,--no-as-needed", "-lc10")
    assert symbols.stale_extensions([str(module)], str(torch_dir), torch_version="2.0.1+cu117")[0] == str(module)
    build(module.parent / "libdgl_sparse_pytorch_2.0.1.so", "int s(void) { return 0; }\n")  # the one it loads
    assert symbols.stale_extensions([str(module)], str(torch_dir), torch_version="2.0.1+cu117") is None
    assert symbols.stale_extensions([str(module)], str(torch_dir), torch_version="1.13.0")[0] == str(module)


def test_a_package_that_ships_one_build_per_torch_release_names_the_releases(tmp_path):
    """dmlc/dgl#7157: DGL 2.1.0's wheel ships graphbolt/libgraphbolt_pytorch_X.so for torch 2.0.0 to 2.2.1 (dmlc/dgl
    #7247) and none for a newer torch: installing a torch it ships builds for is the other way out."""
    from checks.diagnosis import symbols

    package = tmp_path / "dgl"
    (package / "graphbolt").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for version in ("2.0.0", "2.2.1", "2.1.2"):
        (package / "graphbolt" / ("libgraphbolt_pytorch_%s.so" % version)).write_bytes(b"")
    (package / "libdgl.so").write_bytes(b"")
    assert symbols.shipped_torch_builds(str(package)) == ("2.0.0", "2.1.2", "2.2.1")
    fix = symbols.shipped_torch_fix(str(package), "dgl", "2.13.0+cpu")
    assert fix == (
        "; or install a torch it ships builds for (dgl ships them for torch 2.0.0, 2.1.2, 2.2.1): `python -m pip "
        'install "torch==2.2.1"` with the torchvision and torchaudio of that torch'
    )
    assert symbols.shipped_torch_fix(str(package), "dgl", "2.1.2+cu121") == ""


@pytest.mark.parametrize(
    "symbol, prefix, abi",
    [
        ("_ZN3c106detail14torchCheckFailEPKcS2_jRKSs", "_ZN3c106detail14torchCheckFailE", symbols.PRE_CXX11),
        (
            "_ZN3c106detail14torchCheckFailEPKcS2_jRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE",
            "_ZN3c106detail14torchCheckFailE",
            symbols.CXX11,
        ),
        ("_ZN3c105ErrorC1ENS_14SourceLocationESs", "_ZN3c105ErrorC1E", symbols.PRE_CXX11),
        ("_ZNK2at6Tensor7is_cudaEv", "_ZNK2at6Tensor7is_cudaE", None),
        ("_ZN2at4_ops10empty_like4callERKNS_6TensorE", "_ZN2at4_ops10empty_like4callE", None),
        ("cudnnCreate", None, None),
    ],
)
def test_the_std_string_of_gcc_s_two_abis_is_read_from_the_mangled_name(symbol, prefix, abi):
    """The symbols of detectron2#593 (`...RKSs`: the old ABI's std::string) and flash-attention#1696 (`NSt7__cxx11`:
    the C++11 ABI's), as the loader printed them, and torch 2.0.1's own c10::Error constructor (`...ESs`)."""
    assert symbols.nested_prefix(symbol) == prefix
    assert symbols.string_abi(symbol) == abi


# c10::detail::torchCheckFail as torch declares it (c10/util/Exception.h), and an extension that calls it (TORCH_CHECK)
CHECK_FAIL = (
    "#include <string>\nnamespace c10 { namespace detail {\n"
    "void torchCheckFail(const char*, const char*, unsigned int, const std::string&);\n}}\n"
)
CHECK_FAIL_BODY = (
    "namespace c10 { namespace detail {\n"
    "void torchCheckFail(const char*, const char*, unsigned int, const std::string&) {}\n}}\n"
)
CALLS_CHECK = 'void nms() { c10::detail::torchCheckFail("f", "nms.cpp", 1, std::string("x")); }\n'


@BUILD
@pytest.mark.parametrize("torch_flag, built_flag", [(1, 0), (0, 1)])
def test_an_extension_built_with_the_other_cxx_abi_is_named_with_torch_s_flag(tmp_path, torch_flag, built_flag):
    """detectron2#593: detectron2's _C built with the pre-C++11 ABI (gcc 4.9 of devtoolset-3) under a C++11-ABI torch
    ("undefined symbol: _ZN3c105ErrorC1ENS_14SourceLocationERKSs"); flash-attention#1696: a C++11-ABI wheel under a
    pre-C++11 torch. Built here with g++ and both -D_GLIBCXX_USE_CXX11_ABI values: torch's libc10.so defines
    torchCheckFail with one std::string, the module needs it with the other."""
    torch_dir = tmp_path / "torch"
    c10 = torch_dir / "lib" / "libc10.so"
    build(
        c10, CHECK_FAIL + CHECK_FAIL_BODY, "-Wl,-soname,libc10.so", "-D_GLIBCXX_USE_CXX11_ABI=%d" % torch_flag, cxx=True
    )
    module = tmp_path / "work" / "detectron2" / "_C.cpython-311-x86_64-linux-gnu.so"
    flags = ("-L", str(torch_dir / "lib"), "-Wl,--no-as-needed", "-lc10", "-D_GLIBCXX_USE_CXX11_ABI=%d" % built_flag)
    build(module, CHECK_FAIL + CALLS_CHECK, *flags, cxx=True)
    path, symbol = symbols.stale_extensions([str(module)], str(torch_dir))
    assert symbols.string_abi(symbol) == (symbols.CXX11 if built_flag else symbols.PRE_CXX11)
    cause = symbols.stale_extension_cause(path, symbol, "2.13.0", str(torch_dir))
    names = symbols.ABI_NAMES
    mine, torch_abi = (symbols.CXX11, symbols.PRE_CXX11) if built_flag else (symbols.PRE_CXX11, symbols.CXX11)
    assert "was built with %s, while torch 2.13.0 is built with %s" % (names[mine], names[torch_abi]) in cause.meaning
    assert "passes -D_GLIBCXX_USE_CXX11_ABI=%d itself" % torch_flag in cause.fix
    assert symbols.abi_mismatch(symbol, [str(c10)])[1] == torch_abi
    build(
        c10, CHECK_FAIL + CHECK_FAIL_BODY, "-Wl,-soname,libc10.so", "-D_GLIBCXX_USE_CXX11_ABI=%d" % built_flag, cxx=True
    )
    assert symbols.stale_extensions([str(module)], str(torch_dir)) is None  # built with torch's ABI: it links


@BUILD
def test_an_extension_made_for_another_torch_release_keeps_that_cause_with_the_abi_as_a_note(tmp_path, monkeypatch):
    """pytorch/text#1928 and dmlc/dgl#7157: torchtext 0.18's and DGL 2.1's builds were made for torch 2.3 / 2.0 (its
    metadata's floor, its per-release file names), whose pip wheels are pre-C++11 ABI; under a C++11-ABI torch the
    release is the cause and its install the way out, the ABI a consequence."""
    torch_dir = tmp_path / "torch"
    c10 = torch_dir / "lib" / "libc10.so"
    build(c10, CHECK_FAIL + CHECK_FAIL_BODY, "-Wl,-soname,libc10.so", "-D_GLIBCXX_USE_CXX11_ABI=1", cxx=True)
    module = tmp_path / "dgl" / "libdgl_sparse_pytorch_2.0.0.so"
    flags = ("-L", str(torch_dir / "lib"), "-Wl,--no-as-needed", "-lc10", "-D_GLIBCXX_USE_CXX11_ABI=0")
    build(module, CHECK_FAIL + CALLS_CHECK, *flags, cxx=True)
    path, symbol = symbols.stale_extensions([str(module)], str(torch_dir))
    release = '; or install a torch it ships builds for (dgl ships them for torch 2.0.0): `pip install "torch==2.0.0"`'
    monkeypatch.setattr(symbols, "_package_of", lambda path: ("dgl", "2.1.0"))
    monkeypatch.setattr(symbols, "shipped_torch_fix", lambda folder, package, version: release)
    cause = symbols.stale_extension_cause(path, symbol, "2.13.0", str(torch_dir))
    assert cause.meaning.startswith("dgl 2.1.0's libdgl_sparse_pytorch_2.0.0.so was built against another torch")
    assert "its C++ ABI is not this torch's either: torch defines it with the C++11 ABI" in cause.meaning
    assert cause.fix.endswith(release)
