"""Facts for the diagnosis tests (tests/diagnosis/), laid out in tmp_path as the real artefacts are:
site-packages with dist-info, a library directory, /dev/shm's size."""

import base64
import dataclasses
import hashlib
import sys

from checks import diagnosis
from checks.machine import provenance, requirements, system

GIB = 1 << 30


def make_system(**changes):
    base = system.System(
        shm_bytes=16 * GIB,
        shm_free_bytes=16 * GIB,
        nofile=(65536, 65536),
        tempdir="/tmp",
        disk_free_bytes=100 * GIB,
        code_dirs=(
            system.CodeDir("torch.compile (inductor)", "/tmp/torchinductor_me", "TORCHINDUCTOR_CACHE_DIR", True, True),
        ),
        glibc="2.36",
        glibc_needed=("2.28", "libtorch_cpu.so"),
        hostname="node7",
        host_addresses=("10.0.0.5",),
        resolve_error=None,
    )
    return dataclasses.replace(base, **changes)


def site(tmp_path, name="env", torch_version="2.0.1", requires=()):
    """An environment prefix with site-packages holding torch (pip metadata with `requires`); returns (prefix, site)."""
    prefix = tmp_path / name
    packages = prefix / "lib" / "python3.10" / "site-packages"
    (packages / "torch" / "lib").mkdir(parents=True)
    (packages / "torch" / "__init__.py").write_text("")
    info = packages / ("torch-%s.dist-info" % torch_version)
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: torch\nVersion: %s\n%s\n"
        % (torch_version, "".join("Requires-Dist: %s\n" % r for r in requires))
    )
    (info / "INSTALLER").write_text("pip\n")
    (info / "RECORD").write_text("torch/__init__.py,,\n")
    return prefix, packages


def installed(packages, name, version, files, headers=()):
    """Install the distribution `name` `version` into `packages` as pip lays it out: its `files` ({path relative to
    `packages`: text}) and a .dist-info whose METADATA carries `headers` (("Requires-Dist", "x>=1"), ...) and whose
    RECORD lists those files; returns the .dist-info Path."""
    for relative, text in files.items():
        (packages / relative).parent.mkdir(parents=True, exist_ok=True)
        (packages / relative).write_text(text)
    info = packages / ("%s-%s.dist-info" % (name, version))
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s" % (name, version, "".join("%s: %s\n" % h for h in headers))
    )
    (info / "RECORD").write_text("".join("%s,,\n" % f for f in files))
    return info


def facts_for(monkeypatch, prefix, path, environ=None, **system_changes):
    monkeypatch.setattr(sys, "prefix", str(prefix))
    environ = environ or {}
    prov = provenance.Provenance(
        interpreter=str(prefix / "bin" / "python"),
        prefix=str(prefix),
        environment=str(prefix),
        foreign_interpreter=False,
        packages={n: provenance.package(n, [str(p) for p in path], str(prefix), environ) for n in provenance.PACKAGES},
    )
    return diagnosis.Facts(
        provenance=prov,
        requirements=requirements.collect(prov, path=[str(p) for p in path]),
        loader_inputs={k: v for k, v in environ.items() if k.startswith("LD_")},
        system=make_system(**system_changes),
    )


def record(packages, *relatives):
    """torch's RECORD lines (path,sha256=...,size) for files under `packages`, as pip writes them."""
    lines = []
    for relative in relatives:
        data = (packages / relative).read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append("%s,sha256=%s,%d\n" % (relative, digest, len(data)))
    (packages / "torch-2.0.1.dist-info" / "RECORD").write_text("".join(lines) + "torch/__init__.py,,\n")
