#!/bin/bash
# sockopts.sh: socket options and call semantics through the shim must be
# those of plain TCP.  tests/progs/optprobe runs first with plain TCP at
# both ends and records what it observes; then the same probe runs with the
# shim on both ends, shim client vs plain server, and plain client vs shim
# server, and every observation must equal the plain TCP one (PASS/FAIL per
# check; any FAIL fails the test).  Testbed: two paths (tb_topo A 2), IPv4
# and IPv6.
#
# The probe's first phase sets per-path options (congestion control, mark,
# TOS/traffic class, priority, keepalive) on a connection and pauses; the
# client's path-2 address is only added then, so the second subflow is
# created after the options were set.  Every established TCP socket in both
# namespaces (each subflow) must then carry them: on the client, what the
# app set; on the server, what its listener passed on to the accepted
# socket (reno, mark 0x77, TOS 0x20, keepalive).
# Sub-cases (T_ONLY=REGEX): opts-FAM-CLIENTMODE-SERVERMODE
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

tb_init sockopts
require_shim
tb_topo A 2
# The probe's connect to an unreachable neighbour waits for address
# resolution to fail (EHOSTUNREACH): 3 probes a second apart by default.
# One probe is enough to see the same errors, 2 s sooner per case.
for af in ipv4 ipv6; do
	ip netns exec "$NS_C" sysctl -qw "net.$af.neigh.${IFC[1]}.mcast_solicit=1" >/dev/null
done

PROBE="$top_builddir/tests/progs/optprobe"
if [ ! -x "$PROBE" ]; then
	PROBE="$T_DIR/optprobe"
	"${CC:-cc}" -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -pthread -o "$PROBE" \
		"$top_srcdir/tests/progs/optprobe.c" || fail "compiling optprobe.c"
fi

# established NS: one line per established TCP socket (every subflow).
established() {
	ip netns exec "$1" ss -tinoeHO --tos state established 2>/dev/null || true
}

# lacking NS PATTERN...: the first established socket in NS that lacks one
# of the PATTERNs (fixed strings), with what it lacks; nothing if all have
# them; "none" if there is no established socket.
lacking() {
	local ns=$1 line p n=0
	shift
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		n=$((n + 1))
		for p in "$@"; do
			case $line in
			*"$p"*) ;;
			*)
				printf "'%s': %s\n" "$p" "$line"
				return 0
				;;
			esac
		done
	done < <(established "$ns")
	[ "$n" -gt 0 ] || echo none
}

# expect_on_all NS WHAT PATTERN...: every established socket in NS (every
# subflow) carries every PATTERN.  Retried for a while: a server applies
# the options to a join once its handshake is verified, just after TCP
# shows it established.
expect_on_all() {
	local ns=$1 what=$2 i miss
	shift 2
	for ((i = 0; i < 100; i++)); do
		miss=$(lacking "$ns" "$@")
		[ -z "$miss" ] && break
		sleep 0.1
	done
	[ -z "$miss" ] || fail "$what: a subflow lacks $miss"
	log "ok: $what: $(established "$ns" | grep -c .) socket(s) with $*"
}

# run_case FAM CLIENTMODE SERVERMODE RECFLAG: one probe run.
run_case() {
	local fam=$1 cm=$2 sm=$3 rflag=$4 k="$1-$2-$3" host bindhost unreach me tos want i n=0
	local -a extra=()
	if [ "$fam" = 6 ]; then
		host=$SRV6 bindhost=:: me=${C6[1]} unreach="2001:db8:$T_NETNUM:1::99" tos=tclass:0x28
		extra=(-m "${S4[1]}")
	else
		host=$SRV4 bindhost=0.0.0.0 me=${C4[1]} unreach="198.18.$T_NETNUM.29" tos=tos:0x28
	fi
	step "IPv$fam client=$cm server=$sm"
	next_port
	bg_start "srv-$k" "$sm" "$NS_S" "$PROBE" server "$bindhost" "$PORT"
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	# path 2 comes up only after the options are set
	ip -n "$NS_C" addr del "${C4[2]}/28" dev "${IFC[2]}"
	ip -n "$NS_C" -6 addr del "${C6[2]}/64" dev "${IFC[2]}"
	local dir="$T_DIR/pause-$k"
	mkdir -p "$dir"
	bg_start "cli-$k" "$cm" "$NS_C" "$PROBE" client "$host" "$PORT" "$rflag" "$T_DIR/plain-$fam.rec" \
		-u "$unreach" -b "$me" -p "$dir" "${extra[@]}"
	local cpid=$BG_PID
	for ((i = 0; i < 600; i++)); do
		[ -e "$dir/set" ] && break
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.05
	done
	[ -e "$dir/set" ] || fail "$k: the probe did not reach its subflow phase"
	ip -n "$NS_C" addr add "${C4[2]}/28" dev "${IFC[2]}"
	ip -n "$NS_C" -6 addr add "${C6[2]}/64" dev "${IFC[2]}" nodad
	want=1
	[ "$cm/$sm" = shim/shim ] && want=2
	for ((i = 0; i < 200; i++)); do
		n=$(established "$NS_C" | grep -c . || true)
		[ "$n" -ge "$want" ] && break
		sleep 0.05
	done
	[ "$n" -ge "$want" ] || fail "$k: $n subflow(s) after adding path 2, want $want"
	expect_on_all "$NS_C" "$k client" reno fwmark:0x66 "$tos" class_id:0x3 "timer:(keepalive"
	expect_on_all "$NS_S" "$k server" reno fwmark:0x77 "${tos%28}20" "timer:(keepalive"
	: >"$dir/go"
	local rc=0
	bg_wait "$cpid" 120 || rc=$?
	sed 's/^/    /' "$T_DIR/bg-cli-$k.log" >&2
	[ "$rc" = 0 ] || fail "$k: optprobe exit status $rc"
	grep -q '^FAIL' "$T_DIR/bg-cli-$k.log" && fail "$k: optprobe reported FAIL"
	bg_stop "$spid"
	log "ok: $k"
}

for fam in 4 6; do
	# the reference: plain TCP at both ends, recorded
	run_case "$fam" plain plain -r
	for pair in shim/shim shim/plain plain/shim; do
		selected "opts-$fam-${pair%/*}-${pair#*/}" || continue
		run_case "$fam" "${pair%/*}" "${pair#*/}" -e
	done
done

shim_log_summary
exit 0
