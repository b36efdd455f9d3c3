/* ofo.h - the receiver's out-of-order queue: DATA that arrived (on another
 * subflow) ahead of the next expected DSN, held until the gap fills.
 * Pure: no I/O.
 *
 * Bounded cost, whatever the peer sends (a hostile peer may send a
 * million one-byte frames, each leaving a gap):
 *  - time: insert, lookup (peek) and delivery (advance) are O(log n) in
 *    the number n of held ranges (amortized: a range is created once and
 *    merged or delivered once), plus the bytes copied.  The ranges live in
 *    an AVL tree keyed by start DSN; adjacent and overlapping ranges are
 *    merged on arrival, so n counts gaps, not frames.
 *  - memory: the bytes sit in a ring indexed by DSN, as large as the
 *    window given at init (rounded up to a chunk; chunks are allocated
 *    while they hold a byte), plus MPS_OFO_NODE_COST bytes per range, and
 *    at most max_segs ranges: a peer that fragments beyond that gets
 *    -ENOSPC ("too fragmented") and nothing is held.
 * q->ops counts the tree nodes visited and the chunks touched (always
 * compiled in: one increment each), so tests can assert the cost. */
#ifndef MPS_OFO_H
#define MPS_OFO_H

#include <stddef.h>
#include <stdint.h>

#define MPS_OFO_CHUNK_MAX (64u * 1024u) /* ring chunk; smaller for small windows */
#define MPS_OFO_NODE_COST 32u           /* bytes per held range (sizeof the node) */
#define MPS_OFO_SEGS_MIN 1024u
/* The default cap on held ranges for a window: one per 64 bytes of window
 * (65,536 for 4 MiB: 2 MiB of nodes at most), never below MPS_OFO_SEGS_MIN.
 * An honest sender's frames are a DATA payload each, usually kilobytes:
 * to reach the cap its mean gap-separated range would have to be under 64
 * bytes across the whole window. */
#define MPS_OFO_SEGS_FOR(window)                                              \
	((size_t)(window) / 64u > MPS_OFO_SEGS_MIN ? (size_t)(window) / 64u : \
	                                             (size_t)MPS_OFO_SEGS_MIN)

struct mps_ofo_node; /* private to ofo.c */

struct mps_ofo {
	/* the ring: DSN base sits at ring position base_pos */
	uint8_t **chunk;      /* nchunks pointers, NULL while a chunk holds nothing */
	uint32_t *chunk_used; /* bytes held per chunk */
	size_t chunk_size, nchunks, ring;
	uint64_t base; /* every held byte is at or above base, below base + ring */
	size_t base_pos;
	int started; /* base is set (by the first insert) */
	/* the ranges */
	struct mps_ofo_node *nodes; /* [0] unused: index 0 is "none" */
	uint32_t ncap, nused, free_list, root;
	uint32_t last; /* the highest range (appends check it first), or 0 */
	size_t max_segs;
	size_t bytes; /* payload bytes held */
	size_t nsegs; /* ranges held */
	uint64_t ops; /* work done, for cost tests */
};

/* An empty queue for data within window bytes of the next expected DSN
 * (the receive window the caller advertises), holding at most max_segs
 * ranges (0: MPS_OFO_SEGS_FOR(window)).  Allocates nothing yet. */
void mps_ofo_init(struct mps_ofo *q, size_t window, size_t max_segs);
void mps_ofo_free(struct mps_ofo *q); /* back to empty; idempotent */

/* Hold [dsn, dsn+len): bytes below base (the next expected DSN, or what
 * was already advanced past) and bytes already held are dropped
 * (duplicates, after RFC 8684 reinjection): the first copy of a byte wins.
 * Returns 0; -ENOSPC when the data would start a new range and max_segs
 * are held (the peer fragments beyond the cap); -ERANGE when it reaches
 * past the window (base of the last advance + window); -ENOMEM.  On error
 * nothing changed. */
int mps_ofo_insert(struct mps_ofo *q, uint64_t base, uint64_t dsn, const uint8_t *p, size_t len);

/* The held bytes starting exactly at dsn, as one contiguous piece: returns
 * its length (0 if none is held at dsn; *p is then NULL) and points *p at
 * it.  A range is served in pieces (at most a chunk each): consume with
 * peek/advance in a loop until peek returns 0.  A range that straddles
 * dsn (not advanced yet) is served from dsn on.  The bytes stay valid
 * until the next advance (inserts do not move them). */
size_t mps_ofo_peek(const struct mps_ofo *q, uint64_t dsn, const uint8_t **p);

/* Everything below dsn has been consumed: drop it (a range straddling dsn
 * is trimmed).  A dsn below the last one is ignored. */
void mps_ofo_advance(struct mps_ofo *q, uint64_t dsn);

/* Test support: the invariants (order, balance, no two ranges touching,
 * counts, ring accounting).  0, or -EINVAL.  O(n). */
int mps_ofo_check(const struct mps_ofo *q);

#endif
