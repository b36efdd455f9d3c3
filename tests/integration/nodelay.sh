#!/bin/bash
# nodelay.sh: short request/response exchanges between a shim client and a
# shim server meet no delayed ACK (issue 15, DESIGN section 2 "Options and
# addresses": every subflow runs with TCP_NODELAY).  Neither app sets
# TCP_NODELAY.  Before, the shim's own small frames (HELLO, HELLO_ACK,
# DATA_ACK) went out under Nagle's algorithm, and the app's answer waited
# behind them for the peer's delayed-ACK timer (40 ms), which a plain TCP
# exchange of the same bytes never meets.  N connections, each with two
# request/response exchanges, both byte-exact; then:
#   - the namespaces' TcpExtDelayedACKs grew by less than N/3 (before:
#     about one per exchange);
#   - every connection negotiated multipath (the server's counter);
#   - getsockopt(TCP_NODELAY) on the apps' descriptors says what the app
#     set: 0 by default on both ends, 1 after the client set it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

tb_init nodelay
require_shim
shim_enabled || skip "tests the shim's subflows (NOSHIM set)"
tb_setup 1
N=20

cat >"$T_DIR/srv.py" <<'PYEOF'
import hashlib, socket, sys
host, port, n, report = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(64)
print("listening", flush=True)
nd = []
for _ in range(n):
    c, _ = ls.accept()
    nd.append(c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    f = c.makefile("rb")
    while True:
        line = f.readline()
        if not line:
            break
        # an answer of 1,000 bytes that depends on the request
        c.sendall(b"".join(hashlib.sha256(line + bytes([i])).digest() for i in range(32))[:1000])
    f.close()
    c.close()
with open(report, "w") as r:
    r.write(" ".join(str(v) for v in nd) + "\n")
PYEOF

cat >"$T_DIR/cli.py" <<'PYEOF'
import hashlib, socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def want(line):
    return b"".join(hashlib.sha256(line + bytes([i])).digest() for i in range(32))[:1000]

nd = []
for k in range(n):
    s = socket.create_connection((host, port))
    if k == n - 1:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    nd.append(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    for j in range(2):
        line = b"request %d.%d\n" % (k, j)
        s.sendall(line)
        got = b""
        while len(got) < 1000:
            b = s.recv(1000 - len(got))
            if not b:
                break
            got += b
        if got != want(line):
            sys.exit("connection %d, exchange %d: answer differs (%d bytes)" % (k, j, len(got)))
    s.close()
print("ok", " ".join(str(v) for v in nd))
PYEOF

# delacks NS: TcpExtDelayedACKs of namespace NS
delacks() {
	ip netns exec "$1" awk '/^TcpExt:/ { if (!n) { for (i = 2; i <= NF; i++) f[$i] = i; n = 1 } else print $f["DelayedACKs"] }' \
		/proc/net/netstat
}

step "$N connections, 2 exchanges each, shim client <-> shim server, no TCP_NODELAY set by either app"
next_port
cm=$(counters_mark "$NS_S")
bg_start srv shim "$NS_S" "$PY" "$T_DIR/srv.py" "$S4" "$PORT" "$N" "$T_DIR/report"
SRV=$BG_PID
wait_listen "$NS_S" "$PORT"
d0=$(($(delacks "$NS_C") + $(delacks "$NS_S")))
out=$(nsrun shim "$NS_C" "$PY" "$T_DIR/cli.py" "$S4" "$PORT" "$N") || fail "the client failed: $out"
d=$(($(delacks "$NS_C") + $(delacks "$NS_S") - d0))
bg_wait "$SRV" 20 || fail "the server did not finish its $N connections"
ndc=$(printf '0 %.0s' $(seq 2 "$N"))1
[ "$out" = "ok $ndc" ] || fail "client: '$out', want 'ok $ndc' (byte-exact answers; TCP_NODELAY read back as set)"
nds=$(printf '0 %.0s' $(seq 2 "$N"))0
[ "$(cat "$T_DIR/report")" = "$nds" ] ||
	fail "server: TCP_NODELAY read '$(cat "$T_DIR/report")' on the accepted descriptors, want 0 (the app set none)"
mp=$(counters_since "$NS_S" "$cm" | counter multipath_connections)
[ "$mp" = "$N" ] || fail "$mp of $N connections negotiated multipath: the test would prove nothing"
log "$N connections, $((2 * N)) exchanges byte-exact; delayed-ACK timers fired $d times"
[ "$d" -lt $((N / 3)) ] ||
	fail "the delayed-ACK timer fired $d times for $((2 * N)) exchanges: the apps' answers waited behind the shim's frames (Nagle)"
log "PASS"
