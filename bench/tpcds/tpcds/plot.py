"""The TPC-DS report's two figures, drawn on bare matplotlib Figures (Agg canvas, no pyplot), as
bench/tpch/tpch/plot.py does.

  cumulative.png  cumulative workload time per online pass: stock, oracle, microlora
  speedups.png    per template, stock median / steered median (training from the second run,
                  held-out once after training), the oracle's speedup beside it
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

CUMULATIVE_FILE = "cumulative.png"
SPEEDUPS_FILE = "speedups.png"

_SERIES = (
    ("cumulative_stock_s", "stock PostgreSQL", {"color": "tab:blue", "marker": "o"}),
    ("cumulative_oracle_s", "oracle (best arm per instance)", {"color": "tab:green", "marker": "s", "linestyle": "--"}),
    ("cumulative_steered_s", "microlora steering", {"color": "tab:orange", "marker": "o"}),
)
_SETS = (("training", {"color": "tab:blue", "marker": "o"}), ("held-out", {"color": "tab:red", "marker": "D"}))


def cumulative(per_pass: Sequence[Mapping], path) -> None:
    """Cumulative seconds of the training instances after each pass."""
    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = figure.subplots()
    x = [p["pass"] for p in per_pass]
    for key, label, style in _SERIES:
        ax.plot(x, [p[key] for p in per_pass], label=label, linewidth=1.6, markersize=5, **style)
    ax.set_xticks(x)
    ax.set_xlabel("online pass (every training instance once per pass)")
    ax.set_ylabel("cumulative workload time, s")
    ax.set_ylim(bottom=0)
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.legend(frameon=False)
    ax.set_title("TPC-DS, training templates: cumulative time", fontsize=11)
    figure.savefig(path, dpi=110, format="png")


def speedups(templates: Sequence[Mapping], path) -> None:
    """One column per template, sorted by speedup: steering's speedup over stock (log scale),
    marked training or held-out, and the oracle's as a grey bar."""
    rows = sorted((t for t in templates if t["speedup"] is not None), key=lambda t: t["speedup"])
    figure = Figure(figsize=(max(6.4, 0.16 * len(rows) + 2), 4.6), layout="constrained")
    ax = figure.subplots()
    x = range(len(rows))
    # Bars from 1, which a log axis can show.
    ax.bar(x, [(t["oracle_speedup"] or math.nan) - 1 for t in rows], bottom=1, color="0.85", width=0.6,
           label="oracle (arms matrix)")
    for group, style in _SETS:
        points = [(i, t["speedup"]) for i, t in enumerate(rows) if t["set"] == group]
        if points:
            ax.scatter(*zip(*points), label=f"microlora, {group}", zorder=3, s=36, **style)
    ax.axhline(1.0, color="0.3", linewidth=0.8)
    ax.axhline(1 / 1.1, color="tab:red", linewidth=0.8, linestyle=":", label="1/1.1: regression")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.tick_params(axis="y", which="both", labelsize=7)
    ax.set_xticks(list(x), [t["template"] for t in rows], rotation=90, fontsize=6)
    ax.set_ylabel("speedup: stock median / steered median")
    ax.grid(True, axis="y", which="both", linewidth=0.4, alpha=0.5)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.set_title("TPC-DS: per-template speedup", fontsize=11)
    figure.savefig(path, dpi=110, format="png")
