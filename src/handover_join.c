/* handover_join.c - joins and the hand-over (docs/DESIGN.md, "Process
 * model", "Fork per connection", step 4): a join that reaches the parent
 * while its connection is offered to a child waits for the decision; one
 * for a connection handed over is closed with a log line; the child
 * announces its own join port under the parent's address ids. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "engine_types.h"
#include "join_int.h"
#include "subflow_int.h"
#include "handover_int.h"
#include "mptcpshim/handover.h"
#include "mptcpshim/log.h"

/* Offers not yet settled (handover.h): counted up and down by
 * handover.c, read here and by the wait hooks.  Defined here, the lower
 * of the two modules, so that only handover.c names the other. */
atomic_int mps_handover_pending;

/* handover.c's "is token offered to a child and unsettled?", registered
 * with its first offer: this module does not name the one above it. */
static int (*g_offered)(uint32_t token);

void mps_ho_joins_set_offered(int (*offered)(uint32_t token))
{
	g_offered = offered;
}

/* inline.c's "must token's join wait for an app thread's wait to end?",
 * registered by the engine (inline.h): the same list holds it. */
static int (*g_held)(uint32_t token);

void mps_ho_joins_set_held(int (*held)(uint32_t token))
{
	g_held = held;
}

#define HO_MAXDEFER 64
static struct {
	struct mps_subflow *sf;
	uint32_t token;
} g_defer[HO_MAXDEFER];
static int g_ndefer;

/* Tokens handed to children lately, for the log of a late join. */
#define HO_HANDED 64
static struct {
	uint32_t token;
	pid_t pid;
} g_handed[HO_HANDED];
static unsigned g_handed_next;

/* sf's place in g_defer, or -1. */
static int defer_find(const struct mps_subflow *sf)
{
	int i;

	for (i = 0; i < g_ndefer; i++)
		if (g_defer[i].sf == sf)
			return i;
	return -1;
}

int mps_handover_defer_join(struct ev_loop *loop, struct mps_subflow *sf, uint32_t token)
{
	int found, held = 0;

	/* No lock: g_parent changes only on this thread (settling), or
	 * while it is parked (a fork) or stopped (exit), and g_defer is this
	 * thread's own; app threads take g_lock to read g_parent against our
	 * changes.  Taking it here could also block this thread while a fork
	 * holds it and waits for us to park (a 5 s stall, then a fork with
	 * this thread running), and skipping the look-up while a fork is in
	 * progress would reject a join for an earlier offer, suspended and
	 * out of the token table ("unknown token": procmodels.sh fork and
	 * forkafter). */
	found = atomic_load(&mps_handover_pending) && g_offered && g_offered(token);
	/* else an inline server's join: promoted now, and held while an
	 * app thread still waits on the TCP socket (inline_srv.c) */
	if (!found)
		found = held = g_held && g_held(token);
	if (!found)
		return 0;
	/* read again while it waits (join.c's make_room looks at a victim's
	 * socket first): listed once, or a second entry would outlive its
	 * memory once the first is taken off */
	if (defer_find(sf) >= 0) {
		ev_io_stop(loop, &sf->rio);
		ev_timer_stop(loop, &sf->jtimer);
		return 1;
	}
	if (g_ndefer == HO_MAXDEFER)
		return 0;
	ev_io_stop(loop, &sf->rio);
	ev_timer_stop(loop, &sf->jtimer);
	g_defer[g_ndefer].sf = sf;
	g_defer[g_ndefer].token = token;
	g_ndefer++;
	mps_dbg("join from %s: waits, %s", sf->peer_str,
	        held ? "an app thread waits on its connection's first socket" :
	               "its connection is offered to a child process");
	return 1;
}

void mps_handover_join_gone(struct mps_subflow *sf)
{
	int i = defer_find(sf);

	if (i >= 0)
		g_defer[i] = g_defer[--g_ndefer];
}

int mps_handover_handed(uint32_t token, char *why, size_t len)
{
	int i;

	for (i = 0; i < HO_HANDED; i++)
		if (g_handed[i].pid && g_handed[i].token == token) {
			snprintf(why, len, "its connection was handed to process %d",
			         (int)g_handed[i].pid);
			return 1;
		}
	return 0;
}

/* The offer of token is settled: its waiting joins are read again (they
 * join here, or are closed as handed over). */
void mps_ho_joins_resume(struct ev_loop *loop, uint32_t token)
{
	int i = 0;

	while (i < g_ndefer) {
		struct mps_subflow *sf = g_defer[i].sf;

		if (g_defer[i].token != token) {
			i++;
			continue;
		}
		g_defer[i] = g_defer[--g_ndefer];
		ev_io_start(loop, &sf->rio);
		ev_timer_set(&sf->jtimer, JOIN_TIMEOUT, 0.);
		ev_timer_start(loop, &sf->jtimer);
		ev_feed_event(loop, &sf->rio, EV_READ);
	}
}

void mps_ho_handed_note(uint32_t token, pid_t pid)
{
	g_handed[g_handed_next].token = token;
	g_handed[g_handed_next].pid = pid;
	g_handed_next = (g_handed_next + 1) % HO_HANDED;
}

void mps_ho_joins_forget(void)
{
	g_ndefer = 0;
}

/* The peer knows our parent's join port: announce ours instead, under the
 * same address ids (the client replaces an address it knows by id). */
void mps_ho_readvertise(struct mps_conn *c)
{
	struct mps_subflow *sf = mps_sf_best_usable(c);
	uint8_t fr[MPS_ADD_ADDR_MAX_LEN];
	uint16_t port4 = 0, port6 = 0;
	int i, n = 0;

	/* (once the HELLO_ACK went out, with the parent's port: the client
	 * may not have confirmed yet, rx_mode is MP only then) */
	if (!sf || c->tx_mode != TX_MP)
		return;
	for (i = 0; i < MPS_MAX_REMOTE; i++) {
		struct mps_remote *r = &c->remotes[i];
		struct mps_addr a;
		uint16_t port;

		if (!r->valid)
			continue;
		memset(&a, 0, sizeof(a));
		a.addr_id = r->id;
		a.family = (uint8_t)r->addr.sa.sa_family;
		if (a.family == AF_INET) {
			if (!port4)
				port4 = mps_join_port(c->loop, AF_INET);
			port = port4;
			memcpy(a.addr, &r->addr.in.sin_addr, 4);
			r->addr.in.sin_port = htons(port);
		} else {
			if (!port6)
				port6 = mps_join_port(c->loop, AF_INET6);
			port = port6;
			memcpy(a.addr, &r->addr.in6.sin6_addr, 16);
			r->addr.in6.sin6_port = htons(port);
		}
		if (!port)
			continue;
		a.port = port;
		if (mps_sf_queue_ctl(sf, fr, mps_frame_put_add_addr(fr, &a)) == 0)
			n++;
	}
	if (n) {
		mps_dbg("conn %s: announced this process's join port again (%u address(es))",
		        c->peer_str, (unsigned)n);
		mps_sf_flush(c, sf);
	}
}
