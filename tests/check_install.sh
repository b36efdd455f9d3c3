#!/bin/sh
# check_install.sh: `make install` puts the library, the launcher and the man
# pages where they belong, and the installed launcher preloads the installed
# library (not the build tree's).  Installs into a DESTDIR staging tree.
set -eu
: "${top_builddir:=$(cd "$(dirname "$0")/.." && pwd)}"
stage=$(mktemp -d "${TMPDIR:-/tmp}/mptcpshim-install.XXXXXX")
trap 'rm -rf "$stage"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Run make on its own, not as a child of the test harness's parallel make.
unset MAKEFLAGS MFLAGS MAKELEVEL
make -s -C "$top_builddir" install DESTDIR="$stage" >"$stage.log" 2>&1 ||
	{ cat "$stage.log" >&2; rm -f "$stage.log"; fail "make install failed"; }
rm -f "$stage.log"
eval "$(make -s -C "$top_builddir" --no-print-directory print-dirs 2>/dev/null | grep '^libdir=')"
lib="$stage$libdir/libmptcpshim.so"
bin="$stage$bindir/mptcpshim"
[ -f "$lib" ] || fail "library not installed at $libdir"
[ -x "$bin" ] || fail "launcher not installed at $bindir"
[ -f "$stage$mandir/man1/mptcpshim.1" ] || fail "mptcpshim.1 not installed"
[ -f "$stage$mandir/man7/libmptcpshim.7" ] || fail "libmptcpshim.7 not installed"
# The local proxy, where the installed launcher's `proxy` looks for it.
proxy=$(sed -n "s/^ms_installed_proxy='\(.*\)'$/\1/p" "$bin")
{ [ -n "$proxy" ] && [ -x "$stage$proxy" ]; } || fail "mptcpshim-proxy not installed where the launcher looks ($proxy)"
# status/monitor/set's program, likewise.
ctl=$(sed -n "s/^ms_installed_ctl='\(.*\)'$/\1/p" "$bin")
{ [ -n "$ctl" ] && [ -x "$stage$ctl" ]; } || fail "mptcpshim-ctl not installed where the launcher looks ($ctl)"
# The gateway daemon and its man page; it re-executes itself under the
# installed library, whose path is compiled in.
gw="$stage$sbindir/mptcpshim-gateway"
[ -x "$gw" ] || fail "mptcpshim-gateway not installed at $sbindir"
[ -f "$stage$mandir/man8/mptcpshim-gateway.8" ] || fail "mptcpshim-gateway.8 not installed"
grep -qa "$libdir/libmptcpshim.so" "$gw" || fail "mptcpshim-gateway does not name $libdir/libmptcpshim.so"
# The installed launcher names the installed library: with the staging tree
# standing in for /, that is $libdir/libmptcpshim.so.
grep -q "$libdir/libmptcpshim.so" "$bin" || fail "the installed launcher does not name $libdir/libmptcpshim.so"
# Run it against the staged library to show that the path it uses works.
out=$(MPTCPSHIM_LIBRARY="$lib" "$bin" -- sh -c 'echo "$LD_PRELOAD"') || fail "installed launcher did not run"
case $out in
"$lib"*) ;;
*) fail "installed launcher set LD_PRELOAD='$out'" ;;
esac
# The library loads into a program and that program still runs.
LD_PRELOAD="$lib" /bin/true || fail "the installed library does not load"
echo "PASS: installed library, launcher and man pages"
