#!/usr/bin/env bash
# Installs what is needed (scripts/setup.sh) and runs every test of every part.
# Usage: scripts/test.sh [core|wasm|pg|e2e|deb|regress|tpch|majors]...
# (default: all of them, in that order; majors tests MICROLORA_PG_MAJORS, default 16 17 18, after 15)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=postgres.sh
source scripts/postgres.sh

banner() { printf '\n######## %s\n' "$*"; }

test_core() {
  banner "docs: every link between the repository's Markdown files resolves; the layout names every source file"
  python3 scripts/check_docs.py
  banner "core: unit, property and documentation tests"
  bash scripts/setup.sh core
  cargo test -j2 -p microlora-core
  banner "core: the same tests in a release build (large learners must not overflow a thread's stack)"
  cargo test -j2 -p microlora-core --release
  banner "core: benchmarks compile"
  cargo bench -j2 -p microlora-core --no-run
}

test_wasm() {
  banner "wasm: build the npm package from source, Node suite, headless Chromium"
  bash scripts/setup.sh wasm
  bash wasm/test.sh
  banner "wasm: the packed tarball installed in a fresh project: ESM, CommonJS, TypeScript, a Vite bundle in Chromium"
  bash wasm/consumer/test.sh
}

test_pg() {
  banner "pg: the extension's #[pg_test]s in a throwaway cluster, run as an ordinary user"
  python3 scripts/check_safety.py pg_extension/src/*.rs pg_extension/src/tests/*.rs
  bash scripts/setup.sh pg
  bash pg_extension/test.sh
}

test_e2e() {
  banner "e2e: learned state moves between Rust and the npm package"
  bash scripts/setup.sh wasm
  bash wasm/build.sh
  cargo build -j2 -p microlora-e2e
  node --test tests/state_exchange.test.mjs
  banner "e2e: the extension in a real server: crashes, 8 concurrent clients, state to the npm package and back"
  bash scripts/setup.sh pg
  install_extension
  bash tests/pg/run.sh
  banner "e2e: plan steering in a real server: a bad nested loop replaced, generic plans and nested statements left alone"
  bash tests/pg/steering.sh
  banner "e2e: upgrading from the previous release: its SQL with this library, ALTER EXTENSION UPDATE, its state file"
  bash tests/pg/upgrade.sh
}

test_deb() {
  banner "deb: the Debian package built, linted, installed with apt, loaded by a cluster, purged"
  bash scripts/setup.sh deb
  bash tests/pg/deb.sh
}

test_regress() {
  banner "regress: PostgreSQL's own regression suite, stock and with the extension preloaded"
  bash scripts/setup.sh pg
  install_extension
  bash tests/regress/run.sh
}

test_tpch() {
  banner "tpch: the benchmark's own tests, then its whole pipeline at scale 0.01"
  bash scripts/setup.sh tpch
  (cd bench/tpch && ../../target/tpch-venv/bin/python -m unittest discover -s tests -t .)
  # Generate, load, train, evaluate, report and plot; --check fails unless the report is complete
  # and learning reduced the error.
  bash bench/tpch/run.sh --scale 0.01 --out target/tpch-test --no-overhead --check
  banner "tpch: the skew workload's tests, then its steering pipeline at scale 0.02"
  (cd bench/skew && PYTHONPATH=../tpch ../../target/tpch-venv/bin/python -m unittest discover -s tests -t .)
  bash bench/skew/run.sh --check --out target/skew-test
  banner "tpch: the JOB workload's tests, then its steering pipeline on templates 1-8 at scale 0.02"
  bash scripts/setup.sh job
  (cd bench/job && PYTHONPATH=../tpch ../../target/tpch-venv/bin/python -m unittest discover -s tests -t .)
  bash bench/job/run.sh --check --out target/job-test
  banner "tpch: the TPC-DS benchmark's tests, then its steering pipeline at scale 0.01"
  bash scripts/setup.sh tpcds >/dev/null
  (cd bench/tpcds && PYTHONPATH=../tpch ../../target/tpch-venv/bin/python -m unittest discover -s tests -t .)
  bash bench/tpcds/run.sh --check --out target/tpcds-test
}

# The other PostgreSQL majors: each of MICROLORA_PG_MAJORS (default 16 17 18) made once (bash
# scripts/setup.sh pg<major>, cached outside the repository: 18 built from Debian's source package,
# 16 and 17 assembled from binaries because no source of theirs can be downloaded here, see
# scripts/pg-majors.sh) and put through the extension's #[pg_test]s and restart tests, the e2e
# scripts of a real server, its Debian package and, where the major came with its sources,
# PostgreSQL's own regression suite, as on 15.
test_majors() {
  local major
  for major in ${MICROLORA_PG_MAJORS:-16 17 18}; do
    banner "majors: PostgreSQL $major made once (scripts/pg-majors.sh), then the extension's #[pg_test]s"
    bash scripts/setup.sh "pg$major"
    env -u MICROLORA_PG_CONFIG MICROLORA_PG_MAJOR="$major" bash pg_extension/test.sh
    banner "majors: PostgreSQL $major: the e2e scripts (crashes, steering, upgrade), the Debian package, the regression suite where there is one"
    (
      export MICROLORA_PG_MAJOR=$major
      unset MICROLORA_PG_CONFIG
      # shellcheck source=postgres.sh
      source scripts/postgres.sh
      install_extension --quiet
      bash scripts/setup.sh wasm >/dev/null
      bash wasm/build.sh >/dev/null
      bash tests/pg/run.sh
      bash tests/pg/steering.sh
      bash tests/pg/upgrade.sh
      bash scripts/setup.sh deb >/dev/null
      bash tests/pg/deb.sh
      if [ -d "$(pg_major_dir "$major")/suite" ]; then
        bash tests/regress/run.sh
      else
        banner "majors: PostgreSQL $major: its regression suite is NOT run: $(head -n 1 "$(pg_major_dir "$major")/built") has no sources"
      fi
    )
  done
}

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(core wasm pg e2e deb regress tpch majors)
for part in "${parts[@]}"; do
  case "$part" in
    core) test_core ;;
    wasm) test_wasm ;;
    pg) test_pg ;;
    e2e) test_e2e ;;
    deb) test_deb ;;
    regress) test_regress ;;
    tpch) test_tpch ;;
    majors) test_majors ;;
    *) echo "test.sh: unknown part '$part'" >&2; exit 2 ;;
  esac
done
banner "all tests passed: ${parts[*]}"
