#!/bin/bash
# stale.sh: healthy subflows are not declared stale (false blackholes).
# Both ends under the shim over two healthy unshaped paths (topology A, IPv4).
#   idle-burst  a keep-alive client idles longer than any stale threshold
#               (IDLE s, ROUNDS times), then sends a small request (a 2-byte
#               "ping", as mosquitto's PINGREQ) and a burst each way
#               (BURST bytes, sha256 checked both ways): no stale event in
#               either process's counters.  Measuring a subflow's wait from its last ACK
#               (before the idle spell) flagged the first write after it.
#   many        nginx (1 worker) and wrk with CONNS keep-alive connections
#               for SECS s, small and 64 KiB responses: stale events are
#               counted on both ends (the stale_events counter of wrk and
#               of the nginx worker, written when each exits) and must stay within MAX_MANY in total: by default 1% of the
#               4 x CONNS subflows (2 per connection on each end).  Seen on a
#               2-core host at load average ~15-20: 0 in 5 runs of 100
#               connections, 5 with 200 (lone first segments of fresh joined
#               subflows unacknowledged for ~280 ms: a starved host); the
#               code this replaced: 67 with 100.
# Harness self-test without the shim: NOSHIM=1 bash stale.sh
# Sub-cases (T_ONLY=REGEX): idle-burst many
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${IDLE:=0.7}"
: "${ROUNDS:=6}"
: "${BURST:=$((2 * 1024 * 1024))}"
: "${CONNS:=100}"
: "${SECS:=6}"
: "${MAX_MANY:=$((CONNS * 4 / 100))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=180}"
: "${T_CMD_TIMEOUT:=60}"

tb_init stale
require_shim
tb_topo A 2
D=$T_DIR

# stale_events NS MARK: stale events counted (stale_events, every one, not
# only a subflow's first) by NS's shim processes that finished since MARK
# (counters_mark): the one process each side runs here.
stale_events() {
	shim_enabled || {
		echo 0
		return
	}
	counters_since "$1" "$2" | counter stale_events
}

cat >"$D/ka.py" <<'PYEOF'
import hashlib, socket, sys, time

def pattern(n):
    blk = bytes(range(256)) * 256
    out = bytearray()
    while len(out) < n:
        out += blk
    return bytes(out[:n])

def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        b = s.recv(min(65536, n - len(buf)))
        if not b:
            raise SystemExit("EOF after %d of %d bytes" % (len(buf), n))
        buf += b
    return bytes(buf)

def recv_line(s):
    buf = bytearray()
    while not buf.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            return None
        buf += b
    return buf.decode().strip()

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "server":
    ls = socket.socket(socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(1)
    s, _ = ls.accept()
    while True:
        line = recv_line(s)
        if line is None:
            break
        op, n = line.split()
        n = int(n)
        if op == "get":          # reply n pattern bytes
            s.sendall(pattern(n))
        else:                    # "put": n bytes follow, reply their sha256
            s.sendall((hashlib.sha256(recv_exact(s, n)).hexdigest() + "\n").encode())
    s.close()
else:
    idle, rounds, burst = float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    want = hashlib.sha256(pattern(burst)).hexdigest()
    for r in range(rounds):
        time.sleep(idle)
        s.sendall(b"get 2\n")                      # the "ping"
        assert recv_exact(s, 2) == pattern(2)
        time.sleep(idle)
        s.sendall(b"get %d\n" % burst)             # a burst down
        got = hashlib.sha256(recv_exact(s, burst)).hexdigest()
        if got != want:
            raise SystemExit("round %d: download sha256 %s, want %s" % (r, got, want))
        time.sleep(idle)
        s.sendall(b"put %d\n" % burst + pattern(burst))   # and up
        got = recv_line(s)
        if got != want:
            raise SystemExit("round %d: upload sha256 %s, want %s" % (r, got, want))
    s.close()
    print("ok %d rounds" % rounds)
PYEOF

if selected idle-burst; then
	step "idle-burst: $ROUNDS rounds of ${IDLE}s idle, a 2-byte ping, a $BURST-byte burst each way"
	next_port
	c0=$(counters_mark "$NS_C")
	s0=$(counters_mark "$NS_S")
	p2=$(path_bytes 2)
	bg_start ka-srv shim "$NS_S" "$PY" "$D/ka.py" server "$SRV4" "$PORT"
	kpid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	nsrun shim "$NS_C" "$PY" "$D/ka.py" client "$SRV4" "$PORT" "$IDLE" "$ROUNDS" "$BURST" ||
		fail "idle-burst: client failed"
	bg_wait "$kpid" 20 || fail "idle-burst: server failed"
	p2=$(($(path_bytes 2) - p2))
	if shim_enabled; then
		[ "$p2" -gt $((BURST / 4)) ] ||
			fail "idle-burst: path 2 carried only $p2 B: not multipath, nothing tested"
	fi
	c1=$(stale_events "$NS_C" "$c0")
	s1=$(stale_events "$NS_S" "$s0")
	log "idle-burst: stale events: client $c1, server $s1 (path 2 carried $p2 B)"
	if [ "$c1" -ne 0 ] || [ "$s1" -ne 0 ]; then
		grep -hE 'stale \(' "$T_DIR"/shim-*.log | head -5 >&2 || true
		fail "idle-burst: $((c1 + s1)) false stale event(s) on healthy paths"
	fi
fi

if selected many; then
	command -v wrk >/dev/null || fail "wrk not installed (scripts/install-deps.sh installs it)"
	step "many: nginx (1 worker) and wrk with $CONNS keep-alive connections for ${SECS}s"
	mkdir -p "$D/www"
	mkrand "$D/www/small.bin" 4096
	mkrand "$D/www/big.bin" 65536
	next_port
	nginx_start "$PORT" "$D/www" 1
	c0=$(counters_mark "$NS_C")
	s0=$(counters_mark "$NS_S")
	p2=$(path_bytes 2)
	cat >"$D/mix.lua" <<'LUAEOF'
local n = 0
request = function()
	n = n + 1
	if n % 4 == 0 then return wrk.format(nil, "/big.bin") end
	return wrk.format(nil, "/small.bin")
end
LUAEOF
	nsrun shim "$NS_C" wrk -t 2 -c "$CONNS" -d "${SECS}s" -s "$D/mix.lua" \
		"http://$SRV4:$PORT/" >"$D/wrk.out" 2>&1 || {
		cat "$D/wrk.out" >&2
		fail "many: wrk failed"
	}
	sed 's/^/    /' "$D/wrk.out" >&2
	grep -q 'Non-2xx' "$D/wrk.out" && fail "many: nginx answered errors"
	reqs=$(awk '/requests in/ { print $1 }' "$D/wrk.out")
	[ "${reqs:-0}" -gt "$CONNS" ] || fail "many: only ${reqs:-0} requests"
	nginx_check_stop
	sleep 0.5
	p2=$(($(path_bytes 2) - p2))
	if shim_enabled; then
		[ "$p2" -gt 1048576 ] || fail "many: path 2 carried only $p2 B: not multipath, nothing tested"
	fi
	c1=$(stale_events "$NS_C" "$c0")
	s1=$(stale_events "$NS_S" "$s0")
	# accept queues that overflowed drop handshakes: the client's first
	# data then really goes unacknowledged until the SYN-ACK is resent
	ovf=$(ip netns exec "$NS_S" nstat -az TcpExtListenOverflows TcpExtListenDrops 2>/dev/null |
		awk '/Listen/ { printf "%s=%s ", $1, $2 }')
	log "many: server ${ovf:-(no nstat)}"
	log "many: $reqs requests; stale events: client $c1, server $s1 (bound $MAX_MANY; path 2 carried $p2 B)"
	[ $((c1 + s1)) -le "$MAX_MANY" ] ||
		fail "many: $((c1 + s1)) stale events on healthy paths (bound $MAX_MANY)"
fi

log "PASS"
