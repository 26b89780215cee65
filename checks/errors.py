"""The real error in what a failed process printed, or in an exception: its type and message, without the
boilerplate PyTorch, CUDA, TorchDynamo and c10d append, and without cutting the sentence that names the cause.

Boilerplate, per release (strings read from the released wheels; the research notes list them):
- CUDA errors (c10/cuda/CUDAMiscFunctions.cpp, CUDAException.cpp): "CUDA kernel errors might be asynchronously
  reported ...", "For debugging consider passing CUDA_LAUNCH_BLOCKING=1[.]" (2.0-2.13), "Compile with
  `TORCH_USE_CUDA_DSA` to enable device-side assertions." (2.0-2.12), "Search for `cudaErrorX' in
  https://docs.nvidia.com/cuda/cuda-runtime-api/... for more information." (2.9+), "For more detailed error
  information, run with CUDA_LOG_FILE=stderr" (2.13).
- TorchDynamo (torch/_dynamo/exc.py, augment_exc_message): "Set torch._dynamo.config.verbose=True for more
  information" (2.0), 'Set TORCH_LOGS="+dynamo" and TORCHDYNAMO_VERBOSE=1 for more information' (2.1-2.6), "Set
  TORCHDYNAMO_VERBOSE=1 for the internal stack trace ..." (2.7+), and "You can suppress this exception and fall back
  to eager by setting:" with its two code lines (2.0-2.6).
- c10 source tags: "[../third_party/gloo/gloo/transport/tcp/pair.h:301] ", "[W socket.cpp:426] [c10d] ",
  "(Triggered internally at ../c10/cuda/CUDAFunctions.cpp:108.)", "NCCL error in: .../ProcessGroupNCCL.cpp:1691, ".
"""

import re
import signal

# Whole lines that carry no cause (matched after stripping; see the module docstring for their sources).
BOILERPLATE = re.compile(
    r"^(CUDA kernel errors might be asynchronously reported at some other API call"
    r"|For debugging consider passing CUDA_LAUNCH_BLOCKING=1"
    r"|Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions"
    r"|Search for `\w+' in https://docs\.nvidia\.com/cuda/"
    r"|For more detailed error information, run with CUDA_LOG_FILE=stderr"
    r"|Set torch\._dynamo\.config\.verbose=True for more information"
    r'|Set TORCH_LOGS="\+dynamo" and TORCHDYNAMO_VERBOSE=1 for more information'
    r"|Set TORCHDYNAMO_VERBOSE=1 for the internal stack trace"
    r"|You can suppress this exception and fall back to eager by setting:"
    r"|import torch\._dynamo$"
    r"|torch\._dynamo\.config\.suppress_errors = True"
    r"|To execute this test, run the following"
    r"|from user code:"
    r"|\^+$|~*\^+~*$)"
)
# The same texts inside one line (reporters and loggers flatten the message onto one line).
INLINE_BOILERPLATE = re.compile(
    r"\s*(CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might "
    r"be incorrect\.|For debugging consider passing CUDA_LAUNCH_BLOCKING=1\.?|Compile with `TORCH_USE_CUDA_DSA` to "
    r"enable device-side assertions\.|Search for `\w+' in \S+ for more information\.|For more detailed error "
    r"information, run with CUDA_LOG_FILE=stderr|Set TORCHDYNAMO_VERBOSE=1 for the internal stack trace \(please do "
    r"this especially if you're reporting a bug to PyTorch\)\. For even more developer context, set "
    r'TORCH_LOGS="\+dynamo"|Set TORCH_LOGS="\+dynamo" and TORCHDYNAMO_VERBOSE=1 for more information|'
    r"\(Triggered internally at [^)]*\)\.?)"
)
SOURCE_TAG = re.compile(r"\[(?:[WEIF]\d*\s[^\]]*|[^\]\s]*\.(?:cpp|cc|h|hpp|cu):\d+)\]\s*(?:\[c10d\]\s*)?")
NCCL_WHERE = re.compile(r"NCCL error in: \S+:\d+, ")
# An exception line: a dotted class name ending the way Python's and torch's exception classes end.
EXCEPTION_LINE = re.compile(
    r"^(?P<type>(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Failed|Interrupt|Fault|Warning))"
    r"(?::\s?(?P<message>.*))?$"
)
# Lines a native crash leaves (no Python traceback), most specific first.
NATIVE = (
    ("c++", re.compile(r"^\s*what\(\):\s*(?P<message>.+)$")),
    ("omp", re.compile(r"^(?P<message>OMP: Error #\d+: .+)$")),
    ("fatal", re.compile(r"^Fatal Python error: (?P<message>.+)$")),
    ("loader", re.compile(r"^(?P<message>Could not load (?:library|symbol) .+)$")),
    ("c++", re.compile(r"^(?P<message>terminate called .+)$")),
)
MAX_CHARS = 400

# Signals a crashed child dies of, and what each usually means for PyTorch.
SIGNAL_MEANING = {
    "SIGSEGV": "segmentation fault",
    "SIGABRT": "aborted",
    "SIGILL": "illegal instruction: a CPU instruction this processor lacks (AVX/AVX2 in a build for newer CPUs)",
    "SIGBUS": "bus error (often /dev/shm too small)",
    "SIGFPE": "arithmetic exception",
    "SIGKILL": "killed (the kernel's out-of-memory killer, or a job limit)",
    "SIGTERM": "terminated",
}
# Windows NTSTATUS exit codes of the same crashes (winnt.h).
WINDOWS_CRASH = {
    0xC0000005: ("ACCESS_VIOLATION", "segmentation fault"),
    0xC000001D: ("ILLEGAL_INSTRUCTION", SIGNAL_MEANING["SIGILL"]),
    0xC0000409: ("STACK_BUFFER_OVERRUN", "aborted (fail-fast)"),
    0xC0000135: ("DLL_NOT_FOUND", "a DLL that torch needs did not load"),
}


class Found:
    """The error found in a text: `kind` (python, c++, omp, fatal, loader, line, none), the exception `type` (or
    None), its `message` without boilerplate, and `line`, the two joined for a one-line summary."""

    def __init__(self, kind, type_, message):
        self.kind, self.type, self.message = kind, type_, condense(message)
        self.line = "%s: %s" % (self.type, self.message) if self.type and self.message else self.type or self.message

    def __repr__(self):
        return "Found(%r, %r)" % (self.kind, self.line)


def condense(message, limit=MAX_CHARS):
    """Return a message on one line without boilerplate, source tags or repeated sentences, at most `limit` chars.

    Every sentence that names a cause is kept (gloo, c10d and NCCL put it in the second one), so nothing is cut at
    the first full stop; a repeated sentence (the bind failure once for [::] and once for 0.0.0.0) is kept once.
    """
    lines = [line.strip() for line in str(message).splitlines()]
    text = " ".join(line for line in lines if line and not BOILERPLATE.match(line))
    text = NCCL_WHERE.sub("NCCL error: ", SOURCE_TAG.sub("", INLINE_BOILERPLATE.sub("", text)))
    text = re.sub(r"\s+", " ", text).strip()
    sentences, seen = [], set()
    for sentence in re.split(r"(?<=[.!])\s+(?=[A-Z\[(])", text):
        key = re.sub(r"\[[^\]]*\]|\d+\.\d+\.\d+\.\d+|::", "", sentence)  # the same failure on another address
        if key not in seen:
            seen.add(key)
            sentences.append(sentence)
    text = " ".join(sentences)
    if len(text) > limit:
        text = text[: limit - 3].rsplit(" ", 1)[0] + "..."
    return text


def _python_exception(lines):
    """Return Found for the last exception a Python traceback printed, or None."""
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last):")]
    if not starts:
        return None
    i = starts[-1] + 1
    while i < len(lines) and (not lines[i].strip() or lines[i][:1] in " \t"):
        i += 1  # the frames: indented lines
    if i >= len(lines):
        return None
    match = EXCEPTION_LINE.match(lines[i].rstrip())
    if not match:
        return Found("python", None, lines[i])
    body = [match.group("message") or ""]
    for line in lines[i + 1 :]:
        if line.startswith(("During handling of the above exception", "The above exception was the direct cause")):
            break
        body.append(line)
    message = "\n".join(body)
    compiler = re.search(r"^.*\berror: .+$", message, re.MULTILINE) if "C++ compile error" in message else None
    if compiler:  # CppCompileError: the compiler's first error line, not its command line
        message = message[: message.index("C++ compile error") + len("C++ compile error")] + " " + compiler.group()
    return Found("python", match.group("type"), message)


def extract(text):
    """Return the Found error in a process's output: the last Python exception, else a native crash's line
    (a C++ `what():`, OMP's error, `Fatal Python error:`, a loader failure), else the last line that says error,
    else the last non-boilerplate line (kind "line"), else Found("none", None, "no output")."""
    lines = str(text or "").splitlines()
    found = _python_exception(lines)
    if found is not None and found.message:
        # An exception re-raised with the original's traceback in its message (torch's ExceptionWrapper:
        # "Caught X in DataLoader worker process N.\nOriginal Traceback (most recent call last): ..."): the
        # original's own line is the real error.
        text = str(text)
        at = text.rfind("Traceback (most recent call last):")
        inner = text.rfind("Original Traceback (most recent call last):")
        if inner >= 0 and inner + len("Original ") == at:
            nested = extract(text[at + len("Traceback (most recent call last):") :])
            if nested.kind == "python" and nested.message:
                return nested
        return found
    for kind, pattern in NATIVE:
        for line in reversed(lines):
            match = pattern.match(line.strip() if kind != "c++" else line)
            if match:
                return Found(kind, None, match.group("message"))
    if found is not None:
        return found
    meaningful = [line for line in lines if line.strip() and not BOILERPLATE.match(line.strip())]
    for line in reversed(meaningful):
        match = EXCEPTION_LINE.match(line.strip())
        if match:
            return Found("python", match.group("type"), match.group("message") or "")
    for line in reversed(meaningful):
        if re.search(r"\berror\b", line, re.IGNORECASE):
            return Found("line", None, line)
    return Found("line", None, meaningful[-1]) if meaningful else Found("none", None, "no output")


def describe(exc):
    """Return `Type: message` of an exception, condensed (see condense)."""
    message = condense(exc)
    return "%s: %s" % (type(exc).__name__, message) if message else type(exc).__name__


def crash(returncode):
    """Return how a child ended abnormally, e.g. `killed by SIGSEGV (segmentation fault)`, or None for an exit.
    POSIX: subprocess gives a signal as a negative return code. Windows: the NTSTATUS codes of WINDOWS_CRASH."""
    if returncode is None or returncode == 0:
        return None
    if returncode < 0:
        number = -returncode
        try:
            name = signal.Signals(number).name
        except ValueError:
            return None
        return "killed by %s (%s)" % (name, SIGNAL_MEANING.get(name, "signal %d" % number))
    code = returncode & 0xFFFFFFFF
    if code in WINDOWS_CRASH:
        name, meaning = WINDOWS_CRASH[code]
        return "ended with 0x%08X %s (%s)" % (code, name, meaning)
    return None


def traceback_text(exc, frames=12):
    """Return an exception as Python prints it, with at most the last `frames` frames (their file names say which
    package and which copy raised it)."""
    import traceback

    lines = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-frames if frames else None)
    return "".join(lines)[-20000:]
