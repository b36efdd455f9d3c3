#!/bin/bash
# lazyjoin.sh: the client opens extra subflows only once a connection has
# carried MPTCPSHIM_JOIN_BYTES or lived MPTCPSHIM_JOIN_DELAY (issue 15).
# Routed topology, two client paths, python http.server under the shim on
# the server, clients under the shim (both sides multipath):
#   short   curl fetches 1 KiB with a 60 s delay and the default 64 KiB:
#           negotiated multipath, sha256 exact, no second subflow
#   bytes   curl fetches 8 MiB with a 60 s delay: the byte threshold opens
#           the second subflow (established), sha256 exact
#   delay   a client holds a connection to an echo server 1.5 s (1 KiB
#           echoed) with a 300 ms delay and a 1 GiB threshold: the delay
#           opens it
# Sub-cases (T_ONLY=REGEX): the names above.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
# MPTCPSHIM_JOIN_DELAY and _JOIN_BYTES are the rules of a connection
# through a socketpair; an inline one (MPTCPSHIM_INLINE=1 in the
# environment) joins once promoted (bulk data, 5 s of life: docs/DESIGN.md
# "Inline connections", inline.sh upload), so this test pins the default
export MPTCPSHIM_INLINE=0

export MPTCPSHIM_LOG=info # "multipath negotiated", "subflow 2 ... established"
tb_init lazyjoin
require_shim
command -v curl >/dev/null || fail "curl not installed"
tb_topo B 2
write_pytool
mkdir -p "$T_DIR/www"
mkrand "$T_DIR/www/small.bin" 1024
mkrand "$T_DIR/www/big.bin" $((8 * 1024 * 1024))
next_port
bg_start http shim "$NS_S" "$PY" -m http.server --bind "$SRV4" --directory "$T_DIR/www" "$PORT"
wait_listen "$NS_S" "$PORT"
CLOG="$T_DIR/shim-$NS_C.log"

# fetch NAME FILE: curl under the shim (T_ENV set by the caller), sha256
fetch() {
	nsrun shim "$NS_C" curl -sS -o "$T_DIR/got-$1" "http://$SRV4:$PORT/$2" ||
		fail "$1: curl exited $?"
	same_file "$1" "$T_DIR/www/$2" "$T_DIR/got-$1"
}
joined() { grep -Eq 'subflow 2 .* established' "$CLOG"; }
negotiated() { grep -q 'multipath negotiated (client)' "$CLOG"; }

if selected short; then
	step "short: 1 KiB, join delay 60 s: no second subflow"
	: >"$CLOG"
	T_ENV=(MPTCPSHIM_JOIN_DELAY=60000)
	fetch short small.bin
	negotiated || fail "short: no multipath negotiation (log: $(head -c 400 "$CLOG"))"
	! joined || fail "short: a second subflow was opened for a 1 KiB exchange"
	log "ok: short: multipath, one subflow"
fi

if selected bytes; then
	step "bytes: 8 MiB, join delay 60 s: the byte threshold joins"
	: >"$CLOG"
	T_ENV=(MPTCPSHIM_JOIN_DELAY=60000)
	fetch bytes big.bin
	joined || fail "bytes: no second subflow after 8 MiB (log: $(head -c 600 "$CLOG"))"
	log "ok: bytes: second subflow opened"
fi

if selected delay; then
	step "delay: a 1.5 s connection, join delay 300 ms, 1 GiB threshold: the delay joins"
	: >"$CLOG"
	# an echo server, so that both ends hold the connection (an HTTP/1.0
	# server's close ends it at once: one subflow closes as TCP does,
	# and a connection the server has closed needs no second subflow)
	next_port
	bg_start echo shim "$NS_S" "$PY" "$PYTOOL" echoserver "$SRV4" "$PORT"
	local_echo=$BG_PID
	wait_listen "$NS_S" "$PORT"
	T_ENV=(MPTCPSHIM_JOIN_DELAY=300 MPTCPSHIM_JOIN_BYTES=1073741824)
	nsrun shim "$NS_C" "$PY" -c '
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
blk = os.urandom(1024)
s.sendall(len(blk).to_bytes(4, "big") + blk)
time.sleep(1.5)
got = b""
while len(got) < len(blk):
    b = s.recv(65536)
    if not b:
        break
    got += b
s.close()
sys.exit(0 if got == blk else 1)
' "$SRV4" "$PORT" || fail "delay: the held echo failed"
	bg_wait "$local_echo" 30 || fail "delay: the echo server exited $?"
	joined || fail "delay: no second subflow after 1.5 s (log: $(head -c 600 "$CLOG"))"
	log "ok: delay: second subflow opened"
fi
T_ENV=()
log "PASS"
