#!/bin/bash
# apps_lang.sh: programs written against language runtimes' own event
# loops, unmodified, under the shim on both ends over two shaped uplinks
# (topology B, 40+40 Mbit/s):
#   py-echo    tests/progs/aio_echo.py: a python3 asyncio client streams
#              SIZE (24 MiB) random bytes to an asyncio echo server while
#              reading the echo back (both directions at once); each side
#              checks the sha256 of what it got (the server against the
#              client's header) and exits 1 on a mismatch.
#   node-get   tests/progs/node_http.js: a node.js `http` client downloads
#              SIZE bytes from a node.js `http` server (fs stream piped to
#              the response) and checks their sha256;
#   node-put   and uploads them (PUT); the server hashes the body and the
#              client checks the server's answer.
# Each of them with path 1 taken down once both paths carry data (survived,
# byte-exact, both paths used, the client's path-1 subflows lost without
# aborting).  py-echo-v6: the same echo over IPv6, 4 MiB, no cut.
# node.js comes from Debian's nodejs package (scripts/install-deps.sh).
# Harness self-test without the shim: NOSHIM=1 bash apps_lang.sh
# Sub-cases (T_ONLY=REGEX): py-echo py-echo-v6 node-get node-put
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((24 * 1024 * 1024))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=200}"
: "${T_CMD_TIMEOUT:=60}"

tb_init apps_lang
require_shim
AIO="$top_srcdir/tests/progs/aio_echo.py"
NODEJS="$top_srcdir/tests/progs/node_http.js"
NODE=$(command -v node || command -v nodejs || true)
[ -n "$NODE" ] || fail "node.js not installed (package nodejs; scripts/install-deps.sh installs it)"
log "$("$PY" --version 2>&1), node $("$NODE" --version)"
tb_topo B 2 40,40
D=$T_DIR
mkrand "$D/data.in" "$SIZE"
mkrand "$D/small.in" $((4 * 1024 * 1024 + 5))
WANT=$(sha256 "$D/data.in")

# py_echo NAME FAM FILE CUT
py_echo() {
	local name=$1 fam=$2 file=$3 cut=$4 host=$SRV4 spid
	[ "$fam" = 6 ] && host=$SRV6
	local what
	what="$name: asyncio echo of $(fsize "$file") B over IPv$fam"
	selected "$name" || return 0
	step "$what"
	next_port
	bg_start "aio-$name" shim "$NS_S" "$PY" "$AIO" server "$host" "$PORT" 1
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	if [ "$cut" = 1 ]; then path_cut_arm 1; else path_use_mark; fi
	nsrun shim "$NS_C" "$PY" "$AIO" client "$host" "$PORT" "$file" ||
		fail "$what: the asyncio client exited $?"
	bg_wait "$spid" 15 || fail "$what: the asyncio server exited $? or did not end"
	if [ "$cut" = 1 ]; then path_cut_check "$what"; else path_use_check "$what"; fi
	sed 's/^/    /' "$T_DIR/bg-aio-$name.log" >&2
	grep -q "server: received $(fsize "$file") B sha256 $(sha256 "$file"): ok" "$T_DIR/bg-aio-$name.log" ||
		fail "$what: the server did not confirm the sha256 of the file"
	log "ok: $what"
}

py_echo py-echo 4 "$D/data.in" 1
py_echo py-echo-v6 6 "$D/small.in" 0

if selected 'node-get|node-put'; then
	mkdir -p "$D/www"
	cp "$D/data.in" "$D/www/data.bin"
	next_port
	NPORT=$PORT
	step "node.js http server on $SRV4:$NPORT"
	bg_start node-srv shim "$NS_S" "$NODE" "$NODEJS" server "$SRV4" "$NPORT" "$D/www"
	NODE_PID=$BG_PID
	wait_listen "$NS_S" "$NPORT"
	if selected node-get; then
		what="node-get: node.js http GET of $SIZE B"
		step "$what"
		path_cut_arm 1
		nsrun shim "$NS_C" "$NODE" "$NODEJS" get "$SRV4" "$NPORT" data.bin "$D/data.out" "$WANT" ||
			fail "$what: the node.js client exited $?"
		path_cut_check "$what"
		same_file "$what" "$D/data.in" "$D/data.out"
		rm -f "$D/data.out"
	fi
	if selected node-put; then
		what="node-put: node.js http PUT of $SIZE B"
		step "$what"
		path_cut_arm 1
		nsrun shim "$NS_C" "$NODE" "$NODEJS" put "$SRV4" "$NPORT" up.bin "$D/data.in" ||
			fail "$what: the node.js client exited $?"
		path_cut_check "$what"
		same_file "$what" "$D/data.in" "$D/www/up.bin"
	fi
	kill -0 "$NODE_PID" 2>/dev/null || fail "the node.js server died"
	bg_stop "$NODE_PID"
fi
exit 0
