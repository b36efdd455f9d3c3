#!/bin/bash
# warnonce.sh: a bad MPTCPSHIM_* value is reported once per command, even by
# programs that never open a socket, however many processes and execs the
# command runs (a wrapper script exec'ing children: 35 warnings once).
#   scheduler  MPTCPSHIM_SCHEDULER=bogus, a wrapper script that forks and
#              execs shells, a python child and exec's a last one: exactly
#              one warning;
#   sndbuf     MPTCPSHIM_SNDBUF=10 and `true`: exactly one warning;
#   added      a child adds a second bad variable: that one is reported
#              once more, the first is not repeated;
#   again      the launcher run again by the wrapper (a new command): the
#              warning comes again, once.
# No network: runs on the host, nothing listens or connects.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${T_TIMEOUT:=60}"
tb_init warnonce
require_shim
shim_enabled || skip "nothing to check without the shim"
D=$T_DIR
L=${SHIM_CMD[0]}

# count WHAT FILE: lines of FILE that warn about WHAT
count() { grep -c "config: ignoring $1=" "$2" || true; }

cat >"$D/wrap.sh" <<WEOF
#!/bin/sh
for i in 1 2 3 4 5; do sh -c 'true; ls / >/dev/null'; done
$PY -c 'import subprocess; subprocess.run(["true"]); subprocess.run(["sh", "-c", "true"])'
sh -c 'exec sh -c true' &
wait
exec sh -c 'true'
WEOF
chmod +x "$D/wrap.sh"

step "scheduler: a wrapper script with a dozen processes and execs"
MPTCPSHIM_SCHEDULER=bogus MPTCPSHIM_LOG=warn "$L" -- "$D/wrap.sh" 2>"$D/sched.err" ||
	fail "scheduler: the wrapper failed"
n=$(count MPTCPSHIM_SCHEDULER "$D/sched.err")
log "scheduler: $n warning(s)"
[ "$n" = 1 ] || {
	cat "$D/sched.err" >&2
	fail "scheduler: $n warnings for one command, want 1"
}

step "sndbuf: MPTCPSHIM_SNDBUF=10 true"
MPTCPSHIM_SNDBUF=10 "$L" -- true 2>"$D/sndbuf.err" || fail "sndbuf: true failed"
n=$(count MPTCPSHIM_SNDBUF "$D/sndbuf.err")
[ "$n" = 1 ] || {
	cat "$D/sndbuf.err" >&2
	fail "sndbuf: $n warnings, want 1"
}

step "added: a child adds a second bad value"
MPTCPSHIM_SCHEDULER=bogus "$L" -- sh -c 'MPTCPSHIM_OUTAGE_TIMEOUT=0 sh -c "true; sh -c true"; true' \
	2>"$D/added.err" || fail "added: failed"
a=$(count MPTCPSHIM_SCHEDULER "$D/added.err")
b=$(count MPTCPSHIM_OUTAGE_TIMEOUT "$D/added.err")
[ "$a" = 1 ] && [ "$b" = 1 ] || {
	cat "$D/added.err" >&2
	fail "added: $a scheduler and $b outage-timeout warnings, want 1 and 1"
}

step "again: the launcher run anew inside the command"
MPTCPSHIM_SCHEDULER=bogus "$L" -- sh -c "true; \"$L\" -- true" 2>"$D/again.err" || fail "again: failed"
n=$(count MPTCPSHIM_SCHEDULER "$D/again.err")
[ "$n" = 2 ] || {
	cat "$D/again.err" >&2
	fail "again: $n warnings for two commands, want 2"
}
log "PASS"
