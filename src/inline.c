/* inline.c - inline connections (issue 15; docs/DESIGN.md section 7,
 * "Inline connections"; the interface: include/mptcpshim/inline.h).
 *
 * A socketpair connection costs every message two thread hand-offs per
 * side (kernel -> shim thread -> app, and back) and every connection a
 * socketpair, its registrations and a swap.  An inline connection has
 * none: the app's number is the first subflow's TCP socket; its writes
 * are framed and sent, its reads deframed, on its own thread under the
 * engine lock.  The kernel wakes the app itself.  The shim thread keeps
 * the connection's timers and does not read the subflow.
 *
 * What the app sees must stay TCP's, so whatever this path cannot answer
 * so promotes the connection (mps_inline_promote): a socketpair swapped in
 * behind the app's number, the shim thread reading the subflow from then
 * on, exactly as a connection adopted at connect.  Promoted: a write that
 * finds a backlog or no room, a read whose frames held more than the
 * app's buffer took (the rest would wait where no readiness shows it),
 * joins (a second subflow), the subflow's end or failure, a fallback,
 * the negotiation or progress timers firing (the app does not read),
 * unusual flags, dup, fork, exec, sendfile... (the hooks).
 *
 * Locking: the engine lock (enginelock.c, mps_engine_lock) around every
 * step; s->lock inside it for s->conn. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn_int.h"
#include "dss_ack_int.h"
#include "dss_rx_int.h"
#include "dss_tx_int.h"
#include "enginelock_int.h"
#include "handover_int.h"
#include "inline_int.h"
#include "path_int.h"
#include "subflow_int.h"
#include "mptcpshim/conn.h"
#include "mptcpshim/fdhigh.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/inline.h"
#include "mptcpshim/log.h"
#include "mptcpshim/real.h"
#include "mptcpshim/stat.h"
#include "mptcpshim/util.h"

atomic_int mps_inline_socks;
static int (*g_swap)(int fd, int app_end, struct mps_sock *s);

void mps_inline_set_swap(int (*swap)(int fd, int app_end, struct mps_sock *s))
{
	g_swap = swap;
}

/* ------------------------------------------------------------- promotion */

/* The app's end of a new socketpair behind the app's number; the shim's
 * end becomes c->app_fd and the connection goes on as any other.  0 or
 * -errno (then it stays inline: the caller's call fails as TCP's would
 * on ENOMEM/EMFILE). */
static void promoted_reads(struct mps_conn *c, struct mps_subflow *sf, int at_exit);

static int promote(struct mps_conn *c, const char *why)
{
	struct mps_sock *s = c->sock;
	struct mps_subflow *sf = c->nsf ? c->sf[0] : NULL;
	struct stat st;
	int sp[2], hi, fl, rc, at_exit;

	if (!c->inl)
		return 0;
	if (!g_swap)
		return -ENOSYS;
	fl = mps_real.fcntl(c->inl_fd, F_GETFL);
	if (fl < 0)
		return -errno;
	rc = mps_socketpair_room(SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, sp);
	if (rc)
		return rc;
	mps_grow_pair_buffer(sp[0]);
	mps_grow_pair_buffer(sp[1]);
	rc = mps_fd_high_many(&sp[1], &hi, 1);
	if (rc) {
		mps_real.close(sp[0]);
		mps_real.close(sp[1]);
		return rc;
	}
	mps_real.close(sp[1]);
	mps_ifd_add(hi);
	if (!(fl & O_NONBLOCK))
		mps_real.fcntl(sp[0], F_SETFL, 0);
	if (mps_fstat(sp[0], &st) != 0 || (rc = g_swap(c->inl_fd, sp[0], s)) != 0) {
		rc = rc ? rc : -errno;
		mps_real.close(sp[0]);
		mps_ifd_close(hi);
		return rc;
	}
	mps_real.close(sp[0]);
	/* the socket is ours alone now: the engine's reads rely on it */
	if (sf && !(fl & O_NONBLOCK))
		mps_real.fcntl(sf->fd, F_SETFL, fl | O_NONBLOCK);
	pthread_mutex_lock(&s->lock);
	s->ino = st.st_ino;
	pthread_mutex_unlock(&s->lock);
	atomic_store(&s->inl, 0);
	atomic_fetch_sub(&mps_inline_socks, 1);
	c->inl = 0;
	c->app_fd = hi;
	ev_io_set(&c->app_r, hi, EV_READ);
	ev_io_set(&c->app_w, hi, EV_WRITE);
	at_exit = strcmp(why, "exit") == 0; /* the exit drain's, not a fallback of the path */
	if (!at_exit)
		mps_stat(c, NULL, MPS_MIB_INLINE_PROMOTED, 1);
	if (c->quiet_ok)
		mps_dss_ack_send_loud(c, 1); /* the server may send frames without data again */
	mps_dbg("conn %s: promoted to a socketpair (%s; %d waiting)", c->peer_str, why,
	        atomic_load(&s->inl_waiters));
	if (c->app_eof)
		mps_real.shutdown(hi, SHUT_RD); /* the app shut its side before */
	if (c->fin_delivered)
		mps_real.shutdown(hi, SHUT_WR); /* the app saw EOF already */
	if (mps_conn_hup_watch(c) != 0) {
		mps_conn_abort(c, MPS_CR_INTERNAL, 1, "cannot watch the app's descriptor");
		return 0;
	}
	if (c->rxq.una != c->rxq.end)
		ev_io_start(c->loop, &c->app_w);
	promoted_reads(c, sf, at_exit);
	mps_conn_app_update_read(c);
	return 0;
}

/* promote's last step: the shim thread reads the subflow from now on. */
static void promoted_reads(struct mps_conn *c, struct mps_subflow *sf, int at_exit)
{
	/* while an app thread waits on the TCP socket, its bytes are peeked
	 * and forwarded, not taken (inline_peek.c), until the last wait ends */
	if (sf && sf->state != SF_DEAD) {
		if (!sf->rtt_us) /* (an inline start reads none: connect.c) */
			sf->rtt_us = mps_sf_tcp_rtt_us(sf->fd);
		c->inl_rx_defer = atomic_load(&c->sock->inl_waiters) > 0;
		ev_io_start(c->loop, &sf->rio);
		ev_feed_event(c->loop, &sf->rio, EV_READ);
	}
	if (c->role == MPS_SERVER && c->rx_mode == RX_NEGO) {
		/* the shim thread reads the HELLO now, as at any server's
		 * accept: the inline look's deadline (inl_look) or a begun
		 * HELLO's is over (a HELLO still partial when it reads arms
		 * the timer again: mpcap.c).  Left running, it judged the HELLO
		 * by what the shim thread had not read yet: a shim client of a
		 * server that forked at that moment was served plain
		 * (handover.sh kept with MPTCPSHIM_INLINE=1) */
		ev_timer_stop(c->loop, &c->hello_timer);
		mps_conn_server_await(c); /* the banner window, as at accept */
	}
	if (c->pm_gate && c->role == MPS_CLIENT && !c->inl_rx_defer && !at_exit) {
		/* joins that waited for the promotion (path.c); with a thread
		 * still waiting on the socket, once it is done (wait_end).
		 * Now, not at the inline look's next time (up to 5 s away).
		 * Not at the app's exit: a join for each of wrk's 500
		 * keep-alive connections met their resets */
		mps_path_pm_now(c);
	}
}

const struct mps_inline_ops mps_inline_ops = {
        .promote = promote,
        .deliver = mps_inline_deliver,
};

/* ------------------------------------------------------------- receive */

/* An inline server's client turned out plain: the connection is let go
 * (inline_srv.c), the app's number stays its TCP socket. */
static void hand_back(struct mps_conn *c, const char *why)
{
	if (atomic_exchange(&c->sock->inl, 0))
		atomic_fetch_sub(&mps_inline_socks, 1);
	mps_inline_hand_back(c, why);
}

/* Before reading or writing: 0 when c may go on inline (negotiated),
 * -EAGAIN (an inline server's client has not spoken yet), -EXDEV (it was
 * plain: handed back), -ECONNRESET. */
static int nego_done(struct mps_conn *c)
{
	const char *why = NULL;
	int rc;

	if (c->rx_mode != RX_NEGO || c->role != MPS_SERVER)
		return 0;
	rc = mps_inline_server_nego(c, &why);
	if (rc == -EPIPE) {
		hand_back(c, why);
		return -EXDEV;
	}
	return rc;
}

/* What the socket holds, read and processed with nowhere to deliver but
 * rxq (the look ahead of a poll or select, mps_inline_ready).  -EXDEV
 * when that promoted the connection, else 0. */
static int read_ahead(struct mps_conn *c)
{
	struct mps_subflow *sf = c->sf[0];
	ssize_t r;
	int err;

	if (atomic_load(&c->sock->state) == MPS_SS_CONNECTING)
		mps_conn_inline_connected(c);
	if (atomic_load(&c->sock->state) == MPS_SS_CONNECTING || sf->state == SF_CONNECTING)
		return 0;
	err = nego_done(c);
	if (err)
		return err == -EAGAIN ? 0 : -EXDEV;
	c->inl_dst = NULL;
	for (;;) {
		err = c->inl_err;
		c->inl_err = 0;
		if (err)
			r = -1, errno = err;
		else
			do
				r = mps_real.recv(sf->fd, sf->rbuf + sf->rlen, RBUF_SIZE - sf->rlen,
				                  MSG_DONTWAIT);
			while (r < 0 && errno == EINTR);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0) {
			err = r < 0 ? errno : 0;
			if (promote(c, err ? "subflow failed" : "subflow closed") == 0)
				mps_sf_input_eof(c, sf, err);
			return -EXDEV;
		}
		sf->rlen += (size_t)r;
		sf->rx_bytes += (uint64_t)r;
		mps_sf_input(c, sf);
		if (mps_conn_closed(c) || !c->inl)
			return -EXDEV;
		if (sf->rlen == RBUF_SIZE || ev_is_active(&sf->rx_more))
			return promote(c, "a look ahead that filled the buffer") ? 0 : -EXDEV;
	}
}

/* A bulk receiver (a download read with large buffers) never leaves
 * bytes over and so would stay inline, and single-path, for good: reads
 * that each deliver BULK_READ or more, adding up to BULK_BYTES within a
 * second, promote the connection, and it joins.  (Request/response reads
 * are small, or few per second.)  A bulk sender likewise: its writes
 * leave at once while the subflow's kernel buffer (megabytes, autotuned)
 * takes them, so an upload joined only after INLINE_JOIN_AFTER (path.c),
 * single-path for its first 5 s; reads and writes count together. */
#define BULK_READ 4096u
#define BULK_BYTES (1024u * 1024u)

static void bulk_moved(struct mps_conn *c, size_t got, const char *why)
{
	if (got < BULK_READ || !c->inl)
		return;
	if (ev_now(c->loop) - c->inl_rx_t > 1.0) {
		c->inl_rx_t = ev_now(c->loop);
		c->inl_rx_bulk = 0;
	}
	c->inl_rx_bulk += got;
	if (c->inl_rx_bulk >= BULK_BYTES)
		promote(c, why);
}

/* One look at the subflow for the app's read (engine lock held).  Bytes
 * delivered, 0 at EOF, -EAGAIN for nothing yet, -EXDEV when promoted on
 * the way (the caller reads the app's end), or -errno. */
static ssize_t conn_recv(struct mps_conn *c, const struct iovec *dst, int n)
{
	struct mps_subflow *sf = c->sf[0];
	uint64_t rx0;
	size_t cap = mps_inline_iov_len(dst, n);
	ssize_t r;
	int err;

	if (c->rxq.una != c->rxq.end) {
		/* what a poll or select read ahead */
		size_t got = mps_inline_rxq_take(c, dst, n);

		bulk_moved(c, got, "bulk data received");
		return (ssize_t)got;
	}
	if (c->fin_delivered)
		return 0;
	if (cap == 0)
		return 0;
	if (atomic_load(&c->sock->state) == MPS_SS_CONNECTING)
		mps_conn_inline_connected(c); /* (its HELLO leaves now) */
	if (atomic_load(&c->sock->state) == MPS_SS_CONNECTING || sf->state == SF_CONNECTING)
		return -EAGAIN;
	err = nego_done(c);
	if (err)
		return err;
	c->inl_dst = dst;
	c->inl_ndst = n;
	c->inl_got = 0;
	rx0 = sf->rx_bytes;
	for (;;) {
		/* about what the app takes: frames beyond it would wait in rxq */
		size_t want = MPS_MIN(RBUF_SIZE - sf->rlen, cap + 512);

		err = c->inl_err;
		c->inl_err = 0;
		if (err)
			r = -1, errno = err;
		else
			do
				r = mps_real.recv(sf->fd, sf->rbuf + sf->rlen, want, MSG_DONTWAIT);
			while (r < 0 && errno == EINTR);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r <= 0) {
			/* the subflow ended or failed: the shim thread's business */
			err = r < 0 ? errno : 0;
			c->inl_dst = NULL;
			if (promote(c, err ? "subflow failed" : "subflow closed"))
				return -ENOMEM;
			mps_sf_input_eof(c, sf, err);
			return c->inl_got ? (ssize_t)c->inl_got : -EXDEV;
		}
		sf->rlen += (size_t)r;
		sf->rx_bytes += (uint64_t)r;
		mps_sf_input(c, sf);
		if (!mps_conn_closed(c) && c->inl && c->rx_mode == RX_MP && !c->quiet_ok)
			promote(c, "the server sends frames without data (no QUIET)");
		if (mps_conn_closed(c) || !c->inl || c->inl_got > 0 || c->fin_delivered)
			break;
	}
	c->inl_dst = NULL;
	if (mps_conn_closed(c))
		return c->inl_got ? (ssize_t)c->inl_got : -ECONNRESET;
	if (!c->inl)
		return c->inl_got ? (ssize_t)c->inl_got : -EXDEV;
	/* bytes the app's buffer could not take, frames left for later:
	 * an epoll set would not show them readable (wait.c's poll/select
	 * do: kept there when this promotion finds no descriptor) */
	if (c->rxq.una != c->rxq.end || ev_is_active(&sf->rx_more))
		promote(c, "more than the app's read took");
	bulk_moved(c, c->inl_got, "bulk data received");
	mps_inline_ack_watch(c);
	if (c->inl_got)
		return (ssize_t)c->inl_got;
	if (!c->fin_delivered && sf->rx_bytes != rx0)
		mps_dbg("conn %s: inline read: frames with no app byte (%llu B)", c->peer_str,
		        (unsigned long long)(sf->rx_bytes - rx0));
	if (!c->fin_delivered)
		return -EAGAIN;
	mps_dss_rx_inline_eof(c); /* (c may end here: not looked at again) */
	return 0;
}

/* s's connection with the engine lock held, or NULL (unlocked) when it
 * is gone or no longer inline (*real: make the real call). */
static struct mps_conn *lock_conn(struct mps_sock *s, int *real)
{
	struct mps_conn *c;

	*real = 0;
	if (!atomic_load(&s->inl)) {
		*real = 1;
		return NULL;
	}
	if (!mps_engine_lock())
		return NULL;
	pthread_mutex_lock(&s->lock);
	c = s->conn;
	pthread_mutex_unlock(&s->lock);
	if (c && c->inl)
		return c;
	*real = !atomic_load(&s->inl);
	mps_engine_unlock();
	return NULL;
}

/* The connection is gone while the app still holds the TCP socket: what
 * TCP would say now (its error once, then EOF for reads, EPIPE for
 * writes). */
static ssize_t gone(struct mps_sock *s, int reading)
{
	int e = atomic_exchange(&s->pending_err, 0);

	if (e) {
		atomic_fetch_sub(&mps_pending_errors, 1);
		errno = e;
		return -1;
	}
	if (reading)
		return 0;
	errno = EPIPE;
	return -1;
}

/* 1 when the wait was on the app's end (promoted before it): its error
 * is the app's, reported once (a PEEK takes af_unix's ECONNRESET). */
static int wait_readable(int fd, struct mps_sock *s, int *err)
{
	char b;
	ssize_t r;
	int app_end;

	/* a real recv: SA_RESTART, SO_RCVTIMEO and EINTR behave as TCP's */
	mps_inline_wait_begin(s);
	/* promoted just before: fd is the app's end now, which the shim
	 * thread fills (after, the shim thread leaves our bytes to us) */
	app_end = !atomic_load(&s->inl);
	r = mps_real.recv(fd, &b, 1, MSG_PEEK);
	*err = r < 0 ? errno : 0;
	mps_inline_wait_end(s);
	return app_end;
}

ssize_t mps_inline_recv(int fd, struct mps_sock *s, const struct iovec *iov, int n, int nonblock)
{
	for (;;) {
		struct mps_conn *c;
		ssize_t r;
		int real, err;

		c = lock_conn(s, &real);
		if (!c) {
			if (real)
				return MPS_INLINE_REAL;
			return gone(s, 1);
		}
		r = conn_recv(c, iov, n);
		mps_engine_unlock();
		if (r >= 0)
			return r;
		if (r == -EXDEV)
			return MPS_INLINE_REAL;
		if (r != -EAGAIN) {
			if (r == -ECONNRESET)
				return gone(s, 1);
			errno = (int)-r;
			return -1;
		}
		if (nonblock) {
			errno = EAGAIN;
			return -1;
		}
		if (wait_readable(fd, s, &err) && err) {
			errno = err;
			return -1;
		}
		if (err == EINTR || err == EAGAIN || err == EWOULDBLOCK) {
			errno = err;
			return -1;
		}
		if (err) {
			/* the PEEK took the socket's error: the next look sees it */
			c = lock_conn(s, &real);
			if (c) {
				c->inl_err = err;
				mps_engine_unlock();
			}
		}
	}
}

void mps_inline_connect_check(struct mps_sock *s)
{
	struct mps_conn *c;
	int real;

	if (atomic_load(&s->state) != MPS_SS_CONNECTING || !(c = lock_conn(s, &real)))
		return;
	if (atomic_load(&s->state) == MPS_SS_CONNECTING)
		mps_conn_inline_connected(c);
	mps_engine_unlock();
}

int mps_inline_ready(struct mps_sock *s)
{
	struct mps_conn *c;
	int real, ready;

	c = lock_conn(s, &real);
	if (!c)
		return 1; /* promoted or gone: what the kernel said holds */
	ready = c->rxq.una != c->rxq.end || c->fin_delivered || read_ahead(c) != 0 ||
	        c->rxq.una != c->rxq.end || mps_conn_rcv_fin(c);
	mps_engine_unlock();
	return ready;
}

int mps_inline_fionread(struct mps_sock *s, int *n)
{
	struct mps_conn *c;
	int real, k = -1;

	c = lock_conn(s, &real);
	if (!c)
		return real ? MPS_INLINE_REAL : (*n = 0);
	if (c->rx_mode == RX_MP && !c->fin_delivered)
		k = mps_inline_count_readable(c);
	if (k < 0 && promote(c, "ioctl(FIONREAD)") == 0)
		k = MPS_INLINE_REAL; /* the app's end answers */
	mps_engine_unlock();
	if (k >= 0)
		*n = k;
	return k < 0 ? MPS_INLINE_REAL : 0;
}

int mps_inline_pending(struct mps_sock *s)
{
	struct mps_conn *c;
	int real, p;

	c = lock_conn(s, &real);
	if (!c)
		return 0;
	p = c->rxq.una != c->rxq.end;
	mps_engine_unlock();
	return p;
}

/* ------------------------------------------------------------- send */

static ssize_t conn_send_now(struct mps_conn *c, const struct iovec *iov, int n);

static ssize_t conn_send(struct mps_conn *c, const struct iovec *iov, int n)
{
	ssize_t r;

	if (atomic_load(&c->sock->state) != MPS_SS_CONNECTING)
		return conn_send_now(c, iov, n);
	/* the connect is done if the kernel says so: the HELLO it queues
	 * waits for this write, one segment for both (connect.c) */
	c->hello_with_write = 1;
	mps_conn_inline_connected(c);
	c->hello_with_write = 0;
	r = conn_send_now(c, iov, n);
	if (r > 0 && atomic_load(&c->sock->state) == MPS_SS_CONNECTED)
		mps_stat(c, NULL, MPS_MIB_INLINE_HELLO_SHARED, 1);
	if (!mps_conn_closed(c) && c->nsf && c->sf[0]->nseg)
		mps_sf_flush(c, c->sf[0]); /* (not written with it: alone) */
	return r;
}

static ssize_t conn_send_now(struct mps_conn *c, const struct iovec *iov, int n)
{
	size_t d;
	int rc;

	if (mps_conn_closed(c))
		return -ECONNRESET;
	if (atomic_load(&c->sock->state) == MPS_SS_CONNECTING)
		return -EAGAIN;
	if (!c->inl)
		return -EXDEV;
	rc = nego_done(c);
	/* an inline server's app speaks first: its bytes wait for the
	 * banner window on the shim thread, as at any server's (a HELLO may
	 * come) */
	if (rc == -EAGAIN)
		return promote(c, "the app spoke before its client") ? -ENOMEM : -EXDEV;
	if (rc)
		return rc;
	d = mps_dss_tx_app_write(c, iov, n);
	/* the rest of a partly taken write goes through the app's end (a
	 * blocking socket waits there for room, as TCP's would) */
	if (d > 0 && d < mps_inline_iov_len(iov, n))
		promote(c, "a write taken in part");
	mps_inline_ack_watch(c);
	if (d > 0) {
		bulk_moved(c, d, "bulk data sent");
		return (ssize_t)d;
	}
	/* a backlog, no room, or a state this path does not serve */
	return promote(c, "a write that could not leave at once") ? -ENOMEM : -EXDEV;
}

ssize_t mps_inline_send(int fd, struct mps_sock *s, const struct iovec *iov, int n, int nonblock)
{
	for (;;) {
		struct mps_conn *c;
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		ssize_t r;
		int real;

		c = lock_conn(s, &real);
		if (!c) {
			if (real)
				return MPS_INLINE_REAL;
			return gone(s, 0);
		}
		r = conn_send(c, iov, n);
		mps_engine_unlock();
		if (r > 0)
			return r;
		if (r == -EXDEV)
			return MPS_INLINE_REAL;
		if (r == -ECONNRESET)
			return gone(s, 0);
		if (r != -EAGAIN) {
			errno = (int)-r;
			return -1;
		}
		/* the connect is still under way, as TCP's send would wait */
		if (nonblock) {
			errno = EAGAIN;
			return -1;
		}
		if (mps_real.poll(&p, 1, -1) < 0 && errno == EINTR)
			return -1;
	}
}

/* ------------------------------------------------------------- the rest */

void mps_inline_promote_sock(struct mps_sock *s, const char *why)
{
	struct mps_conn *c;
	int real;

	c = lock_conn(s, &real);
	if (!c)
		return;
	if (promote(c, why))
		mps_warn("conn %s: cannot take a socketpair (%s): the connection stays inline",
		         c->peer_str, why);
	mps_engine_unlock();
}

void mps_inline_promote_all(const char *why)
{
	struct mps_conn *c;

	if (!atomic_load(&mps_inline_socks) || !mps_engine_lock())
		return;
	for (c = mps_conn_first(); c; c = mps_conn_next(c))
		if (c->inl && !mps_conn_closed(c))
			promote(c, why);
	mps_engine_unlock();
}

void mps_inline_close(int fd, struct mps_sock *s)
{
	struct mps_conn *c;
	int real;

	(void)fd;
	c = lock_conn(s, &real);
	if (atomic_exchange(&s->inl, 0))
		atomic_fetch_sub(&mps_inline_socks, 1);
	if (!c)
		return;
	if (c->rx_mode == RX_NEGO && c->role == MPS_SERVER) {
		/* closed before its client spoke: TCP's own close */
		hand_back(c, "the app closed first");
		mps_engine_unlock();
		return;
	}
	/* the shim thread reads the subflow from now on (DATA_ACKs, the
	 * peer's DATA_FIN; data for a closed app resets, as TCP does) */
	mps_dss_rx_inline_hup(c);
	mps_engine_unlock();
}

int mps_inline_shutdown(int fd, struct mps_sock *s, int how)
{
	struct mps_conn *c;
	int real;

	(void)fd;
	if (how == SHUT_RD || how == SHUT_RDWR) {
		/* a read side shut is the app end's business */
		mps_inline_promote_sock(s, "shutdown(SHUT_RD)");
		return MPS_INLINE_REAL;
	}
	c = lock_conn(s, &real);
	if (!c)
		return real ? MPS_INLINE_REAL : 0;
	if (c->rx_mode == RX_NEGO && c->role == MPS_SERVER) {
		int rc = promote(c, "shutdown before its client spoke");

		mps_engine_unlock();
		if (rc) {
			errno = -rc;
			return -1;
		}
		return MPS_INLINE_REAL;
	}
	atomic_store(&s->shut_wr, 1);
	if (!c->app_eof) {
		c->app_eof = 1;
		mps_conn_push(c);
		if (!mps_conn_closed(c))
			mps_conn_check_done(c);
	}
	mps_engine_unlock();
	return 0;
}

/* A thread about to sleep on s's socket (poll, select, a blocking read).
 * A server's connection gets joins whenever its client likes, and the
 * kernel would not wake a thread asleep on the first subflow's socket for
 * bytes over another: a join that comes meanwhile promotes the
 * connection and waits until the last such wait is over
 * (mps_inline_join_held), so blocking and poll/select servers stay
 * inline until then. */
void mps_inline_wait_begin(struct mps_sock *s)
{
	atomic_fetch_add(&s->inl_waiters, 1);
}

void mps_inline_wait_end(struct mps_sock *s)
{
	struct mps_conn *c;

	if (atomic_fetch_sub(&s->inl_waiters, 1) != 1 || atomic_load(&s->inl))
		return;
	/* promoted while it waited: the shim thread may read the subflow now */
	if (!mps_engine_lock())
		return;
	pthread_mutex_lock(&s->lock);
	c = s->conn;
	pthread_mutex_unlock(&s->lock);
	if (c && c->inl_rx_defer && !mps_conn_closed(c) && atomic_load(&s->inl_waiters) == 0) {
		c->inl_rx_defer = 0;
		ev_timer_stop(c->loop, &c->inl_timer);
		mps_inline_drop_forwarded(c);
		if (c->pm_gate && c->role == MPS_CLIENT)
			mps_path_pm_now(c); /* joins now (path.c) */
		if (c->inl_join_held) { /* a server's: its client's joins go on */
			c->inl_join_held = 0;
			mps_ho_joins_resume(c->loop, c->local_token);
		}
		if (c->nsf && c->sf[0]->state != SF_DEAD) {
			ev_io_start(c->loop, &c->sf[0]->rio);
			ev_feed_event(c->loop, &c->sf[0]->rio, EV_READ);
		}
	}
	mps_engine_unlock();
}
