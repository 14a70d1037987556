#!/usr/bin/env bash
# PostgreSQL's own regression suite (src/test/regress of the installed server's version) in
# installcheck mode against a throw-away cluster (unix socket only, see tests/pg/cluster.sh), twice:
#
#   stock      a cluster without shared_preload_libraries: the suite and this machine agree;
#   microlora  the same cluster settings plus microlora preloaded, observing and learning from every
#              plan node (sample_rate 1, track all, learn on) and steering (steer = on, its default
#              threshold): the extension must change no
#              result, log no WARNING/ERROR/FATAL/PANIC or skipped hook, and it must have
#              observed the suite (sum(nodes) of microlora.operator_stats > 0).
#
# Usage: tests/regress/run.sh [stock|microlora]...   (default: both, in that order). Run as root:
# the servers and pg_regress run as the system user microlora (cluster.sh's as_pg).
#
# The server is scripts/postgres.sh's: PostgreSQL 15 from Debian's packages, or another major with
# MICROLORA_PG_MAJOR=17 or 18 (built by `bash scripts/setup.sh pg18`, which keeps that build's suite
# beside it, in pg_major_dir/suite). For 15, the suite comes from Debian's source package of the
# installed postgresql-15, fetched with a
# private apt configuration (deb-src of the machine's own Debian sources; root's apt state is not
# touched) and unpacked with dpkg-source; regress.so, refint.so and autoinc.so are built with PGXS
# (Makefile, rebuilt when it changes). Both are cached in ${XDG_CACHE_HOME:-$HOME/.cache}/microlora/regress/<version>/,
# so only the first run on a machine downloads (24 MB). The microlora run needs the installed
# extension: `bash scripts/test.sh regress` installs it (install_extension, scripts/postgres.sh).
#
# Prints `ok - …`/`FAILED - …` per check and finally `N passed, M failed`; exits non-zero if
# anything failed. Each run's pg_regress output, regression.diffs and server log (up to the end of
# the suite) are kept in target/regress/<run>/ (target/regress-pg<major>/<run>/ for another major).
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
ROOT=$(cd ../.. && pwd)
# shellcheck source=../pg/cluster.sh
source "$ROOT/tests/pg/cluster.sh"

PG_LIB=$("$PG_CONFIG" --pkglibdir)
PG_REGRESS=$PG_LIB/pgxs/src/test/regress/pg_regress
if [ "$PG_MAJOR" = 15 ]; then
  VERSION=$(dpkg-query -W -f='${Version}' postgresql-15)
  CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/microlora/regress/$VERSION
  # Where each run's pg_regress output, regression.diffs and server log are kept after the cluster is gone.
  KEEP=$ROOT/target/regress
else
  # The suite of the source scripts/pg-majors.sh built the server from; its stamp names the version.
  VERSION=$(sed -n '1s/^postgresql-[0-9]*=//p' "$(pg_major_dir "$PG_MAJOR")/built" 2>/dev/null || true)
  CACHE=$(pg_major_dir "$PG_MAJOR")/suite
  KEEP=$ROOT/target/regress-pg$PG_MAJOR
fi
# What the head of a failed run's regression.diffs shows.
DIFF_LINES=300

# The settings pg_regress gives the temporary instance of `make check` (pg_regress.c), so that
# installcheck exercises what check does (max_prepared_transactions > 0: prepared_xacts runs for
# real instead of taking its "disabled" alternative output) and the log names each test's session.
COMMON_SETTINGS=(
  "log_autovacuum_min_duration = 0"
  "log_checkpoints = on"
  "log_line_prefix = '%m %b[%p] %q%a '"
  "log_lock_waits = on"
  "log_temp_files = 128kB"
  "max_prepared_transactions = 2"
)
MICROLORA_SETTINGS=(
  "shared_preload_libraries = 'microlora'"
  "microlora.sample_rate = 1"
  "microlora.track = all"
  "microlora.learn = on"
  "microlora.steer = on"
)

runs=("$@")
[ ${#runs[@]} -eq 0 ] && runs=(stock microlora)
for run in "${runs[@]}"; do
  case "$run" in
    stock | microlora) ;;
    *) echo "run.sh: unknown run '$run' (stock or microlora)" >&2; exit 2 ;;
  esac
done

# shellcheck source=../pg/checks.sh
source "$ROOT/tests/pg/checks.sh"

FETCH_DIR=
STAGING=
finish() {
  local status=$?
  [ -z "$FETCH_DIR" ] || rm -rf "$FETCH_DIR"
  [ -z "$STAGING" ] || rm -rf "$STAGING"
  checks_finish "$status"
}
trap finish EXIT

# --- the suite: fetched once per server version, then taken from the cache ----------------------

# The machine's Debian apt sources (deb822 .sources and one-line .list files), as deb-src entries.
# Only entries whose URIs mention debian: third-party repositories have no source packages.
debian_sources_deb822() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk 'BEGIN { RS = ""; ORS = "" }
      {
        n = split($0, lines, "\n"); types = ""; uris = ""; enabled = 1
        for (i = 1; i <= n; i++) {
          line = tolower(lines[i])
          if (line ~ /^types:/) types = line
          else if (line ~ /^uris:/) uris = line
          else if (line ~ /^enabled:[ \t]*no/) enabled = 0
        }
        if (!enabled || types !~ /[: \t]deb([ \t]|$)/ || uris !~ /debian/) next
        for (i = 1; i <= n; i++) {
          if (tolower(lines[i]) ~ /^types:/) lines[i] = "Types: deb-src"
          print lines[i] "\n"
        }
        print "\n"
      }' "$file"
  done
}
debian_sources_list() {
  local file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    sed -nE '/debian/s/^[[:space:]]*deb[[:space:]]+/deb-src /p' "$file"
  done | sort -u
}

# Downloads Debian's source package of the installed server into a new cache directory: regress/
# (src/test/regress: sql, expected, data, parallel_schedule, resultmap, regress.c) and spi/
# (contrib/spi's refint.c and autoinc.c, which the triggers test loads).
fetch_suite() {
  echo "# fetching PostgreSQL's regression suite from Debian's source package postgresql-15=$VERSION"
  # dpkg-source (dpkg-dev), make and gcc, installed as scripts/setup.sh does.
  bash "$ROOT/scripts/setup.sh" regress >/dev/null
  FETCH_DIR=$(mktemp -d /tmp/microlora-regress-fetch.XXXXXX)
  local apt=$FETCH_DIR/apt download=$FETCH_DIR/download
  mkdir -p "$apt/sources.list.d" "$apt/lists" "$apt/cache"
  debian_sources_deb822 >"$apt/sources.list.d/debian-src.sources"
  debian_sources_list >"$apt/sources.list"
  if ! grep -q '^deb-src' "$apt/sources.list" && ! grep -q '^Types: deb-src' "$apt/sources.list.d/debian-src.sources"; then
    echo "run.sh: found no Debian apt source in /etc/apt/sources.list or /etc/apt/sources.list.d/" >&2
    return 1
  fi
  # A private apt: its own source list, package lists and cache, so root's apt state is untouched.
  local apt_opts=(-q -o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
  # apt downloads as its sandbox user _apt, who must be able to write there.
  chmod 755 "$FETCH_DIR"
  mkdir -p "$download"
  if id -u _apt >/dev/null 2>&1; then chown _apt "$download"; fi
  if ! apt-get "${apt_opts[@]}" update >"$FETCH_DIR/apt.log" 2>&1; then
    cat "$FETCH_DIR/apt.log" >&2
    return 1
  fi
  if ! (cd "$download" && apt-get "${apt_opts[@]}" source --download-only "postgresql-15=$VERSION") >>"$FETCH_DIR/apt.log" 2>&1; then
    cat "$FETCH_DIR/apt.log" >&2
    echo "run.sh: could not download the source of postgresql-15=$VERSION (is that version still in the archive?)" >&2
    return 1
  fi
  # Unpacked with Debian's patches applied, as the installed server was built.
  dpkg-source -x "$download"/postgresql-15_*.dsc "$FETCH_DIR/src" >"$FETCH_DIR/dpkg-source.log" 2>&1 ||
    { cat "$FETCH_DIR/dpkg-source.log" >&2; return 1; }
  mkdir -p "$(dirname "$CACHE")"
  STAGING=$(mktemp -d "$(dirname "$CACHE")/.$VERSION.XXXXXX")
  cp -a "$FETCH_DIR/src/src/test/regress" "$STAGING/regress"
  mkdir "$STAGING/spi"
  cp "$FETCH_DIR/src/contrib/spi/refint.c" "$FETCH_DIR/src/contrib/spi/autoinc.c" "$STAGING/spi/"
  chmod -R a+rX "$STAGING"
  rm -rf "$FETCH_DIR"
  FETCH_DIR=
  # Another run may have filled the cache meanwhile: then that copy is as good as this one.
  mv -T "$STAGING" "$CACHE" 2>/dev/null || rm -rf "$STAGING"
  STAGING=
  echo "# cached in $CACHE"
}

# Builds regress.so, refint.so and autoinc.so with PGXS (Makefile) into the cache's lib/, unless
# it holds a build made with this Makefile.
build_libs() {
  if cmp -s "$HERE/Makefile" "$CACHE/lib/Makefile" 2>/dev/null; then return 0; fi
  echo "# building the suite's C functions (regress.so, refint.so, autoinc.so) with PGXS"
  command -v make >/dev/null && command -v gcc >/dev/null || bash "$ROOT/scripts/setup.sh" regress >/dev/null
  STAGING=$(mktemp -d "$CACHE/.lib.XXXXXX")
  cp "$HERE/Makefile" "$CACHE/regress/regress.c" "$CACHE/spi/refint.c" "$CACHE/spi/autoinc.c" "$STAGING/"
  # with_llvm=no: no LLVM bitcode for JIT inlining, which the tests do not need.
  make -C "$STAGING" with_llvm=no PG_CONFIG="$PG_CONFIG" >"$STAGING/make.log" 2>&1 || { cat "$STAGING/make.log" >&2; return 1; }
  chmod -R a+rX "$STAGING"
  rm -rf "$CACHE/lib"
  mv -T "$STAGING" "$CACHE/lib"
  STAGING=
}

# --- one run of the suite --------------------------------------------------------------------------

# Runs the suite against a fresh cluster with COMMON_SETTINGS and the given extra settings, and
# leaves the cluster running (for checks on its log and state).
run_suite() { # name setting…
  local name=$1; shift
  echo "# $name: creating a throw-away cluster"
  cluster_create "regress-$name"
  cluster_settings "${COMMON_SETTINGS[@]}" "$@"
  cluster_start
  # pg_regress (as user microlora) reads the suite and the server (as microlora) loads the C
  # functions and reads data/ with COPY: a copy in the cluster's directory, which root's cache
  # directory is not readable for. The output directory receives results/ and regression.diffs.
  local suite=$CLUSTER_DIR/suite lib=$CLUSTER_DIR/lib out=$CLUSTER_DIR/out
  cp -a "$CACHE/regress" "$suite"
  mkdir "$lib"
  cp "$CACHE"/lib/{regress,refint,autoinc}.so "$lib/"
  mkdir -p "$out"
  chown -R "$PG_USER" "$suite" "$lib" "$out"
  local port
  port=$(sql "SHOW port")
  echo "# $name: running the regression suite (parallel_schedule, installcheck)"
  local start=$SECONDS status=0
  (cd "$CLUSTER_DIR" && as_pg "$PG_REGRESS" \
    --bindir="$PG_BIN" \
    --inputdir="$suite" \
    --outputdir="$out" \
    --dlpath="$lib" \
    --host="$CLUSTER_DIR" \
    --port="$port" \
    --schedule="$suite/parallel_schedule" \
    --max-concurrent-tests=20) >"$CLUSTER_DIR/pg_regress.out" 2>&1 || status=$?
  local seconds=$((SECONDS - start))
  local keep=$KEEP/$name
  rm -rf "$keep"
  mkdir -p "$keep"
  cp "$CLUSTER_DIR/pg_regress.out" "$CLUSTER_LOG" "$keep/"
  [ ! -f "$out/regression.diffs" ] || cp "$out/regression.diffs" "$keep/"

  # pg_regress's summary: " All 217 tests passed. ", " 42 of 217 tests failed. ", or with
  # ignorable tests (random, which is probabilistic): " 216 of 217 tests passed, 1 failed test(s)
  # ignored. " (pg_regress exits 0: a pass) or " … tests failed, 1 of these failures ignored. ".
  # From PostgreSQL 16 on, pg_regress writes TAP: the same summary as a comment ("# All 231 tests
  # passed."), and a failed test as "not ok 12     + name   … ms".
  local summary
  summary=$(grep -E '^(# )? *(All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests (passed|failed))' \
    "$CLUSTER_DIR/pg_regress.out" | tail -n 1 | sed -E 's/^(# )? +//; s/^# //; s/[ .]+$//' || true)
  if [ "$status" = 0 ] && [ -n "$summary" ] && ! grep -q 'tests failed' <<<"$summary"; then
    ok "$name: PostgreSQL's regression suite: $summary (${seconds} s)"
  else
    not_ok "$name: PostgreSQL's regression suite: ${summary:-no summary, pg_regress exited with status $status} (${seconds} s)"
    local failing
    failing=$(awk '/\.\.\. FAILED/ { for (i = 2; i <= NF; i++) if ($i == "...") { print $(i - 1); break } }
      /^not ok / { for (i = 4; i < NF; i++) if ($i == "+" || $i == "-") { print $(i + 1); break } }' \
      "$CLUSTER_DIR/pg_regress.out" | paste -sd' ')
    echo "# failing tests: ${failing:-none listed}"
    if [ -z "$summary" ]; then
      echo "# pg_regress output (last 40 lines):"
      tail -n 40 "$CLUSTER_DIR/pg_regress.out"
    fi
    if [ -s "$out/regression.diffs" ]; then
      echo "# regression.diffs ($(wc -l <"$out/regression.diffs") lines, the first $DIFF_LINES follow; all of it in $keep/regression.diffs):"
      head -n "$DIFF_LINES" "$out/regression.diffs"
    fi
  fi
  local crashes
  crashes=$(grep -E 'terminated by signal|was terminated by exception|server process .* exited with exit code' "$CLUSTER_LOG" || true)
  if [ -z "$crashes" ]; then
    ok "$name: no server process crashed"
  else
    not_ok "$name: no server process crashed"
    head -n 20 <<<"$crashes"
  fi
}

# --- the runs -------------------------------------------------------------------------------------

if [ ! -x "$PG_REGRESS" ]; then
  not_ok "pg_regress is installed: $PG_REGRESS is missing: run 'bash scripts/setup.sh $([ "$PG_MAJOR" = 15 ] && echo pg || echo "pg$PG_MAJOR")' first"
  finished=1
  exit 1
fi
if [ "$PG_MAJOR" != 15 ] && { [ -z "$VERSION" ] || [ ! -f "$CACHE/regress/parallel_schedule" ]; }; then
  not_ok "PostgreSQL $PG_MAJOR's regression suite is in $CACHE: run 'bash scripts/setup.sh pg$PG_MAJOR' first"
  finished=1
  exit 1
fi
for run in "${runs[@]}"; do
  if [ "$run" = microlora ] && [ ! -f "$PG_LIB/microlora.so" ]; then
    not_ok "the extension is installed: $PG_LIB/microlora.so is missing: install it with 'source scripts/postgres.sh && install_extension'"
    finished=1
    exit 1
  fi
done

if [ -f "$CACHE/regress/parallel_schedule" ] && [ -f "$CACHE/spi/refint.c" ]; then
  echo "# PostgreSQL's regression suite $VERSION from the cache $CACHE"
else
  rm -rf "$CACHE"
  fetch_suite
fi
build_libs

for run in "${runs[@]}"; do
  case "$run" in
    stock)
      run_suite stock
      cluster_stop fast
      cluster_destroy
      ;;
    microlora)
      echo "# microlora: $(stat -c '%y' "$PG_LIB/microlora.so" | cut -d. -f1) $PG_LIB/microlora.so"
      run_suite microlora "${MICROLORA_SETTINGS[@]}"
      # The extension's own messages are LOG lines ("microlora: loaded the learned state …"); a
      # hook that fails logs "microlora: … failed and was skipped".
      # The cluster's directory, /tmp/microlora-regress-…, shows in messages about the suite's files.
      bad=$(sed "s|$CLUSTER_DIR|<cluster>|g" "$CLUSTER_LOG" | grep -i 'microlora' | grep -E 'WARNING|ERROR|FATAL|PANIC|failed' || true)
      if [ -z "$bad" ]; then
        ok "microlora: no microlora WARNING/ERROR/FATAL/PANIC or failure in the server log"
      else
        not_ok "microlora: no microlora WARNING/ERROR/FATAL/PANIC or failure in the server log ($(wc -l <<<"$bad") lines, the first 20 follow)"
        head -n 20 <<<"$bad"
      fi
      # Read unobserved, so that neither CREATE EXTENSION nor the query itself adds nodes.
      nodes=$(sql "SET microlora.enabled = off; CREATE EXTENSION microlora; SELECT coalesce(sum(nodes), 0) FROM microlora.operator_stats" | tail -n 1) || nodes=
      if [ "${nodes:-0}" -gt 0 ] 2>/dev/null; then
        ok "microlora: the extension observed the suite: sum(nodes) = $nodes"
      else
        not_ok "microlora: the extension observed the suite: sum(nodes) = '$nodes', expected > 0"
      fi
      cluster_stop fast
      cluster_destroy
      ;;
  esac
done
finished=1
