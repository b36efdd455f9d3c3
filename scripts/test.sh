#!/usr/bin/env bash
# test.sh - install the dependencies, build, and run the whole test suite
# (unit tests, man page check, integration tests).  Exits with make check's
# status: 0 only if the suite passed.  Extra arguments go to make check,
# e.g. ./scripts/test.sh TESTS=tests/unit/check_frame
#
#   sudo ./scripts/test.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh --build

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

exit "$status"
