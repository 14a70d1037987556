"""How well microlora predicts each TPC-H plan node's exclusive time, against two references.

The question the benchmark asks: does the online learner predict a node's exclusive time better
than the calibrated cost model it corrects (the *baseline*), and how much does it leave on the
table compared with an *offline* fit of the same form on the same inputs, made after the fact
with every training node at hand? The learner predicts work × exp(θ + x·w): the planner's cost
of the node scaled by a rate that is log-linear in its features. The offline reference is,
per scope, the least-squares fit of that same model, ln(execution ms / work) on the node's 16
features (the last one is the constant 1, so it carries the intercept), on the same training
nodes. It is the best this model does in hindsight, so "learned within 10% of offline" means the
online learner leaves little on the table, not that the problem is solved.

Each record is one executed plan node, as the driver writes it (one JSON object per line):

    {"stage": "train"|"test", "passes": int, "query": 1..22, "seed": int, "node_type": str,
     "scope": str, "category": str, "execution_ms": float, "baseline_ms": float,
     "predicted_ms": float, "work": float, "features": [16 floats]}

For train records `passes` is the training pass the node ran in (1..5); for test records it is
the number of training passes completed before that (frozen) evaluation.

Accuracy is the q-error max(predicted/actual, actual/predicted), summarised by its median and
90th percentile. report.json holds these keys (null wherever a figure does not exist, e.g. the
offline reference before any training):

    meta                    what the driver passed in (scale, seeds, passes, date, machine, ...)
    goals                   {"at_passes", "min_nodes", "learned_over_baseline_max",
                             "learned_over_offline_max"}
    checkpoints[]           one per training-pass count found among the test records, ascending
      passes                training passes completed before this evaluation
      training_queries      training query instances that had run by then
      test_queries          test query instances evaluated
      overall               stats
      by_category{name}     stats
      by_scope{name}        stats + "category" + "offline_fit" ("scope", "category", "pooled"
                            or null: which least-squares fit predicted this scope's nodes)
    learning_curve
      overall               {"passes": [], "training_queries": [], "baseline": [], "learned": [],
                             "offline": []}: median q-errors, one entry per checkpoint
      by_category{name}     the same, per category
    verdicts[]              {"goal", "subject" ("overall" or a scope), "nodes", "learned_median",
                             "reference_median", "ratio", "limit", "pass", "note"}
    all_goals_pass          every verdict passed

    stats = {"nodes": int, "baseline": q, "learned": q, "offline": q | null}
    q     = {"median": float, "p90": float}
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import plot

FLOOR_MS = 1e-3
"""Times below a microsecond are timer noise; flooring keeps q-errors and logs finite."""

LOG_MS_RANGE = (math.log(FLOOR_MS), math.log(1e7))
"""Offline predictions are clipped to 1 µs .. ~3 h so an extrapolating fit cannot overflow."""

RIDGE = 1e-3
"""Ridge penalty of the offline fit (see `fit_log_linear`)."""

MIN_FIT_ROWS = 20
"""Fewest training nodes a scope (or category) needs for a fit of its own (see `fit_offline`)."""

MIN_NODES = 30
"""Fewest test nodes a scope needs before the goals judge it; fewer make a median too noisy."""

GOAL_PASSES = 1
LEARNED_OVER_BASELINE_MAX = 0.5
LEARNED_OVER_OFFLINE_MAX = 1.10

PLOT_FILE = "learning_curve.png"


def q_error(predicted_ms, actual_ms):
    """max(p/a, a/p), elementwise; both sides floored at FLOOR_MS."""
    predicted = np.maximum(np.asarray(predicted_ms, dtype=float), FLOOR_MS)
    actual = np.maximum(np.asarray(actual_ms, dtype=float), FLOOR_MS)
    return np.maximum(predicted / actual, actual / predicted)


# --- The offline least-squares reference -------------------------------------------------------


def fit_log_linear(features, execution_ms, work) -> np.ndarray:
    """Coefficients of ln(execution ms / work) ≈ features · w (the learner's model, see above).

    Within one scope some features never vary or move together, which leaves plain least squares
    without a unique answer. A tiny ridge, applied by stacking sqrt(λ)·I under the design matrix,
    picks the smallest such answer; it penalises the intercept too, but against the 20 or more
    rows of any scope fit it is far too small to bias a well-determined fit.
    """
    x = np.asarray(features, dtype=float)
    y = np.log(np.maximum(np.asarray(execution_ms, dtype=float), FLOOR_MS) / np.asarray(work, dtype=float))
    width = x.shape[1]
    design = np.vstack([x, math.sqrt(RIDGE) * np.eye(width)])
    target = np.concatenate([y, np.zeros(width)])
    coefficients, *_ = np.linalg.lstsq(design, target, rcond=None)
    return coefficients


def predict_log_linear(coefficients, features, work) -> np.ndarray:
    """Predicted ms, work × exp(features · w), for each row, clipped to LOG_MS_RANGE in log space."""
    log_ms = np.asarray(features, dtype=float) @ coefficients + np.log(np.asarray(work, dtype=float))
    return np.exp(np.clip(log_ms, *LOG_MS_RANGE))


@dataclass(frozen=True)
class OfflineReference:
    """Least-squares fits per scope, per category and pooled; a node uses the most specific one."""

    scope_fits: Mapping[str, np.ndarray]
    category_fits: Mapping[str, np.ndarray]
    pooled_fit: np.ndarray | None

    def fit_for(self, scope: str, category: str) -> tuple[str | None, np.ndarray | None]:
        """(level, coefficients) used for a scope; (None, None) when nothing was trained."""
        if scope in self.scope_fits:
            return "scope", self.scope_fits[scope]
        if category in self.category_fits:
            return "category", self.category_fits[category]
        if self.pooled_fit is not None:
            return "pooled", self.pooled_fit
        return None, None

    def predict_ms(self, records: Sequence[Mapping]) -> np.ndarray:
        """Predicted ms per record, NaN where no fit exists."""
        predictions = np.full(len(records), np.nan)
        for (scope, category), rows in _group_rows(records, ("scope", "category")).items():
            _, coefficients = self.fit_for(scope, category)
            if coefficients is not None:
                features = [records[i]["features"] for i in rows]
                work = [records[i]["work"] for i in rows]
                predictions[rows] = predict_log_linear(coefficients, features, work)
        return predictions


def fit_offline(train_records: Sequence[Mapping], min_rows: int = MIN_FIT_ROWS) -> OfflineReference:
    """Fit the offline reference on training nodes.

    Sixteen coefficients from a handful of nodes would fit noise, so a scope with fewer than
    `min_rows` training nodes borrows the fit pooled over its category (its closest relatives),
    and a category that is itself too small borrows the fit pooled over every node. The pooled
    fit is kept at any size: it is the last resort, and the ridge keeps it defined.
    """
    return OfflineReference(
        scope_fits=_fits_by(train_records, "scope", min_rows),
        category_fits=_fits_by(train_records, "category", min_rows),
        pooled_fit=_fit_records(train_records) if train_records else None,
    )


def _fits_by(records: Sequence[Mapping], key: str, min_rows: int) -> dict[str, np.ndarray]:
    groups = _group_rows(records, (key,))
    return {
        name: _fit_records([records[i] for i in rows])
        for (name,), rows in groups.items()
        if len(rows) >= min_rows
    }


def _fit_records(records: Sequence[Mapping]) -> np.ndarray:
    return fit_log_linear([r["features"] for r in records], [r["execution_ms"] for r in records],
                          [r["work"] for r in records])


def _group_rows(records: Sequence[Mapping], keys: tuple[str, ...]) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = {}
    for i, record in enumerate(records):
        groups.setdefault(tuple(record[k] for k in keys), []).append(i)
    return groups


# --- Evaluation --------------------------------------------------------------------------------


def evaluate(records: Iterable[Mapping]) -> dict:
    """Accuracy at every test checkpoint, the learning curve and the goal verdicts.

    The layout is the one report.json documents in the module docstring (without "meta").
    """
    records = list(records)
    passes = sorted({r["passes"] for r in records if r["stage"] == "test"})
    checkpoints = [_checkpoint(records, p) for p in passes]
    verdicts = _verdicts(checkpoints)
    return {
        "goals": {
            "at_passes": GOAL_PASSES,
            "min_nodes": MIN_NODES,
            "learned_over_baseline_max": LEARNED_OVER_BASELINE_MAX,
            "learned_over_offline_max": LEARNED_OVER_OFFLINE_MAX,
        },
        "checkpoints": checkpoints,
        "learning_curve": _learning_curve(checkpoints),
        "verdicts": verdicts,
        "all_goals_pass": all(v["pass"] for v in verdicts),
    }


def _checkpoint(records: Sequence[Mapping], passes: int) -> dict:
    """Accuracy on the test nodes evaluated after `passes` training passes.

    The offline reference sees exactly the training nodes the learner had seen by then. Training
    queries are counted as instances that left nodes behind, since a query that failed or timed
    out taught the learner nothing; the pass is part of the key in case a seed recurs across
    passes.
    """
    train = [r for r in records if r["stage"] == "train" and r["passes"] <= passes]
    test = [r for r in records if r["stage"] == "test" and r["passes"] == passes]
    reference = fit_offline(train)
    actual = [r["execution_ms"] for r in test]
    errors = {
        "baseline": q_error([r["baseline_ms"] for r in test], actual),
        "learned": q_error([r["predicted_ms"] for r in test], actual),
        "offline": q_error(reference.predict_ms(test), actual),
    }
    return {
        "passes": passes,
        "training_queries": len({(r["passes"], r["query"], r["seed"]) for r in train}),
        "test_queries": len({(r["query"], r["seed"]) for r in test}),
        "overall": _stats(errors, list(range(len(test)))),
        "by_category": {
            name: _stats(errors, rows)
            for (name,), rows in sorted(_group_rows(test, ("category",)).items())
        },
        "by_scope": {
            scope: {
                **_stats(errors, rows),
                "category": category,
                "offline_fit": reference.fit_for(scope, category)[0],
            }
            for (scope, category), rows in sorted(_group_rows(test, ("scope", "category")).items())
        },
    }


def _stats(errors: Mapping[str, np.ndarray], rows: list[int]) -> dict:
    return {"nodes": len(rows), **{name: _summary(q[rows]) for name, q in errors.items()}}


def _summary(q: np.ndarray) -> dict | None:
    """Median and p90; None when any q-error is missing, so a partial set never poses as whole."""
    if q.size == 0 or not np.all(np.isfinite(q)):
        return None
    return {"median": float(np.median(q)), "p90": float(np.percentile(q, 90))}


def _learning_curve(checkpoints: Sequence[Mapping]) -> dict:
    categories = sorted({name for c in checkpoints for name in c["by_category"]})
    return {
        "overall": _curve(checkpoints, lambda c: c["overall"]),
        "by_category": {
            name: _curve(checkpoints, lambda c, name=name: c["by_category"].get(name))
            for name in categories
        },
    }


def _curve(checkpoints: Sequence[Mapping], stats_of: Callable[[Mapping], Mapping | None]) -> dict:
    curve: dict[str, list] = {
        "passes": [c["passes"] for c in checkpoints],
        "training_queries": [c["training_queries"] for c in checkpoints],
    }
    for predictor in ("baseline", "learned", "offline"):
        curve[predictor] = [_median(stats_of(c), predictor) for c in checkpoints]
    return curve


def _median(stats: Mapping | None, predictor: str) -> float | None:
    summary = stats.get(predictor) if stats else None
    return summary["median"] if summary else None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return None if numerator is None or denominator is None else numerator / denominator


# --- Goal verdicts -----------------------------------------------------------------------------

_GOALS = (
    (f"learned median <= {LEARNED_OVER_BASELINE_MAX:.2f} x baseline median", "baseline",
     LEARNED_OVER_BASELINE_MAX),
    (f"learned median <= {LEARNED_OVER_OFFLINE_MAX:.2f} x offline LS median", "offline",
     LEARNED_OVER_OFFLINE_MAX),
)


def _verdicts(checkpoints: Sequence[Mapping]) -> list[dict]:
    """Both goals after GOAL_PASSES passes, overall and for every scope with MIN_NODES test nodes.

    A missing checkpoint or reference is a failed goal with a note, never a silently absent one.
    """
    checkpoint = next((c for c in checkpoints if c["passes"] == GOAL_PASSES), None)
    if checkpoint is None:
        note = f"no test records after {_passes(GOAL_PASSES)} of training"
        return [_verdict(goal, "overall", None, ref, limit, note) for goal, ref, limit in _GOALS]
    judged = [(s, stats) for s, stats in checkpoint["by_scope"].items() if stats["nodes"] >= MIN_NODES]
    subjects = [("overall", checkpoint["overall"]), *judged]
    return [
        _verdict(goal, subject, stats, reference, limit)
        for goal, reference, limit in _GOALS
        for subject, stats in subjects
    ]


def _verdict(goal, subject, stats, reference, limit, note=None) -> dict:
    learned = _median(stats, "learned")
    baseline_or_offline = _median(stats, reference)
    ratio = _ratio(learned, baseline_or_offline)
    if ratio is None and note is None:
        note = f"no {reference} figure to compare with"
    return {
        "goal": goal,
        "subject": subject,
        "nodes": stats["nodes"] if stats else 0,
        "learned_median": learned,
        "reference_median": baseline_or_offline,
        "ratio": ratio,
        "limit": limit,
        "pass": ratio is not None and ratio <= limit,
        "note": note,
    }


# --- Markdown report ---------------------------------------------------------------------------


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence], align: str | None = None) -> str:
    """A GitHub markdown table; `align` has one of l/c/r per column (default: all left)."""
    rules = {"l": "---", "c": ":---:", "r": "---:"}
    align = align or "l" * len(headers)
    lines = [_table_row(headers), "|" + "|".join(rules[a] for a in align) + "|"]
    lines += [_table_row(row) for row in rows]
    return "\n".join(lines)


def _table_row(cells: Sequence) -> str:
    return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _passes(count: int) -> str:
    return f"{count} pass" if count == 1 else f"{count} passes"


def _med_p90(summary: Mapping | None) -> str:
    return "–" if summary is None else f"{_num(summary['median'])} / {_num(summary['p90'])}"


def render_markdown(
    result: Mapping, meta: Mapping, sections: Sequence[tuple[str, str]] = ()
) -> str:
    """The report as markdown; `sections` are (heading, markdown body) pairs appended at the end,
    where the driver puts what this module does not measure (e.g. overhead tables)."""
    parts = [
        _header(meta),
        _overall_section(result),
        _learning_curve_section(result),
        *_scope_sections(result),
        _verdict_section(result),
        *(f"## {heading}\n\n{body.strip()}" for heading, body in sections),
    ]
    return "\n\n".join(parts) + "\n"


def _header(meta: Mapping) -> str:
    title = "# TPC-H: per-node exclusive-time prediction, microlora vs. the calibrated cost model"
    facts = "\n".join(f"- **{key}**: {value}" for key, value in meta.items())
    explanation = (
        "Q-error = max(predicted/actual, actual/predicted) per executed plan node of held-out "
        "test queries (learning frozen), shown as median / 90th percentile. *Baseline*: node "
        "cost × learned ms-per-cost. *Learned*: baseline × exp(microlora correction). *Offline*: "
        "the learner's model fitted in hindsight: per-scope least squares of ln(ms / node cost) on "
        "the same 16 features, on all "
        "training nodes seen so far (category or pooled fit for scopes with fewer than "
        f"{MIN_FIT_ROWS} training nodes)."
    )
    return "\n\n".join(part for part in (title, facts, explanation) if part)


def _overall_section(result: Mapping) -> str:
    rows = [
        (
            c["passes"],
            c["training_queries"],
            c["overall"]["nodes"],
            _med_p90(c["overall"]["baseline"]),
            _med_p90(c["overall"]["learned"]),
            _med_p90(c["overall"]["offline"]),
        )
        for c in result["checkpoints"]
    ]
    headers = (
        "passes", "training queries", "test nodes",
        "baseline med / p90", "learned med / p90", "offline med / p90",
    )
    return "## Overall\n\n" + markdown_table(headers, rows, "rrrrrr")


def _learning_curve_section(result: Mapping) -> str:
    curves = result["learning_curve"]
    checkpoints = curves["overall"]["passes"]
    named = [("overall", curves["overall"]), *curves["by_category"].items()]
    rows = [
        (name, *(_curve_cell(curve, i) for i in range(len(checkpoints))))
        for name, curve in named
    ]
    headers = (
        "median q-error: baseline / learned / offline",
        *(f"after {_passes(p)}" for p in checkpoints),
    )
    table = markdown_table(headers, rows, "l" + "r" * len(checkpoints))
    return f"## Learning curve\n\n![learning curve]({PLOT_FILE})\n\n{table}"


def _curve_cell(curve: Mapping, i: int) -> str:
    return " / ".join(_num(curve[predictor][i]) for predictor in ("baseline", "learned", "offline"))


def _scope_sections(result: Mapping) -> list[str]:
    checkpoints = result["checkpoints"]
    if not checkpoints:
        return ["## Per scope\n\nNo test records."]
    wanted = dict.fromkeys((GOAL_PASSES, checkpoints[-1]["passes"]))
    by_passes = {c["passes"]: c for c in checkpoints}
    missing = "## Per scope after {}\n\nNo test records."
    return [_scope_section(by_passes[p]) if p in by_passes else missing.format(_passes(p)) for p in wanted]


def _scope_section(checkpoint: Mapping) -> str:
    rows = [
        (
            scope,
            stats["category"],
            stats["nodes"],
            _med_p90(stats["baseline"]),
            _med_p90(stats["learned"]),
            _med_p90(stats["offline"]),
            stats["offline_fit"] or "–",
            _num(_ratio(_median(stats, "learned"), _median(stats, "baseline"))),
        )
        for scope, stats in sorted(
            checkpoint["by_scope"].items(), key=lambda item: (item[1]["category"], item[0])
        )
    ]
    headers = (
        "scope", "category", "nodes", "baseline med / p90", "learned med / p90",
        "offline med / p90", "offline fit", "learned / baseline",
    )
    heading = (
        f"## Per scope after {_passes(checkpoint['passes'])} "
        f"({checkpoint['training_queries']} training queries)"
    )
    return (
        f"{heading}\n\n"
        + markdown_table(headers, rows, "llrrrrlr")
        + f"\n\nScopes with fewer than {MIN_NODES} test nodes are shown but not judged by the goals."
    )


def _verdict_section(result: Mapping) -> str:
    verdicts = result["verdicts"]
    rows = [
        (
            v["goal"], v["subject"], v["nodes"],
            _num(v["learned_median"]), _num(v["reference_median"]), _num(v["ratio"]), _num(v["limit"]),
            "PASS" if v["pass"] else "**FAIL**", v["note"] or "",
        )
        for v in verdicts
    ]
    headers = (
        "goal", "subject", "nodes", "learned median", "reference median",
        "ratio", "limit", "result", "note",
    )
    failed = sum(not v["pass"] for v in verdicts)
    summary = (
        "All goals met." if result["all_goals_pass"]
        else f"**{failed} of {len(verdicts)} goal checks failed.**"
    )
    return (
        f"## Goals after {_passes(GOAL_PASSES)} of training\n\n{summary}\n\n"
        + markdown_table(headers, rows, "llrrrrrll")
    )


def write_report(
    result: Mapping, meta: Mapping, out_dir, sections: Sequence[tuple[str, str]] = ()
) -> dict[str, Path]:
    """Write report.json, report.md and the learning-curve plot into out_dir; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "report.md", "plot": out / PLOT_FILE}
    document = {"meta": dict(meta), **result}
    paths["json"].write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    paths["markdown"].write_text(render_markdown(result, meta, sections))
    plot.learning_curve(result, paths["plot"])
    return paths
