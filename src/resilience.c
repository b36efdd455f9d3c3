/* resilience.c - keeping a connection alive while its paths fail (shim
 * thread only).
 *
 * Reinjection (what a dead or stale subflow carried goes out again on the
 * others), outages (no working subflow: hold the connection, the client
 * rejoins with backoff), blackhole detection (a subflow whose TCP ACKs stop
 * while others progress is stale), the progress watchdog (data-level
 * retransmission, ETIMEDOUT after MPTCPSHIM_OUTAGE_TIMEOUT), and what a
 * subflow's EOF, error or drop means for the connection (sf_lost, mps_resil_sf_mp_eof,
 * mps_resil_drop_sf).  See docs/DESIGN.md for the rules.  Functions used by the other
 * engine files are declared in conn_int.h. */
#include "config.h"

#include <errno.h>
#include <linux/tcp.h> /* the kernel's tcp_info, with tcpi_bytes_acked */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "conn_int.h"
#include "mptcpshim/log.h"
#include "mptcpshim/real.h"
#include "mptcpshim/util.h"

/* ------------------------------------------------------------- reinjection */

/* Everything not data-ACKed goes out again from snd_una, DATA_FIN included
 * (the receiver drops what it already has): when every path died (outage)
 * or nothing was data-ACKed for a second although a path works (an ACK or
 * the data itself was lost with a path). */
static void resend_from_una(struct mps_conn *c)
{
	int i;

	c->snd_nxt = c->snd_una;
	mps_ranges_init(&c->reinj); /* all of it is sent again anyway */
	for (i = 0; i < c->nsf; i++) {
		c->sf[i]->red_nxt = c->snd_una;
		c->sf[i]->red_init = 1;
	}
	if (mps_conn_fin_sent(c) && !mps_conn_fin_acked(c))
		c->fin_resend = 1;
}

/* sf died or went stale: what it was given and the peer has not data-ACKed
 * is sent again on the others, before new data (RFC 8684 reinjection).
 * Only sf's own ranges: the other subflows' bytes are still on their way. */
static void reinject_sf(struct mps_conn *c, struct mps_subflow *sf)
{
	mps_ranges_trim(&sf->sent, c->snd_una);
	mps_stat(c, sf, MPS_MIB_REINJ_BYTES, mps_ranges_bytes(&sf->sent));
	if (sf->sent.n)
		mps_dbg("conn %s: reinjecting %llu B from subflow %d", c->peer_str,
		        (unsigned long long)mps_ranges_bytes(&sf->sent), sf->id);
	mps_ranges_move(&c->reinj, &sf->sent);
	if (sf->fin_on && mps_conn_fin_sent(c) && !mps_conn_fin_acked(c))
		c->fin_resend = 1;
	sf->fin_on = 0;
}

/* ------------------------------------------------------------- subflow loss */

/* ------------------------------------------------------------- outage */

void mps_resil_outage_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;
	char msg[96];

	snprintf(msg, sizeof(msg), "no path came back within %u s (MPTCPSHIM_OUTAGE_TIMEOUT)",
	         mps_config()->outage_timeout);
	mps_conn_abort_err(c, MPS_CR_TIMEOUT, 0, msg, ETIMEDOUT);
}

void mps_resil_rejoin_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	mps_path_pm_fill(c);
	if (mps_conn_closed(c))
		return;
	if (c->outage)
		c->rejoin_backoff = MPS_MIN(c->rejoin_backoff * 2, 2.0);
	else if ((c->rejoin_backoff *= 2) > 8.0)
		return; /* after a loss: 0.5, 1, 2, 4, 8 s; netlink events retry too */
	ev_timer_set(w, c->rejoin_backoff, 0.);
	ev_timer_start(loop, w);
}

/* The last working subflow is gone before the stream ended: hold the
 * connection for MPTCPSHIM_OUTAGE_TIMEOUT.  The app sees a stall.  The
 * client keeps trying to rejoin (with backoff, and at once on a link or
 * address event); the server waits for a join. */
static void outage_begin(struct mps_conn *c, const char *why)
{
	if (c->outage || mps_conn_closed(c))
		return;
	c->outage = 1;
	c->outage_since = ev_now(c->loop);
	mps_stat(c, NULL, MPS_MIB_OUTAGES, 1);
	mps_warn("conn %s: no working path (%s): holding the connection for up to %u s",
	         c->peer_str, why, mps_config()->outage_timeout);
	resend_from_una(c);
	ev_timer_set(&c->outage_timer, mps_config()->outage_timeout, 0.);
	ev_timer_start(c->loop, &c->outage_timer);
	if (c->role == MPS_CLIENT) {
		c->rejoin_backoff = 0.1;
		ev_timer_set(&c->rejoin_timer, c->rejoin_backoff, 0.);
		ev_timer_start(c->loop, &c->rejoin_timer);
	}
}

void mps_resil_outage_end(struct mps_conn *c)
{
	if (!c->outage)
		return;
	c->outage = 0;
	ev_timer_stop(c->loop, &c->outage_timer);
	ev_timer_stop(c->loop, &c->rejoin_timer);
	c->last_progress = ev_now(c->loop);
	mps_stat(c, NULL, MPS_MIB_OUTAGES_SURVIVED, 1);
	mps_warn("conn %s: path back after %.2f s, resuming", c->peer_str,
	         ev_now(c->loop) - c->outage_since);
}

/* ------------------------------------------------------------- blackholes
 * A path can die silently: no RST, no link event, packets just vanish.
 * TCP would retransmit for minutes.  Every 25 ms, while two or more
 * subflows carry data, compare their TCP-level ACK progress (TCP_INFO).
 * A subflow is stale when all of these hold:
 *  - it has data outstanding (in flight or unsent), and its oldest
 *    outstanding data has waited longer than the threshold: measured from
 *    its last ACK progress or from when data became outstanding after an
 *    idle spell, whichever is later (measuring from the last ACK alone
 *    flagged the first write after any idle spell longer than the
 *    threshold: the first PINGREQ after 20 s, the next response on a
 *    keep-alive connection);
 *  - no ACK at all came in for the threshold (tcpi_last_ack_recv): a path
 *    that still returns duplicate ACKs is lossy or congested, not dead;
 *  - another subflow progressed (or had nothing to wait for) meanwhile.
 * Threshold: max(3 x the largest smoothed RTT, the largest srtt + 4 x its
 * variance, 100 ms): TCP's own RTO formula without its 200 ms floor, so a
 * loaded host whose RTTs jitter does not pass for a dead path.
 * A stale subflow is skipped by the scheduler and everything not data-ACKed
 * is resent on the others at once.  It stays open as its own probe: TCP
 * keeps retransmitting on it, and when its ACKs move again it is back in
 * use.  The first time per subflow is logged at info, later ones (and
 * recoveries) at debug; the count is in the subflow's closing stats line. */

#define STALE_TICK 0.025
#define STALE_MIN 0.100
#define STALE_DELACK 0.250 /* TCP_DELACK_MAX (200 ms) and timer slack (see sf_thresh) */

/* A subflow's threshold: a lone small segment in flight (a response's
 * tail, a standalone data ACK) may wait for the receiver's delayed ACK,
 * up to 200 ms on Linux, and under load it does (wrk against nginx with
 * 100 connections flagged such subflows after 100-115 ms): it is given
 * that long, and needs another subflow's ACKs to have really moved since
 * (an idle one is no evidence: a host stalled for 264 ms once flagged 23
 * lone requests at once; with idle others the 1 s data-level watchdog
 * resends).  A dead path carrying a window of data is flagged sooner. */
static int sf_lone(const struct tcp_info *ti)
{
	return ti->tcpi_unacked <= 2 && ti->tcpi_notsent_bytes == 0;
}

/* Nothing in flight and bytes unsent (window open): the segments did not
 * leave this host.  A local firewall drop does that for good, but so does
 * a full qdisc for a while: 32 bulk connections over two 50 Mbit/s tbf
 * paths (procmodels threads) had subflows wait 100-160 ms that way, each
 * flagged and its data sent twice.  Given as long as a lone segment. */
static int sf_held_local(const struct tcp_info *ti)
{
	return ti->tcpi_unacked == 0 && ti->tcpi_notsent_bytes > 0;
}

static double sf_thresh(const struct tcp_info *ti, double thresh)
{
	return sf_lone(ti) || sf_held_local(ti) ? MPS_MAX(thresh, STALE_DELACK) : thresh;
}

void mps_resil_stale_arm(struct mps_conn *c)
{
	int i;

	if (!ev_is_active(&c->stale_tick) && c->nsf > 1 && c->rx_mode == RX_MP &&
	    !mps_conn_closed(c)) {
		/* The tick was off (nothing outstanding): the ages start now,
		 * not at the last ACK before the idle spell. */
		for (i = 0; i < c->nsf; i++)
			c->sf[i]->acked_at = 0;
		ev_timer_set(&c->stale_tick, STALE_TICK, STALE_TICK);
		ev_timer_start(c->loop, &c->stale_tick);
	}
}

void mps_resil_stale_on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;
	double now = ev_now(loop), thresh, newest = 0, moved = 0;
	uint32_t max_rtt = 0, max_rto = 0;
	int i, became = 0, busy = 0;
	struct tcp_info ti[MPS_MAX_SUBFLOWS];
	int have[MPS_MAX_SUBFLOWS], out[MPS_MAX_SUBFLOWS];

	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];
		socklen_t len = sizeof(ti[i]);

		have[i] = sf->state == SF_ACTIVE && sf->fd >= 0 && !sf->wr_dead &&
		          mps_real.getsockopt(sf->fd, IPPROTO_TCP, TCP_INFO, &ti[i], &len) == 0;
		if (!have[i])
			continue;
		/* Bytes in flight, or unsent ones: a local drop (a firewall's
		 * output hook, a dead link) keeps a segment out of flight. */
		out[i] = ti[i].tcpi_unacked > 0 || ti[i].tcpi_notsent_bytes > 0;
		if (ti[i].tcpi_bytes_acked != sf->acked_seen)
			sf->progress_at = now;
		if (ti[i].tcpi_bytes_acked != sf->acked_seen || sf->acked_at == 0 || !out[i])
			sf->acked_at = now; /* progress, a fresh start, or nothing to wait for */
		sf->acked_seen = ti[i].tcpi_bytes_acked;
		if (out[i])
			busy = 1;
		if (sf->acked_at > newest)
			newest = sf->acked_at;
		if (sf->progress_at > moved)
			moved = sf->progress_at;
		if (ti[i].tcpi_rtt > max_rtt)
			max_rtt = ti[i].tcpi_rtt;
		if (ti[i].tcpi_rtt + 4 * ti[i].tcpi_rttvar > max_rto)
			max_rto = ti[i].tcpi_rtt + 4 * ti[i].tcpi_rttvar;
		sf->rtt_us = ti[i].tcpi_rtt;
		/* The default scheduler's window check reads the rate from
		 * here (ecf refreshes it at each push).  The path's real rate:
		 * the last delivery-rate sample that was not app-limited (a
		 * path we starve or hold back samples low).  cwnd x MSS / srtt
		 * only until there is one: it overstates a paced path (bbr
		 * keeps twice its BDP as cwnd), and an overstated fast path
		 * makes the check wait where both paths would help. */
		if (ti[i].tcpi_delivery_rate && !ti[i].tcpi_delivery_rate_app_limited)
			sf->bw = ti[i].tcpi_delivery_rate;
		sf->rate = ti[i].tcpi_delivery_rate > sf->bw ? ti[i].tcpi_delivery_rate : sf->bw;
		/* what a new chunk on it waits behind (kernel side) */
		sf->inflight = ti[i].tcpi_unacked * ti[i].tcpi_snd_mss + ti[i].tcpi_notsent_bytes;
		if (!sf->bw && ti[i].tcpi_rtt) {
			uint64_t cw = (uint64_t)ti[i].tcpi_snd_cwnd * ti[i].tcpi_snd_mss *
			              1000000u / ti[i].tcpi_rtt;

			if (cw > sf->rate)
				sf->rate = cw;
		}
	}
	cc_tick(c, ti, have, now); /* coupled congestion control: the same readings */
	thresh = MPS_MAX(MPS_MAX(3.0 * max_rtt, (double)max_rto) / 1e6, STALE_MIN);
	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];

		if (!have[i])
			continue;
		if (sf->stale && now - sf->acked_at < thresh) {
			sf->stale = 0;
			sf->ready = 1;
			mps_dbg("conn %s: subflow %d recovered", c->peer_str, sf->id);
			mps_sf_update_lowat(c);
		} else if (!sf->stale && out[i] && now - sf->acked_at > sf_thresh(&ti[i], thresh) &&
		           ti[i].tcpi_last_ack_recv > sf_thresh(&ti[i], thresh) * 1e3 &&
		           newest - sf->acked_at > sf_thresh(&ti[i], thresh) &&
		           (!sf_lone(&ti[i]) || moved - sf->acked_at > sf_thresh(&ti[i], thresh)) &&
		           mps_sf_n_usable(c) > 1) {
			sf->stale = 1;
			mps_stat(c, sf, MPS_MIB_STALE, 1);
			became = 1;
			reinject_sf(c, sf);
			mps_log(sf->n_stale++ ? MPS_LOG_DEBUG : MPS_LOG_INFO,
			        "conn %s: subflow %d stale (no ACK for %.0f ms while others "
			        "progress; %u segments in flight, %u B unsent, peer window %u B, "
			        "srtt %u us): data moved to the others",
			        c->peer_str, sf->id, (now - sf->acked_at) * 1e3, ti[i].tcpi_unacked,
			        ti[i].tcpi_notsent_bytes, ti[i].tcpi_snd_wnd, ti[i].tcpi_rtt);
		}
	}
	if (became) {
		/* What the stale path holds was queued for reinjection. */
		mps_conn_send_ack(c); /* ours may be stuck on the stale path too */
		mps_conn_push(c);
	}
	if (!busy && !became && c->snd_una == c->snd_max &&
	    (!mps_conn_fin_sent(c) || mps_conn_fin_acked(c))) {
		int any_stale = 0;

		/* Idle at the data level too (TCP may have delivered bytes whose
		 * data ACK is still on its way): mps_conn_push re-arms. */
		for (i = 0; i < c->nsf; i++)
			any_stale |= c->sf[i]->stale;
		if (!any_stale)
			ev_timer_stop(loop, w);
	}
}

/* Progress watchdog, every second: bytes outstanding and not a single one
 * data-ACKed for the outage timeout means the paths are dead even if TCP
 * has not said so (blackhole): the app gets ETIMEDOUT, as with TCP's
 * user timeout. */
void mps_resil_watchdog_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;
	int idle = c->snd_una == c->snd_max && (!mps_conn_fin_sent(c) || mps_conn_fin_acked(c));

	if (c->rx_mode != RX_MP || idle) {
		c->last_progress = ev_now(loop);
		return;
	}
	/* Data-level retransmission: nothing ACKed for a second although a
	 * path works means an ACK (or the data) was lost with a path that
	 * died: send again from snd_una; the receiver re-ACKs duplicates. */
	if (!c->outage && mps_sf_n_usable(c) > 0 && ev_now(loop) - c->last_resend > 1.0 &&
	    ev_now(loop) - c->last_progress > 1.0) {
		c->last_resend = ev_now(loop);
		resend_from_una(c);
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

/* sf is gone (error, EOF, withdrawn address) while the connection lives on
 * other subflows.  Its bytes not data-ACKed are sent again on the others
 * (the receiver drops what it already has).  by_peer: the peer closed it
 * (expected once it sent its DATA_FIN: logged at debug); else a local
 * path event, always worth an info line. */
static void sf_lost(struct mps_conn *c, struct mps_subflow *sf, const char *why, int by_peer)
{
	mps_stat_lost(c, sf, why);
	if (mps_conn_rcv_fin(c) && by_peer) /* the peer is closing down: expected */
		mps_dbg("conn %s: subflow %d closed (%s)", c->peer_str, sf->id, why);
	else
		mps_info("conn %s: subflow %d lost (%s); %d left", c->peer_str, sf->id, why,
		         mps_sf_n_usable(c) - mps_sf_usable(sf));
	mps_sf_log_stats(c, sf);
	reinject_sf(c, sf);
	mps_sf_conn_del(c, sf);
	mps_sf_free(c->loop, sf, 1);
	mps_sf_update_lowat(c);
	mps_conn_send_ack(c); /* the last ACK may have left on the lost path */
	/* Client: try that path again later (it may come back without a
	 * netlink event, e.g. after a reset by a middlebox). */
	if (c->role == MPS_CLIENT && !ev_is_active(&c->rejoin_timer)) {
		c->rejoin_backoff = 0.5;
		ev_timer_set(&c->rejoin_timer, c->rejoin_backoff, 0.);
		ev_timer_start(c->loop, &c->rejoin_timer);
	}
	mps_conn_push(c);
}

/* EOF or error on an MP subflow. */
void mps_resil_sf_mp_eof(struct mps_conn *c, struct mps_subflow *sf, int err)
{
	/* A live peer shim never FINs a subflow mid-stream (it resets those
	 * it drops; FIN comes only at the connection's end), but a dying
	 * peer process's kernel does, on all its subflows within moments
	 * (RST on those with unread data).  So after a mid-stream FIN, the
	 * last subflow closing within 2 s means the peer is gone: a reset
	 * for the app, not an outage. */
	int peer_leaving = sf->state == SF_ACTIVE && !mps_conn_rcv_fin(c) &&
	                   c->peer_closed_at > 0 && ev_now(c->loop) - c->peer_closed_at < 2.0;

	if (sf->state == SF_ACTIVE && !mps_conn_rcv_fin(c) && !err)
		c->peer_closed_at = ev_now(c->loop);
	ev_io_stop(c->loop, &sf->rio);
	if (peer_leaving && mps_sf_n_usable(c) - mps_sf_usable(sf) == 0) {
		mps_conn_abort(c, 0, 0, "every subflow closed by the peer before the stream ended");
		return;
	}
	if (sf->state == SF_ACTIVE && mps_conn_rcv_fin(c) &&
	    (mps_conn_fin_acked(c) || c->snd_una == c->sb.end)) {
		/* The peer ended its stream and then its connection, as a TCP
		 * peer's close() does, and it has all we sent.  Checked before
		 * looking at the other subflows: a live shim closes subflows
		 * only at the end, so a dead path still listed (never found
		 * stale: nothing was sent on it) is no reason to wait. */
		c->peer_gone = 1;
		mps_conn_check_done(c);
		return;
	}
	if (sf->state != SF_ACTIVE || mps_sf_n_usable(c) - mps_sf_usable(sf) > 0) {
		if (sf->state != SF_ACTIVE) {
			mps_dbg("conn %s: subflow %d closed during its join", c->peer_str, sf->id);
			mps_sf_conn_del(c, sf);
			mps_sf_free(c->loop, sf, 1);
			mps_path_pm_join_closed(c, sf); /* (a zombie until the loop frees it) */
			return;
		}
		if (!mps_conn_rcv_fin(c) || !mps_conn_fin_acked(c)) {
			sf_lost(c, sf, err ? strerror(err) : "closed by the peer", 1);
			return;
		}
	}
	if (c->outage || c->nsf > 1) {
		/* Other subflows (stale ones) or an outage in progress: this is
		 * one more path going away, not the peer leaving, which closes
		 * every subflow. */
		mps_resil_drop_sf(c, sf, err ? strerror(err) : "closed by the peer");
		return;
	}
	if (mps_conn_rcv_fin(c)) {
		mps_info("conn %s: peer closed with %llu bytes of ours undelivered", c->peer_str,
		         (unsigned long long)(c->sb.end - c->snd_una));
		mps_conn_abort(c, 0, 0, NULL);
		return;
	}
	if (err == ECONNRESET && !c->outage) {
		/* The peer reset its last subflow.  A live peer shim never does
		 * that (it parks its last subflow when its address or link
		 * goes: mps_sf_park): its process is gone (killed with unread
		 * bytes), as a TCP peer's reset says. */
		mps_conn_abort(c, 0, 0, "the peer reset its last subflow before the stream ended");
		return;
	}
	if (err) {
		/* Failed (a path problem, a TCP timeout): the connection waits
		 * for a path. */
		char why[80];

		snprintf(why, sizeof(why), "last subflow: %s", strerror(err));
		mps_resil_drop_sf(c, sf, why); /* the last one: outage */
		return;
	}
	/* A clean FIN without DATA_FIN: the peer's process ended without
	 * finishing its stream (killed).  An error, never a silent EOF. */
	mps_conn_abort(c, 0, 0, "last subflow closed before the stream ended");
}

/* The last usable subflow is going, but others are only stale (slow, not
 * dead: their sockets are open and writable): they are the paths left, so
 * they carry data again rather than the connection waiting in an outage
 * for a path it has.  Returns how many came back. */
static int revive_stale(struct mps_conn *c, const struct mps_subflow *going)
{
	int i, n = 0;

	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *o = c->sf[i];

		if (o == going || !o->stale || o->state != SF_ACTIVE || o->wr_dead || o->fd < 0)
			continue;
		o->stale = 0;
		o->ready = 1;
		o->acked_at = ev_now(c->loop);
		n++;
		mps_info("conn %s: subflow %d was stale but is the path left: in use again",
		         c->peer_str, o->id);
	}
	if (n)
		mps_sf_update_lowat(c);
	return n;
}

/* A path under sf went away (link, address, withdrawn by the server):
 * drop it now rather than wait for TCP.  Its data is resent on the others;
 * if it was the last, the connection waits for a path (outage). */
void mps_resil_drop_sf(struct mps_conn *c, struct mps_subflow *sf, const char *why)
{
	if (sf->state != SF_ACTIVE) {
		mps_sf_conn_del(c, sf);
		mps_sf_free(c->loop, sf, 1);
		return;
	}
	if (mps_sf_park(c, sf))
		mps_dbg("conn %s: subflow %d parked", c->peer_str, sf->id);
	if (mps_sf_n_usable(c) - mps_sf_usable(sf) == 0)
		revive_stale(c, sf);
	if (mps_sf_n_usable(c) - mps_sf_usable(sf) > 0)
		sf_lost(c, sf, why, 0); /* a local path event: lost even while closing */
	else if (!mps_conn_rcv_fin(c) || !mps_conn_fin_acked(c)) {
		mps_stat_lost(c, sf, why);
		mps_sf_log_stats(c, sf);
		reinject_sf(c, sf);
		mps_sf_conn_del(c, sf);
		mps_sf_free(c->loop, sf, 1);
		outage_begin(c, why);
	}
}
