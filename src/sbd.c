/* sbd.c - shared bottleneck detection after RFC 8382.  Pure; the rules are
 * in include/mptcpshim/sbd.h, the design in docs/DESIGN.md "Coupled
 * congestion control". */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "mptcpshim/sbd.h"

_Static_assert(MPS_SBD_MAX_FLOWS * (MPS_SBD_MAX_FLOWS - 1) / 2 <= 32, "step_held: one bit a pair");

void mps_sbd_params_default(struct mps_sbd_params *p)
{
	p->t_us = 350000;
	p->n = MPS_SBD_MAX_N; /* RFC: 50; the ring holds 30 */
	p->m = 30;
	p->min_intervals = 10;
	p->c_s = 0.1;
	p->c_h = 0.3;
	p->p_l = 0.1;
	p->p_f = 0.1;
	p->p_mad = 0.1;
	p->p_s = 0.15;
	p->p_d = 0.1;
	p->p_v = 0.7;
	p->var_min_us = 200;
	p->corr_min = 0.5;
	p->corr_n = 8;
	p->hold = 3;
	p->hold_off = 9;
	p->step_min = 0.5;
	p->step_n = 100;
	p->step_keep = 0.15;
	p->step_clip = 4;
}

void mps_sbd_init(struct mps_sbd *d, const struct mps_sbd_params *p)
{
	int i;

	memset(d, 0, sizeof(*d));
	if (p)
		d->p = *p;
	else
		mps_sbd_params_default(&d->p);
	if (d->p.n < 1)
		d->p.n = 1;
	if (d->p.n > MPS_SBD_MAX_N)
		d->p.n = MPS_SBD_MAX_N;
	if (d->p.m < 1)
		d->p.m = 1;
	if (d->p.m > d->p.n)
		d->p.m = d->p.n;
	if (!d->p.t_us)
		d->p.t_us = 1;
	for (i = 0; i < MPS_SBD_MAX_FLOWS; i++)
		d->f[i].group = -1;
}

static double dabs(double x)
{
	return x < 0 ? -x : x;
}

/* The k-th most recent closed interval of f (k = 0: the newest). */
static const struct mps_sbd_iv *recent(const struct mps_sbd *d, const struct mps_sbd_flow *f, int k)
{
	int slot = f->head - 1 - k;

	while (slot < 0)
		slot += d->p.n;
	return &f->iv[slot];
}

static void stats(const struct mps_sbd *d, struct mps_sbd_flow *f)
{
	double sum = 0, var = 0, band;
	double num = 0, num_sv = 0, skew = 0;
	int k, km = f->count < d->p.m ? f->count : d->p.m, last = 0, crossings = 0;

	for (k = 0; k < km; k++) {
		const struct mps_sbd_iv *iv = recent(d, f, k);
		sum += iv->sum;
		num += iv->num;
		num_sv += iv->num_sv;
		skew += iv->skew;
		var += iv->var;
	}
	if (num)
		f->mean_delay = sum / num;
	f->num_sv = (uint64_t)num_sv;
	f->skew_est = num_sv ? skew / num_sv : 0;
	f->var_est = num_sv ? var / num_sv : 0;
	/* freq_est: oldest to newest, each interval's mean either clearly above
	 * (+1), clearly below (-1) or within p_v * var_est of mean_delay (0,
	 * ignored); a crossing is a change of sign between nonzero states. */
	band = d->p.p_v * f->var_est;
	for (k = f->count - 1; k >= 0; k--) {
		const struct mps_sbd_iv *iv = recent(d, f, k);
		int s = 0;

		if (!iv->num)
			continue;
		if ((double)iv->sum / iv->num > f->mean_delay + band)
			s = 1;
		else if ((double)iv->sum / iv->num < f->mean_delay - band)
			s = -1;
		if (s && last && s != last)
			crossings++;
		if (s)
			last = s;
	}
	f->freq_est = f->count ? (double)crossings / f->count : 0;
	f->pkt_loss = f->sent > 0 ? f->lost / f->sent : 0;
}

static int bottlenecked(const struct mps_sbd *d, const struct mps_sbd_flow *f)
{
	const struct mps_sbd_params *p = &d->p;

	if (f->intervals < p->min_intervals || !f->num_sv)
		return 0;
	if (f->pkt_loss > p->p_l / 10)
		return 1;
	if (f->var_est < p->var_min_us)
		return 0;
	return f->skew_est < p->c_s || (f->bottleneck && f->skew_est < p->c_h);
}

enum key { K_FREQ, K_VAR, K_SKEW, K_LOSS };

static double keyval(const struct mps_sbd_flow *f, enum key k)
{
	switch (k) {
	case K_FREQ:
		return f->freq_est;
	case K_VAR:
		return f->var_est;
	case K_SKEW:
		return f->skew_est;
	default:
		return f->pkt_loss;
	}
}

/* Successive (sorted: a <= b) values far enough apart to split. */
static int apart(const struct mps_sbd_params *p, enum key k, double a, double b)
{
	switch (k) {
	case K_FREQ:
		return b - a > p->p_f;
	case K_VAR:
		return b - a > p->p_mad * b;
	case K_SKEW:
		return b - a > p->p_s;
	default:
		/* only significant loss separates flows */
		return b > p->p_l / 10 && b - a > p->p_d * b;
	}
}

/* The RFC's grouping steps over the bottlenecked flows: lab[i] is flow i's
 * label (-1: not bottlenecked); each key refines the labels. */
static void group(const struct mps_sbd *d, int *lab)
{
	int next, k, i;
	int idx[MPS_SBD_MAX_FLOWS], nl[MPS_SBD_MAX_FLOWS];

	/* with the correlation step on (ours), the loss split is left out:
	 * TCP retransmission rates of subflows behind one queue differ by far
	 * more than p_d (0.6 % against 6 % measured), and the correlation is
	 * the direct test */
	int last = d->p.corr_min > 0 ? K_SKEW : K_LOSS;

	for (k = K_FREQ; k <= last; k++) {
		int label, done[MPS_SBD_MAX_FLOWS] = {0};

		next = 0;

		for (i = 0; i < d->nflows; i++)
			nl[i] = -1;
		for (label = 0; label < MPS_SBD_MAX_FLOWS; label++) {
			int cnt = 0, a, b;

			for (i = 0; i < d->nflows; i++)
				if (lab[i] == label && !done[i])
					idx[cnt++] = i;
			if (!cnt)
				continue;
			/* insertion sort by the key, ties by index: deterministic */
			for (a = 1; a < cnt; a++) {
				int x = idx[a];
				double v = keyval(&d->f[x], (enum key)k);

				for (b = a; b > 0 && keyval(&d->f[idx[b - 1]], (enum key)k) > v;
				     b--)
					idx[b] = idx[b - 1];
				idx[b] = x;
			}
			for (a = 0; a < cnt; a++) {
				if (a && apart(&d->p, (enum key)k,
				               keyval(&d->f[idx[a - 1]], (enum key)k),
				               keyval(&d->f[idx[a]], (enum key)k)))
					next++;
				nl[idx[a]] = next;
				done[idx[a]] = 1;
			}
			next++;
		}
		for (i = 0; i < d->nflows; i++)
			lab[i] = nl[i];
		/* relabel compactly (0, 1, ...) for the next key's label loop */
		{
			int map[3 * MPS_SBD_MAX_FLOWS];
			int used = 0, j;

			for (j = 0; j < (int)(sizeof(map) / sizeof(map[0])); j++)
				map[j] = -1;
			for (i = 0; i < d->nflows; i++) {
				if (lab[i] < 0)
					continue;
				if (map[lab[i]] < 0)
					map[lab[i]] = used++;
				lab[i] = map[lab[i]];
			}
		}
	}
}

/* Pearson correlation of a's and b's interval mean delays over the
 * intervals both have samples in (both rings advance together, so the k-th
 * most recent interval is the same one for both), squared and signed:
 * corr^2 if corr > 0, -1 if corr <= 0, -2 with fewer than corr_n such
 * intervals or no variation (no libm: the caller compares with
 * corr_min^2). */
static double correlation(const struct mps_sbd *d, const struct mps_sbd_flow *a,
                          const struct mps_sbd_flow *b)
{
	double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, n = 0, cov, vx, vy;
	int k, kmax = a->count < b->count ? a->count : b->count;

	for (k = 0; k < kmax; k++) {
		const struct mps_sbd_iv *x = recent(d, a, k), *y = recent(d, b, k);
		double mx, my;

		if (!x->num || !y->num)
			continue;
		mx = (double)x->sum / x->num;
		my = (double)y->sum / y->num;
		sx += mx;
		sy += my;
		sxx += mx * mx;
		syy += my * my;
		sxy += mx * my;
		n++;
	}
	if (n < d->p.corr_n || n < 2)
		return -2;
	cov = sxy - sx * sy / n;
	vx = sxx - sx * sx / n;
	vy = syy - sy * sy / n;
	if (vx <= 0 || vy <= 0)
		return -2;
	if (cov <= 0)
		return -1;
	return (cov * cov) / (vx * vy);
}

/* Ours: within each label, a member joins the first subgroup whose first
 * member it correlates with (corr >= corr_min), else starts one. */
static void split_uncorrelated(const struct mps_sbd *d, int *lab)
{
	int i, j, next = 0, nl[MPS_SBD_MAX_FLOWS], head[MPS_SBD_MAX_FLOWS];
	double min2 = d->p.corr_min * d->p.corr_min;

	if (d->p.corr_min <= 0)
		return;
	for (i = 0; i < d->nflows; i++) {
		nl[i] = -1;
		head[i] = i;
		if (lab[i] < 0)
			continue;
		for (j = 0; j < i; j++) {
			if (lab[j] != lab[i] || head[j] != j)
				continue;
			if (correlation(d, &d->f[i], &d->f[j]) >= min2) {
				nl[i] = nl[j];
				head[i] = j;
				break;
			}
		}
		if (nl[i] < 0)
			nl[i] = next++;
	}
	for (i = 0; i < d->nflows; i++)
		lab[i] = nl[i];
}

static struct mps_sbd_pair *pair(struct mps_sbd *d, int i, int j)
{
	if (i < j) {
		int t = i;
		i = j;
		j = t;
	}
	return &d->pair[i * (i - 1) / 2 + j];
}

static double step_corr(const struct mps_sbd *d, int i, int j)
{
	const struct mps_sbd_pair *q;
	double cov, vx, vy;

	if (i == j)
		return -2;
	q = pair((struct mps_sbd *)d, i, j);
	if (q->n < d->p.step_n || q->n < 2)
		return -2;
	cov = q->sxy - q->sx * q->sy / q->n;
	vx = q->sxx - q->sx * q->sx / q->n;
	vy = q->syy - q->sy * q->sy / q->n;
	if (vx <= 0 || vy <= 0)
		return -2;
	if (cov <= 0)
		return -1;
	return (cov * cov) / (vx * vy);
}

double mps_sbd_step_corr(const struct mps_sbd *d, int i, int j)
{
	if (!d || i < 0 || j < 0 || i >= d->nflows || j >= d->nflows || !d->f[i].active ||
	    !d->f[j].active)
		return -2;
	return step_corr(d, i, j);
}

/* Ours: flows whose delay steps correlate (>= step_min) are behind one
 * queue, whatever the RFC's statistics say: each step of a shared queue
 * (a burst queued, a queue drained) shows in both flows' delays at the same
 * reading; disjoint queues step independently.  This is what sees bbr's
 * bottleneck: bbr keeps the queue drained but for its probes (skew
 * positive, few losses: the RFC's test never fires), yet every probe of
 * any flow through the link moves every flow's delay at once.  It does not
 * weaken as coupling lowers the losses and the skew.  Both flows need
 * var_est >= var_min_us (a queue that varies at all).  Merges labels. */
static void merge_steps(struct mps_sbd *d, int *lab)
{
	double min2 = d->p.step_min * d->p.step_min;
	double keep2 = d->p.step_keep < d->p.step_min ? d->p.step_keep * d->p.step_keep : min2;
	int i, j, k, next = 0;

	if (d->p.step_min <= 0)
		return;
	for (i = 0; i < d->nflows; i++)
		if (lab[i] >= next)
			next = lab[i] + 1;
	for (i = 0; i < d->nflows; i++) {
		const struct mps_sbd_flow *a = &d->f[i];

		if (!a->active || a->intervals < d->p.min_intervals || a->var_est < d->p.var_min_us)
			continue;
		for (j = 0; j < i; j++) {
			const struct mps_sbd_flow *b = &d->f[j];
			int from, to;

			/* hysteresis: a published pair whose steps reached
			 * step_min since needs only step_keep (not a pair the
			 * RFC's statistics grouped: a loaded host's common
			 * delay put disjoint paths at r^2 0.12) */
			int same = a->group >= 0 && a->group == b->group;
			uint32_t bit = 1u << (i * (i - 1) / 2 + j);
			double r2 = step_corr(d, i, j);

			if (!same)
				d->step_held &= ~bit;
			else if (r2 >= min2)
				d->step_held |= bit;
			if (!b->active || b->intervals < d->p.min_intervals ||
			    b->var_est < d->p.var_min_us ||
			    r2 < ((d->step_held & bit) ? keep2 : min2))
				continue;
			if (lab[j] < 0)
				lab[j] = next++;
			if (lab[i] < 0)
				lab[i] = next++;
			from = lab[i];
			to = lab[j];
			for (k = 0; k < d->nflows; k++)
				if (lab[k] == from)
					lab[k] = to;
		}
	}
}

static int regroup(struct mps_sbd *d, uint64_t now_us)
{
	int lab[MPS_SBD_MAX_FLOWS], i, j, changed = 0;

	for (i = 0; i < d->nflows; i++) {
		struct mps_sbd_flow *f = &d->f[i];

		lab[i] = -1;
		if (!f->active)
			continue;
		f->bottleneck = (uint8_t)bottlenecked(d, f);
		if (f->bottleneck)
			lab[i] = 0;
	}
	group(d, lab);
	split_uncorrelated(d, lab);
	merge_steps(d, lab);
	for (i = 0; i < d->nflows; i++) {
		int g = -1;

		if (lab[i] >= 0)
			for (j = 0; j < d->nflows; j++)
				if (j != i && lab[j] == lab[i]) {
					g = j < i ? j : i;
					break;
				}
		if (g == d->f[i].group) {
			d->f[i].cand_n = 0;
			continue;
		}
		/* hysteresis: a new verdict must last `hold` intervals */
		if (d->f[i].cand_n > 0 && d->f[i].cand == g)
			d->f[i].cand_n++;
		else {
			d->f[i].cand = g;
			d->f[i].cand_n = 1;
		}
		if (d->f[i].cand_n >= (g < 0 ? d->p.hold_off : d->p.hold)) {
			d->f[i].group = g;
			d->f[i].since_us = now_us;
			d->f[i].cand_n = 0;
			d->f[i].changes++;
			changed = 1;
		}
	}
	return changed;
}

/* The closed interval c into the ring's compact form: counts beyond 65535
 * are scaled down with their sums (same means and ratios). */
static void store(struct mps_sbd_iv *iv, const struct mps_sbd_cur *c)
{
	double fn = c->num > UINT16_MAX ? (double)UINT16_MAX / c->num : 1;
	double fs = c->num_sv > UINT16_MAX ? (double)UINT16_MAX / c->num_sv : 1;

	iv->sum = (float)(c->sum * fn);
	iv->num = (uint16_t)(c->num > UINT16_MAX ? UINT16_MAX : c->num);
	iv->num_sv = (uint16_t)(c->num_sv > UINT16_MAX ? UINT16_MAX : c->num_sv);
	iv->skew = (float)(c->skew * fs);
	iv->var = (float)(c->var * fs);
}

static void close_interval(struct mps_sbd *d)
{
	double keep = 1.0 - 1.0 / d->p.m, keep_n = 1.0 - 1.0 / d->p.n;
	size_t k;
	int i;

	for (k = 0; k < sizeof(d->pair) / sizeof(d->pair[0]); k++) {
		struct mps_sbd_pair *q = &d->pair[k];

		q->n *= keep;
		q->sx *= keep;
		q->sy *= keep;
		q->sxx *= keep;
		q->syy *= keep;
		q->sxy *= keep;
	}

	for (i = 0; i < d->nflows; i++) {
		struct mps_sbd_flow *f = &d->f[i];

		if (!f->active)
			continue;
		f->abs_sum *= keep;
		f->abs_n *= keep;
		f->sent = f->sent * keep_n + (double)f->cur.sent;
		f->lost = f->lost * keep_n + (double)f->cur.lost;
		store(&f->iv[f->head], &f->cur);
		f->head = (uint8_t)((f->head + 1) % d->p.n);
		if (f->count < d->p.n)
			f->count++;
		f->intervals++;
		memset(&f->cur, 0, sizeof(f->cur));
		stats(d, f);
	}
}

/* Closes the intervals that ended; a change of groups is remembered in
 * d->changed until mps_sbd_tick reports it (a sample that closes an
 * interval regroups too, and must not swallow the news). */
static void tick(struct mps_sbd *d, uint64_t now_us)
{
	int closed = 0;

	if (!d->t0)
		return;
	/* after a long silence only the last n intervals matter (all empty) */
	if (now_us > d->t0 + (uint64_t)(d->p.n + 1) * d->p.t_us) {
		uint64_t skip = (now_us - d->t0) / d->p.t_us - (uint64_t)d->p.n;
		d->t0 += skip * d->p.t_us;
	}
	while (now_us >= d->t0 + d->p.t_us) {
		close_interval(d);
		d->t0 += d->p.t_us;
		closed = 1;
	}
	if (closed && regroup(d, now_us))
		d->changed = 1;
}

int mps_sbd_tick(struct mps_sbd *d, uint64_t now_us)
{
	int changed;

	if (!d)
		return 0;
	tick(d, now_us);
	changed = d->changed;
	d->changed = 0;
	return changed;
}

static struct mps_sbd_flow *flow(struct mps_sbd *d, int i, uint64_t now_us)
{
	struct mps_sbd_flow *f;

	if (!d || i < 0 || i >= MPS_SBD_MAX_FLOWS || !now_us)
		return NULL;
	if (!d->t0)
		d->t0 = now_us;
	tick(d, now_us);
	f = &d->f[i];
	if (!f->active) {
		int j;

		for (j = 0; j < MPS_SBD_MAX_FLOWS; j++)
			if (j != i)
				memset(pair(d, i, j), 0, sizeof(struct mps_sbd_pair));
		memset(f, 0, sizeof(*f));
		f->active = 1;
		f->group = -1;
		f->since_us = now_us;
		if (i >= d->nflows)
			d->nflows = i + 1;
	}
	return f;
}

int mps_sbd_delay(struct mps_sbd *d, int i, uint64_t now_us, double delay_us)
{
	struct mps_sbd_flow *f = flow(d, i, now_us);

	if (!f || !(delay_us >= 0))
		return -EINVAL;
	f->cur.sum += delay_us;
	f->cur.num++;
	/* skew and var compare with the mean of the intervals closed before
	 * (RFC 8382: the previous mean_delay), so they need one first */
	if (f->intervals > 0 && f->mean_delay > 0) {
		f->cur.num_sv++;
		if (delay_us < f->mean_delay)
			f->cur.skew++;
		else if (delay_us > f->mean_delay)
			f->cur.skew--;
		f->cur.var += dabs(delay_us - f->mean_delay);
	}
	/* the step since this flow's previous sample, paired with every other
	 * flow's step taken at the same time */
	if (f->prev_us && now_us > f->prev_us) {
		int j;

		double st = delay_us - f->prev_delay, lim;

		/* clipped to step_clip times the flow's mean |step|: one large
		 * step (a drop-tail queue's drain) that two independent queues
		 * happen to take in the same reading would otherwise outweigh
		 * hundreds of small ones */
		f->abs_sum += dabs(st);
		f->abs_n += 1;
		lim = d->p.step_clip * f->abs_sum / f->abs_n;
		if (d->p.step_clip > 0 && f->abs_n >= 10 && dabs(st) > lim)
			st = st < 0 ? -lim : lim;
		f->step = st;
		f->step_us = now_us;
		for (j = 0; j < d->nflows; j++) {
			struct mps_sbd_pair *q;
			double x, y;

			if (j == i || !d->f[j].active || d->f[j].step_us != now_us)
				continue;
			q = pair(d, i, j);
			x = j < i ? d->f[j].step : f->step;
			y = j < i ? f->step : d->f[j].step;
			q->n += 1;
			q->sx += x;
			q->sy += y;
			q->sxx += x * x;
			q->syy += y * y;
			q->sxy += x * y;
		}
	}
	f->prev_delay = delay_us;
	f->prev_us = now_us;
	return 0;
}

int mps_sbd_loss(struct mps_sbd *d, int i, uint64_t now_us, uint64_t sent, uint64_t lost)
{
	struct mps_sbd_flow *f = flow(d, i, now_us);

	if (!f || lost > sent)
		return -EINVAL;
	f->cur.sent += sent;
	f->cur.lost += lost;
	return 0;
}

void mps_sbd_remove(struct mps_sbd *d, int i)
{
	int j;

	if (!d || i < 0 || i >= MPS_SBD_MAX_FLOWS)
		return;
	d->f[i].active = 0;
	d->f[i].group = -1;
	/* a partner left alone shares with no one now */
	for (j = 0; j < d->nflows; j++) {
		int k, alone = 1;

		if (!d->f[j].active || d->f[j].group < 0)
			continue;
		for (k = 0; k < d->nflows; k++)
			if (k != j && d->f[k].active && d->f[k].group == d->f[j].group)
				alone = 0;
		if (alone)
			d->f[j].group = -1;
	}
	while (d->nflows > 0 && !d->f[d->nflows - 1].active)
		d->nflows--;
}

int mps_sbd_group(const struct mps_sbd *d, int i)
{
	if (!d || i < 0 || i >= d->nflows || !d->f[i].active)
		return -1;
	return d->f[i].group;
}
