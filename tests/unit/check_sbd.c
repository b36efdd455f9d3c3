/* check_sbd.c - shared bottleneck detection (include/mptcpshim/sbd.h): the
 * summary statistics worked by hand, and the grouping on seeded synthetic
 * traces: one shared oscillating queue, two independent queues, quiet paths. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/sbd.h"

static void near(double got, double want, double tol)
{
	double d = got - want;
	ck_assert_msg(d <= tol && d >= -tol, "got %.6f want %.6f (+-%g)", got, want, tol);
}

/* ---- statistics by hand ------------------------------------------------ */

/* T = 1000 us, M = N = 4, verdicts from the first interval, no variability
 * floor.  Flow 0's intervals (4 delays each, in us):
 *   1: 10 10 10 10   (no mean yet: only the mean counts)
 *   2:  8 12 12 12   vs mean 10: skew 1 - 3 = -2, var 2+2+2+2 = 8
 *   3: 20 20 20 20   vs 10.5:    skew -4, var 4 * 9.5 = 38
 *   4:  5  5  5  5   vs 13.667:  skew +4, var 4 * 8.6667 = 34.667
 *   5: 10 10 10 10   vs 11.5:    skew +4, var 4 * 1.5 = 6
 * after 2: mean (40+44)/8 = 10.5, skew -2/4 = -0.5, var 8/4 = 2;
 *          interval means 10, 11 within 0.7 * 2 = 1.4 of 10.5: freq 0
 * after 3: mean 164/12 = 13.667, skew -6/8 = -0.75, var 46/8 = 5.75;
 *          band 4.025: 10 and 11 inside, 20 above: no crossing, freq 0
 * after 4: mean 184/16 = 11.5, skew -2/12 = -0.1667, var 80.667/12 = 6.7222;
 *          band 4.7056: 20 above, then 5 below: one crossing, freq 1/4
 * after 5 (interval 1 drops out): mean (44+80+20+40)/16 = 11.5,
 *          skew (-2-4+4+4)/16 = 0.125, var 86.667/16 = 5.4167;
 *          band 3.7917: 20 above, 5 below: freq 1/4.
 * Verdict (c_s 0.1, c_h 0.3): after 2, 3, 4 skew < 0.1: bottleneck; after
 * 5 skew 0.125 is above c_s but below c_h and the flow was bottlenecked:
 * still (hysteresis).  Interval 6 (1 1 1 1, all below 11.5: skew +4)
 * makes skew (-4+4+4+4)/16 = 0.5 > c_h: no longer.
 * Loss: 5 of 100 in interval 2, 0 of 1000 in 3, running sums that decay by
 * 1 - 1/N = 0.75 at each close: after 3, 3.75 lost of 1075 sent, pkt_loss
 * 0.00348837 (below p_l / 10 from then on: the verdicts are the skew's).  The ring stores floats: the statistics to 1e-5. */
START_TEST(test_sbd_hand)
{
	struct mps_sbd_params p;
	struct mps_sbd d;
	static const double ivs[6][4] = {{10, 10, 10, 10}, {8, 12, 12, 12},  {20, 20, 20, 20},
	                                 {5, 5, 5, 5},     {10, 10, 10, 10}, {1, 1, 1, 1}};
	static const double mean[6] = {10, 10.5, 164.0 / 12, 11.5, 11.5, 0};
	static const double skew[6] = {0, -0.5, -0.75, -2.0 / 12, 0.125, 0.5};
	static const double var[6] = {0,
	                              2,
	                              5.75,
	                              (8 + 38 + 4 * (164.0 / 12 - 5)) / 12,
	                              (8 + 38 + 4 * (164.0 / 12 - 5) + 6) / 16,
	                              0};
	static const double freq[6] = {0, 0, 0, 0.25, 0.25, -1};
	static const int bn[6] = {0, 1, 1, 1, 1, 0};

	mps_sbd_params_default(&p);
	p.t_us = 1000;
	p.n = 4;
	p.m = 4;
	p.min_intervals = 1;
	p.var_min_us = 0;
	mps_sbd_init(&d, &p);
	for (int k = 0; k < 6; k++) {
		for (int j = 0; j < 4; j++)
			ck_assert_int_eq(
			        mps_sbd_delay(&d, 0, 1000 + 1000 * (uint64_t)k + 200 * (uint64_t)j,
			                      ivs[k][j]),
			        0);
		if (k == 1)
			ck_assert_int_eq(mps_sbd_loss(&d, 0, 1000 + 1000 * (uint64_t)k, 100, 5), 0);
		if (k == 2)
			ck_assert_int_eq(mps_sbd_loss(&d, 0, 1000 + 1000 * (uint64_t)k, 1000, 0), 0);
		mps_sbd_tick(&d, 1000 + 1000 * (uint64_t)(k + 1));
		const struct mps_sbd_flow *f = &d.f[0];
		ck_assert_int_eq(f->intervals, k + 1);
		if (k < 5) {
			near(f->mean_delay, mean[k], 1e-5);
			near(f->skew_est, skew[k], 1e-5);
			near(f->var_est, var[k], 1e-5);
			near(f->freq_est, freq[k], 1e-9);
		} else {
			near(f->skew_est, skew[k], 1e-5);
		}
		ck_assert_msg(f->bottleneck == bn[k], "interval %d: bottleneck %d", k + 1,
		              f->bottleneck);
		if (k == 2)
			near(f->pkt_loss, 3.75 / 1075, 1e-12);
	}
}
END_TEST

START_TEST(test_sbd_bad_input)
{
	struct mps_sbd d;

	mps_sbd_init(&d, NULL);
	ck_assert_int_eq(d.p.t_us, 350000);
	ck_assert_int_eq(d.p.n, 30); /* RFC 8382: 50; ours: the ring (sbd.h) */
	ck_assert_int_eq(d.p.m, 30);
	/* the detector's state must not grow silently: 128 KiB per connection
	 * before session 9 (32 flows x 64 intervals), now under 7 KiB */
	fprintf(stderr, "sizeof(struct mps_sbd) = %zu B (flow %zu B, pair %zu B)\n",
	        sizeof(struct mps_sbd), sizeof(struct mps_sbd_flow), sizeof(struct mps_sbd_pair));
	ck_assert_uint_le(sizeof(struct mps_sbd), 7 * 1024);
	ck_assert_int_eq(mps_sbd_delay(&d, -1, 1, 10), -EINVAL);
	ck_assert_int_eq(mps_sbd_delay(&d, MPS_SBD_MAX_FLOWS, 1, 10), -EINVAL);
	ck_assert_int_eq(mps_sbd_delay(&d, 0, 0, 10), -EINVAL);
	ck_assert_int_eq(mps_sbd_delay(&d, 0, 1, -1), -EINVAL);
	ck_assert_int_eq(mps_sbd_delay(NULL, 0, 1, 10), -EINVAL);
	ck_assert_int_eq(mps_sbd_loss(&d, 0, 1, 1, 2), -EINVAL);
	ck_assert_int_eq(mps_sbd_group(&d, 0), -1);
	ck_assert_int_eq(mps_sbd_group(&d, -1), -1);
	ck_assert_int_eq(mps_sbd_group(NULL, 0), -1);
	/* clamps */
	struct mps_sbd_params p;
	mps_sbd_params_default(&p);
	p.n = 1000;
	p.m = 2000;
	mps_sbd_init(&d, &p);
	ck_assert_int_eq(d.p.n, MPS_SBD_MAX_N);
	ck_assert_int_eq(d.p.m, MPS_SBD_MAX_N);
	/* a silence of an hour closes at most n + 1 intervals */
	ck_assert_int_eq(mps_sbd_delay(&d, 0, 1, 10), 0);
	mps_sbd_tick(&d, 3600ULL * 1000000);
	ck_assert_int_le(d.f[0].intervals, MPS_SBD_MAX_N + 1);
}
END_TEST

/* ---- synthetic traces ---------------------------------------------------- */

static double rnd(uint64_t *st) /* [0, 1) */
{
	*st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*st >> 11) / 9007199254740992.0;
}

/* A path's delay (us) at time t: base + a queue that fills and drains with
 * period `period` (amp at its fullest; the fill is concave as behind a TCP
 * that probes: the queue sits mostly high, so the delays are skewed
 * towards their top) + noise (uniform, +-noise), or quiet (amp 0): base +
 * 0..100 us jitter with a spike of 1-3 ms one sample in ten. */
struct path {
	double base, amp, noise;
	uint64_t period, phase;
	uint64_t rng;
};

static double queue_frac(const struct path *q, uint64_t t)
{
	return (double)((t + q->phase) % q->period) / (double)q->period;
}

static double delay(struct path *p, const struct path *q, uint64_t t)
{
	if (q->amp <= 0) {
		double d = p->base + 100 * rnd(&p->rng);
		if (rnd(&p->rng) < 0.1)
			d += 1000 + 2000 * rnd(&p->rng);
		return d;
	}
	double x = queue_frac(q, t);
	return p->base + q->amp * (1 - (1 - x) * (1 - x)) + p->noise * (2 * rnd(&p->rng) - 1);
}

/* Runs two flows for `secs` seconds, one reading each every 25 ms (the
 * engine's TCP_INFO tick), 40 packets per reading, losses at the top of
 * each flow's queue.  q[i] is the queue flow i sits behind (the same
 * struct for a shared one).  Returns the time (us from the start) from
 * which the two flows stayed grouped together to the end, or 0 if they were
 * not grouped at the end; *ever_us: first time they were grouped at all. */
static uint64_t last_us;                        /* last time the two were grouped (0: never) */
static const struct mps_sbd_params *run_params; /* NULL: the defaults */
static int reported;                            /* times mps_sbd_tick said the groups changed */

static uint64_t run(struct path *p, struct path *const *q, int secs, uint64_t *ever_us,
                    struct mps_sbd *d)
{
	uint64_t t, start = 1000000, end = start + (uint64_t)secs * 1000000, since = 0;
	*ever_us = 0;
	last_us = 0;
	reported = 0;

	mps_sbd_init(d, run_params);
	for (t = start; t < end; t += 25000) {
		for (int i = 0; i < 2; i++) {
			ck_assert_int_eq(mps_sbd_delay(d, i, t, delay(&p[i], q[i], t)), 0);
			int top = q[i]->amp > 0 && queue_frac(q[i], t) > 0.97;
			ck_assert_int_eq(mps_sbd_loss(d, i, t, 40, top ? 2 : 0), 0);
		}
		if (mps_sbd_tick(d, t))
			reported++;
		int g0 = mps_sbd_group(d, 0), g1 = mps_sbd_group(d, 1);
		if (g0 >= 0 && g0 == g1) {
			if (!since)
				since = t - start;
			if (!*ever_us)
				*ever_us = t - start;
			last_us = t - start;
		} else {
			since = 0;
		}
	}
	return since;
}

static void show(const char *what, const struct mps_sbd *d)
{
	for (int i = 0; i < 2; i++)
		fprintf(stderr,
		        "%s flow %d: skew %.3f var %.0f us freq %.3f loss %.4f bottleneck %d group %d"
		        " step r2 %.3f\n",
		        what, i, d->f[i].skew_est, d->f[i].var_est, d->f[i].freq_est,
		        d->f[i].pkt_loss, d->f[i].bottleneck, d->f[i].group,
		        mps_sbd_step_corr(d, 0, 1));
}

/* Both paths behind one queue that oscillates every 2 s up to 20 ms (their
 * own bases and noise differ): grouped, and decided within 5 s (the first
 * verdict comes after min_intervals = 10 intervals of 350 ms = 3.5 s, and
 * is published once it lasted hold = 3 intervals: 4.2 s). */
START_TEST(test_sbd_shared)
{
	struct mps_sbd d;
	struct path q = {.amp = 20000, .period = 2000000, .phase = 0};
	struct path p[2] = {{.base = 10000, .noise = 300, .rng = 1},
	                    {.base = 35000, .noise = 300, .rng = 2}};
	struct path *qs[2] = {&q, &q};
	uint64_t ever, since = run(p, qs, 40, &ever, &d);
	show("shared", &d);
	fprintf(stderr, "shared: grouped from %.2f s on (first at %.2f s)\n", since / 1e6,
	        ever / 1e6);
	ck_assert_msg(since > 0, "not grouped at the end");
	ck_assert_msg(since <= 5000000, "decided after %.2f s", since / 1e6);
	ck_assert_int_eq(d.f[0].bottleneck, 1);
	ck_assert_int_eq(mps_sbd_group(&d, 0), 0);
	ck_assert_int_eq(mps_sbd_group(&d, 1), 0);
	/* the change was reported, although the samples (fed before the
	 * tick) closed the interval that changed the groups */
	ck_assert_int_ge(reported, 1);
	/* decided once, never flapped */
	ck_assert_uint_eq(d.f[0].changes, 1);
	ck_assert_uint_eq(d.f[1].changes, 1);

	/* a slower, deeper shared queue (5 s, 60 ms) with more noise: still */
	struct path q2 = {.amp = 60000, .period = 5000000, .phase = 1234567};
	struct path p2[2] = {{.base = 5000, .noise = 2000, .rng = 3},
	                     {.base = 80000, .noise = 2000, .rng = 4}};
	struct path *qs2[2] = {&q2, &q2};
	since = run(p2, qs2, 40, &ever, &d);
	show("shared slow", &d);
	fprintf(stderr, "shared slow: grouped from %.2f s on\n", since / 1e6);
	ck_assert_msg(since > 0 && since <= 10000000, "grouped from %.2f s", since / 1e6);
}
END_TEST

/* Two independent queues (1.4 s up to 20 ms; 3.3 s up to 8 ms): both
 * flows are behind a bottleneck, but not the same one: never grouped.
 * Then queues that differ in one statistic only.  (Two independent queues
 * with the same period, depth and shape would be grouped: RFC 8382 compares
 * the statistics' values, not their correlation in time.) */
START_TEST(test_sbd_independent)
{
	struct mps_sbd d;
	struct path qa = {.amp = 20000, .period = 1400000, .phase = 0};
	struct path qb = {.amp = 8000, .period = 3300000, .phase = 500000};
	struct path p[2] = {{.base = 10000, .noise = 300, .rng = 5},
	                    {.base = 10000, .noise = 300, .rng = 6}};
	struct path *qs[2] = {&qa, &qb};
	uint64_t ever, since = run(p, qs, 40, &ever, &d);
	show("independent", &d);
	ck_assert_msg(ever == 0, "grouped at %.2f s", ever / 1e6);
	ck_assert_uint_eq(since, 0);
	ck_assert_int_eq(d.f[0].bottleneck, 1);
	ck_assert_int_eq(d.f[1].bottleneck, 1);
	ck_assert_int_eq(mps_sbd_group(&d, 0), -1);
	ck_assert_int_eq(mps_sbd_group(&d, 1), -1);

	/* the same depth, other periods (1.4 s, 3.3 s): only freq_est tells
	 * (0.5 against 0.2 crossings per interval; 2 s against 3.3 s, 0.35
	 * against 0.2, is within reach of p_f = 0.1 as the window slides: the
	 * detector's resolution) */
	struct path qc = {.amp = 20000, .period = 2000000, .phase = 0};
	struct path qe = {.amp = 20000, .period = 3300000, .phase = 700000};
	struct path qg = {.amp = 20000, .period = 1400000, .phase = 0};
	struct path *qs2[2] = {&qg, &qe};
	since = run(p, qs2, 40, &ever, &d);
	show("same depth", &d);
	fprintf(stderr, "same depth: grouped %.2f s to %.2f s\n", ever / 1e6, last_us / 1e6);
	/* freq_est over fewer than N intervals is noisy: until the window is
	 * full (N * T = 17.5 s) a transient grouping may happen (without the
	 * hysteresis: 8.4 s to 8.75 s, one interval); the hold (a verdict must
	 * last 3 intervals) keeps it from being published at all */
	ck_assert_msg(ever == 0, "grouped %.2f s to %.2f s", ever / 1e6, last_us / 1e6);
	ck_assert_uint_eq(since, 0);

	/* the same period, other depths (20 ms, 8 ms): only var_est tells */
	struct path qf = {.amp = 8000, .period = 2000000, .phase = 900000};
	struct path *qs3[2] = {&qc, &qf};
	since = run(p, qs3, 40, &ever, &d);
	show("same period", &d);
	fprintf(stderr, "same period: grouped %.2f s to %.2f s\n", ever / 1e6, last_us / 1e6);
	ck_assert_msg(last_us < 17500000, "grouped at %.2f s", last_us / 1e6);
	ck_assert_uint_eq(since, 0);
}
END_TEST

/* Two independent queues alike in period, depth and shape, out of phase
 * (1 s apart of 2 s): the RFC's statistics cannot tell them apart (with our
 * correlation step off they are grouped); their interval means do not move
 * together (anti-correlated here), so with it they are not. */
START_TEST(test_sbd_same_shape)
{
	struct mps_sbd d;
	struct mps_sbd_params p;
	struct path qa = {.amp = 20000, .period = 2000000, .phase = 0};
	struct path qb = {.amp = 20000, .period = 2000000, .phase = 1000000};
	struct path pp[2] = {{.base = 10000, .noise = 300, .rng = 21},
	                     {.base = 10000, .noise = 300, .rng = 22}};
	struct path *qs[2] = {&qa, &qb};
	uint64_t ever, since;

	mps_sbd_params_default(&p);
	p.corr_min = 0;
	run_params = &p;
	since = run(pp, qs, 30, &ever, &d);
	show("same shape, RFC only", &d);
	ck_assert_msg(since > 0, "the RFC's statistics alone should group these");

	run_params = NULL;
	pp[0].rng = 21;
	pp[1].rng = 22;
	since = run(pp, qs, 30, &ever, &d);
	show("same shape", &d);
	ck_assert_msg(ever == 0, "grouped at %.2f s", ever / 1e6);

	/* a third phase (0.7 s of 2 s): correlation cos(2 pi 0.35) < 0.5 */
	struct path qc = {.amp = 20000, .period = 2000000, .phase = 700000};
	struct path *qs2[2] = {&qa, &qc};
	since = run(pp, qs2, 30, &ever, &d);
	show("same shape, 0.7 s apart", &d);
	ck_assert_msg(last_us < 17500000, "grouped at %.2f s", last_us / 1e6);
	ck_assert_uint_eq(since, 0);
}
END_TEST

/* Quiet paths (jitter and rare spikes, no queue): not bottlenecked, not
 * grouped; nor are two paths with a perfectly constant delay (the
 * variability floor: their statistics are identical, skew 0). */
START_TEST(test_sbd_quiet)
{
	struct mps_sbd d;
	struct path quiet = {.amp = 0};
	struct path p[2] = {{.base = 10000, .rng = 7}, {.base = 10000, .rng = 8}};
	struct path *qs[2] = {&quiet, &quiet};
	uint64_t ever, since = run(p, qs, 30, &ever, &d);
	show("quiet", &d);
	ck_assert_msg(ever == 0, "grouped at %.2f s", ever / 1e6);
	ck_assert_uint_eq(since, 0);
	ck_assert_int_eq(d.f[0].bottleneck, 0);
	ck_assert_int_eq(d.f[1].bottleneck, 0);
	ck_assert_msg(d.f[0].skew_est > 0.3, "skew %.3f", d.f[0].skew_est);

	/* constant delays */
	mps_sbd_init(&d, NULL);
	for (uint64_t t = 1000000; t < 31000000; t += 25000) {
		mps_sbd_delay(&d, 0, t, 10000);
		mps_sbd_delay(&d, 1, t, 20000);
		mps_sbd_tick(&d, t);
		ck_assert_int_eq(mps_sbd_group(&d, 0), -1);
	}
	near(d.f[0].var_est, 0, 0);
	near(d.f[0].skew_est, 0, 0);
	ck_assert_int_eq(d.f[0].bottleneck, 0);

	/* one quiet path and one behind a queue: not grouped either */
	struct path q = {.amp = 20000, .period = 2000000};
	struct path pm[2] = {{.base = 10000, .rng = 9}, {.base = 10000, .noise = 300, .rng = 10}};
	struct path *qm[2] = {&quiet, &q};
	since = run(pm, qm, 30, &ever, &d);
	show("quiet+queue", &d);
	ck_assert_msg(ever == 0, "grouped at %.2f s", ever / 1e6);
	ck_assert_int_eq(d.f[0].bottleneck, 0);
	ck_assert_int_eq(d.f[1].bottleneck, 1);
}
END_TEST

/* Leaving a group takes hold_off intervals: a shared queue for 20 s, then
 * quiet paths.  The time the group is left, with hold_off 9 against 3
 * (hold 3 both): 6 intervals (2.1 s) later, the raw verdict having turned
 * at the same time (same trace, same statistics). */
static uint64_t left_at(int hold_off)
{
	struct mps_sbd_params p;
	struct mps_sbd d;
	struct path q = {.amp = 20000, .period = 2000000}, quiet = {0};
	struct path pt[2] = {{.base = 10000, .noise = 300, .rng = 21},
	                     {.base = 30000, .noise = 300, .rng = 22}};
	uint64_t t, grouped = 0;

	mps_sbd_params_default(&p);
	p.hold_off = hold_off;
	mps_sbd_init(&d, &p);
	for (t = 1000000; t < 60000000; t += 25000) {
		const struct path *qq = t < 21000000 ? &q : &quiet;
		for (int i = 0; i < 2; i++) {
			ck_assert_int_eq(mps_sbd_delay(&d, i, t, delay(&pt[i], qq, t)), 0);
			int top = qq->amp > 0 && queue_frac(qq, t) > 0.97;
			ck_assert_int_eq(mps_sbd_loss(&d, i, t, 40, top ? 2 : 0), 0);
		}
		mps_sbd_tick(&d, t);
		if (mps_sbd_group(&d, 0) == 0 && mps_sbd_group(&d, 1) == 0)
			grouped = 1;
		else if (grouped)
			return t;
	}
	return 0;
}

START_TEST(test_sbd_hold_off)
{
	uint64_t a = left_at(3), b = left_at(9);
	fprintf(stderr, "left the group at %.2f s (hold_off 3), %.2f s (hold_off 9)\n", a / 1e6,
	        b / 1e6);
	ck_assert_uint_gt(a, 21000000);
	ck_assert_uint_eq(b - a, 6 * 350000);
}
END_TEST

/* bbr-like traces: a bbr sender keeps the queue drained but for its probes
 * (ProbeBW: one round at 1.25 times its rate, one at 0.75 to drain: a
 * triangle of queue one RTT up, one RTT down, every 8 to 16 rounds here),
 * so its RTT is mostly low with spikes (skew positive, as measured on the
 * namespaces' shared link: +0.15 to +0.77) and it loses nothing: the
 * RFC's bottleneck test never fires.  A queue is fed by `senders`
 * probing flows (ours and the competitor's); delays are base + queue +
 * noise (+-300 us), read every 25 ms, no loss. */
struct bbrq {
	double amp;        /* queue at a probe's top, us */
	uint64_t rtt;      /* us: a probe's rise and its drain */
	int senders;       /* flows probing through this queue */
	uint64_t start[3]; /* each sender's current probe */
	uint64_t next[3];  /* and its next */
	uint64_t rng;
};

static double bbr_queue(struct bbrq *q, uint64_t t)
{
	double sum = 0;

	for (int k = 0; k < q->senders; k++) {
		if (!q->next[k])
			q->next[k] = t + (uint64_t)(rnd(&q->rng) * 8 * (double)q->rtt);
		while (t >= q->next[k]) {
			q->start[k] = q->next[k];
			q->next[k] += 8 * q->rtt + (uint64_t)(rnd(&q->rng) * 8 * (double)q->rtt);
		}
		if (q->start[k] && t >= q->start[k]) {
			uint64_t a = t - q->start[k];
			if (a < q->rtt)
				sum += q->amp * (double)a / (double)q->rtt;
			else if (a < 2 * q->rtt)
				sum += q->amp * (double)(2 * q->rtt - a) / (double)q->rtt;
		}
	}
	return sum;
}

/* From noisy_from_us on (0: never), flow 1's noise is noisy_us instead of
 * its path's (its delay signal weakens, as a subflow's does when coupling
 * leaves it a few packets per RTT). */
static uint64_t noisy_from_us;
static double noisy_us;

/* Two flows for `secs` s behind q[0] and q[1] (the same queue when shared):
 * as run(), for bbr queues.  Returns the time from which they stayed
 * grouped to the end (0: not grouped at the end). */
static uint64_t run_bbr(struct path *p, struct bbrq *const *q, int secs, uint64_t *ever_us,
                        struct mps_sbd *d)
{
	uint64_t t, start = 1000000, end = start + (uint64_t)secs * 1000000, since = 0;
	*ever_us = 0;

	mps_sbd_init(d, run_params);
	for (t = start; t < end; t += 25000) {
		double qv[2];
		qv[0] = bbr_queue(q[0], t);
		qv[1] = q[1] == q[0] ? qv[0] : bbr_queue(q[1], t);
		for (int i = 0; i < 2; i++) {
			double nz = i == 1 && noisy_from_us && t - start >= noisy_from_us ?
			                    noisy_us :
			                    p[i].noise;
			double dl = p[i].base + qv[i] + nz * (2 * rnd(&p[i].rng) - 1);
			ck_assert_int_eq(mps_sbd_delay(d, i, t, dl), 0);
			ck_assert_int_eq(mps_sbd_loss(d, i, t, 40, 0), 0);
		}
		mps_sbd_tick(d, t);
		int g0 = mps_sbd_group(d, 0), g1 = mps_sbd_group(d, 1);
		if (g0 >= 0 && g0 == g1) {
			if (!since)
				since = t - start;
			if (!*ever_us)
				*ever_us = t - start;
		} else {
			since = 0;
		}
	}
	return since;
}

/* Shared: one queue fed by our two flows and a competitor (20 ms RTT,
 * probes 4 ms high): the RFC's statistics alone (our step test off) never
 * group them (skew positive, no loss); with the step correlation they are
 * grouped, within 5 s, and stay.  Disjoint: each flow behind its own queue
 * with its own competitor, the same statistics: never grouped. */
START_TEST(test_sbd_bbr)
{
	struct mps_sbd d;
	struct mps_sbd_params p;
	uint64_t ever, since;
	struct bbrq shared = {.amp = 4000, .rtt = 20000, .senders = 3, .rng = 31};
	struct path pp[2] = {{.base = 20000, .noise = 300, .rng = 32},
	                     {.base = 26000, .noise = 300, .rng = 33}};
	struct bbrq *qs[2] = {&shared, &shared};

	mps_sbd_params_default(&p);
	p.step_min = 0;
	run_params = &p;
	since = run_bbr(pp, qs, 30, &ever, &d);
	show("bbr shared, RFC only", &d);
	ck_assert_msg(ever == 0, "the RFC's statistics grouped bbr flows at %.2f s", ever / 1e6);
	ck_assert_msg(d.f[0].skew_est > p.c_h && d.f[1].skew_est > p.c_h,
	              "skew %.3f, %.3f: not bbr-like", d.f[0].skew_est, d.f[1].skew_est);
	ck_assert_int_eq(d.f[0].bottleneck, 0);

	run_params = NULL;
	memset(&shared, 0, sizeof(shared));
	shared = (struct bbrq){.amp = 4000, .rtt = 20000, .senders = 3, .rng = 31};
	pp[0].rng = 32;
	pp[1].rng = 33;
	since = run_bbr(pp, qs, 30, &ever, &d);
	show("bbr shared", &d);
	fprintf(stderr, "bbr shared: grouped from %.2f s on (first at %.2f s), step r2 %.3f\n",
	        since / 1e6, ever / 1e6, mps_sbd_step_corr(&d, 0, 1));
	ck_assert_msg(since > 0 && since <= 5000000, "grouped from %.2f s", since / 1e6);
	ck_assert_uint_eq(d.f[0].changes, 1);
	ck_assert_uint_eq(d.f[1].changes, 1);

	/* disjoint: the same kind of queue on each path, independent */
	struct bbrq qa = {.amp = 4000, .rtt = 20000, .senders = 2, .rng = 34};
	struct bbrq qb = {.amp = 4000, .rtt = 20000, .senders = 2, .rng = 35};
	struct bbrq *qd[2] = {&qa, &qb};
	since = run_bbr(pp, qd, 30, &ever, &d);
	show("bbr disjoint", &d);
	fprintf(stderr, "bbr disjoint: step r2 %.3f\n", mps_sbd_step_corr(&d, 0, 1));
	ck_assert_msg(ever == 0, "grouped at %.2f s", ever / 1e6);
	ck_assert_int_eq(mps_sbd_group(&d, 0), -1);

	/* disjoint, each queue fed by one sender only (ours): the same */
	struct bbrq qc = {.amp = 4000, .rtt = 20000, .senders = 1, .rng = 36};
	struct bbrq qe = {.amp = 4000, .rtt = 20000, .senders = 1, .rng = 37};
	struct bbrq *qd2[2] = {&qc, &qe};
	since = run_bbr(pp, qd2, 30, &ever, &d);
	show("bbr disjoint, alone", &d);
	ck_assert_msg(ever == 0, "grouped at %.2f s", ever / 1e6);
}
END_TEST

/* The step test's hysteresis (step_keep): a bbr-like shared queue, and
 * from 12 s on flow 1's noise is +-7 ms instead of 0.3 (as a subflow's RTT
 * when coupling leaves it a few packets per RTT): the steps' r^2 falls from
 * 0.98 to ~0.12 (measured with that noise from the start: 0.116; nothing
 * grouped then).  A published group stays (it was left at ~17 s without
 * the hysteresis); with +-24 ms (r^2 0.025 at the end) it is still left. */
static uint64_t bbr_noisy(double noise, const struct mps_sbd_params *p, struct mps_sbd *d,
                          uint64_t *ever)
{
	struct bbrq shared = {.amp = 4000, .rtt = 20000, .senders = 3, .rng = 31};
	struct path pp[2] = {{.base = 20000, .noise = 300, .rng = 32},
	                     {.base = 26000, .noise = 300, .rng = 33}};
	struct bbrq *qs[2] = {&shared, &shared};
	uint64_t since;

	run_params = p;
	noisy_from_us = 12000000;
	noisy_us = noise;
	since = run_bbr(pp, qs, 40, ever, d);
	noisy_from_us = 0;
	run_params = NULL;
	return since;
}

START_TEST(test_sbd_step_keep)
{
	struct mps_sbd d;
	struct mps_sbd_params p;
	uint64_t ever, since;

	since = bbr_noisy(7000, NULL, &d, &ever);
	show("bbr shared, one noisy", &d);
	fprintf(stderr, "bbr shared, one noisy from 12 s: grouped from %.2f s, %u changes, r2 %.3f\n",
	        since / 1e6, d.f[1].changes, mps_sbd_step_corr(&d, 0, 1));
	ck_assert_msg(since > 0 && since <= 5000000, "grouped from %.2f s", since / 1e6);
	ck_assert_uint_eq(d.f[1].changes, 1);

	mps_sbd_params_default(&p);
	p.step_keep = p.step_min; /* no hysteresis */
	since = bbr_noisy(7000, &p, &d, &ever);
	fprintf(stderr, "the same without step_keep: grouped at the end %d, %u changes\n",
	        since > 0, d.f[1].changes);
	ck_assert_msg(since == 0, "still grouped without the hysteresis: the case shows nothing");

	since = bbr_noisy(24000, NULL, &d, &ever);
	fprintf(stderr, "noise 24 ms: grouped at the end %d, %u changes, r2 %.3f\n", since > 0,
	        d.f[1].changes, mps_sbd_step_corr(&d, 0, 1));
	ck_assert_msg(since == 0, "a pair whose steps no longer correlate stays grouped");
}
END_TEST

/* Removing a flow leaves its partner alone; groups are the lowest index. */
START_TEST(test_sbd_remove)
{
	struct mps_sbd d;
	struct path q = {.amp = 20000, .period = 2000000};
	struct path p[2] = {{.base = 10000, .noise = 300, .rng = 11},
	                    {.base = 30000, .noise = 300, .rng = 12}};
	struct path *qs[2] = {&q, &q};
	uint64_t ever;
	ck_assert_uint_gt(run(p, qs, 20, &ever, &d), 0);
	ck_assert_int_eq(mps_sbd_group(&d, 1), 0);
	ck_assert_uint_gt(d.f[1].since_us, 0);
	mps_sbd_remove(&d, 0);
	ck_assert_int_eq(mps_sbd_group(&d, 0), -1);
	ck_assert_int_eq(mps_sbd_group(&d, 1), -1);
	ck_assert_int_eq(d.nflows, 2);
	mps_sbd_remove(&d, 1);
	ck_assert_int_eq(d.nflows, 0);
}
END_TEST

/* Same trace, same verdicts and statistics, to the bit. */
START_TEST(test_sbd_deterministic)
{
	struct mps_sbd a, b;
	struct path q = {.amp = 20000, .period = 2000000};
	struct path p[2] = {{.base = 10000, .noise = 300, .rng = 13},
	                    {.base = 30000, .noise = 300, .rng = 14}};
	struct path p2[2] = {p[0], p[1]};
	struct path *qs[2] = {&q, &q};
	uint64_t e1, e2, s1 = run(p, qs, 15, &e1, &a), s2 = run(p2, qs, 15, &e2, &b);
	ck_assert_uint_eq(s1, s2);
	ck_assert_uint_eq(e1, e2);
	for (int i = 0; i < 2; i++) {
		ck_assert(a.f[i].skew_est == b.f[i].skew_est);
		ck_assert(a.f[i].var_est == b.f[i].var_est);
		ck_assert(a.f[i].freq_est == b.f[i].freq_est);
	}
}
END_TEST

static Suite *sbd_suite(void)
{
	Suite *s = suite_create("sbd");
	TCase *tc = tcase_create("stats");
	tcase_add_test(tc, test_sbd_hand);
	tcase_add_test(tc, test_sbd_bad_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("traces");
	tcase_add_test(tc, test_sbd_shared);
	tcase_add_test(tc, test_sbd_independent);
	tcase_add_test(tc, test_sbd_same_shape);
	tcase_add_test(tc, test_sbd_bbr);
	tcase_add_test(tc, test_sbd_step_keep);
	tcase_add_test(tc, test_sbd_quiet);
	tcase_add_test(tc, test_sbd_remove);
	tcase_add_test(tc, test_sbd_hold_off);
	tcase_add_test(tc, test_sbd_deterministic);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sbd_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
