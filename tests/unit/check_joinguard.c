/* check_joinguard.c - the admission policy for unverified joins. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/joinguard.h"

static struct mps_jg_src v4(const char *a)
{
	struct sockaddr_in in;
	struct mps_jg_src s;

	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, a, &in.sin_addr), 1);
	ck_assert_int_eq(mps_jg_src_of((struct sockaddr *)&in, &s), 0);
	return s;
}

static struct mps_jg_src v6(const char *a)
{
	struct sockaddr_in6 in6;
	struct mps_jg_src s;

	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, a, &in6.sin6_addr), 1);
	ck_assert_int_eq(mps_jg_src_of((struct sockaddr *)&in6, &s), 0);
	return s;
}

static struct mps_jg_slot slot(struct mps_jg_src s, uint64_t seq, int verified)
{
	struct mps_jg_slot x = {.src = s, .seq = seq, .verified = (uint8_t)verified};

	return x;
}

START_TEST(test_jg_src)
{
	struct sockaddr_un_like {
		sa_family_t f;
		char d[30];
	} other = {.f = AF_UNIX};
	struct mps_jg_src a = v4("198.18.0.1"), b = v4("198.18.0.2"), m = v6("::ffff:198.18.0.1"),
	                  p = v6("2001:db8:1:2::1"), q = v6("2001:db8:1:2:ffff::9"),
	                  r = v6("2001:db8:1:3::1"), z;

	ck_assert(mps_jg_same_src(&a, &a));
	ck_assert(!mps_jg_same_src(&a, &b));
	ck_assert(mps_jg_same_src(&a, &m)); /* v4-mapped is the IPv4 source */
	ck_assert(mps_jg_same_src(&p, &q)); /* same /64 */
	ck_assert(!mps_jg_same_src(&p, &r));
	ck_assert(!mps_jg_same_src(&a, &p));
	ck_assert_int_eq(mps_jg_src_of((struct sockaddr *)&other, &z), -EAFNOSUPPORT);
	ck_assert_int_eq(z.family, 0);
}
END_TEST

START_TEST(test_jg_admit_with_room)
{
	struct mps_jg_src a = v4("198.18.0.1"), b = v4("198.18.0.2");
	struct mps_jg_slot s[3] = {slot(a, 1, 0), slot(a, 2, 0), slot(b, 3, 0)};

	ck_assert_int_eq(mps_jg_victim(s, 0, &a, 4, 3), MPS_JG_ADMIT);
	ck_assert_int_eq(mps_jg_victim(s, 3, &a, 4, 3), MPS_JG_ADMIT);
	ck_assert_int_eq(mps_jg_victim(s, 3, &b, 4, 3), MPS_JG_ADMIT);
}
END_TEST

START_TEST(test_jg_per_source)
{
	struct mps_jg_src a = v4("198.18.0.1"), b = v4("198.18.0.2");
	/* a holds its limit (3): its own oldest unverified goes, though
	 * there is room in all, and b's older join stays */
	struct mps_jg_slot s[4] = {slot(b, 1, 0), slot(a, 5, 0), slot(a, 3, 0), slot(a, 4, 0)};

	ck_assert_int_eq(mps_jg_victim(s, 4, &a, 100, 3), 2);
	/* a verified join does not count against its source */
	s[2].verified = 1;
	ck_assert_int_eq(mps_jg_victim(s, 4, &a, 100, 3), MPS_JG_ADMIT);
	/* b is under its limit */
	ck_assert_int_eq(mps_jg_victim(s, 4, &b, 100, 3), MPS_JG_ADMIT);
	/* a fourth unverified one: the oldest unverified goes, never the
	 * verified one, older though it is */
	struct mps_jg_slot t[5] = {slot(b, 1, 0), slot(a, 5, 0), slot(a, 3, 1), slot(a, 4, 0),
	                           slot(a, 6, 0)};
	ck_assert_int_eq(mps_jg_victim(t, 5, &a, 100, 3), 3);
}
END_TEST

START_TEST(test_jg_busy_client_host)
{
	/* One client host opening 48 connections at once: their joins,
	 * verified as their JOINs come, never evict each other. */
	struct mps_jg_src a = v4("198.18.0.1");
	struct mps_jg_slot s[64];
	size_t n;

	for (n = 0; n < 48; n++) {
		ck_assert_int_eq(mps_jg_victim(s, n, &a, MPS_JG_MAX, MPS_JG_PER_SRC), MPS_JG_ADMIT);
		s[n] = slot(a, n, 0);
		s[n].verified = 1; /* its JOIN came */
	}
}
END_TEST

START_TEST(test_jg_full_biggest_pays)
{
	struct mps_jg_src a = v4("198.18.0.1"), b = v4("198.18.0.2"), c = v4("198.18.0.3"),
	                  d = v4("198.18.0.4");
	/* full (5): a flooding source holds 3, b and c one each, older */
	struct mps_jg_slot s[5] = {slot(b, 1, 0), slot(c, 2, 0), slot(a, 4, 0), slot(a, 3, 0),
	                           slot(a, 5, 0)};

	/* a newcomer from anywhere evicts a's oldest, never b or c */
	ck_assert_int_eq(mps_jg_victim(s, 5, &d, 5, 4), 3);
	ck_assert_int_eq(mps_jg_victim(s, 5, &b, 5, 4), 3);
	ck_assert_int_eq(mps_jg_victim(s, 5, &a, 5, 4), 3);
}
END_TEST

START_TEST(test_jg_full_tie_oldest)
{
	struct mps_jg_src a = v4("198.18.0.1"), b = v4("198.18.0.2"), c = v4("198.18.0.3");
	struct mps_jg_slot s[4] = {slot(a, 7, 0), slot(b, 2, 0), slot(b, 9, 0), slot(a, 8, 0)};

	/* a and b hold two each: b holds the oldest (2) */
	ck_assert_int_eq(mps_jg_victim(s, 4, &c, 4, 4), 1);
}
END_TEST

START_TEST(test_jg_full_verified_spared)
{
	struct mps_jg_src a = v4("198.18.0.1"), b = v4("198.18.0.2"), c = v4("198.18.0.3");
	/* a holds the most, but all verified: b's unverified join goes */
	struct mps_jg_slot s[4] = {slot(a, 1, 1), slot(a, 2, 1), slot(a, 3, 1), slot(b, 4, 0)};

	ck_assert_int_eq(mps_jg_victim(s, 4, &c, 4, 4), 3);
	/* nothing unverified left: the oldest overall */
	s[3].verified = 1;
	ck_assert_int_eq(mps_jg_victim(s, 4, &c, 4, 4), 0);
}
END_TEST

START_TEST(test_jg_flood_never_evicts_other_source)
{
	/* Simulate a single-source flood of 1000 against a full table
	 * holding one legitimate join from elsewhere: it is never chosen. */
	struct mps_jg_src atk = v4("198.18.0.9"), ok = v4("198.18.0.2");
	struct mps_jg_slot s[MPS_JG_MAX];
	size_t n = 0;
	uint64_t seq = 0;
	int i, v;

	s[n++] = slot(ok, seq++, 0);
	for (i = 0; i < 1000; i++) {
		v = mps_jg_victim(s, n, &atk, MPS_JG_MAX, MPS_JG_PER_SRC);
		if (v != MPS_JG_ADMIT) {
			ck_assert(mps_jg_same_src(&s[v].src, &atk));
			s[v] = s[--n];
		}
		s[n++] = slot(atk, seq++, 0);
		ck_assert_uint_le(n, MPS_JG_PER_SRC + 1);
	}
	ck_assert(mps_jg_same_src(&s[0].src, &ok));
}
END_TEST

START_TEST(test_jg_first_timeout)
{
	ck_assert_uint_eq(mps_jg_first_timeout_us(0), MPS_JG_FIRST_MIN_US);
	ck_assert_uint_eq(mps_jg_first_timeout_us(50), MPS_JG_FIRST_MIN_US);
	ck_assert_uint_eq(mps_jg_first_timeout_us(400000), 1600000u);
	ck_assert_uint_eq(mps_jg_first_timeout_us(5000000), MPS_JG_FIRST_MAX_US);
	ck_assert_uint_eq(mps_jg_first_timeout_us(UINT32_MAX), MPS_JG_FIRST_MAX_US);
}
END_TEST

static Suite *jg_suite(void)
{
	Suite *s = suite_create("joinguard");
	TCase *tc = tcase_create("policy");

	tcase_add_test(tc, test_jg_src);
	tcase_add_test(tc, test_jg_admit_with_room);
	tcase_add_test(tc, test_jg_per_source);
	tcase_add_test(tc, test_jg_busy_client_host);
	tcase_add_test(tc, test_jg_full_biggest_pays);
	tcase_add_test(tc, test_jg_full_tie_oldest);
	tcase_add_test(tc, test_jg_full_verified_spared);
	tcase_add_test(tc, test_jg_flood_never_evicts_other_source);
	tcase_add_test(tc, test_jg_first_timeout);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(jg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
