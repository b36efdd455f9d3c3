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
# Sub-cases (T_ONLY=REGEX): name connect errors
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((16 * 1024 * 1024))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=120}"
: "${T_CMD_TIMEOUT:=40}"

tb_init proxygw
require_shim
shim_enabled || skip "the gateway and the proxy's gateway upstream run only under the library (NOSHIM set)"
command -v curl >/dev/null || fail "curl not installed"
GW_BIN="$top_builddir/src/gateway/mptcpshim-gateway"
[ -x "$GW_BIN" ] || fail "$GW_BIN not built"
tb_topo B 2
D=$T_DIR
X=$T_NETNUM
GWA="198.18.$X.225" # the gateway's address towards the plain server
PSRV="198.18.$X.226"

NS_P="mpsP-pgw-$$"
ns_add "$NS_P"
_tb_veth "$NS_S" g0 "$NS_P" g0p
ip -n "$NS_S" addr add "$GWA/30" dev g0 || fail "gateway address"
ip -n "$NS_P" addr add "$PSRV/30" dev g0p || fail "server address"
for i in $(seq 1 100); do
	_tb_topo_ready && break
	sleep 0.05
done
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

umask 077
"$GW_BIN" --gen-key alice >"$D/alice.key" || fail "--gen-key"
cp "$D/alice.key" "$D/gw.keys"
umask 022
next_port
GP=$PORT
bg_start gw shim "$NS_S" env "MPTCPSHIM_ADVERTISE=$SRV4" "$GW_BIN" --listen "$SRV4:$GP" \
	--key-file "$D/gw.keys" --connect-timeout 3 --verbose
GW_PID=$BG_PID
GWLOG="$D/bg-gw.log"
wait_listen "$NS_S" "$GP"

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
	cat >"$D/socksname.py" <<'PYEOF'
import socket, struct, sys
# socksname.py PROXYPORT NAME PORT: print the SOCKS5 reply code (hex)
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
print("%02x" % r[1] if len(r) >= 2 else "short")
PYEOF
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

kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy died: $(tail -5 "$PLOG")"
kill -0 "$GW_PID" 2>/dev/null || fail "the gateway died: $(tail -5 "$GWLOG")"
log "PASS proxygw"
