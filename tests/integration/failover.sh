#!/bin/bash
# failover.sh: a path fails in the middle of a byte-exact transfer (40 MiB,
# shim on both ends, sha256 checked) over two 50 Mbit/s paths, topologies A
# (two veth pairs) and B (dual-homed client through two routers), IPv4:
#   linkdown   `ip link set IFC[2] down` on the client: the client logs its
#              path-2 subflows "lost (...)";
#   blackhole  nft drops everything on the client's IFC[2] both ways, no
#              link event: the sender logs "subflow N stale";
#   renumber   the client's address on IFC[2] is deleted and another one in
#              the same subnet added: the old subflows are "lost", a subflow
#              from the new address is "established";
#   rst        the first subflow is killed with an RST (`ss -K` in the
#              client namespace): "subflow 1 lost" on the client.
# Each case cuts once path 2's subflows carry data (~1 s in) and checks the
# transfer completes byte-exact.  Both directions are covered: each case runs
# one way in A and the other way in B.
#   backup     MPTCPSHIM_BACKUP=IFC[2] on the client (topology A, one 80 MiB
#              transfer): path 2 is nearly idle while path 1 works, carries
#              the transfer while path 1's link is down, and is nearly idle
#              again once path 1 is back and a new subflow on it has
#              joined (the monitor's subflow_joined event from path 1's
#              address; the client's counters at exit: 2 joins).  If the
#              transfer ends within the last 1 s window (a loaded machine),
#              only where its tail went is checked there.
# Harness self-test without the shim (transfers only; path 2 then carries
# nothing, rst and backup's phases are skipped): NOSHIM=1 bash failover.sh
# Sub-cases (T_ONLY=REGEX): A-linkdown A-blackhole A-renumber A-rst
#   B-linkdown B-blackhole B-renumber B-rst backup-c2s backup-s2c
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((40 * 1024 * 1024))}"
: "${BACKUP_SIZE:=$((80 * 1024 * 1024))}"
: "${BACKUP_IDLE_PCT:=5}" # path 2 may carry at most this % of path 1's bytes
# 40 MiB over one 50 Mbit/s path takes 6.7 s: a failover that works ends
# far below this bound even on a loaded machine; a stall of the outage
# timeout (30 s) does not
: "${MAX_MS:=25000}"
MPTCPSHIM_LOG=${T_LOG:-info} # T_LOG=debug for a closer look
: "${T_TIMEOUT:=300}"

tb_init failover
require_shim
write_pytool
command -v nft >/dev/null || fail "nft not installed"
D=$T_DIR
# the path whose counters show the transfer is under way (plain TCP, for
# the harness self-test, uses path 1 only)
DP=2
shim_enabled || DP=1
mkrand "$D/data.in" "$SIZE"

# cutter CASE PORT: in the background, once path 2 carries data, do CASE;
# writes $D/cut.done (or $D/cut.err).  Sets CUT_PID.
cutter() {
	local kind=$1 port=$2
	rm -f "$D/cut.done" "$D/cut.err"
	(
		set +e
		# the transfer is running and path 2's subflows carry data
		if ! wait_moved "$DP" $((1024 * 1024)) 60; then
			echo "path 2 never carried 1 MiB" >"$D/cut.err"
			exit 0
		fi
		sleep 0.5
		case $kind in
		linkdown)
			ip -n "$NS_C" link set "${IFC[2]}" down
			;;
		blackhole)
			blackhole "$NS_C" "${IFC[2]}" on
			;;
		renumber)
			local new="198.18.$T_NETNUM.$((16 * 2 + 5))"
			ip -n "$NS_C" addr del "${C4[2]}/28" dev "${IFC[2]}"
			if [ "$T_TOPO" = B ]; then
				# the new address's source route before the address
				# itself: the server is reachable from it at once
				ip -n "$NS_C" rule add from "$new" lookup 102
				ip -n "$NS_C" route replace default via "198.18.$T_NETNUM.$((16 * 2 + 2))" \
					dev "${IFC[2]}" onlink table 102
			fi
			ip -n "$NS_C" addr add "$new/28" dev "${IFC[2]}"
			;;
		rst)
			local before after
			before=$(ip netns exec "$NS_C" ss -tanH state established dst "$SRV4" dport = ":$port" | wc -l)
			ip netns exec "$NS_C" ss -K dst "$SRV4" dport = ":$port" >/dev/null
			after=$(ip netns exec "$NS_C" ss -tanH state established dst "$SRV4" dport = ":$port" | wc -l)
			if [ "$before" != 1 ] || [ "$after" != 0 ]; then
				echo "ss -K: $before established socket(s) to $SRV4:$port before, $after after" >"$D/cut.err"
				exit 0
			fi
			;;
		esac
		echo "$kind at $(date +%T.%N)" >"$D/cut.done"
	) >>"$D/cutter.log" 2>&1 &
	CUT_PID=$!
	BG_PIDS+=("$CUT_PID")
}

# case_run TOPO KIND DIR
case_run() {
	local topo=$1 kind=$2 dir=$3 name="$1-$2"
	local what="$name: IPv4 $dir $SIZE B over $topo/2 50+50 Mbit/s, $kind on path 2 mid-transfer"
	[ "$kind" = rst ] && what="$name: IPv4 $dir $SIZE B over $topo/2 50+50 Mbit/s, first subflow reset mid-transfer"
	selected "$name" || return 0
	if [ "$kind" = rst ] && ! shim_enabled; then
		log "skipping $name without the shim (plain TCP cannot survive it)"
		return 0
	fi
	step "$what"
	tb_topo "$topo" 2 50,50
	cutter "$kind" $((T_PORT + 1))
	mp_xfer "$name" 4 "$dir" "$D/data.in"
	bg_wait "$CUT_PID" 10 || true
	[ -e "$D/cut.err" ] && fail "$what: $(cat "$D/cut.err")"
	[ -e "$D/cut.done" ] || fail "$what: the cut did not happen before the transfer ended (${MP_MS} ms)"
	log "  ${MP_MS}ms; path bytes: ${IFC[1]}=$((MP_DELTA[1] / 1024))KiB ${IFC[2]}=$((MP_DELTA[2] / 1024))KiB; $(cat "$D/cut.done")"
	[ "$MP_MS" -le "$MAX_MS" ] || fail "$what: the transfer took $MP_MS ms (> $MAX_MS ms): it stalled"
	if shim_enabled; then
		local slog=$MP_SLOG
		[ "$dir" = c2s ] && slog=$MP_CLOG # the sender's log
		case $kind in
		linkdown)
			printf '%s\n' "$MP_CLOG" | grep -qE "subflow [0-9]+ lost \(" ||
				fail "$what: the client logged no subflow lost; its log: $MP_CLOG"
			;;
		blackhole)
			printf '%s\n' "$slog" | grep -qE "subflow [0-9]+ stale \(" ||
				fail "$what: the sender ($([ "$dir" = c2s ] && echo client || echo server)) logged no stale subflow"
			;;
		renumber)
			local new="198.18.$T_NETNUM.$((16 * 2 + 5))"
			printf '%s\n' "$MP_CLOG" | grep -qE "subflow [0-9]+ lost \(" ||
				fail "$what: the client logged no subflow lost with the old address"
			printf '%s\n' "$MP_CLOG" | grep -qE "subflow [0-9]+ $(re "$new"):[0-9]+ -> [^ ]+ established$" ||
				fail "$what: the client established no subflow from the new address $new"
			;;
		rst)
			printf '%s\n' "$MP_CLOG" | grep -qE "subflow 1 lost \(" ||
				fail "$what: the client logged no 'subflow 1 lost'"
			;;
		esac
		if printf '%s\n' "$MP_CLOG" "$MP_SLOG" | grep -E 'aborting|no working path'; then
			fail "$what: a connection with a working path aborted or went into outage"
		fi
	fi
	bg_stop "$CUT_PID"
	tb_topo_down
}

case_run A linkdown s2c
case_run A blackhole c2s
case_run A renumber s2c
case_run A rst c2s
case_run B linkdown c2s
case_run B blackhole s2c
case_run B renumber c2s
case_run B rst s2c

# --- backup -------------------------------------------------------------------
# window_bytes SECS: after SECS seconds, W1 W2 = bytes paths 1 and 2 counted.
window_bytes() {
	local a1 a2
	a1=$(path_bytes 1)
	a2=$(path_bytes 2)
	sleep "$1"
	W1=$(($(path_bytes 1) - a1))
	W2=$(($(path_bytes 2) - a2))
}

# backup phases, in the background during the transfer; results in
# $D/backup.res (lines "PHASE W1 W2") or an error in $D/backup.err.
backup_monitor() {
	rm -f "$D/backup.res" "$D/backup.err" "$D/mon.json"
	(
		set +e
		if ! wait_moved 1 $((2 * 1024 * 1024)) 60; then
			echo "path 1 never carried 2 MiB" >"$D/backup.err"
			exit 0
		fi
		# The client's events and counters, from its control socket, read
		# in the background so that the phases' timing is the transfer's.
		# By its pid: "all" is every process of ours under the shim, and
		# the suite runs other tests (as root too) beside this one.
		cpid=
		for p in $(ip netns pids "$NS_C"); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = python3 ] &&
				grep -q mptcpshim "/proc/$p/maps" 2>/dev/null && cpid=$p
		done
		if [ -z "$cpid" ]; then
			echo "no client process under the shim in $NS_C" >"$D/backup.err"
			exit 0
		fi
		XDG_RUNTIME_DIR=$D/xdg timeout 60 "$SHIM_LAUNCHER" monitor --json "$cpid" >"$D/mon.json" 2>/dev/null &
		mon=$!
		sleep 0.5
		window_bytes 1
		echo "both-up $W1 $W2" >>"$D/backup.res"
		ip -n "$NS_C" link set "${IFC[1]}" down
		sleep 0.5
		window_bytes 1
		echo "path1-down $W1 $W2" >>"$D/backup.res"
		ip -n "$NS_C" link set "${IFC[1]}" up
		t0=$(now_ms)
		# a new subflow from path 1's address joined (the monitor's event)
		while ! grep -q "\"type\":\"subflow_joined\".*\"local\":\"$(re "${C4[1]}"):" "$D/mon.json"; do
			if [ $(($(now_ms) - t0)) -gt 15000 ]; then
				echo "no new subflow on path 1 within 15 s of its link coming back" >"$D/backup.err"
				kill "$mon"
				exit 0
			fi
			sleep 0.05
		done
		echo "rejoined after $(($(now_ms) - t0)) ms" >>"$D/backup.log"
		sleep 1 # the new subflow's slow start (a few ms RTT) is long over
		window_bytes 1
		# A window in which the transfer ended (the receiver's copy, $name
		# is backup_case's, is whole) measured its tail, not the path's
		# rate: then only where the tail went is checked.
		if [ "$(stat -c %s "$T_DIR/$name.out" 2>/dev/null || echo 0)" -lt "$BACKUP_SIZE" ]; then
			echo "path1-back $W1 $W2" >>"$D/backup.res"
		else
			echo "path1-tail $W1 $W2" >>"$D/backup.res"
		fi
		kill "$mon"
		wait
	) >>"$D/backup.log" 2>&1 &
	MON_PID=$!
	BG_PIDS+=("$MON_PID")
}

backup_case() {
	local dir=$1 name="backup-$1"
	local what="$name: IPv4 $dir $BACKUP_SIZE B over A/2 50+50 Mbit/s, MPTCPSHIM_BACKUP=p2c on the client"
	selected "$name" || return 0
	shim_enabled || {
		log "skipping $name without the shim"
		return 0
	}
	step "$what"
	tb_topo A 2 50,50
	mkrand "$D/backup.in" "$BACKUP_SIZE"
	rm -rf "$D/xdg" && mkdir -p "$D/xdg"
	C_ENV=("MPTCPSHIM_BACKUP=${IFC[2]}" "XDG_RUNTIME_DIR=$D/xdg")
	backup_monitor
	mp_xfer "$name" 4 "$dir" "$D/backup.in"
	C_ENV=()
	rm -f "$D/backup.in"
	bg_wait "$MON_PID" 5 || true
	log "  ${MP_MS}ms; path bytes: ${IFC[1]}=$((MP_DELTA[1] / 1024))KiB ${IFC[2]}=$((MP_DELTA[2] / 1024))KiB"
	[ -e "$D/backup.log" ] && sed 's/^/    /' "$D/backup.log" >&2
	[ -e "$D/backup.err" ] && fail "$what: $(cat "$D/backup.err")"
	# the client's counters (written when it, or its keeper, finished): the
	# first extra subflow and the one that rejoined on path 1.  Not read
	# from its control socket: a sender may exit early and leave the rest
	# to its keeper, which has none.
	local nj
	nj=$(printf '%s\n' "$MP_CCNT" | counter subflows_joined)
	[ "$nj" -ge 2 ] || fail "$what: the client's subflows_joined counter is $nj, want 2 or more (the rejoin): $MP_CCNT"
	[ -e "$D/backup.res" ] && sed 's/^/    window (1 s) path1 path2: /' "$D/backup.res" >&2
	[ "$(grep -c . "$D/backup.res" 2>/dev/null || echo 0)" = 3 ] ||
		fail "$what: the transfer ended before the three phases were measured"
	shim_enabled || {
		bg_stop "$MON_PID"
		tb_topo_down
		return 0
	}
	local phase w1 w2
	while read -r phase w1 w2; do
		case $phase in
		both-up | path1-back)
			[ "$w1" -ge $((2 * 1024 * 1024)) ] ||
				fail "$what: $phase: path 1 carried only $w1 B in 1 s"
			[ $((w2 * 100)) -le $((w1 * BACKUP_IDLE_PCT)) ] ||
				fail "$what: $phase: backup path 2 carried $w2 B in 1 s while path 1 carried $w1 B (> $BACKUP_IDLE_PCT %)"
			;;
		path1-tail) # the transfer ended in this window: where its tail went
			[ "$w1" -ge $((256 * 1024)) ] ||
				fail "$what: path1-back: the transfer ended with path 1 carrying $w1 B in its last window (raise BACKUP_SIZE)"
			[ $((w2 * 100)) -le $((w1 * BACKUP_IDLE_PCT)) ] ||
				fail "$what: path1-back: backup path 2 carried $w2 B while path 1 carried $w1 B (> $BACKUP_IDLE_PCT %)"
			;;
		path1-down)
			# 50 Mbit/s = 6.25 MB/s: at least half of that
			[ "$w2" -ge $((3 * 1000 * 1000)) ] ||
				fail "$what: path 1 down: backup path 2 carried only $w2 B in 1 s"
			;;
		esac
	done <"$D/backup.res"
	bg_stop "$MON_PID"
	rm -f "$D/backup.res" "$D/backup.log"
	tb_topo_down
}

backup_case c2s
backup_case s2c
exit 0
