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
#   sandbox-limits: a child sets RLIMIT_FSIZE 0, RLIMIT_NOFILE 1 and then
#   RLIMIT_NPROC 0, as sshd's sandboxed pre-authentication child does, with
#   the shim's log file open: the shim thread cannot start there and says
#   so, and that line must not be written past RLIMIT_FSIZE (SIGXFSZ killed
#   the child: sshd then exited before authentication, silently).
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

if selected sandbox-limits; then
	step "sandbox-limits: RLIMIT_FSIZE 0, RLIMIT_NOFILE 1, RLIMIT_NPROC 0 in a child, the log file open"
	echo "a line: the log file is not empty" >>"$T_DIR/shim-$NS_S.log"
	got=$(nsrun shim "$NS_S" /usr/bin/python3 -c '
import os, resource, signal
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # python ignores it; sshd does not
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (1, 1))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    os._exit(0)
_, st = os.waitpid(pid, 0)
print("signal %d" % os.WTERMSIG(st) if os.WIFSIGNALED(st) else "exit %d" % os.WEXITSTATUS(st))
') || fail "sandbox-limits: the parent failed"
	[ "$got" = "exit 0" ] || fail "sandbox-limits: the child ended with $got (25: SIGXFSZ, our log line)"
	log "sandbox-limits: the child $got"
fi
exit 0
