"""Conda version order and version specs, as pixi (rattler) evaluates them.

`matches("3.11.5", "=3.11")` is True and `matches("3.11.5", "3.11")` is False: in a pixi `[dependencies]` table a
bare version means `==` (pixi parses it leniently and warns: crates/pixi_spec/src/toml.rs@v0.77.0:1485-1516), `=X`
and `X.*` mean "starts with X", `~=X` is a compatible release (crates/rattler_conda_types/src/version_spec/parse.rs
at rattler_conda_types-v0.49.0:33-57). PEP 440 specifiers of PyPI dependencies use the same operators and are
evaluated the same way, as pixi does for `requires-python` (crates/pixi_manifest/src/pyproject.rs@v0.77.0:304-317).

When py-rattler (`pip install py-rattler`, the library pixi's solver is built from) is importable, it decides.
Otherwise this module's own implementation of conda's VersionOrder (conda/models/version.py) decides; the tests
hold the two to the same answers over a table of real specs and versions (tests/workspace/test_versions.py), so a run
without py-rattler gives the same verdicts.
"""

import itertools
import re

# The well-kept implementation, imported on first use (a verify without a manifest never needs it); None where it is
# not installed (Python 3.8/3.9): the fallback below.
_UNLOADED = object()
_rattler = _UNLOADED


def _lib():
    """Return the py-rattler module, or None where it is not installed."""
    global _rattler
    if _rattler is _UNLOADED:
        try:
            import rattler
        except ImportError:
            rattler = None
        _rattler = rattler
    return _rattler


_COMPONENT = re.compile(r"([0-9]+|[*]+|[^0-9*]+)")
_OPERATORS = ("==", "!=", "<=", ">=", "~=", "<", ">", "=")


class SpecError(ValueError):
    """A version or version spec that conda's grammar does not accept."""


class Version:
    """A conda version: epoch, release components and local part, ordered as conda and rattler order them.

    `1.0.dev1 < 1.0a1 < 1.0 == 1.0.0 < 1.0.post1`; strings sort before numbers within a component, `dev` before
    every other string, `post` after everything. The local part (`+cu117`) is compared after the release.
    """

    __slots__ = ("text", "parts")

    def __init__(self, text):
        self.text = str(text).strip()
        version = self.text.lower()
        if not version or not re.fullmatch(r"[0-9a-z_.+!*-]+", version):
            raise SpecError("%r is not a conda version" % text)
        epoch, _, version = version.rpartition("!") if "!" in version else ("0", "", version)
        release, _, local = version.partition("+")
        if not epoch.isdigit() or not release:
            raise SpecError("%r is not a conda version" % text)
        self.parts = ([[int(epoch)]] + _split(release), _split(local) if local else [])

    def _cmp(self, other):
        for mine, theirs in zip(self.parts, other.parts):
            for a, b in itertools.zip_longest(mine, theirs, fillvalue=[0]):
                for x, y in itertools.zip_longest(a, b, fillvalue=0):
                    if x == y:
                        continue
                    if isinstance(x, str) != isinstance(y, str):
                        return -1 if isinstance(x, str) else 1
                    return -1 if x < y else 1
        return 0

    def __eq__(self, other):
        return self._cmp(other) == 0

    def __ne__(self, other):
        return self._cmp(other) != 0

    def __lt__(self, other):
        return self._cmp(other) < 0

    def __le__(self, other):
        return self._cmp(other) <= 0

    def __hash__(self):
        return hash(self.text)

    def starts_with(self, prefix):
        """Return True if this version begins with `prefix` (`1.2.3` starts with `1.2`, `1.0` with `1.0.0`).

        Mirrors rattler's `segments_starts_with` (crates/rattler_conda_types/src/version/mod.rs at
        rattler_conda_types-v0.49.0:539-598), applied to the epoch, the release and the local part.
        """
        (mine, mine_local), (theirs, their_local) = self.parts, prefix.parts
        return mine[0] == theirs[0] and _starts(mine[1:], theirs[1:]) and _starts(mine_local, their_local)

    def compatible_with(self, other):
        """Return True if this version is at least `other` and shares all but its last segment (`~=`)."""
        (mine, mine_local), (theirs, their_local) = self.parts, other.parts
        return (
            other <= self
            and mine[0] == theirs[0]
            and _starts(mine[1:], theirs[1:-1])
            and _starts(mine_local, their_local)
        )

    def __repr__(self):
        return "Version(%r)" % self.text


def _starts(segments, prefix):
    extra_left = False
    for left, right in itertools.zip_longest(segments, prefix):
        if right is None:
            return True  # more segments after the prefix
        if left is None:
            if all(c == 0 for c in right):
                continue  # implicit zeros
            return False
        if extra_left:
            return False  # `1.1c.1` does not start with `1.1.1`
        for a, b in itertools.zip_longest(left, right):
            if b is None:
                extra_left = True  # `1.0.1c` starts with `1.0.1`, if nothing follows in the prefix
                break
            if a is None:
                if b == 0:
                    continue
                return False
            if a != b:
                return False
    return True


def _split(text):
    """Split `1.1dev1_2` into [[1], [1, 'DEV', 1], [2]] as conda does ('_' and '-' separate like '.')."""
    out = []
    for piece in re.split(r"[._-]", text):
        runs = _COMPONENT.findall(piece)
        if not runs:
            raise SpecError("empty version component in %r" % text)
        comp = []
        for run in runs:
            if run.isdigit():
                comp.append(int(run))
            elif run == "post":
                comp.append(float("inf"))
            elif run == "dev":
                comp.append("DEV")  # upper case sorts before every lower-case string
            else:
                comp.append(run)
        if not isinstance(comp[0], int):
            comp.insert(0, 0)  # `a1` is `0a1`, `post1` is `0post1`
        out.append(comp)
    return out


def _constraint(text, strict):
    """Return a predicate for one constraint such as `>=1.21`, `3.10.*`, `=3.11`, `~=2.1`, `*`."""
    text = text.strip()
    if text in ("*", ""):
        return lambda v: True
    op = next((o for o in _OPERATORS if text.startswith(o)), "")
    target = text[len(op) :].strip()
    if not target:
        raise SpecError("%r has an operator but no version" % text)
    if "**" in target:
        raise SpecError("regex constraints are not supported: %r" % text)
    glob = target.endswith("*")
    if glob:
        target = target.rstrip("*").rstrip(".")
        if not target:
            return lambda v: op != "!="
        if op in (">=", ">", "<=", "<", "~=", "=="):
            if strict and op != "==":
                raise SpecError("'*' is incompatible with %r" % op)
            glob = False  # lenient: `>=3.1*` is `>=3.1`, and `==3.12.*` is `==3.12`, as rattler reads them
    want = Version(target)
    if glob or op == "=":
        return (lambda v: not v.starts_with(want)) if op == "!=" else (lambda v: v.starts_with(want))
    if not op:
        if strict:
            raise SpecError("missing range specifier for %r" % target)
        op = "=="
    if op == "~=":
        return lambda v: want <= v and v.compatible_with(want)
    return {
        "==": lambda v: v == want,
        "!=": lambda v: v != want,
        "<=": lambda v: v <= want,
        ">=": lambda v: want <= v,
        "<": lambda v: v < want,
        ">": lambda v: want < v,
    }[op]


def _parse(spec, strict):
    """Parse `a,b|c` (`,` binds tighter than `|`, parentheses group) into a predicate."""
    tokens = re.findall(r"\(|\)|\||,|[^(),|]+", spec)
    pos = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else None

    def take():
        pos[0] += 1
        return tokens[pos[0] - 1]

    def atom():
        if peek() == "(":
            take()
            inner = any_of()
            if take() != ")":
                raise SpecError("unbalanced parentheses in %r" % spec)
            return inner
        if peek() in (None, "|", ",", ")"):
            if len(tokens) > 1:
                raise SpecError("empty constraint in %r" % spec)
            return _constraint("", strict)
        return _constraint(take(), strict)

    def all_of():
        parts = [atom()]
        while peek() == ",":
            take()
            parts.append(atom())
        return lambda v: all(p(v) for p in parts)

    def any_of():
        parts = [all_of()]
        while peek() == "|":
            take()
            parts.append(all_of())
        return lambda v: any(p(v) for p in parts)

    predicate = any_of()
    if pos[0] != len(tokens):
        raise SpecError("cannot parse version spec %r" % spec)
    return predicate


def release(version):
    """Return a version without its local part: `2.0.1+cu117` -> `2.0.1` (pip wheels carry the flavour there)."""
    return str(version).split("+")[0].strip()


def matches(version, spec, strict=False, pypi=False):
    """Return True if conda version `version` satisfies version spec `spec` (None or `*` match everything).

    Raises SpecError for a spec or version conda's grammar rejects (`strict=True`: a bare version without an
    operator is rejected too, as rattler's strict parser does). pypi=True: a PEP 440 specifier of a PyPI dependency,
    evaluated by `packaging` when installed (pre-releases included, as a lock may hold one), else as conda would.
    """
    if spec is None or str(spec).strip() in ("", "*"):
        return True
    spec, version = str(spec).strip(), str(version).strip()
    specifier = _pypi_specifier(spec) if pypi else None
    if specifier is not None:
        from packaging.version import InvalidVersion

        try:
            return specifier.contains(version, prereleases=True)
        except InvalidVersion as exc:
            raise SpecError(str(exc)) from None
    if _lib() is not None:
        try:
            return _rattler.VersionSpec(spec, strict=strict).matches(_rattler.Version(version))
        except Exception as exc:  # rattler's parse errors are plain exceptions with rattler's message
            raise SpecError(str(exc)) from None
    return _parse(spec, strict)(Version(version))


def _pypi_specifier(text):
    """Return `packaging`'s SpecifierSet of a PEP 440 spec, None where packaging is not installed; SpecError with
    packaging's words when the spec does not parse."""
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
    except ImportError:
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier as exc:
        raise SpecError(str(exc)) from None


def check_spec(spec, pypi=False):
    """Raise SpecError with the parser's words if pixi could not parse a version spec; `*` is any version.

    conda (pypi=False): rattler's VersionSpec when py-rattler is installed, else this module's grammar, which refuses
    what rattler refuses among everyday typos (`>=1.21,,<2`, `11.8.**`, an empty spec). PyPI: PEP 440 through
    `packaging` when installed (pixi parses PyPI specs with uv's PEP 440 parser), else the conda grammar.
    """
    text = str(spec)
    if text.strip() == "*":
        return
    if not text.strip():
        raise SpecError("empty version spec (`*` means any version)")
    if pypi and _pypi_specifier(text) is not None:
        return
    if not pypi and _lib() is not None:
        try:
            _rattler.VersionSpec(text.strip(), strict=False)
        except Exception as exc:  # rattler's parse errors are plain exceptions with rattler's message
            raise SpecError(str(exc)) from None
        return
    _parse(text.strip(), False)


def check_version(version):
    """Raise SpecError if `version` is not a conda version (rattler's words when py-rattler is installed)."""
    if _lib() is not None:
        try:
            _rattler.Version(str(version))
        except Exception as exc:
            raise SpecError(str(exc)) from None
        return
    Version(version)


def compare(a, b):
    """Return -1, 0 or 1 as conda orders versions a and b; SpecError if either is not a conda version."""
    if _lib() is not None:
        try:
            va, vb = _rattler.Version(str(a)), _rattler.Version(str(b))
        except Exception as exc:  # rattler's InvalidVersionError: a plain exception with rattler's message
            raise SpecError(str(exc)) from None
        return (va > vb) - (va < vb)
    return Version(a)._cmp(Version(b))


def floor(spec):
    """Return the release a version spec promises, read by its operators, or None when it names none.

    `11.8.*` -> `11.8`, `>=12.8,<13` -> `12.8`, `=2.0` -> `2.0`, `~=2.0.1` -> `2.0.1`: the lowest version the spec
    admits. A spec with an upper bound only promises the releases below it: `<13` -> `12` (CUDA 12.x, not 13),
    `<2.1` -> `2.0`, `<=12.4` -> `12.4`, `<13.0a0` -> `12`. Each operator means what conda's grammar says it means
    (crates/rattler_conda_types/src/version_spec/parse.rs at rattler_conda_types-v0.49.0:33-57; PEP 440's operators
    are the same for these). `!=` promises nothing; of `a|b` the lower promise; a candidate the spec does not admit
    (`>=13,<12`) is None. Works on specs pixi would reject (`>=1.21,,<2`) without raising: the manifest reader
    reports those.
    """
    text = re.sub(r"\s+", "", str(spec or ""))
    found = []
    for branch in re.split(r"\|", text.replace("(", "").replace(")", "")):
        lows, highs, strict_low = [], [], False
        for clause in branch.split(","):
            op = next((o for o in _OPERATORS if clause.startswith(o)), "")
            number = re.match(r"\d+(?:\.\d+)*", clause[len(op) :])
            if not number or op == "!=":
                continue
            if op in ("<", "<="):
                highs.append((op, number.group()))
            else:
                lows.append(number.group())
                strict_low = strict_low or op == ">"
        if lows:
            candidate = max(lows, key=_numbers)
        elif highs:
            op, bound = min(highs, key=lambda h: (_numbers(h[1]), h[0] == "<="))
            candidate = bound if op == "<=" else _below(bound)
        else:
            continue
        if candidate is not None and (strict_low or _admits(candidate, branch)):
            found.append(candidate)
    return min(found, key=_numbers) if found else None


def _numbers(version):
    return tuple(int(p) for p in version.split("."))


def _below(version):
    """Return the highest release below `version` at its precision: `13` -> `12`, `12.4` -> `12.3`, `12.0` -> `11`."""
    parts = list(_numbers(version))
    while parts and parts[-1] == 0:
        parts.pop()
    if not parts:
        return None
    parts[-1] -= 1
    return ".".join(map(str, parts))


def _admits(version, branch):
    """Return True if a branch of a spec admits a version (or cannot be parsed: the reader reports that)."""
    try:
        return matches(version, branch.replace(",,", ",").strip(","))
    except SpecError:
        return True


def key(version):
    """Return the leading numeric components of a version: `2.0.1+cu117` -> (2, 0, 1); `11.8` -> (11, 8)."""
    parts = []
    for piece in release(version).split("."):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def minor(version):
    """Return (major, minor) of a version string, zero-filled."""
    return (key(version) + (0, 0))[:2]


def pep440(spec):
    """Write a conda version spec as a PEP 440 specifier for pip: `3.10.*` -> `==3.10.*`, `=1.2` -> `==1.2.*`,
    a bare `2.0.1` (`==` in pixi) -> `==2.0.1`, `*` -> `` (any version)."""
    out = []
    for clause in (c.strip() for c in str(spec or "").replace(" ", "").split(",")):
        if not clause or clause == "*":
            continue
        if clause.startswith("=") and not clause.startswith("=="):  # conda `=1.2` means 1.2.*
            clause = "==" + (clause[1:] if clause.endswith(".*") else clause[1:] + ".*")
        out.append(clause if clause[0] in "<>=!~" else "==" + clause)
    return ",".join(out)


def backend():
    """Name the implementation in use, for reports: `py-rattler X` or `built-in`."""
    return "py-rattler %s" % getattr(_lib(), "__version__", "") if _lib() is not None else "built-in"
