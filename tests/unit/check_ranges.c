/* check_ranges.c - DSN range sets (include/mptcpshim/ranges.h): merges,
 * trims, pops, the coarsening when full (a superset, never a subset), and
 * a randomized check against a byte-map model, also across the 2^64 wrap. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/ranges.h"

/* Sorted, non-empty, non-overlapping, non-adjacent (mod 2^64 from the
 * first start). */
static void check_invariants(const struct mps_ranges *s)
{
	int i;

	ck_assert_int_ge(s->n, 0);
	ck_assert_int_le(s->n, MPS_RANGES_MAX);
	for (i = 0; i < s->n; i++) {
		ck_assert_msg((int64_t)(s->r[i].end - s->r[i].start) > 0, "empty range %d", i);
		if (i > 0)
			ck_assert_msg((int64_t)(s->r[i].start - s->r[i - 1].end) > 0,
			              "range %d touches or overlaps its predecessor", i);
	}
}

static void expect(const struct mps_ranges *s, int n, const uint64_t *pairs)
{
	int i;

	check_invariants(s);
	ck_assert_int_eq(s->n, n);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(s->r[i].start, pairs[2 * i]);
		ck_assert_uint_eq(s->r[i].end, pairs[2 * i + 1]);
	}
}

START_TEST(test_add_merge)
{
	struct mps_ranges s;

	mps_ranges_init(&s);
	mps_ranges_add(&s, 100, 100); /* empty: ignored */
	expect(&s, 0, NULL);
	mps_ranges_add(&s, 100, 200);
	mps_ranges_add(&s, 300, 400);
	mps_ranges_add(&s, 0, 50);
	expect(&s, 3, (const uint64_t[]){0, 50, 100, 200, 300, 400});
	mps_ranges_add(&s, 200, 210); /* adjacent: extends */
	expect(&s, 3, (const uint64_t[]){0, 50, 100, 210, 300, 400});
	mps_ranges_add(&s, 40, 350); /* spans several */
	expect(&s, 1, (const uint64_t[]){0, 400});
	mps_ranges_add(&s, 10, 20); /* inside */
	expect(&s, 1, (const uint64_t[]){0, 400});
	ck_assert_uint_eq(mps_ranges_bytes(&s), 400);
	mps_ranges_free(&s);
}
END_TEST

START_TEST(test_trim_pop)
{
	struct mps_ranges s;
	uint64_t st = 0;

	mps_ranges_init(&s);
	mps_ranges_add(&s, 100, 200);
	mps_ranges_add(&s, 300, 400);
	mps_ranges_trim(&s, 150);
	expect(&s, 2, (const uint64_t[]){150, 200, 300, 400});
	mps_ranges_trim(&s, 250); /* in a gap */
	expect(&s, 1, (const uint64_t[]){300, 400});
	ck_assert_uint_eq(mps_ranges_pop(&s, 30, &st), 30);
	ck_assert_uint_eq(st, 300);
	expect(&s, 1, (const uint64_t[]){330, 400});
	ck_assert_uint_eq(mps_ranges_pop(&s, 1000, &st), 70);
	ck_assert_uint_eq(st, 330);
	ck_assert_uint_eq(mps_ranges_pop(&s, 1000, &st), 0);
	mps_ranges_add(&s, 5, 10);
	mps_ranges_trim(&s, 10); /* exactly the end */
	expect(&s, 0, NULL);
}
END_TEST

START_TEST(test_move)
{
	struct mps_ranges a, b;

	mps_ranges_init(&a);
	mps_ranges_init(&b);
	mps_ranges_add(&a, 0, 10);
	mps_ranges_add(&a, 20, 30);
	mps_ranges_add(&b, 10, 20);
	mps_ranges_move(&b, &a);
	ck_assert_int_eq(a.n, 0);
	expect(&b, 1, (const uint64_t[]){0, 30});
}
END_TEST

/* When full, the closest neighbours merge: the set stays a superset. */
START_TEST(test_coarsen)
{
	struct mps_ranges s;
	int i;

	mps_ranges_init(&s);
	/* [20i, 20i+10): gaps of 10, except range 7, which starts at 132:
	 * its gap to range 6 (2 bytes) is the only smallest one. */
	for (i = 0; i < MPS_RANGES_MAX; i++)
		mps_ranges_add(&s, (uint64_t)i * 20 - (i == 7 ? 8 : 0), (uint64_t)i * 20 + 10);
	ck_assert_int_eq(s.n, MPS_RANGES_MAX);
	mps_ranges_add(&s, 100000, 100010);
	check_invariants(&s);
	ck_assert_int_eq(s.n, MPS_RANGES_MAX);
	ck_assert_uint_eq(s.r[6].start, 120);
	ck_assert_uint_eq(s.r[6].end, 150);
	ck_assert_uint_eq(s.r[7].start, 160);
	ck_assert_uint_eq(s.r[s.n - 1].start, 100000);
	ck_assert_uint_eq(s.r[s.n - 1].end, 100010);
	mps_ranges_free(&s);
}
END_TEST

/* Issue 15: the first MPS_RANGES_INLINE ranges take no allocation; more
 * take the heap slots once; shrink gives them back when the ranges fit
 * inline again; free empties the set. */
static int n_alloc, fail_alloc;

static void *count_alloc(size_t n)
{
	n_alloc++;
	return fail_alloc ? NULL : malloc(n);
}

START_TEST(test_inline_heap)
{
	struct mps_ranges s;
	int i;

	memset(&s, 0, sizeof(s)); /* a zeroed set is an empty one */
	mps_ranges_alloc = count_alloc;
	n_alloc = fail_alloc = 0;
	ck_assert_uint_eq(mps_ranges_bytes(&s), 0);
	mps_ranges_trim(&s, 5);
	ck_assert_int_eq(mps_ranges_pop(&s, 10, &(uint64_t){0}), 0);
	for (i = 0; i < MPS_RANGES_INLINE; i++)
		mps_ranges_add(&s, (uint64_t)i * 100, (uint64_t)i * 100 + 10);
	ck_assert_int_eq(n_alloc, 0);
	ck_assert(!mps_ranges_on_heap(&s));
	ck_assert_int_eq(mps_ranges_shrink(&s), 0);
	mps_ranges_add(&s, 1000, 1010); /* one more: the heap */
	ck_assert_int_eq(n_alloc, 1);
	ck_assert(mps_ranges_on_heap(&s));
	expect(&s, MPS_RANGES_INLINE + 1, (const uint64_t[]){0, 10, 100, 110, 1000, 1010});
	for (i = 0; i < MPS_RANGES_MAX + 5; i++) /* to the cap: no second allocation */
		mps_ranges_add(&s, 2000 + (uint64_t)i * 20, 2010 + (uint64_t)i * 20);
	ck_assert_int_eq(n_alloc, 1);
	ck_assert_int_eq(s.n, MPS_RANGES_MAX);
	ck_assert_int_eq(mps_ranges_shrink(&s), 0); /* does not fit */
	mps_ranges_trim(&s, 2000 + (uint64_t)(MPS_RANGES_MAX + 3) * 20);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(mps_ranges_shrink(&s), 1);
	ck_assert(!mps_ranges_on_heap(&s));
	expect(&s, 2,
	       (const uint64_t[]){
	               2000 + (MPS_RANGES_MAX + 3) * 20, 2010 + (MPS_RANGES_MAX + 3) * 20,
	               2000 + (MPS_RANGES_MAX + 4) * 20, 2010 + (MPS_RANGES_MAX + 4) * 20});
	mps_ranges_free(&s);
	ck_assert_int_eq(s.n, 0);
	ck_assert_ptr_null(s.r);
	mps_ranges_alloc = malloc;
}
END_TEST

/* No memory for the heap slots: the set coarsens inline, a superset of
 * what was added, and tries again next time. */
START_TEST(test_alloc_fails)
{
	struct mps_ranges s;
	int i;

	mps_ranges_init(&s);
	mps_ranges_alloc = count_alloc;
	n_alloc = 0;
	fail_alloc = 1;
	for (i = 0; i < 10; i++)
		mps_ranges_add(&s, (uint64_t)i * 100 + (i == 5 ? 50 : 0),
		               (uint64_t)i * 100 + 10 + (i == 5 ? 50 : 0));
	ck_assert_int_ge(n_alloc, 1);
	check_invariants(&s);
	ck_assert_int_le(s.n, MPS_RANGES_INLINE);
	ck_assert(!mps_ranges_on_heap(&s));
	ck_assert_uint_eq(s.r[0].start, 0);
	ck_assert_uint_eq(s.r[s.n - 1].end, 910);
	for (i = 0; i < 10; i++) { /* every added range lies inside one held range */
		uint64_t a = (uint64_t)i * 100 + (i == 5 ? 50 : 0);
		int j, in = 0;

		for (j = 0; j < s.n; j++)
			in |= s.r[j].start <= a && a + 10 <= s.r[j].end;
		ck_assert_msg(in, "range %d lost", i);
	}
	fail_alloc = 0;
	mps_ranges_add(&s, 5000, 5010); /* memory again: exact from here on */
	ck_assert(mps_ranges_on_heap(&s));
	ck_assert_uint_eq(s.r[s.n - 1].start, 5000);
	mps_ranges_free(&s);
	mps_ranges_alloc = malloc;
}
END_TEST

/* An exec image: squeezed (superset, inline), copied, rehomed. */
START_TEST(test_squeeze_copy)
{
	struct mps_ranges s, copy;
	int i;

	mps_ranges_init(&s);
	for (i = 0; i < 10; i++)
		mps_ranges_add(&s, (uint64_t)i * 100, (uint64_t)i * 100 + 10);
	ck_assert(mps_ranges_on_heap(&s));
	mps_ranges_squeeze(&s);
	ck_assert(!mps_ranges_on_heap(&s));
	ck_assert_int_le(s.n, MPS_RANGES_INLINE);
	ck_assert_uint_eq(s.r[0].start, 0);
	ck_assert_uint_eq(s.r[s.n - 1].end, 910);
	memcpy(&copy, &s, sizeof(copy));
	mps_ranges_rehome(&copy);
	ck_assert_ptr_eq(copy.r, copy.in);
	expect(&copy, s.n,
	       (const uint64_t[]){s.r[0].start, s.r[0].end, s.r[s.n - 1].start, s.r[s.n - 1].end});
	mps_ranges_add(&copy, 5000, 5010);
	ck_assert_int_eq(copy.n, s.n + 1);
	mps_ranges_free(&copy);
	mps_ranges_free(&s);
}
END_TEST

/* Random adds/trims/pops against a byte map over a 4096-byte window that
 * starts at base (near 2^64 in the wrap variant).  While the set never
 * filled up it must equal the model; once coarsened, contain it. */
static void run_model(uint64_t base, unsigned seed, int small)
{
	enum { W = 4096 };
	static uint8_t model[W];
	struct mps_ranges s;
	uint64_t una = 0; /* offset from base */
	int step, coarse = 0;

	srand(seed);
	memset(model, 0, sizeof(model));
	mps_ranges_init(&s);
	for (step = 0; step < 20000; step++) {
		int op = rand() % 10;

		if (op < 6) {
			uint64_t a =
			        una + (uint64_t)(rand() % (W - (int)una > 1 ? W - (int)una : 1));
			uint64_t len = (uint64_t)(rand() % (small ? 8 : 200)) + 1;
			uint64_t k;

			if (a + len > W)
				len = W - a;
			if (s.n == MPS_RANGES_MAX)
				coarse = 1;
			mps_ranges_add(&s, base + a, base + a + len);
			for (k = a; k < a + len; k++)
				model[k] = 1;
		} else if (op < 8) {
			uint64_t t = una + (uint64_t)(rand() % 64);

			if (t > W)
				t = W;
			mps_ranges_trim(&s, base + t);
			memset(model, 0, (size_t)t);
			una = t;
		} else {
			uint64_t st = 0, k;
			size_t n = mps_ranges_pop(&s, (size_t)(rand() % 300) + 1, &st);

			for (k = 0; k < n; k++)
				model[st - base + k] = 0;
		}
		check_invariants(&s);
		{
			static uint8_t have[W];
			int i;
			uint64_t k;

			/* Plain comparisons, one assertion per finding: each
			 * ck_assert is a message to the parent process. */
			memset(have, 0, sizeof(have));
			for (i = 0; i < s.n; i++)
				for (k = s.r[i].start - base; k != s.r[i].end - base; k++) {
					if (k >= W)
						ck_abort_msg("range beyond the window (step %d)", step);
					have[k] = 1;
				}
			for (k = 0; k < W; k++) {
				if (model[k] && !have[k])
					ck_abort_msg("byte %llu lost (step %d)", (unsigned long long)k, step);
				if (!model[k] && have[k] && !coarse)
					ck_abort_msg("byte %llu invented (step %d)", (unsigned long long)k, step);
			}
		}
		if (una >= W - 64) { /* start over */
			mps_ranges_free(&s);
			memset(model, 0, sizeof(model));
			una = 0;
			coarse = 0;
		}
		if (step % 97 == 0 && mps_ranges_shrink(&s)) /* the idle sweep's */
			ck_assert_int_le(s.n, MPS_RANGES_INLINE);
	}
	mps_ranges_free(&s);
}

START_TEST(test_model)
{
	run_model(1000, 1, 0);
}
END_TEST
START_TEST(test_model_small)
{
	run_model(1000, 2, 1);
}
END_TEST
START_TEST(test_model_wrap)
{
	run_model(UINT64_MAX - 2000, 3, 1);
}
END_TEST

static Suite *ranges_suite(void)
{
	Suite *s = suite_create("ranges");
	TCase *tc = tcase_create("cases");

	tcase_add_test(tc, test_add_merge);
	tcase_add_test(tc, test_trim_pop);
	tcase_add_test(tc, test_move);
	tcase_add_test(tc, test_coarsen);
	tcase_add_test(tc, test_inline_heap);
	tcase_add_test(tc, test_alloc_fails);
	tcase_add_test(tc, test_squeeze_copy);
	suite_add_tcase(s, tc);
	tc = tcase_create("model");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_model);
	tcase_add_test(tc, test_model_small);
	tcase_add_test(tc, test_model_wrap);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ranges_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
