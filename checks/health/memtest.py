"""The device memory test: fill most of the free memory with patterns, read it back and compare on the device,
bounded in time; a mismatch names the GPU and the offset into the test allocation where it was seen.

Every pattern is written over all chunks first and read back afterwards, so each word rests while the rest of
memory is written. Patterns: alternating bits both ways (0xAAAAAAAA, 0x55555555: every bit stores a 0 and a 1 next
to opposite neighbours), a seeded pseudo-random pattern (regenerated from its seed to compare, nothing kept on the
host), all ones and all zeros. The offset is into this process's allocation (a virtual address), not a physical row:
the GPU's own counters (the ECC, retired pages and remapped rows lines) say where the hardware saw an error.

`check_chunks` and `run` take any torch device, so the tests run them on CPU tensors with a fault injected.
"""

import time

from checks.health.lines import line, name
from checks.report import FAIL, PASS, SKIP

# (name, int32 value or None for the seeded pseudo-random pattern)
PATTERNS = (
    ("0xAAAAAAAA", -0x55555556),
    ("0x55555555", 0x55555555),
    ("seeded random", None),
    ("0xFFFFFFFF", -1),
    ("0x00000000", 0),
)
WORD = 4  # bytes of the int32 words written
SEED = 20240611
FREE_SHARE = 0.9  # of the free memory; the rest, less one chunk for the comparison, stays for the CUDA context


def _fill(torch, chunk, value, seed):
    if value is None:
        generator = torch.Generator(device=chunk.device)
        generator.manual_seed(seed)
        chunk.random_(-(2**31), 2**31 - 1, generator=generator)
    else:
        chunk.fill_(value)


def _compare(torch, chunk, value, seed, scratch):
    """Return (how many words differ, index of the first) for a chunk that should hold the pattern."""
    if value is None:
        expected = scratch[: chunk.numel()]
        _fill(torch, expected, None, seed)
        bad = chunk != expected
    else:
        bad = chunk != value
    count = int(bad.sum().item())
    return count, (int(bad.nonzero()[0].item()) if count else None)


def check_chunks(torch, chunks, scratch, deadline, clock=time.monotonic, after_write=None, patterns=PATTERNS):
    """Write each pattern over the chunks (until the deadline), read them back; return what was tested and every
    mismatch as {pattern, offset (bytes into the allocation), words}. `after_write(pattern_index, chunks)` runs
    between writing and reading (the tests corrupt a word there)."""
    starts, offset = [], 0
    for chunk in chunks:
        starts.append(offset)
        offset += chunk.numel() * WORD
    done = {"patterns": [], "bytes_moved": 0, "errors": [], "complete": True}
    for p, (label, value) in enumerate(patterns):
        written = 0
        for i, chunk in enumerate(chunks):
            if clock() > deadline:
                done["complete"] = False
                break
            _fill(torch, chunk, value, SEED + 1000003 * p + i)
            written += 1
        if after_write is not None:
            after_write(p, chunks[:written])
        for i in range(written):
            count, first = _compare(torch, chunks[i], value, SEED + 1000003 * p + i, scratch)
            if count:
                done["errors"].append({"pattern": label, "offset": starts[i] + first * WORD, "words": count})
        size = sum(c.numel() for c in chunks[:written]) * WORD
        done["bytes_moved"] += 2 * size
        done["patterns"].append({"pattern": label, "bytes": size})
        if written < len(chunks):
            break
    done["bytes"] = offset
    return done


def allocate(torch, device, budget, chunk_bytes):
    """Return int32 chunks of up to `chunk_bytes` totalling up to `budget` bytes; stops early when memory runs out."""
    chunks, left = [], budget
    while left >= WORD:
        words = min(chunk_bytes, left) // WORD
        try:
            chunks.append(torch.empty(words, dtype=torch.int32, device=device))
        except RuntimeError as exc:  # torch.cuda.OutOfMemoryError is a RuntimeError
            if "out of memory" not in str(exc).lower():
                raise
            break
        left -= words * WORD
    return chunks


def run(torch, device, seconds, budget=None, chunk_bytes=256 * 2**20, clock=time.monotonic, after_write=None):
    """Test `budget` bytes (default: 90 % of the free memory of a CUDA device, less one chunk) within `seconds`;
    return the figures: bytes, free, seconds, MB/s, patterns completed, errors."""
    start = clock()
    free = None
    if budget is None:
        torch.cuda.empty_cache()  # blocks the caching allocator holds (the matmul's) count as used
        free, _ = torch.cuda.mem_get_info(device)
        budget = int(free * FREE_SHARE) - chunk_bytes
    scratch = torch.empty(max(chunk_bytes // WORD, 1), dtype=torch.int32, device=device)
    chunks = allocate(torch, device, max(budget, 0), chunk_bytes)
    try:
        done = check_chunks(torch, chunks, scratch, start + seconds, clock, after_write)
    finally:
        del chunks, scratch
        if str(device).startswith("cuda"):
            torch.cuda.empty_cache()
    elapsed = max(clock() - start, 1e-9)
    done.update(free=free, seconds=round(elapsed, 3), mb_s=round(done["bytes_moved"] / elapsed / 1e6, 1))
    return done


def check_memtest(gpu, outcome, skipped=None):
    """The `gpuN-memtest` line: FAIL on any mismatch (or a CUDA error while testing), else what was covered."""
    if skipped:
        return skipped
    if outcome.get("error_in", "memtest") != "memtest":  # the matmuls raised first: gpuN-compute reports it
        return line(
            gpu, "memtest", SKIP, "not run: the matmuls failed first (see %s)" % name(gpu, "compute"), reason=""
        )
    if "out of memory" in (outcome.get("error") or "").lower() or (outcome.get("memtest") or {}).get("bytes") == 0:
        why = outcome.get("error") or "no free memory could be allocated"
        return line(gpu, "memtest", SKIP, "not run: not enough free memory (%s)" % why, reason="")
    if outcome.get("error"):
        return line(
            gpu,
            "memtest",
            FAIL,
            "the GPU failed while its memory was tested: %s" % outcome["error"],
            "the test runs",
            outcome["error"],
            "look for Xid errors (`sudo dmesg | grep -i xid`); drain the GPU and reset it (`sudo nvidia-smi -r -i %d`) "
            "or reboot, then rerun" % gpu["index"],
            reason="memory test: %s" % outcome["error"],
        )
    done = outcome["memtest"]
    gib = done["bytes"] / 2**30
    full = [p["pattern"] for p in done["patterns"] if p["bytes"] == done["bytes"]]
    covered = "%.1f GiB%s, %d of %d patterns over all of it" % (
        gib,
        " of %.1f GiB free" % (done["free"] / 2**30) if done.get("free") else "",
        len(full),
        len(PATTERNS),
    )
    figures = dict(gib=round(gib, 2), mb_s=done["mb_s"], patterns=done["patterns"], seconds=done["seconds"])
    if done["errors"]:
        first = done["errors"][0]
        words = sum(e["words"] for e in done["errors"])
        return line(
            gpu,
            "memtest",
            FAIL,
            "%d words read back wrong (%d places); first at about %.1f MiB into the test allocation, pattern %s "
            "(tested %s)" % (words, len(done["errors"]), first["offset"] / 2**20, first["pattern"], covered),
            "every word reads back as written",
            "%d words wrong" % words,
            "pull GPU %d: bad device memory; run NVIDIA's field diagnostic (or `dcgmi diag -r 3`) and contact the "
            "vendor" % gpu["index"],
            reason="memory test: %d words read back wrong" % words,
            errors=done["errors"][:20],
            **figures,
        )
    return line(
        gpu,
        "memtest",
        PASS,
        "%s read back intact in %.1f s (%.0f MB/s)%s"
        % (covered, done["seconds"], done["mb_s"], "" if done["complete"] else "; stopped at the time limit"),
        **figures,
    )
