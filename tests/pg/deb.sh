#!/usr/bin/env bash
# Tests the Debian package of scripts/package-deb.sh the way a DBA uses it, as root:
#
#   a. the package: lintian finds no error or warning; its name and control fields (version from
#      the workspace, architecture, section, Depends on the server's package);
#   b. `apt-get install ./microlora_<version>_<arch>.deb` installs it: dpkg -L lists the .so
#      (stripped), the control file, the version's SQL script, every upgrade script of sql/ (the
#      same bytes) and no other full script; every library the .so needs comes from a package it
#      Depends on, so a server without Rust loads it;
#   c. a throw-away cluster with the installed library preloaded: CREATE EXTENSION at that
#      version, every upgrade script leads to it, and statements run at sample_rate = 1 teach
#      the learner;
#   d. `apt-get purge` removes every file it installed.
#
# Usage: tests/pg/deb.sh [PACKAGE.deb]   (default: builds one with scripts/package-deb.sh)
# It writes into the server's lib/ and share/extension/: hold the lock others use for that
# server. Extension files it finds there (from `cargo pgrx install`) are put back at the end.
# Prints `ok - …`/`FAILED - …` per check and `N passed, M failed`; exits non-zero on a failure.
set -euo pipefail
# A package given is relative to the caller's directory.
GIVEN_DEB=${1:+$(realpath "$1")}
cd "$(dirname "$0")"
HERE=$PWD
ROOT=$(cd ../.. && pwd)
# shellcheck source=cluster.sh
source "$HERE/cluster.sh"
# shellcheck source=checks.sh
source "$HERE/checks.sh"

if [ "$(id -u)" != 0 ]; then
  echo "deb.sh: run as root: it installs and purges a package" >&2
  exit 2
fi
PACKAGE=microlora
# apt-get, its output shown only when it fails.
apt_get() {
  local output
  output=$(DEBIAN_FRONTEND=noninteractive apt-get -y -qq "$@" 2>&1) || { echo "$output" >&2; return 1; }
}
installed() { dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null | grep -q 'ok installed'; }
if installed; then
  echo "deb.sh: package $PACKAGE is already installed; purge it first (apt-get purge $PACKAGE)" >&2
  exit 2
fi

PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)
EXTENSION_DIR=$("$PG_CONFIG" --sharedir)/extension
PG_MAJOR=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
SO=$PKGLIBDIR/$PACKAGE.so
VERSION=$MICROLORA_VERSION
UPGRADES=()
for script in "$ROOT"/sql/"$PACKAGE"--*--*.sql; do [ -e "$script" ] && UPGRADES+=("$script"); done

# apt reads a local package as the user _apt: the copy lives where every user can read it.
WORK=$(mktemp -d /tmp/microlora-deb.XXXXXX)
chmod 755 "$WORK"
BACKUP=$WORK/backup
SAVED=()
finish() {
  local status=$?
  cluster_destroy
  if installed; then apt_get purge "$PACKAGE" || true; fi
  for file in "${SAVED[@]}"; do cp -a "$BACKUP$file" "$file"; done
  rm -rf "$WORK"
  checks_finish "$status"
}
trap finish EXIT

if [ -n "$GIVEN_DEB" ]; then
  cp "$GIVEN_DEB" "$WORK/"
else
  bash "$ROOT/scripts/package-deb.sh" "$WORK"
fi
DEBS=("$WORK"/*.deb)
DEB=${DEBS[0]}
chmod 644 "$DEB"
field() { dpkg-deb -f "$DEB" "$1"; }

echo "# a. the package: lintian, its name and control fields"
lint=$(as_pg lintian --fail-on error,warning "$DEB" 2>&1) && lint_status=0 || lint_status=$?
check "lintian finds no error or warning" "$lint_status: $lint" "0: "
check "the file is named for its Package, Version and Architecture" \
  "$(basename "$DEB")" "$(field Package)_$(field Version)_$(field Architecture).deb"
check "the package is named $PACKAGE" "$(field Package)" "$PACKAGE"
check "its version is the workspace's" "$(field Version)" "$VERSION"
check "its architecture is this machine's" "$(field Architecture)" "$(dpkg --print-architecture)"
check "section and priority" "$(field Section)/$(field Priority)" "database/optional"
DEPENDS=$(field Depends | tr ',' '\n' | sed -E 's/^ +//; s/[ (].*//')
check_true "it depends on the server's package postgresql-$PG_MAJOR" grep -qx "postgresql-$PG_MAJOR" <<<"$DEPENDS"
check_true "the description has a long part" test "$(field Description | wc -l)" -gt 3

echo "# b. apt-get install: the files, and the libraries the .so needs"
for file in "$SO" "$EXTENSION_DIR/$PACKAGE"{.control,--*.sql}; do
  [ -f "$file" ] || continue
  mkdir -p "$BACKUP$(dirname "$file")"
  cp -a "$file" "$BACKUP$file"
  SAVED+=("$file")
  rm -f "$file"
done
[ ${#SAVED[@]} -eq 0 ] || echo "# (put back at the end: ${SAVED[*]})"
(cd "$WORK" && apt_get install "./$(basename "$DEB")")
check_true "apt-get installed it" installed
LISTED=$(dpkg -L "$PACKAGE")
listed() { grep -qx "$1" <<<"$LISTED"; }
check_true "dpkg -L lists the library" listed "$SO"
check_true "dpkg -L lists the control file" listed "$EXTENSION_DIR/$PACKAGE.control"
check_true "dpkg -L lists the version's script $PACKAGE--$VERSION.sql" listed "$EXTENSION_DIR/$PACKAGE--$VERSION.sql"
check_true "dpkg -L lists the copyright file" listed "/usr/share/doc/$PACKAGE/copyright"
# Listed, and installed with the repository's bytes.
installed_as_in_repository() { listed "$EXTENSION_DIR/$(basename "$1")" && cmp -s "$1" "$EXTENSION_DIR/$(basename "$1")"; }
for script in "${UPGRADES[@]}"; do
  check_true "dpkg -L lists the upgrade script $(basename "$script"), the repository's bytes" \
    installed_as_in_repository "$script"
done
check "as many upgrade scripts as sql/ holds" \
  "$(grep -c -- "^$EXTENSION_DIR/$PACKAGE--.*--.*\.sql$" <<<"$LISTED" || true)" "${#UPGRADES[@]}"
check "one full script: the version's own" \
  "$(grep -E -- "^$EXTENSION_DIR/$PACKAGE--[^-]+\.sql$" <<<"$LISTED" || true)" "$EXTENSION_DIR/$PACKAGE--$VERSION.sql"
check "the library is stripped (no .symtab)" "$(readelf -S -W "$SO" | grep -c '\.symtab' || true)" "0"
check "the loader finds every library it needs" "$(ldd "$SO" | grep -c 'not found' || true)" "0"
for library in $(readelf -d "$SO" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
  # ldd names the library's file ("name => path"), or the loader by its path.
  path=$(ldd "$SO" | awk -v name="$library" '$1 == name && $2 == "=>" { print $3 } $1 ~ "/" name "$" { print $1 }')
  owner=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(realpath "$path")" 2>/dev/null || true)
  owner=${owner%%:*}
  check_true "$library ($path, from ${owner:-no package}) comes from a package it Depends on" \
    grep -qx "${owner:-none}" <<<"$DEPENDS"
done

echo "# c. a cluster with the installed library preloaded"
cluster_create deb
cluster_settings "shared_preload_libraries = '$PACKAGE'" "microlora.sample_rate = 1"
cluster_start
sql "CREATE EXTENSION $PACKAGE" >/dev/null
check "CREATE EXTENSION installs the package's version" \
  "$(sql "SELECT extversion FROM pg_extension WHERE extname = '$PACKAGE'")" "$VERSION"
for script in "${UPGRADES[@]}"; do
  from=$(basename "$script" .sql | sed -E "s/^$PACKAGE--([^-]+)--.*/\1/")
  check "an update path leads from $from to $VERSION" \
    "$(sql "SELECT path IS NOT NULL FROM pg_extension_update_paths('$PACKAGE') WHERE source = '$from' AND target = '$VERSION'")" "t"
done
sql "CREATE TABLE numbers AS SELECT g AS n, g % 10 AS digit FROM generate_series(1, 10000) g" >/dev/null
for _ in 1 2 3 4 5; do
  sql "SELECT a.digit, count(*) FROM numbers a JOIN numbers b USING (n) WHERE a.n % 3 = 0 GROUP BY a.digit ORDER BY a.digit" >/dev/null
done
check_true "the learner observed plan nodes" \
  test "$(sql "SELECT coalesce(sum(nodes), 0) FROM microlora.operator_stats")" -gt 0
check_true "and adapted to them" \
  test "$(sql "SELECT coalesce(sum(adapt_count), 0) FROM microlora.operator_stats")" -gt 0
check "no microlora warning or error in the server log" \
  "$(grep -icE 'microlora.*(WARNING|ERROR|failed)' "$CLUSTER_LOG" || true)" "0"
cluster_destroy

echo "# d. apt-get purge removes every file"
FILES=()
while read -r path; do [ -f "$path" ] && FILES+=("$path"); done <<<"$LISTED"
apt_get purge "$PACKAGE"
check "dpkg knows the package no more" "$(dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null || true)" ""
left=()
for path in "${FILES[@]}"; do [ -e "$path" ] && left+=("$path"); done
check "none of its ${#FILES[@]} files is left" "${left[*]}" ""
finished=1
