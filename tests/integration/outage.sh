#!/bin/bash
# outage.sh: no working path at all for a while, over two 50 Mbit/s paths
# (topology A, IPv4, shim on both ends):
#   blackhole5  both paths blackholed (nft drop on both client interfaces,
#               both ways) for 5 s in the middle of a 40 MiB server->client
#               transfer, then restored: completes byte-exact, no abort;
#   linkdown3   both client links down for 3 s in the middle of a 40 MiB
#               client->server transfer, then up: completes byte-exact, the
#               client logs "no working path" then "path back after X s";
#   timeout     MPTCPSHIM_OUTAGE_TIMEOUT=3 and both links down for 8 s while
#               the client writes and the server reads: both programs'
#               read/write fail with ETIMEDOUT, 3 s or so after the cut and
#               before the links return; never a clean EOF;
#   timeout-bh  the same with both paths blackholed for 8 s (no link event:
#               the progress watchdog): the writing client gets ETIMEDOUT;
#               the reading server, which has nothing outstanding, is never
#               told a clean EOF: it may stay blocked, as with TCP, or
#               read ETIMEDOUT, or ECONNRESET once the paths are back (the
#               client's abort meets it then, as a timed-out TCP peer's
#               reset would).
# Harness self-test without the shim: NOSHIM=1 bash outage.sh (the
# transfers only; the timeout cases need the shim)
# Sub-cases (T_ONLY=REGEX): blackhole5 linkdown3 timeout timeout-bh
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((40 * 1024 * 1024))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=300}"

tb_init outage
require_shim
write_pytool
command -v nft >/dev/null || fail "nft not installed"
D=$T_DIR
# the path whose counters show the transfer is under way (plain TCP, for
# the harness self-test, uses path 1 only)
DP=2
shim_enabled || DP=1
mkrand "$D/data.in" "$SIZE"

# all_paths blackhole|linkdown on|off (client side, both paths)
all_paths() {
	local i
	case $1 in
	blackhole)
		if [ "$2" = on ]; then
			ip netns exec "$NS_C" nft -f - <<EOF || fail "nft blackhole"
table inet outage {
	chain in { type filter hook input priority -10; policy accept; iifname { "${IFC[1]}", "${IFC[2]}" } drop; }
	chain out { type filter hook output priority -10; policy accept; oifname { "${IFC[1]}", "${IFC[2]}" } drop; }
}
EOF
		else
			ip netns exec "$NS_C" nft delete table inet outage || fail "nft delete"
		fi
		;;
	linkdown)
		for ((i = 1; i <= NPATHS; i++)); do
			if [ "$2" = on ]; then
				ip -n "$NS_C" link set "${IFC[i]}" down
			else
				ip -n "$NS_C" link set "${IFC[i]}" up
			fi
		done
		;;
	esac
}

# cutter KIND SECS: in the background, once both paths carry data, cut
# every path (KIND blackhole|linkdown) for SECS seconds.  $D/cut.on and
# $D/cut.off get the times (ms) of the cut and the restore.
cutter() {
	local kind=$1 secs=$2
	rm -f "$D/cut.on" "$D/cut.off" "$D/cut.err"
	(
		set +e
		if ! wait_moved "$DP" $((1024 * 1024)) 60; then
			echo "path 2 never carried 1 MiB" >"$D/cut.err"
			exit 0
		fi
		sleep 0.5
		all_paths "$kind" on
		now_ms >"$D/cut.on"
		sleep "$secs"
		all_paths "$kind" off
		now_ms >"$D/cut.off"
	) >>"$D/cutter.log" 2>&1 &
	CUT_PID=$!
	BG_PIDS+=("$CUT_PID")
}

cut_check() { # WHAT
	bg_wait "$CUT_PID" 30 || fail "$1: the cutter did not finish"
	[ -e "$D/cut.err" ] && fail "$1: $(cat "$D/cut.err")"
	[ -e "$D/cut.off" ] || fail "$1: the outage did not happen during the transfer (${MP_MS:-?} ms)"
	return 0
}

# --- transfers through an outage ---------------------------------------------
outage_xfer() {
	local name=$1 kind=$2 secs=$3 dir=$4
	local what="$name: IPv4 $dir $SIZE B over A/2 50+50 Mbit/s, every path $kind for ${secs}s mid-transfer"
	selected "$name" || return 0
	step "$what"
	tb_topo A 2 50,50
	cutter "$kind" "$secs"
	mp_xfer "$name" 4 "$dir" "$D/data.in"
	cut_check "$what"
	log "  ${MP_MS}ms; path bytes: ${IFC[1]}=$((MP_DELTA[1] / 1024))KiB ${IFC[2]}=$((MP_DELTA[2] / 1024))KiB; outage $(($(cat "$D/cut.off") - $(cat "$D/cut.on"))) ms"
	# 40 MiB at 100 Mbit/s is 3.4 s; plus the outage, plus TCP's
	# retransmission backoff after a blackhole (the next retry after 5 s
	# of silence comes within ~6.5 s of the cut): far below this bound
	[ "$MP_MS" -le $((secs * 1000 + 25000)) ] || fail "$what: the transfer took $MP_MS ms"
	if shim_enabled; then
		if printf '%s\n' "$MP_CLOG" "$MP_SLOG" | grep -E 'aborting|aborted'; then
			fail "$what: the connection was aborted"
		fi
		if [ "$kind" = linkdown ]; then
			printf '%s\n' "$MP_CLOG" | grep -qE 'no working path \(' ||
				fail "$what: the client logged no 'no working path'"
			local back
			back=$(printf '%s\n' "$MP_CLOG" | sed -nE 's/.*path back after ([0-9.]+) s.*/\1/p' | head -n 1)
			[ -n "$back" ] || fail "$what: the client logged no 'path back after X s'"
			log "  client: path back after $back s (links down for $secs s)"
			awk -v b="$back" -v s="$secs" 'BEGIN { exit !(b >= s - 0.5 && b <= s + 5) }' ||
				fail "$what: path back after $back s, links were down for $secs s"
		fi
	fi
	bg_stop "$CUT_PID"
	tb_topo_down
}

outage_xfer blackhole5 blackhole 5 s2c
outage_xfer linkdown3 linkdown 3 c2s

# --- outage timeout: ETIMEDOUT -------------------------------------------------
ERRTOOL="$D/errtool.py"
cat >"$ERRTOOL" <<'PYEOF'
# errtool.py server|client HOST PORT read|write OUT: one connection; read
# until EOF or an error, or write until an error; then write to OUT:
#   "<EOF|ERRNONAME> <bytes> <unix time ms>"
import errno, socket, sys, time

role, host, port, mode, out = sys.argv[1:6]
port = int(port)
if role == "server":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(4)
    c, _ = s.accept()
    s.close()
else:
    c = socket.create_connection((host, port))
n = 0
res = "?"
buf = b"x" * 65536
try:
    if mode == "read":
        while True:
            b = c.recv(65536)
            if not b:
                res = "EOF"
                break
            n += len(b)
    else:
        while True:
            n += c.send(buf)
except OSError as e:
    res = errno.errorcode.get(e.errno, str(e.errno))
with open(out, "w") as f:
    f.write("%s %d %d\n" % (res, n, int(time.time() * 1000)))
sys.stderr.write("errtool %s %s: %s after %d B\n" % (role, mode, res, n))
PYEOF

timeout_case() {
	local name=$1 kind=$2
	local what="$name: MPTCPSHIM_OUTAGE_TIMEOUT=3, every path $kind for 8 s under a client->server stream"
	selected "$name" || return 0
	shim_enabled || {
		log "skipping $name without the shim"
		return 0
	}
	step "$what"
	tb_topo A 2 50,50
	rm -f "$D/srv.res" "$D/cli.res"
	T_ENV=(MPTCPSHIM_OUTAGE_TIMEOUT=3)
	next_port
	bg_start "srv-$name" shim "$NS_S" "$PY" "$ERRTOOL" server "$SRV4" "$PORT" read "$D/srv.res"
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	cutter "$kind" 8
	bg_start "cli-$name" shim "$NS_C" "$PY" "$ERRTOOL" client "$SRV4" "$PORT" write "$D/cli.res"
	local cpid=$BG_PID
	T_ENV=()
	# the client's error within the outage; the server's too for a link
	# outage (both shims see it); for a blackhole the server may stay
	# blocked: give it until 4 s after the restore
	bg_wait "$cpid" 40 || fail "$what: the writing client did not return within 40 s"
	cut_check "$what"
	if [ "$kind" = linkdown ]; then
		bg_wait "$spid" 10 || fail "$what: the reading server did not return"
	else
		bg_wait "$spid" 4 || log "  server still blocked 4 s after the blackhole ended (allowed)"
	fi
	local on off r e dt
	on=$(cat "$D/cut.on")
	off=$(cat "$D/cut.off")
	for r in cli srv; do
		[ -e "$D/$r.res" ] || {
			[ "$r" = srv ] && [ "$kind" = blackhole ] && continue
			fail "$what: no result from the $r"
		}
		read -r e _ dt <"$D/$r.res"
		dt=$((dt - on))
		log "  $r: $e $dt ms after the cut (restored after $((off - on)) ms)"
		if [ "$r/$kind/$e" = srv/blackhole/ECONNRESET ]; then
			# The client gave up and aborted while its CLOSE and resets
			# were blackholed; once the paths are back, the server's
			# next segment meets a reset: what a TCP reader gets from a
			# peer that timed out (never an EOF)
			[ "$dt" -ge "$((off - on))" ] || fail "$what: the srv got ECONNRESET $dt ms after the cut, while every path was still blackholed"
			continue
		fi
		[ "$e" = ETIMEDOUT ] || fail "$what: the $r got $e, want ETIMEDOUT"
		[ "$dt" -ge 2500 ] || fail "$what: the $r got ETIMEDOUT only $dt ms after the cut (timeout 3 s)"
		[ "$dt" -le "$((off - on))" ] || fail "$what: the $r got ETIMEDOUT $dt ms after the cut, after the paths came back"
	done
	if [ "$kind" = linkdown ]; then
		grep -q 'no working path (' "$T_DIR/shim-$NS_C.log" || fail "$what: the client logged no 'no working path'"
	fi
	bg_stop "$spid"
	bg_stop "$CUT_PID"
	tb_topo_down
}

timeout_case timeout linkdown
timeout_case timeout-bh blackhole
exit 0
