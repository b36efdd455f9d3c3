#!/bin/bash
# gwerrors.sh: the gateway's connect errors and a gateway restart, as TCP
# would give them (issue 14).  gwlib.sh's testbed: a client with two paths,
# the gateway, a plain server namespace behind it.  The client is
# tests/progs/gwconn.py under the shim, through the gateway
# (MPTCPSHIM_GATEWAY_FALLBACK=fail), once with a blocking connect() and once
# non-blocking (EINPROGRESS, poll for POLLOUT, SO_ERROR):
#   blackhole  the server's namespace drops the SYNs to a port: ETIMEDOUT
#              after the gateway's --connect-timeout (2 s here), not before
#   unreach    an ICMP host-unreachable answer to the SYN: EHOSTUNREACH;
#              a destination the gateway has no route to: ENETUNREACH
#   restart    the gateway is stopped (SIGTERM), then killed (SIGKILL), while
#              a client reads a stream through it: the client's read fails
#              with an error (never EOF, never a hang) within a bound; the
#              gateway is started again, and the same client process then
#              downloads a file through it (sha256-checked)
#   zerortt    TCP Fast Open enabled at the gateway (net.ipv4.tcp_fastopen=3
#              in its namespace): after the first connection, the client's
#              request rides in its SYN (the kernel's TFO counters at both
#              ends), and curl's downloads through it stay byte-exact
# Sub-cases (T_ONLY=REGEX): blackhole unreach restart zerortt
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
# shellcheck source-path=SCRIPTDIR source=gwlib.sh
. "$(cd "$(dirname "$0")" && pwd)/gwlib.sh"

MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=120}"
: "${T_CMD_TIMEOUT:=40}"

tb_init gwerrors
require_shim
shim_enabled || skip "the gateway runs only under the library (NOSHIM set)"
gw_testbed
GWC="$D/gwconn.py"
cp "$top_srcdir/tests/progs/gwconn.py" "$GWC"
gw_start --connect-timeout 2

# expect CASE HOST PORT WANT MIN_MS MAX_MS: both connect modes give WANT
# within [MIN_MS, MAX_MS] (one client process: each costs a start-up)
expect() {
	local what=$1 host=$2 port=$3 want=$4 lo=$5 hi=$6 mode out res ms
	out=$(gwrun "$PY" "$GWC" connect "$host" "$port" block nonblock) ||
		fail "$what: client failed: $out"
	for mode in block nonblock; do
		read -r res ms <<<"$(printf '%s\n' "$out" | head -n 1)"
		out=$(printf '%s\n' "$out" | tail -n +2)
		log "  $what ($mode): $res after $ms ms"
		[ "$res" = "$want" ] || fail "$what ($mode): got $res, want $want"
		[ "$ms" -ge "$lo" ] && [ "$ms" -le "$hi" ] ||
			fail "$what ($mode): $res after $ms ms, want $lo..$hi ms"
	done
}

if selected blackhole; then
	step "blackhole: SYNs dropped at the destination: ETIMEDOUT after --connect-timeout"
	next_port
	BHP=$PORT
	ip netns exec "$NS_P" nft -f - <<NFT || fail "nft drop"
table inet gwbh {
	chain in { type filter hook input priority -10; policy accept; tcp dport $BHP drop; }
}
NFT
	expect blackhole "$PSRV" "$BHP" ETIMEDOUT 1800 8000
	grep -q "$PSRV:$BHP: timed out" "$GWLOG" || fail "blackhole: the gateway logged no timeout"
fi

if selected unreach; then
	step "unreach: ICMP host unreachable gives EHOSTUNREACH, no route gives ENETUNREACH"
	next_port
	HUP=$PORT
	ip netns exec "$NS_P" nft -f - <<NFT || fail "nft reject"
table inet gwhu {
	chain in { type filter hook input priority -10; policy accept; tcp dport $HUP reject with icmp type host-unreachable; }
}
NFT
	expect host-unreachable "$PSRV" "$HUP" EHOSTUNREACH 0 1500
	# 198.19.X.1: allowed by the policy, but no route at the gateway
	expect net-unreachable "198.19.$X.1" 80 ENETUNREACH 0 1500
fi

if selected restart; then
	step "restart: the gateway killed under a live connection, then started again"
	next_port
	SP=$PORT
	cat >"$D/streamer.py" <<'PYEOF'
import socket, sys, threading, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
def serve(c):
    try:
        while True:
            c.sendall(b"x" * 16384)
            time.sleep(0.01)
    except OSError:
        c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PYEOF
	bg_start streamer plain "$NS_P" "$PY" "$D/streamer.py" "$PSRV" "$SP"
	wait_listen "$NS_P" "$SP"
	next_port
	HP=$PORT
	mkdir -p "$D/www"
	mkrand "$D/www/after.bin" $((1024 * 1024 + 7))
	bg_start http plain "$NS_P" "$PY" -m http.server --bind "$PSRV" --directory "$D/www" "$HP"
	wait_listen "$NS_P" "$HP"
	# SIGTERM (a stop, systemctl restart) and SIGKILL (a crash)
	for sig in TERM KILL; do
		GO="$D/go-$sig"
		bg_start "client-$sig" shim "$NS_C" env "${GW_ENV[@]}" "$PY" "$GWC" stream "$PSRV" "$SP" "$HP" \
			"$GO" "$D/got-$sig" after.bin
		CPID=$BG_PID
		for i in $(seq 1 200); do
			[ -e "$GO.flowing" ] && break
			sleep 0.05
		done
		[ -e "$GO.flowing" ] || fail "restart ($sig): no data through the gateway"
		# the daemon itself, which holds the listener (bg_start's pid is
		# timeout(1)'s)
		gpid=$(ip netns exec "$NS_S" ss -ltnpH "sport = :$GP" | grep -o 'pid=[0-9]*' |
			head -n 1 | cut -d= -f2)
		[ -n "$gpid" ] || fail "restart ($sig): cannot find the gateway's pid"
		: >"$GO.cut"
		kill -"$sig" "$gpid"
		for i in $(seq 1 400); do
			grep -q '^stream ' "$D/bg-client-$sig.log" && break
			sleep 0.05
		done
		line=$(grep '^stream ' "$D/bg-client-$sig.log" || true)
		log "  SIG$sig: client: ${line:-nothing after 20 s}"
		[ -n "$line" ] || fail "restart ($sig): the client's read did not fail within 20 s of the kill"
		read -r _ res bytes ms <<<"$line"
		case $res in
		ECONNRESET | ETIMEDOUT | ECONNABORTED | EPIPE) ;;
		*) fail "restart ($sig): the client read '$res' after $bytes B, want an error (ECONNRESET/ETIMEDOUT)" ;;
		esac
		bg_wait "$GW_PID" 5 || true
		gw_start --connect-timeout 2
		: >"$GO.again"
		bg_wait "$CPID" 30 || fail "restart ($sig): the client failed after the restart ($?): $(cat "$D/bg-client-$sig.log")"
		grep -q '^again ok' "$D/bg-client-$sig.log" ||
			fail "restart ($sig): the new connection failed: $(cat "$D/bg-client-$sig.log")"
		log "  after the restart: $(grep '^again ok' "$D/bg-client-$sig.log" | cut -d' ' -f3) ms to connect and download"
		same_file "restart-$sig" "$D/www/after.bin" "$D/got-$sig"
	done
fi

if selected zerortt; then
	step "zerortt: with TCP Fast Open at the gateway, the request rides in the client's SYN"
	ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_fastopen=3 || fail "tcp_fastopen in $NS_S"
	tfo() { # NS COUNTER: the kernel's count
		ip netns exec "$1" nstat -asz "$2" | awk -v n="$2" '$1 == n { print $2 }'
	}
	p0=$(tfo "$NS_S" TcpExtTCPFastOpenPassive)
	a0=$(tfo "$NS_C" TcpExtTCPFastOpenActive)
	next_port
	EP=$PORT
	mkdir -p "$D/www0"
	mkrand "$D/www0/small.bin" $((256 * 1024 + 5))
	bg_start http0 plain "$NS_P" "$PY" -m http.server --bind "$PSRV" --directory "$D/www0" "$EP"
	wait_listen "$NS_P" "$EP"
	# the first connection fetches the gateway's cookie; the next ones use it
	for k in 1 2 3; do
		gwrun curl -q -sS --noproxy '*' --max-time 15 -o "$D/got0" "http://$PSRV:$EP/small.bin" ||
			fail "zerortt: curl $k failed ($?)"
		same_file "zerortt-$k" "$D/www0/small.bin" "$D/got0"
	done
	p1=$(tfo "$NS_S" TcpExtTCPFastOpenPassive)
	a1=$(tfo "$NS_C" TcpExtTCPFastOpenActive)
	log "  TFO SYNs with data: client sent $((a1 - a0)), gateway took $((p1 - p0)) (of 3 connections)"
	[ $((p1 - p0)) -ge 1 ] || fail "zerortt: no request rode in a SYN (TcpExtTCPFastOpenPassive $p0 -> $p1)"
fi

kill -0 "$GW_PID" 2>/dev/null || fail "the gateway died: $(tail -5 "$GWLOG")"
log "PASS gwerrors"
