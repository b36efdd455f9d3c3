#!/bin/bash
# joinattack.sh: a shim echo server (python, MPTCPSHIM_LOG=info) against a
# hand-written client (python, no shim) that speaks the protocol itself:
# HELLO/HELLO_ACK, reads the ADD_ADDR for the join port, then attacks the
# join listener:
#   badtoken  JOIN with an unknown token                    -> closed
#   badok     correct JOIN, wrong HMAC in JOIN_OK           -> closed
#   malformed JOIN with an unknown jflags bit               -> closed
#   silent    connect to the join port and say nothing      -> closed after
#             the join timeout (IPv4 only: it takes 10 s)
#   good      a valid join (the JOIN_ACK's HMAC is checked too) -> accepted;
#             a DATA frame sent on it comes back echoed
#   replay    the good join's exact bytes (JOIN + JOIN_OK) on a new
#             connection -> rejected (the server's fresh nonce makes the
#             old HMAC wrong)
#   good2     a valid join whose JOIN_OK and first DATA frame arrive in one
#             segment -> accepted, the data echoed
# Each rejection is logged at warn with the attacker's address and port and
# the reason; the accepted join is logged "joined" with its address.  The
# original connection keeps working throughout: afterwards data sent on the
# first subflow comes back byte-exact, and the connection closes gracefully
# with DATA_FINs both ways (the server logs "closed gracefully").
# IPv4 and IPv6 (Sub-cases for T_ONLY: v4 v6).  Needs the shim: the
# server must speak the protocol (NOSHIM=1 runs only a plain echo check).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=180}"
: "${T_CMD_TIMEOUT:=60}"

tb_init joinattack
require_shim
tb_topo A 1
D=$T_DIR

# The server app: echo every connection until EOF, then close.
cat >"$D/echo.py" <<'PY'
import socket, sys, threading
host, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
ls = socket.socket(fam, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port)); ls.listen(16)
def serve(c):
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
    except OSError as e:
        sys.stderr.write("echo: %r\n" % e)
    c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

# The attacker.  Prints "CASE LOCALPORT [detail]" lines on stdout for the
# log checks; exits non-zero (with a message) on any unexpected behaviour.
# the HELLO version 2 key exchange (X25519) in python, beside attack.py
cp "$top_srcdir/tests/progs/mpskex.py" "$D/"
cat >"$D/attack.py" <<'PY'
import hashlib, hmac, os, select, socket, struct, sys, threading, time
import mpskex
host, port, withsilent = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
MAGIC = b"MPTCPSHM"
T_HELLO, T_HELLO_ACK, T_DATA, T_ACK, T_CLOSE = 1, 2, 3, 4, 5
T_JOIN, T_JOIN_ACK, T_JOIN_OK, T_ADD_ADDR = 6, 7, 8, 9
F_ACK, F_FIN = 1, 2
WND = 1 << 20

def die(msg):
    sys.stderr.write("attack: FAIL: %s\n" % msg)
    sys.stderr.flush()
    os._exit(1)

def say(*a):
    print(*a); sys.stdout.flush()

def frame(t, body, flags=0):
    return struct.pack(">BBH", t, flags, len(body)) + body

def sha(key):
    return hashlib.sha256(key.to_bytes(8, "big")).digest()
def idsn(key):
    return int.from_bytes(sha(key)[-8:], "big")
def token(key):
    return int.from_bytes(sha(key)[:4], "big")
def k8(k):
    return k.to_bytes(8, "big")
def n4(n):
    return n.to_bytes(4, "big")

def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise EOFError("EOF after %d of %d bytes" % (len(buf), n))
        buf += b
    return buf

def read_frame(s):
    t, fl, ln = struct.unpack(">BBH", recv_exact(s, 4))
    return t, fl, recv_exact(s, ln) if ln else b""

def expect_closed(s, what, secs=5.0):
    # the server must close (FIN or RST) this subflow, sending nothing more
    s.settimeout(secs)
    try:
        b = s.recv(4096)
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        die("%s: the server kept the subflow open for %.0f s" % (what, secs))
    if b:
        die("%s: the server sent %r instead of closing" % (what, b[:40]))
    return "closed"

fam = socket.AF_INET6 if ":" in host else socket.AF_INET
def sub(addr, p):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((addr, p))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s
def lport(s):
    return s.getsockname()[1]

# --- the MP connection ---------------------------------------------------------
kp = mpskex.Keypair()
main = sub(host, port)
main.sendall(mpskex.hello(T_HELLO, kp.pub, WND))
t, fl, body = read_frame(main)
if t != T_HELLO_ACK or body[:8] != MAGIC:
    die("no HELLO_ACK: type %d %r" % (t, body[:12]))
keys = kp.client_keys(mpskex.hello_pub(body))
tok_s = keys["token_s"]
say("handshake", lport(main), "token %08x" % tok_s)

# state of the data level
snd = keys["idsn_c"] + 1    # our next DSN
rcv = keys["idsn_s"] + 1    # the server's next in-order DSN
ooo = {}                    # dsn -> payload, ahead of rcv
got = bytearray()           # the reassembled echo
server_fin = None
subs = [main]               # subflows that carry data
announced = []

def on_frame(t, fl, body):
    global rcv, server_fin
    if t == T_DATA:
        dsn = struct.unpack(">Q", body[:8])[0]
        pl = body[20:]
        if pl:
            ooo[dsn] = pl
        if fl & F_FIN:
            server_fin = dsn + len(pl)
        progressed = True
        while progressed:
            progressed = False
            for d in sorted(ooo):
                pl = ooo[d]
                if d + len(pl) <= rcv:
                    del ooo[d]; progressed = True
                elif d <= rcv:
                    got.extend(pl[rcv - d:]); rcv = d + len(pl)
                    del ooo[d]; progressed = True
    elif t == T_ADD_ADDR:
        aid, af, p = struct.unpack(">BBH", body[:4])
        a = socket.inet_ntop(socket.AF_INET if af == 4 else socket.AF_INET6, body[4:])
        announced.append((aid, af, a, p))
    elif t == T_CLOSE:
        die("the server aborted the connection (CLOSE frame)")
    # ACK, PRIO: nothing to do

class Reader:
    def __init__(self):
        self.buf = {}
    def pump(self, timeout):
        r, _, _ = select.select(subs, [], [], timeout)
        for s in r:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                b = b""
            if not b:
                die("subflow from port %d closed by the server" % lport(s))
            buf = self.buf.get(s, b"") + b
            while len(buf) >= 4:
                t, fl, ln = struct.unpack(">BBH", buf[:4])
                if len(buf) < 4 + ln:
                    break
                on_frame(t, fl, buf[4:4 + ln])
                buf = buf[4 + ln:]
            self.buf[s] = buf
rd = Reader()

def ack_frame():
    return frame(T_ACK, struct.pack(">QI", rcv, WND))

def data_frame(payload, fin=False):
    global snd
    f = frame(T_DATA, struct.pack(">QQI", snd, rcv, WND) + payload, F_ACK | (F_FIN if fin else 0))
    snd += len(payload) + (1 if fin else 0)
    return f

def echo_check(s, payload, what, prefix=b""):
    # PREFIX goes out in the same write as the first DATA frame
    start = len(got)
    for i in range(0, len(payload), 16384):
        s.sendall(prefix + data_frame(payload[i:i + 16384]))
        prefix = b""
    end = time.monotonic() + 15
    while len(got) < start + len(payload):
        if time.monotonic() > end:
            die("%s: echo incomplete: %d of %d bytes" % (what, len(got) - start, len(payload)))
        rd.pump(0.5)
        main.sendall(ack_frame())
    if bytes(got[start:start + len(payload)]) != payload:
        die("%s: echo differs" % what)
    if len(got) != start + len(payload):
        die("%s: %d stray bytes" % (what, len(got) - start - len(payload)))
    say("echo", what, len(payload))

# The ADD_ADDR(s) follow the handshake.
end = time.monotonic() + 5
while not announced and time.monotonic() < end:
    rd.pump(0.2)
if not announced:
    die("no ADD_ADDR from the server within 5 s")
aid, af, jaddr, jport = [a for a in announced if a[1] == (6 if fam == socket.AF_INET6 else 4)][0]
say("add_addr", "%s %d id %d" % (jaddr, jport, aid))

# Some data first: the connection works before the attacks.
echo_check(main, os.urandom(3000), "before")

def join_bytes(tok, nonce, flags=0, aid=1):
    return frame(T_JOIN, struct.pack(">IIBBH", tok, nonce, aid, flags, 0))

def join_ack(s, rc, what):
    t, fl, body = read_frame(s)
    if t != T_JOIN_ACK or len(body) != 12:
        die("%s: expected JOIN_ACK, got type %d len %d" % (what, t, len(body)))
    rs, mac = struct.unpack(">IQ", body)
    if mac != mpskex.join_ack_hmac(keys, rs, rc):
        die("%s: the server's JOIN_ACK HMAC is wrong" % what)
    return rs

def join_ok(rc, rs):
    return frame(T_JOIN_OK, mpskex.join_ok_hmac(keys, rc, rs))

# silent: a connection to the join port that never speaks (timed out later)
silent = None
if withsilent:
    silent = sub(jaddr, jport)
    say("silent", lport(silent))

# badtoken
s = sub(jaddr, jport)
bad = tok_s ^ 0x5a5a5a5a
s.sendall(join_bytes(bad, 0x01020304))
say("badtoken", lport(s), "%08x" % bad, expect_closed(s, "badtoken"))
s.close()

# badok: a correct JOIN, then a JOIN_OK with one bit flipped
s = sub(jaddr, jport)
rc = int.from_bytes(os.urandom(4), "big")
s.sendall(join_bytes(tok_s, rc))
rs = join_ack(s, rc, "badok")
ok = bytearray(join_ok(rc, rs))
ok[10] ^= 0x01
s.sendall(bytes(ok))
say("badok", lport(s), expect_closed(s, "badok"))
s.close()

# malformed: an undefined jflags bit
s = sub(jaddr, jport)
s.sendall(join_bytes(tok_s, 7, flags=0x80))
say("malformed", lport(s), expect_closed(s, "malformed"))
s.close()

# good: a valid join, then data on it, echoed (on any subflow)
g = sub(jaddr, jport)
rc = int.from_bytes(os.urandom(4), "big")
jb = join_bytes(tok_s, rc, aid=2)
g.sendall(jb)
rs = join_ack(g, rc, "good")
okb = join_ok(rc, rs)
g.sendall(okb)
say("good", lport(g))
subs.append(g)
time.sleep(0.2)
echo_check(g, os.urandom(20000), "joined")

# replay the good join's bytes on a new connection
s = sub(jaddr, jport)
s.sendall(jb)
t, fl, body = read_frame(s)     # the server answers the (valid) JOIN...
if t != T_JOIN_ACK:
    die("replay: expected JOIN_ACK, got type %d" % t)
if struct.unpack(">I", body[:4])[0] == rs:
    die("replay: the server reused its nonce")
s.sendall(okb)                  # ...but the old JOIN_OK no longer matches
say("replay", lport(s), expect_closed(s, "replay"))
s.close()

# good2: a valid join whose JOIN_OK shares one write (one segment) with
# the first DATA frame on the new subflow
g2 = sub(jaddr, jport)
rc = int.from_bytes(os.urandom(4), "big")
g2.sendall(join_bytes(tok_s, rc, aid=3))
rs = join_ack(g2, rc, "good2")
say("good2", lport(g2))
subs.append(g2)
echo_check(g2, os.urandom(5000), "joined-same-segment", prefix=join_ok(rc, rs))

if silent is not None:
    say("silent-result", lport(silent), expect_closed(silent, "silent", 20))
    silent.close()

# The first subflow still works, byte-exact.
echo_check(main, os.urandom(200000), "after")

# Graceful end: our DATA_FIN, the echo app closes, the server's DATA_FIN.
main.sendall(data_frame(b"", fin=True))
end = time.monotonic() + 10
while (server_fin is None or rcv < server_fin) and time.monotonic() < end:
    rd.pump(0.2)
if server_fin is None or rcv < server_fin:
    die("no DATA_FIN from the server")
rcv = server_fin + 1
main.sendall(ack_frame())
time.sleep(0.5)
for s in subs:
    s.close()
say("done")
PY

run() {
	local fam=$1 host port silent=0
	selected "v$fam" || return 0
	host=$(srv_addr "$fam")
	local me=${C4[1]}
	if [ "$fam" = 6 ]; then me="\\[${C6[1]}\\]"; fi
	[ "$fam" = 4 ] && silent=1
	step "IPv$fam: join attacks"
	next_port
	port=$PORT
	bg_start "echo$fam" shim "$NS_S" "$PY" "$D/echo.py" "$host" "$port"
	local epid=$BG_PID
	wait_listen "$NS_S" "$port"
	local sl="$T_DIR/shim-$NS_S.log" n0=0
	[ -e "$sl" ] && n0=$(wc -l <"$sl")
	nsrun plain "$NS_C" "$PY" "$D/attack.py" "$host" "$port" "$silent" >"$D/attack$fam.out" ||
		{
			cat "$D/attack$fam.out" >&2
			fail "IPv$fam: the attack client failed"
		}
	cat "$D/attack$fam.out" >&2
	sleep 0.5
	local slog
	slog=$(tail -n +"$((n0 + 1))" "$sl")
	# lp CASE: the local port the attacker used for CASE
	lp() { awk -v c="$1" '$1 == c { print $2; exit }' "$D/attack$fam.out"; }
	want() { # PATTERN WHAT
		printf '%s\n' "$slog" | grep -qE -- "$1" ||
			fail "IPv$fam: $2: no log line matching '$1' in the server's shim log"
	}
	local tok
	tok=$(awk '$1 == "badtoken" { print $3 }' "$D/attack$fam.out")
	want "warn: join from $me:$(lp badtoken) rejected: unknown token $tok\$" "unknown token"
	want "warn: join from $me:$(lp badok) rejected: wrong HMAC in JOIN_OK\$" "wrong JOIN_OK"
	want "warn: join from $me:$(lp malformed) rejected: malformed: " "malformed JOIN"
	want "warn: join from $me:$(lp replay) rejected: wrong HMAC in JOIN_OK\$" "replayed join"
	want "info: conn $me:$(lp handshake): subflow [0-9]+ from $me:$(lp good) joined\$" "the valid join"
	want "info: conn $me:$(lp handshake): subflow [0-9]+ from $me:$(lp good2) joined\$" "the valid join with data"
	if [ "$silent" = 1 ]; then
		want "warn: join from $me:$(lp silent) rejected: join handshake timed out\$" "silent join"
	fi
	want "info: conn $me:$(lp handshake): closed gracefully\$" "graceful close"
	# the rejected ones never became subflows
	local p
	for p in badtoken badok malformed replay; do
		if printf '%s\n' "$slog" | grep -qE "from $me:$(lp $p) joined"; then
			fail "IPv$fam: the $p join was accepted"
		fi
	done
	# nothing else went wrong on the server
	if printf '%s\n' "$slog" | grep -E 'warn|error' | grep -vE 'join from .* rejected: '; then
		fail "IPv$fam: unexpected warnings in the server's shim log"
	fi
	bg_stop "$epid"
}

if ! shim_enabled; then
	# harness self-test: the echo server works as a plain program
	next_port
	bg_start echo plain "$NS_S" "$PY" "$D/echo.py" "$SRV4" "$PORT"
	wait_listen "$NS_S" "$PORT"
	printf 'hello\n' >"$D/h.in"
	nsrun plain "$NS_C" socat -t 2 - "TCP4:$SRV4:$PORT" <"$D/h.in" >"$D/h.out"
	same_file "plain echo" "$D/h.in" "$D/h.out"
	log "NOSHIM: the attacks need a shim server; only the echo harness was checked"
	exit 0
fi

run 4
run 6
