#!/bin/bash
# procmodels.sh: the process models of issue 5 over two 50 Mbit/s paths
# (topology A, IPv4, shim on both ends), with tests/progs/procmodels.  In
# every case each connection's stream is checked by SHA-256 (the server
# answers the digest of what it read, the client compares it with what it
# sent), and the paths' byte counters must both have moved:
#   threads   32 client threads connect at once to 32 server threads
#             blocked in accept();
#   epoll-et / epoll-lt  8 connections to an epoll server, edge- and
#             level-triggered;
#   fork      fork-per-connection server (the parent closes its copy), 4
#             connections; path 1 (the first subflows' path) goes down
#             mid-transfer;
#   forkafter the server serves one connection, then forks a child that
#             accepts the next 3: every join lands (the child announces a
#             join listener of its own);
#   forkmany  the same as fork with 48 short connections, forked while the shim
#             thread is busy with handshakes and joins (libcrypto); each
#             child hashes with OpenSSL, so a libcrypto lock inherited
#             locked would hang it; 1 MiB each: a child that took its
#             connection over is joined at the port it announces, a round
#             trip after the parent's (256 KiB were over before that);
#   exec      inetd style: the server forks, dup2s the connection onto 0/1
#             and execs "procmodels child", which must see the TCP peer
#             (getpeername = the client's address, SO_DOMAIN AF_INET,
#             SO_TYPE, SO_PROTOCOL, TCP_INFO), no MPTCPSHIM_INHERIT in
#             its environment, and no other socket, epoll set or eventfd
#             (close-on-exec honoured: the server's listener, the shim's
#             subflows, its socketpair ends and libev's descriptors); path
#             2 goes down mid-transfer;
#   spawn / vfork  the same child started by posix_spawn (file actions
#             dup2 the close-on-exec connection) and by vfork + execv (no
#             fork handler runs there: only close-on-exec keeps the
#             server's internal descriptors out of the child);
#   daemon    the server forks after listen() and the parent exits at once;
#             the child serves 4 connections;
#   keeper    a client connects, writes 20 MiB and exits at once without
#             closing: the server receives every byte (SHA-256), the
#             client's shim logged the hand-over to a keeper, and the
#             keeper process is gone afterwards;
#   handoff   the server reads 1 MiB, forks a child that reads the rest and
#             answers, and exits at once while the child talks (its
#             keeper services the connection); path 1 goes down
#             mid-transfer; the keeper is gone afterwards.
#   reuseport an SO_REUSEPORT group: 3 processes, each with its own
#             listening socket on the port, 12 connections; joins must
#             land in the member that accepted the connection (both paths
#             carry data, the server's shim rejected no join, every join
#             was logged by a member); the spread is reported.
# pre-forked workers sharing one listening socket: nginx.sh.
# Harness self-test without the shim: NOSHIM=1 bash procmodels.sh
# Sub-cases (T_ONLY=REGEX): threads epoll-et epoll-lt fork forkafter forkmany exec spawn vfork
#   reuseport daemon keeper handoff
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

MPTCPSHIM_LOG=${T_LOG:-info} # T_LOG=debug for a closer look
: "${T_TIMEOUT:=600}"
: "${T_CMD_TIMEOUT:=120}"
MIB=$((1024 * 1024))

tb_init procmodels
require_shim
PM="$top_builddir/tests/progs/procmodels"
[ -x "$PM" ] || fail "$PM not built (make check builds it)"
tb_topo A 2 50,50
D=$T_DIR
# with the shim both paths must carry data; plain TCP uses path 1 only
MP=1
shim_enabled || MP=0

# wait_path_moved I BYTES: until path I counted BYTES more than now (60 s).
wait_path_moved() {
	local i=$1 want=$2 b0 k
	b0=$(path_bytes "$i")
	for ((k = 0; k < 1200; k++)); do
		[ $(($(path_bytes "$i") - b0)) -ge "$want" ] && return 0
		sleep 0.05
	done
	fail "path $i did not carry $want B within 60 s"
}

link() { # I up|down
	ip -n "$NS_C" link set "${IFC[$1]}" "$2"
	log "path $1 ($NS_C ${IFC[$1]}) $2"
	if [ "$2" = up ]; then
		for ((k = 0; k < 100; k++)); do
			_tb_topo_ready && return 0
			sleep 0.05
		done
	fi
}

# gone NS WHAT: no process of NS whose command line matches WHAT remains
# (waits up to 60 s: a keeper finishes its connection first).
gone() {
	local ns=$1 what=$2 k p left
	for ((k = 0; k < 600; k++)); do
		left=""
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$what"; then
				left="$left $p"
			fi
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	fail "process(es)$left ($what) still running in $ns after 60 s"
}

# pm_case NAME MODEL NCONN SIZE KILL [ARG]: serve MODEL in $NS_S, NCONN
# client threads of SIZE bytes each; KILL 0, or a path to take down once
# both paths carried 1 MiB of this case (brought up again afterwards).
pm_case() {
	local name=$1 model=$2 n=$3 size=$4 kill=$5 arg=${6:-/dev/null} a1 a2 d1 d2 spid cpid
	# plain TCP (NOSHIM=1) has path 1 only: cutting it would hang the case
	[ "$MP" = 0 ] && [ "$kill" != 0 ] && kill=2
	next_port
	bg_start "srv-$name" shim "$NS_S" "$PM" serve "$model" "$SRV4" "$PORT" "$n" "$arg"
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	a1=$(path_bytes 1)
	a2=$(path_bytes 2)
	bg_start "cli-$name" shim "$NS_C" "$PM" client "$SRV4" "$PORT" "$n" "$size"
	cpid=$BG_PID
	if [ "$kill" != 0 ]; then
		wait_path_moved 1 "$MIB"
		[ "$MP" = 1 ] && wait_path_moved 2 "$MIB"
		link "$kill" down
	fi
	bg_wait "$cpid" "$T_CMD_TIMEOUT" || fail "$name: client failed ($?)"
	grep -q "client: $n/$n ok" "$D/bg-cli-$name.log" ||
		fail "$name: not every stream arrived intact: $(tail -n 3 "$D/bg-cli-$name.log")"
	bg_wait "$spid" 60 || fail "$name: server failed ($?)"
	d1=$(($(path_bytes 1) - a1))
	d2=$(($(path_bytes 2) - a2))
	[ "$kill" != 0 ] && link "$kill" up
	log "ok: $name: $n stream(s) of $size B byte-exact (sha256); path 1 $d1 B, path 2 $d2 B"
	if [ "$MP" = 1 ] && { [ "$d1" -lt "$MIB" ] || [ "$d2" -lt "$MIB" ]; }; then
		fail "$name: both paths should carry data (path 1 $d1 B, path 2 $d2 B)"
	fi
}

# child_info PREFIX N: the exec'd children saw a TCP connection.
child_info() {
	local i f line
	for ((i = 0; i < $2; i++)); do
		f="$1.$i"
		[ -s "$f" ] || fail "child $i wrote no $f"
		line=$(cat "$f")
		log "child $i: $line"
		case $line in
		"peer=${C4[1]} family=2 domain=2 type=1 proto=6 tcpi_state=1 inherit=absent extra=0") ;;
		*) fail "child $i: expected peer=${C4[1]} AF_INET/SOCK_STREAM/TCP, ESTABLISHED, no MPTCPSHIM_INHERIT, no leaked descriptor: $line" ;;
		esac
	done
}

if selected threads; then
	step "threads: 32 concurrent connects against 32 threads in accept()"
	pm_case threads threads 32 $((1 * MIB)) 0
fi

for m in epoll-et epoll-lt; do
	selected "$m" || continue
	step "$m: 8 connections to an epoll server"
	pm_case "$m" "$m" 8 $((4 * MIB)) 0
done

if selected fork; then
	step "fork: fork per connection, parent closes its copy; path 1 down mid-transfer"
	pm_case fork fork 4 $((8 * MIB)) 1
fi

# Many forks while the shim thread is busy with handshakes and joins
# (libcrypto: keys, tokens, HMACs): each child hashes what it reads
# (OpenSSL's SHA-256), so a child forked while the shim thread held one of
# libcrypto's locks would hang there.
# A process that served a connection (so it has a join listener) forks a
# child that accepts the next ones: the child needs a listener of its own;
# announcing the parent's port sends its joins to a process that does not
# know their tokens (rejected: single path).
if selected forkafter; then
	step "forkafter: the parent serves one connection, then a forked child accepts 3 more"
	sc0=$(counters_mark "$NS_S")
	pm_case forkafter forkafter 4 $((4 * MIB)) 0
	if [ "$MP" = 1 ]; then
		# the counters of the parent, the child and the child's children
		# (it forks one per connection; each that took its connection
		# over writes a line at exit, or its keeper does): in any order,
		# so every line written within 10 s (the first 2 lines were read
		# before, which held every join only when the grandchildren
		# finished last: at a low load they often do not)
		for ((k = 0; k < 50; k++)); do
			cnt=$(counters_since "$NS_S" "$sc0" 2)
			joins=$(printf '%s\n' "$cnt" | counter subflows_joined)
			[ "$joins" -ge 4 ] && break
			sleep 0.2
		done
		bad=$(printf '%s\n' "$cnt" | counter joins_rejected)
		[ "$bad" = 0 ] || fail "forkafter: $bad join(s) rejected (sent to the parent's listener?)"
		[ "$joins" -ge 4 ] || fail "forkafter: $joins join(s) for 4 connections"
		log "ok: forkafter: $joins joins, none rejected"
	fi
fi

if selected forkmany; then
	step "forkmany: 48 connections, a child each, forked during handshakes and joins"
	pm_case forkmany fork 48 $((1024 * 1024)) 0
fi

if selected exec; then
	step "exec: inetd style (fork, dup2 to 0/1, execv); path 2 down mid-transfer"
	pm_case exec exec 2 $((8 * MIB)) 2 "$D/exec.info"
	child_info "$D/exec.info" 2
fi

for m in spawn vfork; do
	selected "$m" || continue
	step "$m: the inetd child started by $m"
	pm_case "$m" "$m" 2 $((4 * MIB)) 0 "$D/$m.info"
	child_info "$D/$m.info" 2
done

if selected reuseport; then
	step "reuseport: an SO_REUSEPORT group of 3 processes, 12 connections"
	sl="$D/shim-$NS_S.log"
	s0=0
	[ -e "$sl" ] && s0=$(wc -l <"$sl")
	# the earlier cases' server processes (children, keepers) write their
	# counter lines as they exit: the mark comes after the last of them,
	# or a late line (a CI run: 2 joins by the spawn case's pid) is read
	# as this case's
	for _ in $(seq 1 200); do [ -z "$(ip netns pids "$NS_S")" ] && break; sleep 0.05; done
	sc0=$(counters_mark "$NS_S")
	pm_case reuseport reuseport 12 $((2 * MIB)) 0
	spread=$(grep -o 'reuseport member [0-9]* served [0-9]*' "$D/bg-srv-reuseport.log" || true)
	[ "$(printf '%s\n' "$spread" | grep -c . || true)" = 3 ] ||
		fail "reuseport: want 3 members' reports: $spread"
	log "reuseport spread: $(printf '%s\n' "$spread" | sed 's/reuseport member //' | tr '\n' ';')"
	if shim_enabled; then
		new=$(tail -n +"$((s0 + 1))" "$sl")
		bad=$(printf '%s\n' "$new" | grep -E 'aborting' || true)
		[ -z "$bad" ] || fail "reuseport: the server's shim aborted: $bad"
		members=" $(printf '%s\n' "$spread" | awk '{print $3}' | tr '\n' ' ')"
		# the members' counters (a line each at exit, with its pid, from
		# each member that served a connection: one the kernel's hash gave
		# none never ran the shim thread, ~2 % of runs): the joins landed
		# in group members, none was rejected
		served=$(printf '%s\n' "$spread" | awk '$NF > 0' | grep -c . || true)
		cnt=$(counters_since "$NS_S" "$sc0" "$served")
		bad=$(printf '%s\n' "$cnt" | counter joins_rejected)
		[ "$bad" = 0 ] || fail "reuseport: the server's shim rejected $bad join(s)"
		njoin=0
		while read -r line; do
			p=$(printf '%s\n' "$line" | sed -nE 's/^\{"pid":([0-9]+),.*/\1/p')
			n=$(printf '%s\n' "$line" | counter subflows_joined)
			[ "$n" = 0 ] && continue
			case $members in
			*" $p "*) njoin=$((njoin + n)) ;;
			*) fail "reuseport: $n join(s) counted by pid $p, not a group member ($members)" ;;
			esac
		done <<<"$cnt"
		[ "$njoin" -ge 1 ] || fail "reuseport: the server's shim counted no join"
		log "ok: reuseport: $njoin join(s), each in a group member"
	fi
fi

if selected daemon; then
	step "daemon: fork after listen(), the parent exits, the child serves"
	next_port
	nsrun shim "$NS_S" "$PM" serve daemon "$SRV4" "$PORT" 4 "$D/daemon.pid" ||
		fail "daemon: the parent failed"
	wait_listen "$NS_S" "$PORT"
	nsrun shim "$NS_C" "$PM" client "$SRV4" "$PORT" 4 $((4 * MIB)) >"$D/daemon.cli" ||
		fail "daemon: client failed: $(cat "$D/daemon.cli")"
	grep -q 'client: 4/4 ok' "$D/daemon.cli" || fail "daemon: $(cat "$D/daemon.cli")"
	gone "$NS_S" "procmodels serve daemon"
	log "ok: daemon: 4 streams byte-exact; the daemon and its keeper ended"
fi

if selected keeper; then
	step "keeper: a client writes 20 MiB and exits at once"
	mkrand "$D/keeper.in" $((20 * MIB))
	next_port
	bg_start srv-keeper shim "$NS_S" "$PM" serve sink "$SRV4" "$PORT" 1
	spid=$BG_PID
	wait_listen "$NS_S" "$PORT"
	# captured: the keeper must not hold the command substitution's pipe
	out=$(nsrun shim "$NS_C" "$PM" client-exit "$SRV4" "$PORT" "$D/keeper.in") ||
		fail "keeper: client failed"
	log "client: $out"
	bg_wait "$spid" "$T_CMD_TIMEOUT" || fail "keeper: server failed ($?)"
	want="$(sha256 "$D/keeper.in") $((20 * MIB))"
	got=$(grep -E '^[0-9a-f]{64} [0-9]+$' "$D/bg-srv-keeper.log" || true)
	[ "$got" = "$want" ] || fail "keeper: server received '$got', want '$want'"
	if shim_enabled; then
		grep -q 'exit: connections handed to keeper process' "$D/shim-$NS_C.log" ||
			fail "keeper: the client's shim logged no hand-over to a keeper"
	fi
	gone "$NS_C" "procmodels client-exit"
	log "ok: keeper: 20 MiB byte-exact after the client exited; the keeper ended"
fi

if selected handoff; then
	step "handoff: the servicing process exits while its child talks; path 1 down mid-transfer"
	pm_case handoff handoff 1 $((20 * MIB)) 1
	if shim_enabled; then
		grep -q 'exit: connections handed to keeper process' "$D/shim-$NS_S.log" ||
			fail "handoff: the server's shim logged no hand-over to a keeper"
	fi
	gone "$NS_S" "procmodels serve handoff"
	log "ok: handoff: the child finished the stream; the keeper ended"
fi

shim_log_summary
