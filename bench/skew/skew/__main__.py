"""The skew benchmark's steps, each a subcommand; bench/skew/run.sh runs them in order against a
throw-away cluster with microlora preloaded.

  load    generate the tables in SQL at a scale (load.json)
  steer   the arms matrix over every instance; online passes over the training templates from
          an empty learner; what steering would choose for each instance after training; then
          the held-out templates once each, steered and not, learner kept (steer.json)
  report  report.md, report.json, cumulative.png and speedups.png from what the steps wrote
  check   that the report is complete and every arm and steered run returned stock's result

Instances: every template with seeds 1..--seeds. Templates: 70% trained on, 30% held out, a fixed
seeded split (`templates.split`).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

from tpch import analysis, files, steering, workload

from . import dataset, goals, plot, templates


def _log(message: str) -> None:
    print(f"==> skew: {message}", file=sys.stderr, flush=True)


def load(args) -> None:
    with workload.connect(args.host) as conn:
        loaded = dataset.load(conn, args.scale)
    _log(f"scale {args.scale}: {loaded['rows']} in {sum(loaded['timings'].values()):.1f} s")
    files.write_json(Path(args.out) / "load.json", loaded)


def _instances(names: list[str], seeds: int) -> list[steering.Instance]:
    return [steering.Instance(name, seed, templates.instance(name, seed))
            for name in names for seed in range(1, seeds + 1)]


def steer(args) -> None:
    out = Path(args.out)
    training, held_out = templates.split()
    train_instances, held_instances = _instances(training, args.seeds), _instances(held_out, args.seeds)
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
    online_summary = steering.online_summary(online, from_pass=goals.JUDGED_FROM_RUN)
    timings["online_s"] = time.perf_counter() - started
    for p in online_summary["per_pass"]:
        _log(f"pass {p['pass']}: steered {p['steered_s']:.2f} s, stock {p['stock_s']:.2f} s "
             f"({p['steered_s'] / p['stock_s']:.3f})")

    started = time.perf_counter()
    predicted = steering.predictions(args.host, train_instances + held_instances)
    choices = {key: [{"arm": a["arm"], "predicted_ms": a["ms"], "chosen": a["chosen"]} for a in arms]
               for key, arms in predicted.items()}
    first_sight = steering.first_sight({i.key: predicted[i.key] for i in held_instances}, matrix)
    timings["choices_s"] = time.perf_counter() - started
    _log("held-out " + steering.describe_first_sight(first_sight))

    started = time.perf_counter()
    held = steering.online(args.host, held_instances, 1, args.timeout, reset=False)
    held_summary = steering.online_summary(held, from_pass=1)
    timings["held_out_s"] = time.perf_counter() - started
    first = held_summary["per_pass"][0]
    _log(f"held-out: steered {first['steered_s']:.2f} s, stock {first['stock_s']:.2f} s "
         f"({first['steered_s'] / first['stock_s']:.3f})")

    files.write_json(out / "steer.json", {
        "seeds": args.seeds, "passes": args.passes, "split": {"training": training, "held_out": held_out},
        "blocks": {name: templates.blocks_of(name) for name in templates.TEMPLATES},
        "matrix": matrix, "matrix_summary": matrix_summary,
        "online": online, "online_summary": online_summary,
        "choices_after_training": choices, "first_sight": first_sight,
        "held_out": held, "held_out_summary": held_summary, "timings": timings})


def report(args) -> None:
    out = Path(args.out)
    loaded, steered = files.read_json(out / "load.json"), files.read_json(out / "steer.json")
    # From the runs themselves, so that a report follows goals.py as it is now.
    steered["online_summary"] = steering.online_summary(steered["online"], from_pass=goals.JUDGED_FROM_RUN)
    result = goals.evaluate(steered)
    plot.cumulative(result["per_pass"], out / plot.CUMULATIVE_FILE)
    plot.speedups(result["templates"], out / plot.SPEEDUPS_FILE)
    meta = {
        "scale": loaded["scale"],
        "rows": ", ".join(f"{table} {rows:,}" for table, rows in loaded["rows"].items()),
        "templates": f"{len(templates.TEMPLATES)}: {len(steered['split']['training'])} training, "
                     f"{len(steered['split']['held_out'])} held out (split seed {templates.SPLIT_SEED})",
        "instances per template": steered["seeds"],
        "online passes": steered["passes"],
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": files.machine(),
        "time": f"load {sum(loaded['timings'].values()):.0f} s, "
                + ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in steered["timings"].items()),
    }
    text = _markdown(meta, steered, result)
    (out / "report.md").write_text(text)
    files.write_json(out / "report.json", {"meta": meta, **result,
                                      "matrix": {k: v for k, v in steered["matrix_summary"].items() if k != "per_instance"},
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


def _chosen_arms(choices: dict, template: str) -> list[int]:
    return sorted({row["arm"] for key, rows in choices.items() if key.rsplit("/", 1)[0] == template
                   for row in rows if row["chosen"]})


def _markdown(meta: dict, steered: dict, result: dict) -> str:
    table = analysis.markdown_table
    matrix = steered["matrix_summary"]
    arm_names = {a["arm"]: a["name"] for a in steered["matrix"]["arms"]}
    best_counts: dict[int, int] = {}
    for arm in matrix["best_arms"].values():
        best_counts[arm] = best_counts.get(arm, 0) + 1
    lines = ["# Plan steering on a workload where PostgreSQL's plans go wrong", "",
             table(["", ""], [[k, v] for k, v in meta.items()]), "",
             "## Goals", "", table(["goal", "figure", "verdict"], [[g["goal"], g["figure"], g["verdict"]]
                                                                   for g in result["goals"]]), ""]
    lines += ["## The arms matrix", "",
              f"Every instance ({matrix['instances']}) under every arm of `microlora.arms()`, after one untimed run "
              f"(statement timeout {steered['matrix']['timeout_s']} s). Default arm {matrix['default_s']:.2f} s, "
              f"oracle (best arm per instance) {matrix['oracle_s']:.2f} s: headroom {matrix['headroom']:.1%}. "
              f"Results differing between arms: {', '.join(matrix['result_mismatches']) or 'none'}.", "",
              table(["arm", "best for instances"], [[f"{arm} {arm_names[arm]}", best_counts.get(arm, 0)]
                                                    for arm in sorted(arm_names)], align="lr"), ""]
    ms = lambda s: "–" if s is None else f"{s * 1000:.0f}"  # noqa: E731
    x = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    choices = steered["choices_after_training"]
    lines += ["## Per template", "",
              "Medians over the template's instances, in ms. Arms matrix: default arm and oracle. Online: stock "
              "and steered from the second run (training) or on first sight after training (held-out). *Chosen "
              "after training*: the arms `microlora.predict_arms` said steering would run, for the template's "
              "instances, between training and the held-out runs.", "",
              table(["template", "set", "blocks", "default", "oracle", "oracle speedup", "best arms",
                     "stock", "steered", "speedup", "chosen after training"],
                    [[t["template"], t["set"], ", ".join(steered["blocks"][t["template"]]), ms(t["oracle_default_s"]),
                      ms(t["oracle_s"]), x(t["oracle_speedup"]), ", ".join(map(str, t["best_arms"])),
                      ms(t["stock_s"]), ms(t["steered_s"]), x(t["speedup"]),
                      ", ".join(map(str, _chosen_arms(choices, t["template"])))] for t in result["templates"]],
                    align="lllrrrlrrrl"), ""]
    online = steered["online"]
    lines += ["## Online passes (training templates)", "",
              f"From an empty learner, {online['passes']} passes; each training instance once per pass with "
              f"`microlora.steer = on` (default settings otherwise) and twice with microlora off (stock, and the control: stock again), after an untimed warm-up run (cut off after {steering.WARM_UP_S} s), in turns: each of the three runs first in one pass of three. Steered statements "
              f"{online['steered_statements']}, with a verified winner {online['statements_with_a_winner']}, arms "
              f"banned {online['bans']}; planning during the passes {online['planning_ms'] / 1000:.2f} s. "
              f"Results differing from stock: {', '.join(steered['online_summary']['result_mismatches']) or 'none'}. "
              f"Regressions (a template's steered median from its second run above {goals.REGRESSION}× stock's): "
              + (", ".join(f"{t} {r:.2f}" for t, r in sorted(result["regressions"].items())) or "none") + ".",
              "",
              table(["pass", "stock s", "steered s", "oracle s", "ratio", "cumulative ratio"],
                    [[p["pass"], f"{p['stock_s']:.2f}", f"{p['steered_s']:.2f}", f"{p['oracle_s']:.2f}",
                      f"{p['steered_s'] / p['stock_s']:.3f}", f"{p['cumulative_steered_s'] / p['cumulative_stock_s']:.3f}"]
                     for p in result["per_pass"]], align="rrrrrr"), "",
              "![cumulative time per pass](cumulative.png)", ""]
    lines += steering.regressions_section(online, steered["online_summary"].get("control_ratios", {}),
                                          result["regressions"], goals.REGRESSION, goals.JUDGED_FROM_RUN, table)
    held = steered["held_out_summary"]
    first = held["per_pass"][0]
    sight = result["held_out_first_sight"]
    lines += ["## Held-out templates", "",
              f"{', '.join(steered['split']['held_out'])}: never run before; after the training passes, learner kept, "
              f"each instance once steered and once not. Stock {first['stock_s']:.2f} s, steered "
              f"{first['steered_s']:.2f} s, oracle {result['oracle_held_out_s']:.2f} s. Results differing from stock: "
              f"{', '.join(held['result_mismatches']) or 'none'}.", "",
              "Instances of a template share steering's record of the statement, so only the first instance of each "
              "held-out template is steered on what the training templates taught alone: "
              f"{', '.join(sight['instances'])}; stock {sight['stock_s']:.2f} s, steered {sight['steered_s']:.2f} s "
              f"({sight['steered_s'] / sight['stock_s']:.3f}).", "",
              "![per-template speedup](speedups.png)", ""]
    failures = _failures(steered)
    if failures:
        lines += ["## Failed runs", "", table(["phase", "instance", "run", "error"],
                                              [[f["phase"], f["instance"], f["run"], f["error"][:100]]
                                               for f in failures]), ""]
    return "\n".join(lines)


def check(args) -> None:
    """Fails unless the report is complete and no arm or steered run returned another result."""
    out = Path(args.out)
    problems = []
    report_json, steered = files.read_json(out / "report.json"), files.read_json(out / "steer.json")
    verdicts = [g["verdict"] for g in report_json["goals"]]
    if len(verdicts) != 8 or not set(verdicts) <= {"met", "not met", "not judged"}:
        problems.append(f"goals incomplete: {report_json['goals']}")
    instances = len(templates.TEMPLATES) * steered["seeds"]
    expected = instances * len(steered["matrix"]["arms"])
    if len(steered["matrix"]["cells"]) != expected:
        problems.append(f"the arms matrix has {len(steered['matrix']['cells'])} runs, expected {expected}")
    if len(report_json["per_pass"]) != steered["passes"]:
        problems.append(f"{len(report_json['per_pass'])} online passes reported, expected {steered['passes']}")
    reported = {t["template"] for t in report_json["templates"] if t["speedup"] is not None}
    if reported != set(templates.TEMPLATES):
        problems.append(f"templates without a speedup: {sorted(set(templates.TEMPLATES) - reported)}")
    problems += steering.report_problems(out, report_json, (plot.CUMULATIVE_FILE, plot.SPEEDUPS_FILE))
    if problems:
        sys.exit("skew check failed:\n  " + "\n  ".join(problems))
    _log(f"report complete; every arm and every steered run returned stock's results "
         f"({len(report_json['failures'])} failed runs)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m skew", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    step = commands.add_parser("load")
    step.add_argument("--host", required=True)
    step.add_argument("--scale", type=float, default=1.0)
    step.add_argument("--out", required=True)
    step.set_defaults(run=load)

    step = commands.add_parser("steer")
    step.add_argument("--host", required=True)
    step.add_argument("--out", required=True)
    step.add_argument("--seeds", type=int, default=4, help="instances of each template (default 4)")
    step.add_argument("--passes", type=int, default=5, help="online passes over the training instances (default 5)")
    step.add_argument("--timeout", type=int, default=30, help="statement timeout, s (default 30)")
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
