/* cc.c - coupled congestion control: uncoupled, LIA (RFC 6356), OLIA
 * (Khalili et al., CoNEXT 2012).  Pure; the rules are in
 * include/mptcpshim/cc.h, the design in docs/DESIGN.md "Coupled congestion
 * control". */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "mptcpshim/cc.h"

static int slot_ok(const struct mps_cc *cc, int i)
{
	return cc && i >= 0 && i < cc->n && cc->sf[i].active;
}

/* j's window is in use: bytes were acked within max(MPS_CC_IDLE_US, 4
 * srtt) of the newest reading. */
static int busy(const struct mps_cc *cc, int j)
{
	uint64_t idle = 4ull * cc->sf[j].srtt_us;

	if (idle < MPS_CC_IDLE_US)
		idle = MPS_CC_IDLE_US;
	return cc->now_us <= cc->sf[j].last_ack_us || cc->now_us - cc->sf[j].last_ack_us <= idle;
}

/* j counts in i's sums: active, same group, RTT measured, and busy (i
 * itself always: it is the one being updated). */
static int member(const struct mps_cc *cc, int i, int j)
{
	return cc->sf[j].active && cc->sf[j].srtt_us && cc->sf[j].group == cc->sf[i].group &&
	       (j == i || busy(cc, j));
}

/* Another active, busy subflow with a measured RTT shares i's group. */
int mps_cc_is_coupled(const struct mps_cc *cc, int i)
{
	int j;

	if (!slot_ok(cc, i) || !cc->ops || !cc->ops->coupled)
		return 0;
	if (cc->sf[i].group < 0 || !cc->sf[i].srtt_us)
		return 0;
	for (j = 0; j < cc->n; j++)
		if (j != i && member(cc, i, j))
			return 1;
	return 0;
}

double mps_cc_lia_alpha(const struct mps_cc *cc, int i)
{
	double total = 0, best = 0, sum = 0;
	int j;

	if (!mps_cc_is_coupled(cc, i))
		return 0;
	for (j = 0; j < cc->n; j++) {
		double w, r;

		if (!member(cc, i, j))
			continue;
		w = cc->sf[j].w;
		r = (double)cc->sf[j].srtt_us;
		total += w;
		if (w / (r * r) > best)
			best = w / (r * r);
		sum += w / r;
	}
	if (sum <= 0)
		return 0;
	return total * best / (sum * sum);
}

/* RFC 6356 section 3: for each ACK of bytes_acked on subflow i,
 *   cwnd_i += min(alpha * bytes_acked * MSS_i / cwnd_total,
 *                 bytes_acked * MSS_i / cwnd_i)
 * The engine's readings batch the ACKs of ~25 ms; the increase is linear in
 * bytes_acked for fixed windows, so a batch is the sum of its ACKs as long
 * as the windows move little within it. */
static double lia_increase(const struct mps_cc *cc, int i, uint64_t acked)
{
	double total = 0, alpha, a, b, wi, mss;
	int j;

	for (j = 0; j < cc->n; j++)
		if (member(cc, i, j))
			total += cc->sf[j].w;
	alpha = mps_cc_lia_alpha(cc, i);
	wi = cc->sf[i].w;
	mss = (double)cc->sf[i].mss;
	if (total <= 0 || wi <= 0)
		return 0;
	a = alpha * (double)acked * mss / total;
	b = (double)acked * mss / wi;
	return a < b ? a : b;
}

static uint64_t olia_l(const struct mps_cc_sf *sf)
{
	return sf->l1 > sf->l2 ? sf->l1 : sf->l2;
}

/* i's best-path measure l_i / rtt_i^2 against j's: -1, 0, 1.  Exact in
 * integers (l < 2^64, rtt^2 < 2^64 as rtt < 2^32 us): compare
 * l_i * rtt_j^2 with l_j * rtt_i^2 in 128 bits. */
static int olia_cmp(const struct mps_cc_sf *a, const struct mps_cc_sf *b)
{
	unsigned __int128 x = (unsigned __int128)olia_l(a) * ((uint64_t)b->srtt_us * b->srtt_us);
	unsigned __int128 y = (unsigned __int128)olia_l(b) * ((uint64_t)a->srtt_us * a->srtt_us);

	return x < y ? -1 : x > y;
}

/* Windows compared in packets (the paper's unit) to the byte. */
static double pkts(const struct mps_cc_sf *sf)
{
	return sf->mss ? sf->w / (double)sf->mss : 0;
}

double mps_cc_olia_alpha(const struct mps_cc *cc, int i)
{
	int j, np = 0, nm = 0, nc = 0, best = -1, in_m, in_b;
	double wmax = 0;

	if (!mps_cc_is_coupled(cc, i))
		return 0;
	for (j = 0; j < cc->n; j++) {
		if (!member(cc, i, j))
			continue;
		np++;
		if (pkts(&cc->sf[j]) > wmax)
			wmax = pkts(&cc->sf[j]);
		if (best < 0 || olia_cmp(&cc->sf[j], &cc->sf[best]) > 0)
			best = j;
	}
	/* |M|, and |C| = |B \ M| */
	for (j = 0; j < cc->n; j++) {
		int m, b;

		if (!member(cc, i, j))
			continue;
		m = pkts(&cc->sf[j]) == wmax;
		b = olia_cmp(&cc->sf[j], &cc->sf[best]) == 0;
		nm += m;
		nc += b && !m;
	}
	if (!nc)
		return 0;
	in_m = pkts(&cc->sf[i]) == wmax;
	in_b = olia_cmp(&cc->sf[i], &cc->sf[best]) == 0;
	if (in_b && !in_m)
		return 1.0 / ((double)np * nc);
	if (in_m)
		return -1.0 / ((double)np * nm);
	return 0;
}

/* OLIA, per ACK on path r, windows w in packets:
 *   w_r += (w_r / rtt_r^2) / (sum_p w_p / rtt_p)^2 + alpha_r / w_r
 * For `acked` bytes that is acked / mss_r ACKed packets, each adding the
 * above (in packets); times mss_r gives bytes: the mss cancels in the
 * packet count, so the result is acked * [...] with w in packets. */
static double olia_increase(const struct mps_cc *cc, int i, uint64_t acked)
{
	double sum = 0, wi = pkts(&cc->sf[i]), ri = (double)cc->sf[i].srtt_us, first;
	int j;

	for (j = 0; j < cc->n; j++)
		if (member(cc, i, j))
			sum += pkts(&cc->sf[j]) / (double)cc->sf[j].srtt_us;
	if (sum <= 0 || wi <= 0)
		return 0;
	first = (wi / (ri * ri)) / (sum * sum);
	return (double)acked * (first + mps_cc_olia_alpha(cc, i) / wi);
}

static const struct mps_cc_ops cc_uncoupled = {
        .name = "uncoupled",
        .coupled = 0,
        .increase = NULL,
};

static const struct mps_cc_ops cc_lia = {
        .name = "lia",
        .coupled = 1,
        .increase = lia_increase,
};

static const struct mps_cc_ops cc_olia = {
        .name = "olia",
        .coupled = 1,
        .increase = olia_increase,
};

static const struct mps_cc_ops *const algorithms[] = {&cc_uncoupled, &cc_lia, &cc_olia};

const struct mps_cc_ops *mps_cc_find(const char *name)
{
	size_t k;

	if (!name)
		return NULL;
	for (k = 0; k < sizeof(algorithms) / sizeof(algorithms[0]); k++)
		if (!strcmp(name, algorithms[k]->name))
			return algorithms[k];
	return NULL;
}

void mps_cc_init(struct mps_cc *cc, const struct mps_cc_ops *ops)
{
	memset(cc, 0, sizeof(*cc));
	cc->ops = ops ? ops : &cc_uncoupled;
}

/* [min(2 mss, hi), hi] with hi the kernel's cwnd, or its ssthresh when
 * larger (climbing back after a loss); in an episode the kernel's cwnd is
 * transient (PRR, packet conservation) and does not lower the window. */
static void bound(struct mps_cc_sf *sf, const struct mps_cc_sample *s)
{
	double hi = (double)sf->kcwnd, lo = 2.0 * sf->mss;

	if (s && s->ssthresh > sf->kcwnd)
		hi = (double)s->ssthresh;
	if (s && s->ca_state >= MPS_CC_CA_CWR && sf->w > hi)
		hi = sf->w;
	if (lo > hi)
		lo = hi;
	if (sf->w < lo)
		sf->w = lo;
	if (sf->w > hi)
		sf->w = hi;
}

/* A congestion signal in this reading that starts a new reduction: more
 * retransmissions or a reducing state, outside an episode already answered
 * (one ends at a reading in Open or Disorder one srtt or more after its
 * reduction: as TCP, one reduction per window of losses). */
static int loss_event(struct mps_cc_sf *sf, const struct mps_cc_sample *s, uint32_t lost)
{
	int since_srtt = !sf->last_loss_us || s->now_us - sf->last_loss_us >= s->srtt_us;

	if (sf->in_episode && s->ca_state < MPS_CC_CA_CWR && since_srtt)
		sf->in_episode = 0;
	if (!(lost || s->ca_state >= MPS_CC_CA_CWR) || sf->in_episode || !since_srtt)
		return 0;
	sf->l1 = sf->l2;
	sf->l2 = 0;
	sf->last_loss_us = s->now_us ? s->now_us : 1;
	sf->loss_events++;
	sf->in_episode = 1;
	return 1;
}

/* Another coupled member of i's group that halved within the last srtt
 * (the group's episode), or -1. */
static int group_cut_within(const struct mps_cc *cc, int i, uint64_t now, uint32_t srtt)
{
	int j;

	for (j = 0; j < cc->n; j++)
		if (j != i && member(cc, i, j) && cc->sf[j].last_cut_us &&
		    now - cc->sf[j].last_cut_us < srtt)
			return j;
	return -1;
}

/* A group whose kernels are model-based (bbr: its cwnd is twice its own
 * estimate of the path's BDP, not a loss-driven window; it loses little
 * once past its start) gives LIA hardly a signal: each window would sit at
 * its kernel's cwnd and the group take one bbr share per subflow.  There the group's windows are
 * scaled so that their sum is at most the largest kernel cwnd among them:
 * what one flow of that kernel's algorithm would keep in flight. */
static void group_cap(struct mps_cc *cc, int i)
{
	double total = 0, cap = 0;
	int j;

	for (j = 0; j < cc->n; j++) {
		if (!member(cc, i, j))
			continue;
		if (!cc->sf[j].model_based)
			return;
		total += cc->sf[j].w;
		if ((double)cc->sf[j].kcwnd > cap)
			cap = (double)cc->sf[j].kcwnd;
	}
	if (total > cap && total > 0)
		cc->sf[i].w *= cap / total;
	if (cc->sf[i].w < 2.0 * cc->sf[i].mss && cc->sf[i].kcwnd >= 2ull * cc->sf[i].mss)
		cc->sf[i].w = 2.0 * cc->sf[i].mss;
}

/* The first reading of a slot: the window starts at the kernel's cwnd. */
static void sf_start(struct mps_cc *cc, struct mps_cc_sf *sf, const struct mps_cc_sample *s)
{
	int g = sf->group;

	memset(sf, 0, sizeof(*sf));
	sf->active = 1;
	sf->group = g;
	sf->w = (double)s->kcwnd;
	sf->kcwnd = s->kcwnd;
	sf->srtt_us = s->srtt_us;
	sf->mss = s->mss;
	sf->acked_prev = s->bytes_acked;
	sf->retr_prev = s->retrans;
	sf->delivery_rate = s->delivery_rate;
	sf->last_ack_us = s->now_us;
	sf->model_based = s->model_based;
	if (s->now_us > cc->now_us)
		cc->now_us = s->now_us;
	bound(sf, NULL);
}

/* A later reading: the kernel's values, and the bytes acked and
 * retransmissions since the last one. */
static void sf_read(struct mps_cc *cc, struct mps_cc_sf *sf, const struct mps_cc_sample *s,
                    uint64_t *acked, uint32_t *lost)
{
	/* counters only move forward; a smaller one (never seen) restarts the
	 * baseline rather than reading as 2^64 bytes */
	*acked = s->bytes_acked >= sf->acked_prev ? s->bytes_acked - sf->acked_prev : 0;
	*lost = s->retrans - sf->retr_prev; /* wraps correctly */
	if (s->retrans < sf->retr_prev && sf->retr_prev - s->retrans < (1u << 31))
		*lost = 0;
	sf->acked_prev = s->bytes_acked;
	sf->retr_prev = s->retrans;
	sf->kcwnd = s->kcwnd;
	sf->srtt_us = s->srtt_us;
	sf->mss = s->mss;
	sf->delivery_rate = s->delivery_rate;
	if (s->now_us > cc->now_us)
		cc->now_us = s->now_us;
	if (*acked)
		sf->last_ack_us = s->now_us;
	sf->model_based = s->model_based;
}

/* One reduction per congestion episode of the group: subflows coupled
 * share a bottleneck, and a drop-tail queue that overflows drops from
 * all of them at once; there a TCP flow halves once, and so does the
 * group: the largest window among the subflows that report a loss
 * within one srtt of the first halving.  Without this rule LIA's
 * aggregate halves at each shared overflow but grows by only 1/n MSS
 * per RTT: half of one Reno flow (measured: 0.2-0.5 of a cubic one). */
static void group_halve(struct mps_cc *cc, int i, const struct mps_cc_sample *s, uint32_t lost)
{
	struct mps_cc_sf *sf = &cc->sf[i];
	int j;

	if (!loss_event(sf, s, lost))
		return;
	j = group_cut_within(cc, i, s->now_us, s->srtt_us);
	if (j >= 0 && sf->w <= cc->sf[j].cut_from)
		return;
	if (j >= 0) { /* j's halving is undone: i takes it */
		cc->sf[j].w += cc->sf[j].cut_from / 2;
		cc->sf[j].last_cut_us = 0;
	}
	sf->cut_from = sf->w;
	sf->w /= 2;
	sf->last_cut_us = s->now_us ? s->now_us : 1;
}

int mps_cc_update(struct mps_cc *cc, int i, const struct mps_cc_sample *s)
{
	struct mps_cc_sf *sf;
	uint64_t acked;
	uint32_t lost;

	if (!cc || !s || i < 0 || i >= MPS_CC_MAX_SF || !s->mss)
		return -EINVAL;
	sf = &cc->sf[i];
	if (i >= cc->n)
		cc->n = i + 1;
	if (!sf->active) {
		sf_start(cc, sf, s);
		return 0;
	}
	sf_read(cc, sf, s, &acked, &lost);
	if (!mps_cc_is_coupled(cc, i)) {
		/* follows the kernel; OLIA's byte counts still run so a subflow
		 * that becomes coupled has its history */
		loss_event(sf, s, lost);
		sf->l2 += acked;
		sf->w = (double)sf->kcwnd;
		bound(sf, NULL);
		return 0;
	}
	group_halve(cc, i, s, lost);
	if (acked) {
		/* slow start only before the subflow's first loss: bbr keeps
		 * ssthresh "infinite", so cwnd < ssthresh would say slow start
		 * for good and the window would never be coupled */
		if (s->slow_start && !sf->loss_events)
			sf->w += (double)acked;
		else
			sf->w += cc->ops->increase(cc, i, acked);
		sf->l2 += acked;
	}
	bound(sf, s);
	group_cap(cc, i);
	return 0;
}

void mps_cc_remove(struct mps_cc *cc, int i)
{
	if (!cc || i < 0 || i >= MPS_CC_MAX_SF)
		return;
	cc->sf[i].active = 0;
	while (cc->n > 0 && !cc->sf[cc->n - 1].active)
		cc->n--;
}

void mps_cc_set_group(struct mps_cc *cc, int i, int group)
{
	if (!cc || i < 0 || i >= MPS_CC_MAX_SF)
		return;
	cc->sf[i].group = group;
	if (i >= cc->n && cc->sf[i].active)
		cc->n = i + 1;
}

uint64_t mps_cc_window(const struct mps_cc *cc, int i)
{
	if (!slot_ok(cc, i))
		return 0;
	return (uint64_t)cc->sf[i].w;
}
