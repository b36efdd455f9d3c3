/* check_fdhigh.c - the shim's own descriptors are kept out of the range the
 * app allocates from (src/fdtab.c, mps_fd_high_many; docs/DESIGN.md,
 * "Descriptor numbers and limits").  Pipes stand in for sockets; each test
 * runs in its own forked process, so it may lower its limits. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mptcpshim/fdtab.h"
#include "mptcpshim/real.h"

static void limits(rlim_t soft, rlim_t hard)
{
	struct rlimit rl = {soft, hard};

	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

static int lowest_free(void)
{
	int fd = dup(0), lo;

	ck_assert_int_ge(fd, 0);
	lo = fd;
	close(fd);
	return lo;
}

/* Room above the soft limit: the copy lands there, the limit is as it
 * was, and the app's next number is the one it would have had. */
START_TEST(test_above_soft)
{
	struct rlimit rl;
	int p[2], lo, d, d2;

	mps_real_init();
	limits(64, 256);
	ck_assert_int_eq(pipe(p), 0);
	lo = lowest_free();
	d = mps_fd_high(p[0]);
	ck_assert_int_ge(d, 64);
	ck_assert_int_lt(d, 256);
	ck_assert_int_eq(fcntl(d, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_uint_eq(rl.rlim_cur, 64);
	ck_assert_uint_eq(rl.rlim_max, 256);
	ck_assert_int_eq(lowest_free(), lo);
	/* the app raises its limit later: our range moves with it */
	limits(128, 256);
	d2 = mps_fd_high(p[1]);
	ck_assert_int_ge(d2, 128);
	/* still usable above the limit: write one end, read the other */
	ck_assert_int_eq(write(d2, "x", 1), 1);
	{
		char c;

		ck_assert_int_eq(read(d, &c, 1), 1);
		ck_assert_int_eq(c, 'x');
	}
}
END_TEST

/* Soft = hard: free numbers near the top, never below half the limit;
 * when that half is full, no copy (-EMFILE), and the app's range is
 * intact. */
START_TEST(test_below_soft_half)
{
	int p[2], d, n = 0, lo;

	mps_real_init();
	limits(64, 64);
	ck_assert_int_eq(pipe(p), 0);
	lo = lowest_free();
	for (;;) {
		d = mps_fd_high(p[0]);
		if (d < 0)
			break;
		ck_assert_int_ge(d, 32);
		ck_assert_int_lt(d, 64);
		if (n == 0)
			ck_assert_int_eq(d, 63); /* the first at the top */
		n++;
	}
	ck_assert_int_eq(d, -EMFILE);
	ck_assert_int_eq(n, 32);
	ck_assert_int_eq(lowest_free(), lo);
	/* a hole we leave is the first taken again */
	close(40);
	ck_assert_int_eq(mps_fd_high(p[0]), 40);
}
END_TEST

/* Several at once: all or nothing. */
START_TEST(test_many_all_or_nothing)
{
	int p[2], in[3], out[3], i, lo;

	mps_real_init();
	limits(40, 40); /* our half: 20..39 */
	ck_assert_int_eq(pipe(p), 0);
	for (i = 20; i < 38; i++)
		ck_assert_int_eq(dup2(p[0], i), i); /* the app holds 18 of them */
	lo = lowest_free();
	in[0] = in[1] = in[2] = p[1];
	ck_assert_int_eq(mps_fd_high_many(in, out, 3), -EMFILE);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(out[i], -1);
	ck_assert_int_eq(fcntl(38, F_GETFD), -1); /* none left behind */
	ck_assert_int_eq(fcntl(39, F_GETFD), -1);
	ck_assert_int_eq(lowest_free(), lo);
	ck_assert_int_eq(mps_fd_high_many(in, out, 2), 0);
	ck_assert_int_eq(out[0] + out[1], 38 + 39);
}
END_TEST

/* mps_ifd_take: moved and registered, or (must) kept where it is. */
START_TEST(test_ifd_take)
{
	int p[2], d, lo;

	mps_real_init();
	limits(64, 64);
	ck_assert_int_eq(pipe(p), 0);
	lo = p[0];
	d = mps_ifd_take(p[0], 0);
	ck_assert_int_ge(d, 32);
	ck_assert(mps_ifd_is(d));
	ck_assert_int_eq(fcntl(lo, F_GETFD), -1); /* the original is closed */
	/* no room: our half is 8..15, taken by the app */
	limits(16, 16);
	for (d = 8; d < 16; d++)
		if (fcntl(d, F_GETFD) < 0)
			ck_assert_int_eq(dup2(p[1], d), d);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(mps_ifd_take(p[0], 1), p[0]);
	ck_assert(mps_ifd_is(p[0]));
	ck_assert_int_eq(mps_ifd_take(p[1], 0), -EMFILE);
	ck_assert_int_eq(fcntl(p[1], F_GETFD), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fdhigh");
	TCase *tc = tcase_create("cases");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_above_soft);
	tcase_add_test(tc, test_below_soft_half);
	tcase_add_test(tc, test_many_all_or_nothing);
	tcase_add_test(tc, test_ifd_take);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
