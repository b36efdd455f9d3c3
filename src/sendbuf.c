/* sendbuf.c - DSN-indexed send buffer in fixed chunks (see sendbuf.h).
 *
 * Invariant: chunks are contiguous in DSN; every chunk but the last filled
 * one is full; chunks after it (allocated by reserve, not yet committed)
 * have len 0.  So the DSN of a chunk is its predecessor's DSN + MPS_CHUNK. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "mptcpshim/sendbuf.h"

/* Chunks freed wait here for the next allocation, at most CACHE_MAX: a
 * bulk transfer frees chunks as data ACKs come and allocates as the app
 * writes, and each free/malloc pair of a 64 KiB chunk made glibc's arena
 * shrink and grow again (madvise, mprotect) and the kernel fault its 16
 * pages back in, zeroed: 70 page faults per MiB sent (issue 15,
 * bench/bytecost).  One cache per process, not per thread: with the
 * app-thread send path (direct.c) the app's thread allocates the chunks
 * and the shim thread frees them.  mps_sendbuf_cache_drop gives them back
 * (conn.c's reaper, with its malloc_trim). */
#define CACHE_MAX 8

static pthread_mutex_t g_spare_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mps_chunk *g_spare;
static unsigned g_nspare;

static struct mps_chunk *chunk_get(void)
{
	struct mps_chunk *c;

	pthread_mutex_lock(&g_spare_mu);
	c = g_spare;
	if (c) {
		g_spare = c->next;
		g_nspare--;
	}
	pthread_mutex_unlock(&g_spare_mu);
	return c ? c : malloc(sizeof(*c));
}

static void chunk_put(struct mps_chunk *c)
{
	pthread_mutex_lock(&g_spare_mu);
	if (g_nspare < CACHE_MAX) {
		c->next = g_spare;
		g_spare = c;
		g_nspare++;
		c = NULL;
	}
	pthread_mutex_unlock(&g_spare_mu);
	free(c);
}

void mps_sendbuf_cache_drop(void)
{
	struct mps_chunk *c;

	pthread_mutex_lock(&g_spare_mu);
	c = g_spare;
	g_spare = NULL;
	g_nspare = 0;
	pthread_mutex_unlock(&g_spare_mu);
	while (c) {
		struct mps_chunk *next = c->next;

		free(c);
		c = next;
	}
}

void mps_sendbuf_atfork_child(void)
{
	pthread_mutex_init(&g_spare_mu, NULL);
	g_spare = NULL; /* maybe torn mid-update by another thread: leaked */
	g_nspare = 0;
}

void mps_sendbuf_init(struct mps_sendbuf *sb, uint64_t start_dsn, size_t limit)
{
	sb->head = sb->tail = NULL;
	sb->una = sb->end = start_dsn;
	sb->limit = limit;
	sb->nchunks = 0;
}

void mps_sendbuf_free(struct mps_sendbuf *sb)
{
	struct mps_chunk *c = sb->head, *next;

	for (; c; c = next) {
		next = c->next;
		chunk_put(c);
	}
	sb->head = sb->tail = NULL;
	sb->nchunks = 0;
}

size_t mps_sendbuf_space(const struct mps_sendbuf *sb)
{
	size_t held = (size_t)(sb->end - sb->una);

	return held >= sb->limit ? 0 : sb->limit - held;
}

/* The chunk holding DSN end (the first not-full chunk), or NULL. */
static struct mps_chunk *fill_chunk(const struct mps_sendbuf *sb)
{
	struct mps_chunk *c;

	for (c = sb->head; c; c = c->next)
		if (c->len < MPS_CHUNK)
			return c;
	return NULL;
}

static struct mps_chunk *append_chunk(struct mps_sendbuf *sb)
{
	struct mps_chunk *nc = chunk_get();

	if (!nc)
		return NULL;
	nc->next = NULL;
	nc->len = 0;
	nc->dsn = sb->tail ? sb->tail->dsn + MPS_CHUNK : sb->end;
	if (sb->tail)
		sb->tail->next = nc;
	else
		sb->head = nc;
	sb->tail = nc;
	sb->nchunks++;
	return nc;
}

int mps_sendbuf_reserve(struct mps_sendbuf *sb, struct iovec *iov, int maxiov, size_t want)
{
	size_t space = mps_sendbuf_space(sb);
	struct mps_chunk *c = fill_chunk(sb);
	int n = 0;

	if (want > space)
		want = space;
	while (want > 0 && n < maxiov) {
		size_t room;

		if (!c) {
			c = append_chunk(sb);
			if (!c)
				return n > 0 ? n : -ENOMEM;
		}
		room = MPS_CHUNK - c->len;
		if (room > want)
			room = want;
		iov[n].iov_base = c->data + c->len;
		iov[n].iov_len = room;
		n++;
		want -= room;
		c = c->next;
	}
	return n;
}

void mps_sendbuf_commit(struct mps_sendbuf *sb, size_t n)
{
	struct mps_chunk *c = fill_chunk(sb), *last = NULL, *next;

	sb->end += n;
	while (n > 0 && c) {
		size_t room = MPS_CHUNK - c->len;

		if (room > n)
			room = n;
		c->len += (uint32_t)room;
		n -= room;
		last = c;
		c = c->next;
	}
	/* Chunks reserved but left empty go back at once: a reservation
	 * sized for a burst (up to 1 MiB) that a 4 KiB write answered
	 * otherwise kept 16 chunks per connection for its whole life, each
	 * one page resident for malloc's header (about 64 KiB per keep-alive
	 * connection, and 1 MiB of arena). */
	if (!last)
		last = fill_chunk(sb); /* nothing written: keep the one being filled */
	if (!last)
		return;
	for (c = last->next; c; c = next) {
		next = c->next;
		chunk_put(c);
		sb->nchunks--;
	}
	last->next = NULL;
	sb->tail = last;
}

size_t mps_sendbuf_peek(const struct mps_sendbuf *sb, uint64_t dsn, size_t maxlen,
			const uint8_t **p)
{
	struct mps_chunk *c;

	if (mps_dsn_lt(dsn, sb->una) || !mps_dsn_lt(dsn, sb->end))
		return 0;
	for (c = sb->head; c; c = c->next) {
		uint64_t off = dsn - c->dsn;

		if (off < c->len) {
			size_t n = c->len - (size_t)off;

			*p = c->data + off;
			return n < maxlen ? n : maxlen;
		}
	}
	return 0;
}

int mps_sendbuf_ack(struct mps_sendbuf *sb, uint64_t ack)
{
	if (mps_dsn_lt(ack, sb->una) || mps_dsn_lt(sb->end, ack))
		return -EINVAL;
	sb->una = ack;
	while (sb->head && sb->head->len == MPS_CHUNK && mps_dsn_le(sb->head->dsn + MPS_CHUNK, ack)) {
		struct mps_chunk *c = sb->head;

		sb->head = c->next;
		if (!sb->head)
			sb->tail = NULL;
		chunk_put(c);
		sb->nchunks--;
	}
	/* A partly filled last chunk that is wholly ACKed: restart it empty. */
	if (sb->head && sb->head == sb->tail && sb->una == sb->end && sb->head->len > 0) {
		sb->head->dsn = sb->end;
		sb->head->len = 0;
	}
	return 0;
}

size_t mps_sendbuf_release(struct mps_sendbuf *sb)
{
	size_t freed = sb->nchunks * sizeof(struct mps_chunk);

	if (sb->una != sb->end || !sb->head)
		return 0;
	mps_sendbuf_free(sb);
	return freed;
}
