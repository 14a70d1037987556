#!/usr/bin/env bash
# Benchmarks the package in wasm/pkg against the original @ruvector/learning-wasm@0.1.29 in one Node
# process. Installs the original into wasm/bench/node_modules (benchmark only) when it is missing.
# Usage: bash wasm/bench.sh [--build] [--quick]   (--build runs build.sh first)
set -euo pipefail
cd "$(dirname "$0")"
args=()
for arg in "$@"; do
  case "$arg" in
    --build) bash build.sh ;;
    *) args+=("$arg") ;;
  esac
done
[ -f pkg/ruvector_learning_wasm_bg.wasm ] || { echo "bench.sh: wasm/pkg is not built: run wasm/build.sh" >&2; exit 1; }
if [ ! -d bench/node_modules/@ruvector/learning-wasm ] || [ ! -e bench/node_modules/ruvector-learning-wasm ]; then
  (cd bench && npm ci --no-audit --no-fund)
fi
node bench/bench.mjs "${args[@]}"
