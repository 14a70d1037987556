"""The TPC-DS benchmark's steps, each a subcommand; bench/tpcds/run.sh runs them in order against
a throw-away cluster with microlora preloaded.

  load    generate the data with DuckDB's dsdgen at a scale and COPY it in (load.json)
  steer   port the 99 queries; probe each on the server (EXPLAIN), excluding those that fail;
          the arms matrix over every instance; online passes over the training templates from
          an empty learner; what steering would choose for each instance after training; then
          the held-out templates once each, steered and not, learner kept (steer.json)
  report  report.md, report.json, cumulative.png and speedups.png from what the steps wrote
  check   that the report is complete and every arm and steered run returned stock's result

Instances: each template's years shifted by 0 and then by the first safe shifts
(`queries.shifts`), --instances per template. Templates: 70% trained on, 30% held out, a fixed
seeded split (`queries.split`).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import psycopg

from tpch import analysis, files, steering, workload

from . import dataset, goals, plot, queries


def _log(message: str) -> None:
    print(f"==> tpcds: {message}", file=sys.stderr, flush=True)


def load(args) -> None:
    with workload.connect(args.host) as conn:
        loaded = dataset.load(conn, args.scale)
    _log(f"scale {args.scale}: {sum(loaded['rows'].values()):,} rows in {sum(loaded['timings'].values()):.1f} s")
    files.write_json(Path(args.out) / "load.json", loaded)


def probe(host: str, ported: dict[str, str]) -> dict[str, str]:
    """The templates PostgreSQL cannot plan, with its error (EXPLAIN: planned, not run)."""
    failing = {}
    with workload.connect(host) as conn:
        conn.execute("SET microlora.enabled = off")
        for name, sql in ported.items():
            try:
                conn.execute("EXPLAIN " + sql).fetchall()
            except psycopg.Error as failure:
                failing[name] = f"{type(failure).__name__}: {str(failure).strip().splitlines()[0]}"
    return failing


def select(names: list[str], count: int | None) -> list[str]:
    """`count` of `names` spread evenly over them (all of them when count is None)."""
    if count is None or count >= len(names):
        return list(names)
    step = len(names) / count
    return [names[int(i * step)] for i in range(count)]


def instances(ported: dict[str, str], names: list[str], per_template: int) -> tuple[list[steering.Instance], dict]:
    out, shifts = [], {}
    for name in names:
        shifts[name] = queries.shifts(ported[name], per_template)
        out += [steering.Instance(name, seed, queries.shift_years(ported[name], delta))
                for seed, delta in enumerate(shifts[name], start=1)]
    return out, shifts


def steer(args) -> None:
    out = Path(args.out)
    timings = {}
    original = {queries.name(n): sql for n, sql in sorted(dataset.duckdb_queries().items())}
    ported = {name: queries.port(sql) for name, sql in original.items()}
    failing = probe(args.host, ported)
    excluded = {**{n: f"fails on PostgreSQL 15: {e}" for n, e in failing.items()}, **queries.EXCLUDED}
    for name, reason in sorted(excluded.items()):
        _log(f"excluded {name}: {reason}")
    names = select([n for n in ported if n not in excluded], args.templates)
    training, held_out = queries.split(names)
    train_instances, shifts = instances(ported, training, args.instances)
    held_instances, held_shifts = instances(ported, held_out, args.instances)
    shifts.update(held_shifts)
    _log(f"{len(names)} templates ({len(training)} training, {len(held_out)} held out), "
         f"{len(train_instances) + len(held_instances)} instances")

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
    online_summary = steering.online_summary(online, from_pass=goals.FROM_PASS)
    timings["online_s"] = time.perf_counter() - started
    for p in online_summary["per_pass"]:
        _log(f"pass {p['pass']}: steered {p['steered_s']:.2f} s, stock {p['stock_s']:.2f} s "
             f"({p['steered_s'] / p['stock_s']:.3f})")

    started = time.perf_counter()
    predicted = steering.predictions(args.host, train_instances + held_instances)
    choices = {key: [a["arm"] for a in arms if a["chosen"]] for key, arms in predicted.items()}
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

    record = {
        "instances_per_template": args.instances, "passes": args.passes, "timeout_s": args.timeout,
        "templates": names, "excluded": excluded, "shifts": shifts,
        "rules_applied": {n: r for n in original if (r := queries.rules_applied(original[n]))},
        "split": {"training": training, "held_out": held_out},
        "matrix": matrix, "matrix_summary": matrix_summary,
        "online": online, "online_summary": online_summary,
        "choices_after_training": choices,
        "predictions_after_training": predicted, "first_sight": first_sight,
        "held_out": held, "held_out_summary": held_summary, "timings": timings}
    # Compact: the raw runs are the biggest file of the results.
    (out / "steer.json").write_text(json.dumps(record, separators=(",", ":")) + "\n")


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


def _arm_table(steered: dict) -> list[list]:
    """Per arm: the instances it is best for, its total seconds over the matrix, timeouts."""
    matrix, summary = steered["matrix"], steered["matrix_summary"]
    rows = []
    for arm in matrix["arms"]:
        cells = [c for c in matrix["cells"] if c["arm"] == arm["arm"]]
        best = sum(1 for a in summary["best_arms"].values() if a == arm["arm"])
        rows.append([f"{arm['arm']} {arm['name']}", best, f"{sum(c['seconds'] for c in cells):.2f}",
                     sum(1 for c in cells if c["error"])])
    return rows


def report(args) -> None:
    out = Path(args.out)
    loaded, steered = files.read_json(out / "load.json"), files.read_json(out / "steer.json")
    result = goals.evaluate(steered)
    plot.cumulative(result["per_pass"], out / plot.CUMULATIVE_FILE)
    plot.speedups(result["templates"], out / plot.SPEEDUPS_FILE)
    instance_count = len(steered["matrix_summary"]["per_instance"])
    meta = {
        "scale": loaded["scale"],
        "rows": f"{sum(loaded['rows'].values()):,} in 24 tables (store_sales {loaded['rows']['store_sales']:,}, "
                f"inventory {loaded['rows']['inventory']:,})",
        "templates": f"{len(steered['templates'])} of 99: {len(steered['split']['training'])} training, "
                     f"{len(steered['split']['held_out'])} held out (split seed {queries.SPLIT_SEED}); "
                     f"{len(steered['excluded'])} excluded",
        "instances": f"{instance_count} (up to {steered['instances_per_template']} per template, years shifted)",
        "online passes": steered["passes"],
        "statement timeout": f"{steered['timeout_s']} s",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": files.machine(),
        "time": f"load {sum(loaded['timings'].values()):.0f} s, "
                + ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in steered["timings"].items()),
    }
    crosscheck = files.read_json(out / "crosscheck.json") if (out / "crosscheck.json").exists() else None
    text = _markdown(meta, steered, result, crosscheck)
    (out / "report.md").write_text(text)
    files.write_json(out / "report.json", {
        "meta": meta, **result,
        "matrix": {k: v for k, v in steered["matrix_summary"].items() if k not in ("per_instance", "best_arms")},
        "arms": [dict(zip(("arm", "best_for", "total_s", "timeouts"), row)) for row in _arm_table(steered)],
        "excluded": steered["excluded"], "rules_applied": steered["rules_applied"],
        "result_mismatches": _mismatches(steered), "failures": _failures(steered)})
    print(text)


def _markdown(meta: dict, steered: dict, result: dict, crosscheck: dict | None = None) -> str:
    table = analysis.markdown_table
    matrix = steered["matrix_summary"]
    lines = ["# Plan steering on TPC-DS", "",
             "The 99 TPC-DS queries (DuckDB's text, ported to PostgreSQL by `tpcds/queries.py`) on data from "
             "DuckDB's dsdgen: a workload the steering code was never tuned on, run at microlora's default settings.",
             "", table(["", ""], [[k, v] for k, v in meta.items()]), "",
             "## Goals", "",
             "`–`: a figure without a threshold.", "",
             table(["goal", "figure", "verdict"], [[g["goal"], g["figure"], g["verdict"]] for g in result["goals"]]), ""]
    lines += ["## The queries", "",
              "Ported by rule (`queries.port`): comments and the final `;` dropped everywhere"
              + ("; besides, " + "; ".join(f"{n}: {', '.join(r)}" for n, r in sorted(steered["rules_applied"].items()))
                 if steered["rules_applied"] else "; no other rule changed any query")
              + ". Instances: instance 1 is the query as DuckDB gives it, further ones shift all its years (year "
              "literals, dates, d_month_seq) by the first of −1, +1, −2, +2 years that keeps them within 1998–2002.", ""]
    if crosscheck:
        lines += [f"The port checked against DuckDB (`bench/tpcds/crosscheck.sh {crosscheck['scale']:g}`, "
                  f"crosscheck.json): {crosscheck['same']} of {crosscheck['queries']} ported queries return on "
                  f"PostgreSQL the rows the original returns on DuckDB, same data at scale {crosscheck['scale']:g} "
                  f"({crosscheck['same_and_not_empty']} of them non-empty)"
                  + (": differing " + "; ".join(f"{n} {r}" for n, r in sorted(crosscheck["differing"].items()))
                     if crosscheck["differing"] else "") + ".", ""]
    if steered["excluded"]:
        lines += ["Excluded:", "", table(["template", "reason"], sorted(steered["excluded"].items())), ""]
    lines += ["## The arms matrix", "",
              f"Every instance ({matrix['instances']}) under every arm of `microlora.arms()`, after one untimed run "
              f"(statement timeout {steered['matrix']['timeout_s']} s). Default arm {matrix['default_s']:.2f} s, "
              f"oracle (best arm per instance) {matrix['oracle_s']:.2f} s: headroom {matrix['headroom']:.1%}. "
              f"Instances with ≥ {goals.HEADROOM_MIN:.0%} headroom among the training ones: "
              f"{len(result['headroom_instances'])}. "
              f"Results differing between arms: {', '.join(matrix['result_mismatches']) or 'none'}.", "",
              table(["arm", "best for instances", "total s", "timeouts"], _arm_table(steered), align="lrrr"), ""]
    ms = lambda s: "–" if s is None else f"{s * 1000:.0f}"  # noqa: E731
    x = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    choices = steered["choices_after_training"]

    def chosen(template):
        return ", ".join(map(str, sorted({a for k, arms in choices.items() if k.rsplit("/", 1)[0] == template
                                          for a in arms})))
    lines += ["## Per template", "",
              "Medians over the template's instances, in ms. Arms matrix: default arm and oracle. Online: stock "
              "and steered from the second pass (training) or once after training (held-out); ratio = steered / "
              "stock. *Chosen after training*: the arms `microlora.predict_arms` said steering would run for the "
              "template's instances, between training and the held-out runs.", "",
              table(["template", "set", "default", "oracle", "oracle speedup", "best arms",
                     "stock", "steered", "ratio", "chosen after training"],
                    [[t["template"], t["set"], ms(t["oracle_default_s"]), ms(t["oracle_s"]), x(t["oracle_speedup"]),
                      ", ".join(map(str, t["best_arms"])), ms(t["stock_s"]), ms(t["steered_s"]), x(t["ratio"]),
                      chosen(t["template"])] for t in result["templates"]],
                    align="llrrrlrrrl"), ""]
    online = steered["online"]
    lines += ["## Online passes (training templates)", "",
              f"From an empty learner, {online['passes']} passes; each training instance once per pass with "
              f"`microlora.steer = on` (default settings otherwise) and twice with microlora off (stock, and the control: stock again), after an untimed warm-up run (cut off after {steering.WARM_UP_S} s), in turns: each of the three runs first in one pass of three. "
              f"Steered statements {online['steered_statements']}, with a verified winner "
              f"{online['statements_with_a_winner']}, arms banned {online['bans']}; planning during the passes "
              f"{online['planning_ms'] / 1000:.2f} s. Results differing from stock: "
              f"{', '.join(steered['online_summary']['result_mismatches']) or 'none'}.", "",
              table(["pass", "stock s", "steered s", "oracle s", "ratio", "cumulative ratio"],
                    [[p["pass"], f"{p['stock_s']:.2f}", f"{p['steered_s']:.2f}", f"{p['oracle_s']:.2f}",
                      f"{p['steered_s'] / p['stock_s']:.3f}", f"{p['cumulative_steered_s'] / p['cumulative_stock_s']:.3f}"]
                     for p in result["per_pass"]], align="rrrrrr"), "",
              "![cumulative time per pass](cumulative.png)", ""]
    lines += steering.regressions_section(online, steered["online_summary"].get("control_ratios", {}),
                                          result["regressions"], goals.REGRESSION, goals.FROM_PASS, table)
    clean = result["without_failures"]
    if clean["left_out"]:
        lines += [f"Timed-out runs count only their seconds until the timeout, so stock's time is understated on "
                  f"{', '.join(clean['left_out'])}, where a run failed. Without those templates "
                  f"({clean['templates']} left): last pass steered {clean['last_pass']['steered_s']:.2f} s vs stock "
                  f"{clean['last_pass']['stock_s']:.2f} s "
                  f"({clean['last_pass']['steered_s'] / clean['last_pass']['stock_s']:.3f}); over all passes "
                  f"{clean['cumulative']['steered_s']:.2f} s vs {clean['cumulative']['stock_s']:.2f} s "
                  f"({clean['cumulative']['steered_s'] / clean['cumulative']['stock_s']:.3f}); oracle's gain captured "
                  f"in the last pass where the arms matrix shows ≥ {goals.HEADROOM_MIN:.0%} headroom "
                  + ("–" if clean["gain"]["captured"] is None else
                     f"{clean['gain']['captured']:.1%} over {clean['gain']['instances']} instances (stock "
                     f"{clean['gain']['stock_s']:.2f} s, steered {clean['gain']['steered_s']:.2f} s, oracle "
                     f"{clean['gain']['oracle_s']:.2f} s)") + ".", ""]
    held = steered["held_out_summary"]
    first = held["per_pass"][0]
    lines += ["## Held-out templates", "",
              f"{', '.join(steered['split']['held_out'])}: never run before (the arms matrix ran them, with "
              f"microlora off); after the training passes, learner kept, each instance once steered and once not. "
              f"Stock {first['stock_s']:.2f} s, steered {first['steered_s']:.2f} s, oracle "
              f"{result['oracle_held_out_s']:.2f} s. Results differing from stock: "
              f"{', '.join(held['result_mismatches']) or 'none'}.", "",
              "![per-template speedup](speedups.png)", ""]
    failures = _failures(steered)
    lines += ["## Failed runs", "",
              f"{len(failures)} runs ended in an error"
              + (" (statement timeouts unless the error says otherwise; a failed run counts its seconds until "
                 "the error):" if failures else "."), ""]
    if failures:
        lines += [table(["phase", "instance", "run", "error"],
                        [[f["phase"], f["instance"], f["run"], f["error"][:100]] for f in failures]), ""]
    return "\n".join(lines)


def check(args) -> None:
    """Fails unless the report is complete and no arm or steered run returned another result."""
    out = Path(args.out)
    problems = []
    report_json, steered = files.read_json(out / "report.json"), files.read_json(out / "steer.json")
    verdicts = [g["verdict"] for g in report_json["goals"]]
    if len(verdicts) != 6 or not set(verdicts[:5]) <= {"met", "not met", "not judged"} or verdicts[5] != "–":
        problems.append(f"goals incomplete: {report_json['goals']}")
    instances = len(steered["matrix_summary"]["per_instance"])
    if instances < len(steered["templates"]):
        problems.append(f"{instances} instances for {len(steered['templates'])} templates")
    expected = instances * len(steered["matrix"]["arms"])
    if len(steered["matrix"]["cells"]) != expected:
        problems.append(f"the arms matrix has {len(steered['matrix']['cells'])} runs, expected {expected}")
    if len(report_json["per_pass"]) != steered["passes"]:
        problems.append(f"{len(report_json['per_pass'])} online passes reported, expected {steered['passes']}")
    reported = {t["template"] for t in report_json["templates"] if t["ratio"] is not None}
    if reported != set(steered["templates"]):
        problems.append(f"templates without a ratio: {sorted(set(steered['templates']) - reported)}")
    problems += steering.report_problems(out, report_json, (plot.CUMULATIVE_FILE, plot.SPEEDUPS_FILE))
    if problems:
        sys.exit("tpcds check failed:\n  " + "\n  ".join(problems))
    _log(f"report complete; every arm and every steered run returned stock's results "
         f"({len(report_json['failures'])} failed runs)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tpcds", description=__doc__,
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
    step.add_argument("--instances", type=int, default=2, help="instances of each template (default 2)")
    step.add_argument("--templates", type=int, default=None, help="only this many templates, spread evenly")
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
