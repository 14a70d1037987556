"""Running TPC-H query instances on a server that preloads microlora, and reading back what the
extension recorded of every executed plan node.

Two connections: the *worker* runs the queries with every statement sampled; the *observer*
reads the extension's trajectories with observation switched off, so that reading never records
anything itself. The nodes of one query are the trajectories added while it ran (the difference
of `trajectory_summary().total_count`); nothing else may use the server meanwhile.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg

from . import queries

#: What every learning-phase statement runs with: every statement observed, client statements
#: only, learning switched on or off per phase.
_WORKER_SETTINGS = ("SET microlora.enabled = on", "SET microlora.sample_rate = 1", "SET microlora.track = top")

_NODES_QUERY = """
SELECT t.node_type, t.scope, s.category, t.execution_ms, t.baseline_ms, t.predicted_ms, t.work, t.features
FROM microlora.trajectories(%s) t JOIN microlora.operator_stats s USING (scope)
"""


def connect(host: str, dbname: str = "postgres", user: str = "microlora") -> psycopg.Connection:
    """An autocommit connection that never prepares statements. psycopg prepares a statement
    after its fifth execution on a connection by default; a prepared statement without
    parameters then keeps the plan of its first prepared execution whatever the session's planner
    settings become, and plan steering leaves such generic plans alone."""
    return psycopg.connect(host=host, dbname=dbname, user=user, autocommit=True, prepare_threshold=None)


@dataclass
class Outcome:
    """One query instance: its wall time, and its nodes (None when it failed or timed out)."""

    query: int
    seed: int
    seconds: float
    nodes: list[dict] | None
    error: str | None = None


class LearningSession:
    """The worker and observer connections of the learning phase."""

    def __init__(self, host: str, timeout_s: int, scale: float):
        self.scale = scale
        self.worker = connect(host)
        self.observer = connect(host)
        self.observer.execute("SET microlora.enabled = off")
        for setting in _WORKER_SETTINGS:
            self.worker.execute(setting)
        self.worker.execute(f"SET statement_timeout = '{int(timeout_s)}s'")

    def set_learning(self, learn: bool) -> None:
        self.worker.execute(f"SET microlora.learn = {'on' if learn else 'off'}")

    def recorded_so_far(self) -> int:
        return self.observer.execute("SELECT total_count FROM microlora.trajectory_summary()").fetchone()[0]

    def run(self, query: int, seed: int) -> Outcome:
        before = self.recorded_so_far()
        outcome = timed(self.worker, query, seed, self.scale)
        if outcome.error is None:
            added = self.recorded_so_far() - before
            rows = self.observer.execute(_NODES_QUERY, (added,)).fetchall()
            outcome.nodes = [_node(row) for row in rows]
        return outcome

    def observer_cost(self) -> dict:
        """What observing cost inside the hooks, as the extension measured it."""
        statements, nodes, read_us, locked_us, locked_us_per_node = self.observer.execute(
            "SELECT * FROM microlora.observer_overhead()"
        ).fetchone()
        calls, planning_ms, hook_ms, hook_us_per_call = self.observer.execute(
            "SELECT * FROM microlora.planner_overhead()"
        ).fetchone()
        per_node_ns = (read_us * statements + locked_us * statements) * 1e3 / nodes if nodes else None
        return {
            "statements": statements,
            "nodes": nodes,
            "read_us_per_statement": read_us,
            "locked_us_per_statement": locked_us,
            "locked_ns_per_node": locked_us_per_node * 1e3,
            "hook_ns_per_node": per_node_ns,
            "planner_calls": calls,
            "planner_hook_us_per_call": hook_us_per_call,
            "planning_ms": planning_ms,
        }

    def close(self) -> None:
        self.worker.close()
        self.observer.close()


def timed(conn: psycopg.Connection, query: int, seed: int, scale: float) -> Outcome:
    """Runs one instance (for data of scale `scale`) and fetches its result, timing it from the
    client."""
    sql = queries.instance(query, seed, scale)
    started = time.perf_counter()
    try:
        conn.execute(sql).fetchall()
        error = None
    except psycopg.Error as failure:
        error = f"{type(failure).__name__}: {str(failure).strip()}"
    return Outcome(query, seed, time.perf_counter() - started, None, error)


def _node(row) -> dict:
    node_type, scope, category, execution_ms, baseline_ms, predicted_ms, work, features = row
    return {
        "node_type": node_type,
        "scope": scope,
        "category": category,
        "execution_ms": execution_ms,
        "baseline_ms": baseline_ms,
        "predicted_ms": predicted_ms,
        "work": work,
        "features": list(features),
    }
