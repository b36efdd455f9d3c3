#!/bin/bash
# apps_ssh.sh: OpenSSH (ssh, scp, rsync over ssh) against a private sshd
# in the server namespace (its own host key, sshd_config, port and client
# key, all in the test's temp dir; no host configuration read by either
# end), topology A with two paths, IPv4; files of random bytes, SIZE
# (32 MiB) where paths are shaped and cut, PLAIN_SIZE (8 MiB) in the
# unshaped plain-quadrant variants, checked by sha256:
#   up / down  ssh root@server 'cat > FILE' < in, ssh root@server 'cat FILE'
#              scp in root@server:FILE, scp root@server:FILE out
#              rsync -e ssh in root@server:FILE and back
# Variants (unshaped paths unless said otherwise):
#   cshim    ssh/scp/rsync under the shim -> plain sshd (the shim client
#            falls back to plain TCP: sshd speaks first); all six transfers.
#   sshim    plain clients -> sshd under the shim (the shim server relays
#            plain TCP); all six transfers.
#   both     everything under the shim, paths shaped to 50+50 Mbit/s: ssh
#            down, scp up, rsync down, each with path 1 taken down once
#            both paths carry data (survived, byte-exact).
# sshd runs as it does by default: it re-execs itself for every
# connection, and the new image inherits the connection's descriptor (the
# shim hands it over across execve: MPTCPSHIM_INHERIT).  sshd must see the
# client's real address ("Accepted publickey for root from CLIENT"),
# checked in every variant.  Option calls sshd makes in its forked and
# re-exec'd children (SO_KEEPALIVE, IP_TOS...) are answered without the
# subflows there (libmptcpshim(7) PROCESSES); any sshd log line about a
# failed setsockopt/getsockopt fails the test.
# Harness self-test without the shim: NOSHIM=1 bash apps_ssh.sh
# Sub-cases (T_ONLY=REGEX): VARIANT-{ssh,scp,rsync}-{up,down}
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((32 * 1024 * 1024))}"
: "${PLAIN_SIZE:=$((8 * 1024 * 1024))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=300}"
: "${T_CMD_TIMEOUT:=60}"

tb_init apps_ssh
require_shim
for t in ssh scp ssh-keygen rsync; do
	command -v "$t" >/dev/null || fail "$t not installed"
done
tb_topo A 2
D=$T_DIR
# keys, the client's configuration (lib.sh)
ssh_setup
mkrand "$D/data.in" "$SIZE"
# the unshaped variants (plain quadrants: one path, nothing cut) move less
mkrand "$D/small.in" "$PLAIN_SIZE"
DATA="$D/data.in"

SSHOPT=(-F "$K/ssh_config" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i "$K/id_ed25519")

# sshd_start NAME MODE [FLAG...]: a private sshd on $SRV4 and a fresh port
# (SSH_PORT), MODE plain or shim.  Sets SSHD_PID, SSHD_LOG.
sshd_start() {
	local name=$1 mode=$2
	shift 2
	ssh_sshd_start "$name" "$mode" "$NS_S" "$SRV4" "$@"
}

# xfer VARIANT CMODE TOOL DIR CUT: one transfer of $DATA with TOOL (ssh, scp,
# rsync) in direction DIR (up: client -> server), the client run in CMODE
# (plain or shim), against the running sshd; CUT 1: path 1 taken down
# mid-transfer.
xfer() {
	local v=$1 cmode=$2 tool=$3 dir=$4 cut=$5 name="$1-$3-$4"
	local what="$name: $tool $dir $(stat -c %s "$DATA") B, client $cmode, sshd $SSHD_MODE" src dst remote n0 t0 ms
	selected "$name" || return 0
	step "$what"
	remote="$D/remote.bin"
	if [ "$dir" = up ]; then
		src="$DATA"
		dst="$remote"
	else
		cp "$DATA" "$remote"
		src="$remote"
		dst="$D/data.out"
	fi
	rm -f "$dst"
	n0=$(grep -c 'Accepted publickey' "$SSHD_LOG" || true)
	if [ "$cut" = 1 ]; then path_cut_arm 1; fi
	t0=$(date +%s%N)
	case $tool-$dir in
	ssh-up)
		nsrun "$cmode" "$NS_C" ssh "${SSHOPT[@]}" -p "$SSH_PORT" "root@$SRV4" "cat > $dst" <"$src"
		;;
	ssh-down)
		nsrun "$cmode" "$NS_C" ssh "${SSHOPT[@]}" -p "$SSH_PORT" "root@$SRV4" "cat $src" >"$dst"
		;;
	scp-up)
		nsrun "$cmode" "$NS_C" scp -q "${SSHOPT[@]}" -P "$SSH_PORT" "$src" "root@$SRV4:$dst"
		;;
	scp-down)
		nsrun "$cmode" "$NS_C" scp -q "${SSHOPT[@]}" -P "$SSH_PORT" "root@$SRV4:$src" "$dst"
		;;
	rsync-up)
		nsrun "$cmode" "$NS_C" rsync -e "ssh ${SSHOPT[*]} -p $SSH_PORT" "$src" "root@$SRV4:$dst"
		;;
	rsync-down)
		nsrun "$cmode" "$NS_C" rsync -e "ssh ${SSHOPT[*]} -p $SSH_PORT" "root@$SRV4:$src" "$dst"
		;;
	esac || fail "$what: $tool exited $?"
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$cut" = 1 ]; then path_cut_check "$what"; fi
	same_file "$what" "$DATA" "$dst"
	rm -f "$remote" "$D/data.out"
	log "  ${ms} ms"
	# sshd saw the client's real address
	sleep 0.2
	local acc
	acc=$(grep 'Accepted publickey' "$SSHD_LOG" | tail -n +"$((n0 + 1))" || true)
	[ -n "$acc" ] || fail "$what: sshd logged no accepted login"
	printf '%s\n' "$acc" | grep -q "Accepted publickey for root from ${C4[1]} port [1-9]" ||
		fail "$what: sshd did not see the client's address ${C4[1]}: $acc"
}

# variant NAME CMODE SMODE SHAPED [SSHD FLAGS...]
variant() {
	local v=$1 cmode=$2 smode=$3 shaped=$4 t d any=0
	shift 4
	for t in ssh scp rsync; do
		for d in up down; do
			selected "$v-$t-$d" >/dev/null 2>&1 && any=1
		done
	done
	[ "$any" = 1 ] || {
		log "skipping variant $v (T_ONLY=$T_ONLY)"
		return 0
	}
	SSHD_MODE="$smode${1:+ $*}"
	step "variant $v: client $cmode, sshd $SSHD_MODE"
	sshd_start "$v" "$smode" "$@"
	if [ "$shaped" = 1 ]; then
		DATA="$D/data.in"
		path_rate 1 50
		path_rate 2 50
		xfer "$v" "$cmode" ssh down 1
		xfer "$v" "$cmode" scp up 1
		xfer "$v" "$cmode" rsync down 1
		path_rate 1 0
		path_rate 2 0
	else
		DATA="$D/small.in"
		for t in ssh scp rsync; do
			for d in up down; do
				xfer "$v" "$cmode" "$t" "$d" 0
			done
		done
	fi
	if grep -E '(setsockopt|getsockopt|sys_get_rdomain).*(not supported|Bad file descriptor)' "$SSHD_LOG" >&2; then
		fail "variant $v: sshd's option calls failed in its children (above)"
	fi
	kill -0 "$SSHD_PID" 2>/dev/null || fail "variant $v: sshd died"
	bg_stop "$SSHD_PID"
}

variant cshim shim plain 0
variant sshim plain shim 0
variant both shim shim 1
exit 0
