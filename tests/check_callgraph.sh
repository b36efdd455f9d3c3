#!/bin/sh
# check_callgraph.sh: the core's module graphs (includes and calls, see
# scripts/callgraph and docs/DESIGN.md section 1, "Layers") have no
# cycle: a call up from a lower module goes through a table the higher
# one registers, and this fails when one is named directly again.  And
# every symbol the core (libmpscore.a) defines for other files starts
# with mps_ (names say the module: mps_conn_*, mps_sf_*, mps_path_*...);
# anything else is static to its file.
if [ -z "${top_srcdir-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
command -v nm >/dev/null || { echo "SKIP: nm is not installed (binutils)"; exit 77; }
"$top_srcdir/scripts/callgraph" --builddir "$top_builddir" --check || exit 1
bad=$(nm -A "$top_builddir/.libs/libmpscore.a" |
	awk '$2 ~ /^[TDBRC]$/ && $3 !~ /^mps_/ { sub(/^.*libmpscore_la-/, "", $1); print "  " $1 " " $3 }')
if [ -n "$bad" ]; then
	echo "check_callgraph: core symbols without the mps_ prefix:"
	echo "$bad"
	exit 1
fi
echo "check_callgraph: every core symbol is mps_-prefixed"
