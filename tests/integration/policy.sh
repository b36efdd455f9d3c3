#!/bin/bash
# policy.sh: the steering policy file (MPTCPSHIM_POLICY, libmptcpshim(7)
# POLICY FILE) really steers, over two shaped 50 Mbit/s paths (topology B):
#   - redundant: a rule "dst=SERVER program=python3 scheduler=redundant"
#     makes the client send every chunk on both paths: the two interfaces
#     together count about twice the file (the syntax case below, whose
#     file has the same rule but an error, is the control: about once);
#   - hostname: the same with "host=server4", the client connecting to the
#     name server4 (the testbed's hosts file): matched through getaddrinfo;
#   - backup: a rule "backup=p2c" keeps path 2 idle (under BACKUP_MAX % of
#     the file) while path 1 works; then path 1 is cut mid-transfer and the
#     transfer completes over path 2 alone, byte-exact;
#   - interfaces: a rule "interfaces=p1c" keeps path 2 unused: the client
#     opens no extra subflow (its counters) and path 2 carries nothing
#     (under 1 % of the file: ARP and such);
#   - syntax error: a file whose second line is bad is reported once with
#     file, line and column, and its (valid) first line does not apply:
#     the defaults do (about once the file on the wire).
# Every transfer is checked by sha256.  About 35 s on an idle machine.
# Harness self-test without the shim: NOSHIM=1 bash policy.sh
# Sub-cases (T_ONLY=REGEX): redundant hostname backup interfaces syntax
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${SIZE:=$((6 * 1024 * 1024))}"
: "${BACKUP_MAX:=3}"
MPTCPSHIM_LOG=info
: "${T_TIMEOUT:=150}"
: "${T_CMD_TIMEOUT:=40}"

tb_init policy
require_shim
write_pytool
tb_topo B 2 50,50
D=$T_DIR
POL="$D/policy.conf"

# xfer NAME POLICY-TEXT [BYTES]: a c2s transfer of BYTES (default SIZE)
# with the client and the server reading POLICY-TEXT as their policy file.
# Sets WIRE (both paths' bytes) and MP_DELTA.
xfer() {
	local name=$1 n=${3:-$SIZE}
	printf '%s' "$2" >"$POL"
	mkrand "$D/$name.in" "$n"
	T_ENV=("MPTCPSHIM_POLICY=$POL")
	mp_xfer "$name" 4 c2s "$D/$name.in"
	T_ENV=()
	rm -f "$D/$name.in"
	WIRE=$((MP_DELTA[1] + MP_DELTA[2]))
	log "  ${MP_MS}ms; path 1 $((MP_DELTA[1] / 1024)) KiB, path 2 $((MP_DELTA[2] / 1024)) KiB, together $((WIRE * 100 / n)) % of the file"
}

if selected redundant; then
	step "redundant: dst=$SRV4 program=python3 scheduler=redundant"
	xfer redundant "# interactive traffic: every byte on every path
dst=$SRV4 program=python3 side=client scheduler=redundant
"
	if shim_enabled; then
		printf '%s\n' "$MP_CLOG" | grep -q "conn $MP_PEER: policy: scheduler redundant (line 2)" ||
			fail "redundant: the client's log shows no policy match for $MP_PEER"
		[ $((WIRE * 100)) -ge $((SIZE * 180)) ] ||
			fail "redundant: the paths counted $WIRE B for a $SIZE B file (want about twice: every chunk on both)"
		for i in 1 2; do
			[ $((MP_DELTA[i] * 100)) -ge $((SIZE * 90)) ] ||
				fail "redundant: path $i counted ${MP_DELTA[i]} B, want about the whole file"
		done
	fi
fi

if selected hostname; then
	# The testbed's hosts file names the server "server4": the client
	# resolves it (getaddrinfo), so a host= rule can match the connection.
	step "hostname: host=server4 scheduler=redundant, the client connecting to the name"
	srv=$SRV4
	SRV4=server4
	xfer hostname "host=*.example.org,server4 side=client scheduler=redundant
"
	SRV4=$srv
	if shim_enabled; then
		printf '%s\n' "$MP_CLOG" | grep -qE "conn $SRV4:[0-9]+: policy: scheduler redundant \(line 1\)" ||
			fail "hostname: the client's log shows no host= match for $SRV4 (server4)"
		[ $((WIRE * 100)) -ge $((SIZE * 180)) ] ||
			fail "hostname: the paths counted $WIRE B for a $SIZE B file (want about twice)"
	fi
fi

if selected backup; then
	step "backup: backup=${IFC[2]}: idle while path 1 works, then carries the rest"
	xfer backup-idle "backup=${IFC[2]}
"
	if shim_enabled; then
		printf '%s\n' "$MP_CLOG" | grep -qE "subflow [0-9]+ ${C4[2]}:[0-9]+ -> [^ ]+ established" ||
			fail "backup: the client opened no subflow over path 2 (the backup)"
		[ $((MP_DELTA[2] * 100)) -le $((SIZE * BACKUP_MAX)) ] ||
			fail "backup: the backup path carried ${MP_DELTA[2]} B of $SIZE B while path 1 worked (want under $BACKUP_MAX %)"
	fi
	# Path 1 slowed to 10 Mbit/s (4 MiB take ~3.5 s, so the cut surely
	# comes mid-transfer even on a loaded machine), cut once it carried an
	# eighth of the file: the rest must go over the backup.
	cut_size=$((4 * 1024 * 1024))
	path_rate 1 10
	base1=$(path_bytes 1)
	(
		for ((k = 0; k < 1500; k++)); do
			[ $(($(path_bytes 1) - base1)) -ge $((cut_size / 8)) ] && break
			sleep 0.02
		done
		ip -n "$NS_C" link set "${IFC[1]}" down && echo "path 1 down at $(date +%T.%N)" >"$D/cut.done"
	) &
	cutter=$!
	BG_PIDS+=("$cutter")
	if shim_enabled; then
		xfer backup-cut "backup=${IFC[2]}
" "$cut_size"
		wait "$cutter" || true
		[ -e "$D/cut.done" ] || fail "backup: path 1 was not cut during the transfer"
		log "  $(cat "$D/cut.done")"
		[ $((MP_DELTA[2] * 2)) -ge "$cut_size" ] ||
			fail "backup: after path 1 died the backup carried only ${MP_DELTA[2]} B of $cut_size B"
		printf '%s\n' "$MP_CLOG" | grep -E 'aborting|no working path' &&
			fail "backup: a connection aborted although the backup path worked"
		path_up 1
	else
		kill "$cutter" 2>/dev/null || true
		wait "$cutter" 2>/dev/null || true
	fi
	path_rate 1 50
fi

if selected interfaces; then
	step "interfaces: interfaces=${IFC[1]}: path 2 is never used"
	xfer interfaces "side=client interfaces=${IFC[1]}
"
	if shim_enabled; then
		[ "$(printf '%s\n' "$MP_CCNT" | counter multipath_connections)" -ge 1 ] ||
			fail "interfaces: the connection was not multipath: $MP_CCNT"
		opened=$(printf '%s\n' "$MP_CCNT" | counter subflows_opened)
		[ "$opened" = 0 ] || fail "interfaces: the client opened $opened extra subflow(s) (want none: only ${IFC[1]} allowed)"
		[ $((MP_DELTA[2] * 100)) -le "$SIZE" ] ||
			fail "interfaces: path 2 carried ${MP_DELTA[2]} B of $SIZE B (want nothing)"
		[ $((MP_DELTA[1] * 100)) -ge $((SIZE * 95)) ] ||
			fail "interfaces: path 1 carried only ${MP_DELTA[1]} B of $SIZE B"
	fi
fi

if selected syntax; then
	step "syntax: an error names file, line and column; the defaults apply"
	xfer syntax "dst=$SRV4 scheduler=redundant
port=99999 subflows=1
"
	if shim_enabled; then
		want="policy: $POL:2:6: bad port '99999' (1..65535); no rule applies (the defaults do)"
		n=$(printf '%s\n' "$MP_CLOG" | grep -cF "$want" || true)
		[ "$n" = 1 ] || {
			printf '%s\n' "$MP_CLOG" | grep policy >&2 || true
			fail "syntax: the client logged '$want' $n times (want once)"
		}
		[ $((WIRE * 100)) -le $((SIZE * 125)) ] ||
			fail "syntax: the paths counted $WIRE B for a $SIZE B file: the rule of a file with an error applied"
		printf '%s\n' "$MP_CLOG" | grep -q "policy: scheduler" &&
			fail "syntax: a connection took a rule from a file with an error"
	fi
fi
log "PASS"
