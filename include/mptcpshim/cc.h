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

#define MPS_CC_MAX_SF 8 /* slots; the engine leaves subflows beyond 8 uncoupled */

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
	uint8_t ca_state;       /* tcpi_ca_state: MPS_CC_CA_OPEN (0) ... MPS_CC_CA_LOSS (4) */
	uint64_t ssthresh;      /* tcpi_snd_ssthresh * tcpi_snd_mss, bytes; 0 = none ("infinite") */
	uint8_t model_based;    /* the kernel's algorithm is bbr (TCP_CONGESTION): its cwnd is
	                         * its estimate of the path, not a loss-driven window */
};

/* The kernel's congestion states (tcpi_ca_state, include/net/tcp.h's
 * tcp_ca_state).  From CWR on the kernel is reducing its window for one
 * congestion episode: its cwnd is transient (PRR, packet conservation) and
 * more retransmissions belong to the same episode. */
enum {
	MPS_CC_CA_OPEN = 0,
	MPS_CC_CA_DISORDER = 1,
	MPS_CC_CA_CWR = 2,
	MPS_CC_CA_RECOVERY = 3,
	MPS_CC_CA_LOSS = 4,
};

/* A subflow that had no byte acknowledged for max(MPS_CC_IDLE_US, 4 srtt)
 * is idle: its window is not in use and counts in nobody's sums (else an
 * idle window inflates cwnd_total and slows the busy subflows below one
 * TCP). */
#define MPS_CC_IDLE_US 200000u

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
	uint64_t last_ack_us; /* time of the last reading with bytes acked (or the first) */
	uint8_t in_episode;   /* reduced for the kernel's current congestion episode */
	uint64_t last_cut_us; /* time of the last halving (0 = never, or undone) */
	double cut_from;      /* the window before that halving */
	uint8_t model_based;  /* the last sample's model_based */
};

struct mps_cc {
	const struct mps_cc_ops *ops;
	int n;           /* subflow slots in use: sf[0..n) */
	uint64_t now_us; /* the newest reading's time */
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
 *  - retrans grew or the kernel is in CWR/Recovery/Loss, no reduction was
 *    made for the kernel's current episode and none within the last srtt
 *    (one reduction per congestion episode, as TCP): a loss event, the
 *    window halves (RFC 6356 section 3: "decrease cwnd_i by cwnd_i/2");
 *    OLIA's l1 = l2, l2 = 0.  One halving per episode of the group (its
 *    subflows share a bottleneck): if another subflow halved within this
 *    srtt, the larger of the two windows (before that halving) is the one
 *    halved (the other's halving is undone).  The episode ends at a reading in Open or Disorder at
 *    least one srtt after the reduction;
 *  - bytes_acked grew: in slow start (the sample says so and the subflow
 *    had no loss event yet) the window grows by the bytes acked (RFC 6356
 *    leaves slow start unchanged), otherwise by
 *    ops->increase(); OLIA's l2 grows by the bytes acked;
 *  - then the window is bounded to [min(2 * mss, hi), hi], hi = the
 *    kernel's cwnd, or its ssthresh when larger (the kernel is climbing
 *    back to it after a loss); during an episode (CWR, Recovery, Loss) the
 *    kernel's cwnd is transient and does not lower the window (the kernel
 *    sends no more than its cwnd anyway);
 *  - a group whose kernels are all model-based (bbr) has its windows
 *    scaled so that their sum is at most the largest kernel cwnd among
 *    them (one flow of that algorithm).
 * Returns 0, or -EINVAL for a bad index or sample. */
int mps_cc_update(struct mps_cc *cc, int i, const struct mps_cc_sample *s);

/* Subflow i leaves (closed, failed): its slot no longer counts in any sum. */
void mps_cc_remove(struct mps_cc *cc, int i);

/* Coupling group of subflow i (-1 = alone). */
void mps_cc_set_group(struct mps_cc *cc, int i, int group);

/* Coupled window of subflow i in bytes (0 for an unknown slot). */
uint64_t mps_cc_window(const struct mps_cc *cc, int i);

/* 1 if subflow i is coupled now (ops coupled, in a group with another
 * active, busy (not idle, see MPS_CC_IDLE_US) subflow, RTTs measured): its
 * window is the algorithm's, else the kernel's cwnd.  The sums of both
 * algorithms run over the busy members of i's group. */
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
