#!/usr/bin/env bash
# Upgrading microlora from the previous release (0.1.0) to this one, in a real server (a throw-away
# cluster, see cluster.sh), as a DBA does it: the new library is installed and the server
# restarted first, then each database runs ALTER EXTENSION microlora UPDATE.
#
#   a. the previous release's SQL (sql/microlora--0.1.0.sql, kept for this test and not shipped)
#      works with this library before the update: every function and view answers, with that
#      release's columns;
#   b. ALTER EXTENSION microlora UPDATE reaches this version through the shipped upgrade scripts,
#      and leaves the same objects as a fresh CREATE EXTENSION (functions with their results,
#      symbols, volatility and privileges; views with their definitions, columns, comments and
#      privileges), and the learned state untouched;
#   c. a state file the previous release saved (tests/pg/fixtures/microlora-0.1.0.state) loads,
#      with a LOG line, and holds what that release learned;
#   d. a state file of a later format is refused with a LOG line, kept aside as
#      microlora.state.v<format> rather than overwritten, and the server starts fresh.
#
# Uses the installed extension (install_extension from scripts/postgres.sh, run first); installs
# the previous release's full script beside it for the test's duration. Prints `ok - …` and
# `FAILED - …` per check, then `N passed, M failed`; exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
# shellcheck source=cluster.sh
source "$HERE/cluster.sh"
# shellcheck source=checks.sh
source "$HERE/checks.sh"

PREVIOUS=0.1.0
CURRENT=$MICROLORA_VERSION
EXTENSION_DIR=$("$PG_CONFIG" --sharedir)/extension
OLD_SCRIPT=$EXTENSION_DIR/microlora--$PREVIOUS.sql
[ -f "$EXTENSION_DIR/microlora--$CURRENT.sql" ] ||
  { echo "upgrade.sh: microlora $CURRENT is not installed: run install_extension first" >&2; exit 2; }
install -m 644 "$MICROLORA_ROOT/sql/microlora--$PREVIOUS.sql" "$OLD_SCRIPT"
trap 'status=$?; rm -f "$OLD_SCRIPT"; checks_finish $status' EXIT

# Reads without being observed (an observed read would itself change what it reads).
in_db() { # database sql
  sql_in "$1" "SET microlora.enabled = off; $2"
}
# Each of the extension's objects with what a client can see of it, one line each, sorted.
SURFACE="WITH members AS (
    SELECT classid, objid FROM pg_depend
     WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
       AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'microlora'))
  SELECT 'function ' || p.oid::regprocedure || ' returns ' || pg_get_function_result(p.oid)
         || concat_ws(' ', ' volatile', p.provolatile, 'strict', p.proisstrict, 'parallel', p.proparallel,
                      'symbol', p.prosrc, 'acl', p.proacl, 'comment', obj_description(p.oid, 'pg_proc'))
    FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
  UNION ALL
  SELECT 'relation ' || c.oid::regclass || concat_ws(' ', ' kind', c.relkind, 'acl', c.relacl,
         'comment', obj_description(c.oid, 'pg_class'), 'definition', pg_get_viewdef(c.oid))
    FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
  UNION ALL
  SELECT 'column ' || c.oid::regclass || '.' || a.attname || concat_ws(' ', ' number', a.attnum,
         'type', format_type(a.atttypid, a.atttypmod), 'comment', col_description(c.oid, a.attnum))
    FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'schema ' || nspname || ' acl ' || nspacl::text FROM pg_namespace WHERE nspname = 'microlora'
  ORDER BY 1"

cluster_create upgrade
cluster_settings "shared_preload_libraries = 'microlora'" "microlora.sample_rate = 1" \
  "microlora.steer = on" "microlora.steer_threshold_ms = 0"
cluster_start

echo "# a. $PREVIOUS's SQL with this library"
sql "CREATE DATABASE upgraded"
sql "CREATE DATABASE fresh"
in_db upgraded "CREATE EXTENSION microlora VERSION '$PREVIOUS'" >/dev/null
check "the extension is created at $PREVIOUS" \
  "$(in_db upgraded "SELECT extversion FROM pg_extension WHERE extname = 'microlora'")" "$PREVIOUS"
as_pg "$PG_BIN/psql" -X -qtA -h "$CLUSTER_DIR" -d upgraded -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE t AS SELECT g AS id, g % 100 AS k FROM generate_series(1, 20000) g;
CREATE INDEX ON t (k);
ANALYZE t;
SELECT count(*) FROM t a JOIN t b ON a.id = b.k WHERE a.k < 5;
SELECT count(*) FROM t a JOIN t b ON a.id = b.k WHERE a.k < 5;
SELECT count(*) FROM t a JOIN t b ON a.id = b.k WHERE a.k < 5;
SQL
functions=$(in_db upgraded "SELECT count(*) FROM pg_proc WHERE pronamespace = 'microlora'::regnamespace")
check "$PREVIOUS declares 13 functions" "$functions" "13"
# Every one of them, and both views, answer (reset, reset_scope and import_state change the
# state, so they are called last, in part b's fresh database).
for call in "SELECT count(*) > 0 FROM microlora.operator_stats" \
  "SELECT count(*) = 17 FROM microlora.scope_stats()" \
  "SELECT count(*) > 0 FROM microlora.trajectories(5)" \
  "SELECT total_count > 0 FROM microlora.trajectory_summary()" \
  "SELECT count(*) > 0 FROM microlora.predict('SELECT count(*) FROM t WHERE k = 3')" \
  "SELECT count(*) > 1 FROM microlora.predict_arms('SELECT count(*) FROM t a JOIN t b ON a.id = b.k')" \
  "SELECT count(*) > 1 FROM microlora.arms()" \
  "SELECT count(*) = 1 FROM microlora.observer_overhead()" \
  "SELECT count(*) = 1 FROM microlora.planner_overhead()" \
  "SELECT length(microlora.export_state()) > 0" \
  "SELECT count(*) > 0 FROM microlora.steering WHERE default_runs > 0"; do
  check "with this library, $PREVIOUS's: $call" "$(in_db upgraded "$call" 2>&1)" "t"
done
check "$PREVIOUS's steering view has its 9 columns" \
  "$(in_db upgraded "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'microlora' AND table_name = 'steering'")" "9"

echo "# b. ALTER EXTENSION microlora UPDATE"
state_before=$(in_db upgraded "SELECT md5(microlora.export_state())")
in_db upgraded "ALTER EXTENSION microlora UPDATE" >/dev/null
check "the update reaches $CURRENT" \
  "$(in_db upgraded "SELECT extversion FROM pg_extension WHERE extname = 'microlora'")" "$CURRENT"
check "the update leaves the learned state as it was" \
  "$(in_db upgraded "SELECT md5(microlora.export_state())")" "$state_before"
in_db fresh "CREATE EXTENSION microlora" >/dev/null
upgraded=$(in_db upgraded "$SURFACE")
fresh=$(in_db fresh "$SURFACE")
if [ "$upgraded" = "$fresh" ]; then
  ok "the updated extension has the same objects as a fresh CREATE EXTENSION ($(wc -l <<<"$fresh") lines)"
else
  not_ok "the updated extension differs from a fresh CREATE EXTENSION"
  diff <(echo "$fresh") <(echo "$upgraded") | sed 's/^/#   /' | head -n 40 || true
fi
check "the updated steering view shows what exploring lost, within its budget" \
  "$(in_db upgraded "SELECT bool_and(exploration_lost_ms >= 0 AND exploration_budget_ms >= 0) FROM microlora.steering")" "t"
check "the updated steering view has rows" \
  "$(in_db upgraded "SELECT count(*) > 0 FROM microlora.steering")" "t"
for call in "SELECT count(*) = 1 FROM (SELECT microlora.reset_scope('SeqScan')) r" \
  "SELECT count(*) = 1 FROM (SELECT microlora.import_state(microlora.export_state())) r" \
  "SELECT count(*) = 1 FROM (SELECT microlora.reset()) r"; do
  check "$CURRENT: $call" "$(in_db fresh "$call" 2>&1)" "t"
done

echo "# c. a state file saved by $PREVIOUS"
STATE_FILE=$CLUSTER_DATA/pg_stat/microlora.state
cluster_stop
install -o "$PG_USER" -m 600 "$HERE/fixtures/microlora-$PREVIOUS.state" "$STATE_FILE"
cluster_start
check "it is loaded, with a LOG line" \
  "$(grep -c 'microlora: loaded the learned state from "pg_stat/microlora.state"$' "$CLUSTER_LOG")" "1"
# What 0.1.0 had learned when it saved the file (tests/pg/fixtures/README.md).
check "it holds what $PREVIOUS learned: nodes per scope" \
  "$(in_db fresh "SELECT string_agg(scope || '=' || nodes, ' ' ORDER BY scope) FROM microlora.operator_stats WHERE nodes > 0")" \
  "Aggregate=6 GroupBy=6 HashJoin=12 IndexScan=12 SeqScan=18"
check "it holds what $PREVIOUS learned: trajectories" \
  "$(in_db fresh "SELECT total_count FROM microlora.trajectory_summary()")" "54"

echo "# d. a state file of a later format"
cluster_stop
later=$CLUSTER_DIR/later.state
cp "$HERE/fixtures/microlora-$PREVIOUS.state" "$later"
# Bytes 4 and 5 hold the format version (little-endian): 0x00ff is a format no build reads.
printf '\xff\x00' | dd of="$later" bs=1 seek=4 conv=notrunc status=none
install -o "$PG_USER" -m 600 "$later" "$STATE_FILE"
cluster_start
check "it is refused with a LOG line that says where it was kept" \
  "$(grep -c 'microlora: not loading "pg_stat/microlora.state": state format version 255 is not supported (this build reads version [0-9]*); kept it as "pg_stat/microlora.state.v255" and starting fresh' "$CLUSTER_LOG")" "1"
check "the server starts fresh" \
  "$(in_db fresh "SELECT sum(nodes) FROM microlora.operator_stats")" "0"
cluster_stop
check_true "the refused file is kept, byte for byte, after the server saved its own" \
  cmp -s "$later" "$STATE_FILE.v255"
check_true "and the server saved its own state file" test -s "$STATE_FILE"

finished=1
