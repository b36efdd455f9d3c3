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

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

#include "mptcpshim/fdtab.h"
#include "mptcpshim/handover.h"
#include "mptcpshim/inline.h"
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

/* Waits for input on an inline connection's TCP socket (inline.h): a
 * promotion meanwhile must leave its bytes for the kernel to wake this
 * wait (a read by the shim thread first could leave it asleep).  Every
 * inline socket of the set is tracked (bytes read ahead, or left over by
 * a read whose promotion found no descriptor, are readable only through
 * this list: fdlimits.sh's select over 200 sockets under ulimit -n 512
 * hung when only the first 8 were); the first WAITS_INLINE on the stack,
 * the rest in an array from the heap.  ix: the pollfd's index (poll) or
 * the descriptor (select). */
#define WAITS_INLINE 8
struct waits {
	struct mps_sock **s;
	int *ix;
	int n, cap;
	struct mps_sock *s0[WAITS_INLINE];
	int ix0[WAITS_INLINE];
};

static int waits_grow(struct waits *w)
{
	int cap = w->cap * 2;
	struct mps_sock **s = malloc((size_t)cap * sizeof(*s));
	int *ix = malloc((size_t)cap * sizeof(*ix));

	if (!s || !ix) {
		free(s);
		free(ix);
		return -1; /* (the rest of the set unfiltered, as before) */
	}
	memcpy(s, w->s, (size_t)w->n * sizeof(*s));
	memcpy(ix, w->ix, (size_t)w->n * sizeof(*ix));
	if (w->s != w->s0) {
		free(w->s);
		free(w->ix);
	}
	w->s = s;
	w->ix = ix;
	w->cap = cap;
	return 0;
}

static void waits_add(struct waits *w, int fd, int ix)
{
	struct mps_sock *s;

	if (fd < 0 || !mps_fdtab_has(fd) || (w->n == w->cap && waits_grow(w)))
		return;
	s = mps_fdtab_ref(fd);
	if (s && atomic_load(&s->inl)) {
		mps_inline_wait_begin(s);
		w->ix[w->n] = ix;
		w->s[w->n++] = s;
	} else if (s)
		mps_sock_put(s);
}

static void waits_init(struct waits *w)
{
	w->s = w->s0;
	w->ix = w->ix0;
	w->n = 0;
	w->cap = WAITS_INLINE;
}

static int inline_any(void)
{
	return atomic_load_explicit(&mps_inline_socks, memory_order_relaxed) != 0 && !mps_inside;
}

static void waits_pollfds(struct waits *w, const struct pollfd *fds, nfds_t n)
{
	nfds_t i;

	waits_init(w);
	if (!inline_any() || !fds)
		return;
	for (i = 0; i < n; i++)
		if (fds[i].events & (POLLIN | POLLRDNORM | POLLPRI | POLLRDHUP))
			waits_add(w, fds[i].fd, (int)i);
}

static void waits_fdset(struct waits *w, int nfds, const fd_set *r)
{
	int fd;

	waits_init(w);
	if (!inline_any() || !r)
		return;
	if (nfds > FD_SETSIZE)
		nfds = FD_SETSIZE;
	for (fd = 0; fd < nfds; fd++)
		if (FD_ISSET(fd, r))
			waits_add(w, fd, fd);
}

static int waits_end(struct waits *w, int rc)
{
	int saved = errno, i;

	for (i = 0; i < w->n; i++) {
		mps_inline_wait_end(w->s[i]);
		mps_sock_put(w->s[i]);
	}
	if (w->s != w->s0) {
		free(w->s);
		free(w->ix);
	}
	errno = saved;
	return rc;
}

/* An inline socket's readability is the kernel's view of a framed
 * stream: a data ACK or half a frame makes it readable with no byte for
 * the app.  After the wait each one said readable is looked at (what it
 * holds read ahead, mps_inline_ready); one with nothing for the app is
 * taken out, and a wait left with nothing waits again for the rest of its
 * time.  One with bytes read ahead is readable at once. */

static int ts_left(const struct timespec *end, struct timespec *left)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left->tv_sec = end->tv_sec - now.tv_sec;
	left->tv_nsec = end->tv_nsec - now.tv_nsec;
	if (left->tv_nsec < 0)
		left->tv_sec--, left->tv_nsec += 1000000000L;
	return left->tv_sec >= 0;
}

static void ts_end(const struct timespec *tmo, struct timespec *end)
{
	clock_gettime(CLOCK_MONOTONIC, end);
	end->tv_sec += tmo->tv_sec;
	end->tv_nsec += tmo->tv_nsec;
	if (end->tv_nsec >= 1000000000L)
		end->tv_sec++, end->tv_nsec -= 1000000000L;
}

/* 1 if an inline socket of the set has bytes read ahead (then the wait
 * must not sleep: the kernel does not know them). */
static int pending_any(const struct waits *w, const struct pollfd *fds)
{
	int k;

	for (k = 0; k < w->n; k++)
		if ((fds[w->ix[k]].events & (POLLIN | POLLRDNORM)) && mps_inline_pending(w->s[k]))
			return 1;
	return 0;
}

static int poll_filter(const struct waits *w, struct pollfd *fds, int rc)
{
	int k;

	for (k = 0; k < w->n && rc >= 0; k++) {
		struct mps_sock *s = w->s[k];
		int i = w->ix[k];

		if (!(fds[i].events & (POLLIN | POLLRDNORM)))
			continue;
		if (!(fds[i].revents & (POLLIN | POLLRDNORM)) && mps_inline_pending(s)) {
			if (fds[i].revents == 0)
				rc++;
			fds[i].revents |= (short)(fds[i].events & (POLLIN | POLLRDNORM));
			continue;
		}
		if (fds[i].revents & (POLLIN | POLLRDNORM)) {
			if (mps_inline_ready(s))
				continue;
			fds[i].revents &= (short)~(POLLIN | POLLRDNORM);
			if (fds[i].revents == 0)
				rc--;
		}
	}
	return rc;
}

static int poll_inline(const struct waits *w, struct pollfd *fds, nfds_t n,
                       const struct timespec *tmo, const sigset_t *mask)
{
	struct timespec end, left, zero = {0, 0};
	int rc;

	if (tmo) {
		ts_end(tmo, &end);
		left = *tmo;
	}
	for (;;) {
		int early = pending_any(w, fds);

		rc = mps_real.ppoll(fds, n, early ? &zero : tmo ? &left : NULL, mask);
		if (tmo && !ts_left(&end, &left))
			left = zero;
		if (rc >= 0)
			rc = poll_filter(w, fds, rc);
		if (rc != 0 || (tmo && left.tv_sec == 0 && left.tv_nsec == 0))
			return rc;
	}
}

/* select and pselect the same way, on copies of the sets (a wait again
 * starts from the app's). */
static int select_inline(const struct waits *w, int nfds, fd_set *r, fd_set *wr, fd_set *e,
                         const struct timespec *tmo, const sigset_t *mask)
{
	fd_set r0, w0, e0;
	struct timespec end, left, zero = {0, 0};
	int rc, i;

	if (nfds > FD_SETSIZE)
		nfds = FD_SETSIZE;
	r0 = *r;
	if (wr)
		w0 = *wr;
	if (e)
		e0 = *e;
	if (tmo) {
		ts_end(tmo, &end);
		left = *tmo;
	}
	for (;;) {
		int early = 0;

		for (i = 0; i < w->n; i++)
			early |= mps_inline_pending(w->s[i]);
		rc = mps_real.pselect(nfds, r, wr, e, early ? &zero : tmo ? &left : NULL, mask);
		if (tmo && !ts_left(&end, &left))
			left = zero;
		for (i = 0; i < w->n && rc >= 0; i++) {
			int fd = w->ix[i];

			if (!FD_ISSET(fd, r) && mps_inline_pending(w->s[i])) {
				FD_SET(fd, r);
				rc++;
			} else if (FD_ISSET(fd, r) && !mps_inline_ready(w->s[i])) {
				FD_CLR(fd, r);
				rc--;
			}
		}
		if (rc != 0 || (tmo && left.tv_sec == 0 && left.tv_nsec == 0))
			return rc;
		*r = r0;
		if (wr)
			*wr = w0;
		if (e)
			*e = e0;
	}
}

static int poll_inline_ms(const struct waits *w, struct pollfd *fds, nfds_t n, int timeout)
{
	struct timespec t = {timeout / 1000, (timeout % 1000) * 1000000L};

	return poll_inline(w, fds, n, timeout < 0 ? NULL : &t, NULL);
}

MPS_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct waits w;

	mps_real_init();
	if (pending())
		touch_pollfds(fds, n);
	waits_pollfds(&w, fds, n);
	if (w.n)
		return waits_end(&w, poll_inline_ms(&w, fds, n, timeout));
	return mps_real.poll(fds, n, timeout);
}

MPS_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	struct waits w;

	mps_real_init();
	if (pending())
		touch_pollfds(fds, n);
	waits_pollfds(&w, fds, n);
	if (w.n)
		return waits_end(&w, poll_inline_ms(&w, fds, n, timeout));
	if (!mps_real.poll_chk)
		return mps_real.poll(fds, n, timeout);
	return mps_real.poll_chk(fds, n, timeout, fdslen);
}

MPS_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
	struct waits w;

	mps_real_init();
	if (pending())
		touch_pollfds(fds, n);
	waits_pollfds(&w, fds, n);
	if (w.n)
		return waits_end(&w, poll_inline(&w, fds, n, tmo, mask));
	return mps_real.ppoll(fds, n, tmo, mask);
}

MPS_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
                           const sigset_t *mask, size_t fdslen)
{
	struct waits w;

	mps_real_init();
	if (pending())
		touch_pollfds(fds, n);
	waits_pollfds(&w, fds, n);
	if (w.n)
		return waits_end(&w, poll_inline(&w, fds, n, tmo, mask));
	if (!mps_real.ppoll_chk)
		return mps_real.ppoll(fds, n, tmo, mask);
	return mps_real.ppoll_chk(fds, n, tmo, mask, fdslen);
}

MPS_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tmo)
{
	struct waits ws;

	mps_real_init();
	if (pending())
		touch_fdsets(nfds, r, w, e);
	waits_fdset(&ws, nfds, r);
	if (ws.n) {
		struct timespec t, *tp = NULL;

		if (tmo) {
			t.tv_sec = tmo->tv_sec;
			t.tv_nsec = tmo->tv_usec * 1000L;
			tp = &t;
		}
		return waits_end(&ws, select_inline(&ws, nfds, r, w, e, tp, NULL));
	}
	return mps_real.select(nfds, r, w, e, tmo);
}

MPS_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *tmo,
                       const sigset_t *mask)
{
	struct waits ws;

	mps_real_init();
	if (pending())
		touch_fdsets(nfds, r, w, e);
	waits_fdset(&ws, nfds, r);
	if (ws.n)
		return waits_end(&ws, select_inline(&ws, nfds, r, w, e, tmo, mask));
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
