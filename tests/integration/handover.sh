#!/bin/bash
# handover.sh: a fork-per-connection server's child services its own
# connection (issue 12 item 4; docs/DESIGN.md "Process model", "Fork per
# connection").  A python server under the shim forks a child per
# connection; the child reads the client's 16 MiB (20+20 Mbit/s paths:
# a few seconds) to EOF and answers its
# sha256.  The client (python, under the shim) checks the digest; both
# paths must carry data.  The client joins late (MPTCPSHIM_JOIN_DELAY), so
# its second subflow is made after the fork.
#   taken   the parent negotiates the connection (it sleeps after accept:
#           the HELLO, and the ADD_ADDR with the parent's join port, go out
#           from the parent), forks, and closes its copy: the child takes
#           the connection over (logs it), announces its own join port, and
#           the late join lands in the CHILD (logged by the child's pid), not
#           in the parent; nothing is rejected.
#   kept    the parent keeps its copy and serves the connection itself; the
#           child it forked exits: the parent services it, as before (the
#           join lands in the parent, nothing is taken over).
#   osexit  socketserver.ForkingTCPServer: its child takes the connection
#           over, runs a program that does not exist (subprocess: vfork, a
#           failed exec, _exit in the vfork child, which must do nothing),
#           sends the 16 MiB file and ends with os._exit() (no
#           destructor): the _exit hook drains first (a keeper finishes),
#           the client's sha256 of what it read must match.
# Sub-cases (T_ONLY=REGEX): taken kept osexit.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

export MPTCPSHIM_LOG=${HO_LOG:-info}
: "${T_TIMEOUT:=120}"
: "${T_CMD_TIMEOUT:=60}"
tb_init handover
require_shim
shim_enabled || skip "the hand-over is the shim's (NOSHIM run)"
tb_topo A 2 20,20
MIB=$((1024 * 1024))
mkrand "$T_DIR/data.bin" $((16 * MIB))
WANT=$(sha256 "$T_DIR/data.bin")

cat >"$T_DIR/srv.py" <<'PYEOF'
import hashlib, os, socket, sys, time
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(8)
print("listening pid %d" % os.getpid(), flush=True)

def serve(c):
    h = hashlib.sha256()
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
    c.sendall(h.hexdigest().encode())
    c.close()

c, peer = ls.accept()
# negotiation (HELLO, ADD_ADDR with this process's join port) happens here
time.sleep(0.5)
pid = os.fork()
if pid == 0:
    ls.close()
    if mode == "taken":
        print("child %d serves" % os.getpid(), flush=True)
        serve(c)
    else:
        print("child %d exits" % os.getpid(), flush=True)
        time.sleep(0.3)
    sys.exit(0)  # exit(): the keeper delivers what is left (os._exit too: osexit)
if mode == "taken":
    c.close()  # the child holds the connection now
else:
    serve(c)
_, st = os.waitpid(pid, 0)
sys.exit(1 if st else 0)
PYEOF

cat >"$T_DIR/cli.py" <<'PYEOF'
import socket, sys
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port))
with open(path, "rb") as f:
    data = f.read()
view = memoryview(data)
for i in range(0, len(data), 1 << 16):
    s.sendall(view[i:i + (1 << 16)])
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    got += b
print(got.decode())
PYEOF

# ho_case NAME: one connection to srv.py in mode NAME.
ho_case() {
	local name=$1 spid sl n0 got ppid cpid
	next_port
	sl="$T_DIR/shim-$NS_S.log"
	touch "$sl"
	n0=$(wc -l <"$sl")
	bg_start "srv-$name" shim "$NS_S" /usr/bin/python3 "$T_DIR/srv.py" "$SRV4" "$PORT" "$name"
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	path_use_mark
	# the join waits 1.5 s (and for no byte count): after the fork
	T_ENV=(MPTCPSHIM_JOIN_DELAY=1500 MPTCPSHIM_JOIN_BYTES=1073741824)
	got=$(nsrun shim "$NS_C" /usr/bin/python3 "$T_DIR/cli.py" "$SRV4" "$PORT" "$T_DIR/data.bin") ||
		fail "$name: client failed"
	T_ENV=()
	[ "$got" = "$WANT" ] || fail "$name: the server read sha256 '$got', want $WANT"
	bg_wait "$spid" 30 || fail "$name: server failed ($?)"
	path_use_check "$name" "$MIB"
	ppid=$(sed -n 's/^listening pid \([0-9]*\)$/\1/p' "$T_DIR/bg-srv-$name.log")
	cpid=$(sed -n 's/^child \([0-9]*\) .*/\1/p' "$T_DIR/bg-srv-$name.log")
	[ -n "$ppid" ] && [ -n "$cpid" ] || fail "$name: no pids in $(cat "$T_DIR/bg-srv-$name.log")"
	NEW=$(tail -n +"$((n0 + 1))" "$sl")
	printf '%s\n' "$NEW" | grep -E 'taken over|handed to|joined|join from' >&2 || true
	if printf '%s\n' "$NEW" | grep -E ' (warn|error): '; then
		fail "$name: the server's shim logged warnings or errors (above)"
	fi
	PPID_=$ppid CPID=$cpid
}

if selected taken; then
	step "taken: the parent negotiates, forks, closes its copy; the child takes over, the late join lands in the child"
	ho_case taken
	printf '%s\n' "$NEW" | grep -q "mptcpshim\[$CPID\] info: conn .*: taken over from process $PPID_" ||
		fail "taken: the child ($CPID) did not take the connection over"
	printf '%s\n' "$NEW" | grep -q "mptcpshim\[$PPID_\] info: conn .*: handed to child process $CPID" ||
		fail "taken: the parent ($PPID_) did not hand the connection to its child"
	printf '%s\n' "$NEW" | grep -q "mptcpshim\[$CPID\] info: conn .*: subflow 2 from .* joined" ||
		fail "taken: the late join did not land in the child ($CPID)"
	if printf '%s\n' "$NEW" | grep -q "mptcpshim\[$PPID_\] info: conn .*: subflow 2 from .* joined"; then
		fail "taken: the late join landed in the parent ($PPID_)"
	fi
	log "ok: taken: child $CPID serviced the connection and got the late join, sha256 ok"
fi

cat >"$T_DIR/fsrv.py" <<'PYEOF'
import os, socketserver, subprocess, sys
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]

class H(socketserver.StreamRequestHandler):
    def handle(self):
        self.rfile.readline()
        print("child %d serves" % os.getpid(), flush=True)
        # subprocess vforks (python >= 3.10); the exec fails and the vfork
        # child calls _exit(255) in this process's memory: the hook must
        # do nothing there, or this connection would be stopped under us
        try:
            subprocess.run(["/nonexistent/mptcpshim-test"])
        except OSError:
            pass
        with open(path, "rb") as f:
            self.wfile.write(f.read())
        # ForkingMixIn then shuts the socket down and calls os._exit(0)

socketserver.ForkingTCPServer.allow_reuse_address = True
srv = socketserver.ForkingTCPServer((host, port), H)
print("listening pid %d" % os.getpid(), flush=True)
srv.handle_request()
srv.server_close()  # waits for the child
PYEOF

write_pytool

if selected osexit; then
	step "osexit: ForkingTCPServer's child takes over, sends 16 MiB, ends with os._exit"
	next_port
	sl="$T_DIR/shim-$NS_S.log"
	touch "$sl"
	n0=$(wc -l <"$sl")
	bg_start srv-osexit shim "$NS_S" /usr/bin/python3 "$T_DIR/fsrv.py" "$SRV4" "$PORT" "$T_DIR/data.bin"
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	path_use_mark
	got=$(nsrun shim "$NS_C" /usr/bin/python3 "$PYTOOL" getclient "$SRV4" "$PORT") ||
		fail "osexit: client failed: $got"
	[ "$got" = "$WANT $((16 * MIB))" ] ||
		fail "osexit: the client read '$got', want '$WANT $((16 * MIB))'"
	bg_wait "$spid" 30 || fail "osexit: server failed ($?)"
	path_use_check osexit "$MIB"
	cpid=$(sed -n 's/^child \([0-9]*\) .*/\1/p' "$T_DIR/bg-srv-osexit.log")
	NEW=$(tail -n +"$((n0 + 1))" "$sl")
	printf '%s\n' "$NEW" | grep -q "mptcpshim\[$cpid\] info: conn .*: taken over from process" ||
		fail "osexit: the child ($cpid) did not take the connection over"
	printf '%s\n' "$NEW" | grep -E 'taken over|keeper' >&2 || true
	if printf '%s\n' "$NEW" | grep -E ' (warn|error): '; then
		fail "osexit: the server's shim logged warnings or errors (above)"
	fi
	log "ok: osexit: child $cpid took over and ended with os._exit; 16 MiB sha256 ok"
fi

if selected kept; then
	step "kept: the parent keeps its copy and serves; its child exits"
	ho_case kept
	printf '%s\n' "$NEW" | grep -q "mptcpshim\[$PPID_\] info: conn .*: subflow 2 from .* joined" ||
		fail "kept: the join did not land in the parent ($PPID_)"
	if printf '%s\n' "$NEW" | grep -qE 'taken over|handed to child'; then
		fail "kept: the connection was handed over although the parent kept it"
	fi
	log "ok: kept: the parent ($PPID_) serviced the connection, sha256 ok"
fi
exit 0
