"""The JOB benchmark's steps, each a subcommand; bench/job/run.sh runs them in order against a
throw-away cluster with microlora preloaded.

  load    generate the IMDb-shaped tables in SQL at a scale (load.json)
  steer   the arms matrix over every instance; online passes over the training templates'
          instances from an empty learner; then the held-out templates' instances once each,
          steered and not, learner kept (steer.json)
  report  report.md, report.json, cumulative.png and speedups.png from what the steps wrote
  check   that the report is complete and every arm and steered run returned stock's result

Instances: JOB's lettered queries (1a, 1b, ...); templates: their numbers. Templates: 70%
trained on, 30% held out, a fixed seeded split (`queries.split`).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

from tpch import analysis, files, steering, workload

from . import dataset, goals, plot, queries


def _log(message: str) -> None:
    print(f"==> job: {message}", file=sys.stderr, flush=True)


def load(args) -> None:
    with workload.connect(args.host) as conn:
        loaded = dataset.load(conn, args.scale, args.seed)
    _log(f"scale {args.scale}, seed {args.seed}: {sum(loaded['rows'].values()):,} rows "
         f"in {sum(loaded['timings'].values()):.1f} s")
    files.write_json(Path(args.out) / "load.json", loaded)


def _instances(names: list[str]) -> list[steering.Instance]:
    return [steering.Instance(name, letter, queries.instance(name, letter))
            for name in names for letter in queries.instances_of(name)]


def _selected(spec: str | None) -> list[str]:
    names = queries.templates()
    if not spec:
        return names
    chosen = [t.strip() for t in spec.split(",") if t.strip()]
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        sys.exit(f"job: no such JOB templates: {', '.join(unknown)}")
    return [t for t in names if t in chosen]


def steer(args) -> None:
    out = Path(args.out)
    names = _selected(args.templates)
    training, held_out = queries.split(names)
    train_instances, held_instances = _instances(training), _instances(held_out)
    timings = {}

    started = time.perf_counter()
    matrix = steering.arms_matrix(args.host, train_instances + held_instances, args.timeout)
    matrix_summary = steering.matrix_summary(matrix)
    timings["matrix_s"] = time.perf_counter() - started
    _log(f"arms matrix: {len(matrix['cells'])} runs in {timings['matrix_s']:.0f} s; default "
         f"{matrix_summary['default_s']:.2f} s, oracle {matrix_summary['oracle_s']:.2f} s, "
         f"headroom {matrix_summary['headroom']:.1%}")
    _log(steering.describe_arms_rule(matrix_summary["arms_rule"]))

    started = time.perf_counter()
    online = steering.online(args.host, train_instances, args.passes, args.timeout)
    online_summary = steering.online_summary(online, from_pass=min(2, args.passes))
    timings["online_s"] = time.perf_counter() - started
    for p in online_summary["per_pass"]:
        _log(f"pass {p['pass']}: steered {p['steered_s']:.2f} s, stock {p['stock_s']:.2f} s "
             f"({p['steered_s'] / p['stock_s']:.3f})")

    started = time.perf_counter()
    predicted = steering.predictions(args.host, held_instances)
    first_sight = steering.first_sight(predicted, matrix)
    timings["predictions_s"] = time.perf_counter() - started
    _log("held-out " + steering.describe_first_sight(first_sight))

    started = time.perf_counter()
    held = steering.online(args.host, held_instances, 1, args.timeout, reset=False)
    held_summary = steering.online_summary(held, from_pass=1)
    timings["held_out_s"] = time.perf_counter() - started
    first = held_summary["per_pass"][0]
    _log(f"held-out: steered {first['steered_s']:.2f} s, stock {first['stock_s']:.2f} s "
         f"({first['steered_s'] / first['stock_s']:.3f})")

    files.write_json(out / "steer.json", {
        "templates": names, "passes": args.passes, "split": {"training": training, "held_out": held_out},
        "matrix": matrix, "matrix_summary": matrix_summary,
        "online": online, "online_summary": online_summary,
        "predictions_after_training": predicted, "first_sight": first_sight,
        "held_out": held, "held_out_summary": held_summary, "timings": timings})


def empty_results(steered: dict) -> list[str]:
    """The instances whose default-arm result was one row of NULLs: JOB's queries are MIN()
    aggregates, so that is what a query selecting no rows returns."""
    nulls = {steering._checksum([(None,) * k]) for k in range(1, 10)}
    return sorted(steering.instance_key(c["template"], c["seed"]) for c in steered["matrix"]["cells"]
                  if c["arm"] == steering.DEFAULT_ARM and c["checksum"] in nulls)


def report(args) -> None:
    out = Path(args.out)
    loaded, steered = files.read_json(out / "load.json"), files.read_json(out / "steer.json")
    result = goals.evaluate(steered)
    plot.cumulative(result["per_pass"], out / plot.CUMULATIVE_FILE)
    plot.speedups(result["templates"], out / plot.SPEEDUPS_FILE)
    instances = len(steered["matrix_summary"]["per_instance"])
    meta = {
        "scale": f"{loaded['scale']} (seed {loaded['seed']})",
        "rows": ", ".join(f"{table} {rows:,}" for table, rows in loaded["rows"].items() if rows >= 1000),
        "templates": f"{len(steered['templates'])}, {instances} instances: {len(steered['split']['training'])} "
                     f"templates training, {len(steered['split']['held_out'])} held out (split seed {queries.SPLIT_SEED})",
        "online passes": steered["passes"],
        "statement timeout": f"{steered['matrix']['timeout_s']} s",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": files.machine(),
        "time": f"load {sum(loaded['timings'].values()):.0f} s, "
                + ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in steered["timings"].items()),
    }
    empty = empty_results(steered)
    text = _markdown(meta, steered, result, empty)
    (out / "report.md").write_text(text)
    files.write_json(out / "report.json", {"meta": meta, **result,
                                           "matrix": {k: v for k, v in steered["matrix_summary"].items()
                                                      if k != "per_instance"},
                                           "empty_results": empty,
                                           "result_mismatches": _mismatches(steered), "failures": _failures(steered)})
    print(text)


def _mismatches(steered: dict) -> dict:
    return {"arms matrix": steered["matrix_summary"]["result_mismatches"],
            "online": steered["online_summary"]["result_mismatches"],
            "held-out": steered["held_out_summary"]["result_mismatches"]}


def _failures(steered: dict) -> list[dict]:
    """Every run that ended in an error (a statement timeout, mostly)."""
    failures = [{"phase": "arms matrix", "instance": steering.instance_key(c["template"], c["seed"]),
                 "run": f"arm {c['arm']}", "error": c["error"]} for c in steered["matrix"]["cells"] if c["error"]]
    for phase in ("online", "held_out"):
        failures += [{"phase": phase.replace("_", "-"), "instance": steering.instance_key(r["template"], r["seed"]),
                      "run": f"pass {r['pass']} {r['config']}", "error": r["error"]}
                     for r in steered[phase]["runs"] if r["error"]]
    return failures


def _markdown(meta: dict, steered: dict, result: dict, empty: list[str]) -> str:
    table = analysis.markdown_table
    matrix = steered["matrix_summary"]
    arm_names = {a["arm"]: a["name"] for a in steered["matrix"]["arms"]}
    best_counts: dict[int, int] = {}
    for arm in matrix["best_arms"].values():
        best_counts[arm] = best_counts.get(arm, 0) + 1
    arm_totals = {arm: 0.0 for arm in arm_names}
    arm_failures = {arm: 0 for arm in arm_names}
    for cell in steered["matrix"]["cells"]:
        arm_totals[cell["arm"]] += cell["seconds"]
        arm_failures[cell["arm"]] += cell["error"] is not None
    lines = ["# Plan steering on the Join Order Benchmark (synthetic IMDb-shaped data)", "",
             table(["", ""], [[k, v] for k, v in meta.items()]), "",
             "## Goals", "", table(["goal", "figure", "verdict"], [[g["goal"], g["figure"], g["verdict"]]
                                                                   for g in result["goals"]]), ""]
    lines += ["## The arms matrix", "",
              f"Every instance ({matrix['instances']}) under every arm of `microlora.arms()`, after one untimed run "
              f"(statement timeout {steered['matrix']['timeout_s']} s; a run that timed out counts its "
              f"{steered['matrix']['timeout_s']} s). Default arm {matrix['default_s']:.2f} s, oracle (best arm per "
              f"instance) {matrix['oracle_s']:.2f} s: headroom {matrix['headroom']:.1%}. Results differing between "
              f"arms: {', '.join(matrix['result_mismatches']) or 'none'}. Instances whose result is empty (no row "
              f"selected, MIN() of nothing) on this synthetic data: {len(empty)} of {matrix['instances']}.", "",
              table(["arm", "best for instances", "total s", "timed out"],
                    [[f"{arm} {arm_names[arm]}", best_counts.get(arm, 0), f"{arm_totals[arm]:.1f}", arm_failures[arm]]
                     for arm in sorted(arm_names)], align="lrrr"), ""]
    s = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    pct = lambda v: "–" if v is None else f"{v:.0%}"  # noqa: E731
    lines += ["## Per template", "",
              "Seconds summed over the template's instances. Arms matrix: default arm, oracle, headroom, best arms. "
              "Online: stock and steered in the last pass (training) or after training (held-out), and their ratio "
              f"(above {goals.REGRESSION}: regressed).", "",
              table(["template", "set", "instances", "default", "oracle", "headroom", "best arms",
                     "stock", "steered", "ratio"],
                    [[t["template"], t["set"], len(queries.instances_of(t["template"])), s(t["default_s"]),
                      s(t["oracle_s"]), pct(t["headroom"]), ", ".join(map(str, t["best_arms"])),
                      s(t["stock_s"]), s(t["steered_s"]),
                      "–" if t["ratio"] is None else f"{t['ratio']:.2f}" + (" ⚠" if t["ratio"] > goals.REGRESSION else "")]
                     for t in result["templates"]],
                    align="llrrrrlrrr"), ""]
    online = steered["online"]
    steered_total = sum(p["steered_s"] for p in result["per_pass"]) or 1.0
    by_name = {t["template"]: t for t in result["templates"]}
    lines += ["## Online passes (training templates)", "",
              f"From an empty learner, {online['passes']} passes; each training instance once per pass with "
              f"`microlora.steer = on` (default settings otherwise) and twice with microlora off (stock, and the control: stock again), after an untimed warm-up run (cut off after {steering.WARM_UP_S} s), in turns: each of the three runs first in one pass of three. Steered "
              f"statements {online['steered_statements']}, with a verified winner {online['statements_with_a_winner']}, "
              f"arms banned {online['bans']}; planning during the passes (steered and stock, every arm planned) "
              f"{online['planning_ms'] / 1000:.2f} s, {online['planning_ms'] / 1000 / steered_total:.1%} of the steered "
              f"statements' time. Results differing from stock: "
              f"{', '.join(steered['online_summary']['result_mismatches']) or 'none'}.", "",
              f"Regressed templates (last pass above {goals.REGRESSION}× stock): "
              + (", ".join(f"{t} {r:.2f} (stock {by_name[t]['stock_s']:.2f} s)" for t, r in
                           sorted(result["regressions"].items(), key=lambda kv: -kv[1])) or "none")
              + f". Of them, {sum(1 for t in result['regressions'] if by_name[t]['stock_s'] < 1.0)} take under 1 s "
              "stock in the pass, summed over their instances.", "",
              table(["pass", "stock s", "steered s", "oracle s", "ratio", "cumulative ratio"],
                    [[p["pass"], f"{p['stock_s']:.2f}", f"{p['steered_s']:.2f}", f"{p['oracle_s']:.2f}",
                      f"{p['steered_s'] / p['stock_s']:.3f}", f"{p['cumulative_steered_s'] / p['cumulative_stock_s']:.3f}"]
                     for p in result["per_pass"]], align="rrrrrr"), "",
              "![cumulative time per pass](cumulative.png)", ""]
    last_pass = result["per_pass"][-1]["pass"]
    lines += steering.regressions_section(online, goals.control_ratios(online, last_pass), result["regressions"],
                                          goals.REGRESSION, last_pass, table)
    held = steered["held_out_summary"]
    first = held["per_pass"][0]
    lines += ["## Held-out templates", "",
              f"Templates {', '.join(steered['split']['held_out'])}: never run before; after the training passes, learner "
              f"kept, each instance once steered and once not. Stock {first['stock_s']:.2f} s, steered "
              f"{first['steered_s']:.2f} s, oracle {result['oracle_held_out_s']:.2f} s. Results differing from stock: "
              f"{', '.join(held['result_mismatches']) or 'none'}.", "",
              "![per-template speedup](speedups.png)", ""]
    failures = _failures(steered)
    if failures:
        lines += ["## Failed runs", "", f"{len(failures)} runs ended in an error.", "",
                  table(["phase", "instance", "run", "error"],
                        [[f["phase"], f["instance"], f["run"], f["error"][:80]] for f in failures]), ""]
    return "\n".join(lines)


def check(args) -> None:
    """Fails unless the report is complete and no arm or steered run returned another result."""
    out = Path(args.out)
    problems = []
    report_json, steered = files.read_json(out / "report.json"), files.read_json(out / "steer.json")
    keys = [g["key"] for g in report_json["goals"]]
    verdicts = [g["verdict"] for g in report_json["goals"]]
    if keys != list(goals.GOALS) or not set(verdicts) <= {"met", "not met", "not judged"}:
        problems.append(f"goals incomplete: {report_json['goals']}")
    instances = sum(len(queries.instances_of(t)) for t in steered["templates"])
    expected = instances * len(steered["matrix"]["arms"])
    if len(steered["matrix"]["cells"]) != expected:
        problems.append(f"the arms matrix has {len(steered['matrix']['cells'])} runs, expected {expected}")
    if len(report_json["per_pass"]) != steered["passes"]:
        problems.append(f"{len(report_json['per_pass'])} online passes reported, expected {steered['passes']}")
    runs = len(steered["online"]["runs"]) + len(steered["held_out"]["runs"])
    if runs != 2 * (steered["passes"] * sum(len(queries.instances_of(t)) for t in steered["split"]["training"])
                    + sum(len(queries.instances_of(t)) for t in steered["split"]["held_out"])):
        problems.append(f"{runs} online and held-out runs, not every instance steered and stock in every pass")
    reported = {t["template"] for t in report_json["templates"] if t["ratio"] is not None}
    if reported != set(steered["templates"]):
        problems.append(f"templates without a ratio: {sorted(set(steered['templates']) - reported)}")
    problems += steering.report_problems(out, report_json, (plot.CUMULATIVE_FILE, plot.SPEEDUPS_FILE))
    if problems:
        sys.exit("job check failed:\n  " + "\n  ".join(problems))
    _log(f"report complete; every arm and every steered run returned stock's results "
         f"({len(report_json['failures'])} failed runs)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m job", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    step = commands.add_parser("load")
    step.add_argument("--host", required=True)
    step.add_argument("--scale", type=float, default=1.0)
    step.add_argument("--seed", type=int, default=dataset.SEED, help=f"data seed (default {dataset.SEED})")
    step.add_argument("--out", required=True)
    step.set_defaults(run=load)

    step = commands.add_parser("steer")
    step.add_argument("--host", required=True)
    step.add_argument("--out", required=True)
    step.add_argument("--templates", help="comma-separated template numbers (default: all 33)")
    step.add_argument("--passes", type=int, default=5, help="online passes over the training instances (default 5)")
    step.add_argument("--timeout", type=int, default=20, help="statement timeout, s (default 20)")
    step.set_defaults(run=steer)

    step = commands.add_parser("report")
    step.add_argument("--out", required=True)
    step.set_defaults(run=report)

    step = commands.add_parser("check")
    step.add_argument("--out", required=True)
    step.set_defaults(run=check)

    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
