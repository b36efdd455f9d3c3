#!/bin/sh
# run.sh - build the libFuzzer harnesses (tests/fuzz/fuzz.mk) and run each
# for FUZZ_SECONDS (default 3: fourteen harnesses, and the suite must stay
# under 15 minutes on 2 cores) on a scratch copy of its seed corpus.
# Fails on any crash, property violation or sanitizer report, naming the
# reproducer.  Skips (77) only when clang or its libFuzzer runtime is
# missing: scripts/install-deps.sh installs both (clang, libclang-rt-14-dev).
set -u

if [ -z "${top_srcdir-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}

clang=$(command -v clang || command -v clang-14) || {
	echo "SKIP: clang is not installed (scripts/install-deps.sh installs it)"
	exit 77
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzzprobe.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' \
	>"$tmp/p.c"
if ! "$clang" -fsanitize=fuzzer,address,undefined "$tmp/p.c" -o "$tmp/p" 2>"$tmp/err"; then
	cat "$tmp/err"
	echo "SKIP: $clang cannot link libFuzzer (install libclang-rt-14-dev)"
	exit 77
fi

# nice: the fuzzers are CPU-bound and run beside timing-sensitive tests.
nice -n 10 make -s -f "$top_srcdir/tests/fuzz/fuzz.mk" CLANG="$clang" \
	top_srcdir="$top_srcdir" top_builddir="$top_builddir" \
	FUZZ_SECONDS="${FUZZ_SECONDS:-3}" run
