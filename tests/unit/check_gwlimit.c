/* check_gwlimit.c - the gateway's per-source pending limit and its table
 * (checked against a model under random operations), and the per-client
 * token bucket. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/gwlimit.h"

static void key4(const char *a, uint8_t key[16])
{
	struct sockaddr_in in = {.sin_family = AF_INET};

	ck_assert_int_eq(inet_pton(AF_INET, a, &in.sin_addr), 1);
	ck_assert_int_eq(mps_gwlimit_source_key((struct sockaddr *)&in, key), 0);
}

static void key6(const char *a, uint8_t key[16])
{
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};

	ck_assert_int_eq(inet_pton(AF_INET6, a, &in6.sin6_addr), 1);
	ck_assert_int_eq(mps_gwlimit_source_key((struct sockaddr *)&in6, key), 0);
}

START_TEST(test_source_key)
{
	uint8_t a[16], b[16];
	struct sockaddr sa = {.sa_family = AF_UNIX};

	key4("198.18.0.1", a);
	key6("::ffff:198.18.0.1", b);
	ck_assert_mem_eq(a, b, 16); /* the same client on a dual-stack listener */
	key4("198.18.0.2", b);
	ck_assert(memcmp(a, b, 16) != 0);
	key6("2001:db8:1:2::1", a);
	key6("2001:db8:1:2:ffff:1:2:3", b);
	ck_assert_mem_eq(a, b, 16); /* one /64 is one source */
	key6("2001:db8:1:3::1", b);
	ck_assert(memcmp(a, b, 16) != 0);
	ck_assert_int_eq(mps_gwlimit_source_key(&sa, a), -EAFNOSUPPORT);
}
END_TEST

START_TEST(test_per_source)
{
	struct mps_gwlimit l;
	uint8_t a[16], b[16];

	ck_assert_int_eq(mps_gwlimit_init(&l, 3, 100, 0, 0, 1, 42), 0);
	key4("198.18.0.1", a);
	key4("198.18.0.2", b);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(mps_gwlimit_pending_take(&l, a), 0);
	ck_assert_int_eq(mps_gwlimit_pending_take(&l, a), -EBUSY);
	ck_assert_uint_eq(mps_gwlimit_pending(&l, a), 3);
	/* another source is not held back by the first */
	ck_assert_int_eq(mps_gwlimit_pending_take(&l, b), 0);
	mps_gwlimit_pending_drop(&l, a);
	ck_assert_int_eq(mps_gwlimit_pending_take(&l, a), 0);
	ck_assert_int_eq(mps_gwlimit_pending_take(&l, a), -EBUSY);
	for (int i = 0; i < 3; i++)
		mps_gwlimit_pending_drop(&l, a);
	ck_assert_uint_eq(mps_gwlimit_pending(&l, a), 0);
	mps_gwlimit_pending_drop(&l, a); /* a drop too many changes nothing */
	ck_assert_uint_eq(mps_gwlimit_pending(&l, b), 1);
	mps_gwlimit_free(&l);
	/* 0: no per-source limit */
	ck_assert_int_eq(mps_gwlimit_init(&l, 0, 100, 0, 0, 1, 42), 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(mps_gwlimit_pending_take(&l, a), 0);
	mps_gwlimit_free(&l);
}
END_TEST

START_TEST(test_table_full)
{
	struct mps_gwlimit l;
	uint8_t k[16];
	size_t n = 0;

	/* room for max_conns sources; then -ENOSPC, never a lost count */
	ck_assert_int_eq(mps_gwlimit_init(&l, 4, 8, 0, 0, 1, 7), 0);
	for (uint32_t i = 0; i < 64; i++) {
		memset(k, 0, 16);
		memcpy(k, &i, 4);
		if (mps_gwlimit_pending_take(&l, k) == 0)
			n++;
		else
			break;
	}
	ck_assert_uint_ge(n, 8);
	ck_assert_int_eq(mps_gwlimit_pending_take(&l, k), -ENOSPC);
	mps_gwlimit_free(&l);
	ck_assert_int_eq(mps_gwlimit_init(&l, 4, 0, 0, 0, 1, 7), -EINVAL);
	ck_assert_int_eq(mps_gwlimit_init(&l, 4, 8, 1, 0, 1, 7), -EINVAL);
}
END_TEST

/* Random takes and drops over few sources in a small table (long probe
 * runs, deletions in the middle of them) agree with plain counters. */
START_TEST(test_model)
{
	enum { NSRC = 40, PER = 5 };
	struct mps_gwlimit l;
	uint32_t model[NSRC] = {0};
	uint8_t k[16];
	unsigned seed = 12345;

	ck_assert_int_eq(mps_gwlimit_init(&l, PER, 24, 0, 0, 1, 99), 0);
	for (int step = 0; step < 200000; step++) {
		uint32_t s;
		int rc, used = 0;

		seed = seed * 1103515245u + 12345u;
		s = (seed >> 8) % NSRC;
		memset(k, 0, 16);
		k[0] = (uint8_t)s;
		k[15] = (uint8_t)(s * 7);
		for (int i = 0; i < NSRC; i++)
			used += model[i] > 0;
		if ((seed >> 20) & 1) {
			rc = mps_gwlimit_pending_take(&l, k);
			if (model[s] >= PER)
				ck_assert_int_eq(rc, -EBUSY);
			else if (model[s] == 0 && (size_t)used + 1 > l.src_cap / 2)
				ck_assert_int_eq(rc, -ENOSPC);
			else {
				ck_assert_int_eq(rc, 0);
				model[s]++;
			}
		} else {
			mps_gwlimit_pending_drop(&l, k);
			if (model[s])
				model[s]--;
		}
		ck_assert_uint_eq(mps_gwlimit_pending(&l, k), model[s]);
	}
	for (uint32_t s = 0; s < NSRC; s++) {
		memset(k, 0, 16);
		k[0] = (uint8_t)s;
		k[15] = (uint8_t)(s * 7);
		ck_assert_uint_eq(mps_gwlimit_pending(&l, k), model[s]);
	}
	mps_gwlimit_free(&l);
}
END_TEST

START_TEST(test_rate)
{
	struct mps_gwlimit l;

	/* 2 per second, bursts of 3 */
	ck_assert_int_eq(mps_gwlimit_init(&l, 0, 16, 2.0, 3.0, 2, 1), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(mps_gwlimit_rate_take(&l, "alice", 1000), 0);
	ck_assert_int_eq(mps_gwlimit_rate_take(&l, "alice", 1000), -EAGAIN);
	ck_assert_int_eq(mps_gwlimit_rate_take(&l, "alice", 1400), -EAGAIN);
	/* bob has his own bucket */
	ck_assert_int_eq(mps_gwlimit_rate_take(&l, "bob", 1400), 0);
	/* 500 ms: one token back (0.8 from 1000..1400 plus 0.2) */
	ck_assert_int_eq(mps_gwlimit_rate_take(&l, "alice", 1500), 0);
	ck_assert_int_eq(mps_gwlimit_rate_take(&l, "alice", 1500), -EAGAIN);
	/* a long pause refills the bucket to its size, no more */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(mps_gwlimit_rate_take(&l, "alice", 60000), 0);
	ck_assert_int_eq(mps_gwlimit_rate_take(&l, "alice", 60000), -EAGAIN);
	/* a clock that goes back takes no token away and gives none */
	ck_assert_int_eq(mps_gwlimit_rate_take(&l, "alice", 59000), -EAGAIN);
	mps_gwlimit_free(&l);
	/* rate 0: no limit */
	ck_assert_int_eq(mps_gwlimit_init(&l, 0, 16, 0, 0, 2, 1), 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(mps_gwlimit_rate_take(&l, "alice", 1000), 0);
	mps_gwlimit_free(&l);
}
END_TEST

static Suite *gwlimit_suite(void)
{
	Suite *s = suite_create("gwlimit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_source_key);
	tcase_add_test(tc, test_per_source);
	tcase_add_test(tc, test_table_full);
	tcase_add_test(tc, test_model);
	tcase_add_test(tc, test_rate);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gwlimit_suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
