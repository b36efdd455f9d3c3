/* fuzz_ranges.c - DSN range sets (src/ranges.c) against a byte model.
 *
 * Input: an 8-byte base DSN (so the window can straddle 2^64), then a
 * script of operations on two sets A and B: add, trim, pop, move B into A,
 * shrink (the idle sweep's), squeeze (an exec image's), and toggle a
 * failing allocator (the heap slots cannot be had: the set coarsens
 * within its inline slots).
 * Offsets are relative to the base, within a WIN-byte window, and the
 * model is one bit per byte that must be in the set.  Properties after
 * every operation:
 *  - the set never under-approximates: every model byte is covered;
 *  - ranges are non-empty, sorted, non-overlapping and non-adjacent, at
 *    most MPS_RANGES_MAX, and mps_ranges_bytes() is their total;
 *  - the set never covers bytes below the last trim nor outside the
 *    window (coarsening only fills gaps between ranges);
 *  - while a set was never full (no coarsening), it equals the model
 *    exactly, and pop returns the model's first bytes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mptcpshim/ranges.h"
#include "mptcpshim/sendbuf.h"

#define WIN 512u

struct model {
	uint8_t bit[WIN];
	int exact;      /* never coarsened */
	uint32_t floor; /* nothing below this offset (the last trim) */
};

static uint64_t base;
static int failing;

static void *fz_alloc(size_t n)
{
	return failing ? NULL : malloc(n);
}

/* The most ranges the next add may find without coarsening. */
static int cap(const struct mps_ranges *s)
{
	return failing && !mps_ranges_on_heap(s) ? MPS_RANGES_INLINE : MPS_RANGES_MAX;
}

static void check(const struct mps_ranges *s, const struct model *m)
{
	uint8_t cov[WIN];
	uint64_t total = 0;
	int i;
	uint32_t o;

	FZ_ASSERT(s->n >= 0 && s->n <= MPS_RANGES_MAX);
	memset(cov, 0, sizeof(cov));
	for (i = 0; i < s->n; i++) {
		uint64_t a = s->r[i].start - base, b = s->r[i].end - base;

		FZ_ASSERT(mps_dsn_lt(s->r[i].start, s->r[i].end));
		if (i > 0)
			FZ_ASSERT(mps_dsn_lt(s->r[i - 1].end, s->r[i].start));
		/* inside [floor, WIN) of the window */
		FZ_ASSERT(a >= m->floor && a < WIN && b <= WIN && a < b);
		for (o = (uint32_t)a; o < b; o++)
			cov[o] = 1;
		total += b - a;
	}
	FZ_ASSERT(mps_ranges_bytes(s) == total);
	for (o = 0; o < WIN; o++) {
		if (m->bit[o])
			FZ_ASSERT(cov[o]); /* never forget a byte */
		if (m->exact)
			FZ_ASSERT(cov[o] == m->bit[o]);
	}
}

static void add(struct mps_ranges *s, struct model *m, uint32_t a, uint32_t b)
{
	uint32_t o;

	if (s->n >= cap(s))
		m->exact = 0; /* may coarsen */
	mps_ranges_add(s, base + a, base + b);
	for (o = a; o < b; o++)
		m->bit[o] = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model ma, mb;
	struct mps_ranges A, B;
	struct fz z = {data, size};
	int ops = 0;

	base = fz_u64(&z);
	failing = 0;
	mps_ranges_alloc = fz_alloc;
	mps_ranges_init(&A);
	mps_ranges_init(&B);
	memset(&ma, 0, sizeof(ma));
	memset(&mb, 0, sizeof(mb));
	ma.exact = mb.exact = 1;
	while (fz_more(&z) && ops++ < 200) {
		uint8_t op = fz_u8(&z);
		struct mps_ranges *s = (op & 1) ? &B : &A;
		struct model *m = (op & 1) ? &mb : &ma;
		uint32_t a = fz_u16(&z) % WIN, len = fz_u8(&z), una, o;
		uint64_t start = 0;
		size_t n;

		switch ((op >> 1) % 8) {
		case 0: /* add [a, a+len), kept above the floor and in the window */
		case 1:
			if (a < m->floor)
				a = m->floor;
			if (len > WIN - a)
				len = WIN - a;
			add(s, m, a, a + len);
			break;
		case 2: /* trim: data-ACKed up to una (never back) */
			una = m->floor + (a % (WIN - m->floor + 1)) / 8;
			mps_ranges_trim(s, base + una);
			for (o = 0; o < una; o++)
				m->bit[o] = 0;
			m->floor = una;
			break;
		case 3: /* pop at most len bytes (0: nothing) */
			n = mps_ranges_pop(s, len, &start);
			FZ_ASSERT(n <= len);
			if (n) {
				uint32_t st = (uint32_t)(start - base);

				FZ_ASSERT(start - base < WIN && st + n <= WIN);
				/* the first range: no byte of the set lies below it */
				for (o = 0; o < st; o++)
					FZ_ASSERT(!m->bit[o]);
				for (o = st; o < st + n; o++)
					m->bit[o] = 0;
			} else
				FZ_ASSERT(len == 0 || s->n == 0);
			break;
		case 4: /* move B into A (same window, A's floor may differ) */
			if (A.n + B.n > cap(&A))
				ma.exact = 0;
			if (!mb.exact)
				ma.exact = 0;
			mps_ranges_move(&A, &B);
			for (o = 0; o < WIN; o++)
				ma.bit[o] |= mb.bit[o];
			memset(mb.bit, 0, sizeof(mb.bit));
			mb.exact = 1;
			if (mb.floor < ma.floor)
				ma.floor = mb.floor;
			FZ_ASSERT(B.n == 0);
			break;
		case 5: /* the idle sweep: heap slots back when the ranges fit inline */
			n = (size_t)s->n;
			if (mps_ranges_shrink(s))
				FZ_ASSERT(!mps_ranges_on_heap(s) && n <= MPS_RANGES_INLINE);
			FZ_ASSERT((size_t)s->n == n);
			break;
		case 6: /* an exec image: squeezed inline (a superset), copied */
		{
			struct mps_ranges copy;

			if (s->n > MPS_RANGES_INLINE)
				m->exact = 0;
			mps_ranges_squeeze(s);
			FZ_ASSERT(!mps_ranges_on_heap(s) && s->n <= MPS_RANGES_INLINE);
			memcpy(&copy, s, sizeof(copy));
			mps_ranges_rehome(&copy);
			*s = copy;
			mps_ranges_rehome(s);
			break;
		}
		case 7: /* the heap slots can be had, or not */
			failing = !failing;
			break;
		}
		check(&A, &ma);
		check(&B, &mb);
	}
	mps_ranges_free(&A);
	mps_ranges_free(&B);
	mps_ranges_alloc = malloc;
	return 0;
}
