#!/bin/bash
# chaos.sh: CHAOS_SECS (default 40) seconds of random path events during a
# bidirectional transfer over two shaped paths (topology A), shim on both
# ends.  Events: a path's link down then up, a silent blackhole (nft drop)
# on then off, the client's address on a path renumbered, sometimes both
# paths at once (short outages).  Then:
#   - every byte arrives once, in order, both ways (sha256 of all sent vs
#     all received, per direction); no hang (the transfer ends on its own);
#   - the long-lived server process's memory is back near its baseline: its
#     RSS after the chaos connection and one more plain run is within a
#     bound of the RSS after a warm-up run (no per-connection leak).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${CHAOS_SECS:=40}"
: "${CHAOS_SEED:=$$}"
export T_TIMEOUT=${T_TIMEOUT:-$((CHAOS_SECS + 150))}
export T_CMD_TIMEOUT=${T_CMD_TIMEOUT:-$((CHAOS_SECS + 90))}

tb_init chaos
require_shim
tb_topo A 2 12,12
D=$T_DIR
log "seed $CHAOS_SEED, ${CHAOS_SECS}s of events"

# Both ends send pseudo-random bytes for SECS seconds while receiving the
# other's, then shut down writing; each prints "sent N SHA" and "recv N SHA".
cat >"$D/bidi.py" <<'PY'
import hashlib, os, socket, sys, threading, time
role, host, port, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
out = sys.argv[5]
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
def run(c):
    res = {}
    done = threading.Event()
    def sender():
        h = hashlib.sha256(); n = 0
        rnd = os.urandom(1 << 20)
        end = time.monotonic() + secs
        i = 0
        # the client sends for secs seconds; the server for as long as the
        # client's stream lasts
        while (time.monotonic() < end) if secs > 0 else not done.is_set():
            chunk = rnd[i:i + 65536] or rnd[:65536]
            i = (i + 65536 + 17) % (len(rnd) - 65536)
            c.sendall(chunk); h.update(chunk); n += len(chunk)
        c.shutdown(socket.SHUT_WR)
        res["sent"] = (n, h.hexdigest())
    def receiver():
        h = hashlib.sha256(); n = 0
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            h.update(b); n += len(b)
        done.set()
        res["recv"] = (n, h.hexdigest())
    ts = [threading.Thread(target=sender), threading.Thread(target=receiver)]
    for t in ts: t.start()
    for t in ts: t.join()
    c.close()
    with open(out, "w") as f:
        f.write("sent %d %s\nrecv %d %s\n" % (res["sent"] + res["recv"]))
if role == "server":
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port)); ls.listen(8)
    k = 0
    while True:
        c, _ = ls.accept()
        run(c)
        k += 1
        with open(sys.argv[5] + ".rss%d" % k, "w") as f:
            f.write(open("/proc/self/status").read())
        out = sys.argv[5] + ".%d" % k
else:
    run(socket.create_connection((host, port)))
PY

rss_of() { awk '/^VmRSS:/ {print $2}' "$1"; }

next_port
# Chaos outages last at most ~1.1 s; a short outage timeout lets a server
# connection whose client vanished (its last ACK lost on a dead path) end
# soon, so "memory back to baseline" can be checked after it.
T_ENV=("MPTCPSHIM_OUTAGE_TIMEOUT=6")
bg_start server shim "$NS_S" /usr/bin/python3 "$D/bidi.py" server "$SRV4" "$PORT" 0 "$D/srv"
T_ENV=()
spid=$BG_PID
wait_listen "$NS_S" "$PORT"

# 1. Warm-up connection: the server's baseline memory after one connection.
nsrun shim "$NS_C" /usr/bin/python3 "$D/bidi.py" client "$SRV4" "$PORT" 3 "$D/cli0" ||
	fail "warm-up transfer failed"
for _ in $(seq 1 100); do [ -f "$D/srv.rss1" ] && break; sleep 0.1; done
[ -f "$D/srv.rss1" ] || fail "server did not finish the warm-up connection"
base=$(rss_of "$D/srv.rss1")

# 2. The chaos connection.
bg_start client shim "$NS_C" /usr/bin/python3 "$D/bidi.py" client "$SRV4" "$PORT" "$CHAOS_SECS" "$D/cli1"
cpid=$BG_PID
sleep 2 # connected and flowing before the first event
RANDOM=$CHAOS_SEED
bh_on() { # PATH: drop everything on the client's interface for that path
	ip netns exec "$NS_C" nft add table inet chaos$1 2>/dev/null || true
	ip netns exec "$NS_C" nft "add chain inet chaos$1 o { type filter hook output priority 0; }"
	ip netns exec "$NS_C" nft "add chain inet chaos$1 i { type filter hook input priority 0; }"
	ip netns exec "$NS_C" nft add rule inet chaos"$1" o oifname "${IFC[$1]}" drop
	ip netns exec "$NS_C" nft add rule inet chaos"$1" i iifname "${IFC[$1]}" drop
}
bh_off() { ip netns exec "$NS_C" nft delete table inet chaos"$1" 2>/dev/null || true; }
host=(0 1 1)
renumber() { # PATH: replace the client's address on that path
	local p=$1 old new
	old="198.18.$T_NETNUM.$((16 * p + host[p]))"
	host[p]=$(((host[p] % 10) + 3)) # .3 .. .12, never the server's .2
	new="198.18.$T_NETNUM.$((16 * p + host[p]))"
	# del then add, as a DHCP renumbering does (deleting a primary IPv4
	# address would also drop a secondary added first)
	ip -n "$NS_C" addr del "$old/28" dev "${IFC[$p]}"
	ip -n "$NS_C" addr add "$new/28" dev "${IFC[$p]}"
}
events=0
end=$((SECONDS + CHAOS_SECS - 4))
while [ $SECONDS -lt $end ] && kill -0 "$cpid" 2>/dev/null; do
	p=$((RANDOM % 2 + 1))
	hold=$(printf '0.%d' $((RANDOM % 9 + 2)))
	case $((RANDOM % 7)) in
	0 | 1) ip -n "$NS_C" link set "${IFC[$p]}" down; sleep "$hold"; ip -n "$NS_C" link set "${IFC[$p]}" up; what="link $p down ${hold}s" ;;
	2 | 3) bh_on "$p"; sleep "$hold"; bh_off "$p"; what="blackhole $p ${hold}s" ;;
	4) renumber "$p"; what="renumber $p -> .${host[p]}" ;;
	5) ip -n "$NS_C" link set "${IFC[1]}" down; ip -n "$NS_C" link set "${IFC[2]}" down
	   sleep "$hold"; ip -n "$NS_C" link set "${IFC[1]}" up; ip -n "$NS_C" link set "${IFC[2]}" up
	   what="both links down ${hold}s" ;;
	6) bh_on 1; bh_on 2; sleep "$hold"; bh_off 1; bh_off 2; what="both blackholed ${hold}s" ;;
	esac
	events=$((events + 1))
	echo "$SECONDS $what" >>"$D/events.log"
	sleep "$(printf '0.%d' $((RANDOM % 8 + 2)))"
done
log "$events events (see events.log on failure)"
bh_off 1
bh_off 2
ip -n "$NS_C" link set "${IFC[1]}" up
ip -n "$NS_C" link set "${IFC[2]}" up
if ! bg_wait "$cpid" 120; then
	show_file "$D/events.log" 200
	fail "chaos client failed or did not finish"
fi
for _ in $(seq 1 200); do [ -f "$D/srv.1" ] && break; sleep 0.1; done
[ -f "$D/srv.1" ] || fail "server did not finish the chaos connection"

read -r _ csent csha <"$D/cli1"
read -r _ crecv crsha < <(sed -n 2p "$D/cli1")
read -r _ ssent ssha <"$D/srv.1"
read -r _ srecv srsha < <(sed -n 2p "$D/srv.1")
log "client->server: sent $csent, server got $srecv; server->client: sent $ssent, client got $crecv"
[ "$csent" -gt 0 ] && [ "$ssent" -gt 0 ] || fail "nothing was sent"
[ "$csent" = "$srecv" ] && [ "$csha" = "$srsha" ] ||
	{ show_file "$D/events.log" 200; fail "client->server stream differs: $csent B $csha vs $srecv B $srsha"; }
[ "$ssent" = "$crecv" ] && [ "$ssha" = "$crsha" ] ||
	{ show_file "$D/events.log" 200; fail "server->client stream differs: $ssent B $ssha vs $crecv B $crsha"; }

# 3. One more ordinary connection, then the server's memory vs baseline.
nsrun shim "$NS_C" /usr/bin/python3 "$D/bidi.py" client "$SRV4" "$PORT" 3 "$D/cli2" ||
	fail "post-chaos transfer failed"
for _ in $(seq 1 100); do [ -f "$D/srv.rss3" ] && break; sleep 0.1; done
[ -f "$D/srv.rss3" ] || fail "server did not finish the post-chaos connection"
chaos_rss=$(rss_of "$D/srv.rss2")
# Connections may take up to the outage timeout to end: watch the live RSS.
spy=$(ip netns pids "$NS_S" | while read -r p; do
	grep -q bidi.py "/proc/$p/cmdline" 2>/dev/null && echo "$p"; done | head -n 1)
after=$(rss_of "$D/srv.rss3")
for _ in $(seq 1 40); do
	[ -n "$spy" ] && [ -r "/proc/$spy/status" ] && after=$(rss_of "/proc/$spy/status")
	[ "$after" -le $((base + 12288)) ] && break
	sleep 0.25
done
log "server RSS: ${base} kB after warm-up, ${chaos_rss} kB after chaos, ${after} kB after one more connection"
# Per connection the shim may hold up to ~2 x 4 MiB of buffers while it
# runs; all of it must be gone once the connection is: allow malloc's own
# retention, fail on anything like a connection's worth.
[ "$after" -le $((base + 12288)) ] ||
	fail "server memory grew from ${base} kB to ${after} kB: something outlived its connection"
bg_stop "$spid"
log "PASS"
