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
 * own watcher starts, fed a read event.  Used only off the loop.  The set
 * is a sideset.c one. */
#include "config.h"

#include <sys/epoll.h>

#include "rxwatch_int.h"
#include "sideset_int.h"

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

static struct mps_sideset g_set = MPS_SIDESET_INIT(on_ready, 0, 0);

int mps_rxwatch_add(struct ev_loop *loop, struct mps_subflow *sf)
{
	int rc = mps_sideset_add(&g_set, loop, sf->fd, EPOLLIN | EPOLLRDHUP, sf);

	if (rc == 0)
		sf->rxw = 1;
	return rc;
}

void mps_rxwatch_del(struct mps_subflow *sf)
{
	if (!sf->rxw)
		return;
	sf->rxw = 0;
	mps_sideset_del(&g_set, sf->fd);
}

void mps_rxwatch_atfork_child(void)
{
	mps_sideset_atfork_child(&g_set);
}
