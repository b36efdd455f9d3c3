#!/usr/bin/env bash
# install-deps.sh - install what mptcpshim needs to build, test and benchmark
# on Debian 12, then optionally build it and run the demo.  Idempotent: packages
# already installed are not asked for again, and a configured tree is not
# reconfigured (make's own rules regenerate whatever is out of date).
#
#   sudo ./scripts/install-deps.sh [--build] [--demo]
set -euo pipefail

PACKAGES=(
	# build
	build-essential autoconf automake libtool pkg-config libev-dev libssl-dev check
	# tests: namespaces, shaping, filtering, traffic
	iproute2 nftables iperf3 socat netcat-openbsd curl python3 file
	# tests: the launcher (tests/check_launcher.sh: setcap)
	libcap2-bin
	# tests: real programs under the shim (tests/integration/nginx.sh, apps_*.sh)
	nginx procps wget openssh-server openssh-client rsync redis-server redis-tools nodejs
	# tests: apache2 + wrk (fdlimits.sh), nginx + wrk (stale.sh)
	apache2 wrk
	# tests: FTP (tests/integration/ftp.sh)
	vsftpd
	# tests: PostgreSQL with pgbench (tests/integration/pgbench.sh, bench/pgbench)
	postgresql
	# benchmarks: latency, kernel MPTCP for comparison, plots
	sockperf mptcpd mptcpize gnuplot-nox
	# Debian packages (debian/, tests/check_deb.sh)
	debhelper dpkg-dev lintian
	# tests/check_deb.sh: systemd-analyze verify of the gateway's unit
	systemd
	# developer checks
	valgrind shellcheck clang-format
	# fuzzing: clang with libFuzzer (tests/fuzz, make fuzz)
	clang libclang-rt-14-dev
)

usage() {
	cat <<EOF
Usage: $0 [--build] [--demo]
Install the Debian packages mptcpshim needs (as root; nothing is asked for
when they are all installed already).
  --build   then build in the repository root: autoreconf -fi, ./configure
            (only when no Makefile exists yet), make -j2
  --demo    then run scripts/demo.sh (implies --build)
  -h, --help  show this help
EOF
}

build=0
demo=0
for arg in "$@"; do
	case $arg in
	--build) build=1 ;;
	--demo) build=1 demo=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "install-deps.sh: unknown argument '$arg'" >&2
		usage >&2
		exit 2
		;;
	esac
done

root=$(cd "$(dirname "$0")/.." && pwd)

# --- packages -------------------------------------------------------------------
missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps.sh: all ${#PACKAGES[@]} packages are installed"
else
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps.sh: must run as root to install: ${missing[*]}" >&2
		exit 1
	fi
	echo "install-deps.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- build ----------------------------------------------------------------------
if [ "$build" = 1 ]; then
	cd "$root"
	if [ ! -f Makefile ]; then
		# First build of this tree.  Once a Makefile exists, the rebuild
		# rules automake puts in it rerun autoconf, automake and configure
		# (keeping the options it was configured with) when configure.ac or
		# a Makefile.am changes, so there is nothing to redo by hand here.
		echo "install-deps.sh: autoreconf -fi && ./configure"
		autoreconf -fi
		./configure
	fi
	echo "install-deps.sh: make -j2"
	make -j2
fi

# --- demo -----------------------------------------------------------------------
if [ "$demo" = 1 ]; then
	cd "$root"
	if [ ! -f scripts/demo.sh ]; then
		echo "install-deps.sh: scripts/demo.sh not found" >&2
		exit 1
	fi
	echo "install-deps.sh: running scripts/demo.sh"
	exec bash scripts/demo.sh
fi
