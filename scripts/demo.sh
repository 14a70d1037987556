#!/usr/bin/env bash
# Installs what is needed (scripts/setup.sh) and runs the end-to-end demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh core
printf '\n==> demo: the core learner on a synthetic query workload\n'
cargo run -j2 --release -q -p microlora-core --example demo
