"""The TPC-DS benchmark's verdicts, computed from what the steer step recorded (steer.json):
pure functions of its dictionaries, so that tests can feed them made-up runs.

Figures, all over client-timed statement seconds (a timed-out run counts its seconds until the
timeout):

  * stock: the planner's own plans (steering off), measured in the same pass as steering;
  * oracle: the best arm per instance in the arms matrix;
  * per-template ratio: a training template's median steered seconds over its median stock
    seconds, over its runs from the second online pass on (each instance's second run on);
    a template is regressed when the ratio is above REGRESSION;
  * gain captured: over the training instances whose arms-matrix headroom (1 − oracle / default
    arm) is at least HEADROOM_MIN, (stock − steered) / (stock − oracle) in the last pass: 1 when
    steering runs the best arm everywhere, 0 when it gains nothing, negative when it loses;
  * cumulative: steered and stock seconds summed over every online pass, the first (where
    steering explores) included.
"""

from __future__ import annotations

import statistics

#: No training template's steered/stock ratio (from its second run) above this.
REGRESSION = 1.1
#: Instances whose arms matrix leaves at least this share of the default arm's time to gain are
#: where the gain captured is judged.
HEADROOM_MIN = 0.20
#: At least this share of the oracle's gain captured there (last pass).
GAIN_CAPTURED = 0.60
#: Last pass, training templates: steered total at most this share of stock's.
WARM_RATIO = 0.8
#: Held-out templates, after training: steered total at most this share of stock's.
HELD_OUT_RATIO = 0.9
#: The ratio's from_pass: each instance's second run on.
FROM_PASS = 2


def _verdict(met: bool | None) -> str:
    return "not judged" if met is None else ("met" if met else "not met")


def _goal(goal: str, figure: str, met: bool | None, judged: bool = True) -> dict:
    return {"goal": goal, "figure": figure, "verdict": _verdict(met) if judged else "–"}


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile of `values`, interpolated linearly between the sorted values (as
    numpy's default)."""
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _oracle_by_template(per_instance: dict) -> dict[str, dict]:
    grouped: dict[str, list[dict]] = {}
    for entry in per_instance.values():
        grouped.setdefault(entry["template"], []).append(entry)
    return {template: {"default_s": statistics.median(e["default_s"] for e in entries),
                       "oracle_s": statistics.median(e["oracle_s"] for e in entries),
                       "best_arms": sorted({e["best_arm"] for e in entries})}
            for template, entries in grouped.items()}


def headroom_instances(per_instance: dict, templates: list[str], share: float = HEADROOM_MIN) -> list[str]:
    """The instances of `templates` whose oracle is at least `share` below their default arm."""
    return sorted(key for key, e in per_instance.items() if e["template"] in templates
                  and e["default_s"] > 0 and 1 - e["oracle_s"] / e["default_s"] >= share)


def gain_captured(runs: list[dict], last_pass: int, per_instance: dict, keys: list[str]) -> dict:
    """Stock, steered and oracle seconds of the instances `keys` in pass `last_pass`, and the
    share of the oracle's gain steering captured (None when stock was no slower than the oracle)."""
    wanted = set(keys)
    totals = {"stock_s": 0.0, "steered_s": 0.0}
    for r in runs:
        if r["pass"] == last_pass and f"{r['template']}/{r['seed']}" in wanted:
            totals[f"{r['config']}_s"] += r["seconds"]
    oracle = sum(per_instance[k]["oracle_s"] for k in keys)
    possible = totals["stock_s"] - oracle
    share = (totals["stock_s"] - totals["steered_s"]) / possible if keys and possible > 0 else None
    return {"instances": len(keys), **totals, "oracle_s": oracle, "captured": share}


def without_failures(steer: dict) -> dict:
    """The online passes' totals over the training templates none of whose runs failed (in the
    arms matrix or online): timed-out runs count only their seconds until the timeout, which
    understates stock's time on the templates where it times out; these totals leave them out."""
    failed = {c["template"] for c in steer["matrix"]["cells"] if c["error"]}
    failed |= {r["template"] for r in steer["online"]["runs"] if r["error"]}
    kept = [t for t in steer["split"]["training"] if t not in failed]
    runs = [r for r in steer["online"]["runs"] if r["template"] in kept]
    last = max((r["pass"] for r in runs), default=0)

    def total(config, only_last):
        return sum(r["seconds"] for r in runs if r["config"] == config and (r["pass"] == last or not only_last))
    per_instance = steer["matrix_summary"]["per_instance"]
    gain = gain_captured(runs, last, per_instance, headroom_instances(per_instance, kept))
    return {"left_out": sorted(failed & set(steer["split"]["training"])), "templates": len(kept), "gain": gain,
            "last_pass": {"stock_s": total("stock", True), "steered_s": total("steered", True)},
            "cumulative": {"stock_s": total("stock", False), "steered_s": total("steered", False)}}


def evaluate(steer: dict) -> dict:
    """The goals table, the per-pass figures with the oracle beside them, and the per-template
    ratios, from one steer step's record."""
    training, held_out = steer["split"]["training"], steer["split"]["held_out"]
    matrix = steer["matrix_summary"]
    per_instance = matrix["per_instance"]
    oracle_training = sum(e["oracle_s"] for e in per_instance.values() if e["template"] in training)
    oracle_held_out = sum(e["oracle_s"] for e in per_instance.values() if e["template"] in held_out)
    online = steer["online_summary"]
    passes = online["per_pass"]
    last = passes[-1]
    warm_ratio = last["steered_s"] / last["stock_s"] if last["stock_s"] else None
    keys = headroom_instances(per_instance, training)
    gain = gain_captured(steer["online"]["runs"], last["pass"], per_instance, keys)
    ratios = online["template_ratios"] if len(passes) >= FROM_PASS else {}
    regressions = {t: r for t, r in ratios.items() if r > REGRESSION}
    held = steer["held_out_summary"]["per_pass"][0] if steer["held_out_summary"]["per_pass"] else None
    held_ratio = held["steered_s"] / held["stock_s"] if held and held["stock_s"] else None
    cumulative_ratio = last["cumulative_steered_s"] / last["cumulative_stock_s"] if last["cumulative_stock_s"] else None
    distribution = ({"median": statistics.median(ratios.values()), "p95": percentile(list(ratios.values()), 0.95),
                     "max": max(ratios.values())} if ratios else None)

    def ratio(value):
        return "–" if value is None else f"{value:.3f}"

    goals = [
        _goal(f"no training template slower than {REGRESSION}× stock (median from its second run)",
              "–" if not ratios else
              f"{len(regressions)} of {len(ratios)} above" + (": " + ", ".join(
                  f"{t} {r:.2f}" for t, r in sorted(regressions.items(), key=lambda kv: -kv[1])) if regressions else ""),
              None if not ratios else not regressions),
        _goal(f"≥ {GAIN_CAPTURED:.0%} of the oracle's gain captured where the arms matrix shows ≥ {HEADROOM_MIN:.0%} "
              "headroom (training, last pass)",
              f"– ({gain['instances']} instances with that headroom; stock no slower than the oracle there)"
              if gain["captured"] is None else
              f"{gain['captured']:.1%} over {gain['instances']} instances (stock {gain['stock_s']:.2f} s, steered "
              f"{gain['steered_s']:.2f} s, oracle {gain['oracle_s']:.2f} s)",
              None if gain["captured"] is None else gain["captured"] >= GAIN_CAPTURED),
        _goal(f"last pass, training templates: steered total ≤ {WARM_RATIO}× stock",
              f"{ratio(warm_ratio)} (pass {last['pass']}: {last['steered_s']:.2f} s vs {last['stock_s']:.2f} s; "
              f"oracle {oracle_training:.2f} s)",
              None if warm_ratio is None else warm_ratio <= WARM_RATIO),
        _goal(f"held-out templates, after training: steered total ≤ {HELD_OUT_RATIO}× stock",
              "–" if held_ratio is None else
              f"{held_ratio:.3f} ({held['steered_s']:.2f} s vs {held['stock_s']:.2f} s; oracle {oracle_held_out:.2f} s)",
              None if held_ratio is None else held_ratio <= HELD_OUT_RATIO),
        _goal(f"cumulative time over the {len(passes)} passes, exploration included, ≤ stock's",
              f"{ratio(cumulative_ratio)} ({last['cumulative_steered_s']:.2f} s vs {last['cumulative_stock_s']:.2f} s)",
              None if cumulative_ratio is None else cumulative_ratio <= 1.0),
        _goal("per training template, steered/stock (from its second run): median, p95, max; regressed",
              "–" if distribution is None else
              f"{distribution['median']:.3f}, {distribution['p95']:.3f}, {distribution['max']:.3f}; "
              f"{len(regressions)} regressed", None, judged=False),
    ]
    per_pass = [{**p, "oracle_s": oracle_training, "cumulative_oracle_s": oracle_training * p["pass"]}
                for p in passes]
    oracle = _oracle_by_template(per_instance)
    templates = []
    for group, names, summary in (("training", training, online), ("held-out", held_out, steer["held_out_summary"])):
        for name in names:
            medians = summary["template_medians"].get(name)
            templates.append({
                "template": name, "set": group,
                "stock_s": medians["stock_s"] if medians else None,
                "steered_s": medians["steered_s"] if medians else None,
                "ratio": medians["steered_s"] / medians["stock_s"] if medians and medians["stock_s"] else None,
                "speedup": medians["stock_s"] / medians["steered_s"] if medians and medians["steered_s"] else None,
                "oracle_default_s": oracle[name]["default_s"] if name in oracle else None,
                "oracle_s": oracle[name]["oracle_s"] if name in oracle else None,
                "oracle_speedup": (oracle[name]["default_s"] / oracle[name]["oracle_s"]
                                   if name in oracle and oracle[name]["oracle_s"] else None),
                "best_arms": oracle[name]["best_arms"] if name in oracle else [],
            })
    return {"goals": goals, "per_pass": per_pass, "templates": templates, "regressions": regressions,
            "ratio_distribution": distribution, "gain": gain, "headroom_instances": keys,
            "oracle_training_s": oracle_training, "oracle_held_out_s": oracle_held_out,
            "gain_captured": gain["captured"], "warm_ratio": warm_ratio, "held_out_ratio": held_ratio,
            "cumulative_ratio": cumulative_ratio,
            "without_failures": without_failures(steer) if "matrix" in steer else None}
