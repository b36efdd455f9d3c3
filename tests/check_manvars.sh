#!/bin/sh
# check_manvars.sh - every MPTCPSHIM_* variable that the code uses must be
# documented in the man pages.
#
# Fails (exit 1) when a name found in src/, include/ or tools/ is mentioned in
# none of man/*.1, man/*.7 and man/*.8, and when no name is found at all (so that a
# moved source tree cannot make it pass vacuously).  Warns only when a
# variable listed in libmptcpshim(7)'s ENVIRONMENT is not in the code.
#
# Names that are C preprocessor macros (include guards, #define'd constants:
# anything after #define, #ifndef, #ifdef or #undef) are not environment
# variables and are skipped.  top_srcdir comes from the test harness; run by
# hand, the script's parent directory is used.
set -u
LC_ALL=C
export LC_ALL

if [ -z "${top_srcdir-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
fi
cd "$top_srcdir" || {
	echo "check_manvars: cannot enter top_srcdir '$top_srcdir'"
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_manvars.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

name_re='MPTCPSHIM_[A-Z0-9_]+'
dirs=
for d in src include tools; do
	[ -d "$d" ] && dirs="$dirs $d"
done
if [ -z "$dirs" ]; then
	echo "check_manvars: FAIL: none of src/, include/, tools/ exists under $top_srcdir"
	exit 1
fi

# Text files only (-I): an in-tree build leaves objects and libraries beside
# the sources, and they contain the same strings.
# shellcheck disable=SC2086 # $dirs is a list of plain directory names
grep -rIhoE "$name_re" $dirs 2>/dev/null | sort -u >"$tmp/all"
# shellcheck disable=SC2086
grep -rIhE "^[[:space:]]*#[[:space:]]*(define|ifndef|ifdef|undef)[[:space:]]+$name_re" $dirs 2>/dev/null |
	sed -E "s/^[[:space:]]*#[[:space:]]*[a-z]+[[:space:]]+($name_re).*/\\1/" | sort -u >"$tmp/macros"
comm -23 "$tmp/all" "$tmp/macros" >"$tmp/code"

ncode=$(wc -l <"$tmp/code")
if [ "$ncode" -eq 0 ]; then
	echo "check_manvars: FAIL: no MPTCPSHIM_* variable found in$dirs: nothing was checked"
	exit 1
fi

mans=
for f in man/*.1 man/*.7 man/*.8; do
	[ -f "$f" ] && mans="$mans $f"
done
if [ -z "$mans" ]; then
	echo "check_manvars: FAIL: no man/*.1 or man/*.7 under $top_srcdir"
	exit 1
fi
# shellcheck disable=SC2086 # $mans is a list of plain file names
grep -hoE "$name_re" $mans | sort -u >"$tmp/man"

comm -23 "$tmp/code" "$tmp/man" >"$tmp/undocumented"
status=0
if [ -s "$tmp/undocumented" ]; then
	echo "check_manvars: FAIL: used in the code but documented in no man page:"
	sed 's/^/  /' "$tmp/undocumented"
	status=1
fi

# Reverse check, warning only: what libmptcpshim(7) lists under ENVIRONMENT
# should exist in the code (MPTCPSHIM_LIBRARY is read by the launcher).
page=man/libmptcpshim.7
if [ -f "$page" ]; then
	sed -n '/^\.SH[[:space:]]*"\{0,1\}ENVIRONMENT/,/^\.SH/p' "$page" |
		grep -oE "$name_re" | sort -u >"$tmp/envsec"
	if [ ! -s "$tmp/envsec" ]; then
		echo "check_manvars: warning: $page has no MPTCPSHIM_* variable in ENVIRONMENT"
	fi
	{
		cat "$tmp/code"
		echo MPTCPSHIM_LIBRARY
	} | sort -u >"$tmp/known"
	comm -23 "$tmp/envsec" "$tmp/known" | while read -r v; do
		echo "check_manvars: warning: $v is documented in $page but not used in the code"
	done
else
	echo "check_manvars: warning: $page not found"
fi

if [ "$status" -eq 0 ]; then
	echo "check_manvars: ok: $ncode variable(s) used in the code, all documented:" \
		"$(tr '\n' ' ' <"$tmp/code" | sed 's/ $//')"
fi
exit "$status"
