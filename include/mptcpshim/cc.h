/* cc.h - coupled congestion control (issue 16) behind one ops struct, like
 * the schedulers.  Pure: the engine feeds what it can observe of each kernel
 * subflow (TCP_INFO readings: bytes acked, retransmissions, srtt, the
 * kernel's cwnd) and reads back each subflow's coupled window in bytes: how
 * much it may have in flight plus unsent.  The kernel keeps its own
 * congestion control (cubic, bbr, ...) per subflow; the coupled window is a
 * second, tighter limit that the shim enforces by handing the subflow no
 * more data.  It is never above the kernel's own cwnd.
 *
 * Algorithms:
 *   uncoupled  the window is the kernel's cwnd: no coupling at all
 *   lia        RFC 6356 (Linked Increases), section 3
 *   olia       Khalili et al., "MPTCP is not Pareto-optimal" (CoNEXT 2012),
 *              draft-khalili-mptcp-congestion-control
 * Only subflows in the same coupling group (mps_cc_set_group: all in group 0
 * when the user forces lia/olia, the shared-bottleneck detector's groups in
 * auto mode) are coupled; a subflow alone in its group follows the kernel's
 * cwnd as uncoupled does (with one path both algorithms reduce to one TCP,
 * and the kernel's own algorithm is that TCP).  Double precision, no
 * randomness, no clock: the same inputs give the same windows. */
#ifndef MPS_CC_H
#define MPS_CC_H

#include <stdint.h>

#define MPS_CC_MAX_SF 32 /* = MPS_MAX_SUBFLOWS */

/* One reading of one subflow (from TCP_INFO), taken by the engine whenever it
 * already reads TCP_INFO.  Counters are cumulative, as the kernel gives them;
 * the module takes the deltas. */
struct mps_cc_sample {
	uint64_t now_us;        /* monotonic time of the reading */
	uint64_t bytes_acked;   /* tcpi_bytes_acked (cumulative) */
	uint32_t retrans;       /* tcpi_total_retrans (cumulative): loss signal */
	uint32_t srtt_us;       /* tcpi_rtt; 0 = not measured yet */
	uint32_t mss;           /* tcpi_snd_mss */
	uint64_t kcwnd;         /* tcpi_snd_cwnd * tcpi_snd_mss: the kernel's window, bytes */
	uint8_t slow_start;     /* tcpi_snd_cwnd < tcpi_snd_ssthresh */
	uint64_t delivery_rate; /* tcpi_delivery_rate, bytes/s (informational) */
};

struct mps_cc_sf {
	uint8_t active;        /* has had at least one sample and not removed */
	int group;             /* coupling group; -1 = alone */
	double w;              /* coupled window, bytes */
	uint64_t kcwnd;        /* kernel's cwnd at the last sample, bytes */
	uint32_t srtt_us;      /* last srtt (0 = unknown) */
	uint32_t mss;          /* last mss */
	uint64_t acked_prev;   /* bytes_acked at the last sample */
	uint32_t retr_prev;    /* retrans at the last sample */
	uint64_t last_loss_us; /* time of the last window reduction (0 = never) */
	uint64_t loss_events;  /* window reductions so far */
	/* OLIA: l_r = max(l1, l2): bytes acked between the last two losses
	 * (l1) and since the last loss (l2). */
	uint64_t l1, l2;
	uint64_t delivery_rate;
};

struct mps_cc {
	const struct mps_cc_ops *ops;
	int n; /* subflow slots in use: sf[0..n) */
	struct mps_cc_sf sf[MPS_CC_MAX_SF];
};

struct mps_cc_ops {
	const char *name;
	int coupled; /* 0: the window is the kernel's cwnd */
	/* Bytes to add to subflow i's window for `acked` newly acknowledged
	 * bytes in congestion avoidance (may be negative: OLIA).  Only called
	 * for a subflow in a group of two or more with measured RTTs. */
	double (*increase)(const struct mps_cc *cc, int i, uint64_t acked);
};

/* "uncoupled", "lia" or "olia"; NULL for anything else (the engine maps
 * MPTCPSHIM_CC=auto to lia with the detector's groups). */
const struct mps_cc_ops *mps_cc_find(const char *name);

/* Empty state using ops (NULL = uncoupled). */
void mps_cc_init(struct mps_cc *cc, const struct mps_cc_ops *ops);

/* Feed one reading of subflow i (0 <= i < MPS_CC_MAX_SF; slots above n
 * extend n).  The first reading of a slot starts its window at the
 * kernel's cwnd.  Later readings:
 *  - retrans grew and no reduction happened within the last srtt (one
 *    reduction per window of losses, as TCP): a loss event, the window
 *    halves (RFC 6356 section 3: "decrease cwnd_i by cwnd_i/2"); OLIA's
 *    l1 = l2, l2 = 0;
 *  - bytes_acked grew: in slow start (the sample says so and the subflow
 *    had no loss event yet) the window grows by the bytes acked (RFC 6356
 *    leaves slow start unchanged), otherwise by
 *    ops->increase(); OLIA's l2 grows by the bytes acked;
 *  - then the window is bounded to [min(2 * mss, kcwnd), kcwnd].
 * Returns 0, or -EINVAL for a bad index or sample. */
int mps_cc_update(struct mps_cc *cc, int i, const struct mps_cc_sample *s);

/* Subflow i leaves (closed, failed): its slot no longer counts in any sum. */
void mps_cc_remove(struct mps_cc *cc, int i);

/* Coupling group of subflow i (-1 = alone). */
void mps_cc_set_group(struct mps_cc *cc, int i, int group);

/* Coupled window of subflow i in bytes (0 for an unknown slot). */
uint64_t mps_cc_window(const struct mps_cc *cc, int i);

/* 1 if subflow i is coupled now (ops coupled, in a group with another
 * active subflow, RTTs measured): its window is the algorithm's, else the
 * kernel's cwnd. */
int mps_cc_is_coupled(const struct mps_cc *cc, int i);

/* RFC 6356's alpha for subflow i's group:
 *   alpha = cwnd_total * max_j(cwnd_j / rtt_j^2) / (sum_j cwnd_j / rtt_j)^2
 * over the active subflows of the group.  0 if i is not coupled. */
double mps_cc_lia_alpha(const struct mps_cc *cc, int i);

/* OLIA's alpha_r for subflow i: with P its group, M the subflows of P with
 * the largest window, B those with the largest l_r / rtt_r^2 and C = B \ M:
 * 1 / (|P| |C|) if i is in C, -1 / (|P| |M|) if i is in M and C is not
 * empty, otherwise 0.  0 if i is not coupled. */
double mps_cc_olia_alpha(const struct mps_cc *cc, int i);

#endif
