#!/bin/bash
# demo.sh: show mptcpshim carrying an unmodified TCP program end to end.
#
# usage: scripts/demo.sh [-s MIB] [-p PATHS] [-l LOGDIR] [--plain]
#   -s MIB     megabytes to transfer (default 50)
#   -p PATHS   veth pairs between the namespaces, 1 or 2 (default 1)
#   -l LOGDIR  copy the shim logs there (default: shown, then removed)
#   --plain    run without the shim (for comparison)
#
# Creates two network namespaces (unique names, removed on exit) joined by a
# veth pair (198.18.X.1 <-> 198.18.X.2), runs a socat server and client
# under the shim with MPTCPSHIM_LOG=info, sends a random file client ->
# server and prints: bytes sent/received, sha256 of both, MATCH/MISMATCH,
# elapsed time, throughput, and the subflow lines from the shim logs.
# Needs root and the library built in $top_builddir (default: the repo
# root, i.e. this script's ../).  Exits non-zero on mismatch.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

MIB=50
PATHS=1
LOGDIR=""
PLAIN=0
while [ $# -gt 0 ]; do
	case $1 in
	-s) MIB=$2; shift 2 ;;
	-p) PATHS=$2; shift 2 ;;
	-l) LOGDIR=$2; shift 2 ;;
	--plain) PLAIN=1; shift ;;
	-h | --help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "demo.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
done
case $MIB in '' | *[!0-9]*) echo "demo.sh: -s wants a number of MiB" >&2; exit 2 ;; esac
case $PATHS in 1 | 2) ;; *) echo "demo.sh: -p wants 1 or 2" >&2; exit 2 ;; esac

export MPTCPSHIM_LOG=info
T_TIMEOUT=${T_TIMEOUT:-900}
T_CMD_TIMEOUT=${T_CMD_TIMEOUT:-600}
if [ "$PLAIN" = 1 ]; then export NOSHIM=1; fi
# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"

tb_init demo
require_shim
tb_setup "$PATHS"

BYTES=$((MIB * 1024 * 1024))
PORT=5001
IN="$T_DIR/send.bin"
OUT="$T_DIR/recv.bin"
log "preparing $MIB MiB of random data"
mkrand "$IN" "$BYTES"

bg_start server shim "$NS_S" socat -b 131072 -u "TCP4-LISTEN:$PORT,bind=$S4,reuseaddr" "CREATE:$OUT"
SPID=$BG_PID
wait_listen "$NS_S" "$PORT"

log "sending $MIB MiB $NS_C -> $NS_S ($S4:$PORT)"
t0=$(date +%s.%N)
nsrun shim "$NS_C" socat -b 131072 -u "OPEN:$IN" "TCP4:$S4:$PORT" || fail "client socat exited $?"
bg_wait "$SPID" 120 || fail "server socat exited $?"
t1=$(date +%s.%N)

SENT=$(fsize "$IN")
RECV=$(fsize "$OUT" 2>/dev/null || echo 0)
HS=$(sha256 "$IN")
HR=$(sha256 "$OUT" 2>/dev/null || echo none)
if [ "$HS" = "$HR" ] && [ "$SENT" = "$RECV" ]; then VERDICT=MATCH; else VERDICT=MISMATCH; fi
read -r ELAPSED MBPS < <(awk -v a="$t0" -v b="$t1" -v n="$RECV" \
	'BEGIN { d = b - a; if (d <= 0) d = 1e-9; printf "%.3f %.1f\n", d, n * 8 / d / 1e6 }')

SUBFLOWS=$(cat "$T_DIR"/shim-*.log 2>/dev/null | grep -i subflow || true)
count_in() { # FILE PATTERN: matching lines (0 if the file is missing)
	local n
	n=$(grep -ci -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}
CSUB=$(count_in "$T_DIR/shim-$NS_C.log" subflow)
SSUB=$(count_in "$T_DIR/shim-$NS_S.log" subflow)
CEST=$(count_in "$T_DIR/shim-$NS_C.log" 'subflow.*established')
SEST=$(count_in "$T_DIR/shim-$NS_S.log" 'subflow.*established')

echo
echo "================ mptcpshim demo ================"
printf '%-18s %s\n' "mode:" "$(if shim_enabled; then echo "shim (${SHIM_CMD[0]})"; else echo "plain TCP (no shim)"; fi)"
printf '%-18s %s\n' "path(s):" "$PATHS veth pair(s), $C4 -> $S4"
printf '%-18s %s\n' "bytes sent:" "$SENT"
printf '%-18s %s\n' "bytes received:" "$RECV"
printf '%-18s %s\n' "sha256 sent:" "$HS"
printf '%-18s %s\n' "sha256 received:" "$HR"
printf '%-18s %s\n' "result:" "$VERDICT"
printf '%-18s %s s\n' "elapsed:" "$ELAPSED"
printf '%-18s %s Mbit/s\n' "throughput:" "$MBPS"
printf '%-18s client: %s established (%s subflow line(s)); server: %s established (%s line(s))\n' \
	"subflows:" "$CEST" "$CSUB" "$SEST" "$SSUB"
if [ -n "$SUBFLOWS" ]; then
	printf '%s\n' "$SUBFLOWS" | head -n 20 | sed 's/^/    /'
fi
for f in "$T_DIR"/shim-*.log; do
	[ -e "$f" ] || continue
	printf '%-18s %s: %s line(s)\n' "shim log:" "$(basename "$f")" "$(wc -l <"$f")"
done
echo "================================================"
if [ -n "$LOGDIR" ]; then
	mkdir -p "$LOGDIR"
	for f in "$T_DIR"/shim-*.log; do
		[ -e "$f" ] && cp "$f" "$LOGDIR/"
	done
	echo "shim logs copied to $LOGDIR"
fi
[ "$VERDICT" = MATCH ] || exit 1
exit 0
