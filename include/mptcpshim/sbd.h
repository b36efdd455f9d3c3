/* sbd.h - shared bottleneck detection after RFC 8382: summary statistics of
 * each subflow's delay and loss over base intervals of T, and the RFC's
 * grouping of the subflows that share a bottleneck.  Pure: the engine feeds
 * delay samples (the shim sees only the smoothed RTT of TCP_INFO, not
 * one-way delay: see docs/DESIGN.md "Coupled congestion control") and
 * packet/loss counts, then ticks; no clock of its own, no randomness.
 *
 * Statistics per flow (RFC 8382 section 3), over the last M (mean, skew,
 * var) or N (freq; loss: running sums decayed by 1 - 1/N per interval)
 * closed intervals of T:
 *   mean_delay = sum of delays / number of delays
 *   skew_est   = sum(#{d < mean} - #{d > mean}) / #delays, each delay
 *                compared with the mean_delay of the intervals closed before
 *                it (in [-1, 1]; negative: mostly above the mean, the shape
 *                of a standing queue)
 *   var_est    = sum |d - mean| / #delays (mean absolute deviation)
 *   freq_est   = significant crossings of mean_delay by the intervals' mean
 *                delays (only those beyond p_v * var_est count), per interval
 *   pkt_loss   = lost / sent
 * A flow is behind a bottleneck when skew_est < c_s, or skew_est < c_h and
 * it was already (hysteresis), or pkt_loss > p_l; and (ours) var_est >=
 * var_min_us and at least min_intervals intervals were seen.  Bottlenecked
 * flows are split into groups: sorted by freq_est, split where successive
 * values differ by more than p_f; then by var_est (more than p_mad times the
 * larger), skew_est (more than p_s), and, where loss is significant
 * (pkt_loss > p_l / 10), pkt_loss (more than p_d times the larger).
 * Ours, beyond the RFC: loss above p_l / 10 also marks a bottleneck (TCP
 * senders show 1-10 % retransmissions behind a bottleneck whose delays are
 * not skewed the RFC's way, as with bbr), and a group is split further so
 * that its flows' interval mean delays correlate in time (Pearson >=
 * corr_min over at least corr_n common intervals): equal statistics of two
 * independent queues no longer group them.  With that step on, the loss
 * split is left out (retransmission rates of subflows behind one queue
 * differ far more than p_d).  A verdict that differs from the published
 * one is published only once it lasted `hold` intervals in a row, or
 * `hold_off` to leave a group (ours: statistics near a threshold made the
 * groups flap every interval or two on a real bottleneck; and coupling
 * itself lowers the loss and skew that made the verdict, so a group was
 * left after 2-4 s and found again 4-7 s later).  And (ours) two flows
 * whose delay steps (the change between a flow's successive samples,
 * paired when both flows have a sample at the same now_us, each clipped
 * to step_clip times the flow's mean absolute step) correlate at least
 * step_min over step_n paired steps are grouped whatever the statistics
 * say, both past min_intervals with var_est >= var_min_us: a bbr sender
 * drains the queue but for its probes (skew positive, few losses), and
 * every probe through a shared queue moves both flows' delays at once.
 * Two flows already published in one group, whose steps reached step_min
 * since, stay merged while their steps correlate at least step_keep (ours,
 * session 9: coupling leaves one
 * subflow a few packets per RTT, whose smoothed RTT then follows the
 * queue's steps less closely; the group was left and found again). */
#ifndef MPS_SBD_H
#define MPS_SBD_H

#include <stdint.h>

/* Sizes (session 9: the state was 128 KiB per connection, 32 flows x 64
 * intervals; now under 8 KiB, see docs/DESIGN.md "Shared-bottleneck
 * detection"): a connection rarely has more than 8 subflows (the engine
 * leaves the ones beyond uncoupled), and the ring of closed intervals
 * holds 30 (10.5 s of T), RFC 8382's M; pkt_loss and the step
 * correlation are running sums, not a history. */
#define MPS_SBD_MAX_FLOWS 8
#define MPS_SBD_MAX_N 30 /* most intervals kept per flow (the ring) */

struct mps_sbd_params {
	uint64_t t_us;     /* base interval T (RFC: 350 ms) */
	int n;             /* intervals for freq_est and pkt_loss (RFC: 50; ours
			    * 30, the ring: freq_est over 10.5 s, pkt_loss
			    * decays by 1 - 1/n per interval) */
	int m;             /* intervals for mean, skew, var (RFC: 30) */
	int min_intervals; /* ours: intervals before any verdict (10) */
	double c_s;        /* skew threshold (0.1) */
	double c_h;        /* skew hysteresis threshold (0.3) */
	double p_l;        /* loss threshold (0.1) */
	double p_f;        /* freq grouping threshold (0.1) */
	double p_mad;      /* var grouping threshold, relative (0.1) */
	double p_s;        /* skew grouping threshold (0.15) */
	double p_d;        /* loss grouping threshold, relative (0.1) */
	double p_v;        /* significance of a crossing, times var_est (0.7) */
	double var_min_us; /* ours: below it no queue is seen (200 us) */
	double corr_min;   /* ours: grouped flows' interval means correlate at
			     * least this much (Pearson; 0.5; 0 = off) */
	int corr_n;        /* ours: fewest common intervals for it (8) */
	int hold;          /* ours: intervals a new verdict must last before it
			    * is published (3; <= 1: at once) */
	int hold_off;      /* ours: the same for leaving a group (9) */
	double step_min;   /* ours: two flows whose delay steps correlate at
			    * least this much share a bottleneck (Pearson;
			    * 0.5; 0 = off) */
	double step_n;     /* ours: fewest (decayed) paired steps for it (100) */
	double step_keep;  /* ours: two flows already published in one group
			    * stay merged while their steps correlate at
			    * least this much (Pearson; 0.15; >= step_min:
			    * no hysteresis) */
	double step_clip;  /* ours: a step counts at most this many times the
			    * flow's mean absolute step (4; 0 = no clip) */
};

/* Two flows' paired delay steps (ours): the change of each flow's delay
 * between its last two samples, paired when both flows have a sample at the
 * same now_us (the engine reads every subflow in one tick).  Sums decay by
 * 1 - 1/m at each interval's close (a window of about m intervals). */
struct mps_sbd_pair {
	double n, sx, sy, sxx, syy, sxy; /* x: the lower-indexed flow */
};

/* The interval being filled (full precision). */
struct mps_sbd_cur {
	double sum;      /* sum of the delays */
	uint32_t num;    /* delays */
	uint32_t num_sv; /* delays compared with a mean (skew, var) */
	int32_t skew;    /* #below - #above the mean */
	double var;      /* sum of |delay - mean| */
	uint64_t sent, lost;
};

/* A closed interval in the ring: 16 bytes (floats: 24 bits of precision
 * are plenty for sums of microseconds over one interval; counts beyond
 * 65535 a interval are scaled down, never reached at one reading per
 * 25 ms). */
struct mps_sbd_iv {
	float sum;       /* sum of the delays */
	float var;       /* sum of |delay - mean| */
	float skew;      /* #below - #above the mean */
	uint16_t num;    /* delays */
	uint16_t num_sv; /* delays compared with a mean */
};

struct mps_sbd_flow {
	uint8_t active;
	uint8_t bottleneck; /* verdict after the last interval */
	uint8_t head;       /* next slot of the ring to write */
	uint8_t count;      /* closed intervals kept (<= n) */
	int intervals;      /* closed intervals since the flow started */
	struct mps_sbd_cur cur; /* the interval being filled */
	struct mps_sbd_iv iv[MPS_SBD_MAX_N]; /* ring of closed intervals */
	double sent, lost;                   /* decayed by 1 - 1/n per interval */
	double mean_delay;                   /* valid when intervals > 0 */
	double skew_est, var_est, freq_est, pkt_loss;
	uint64_t num_sv;   /* delays behind skew_est and var_est */
	int group;         /* -1 = shares with no one (the published verdict) */
	int cand, cand_n;  /* a different verdict and the intervals it lasted */
	uint32_t changes;  /* published changes of group (flaps, for the log) */
	uint64_t since_us; /* when group last changed */
	double prev_delay; /* the last sample, and when (0: none yet) */
	uint64_t prev_us;
	double step;      /* delay - the previous sample's, at step_us */
	uint64_t step_us; /* 0: no step yet */
	double abs_sum, abs_n; /* |steps| and their number, decayed as the pairs */
};

struct mps_sbd {
	struct mps_sbd_params p;
	int nflows;  /* slots in use: f[0..nflows) */
	uint64_t t0; /* start of the current interval; 0 = not started */
	int changed; /* groups changed since mps_sbd_tick last said so */
	/* pair k's steps reached step_min while its flows were published in
	 * one group (step_keep applies only then); cleared when they are not */
	uint32_t step_held;
	struct mps_sbd_flow f[MPS_SBD_MAX_FLOWS];
	/* pair (i, j), j < i, at i * (i - 1) / 2 + j */
	struct mps_sbd_pair pair[MPS_SBD_MAX_FLOWS * (MPS_SBD_MAX_FLOWS - 1) / 2];
};

/* RFC 8382's values (section 3.3's list), plus ours. */
void mps_sbd_params_default(struct mps_sbd_params *p);

/* Empty detector (p NULL: the defaults; n, m clamped to [1, MPS_SBD_MAX_N],
 * m <= n). */
void mps_sbd_init(struct mps_sbd *d, const struct mps_sbd_params *p);

/* A delay sample of flow i at now_us (the first one of a flow starts it).
 * Intervals that ended before now_us are closed first (mps_sbd_tick).
 * Returns 0 or -EINVAL. */
int mps_sbd_delay(struct mps_sbd *d, int i, uint64_t now_us, double delay_us);

/* sent more packets, lost of them lost (deltas) for flow i. */
int mps_sbd_loss(struct mps_sbd *d, int i, uint64_t now_us, uint64_t sent, uint64_t lost);

/* Closes every interval that ended at or before now_us (an interval with no
 * samples counts as empty), recomputes the statistics, verdicts and groups.
 * Returns 1 if any flow's group changed since the last call (also when a
 * sample's own closing of an interval changed them), else 0. */
int mps_sbd_tick(struct mps_sbd *d, uint64_t now_us);

/* Flows i's and j's paired delay steps (ours): their Pearson correlation
 * squared when it is positive, -1 when it is not, -2 with fewer than step_n
 * paired steps or no variation (no libm: compare with step_min^2). */
double mps_sbd_step_corr(const struct mps_sbd *d, int i, int j);

/* Flow i leaves. */
void mps_sbd_remove(struct mps_sbd *d, int i);

/* Group of flow i: flows with the same group >= 0 share a bottleneck (the
 * id is the lowest flow index in the group); -1 = none. */
int mps_sbd_group(const struct mps_sbd *d, int i);

#endif
