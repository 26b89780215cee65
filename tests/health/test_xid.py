"""Xid lines of each driver era (open-gpu-kernel-modules kernel_rc.c formats; the real lines the research notes
quote), mapped to the GPU and NVIDIA's catalog action; a kernel log that cannot be read is a SKIP saying why."""

import pytest

from checks.health import xid

# Real lines (research notes A.4), with the dmesg / journalctl prefixes they arrive with.
LINE_570 = "[ 8123.4] NVRM: Xid (PCI:0000:2b:00): 79, GPU has fallen off the bus."  # open-gpu-kernel-modules#1151
LINE_510 = (  # stas00/ml-engineering compute/accelerator/nvidia/debug.md:25
    "Jun  7 19:30:01 node7 kernel: NVRM: Xid (PCI:0000:10:1c): 63, pid=1896, Row Remapper: New row marked for "
    "remapping, reset gpu to activate."
)
LINE_MIG = (  # NVIDIA's error-containment example (kern_gpu_error_cont_ga100.c:334-340)
    "NVRM: Xid (PCI:0000:01:00 GPU-I:05): 94, pid=7194, Contained: CE User Channel (0x9). RST: No, D-RST: No"
)
LINE_95 = "NVRM: Xid (PCI:0000:01:00): 95, pid=7062, Uncontained: LTC TAG (0x2, 0x1). RST: Yes, D-RST: No"
LINE_OLD = "NVRM: Xid (0000:03:00): 14, Channel 00000001"  # NVIDIA's Xid document, pre-"PCI:" drivers
# 515-565 with no process known: the format string with its defaults (kernel_rc.c, tag 535.54.03), not a capture.
LINE_535 = "[ 77.0] NVRM: Xid (PCI:0000:3b:00): 48, pid='<unknown>', name=<unknown>, DBE (0x1,0x0)"

GPUS = [
    {"index": 0, "bus_id": "00000000:01:00.0"},
    {"index": 3, "bus_id": "00000000:3B:00.0"},
    {"index": 5, "bus_id": "00000000:2B:00.0"},
]


def test_every_driver_era_is_parsed():
    text = "\n".join([LINE_570, LINE_510, LINE_MIG, LINE_95, LINE_OLD, LINE_535, "[ 1.0] unrelated line"])
    events = xid.parse(text)
    assert [(e["pci"], e["xid"]) for e in events] == [
        ("0000:2b:00", 79),
        ("0000:10:1c", 63),
        ("0000:01:00", 94),
        ("0000:01:00", 95),
        ("0000:03:00", 14),
        ("0000:3b:00", 48),
    ]
    assert events[0]["text"] == "GPU has fallen off the bus."
    assert xid.pci_key("0000:3b:00") == xid.pci_key("00000000:3B:00.0") == (0, 0x3B, 0)


def log(*lines, source="dmesg"):
    return {"source": source, "text": "\n".join(lines)}


def test_a_fatal_xid_fails_naming_the_gpu_and_the_catalog_action():
    """Xid 79 (RESTART_BM, FATAL) on GPU 5: FAIL, the node line will pull GPU 5."""
    result = xid.check_xid(log(LINE_570, LINE_570), GPUS)
    assert result.status == "FAIL"
    assert "Xid 79 x2 on GPU 5 (0000:2b:00): GPU has fallen off the bus [RESTART_BM]" in result.summary
    assert "power-cycle" in result.hint
    assert result.data["by_gpu"] == {"5": "Xid 79 (GPU has fallen off the bus)"}


@pytest.mark.parametrize(
    "line, status, words",
    [
        (LINE_535, "FAIL", "WORKFLOW_XID_48"),
        (LINE_95, "FAIL", "RESET_GPU"),
        (LINE_MIG, "WARN", "RESTART_APP"),  # contained: restart the application
        (LINE_510, "WARN", "IGNORE"),  # 63: the catalog ignores it, DCGM warns (pending retirement)
        (LINE_OLD, "WARN", "unknown"),  # not in this catalog: look it up
        ("NVRM: Xid (PCI:0000:01:00): 13, pid=1, name=python, Graphics Exception", "PASS", "RESTART_APP"),
    ],
    ids=["535-xid48", "xid95", "mig-xid94", "510-xid63", "old-xid14", "xid13"],
)
def test_each_xid_is_judged_by_the_catalog(line, status, words):
    result = xid.check_xid(log(line), GPUS)
    assert result.status == status and words in result.summary


def test_no_xid_passes_and_says_how_far_back_it_looked():
    assert "in the kernel ring buffer" in xid.check_xid(log("[ 1.0] hello"), GPUS).summary
    result = xid.check_xid(log("kernel: hello", source="journalctl -k -b"), GPUS)
    assert result.status == "PASS" and "since boot" in result.summary


def fake_run(answers):
    def run(argv, timeout):
        return answers[argv[0]]

    return run


def test_an_unreadable_kernel_log_skips_with_the_reason_and_how_to_grant_it():
    """dmesg_restrict=1 (util-linux's exact message, exit 1) and journalctl without the adm group: SKIP."""
    answers = {
        "dmesg": (1, "dmesg: read kernel buffer failed: Operation not permitted\n"),
        "journalctl": (
            0,
            "Hint: You are currently not seeing messages from other users and the system.\n"
            "      Users in the 'systemd-journal' group can see all messages. Pass -q to\n"
            "      turn off this notice.\n"
            "No journal files were opened due to insufficient permissions.\n",
        ),
    }
    found = xid.read_kernel_log(run=fake_run(answers), which=lambda name: "/usr/bin/" + name)
    assert found["source"] is None
    assert found["errors"][0] == "dmesg: read kernel buffer failed: Operation not permitted (exit 1)"
    assert "not seeing messages from other users" in found["errors"][1]
    result = xid.check_xid(found, GPUS)
    assert result.status == "SKIP" and "Operation not permitted" in result.summary
    assert "sudo" in result.summary and "adm" in result.summary and "dmesg_restrict" in result.summary


def test_journalctl_is_the_fallback_and_missing_tools_are_named():
    answers = {"journalctl": (0, "Nov 14 07:00:14 h kernel: " + LINE_570.split("] ")[1] + "\n")}
    found = xid.read_kernel_log(run=fake_run(answers), which=lambda name: None if name == "dmesg" else name)
    assert found["source"] == "journalctl -k -b" and xid.parse(found["text"])[0]["xid"] == 79
    nothing = xid.read_kernel_log(run=fake_run({}), which=lambda name: None)
    assert nothing["errors"] == ["dmesg: not installed", "journalctl: not installed"]
