#!/bin/bash
# gateway.sh: mptcpshim-gateway end to end (issue 14).  Topology B with two
# client paths through two routers to the gateway's namespace ($NS_S,
# service address $SRV4), and behind the gateway a plain server namespace
# ($NS_P, 198.18.X.226, reached only from the gateway over 198.18.X.224/30)
# running python3 -m http.server WITHOUT the shim.  curl under the shim
# with MPTCPSHIM_GATEWAY set:
#   download  16 MiB with curl, then wget (through the launcher's -g and
#             --gateway-key), sha256-checked, both client paths carry
#             >= 1 MiB, the server's log shows the gateway's address (.225)
#   refused   a closed port behind the gateway: curl exit 7 (ECONNREFUSED)
#             within a few seconds
#   policy    the gateway's loopback and a private range (10.0.0.1): refused
#             (curl 7) and logged "refused by policy" at the gateway
#   reset     a server that resets after its answer: the app reads
#             ECONNRESET (tcptool-free: a small python client under the shim)
#   auth      a wrong key, a replayed first flight (captured with a small
#             recorder) and garbage: no byte back, no outbound connection
#             (the plain server's accept counter does not move), and the
#             gateway logs the peer and the reason
#   failover  a dead (refusing), unreachable (connect fails at once) or
#             silent gateway listed first is skipped
#             (the silent one after 5 s); with none left the
#             connection goes direct (default) or fails (FALLBACK=fail: 7)
#   v6        an IPv6 destination through the IPv4 gateway
#   resume    one client process (curl, two URLs: two connections), the
#             second resumed with the ticket the gateway issued on the
#             first (connections_resumed 1 at the client and in the
#             gateway's process, nothing missed), both byte-exact; with
#             MPTCPSHIM_RESUME=0 at the client: none offered, none resumed
#   polrule   the client's policy file: gateway=yes sends a destination
#             MPTCPSHIM_GATEWAY_FOR leaves out through the gateway;
#             gateway=no connects directly (and fails: the server is
#             only reachable through the gateway)
# Sub-cases (T_ONLY=REGEX): download refused policy reset auth failover v6 resume polrule
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((16 * 1024 * 1024))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=150}"
: "${T_CMD_TIMEOUT:=40}"

tb_init gateway
require_shim
shim_enabled || skip "the gateway runs only under the library (NOSHIM set)"
command -v curl >/dev/null || fail "curl not installed"
GW_BIN="$top_builddir/src/gateway/mptcpshim-gateway"
[ -x "$GW_BIN" ] || fail "$GW_BIN not built"
tb_topo B 2
D=$T_DIR
X=$T_NETNUM
GWA="198.18.$X.225" # the gateway's address towards the plain server
PSRV="198.18.$X.226"

# the plain server's namespace, behind the gateway only
NS_P="mpsP-gw-$$"
ns_add "$NS_P"
_tb_veth "$NS_S" g0 "$NS_P" g0p
ip -n "$NS_S" addr add "$GWA/30" dev g0 || fail "gateway address"
ip -n "$NS_P" addr add "$PSRV/30" dev g0p || fail "server address"
PSRV6="2001:db8:$X:e0::2" # IPv6 destination behind an IPv4 gateway
ip -n "$NS_S" -6 addr add "2001:db8:$X:e0::1/64" dev g0 nodad || fail "gateway v6 address"
ip -n "$NS_P" -6 addr add "$PSRV6/64" dev g0p nodad || fail "server v6 address"
for i in $(seq 1 100); do
	_tb_topo_ready && break
	sleep 0.05
done

mkdir -p "$D/www"
mkrand "$D/www/big.bin" "$SIZE"
next_port
HP=$PORT
bg_start http plain "$NS_P" "$PY" -m http.server --bind "$PSRV" --directory "$D/www" "$HP"
wait_listen "$NS_P" "$HP"

# keys: the gateway's file lists alice; the client has alice's line
umask 077
"$GW_BIN" --gen-key alice >"$D/alice.key" || fail "--gen-key"
grep -Eq '^alice [0-9a-f]{64}$' "$D/alice.key" || fail "--gen-key printed '$(cat "$D/alice.key")'"
"$GW_BIN" --gen-key mallory >"$D/mallory.key"
cp "$D/alice.key" "$D/gw.keys"
umask 022

next_port
GP=$PORT
bg_start gw shim "$NS_S" env "MPTCPSHIM_ADVERTISE=$SRV4" "$GW_BIN" --listen "$SRV4:$GP" \
	--key-file "$D/gw.keys" --connect-timeout 3 --verbose
GW_PID=$BG_PID
wait_listen "$NS_S" "$GP"
GWLOG="$D/bg-gw.log"
SHLOG="$D/shim-$NS_S.log"

# gcurl KEYFILE CURL_ARGS...: curl under the shim, through the gateway
gcurl() {
	local key=$1
	shift
	nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$GP" "MPTCPSHIM_GATEWAY_KEY_FILE=$key" \
		MPTCPSHIM_GATEWAY_FALLBACK=fail curl -q -sS --noproxy '*' "$@"
}

# accepted: connections the plain server has logged so far
accepted() { grep -c '"GET ' "$D/bg-http.log" || true; }

if selected download; then
	step "download: $SIZE B from the plain server through the gateway"
	path_use_mark
	t0=$(now_ms)
	gcurl "$D/alice.key" --max-time 30 -o "$D/got" "http://$PSRV:$HP/big.bin" ||
		fail "download: curl failed ($?)"
	log "  $(($(now_ms) - t0)) ms"
	same_file download "$D/www/big.bin" "$D/got"
	path_use_check download
	grep -q "^$GWA .*GET /big.bin" "$D/bg-http.log" ||
		fail "download: the server did not see the gateway's address $GWA: $(tail -2 "$D/bg-http.log")"
	grep -q "client 'alice'" "$SHLOG" || fail "download: the gateway did not log the client's name"
	rm -f "$D/got"
	step "download: wget (the launcher's -g and --gateway-key), both paths again"
	path_use_mark
	nsrun plain "$NS_C" "$SHIM_LAUNCHER" -g "$SRV4:$GP" --gateway-key "$D/alice.key" \
		env MPTCPSHIM_GATEWAY_FALLBACK=fail wget -q -O "$D/got" "http://$PSRV:$HP/big.bin" ||
		fail "download: wget failed ($?)"
	same_file download-wget "$D/www/big.bin" "$D/got"
	path_use_check download-wget
	rm -f "$D/got"
fi

if selected refused; then
	step "refused: a closed port behind the gateway gives ECONNREFUSED"
	next_port
	t0=$(now_ms)
	rc=0
	gcurl "$D/alice.key" --max-time 20 -o /dev/null "http://$PSRV:$PORT/" || rc=$?
	ms=$(($(now_ms) - t0))
	log "  curl exit $rc after $ms ms"
	[ "$rc" = 7 ] || fail "refused: curl exit $rc, want 7 (ECONNREFUSED)"
	[ "$ms" -lt 10000 ] || fail "refused: took $ms ms"
	grep -q "$PSRV:$PORT: connection refused" "$GWLOG" || fail "refused: the gateway logged no refusal"
fi

if selected policy; then
	step "policy: the gateway's loopback and a private range are refused"
	# a service on the gateway's loopback, which the policy must protect
	next_port
	LP=$PORT
	bg_start lo plain "$NS_S" "$PY" -m http.server --bind 127.0.0.1 --directory "$D/www" "$LP"
	wait_listen "$NS_S" "$LP"
	rc=0
	nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$GP" "MPTCPSHIM_GATEWAY_KEY_FILE=$D/alice.key" \
		MPTCPSHIM_GATEWAY_FOR=all MPTCPSHIM_GATEWAY_FALLBACK=fail \
		curl -q -sS --max-time 10 -o /dev/null "http://127.0.0.1:$LP/" || rc=$?
	[ "$rc" = 7 ] || fail "policy: loopback: curl exit $rc, want 7"
	grep -q '"GET ' "$D/bg-lo.log" && fail "policy: the gateway's loopback service was reached"
	rc=0
	gcurl "$D/alice.key" --max-time 10 -o /dev/null "http://10.0.0.1:80/" || rc=$?
	[ "$rc" = 7 ] || fail "policy: 10.0.0.1: curl exit $rc, want 7"
	grep -q "127.0.0.1:$LP: refused by policy" "$GWLOG" || fail "policy: no log line for loopback"
	grep -q "10.0.0.1:80: refused by policy" "$GWLOG" || fail "policy: no log line for 10.0.0.1"
fi

if selected reset; then
	step "reset: a server's reset reaches the app as ECONNRESET"
	next_port
	RP=$PORT
	cat >"$D/rstserver.py" <<'PYEOF'
import socket, struct, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4)
while True:
    c, _ = s.accept()
    c.recv(100)
    c.sendall(b"partial answer")
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
PYEOF
	cat >"$D/rstclient.py" <<'PYEOF'
import errno, socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))  # a blocking connect
c.settimeout(10)
print("peer", c.getpeername()[0], flush=True)
c.sendall(b"hello\n")
got = b""
try:
    while True:
        b = c.recv(4096)
        if not b:
            print("EOF", got.decode())
            break
        got += b
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)), got.decode())
PYEOF
	bg_start rst plain "$NS_P" "$PY" "$D/rstserver.py" "$PSRV" "$RP"
	wait_listen "$NS_P" "$RP"
	out=$(nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$GP" "MPTCPSHIM_GATEWAY_KEY_FILE=$D/alice.key" \
		MPTCPSHIM_GATEWAY_FALLBACK=fail "$PY" "$D/rstclient.py" "$PSRV" "$RP") || fail "reset: client failed"
	log "  $(echo "$out" | tr '\n' ' ')"
	echo "$out" | grep -qx "peer $PSRV" || fail "reset: getpeername did not name the destination"
	echo "$out" | grep -q "^ECONNRESET" || fail "reset: want ECONNRESET, got '$out'"
fi

if selected auth; then
	step "auth: wrong key, replayed first flight and garbage get nothing back and no outbound connection"
	# recorder: a relay in front of the gateway that keeps the client's
	# bytes (c2g.N) and counts the gateway's (g2c.N); the probe sends
	# bytes to the gateway and reports how many came back before it
	# closed (or 3 s of silence): tests/progs/gwreplay.py
	cp "$top_srcdir/tests/progs/gwreplay.py" "$D/gwreplay.py"
	mkdir -p "$D/rec"
	next_port
	RECP=$PORT
	bg_start rec plain "$NS_S" "$PY" "$D/gwreplay.py" record "$SRV4" "$RECP" "$SRV4" "$GP" "$D/rec"
	wait_listen "$NS_S" "$RECP"
	rcurl() { # KEY URL: curl through the recorder
		nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$RECP" "MPTCPSHIM_GATEWAY_KEY_FILE=$1" \
			MPTCPSHIM_GATEWAY_FALLBACK=fail curl -q -sS --noproxy '*' --max-time 10 -o /dev/null "$2"
	}
	n0=$(accepted)
	# 1: alice, recorded: a valid first flight to replay
	rcurl "$D/alice.key" "http://$PSRV:$HP/big.bin" || fail "auth: alice through the recorder failed"
	for i in $(seq 1 100); do [ -e "$D/rec/g2c.1" ] && break; sleep 0.05; done
	[ "$(cat "$D/rec/g2c.1")" -gt 1000000 ] || fail "auth: the recorder saw no download"
	n1=$(accepted)
	[ "$n1" = $((n0 + 1)) ] || fail "auth: the server saw $((n1 - n0)) connections for alice, want 1"
	# 2: mallory's key
	rc=0
	rcurl "$D/mallory.key" "http://$PSRV:$HP/big.bin" || rc=$?
	[ "$rc" = 7 ] || fail "auth: wrong key: curl exit $rc, want 7"
	for i in $(seq 1 100); do [ -e "$D/rec/g2c.2" ] && break; sleep 0.05; done
	[ "$(cat "$D/rec/g2c.2")" = 0 ] || fail "auth: wrong key: the gateway sent $(cat "$D/rec/g2c.2") B back"
	# 3: alice's first flight replayed
	got=$(nsrun plain "$NS_C" "$PY" "$D/gwreplay.py" replay "$SRV4" "$GP" "$D/rec/c2g.1" 1) || fail "auth: replay probe failed"
	[ "$got" = 0 ] || fail "auth: replay: the gateway sent $got B back"
	# 4: garbage (an HTTP request)
	got=$(nsrun plain "$NS_C" "$PY" "$D/gwreplay.py" replay "$SRV4" "$GP" - 1) || fail "auth: garbage probe failed"
	[ "$got" = 0 ] || fail "auth: garbage: the gateway sent $got B back"
	sleep 0.5
	n2=$(accepted)
	[ "$n2" = "$n1" ] || fail "auth: the server saw $((n2 - n1)) connection(s) from refused requests"
	grep -q "refused, nothing sent back: bad authenticator" "$SHLOG" || fail "auth: no log line for the wrong key"
	grep -q "refused, nothing sent back: replayed authenticator" "$SHLOG" || fail "auth: no log line for the replay"
	grep -q "refused, nothing sent back: not a shim client" "$SHLOG" || fail "auth: no log line for garbage"
	log "  gateway log: $(grep -c 'refused, nothing sent back' "$SHLOG") refusals"
fi

if selected failover; then
	step "failover: a dead gateway is skipped; none left: direct (default) or fail"
	next_port
	DEAD=$PORT # nothing listens there
	next_port
	HP2=$PORT
	bg_start http2 plain "$NS_S" "$PY" -m http.server --bind "$SRV4" --directory "$D/www" "$HP2"
	wait_listen "$NS_S" "$HP2"
	[ -e "$D/www/small.bin" ] || mkrand "$D/www/small.bin" $((256 * 1024 + 3))
	nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$DEAD,$SRV4:$GP" \
		"MPTCPSHIM_GATEWAY_KEY_FILE=$D/alice.key" MPTCPSHIM_GATEWAY_FALLBACK=fail \
		curl -q -sS --max-time 15 -o "$D/got" "http://$PSRV:$HP/small.bin" ||
		fail "failover: curl through the second gateway failed"
	same_file failover "$D/www/small.bin" "$D/got"
	grep -q "gateway $SRV4:$DEAD: " "$D/shim-$NS_C.log" || fail "failover: the dead gateway was not logged"
	# a gateway the client's kernel refuses before any packet (a multicast
	# address: connect() fails with ENETUNREACH at once): the app's thread's
	# attempt (mps_gwconn_early) fails, the shim thread tries that gateway
	# again on a new socket, logs it and goes on to the next
	nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=224.0.0.1:$DEAD,$SRV4:$GP" \
		"MPTCPSHIM_GATEWAY_KEY_FILE=$D/alice.key" MPTCPSHIM_GATEWAY_FALLBACK=fail \
		curl -q -sS --max-time 15 -o "$D/got" "http://$PSRV:$HP/small.bin" ||
		fail "failover: curl past an unreachable gateway failed"
	same_file failover-unreachable "$D/www/small.bin" "$D/got"
	grep -q "gateway 224.0.0.1:$DEAD: Network is unreachable" "$D/shim-$NS_C.log" ||
		fail "failover: the unreachable gateway was not logged"
	# a silent gateway (every packet to its port dropped): skipped after
	# its attempt timeout (5 s), well before TCP's own connect timeout
	next_port
	SILENT=$PORT
	ip netns exec "$NS_S" nft -f - <<NFT || fail "nft drop for the silent gateway"
table inet gwsilent {
	chain in { type filter hook input priority -10; policy accept; tcp dport $SILENT drop; }
}
NFT
	t0=$(now_ms)
	nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$SILENT,$SRV4:$GP" \
		"MPTCPSHIM_GATEWAY_KEY_FILE=$D/alice.key" MPTCPSHIM_GATEWAY_FALLBACK=fail \
		curl -q -sS --max-time 30 -o "$D/got" "http://$PSRV:$HP/small.bin" ||
		fail "failover: curl past a silent gateway failed"
	ms=$(($(now_ms) - t0))
	same_file failover-silent "$D/www/small.bin" "$D/got"
	log "  past the silent gateway in $ms ms"
	[ "$ms" -lt 20000 ] || fail "failover: the silent gateway took $ms ms to skip"
	grep -q "gateway $SRV4:$SILENT: no answer in time" "$D/shim-$NS_C.log" ||
		fail "failover: the silent gateway was not logged"
	# no gateway left: direct (the default) reaches a server the client can route to
	nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$DEAD" "MPTCPSHIM_GATEWAY_KEY_FILE=$D/alice.key" \
		curl -q -sS --max-time 15 -o "$D/got" "http://$SRV4:$HP2/small.bin" ||
		fail "failover: direct fallback failed"
	same_file fallback-direct "$D/www/small.bin" "$D/got"
	grep -q "connecting directly" "$D/shim-$NS_C.log" || fail "failover: the direct fallback was not logged"
	rc=0
	nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$DEAD" "MPTCPSHIM_GATEWAY_KEY_FILE=$D/alice.key" \
		MPTCPSHIM_GATEWAY_FALLBACK=fail curl -q -sS --max-time 15 -o /dev/null \
		"http://$SRV4:$HP2/small.bin" || rc=$?
	[ "$rc" = 7 ] || fail "failover: FALLBACK=fail: curl exit $rc, want 7"
	rm -f "$D/got"
fi

if selected v6; then
	step "v6: an IPv6 destination through the IPv4 gateway (the app's IPv6 socket reaches it v4-mapped)"
	next_port
	HP6=$PORT
	[ -e "$D/www/small.bin" ] || mkrand "$D/www/small.bin" $((256 * 1024 + 3))
	bg_start http6 plain "$NS_P" "$PY" -m http.server --bind "$PSRV6" --directory "$D/www" "$HP6"
	wait_listen "$NS_P" "$HP6"
	gcurl "$D/alice.key" --max-time 15 -o "$D/got" "http://[$PSRV6]:$HP6/small.bin" ||
		fail "v6: curl failed ($?)"
	same_file v6 "$D/www/small.bin" "$D/got"
	grep -q "2001:db8:$X:e0::1.*GET /small.bin" "$D/bg-http6.log" ||
		fail "v6: the server did not see the gateway's address"
	rm -f "$D/got"
fi

if selected resume; then
	step "resume: two connections from one client process, the second resumed (MPTCPSHIM_RESUME=0: none)"
	[ -e "$D/www/small.bin" ] || mkrand "$D/www/small.bin" $((256 * 1024 + 3))
	[ -e "$D/www/mid.bin" ] || mkrand "$D/www/mid.bin" $((1024 * 1024 + 7))
	gwp=$(pgrep -P "$GW_PID" | head -n 1)
	# gres TAG: the gateway process's connections_resumed and resumptions_missed
	gres() { echo "$(shim_counter connections_resumed "$gwp") $(shim_counter resumptions_missed "$gwp")"; }
	g0=$(gres)
	cm=$(counters_mark "$NS_C")
	gcurl "$D/alice.key" --max-time 20 -o "$D/got1" "http://$PSRV:$HP/small.bin" \
		-o "$D/got2" "http://$PSRV:$HP/mid.bin" || fail "resume: curl failed ($?)"
	same_file resume-1 "$D/www/small.bin" "$D/got1"
	same_file resume-2 "$D/www/mid.bin" "$D/got2"
	c=$(counters_since "$NS_C" "$cm")
	g1=$(gres)
	log "  client: $(printf '%s\n' "$c" | grep -oE '"(connections_resumed|resumptions_missed)":[0-9]+' | paste -sd' '); gateway (resumed missed): $g0 -> $g1"
	for kv in connections_resumed=1 resumptions_missed=0 multipath_connections=2; do
		v=$(printf '%s\n' "$c" | counter "${kv%%=*}")
		[ "$v" = "${kv#*=}" ] || fail "resume: client: ${kv%%=*} is $v, want ${kv#*=}"
	done
	read -r a0 b0 <<<"$g0"
	read -r a1 b1 <<<"$g1"
	[ "$((a1 - a0)) $((b1 - b0))" = "1 0" ] ||
		fail "resume: the gateway resumed $((a1 - a0)) and missed $((b1 - b0)), want 1 and 0"
	cm=$(counters_mark "$NS_C")
	nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$GP" "MPTCPSHIM_GATEWAY_KEY_FILE=$D/alice.key" \
		MPTCPSHIM_GATEWAY_FALLBACK=fail MPTCPSHIM_RESUME=0 curl -q -sS --noproxy '*' --max-time 20 \
		-o "$D/got1" "http://$PSRV:$HP/small.bin" -o "$D/got2" "http://$PSRV:$HP/mid.bin" ||
		fail "resume: MPTCPSHIM_RESUME=0: curl failed ($?)"
	same_file resume-off-1 "$D/www/small.bin" "$D/got1"
	same_file resume-off-2 "$D/www/mid.bin" "$D/got2"
	c=$(counters_since "$NS_C" "$cm")
	g2=$(gres)
	for kv in connections_resumed=0 resumptions_missed=0 multipath_connections=2; do
		v=$(printf '%s\n' "$c" | counter "${kv%%=*}")
		[ "$v" = "${kv#*=}" ] || fail "resume: RESUME=0: client: ${kv%%=*} is $v, want ${kv#*=}"
	done
	[ "$g2" = "$g1" ] || fail "resume: RESUME=0: the gateway's counters moved: $g1 -> $g2"
	rm -f "$D/got1" "$D/got2"
fi

if selected polrule; then
	step "polrule: a policy rule's gateway=yes|no overrides MPTCPSHIM_GATEWAY_FOR"
	[ -e "$D/www/small.bin" ] || mkrand "$D/www/small.bin" $((256 * 1024 + 3))
	# FOR names an unrelated prefix only: without a rule nothing would go
	# through the gateway, and the plain server is reachable only through it
	printf 'dst=%s port=%s gateway=yes\n' "$PSRV" "$HP" >"$D/pol-yes.conf"
	n0=$(accepted)
	nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$GP" "MPTCPSHIM_GATEWAY_KEY_FILE=$D/alice.key" \
		MPTCPSHIM_GATEWAY_FOR=198.18.255.0/24 MPTCPSHIM_GATEWAY_FALLBACK=fail \
		"MPTCPSHIM_POLICY=$D/pol-yes.conf" curl -q -sS --noproxy '*' --max-time 15 \
		-o "$D/got" "http://$PSRV:$HP/small.bin" || fail "polrule: gateway=yes: curl failed ($?)"
	same_file polrule-yes "$D/www/small.bin" "$D/got"
	[ "$(accepted)" -gt "$n0" ] || fail "polrule: gateway=yes: the server saw no request"
	rm -f "$D/got"
	# gateway=no for that destination: the client connects directly, and
	# the server is not reachable that way (no route: curl 7); the gateway
	# gets no request
	printf 'dst=%s gateway=no\n' "$PSRV" >"$D/pol-no.conf"
	n0=$(accepted)
	# the gateway process's own count of authenticated requests
	gwp=$(pgrep -P "$GW_PID" | head -n 1)
	r0=$(shim_counter gateway_requests "$gwp")
	[ -n "$r0" ] && [ "$r0" -ge 1 ] ||
		fail "polrule: the gateway process ($gwp) counted '$r0' requests, want the gateway=yes one at least"
	rc=0
	nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$GP" "MPTCPSHIM_GATEWAY_KEY_FILE=$D/alice.key" \
		MPTCPSHIM_GATEWAY_FALLBACK=fail "MPTCPSHIM_POLICY=$D/pol-no.conf" \
		curl -q -sS --noproxy '*' --max-time 10 -o /dev/null "http://$PSRV:$HP/small.bin" || rc=$?
	[ "$rc" = 7 ] || [ "$rc" = 28 ] || fail "polrule: gateway=no: curl exit $rc, want 7 (no route) or 28"
	[ "$(accepted)" = "$n0" ] || fail "polrule: gateway=no: the server got a request"
	r1=$(shim_counter gateway_requests "$gwp")
	[ "$r1" = "$r0" ] || fail "polrule: gateway=no: the gateway served a request ($r0 -> $r1)"
	log "  gateway=yes: through the gateway; gateway=no: direct (curl exit $rc)"
fi

if [ -z "${T_ONLY:-}" ]; then
	kill -0 "$GW_PID" 2>/dev/null || fail "the gateway died: $(tail -5 "$GWLOG")"
fi
log "PASS gateway"
