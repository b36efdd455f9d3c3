#!/bin/bash
# schedulers.sh: MPTCPSHIM_SCHEDULER=default|roundrobin|redundant, each a
# byte-exact transfer both ways over two shaped 50 Mbit/s uplinks
# (topology B: exactly one subflow per path), and with the shim:
#   - two subflows, one per path, both used;
#   - roundrobin: the two subflows carried comparable bytes (the sender's
#     per-subflow statistics, each at least RR_MIN % of the total);
#   - redundant: each path's interface counted about the whole transfer
#     (REDUNDANT_MIN..REDUNDANT_MAX % of it) and so did each subflow's
#     statistics, while the data still arrived once, byte-exact;
#   - default: each path carried at least a fifth of its fair share;
#   - ecf (c2s only): the same as default (on equal paths it waits only
#     near the end of the transfer).
# Harness self-test without the shim (transfers only): NOSHIM=1 bash schedulers.sh
# Sub-cases (T_ONLY=REGEX): SCHED-DIR for SCHED in default roundrobin
#   redundant, DIR in c2s s2c; and ecf-c2s
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((24 * 1024 * 1024))}"
: "${RR_MIN:=35}"
: "${REDUNDANT_MIN:=90}"
: "${REDUNDANT_MAX:=130}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=240}"
: "${T_CMD_TIMEOUT:=40}" # each transfer takes a few seconds

tb_init schedulers
require_shim
write_pytool
tb_topo B 2 50,50
D=$T_DIR

# stat_of DIR LINE: the bytes the sender's side of a statistics line sent
# (the server's line: "sent" for s2c, "received" for c2s).
stat_of() {
	if [ "$1" = c2s ]; then
		sed -E 's/.*received ([0-9]+) B.*/\1/' <<<"$2"
	else
		sed -E 's/.*sent ([0-9]+) B.*/\1/' <<<"$2"
	fi
}

run() {
	local sched=$1 dir=$2 n=$3 name="$1-$2"
	local what="$name: $dir $n B, MPTCPSHIM_SCHEDULER=$sched"
	selected "$name" || return 0
	step "$what"
	mkrand "$D/$name.in" "$n"
	T_ENV=("MPTCPSHIM_SCHEDULER=$sched")
	mp_xfer "$name" 4 "$dir" "$D/$name.in"
	T_ENV=()
	rm -f "$D/$name.in"
	log "  ${MP_MS}ms, $((n * 8 / 1000 / (MP_MS + 1))) Mbit/s; path bytes: ${IFC[1]}=$((MP_DELTA[1] / 1024))KiB ${IFC[2]}=$((MP_DELTA[2] / 1024))KiB"
	shim_enabled || return 0

	printf '%s\n' "$MP_CLOG" | grep -qE "conn $MP_PEER: subflow [0-9]+ ${C4[2]}:[0-9]+ -> [^ ]+ established$" ||
		fail "$what: the client did not establish the subflow over path 2"
	local nst
	nst=$(printf '%s\n' "$MP_SSTATS" | grep -c . || true)
	[ "$nst" = 2 ] || fail "$what: $nst subflow statistics lines on the server, want 2"
	local l a b
	l=$(printf '%s\n' "$MP_SSTATS" | sed -n 1p)
	a=$(stat_of "$dir" "$l")
	l=$(printf '%s\n' "$MP_SSTATS" | sed -n 2p)
	b=$(stat_of "$dir" "$l")
	log "  subflow data: $((a / 1024))KiB and $((b / 1024))KiB"
	[ $((a + b)) -ge "$n" ] || fail "$what: the subflows carried $((a + b)) B < $n B"
	local i
	case $sched in
	default | ecf)
		for i in 1 2; do
			[ $((MP_DELTA[i] * 10)) -ge "$n" ] ||
				fail "$what: path $i carried $((MP_DELTA[i])) B, under a fifth of its share"
		done
		;;
	roundrobin)
		for i in $a $b; do
			[ $((i * 100)) -ge $(((a + b) * RR_MIN)) ] ||
				fail "$what: round robin split $a B / $b B: one subflow carried under $RR_MIN %"
		done
		;;
	redundant)
		for i in 1 2; do
			if [ $((MP_DELTA[i] * 100)) -lt $((n * REDUNDANT_MIN)) ] ||
				[ $((MP_DELTA[i] * 100)) -gt $((n * REDUNDANT_MAX)) ]; then
				fail "$what: path $i counted $((MP_DELTA[i])) B, want $REDUNDANT_MIN..$REDUNDANT_MAX % of $n B (every chunk on every path)"
			fi
		done
		for i in $a $b; do
			[ $((i * 100)) -ge $((n * REDUNDANT_MIN)) ] ||
				fail "$what: a subflow carried $i B, want about all of $n B"
		done
		;;
	esac
}

run default c2s "$SIZE"
run default s2c "$SIZE"
run roundrobin c2s "$SIZE"
run roundrobin s2c "$SIZE"
# redundant: the slower path sets the pace, and each path carries it all
run redundant c2s $((SIZE / 2))
run redundant s2c $((SIZE / 2))
# ecf (waits for the fast path when a slow one would hold the receiver up):
# byte-exact, and on equal paths both carry their share
run ecf c2s "$SIZE"
