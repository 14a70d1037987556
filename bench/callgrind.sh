#!/usr/bin/env bash
# What microlora's hooks cost a client statement, counted in instructions by callgrind (a count
# that does not depend on the machine's load, unlike pgbench's TPS on a small VM).
#
# A single-user backend (postgres --single) runs the same primary-key lookup N and 2N times under
# callgrind, in three configurations of one cluster: stock (nothing preloaded), microlora with
# sample_rate 0 (the hooks alone), the same with plan steering on (a primary-key lookup is never
# steered: what it pays is the check), and microlora sampling every statement. The difference between
# the 2N and the N run, divided by N, is one statement's cost without start-up and shutdown.
# For the sampled configuration it also prints, per statement, what learning costs
# (microlora_observe_statement) and what the internal subtransaction around it costs
# (BeginInternalSubTransaction + ReleaseCurrentSubTransaction).
#
# The same for a small join (accounts of one branch range joined to their branches, about 2,000
# rows through a scan, a join and an aggregate): what observation costs a statement whose nodes
# produce rows, with the hooks alone, with steering on for a join below its threshold (the
# common case of a short join: it is fingerprinted and timed, not re-planned; under callgrind it
# runs some fifty times slower than natively, so the threshold is raised to keep it below) and
# with every node timed; from these, the cost at the default sample_rate.
#
# Uses the installed extension (install_extension, scripts/postgres.sh). Usage: bench/callgrind.sh [N]
# (default 200). Prints the report and writes it to bench/results/callgrind.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=../tests/pg/cluster.sh
source "$ROOT/tests/pg/cluster.sh"

N=${1:-200}
OUT=$ROOT/bench/results
mkdir -p "$OUT"
trap cluster_destroy EXIT

cluster_create callgrind
cluster_settings "autovacuum = off"
cluster_start
cluster_pgbench -i -s 1 -q >/dev/null 2>&1
cluster_stop fast
chmod 777 "$CLUSTER_DIR"

LOOKUP="SELECT abalance FROM pgbench_accounts WHERE aid = 4242;"
JOIN="SELECT count(*), sum(b.bbalance) FROM pgbench_accounts a JOIN pgbench_branches b USING (bid) WHERE a.aid BETWEEN 1001 AND 3000;"
STATEMENT=$LOOKUP

# Runs `count` statements ($STATEMENT) in a single-user backend under callgrind; prints the
# output file's path.
callgrind_run() { # name count
  local file=$CLUSTER_DIR/$1-$2.out
  local statements=$CLUSTER_DIR/statements-$2.sql
  for _ in $(seq 1 "$2"); do echo "$STATEMENT"; done >"$statements"
  as_pg valgrind --tool=callgrind --callgrind-out-file="$file" \
    "$PG_BIN/postgres" --single -D "$CLUSTER_DATA" postgres <"$statements" >/dev/null 2>"$CLUSTER_DIR/$1-$2.valgrind"
  echo "$file"
}
total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'; }
# The inclusive instruction count of a function (0 if it never ran).
inclusive() { # file function
  callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
    awk -v f="$2" '$0 ~ ("[:/ ]" f " ") || $0 ~ (":" f "$") { gsub(",", "", $1); print $1; found = 1; exit } END { if (!found) print 0 }'
}
per_statement() { echo $(( ($2 - $1) / N )); }

# The cluster's settings for each configuration. With steering on, the threshold is raised so
# that the join stays below it under callgrind (a lookup of one table is never steered anyway).
configure() { # config
  local microlora=("shared_preload_libraries = 'microlora'" "microlora.save = off")
  case $1 in
    stock) cluster_settings "autovacuum = off" ;;
    hooks) cluster_settings "autovacuum = off" "${microlora[@]}" "microlora.sample_rate = 0" ;;
    steer) cluster_settings "autovacuum = off" "${microlora[@]}" "microlora.sample_rate = 0" "microlora.steer = on" \
      "microlora.steer_threshold_ms = 1000000" ;;
    sampled) cluster_settings "autovacuum = off" "${microlora[@]}" "microlora.sample_rate = 1" ;;
  esac
}

declare -A COST
for config in stock hooks steer sampled; do
  configure "$config"
  one=$(callgrind_run "$config" "$N")
  two=$(callgrind_run "$config" $((2 * N)))
  COST[$config]=$(per_statement "$(total "$one")" "$(total "$two")")
  if [ "$config" = sampled ]; then
    observe=$(per_statement "$(inclusive "$one" microlora_observe_statement)" "$(inclusive "$two" microlora_observe_statement)")
    begin=$(per_statement "$(inclusive "$one" BeginInternalSubTransaction)" "$(inclusive "$two" BeginInternalSubTransaction)")
    release=$(per_statement "$(inclusive "$one" ReleaseCurrentSubTransaction)" "$(inclusive "$two" ReleaseCurrentSubTransaction)")
  fi
done

# The join: N and 2N statements, as above.
declare -A JOIN_COST
STATEMENT=$JOIN
for config in stock hooks steer sampled; do
  configure "$config"
  one=$(callgrind_run "join-$config" "$N")
  two=$(callgrind_run "join-$config" $((2 * N)))
  JOIN_COST[$config]=$(per_statement "$(total "$one")" "$(total "$two")")
done
# At the default sample_rate a statement pays the hooks, and that share of the time the timing
# and the learning.
DEFAULT_RATE=0.1

ratio() { python3 -c "print(f'{$1 / $2:.3f}')"; }
row() { printf '%-40s %12s %8s\n' "$@"; }
# A configuration's instructions and their ratio to stock's.
cost_row() { row "$1" "$2" "$(ratio "$2" "$3")"; }
{
  echo "callgrind: instructions per primary-key lookup (single-user backend, N = $N and $((2 * N))), $(date -u +%Y-%m-%d)"
  row configuration instructions ratio
  row "stock" "${COST[stock]}" "1.000"
  cost_row "microlora, sample_rate 0 (hooks only)" "${COST[hooks]}" "${COST[stock]}"
  cost_row "microlora, sample_rate 0, steer = on" "${COST[steer]}" "${COST[stock]}"
  cost_row "microlora, sample_rate 1" "${COST[sampled]}" "${COST[stock]}"
  echo "of a sampled statement: learning (microlora_observe_statement) $observe;"
  echo "  the subtransaction around it (begin $begin + release $release) $((begin + release))"
  echo
  echo "instructions per join statement (about 2,000 rows through a scan, a join and an aggregate)"
  row configuration instructions ratio
  row "stock" "${JOIN_COST[stock]}" "1.000"
  cost_row "microlora, sample_rate 0 (hooks only)" "${JOIN_COST[hooks]}" "${JOIN_COST[stock]}"
  cost_row "microlora, sample_rate 0, steer = on (fast)" "${JOIN_COST[steer]}" "${JOIN_COST[stock]}"
  cost_row "microlora, sample_rate 1" "${JOIN_COST[sampled]}" "${JOIN_COST[stock]}"
  at_default=$(python3 -c "print(round(${JOIN_COST[hooks]} + $DEFAULT_RATE * (${JOIN_COST[sampled]} - ${JOIN_COST[hooks]})))")
  cost_row "microlora, sample_rate $DEFAULT_RATE (default; expected)" "$at_default" "${JOIN_COST[stock]}"
} | tee "$OUT/callgrind.txt"
