#!/usr/bin/env bash
# Plan steering where PostgreSQL's plans go wrong: the skew workload (correlated columns, skewed
# join keys, correlated ranges across joins; see bench/skew/skew/dataset.py), end to end, in a
# throw-away cluster with microlora preloaded:
#
#   1. load: the tables generated in SQL at --scale, indexes, VACUUM ANALYZE;
#   2. the arms matrix: every instance (each template with seeds 1..--seeds) under every arm of
#      microlora.arms(), results checked equal; its oracle and headroom;
#   3. online: from an empty learner, --passes passes over the training templates' instances,
#      each once with microlora.steer = on and once off, alternating;
#   4. held-out: the held-out templates' instances once each, steered and not, learner kept;
#   5. report: report.md, report.json, cumulative.png and speedups.png in --out, and the report
#      printed; with --check, then verify the report is complete and every result matched.
#
# Usage: bench/skew/run.sh [--scale S] [--out DIR] [--seeds N] [--passes N] [--timeout S] [--check]
# Defaults: scale 1, out target/skew-report, 4 instances per template, 5 passes, 30 s statement
# timeout. `--check` alone runs the pipeline test: scale 0.02, 2 instances per template, 3 passes.
# Installs what it needs (scripts/setup.sh tpch, then the extension); with MICROLORA_SKIP_INSTALL=1
# it does neither and uses the extension and target/tpch-venv as they are.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

SCALE=
OUT=
SEEDS=
PASSES=
TIMEOUT=30
CHECK=0
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --passes) PASSES=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --check) CHECK=1; shift ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [ "$CHECK" = 1 ]; then
  SCALE=${SCALE:-0.02}; OUT=${OUT:-target/skew-test}; SEEDS=${SEEDS:-2}; PASSES=${PASSES:-3}
else
  SCALE=${SCALE:-1}; OUT=${OUT:-target/skew-report}; SEEDS=${SEEDS:-4}; PASSES=${PASSES:-5}
fi

say() { printf '\n==> skew: %s\n' "$*"; }
started=$SECONDS

# shellcheck source=../../tests/pg/cluster.sh
source "$ROOT/tests/pg/cluster.sh"
if [ "${MICROLORA_SKIP_INSTALL:-0}" = 1 ]; then
  say "MICROLORA_SKIP_INSTALL=1: using the installed extension and target/tpch-venv as they are"
else
  bash scripts/setup.sh tpch >/dev/null
  say "building and installing the extension (release)"
  install_extension --quiet
fi
PYTHON=$ROOT/target/tpch-venv/bin/python
if [ ! -x "$PYTHON" ]; then
  echo "run.sh: $PYTHON is missing: run 'bash scripts/setup.sh tpch' first" >&2
  exit 2
fi
# The skew package imports the steering harness from bench/tpch's package.
skew() { (cd "$ROOT/bench/skew" && PYTHONPATH="$ROOT/bench/tpch" "$PYTHON" -m skew "$@"); }

trap cluster_destroy EXIT
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/{load.json,steer.json,report.json,report.md,cumulative.png,speedups.png}

cluster_create skew
# A throw-away benchmark cluster, configured as bench/tpch/run.sh's: durability off, memory for
# scale 1 on this machine; the extension preloaded, nothing learned kept after the run.
cluster_settings "shared_buffers = '1GB'" "work_mem = '64MB'" "effective_cache_size = '4GB'" \
  "max_wal_size = '4GB'" "checkpoint_timeout = '30min'" "fsync = off" "synchronous_commit = off" \
  "full_page_writes = off" "shared_preload_libraries = 'microlora'" "microlora.save = off"
cluster_start
sql "CREATE EXTENSION microlora" >/dev/null

say "scale $SCALE: generating and loading"
skew load --host "$CLUSTER_DIR" --scale "$SCALE" --out "$OUT"

say "the arms matrix ($SEEDS instances per template), $PASSES online passes, then the held-out templates"
skew steer --host "$CLUSTER_DIR" --out "$OUT" --seeds "$SEEDS" --passes "$PASSES" --timeout "$TIMEOUT"
cluster_destroy

say "report ($((SECONDS - started)) s so far)"
skew report --out "$OUT"
if [ "$CHECK" = 1 ]; then
  skew check --out "$OUT"
fi
say "done in $((SECONDS - started)) s: $OUT/report.md"
