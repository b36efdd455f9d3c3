#!/bin/bash
# badinput.sh: a shim server fed malformed protocol input by a hand-made
# client (python, no shim) must, for each bad connection:
#   - close it, log the reason with the peer's address,
#   - give the server app an error (ECONNRESET), never a clean EOF that
#     could pass for a complete stream, and never a shim byte (at most the
#     one valid DATA payload sent before the bad frame),
#   - leave every other connection alone: a byte-exact shim/shim transfer
#     runs through the same server process meanwhile.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

tb_init badinput
require_shim
tb_setup 1
D=$T_DIR

# The server app: accepts forever; per connection, reads to EOF or error
# and records "<bytes> <sha256> EOF" or "<bytes> <sha256> ERR <errno name>"
# in its own file, named after the connection's first byte ("n<N>" order).
cat >"$D/server.py" <<'PY'
import errno, hashlib, os, socket, sys, threading
host, port, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
ls = socket.socket(fam, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port)); ls.listen(64)
n = 0
def serve(c, i):
    h = hashlib.sha256(); total = 0; how = "EOF"
    try:
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            h.update(b); total += len(b)
    except OSError as e:
        how = "ERR " + errno.errorcode.get(e.errno, str(e.errno))
    with open(os.path.join(outdir, "conn%d" % i), "w") as f:
        f.write("%d %s %s\n" % (total, h.hexdigest(), how))
    c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c, n), daemon=True).start()
    n += 1
PY

# The bad client: speaks just enough mptcpshim to get past the handshake,
# then sends one kind of garbage.
cp "$top_srcdir/tests/progs/mpskex.py" "$D/"
cat >"$D/badclient.py" <<'PY'
import hashlib, os, socket, struct, sys, time
import mpskex
host, port, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
MAGIC = b"MPTCPSHM"
hello = mpskex.hello
def data(dsn, payload, flags=0, ack=0, wnd=0):
    body = struct.pack(">QQI", dsn, ack, wnd) + payload
    return struct.pack(">BBH", 3, flags, len(body)) + body
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
s = socket.create_connection((host, port))
kp = mpskex.Keypair()
first = mpskex.idsn_c(kp.pub) + 1
if case == "badhello":
    s.sendall(hello(1, kp.pub, version=0))
else:
    s.sendall(hello(1, kp.pub))
    reply = b""
    while len(reply) < 52:
        b = s.recv(52 - len(reply))
        if not b:
            sys.exit("server closed during the handshake")
        reply += b
    assert reply[:12] == mpskex.hello_prefix(2), reply
    keys = kp.client_keys(mpskex.hello_pub(reply[4:]))
    good = data(first, b"partial app data")
    if case == "badtype":
        s.sendall(good + b"\x7f\x00\x00\x00")
    elif case == "badflags":
        s.sendall(good + data(first + 16, b"x", flags=0x80))
    elif case == "joinframe":
        # a JOIN belongs only at the start of a new subflow
        s.sendall(good + struct.pack(">BBHIIBBH", 6, 0, 12, 1, 2, 0, 0, 0))
    elif case == "badack":
        # ACK a megabyte the server never sent
        s.sendall(good + struct.pack(">BBHQI", 4, 0, 12, keys["idsn_s"] + 1 + (1 << 20), 0))
    elif case == "window":
        # a frame ending past the window the HELLO_ACK announced
        swnd = struct.unpack(">I", reply[16:20])[0]
        s.sendall(good + data(first + swnd - 8, b"y" * 64))
    else:
        sys.exit("unknown case")
# Wait for the server's verdict: it must reset or close us.
s.settimeout(20)
try:
    while s.recv(65536):
        pass
except OSError:
    pass
PY

next_port
srvport=$PORT
mkdir -p "$D/out"
bg_start server shim "$NS_S" /usr/bin/python3 "$D/server.py" "$S4" "$srvport" "$D/out"
spid=$BG_PID
wait_listen "$NS_S" "$srvport"

# A good shim client runs a long transfer through the same server meanwhile.
mkrand "$D/good.in" $((60 * 1024 * 1024))
bg_start goodclient shim "$NS_C" socat -b 65536 -u "OPEN:$D/good.in" "TCP4:$S4:$srvport"
gpid=$BG_PID

cases="badhello badtype badflags joinframe badack window"
for c in $cases; do
	step "malformed input: $c"
	nsrun plain "$NS_C" /usr/bin/python3 "$D/badclient.py" "$S4" "$srvport" "$c" ||
		fail "bad client ($c) failed: the server did not answer as expected"
done
bg_wait "$gpid" 120 || fail "the good client's transfer failed during the bad input"

# Every connection has reported.
ncases=$(($(echo "$cases" | wc -w) + 1))
for _ in $(seq 1 100); do
	[ "$(find "$D/out" -name 'conn*' | wc -l)" -ge "$ncases" ] && break
	sleep 0.1
done
[ "$(find "$D/out" -name 'conn*' | wc -l)" -eq "$ncases" ] ||
	fail "expected $ncases connection reports, got $(find "$D/out" -name 'conn*' | wc -l)"

want="$(sha256sum <"$D/good.in" | cut -d' ' -f1)"
good=0
for f in "$D"/out/conn*; do
	read -r bytes sha how rest <"$f"
	if [ "$sha" = "$want" ]; then
		[ "$how" = EOF ] || fail "good transfer ended with $how $rest"
		good=$((good + 1))
		continue
	fi
	case "$how $rest" in
	"ERR ECONNRESET") ;;
	*) fail "a malformed connection ended with '$how $rest' after $bytes bytes: the app must see an error" ;;
	esac
	# The app saw at most the one valid DATA payload, never a shim byte.
	case $bytes in
	0 | 16) ;;
	*) fail "a malformed connection delivered $bytes bytes to the app" ;;
	esac
done
[ "$good" = 1 ] || fail "the good transfer did not arrive byte-exact"

# The reasons are logged with the peer's address.
slog="$T_DIR/shim-$NS_S.log"
for pat in "negotiation: HELLO: version 0" "protocol: unknown frame type" \
	"protocol: DATA: unknown flag bits" "protocol: unexpected JOIN frame" \
	"protocol: data ACK beyond what was sent" "protocol: peer exceeded the receive window"; do
	grep -q "conn $C4:[0-9]*: aborting: $pat" "$slog" ||
		fail "no log line 'conn $C4:PORT: aborting: $pat' in the server's shim log"
done
kill "$spid" 2>/dev/null || true
log "PASS"
