#!/usr/bin/env bash
# Builds the package from source (build.sh), then runs every test of the wasm face: the Rust unit
# tests of the boundary conversions, and the Node suite in test/ (the README examples, the zero-copy
# path, bad input, semantics, persistence, init variants, the module's exports against what
# js/api.js reads, and the page in headless Chromium).
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"

bash build.sh

echo "==> cargo test -p ruvector-learning-wasm (boundary conversions, host)"
cargo test -j2 -p ruvector-learning-wasm --manifest-path ../Cargo.toml --target-dir ../target/wasm-host

echo "==> node --test test/"
node --test test/
