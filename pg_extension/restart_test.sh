#!/usr/bin/env bash
# What a #[pg_test] cannot show, because it runs inside one server and one function call: the
# learned state surviving a restart (saved at clean shutdown, loaded at start-up; plan steering's
# records included), a damaged state
# file being ignored with a LOG line, `microlora.save = off`, and `microlora.track = top` for
# statements sent by a client. Uses the extension installed by `cargo pgrx test` (run test.sh first)
# and a throw-away cluster owned by the Postgres system user (tests/pg/cluster.sh). Exits non-zero
# on the first failure.
set -euo pipefail
# shellcheck source=../tests/pg/cluster.sh
source "$(dirname "$0")/../tests/pg/cluster.sh"
trap cluster_destroy EXIT

# Reads without being observed (an observed read would itself change what it reads).
quiet_sql() { sql "SET microlora.enabled = off; $1"; }

passed=0
check() { # description actual expected
  if [ "$2" = "$3" ]; then
    passed=$((passed + 1))
    echo "ok - $1"
  else
    echo "FAILED - $1: got '$2', expected '$3'"
    echo "--- server log"; cat "$CLUSTER_LOG"
    exit 1
  fi
}

SETTINGS=("shared_preload_libraries = 'microlora'" "microlora.sample_rate = 1")
cluster_create restart
cluster_settings "${SETTINGS[@]}"
STATE_FILE=$CLUSTER_DATA/pg_stat/microlora.state
cluster_start
sql "CREATE EXTENSION microlora"

# track = top: a client's statement is observed, statements inside a DO block are not.
before=$(sql "SELECT total_count FROM microlora.trajectory_summary()")
sql "SELECT count(*) FROM generate_series(1, 1000)" >/dev/null
after=$(sql "SELECT total_count FROM microlora.trajectory_summary()")
# The summary query itself is also a top-level statement: one FunctionScan node.
check "a client's statement is observed with track = top" "$((after - before))" "3"
before=$after
sql "DO \$\$ BEGIN PERFORM count(*) FROM generate_series(1, 1000); END \$\$"
after=$(sql "SELECT total_count FROM microlora.trajectory_summary()")
check "statements inside a DO block are not observed with track = top" "$((after - before))" "1"
# EXECUTE of a prepared statement is the client's statement, as pg_stat_statements counts it.
before=$after
sql "PREPARE p AS SELECT count(*) FROM generate_series(1, 1000); EXECUTE p" >/dev/null
after=$(sql "SELECT total_count FROM microlora.trajectory_summary()")
check "EXECUTE of a client's prepared statement is observed with track = top" "$((after - before))" "3"

# Learn something, then restart: the adapters come back exactly.
for i in $(seq 1 20); do sql "SELECT v, count(*) FROM (SELECT i % 10 AS v FROM generate_series(1, 5000) i) s GROUP BY v" >/dev/null; done
# Any user can make the planner estimate an absurd cost (~1e198) for a statement that returns at
# once: it must not make the state unsavable.
sql "CREATE ROLE app LOGIN"
huge="(SELECT generate_series(1, 9223372036854775807) g)"
cross="SELECT 1 FROM $huge a1, $huge a2, $huge a3, $huge a4, $huge a5, $huge a6 OFFSET 0"
cluster_psql -qtA -U app -c "SELECT 1 FROM ($cross) x, ($cross) y LIMIT 1" >/dev/null
check "the absurd-cost statement was learned from" "$(quiet_sql "SELECT count(*) > 0 FROM microlora.trajectories(100) WHERE work > 1e100")" "t"
# Steering's records of a statement steered a few times (a join of two relations; every
# statement counts as slow at a threshold of 0).
for i in 1 2 3 4; do
  sql "SET microlora.steer = on; SET microlora.steer_threshold_ms = 0; SELECT count(*) FROM generate_series(1, 20000) a JOIN generate_series(1, 20000) b ON a = b" >/dev/null
done
steering_query="SELECT string_agg(s::text, ',' ORDER BY fingerprint) FROM microlora.steering s"
steering=$(quiet_sql "$steering_query")
check "the steered statement has a record" "$(quiet_sql "SELECT count(*) > 0 AND sum(default_runs) > 0 FROM microlora.steering")" "t"
exported=$(quiet_sql "SELECT md5(microlora.export_state())")
adapted=$(quiet_sql "SELECT sum(adapt_count) FROM microlora.operator_stats")
# The calibrations and q-error statistics (mean, median) come back too, not only the adapters.
errors_query="SELECT string_agg(concat_ws(':', scope, baseline_qerror_mean, baseline_qerror_median, learned_qerror_mean, learned_qerror_median), ',' ORDER BY op_type) FROM microlora.operator_stats WHERE adapt_count > 0"
errors=$(quiet_sql "$errors_query")
predicted=$(quiet_sql "SELECT string_agg(predicted_ms::text, ',') FROM microlora.predict('SELECT v, count(*) FROM (SELECT i % 10 AS v FROM generate_series(1, 5000) i) s GROUP BY v')")
# The per-scope execution statistics and the trajectories (with their features) come back too.
stats_query="SELECT string_agg(concat_ws(':', scope, nodes, total_ms, mean_improvement, success_rate), ',' ORDER BY op_type) FROM microlora.operator_stats"
stats=$(quiet_sql "$stats_query")
trajectories_query="SELECT md5(string_agg(t::text, ',')), count(*) FROM microlora.trajectories(100000) t"
trajectories=$(quiet_sql "$trajectories_query")
summary=$(quiet_sql "SELECT * FROM microlora.trajectory_summary()")
cluster_stop fast
check "the state file is written at shutdown" "$(test -s "$STATE_FILE" && echo yes)" "yes"
cluster_start
check "the state is loaded at start-up" "$(grep -c 'microlora: loaded the learned state' "$CLUSTER_LOG")" "1"
check "every part of it is loaded" "$(grep -c 'microlora: loaded the learned state .* except' "$CLUSTER_LOG")" "0"
check "the loaded adapters are the saved ones" "$(quiet_sql "SELECT md5(microlora.export_state())")" "$exported"
check "adaptation counts survive" "$(quiet_sql "SELECT sum(adapt_count) FROM microlora.operator_stats")" "$adapted"
check "q-error statistics survive" "$(quiet_sql "$errors_query")" "$errors"
check "predictions (calibrated baselines and corrections) survive" "$(quiet_sql "SELECT string_agg(predicted_ms::text, ',') FROM microlora.predict('SELECT v, count(*) FROM (SELECT i % 10 AS v FROM generate_series(1, 5000) i) s GROUP BY v')")" "$predicted"
check "per-scope execution statistics survive" "$(quiet_sql "$stats_query")" "$stats"
check "trajectories survive, in order" "$(quiet_sql "$trajectories_query")" "$trajectories"
check "the trajectory summary survives" "$(quiet_sql "SELECT * FROM microlora.trajectory_summary()")" "$summary"
check "steering's records survive" "$(quiet_sql "$steering_query")" "$steering"

# A damaged file is ignored with a LOG line and a fresh start.
cluster_stop fast
as_pg python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[40]^=1; open(p,'wb').write(b)" "$STATE_FILE"
cluster_start
check "a damaged file is reported" "$(grep -c 'ignoring "pg_stat/microlora.state" and starting fresh: .*checksum' "$CLUSTER_LOG")" "1"
check "a damaged file means a fresh start" "$(quiet_sql "SELECT sum(adapt_count) FROM microlora.operator_stats")" "0"

# A truncated file too.
cluster_stop fast
as_pg truncate -s 20 "$STATE_FILE"
cluster_start
check "a truncated file is reported" "$(grep -c 'starting fresh: .*truncated' "$CLUSTER_LOG")" "1"

# microlora.save = off keeps nothing: no load, and the file is removed at shutdown.
cluster_settings "${SETTINGS[@]}" "microlora.save = off"
cluster_stop fast
cluster_start
cluster_stop fast
check "save = off removes the state file" "$(test -e "$STATE_FILE" && echo present || echo absent)" "absent"

echo "restart tests: $passed passed"
