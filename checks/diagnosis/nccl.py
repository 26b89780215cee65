"""NCCL's failures judged against the facts: two ranks on one GPU (NCCL's invalid usage), and the shared-memory
transport. NCCL reports a failed system call as `unhandled system error` (ncclSystemError) and names the call only
in its own warnings (`NCCL WARN ...`, which torch >= 2.0 quotes after `Last error:`). Its shared-memory transport
creates segments in /dev/shm (NCCL's src/transport/shm.cc through ncclShmOpen, src/misc/shmutils.cc: `Error while
creating shared memory segment <name> (size N)`, `Call to shm_open failed`), so a /dev/shm too small for them, or
one this user may not write, fails the communicator's set-up in exactly this way; NCCL's Troubleshooting guide
("Docker") runs containers with `--shm-size=1g` or `--ipc=host`, and Docker's default /dev/shm is 64 MiB."""

import re

from checks.diagnosis.model import Cause
from checks.machine import system as system_rules

# NCCL's words for its shared-memory segments (shmutils.cc, shm.h of NCCL 2.x)
NCCL_SHM = re.compile(r"shm_open failed|ncclShmOpen|creating shared memory segment|/dev/shm/nccl-|nccl-shm", re.I)
# NCCL's system-error class: torch's `NCCL error in: ..., unhandled system error` / `NCCL Error 2: unhandled system
# error` and NCCL 2.12+'s result name (nccl.h: ncclSystemError = 2)
NCCL_SYSTEM = re.compile(r"ncclSystemError|NCCL [Ee]rror 2\b|unhandled system error")
# NCCL's init.cc: `Duplicate GPU detected : rank %d and rank %d both on CUDA device %lx` (ncclInvalidUsage) when two
# ranks of one communicator on one host use the same GPU (same PCI bus id)
DUPLICATE_GPU = re.compile(r"Duplicate GPU detected : rank (\d+) and rank (\d+) both on CUDA device ([0-9a-fA-F]+)")
DOCKER_DEFAULT_SHM = 64 << 20  # Docker's default --shm-size (docker run reference)
FULL = 256 << 20  # less free than this in a large /dev/shm: NCCL's segments of a few nodes' GPUs no longer fit
DENIED = re.compile(r"Permission denied|EACCES", re.I)


def by_duplicate_gpu(parts, facts):
    """Two ranks of one NCCL communicator on the same GPU (DUPLICATE_GPU): each rank must select its own device
    before NCCL starts, and a host runs at most one rank per GPU. The fact: the ranks and the device NCCL names, and
    CUDA_VISIBLE_DEVICES where set (one GPU visible to every rank is the usual way there)."""
    found = DUPLICATE_GPU.search(parts.text)
    if found is None:
        return None
    visible = facts.variables.get("CUDA_VISIBLE_DEVICES")
    one = visible is not None and len([v for v in visible.split(",") if v.strip()]) == 1
    return Cause(
        meaning="ranks %s and %s of this job both use the GPU at PCI bus %s: NCCL needs one GPU per rank%s"
        % (
            found.group(1),
            found.group(2),
            found.group(3),
            " (CUDA_VISIBLE_DEVICES=%s shows one)" % visible if one else "",
        ),
        fix="select each rank's GPU before init_process_group: `torch.cuda.set_device(int(os.environ['LOCAL_RANK']))`"
        " (torchrun sets LOCAL_RANK), and start at most as many ranks per host as it has GPUs (--nproc-per-node)",
        fact="NCCL: rank %s and rank %s on device %s%s"
        % (found.group(1), found.group(2), found.group(3), "; CUDA_VISIBLE_DEVICES=%s" % visible if visible else ""),
    )


def by_nccl(parts, facts):
    """Rule 4e: NCCL's shared-memory segments could not be created: /dev/shm is smaller than NCCL's buffers need
        (the failure names NCCL's shared memory and /dev/shm is under checks/machine/system.py's SHM_ENOUGH, or it is a
        bare NCCL system error and /dev/shm is at most Docker's 64 MiB default), or this user may not create files there
        (NCCL's warning says Permission denied), or a large /dev/shm is full (ENOSPC with under FULL free: leftovers of
    ended jobs; NVIDIA/nccl#525). None otherwise."""
    duplicate = by_duplicate_gpu(parts, facts)
    if duplicate is not None:
        return duplicate
    text = parts.text
    named = NCCL_SHM.search(text) is not None
    if not named and NCCL_SYSTEM.search(text) is None:
        return None
    size = facts.system.shm_bytes
    if named and DENIED.search(text):
        return Cause(
            meaning="NCCL cannot create its shared-memory segments in /dev/shm: this user may not create files "
            "there (NCCL's warning: Permission denied)",
            fix="make /dev/shm writable for every user, as it is by default: `sudo chmod 1777 /dev/shm`; or run "
            "with NCCL_SHM_DISABLE=1 (slower: NCCL then goes through the network or P2P)",
            fact="NCCL's shm_open failed with Permission denied",
        )
    free = facts.system.shm_free_bytes
    if named and "ENOSPC" in parts.errno and size is not None and size >= system_rules.SHM_ENOUGH:
        if free is None or free >= FULL:
            return None
        return Cause(
            meaning="/dev/shm is full (%s free of %s): NCCL cannot create its shared-memory segments"
            % (system_rules.human_size(free), system_rules.human_size(size)),
            fix="remove what ended jobs left there (`ls -la /dev/shm`: nccl-* and torch_* files of processes that "
            "no longer run), or give /dev/shm more room",
            fact="/dev/shm %s free of %s" % (system_rules.human_size(free), system_rules.human_size(size)),
        )
    if size is None or size >= system_rules.SHM_ENOUGH or (not named and size > DOCKER_DEFAULT_SHM):
        return None
    return Cause(
        meaning="/dev/shm (%s, %s free) is too small for NCCL's shared-memory transport, whose buffers between "
        "the GPUs of a node live there; NCCL reports that as an unhandled system error"
        % (system_rules.human_size(size), system_rules.human_size(free)),
        fix="give the container more shared memory (`docker run --ipc=host` or `--shm-size=1g` and up; Kubernetes: "
        "an emptyDir with medium: Memory on /dev/shm), or run with NCCL_SHM_DISABLE=1 (slower)",
        fact="/dev/shm %s" % system_rules.human_size(size),
    )
