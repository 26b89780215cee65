"""`python -m checks lock-audit [pixi.lock]`: does the lock hold the builds pixi.toml promises, everywhere?"""

import argparse
import os
import re
import sys

from checks import lockfile, manifest, report
from checks.report import FAIL, PASS, Result

TORCH_PACKAGES = ("pytorch", "torchvision", "torchaudio")


def parse_args(argv):
    """Parse lock-audit's options; argparse exits 2 on bad usage."""
    parser = argparse.ArgumentParser(
        prog="python -m checks lock-audit",
        description="Check every environment x platform of pixi.toml against pixi.lock (formats v6 and v7): torch "
        "version, build flavour and CUDA version, torchvision/torchaudio pairing, Python, channels, the manifest's "
        "pins, and that nothing is missing or stale. Exit 0: the lock keeps every promise; 1: it breaks one; "
        "2: usage error or an unreadable lock or manifest.",
    )
    parser.add_argument("lock", nargs="?", default=None, help="the lock file (default: pixi.lock beside pixi.toml)")
    parser.add_argument("--manifest", metavar="PATH", help="pixi.toml (default: found from here upwards)")
    parser.add_argument("--json", metavar="PATH", help="write the report as JSON")
    return parser.parse_args(argv)


def flavour(package):
    """Return (flavour, CUDA version or None) of a torch build, from its build string.

    pytorch channel: `py3.10_cuda11.8_cudnn8.7.0_0`, `py3.10_cpu_0`, `py310_cu118`;
    conda-forge: `cuda128_mkl_py312_h..`, `cuda112py39h.._304`, `cpu_mkl_py312_h..`.
    A pytorch build naming neither (osx) is a CPU build; for other packages the flavour is unknown (None).
    """
    match = re.search(r"(?:^|_)cuda(\d+\.\d+|\d{3})(?=_|py|$)", package.build) or re.search(
        r"_cu(\d{3})$", package.build
    )
    if not match:
        says_cpu = package.name == "pytorch" or re.search(r"(?:^|_)cpu(?:_|$)", package.build)
        return ("cpu" if says_cpu else None), None
    digits = match.group(1)
    return "cuda", digits if "." in digits else "%s.%s" % (digits[:-1], digits[-1])


def paired(torch_version, name, version):
    """Return None if torchvision/torchaudio `version` pairs with torch, else what it should be."""
    major, minor = (manifest.version_key(torch_version) + (0, 0))[:2]
    want = (0, minor + 15) if name == "torchvision" else (major, minor)  # 2.0 -> 0.15 / 2.0; 2.5 -> 0.20 / 2.5
    have = (manifest.version_key(version) + (0, 0))[:2]
    return None if have == want else "%d.%d.*" % want


def audit_platform(data, env, platform, packages, lock_channels):
    """Return the problems of one environment x platform as (what, expected, actual) triples."""
    problems = []
    wanted = manifest.specs(data, env, platform)
    for kind, specs in (("dependencies", wanted), ("constraints", manifest.specs(data, env, platform, "constraints"))):
        for name, spec in sorted(specs.items()):
            pkg = packages.get(name)
            if pkg is None:
                if kind == "dependencies":
                    problems.append((name, "%s %s locked" % (name, spec["version"]), "not in the lock (stale lock)"))
                continue
            if not manifest.spec_matches(pkg.version, spec["version"]):
                problems.append((name, "%s %s" % (name, spec["version"]), pkg.label()))
            if spec["channel"] and pkg.channel != spec["channel"]:
                problems.append((name, "%s from channel %s" % (name, spec["channel"]), pkg.label()))
    want, expect_cuda = manifest.promised_build({name: spec["version"] for name, spec in wanted.items()})
    torch = packages.get("pytorch")
    for name in TORCH_PACKAGES:
        pkg = packages.get(name)
        if pkg is None:
            continue
        if pkg.kind == "conda" and pkg.channel not in lock_channels:
            problems.append((name, "a channel of the environment (%s)" % ", ".join(lock_channels), pkg.label()))
        if torch is None:
            continue
        got, cuda = flavour(pkg)
        if got is not None and got != want:
            problems.append((name, "a %s build (%s)" % (want, platform["name"]), pkg.label()))
        elif got == "cuda" and expect_cuda and cuda and not manifest.spec_matches(cuda, expect_cuda):
            problems.append((name, "CUDA %s" % expect_cuda, "CUDA %s: %s" % (cuda, pkg.label())))
        elif got == "cuda" and cuda and platform["cuda"] and not manifest.spec_matches(cuda, "<=" + platform["cuda"]):
            problems.append((name, "CUDA <= %s (the platform's driver)" % platform["cuda"], pkg.label()))
        if name != "pytorch":
            should = paired(torch.version, name, pkg.version)
            pin = pkg.depends_on("pytorch")
            if should:
                problems.append((name, "%s %s for pytorch %s" % (name, should, torch.version), pkg.label()))
            elif pin and not manifest.spec_matches(torch.version, pin):
                problems.append((name, "pytorch %s (its own pin)" % pin, "pytorch %s" % torch.version))
    mutex = packages.get("pytorch-mutex")
    if torch is not None and mutex is not None and mutex.build != want:
        problems.append(("pytorch-mutex", "pytorch-mutex %s" % want, mutex.label()))
    return problems


def summary(packages):
    """Return a one-line account of the torch stack locked on a platform."""
    torch = packages.get("pytorch")
    parts = []
    if torch is not None:
        got, cuda = flavour(torch)
        parts.append("pytorch %s %s%s from %s" % (torch.version, got, " " + cuda if cuda else "", torch.channel))
    for name in ("torchvision", "torchaudio", "python"):
        if name in packages:
            parts.append("%s %s" % (name, packages[name].version))
    return ", ".join(parts) or "%d packages" % len(packages)


def audit(data, lock):
    """Yield one Result per environment x platform of the manifest, then one for what the lock has extra."""
    rich = [p["name"] for p in manifest.platforms(data) if p["name"] != p["subdir"]]
    if rich and lock.version < 7:
        yield Result(
            "lock-format",
            FAIL,
            "pixi.toml names platform variants that lock format v%s cannot hold" % lock.version,
            "lock format v7 (pixi 0.68+) for %s" % ", ".join(rich),
            "v%s" % lock.version,
            "regenerate the lock with the pixi that requires-pixi names: `pixi lock`",
        )
        return
    known = set()
    for env in manifest.environments(data):
        for platform in manifest.env_platforms(data, env):
            name = "%s-on-%s" % (env, platform["name"])
            key = platform["name"] if lock.version >= 7 else platform["subdir"]
            known.add((env, key))
            packages = lock.packages(env, key)
            if packages is None:
                yield Result(
                    name,
                    FAIL,
                    "missing from the lock",
                    "%s locked for %s" % (env, key),
                    "absent" if env in lock.environments else "no environment %s" % env,
                    "the lock is stale: run `pixi lock` and commit pixi.lock",
                )
                continue
            channels = lock.environments[env]["channels"]
            problems = audit_platform(data, env, platform, packages, channels)
            if not problems:
                yield Result(name, PASS, summary(packages))
                continue
            yield Result(
                name,
                FAIL,
                "%d problem%s: %s" % (len(problems), "s"[: len(problems) > 1], ", ".join(p[0] for p in problems)),
                "; ".join(p[1] for p in problems),
                "; ".join(p[2] for p in problems),
                "run `pixi lock` after fixing pixi.toml (a CPU build in a CUDA environment: pin each torch "
                "package's channel and the variant's pytorch-cuda/pytorch-gpu)",
                {"problems": [list(p) for p in problems]},
            )
    extra = sorted(
        "%s-on-%s" % (env, platform)
        for env, body in lock.environments.items()
        for platform in body["packages"]
        if (env, platform) not in known
    )
    if extra:
        yield Result(
            "stale-entries",
            FAIL,
            "the lock has %d environment x platform pairs pixi.toml no longer declares" % len(extra),
            "only what pixi.toml declares",
            ", ".join(extra),
            "run `pixi lock` and commit pixi.lock",
        )


def main(argv=None):
    """Run lock-audit; return the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        manifest_path = args.manifest or manifest.find_manifest()
        data = manifest.load(manifest_path)
        lock_path = args.lock or os.path.join(os.path.dirname(os.path.abspath(manifest_path)), "pixi.lock")
        lock = lockfile.load(lock_path)
    except report.UsageError as exc:
        print("lock-audit: error: %s" % exc, file=sys.stderr)
        return report.EXIT_USAGE
    rep = report.Report("lock-audit", argv)
    rep.header = {
        "check": "lock-audit",
        "manifest": os.path.relpath(manifest_path),
        "lock": "%s (format v%s)" % (os.path.relpath(lock_path), lock.version),
        "requires-pixi": data["workspace"].get("requires-pixi", "not set"),
        "environments": ", ".join(lock.environments) or "none",
    }
    return report.stream_results(rep, audit(data, lock), args.json)
