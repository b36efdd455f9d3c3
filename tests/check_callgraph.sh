#!/bin/sh
# check_callgraph.sh: the core's module graphs (includes and calls, see
# scripts/callgraph and docs/DESIGN.md section 1, "Layers") have no
# cycle.  A call up from a lower module goes through a table the higher
# one registers; this fails when one is named directly again.
if [ -z "${top_srcdir-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
command -v nm >/dev/null || { echo "SKIP: nm is not installed (binutils)"; exit 77; }
exec "$top_srcdir/scripts/callgraph" --builddir "$top_builddir" --check
