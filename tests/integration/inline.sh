#!/bin/bash
# inline.sh: inline connections (MPTCPSHIM_INLINE=1, src/inline.c): a
# client's connection to a server it knows runs mptcpshim keeps the app's
# TCP socket; its reads and writes are framed on the app's thread, and
# whatever that path does not serve promotes the connection to a
# socketpair.  Byte-exact both ways, real programs:
#   rr-FAM     a python client makes 30 connections one after another to a
#              threaded echo server (the first teaches it the server runs
#              the shim), 20 blocks of 1 B - 300 KB echoed on each, read by
#              recv with a timeout (non-blocking + poll), blocking recv,
#              tiny reads, os.read, recv_into, poll + MSG_DONTWAIT, poll then
#              a new epoll set (what a look-ahead took must show), now and
#              then a write by sendfile or a fork mid-connection; every
#              echo compared; the client's counters must show inline
#              connections, some promoted and some not
#   http       nginx (1 worker) under the shim, two paths through routers
#              (tb_topo B 2): wrk with a connection per request, then
#              keep-alive (50 connections), under the shim with
#              MPTCPSHIM_INLINE=1: no socket error (wrk counts a read that
#              says EAGAIN after epoll said readable as one: the server's
#              QUIET is what keeps them away), no non-2xx; at least 100
#              inline connections, at most a tenth of them promoted; then
#              curl fetching a 3 MB file and a small one twice in one
#              process (the later ones inline, the large one promoted),
#              sha256 of each; a second keep-alive wrk, inline (the peer
#              cache knows the server), opens no join at its exit; http-srv:
#              nginx inline too, and its
#              connections (it closes first) all over within 2 s of wrk's
#              end (their wait for wrk's FIN is looked at on a 3 ms tick)
#   srv-block  a blocking echo server (one thread asleep in recv between
#              messages) under MPTCPSHIM_INLINE=1 and an inline client
#              (30 echoes of 1,000 B, 20 ms apart): every echo compared,
#              and the server's connection stays inline (no promotion:
#              a wait no longer promotes; a join would, held until the
#              wait is over)
#   plain-late a plain client of an inline server (the echo server under
#              MPTCPSHIM_INLINE=1, taught by two shim connections that the
#              client's host runs the shim) that connects and says nothing
#              for 0.3 s: accepted inline, found plain at its first bytes
#              and handed back; its three echoes must all come back (a FIN
#              from the shim there once cut them)
#   banner     an inline client of a server that speaks first (the
#              bannerserver under the shim): Python's connect with a
#              timeout (non-blocking, poll for POLLOUT, SO_ERROR) then a wait
#              for the banner, 12 connections: each banner within 0.4 s.
#              The shim thread no longer watches an inline connect's end
#              (the app's call that looks at it runs it: SO_ERROR here), so
#              a look that did not would leave the HELLO, and the banner,
#              to the loop's next wake-up (up to a second)
# Sub-cases (T_ONLY=REGEX): rr-FAM srv-FAM http http-srv srv-block plain-late
# upload banner
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

tb_init inline
require_shim
tb_topo B 2
write_pytool

D=$T_DIR

rr() {
	local fam=$1 srv=$2 what="IPv$1 inline request/response, 30 connections" n p conns=30
	[ "$srv" = 0 ] || what="$what, server inline too"
	step "$what"
	local -A cm=(["$NS_C"]=$(counters_mark "$NS_C") ["$NS_S"]=$(counters_mark "$NS_S"))
	next_port
	[ "$srv" = 0 ] || T_ENV=(MPTCPSHIM_INLINE=1)
	bg_start "rr-srv-$fam" shim "$NS_S" "$PY" "$PYTOOL" rrserver "$(srv_addr "$fam")" "$PORT" "$conns"
	local spid=$BG_PID
	T_ENV=()
	wait_listen "$NS_S" "$PORT"
	T_ENV=(MPTCPSHIM_INLINE=1)
	nsrun shim "$NS_C" "$PY" "$PYTOOL" rrclient "$(srv_addr "$fam")" "$PORT" "$conns" 20 "$fam" ||
		fail "$what: an echo differed or the client failed ($?)"
	T_ENV=()
	bg_wait "$spid" 60 || fail "$what: server exited $?"
	n=$(counters_since "$NS_C" "${cm[$NS_C]}" | counter inline_connections)
	p=$(counters_since "$NS_C" "${cm[$NS_C]}" | counter inline_promoted)
	log "$what: $n inline connection(s), $p promoted"
	[ "$n" -ge $((conns - 1)) ] || fail "$what: $n inline connection(s), want >= $((conns - 1))"
	[ "$p" -ge 1 ] || fail "$what: no connection was promoted (tiny reads, sendfile and forks should)"
	[ "$p" -lt "$n" ] || fail "$what: every inline connection was promoted"
	# (a thread per connection that blocks in recv: promoted before it
	# sleeps, so only the count is checked here; http checks the rest)
	if [ "$srv" = 1 ]; then
		srv_inline "$what" "$((conns - 1))" "${cm[$NS_S]}" any
	fi
	log "ok: $what"
}

srv_block() {
	local what="a blocking server stays inline while its thread sleeps in recv" n sl
	step "$what"
	local sm
	sm=$(counters_mark "$NS_S")
	next_port
	mkrand "$D/block.bin" 100000
	sl="$T_DIR/shim-$NS_S.log"
	T_ENV=(MPTCPSHIM_INLINE=1 MPTCPSHIM_LOG=debug)
	bg_start "block-srv" shim "$NS_S" "$PY" "$PYTOOL" bigechoserver "$SRV4" "$PORT" 2
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	T_ENV=(MPTCPSHIM_INLINE=1)
	# (a first connection teaches the server that the client's host runs
	# the shim, and the peer cache that the server does: the second
	# process's connection starts inline at both ends)
	nsrun shim "$NS_C" "$PY" "$PYTOOL" pingclient "$SRV4" "$PORT" "$D/block.bin" 1 1000 0 ||
		fail "$what: the first client failed ($?)"
	sleep 0.2
	: >"$sl" # (the first connection's lines, whatever they were)
	# one subflow: a join promotes (and waits for the sleeping recv), but
	# this checks the waits alone (a process's first connection takes the
	# socketpair if its shim thread is not up yet, and then joins)
	T_ENV=(MPTCPSHIM_INLINE=1 MPTCPSHIM_MAX_SUBFLOWS=1)
	nsrun shim "$NS_C" "$PY" "$PYTOOL" pingclient "$SRV4" "$PORT" "$D/block.bin" 30 1000 0.02 ||
		fail "$what: an echo differed or the client failed ($?)"
	T_ENV=()
	bg_wait "$spid" 60 || fail "$what: server exited $?"
	n=$(counters_since "$NS_S" "$sm" | counter inline_connections)
	log "$what: server: $n inline connection(s)"
	[ "$n" -ge 1 ] || fail "$what: no connection was accepted inline"
	grep -q "inline server: HELLO taken on the app's thread" "$sl" ||
		fail "$what: the second connection was not accepted inline"
	! grep "promoted to a socketpair" "$sl" ||
		fail "$what: the second connection was promoted (a wait promoted it before session 15)"
	log "ok: $what"
}

plain_late() {
	local what="plain clients of an inline server, silent at first" n f i
	step "$what"
	local sm
	sm=$(counters_mark "$NS_S")
	next_port
	mkrand "$D/late.bin" 100000
	T_ENV=(MPTCPSHIM_INLINE=1)
	bg_start "late-srv" shim "$NS_S" "$PY" "$PYTOOL" rrserver "$SRV4" "$PORT" 5
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	nsrun shim "$NS_C" "$PY" "$PYTOOL" rrclient "$SRV4" "$PORT" 2 3 4 ||
		fail "$what: the shim client failed ($?)"
	T_ENV=()
	for i in 1 2 3; do
		nsrun plain "$NS_C" "$PY" "$PYTOOL" pauseclient "$SRV4" "$PORT" "$D/late.bin" 3 0 0.3 ||
			fail "$what: plain client $i: an echo was cut or differed"
	done
	bg_wait "$spid" 60 || fail "$what: server exited $?"
	n=$(counters_since "$NS_S" "$sm" | counter inline_connections)
	f=$(counters_since "$NS_S" "$sm" | counter fallbacks_plain_client)
	log "$what: server: $n inline connection(s), $f plain client(s) handed back"
	[ "$n" -ge 4 ] || fail "$what: $n inline connection(s) at the server, want 4 (the second shim one, 3 plain)"
	[ "$f" -ge 3 ] || fail "$what: $f plain client(s) handed back, want 3"
	log "ok: $what"
}

banner() {
	local what="an inline client of a server that speaks first, banners in time"
	step "$what"
	next_port
	bg_start "banner-srv" shim "$NS_S" "$PY" "$PYTOOL" bannerserver "$SRV4" "$PORT" "$D/banner.log" 12
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	T_ENV=(MPTCPSHIM_INLINE=1)
	nsrun shim "$NS_C" "$PY" "$PYTOOL" bannertime "$SRV4" "$PORT" 12 0.4 >"$D/bannertime.out" 2>&1 ||
		{ cat "$D/bannertime.out" >&2; fail "$what: a banner was late or wrong"; }
	T_ENV=()
	log "$(cat "$D/bannertime.out")"
	bg_wait "$spid" 60 || fail "$what: server exited $?"
	log "ok: $what"
}

# upload: an inline client that sends in bulk is promoted (and joins): its
# writes leave at once while the subflow's kernel buffer takes them (here
# 64 KiB every 5 ms, ~10 MB/s on an unshaped path, reading the server's
# small acknowledgements in between, as scp over ssh does), and before
# the bulk-send rule (inline.c) such an upload stayed on one subflow for
# its first 5 s.
upload() {
	local what="an inline client's bulk upload is promoted" n p j f cm spid
	step "$what"
	mkrand "$D/up0.bin" 1000
	mkrand "$D/up.bin" $((4 * 1024 * 1024))
	next_port
	# the first transfer teaches the client's host the server's
	# address:port (the peer cache); the second is inline from its start
	for f in up0 up; do
		rm -f "$D/$f.out"
		bg_start "up-srv-$f" shim "$NS_S" "$PY" "$PYTOOL" ackserver "$SRV4" "$PORT" "$D/$f.out"
		spid=$BG_PID
		wait_listen "$NS_S" "$PORT"
		cm=$(counters_mark "$NS_C")
		T_ENV=(MPTCPSHIM_INLINE=1)
		nsrun shim "$NS_C" "$PY" "$PYTOOL" paceclient "$SRV4" "$PORT" "$D/$f.bin" 65536 0.005 ||
			fail "$what: $f: client failed"
		T_ENV=()
		bg_wait "$spid" 30 || fail "$what: $f: server failed ($?)"
		same_file "$what: $f" "$D/$f.bin" "$D/$f.out"
	done
	n=$(counters_since "$NS_C" "$cm" | counter inline_connections)
	p=$(counters_since "$NS_C" "$cm" | counter inline_promoted)
	j=$(counters_since "$NS_C" "$cm" | counter subflows_joined)
	log "$what: $n inline, $p promoted, $j joined"
	[ "$n" = 1 ] || fail "$what: the upload's connection was not inline ($n)"
	[ "$p" = 1 ] || fail "$what: 4 MiB sent inline in 0.4 s, not promoted"
	log "ok: $what"
}

# srv_inline WHAT MIN MARK [MAXP]: the server's counters since MARK show at
# least MIN inline connections (accepted inline), at most MAXP promoted
# (default: a tenth; "any": not checked).
srv_inline() {
	local n p
	n=$(counters_since "$NS_S" "$3" | counter inline_connections)
	p=$(counters_since "$NS_S" "$3" | counter inline_promoted)
	log "$1: server: $n inline connection(s), $p promoted"
	[ "$n" -ge "$2" ] || fail "$1: server: $n inline connection(s), want >= $2"
	[ "${4:-}" = any ] || [ "$p" -le "${4:-$((n / 10))}" ] ||
		fail "$1: server: $p of $n inline connections promoted"
}

http() {
	local srv=$1 what="wrk, curl -> nginx, inline" n p h f url sm
	[ "$srv" = 0 ] || what="$what, nginx inline too"
	step "$what"
	command -v wrk >/dev/null || fail "wrk not installed (scripts/install-deps.sh installs it)"
	mkdir -p "$D/www"
	mkrand "$D/www/big.bin" $((3 * 1024 * 1024))
	mkrand "$D/www/small.bin" 700
	next_port
	sm=$(counters_mark "$NS_S")
	[ "$srv" = 0 ] || T_ENV=(MPTCPSHIM_INLINE=1)
	nginx_start "$PORT" "$D/www" 1
	T_ENV=()
	url="http://$SRV4:$PORT"
	local -A cm=(["$NS_C"]=$(counters_mark "$NS_C"))
	T_ENV=(MPTCPSHIM_INLINE=1)
	# a connection per request: after the first ones (the process learns
	# that the server runs the shim) every connection is inline
	wrk_run -c 10 -H "Connection: close"
	n=$(counters_since "$NS_C" "${cm[$NS_C]}" | counter inline_connections)
	p=$(counters_since "$NS_C" "${cm[$NS_C]}" | counter inline_promoted)
	h=$(counters_since "$NS_C" "${cm[$NS_C]}" | counter inline_hello_shared)
	# (h: the HELLO in the request's segment, when wrk's write, not the
	# shim thread, found the connect done: the shim thread looks only
	# 5 ms after the connect (MPS_CONNECT_LOOK_US), wrk writes within
	# about a millisecond; with the shim thread watching from its next
	# wake-up, 5-25 % were)
	log "$what: wrk, a connection per request: $n inline connection(s), $p promoted, $h HELLO(s) with the request"
	[ "$h" -le "$n" ] || fail "$what: $h HELLOs with the request, more than $n connections"
	[ "$h" -ge $((n / 2)) ] ||
		fail "$what: $h of $n HELLOs with the request: the shim thread completed the connects"
	[ "$n" -ge 100 ] || fail "$what: $n inline connection(s), want >= 100"
	[ "$p" -le $((n / 10)) ] || fail "$what: $p of $n inline connections promoted"
	if [ "$srv" = 1 ]; then
		# nginx closed first (Connection: close): each of its ends waits
		# only for wrk's FIN, looked for on a tick (rxwatch.c); all must
		# be over well before the 60 s FIN timer would end them
		local left=x i
		for i in $(seq 1 40); do
			left=$("$SHIM_LAUNCHER" status --json nginx 2>/dev/null | "$PY" -c '
import json, sys
print(sum(len(p.get("connections", [])) for p in json.load(sys.stdin)["processes"]))' 2>/dev/null)
			[ "$left" = 0 ] && break
			sleep 0.05
		done
		log "$what: nginx connections left 0.05 s x $i after wrk: $left"
		[ "$left" = 0 ] || fail "$what: nginx still holds $left connection(s) 2 s after wrk's end"
	fi
	# keep-alive: the 50 connections open at once (none inline: the
	# process knows nothing yet); their requests must all come back
	wrk_run -c 50
	# again, now that the user's peer cache knows the server: inline,
	# and wrk's exit (its connections promoted for the exit drain) opens
	# no join for any of them (it once opened one each, all reset)
	cm=(["$NS_C"]=$(counters_mark "$NS_C"))
	wrk_run -c 50
	# (nginx ends a connection after 1,000 requests: wrk reconnects, so
	# more than 50 connections when it is fast)
	local all
	n=$(counters_since "$NS_C" "${cm[$NS_C]}" | counter inline_connections)
	all=$(counters_since "$NS_C" "${cm[$NS_C]}" | counter connections)
	p=$(counters_since "$NS_C" "${cm[$NS_C]}" | counter subflows_opened)
	log "$what: wrk keep-alive again: $n of $all connection(s) inline, $p subflow(s) opened"
	[ "$n" -ge 40 ] || fail "$what: keep-alive again: $n inline connection(s), want >= 40"
	[ "$p" -le $((all - n + 2)) ] ||
		fail "$what: $p joins opened for $n inline connections of $all at wrk's exit"
	cm=(["$NS_C"]=$(counters_mark "$NS_C"))
	rm -f "$D"/c*.out
	nsrun shim "$NS_C" curl -v -sS --fail -o "$D/c1.out" "$url/small.bin" -o "$D/c2.out" "$url/big.bin" \
		-o "$D/c3.out" "$url/small.bin" -o "$D/c4.out" "$url/big.bin" 2>"$D/curl.err" ||
		{ show_file "$D/curl.err"; fail "$what: curl failed"; }
	T_ENV=()
	# as over TCP: getpeername works once the connect is done (an
	# inline socket is writable before the shim thread has seen it), and
	# curl keeps its connection for the next requests
	if grep -q 'getpeername() failed' "$D/curl.err" || ! grep -q 'Re-using existing connection' "$D/curl.err"; then
		show_file "$D/curl.err"
		fail "$what: curl: getpeername failed, or its connection was not reused"
	fi
	same_file "$what: curl small 1" "$D/www/small.bin" "$D/c1.out"
	same_file "$what: curl big 1" "$D/www/big.bin" "$D/c2.out"
	same_file "$what: curl small 2" "$D/www/small.bin" "$D/c3.out"
	same_file "$what: curl big 2" "$D/www/big.bin" "$D/c4.out"
	n=$(counters_since "$NS_C" "${cm[$NS_C]}" | counter inline_connections)
	p=$(counters_since "$NS_C" "${cm[$NS_C]}" | counter inline_promoted)
	log "$what: curl: $n inline connection(s), $p promoted"
	# (curl keeps one connection for the four: it starts inline, and the
	# first large answer promotes it)
	[ "$n" -ge 1 ] || fail "$what: curl: no inline connection"
	[ "$p" -ge 1 ] || fail "$what: curl: the 3 MiB answers promoted no connection"
	if [ "$srv" = 1 ]; then
		# the worker's counters come at its exit; nginx's sendfile
		# promotes curl's two large answers
		kill -QUIT "$NGX_MASTER"
		bg_wait "$NGX_PID" 30 || fail "$what: nginx exited $?"
		srv_inline "$what" 100 "$sm"
	fi
	log "ok: $what"
}

# wrk_run WRK-OPTION...: wrk under the shim (T_ENV) for 2 s on http()'s
# small.bin: no socket error (wrk counts a read that says EAGAIN after
# epoll said readable as one), no non-2xx answer; returns once wrk's
# counters are written (its connections all ended).
wrk_run() {
	local m
	m=$(counters_mark "$NS_C")
	nsrun shim "$NS_C" wrk -t 1 "$@" -d 2s --timeout 10s "$url/small.bin" >"$D/wrk.log" 2>&1 ||
		{ show_file "$D/wrk.log"; fail "wrk $* failed"; }
	# its counter line (written by its keeper, when connections were
	# open at its exit, once they have ended): counted here, not later
	counters_since "$NS_C" "$m" >/dev/null
	show_file "$D/wrk.log"
	grep -q 'requests in' "$D/wrk.log" || fail "wrk $*: no summary"
	! grep -q 'Socket errors' "$D/wrk.log" || fail "wrk $*: socket errors"
	! grep -q 'Non-2xx' "$D/wrk.log" || fail "wrk $*: non-2xx answers"
}

for fam in 4 6; do
	if selected "rr-$fam"; then rr "$fam" 0; fi
	if selected "srv-$fam"; then rr "$fam" 1; fi
done
if selected http; then http 0; fi
if selected http-srv; then http 1; fi
if selected srv-block; then srv_block; fi
if selected plain-late; then plain_late; fi
if selected upload; then upload; fi
if selected banner; then banner; fi

shim_log_summary
exit 0
