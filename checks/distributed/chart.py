"""A PNG chart of a dist report: all-reduce bus and algorithm bandwidth against message size (needs matplotlib)."""

from checks import output
from checks.distributed.measure import size_label


def write_chart(document, json_path):
    """Write <json without .json>.png; return a line saying where, or why no chart was written."""
    table = next((r["data"].get("table") for r in document["results"] if r["name"] == "busbw"), None)
    if not table:
        return "chart: not written (no bandwidth measured)"
    plt = output.pyplot()
    if plt is None:
        return output.NO_MATPLOTLIB
    sizes = [row["bytes"] for row in table]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(sizes, [row["busbw"] for row in table], marker="o", label="busbw (nccl-tests definition)")
    ax.plot(sizes, [row["algbw"] for row in table], marker=".", linestyle="--", label="algbw = bytes / time")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes)
    ax.set_xticklabels([size_label(n) for n in sizes], rotation=45, fontsize=8)
    ax.minorticks_off()
    ax.set_xlabel("message size (float32 all-reduce)")
    ax.set_ylabel("GB/s")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    header = document["header"]
    ax.set_title("%s, %s: %s" % (header.get("backend", "?"), header.get("world", "?"), header.get("torch", "")))
    fig.tight_layout()
    return output.save_chart(plt, fig, json_path)
