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
 * Sorted, non-overlapping, non-adjacent.  DSNs compare modulo 2^64
 * (mps_dsn_lt).  Pure: no I/O.
 *
 * Memory (issue 15): the first MPS_RANGES_INLINE ranges live in the set
 * itself (an idle connection's or a steady sender's set holds zero or one
 * range); a set that needs more takes MPS_RANGES_MAX slots from
 * mps_ranges_alloc once, and gives them back at mps_ranges_shrink (the
 * engine's idle sweep) or mps_ranges_free.  When that allocation fails the
 * set coarsens within its inline slots instead: never an error, never a
 * lost byte.  A zeroed set is a valid empty one.  r points into the set
 * itself: a set copied byte for byte (an exec image) is valid only after
 * mps_ranges_squeeze on the original and mps_ranges_rehome on the copy. */
#ifndef MPS_RANGES_H
#define MPS_RANGES_H

#include <stddef.h>
#include <stdint.h>

#define MPS_RANGES_MAX 64
#define MPS_RANGES_INLINE 2

struct mps_range {
	uint64_t start, end;
};

struct mps_ranges {
	/* r[0..n): in[] or MPS_RANGES_MAX slots on the heap; NULL while
	 * nothing was ever held */
	struct mps_range *r;
	int n;
	struct mps_range in[MPS_RANGES_INLINE];
};

/* The allocator for the MPS_RANGES_MAX slots (malloc; a test seam). */
extern void *(*mps_ranges_alloc)(size_t);

/* An empty set (on storage that held none: see mps_ranges_clear). */
static inline void mps_ranges_init(struct mps_ranges *s)
{
	s->r = NULL;
	s->n = 0;
}

/* Empty the set, keeping its storage. */
static inline void mps_ranges_clear(struct mps_ranges *s)
{
	s->n = 0;
}

/* The heap slots are in use. */
static inline int mps_ranges_on_heap(const struct mps_ranges *s)
{
	return s->r && s->r != s->in;
}

/* Empty the set and free its heap slots. */
void mps_ranges_free(struct mps_ranges *s);

/* Give the heap slots back if the ranges fit inline again.  1 when memory
 * was freed, else 0. */
int mps_ranges_shrink(struct mps_ranges *s);

/* Coarsen to at most MPS_RANGES_INLINE ranges (a superset) and free the
 * heap slots: the set no longer points outside itself. */
void mps_ranges_squeeze(struct mps_ranges *s);

/* s was copied byte for byte from a squeezed set: point r at its own
 * inline slots. */
static inline void mps_ranges_rehome(struct mps_ranges *s)
{
	s->r = s->n ? s->in : NULL;
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
