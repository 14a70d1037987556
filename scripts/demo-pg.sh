#!/usr/bin/env bash
# The PostgreSQL demo: builds and installs the extension (release), starts a throw-away cluster
# with microlora preloaded and every statement sampled, runs a pgbench workload and a handful of
# analytic queries, and shows what the extension learned: operator_stats, trajectory_summary()
# and a prediction for a statement it never ran. Assumes `bash scripts/setup.sh pg` was run.
# The cluster lives in a temporary directory (unix socket only) and is removed on exit.
# Takes about a minute and a half; DEMO_SECONDS (default 15) sets each pgbench run's length.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_RUN=${DEMO_SECONDS:-15}

say() { printf '\n==> demo-pg: %s\n' "$*"; }

# shellcheck source=../tests/pg/cluster.sh
source "$ROOT/tests/pg/cluster.sh"
trap cluster_destroy EXIT

say "building and installing the extension (release)"
install_extension --quiet

say "creating a throw-away cluster"
cluster_create demo
cluster_settings \
  "shared_preload_libraries = 'microlora'" \
  "microlora.sample_rate = 1" \
  "max_parallel_workers_per_gather = 0"
cluster_start
echo "    data directory $CLUSTER_DATA, socket in $CLUSTER_DIR (no TCP)"
sql "CREATE EXTENSION microlora"

say "pgbench -i -s 5 (500,000 accounts)"
cluster_pgbench -i -s 5 -q 2>&1 | tail -n 1

say "pgbench select-only, 4 clients, ${SECONDS_PER_RUN} s"
cluster_pgbench -S -c 4 -j 2 -T "$SECONDS_PER_RUN" 2>/dev/null | grep -E '^(number of transactions actually processed|tps)'
say "pgbench tpcb-like, 4 clients, ${SECONDS_PER_RUN} s"
cluster_pgbench -c 4 -j 2 -T "$SECONDS_PER_RUN" 2>/dev/null | grep -E '^(number of transactions actually processed|tps)'

say "analytic queries: joins, aggregates, grouping, sorts, limits, subqueries, windows, a nearest-neighbour search"
# Each runs a few times, so the adapters see repeated shapes.
cluster_psql -q >/dev/null <<'SQL'
CREATE TABLE places AS
  SELECT i AS id, point(random() * 1000, random() * 1000) AS location FROM generate_series(1, 20000) i;
CREATE INDEX ON places USING gist (location);
ANALYZE places;
SQL
ANALYTIC_QUERIES=(
  # Hash join, grouping, sort.
  "SELECT b.bid, count(*), avg(a.abalance) FROM pgbench_accounts a JOIN pgbench_branches b USING (bid) GROUP BY b.bid ORDER BY 3 DESC"
  # Plain aggregate over a filtered scan.
  "SELECT count(*), sum(abalance) FROM pgbench_accounts WHERE aid % 7 = 0"
  # Sort and limit (top-N).
  "SELECT aid, abalance FROM pgbench_accounts ORDER BY abalance DESC, aid LIMIT 10"
  # Nested loop over an index, from a small outer side.
  "SELECT t.tid, a.aid FROM pgbench_tellers t JOIN pgbench_accounts a ON a.aid = t.tid * 1000 + 1"
  # Merge join of two sorted inputs.
  "SET enable_hashjoin = off; SET enable_nestloop = off; SELECT count(*) FROM pgbench_tellers t JOIN pgbench_branches b ON t.bid = b.bid; RESET ALL"
  # Correlated subquery and a filtered subquery scan.
  "SELECT * FROM (SELECT bid, (SELECT count(*) FROM pgbench_tellers t WHERE t.bid = b.bid) AS tellers FROM pgbench_branches b OFFSET 0) s WHERE tellers > 0"
  # A window function over an aggregate.
  "SELECT bid, sum(abalance), rank() OVER (ORDER BY sum(abalance) DESC) FROM pgbench_accounts GROUP BY bid"
  # Distinct and a set operation.
  "SELECT DISTINCT bid FROM pgbench_tellers EXCEPT SELECT bid FROM pgbench_branches WHERE bid > 3"
  # A CTE and a materialized inner side.
  "WITH recent AS MATERIALIZED (SELECT aid, delta FROM pgbench_history ORDER BY mtime DESC LIMIT 500) SELECT count(*), sum(delta) FROM recent r JOIN pgbench_accounts a USING (aid)"
  # Nearest neighbours by distance through a GiST index (Rerank), and distances computed per row.
  "SELECT id FROM places ORDER BY location <-> point(500, 500) LIMIT 5"
  "SELECT id, round((location <-> point(500, 500))::numeric, 1) AS distance FROM places WHERE id <= 100"
  # A non-equi join: a nested loop over a materialized inner side.
  "SELECT count(*) FROM pgbench_branches b JOIN pgbench_tellers t ON t.tid < b.bid * 10"
)
for round in 1 2 3; do
  for query in "${ANALYTIC_QUERIES[@]}"; do sql "$query" >/dev/null; done
done
echo "    ran ${#ANALYTIC_QUERIES[@]} analytic queries, 3 times each"

# The views below are read with observation off, so reading them changes nothing.
say "SELECT * FROM microlora.operator_stats (scopes that saw nodes; times in ms)"
cluster_psql -q -c "SET microlora.enabled = off" -c "
SELECT scope, category, nodes, round(total_ms::numeric, 1) AS total_ms, round(mean_ms::numeric, 4) AS mean_ms,
       adapt_count, round(delta_norm::numeric, 4) AS delta_norm, round(ms_per_cost::numeric, 5) AS ms_per_cost,
       round(baseline_qerror_median::numeric, 2) AS baseline_qerr_med, round(learned_qerror_median::numeric, 2) AS learned_qerr_med,
       round(success_rate::numeric, 2) AS success
FROM microlora.operator_stats WHERE nodes > 0 ORDER BY nodes DESC"

say "SELECT * FROM microlora.trajectory_summary()"
cluster_psql -q -c "SET microlora.enabled = off" -c "
SELECT total_count, len AS buffered, round(mean_improvement::numeric, 3) AS mean_improvement,
       round(best_improvement::numeric, 3) AS best_improvement, round(success_rate::numeric, 3) AS success_rate,
       round(variance::numeric, 3) AS variance
FROM microlora.trajectory_summary()"

PREDICTED="SELECT b.bid, count(*) FROM pgbench_accounts a JOIN pgbench_branches b USING (bid) WHERE a.abalance > 0 GROUP BY b.bid ORDER BY 2 DESC LIMIT 3"
say "microlora.predict('$PREDICTED') (planned, not run)"
cluster_psql -q -c "SET microlora.enabled = off" -c "
SELECT node_id, repeat('  ', depth) || node_type AS node, scope, round(estimated_rows::numeric) AS est_rows,
       round(total_cost::numeric, 1) AS total_cost, round(baseline_ms::numeric, 4) AS baseline_ms,
       round(predicted_ms::numeric, 4) AS predicted_ms
FROM microlora.predict('$PREDICTED')"

say "what observing cost"
cluster_psql -q -c "SET microlora.enabled = off" -c "
SELECT o.statements, o.nodes, round(o.read_us_per_statement::numeric, 2) AS read_us_per_stmt,
       round(o.locked_us_per_node::numeric, 2) AS locked_us_per_node, p.calls AS plannings,
       round(p.hook_us_per_call::numeric, 3) AS planner_hook_us
FROM microlora.observer_overhead() o, microlora.planner_overhead() p"

cluster_stop fast
say "done (the cluster is removed)"
