"""Build pixi.lock documents for the lock-audit tests, shaped as pixi 0.77 writes them, from real channel records.

The shape, rule by rule (pixi at tag v0.77.0, rattler_lock 0.32.0 which it pins):
- top-level keys `version`, `platforms`, `environments`, `packages` in that order (SerializableLockFile,
  crates/rattler_lock/src/parse/serialize.rs@rattler_lock-v0.32.0:22-33);
- `platforms`: every platform an environment uses (UpdateContext::finish, crates/pixi_core/src/lock_file/update.rs
  @v0.77.0:2606-2631); each platform with virtual packages is renamed `p1`, `p2`, ... in the manifest's declaration
  order, every such manifest platform taking an ordinal (shorten_platform_names, platform_rename.rs@v0.77.0:58-92);
  `subdir` only where it differs from the name, `virtual-packages` the full declared list, defaults included, as
  `name=version[=build]`; sorted by name (serialize.rs:35-55, 240-248). pixi's examples/multi-machine/pixi.lock
  at v0.77.0 has this shape;
- environments sorted by name, `channels` as `- url: <base url ending in />`, `packages` keyed by the lock platform
  name, each list sorted, conda before pypi, then by URL (serialize.rs:57-99);
- `packages` sorted by kind then URL; a conda record does not repeat name, version, build or subdir, which come
  from its URL (conda_package_data.rs:239-297).
Records of the legacy torch packages on linux-64 are the real ones in tests/data/pytorch-channel-linux-64.json;
other packages (python, numpy, mkl, other subdirs, conda-forge's pytorch) are made up following the real naming.
"""

import copy
import json

import yaml

from checks.workspace import channels, versions
from checks.workspace.lockfile import parse_conda_url

CHANNEL = "https://conda.anaconda.org/%s/"
# Versions for packages the reference file does not hold; each satisfies the spec pixi.toml gives it.
OTHER_VERSIONS = {
    "python": {"3.10.*": "3.10.14", "3.12.*": "3.12.7"},
    "numpy": {">=1.21,<2": "1.26.4", "*": "2.1.3"},
    "pytorch": {">=2.8": "2.9.1"},
    "torchvision": {"*": "0.24.1"},
    "torchaudio": {"*": "2.9.1"},
    "cuda-version": {">=12.8": "12.8"},
    "mkl": {"<2024.1": "2023.2.0"},
    "tomli": {">=2.4": "2.4.0"},
}
LINUX_RECORD_NAMES = ("pytorch", "torchvision", "torchaudio", "pytorch-cuda")
FIELDS = ("sha256", "md5", "depends", "constrains", "license", "license_family", "size", "timestamp")


def lock_names(ws):
    """Return {manifest platform name: lock platform name}: `pN` for platforms with virtual packages."""
    names, ordinal = {}, 0
    for platform in ws.platforms:
        if platform.is_subdir:
            names[platform.name] = platform.name
        else:
            ordinal += 1
            names[platform.name] = "p%d" % ordinal
    return names


class LockBuilder:
    """Assemble lock documents whose records satisfy a manifest; tests then break them on purpose."""

    def __init__(self, repodata_path):
        with open(repodata_path, encoding="utf-8") as handle:
            self.repodata = json.load(handle)["packages"]

    def real(self, filename, channel="pytorch"):
        """Return the lock entry of a real `pytorch` channel linux-64 record, fields as rattler writes them."""
        record = self.repodata[filename]
        entry = {"conda": "%slinux-64/%s" % (CHANNEL % channel, filename)}
        for key in FIELDS:
            if record.get(key) not in (None, []):
                entry[key] = record[key]
        return entry

    @staticmethod
    def made_up(name, version, build, subdir, channel="conda-forge", depends=()):
        """Return a lock entry for a package the reference file does not hold."""
        ext = ".conda" if channel == "conda-forge" else ".tar.bz2"
        entry = {"conda": "%s%s/%s-%s-%s%s" % (CHANNEL % channel, subdir, name, version, build, ext)}
        if depends:
            entry["depends"] = list(depends)
        return entry

    @staticmethod
    def pypi(name, version, url=None, requires_dist=(), index=None):
        """Return a PyPI lock entry (v7: `pypi`, `name`, `version`, `index` unless PyPI, `requires_dist`)."""
        entry = {"pypi": url or "https://files.pythonhosted.org/packages/%s-%s-py3-none-any.whl" % (name, version)}
        entry.update({"name": name, "version": version, "sha256": "0" * 64})
        if index and index != "https://pypi.org/simple":
            entry["index"] = index
        if requires_dist:
            entry["requires_dist"] = list(requires_dist)
        return entry

    def torch_entry(self, name, version, platform, py, cuda, channel):
        """Return the lock entry a solve would pick for one torch package on a platform."""
        subdir, tag = platform.subdir, py.replace(".", "")
        if channel == "pytorch":
            if name == "pytorch-cuda":
                filename = "pytorch-cuda-%s-%s.tar.bz2" % (cuda, {"11.7": "h778d358_5", "11.8": "h7e8668a_5"}[cuda])
            elif name == "pytorch":
                cudnn = {"11.7": "8.5.0", "11.8": "8.7.0"}.get(cuda)
                if subdir.startswith("osx"):
                    build = "py%s_0" % py
                elif cuda:
                    build = "py%s_cuda%s_cudnn%s_0" % (py, cuda, cudnn if subdir == "linux-64" else "8")
                else:
                    build = "py%s_cpu_0" % py
                filename = "pytorch-%s-%s.tar.bz2" % (version, build)
            else:
                suffix = "" if subdir.startswith("osx") else "_cu%s" % cuda.replace(".", "") if cuda else "_cpu"
                filename = "%s-%s-py%s%s.tar.bz2" % (name, version, tag, suffix)
            if subdir == "linux-64":
                return self.real(filename)
            build = filename[len(name) + len(version) + 2 : -len(".tar.bz2")]
            return self.made_up(name, version, build, subdir, "pytorch")
        flavour = "cuda%s" % cuda.replace(".", "") if cuda else "cpu"
        pattern = "%s_mkl_py%s_h0123456_300" if name == "pytorch" else "%s_py%s_h0123456_0"
        return self.made_up(name, version, pattern % (flavour, tag), subdir)

    def entries(self, ws, env, platform):
        """Return lock entries satisfying every dependency and constraint of an environment on a platform."""
        from checks.workspace.promise import promise

        deps = {name: specs[0] for name, specs in ws.specs(env, platform).items()}
        py = versions.floor(deps.get("python", {}).get("version")) or "3.12"
        promised = promise(ws, env, platform)
        cuda = versions.floor(promised.cuda or promised.driver) if promised.flavour == "cuda" else None
        out = []
        for name, spec in deps.items():
            version = OTHER_VERSIONS.get(name, {}).get(spec["version"]) or versions.floor(spec["version"]) or "1.0"
            channel = channels.name(spec.get("channel") or "conda-forge")
            if name in LINUX_RECORD_NAMES:
                out.append(self.torch_entry(name, version, platform, py, cuda, channel))
            elif name in ("pytorch-gpu", "pytorch-cpu"):
                out.append(self.made_up(name, version, "h0123456_0", "noarch", channel))
                if "pytorch" not in deps:
                    torch = OTHER_VERSIONS["pytorch"][">=2.8"]
                    out.append(self.torch_entry("pytorch", torch, platform, py, cuda, channel))
            else:
                out.append(self.made_up(name, version, "h0123456_0", platform.subdir, channel))
        if deps.get("pytorch", {}).get("channel") == "pytorch" and not platform.subdir.startswith("osx"):
            out.append(self.made_up("pytorch-mutex", "1.0", "cuda" if cuda else "cpu", "noarch", "pytorch"))
        for name, specs in ws.specs(env, platform, "constraints").items():
            version = OTHER_VERSIONS[name][specs[0]["version"]]
            out.append(self.made_up(name, version, "h0123456_0", platform.subdir))
        return out

    def document(self, ws, version=7):
        """Return a lock document holding every environment x platform of a workspace, all promises kept."""
        doc, names = {"version": version}, lock_names(ws)
        used = {p.name for env in ws.environments for p in ws.env_platforms(env)}
        if version >= 7:
            rows = []
            for platform in ws.platforms:
                if platform.name not in used:
                    continue
                row = {"name": names[platform.name]}
                if row["name"] != platform.subdir:
                    row["subdir"] = platform.subdir
                row["virtual-packages"] = [str(vp) for vp in platform.declared]
                rows.append(row)
            doc["platforms"] = sorted(rows, key=lambda r: r["name"])
        doc["environments"], packages = {}, {}
        for env in sorted(ws.environments):
            body = {"channels": [{"url": channels.base_url(c)} for c in ws.channels(env)], "packages": {}}
            for platform in ws.env_platforms(env):
                key = names[platform.name] if version >= 7 else platform.subdir
                entries = self.entries(ws, env, platform)
                body["packages"][key] = sorted(({"conda": e["conda"]} for e in entries), key=lambda r: r["conda"])
                packages.update({e["conda"]: e for e in entries})
            body["packages"] = dict(sorted(body["packages"].items()))
            doc["environments"][env] = body
        doc["packages"] = [packages[url] for url in sorted(packages)]
        return doc

    @staticmethod
    def replace(doc, env, platform, name, entry):
        """Return a copy of doc where `name` on one environment x lock platform is the given entry instead."""
        doc = copy.deepcopy(doc)
        kind = "conda" if "conda" in entry else "pypi"
        refs = doc["environments"][env]["packages"][platform]

        def named(ref):
            if "conda" in ref:
                return parse_conda_url(ref["conda"])["name"] == name
            return any(p.get("pypi") == ref["pypi"] and p.get("name") == name for p in doc["packages"])

        refs[:] = [r for r in refs if not named(r)] + [{kind: entry[kind]}]
        if entry[kind] not in [p.get(kind) for p in doc["packages"]]:
            doc["packages"].append(entry)
        return doc

    @staticmethod
    def write(doc, path):
        """Write a lock document as YAML (block lists unindented under their key, as serde_yaml writes them)."""
        path.write_text(dump(doc), encoding="utf-8")
        return path


class _NoAliasDumper(yaml.SafeDumper):
    """serde_yaml writes every node out in full: no anchors or aliases, even where PyYAML would share one object."""

    def ignore_aliases(self, data):
        return True


def dump(doc):
    """Return a lock document as YAML text the way pixi writes it (no aliases, keys in the given order)."""
    return yaml.dump(doc, Dumper=_NoAliasDumper, sort_keys=False)
