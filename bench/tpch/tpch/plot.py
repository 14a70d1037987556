"""The learning-curve figure of the TPC-H report.

Drawn on a bare matplotlib Figure (Agg canvas) rather than through pyplot, so it needs no display
and leaves no global figure state behind in the driver.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter

_LINES = (
    ("baseline", "baseline (calibrated cost model)", {"color": "tab:blue", "marker": "o"}),
    ("learned", "learned (microlora)", {"color": "tab:orange", "marker": "o"}),
    ("offline", "offline least squares (reference)",
     {"color": "tab:green", "marker": "s", "linestyle": "--"}),
)
_COLUMNS = 4


def learning_curve(result: Mapping, path) -> None:
    """Median test q-error against training queries: overall, then one panel per category."""
    curves = result["learning_curve"]
    panels = [("overall", curves["overall"]), *curves["by_category"].items()]
    columns = min(_COLUMNS, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(3.2 * columns, 2.6 * rows + 0.9), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, (name, curve) in zip(axes, panels):
        _panel(ax, name, curve)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    figure.suptitle(
        "TPC-H held-out queries: median q-error of per-node exclusive time vs. training queries"
    )
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(_LINES), frameon=False)
    figure.savefig(path, dpi=110, format="png")


def _panel(ax, name: str, curve: Mapping) -> None:
    """One panel; checkpoints without a figure (the offline fit before training) are gaps."""
    x = curve["training_queries"]
    for key, label, style in _LINES:
        y = [math.nan if v is None else v for v in curve[key]]
        ax.plot(x, y, label=label, markersize=4, linewidth=1.4, **style)
    ax.axhline(1.0, color="0.6", linewidth=0.8, linestyle=":")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(LogFormatter())
    ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    ax.set_title(name, fontsize=10)
    ax.set_xlabel("training queries", fontsize=8)
    ax.set_ylabel("median q-error", fontsize=8)
    ax.tick_params(which="both", labelsize=7)
    ax.grid(True, which="major", linewidth=0.4, alpha=0.5)
