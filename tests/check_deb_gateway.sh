# shellcheck shell=bash
# shellcheck disable=SC2154 # lib and unit: set by check_deb.sh
# check_deb_gateway.sh: sourced by check_deb.sh's second half, with the
# packages installed (in its overlay) and lib.sh's namespaces set up
# (NS_S).  The package mptcpshim-gateway: its unit is enabled and passes
# `systemd-analyze verify`; no key comes with it and the unit waits for
# the key file; the unit's ExecStartPre (as root, with the unit's
# Environment= and EnvironmentFile=) refuses a key file with no key in it
# or readable by others, with the reason; given a key from --gen-key, it
# passes and the daemon, run as the unit's ExecStart runs it (the key
# handed over as a credential at %d, an unnamed user, no capability, no new
# privileges, private /tmp), listens.  systemd itself is not needed: where
# it is PID 1, docs/DESIGN.md (section 11) has the same check by hand.

gw_keys=/etc/mptcpshim/gateway.keys
gw_default=/etc/default/mptcpshim-gateway
gw_cred=/run/credentials/mptcpshim-gateway.service
gw_uid=61184 # the first of systemd's DynamicUser range, no name: like one

say "mptcpshim-gateway: its unit, and the daemon run as the unit runs it"
[ ! -e "$gw_keys" ] || fail "installing the packages created $gw_keys: a gateway must get no key it was not given"
grep -qxF "ConditionPathExists=$gw_keys" "$unit" ||
	fail "$unit does not wait for $gw_keys (ConditionPathExists=$gw_keys)"
grep -qxF "LoadCredential=gateway.keys:$gw_keys" "$unit" ||
	fail "$unit does not hand $gw_keys to the service (LoadCredential=gateway.keys:$gw_keys)"
[ -L /etc/systemd/system/multi-user.target.wants/mptcpshim-gateway.service ] ||
	fail "installing mptcpshim-gateway did not enable its unit"
if command -v systemd-analyze >/dev/null; then
	man=no
	command -v man >/dev/null && man=yes
	# (man, which it runs to find the manual page, caches a formatted
	# copy in /var/cache/man: a tmpfs there keeps it out of the check
	# that purging leaves nothing.)
	# shellcheck disable=SC2016 # the inner shell expands them
	out=$(unshare --mount --propagation private sh -c '{ [ ! -d /var/cache/man ] || mount -t tmpfs tmpfs /var/cache/man; } &&
		exec systemd-analyze verify --man="$1" "$2"' - "$man" "$unit" 2>&1) ||
		fail "systemd-analyze verify $unit: $out"
	[ -z "$out" ] || fail "systemd-analyze verify $unit has something to say: $out"
	say "systemd-analyze verify: no complaint (man page check: $man)"
else
	say "systemd-analyze not installed (package systemd): the unit is not verified"
fi

# The unit's command line and environment, as systemd makes them.
gw_exec=$(sed -n 's/^ExecStart=//p' "$unit")
gw_pre=$(sed -n 's/^ExecStartPre=+//p' "$unit")
gw_envline=$(sed -n 's/^Environment=//p' "$unit")
[ -n "$gw_exec" ] || fail "no ExecStart= in $unit"
[ -n "$gw_pre" ] || fail "no ExecStartPre=+ (the key file's check, as root) in $unit"
gw_exec=${gw_exec//%d/$gw_cred}
gw_port=$(sed -n 's/^GATEWAY_LISTEN=.*:\([0-9]*\)$/\1/p' "$gw_default")
[ -n "$gw_port" ] || fail "$gw_default has no GATEWAY_LISTEN=ADDR:PORT"

# gw_run KEYFILE: in NS_S, what systemd does for the unit: a private /tmp
# and /run, KEYFILE copied to the credentials directory (owned by the
# service's user, mode 0400), then as that user, with no capability, no
# new privileges and only the unit's environment: ExecStart.
# shellcheck disable=SC2016 # the inner shells expand them
gw_sandbox='set -e
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p "$1"
cp "$2" "$1/gateway.keys"
chown -R "$3:$3" "$1"
chmod 0400 "$1/gateway.keys"
chmod 0500 "$1"
mount -t tmpfs -o mode=1777 tmpfs /tmp
cd /
exec setpriv --reuid="$3" --regid="$3" --clear-groups --no-new-privs \
	--inh-caps=-all --bounding-set=-all \
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	CREDENTIALS_DIRECTORY="$1" bash -c "$4" - "$5" "$6" "$7"'
# shellcheck disable=SC2016
gw_systemd_env='set -a
eval "$1"
if [ -r "$2" ]; then . "$2"; fi
set +a
eval "exec $3"'
gw_run() { # KEYFILE: sets gw_cmd, the command line for nsrun/bg_start
	gw_cmd=(unshare --mount --propagation private bash -c "$gw_sandbox" - "$gw_cred" "$1"
		"$gw_uid" "$gw_systemd_env" "$gw_envline" "$gw_default" "$gw_exec")
}

# gw_pre_run NAME EXPECTED-STATUS PATTERN: ExecStartPre, as systemd runs
# it ("+": as root, unconfined, in the unit's environment).
gw_pre_run() {
	local rc=0
	timeout 30 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -c "$gw_systemd_env" - \
		"$gw_envline" "$gw_default" "$gw_pre" >"$T_DIR/gw-$1.log" 2>&1 || rc=$?
	[ "$rc" = "$2" ] || fail "ExecStartPre with $1 exited $rc, not $2: $(cat "$T_DIR/gw-$1.log")"
	grep -q "$3" "$T_DIR/gw-$1.log" ||
		fail "ExecStartPre with $1 did not say '$3': $(cat "$T_DIR/gw-$1.log")"
	say "$1: $(head -n 1 "$T_DIR/gw-$1.log")"
}
# The administrator's key file, in the overlay (removed before the purge:
# it is theirs, not the package's).
mkdir -p "$(dirname "$gw_keys")"
(umask 077 && printf '# no key yet\n' >"$gw_keys")
gw_pre_run "no key" 2 "^mptcpshim-gateway: --key-file $gw_keys: no key in it$"
/usr/sbin/mptcpshim-gateway --gen-key deb-check >>"$gw_keys" || fail "mptcpshim-gateway --gen-key failed"
chmod 0644 "$gw_keys"
gw_pre_run "a key readable by all" 2 "^mptcpshim-gateway: --key-file $gw_keys: .*mode 644"
chmod 0600 "$gw_keys"
gw_pre_run "a key" 0 "$gw_keys: 1 client key"

# Then ExecStart, with the credential: it listens, as that user, confined,
# under the installed library.
gw_run "$gw_keys"
bg_start gw plain "$NS_S" "${gw_cmd[@]}"
gwpid=$BG_PID
wait_listen "$NS_S" "$gw_port" 30
gw_pid=$(ip netns exec "$NS_S" ss -ltnpH "sport = :$gw_port" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)
[ -n "$gw_pid" ] || fail "cannot tell which process listens on port $gw_port"
grep -q "^Uid:[[:space:]]*${gw_uid}[[:space:]]" "/proc/$gw_pid/status" ||
	fail "the gateway does not run as uid $gw_uid: $(grep '^Uid' "/proc/$gw_pid/status")"
grep -q '^CapBnd:[[:space:]]*0*$' "/proc/$gw_pid/status" || fail "the gateway kept capabilities"
grep -qF "$lib" "/proc/$gw_pid/maps" || fail "the gateway does not run under $lib"
grep -q "listening on 0.0.0.0:$gw_port: 1 client key" "$T_DIR/bg-gw.log" ||
	fail "the gateway does not say it listens: $(cat "$T_DIR/bg-gw.log")"
kill "$gwpid"
bg_wait "$gwpid" 20 || true
say "with a key: $(grep -m 1 'listening on' "$T_DIR/bg-gw.log")"
rm -f "$gw_keys"
