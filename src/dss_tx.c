/* dss_tx.c - the DSS send side (RFC 8684 3.3): the app's bytes into the
 * DSN send buffer, DATA frames and the DATA_FIN handed to the subflows the
 * scheduler picks, reinjected ranges first, and the peer's data ACKs and
 * window that free the buffer.  Shim thread only.
 *
 * Data path: app_fd -> readv into the DSN send buffer (mps_dss_tx_app_on_read; no copy
 * after that) -> DATA frames queued as segments on the subflow the
 * scheduler picks (mps_conn_push) -> one sendmsg per batch (subflow.c).
 * Bytes stay in the send buffer until data-ACKed (mps_dss_tx_handle_ack). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "conn_api.h"
#include "conn_int.h"
#include "ccglue_int.h"
#include "dss_ack_int.h"
#include "dss_tx_int.h"
#include "subflow_int.h"
#include "mptcpshim/defacc.h"
#include "mptcpshim/util.h"
#include "mptcpshim/log.h"
#include "mptcpshim/real.h"
#include "mptcpshim/stat.h"

#define UNSENT_MAX (1024u * 1024u) /* app bytes read but not yet framed */
#define READ_BUDGET 8              /* reads per wakeup before yielding */

/* ------------------------------------------------------------ transmit */

/* One DATA frame for [dsn, dsn + at most maxlen) onto sf.  Bytes framed. */
static size_t frame_data(struct mps_conn *c, struct mps_subflow *sf, uint64_t dsn, size_t maxlen)
{
	const uint8_t *p;
	size_t len = mps_sendbuf_peek(&c->sb, dsn, MPS_MIN(maxlen, (size_t)MPS_DATA_MAX), &p);
	struct mps_seg *s;
	int ackf = c->rx_mode == RX_MP;

	if (len == 0 || !(s = mps_sf_seg_add(sf)))
		return 0;
	s->dsn = dsn;
	s->payload = p;
	s->plen = (uint32_t)len;
	s->hlen = (uint8_t)mps_frame_put_data_hdr(s->hdr, ackf ? MPS_DF_ACK : 0, dsn, c->rcv_nxt,
	                                          mps_dss_ack_adv_wnd(c), s->plen);
	if (ackf)
		mps_dss_ack_note_sent(c);
	if (c->peer_quiet)
		c->quiet_mark = c->rcv_nxt; /* what waits rides with it (dss_rx.c) */
	sf->queued += s->hlen + len;
	sf->tx_bytes += len;
	mps_ranges_trim(&sf->sent, c->snd_una);
	mps_ranges_add(&sf->sent, dsn, dsn + len);
	if (mps_dsn_lt(c->snd_max, dsn + len))
		c->snd_max = dsn + len;
	return len;
}

/* Our DATA_FIN goes with the subflow's FIN (MPS_CAP_FINCLOSE, frame.h):
 * the app closed (not a shutdown: it reads nothing more, and bytes for it
 * now reset as TCP's would), the peer's stream goes on, and one subflow
 * carries the connection, so nothing is left for the data level to
 * resend elsewhere.  The first closer's FIN goes first, as TCP's: its
 * end, not the peer's, keeps TIME_WAIT. */
static int fin_close(const struct mps_conn *c, const struct mps_subflow *sf)
{
	return c->fin_close_ok && c->app_closed && !mps_conn_rcv_fin(c) && c->nsf == 1 &&
	       c->nparked == 0 && sf->state == SF_ACTIVE && c->rx_mode == RX_MP &&
	       !atomic_load(&c->sock->linger0);
}

static int frame_fin(struct mps_conn *c, struct mps_subflow *sf)
{
	struct mps_seg *s = mps_sf_seg_add(sf);
	int ackf = c->rx_mode == RX_MP;

	if (!s)
		return -1;
	s->dsn = c->sb.end;
	s->hlen = (uint8_t)mps_frame_put_data_hdr(s->hdr, MPS_DF_FIN | (ackf ? MPS_DF_ACK : 0),
	                                          s->dsn, c->rcv_nxt, mps_dss_ack_adv_wnd(c), 0);
	sf->queued += s->hlen;
	mps_dbg("conn %s: DATA_FIN%s on subflow %d", c->peer_str,
	        mps_conn_fin_sent(c) ? " again" : "", sf->id);
	sf->fin_on = 1;
	if (!c->fin_close && fin_close(c, sf)) {
		c->fin_close = 1;
		sf->more = 1; /* the FIN rides in its segment (sfev.c) */
	}
	mps_conn_set_state(c, mps_conn_state_with(1, mps_conn_fin_acked(c), mps_conn_rcv_fin(c)));
	c->fin_resend = 0;
	c->fin_dsn = c->sb.end;
	if (ackf)
		mps_dss_ack_note_sent(c);
	return 0;
}

/* New data may be framed up to here (the peer's window; before the peer is
 * known, the first flight). */
static uint64_t send_limit(const struct mps_conn *c)
{
	uint64_t limit = c->sb.end;

	if (mps_dsn_lt(c->snd_edge, limit))
		limit = c->snd_edge;
	return limit;
}

static size_t sf_budget(const struct mps_conn *c, const struct mps_subflow *sf, int multi)
{
	size_t cap = multi ? SF_BURST : SF_QUEUE_MAX;

	if (sf->nseg >= MAX_SEGS - 2 || sf->queued >= cap)
		return 0;
	return cap - sf->queued;
}

static void plain_frame(struct mps_conn *c, struct mps_subflow *sf);

/* Plain relay: raw bytes on the only subflow. */
static void plain_push(struct mps_conn *c)
{
	struct mps_subflow *sf = c->nsf ? c->sf[0] : NULL;

	if (!sf || sf->fd < 0 || sf->wr_dead || sf->state == SF_CONNECTING || sf->state == SF_DEAD)
		return;
	/* Frame and write until the kernel pushes back (the write watcher
	 * brings us back) or nothing is left: returning with bytes unframed
	 * and no watcher armed would strand them. */
	for (;;) {
		uint64_t before = c->snd_nxt;

		plain_frame(c, sf);
		mps_sf_flush(c, sf);
		if (c->snd_nxt == before || sf->nseg > 0 || sf->wr_dead || sf->fd < 0)
			break;
	}
	if (c->tx_mode == TX_PLAIN && c->app_eof && c->snd_nxt == c->sb.end &&
	    !mps_conn_fin_sent(c)) {
		/* shutdown(SHUT_WR) once the queue drains */
		mps_conn_set_state(c, mps_conn_state_with(1, 0, mps_conn_rcv_fin(c)));
		mps_sf_flush(c, sf);
	}
}

static void plain_frame(struct mps_conn *c, struct mps_subflow *sf)
{
	while (sf->nseg < MAX_SEGS && sf->queued < SF_QUEUE_MAX &&
	       mps_dsn_lt(c->snd_nxt, c->sb.end)) {
		const uint8_t *p;
		size_t len =
		        mps_sendbuf_peek(&c->sb, c->snd_nxt, (size_t)(c->sb.end - c->snd_nxt), &p);
		struct mps_seg *s;

		if (len == 0 || !(s = mps_sf_seg_add(sf)))
			break;
		s->plain = 1;
		s->dsn = c->snd_nxt;
		s->payload = p;
		s->plen = (uint32_t)len;
		sf->queued += len;
		sf->tx_bytes += len;
		c->snd_nxt += len;
	}
}

static void redundant_push(struct mps_conn *c, uint64_t limit)
{
	int i;

	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];
		size_t budget;

		size_t framed = 0;

		if (!mps_sf_usable(sf) || !sf->ready)
			continue;
		/* DSNs are compared modulo 2^64: an unset cursor (0) is not
		 * "behind" snd_una half the time, so it is set explicitly. */
		if (!sf->red_init || mps_dsn_lt(sf->red_nxt, c->snd_una)) {
			sf->red_nxt = c->snd_una;
			sf->red_init = 1;
		}
		budget = sf_budget(c, sf, 1);
		while (budget > 0 && mps_dsn_lt(sf->red_nxt, limit)) {
			size_t n = frame_data(c, sf, sf->red_nxt,
			                      MPS_MIN(budget, (size_t)(limit - sf->red_nxt)));

			if (!n)
				break;
			sf->red_nxt += n;
			framed += n;
			budget = n > budget ? 0 : budget - n;
		}
		if (mps_dsn_lt(c->snd_nxt, sf->red_nxt))
			c->snd_nxt = sf->red_nxt;
		mps_sf_flush(c, sf);
		if (framed || budget == 0) {
			/* More only once the kernel says it has room; with nothing
			 * to send, stay ready (re-arming would spin). */
			sf->ready = 0;
			ev_io_start(c->loop, &sf->wio);
		}
	}
}

/* The scheduler: hand new data to subflows that have room. */

/* For schedulers that weigh paths by their queues and rates (ecf): a fresh
 * TCP_INFO of each usable subflow, once per push. */
static void sched_info(struct mps_conn *c)
{
	int i;

	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		if (!mps_sf_usable(sf))
			continue;
		memset(&ti, 0, sizeof(ti));
		if (mps_real.getsockopt(sf->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
			continue;
		if (ti.tcpi_rtt)
			sf->rtt_us = ti.tcpi_rtt;
		/* The measured delivery rate, or what the congestion window
		 * allows if more: a path held back by the data-level window or
		 * by us (app-limited samples) must not look slower than it is,
		 * or ecf would hand the slow path data it should wait for. */
		sf->rate = ti.tcpi_delivery_rate;
		if (ti.tcpi_rtt) {
			uint64_t cw = (uint64_t)ti.tcpi_snd_cwnd * ti.tcpi_snd_mss * 1000000u /
			              ti.tcpi_rtt;

			if (cw > sf->rate)
				sf->rate = cw;
		}
		sf->inflight = ti.tcpi_unacked * ti.tcpi_snd_mss + ti.tcpi_notsent_bytes;
	}
}

/* The scheduler's turn (every scheduler but redundant over several
 * subflows): reinjected ranges first, then new data up to limit, to the
 * subflows it picks while they have room.  0, or -1 when c ended. */
static int sched_push(struct mps_conn *c, uint64_t limit, int multi)
{
	struct mps_sf_view v[MPS_MAX_SUBFLOWS];
	int i;

	mps_ranges_trim(&c->reinj, c->snd_una);
	if (c->sched.ops->wants_info)
		sched_info(c);
	while (c->reinj.n || mps_dsn_lt(c->snd_nxt, limit)) {
		struct mps_subflow *sf;
		size_t budget, framed = 0;
		int k;

		for (i = 0; i < c->nsf; i++) {
			struct mps_subflow *s = c->sf[i];

			v[i].rtt_us = s->rtt_us;
			v[i].usable = (uint8_t)mps_sf_usable(s);
			v[i].ready = (uint8_t)(s->ready && sf_budget(c, s, multi) > 0 &&
			                       mps_ccglue_room(c, s) > 0);
			v[i].backup = s->backup;
			v[i].tx_bytes = s->tx_bytes;
			v[i].rate = MPS_MAX(s->rate, mps_ccglue_rate(c, s));
			v[i].queued = s->inflight + (uint32_t)s->queued;
		}
		/* default and ecf: the window check */
		c->sched.chunk = SF_BURST;
		c->sched.window =
		        mps_dsn_lt(c->snd_una, c->snd_edge) ? c->snd_edge - c->snd_una : 0;
		if (c->sched.window > c->sb.limit) /* our buffer is a window too */
			c->sched.window = c->sb.limit;
		{
			uint64_t backlog = mps_dsn_lt(c->snd_nxt, limit) ? limit - c->snd_nxt : 0;
			int r;

			for (r = 0; r < c->reinj.n; r++)
				backlog += c->reinj.r[r].end - c->reinj.r[r].start;
			c->sched.backlog = backlog;
		}
		k = c->sched.ops->pick(&c->sched, v, c->nsf);
		if (k < 0)
			break;
		sf = c->sf[k];
		budget = MPS_MIN(sf_budget(c, sf, multi), mps_ccglue_room(c, sf));
		/* Reinjected bytes first: they hold up the receiver. */
		while (framed < budget && c->reinj.n) {
			uint64_t at = c->reinj.r[0].start, end = c->reinj.r[0].end;
			size_t n =
			        frame_data(c, sf, at, (size_t)MPS_MIN(budget - framed, end - at));

			if (!n)
				break;
			mps_ranges_pop(&c->reinj, n, &at);
			framed += n;
		}
		while (framed < budget && mps_dsn_lt(c->snd_nxt, limit)) {
			size_t n =
			        frame_data(c, sf, c->snd_nxt,
			                   MPS_MIN(budget - framed, (size_t)(limit - c->snd_nxt)));

			if (!n)
				break;
			c->snd_nxt += n;
			framed += n;
		}
		if (multi || framed == 0) {
			/* Next time only once the kernel says it has room. */
			sf->ready = 0;
			ev_io_start(c->loop, &sf->wio);
		}
		/* The app's last bytes: its DATA_FIN follows in the same write
		 * (mps_conn_push flushes after framing it), not in a segment
		 * of its own (issue 15). */
		if (c->app_eof && c->snd_nxt == c->sb.end && c->reinj.n == 0 &&
		    !ev_is_active(&sf->wio) && sf->state != SF_CONNECTING)
			continue;
		mps_sf_flush(c, sf);
		if (mps_conn_closed(c))
			return -1;
	}
	return 0;
}

void mps_conn_push(struct mps_conn *c)
{
	uint64_t limit;
	int multi, i;

	if (mps_conn_closed(c) || c->tx_mode == TX_HOLD ||
	    atomic_load(&c->sock->state) == MPS_SS_CONNECTING)
		return;
	if (c->tx_mode == TX_PLAIN) {
		plain_push(c);
		return;
	}
	if (c->pm_gate == 1)
		mps_conn_pm()->gate_bytes(c); /* lazy joins: enough bytes moved? */
	limit = send_limit(c);
	multi = mps_sf_n_usable(c) > 1;
	if (c->sched.ops->redundant && multi)
		redundant_push(c, limit);
	else if (sched_push(c, limit, multi))
		return;
	/* Everything framed: the end of the stream follows, on one subflow. */
	if (c->app_eof && (!mps_conn_fin_sent(c) || c->fin_resend) && !mps_conn_fin_acked(c) &&
	    c->snd_nxt == c->sb.end && c->reinj.n == 0) {
		struct mps_subflow *sf = mps_sf_best_usable(c);

		if (sf)
			frame_fin(c, sf);
	}
	mps_conn_hooks()->watch(c); /* the watchdog, while data waits for its data ACK */
	if (c->nsf > 1 && (mps_dsn_lt(c->snd_una, c->snd_max) ||
	                   (mps_conn_fin_sent(c) && !mps_conn_fin_acked(c))))
		mps_conn_hooks()->pushed(c); /* a lone DATA_FIN can be stuck on a dead path too */
	/* Control frames (HELLO_ACK, ADD_ADDR, ACKs, JOIN_OK) and the FIN
	 * wait in the queues too: write whatever is queued. */
	for (i = 0; i < c->nsf && !mps_conn_closed(c); i++) {
		struct mps_subflow *sf = c->sf[i];

		if (sf->nseg > 0 && sf->state != SF_CONNECTING && !ev_is_active(&sf->wio))
			mps_sf_flush(c, sf);
	}
}

/* ------------------------------------------------------------- app side */

/* What the send buffer takes from the app now: its free space, within
 * the unframed bytes' bound and, before the peer is known, the first
 * flight's limit.  0: nothing (the watcher stops). */
static size_t app_room(const struct mps_conn *c)
{
	size_t room = mps_sendbuf_space(&c->sb);
	size_t unsent = (size_t)(c->sb.end - c->snd_nxt);

	if (unsent >= UNSENT_MAX)
		return 0;
	room = MPS_MIN(room, UNSENT_MAX - unsent);
	if (c->tx_mode == TX_MP && c->rx_mode == RX_NEGO) {
		uint64_t lim = c->snd_start + c->first_flight;

		room = mps_dsn_lt(c->sb.end, lim) ? MPS_MIN(room, (size_t)(lim - c->sb.end)) : 0;
	}
	return room;
}

/* Read app bytes while there is room; start/stop the watcher to match. */
void mps_conn_app_update_read(struct mps_conn *c)
{
	int want = !c->app_eof && !mps_conn_closed(c) && c->tx_mode != TX_HOLD && !c->gw_wait &&
	           !c->gw_dest_err && atomic_load(&c->sock->state) != MPS_SS_CONNECTING;

	if (want && app_room(c) == 0)
		want = 0; /* full, or the first flight out: no more until the peer is known */
	/* The server holds the app's first bytes until it knows the peer. */
	if (c->tx_mode == TX_HOLD && c->window_expired && !mps_conn_closed(c))
		want = 1;
	if (c->app_fd < 0)
		want = 0; /* no app end yet (a gateway's: gwlisten.c) */
	if (want)
		ev_io_start(c->loop, &c->app_r);
	else
		ev_io_stop(c->loop, &c->app_r);
}

/* The send buffer starts over at DSN start (the negotiation's outcome
 * changes its numbering).  Free first: a chunk kept from a reservation
 * (mps_sendbuf_commit keeps the one being filled) would otherwise leak.
 * While the server holds the app's bytes (TX_HOLD) nothing is reserved,
 * so none was seen leaking; this keeps it so if that changes. */
void mps_dss_tx_sb_restart(struct mps_conn *c, uint64_t start)
{
	mps_sendbuf_free(&c->sb);
	mps_sendbuf_init(&c->sb, start, mps_config()->sndbuf);
}

static void server_release(struct mps_conn *c)
{
	/* the app spoke first and its client said nothing in the window:
	 * that listener's clients may wait for a banner (defacc.h); with no
	 * window at all (a plain client's host) nothing was learnt */
	if (c->nsf && !c->banner_unheld)
		mps_defacc_seen((struct sockaddr *)&c->sf[0]->local, 0, mps_conn_defacc_apply);
	/* Banner window over and the app has spoken: its bytes go out raw.
	 * The client's first bytes are still checked (nego RELEASED). */
	mps_nego_timeout(&c->nego);
	c->tx_mode = TX_PLAIN;
	mps_dss_tx_sb_restart(c, 0);
	c->snd_start = c->snd_nxt = c->snd_una = c->snd_max = 0;
	mps_dbg("conn %s: banner window expired, server bytes go out plain", c->peer_str);
}

void mps_dss_tx_app_on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_conn *c = w->data;
	int i;

	if (c->tx_mode == TX_HOLD) {
		/* a begun HELLO: its deadline decides (mpcap.c) */
		if (!c->window_expired || (c->rx_mode == RX_NEGO && c->nsf && c->sf[0]->rlen > 0)) {
			ev_io_stop(loop, w);
			return;
		}
		server_release(c);
	}
	/* Reserve for one chunk first and double while reads fill what was
	 * reserved: a keep-alive request or response (a few KiB) no longer
	 * allocates chunks for 1 MiB; a bulk sender still reaches 1 MiB
	 * reads within the budget. */
	size_t want = MPS_CHUNK;

	for (i = 0; i < READ_BUDGET; i++) {
		struct iovec iov[16];
		size_t room = app_room(c);
		int n;
		ssize_t r;

		if (room == 0)
			break;
		room = MPS_MIN(room, want);
		n = mps_sendbuf_reserve(&c->sb, iov, 16, room);
		if (n <= 0) {
			mps_conn_abort(c, MPS_CR_INTERNAL, 1, "out of memory");
			return;
		}
		r = mps_real.readv(c->app_fd, iov, n);
		if (r > 0) {
			mps_sendbuf_commit(&c->sb, (size_t)r);
			mps_stat(c, NULL, MPS_MIB_BYTES_SENT, (uint64_t)r);
			if ((size_t)r == room) {
				want = MPS_MIN(2 * want, (size_t)UNSENT_MAX);
				continue;
			}
			/* A short read emptied the socket: a readv more would say
			 * EAGAIN (a wasted call per message, issue 15), and the
			 * watcher is level-triggered.  At exit: on to EAGAIN. */
			if (c->exiting)
				continue;
			break;
		}
		mps_sendbuf_commit(&c->sb, 0); /* the spans reserved go back */
		if (r == 0) {
			c->app_eof = 1;
			mps_dbg("conn %s: app finished sending", c->peer_str);
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (c->exiting) {
				/* The process is ending: nothing more will come. */
				c->app_eof = 1;
			}
			break;
		}
		if (c->gw_splice) {
			/* the destination reset: its bytes read so far go first */
			mps_conn_hooks()->gw_dest_failed(c, errno);
			return;
		}
		/* ECONNRESET: the app closed with our bytes unread, as an RST. */
		mps_info("conn %s: resetting: the app's end failed (%s), as a TCP reset does",
		         c->peer_str, strerror(errno));
		mps_conn_abort(c, MPS_CR_ABORT, 1, NULL);
		return;
	}
	mps_conn_push(c);
	if (mps_conn_closed(c))
		return;
	mps_conn_app_update_read(c);
	mps_conn_check_done(c);
}

/* The app-thread send path (direct.c): the app's bytes copied straight
 * into the send buffer and pushed, on the app's thread under the engine
 * lock, instead of through the socketpair and a wake-up of the shim
 * thread.  Only where the shim thread would read the app's end now
 * (app_r armed: room, no first flight to wait for, not held) on a
 * multipath connection past its negotiation; the caller has checked that
 * the app's end holds no byte written before (FIONREAD).  The bytes
 * taken (0: none may go this way). */
size_t mps_dss_tx_app_write(struct mps_conn *c, const struct iovec *src, int nsrc)
{
	struct iovec iov[16];
	size_t room, want = 0, done = 0, off = 0, so = 0;
	int n, i, k = 0;

	/* the client's first flight too (RX_NEGO): a request written right
	 * after connect() leaves at once, not after a wake-up */
	if (c->tx_mode != TX_MP || (c->rx_mode != RX_MP && c->rx_mode != RX_NEGO) || c->app_eof ||
	    c->exiting || c->gw_splice || c->gw_wait || mps_conn_closed(c) ||
	    (!c->inl && !ev_is_active(&c->app_r)))
		return 0;
	/* A backlog (bytes not yet framed, a subflow's kernel buffer full):
	 * a bulk sender, which the shim thread serves in larger batches at
	 * less CPU per byte (bench/bytecost cpu: 1.2-1.9 ms/MiB this way
	 * against 1.0-1.4); the app-thread way is for a write that can leave
	 * at once. */
	if (c->snd_nxt != c->sb.end || c->reinj.n)
		return 0;
	for (i = 0; i < c->nsf; i++)
		if (ev_is_active(&c->sf[i]->wio))
			return 0;
	for (i = 0; i < nsrc; i++)
		want += src[i].iov_len;
	room = MPS_MIN(app_room(c), want);
	if (room == 0)
		return 0;
	n = mps_sendbuf_reserve(&c->sb, iov, 16, room);
	if (n <= 0)
		return 0; /* no memory now: the socketpair takes them */
	i = 0;
	/* gather the app's spans into the reserved ones */
	while (done < room && k < nsrc && i < n) {
		size_t m = MPS_MIN(src[k].iov_len - so, iov[i].iov_len - off);

		m = MPS_MIN(m, room - done);
		memcpy((char *)iov[i].iov_base + off, (const char *)src[k].iov_base + so, m);
		done += m;
		so += m;
		off += m;
		if (so == src[k].iov_len)
			k++, so = 0;
		if (off == iov[i].iov_len)
			i++, off = 0;
	}
	mps_sendbuf_commit(&c->sb, done);
	mps_stat(c, NULL, MPS_MIB_BYTES_SENT, (uint64_t)done);
	mps_stat(c, NULL, MPS_MIB_DIRECT_WRITES, 1);
	mps_conn_push(c);
	if (!mps_conn_closed(c))
		mps_conn_app_update_read(c);
	return done;
}

void mps_dss_tx_fin_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	mps_conn_abort(w->data, MPS_CR_TIMEOUT, 1, "peer did not finish after the app closed");
}

/* ------------------------------------------------------------- data ACKs received */

/* Drop queued, not yet started segments whose bytes the peer has, and free
 * the send buffer below the lowest byte a partly written frame still needs. */
void mps_conn_release_acked(struct mps_conn *c)
{
	uint64_t pin = c->snd_una;
	int i, j, k;

	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];

		for (j = 0, k = 0; j < sf->nseg; j++) {
			struct mps_seg *s = &sf->seg[j];
			int started = j == 0 && sf->seg_done > 0;

			if (!started && s->plen > 0 && !s->plain &&
			    mps_dsn_le(s->dsn + s->plen, c->snd_una)) {
				sf->queued -= s->hlen + s->plen;
				continue;
			}
			if (started && s->plen > 0 && mps_dsn_lt(s->dsn, pin))
				pin = s->dsn;
			if (k != j)
				sf->seg[k] = *s;
			k++;
		}
		sf->nseg = k;
	}
	if (mps_dsn_lt(c->sb.una, pin))
		mps_sendbuf_ack(&c->sb, pin);
	/* Bytes ACKed but pinned by a frame half-written into a slow or
	 * stale subflow's socket do not count against the app: only what
	 * the peer lacks does.  (Memory: at most twice MPTCPSHIM_SNDBUF.) */
	c->sb.limit = mps_config()->sndbuf + (size_t)(c->snd_una - c->sb.una);
}

/* ack/wnd from the peer.  0, or -1 when c was aborted. */
int mps_dss_tx_handle_ack(struct mps_conn *c, uint64_t ack, uint32_t wnd)
{
	uint64_t max = mps_conn_fin_sent(c) ? c->fin_dsn + 1 : c->snd_max;

	if (mps_dsn_lt(ack, c->snd_una))
		return 0; /* stale */
	if (mps_dsn_lt(max, ack)) {
		mps_conn_abort(c, MPS_CR_PROTOCOL, 1, "protocol: data ACK beyond what was sent");
		return -1;
	}
	if (mps_dsn_lt(c->snd_edge, ack + wnd))
		c->snd_edge = ack + wnd;
	if (mps_conn_fin_sent(c) && ack == c->fin_dsn + 1) {
		if (!mps_conn_fin_acked(c))
			mps_dbg("conn %s: our DATA_FIN is acknowledged", c->peer_str);
		mps_conn_set_state(c, mps_conn_state_with(1, 1, mps_conn_rcv_fin(c)));
		ack = c->fin_dsn;
	}
	if (mps_dsn_lt(c->snd_una, ack)) {
		c->last_progress = ev_now(c->loop);
		mps_stat_progress(c); /* ends a failover */
		c->snd_una = ack;
		if (mps_dsn_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		mps_conn_release_acked(c);
	}
	return 0;
}

/* conn_api.h: send what may go now. */
void mps_conn_kick(struct mps_conn *c)
{
	mps_conn_push(c);
}
