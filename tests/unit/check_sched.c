/* check_sched.c - the packet schedulers, from include/mptcpshim/sched.h. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/sched.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct mps_sf_view sf(uint32_t rtt, int usable, int ready, int backup)
{
	struct mps_sf_view v = { .rtt_us = rtt,
				 .usable = (uint8_t)usable,
				 .ready = (uint8_t)ready,
				 .backup = (uint8_t)backup,
				 .tx_bytes = 0 };
	return v;
}

static int pick(const char *name, struct mps_sched *s, const struct mps_sf_view *v, int n)
{
	const struct mps_sched_ops *ops = mps_sched_find(name);
	ck_assert_ptr_nonnull(ops);
	s->ops = ops;
	return ops->pick(s, v, n);
}

/* ---- lookup ---------------------------------------------------------- */

START_TEST(test_sched_find)
{
	static const char *names[] = { "default", "roundrobin", "redundant", "ecf" };
	for (size_t i = 0; i < NELEM(names); i++) {
		const struct mps_sched_ops *ops = mps_sched_find(names[i]);
		ck_assert_ptr_nonnull(ops);
		ck_assert_str_eq(ops->name, names[i]);
		ck_assert_ptr_nonnull(ops->pick);
		ck_assert_int_eq(ops->redundant, i == 2);
		/* the same ops every time */
		ck_assert_ptr_eq(mps_sched_find(names[i]), ops);
	}
	static const char *bad[] = { "", "Default", "DEFAULT", "default ", " default",
				     "round-robin", "rr", "redundan", "redundantx", "blest",
				     "minrtt" };
	for (size_t i = 0; i < NELEM(bad); i++)
		ck_assert_msg(mps_sched_find(bad[i]) == NULL, "\"%s\" found", bad[i]);
	ck_assert_ptr_null(mps_sched_find(NULL));
}
END_TEST

/* ---- rules common to all --------------------------------------------- */

static const char *const pickers[] = { "default", "roundrobin", "redundant", "ecf" };

START_TEST(test_sched_empty)
{
	for (size_t p = 0; p < NELEM(pickers); p++) {
		struct mps_sched s = { 0 };
		struct mps_sf_view v[1] = { sf(10, 1, 1, 0) };
		ck_assert_int_eq(pick(pickers[p], &s, v, 0), -1);
		ck_assert_int_eq(pick(pickers[p], &s, NULL, 0), -1);
		ck_assert_int_eq(pick(pickers[p], &s, v, -1), -1);
	}
}
END_TEST

START_TEST(test_sched_only_usable_ready)
{
	for (size_t p = 0; p < NELEM(pickers); p++) {
		struct mps_sched s = { 0 };
		/* none usable and ready: wait */
		struct mps_sf_view v[3] = { sf(10, 0, 1, 0), sf(5, 1, 0, 0), sf(1, 0, 0, 0) };
		for (int k = 0; k < 5; k++)
			ck_assert_int_eq(pick(pickers[p], &s, v, 3), -1);
		/* exactly one candidate: always that one */
		v[2] = sf(100, 1, 1, 0);
		for (int k = 0; k < 5; k++)
			ck_assert_int_eq(pick(pickers[p], &s, v, 3), 2);
		/* a lone subflow */
		struct mps_sf_view one = sf(0, 1, 1, 0);
		ck_assert_int_eq(pick(pickers[p], &s, &one, 1), 0);
		one.ready = 0;
		ck_assert_int_eq(pick(pickers[p], &s, &one, 1), -1);
	}
}
END_TEST

START_TEST(test_sched_backup)
{
	for (size_t p = 0; p < NELEM(pickers); p++) {
		struct mps_sched s = { 0 };
		/* a usable regular subflow that is full keeps the backup idle */
		struct mps_sf_view v[2] = { sf(50, 1, 0, 0), sf(5, 1, 1, 1) };
		for (int k = 0; k < 4; k++)
			ck_assert_int_eq(pick(pickers[p], &s, v, 2), -1);
		/* with room, the regular one wins despite a worse RTT */
		v[0].ready = 1;
		for (int k = 0; k < 4; k++)
			ck_assert_int_eq(pick(pickers[p], &s, v, 2), 0);
		/* regular not usable any more: the backup carries data */
		v[0].usable = 0;
		for (int k = 0; k < 4; k++)
			ck_assert_int_eq(pick(pickers[p], &s, v, 2), 1);
		/* a backup that is full: wait */
		v[1].ready = 0;
		ck_assert_int_eq(pick(pickers[p], &s, v, 2), -1);
		/* a backup that is not usable is never picked */
		v[1] = sf(5, 0, 1, 1);
		ck_assert_int_eq(pick(pickers[p], &s, v, 2), -1);
		/* all backups: they are used */
		struct mps_sf_view b[3] = { sf(30, 1, 1, 1), sf(20, 1, 1, 1), sf(0, 0, 1, 0) };
		int got = pick(pickers[p], &s, b, 3);
		ck_assert(got == 0 || got == 1);
	}
}
END_TEST

/* ---- default --------------------------------------------------------- */

START_TEST(test_sched_default_lowest_rtt)
{
	struct mps_sched s = { 0 };
	struct mps_sf_view v[4] = { sf(300, 1, 1, 0), sf(200, 1, 1, 0), sf(100, 1, 1, 0),
				    sf(400, 1, 1, 0) };
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(pick("default", &s, v, 4), 2);
	v[2].ready = 0; /* the fastest is full: the next fastest */
	ck_assert_int_eq(pick("default", &s, v, 4), 1);
	v[1].usable = 0;
	ck_assert_int_eq(pick("default", &s, v, 4), 0);
	/* tx_bytes does not matter to the default scheduler */
	v[3].tx_bytes = 0;
	v[0].tx_bytes = UINT64_MAX;
	ck_assert_int_eq(pick("default", &s, v, 4), 0);
}
END_TEST

START_TEST(test_sched_default_ties_unknown)
{
	struct mps_sched s = { 0 };
	/* ties: the lowest index */
	struct mps_sf_view t[3] = { sf(50, 1, 0, 0), sf(70, 1, 1, 0), sf(70, 1, 1, 0) };
	ck_assert_int_eq(pick("default", &s, t, 3), 1);
	/* an unknown RTT (0) is worse than any measured one, even the largest */
	struct mps_sf_view u[3] = { sf(0, 1, 1, 0), sf(UINT32_MAX, 1, 1, 0), sf(0, 1, 1, 0) };
	ck_assert_int_eq(pick("default", &s, u, 3), 1);
	/* all unknown: the lowest index */
	u[1].rtt_us = 0;
	ck_assert_int_eq(pick("default", &s, u, 3), 0);
	u[0].ready = 0;
	ck_assert_int_eq(pick("default", &s, u, 3), 1);
	/* measured 1 us beats unknown */
	struct mps_sf_view w[2] = { sf(0, 1, 1, 0), sf(1, 1, 1, 0) };
	ck_assert_int_eq(pick("default", &s, w, 2), 1);
	/* backups among themselves: lowest RTT too */
	struct mps_sf_view b[3] = { sf(30, 1, 1, 1), sf(20, 1, 1, 1), sf(0, 1, 1, 1) };
	ck_assert_int_eq(pick("default", &s, b, 3), 1);
}
END_TEST

/* The default scheduler against a brute-force reference on random views. */
START_TEST(test_sched_default_random)
{
	uint64_t st = 0x243f6a8885a308d3ULL;
	for (int it = 0; it < 20000; it++) {
		struct mps_sf_view v[8];
		int n = (int)(st % 9);
		st = st * 6364136223846793005ULL + 1442695040888963407ULL;
		for (int i = 0; i < n; i++) {
			st = st * 6364136223846793005ULL + 1442695040888963407ULL;
			uint32_t r = (uint32_t)(st >> 40) % 4;
			v[i] = sf(r == 0 ? 0 : (uint32_t)((st >> 20) % 5) * 100 + 1,
				  (st >> 3) & 1 || (st >> 4) & 1, (st >> 5) & 1 || (st >> 6) & 1,
				  ((st >> 7) & 3) == 0);
		}
		int any_regular = 0;
		for (int i = 0; i < n; i++)
			if (v[i].usable && !v[i].backup)
				any_regular = 1;
		int want = -1;
		uint64_t best = 0;
		for (int i = 0; i < n; i++) {
			if (!v[i].usable || !v[i].ready || (v[i].backup && any_regular) ||
			    (!v[i].backup && !any_regular))
				continue;
			uint64_t rank = v[i].rtt_us ? v[i].rtt_us : (1ULL << 40);
			if (want < 0 || rank < best) {
				want = i;
				best = rank;
			}
		}
		struct mps_sched s = { 0 };
		ck_assert_int_eq(pick("default", &s, v, n), want);
		ck_assert_int_eq(pick("redundant", &s, v, n), want);
	}
}
END_TEST

/* ---- roundrobin ------------------------------------------------------ */

START_TEST(test_sched_rr_cycle)
{
	struct mps_sched s = { 0 };
	struct mps_sf_view v[3] = { sf(10, 1, 1, 0), sf(1000, 1, 1, 0), sf(0, 1, 1, 0) };
	/* RTT does not matter: 0, 1, 2, 0, 1, 2 ... */
	for (int k = 0; k < 9; k++)
		ck_assert_int_eq(pick("roundrobin", &s, v, 3), k % 3);
	/* a full subflow is skipped, its turn passes */
	s.rr_next = 0;
	v[1].ready = 0;
	ck_assert_int_eq(pick("roundrobin", &s, v, 3), 0);
	ck_assert_int_eq(pick("roundrobin", &s, v, 3), 2);
	ck_assert_int_eq(pick("roundrobin", &s, v, 3), 0);
	v[1].ready = 1;
	ck_assert_int_eq(pick("roundrobin", &s, v, 3), 1);
	ck_assert_int_eq(pick("roundrobin", &s, v, 3), 2);
	/* none ready: -1 and rr_next unchanged */
	unsigned before = s.rr_next;
	for (int i = 0; i < 3; i++)
		v[i].ready = 0;
	ck_assert_int_eq(pick("roundrobin", &s, v, 3), -1);
	ck_assert_uint_eq(s.rr_next, before);
}
END_TEST

START_TEST(test_sched_rr_next)
{
	struct mps_sched s = { 0 };
	struct mps_sf_view v[4] = { sf(1, 1, 1, 0), sf(1, 1, 1, 0), sf(1, 1, 1, 0),
				    sf(1, 1, 1, 0) };
	/* the search starts at rr_next, wraps, and rr_next moves past the pick */
	s.rr_next = 2;
	ck_assert_int_eq(pick("roundrobin", &s, v, 4), 2);
	ck_assert_uint_eq(s.rr_next % 4, 3);
	v[3].ready = 0;
	v[0].ready = 0;
	ck_assert_int_eq(pick("roundrobin", &s, v, 4), 1);
	ck_assert_uint_eq(s.rr_next % 4, 2);
	/* rr_next beyond n (subflows went away) still works */
	s.rr_next = 1000;
	int got = pick("roundrobin", &s, v, 4);
	ck_assert(got == 1 || got == 2);
	/* a subflow appended after the last one picked is next in turn */
	struct mps_sf_view w[3] = { sf(1, 1, 1, 0), sf(1, 1, 1, 0), sf(1, 1, 1, 0) };
	s.rr_next = 0;
	ck_assert_int_eq(pick("roundrobin", &s, w, 2), 0);
	ck_assert_int_eq(pick("roundrobin", &s, w, 2), 1);
	ck_assert_int_eq(pick("roundrobin", &s, w, 3), 2);
	ck_assert_int_eq(pick("roundrobin", &s, w, 3), 0);
}
END_TEST

START_TEST(test_sched_rr_fair)
{
	struct mps_sched s = { 0 };
	struct mps_sf_view v[5];
	int count[5] = { 0 };
	for (int i = 0; i < 5; i++)
		v[i] = sf((uint32_t)(i * 1000), 1, 1, i == 4);
	for (int k = 0; k < 4000; k++) {
		int got = pick("roundrobin", &s, v, 5);
		ck_assert_int_ge(got, 0);
		ck_assert_int_lt(got, 4); /* never the backup */
		count[got]++;
	}
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(count[i], 1000);
	ck_assert_int_eq(count[4], 0);
	/* only the backup left usable: it alone */
	for (int i = 0; i < 4; i++)
		v[i].usable = 0;
	for (int k = 0; k < 5; k++)
		ck_assert_int_eq(pick("roundrobin", &s, v, 5), 4);
}
END_TEST

/* ---- ecf ------------------------------------------------------------- */

static struct mps_sf_view sfr(uint32_t rtt, int ready, uint64_t rate, uint32_t queued)
{
	struct mps_sf_view v = sf(rtt, 1, ready, 0);

	v.rate = rate;
	v.queued = queued;
	return v;
}

/* 50 Mbit/s (20 ms) and 5 Mbit/s (60 ms), the fast one full. */
START_TEST(test_sched_ecf_waits_for_fast)
{
	struct mps_sched s = { 0 };
	struct mps_sf_view v[2] = { sfr(20000, 0, 6250000, 131072), sfr(60000, 1, 625000, 65536) };

	/* Little left: the fast path delivers it all (31 + 10 ms) before one
	 * more chunk would cross the slow one (210 + 30 ms): wait. */
	s.chunk = 131072;
	s.backlog = 65536;
	ck_assert_int_eq(pick("ecf", &s, v, 2), -1);
	ck_assert_int_eq(s.ecf_waiting, 1);
	/* The default scheduler sends on the slow path at once. */
	ck_assert_int_eq(pick("default", &s, v, 2), 1);
	/* Plenty left (4 MiB: 700 ms on the fast path alone): the slow path
	 * helps (its chunk lands after 345 ms). */
	s.ecf_waiting = 0;
	s.backlog = 4u << 20;
	ck_assert_int_eq(pick("ecf", &s, v, 2), 1);
	ck_assert_int_eq(s.ecf_waiting, 0);
	/* The fast path ready: always it. */
	v[0].ready = 1;
	s.backlog = 65536;
	ck_assert_int_eq(pick("ecf", &s, v, 2), 0);
	/* The same with the fast path listed second. */
	struct mps_sf_view w[2] = { sfr(60000, 1, 625000, 65536), sfr(20000, 0, 6250000, 131072) };
	ck_assert_int_eq(pick("ecf", &s, w, 2), -1);
	w[1].ready = 1;
	ck_assert_int_eq(pick("ecf", &s, w, 2), 1);
}
END_TEST

/* A slow path with a deep queue (bufferbloat): its queued bytes count. */
START_TEST(test_sched_ecf_deep_queue)
{
	struct mps_sched s = { .chunk = 131072, .backlog = 1u << 20 };
	/* Same rates; the slower one holds 2 MB in its queue. */
	struct mps_sf_view v[2] = { sfr(20000, 0, 2500000, 65536), sfr(400000, 1, 2500000, 2000000) };

	/* t_f = (64K + 1M) / 2.5M + 10 ms = 455 ms; t_x = (2M + 128K) / 2.5M
	 * + 200 ms = 1052 ms: wait. */
	ck_assert_int_eq(pick("ecf", &s, v, 2), -1);
	/* Its queue drained: t_x = 52 + 200 ms: send. */
	s.ecf_waiting = 0;
	v[1].queued = 0;
	ck_assert_int_eq(pick("ecf", &s, v, 2), 1);
}
END_TEST

START_TEST(test_sched_ecf_unknown)
{
	struct mps_sched s = { .chunk = 131072, .backlog = 65536 };
	struct mps_sf_view v[2] = { sfr(20000, 0, 6250000, 131072), sfr(60000, 1, 625000, 65536) };

	/* Any rate or RTT unknown: no estimate, behave as the default. */
	v[0].rate = 0;
	ck_assert_int_eq(pick("ecf", &s, v, 2), 1);
	v[0].rate = 6250000;
	v[1].rate = 0;
	ck_assert_int_eq(pick("ecf", &s, v, 2), 1);
	v[1].rate = 625000;
	v[1].rtt_us = 0;
	/* x's RTT unknown: it ranks last, but it is the only ready one. */
	ck_assert_int_eq(pick("ecf", &s, v, 2), 1);
	v[1].rtt_us = 60000;
	ck_assert_int_eq(pick("ecf", &s, v, 2), -1);
	/* No subflow ready: wait. */
	v[1].ready = 0;
	ck_assert_int_eq(pick("ecf", &s, v, 2), -1);
	/* One subflow: it, when ready. */
	v[0].ready = 1;
	ck_assert_int_eq(pick("ecf", &s, v, 1), 0);
}
END_TEST

START_TEST(test_sched_ecf_hysteresis)
{
	struct mps_sched s = { .chunk = 100000, .backlog = 110000 };
	/* Equal rates, nearly equal RTTs: t_f = 110 + 5 ms, t_x = 100 + 5 ms. */
	struct mps_sf_view v[2] = { sfr(10000, 0, 1000000, 0), sfr(10002, 1, 1000000, 0) };

	ck_assert_int_eq(pick("ecf", &s, v, 2), 1);
	/* Once waiting, x must beat f by a quarter: 115 < 131 ms: wait on. */
	s.ecf_waiting = 1;
	ck_assert_int_eq(pick("ecf", &s, v, 2), -1);
	ck_assert_int_eq(s.ecf_waiting, 1);
	/* A backlog of 140 KB: t_f = 145 > 131: send, and stop waiting. */
	s.backlog = 140000;
	ck_assert_int_eq(pick("ecf", &s, v, 2), 1);
	ck_assert_int_eq(s.ecf_waiting, 0);
}
END_TEST

START_TEST(test_sched_ecf_backup)
{
	struct mps_sched s = { .chunk = 131072, .backlog = 4u << 20 };
	struct mps_sf_view v[3] = { sfr(20000, 0, 6250000, 131072), sfr(10000, 1, 62500000, 0),
				    sfr(60000, 1, 625000, 0) };

	/* The backup (faster, ready) is not a candidate while a regular
	 * subflow is usable; the slow regular one is. */
	v[1].backup = 1;
	ck_assert_int_eq(pick("ecf", &s, v, 3), 2);
	v[2].usable = 0;
	ck_assert_int_eq(pick("ecf", &s, v, 3), -1);
	/* Every regular one gone: the backup. */
	v[0].usable = 0;
	ck_assert_int_eq(pick("ecf", &s, v, 3), 1);
}
END_TEST

/* The window check: a chunk on the slow path must not stall the fast one. */
START_TEST(test_sched_ecf_window)
{
	/* 50 Mbit/s (20 ms, full) and 5 Mbit/s (60 ms, idle), 4 MiB to send:
	 * ECF alone sends on the slow path (t_f 700 ms > t_x 240 ms). */
	struct mps_sched s = { .chunk = 131072, .backlog = 4u << 20 };
	struct mps_sf_view v[2] = { sfr(20000, 0, 6250000, 131072), sfr(60000, 1, 625000, 0) };

	ck_assert_int_eq(pick("ecf", &s, v, 2), 1);
	/* A 4 MiB window: the chunk holds 128 KiB for 60 + 210 ms, while the
	 * fast path sends 1.7 MB: it fits in the rest: send. */
	s.window = 4u << 20;
	ck_assert_int_eq(pick("ecf", &s, v, 2), 1);
	/* A 1 MiB window: 1.7 MB > 1 MiB - 128 KiB: the fast path would stall. */
	s.window = 1u << 20;
	ck_assert_int_eq(pick("ecf", &s, v, 2), -1);
	ck_assert_int_eq(s.ecf_waiting, 1);
	/* A window smaller than the chunk: wait. */
	s.window = 65536;
	s.ecf_waiting = 0;
	ck_assert_int_eq(pick("ecf", &s, v, 2), -1);
	/* The fast path ready: it, whatever the window. */
	v[0].ready = 1;
	ck_assert_int_eq(pick("ecf", &s, v, 2), 0);
	/* Equal paths (RTT 20 ms each): 128 KiB hold 20 + 21 ms, the other
	 * sends 256 KB meanwhile: fits in 1 MiB - 128 KiB: send. */
	struct mps_sf_view w[2] = { sfr(20000, 0, 6250000, 131072), sfr(20001, 1, 6250000, 0) };
	s.window = 1u << 20;
	s.ecf_waiting = 0;
	ck_assert_int_eq(pick("ecf", &s, w, 2), 1);
}
END_TEST

/* The default's window check: with a window too small for both paths, a
 * chunk on the slow one holds part of it while the fast one runs dry. */
START_TEST(test_sched_default_window)
{
	/* 50 Mbit/s (2 ms, full) and 5 Mbit/s (10 ms, room), 128 KiB chunks,
	 * 4 MiB waiting. */
	struct mps_sched s = { .chunk = 131072, .backlog = 4u << 20 };
	struct mps_sf_view v[2] = { sfr(2000, 0, 6250000, 0), sfr(10000, 1, 625000, 0) };

	/* window unknown: the slow path, as always */
	ck_assert_int_eq(pick("default", &s, v, 2), 1);
	/* 4 MiB: the chunk holds 10 + 210 ms, the fast path sends 1.4 MB
	 * meanwhile: it fits: send */
	s.window = 4u << 20;
	ck_assert_int_eq(pick("default", &s, v, 2), 1);
	/* 256 KiB: 1.4 MB does not fit: the fast path would stall: wait */
	s.window = 262144;
	ck_assert_int_eq(pick("default", &s, v, 2), -1);
	/* redundant's single-subflow choice never waits */
	ck_assert_int_eq(pick("redundant", &s, v, 2), 1);
	/* either rate or RTT unknown: no check */
	v[1].rate = 0;
	ck_assert_int_eq(pick("default", &s, v, 2), 1);
	v[1].rate = 625000;
	v[0].rtt_us = 0; /* and the measured one is then the fastest */
	ck_assert_int_eq(pick("default", &s, v, 2), 1);
	v[0].rtt_us = 2000;
	/* the fast one ready: it */
	v[0].ready = 1;
	ck_assert_int_eq(pick("default", &s, v, 2), 0);
	/* equal paths (2 ms): 128 KiB hold 2 + 21 ms, the other sends 144 KB
	 * meanwhile: fits in 256 KiB: both carry data */
	struct mps_sf_view w[2] = { sfr(2000, 0, 6250000, 0), sfr(2001, 1, 6250000, 0) };
	ck_assert_int_eq(pick("default", &s, w, 2), 1);
	/* a fast path limited by the window itself (100 Mbit/s, 50 ms: its
	 * own window is 625 KB > 256 KiB): a slow chunk only lengthens the
	 * wait for the window, whatever the slow path's speed: wait */
	struct mps_sf_view u[2] = { sfr(50000, 0, 12500000, 0), sfr(50001, 1, 12500000, 0) };
	ck_assert_int_eq(pick("default", &s, u, 2), -1);
	/* only 8 KiB waiting: that is the chunk, held 10 + 13 ms, while the
	 * fast path sends 144 KB: fits in 256 KiB: send */
	s.backlog = 8192;
	v[0].ready = 0;
	ck_assert_int_eq(pick("default", &s, v, 2), 1);
	/* ... but behind 64 KiB the slow path already holds: 10 + 118 ms,
	 * 800 KB from the fast path meanwhile: wait */
	v[1].queued = 65536;
	ck_assert_int_eq(pick("default", &s, v, 2), -1);
	v[1].queued = 0;
	s.backlog = 4u << 20;
	/* backups: the check compares regular subflows only, so a ready backup
	 * stays idle while the fast regular one is full */
	struct mps_sf_view b[2] = { sfr(2000, 0, 6250000, 0), sfr(10000, 1, 625000, 0) };
	b[1].backup = 1;
	ck_assert_int_eq(pick("default", &s, b, 2), -1);
}
END_TEST

static Suite *sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("common");
	tcase_add_test(tc, test_sched_find);
	tcase_add_test(tc, test_sched_empty);
	tcase_add_test(tc, test_sched_only_usable_ready);
	tcase_add_test(tc, test_sched_backup);
	suite_add_tcase(s, tc);

	tc = tcase_create("default");
	tcase_add_test(tc, test_sched_default_lowest_rtt);
	tcase_add_test(tc, test_sched_default_ties_unknown);
	tcase_add_test(tc, test_sched_default_random);
	tcase_add_test(tc, test_sched_default_window);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundrobin");
	tcase_add_test(tc, test_sched_rr_cycle);
	tcase_add_test(tc, test_sched_rr_next);
	tcase_add_test(tc, test_sched_rr_fair);
	suite_add_tcase(s, tc);

	tc = tcase_create("ecf");
	tcase_add_test(tc, test_sched_ecf_waits_for_fast);
	tcase_add_test(tc, test_sched_ecf_deep_queue);
	tcase_add_test(tc, test_sched_ecf_unknown);
	tcase_add_test(tc, test_sched_ecf_hysteresis);
	tcase_add_test(tc, test_sched_ecf_backup);
	tcase_add_test(tc, test_sched_ecf_window);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sched_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
