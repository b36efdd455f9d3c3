#!/bin/bash
# closing.sh: how connections end while paths come and go, over two
# 50 Mbit/s paths (topology A, IPv4, shim on both ends):
#   halfclose  the client sends 16 MiB, shutdown(SHUT_WR), the server reads
#              to EOF and replies 16 MiB, then closes; path 2's link goes
#              down and up again once in each direction's phase: both
#              streams byte-exact, both ends see EOF;
#   abort-c / abort-s  after an exchange, one end sets SO_LINGER {1, 0} and
#              closes: the other end's blocked read fails with ECONNRESET;
#   abort-hc   the same after the client's shutdown(SHUT_WR): the server
#              reads EOF, aborts, and the client's read gets ECONNRESET;
#   abort-fork abort-c with the server reading in a forked child whose
#              parent closed its copy: the child's read gets ECONNRESET;
#   unread     the server closes with bytes it never read: the client's
#              blocked read fails with ECONNRESET;
#   kill9      the client process is killed (SIGKILL) while it streams to
#              the server: the server's read returns (an error or EOF, as
#              with TCP) within a few seconds;
#   valgrind   a C echo server under valgrind (memcheck, shim preloaded)
#              serves 5 connections (one plain, path 2 link down/up, path 2
#              blackholed/restored, an abortive close, one plain): valgrind
#              reports no error and no definite leak; afterwards no
#              subflow is left ESTABLISHED or CLOSE-WAIT in either
#              namespace and the server has no more threads than after its
#              first connection.
# Harness self-test without the shim: NOSHIM=1 bash closing.sh
# Sub-cases (T_ONLY=REGEX): halfclose abort-c abort-s abort-hc abort-fork unread kill9
#   valgrind
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${HC_SIZE:=$((16 * 1024 * 1024))}"
: "${VG_SIZE:=$((6 * 1024 * 1024))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=400}"

tb_init closing
require_shim
write_pytool
command -v nft >/dev/null || fail "nft not installed"
D=$T_DIR
# the path whose counters show the transfer is under way (plain TCP, for
# the harness self-test, uses path 1 only)
DP=2
shim_enabled || DP=1

CT="$D/closetool.py"
cat >"$CT" <<'PYEOF'
# closetool.py CMD ...: small programs whose every outcome is written to a
# result file as "<EOF|OK|ERRNONAME> <detail>".
import errno, hashlib, os, socket, struct, sys, time

def listener(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(8)
    return s

def accept1(host, port):
    s = listener(host, port)
    c, _ = s.accept()
    s.close()
    return c

def result(path, text):
    with open(path, "w") as f:
        f.write(text + "\n")
    sys.stderr.write("closetool %s: %s\n" % (sys.argv[1], text))

def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno))

def recv_exact(c, n):
    got = b""
    while len(got) < n:
        b = c.recv(n - len(got))
        if not b:
            raise EOFError("EOF after %d of %d B" % (len(got), n))
        got += b
    return got

def read_until_end(c, out):
    # blocked reads until EOF or an error: the outcome
    n = 0
    try:
        while True:
            b = c.recv(65536)
            if not b:
                return result(out, "EOF %d" % n)
            n += len(b)
    except OSError as e:
        return result(out, "%s %d" % (ename(e), n))

def linger_close(c):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()

def cmd_hcserver(host, port, replyfile, out, mark):
    # read to EOF (sha256 to OUT), touch MARK, send REPLYFILE, close
    c = accept1(host, port)
    h = hashlib.sha256(); n = 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b); n += len(b)
    open(mark, "w").close()
    with open(replyfile, "rb") as f:
        while True:
            b = f.read(1 << 16)
            if not b:
                break
            c.sendall(b)
    c.close()
    result(out, "OK %s %d" % (h.hexdigest(), n))

def cmd_hcclient(host, port, sendfile, recvfile):
    c = socket.create_connection((host, int(port)))
    with open(sendfile, "rb") as f:
        while True:
            b = f.read(1 << 16)
            if not b:
                break
            c.sendall(b)
    c.shutdown(socket.SHUT_WR)
    with open(recvfile, "wb") as f:
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            f.write(b)
    c.close()

# abort: A sends 100000 B, B reads them all and answers "k"; then the
# aborting side (WHO) closes with SO_LINGER {1,0} and the other one reads on.
# who "server-hc": the client shuts down writing after the "k", the server
# reads that EOF and then aborts: the client's read still gets ECONNRESET.
def cmd_abortserver(host, port, who, out):
    c = accept1(host, port)
    recv_exact(c, 100000)
    c.sendall(b"k")
    if who.startswith("server"):
        if who == "server-hc" and c.recv(1) != b"":
            return result(out, "BAD no EOF")
        time.sleep(0.2)
        linger_close(c)
        return result(out, "OK aborted")
    read_until_end(c, out)

# the same server side in a forked child (the parent closes its copy and
# waits): the child holds the only descriptor of the connection
def cmd_forkabortserver(host, port, who, out):
    c = accept1(host, port)
    pid = os.fork()
    if pid == 0:
        try:
            recv_exact(c, 100000)
            c.sendall(b"k")
            read_until_end(c, out)
        finally:
            os._exit(0)
    c.close()
    os.waitpid(pid, 0)

def cmd_abortclient(host, port, who, out):
    c = socket.create_connection((host, int(port)))
    c.sendall(os.urandom(100000))
    if recv_exact(c, 1) != b"k":
        return result(out, "BAD reply")
    if who == "client":
        time.sleep(0.2)
        linger_close(c)
        return result(out, "OK aborted")
    if who == "server-hc":
        c.shutdown(socket.SHUT_WR)
    read_until_end(c, out)

# unread: the client sends 200000 B and reads; the server reads 1000 B,
# waits, and closes with the rest unread.
def cmd_unreadserver(host, port, out):
    c = accept1(host, port)
    recv_exact(c, 1000)
    time.sleep(1.0)
    c.close()
    result(out, "OK closed")

def cmd_unreadclient(host, port, out):
    c = socket.create_connection((host, int(port)))
    c.sendall(os.urandom(200000))
    read_until_end(c, out)

# kill9: the client streams forever (its pid in PIDFILE); the server reads.
def cmd_streamclient(host, port, pidfile):
    c = socket.create_connection((host, int(port)))
    with open(pidfile, "w") as f:
        f.write("%d\n" % os.getpid())
    buf = os.urandom(1 << 16)
    while True:
        c.sendall(buf)

def cmd_readserver(host, port, out):
    c = accept1(host, port)
    read_until_end(c, out)

# one abortive connection to an echo server: send, read the echo, abort
def cmd_echoabort(host, port, out):
    c = socket.create_connection((host, int(port)))
    data = os.urandom(300000)
    c.sendall(data)
    if recv_exact(c, len(data)) != data:
        return result(out, "BAD echo")
    linger_close(c)
    result(out, "OK aborted")

cmds = {k[4:]: v for k, v in list(globals().items()) if k.startswith("cmd_")}
cmds[sys.argv[1]](*sys.argv[2:])
PYEOF

# res FILE: the result line of a closetool run ("" if none)
res() { cat "$1" 2>/dev/null || true; }

tb_topo A 2 50,50

# --- half-close while path 2 comes and goes ------------------------------------
if selected halfclose; then
	what="halfclose: $HC_SIZE B each way (client SHUT_WR in between), path 2's link down/up in each phase"
	step "$what"
	mkrand "$D/hc.req" "$HC_SIZE"
	mkrand "$D/hc.rep" "$HC_SIZE"
	rm -f "$D/hc.mark" "$D/hc.res" "$D/hc.out"
	next_port
	bg_start srv-hc shim "$NS_S" "$PY" "$CT" hcserver "$SRV4" "$PORT" "$D/hc.rep" "$D/hc.res" "$D/hc.mark"
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	(
		set +e
		# request phase: path 2 carries data, then its link flaps
		wait_moved "$DP" $((1024 * 1024)) 60 || exit 1
		sleep 0.3
		ip -n "$NS_C" link set "${IFC[2]}" down
		echo "down 1 (request phase)"
		sleep 0.5
		ip -n "$NS_C" link set "${IFC[2]}" up
		echo "up 1"
		# reply phase (the server read EOF): flap again
		for ((k = 0; k < 3000; k++)); do
			[ -e "$D/hc.mark" ] && break
			sleep 0.02
		done
		[ -e "$D/hc.mark" ] || exit 1
		wait_moved "$DP" $((512 * 1024)) 60 || exit 1
		sleep 0.3
		ip -n "$NS_C" link set "${IFC[2]}" down
		echo "down 2 (reply phase)"
		sleep 0.5
		ip -n "$NS_C" link set "${IFC[2]}" up
		echo "up 2"
	) >"$D/hc.cut" 2>&1 &
	cpid=$!
	BG_PIDS+=("$cpid")
	nsrun shim "$NS_C" "$PY" "$CT" hcclient "$SRV4" "$PORT" "$D/hc.req" "$D/hc.out" ||
		fail "$what: client failed"
	bg_wait "$spid" 30 || fail "$what: server failed ($?)"
	bg_wait "$cpid" 10 || true
	log "  cuts: $(tr '\n' ' ' <"$D/hc.cut")"
	grep -q 'up 2' "$D/hc.cut" || fail "$what: the link flaps did not both happen during the transfer"
	same_file "halfclose reply" "$D/hc.rep" "$D/hc.out"
	r=$(res "$D/hc.res")
	[ "$r" = "OK $(sha256 "$D/hc.req") $HC_SIZE" ] || fail "$what: the server read '$r', want the request's sha256 and size"
	log "ok: halfclose request ($HC_SIZE B, sha256 matches)"
	if shim_enabled; then
		grep -qE 'subflow [0-9]+ lost \(' "$T_DIR/shim-$NS_C.log" || fail "$what: the client logged no subflow lost"
		grep -qE 'closed gracefully' "$T_DIR/shim-$NS_C.log" || fail "$what: the client's connection did not close gracefully"
		grep -qE 'closed gracefully' "$T_DIR/shim-$NS_S.log" || fail "$what: the server's connection did not close gracefully"
	fi
	rm -f "$D/hc.req" "$D/hc.rep" "$D/hc.out"
fi

# --- abortive close ------------------------------------------------------------
abort_case() {
	local who=$1 name="abort-${1:0:1}" other srvcmd=abortserver
	other=server
	[ "$who" = client ] || other=client
	[ "$who" = server-hc ] && name=abort-hc
	local what="$name: the $who closes with SO_LINGER {1,0}: the $other's read fails with ECONNRESET"
	[ "$who" = server-hc ] && what="$name: the client shuts down writing, the server reads EOF and closes with SO_LINGER {1,0}: the client's read fails with ECONNRESET"
	if [ "${2:-}" = fork ]; then
		# the server's connection lives in a forked child, the parent
		# (which services it) closed its copy: the reset must reach
		# the child as an error, not an EOF passing for a whole stream
		name=abort-fork
		srvcmd=forkabortserver
		what="$name: the server reads in a forked child (the parent closed its copy); the client closes with SO_LINGER {1,0}: the child's read fails with ECONNRESET"
	fi
	selected "$name" || return 0
	step "$what"
	rm -f "$D/ab-s.res" "$D/ab-c.res"
	next_port
	bg_start "srv-$name" shim "$NS_S" "$PY" "$CT" "$srvcmd" "$SRV4" "$PORT" "$who" "$D/ab-s.res"
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	T_CMD_TIMEOUT=30 nsrun shim "$NS_C" "$PY" "$CT" abortclient "$SRV4" "$PORT" "$who" "$D/ab-c.res" ||
		fail "$what: client failed"
	bg_wait "$spid" 15 || fail "$what: the server did not return ($?)"
	local rs rc
	rs=$(res "$D/ab-s.res")
	rc=$(res "$D/ab-c.res")
	log "  server: $rs; client: $rc"
	if [ "$who" = client ]; then
		[ "$rc" = "OK aborted" ] || fail "$what: client: $rc"
		case $rs in ECONNRESET\ *) ;; *) fail "$what: the server's read got '$rs', want ECONNRESET" ;; esac
	else
		[ "$rs" = "OK aborted" ] || fail "$what: server: $rs"
		case $rc in ECONNRESET\ *) ;; *) fail "$what: the client's read got '$rc', want ECONNRESET" ;; esac
	fi
}
abort_case client
abort_case server
abort_case server-hc
abort_case client fork

# --- close with unread data ----------------------------------------------------
if selected unread; then
	what="unread: the server closes with unread bytes: the client's read fails with ECONNRESET"
	step "$what"
	rm -f "$D/ur-s.res" "$D/ur-c.res"
	next_port
	bg_start srv-unread shim "$NS_S" "$PY" "$CT" unreadserver "$SRV4" "$PORT" "$D/ur-s.res"
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	T_CMD_TIMEOUT=30 nsrun shim "$NS_C" "$PY" "$CT" unreadclient "$SRV4" "$PORT" "$D/ur-c.res" ||
		fail "$what: client failed"
	bg_wait "$spid" 15 || fail "$what: the server did not return ($?)"
	rc=$(res "$D/ur-c.res")
	log "  server: $(res "$D/ur-s.res"); client: $rc"
	case $rc in ECONNRESET\ *) ;; *) fail "$what: the client's read got '$rc', want ECONNRESET" ;; esac
fi

# --- the client killed mid-transfer --------------------------------------------
# The killed client's kernel resets the subflows with unread bytes and FINs
# the others.  A live shim never resets its last subflow (it parks it when
# its address or link goes), so a reset last subflow means the process is
# gone: ECONNRESET at once, as plain TCP gives.
if selected kill9; then
	what="kill9: the streaming client is killed (SIGKILL): the server's read returns within 5 s"
	step "$what"
	rm -f "$D/k9.res" "$D/k9.pid"
	next_port
	bg_start srv-kill9 shim "$NS_S" "$PY" "$CT" readserver "$SRV4" "$PORT" "$D/k9.res"
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	bg_start cli-kill9 shim "$NS_C" "$PY" "$CT" streamclient "$SRV4" "$PORT" "$D/k9.pid"
	cpid=$BG_PID
	wait_moved "$DP" $((1024 * 1024)) 60 || fail "$what: path 2 carried nothing"
	sleep 0.5
	[ -s "$D/k9.pid" ] || fail "$what: no client pid"
	kill -KILL "$(cat "$D/k9.pid")"
	t0=$(now_ms)
	bg_wait "$spid" 5 || fail "$what: the server's read did not return within 5 s of the kill"
	log "  server: $(res "$D/k9.res") ($(($(now_ms) - t0)) ms after the kill)"
	case $(res "$D/k9.res") in EOF\ * | E*\ *) ;; *) fail "$what: server: '$(res "$D/k9.res")'" ;; esac
	bg_wait "$cpid" 5 || true
fi

# --- valgrind: nothing outlives its connection ---------------------------------
if selected valgrind && shim_enabled; then
	what="valgrind: C echo server under memcheck, 5 connections with path events"
	step "$what"
	command -v valgrind >/dev/null || fail "valgrind not installed"
	cat >"$D/echosrv.c" <<'CEOF'
/* echosrv HOST PORT NCONN QUITFILE: echo NCONN connections one after the
 * other, then wait for QUITFILE to exist and return from main. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	static char buf[65536];
	int one = 1, s, i;

	if (argc != 5)
		return 2;
	a.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1)
		return 2;
	s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 8)) {
		perror("echosrv: listen");
		return 1;
	}
	/* Serve connections one at a time until the quit file appears (at
	 * least argv[3] are expected: a client's first HELLO to this slow
	 * server can time out, and its junk connection counts too). */
	for (i = 0; access(argv[4], F_OK) != 0;) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		int c;
		long n = 0;
		ssize_t r;

		if (poll(&p, 1, 100) <= 0)
			continue;
		c = accept(s, NULL, NULL);
		if (c < 0) {
			perror("echosrv: accept");
			return 1;
		}
		while ((r = read(c, buf, sizeof(buf))) > 0) {
			ssize_t w, off = 0;

			for (; off < r; off += w) {
				w = write(c, buf + off, (size_t)(r - off));
				if (w < 0)
					break;
			}
			if (off < r)
				break;
			n += r;
		}
		fprintf(stderr, "echosrv: connection %d: %ld B echoed, ended by %s\n", i, n,
			r == 0 ? "EOF" : "an error");
		close(c);
		i++;
	}
	close(s);
	fprintf(stderr, "echosrv: done\n");
	return 0;
}
CEOF
	"${CC:-cc}" -std=c11 -D_DEFAULT_SOURCE -O1 -g -Wall -o "$D/echosrv" "$D/echosrv.c" || fail "compiling echosrv"
	mkrand "$D/vg.in" "$VG_SIZE"
	rm -f "$D/quit"
	next_port
	vgport=$PORT
	bg_start valgrind shim "$NS_S" valgrind --quiet --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
		--error-exitcode=9 --num-callers=30 --log-file="$D/valgrind.log" \
		"$D/echosrv" "$SRV4" "$vgport" 5 "$D/quit"
	vpid=$BG_PID
	wait_listen "$NS_S" "$vgport" 60
	srvpid() { # the memcheck process in the server namespace
		local p
		for p in $(ip netns pids "$NS_S"); do
			if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "echosrv $SRV4 $vgport"; then
				echo "$p"
				return 0
			fi
		done
	}
	vg_conn() { # N EVENT: one echo connection (bidiclient), EVENT mid-way
		local n=$1 ev=$2 cp
		rm -f "$D/vg.out"
		bg_start "vgcli-$n" shim "$NS_C" "$PY" "$PYTOOL" bidiclient "$SRV4" "$vgport" "$D/vg.in" "$D/vg.out"
		cp=$BG_PID
		case $ev in
		linkdown | blackhole)
			wait_moved "$DP" $((256 * 1024)) 60 || fail "$what: conn $n: path 2 carried nothing"
			[ "$ev" = linkdown ] && ip -n "$NS_C" link set "${IFC[2]}" down
			[ "$ev" = blackhole ] && blackhole "$NS_C" "${IFC[2]}" on
			sleep 1
			[ "$ev" = linkdown ] && ip -n "$NS_C" link set "${IFC[2]}" up
			[ "$ev" = blackhole ] && blackhole "$NS_C" "${IFC[2]}" off
			;;
		esac
		bg_wait "$cp" 120 || fail "$what: conn $n ($ev): the client failed ($?)"
		same_file "valgrind conn $n ($ev)" "$D/vg.in" "$D/vg.out"
	}
	vg_conn 1 none
	sleep 1
	p=$(srvpid)
	[ -n "$p" ] || fail "$what: the server process is gone"
	threads1=$(ls "/proc/$p/task" | wc -l)
	vg_conn 2 linkdown
	vg_conn 3 blackhole
	rm -f "$D/vgab.res"
	T_CMD_TIMEOUT=60 nsrun shim "$NS_C" "$PY" "$CT" echoabort "$SRV4" "$vgport" "$D/vgab.res" ||
		fail "$what: conn 4 (abortive close) failed"
	[ "$(res "$D/vgab.res")" = "OK aborted" ] || fail "$what: conn 4: $(res "$D/vgab.res")"
	vg_conn 5 none
	# every connection over: no subflow left behind (the server's own
	# and join listeners stay; TIME-WAIT and FIN-WAIT are the kernel's)
	left=""
	for k in $(seq 1 40); do
		left=$(for ns in "$NS_C" "$NS_S"; do
			ip netns exec "$ns" ss -tanH state established state close-wait | sed "s/^/$ns: /"
		done)
		[ -z "$left" ] && break
		sleep 0.25
	done
	[ -z "$left" ] || fail "$what: sockets left 10 s after the last connection ended:
$left"
	threads2=$(ls "/proc/$p/task" | wc -l)
	log "  server threads: $threads1 after the first connection, $threads2 after the last"
	[ "$threads2" -le "$threads1" ] || fail "$what: the server has $threads2 threads, $threads1 after its first connection"
	: >"$D/quit"
	rc=0
	bg_wait "$vpid" 60 || rc=$?
	grep -E 'definitely lost|Invalid|uninitialised|ERROR SUMMARY' "$D/valgrind.log" | head -n 20 >&2 || true
	log "  echosrv: $(grep -c 'ended by' "$D/bg-valgrind.log" || true) connection(s); valgrind exit status $rc"
	if grep -q 'mps_' "$D/valgrind.log"; then
		show_file "$D/valgrind.log" 120
		fail "$what: valgrind reports errors or leaks in libmptcpshim (mps_ frames above)"
	fi
	if [ "$rc" != 0 ]; then
		show_file "$D/valgrind.log" 120
		fail "$what: valgrind/echosrv exit status $rc (9: memcheck errors)"
	fi
	grep -q 'echosrv: done' "$D/bg-valgrind.log" || fail "$what: echosrv did not finish"
	[ "$(grep -c 'ended by' "$D/bg-valgrind.log" || true)" -ge 5 ] || fail "$what: echosrv served fewer than 5 connections"
	rm -f "$D/vg.in" "$D/vg.out"
fi
exit 0
