"""Plan steering on TPC-H: the arms matrix first, then steering online against the planner's own
plans in the same run.

Arms matrix: every query instance under every arm's planner settings (read from the extension's
`microlora.arms()`), timed from the client with a statement timeout, its result checked equal to
the default arm's. The best arm per instance is the oracle; its total against the default arm's
is the workload's headroom.

Online: from an empty learner, `passes` passes over the instances, shuffled per pass; each
instance runs once with `microlora.steer = on` and once with it off (the planner's own plan, as
stock PostgreSQL plans it), in alternating order. Every statement is observed (sample_rate 1), as
steering learns from what runs.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time

import psycopg

from . import queries, workload


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


def arms_matrix(host: str, scale: float, seeds: list[int], timeout_s: int) -> dict:
    """Every instance under every arm: seconds, checksum, error; and the oracle per instance."""
    with workload.connect(host) as conn:
        conn.execute("SET microlora.enabled = off")
        conn.execute(f"SET statement_timeout = '{int(timeout_s)}s'")
        arm_list = arms(conn)
        cells = []
        for seed in seeds:
            for query in queries.QUERY_NUMBERS:
                sql = queries.instance(query, seed, scale)
                for arm in arm_list:
                    conn.execute("RESET ALL")
                    conn.execute("SET microlora.enabled = off")
                    conn.execute(f"SET statement_timeout = '{int(timeout_s)}s'")
                    for setting in filter(None, arm["settings"].split(", ")):
                        name, value = setting.split(" = ")
                        conn.execute(f"SET {name} = {value}")
                    seconds, checksum, error = _run(conn, sql)
                    cells.append({"query": query, "seed": seed, "arm": arm["arm"], "seconds": seconds,
                                  "checksum": checksum, "error": error})
    return {"arms": arm_list, "cells": cells, "timeout_s": timeout_s}


def matrix_summary(matrix: dict) -> dict:
    """The default total, the oracle's (best arm per instance), the headroom, and any instance
    whose result differed between arms."""
    by_instance: dict[tuple[int, int], list[dict]] = {}
    for cell in matrix["cells"]:
        by_instance.setdefault((cell["query"], cell["seed"]), []).append(cell)
    default_total = oracle_total = 0.0
    mismatches, best_arms = [], {}
    for (query, seed), cells in sorted(by_instance.items()):
        default = next(c for c in cells if c["arm"] == 0)
        finished = [c for c in cells if c["error"] is None]
        best = min(finished, key=lambda c: c["seconds"]) if finished else default
        default_total += default["seconds"]
        oracle_total += best["seconds"]
        best_arms[f"Q{query}/{seed}"] = best["arm"]
        reference = default["checksum"]
        if reference is not None and any(c["checksum"] not in (None, reference) for c in cells):
            mismatches.append(f"Q{query}/{seed}")
    return {
        "instances": len(by_instance),
        "default_s": default_total,
        "oracle_s": oracle_total,
        "headroom": 1.0 - oracle_total / default_total if default_total else 0.0,
        "best_arms": best_arms,
        "result_mismatches": mismatches,
    }


def online(host: str, scale: float, passes: int, seeds: list[int], timeout_s: int) -> dict:
    """`passes` passes, each instance once steered and once not, in alternating order."""
    steered = workload.connect(host)
    stock = workload.connect(host)
    steered.execute("SELECT microlora.reset()")
    for conn, steer in ((steered, "on"), (stock, "off")):
        conn.execute("SET microlora.sample_rate = 1")
        conn.execute(f"SET microlora.steer = {steer}")
        conn.execute(f"SET statement_timeout = '{int(timeout_s)}s'")
    instances = [(q, s) for s in seeds for q in queries.QUERY_NUMBERS]
    rng = random.Random(20261201)
    runs = []
    for p in range(1, passes + 1):
        order = instances[:]
        rng.shuffle(order)
        for i, (query, seed) in enumerate(order):
            sql = queries.instance(query, seed, scale)
            pair = [("steered", steered), ("stock", stock)]
            if i % 2:
                pair.reverse()
            for label, conn in pair:
                seconds, checksum, error = _run(conn, sql)
                runs.append({"pass": p, "query": query, "seed": seed, "config": label, "seconds": seconds,
                             "checksum": checksum, "error": error})
    planning = steered.execute("SELECT planning_ms FROM microlora.planner_overhead()").fetchone()[0]
    steering_rows = steered.execute(
        "SELECT count(*), count(*) FILTER (WHERE arm_in_use <> 'default'), coalesce(sum(cardinality(banned_arms)), 0) "
        "FROM microlora.steering").fetchone()
    steered.close()
    stock.close()
    return {"passes": passes, "runs": runs, "planning_ms": planning,
            "steered_statements": steering_rows[0], "statements_with_a_winner": steering_rows[1],
            "bans": steering_rows[2]}


def online_summary(result: dict) -> dict:
    """Per pass totals and cumulative totals, and each template's median ratio to stock from its
    third run on."""
    per_pass = []
    cumulative = {"steered": 0.0, "stock": 0.0}
    for p in range(1, result["passes"] + 1):
        totals = {c: sum(r["seconds"] for r in result["runs"] if r["pass"] == p and r["config"] == c)
                  for c in ("steered", "stock")}
        for c in totals:
            cumulative[c] += totals[c]
        per_pass.append({"pass": p, **{f"{c}_s": totals[c] for c in totals},
                         **{f"cumulative_{c}_s": cumulative[c] for c in cumulative}})
    ratios = {}
    for query in queries.QUERY_NUMBERS:
        def times(config):
            return [r["seconds"] for r in result["runs"]
                    if r["query"] == query and r["config"] == config and r["pass"] >= 3 and r["error"] is None]
        steered, stock = times("steered"), times("stock")
        if steered and stock:
            ratios[f"Q{query}"] = statistics.median(steered) / statistics.median(stock)
    mismatches = sorted({f"Q{r['query']}/{r['seed']}" for r in result["runs"] if r["config"] == "steered"
                         for s in result["runs"] if s["config"] == "stock" and s["pass"] == r["pass"]
                         and s["query"] == r["query"] and s["seed"] == r["seed"]
                         and None not in (r["checksum"], s["checksum"]) and r["checksum"] != s["checksum"]})
    return {"per_pass": per_pass, "template_ratio_from_third_run": ratios, "result_mismatches": mismatches,
            "worst_template": max(ratios.items(), key=lambda kv: kv[1]) if ratios else None}
