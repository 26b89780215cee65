"""A PNG chart of a bench report: achieved vs peak per dtype, bandwidths, training throughput (needs matplotlib)."""

from checks import output


def _bars(results, prefixes, key="value", unit=None):
    """Return (label, value, peak, unit) for measured results whose name starts with one of the prefixes."""
    rows = [r for r in results if r["name"].startswith(prefixes) and r["status"] != "SKIP" and key in r["data"]]
    return [
        (r["name"], r["data"][key], r["data"].get("peak") if key == "value" else None, unit or r["data"]["unit"])
        for r in rows
    ]


def write_chart(document, json_path):
    """Write <json without .json>.png; return a line saying where, or why no chart was written."""
    plt = output.pyplot()
    if plt is None:
        return output.NO_MATPLOTLIB
    results = document["results"]
    panels = [
        ("matrix multiply (datasheet outlined)", _bars(results, ("matmul-",)), False),
        ("bandwidth (log scale)", _bars(results, ("copy-",)), True),
        ("training step time", _bars(results, ("gpt2-", "train-"), "ms_per_step", "ms/step"), False),
    ]
    panels = [panel for panel in panels if panel[1]]
    if not panels:
        return "chart: not written (no measurements)"
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.5), squeeze=False)
    for ax, (title, bars, log) in zip(axes[0], panels):
        labels = [b[0] for b in bars]
        ax.bar(labels, [b[1] for b in bars], color="tab:blue", label="measured")
        peaks = [b[2] or 0 for b in bars]
        if any(peaks):
            ax.bar(labels, peaks, fill=False, edgecolor="tab:red", label="datasheet")
        ax.set_title(title)
        ax.set_ylabel(" / ".join(sorted({b[3] for b in bars})))
        ax.tick_params(axis="x", rotation=60, labelsize=8)
        if log:
            ax.set_yscale("log")
        ax.legend()
    fig.suptitle("%s, %s" % (document["header"].get("device", "?"), document["header"].get("torch", "")))
    fig.tight_layout()
    return output.save_chart(plt, fig, json_path)
