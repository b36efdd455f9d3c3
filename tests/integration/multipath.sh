#!/bin/bash
# multipath.sh: byte-exact multipath transfers over shaped paths.
#   topology A (client and server joined by N veth pairs, one subflow per
#   path) and B (client with N uplinks through N routers to a server
#   with one address), 2 and 3 paths, IPv4 and IPv6, client->server and
#   server->client (sha256 checked).  For each transfer, with the shim:
#   - every path carried a fair share: the client interface's byte counters
#     moved by at least MIN_SHARE % of what the path's rate share predicts;
#   - the client logged each extra subflow "established" and the server
#     logged as many "joined", exactly as many as the path manager should
#     open (see npairs: one per path in A, one per uplink in B;
#     MPTCPSHIM_MAX_SUBFLOWS caps);
#   - the per-subflow statistics at the close add up to the transfer.
#   Then, over one path of topology A: MPTCPSHIM_SUBFLOWS_PER_PATH=2 gives
#   two subflows; and over two paths MPTCPSHIM_MAX_SUBFLOWS=1 gives none
#   extra (and the server announces nothing the client uses).
# Harness self-test without the shim (transfers only): NOSHIM=1 bash multipath.sh
# Sub-cases (T_ONLY=REGEX): A2-v4-c2s A2-v4-s2c A2-v6-c2s A2-v6-s2c A3-v4-c2s
#   A3-v6-s2c B2-v4-c2s B2-v4-s2c B2-v6-c2s B2-v6-s2c B3-v4-s2c B3-v6-c2s
#   perpath2 maxsub1
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((20 * 1024 * 1024))}"
: "${MIN_SHARE:=20}" # percent of the rate-predicted share each path must carry
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=240}"
: "${T_CMD_TIMEOUT:=40}" # each transfer takes a few seconds

tb_init multipath
require_shim
write_pytool
D=$T_DIR
mkrand "$D/data.in" "$SIZE"

MAXSUB=8 # MPTCPSHIM_MAX_SUBFLOWS default

# xfer NAME FAM DIR BYTES EXPECTED_EXTRA: one transfer from the client to
# the server (DIR c2s) or back (s2c) over the current testbed, with every
# check.  EXPECTED_EXTRA: extra subflows the path manager must open.
xfer() {
	local name=$1 fam=$2 dir=$3 n=$4 want=$5
	local what="$name: IPv$fam $dir $n B over $T_TOPO/$NPATHS (rates ${RATE[*]})"
	selected "$name" || return 0
	step "$what"
	local in="$D/data.in"
	if [ "$n" != "$SIZE" ]; then
		in="$D/$name.in"
		mkrand "$in" "$n"
	fi
	mp_xfer "$name" "$fam" "$dir" "$in"
	[ "$in" = "$D/data.in" ] || rm -f "$in"

	# per-path byte counters against the rate share
	local i sum=0 line="" ok=1 exp
	for ((i = 1; i <= NPATHS; i++)); do sum=$((sum + RATE[i])); done
	for ((i = 1; i <= NPATHS; i++)); do
		line="$line ${IFC[i]}=$((MP_DELTA[i] / 1024))KiB"
		exp=$((n * RATE[i] / sum))
		if [ $((MP_DELTA[i] * 100)) -lt $((exp * MIN_SHARE)) ]; then
			ok=0
			line="$line(<$MIN_SHARE% of $((exp / 1024))KiB!)"
		fi
	done
	log "  ${MP_MS}ms, $((n * 8 / 1000 / (MP_MS + 1))) Mbit/s; path bytes:$line"
	shim_enabled || return 0
	[ "$ok" = 1 ] || fail "$what: a path carried less than its share:$line"

	# subflows: established on the client, joined on the server (the
	# processes' counters, written at their exit)
	local est joined
	est=$(printf '%s\n' "$MP_CCNT" | counter subflows_joined)
	joined=$(printf '%s\n' "$MP_SCNT" | counter subflows_joined)
	log "  extra subflows: client established $est, server joined $joined (want $want)"
	[ "$est" = "$want" ] || fail "$what: client established $est extra subflows, want $want"
	[ "$joined" = "$want" ] || fail "$what: server joined $joined subflows, want $want"
	[ "$(printf '%s\n' "$MP_CCNT" | counter subflows_failed)" = 0 ] &&
		[ "$(printf '%s\n' "$MP_SCNT" | counter joins_rejected)" = 0 ] ||
		fail "$what: a subflow failed or a join was rejected: $MP_CCNT $MP_SCNT"
	[ "$(printf '%s\n' "$MP_CCNT" | counter multipath_connections)" = 1 ] ||
		fail "$what: the client did not count one multipath connection: $MP_CCNT"
	# every client interface carries a subflow (path 1 has the first one)
	for ((i = 2; i <= NPATHS && want != 0; i++)); do
		printf '%s\n' "$MP_CLOG" | grep -qE "subflow [0-9]+ $(re "$(ep "$fam" "${C4[i]}" "${C6[i]}")"):[0-9]+ -> .* established$" ||
			fail "$what: no extra subflow from path $i's address"
	done
	# the statistics at the close: one line per subflow, and together the
	# server's subflows carried the whole transfer (resent bytes count twice)
	local tot
	[ -n "$MP_SSTATS" ] || fail "$what: no per-subflow statistics in the server's log"
	[ "$(printf '%s\n' "$MP_SSTATS" | wc -l)" = $((want + 1)) ] ||
		fail "$what: $(printf '%s\n' "$MP_SSTATS" | wc -l) subflow statistics lines, want $((want + 1))"
	if [ "$dir" = c2s ]; then
		tot=$(printf '%s\n' "$MP_SSTATS" | sed -E 's/.*received ([0-9]+) B.*/\1/' | paste -sd+)
	else
		tot=$(printf '%s\n' "$MP_SSTATS" | sed -E 's/.*sent ([0-9]+) B.*/\1/' | paste -sd+)
	fi
	[ $((tot)) -ge "$n" ] || fail "$what: the server's subflow statistics add up to $((tot)) B < $n B"
}

ep() { if [ "$1" = 6 ]; then echo "[$3]"; else echo "$2"; fi; }
# npairs FAM: the extra subflows the client's path manager opens.  Its
# pairing rule (mps_pm_pair): an interface on the subnet of one of the
# server's addresses pairs with that address only; one behind a router
# pairs with every address.
#   A: client interface i shares path i's subnet with the server's address
#     on path i: NPATHS pairs (no crossed subflows, IPv4 or IPv6).
#   B: NPATHS local addresses x one server address.
# At most MAXSUB subflows in all; the first one counts.
npairs() {
	local p=$NPATHS
	[ "$p" -gt "$MAXSUB" ] && p=$MAXSUB
	echo $((p - 1))
}

step "topology A, 2 paths, 50+50 Mbit/s"
tb_topo A 2 50,50
xfer A2-v4-c2s 4 c2s "$SIZE" "$(npairs 4)"
xfer A2-v4-s2c 4 s2c "$SIZE" "$(npairs 4)"
xfer A2-v6-c2s 6 c2s "$SIZE" "$(npairs 6)"
xfer A2-v6-s2c 6 s2c "$SIZE" "$(npairs 6)"
tb_topo_down

step "topology A, 3 paths, 30+30+30 Mbit/s"
tb_topo A 3 30,30,30
xfer A3-v4-c2s 4 c2s "$SIZE" "$(npairs 4)"
xfer A3-v6-s2c 6 s2c "$SIZE" "$(npairs 6)"
tb_topo_down

step "topology B, 2 uplinks, 60+30 Mbit/s"
tb_topo B 2 60,30
xfer B2-v4-c2s 4 c2s "$SIZE" "$(npairs 4)"
xfer B2-v4-s2c 4 s2c "$SIZE" "$(npairs 4)"
xfer B2-v6-c2s 6 c2s "$SIZE" "$(npairs 6)"
xfer B2-v6-s2c 6 s2c "$SIZE" "$(npairs 6)"
tb_topo_down

step "topology B, 3 uplinks, 40+30+20 Mbit/s"
tb_topo B 3 40,30,20
xfer B3-v4-s2c 4 s2c "$SIZE" "$(npairs 4)"
xfer B3-v6-c2s 6 c2s "$SIZE" "$(npairs 6)"
tb_topo_down

# Two subflows on the one (local, remote) pair of a single path (client
# setting).
step "topology A, 1 path: MPTCPSHIM_SUBFLOWS_PER_PATH=2"
tb_topo A 1 50
C_ENV=(MPTCPSHIM_SUBFLOWS_PER_PATH=2)
xfer perpath2 4 c2s $((8 * 1024 * 1024)) 1
C_ENV=()
tb_topo_down

# MAX_SUBFLOWS=1 on the client: the first subflow only, nothing joins,
# path 2 idle.
step "topology A, 2 paths: MPTCPSHIM_MAX_SUBFLOWS=1"
tb_topo A 2 50,50
C_ENV=(MPTCPSHIM_MAX_SUBFLOWS=1)
MIN_SHARE=0 xfer maxsub1 4 c2s $((8 * 1024 * 1024)) 0
if shim_enabled && selected maxsub1; then
	# and all of it went over path 1
	[ "$(path_bytes 2)" -lt $((1024 * 1024)) ] || fail "maxsub1: path 2 carried $(path_bytes 2) B"
fi
C_ENV=()
tb_topo_down
