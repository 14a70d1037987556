"""The TPC-H benchmark's steps, each a subcommand; bench/tpch/run.sh runs them in order against
a throw-away cluster.

  load      generate the data with tpchgen-cli and load it
  learn     train on some query instances and evaluate on held-out ones (records.jsonl)
  time      total TPC-H time under the server's current configuration (appends to timings.jsonl)
  steer     plan steering: the arms matrix, then steering online against the planner's own plans
            (steer.json)
  report    report.md, report.json and the learning-curve plot, from what the steps wrote
  check     that a report is complete and that learning reduced the error (the pipeline test)

Training pass p runs the 22 queries with parameters drawn from seed p; evaluations run them with
seeds from TEST_SEED_BASE on, which no training pass uses, with learning switched off.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from pathlib import Path

from . import analysis, dataset, files, queries, steering, workload

TEST_SEED_BASE = 1001


def _log(message: str) -> None:
    print(f"==> tpch: {message}", file=sys.stderr, flush=True)


def load(args) -> None:
    timings: dict = {}
    started = time.perf_counter()
    dataset.generate(args.scale, Path(args.data_dir))
    timings["generate_s"] = time.perf_counter() - started
    with workload.connect(args.host) as conn:
        counts = dataset.load(conn, Path(args.data_dir), timings)
    files.write_json(Path(args.out) / "load.json", {"scale": args.scale, "rows": counts, "timings": timings})


def learn(args) -> None:
    out = Path(args.out)
    checkpoints = sorted(set(args.checkpoints))
    test_seeds = [TEST_SEED_BASE + i for i in range(args.test_seeds)]
    scale = files.read_json(out / "load.json")["scale"]
    session = workload.LearningSession(args.host, args.timeout, scale)
    session.observer.execute("SELECT microlora.reset()")
    records, failures, phases = [], [], []

    def run_pass(stage: str, passes: int, seeds: list[int]) -> None:
        session.set_learning(stage == "train")
        started = time.perf_counter()
        for seed in seeds:
            for query in queries.QUERY_NUMBERS:
                outcome = session.run(query, seed)
                if outcome.error is not None:
                    failures.append({"stage": stage, "passes": passes, "query": query, "seed": seed,
                                     "error": outcome.error})
                    _log(f"{stage} pass {passes}: Q{query} seed {seed} failed: {outcome.error}")
                    continue
                for node in outcome.nodes:
                    records.append({"stage": stage, "passes": passes, "query": query, "seed": seed, **node})
        seconds = time.perf_counter() - started
        phases.append({"stage": stage, "passes": passes, "seconds": seconds})
        _log(f"{stage} after {passes} training passes: {seconds:.1f} s, {len(records)} nodes so far")

    if 0 in checkpoints:
        run_pass("test", 0, test_seeds)
    for p in range(1, checkpoints[-1] + 1):
        run_pass("train", p, [p])
        if p in checkpoints:
            run_pass("test", p, test_seeds)
    cost = session.observer_cost()
    session.close()

    with open(out / "records.jsonl", "w") as file:
        for record in records:
            file.write(json.dumps(record) + "\n")
    files.write_json(out / "learn.json", {"checkpoints": checkpoints, "test_seeds": test_seeds, "phases": phases,
                                     "failures": failures, "observer_cost": cost})


def steer(args) -> None:
    """The arms matrix, then `args.passes` online passes with steering on against it off."""
    out = Path(args.out)
    scale = files.read_json(out / "load.json")["scale"]
    instances = [steering.Instance(f"Q{query}", seed, queries.instance(query, seed, scale))
                 for seed in range(TEST_SEED_BASE, TEST_SEED_BASE + args.seeds) for query in queries.QUERY_NUMBERS]
    started = time.perf_counter()
    matrix = steering.arms_matrix(args.host, instances, args.timeout)
    _log(f"arms matrix: {len(matrix['cells'])} runs in {time.perf_counter() - started:.1f} s")
    _log(steering.describe_arms_rule(steering.arms_rule(matrix)))
    started = time.perf_counter()
    online = steering.online(args.host, instances, args.passes, args.timeout)
    _log(f"steering online: {args.passes} passes in {time.perf_counter() - started:.1f} s")
    files.write_json(out / "steer.json", {"matrix": matrix, "matrix_summary": steering.matrix_summary(matrix),
                                     "online": online, "online_summary": steering.online_summary(online)})


def time_workload(args) -> None:
    """One timed TPC-H pass (the 22 queries, seed args.seed) under the running configuration."""
    scale = files.read_json(Path(args.out) / "load.json")["scale"]
    with workload.connect(args.host) as conn:
        conn.execute(f"SET statement_timeout = '{int(args.timeout)}s'")
        outcomes = [workload.timed(conn, query, args.seed, scale) for query in queries.QUERY_NUMBERS]
    entry = {"config": args.config, "round": args.round, "seconds": sum(o.seconds for o in outcomes),
             "per_query": {o.query: o.seconds for o in outcomes},
             "failed": [o.query for o in outcomes if o.error is not None]}
    _log(f"round {args.round} {args.config}: {entry['seconds']:.2f} s")
    with open(Path(args.out) / "timings.jsonl", "a") as file:
        file.write(json.dumps(entry) + "\n")


def report(args) -> None:
    out = Path(args.out)
    records = [json.loads(line) for line in open(out / "records.jsonl")]
    learned = files.read_json(out / "learn.json")
    loaded = files.read_json(out / "load.json")
    result = analysis.evaluate(records)
    meta = {
        "scale": loaded["scale"],
        "training passes": learned["checkpoints"][-1],
        "evaluated after passes": ", ".join(map(str, learned["checkpoints"])),
        "held-out seeds": ", ".join(map(str, learned["test_seeds"])),
        "failed query instances": len(learned["failures"]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": files.machine(),
        "load": ", ".join(f"{k} {v:.1f} s" for k, v in loaded["timings"].items()),
    }
    sections = [("What observing costs inside the hooks", _hook_section(learned["observer_cost"]))]
    if (out / "timings.jsonl").exists():
        sections.append(("Overhead: TPC-H total time", _timing_section(out / "timings.jsonl")))
    if (out / "pgbench.txt").exists():
        sections.append(("Overhead: pgbench", "```\n" + (out / "pgbench.txt").read_text().strip() + "\n```"))
    if (out / "steer.json").exists():
        sections.extend(_steering_sections(files.read_json(out / "steer.json")))
    if learned["failures"]:
        sections.append(("Failed query instances", analysis.markdown_table(
            ["stage", "passes", "query", "seed", "error"],
            [[f["stage"], f["passes"], f["query"], f["seed"], f["error"][:120]] for f in learned["failures"]])))
    paths = analysis.write_report(result, meta, out, sections)
    print(Path(paths["markdown"]).read_text())


def check(args) -> None:
    """Fails unless the report is complete and the learner beat where it started and the baseline."""
    out = Path(args.out)
    report = files.read_json(out / "report.json")
    problems = []
    passes = [c["passes"] for c in report["checkpoints"]]
    if passes != sorted(set(args.checkpoints)):
        problems.append(f"checkpoints {passes}, expected {sorted(set(args.checkpoints))}")
    for checkpoint in report["checkpoints"]:
        overall = checkpoint["overall"]
        if overall["nodes"] <= 0 or overall["baseline"] is None or overall["learned"] is None:
            problems.append(f"checkpoint {checkpoint['passes']} has no overall figures")
        if not checkpoint["by_scope"]:
            problems.append(f"checkpoint {checkpoint['passes']} has no scopes")
    if not report["verdicts"]:
        problems.append("no goal verdicts")
    plot = out / analysis.PLOT_FILE
    if not plot.exists() or plot.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        problems.append(f"{plot} is missing or not a PNG")
    if "| " not in (out / "report.md").read_text():
        problems.append("report.md has no tables")
    if not problems:
        first, last = report["checkpoints"][0]["overall"], report["checkpoints"][-1]["overall"]
        before, after = first["learned"]["median"], last["learned"]["median"]
        baseline = last["baseline"]["median"]
        _log(f"learned median q-error {before:.2f} before training, {after:.2f} after; baseline {baseline:.2f}")
        if not after < before:
            problems.append(f"learning did not reduce the median q-error: {before:.3f} -> {after:.3f}")
        if not after < baseline:
            problems.append(f"the learned median q-error {after:.3f} is not below the baseline's {baseline:.3f}")
    if (out / "steer.json").exists():
        steered = files.read_json(out / "steer.json")
        cells = steered["matrix"]["cells"]
        expected = steered["matrix_summary"]["instances"] * len(steered["matrix"]["arms"])
        if steered["matrix_summary"]["instances"] == 0 or len(cells) != expected:
            problems.append(f"the arms matrix has {len(cells)} runs, expected {expected}")
        if steered["matrix_summary"]["result_mismatches"]:
            problems.append(f"arms returned other results: {steered['matrix_summary']['result_mismatches']}")
        if steered["online_summary"]["result_mismatches"]:
            problems.append(f"steering returned other results: {steered['online_summary']['result_mismatches']}")
        if not steered["online_summary"]["per_pass"]:
            problems.append("no online steering pass")
    else:
        problems.append("steer.json is missing")
    if problems:
        sys.exit("tpch check failed:\n  " + "\n  ".join(problems))
    _log("report complete, and learning reduced the error")


def _steering_sections(result: dict) -> list[tuple[str, str]]:
    matrix, online = result["matrix_summary"], result["online_summary"]
    arm_names = {a["arm"]: a["name"] for a in result["matrix"]["arms"]}
    best = {}
    for instance, arm in matrix["best_arms"].items():
        best[arm_names[arm]] = best.get(arm_names[arm], 0) + 1
    matrix_text = (
        f"{matrix['instances']} instances under {len(arm_names)} arms (statement timeout "
        f"{result['matrix']['timeout_s']} s). Default arm {matrix['default_s']:.2f} s, oracle (best arm per "
        f"instance) {matrix['oracle_s']:.2f} s: headroom {matrix['headroom']:.1%}. Results differing between arms: "
        f"{', '.join(matrix['result_mismatches']) or 'none'}.\n\n"
        + analysis.markdown_table(["best arm", "instances"], [[name, n] for name, n in sorted(best.items())]))
    rows = [[p["pass"], f"{p['stock_s']:.2f}", f"{p['steered_s']:.2f}", f"{p['steered_s'] / p['stock_s']:.3f}",
             f"{p['cumulative_steered_s'] / p['cumulative_stock_s']:.3f}"] for p in online["per_pass"]]
    worst = online["worst_template"]
    last = online["per_pass"][-1]
    raw = result["online"]
    planning_share = raw["planning_ms"] / 1000 / last["cumulative_steered_s"] if last["cumulative_steered_s"] else 0.0
    goals = [
        ["TPC-H total with steering ≤ 1.0× stock (last pass)", f"{last['steered_s'] / last['stock_s']:.3f}",
         "met" if last["steered_s"] <= last["stock_s"] else "not met"],
        ["no template's median slower than 1.2× stock from its third run",
         f"{worst[0]} {worst[1]:.2f}" if worst else "–",
         ("met" if worst[1] <= 1.2 else "not met") if worst else "not judged (fewer than 3 passes)"],
        ["planning (all of it, arms included) ≤ 2% of the steered workload's time", f"{planning_share:.1%}",
         "met" if planning_share <= 0.02 else "not met"],
    ]
    online_text = (
        f"{raw['passes']} passes from an empty learner, each instance once with `microlora.steer = on` (default settings otherwise) and once "
        f"with microlora off, alternating. Steered statements {raw['steered_statements']}, with a verified winner "
        f"{raw['statements_with_a_winner']}, arms banned {raw['bans']}. Results differing from stock: "
        f"{', '.join(online['result_mismatches']) or 'none'}.\n\n"
        + analysis.markdown_table(["pass", "stock s", "steered s", "ratio", "cumulative ratio"], rows)
        + "\n\n" + analysis.markdown_table(["goal", "figure", "verdict"], goals))
    return [("Plan steering: the arms matrix", matrix_text), ("Plan steering online", online_text)]


def _hook_section(cost: dict) -> str:
    rows = [
        ["statements observed", f"{cost['statements']}"],
        ["plan nodes observed", f"{cost['nodes']}"],
        ["reading the executed tree, per statement", f"{cost['read_us_per_statement']:.2f} µs"],
        ["learning under the lock, per node", f"{cost['locked_ns_per_node']:.0f} ns"],
        ["all of the hook's own work, per node", _ns(cost["hook_ns_per_node"])],
        ["planner hook, per planning", f"{cost['planner_hook_us_per_call']:.3f} µs"],
    ]
    return analysis.markdown_table(["what", "measured"], rows, align="lr")


def _ns(value) -> str:
    return "–" if value is None else f"{value:.0f} ns"


def _timing_section(path: Path) -> str:
    """Median total time per configuration, and the median of per-round ratios to stock."""
    entries = [json.loads(line) for line in open(path)]
    by_round: dict = {}
    for entry in entries:
        by_round.setdefault(entry["round"], {})[entry["config"]] = entry["seconds"]
    configs = list(dict.fromkeys(entry["config"] for entry in entries))
    rows = []
    for config in configs:
        totals = [r[config] for r in by_round.values() if config in r]
        ratios = [r[config] / r["stock"] for r in by_round.values() if config in r and "stock" in r]
        rows.append([config, len(totals), f"{statistics.median(totals):.2f} s",
                     f"{statistics.median(ratios):.3f}" if ratios else "–"])
    note = ("Interleaved rounds (the configurations in rotated order, the server restarted for each); "
            "ratio: median over rounds of total time / stock's total time in the same round.\n\n")
    return note + analysis.markdown_table(["configuration", "rounds", "median total", "time ratio to stock"],
                                          rows, align="lrrr")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tpch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    checkpoints = {"type": lambda text: [int(p) for p in text.split(",")], "default": [0, 1, 2, 5],
                   "help": "training passes after which to evaluate (default 0,1,2,5)"}

    step = commands.add_parser("load")
    step.add_argument("--host", required=True)
    step.add_argument("--scale", type=float, required=True)
    step.add_argument("--data-dir", required=True)
    step.add_argument("--out", required=True)
    step.set_defaults(run=load)

    step = commands.add_parser("learn")
    step.add_argument("--host", required=True)
    step.add_argument("--out", required=True)
    step.add_argument("--checkpoints", **checkpoints)
    step.add_argument("--test-seeds", type=int, default=1, help="held-out instances of each query")
    step.add_argument("--timeout", type=int, default=300, help="statement timeout, s")
    step.set_defaults(run=learn)

    step = commands.add_parser("time")
    step.add_argument("--host", required=True)
    step.add_argument("--out", required=True)
    step.add_argument("--config", required=True)
    step.add_argument("--round", type=int, required=True)
    step.add_argument("--seed", type=int, default=TEST_SEED_BASE)
    step.add_argument("--timeout", type=int, default=300)
    step.set_defaults(run=time_workload)

    step = commands.add_parser("steer")
    step.add_argument("--host", required=True)
    step.add_argument("--out", required=True)
    step.add_argument("--seeds", type=int, default=1, help="instances of each query")
    step.add_argument("--passes", type=int, default=5, help="online passes")
    step.add_argument("--timeout", type=int, default=60, help="statement timeout, s")
    step.set_defaults(run=steer)

    step = commands.add_parser("report")
    step.add_argument("--out", required=True)
    step.set_defaults(run=report)

    step = commands.add_parser("check")
    step.add_argument("--out", required=True)
    step.add_argument("--checkpoints", **checkpoints)
    step.set_defaults(run=check)

    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
