#!/bin/bash
# proxygw.sh: `mptcpshim proxy` through mptcpshim-gateway (issue 14): the
# programs the preload cannot reach get multipath to a plain server, and
# the names they ask for are resolved AT THE GATEWAY.  Topology B with two
# client paths through two routers to the gateway ($NS_S), and behind it a
# plain server namespace ($NS_P) running python3 -m http.server without the
# shim.  The host name secret.test is known only in the gateway's
# /etc/hosts (the client's resolver cannot find it: a proxy that resolved
# it itself would fail); inside.test resolves, at the gateway only, to
# its own loopback.  In the client namespace the proxy runs through the
# launcher (-g, --gateway-key) and curl runs WITHOUT the preload:
#   name      curl --socks5-hostname, http://secret.test/: 16 MiB,
#             sha256-checked, both client paths carry >= 1 MiB, the server
#             sees the gateway's address, the proxy logs "resolved there"
#   connect   HTTP CONNECT to secret.test (small file), and SOCKS5 to the
#             server's address (the library routes it through the gateway)
#   errors    a name the gateway cannot resolve: SOCKS5 reply 0x04 (host
#             unreachable) and the gateway logs it; inside.test (its own
#             loopback once resolved there): refused by the gateway's
#             policy (0x05, the "refused by policy" log line)
#   status    the gateway answers `mptcpshim status` like any process under
#             the library (issue 17): with a connection held open through
#             the proxy, `status --json` shows it at the gateway (role
#             server, gateway_destination secret.test:PORT) and at the
#             proxy (peer secret.test:PORT, gateway = the gateway's
#             address); the table says "gateway" and "via-gw"; the
#             gateway's counters count exactly what follows: a garbage
#             connection (gateway_unauthenticated +1), a name it cannot
#             resolve (gateway_requests +1, gateway_dest_failed +1), a name
#             its policy refuses (gateway_requests +1,
#             gateway_policy_refused +1)
#   fallback  a proxy whose gateway is dead: with the default
#             MPTCPSHIM_GATEWAY_FALLBACK=direct a name is resolved by the
#             proxy and reached directly (sha256-checked, logged so); with
#             fail the SOCKS5 request fails (curl 97)
# Sub-cases (T_ONLY=REGEX): name connect errors fallback status
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
# shellcheck source-path=SCRIPTDIR source=gwlib.sh
. "$(cd "$(dirname "$0")" && pwd)/gwlib.sh"

: "${SIZE:=$((16 * 1024 * 1024))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=120}"
: "${T_CMD_TIMEOUT:=40}"

tb_init proxygw
require_shim
shim_enabled || skip "the gateway and the proxy's gateway upstream run only under the library (NOSHIM set)"
command -v curl >/dev/null || fail "curl not installed"
# gwlib.sh's testbed: two client paths to the gateway, $NS_P behind it,
# alice's key.  Paths shaped to 100 Mbit/s each, as gwssh.sh's: unshaped,
# 16 MiB went in well under a second and, on a loaded machine, one path
# carried it nearly alone before the join came (path 2 0.5-0.9 MiB in 3
# of 15 runs, with or without the relay's TCP_NODELAY)
gw_testbed 100,100
# the control sockets of this test's processes only (the suite runs
# other tests, as root too, beside this one)
XDG=$D/xdg
mkdir -m 0755 "$XDG"
T_ENV=("XDG_RUNTIME_DIR=$XDG")
ctl() { XDG_RUNTIME_DIR=$XDG "$SHIM_LAUNCHER" "$@"; }
# names only the gateway's resolver knows
printf '%s\tsecret.test\n127.0.0.1\tinside.test\n' "$PSRV" >>"/etc/netns/$NS_S/hosts"
if nsrun plain "$NS_C" getent hosts secret.test >/dev/null; then
	fail "the client namespace resolves secret.test: the test would prove nothing"
fi

mkdir -p "$D/www"
mkrand "$D/www/big.bin" "$SIZE"
mkrand "$D/www/small.bin" $((256 * 1024 + 7))
next_port
HP=$PORT
bg_start http plain "$NS_P" "$PY" -m http.server --bind "$PSRV" --directory "$D/www" "$HP"
wait_listen "$NS_P" "$HP"

gw_start --connect-timeout 3

next_port
PP=$PORT
bg_start proxy plain "$NS_C" env MPTCPSHIM_GATEWAY_FALLBACK=fail "$SHIM_LAUNCHER" \
	-g "$SRV4:$GP" --gateway-key "$D/alice.key" proxy --listen "127.0.0.1:$PP" --verbose \
	--connect-timeout 10
PROXY_PID=$BG_PID
PLOG="$D/bg-proxy.log"
wait_listen "$NS_C" "$PP"

# pcurl ARGS...: curl in the client namespace, no preload, no proxy
# setting but what ARGS say.
pcurl() {
	nsrun plain "$NS_C" env -u LD_PRELOAD -u http_proxy -u HTTP_PROXY -u https_proxy \
		-u HTTPS_PROXY -u ALL_PROXY -u all_proxy -u no_proxy -u NO_PROXY \
		curl -q -sS --max-time 30 "$@"
}
# served: requests the plain server logged from the gateway's address
served() { grep -c "^$GWA .*\"GET $1" "$D/bg-http.log" || true; }

cat >"$D/socksname.py" <<'PYEOF'
import socket, struct, sys, time
# socksname.py PROXYPORT NAME PORT [HOLD]: print the SOCKS5 reply code
# (hex); with HOLD, then keep the connection open HOLD seconds
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00", "method selection"
name = sys.argv[2].encode()
s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack(">H", int(sys.argv[3])))
r = b""
while len(r) < 2:
    b = s.recv(10)
    if not b:
        break
    r += b
print("%02x" % r[1] if len(r) >= 2 else "short", flush=True)
if len(sys.argv) > 4:
    time.sleep(float(sys.argv[4]))
PYEOF
# pid_of NS COMM: the process of that name in NS
pid_of() {
	local p
	for p in $(ip netns pids "$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && echo "$p" && return 0
	done
	return 1
}

if selected name; then
	step "name: curl --socks5-hostname to secret.test (resolved at the gateway), $SIZE B"
	n0=$(served /big.bin)
	path_use_mark
	t0=$(now_ms)
	pcurl --socks5-hostname "127.0.0.1:$PP" -o "$D/got" "http://secret.test:$HP/big.bin" ||
		fail "name: curl failed ($?): $(tail -3 "$PLOG")"
	log "  $(($(now_ms) - t0)) ms"
	same_file name "$D/www/big.bin" "$D/got"
	path_use_check name
	[ "$(served /big.bin)" = $((n0 + 1)) ] ||
		fail "name: the server did not see one request from the gateway's address $GWA"
	grep -q "secret.test:$HP: connected in .*resolved there" "$PLOG" ||
		fail "name: the proxy did not go through the gateway: $(grep secret.test "$PLOG" | tail -2)"
	grep -q "secret.test:$HP: connected" "$GWLOG" || fail "name: the gateway logged no connection to secret.test"
	rm -f "$D/got"
fi

if selected connect; then
	step "connect: HTTP CONNECT to secret.test, SOCKS5 to the server's address"
	n0=$(served /small.bin)
	pcurl -x "http://127.0.0.1:$PP" --proxytunnel -o "$D/got" "http://secret.test:$HP/small.bin" ||
		fail "connect: HTTP CONNECT failed ($?)"
	same_file connect-http "$D/www/small.bin" "$D/got"
	pcurl --socks5 "127.0.0.1:$PP" -o "$D/got" "http://$PSRV:$HP/small.bin" ||
		fail "connect: SOCKS5 to $PSRV failed ($?)"
	same_file connect-ip "$D/www/small.bin" "$D/got"
	[ "$(served /small.bin)" = $((n0 + 2)) ] ||
		fail "connect: the server did not see both requests from the gateway's address"
	grep -q "$PSRV:$HP: connected" "$GWLOG" || fail "connect: the address did not go through the gateway"
	rm -f "$D/got"
fi

if selected errors; then
	step "errors: a name the gateway cannot resolve, a name that resolves to its loopback"
	r=$(nsrun plain "$NS_C" "$PY" "$D/socksname.py" "$PP" no-such-host.invalid 80) ||
		fail "errors: probe failed"
	log "  no-such-host.invalid: SOCKS5 reply $r"
	[ "$r" = 04 ] || fail "errors: an unresolvable name gave SOCKS5 reply '$r', want 04 (host unreachable)"
	grep -q "no-such-host.invalid:80: name not resolved" "$GWLOG" ||
		fail "errors: the gateway did not log the name it could not resolve"
	r=$(nsrun plain "$NS_C" "$PY" "$D/socksname.py" "$PP" inside.test "$HP") || fail "errors: probe failed"
	log "  inside.test: SOCKS5 reply $r"
	[ "$r" = 05 ] || fail "errors: a name resolving to the gateway's loopback gave '$r', want 05 (refused)"
	grep -q "inside.test:$HP: refused by policy" "$GWLOG" ||
		fail "errors: the gateway did not refuse inside.test by its policy"
fi

if selected fallback; then
	step "fallback: no gateway reachable: a name is resolved here and reached directly (default), or fails (fail)"
	next_port
	DEAD=$PORT # nothing listens there
	next_port
	HP2=$PORT
	bg_start http2 plain "$NS_S" "$PY" -m http.server --bind "$SRV4" --directory "$D/www" "$HP2"
	wait_listen "$NS_S" "$HP2"
	for fb in direct fail; do
		next_port
		bg_start "proxy-$fb" plain "$NS_C" env "MPTCPSHIM_GATEWAY_FALLBACK=$fb" "$SHIM_LAUNCHER" \
			-g "$SRV4:$DEAD" --gateway-key "$D/alice.key" proxy --listen "127.0.0.1:$PORT" --verbose \
			--connect-timeout 10
		FPID=$BG_PID
		wait_listen "$NS_C" "$PORT"
		rc=0
		pcurl --socks5-hostname "127.0.0.1:$PORT" -o "$D/got" "http://server4:$HP2/small.bin" || rc=$?
		if [ "$fb" = direct ]; then
			[ "$rc" = 0 ] || fail "fallback: direct: curl failed ($rc): $(tail -3 "$D/bg-proxy-$fb.log")"
			same_file fallback-direct "$D/www/small.bin" "$D/got"
			grep -q "server4:$HP2: connected in .*direct (no gateway reachable), resolved here" \
				"$D/bg-proxy-$fb.log" || fail "fallback: the proxy did not say it went direct"
		else
			[ "$rc" = 97 ] || fail "fallback: fail: curl exit $rc, want 97 (SOCKS connect failure)"
		fi
		bg_stop "$FPID"
		rm -f "$D/got"
	done
fi

if selected status; then
	step "status: the gateway's and the proxy's connections, the gateway's counters"
	bg_start hold plain "$NS_C" "$PY" "$D/socksname.py" "$PP" secret.test "$HP" 30
	HOLD_PID=$BG_PID
	for ((k = 0; k < 200; k++)); do
		[ -s "$D/bg-hold.log" ] && break
		sleep 0.05
	done
	[ "$(head -1 "$D/bg-hold.log")" = 00 ] || fail "status: the held connection got '$(cat "$D/bg-hold.log")'"
	# this test's gateway and proxy (other tests may run theirs beside us)
	GWPID=$(pid_of "$NS_S" mptcpshim-gatew) || fail "status: no gateway process in $NS_S"
	PXPID=$(pid_of "$NS_C" mptcpshim-proxy) || fail "status: no proxy process in $NS_C"
	GWQ="[c for p in P for c in p['connections'] if c['gateway_destination']=='secret.test:$HP']"
	# the second subflow joins a moment later (lazy joins, and none before
	# the gateway's reply): wait for it, then read both ends
	for ((k = 0; k < 100; k++)); do
		ctl status --json "$GWPID" >"$D/st.json" || fail "status $GWPID failed"
		pyq "$D/st.json" "len($GWQ)==1 and len($GWQ[0]['subflows'])==2" 2>/dev/null && break
		sleep 0.1
	done
	ctl status --json "$PXPID" >"$D/stp.json" || fail "status $PXPID failed"
	pyq "$D/st.json" 'print:json.dumps(d, indent=1)' >&2
	pyq "$D/stp.json" 'print:json.dumps(d, indent=1)' >&2
	pyq "$D/st.json" "len($GWQ)==1" "$GWQ[0]['role']=='server'" "$GWQ[0]['mode']=='multipath'" \
		"$GWQ[0]['gateway'] is None" "len($GWQ[0]['subflows'])==2" ||
		fail "status: the gateway does not show the held connection to secret.test:$HP"
	PXQ="[c for p in P for c in p['connections'] if c['peer']=='secret.test:$HP']"
	pyq "$D/stp.json" "len($PXQ)==1" "$PXQ[0]['role']=='client'" "$PXQ[0]['gateway']=='$SRV4:$GP'" \
		"$PXQ[0]['gateway_destination'] is None" ||
		fail "status: the proxy does not show its connection through the gateway"
	{ ctl status "$GWPID" && ctl status "$PXPID"; } >"$D/table.txt" || fail "status (table) failed"
	cat "$D/table.txt" >&2
	grep -E "^[0-9]+ +mptcpshim-ga .* gateway " "$D/table.txt" | grep -q ">secret.test:$HP" ||
		fail "status: the table shows no gateway connection to secret.test"
	grep -E "^[0-9]+ +mptcpshim-pr .*secret.test:$HP +via-gw " "$D/table.txt" >/dev/null ||
		fail "status: the table shows no via-gw connection at the proxy"
	bg_stop "$HOLD_PID"
	# the gateway's counters, around three refused or failed requests
	gwc() { # COUNTER: the gateway's value now
		ctl status --json --counters "$GWPID" >"$D/cnt.json" || fail "status --counters failed"
		pyq "$D/cnt.json" "print:P[0]['counters']['$1']"
	}
	r0=$(gwc gateway_requests) u0=$(gwc gateway_unauthenticated)
	f0=$(gwc gateway_dest_failed) p0=$(gwc gateway_policy_refused)
	log "  gateway counters before: requests $r0, unauthenticated $u0, dest_failed $f0, policy_refused $p0"
	[ "$r0" -ge 1 ] || fail "status: gateway_requests is $r0 after the connections above"
	nsrun plain "$NS_C" "$PY" -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=15)
c.sendall(b"GET / HTTP/1.0\r\n\r\n")
try:
    while c.recv(100):  # the gateway closes it (with a reset), nothing sent
        pass
except ConnectionResetError:
    pass
' "$SRV4" "$GP" || fail "status: the garbage probe failed"
	r=$(nsrun plain "$NS_C" "$PY" "$D/socksname.py" "$PP" no-such-host.invalid 80) || fail "status: probe failed"
	[ "$r" = 04 ] || fail "status: no-such-host.invalid gave '$r'"
	r=$(nsrun plain "$NS_C" "$PY" "$D/socksname.py" "$PP" inside.test "$HP") || fail "status: probe failed"
	[ "$r" = 05 ] || fail "status: inside.test gave '$r'"
	r1=$(gwc gateway_requests) u1=$(gwc gateway_unauthenticated)
	f1=$(gwc gateway_dest_failed) p1=$(gwc gateway_policy_refused)
	log "  gateway counters after:  requests $r1, unauthenticated $u1, dest_failed $f1, policy_refused $p1"
	[ "$((r1 - r0))" = 2 ] || fail "status: gateway_requests moved by $((r1 - r0)), want 2"
	[ "$((u1 - u0))" = 1 ] || fail "status: gateway_unauthenticated moved by $((u1 - u0)), want 1"
	[ "$((f1 - f0))" = 1 ] || fail "status: gateway_dest_failed moved by $((f1 - f0)), want 1"
	[ "$((p1 - p0))" = 1 ] || fail "status: gateway_policy_refused moved by $((p1 - p0)), want 1"
	# the table's gateway line says the same, for the gateway only
	ctl status "$GWPID" >"$D/table2.txt" || fail "status (table) failed"
	ctl status "$PXPID" >"$D/table3.txt" || fail "status (table) failed"
	grep ' gateway: ' "$D/table2.txt" >&2 || true
	l1=$(gwc gateway_limited)
	grep -qE "^$GWPID +mptcpshim-ga +gateway: [0-9]+ open; $r1 requests authenticated, $p1 refused by policy, $l1 refused by limits, $f1 destinations failed; $u1 closed unauthenticated\$" "$D/table2.txt" ||
		fail "status: no gateway line with the counters in the gateway's table"
	! grep -q ' gateway: ' "$D/table3.txt" || fail "status: a gateway line for the proxy"
	pyq "$D/st.json" "P[0]['gateway_open']>=1" || fail "status: no gateway_open in the gateway's JSON"
	pyq "$D/stp.json" "'gateway_open' not in P[0]" || fail "status: gateway_open in the proxy's JSON"
fi

kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy died: $(tail -5 "$PLOG")"
kill -0 "$GW_PID" 2>/dev/null || fail "the gateway died: $(tail -5 "$GWLOG")"
log "PASS proxygw"
