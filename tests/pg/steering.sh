#!/usr/bin/env bash
# Plan steering in a real server (a throw-away cluster, see cluster.sh):
#
#   a. with microlora.steer = off, plans are the ones stock PostgreSQL makes;
#   b. a statement whose default plan is a bad nested loop (three correlated filters make the
#      planner expect 1 outer row where 5,000 come): steering switches to a faster arm within a
#      few runs, at least 5x faster, with the same result; settings, the session's own included,
#      are as they were after steered planning;
#   c. generic cached plans and statements nested in functions are never steered; custom plans of
#      a prepared statement are, and so is a statement whose join sits below its top level (a CTE);
#   d. with pg_stat_statements loaded too, each execution is counted once under its query id;
#   e. with no statement sampled for node timing, steered statements still teach their nodes' row
#      counts, which judge the plans of arms that never ran, and steering still finds the arm;
#   f. a statement that a statement timeout cancels is recorded as having run until then; a run
#      whose nodes the observation's sample timed is not recorded as its plan's time;
#   g. microlora.last_steered() tells what steering did with the session's last statement: its
#      first run measured its default plan, the next planned the arms and said why it ran its arm,
#      with the learner's estimates;
#      an arm that turns off nothing the statement's default plan holds is not planned;
#   h. EXPLAIN shows the plan steering runs (the statement's instance is its own text, whatever
#      came around it), and EXPLAIN ANALYZE's run is not recorded; from PostgreSQL 18 on,
#      EXPLAIN (MICROLORA) adds each node's scope, predicted time and learned rows, and the arm
#      steering planned the statement with and why; before 18 the option is unknown, as stock.
#
# Uses the installed extension (run `bash scripts/test.sh e2e`, or install_extension from
# scripts/postgres.sh, first). Prints `ok - …`/`FAILED - …` per check and finally
# `N passed, M failed`; exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
# shellcheck source=cluster.sh
source "$HERE/cluster.sh"

# shellcheck source=checks.sh
source "$HERE/checks.sh"
trap 'checks_finish $?' EXIT

# Every setting but the libraries; JIT and parallelism off so that timings are the plans'.
BASE=("max_parallel_workers_per_gather = 0" "jit = off" "autovacuum = off")
MICROLORA=("shared_preload_libraries = 'microlora'" "microlora.sample_rate = 1")

# orders.a, .b and .c are equal, so `a = 7 AND b = 7 AND c = 7` keeps 1% of the rows where the
# planner, multiplying three selectivities, expects one row; for each such order the nested loop
# it then picks reads 500 items through the index to keep one.
SETUP="CREATE TABLE orders AS SELECT i AS id, i % 100 AS a, i % 100 AS b, i % 100 AS c FROM generate_series(1, 500000) i;
  CREATE TABLE items AS SELECT i AS id, i % 400 AS order_key, (i % 500 = 7) AS flagged, i AS payload
    FROM generate_series(1, 200000) i;
  CREATE INDEX ON items (order_key);
  ANALYZE orders; ANALYZE items;"
Q="SELECT count(*), sum(payload) FROM orders o JOIN items i ON i.order_key = o.id % 400 WHERE o.a = 7 AND o.b = 7 AND o.c = 7 AND i.flagged"

restart_with() { cluster_stop fast; cluster_settings "$@"; cluster_start; }

echo "# creating a throw-away cluster"
cluster_create steering
cluster_settings "${BASE[@]}"
cluster_start
sql "$SETUP" >/dev/null
stock_plan=$(sql "EXPLAIN $Q")
stock_result=$(sql "$Q")

echo "# a. steer = off plans as stock PostgreSQL does"
restart_with "${BASE[@]}" "${MICROLORA[@]}"
sql "CREATE EXTENSION microlora"
check "steering is off by default" "$(sql "SHOW microlora.steer")" "off"
check "the plan with steer = off is stock PostgreSQL's, costs included" "$(sql "EXPLAIN $Q")" "$stock_plan"
check_true "the stock plan is the nested loop this test is about" grep -q "Nested Loop" <<<"$stock_plan"

echo "# b. steering replaces a bad nested loop"
# Every decision may explore, so that a few runs suffice; the arms that keep the nested loop
# are banned or never win, the ones that drop it win.
STEER="SET microlora.steer = on; SET microlora.steer_explore_rate = 1; SET enable_mergejoin = off;"
# The steered statement's record: the one with an arm in use if any. Each statement text is an
# instance of its own (part e's advising runs have one too), so the slowest is not always it.
steering_row() {
  sql "SET microlora.enabled = off; SELECT default_runs, round(default_median_ms), arm_in_use, arm_runs, round(arm_median_ms)
       FROM microlora.steering WHERE default_runs > 0
       ORDER BY arm_in_use <> 'default' DESC, arm_runs DESC, default_median_ms DESC LIMIT 1"
}
# Runs the statement steered, up to 15 times, until an arm other than the default has run 3
# times; sets runs, default_runs, default_ms, arm, arm_runs, arm_ms, and results_differ (how many
# runs returned another result than stock PostgreSQL's).
steer_until_settled() {
  results_differ=0
  runs=0
  for run in $(seq 1 15); do
    runs=$run
    result=$(sql "$STEER $Q")
    [ "$result" = "$stock_result" ] || results_differ=$((results_differ + 1))
    IFS='|' read -r default_runs default_ms arm arm_runs arm_ms <<<"$(steering_row)"
    if [ "${arm:-default}" != default ] && [ "${arm_runs:-0}" -ge 3 ]; then break; fi
  done
  echo "# after $runs runs: default plan ${default_ms:-?} ms over ${default_runs:-0} runs; '$arm' ${arm_ms:-?} ms over ${arm_runs:-0} runs"
}
steer_until_settled
check "every steered run returned stock PostgreSQL's result" "$results_differ" "0"
check_true "steering settled on an arm without the nested loop within 15 runs" test "${arm:-default}" != default
check_true "the arm is at least 5x faster than the default plan (${arm_ms:-?} vs ${default_ms:-?} ms)" \
  test "$(( ${arm_ms:-1000000} * 5 ))" -le "${default_ms:-0}"
check "the session's own setting is as it set it after steered planning" \
  "$(sql "$STEER $Q; SHOW enable_mergejoin" | tail -n 1)" "off"
check "the settings the arms change are as they were" \
  "$(sql "$STEER $Q; SELECT current_setting('enable_nestloop') || current_setting('enable_indexscan') || current_setting('max_parallel_workers_per_gather')" | tail -n 1)" \
  "onon0"
check "predict_arms shows every arm and the one steering runs now" \
  "$(sql "SELECT count(*), count(*) FILTER (WHERE chosen), bool_and(low_ms <= predicted_ms AND predicted_ms <= high_ms)
          FROM microlora.predict_arms('$Q')")" "8|1|t"
check "no microlora warning or error in the server log" \
  "$(grep -icE 'microlora.*(WARNING|ERROR|failed)' "$CLUSTER_LOG" || true)" "0"

echo "# b2. an ERROR while planning an arm: logged, the default plan runs, settings as they were"
# The function is folded while planning, under each arm's settings; under the arms without
# nested loops it raises.
sql "CREATE FUNCTION refuse_without_nestloop(int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS
     \$\$ BEGIN IF current_setting('enable_nestloop') = 'off' THEN RAISE EXCEPTION 'planned without nested loops'; END IF;
     RETURN true; END \$\$" >/dev/null
Q2="$Q AND refuse_without_nestloop(1)"
results_differ=0
for _ in 1 2 3; do
  result=$(sql "$STEER $Q2")
  [ "$result" = "$stock_result" ] || results_differ=$((results_differ + 1))
done
check "every run returned the statement's result" "$results_differ" "0"
check_true "the failure was logged and skipped" \
  grep -q "microlora: steering a statement failed and was skipped: planned without nested loops" "$CLUSTER_LOG"
check "the settings are as they were after it, the session's own included" \
  "$(sql "$STEER $Q2; SELECT current_setting('enable_nestloop') || current_setting('enable_mergejoin')" | tail -n 1)" "onoff"

echo "# c. generic plans and nested statements are not steered; custom plans are"
sql "SELECT microlora.reset()" >/dev/null
P="PREPARE p(int) AS SELECT count(*), sum(payload) FROM orders o JOIN items i ON i.order_key = o.id % 400 WHERE o.a = \$1 AND o.b = \$1 AND o.c = \$1 AND i.flagged"
sql "$STEER SET plan_cache_mode = force_generic_plan; $P; EXECUTE p(7); EXECUTE p(7); EXECUTE p(7)" >/dev/null
check "a generic cached plan is not steered" "$(sql "SELECT count(*) FROM microlora.steering")" "0"
sql "$STEER DO \$\$ BEGIN FOR i IN 1..3 LOOP PERFORM count(*) FROM orders o JOIN items i ON i.order_key = o.id % 400 WHERE o.a = 7 AND o.b = 7 AND o.c = 7 AND i.flagged; END LOOP; END \$\$" >/dev/null
check "statements nested in a function are not steered" "$(sql "SELECT count(*) FROM microlora.steering")" "0"
sql "$STEER SET plan_cache_mode = force_custom_plan; $P; EXECUTE p(7); EXECUTE p(7)" >/dev/null
check "custom plans of a prepared statement are steered" "$(sql "SELECT count(*) FROM microlora.steering")" "1"
check "a statement whose join sits in a CTE is considered, one reading a single table is not" \
  "$(sql "$STEER WITH j AS (SELECT o.id FROM orders o JOIN items i ON i.order_key = o.id) SELECT count(*) FROM j; SELECT 'considered ' || count(*) FROM microlora.last_steered()" | tail -n 1) $(sql "$STEER WITH j AS (SELECT id FROM orders) SELECT count(*) FROM j; SELECT 'considered ' || count(*) FROM microlora.last_steered()" | tail -n 1)" \
  "considered 1 considered 0"

echo "# d. pg_stat_statements counts each steered execution once"
restart_with "${BASE[@]}" "shared_preload_libraries = 'pg_stat_statements, microlora'" "microlora.sample_rate = 1"
sql "CREATE EXTENSION pg_stat_statements" >/dev/null
sql "SELECT pg_stat_statements_reset()" >/dev/null
for _ in 1 2 3 4 5 6; do sql "$STEER $Q" >/dev/null; done
check "pg_stat_statements counts 6 calls of the steered statement" \
  "$(sql "SELECT sum(calls) FROM pg_stat_statements WHERE query LIKE 'SELECT count(*), sum(payload) FROM orders%'")" "6"
check "under one query id" \
  "$(sql "SELECT count(DISTINCT queryid) FROM pg_stat_statements WHERE query LIKE 'SELECT count(*), sum(payload) FROM orders%'")" "1"

echo "# e. steered statements teach their row counts without per-node timing"
restart_with "${BASE[@]}" "shared_preload_libraries = 'microlora'" "microlora.sample_rate = 0"
sql "SELECT microlora.reset()" >/dev/null
for _ in 1 2 3; do sql "SET microlora.steer = advise; $Q" >/dev/null; done
check "no node was timed" "$(sql "SELECT total_count FROM microlora.trajectory_summary()")" "0"
check "the rows the correlated filters return are learned, for any plan of the statement" \
  "$(sql "SELECT bool_or(node_type = 'SeqScan' AND learned_rows > 100 * estimated_rows) FROM microlora.predict('$Q')")" "t"
check "and scored against the planner's" \
  "$(sql "SELECT rows_qerror_planner_median > 100 FROM microlora.operator_stats WHERE scope = 'SeqScan'")" "t"
steer_until_settled
check_true "with no node timed, steering settles on an arm without the nested loop within 15 runs" \
  test "${arm:-default}" != default

echo "# f. a statement that a statement timeout ends is remembered as slow, not forgotten"
# Its default plan runs into the timeout before ExecutorEnd: what its executor ran is recorded at
# the session's next statement, so that a plan too slow to finish is steered on its next run.
session=$(as_pg "$PG_BIN/psql" -X -qtA -h "$CLUSTER_DIR" -d postgres -c "SELECT microlora.reset()" \
  -c "SET microlora.steer = on" -c "SET statement_timeout = '300ms'" -c "$Q" -c "RESET statement_timeout" \
  -c "SELECT default_runs || ' ' || round(default_median_ms) FROM microlora.steering" 2>&1 || true)
check_true "the statement was cancelled by the timeout" grep -q "canceling statement due to statement timeout" <<<"$session"
read -r timed_out_runs timed_out_ms <<<"$(grep -E '^[0-9]+ [0-9]+$' <<<"$session" | tail -n 1)"
check "its default plan's run is recorded" "${timed_out_runs:-none}" "1"
check_true "as the time it ran before the timeout (${timed_out_ms:-?} ms)" \
  test "${timed_out_ms:-0}" -ge 250 -a "${timed_out_ms:-0}" -le 3000

echo "# f2. a run the observation's sample timed node by node is not taken for its plan's time"
# Timing every node reads the clock twice per row and node (EXPLAIN ANALYZE's cost): such a run is
# slower than its plan runs. A sample_rate just below 1 times (all but surely) the first run.
# (The queries reading the outcome are over one relation each, so steering leaves them alone.)
session=$(as_pg "$PG_BIN/psql" -X -qtA -h "$CLUSTER_DIR" -d postgres -c "SELECT microlora.reset()" \
  -c "SET microlora.steer = on" -c "SET microlora.sample_rate = 0.999999" -c "$Q" \
  -c "SELECT 'timed ' || node_timing FROM microlora.last_steered()" \
  -c "SELECT 'recorded ' || count(*) FROM microlora.steering" \
  -c "SET microlora.sample_rate = 0" -c "$Q" \
  -c "SELECT 'ran ' || arm || ', timed ' || node_timing FROM microlora.last_steered()" \
  -c "SELECT 'recorded ' || last_arm FROM microlora.steering" 2>&1 || true)
check "the first run's nodes were timed, and steering recorded no run of it" \
  "$(grep -E '^(timed|recorded) ' <<<"$session" | head -n 2 | tr '\n' ' ')" "timed true recorded 0 "
ran=$(grep -E '^ran ' <<<"$session" | sed -E 's/^ran ([^,]*), timed false$/\1/')
check "the next run, untimed, is recorded, as a run of the plan it ran (${ran:-none})" \
  "$(grep -E '^recorded ' <<<"$session" | tail -n 1)" "recorded ${ran:-none}"

echo "# g. last_steered() tells what steering did with the session's last statement"
LAST="SELECT arm, why, arms_planned, planning_ms > 0, node_timing, rows_counted, ms > 0, predicted_ms > 0, default_predicted_ms > 0 FROM microlora.last_steered()"
session=$(as_pg "$PG_BIN/psql" -X -qtA -h "$CLUSTER_DIR" -d postgres -c "SELECT microlora.reset()" \
  -c "$LAST" -c "SET microlora.steer = on" -c "SET microlora.steer_explore_rate = 1" \
  -c "$Q" -c "$LAST" -c "$Q" -c "$LAST" -c "SELECT 1" -c "$LAST" 2>&1 || true)
mapfile -t lines < <(grep '|' <<<"$session" | grep -v '^[0-9]*|[0-9]*$')
check "before any statement: no row; then the first run of the statement: its default plan, measured" \
  "${lines[0]:-none}" "default|not measured slow before: the default plan runs and is measured|0|f|f|t|t||"
IFS='|' read -r arm why planned planning_positive node_timing rows_counted timed predicted default_predicted <<<"${lines[1]:-}"
check_true "its second run planned the other arms (${planned:-none} planned, ${why:-no reason})" \
  test "${planned:-0}" -ge 1 -a "$planning_positive" = t -a "$timed" = t
check_true "and says why it ran '${arm:-?}'" test -n "${why:-}" -a "${why:-}" != "not measured slow before: the default plan runs and is measured"
check "no node was timed (sample_rate 0), its rows were counted" "${node_timing:-}|${rows_counted:-}" "f|t"
check "the round shows the learner's estimates of the plan that ran and of the default plan" \
  "${predicted:-}|${default_predicted:-}" "t|t"
check "a statement steering does not consider leaves it as it was" "${lines[2]:-none}" "${lines[1]:-}"
# An arm only turns plan nodes off; an arm that turns off nothing the default plan holds would
# plan it again, so steering does not plan it: a hash join of two sequential scans (no index on
# either key, no parallelism) holds nothing any arm turns off.
H="SELECT count(*) FROM orders o JOIN items i ON i.payload = o.id"
check "the default plan of a join on unindexed keys: a hash join of two sequential scans" \
  "$(sql "EXPLAIN (COSTS OFF) $H" | grep -oE 'Hash Join|Seq Scan|Nested Loop|Merge Join|Index|Bitmap|Gather|Memoize' | sort -u | tr '\n' ' ')" \
  "Hash Join Seq Scan "
session=$(as_pg "$PG_BIN/psql" -X -qtA -h "$CLUSTER_DIR" -d postgres -c "SELECT microlora.reset()" \
  -c "SET microlora.steer = on" -c "$H" -c "$H" -c "$LAST" 2>&1 || true)
IFS='|' read -r arm why planned planning_positive _ <<<"$(grep '|' <<<"$session" | tail -n 1)"
check "its second run, slow enough to steer, went through a planning round, planned no arm in it and ran the default plan (${why:-no reason})" \
  "${planning_positive:-none}|${planned:-none}|${arm:-none}" "t|0|default"

echo "# h. EXPLAIN shows the plan steering runs"
sql "SELECT microlora.reset()" >/dev/null
steer_until_settled
recorded_before=$(steering_row)
steered_plan=$(sql "$STEER EXPLAIN (COSTS OFF) $Q")
check_true "EXPLAIN of the steered statement shows the plan steering runs, without the nested loop" \
  test -n "$steered_plan" -a "$(grep -c 'Nested Loop' <<<"$steered_plan")" = 0
check "the same with the statement's text in another batch, with its semicolon" \
  "$(sql "SELECT 1; $STEER
     EXPLAIN (COSTS OFF)   $Q ;" | tail -n +2)" "$steered_plan"
check "with steer = off, EXPLAIN shows stock PostgreSQL's plan" "$(sql "EXPLAIN $Q")" "$stock_plan"
check "EXPLAIN ANALYZE's run is not recorded as one of the statement's" \
  "$(sql "$STEER EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $Q" >/dev/null; steering_row)" "$recorded_before"
LAST="SELECT 'last: ' || arm || ', ' || why FROM microlora.last_steered()"
mapfile -t lasts < <(sql "$STEER $Q; $LAST; EXPLAIN $Q; $LAST" | grep '^last: ')
check_true "EXPLAIN leaves last_steered() as the session's last run left it (${lasts[0]:-no row})" \
  test "${#lasts[@]}" = 2 -a "${lasts[0]:-}" = "${lasts[1]:-}"
explained=$(as_pg "$PG_BIN/psql" -X -qtA -h "$CLUSTER_DIR" -d postgres \
  -c "$STEER EXPLAIN (MICROLORA, COSTS OFF) $Q" 2>&1 || true)
if [ "$PG_MAJOR" -ge 18 ]; then
  check_true "EXPLAIN (MICROLORA) gives each node its scope" \
    test "$(grep -c 'Microlora Scope: ' <<<"$explained")" -ge 3
  check_true "its predicted own time" \
    grep -qE 'Microlora Predicted Time: [0-9.]+ ms' <<<"$explained"
  check_true "and its rows as learned" grep -qE 'Microlora Learned Rows: [0-9]+' <<<"$explained"
  check "and says, per plan, the arm steering planned the statement with and why" \
    "$(grep -oE 'Microlora Steering: [^:]*' <<<"$explained")" "Microlora Steering: $arm"
  check "the same in JSON, where every field is named" \
    "$(sql "$STEER EXPLAIN (MICROLORA, COSTS OFF, FORMAT JSON) $Q" | python3 -c '
import json, sys
plan = json.load(sys.stdin)[0]
nodes, stack = [], [plan["Plan"]]
while stack:
    node = stack.pop(); nodes.append(node); stack.extend(node.get("Plans", []))
print(all("Microlora Scope" in node and "Microlora Learned Rows" in node for node in nodes),
      plan["Microlora Steering"].split(":")[0], plan["Microlora Arms Planned"] >= 0)')" "True $arm True"
  check_true "a statement steering does not consider is said so" \
    grep -q 'Microlora Steering: default: not steered: steering considers' \
    <<<"$(sql "$STEER EXPLAIN (MICROLORA) SELECT count(*) FROM orders")"
  check "without the option, or with it off, EXPLAIN prints nothing of microlora" \
    "$(sql "$STEER EXPLAIN (COSTS OFF) $Q; EXPLAIN (MICROLORA false, COSTS OFF) $Q" | grep -c Microlora || true)" "0"
else
  check_true "before PostgreSQL 18, EXPLAIN (MICROLORA) is an unknown option, as in stock PostgreSQL" \
    grep -q 'unrecognized EXPLAIN option "microlora"' <<<"$explained"
fi
check "no microlora warning or error in the server log after EXPLAINs" \
  "$(grep -icE 'microlora: .*failed' "$CLUSTER_LOG" | tr -d ' ')" \
  "$(grep -c 'microlora: steering a statement failed and was skipped: planned without nested loops' "$CLUSTER_LOG" | tr -d ' ')"

cluster_stop fast
finished=1
