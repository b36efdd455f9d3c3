#!/bin/bash
# deferaccept.sh: TCP_DEFER_ACCEPT learnt per listener (issue 15,
# include/mptcpshim/defacc.h).  A server under the shim serves a plain
# client on its own TCP socket only when the client's bytes have arrived
# by accept(); the shim turns TCP_DEFER_ACCEPT on for a listener whose
# plain clients spoke first, never where they wait for a banner.  The
# python server (under the shim) notes, per connection, whether its fd at
# accept is the TCP socket ("tcp") or a socketpair end the shim relays
# through ("unix"), and what getsockopt(TCP_DEFER_ACCEPT) tells it (the
# app's own value: 0).  Plain clients (no shim).
#   learn    4 clients send at once, then 3 connect, wait 0.3 s and send:
#            those 3 are accepted only once their bytes wait ("tcp");
#            without the option they are accepted at once ("unix")
#   banner   a server-first server and clients that wait for its banner:
#            each banner within 0.5 s, the option never set; from the
#            second connection on the host is known plain and the banner
#            is not held at all (the server's debug log says so, 5 times)
#   heal     a server-first server whose first 4 clients send at once (the
#            option goes on), then 3 that wait for the banner: the first
#            waits about a second (the kernel's retry), its banner turns
#            the option off, the next two get theirs within 0.5 s
#   off      MPTCPSHIM_DEFER_ACCEPT=0: as learn, the late clients "unix"
# Sub-cases (T_ONLY=REGEX): the names above.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

export MPTCPSHIM_LOG=info
tb_init deferaccept
require_shim
tb_setup 1

cat >"$T_DIR/srv.py" <<'PYEOF'
import os, socket, sys
host, port, mode, report = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(16)

def kind(fd):
    ino = os.readlink("/proc/self/fd/%d" % fd)[len("socket:["):-1]
    with open("/proc/self/net/tcp") as f:
        for line in f.readlines()[1:]:
            if line.split()[9] == ino:
                return "tcp"
    return "unix"

print("listening", flush=True)
while True:
    c, peer = ls.accept()
    k = kind(c.fileno())
    d = ls.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT)
    if mode == "banner":
        c.sendall(b"220 ready\r\n")
    f = c.makefile("rb")
    line = f.readline()
    c.sendall(b"ack " + line)
    f.close()
    c.close()
    with open(report, "a") as r:
        r.write("%s %d\n" % (k, d))
PYEOF

cat >"$T_DIR/cli.py" <<'PYEOF'
import socket, sys, time
host, port, how, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
t0 = time.monotonic()
s = socket.create_connection((host, port))
f = s.makefile("rb")
got = b""
if how == "wait-banner":
    got += f.readline()
    waited = time.monotonic() - t0
elif how == "late":
    time.sleep(0.3)
    waited = 0.0
else:  # now, a server-first server's banner read after
    waited = 0.0
s.sendall(b"hello\n")
if how == "now-banner":
    got += f.readline()
got += f.readline()
s.close()
open(out, "a").write("%s %.3f %r\n" % (how, waited, got))
PYEOF

REPORT="$T_DIR/report"
CLOG="$T_DIR/cli.log"

# client HOW EXPECT: one plain client; its answer checked
client() {
	local how=$1 want=$2 last
	nsrun plain "$NS_C" "$PY" "$T_DIR/cli.py" "$S4" "$PORT" "$how" "$CLOG" ||
		fail "client ($how) exited $?"
	last=$(tail -n 1 "$CLOG")
	case "$last" in
	*"$want"*) ;;
	*) fail "client ($how) received $last, want $want" ;;
	esac
	WAITED=$(echo "$last" | awk '{print $2}')
}

# server NAME MODE [ENV...]: the python server under the shim
server() {
	local name=$1 mode=$2
	shift 2
	next_port
	rm -f "$REPORT" "$CLOG"

	bg_start "srv-$name" shim "$NS_S" env "$@" "$PY" "$T_DIR/srv.py" "$S4" "$PORT" "$mode" "$REPORT"
	wait_listen "$NS_S" "$PORT"
	LOG0=$(wc -l <"$T_DIR/shim-$NS_S.log" 2>/dev/null || echo 0)
}

# kinds FROM TO: the server's fd kinds for connections FROM..TO (1-based)
kinds() {
	for _ in $(seq 1 100); do [ "$(wc -l <"$REPORT" 2>/dev/null || echo 0)" -ge "$2" ] && break; sleep 0.05; done
	sed -n "$1,$2p" "$REPORT" | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//'
}

shimlog_since() { tail -n +"$((LOG0 + 1))" "$T_DIR/shim-$NS_S.log" 2>/dev/null || true; }

learn_case() {
	local name=$1 want=$2
	shift 2
	server "$name" plain "$@"
	for _ in 1 2 3 4; do client now "ack hello"; done
	for _ in 1 2 3; do client late "ack hello"; done
	k=$(kinds 5 7)
	[ "$k" = "$want" ] || fail "$name: the late clients' fds at accept were '$k', want '$want'"
	# the app reads its own value, never the shim's
	[ "$(awk '{print $2}' "$REPORT" | sort -u)" = 0 ] ||
		fail "$name: getsockopt(TCP_DEFER_ACCEPT) told the app $(awk '{print $2}' "$REPORT" | sort -u | tr '\n' ' ')"
	bg_stop "$BG_PID"
}

if selected learn; then
	step "learn: 4 plain clients speak first, then 3 late ones are accepted with their bytes waiting"
	learn_case learn "tcp tcp tcp"
	shimlog_since | grep -q 'TCP_DEFER_ACCEPT on' || fail "learn: no 'TCP_DEFER_ACCEPT on' in the server's log"
	log "ok: learn: the late clients were served on their own TCP sockets"
fi

if selected off; then
	step "off: MPTCPSHIM_DEFER_ACCEPT=0: the late clients are accepted before their bytes"
	learn_case off "unix unix unix" MPTCPSHIM_DEFER_ACCEPT=0
	if shimlog_since | grep 'TCP_DEFER_ACCEPT on'; then fail "off: the option was set"; fi
	log "ok: off: nothing learnt"
fi

if selected banner; then
	step "banner: clients that wait for the server's banner get it at once, every time"
	server banner banner MPTCPSHIM_LOG=debug
	for i in 1 2 3 4 5 6; do
		client wait-banner "220 ready"
		awk -v w="$WAITED" 'BEGIN { exit !(w < 0.5) }' || fail "banner: client $i waited $WAITED s for the banner"
	done
	if shimlog_since | grep 'TCP_DEFER_ACCEPT on'; then fail "banner: the option was set"; fi
	n=$(shimlog_since | grep -c "a plain client's host: the app's banner is not held" || true)
	[ "$n" = 5 ] || fail "banner: $n banners went out unheld, want 5 (all but the first connection's)"
	bg_stop "$BG_PID"
	log "ok: banner: six banners at once, the option never set"
fi

if selected heal; then
	step "heal: 4 clients speak first (the option on), then clients that wait for the banner"
	# no memory of plain client hosts: each banner is held for its window
	# (a known plain host's is not, and then nothing is learnt)
	server heal banner MPTCPSHIM_PLAIN_CACHE_TTL=0
	for _ in 1 2 3 4; do client now-banner "ack hello"; done
	shimlog_since | grep -q 'TCP_DEFER_ACCEPT on' || fail "heal: the option did not go on"
	client wait-banner "220 ready"
	log "heal: the first waiting client got its banner after $WAITED s"
	awk -v w="$WAITED" 'BEGIN { exit !(w < 3.5) }' || fail "heal: the first waiting client waited $WAITED s"
	for i in 2 3; do
		client wait-banner "220 ready"
		awk -v w="$WAITED" 'BEGIN { exit !(w < 0.5) }' ||
			fail "heal: waiting client $i waited $WAITED s (the option should be off)"
	done
	shimlog_since | grep -q 'TCP_DEFER_ACCEPT off again' || fail "heal: no 'TCP_DEFER_ACCEPT off again' in the log"
	bg_stop "$BG_PID"
	log "ok: heal: one client waited, the option went off, the next ones got their banner at once"
fi
log "PASS"
