#!/bin/sh
# check_realcalls.sh - the core calls libc only through mps_real.
#
# The preload library hooks some libc functions (socket, close, read,
# epoll_ctl ...).  A call to one of those from core code goes through our
# own hook: on the shim thread it usually falls through to libc, but on an
# app thread or in a forked child it may not, and it can recurse into the
# core.  include/mptcpshim/real.h's contract is that the core calls such a
# function only as mps_real.NAME.
#
# The hooked names are the symbols libmptcpshim.so exports (only the hooks
# are exported: -fvisibility=hidden).  The core is every member of
# libmpscore.a but real.o (which resolves them).  The check fails (exit 1)
# when a core object references a hooked symbol, and when either list is
# empty, so that a changed build layout cannot make it pass vacuously.
# top_builddir comes from the test harness; run by hand, the script's
# parent directory is used.
set -u
LC_ALL=C
export LC_ALL

if [ -z "${top_builddir-}" ]; then
	top_builddir=$(cd "$(dirname "$0")/.." && pwd)
fi
so=$top_builddir/.libs/libmptcpshim.so
core=$top_builddir/.libs/libmpscore.a
for f in "$so" "$core"; do
	if [ ! -f "$f" ]; then
		echo "check_realcalls: $f is missing (build first)"
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_realcalls.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# Exported function symbols of the preload library: the hooks.
nm -D --defined-only "$so" | awk '$2 == "T" || $2 == "W" || $2 == "i" { print $3 }' |
	sed 's/@.*//' | sort -u >"$tmp/hooked"
# Undefined symbols of each core member, as "member symbol".
nm -A -u "$core" 2>/dev/null | sed -n 's/^[^:]*:\([^:]*\):[[:space:]]*U[[:space:]]\{1,\}\([^[:space:]]*\).*/\1 \2/p' |
	sed 's/@.*//' | grep -v '^libmpscore_la-real\.o ' | sort -u >"$tmp/refs"

nhooked=$(wc -l <"$tmp/hooked")
nrefs=$(wc -l <"$tmp/refs")
if [ "$nhooked" -lt 10 ] || [ "$nrefs" -lt 10 ]; then
	echo "check_realcalls: found $nhooked hooked symbols and $nrefs core references: build layout changed?"
	exit 1
fi

awk 'NR == FNR { hooked[$1] = 1; next } ($2 in hooked) { print }' "$tmp/hooked" "$tmp/refs" \
	>"$tmp/bad"
if [ -s "$tmp/bad" ]; then
	echo "check_realcalls: core code calls hooked libc functions directly; use mps_real.NAME"
	echo "(include/mptcpshim/real.h):"
	sed 's/^libmpscore_la-\(.*\)\.o /  src\/\1.c: /' "$tmp/bad"
	exit 1
fi
echo "check_realcalls: $nhooked hooked symbols, none referenced by the core ($nrefs references checked)"
exit 0
