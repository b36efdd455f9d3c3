/* proc.c - process life: the constructor and fork.
 *
 * Nothing starts in the constructor but symbol resolution and the fork
 * handlers: the shim thread starts on the first connection.  After fork
 * the child has no shim thread; connections stay with the parent's (see
 * docs/DESIGN.md "Process model"). */
#include "config.h"

#include <pthread.h>

#include "mptcpshim/crypto.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/interpose.h"

static void prepare(void)
{
	mps_loop_atfork_prepare();
	mps_fdtab_atfork_prepare();
}

static void parent(void)
{
	mps_fdtab_atfork_parent();
	mps_loop_atfork_parent();
}

static void child(void)
{
	mps_fdtab_atfork_child();
	mps_loop_atfork_child();
}

__attribute__((constructor)) static void mps_init(void)
{
	mps_real_init();
	mps_crypto_init();
	pthread_atfork(prepare, parent, child);
}

/* Bytes the app wrote live in this process until the peer has them: exit
 * waits for that (see docs/DESIGN.md "Process exit"). */
#define MPS_EXIT_DRAIN_TIMEOUT 30.0

__attribute__((destructor)) static void mps_fini(void)
{
	mps_loop_exit_drain(MPS_EXIT_DRAIN_TIMEOUT);
}
