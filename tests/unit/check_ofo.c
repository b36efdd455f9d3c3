/* check_ofo.c - the out-of-order queue, from include/mptcpshim/ofo.h:
 * hand-made overlap and merge cases, the fragmentation cap, the cost of a
 * fragment attack (an operation count, so it holds on any machine), then a
 * randomized check against a byte-array model, also across the 2^64 wrap. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mptcpshim/ofo.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The module's own invariants: sorted, balanced, ranges never touching,
 * counts and ring accounting adding up. */
static void check_invariants(const struct mps_ofo *q)
{
	ck_assert_int_eq(mps_ofo_check(q), 0);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

/* Everything held from `from` on, as seen through peek: out[dsn - from] is
 * the byte held at dsn, or -1 (out sized n). */
static void flatten(const struct mps_ofo *q, uint64_t from, int *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p;
		size_t len = mps_ofo_peek(q, from + i, &p);
		out[i] = len ? p[0] : -1;
		if (len && !p)
			ck_abort_msg("peek gave %zu bytes and no pointer", len);
	}
}

START_TEST(test_ofo_empty)
{
	struct mps_ofo q;
	const uint8_t *p = (const uint8_t *)"x";
	mps_ofo_init(&q, 4096, 0);
	ck_assert_uint_eq(q.bytes, 0);
	ck_assert_uint_eq(q.nsegs, 0);
	ck_assert_uint_eq(q.max_segs, MPS_OFO_SEGS_MIN);
	ck_assert_uint_eq(mps_ofo_peek(&q, 0, &p), 0);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(mps_ofo_peek(&q, UINT64_MAX, &p), 0);
	mps_ofo_advance(&q, 12345);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 10, (const uint8_t *)"x", 0), 0); /* empty insert */
	ck_assert_uint_eq(q.nsegs, 0);
	check_invariants(&q);
	mps_ofo_free(&q);
	mps_ofo_free(&q); /* idempotent */
	ck_assert_uint_eq(q.nsegs, 0);
	/* the default cap follows the window */
	mps_ofo_init(&q, 4u << 20, 0);
	ck_assert_uint_eq(q.max_segs, 65536);
	ck_assert_uint_ge(q.ring, 4u << 20);
	ck_assert_uint_lt(q.ring, (4u << 20) + MPS_OFO_CHUNK_MAX);
	mps_ofo_free(&q);
}
END_TEST

START_TEST(test_ofo_basic)
{
	struct mps_ofo q;
	uint8_t d[100];
	const uint8_t *p;
	fill(d, sizeof(d), 1);
	mps_ofo_init(&q, 4096, 0);

	ck_assert_int_eq(mps_ofo_insert(&q, 1000, 1010, d + 10, 10), 0);
	check_invariants(&q);
	ck_assert_uint_eq(q.bytes, 10);
	ck_assert_uint_eq(q.nsegs, 1);
	/* nothing at base yet */
	ck_assert_uint_eq(mps_ofo_peek(&q, 1000, &p), 0);
	ck_assert_uint_eq(mps_ofo_peek(&q, 1009, &p), 0);
	ck_assert_uint_eq(mps_ofo_peek(&q, 1020, &p), 0);
	ck_assert_uint_eq(mps_ofo_peek(&q, 1010, &p), 10);
	ck_assert_mem_eq(p, d + 10, 10);
	/* inside a range that was not advanced to */
	ck_assert_uint_eq(mps_ofo_peek(&q, 1015, &p), 5);
	ck_assert_mem_eq(p, d + 15, 5);

	/* the gap fills: the two pieces merge into one range */
	ck_assert_int_eq(mps_ofo_insert(&q, 1000, 1000, d, 10), 0);
	check_invariants(&q);
	ck_assert_uint_eq(q.bytes, 20);
	ck_assert_uint_eq(q.nsegs, 1);
	ck_assert_uint_eq(mps_ofo_peek(&q, 1000, &p), 20);
	ck_assert_mem_eq(p, d, 20);
	mps_ofo_advance(&q, 1010);
	check_invariants(&q);
	ck_assert_uint_eq(q.bytes, 10);
	ck_assert_uint_eq(q.nsegs, 1);
	/* partial consumption trims */
	mps_ofo_advance(&q, 1013);
	check_invariants(&q);
	ck_assert_uint_eq(q.bytes, 7);
	ck_assert_uint_eq(mps_ofo_peek(&q, 1013, &p), 7);
	ck_assert_mem_eq(p, d + 13, 7);
	/* advancing backwards is a no-op, and nothing below it is taken again */
	mps_ofo_advance(&q, 1000);
	ck_assert_uint_eq(q.bytes, 7);
	ck_assert_int_eq(mps_ofo_insert(&q, 1000, 1000, d, 13), 0);
	ck_assert_uint_eq(q.bytes, 7);
	mps_ofo_advance(&q, 1020);
	ck_assert_uint_eq(q.bytes, 0);
	ck_assert_uint_eq(q.nsegs, 0);
	check_invariants(&q);
	mps_ofo_free(&q);
}
END_TEST

START_TEST(test_ofo_below_base)
{
	struct mps_ofo q;
	uint8_t d[64];
	const uint8_t *p;
	fill(d, sizeof(d), 7);
	mps_ofo_init(&q, 4096, 0);
	/* entirely below base, or ending exactly at base: dropped */
	ck_assert_int_eq(mps_ofo_insert(&q, 500, 400, d, 50), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 500, 450, d, 50), 0);
	ck_assert_uint_eq(q.nsegs, 0);
	ck_assert_uint_eq(q.bytes, 0);
	/* straddling base: only from base on */
	ck_assert_int_eq(mps_ofo_insert(&q, 500, 490, d, 30), 0);
	check_invariants(&q);
	ck_assert_uint_eq(q.bytes, 20);
	ck_assert_uint_eq(mps_ofo_peek(&q, 500, &p), 20);
	ck_assert_mem_eq(p, d + 10, 20);
	mps_ofo_free(&q);
}
END_TEST

/* New data over several held ranges: only the gaps are stored, the held
 * bytes (first copy) are kept, and everything it touches becomes one range. */
START_TEST(test_ofo_overlaps)
{
	struct mps_ofo q;
	uint8_t a[200], b[200];
	int flat[200];
	fill(a, sizeof(a), 0x11);
	fill(b, sizeof(b), 0x80);
	mps_ofo_init(&q, 4096, 0);
	/* held: [20,30) [40,50) [60,70) from a */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 20, a + 20, 10), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 60, a + 60, 10), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 40, a + 40, 10), 0);
	check_invariants(&q);
	ck_assert_uint_eq(q.nsegs, 3);
	/* b over [25, 65): gaps [30,40) and [50,60); one range [20,70) */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 25, b + 25, 40), 0);
	check_invariants(&q);
	ck_assert_uint_eq(q.nsegs, 1);
	ck_assert_uint_eq(q.bytes, 50);
	flatten(&q, 0, flat, 200);
	for (int i = 0; i < 200; i++) {
		int want = -1;
		if ((i >= 20 && i < 30) || (i >= 40 && i < 50) || (i >= 60 && i < 70))
			want = a[i];
		else if (i >= 30 && i < 60)
			want = b[i];
		ck_assert_msg(flat[i] == want, "byte %d: %d, want %d", i, flat[i], want);
	}
	/* b over [0, 100): gaps [0,20) and [70,100) */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 0, b, 100), 0);
	check_invariants(&q);
	ck_assert_uint_eq(q.bytes, 100);
	ck_assert_uint_eq(q.nsegs, 1);
	/* an exact duplicate and a sub-range: nothing changes */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 0, a, 100), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 33, a + 33, 3), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 20, a + 20, 10), 0);
	ck_assert_uint_eq(q.bytes, 100);
	ck_assert_uint_eq(q.nsegs, 1);
	flatten(&q, 0, flat, 200);
	for (int i = 0; i < 100; i++) {
		int want = ((i >= 20 && i < 30) || (i >= 40 && i < 50) || (i >= 60 && i < 70))
				   ? a[i]
				   : b[i];
		ck_assert_int_eq(flat[i], want);
	}
	/* consume everything by peek/advance */
	uint64_t base = 0;
	const uint8_t *p;
	size_t n;
	while ((n = mps_ofo_peek(&q, base, &p)) > 0) {
		for (size_t i = 0; i < n; i++)
			ck_assert_int_eq(p[i], flat[base + i]);
		base += n;
		mps_ofo_advance(&q, base);
		check_invariants(&q);
	}
	ck_assert_uint_eq(base, 100);
	ck_assert_uint_eq(q.bytes, 0);
	ck_assert_uint_eq(q.nsegs, 0);
	mps_ofo_free(&q);
}
END_TEST

/* New data that starts or ends inside a held range, and adjacency. */
START_TEST(test_ofo_edges)
{
	struct mps_ofo q;
	uint8_t d[100];
	const uint8_t *p;
	fill(d, sizeof(d), 3);
	mps_ofo_init(&q, 4096, 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 10, d + 10, 10), 0); /* [10,20) */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 15, d + 15, 10), 0); /* + [20,25) */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 5, d + 5, 10), 0);   /* + [5,10) */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 25, d + 25, 5), 0);  /* adjacent [25,30) */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 4, d + 4, 1), 0);    /* adjacent [4,5) */
	check_invariants(&q);
	ck_assert_uint_eq(q.bytes, 26);
	ck_assert_uint_eq(q.nsegs, 1);
	ck_assert_uint_eq(mps_ofo_peek(&q, 4, &p), 26);
	ck_assert_mem_eq(p, d + 4, 26);
	/* one byte apart stays two ranges; the byte between joins them */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 31, d + 31, 4), 0);
	ck_assert_uint_eq(q.nsegs, 2);
	ck_assert_uint_eq(mps_ofo_peek(&q, 30, &p), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 30, d + 30, 1), 0);
	ck_assert_uint_eq(q.nsegs, 1);
	check_invariants(&q);
	/* advance into the middle */
	mps_ofo_advance(&q, 17);
	check_invariants(&q);
	ck_assert_uint_eq(q.bytes, 18);
	ck_assert_uint_eq(mps_ofo_peek(&q, 17, &p), 18);
	ck_assert_mem_eq(p, d + 17, 18);
	mps_ofo_free(&q);
	ck_assert_uint_eq(q.bytes, 0);
}
END_TEST

/* A range is served in pieces at chunk boundaries: the ring wraps. */
START_TEST(test_ofo_ring_wrap)
{
	struct mps_ofo q;
	static uint8_t d[8192];
	const uint8_t *p;
	fill(d, sizeof(d), 9);
	mps_ofo_init(&q, 4096, 0); /* chunks of 1024 */
	ck_assert_uint_eq(q.chunk_size, 1024);
	uint64_t base = 100;
	/* walk the ring around twice in steps that straddle chunks */
	for (int round = 0; round < 12; round++) {
		ck_assert_int_eq(mps_ofo_insert(&q, base, base + 700, d + 700, 3000), 0);
		ck_assert_int_eq(mps_ofo_insert(&q, base, base, d, 700), 0);
		check_invariants(&q);
		ck_assert_uint_eq(q.nsegs, 1);
		size_t got = 0, n;
		while ((n = mps_ofo_peek(&q, base + got, &p)) > 0) {
			ck_assert_uint_le(n, q.chunk_size);
			ck_assert_mem_eq(p, d + got, n);
			got += n;
		}
		ck_assert_uint_eq(got, 3700);
		base += 3700;
		mps_ofo_advance(&q, base);
		check_invariants(&q);
		ck_assert_uint_eq(q.bytes, 0);
	}
	/* nothing held: every chunk went back */
	for (size_t i = 0; i < q.nchunks; i++)
		ck_assert_ptr_null(q.chunk[i]);
	mps_ofo_free(&q);
}
END_TEST

/* The cap: a new range beyond max_segs is refused (nothing changes),
 * data that extends or joins held ranges is still taken, and the window. */
START_TEST(test_ofo_cap)
{
	struct mps_ofo q;
	uint8_t d[4096];
	fill(d, sizeof(d), 5);
	mps_ofo_init(&q, 4096, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(mps_ofo_insert(&q, 0, 10 + 10 * (uint64_t)i, d, 1), 0);
	ck_assert_uint_eq(q.nsegs, 4);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 100, d, 1), -ENOSPC);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 5, d, 1), -ENOSPC);
	ck_assert_uint_eq(q.nsegs, 4);
	ck_assert_uint_eq(q.bytes, 4);
	check_invariants(&q);
	/* extending a range, or a duplicate, is fine */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 11, d, 3), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 10, d, 1), 0);
	ck_assert_uint_eq(q.nsegs, 4);
	/* joining two frees a slot */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 14, d, 6), 0);
	ck_assert_uint_eq(q.nsegs, 3);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 100, d, 1), 0);
	ck_assert_uint_eq(q.nsegs, 4);
	check_invariants(&q);
	/* past the window of the base: refused, nothing held */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 4000, d, (size_t)q.ring), -ERANGE);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 20, d, (size_t)q.ring), -ERANGE);
	ck_assert_uint_eq(q.nsegs, 4);
	/* up to the edge of the ring: fine (it joins [100,101)) */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 101, d, (size_t)q.ring - 101), 0);
	check_invariants(&q);
	mps_ofo_free(&q);
}
END_TEST

/* ---- cost --------------------------------------------------------------- */

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The fragment attack: n one-byte segments each leaving a one-byte gap,
 * then the gaps filled in order from the base, each fill delivering what
 * it released (peek/advance, as dss_rx.c does).  Returns the operations. */
static uint64_t attack_ops(size_t n, double *secs)
{
	struct mps_ofo q;
	uint8_t b = 0x5a;
	uint64_t base = 1000, ops;
	const uint8_t *p;
	double t0 = cpu_now();

	mps_ofo_init(&q, 4 * n + 65536, n + 1);
	/* (no ck_assert per step: Check reports each one to its parent) */
	for (size_t i = 0; i < n; i++)
		if (mps_ofo_insert(&q, base, base + 1 + 2 * i, &b, 1) != 0)
			ck_abort_msg("insert %zu failed", i);
	ck_assert_uint_eq(q.nsegs, n);
	ck_assert_uint_eq(q.bytes, n);
	/* every gap filled from the base: each delivers two bytes */
	for (size_t i = 0; i < n; i++) {
		size_t got = 0, k;
		if (mps_ofo_insert(&q, base, base, &b, 1) != 0)
			ck_abort_msg("fill %zu failed", i);
		while ((k = mps_ofo_peek(&q, base + got, &p)) > 0)
			got += k;
		if (got != 2)
			ck_abort_msg("fill %zu delivered %zu bytes", i, got);
		base += got;
		mps_ofo_advance(&q, base);
	}
	ck_assert_uint_eq(q.nsegs, 0);
	ck_assert_uint_eq(q.bytes, 0);
	ops = q.ops;
	mps_ofo_free(&q);
	*secs = cpu_now() - t0;
	return ops;
}

START_TEST(test_ofo_cost)
{
	double s10, s100;
	uint64_t o10 = attack_ops(10000, &s10);
	uint64_t o100 = attack_ops(100000, &s100);
	double n = 100000, bound = 16 * n * log2(n);

	printf("ofo cost: 10k gapped segments %llu ops %.1f ms, 100k %llu ops %.1f ms "
	       "(bound %.0f)\n",
	       (unsigned long long)o10, s10 * 1e3, (unsigned long long)o100, s100 * 1e3, bound);
	/* O(n log n): 10 times the segments cost ~12.5 times the work; a
	 * list walked from its head would cost 100 times (and 5e9 ops). */
	ck_assert_msg((double)o100 <= bound, "%llu ops for 100k segments",
		      (unsigned long long)o100);
	ck_assert_msg(o100 < 15 * o10, "%llu ops for 100k, %llu for 10k: not n log n",
		      (unsigned long long)o100, (unsigned long long)o10);
}
END_TEST

/* Gaps filled in random order (merging from both sides), and a queue at
 * the cap that the peer keeps poking: each refused insert is O(log n). */
START_TEST(test_ofo_cost_random)
{
	enum { n = 100000 };
	static uint32_t order[n];
	struct mps_ofo q;
	uint8_t b = 1;
	uint64_t ops;
	const uint8_t *p;

	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	uint64_t x = 88172645463325252ULL;
	for (uint32_t i = n - 1; i > 0; i--) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint32_t j = (uint32_t)(x % (i + 1)), t = order[i];
		order[i] = order[j], order[j] = t;
	}
	mps_ofo_init(&q, 8 * n, n);
	for (uint32_t i = 0; i < n; i++)
		if (mps_ofo_insert(&q, 0, 1 + 2 * (uint64_t)order[i], &b, 1) != 0)
			ck_abort_msg("insert %u failed", i);
	ck_assert_uint_eq(q.nsegs, n);
	/* at the cap: refused, cheaply */
	ops = q.ops;
	for (uint32_t i = 0; i < n; i++)
		if (mps_ofo_insert(&q, 0, 3 * (uint64_t)n + 2 * i, &b, 1) != -ENOSPC)
			ck_abort_msg("insert %u past the cap taken", i);
	ck_assert_uint_le(q.ops - ops, (uint64_t)(4 * n * log2(n)));
	/* the gaps (but the one at 0) filled in random order */
	for (uint32_t i = 0; i < n; i++)
		if (order[i] && mps_ofo_insert(&q, 0, 2 * (uint64_t)order[i], &b, 1) != 0)
			ck_abort_msg("fill %u failed", i);
	ck_assert_uint_eq(q.nsegs, 1);
	check_invariants(&q);
	ck_assert_uint_eq(mps_ofo_peek(&q, 0, &p), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 0, &b, 1), 0);
	ck_assert_uint_eq(q.bytes, 2 * n);
	ck_assert_uint_le(q.ops, (uint64_t)(16 * 3 * n * log2(n)));
	mps_ofo_advance(&q, 2 * (uint64_t)n);
	ck_assert_uint_eq(q.bytes, 0);
	check_invariants(&q);
	mps_ofo_free(&q);
}
END_TEST

/* ---- randomized model check ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

enum { SPAN = 4096 }; /* model window */

/* start: the DSN of model position 0.  The model holds, per position, the
 * first byte inserted there (-1 = none); positions below base are gone. */
static void model_run(uint64_t start, uint64_t seed, int iters)
{
	static int model[SPAN * 4];
	static uint8_t buf[SPAN];
	struct mps_ofo q;
	uint64_t base = start; /* next expected DSN */
	size_t total = sizeof(model) / sizeof(model[0]);
	size_t consumed = 0;   /* base - start */
	size_t held = 0;       /* model positions >= consumed that are set */

	rng_state = seed;
	for (size_t i = 0; i < total; i++)
		model[i] = -1;
	mps_ofo_init(&q, SPAN, SPAN);
	for (int it = 0; it < iters && consumed + SPAN < total; it++) {
		uint64_t r = rng();
		if (r % 4 != 0) {
			/* insert: mostly inside the window, sometimes reaching
			 * below base, lengths from 1 to 600 */
			size_t len = 1 + (size_t)(rng() % ((r >> 8) % 3 == 0 ? 600 : 40));
			int64_t off = (int64_t)(rng() % (SPAN - 600)) - 100; /* from base */
			if ((int64_t)consumed + off < 0)
				off = -(int64_t)consumed;
			uint8_t seedb = (uint8_t)rng();
			for (size_t i = 0; i < len; i++)
				buf[i] = (uint8_t)(seedb + i * 31 + (i >> 3));
			uint64_t dsn = base + (uint64_t)off;
			ck_assert_int_eq(mps_ofo_insert(&q, base, dsn, buf, len), 0);
			for (size_t i = 0; i < len; i++) {
				int64_t pos = (int64_t)consumed + off + (int64_t)i;
				if (pos < (int64_t)consumed)
					continue; /* below base: dropped */
				if (model[pos] == -1) {
					model[pos] = buf[i];
					held++;
				}
			}
		} else if ((r >> 8) % 8 == 0) {
			/* in-order data delivered around the queue: skip ahead */
			size_t skip = (size_t)(rng() % 300);
			for (size_t i = 0; i < skip; i++)
				held -= model[consumed + i] != -1;
			consumed += skip;
			base += skip;
			mps_ofo_advance(&q, base);
		} else {
			/* consume from base with peek/advance, sometimes partly */
			const uint8_t *p;
			size_t n;
			int rounds = 1 + (int)(rng() % 4);
			while (rounds-- > 0 && (n = mps_ofo_peek(&q, base, &p)) > 0) {
				for (size_t i = 0; i < n; i++)
					if (model[consumed + i] != p[i])
						ck_abort_msg(
						      "dsn %llu: %u, model %d",
						      (unsigned long long)(base + i), p[i],
						      model[consumed + i]);
				ck_assert_int_ne(model[consumed], -1);
				size_t take = (rng() & 1) ? n : 1 + (size_t)(rng() % n);
				held -= take;
				consumed += take;
				base += take;
				mps_ofo_advance(&q, base);
			}
			/* when peek says nothing, the model has nothing at base */
			if (mps_ofo_peek(&q, base, &p) == 0)
				ck_assert_int_eq(model[consumed], -1);
		}
		check_invariants(&q);
		/* as many bytes held as the model has from base on */
		ck_assert_uint_eq(q.bytes, held);
		if (it % 64 == 0) {
			static int flat[SPAN * 4];
			size_t rest = total - consumed;
			flatten(&q, base, flat, rest);
			for (size_t i = 0; i < rest; i++)
				if (flat[i] != model[consumed + i])
					ck_abort_msg("dsn +%zu: %d, model %d", i, flat[i],
						     model[consumed + i]);
		}
	}
	/* drain: walk to the end of the model, compare every byte */
	while (consumed < total) {
		const uint8_t *p;
		size_t n = mps_ofo_peek(&q, base, &p);
		if (n == 0) {
			ck_assert_int_eq(model[consumed], -1);
			consumed++;
			base++;
			mps_ofo_advance(&q, base);
			continue;
		}
		ck_assert_uint_le(consumed + n, total);
		for (size_t i = 0; i < n; i++)
			if (model[consumed + i] != p[i])
				ck_abort_msg("drain: byte %zu differs", consumed + i);
		consumed += n;
		base += n;
		mps_ofo_advance(&q, base);
	}
	ck_assert_uint_eq(q.bytes, 0);
	ck_assert_uint_eq(q.nsegs, 0);
	ck_assert_int_eq(mps_ofo_check(&q), 0);
	mps_ofo_free(&q);
}

START_TEST(test_ofo_model)
{
	static const uint64_t starts[] = { 0, 1, 0x0123456789abcdefULL, 0x7fffffffffffff00ULL };
	for (size_t i = 0; i < NELEM(starts); i++)
		for (uint64_t s = 1; s <= 4; s++)
			model_run(starts[i], 0x9e3779b97f4a7c15ULL * s + i, 6000);
}
END_TEST

/* The same near 2^64: DSNs wrap inside the window. */
START_TEST(test_ofo_model_wrap)
{
	static const uint64_t starts[] = { UINT64_MAX - 4000, UINT64_MAX - 100, UINT64_MAX,
					   UINT64_MAX - 8000 };
	for (size_t i = 0; i < NELEM(starts); i++)
		for (uint64_t s = 1; s <= 4; s++)
			model_run(starts[i], 0xd1b54a32d192ed03ULL * s + i, 6000);
}
END_TEST

START_TEST(test_ofo_wrap_vectors)
{
	struct mps_ofo q;
	uint8_t d[64];
	const uint8_t *p;
	fill(d, sizeof(d), 0x40);
	mps_ofo_init(&q, 4096, 0);
	uint64_t base = UINT64_MAX - 9; /* 10 bytes before the wrap */
	/* a range across the wrap: [MAX-4, 5) */
	ck_assert_int_eq(mps_ofo_insert(&q, base, UINT64_MAX - 4, d + 5, 10), 0);
	/* one after the wrap, one before: sorted modulo 2^64 */
	ck_assert_int_eq(mps_ofo_insert(&q, base, 20, d + 30, 4), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, base, base, d, 2), 0);
	check_invariants(&q);
	ck_assert_uint_eq(q.nsegs, 3);
	ck_assert_uint_eq(mps_ofo_peek(&q, base, &p), 2);
	ck_assert_uint_eq(mps_ofo_peek(&q, base + 2, &p), 0);
	ck_assert_uint_eq(mps_ofo_peek(&q, UINT64_MAX, &p), 6);
	ck_assert_uint_eq(mps_ofo_peek(&q, 20, &p), 4);
	ck_assert_mem_eq(p, d + 30, 4);
	/* straddling data below base, across the wrap of the base itself:
	 * [base, base+5) fills the gap, one range to 5 */
	ck_assert_int_eq(mps_ofo_insert(&q, base, base - 5, d, 10), 0);
	check_invariants(&q);
	ck_assert_uint_eq(q.nsegs, 2);
	ck_assert_uint_eq(q.bytes, 2 + 10 + 4 + 3);
	ck_assert_uint_eq(mps_ofo_peek(&q, base, &p), 15);
	ck_assert_mem_eq(p, d, 2);
	ck_assert_mem_eq(p + 2, d + 7, 3);
	ck_assert_mem_eq(p + 5, d + 5, 10);
	mps_ofo_advance(&q, base + 2);
	ck_assert_uint_eq(mps_ofo_peek(&q, base + 2, &p), 13);
	ck_assert_mem_eq(p, d + 7, 3);
	/* advance across the wrap into the middle of the wrapping range */
	mps_ofo_advance(&q, 2);
	check_invariants(&q);
	ck_assert_uint_eq(mps_ofo_peek(&q, 2, &p), 3);
	ck_assert_mem_eq(p, d + 12, 3);
	ck_assert_uint_eq(q.bytes, 7);
	/* an insert that is entirely "below" a wrapped base is dropped */
	ck_assert_int_eq(mps_ofo_insert(&q, 2, UINT64_MAX - 20, d, 10), 0);
	ck_assert_uint_eq(q.bytes, 7);
	mps_ofo_free(&q);
}
END_TEST

static Suite *ofo_suite(void)
{
	Suite *s = suite_create("ofo");
	TCase *tc = tcase_create("cases");
	tcase_add_test(tc, test_ofo_empty);
	tcase_add_test(tc, test_ofo_basic);
	tcase_add_test(tc, test_ofo_below_base);
	tcase_add_test(tc, test_ofo_overlaps);
	tcase_add_test(tc, test_ofo_edges);
	tcase_add_test(tc, test_ofo_ring_wrap);
	tcase_add_test(tc, test_ofo_cap);
	tcase_add_test(tc, test_ofo_wrap_vectors);
	suite_add_tcase(s, tc);

	tc = tcase_create("cost");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ofo_cost);
	tcase_add_test(tc, test_ofo_cost_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_ofo_model);
	tcase_add_test(tc, test_ofo_model_wrap);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ofo_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
