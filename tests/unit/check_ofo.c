/* check_ofo.c - the out-of-order queue, from include/mptcpshim/ofo.h:
 * hand-made overlap cases, then a randomized check against a byte-array
 * model, also across the 2^64 wrap. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/ofo.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The list must be sorted (mod 2^64, from base), non-overlapping, with
 * non-empty segments, and bytes/nsegs must add up. */
static void check_invariants(const struct mps_ofo *q, uint64_t base)
{
	size_t bytes = 0, nsegs = 0;
	uint64_t prev_end = base;
	for (const struct mps_ofo_seg *s = q->head; s; s = s->next) {
		ck_assert_uint_gt(s->len, 0);
		ck_assert_msg((int64_t)(s->dsn - prev_end) >= 0,
			      "segment at %llu overlaps or precedes %llu",
			      (unsigned long long)s->dsn, (unsigned long long)prev_end);
		prev_end = s->dsn + s->len;
		bytes += s->len;
		nsegs++;
	}
	ck_assert_uint_eq(bytes, q->bytes);
	ck_assert_uint_eq(nsegs, q->nsegs);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

/* Everything held, flattened: returns the bytes seen, with gaps as -1 in
 * out[dsn - from] (out sized n). */
static void flatten(const struct mps_ofo *q, uint64_t from, int *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = -1;
	for (const struct mps_ofo_seg *s = q->head; s; s = s->next)
		for (size_t i = 0; i < s->len; i++) {
			uint64_t off = s->dsn + i - from;
			ck_assert_uint_lt(off, n);
			ck_assert_int_eq(out[off], -1);
			out[off] = s->data[i];
		}
}

START_TEST(test_ofo_empty)
{
	struct mps_ofo q;
	const uint8_t *p = (const uint8_t *)"x";
	mps_ofo_init(&q);
	ck_assert_ptr_null(q.head);
	ck_assert_uint_eq(q.bytes, 0);
	ck_assert_uint_eq(q.nsegs, 0);
	ck_assert_uint_eq(mps_ofo_peek(&q, 0, &p), 0);
	ck_assert_uint_eq(mps_ofo_peek(&q, UINT64_MAX, &p), 0);
	mps_ofo_advance(&q, 12345);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 10, p, 0), 0); /* empty insert */
	ck_assert_uint_eq(q.nsegs, 0);
	mps_ofo_free(&q);
	mps_ofo_free(&q); /* idempotent */
	ck_assert_ptr_null(q.head);
}
END_TEST

START_TEST(test_ofo_basic)
{
	struct mps_ofo q;
	uint8_t d[100];
	const uint8_t *p;
	fill(d, sizeof(d), 1);
	mps_ofo_init(&q);

	ck_assert_int_eq(mps_ofo_insert(&q, 1000, 1010, d + 10, 10), 0);
	check_invariants(&q, 1000);
	ck_assert_uint_eq(q.bytes, 10);
	ck_assert_uint_eq(q.nsegs, 1);
	/* nothing at base yet */
	ck_assert_uint_eq(mps_ofo_peek(&q, 1000, &p), 0);
	ck_assert_uint_eq(mps_ofo_peek(&q, 1009, &p), 0);
	ck_assert_uint_eq(mps_ofo_peek(&q, 1020, &p), 0);
	ck_assert_uint_eq(mps_ofo_peek(&q, 1010, &p), 10);
	ck_assert_mem_eq(p, d + 10, 10);
	/* inside a segment that was not advanced to */
	ck_assert_uint_eq(mps_ofo_peek(&q, 1015, &p), 5);
	ck_assert_mem_eq(p, d + 15, 5);

	/* the gap fills: the two pieces are separate segments */
	ck_assert_int_eq(mps_ofo_insert(&q, 1000, 1000, d, 10), 0);
	check_invariants(&q, 1000);
	ck_assert_uint_eq(q.bytes, 20);
	ck_assert_uint_eq(mps_ofo_peek(&q, 1000, &p), 10);
	ck_assert_mem_eq(p, d, 10);
	mps_ofo_advance(&q, 1010);
	check_invariants(&q, 1010);
	ck_assert_uint_eq(q.bytes, 10);
	ck_assert_uint_eq(q.nsegs, 1);
	/* partial consumption trims */
	mps_ofo_advance(&q, 1013);
	check_invariants(&q, 1013);
	ck_assert_uint_eq(q.bytes, 7);
	ck_assert_uint_eq(mps_ofo_peek(&q, 1013, &p), 7);
	ck_assert_mem_eq(p, d + 13, 7);
	/* advancing backwards is a no-op */
	mps_ofo_advance(&q, 1000);
	ck_assert_uint_eq(q.bytes, 7);
	mps_ofo_advance(&q, 1020);
	ck_assert_uint_eq(q.bytes, 0);
	ck_assert_uint_eq(q.nsegs, 0);
	ck_assert_ptr_null(q.head);
	mps_ofo_free(&q);
}
END_TEST

START_TEST(test_ofo_below_base)
{
	struct mps_ofo q;
	uint8_t d[64];
	const uint8_t *p;
	fill(d, sizeof(d), 7);
	mps_ofo_init(&q);
	/* entirely below base, or ending exactly at base: dropped */
	ck_assert_int_eq(mps_ofo_insert(&q, 500, 400, d, 50), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 500, 450, d, 50), 0);
	ck_assert_uint_eq(q.nsegs, 0);
	ck_assert_uint_eq(q.bytes, 0);
	/* straddling base: only from base on */
	ck_assert_int_eq(mps_ofo_insert(&q, 500, 490, d, 30), 0);
	check_invariants(&q, 500);
	ck_assert_uint_eq(q.bytes, 20);
	ck_assert_uint_eq(mps_ofo_peek(&q, 500, &p), 20);
	ck_assert_mem_eq(p, d + 10, 20);
	mps_ofo_free(&q);
}
END_TEST

/* New data over several held segments: only the gaps are stored, the held
 * bytes (first copy) are kept. */
START_TEST(test_ofo_overlaps)
{
	struct mps_ofo q;
	uint8_t a[200], b[200];
	int flat[200];
	fill(a, sizeof(a), 0x11);
	fill(b, sizeof(b), 0x80);
	mps_ofo_init(&q);
	/* held: [20,30) [40,50) [60,70) from a */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 20, a + 20, 10), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 60, a + 60, 10), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 40, a + 40, 10), 0);
	check_invariants(&q, 0);
	ck_assert_uint_eq(q.nsegs, 3);
	/* b over [25, 65): gaps [30,40) and [50,60) */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 25, b + 25, 40), 0);
	check_invariants(&q, 0);
	ck_assert_uint_eq(q.nsegs, 5);
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
	check_invariants(&q, 0);
	ck_assert_uint_eq(q.bytes, 100);
	ck_assert_uint_eq(q.nsegs, 7);
	/* an exact duplicate and a sub-range: nothing changes */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 0, a, 100), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 33, a + 33, 3), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 20, a + 20, 10), 0);
	ck_assert_uint_eq(q.bytes, 100);
	ck_assert_uint_eq(q.nsegs, 7);
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
		check_invariants(&q, base);
	}
	ck_assert_uint_eq(base, 100);
	ck_assert_uint_eq(q.bytes, 0);
	ck_assert_uint_eq(q.nsegs, 0);
	mps_ofo_free(&q);
}
END_TEST

/* New data that starts or ends inside a held segment, and adjacency. */
START_TEST(test_ofo_edges)
{
	struct mps_ofo q;
	uint8_t d[100];
	const uint8_t *p;
	fill(d, sizeof(d), 3);
	mps_ofo_init(&q);
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 10, d + 10, 10), 0); /* [10,20) */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 15, d + 15, 10), 0); /* + [20,25) */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 5, d + 5, 10), 0);   /* + [5,10) */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 25, d + 25, 5), 0);  /* adjacent [25,30) */
	ck_assert_int_eq(mps_ofo_insert(&q, 0, 4, d + 4, 1), 0);    /* adjacent [4,5) */
	check_invariants(&q, 0);
	ck_assert_uint_eq(q.bytes, 26);
	ck_assert_uint_eq(q.nsegs, 5);
	ck_assert_uint_eq(mps_ofo_peek(&q, 4, &p), 1);
	/* reading across adjacent segments yields the whole run */
	uint64_t at = 4;
	size_t n;
	while ((n = mps_ofo_peek(&q, at, &p)) > 0) {
		ck_assert_mem_eq(p, d + at, n);
		at += n;
	}
	ck_assert_uint_eq(at, 30);
	/* advance into the middle of the third segment */
	mps_ofo_advance(&q, 17);
	check_invariants(&q, 17);
	ck_assert_uint_eq(q.bytes, 13);
	ck_assert_uint_eq(mps_ofo_peek(&q, 17, &p), 3);
	ck_assert_mem_eq(p, d + 17, 3);
	mps_ofo_free(&q);
	ck_assert_uint_eq(q.bytes, 0);
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
	mps_ofo_init(&q);
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
					ck_assert_msg(model[consumed + i] == p[i],
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
		check_invariants(&q, base);
		/* as many bytes held as the model has from base on */
		ck_assert_uint_eq(q.bytes, held);
		if (it % 64 == 0) {
			static int flat[SPAN * 4];
			size_t rest = total - consumed;
			flatten(&q, base, flat, rest);
			for (size_t i = 0; i < rest; i++)
				ck_assert_int_eq(flat[i], model[consumed + i]);
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
			ck_assert_int_eq(model[consumed + i], p[i]);
		consumed += n;
		base += n;
		mps_ofo_advance(&q, base);
	}
	ck_assert_uint_eq(q.bytes, 0);
	ck_assert_uint_eq(q.nsegs, 0);
	ck_assert_ptr_null(q.head);
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
	mps_ofo_init(&q);
	uint64_t base = UINT64_MAX - 9; /* 10 bytes before the wrap */
	/* a segment across the wrap: [MAX-4, 5) */
	ck_assert_int_eq(mps_ofo_insert(&q, base, UINT64_MAX - 4, d + 5, 10), 0);
	/* one after the wrap, one before: sorted modulo 2^64 */
	ck_assert_int_eq(mps_ofo_insert(&q, base, 20, d + 30, 4), 0);
	ck_assert_int_eq(mps_ofo_insert(&q, base, base, d, 2), 0);
	check_invariants(&q, base);
	ck_assert_uint_eq(q.nsegs, 3);
	ck_assert(q.head->dsn == base);
	ck_assert(q.head->next->dsn == UINT64_MAX - 4);
	ck_assert(q.head->next->next->dsn == 20);
	/* straddling data below base, across the wrap of the base itself */
	ck_assert_int_eq(mps_ofo_insert(&q, base, base - 5, d, 10), 0); /* [base, base+5) */
	check_invariants(&q, base);
	ck_assert_uint_eq(q.bytes, 2 + 10 + 4 + 3);
	ck_assert_uint_eq(mps_ofo_peek(&q, base, &p), 2);
	ck_assert_mem_eq(p, d, 2);
	mps_ofo_advance(&q, base + 2);
	ck_assert_uint_eq(mps_ofo_peek(&q, base + 2, &p), 3);
	ck_assert_mem_eq(p, d + 7, 3);
	/* advance across the wrap into the middle of the wrapping segment */
	mps_ofo_advance(&q, 2);
	check_invariants(&q, 2);
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
	tcase_add_test(tc, test_ofo_wrap_vectors);
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
