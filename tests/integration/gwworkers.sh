#!/bin/bash
# gwworkers.sh: mptcpshim-gateway --workers 2 (issue 14): two processes
# serve one port (SO_REUSEPORT), each a whole gateway with its own shim
# thread and join listener.  gwlib.sh's testbed (a client with two paths,
# the gateway, a plain echo server behind it).  N connections are held
# open through the gateway (tests/progs/gwhold.py under the shim); then:
#   - two worker processes listen on the port, children of one supervisor,
#     and each maps the one shared replay cache (memfd);
#   - the connections are spread: each worker holds destination sockets;
#   - the joins land: each worker holds two subflows (both client paths)
#     for each of its destination sockets (a join sent to the other worker
#     would find no connection with its token there and be refused);
#   - a client's first flight, recorded, then replayed 8 times from new
#     source ports (the kernel hands them to either worker): every replay
#     is refused with nothing sent back, whichever worker got it (with a
#     cache per worker, the other worker would take it);
#   - a worker killed (SIGKILL) is restarted by the supervisor and new
#     connections go through;
#   - SIGTERM to the supervisor and the workers at once (as systemd stops
#     a unit) ends every worker, none restarted; each says how many
#     connections it reset, together at least the ones the worker not
#     killed held.
# With --workers ignored (one process), the first check fails.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
# shellcheck source-path=SCRIPTDIR source=gwlib.sh
. "$(cd "$(dirname "$0")" && pwd)/gwlib.sh"

MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=150}"
: "${T_CMD_TIMEOUT:=60}"
N=${GWWORKERS_N:-40}

tb_init gwworkers
require_shim
shim_enabled || skip "the gateway runs only under the library (NOSHIM set)"
gw_testbed
HOLD="$D/gwhold.py"
cp "$top_srcdir/tests/progs/gwhold.py" "$HOLD"
next_port
EP=$PORT
bg_start echo plain "$NS_P" "$PY" "$HOLD" echo "$PSRV" "$EP"
wait_listen "$NS_P" "$EP"
gw_start --workers 2 --max-per-client 1000 --rate-per-client 0

# the pids listening on the gateway's port (one per worker)
listeners() {
	ip netns exec "$NS_S" ss -ltnpH "sport = :$GP" | grep -o 'pid=[0-9]*' | cut -d= -f2 |
		sort -u
}
# PID's established TCP sockets: to the destination (d) or the rest (s)
socks() {
	local filter
	if [ "$2" = d ]; then filter="dst $PSRV"; else filter="! dst $PSRV"; fi
	ip netns exec "$NS_S" ss -tnpH state established "$filter" | grep -c "pid=$1," || true
}
wait_workers() {
	local i
	for i in $(seq 1 100); do
		W=$(listeners | tr '\n' ' ')
		[ "$(echo "$W" | wc -w)" -ge 2 ] && return 0
		sleep 0.1
		: "$i"
	done
	return 1
}

step "two workers listen on one port, children of one supervisor"
wait_workers || fail "one process listens on the port, not two workers: $(listeners | tr '\n' ' ')"
read -r W1 W2 _ <<<"$W"
SUP=$(ps -o ppid= -p "$W1" | tr -d ' ')
[ "$(ps -o ppid= -p "$W2" | tr -d ' ')" = "$SUP" ] || fail "the workers have different parents"
log "  supervisor $SUP, workers $W1 $W2"
for w in $W1 $W2; do
	grep -q 'mptcpshim-gateway-replay' "/proc/$w/maps" ||
		fail "worker $w does not map the shared replay cache"
done

step "hold $N connections through the gateway"
bg_start hold shim "$NS_C" env "${GW_ENV[@]}" "$PY" "$HOLD" hold "$PSRV" "$EP" "$N" "$D/hold.ready"
HOLD_PID=$BG_PID
for _ in $(seq 1 600); do [ -s "$D/hold.ready" ] && break; sleep 0.1; done
read -r ok bad <"$D/hold.ready" || fail "the holder never got ready"
[ "$ok" = "$N" ] || fail "held $ok of $N connections ($bad failed)"

step "spread over both workers, and each one's joins landed there"
for _ in $(seq 1 100); do
	d1=$(socks "$W1" d) s1=$(socks "$W1" s) d2=$(socks "$W2" d) s2=$(socks "$W2" s)
	[ "$s1" -ge $((2 * d1)) ] && [ "$s2" -ge $((2 * d2)) ] && [ $((d1 + d2)) -ge "$N" ] && break
	sleep 0.1
done
log "  worker $W1: $d1 destination sockets, $s1 subflows; worker $W2: $d2, $s2"
[ $((d1 + d2)) -ge "$N" ] || fail "only $((d1 + d2)) destination sockets for $N connections"
[ "$d1" -gt 0 ] && [ "$d2" -gt 0 ] || fail "the connections were not spread ($d1 and $d2)"
[ "$s1" -ge $((2 * d1)) ] && [ "$s2" -ge $((2 * d2)) ] ||
	fail "joins missing: $s1 subflows for $d1 connections, $s2 for $d2 (2 paths each)"

step "a replayed first flight is refused by either worker"
cp "$top_srcdir/tests/progs/gwreplay.py" "$D/gwreplay.py"
next_port
RECP=$PORT
mkdir -p "$D/flight"
bg_start rec plain "$NS_S" "$PY" "$D/gwreplay.py" record "$SRV4" "$RECP" "$SRV4" "$GP" "$D/flight"
wait_listen "$NS_S" "$RECP"
nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$RECP" "MPTCPSHIM_GATEWAY_KEY_FILE=$D/alice.key" \
	MPTCPSHIM_GATEWAY_FALLBACK=fail "$PY" "$HOLD" hold "$PSRV" "$EP" 1 "$D/rec.ready" &
RECC=$!
for _ in $(seq 1 200); do [ -s "$D/rec.ready" ] && break; sleep 0.05; done
[ "$(cut -d' ' -f1 "$D/rec.ready" 2>/dev/null)" = 1 ] || fail "replay: the recorded connection failed"
kill "$RECC" 2>/dev/null || true
wait "$RECC" 2>/dev/null || true
for _ in $(seq 1 400); do [ -s "$D/flight/c2g.1" ] && break; sleep 0.05; done
[ -s "$D/flight/c2g.1" ] || fail "replay: nothing recorded"
r0=$(grep -c 'replayed authenticator' "$SHLOG" || true)
got=$(nsrun plain "$NS_C" "$PY" "$D/gwreplay.py" replay "$SRV4" "$GP" "$D/flight/c2g.1" 8) ||
	fail "replay: the replays failed"
sleep 0.5
r1=$(grep -c 'replayed authenticator' "$SHLOG" || true)
log "  8 replays: $got B back, $((r1 - r0)) refused as replayed"
[ "$got" = 0 ] || fail "replay: a worker answered a replayed first flight ($got B back)"
[ $((r1 - r0)) = 8 ] || fail "replay: $((r1 - r0)) of 8 replays refused as replayed"

step "a worker killed is restarted, and new connections go through"
KEPT=$d2
kill -KILL "$W1"
for _ in $(seq 1 100); do
	grep -q 'worker [12] of 2 ended .*restarted' "$GWLOG" && wait_workers &&
		! echo " $W " | grep -q " $W1 " && break
	sleep 0.1
done
grep -q 'worker [12] of 2 ended .*restarted' "$GWLOG" || fail "the supervisor did not restart it"
wait_workers || fail "no second worker after the restart"
log "  workers now: $W"
gwrun "$PY" "$HOLD" hold "$PSRV" "$EP" 4 "$D/again.ready" &
AGAIN=$!
for _ in $(seq 1 200); do [ -s "$D/again.ready" ] && break; sleep 0.05; done
read -r ok bad <"$D/again.ready" || fail "no answer after the restart"
[ "$ok" = 4 ] || fail "after the restart $ok of 4 connections ($bad failed)"
kill "$AGAIN" 2>/dev/null || true
wait "$AGAIN" 2>/dev/null || true

step "SIGTERM to the supervisor and its workers at once ends them all"
read -r W1 W2 _ <<<"$W"
restarts=$(grep -c 'restarted, pid' "$GWLOG" || true)
kill -TERM "$SUP" "$W1" "$W2"
for _ in $(seq 1 150); do
	kill -0 "$SUP" 2>/dev/null || kill -0 "$W1" 2>/dev/null || kill -0 "$W2" 2>/dev/null || break
	sleep 0.1
done
for p in $SUP $W1 $W2; do
	! kill -0 "$p" 2>/dev/null || fail "process $p still runs after the SIGTERM"
done
grep -q 'stopped: 2 workers' "$GWLOG" || fail "the supervisor did not say it stopped"
[ "$(grep -c 'restarted, pid' "$GWLOG" || true)" = "$restarts" ] ||
	fail "a worker was restarted while stopping: $(grep 'restarted, pid' "$GWLOG" | tail -n 1)"
reset=$(grep -o 'stopping ([0-9]* connection(s) open are reset)' "$GWLOG" | grep -o '[0-9]*' |
	awk '{ s += $1 } END { print s + 0 }')
log "  the workers reset $reset connection(s) together"
[ "$reset" -ge "$KEPT" ] ||
	fail "the workers said they reset $reset connections, fewer than the $KEPT held"
bg_stop "$HOLD_PID"
log "PASS gwworkers"
