"""What bench's and dist's PNG charts share: importing matplotlib headless, and writing the PNG atomically."""

import os

NO_MATPLOTLIB = "chart: not written (matplotlib is not installed)"


def pyplot():
    """Return matplotlib.pyplot on the headless Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        return None
    return plt


def save(plt, fig, json_path):
    """Write fig to <json without .json>.png (readers see the old file or the new one); return a line saying where."""
    base = json_path[:-5] if json_path.endswith(".json") else json_path
    path = base + ".png"
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return "chart written to %s" % path
