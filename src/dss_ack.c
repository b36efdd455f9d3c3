/* dss_ack.c - the data ACK and the receive window we send (RFC 8684
 * 3.3.2, 3.3.7): piggybacked on a queued frame or standalone, delayed a
 * little or sent at once, and a reopened window announced on every
 * subflow until data follows.  Shared by the two sides of the data path:
 * dss_tx.c frames our ACK and window into each DATA frame, dss_rx.c moves
 * rcv_nxt and asks for an update; it calls neither (only subflow.c and
 * the frame codec), so the send side does not depend on the receive side.
 * Shim thread only. */
#include "config.h"

#include "engine_types.h"
#include "dss_ack_int.h"
#include "subflow_int.h"
#include "mptcpshim/util.h"

#define ACK_EVERY (64u * 1024u) /* send a standalone ACK after this much */
#define ACK_DELAY 0.002         /* ... or after this long, seconds */

/* Carry ack in the last queued frame that has not started on the wire,
 * if it is an ACK or a DATA frame with the ACK flag.  1 if done. */
static int ack_piggyback(struct mps_subflow *sf, uint64_t ack, uint32_t wnd)
{
	struct mps_seg *last;

	if (sf->nseg == 0 || (sf->nseg == 1 && sf->seg_done > 0))
		return 0;
	last = &sf->seg[sf->nseg - 1];
	if (last->is_ack) {
		uint8_t flags = last->hdr[1]; /* a LOUD one stays LOUD */

		mps_frame_put_ack(last->hdr, ack, wnd);
		last->hdr[1] = flags;
		return 1;
	}
	if (last->hlen == MPS_DATA_HDR_LEN && last->hdr[0] == MPS_F_DATA &&
	    (last->hdr[1] & MPS_DF_ACK)) {
		mps_put64(last->hdr + 12, ack);
		mps_put32(last->hdr + 20, wnd);
		return 1;
	}
	return 0;
}

/* The receive window we can advertise now. */
uint32_t mps_dss_ack_adv_wnd(const struct mps_conn *c)
{
	size_t held = (size_t)(c->rxq.end - c->rxq.una);

	return held >= c->rcv_wnd_max ? 0 : (uint32_t)(c->rcv_wnd_max - held);
}

void mps_dss_ack_note_sent(struct mps_conn *c)
{
	c->ack_sent = c->rcv_nxt;
	c->wnd_sent = mps_dss_ack_adv_wnd(c);
	if (mps_dsn_lt(c->rcv_edge, c->ack_sent + c->wnd_sent))
		c->rcv_edge = c->ack_sent + c->wnd_sent;
	ev_timer_stop(c->loop, &c->ack_timer);
}

static struct mps_subflow *ack_subflow(struct mps_conn *c)
{
	if (c->ack_sf && mps_sf_usable(c->ack_sf))
		return c->ack_sf;
	return mps_sf_best_usable(c);
}

static void send_ack_on(struct mps_conn *c, struct mps_subflow *sf)
{
	uint8_t fr[MPS_ACK_LEN];

	if (c->rx_mode != RX_MP || c->tx_mode != TX_MP || !sf)
		return;
	if (!ack_piggyback(sf, c->rcv_nxt, mps_dss_ack_adv_wnd(c))) {
		mps_frame_put_ack(fr, c->rcv_nxt, mps_dss_ack_adv_wnd(c));
		if (mps_sf_queue_ctl(sf, fr, sizeof(fr)) != 0) {
			/* Queue full and nothing to ride on: try again soon. */
			if (!ev_is_active(&c->ack_timer)) {
				ev_timer_set(&c->ack_timer, ACK_DELAY, 0.);
				ev_timer_start(c->loop, &c->ack_timer);
			}
			return;
		}
	}
	mps_dss_ack_note_sent(c);
	mps_sf_flush(c, sf);
}

void mps_conn_send_ack(struct mps_conn *c)
{
	send_ack_on(c, ack_subflow(c));
}

/* The ACK of the peer's DATA_FIN when ours is ACKed and the app has had
 * EOF: the stream's last frame, and the connection ends right after it
 * (mps_conn_check_done, subflow FINs).  Written with MSG_MORE, it leaves
 * with the subflow's FIN in one segment, as a TCP FIN follows the last
 * data. */
static void send_ack_maybe_last(struct mps_conn *c)
{
	struct mps_subflow *sf = ack_subflow(c);

	if (!sf || !c->fin_delivered || !mps_conn_fin_acked(c) || c->nsf != 1) {
		send_ack_on(c, sf);
		return;
	}
	sf->more = 1;
	send_ack_on(c, sf);
	sf->more = 0;
}

void mps_dss_ack_send_loud(struct mps_conn *c, int flush)
{
	struct mps_subflow *sf = ack_subflow(c);
	uint8_t fr[MPS_ACK_LEN];

	if (c->rx_mode != RX_MP || c->tx_mode != TX_MP || !sf)
		return;
	mps_frame_put_ack(fr, c->rcv_nxt, mps_dss_ack_adv_wnd(c));
	fr[1] = MPS_AF_LOUD;
	if (mps_sf_queue_ctl(sf, fr, sizeof(fr)) != 0)
		return; /* the watchdog's data-level resend follows; rare */
	mps_dss_ack_note_sent(c);
	if (flush)
		mps_sf_flush(c, sf);
}

void mps_dss_ack_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	if (c->ack_sent != c->rcv_nxt || c->wnd_sent != mps_dss_ack_adv_wnd(c))
		mps_conn_send_ack(c);
}

/* The window update on every usable subflow (a write failure only marks
 * its subflow: the array does not change under the loop). */
static void send_ack_all(struct mps_conn *c)
{
	int i;

	for (i = 0; i < c->nsf && !mps_conn_closed(c); i++)
		if (mps_sf_usable(c->sf[i]))
			send_ack_on(c, c->sf[i]);
}

#define WND_RESEND_FIRST 0.5 /* seconds; doubles */
#define WND_RESEND_MAX 8.0

/* The peer may be blocked on our window: one lost update (on a path that
 * died silently: only the peer may know) would stall the connection for
 * good, as the sender has nothing outstanding to time out on.  So the
 * update goes on every subflow, and again while no new data arrives. */
static void wnd_reopened(struct mps_conn *c)
{
	send_ack_all(c);
	c->wnd_rcv_nxt = c->rcv_nxt;
	c->wnd_backoff = WND_RESEND_FIRST;
	ev_timer_set(&c->wnd_timer, c->wnd_backoff, 0.);
	ev_timer_start(c->loop, &c->wnd_timer);
}

void mps_dss_ack_wnd_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	(void)loop;
	(void)revents;
	/* data came (the update got through), the stream ended, or the
	 * window closed again: nothing to repeat */
	if (mps_conn_closed(c) || c->rx_mode != RX_MP || c->rcv_nxt != c->wnd_rcv_nxt ||
	    mps_conn_rcv_fin(c) || mps_dss_ack_adv_wnd(c) < c->rcv_wnd_max / 4)
		return;
	send_ack_all(c);
	c->wnd_backoff *= 2;
	if (c->wnd_backoff <= WND_RESEND_MAX) {
		ev_timer_set(&c->wnd_timer, c->wnd_backoff, 0.);
		ev_timer_start(c->loop, &c->wnd_timer);
	}
}

/* rcv_nxt moved: ACK now when much is unacknowledged or the stream ended,
 * else soon (piggybacked on data if any leaves first). */
void mps_dss_ack_update(struct mps_conn *c)
{
	uint32_t wnd = mps_dss_ack_adv_wnd(c);

	if (c->rx_mode != RX_MP || mps_conn_closed(c))
		return;
	/* The window opened (the app drained rxq): tell the peer at once if
	 * it grew by a quarter, as it may be waiting for exactly that. */
	if (wnd > c->wnd_sent && wnd - c->wnd_sent >= c->rcv_wnd_max / 4) {
		if (c->wnd_sent < c->rcv_wnd_max / 4)
			wnd_reopened(c); /* it was nearly closed: the peer may be blocked */
		else
			mps_conn_send_ack(c);
		return;
	}
	if (c->ack_sent == c->rcv_nxt)
		return;
	/* A peer that reads inline (QUIET, HOLD) gets our ACK with our next
	 * DATA, or when its bytes since then add up (dss_rx.c): an ACK of
	 * its own would wait in our queue anyway, and the timer started on
	 * an app thread costs the shim thread a wake-up per message. */
	if (c->peer_quiet && !mps_conn_rcv_fin(c))
		return;
	/* The peer's DATA_FIN read on the app's thread (inline.h): the app
	 * that saw EOF closes or answers next, and our DATA_FIN or DATA
	 * carries the ACK (one segment, no shim-thread wake-up); else the
	 * timer, started lazily (evoff.h), sends it within a second. */
	if (c->inl && mps_offloop && mps_conn_rcv_fin(c)) {
		if (!ev_is_active(&c->ack_timer)) {
			ev_timer_set(&c->ack_timer, ACK_DELAY, 0.);
			mps_ev_timer_start_lazy(c->loop, &c->ack_timer);
		}
		return;
	}
	if (c->rcv_nxt - c->ack_sent >= ACK_EVERY || mps_conn_rcv_fin(c))
		send_ack_maybe_last(c);
	else if (!ev_is_active(&c->ack_timer)) {
		ev_timer_set(&c->ack_timer, ACK_DELAY, 0.);
		ev_timer_start(c->loop, &c->ack_timer);
	}
}
