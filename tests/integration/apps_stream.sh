#!/bin/bash
# apps_stream.sh: socat and nc (netcat-openbsd), unmodified, under the shim
# on both ends over two shaped uplinks (topology B: a client with two
# interfaces through two routers to a server with one address, 40+40
# Mbit/s).  Every pairing of the two programs, both ways:
#   up     the client sends a random SIZE file (16 MiB) to the server
#   down   the server sends it to the client
# for socat->socat, nc->nc, nc->socat and socat->nc (client->server), IPv4,
# plus nc<->nc over IPv6.  Once both paths carry data, path 1 (the uplink
# the connection was opened on) is taken down (ip link set down) and must
# be survived: every transfer is byte-exact (sha256), both paths carried
# 1 MiB before the cut, and the client's shim logged its path-1 subflows
# lost without aborting; the path comes back before the next case.  The
# ends close the way each program does (socat -u closes at its input's
# EOF, nc -N shuts down writing), so the shim's close and exit drain are
# exercised too.
# socat -u uploads close at their input's EOF and exit as soon as their
# DATA_FIN is acknowledged, while the server's shim may still list the
# subflow of the cut path (topology B: the client's link is not the
# server's): the client's FIN on the surviving subflow must end the
# connection at once (it once held the server's close for 30 s).
# CUT=2 takes path 2 down instead of path 1 (debugging).
# Harness self-test without the shim: NOSHIM=1 bash apps_stream.sh
# Sub-cases (T_ONLY=REGEX): {socat-socat,nc-nc,nc-socat,socat-nc}-{up,down}
#   nc-nc-v6-up nc-nc-v6-down
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((16 * 1024 * 1024))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=240}"
: "${T_CMD_TIMEOUT:=60}"
: "${SERVER_END:=10}" # seconds the server may take to end after the client

tb_init apps_stream
require_shim
command -v socat >/dev/null || fail "socat not installed"
command -v nc >/dev/null || fail "nc (netcat-openbsd) not installed"
nc -h 2>&1 | grep -q -- '-N' || fail "nc is not netcat-openbsd (no -N option)"
tb_topo B 2 40,40
D=$T_DIR
mkrand "$D/data.in" "$SIZE"

# server PROG DIR FAM: the server's command line (reads $D/data.in or
# writes $D/data.out) in array SRV.
server() {
	local prog=$1 dir=$2 fam=$3 addr=$SRV4 sa
	[ "$fam" = 6 ] && addr=$SRV6
	case $prog-$dir in
	socat-up)
		sa="TCP4-LISTEN:$PORT,bind=$addr,reuseaddr"
		[ "$fam" = 6 ] && sa="TCP6-LISTEN:$PORT,bind=[$addr],reuseaddr"
		SRV=(socat -u "$sa" "CREATE:$D/data.out")
		;;
	socat-down)
		sa="TCP4-LISTEN:$PORT,bind=$addr,reuseaddr"
		[ "$fam" = 6 ] && sa="TCP6-LISTEN:$PORT,bind=[$addr],reuseaddr"
		SRV=(socat -u "OPEN:$D/data.in" "$sa")
		;;
	nc-up) SRV=("${WITH_IO[@]}" /dev/null "$D/data.out" nc -l "$addr" "$PORT") ;;
	nc-down) SRV=("${WITH_IO[@]}" "$D/data.in" /dev/null nc -N -l "$addr" "$PORT") ;;
	esac
}

# client PROG DIR FAM: the client's command line in array CLI (for nsrun;
# the redirections are added by the caller).
client() {
	local prog=$1 dir=$2 fam=$3 addr=$SRV4 ca
	[ "$fam" = 6 ] && addr=$SRV6
	ca="TCP4:$addr:$PORT"
	[ "$fam" = 6 ] && ca="TCP6:[$addr]:$PORT"
	case $prog-$dir in
	socat-up) CLI=(socat -u "OPEN:$D/data.in" "$ca") ;;
	socat-down) CLI=(socat -u "$ca" "CREATE:$D/data.out") ;;
	nc-up) CLI=("${WITH_IO[@]}" "$D/data.in" /dev/null nc -N "$addr" "$PORT") ;;
	nc-down) CLI=("${WITH_IO[@]}" /dev/null "$D/data.out" nc "$addr" "$PORT") ;;
	esac
}

# xfer CLIENTPROG SERVERPROG DIR FAM
xfer() {
	local cp=$1 sp=$2 dir=$3 fam=$4 name="$1-$2-$3" spid t0 ms cut=1
	[ "$fam" = 6 ] && name="$1-$2-v6-$3"
	local what="$name: $cp client, $sp server, IPv$fam, $dir $SIZE B"
	selected "$name" || return 0
	step "$what"
	rm -f "$D/data.out"
	next_port
	server "$sp" "$dir" "$fam"
	client "$cp" "$dir" "$fam"
	bg_start "srv-$name" shim "$NS_S" "${SRV[@]}"
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	if [ "$cut" = 1 ]; then path_cut_arm "${CUT:-1}"; else path_use_mark; fi
	t0=$(date +%s%N)
	nsrun shim "$NS_C" "${CLI[@]}" || fail "$what: the $cp client failed ($?)"
	# TCP would let the server end at once; allow for a loaded machine
	bg_wait "$spid" "$SERVER_END" ||
		fail "$what: the $sp server failed or did not end within ${SERVER_END} s of the client ($?)"
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$cut" = 1 ]; then path_cut_check "$what"; else path_use_check "$what"; fi
	same_file "$what" "$D/data.in" "$D/data.out"
	log "  ${ms} ms"
	rm -f "$D/data.out"
}

for p in socat-socat nc-nc nc-socat socat-nc; do
	for dir in up down; do
		xfer "${p%-*}" "${p#*-}" "$dir" 4
	done
done
xfer nc nc up 6
xfer nc nc down 6
exit 0
