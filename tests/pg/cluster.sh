# A throw-away PostgreSQL cluster (of scripts/postgres.sh's PG_MAJOR: 15, or MICROLORA_PG_MAJOR's)
# for scripts that run a real server with microlora preloaded (tests/pg/run.sh, tests/pg/deb.sh,
# pg_extension/restart_test.sh, tests/regress/run.sh, scripts/demo-pg.sh, bench/pgbench.sh,
# bench/callgrind.sh, bench/tpch/run.sh). Source it, then:
#
#   cluster_create NAME     initdb into a fresh /tmp/microlora-NAME.XXXXXX (sets CLUSTER_DIR,
#                           CLUSTER_DATA, CLUSTER_LOG); the server listens only on a unix socket in
#                           that directory, and reads its test settings from CLUSTER_DATA/extra.conf
#   cluster_settings LINE…  replaces extra.conf with these lines (takes effect at the next start)
#   cluster_start / cluster_stop [fast|immediate] / cluster_restart
#   cluster_destroy         stops the server, whatever its state, and removes the directory
#   sql SQL                 runs SQL in database postgres, prints unaligned tuples, fails on error
#   sql_in DATABASE SQL     the same in another database
#   as_pg CMD…              runs CMD as the system user Postgres runs as (it refuses root)
#
# The server and its tools run as the system user MICROLORA_PG_USER (default microlora, created by
# `bash scripts/setup.sh pg`), from the bin directory of scripts/postgres.sh's PG_CONFIG (PG_BIN);
# sourcing this also gives install_extension. Call cluster_destroy from an EXIT trap.

# shellcheck source=../../scripts/postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/postgres.sh"
PG_USER=${MICROLORA_PG_USER:-microlora}
PG_BIN=$("$PG_CONFIG" --bindir)
CLUSTER_DIR=
CLUSTER_DATA=
CLUSTER_LOG=

as_pg() { sudo -u "$PG_USER" "$@"; }

cluster_create() { # name
  if ! id -u "$PG_USER" >/dev/null 2>&1; then
    echo "cluster.sh: system user '$PG_USER' is missing: run 'bash scripts/setup.sh pg' first" >&2
    return 2
  fi
  CLUSTER_DIR=$(mktemp -d "/tmp/microlora-$1.XXXXXX")
  chown "$PG_USER" "$CLUSTER_DIR"
  CLUSTER_DATA=$CLUSTER_DIR/data
  CLUSTER_LOG=$CLUSTER_DIR/server.log
  as_pg "$PG_BIN/initdb" -D "$CLUSTER_DATA" -A trust --no-sync >/dev/null
  as_pg tee -a "$CLUSTER_DATA/postgresql.conf" >/dev/null <<EOF
listen_addresses = ''
unix_socket_directories = '$CLUSTER_DIR'
include_if_exists = 'extra.conf'
EOF
}

cluster_settings() { # line…
  printf '%s\n' "$@" | as_pg tee "$CLUSTER_DATA/extra.conf" >/dev/null
}

pg_ctl_() { as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER_DATA" -l "$CLUSTER_LOG" "$@" >/dev/null; }
cluster_start() { pg_ctl_ -w -t 60 start; }
cluster_stop() { pg_ctl_ -w -t 60 stop -m "${1:-fast}"; }
cluster_restart() { cluster_stop fast && cluster_start; }

cluster_destroy() {
  [ -n "$CLUSTER_DIR" ] || return 0
  if [ -f "$CLUSTER_DATA/postmaster.pid" ]; then
    pg_ctl_ -w -t 30 stop -m immediate 2>/dev/null || true
  fi
  rm -rf "$CLUSTER_DIR"
  CLUSTER_DIR=
}

sql() { # SQL
  sql_in postgres "$1"
}
sql_in() { # database SQL
  as_pg "$PG_BIN/psql" -X -qtA -h "$CLUSTER_DIR" -d "$1" -v ON_ERROR_STOP=1 -c "$2"
}

# psql and pgbench against the cluster, with any further arguments.
cluster_psql() { as_pg "$PG_BIN/psql" -X -h "$CLUSTER_DIR" -d postgres -v ON_ERROR_STOP=1 "$@"; }
cluster_pgbench() { as_pg "$PG_BIN/pgbench" -h "$CLUSTER_DIR" "$@" postgres; }
