"""Print the CI job matrices derived from pixi.toml, as GitHub Actions outputs (`name=JSON` lines).

`verify`: one job per torch environment x platform, on a runner of that platform's OS; a CUDA platform is
installed on the GPU-less runner with CONDA_OVERRIDE_CUDA set to its declared CUDA version, a CPU one with it
empty. `tests`: one job per test environment x OS. Run `python tools/ci_matrix.py` to see them.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from checks.workspace import manifest, promise  # noqa: E402

# GitHub-hosted runners per conda subdir (macos-15-intel is the last Intel macOS image).
RUNNERS = {
    "linux-64": "ubuntu-latest",
    "win-64": "windows-latest",
    "osx-64": "macos-15-intel",
    "osx-arm64": "macos-latest",
}


def matrices(ws):
    """Return {"verify": [...], "tests": [...]} job entries for the workspace's environments."""
    torch_envs = {env for subdir in RUNNERS for env in promise.torch_environments(ws, subdir)}
    verify, tests = [], []
    for env in ws.environments:
        platforms = ws.env_platforms(env)
        is_test = any("pytest" in ws.specs(env, p) for p in platforms)
        for platform in platforms:
            entry = {"environment": env, "platform": platform.name, "os": RUNNERS[platform.subdir]}
            if env in torch_envs:
                cuda = platform.cuda if promise.promise(ws, env, platform).flavour == "cuda" else None
                verify.append(dict(entry, cuda=cuda or ""))
            elif is_test:
                tests.append(entry)
    return {"verify": verify, "tests": tests}


def main():
    """Print each matrix as a GitHub Actions output line."""
    data = manifest.load(manifest.find_manifest(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    for name, entries in matrices(data).items():
        print("%s=%s" % (name, json.dumps(entries, separators=(",", ":"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
