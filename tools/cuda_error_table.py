"""Print the rows of checks/nvidia/cuda_errors.py's ERRORS from real CUDA runtime libraries.

Usage: python tools/cuda_error_table.py [X.Y=]LIBCUDART [[X.Y=]LIBCUDART ...]

Each LIBCUDART is a libcudart.so of one CUDA release (e.g. the one the nvidia-cuda-runtime wheels install under
nvidia/cuda_runtime/lib or nvidia/cu13/lib). For every code 0-1199 that the library names (cudaGetErrorName gives a
`cudaError*` name other than cudaErrorUnknown, or the code is 999), the row is (code, name, text, first release in
which the given libraries name it), text being cudaGetErrorString's answer in the newest library given: the string
torch prints after `CUDA error: `. The release is cudaRuntimeGetVersion's answer, or X.Y where given (11.x's
runtime answers 0 without a driver). Needs no GPU and no driver: both calls are table lookups in the runtime.
"""

import ctypes
import sys


def _named(argument):
    """Return (release 'X.Y', {code: (name, text)}) of one libcudart."""
    given, _, path = argument.rpartition("=")
    lib = ctypes.CDLL(path)
    lib.cudaGetErrorName.restype = ctypes.c_char_p
    lib.cudaGetErrorString.restype = ctypes.c_char_p
    version = ctypes.c_int(0)
    lib.cudaRuntimeGetVersion(ctypes.byref(version))
    release = given or "%d.%d" % (version.value // 1000, version.value % 1000 // 10)
    rows = {}
    for code in range(1200):
        name = lib.cudaGetErrorName(code).decode()
        if name.startswith("cudaError") and (name != "cudaErrorUnknown" or code == 999):
            rows[code] = (name, lib.cudaGetErrorString(code).decode())
    return release, rows


def main(paths):
    found = sorted((_named(p) for p in paths), key=lambda r: [int(x) for x in r[0].split(".")])
    codes = sorted(set().union(*(rows for _, rows in found)))
    for code in codes:
        first = next(release for release, rows in found if code in rows)
        name, text = next(rows[code] for _, rows in reversed(found) if code in rows)
        print("    (%d, %r, %r, %r)," % (code, name, text, first))


if __name__ == "__main__":
    main(sys.argv[1:])
