#!/usr/bin/env bash
# What microlora costs a busy server, measured against what DBAs already run: pgbench TPS,
# select-only (-S) and TPC-B-like, for
#
#   stock                 no library preloaded
#   microlora             microlora preloaded, default settings (sample_rate 0.1)
#   microlora_sample_1    microlora, every statement sampled (sample_rate 1)
#   pg_stat_statements    pg_stat_statements preloaded, default settings
#   auto_explain          auto_explain, log_min_duration 0 and log_analyze on (every plan logged
#                         with per-node timing, as microlora times a sampled statement)
#
# Runs are interleaved: each round starts the one cluster once per configuration (in a rotated
# order), warms it up, and runs select-only then TPC-B-like for BENCH_SECONDS each. Prints, per
# configuration and mode, the median TPS over BENCH_ROUNDS rounds, the median of the per-round
# ratios to stock (paired within a round, so a machine whose speed drifts between rounds skews
# them less), and the server's CPU time per transaction (user + system time of the backends,
# which the postmaster collects as they exit): less sensitive than TPS to other programs taking
# the CPU. Defaults: 5 rounds × 15 s, scale 10, 4 clients, 2 threads (about 17 minutes).
# Assumes `bash scripts/setup.sh pg`.
#
# The extension is built and installed (release) first; the server then loads a private copy of
# that library, so an install by someone else during the run (cargo pgrx test) changes nothing
# here. The cluster listens on a unix socket in its temporary directory only and is removed at
# the end. synchronous_commit is off in every configuration, so TPC-B-like measures CPU rather
# than this machine's fsync.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${BENCH_ROUNDS:-5}
RUN_SECONDS=${BENCH_SECONDS:-15}
SCALE=${BENCH_SCALE:-10}
CLIENTS=${BENCH_CLIENTS:-4}
THREADS=${BENCH_THREADS:-2}
WARMUP_SECONDS=5
# BENCH_CONFIGS / BENCH_MODES choose a subset (stock is always needed, for the ratios).
read -r -a CONFIGS <<<"${BENCH_CONFIGS:-stock microlora microlora_sample_1 pg_stat_statements auto_explain}"
read -r -a MODES <<<"${BENCH_MODES:-select-only tpcb-like}"

say() { printf '==> bench: %s\n' "$*"; }

# shellcheck source=../tests/pg/cluster.sh
source "$ROOT/tests/pg/cluster.sh"
RESULTS=
finish() {
  cluster_destroy
  if [ -n "$RESULTS" ]; then rm -f "$RESULTS"; fi
}
trap finish EXIT

say "building and installing the extension (release)"
install_extension --quiet

cluster_create bench
LIB=$CLUSTER_DIR/microlora.so
cp "$("$PG_CONFIG" --pkglibdir)/microlora.so" "$LIB"
chmod a+r "$LIB"
RESULTS=$(mktemp)

settings_of() { # configuration → its postgresql.conf lines
  local common=("shared_buffers = 256MB" "synchronous_commit = off" "max_wal_size = 4GB"
    "checkpoint_timeout = 30min" "max_parallel_workers_per_gather = 0")
  case $1 in
    stock) printf '%s\n' "${common[@]}" ;;
    microlora) printf '%s\n' "${common[@]}" "shared_preload_libraries = '$LIB'" ;;
    microlora_sample_1) printf '%s\n' "${common[@]}" "shared_preload_libraries = '$LIB'" "microlora.sample_rate = 1" ;;
    pg_stat_statements) printf '%s\n' "${common[@]}" "shared_preload_libraries = 'pg_stat_statements'" ;;
    auto_explain) printf '%s\n' "${common[@]}" "shared_preload_libraries = 'auto_explain'" \
      "auto_explain.log_min_duration = 0" "auto_explain.log_analyze = on" ;;
  esac
}

tps_of() { # pgbench output → TPS
  awk '/^tps = / { print $3 }'
}
transactions_of() { # pgbench output → transactions processed
  awk '/^number of transactions actually processed: / { split($NF, n, "/"); print n[1] }'
}

# CPU time (clock ticks) of the postmaster's exited children: the backends of finished runs.
CLOCK_TICKS=$(getconf CLK_TCK)
postmaster_pid() { head -n 1 "$CLUSTER_DATA/postmaster.pid"; }
children_cpu_ticks() { awk '{ print $16 + $17 }' "/proc/$(postmaster_pid)/stat"; }
# Waits (at most 10 s) until the run's backends have exited and been collected.
wait_for_backends_to_exit() {
  local deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ] && [ "$(pgrep -P "$(postmaster_pid)" | wc -l)" -gt "$1" ]; do sleep 0.2; done
}

say "pgbench -i -s $SCALE"
cluster_settings $'shared_buffers = 256MB\nsynchronous_commit = off'
cluster_start
cluster_pgbench -i -q -s "$SCALE" >/dev/null 2>&1
cluster_stop fast

total_runs=$((ROUNDS * ${#CONFIGS[@]} * ${#MODES[@]}))
run=0
for round in $(seq 1 "$ROUNDS"); do
  # Rotate the order, so no configuration always runs first (cold) or last.
  for k in $(seq 0 $((${#CONFIGS[@]} - 1))); do
    config=${CONFIGS[$(((k + round - 1) % ${#CONFIGS[@]}))]}
    mapfile -t lines < <(settings_of "$config")
    cluster_settings "${lines[@]}"
    cluster_start
    cluster_pgbench -n -S -c "$CLIENTS" -j "$THREADS" -T "$WARMUP_SECONDS" >/dev/null 2>&1
    idle_children=$(pgrep -P "$(postmaster_pid)" | wc -l)
    wait_for_backends_to_exit "$idle_children"
    for mode in "${MODES[@]}"; do
      flags=(-n -c "$CLIENTS" -j "$THREADS" -T "$RUN_SECONDS")
      [ "$mode" = select-only ] && flags+=(-S)
      cpu_before=$(children_cpu_ticks)
      output=$(cluster_pgbench "${flags[@]}" 2>/dev/null)
      wait_for_backends_to_exit "$idle_children"
      cpu_us=$((($(children_cpu_ticks) - cpu_before) * 1000000 / CLOCK_TICKS))
      tps=$(tps_of <<<"$output")
      us_per_tx=$(awk -v us="$cpu_us" -v n="$(transactions_of <<<"$output")" 'BEGIN { printf "%.1f", us / n }')
      run=$((run + 1))
      printf '    [%2d/%d] round %d  %-20s %-12s %8.0f tps %7s µs server CPU/tx\n' \
        "$run" "$total_runs" "$round" "$config" "$mode" "$tps" "$us_per_tx"
      echo "$round $config $mode $tps $us_per_tx" >>"$RESULTS"
    done
    cluster_stop fast
    # auto_explain logs every plan: keep the log from filling the disk.
    : >"$CLUSTER_LOG"
  done
done

echo
echo "median over $ROUNDS rounds of ${RUN_SECONDS} s (scale $SCALE, $CLIENTS clients, $THREADS threads)"
echo "ratio: median of the per-round TPS ratios to stock; CPU/tx: server CPU µs per transaction"
python3 - "$RESULTS" "${CONFIGS[@]}" <<'EOF'
import statistics, sys
results, configs = sys.argv[1], sys.argv[2:]
tps, cpu = {}, {}
for line in open(results):
    round_, config, mode, value, us = line.split()
    tps[(round_, config, mode)] = float(value)
    cpu.setdefault((config, mode), []).append(float(us))
rounds = sorted({key[0] for key in tps})
modes = [mode for mode in ["select-only", "tpcb-like"] if any(key[2] == mode for key in tps)]
header = f"{'configuration':<20}"
for mode in modes:
    header += f" | {mode + ' TPS':>16} {'ratio':>6} {'CPU/tx':>7} {'ratio':>6}"
print(header)
print("-" * len(header))
for config in configs:
    row = f"{config:<20}"
    for mode in modes:
        median_tps = statistics.median(tps[(r, config, mode)] for r in rounds)
        ratio = statistics.median(tps[(r, config, mode)] / tps[(r, "stock", mode)] for r in rounds)
        us, stock_us = statistics.median(cpu[(config, mode)]), statistics.median(cpu[("stock", mode)])
        row += f" | {median_tps:>16.0f} {ratio:>6.3f} {us:>7.1f} {us / stock_us:>6.3f}"
    print(row)
EOF
