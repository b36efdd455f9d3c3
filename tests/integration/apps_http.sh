#!/bin/bash
# apps_http.sh: real HTTP programs, unmodified, under the shim on both ends
# over two shaped paths (topology A, 40+40 Mbit/s, IPv4):
#   servers  nginx (master + 2 pre-forked workers, private configuration)
#            python3 -m http.server (threads)
#   clients  curl, wget
# Each client downloads a random SIZE file (24 MiB: a few seconds) from
# each server; once both paths carry data, path 1 (the path the connection
# was opened on) is taken down (ip link set down, as failover.sh does).
# Every download must be byte-exact (sha256), must have used both paths
# (each carried 1 MiB before the cut), and the client's shim must have
# seen its path-1 subflows lost without aborting; the path comes back
# before the next case.  Finally a small file over IPv6 from each server.
# Harness self-test without the shim: NOSHIM=1 bash apps_http.sh
# Sub-cases (T_ONLY=REGEX): nginx-curl nginx-wget pyhttp-curl pyhttp-wget
#   v6-nginx-wget v6-pyhttp-curl
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((24 * 1024 * 1024))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=240}"
: "${T_CMD_TIMEOUT:=60}"

tb_init apps_http
require_shim
command -v curl >/dev/null || fail "curl not installed"
command -v wget >/dev/null || fail "wget not installed"
tb_topo A 2 40,40
D=$T_DIR
mkdir -p "$D/www"
mkrand "$D/www/big.bin" "$SIZE"
mkrand "$D/www/small.bin" $((3 * 1024 * 1024 + 17))

next_port
NGX_PORT=$PORT
step "nginx (2 workers) on $SRV4:$NGX_PORT and [$SRV6]:$NGX_PORT"
nginx_start "$NGX_PORT" "$D/www" 2
next_port
PYH_PORT=$PORT
step "python3 -m http.server on $SRV4:$PYH_PORT"
bg_start pyhttp4 shim "$NS_S" "$PY" -m http.server --bind "$SRV4" --directory "$D/www" "$PYH_PORT"
PYH_PID=$BG_PID
next_port
PYH6_PORT=$PORT
bg_start pyhttp6 shim "$NS_S" "$PY" -m http.server --bind "$SRV6" --directory "$D/www" "$PYH6_PORT"
PYH6_PID=$BG_PID
wait_listen "$NS_S" "$PYH_PORT"
wait_listen "$NS_S" "$PYH6_PORT"

# fetch CLIENT URL OUT: download URL into OUT with curl or wget under the
# shim, neither reading any host or user configuration nor a proxy.
fetch() {
	case $1 in
	curl) nsrun shim "$NS_C" curl -q -sS --noproxy '*' --max-time 50 -o "$3" "$2" ;;
	wget) nsrun shim "$NS_C" wget --no-config -q --no-proxy --timeout=50 --tries=1 -O "$3" "$2" ;;
	*) fail "fetch: unknown client $1" ;;
	esac
}

# download NAME CLIENT HOSTPORT FILE CUT: one download (CUT 1: path 1 is
# taken down mid-transfer and must be survived).
download() {
	local name=$1 client=$2 hp=$3 file=$4 cut=$5 t0 ms
	local what
	what="$name: $client GET http://$hp/$file ($(fsize "$D/www/$file") B)"
	selected "$name" || return 0
	step "$what"
	rm -f "$D/got"
	[ "$cut" = 1 ] && path_cut_arm 1
	t0=$(date +%s%N)
	fetch "$client" "http://$hp/$file" "$D/got" || fail "$what: $client failed ($?)"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$cut" = 1 ] && path_cut_check "$what"
	same_file "$what" "$D/www/$file" "$D/got"
	log "  ${ms} ms"
	rm -f "$D/got"
}

download nginx-curl curl "$SRV4:$NGX_PORT" big.bin 1
download nginx-wget wget "$SRV4:$NGX_PORT" big.bin 1
download pyhttp-curl curl "$SRV4:$PYH_PORT" big.bin 1
download pyhttp-wget wget "$SRV4:$PYH_PORT" big.bin 1
download v6-nginx-wget wget "[$SRV6]:$NGX_PORT" small.bin 0
download v6-pyhttp-curl curl "[$SRV6]:$PYH6_PORT" small.bin 0

kill -0 "$PYH_PID" 2>/dev/null || fail "python3 -m http.server (IPv4) died"
kill -0 "$PYH6_PID" 2>/dev/null || fail "python3 -m http.server (IPv6) died"
nginx_check_stop
bg_stop "$PYH_PID"
bg_stop "$PYH6_PID"
exit 0
