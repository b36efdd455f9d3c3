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
 * own watcher starts, fed a read event.  Used only off the loop. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "rxwatch_int.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/real.h"

static int g_ep = -1;
static ev_io g_io;

static void on_ready(struct ev_loop *loop, ev_io *w, int revents)
{
	struct epoll_event ev[64];
	int n, i;

	(void)w;
	(void)revents;
	n = mps_real.epoll_wait(g_ep, ev, 64, 0);
	for (i = 0; i < n; i++) {
		struct mps_subflow *sf = ev[i].data.ptr;

		mps_rxwatch_del(sf);
		/* (freed meanwhile: sf_free took it out of the set) */
		if (sf->state == SF_DEAD || sf->fd < 0)
			continue;
		ev_io_start(loop, &sf->rio);
		ev_feed_event(loop, &sf->rio, EV_READ);
	}
}

int mps_rxwatch_add(struct ev_loop *loop, struct mps_subflow *sf)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = sf};

	if (g_ep < 0) {
		int fd = mps_real.epoll_create1(EPOLL_CLOEXEC);

		if (fd < 0)
			return -errno;
		g_ep = mps_ifd_take(fd, 0); /* out of the app's range */
		if (g_ep < 0)
			return g_ep;
		ev_io_init(&g_io, on_ready, g_ep, EV_READ);
		ev_io_start(loop, &g_io); /* (the first time: a wake-up) */
		ev_unref(loop);           /* the async watcher keeps the loop alive */
	}
	if (mps_real.epoll_ctl(g_ep, EPOLL_CTL_ADD, sf->fd, &ev) != 0)
		return -errno;
	sf->rxw = 1;
	return 0;
}

void mps_rxwatch_del(struct mps_subflow *sf)
{
	if (!sf->rxw)
		return;
	sf->rxw = 0;
	if (g_ep >= 0 && sf->fd >= 0)
		mps_real.epoll_ctl(g_ep, EPOLL_CTL_DEL, sf->fd, NULL);
}

void mps_rxwatch_atfork_child(void)
{
	g_ep = -1; /* an internal descriptor: closed by fdtab */
	memset(&g_io, 0, sizeof(g_io));
}
