/* rxwatch.c - a subflow's readability watched from an app thread without
 * waking the loop (issue 15).
 *
 * An inline connection's app closes on its own thread (inline.c): from
 * then on the shim thread reads the subflow (the peer's FIN, its
 * DATA_FIN, data ACKs).  Starting the subflow's read watcher there is a
 * libev start made off the loop: it takes effect only once the loop wakes,
 * so it woke the loop (evoff.h), a wake-up per connection for a short
 * request/response's server, with nothing to read yet.  Instead the
 * subflow joins one epoll set of ours, which the loop watches through one
 * io watcher: epoll_ctl from the app's thread, and the loop wakes when the
 * peer's bytes come.  Then, on the loop, the subflow leaves the set and its
 * own watcher starts, fed a read event.  A subflow that waits only for
 * the peer's FIN joins another set, which the loop looks at on a tick
 * (g_lazy).  Used only off the loop.  Both are sideset.c sets. */
#include "config.h"

#include <sys/epoll.h>

#include "rxwatch_int.h"
#include "sideset_int.h"

static void on_ready(struct ev_loop *loop, void *ptr);

/* Readable now: a subflow with more to come from the peer than its FIN
 * (data ACKs our data waits for). */
static struct mps_sideset g_now = MPS_SIDESET_INIT(on_ready, 0, 0);
/* Looked at every RXW_TICK s: a first closer's subflow whose DATA_FIN
 * left with its FIN (MPS_CAP_FINCLOSE), waiting only for the peer's FIN.
 * Nobody waits for that end (the app closed, TCP has our bytes): a wake-up
 * of the shim thread per connection for it cost an nginx worker making
 * short connections 18 % of its connections per second (issue 15); a tick
 * batches them, holding each socket ~1.5 ms longer on average (10 ms
 * held more memory for no more speed: docs/BENCHMARKS.md session 18). */
#define RXW_TICK 0.003
static void on_lazy(struct ev_loop *loop, void *ptr);
static struct mps_sideset g_lazy = MPS_SIDESET_POLLED(on_lazy, RXW_TICK);

static void on_ready(struct ev_loop *loop, void *ptr)
{
	struct mps_subflow *sf = ptr;

	mps_rxwatch_del(sf);
	/* (freed meanwhile: sf_free took it out of the set) */
	if (sf->state == SF_DEAD || sf->fd < 0)
		return;
	ev_io_start(loop, &sf->rio);
	ev_feed_event(loop, &sf->rio, EV_READ);
}

/* The tick found it readable: its read now, as rio's would be, with rio
 * left stopped (libev's epoll_ctl for it, and again at its close, spared:
 * issue 15).  The peer's FIN ends the connection and sf_free takes sf out
 * of the set; anything else (bytes before the FIN) and it goes the usual
 * way. */
static void on_lazy(struct ev_loop *loop, void *ptr)
{
	struct mps_subflow *sf = ptr;

	if (sf->state == SF_DEAD || sf->fd < 0)
		return;
	ev_invoke(loop, &sf->rio, EV_READ);
	if (sf->state != SF_DEAD && sf->fd >= 0)
		on_ready(loop, sf);
}

int mps_rxwatch_add(struct ev_loop *loop, struct mps_subflow *sf, int lazy)
{
	struct mps_sideset *set = lazy ? &g_lazy : &g_now;
	int rc = mps_sideset_add(set, loop, sf->fd, EPOLLIN | EPOLLRDHUP, sf);

	if (rc == 0)
		sf->rxw = lazy ? 2 : 1;
	return rc;
}

void mps_rxwatch_del(struct mps_subflow *sf)
{
	if (!sf->rxw)
		return;
	mps_sideset_del(sf->rxw == 2 ? &g_lazy : &g_now, sf->fd);
	sf->rxw = 0;
}

void mps_rxwatch_atfork_child(void)
{
	mps_sideset_atfork_child(&g_now);
	mps_sideset_atfork_child(&g_lazy);
}
