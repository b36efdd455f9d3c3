#!/bin/sh
# check_debversion.sh: the version is written once, in configure.ac's
# AC_INIT; debian/changelog repeats it for the packages and must agree, as
# must what `mptcpshim --version` says.  (debian/rules refuses to build a
# package when they disagree; this catches it in `make check` already.)
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
fail() { echo "FAIL: $*" >&2; exit 1; }

# The configured version (config.h comes from AC_INIT).
conf=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
[ -n "$conf" ] || fail "no PACKAGE_VERSION in $top_builddir/config.h"

# The launcher's.
launcher=$("$top_builddir/tools/mptcpshim" --version) || fail "tools/mptcpshim --version failed"
[ "$launcher" = "mptcpshim $conf" ] ||
	fail "tools/mptcpshim --version says '$launcher', configure.ac says $conf"

# The package's: the first line of debian/changelog is
# "mptcpshim (EPOCH:UPSTREAM-REVISION) ...", epoch optional.
line=$(head -n 1 "$top_srcdir/debian/changelog")
deb=$(printf '%s\n' "$line" | sed -n 's/^mptcpshim (\([^)]*\)).*/\1/p')
[ -n "$deb" ] || fail "cannot read the version in debian/changelog's first line: $line"
up=${deb#*:}
up=${up%-*}
[ "$up" = "$conf" ] ||
	fail "debian/changelog's version $deb is upstream $up, configure.ac's AC_INIT says $conf: add a changelog entry (dch -v $conf-1)"
echo "PASS: configure.ac, mptcpshim --version and debian/changelog all say $conf ($deb)"
