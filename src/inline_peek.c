/* inline_peek.c - the shim thread's looks at a subflow the app's thread
 * reads (inline connections, inline.c; docs/DESIGN.md section 7).
 *
 * While an inline connection's app has not read (it computes, or waits for
 * an answer the peer sends only once it has all of a request that our
 * window held back), the peer's data ACKs must still reach us: control
 * frames at the head of the socket are taken and processed; a DATA frame
 * (or a partial frame, or anything odd) is left for the app, whose wait
 * the kernel ends, and the watcher stops until the app's next call.
 *
 * And while a promoted connection's app thread still waits on the TCP
 * socket, a read of ours could leave it asleep (inl_rx_defer): forward.
 * Shim thread, engine lock held. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "inline_int.h"
#include "subflow_int.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/real.h"
#include "mptcpshim/util.h"

/* A promoted connection while an app thread may still wait on the TCP
 * socket (inl_rx_defer): the wait may have begun on the TCP socket (the
 * kernel ends it only while bytes are there: none may be taken) or on the
 * app's new end (it ends only once we deliver).  So the socket's bytes
 * are peeked, not taken, and processed as read (delivered to the app's
 * end); c->inl_fwd counts them, and they are dropped from the socket
 * once no app thread waits (drop_forwarded).  The watcher stops after
 * each look (the bytes stay readable): the waits end at once now, and
 * their end resumes it. */
static uint8_t g_peek[RBUF_SIZE]; /* shim thread */
#define FORWARD_EVERY 0.001

static void forward(struct mps_conn *c, struct mps_subflow *sf);

static void forward_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	(void)revents;
	if (!c->inl_rx_defer || !c->nsf || c->sf[0]->id != 1 || c->sf[0]->state == SF_DEAD) {
		ev_timer_stop(loop, w);
		return;
	}
	forward(c, c->sf[0]);
}

static void forward(struct mps_conn *c, struct mps_subflow *sf)
{
	ssize_t r;
	size_t n;

	r = mps_real.recv(sf->fd, g_peek, sizeof(g_peek), MSG_PEEK | MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return; /* stays armed */
	/* what stays in the socket stays readable: a look every millisecond
	 * instead, until the waits end */
	ev_io_stop(c->loop, &sf->rio);
	if (!ev_is_active(&c->inl_timer)) {
		ev_timer_init(&c->inl_timer, forward_on_timer, FORWARD_EVERY, FORWARD_EVERY);
		c->inl_timer.data = c;
		ev_timer_start(c->loop, &c->inl_timer);
	}
	if (r <= (ssize_t)c->inl_fwd)
		return; /* nothing new, or EOF/error: read for real after the waits */
	n = MPS_MIN((size_t)r - c->inl_fwd, RBUF_SIZE - sf->rlen);
	memcpy(sf->rbuf + sf->rlen, g_peek + c->inl_fwd, n);
	c->inl_fwd += n;
	sf->rlen += n;
	sf->rx_bytes += n;
	mps_sf_input(c, sf);
	if (!mps_conn_closed(c)) {
		/* A poll or select that began before the swap sleeps on the
		 * TCP socket and looks at the app's new end only when woken:
		 * setting the low-water mark wakes it while bytes are there
		 * (tcp_set_rcvlowat), and they are. */
		int one = 1;

		mps_real.setsockopt(sf->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	}
}

void mps_inline_drop_forwarded(struct mps_conn *c)
{
	/* (TCP's MSG_TRUNC discards without copying; a real buffer all the
	 * same, for memory checkers: g_peek, under the engine lock) */
	if (c->inl_fwd && c->nsf && c->sf[0]->id == 1 && c->sf[0]->fd >= 0 &&
	    mps_real.recv(c->sf[0]->fd, g_peek, MPS_MIN(c->inl_fwd, sizeof(g_peek)),
	                  MSG_TRUNC | MSG_DONTWAIT) !=
	            (ssize_t)c->inl_fwd)
		mps_conn_abort(c, MPS_CR_INTERNAL, 1, "lost bytes dropping what was forwarded");
	c->inl_fwd = 0;
}

void mps_inline_sf_read(struct mps_conn *c, struct mps_subflow *sf)
{
	uint8_t peek[512];
	struct mps_frame f;
	const char *why;
	ssize_t r;
	int rc;

	if (!c->inl) {
		forward(c, sf);
		return;
	}
	while (!mps_conn_closed(c) && c->inl) {
		if (c->rx_mode != RX_MP || sf->roff < sf->rlen)
			break;
		r = mps_real.recv(sf->fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return; /* stays armed */
		if (r <= 0)
			break; /* EOF or an error: the app's read (or the waiter) meets it */
		rc = mps_frame_decode(peek, (size_t)r, &f, &why);
		if (rc <= 0 || f.type == MPS_F_DATA || f.type == MPS_F_CLOSE)
			break;
		r = mps_real.recv(sf->fd, sf->rbuf + sf->rlen, (size_t)rc, MSG_DONTWAIT);
		if (r != rc)
			break;
		sf->rlen += (size_t)r;
		sf->rx_bytes += (uint64_t)r;
		c->inl_dst = NULL;
		mps_sf_input(c, sf);
	}
	if (!mps_conn_closed(c) && c->inl)
		ev_io_stop(c->loop, &sf->rio);
}

/* After the app's write: bytes the peer's window held back wait for data
 * ACKs, which the app may never read before the peer answers. */
void mps_inline_ack_watch(struct mps_conn *c)
{
	if (c->inl && c->nsf && c->snd_nxt != c->sb.end && c->sf[0]->state != SF_DEAD)
		ev_io_start(c->loop, &c->sf[0]->rio);
}
