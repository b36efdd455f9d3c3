/* resilience.c - keeping a connection alive while its paths fail (shim
 * thread only).
 *
 * Reinjection (what a dead or stale subflow carried goes out again on the
 * others), outages (no working subflow: hold the connection, the client
 * rejoins with backoff), blackhole detection (a subflow whose TCP ACKs stop
 * while others progress is stale), and what a
 * subflow's EOF, error or drop means for the connection (sf_lost, mps_resil_sf_mp_eof,
 * mps_resil_drop_sf).  See docs/DESIGN.md for the rules.  Functions used by the other
 * engine files are declared in conn_int.h. */
#include "config.h"

#include <errno.h>
#include <linux/sockios.h> /* SIOCOUTQ */
#include <linux/tcp.h> /* the kernel's tcp_info, with tcpi_bytes_acked */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/ioctl.h>

#include "conn_api.h"
#include "conn_int.h"
#include "ccglue_int.h"
#include "dss_ack_int.h"
#include "dss_tx_int.h"
#include "resilience_int.h"
#include "subflow_int.h"
#include "mptcpshim/log.h"
#include "mptcpshim/real.h"
#include "mptcpshim/util.h"
#include "mptcpshim/stat.h"

/* ------------------------------------------------------------- reinjection */

/* Everything not data-ACKed goes out again from snd_una, DATA_FIN included
 * (the receiver drops what it already has): when every path died (outage)
 * or nothing was data-ACKed for a second although a path works (an ACK or
 * the data itself was lost with a path). */
void mps_resil_resend_from_una(struct mps_conn *c)
{
	int i;

	c->snd_nxt = c->snd_una;
	mps_ranges_clear(&c->reinj); /* all of it is sent again anyway */
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

	mps_conn_pm()->fill(c);
	if (mps_conn_closed(c))
		return;
	if (c->outage)
		c->rejoin_backoff = MPS_MIN(c->rejoin_backoff * 2, 2.0);
	else if ((c->rejoin_backoff *= 2) > 8.0)
		return; /* after a loss: 0.5, 1, 2, 4, 8 s; netlink events retry too */
	ev_timer_set(w, c->rejoin_backoff, 0.);
	ev_timer_start(loop, w);
}

/* Client: the missing paths again after 0.5, 1, 2, 4, 8 s, then only on
 * events (mps_resil_rejoin_on_timer). */
static void rejoin_later(struct mps_conn *c)
{
	if (c->role != MPS_CLIENT || ev_is_active(&c->rejoin_timer))
		return;
	c->rejoin_backoff = 0.5;
	ev_timer_set(&c->rejoin_timer, c->rejoin_backoff, 0.);
	ev_timer_start(c->loop, &c->rejoin_timer);
}

/* A join closed before it completed: the server ended it (its join
 * guard drops a JOIN that came late, under load), or the path died. */
static void join_ended(struct mps_conn *c, struct mps_subflow *sf)
{
	mps_dbg("conn %s: subflow %d closed during its join", c->peer_str, sf->id);
	mps_sf_conn_del(c, sf);
	mps_sf_free(c->loop, sf, 1);
	mps_conn_pm()->join_closed(c, sf); /* (a zombie until the loop frees it) */
	if (!mps_conn_closed(c))
		rejoin_later(c); /* (try the path again) */
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
	mps_resil_resend_from_una(c);
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

/* sf is the last regular (non-backup) subflow in use: flagging it hands
 * the data to backup paths, which a user keeps for when the regular ones
 * are gone (they may cost money or battery; RFC 8684 uses them only when
 * nothing else is available).  A false verdict there is dear: a loaded
 * host once paused a regular path's ACKs for 175 ms (srtt 52 ms) and a
 * quarter of a 4 MiB transfer went over the backup before it recovered.
 * So such a subflow must be silent longer: twice the threshold, at least
 * STALE_BACKUP.  A dead regular path still moves to the backups within
 * about half a second. */
#define STALE_BACKUP 0.500

static int sf_last_regular(const struct mps_conn *c, const struct mps_subflow *sf)
{
	int i;

	if (sf->backup)
		return 0;
	for (i = 0; i < c->nsf; i++)
		if (c->sf[i] != sf && !c->sf[i]->backup && mps_sf_usable(c->sf[i]))
			return 0;
	return 1;
}

/* ------------------------------------------------------------- the tick
 * One timer per process, not one per connection: it visits only the
 * connections with data outstanding (the list below, joined by
 * mps_resil_stale_arm when mps_conn_push leaves data outstanding on two or
 * more subflows, left once everything is data-ACKed and no subflow is
 * stale), and stops when the list is empty.  An idle keep-alive connection
 * costs nothing, and many busy ones cost one wakeup per tick instead of
 * one each (500 connections' timers, each at its own phase, woke the loop
 * up to 20,000 times a second). */
static struct mps_conn *g_stale_list; /* linked by stale_next/stale_prev */
static ev_timer g_stale_timer;

static void stale_on_tick(struct ev_loop *loop, ev_timer *w, int revents);

static void stale_link(struct mps_conn *c)
{
	c->stale_prev = NULL;
	c->stale_next = g_stale_list;
	if (g_stale_list)
		g_stale_list->stale_prev = c;
	g_stale_list = c;
	if (!ev_cb(&g_stale_timer))
		ev_timer_init(&g_stale_timer, stale_on_tick, STALE_TICK, STALE_TICK);
	if (!ev_is_active(&g_stale_timer)) {
		ev_timer_set(&g_stale_timer, STALE_TICK, STALE_TICK);
		ev_timer_start(c->loop, &g_stale_timer);
	}
}

static void stale_unlink(struct mps_conn *c)
{
	if (c->stale_prev)
		c->stale_prev->stale_next = c->stale_next;
	else if (g_stale_list == c)
		g_stale_list = c->stale_next;
	if (c->stale_next)
		c->stale_next->stale_prev = c->stale_prev;
	c->stale_next = c->stale_prev = NULL;
}

void mps_resil_stale_arm(struct mps_conn *c)
{
	int i;

	if (!c->stale_on && c->nsf > 1 && c->rx_mode == RX_MP && !mps_conn_closed(c)) {
		/* It was off the list (nothing outstanding): the ages start
		 * now, not at the last ACK before the idle spell. */
		for (i = 0; i < c->nsf; i++)
			c->sf[i]->acked_at = 0;
		c->stale_on = 1;
		c->stale_since = ev_now(c->loop);
		stale_link(c);
	}
}

void mps_resil_stale_leave(struct mps_conn *c)
{
	if (c->stale_on)
		stale_unlink(c);
	c->stale_on = 0;
}

void mps_resil_stale_suspend(struct mps_conn *c)
{
	if (c->stale_on)
		stale_unlink(c); /* stale_on stays: resume links it again */
}

void mps_resil_stale_resume(struct mps_conn *c)
{
	if (c->stale_on)
		stale_link(c);
}

void mps_resil_atfork_child(void)
{
	g_stale_list = NULL; /* the parent's connections (mps_conn_atfork_child) */
	memset(&g_stale_timer, 0, sizeof(g_stale_timer));
	mps_ccglue_atfork_child();
}

/* One connection's subflows read at one tick (TCP_INFO), and what the
 * readings say across them. */
struct stale_view {
	struct tcp_info ti[MPS_MAX_SUBFLOWS];
	int have[MPS_MAX_SUBFLOWS]; /* ti[i] is subflow i's (an active one) */
	int out[MPS_MAX_SUBFLOWS];  /* it has bytes in flight or unsent */
	double newest;              /* the latest acked_at */
	double moved;               /* the latest progress_at */
	uint32_t max_rtt, max_rto;  /* the largest srtt, srtt + 4 x rttvar (us) */
};

/* What the scheduler reads from the tick's readings: the default
 * scheduler's window check reads the rate from here (ecf refreshes it at
 * each push).  The path's real rate: the last delivery-rate sample that
 * was not app-limited (a path we starve or hold back samples low).  cwnd x
 * MSS / srtt only until there is one: it overstates a paced path (bbr
 * keeps twice its BDP as cwnd), and an overstated fast path makes the
 * check wait where both paths would help. */
static void sf_note_rates(struct mps_subflow *sf, const struct tcp_info *ti)
{
	sf->rtt_us = ti->tcpi_rtt;
	if (ti->tcpi_delivery_rate && !ti->tcpi_delivery_rate_app_limited)
		sf->bw = ti->tcpi_delivery_rate;
	sf->rate = ti->tcpi_delivery_rate > sf->bw ? ti->tcpi_delivery_rate : sf->bw;
	/* what a new chunk on it waits behind (kernel side) */
	sf->inflight = ti->tcpi_unacked * ti->tcpi_snd_mss + ti->tcpi_notsent_bytes;
	if (!sf->bw && ti->tcpi_rtt) {
		uint64_t cw =
		        (uint64_t)ti->tcpi_snd_cwnd * ti->tcpi_snd_mss * 1000000u / ti->tcpi_rtt;

		if (cw > sf->rate)
			sf->rate = cw;
	}
}

/* Read every active subflow's TCP_INFO into v and move its ages: ACK
 * progress (progress_at), and since when its oldest outstanding data has
 * waited (acked_at). */
static void stale_read(struct mps_conn *c, double now, struct stale_view *v)
{
	int i;

	v->newest = v->moved = 0;
	v->max_rtt = v->max_rto = 0;
	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];
		const struct tcp_info *ti = &v->ti[i];
		socklen_t len = sizeof(v->ti[i]);

		v->have[i] =
		        sf->state == SF_ACTIVE && sf->fd >= 0 && !sf->wr_dead &&
		        mps_real.getsockopt(sf->fd, IPPROTO_TCP, TCP_INFO, &v->ti[i], &len) == 0;
		if (!v->have[i])
			continue;
		/* Bytes in flight, or unsent ones: a local drop (a firewall's
		 * output hook, a dead link) keeps a segment out of flight. */
		v->out[i] = ti->tcpi_unacked > 0 || ti->tcpi_notsent_bytes > 0;
		if (ti->tcpi_bytes_acked != sf->acked_seen)
			sf->progress_at = now;
		if (ti->tcpi_bytes_acked != sf->acked_seen || sf->acked_at == 0 || !v->out[i])
			sf->acked_at = now; /* progress, a fresh start, or nothing to wait for */
		sf->acked_seen = ti->tcpi_bytes_acked;
		v->newest = MPS_MAX(v->newest, sf->acked_at);
		v->moved = MPS_MAX(v->moved, sf->progress_at);
		v->max_rtt = MPS_MAX(v->max_rtt, ti->tcpi_rtt);
		v->max_rto = MPS_MAX(v->max_rto, ti->tcpi_rtt + 4 * ti->tcpi_rttvar);
		sf_note_rates(sf, ti);
	}
}

/* Subflow i is stale now (the rules above the tick's constants). */
static int sf_goes_stale(const struct mps_conn *c, const struct mps_subflow *sf,
                         const struct stale_view *v, int i, double now, double thresh)
{
	double t = sf_thresh(&v->ti[i], thresh);

	/* the common case first: nothing waits, or not for long (the walk
	 * over the other subflows only once it could matter) */
	if (sf->stale || !v->out[i] || now - sf->acked_at <= t)
		return 0;
	if (sf_last_regular(c, sf))
		t = MPS_MAX(2 * t, STALE_BACKUP);
	return now - sf->acked_at > t && v->ti[i].tcpi_last_ack_recv > t * 1e3 &&
	       v->newest - sf->acked_at > t &&
	       (!sf_lone(&v->ti[i]) || v->moved - sf->acked_at > t) && mps_sf_n_usable(c) > 1;
}

/* Flag the subflows that went stale (their data queued for reinjection)
 * and clear those that recovered.  Returns how many went stale. */
static int stale_judge(struct mps_conn *c, const struct stale_view *v, double now)
{
	double thresh = MPS_MAX(MPS_MAX(3.0 * v->max_rtt, (double)v->max_rto) / 1e6, STALE_MIN);
	int i, became = 0;

	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];
		const struct tcp_info *ti = &v->ti[i];

		if (!v->have[i])
			continue;
		if (sf->stale && now - sf->acked_at < thresh) {
			sf->stale = 0;
			sf->ready = 1;
			mps_dbg("conn %s: subflow %d recovered", c->peer_str, sf->id);
			mps_sf_update_lowat(c);
		} else if (sf_goes_stale(c, sf, v, i, now, thresh)) {
			sf->stale = 1;
			mps_stat(c, sf, MPS_MIB_STALE, 1);
			became++;
			reinject_sf(c, sf);
			mps_log(sf->n_stale++ ? MPS_LOG_DEBUG : MPS_LOG_INFO,
			        "conn %s: subflow %d stale (no ACK for %.0f ms while others "
			        "progress; %u segments in flight, %u B unsent, peer window %u B, "
			        "srtt %u us): data moved to the others",
			        c->peer_str, sf->id, (now - sf->acked_at) * 1e3, ti->tcpi_unacked,
			        ti->tcpi_notsent_bytes, ti->tcpi_snd_wnd, ti->tcpi_rtt);
		}
	}
	return became;
}

/* Everything data-ACKed (our DATA_FIN too, once sent) and no stale
 * subflow to watch recover: c leaves the tick's list without a reading
 * (mps_conn_push brings it back).  What its subflows' kernels may still
 * hold then is at most our data ACKs and duplicates: if a path ate those,
 * the peer's data stays un-ACKed there and its own tick and watchdog
 * resend it (a request/response connection used to pay two TCP_INFO
 * calls 25 ms after each response only to learn it was idle). */
static int stale_idle(const struct mps_conn *c)
{
	int i;

	if (c->snd_una != c->snd_max || (mps_conn_fin_sent(c) && !mps_conn_fin_acked(c)))
		return 0;
	for (i = 0; i < c->nsf; i++)
		if (c->sf[i]->stale)
			return 0;
	return 1;
}

/* One connection's turn at the tick. */
static void stale_check(struct mps_conn *c, double now)
{
	struct stale_view v;

	if (mps_conn_closed(c) || stale_idle(c)) {
		mps_resil_stale_leave(c);
		return;
	}
	/* The first reading half a tick after the data went out at least
	 * (a tick on average, as with a timer per connection): a response
	 * data-ACKed by then costs no reading at all. */
	if (now - c->stale_since < STALE_TICK / 2)
		return;
	stale_read(c, now, &v);
	mps_ccglue_tick(c, v.ti, v.have, now); /* coupled congestion control: the same readings */
	if (stale_judge(c, &v, now)) {
		/* What the stale path holds was queued for reinjection. */
		mps_conn_send_ack(c); /* ours may be stuck on the stale path too */
		mps_conn_push(c);
	}
}

static void stale_on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c, *next;
	double now = ev_now(loop);

	for (c = g_stale_list; c; c = next) {
		next = c->stale_next; /* c may leave the list (only c) */
		stale_check(c, now);
	}
	if (!g_stale_list)
		ev_timer_stop(loop, w);
}

/* sf is gone (error, EOF, withdrawn address) while the connection lives on
 * other subflows.  Its bytes not data-ACKed are sent again on the others
 * (the receiver drops what it already has).  by_peer: the peer closed it
 * (expected once it sent its DATA_FIN: logged at debug); else a local
 * path event, always worth an info line. */
static void sf_lost(struct mps_conn *c, struct mps_subflow *sf, const char *why, int by_peer)
{
	mps_conn_promote(c, why); /* the app must not keep the socket */
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
	rejoin_later(c);      /* (it may come back without a netlink event) */
	mps_conn_push(c);
}

/* EOF or error on an MP subflow. */
void mps_resil_sf_mp_eof(struct mps_conn *c, struct mps_subflow *sf, int err)
{
	if (c->fin_close && sf->wr_shut && !err) {
		/* The peer's FIN after our DATA_FIN and FIN (MPS_CAP_FINCLOSE,
		 * frame.h): its end, as a TCP peer's.  It sends no DATA_FIN
		 * and no data ACK then: our app closed, so nothing more is
		 * for it, and TCP delivered all we sent (its FIN ACKs ours). */
		ev_io_stop(c->loop, &sf->rio);
		mps_dbg("conn %s: the peer closed after our FIN: the end", c->peer_str);
		c->fin_delivered = 1; /* (to an app that closed: nothing to deliver) */
		c->peer_gone = 1;
		mps_conn_check_done(c);
		return;
	}
	mps_conn_promote(c, "subflow ended");
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
			join_ended(c, sf);
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
	mps_conn_promote(c, why);
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

/* conn_api.h: a path back, a path gone. */
void mps_conn_path_back(struct mps_conn *c)
{
	mps_resil_outage_end(c);
}

void mps_conn_path_gone(struct mps_conn *c, struct mps_subflow *sf, const char *why)
{
	mps_resil_drop_sf(c, sf, why);
}
