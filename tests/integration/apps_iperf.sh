#!/bin/bash
# apps_iperf.sh: iperf3, unmodified, under the shim on both ends (iperf3 -s
# and iperf3 -c) over two shaped paths (topology A, 40+40 Mbit/s, IPv4),
# client -> server and server -> client (-R).  iperf3 has a control
# connection and a data connection, both multipath here.  iperf3 cannot
# checksum a stream, but with -F the sender streams a file and the
# receiver writes what it read into a file (the receiver stops reading at
# the test's end, so its copy is a prefix): that copy must be byte-exact (sha256) against the same number
# of bytes of the file, and hold at least half of it.  Once both paths
# carry data, path 1 is taken down and must be survived: both iperf3 exit 0
# (no "error" in either's JSON), both paths carried 1 MiB before the cut,
# and the client's shim logged its path-1 subflows lost without aborting.
# Then a timed test (-t, random data, no -F) each way on the restored
# paths: both exit 0 and both paths carried data.
# Harness self-test without the shim: NOSHIM=1 bash apps_iperf.sh
# Sub-cases (T_ONLY=REGEX): file-c2s file-s2c time-c2s time-s2c
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((32 * 1024 * 1024))}"
: "${SECS:=3}"       # timed tests
: "${FILE_SECS:=5}" # -R file test
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=200}"
: "${T_CMD_TIMEOUT:=60}"

tb_init apps_iperf
require_shim
command -v iperf3 >/dev/null || fail "iperf3 not installed"
tb_topo A 2 40,40
D=$T_DIR
mkrand "$D/data.in" "$SIZE"

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

# run NAME DIR MODE: one iperf3 test; MODE file (-F, path cut, prefix
# check) or time (-t SECS, random data, both paths used).
run() {
	local name=$1 dir=$2 mode=$3 spid rev=() sf=() cf=() t=() n
	local what="$name: iperf3 $dir ($mode) over A/2 40+40 Mbit/s"
	selected "$name" || return 0
	step "$what"
	next_port
	rm -f "$D/data.out"
	[ "$dir" = s2c ] && rev=(-R)
	if [ "$mode" = file ]; then
		# the sender reads data.in, the receiver writes data.out
		if [ "$dir" = c2s ]; then
			sf=(-F "$D/data.out")
			cf=(-F "$D/data.in")
		else
			sf=(-F "$D/data.in")
			cf=(-F "$D/data.out")
		fi
		# a client sending a file ends the test at the file's end; a
		# server sending one (-R) just stops, and the client ends the
		# test at -t: the file outlasts neither
		t=(-t 60)
		[ "$dir" = s2c ] && t=(-t "$FILE_SECS")
	else
		t=(-t "$SECS")
	fi
	bg_start "iperf3-s-$name" shim "$NS_S" iperf3 -s -1 -B "$SRV4" -p "$PORT" --json "${sf[@]}"
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	if [ "$mode" = file ]; then path_cut_arm 1; else path_use_mark; fi
	"${WITH_IO[@]}" /dev/null "$D/client.json" true # create it empty
	nsrun shim "$NS_C" "${WITH_IO[@]}" /dev/null "$D/client.json" \
		iperf3 -c "$SRV4" -p "$PORT" --json "${t[@]}" "${rev[@]}" "${cf[@]}" ||
		fail "$what: iperf3 -c exited $? ($(json_get "$D/client.json" error))"
	bg_wait "$spid" 15 || fail "$what: iperf3 -s exited $? or did not end"
	cp "$T_DIR/bg-iperf3-s-$name.log" "$D/server.json"
	if [ "$mode" = file ]; then path_cut_check "$what"; else path_use_check "$what"; fi
	# the client's JSON has the receiver's count in both directions
	check_json "$what (client)" "$D/client.json" bytes
	check_json "$what (server)" "$D/server.json"
	if [ "$mode" = file ]; then
		[ -e "$D/data.out" ] || fail "$what: the receiver wrote no file"
		n=$(fsize "$D/data.out")
		[ $((n * 2)) -ge "$SIZE" ] || fail "$what: the receiver wrote only $n of $SIZE B"
		head -c "$n" "$D/data.in" >"$D/data.prefix"
		same_file "$what: the receiver's copy against the first $n B" "$D/data.prefix" "$D/data.out"
		rm -f "$D/data.prefix" "$D/data.out"
	fi
}

run file-c2s c2s file
run file-s2c s2c file
run time-c2s c2s time
run time-s2c s2c time
exit 0
