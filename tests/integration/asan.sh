#!/bin/bash
# asan.sh: the library built with ASan + UBSan (./configure
# --enable-sanitizers) preloaded into real, uninstrumented programs
# (python3, socat) on both ends, as man/libmptcpshim.7 (SANITIZERS)
# describes: libasan first in LD_PRELOAD, then the library.
#   - a 2-path multipath transfer each way, IPv4 and IPv6 (sha256), that
#     really uses both paths (subflows established on the client);
#   - a shim client falling back to a plain server (sha256);
#   - no ASan or UBSan report from any process (reports go to files,
#     ASAN_OPTIONS/UBSAN_OPTIONS log_path, or into a log: all are
#     searched; UBSan errors abort: the build has -fno-sanitize-recover).
# MPS_ASAN_BUILDDIR names the sanitizer build's top build directory;
# scripts/test.sh builds one in a scratch copy of the tree and sets it,
# and MPS_ASAN_READY, the file the build writes its status to when done.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

if [ -z "${MPS_ASAN_BUILDDIR:-}" ]; then
	echo "SKIP: MPS_ASAN_BUILDDIR is not set (scripts/test.sh builds the sanitizer copy and sets it)"
	exit 77
fi
# scripts/test.sh builds it beside the suite: its status file, once done
if [ -n "${MPS_ASAN_READY:-}" ]; then
	for _ in $(seq 1 900); do
		[ -s "$MPS_ASAN_READY" ] && break
		sleep 1
	done
	if [ "$(cat "$MPS_ASAN_READY" 2>/dev/null)" != 0 ]; then
		echo "FAIL: the sanitizer build in $MPS_ASAN_BUILDDIR failed or did not end in 15 min (its build.log)"
		exit 1
	fi
fi
asanlib=$MPS_ASAN_BUILDDIR/.libs/libmptcpshim.so
# lib.sh's require_shim checks that the first word is executable
# shellcheck disable=SC2034 # read by lib.sh
SHIM="/usr/bin/env LD_PRELOAD=$asanlib"

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((8 * 1024 * 1024))}"
: "${T_TIMEOUT:=300}"
: "${T_CMD_TIMEOUT:=90}"
# shellcheck disable=SC2034 # read by lib.sh
MPTCPSHIM_LOG=info

tb_init asan
[ -e "$asanlib" ] || fail "$asanlib missing: build with ./configure --enable-sanitizers first"
libasan=$(ldd "$asanlib" | awk '/libasan\.so/ { print $3; exit }')
if [ -z "$libasan" ] || [ ! -e "$libasan" ]; then
	fail "$asanlib is not linked with ASan (ldd shows no libasan): not a --enable-sanitizers build"
fi
D=$T_DIR
SHIM_CMD=(/usr/bin/env "LD_PRELOAD=$libasan:$asanlib"
	"ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:log_path=$D/asan"
	"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$D/ubsan")
log "shim: ${SHIM_CMD[*]}"
require_shim
write_pytool
tb_topo A 2

# reports: the files holding a sanitizer report: ASan's log_path files,
# and any log a report went to instead (UBSan has been seen writing into
# the shim's log file).
reports() {
	local f
	for f in "$D"/asan.* "$D"/ubsan.*; do
		[ -e "$f" ] && echo "$f"
	done
	grep -lE 'runtime error:|ERROR: (Address|Leak)Sanitizer|SUMMARY: [A-Za-z]+Sanitizer' \
		"$D"/*.log 2>/dev/null || true
}

# Any failure (an aborted program fails its step first) shows the reports.
eval "$(declare -f fail | sed '1s/^fail/_lib_fail/')"
fail() {
	local f
	for f in $(reports); do
		show_file "$f"
	done
	_lib_fail "$@"
}

# no_reports WHAT: fail on any sanitizer report written so far.
no_reports() {
	local r
	r=$(reports)
	[ -z "$r" ] || fail "$1: sanitizer report(s) in: $(echo "$r" | xargs -n1 basename | tr '\n' ' ')"
}

step "the ASan runtime and the library are both loaded"
maps=$(nsrun shim "$NS_C" cat /proc/self/maps) || fail "cat under the ASan library exited $?"
printf '%s\n' "$maps" | grep -q 'libasan\.so' || fail "libasan is not mapped in the process"
printf '%s\n' "$maps" | grep -qF "$asanlib" || fail "$asanlib is not mapped in the process"
no_reports "cat"
log "ok: libasan and $asanlib mapped"

mkrand "$D/data.in" "$SIZE"
for fam in 4 6; do
	for dir in c2s s2c; do
		what="IPv$fam $dir $SIZE B over 2 paths"
		step "$what"
		# s2c: the server writes 1 s after accept.  A server that speaks
		# first holds its bytes only for the banner window (4 RTT, at
		# least 25 ms) waiting for the client's HELLO; under ASan on a
		# loaded machine the client's HELLO can come later than that
		# (then the connection is aborted, as DESIGN.md section 5 says).
		MP_DELAY=0
		[ "$dir" = s2c ] && MP_DELAY=1
		mp_xfer "asan-$fam-$dir" "$fam" "$dir" "$D/data.in"
		# the first subflow (a multipath connection) and the joined ones
		est=$(($(counter multipath_connections <<<"$MP_CCNT") + $(counter subflows_joined <<<"$MP_CCNT")))
		[ "$est" -ge 2 ] ||
			fail "$what: $est subflow(s) established on the client, want 2 (counters: $MP_CCNT)"
		no_reports "$what"
		log "ok: $what, $est subflows, ${MP_MS} ms"
	done
done

what="shim client -> plain server (fallback), IPv4"
step "$what"
mkrand "$D/plain.in" 300000
rm -f "$D/plain.out"
next_port
# The plain server sends the file to every connection (fork): to the junk
# one that carries the HELLO (its reply is no HELLO_ACK: a plain verdict)
# and to the plain reconnect.  (curl is no client here: it hangs under a
# preloaded libasan even without the library.)
bg_start plain-srv plain "$NS_S" socat -U "TCP4-LISTEN:$PORT,bind=$SRV4,reuseaddr,fork" "EXEC:cat $D/plain.in"
spid=$BG_PID
wait_listen "$NS_S" "$PORT"
nsrun shim "$NS_C" socat -u "TCP4:$SRV4:$PORT" "CREATE:$D/plain.out" ||
	fail "$what: client socat exited $?"
bg_stop "$spid"
same_file "$what" "$D/plain.in" "$D/plain.out"
no_reports "$what"

log "PASS: no sanitizer report"
exit 0
