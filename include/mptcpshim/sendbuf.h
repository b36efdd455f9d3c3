/* sendbuf.h - bytes the app wrote, held by DSN until data-ACKed.
 *
 * A list of fixed-size chunks (MPS_CHUNK bytes each) allocated as data
 * arrives and freed as soon as every byte in them is data-ACKed.  Memory is
 * bounded by limit (rounded up to whole chunks).  Pure: no I/O.
 */
#ifndef MPS_SENDBUF_H
#define MPS_SENDBUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mptcpshim/frame.h"

#define MPS_CHUNK MPS_DATA_MAX /* one chunk is at most one DATA frame */

struct mps_chunk {
	struct mps_chunk *next;
	uint64_t dsn; /* DSN of data[0] */
	uint32_t len; /* bytes filled */
	uint8_t data[MPS_CHUNK];
};

struct mps_sendbuf {
	struct mps_chunk *head, *tail;
	uint64_t una;   /* oldest DSN held (everything below is ACKed) */
	uint64_t end;   /* DSN after the last byte held */
	size_t limit;   /* most bytes held at once */
	size_t nchunks;
};

void mps_sendbuf_init(struct mps_sendbuf *sb, uint64_t start_dsn, size_t limit);
void mps_sendbuf_free(struct mps_sendbuf *sb);

/* Free the chunks this thread keeps for reuse (sendbuf.c: at most 8, from
 * buffers that shrank or were freed). */
void mps_sendbuf_cache_drop(void);
/* A forked child: whoever held the cache's lock did not come along. */
void mps_sendbuf_atfork_child(void);

/* Bytes that may still be appended. */
size_t mps_sendbuf_space(const struct mps_sendbuf *sb);

/* Writable spans for appending up to want bytes (allocating chunks as
 * needed, never past limit).  Returns the number of iovecs filled (0 when
 * full), or -ENOMEM. */
int mps_sendbuf_reserve(struct mps_sendbuf *sb, struct iovec *iov, int maxiov, size_t want);

/* n bytes were written into the spans last reserved; reserved chunks left
 * empty are freed (the one being filled stays). */
void mps_sendbuf_commit(struct mps_sendbuf *sb, size_t n);

/* Contiguous bytes held at dsn (una <= dsn < end), at most maxlen; *p
 * points at them.  Returns 0 when dsn is not held. */
size_t mps_sendbuf_peek(const struct mps_sendbuf *sb, uint64_t dsn, size_t maxlen,
			const uint8_t **p);

/* Everything below ack is data-ACKed: free whole chunks.  Returns 0, or
 * -EINVAL when ack lies outside [una, end] (the caller treats it as a
 * protocol violation). */
int mps_sendbuf_ack(struct mps_sendbuf *sb, uint64_t ack);

/* Nothing is held (una == end): free every chunk, so that a quiet
 * connection keeps none (the next reserve allocates again, at end).
 * Returns the bytes freed (0 when something is held or nothing was
 * allocated). */
size_t mps_sendbuf_release(struct mps_sendbuf *sb);

/* DSN comparisons modulo 2^64 (RFC 8684 DSNs wrap). */
static inline int mps_dsn_lt(uint64_t a, uint64_t b) { return (int64_t)(a - b) < 0; }
static inline int mps_dsn_le(uint64_t a, uint64_t b) { return (int64_t)(a - b) <= 0; }

#endif
