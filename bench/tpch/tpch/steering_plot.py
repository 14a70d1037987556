"""The two figures of every steering benchmark's report (bench/skew, bench/tpcds, bench/job),
drawn on bare matplotlib Figures (Agg canvas, no pyplot), as tpch/plot.py does:

  cumulative.png  cumulative workload time per online pass: stock, oracle, microlora
  speedups.png    per template, stock / steered (as each benchmark's goals measure it), the
                  oracle's speedup beside it
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


def cumulative(per_pass: Sequence[Mapping], path, workload: str) -> None:
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
    ax.set_title(f"{workload}, training templates: cumulative time", fontsize=11)
    figure.savefig(path, dpi=110, format="png")


def speedups(templates: Sequence[Mapping], path, workload: str, regression: float,
             ylabel: str = "speedup: stock / steered") -> None:
    """One column per template, sorted by speedup: steering's speedup over stock (log scale),
    marked training or held-out, the oracle's as a grey bar, and the regression line at
    1/`regression`. The width and the labels follow the number of templates."""
    rows = sorted((t for t in templates if t["speedup"] is not None), key=lambda t: t["speedup"])
    many = len(rows) > 40
    figure = Figure(figsize=(max(6.4, (0.16 if many else 0.5) * len(rows) + 2), 4.6), layout="constrained")
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
    ax.axhline(1 / regression, color="tab:red", linewidth=0.8, linestyle=":", label=f"1/{regression}: regression")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.tick_params(axis="y", which="both", labelsize=7)
    if many:
        ax.set_xticks(list(x), [t["template"] for t in rows], rotation=90, fontsize=6)
    else:
        ax.set_xticks(list(x), [t["template"] for t in rows], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.grid(True, axis="y", which="both", linewidth=0.4, alpha=0.5)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.set_title(f"{workload}: per-template speedup", fontsize=11)
    figure.savefig(path, dpi=110, format="png")
