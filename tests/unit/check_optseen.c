/* check_optseen.c - which options a TCP socket may carry
 * (include/mptcpshim/optseen.h): sockets by number and cookie, what makes
 * them read everything (unknown numbers, other cookies, dups, forks), and
 * listeners (known TCP, then their accepted sockets' options, expiry,
 * forgetting). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "mptcpshim/optseen.h"

START_TEST(test_socket_bits)
{
	uint32_t b = 123;

	/* never seen: read everything */
	ck_assert_int_eq(mps_optseen_lookup(5, 77, &b), 0);
	mps_optseen_socket(5, 77);
	ck_assert_int_eq(mps_optseen_lookup(5, 77, &b), 1);
	ck_assert_uint_eq(b, 0);
	mps_optseen_set(5, 0x4);
	mps_optseen_set(5, 0x10);
	mps_optseen_set(6, 0x1); /* another number: not ours */
	ck_assert_int_eq(mps_optseen_lookup(5, 77, &b), 1);
	ck_assert_uint_eq(b, 0x14);
	/* the number now names another socket (changed hands unseen) */
	ck_assert_int_eq(mps_optseen_lookup(5, 78, &b), 0);
	ck_assert_int_eq(mps_optseen_lookup(5, 0, &b), 0);
	/* a new socket on the number starts empty */
	mps_optseen_socket(5, 79);
	ck_assert_int_eq(mps_optseen_lookup(5, 79, &b), 1);
	ck_assert_uint_eq(b, 0);
	mps_optseen_gone(5);
	ck_assert_int_eq(mps_optseen_lookup(5, 79, &b), 0);
}
END_TEST

START_TEST(test_range)
{
	uint32_t b;

	mps_optseen_socket(-1, 1);
	ck_assert_int_eq(mps_optseen_lookup(-1, 1, &b), 0);
	mps_optseen_socket(1 << 20, 1); /* beyond the table: read everything */
	ck_assert_int_eq(mps_optseen_lookup(1 << 20, 1, &b), 0);
	mps_optseen_socket(65535, 9);
	ck_assert_int_eq(mps_optseen_lookup(65535, 9, &b), 1);
	mps_optseen_socket(0, 8);
	ck_assert_int_eq(mps_optseen_lookup(0, 8, &b), 1);
}
END_TEST

START_TEST(test_dup_fork)
{
	uint32_t b;

	mps_optseen_socket(7, 70);
	mps_optseen_socket(8, 80);
	mps_optseen_shared(7); /* options may now be set through the copy */
	ck_assert_int_eq(mps_optseen_lookup(7, 70, &b), 1);
	ck_assert_uint_eq(b, MPS_OPTSEEN_ALL);
	ck_assert_int_eq(mps_optseen_lookup(8, 80, &b), 1);
	ck_assert_uint_eq(b, 0);
	mps_optseen_forked(); /* the other process may set them */
	ck_assert_int_eq(mps_optseen_lookup(8, 80, &b), 0);
	mps_optseen_socket(8, 81); /* made after the fork: known */
	ck_assert_int_eq(mps_optseen_lookup(8, 81, &b), 1);
	ck_assert_uint_eq(b, 0);
}
END_TEST

START_TEST(test_listener)
{
	uint32_t b = 0;
	uint64_t t = 1000000;

	ck_assert_int_eq(mps_optseen_listener(3, t, &b), 0);
	mps_optseen_listener_note(3, t, 0, 0);
	ck_assert_int_eq(mps_optseen_listener(3, t + 1, &b), 1);
	/* a full read adds the bits, not a later deadline */
	mps_optseen_listener_note(3, t + 500000, 1, 0x21);
	ck_assert_int_eq(mps_optseen_listener(3, t + 600000, &b), 2);
	ck_assert_uint_eq(b, 0x21);
	ck_assert_int_eq(mps_optseen_listener(3, t + MPS_OPTSEEN_LISTENER_US, &b), 0);
	/* expired: a new entry */
	mps_optseen_listener_note(3, t + 2000000, 1, 0);
	ck_assert_int_eq(mps_optseen_listener(3, t + 2000001, &b), 2);
	ck_assert_uint_eq(b, 0);
	/* the app sets an option on it, closes it, or forks: read again */
	mps_optseen_set(3, 0);
	ck_assert_int_eq(mps_optseen_listener(3, t + 2000002, &b), 0);
	mps_optseen_listener_note(3, t + 2000003, 1, 0);
	mps_optseen_gone(3);
	ck_assert_int_eq(mps_optseen_listener(3, t + 2000004, &b), 0);
	mps_optseen_listener_note(3, t + 2000005, 1, 0);
	mps_optseen_socket(3, 5); /* the number is a new socket */
	ck_assert_int_eq(mps_optseen_listener(3, t + 2000006, &b), 0);
	mps_optseen_listener_note(3, t + 2000007, 1, 0);
	mps_optseen_forked();
	ck_assert_int_eq(mps_optseen_listener(3, t + 2000008, &b), 0);
}
END_TEST

START_TEST(test_listener_many)
{
	uint32_t b;
	int i;

	/* more listeners than slots: the soonest to expire makes room, the
	 * others stay known */
	for (i = 0; i < 40; i++)
		mps_optseen_listener_note(100 + i, 1000 + (uint64_t)i, 1, (uint32_t)i);
	for (i = 0; i < 24; i++)
		ck_assert_int_eq(mps_optseen_listener(100 + i, 1040, &b), 0);
	for (i = 24; i < 40; i++) {
		ck_assert_int_eq(mps_optseen_listener(100 + i, 1040, &b), 2);
		ck_assert_uint_eq(b, (uint32_t)i);
	}
	mps_optseen_listener_note(-1, 1, 1, 0);
	ck_assert_int_eq(mps_optseen_listener(-1, 2, &b), 0);
}
END_TEST

static Suite *optseen_suite(void)
{
	Suite *s = suite_create("optseen");
	TCase *tc = tcase_create("cases");

	tcase_add_test(tc, test_socket_bits);
	tcase_add_test(tc, test_range);
	tcase_add_test(tc, test_dup_fork);
	tcase_add_test(tc, test_listener);
	tcase_add_test(tc, test_listener_many);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(optseen_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
