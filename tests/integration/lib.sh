# shellcheck shell=bash
# tests/integration/lib.sh: namespace testbed for mptcpshim integration tests.
#
# Sourced (never run) by tests/integration/*.sh, scripts/demo.sh and
# bench/overhead.  Requires bash, root, iproute2 with network namespaces.
#
# Addressing rules: inside the namespaces only 198.18.0.0/15 and
# 2001:db8::/32; nothing is configured on the host.
#
# Typical use:
#   . "$top_srcdir/tests/integration/lib.sh"
#   tb_init transfer            # temp dir, traps, watchdog, root check
#   tb_setup                    # namespaces $NS_C/$NS_S, addresses $C4 $S4 $C6 $S6
#     or tb_topo A|B NPATHS [RATES]   # multipath testbeds, see tb_topo
#   bg_start srv shim "$NS_S" socat ...   # background server (killed on exit)
#   wait_listen "$NS_S" 5000
#   nsrun shim "$NS_C" socat ...           # foreground, bounded by $T_CMD_TIMEOUT
#   [ "$a" = "$b" ] || fail "hash mismatch"
#
# Environment knobs:
#   top_srcdir, top_builddir  absolute paths (set by `make check`; default:
#                             derived from this file's location)
#   SHIM                      command prefix for "shim" runs.  Default
#                             "$top_builddir/tools/mptcpshim --".  Set it to
#                             the empty string (SHIM= ) or NOSHIM=1 to run
#                             every "shim" command as plain TCP (harness
#                             self-test).
#   MPTCPSHIM_LOG             shim log level for shim runs (default warn)
#   T_TIMEOUT                 global watchdog for the whole test, seconds
#   T_CMD_TIMEOUT             default bound for each foreground command
#   T_KEEP=1                  keep the temp dir (path is printed)
#   T_VERBOSE=1               trace commands (set -x)
#   T_ONLY=REGEX              run only the sub-cases whose name matches
#                             (extended regex, see `selected`), for debugging

# --- locate the trees -------------------------------------------------------
_tb_libdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$_tb_libdir/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || echo python3)

: "${T_TIMEOUT:=600}"
: "${T_CMD_TIMEOUT:=180}"
: "${MPTCPSHIM_LOG:=warn}"
export MPTCPSHIM_LOG

SHIM_LAUNCHER="$top_builddir/tools/mptcpshim"
SHIM_LIBRARY="$top_builddir/.libs/libmptcpshim.so"
if [ "${NOSHIM:-0}" = 1 ]; then
	SHIM=""
fi
SHIM=${SHIM-"$SHIM_LAUNCHER --"}
# shellcheck disable=SC2206 # word splitting of the prefix is intended
SHIM_CMD=($SHIM)

# --- state ------------------------------------------------------------------
T_NAME=""
T_DIR=""
T_NETNUM=""
T_NETLOCK=""
T_NAMESPACES=()
T_TOPO="" # A or B after tb_topo
T_TOPO_GEN=0
BG_PIDS=()
T_ENV=() # extra VAR=VALUE for every nsrun/bg_start (e.g. MPTCPSHIM_PEERS=none)
C_ENV=() # extra VAR=VALUE for mp_xfer's client only
BG_NAMES=()
T_WATCHDOG=""
T_PORT=20000
PORT=0
T_START=$SECONDS

log() { printf '[%s %s] %s\n' "${T_NAME:-tb}" "$(date +%T)" "$*" >&2; }
step() { log "== $*"; }

shim_enabled() { [ "${#SHIM_CMD[@]}" -gt 0 ]; }

# skip REASON: exit 77 (automake "SKIP") with a stated reason.
skip() {
	log "SKIP: $*"
	exit 77
}

# show_file FILE [LINES]: dump the tail of a file with a header.
show_file() {
	local f=$1 n=${2:-60}
	[ -e "$f" ] || return 0
	printf -- '----- %s (last %s lines, %s bytes) -----\n' "$f" "$n" "$(stat -c %s "$f" 2>/dev/null || echo '?')" >&2
	tail -n "$n" "$f" >&2 || true
}

# fail MSG...: print context (shim logs, background logs, sockets) and exit 1.
fail() {
	trap - ERR
	{
		echo "############################################################"
		echo "FAIL [$T_NAME]: $*"
		echo "  elapsed: $((SECONDS - T_START))s  shim: ${SHIM:-<disabled>}"
		echo "  namespaces: ${T_NAMESPACES[*]:-none}  net: ${T_NETNUM:-?}"
		echo "############################################################"
	} >&2
	if [ -n "$T_DIR" ] && [ -d "$T_DIR" ]; then
		local f
		for f in "$T_DIR"/shim-*.log "$T_DIR"/bg-*.log "$T_DIR"/cmd.log; do
			show_file "$f" 80
		done
	fi
	local ns
	for ns in "${T_NAMESPACES[@]}"; do
		echo "----- sockets in $ns -----" >&2
		ip netns exec "$ns" ss -tanp 2>/dev/null | head -n 40 >&2 || true
	done
	exit 1
}

# --- cleanup ----------------------------------------------------------------
_tb_kill_tree() { # PID: TERM (timeout(1) forwards it to its process group)
	kill -TERM "$1" 2>/dev/null || true
}

tb_cleanup() {
	local rc=$?
	set +e
	trap - ERR INT TERM HUP
	local i pid
	for pid in "${BG_PIDS[@]}"; do
		_tb_kill_tree "$pid"
	done
	for pid in "${BG_PIDS[@]}"; do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	local ns
	for ns in "${T_NAMESPACES[@]}"; do
		# anything still running in our namespaces was started by us
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	[ -n "$T_NETLOCK" ] && rm -rf "$T_NETLOCK"
	if [ -n "$T_WATCHDOG" ]; then
		kill -TERM "$T_WATCHDOG" 2>/dev/null
		wait "$T_WATCHDOG" 2>/dev/null
	fi
	if [ -n "$T_DIR" ] && [ -d "$T_DIR" ]; then
		if [ "${T_KEEP:-0}" = 1 ]; then
			log "keeping $T_DIR"
		else
			rm -rf "$T_DIR"
		fi
	fi
	if [ "$rc" = 0 ]; then
		log "PASS (${SECONDS}s)"
	elif [ "$rc" = 77 ]; then
		:
	else
		log "exit status $rc"
	fi
	exit "$rc"
}

_tb_on_signal() {
	local sig=$1
	if [ -n "$T_DIR" ] && [ -e "$T_DIR/.watchdog-fired" ]; then
		fail "global test timeout (${T_TIMEOUT}s) expired"
	fi
	log "caught SIG$sig"
	exit 1
}

# tb_init NAME: temp dir, traps, watchdog.  Skips (77) if not root or no netns.
tb_init() {
	T_NAME=$1
	[ "${T_VERBOSE:-0}" = 1 ] && set -x
	if [ "$(id -u)" != 0 ]; then
		skip "needs root for network namespaces"
	fi
	command -v ip >/dev/null || skip "iproute2 (ip) not installed"
	local t
	for t in ss timeout sha256sum; do
		command -v "$t" >/dev/null || fail "required tool $t not found"
	done
	T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mptcpshim-$T_NAME.$$.XXXXXX")
	trap tb_cleanup EXIT
	# the plain verdicts this test's processes share (never another
	# test's: addresses and ports repeat across tests)
	export MPTCPSHIM_PEER_CACHE="$T_DIR/peers"
	trap '_tb_on_signal INT' INT
	trap '_tb_on_signal TERM' TERM
	trap '_tb_on_signal HUP' HUP
	# watchdog: a hung test fails instead of hanging `make check`
	(
		trap 'kill "$sp" 2>/dev/null; exit 0' TERM
		sleep "$T_TIMEOUT" &
		sp=$!
		wait "$sp"
		echo "[$T_NAME] watchdog: ${T_TIMEOUT}s elapsed, terminating test" >&2
		: >"$T_DIR/.watchdog-fired"
		kill -TERM $$ 2>/dev/null
		sleep 60 &
		sp=$!
		wait "$sp"
		kill -KILL $$ 2>/dev/null
	) &
	T_WATCHDOG=$!
	if shim_enabled; then
		log "shim: ${SHIM_CMD[*]}  (log level $MPTCPSHIM_LOG)"
	else
		log "shim DISABLED: every run is plain TCP (harness self-test)"
	fi
}

# require_shim: fail early (not skip: CI must never skip) if the shim is
# requested but not built.
require_shim() {
	shim_enabled || return 0
	if [ ! -x "${SHIM_CMD[0]}" ]; then
		fail "shim launcher ${SHIM_CMD[0]} not found/executable (build first, or run with NOSHIM=1)"
	fi
	if [ "${SHIM_CMD[0]}" = "$SHIM_LAUNCHER" ] && [ ! -e "$SHIM_LIBRARY" ]; then
		fail "shim library $SHIM_LIBRARY not found (build first)"
	fi
}

# --- testbed ----------------------------------------------------------------
# _tb_alloc_net: pick X in 1..250 unique among concurrently running tests
# (lock dirs under /run, stale ones from dead pids are reclaimed).
_tb_alloc_net() {
	local base=/run/mptcpshim-tests
	mkdir -p "$base"
	local seed x i d owner
	seed=$(printf '%s' "$T_NAME" | cksum | cut -d' ' -f1)
	x=$(((seed + $$) % 250 + 1))
	for i in $(seq 1 250); do
		d="$base/net-$x"
		if mkdir "$d" 2>/dev/null; then
			echo $$ >"$d/pid"
			T_NETNUM=$x
			T_NETLOCK=$d
			return 0
		fi
		owner=$(cat "$d/pid" 2>/dev/null || true)
		if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
			rm -rf "$d"
			continue
		fi
		x=$((x % 250 + 1))
		: "$i"
	done
	fail "no free testbed network number in 1..250"
}

# ns_add NAME: create a namespace with lo up and its own resolv.conf/hosts.
ns_add() {
	local ns=$1
	ip netns add "$ns" || fail "ip netns add $ns"
	T_NAMESPACES+=("$ns")
	mkdir -p "/etc/netns/$ns"
	echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"/etc/netns/$ns/hosts"
	ip -n "$ns" link set lo up || fail "lo up in $ns"
	# no duplicate address detection (link-local addresses included)
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_dad=0 >/dev/null 2>&1 || true
}

# tb_setup [PATHS]: client and server namespaces joined by PATHS (1 or 2)
# veth pairs.  Path 1: 198.18.X.1/24 <-> 198.18.X.2/24, 2001:db8:X::1/64 <-> ::2.
# Path 2: 198.19.X.1/24 <-> .2, 2001:db8:X:1::1/64 <-> ::2.
# Sets NS_C NS_S C4 S4 C6 S6 (path 1) and C4B S4B C6B S6B (path 2),
# IF_C IF_S (path-1 interface names).  Host names in both namespaces:
# client, server (v4 and v6), client4/server4, client6/server6.
tb_setup() {
	local paths=${1:-1}
	_tb_alloc_net
	local tag
	tag=$(printf '%s' "$T_NAME" | tr -cd 'a-z0-9' | cut -c1-8)
	NS_C="mpsC-$tag-$$"
	NS_S="mpsS-$tag-$$"
	local hx
	hx=$(printf '%x' "$T_NETNUM")
	C4="198.18.$T_NETNUM.1"
	S4="198.18.$T_NETNUM.2"
	C6="2001:db8:$hx::1"
	S6="2001:db8:$hx::2"
	C4B="198.19.$T_NETNUM.1"
	S4B="198.19.$T_NETNUM.2"
	C6B="2001:db8:$hx:1::1"
	S6B="2001:db8:$hx:1::2"
	IF_C=veth0c
	IF_S=veth0s
	ns_add "$NS_C"
	ns_add "$NS_S"
	_tb_link "$IF_C" "$IF_S" "$C4" "$S4" "$C6" "$S6"
	if [ "$paths" -ge 2 ]; then
		_tb_link veth1c veth1s "$C4B" "$S4B" "$C6B" "$S6B"
	fi
	local ns
	for ns in "$NS_C" "$NS_S"; do
		{
			printf '%s\tclient client4\n%s\tserver server4\n' "$C4" "$S4"
			printf '%s\tclient client6\n%s\tserver server6\n' "$C6" "$S6"
		} >>"/etc/netns/$ns/hosts"
	done
	log "testbed net $T_NETNUM: $NS_C ($C4, $C6) <-> $NS_S ($S4, $S6), $paths path(s)"
	# wait until the links are up (carrier) and no address is tentative
	local i
	for i in $(seq 1 100); do
		if _tb_links_ready; then
			return 0
		fi
		sleep 0.05
		: "$i"
	done
	fail "testbed: links did not come up"
}

_tb_links_ready() {
	local ns
	for ns in "$NS_C" "$NS_S"; do
		ip -n "$ns" -o link show | grep -v 'lo:' | grep -q 'LOWER_UP' || return 1
		ip -n "$ns" -o link show | grep -v 'lo:' | grep -q 'NO-CARRIER' && return 1
		ip -n "$ns" -o addr show | grep -q tentative && return 1
	done
	return 0
}

_tb_link() { # IFC IFS C4 S4 C6 S6
	local ifc=$1 ifs=$2
	ip link add "$ifc" netns "$NS_C" type veth peer name "$ifs" netns "$NS_S" ||
		fail "creating veth $ifc/$ifs"
	ip -n "$NS_C" addr add "$3/24" dev "$ifc"
	ip -n "$NS_S" addr add "$4/24" dev "$ifs"
	ip -n "$NS_C" -6 addr add "$5/64" dev "$ifc" nodad
	ip -n "$NS_S" -6 addr add "$6/64" dev "$ifs" nodad
	ip -n "$NS_C" link set "$ifc" up
	ip -n "$NS_S" link set "$ifs" up
}

# --- multipath testbeds (tb_topo) -------------------------------------------
# tb_topo KIND NPATHS [RATES]: after tb_init (instead of tb_setup).
#
#   KIND A: $NS_C and $NS_S joined by NPATHS veth pairs (client IFC[i] =
#     p<i>c, server p<i>s).  Path i: 198.18.$T_NETNUM.(16*i)/28, client
#     .16i+1, server .16i+2; 2001:db8:$T_NETNUM:i::1/64 and ::2 (T_NETNUM
#     written as is, so it reads as hex in the address).  One server
#     address per path (S4[i], S6[i]), no default routes.
#   KIND B: a phone with NPATHS uplinks to an internet server.  Client
#     interface IFC[i] = p<i>c to router namespace ${NS_R[i]} (same
#     addressing as A, the router holds .16i+2 and ::2); each router has a
#     second, unnumbered veth to the server (IPv4 via onlink routes, IPv6
#     via fixed link-local addresses fe80::1 router, fe80::2 server).  The
#     server has ONE service address, 198.18.$T_NETNUM.250/32 and
#     2001:db8:$T_NETNUM:ff::1/128 on lo (no dummy driver here; the shim
#     judges "loopback" by address, not interface), reachable through every
#     router, with return routes per client subnet via the matching router.
#     The client has per-interface source routing (ip rule from C4[i]
#     lookup 100+i: default via router i dev IFC[i]; same for IPv6) and a
#     main-table default via router 1.  Forwarding on in the routers.
#   RATES: comma list of Mbit/s per path (50,50 or 80,20; missing or 0 =
#     unshaped).  Both directions of path i are shaped with tbf (burst
#     32kb, latency 40ms): the client's egress on IFC[i] and the far
#     side's egress towards the client (the server's p<i>s in A, the
#     router's p<i>r in B).
#
# Exports: T_TOPO (A|B), NPATHS, NS_C, NS_S, arrays indexed 1..NPATHS (no
# element 0): C4 C6 IFC (client address and interface per path), RATE
# (Mbit/s, 0 = unshaped), S4 S6 (server address per path, KIND A only;
# empty in B), NS_R (router namespaces, KIND B only); SRV4/SRV6, the
# address a client connects to (path 1's server address in A, the service
# address in B).  Host names in every namespace: server/server4/server6
# (SRV4/SRV6), client/client4/client6 (path 1).
# Namespace names get a suffix -2, -3... when tb_topo_down/tb_topo build
# further testbeds in the same test (so their shim logs are separate).
# Helpers: path_bytes I, shim_subflow_lines NS, tb_topo_down.
tb_topo() {
	local kind=${1:-} n=${2:-} rates=${3:-}
	[ -n "$T_DIR" ] || fail "tb_topo: call tb_init first"
	[ -z "${NS_C:-}" ] || fail "tb_topo: a testbed exists already"
	case $kind in A | B) ;; *) fail "tb_topo: KIND must be A or B, got '$kind'" ;; esac
	case $n in [1-9]) ;; *) fail "tb_topo: NPATHS must be 1..9, got '$n'" ;; esac
	[ -n "$T_NETNUM" ] || _tb_alloc_net
	T_TOPO_GEN=$((T_TOPO_GEN + 1))
	local tag x=$T_NETNUM i r sfx=""
	tag=$(printf '%s' "$T_NAME" | tr -cd 'a-z0-9' | cut -c1-8)
	[ "$T_TOPO_GEN" = 1 ] || sfx="-$T_TOPO_GEN"
	T_TOPO=$kind
	NPATHS=$n
	NS_C="mpsC-$tag-$$$sfx"
	NS_S="mpsS-$tag-$$$sfx"
	unset C4 C6 S4 S6 IFC NS_R RATE
	declare -ga C4=() C6=() S4=() S6=() IFC=() NS_R=() RATE=()
	local -a rl=()
	IFS=, read -r -a rl <<<"$rates"
	ns_add "$NS_C"
	ns_add "$NS_S"
	for ((i = 1; i <= n; i++)); do
		C4[i]="198.18.$x.$((16 * i + 1))"
		C6[i]="2001:db8:$x:$i::1"
		IFC[i]="p${i}c"
		r=${rl[i - 1]:-0}
		case $r in '' | *[!0-9]*) fail "tb_topo: bad rate '$r' in '$rates'" ;; esac
		RATE[i]=$r
	done
	if [ "$kind" = A ]; then
		for ((i = 1; i <= n; i++)); do
			S4[i]="198.18.$x.$((16 * i + 2))"
			S6[i]="2001:db8:$x:$i::2"
			_tb_veth "$NS_C" "p${i}c" "$NS_S" "p${i}s"
			_tb_addr "$NS_C" "p${i}c" "${C4[i]}/28" "${C6[i]}/64"
			_tb_addr "$NS_S" "p${i}s" "${S4[i]}/28" "${S6[i]}/64"
			_tb_shape "$NS_C" "p${i}c" "${RATE[i]}"
			_tb_shape "$NS_S" "p${i}s" "${RATE[i]}"
		done
		SRV4=${S4[1]}
		SRV6=${S6[1]}
	else
		SRV4="198.18.$x.250"
		SRV6="2001:db8:$x:ff::1"
		ip -n "$NS_S" addr add "$SRV4/32" dev lo || fail "service address"
		ip -n "$NS_S" -6 addr add "$SRV6/128" dev lo nodad || fail "service address (v6)"
		local rns rc4 rc6
		for ((i = 1; i <= n; i++)); do
			rns="mpsR$i-$tag-$$$sfx"
			NS_R[i]=$rns
			rc4="198.18.$x.$((16 * i + 2))"
			rc6="2001:db8:$x:$i::2"
			ns_add "$rns"
			ip netns exec "$rns" sysctl -qw net.ipv4.ip_forward=1 \
				net.ipv6.conf.all.forwarding=1 >/dev/null || fail "forwarding in $rns"
			# client <-> router i
			_tb_veth "$NS_C" "p${i}c" "$rns" "p${i}r"
			_tb_addr "$NS_C" "p${i}c" "${C4[i]}/28" "${C6[i]}/64"
			_tb_addr "$rns" "p${i}r" "$rc4/28" "$rc6/64"
			_tb_shape "$NS_C" "p${i}c" "${RATE[i]}"
			_tb_shape "$rns" "p${i}r" "${RATE[i]}"
			# router i <-> server, unnumbered (fixed link-locals for v6)
			_tb_veth "$rns" "s${i}r" "$NS_S" "s${i}s"
			ip -n "$rns" -6 addr add fe80::1/64 dev "s${i}r" nodad
			ip -n "$NS_S" -6 addr add fe80::2/64 dev "s${i}s" nodad
			ip -n "$rns" route add "$SRV4/32" dev "s${i}r" || fail "route to $SRV4 in $rns"
			ip -n "$rns" -6 route add "$SRV6/128" via fe80::2 dev "s${i}r" || fail "v6 route to $SRV6 in $rns"
			ip -n "$NS_S" route add "198.18.$x.$((16 * i))/28" via "$rc4" dev "s${i}s" onlink src "$SRV4" ||
				fail "return route via router $i"
			ip -n "$NS_S" -6 route add "2001:db8:$x:$i::/64" via fe80::1 dev "s${i}s" src "$SRV6" ||
				fail "v6 return route via router $i"
			# client: per-interface source routing
			ip -n "$NS_C" rule add from "${C4[i]}" lookup $((100 + i)) || fail "ip rule"
			ip -n "$NS_C" route add default via "$rc4" dev "p${i}c" table $((100 + i)) || fail "ip route table $((100 + i))"
			ip -n "$NS_C" -6 rule add from "${C6[i]}" lookup $((100 + i)) || fail "ip -6 rule"
			ip -n "$NS_C" -6 route add default via "$rc6" dev "p${i}c" table $((100 + i)) || fail "ip -6 route table $((100 + i))"
			if [ "$i" = 1 ]; then
				ip -n "$NS_C" route add default via "$rc4" dev p1c || fail "default route"
				ip -n "$NS_C" -6 route add default via "$rc6" dev p1c || fail "v6 default route"
			fi
		done
	fi
	IF_C=${IFC[1]}
	local ns
	for ns in "${T_NAMESPACES[@]}"; do
		{
			printf '%s\tclient client4\n%s\tserver server4\n' "${C4[1]}" "$SRV4"
			printf '%s\tclient client6\n%s\tserver server6\n' "${C6[1]}" "$SRV6"
		} >>"/etc/netns/$ns/hosts"
	done
	export T_TOPO NPATHS NS_C NS_S SRV4 SRV6
	log "testbed $kind net $x: $n path(s), rates ${rates:-unshaped}: client ${C4[*]} -> server $SRV4 / $SRV6"
	for ((i = 0; i < 100; i++)); do
		_tb_topo_ready && return 0
		sleep 0.05
	done
	fail "testbed: links did not come up"
}

# tb_topo_down: tear the tb_topo testbed down (processes in its namespaces
# killed, namespaces deleted) so that tb_topo can build another one in the
# same test.  Background commands started in it should be stopped first.
tb_topo_down() {
	local ns pid keep=()
	[ -n "${T_TOPO:-}" ] || return 0
	local -A mine=()
	for ns in "$NS_C" "$NS_S" "${NS_R[@]}"; do
		mine[$ns]=1
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	for ns in "${T_NAMESPACES[@]}"; do
		[ -n "${mine[$ns]:-}" ] || keep+=("$ns")
	done
	T_NAMESPACES=("${keep[@]}")
	T_TOPO=""
	NS_C=""
	NS_S=""
}

_tb_veth() { # NS1 IF1 NS2 IF2
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" ||
		fail "creating veth $1/$2 <-> $3/$4"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

_tb_addr() { # NS IF ADDR4/LEN ADDR6/LEN
	ip -n "$1" addr add "$3" dev "$2" || fail "address $3 on $1/$2"
	ip -n "$1" -6 addr add "$4" dev "$2" nodad || fail "address $4 on $1/$2"
}

# _tb_shape NS IF MBIT: tbf on the egress of IF (nothing for 0).
_tb_shape() {
	[ "${3:-0}" -gt 0 ] || return 0
	ip netns exec "$1" tc qdisc replace dev "$2" root tbf rate "${3}mbit" burst 32kb latency 40ms ||
		fail "tc tbf ${3}mbit on $1/$2"
}

_tb_topo_ready() {
	local ns
	for ns in "${T_NAMESPACES[@]}"; do
		ip -n "$ns" -o link show | grep -v ': lo:' | grep -q 'NO-CARRIER' && return 1
		ip -n "$ns" -o addr show | grep -q tentative && return 1
	done
	return 0
}

# path_bytes I: bytes (tx + rx) counted so far on the client's interface of
# path I.
path_bytes() {
	local i=$1 d v
	d="/sys/class/net/${IFC[i]}/statistics"
	v=$(ip netns exec "$NS_C" cat "$d/tx_bytes" "$d/rx_bytes" | tr '\n' ' ')
	case $v in
	[0-9]*' '[0-9]*' ') ;;
	*) fail "path_bytes $i: cannot read counters of ${IFC[i]} ('$v')" ;;
	esac
	set -- $v
	echo $(($1 + $2))
}

# shim_subflow_lines NS: the per-subflow statistics lines ("conn PEER:
# subflow N LOCAL -> REMOTE: sent X B, received Y B") of NS's shim log.
shim_subflow_lines() {
	local f="$T_DIR/shim-$1.log"
	[ -e "$f" ] || return 0
	grep -E 'subflow [0-9]+ .* -> .*: sent [0-9]+ B, received [0-9]+ B' "$f" || true
}

# counters_mark NS: the number of counter lines NS's shim processes have
# written so far (one JSON line per process at its exit:
# MPTCPSHIM_COUNTERS_FILE, set for every run under the shim).
counters_mark() {
	local f="$T_DIR/counters-$1.jsonl"
	if [ -e "$f" ]; then wc -l <"$f"; else echo 0; fi
}

# counters_since NS MARK [N]: the counter lines written in NS since MARK,
# once there are N of them (default 1; a keeper process writes its line
# when it has finished the connections, a moment after the app exits):
# fails after 10 s without.
counters_since() {
	local f="$T_DIR/counters-$1.jsonl" k
	for ((k = 0; k < 200; k++)); do
		if [ -e "$f" ] && [ "$(($(wc -l <"$f") - $2))" -ge "${3:-1}" ]; then
			tail -n +"$(($2 + 1))" "$f"
			return 0
		fi
		sleep 0.05
	done
	fail "no counters from $1's shim processes (want ${3:-1} line(s) after line $2 of $f)"
}

# counter NAME: the value of counter NAME in the JSON counter lines on
# stdin, summed over the lines.
counter() {
	grep -oE "\"$1\":[0-9]+" | awk -F: '{ s += $2 } END { print s + 0 }'
}

# mp_xfer NAME FAM DIR FILE: one byte-exact transfer of FILE between
# tcptool.py xfserver (background, in $NS_S, on SRV4/SRV6, fresh port) and
# xfclient (in $NS_C), both under the shim, DIR c2s (client sends) or s2c;
# both ends read to EOF, so both see a graceful close.  Fails unless the
# received copy is identical.  Needs write_pytool.  The array C_ENV adds
# VAR=VALUE to the client's environment only; MP_DELAY=SECS makes both
# ends wait that long after connecting before they send (e.g. until every
# subflow is up).  Sets:
#   MP_DELTA[i]  bytes path i's client interface counted during the transfer
#   MP_MS        milliseconds (client start to server end)
#   MP_CLOG, MP_SLOG  what the client's / server's shim logged meanwhile
#   MP_PEER      "ADDR:PORT" as the client's log names the connection
#   MP_SSTATS    the server's per-subflow statistics lines (close)
#   MP_CCNT, MP_SCNT  the client's / server's process counters (JSON line)
# shellcheck disable=SC2034 # MP_* are for the sourcing script
mp_xfer() {
	local name=$1 fam=$2 dir=$3 in=$4
	local host=$SRV4 out="$T_DIR/$1.out" smode cmode i t0 nc0 ns0 cl sl
	MP_PEER=$SRV4
	if [ "$fam" = 6 ]; then
		host=$SRV6
		MP_PEER="[$SRV6]"
	fi
	case $dir in
	c2s) smode=recv cmode=send ;;
	s2c) smode=send cmode=recv ;;
	*) fail "mp_xfer: DIR must be c2s or s2c" ;;
	esac
	local sfile=$out cfile=$in
	[ "$dir" = s2c ] && sfile=$in cfile=$out
	rm -f "$out"
	next_port
	MP_PEER="$MP_PEER:$PORT"
	cl="$T_DIR/shim-$NS_C.log"
	sl="$T_DIR/shim-$NS_S.log"
	nc0=0
	ns0=0
	[ -e "$cl" ] && nc0=$(wc -l <"$cl")
	[ -e "$sl" ] && ns0=$(wc -l <"$sl")
	local cc0 sc0
	cc0=$(counters_mark "$NS_C")
	sc0=$(counters_mark "$NS_S")
	bg_start "srv-$name" shim "$NS_S" "$PY" "$PYTOOL" xfserver "$host" "$PORT" "$smode" "$sfile" "${MP_DELAY:-0}"
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	declare -ga MP_DELTA=()
	for ((i = 1; i <= NPATHS; i++)); do MP_DELTA[i]=$(path_bytes "$i"); done
	t0=$(date +%s%N)
	local -a saved=("${T_ENV[@]}")
	T_ENV+=("${C_ENV[@]}")
	nsrun shim "$NS_C" "$PY" "$PYTOOL" xfclient "$host" "$PORT" "$cmode" "$cfile" "${MP_DELAY:-0}" ||
		fail "$name: client failed"
	T_ENV=("${saved[@]}")
	bg_wait "$spid" 30 || fail "$name: server failed ($?)"
	MP_MS=$((($(date +%s%N) - t0) / 1000000))
	for ((i = 1; i <= NPATHS; i++)); do MP_DELTA[i]=$(($(path_bytes "$i") - MP_DELTA[i])); done
	same_file "$name" "$in" "$out"
	rm -f "$out"
	MP_CLOG=""
	MP_SLOG=""
	[ -e "$cl" ] && MP_CLOG=$(tail -n +"$((nc0 + 1))" "$cl")
	[ -e "$sl" ] && MP_SLOG=$(tail -n +"$((ns0 + 1))" "$sl")
	MP_SSTATS=$(printf '%s\n' "$MP_SLOG" | grep -E 'subflow [0-9]+ .* -> .*: sent [0-9]+ B, received [0-9]+ B' || true)
	MP_CCNT=""
	MP_SCNT=""
	if shim_enabled; then
		MP_CCNT=$(counters_since "$NS_C" "$cc0")
		MP_SCNT=$(counters_since "$NS_S" "$sc0")
	fi
	return 0
}

# --- running commands -------------------------------------------------------
# _tb_prefix MODE NS: fills array TB_PREFIX with the command prefix.
_tb_prefix() {
	local mode=$1 ns=$2
	TB_PREFIX=(ip netns exec "$ns" env
		"MPTCPSHIM_LOG=$MPTCPSHIM_LOG"
		"MPTCPSHIM_LOG_FILE=$T_DIR/shim-$ns.log"
		"MPTCPSHIM_COUNTERS_FILE=$T_DIR/counters-$ns.jsonl"
		"${T_ENV[@]}")
	case $mode in
	shim) TB_PREFIX+=("${SHIM_CMD[@]}") ;;
	plain) ;;
	*) fail "bad run mode '$mode' (want shim or plain)" ;;
	esac
}

# nsrun MODE NS CMD...: run CMD in NS, plain or under the shim, bounded by
# T_CMD_TIMEOUT (override per call with T_CMD_TIMEOUT=N nsrun ...).
# Extra environment for the command: the array T_ENV.
nsrun() {
	local mode=$1 ns=$2
	shift 2
	_tb_prefix "$mode" "$ns"
	echo "+ [$ns/$mode] $*" >>"$T_DIR/cmd.log"
	timeout -k 5 "$T_CMD_TIMEOUT" "${TB_PREFIX[@]}" "$@"
}

# bg_start NAME MODE NS CMD...: start a background command (stdout+stderr in
# $T_DIR/bg-NAME.log).  Sets BG_PID.  Killed on exit.
bg_start() {
	local name=$1 mode=$2 ns=$3
	shift 3
	_tb_prefix "$mode" "$ns"
	echo "+ bg $name [$ns/$mode] $*" >>"$T_DIR/cmd.log"
	timeout -k 5 "$T_TIMEOUT" "${TB_PREFIX[@]}" "$@" \
		>"$T_DIR/bg-$name.log" 2>&1 </dev/null &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
	BG_NAMES+=("$name")
}

# bg_wait PID [SECS]: wait for a background command; returns its status
# (124 if it did not end within SECS, default T_CMD_TIMEOUT).
bg_wait() {
	local pid=$1 secs=${2:-$T_CMD_TIMEOUT} i rc=0
	for ((i = 0; i < secs * 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	if kill -0 "$pid" 2>/dev/null; then
		return 124
	fi
	wait "$pid" || rc=$?
	return "$rc"
}

# bg_stop PID: terminate a background command and reap it.
bg_stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
		: "$i"
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# wait_listen NS PORT [SECS]: poll `ss -ltn` in NS until PORT listens.
wait_listen() {
	local ns=$1 port=$2 secs=${3:-20} i
	for ((i = 0; i < secs * 20; i++)); do
		if [ -n "$(ip netns exec "$ns" ss -ltnH "sport = :$port" 2>/dev/null)" ]; then
			return 0
		fi
		sleep 0.05
	done
	fail "nothing listening on port $port in $ns after ${secs}s"
}

# next_port: sets PORT to a fresh port number (unique within the test).
next_port() {
	T_PORT=$((T_PORT + 1))
	# shellcheck disable=SC2034 # used by the sourcing script
	PORT=$T_PORT
}

# selected NAME: true if sub-case NAME should run (T_ONLY unset or matching).
selected() {
	[ -z "${T_ONLY:-}" ] && return 0
	if printf '%s\n' "$1" | grep -Eq -- "$T_ONLY"; then
		return 0
	fi
	log "skipping sub-case '$1' (T_ONLY=$T_ONLY)"
	return 1
}

# --- data helpers -----------------------------------------------------------
sha256() { sha256sum "$1" | cut -d' ' -f1; }
fsize() { stat -c %s "$1"; }

# mkrand FILE BYTES: random file of exactly BYTES bytes.
mkrand() {
	head -c "$2" /dev/urandom >"$1"
	[ "$(fsize "$1")" = "$2" ] || fail "mkrand $1 $2"
}

# same_file WHAT SENT RECEIVED: sha256 and size comparison, fail on mismatch.
same_file() {
	local what=$1 a=$2 b=$3 ha hb
	[ -e "$b" ] || fail "$what: received file $b missing"
	ha=$(sha256 "$a")
	hb=$(sha256 "$b")
	if [ "$ha" != "$hb" ]; then
		fail "$what: MISMATCH sent $(fsize "$a") B sha256 $ha, received $(fsize "$b") B sha256 $hb"
	fi
	log "ok: $what ($(fsize "$a") B, sha256 ${ha:0:16}...)"
}

# addr_url FAMILY: "host" part for URLs / socat addresses of the server.
# (after tb_topo: SRV4/SRV6)
srv_addr() {
	if [ -n "${T_TOPO:-}" ]; then
		if [ "$1" = 6 ]; then echo "$SRV6"; else echo "$SRV4"; fi
	elif [ "$1" = 6 ]; then echo "${S6[0]}"; else echo "${S4[0]}"; fi
}
srv_bracket() { if [ "$1" = 6 ]; then echo "[$(srv_addr 6)]"; else srv_addr 4; fi; }

# shim_log_summary: print warnings the shim logged (informational).
shim_log_summary() {
	local f n
	for f in "$T_DIR"/shim-*.log; do
		[ -s "$f" ] || continue
		n=$(wc -l <"$f")
		log "shim log $(basename "$f"): $n line(s)"
		head -n 20 "$f" | sed 's/^/    /' >&2
	done
}

# build_progs: locate (or compile into $T_DIR) tests/progs binaries; sets
# PROG_NBCONNECT PROG_POLLCLIENT PROG_SOCKPROBE.
build_progs() {
	local p src bin var
	for p in nbconnect pollclient sockprobe; do
		bin="$top_builddir/tests/progs/$p"
		if [ ! -x "$bin" ]; then
			src="$top_srcdir/tests/progs/$p.c"
			bin="$T_DIR/$p"
			"${CC:-cc}" -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$bin" "$src" ||
				fail "compiling $src"
		fi
		var="PROG_$(echo "$p" | tr '[:lower:]' '[:upper:]')"
		printf -v "$var" '%s' "$bin"
	done
}

# write_pytool: copy the python helper (tests/progs/tcptool.py) into $T_DIR; sets PYTOOL.
write_pytool() {
	PYTOOL="$T_DIR/tcptool.py"
	cp "$top_srcdir/tests/progs/tcptool.py" "$PYTOOL" || fail "copying tcptool.py"
}

# --- real programs (tests/integration/apps_*.sh, nginx.sh) -------------------
# These helpers work on a tb_topo testbed.

# path_down I: take the client's link of path I down (what failover.sh's
# linkdown case does): every subflow on it is lost at once.
path_down() {
	ip -n "$NS_C" link set "${IFC[$1]}" down || fail "path_down $1"
}

# path_up I: bring path I back as tb_topo built it.  A link that went down
# lost its IPv6 addresses and every route through it (the per-interface
# source routes and, for path 1 in topology B, the main default route), so
# they are put back too.  Returns once the link has carrier.
path_up() {
	local i=$1 k rc4 rc6
	ip -n "$NS_C" link set "${IFC[i]}" up || fail "path_up $i"
	ip -n "$NS_C" addr replace "${C4[i]}/28" dev "${IFC[i]}" || fail "path_up $i: ${C4[i]}"
	ip -n "$NS_C" -6 addr replace "${C6[i]}/64" dev "${IFC[i]}" nodad || fail "path_up $i: ${C6[i]}"
	if [ "$T_TOPO" = B ]; then
		rc4="198.18.$T_NETNUM.$((16 * i + 2))"
		rc6="2001:db8:$T_NETNUM:$i::2"
		ip -n "$NS_C" route replace default via "$rc4" dev "${IFC[i]}" table $((100 + i)) ||
			fail "path_up $i: route"
		ip -n "$NS_C" -6 route replace default via "$rc6" dev "${IFC[i]}" table $((100 + i)) ||
			fail "path_up $i: v6 route"
		if [ "$i" = 1 ]; then
			ip -n "$NS_C" route replace default via "$rc4" dev "${IFC[i]}" || fail "path_up 1: default"
			ip -n "$NS_C" -6 route replace default via "$rc6" dev "${IFC[i]}" || fail "path_up 1: v6 default"
		fi
	fi
	for ((k = 0; k < 200; k++)); do
		if ip -n "$NS_C" -o link show "${IFC[i]}" | grep -q LOWER_UP && _tb_topo_ready; then
			return 0
		fi
		sleep 0.05
	done
	fail "path_up $i: the link did not come back"
}

# path_cut_arm I [MIN]: in the background, wait until EVERY path has
# carried MIN bytes (default 1 MiB) since this call (so the transfer under
# way is really spread over several subflows), then take path I down.
# Without the shim (NOSHIM=1) only path 1 carries anything: it waits for
# path 1 and takes path 2 down, which the plain transfer does not use.
# Call path_cut_check once the transfer is over.  Sets CUT_PID, CUT_PATH.
path_cut_arm() {
	local min=${2:-$((1024 * 1024))}
	CUT_PATH=$1
	shim_enabled || CUT_PATH=2
	rm -f "$T_DIR/cut.done" "$T_DIR/cut.err" "$T_DIR/cut.end"
	local -a base=()
	local i
	for ((i = 1; i <= NPATHS; i++)); do base[i]=$(path_bytes "$i"); done
	(
		set +e
		local k j ok
		for ((k = 0; k < 60 * 50; k++)); do
			[ -e "$T_DIR/cut.end" ] && break
			ok=1
			for ((j = 1; j <= NPATHS; j++)); do
				shim_enabled || [ "$j" = 1 ] || continue
				[ $(($(path_bytes "$j") - base[j])) -ge "$min" ] || ok=0
			done
			[ "$ok" = 1 ] && break
			sleep 0.02
		done
		if [ "$ok" != 1 ]; then
			for ((j = 1; j <= NPATHS; j++)); do
				printf 'path %s carried %s B (want %s) ' "$j" $(($(path_bytes "$j") - base[j])) "$min"
			done >"$T_DIR/cut.err"
			exit 0
		fi
		sleep 0.3
		if [ -e "$T_DIR/cut.end" ]; then
			echo "the transfer ended before path $CUT_PATH could be cut" >"$T_DIR/cut.err"
			exit 0
		fi
		ip -n "$NS_C" link set "${IFC[CUT_PATH]}" down
		echo "path $CUT_PATH (${IFC[CUT_PATH]}) down at $(date +%T.%N)" >"$T_DIR/cut.done"
	) >>"$T_DIR/cutter.log" 2>&1 &
	CUT_PID=$!
	BG_PIDS+=("$CUT_PID")
	CUT_LOG0=0
	[ -e "$T_DIR/shim-$NS_C.log" ] && CUT_LOG0=$(wc -l <"$T_DIR/shim-$NS_C.log")
	return 0
}

# path_cut_check WHAT: after the transfer armed by path_cut_arm: fails
# unless the cut happened while it ran (and so after every path carried
# data) and the client's shim saw its subflows on that path lost, with no
# connection aborted or left without a path for a second or more (one on a
# single subflow joins the other path at once); then brings the path back
# up.
path_cut_check() {
	local what=$1 clog
	: >"$T_DIR/cut.end"
	bg_wait "$CUT_PID" 10 || true
	[ -e "$T_DIR/cut.err" ] && fail "$what: $(cat "$T_DIR/cut.err")"
	[ -e "$T_DIR/cut.done" ] || fail "$what: path $CUT_PATH was not cut during the transfer"
	log "  cut: $(cat "$T_DIR/cut.done")"
	if shim_enabled; then
		sleep 0.2 # the client's last log lines
		clog=$(tail -n +"$((CUT_LOG0 + 1))" "$T_DIR/shim-$NS_C.log" 2>/dev/null || true)
		printf '%s\n' "$clog" | grep -qE 'subflow [0-9]+ lost \(' ||
			fail "$what: the client's shim logged no subflow lost after the cut"
		if printf '%s\n' "$clog" | grep -E 'aborting'; then
			fail "$what: a connection aborted although one path still worked"
		fi
		# A connection on one subflow (one that had not joined yet: a
		# young one, or an inline one that joins only when it moves
		# data, MPTCPSHIM_INLINE) loses its only path: it must join on
		# the other at once ("path back after" < 1 s), nothing lost.
		local line conn
		while IFS= read -r line; do
			conn=$(printf '%s\n' "$line" | sed -nE 's/.*conn ([^ ]+): no working path.*/\1/p')
			[ -n "$conn" ] || continue
			printf '%s\n' "$clog" | grep -F "conn $conn: path back after" |
				grep -qE 'after 0\.[0-9]+ s' ||
				fail "$what: $conn lost every path although one path still worked ($line)"
		done < <(printf '%s\n' "$clog" | grep -E 'no working path' || true)
	fi
	path_up "$CUT_PATH"
	rm -f "$T_DIR/cut.done" "$T_DIR/cut.end"
}

# nginx_conf DIR WORKERS: write DIR/nginx.conf, a private configuration
# (no host file read; pid, logs and temp files under DIR) for a master and
# WORKERS workers, whose http block ends with the lines on stdin.
nginx_conf() {
	local dir=$1 nw=$2
	mkdir -p "$dir/logs" "$dir/tmp"
	{
		cat <<NGXEOF
user root;
worker_processes $nw;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log info;
events {
	worker_connections 256;
}
http {
	access_log $dir/logs/access.log;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
NGXEOF
		cat
		echo "}"
	} >"$dir/nginx.conf"
}

# nginx_start PORT ROOTDIR [WORKERS]: nginx under the shim in $NS_S with a
# private configuration (no host file read, nothing but ROOTDIR served),
# listening on $SRV4:PORT and [$SRV6]:PORT, master + WORKERS (default 2)
# pre-forked workers.  Sets NGX_PID (the bg_start pid), NGX_MASTER,
# NGX_WORKERS (space-separated pids), NGX_DIR.
nginx_start() {
	local port=$1 root=$2 nw=${3:-2} nginx k
	nginx=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$nginx" ] || fail "nginx not installed (scripts/install-deps.sh installs it)"
	NGX_DIR="$T_DIR/ngx-$port"
	nginx_conf "$NGX_DIR" "$nw" <<NGXEOF
	types { application/octet-stream bin; }
	default_type application/octet-stream;
	sendfile on;
	keepalive_timeout 5;
	server {
		listen $SRV4:$port;
		listen [$SRV6]:$port;
		root $root;
	}
NGXEOF
	bg_start "nginx-$port" shim "$NS_S" "$nginx" -p "$NGX_DIR" -e "$NGX_DIR/logs/error.log" \
		-c "$NGX_DIR/nginx.conf"
	NGX_PID=$BG_PID
	wait_listen "$NS_S" "$port"
	for ((k = 0; k < 100; k++)); do
		[ -s "$NGX_DIR/nginx.pid" ] &&
			[ "$(pgrep -c -P "$(cat "$NGX_DIR/nginx.pid")" || true)" -ge "$nw" ] && break
		sleep 0.05
	done
	NGX_MASTER=$(cat "$NGX_DIR/nginx.pid" 2>/dev/null || true)
	[ -n "$NGX_MASTER" ] || fail "nginx wrote no pid file"
	NGX_WORKERS=$(pgrep -P "$NGX_MASTER" | tr '\n' ' ')
	log "nginx master $NGX_MASTER, workers $NGX_WORKERS"
}

# nginx_check_stop: fail if nginx died or logged a serious error; stop it.
nginx_check_stop() {
	kill -0 "$NGX_PID" 2>/dev/null || fail "nginx died"
	if grep -E '\[(emerg|alert|crit)\]' "$NGX_DIR/logs/error.log"; then
		fail "nginx logged serious errors"
	fi
	bg_stop "$NGX_PID"
}

# WITH_IO: command prefix "${WITH_IO[@]}" IN OUT CMD... runs CMD with stdin
# from IN and stdout to OUT (for bg_start and nsrun, whose redirections are
# fixed or apply to the whole wrapper).  CMD is exec'd by sh, so it runs
# under the shim when the prefix does.
# shellcheck disable=SC2016,SC2034 # expanded by that sh, not here; used by the tests
WITH_IO=(sh -c 'i=$1 o=$2; shift 2; exec "$@" <"$i" >"$o"' with_io)

# path_use_mark / path_use_check WHAT [MIN]: around a transfer that no path
# cut is armed for: fail unless every path carried MIN bytes (default
# 1 MiB) in between, i.e. the transfer really used several subflows.
# Without the shim nothing is checked.
path_use_mark() {
	local i
	declare -ga PATH_USE0=()
	for ((i = 1; i <= NPATHS; i++)); do PATH_USE0[i]=$(path_bytes "$i"); done
}
path_use_check() {
	local what=$1 min=${2:-$((1024 * 1024))} i d line=""
	for ((i = 1; i <= NPATHS; i++)); do
		d=$(($(path_bytes "$i") - PATH_USE0[i]))
		line="$line path $i: $((d / 1024)) KiB"
		if shim_enabled && [ "$d" -lt "$min" ]; then
			fail "$what: path $i carried only $d B (want $min): not multipath"
		fi
	done
	log " $line"
}

# path_rate I MBIT: (re)shape both directions of path I to MBIT Mbit/s as
# tb_topo does (0: unshaped).
path_rate() {
	local i=$1 r=$2 far_ns far_if
	far_ns=$NS_S
	far_if="p${i}s"
	if [ "$T_TOPO" = B ]; then
		far_ns=${NS_R[i]}
		far_if="p${i}r"
	fi
	if [ "$r" = 0 ]; then
		ip netns exec "$NS_C" tc qdisc del dev "${IFC[i]}" root 2>/dev/null || true
		ip netns exec "$far_ns" tc qdisc del dev "$far_if" root 2>/dev/null || true
	else
		_tb_shape "$NS_C" "${IFC[i]}" "$r"
		_tb_shape "$far_ns" "$far_if" "$r"
	fi
	RATE[i]=$r
}

# --- small helpers shared by the resilience tests ---------------------------

# re STRING: STRING with grep -E's special characters escaped.
re() { printf '%s' "$1" | sed 's/[][().*^$]/\\&/g'; }

# now_ms: wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_moved I BYTES SECS: wait until path I's counters moved BYTES from
# the value at the call; false after SECS.
wait_moved() {
	local i=$1 want=$2 secs=$3 b0 k
	b0=$(path_bytes "$i")
	for ((k = 0; k < secs * 50; k++)); do
		[ $(($(path_bytes "$i") - b0)) -ge "$want" ] && return 0
		sleep 0.02
	done
	return 1
}

# blackhole NS IF on|off: nft drop of everything in and out of IF (no link
# event: a silent blackhole).
blackhole() {
	local ns=$1 ifn=$2 tbl="bh_$2"
	if [ "$3" = on ]; then
		ip netns exec "$ns" nft -f - <<EOF || fail "nft blackhole on $ns/$ifn"
table inet $tbl {
	chain in { type filter hook input priority -10; policy accept; iifname "$ifn" drop; }
	chain out { type filter hook output priority -10; policy accept; oifname "$ifn" drop; }
}
EOF
	else
		ip netns exec "$ns" nft delete table inet "$tbl" 2>/dev/null || true
	fi
}

# pyq JSONFILE EXPR...: jq-like checks in Python of the `mptcpshim status
# --json` output in JSONFILE (d: the document, P: its processes); fails
# (non-zero, naming it) on the first EXPR that is false; an EXPR
# "print:X" prints X instead.
pyq() {
	local f=$1
	shift
	"$PY" - "$f" "$@" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
env = {"d": d, "P": d["processes"], "json": json}
for e in sys.argv[2:]:
    if e.startswith("print:"):
        print(eval(e[6:], env))
        continue
    if not eval(e, env):
        sys.exit("check failed: " + e)
EOF
}

# shim_counter NAME PID|COMMAND: the process-wide counter NAME (mptcpshim(1),
# "status --counters") summed over the processes under the shim that
# PID|COMMAND selects, read from their control sockets (the directory
# follows $XDG_RUNTIME_DIR as the library's does); empty if none answers.
shim_counter() {
	"$SHIM_LAUNCHER" status --json --counters "$2" 2>/dev/null | "$PY" -c '
import json, sys
P = json.load(sys.stdin)["processes"]
print(sum(p["counters"][sys.argv[1]] for p in P) if P else "")' "$1"
}

# ssh_setup: a private OpenSSH set-up in K=$T_DIR/ssh: host and client keys
# (ed25519), authorized_keys, a client configuration that knows only the
# test's key and no host keys (SSHOPT=(-F $K/ssh_config)), and sshd's
# privilege separation directory (Debian's service creates it).  SSHD: the
# sshd binary, by absolute path (it re-execs itself by it).
ssh_setup() {
	SSHD=/usr/sbin/sshd
	[ -x "$SSHD" ] || fail "$SSHD not installed (openssh-server)"
	K="$T_DIR/ssh"
	mkdir -p "$K"
	ssh-keygen -q -t ed25519 -N '' -C "$T_NAME-host" -f "$K/host_ed25519" || fail "ssh-keygen (host)"
	ssh-keygen -q -t ed25519 -N '' -C "$T_NAME-client" -f "$K/id_ed25519" || fail "ssh-keygen (client)"
	cp "$K/id_ed25519.pub" "$K/authorized_keys"
	mkdir -p /run/sshd
	chmod 0755 /run/sshd
	cat >"$K/ssh_config" <<EOF2
Host *
	User root
	IdentityFile $K/id_ed25519
	IdentitiesOnly yes
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	GlobalKnownHostsFile /dev/null
	BatchMode yes
	LogLevel ERROR
	ConnectTimeout 20
EOF2
	SSHOPT=(-F "$K/ssh_config")
}

# ssh_sshd_start NAME MODE NS ADDR [FLAG...]: a private sshd (ssh_setup's
# keys) in NS on ADDR and a fresh port (SSH_PORT), MODE plain or shim,
# logging every login.  Sets SSHD_PID, SSHD_LOG.
ssh_sshd_start() {
	local name=$1 mode=$2 ns=$3 addr=$4
	shift 4
	next_port
	SSH_PORT=$PORT
	cat >"$K/sshd_config-$name" <<EOF2
Port $SSH_PORT
ListenAddress $addr
HostKey $K/host_ed25519
PidFile $K/sshd-$name.pid
AuthorizedKeysFile $K/authorized_keys
UsePAM no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding no
PermitUserEnvironment no
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOF2
	"$SSHD" -t -f "$K/sshd_config-$name" || fail "sshd -t: bad configuration"
	bg_start "sshd-$name" "$mode" "$ns" "$SSHD" -D -e -f "$K/sshd_config-$name" "$@"
	SSHD_PID=$BG_PID
	SSHD_LOG="$T_DIR/bg-sshd-$name.log"
	wait_listen "$ns" "$SSH_PORT"
}
