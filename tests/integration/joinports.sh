#!/bin/bash
# joinports.sh: a server behind a firewall that admits only the app's port
# and a join port range gets multipath with MPTCPSHIM_JOIN_PORTS.
# Topology A, two 50 Mbit/s paths, IPv4; in the server namespace nft drops
# every new TCP connection except to the app's ports and 40000-40009.
#   blocked   without MPTCPSHIM_JOIN_PORTS the join listener's ephemeral
#             port is filtered: the transfer completes byte-exact on path 1
#             alone (the control: the firewall really blocks joins);
#   range     with MPTCPSHIM_JOIN_PORTS=40000-40009 on the server, two server
#             processes at once (each has its own join listener): each
#             takes its own port of the range, the clients' extra subflows
#             go there, both transfers are byte-exact and path 2 carries a
#             fair share of each.
# Harness self-test without the shim: NOSHIM=1 bash joinports.sh (the
# transfers only)
# Sub-cases (T_ONLY=REGEX): blocked range
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((16 * 1024 * 1024))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=240}"
LO=40000
HI=40009

tb_init joinports
require_shim
write_pytool
command -v nft >/dev/null || fail "nft not installed"
D=$T_DIR
mkrand "$D/data.in" "$SIZE"
tb_topo A 2 50,50

# the app's ports: the next two
next_port
P1=$PORT
next_port
P2=$PORT
ip netns exec "$NS_S" nft -f - <<EOF || fail "nft firewall"
table inet fw {
	chain in {
		type filter hook input priority 0; policy accept;
		ct state new tcp dport != { $P1, $P2, $LO-$HI } drop
	}
}
EOF

# xfer NAME PORT: client sends data.in to a server on PORT (started by the
# caller); byte-exact; prints path 2's bytes during the transfer
xfer() {
	local name=$1 port=$2
	nsrun shim "$NS_C" "$PY" "$PYTOOL" xfclient "$SRV4" "$port" send "$D/data.in" ||
		fail "$name: the client failed"
}

if selected blocked; then
	what="blocked: join listener on an ephemeral port behind the firewall"
	step "$what"
	bg_start srv-blocked shim "$NS_S" "$PY" "$PYTOOL" xfserver "$SRV4" "$P1" recv "$D/blocked.out"
	spid=$BG_PID
	wait_listen "$NS_S" "$P1"
	b2=$(path_bytes 2)
	xfer blocked "$P1"
	bg_wait "$spid" 30 || fail "$what: the server failed"
	d2=$(($(path_bytes 2) - b2))
	same_file "$what" "$D/data.in" "$D/blocked.out"
	log "  path 2: $((d2 / 1024)) KiB"
	if shim_enabled; then
		[ "$d2" -lt $((1024 * 1024)) ] ||
			fail "$what: path 2 carried $d2 B although the firewall drops joins to other ports"
		grep -qE "subflow [0-9]+ from .* joined" "$T_DIR/shim-$NS_S.log" &&
			fail "$what: a join got through the firewall"
	fi
	rm -f "$D/blocked.out"
fi

if selected range; then
	what="range: MPTCPSHIM_JOIN_PORTS=$LO-$HI on two server processes"
	step "$what"
	T_ENV=(MPTCPSHIM_JOIN_PORTS=$LO-$HI)
	bg_start srv-r1 shim "$NS_S" "$PY" "$PYTOOL" xfserver "$SRV4" "$P1" recv "$D/r1.out"
	s1=$BG_PID
	bg_start srv-r2 shim "$NS_S" "$PY" "$PYTOOL" xfserver "$SRV4" "$P2" recv "$D/r2.out"
	s2=$BG_PID
	T_ENV=()
	wait_listen "$NS_S" "$P1"
	wait_listen "$NS_S" "$P2"
	nc0=$(wc -l <"$T_DIR/shim-$NS_C.log" 2>/dev/null || echo 0)
	b2=$(path_bytes 2)
	bg_start cli-r1 shim "$NS_C" "$PY" "$PYTOOL" xfclient "$SRV4" "$P1" send "$D/data.in"
	c1=$BG_PID
	bg_start cli-r2 shim "$NS_C" "$PY" "$PYTOOL" xfclient "$SRV4" "$P2" send "$D/data.in"
	c2=$BG_PID
	for p in "$c1" "$c2" "$s1" "$s2"; do bg_wait "$p" 60 || fail "$what: a transfer failed"; done
	d2=$(($(path_bytes 2) - b2))
	same_file "$what: server 1" "$D/data.in" "$D/r1.out"
	same_file "$what: server 2" "$D/data.in" "$D/r2.out"
	log "  path 2: $((d2 / 1024)) KiB of $((2 * SIZE / 1024)) KiB"
	if shim_enabled; then
		# each connection's extra subflow went to a port of the range, a
		# different one for each server process
		ports=$(tail -n +"$((nc0 + 1))" "$T_DIR/shim-$NS_C.log" |
			sed -nE 's/.*subflow [0-9]+ [^ ]+ -> [^ ]+:([0-9]+) established$/\1/p' | sort -u)
		log "  join ports used: $(echo "$ports" | tr '\n' ' ')"
		[ "$(echo "$ports" | grep -c .)" = 2 ] ||
			fail "$what: the clients joined $(echo "$ports" | grep -c .) distinct port(s), want 2 (one per server process)"
		for p in $ports; do
			[ "$p" -ge "$LO" ] && [ "$p" -le "$HI" ] || fail "$what: a join went to port $p, outside $LO-$HI"
		done
		[ $((d2 * 4)) -ge "$SIZE" ] || fail "$what: path 2 carried only $d2 B of $((2 * SIZE)) B"
	fi
fi

shim_log_summary
exit 0
