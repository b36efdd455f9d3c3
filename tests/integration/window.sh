#!/bin/bash
# window.sh: a reopened receive window must reach a sender that is blocked
# on it, even when the path the receiver would announce it on died
# silently (no link event on the receiver's side).
#   The client (shim) sends 24 MiB to a server (shim) that reads nothing
#   at first: the server's data-level window closes and the client blocks
#   with nothing outstanding.  Then path X is blackholed on the client's
#   side (nft, both ways: the server sees no event), and the server starts
#   reading.  Its window update may go on the dead path's subflow; the
#   sender, blocked with nothing in flight, has nothing to time out on, so
#   one lost update would stall the connection for good.  The transfer
#   must complete byte-exact within WIN_MAX_S seconds.
# Four connections, X = 1, 2, 1, 2 (which subflow carries the server's
# acknowledgements is not visible from outside: both paths are tried).
# Harness self-test without the shim: NOSHIM=1 bash window.sh (plain TCP
# uses path 1 only: X is 2 there)
# Sub-cases (T_ONLY=REGEX): win-1 win-2 win-3 win-4
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((24 * 1024 * 1024))}"
: "${WIN_MAX_S:=20}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=240}"

tb_init window
require_shim
command -v nft >/dev/null || fail "nft not installed"
D=$T_DIR
mkrand "$D/data.in" "$SIZE"
WANT=$(sha256 "$D/data.in")

# server: accept one connection, wait for the go file, then read to EOF
# and write "sha256 bytes" to the result file
cat >"$D/slowsrv.py" <<'PYEOF'
import hashlib, os, socket, sys, time
host, port, gofile, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(1)
c, _ = s.accept()
while not os.path.exists(gofile):
    time.sleep(0.02)
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 16)
    if not b:
        break
    h.update(b)
    n += len(b)
c.close()
with open(out + ".tmp", "w") as f:
    f.write("%s %d\n" % (h.hexdigest(), n))
os.rename(out + ".tmp", out)
PYEOF
# client: lib.sh's xfclient send (the file, shutdown, wait for EOF)
write_pytool

tb_topo A 2 50,50
case_n=0
for x in 1 2 1 2; do
	case_n=$((case_n + 1))
	shim_enabled || x=2
	name="win-$case_n"
	selected "$name" || continue
	what="$name: path $x blackholed while the sender is blocked on the server's window"
	step "$what"
	next_port
	rm -f "$D/go" "$D/res"
	bg_start "srv-$name" shim "$NS_S" "$PY" "$D/slowsrv.py" "$SRV4" "$PORT" "$D/go" "$D/res"
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	base=$(($(path_bytes 1) + $(path_bytes 2)))
	bg_start "cli-$name" shim "$NS_C" "$PY" "$PYTOOL" xfclient "$SRV4" "$PORT" send "$D/data.in"
	cpid=$BG_PID
	# the window closes and the client blocks: several MiB went, then
	# nothing moves any more
	prev=-1
	for ((k = 0; k < 100; k++)); do
		sleep 0.3
		now=$(($(path_bytes 1) + $(path_bytes 2)))
		[ "$now" = "$prev" ] && [ $((now - base)) -gt $((4 * 1024 * 1024)) ] && break
		prev=$now
	done
	[ "$k" -lt 100 ] || fail "$what: the transfer never stalled on the window"
	kill -0 "$cpid" 2>/dev/null || fail "$what: the client finished without blocking (SIZE too small)"
	blackhole "$NS_C" "${IFC[$x]}" on
	t0=$(now_ms)
	touch "$D/go"
	bg_wait "$spid" "$WIN_MAX_S" ||
		fail "$what: the server did not read the stream to its end within ${WIN_MAX_S} s (a window update lost with path $x?)"
	ms=$(($(now_ms) - t0))
	read -r got n <"$D/res"
	[ "$got $n" = "$WANT $SIZE" ] || fail "$what: the server read $n B sha256 $got, want $SIZE B $WANT"
	log "ok: $what: the rest arrived byte-exact ${ms} ms after the server began to read"
	blackhole "$NS_C" "${IFC[$x]}" off
	bg_wait "$cpid" 30 || fail "$what: the client did not finish"
done

shim_log_summary
exit 0
