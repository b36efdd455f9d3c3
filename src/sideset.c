/* sideset.c - descriptors watched through one epoll set of ours that the
 * loop watches with one io watcher, or looks at on a tick.
 *
 * Uses (issue 15): the hup set (conn.c: every app descriptor with no
 * requested events, so that epoll reports the hang-up of its last close,
 * which libev cannot tell apart from a readable EOF) and the read sets
 * (rxwatch.c: a subflow whose reads start on an app thread, without the
 * wake-up a libev start off the loop costs; and, polled on a tick, the
 * subflows of first closers that only wait for the peer's FIN).
 * epoll_ctl works from any thread; the loop wakes only when a member is
 * ready, or at the tick. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "sideset_int.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/real.h"

static void on_ready(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_sideset *s = w->data;
	struct epoll_event ev[64];
	int n, i;

	(void)revents;
	n = mps_real.epoll_wait(s->ep, ev, 64, 0);
	for (i = 0; i < n; i++)
		s->ready(loop, ev[i].data.ptr);
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_sideset *s = w->data;
	struct epoll_event ev[64];
	int n, i;

	(void)revents;
	do {
		n = mps_real.epoll_wait(s->ep, ev, 64, 0);
		for (i = 0; i < n; i++)
			s->ready(loop, ev[i].data.ptr);
	} while (n == 64);
	if (s->members == 0)
		ev_timer_stop(loop, w);
}

static int open_set(struct mps_sideset *s, struct ev_loop *loop)
{
	int fd = mps_real.epoll_create1(EPOLL_CLOEXEC);

	if (fd < 0)
		return -errno;
	fd = mps_ifd_take(fd, s->must); /* out of the app's range */
	if (fd < 0)
		return fd;
	s->ep = fd;
	if (s->period > 0) {
		ev_timer_init(&s->tick, on_tick, s->period, s->period);
		s->tick.data = s;
		return 0;
	}
	ev_io_init(&s->io, on_ready, fd, EV_READ);
	s->io.data = s;
	ev_set_priority(&s->io, s->pri);
	ev_io_start(loop, &s->io); /* (off the loop, the first time: a wake-up) */
	ev_unref(loop);            /* the async watcher keeps the loop alive */
	return 0;
}

int mps_sideset_add(struct mps_sideset *s, struct ev_loop *loop, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = {.events = events, .data.ptr = ptr};
	int rc;

	if (s->ep < 0 && (rc = open_set(s, loop)) != 0)
		return rc;
	if (mps_real.epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -errno;
	s->members++;
	/* (off the loop: the engine's timerfd, no wake-up now: evoff.h) */
	if (s->period > 0 && !ev_is_active(&s->tick))
		ev_timer_start(loop, &s->tick);
	return 0;
}

void mps_sideset_del(struct mps_sideset *s, int fd)
{
	if (s->ep >= 0 && fd >= 0)
		mps_real.epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
	if (s->members > 0)
		s->members--;
}

void mps_sideset_atfork_child(struct mps_sideset *s)
{
	s->ep = -1;
	s->members = 0;
	memset(&s->io, 0, sizeof(s->io));
	memset(&s->tick, 0, sizeof(s->tick));
}
