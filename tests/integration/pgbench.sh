#!/bin/bash
# pgbench.sh: PostgreSQL (postmaster, a process forked per connection) and
# pgbench, both under the shim, over two paths (testbed A, 40+40 Mbit/s):
#   - pgbench -i builds its tables over the network;
#   - pgbench, 8 clients x 150 transactions (TPC-B-like): every transaction
#     processed, 0 failed, and no shim warning;
#   - every backend connection negotiated multipath, and both paths carried
#     the benchmark's traffic; the postmaster handed each connection to its
#     backend, where its join landed (counters, read once the server stopped).
# The tps comparison with plain TCP is bench/pgbench, not a test.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${T_TIMEOUT:=180}"
: "${T_CMD_TIMEOUT:=90}"
MPTCPSHIM_LOG=info
# the hand-over to the backends (on by default; =0 from outside runs without)
export MPTCPSHIM_HANDOVER=${MPTCPSHIM_HANDOVER:-1}
CLIENTS=8
TX=150

tb_init pgbench
require_shim
PGBIN=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/postgres" ] || [ ! -x "$PGBIN/pgbench" ]; then
	fail "postgresql not installed (scripts/install-deps.sh)"
fi
id postgres >/dev/null 2>&1 || fail "no postgres user (the postgresql package makes it)"
tb_topo A 2 40,40

D=$T_DIR
# postgres refuses to run as root: the server runs as the postgres user,
# which must reach its data directory, socket directory and shim log.
chmod 755 "$D"
mkdir "$D/pg" "$D/sock"
chown postgres: "$D/pg" "$D/sock"
touch "$D/shim-$NS_S.log" "$D/counters-$NS_S.jsonl"
chown postgres: "$D/shim-$NS_S.log" "$D/counters-$NS_S.jsonl"
asuser() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
step "initdb"
asuser "$PGBIN/initdb" -D "$D/pg" -A trust -U postgres --no-sync >"$D/initdb.log" 2>&1 ||
	{ show_file "$D/initdb.log"; fail "initdb failed"; }
echo "host all postgres $SRV4/15 trust" >>"$D/pg/pg_hba.conf"

next_port
step "postgres (shim) on $SRV4:$PORT"
bg_start postgres shim "$NS_S" setpriv --reuid=postgres --regid=postgres --init-groups \
	"$PGBIN/postgres" -D "$D/pg" -k "$D/sock" -h "$SRV4" -p "$PORT" \
	-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
	-c max_connections=$((CLIENTS + 10)) -c shared_buffers=16MB
PG_PID=$BG_PID
wait_listen "$NS_S" "$PORT" 30

pgb() { nsrun shim "$NS_C" "$PGBIN/pgbench" -h "$SRV4" -p "$PORT" -U postgres "$@"; }

step "pgbench -i (shim) over the network"
pgb -i -s 1 -q postgres >"$D/init.out" 2>&1 || { show_file "$D/init.out"; fail "pgbench -i failed"; }

step "pgbench (shim): $CLIENTS clients x $TX transactions"
sl="$T_DIR/shim-$NS_S.log" cl="$T_DIR/shim-$NS_C.log"
sc0=$(counters_mark "$NS_S")
path_use_mark
# (both paths must carry data: short transactions on connections that,
# inline with MPTCPSHIM_INLINE=1 in the environment, would join only after
# 5 s; so the client is not)
T_ENV=(MPTCPSHIM_INLINE=0)
pgb -c "$CLIENTS" -j 2 -t "$TX" postgres >"$D/run.out" 2>&1 || { show_file "$D/run.out"; fail "pgbench failed"; }
T_ENV=()
cat "$D/run.out" >&2
done_tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\)\/\([0-9]*\)$/\1 \2/p' "$D/run.out")
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\) .*/\1/p' "$D/run.out")
[ "$done_tx" = "$((CLIENTS * TX)) $((CLIENTS * TX))" ] ||
	fail "pgbench processed '$done_tx' transactions, want $((CLIENTS * TX)) of $((CLIENTS * TX))"
[ "$failed" = 0 ] || fail "pgbench: '$failed' failed transactions, want 0"
# both paths carry the benchmark (about 1 MiB each way in all)
path_use_check "pgbench over A/2" $((128 * 1024))
# Counted by the counters (MPTCPSHIM_COUNTERS_FILE: one line per process
# at its exit), not by log lines: stop the server first, so that the
# postmaster and every backend have written theirs.
kill -0 "$PG_PID" 2>/dev/null || fail "postgres died"
pm=$(head -n 1 "$D/pg/postmaster.pid")
asuser "$PGBIN/pg_ctl" -D "$D/pg" -m fast -w -t 30 stop >"$D/stop.out" 2>&1 ||
	{ show_file "$D/stop.out"; fail "postgres did not stop"; }
bg_stop "$PG_PID"
nmp=0 njoin=0
if shim_enabled; then
	cnt=$(counters_since "$NS_S" "$sc0" $((CLIENTS + 1)))
	pm_cnt=$(printf '%s\n' "$cnt" | grep "^{\"pid\":$pm," || true)
	be_cnt=$(printf '%s\n' "$cnt" | grep -v "^{\"pid\":$pm," || true)
	[ -n "$pm_cnt" ] || fail "no counters from the postmaster ($pm)"
	# every benchmark connection (and pgbench's own first one) negotiated
	# and joined, wherever it was when it did
	nmp=$(printf '%s\n' "$cnt" | counter multipath_connections)
	njoin=$(printf '%s\n' "$cnt" | counter subflows_joined)
	[ "$nmp" -ge "$CLIENTS" ] || fail "only $nmp of $CLIENTS+ backend connections negotiated multipath"
	[ "$njoin" -ge "$CLIENTS" ] || fail "only $njoin of $CLIENTS+ connections got their second subflow"
fi
# Fork per connection (docs/DESIGN.md "Process model"; on with
# MPTCPSHIM_HANDOVER=1, set above): every backend takes its connection over
# from the postmaster (which closes its copy after the fork) and services it
# with its own shim thread: the joins land in the backends, none in the
# postmaster.
if shim_enabled && [ "${MPTCPSHIM_HANDOVER:-1}" != 0 ]; then
	nhand=$(printf '%s\n' "$pm_cnt" | counter connections_handed)
	jpm=$(printf '%s\n' "$pm_cnt" | counter subflows_joined)
	jback=$(printf '%s\n' "$be_cnt" | counter subflows_joined)
	log "postmaster $pm handed $nhand connection(s) to backends; joins: $jback in backends, $jpm in the postmaster"
	[ "$nhand" -ge "$CLIENTS" ] || fail "the postmaster handed only $nhand of $CLIENTS+ connections to their backends"
	[ "$jpm" = 0 ] || fail "$jpm join(s) landed in the postmaster ($pm), not in the backend"
	[ "$jback" -ge "$CLIENTS" ] || fail "only $jback of $CLIENTS+ joins landed in a backend"
fi
if grep -E ' (warn|error): ' "$sl" "$cl" 2>/dev/null; then
	fail "the shim logged warnings or errors (above)"
fi
log "ok: $CLIENTS x $TX transactions, 0 failed, $nmp connections multipath, $njoin joined"
exit 0
