#!/usr/bin/env bash
# Checks the port (tpcds/crosscheck.py): every ported query's rows on PostgreSQL against the
# original's on DuckDB, same data, in a throw-away cluster (microlora preloaded but switched off
# for the queries). Usage: bench/tpcds/crosscheck.sh [SCALE (default 0.01)] [OUT (default
# target/tpcds-crosscheck.json)]. Uses the installed extension and target/tpch-venv as they are.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SCALE=${1:-0.01}
OUT=$(realpath -m "${2:-target/tpcds-crosscheck.json}")
mkdir -p "$(dirname "$OUT")"
# shellcheck source=../../tests/pg/cluster.sh
source "$ROOT/tests/pg/cluster.sh"
trap cluster_destroy EXIT
cluster_create tpcds-crosscheck
cluster_settings "shared_buffers = '512MB'" "work_mem = '64MB'" "fsync = off" "synchronous_commit = off" \
  "full_page_writes = off" "shared_preload_libraries = 'microlora'" "microlora.save = off"
cluster_start
sql "CREATE EXTENSION microlora" >/dev/null
(cd "$ROOT/bench/tpcds" && PYTHONPATH="$ROOT/bench/tpch" "$ROOT/target/tpch-venv/bin/python" -m tpcds.crosscheck \
  "$CLUSTER_DIR" "$SCALE" "$OUT")
