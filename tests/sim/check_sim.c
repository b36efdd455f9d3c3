/* check_sim.c - the connection engine over the simulated network
 * (simnet.h): two engines in one process, seeded and deterministic, no
 * root.  Every failure names the seed; SIM_SEED=N replays one. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simnet.h"

static uint64_t test_seed(uint64_t dflt)
{
	const char *e = getenv("SIM_SEED");

	return e && *e ? strtoull(e, NULL, 0) : dflt;
}

/* Every assertion names the seed, so a failure can be replayed. */
#define SIM_ASSERT(cond, ...)                                                     \
	do {                                                                      \
		if (!(cond)) {                                                    \
			char m_[256];                                             \
			snprintf(m_, sizeof(m_), __VA_ARGS__);                    \
			ck_abort_msg("seed %llu (replay: SIM_SEED=%llu): %s: %s", \
			             (unsigned long long)sim_seed(),              \
			             (unsigned long long)sim_seed(), #cond, m_);  \
		}                                                                 \
	} while (0)

static void setup_env(void)
{
	setenv("MPTCPSHIM_ADVERTISE", "none", 1);
	setenv("MPTCPSHIM_JOIN_DELAY", "0", 1);
	if (!getenv("MPTCPSHIM_LOG"))
		setenv("MPTCPSHIM_LOG", "warn", 1);
}

struct world {
	struct sim_app cli, srv;
};

static void start(struct world *w, uint64_t seed, uint64_t up, uint64_t down)
{
	setup_env();
	sim_init(seed);
	SIM_ASSERT(sim_connect(&w->cli, &w->srv) == 0, "connect");
	w->cli.tx_seed = w->srv.rx_seed = seed * 2 + 1;
	w->srv.tx_seed = w->cli.rx_seed = seed * 2 + 2;
	w->cli.tx_total = up;
	w->srv.tx_total = down;
}

static int both_eof(void *arg)
{
	struct world *w = arg;

	return w->cli.rx_eof && w->srv.rx_eof;
}

static int two_paths(void *arg)
{
	(void)arg;
	return sim_live_subflows(0) >= 1 && sim_live_subflows(1) >= 1;
}

/* Byte-exact: every byte once, in order, then EOF. */
static void check_exact(const struct sim_app *a, uint64_t want, const char *who)
{
	SIM_ASSERT(!a->rx_bad, "%s: byte %llu differs", who, (unsigned long long)a->rx_bad_at);
	SIM_ASSERT(a->rx_err == 0, "%s: read error %s", who, strerror(a->rx_err));
	SIM_ASSERT(a->rx_done == want, "%s: %llu of %llu bytes", who,
	           (unsigned long long)a->rx_done, (unsigned long long)want);
	SIM_ASSERT(a->rx_eof, "%s: no EOF", who);
}

/* Two paths, both directions, 8 MiB up and 2 MiB down: byte-exact, and
 * both paths carried data. */
START_TEST(test_two_paths)
{
	struct world w;
	const struct sim_stats *st;

	start(&w, test_seed(1), 8u << 20, 2u << 20);
	SIM_ASSERT(sim_run(5, two_paths, &w), "the second path never joined");
	w.cli.tx_close = w.srv.tx_close = 1;
	SIM_ASSERT(sim_run(60, both_eof, &w), "transfer not done at t=%.3f", sim_now());
	check_exact(&w.srv, 8u << 20, "server");
	check_exact(&w.cli, 2u << 20, "client");
	st = sim_stats();
	SIM_ASSERT(st->bytes[0] > (1u << 20) && st->bytes[1] > (1u << 20),
	           "paths carried %llu and %llu bytes", (unsigned long long)st->bytes[0],
	           (unsigned long long)st->bytes[1]);
}
END_TEST

static Suite *sim_suite(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("engine");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_two_paths);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
