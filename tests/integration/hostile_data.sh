#!/bin/bash
# hostile_data.sh: a shim server under attack on its receive side by a
# hostile client (tests/progs/hostile_data.py: plain python, a valid HELLO,
# then crafted DATA frames).  The server app, under the shim, records per
# connection "<bytes> <sha256> EOF|ERR <errno>".
#   fragment  100,000 one-byte DATA frames each leaving a one-byte gap, on
#             connection after connection, while an honest shim client
#             sends 30 MB to the same server process: the transfer arrives
#             byte-exact, takes at most 3x its unloaded time (same test) + 2 s,
#             and the attacker is reset, logged "too fragmented".
#   finpast   DATA_FIN at x, then data past x: the app gets the 100 bytes
#   finahead  before x (EOF or a reset), never a byte past x; logged.
#   finbelow  DATA_FIN below the data delivered, then a valid one: reset
#             (ECONNRESET for the app), logged.
#   dupfin    the same DATA_FIN twice: a clean EOF after the 100 bytes.
# Sub-cases (T_ONLY=REGEX): fragment finpast finahead finbelow dupfin
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

tb_init hostile_data
require_shim
tb_setup 1
D=$T_DIR
ATK="$top_srcdir/tests/progs/hostile_data.py"

# The server app: accepts forever; per connection reads to EOF or error
# and records the outcome in out/p<client port>.
cat >"$D/server.py" <<'PY'
import errno, hashlib, os, socket, sys, threading
host, port, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port)); ls.listen(64)
def serve(c, i):
    h = hashlib.sha256(); total = 0; how = "EOF"
    try:
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            h.update(b); total += len(b)
    except OSError as e:
        how = "ERR " + errno.errorcode.get(e.errno, str(e.errno))
    with open(os.path.join(outdir, "p%d.tmp" % i), "w") as f:
        f.write("%d %s %s\n" % (total, h.hexdigest(), how))
    os.rename(os.path.join(outdir, "p%d.tmp" % i), os.path.join(outdir, "p%d" % i))
    c.close()
while True:
    c, a = ls.accept()
    threading.Thread(target=serve, args=(c, a[1]), daemon=True).start()
PY

next_port
srvport=$PORT
mkdir -p "$D/out"
bg_start server shim "$NS_S" "$PY" "$D/server.py" "$S4" "$srvport" "$D/out"
spid=$BG_PID
wait_listen "$NS_S" "$srvport"
slog="$T_DIR/shim-$NS_S.log"

# record PORT: wait for the record of the connection from PORT, print it.
record() {
	local i
	for i in $(seq 1 300); do
		[ -e "$D/out/p$1" ] && break
		sleep 0.1
		: "$i"
	done
	[ -e "$D/out/p$1" ] || fail "the connection from port $1 never ended at the server app"
	cat "$D/out/p$1"
}

# logged PORT PATTERN: the server's shim logged the abort of the
# connection from the client's PORT (PORT a regex) for PATTERN.
logged() {
	grep -q "conn $C4:$1: aborting: .*$2" "$slog" ||
		fail "no log line 'conn $C4:$1: aborting: ...$2' in the server's shim log"
}

# honest: one 30 MB shim transfer to the server; sets SECS, checks sha256.
mkrand "$D/good.in" $((30 * 1024 * 1024))
want="$(sha256sum <"$D/good.in" | cut -d' ' -f1)"
honest() {
	local t0 t1 rec
	t0=$(date +%s.%N)
	nsrun shim "$NS_C" socat -b 65536 -u "OPEN:$D/good.in" "TCP4:$S4:$srvport" ||
		fail "honest transfer ($1): client exited $?"
	t1=$(date +%s.%N)
	SECS=$(echo "$t1 - $t0" | bc -l)
	# its record: the newest one with its hash
	local i
	for i in $(seq 1 100); do
		[ "$(grep -ls "$want EOF" "$D"/out/p* | wc -l)" = "$1" ] && break
		sleep 0.1
		: "$i"
	done
	rec=$(grep -ls "$want EOF" "$D"/out/p* | wc -l)
	[ "$rec" = "$1" ] || fail "honest transfer ($2) did not arrive byte-exact ($rec good records)"
}

if selected fragment; then
	step "fragment attack against a concurrent honest transfer"
	honest 1 unloaded
	unloaded=$SECS
	log "unloaded: ${unloaded}s"
	stop="$D/stop-fragment"
	bg_start fragment plain "$NS_C" "$PY" "$ATK" "$S4" "$srvport" fragment "$stop"
	apid=$BG_PID
	# the attack is under way (its first connection has sent frames)
	for i in $(seq 1 200); do
		grep -qs "aborting: .*too fragmented" "$slog" && break
		[ -e "$stop.progress" ] && break
		sleep 0.05
		: "$i"
	done
	honest 2 loaded
	loaded=$SECS
	touch "$stop"
	bg_wait "$apid" 120 || fail "the attacker did not finish ($?)"
	log "loaded: ${loaded}s; attacker: $(cat "$D/bg-fragment.log")"
	grep -q "resets=[1-9]" "$D/bg-fragment.log" ||
		fail "the fragmenting peer was not reset: $(cat "$D/bg-fragment.log")"
	logged "[0-9]*" "peer's data too fragmented"
	if [ "$(echo "$loaded > 3 * $unloaded + 2" | bc -l)" = 1 ]; then
		fail "under the fragment attack the honest transfer took ${loaded}s (unloaded ${unloaded}s)"
	fi
fi

# attack CASE: one hostile connection; sets LPORT to its port and REC to
# the app's record of it.
attack() {
	nsrun plain "$NS_C" "$PY" "$ATK" "$S4" "$srvport" "$1" >"$D/atk-$1.log" 2>&1 ||
		fail "attacker ($1) failed: $(cat "$D/atk-$1.log")"
	LPORT=$(cut -d' ' -f1 "$D/atk-$1.log")
	REC=$(record "$LPORT")
	log "$1: app saw '$REC'; attacker saw '$(cat "$D/atk-$1.log")'"
}

# prefix_ok N: the record's bytes are the stream's first bytes, at most N.
prefix_ok() {
	local bytes sha
	read -r bytes sha _ <<<"$REC"
	[ "$bytes" -le "$1" ] || fail "the app read $bytes bytes: past the DATA_FIN at $1"
	[ "$sha" = "$("$PY" "$ATK" prefix "$bytes")" ] ||
		fail "the app's $bytes bytes are not the stream's first bytes"
}

if selected finpast; then
	step "DATA_FIN, then data past it"
	attack finpast
	prefix_ok 100
	case "$REC" in
	"100 "*" EOF" | *" ERR ECONNRESET") ;;
	*) fail "finpast: the app saw '$REC'" ;;
	esac
	logged "$LPORT" "protocol: data beyond the DATA_FIN"
fi

if selected finahead; then
	step "DATA_FIN ahead of a gap, then data across it"
	attack finahead
	prefix_ok 100
	case "$REC" in
	"100 "*" EOF" | *" ERR ECONNRESET") ;;
	*) fail "finahead: the app saw '$REC'" ;;
	esac
	logged "$LPORT" "protocol: data beyond the DATA_FIN"
fi

if selected finbelow; then
	step "DATA_FIN below the data delivered, then a valid one"
	attack finbelow
	case "$REC" in
	*" ERR ECONNRESET") ;;
	*) fail "finbelow: the app saw '$REC', not a reset" ;;
	esac
	logged "$LPORT" "protocol: DATA_FIN below data already received"
fi

if selected dupfin; then
	step "the same DATA_FIN twice"
	attack dupfin
	[ "$REC" = "100 $("$PY" "$ATK" prefix 100) EOF" ] ||
		fail "dupfin: the app saw '$REC', not a clean EOF after 100 bytes"
	! grep -q "conn $C4:$LPORT: aborting" "$slog" ||
		fail "dupfin: the connection was aborted: $(grep "conn $C4:$LPORT: aborting" "$slog")"
fi

kill "$spid" 2>/dev/null || true
log "PASS"
