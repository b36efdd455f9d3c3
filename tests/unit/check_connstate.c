/* check_connstate.c - a connection's state (src/conn_int.h): the DATA_FIN
 * facts survive the round trip through the enum, transitions go through
 * mps_conn_set_state only, and CLOSED is final. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "conn_int.h"

static struct mps_conn *new_conn(void)
{
	struct mps_conn *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	strcpy(c->peer_str, "test");
	return c;
}

/* Every combination of the three facts that can happen (ACKed implies
 * sent) maps to a state that gives the same three facts back. */
START_TEST(test_facts_round_trip)
{
	struct mps_conn *c = new_conn();
	int ours, acked, theirs, seen[MPS_CONN_CLOSED + 1] = {0};

	for (ours = 0; ours < 2; ours++)
		for (acked = 0; acked <= ours; acked++)
			for (theirs = 0; theirs < 2; theirs++) {
				enum mps_conn_state s = mps_conn_state_with(ours, acked, theirs);

				ck_assert_int_lt(s, MPS_CONN_CLOSED);
				seen[s]++;
				c->state = MPS_CONN_ESTABLISHED;
				mps_conn_set_state(c, s);
				ck_assert_int_eq(c->state, s);
				ck_assert_int_eq(mps_conn_fin_sent(c), ours);
				ck_assert_int_eq(mps_conn_fin_acked(c), acked);
				ck_assert_int_eq(mps_conn_rcv_fin(c), theirs);
				ck_assert(!mps_conn_closed(c));
			}
	/* six combinations, six distinct states: none is lost */
	for (ours = 0; ours < MPS_CONN_CLOSED; ours++)
		ck_assert_int_eq(seen[ours], 1);
	free(c);
}
END_TEST

/* The TCP names, in the order of a close started by us. */
START_TEST(test_active_close)
{
	struct mps_conn *c = new_conn();

	ck_assert_int_eq(c->state, MPS_CONN_ESTABLISHED); /* calloc'd: where a connection starts */
	mps_conn_set_state(c, mps_conn_state_with(1, 0, 0));
	ck_assert_str_eq(mps_conn_state_name(c->state), "FIN_WAIT1");
	mps_conn_set_state(c, mps_conn_state_with(1, 1, 0));
	ck_assert_str_eq(mps_conn_state_name(c->state), "FIN_WAIT2");
	mps_conn_set_state(c, mps_conn_state_with(1, 1, 1));
	ck_assert_str_eq(mps_conn_state_name(c->state), "TIME_WAIT");
	mps_conn_set_state(c, MPS_CONN_CLOSED);
	ck_assert_str_eq(mps_conn_state_name(c->state), "CLOSED");
	free(c);
}
END_TEST

START_TEST(test_passive_close)
{
	struct mps_conn *c = new_conn();

	mps_conn_set_state(c, mps_conn_state_with(0, 0, 1));
	ck_assert_str_eq(mps_conn_state_name(c->state), "CLOSE_WAIT");
	mps_conn_set_state(c, mps_conn_state_with(1, 0, 1));
	ck_assert_str_eq(mps_conn_state_name(c->state), "LAST_ACK");
	mps_conn_set_state(c, mps_conn_state_with(1, 1, 1));
	ck_assert_str_eq(mps_conn_state_name(c->state), "TIME_WAIT");
	free(c);
}
END_TEST

/* An aborted connection stays CLOSED whatever code up the stack does. */
START_TEST(test_closed_is_final)
{
	struct mps_conn *c = new_conn();

	mps_conn_set_state(c, mps_conn_state_with(1, 0, 0));
	mps_conn_set_state(c, MPS_CONN_CLOSED);
	ck_assert(mps_conn_closed(c));
	mps_conn_set_state(c, mps_conn_state_with(1, 1, 0));
	mps_conn_set_state(c, MPS_CONN_ESTABLISHED);
	ck_assert(mps_conn_closed(c));
	ck_assert(!mps_conn_fin_sent(c) && !mps_conn_fin_acked(c) && !mps_conn_rcv_fin(c));
	free(c);
}
END_TEST

START_TEST(test_names)
{
	int s, t;

	for (s = 0; s <= MPS_CONN_CLOSED; s++) {
		ck_assert_str_ne(mps_conn_state_name((enum mps_conn_state)s), "?");
		for (t = 0; t < s; t++)
			ck_assert_str_ne(mps_conn_state_name((enum mps_conn_state)s),
			                 mps_conn_state_name((enum mps_conn_state)t));
	}
	ck_assert_str_eq(mps_conn_state_name((enum mps_conn_state)(MPS_CONN_CLOSED + 1)), "?");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("connstate");
	TCase *tc = tcase_create("state");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_facts_round_trip);
	tcase_add_test(tc, test_active_close);
	tcase_add_test(tc, test_passive_close);
	tcase_add_test(tc, test_closed_is_final);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
