#!/bin/bash
# handback.sh: a server under the shim that accepts a plain client's
# connection before the client has sent anything gets the real TCP socket
# back once the client's first bytes show it plain (issue 15, DESIGN
# section 2 "Hand-back"): once it has answered the client's first bytes,
# its descriptor becomes a TCP socket (its inode in /proc/net/tcp*), no
# longer the socketpair end the shim relays through.  The python server
# accepts at once (its fd is then a socketpair end: nothing to peek),
# reads the client's first line, answers it, hashes everything the client
# sends next until EOF, looks at its fd again and answers the sha256; the
# client checks every byte; the server process's connections_handed_back
# counter (mptcpshim status --counters) must be 1 for a plain client, 0
# for a shim client.
#   block      blocking recv()/sendall()
#   epoll      non-blocking, edge-triggered epoll (the registration must
#              follow the swap, or the server hangs)
#   poll       poll() (not hooked) before each recv(): the swap must come
#              at the end of the recv that emptied the end
#   banner     server-first: a banner before the client's first line
#   shim       a shim client: multipath, never handed back (AF_UNIX)
#   nginx      nginx (1 worker) accepts a keep-alive client that sends its
#              requests late: after the second response the worker holds
#              the connection's TCP socket at the app's number
# Sub-cases (T_ONLY=REGEX): the names above.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

export MPTCPSHIM_LOG=info
tb_init handback
require_shim
tb_setup 1
mkrand "$T_DIR/data.bin" $((8 * 1024 * 1024))
WANT=$(sha256 "$T_DIR/data.bin")

cat >"$T_DIR/srv.py" <<'PYEOF'
import hashlib, os, select, socket, sys
host, port, mode, report = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
ls = socket.socket(fam, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(8)

def kind(fd):
    ino = os.readlink("/proc/self/fd/%d" % fd)[len("socket:["):-1]
    for tab in ("tcp", "tcp6"):
        with open("/proc/self/net/" + tab) as f:
            for line in f.readlines()[1:]:
                if line.split()[9] == ino:
                    return "tcp"
    return "unix"

class Conn:
    def __init__(self, c):
        self.c = c
        self.first = b""
        self.h = hashlib.sha256()
        self.n = 0
        self.k0 = kind(c.fileno())
        self.k1 = "-"
        self.acked = False
    def got(self, b):  # 1 when the client is done
        if not self.acked:
            self.first += b
            if b"\n" not in self.first:
                return 0
            line, rest = self.first.split(b"\n", 1)
            self.c.setblocking(True)
            self.c.sendall(b"ack " + line + b"\n")
            if mode == "epoll":
                self.c.setblocking(False)
            self.acked = True
            b = rest
        if b:
            self.h.update(b)
            self.n += len(b)
        return 0
    def done(self):
        if self.k1 == "-":
            self.k1 = kind(self.c.fileno())
        # the TCP socket comes back as the app left it: Nagle on (the
        # shim's subflow ran with TCP_NODELAY)
        if self.k1 == "tcp" and self.c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY):
            self.k1 = "tcp-with-nodelay"
        self.c.setblocking(True)
        self.c.sendall((self.h.hexdigest() + "\n").encode())
        self.c.close()
        with open(report, "a") as f:
            f.write("%s %s %d\n" % (self.k0, self.k1, self.n))

print("listening", flush=True)
while True:
    c, peer = ls.accept()  # at once: the client has not sent yet
    k = Conn(c)
    if mode == "banner":
        c.sendall(b"220 handback ready\r\n")
    if mode in ("block", "banner"):
        while True:
            b = c.recv(65536)
            if not b:
                break
            k.got(b)
    elif mode == "poll":
        p = select.poll()
        p.register(c.fileno(), select.POLLIN)
        while True:
            p.poll()
            b = c.recv(65536)
            if not b:
                break
            k.got(b)
    else:  # epoll, edge-triggered, non-blocking
        c.setblocking(False)
        ep = select.epoll()
        ep.register(c.fileno(), select.EPOLLIN | select.EPOLLET)
        eof = False
        while not eof:
            if not ep.poll(5):  # a registration left on the old file
                k.k1 = "stuck"
                break
            while True:
                try:
                    b = c.recv(65536)
                except BlockingIOError:
                    break
                if not b:
                    eof = True
                    break
                k.got(b)
        ep.close()
    k.done()
PYEOF

cat >"$T_DIR/cli.py" <<'PYEOF'
import socket, sys, time
host, port, path, out, banner = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] == "1"
s = socket.create_connection((host, port))
f = s.makefile("rb")
got = b""
if banner:
    got += f.readline()
time.sleep(0.3)  # the server accepted before this
s.sendall(b"first\n")
got += f.readline()
with open(path, "rb") as d:
    s.sendall(d.read())
s.shutdown(socket.SHUT_WR)
got += f.read()
open(out, "wb").write(got)
PYEOF

REPORT="$T_DIR/report"

# run_case NAME MODE CLIMODE WANT(k0 k1; an extended regex, alternatives
# with |)
run_case() {
	local name=$1 mode=$2 cm=$3 want=$4 line port hb nhb=1
	[ "$cm" = plain ] || nhb=0
	selected "$name" || return 0
	step "$name: $cm client, $mode server; its fd at accept and at the end: $want"
	next_port
	port=$PORT
	rm -f "$REPORT"
	bg_start "srv-$name" shim "$NS_S" "$PY" "$T_DIR/srv.py" "$S4" "$port" "$mode" "$REPORT"
	wait_listen "$NS_S" "$port"
	nsrun "$cm" "$NS_C" "$PY" "$T_DIR/cli.py" "$S4" "$port" "$T_DIR/data.bin" "$T_DIR/got-$name" \
		"$([ "$mode" = banner ] && echo 1 || echo 0)" || fail "$name: client exited $?"
	{
		[ "$mode" != banner ] || printf '220 handback ready\r\n'
		echo "ack first"
		echo "$WANT"
	} >"$T_DIR/want-$name"
	cmp -s "$T_DIR/want-$name" "$T_DIR/got-$name" ||
		fail "$name: client received $(od -c "$T_DIR/got-$name" | head -n 4), not the answers"
	for _ in $(seq 1 100); do [ -s "$REPORT" ] && break; sleep 0.05; done
	line=$(cat "$REPORT" 2>/dev/null || true)
	[[ "${line% *}" =~ ^($want)$ ]] || fail "$name: the server app's fd was '${line% *}', want '$want'"
	[ "${line##* }" = $((8 * 1024 * 1024)) ] || fail "$name: the server read ${line##* } bytes"
	# the shim's own count of hand-backs (mptcpshim status --counters):
	# one for a plain client, none for a shim client
	hb=$(shim_counter connections_handed_back "$(pgrep -P "$BG_PID" | head -n 1)")
	[ "$hb" = "$nhb" ] || fail "$name: the server's connections_handed_back counter is '$hb', want $nhb"
	bg_stop "$BG_PID"
	log "ok: $name: byte-exact, server fd $want"
}

run_case block block plain "unix tcp"
run_case epoll epoll plain "unix tcp"
run_case poll poll plain "unix tcp"
run_case banner banner plain "unix tcp"
# (with MPTCPSHIM_INLINE=1 in the environment the server may accept the
# shim client's connection inline, its HELLO there at accept: the app
# keeps the TCP socket, framed, maybe promoted to a socketpair later)
if [ "${MPTCPSHIM_INLINE:-0}" = 1 ]; then
	run_case shim block shim "unix unix|tcp unix|tcp tcp"
else
	run_case shim block shim "unix unix"
fi
if selected shim; then
	grep -q 'multipath negotiated (server)' "$T_DIR/shim-$NS_S.log" ||
		fail "shim: the server did not negotiate multipath with the shim client"
fi

if selected nginx; then
	step "nginx: a keep-alive client sending its requests late"
	SRV4=$S4
	SRV6=$S6
	mkdir -p "$T_DIR/www"
	cp "$T_DIR/data.bin" "$T_DIR/www/file.bin"
	next_port
	nginx_start "$PORT" "$T_DIR/www" 1
	cat >"$T_DIR/ngx.py" <<'PYEOF'
import hashlib, os, socket, sys, time
host, port, worker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port))
f = s.makefile("rb")

def get():
    s.sendall(b"GET /file.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    n = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    return hashlib.sha256(f.read(n)).hexdigest()

def app_fd_kind():
    # the worker's descriptor of this connection's TCP socket: the app's
    # number (low) once handed back, the shim's (high) while relayed
    port_hex = ":%04X" % s.getsockname()[1]
    inos = set()
    with open("/proc/%s/net/tcp" % worker) as t:
        for line in t.readlines()[1:]:
            x = line.split()
            if x[2].endswith(port_hex):
                inos.add(x[9])
    fds = []
    for fd in os.listdir("/proc/%s/fd" % worker):
        try:
            l = os.readlink("/proc/%s/fd/%s" % (worker, fd))
        except OSError:
            continue
        if l[len("socket:["):-1] in inos:
            fds.append(int(fd))
    return fds

time.sleep(0.3)  # nginx accepted before the request
h1 = get()
h2 = get()  # handed back at nginx's read of this one, after its first answer
fds = app_fd_kind()
h3 = get()
print(h1 if h1 == h2 == h3 else "differ", min(fds) if fds else -1)
PYEOF
	line=$(nsrun plain "$NS_C" "$PY" "$T_DIR/ngx.py" "$S4" "$PORT" "${NGX_WORKERS%% *}") ||
		fail "nginx: client failed"
	read -r h1 fd <<<"$line"
	[ "$h1" = "$WANT" ] || fail "nginx: a body differs from the file ($h1)"
	# the app's numbers are low (nginx's listeners, logs...); the shim's
	# sit in the top half of the range or above the soft limit
	[ "$fd" -ge 0 ] && [ "$fd" -lt 64 ] ||
		fail "nginx: the connection's TCP socket is at fd $fd of the worker, not the app's number"
	hb=$(shim_counter connections_handed_back "${NGX_WORKERS%% *}")
	[ "$hb" = 1 ] || fail "nginx: the worker's connections_handed_back counter is '$hb', want 1"
	nginx_check_stop
	log "ok: nginx: byte-exact 3 times, the worker's fd $fd is the TCP socket"
fi
log "PASS"
