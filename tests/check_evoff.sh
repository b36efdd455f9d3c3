#!/bin/sh
# check_evoff.sh - every libev start in the core goes through evoff.h.
#
# The app-thread send path (src/direct.c) runs engine code on an app
# thread while the shim thread sleeps in epoll_wait; a watcher or timer
# started then takes effect only once the loop wakes, so evoff.h wraps
# ev_io_start, ev_timer_start, ev_timer_again... to mark such a start, and
# the engine lock's release wakes the loop, or arms its timerfd for a
# timer (docs/DESIGN.md section 3).  A
# core file that calls one of them without the wrappers in effect (it
# included <ev.h> but not evoff.h) would start it silently.  This
# preprocesses each src/*.c that names one and fails when the wrapper's
# mark is not in the result.  Fails too when no file was checked.
set -u
if [ -z "${top_srcdir-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "SKIP: no C compiler ($CC)"; exit 77; }
n=0 bad=""
for f in "$top_srcdir"/src/*.c; do
	grep -qE 'ev_(io|timer|idle|check|prepare|async)_start|ev_timer_again|ev_feed_event' "$f" || continue
	n=$((n + 1))
	out=$("$CC" -E -DHAVE_CONFIG_H -I"$top_builddir" -I"$top_srcdir" -I"$top_srcdir/include" \
		-I"$top_srcdir/src" "$f" 2>&1) || { echo "check_evoff: cannot preprocess $f"; echo "$out" | tail -n 3; exit 1; }
	printf '%s\n' "$out" | grep -q mps_evoff_touch || bad="$bad ${f##*/}"
done
if [ "$n" -eq 0 ]; then
	echo "check_evoff: no core file starts a libev watcher: the check looked in the wrong place"
	exit 1
fi
if [ -n "$bad" ]; then
	echo "check_evoff: these files start libev watchers without evoff.h's wrappers:$bad"
	echo "check_evoff: include \"mptcpshim/evoff.h\" after <ev.h> (or a header that does)"
	exit 1
fi
echo "check_evoff: ok: $n core files start libev watchers, all through evoff.h"
