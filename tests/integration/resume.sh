#!/bin/bash
# resume.sh: per-peer key resumption (issue 15; DESIGN "Resumption"):
# a client process's later connections to the same server skip X25519.
# Two paths (the server announces its second address; joins open at once).
# One client process makes 4 connections, each byte-exact both ways
# (sha256 of what each end received, checked by the other) and held open
# until its extra subflow has joined:
#   1  full agreement; the server issues a ticket
#   2  resumed with it (and issues the next)
#   -- the server process is replaced (it held the only copy of the ticket)
#   3  offers the old ticket: the new server misses it and runs the full
#      agreement in the same round trip (the client's standby keypair)
#   4  resumed with the new server's ticket
# Asserted from the processes' counters: client connections_resumed 2,
# resumptions_missed 1; server 1 resumed 1, server 2 resumed 1 and missed
# 1; every connection multipath and its join done on both ends (4 joined,
# none rejected or failed): the resumed connections' join keys work.
# Then MPTCPSHIM_RESUME=0 on both ends: 3 connections, none resumed, no
# ticket offered, joins as before.
# Then a hand-made client (Python, no shim; tests/progs/mpskex.py) checks
# the wire against an independent implementation: the resumed keys it
# computes give the DSNs the server uses and accepts; the same resuming
# HELLO sent again, and a ticket the server never issued, get a full
# agreement (server: 1 resumed, 2 missed).
# Sub-cases (T_ONLY=REGEX): resume wire off
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

MPTCPSHIM_LOG=info
tb_init resume
require_shim
shim_enabled || skip "tests the shim's key resumption (NOSHIM set)"
tb_setup 2

cat >"$T_DIR/srv.py" <<'PYEOF'
import hashlib, socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(16)
for _ in range(n):
    c, _ = ls.accept()
    h, got = hashlib.sha256(), 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        h.update(b)
        got += len(b)
    # what it received (digest), then 300 KiB that depend on it
    d = h.digest()
    c.sendall(d + b"".join(hashlib.sha256(d + i.to_bytes(4, "big")).digest() for i in range(9600)))
    c.close()
PYEOF

cat >"$T_DIR/cli.py" <<'PYEOF'
import hashlib, os, socket, sys, time
host, port, n, pause_after, gofile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
for k in range(n):
    if k == pause_after:
        open(gofile + ".wait", "w").close()
        while not os.path.exists(gofile):
            time.sleep(0.05)
    data = os.urandom(200000 + 1000 * k)
    s = socket.create_connection((host, port))
    s.sendall(data)
    time.sleep(1.0)  # the extra subflow joins meanwhile (JOIN_DELAY=0; 1 s: loaded CI)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    d = hashlib.sha256(data).digest()
    want = d + b"".join(hashlib.sha256(d + i.to_bytes(4, "big")).digest() for i in range(9600))
    if got != want:
        sys.exit("connection %d: %d bytes back, not the %d expected (or different)" % (k + 1, len(got), len(want)))
print("ok")
PYEOF

T_ENV=(MPTCPSHIM_JOIN_DELAY=0 MPTCPSHIM_JOIN_BYTES=0)

# check WHAT COUNTERS NAME=VALUE...: each counter has its value
check() {
	local what=$1 cnt=$2 kv
	shift 2
	for kv in "$@"; do
		local v
		v=$(printf '%s\n' "$cnt" | counter "${kv%%=*}")
		[ "$v" = "${kv#*=}" ] || fail "$what: ${kv%%=*} is $v, want ${kv#*=} (counters: $cnt)"
	done
}

if selected resume; then
	step "4 connections from one client process, the server replaced after the second"
	next_port
	rm -f "$T_DIR/go" "$T_DIR/go.wait"
	cc=$(counters_mark "$NS_C")
	sm=$(counters_mark "$NS_S")
	bg_start srv1 shim "$NS_S" "$PY" "$T_DIR/srv.py" "$S4" "$PORT" 2
	S1=$BG_PID
	wait_listen "$NS_S" "$PORT"
	bg_start cli shim "$NS_C" "$PY" "$T_DIR/cli.py" "$S4" "$PORT" 4 2 "$T_DIR/go"
	CLI=$BG_PID
	bg_wait "$S1" 30 || fail "server 1 did not serve its 2 connections: $(cat "$T_DIR/bg-srv1.log")"
	s1=$(counters_since "$NS_S" "$sm")
	sm=$(counters_mark "$NS_S")
	for ((i = 0; i < 400; i++)); do
		[ -e "$T_DIR/go.wait" ] && break
		sleep 0.05
	done
	[ -e "$T_DIR/go.wait" ] || fail "the client did not finish its first 2 connections: $(cat "$T_DIR/bg-cli.log")"
	bg_start srv2 shim "$NS_S" "$PY" "$T_DIR/srv.py" "$S4" "$PORT" 2
	S2=$BG_PID
	wait_listen "$NS_S" "$PORT"
	: >"$T_DIR/go"
	bg_wait "$CLI" 30 || fail "the client failed: $(cat "$T_DIR/bg-cli.log")"
	[ "$(cat "$T_DIR/bg-cli.log")" = ok ] || fail "client: $(cat "$T_DIR/bg-cli.log")"
	bg_wait "$S2" 30 || fail "server 2 did not serve its 2 connections: $(cat "$T_DIR/bg-srv2.log")"
	s2=$(counters_since "$NS_S" "$sm")
	c=$(counters_since "$NS_C" "$cc")
	log "client: $(printf '%s\n' "$c" | grep -oE '"(connections_resumed|resumptions_missed|subflows_joined)":[0-9]+' | paste -sd' ')"
	check "client" "$c" multipath_connections=4 connections_resumed=2 resumptions_missed=1 \
		subflows_joined=4 subflows_failed=0
	check "server 1" "$s1" multipath_connections=2 connections_resumed=1 resumptions_missed=0 \
		subflows_joined=2 joins_rejected=0
	check "server 2" "$s2" multipath_connections=2 connections_resumed=1 resumptions_missed=1 \
		subflows_joined=2 joins_rejected=0
	log "4 connections byte-exact both ways, 2 resumed (one of them after a miss), every join done"
fi

if selected wire; then
	step "a hand-made client (no shim) against the shim server: the resumed keys as Python computes them; a replayed and a forged ticket"
	cp "$top_srcdir/tests/progs/mpskex.py" "$T_DIR/"
	cat >"$T_DIR/echo.py" <<'PYEOF'
import socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(16)
for _ in range(n):
    c, _ = ls.accept()
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
    except OSError:
        pass
    c.close()
PYEOF
	cat >"$T_DIR/wire.py" <<'PYEOF'
# DESIGN "Resumption", checked on the wire against an independent
# implementation (mpskex.py): the server's first DATA must carry the DSN
# that the keys computed here give (idsn_s + 1), and it must accept ours
# (idsn_c + 1: from the nonce whenever the HELLO offers a ticket).
import os, socket, struct, sys
import mpskex
host, port = sys.argv[1], int(sys.argv[2])
T, R = mpskex.CAP_TICKET, mpskex.CAP_RESUME

def noline(n):
    b = bytearray(os.urandom(n))
    for i in range(n):
        while b[i] in (10, 13):
            b[i] = os.urandom(1)[0]
    return bytes(b)

def recv_exact(s, n):
    b = b""
    while len(b) < n:
        x = s.recv(n - len(b))
        if not x:
            sys.exit("the server closed the connection")
        b += x
    return b

def frame(s):
    t, f, n = struct.unpack(">BBH", recv_exact(s, 4))
    return t, f, recv_exact(s, n)

def hello_ack(hello):
    s = socket.create_connection((host, port))
    s.sendall(hello)
    t, f, body = frame(s)
    if t != 2:
        sys.exit("first frame back is type %d, not HELLO_ACK" % t)
    return s, body[9], body

def echo(s, keys, payload, what):
    body = struct.pack(">QQI", keys["idsn_c"] + 1, keys["idsn_s"] + 1, 1 << 20) + payload
    s.sendall(struct.pack(">BBH", 3, 1, len(body)) + body)
    got = b""
    while len(got) < len(payload):
        t, f, body = frame(s)
        if t == 5:
            sys.exit("%s: the server aborted (CLOSE): it did not take our DSN" % what)
        if t == 3 and len(body) > 20:
            dsn = struct.unpack(">Q", body[:8])[0]
            if dsn != keys["idsn_s"] + 1 + len(got):
                sys.exit("%s: server DSN %x, the keys here give %x" % (what, dsn, keys["idsn_s"] + 1 + len(got)))
            got += body[20:]
    if got != payload:
        sys.exit("%s: echo differs" % what)
    s.close()

# 1. full agreement; a ticket comes back
kp = mpskex.Keypair()
s, caps, body = hello_ack(mpskex.hello(1, kp.pub, caps=T))
if caps & R or not caps & T or len(body) != 68:
    sys.exit("full: HELLO_ACK caps %#x, %d-byte body (want TICKET, 68)" % (caps, len(body)))
keys = kp.client_keys(mpskex.hello_pub(body))
ticket, life = body[48:64], struct.unpack(">I", body[64:68])[0]
if not 1 <= life <= 604800 or b"\n" in ticket or b"\r" in ticket:
    sys.exit("full: ticket lifetime %d or a CR/LF in the ticket" % life)
echo(s, keys, b"full agreement", "full")

# 2. resumed with it: the server's nonce in pub, keys from the ticket's rms
kp2 = mpskex.Keypair()
nonce_c = noline(16)
h2 = mpskex.hello(1, kp2.pub, caps=T | R, tail=ticket + nonce_c)
s, caps, body = hello_ack(h2)
if not caps & R:
    sys.exit("resumed: HELLO_ACK caps %#x without RESUME" % caps)
rkeys = mpskex.schedule_resume(keys["rms"], kp2.pub, ticket, nonce_c, mpskex.hello_pub(body))
echo(s, rkeys, b"resumed", "resumed")

# 3. the same HELLO again (a replay): the ticket is used up
s, caps, body = hello_ack(h2)
if caps & R:
    sys.exit("replay: the server resumed a used ticket")
k3 = kp2.client_keys(mpskex.hello_pub(body))
k3["idsn_c"] = mpskex.idsn_c(nonce_c)
echo(s, k3, b"replayed hello", "replay")

# 4. a ticket the server never issued
kp4 = mpskex.Keypair()
n4 = noline(16)
s, caps, body = hello_ack(mpskex.hello(1, kp4.pub, caps=T | R, tail=noline(16) + n4))
if caps & R:
    sys.exit("forged: the server resumed a ticket it never issued")
k4 = kp4.client_keys(mpskex.hello_pub(body))
k4["idsn_c"] = mpskex.idsn_c(n4)
echo(s, k4, b"forged ticket", "forged")
print("ok")
PYEOF
	next_port
	sm=$(counters_mark "$NS_S")
	bg_start echo shim "$NS_S" "$PY" "$T_DIR/echo.py" "$S4" "$PORT" 4
	E=$BG_PID
	wait_listen "$NS_S" "$PORT"
	out=$(cd "$T_DIR" && nsrun plain "$NS_C" "$PY" "$T_DIR/wire.py" "$S4" "$PORT" 2>&1) ||
		fail "the hand-made client: $out"
	[ "$out" = ok ] || fail "the hand-made client: $out"
	bg_wait "$E" 30 || fail "the echo server did not serve its 4 connections"
	s4=$(counters_since "$NS_S" "$sm")
	check "server (wire)" "$s4" multipath_connections=4 connections_resumed=1 resumptions_missed=2
	log "the engine's resumed keys match Python's; a replayed and a forged ticket got a full agreement"
fi

if selected off; then
	step "MPTCPSHIM_RESUME=0 on both ends: 3 connections, none resumed"
	T_ENV+=(MPTCPSHIM_RESUME=0)
	next_port
	rm -f "$T_DIR/go" "$T_DIR/go.wait"
	cc=$(counters_mark "$NS_C")
	sm=$(counters_mark "$NS_S")
	bg_start srv3 shim "$NS_S" "$PY" "$T_DIR/srv.py" "$S4" "$PORT" 3
	S3=$BG_PID
	wait_listen "$NS_S" "$PORT"
	out=$(nsrun shim "$NS_C" "$PY" "$T_DIR/cli.py" "$S4" "$PORT" 3 99 "$T_DIR/go") ||
		fail "the client failed: $out"
	[ "$out" = ok ] || fail "client: $out"
	bg_wait "$S3" 30 || fail "the server did not serve its 3 connections"
	s3=$(counters_since "$NS_S" "$sm")
	c=$(counters_since "$NS_C" "$cc")
	check "client (off)" "$c" multipath_connections=3 connections_resumed=0 resumptions_missed=0 \
		subflows_joined=3
	check "server (off)" "$s3" multipath_connections=3 connections_resumed=0 resumptions_missed=0 \
		subflows_joined=3 joins_rejected=0
	log "3 connections byte-exact, none resumed, every join done"
fi
log "PASS"
