#!/bin/bash
# nginx.sh: nginx with a master and two workers (pre-forked, each worker
# accepts on the shared listening socket) under the shim serves a random
# 50 MiB file over two shaped paths (topology A); curl under the shim
# downloads it several times, IPv4 and IPv6.  Joins must land in the
# worker that owns the connection (each worker has its own join listener,
# announced in its ADD_ADDR), so, with the shim:
#   - every download is byte-exact (sha256);
#   - for each download the client logged every extra subflow established
#     (one per path: 1) and path 2 carried a fair share;
#   - the workers' counters (their control sockets: mptcpshim status
#     --counters) rose by as many joins, all in one worker, none in the
#     master, and no worker refused a join (a join reaching the wrong
#     worker would be refused with "unknown token").
# Which workers served the joins is reported, not required (the kernel
# decides which worker accepts).
# Then nginx as a reverse proxy under the shim (client namespace) fetches
# the file from that nginx for a plain curl: its upstream sockets are in
# epoll before connect(), so that registration must follow the swap.
# Harness self-test without the shim: NOSHIM=1 bash nginx.sh
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((50 * 1024 * 1024))}"
: "${RUNS4:=3}"
: "${RUNS6:=1}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=240}"
: "${T_CMD_TIMEOUT:=60}"

tb_init nginx
require_shim
command -v curl >/dev/null || fail "curl not installed"
tb_topo A 2 80,80
D=$T_DIR

mkdir -p "$D/www"
mkrand "$D/www/file.bin" "$SIZE"
next_port
port=$PORT
step "nginx (2 workers) on $SRV4:$port and [$SRV6]:$port"
nginx_start "$port" "$D/www" 2
master=$NGX_MASTER
workers=$NGX_WORKERS

sl="$T_DIR/shim-$NS_S.log"
joinpids=""

download() {
	local fam=$1 run=$2 url extra
	# One subflow per path (the client's interface on path 2 pairs with
	# the server's address on its subnet only), the first one included.
	extra=1
	if [ "$fam" = 6 ]; then
		url="http://[$SRV6]:$port/file.bin"
	else
		url="http://$SRV4:$port/file.bin"
	fi
	local what="download $run over IPv$fam"
	step "$what"
	local cm b0 d2 t0 ms w
	local -A j0=() r0=()
	cm=$(counters_mark "$NS_C")
	if shim_enabled; then
		for w in $workers; do
			j0[$w]=$(shim_counter subflows_joined "$w")
			r0[$w]=$(shim_counter joins_rejected "$w")
		done
	fi
	b0=$(path_bytes 2)
	t0=$(date +%s%N)
	nsrun shim "$NS_C" curl -sS --noproxy '*' --max-time 50 -o "$D/got.bin" "$url" ||
		fail "$what: curl failed"
	ms=$((($(date +%s%N) - t0) / 1000000))
	d2=$(($(path_bytes 2) - b0))
	same_file "$what" "$D/www/file.bin" "$D/got.bin"
	rm -f "$D/got.bin"
	log "  ${ms}ms, $((SIZE * 8 / 1000 / (ms + 1))) Mbit/s, path 2: $((d2 / 1024)) KiB"
	shim_enabled || return 0
	sleep 0.2 # a join whose JOIN_OK came with the last bytes is counted by now
	local est bad pids="" nj=0 j r
	# curl's joins, from its counters (written at its exit)
	est=$(counters_since "$NS_C" "$cm" | counter subflows_joined)
	# the server's joins, from each worker's counters (control socket):
	# which worker took them, and none refused
	for w in $workers; do
		j=$(shim_counter subflows_joined "$w")
		r=$(shim_counter joins_rejected "$w")
		[ $((${r:-0} - ${r0[$w]:-0})) = 0 ] || fail "$what: worker $w refused $((r - ${r0[$w]:-0})) join(s)"
		if [ $((${j:-0} - ${j0[$w]:-0})) != 0 ]; then
			pids="$pids$w "
			nj=$((nj + j - ${j0[$w]:-0}))
		fi
	done
	[ -z "$(shim_counter subflows_joined "$master")" ] || [ "$(shim_counter subflows_joined "$master")" = 0 ] ||
		fail "$what: the nginx master accepted a join"
	log "  client: $est extra subflow(s) established; server joins (worker counters): $nj in $pids"
	[ "$est" = "$extra" ] || fail "$what: the client established $est extra subflows, want $extra"
	[ "$nj" = "$extra" ] || fail "$what: the workers counted $nj joins, want $extra"
	bad=$(grep -E 'aborting|error' "$sl" || true)
	[ -z "$bad" ] || fail "$what: the server's shim log has errors: $bad"
	[ "$(echo "$pids" | wc -w)" = 1 ] || fail "$what: one connection's joins landed in several workers: $pids"
	joinpids="$joinpids $pids"
	# path 2 carried its share (half the file; require a fifth of that)
	[ $((d2 * 10)) -ge "$SIZE" ] || fail "$what: path 2 carried only $d2 B"
}

for ((r = 1; r <= RUNS4; r++)); do download 4 "$r"; done
for ((r = 1; r <= RUNS6; r++)); do download 6 "$((RUNS4 + r))"; done

# nginx as a reverse proxy under the shim in the client namespace: it
# registers each upstream socket in epoll (edge-triggered) *before*
# connect(), so the registration must follow the descriptor that the shim
# swaps at connect time.  A plain curl on the client's loopback fetches
# through it; the proxy's upstream connections to the nginx above are
# multipath.  Two fetches: the second reuses a kept-alive upstream
# connection.
next_port
pport=$PORT
PX="$D/proxy"
nginx_conf "$PX" 1 <<NGXEOF
	upstream origin { server $SRV4:$port; keepalive 4; }
	server {
		listen 127.0.0.1:$pport;
		location / {
			proxy_pass http://origin;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_max_temp_file_size 0;
		}
	}
NGXEOF
step "nginx reverse proxy (shim) on 127.0.0.1:$pport in the client namespace -> nginx over two paths"
bg_start "nginx-proxy" shim "$NS_C" "$(command -v nginx || echo /usr/sbin/nginx)" -p "$PX" \
	-e "$PX/logs/error.log" -c "$PX/nginx.conf"
proxy_pid=$BG_PID
wait_listen "$NS_C" "$pport"
for r in 1 2; do
	what="proxied download $r"
	path_use_mark
	nsrun plain "$NS_C" curl -sS --noproxy '*' --max-time 50 -o "$D/got.bin" "http://127.0.0.1:$pport/file.bin" ||
		fail "$what: curl through the proxy failed"
	same_file "$what" "$D/www/file.bin" "$D/got.bin"
	rm -f "$D/got.bin"
	path_use_check "$what"
done
kill -0 "$proxy_pid" 2>/dev/null || fail "the nginx proxy died"
if grep -E '\[(emerg|alert|crit)\]|upstream timed out|upstream prematurely' "$PX/logs/error.log"; then
	fail "the nginx proxy logged upstream errors"
fi
bg_stop "$proxy_pid"

if shim_enabled; then
	log "joins were served by worker(s): $(echo "$joinpids" | tr ' ' '\n' | grep . | sort | uniq -c | tr '\n' ';' | tr -s ' ')"
fi
nginx_check_stop
