#!/bin/bash
# apps_iperf.sh: iperf3, unmodified, under the shim on both ends (iperf3 -s
# and iperf3 -c) over two shaped paths (topology A, 40+40 Mbit/s, IPv4),
# client -> server and server -> client (-R).  iperf3 has a control
# connection and a data connection, both multipath here.
# iperf3 cannot checksum a stream, and its -F (file) mode is no substitute:
# iperf3 3.12's sender drops the unsent rest of a block after a short
# write, so even over plain TCP the receiver's copy is not a prefix of the
# file.  So each test checks: both iperf3 exit 0, neither's JSON reports an
# error, and the data connection's receiver counted at least 1 MiB.
#   cut-c2s, cut-s2c      SECS (5) s each; once both paths carry 1 MiB,
#                         path 1 is taken down and must be survived (the
#                         client's shim logs its path-1 subflows lost, no
#                         connection aborts)
#   again-c2s, again-s2c  SHORT_SECS (2) s on the restored paths, no cut:
#                         both paths carry 1 MiB again
# One iperf3 -s serves every test, as it is normally run; its JSON
# report of each test is checked.
# Harness self-test without the shim: NOSHIM=1 bash apps_iperf.sh
# Sub-cases (T_ONLY=REGEX): cut-c2s cut-s2c again-c2s again-s2c
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SECS:=5}"       # tests with a path cut
: "${SHORT_SECS:=2}" # tests without
MPTCPSHIM_LOG=${T_LOG:-info}
: "${T_TIMEOUT:=200}"
: "${T_CMD_TIMEOUT:=60}"

tb_init apps_iperf
require_shim
command -v iperf3 >/dev/null || fail "iperf3 not installed"
tb_topo A 2 40,40
D=$T_DIR

# json_get FILE KEY...: a value from iperf3's JSON (missing: empty).
json_get() {
	"$PY" - "$@" <<'PYEOF'
import json, sys
try:
    v = json.load(open(sys.argv[1]))
    for k in sys.argv[2:]:
        v = v[k]
    print(v)
except (OSError, ValueError, KeyError, TypeError):
    print("")
PYEOF
}

# server_json N OUT: the Nth (1-based) JSON report in the server's log.
server_json() {
	"$PY" - "$T_DIR/bg-iperf3-s.log" "$1" >"$2" <<'PYEOF'
import json, sys
text = open(sys.argv[1]).read()
dec = json.JSONDecoder()
i, objs = 0, []
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    try:
        o, i = dec.raw_decode(text, i)
    except ValueError:
        break
    objs.append(o)
n = int(sys.argv[2])
if len(objs) >= n:
    json.dump(objs[n - 1], sys.stdout)
PYEOF
}

# check_json WHAT FILE [BYTES]: iperf3 reported no error (and, with
# BYTES, the data connection's receiver counted at least 1 MiB).
check_json() {
	local what=$1 f=$2 err rx
	err=$(json_get "$f" error)
	[ -z "$err" ] || fail "$what: iperf3 reported: $err"
	[ -n "${3:-}" ] || return 0
	rx=$(json_get "$f" end sum_received bytes)
	case $rx in '' | *[!0-9]*) fail "$what: no received byte count in $f" ;; esac
	[ "$rx" -gt $((1024 * 1024)) ] || fail "$what: only $rx B received"
	log "  $(basename "$f"): received $rx B"
}

# run NAME DIR CUT: one iperf3 test, client -> server (c2s) or back (s2c,
# -R); CUT 1: SECS long, path 1 taken down; 0: SHORT_SECS, both paths used.
run() {
	local name=$1 dir=$2 cut=$3 rev=() secs=$SHORT_SECS k
	[ "$cut" = 1 ] && secs=$SECS
	local what="$name: iperf3 $dir ${secs}s over A/2 40+40 Mbit/s"
	selected "$name" || return 0
	step "$what"
	[ "$dir" = s2c ] && rev=(-R)
	NTEST=$((NTEST + 1))
	if [ "$cut" = 1 ]; then path_cut_arm 1; else path_use_mark; fi
	nsrun shim "$NS_C" "${WITH_IO[@]}" /dev/null "$D/client.json" \
		iperf3 -c "$SRV4" -p "$PORT" --json -t "$secs" "${rev[@]}" ||
		fail "$what: iperf3 -c exited $? ($(json_get "$D/client.json" error))"
	# the server's report of this test (written as the test ends)
	for ((k = 0; k < 100; k++)); do
		server_json "$NTEST" "$D/server.json"
		[ -s "$D/server.json" ] && break
		sleep 0.1
	done
	[ -s "$D/server.json" ] || fail "$what: iperf3 -s wrote no report"
	if [ "$cut" = 1 ]; then path_cut_check "$what"; else path_use_check "$what"; fi
	# the client's JSON has the receiver's count in both directions
	check_json "$what (client)" "$D/client.json" bytes
	check_json "$what (server)" "$D/server.json"
}

next_port
step "iperf3 -s on $SRV4:$PORT"
bg_start iperf3-s shim "$NS_S" iperf3 -s -B "$SRV4" -p "$PORT" --json
SPID=$BG_PID
wait_listen "$NS_S" "$PORT"
NTEST=0

run cut-c2s c2s 1
run cut-s2c s2c 1
run again-c2s c2s 0
run again-s2c s2c 0
kill -0 "$SPID" 2>/dev/null || fail "iperf3 -s died"
bg_stop "$SPID"
exit 0
