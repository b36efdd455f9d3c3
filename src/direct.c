/* direct.c - the app-thread send path (issue 15, docs/DESIGN.md section 7).
 *
 * An app's write on a multipath connection used to cross the socketpair:
 * copied into it, the shim thread woken, copied out into the send buffer,
 * framed and written to a subflow.  Here the app's own thread does it,
 * when it can take the engine lock at once (the shim thread is asleep):
 * one copy into the send buffer, kept for reinjection, then the frames
 * leave in one sendmsg on the app's thread.  No wake-up of the shim
 * thread, no socketpair crossing; the shim thread still reads the peer's
 * data ACKs and keeps the timers.
 *
 * Byte order: the app's end of the socketpair must hold nothing the app
 * wrote before (a write that went that way, a sendfile, a thread of a
 * forked child): the shim's end is asked (FIONREAD) under the lock; what
 * the shim thread already read is in the send buffer, before these bytes.
 * Anything unusual goes the socketpair way, which answers as TCP: flags
 * other than MSG_DONTWAIT/MSG_NOSIGNAL, ancillary data, a connection not
 * past its negotiation, held, full, ending or shut by the app, one a fork
 * shares (the child's writes cross the socketpair), a busy shim thread.
 * MPTCPSHIM_DIRECT=0 turns it off. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "dss_tx_int.h"
#include "mptcpshim/direct.h"
#include "mptcpshim/fdtab.h"
#include "enginelock_int.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/real.h"

size_t mps_direct_conn_write(struct mps_conn *c, const struct iovec *iov, int n)
{
	int q = -1;

	/* bytes the app wrote before, still in its end, go first */
	if (c->app_fd < 0 || mps_real.ioctl(c->app_fd, FIONREAD, &q) != 0 || q != 0)
		return 0;
	return mps_dss_tx_app_write(c, iov, n);
}

ssize_t mps_direct_write(int fd, const struct iovec *iov, int n, int flags)
{
	struct mps_sock *s;
	struct mps_conn *c;
	struct ev_loop *loop;
	size_t done = 0;
	int saved = errno;

	/* the cheap test first: every write of every descriptor comes here */
	if (mps_inside || !mps_fdtab_has(fd) || !mps_config()->direct ||
	    (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)))
		return -1;
	s = mps_fdtab_ref(fd);
	if (!s)
		return -1;
	/* A plain connection relayed (offered back or never to be: handback.h)
	 * is known here without a system call; the rest is checked before the
	 * lock is waited for. */
	if (atomic_load(&s->handback) != MPS_HB_NONE || atomic_load(&s->remote) ||
	    atomic_load(&s->shut_wr) || s->fork_gen != atomic_load(&mps_fork_gen) ||
	    atomic_load(&s->state) != MPS_SS_CONNECTED || !mps_fdtab_verify(fd, s) ||
	    !(loop = mps_engine_trylock())) {
		mps_sock_put(s);
		return -1;
	}
	mps_inside = 1;
	pthread_mutex_lock(&s->lock);
	c = s->conn;
	pthread_mutex_unlock(&s->lock);
	/* c is freed only by the shim thread, which waits for the lock */
	if (c && c->loop == loop)
		done = mps_direct_conn_write(c, iov, n);
	mps_inside = 0;
	mps_engine_unlock();
	mps_sock_put(s);
	errno = saved;
	return done ? (ssize_t)done : -1;
}
