#!/usr/bin/env bash
# Installs what is needed (scripts/setup.sh) and runs the end-to-end demo: the learner on a
# synthetic workload, then the PostgreSQL extension in a throw-away cluster learning from a real
# one and showing operator_stats.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh pg
printf '\n==> demo: the core learner on a synthetic query workload\n'
cargo run -j2 --release -q -p microlora-core --example demo
printf '\n==> demo: the PostgreSQL extension learning from a pgbench workload\n'
bash scripts/demo-pg.sh
