#!/bin/bash
# gwdirect.sh: the gateway's library serves each connection on its own
# thread (MPS_SO_GW_DIRECT, issue 14): no socketpair and no daemon thread
# per connection.  gwlib.sh's testbed (a client with two paths, the
# gateway, a plain echo server behind it).  N connections are held open
# through the gateway (tests/progs/gwhold.py under the shim); then, at the
# gateway:
#   - the daemon's descriptors grew by at most one per destination socket
#     plus one per subflow (1 + n a connection; the socketpair kept before
#     made it 3 + n), counted against the sockets ss sees;
#   - its threads did not grow with N;
#   - a SIGTERM says how many connections the library held
#     (MPS_SO_GW_COUNT) and resets them: the holders' sockets read a reset.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
# shellcheck source-path=SCRIPTDIR source=gwlib.sh
. "$(cd "$(dirname "$0")" && pwd)/gwlib.sh"

MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=120}"
: "${T_CMD_TIMEOUT:=60}"
N=${GWDIRECT_N:-60}

tb_init gwdirect
require_shim
shim_enabled || skip "the gateway runs only under the library (NOSHIM set)"
gw_testbed
HOLD="$D/gwhold.py"
cp "$top_srcdir/tests/progs/gwhold.py" "$HOLD"
next_port
EP=$PORT
bg_start echo plain "$NS_P" "$PY" "$HOLD" echo "$PSRV" "$EP"
wait_listen "$NS_P" "$EP"
gw_start --max-per-client 1000 --rate-per-client 0
GWPID=$(ip netns exec "$NS_S" ss -ltnpH "sport = :$GP" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
[ -n "$GWPID" ] || fail "cannot find the gateway's pid"
fds() { find "/proc/$GWPID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$GWPID/status"; }

# one connection first: the library's thread and its listeners exist
gwrun "$PY" "$HOLD" hold "$PSRV" "$EP" 1 "$D/warm.ready" &
WARM=$!
for _ in $(seq 1 200); do [ -s "$D/warm.ready" ] && break; sleep 0.05; done
[ "$(cut -d' ' -f1 "$D/warm.ready" 2>/dev/null)" = 1 ] || fail "warm-up: no connection"
kill "$WARM" 2>/dev/null || true
wait "$WARM" 2>/dev/null || true
sleep 1
f0=$(fds)
t0=$(threads)
log "gateway before: $f0 descriptors, $t0 threads"

step "hold $N connections through the gateway"
bg_start hold shim "$NS_C" env "${GW_ENV[@]}" "$PY" "$HOLD" hold "$PSRV" "$EP" "$N" "$D/hold.ready"
HOLD_PID=$BG_PID
for _ in $(seq 1 600); do [ -s "$D/hold.ready" ] && break; sleep 0.1; done
read -r ok bad <"$D/hold.ready" || fail "the holder never got ready"
[ "$ok" = "$N" ] || fail "held $ok of $N connections ($bad failed)"
sleep 2 # the joins settle
f1=$(fds)
t1=$(threads)
# the gateway's TCP sockets: to the destination, and the subflows (the rest)
dst=$(ip netns exec "$NS_S" ss -tnH state established "dst $PSRV" | wc -l)
sub=$(ip netns exec "$NS_S" ss -tnH state established "! dst $PSRV" | wc -l)
log "gateway holding $N: $f1 descriptors (+$((f1 - f0))), $t1 threads; $dst destination sockets, $sub subflows"
[ "$dst" -ge "$N" ] || fail "only $dst destination sockets for $N connections"
[ "$sub" -ge "$N" ] || fail "only $sub subflows for $N connections"
[ $((f1 - f0)) -le $((dst + sub + 4)) ] ||
	fail "descriptors grew by $((f1 - f0)) for $dst destination sockets and $sub subflows: more than 1 + n a connection"
[ "$t1" -le $((t0 + 2)) ] || fail "threads grew from $t0 to $t1 for $N held connections"

step "stop: the gateway says how many connections it held, and resets them"
kill -TERM "$GWPID"
for _ in $(seq 1 100); do grep -q 'connection(s) open are reset' "$GWLOG" && break; sleep 0.05; done
held=$(grep -o '[0-9]* connection(s) open are reset' "$GWLOG" | tail -n 1 | cut -d' ' -f1)
[ "${held:-0}" -ge "$N" ] ||
	fail "the gateway did not say it reset $N connections: $(grep -i 'reset' "$GWLOG" | tail -n 2)"
log "  the gateway reset ${held} connection(s)"
bg_stop "$HOLD_PID"
log "PASS gwdirect"
