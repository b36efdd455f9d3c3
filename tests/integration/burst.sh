#!/bin/bash
# burst.sh: a burst of connections to a shim server that accepts them late
# (its accept queue holds their HELLOs).  Both ends under the shim, one
# path.  The server (tests/progs/burst.py) accepts the first connection
# after 0.3 s and the other three 2.5 s later, longer than the client's
# reply timeout for a peer it does not know yet (8 RTT + 1 s).  The first
# HELLO_ACK tells the client this server runs mptcpshim, so the other
# three must keep waiting (as for a known shim, 15 s) and negotiate
# multipath, instead of falling back to plain TCP: a fallback would close
# their HELLO connections, which the server app then accepts half-made,
# and reconnect into a queue it never reads (found with 200 connections
# opening at once in fdlimits.sh).  Checked: every answer intact (sha256),
# no timeout fallback and four multipath connections in the
# client's counters.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

MPTCPSHIM_LOG=${T_LOG:-info}
N=4
tb_init burst
require_shim
tb_setup 1
PROG="$top_srcdir/tests/progs/burst.py"
DATA="$T_DIR/answer.bin"
mkrand "$DATA" $((256 * 1024))
WANT="$(sha256 "$DATA") $((256 * 1024))"

step "burst: $N connections at once, the server accepts after 0.3 s and 2.8 s"
next_port
cc=$(counters_mark "$NS_C")
bg_start srv shim "$NS_S" "$PY" "$PROG" server "$S4" "$PORT" "$N" "$DATA" 0.3 2.5
spid=$BG_PID
wait_listen "$NS_S" "$PORT"
nsrun shim "$NS_C" "$PY" "$PROG" client "$S4" "$PORT" "$N" >"$T_DIR/cli.log" 2>&1 || {
	show_file "$T_DIR/cli.log"
	show_file "$T_DIR/bg-srv.log"
	fail "client failed"
}
bg_wait "$spid" 20 || {
	show_file "$T_DIR/bg-srv.log"
	fail "server failed"
}
bad=$(awk -v w="$WANT" '$2 " " $3 != w' "$T_DIR/cli.log" | wc -l)
[ "$(wc -l <"$T_DIR/cli.log")" = "$N" ] && [ "$bad" = 0 ] || {
	show_file "$T_DIR/cli.log"
	fail "$bad of $N answers differ from the file sent (sha256)"
}
if shim_enabled; then
	CC=$(counters_since "$NS_C" "$cc")
	fb=$(counter fallbacks_timeout <<<"$CC")
	[ "$fb" = 0 ] || fail "the client fell back to plain TCP $fb time(s) on a reply timeout"
	mp=$(counter multipath_connections <<<"$CC")
	[ "$mp" = "$N" ] || fail "the client negotiated $mp multipath connection(s), not $N"
fi
log "ok: $N answers intact, no fallback"
log PASS
