/* ranges.h - a bounded set of DSN ranges [start, end).
 *
 * Each subflow records the ranges it was given and the connection keeps
 * the ranges waiting to be reinjected, so that when a subflow dies or goes
 * stale only *its* bytes are sent again, not the whole window.
 *
 * The set may over-approximate, never under-approximate: when it is full,
 * the two ranges with the smallest gap between them are merged (the gap
 * joins the set).  Resending a few extra bytes is harmless (the receiver
 * drops duplicates by DSN); forgetting one would stall the stream.
 * Sorted, non-overlapping, non-adjacent.  Pure: no I/O, no allocation.
 * DSNs compare modulo 2^64 (mps_dsn_lt). */
#ifndef MPS_RANGES_H
#define MPS_RANGES_H

#include <stddef.h>
#include <stdint.h>

#define MPS_RANGES_MAX 64

struct mps_range {
	uint64_t start, end;
};

struct mps_ranges {
	struct mps_range r[MPS_RANGES_MAX];
	int n;
};

static inline void mps_ranges_init(struct mps_ranges *s)
{
	s->n = 0;
}

/* Add [start, end) (empty ranges are ignored), merging with what it
 * touches; coarsens the set when it is full. */
void mps_ranges_add(struct mps_ranges *s, uint64_t start, uint64_t end);

/* Forget everything below una (it is data-ACKed). */
void mps_ranges_trim(struct mps_ranges *s, uint64_t una);

/* Move every range of from into to (from ends empty). */
void mps_ranges_move(struct mps_ranges *to, struct mps_ranges *from);

/* The first range, trimmed to at most maxlen bytes, is taken out of the
 * set: *start and the length are returned (0 when empty). */
size_t mps_ranges_pop(struct mps_ranges *s, size_t maxlen, uint64_t *start);

/* Total bytes covered. */
uint64_t mps_ranges_bytes(const struct mps_ranges *s);

#endif
