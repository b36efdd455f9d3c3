#!/bin/bash
# gwssh.sh: OpenSSH through the gateway (issue 14).  gwlib.sh's testbed,
# with a private plain sshd (no shim) in the server namespace behind the
# gateway (its own host key, sshd_config, port and client key, all in the
# test's temp dir, as apps_ssh.sh does).  The ssh clients run under the
# shim, through the gateway:
#   ssh   MPTCPSHIM_GATEWAY set: ssh runs a command that prints the sha256
#         of a file on the server, compared with the local one
#   scp   scp downloads 16 MiB (MPTCPSHIM_GATEWAY set), then uploads it
#         through the launcher's -g/--gateway-key; both sha256-checked,
#         and both client paths (shaped to 100 Mbit/s each) carry >= 1 MiB
#         each time
# sshd must log the gateway's address (GWA) for every login: the server
# sees the gateway, never the client.
# Sub-cases (T_ONLY=REGEX): ssh scp
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
# shellcheck source-path=SCRIPTDIR source=gwlib.sh
. "$(cd "$(dirname "$0")" && pwd)/gwlib.sh"

: "${SIZE:=$((16 * 1024 * 1024))}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=150}"
: "${T_CMD_TIMEOUT:=40}"

tb_init gwssh
require_shim
shim_enabled || skip "the gateway runs only under the library (NOSHIM set)"
for t in ssh scp ssh-keygen; do
	command -v "$t" >/dev/null || fail "$t not installed"
done
# paths shaped to 100 Mbit/s each: neither carries a transfer alone
gw_testbed 100,100
gw_start --connect-timeout 5

# keys, the client's configuration, a private sshd behind the gateway
# (lib.sh)
ssh_setup
ssh_sshd_start srv plain "$NS_P" "$PSRV"
mkrand "$D/remote.bin" "$SIZE"

# logins N: sshd's accepted logins so far; check_from N WHAT: every login
# after the first N came from the gateway's address
logins() { grep -c 'Accepted publickey' "$SSHD_LOG" || true; }
check_from() {
	local acc
	sleep 0.2
	acc=$(grep 'Accepted publickey' "$SSHD_LOG" | tail -n +"$(($1 + 1))" || true)
	[ -n "$acc" ] || fail "$2: sshd logged no login"
	if printf '%s\n' "$acc" | grep -v "Accepted publickey for root from $GWA port [1-9]"; then
		fail "$2: sshd saw another address than the gateway's ($GWA)"
	fi
}

if selected ssh; then
	step "ssh: a command on the server through the gateway"
	n0=$(logins)
	out=$(gwrun ssh "${SSHOPT[@]}" -p "$SSH_PORT" "root@$PSRV" "echo through; sha256sum $D/remote.bin") ||
		fail "ssh: exit $?"
	echo "$out" | head -1 | grep -qx through || fail "ssh: the command's output: $out"
	[ "$(echo "$out" | sed -n 2p | cut -d' ' -f1)" = "$(sha256 "$D/remote.bin")" ] ||
		fail "ssh: the remote sha256 differs: $out"
	log "ok: ssh ran the command ($(echo "$out" | tr '\n' ' ' | cut -c1-40)...)"
	check_from "$n0" ssh
fi

if selected scp; then
	step "scp: $SIZE B down (MPTCPSHIM_GATEWAY), then up (the launcher's -g), both paths"
	n0=$(logins)
	path_use_mark
	t0=$(now_ms)
	gwrun scp -q "${SSHOPT[@]}" -P "$SSH_PORT" "root@$PSRV:$D/remote.bin" "$D/down.bin" ||
		fail "scp down: exit $?"
	log "  down: $(($(now_ms) - t0)) ms"
	same_file scp-down "$D/remote.bin" "$D/down.bin"
	path_use_check scp-down
	path_use_mark
	t0=$(now_ms)
	nsrun plain "$NS_C" "$SHIM_LAUNCHER" -g "$SRV4:$GP" --gateway-key "$D/alice.key" \
		env MPTCPSHIM_GATEWAY_FALLBACK=fail \
		scp -q "${SSHOPT[@]}" -P "$SSH_PORT" "$D/down.bin" "root@$PSRV:$D/up.bin" ||
		fail "scp up: exit $?"
	log "  up: $(($(now_ms) - t0)) ms"
	same_file scp-up "$D/remote.bin" "$D/up.bin"
	path_use_check scp-up
	check_from "$n0" scp
	rm -f "$D/down.bin" "$D/up.bin"
fi

kill -0 "$GW_PID" 2>/dev/null || fail "the gateway died: $(tail -5 "$GWLOG")"
log "PASS gwssh"
