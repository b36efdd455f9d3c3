#!/bin/bash
# gwrelay.sh: the relay of mptcpshim-gateway and mptcpshim-proxy (issue 14),
# on gwlib.sh's testbed (unshaped), with tests/progs/gwrelay.py:
#   nodelay   30 requests on one connection through the gateway, each
#             written as 2 pieces 5 ms apart (a header and a body), to a
#             plain server that answers a complete request: all answered;
#             and the server's delayed-ACK timer (TcpExtDelayedACKs in its
#             namespace) fired for fewer than a third of them.  A relay
#             with Nagle on its destination socket holds the second piece
#             until the first is acknowledged, and the server, which has
#             nothing to send before the request is complete, acknowledges
#             only when that timer fires (40 ms a request): it fires for
#             nearly every request.
#   proxystop `mptcpshim proxy` (through the gateway) is stopped with
#             SIGTERM while it relays a stream to a SOCKS5 client (no
#             preload): the client reads an error (ECONNRESET), never an
#             EOF, which would pass a truncated stream for a complete one.
#   halfclose the client sends 1 MiB and shuts its write side; the server
#             reads to EOF, then answers 1 MiB and closes: both directions
#             byte-exact, each EOF where the peer sent it (the gateway
#             serves the destination's socket itself: MPS_SO_GW_SPLICE)
#   splice    a gateway with --max-per-client 16 holds 16 connections of
#             one client: it runs no thread per connection (fewer than 8
#             threads: the relay had one each), the 17th is refused, and
#             once one is closed a new one is taken within 10 s (the
#             daemon counts a spliced connection until it ended); every
#             refusal is counted as gateway_limited, none as
#             gateway_dest_failed (mptcpshim status --counters)
#   abort     the client closes with SO_LINGER {1, 0}: the server reads
#             ECONNRESET, not EOF (the gateway resets the destination)
# Sub-cases (T_ONLY=REGEX): nodelay proxystop halfclose splice abort
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
# shellcheck source-path=SCRIPTDIR source=gwlib.sh
. "$(cd "$(dirname "$0")" && pwd)/gwlib.sh"

MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=120}"
: "${T_CMD_TIMEOUT:=40}"

tb_init gwrelay
require_shim
shim_enabled || skip "the gateway runs only under the library (NOSHIM set)"
gw_testbed
gw_start
TOOL="$D/gwrelay.py"
cp "$top_srcdir/tests/progs/gwrelay.py" "$TOOL"

# delacks NS: TcpExtDelayedACKs of namespace NS
delacks() {
	ip netns exec "$1" awk '/^TcpExt:/ { if (!n) { for (i = 2; i <= NF; i++) f[$i] = i; n = 1 } else print $f["DelayedACKs"] }' \
		/proc/net/netstat
}

if selected nodelay; then
	step "nodelay: requests in 2 pieces through the gateway meet no delayed ACK"
	next_port
	RP=$PORT
	bg_start pairsrv plain "$NS_P" "$PY" "$TOOL" pairsrv "$PSRV" "$RP"
	wait_listen "$NS_P" "$RP"
	N=30
	d0=$(delacks "$NS_P")
	out=$(gwrun "$PY" "$TOOL" pairs "$PSRV" "$RP" "$N") || fail "nodelay: the client failed: $out"
	[ "$out" = "ok $N" ] || fail "nodelay: the client said '$out'"
	d=$(($(delacks "$NS_P") - d0))
	log "nodelay: $N requests answered; the server's delayed-ACK timer fired $d times"
	[ "$d" -lt $((N / 3)) ] ||
		fail "nodelay: the server's delayed ACK fired $d times for $N requests: the relay held the second pieces back (Nagle)"
fi

if selected halfclose; then
	step "halfclose: a client's half-close passes, and the server's answer after it"
	next_port
	HP=$PORT
	bg_start hcsrv plain "$NS_P" "$PY" "$TOOL" hcsrv "$PSRV" "$HP"
	wait_listen "$NS_P" "$HP"
	out=$(gwrun "$PY" "$TOOL" halfclose "$PSRV" "$HP") || fail "halfclose: the client failed: $out"
	[ "$out" = ok ] || fail "halfclose: the client said '$out'"
	log "halfclose: 1 MiB each way around a half-close, byte-exact"
fi

if selected abort; then
	step "abort: a client's SO_LINGER {1, 0} close reaches the server as a reset"
	next_port
	AP=$PORT
	bg_start abortsrv plain "$NS_P" "$PY" "$TOOL" abortsrv "$PSRV" "$AP" "$D/abort.out"
	wait_listen "$NS_P" "$AP"
	out=$(gwrun "$PY" "$TOOL" abort "$PSRV" "$AP") || fail "abort: the client failed: $out"
	for i in $(seq 1 100); do
		[ -e "$D/abort.out" ] && break
		sleep 0.1
	done
	res=$(cat "$D/abort.out" 2>/dev/null || echo "nothing within 10 s")
	log "abort: the server read: $res"
	[ "$res" = ECONNRESET ] || fail "abort: the server read '$res', want ECONNRESET"
fi

if selected splice; then
	step "splice: no thread per connection, and the per-client limit still counts them"
	next_port
	RP=$PORT
	bg_start pairsrv2 plain "$NS_P" "$PY" "$TOOL" pairsrv "$PSRV" "$RP"
	wait_listen "$NS_P" "$RP"
	next_port
	GP2=$PORT
	bg_start gw2 shim "$NS_S" env "MPTCPSHIM_ADVERTISE=$SRV4" "$GW_BIN" --listen "$SRV4:$GP2" \
		--key-file "$D/gw.keys" --max-per-client 16 --verbose
	wait_listen "$NS_S" "$GP2"
	gpid=$(ip netns exec "$NS_S" ss -ltnpH "sport = :$GP2" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
	[ -n "$gpid" ] || fail "splice: cannot find the gateway's pid"
	lim0=$(shim_counter gateway_limited "$gpid") df0=$(shim_counter gateway_dest_failed "$gpid")
	[ -n "$lim0" ] && [ -n "$df0" ] || fail "splice: no counters from the gateway ($gpid)"
	out=$(nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$GP2" "MPTCPSHIM_GATEWAY_KEY_FILE=$D/alice.key" \
		MPTCPSHIM_GATEWAY_FALLBACK=fail "$PY" "$TOOL" limit "$gpid" "$PSRV" "$RP" 16) ||
		fail "splice: the client failed: $out"
	log "splice: 16 connections held: $out"
	read -r _ thr _ ref _ again _ refusals <<<"$out"
	[ "${thr:-99}" -lt 8 ] || fail "splice: the gateway ran $thr threads for 16 connections"
	[ "$ref" = 1 ] || fail "splice: the 17th connection was not refused (--max-per-client 16)"
	[ "$again" = 1 ] || fail "splice: after one closed, no new connection was taken within 10 s"
	lim1=$(shim_counter gateway_limited "$gpid") df1=$(shim_counter gateway_dest_failed "$gpid")
	log "splice: gateway_limited $lim0 -> $lim1, gateway_dest_failed $df0 -> $df1 ($refusals refused)"
	[ "$((lim1 - lim0))" = "$refusals" ] ||
		fail "splice: gateway_limited moved by $((lim1 - lim0)), want $refusals (the refusals)"
	[ "$df1" = "$df0" ] || fail "splice: gateway_dest_failed moved by $((df1 - df0)), want 0"
fi

if selected proxystop; then
	step "proxystop: the proxy stopped under a live stream: the client reads a reset, not EOF"
	next_port
	SP=$PORT
	bg_start streamsrv plain "$NS_P" "$PY" "$TOOL" streamsrv "$PSRV" "$SP"
	wait_listen "$NS_P" "$SP"
	next_port
	PP=$PORT
	bg_start proxy plain "$NS_C" env MPTCPSHIM_GATEWAY_FALLBACK=fail "$SHIM_LAUNCHER" \
		-g "$SRV4:$GP" --gateway-key "$D/alice.key" proxy --listen "127.0.0.1:$PP" --verbose
	wait_listen "$NS_C" "$PP"
	# the proxy itself, which holds the listener (bg_start's pid is
	# timeout(1)'s)
	ppid=$(ip netns exec "$NS_C" ss -ltnpH "sport = :$PP" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
	[ -n "$ppid" ] || fail "proxystop: cannot find the proxy's pid"
	FL="$D/flowing"
	bg_start reader plain "$NS_C" env -u LD_PRELOAD "$PY" "$TOOL" socksread "$PP" "$PSRV" "$SP" "$FL"
	RPID=$BG_PID
	for i in $(seq 1 200); do
		[ -e "$FL" ] && break
		sleep 0.05
	done
	[ -e "$FL" ] || fail "proxystop: no data through the proxy ($(cat "$D/bg-reader.log"))"
	kill -TERM "$ppid"
	bg_wait "$RPID" 30 || fail "proxystop: the reader did not end within 30 s of the stop"
	res=$(grep '^end ' "$D/bg-reader.log" || true)
	log "proxystop: the reader: $res"
	case $res in
	"end ERR ECONNRESET "*) ;;
	"end EOF "*) fail "proxystop: the client read EOF: a truncated stream looks complete" ;;
	*) fail "proxystop: the reader said '$res' ($(tail -n 3 "$D/bg-reader.log"))" ;;
	esac
	grep -q 'relayed connection(s) reset' "$D/bg-proxy.log" || fail "proxystop: the proxy did not log the reset"
fi
kill -0 "$GW_PID" 2>/dev/null || fail "the gateway died: $(tail -5 "$GWLOG")"
log "PASS gwrelay"
