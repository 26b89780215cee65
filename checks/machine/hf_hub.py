"""The Hugging Face Hub as this machine meets it, read without huggingface_hub: where its cache is, which repositories
the project's code loads by id and whether each is cached, whether the Hub client is told to stay offline, and
whether the Hub's host answers.

The variables and their defaults are huggingface_hub's (huggingface_hub/constants.py): HF_HOME (default
$XDG_CACHE_HOME/huggingface, XDG_CACHE_HOME defaulting to ~/.cache); HF_HUB_CACHE, else the legacy
HUGGINGFACE_HUB_CACHE, else HF_HOME/hub; HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE true (1, ON, YES, TRUE); HF_ENDPOINT
(default https://huggingface.co). transformers reads TRANSFORMERS_CACHE too (transformers/utils/hub.py). A
repository's cache folder is `models--OWNER--NAME` (`datasets--`, `spaces--`; file_download.py repo_folder_name).
"""

import ast
import dataclasses
import hashlib
import os
import re
import socket
import threading
from typing import Optional, Tuple
from urllib.parse import urlsplit

ENDPOINT = "https://huggingface.co"
TRUE_VALUES = ("1", "ON", "YES", "TRUE")  # huggingface_hub's ENV_VARS_TRUE_VALUES
PROXIES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy")
# The calls that take a Hub repository id first (or as `repo_id` / `pretrained_model_name_or_path`): transformers',
# diffusers' and peft's from_pretrained, huggingface_hub's downloads, transformers' pipeline(model=...).
LOADERS = ("from_pretrained", "hf_hub_download", "snapshot_download", "pipeline")
LOADER_CALL = re.compile(rb"\b(?:%s)\s*\(" % b"|".join(name.encode() for name in LOADERS))  # else: not parsed
ID_KEYWORDS = ("pretrained_model_name_or_path", "repo_id", "model")
OWN_CACHE = ("cache_dir", "local_dir", "local_files_only")  # a call with its own cache or no download: not judged
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")
NOT_ID = re.compile(r"\.(py|txt|json|ya?ml|png|jpe?g|pt|pth|bin|ckpt|safetensors|csv|wav|mp3|onnx|npy|tar|gz|zip)$")
MAX_IDS = 20
MAX_BYTES = 256 << 10


@dataclasses.dataclass(frozen=True)
class HubId:
    """A Hub repository id the code names (`openai/clip-vit-large-patch14`) and where (`train_util.py:10`)."""

    repo: str
    where: str


def cache_folders(environ=None):
    """The folders the Hub's files are cached in, as huggingface_hub and transformers read their variables (module
    docstring); the first is huggingface_hub's own."""
    environ = os.environ if environ is None else environ
    home = environ.get("HF_HOME") or os.path.join(
        environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
    )
    hub = environ.get("HF_HUB_CACHE") or environ.get("HUGGINGFACE_HUB_CACHE") or os.path.join(home, "hub")
    folders = [os.path.expanduser(os.path.expandvars(hub))]
    if environ.get("TRANSFORMERS_CACHE"):
        folders.append(os.path.expanduser(environ["TRANSFORMERS_CACHE"]))
    return folders


def cached(repo, folders):
    """True when a cache folder in `folders` holds `repo` (a model, dataset or space)."""
    name = repo.replace("/", "--")
    kinds = ("models", "datasets", "spaces")
    return any(os.path.isdir(os.path.join(f, "%s--%s" % (kind, name))) for f in folders for kind in kinds)


def offline(environ=None):
    """The variable that tells the Hub client to stay offline ("HF_HUB_OFFLINE=1"), or None."""
    environ = os.environ if environ is None else environ
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if (environ.get(name) or "").upper() in TRUE_VALUES:
            return "%s=%s" % (name, environ[name])
    return None


def endpoint(environ=None):
    """(URL, host, port) of the Hub this machine's client talks to: HF_ENDPOINT, else huggingface.co."""
    url = ((os.environ if environ is None else environ).get("HF_ENDPOINT") or ENDPOINT).rstrip("/")
    parts = urlsplit(url if "//" in url else "https://" + url)
    try:
        port = parts.port
    except ValueError:  # a port out of range or not a number: the client fails on it too; ask the scheme's
        port = None
    return url, parts.hostname or "huggingface.co", port or (80 if parts.scheme == "http" else 443)


def proxy(environ=None):
    """The proxy variable set (its name), or None: with a proxy, a direct connection says nothing of the Hub's."""
    environ = os.environ if environ is None else environ
    return next((n for n in PROXIES if environ.get(n)), None)


def reach(host, port, timeout=3.0):
    """None when a TCP connection to host:port opens within `timeout` seconds (name lookup included; nothing is
    sent), else why not ("cannot resolve huggingface.co: ...", "no answer within 3 s", the connect error)."""
    answer = {}

    def attempt():
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            answer["error"] = "cannot resolve %s: %s" % (host, exc)
            return
        tried = infos[:4]
        for family, kind, proto, _, address in tried:  # each address its share, so a silent first one (an IPv6
            try:  # route that drops packets) leaves time for the next
                with socket.socket(family, kind, proto) as sock:
                    sock.settimeout(timeout / len(tried))
                    sock.connect(address)
                    answer["ok"] = True
                    return
            except OSError as exc:
                answer["error"] = "cannot connect to %s port %d: %s" % (address[0], port, exc.strerror or exc)

    thread = threading.Thread(target=attempt, name="reach-hub", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    if answer.get("ok"):
        return None
    if thread.is_alive():
        return "no answer from %s within %g s" % (host, timeout)
    return answer.get("error", "cannot connect to %s" % host)


_HANDED = {}  # _read_key(files, root) -> the ids another process of the same checks read (take)


def _read_key(files, root):
    """What one reading of repo_ids() depends on besides the files' text: the root and the file list, hashed."""
    joined = "\0".join([root] + list(files)).encode("utf-8", "surrogateescape")
    return hashlib.sha256(joined).hexdigest()


def hand_over(files, root):
    """repo_ids(files, root) as JSON-able data for take() in another process of the same checks: verify's parent
    reads the project's files while its worker imports torch, so the worker's project line need not parse them
    again after it."""
    return {"key": _read_key(files, root), "ids": [[i.repo, i.where] for i in repo_ids(files, root)]}


def take(data):
    """Keep the ids hand_over() read in the parent (data: its answer, from the parent's own pipe, never from a file
    of the project), for repo_ids() of the same files and root to return. Data of another shape keeps nothing."""
    _HANDED.clear()
    if not isinstance(data, dict) or not isinstance(data.get("key"), str) or not isinstance(data.get("ids"), list):
        return
    pairs = data["ids"]
    if all(isinstance(p, list) and len(p) == 2 and all(isinstance(t, str) for t in p) for p in pairs):
        _HANDED[data["key"]] = tuple(HubId(repo=r, where=w) for r, w in pairs[:MAX_IDS])


def repo_ids(files, root, limit=MAX_IDS):
    """The Hub repository ids the code in `files` (paths; the project's, read without running it) passes to a loader
    (LOADERS: first argument, or an ID_KEYWORDS keyword; _named). A string naming an existing path under `root` or
    the file's folder (or whose first part is a folder there), or ending in a file suffix, is not an id; a call
    given its own `cache_dir`/`local_dir` or `local_files_only` is not read. At most `limit`, in file order. The
    same files and root read by the parent (take) are not read again."""
    handed = _HANDED.get(_read_key(files, root))
    if handed is not None:
        return handed[:limit]
    found = []
    for path in files:
        try:
            with open(path, "rb") as handle:
                source = handle.read(MAX_BYTES + 1)
        except OSError:
            continue
        if len(source) > MAX_BYTES or not LOADER_CALL.search(source):
            continue
        try:
            tree = ast.parse(source, filename=path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        bases = (root, os.path.dirname(path))
        for text, line in sorted(_named(tree), key=lambda named: named[1]):
            if not REPO_ID.match(text) or NOT_ID.search(text.lower()) or text in {f.repo for f in found}:
                continue
            first = text.split("/")[0]
            if any(os.path.exists(os.path.join(b, text)) or os.path.isdir(os.path.join(b, first)) for b in bases):
                continue  # a path of this machine (`checkpoints/best` beside a `checkpoints/` folder)
            found.append(HubId(repo=text, where="%s:%d" % (os.path.relpath(path, root), line)))
            if len(found) >= limit:
                return tuple(found)
    return tuple(found)


def constant(node):
    """True for a string constant."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _named(tree):
    """(string, line) of the constants repo_ids() reads in a parsed file: a loader's id argument written as a
    string; a module-level constant the loader is passed, directly or through one assignment (`path = V2 if v2 else
    TOKENIZER_PATH`, then `from_pretrained(path)`); an argparse `default=` whose option the loader is passed
    (`add_argument("--vae", default=...)`, then `from_pretrained(args.vae)`)."""
    constants, defaults, flows = {}, [], []
    passed, attributes = set(), set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and constant(node.value):
            constants.update((t.id, (node.value.value, node.lineno)) for t in node.targets if isinstance(t, ast.Name))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets = {t.id for t in node.targets if isinstance(t, ast.Name)}
            flows.append((targets, {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}))
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in LOADERS and not any(k.arg in OWN_CACHE for k in node.keywords):
            given = node.args[:1] + [k.value for k in node.keywords if k.arg in ID_KEYWORDS]
            for value in given:
                if constant(value):
                    yield value.value, node.lineno
                elif isinstance(value, ast.Name):
                    passed.add(value.id)
                elif isinstance(value, ast.Attribute):
                    attributes.add(value.attr)
        elif name == "add_argument":
            default = next((k.value for k in node.keywords if k.arg == "default" and constant(k.value)), None)
            dest = next((k.value.value for k in node.keywords if k.arg == "dest" and constant(k.value)), None)
            option = next((a.value for a in node.args if constant(a) and a.value.startswith("--")), None)
            if default is not None and (dest or option):
                defaults.append(((dest or option[2:]).replace("-", "_"), default.value, node.lineno))
    reached = set(passed)
    for targets, used in flows:
        if targets & passed:
            reached |= used
    for name, (value, line) in constants.items():
        if name in reached:
            yield value, line
    for dest, value, line in defaults:
        if dest in attributes or dest in reached:
            yield value, line


@dataclasses.dataclass(frozen=True)
class Unreachable:
    """Hub repositories the code loads that are not cached here (`missing`, HubIds) while the Hub cannot be
    reached: `why` (reach()'s answer, or the offline variable), `endpoint` (URL), `offline` (the variable, or None)."""

    missing: Tuple[HubId, ...]
    why: str
    endpoint: str
    offline: Optional[str] = None


def blocked(environ=None, timeout=3.0):
    """Why this machine's Hub client cannot fetch: (why, endpoint URL, the offline variable or None), from the
    variable that keeps it offline, else (no proxy set) its endpoint not answering within `timeout` seconds (reach);
    None when it answers or a proxy decides."""
    url, host, port = endpoint(environ)
    stays = offline(environ)
    if stays:
        return stays, url, stays
    if proxy(environ):
        return None
    why = reach(host, port, timeout)
    return (why, url, None) if why else None


def unreachable(ids, environ=None, timeout=3.0):
    """Return Unreachable when some of `ids` (HubIds) is in no cache folder and the Hub client cannot fetch them
    (blocked); None otherwise (all cached, or the Hub answers, or a proxy decides)."""
    folders = cache_folders(environ)
    missing = tuple(i for i in ids if not cached(i.repo, folders))
    gap = blocked(environ, timeout) if missing else None
    if gap is None:
        return None
    why, url, stays = gap
    return Unreachable(missing=missing, why=why, endpoint=url, offline=stays)


def unreachable_fix(download=None, environ=None):
    """How to get what the code loads from the Hub when this machine cannot reach it: a mirror (HF_ENDPOINT), a
    proxy, or a download elsewhere (`download`: the command, e.g. `huggingface-cli download ORG/NAME`) copied into
    the cache folder (cache_folders()'s first), then HF_HUB_OFFLINE=1."""
    return (
        "point the Hub client at an endpoint this machine reaches (a mirror: `export "
        "HF_ENDPOINT=https://hf-mirror.com`) or through a proxy (`export HTTPS_PROXY=http://HOST:PORT`), or download "
        "it where the Hub is reachable (%s) and copy the cache folder (%s) here, then `export HF_HUB_OFFLINE=1`"
        % (download or "run the code once there", cache_folders(environ)[0])
    )
