#!/bin/bash
# demo.sh: show mptcpshim carrying an unmodified TCP program over two paths.
#
# usage: scripts/demo.sh [-s MIB] [-p PATHS] [-r RATES] [-T A|B] [-l LOGDIR] [--plain]
#   -s MIB     mebibytes to transfer (default 40)
#   -p PATHS   paths between client and server, 1..4 (default 2)
#   -r RATES   Mbit/s per path, comma list (default 40,20; paths beyond the
#              list get 20; 0 = unshaped)
#   -T KIND    testbed: B (default) = a client with one interface per path,
#              each through its own router to a server with ONE address,
#              as a phone with Wi-Fi and cellular; A = client and server
#              joined directly by one link per path, an address per path
#   -l LOGDIR  copy the shim logs there (default: shown, then removed)
#   --plain    run without the shim (for comparison: one path only)
#   --no-cut   do not cut a path mid-transfer (by default, with two or more
#              paths under the shim, path 1 goes down at t=2 s and comes back
#              at t=4 s: the transfer carries on over the other path, then
#              uses both again; the live view shows it)
#
# Creates network namespaces (unique names, removed on exit) from
# tests/integration/lib.sh (tb_topo), every path shaped both ways with tbf,
# runs a socat server and client under the shim with MPTCPSHIM_LOG=info and
# sends a random file client -> server.  While it runs, prints the
# throughput of each path every 0.5 s (from the byte counters of the
# client's interfaces, so headers and ACKs count), then: bytes
# sent/received, sha256 of both, MATCH/MISMATCH, elapsed time, throughput,
# and the subflows each side used with their bytes, from the shim logs.
# Needs root and the library built in $top_builddir (default: the repo
# root, i.e. this script's ../).  Exits non-zero on mismatch.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

MIB=40
PATHS=2
RATES=40,20
KIND=B
LOGDIR=""
PLAIN=0
CUT=1
CUT_AT=2.0
RESTORE_AT=4.0
while [ $# -gt 0 ]; do
	case $1 in
	-s) MIB=${2:-}; shift 2 ;;
	-p) PATHS=${2:-}; shift 2 ;;
	-r) RATES=${2:-}; shift 2 ;;
	-T) KIND=${2:-}; shift 2 ;;
	-l) LOGDIR=${2:-}; shift 2 ;;
	--plain) PLAIN=1; shift ;;
	--no-cut) CUT=0; shift ;;
	-h | --help) sed -n '2,25p' "$0"; exit 0 ;;
	*) echo "demo.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
done
case $MIB in '' | *[!0-9]* | 0) echo "demo.sh: -s wants a number of MiB (>= 1)" >&2; exit 2 ;; esac
case $PATHS in [1-4]) ;; *) echo "demo.sh: -p wants 1 to 4" >&2; exit 2 ;; esac
case $KIND in A | B) ;; *) echo "demo.sh: -T wants A or B" >&2; exit 2 ;; esac
case $RATES in *[!0-9,]* | '' | ,* | *,,*) echo "demo.sh: -r wants Mbit/s like 40,20" >&2; exit 2 ;; esac
IFS=, read -r -a _rl <<<"$RATES"
RATE_LIST=""
for ((i = 0; i < PATHS; i++)); do RATE_LIST+="${RATE_LIST:+,}${_rl[i]:-20}"; done

export MPTCPSHIM_LOG=info
export T_TIMEOUT=${T_TIMEOUT:-900}
export T_CMD_TIMEOUT=${T_CMD_TIMEOUT:-600}
if [ "$PLAIN" = 1 ]; then export NOSHIM=1; fi
# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"

tb_init demo
require_shim
tb_topo "$KIND" "$PATHS" "$RATE_LIST"

BYTES=$((MIB * 1024 * 1024))
PORT=5001
IN="$T_DIR/send.bin"
OUT="$T_DIR/recv.bin"
log "preparing $MIB MiB of random data"
mkrand "$IN" "$BYTES"

bg_start server shim "$NS_S" socat -b 131072 -u "TCP4-LISTEN:$PORT,bind=$SRV4,reuseaddr" "CREATE:$OUT"
SPID=$BG_PID
wait_listen "$NS_S" "$PORT"

# --- the transfer, with a live per-path view ----------------------------------
rate_of() { [ "${RATE[$1]}" = 0 ] && echo unshaped || echo "${RATE[$1]} Mbit/s"; }
echo
echo "mptcpshim demo: $MIB MiB client -> server, $(if shim_enabled; then echo "under the shim"; else echo "plain TCP (no shim)"; fi)"
for ((i = 1; i <= NPATHS; i++)); do
	printf '  path%d  %-4s %-15s (%s)\n' "$i" "${IFC[i]}" "${C4[i]}" "$(rate_of "$i")"
done
echo "  server $SRV4:$PORT"
echo

now() { date +%s.%N; }
declare -a PB0=() PBP=() PBN=()
for ((i = 1; i <= NPATHS; i++)); do PB0[i]=$(path_bytes "$i"); PBP[i]=${PB0[i]}; done
t0=$(now)
tprev=$t0
nsrun shim "$NS_C" socat -b 131072 -t 30 "OPEN:$IN,rdonly!!OPEN:/dev/null,wronly" "TCP4:$SRV4:$PORT" &
CPID=$!
crc=""
tick=1
cut_state=0 # 0 before the cut, 1 down, 2 restored
[ "$CUT" = 1 ] && [ "$NPATHS" -ge 2 ] && shim_enabled || cut_state=2
while :; do
	# wake up every 50 ms; print at each 0.5 s mark; stop when the server
	# has written the file and exited
	sleep 0.05
	if [ -z "$crc" ] && ! kill -0 "$CPID" 2>/dev/null; then
		crc=0
		wait "$CPID" || crc=$?
		[ "$crc" = 0 ] || break
	fi
	kill -0 "$SPID" 2>/dev/null || break
	tn=$(now)
	awk -v a="$t0" -v b="$tn" -v k="$tick" 'BEGIN { exit !(b - a >= k * 0.5) }' || continue
	for ((i = 1; i <= NPATHS; i++)); do PBN[i]=$(path_bytes "$i"); done
	line=$(for ((i = 1; i <= NPATHS; i++)); do echo "$((PBN[i] - PBP[i]))"; done |
		awk -v a="$tprev" -v b="$tn" -v t0="$t0" '
		{ r = $1 * 8 / (b - a) / 1e6; tot += r; s = s sprintf("  path%d %5.1f Mbit/s", NR, r) }
		END { printf "t=%4.1fs%s  total %5.1f Mbit/s", b - t0, s, tot }')
	echo "$line"
	if [ "$cut_state" = 0 ] && awk -v a="$t0" -v b="$tn" -v c="$CUT_AT" 'BEGIN { exit !(b - a >= c) }'; then
		ip -n "$NS_C" link set "${IFC[1]}" down
		echo "        *** path1 (${IFC[1]}) link DOWN: the transfer must carry on over the other path(s) ***"
		cut_state=1
	elif [ "$cut_state" = 1 ] && awk -v a="$t0" -v b="$tn" -v c="$RESTORE_AT" 'BEGIN { exit !(b - a >= c) }'; then
		ip -n "$NS_C" link set "${IFC[1]}" up
		if [ "$T_TOPO" = B ]; then
			# A link going down takes its routes with it; on a real
			# host the DHCP client puts them back, here we do.
			r1="198.18.$T_NETNUM.$((16 + 2))"
			ip -n "$NS_C" route replace default via "$r1" dev "${IFC[1]}" table 101 2>/dev/null || true
			ip -n "$NS_C" route replace default via "$r1" dev "${IFC[1]}" 2>/dev/null || true
		fi
		echo "        *** path1 (${IFC[1]}) link UP again: the shim opens a new subflow on it ***"
		cut_state=2
	fi
	for ((i = 1; i <= NPATHS; i++)); do PBP[i]=${PBN[i]}; done
	tprev=$tn
	tick=$((tick + 1))
	if [ "$tick" -gt 1200 ]; then # 10 minutes
		log "transfer still running after 10 minutes: giving up"
		break
	fi
done
t1=$(now)
if [ -z "$crc" ]; then
	crc=0
	bg_wait "$CPID" 30 || crc=$?
fi
[ "$crc" = 0 ] || log "client socat exited with status $crc"
if kill -0 "$SPID" 2>/dev/null; then
	bg_wait "$SPID" 10 || log "server socat still running or failed ($?)"
else
	wait "$SPID" || log "server socat exited with status $?"
fi
for ((i = 1; i <= NPATHS; i++)); do PBN[i]=$(path_bytes "$i"); done
# let the shims write their closing log lines (a keeper may finish the
# client's connection after socat exited): until both logs say "closed
# gracefully" and stop growing, at most 3 s
if shim_enabled; then
	prev=""
	for ((k = 0; k < 30; k++)); do
		sleep 0.1
		cur=$(cat "$T_DIR/shim-$NS_C.log" "$T_DIR/shim-$NS_S.log" 2>/dev/null | wc -c)
		if [ "$cur" = "$prev" ] && grep -q 'closed gracefully' "$T_DIR/shim-$NS_C.log" 2>/dev/null &&
			grep -q 'closed gracefully' "$T_DIR/shim-$NS_S.log" 2>/dev/null; then
			break
		fi
		prev=$cur
	done
fi

# --- report ------------------------------------------------------------------
SENT=$(fsize "$IN")
RECV=$(fsize "$OUT" 2>/dev/null || echo 0)
HS=$(sha256 "$IN")
HR=$(sha256 "$OUT" 2>/dev/null || echo none)
if [ "$HS" = "$HR" ] && [ "$SENT" = "$RECV" ]; then VERDICT=MATCH; else VERDICT=MISMATCH; fi
read -r ELAPSED MBPS < <(awk -v a="$t0" -v b="$t1" -v n="$RECV" \
	'BEGIN { d = b - a; if (d <= 0) d = 1e-9; printf "%.2f %.1f\n", d, n * 8 / d / 1e6 }')

count_in() { # FILE PATTERN: matching lines (0 if the file is missing)
	local n
	n=$(grep -ci -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}
CLOG="$T_DIR/shim-$NS_C.log"
SLOG="$T_DIR/shim-$NS_S.log"
CEST=$(count_in "$CLOG" 'established')
SEST=$(count_in "$SLOG" 'established\|joined')

# subflow_table NS: "subflow N LOCAL -> REMOTE sent X received Y (share)"
# from the per-subflow lines the shim logs when the connection closes
subflow_table() {
	shim_subflow_lines "$1" |
		sed -E 's/.*subflow ([0-9]+) (.*) -> (.*): sent ([0-9]+) B, received ([0-9]+) B.*/\1 \2 \3 \4 \5/' |
		awk '{ id[NR] = $1; l[NR] = $2; r[NR] = $3; s[NR] = $4; v[NR] = $5; ts += $4; tr += $5 }
		function mib(x) {
			if (x >= 1048576) return sprintf("%7.2f MiB", x / 1048576)
			if (x >= 1024) return sprintf("%7.1f KiB", x / 1024)
			return sprintf("%7d B  ", x)
		}
		function pc(x, t) { return t > 0 ? sprintf("%3.0f%%", 100 * x / t) : "  -" }
		END {
			for (i = 1; i <= NR; i++)
				printf "    subflow %d  %-24s -> %-24s  sent %s (%s)  received %s (%s)\n",
					id[i], l[i], r[i], mib(s[i]), pc(s[i], ts), mib(v[i]), pc(v[i], tr)
			if (NR == 0) print "    (no subflow statistics in the log)"
		}'
}

echo
echo "================ mptcpshim demo ================"
printf '%-18s %s\n' "mode:" "$(if shim_enabled; then echo "shim (${SHIM_CMD[0]})"; else echo "plain TCP (no shim)"; fi)"
printf '%-18s %s\n' "testbed:" "$KIND, $NPATHS path(s) at ${RATE_LIST//,/ + } Mbit/s, ${C4[1]} -> $SRV4:$PORT"
printf '%-18s %s\n' "bytes sent:" "$SENT"
printf '%-18s %s\n' "bytes received:" "$RECV"
printf '%-18s %s\n' "sha256 sent:" "$HS"
printf '%-18s %s\n' "sha256 received:" "$HR"
printf '%-18s %s\n' "result:" "$VERDICT"
printf '%-18s %s s\n' "elapsed:" "$ELAPSED"
printf '%-18s %s Mbit/s (goodput)\n' "throughput:" "$MBPS"
for ((i = 1; i <= NPATHS; i++)); do
	printf '%-18s %s\n' "$([ "$i" = 1 ] && echo "per path (wire):")" \
		"$(awk -v n="$((PBN[i] - PB0[i]))" -v d="$ELAPSED" -v i="$i" -v f="${IFC[i]}" -v r="$(rate_of "$i")" \
			'BEGIN { printf "path%d %s: %6.1f Mbit/s average, %7.2f MiB (%s)", i, f, n * 8 / d / 1e6, n / 1048576, r }')"
done
if shim_enabled; then
	printf '%-18s client: %s established; server: %s established/joined\n' "subflows:" "$CEST" "$SEST"
	echo "  client side:"
	subflow_table "$NS_C"
	echo "  server side:"
	subflow_table "$NS_S"
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
