/* dss_rx.c - the DSS receive side (RFC 8684 3.3): frames decoded from a
 * subflow's bytes, in-order payloads written to the app (reassembly and
 * the DATA_FIN rules are dss_rcv.c's, the out-of-order queue ofo.c's, the
 * data ACKs and the window we advertise dss_ack.c's), the app's end
 * closing.
 * Shim thread only.
 *
 * Data path: read into the subflow's buffer (subflow.c), decode frames in
 * place, writev the in-order payloads straight to app_fd; data ahead of a
 * gap (another subflow is behind) waits in the out-of-order queue, what
 * the app cannot take now in rxq.  No per-byte work, no lock. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conn_api.h"
#include "conn_int.h"
#include "dss_ack_int.h"
#include "dss_rx_int.h"
#include "dss_tx_int.h"
#include "prio_int.h"
#include "subflow_int.h"
#include "mptcpshim/util.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/log.h"
#include "mptcpshim/real.h"
#include "mptcpshim/stat.h"
#include "rxwatch_int.h"

#define FIN_WAIT_TIMEOUT 60.0 /* app closed: wait this long for the peer's FIN */

static int rxq_empty(const struct mps_conn *c)
{
	return c->rxq.una == c->rxq.end;
}

/* ------------------------------------------------------------- receive
 * MP mode never stops reading its subflows: ACKs travel in-band behind
 * data, so a receiver that stopped reading when its app is slow would
 * never see the ACKs that let its own sender go on (both apps echoing
 * deadlock that way).  In-order bytes go straight to the app; what the app
 * cannot take now waits in rxq, which the advertised window bounds. */

/* Write to the app.  Bytes written (0 when its buffer is full), or -1 when
 * the app is gone (c is then aborted). */
static ssize_t app_write(struct mps_conn *c, struct iovec *iov, int n)
{
	ssize_t w;

	if (c->gw_connecting)
		return 0; /* no app end yet: the bytes wait in rxq (gwconn.c) */
	if (c->inl) {
		/* the app's buffer while it reads (inline.c) */
		w = mps_conn_inline_deliver(c, iov, n);
		if (w >= 0)
			return w;
		errno = EPIPE;
		goto app_gone;
	}
	if (c->gw_dest_err || c->gw_drop) {
		/* the destination is gone (or never came): what the client sends meets a reset
		 * socket and is dropped (the reset follows, gwconn.c) */
		for (w = 0; n > 0; n--, iov++)
			w += (ssize_t)iov->iov_len;
		return w;
	}
	do
		w = mps_real.writev(c->app_fd, iov, n);
	while (w < 0 && errno == EINTR);
	if (w > 0)
		mps_stat(c, NULL, MPS_MIB_BYTES_RECEIVED, (uint64_t)w);
	if (w >= 0)
		return w;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	if (c->gw_splice) {
		mps_conn_hooks()->gw_dest_failed(c, errno);
		return app_write(c, iov, n); /* dropped */
	}
app_gone:
	/* EPIPE/ECONNRESET: the app closed; data it will never read. */
	mps_info("conn %s: resetting: the app closed with data for it unread (%s), as TCP does",
	         c->peer_str, strerror(errno));
	mps_conn_abort(c, MPS_CR_ABORT, 1, NULL);
	return -1;
}

/* The app sees EOF once every byte before the DATA_FIN is in its hands. */
static void fin_to_app(struct mps_conn *c)
{
	if (mps_conn_rcv_fin(c) && !c->fin_delivered && rxq_empty(c) && !c->gw_connecting) {
		c->fin_delivered = 1;
		if (!c->gw_drop && !c->inl && c->app_fd >= 0) /* (-1: the app closed) */
			mps_real.shutdown(c->app_fd, SHUT_WR);
		mps_dbg("conn %s: peer finished sending", c->peer_str);
	}
}

void mps_conn_rcv_fin_reached(struct mps_conn *c)
{
	mps_conn_set_state(c, mps_conn_state_with(mps_conn_fin_sent(c), mps_conn_fin_acked(c), 1));
	ev_timer_stop(c->loop, &c->fin_timer);
	fin_to_app(c);
}

static int rxq_append(struct mps_conn *c, const uint8_t *p, size_t len)
{
	if (mps_sendbuf_space(&c->rxq) < len) {
		mps_conn_abort(c, MPS_CR_PROTOCOL, 1, "protocol: peer exceeded the receive window");
		return -1;
	}
	if (c->inl && c->sock)
		atomic_store_explicit(&c->sock->inl_rxq, 1, memory_order_relaxed); /* (epoll_ctl) */
	while (len > 0) {
		struct iovec iov[4];
		int n = mps_sendbuf_reserve(&c->rxq, iov, 4, len), i;
		size_t done = 0;

		if (n <= 0) {
			mps_conn_abort(c, MPS_CR_INTERNAL, 1, "out of memory");
			return -1;
		}
		for (i = 0; i < n; i++) {
			memcpy(iov[i].iov_base, p + done, iov[i].iov_len);
			done += iov[i].iov_len;
		}
		mps_sendbuf_commit(&c->rxq, done);
		p += done;
		len -= done;
	}
	return 0;
}

struct batch {
	struct iovec iov[64];
	int n;
};

/* Hand accepted in-order bytes on: to the app directly when nothing waits
 * before them, the rest into rxq.  0, or -1 when c died. */
static int batch_flush(struct mps_conn *c, struct batch *b)
{
	ssize_t w = 0;
	int i;

	if (b->n == 0)
		return 0;
	if (rxq_empty(c)) {
		w = app_write(c, b->iov, b->n);
		if (w < 0)
			return -1;
	}
	for (i = 0; i < b->n; i++) {
		size_t len = b->iov[i].iov_len;

		if ((size_t)w >= len) {
			w -= (ssize_t)len;
			continue;
		}
		if (rxq_append(c, (const uint8_t *)b->iov[i].iov_base + w, len - (size_t)w))
			return -1;
		w = 0;
	}
	b->n = 0;
	if (!rxq_empty(c) && !c->gw_connecting && !c->inl)
		ev_io_start(c->loop, &c->app_w);
	return 0;
}

static int batch_add(struct mps_conn *c, struct batch *b, const uint8_t *p, size_t len)
{
	if (b->n == (int)MPS_ARRAY_SIZE(b->iov) && batch_flush(c, b))
		return -1;
	b->iov[b->n].iov_base = (void *)p;
	b->iov[b->n++].iov_len = len;
	return 0;
}

struct deliver_ctx {
	struct mps_conn *c;
	struct batch *b;
};

/* mps_dss_rcv_data's delivery: into the batch (nonzero when c died). */
static int deliver_to_batch(void *ctx, const uint8_t *p, size_t len)
{
	struct deliver_ctx *dc = ctx;

	return batch_add(dc->c, dc->b, p, len);
}

/* A DATA frame: its data ACK, then its mapping (dss_rcv.c) delivering into
 * b; *dup set when it held bytes we had.  0, or -1 when c ended. */
static int rx_data(struct mps_conn *c, struct batch *b, const struct mps_frame *f, int *dup,
                   const char **why)
{
	char msg[128];
	struct deliver_ctx dc = {c, b};
	int was_fin, fin, drc;

	if (c->gw_wait && c->role == MPS_CLIENT) {
		mps_conn_abort(c, MPS_CR_PROTOCOL, 1, "gateway: DATA before GWREPLY");
		return -1;
	}
	if ((f->flags & MPS_DF_ACK) && mps_dss_tx_handle_ack(c, f->u.data.ack, f->u.data.wnd))
		return -1;
	was_fin = fin = mps_conn_rcv_fin(c);
	drc = mps_dss_rcv_data(&c->dss, &c->ofo, &c->rcv_nxt, &fin, c->rcv_edge, &f->u.data,
	                       (f->flags & MPS_DF_FIN) != 0, deliver_to_batch, &dc, why);
	if (drc == -ECANCELED)
		return -1; /* c died delivering */
	if (drc < 0) {
		if (batch_flush(c, b))
			return -1;
		if (drc == -ENOSPC)
			snprintf(msg, sizeof(msg),
			         "protocol: peer's %s (%zu out-of-order ranges, the cap)", *why,
			         c->ofo.nsegs);
		else
			snprintf(msg, sizeof(msg), "protocol: %s", *why);
		if (drc == -ENOMEM)
			mps_conn_abort(c, MPS_CR_INTERNAL, 1, "out of memory");
		else
			mps_conn_abort(c, MPS_CR_PROTOCOL, 1, msg);
		return -1;
	}
	if (drc == 1)
		*dup = 1;
	if (fin && !was_fin) {
		mps_conn_set_state(
		        c, mps_conn_state_with(mps_conn_fin_sent(c), mps_conn_fin_acked(c), 1));
		ev_timer_stop(c->loop, &c->fin_timer);
	}
	return 0;
}

/* ADD_ADDR, REMOVE_ADDR (to the client's path manager) and MP_PRIO (this
 * subflow's backup flag).  0, or -1 when c ended. */
static int rx_path_frame(struct mps_conn *c, struct mps_subflow *sf, struct batch *b,
                         const struct mps_frame *f)
{
	switch (f->type) {
	case MPS_F_ADD_ADDR:
	case MPS_F_REMOVE_ADDR:
		if (c->role != MPS_CLIENT) {
			batch_flush(c, b);
			mps_conn_abort(c, MPS_CR_PROTOCOL, 1,
			               "protocol: address frame sent to a server");
			return -1;
		}
		if (f->type == MPS_F_ADD_ADDR)
			mps_conn_pm()->add_addr(c, &f->u.addr);
		else
			mps_conn_pm()->remove_addr(c, f->u.addr.addr_id);
		break;
	case MPS_F_PRIO:
		mps_prio_rx(c, sf, f->u.prio);
		break;
	}
	return 0;
}

/* What the subflows of a QUIET client held goes now; they hold again
 * after it while the client is still QUIET. */
static void release_held(struct mps_conn *c)
{
	int i;

	for (i = 0; i < c->nsf && !mps_conn_closed(c); i++) {
		c->sf[i]->quiet = 0;
		mps_sf_flush(c, c->sf[i]);
		c->sf[i]->quiet = c->peer_quiet;
	}
}

/* The client reads on its shim thread again (an ACK with MPS_AF_LOUD). */
static void peer_loud(struct mps_conn *c)
{
	if (!c->peer_quiet)
		return;
	c->peer_quiet = 0;
	release_held(c);
}

/* A QUIET client that sent much since our last DATA (an upload, a
 * request beyond its first flight) waits for our window and data ACKs:
 * what waited goes now, though no data of ours comes with it.  (A
 * keep-alive client's requests, each answered, never add up to it:
 * frame_data moves quiet_mark.) */
#define QUIET_FLUSH_BYTES (32u * 1024u)

static void quiet_flush(struct mps_conn *c)
{
	if (c->rcv_nxt - c->quiet_mark < QUIET_FLUSH_BYTES)
		return;
	c->quiet_mark = c->rcv_nxt;
	mps_conn_send_ack(c); /* queued, with the window */
	release_held(c);
}

static void rx_mp(struct mps_conn *c, struct mps_subflow *sf)
{
	struct batch b;
	int dup = 0, nframes = 0, more = 0;

	b.n = 0;
	while (!mps_conn_closed(c)) {
		struct mps_frame f;
		const char *why = NULL;
		char msg[128];
		int rc;

		/* A peer's frames cost per frame (one-byte DATA frames:
		 * 10,000 in a read): the rest waits for the next iteration,
		 * after the other connections. */
		if (nframes++ == RX_FRAME_BUDGET) {
			more = sf->roff < sf->rlen;
			break;
		}
		rc = mps_frame_decode(sf->rbuf + sf->roff, sf->rlen - sf->roff, &f, &why);
		if (rc == 0)
			break;
		if (rc < 0) {
			if (batch_flush(c, &b))
				return;
			snprintf(msg, sizeof(msg), "protocol: %s", why);
			mps_conn_abort(c, MPS_CR_PROTOCOL, 1, msg);
			return;
		}
		sf->peer_live = 1; /* the peer sends on it: it counts it */
		switch (f.type) {
		case MPS_F_DATA:
			if (rx_data(c, &b, &f, &dup, &why))
				return;
			break;
		case MPS_F_ACK:
			if (f.flags & MPS_AF_LOUD)
				peer_loud(c);
			if (mps_dss_tx_handle_ack(c, f.u.ack.ack, f.u.ack.wnd))
				return;
			break;
		case MPS_F_ADD_ADDR:
		case MPS_F_REMOVE_ADDR:
		case MPS_F_PRIO:
			if (rx_path_frame(c, sf, &b, &f))
				return;
			break;
		case MPS_F_GWREPLY:
			if (batch_flush(c, &b))
				return;
			if (mps_conn_hooks()->gw_reply(c, f.u.gw.msg, f.u.gw.len))
				return; /* c is gone */
			break;
		case MPS_F_CLOSE:
			if (batch_flush(c, &b))
				return;
			mps_info("conn %s: peer aborted the connection (reason %u)", c->peer_str,
			         f.u.reason);
			mps_conn_abort(c, 0, 0, NULL);
			return;
		default:
			if (batch_flush(c, &b))
				return;
			snprintf(msg, sizeof(msg), "protocol: unexpected %s frame",
			         mps_frame_type_name(f.type));
			mps_conn_abort(c, MPS_CR_PROTOCOL, 1, msg);
			return;
		}
		sf->roff += (size_t)rc;
	}
	if (batch_flush(c, &b))
		return;
	if (c->peer_quiet)
		quiet_flush(c);
	mps_ofo_advance(&c->ofo, c->rcv_nxt); /* only now: the batch pointed into it */
	fin_to_app(c);
	if (dup)
		mps_conn_send_ack(c); /* at once, even if rcv_nxt did not move */
	else
		mps_dss_ack_update(c);
	if (more && !mps_conn_closed(c) && !ev_is_active(&sf->rx_more)) {
		ev_timer_set(&sf->rx_more, 0., 0.);
		ev_timer_start(c->loop, &sf->rx_more);
	}
}

/* Plain mode: raw bytes, and plain TCP flow control (stop reading the
 * subflow while the app is full). */
static void rx_plain(struct mps_conn *c, struct mps_subflow *sf)
{
	while (sf->roff < sf->rlen) {
		struct iovec iov = {sf->rbuf + sf->roff, sf->rlen - sf->roff};
		ssize_t w = app_write(c, &iov, 1);

		if (w < 0)
			return;
		if (w == 0) {
			c->rx_blocked = 1;
			ev_io_stop(c->loop, &sf->rio);
			ev_io_start(c->loop, &c->app_w);
			return;
		}
		sf->roff += (size_t)w;
	}
}

void mps_conn_rx_process(struct mps_conn *c, struct mps_subflow *sf)
{
	if (c->rx_mode == RX_MP)
		rx_mp(c, sf);
	else if (c->rx_mode == RX_PLAIN)
		rx_plain(c, sf);
	if (mps_conn_closed(c) || sf->state == SF_DEAD)
		return;
	/* Keep a partial frame at the front for the next read. */
	if (sf->roff == sf->rlen)
		sf->roff = sf->rlen = 0;
	else if (sf->roff > 0 && RBUF_SIZE - sf->rlen < MPS_FRAME_MAX) {
		memmove(sf->rbuf, sf->rbuf + sf->roff, sf->rlen - sf->roff);
		sf->rlen -= sf->roff;
		sf->roff = 0;
	}
	mps_conn_push(c);
	if (mps_conn_closed(c))
		return;
	mps_conn_app_update_read(c);
	mps_conn_check_done(c);
}

/* The app can take more: drain rxq (MP) or resume the plain relay. */
void mps_dss_rx_app_on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_conn *c = w->data;

	if (c->gw_connecting) {
		ev_io_stop(loop, w); /* restarted with the destination's socket */
		return;
	}
	if (c->rx_mode != RX_MP) {
		struct mps_subflow *sf = c->nsf ? c->sf[0] : NULL;

		ev_io_stop(loop, w);
		c->rx_blocked = 0;
		if (!sf)
			return;
		mps_conn_rx_process(c, sf);
		/* (not while paused for the hand-back: src/handback.c) */
		if (!mps_conn_closed(c) && !c->rx_blocked && sf->fd >= 0 &&
		    !atomic_load(&c->sock->hb_listed))
			ev_io_start(loop, &sf->rio);
		return;
	}
	while (!rxq_empty(c)) {
		struct iovec iov[16];
		uint64_t dsn = c->rxq.una;
		int n = 0;
		ssize_t wr;

		while (n < 16 && mps_dsn_lt(dsn, c->rxq.end)) {
			const uint8_t *p;
			size_t len = mps_sendbuf_peek(&c->rxq, dsn, SIZE_MAX, &p);

			if (len == 0)
				break;
			iov[n].iov_base = (void *)p;
			iov[n++].iov_len = len;
			dsn += len;
		}
		wr = app_write(c, iov, n);
		if (wr < 0)
			return;
		if (wr == 0)
			return; /* still full: stay armed */
		mps_sendbuf_ack(&c->rxq, c->rxq.una + (uint64_t)wr);
	}
	ev_io_stop(loop, w);
	fin_to_app(c);
	mps_dss_ack_update(c); /* the window opened */
	mps_conn_check_done(c);
}

/* Every app descriptor is closed (or errored). */
void mps_dss_rx_app_hup(struct mps_conn *c)
{
	c->app_closed = 1;
	mps_dbg("conn %s: app closed", c->peer_str);
	if (atomic_load(&c->sock->linger0)) {
		/* close() with SO_LINGER {1, 0}: an abortive close, as TCP's RST. */
		mps_info("conn %s: resetting: the app closed with SO_LINGER {1, 0}", c->peer_str);
		mps_conn_abort(c, MPS_CR_ABORT, 1, NULL);
		return;
	}
	if (c->rx_blocked || !rxq_empty(c)) {
		/* Data for the app that it will never read: TCP answers with RST. */
		mps_info("conn %s: resetting: the app closed with %llu received bytes unread%s, "
		         "as TCP does",
		         c->peer_str, (unsigned long long)(c->rxq.end - c->rxq.una),
		         c->rx_blocked ? " (and more in a subflow)" : "");
		mps_conn_abort(c, MPS_CR_ABORT, 1, NULL);
		return;
	}
	/* Drain what the app wrote before closing; EOF then ends our stream. */
	if (!c->app_eof) {
		if (c->tx_mode == TX_HOLD)
			c->window_expired = 1;
		mps_conn_app_update_read(c);
		ev_feed_event(c->loop, &c->app_r, EV_READ);
	}
	if (!mps_conn_rcv_fin(c)) {
		ev_timer_set(&c->fin_timer, FIN_WAIT_TIMEOUT, 0.);
		ev_timer_start(c->loop, &c->fin_timer);
	}
	mps_conn_check_done(c);
}

/* The peer closed first as TCP does (MPS_CAP_FINCLOSE, frame.h): its
 * DATA_FIN came, ACKing all we sent, and its subflow's FIN behind it (a
 * look without reading: the app's reads stopped at the DATA_FIN).  Then
 * nothing of ours is due but our FIN, as resilience.c's peer-gone rule
 * says when the shim thread reads that FIN. */
static int peer_closed_first(const struct mps_conn *c, const struct mps_subflow *sf)
{
	uint8_t b;

	return c->fin_close_ok && sf && c->nsf == 1 && sf->state == SF_ACTIVE && sf->fd >= 0 &&
	       mps_conn_rcv_fin(c) && c->fin_delivered && c->snd_una == c->sb.end &&
	       !mps_conn_fin_sent(c) && !atomic_load(&c->sock->linger0) &&
	       mps_real.recv(sf->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

void mps_dss_rx_inline_eof(struct mps_conn *c)
{
	if (!peer_closed_first(c, c->nsf ? c->sf[0] : NULL))
		return;
	/* as the shim thread's read of that FIN would (resilience.c):
	 * what the app writes from now on meets a closed socket (EPIPE) */
	c->peer_gone = 1;
	mps_conn_check_done(c);
}

/* An inline connection's app closed its number (inline.c): as the last
 * close of an app end, with the app's writes all taken; the shim thread
 * reads the subflow from now on. */
void mps_dss_rx_inline_hup(struct mps_conn *c)
{
	struct mps_subflow *sf = c->nsf ? c->sf[0] : NULL;

	c->inl = 0;
	c->app_eof = 1;
	c->app_closed = 1; /* (for the DATA_FIN's FIN: dss_tx.c) */
	if (peer_closed_first(c, sf)) {
		/* the app closes as a TCP peer's second close: a FIN only */
		c->peer_gone = 1;
		mps_dss_rx_app_hup(c);
		return;
	}
	/* its ACKs (of our DATA_FIN) may come alone now: the LOUD ACK goes
	 * out with the DATA_FIN, in one segment */
	if (c->quiet_ok)
		mps_dss_ack_send_loud(c, atomic_load(&c->sock->linger0));
	if (!atomic_load(&c->sock->linger0)) {
		mps_conn_push(c);
		if (mps_conn_closed(c))
			return;
		if (sf && c->quiet_ok)
			mps_sf_flush(c, sf); /* (no DATA_FIN yet: the LOUD ACK alone) */
	}
	/* (a blocking app's socket stays blocking: every read and write of
	 * the shim thread says MSG_DONTWAIT, subflow.c).  On the app's
	 * thread the loop is not woken for it: rxwatch.c; a DATA_FIN that
	 * left with the FIN waits for nothing but the peer's FIN (lazy).
	 * (Readiness is epoll's at the add: bytes that came meanwhile count.) */
	if (sf && sf->state != SF_DEAD && sf->fd >= 0 &&
	    (!mps_offloop || mps_rxwatch_add(c->loop, sf, c->fin_close && sf->wr_shut) != 0)) {
		ev_io_start(c->loop, &sf->rio);
		ev_feed_event(c->loop, &sf->rio, EV_READ);
	}
	mps_dss_rx_app_hup(c);
}

/* conn_api.h: a subflow joined (path.c, either end).  An inline
 * connection joins, and takes a join, only once promoted (path.c), so the
 * peer reads on its shim thread now, whether or not its LOUD came: that
 * ACK may wait in its first subflow's queue for data that goes on the new
 * one, and ours in ours (each end holding for the other: a QUIET client of
 * an inline server), until neither DATA_FIN can be ACKed. */
void mps_conn_peer_joined(struct mps_conn *c)
{
	peer_loud(c);
}

/* conn_api.h: a joined subflow's first bytes. */
void mps_conn_sf_input(struct mps_conn *c, struct mps_subflow *sf)
{
	mps_conn_rx_process(c, sf);
}
