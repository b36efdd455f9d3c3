#!/bin/bash
# check_launcher.sh: the launcher (tools/mptcpshim) and the library's
# secure-execution rule, as issue 5 ("Launcher") asks.  No network
# namespace: nothing here carries data (secprobe connects to itself on
# 127.0.0.1).  Every program run is built here, in a temp dir.
#   version    --version prints "mptcpshim VERSION", VERSION the configured
#              one (read from the Makefile, not from the launcher)
#   help       -h and --help: usage on stdout, exit 0; an unknown option or
#              no command: usage on stderr, exit 2, the program not run
#   preload    an existing LD_PRELOAD is kept after the library (space- and
#              colon-separated lists, unset, empty), a library already
#              listed is not loaded twice, and ld.so really maps every one
#              of them into the program (/proc/self/maps)
#   setuid     setuid and setgid copies of a program (by path and found in
#              PATH) are refused: non-zero exit, a message naming the file,
#              the program not run
#   static     a statically linked program (cc -static) runs, with its exit
#              status, and the launcher warns that it cannot be made
#              multipath; a dynamic one gets no warning
#   go         the same for a Go program: a C program carrying Go's
#              build-info marker (what the launcher looks for; CI has no Go
#              toolchain)
#   secure     the library itself, linked into tests/progs/secprobe.c:
#              run plainly it takes the connection and honours
#              MPTCPSHIM_LOG_FILE; run setuid (root -> nobody) and with file
#              capabilities (as nobody) the kernel sets AT_SECURE, and the
#              connection must stay plain TCP and the log file must not be
#              created (the environment is ignored)
#   filecap    a program with file capabilities (setcap) is refused like a
#              setuid one, with a message naming it and its capabilities
# Sub-cases (T_ONLY=REGEX): version help preload setuid static go secure
#   filecap
# A && B || fail: fails when either check does; sh -c scripts are quoted.
# shellcheck disable=SC2015,SC2016
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

: "${top_builddir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
: "${CC:=cc}"
LAUNCHER="$top_builddir/tools/mptcpshim"
unset MPTCPSHIM_LIBRARY MPTCPSHIM_LOG MPTCPSHIM_LOG_FILE MPTCPSHIM_PEERS MPTCPSHIM_DISABLE
unset LD_PRELOAD

failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
die() {
	echo "FAIL: $*" >&2
	exit 1
}
# ok MSG: MSG, only if this section failed nothing (sections start with
# "f0=$failures").
ok() { [ "$failures" != "$f0" ] || echo "ok: $*"; }
f0=0
selected() { [ -z "${T_ONLY:-}" ] || [[ $1 =~ $T_ONLY ]]; }

# chown to nobody and setcap need root, as the namespace tests do
[ "$(id -u)" = 0 ] || { echo "SKIP: check_launcher.sh needs root (chown, setcap)"; exit 77; }
[ -x "$LAUNCHER" ] || die "$LAUNCHER not built (make builds it)"
[ -f "$top_builddir/.libs/libmptcpshim.so" ] || die "the library is not built"
# the library the build tree's launcher uses (it resolves symlinks too)
LIB="$(cd "$top_builddir/.libs" && pwd -P)/libmptcpshim.so"
VERSION=$(sed -n 's/^VERSION = //p' "$top_builddir/Makefile")
[ -n "$VERSION" ] || die "no VERSION in $top_builddir/Makefile"

T=$(mktemp -d "${TMPDIR:-/tmp}/check_launcher.XXXXXX")
trap 'rm -rf "$T"' EXIT
# secprobe runs as nobody: it must reach its library and its log dir
chmod 755 "$T"
mkdir -m 1777 "$T/logs"

# run NAME CMD...: run CMD, stdout in $T/NAME.out, stderr in $T/NAME.err,
# the exit status in RC.
run() {
	local name=$1
	shift
	RC=0
	"$@" >"$T/$name.out" 2>"$T/$name.err" || RC=$?
}

# The programs: hello exits with status 3 after printing a marker, so that
# "the launcher ran it" and "the launcher exited on its own" differ.
cat >"$T/hello.c" <<'EOF'
#include <stdio.h>
int main(void)
{
	puts("hello-ran");
	return 3;
}
EOF
cat >"$T/gohello.c" <<'EOF'
#include <stdio.h>
/* The marker the Go linker puts at the start of .go.buildinfo. */
__attribute__((used, section(".go.buildinfo"))) static const char gobuildinfo[] =
	"\377 Go buildinf:\010\002";
int main(void)
{
	puts("hello-ran");
	return 3;
}
EOF
cat >"$T/other.c" <<'EOF'
int mptcpshim_check_launcher_other(void) { return 1; }
EOF
"$CC" -o "$T/hello" "$T/hello.c" || die "compiling hello.c"
"$CC" -o "$T/gohello" "$T/gohello.c" || die "compiling gohello.c"
"$CC" -shared -fPIC -o "$T/libother.so" "$T/other.c" || die "compiling libother.so"
cp "$T/libother.so" "$T/libother2.so"

# ran NAME WHAT: the program ran (its marker, its exit status 3).
ran() {
	grep -qx hello-ran "$T/$1.out" && [ "$RC" = 3 ] ||
		fail "$2: the program did not run as itself (exit $RC, stdout '$(cat "$T/$1.out")', stderr '$(cat "$T/$1.err")')"
}

# refused NAME WHAT FILE WORD: the launcher refused: non-zero exit other
# than the program's 3, the program never ran, a message naming FILE and
# WORD on stderr.
refused() {
	local name=$1 what=$2 file=$3 word=$4
	if [ "$RC" = 0 ] || [ "$RC" = 3 ] || grep -q hello-ran "$T/$name.out"; then
		fail "$what: not refused: the program ran (exit $RC, stdout '$(cat "$T/$name.out")')"
		return
	fi
	grep -qF "$file" "$T/$name.err" && grep -qi "$word" "$T/$name.err" ||
		fail "$what: refused (exit $RC) without a message naming $file and '$word': '$(cat "$T/$name.err")'"
}

if selected version; then
	f0=$failures
	run version "$LAUNCHER" --version
	[ "$RC" = 0 ] || fail "--version: exit $RC"
	[ "$(cat "$T/version.out")" = "mptcpshim $VERSION" ] ||
		fail "--version printed '$(cat "$T/version.out")', want 'mptcpshim $VERSION'"
	[ ! -s "$T/version.err" ] || fail "--version wrote to stderr: $(cat "$T/version.err")"
	ok "version: mptcpshim $VERSION"
fi

if selected help; then
	f0=$failures
	for h in -h --help; do
		run help "$LAUNCHER" "$h" "$T/hello"
		[ "$RC" = 0 ] || fail "$h: exit $RC"
		head -n 1 "$T/help.out" | grep -q '^Usage: mptcpshim ' ||
			fail "$h: no usage line on stdout: $(head -n 1 "$T/help.out")"
		for o in --debug --log --log-file --peers --disable --help --version; do
			grep -q -- "$o" "$T/help.out" || fail "$h: the usage does not mention $o"
		done
		grep -q hello-ran "$T/help.out" && fail "$h: the program ran"
		[ ! -s "$T/help.err" ] || fail "$h wrote to stderr: $(cat "$T/help.err")"
	done
	run bad "$LAUNCHER" --no-such-option "$T/hello"
	[ "$RC" = 2 ] || fail "unknown option: exit $RC, want 2"
	grep -q 'no-such-option' "$T/bad.err" && grep -q '^Usage: mptcpshim ' "$T/bad.err" ||
		fail "unknown option: no message and usage on stderr: $(cat "$T/bad.err")"
	grep -q hello-ran "$T/bad.out" && fail "unknown option: the program ran"
	run nocmd "$LAUNCHER"
	[ "$RC" = 2 ] || fail "no command: exit $RC, want 2"
	grep -q '^Usage: mptcpshim ' "$T/nocmd.err" || fail "no command: no usage on stderr"
	ok "help: -h, --help, unknown option, no command"
fi

if selected preload; then
	f0=$failures
	# preload_is NAME WANT [VAR=VALUE]: LD_PRELOAD as the program sees it.
	preload_is() {
		local name=$1 want=$2
		shift 2
		run "$name" env "$@" "$LAUNCHER" sh -c 'printf "%s" "${LD_PRELOAD-(unset)}"'
		[ "$RC" = 0 ] || fail "preload $name: exit $RC: $(cat "$T/$name.err")"
		[ "$(cat "$T/$name.out")" = "$want" ] ||
			fail "preload $name: LD_PRELOAD='$(cat "$T/$name.out")', want '$want'"
	}
	preload_is unset "$LIB" -u LD_PRELOAD
	preload_is empty "$LIB" LD_PRELOAD=
	preload_is one "$LIB $T/libother.so" LD_PRELOAD="$T/libother.so"
	preload_is two "$LIB $T/libother.so $T/libother2.so" LD_PRELOAD="$T/libother.so $T/libother2.so"
	preload_is colon "$LIB $T/libother.so:$T/libother2.so" LD_PRELOAD="$T/libother.so:$T/libother2.so"
	preload_is already "$LIB $T/libother.so" LD_PRELOAD="$T/libother.so $LIB"
	preload_is already-colon "$LIB $T/libother.so $T/libother2.so" \
		LD_PRELOAD="$LIB:$T/libother.so:$T/libother2.so"
	# ld.so maps what that says, into the program itself
	run maps env LD_PRELOAD="$T/libother.so:$T/libother2.so" "$LAUNCHER" cat /proc/self/maps
	[ "$RC" = 0 ] || fail "preload maps: exit $RC: $(cat "$T/maps.err")"
	for l in "$LIB" "$T/libother.so" "$T/libother2.so"; do
		grep -qF "$l" "$T/maps.out" || fail "preload maps: $l is not mapped into the program"
	done
	[ ! -s "$T/maps.err" ] || fail "preload maps: ld.so complained: $(cat "$T/maps.err")"
	run maps2 env LD_PRELOAD="$LIB" "$LAUNCHER" cat /proc/self/maps
	n=$(grep -F "$LIB" "$T/maps2.out" | awk '{print $6}' | sort -u | wc -l)
	[ "$n" = 1 ] || fail "preload maps: the library is mapped from $n paths"
	ok "preload: an existing LD_PRELOAD is kept after the library, every entry loaded"
fi

if selected setuid; then
	f0=$failures
	mkdir -p "$T/bin"
	cp "$T/hello" "$T/bin/suidhello"
	chmod 4755 "$T/bin/suidhello"
	cp "$T/hello" "$T/bin/sgidhello"
	chmod 2755 "$T/bin/sgidhello"
	for p in suidhello sgidhello; do
		run "$p" "$LAUNCHER" "$T/bin/$p"
		refused "$p" "$p by path" "$T/bin/$p" 'set[ug]id'
		run "$p-path" env PATH="$T/bin:$PATH" "$LAUNCHER" "$p"
		refused "$p-path" "$p found in PATH" "$T/bin/$p" 'set[ug]id'
	done
	# the same program, unprivileged, runs
	run plainhello "$LAUNCHER" "$T/hello"
	ran plainhello "a dynamic program"
	ok "setuid: setuid and setgid programs refused, by path and through PATH"
fi

if selected static; then
	f0=$failures
	"$CC" -static -o "$T/statichello" "$T/hello.c" ||
		die "cc -static failed: libc.a comes with libc6-dev (build-essential)"
	run static "$LAUNCHER" "$T/statichello"
	ran static "static program"
	grep -qF "$T/statichello" "$T/static.err" && grep -q 'warning' "$T/static.err" &&
		grep -q 'statically linked' "$T/static.err" && grep -q 'multipath' "$T/static.err" ||
		fail "static program: no warning naming it: '$(cat "$T/static.err")'"
	"$CC" -static-pie -o "$T/spiehello" "$T/hello.c" || die "cc -static-pie failed"
	run spie "$LAUNCHER" "$T/spiehello"
	ran spie "static-pie program"
	grep -q 'statically linked' "$T/spie.err" ||
		fail "static-pie program: no warning: '$(cat "$T/spie.err")'"
	run dyn "$LAUNCHER" "$T/hello"
	ran dyn "dynamic program"
	[ ! -s "$T/dyn.err" ] || fail "dynamic program: the launcher warned: $(cat "$T/dyn.err")"
	ok "static: static and static-pie programs run with a warning, a dynamic one without"
fi

if selected go; then
	f0=$failures
	run go "$LAUNCHER" "$T/gohello"
	ran go "Go program"
	grep -qF "$T/gohello" "$T/go.err" && grep -q 'warning' "$T/go.err" &&
		grep -q 'Go program' "$T/go.err" && grep -q 'multipath' "$T/go.err" ||
		fail "Go program: no warning naming it: '$(cat "$T/go.err")'"
	ok "go: a Go program runs with a warning"
fi

if selected secure; then
	f0=$failures
	mkdir -p "$T/lib"
	cp "$LIB" "$T/lib/libmptcpshim.so"
	chmod 755 "$T/lib"
	# the library first, so its hooks come before libc's
	"$CC" -std=c11 -Wall -o "$T/secprobe" "$top_srcdir/tests/progs/secprobe.c" \
		-Wl,--no-as-needed "$T/lib/libmptcpshim.so" -Wl,-rpath,"$T/lib" ||
		die "compiling secprobe.c against the library"
	cp "$T/secprobe" "$T/secprobe-suid"
	chown 65534 "$T/secprobe-suid"
	chmod 4755 "$T/secprobe-suid"
	cp "$T/secprobe" "$T/secprobe-cap"
	chmod 755 "$T/secprobe-cap"
	command -v setcap >/dev/null || die "setcap not installed (libcap2-bin)"
	setcap cap_net_bind_service+ep "$T/secprobe-cap" || die "setcap failed"
	command -v setpriv >/dev/null || die "setpriv not installed (util-linux)"

	# secure_run NAME WANT CMD...: secprobe's line must be WANT, and the
	# log file $T/logs/NAME.log must exist (WANT secure=0) or not.
	secure_run() {
		local name=$1 want=$2
		shift 2
		run "sec-$name" env MPTCPSHIM_LOG=debug MPTCPSHIM_LOG_FILE="$T/logs/$name.log" "$@"
		[ "$RC" = 0 ] || fail "secure $name: secprobe failed ($RC): $(cat "$T/sec-$name.err")"
		[ "$(cat "$T/sec-$name.out")" = "$want" ] ||
			fail "secure $name: secprobe says '$(cat "$T/sec-$name.out")', want '$want'"
		case $want in
		secure=0*)
			[ -s "$T/logs/$name.log" ] ||
				fail "secure $name: the library did not log to MPTCPSHIM_LOG_FILE"
			;;
		*)
			[ ! -e "$T/logs/$name.log" ] ||
				fail "secure $name: the library honoured MPTCPSHIM_LOG_FILE: $(head -n 3 "$T/logs/$name.log")"
			;;
		esac
	}
	# the control: the probe can see the library at work
	secure_run plain "secure=0 domain=1" "$T/secprobe"
	secure_run nobody "secure=0 domain=1" setpriv --reuid=65534 --regid=65534 --clear-groups "$T/secprobe"
	secure_run setuid "secure=1 domain=2" "$T/secprobe-suid"
	secure_run filecap "secure=1 domain=2" setpriv --reuid=65534 --regid=65534 --clear-groups "$T/secprobe-cap"
	ok "secure: setuid and file-capability processes run with the library disabled and its environment ignored"
fi

if selected filecap; then
	f0=$failures
	cp "$T/hello" "$T/caphello"
	command -v setcap >/dev/null || die "setcap not installed (libcap2-bin)"
	setcap cap_net_bind_service+ep "$T/caphello" || die "setcap failed"
	run caphello "$LAUNCHER" "$T/caphello"
	refused caphello "file-capability program" "$T/caphello" 'capabilit'
	[ "$failures" = "$f0" ] && ok "filecap: a file-capability program is refused"
fi

if [ "$failures" -gt 0 ]; then
	echo "check_launcher: FAIL ($failures)"
	exit 1
fi
echo "check_launcher: PASS"
