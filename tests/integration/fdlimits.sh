#!/bin/bash
# fdlimits.sh: descriptor numbers and limits are TCP's under the shim
# (issue 12, item 3).  Two paths, IPv4, the shim on both ends, every
# transfer checked by SHA-256:
#   numbers  tests/progs/fdprobe (select()-based) holds 200 connections to
#            an fdprobe server, plain and under the shim: the highest
#            descriptor the client and the server were given must match
#            plain TCP's (within 2), none may reach FD_SETSIZE, and every
#            connection's answer is intact;
#   ulimit   the same client under `ulimit -Sn` just above its plain TCP
#            peak (the hard limit left higher), and under `ulimit -n 512`
#            (soft = hard: the shim keeps to the top half, see libmptcpshim(7),
#            "Descriptors"), must complete with every answer intact; under
#            `ulimit -Sn 150` it must fail as plain TCP fails (EMFILE from
#            its own socket(), after as many connections, within 2);
#   accept   the server under `ulimit -Sn 150` (the hard limit left
#            higher), N clients: it must run out as plain TCP does (EMFILE
#            from its own accept(), after as many connections, within 2),
#            and every connection it accepted before must be served intact
#            (none half-made, issue 15);
#   wrk      apache2 (event MPM, private configuration, started here)
#            under the shim, wrk -c 200 -d 3s under the shim: no socket
#            error (wrk prints "Socket errors: ..." when there is any) and
#            at least one request answered.
# Sub-cases (T_ONLY=REGEX): numbers ulimit accept wrk
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

MPTCPSHIM_LOG=${T_LOG:-info}
N=200
declare -A A G # accept sub-case: accepted before EMFILE, intact answers

tb_init fdlimits
require_shim
tb_setup 2
SRV4=$S4

PROBE="$top_builddir/tests/progs/fdprobe"
if [ ! -x "$PROBE" ]; then
	PROBE="$T_DIR/fdprobe"
	"${CC:-cc}" -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$PROBE" \
		"$top_srcdir/tests/progs/fdprobe.c" || fail "compiling fdprobe.c"
fi
DATA="$T_DIR/answer.bin"
head -c 65536 /dev/urandom >"$DATA"
WANT=$(sha256 "$DATA")

# probe NAME MODE [LIMIT-COMMAND]: one fdprobe server and client, both in
# MODE (plain or shim); the client runs after LIMIT-COMMAND (a ulimit) in
# its shell.  Sets CMAX CNFDS SMAX; fails unless every answer is intact.
probe() {
	local name=$1 mode=$2 lim=${3:-:} out="$T_DIR/out-$1" bad
	mkdir -p "$out"
	next_port
	bg_start "srv-$name" "$mode" "$NS_S" "$PROBE" server "$SRV4" "$PORT" "$N" "$DATA"
	local spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	nsrun "$mode" "$NS_C" bash -c "$lim; exec \"\$@\"" fdprobe "$PROBE" client "$SRV4" \
		"$PORT" "$N" "$out" >"$T_DIR/cli-$name.log" 2>&1 || {
		show_file "$T_DIR/cli-$name.log"
		show_file "$T_DIR/bg-srv-$name.log"
		fail "$name: client failed"
	}
	bg_wait "$spid" 30 || {
		show_file "$T_DIR/bg-srv-$name.log"
		fail "$name: server failed"
	}
	bad=$(sha256sum "$out"/* | awk -v w="$WANT" '$1 != w' | wc -l)
	[ "$(find "$out" -type f | wc -l)" = "$N" ] || fail "$name: not $N answers"
	[ "$bad" = 0 ] || fail "$name: $bad of $N answers differ from the file sent (sha256)"
	CMAX=$(sed -n 's/^client maxfd=\([0-9]*\).*/\1/p' "$T_DIR/cli-$name.log")
	CNFDS=$(sed -n 's/.* nfds=\([0-9]*\).*/\1/p' "$T_DIR/cli-$name.log")
	SMAX=$(sed -n 's/^server maxfd=\([0-9]*\).*/\1/p' "$T_DIR/bg-srv-$name.log")
	[ -n "$CMAX" ] && [ -n "$SMAX" ] || fail "$name: no descriptor report"
	log "$name: client highest fd $CMAX ($CNFDS open at the peak), server highest fd $SMAX, $N answers intact"
}

close_to() { # A B: |A - B| <= 2
	local d=$(($1 - $2))
	[ "${d#-}" -le 2 ]
}

if selected numbers; then
	step "numbers: $N connections, plain TCP, then under the shim"
	probe plain plain
	PMAX=$CMAX PNFDS=$CNFDS PSMAX=$SMAX
	cm=$(counters_mark "$NS_C")
	# joins at once: with the default lazy joins a 64 KiB answer (the
	# join byte threshold itself) joined in 0 to 33 of 200 connections,
	# by timing; 0 made the check below fail (session 7 CI)
	T_ENV+=(MPTCPSHIM_JOIN_DELAY=0)
	probe shim shim
	unset 'T_ENV[${#T_ENV[@]}-1]'
	if shim_enabled; then
		NJ=$(counters_since "$NS_C" "$cm" | counter subflows_joined)
		[ "$NJ" -gt 0 ] || fail "numbers: no connection became multipath under the shim"
		log "numbers: $NJ second subflows established"
	fi
	close_to "$CMAX" "$PMAX" ||
		fail "numbers: client's highest descriptor $CMAX under the shim, $PMAX with plain TCP"
	close_to "$SMAX" "$PSMAX" ||
		fail "numbers: server's highest descriptor $SMAX under the shim, $PSMAX with plain TCP"
	log "numbers: highest fd client $CMAX (plain $PMAX), server $SMAX (plain $PSMAX);" \
		"client descriptors open $CNFDS (plain $PNFDS)"
fi

if selected ulimit; then
	step "ulimit: the client under a limit that fits plain TCP"
	probe ulimit-plain plain "ulimit -Sn $((N + 16))"
	probe ulimit-soft shim "ulimit -Sn $((N + 16))"
	probe ulimit-hard-plain plain "ulimit -n 512"
	probe ulimit-hard shim "ulimit -n 512"
	# over the limit: EMFILE from the program's own socket() at the same
	# connection as with plain TCP
	for mode in plain shim; do
		next_port
		bg_start "srv-over-$mode" "$mode" "$NS_S" "$PROBE" server "$SRV4" "$PORT" "$N" "$DATA"
		wait_listen "$NS_S" "$PORT"
		mkdir -p "$T_DIR/out-over"
		if nsrun "$mode" "$NS_C" bash -c "ulimit -Sn 150; exec \"\$@\"" fdprobe "$PROBE" client \
			"$SRV4" "$PORT" "$N" "$T_DIR/out-over" >"$T_DIR/cli-over-$mode.log" 2>&1; then
			fail "ulimit: $N connections under ulimit -Sn 150 did not fail ($mode)"
		fi
		bg_stop "$BG_PID"
	done
	grep -q 'socket after [0-9]* connections: Too many open files' "$T_DIR/cli-over-plain.log" ||
		{ show_file "$T_DIR/cli-over-plain.log"; fail "ulimit: plain TCP did not stop at EMFILE"; }
	# the shim thread's new sockets hold a low number for an instant before
	# their move (docs/DESIGN.md): "within 2", as for the numbers
	OVP=$(sed -n 's/^fdprobe: socket after \([0-9]*\) connections: Too many open files$/\1/p' \
		"$T_DIR/cli-over-plain.log")
	OVS=$(sed -n 's/^fdprobe: socket after \([0-9]*\) connections: Too many open files$/\1/p' \
		"$T_DIR/cli-over-shim.log")
	if [ -z "$OVS" ] || ! close_to "$OVS" "$OVP"; then
		show_file "$T_DIR/cli-over-plain.log"
		show_file "$T_DIR/cli-over-shim.log"
		fail "ulimit: over the limit, the shim failed otherwise than plain TCP"
	fi
	log "ulimit: over the limit, EMFILE from socket() after $OVS connections (plain TCP: $OVP)"
	if shim_enabled; then
		log "ulimit: connections the shim left plain for want of descriptors:" \
			"$(grep -c 'continuing as plain TCP' "$T_DIR/shim-$NS_C.log" || true)"
	fi
fi

if selected accept; then
	step "accept: the server out of descriptors, as plain TCP"
	for mode in plain shim; do
		next_port
		out="$T_DIR/out-acc-$mode"
		mkdir -p "$out"
		bg_start "srv-acc-$mode" "$mode" "$NS_S" bash -c "ulimit -Sn 150; exec \"\$@\"" fdprobe \
			"$PROBE" server "$SRV4" "$PORT" "$N" "$DATA"
		spid=$BG_PID
		wait_listen "$NS_S" "$PORT"
		# the connections it never accepts end when it exits: the client fails
		if nsrun "$mode" "$NS_C" "$PROBE" client "$SRV4" "$PORT" "$N" "$out" \
			>"$T_DIR/cli-acc-$mode.log" 2>&1; then
			fail "accept: $N connections to a server under ulimit -Sn 150 all served ($mode)"
		fi
		rc=0
		bg_wait "$spid" 30 || rc=$?
		[ "$rc" = 1 ] || { show_file "$T_DIR/bg-srv-acc-$mode.log"; fail "accept: server exited $rc ($mode)"; }
		A[$mode]=$(sed -n 's/^fdprobe: accept after \([0-9]*\) connections: Too many open files$/\1/p' \
			"$T_DIR/bg-srv-acc-$mode.log")
		[ -n "${A[$mode]}" ] || { show_file "$T_DIR/bg-srv-acc-$mode.log"; fail "accept: no EMFILE at accept ($mode)"; }
		G[$mode]=$(sha256sum "$out"/* 2>/dev/null | awk -v w="$WANT" '$1 == w' | wc -l)
		[ "${G[$mode]}" = "${A[$mode]}" ] ||
			fail "accept: $mode: ${A[$mode]} connections accepted, ${G[$mode]} answers intact"
	done
	close_to "${A[shim]}" "${A[plain]}" || fail "accept: EMFILE after ${A[shim]} connections under the shim, ${A[plain]} with plain TCP"
	log "accept: EMFILE from accept() after ${A[shim]} connections (plain TCP: ${A[plain]}), every accepted one served intact"
	# soft = hard: the shim's own descriptors share the range (it may run
	# out sooner, see libmptcpshim(7)), connections it has no room for are
	# plain TCP; still every accepted one is served intact, and the app
	# never reads a HELLO (the shim closes such a connection first: the
	# client connects again, plainly)
	mode=shim
	next_port
	out="$T_DIR/out-acc-hard"
	mkdir -p "$out"
	bg_start srv-acc-hard shim "$NS_S" bash -c "ulimit -n 150; exec \"\$@\"" fdprobe \
		"$PROBE" server "$SRV4" "$PORT" "$N" "$DATA"
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	nsrun shim "$NS_C" "$PROBE" client "$SRV4" "$PORT" "$N" "$out" >"$T_DIR/cli-acc-hard.log" 2>&1 || true
	rc=0
	bg_wait "$spid" 30 || rc=$?
	[ "$rc" = 1 ] || { show_file "$T_DIR/bg-srv-acc-hard.log"; fail "accept: soft = hard: server exited $rc"; }
	AH=$(sed -n 's/^fdprobe: accept after \([0-9]*\) connections: Too many open files$/\1/p' \
		"$T_DIR/bg-srv-acc-hard.log")
	GH=$(sha256sum "$out"/* 2>/dev/null | awk -v w="$WANT" '$1 == w' | wc -l)
	[ -n "$AH" ] && [ "$GH" = "$AH" ] ||
		{ show_file "$T_DIR/bg-srv-acc-hard.log"; fail "accept: soft = hard: ${AH:-?} connections accepted, $GH answers intact"; }
	log "accept: soft = hard: EMFILE from accept() after $AH connections, every accepted one served intact"
fi

if selected wrk; then
	step "wrk: apache2 and wrk -c $N under the shim"
	command -v wrk >/dev/null || fail "wrk not installed (scripts/install-deps.sh installs it)"
	[ -x /usr/sbin/apache2 ] || fail "apache2 not installed (scripts/install-deps.sh installs it)"
	next_port
	A="$T_DIR/apache"
	mkdir -p "$A/www" "$A/run" "$A/lock"
	head -c 4096 /dev/urandom >"$A/www/page.bin"
	chmod -R a+rX "$A" "$T_DIR"
	M=/usr/lib/apache2/modules
	cat >"$A/httpd.conf" <<APEOF
ServerRoot "$A"
ServerName fdlimits.test
Listen $SRV4:$PORT
LoadModule mpm_event_module $M/mod_mpm_event.so
LoadModule authz_core_module $M/mod_authz_core.so
User www-data
Group www-data
PidFile "$A/run/httpd.pid"
Mutex file:$A/lock default
ErrorLog "$A/error.log"
LogLevel warn
DocumentRoot "$A/www"
<Directory "$A/www">
	Require all granted
</Directory>
# a worker thread per connection from the start: the event MPM closes
# keep-alive connections when its workers run short (wrk counts that as
# read errors)
StartServers 2
ServerLimit 2
ThreadLimit 128
ThreadsPerChild 128
MaxRequestWorkers 256
MinSpareThreads 1
MaxSpareThreads 256
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 10
APEOF
	bg_start apache shim "$NS_S" /usr/sbin/apache2 -f "$A/httpd.conf" -DFOREGROUND
	wait_listen "$NS_S" "$PORT"
	nsrun shim "$NS_C" wrk -t 2 -c "$N" -d 3s --timeout 10s "http://$SRV4:$PORT/page.bin" >"$T_DIR/wrk.log" 2>&1 ||
		{ show_file "$T_DIR/wrk.log"; fail "wrk failed"; }
	show_file "$T_DIR/wrk.log"
	grep -q 'requests in' "$T_DIR/wrk.log" || fail "wrk: no summary"
	! grep -q 'Socket errors' "$T_DIR/wrk.log" || fail "wrk: socket errors under the shim"
	! grep -q 'Non-2xx' "$T_DIR/wrk.log" || fail "wrk: non-2xx answers"
	# apache's children run as www-data and cannot open the log file in
	# T_DIR themselves: they log through the descriptor the library opened
	# when it loaded in the root parent.
	grep -q 'multipath negotiated (server)' "$T_DIR/shim-$NS_S.log" 2>/dev/null ||
		fail "apache's children logged nothing (the log file must be open before they drop privileges)"
	nsrun shim "$NS_C" curl -s "http://$SRV4:$PORT/page.bin" -o "$T_DIR/page.out" --max-time 10 ||
		fail "curl after wrk failed"
	same_file wrk-page "$A/www/page.bin" "$T_DIR/page.out"
	bg_stop "$BG_PID"
	if grep -Eq '\[(emerg|crit|alert)\]' "$A/error.log"; then
		show_file "$A/error.log"
		fail "apache2 logged a serious error"
	fi
fi

log "PASS"
