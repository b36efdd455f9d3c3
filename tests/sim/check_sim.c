/* check_sim.c - the connection engine over the simulated network
 * (simnet.h): two engines in one process, seeded and deterministic, no
 * root.  Every failure names the seed; SIM_SEED=N replays one. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn_int.h" /* mps_conn_list: every connection is freed at the end */
#include "dss_ack_int.h"
#include "mptcpshim/mib.h"
#include "mptcpshim/stat.h"
#include "simcheck.h"

static const char *g_join_delay = "0"; /* ms (a test may set it before start) */

static void setup_env(void)
{
	setenv("MPTCPSHIM_ADVERTISE", "none", 1);
	setenv("MPTCPSHIM_JOIN_DELAY", g_join_delay, 1);
	/* nothing shared with the user's other processes (a fallback here
	 * must not mark a namespace address plain for them) */
	setenv("MPTCPSHIM_PEER_CACHE", "none", 1);
	unsetenv("MPTCPSHIM_COUNTERS_FILE");
	unsetenv("MPTCPSHIM_POLICY");
	unsetenv("MPTCPSHIM_GATEWAY");
	if (!getenv("MPTCPSHIM_LOG"))
		setenv("MPTCPSHIM_LOG", "error", 1);
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

/* Both ends' connections have two subflows (the join done at both). */
static int both_two_subflows(void *arg)
{
	const struct mps_conn *c;
	int n = 0;

	(void)arg;
	for (c = mps_conn_list; c; c = c->next)
		n += c->nsf == 2 && c->sf[1]->state == SF_ACTIVE;
	return n == 2;
}

static uint64_t mib(enum mps_mib_id id)
{
	return mps_stat_proc()->v[id];
}

struct until_rx {
	const struct sim_app *a;
	uint64_t n;
};

static int rx_reached(void *arg)
{
	const struct until_rx *u = arg;

	return u->a->rx_done >= u->n;
}

/* Run until app a has read n bytes. */
static void run_until_rx(const struct sim_app *a, uint64_t n, double secs)
{
	struct until_rx u = {a, n};

	SIM_ASSERT(sim_run(secs, rx_reached, &u), "only %llu of %llu bytes read by t=%.3f",
	           (unsigned long long)a->rx_done, (unsigned long long)n, sim_now());
}

static int all_done(void *arg)
{
	return both_eof(arg) && !mps_conn_list;
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
	sim_finish();
}
END_TEST

/* A path dies (both ends reset) with data in flight on it: what it
 * carried is reinjected on the other, byte-exact. */
START_TEST(test_reinject_after_path_dies)
{
	struct world w;

	start(&w, test_seed(2), 16u << 20, 0);
	SIM_ASSERT(sim_run(5, two_paths, &w), "the second path never joined");
	run_until_rx(&w.srv, 4u << 20, 30);
	sim_path_state(1, SIM_BLACKHOLE); /* no new subflow over it either */
	sim_path_reset(1);
	w.cli.tx_close = w.srv.tx_close = 1;
	SIM_ASSERT(sim_run(60, all_done, &w), "not done at t=%.3f (server read %llu)", sim_now(),
	           (unsigned long long)w.srv.rx_done);
	check_exact(&w.srv, 16u << 20, "server");
	check_exact(&w.cli, 0, "client");
	SIM_ASSERT(mib(MPS_MIB_SF_LOST) >= 1, "no subflow counted lost");
	SIM_ASSERT(mib(MPS_MIB_REINJ_BYTES) > 0, "nothing reinjected");
	/* at once: not after the data-level retransmission's second */
	SIM_ASSERT(w.srv.rx_gap < 0.5, "the server waited %.3f s for data", w.srv.rx_gap);
	if (getenv("SIM_VERBOSE"))
		fprintf(stderr, "reinject: longest wait %.3f s, %llu B reinjected\n", w.srv.rx_gap,
		        (unsigned long long)mib(MPS_MIB_REINJ_BYTES));
	sim_finish();
}
END_TEST

/* DATA_FIN and close in every order: who finishes first, shutdown or
 * close, data one way, the other or both.  Both apps read every byte and
 * EOF, and both connections end (freed). */
static const struct close_case {
	uint32_t up, down;
	int cli_close, srv_close; /* 1 shutdown(SHUT_WR), 2 close() */
	int first;                /* 0 together, 1 client first, 2 server first */
} close_cases[] = {
        {1u << 20, 1u << 20, 1, 1, 0}, {1u << 20, 1u << 20, 1, 1, 1}, {1u << 20, 1u << 20, 1, 1, 2},
        {1u << 20, 0, 2, 1, 1},        {0, 1u << 20, 1, 2, 2},        {0, 1u << 20, 1, 1, 1},
        {1u << 20, 0, 1, 1, 2},
};

/* The state of the client's (MPS_CLIENT) or the server's connection,
 * MPS_CONN_CLOSED once it is freed. */
static enum mps_conn_state conn_state(enum mps_role role)
{
	struct mps_conn *c;

	for (c = mps_conn_list; c; c = c->next)
		if (c->role == role)
			return c->state;
	return MPS_CONN_CLOSED;
}

struct want_states {
	enum mps_conn_state first, second;
	enum mps_role first_role;
};

static int states_reached(void *arg)
{
	const struct want_states *w = arg;

	return conn_state(w->first_role) == w->first &&
	       conn_state(w->first_role == MPS_CLIENT ? MPS_SERVER : MPS_CLIENT) == w->second;
}

static int app_eof(void *arg)
{
	return ((const struct sim_app *)arg)->rx_eof;
}

/* The app-thread send path (direct.c, issue 15): half of each app's
 * writes, at random sizes, go straight into the send buffer
 * (mps_direct_conn_write), the others through the socketpair, both ways;
 * a path dies with data of both kinds in flight.  Byte-exact: the two
 * ways never reorder, and what went the direct way is reinjected too. */
START_TEST(test_direct_mixed)
{
	struct world w;
	uint64_t d0 = mib(MPS_MIB_DIRECT_WRITES);

	start(&w, test_seed(40), 12u << 20, 6u << 20);
	w.cli.direct = w.srv.direct = 1;
	SIM_ASSERT(sim_run(5, two_paths, &w), "the second path never joined");
	run_until_rx(&w.srv, 3u << 20, 30);
	sim_path_state(1, SIM_BLACKHOLE);
	sim_path_reset(1);
	w.cli.tx_close = w.srv.tx_close = 1;
	SIM_ASSERT(sim_run(60, all_done, &w), "not done at t=%.3f (server read %llu)", sim_now(),
	           (unsigned long long)w.srv.rx_done);
	check_exact(&w.srv, 12u << 20, "server");
	check_exact(&w.cli, 6u << 20, "client");
	SIM_ASSERT(w.cli.tx_direct > (64u << 10) && w.srv.tx_direct > (64u << 10),
	           "only %llu and %llu bytes went the direct way", (unsigned long long)w.cli.tx_direct,
	           (unsigned long long)w.srv.tx_direct);
	SIM_ASSERT(w.cli.tx_direct < (12u << 20), "no byte went through the socketpair");
	SIM_ASSERT(mib(MPS_MIB_DIRECT_WRITES) > d0, "direct_writes not counted");
	SIM_ASSERT(mib(MPS_MIB_REINJ_BYTES) > 0, "nothing reinjected");
	sim_finish();
}
END_TEST

START_TEST(test_close_orders)
{
	const struct close_case *k = &close_cases[_i];
	struct world w;

	start(&w, test_seed(100 + (uint64_t)_i), k->up, k->down);
	/* (joined at both ends: one subflow would close as TCP's, test_fin_close) */
	SIM_ASSERT(sim_run(5, both_two_subflows, NULL), "the second path never joined");
	if (k->first == 0) {
		w.cli.tx_close = k->cli_close;
		w.srv.tx_close = k->srv_close;
	} else {
		/* the first closer's DATA_FIN is ACKed (FIN_WAIT2), the other
		 * has it (CLOSE_WAIT) and its app read EOF */
		struct sim_app *a = k->first == 1 ? &w.cli : &w.srv,
		               *b = k->first == 1 ? &w.srv : &w.cli;
		struct want_states ws = {MPS_CONN_FIN_WAIT2, MPS_CONN_CLOSE_WAIT,
		                         k->first == 1 ? MPS_CLIENT : MPS_SERVER};

		a->tx_close = k->first == 1 ? k->cli_close : k->srv_close;
		SIM_ASSERT(sim_run(30, app_eof, b), "case %d: no EOF for the second", _i);
		SIM_ASSERT(sim_run(5, states_reached, &ws), "case %d: states %s and %s", _i,
		           mps_conn_state_name(conn_state(ws.first_role)),
		           mps_conn_state_name(conn_state(
		                   ws.first_role == MPS_CLIENT ? MPS_SERVER : MPS_CLIENT)));
		SIM_ASSERT(a->fd < 0 || !a->rx_eof, "case %d: EOF for the first too early", _i);
		b->tx_close = k->first == 1 ? k->srv_close : k->cli_close;
	}
	/* an app that closed reads nothing more: only the other side's EOF
	 * and the connections' end are waited for */
	if (k->cli_close == 2)
		w.cli.rx_eof = 1;
	if (k->srv_close == 2)
		w.srv.rx_eof = 1;
	SIM_ASSERT(sim_run(60, all_done, &w), "case %d: not done at t=%.3f (conns left: %s)", _i,
	           sim_now(), mps_conn_list ? "yes" : "no");
	if (k->srv_close != 2)
		check_exact(&w.srv, k->up, "server");
	if (k->cli_close != 2)
		check_exact(&w.cli, k->down, "client");
	sim_finish();
}
END_TEST

/* The receiver's window closes (its app stops reading), a path goes
 * silent, then the app reads again: the window update must not be lost
 * with that path (each case silences one of the two). */
struct stalled {
	const struct sim_app *a;
	uint64_t last;
	double since;
};

static int tx_stalled(void *arg)
{
	struct stalled *s = arg;

	if (s->a->tx_done != s->last) {
		s->last = s->a->tx_done;
		s->since = sim_now();
	}
	return sim_now() - s->since > 1.0;
}

START_TEST(test_window_update_lost_with_path)
{
	struct world w;
	struct stalled st = {0};
	const uint64_t total = 28u << 20; /* the window closes after ~21 MB (buffers) */

	start(&w, test_seed(200 + (uint64_t)_i), total, 0);
	w.srv.no_read = 1;
	SIM_ASSERT(sim_run(5, two_paths, &w), "the second path never joined");
	st.a = &w.cli;
	SIM_ASSERT(sim_run(60, tx_stalled, &st), "the client never stalled");
	SIM_ASSERT(w.cli.tx_done < total, "the window never closed");
	if (getenv("SIM_VERBOSE"))
		fprintf(stderr, "window_update: the client stalled after %llu B, t=%.3f\n",
		        (unsigned long long)w.cli.tx_done, sim_now() - 1000.0);
	sim_path_state(_i, SIM_BLACKHOLE);
	w.srv.no_read = 0;
	run_until_rx(&w.srv, total, 60);
	sim_path_state(_i, SIM_UP);
	w.cli.tx_close = w.srv.tx_close = 1;
	SIM_ASSERT(sim_run(60, all_done, &w), "not done at t=%.3f", sim_now());
	check_exact(&w.srv, total, "server");
	sim_finish();
}
END_TEST

/* Every path goes down (the client hears it) mid-transfer and comes back
 * 3 s later: the client rejoins, the transfer completes byte-exact. */
START_TEST(test_outage_and_rejoin)
{
	struct world w;
	uint64_t before;

	start(&w, test_seed(3), 16u << 20, 0);
	SIM_ASSERT(sim_run(5, two_paths, &w), "the second path never joined");
	run_until_rx(&w.srv, 4u << 20, 30);
	sim_path_state(0, SIM_DOWN);
	sim_path_state(1, SIM_DOWN);
	before = sim_stats()->subflows[0] + sim_stats()->subflows[1];
	sim_run(3, NULL, NULL);
	SIM_ASSERT(mib(MPS_MIB_OUTAGES) >= 1, "no outage counted");
	sim_path_state(0, SIM_UP);
	sim_path_state(1, SIM_UP);
	w.cli.tx_close = w.srv.tx_close = 1;
	SIM_ASSERT(sim_run(60, all_done, &w), "not done at t=%.3f (server read %llu)", sim_now(),
	           (unsigned long long)w.srv.rx_done);
	check_exact(&w.srv, 16u << 20, "server");
	SIM_ASSERT(sim_stats()->subflows[0] + sim_stats()->subflows[1] > before, "no rejoin");
	SIM_ASSERT(mib(MPS_MIB_OUTAGES_SURVIVED) >= 1, "outage not counted survived");
	sim_finish();
}
END_TEST

/* A slow path with a deep queue (its RTT grows past a second) that
 * delivers and acknowledges in 128 KiB aggregates (ACKs 130 ms apart,
 * more than the detector's 100 ms floor): never taken for a blackhole. */
START_TEST(test_stale_no_false_positive)
{
	struct world w;
	const struct sim_path_cfg slow = {
	        .rate = 1e6, .delay = 0.010, .queue = 1u << 20, .seg = 128u << 10};

	start(&w, test_seed(4), 24u << 20, 0);
	sim_path(1, &slow);
	SIM_ASSERT(sim_run(5, two_paths, &w), "the second path never joined");
	w.cli.tx_close = w.srv.tx_close = 1;
	SIM_ASSERT(sim_run(60, all_done, &w), "not done at t=%.3f", sim_now());
	check_exact(&w.srv, 24u << 20, "server");
	SIM_ASSERT(sim_stats()->bytes[1] > (1u << 20), "the slow path carried %llu bytes",
	           (unsigned long long)sim_stats()->bytes[1]);
	SIM_ASSERT(mib(MPS_MIB_STALE) == 0, "%llu false stale verdicts",
	           (unsigned long long)mib(MPS_MIB_STALE));
	sim_finish();
}
END_TEST

/* One path is blackholed and found stale; then the other, the last
 * usable one, dies: the stale subflow is revived, no outage begins, and
 * once its path works again the transfer completes. */
static int stale_seen(void *arg)
{
	(void)arg;
	return mib(MPS_MIB_STALE) >= 1;
}

START_TEST(test_revive_stale)
{
	struct world w;

	start(&w, test_seed(5), 16u << 20, 0);
	SIM_ASSERT(sim_run(5, two_paths, &w), "the second path never joined");
	run_until_rx(&w.srv, 2u << 20, 30);
	sim_path_state(1, SIM_BLACKHOLE);
	SIM_ASSERT(sim_run(10, stale_seen, NULL), "the blackholed path never found stale");
	sim_path_state(0, SIM_BLACKHOLE); /* no new subflow over it */
	sim_path_reset(0);
	sim_run(0.5, NULL, NULL);
	sim_path_state(1, SIM_UP);
	w.cli.tx_close = w.srv.tx_close = 1;
	SIM_ASSERT(sim_run(60, all_done, &w), "not done at t=%.3f (server read %llu)", sim_now(),
	           (unsigned long long)w.srv.rx_done);
	check_exact(&w.srv, 16u << 20, "server");
	SIM_ASSERT(mib(MPS_MIB_OUTAGES) == 0, "%llu outage(s) although a stale subflow was left",
	           (unsigned long long)mib(MPS_MIB_OUTAGES));
	sim_finish();
}
END_TEST

/* Two unlike paths, lossy and jittery (10 ms and 60 ms, 2 % and 5 % of
 * segments retransmitted, 20 and 50 ms of jitter): the receiver reorders
 * across paths all the time; byte-exact both ways, for several seeds. */
START_TEST(test_lossy_reordering)
{
	struct world w;
	const struct sim_path_cfg p0 = {.rate = 8e6, .delay = 0.010, .loss = 0.02, .jitter = 0.020};
	const struct sim_path_cfg p1 = {.rate = 4e6, .delay = 0.060, .loss = 0.05, .jitter = 0.050};

	start(&w, test_seed(300 + (uint64_t)_i), 8u << 20, 4u << 20);
	sim_path(0, &p0);
	sim_path(1, &p1);
	SIM_ASSERT(sim_run(5, two_paths, &w), "the second path never joined");
	w.cli.tx_close = w.srv.tx_close = 1;
	SIM_ASSERT(sim_run(120, all_done, &w), "not done at t=%.3f", sim_now());
	check_exact(&w.srv, 8u << 20, "server");
	check_exact(&w.cli, 4u << 20, "client");
	SIM_ASSERT(sim_stats()->retrans[0] > 0 && sim_stats()->retrans[1] > 0, "no loss happened");
	SIM_ASSERT(sim_stats()->bytes[1] > (1u << 20), "the slow path carried %llu bytes",
	           (unsigned long long)sim_stats()->bytes[1]);
	sim_finish();
}
END_TEST

/* Chaos: while 16 MiB go up and 4 MiB down, every 0.2-1 s a random path
 * is blackholed, taken down (the client hears it) or brought back; at most
 * one path is out at a time, so the connection always has a path to find.
 * Everything back up at the end: byte-exact both ways.
 * SIM_CHAOS_RESET=1 (exploration) also resets paths, only while the
 * server has an active subflow on the other; a seed can still reset the
 * server's last subflow (the client's RST of a parked subflow arriving
 * with it), which the server takes for the client process gone and ends
 * the connection, by design (docs/DESIGN.md "The simulated network"). */
/* Does the server's connection hold an active subflow from the client's
 * address on path p (198.18.1.1 path 0, 198.18.2.1 path 1)? */
static int server_active_on(int p)
{
	struct mps_conn *c;
	int i;

	for (c = mps_conn_list; c; c = c->next)
		if (c->role == MPS_SERVER)
			for (i = 0; i < c->nsf; i++) {
				const struct sockaddr_in *a =
				        (const struct sockaddr_in *)&c->sf[i]->remote;

				if (c->sf[i]->state == SF_ACTIVE && a->sin_family == AF_INET &&
				    (ntohl(a->sin_addr.s_addr) & 0xffffff00u) ==
				            (0xc6120100u + ((uint32_t)p << 8)))
					return 1;
			}
	return 0;
}

START_TEST(test_chaos)
{
	struct world w;
	int ev;

	start(&w, test_seed(400 + (uint64_t)_i), 16u << 20, 4u << 20);
	SIM_ASSERT(sim_run(5, two_paths, &w), "the second path never joined");
	for (ev = 0; ev < 12 && !both_eof(&w); ev++) {
		int p = sim_random() < 0.5, what = (int)(sim_random() * 4);

		sim_path_state(!p, SIM_UP);
		if (what == 0)
			sim_path_state(p, SIM_BLACKHOLE);
		else if (what == 1)
			sim_path_state(p, SIM_DOWN);
		else if (what == 2 && getenv("SIM_CHAOS_RESET") && server_active_on(!p))
			sim_path_reset(p);
		else if (what == 2)
			sim_path_state(p, SIM_BLACKHOLE);
		else
			sim_path_state(p, SIM_UP);
		sim_run(0.2 + 0.8 * sim_random(), NULL, NULL);
	}
	sim_path_state(0, SIM_UP);
	sim_path_state(1, SIM_UP);
	w.cli.tx_close = w.srv.tx_close = 1;
	SIM_ASSERT(sim_run(120, all_done, &w), "not done at t=%.3f (read %llu and %llu)", sim_now(),
	           (unsigned long long)w.srv.rx_done, (unsigned long long)w.cli.rx_done);
	check_exact(&w.srv, 16u << 20, "server");
	check_exact(&w.cli, 4u << 20, "client");
	sim_finish();
}
END_TEST

/* One case per behaviour: CK_RUN_CASE=NAME runs one (with SIM_SEED=N to
 * replay a failure). */
static int watchdogs_armed(void)
{
	struct mps_conn *c;
	int n = 0;

	for (c = mps_conn_list; c; c = c->next)
		n += ev_is_active(&c->watchdog);
	return n;
}

static int cli_failed(void *arg)
{
	const struct world *w = arg;

	return w->cli.rx_err != 0 || w->cli.rx_eof;
}

/* The progress watchdog ticks only while data waits for its data ACK
 * (issue 15: a timer per quiet keep-alive connection woke the loop once a
 * second each): a quiet connection has none armed; data sent into a
 * blackhole on every path still ends the connection after the outage
 * timeout (30 s). */
START_TEST(test_watchdog_quiet)
{
	struct world w;
	double t0;

	start(&w, test_seed(9), 1u << 20, 1u << 20);
	run_until_rx(&w.srv, 1u << 20, 30);
	run_until_rx(&w.cli, 1u << 20, 30);
	sim_run(3, NULL, NULL); /* quiet: everything data-ACKed */
	SIM_ASSERT(mps_conn_list != NULL, "the connection ended");
	SIM_ASSERT(watchdogs_armed() == 0, "%d watchdog(s) armed on a quiet connection",
	           watchdogs_armed());
	sim_path_state(0, SIM_BLACKHOLE);
	sim_path_state(1, SIM_BLACKHOLE);
	t0 = sim_now();
	w.cli.tx_total = 2u << 20; /* more, into the blackhole */
	sim_run(0.5, NULL, NULL);
	SIM_ASSERT(watchdogs_armed() >= 1, "no watchdog armed with data outstanding");
	/* (the app's ETIMEDOUT is the data hooks' to report: here it reads
	 * the end of its socketpair) */
	SIM_ASSERT(sim_run(45, cli_failed, &w), "the client's connection lives on at t=%.3f",
	           sim_now());
	SIM_ASSERT(sim_now() - t0 >= 30.0, "ended %.3f s after the blackhole, before the timeout",
	           sim_now() - t0);
	sim_finish();
}
END_TEST

/* Path 1 is a backup (MPTCPSHIM_BACKUP=c1): it carries data only while
 * no regular path works.  Case 0: the regular path's ACKs pause for
 * 250 ms (a loaded host did that once in CI): nothing is found stale and
 * the backup stays idle.  Case 1: the regular path dies for good: the
 * backup takes over after half a second of silence, not sooner, and the
 * transfer completes byte-exact. */
static int backup_moved(void *arg)
{
	(void)arg;
	return sim_stats()->bytes[1] > (1u << 20);
}

START_TEST(test_backup_pause)
{
	struct world w;
	const uint64_t total = 32u << 20;
	double t0;

	setenv("MPTCPSHIM_BACKUP", "c1", 1);
	start(&w, test_seed(8) + (uint64_t)_i, total, 0);
	SIM_ASSERT(sim_run(5, two_paths, &w), "the backup path never joined");
	run_until_rx(&w.srv, 4u << 20, 30);
	SIM_ASSERT(sim_stats()->bytes[1] < (64u << 10),
	           "the backup carried %llu bytes while path 0 worked",
	           (unsigned long long)sim_stats()->bytes[1]);
	sim_path_state(0, SIM_BLACKHOLE);
	t0 = sim_now();
	if (_i == 0) {
		sim_run(0.25, NULL, NULL);
		sim_path_state(0, SIM_UP);
	} else {
		SIM_ASSERT(sim_run(5, stale_seen, NULL), "the dead regular path never found stale");
		SIM_ASSERT(sim_now() - t0 >= 0.45 && sim_now() - t0 < 1.0,
		           "the regular path found stale %.3f s into its silence (want 0.5 to 1 s)",
		           sim_now() - t0);
		SIM_ASSERT(sim_run(5, backup_moved, NULL), "the backup never took the data over");
	}
	w.cli.tx_close = w.srv.tx_close = 1;
	SIM_ASSERT(sim_run(60, all_done, &w), "not done at t=%.3f (server read %llu)", sim_now(),
	           (unsigned long long)w.srv.rx_done);
	check_exact(&w.srv, total, "server");
	if (_i == 0) {
		SIM_ASSERT(mib(MPS_MIB_STALE) == 0, "%llu stale verdict(s) on a 250 ms pause",
		           (unsigned long long)mib(MPS_MIB_STALE));
		SIM_ASSERT(sim_stats()->bytes[1] < (256u << 10),
		           "the backup carried %llu bytes of %llu after a 250 ms pause",
		           (unsigned long long)sim_stats()->bytes[1], (unsigned long long)total);
	}
	unsetenv("MPTCPSHIM_BACKUP");
	sim_finish();
}
END_TEST

static int first_up(void *arg)
{
	const struct mps_conn *c;
	int n = 0;

	(void)arg;
	for (c = mps_conn_list; c; c = c->next)
		n += c->rx_mode == RX_MP && c->tx_mode == TX_MP && c->nsf == 1 &&
		     c->sf[0]->state == SF_ACTIVE;
	return n == 2;
}

/* 1 when every connection's end stopped holding frames for its peer and
 * its first subflow's queue is empty. */
static int nothing_held(void)
{
	const struct mps_conn *c;

	for (c = mps_conn_list; c; c = c->next)
		if (c->peer_quiet || c->sf[0]->quiet || c->sf[0]->nseg)
			return 0;
	return 1;
}

/* Each end holds its frames without data for the other (a QUIET client
 * of a server that accepted it inline: both promoted, each LOUD ACK
 * queued behind its own hold on the first subflow, waiting for data).  A
 * join says that both ends read on their shim threads (an inline
 * connection joins, and takes a join, only once promoted): nothing waits
 * any more.  Before, with the data on the second subflow, neither LOUD
 * left, nor the ACK of either DATA_FIN: the connection never ended
 * (issue 15: curl -> nginx, both inline, two keepers left running). */
START_TEST(test_mutual_hold_join)
{
	struct world w;
	struct mps_conn *c;

	g_join_delay = "500";
	start(&w, test_seed(10), 0, 0);
	g_join_delay = "0";
	SIM_ASSERT(sim_run(0.4, first_up, NULL), "the first subflow is not up at t=%.3f",
	           sim_now());
	for (c = mps_conn_list; c; c = c->next) {
		c->quiet_ok = c->peer_quiet = 1;
		c->sf[0]->quiet = 1;
		mps_dss_ack_send_loud(c, 1);
		SIM_ASSERT(c->sf[0]->nseg == 1, "the LOUD ACK left at once (%d queued)",
		           c->sf[0]->nseg);
	}
	sim_run(0.05, NULL, NULL);
	SIM_ASSERT(!nothing_held(), "released before the join");
	SIM_ASSERT(sim_run(5, two_paths, &w), "the second path never joined");
	sim_run(0.1, NULL, NULL);
	SIM_ASSERT(nothing_held(), "frames still held after the join");
	w.cli.tx_total = w.srv.tx_total = 256u << 10;
	w.cli.tx_close = w.srv.tx_close = 1;
	SIM_ASSERT(sim_run(30, all_done, &w), "the connection lives on at t=%.3f", sim_now());
	check_exact(&w.srv, 256u << 10, "server");
	check_exact(&w.cli, 256u << 10, "client");
	sim_finish();
}
END_TEST

/* A close as TCP's (MPS_CAP_FINCLOSE, frame.h): on one subflow (no join:
 * the join delay is long and the bytes fewer than MPTCPSHIM_JOIN_BYTES's
 * default), the app that closes first sends its DATA_FIN with the
 * subflow's FIN, and nothing more is exchanged at the data level: the
 * other end takes that FIN as the end, and the first takes the other's
 * FIN as the end.  Each order of close, then the same with a second
 * subflow joined, where the DATA_FIN and its ACK go as before (a resend
 * elsewhere stays possible).  Both ends end, byte-exact, and the count
 * says which way they ended. */
static const struct fin_case {
	uint32_t up, down;
	int first; /* 1 client first, 2 server first */
	int paths;
} fin_cases[] = {
        {4096, 30000, 2, 1},
        {30000, 4096, 1, 1},
        {4096, 30000, 2, 2},
};

START_TEST(test_fin_close)
{
	const struct fin_case *k = &fin_cases[_i];
	struct world w;
	struct sim_app *a, *b;
	uint64_t n0;

	g_join_delay = k->paths == 1 ? "60000" : "0";
	start(&w, test_seed(200 + (uint64_t)_i), k->up, k->down);
	g_join_delay = "0";
	if (k->paths == 2)
		SIM_ASSERT(sim_run(5, both_two_subflows, NULL), "the second path never joined");
	a = k->first == 1 ? &w.cli : &w.srv;
	b = k->first == 1 ? &w.srv : &w.cli;
	n0 = mib(MPS_MIB_CLOSED_FIN);
	/* the first reads all it is sent, then closes (unread bytes would
	 * make its close a reset, as TCP's) */
	run_until_rx(a, k->first == 1 ? k->down : k->up, 30);
	a->tx_close = 2;
	a->rx_eof = 1; /* (an app that closed reads nothing more) */
	SIM_ASSERT(sim_run(30, app_eof, b), "case %d: no EOF for the second", _i);
	b->tx_close = 2;
	SIM_ASSERT(sim_run(60, all_done, &w), "case %d: not done at t=%.3f", _i, sim_now());
	check_exact(b, k->first == 1 ? k->up : k->down, k->first == 1 ? "server" : "client");
	SIM_ASSERT(mib(MPS_MIB_CLOSED_FIN) - n0 == (k->paths == 1 ? 1u : 0u),
	           "case %d: %llu closes as TCP's", _i,
	           (unsigned long long)(mib(MPS_MIB_CLOSED_FIN) - n0));
	SIM_ASSERT(mib(MPS_MIB_SF_LOST) == 0, "case %d: a subflow was taken for lost", _i);
	sim_finish();
}
END_TEST

/* The client's join is under way (its JOIN sent, no JOIN_ACK yet). */
static int join_in_handshake(void *arg)
{
	const struct mps_conn *c;
	int i;

	(void)arg;
	for (c = mps_conn_list; c; c = c->next)
		for (i = 0; c->role == MPS_CLIENT && i < c->nsf; i++)
			if (c->sf[i]->state == SF_JOIN_SENT)
				return 1;
	return 0;
}

/* The server ends the client's join before it completes (as the join
 * guard does with a JOIN late under load: apps_ssh both-ssh-down once):
 * the client tries that path again (the rejoin backoff) rather than
 * staying on one path for the rest of the connection. */
START_TEST(test_join_refused_retry)
{
	struct world w;

	start(&w, test_seed(9), 32u << 20, 0);
	SIM_ASSERT(sim_run(5, join_in_handshake, &w), "no join began");
	sim_path_reset(1);
	SIM_ASSERT(!two_paths(&w), "the join survived the reset");
	SIM_ASSERT(sim_run(5, both_two_subflows, &w), "the path was not joined again (t=%.3f)",
	           sim_now());
	w.cli.tx_close = w.srv.tx_close = 1;
	SIM_ASSERT(sim_run(60, all_done, &w), "not done at t=%.3f", sim_now());
	check_exact(&w.srv, 32u << 20, "server");
	sim_finish();
}
END_TEST

static void add(Suite *s, const char *name, const TTest *t, int loops)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, t, 0, loops ? loops : 1);
	suite_add_tcase(s, tc);
}

static Suite *sim_suite(void)
{
	Suite *s = suite_create("sim");

	add(s, "two_paths", test_two_paths, 0);
	add(s, "reinject", test_reinject_after_path_dies, 0);
	add(s, "direct", test_direct_mixed, 0);
	add(s, "close_orders", test_close_orders,
	    (int)(sizeof(close_cases) / sizeof(close_cases[0])));
	add(s, "window_update", test_window_update_lost_with_path, 2);
	add(s, "outage_rejoin", test_outage_and_rejoin, 0);
	add(s, "stale_queueing", test_stale_no_false_positive, 0);
	add(s, "revive_stale", test_revive_stale, 0);
	add(s, "lossy_reordering", test_lossy_reordering, 3);
	add(s, "chaos", test_chaos, 3);
	add(s, "watchdog_quiet", test_watchdog_quiet, 0);
	add(s, "backup_pause", test_backup_pause, 2);
	add(s, "mutual_hold_join", test_mutual_hold_join, 0);
	add(s, "join_refused_retry", test_join_refused_retry, 0);
	add(s, "fin_close", test_fin_close, (int)(sizeof(fin_cases) / sizeof(fin_cases[0])));
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
