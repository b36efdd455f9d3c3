/* ranges.c - bounded DSN range sets (see ranges.h). */
#include "mptcpshim/ranges.h"

#include <stdlib.h>
#include <string.h>

#include "mptcpshim/sendbuf.h"

void *(*mps_ranges_alloc)(size_t) = malloc;

static int cap_of(const struct mps_ranges *s)
{
	return mps_ranges_on_heap(s) ? MPS_RANGES_MAX : MPS_RANGES_INLINE;
}

static void remove_at(struct mps_ranges *s, int i)
{
	memmove(&s->r[i], &s->r[i + 1], (size_t)(s->n - i - 1) * sizeof(s->r[0]));
	s->n--;
}

/* Full: merge the neighbours with the smallest gap, freeing one slot
 * (n >= 2). */
static void coarsen(struct mps_ranges *s)
{
	int i, best = 0;
	uint64_t gap = UINT64_MAX;

	for (i = 0; i + 1 < s->n; i++) {
		uint64_t g = s->r[i + 1].start - s->r[i].end;

		if (g < gap) {
			gap = g;
			best = i;
		}
	}
	s->r[best].end = s->r[best + 1].end;
	remove_at(s, best + 1);
}

void mps_ranges_add(struct mps_ranges *s, uint64_t start, uint64_t end)
{
	int i, j;

	if (!mps_dsn_lt(start, end))
		return;
	if (!s->r)
		s->r = s->in;
	/* First range that ends at or after start: it or a later one may
	 * touch [start, end). */
	for (i = 0; i < s->n && mps_dsn_lt(s->r[i].end, start); i++)
		;
	if (i < s->n && !mps_dsn_lt(end, s->r[i].start)) {
		/* Touches r[i]: widen it, then swallow the followers it reaches. */
		if (mps_dsn_lt(start, s->r[i].start))
			s->r[i].start = start;
		if (mps_dsn_lt(s->r[i].end, end))
			s->r[i].end = end;
		for (j = i + 1; j < s->n && !mps_dsn_lt(s->r[i].end, s->r[j].start);) {
			if (mps_dsn_lt(s->r[i].end, s->r[j].end))
				s->r[i].end = s->r[j].end;
			remove_at(s, j);
		}
		return;
	}
	if (s->n == cap_of(s)) {
		struct mps_range *h = NULL;

		if (!mps_ranges_on_heap(s))
			h = mps_ranges_alloc(MPS_RANGES_MAX * sizeof(*h));
		if (h) {
			memcpy(h, s->r, (size_t)s->n * sizeof(*h));
			s->r = h;
		} else
			coarsen(s);            /* at the cap, or no memory: a superset */
		mps_ranges_add(s, start, end); /* there is room now */
		return;
	}
	memmove(&s->r[i + 1], &s->r[i], (size_t)(s->n - i) * sizeof(s->r[0]));
	s->r[i].start = start;
	s->r[i].end = end;
	s->n++;
}

void mps_ranges_trim(struct mps_ranges *s, uint64_t una)
{
	int k = 0;

	while (k < s->n && mps_dsn_le(s->r[k].end, una))
		k++;
	if (k) {
		memmove(&s->r[0], &s->r[k], (size_t)(s->n - k) * sizeof(s->r[0]));
		s->n -= k;
	}
	if (s->n && mps_dsn_lt(s->r[0].start, una))
		s->r[0].start = una;
}

void mps_ranges_move(struct mps_ranges *to, struct mps_ranges *from)
{
	int i;

	for (i = 0; i < from->n; i++)
		mps_ranges_add(to, from->r[i].start, from->r[i].end);
	from->n = 0;
}

size_t mps_ranges_pop(struct mps_ranges *s, size_t maxlen, uint64_t *start)
{
	uint64_t len;

	if (s->n == 0 || maxlen == 0)
		return 0;
	*start = s->r[0].start;
	len = s->r[0].end - s->r[0].start;
	if (len > maxlen) {
		s->r[0].start += maxlen;
		return maxlen;
	}
	remove_at(s, 0);
	return (size_t)len;
}

uint64_t mps_ranges_bytes(const struct mps_ranges *s)
{
	uint64_t b = 0;
	int i;

	for (i = 0; i < s->n; i++)
		b += s->r[i].end - s->r[i].start;
	return b;
}

void mps_ranges_free(struct mps_ranges *s)
{
	if (mps_ranges_on_heap(s))
		free(s->r);
	mps_ranges_init(s);
}

int mps_ranges_shrink(struct mps_ranges *s)
{
	if (!mps_ranges_on_heap(s) || s->n > MPS_RANGES_INLINE)
		return 0;
	memcpy(s->in, s->r, (size_t)s->n * sizeof(s->in[0]));
	free(s->r);
	s->r = s->in;
	return 1;
}

void mps_ranges_squeeze(struct mps_ranges *s)
{
	while (s->n > MPS_RANGES_INLINE)
		coarsen(s);
	mps_ranges_shrink(s);
}
