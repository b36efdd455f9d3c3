#!/bin/bash
# forkserve.sh: fork-per-connection servers whose child first WAITS on its
# connection (poll/select) are multipath from a client's very first
# connection (issue 12 item 4; docs/DESIGN.md "Process model", "Fork per
# connection", step 3).  Each child takes its connection over from the
# forking parent; before the poll/select hooks such a child adopted it only
# after the 1 s bound, nobody answered the client's HELLO meanwhile, and a
# client that did not know the server yet fell back to plain TCP and
# cached the server as plain for every later connection.
#   socat   socat TCP-LISTEN,fork PIPE (an echo): ROUNDS client processes,
#           one after the other, with one fresh peer cache, each echo 4 MiB
#   python-poll   socketserver.ForkingTCPServer whose handler has a
#           timeout (python then polls before each recv): ROUNDS downloads
#           of 4 MiB
#   python-epoll  the same, the handler first waits in an epoll set of its
#           own (epoll_ctl adopts; epoll_wait is not hooked)
#   python-pepoll the parent registers the connection in an epoll set
#           before it forks; the child waits in that set first (the
#           epoll_wait hook adopts: the set is the kernel's, the
#           registration our record of the parent's epoll_ctl)
#   python-exec   the child reads the request (it adopts), puts the
#           connection on its stdout and execs cat FILE: the connection
#           lives on in a keeper (docs/DESIGN.md "Process model")
#   python-inetd  inetd-style: the child puts the connection on its stdin
#           and stdout at once and execs a program that reads the request
#           and answers; the exec'd image services the connection itself
#           (step 5): the server's counters must count
#           connections_exec_adopted (none without it: FS_SRV_ENV=
#           MPTCPSHIM_HANDOVER_EXEC=0 adds that to the server's environment)
#   python-inetd-plain  the same, the program exec'd without LD_PRELOAD (not
#           under the shim): the exec hook gives the connection back to the
#           parent at once, which services it; before, the parent waited
#           for the new image 3 s, and every client's HELLO went unanswered
#           meanwhile (its fallback: a timeout)
# Every client checks the sha256; the clients' counters must say that
# every connection negotiated multipath (none fell back) and both paths
# carried data; the server's children took every connection over.
# Sub-cases (T_ONLY=REGEX): socat python-poll python-epoll python-pepoll
# python-exec python-inetd python-inetd-plain.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

export MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=120}"
: "${T_CMD_TIMEOUT:=60}"
ROUNDS=3
tb_init forkserve
require_shim
shim_enabled || skip "the hand-over is the shim's (NOSHIM run)"
tb_topo A 2 40,40
MIB=$((1024 * 1024))
mkrand "$T_DIR/data.bin" $((4 * MIB))
WANT=$(sha256 "$T_DIR/data.bin")

cat >"$T_DIR/echocli.py" <<'PYEOF'
import hashlib, socket, sys, threading
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "rb") as f:
    data = f.read()
s = socket.create_connection((host, port))
def tx():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=tx)
t.start()
h, n = hashlib.sha256(), 0
while True:
    b = s.recv(1 << 16)
    if not b:
        break
    h.update(b)
    n += len(b)
t.join()
print(h.hexdigest(), n)
PYEOF

cat >"$T_DIR/fsrv.py" <<'PYEOF'
import os, selectors, socketserver, sys
host, port, path, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

class H(socketserver.StreamRequestHandler):
    timeout = 30 if mode == "poll" else None  # python polls before recv
    def handle(self):
        if mode == "pepoll":  # the set the parent filled before the fork
            self.server.sel.select(30)
        if mode == "epoll":  # an epoll set of the child's own first
            sel = selectors.EpollSelector()
            sel.register(self.request, selectors.EVENT_READ)
            sel.select(30)
            sel.close()
        self.rfile.readline()
        if mode == "exec":  # inetd-style: the request read, a program answers
            os.dup2(self.request.fileno(), 1)
            os.execv("/bin/cat", ["cat", path])
        with open(path, "rb") as f:
            self.wfile.write(f.read())

class S(socketserver.ForkingTCPServer):
    allow_reuse_address = True
    sel = None
    def process_request(self, request, client_address):
        if mode == "pepoll":  # registered here, waited on in the child
            self.sel = selectors.EpollSelector()
            self.sel.register(request, selectors.EVENT_READ)
        super().process_request(request, client_address)
        if self.sel:
            self.sel.close()  # our copy; the child's stays
            self.sel = None

ANSWER = ("import sys; sys.stdin.buffer.readline(); "
          "sys.stdout.buffer.write(open(sys.argv[1], 'rb').read())")

def inetd():  # accept, fork, the child execs with the connection on 0 and 1
    import socket
    ls = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(16)
    print("listening pid %d" % os.getpid(), flush=True)
    while True:
        c, _a = ls.accept()
        if os.fork() == 0:
            ls.close()
            os.dup2(c.fileno(), 0)
            os.dup2(c.fileno(), 1)
            c.close()
            env = dict(os.environ)
            if mode == "inetd-plain":  # a program not under the shim
                env.pop("LD_PRELOAD", None)
            os.execve(sys.executable, [sys.executable, "-c", ANSWER, path], env)
        c.close()
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass

if mode.startswith("inetd"):
    inetd()
srv = S((host, port), H)
print("listening pid %d" % os.getpid(), flush=True)
srv.serve_forever()
PYEOF

write_pytool

# fs_rounds NAME CLIENT ARGS...: ROUNDS client processes (python3 CLIENT
# ARGS...) against the server on $PORT, a peer cache the server is new to;
# every one must get the file's sha256 back and negotiate multipath.
fs_rounds() {
	local name=$1 i got c0 s0 cnt conns mp fb joined sl n0 taken
	shift
	sl="$T_DIR/shim-$NS_S.log"
	touch "$sl"
	n0=$(wc -l <"$sl")
	c0=$(counters_mark "$NS_C")
	s0=$(counters_mark "$NS_S")
	path_use_mark
	for ((i = 1; i <= ROUNDS; i++)); do
		T_ENV=("MPTCPSHIM_PEER_CACHE=$T_DIR/peers-$name")
		got=$(nsrun shim "$NS_C" /usr/bin/python3 "$@") ||
			fail "$name: client $i failed: $got"
		T_ENV=()
		[ "$got" = "$WANT $((4 * MIB))" ] || fail "$name: client $i got '$got', want '$WANT $((4 * MIB))'"
	done
	path_use_check "$name" "$MIB"
	cnt=$(counters_since "$NS_C" "$c0" "$ROUNDS")
	conns=$(printf '%s\n' "$cnt" | counter connections)
	mp=$(printf '%s\n' "$cnt" | counter multipath_connections)
	fb=$(printf '%s\n' "$cnt" | counter fallbacks_timeout)
	joined=$(printf '%s\n' "$cnt" | counter subflows_joined)
	log "$name: clients' counters: connections $conns, multipath $mp, fallbacks (timeout) $fb, joined $joined"
	[ "$conns" = "$ROUNDS" ] || fail "$name: the clients counted $conns connections, want $ROUNDS"
	[ "$mp" = "$ROUNDS" ] ||
		fail "$name: only $mp of $ROUNDS connections negotiated multipath ($fb HELLO reply timeouts)"
	[ "$joined" -ge "$ROUNDS" ] || fail "$name: $joined joins for $ROUNDS connections"
	# the children serviced the connections (their connections_taken_over,
	# a line each at exit, a moment after their client has its answer).
	# A loaded machine may keep a child off the CPU past the bounds (the
	# parent then keeps the connection, which is correct): at least one;
	# without the poll/select/epoll_ctl adoption none is, since these
	# children make no other call before their client's bytes arrive
	taken=0
	for ((i = 0; i < 100; i++)); do
		taken=$(tail -n +"$((s0 + 1))" "$T_DIR/counters-$NS_S.jsonl" 2>/dev/null |
			counter connections_taken_over)
		[ "$taken" -ge "$ROUNDS" ] && break
		sleep 0.05
	done
	log "$name: $taken of $ROUNDS connections taken over by the server's children"
	FS_TAKEN=$taken
	[ "$taken" -ge 1 ] || [ "$name" = python-inetd-plain ] ||
		fail "$name: the server's children took none of the $ROUNDS connections over"
	if tail -n +"$((n0 + 1))" "$sl" | grep -E ' (warn|error): '; then
		fail "$name: the server's shim logged warnings or errors (above)"
	fi
}

if selected socat; then
	step "socat fork PIPE: $ROUNDS new clients, each must negotiate multipath"
	next_port
	bg_start echo shim "$NS_S" socat "TCP-LISTEN:$PORT,bind=$SRV4,reuseaddr,fork" PIPE
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	fs_rounds socat "$T_DIR/echocli.py" "$SRV4" "$PORT" "$T_DIR/data.bin"
	bg_stop "$spid"
fi

for m in poll epoll pepoll exec inetd inetd-plain; do
	selected "python-$m" || continue
	step "python ForkingTCPServer (the child's first act: $m): $ROUNDS new clients, each multipath"
	next_port
	[ "$m" = inetd ] && T_ENV=(${FS_SRV_ENV:-})
	s0=$(counters_mark "$NS_S")
	bg_start "fsrv-$m" shim "$NS_S" /usr/bin/python3 "$T_DIR/fsrv.py" "$SRV4" "$PORT" "$T_DIR/data.bin" "$m"
	T_ENV=()
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	fs_rounds "python-$m" "$PYTOOL" getclient "$SRV4" "$PORT"
	if [ "$m" = inetd ]; then
		# every exec'd image that took its connection over wrote its
		# counters when it (or its keeper) ended (fs_rounds counted
		# them: FS_TAKEN); one whose parent kept the connection ran no
		# engine and writes none
		cnt=$(counters_since "$NS_S" "$s0" "$FS_TAKEN")
		carried=$(printf '%s\n' "$cnt" | counter connections_exec_adopted)
		log "python-inetd: $carried of $ROUNDS connections serviced by the exec'd image"
		[ "$carried" -ge 1 ] || fail "python-inetd: no exec'd image serviced its connection"
	fi
	bg_stop "$spid"
done
exit 0
