#!/bin/bash
# gwflood.sh: the gateway's limits before and after authentication
# (issue 14).  gwlib.sh's testbed; the gateway runs with --max-conns 400,
# --max-pending-per-source 32, --auth-timeout 3 and --rate-per-client 5.
#   flood   1000 unauthenticated connections from one address (the plain
#           server's namespace, tests/progs/gwflood.py: half silent, half
#           stalled after 12 bytes of a HELLO, each reopened when the
#           gateway drops it) while an authenticated client downloads
#           16 MiB with curl through the gateway: the download completes
#           and is byte-exact (sha256); the gateway dropped the flood's
#           connections beyond the source's share (logged), never sent the
#           flood a byte, and closed each held one within --auth-timeout.
#           (Times with and without the flood are logged, not asserted.)
#           The drops are counted as gateway_limited (mptcpshim status
#           --counters), none as gateway_dest_failed or
#           gateway_unauthenticated (nothing was ever judged).
#           Without the per-source limit (GWF_PER_SOURCE=0) the flood fills
#           --max-conns and the download fails: the test fails.
#   rate    a second client key (bob) opens 40 connections in a row: those
#           beyond the bucket (2 x 5) get ECONNREFUSED, and the gateway logs
#           --rate-per-client; alice, meanwhile, connects at once.
#           gateway_limited grows by exactly bob's refusals,
#           gateway_dest_failed not at all.
# Sub-cases (T_ONLY=REGEX): flood rate
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
# shellcheck source-path=SCRIPTDIR source=gwlib.sh
. "$(cd "$(dirname "$0")" && pwd)/gwlib.sh"

MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=150}"
: "${T_CMD_TIMEOUT:=60}"
: "${GWF_PER_SOURCE:=32}"
: "${GWF_N:=1000}"

tb_init gwflood
require_shim
shim_enabled || skip "the gateway runs only under the library (NOSHIM set)"
command -v curl >/dev/null || fail "curl not installed"
gw_testbed
GWC="$D/gwconn.py"
cp "$top_srcdir/tests/progs/gwconn.py" "$GWC"
umask 077
"$GW_BIN" --gen-key bob >"$D/bob.key"
cat "$D/bob.key" >>"$D/gw.keys"
umask 022
gw_start --connect-timeout 3 --max-conns 400 --max-pending-per-source "$GWF_PER_SOURCE" \
	--auth-timeout 3 --rate-per-client 5
# the flood comes from the plain server's namespace: one address (PSRV)
ip -n "$NS_P" route add "$SRV4/32" via "$GWA" || fail "route to the gateway from $NS_P"

mkdir -p "$D/www"
mkrand "$D/www/big.bin" $((16 * 1024 * 1024))
next_port
HP=$PORT
bg_start http plain "$NS_P" "$PY" -m http.server --bind "$PSRV" --directory "$D/www" "$HP"
wait_listen "$NS_P" "$HP"

gcurl() {
	gwrun curl -q -sS --noproxy '*' "$@"
}
# gwcnt NAME: the gateway's process counter NAME (its library's, read
# through its control socket; GW_PID is timeout(1)'s, the gateway its child)
gwcnt() {
	local v p
	p=$(pgrep -P "$GW_PID" | head -n 1)
	v=$(shim_counter "$1" "${p:-none}")
	[ -n "$v" ] || fail "no counter $1 from the gateway (${p:-none})"
	echo "$v"
}

if selected flood; then
	step "flood: unloaded download first (for the log)"
	t0=$(now_ms)
	gcurl --max-time 30 -o "$D/got" "http://$PSRV:$HP/big.bin" || fail "flood: unloaded curl failed ($?)"
	t_free=$(($(now_ms) - t0))
	same_file unloaded "$D/www/big.bin" "$D/got"
	rm -f "$D/got"
	step "flood: $GWF_N unauthenticated connections from $PSRV, and the download again"
	lim0=$(gwcnt gateway_limited) df0=$(gwcnt gateway_dest_failed)
	cp "$top_srcdir/tests/progs/gwflood.py" "$D/gwflood.py"
	bg_start flood plain "$NS_P" "$PY" "$D/gwflood.py" "$SRV4" "$GP" "$GWF_N" "$D/stop"
	FPID=$BG_PID
	# the flood is on once the gateway refuses it
	for i in $(seq 1 200); do
		grep -q "dropped: " "$GWLOG" && break
		sleep 0.05
	done
	sleep 1
	t0=$(now_ms)
	rc=0
	gcurl --max-time 40 -o "$D/got" "http://$PSRV:$HP/big.bin" || rc=$?
	t_flood=$(($(now_ms) - t0))
	# keep the flood on past one --auth-timeout, to see its lifetimes
	while [ $(($(now_ms) - t0)) -lt 4500 ]; do sleep 0.2; done
	: >"$D/stop"
	bg_wait "$FPID" 10 || fail "flood: the flood program failed ($?): $(cat "$D/bg-flood.log")"
	fl=$(cat "$D/bg-flood.log")
	log "  flood: $fl"
	log "  download: ${t_free} ms unloaded, ${t_flood} ms under the flood (curl exit $rc)"
	[ "$rc" = 0 ] || fail "flood: the authenticated download failed under the flood (curl exit $rc)"
	same_file flooded "$D/www/big.bin" "$D/got"
	rm -f "$D/got"
	read -r _ opened _ refused _ _ _ life <<<"$fl"
	[ "$opened" -ge "$GWF_N" ] || fail "flood: only $opened connections opened"
	grep -q "dropped: this source holds its share of unauthenticated connections" "$GWLOG" ||
		fail "flood: the gateway did not drop the flood's connections beyond the source's share"
	[ "$refused" -gt 0 ] || fail "flood: none of the flood's connections was refused"
	# held ones: closed within --auth-timeout (3 s) plus slack for a loaded
	# machine; with the default (10 s) none would be closed while the flood
	# runs, and the check of the library's log below fails
	[ "$life" -le 7000 ] || fail "flood: an unauthenticated connection lived $life ms (--auth-timeout 3)"
	grep -q "no authenticated request in time" "$SHLOG" ||
		fail "flood: the library logged no authentication timeout"
	lim1=$(gwcnt gateway_limited) df1=$(gwcnt gateway_dest_failed)
	log "  gateway_limited $lim0 -> $lim1, gateway_dest_failed $df0 -> $df1"
	case " ${GW_ARGS:-} " in
	*" --threaded "* | *" --relay "*) ;; # the daemon drops at its own accept, uncounted
	*) [ "$lim1" -gt "$lim0" ] || fail "flood: the drops were not counted as gateway_limited" ;;
	esac
	[ "$df1" = "$df0" ] || fail "flood: gateway_dest_failed moved by $((df1 - df0)), want 0"
fi

if selected rate; then
	step "rate: 40 connections in a row by bob (--rate-per-client 5: bursts of 10)"
	lim0=$(gwcnt gateway_limited) df0=$(gwcnt gateway_dest_failed)
	T_ENV=("MPTCPSHIM_GATEWAY_KEY_FILE=$D/bob.key")
	out=$(nsrun shim "$NS_C" env "MPTCPSHIM_GATEWAY=$SRV4:$GP" MPTCPSHIM_GATEWAY_FALLBACK=fail \
		"MPTCPSHIM_GATEWAY_KEY_FILE=$D/bob.key" "$PY" "$GWC" burst "$PSRV" "$HP" 40) ||
		fail "rate: bob's client failed"
	T_ENV=()
	log "  bob: $out"
	read -r _ ok _ refused _ other <<<"$out"
	[ "$other" = 0 ] || fail "rate: bob got other errors than ECONNREFUSED: $out"
	[ "$ok" -ge 10 ] || fail "rate: bob got $ok connections, want the burst (10) at least"
	[ "$refused" -ge 10 ] || fail "rate: bob was refused $refused times, want most of 40 beyond the burst"
	grep -q "bob (.*refused: more than 5 new connections per second" "$GWLOG" ||
		fail "rate: the gateway did not log bob's rate"
	out=$(gwrun "$PY" "$GWC" connect "$PSRV" "$HP" block) || fail "rate: alice's client failed"
	log "  alice meanwhile: $out"
	[ "${out%% *}" = ok ] || fail "rate: alice was held back by bob's rate: $out"
	lim1=$(gwcnt gateway_limited) df1=$(gwcnt gateway_dest_failed)
	log "  gateway_limited $lim0 -> $lim1, gateway_dest_failed $df0 -> $df1"
	[ "$((lim1 - lim0))" = "$refused" ] ||
		fail "rate: gateway_limited moved by $((lim1 - lim0)), want bob's $refused refusals"
	[ "$df1" = "$df0" ] || fail "rate: gateway_dest_failed moved by $((df1 - df0)), want 0"
fi

kill -0 "$GW_PID" 2>/dev/null || fail "the gateway died: $(tail -5 "$GWLOG")"
log "PASS gwflood"
