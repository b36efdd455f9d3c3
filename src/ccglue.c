/* ccglue.c - coupled congestion control in the engine (shim thread only):
 * feeds the TCP_INFO readings the stale tick already takes (every 25 ms
 * while two or more subflows carry data) to src/cc.c and, in auto mode, to
 * the shared-bottleneck detector (src/sbd.c), and tells mps_conn_push how many
 * more bytes a subflow may carry.  MPTCPSHIM_CC=uncoupled allocates nothing
 * and limits nothing; the coupled modes allocate their state (under 8 KiB)
 * once two subflows carry data and free it when the connection has been
 * quiet for CC_QUIET.  See docs/DESIGN.md "Coupled congestion control". */
#include "config.h"

#include <linux/sockios.h> /* SIOCOUTQ */
#include <linux/tcp.h>     /* the kernel's tcp_info */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "engine_types.h"
#include "ccglue_int.h"
#include "mptcpshim/cc.h"
#include "mptcpshim/config.h"
#include "mptcpshim/log.h"
#include "mptcpshim/real.h"
#include "mptcpshim/sbd.h"

#define CC_LOG_EVERY 1.0 /* s between two debug lines of windows */
/* A connection whose subflows had no reading for this long (the stale tick
 * reads them only while data is outstanding on two of them) drops its
 * state: an idle connection costs nothing, and when data resumes the
 * windows start again from the kernel's cwnds and the detector re-learns
 * (its first verdict after min_intervals + hold, 4.2 s).  A pause shorter
 * than this (a streaming app's chunks) keeps what was learned. */
#define CC_QUIET 3.0
#define CC_SWEEP 1.0 /* s between two looks for quiet connections */

_Static_assert(MPS_SBD_MAX_FLOWS == MPS_CC_MAX_SF, "one slot per subflow in both");
/* Most bytes a coupled subflow is handed at one push (then it waits for
 * its write event): the push after a data ACK otherwise hands it all the
 * room the ACKs freed at once, which the kernel sends back to back.  On
 * check_simcc's disjoint links with a queue of one BDP, lia kept 56-69 %
 * of the sum with the whole room, 77-78 % with 16 KiB; two BDPs 93-96 %
 * and 96 %; the shared shares stayed within the model's spread (lia
 * 0.67-1.04 before, 0.81-1.04 after).  8 KiB (with a smaller reserve)
 * kept more of the disjoint links (85 %) but made the shared bottleneck
 * timid (0.20-0.38 of the competitor). */
#define CC_QUANTUM (16u * 1024u)
#define CC_RESERVE_MIN 8192u /* see mps_ccglue_room */
/* Auto mode's bbr subflows are one group from their first reading until
 * the detector could give its first verdict (min_intervals + hold
 * intervals, 4.55 s), then as it says.  Uncoupled until then, two bbr
 * subflows' STARTUPs against one competitor's took 1.0-13.4x its goodput
 * over those seconds (median 5.3 in 22 runs on the namespaces' shared
 * 50 Mbit/s link); coupled from the start 0.46-4.2x (median 2.7).  Over
 * 20 s: 1.19 and 1.05 on average, 1.40 and 1.03 in the quietest six
 * pairs (docs/BENCHMARKS.md, session 10).
 * Disjoint bbr paths paid it (0.95 of 80+20 kept to 4.55 s), so the step
 * test ends the group as soon as it has its samples and finds the paths
 * apart (~3 s: provisional_ends).  Loss-based kernels (cubic) stay alone until the
 * verdict: there the start costs less.  The detector's groups are numbered
 * by slot, below MPS_CC_MAX_SF. */
#define CC_PROVISIONAL MPS_CC_MAX_SF

struct mps_ccglue {
	int autom;                      /* auto: couple only the detector's groups */
	struct mps_conn *conn;          /* the owner */
	struct mps_ccglue *next, *prev; /* g_live */
	double last_tick;               /* the last reading */
	struct mps_cc cc;
	struct mps_sbd sbd; /* auto only */
	/* slot -> subflow (pointer and id: a freed subflow's memory may come
	 * back as a new one) */
	const struct mps_subflow *sf[MPS_CC_MAX_SF];
	int id[MPS_CC_MAX_SF];
	uint32_t segs_prev[MPS_CC_MAX_SF], retr_prev[MPS_CC_MAX_SF];
	uint8_t bbr[MPS_CC_MAX_SF]; /* the subflow's TCP_CONGESTION is bbr */
	double last_log;
};

/* Every connection's state, swept every CC_SWEEP for quiet ones (shim
 * thread only; the timer runs while the list is not empty). */
static struct mps_ccglue *g_live;
static ev_timer g_sweep;

static void live_unlink(struct mps_ccglue *g)
{
	if (g->prev)
		g->prev->next = g->next;
	else if (g_live == g)
		g_live = g->next;
	if (g->next)
		g->next->prev = g->prev;
	g->next = g->prev = NULL;
}

static void sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_ccglue *g, *next;
	double now = ev_now(loop);

	(void)revents;
	for (g = g_live; g; g = next) {
		next = g->next;
		if (now - g->last_tick >= CC_QUIET) {
			mps_dbg("conn %s: cc quiet for %.1f s: state freed", g->conn->peer_str,
			        now - g->last_tick);
			mps_ccglue_free(g->conn);
		}
	}
	if (!g_live)
		ev_timer_stop(loop, w);
}

static void live_link(struct mps_conn *c, struct mps_ccglue *g)
{
	g->conn = c;
	g->prev = NULL;
	g->next = g_live;
	if (g_live)
		g_live->prev = g;
	g_live = g;
	if (!ev_cb(&g_sweep))
		ev_timer_init(&g_sweep, sweep, CC_SWEEP, CC_SWEEP);
	if (!ev_is_active(&g_sweep)) {
		ev_timer_set(&g_sweep, CC_SWEEP, CC_SWEEP);
		ev_timer_start(c->loop, &g_sweep);
	}
}

void mps_ccglue_atfork_child(void)
{
	g_live = NULL; /* the parent's connections (mps_conn_atfork_child) */
	memset(&g_sweep, 0, sizeof(g_sweep));
}

static int slot_of(const struct mps_ccglue *g, const struct mps_subflow *sf)
{
	int s;

	for (s = 0; s < MPS_CC_MAX_SF; s++)
		if (g->sf[s] == sf && g->id[s] == sf->id)
			return s;
	return -1;
}

static int present(const struct mps_conn *c, const struct mps_subflow *sf, int id)
{
	int i;

	for (i = 0; i < c->nsf; i++)
		if (c->sf[i] == sf && sf->id == id)
			return 1;
	return 0;
}

static void slot_free(struct mps_ccglue *g, int s)
{
	mps_cc_remove(&g->cc, s);
	if (g->autom)
		mps_sbd_remove(&g->sbd, s);
	g->sf[s] = NULL;
}

static void log_state(struct mps_conn *c, struct mps_ccglue *g, double now)
{
	char line[1024];
	size_t off = 0;
	int s;

	for (s = 0; s < MPS_CC_MAX_SF && off < sizeof(line) - 200; s++) {
		const struct mps_cc_sf *f = &g->cc.sf[s];
		int n;

		if (!g->sf[s] || !f->active)
			continue;
		n = snprintf(line + off, sizeof(line) - off,
		             "%s subflow %d: window %llu B (kernel %llu B, srtt %u us, %s, "
		             "%llu loss events)",
		             off ? ";" : "", g->sf[s]->id,
		             (unsigned long long)mps_cc_window(&g->cc, s),
		             (unsigned long long)f->kcwnd, f->srtt_us,
		             !mps_cc_is_coupled(&g->cc, s) ? "uncoupled" :
		             f->group == CC_PROVISIONAL    ? "coupled until the first verdict" :
		                                             "coupled",
		             (unsigned long long)f->loss_events);
		if (n > 0)
			off += (size_t)n;
		if (g->autom && off < sizeof(line) - 96) {
			const struct mps_sbd_flow *d = &g->sbd.f[s];

			n = snprintf(
			        line + off, sizeof(line) - off,
			        " detector: skew %.2f var %.0f us freq %.2f loss %.4f %s group %d"
			        " (%llu changes)",
			        d->skew_est, d->var_est, d->freq_est, d->pkt_loss,
			        d->bottleneck ? "bottleneck" : "no bottleneck", d->group,
			        (unsigned long long)d->changes);
			if (n > 0)
				off += (size_t)n;
		}
	}
	if (off)
		mps_dbg("conn %s: cc %s%s:%s", c->peer_str, g->cc.ops->name,
		        g->autom ? " (auto)" : "", line);
	g->last_log = now;
}

/* The detector's verdict changed: the groups go to the windows, and the
 * log says who shares with whom, since when. */
static void regroup(struct mps_conn *c, struct mps_ccglue *g)
{
	int s, t;

	for (s = 0; s < MPS_CC_MAX_SF; s++) {
		char with[160];
		size_t off = 0;
		int grp;

		if (!g->sf[s])
			continue;
		grp = mps_sbd_group(&g->sbd, s);
		mps_cc_set_group(&g->cc, s, grp);
		with[0] = 0;
		for (t = 0; t < MPS_CC_MAX_SF && grp >= 0 && off < sizeof(with) - 16; t++)
			if (t != s && g->sf[t] && mps_sbd_group(&g->sbd, t) == grp) {
				int n = snprintf(with + off, sizeof(with) - off, "%s%d",
				                 off ? "," : "", g->sf[t]->id);
				if (n > 0)
					off += (size_t)n;
			}
		/* the step correlation (r^2) with the lowest other subflow */
		for (t = 0; t < MPS_CC_MAX_SF && (t == s || !g->sf[t]); t++)
			;
		mps_dbg("conn %s: subflow %d %s%s (skew %.2f, var %.0f us, freq %.2f, loss %.4f,"
		        " step r2 %.2f)",
		        c->peer_str, g->sf[s]->id,
		        grp >= 0 ? "shares a bottleneck with subflow " : "shares no bottleneck",
		        with, g->sbd.f[s].skew_est, g->sbd.f[s].var_est, g->sbd.f[s].freq_est,
		        g->sbd.f[s].pkt_loss,
		        t < MPS_CC_MAX_SF ? mps_sbd_step_corr(&g->sbd, s, t) : -2.0);
	}
}

/* c's state, allocated at the first reading with two subflows carrying
 * data in a coupled mode; NULL while there is nothing to keep. */
static struct mps_ccglue *state_get(struct mps_conn *c, const struct tcp_info *ti, const int *have)
{
	const struct mps_config *cfg = mps_config();
	const struct mps_cc_ops *ops;
	struct mps_ccglue *g = c->ccg;
	int i, busy = 0;

	if (g)
		return g;
	ops = mps_cc_find(cfg->cc);
	if (strcmp(cfg->cc, "auto") && (!ops || !ops->coupled))
		return NULL; /* uncoupled: nothing to keep */
	for (i = 0; i < c->nsf; i++)
		busy += have[i] && ti[i].tcpi_snd_mss;
	if (busy < 2)
		return NULL; /* nothing to couple yet */
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL; /* uncoupled then: the kernel's windows */
	g->autom = !strcmp(cfg->cc, "auto");
	mps_cc_init(&g->cc, g->autom ? mps_cc_find("lia") : ops);
	if (g->autom)
		mps_sbd_init(&g->sbd, NULL);
	c->ccg = g;
	live_link(c, g);
	return g;
}

/* sf's slot, taken at its first reading (-1: all taken). */
static int slot_take(struct mps_ccglue *g, const struct mps_subflow *sf, const struct tcp_info *ti)
{
	char name[16] = "";
	socklen_t len = sizeof(name) - 1;
	int s = slot_of(g, sf);

	if (s >= 0)
		return s;
	for (s = 0; s < MPS_CC_MAX_SF && g->sf[s]; s++)
		;
	if (s == MPS_CC_MAX_SF)
		return -1;
	g->sf[s] = sf;
	g->id[s] = sf->id;
	g->segs_prev[s] = ti->tcpi_data_segs_out;
	g->retr_prev[s] = ti->tcpi_total_retrans;
	g->bbr[s] = mps_real.getsockopt(sf->fd, IPPROTO_TCP, TCP_CONGESTION, name, &len) == 0 &&
	            !strncmp(name, "bbr", 3);
	/* auto: alone until the detector says otherwise; bbr subflows
	 * together until its first verdict (CC_PROVISIONAL) */
	mps_cc_set_group(&g->cc, s, !g->autom ? 0 : g->bbr[s] ? CC_PROVISIONAL : -1);
	return s;
}

/* One reading of slot s to the windows and, in auto mode, the detector. */
static void feed(struct mps_ccglue *g, int s, const struct tcp_info *ti, uint64_t now_us)
{
	struct mps_cc_sample smp;

	memset(&smp, 0, sizeof(smp));
	smp.now_us = now_us;
	smp.bytes_acked = ti->tcpi_bytes_acked;
	smp.retrans = ti->tcpi_total_retrans;
	smp.srtt_us = ti->tcpi_rtt;
	smp.mss = ti->tcpi_snd_mss;
	smp.kcwnd = (uint64_t)ti->tcpi_snd_cwnd * ti->tcpi_snd_mss;
	smp.slow_start = ti->tcpi_snd_cwnd < ti->tcpi_snd_ssthresh;
	smp.delivery_rate = ti->tcpi_delivery_rate;
	smp.ca_state = ti->tcpi_ca_state;
	smp.model_based = g->bbr[s];
	/* TCP_INFINITE_SSTHRESH (bbr, before a loss): none */
	if (ti->tcpi_snd_ssthresh < 0x7fffffffu)
		smp.ssthresh = (uint64_t)ti->tcpi_snd_ssthresh * ti->tcpi_snd_mss;
	mps_cc_update(&g->cc, s, &smp);
	if (g->autom) {
		uint32_t sent = ti->tcpi_data_segs_out - g->segs_prev[s];
		uint32_t lost = ti->tcpi_total_retrans - g->retr_prev[s];

		g->segs_prev[s] = ti->tcpi_data_segs_out;
		g->retr_prev[s] = ti->tcpi_total_retrans;
		if (ti->tcpi_rtt)
			mps_sbd_delay(&g->sbd, s, now_us, ti->tcpi_rtt);
		mps_sbd_loss(&g->sbd, s, now_us, sent, lost < sent ? lost : sent);
	}
}

/* A provisional group (bbr subflows before the detector's first verdict)
 * ends once the detector could have given one, or earlier once the step
 * test has its samples for every pair of the group and would group none
 * of them (disjoint paths: their delay steps do not correlate): then the
 * detector's groups. */
static int provisional_ends(const struct mps_ccglue *g)
{
	double min2 = g->sbd.p.step_min * g->sbd.p.step_min;
	int s, t, n = 0, apart = 1;

	for (s = 0; s < MPS_CC_MAX_SF; s++) {
		if (!g->sf[s] || g->cc.sf[s].group != CC_PROVISIONAL)
			continue;
		n++;
		if (g->sbd.f[s].intervals >= g->sbd.p.min_intervals + g->sbd.p.hold)
			return 1;
		for (t = 0; t < s; t++)
			if (g->sf[t] && g->cc.sf[t].group == CC_PROVISIONAL) {
				double r2 = mps_sbd_step_corr(&g->sbd, s, t);

				if (r2 == -2 || r2 >= min2)
					apart = 0;
			}
	}
	return n >= 2 && apart;
}

void mps_ccglue_tick(struct mps_conn *c, const struct tcp_info *ti, const int *have, double now)
{
	struct mps_ccglue *g = state_get(c, ti, have);
	uint64_t now_us = (uint64_t)(now * 1e6) + 1; /* never 0 */
	int i, s;

	if (!g)
		return;
	g->last_tick = now;
	for (s = 0; s < MPS_CC_MAX_SF; s++)
		if (g->sf[s] && !present(c, g->sf[s], g->id[s]))
			slot_free(g, s);
	for (i = 0; i < c->nsf; i++) {
		if (!have[i] || !ti[i].tcpi_snd_mss)
			continue;
		s = slot_take(g, c->sf[i], &ti[i]);
		if (s >= 0)
			feed(g, s, &ti[i], now_us);
	}
	if (g->autom && (mps_sbd_tick(&g->sbd, now_us) || provisional_ends(g)))
		regroup(c, g);
	if (now - g->last_log >= CC_LOG_EVERY)
		log_state(c, g, now);
}

static uint64_t mss_of(const struct mps_ccglue *g, int s)
{
	return g->cc.sf[s].mss ? g->cc.sf[s].mss : 1448;
}

/* Subflows run with TCP_NODELAY (subflow.c: the shim's own small frames
 * must not hold the app's answer for a delayed ACK), except while coupled:
 * there Nagle's algorithm is back on.  Measured in fairness.sh (lia, one
 * 50 Mbit/s bottleneck shared with one TCP flow): 2.6-3.4x the competitor
 * with TCP_NODELAY, 0.6-1.0x with Nagle.  Why is not settled; likely the
 * gate's pushes, each cut to what the window allows, leave as sub-MSS
 * segments without Nagle and change when the kernel counts itself
 * cwnd-limited (its cwnd is our ceiling).  A coupled connection moves
 * bulk data, where Nagle costs nothing. */
static void sf_nagle(struct mps_subflow *sf, int on)
{
	int v = !on;

	if (sf->fd < 0 || sf->nagle == on)
		return;
	sf->nagle = (uint8_t)on;
	mps_real.setsockopt(sf->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v));
}

size_t mps_ccglue_room(struct mps_conn *c, struct mps_subflow *sf)
{
	struct mps_ccglue *g = c->ccg;
	uint64_t w, used, reserve;
	int s, outq = 0;

	if (!g || sf->fd < 0 || (s = slot_of(g, sf)) < 0 || !mps_cc_is_coupled(&g->cc, s)) {
		sf_nagle(sf, 0);
		return SIZE_MAX;
	}
	sf_nagle(sf, 1);
	/* SIOCOUTQ on TCP: bytes written and not yet ACKed (in flight plus
	 * unsent); ours not yet written come on top */
	if (mps_real.ioctl(sf->fd, SIOCOUTQ, &outq) != 0 || outq < 0)
		return SIZE_MAX;
	/* the window, and half a window more held unsent in the kernel: the
	 * kernel's cwnd follows ours (it grows only while it is the limit, and
	 * ours is bounded by it), so what is in flight stays near our window
	 * (measured: 0.95 of it), while the reserve covers the time until our
	 * next push (a data ACK away).  Without it the kernel ran dry between
	 * pushes (0.6 of the window in flight) and then got bursts; pacing
	 * instead (SO_MAX_PACING_RATE at window / srtt) lost 7x more packets
	 * than the ACK-clocked competitor at a drop-tail bottleneck (0.63 %
	 * against 0.09 %; docs/DESIGN.md "Coupled congestion control") */
	w = mps_cc_window(&g->cc, s);
	reserve = w / 2;
	/* our window at the kernel's cwnd (the kernel is the limit): the
	 * reserve only waits unsent there, and at least CC_RESERVE_MIN of it
	 * keeps the kernel cwnd-limited until our next push.  With half a
	 * small window (a few packets: short RTTs, many flows) the sliver rule
	 * below refilled only once the kernel had less than its cwnd, so it
	 * was never cwnd-limited, its cwnd (our ceiling) stopped growing and
	 * ours with it: check_simcc's 1 ms bottleneck, lia 0.36-0.40 of the
	 * competitor, 0.67-0.73 with the floor.  Below the kernel's cwnd what
	 * we hand it goes out at once: a floor there would put more than our
	 * window in flight (the shim too bold), so none. */
	if (w + mss_of(g, s) >= g->cc.sf[s].kcwnd && reserve < CC_RESERVE_MIN)
		reserve = CC_RESERVE_MIN;
	w += reserve;
	used = (uint64_t)outq + sf->queued;
	if (used >= w)
		return 0;
	/* no slivers: wait until a useful chunk fits (half a small window) */
	if (w - used < 8192 && w - used < w / 2)
		return 0;
	if (w - used > CC_QUANTUM)
		return CC_QUANTUM;
	return (size_t)(w - used);
}

uint64_t mps_ccglue_rate(struct mps_conn *c, const struct mps_subflow *sf)
{
	struct mps_ccglue *g = c->ccg;
	int s;

	if (!g || (s = slot_of(g, sf)) < 0 || !mps_cc_is_coupled(&g->cc, s) || !g->cc.sf[s].srtt_us)
		return 0;
	return mps_cc_window(&g->cc, s) * 1000000u / g->cc.sf[s].srtt_us;
}

int mps_ccglue_view(const struct mps_conn *c, const struct mps_subflow *sf, double now,
                    uint64_t *wnd, char *with, size_t wlen, double *since_s)
{
	const struct mps_ccglue *g = c->ccg;
	size_t off = 0;
	int s, t;

	*wnd = 0;
	*since_s = -1;
	snprintf(with, wlen, "-");
	if (!g || (s = slot_of(g, sf)) < 0)
		return 0;
	if (g->autom && g->sbd.f[s].since_us)
		*since_s = now - (double)g->sbd.f[s].since_us / 1e6;
	if (!mps_cc_is_coupled(&g->cc, s))
		return 0;
	*wnd = mps_cc_window(&g->cc, s);
	for (t = 0; t < MPS_CC_MAX_SF; t++)
		if (t != s && g->sf[t] && mps_cc_is_coupled(&g->cc, t) &&
		    g->cc.sf[t].group == g->cc.sf[s].group && off + 12 < wlen) {
			int n = snprintf(with + off, wlen - off, "%s%d", off ? "," : "",
			                 g->sf[t]->id);

			if (n > 0)
				off += (size_t)n;
		}
	return 1;
}

void mps_ccglue_free(struct mps_conn *c)
{
	if (c->ccg)
		live_unlink(c->ccg);
	free(c->ccg);
	c->ccg = NULL;
}

size_t mps_ccglue_state_size(void)
{
	return sizeof(struct mps_ccglue);
}
