#!/bin/bash
# transfer.sh: byte-exact transfers with the shim on both ends, IPv4 and IPv6.
#   client->server 0 B, 1 B, 70001 B, 100 MiB (socat -u)
#   server->client 100 MiB (socat -u)
#   bidirectional 100 MiB each way at once (socat, both hashes checked)
#   half-close: client sends, SHUT_WR, server reads to EOF and replies with
#   the sha256 of what it got; the client must read the reply (python, socat)
#   and, with the shim, that shim/shim really negotiates multipath (info log)
#   quiet spells: blocks of 1 B, 70001 B and 3 MiB echoed back, with 2.5 s
#   of silence before each, in which both ends give their idle memory back
#   (receive buffers' pages, frame queues, send chunks: the counter
#   idle_releases); every echo must come back byte for byte
# Harness self-test without the shim: NOSHIM=1 bash transfer.sh
# Sub-cases (for T_ONLY=REGEX): negotiated-FAM c2s-FAM-BYTES s2c-FAM bidi-FAM halfclose-FAM-BYTES
#   quiet-FAM
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${BIG:=$((100 * 1024 * 1024))}"

tb_init transfer
require_shim
tb_setup 1
write_pytool

D=$T_DIR

# sock FAM LISTEN|CONNECT PORT: socat address for the server of family FAM.
sock() {
	local fam=$1 kind=$2 port=$3
	if [ "$kind" = LISTEN ]; then
		if [ "$fam" = 6 ]; then
			echo "TCP6-LISTEN:$port,bind=[$S6],reuseaddr"
		else
			echo "TCP4-LISTEN:$port,bind=$S4,reuseaddr"
		fi
	else
		if [ "$fam" = 6 ]; then
			echo "TCP6:[$S6]:$port"
		else
			echo "TCP4:$S4:$port"
		fi
	fi
}

# c2s FAM BYTES: client sends BYTES to the server.
c2s() {
	local fam=$1 n=$2 what="IPv$1 client->server $2 B"
	step "$what"
	mkrand "$D/c2s.in" "$n"
	rm -f "$D/c2s.out"
	next_port
	bg_start "c2s-srv-$fam-$n" shim "$NS_S" socat -b 65536 -u "$(sock "$fam" LISTEN "$PORT")" "CREATE:$D/c2s.out"
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	nsrun shim "$NS_C" socat -b 65536 -u "OPEN:$D/c2s.in" "$(sock "$fam" CONNECT "$PORT")" ||
		fail "$what: client socat exited $?"
	bg_wait "$spid" 60 || fail "$what: server socat exited $?"
	same_file "$what" "$D/c2s.in" "$D/c2s.out"
	rm -f "$D/c2s.in" "$D/c2s.out"
}

# s2c FAM BYTES: server sends BYTES to the client.
s2c() {
	local fam=$1 n=$2 what="IPv$1 server->client $2 B"
	step "$what"
	mkrand "$D/s2c.in" "$n"
	rm -f "$D/s2c.out"
	next_port
	bg_start "s2c-srv-$fam-$n" shim "$NS_S" socat -b 65536 -u "OPEN:$D/s2c.in" "$(sock "$fam" LISTEN "$PORT")"
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	nsrun shim "$NS_C" socat -b 65536 -u "$(sock "$fam" CONNECT "$PORT")" "CREATE:$D/s2c.out" ||
		fail "$what: client socat exited $?"
	bg_wait "$spid" 60 || fail "$what: server socat exited $?"
	same_file "$what" "$D/s2c.in" "$D/s2c.out"
	rm -f "$D/s2c.in" "$D/s2c.out"
}

# bidi FAM BYTES: both ends send BYTES and receive at the same time.
bidi() {
	local fam=$1 n=$2 what="IPv$1 bidirectional $2 B each way"
	step "$what"
	mkrand "$D/bc.in" "$n"
	mkrand "$D/bs.in" "$n"
	rm -f "$D/bc.out" "$D/bs.out"
	next_port
	# "A!!B": read from A, write to B.  -t: after one direction's EOF keep
	# the other direction open until its EOF (up to 120 s).
	bg_start "bidi-srv-$fam" shim "$NS_S" socat -b 65536 -t 120 "$(sock "$fam" LISTEN "$PORT")" "OPEN:$D/bs.in!!CREATE:$D/bs.out"
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	nsrun shim "$NS_C" socat -b 65536 -t 120 "OPEN:$D/bc.in!!CREATE:$D/bc.out" "$(sock "$fam" CONNECT "$PORT")" ||
		fail "$what: client socat exited $?"
	bg_wait "$spid" 60 || fail "$what: server socat exited $?"
	same_file "$what (client->server)" "$D/bc.in" "$D/bs.out"
	same_file "$what (server->client)" "$D/bs.in" "$D/bc.out"
	rm -f "$D/bc.in" "$D/bs.in" "$D/bc.out" "$D/bs.out"

	# same with a python client (threads: one sends, one receives)
	step "$what (python client)"
	mkrand "$D/bc.in" "$((n / 4))"
	mkrand "$D/bs.in" "$((n / 4))"
	next_port
	bg_start "bidi-srv2-$fam" shim "$NS_S" socat -b 65536 -t 120 "$(sock "$fam" LISTEN "$PORT")" "OPEN:$D/bs.in!!CREATE:$D/bs.out"
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	nsrun shim "$NS_C" "$PY" "$PYTOOL" bidiclient "$(srv_addr "$fam")" "$PORT" "$D/bc.in" "$D/bc.out" ||
		fail "$what (python): client exited $?"
	bg_wait "$spid" 60 || fail "$what (python): server socat exited $?"
	same_file "$what (python, client->server)" "$D/bc.in" "$D/bs.out"
	same_file "$what (python, server->client)" "$D/bs.in" "$D/bc.out"
	rm -f "$D/bc.in" "$D/bs.in" "$D/bc.out" "$D/bs.out"
}

# halfclose FAM BYTES: client sends, SHUT_WR, then reads the server's reply.
halfclose() {
	local fam=$1 n=$2 what="IPv$1 half-close $2 B"
	step "$what (python client)"
	mkrand "$D/hc.in" "$n"
	next_port
	bg_start "hc-srv-$fam-$n" shim "$NS_S" "$PY" "$PYTOOL" hcserver "$(srv_addr "$fam")" "$PORT" 2
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	nsrun shim "$NS_C" "$PY" "$PYTOOL" hcclient "$(srv_addr "$fam")" "$PORT" "$D/hc.in" ||
		fail "$what: python client: reply after SHUT_WR missing or wrong"
	log "ok: $what (python client)"

	step "$what (socat client)"
	local want got
	want="$(sha256 "$D/hc.in") $n"
	got=$(nsrun shim "$NS_C" socat -t 60 - "$(sock "$fam" CONNECT "$PORT")" <"$D/hc.in") ||
		fail "$what: socat client exited $?"
	[ "$got" = "$want" ] || fail "$what: socat client got reply '$got', want '$want'"
	log "ok: $what (socat client)"
	bg_wait "$spid" 30 || fail "$what: server exited $?"
	rm -f "$D/hc.in"
}

# negotiated FAM: with the shim on both ends the connection must really be
# multipath: each end's counters count one multipath connection.
negotiated() {
	local fam=$1 what="IPv$1 shim/shim negotiates multipath" ns n
	shim_enabled || return 0
	step "$what"
	mkrand "$D/nego.in" 200000
	rm -f "$D/nego.out" "$D"/shim-nego-*.log
	# the previous case's processes (and a keeper finishing their
	# connections) write their counter lines as they end: not into these
	for _ in $(seq 1 200); do
		[ -z "$(ip netns pids "$NS_C")$(ip netns pids "$NS_S")" ] && break
		sleep 0.05
	done
	local -A cm=(["$NS_C"]=$(counters_mark "$NS_C") ["$NS_S"]=$(counters_mark "$NS_S"))
	next_port
	T_ENV=(MPTCPSHIM_LOG=info "MPTCPSHIM_LOG_FILE=$D/shim-nego-server.log")
	bg_start "nego-srv-$fam" shim "$NS_S" socat -u "$(sock "$fam" LISTEN "$PORT")" "CREATE:$D/nego.out"
	local spid=$BG_PID
	T_ENV=(MPTCPSHIM_LOG=info "MPTCPSHIM_LOG_FILE=$D/shim-nego-client.log")
	wait_listen "$NS_S" "$PORT"
	nsrun shim "$NS_C" socat -u "OPEN:$D/nego.in" "$(sock "$fam" CONNECT "$PORT")" ||
		fail "$what: client socat exited $?"
	T_ENV=()
	bg_wait "$spid" 60 || fail "$what: server socat exited $?"
	same_file "$what" "$D/nego.in" "$D/nego.out"
	for ns in "$NS_C" "$NS_S"; do
		n=$(counters_since "$ns" "${cm[$ns]}" | counter multipath_connections)
		[ "$n" = 1 ] ||
			fail "$what: $ns's shim counted $n multipath connection(s), want 1: the connection fell back to plain TCP?"
	done
	log "ok: $what ($(grep -hi 'subflow.*established' "$D"/shim-nego-*.log | head -2 | tr '\n' ';'))"
	rm -f "$D/nego.in" "$D/nego.out"
}

# quiet FAM: an echo across quiet spells (issue 15's idle memory sweep).
quiet() {
	local fam=$1 what="IPv$1 echo across quiet spells" ns n rounds=4
	step "$what"
	mkrand "$D/quiet.in" $((3 * 1024 * 1024))
	local -A cm=()
	if shim_enabled; then cm=(["$NS_C"]=$(counters_mark "$NS_C") ["$NS_S"]=$(counters_mark "$NS_S")); fi
	next_port
	bg_start "quiet-srv-$fam" shim "$NS_S" "$PY" "$PYTOOL" echoserver "$(srv_addr "$fam")" "$PORT"
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	nsrun shim "$NS_C" "$PY" "$PYTOOL" pauseclient "$(srv_addr "$fam")" "$PORT" "$D/quiet.in" "$rounds" 2.5 ||
		fail "$what: an echo differed or the client failed ($?)"
	bg_wait "$spid" 30 || fail "$what: server exited $?"
	rm -f "$D/quiet.in"
	shim_enabled || return 0
	# each pause of 2.5 s holds at least one whole sweep interval (1 s)
	for ns in "$NS_C" "$NS_S"; do
		n=$(counters_since "$ns" "${cm[$ns]}" | counter idle_releases)
		[ "$n" -ge $((rounds - 1)) ] ||
			fail "$what: $ns's shim gave idle memory back $n time(s), want >= $((rounds - 1))"
		# after a quiet spell the shim thread sleeps: the app's next
		# write goes out on its own thread (direct.c); the echo's
		# later writes meet a busy shim thread and cross the socketpair
		n=$(counters_since "$ns" "${cm[$ns]}" | counter direct_writes)
		log "$ns: direct_writes $n"
		[ "$n" -ge 1 ] || fail "$what: $ns: no write went out on the app's thread"
	done
	log "ok: $what ($rounds blocks echoed; idle memory given back in every pause)"
}

# mixed FAM: the app's writes by send(), write(), sendmsg() (taken on the
# app's thread where the shim can, direct.c) and sendfile() (never hooked:
# through the socketpair) in random turns and sizes: the bytes arrive in
# the order written; a send() after shutdown(SHUT_WR) fails with EPIPE.
mixed() {
	local fam=$1 what="IPv$1 send/write/sendmsg/sendfile mixed" ns n
	step "$what"
	mkrand "$D/mix.in" $((8 * 1024 * 1024))
	rm -f "$D/mix.out"
	local -A cm=()
	if shim_enabled; then cm=(["$NS_C"]=$(counters_mark "$NS_C")); fi
	next_port
	bg_start "mix-srv-$fam" shim "$NS_S" "$PY" "$PYTOOL" xfserver "$(srv_addr "$fam")" "$PORT" recv "$D/mix.out"
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	nsrun shim "$NS_C" "$PY" "$PYTOOL" mixclient "$(srv_addr "$fam")" "$PORT" "$D/mix.in" "$fam" ||
		fail "$what: client failed ($?)"
	bg_wait "$spid" 60 || fail "$what: server exited $?"
	same_file "$what" "$D/mix.in" "$D/mix.out"
	rm -f "$D/mix.in" "$D/mix.out"
	shim_enabled || return 0
	n=$(counters_since "$NS_C" "${cm[$NS_C]}" | counter direct_writes)
	[ "$n" -ge 1 ] || fail "$what: no write went out on the app's thread"
	log "ok: $what ($n writes on the app's thread)"
}

for fam in 4 6; do
	if selected "negotiated-$fam"; then negotiated "$fam"; fi
	if selected "quiet-$fam"; then quiet "$fam"; fi
	if selected "mixed-$fam"; then mixed "$fam"; fi
	for n in 0 1 70001 "$BIG"; do
		if selected "c2s-$fam-$n"; then c2s "$fam" "$n"; fi
	done
	if selected "s2c-$fam"; then s2c "$fam" "$BIG"; fi
	if selected "bidi-$fam"; then bidi "$fam" "$BIG"; fi
	for n in 0 300000; do
		if selected "halfclose-$fam-$n"; then halfclose "$fam" "$n"; fi
	done
done

shim_log_summary
exit 0
