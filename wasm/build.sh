#!/usr/bin/env bash
# Builds the npm package in wasm/pkg from source: the Rust crate for wasm32 with SIMD128,
# wasm-bindgen's glue for the web target, then wasm-opt (from the npm package binaryen).
# Expects the setup of scripts/setup.sh wasm: the wasm32 target, wasm-bindgen-cli of the
# crate's exact version, and `npm ci` in wasm/.
set -euo pipefail
cd "$(dirname "$0")"
WASM_DIR=$PWD
ROOT=$(cd .. && pwd)
PKG=$WASM_DIR/pkg
NAME=ruvector_learning_wasm
# A target folder of our own: a wasm build never waits for another cargo's lock on target/.
TARGET_DIR=$ROOT/target/wasm-pkg

fail() { echo "build.sh: $*" >&2; exit 1; }

command -v cargo >/dev/null || fail "cargo is not installed (https://rustup.rs)"
[ -d "$(rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ] ||
  fail "the wasm32-unknown-unknown target is missing: rustup target add wasm32-unknown-unknown"
# The CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")
[ -n "$want" ] || fail "Cargo.lock has no wasm-bindgen entry (run cargo build once)"
command -v wasm-bindgen >/dev/null ||
  fail "wasm-bindgen is not installed: cargo install wasm-bindgen-cli --version $want"
have=$(wasm-bindgen --version | awk '{ print $2 }')
[ "$have" = "$want" ] ||
  fail "wasm-bindgen is $have but the crate is $want: cargo install wasm-bindgen-cli --version $want"
WASM_OPT=$WASM_DIR/node_modules/.bin/wasm-opt
[ -x "$WASM_OPT" ] || fail "wasm-opt is missing: run 'npm ci' in wasm/ (it comes from the npm package binaryen)"

echo "==> cargo build (wasm32-unknown-unknown, release, simd128)"
# The root release profile (fat LTO, one codegen unit) with two changes for this target:
# opt-level 2, as fast as 3 here (the hot loops are core's explicit SIMD kernels) and with a much
# smaller .wasm (opt-level 3 unrolls and inlines cold code such as the construction of 24
# adapters); and panic=abort, since nothing in this crate may panic anyway. Neither opt-level "z"
# nor wasm-opt -Os is used: each makes the hot calls slower for little size. LLVM's unrolling and
# inlining thresholds are lowered (unroll 50, inline 100; the defaults are 300 and 225), which
# shrinks the module without slowing the hot calls. The measurements behind each choice are in
# bench/build-choices.md.
# Cold code (loading, saving, resets, statistics) is kept out of line with #[inline(never)] where
# twiggy showed copies of it inlined and unrolled into several callers.
# A 64 KiB stack instead of Rust's default 1 MiB: the module's memory starts with the stack, so
# it is most of what a fresh module occupies. Nothing large passes through it: the adapters are
# built and loaded in place on the heap (MicroLoRA/ScopedLoRA::new_boxed, from_bytes_boxed), and
# test/memory.test.mjs checks that the largest constructions and loads use at most a quarter of
# it. WebAssembly has no guard page, so running out of stack would show up as "memory access out
# of bounds"; the margin keeps it from happening.
CARGO_PROFILE_RELEASE_OPT_LEVEL=2 \
CARGO_PROFILE_RELEASE_PANIC=abort \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128 -C link-arg=-zstack-size=65536 -C llvm-args=-unroll-threshold=50 -C llvm-args=-inline-threshold=100" \
  cargo build -j2 --release --target wasm32-unknown-unknown -p ruvector-learning-wasm \
  --manifest-path "$ROOT/Cargo.toml" --target-dir "$TARGET_DIR"

echo "==> wasm-bindgen --target web"
wasm-bindgen --target web --out-dir "$PKG" --out-name "$NAME" \
  "$TARGET_DIR/wasm32-unknown-unknown/release/$NAME.wasm"
# The classes (js/api.js), which the module's start function installs by name (they take the
# module's exports from the glue's initSync, which returns them once instantiated), and their
# declarations before the loader's.
CLASSES='WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer'
{ echo; echo 'const glueExports = () => initSync();'; cat "$WASM_DIR/js/api.js"
  echo "export { $CLASSES };"; } >>"$PKG/$NAME.js"
{ cat "$WASM_DIR/js/api.d.ts"; echo; cat "$PKG/$NAME.d.ts"; } >"$PKG/$NAME.d.ts.new"
mv "$PKG/$NAME.d.ts.new" "$PKG/$NAME.d.ts"

echo "==> wasm-bindgen --target no-modules (the glue of the CommonJS entry, node.cjs)"
# The same glue as a classic script, turned into a CommonJS module by one appended line that
# exports what the web glue exports. wasm-bindgen writes the same .wasm for both targets (the cmp
# checks it), so both glues load the one .wasm the package ships. Its declarations are the web
# glue's, which describe the same exports.
GLUE_DIR=$(mktemp -d)
trap 'rm -rf "$GLUE_DIR"' EXIT
wasm-bindgen --target no-modules --out-dir "$GLUE_DIR" --out-name "$NAME" \
  "$TARGET_DIR/wasm32-unknown-unknown/release/$NAME.wasm"
cmp -s "$GLUE_DIR/${NAME}_bg.wasm" "$PKG/${NAME}_bg.wasm" ||
  fail "wasm-bindgen wrote different .wasm files for the web and no-modules targets"
{ cat "$GLUE_DIR/$NAME.js"; echo 'const glueExports = () => wasm_bindgen.initSync();'; cat "$WASM_DIR/js/api.js"
  echo "module.exports = { __esModule: true, ...wasm_bindgen, $CLASSES, default: wasm_bindgen };"; } \
  >"$PKG/$NAME.cjs"
cp "$PKG/$NAME.d.ts" "$PKG/$NAME.d.cts"

echo "==> wasm-opt"
# The features rustc enables for wasm32-unknown-unknown, plus SIMD128. The target_features
# section that lists them is for tools like this one, not for engines: stripped with the rest.
"$WASM_OPT" -O3 --strip-debug --strip-producers --strip-target-features \
  --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$PKG/${NAME}_bg.wasm" -o "$PKG/${NAME}_bg.wasm"

size=$(wc -c <"$PKG/${NAME}_bg.wasm")
echo "==> built $PKG/${NAME}_bg.wasm: $size bytes ($(( (size + 1023) / 1024 )) KiB)"
