"""Build pixi.lock documents (v6 and v7) for the lock-audit tests from the real `pytorch` channel records.

Records of the legacy torch packages on linux-64 (pytorch, torchvision, torchaudio, pytorch-cuda) are taken
verbatim from ../shared/reference/pytorch-channel-linux-64-repodata.json. Packages that file does not hold
(python, numpy, mkl, the noarch pytorch-mutex, other subdirs, conda-forge's current pytorch) are made up
here, following the naming of the real builds (see pixi-and-pytorch.md section 3).
"""

import copy
import json

import yaml

from checks import manifest
from checks.lockfile import parse_conda_url

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
}
LINUX_RECORD_NAMES = ("pytorch", "torchvision", "torchaudio", "pytorch-cuda")


class LockBuilder:
    """Assemble lock documents whose records satisfy a manifest; tests then break them on purpose."""

    def __init__(self, repodata_path):
        with open(repodata_path, encoding="utf-8") as handle:
            self.repodata = json.load(handle)["packages"]

    def real(self, filename, channel="pytorch"):
        """Return the lock entry of a real `pytorch` channel linux-64 record, fields as rattler writes them."""
        r = self.repodata[filename]
        entry = {"conda": "%slinux-64/%s" % (CHANNEL % channel, filename)}
        for key in ("sha256", "md5", "depends", "constrains", "license", "license_family", "size", "timestamp"):
            if r.get(key) not in (None, []):
                entry[key] = r[key]
        return entry

    @staticmethod
    def made_up(name, version, build, subdir, channel="conda-forge", depends=()):
        """Return a lock entry for a package the reference file does not hold."""
        ext = ".conda" if channel == "conda-forge" else ".tar.bz2"
        entry = {"conda": "%s%s/%s-%s-%s%s" % (CHANNEL % channel, subdir, name, version, build, ext)}
        if depends:
            entry["depends"] = list(depends)
        return entry

    def torch_entry(self, name, version, platform, py, cuda, channel):
        """Return the lock entry a solve would pick for one torch package on a platform."""
        subdir, tag = platform["subdir"], py.replace(".", "")
        if channel == "pytorch":
            if name == "pytorch-cuda":
                builds = {"11.7": "h778d358_5", "11.8": "h7e8668a_5"}
                build = builds[cuda]
                filename = "pytorch-cuda-%s-%s.tar.bz2" % (cuda, build)
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
        build = (
            "%s_mkl_py%s_h0123456_300" % (flavour, tag)
            if name == "pytorch"
            else "%s_py%s_h0123456_0"
            % (
                flavour,
                tag,
            )
        )
        return self.made_up(name, version, build, subdir)

    def entries(self, data, env, platform):
        """Return lock entries satisfying every dependency and constraint of an environment on a platform."""
        deps = manifest.specs(data, env, platform)
        py = manifest.spec_floor(deps.get("python", {}).get("version")) or "3.12"
        flavour, cuda_spec = manifest.promised_build({name: spec["version"] for name, spec in deps.items()})
        cuda = manifest.spec_floor(cuda_spec) if flavour == "cuda" else None
        out = []
        for name, spec in deps.items():
            version = OTHER_VERSIONS.get(name, {}).get(spec["version"]) or manifest.spec_floor(spec["version"]) or "1.0"
            if name in LINUX_RECORD_NAMES:
                out.append(self.torch_entry(name, version, platform, py, cuda, spec["channel"] or "conda-forge"))
            else:
                channel = spec["channel"] or "conda-forge"
                out.append(self.made_up(name, version, "h0123456_0", platform["subdir"], channel))
        if deps.get("pytorch", {}).get("channel") == "pytorch" and not platform["subdir"].startswith("osx"):
            mutex = "cuda" if cuda else "cpu"
            out.append(self.made_up("pytorch-mutex", "1.0", mutex, "noarch", "pytorch"))
        for name, spec in manifest.specs(data, env, platform, "constraints").items():
            out.append(self.made_up(name, OTHER_VERSIONS[name][spec["version"]], "h0123456_0", platform["subdir"]))
        return out

    def document(self, data, version=7):
        """Return a lock document holding every environment x platform of a manifest, all promises kept."""
        doc = {"version": version}
        if version >= 7:
            doc["platforms"] = []
            for p in manifest.platforms(data):
                entry = {"name": p["name"], "subdir": p["subdir"]}
                if p["cuda"]:
                    entry["virtual-packages"] = ["__cuda=%s" % p["cuda"]]
                doc["platforms"].append(entry)
        doc["environments"], packages = {}, {}
        for env in manifest.environments(data):
            body = {"channels": [{"url": CHANNEL % c} for c in manifest.channels(data, env)], "packages": {}}
            for platform in manifest.env_platforms(data, env):
                key = platform["name"] if version >= 7 else platform["subdir"]
                entries = self.entries(data, env, platform)
                body["packages"][key] = [{"conda": e["conda"]} for e in entries]
                packages.update({e["conda"]: e for e in entries})
            doc["environments"][env] = body
        doc["packages"] = [packages[url] for url in sorted(packages)]
        return doc

    @staticmethod
    def replace(doc, env, platform, name, entry):
        """Return a copy of doc where `name` on one environment x platform is the given entry instead."""
        doc = copy.deepcopy(doc)
        refs = doc["environments"][env]["packages"][platform]
        refs[:] = [r for r in refs if parse_conda_url(r["conda"])["name"] != name] + [{"conda": entry["conda"]}]
        if entry["conda"] not in [p.get("conda") for p in doc["packages"]]:
            doc["packages"].append(entry)
        return doc

    @staticmethod
    def write(doc, path):
        """Write a lock document as YAML; return the path."""
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return path
