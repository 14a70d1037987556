#!/usr/bin/env bash
# Runs the extension's PostgreSQL tests from the repository root: the #[pg_test]s (with the library
# preloaded; one at a time, as they share the server's learner), then restart_test.sh (state kept
# across restarts, damaged state files, track = top). Assumes `bash scripts/setup.sh pg` was run
# (cargo-pgrx 0.18.1, `cargo pgrx init --pg15`, and the system user that initdb and postgres run
# as). MICROLORA_PG_MAJOR=17 or 18 tests against that major instead (`bash scripts/setup.sh pg18`
# builds and registers it). Extra arguments (a test name filter) go to `cargo pgrx test`. Exits
# non-zero on a failure.
set -euo pipefail
cd "$(dirname "$0")"

PG_USER=${MICROLORA_PG_USER:-microlora}
PG_MAJOR=${MICROLORA_PG_MAJOR:-15}
# The test cluster lives under a directory the Postgres user owns (initdb refuses root).
PGDATA_BASE=${MICROLORA_PGDATA:-/tmp/microlora-pgdata}
if ! id -u "$PG_USER" >/dev/null 2>&1; then
  echo "test.sh: system user '$PG_USER' is missing: run 'bash scripts/setup.sh pg' first" >&2
  exit 2
fi
mkdir -p "$PGDATA_BASE"
chown "$PG_USER" "$PGDATA_BASE"

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
set +e
RUST_TEST_THREADS=1 cargo pgrx test "pg$PG_MAJOR" --runas "$PG_USER" --pgdata "$PGDATA_BASE" "$@" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e

echo
echo "==> pg_extension test summary (PostgreSQL $PG_MAJOR)"
grep -E '^test result:|^failures:|^    [a-z_:]+$|panicked at' "$LOG" || true
if [ "$status" -ne 0 ]; then
  echo "==> pg_extension tests FAILED on PostgreSQL $PG_MAJOR (exit $status)"
  exit "$status"
fi
# Only when every pg test ran: a name filter in "$@" means a partial run.
if [ $# -eq 0 ]; then
  echo
  echo "==> restart tests (the extension cargo pgrx test just installed)"
  bash ./restart_test.sh
fi
echo "==> pg_extension tests passed on PostgreSQL $PG_MAJOR"
