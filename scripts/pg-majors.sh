#!/usr/bin/env bash
# Builds the PostgreSQL majors that Debian 12 does not package (17 and 18) from Debian's source
# packages, for building and testing the extension against them. Usage:
#
#   scripts/pg-majors.sh [16|17|18]...      (default: 18; 17's source cannot be downloaded today,
#                                            see the README)
#
# Each major comes from the upstream tarball inside Debian's source package (17 from trixie, 18
# from sid): the newest version those suites list, or the one MICROLORA_PG17_VERSION /
# MICROLORA_PG18_VERSION pins; or from an upstream tarball already on the machine, named by
# MICROLORA_PG<major>_TARBALL (the only way to 16, which Debian no longer carries, or to a major
# whose source the archive cannot deliver). Not pinning keeps working when a suite moves on to a
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
    17) echo "postgresql-17${PG17_VERSION:+=$PG17_VERSION}" ;;
    18) echo "postgresql-18${PG18_VERSION:+=$PG18_VERSION}" ;;
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

build_major() { # major
  local major=$1 source prefix
  source=$(source_of "$major")
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
for tool in bison flex make gcc; do
  command -v "$tool" >/dev/null || { echo "pg-majors.sh: $tool is missing: run 'bash scripts/setup.sh pg${majors[0]}'" >&2; exit 2; }
done
for major in "${majors[@]}"; do build_major "$major"; done
