#!/usr/bin/env bash
# Type-checks the extension's Rust code (library and #[pg_test]s) for PostgreSQL majors that no
# server on this machine is built for, with the bindings pgrx-pg-sys ships for every major it
# supports (src/include/pg<major>.rs, made from that major's headers). Usage:
#
#   scripts/check-majors.sh [16|17|18]...      (default: 16 17)
#
# It needs no pg_config: DOCS_RS=1 makes pgrx-pg-sys's build script skip bindgen and ours skip the C
# hooks (pg_extension/build.rs), and pgrx-pg-sys alone is compiled with `--cfg docsrs`, under which
# it takes the shipped bindings (this script is its own rustc wrapper for that). So it checks what
# the Rust side reads of pg_sys, not hooks.c, nor behaviour: for that, build the major
# (scripts/pg-majors.sh) and run its tests (`bash scripts/test.sh majors`).
set -euo pipefail

# As the rustc wrapper: `--cfg docsrs` for pgrx-pg-sys only (other crates' docsrs code needs nightly).
if [ "${MICROLORA_CHECK_MAJORS_WRAPPER:-}" = 1 ]; then
  rustc=$1
  shift
  for arg in "$@"; do
    if [ "$arg" = pgrx_pg_sys ]; then exec "$rustc" "$@" --cfg docsrs; fi
  done
  exec "$rustc" "$@"
fi

cd "$(dirname "$0")/.."
ROOT=$PWD
majors=("$@")
[ ${#majors[@]} -eq 0 ] && majors=(16 17)
for major in "${majors[@]}"; do
  printf '\n==> check-majors: the extension type-checks against pgrx-pg-sys'"'"'s bindings of PostgreSQL %s\n' "$major"
  (cd pg_extension && DOCS_RS=1 MICROLORA_CHECK_MAJORS_WRAPPER=1 RUSTC_WRAPPER="$ROOT/scripts/check-majors.sh" \
    CARGO_BUILD_JOBS=2 cargo check --no-default-features --features "pg$major pg_test" --lib --tests \
    --target-dir "$ROOT/target/check-majors")
done
