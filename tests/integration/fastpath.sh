#!/bin/bash
# fastpath.sh: a server under the shim hands a plain client's connection to
# the app as the real TCP socket (issue 15), and every other client still
# gets what it got before.  One server process under the shim (python,
# sequential) accepts each connection only once the client has had time
# to send (or not), records what its accepted descriptor is (a TCP socket:
# its inode is in /proc/net/tcp*; else an AF_UNIX socketpair end), then
# optionally sends a banner, reads everything the client sends until EOF,
# and answers its sha256.  The clients check banner + sha256 byte-exactly.
#   plain      plain client sends 4 MiB at once: the app's fd is TCP
#   plain6     the same over IPv6
#   empty      plain client connects and closes without a byte: TCP, EOF
#   banner     plain client waits for the server's banner before sending
#              (server-first): nothing to peek at accept, so the shim
#              negotiates as before (banner window), byte-exact
#   shim       shim client (HELLO first): negotiated, multipath (AF_UNIX)
# Sub-cases (T_ONLY=REGEX): the names above.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

# "multipath negotiated" is an info line
export MPTCPSHIM_LOG=info
tb_init fastpath
require_shim
tb_setup 1
mkrand "$T_DIR/data.bin" $((4 * 1024 * 1024))
WANT=$(sha256 "$T_DIR/data.bin")

cat >"$T_DIR/srv.py" <<'PYEOF'
import hashlib, os, select, socket, sys, time
host, port, report = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
ls = socket.socket(fam, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(8)
print("listening", flush=True)

def kind(fd):
    link = os.readlink("/proc/self/fd/%d" % fd)
    ino = link[len("socket:["):-1]
    for tab in ("tcp", "tcp6"):
        with open("/proc/self/net/" + tab) as f:
            for line in f.readlines()[1:]:
                if line.split()[9] == ino:
                    return "tcp"
    with open("/proc/self/net/unix") as f:
        for line in f.readlines()[1:]:
            if line.split()[6] == ino:
                return "unix"
    return "other"

while True:
    # accept late: by then the client has sent (or not)
    select.select([ls], [], [])
    time.sleep(0.3)
    c, peer = ls.accept()
    k = kind(c.fileno())
    banner = os.path.exists(report + ".banner")
    if banner:
        c.sendall(b"220 fastpath ready\r\n")
    h = hashlib.sha256()
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        h.update(b)
        n += len(b)
    c.sendall((h.hexdigest() + "\n").encode())
    c.close()
    with open(report, "a") as f:
        f.write("%s %d\n" % (k, n))
PYEOF

cat >"$T_DIR/cli.py" <<'PYEOF'
import socket, sys
host, port, path, out, waitb = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] == "1"
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.create_connection((host, port))
got = b""
if waitb:
    while not got.endswith(b"\r\n"):
        b = s.recv(1)
        if not b:
            break
        got += b
if path != "-":
    with open(path, "rb") as f:
        s.sendall(f.read())
s.shutdown(socket.SHUT_WR)
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
open(out, "wb").write(got)
PYEOF

REPORT="$T_DIR/report"
next_port
bg_start srv4 shim "$NS_S" "$PY" "$T_DIR/srv.py" "$S4" "$PORT" "$REPORT"
P4=$PORT
next_port
bg_start srv6 shim "$NS_S" "$PY" "$T_DIR/srv.py" "$S6" "$PORT" "$REPORT"
P6=$PORT
wait_listen "$NS_S" "$P4"
wait_listen "$NS_S" "$P6"

# run_case NAME CLIMODE HOST PORT FILE|- WAITBANNER WANTKIND
run_case() {
	local name=$1 cm=$2 host=$3 port=$4 file=$5 waitb=$6 want=$7 exp got line
	selected "$name" || return 0
	step "$name: $cm client, expecting the server's fd to be $want"
	rm -f "$REPORT" "$REPORT.banner"
	[ "$waitb" = 0 ] || : >"$REPORT.banner"
	nsrun "$cm" "$NS_C" "$PY" "$T_DIR/cli.py" "$host" "$port" "$file" "$T_DIR/got-$name" "$waitb" ||
		fail "$name: client exited $?"
	if [ "$file" = - ]; then
		exp=$(printf '' | sha256sum | cut -d' ' -f1)
	else
		exp=$WANT
	fi
	{
		[ "$waitb" = 0 ] || printf '220 fastpath ready\r\n'
		echo "$exp"
	} >"$T_DIR/want-$name"
	cmp -s "$T_DIR/want-$name" "$T_DIR/got-$name" ||
		fail "$name: client received $(od -c "$T_DIR/got-$name" | head -n 3), not banner + sha256"
	for _ in $(seq 1 100); do [ -s "$REPORT" ] && break; sleep 0.05; done
	line=$(cat "$REPORT" 2>/dev/null || true)
	got=${line%% *}
	case "|$want|" in
	*"|$got|"*) ;;
	*) fail "$name: the server app's descriptor is '$got', want '$want' (report: $line)" ;;
	esac
	log "ok: $name: byte-exact, server fd is $got"
}

run_case plain plain "$S4" "$P4" "$T_DIR/data.bin" 0 tcp
run_case plain6 plain "$S6" "$P6" "$T_DIR/data.bin" 0 tcp
run_case empty plain "$S4" "$P4" - 0 tcp
run_case banner plain "$S4" "$P4" "$T_DIR/data.bin" 1 unix
# (with MPTCPSHIM_INLINE=1 in the environment the server may accept a
# shim client's connection inline, when its HELLO is there at accept: the
# app keeps the TCP socket, framed)
shim_kind=unix
[ "${MPTCPSHIM_INLINE:-0}" != 1 ] || shim_kind='tcp|unix'

run_case shim shim "$S4" "$P4" "$T_DIR/data.bin" 0 "$shim_kind"
if selected shim; then
	grep -q 'multipath negotiated (server)' "$T_DIR/shim-$NS_S.log" ||
		fail "shim: the server did not negotiate multipath with the shim client"
fi
log "PASS"
