#!/bin/bash
# kmptcp.sh: MPTCPSHIM_KERNEL_MPTCP=1 makes a shim client's plain
# connections kernel MPTCP (issue 14, "Also reach kernel MPTCP servers").
#   Topology A, 2 paths; the client namespace has an `ip mptcp endpoint`
#   (subflow) on path 2 and MPTCP limits set in both namespaces.  curl under
#   the shim fetches a 16 MiB file twice in one process (two URLs: python's
#   http.server closes each connection) from:
#   mptcp  python http.server under `mptcpize run` (kernel MPTCP, not the
#          shim): the first connection's HELLO gets an HTTP error, the
#          fallback reconnect goes out as IPPROTO_MPTCP; the second URL's
#          connect, to a destination now known plain, too.  Both files
#          arrive sha256-exact, the server namespace counts at least 2
#          MPTcpExtMPCapableSYNRX (MP_CAPABLE SYNs) and the client's path 2
#          carried a share of the bytes (a kernel MPTCP join).
#   off    the same without the variable: byte-exact, and no MP_CAPABLE SYN
#          reached the server (the control: MPTCP came from the variable).
#   plain  a plain http.server (no mptcpize) with the variable: byte-exact;
#          the kernel fell back to TCP by itself.
# Skips (77) where the kernel has no MPTCP (socket(IPPROTO_MPTCP) fails)
# or mptcpize is missing.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=150}"
: "${T_CMD_TIMEOUT:=60}"

tb_init kmptcp
require_shim
command -v mptcpize >/dev/null || skip "mptcpize not installed"
command -v curl >/dev/null || fail "curl not installed"
"$PY" -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)' 2>/dev/null ||
	skip "the kernel has no MPTCP (socket(IPPROTO_MPTCP) fails)"
D=$T_DIR
mkdir -p "$D/www"
mkrand "$D/www/f.bin" $((16 * 1024 * 1024))

tb_topo A 2 100,100
for ns in "$NS_C" "$NS_S"; do
	ip -n "$ns" mptcp limits set subflows 2 add_addr_accepted 2
done
# the server announces its path 2 address; the client joins from its own
ip -n "$NS_S" mptcp endpoint add "${S4[2]}" dev p2s signal
ip -n "$NS_C" mptcp endpoint add "${C4[2]}" dev "${IFC[2]}" subflow

# mpc_rx NS: MPTcpExtMPCapableSYNRX of NS (/proc/net/netstat: a header
# line of names, then a line of values)
mpc_rx() {
	ip netns exec "$1" cat /proc/net/netstat | awk '
		/^MPTcpExt:/ { if (!n) { for (i = 2; i <= NF; i++) name[i] = $i; n = 1 }
			else for (i = 2; i <= NF; i++) if (name[i] == "MPCapableSYNRX") print $i }'
}

# fetch NAME SRVMODE ENV...: a server (SRVMODE mptcp: under mptcpize), curl
# under the shim fetching f.bin twice; sets RX (MP_CAPABLE SYNs the server
# got) and P2 (bytes the client's path 2 carried)
fetch() {
	local name=$1 sm=$2 rx0 p20
	shift 2
	selected "$name" || return 1
	step "$name: curl under the shim ($*) <- http.server ($sm), 2 x 16 MiB"
	next_port
	if [ "$sm" = mptcp ]; then
		bg_start "srv-$name" plain "$NS_S" mptcpize run "$PY" -m http.server "$PORT" \
			--bind "$SRV4" --directory "$D/www"
	else
		bg_start "srv-$name" plain "$NS_S" "$PY" -m http.server "$PORT" \
			--bind "$SRV4" --directory "$D/www"
	fi
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	local cm
	cm=$(counters_mark "$NS_C")
	rx0=$(mpc_rx "$NS_S")
	p20=$(path_bytes 2)
	rm -f "$D/got1" "$D/got2"
	local -a saved=("${T_ENV[@]}")
	T_ENV+=("$@")
	nsrun shim "$NS_C" curl -sS --fail --max-time 50 -o "$D/got1" "http://$SRV4:$PORT/f.bin" \
		-o "$D/got2" "http://$SRV4:$PORT/f.bin" || fail "$name: curl exited $?"
	T_ENV=("${saved[@]}")
	same_file "$name: first" "$D/www/f.bin" "$D/got1"
	same_file "$name: second" "$D/www/f.bin" "$D/got2"
	RX=$(($(mpc_rx "$NS_S") - rx0))
	P2=$(($(path_bytes 2) - p20))
	# fallbacks (HELLO refused, reconnect): the first connection only; the
	# second URL's connect knew the destination was plain
	FB=$(counters_since "$NS_C" "$cm" | counter 'fallbacks_(plain_server|timeout)')
	bg_stop "$spid"
	log "$name: MP_CAPABLE SYNs at the server: $RX; client path 2: $P2 B; fallbacks: $FB"
	[ "$FB" -eq 1 ] || fail "$name: $FB fallbacks (want 1: the second connect knows the server is plain)"
	return 0
}

if fetch mptcp mptcp MPTCPSHIM_KERNEL_MPTCP=1; then
	[ "$RX" -eq 2 ] || fail "mptcp: the server got $RX MP_CAPABLE SYNs (want 2: the fallback's and the known-plain connect's)"
	[ "$P2" -ge $((1024 * 1024)) ] || fail "mptcp: path 2 carried only $P2 B: no kernel MPTCP subflow"
fi
if fetch off mptcp; then
	[ "$RX" -eq 0 ] || fail "off: $RX MP_CAPABLE SYNs without MPTCPSHIM_KERNEL_MPTCP"
fi
fetch plain plain MPTCPSHIM_KERNEL_MPTCP=1 || true
tb_topo_down
