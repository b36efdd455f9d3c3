#!/bin/bash
# clone.sh: processes made by clone(2) without fork() (vsftpd's isolated
# sessions) while the shim thread is busy.  tests/progs/clonestress, under
# the shim, churns short multipath connections to an echo server under the
# shim (keys, join HMACs, log lines: the shim thread takes its locks all
# the time) and makes 150 children with syscall(SYS_clone, SIGCHLD); each
# lowers RLIMIT_NPROC, which starts the shim thread in the child, and
# exits.  No child may hang (before the clone hooks, one inherited a lock
# held by the parent's thread at the instant of the clone), every
# connection must echo and negotiate multipath (the client's counters).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${T_TIMEOUT:=120}"
: "${T_CMD_TIMEOUT:=90}"
MPTCPSHIM_LOG=debug

tb_init clone
require_shim
CS="$top_builddir/tests/progs/clonestress"
[ -x "$CS" ] || fail "$CS not built (make check builds it)"
tb_topo A 2 40,40

next_port
step "echo server (shim) on $SRV4:$PORT"
bg_start echo shim "$NS_S" socat "TCP-LISTEN:$PORT,bind=$SRV4,reuseaddr,fork" PIPE
SPID=$BG_PID
wait_listen "$NS_S" "$PORT"

step "clonestress (shim): 150 raw clones while connections churn"
c0=$(counters_mark "$NS_C")
out=$(nsrun shim "$NS_C" "$CS" "$SRV4" "$PORT" 150) || fail "clonestress: $out"
log "$out"
case $out in
"clonestress: 150 clones, 0 hung, 0 failed, "*) ;;
*) fail "unexpected: $out" ;;
esac
if shim_enabled; then
	# every churned connection negotiated, the first one too (a socat-fork
	# child that polls first must answer the HELLO in time: issue 12)
	cnt=$(counters_since "$NS_C" "$c0")
	conns=$(printf '%s\n' "$cnt" | counter connections)
	mp=$(printf '%s\n' "$cnt" | counter multipath_connections)
	log "clonestress's counters: $conns connections, $mp multipath"
	[ "$conns" -gt 0 ] || fail "clonestress's shim counted no connection"
	[ "$mp" = "$conns" ] || fail "only $mp of $conns churned connections negotiated multipath"
fi
bg_stop "$SPID"
exit 0
