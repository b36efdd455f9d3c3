#!/bin/bash
# bannerwin.sh: the server's banner window towards a client host known to
# run the shim (issue 12; docs/DESIGN.md section 5, "Server").
# A server that speaks first (a banner, as FTP, SMTP, SSH) holds its bytes
# for the banner window, 4*RTT clamped to [25 ms, 250 ms], waiting for the
# client's HELLO; on a loaded machine the client's shim thread may send it
# later than 25 ms (ftp.sh and privdrop.sh fell back to plain so).  A host
# that has sent this server a HELLO lately gets at least 250 ms.
# Made deterministic without load: nft in the client's namespace drops the
# HELLO of the second connection once (its first packet with payload), and
# the route's rto_min (60 ms, tail loss probes off) makes TCP send it again
# about 60 ms later: after 25 ms, well within 250 ms.
#   first connection (port P1): on time, multipath; the server notes the host
#   second connection (port P2): HELLO 60 ms late, must still be multipath
#   third connection (port P3), to a server process started after the first
#   one learnt the host (not its descendant): its HELLO 60 ms late too; the
#   first process told the user's later server processes through the
#   shared peer file (MPTCPSHIM_PEER_CACHE), so it is multipath too
# Both connections check the banner and an echoed payload byte for byte; the
# client's counters must say 2 multipath connections and no fallback.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

export MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=90}"
: "${T_CMD_TIMEOUT:=30}"
tb_init bannerwin
require_shim
shim_enabled || skip "the banner window is the shim's (NOSHIM run)"
command -v nft >/dev/null || fail "nft not installed"
tb_topo A 1 100

next_port
P1=$PORT
next_port
P2=$PORT
next_port
P3=$PORT

cat >"$T_DIR/bsrv.py" <<'PYEOF'
import socket, sys, threading
host, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]

def serve(c):
    with c:
        c.sendall(b"220 banner server ready\r\n")  # speaks first
        f = c.makefile("rb")
        line = f.readline()
        c.sendall(b"echo " + line)

def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(8)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()

for p in ports[1:]:
    threading.Thread(target=listen, args=(p,), daemon=True).start()
listen(ports[0])
PYEOF

cat >"$T_DIR/bcli.py" <<'PYEOF'
import os, socket, sys
host = sys.argv[1]
for port in [int(p) for p in sys.argv[2:]]:
    s = socket.create_connection((host, port))
    f = s.makefile("rb")
    banner = f.readline()
    assert banner == b"220 banner server ready\r\n", banner
    msg = os.urandom(24).hex().encode() + b"\n"
    s.sendall(msg)
    got = f.readline()
    assert got == b"echo " + msg, (got, msg)
    s.close()
print("ok")
PYEOF

bg_start bsrv shim "$NS_S" "$PY" "$T_DIR/bsrv.py" "$SRV4" "$P1" "$P2"
wait_listen "$NS_S" "$P1"
wait_listen "$NS_S" "$P2"

# The second connection's HELLO (its first packet with payload) is dropped
# once; TCP sends it again after rto_min.
ip netns exec "$NS_C" nft -f - <<EOF || fail "nft rule"
table inet bannerwin {
	set seen {
		type ipv4_addr . inet_service
	}
	chain out {
		type filter hook output priority 0;
		tcp dport { $P2, $P3 } ip length > 80 ip saddr . tcp sport @seen accept
		tcp dport { $P2, $P3 } ip length > 80 add @seen { ip saddr . tcp sport } counter drop
	}
}
EOF
ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_early_retrans=0 || fail "tail loss probes off"
r=$(ip -n "$NS_C" -4 route get "$SRV4" | head -1)
dev=$(printf '%s\n' "$r" | grep -oE 'dev [^ ]+' | cut -d' ' -f2)
via=$(printf '%s\n' "$r" | grep -oE 'via [^ ]+' | cut -d' ' -f2 || true)
ip -n "$NS_C" route add "$SRV4/32" dev "$dev" ${via:+via "$via"} rto_min 60ms ||
	fail "route with rto_min"

step "two connections to a banner server; the second one's HELLO comes about 60 ms late"
c0=$(counters_mark "$NS_C")
sl="$T_DIR/shim-$NS_S.log"
touch "$sl"
n0=$(wc -l <"$sl")
T_ENV=("MPTCPSHIM_PEER_CACHE=$T_DIR/peers")
got=$(nsrun shim "$NS_C" "$PY" "$T_DIR/bcli.py" "$SRV4" "$P1" "$P2") || fail "client failed: $got"
T_ENV=()
[ "$got" = ok ] || fail "client said '$got'"
dropped=$(ip netns exec "$NS_C" nft list table inet bannerwin | grep -oE 'packets [0-9]+' | cut -d' ' -f2)
log "first packets with payload dropped by nft: $dropped"
cnt=$(counters_since "$NS_C" "$c0")
conns=$(printf '%s\n' "$cnt" | counter connections)
mp=$(printf '%s\n' "$cnt" | counter multipath_connections)
fb=$(printf '%s\n' "$cnt" | counter 'fallbacks_[a-z_]+')
log "client's counters: connections $conns, multipath $mp, fallbacks $fb"
if tail -n +"$((n0 + 1))" "$sl" | grep -E 'after the banner window|banner window expired'; then
	fail "the server released its banner before the known client's late HELLO (above)"
fi
[ "$conns" = 2 ] || fail "the client counted $conns connections, want 2"
[ "$mp" = 2 ] || fail "$mp of 2 connections negotiated multipath ($fb fallbacks)"
[ "$fb" = 0 ] || fail "$fb fallbacks, want none"
[ "$dropped" = 1 ] || fail "nft dropped $dropped packets, want 1 (the second connection's HELLO)"
log "ok: the late HELLO to the server process that knew the host"

step "a server process started later (not forked from the first): its first connection's HELLO 60 ms late"
bg_start bsrv2 shim "$NS_S" "$PY" "$T_DIR/bsrv.py" "$SRV4" "$P3"
wait_listen "$NS_S" "$P3"
c0=$(counters_mark "$NS_C")
n0=$(wc -l <"$sl")
T_ENV=("MPTCPSHIM_PEER_CACHE=$T_DIR/peers")
got=$(nsrun shim "$NS_C" "$PY" "$T_DIR/bcli.py" "$SRV4" "$P3") || fail "client (P3) failed: $got"
T_ENV=()
[ "$got" = ok ] || fail "client (P3) said '$got'"
dropped=$(ip netns exec "$NS_C" nft list table inet bannerwin | grep -oE 'packets [0-9]+' | cut -d' ' -f2)
cnt=$(counters_since "$NS_C" "$c0")
mp=$(printf '%s
' "$cnt" | counter multipath_connections)
fb=$(printf '%s
' "$cnt" | counter 'fallbacks_[a-z_]+')
log "client's counters (P3): multipath $mp, fallbacks $fb; dropped so far $dropped"
[ "$dropped" = 2 ] || fail "nft dropped $dropped packets in all, want 2 (P3's HELLO too)"
if tail -n +"$((n0 + 1))" "$sl" | grep -E 'after the banner window|banner window expired'; then
	fail "the later server process released its banner before the known client's late HELLO (above)"
fi
[ "$mp" = 1 ] && [ "$fb" = 0 ] ||
	fail "the later server process: $mp multipath, $fb fallbacks (want 1 and 0)"
log "ok: the later server process knew the host from the shared peer file"
exit 0
