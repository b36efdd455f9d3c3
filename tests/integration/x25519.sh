#!/bin/bash
# x25519.sh: a passive observer of every subflow cannot forge a join
# (issue 14; RFC 8684 section 5 names the weakness: MPTCP's keys travel in
# clear in MP_CAPABLE).
#   A shim<->shim transfer (8 MiB, client to server, sha256 checked) over
#   two paths of topology A, so the client joins a second subflow, while
#   tests/progs/x25519_observer.py captures every TCP segment of the
#   server's namespace (AF_PACKET).  The observer then takes everything
#   visible: the first subflow's HELLO and HELLO_ACK, and each join's
#   JOIN (token, R_A), JOIN_ACK (R_B, HMAC) and JOIN_OK (HMAC), and tries
#   to reproduce the HMACs the two ends accepted: the old way (HELLO
#   version 1's keys in clear) and from the public values.  Reproducing
#   one would let it answer any nonce: a forged join.
# Passes when the capture holds a first subflow and a complete join, the
# server logged the join, and nothing reproduces an accepted HMAC.  On a
# build that still sends keys in clear (HELLO version 1) the observer
# forges the join and the test fails.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=120}"
: "${T_CMD_TIMEOUT:=40}"

tb_init x25519
require_shim
write_pytool
D=$T_DIR
OBS="$top_srcdir/tests/progs/x25519_observer.py"
mkrand "$D/data.in" $((8 * 1024 * 1024))

step "topology A, 2 paths: a shim transfer under capture"
tb_topo A 2 100,100
rm -f "$D/cap.ready"
bg_start capture plain "$NS_S" "$PY" "$OBS" capture "$D/cap.pcap" "$D/cap.ready"
cap=$BG_PID
for ((i = 0; i < 200; i++)); do
	[ -e "$D/cap.ready" ] && break
	sleep 0.05
done
[ -e "$D/cap.ready" ] || fail "the capture did not start: $(cat "$D/bg-capture.log")"
mp_xfer x25519 4 c2s "$D/data.in"
bg_stop "$cap"
log "capture: $(fsize "$D/cap.pcap") B; $(cat "$D/bg-capture.log")"

# The join must have happened (else there is nothing to forge).
joined=$(counter subflows_joined <<<"$MP_SCNT")
[ "$joined" -ge 1 ] || fail "the server counted no join: $MP_SCNT"

step "the observer tries to forge the join from the capture"
rc=0
"$PY" "$OBS" attack "$D/cap.pcap" "$PORT" >"$D/attack.out" 2>&1 || rc=$?
cat "$D/attack.out" >&2
case $rc in
0) ;;
1) fail "a passive observer reproduced an accepted join HMAC" ;;
2) fail "the capture lacks a first subflow or a complete join" ;;
*) fail "the observer failed ($rc)" ;;
esac
grep -q "HELLO version 2 (48-byte body)" "$D/attack.out" || fail "no version 2 HELLO in the capture"
tb_topo_down
