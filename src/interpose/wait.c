/* wait.c - poll, ppoll, select, pselect: a forked child that waits on its
 * connection before any other call takes it over there (docs/DESIGN.md,
 * "Process model", "Fork per connection", step 3).
 *
 * A fork-per-connection child such as socat's waits in poll/select for
 * its client's first bytes.  Until it adopts the connection nobody
 * services it (the parent stopped at the fork), so nothing answers the
 * client's HELLO: waiting on the descriptor counts as a call on it, as a
 * read does.  Otherwise these calls are libc's: one relaxed atomic load
 * while no hand-over is pending (mps_handover_pending), descriptors are
 * looked at only while one is.  epoll_wait and epoll_pwait too: their
 * set is in the kernel, but the app's registrations are recorded
 * (epreg.c, at epoll_ctl), so a child that waits in a set its parent
 * filled before the fork adopts the offers registered there (a child
 * that registers the connection itself adopts at epoll_ctl, fdcalls.c). */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

#include "mptcpshim/handover.h"
#include "mptcpshim/interpose.h"

static int pending(void)
{
	return atomic_load_explicit(&mps_handover_pending, memory_order_relaxed) != 0;
}

static void touch_pollfds(const struct pollfd *fds, nfds_t n)
{
	nfds_t i;

	if (!fds)
		return;
	for (i = 0; i < n && pending(); i++)
		if (fds[i].fd >= 0)
			mps_handover_touch(fds[i].fd);
}

static void touch_fdsets(int nfds, const fd_set *r, const fd_set *w, const fd_set *e)
{
	int fd;

	if (nfds > FD_SETSIZE)
		nfds = FD_SETSIZE;
	for (fd = 0; fd < nfds && pending(); fd++)
		if ((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e)))
			mps_handover_touch(fd);
}

MPS_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	mps_real_init();
	if (pending())
		touch_pollfds(fds, n);
	return mps_real.poll(fds, n, timeout);
}

MPS_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	mps_real_init();
	if (pending())
		touch_pollfds(fds, n);
	if (!mps_real.poll_chk)
		return mps_real.poll(fds, n, timeout);
	return mps_real.poll_chk(fds, n, timeout, fdslen);
}

MPS_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
	mps_real_init();
	if (pending())
		touch_pollfds(fds, n);
	return mps_real.ppoll(fds, n, tmo, mask);
}

MPS_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
                           const sigset_t *mask, size_t fdslen)
{
	mps_real_init();
	if (pending())
		touch_pollfds(fds, n);
	if (!mps_real.ppoll_chk)
		return mps_real.ppoll(fds, n, tmo, mask);
	return mps_real.ppoll_chk(fds, n, tmo, mask, fdslen);
}

MPS_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tmo)
{
	mps_real_init();
	if (pending())
		touch_fdsets(nfds, r, w, e);
	return mps_real.select(nfds, r, w, e, tmo);
}

MPS_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *tmo,
                       const sigset_t *mask)
{
	mps_real_init();
	if (pending())
		touch_fdsets(nfds, r, w, e);
	return mps_real.pselect(nfds, r, w, e, tmo, mask);
}

MPS_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	mps_real_init();
	if (pending())
		mps_handover_touch_epoll(epfd);
	return mps_real.epoll_wait(epfd, ev, max, timeout);
}

MPS_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
                           const sigset_t *mask)
{
	mps_real_init();
	if (pending())
		mps_handover_touch_epoll(epfd);
	return mps_real.epoll_pwait(epfd, ev, max, timeout, mask);
}
