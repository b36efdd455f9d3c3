/* check_epreg.c - the record of the app's epoll registrations
 * (include/mptcpshim/epreg.h): add, modify, delete, take, forget, the
 * oldest dropped when an fd is in more sets than kept, fds out of range,
 * and a randomized comparison with a simple model. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "mptcpshim/epreg.h"

static int take(int fd, struct mps_epreg *r)
{
	return mps_epreg_take(fd, r, MPS_EPREG_PER_FD);
}

START_TEST(test_add_mod_del)
{
	struct mps_epreg r[MPS_EPREG_PER_FD];

	ck_assert_int_eq(mps_epreg_any(10), 0);
	ck_assert_int_eq(take(10, r), 0);
	mps_epreg_note(5, EPOLL_CTL_ADD, 10, EPOLLIN, 0x1111);
	mps_epreg_note(6, EPOLL_CTL_ADD, 10, EPOLLOUT | EPOLLET, 0x2222);
	mps_epreg_note(5, EPOLL_CTL_MOD, 10, EPOLLIN | EPOLLOUT, 0x3333);
	ck_assert_int_eq(mps_epreg_any(10), 1);
	ck_assert_int_eq(mps_epreg_any(11), 0);
	ck_assert_int_eq(take(10, r), 2);
	ck_assert_int_eq(r[0].epfd, 5);
	ck_assert_uint_eq(r[0].events, EPOLLIN | EPOLLOUT);
	ck_assert_uint_eq(r[0].data, 0x3333);
	ck_assert_int_eq(r[1].epfd, 6);
	ck_assert_uint_eq(r[1].events, EPOLLOUT | EPOLLET);
	ck_assert_uint_eq(r[1].data, 0x2222);
	/* taken means forgotten */
	ck_assert_int_eq(mps_epreg_any(10), 0);
	ck_assert_int_eq(take(10, r), 0);

	mps_epreg_note(5, EPOLL_CTL_ADD, 10, EPOLLIN, 1);
	mps_epreg_note(6, EPOLL_CTL_ADD, 10, EPOLLIN, 2);
	mps_epreg_note(5, EPOLL_CTL_DEL, 10, 0, 0);
	mps_epreg_note(7, EPOLL_CTL_DEL, 10, 0, 0); /* never added: no effect */
	ck_assert_int_eq(take(10, r), 1);
	ck_assert_int_eq(r[0].epfd, 6);
	ck_assert_uint_eq(r[0].data, 2);
}
END_TEST

START_TEST(test_forget_full_range)
{
	struct mps_epreg r[MPS_EPREG_PER_FD];
	int i;

	mps_epreg_note(3, EPOLL_CTL_ADD, 20, EPOLLIN, 9);
	mps_epreg_forget(20);
	ck_assert_int_eq(mps_epreg_any(20), 0);
	/* one more set than kept: the oldest registration goes */
	for (i = 0; i <= MPS_EPREG_PER_FD; i++)
		mps_epreg_note(100 + i, EPOLL_CTL_ADD, 21, EPOLLIN, (uint64_t)i);
	ck_assert_int_eq(take(21, r), MPS_EPREG_PER_FD);
	for (i = 0; i < MPS_EPREG_PER_FD; i++) {
		ck_assert_int_eq(r[i].epfd, 101 + i);
		ck_assert_uint_eq(r[i].data, (uint64_t)(i + 1));
	}
	/* a smaller buffer gets the first ones; the rest are forgotten too */
	mps_epreg_note(1, EPOLL_CTL_ADD, 22, EPOLLIN, 1);
	mps_epreg_note(2, EPOLL_CTL_ADD, 22, EPOLLIN, 2);
	ck_assert_int_eq(mps_epreg_take(22, r, 1), 1);
	ck_assert_int_eq(r[0].epfd, 1);
	ck_assert_int_eq(mps_epreg_any(22), 0);
	/* out of range or negative fds are ignored, never a crash */
	mps_epreg_note(1, EPOLL_CTL_ADD, -1, EPOLLIN, 1);
	mps_epreg_note(1, EPOLL_CTL_ADD, 1 << 30, EPOLLIN, 1);
	ck_assert_int_eq(mps_epreg_any(-1), 0);
	ck_assert_int_eq(mps_epreg_any(1 << 30), 0);
	ck_assert_int_eq(take(1 << 30, r), 0);
	/* an fd in a far page */
	mps_epreg_note(4, EPOLL_CTL_ADD, 500000, EPOLLOUT, 77);
	ck_assert_int_eq(take(500000, r), 1);
	ck_assert_uint_eq(r[0].data, 77);
}
END_TEST

/* Model: per (fd, epfd) the latest events/data, in order of first add. */
#define MFD 8
#define MEP 6
START_TEST(test_model)
{
	struct {
		int on;
		unsigned seq;
		uint32_t ev;
		uint64_t data;
	} m[MFD][MEP] = {{{0}}};
	unsigned seq = 0;
	int step, fd, ep, i, n, k;
	struct mps_epreg r[MPS_EPREG_PER_FD];

	srand(12345);
	for (step = 0; step < 200000; step++) {
		fd = 1000 + rand() % MFD;
		ep = rand() % MEP;
		switch (rand() % 10) {
		case 0: /* take and compare */
			n = take(fd, r);
			k = 0;
			for (i = 0; i < MEP; i++)
				k += m[fd - 1000][i].on;
			ck_assert_int_eq(n, k);
			for (i = 0; i < n; i++) {
				int e = r[i].epfd - 50;

				ck_assert(e >= 0 && e < MEP && m[fd - 1000][e].on);
				ck_assert_uint_eq(r[i].events, m[fd - 1000][e].ev);
				ck_assert_uint_eq(r[i].data, m[fd - 1000][e].data);
				if (i > 0) /* in order of first add */
					ck_assert_uint_lt(m[fd - 1000][r[i - 1].epfd - 50].seq,
					                  m[fd - 1000][e].seq);
			}
			for (i = 0; i < MEP; i++)
				m[fd - 1000][i].on = 0;
			break;
		case 1:
			mps_epreg_forget(fd);
			for (i = 0; i < MEP; i++)
				m[fd - 1000][i].on = 0;
			break;
		case 2:
		case 3:
			mps_epreg_note(50 + ep, EPOLL_CTL_DEL, fd, 0, 0);
			m[fd - 1000][ep].on = 0;
			break;
		default: {
			uint32_t ev = (uint32_t)rand();
			uint64_t data = ((uint64_t)rand() << 32) | (uint64_t)rand();
			int op = m[fd - 1000][ep].on ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

			if (!m[fd - 1000][ep].on) {
				/* full: the model drops its oldest too */
				k = 0;
				for (i = 0; i < MEP; i++)
					k += m[fd - 1000][i].on;
				if (k == MPS_EPREG_PER_FD) {
					int old = -1;

					for (i = 0; i < MEP; i++)
						if (m[fd - 1000][i].on &&
						    (old < 0 ||
						     m[fd - 1000][i].seq < m[fd - 1000][old].seq))
							old = i;
					m[fd - 1000][old].on = 0;
				}
				m[fd - 1000][ep].on = 1;
				m[fd - 1000][ep].seq = ++seq;
			}
			m[fd - 1000][ep].ev = ev;
			m[fd - 1000][ep].data = data;
			mps_epreg_note(50 + ep, op, fd, ev, data);
			break;
		}
		}
		k = 0;
		for (i = 0; i < MEP; i++)
			k |= m[fd - 1000][i].on;
		ck_assert_int_eq(mps_epreg_any(fd) != 0, k);
	}
}
END_TEST

static Suite *epreg_suite(void)
{
	Suite *s = suite_create("epreg");
	TCase *tc = tcase_create("cases");

	tcase_add_test(tc, test_add_mod_del);
	tcase_add_test(tc, test_forget_full_range);
	tcase_add_test(tc, test_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(epreg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
