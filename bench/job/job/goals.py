"""The JOB report's verdicts, computed from what the steer step recorded (steer.json): pure
functions of its dictionaries, so that tests can feed them made-up runs.

Figures, all over client-timed statement seconds (a run that failed, a statement timeout mostly,
counts with the seconds it took):

  * stock: the planner's own plans (steering off), measured in the same pass as steering;
  * oracle: the best arm per instance in the arms matrix;
  * per-template ratio: a template's steered seconds over its stock seconds, summed over its
    instances (its lettered variants) in the last online pass: by then every instance runs for
    at least the second time, so a template's first, exploring run is not in it;
  * headroom of a template: 1 − oracle / default arm, summed over its instances in the matrix;
  * gain captured: (stock − steered) / (stock − oracle), last pass, over the training templates
    whose headroom is at least HEADROOM: 1 when steering runs the best arm everywhere, 0 when it
    gains nothing, negative when it loses time.
"""

from __future__ import annotations

import math

#: A template is regressed when its last-pass ratio is above this.
REGRESSION = 1.1
#: Templates with at least this much arms-matrix headroom are where gain is judged.
HEADROOM = 0.20
#: At least this share of the oracle's gain captured there.
GAIN_CAPTURED = 0.60
#: Held-out templates, after training: steered total at most this multiple of stock's.
HELD_OUT_RATIO = 1.0
#: The median per-template ratio at most this.
MEDIAN_RATIO = 1.0
#: The goal rows, in this order.
GOALS = ("headroom", "regressions", "gain", "held_out", "cumulative", "ratios")


def _verdict(met: bool | None) -> str:
    return "not judged" if met is None else ("met" if met else "not met")


def _goal(key: str, goal: str, figure: str, met: bool | None) -> dict:
    return {"key": key, "goal": goal, "figure": figure, "verdict": _verdict(met)}


def quantile(values: list[float], q: float) -> float:
    """The q-quantile, linear between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def pass_totals(runs: list[dict], pass_no: int) -> dict[str, dict[str, float]]:
    """Per template, its steered and stock seconds in one pass, summed over its instances."""
    out: dict[str, dict[str, float]] = {}
    for run in runs:
        if run["pass"] == pass_no:
            totals = out.setdefault(run["template"], {"steered_s": 0.0, "stock_s": 0.0})
            totals[f"{run['config']}_s"] += run["seconds"]
    return out


def control_ratios(online: dict, pass_no: int) -> dict[str, float]:
    """Per template, the control's seconds over stock's in one pass (stock against stock, judged as
    steered against stock is: the noise floor of a ratio)."""
    runs = [r for r in online["runs"] if r["config"] == "stock"]
    runs += [{**r, "config": "steered"} for r in online.get("control_runs", [])]
    return {t: v["steered_s"] / v["stock_s"] for t, v in pass_totals(runs, pass_no).items() if v["stock_s"] > 0}


def matrix_by_template(per_instance: dict) -> dict[str, dict]:
    """Per template: default-arm and oracle seconds summed over its instances, its headroom and
    the arms that were best for its instances."""
    out: dict[str, dict] = {}
    for entry in per_instance.values():
        t = out.setdefault(entry["template"], {"default_s": 0.0, "oracle_s": 0.0, "best_arms": set()})
        t["default_s"] += entry["default_s"]
        t["oracle_s"] += entry["oracle_s"]
        t["best_arms"].add(entry["best_arm"])
    for t in out.values():
        t["headroom"] = 1 - t["oracle_s"] / t["default_s"] if t["default_s"] else 0.0
        t["best_arms"] = sorted(t["best_arms"])
    return out


def evaluate(steer: dict) -> dict:
    """The goals table, the per-pass figures with the oracle beside them, and the per-template
    figures, from one steer step's record."""
    training, held_out = steer["split"]["training"], steer["split"]["held_out"]
    matrix = steer["matrix_summary"]
    by_template = matrix_by_template(matrix["per_instance"])
    oracle_training = sum(by_template[t]["oracle_s"] for t in training if t in by_template)
    oracle_held_out = sum(by_template[t]["oracle_s"] for t in held_out if t in by_template)
    online = steer["online"]
    passes = steer["online_summary"]["per_pass"]
    last = passes[-1]
    judged = len(passes) >= 2

    last_totals = pass_totals(online["runs"], last["pass"])
    ratios = {t: v["steered_s"] / v["stock_s"] for t, v in last_totals.items() if v["stock_s"] > 0}
    regressions = {t: r for t, r in ratios.items() if r > REGRESSION} if judged else {}

    headroom_templates = [t for t in training if t in by_template and by_template[t]["headroom"] >= HEADROOM
                          and t in last_totals]
    h_stock = sum(last_totals[t]["stock_s"] for t in headroom_templates)
    h_steered = sum(last_totals[t]["steered_s"] for t in headroom_templates)
    h_oracle = sum(by_template[t]["oracle_s"] for t in headroom_templates)
    gain = (h_stock - h_steered) / (h_stock - h_oracle) if headroom_templates and h_stock > h_oracle else None

    held_pass = steer["held_out_summary"]["per_pass"]
    held = held_pass[0] if held_pass else None
    held_ratio = held["steered_s"] / held["stock_s"] if held and held["stock_s"] else None
    held_totals = pass_totals(steer["held_out"]["runs"], 1)
    held_ratios = {t: v["steered_s"] / v["stock_s"] for t, v in held_totals.items() if v["stock_s"] > 0}

    cumulative = last["cumulative_steered_s"] / last["cumulative_stock_s"] if last["cumulative_stock_s"] else None
    values = list(ratios.values())
    spread = ({"median": quantile(values, 0.5), "p95": quantile(values, 0.95), "max": max(values)}
              if values and judged else None)

    def ratio(value):
        return "–" if value is None else f"{value:.3f}"

    goals = [
        _goal("headroom", f"the workload: arms-matrix headroom ≥ {HEADROOM:.0%}",
              f"{matrix['headroom']:.1%} (oracle {matrix['oracle_s']:.1f} s of {matrix['default_s']:.1f} s); "
              f"{sum(1 for t in by_template.values() if t['headroom'] >= HEADROOM)} of {len(by_template)} templates "
              f"≥ {HEADROOM:.0%}", matrix["headroom"] >= HEADROOM),
        _goal("regressions", f"last pass: no template slower than {REGRESSION}× stock",
              "–" if not judged else
              (f"{len(regressions)} regressed: " + ", ".join(f"{t} {r:.2f}" for t, r in sorted(
                  regressions.items(), key=lambda kv: -kv[1])) if regressions else "0 regressed")
              + (f" (worst {max(ratios.items(), key=lambda kv: kv[1])[0]} {max(values):.2f})" if values else ""),
              None if not judged else not regressions),
        _goal("gain", f"≥ {GAIN_CAPTURED:.0%} of the oracle's gain captured where a template's headroom ≥ {HEADROOM:.0%} "
                      "(training, last pass)",
              "– (no training template with that headroom, or stock no slower than the oracle there)" if gain is None else
              f"{gain:.1%} over {len(headroom_templates)} templates (stock {h_stock:.2f} s, steered {h_steered:.2f} s, "
              f"oracle {h_oracle:.2f} s)",
              None if gain is None else gain >= GAIN_CAPTURED),
        _goal("held_out", f"held-out templates, after training, steered ≤ {HELD_OUT_RATIO}× stock",
              "–" if held_ratio is None else
              f"{held_ratio:.3f} ({held['steered_s']:.2f} s vs {held['stock_s']:.2f} s; oracle {oracle_held_out:.2f} s)",
              None if held_ratio is None else held_ratio <= HELD_OUT_RATIO),
        _goal("cumulative", f"cumulative time over {len(passes)} passes, exploration included, ≤ stock's",
              f"{ratio(cumulative)} ({last['cumulative_steered_s']:.2f} s vs {last['cumulative_stock_s']:.2f} s)",
              None if cumulative is None else cumulative <= 1.0),
        _goal("ratios", f"per-template ratio steered / stock (training, last pass): median ≤ {MEDIAN_RATIO}",
              "–" if spread is None else
              f"median {spread['median']:.3f}, p95 {spread['p95']:.3f}, max {spread['max']:.3f}; "
              f"{len(regressions)} of {len(values)} above {REGRESSION}",
              None if spread is None else spread["median"] <= MEDIAN_RATIO),
    ]
    per_pass = [{**p, "oracle_s": oracle_training, "cumulative_oracle_s": oracle_training * p["pass"]}
                for p in passes]
    templates = []
    for group, names, totals, group_ratios in (("training", training, last_totals, ratios),
                                               ("held-out", held_out, held_totals, held_ratios)):
        for name in names:
            m = by_template.get(name)
            t = totals.get(name)
            templates.append({
                "template": name, "set": group,
                "stock_s": t["stock_s"] if t else None, "steered_s": t["steered_s"] if t else None,
                "ratio": group_ratios.get(name),
                "speedup": (t["stock_s"] / t["steered_s"]) if t and t["steered_s"] else None,
                "default_s": m["default_s"] if m else None, "oracle_s": m["oracle_s"] if m else None,
                "headroom": m["headroom"] if m else None,
                "oracle_speedup": (m["default_s"] / m["oracle_s"]) if m and m["oracle_s"] else None,
                "best_arms": m["best_arms"] if m else [],
            })
    return {"goals": goals, "per_pass": per_pass, "templates": templates, "regressions": regressions,
            "ratio_spread": spread, "oracle_training_s": oracle_training, "oracle_held_out_s": oracle_held_out,
            "gain_captured": gain, "gain_templates": headroom_templates, "held_out_ratio": held_ratio,
            "cumulative_ratio": cumulative}
