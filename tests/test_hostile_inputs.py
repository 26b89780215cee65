"""Property-based: manifests and locks with mutated types, truncations, injected bytes and Unicode never make checks
fail as if it had a bug.

Invariants over every generated input (hypothesis, seeded and bounded so a 2-core CI machine runs it in seconds):
- lock-audit exits 0, 1 or 2, never with an internal error, and no check inside it raises;
- every exit 2 names the file it refuses (the manifest or the lock);
- the workspace model verify and the nox sessions use (platforms, promises, expectations) raises nothing but usage
  errors on a manifest that loaded;
- each run stays within a time and memory bound (the inputs are small: a hostile input must not blow them up).
"""

import io
import json
import os
import time
import tracemalloc
from contextlib import redirect_stderr, redirect_stdout

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in pixi.toml's test feature; pip install it")
yaml = pytest.importorskip("yaml")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from lockdata import dump  # noqa: E402

from checks.__main__ import main  # noqa: E402
from checks.report import UsageError  # noqa: E402
from checks.workspace import manifest, promise  # noqa: E402

# Small valid inputs to mutate: the shapes of real workspaces (rich platforms, features, environments, PyPI torch).
MANIFEST = {
    "workspace": {
        "name": "w",
        "channels": ["conda-forge", {"channel": "pytorch", "priority": 1}],
        "platforms": ["linux-64", {"platform": "linux-64", "cuda": "12.0"}, "osx-arm64"],
        "requires-pixi": ">=0.77",
    },
    "dependencies": {"python": "3.11.*", "pytorch": {"version": ">=2.5", "channel": "conda-forge"}},
    "system-requirements": {},
    "tasks": {"train": "python train.py", "all": {"depends-on": ["train"], "description": "d"}},
    "feature": {
        "cuda": {
            "platforms": ["linux-64-cuda-12-0"],
            "dependencies": {"cuda-version": "<13", "pytorch-cuda": "12.1.*"},
            "target": {"linux-64": {"dependencies": {"numpy": ">=1.21,<2"}, "tasks": {"t": {"cmd": "x", "env": {}}}}},
        },
        "pip": {
            "pypi-dependencies": {"torch": {"version": "==2.5.1", "index": "https://download.pytorch.org/whl/cu124"}},
            "pypi-options": {"extra-index-urls": ["https://download.pytorch.org/whl/cpu"]},
        },
    },
    "environments": {
        "gpu": {"features": ["cuda"], "solve-group": "g"},
        "pip": ["pip", "default"],
        "bare": {"features": [], "no-default-feature": True},
    },
}
PYPROJECT = {
    "project": {
        "name": "p",
        "requires-python": ">=3.10",
        "dependencies": ["torch>=2.5; sys_platform == 'linux'", "numpy"],
        "optional-dependencies": {"test": ["pytest>=7"]},
    },
    "dependency-groups": {"dev": ["ruff", {"include-group": "test"}]},
    "tool": {"pixi": {"workspace": {"channels": ["conda-forge"], "platforms": ["linux-64", "osx-arm64"]}}},
}
CF = "https://conda.anaconda.org/conda-forge/"
LOCK = {
    "version": 7,
    "platforms": [
        {"name": "linux-64"},
        {"name": "p1", "subdir": "linux-64", "virtual-packages": ["__cuda=12.0", "__glibc=2.28"]},
        {"name": "osx-arm64"},
    ],
    "environments": {
        "default": {
            "channels": [{"url": CF}],
            "packages": {"linux-64": [{"conda": CF + "linux-64/pytorch-2.5.1-cuda120_mkl_py311h0_300.conda"}]},
        },
        "gpu": {
            "channels": [{"url": CF}],
            "indexes": ["https://pypi.org/simple"],
            "packages": {
                "p1": [
                    {"conda": CF + "linux-64/pytorch-2.5.1-cuda120_mkl_py311h0_300.conda"},
                    {"pypi": "https://files.pythonhosted.org/packages/torch-2.5.1-cp311-cp311-linux_x86_64.whl"},
                ]
            },
        },
    },
    "packages": [
        {"conda": CF + "linux-64/pytorch-2.5.1-cuda120_mkl_py311h0_300.conda", "depends": ["python >=3.11,<3.12"]},
        {
            "pypi": "https://files.pythonhosted.org/packages/torch-2.5.1-cp311-cp311-linux_x86_64.whl",
            "name": "torch",
            "version": "2.5.1",
            "requires_dist": ["nvidia-cuda-runtime-cu12==12.4.127"],
        },
    ],
}
SECONDS, PEAK_BYTES = 10.0, 256 * 1024 * 1024


def toml(value, key=None):
    """Write a document as TOML, every table inline under its root key (enough to carry any mutated value)."""
    if key is None:
        return "".join("%s = %s\n" % (json.dumps(k), toml(v, k)) for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[%s]" % ", ".join(toml(v, k) for k, v in enumerate(value))
    return "{%s}" % ", ".join("%s = %s" % (json.dumps(str(k)), toml(v, k)) for k, v in value.items())


def paths(value, here=()):
    """Every path into a nested document (dict keys and list indexes)."""
    yield here
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        yield from paths(v, here + (k,))


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
SCALARS = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    TEXT,
    st.sampled_from(["", "*", ">=1.21,,<2", "11.8.**", "linux-64", "default", "=>2", "\x1b[2J", "p1", "<13"]),
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8
)


@st.composite
def mutated(draw, document):
    """A copy of a document with 1-3 values replaced, deleted or given a new sibling, any type, any Unicode."""
    doc = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from([p for p in paths(doc) if p]))
        parent = doc
        for k in where[:-1]:
            parent = parent[k]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete":
            del parent[where[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(TEXT)] = draw(VALUES)
        else:
            parent[where[-1]] = draw(VALUES)
        if not any(p for p in paths(doc)):
            break
    return doc


@st.composite
def damaged(draw, text):
    """Text as bytes, then truncated, or with bytes or Unicode injected."""
    data = text.encode("utf-8")
    at = draw(st.integers(0, len(data)))
    how = draw(st.sampled_from(["truncate", "bytes", "unicode"]))
    if how == "truncate":
        return data[:at]
    if how == "bytes":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data[:at] + draw(st.text(min_size=1, max_size=4)).encode("utf-8", "surrogatepass") + data[at:]


def run_bounded(argv):
    """Run lock-audit in-process; return (exit code, stderr, report or None), asserting the time and memory bound."""
    out, err = io.StringIO(), io.StringIO()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(argv)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - start < SECONDS
    assert peak < PEAK_BYTES, "peak %d bytes" % peak
    return code, err.getvalue()


def check_invariants(tmp_path, manifest_bytes, lock_bytes, name="pixi.toml"):
    (tmp_path / name).write_bytes(manifest_bytes)
    (tmp_path / "pixi.lock").write_bytes(lock_bytes)
    report = tmp_path / "report.json"
    if report.exists():
        report.unlink()
    argv = ["lock-audit", str(tmp_path / "pixi.lock"), "--manifest", str(tmp_path / name), "--json", str(report)]
    code, err = run_bounded(argv)
    assert "internal error" not in err, err
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        assert str(tmp_path / name) in err or str(tmp_path / "pixi.lock") in err, err
    else:
        raised = [r for r in json.loads(report.read_text())["results"] if r["summary"].startswith("raised ")]
        assert not raised, raised
    exercise_model(str(tmp_path / name))


def exercise_model(path):
    """What verify and the nox sessions ask of a manifest that loads: platforms, promises, expectations."""
    try:
        ws = manifest.load(path)
    except UsageError:
        return
    host = promise.host_packages("12.4", None, "2.35", "5.15")
    for env in ws.environments:
        for platform in ws.env_platforms(env):
            promise.promise(ws, env, platform)
            try:
                promise.expect(ws, env, platform.subdir, host)
            except UsageError:
                pass
        ws.channels(env)
        ws.pypi_indexes(env)
    for subdir in ("linux-64", "osx-arm64"):
        promise.torch_environments(ws, subdir)
        promise.environments_with_kernels(ws, subdir, (9, 0))


COMMON = settings(
    max_examples=int(os.environ.get("CHECKS_FUZZ_EXAMPLES", "60")),  # more for a deep local run
    derandomize=True,  # the same examples on every run and machine: a failure reproduces
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize(("name", "document"), [("pixi.toml", MANIFEST), ("pyproject.toml", PYPROJECT)])
def test_the_seed_inputs_are_valid(tmp_path, name, document):
    """The unmutated manifests and lock read cleanly (exit 0 or 1: a verdict, not a refusal)."""
    (tmp_path / name).write_text(toml(document))
    (tmp_path / "pixi.lock").write_text(dump(LOCK))
    code, err = run_bounded(["lock-audit", str(tmp_path / "pixi.lock"), "--manifest", str(tmp_path / name)])
    assert code in (0, 1) and not err, err


@COMMON
@given(doc=mutated(MANIFEST))
def test_manifests_with_mutated_values(tmp_path, doc):
    check_invariants(tmp_path, toml(doc).encode("utf-8", "surrogatepass"), dump(LOCK).encode())


@COMMON
@given(doc=mutated(PYPROJECT))
def test_pyprojects_with_mutated_values(tmp_path, doc):
    check_invariants(tmp_path, toml(doc).encode("utf-8", "surrogatepass"), dump(LOCK).encode(), "pyproject.toml")


@COMMON
@given(doc=mutated(LOCK))
def test_locks_with_mutated_values(tmp_path, doc):
    check_invariants(
        tmp_path, toml(MANIFEST).encode(), yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", "surrogatepass")
    )


@COMMON
@given(data=st.data())
def test_damaged_bytes(tmp_path, data):
    which = data.draw(st.sampled_from(["manifest", "lock"]))
    manifest_bytes, lock_bytes = toml(MANIFEST).encode(), dump(LOCK).encode()
    if which == "manifest":
        manifest_bytes = data.draw(damaged(toml(MANIFEST)))
    else:
        lock_bytes = data.draw(damaged(dump(LOCK)))
    check_invariants(tmp_path, manifest_bytes, lock_bytes)
