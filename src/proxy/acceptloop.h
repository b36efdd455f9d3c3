/* acceptloop.h - the accept loop shared by mptcpshim-proxy and
 * mptcpshim-gateway: a thread per connection, a cap on connections. */
#ifndef MPS_PROXY_ACCEPTLOOP_H
#define MPS_PROXY_ACCEPTLOOP_H

#include <stdatomic.h>
#include <sys/socket.h>

#include "relay.h"

struct mps_accept_loop {
	int lfd;            /* the listening socket (non-blocking) */
	int stopfd;         /* readable: stop (a self-pipe written by a signal handler) */
	int max_conns;      /* connections at once: one more is reset at once */
	atomic_int *active; /* connections whose thread runs (the thread decrements it) */
	mps_relay_log_fn log;
	/* An accepted connection (peer named `name` for log lines): the
	 * argument of its thread, or NULL when it is not served (admit then
	 * closed cfd and said why). */
	void *(*admit)(int cfd, const struct sockaddr_storage *peer, const char *name);
	/* A connection admitted but not started (the cap, no thread): undo
	 * what admit did (the loop resets cfd). */
	void (*drop)(void *arg);
	void *(*serve)(void *arg); /* its thread */
};

/* Accept and serve until stopfd is readable or poll fails: logs why it
 * stopped, returns the connections still open then. */
int mps_accept_loop_run(const struct mps_accept_loop *l);

#endif
