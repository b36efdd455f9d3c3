#!/bin/bash
# sockapi.sh: socket API semantics through the shim, IPv4 and IPv6.
#   nbconnect: refused non-blocking/blocking connect (shim and plain client),
#              plus a successful non-blocking connect to an open port
#   pollclient: poll/select/epoll echo clients (non-blocking, partial writes;
#              epollet: registered edge-triggered before connect, as nginx)
#   sockprobe: getpeername/getsockname/SO_DOMAIN/SO_TYPE/... look like TCP
# against an echo server (socat TCP-LISTEN,fork EXEC:cat), with the shim on
# both ends and shim client vs plain server (plus the reverse).
# Harness self-test without the shim: NOSHIM=1 bash sockapi.sh
# Sub-cases (for T_ONLY=REGEX): nbconnect-FAM-CLI-SRV, nbconnect-FAM-byname,
# pollclient-FAM-CLI-SRV-{poll,select,epoll,epollet,small}, sockprobe-FAM-CLI-SRV, apiprobe-FAM-CLI-SRV
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${ECHO_BYTES:=$((8 * 1024 * 1024))}"

tb_init sockapi
require_shim
tb_setup 1
build_progs

CLOSED_PORT=9 # nothing listens there in the server namespace

# run_prog WHAT MODE PROG ARGS...: run a test program in the client
# namespace, show its output, fail with the output on error.
run_prog() {
	local what=$1 mode=$2 out rc=0
	shift 2
	out=$(nsrun "$mode" "$NS_C" "$@" 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/    /' >&2
	[ "$rc" = 0 ] || fail "$what: exit status $rc"
	log "ok: $what"
}

for fam in 4 6; do
	host=$(srv_addr "$fam")
	for srvmode in shim plain; do
		next_port
		echo_port=$PORT
		if [ "$fam" = 6 ]; then
			listen="TCP6-LISTEN:$echo_port,bind=[$host],reuseaddr,fork"
		else
			listen="TCP4-LISTEN:$echo_port,bind=$host,reuseaddr,fork"
		fi
		bg_start "echo-$fam-$srvmode" "$srvmode" "$NS_S" socat "$listen" EXEC:cat
		echo_pid=$BG_PID
		wait_listen "$NS_S" "$echo_port"

		for climode in shim plain; do
			# plain/plain adds nothing here
			[ "$srvmode/$climode" = plain/plain ] && continue
			q="IPv$fam client=$climode server=$srvmode"
			k="$fam-$climode-$srvmode"
			if selected "nbconnect-$k"; then
				step "$q: nbconnect"
				run_prog "$q nbconnect" "$climode" "$PROG_NBCONNECT" "$host" "$CLOSED_PORT" "$echo_port"
			fi
			for m in poll select epoll epollet; do
				selected "pollclient-$k-$m" || continue
				step "$q: pollclient $m"
				run_prog "$q pollclient $m $ECHO_BYTES B" "$climode" "$PROG_POLLCLIENT" "$m" "$host" "$echo_port" "$ECHO_BYTES"
			done
			if selected "pollclient-$k-small"; then
				step "$q: pollclient small"
				run_prog "$q pollclient poll 1 B" "$climode" "$PROG_POLLCLIENT" poll "$host" "$echo_port" 1
				run_prog "$q pollclient epoll 0 B" "$climode" "$PROG_POLLCLIENT" epoll "$host" "$echo_port" 0
			fi
			if selected "sockprobe-$k"; then
				step "$q: sockprobe"
				run_prog "$q sockprobe" "$climode" "$PROG_SOCKPROBE" "$host" "$echo_port" echo
			fi
			if selected "apiprobe-$k"; then
				step "$q: apiprobe (MSG_PEEK, MSG_WAITALL, readv/writev, dups, EPIPE/SIGPIPE)"
				[ -x "$top_builddir/tests/progs/apiprobe" ] ||
					fail "tests/progs/apiprobe is not built (make check builds it)"
				run_prog "$q apiprobe" "$climode" "$top_builddir/tests/progs/apiprobe" "$host" "$echo_port"
			fi
		done
		bg_stop "$echo_pid"
	done
	# the refused-connect checks by host name (resolver + hosts file path)
	if selected "nbconnect-$fam-byname"; then
		step "IPv$fam nbconnect by name, shim client, closed port"
		run_prog "IPv$fam nbconnect server$fam" shim "$PROG_NBCONNECT" "server$fam" "$CLOSED_PORT"
	fi
done

shim_log_summary
exit 0
