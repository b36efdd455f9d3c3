#!/usr/bin/env bash
# test.sh - install the dependencies, build, and run the whole test suite
# (unit tests, man page check, integration tests).  Exits with make check's
# status: 0 only if the suite passed.  Extra arguments go to make check,
# e.g. ./scripts/test.sh TESTS=tests/unit/check_frame
#
# Without arguments (or with SANITIZERS=1; SANITIZERS=0 skips it), a
# second copy of the tree is built in a scratch directory with
# ./configure --enable-sanitizers (ASan + UBSan) and its unit tests run,
# both in the background beside make check (the tests at the lowest
# priority); MPS_ASAN_BUILDDIR names it for tests/integration/asan.sh,
# which waits for the build (MPS_ASAN_READY); the fuzz harnesses
# (tests/fuzz/run.sh, FUZZ_SECONDS each) run beside make check too.  A
# failure there fails test.sh too.
#
#   sudo ./scripts/test.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh --build

# --- sanitizer build: a scratch copy of the tree (an in-tree configured
# source directory cannot host a VPATH build) -------------------------------
san_status=0
san_run=${SANITIZERS:-auto}
[ "$san_run" = auto ] && { [ $# -eq 0 ] && san_run=1 || san_run=0; }
if [ "$san_run" = 1 ]; then
	san_t0=$SECONDS
	san_dir=$(mktemp -d "${TMPDIR:-/tmp}/mptcpshim-asan.XXXXXX")
	trap 'rm -rf "$san_dir"' EXIT
	echo "test.sh: sanitizer build (ASan + UBSan) in $san_dir"
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		# tracked and new (not ignored) files, as they are in the work tree
		git ls-files -z -co --exclude-standard |
			tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$san_dir"
		# and what autoreconf generated here (tar keeps the times, so
		# make sees it up to date): saves running it again
		tar -cf - configure Makefile.in aclocal.m4 config.h.in build-aux m4 2>/dev/null |
			tar -xf - -C "$san_dir" || true
		san_conf=(sh -c '{ [ -x configure ] || autoreconf -fi; } && ./configure --enable-sanitizers')
	else
		rm -rf "$san_dir" && make distdir distdir="$san_dir" >/dev/null
		san_conf=(./configure --enable-sanitizers)
	fi
	# The build and then its unit tests run in the background beside make
	# check (CPU work only: no network, no timing); tests/integration/
	# asan.sh, late in the suite, waits for the build's status file
	# (MPS_ASAN_READY).  Built first, one after the other, the suite took
	# 14m48s on a slower machine of this kind (the build 59 s of it).
	# The unit tests at the lowest priority, which kept the suite under
	# its 15 minutes once it had grown (run after make check, the two took
	# 15m10s); ASan makes them slower: Check's per-test timeouts x 10.
	# shellcheck disable=SC2016 # $(UNIT_TESTS) is make's to expand
	(
		cd "$san_dir" || exit 1
		if "${san_conf[@]}" >build.log 2>&1 && nice -n 5 make -j2 >>build.log 2>&1; then
			echo 0 >build.rc
			echo "test.sh: sanitizer build done in $((SECONDS - san_t0)) s; its unit tests run beside make check"
			CK_TIMEOUT_MULTIPLIER=10 nice -n 19 make -j2 check \
				TESTS='$(UNIT_TESTS)' >unit-tests.out 2>&1
			echo $? >unit-tests.rc
		else
			echo 1 >build.rc
			echo 1 >unit-tests.rc
		fi
	) &
	san_pid=$!
	export MPS_ASAN_BUILDDIR=$san_dir MPS_ASAN_READY=$san_dir/build.rc
fi

# --- the fuzz harnesses (tests/fuzz/run.sh, FUZZ_SECONDS each), beside make
# check too, when the sanitizer build runs (no arguments): CPU work only.
# As one of make check's two test slots it held that slot ~2.5 min while,
# at nice 10, it mostly waited for the CPU (the suite took 14m48s on a
# slower machine of this kind).
fuzz_pid=
if [ "$san_run" = 1 ]; then
	fuzz_log=$(mktemp "${TMPDIR:-/tmp}/mptcpshim-fuzz.XXXXXX")
	(
		rc=0
		sh tests/fuzz/run.sh >"$fuzz_log" 2>&1 || rc=$?
		echo "$rc" >"$fuzz_log.rc"
	) &
	fuzz_pid=$!
fi

# A summary left by an earlier run must not pass for this one's.
rm -f test-suite.log
status=0
make -j2 check "$@" || status=$?

if [ "$status" -ne 0 ]; then
	# The parallel test harness puts the log of every failed test into
	# test-suite.log; print it so a CI log alone explains the failure.
	echo "test.sh: make check failed (status $status)" >&2
	if [ -f test-suite.log ]; then
		echo "===== test-suite.log =====" >&2
		cat test-suite.log >&2
	else
		echo "test.sh: no test-suite.log: the tests did not run (see the build errors above)" >&2
	fi
fi

if [ -n "${san_pid-}" ]; then
	wait "$san_pid" || true
	if [ "$(cat "$san_dir/build.rc" 2>/dev/null)" != 0 ]; then
		tail -n 40 "$san_dir/build.log" >&2
		echo "test.sh: the sanitizer build failed" >&2
	fi
	san_status=$(cat "$san_dir/unit-tests.rc" 2>/dev/null || echo 1)
	grep -E '^(PASS|FAIL|ERROR|SKIP|XPASS):' "$san_dir/unit-tests.out" | sed 's/^/sanitizer build: /' || true
	if [ "$san_status" -ne 0 ]; then
		echo "===== sanitizer build: unit tests =====" >&2
		tail -n 40 "$san_dir/unit-tests.out" >&2 || true
		echo "===== sanitizer build: test-suite.log =====" >&2
		cat "$san_dir/test-suite.log" >&2 || true
	fi
	echo "test.sh: sanitizer build and unit tests: status $san_status ($((SECONDS - san_t0)) s, beside make check)"
fi
if [ "$san_status" -ne 0 ]; then
	echo "test.sh: the sanitizer build or its unit tests failed (status $san_status)" >&2
	[ "$status" -ne 0 ] || status=$san_status
fi
if [ -n "$fuzz_pid" ]; then
	wait "$fuzz_pid" || true
	fuzz_status=$(cat "$fuzz_log.rc" 2>/dev/null || echo 1)
	grep -E '^fuzz: (all passed|FAIL)|^SKIP' "$fuzz_log" || true
	echo "test.sh: fuzz harnesses (tests/fuzz/run.sh): status $fuzz_status"
	if [ "$fuzz_status" -ne 0 ]; then
		# a skip (77: clang missing) fails too: install-deps.sh installs it
		echo "===== fuzz harnesses =====" >&2
		tail -n 80 "$fuzz_log" >&2
		[ "$status" -ne 0 ] || status=1
	fi
	rm -f "$fuzz_log" "$fuzz_log.rc"
fi
exit "$status"
