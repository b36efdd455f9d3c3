#!/bin/bash
# check_deb.sh: the Debian packages build from the distribution tree
# (`make distdir`, what `make dist` tars up), lintian finds no error in them,
# and once installed they work on their own: the installed launcher preloads
# the installed library from the multiarch libdir, and a shim<->shim transfer
# between two network namespaces through them only is byte-exact and really
# multipath.  The gateway's unit passes `systemd-analyze verify` and the
# daemon, run as the unit runs it, waits for a key (check_deb_gateway.sh).
# Purging them then leaves nothing behind.
#
# Where they are installed: into the real system's dpkg, but seen through a
# private copy-on-write layer.  The second half of this script runs in its
# own mount namespace, where an overlay with a tmpfs upper layer covers
# /usr, /etc and /var: `dpkg -i` there is the real dpkg with the real
# database, resolving the real dependencies (libev4, libssl3), yet nothing
# it writes reaches the host, even if the test dies half-way, and it never
# waits for (or blocks) an apt run on the host.  The upper layer also holds
# exactly what installing and purging changed, which is what "nothing left
# behind" is checked against.  A scratch root for `dpkg --root` would need
# a whole base system unpacked first; the real system, unprotected, is too
# intrusive on a developer's machine.
#
# Needs root (mount and network namespaces) and dpkg-buildpackage
# (scripts/install-deps.sh installs it): exits 77 without them.
# T_KEEP=1 keeps the scratch directory (the packages, the build log).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
fail() {
	echo "FAIL [check_deb]: $*" >&2
	exit 1
}
say() { printf '[check_deb %s] %s\n' "$(date +%T)" "$*" >&2; }

# --- second half: install, use, purge (in a private mount namespace) ---------
if [ "${1:-}" = --inside ]; then
	work=$2
	ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	lib=/usr/lib/$ma/libmptcpshim.so
	pkgs="libmptcpshim mptcpshim mptcpshim-gateway"
	unit=/lib/systemd/system/mptcpshim-gateway.service
	for d in usr etc var; do
		# The host's view, kept aside to tell the directories that were
		# there before (/usr/bin) from those the packages made.
		mkdir -p "$work/lower/$d"
		mount --bind "/$d" "$work/lower/$d"
	done
	mkdir "$work/ovl"
	mount -t tmpfs tmpfs "$work/ovl"
	for d in usr etc var; do
		mkdir -p "$work/ovl/$d.up" "$work/ovl/$d.work"
		mount -t overlay overlay \
			-o "lowerdir=/$d,upperdir=$work/ovl/$d.up,workdir=$work/ovl/$d.work" "/$d"
	done

	# man-db's trigger would rebuild the whole manual page index twice
	# (install, purge): tens of seconds for nothing tested here.  Turned
	# off in the overlay only.
	rm -f /var/lib/man-db/auto-update
	say "dpkg -i (in the overlay)"
	debs=("$work"/libmptcpshim_*.deb "$work"/mptcpshim_*.deb "$work"/mptcpshim-gateway_*.deb)
	dpkg -i "${debs[@]}" >"$work/dpkg.log" 2>&1 ||
		{ cat "$work/dpkg.log" >&2; fail "dpkg -i failed"; }
	# shellcheck disable=SC2086 # $pkgs is a list of names
	dpkg -L $pkgs | sort -u >"$work/files"
	for f in "$lib" /usr/bin/mptcpshim /usr/share/man/man1/mptcpshim.1.gz \
		/usr/share/man/man7/libmptcpshim.7.gz /usr/sbin/mptcpshim-gateway \
		/usr/share/man/man8/mptcpshim-gateway.8.gz "$unit" /etc/default/mptcpshim-gateway; do
		grep -qxF "$f" "$work/files" || fail "the packages do not install $f"
		[ -f "$f" ] || fail "$f is listed by dpkg -L but not installed"
	done

	# The installed launcher, with nothing to guide it, uses the
	# installed library, and says the package's version.
	unset MPTCPSHIM_LIBRARY LD_PRELOAD
	# shellcheck disable=SC2016 # the inner shell expands it
	out=$(/usr/bin/mptcpshim -- sh -c 'echo "$LD_PRELOAD"') || fail "the installed launcher did not run"
	[ "$out" = "$lib" ] || fail "the installed launcher preloads '$out', not $lib"
	pkgver=$(dpkg-query -W -f '${Version}' mptcpshim)
	upver=${pkgver#*:}
	upver=${upver%-*}
	out=$(/usr/bin/mptcpshim --version)
	[ "$out" = "mptcpshim $upver" ] || fail "mptcpshim --version says '$out'; the package is $pkgver"
	# The ldconfig trigger ran (ld.so.cache names the library; on a
	# merged /usr it says /lib/<triplet>/), and ld.so finds the library
	# by its bare name.
	ldconfig -p | grep -q '=> .*/libmptcpshim\.so$' ||
		fail "ld.so.cache does not list libmptcpshim.so after dpkg -i: no ldconfig trigger?"
	LD_PRELOAD=libmptcpshim.so cat /proc/self/maps >"$work/maps" 2>"$work/maps.err" || true
	grep -qF "$lib" "$work/maps" ||
		fail "LD_PRELOAD=libmptcpshim.so does not load $lib: $(cat "$work/maps.err")"

	# A transfer through the installed files only.
	export SHIM="/usr/bin/mptcpshim --"
	# shellcheck source-path=SCRIPTDIR source=integration/lib.sh
	. "$top_srcdir/tests/integration/lib.sh"
	T_TIMEOUT=240
	tb_init deb
	require_shim
	tb_setup 1
	# shellcheck disable=SC2128 # tb_setup sets S4 to one address
	srv=$S4
	mkrand "$T_DIR/in" $((4 * 1024 * 1024))
	next_port
	T_ENV=(MPTCPSHIM_LOG=info "MPTCPSHIM_LOG_FILE=$T_DIR/shim-srv.log")
	bg_start srv shim "$NS_S" socat -u "TCP4-LISTEN:$PORT,bind=$srv,reuseaddr" "CREATE:$T_DIR/out"
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	T_ENV=(MPTCPSHIM_LOG=info "MPTCPSHIM_LOG_FILE=$T_DIR/shim-cli.log")
	nsrun shim "$NS_C" socat -u "OPEN:$T_DIR/in" "TCP4:$srv:$PORT" || fail "client socat exited $?"
	T_ENV=()
	bg_wait "$spid" 60 || fail "server socat exited $?"
	same_file "shim<->shim through the installed packages" "$T_DIR/in" "$T_DIR/out"
	for end in cli srv; do
		grep -qi 'subflow.*established' "$T_DIR/shim-$end.log" ||
			fail "the $end's shim log (info) has no 'subflow ... established' line: not shim<->shim?"
	done

	# shellcheck source-path=SCRIPTDIR source=check_deb_gateway.sh
	. "$top_srcdir/tests/check_deb_gateway.sh"

	say "dpkg --purge"
	dpkg --purge mptcpshim-gateway mptcpshim libmptcpshim >>"$work/dpkg.log" 2>&1 ||
		{ cat "$work/dpkg.log" >&2; fail "dpkg --purge failed"; }
	# shellcheck disable=SC2086 # $pkgs is a list of names
	if dpkg-query -W -f '${db:Status-Status}\n' $pkgs 2>/dev/null | grep -qv '^not-installed$'; then
		fail "dpkg still knows the packages after --purge"
	fi
	# Every path the packages listed is gone, but for directories that
	# were there before.
	left=0
	while read -r f; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		# (/lib is /usr/lib on a merged /usr.)
		real=$(readlink -f "$f")
		if [ -d "$f" ] && [ -d "$work/lower$real" ]; then
			continue
		fi
		echo "left behind: $f" >&2
		left=1
	done <"$work/files"
	# Nothing anywhere that the install and purge wrote names mptcpshim
	# (whiteouts, character devices, only mark removals).
	find "$work/ovl" ! -type c -iname '*mptcpshim*' >"$work/found"
	if [ -s "$work/found" ]; then
		sed 's/^/left behind (overlay): /' "$work/found" >&2
		left=1
	fi
	if ldconfig -p | grep -q '=> .*/libmptcpshim\.so$'; then
		echo "left behind: libmptcpshim.so in ld.so.cache" >&2
		left=1
	fi
	[ "$left" = 0 ] || fail "purging the packages left files behind"
	say "PASS: installed, transferred, purged ($(wc -l <"$work/files") paths checked)"
	exit 0
fi

# --- first half: build the packages -----------------------------------------
command -v dpkg-buildpackage >/dev/null ||
	{ echo "SKIP: dpkg-buildpackage not installed (package dpkg-dev; scripts/install-deps.sh installs it)"; exit 77; }
[ "$(id -u)" = 0 ] ||
	{ echo "SKIP: needs root (mount and network namespaces)"; exit 77; }
command -v unshare >/dev/null || fail "unshare (util-linux) not found"

work=$(mktemp -d "${TMPDIR:-/tmp}/mptcpshim-deb.XXXXXX")
cleanup() {
	if [ "${T_KEEP:-0}" = 1 ]; then
		echo "check_deb: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
t0=$SECONDS

# Run make on its own, not as a child of the test harness's parallel make.
unset MAKEFLAGS MFLAGS MAKELEVEL
make -s -C "$top_builddir" distdir distdir="$work/src" >"$work/distdir.log" 2>&1 ||
	{ cat "$work/distdir.log" >&2; fail "make distdir failed"; }
# Under distcheck the tree is read-only and so is its copy.
chmod -R u+w "$work/src"
# Every file of debian/ in git is in the distribution (EXTRA_DIST lists
# them one by one, so that a build in the tree adds nothing to it).
if git -C "$top_srcdir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	for f in $(git -C "$top_srcdir" ls-files debian); do
		[ -f "$work/src/$f" ] || fail "$f is not in the distribution: add it to EXTRA_DIST in Makefile.am"
	done
fi

say "dpkg-buildpackage -us -uc -b (nocheck: the unit tests run in this suite already)"
tb=$SECONDS
(cd "$work/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
	dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 ||
	{ tail -n 60 "$work/build.log" >&2; fail "dpkg-buildpackage failed (log: $work/build.log with T_KEEP=1)"; }
say "packages built in $((SECONDS - tb)) s: $(cd "$work" && echo ./*.deb)"

if command -v lintian >/dev/null; then
	tl=$SECONDS
	lintian --fail-on error "$work"/*.changes >"$work/lintian.log" 2>&1 ||
		{ cat "$work/lintian.log" >&2; fail "lintian found errors"; }
	say "lintian: no errors in $((SECONDS - tl)) s ($(grep -c '^[WIPX]:' "$work/lintian.log" || true) warnings/notes)"
	sed 's/^/    /' "$work/lintian.log" >&2
else
	say "lintian not installed: the packages were not checked with it"
fi

unshare --mount --propagation private bash "$0" --inside "$work" || exit $?
say "PASS in $((SECONDS - t0)) s"
