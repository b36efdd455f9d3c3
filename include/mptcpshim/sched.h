/* sched.h - packet schedulers behind one ops struct (after the kernel's
 * net/mptcp/sched.c).  Pure: the engine describes its subflows as views
 * and asks which one carries the next chunk. */
#ifndef MPS_SCHED_H
#define MPS_SCHED_H

#include <stdint.h>

struct mps_sf_view {
	uint32_t rtt_us;   /* smoothed RTT from TCP_INFO; 0 = not measured yet */
	uint8_t usable;    /* established, joined, not failed or stale */
	uint8_t ready;     /* the kernel has room for more (below TCP_NOTSENT_LOWAT) */
	uint8_t backup;    /* use only while no non-backup subflow is usable */
	uint64_t tx_bytes; /* payload bytes sent on it so far */
};

struct mps_sched {
	const struct mps_sched_ops *ops;
	unsigned rr_next; /* roundrobin: where the next search starts */
};

struct mps_sched_ops {
	const char *name;
	/* 1: every chunk goes on every usable subflow (the receiver drops
	 * duplicates by DSN); pick is then not needed for data, but it is
	 * still set (the default's choice) for things that go on one subflow
	 * only, such as a standalone ACK. */
	int redundant;
	/* Index in v[0..n) of the subflow for the next chunk, or -1 to wait.
	 * Rules common to all: only usable && ready subflows are chosen; a
	 * backup subflow is chosen only when no non-backup subflow is usable
	 * (ready or not).  default: the lowest rtt_us (unknown RTT counts as
	 * worse than any measured one; ties: lowest index).  roundrobin: the
	 * first candidate at or after rr_next (cyclically); rr_next then moves
	 * past it (to index + 1, reduced modulo n only at the next pick, so a
	 * subflow appended meanwhile is next in turn).  n <= 0: -1.
	 * Initialise a struct mps_sched with rr_next = 0. */
	int (*pick)(struct mps_sched *s, const struct mps_sf_view *v, int n);
};

/* "default", "roundrobin" or "redundant"; NULL for anything else. */
const struct mps_sched_ops *mps_sched_find(const char *name);

#endif
