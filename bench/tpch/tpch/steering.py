"""Plan steering against the planner's own plans, for any workload given as a list of statement
instances: the arms matrix first, then steering online. TPC-H (`python -m tpch steer`) and the
skew workload (bench/skew) both run it.

An instance is one statement of a workload: the template it comes from, the seed its constants
were drawn from, and its SQL text. Runs and summaries are keyed by template and seed.

Arms matrix: every instance under every arm's planner settings (read from the extension's
`microlora.arms()`), timed from the client with a statement timeout, its result checked equal to
the default arm's. Each instance first runs once untimed under the default arm, so that no arm
pays for a cold cache. The best arm per instance is the oracle; its total against the default
arm's is the workload's headroom.

Online: `passes` passes over the instances, shuffled per pass; each instance runs once with
`microlora.steer = on`, once with it off (the planner's own plan, as stock PostgreSQL plans
it) and once more with it off on a third connection (the control). Before the three, it runs
once untimed on a fourth connection, stock and cut off after `WARM_UP_S`: whichever of the three
ran first otherwise paid for the caches the statements before it had taken (statements under
50 ms ran 4 to 7% slower first than second, geometric mean; up to 50% for a 3 ms one; nothing
measurable beyond 50 ms, which the cut-off spares). The three take turns in three orders, each instance's order moving on by one
every pass, so that none of the three runs first more often than another.
The steered connection runs with the server's settings (microlora's defaults: one statement in
ten has its nodes timed, and every statement steering times counts its nodes' rows); the stock
and control connections observe nothing (`microlora.enabled = off`), so that they neither teach
the learner nor pay for observation. After each steered run, `microlora.last_steered()` says what
steering did with it (the arm, why, the arms planned, node timing, rows counted), untimed. The
control is stock against stock: how many templates its ratio puts above a threshold is what the
machine's noise alone does to a per-template ratio. By default it starts from an empty learner;
`reset=False` keeps what was learned before (held-out statements after training).

Connections come from `workload.connect`, which never prepares statements: a prepared statement
without parameters keeps the plan made under the settings of its first execution, and steering
leaves generic plans alone.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from . import workload

#: The default arm: the planner's own plan.
DEFAULT_ARM = 0
#: The third online connection's runs: stock again, the noise floor of every ratio.
CONTROL = "control"
#: How long an instance's untimed warm-up run may take before it is cancelled (see `online`).
WARM_UP_S = 1

#: The plan nodes, as EXPLAIN names them, that each planner setting of the arms turns off at the
#: value the arms give it. Steering plans an arm only if the statement's default plan holds one of
#: the nodes its settings turn off (`turned_off` in pg_extension/src/steer.rs): the premise is
#: that an arm turning off nothing the default plan holds plans the default plan again (near-ties
#: in the planner's fuzzy path comparisons aside). The arms matrix checks that premise on every
#: instance of every workload ([`arms_rule`]).
TURNED_OFF = {
    ("enable_nestloop", "off"): {"Nested Loop"},
    ("enable_mergejoin", "off"): {"Merge Join"},
    ("enable_indexscan", "off"): {"Index Scan", "Index Only Scan"},
    ("enable_bitmapscan", "off"): {"Bitmap Heap Scan"},
    ("enable_memoize", "off"): {"Memoize"},
    ("max_parallel_workers_per_gather", "0"): {"Gather", "Gather Merge"},
}
#: PostgreSQL's default `geqo_threshold`: steering plans every arm of a statement over as many
#: relations, whose join order GEQO may have searched (any change of costs may change its plan).
GEQO_THRESHOLD = 12


@dataclass(frozen=True)
class Instance:
    """One statement of a workload: its template's name, the seed its constants were drawn
    from, and its SQL text."""

    template: str
    seed: int
    sql: str

    @property
    def key(self) -> str:
        return instance_key(self.template, self.seed)


def instance_key(template: str, seed: int) -> str:
    """How reports name an instance: 'Q5/1001', 'geo_orders/3'."""
    return f"{template}/{seed}"


def _checksum(rows) -> str:
    """The rows, in any order, as one digest (floats rounded: plans may sum in another order)."""
    def canonical(value):
        return f"{value:.6g}" if isinstance(value, float) else str(value)
    lines = sorted("|".join(canonical(v) for v in row) for row in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def _run(conn: psycopg.Connection, sql: str) -> tuple[float, str | None, str | None]:
    """Runs one statement; returns its seconds, its result's checksum and its error."""
    started = time.perf_counter()
    try:
        rows = conn.execute(sql).fetchall()
        return time.perf_counter() - started, _checksum(rows), None
    except psycopg.Error as failure:
        return time.perf_counter() - started, None, f"{type(failure).__name__}: {str(failure).strip()}"


def arms(conn: psycopg.Connection) -> list[dict]:
    return [{"arm": a, "name": n, "settings": s}
            for a, n, s in conn.execute("SELECT arm, name, settings FROM microlora.arms() ORDER BY arm").fetchall()]


def _use_arm(conn: psycopg.Connection, arm: dict, timeout_s: int) -> None:
    """The session as a fresh one would be, unobserved, under the arm's planner settings."""
    _reset(conn)
    conn.execute("SET microlora.enabled = off")
    conn.execute(f"SET statement_timeout = '{int(timeout_s)}s'")
    for setting in filter(None, arm["settings"].split(", ")):
        name, value = setting.split(" = ")
        conn.execute(f"SET {name} = {value}")


def _reset(conn: psycopg.Connection) -> None:
    """RESET ALL, once more if a statement timeout that fired as the previous statement ended
    cancels it: PostgreSQL reports such a late timeout at the session's next statement (a race
    of stock PostgreSQL's, which a loaded machine makes likely)."""
    try:
        conn.execute("RESET ALL")
    except psycopg.errors.QueryCanceled:
        conn.execute("RESET ALL")


def _plan(conn: psycopg.Connection, sql: str) -> dict | None:
    """The plan the session's settings give `sql`: a digest of its EXPLAIN (COSTS OFF) text, its
    nodes' types and how many scans of relations it holds; None if EXPLAIN failed."""
    try:
        (explained,) = conn.execute(f"EXPLAIN (COSTS OFF, FORMAT JSON) {sql}").fetchone()
    except psycopg.Error:
        _reset(conn)
        return None
    nodes = []

    def walk(node: dict) -> None:
        nodes.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(explained[0]["Plan"])
    text = repr(explained[0]["Plan"])
    return {"digest": hashlib.sha1(text.encode()).hexdigest()[:16],
            "nodes": sorted({n["Node Type"] for n in nodes}),
            "relations": sum(1 for n in nodes if "Relation Name" in n)}


def arms_matrix(host: str, instances: Sequence[Instance], timeout_s: int) -> dict:
    """Every instance under every arm: seconds, checksum, error, and the arm's plan
    ([`_plan`], planned before the run)."""
    with workload.connect(host) as conn:
        arm_list = arms(conn)
        cells = []
        for instance in instances:
            _use_arm(conn, arm_list[DEFAULT_ARM], timeout_s)
            _run(conn, instance.sql)  # warm-up, untimed
            for arm in arm_list:
                _use_arm(conn, arm, timeout_s)
                plan = _plan(conn, instance.sql)
                seconds, checksum, error = _run(conn, instance.sql)
                cells.append({"template": instance.template, "seed": instance.seed, "arm": arm["arm"],
                              "seconds": seconds, "checksum": checksum, "error": error, "plan": plan})
    return {"arms": arm_list, "cells": cells, "timeout_s": timeout_s}


def _turned_off(arm: dict) -> set[str] | None:
    """The plan nodes `arm`'s settings turn off; None if one of them is not in [`TURNED_OFF`]."""
    if "settings" not in arm:
        return None
    off: set[str] = set()
    for setting in filter(None, arm["settings"].split(", ")):
        nodes = TURNED_OFF.get(tuple(setting.split(" = ")))
        if nodes is None:
            return None
        off |= nodes
    return off


def arms_rule(matrix: dict) -> dict:
    """Checks steering's rule for which arms to plan ([`TURNED_OFF`]) on the matrix's plans: of
    the instance's arms other than the default, how many steering plans (`planned`) and skips
    (`skipped`), and of the skipped, those whose plan was another than the default plan
    (`differed`: template, seed, arm). Instances whose default plan EXPLAIN could not show are
    left out."""
    off_by_arm = {a["arm"]: _turned_off(a) for a in matrix.get("arms", [])}
    by_instance: dict[str, dict[int, dict]] = {}
    for cell in matrix["cells"]:
        by_instance.setdefault(instance_key(cell["template"], cell["seed"]), {})[cell["arm"]] = cell
    planned = skipped = 0
    differed = []
    for cells in by_instance.values():
        default = cells.get(DEFAULT_ARM, {}).get("plan")
        if default is None:
            continue
        geqo = default["relations"] >= GEQO_THRESHOLD
        for arm, cell in cells.items():
            if arm == DEFAULT_ARM:
                continue
            off = off_by_arm.get(arm)
            if geqo or off is None or off & set(default["nodes"]):
                planned += 1
                continue
            skipped += 1
            plan = cell.get("plan")
            if plan is not None and plan["digest"] != default["digest"]:
                differed.append({"template": cell["template"], "seed": cell["seed"], "arm": arm})
    return {"planned": planned, "skipped": skipped, "differed": differed}


def describe_arms_rule(rule: dict) -> str:
    """One line for a run's log."""
    total = rule["planned"] + rule["skipped"]
    share = rule["skipped"] / total if total else 0.0
    return (f"arms that turn off nothing of the default plan: {rule['skipped']} of {total} ({share:.0%}) "
            f"not planned by steering; {len(rule['differed'])} of them planned another plan"
            + (" (" + ", ".join(f"{d['template']}/{d['seed']} arm {d['arm']}" for d in rule["differed"][:10]) + ")"
               if rule["differed"] else ""))


def matrix_summary(matrix: dict) -> dict:
    """The default total, the oracle's (best arm per instance), the headroom, each instance's
    default time, best time and best arm, and any instance whose result differed between arms."""
    by_instance: dict[str, list[dict]] = {}
    for cell in matrix["cells"]:
        by_instance.setdefault(instance_key(cell["template"], cell["seed"]), []).append(cell)
    default_total = oracle_total = 0.0
    mismatches, best_arms, per_instance = [], {}, {}
    for key, cells in by_instance.items():
        default = next(c for c in cells if c["arm"] == DEFAULT_ARM)
        finished = [c for c in cells if c["error"] is None]
        best = min(finished, key=lambda c: c["seconds"]) if finished else default
        default_total += default["seconds"]
        oracle_total += best["seconds"]
        best_arms[key] = best["arm"]
        per_instance[key] = {"template": default["template"], "seed": default["seed"],
                             "default_s": default["seconds"], "oracle_s": best["seconds"], "best_arm": best["arm"]}
        reference = default["checksum"]
        if reference is not None and any(c["checksum"] not in (None, reference) for c in cells):
            mismatches.append(key)
    return {
        "instances": len(by_instance),
        "default_s": default_total,
        "oracle_s": oracle_total,
        "headroom": 1.0 - oracle_total / default_total if default_total else 0.0,
        "best_arms": best_arms,
        "per_instance": per_instance,
        "result_mismatches": mismatches,
        "arms_rule": arms_rule(matrix),
    }


def predictions(host: str, instances: Sequence[Instance]) -> dict:
    """What the learner predicts now for each instance under each arm, and what steering would
    run now (`microlora.predict_arms`: every arm planned, none executed): per instance key, per
    arm, its predicted ms with optimistic and pessimistic bounds, and whether it is the choice."""
    with workload.connect(host) as conn:
        conn.execute("SET microlora.enabled = off")
        return {instance.key: [
                    {"arm": arm, "ms": ms, "low_ms": low, "high_ms": high, "chosen": chosen}
                    for arm, ms, low, high, chosen in conn.execute(
                        "SELECT arm, predicted_ms, low_ms, high_ms, chosen FROM microlora.predict_arms(%s) "
                        "ORDER BY arm", (instance.sql,)).fetchall()]
                for instance in instances}


def first_sight(predicted: dict, matrix: dict, margin: float = 0.2) -> dict:
    """What the learner's predictions alone would choose for instances it never ran (held-out
    templates after training), judged by the arms matrix: per instance, the arm predicted fastest
    among those whose pessimistic time times `1 + margin` beats the default plan's optimistic
    time (steering's confident rule, with nothing measured), and the matrix's seconds for it and
    for the default arm. `confident` counts instances with such an arm; `faster`/`slower` those
    whose arm ran faster/slower than the default by more than 10% in the matrix; the totals are
    the matrix's, default arm against the confident choices (default elsewhere)."""
    times = {}
    for cell in matrix["cells"]:
        if cell["error"] is None:
            times.setdefault(instance_key(cell["template"], cell["seed"]), {})[cell["arm"]] = cell["seconds"]
    per_instance = {}
    default_total = chosen_total = 0.0
    for key, arms_predicted in predicted.items():
        measured = times.get(key, {})
        if DEFAULT_ARM not in measured:
            continue
        default = next(a for a in arms_predicted if a["arm"] == DEFAULT_ARM)
        confident = [a for a in arms_predicted if a["arm"] != DEFAULT_ARM
                     and a["high_ms"] * (1 + margin) < default["low_ms"]]
        arm = min(confident, key=lambda a: a["ms"])["arm"] if confident else DEFAULT_ARM
        default_total += measured[DEFAULT_ARM]
        chosen_s = measured.get(arm, measured[DEFAULT_ARM])
        chosen_total += chosen_s
        per_instance[key] = {"arm": arm, "default_s": measured[DEFAULT_ARM], "arm_s": chosen_s,
                             "best_s": min(measured.values())}
    chose = [v for v in per_instance.values() if v["arm"] != DEFAULT_ARM]
    return {
        "instances": len(per_instance),
        "confident": len(chose),
        "faster": sum(v["arm_s"] * 1.1 < v["default_s"] for v in chose),
        "slower": sum(v["arm_s"] > 1.1 * v["default_s"] for v in chose),
        "default_s": default_total,
        "chosen_s": chosen_total,
        "per_instance": per_instance,
    }


def describe_first_sight(result: dict) -> str:
    """One line for a run's log."""
    ratio = result["chosen_s"] / result["default_s"] if result["default_s"] else 1.0
    return (f"first sight, predictions alone: a confident arm for {result['confident']} of "
            f"{result['instances']} instances ({result['faster']} faster, {result['slower']} slower than "
            f"the default by 10% in the arms matrix); matrix total {result['chosen_s']:.2f} s against "
            f"{result['default_s']:.2f} s ({ratio:.3f})")


def _planning_ms(conn: psycopg.Connection) -> float:
    return conn.execute("SELECT planning_ms FROM microlora.planner_overhead()").fetchone()[0]


#: What `microlora.last_steered()` returns, as a steered run's `steering` entry keeps it.
LAST_STEERED = ("statement", "arm", "why", "arms_planned", "planning_ms", "node_timing", "rows_counted",
                "predicted_ms", "default_predicted_ms")


def _last_steered(conn: psycopg.Connection) -> dict | None:
    """What steering did with the connection's last statement, or None if it considered none."""
    try:
        row = conn.execute(f"SELECT {', '.join(LAST_STEERED)} FROM microlora.last_steered()").fetchone()
    except psycopg.errors.QueryCanceled:  # a late statement timeout of the run before
        row = conn.execute(f"SELECT {', '.join(LAST_STEERED)} FROM microlora.last_steered()").fetchone()
    return dict(zip(LAST_STEERED, row)) if row else None


def turns(instance: int, pass_: int) -> list[str]:
    """The order in which the `instance`-th instance of a workload runs steered, stock and as the
    control in pass `pass_`: one of three rotations, the next one every pass."""
    configs = ["steered", "stock", CONTROL]
    turn = (instance + pass_) % 3
    return configs[turn:] + configs[:turn]


def online(host: str, instances: Sequence[Instance], passes: int, timeout_s: int, reset: bool = True,
           order_seed: int = 20261201) -> dict:
    """`passes` passes, each instance warmed up, then once steered, once stock and once as the
    control, in turns (`turns`; see the module's documentation). `planning_ms` is what the server
    spent planning meanwhile, all connections together. The control's runs are kept apart (`control_runs`), so that every figure over
    `runs` is steered against stock as before. A steered run's `steering` is what
    `microlora.last_steered()` said after it, or None if steering did not consider it."""
    steered = workload.connect(host)
    stock = workload.connect(host)
    control = workload.connect(host)
    warm_up = workload.connect(host)
    if reset:
        steered.execute("SELECT microlora.reset()")
    for conn in (stock, control, warm_up):
        conn.execute("SET microlora.enabled = off")
    for conn, steer, timeout in ((steered, "on", timeout_s), (stock, "off", timeout_s), (control, "off", timeout_s),
                                 (warm_up, "off", WARM_UP_S)):
        conn.execute(f"SET microlora.steer = {steer}")
        conn.execute(f"SET statement_timeout = '{int(timeout)}s'")
    planning_before = _planning_ms(steered)
    rng = random.Random(order_seed)
    runs, control_runs = [], []
    # last_steered() tells of the last statement steering considered: after one it did not
    # consider, it still tells of the one before (no instance runs twice in a row here).
    previous_statement = None
    for p in range(1, passes + 1):
        order = list(enumerate(instances))
        rng.shuffle(order)
        for i, instance in order:
            _run(warm_up, instance.sql)
            connections = {"steered": steered, "stock": stock, CONTROL: control}
            for position, label in enumerate(turns(i, p)):
                conn = connections[label]
                seconds, checksum, error = _run(conn, instance.sql)
                run = {"pass": p, "template": instance.template, "seed": instance.seed, "config": label,
                       "position": position, "seconds": seconds, "checksum": checksum, "error": error}
                if label == "steered":
                    steering = _last_steered(conn)
                    if steering is not None and steering["statement"] == previous_statement:
                        steering = None
                    previous_statement = steering["statement"] if steering else previous_statement
                    run["steering"] = steering
                (control_runs if label == CONTROL else runs).append(run)
    planning = _planning_ms(steered) - planning_before
    steering_rows = steered.execute(
        "SELECT count(*), count(*) FILTER (WHERE arm_in_use <> 'default'), coalesce(sum(cardinality(banned_arms)), 0) "
        "FROM microlora.steering").fetchone()
    for conn in (steered, stock, control, warm_up):
        conn.close()
    return {"passes": passes, "runs": runs, "control_runs": control_runs, "planning_ms": planning,
            "steered_statements": steering_rows[0], "statements_with_a_winner": steering_rows[1],
            "bans": steering_rows[2]}


def online_summary(result: dict, from_pass: int = 3) -> dict:
    """Per pass totals and cumulative totals; each template's median steered and stock time over
    its runs from pass `from_pass` on (its `from_pass`-th run: every pass runs every instance once)
    and their ratio, and the control's median over stock's (stock against stock: the noise); the
    instances whose steered result differed from stock's."""
    runs = result["runs"]
    per_pass = []
    cumulative = {"steered": 0.0, "stock": 0.0}
    for p in range(1, result["passes"] + 1):
        totals = {c: sum(r["seconds"] for r in runs if r["pass"] == p and r["config"] == c)
                  for c in ("steered", "stock")}
        for c in totals:
            cumulative[c] += totals[c]
        per_pass.append({"pass": p, **{f"{c}_s": totals[c] for c in totals},
                         **{f"cumulative_{c}_s": cumulative[c] for c in cumulative}})
    medians, ratios, control_ratios = {}, {}, {}
    every = runs + result.get("control_runs", [])
    for template in dict.fromkeys(r["template"] for r in runs):
        def times(config):
            return [r["seconds"] for r in every
                    if r["template"] == template and r["config"] == config and r["pass"] >= from_pass
                    and r["error"] is None]
        steered, stock, control = times("steered"), times("stock"), times(CONTROL)
        if steered and stock:
            medians[template] = {"steered_s": statistics.median(steered), "stock_s": statistics.median(stock)}
            ratios[template] = medians[template]["steered_s"] / medians[template]["stock_s"]
        if control and stock:
            control_ratios[template] = statistics.median(control) / statistics.median(stock)
    stock_results = {(r["pass"], r["template"], r["seed"]): r["checksum"] for r in runs if r["config"] == "stock"}
    mismatches = sorted({instance_key(r["template"], r["seed"]) for r in runs if r["config"] == "steered"
                         and None not in (r["checksum"], stock_results.get((r["pass"], r["template"], r["seed"])))
                         and r["checksum"] != stock_results[(r["pass"], r["template"], r["seed"])]})
    return {"per_pass": per_pass, "from_pass": from_pass, "template_medians": medians,
            "template_ratios": ratios, "control_ratios": control_ratios,
            "result_mismatches": mismatches,
            "worst_template": max(ratios.items(), key=lambda kv: kv[1]) if ratios else None}


def report_problems(out, report_json: dict, figures) -> list[str]:
    """What every steering benchmark's `check` requires of its report in `out`, besides its own
    counts: no run that returned another result than the default plan's, every figure a PNG,
    and tables in report.md."""
    problems = [f"{phase}: results differing from the default plan's: {keys}"
                for phase, keys in report_json["result_mismatches"].items() if keys]
    for name in figures:
        if not (out / name).exists() or (out / name).read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            problems.append(f"{out / name} is missing or not a PNG")
    if "| " not in (out / "report.md").read_text():
        problems.append("report.md has no tables")
    return problems


#: How `regressions_section` abbreviates `last_steered()`'s reasons.
_WHY = (("not measured slow before", "unmeasured"), ("not steered", "not steered"), ("verified faster before", "winner"),
        ("planning the arms failed", "failed"), ("no arm expected", "none faster"), ("not drawn", "undrawn"), ("predicted", "predicted"),
        ("being verified", "verifying"), ("another instance", "generalised"), ("explored", "explored"),
        ("too little to tell", "measuring"))


def _why(steering: dict | None) -> str:
    if steering is None:
        return "not considered"
    why = steering["why"]
    short = next((label for prefix, label in _WHY if prefix in why), why)
    return ("advised, " if why.startswith("advised") else "") + short


def regressions_section(online_result: dict, control: dict, regressions: dict, threshold: float,
                        from_pass: int, table) -> list[str]:
    """Markdown: how many templates the control (stock against stock; `control` maps a template to
    its ratio, judged as the benchmark judges steered against stock) puts above `threshold`, and
    per regressed template what steering did in each of its steered runs from `from_pass` on: the
    arm that ran, why, the run's time over stock's in the same pass, and whether its nodes were
    timed (t), its rows counted (r) or arms planned (p, with their planning ms)."""
    noisy = sorted((t for t, r in control.items() if r > threshold), key=lambda t: -control[t])
    lines = ["### The templates above stock, and what steering did in them", "",
             f"The control (stock against stock, the same passes, judged as steering is) puts "
             f"{len(noisy)} of {len(control)} templates above {threshold}×"
             + (": " + ", ".join(f"{t} {control[t]:.2f}" for t in noisy) if noisy else "")
             + ": that is what the machine's noise alone does to a per-template ratio here.", ""]
    if not regressions:
        return lines
    stock = {(r["pass"], r["template"], r["seed"]): r["seconds"] for r in online_result["runs"] if r["config"] == "stock"}
    rows = []
    for template, ratio in sorted(regressions.items(), key=lambda kv: -kv[1]):
        cells = []
        for r in online_result["runs"]:
            if r["config"] != "steered" or r["template"] != template or r["pass"] < from_pass:
                continue
            steering = r.get("steering")
            base = stock.get((r["pass"], r["template"], r["seed"]))
            marks = ""
            if steering:
                marks = "".join(m for m, on in (("t", steering["node_timing"]), ("r", steering["rows_counted"])) if on)
                if steering["arms_planned"]:
                    marks += f"p{steering['planning_ms']:.0f}"
            cells.append(f"p{r['pass']} {r['seed']}: arm {steering['arm'] if steering else '?'} {_why(steering)} "
                         f"{r['seconds'] / base:.2f}" + (f" {marks}" if marks else "") if base else "–")
        rows.append([template, f"{ratio:.2f}", f"{control.get(template, float('nan')):.2f}", "; ".join(cells)])
    lines += [table(["template", "ratio", "control", "steered runs: pass instance: arm, why, time / stock's, marks"],
                    rows, align="lrrl"), ""]
    return lines
