/* watchdog.c - the progress watchdog (shim thread only): data-level
 * retransmission after a second without a data ACK, ETIMEDOUT after
 * MPTCPSHIM_OUTAGE_TIMEOUT, and an inline connection whose data ACKs wait
 * unread (promoted).  Split from resilience.c (issue 15). */
#include "config.h"

#include <errno.h>
#include <linux/sockios.h> /* SIOCOUTQ */
#include <stdio.h>
#include <sys/ioctl.h>

#include "conn_api.h"
#include "conn_int.h"
#include "dss_tx_int.h"
#include "resilience_int.h"
#include "subflow_int.h"
#include "mptcpshim/real.h"
#include "mptcpshim/util.h"

/* Nothing of ours waits for a data ACK (our DATA_FIN included). */
static int wd_idle(const struct mps_conn *c)
{
	/* (our DATA_FIN went with the subflow's FIN: its delivery, and that
	 * of what precedes it, is TCP's now, as after a TCP close) */
	return c->fin_close ||
	       (c->snd_una == c->snd_max && (!mps_conn_fin_sent(c) || mps_conn_fin_acked(c)));
}

/* The watchdog ticks only while data is outstanding (issue 15: a timer
 * per idle keep-alive connection cost 500 callbacks a second at 500
 * connections): mps_conn_push arms it when it leaves data un-ACKed, and
 * the tick that finds everything ACKed stops it.  Progress is counted
 * from the arming, as before from the last idle tick. */
void mps_resil_watchdog_arm(struct mps_conn *c)
{
	if (ev_is_active(&c->watchdog) || c->rx_mode != RX_MP || mps_conn_closed(c) || wd_idle(c))
		return;
	c->last_progress = ev_now(c->loop);
	/* ticks on whole seconds of the loop's clock, 1 to 2 s from now: the
	 * watchdogs of many connections then tick in one wake-up */
	ev_timer_set(&c->watchdog, (double)(int64_t)c->last_progress + 2. - c->last_progress, 1.);
	mps_ev_timer_start_lazy(c->loop, &c->watchdog);
}

/* An inline connection whose peer holds frames without data for it
 * (QUIET, HOLD: frame.h): all it sent is in the peer's kernel (TCP has
 * ACKed it) and nothing waits for the peer's window, so its data ACK
 * waits for the peer's next data; nothing is lost, and promoting every
 * idle keep-alive connection after a second would cost each a
 * socketpair.  (A closed window, or bytes TCP has not delivered, still
 * promote: LOUD then lets the peer's ACKs out.) */
static int held_by_peer(const struct mps_conn *c)
{
	int outq = 0;

	return c->quiet_ok && c->nsf == 1 && c->snd_nxt == c->sb.end && c->snd_nxt == c->snd_max &&
	       !mps_conn_fin_sent(c) && mps_real.ioctl(c->sf[0]->fd, SIOCOUTQ, &outq) == 0 &&
	       outq == 0;
}

/* Progress watchdog, every second while armed: bytes outstanding and not
 * a single one data-ACKed for the outage timeout means the paths are dead
 * even if TCP has not said so (blackhole): the app gets ETIMEDOUT, as
 * with TCP's user timeout. */
void mps_resil_watchdog_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	if (c->inl && !wd_idle(c) && held_by_peer(c)) {
		ev_timer_stop(loop, w); /* the next push arms it again */
		return;
	}
	if (c->inl && !wd_idle(c) && ev_now(loop) - c->last_progress > 1.0 &&
	    !mps_conn_promote(c, "data ACKs unread")) {
		/* the app does not read: its data ACKs wait in the socket */
		ev_feed_event(loop, &c->sf[0]->rio, EV_READ);
		c->last_progress = ev_now(loop);
		return;
	}
	if (c->rx_mode != RX_MP || wd_idle(c)) {
		c->last_progress = ev_now(loop);
		ev_timer_stop(loop, w);
		return;
	}
	/* Data-level retransmission: nothing ACKed for a second although a
	 * path works means an ACK (or the data) was lost with a path that
	 * died: send again from snd_una; the receiver re-ACKs duplicates. */
	if (!c->outage && mps_sf_n_usable(c) > 0 && ev_now(loop) - c->last_resend > 1.0 &&
	    ev_now(loop) - c->last_progress > 1.0) {
		c->last_resend = ev_now(loop);
		mps_resil_resend_from_una(c);
		mps_conn_push(c);
		if (mps_conn_closed(c))
			return;
	}
	if (ev_now(loop) - c->last_progress > mps_config()->outage_timeout) {
		char msg[96];

		snprintf(msg, sizeof(msg),
		         "no data acknowledged for %u s (MPTCPSHIM_OUTAGE_TIMEOUT)",
		         mps_config()->outage_timeout);
		mps_conn_abort_err(c, MPS_CR_TIMEOUT, 1, msg, ETIMEDOUT);
	}
}
