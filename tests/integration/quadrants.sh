#!/bin/bash
# quadrants.sh: every client/server combination must be byte-exact:
#   plain/plain, shim/plain, plain/shim, shim/shim  (client/server)
# with (a) a client-first protocol: curl fetching a random 5 MiB file from
# `python3 -m http.server` (sha256-verified; the server log must show one
# normal GET from the client's real address), and (b) a server-first banner
# protocol: the server sends "220 hello\r\n" on accept, reads one line and
# answers with its sha256; the server must receive exactly the client's line
# and the client exactly banner + reply (no stray bytes either way), and no
# connection the server saw may be reset (a probe closes with a FIN).
# IPv4 (by host name) and IPv6 (literal).
# A shim client's first connection to a plain server may be preceded by one
# junk connection (documented fallback cost); it must carry none of the
# app's bytes.  QUAD_STRICT=1 forbids it.  With MPTCPSHIM_PEERS=none the
# shim client must make no junk connection.
# Harness self-test without the shim: NOSHIM=1 bash quadrants.sh
# Sub-cases (for T_ONLY=REGEX): http-FAM-CLI-SRV, banner-FAM-CLI-SRV
# (CLI/SRV = plain|shim), http-FAM-shim-plain-peersnone, banner-...
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

tb_init quadrants
require_shim
tb_setup 1
write_pytool
command -v curl >/dev/null || fail "curl not installed"

WWW="$T_DIR/www"
mkdir -p "$WWW"
mkrand "$WWW/rand.bin" $((5 * 1024 * 1024))
WANT=$(sha256 "$WWW/rand.bin")

# junk_allowed CLIMODE SRVMODE: how many extra connections the plain server
# may see.  A shim client's first connection to a plain server is a junk
# connection carrying its HELLO, followed by a plain reconnect that replays
# the app's bytes (documented fallback cost, README "Configuration").  That
# connection may not carry application bytes; the replayed one must be exact.
# QUAD_STRICT=1 allows no junk connection at all.
junk_allowed() {
	if [ "$1/$2" = shim/plain ] && [ "${QUAD_STRICT:-0}" != 1 ] && [ "$PEERS_NONE" = 0 ]; then
		echo 1
	else
		echo 0
	fi
}

# http_case FAM CLIMODE SRVMODE
http_case() {
	local fam=$1 cm=$2 sm=$3 q="IPv$1 client=$2 server=$3$QTAG" url host caddr
	step "$q: curl <- python http.server, 5 MiB"
	next_port
	host=$(srv_addr "$fam")
	if [ "$fam" = 6 ]; then
		url="http://[$S6]:$PORT/rand.bin"
		caddr=$C6
	else
		url="http://server4:$PORT/rand.bin"
		caddr=$C4
	fi
	local name="http-$fam-$cm-$sm$QTAG"
	bg_start "$name" "$sm" "$NS_S" "$PY" -u -m http.server "$PORT" --bind "$host" --directory "$WWW"
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	rm -f "$T_DIR/got.bin"
	nsrun "$cm" "$NS_C" curl -sS --fail --max-time 120 -o "$T_DIR/got.bin" "$url" ||
		fail "$q: curl $url exited $?"
	same_file "$q: http GET" "$WWW/rand.bin" "$T_DIR/got.bin"
	[ "$(sha256 "$T_DIR/got.bin")" = "$WANT" ] || fail "$q: wrong content"
	sleep 0.2 # let the server log a junk connection, if any
	if [ "$cm/$sm" = shim/plain ] && [ "$PEERS_NONE" = 0 ] && shim_enabled; then
		# Later program runs (new processes) must stop paying the
		# fallback: http.server stays silent after the HELLO, so the
		# verdict came from a timeout, which a slow shim server could
		# cause too; shared (MPTCPSHIM_PEER_CACHE) it counts the second
		# time.  So the third process connects plainly at once: one
		# clean GET, no junk connection.
		local lg2="$T_DIR/bg-$name.log" off off1 n2 j2
		off1=$(wc -c <"$lg2")
		nsrun "$cm" "$NS_C" curl -sS --fail --max-time 120 -o "$T_DIR/got2.bin" "$url" ||
			fail "$q: second curl $url exited $?"
		same_file "$q: http GET by a second process" "$WWW/rand.bin" "$T_DIR/got2.bin"
		sleep 0.2
		off=$(wc -c <"$lg2")
		nsrun "$cm" "$NS_C" curl -sS --fail --max-time 120 -o "$T_DIR/got2.bin" "$url" ||
			fail "$q: third curl $url exited $?"
		same_file "$q: http GET by a third process" "$WWW/rand.bin" "$T_DIR/got2.bin"
		rm -f "$T_DIR/got2.bin"
		sleep 0.2
		n2=$(tail -c +"$((off + 1))" "$lg2" | grep -c "$caddr - - .*\"GET /rand.bin HTTP/1.1\" 200 " || true)
		j2=$(tail -c +"$((off + 1))" "$lg2" | grep -v "$caddr - - .*\"GET /rand.bin HTTP/1.1\" 200 " | grep -c . || true)
		if [ "$n2" != 1 ] || [ "$j2" != 0 ]; then
			tail -c +"$((off + 1))" "$lg2" >&2
			fail "$q: a third curl process made $n2 GET(s) and $j2 other log line(s) on the plain server, want 1 and 0 (the plain verdict was not shared)"
		fi
		log "ok: $q: a third process connected plainly at once (shared plain verdict)"
		# the server log is checked below for the first run only
		head -c "$off1" "$lg2" >"$lg2.first" && mv "$lg2.first" "$lg2"
	fi
	bg_stop "$spid"
	# the server saw exactly one normal request, from the client's address
	# http.server is threaded: a junk connection's traceback (printed in
	# pieces) and the real request's log line may interleave, so the GET
	# entry is matched anywhere in a line and cut out before the rest is
	# looked at (its own line is intact: one write ending in a newline).
	local lg="$T_DIR/bg-$name.log" ngood nother allowed
	local getre="$caddr - - \\[[^]]*\\] \"GET /rand.bin HTTP/1.1\" 200 -"
	ngood=$(grep -o "$getre" "$lg" | grep -c . || true)
	nother=$(sed "s|$getre||" "$lg" | grep -v -e '^Serving HTTP on ' | grep -c . || true)
	allowed=$(junk_allowed "$cm" "$sm")
	if [ "$ngood" != 1 ]; then
		show_file "$lg"
		fail "$q: http.server log shows $ngood normal GET(s) from $caddr, want exactly 1"
	fi
	if [ "$nother" -gt 0 ]; then
		local nbad junk="$T_DIR/http-junk.txt"
		sed "s|$getre||" "$lg" | grep -v -e '^Serving HTTP on ' | grep . >"$junk" || true
		# a junk connection shows as an error response (code 4xx/5xx) and/or
		# an exception (reset while reading or answering it)
		local ncode nexc
		ncode=$(grep -c 'code [45][0-9][0-9]' "$junk" || true)
		nexc=$(grep -c '^Exception occurred during processing of request' "$junk" || true)
		nbad=$((ncode > nexc ? ncode : nexc))
		if [ "$allowed" = 0 ]; then
			show_file "$lg"
			fail "$q: http.server saw stray bytes: $nother unexpected log line(s), $nbad junk connection(s)"
		fi
		if grep -q 'GET /rand.bin' "$junk"; then
			show_file "$lg"
			fail "$q: the junk (HELLO) connection to the plain server carried the app's request bytes: the server received the request twice, once behind the HELLO (a line protocol would run the request twice)"
		fi
		if [ "$nbad" -gt "$allowed" ]; then
			show_file "$lg"
			fail "$q: http.server saw $nbad junk connection(s), $allowed allowed"
		fi
		log "note: $q: plain http.server saw $nbad junk connection(s) before the replayed GET (fallback cost):"
		head -n 4 "$junk" | cut -c1-200 | sed 's/^/    /' >&2
	fi
	log "ok: $q: http.server log shows one normal GET from $caddr"
}

# banner_case FAM CLIMODE SRVMODE
banner_case() {
	local fam=$1 cm=$2 sm=$3 q="IPv$1 client=$2 server=$3$QTAG"
	step "$q: server-first banner protocol"
	next_port
	local host line name="banner-$fam-$cm-$sm$QTAG"
	host=$(srv_addr "$fam")
	line="HELO $cm-$sm-$fam $(head -c 24 /dev/urandom | sha256sum | cut -c1-32)"
	rm -f "$T_DIR"/srv-recv.* "$T_DIR/cli-recv"
	bg_start "$name" "$sm" "$NS_S" "$PY" "$PYTOOL" bannerserver "$host" "$PORT" "$T_DIR/srv-recv" 0
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	nsrun "$cm" "$NS_C" "$PY" "$PYTOOL" bannerclient "$host" "$PORT" "$line" "$T_DIR/cli-recv" ||
		fail "$q: banner client exited $?"
	# the client got exactly banner + reply, nothing else
	{
		printf '220 hello\r\n250 '
		printf '%s\r\n' "$line" | sha256sum | cut -d' ' -f1 | tr -d '\n'
		printf '\r\n'
	} >"$T_DIR/want-cli"
	cmp "$T_DIR/want-cli" "$T_DIR/cli-recv" ||
		fail "$q: client received $(fsize "$T_DIR/cli-recv") B, not exactly banner+reply: $(od -c "$T_DIR/cli-recv" | head -5)"
	# the server: one connection with exactly the client's line, and
	# (shim client -> plain server only) at most one junk connection that
	# carries none of the client's bytes
	printf '%s\r\n' "$line" >"$T_DIR/want-srv"
	local i f nexact=0 njunk=0 allowed
	for i in $(seq 1 100); do
		[ -e "$T_DIR/srv-recv.0" ] && [ "$(find "$T_DIR" -maxdepth 1 -name 'srv-recv.*' -exec cmp -s "$T_DIR/want-srv" {} \; -print | wc -l)" -ge 1 ] && break
		sleep 0.05
		: "$i"
	done
	sleep 0.1
	if [ "$cm/$sm" = shim/plain ] && [ "$PEERS_NONE" = 0 ] && shim_enabled; then
		# The plain server spoke first: a definitive verdict, shared
		# with the user's other processes at once (MPTCPSHIM_PEER_CACHE):
		# a second client process connects plainly, no junk connection.
		local nbefore nafter
		nbefore=$(find "$T_DIR" -maxdepth 1 -name 'srv-recv.*' | wc -l)
		nsrun "$cm" "$NS_C" "$PY" "$PYTOOL" bannerclient "$host" "$PORT" "$line" "$T_DIR/cli-recv2" ||
			fail "$q: second banner client exited $?"
		cmp "$T_DIR/want-cli" "$T_DIR/cli-recv2" || fail "$q: the second client received other bytes"
		for i in $(seq 1 100); do
			nafter=$(find "$T_DIR" -maxdepth 1 -name 'srv-recv.*' | wc -l)
			[ "$nafter" -gt "$nbefore" ] && break
			sleep 0.05
		done
		sleep 0.2
		nafter=$(find "$T_DIR" -maxdepth 1 -name 'srv-recv.*' | wc -l)
		[ "$nafter" = $((nbefore + 1)) ] ||
			fail "$q: a second client process made $((nafter - nbefore)) connection(s) to the plain server, want 1 (the plain verdict was not shared)"
		cmp -s "$T_DIR/want-srv" "$T_DIR/srv-recv.$nbefore" ||
			fail "$q: the second process's connection carried other bytes than its line"
		rm -f "$T_DIR/srv-recv.$nbefore"
		log "ok: $q: a second process connected plainly at once (shared plain verdict)"
	fi
	bg_stop "$spid"
	# No connection the server saw was reset: a TCP client closes with a
	# FIN after reading the banner, and a probe to a plain server must too
	# (a sequential server that does not catch ECONNRESET would crash).
	if grep -q 'ConnectionResetError' "$T_DIR/bg-$name.log"; then
		show_file "$T_DIR/bg-$name.log"
		fail "$q: the server saw a connection reset; a TCP client would have closed it with a FIN"
	fi
	for f in "$T_DIR"/srv-recv.*; do
		[ -e "$f" ] || continue
		if cmp -s "$T_DIR/want-srv" "$f"; then
			nexact=$((nexact + 1))
		else
			njunk=$((njunk + 1))
			log "server connection ${f##*.}: $(fsize "$f") B not the client's line: $(od -An -c "$f" | head -3 | tr -s ' ')"
			if grep -qF "$line" "$f"; then
				fail "$q: stray bytes: the server received the client's line with extra bytes in connection ${f##*.}: $(od -c "$f" | head -5)"
			fi
		fi
	done
	allowed=$(junk_allowed "$cm" "$sm")
	[ "$nexact" = 1 ] || fail "$q: $nexact server connection(s) received exactly the client's line, want 1 (see bg-$name.log)"
	if [ "$njunk" -gt "$allowed" ]; then
		show_file "$T_DIR/bg-$name.log"
		fail "$q: plain server saw $njunk junk connection(s), $allowed allowed"
	fi
	[ "$njunk" = 0 ] || log "note: $q: $njunk junk connection(s) before the replayed one (fallback cost)"
	log "ok: $q: banner protocol byte-exact both ways"
}

PEERS_NONE=0
QTAG=""
for fam in 4 6; do
	for quad in plain/plain shim/plain plain/shim shim/shim; do
		cm=${quad%/*}
		sm=${quad#*/}
		if selected "http-$fam-$cm-$sm"; then http_case "$fam" "$cm" "$sm"; fi
		if selected "banner-$fam-$cm-$sm"; then banner_case "$fam" "$cm" "$sm"; fi
	done
	# a shim client told that the server is plain (MPTCPSHIM_PEERS=none)
	# must not make any junk connection
	if shim_enabled; then
		T_ENV=(MPTCPSHIM_PEERS=none)
		PEERS_NONE=1
		QTAG=" (peers=none)"
		if selected "http-$fam-shim-plain-peersnone"; then http_case "$fam" shim plain; fi
		if selected "banner-$fam-shim-plain-peersnone"; then banner_case "$fam" shim plain; fi
		T_ENV=()
		PEERS_NONE=0
		QTAG=""
	fi
done

shim_log_summary
exit 0
