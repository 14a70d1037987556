#!/usr/bin/env bash
# End-to-end tests of the PostgreSQL extension against a real server (a throw-away cluster, unix
# socket only, see cluster.sh), for what neither a #[pg_test] nor restart_test.sh can show:
#
#   a. kill -9 of a backend during a workload: crash recovery, the extension still answers, and
#      the state file is intact and loses at most one microlora.save_interval;
#   b. kill -9 of the postmaster: a normal start afterwards, with the same guarantees;
#   c. 8 concurrent pgbench clients running a mixed script: the extension counts exactly the plan
#      nodes that ran (transactions × nodes per transaction, from EXPLAIN), no crash, no deadlock;
#   d. learned state moves to the npm package and back: export_state() loads in Node with the
#      same adapt counts, Node adapts one scope, import_state() takes it;
#   e. errors reach the client byte for byte as stock PostgreSQL sends them: tests/pg/errors.sql,
#      and tests/pg/errors_parallel.sql (errors raised inside parallel workers, steering on).
#
# Uses the installed extension: run `bash pg_extension/test.sh` (or install_extension from
# scripts/postgres.sh) first; part d needs the npm package built by `bash wasm/build.sh`. Prints
# `ok - …`/`FAILED - …` per check and finally `N passed, M failed`; exits non-zero if anything
# failed.
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
ROOT=$(cd ../.. && pwd)
# shellcheck source=cluster.sh
source "$HERE/cluster.sh"

# Seconds between periodic saves: short, so that the tests can wait out one interval.
SAVE_INTERVAL=2

# shellcheck source=checks.sh
source "$HERE/checks.sh"

BACKGROUND_PID=
finish() {
  local status=$?
  if [ -n "$BACKGROUND_PID" ]; then kill "$BACKGROUND_PID" 2>/dev/null || true; wait "$BACKGROUND_PID" 2>/dev/null || true; fi
  checks_finish "$status"
}
trap finish EXIT

# Reads the learner without being observed (an observed read would change what it reads).
quiet_sql() { sql "SET microlora.enabled = off; $1"; }
# "op:adapt_count" of every scope, in op order.
ADAPT_COUNTS="SELECT string_agg(op_type || ':' || adapt_count, ' ' ORDER BY op_type) FROM microlora.operator_stats"
TOTAL_NODES="SELECT sum(nodes) FROM microlora.operator_stats"

# Whether every scope's count in $2 is at least the one in $1 (both as ADAPT_COUNTS prints them).
counts_at_least() { # recorded now
  python3 - "$1" "$2" <<'EOF'
import sys
parse = lambda text: dict(item.split(':') for item in text.split())
recorded, now = parse(sys.argv[1]), parse(sys.argv[2])
sys.exit(0 if recorded.keys() == now.keys() and all(int(now[k]) >= int(recorded[k]) for k in recorded) else 1)
EOF
}
total_of() { tr ' ' '\n' <<<"$1" | awk -F: '{ total += $2 } END { print total + 0 }'; }
loaded_lines() { grep -c 'microlora: loaded the learned state' "$CLUSTER_LOG" || true; }

# Waits (at most $1 s) until the server answers.
wait_for_server() {
  local deadline=$((SECONDS + $1))
  while [ $SECONDS -lt $deadline ]; do
    if sql "SELECT 1" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

# Starts a select-only pgbench workload in the background for at most $1 s.
WORKLOAD_CLIENTS=2
start_workload() {
  cluster_pgbench -n -S -c "$WORKLOAD_CLIENTS" -j 2 -T "$1" >/dev/null 2>&1 &
  BACKGROUND_PID=$!
}
# Waits (at most $1 s) until every client of the workload is connected: pgbench's backends show
# in pg_stat_activity.
workload_connected() {
  local deadline=$((SECONDS + $1)) connected
  while [ $SECONDS -lt $deadline ]; do
    connected=$(quiet_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'" 2>/dev/null || true)
    [ "${connected:-0}" -ge "$WORKLOAD_CLIENTS" ] && return 0
    sleep 0.2
  done
  return 1
}
stop_workload() { # waits (bounded by pgbench's -T) for the workload, ignoring how it ended
  if [ -n "$BACKGROUND_PID" ]; then wait "$BACKGROUND_PID" 2>/dev/null || true; BACKGROUND_PID=; fi
}

# The state file's last modification, in nanoseconds since the epoch (0 while there is none).
state_file_mtime_ns() {
  local mtime
  mtime=$(stat -c %.9Y "$CLUSTER_DATA/pg_stat/microlora.state" 2>/dev/null) || { echo 0; return; }
  echo "${mtime/./}"
}
# A save copies the state, encodes it and then writes the file: a file written this long after
# RECORDED was read holds a copy taken after RECORDED was read.
SAVE_MARGIN_NS=1000000000
# How long the waits below give the workload: a save is due every SAVE_INTERVAL s.
LEARN_DEADLINE=$((SAVE_INTERVAL * 5 + 10))

# Learns under a workload until what it learned has been saved, and returns (in RECORDED) the
# adapt counts the file must hold at least after a crash from now on. A wait that runs out is a
# failed check; the checks after it then show what is missing.
learn_and_record() {
  local deadline start recorded_ns
  # Learned from: the adapt counts grow beyond what the state held when the workload started
  # (part b starts from the state part a left behind).
  start=$(total_of "$(quiet_sql "$ADAPT_COUNTS")")
  deadline=$((SECONDS + LEARN_DEADLINE))
  while RECORDED=$(quiet_sql "$ADAPT_COUNTS"); [ "$(total_of "$RECORDED")" -le "$start" ]; do
    if [ $SECONDS -ge $deadline ]; then
      not_ok "the workload was learned from within $LEARN_DEADLINE s (adapt counts: $RECORDED)"
      return 0
    fi
    sleep 0.2
  done
  recorded_ns=$(date +%s%N)
  # Saved: the workload keeps running, so a backend saves the state again once an interval has
  # passed since the last save.
  deadline=$((SECONDS + LEARN_DEADLINE))
  while [ "$(state_file_mtime_ns)" -le $((recorded_ns + SAVE_MARGIN_NS)) ]; do
    if [ $SECONDS -ge $deadline ]; then
      not_ok "a periodic save wrote the state file within $LEARN_DEADLINE s after the adapt counts were recorded"
      return 0
    fi
    sleep 0.2
  done
}

echo "# creating a throw-away cluster"
cluster_create e2e
cluster_settings \
  "shared_preload_libraries = 'microlora'" \
  "microlora.sample_rate = 1" \
  "microlora.track = top" \
  "microlora.save_interval = ${SAVE_INTERVAL}s" \
  "max_parallel_workers_per_gather = 0" \
  "autovacuum = off"
cluster_start
sql "CREATE EXTENSION microlora"
cluster_pgbench -i -s 1 -q >/dev/null 2>&1

echo "# a. kill -9 of a backend while a workload runs"
start_workload 30
workload_connected 30 || not_ok "the workload's $WORKLOAD_CLIENTS pgbench clients connected within 30 s"
learn_and_record
check_true "the workload is learned from before the crash" test "$(total_of "$RECORDED")" -gt 0
loaded_before=$(loaded_lines)
victim=$(sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' AND pid <> pg_backend_pid() LIMIT 1")
check_true "a pgbench backend is running" test -n "$victim"
kill -9 "$victim"
stop_workload
check_true "the server comes back after the backend crash" wait_for_server 60
check_true "the postmaster logged the crash and reinitialized" grep -q "terminated by signal 9" "$CLUSTER_LOG"
check_true "the postmaster reloaded the state file when it reinitialized" test "$(loaded_lines)" -gt "$loaded_before"
after_crash=$(quiet_sql "$ADAPT_COUNTS")
check_true "the extension answers after crash recovery" test -n "$after_crash"
check_true "at most one save interval is lost (every scope's adapt count >= the one recorded an interval before the crash)" \
  counts_at_least "$RECORDED" "$after_crash"
check "the extension observes again after crash recovery" \
  "$(sql "SELECT count(*) FROM pgbench_branches" >/dev/null; quiet_sql "SELECT total_count > 0 FROM microlora.trajectory_summary()")" "t"
loaded_before=$(loaded_lines)
cluster_restart
check "after a clean restart the state file is loaded" "$(loaded_lines)" "$((loaded_before + 1))"
check "no state file was ignored as damaged" "$(grep -c 'ignoring "pg_stat/microlora.state"' "$CLUSTER_LOG" || true)" "0"
check_true "the state file still holds what was recovered" counts_at_least "$after_crash" "$(quiet_sql "$ADAPT_COUNTS")"

echo "# b. kill -9 of the postmaster while a workload runs"
start_workload 30
workload_connected 30 || not_ok "the workload's $WORKLOAD_CLIENTS pgbench clients connected within 30 s"
learn_and_record
postmaster=$(head -n 1 "$CLUSTER_DATA/postmaster.pid")
children=$(pgrep -P "$postmaster" | tr '\n' ' ')
check_true "the postmaster has children (backends, auxiliary processes)" test -n "$children"
loaded_before=$(loaded_lines)
kill -9 "$postmaster"
stop_workload
# Postgres refuses to start while a process of the old server still uses its shared memory; the
# orphans notice their postmaster's death and exit.
orphans_gone() {
  local deadline=$((SECONDS + 60)) pid alive
  while [ $SECONDS -lt $deadline ]; do
    alive=0
    for pid in $children; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.5
  done
  return 1
}
check_true "the old server's processes exit after their postmaster died" orphans_gone
check_true "a stale postmaster.pid is left behind" test -f "$CLUSTER_DATA/postmaster.pid"
# pg_ctl warns "another server might be running" (the pid file) and starts it anyway.
check_true "the server starts normally with pg_ctl start" cluster_start 2>/dev/null
check_true "it ran crash recovery" grep -q "database system was interrupted\|was not properly shut down" "$CLUSTER_LOG"
check "the state file was loaded at start-up" "$(loaded_lines)" "$((loaded_before + 1))"
after_crash=$(quiet_sql "$ADAPT_COUNTS")
check_true "at most one save interval is lost after the postmaster's crash" counts_at_least "$RECORDED" "$after_crash"
loaded_before=$(loaded_lines)
cluster_restart
check "after a clean restart the state file is loaded again" "$(loaded_lines)" "$((loaded_before + 1))"
check "no state file was ignored as damaged after the crashes" "$(grep -c 'ignoring "pg_stat/microlora.state"' "$CLUSTER_LOG" || true)" "0"

echo "# c. 8 concurrent clients, a mixed script: every node that ran is counted exactly once"
CLIENTS=8
TRANSACTIONS=250
# Statements whose plans do not depend on the values drawn, and whose every node runs.
STATEMENTS=(
  "SELECT abalance FROM pgbench_accounts WHERE aid = :aid"
  "UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid"
  "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, 1, :aid, :delta, CURRENT_TIMESTAMP)"
  "SELECT t.bid, count(*), sum(t.tbalance) FROM pgbench_tellers t JOIN pgbench_branches b ON b.bid = t.bid GROUP BY t.bid ORDER BY t.bid"
  "SELECT count(*) FROM (SELECT aid FROM pgbench_accounts WHERE aid >= :aid ORDER BY aid LIMIT 10) s"
  "SELECT max(tbalance), (SELECT count(*) FROM pgbench_branches) FROM pgbench_tellers WHERE tid <> :tid"
  "SELECT a.aid, b.bbalance FROM pgbench_accounts a JOIN pgbench_branches b ON b.bid = a.bid WHERE a.aid IN (:aid, :aid + 1, :aid + 2)"
)
SCRIPT=$CLUSTER_DIR/mixed.sql
{
  echo '\set aid random(1, 90000)'
  echo '\set tid random(1, 10)'
  echo '\set delta random(-5000, 5000)'
  echo 'BEGIN;'
  for statement in "${STATEMENTS[@]}"; do echo "$statement;"; done
  echo 'END;'
} >"$SCRIPT"
chmod a+r "$SCRIPT"
per_transaction=0
for statement in "${STATEMENTS[@]}"; do
  explained=${statement//:aid/4242}; explained=${explained//:tid/3}; explained=${explained//:delta/7}
  nodes=$(quiet_sql "EXPLAIN (FORMAT JSON) $explained" | grep -o '"Node Type"' | wc -l)
  echo "#   $nodes nodes: $statement"
  per_transaction=$((per_transaction + nodes))
done
expected=$((CLIENTS * TRANSACTIONS * per_transaction))
log_offset=$(stat -c %s "$CLUSTER_LOG")
before=$(quiet_sql "$TOTAL_NODES")
bench_out=$CLUSTER_DIR/pgbench.out
if timeout 300 sudo -u "$PG_USER" "$PG_BIN/pgbench" -h "$CLUSTER_DIR" -n -c "$CLIENTS" -j 2 -t "$TRANSACTIONS" \
    -f "$SCRIPT" postgres >"$bench_out" 2>&1; then
  ok "pgbench finished: $CLIENTS clients × $TRANSACTIONS transactions"
else
  not_ok "pgbench finished: $(tail -n 5 "$bench_out")"
fi
check "every transaction was processed" \
  "$(grep -o 'number of transactions actually processed: [0-9/]*' "$bench_out" | awk '{print $NF}')" \
  "$((CLIENTS * TRANSACTIONS))/$((CLIENTS * TRANSACTIONS))"
after=$(quiet_sql "$TOTAL_NODES")
check "nodes counted = transactions × $per_transaction nodes per transaction (from EXPLAIN)" "$((after - before))" "$expected"
new_log=$(tail -c +"$((log_offset + 1))" "$CLUSTER_LOG")
check "no backend crashed" "$(grep -c 'terminated by signal' <<<"$new_log" || true)" "0"
check "no deadlock" "$(grep -c 'deadlock detected' <<<"$new_log" || true)" "0"
check "no error in the hooks" "$(grep -c 'microlora: .* failed and was skipped' <<<"$new_log" || true)" "0"

echo "# d. learned state moves to the npm package and back"
NODE_ENTRY=$ROOT/wasm/pkg/node.js
if [ ! -f "$NODE_ENTRY" ]; then
  not_ok "the npm package is built ($NODE_ENTRY is missing: run 'bash wasm/build.sh')"
else
  exported=$CLUSTER_DIR/exported.b64
  imported=$CLUSTER_DIR/imported.b64
  counts_before=$(quiet_sql "$ADAPT_COUNTS")
  quiet_sql "SELECT encode(microlora.export_state(), 'base64')" >"$exported"
  # The scope adapted in JavaScript: Sort (11), which the mixed workload above learned from.
  ADAPTED=11
  if node_out=$(node "$HERE/state_exchange.mjs" "$exported" "$ADAPTED" "$imported"); then
    ok "Node loads the exported state with WasmScopedLoRA.from_bytes, adapts and saves it"
    check "the state's dimension is the extension's" "$(jq .dim <<<"$node_out")" "16"
    check "JavaScript sees every scope's adapt count that operator_stats shows" \
      "$(jq -r '[.scopes | to_entries[] | "\(.key):\(.value.adapt_count)"] | join(" ")' <<<"$node_out")" "$counts_before"
    check "the scopes have the same names on both sides" \
      "$(jq -r '[.scopes[].name] | join(" ")' <<<"$node_out")" \
      "$(quiet_sql "SELECT string_agg(scope, ' ' ORDER BY op_type) FROM microlora.operator_stats")"
    sort_before=$(quiet_sql "SELECT adapt_count FROM microlora.operator_stats WHERE op_type = $ADAPTED")
    check_true "the adapted scope had learned in PostgreSQL" test "$sort_before" -gt 0
    check "JavaScript counted its adaptation" "$(jq .adapted.adapt_count <<<"$node_out")" "$((sort_before + 1))"
    if quiet_sql "SELECT microlora.import_state(decode('$(tr -d '\n' <"$imported")', 'base64'))" >/dev/null; then
      ok "import_state accepts the state JavaScript saved"
    else
      not_ok "import_state accepts the state JavaScript saved"
    fi
    check "operator_stats shows the new adapt count" \
      "$(quiet_sql "SELECT adapt_count FROM microlora.operator_stats WHERE op_type = $ADAPTED")" "$((sort_before + 1))"
    check "the other scopes' adapt counts are unchanged" \
      "$(quiet_sql "SELECT string_agg(op_type || ':' || adapt_count, ' ' ORDER BY op_type) FROM microlora.operator_stats WHERE op_type <> $ADAPTED")" \
      "$(tr ' ' '\n' <<<"$counts_before" | grep -v "^$ADAPTED:" | paste -sd' ')"
    check "export_state() now returns exactly the bytes JavaScript saved" \
      "$(quiet_sql "SELECT encode(microlora.export_state(), 'base64')" | tr -d '\n')" "$(tr -d '\n' <"$imported")"
    damaged=$(python3 -c "import base64,sys; b=bytearray(base64.b64decode(open(sys.argv[1]).read())); b[len(b)//2]^=16; print(base64.b64encode(b).decode())" "$imported")
    if quiet_sql "SELECT microlora.import_state(decode('$damaged', 'base64'))" >/dev/null 2>&1; then
      not_ok "a damaged state from JavaScript is refused"
    else
      ok "a damaged state from JavaScript is refused"
    fi
    check "a refused import changes nothing" \
      "$(quiet_sql "SELECT adapt_count FROM microlora.operator_stats WHERE op_type = $ADAPTED")" "$((sort_before + 1))"
  else
    not_ok "Node loads the exported state with WasmScopedLoRA.from_bytes, adapts and saves it"
  fi
fi

echo "# e. errors reach the client exactly as stock PostgreSQL sends them"
# tests/pg/errors.sql, every field shown, on a stock server and on one with microlora observing
# every statement, nested ones too. The server runs with RUST_BACKTRACE=1 in its environment, so
# a Rust backtrace added to any error would show.
errors_output() { # name of a database to create; prints what psql printed
  sql "CREATE DATABASE $1" >/dev/null
  as_pg "$PG_BIN/psql" -X -a -h "$CLUSTER_DIR" -d "$1" -f "$HERE/errors.sql" 2>&1
}
common_settings=("max_parallel_workers_per_gather = 0" "autovacuum = off")
cluster_stop fast
cluster_settings "${common_settings[@]}"
cluster_start
stock_errors=$(errors_output errors_stock)
cluster_stop fast
cluster_settings "${common_settings[@]}" \
  "shared_preload_libraries = 'microlora'" "microlora.sample_rate = 1" "microlora.track = all"
as_pg env RUST_BACKTRACE=1 "$PG_BIN/pg_ctl" -D "$CLUSTER_DATA" -l "$CLUSTER_LOG" -w -t 60 start >/dev/null
log_lines_before=$(wc -l <"$CLUSTER_LOG")
observed_before=$(quiet_sql "SELECT total_count FROM microlora.trajectory_summary()")
microlora_errors=$(errors_output errors_microlora)
raised=$(grep -c ': ERROR: ' <<<"$stock_errors" || true)
check_true "the error script raised errors ($raised of them)" test "$raised" -ge 25
if [ "$stock_errors" = "$microlora_errors" ]; then
  ok "every error reaches the client as stock PostgreSQL sends it (SQLSTATE, names, CONTEXT, position, location)"
else
  not_ok "every error reaches the client as stock PostgreSQL sends it; the differences:"
  diff <(echo "$stock_errors") <(echo "$microlora_errors") | head -n 60
fi
observed_after=$(quiet_sql "SELECT total_count FROM microlora.trajectory_summary()")
check_true "the script's statements were observed ($((observed_after - observed_before)) nodes)" \
  test "$observed_after" -ge "$((observed_before + 10))"
check "no microlora warning or error in the server log meanwhile" \
  "$(tail -n +"$((log_lines_before + 1))" "$CLUSTER_LOG" | grep -icE 'microlora.*(WARNING|ERROR|failed)|(WARNING|ERROR):.*microlora' || true)" "0"

# Errors raised inside parallel workers (tests/pg/errors_parallel.sql), with parallel plans allowed
# and microlora steering too.
errors_parallel_output() { # name of a database to create; prints what psql printed
  sql "CREATE DATABASE $1" >/dev/null
  as_pg "$PG_BIN/psql" -X -a -h "$CLUSTER_DIR" -d "$1" -f "$HERE/errors_parallel.sql" 2>&1
}
cluster_stop fast
cluster_settings "autovacuum = off"
cluster_start
stock_parallel=$(errors_parallel_output parallel_stock)
cluster_stop fast
cluster_settings "autovacuum = off" "shared_preload_libraries = 'microlora'" "microlora.sample_rate = 1" \
  "microlora.track = all" "microlora.steer = on"
as_pg env RUST_BACKTRACE=1 "$PG_BIN/pg_ctl" -D "$CLUSTER_DATA" -l "$CLUSTER_LOG" -w -t 60 start >/dev/null
microlora_parallel=$(errors_parallel_output parallel_microlora)
check_true "the parallel script's plans are parallel" grep -q "Gather" <<<"$stock_parallel"
check "the parallel script raised its errors in workers" \
  "$(grep -c '^parallel worker$\|CONTEXT:  parallel worker' <<<"$stock_parallel" || true)" "6"
if [ "$stock_parallel" = "$microlora_parallel" ]; then
  ok "every error raised in a parallel worker reaches the client as stock PostgreSQL sends it"
else
  not_ok "every error raised in a parallel worker reaches the client as stock PostgreSQL sends it; the differences:"
  diff <(echo "$stock_parallel") <(echo "$microlora_parallel") | head -n 60
fi

cluster_stop fast
finished=1
