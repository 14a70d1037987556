#!/usr/bin/env bash
# Plan steering on TPC-DS, a workload the steering code was never tuned on, end to end, in a
# throw-away cluster with microlora preloaded:
#
#   1. load: the data from DuckDB's dsdgen at --scale, COPY into PostgreSQL, primary keys,
#      VACUUM ANALYZE;
#   2. the queries: DuckDB's 99, ported to PostgreSQL (bench/tpcds/tpcds/queries.py), each
#      planned once (EXPLAIN), those that fail excluded; --instances per template (years shifted);
#   3. the arms matrix: every instance under every arm of microlora.arms(), results checked equal;
#   4. online: from an empty learner, --passes passes over the training templates' instances,
#      each once with microlora.steer = on and once off, alternating;
#   5. held-out: the held-out templates' instances once each, steered and not, learner kept;
#   6. report: report.md, report.json, cumulative.png and speedups.png in --out, and the report
#      printed; with --check, then verify the report is complete and every result matched.
#
# Usage: bench/tpcds/run.sh [--scale S] [--out DIR] [--instances N] [--templates N] [--passes N]
#                           [--timeout S] [--check]
# Defaults: scale 1, out target/tpcds-report, 2 instances per template, every template, 5 passes,
# 30 s statement timeout. `--check` alone runs the pipeline test: scale 0.01, 1 instance of 30
# templates, 2 passes.
# Installs what it needs (scripts/setup.sh tpcds, then the extension); with MICROLORA_SKIP_INSTALL=1
# it does neither and uses the extension and target/tpch-venv as they are.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

SCALE=
OUT=
INSTANCES=
TEMPLATES=
PASSES=
TIMEOUT=30
CHECK=0
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --instances) INSTANCES=$2; shift 2 ;;
    --templates) TEMPLATES=$2; shift 2 ;;
    --passes) PASSES=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --check) CHECK=1; shift ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [ "$CHECK" = 1 ]; then
  SCALE=${SCALE:-0.01}; OUT=${OUT:-target/tpcds-test}; INSTANCES=${INSTANCES:-1}; TEMPLATES=${TEMPLATES:-30}
  PASSES=${PASSES:-2}
else
  SCALE=${SCALE:-1}; OUT=${OUT:-target/tpcds-report}; INSTANCES=${INSTANCES:-2}; PASSES=${PASSES:-5}
fi

say() { printf '\n==> tpcds: %s\n' "$*"; }
started=$SECONDS

# shellcheck source=../../tests/pg/cluster.sh
source "$ROOT/tests/pg/cluster.sh"
if [ "${MICROLORA_SKIP_INSTALL:-0}" = 1 ]; then
  say "MICROLORA_SKIP_INSTALL=1: using the installed extension and target/tpch-venv as they are"
else
  bash scripts/setup.sh tpcds >/dev/null
  say "building and installing the extension (release)"
  install_extension --quiet
fi
PYTHON=$ROOT/target/tpch-venv/bin/python
if ! [ -x "$PYTHON" ] || ! "$PYTHON" -c 'import duckdb, duckdb_extension_tpcds' 2>/dev/null; then
  echo "run.sh: $PYTHON lacks duckdb: run 'bash scripts/setup.sh tpcds' first" >&2
  exit 2
fi
# The tpcds package imports the steering harness from bench/tpch's package.
tpcds() { (cd "$ROOT/bench/tpcds" && PYTHONPATH="$ROOT/bench/tpch" "$PYTHON" -m tpcds "$@"); }

trap cluster_destroy EXIT
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/{load.json,steer.json,report.json,report.md,cumulative.png,speedups.png}

cluster_create tpcds
# A throw-away benchmark cluster, configured as bench/skew/run.sh's: durability off, memory for
# scale 1 on this machine; the extension preloaded, nothing learned kept after the run.
cluster_settings "shared_buffers = '1GB'" "work_mem = '64MB'" "effective_cache_size = '4GB'" \
  "max_wal_size = '4GB'" "checkpoint_timeout = '30min'" "fsync = off" "synchronous_commit = off" \
  "full_page_writes = off" "shared_preload_libraries = 'microlora'" "microlora.save = off"
cluster_start
sql "CREATE EXTENSION microlora" >/dev/null

say "scale $SCALE: generating with DuckDB and loading"
tpcds load --host "$CLUSTER_DIR" --scale "$SCALE" --out "$OUT"

say "the queries, the arms matrix ($INSTANCES instances per template), $PASSES online passes, then the held-out templates"
tpcds steer --host "$CLUSTER_DIR" --out "$OUT" --instances "$INSTANCES" ${TEMPLATES:+--templates "$TEMPLATES"} \
  --passes "$PASSES" --timeout "$TIMEOUT"
cluster_destroy

say "report ($((SECONDS - started)) s so far)"
tpcds report --out "$OUT"
if [ "$CHECK" = 1 ]; then
  tpcds check --out "$OUT"
fi
say "done in $((SECONDS - started)) s: $OUT/report.md"
