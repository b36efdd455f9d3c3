#!/bin/bash
# privdrop.sh: a server that drops privileges after fork, as vsftpd does
# (tests/progs/privdrop): the child, made with fork() or with clone(2)
# directly at once after accept, calls setgroups/setgid/setuid (nobody),
# sets RLIMIT_NPROC to 0, then accepts a data connection on a fresh port
# and sends a file on it.  Under the shim, with a shim client and with a
# plain client: byte-exact (sha256), and nothing hangs (every step of the
# program is bounded by an alarm, every run by a timeout).  With a shim
# client both paths carry the data connection: the child's shim thread ran
# before RLIMIT_NPROC applied.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${T_TIMEOUT:=200}"
: "${T_CMD_TIMEOUT:=30}"
MPTCPSHIM_LOG=info

tb_init privdrop
require_shim
PD="$top_builddir/tests/progs/privdrop"
[ -x "$PD" ] || fail "$PD not built (make check builds it)"
tb_topo A 2 40,40
D=$T_DIR
mkrand "$D/file.bin" $((8 * 1024 * 1024))
N=3

# run NAME CLIMODE HOW: N sessions of the server (under the shim, HOW fork
# or clone) with N clients (CLIMODE shim or plain), one after the other.
run() {
	local name="$1-$2" cli=$2 how=$1 i
	selected "$name" || return 0
	step "$name: privdrop server (shim, $how) <- $N clients ($cli)"
	next_port
	bg_start "srv-$name" shim "$NS_S" "$PD" server "$SRV4" "$PORT" "$D/file.bin" "$N" "$how"
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	for ((i = 1; i <= N; i++)); do
		rm -f "$D/got"
		[ "$cli" = shim ] && [ "$i" = "$N" ] && path_use_mark
		nsrun "$cli" "$NS_C" "$PD" client "$SRV4" "$PORT" "$D/got" || {
			show_file "$T_DIR/bg-srv-$name.log"
			fail "$name: client $i failed"
		}
		same_file "$name: session $i" "$D/file.bin" "$D/got"
		[ "$cli" = shim ] && [ "$i" = "$N" ] && path_use_check "$name: session $i"
	done
	bg_wait "$spid" 30 || {
		show_file "$T_DIR/bg-srv-$name.log"
		fail "$name: server failed or hung ($?)"
	}
}

for how in fork clone; do
	run "$how" shim
	run "$how" plain
done
exit 0
