#!/bin/bash
# apps_redis.sh: redis-server, redis-benchmark and redis-cli, unmodified,
# all under the shim, over two shaped uplinks (topology B: a client with
# two interfaces through two routers to a server with one address, 40+40
# Mbit/s).  redis-server runs with a private configuration (no
# persistence, no host file read, listening on the service address only).
#   bench     redis-benchmark -n REQUESTS (100000) -c 50 for SET, GET and
#             INCR: exit 0, every test reported, no error at all in its
#             output (a request that failed, a connection that dropped).
#             Once both paths carry 1 MiB, path 2 is taken down: the 50
#             connections of the test under way lose their path-2
#             subflows and carry on; later tests connect over path 1
#             alone (path 1 holds the client's default route, so it is
#             the one kept here).
#   bigset    redis-cli -x SET of a random BIG (20 MiB) value from a file
#   bigget    redis-cli --raw GET of it back into a file
#             both with path 1 (the connection's first path) taken down
#             once both paths carry data; GET's output must be the value
#             byte for byte (sha256) plus redis-cli's newline, and the
#             server's STRLEN must agree.
# Harness self-test without the shim: NOSHIM=1 bash apps_redis.sh
# Sub-cases (T_ONLY=REGEX): bench bigset bigget (bigget needs bigset)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${REQUESTS:=100000}"
: "${BIG:=$((20 * 1024 * 1024))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=240}"
: "${T_CMD_TIMEOUT:=90}"

tb_init apps_redis
require_shim
for t in redis-server redis-cli redis-benchmark; do
	command -v "$t" >/dev/null || fail "$t not installed (redis-server, redis-tools)"
done
tb_topo B 2 40,40
D=$T_DIR
R="$D/redis"
mkdir -p "$R"
next_port
RPORT=$PORT
cat >"$R/redis.conf" <<EOF2
bind $SRV4 $SRV6
port $RPORT
protected-mode no
daemonize no
supervised no
pidfile $R/redis.pid
logfile ""
dir $R
save ""
appendonly no
databases 1
EOF2
step "redis-server on $SRV4:$RPORT and [$SRV6]:$RPORT"
bg_start redis shim "$NS_S" redis-server "$R/redis.conf"
REDIS_PID=$BG_PID
wait_listen "$NS_S" "$RPORT"

cli() { nsrun shim "$NS_C" redis-cli -h "$SRV4" -p "$RPORT" "$@"; }

if selected bench; then
	what="bench: redis-benchmark -n $REQUESTS -c 50 -t set,get,incr, path 2 cut"
	step "$what"
	path_cut_arm 2
	# (the cut waits until both paths carried 1 MiB: 50 connections of
	# small requests, each inline with MPTCPSHIM_INLINE=1 in the
	# environment, would join only after 5 s, so the client is not)
	T_ENV=(MPTCPSHIM_INLINE=0)
	nsrun shim "$NS_C" redis-benchmark -h "$SRV4" -p "$RPORT" -n "$REQUESTS" -c 50 \
		-t set,get,incr --csv >"$D/bench.out" 2>&1 ||
		fail "$what: redis-benchmark exited $?: $(tail -n 5 "$D/bench.out")"
	T_ENV=()
	path_cut_check "$what"
	sed 's/^/    /' "$D/bench.out" >&2
	if grep -iE 'error|refused|reset|broken' "$D/bench.out"; then
		fail "$what: redis-benchmark reported errors"
	fi
	for t in SET GET INCR; do
		grep -qE "^\"$t\",\"[0-9.]*[1-9][0-9.]*\"" "$D/bench.out" ||
			fail "$what: no result for $t"
	done
fi

# big value: the client sends BIG bytes, then receives them back
mkrand "$D/big.in" "$BIG"
if selected bigset; then
	what="bigset: redis-cli -x SET of $BIG B, path 1 cut"
	step "$what"
	path_cut_arm 1
	cli -x SET big <"$D/big.in" >"$D/set.out" 2>&1 || fail "$what: redis-cli exited $?: $(cat "$D/set.out")"
	path_cut_check "$what"
	[ "$(cat "$D/set.out")" = OK ] || fail "$what: redis-cli answered '$(head -c 200 "$D/set.out")'"
	n=$(cli STRLEN big) || fail "$what: STRLEN failed"
	[ "$n" = "$BIG" ] || fail "$what: the server holds $n bytes, not $BIG"
	log "ok: the server holds $n B"
fi
if selected bigget; then
	what="bigget: redis-cli --raw GET of $BIG B, path 1 cut"
	step "$what"
	path_cut_arm 1
	cli --raw GET big >"$D/get.out" || fail "$what: redis-cli exited $?"
	path_cut_check "$what"
	[ "$(fsize "$D/get.out")" = $((BIG + 1)) ] ||
		fail "$what: got $(fsize "$D/get.out") B, want $BIG + redis-cli's newline"
	[ "$(tail -c 1 "$D/get.out" | od -An -c | tr -d ' ')" = '\n' ] || fail "$what: no trailing newline"
	head -c "$BIG" "$D/get.out" >"$D/big.out"
	same_file "$what" "$D/big.in" "$D/big.out"
fi
kill -0 "$REDIS_PID" 2>/dev/null || fail "redis-server died"
cli PING | grep -qx PONG || fail "redis-server does not answer PING"
bg_stop "$REDIS_PID"
exit 0
