#!/usr/bin/env bash
# The package as its users install it (installed.test.mjs): builds wasm/pkg from source, packs it
# and installs the tarball into a copy of project/ in a temporary directory, then uses it from ESM,
# CommonJS, TypeScript and a Vite bundle in headless Chromium. Expects the setup of
# scripts/setup.sh wasm, which also fills npm's cache with project/'s pinned tools.
set -euo pipefail
cd "$(dirname "$0")"

bash ../build.sh

echo "==> node --test installed.test.mjs"
node --test installed.test.mjs
