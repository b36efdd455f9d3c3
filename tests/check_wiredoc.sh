#!/bin/sh
# check_wiredoc.sh - every frame type the code defines is in the wire table
# of docs/DESIGN.md, with the same number, and the table names no type the
# code lacks.
#
# The types are the MPS_F_<NAME> = 0x<NN> enumerators of
# include/mptcpshim/frame.h; a table row reads "| 0x<NN> | <NAME> |".
# Fails when no type is found at all, so a moved header cannot make it
# pass vacuously.
set -u
LC_ALL=C
export LC_ALL
if [ -z "${top_srcdir-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
fi
hdr=$top_srcdir/include/mptcpshim/frame.h
doc=$top_srcdir/docs/DESIGN.md
for f in "$hdr" "$doc"; do
	[ -f "$f" ] || {
		echo "check_wiredoc: FAIL: $f not found"
		exit 1
	}
done

code=$(sed -nE 's/^[[:space:]]*MPS_F_([A-Z0-9_]+)[[:space:]]*=[[:space:]]*(0x[0-9a-fA-F]{2}).*/\2 \1/p' "$hdr" |
	awk '{ print tolower($1), $2 }' | sort -u)
table=$(sed -nE 's/^\|[[:space:]]*(0x[0-9a-fA-F]{2})[[:space:]]*\|[[:space:]]*([A-Z0-9_]+)[[:space:]]*\|.*/\1 \2/p' "$doc" |
	awk '{ print tolower($1), $2 }' | sort -u)
if [ -z "$code" ]; then
	echo "check_wiredoc: FAIL: no MPS_F_* = 0x.. frame type in $hdr"
	exit 1
fi
status=0
missing=$(printf '%s\n' "$code" | while read -r t; do
	printf '%s\n' "$table" | grep -qxF "$t" || echo "$t"
done)
extra=$(printf '%s\n' "$table" | while read -r t; do
	printf '%s\n' "$code" | grep -qxF "$t" || echo "$t"
done)
if [ -n "$missing" ]; then
	echo "check_wiredoc: FAIL: frame types in the code but not in DESIGN.md's wire table:"
	printf '%s\n' "$missing" | sed 's/^/  /'
	status=1
fi
if [ -n "$extra" ]; then
	echo "check_wiredoc: FAIL: rows of DESIGN.md's wire table with no such frame type in the code:"
	printf '%s\n' "$extra" | sed 's/^/  /'
	status=1
fi
[ "$status" -eq 0 ] && echo "check_wiredoc: ok: $(printf '%s\n' "$code" | wc -l) frame types documented"
exit "$status"
