/* check_defacc.c - TCP_DEFER_ACCEPT learnt per listener
 * (include/mptcpshim/defacc.h): the option goes on after MPS_DEFACC_MIN
 * accepts that found the client's bytes waiting, never where the port
 * showed a banner, off again at the first banner after, never on a
 * listener that carries the app's own value; the listener table (first
 * look once, forgetting at close, the app's own setsockopt). */
#include <check.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "mptcpshim/defacc.h"

/* A banner seen on port (the engine's evidence, on an IPv4 address). */
static void banner(uint16_t port, mps_defacc_apply_fn apply)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	mps_defacc_seen((struct sockaddr *)&a, 0, apply);
}

START_TEST(test_client_first)
{
	struct mps_defacc d;
	int i;

	mps_defacc_init(&d, 0, 8080);
	/* accepts with nothing waiting are no evidence either way */
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(mps_defacc_accept(&d, 0), MPS_DA_NOTHING);
	for (i = 0; i < MPS_DEFACC_MIN - 1; i++)
		ck_assert_int_eq(mps_defacc_accept(&d, 1), MPS_DA_NOTHING);
	ck_assert_int_eq(mps_defacc_accept(&d, 1), MPS_DA_SET);
	ck_assert_int_eq(d.state, MPS_DA_ON);
	/* once: on stays on */
	ck_assert_int_eq(mps_defacc_accept(&d, 1), MPS_DA_NOTHING);
	ck_assert_int_eq(mps_defacc_accept(&d, 0), MPS_DA_NOTHING);
	/* a banner on its port: off, for good */
	banner(8080, NULL);
	ck_assert_int_eq(mps_defacc_accept(&d, 1), MPS_DA_CLEAR);
	ck_assert_int_eq(d.state, MPS_DA_NEVER);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(mps_defacc_accept(&d, 1), MPS_DA_NOTHING);
}
END_TEST

START_TEST(test_banner_first)
{
	struct mps_defacc d;
	int i;

	banner(2121, NULL);
	ck_assert(mps_defacc_banner_seen(2121));
	ck_assert(!mps_defacc_banner_seen(2122));
	ck_assert(!mps_defacc_banner_seen(2120));
	mps_defacc_init(&d, 0, 2121);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(mps_defacc_accept(&d, 1), MPS_DA_NOTHING);
	ck_assert_int_eq(d.state, MPS_DA_NEVER);
	/* the top and bottom ports of the bitmap */
	banner(65535, NULL);
	banner(0, NULL);
	ck_assert(mps_defacc_banner_seen(65535) && mps_defacc_banner_seen(0));
	ck_assert(!mps_defacc_banner_seen(65534) && !mps_defacc_banner_seen(1));
}
END_TEST

START_TEST(test_app_value)
{
	struct mps_defacc d;
	int i;

	mps_defacc_init(&d, 30, 8081); /* nginx `listen ... deferred` */
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(mps_defacc_accept(&d, 1), MPS_DA_NOTHING);
	mps_defacc_init(&d, 0, 8081);
	mps_defacc_app_set(&d);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(mps_defacc_accept(&d, 1), MPS_DA_NOTHING);
}
END_TEST

static int g_looks;
static int g_look_app;

static int look(int lfd, int *app_value, uint16_t *port)
{
	g_looks++;
	*app_value = g_look_app;
	*port = (uint16_t)(9000 + lfd);
	return 0;
}

static int look_fails(int lfd, int *app_value, uint16_t *port)
{
	(void)lfd;
	(void)app_value;
	(void)port;
	g_looks++;
	return -1;
}

/* MPS_DEFACC_MIN accepts with bytes waiting on fd: the action of the last */
static enum mps_defacc_action feed(int fd, mps_defacc_look_fn f)
{
	enum mps_defacc_action a = MPS_DA_NOTHING;
	int i;

	for (i = 0; i < MPS_DEFACC_MIN; i++)
		a = mps_defacc_on_accept(fd, 1, f);
	return a;
}

START_TEST(test_table)
{
	g_looks = 0;
	g_look_app = 0;
	ck_assert(!mps_defacc_ours(7));
	ck_assert_int_eq(feed(7, look), MPS_DA_SET);
	ck_assert_int_eq(g_looks, 1); /* looked at once */
	ck_assert(mps_defacc_ours(7));
	ck_assert(!mps_defacc_ours(8));
	/* closed: forgotten; a new listener on the number starts over */
	mps_defacc_gone(7);
	ck_assert(!mps_defacc_ours(7));
	ck_assert_int_eq(feed(7, look), MPS_DA_SET);
	ck_assert_int_eq(g_looks, 2);
	/* the caller's setsockopt failed: left alone */
	mps_defacc_failed(7);
	ck_assert(!mps_defacc_ours(7));
	ck_assert_int_eq(feed(7, look), MPS_DA_NOTHING);
	mps_defacc_gone(7);
	/* the app sets the option itself, before or after: hands off */
	mps_defacc_app_sets(11);
	ck_assert_int_eq(feed(11, look), MPS_DA_NOTHING);
	ck_assert_int_eq(feed(12, look), MPS_DA_SET);
	mps_defacc_app_sets(12);
	ck_assert(!mps_defacc_ours(12));
	/* the listener already carries a value: the app's */
	g_look_app = 5;
	ck_assert_int_eq(feed(13, look), MPS_DA_NOTHING);
	/* a listener whose first look fails: left alone, looked at once */
	g_looks = 0;
	ck_assert_int_eq(feed(14, look_fails), MPS_DA_NOTHING);
	ck_assert_int_eq(g_looks, 1);
	/* close_range / closefrom forget every listener in the range */
	g_look_app = 0;
	ck_assert_int_eq(feed(40, look), MPS_DA_SET);
	ck_assert_int_eq(feed(41, look), MPS_DA_SET);
	ck_assert_int_eq(feed(50, look), MPS_DA_SET);
	mps_defacc_gone_range(40, 45);
	ck_assert(!mps_defacc_ours(40) && !mps_defacc_ours(41) && mps_defacc_ours(50));
	mps_defacc_gone_range(45, ~0u);
	ck_assert(!mps_defacc_ours(50));
	ck_assert_int_eq(feed(40, look), MPS_DA_SET); /* a new listener there starts over */
	mps_defacc_gone(40);
	/* numbers out of the table's range are left alone */
	ck_assert_int_eq(feed(70000, look), MPS_DA_NOTHING);
	ck_assert_int_eq(feed(-1, look), MPS_DA_NOTHING);
	mps_defacc_gone(70000);
	mps_defacc_gone(-1);
	mps_defacc_gone(11);
	mps_defacc_gone(12);
	mps_defacc_gone(13);
	mps_defacc_gone(14);
}
END_TEST

static int g_cleared[4], g_ncleared, g_set[4], g_nset;

static int clear(int lfd, int on)
{
	if (on) {
		if (g_nset < 4)
			g_set[g_nset] = lfd;
		g_nset++;
		return 0;
	}
	if (g_ncleared < 4)
		g_cleared[g_ncleared] = lfd;
	g_ncleared++;
	return 0;
}

static struct sockaddr_in sin_port(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	return a;
}

/* The engine's evidence: an idle server accepts before any byte arrives,
 * so its plain clients that spoke first are seen by the engine, per port;
 * the option goes on at once on that port's listeners, off at a banner. */
START_TEST(test_engine_evidence)
{
	struct sockaddr_in a = sin_port(9030), b = sin_port(9031);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(9032)};
	int i;

	g_look_app = 0;
	g_nset = g_ncleared = 0;
	ck_assert_int_eq(mps_defacc_on_accept(30, 0, look), MPS_DA_NOTHING); /* port 9030 */
	ck_assert_int_eq(mps_defacc_on_accept(31, 0, look), MPS_DA_NOTHING); /* port 9031 */
	ck_assert_int_eq(mps_defacc_on_accept(32, 0, look), MPS_DA_NOTHING); /* port 9032 */
	for (i = 0; i < MPS_DEFACC_MIN - 1; i++)
		mps_defacc_seen((struct sockaddr *)&a, 1, clear);
	ck_assert_int_eq(g_nset, 0);
	mps_defacc_seen((struct sockaddr *)&b, 1, clear); /* another port counts apart */
	mps_defacc_seen((struct sockaddr *)&a, 1, clear);
	ck_assert_int_eq(g_nset, 1);
	ck_assert_int_eq(g_set[0], 30);
	ck_assert(mps_defacc_ours(30));
	ck_assert(!mps_defacc_ours(31));
	mps_defacc_seen((struct sockaddr *)&a, 1, clear); /* set once */
	ck_assert_int_eq(g_nset, 1);
	/* mixed evidence: the fast path's and the engine's add up */
	for (i = 0; i < MPS_DEFACC_MIN - 2; i++)
		mps_defacc_seen((struct sockaddr *)&b, 1, clear);
	ck_assert_int_eq(mps_defacc_on_accept(31, 1, look), MPS_DA_SET);
	/* IPv6 too; a banner there first: never */
	mps_defacc_seen((struct sockaddr *)&a6, 0, clear);
	for (i = 0; i < 2 * MPS_DEFACC_MIN; i++)
		mps_defacc_seen((struct sockaddr *)&a6, 1, clear);
	ck_assert(!mps_defacc_ours(32));
	/* a banner on 9030: off at once */
	mps_defacc_seen((struct sockaddr *)&a, 0, clear);
	ck_assert_int_eq(g_ncleared, 1);
	ck_assert_int_eq(g_cleared[0], 30);
	ck_assert(!mps_defacc_ours(30));
	mps_defacc_gone(30);
	mps_defacc_gone(31);
	mps_defacc_gone(32);
}
END_TEST

/* A banner on a port clears our option on its listeners at once (not at
 * their next accept: the client after the one that waited would wait too) */
START_TEST(test_banner_clears)
{
	g_look_app = 0;
	g_ncleared = 0;
	ck_assert_int_eq(feed(20, look), MPS_DA_SET); /* port 9020 */
	ck_assert_int_eq(feed(21, look), MPS_DA_SET); /* port 9021 */
	banner(9020, clear);
	ck_assert_int_eq(g_ncleared, 1);
	ck_assert_int_eq(g_cleared[0], 20);
	ck_assert(!mps_defacc_ours(20));
	ck_assert(mps_defacc_ours(21));
	ck_assert_int_eq(feed(20, look), MPS_DA_NOTHING); /* for good */
	banner(9020, clear);                              /* nothing more to clear */
	ck_assert_int_eq(g_ncleared, 1);
	mps_defacc_gone(20);
	mps_defacc_gone(21);
}
END_TEST

static int apply_fails(int lfd, int on)
{
	(void)lfd;
	(void)on;
	return -1;
}

/* The engine's setsockopt failed: that listener is left alone after. */
START_TEST(test_apply_fails)
{
	struct sockaddr_in a = sin_port(9060);
	int i;

	g_look_app = 0;
	ck_assert_int_eq(mps_defacc_on_accept(60, 0, look), MPS_DA_NOTHING); /* port 9060 */
	for (i = 0; i < MPS_DEFACC_MIN; i++)
		mps_defacc_seen((struct sockaddr *)&a, 1, apply_fails);
	ck_assert(!mps_defacc_ours(60));
	ck_assert_int_eq(feed(60, look), MPS_DA_NOTHING);
	mps_defacc_gone(60);
}
END_TEST

START_TEST(test_table_full)
{
	int i;

	g_look_app = 0;
	for (i = 100; i < 100 + MPS_DEFACC_MAX; i++)
		ck_assert_int_eq(feed(i, look), MPS_DA_SET);
	/* no room: left alone, nothing breaks */
	ck_assert_int_eq(feed(100 + MPS_DEFACC_MAX, look), MPS_DA_NOTHING);
	ck_assert(!mps_defacc_ours(100 + MPS_DEFACC_MAX));
	mps_defacc_gone(100);
	ck_assert_int_eq(feed(100 + MPS_DEFACC_MAX, look), MPS_DA_SET);
	for (i = 101; i <= 100 + MPS_DEFACC_MAX; i++)
		mps_defacc_gone(i);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("defacc");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_client_first);
	tcase_add_test(tc, test_banner_first);
	tcase_add_test(tc, test_app_value);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_banner_clears);
	tcase_add_test(tc, test_engine_evidence);
	tcase_add_test(tc, test_apply_fails);
	tcase_add_test(tc, test_table_full);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
