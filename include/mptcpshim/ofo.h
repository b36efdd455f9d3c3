/* ofo.h - the receiver's out-of-order queue: DATA that arrived (on another
 * subflow) ahead of the next expected DSN, held until the gap fills.
 * Sorted, non-overlapping segments; copies the bytes.  Pure: no I/O.
 * Memory is bounded by the caller: it only inserts bytes inside the window
 * it advertised. */
#ifndef MPS_OFO_H
#define MPS_OFO_H

#include <stddef.h>
#include <stdint.h>

struct mps_ofo_seg {
	struct mps_ofo_seg *next;
	uint64_t dsn;
	size_t len;
	uint8_t data[];
};

struct mps_ofo {
	struct mps_ofo_seg *head; /* ascending DSN */
	size_t bytes;             /* payload bytes held */
	size_t nsegs;
};

void mps_ofo_init(struct mps_ofo *q);
void mps_ofo_free(struct mps_ofo *q);

/* Hold [dsn, dsn+len): bytes below base (the next expected DSN) and bytes
 * already held are dropped (duplicates, after RFC 8684 reinjection): the
 * first copy of a byte wins.  The new data may cover several held segments
 * and gaps; each gap becomes its own segment.  Returns 0, or -ENOMEM
 * (nothing held then: q is unchanged). */
int mps_ofo_insert(struct mps_ofo *q, uint64_t base, uint64_t dsn, const uint8_t *p, size_t len);

/* The held bytes starting exactly at dsn, as one contiguous piece: returns
 * its length (0 if none starts there; *p is then NULL) and points *p at it.
 * Segments are not coalesced: adjacent bytes may sit in the next segment,
 * so consume with peek/advance in a loop until peek returns 0.  A segment
 * that straddles dsn (not advanced yet) is served from dsn on. */
size_t mps_ofo_peek(const struct mps_ofo *q, uint64_t dsn, const uint8_t **p);

/* Everything below dsn has been consumed: drop it (partially consumed
 * segments are trimmed). */
void mps_ofo_advance(struct mps_ofo *q, uint64_t dsn);

#endif
