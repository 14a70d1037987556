# The PostgreSQL server this project builds the extension for, and the one way to install it.
# Sourced by the scripts that build, install or run it (scripts/setup.sh, scripts/test.sh,
# scripts/package-deb.sh, scripts/demo-pg.sh, tests/pg/cluster.sh and through it every script with a throw-away cluster,
# bench/pgbench.sh, bench/tpch/run.sh). Source it, then:
#
#   PG_MAJOR                the PostgreSQL major to build for and test against: MICROLORA_PG_MAJOR,
#                           default 15, Debian 12's own; 17 and 18 are built from source by
#                           scripts/pg-majors.sh (`bash scripts/setup.sh pg17`)
#   PG_CONFIG               that server's pg_config: MICROLORA_PG_CONFIG, default pg_config_of
#                           PG_MAJOR. Only named here, never run: scripts/setup.sh sources this
#                           before it installs postgresql-server-dev-15
#   pg_major_dir MAJOR      where scripts/pg-majors.sh installs a major it builds:
#                           MICROLORA_PG_CACHE/pg<major> (default /var/cache/microlora/pg<major>),
#                           outside the repository, shared by every checkout on the machine
#   pg_config_of MAJOR      that major's pg_config: Debian's for 15, pg_major_dir's for the others
#   MICROLORA_VERSION       the extension's version: the workspace's ([workspace.package] in
#                           Cargo.toml, which every crate's version.workspace = true takes)
#   install_extension [--quiet]
#                           builds the extension (release, 2 build jobs) and installs it into that
#                           server with cargo pgrx install; with --quiet, the build's output goes
#                           to a temporary file, of which only the Finished line is printed, or
#                           the tail if the build fails. Works from any directory; returns
#                           non-zero on failure

pg_major_dir() { echo "${MICROLORA_PG_CACHE:-/var/cache/microlora}/pg$1"; }
pg_config_of() { # major
  if [ "$1" = 15 ]; then echo /usr/lib/postgresql/15/bin/pg_config; else echo "$(pg_major_dir "$1")/bin/pg_config"; fi
}
PG_MAJOR=${MICROLORA_PG_MAJOR:-15}
PG_CONFIG=${MICROLORA_PG_CONFIG:-$(pg_config_of "$PG_MAJOR")}
# The repository, from this file's own location: callers run from anywhere.
MICROLORA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MICROLORA_VERSION=$(awk '/^\[/ { in_package = ($0 == "[workspace.package]") }
                         in_package && /^version *=/ { gsub(/[" ]/, ""); sub(/^version=/, ""); print }' \
  "$MICROLORA_ROOT/Cargo.toml")

install_extension() { # [--quiet]
  local build=(cargo pgrx install --release -c "$PG_CONFIG")
  if [ "${1:-}" != --quiet ]; then
    (cd "$MICROLORA_ROOT/pg_extension" && CARGO_BUILD_JOBS=2 "${build[@]}")
    return
  fi
  local log status=0
  log=$(mktemp)
  (cd "$MICROLORA_ROOT/pg_extension" && CARGO_BUILD_JOBS=2 "${build[@]}") >"$log" 2>&1 || status=$?
  if [ "$status" = 0 ]; then
    grep -E 'Finished' "$log" | sed 's/^ */    /'
  else
    echo "install_extension: ${build[*]} failed; the end of its output:" >&2
    tail -n 60 "$log" >&2
  fi
  rm -f "$log"
  return "$status"
}
