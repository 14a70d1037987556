"""The report's two figures, drawn by the steering benchmarks' shared tpch/steering_plot.py:

  cumulative.png  cumulative workload time per online pass: stock, oracle, microlora
  speedups.png    per template, stock / steered as goals.py measures it, the oracle's beside it
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tpch import steering_plot
from tpch.steering_plot import CUMULATIVE_FILE, SPEEDUPS_FILE  # noqa: F401 (the report's file names)

from .goals import REGRESSION

WORKLOAD = "Skew workload"


def cumulative(per_pass: Sequence[Mapping], path) -> None:
    steering_plot.cumulative(per_pass, path, WORKLOAD)


def speedups(templates: Sequence[Mapping], path) -> None:
    steering_plot.speedups(templates, path, WORKLOAD, REGRESSION, "speedup: stock median / steered median")
