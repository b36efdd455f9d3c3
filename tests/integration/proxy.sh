#!/bin/bash
# proxy.sh: `mptcpshim proxy`, the local SOCKS5 / HTTP CONNECT proxy for
# programs the preload cannot reach, over two shaped paths (topology A,
# 40+40 Mbit/s).  The server (python3 -m http.server) runs under the shim;
# in the client namespace the proxy runs under the library (through the
# launcher) and curl runs WITHOUT the preload:
#   socks-name  curl --socks5-hostname (the proxy resolves server4)
#   http        curl -x http://PROXY --proxytunnel (HTTP CONNECT, IPv4)
#   allproxy    ALL_PROXY=socks5h://PROXY curl (the environment honoured)
#   socks-v6    curl --socks5 to an IPv6 address (ATYP 4), small file
# Each download is sha256-checked and must have used both paths (1 MiB
# each at least).  Errors, with a tiny SOCKS5 client reading the reply
# code: a closed port gives 0x05 (curl exits 97; HTTP CONNECT gives 502),
# a silent (dropped) destination 0x06 after --connect-timeout, a name that
# does not resolve 0x04; a client that never sends its request is dropped
# after --handshake-timeout; a non-loopback --listen without
# --allow-remote is refused with a message naming the open relay.
# Semantics: a client's half-close reaches the server (which answers
# after its EOF), and a server's reset reaches the client as ECONNRESET.
# Harness self-test without the shim: NOSHIM=1 bash proxy.sh (the proxy
# then runs without the library).  PROXY_DIRECT=1 runs the proxy without
# the library while the server keeps the shim: the path checks must fail.
# Sub-cases (T_ONLY=REGEX): direct socks-name http allproxy socks-v6 errors
#   semantics
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((20 * 1024 * 1024))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=200}"
: "${T_CMD_TIMEOUT:=60}"

tb_init proxy
require_shim
command -v curl >/dev/null || fail "curl not installed"
PROXY_BIN="$top_builddir/src/proxy/mptcpshim-proxy"
[ -x "$PROXY_BIN" ] || fail "$PROXY_BIN not built"
tb_topo A 2 40,40
D=$T_DIR
mkdir -p "$D/www"
mkrand "$D/www/big.bin" "$SIZE"
mkrand "$D/www/small.bin" $((2 * 1024 * 1024 + 5))

next_port
HP=$PORT
bg_start http4 shim "$NS_S" "$PY" -m http.server --bind "$SRV4" --directory "$D/www" "$HP"
next_port
HP6=$PORT
bg_start http6 shim "$NS_S" "$PY" -m http.server --bind "$SRV6" --directory "$D/www" "$HP6"
wait_listen "$NS_S" "$HP"
wait_listen "$NS_S" "$HP6"

# The proxy: through the launcher (under the library) unless the shim is
# off (NOSHIM) or PROXY_DIRECT=1 asks for the broken setup.
next_port
PP=$PORT
if shim_enabled && [ "${PROXY_DIRECT:-0}" != 1 ]; then
	PROXY_CMD=("$SHIM_LAUNCHER" proxy)
else
	PROXY_CMD=("$PROXY_BIN")
fi
step "proxy: ${PROXY_CMD[*]} --listen 127.0.0.1:$PP"
bg_start proxy plain "$NS_C" "${PROXY_CMD[@]}" --listen "127.0.0.1:$PP" --verbose \
	--connect-timeout 2 --handshake-timeout 2
PROXY_PID=$BG_PID
wait_listen "$NS_C" "$PP"

# pcurl ARGS...: curl in the client namespace, no preload, no proxy
# setting but what ARGS say, no configuration file.
pcurl() {
	nsrun plain "$NS_C" env -u LD_PRELOAD -u http_proxy -u HTTP_PROXY -u https_proxy \
		-u HTTPS_PROXY -u ALL_PROXY -u all_proxy -u no_proxy -u NO_PROXY "$@"
}

# download NAME FILE CURL_ARGS...: one download through the proxy, checked.
download() {
	local name=$1 file=$2
	shift 2
	selected "$name" || return 0
	step "$name: $* ($(fsize "$D/www/$file") B)"
	rm -f "$D/got"
	path_use_mark
	local t0
	t0=$(now_ms)
	pcurl "$@" -q -sS --max-time 50 -o "$D/got" || fail "$name: curl failed ($?)"
	log "  $(($(now_ms) - t0)) ms"
	same_file "$name" "$D/www/$file" "$D/got"
	if [ "$file" = big.bin ]; then
		path_use_check "$name"
	fi
	rm -f "$D/got"
}

# For reference (logged, not asserted): the same download by curl under
# the shim, without the proxy.
if selected direct; then
	step "direct: curl under the shim, no proxy (reference time)"
	t0=$(now_ms)
	nsrun shim "$NS_C" curl -q -sS --noproxy '*' --max-time 50 -o "$D/got" "http://server4:$HP/big.bin" ||
		fail "direct: curl failed"
	log "  $(($(now_ms) - t0)) ms"
	same_file direct "$D/www/big.bin" "$D/got"
	rm -f "$D/got"
fi
download socks-name big.bin curl --socks5-hostname "127.0.0.1:$PP" "http://server4:$HP/big.bin"
download http big.bin curl -x "http://127.0.0.1:$PP" --proxytunnel "http://$SRV4:$HP/big.bin"
download allproxy big.bin env "ALL_PROXY=socks5h://127.0.0.1:$PP" curl "http://server4:$HP/big.bin"
download socks-v6 small.bin curl --socks5 "127.0.0.1:$PP" "http://[$SRV6]:$HP6/small.bin"
if [ -z "${T_ONLY:-}" ]; then
	grep -q "connected in .* (SOCKS5)" "$D/bg-proxy.log" || fail "the proxy logged no SOCKS5 connection"
	grep -q "connected in .* (HTTP CONNECT)" "$D/bg-proxy.log" || fail "the proxy logged no HTTP CONNECT"
fi

cat >"$D/socksprobe.py" <<'PYEOF'
import hashlib, os, socket, struct, sys, time
# socksprobe.py PROXYPORT MODE ARG [PORT]: MODE name NAME PORT | ip4 ADDR
# PORT: print the SOCKS5 reply code (hex) and the seconds it took; idle:
# connect, send nothing, print "eof SECS" when the proxy closes; hc ADDR
# PORT (tcptool hcserver): send 1 MiB, shut down writing, print "ok" if
# the reply names its sha256; rst ADDR PORT (a server that answers "x"
# and resets): print how the stream ends ("reset" or "eof").
pp, kind, arg = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", pp), timeout=30)
t0 = time.time()
if kind == "idle":
    b = s.recv(16)
    print("eof" if not b else "data", "%.1f" % (time.time() - t0))
    sys.exit(0)
port = int(sys.argv[4])
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00", "method selection"
if kind == "name":
    req = b"\x05\x01\x00\x03" + bytes([len(arg)]) + arg.encode()
else:
    req = b"\x05\x01\x00\x01" + socket.inet_aton(arg)
s.sendall(req + struct.pack(">H", port))
r = b""
while len(r) < 10:
    b = s.recv(10 - len(r))
    if not b:
        break
    r += b
if kind == "hc":
    assert r[1] == 0, "reply %r" % r
    data = os.urandom(1 << 20)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        got += b
    want = "%s %d" % (hashlib.sha256(data).hexdigest(), len(data))
    print("ok" if got.decode().strip() == want else "bad reply %r" % got)
    sys.exit(0)
if kind == "rst":
    assert r[1] == 0, "reply %r" % r
    s.sendall(b"a")
    try:
        while s.recv(16):
            pass
        print("eof")
    except ConnectionResetError:
        print("reset")
    sys.exit(0)
print("%02x" % r[1] if len(r) >= 2 else "short", "%.1f" % (time.time() - t0))
PYEOF

if selected errors; then
	step "errors"
	probe() { pcurl "$PY" "$D/socksprobe.py" "$PP" "$@"; }
	next_port
	CLOSED=$PORT
	# a closed port: SOCKS5 "connection refused" (curl exit 97), HTTP 502
	set +e
	out=$(pcurl curl -q -sS --max-time 20 --socks5-hostname "127.0.0.1:$PP" "http://server4:$CLOSED/" 2>&1)
	rc=$?
	set -e
	log "  curl via SOCKS5 to a closed port: exit $rc: $out"
	[ "$rc" = 97 ] || fail "curl through the proxy to a closed port exited $rc, want 97 (SOCKS connect failure)"
	r=$(probe name server4 "$CLOSED")
	[ "${r%% *}" = 05 ] || fail "SOCKS5 reply to a closed port: '$r', want 05 (connection refused)"
	set +e
	out=$(pcurl curl -q -sS --max-time 20 -x "http://127.0.0.1:$PP" --proxytunnel "http://$SRV4:$CLOSED/" 2>&1)
	rc=$?
	set -e
	log "  curl via HTTP CONNECT to a closed port: exit $rc: $out"
	case $out in *502*) ;; *) fail "HTTP CONNECT to a closed port: '$out', want a 502" ;; esac
	# a destination that drops every SYN: 0x06 after --connect-timeout 2
	ip netns exec "$NS_S" nft -f - <<EOF || fail "nft drop rule"
table inet proxydrop {
	chain in { type filter hook input priority -10; policy accept; tcp dport $CLOSED drop; }
}
EOF
	r=$(probe ip4 "$SRV4" "$CLOSED")
	log "  SOCKS5 reply for a silent destination: $r"
	[ "${r%% *}" = 06 ] || fail "SOCKS5 reply to a silent destination: '$r', want 06 (timeout: TTL expired)"
	ip netns exec "$NS_S" nft delete table inet proxydrop
	# a name that does not resolve: 0x04
	r=$(probe name no-such-host.invalid 80)
	[ "${r%% *}" = 04 ] || fail "SOCKS5 reply for an unknown name: '$r', want 04 (host unreachable)"
	# a client that never sends its request: dropped after 2 s
	r=$(probe idle x)
	log "  idle client: $r s"
	case $r in "eof "[2-5].*) ;; *) fail "an idle client got '$r', want EOF after about 2 s" ;; esac
	# a non-loopback listen address without --allow-remote
	set +e
	out=$(nsrun plain "$NS_C" "${PROXY_CMD[@]}" --listen "${C4[1]}:$CLOSED" 2>&1)
	rc=$?
	set -e
	log "  --listen ${C4[1]}:$CLOSED: exit $rc: $out"
	[ "$rc" = 2 ] || fail "a non-loopback --listen without --allow-remote exited $rc, want 2"
	case $out in *"open relay"*--allow-remote*) ;; *) fail "no clear refusal message: '$out'" ;; esac
	kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy died"
	grep -q "no complete request within 2 s" "$D/bg-proxy.log" || fail "the proxy did not log the idle client"
fi
if selected semantics; then
	step "semantics: half-close and reset pass through"
	write_pytool
	next_port
	HC=$PORT
	bg_start hc shim "$NS_S" "$PY" "$PYTOOL" hcserver "$SRV4" "$HC" 1
	next_port
	RST=$PORT
	bg_start rst shim "$NS_S" "$PY" -c '
import socket, struct, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2]))); l.listen(1)
c, _ = l.accept(); c.recv(1); c.sendall(b"x")
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
' "$SRV4" "$RST"
	wait_listen "$NS_S" "$HC"
	wait_listen "$NS_S" "$RST"
	r=$(pcurl "$PY" "$D/socksprobe.py" "$PP" hc "$SRV4" "$HC" 2>&1) || true
	[ "$r" = ok ] || fail "half-close through the proxy: $r"
	log "  half-close: the server read EOF and its answer came back"
	r=$(pcurl "$PY" "$D/socksprobe.py" "$PP" rst "$SRV4" "$RST" 2>&1) || true
	[ "$r" = reset ] || fail "a server reset reached the client through the proxy as '$r', want reset"
	log "  a server reset reached the client as ECONNRESET"
fi
kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy died"
bg_stop "$PROXY_PID"
