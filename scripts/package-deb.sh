#!/usr/bin/env bash
# Builds the Debian package a DBA installs: postgresql-<major>-microlora_<version>_<arch>.deb (named
# as Debian names extensions, one package per PostgreSQL major, installable side by side), for the
# PostgreSQL of scripts/postgres.sh's PG_CONFIG (default Debian's PostgreSQL 15; MICROLORA_PG_MAJOR
# for another), from `cargo pgrx package`. The server that installs it needs no Rust:
# `apt install ./postgresql-15-microlora_<version>_<arch>.deb`.
#
# Usage: scripts/package-deb.sh [OUT_DIR]     (default target/deb; prints the .deb's path last)
#
# Assumes `bash scripts/setup.sh deb` was run (cargo-pgrx, the server's headers, dpkg-dev). Reads
# pg_config and writes only under target/ and OUT_DIR: it needs no root and no lock on the server.
# The package holds, at the paths where Debian's postgresql-<major> looks (for Debian's own 15,
# the paths its pg_config reports; a major built from source, see scripts/pg-majors.sh, reports
# its own prefix, and its files are put at Debian's paths):
#   /usr/lib/postgresql/<major>/lib/microlora.so                 stripped, as Debian requires
#   /usr/share/postgresql/<major>/extension/microlora.control    and microlora--<version>.sql
#   /usr/share/postgresql/<major>/extension/microlora--A--B.sql  every upgrade script in sql/
#                                               (the older full scripts kept there for tests are
#                                               not shipped)
#   /usr/share/doc/postgresql-<major>-microlora/{copyright,changelog.gz}
# Depends: the server's package (postgresql-<major>) and, computed by dpkg-shlibdeps, the packages
# of the shared libraries the .so needs. It replaces the package 0.1.0 was shipped as (`microlora`,
# for 15). DEBFULLNAME and DEBEMAIL (dch's variables) set the Maintainer field.
set -euo pipefail
# OUT_DIR is relative to the caller's directory, its default to the repository.
OUT_DIR=
[ $# -eq 0 ] || OUT_DIR=$(mkdir -p "$1" && cd "$1" && pwd)
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT_DIR=${OUT_DIR:-$(mkdir -p target/deb && cd target/deb && pwd)}
# shellcheck source=postgres.sh
source scripts/postgres.sh
umask 022

say() { printf '==> package-deb: %s\n' "$*"; }

EXTENSION=microlora
MAINTAINER="${DEBFULLNAME:-microlora maintainers} <${DEBEMAIL:-maintainers@microlora.invalid}>"
VERSION=$MICROLORA_VERSION
ARCH=$(dpkg --print-architecture)
PG_MAJOR=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
PACKAGE=postgresql-$PG_MAJOR-$EXTENSION
# Where cargo pgrx package puts the files (the server's own paths, under its --out-dir), and where
# the package installs them (Debian's).
BUILT_LIBDIR=$("$PG_CONFIG" --pkglibdir)
BUILT_EXTENSION_DIR=$("$PG_CONFIG" --sharedir)/extension
PKGLIBDIR=/usr/lib/postgresql/$PG_MAJOR/lib
EXTENSION_DIR=/usr/share/postgresql/$PG_MAJOR/extension
DEB=$OUT_DIR/${PACKAGE}_${VERSION}_${ARCH}.deb

# dpkg-shlibdeps reads debian/control and expects the files under debian/<package>/.
WORK=$ROOT/target/deb-build
STAGE=$WORK/pgrx
PKG_ROOT=$WORK/debian/$PACKAGE
rm -rf "$WORK"
mkdir -p "$STAGE" "$PKG_ROOT/DEBIAN"

say "cargo pgrx package (release) for PostgreSQL $PG_MAJOR, version $VERSION"
(cd pg_extension && CARGO_BUILD_JOBS=2 cargo pgrx package -c "$PG_CONFIG" --out-dir "$STAGE") \
  >"$WORK/pgrx.log" 2>&1 || { tail -n 60 "$WORK/pgrx.log" >&2; exit 1; }

built_so=$STAGE$BUILT_LIBDIR/$EXTENSION.so
built_control=$STAGE$BUILT_EXTENSION_DIR/$EXTENSION.control
built_sql=$STAGE$BUILT_EXTENSION_DIR/$EXTENSION--$VERSION.sql
for built in "$built_so" "$built_control" "$built_sql"; do
  [ -f "$built" ] || { echo "package-deb: cargo pgrx package did not write $built" >&2; exit 1; }
done
if ! grep -qx "default_version = '$VERSION'" "$built_control"; then
  echo "package-deb: $built_control does not name version $VERSION" >&2
  exit 1
fi

install -d "$PKG_ROOT$PKGLIBDIR" "$PKG_ROOT$EXTENSION_DIR" "$PKG_ROOT/usr/share/doc/$PACKAGE"
# Debian's dh_strip does the same to shared objects: the dynamic symbols the server looks up
# (Pg_magic_func, _PG_init, pg_finfo_*) stay.
install -m 0644 "$built_so" "$PKG_ROOT$PKGLIBDIR/"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$PKG_ROOT$PKGLIBDIR/$EXTENSION.so"
install -m 0644 "$built_control" "$built_sql" "$PKG_ROOT$EXTENSION_DIR/"
upgrades=(sql/"$EXTENSION"--*--*.sql)
[ -e "${upgrades[0]}" ] || upgrades=()
[ ${#upgrades[@]} -eq 0 ] || install -m 0644 "${upgrades[@]}" "$PKG_ROOT$EXTENSION_DIR/"

# The copyright file in Debian's machine-readable format, its years those of the repository's
# first and latest commits. The .so also holds, statically linked, the Rust standard library and
# the crates cargo tree lists (proc macros run only at build time).
first_year=$(git log --format=%ad --date=format:%Y 2>/dev/null | tail -n 1 || true)
last_year=$(git log -1 --format=%ad --date=format:%Y 2>/dev/null || date +%Y)
years=${first_year:-$last_year}
[ "$years" = "$last_year" ] || years=$years-$last_year
crates=$(cargo tree --quiet -p "$EXTENSION" -e normal,no-proc-macro --prefix none --format '{p}: {l}' \
  | sed -E 's/ \(\*\)$//; s/ \(\/[^)]*\)//' | grep -v "^$EXTENSION" | sort -u | sed 's/^/  /')
cat >"$PKG_ROOT/usr/share/doc/$PACKAGE/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: $EXTENSION
Comment: $EXTENSION.so links in, statically, the Rust standard library (MIT OR Apache-2.0)
 and these crates, each under the license named after it:
 .
$crates

Files: *
Copyright: $years the microlora authors
License: MIT or Apache-2.0

License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of
 this software and associated documentation files (the "Software"), to deal in
 the Software without restriction, including without limitation the rights to
 use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of
 the Software, and to permit persons to whom the Software is furnished to do so,
 subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all
 copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS
 FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
 COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
 IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
 CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.

License: Apache-2.0
 On Debian systems, the full text of the Apache License, Version 2.0 can be
 found in /usr/share/common-licenses/Apache-2.0.
EOF

# A native package's changelog: one entry for this build, dated by the commit it was built from.
if commit=$(git rev-parse --short HEAD 2>/dev/null); then
  git diff --quiet HEAD || commit="$commit, with changes not committed"
else
  commit="(none: not a git checkout)"
fi
when=$(git log -1 --format=%aD 2>/dev/null || date -R)
gzip -9n >"$PKG_ROOT/usr/share/doc/$PACKAGE/changelog.gz" <<EOF
$PACKAGE ($VERSION) unstable; urgency=medium

  * Built from microlora commit $commit.

 -- $MAINTAINER  $when
EOF

printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PACKAGE" "$PACKAGE" >"$WORK/debian/control"
shlib_depends=$(cd "$WORK" && dpkg-shlibdeps -O "debian/$PACKAGE$PKGLIBDIR/$EXTENSION.so" | sed 's/^shlibs:Depends=//')
installed_size=$(du -sk --exclude=DEBIAN "$PKG_ROOT" | cut -f1)
cat >"$PKG_ROOT/DEBIAN/control" <<EOF
Package: $PACKAGE
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $installed_size
Depends: postgresql-$PG_MAJOR, $shlib_depends
Breaks: $EXTENSION (<< 0.2.0)
Replaces: $EXTENSION (<< 0.2.0)
Section: database
Priority: optional
Description: PostgreSQL $PG_MAJOR extension that learns how long plan operators take
 microlora observes sampled statements and learns, for every executed plan node,
 how its real execution time compares with the planner's cost estimate: one
 rank-2 LoRA adapter per operator scope (sequential scans, index scans, hash
 joins, sorts and so on), corrected online from each sampled execution. What it
 learned is kept across restarts in the data directory and shown in the
 microlora.operator_stats view; when a DBA turns it on, it steers slow
 statements to faster plans and drops any plan that made a statement slower.
 .
 It must be loaded at server start: add microlora to shared_preload_libraries,
 restart the server, then run CREATE EXTENSION microlora in each database.
EOF
(cd "$PKG_ROOT" && find usr -type f -exec md5sum {} + | sort -k2) >"$PKG_ROOT/DEBIAN/md5sums"

dpkg-deb --build --root-owner-group "$PKG_ROOT" "$DEB" >/dev/null
say "built $(du -h "$DEB" | cut -f1) package, Depends: postgresql-$PG_MAJOR, $shlib_depends"
echo "$DEB"
