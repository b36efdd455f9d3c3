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
	/* ecf (fresh at each push when ops->wants_info) and default's window
	 * check (the engine's last TCP_INFO reading): */
	uint64_t rate;     /* delivery rate, bytes/s (TCP_INFO); 0 = not known */
	uint32_t queued;   /* bytes ahead of a new chunk: in flight, unsent in the
			      kernel and in our queue */
};

struct mps_sched {
	const struct mps_sched_ops *ops;
	unsigned rr_next; /* roundrobin: where the next search starts */
	/* default and ecf: bytes waiting to be scheduled (new and
	 * reinjected), set by the engine before each pick; the size of one
	 * chunk.  ecf: whether the last pick chose to wait for the fastest
	 * subflow (hysteresis). */
	uint64_t backlog;
	uint32_t chunk;
	uint8_t ecf_waiting;
	/* default and ecf: the data-level window (bytes we may have in flight:
	 * the peer's window, at most our send buffer), set by the engine
	 * before each pick; 0 = not known (no window check). */
	uint64_t window;
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
	 * worse than any measured one; ties: lowest index), then its window
	 * check (below).  roundrobin: the
	 * first candidate at or after rr_next (cyclically); rr_next then moves
	 * past it (to index + 1, reduced modulo n only at the next pick, so a
	 * subflow appended meanwhile is next in turn).  n <= 0: -1.
	 * Initialise a struct mps_sched with rr_next = 0. */
	int (*pick)(struct mps_sched *s, const struct mps_sf_view *v, int n);
	/* 1: pick reads rate, queued and the backlog (worth a TCP_INFO per
	 * subflow per push). */
	int wants_info;
};

/* ecf (after Lim et al., "ECF: an MPTCP path scheduler to manage
 * heterogeneous paths", CoNEXT 2017): f = the lowest-RTT usable subflow
 * (ready or not; backup rule as above), x = the lowest-RTT ready one.  x
 * when x == f, or when f's or x's rate or RTT is unknown.  Otherwise the
 * next chunk would reach the receiver over x after
 *   t_x = (x.queued + min(chunk, backlog)) / x.rate + x.rtt / 2
 * while waiting for f delivers the whole backlog after
 *   t_f = (f.queued + backlog) / f.rate + f.rtt / 2;
 * if t_f < t_x (t_x * 5/4 while already waiting: hysteresis), sending on x
 * would only make the receiver wait for the slow path (head-of-line
 * blocking): -1 (wait for f's room).  Then the window check (after BLEST,
 * Ferlin et al., IFIP Networking 2016), when window is known: x's chunk
 * holds its share of the window for about x.rtt + chunk / x.rate, during
 * which f could send f.rate times that; if that exceeds what the window
 * leaves (window - chunk), the chunk on x would stall f: -1.  Else x.
 * No candidate: -1. */

/* default's window check: x = its choice, f = the lowest-RTT usable
 * subflow (ready or not; backup rule as above).  When x != f, window
 * (s->window) is known, and both rates and RTTs are: until x's chunk
 * (min(s->chunk, s->backlog)) arrives, about x.rtt + (x.queued + chunk) /
 * x.rate, the data after it
 * cannot be acknowledged, and f can send only what the window leaves; if
 * f.rate times that hold exceeds the whole window, the chunk on x would
 * cost f more than it carries: -1 (wait for f).  redundant's pick is the
 * default's without the check (it never waits). */

/* "default", "roundrobin", "redundant" or "ecf"; NULL for anything else. */
const struct mps_sched_ops *mps_sched_find(const char *name);

#endif
