# shellcheck shell=bash
# tests/integration/gwlib.sh: the gateway testbed shared by the gw*.sh
# tests (sourced after lib.sh and tb_init).  gateway.sh builds the same by
# hand.
#
#   gw_testbed [RATES]  tb_topo B 2 [RATES] (two client paths through two routers
#                       to the gateway's namespace $NS_S, service address
#                       $SRV4), plus $NS_P: a plain server namespace behind
#                       the gateway only (PSRV, 198.18.X.226/30; the gateway
#                       is GWA, .225).  Keys: $D/alice.key (client) and
#                       $D/gw.keys (the gateway's file).  GP: the gateway's
#                       port.
#   gw_start [ARGS...]  starts mptcpshim-gateway on $SRV4:$GP under the
#                       library (--verbose, $GW_ARGS, and ARGS); GW_PID,
#                       GWLOG.  GW_ARGS (e.g. --threaded, --workers 2)
#                       runs a gw*.sh test against another way of serving.
#   gw_env              GW_ENV: the client's VAR=VALUE through the gateway
#                       (FALLBACK=fail: an error is the gateway's answer)
#   gwrun CMD...        CMD in $NS_C under the shim, through the gateway

gw_testbed() {
	GW_BIN="$top_builddir/src/gateway/mptcpshim-gateway"
	[ -x "$GW_BIN" ] || fail "$GW_BIN not built"
	tb_topo B 2 "${1:-}"
	D=$T_DIR
	X=$T_NETNUM
	GWA="198.18.$X.225"
	PSRV="198.18.$X.226"
	NS_P="mpsP-$(printf '%s' "$T_NAME" | tr -cd 'a-z0-9' | cut -c1-6)-$$"
	ns_add "$NS_P"
	_tb_veth "$NS_S" g0 "$NS_P" g0p
	ip -n "$NS_S" addr add "$GWA/30" dev g0 || fail "gateway address"
	ip -n "$NS_P" addr add "$PSRV/30" dev g0p || fail "server address"
	local i
	for i in $(seq 1 100); do
		_tb_topo_ready && break
		sleep 0.05
	done
	umask 077
	"$GW_BIN" --gen-key alice >"$D/alice.key" || fail "--gen-key"
	cp "$D/alice.key" "$D/gw.keys"
	umask 022
	next_port
	GP=$PORT
	GWLOG="$D/bg-gw.log"
	SHLOG="$D/shim-$NS_S.log"
	gw_env
}

gw_start() {
	# shellcheck disable=SC2086 # GW_ARGS: words
	bg_start gw shim "$NS_S" env "MPTCPSHIM_ADVERTISE=$SRV4" "$GW_BIN" --listen "$SRV4:$GP" \
		--key-file "$D/gw.keys" --verbose ${GW_ARGS:-} "$@"
	GW_PID=$BG_PID
	wait_listen "$NS_S" "$GP"
}

gw_env() {
	GW_ENV=("MPTCPSHIM_GATEWAY=$SRV4:$GP" "MPTCPSHIM_GATEWAY_KEY_FILE=$D/alice.key"
		MPTCPSHIM_GATEWAY_FALLBACK=fail)
}

gwrun() {
	nsrun shim "$NS_C" env "${GW_ENV[@]}" "$@"
}
