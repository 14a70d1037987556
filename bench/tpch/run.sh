#!/usr/bin/env bash
# Does microlora predict operator times better than PostgreSQL's cost model, and what does it
# cost? TPC-H, end to end, in a throw-away cluster:
#
#   1. generate TPC-H data with tpchgen-cli and load it (COPY, primary keys, foreign-key indexes,
#      VACUUM ANALYZE), with microlora preloaded;
#   2. learn: training passes of the 22 queries (pass p draws its parameters from seed p), and
#      after 0, 1, 2 and 5 passes an evaluation on held-out instances with learning switched off;
#   3. plan steering: every query instance under every steering arm (the arms matrix, its oracle
#      and headroom, results checked equal), then --steer-passes online passes from an empty
#      learner with microlora.steer = on against it off, interleaved;
#   4. overhead (unless --no-overhead): total TPC-H time, interleaved rounds of stock PostgreSQL,
#      microlora at default settings and microlora sampling every statement; then pgbench
#      select-only for the same three (bench/pgbench.sh);
#   5. report: report.md, report.json and learning_curve.png in the output directory, and the
#      report printed.
#
# Usage: bench/tpch/run.sh [--scale S] [--out DIR] [--checkpoints 0,1,2,5] [--test-seeds N]
#                          [--rounds R] [--steer-passes N] [--no-overhead] [--check]
# Defaults: scale 1, out target/tpch-report, 1 held-out seed, 5 steering passes, 3 overhead rounds. --check then
# verifies the report (the pipeline test runs scale 0.01 with it). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

SCALE=1
OUT=target/tpch-report
CHECKPOINTS=0,1,2,5
TEST_SEEDS=1
ROUNDS=3
STEER_PASSES=5
OVERHEAD=1
CHECK=0
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --checkpoints) CHECKPOINTS=$2; shift 2 ;;
    --test-seeds) TEST_SEEDS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --steer-passes) STEER_PASSES=$2; shift 2 ;;
    --no-overhead) OVERHEAD=0; shift ;;
    --check) CHECK=1; shift ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

say() { printf '\n==> tpch: %s\n' "$*"; }
started=$SECONDS

bash scripts/setup.sh tpch >/dev/null
PYTHON=$ROOT/target/tpch-venv/bin/python
tpch() { (cd "$ROOT/bench/tpch" && "$PYTHON" -m tpch "$@"); }

# shellcheck source=../../tests/pg/cluster.sh
source "$ROOT/tests/pg/cluster.sh"
DATA_DIR=
finish() {
  cluster_destroy
  if [ -n "$DATA_DIR" ]; then rm -rf "$DATA_DIR"; fi
}
trap finish EXIT

say "building and installing the extension (release)"
install_extension --quiet

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/{records.jsonl,timings.jsonl,pgbench.txt,learn.json,load.json,steer.json}

cluster_create tpch
DATA_DIR=$(mktemp -d /tmp/microlora-tpch-data.XXXXXX)

# A throw-away benchmark cluster: durability off, memory for scale 1 on this machine. Shared
# buffers hold the whole database (scale 1: about 1.4 GB with its indexes), as they do on the
# other benchmarks: with 1 GB, a query's timed run paid for reading back what the query before it
# had evicted (Q20 ran 60 ms slower whenever it came first of its three configurations), which
# made run order, not steering, decide its ratio.
COMMON=("shared_buffers = '4GB'" "work_mem = '64MB'" "effective_cache_size = '4GB'" "max_wal_size = '4GB'"
  "checkpoint_timeout = '30min'" "fsync = off" "synchronous_commit = off" "full_page_writes = off")
# The extension preloaded; nothing learned is kept after the run.
MICROLORA=("shared_preload_libraries = 'microlora'" "microlora.save = off")
configure() { # configuration name
  case $1 in
    stock) cluster_settings "${COMMON[@]}" ;;
    microlora) cluster_settings "${COMMON[@]}" "${MICROLORA[@]}" ;;
    microlora_sample_1) cluster_settings "${COMMON[@]}" "${MICROLORA[@]}" "microlora.sample_rate = 1" ;;
  esac
}

configure microlora
cluster_start
sql "CREATE EXTENSION microlora" >/dev/null
say "scale $SCALE: generating and loading"
tpch load --host "$CLUSTER_DIR" --scale "$SCALE" --data-dir "$DATA_DIR" --out "$OUT"
rm -rf "$DATA_DIR"; DATA_DIR=

say "learning: checkpoints $CHECKPOINTS, $TEST_SEEDS held-out seed(s)"
tpch learn --host "$CLUSTER_DIR" --out "$OUT" --checkpoints "$CHECKPOINTS" --test-seeds "$TEST_SEEDS"

say "plan steering: the arms matrix, then $STEER_PASSES online passes"
tpch steer --host "$CLUSTER_DIR" --out "$OUT" --passes "$STEER_PASSES"

if [ "$OVERHEAD" = 1 ]; then
  configs=(stock microlora microlora_sample_1)
  for round in $(seq 1 "$ROUNDS"); do
    for k in 0 1 2; do
      # Rotated, so no configuration always runs first after a restart.
      config=${configs[$(((k + round - 1) % 3))]}
      say "overhead round $round/$ROUNDS: $config"
      cluster_stop fast
      configure "$config"
      cluster_start
      tpch time --host "$CLUSTER_DIR" --out "$OUT" --config "$config" --round "$round"
    done
  done
  cluster_destroy
  say "pgbench select-only: stock, microlora, microlora_sample_1"
  BENCH_CONFIGS="stock microlora microlora_sample_1" BENCH_MODES=select-only \
    BENCH_ROUNDS=${BENCH_ROUNDS:-3} BENCH_SECONDS=${BENCH_SECONDS:-10} \
    bash bench/pgbench.sh | tee "$OUT/pgbench.all"
  # The summary table: from its heading to the end.
  sed -n '/^median over/,$p' "$OUT/pgbench.all" >"$OUT/pgbench.txt"
  rm -f "$OUT/pgbench.all"
fi

say "report ($((SECONDS - started)) s so far)"
tpch report --out "$OUT"
if [ "$CHECK" = 1 ]; then
  tpch check --out "$OUT" --checkpoints "$CHECKPOINTS"
fi
say "done in $((SECONDS - started)) s: $OUT/report.md"
