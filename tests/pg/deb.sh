#!/usr/bin/env bash
# Tests the Debian package of scripts/package-deb.sh the way a DBA uses it, as root:
#
#   a. the package: lintian finds no error or warning; its name and control fields (named
#      postgresql-<major>-microlora, version from the workspace, architecture, section, Depends on
#      the server's package postgresql-<major>);
#   b. `apt-get install ./postgresql-<major>-microlora_<version>_<arch>.deb` installs it: dpkg -L
#      lists the .so (stripped), the control file, the version's SQL script, every upgrade script
#      of sql/ (the same bytes) and no other full script, at the paths of Debian's
#      postgresql-<major>; every library the .so needs comes from a package it Depends on, so a
#      server without Rust loads it;
#   c. a throw-away cluster with the installed library preloaded: CREATE EXTENSION at that
#      version, every upgrade script leads to it, and statements run at sample_rate = 1 teach
#      the learner;
#   d. `apt-get purge` removes every file it installed.
#
# For a major Debian 12 does not package (17, 18: built from source by scripts/pg-majors.sh), apt
# cannot install the package here, its dependency postgresql-<major> being unknown: b checks the
# files the package holds (dpkg-deb -x) instead, c loads them copied into the source-built
# server, and d does not run. It says so as it runs.
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
EXTENSION=microlora
PG_MAJOR=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
PACKAGE=postgresql-$PG_MAJOR-$EXTENSION
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

# Where the package installs (Debian's postgresql-<major> paths), and where this server loads
# extensions from (the same paths for Debian's own server).
DEB_LIBDIR=/usr/lib/postgresql/$PG_MAJOR/lib
DEB_EXTENSION_DIR=/usr/share/postgresql/$PG_MAJOR/extension
PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)
EXTENSION_DIR=$("$PG_CONFIG" --sharedir)/extension
SO=$PKGLIBDIR/$EXTENSION.so
VERSION=$MICROLORA_VERSION
UPGRADES=()
for script in "$ROOT"/sql/"$EXTENSION"--*--*.sql; do [ -e "$script" ] && UPGRADES+=("$script"); done
# Whether apt can install the package here: the server is Debian's own package.
if [ "$PKGLIBDIR" = "$DEB_LIBDIR" ] && dpkg-query -W -f='${Status}' "postgresql-$PG_MAJOR" 2>/dev/null | grep -q 'ok installed'; then
  WITH_APT=1
else
  WITH_APT=0
fi

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

for file in "$SO" "$EXTENSION_DIR/$EXTENSION"{.control,--*.sql}; do
  [ -f "$file" ] || continue
  mkdir -p "$BACKUP$(dirname "$file")"
  cp -a "$file" "$BACKUP$file"
  SAVED+=("$file")
  rm -f "$file"
done
[ ${#SAVED[@]} -eq 0 ] || echo "# (put back at the end: ${SAVED[*]})"
if [ "$WITH_APT" = 1 ]; then
  echo "# b. apt-get install: the files, and the libraries the .so needs"
  (cd "$WORK" && apt_get install "./$(basename "$DEB")")
  check_true "apt-get installed it" installed
  LISTED=$(dpkg -L "$PACKAGE")
  FILES_ROOT=
else
  echo "# b. the files the package holds (dpkg-deb -x: apt cannot install it here, Debian 12 has no postgresql-$PG_MAJOR), and the libraries the .so needs"
  FILES_ROOT=$WORK/root
  dpkg-deb -x "$DEB" "$FILES_ROOT"
  LISTED=$(dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed -E 's|^\./|/|; s|/$||')
fi
listed() { grep -qx "$1" <<<"$LISTED"; }
PACKAGED_SO=$FILES_ROOT$DEB_LIBDIR/$EXTENSION.so
check_true "it holds the library, where postgresql-$PG_MAJOR loads it" listed "$DEB_LIBDIR/$EXTENSION.so"
check_true "it holds the control file" listed "$DEB_EXTENSION_DIR/$EXTENSION.control"
check_true "it holds the version's script $EXTENSION--$VERSION.sql" listed "$DEB_EXTENSION_DIR/$EXTENSION--$VERSION.sql"
check_true "it holds the copyright file" listed "/usr/share/doc/$PACKAGE/copyright"
# Listed, and installed with the repository's bytes.
installed_as_in_repository() {
  listed "$DEB_EXTENSION_DIR/$(basename "$1")" && cmp -s "$1" "$FILES_ROOT$DEB_EXTENSION_DIR/$(basename "$1")"
}
for script in "${UPGRADES[@]}"; do
  check_true "it holds the upgrade script $(basename "$script"), the repository's bytes" \
    installed_as_in_repository "$script"
done
check "as many upgrade scripts as sql/ holds" \
  "$(grep -c -- "^$DEB_EXTENSION_DIR/$EXTENSION--.*--.*\.sql$" <<<"$LISTED" || true)" "${#UPGRADES[@]}"
check "one full script: the version's own" \
  "$(grep -E -- "^$DEB_EXTENSION_DIR/$EXTENSION--[^-]+\.sql$" <<<"$LISTED" || true)" "$DEB_EXTENSION_DIR/$EXTENSION--$VERSION.sql"
check "nothing outside postgresql-$PG_MAJOR's directories and its own documentation" \
  "$(grep -vE "^(|/\.|/|/usr|/usr/lib|/usr/lib/postgresql|/usr/lib/postgresql/$PG_MAJOR|/usr/share|/usr/share/postgresql|/usr/share/postgresql/$PG_MAJOR|/usr/share/doc)$" <<<"$LISTED" \
     | grep -vE "^($DEB_LIBDIR|$DEB_EXTENSION_DIR|/usr/share/doc/$PACKAGE)(/|$)" || true)" ""
check "the library is stripped (no .symtab)" "$(readelf -S -W "$PACKAGED_SO" | grep -c '\.symtab' || true)" "0"
check "the loader finds every library it needs" "$(ldd "$PACKAGED_SO" | grep -c 'not found' || true)" "0"
for library in $(readelf -d "$PACKAGED_SO" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
  # ldd names the library's file ("name => path"), or the loader by its path.
  path=$(ldd "$PACKAGED_SO" | awk -v name="$library" '$1 == name && $2 == "=>" { print $3 } $1 ~ "/" name "$" { print $1 }')
  owner=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(realpath "$path")" 2>/dev/null || true)
  owner=${owner%%:*}
  check_true "$library ($path, from ${owner:-no package}) comes from a package it Depends on" \
    grep -qx "${owner:-none}" <<<"$DEPENDS"
done

if [ "$WITH_APT" = 1 ]; then
  echo "# c. a cluster with the installed library preloaded"
else
  echo "# c. a cluster with the package's files, copied into the server built from source, preloaded"
  install -m 0644 "$PACKAGED_SO" "$PKGLIBDIR/"
  install -m 0644 "$FILES_ROOT$DEB_EXTENSION_DIR"/* "$EXTENSION_DIR/"
fi
cluster_create deb
cluster_settings "shared_preload_libraries = '$EXTENSION'" "microlora.sample_rate = 1"
cluster_start
sql "CREATE EXTENSION $EXTENSION" >/dev/null
check "CREATE EXTENSION installs the package's version" \
  "$(sql "SELECT extversion FROM pg_extension WHERE extname = '$EXTENSION'")" "$VERSION"
for script in "${UPGRADES[@]}"; do
  from=$(basename "$script" .sql | sed -E "s/^$EXTENSION--([^-]+)--.*/\1/")
  check "an update path leads from $from to $VERSION" \
    "$(sql "SELECT path IS NOT NULL FROM pg_extension_update_paths('$EXTENSION') WHERE source = '$from' AND target = '$VERSION'")" "t"
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

if [ "$WITH_APT" = 0 ]; then
  echo "# d. apt-get purge: not here, apt did not install it (the copied files are removed and what was there put back)"
  rm -f "$SO" "$EXTENSION_DIR/$EXTENSION".control "$EXTENSION_DIR/$EXTENSION"--*.sql
  finished=1
  exit 0
fi
echo "# d. apt-get purge removes every file"
FILES=()
while read -r path; do [ -f "$path" ] && FILES+=("$path"); done <<<"$LISTED"
apt_get purge "$PACKAGE"
check "dpkg knows the package no more" "$(dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null || true)" ""
left=()
for path in "${FILES[@]}"; do [ -e "$path" ] && left+=("$path"); done
check "none of its ${#FILES[@]} files is left" "${left[*]}" ""
finished=1
