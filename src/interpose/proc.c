/* proc.c - process life: the constructor, fork and exit.
 *
 * Nothing starts in the constructor but symbol resolution, the config
 * (parsed at once, so a bad value warns once per command), the fork
 * handlers and, after an exec, the table of inherited connections: the
 * shim thread starts on the first connection.  After fork the child has
 * no shim thread; connections stay with the parent's.  At exit a keeper
 * process takes unfinished connections over (see docs/DESIGN.md "Process
 * model"). */
#include "config.h"

#include <pthread.h>

#include "mptcpshim/config.h"
#include "mptcpshim/conn.h"
#include "mptcpshim/crypto.h"
#include "mptcpshim/epreg.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/inherit.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/log.h"
#include "mptcpshim/peercache.h"
#include "mptcpshim/token.h"

/* Every fork holds the leaf locks that the shim thread takes while it
 * runs, and those app threads take in our hooks (option defaults,
 * libcrypto, token table, epoll registrations, peer cache, log): a child
 * forked while another thread held one would otherwise inherit it locked
 * and hang at its first log line, connect or accept, or (libcrypto's own
 * locks, taken inside our crypto lock) at its first SHA-256 or TLS
 * handshake.  The keeper's fork also copies connection state that app
 * threads may touch: it holds the sock locks too (the shim thread has
 * stopped then; an ordinary child re-initialises them instead, see
 * mps_fdtab_atfork_child). */
static void fork_locks(int lock)
{
	if (lock) {
		if (mps_keeper_forking)
			mps_conn_lock_socks(1);
		mps_opts_lock(1);
		mps_crypto_lock(1);
		mps_token_lock(1);
		mps_epreg_lock_all(1);
		mps_peercache_lock(1);
		mps_log_lock(1);
	} else {
		mps_log_lock(0);
		mps_peercache_lock(0);
		mps_epreg_lock_all(0);
		mps_token_lock(0);
		mps_crypto_lock(0);
		mps_opts_lock(0);
		if (mps_keeper_forking)
			mps_conn_lock_socks(0);
	}
}

static void prepare(void)
{
	mps_loop_atfork_prepare();
	mps_fdtab_atfork_prepare();
	fork_locks(1);
}

static void parent(void)
{
	fork_locks(0);
	mps_fdtab_atfork_parent();
	mps_loop_atfork_parent();
}

static void child(void)
{
	fork_locks(0);
	if (mps_keeper_forking) {
		/* The keeper keeps everything: it services the connections. */
		mps_fdtab_atfork_parent();
		mps_loop_atfork_child();
		return;
	}
	mps_fdtab_atfork_child();
	mps_conn_atfork_child();
	mps_join_atfork_child();
	mps_netmon_atfork_child();
	mps_token_atfork_child();
	mps_loop_atfork_child();
}

__attribute__((constructor)) static void mps_init(void)
{
	mps_real_init();
	mps_config_early(); /* warn about a bad environment at once, once per command */
	mps_crypto_init();
	pthread_atfork(prepare, parent, child);
	mps_inherit_adopt();
}

/* Once the app closed every descriptor of a connection, its keeper waits
 * at most this long for the peer to acknowledge the rest. */
#define MPS_EXIT_DRAIN_TIMEOUT 30.0

/* A destructor runs from exit() after the app's atexit handlers (and its
 * own destructors), before stdio buffers are flushed: the keeper forked
 * here never returns into exit(), so it runs no app handler and flushes
 * nothing twice.  Bytes the app writes after this point (a stdio flush
 * onto a connection) still reach the keeper through the socketpair.
 * _exit() and fatal signals skip it. */
__attribute__((destructor)) static void mps_fini(void)
{
	mps_loop_exit(MPS_EXIT_DRAIN_TIMEOUT);
}
