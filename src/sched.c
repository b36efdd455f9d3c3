/* sched.c - packet schedulers (default, roundrobin, redundant).  Pure: the
 * engine hands in a view of its subflows, one pass over them picks one.
 * The rules are in include/mptcpshim/sched.h. */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "mptcpshim/sched.h"

/* Backup subflows carry data only while no regular one is usable at all.
 * A regular subflow that is merely full (not ready) still keeps the
 * backups idle: its room comes back within an RTT, a backup path may cost
 * money or battery. */
static int want_backup(const struct mps_sf_view *v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (v[i].usable && !v[i].backup)
			return 0;
	return 1;
}

static int candidate(const struct mps_sf_view *sf, int backup)
{
	return sf->usable && sf->ready && !sf->backup == !backup;
}

/* An unmeasured RTT (0) ranks after every measured one. */
static uint64_t rtt_rank(uint32_t rtt_us)
{
	return rtt_us ? rtt_us : (uint64_t)UINT32_MAX + 1;
}

/* Microseconds for bytes at rate (bytes/s), saturating. */
static uint64_t xfer_us(uint64_t bytes, uint64_t rate)
{
	if (bytes > UINT64_MAX / 1000000u)
		return UINT64_MAX / 2;
	return bytes * 1000000u / rate;
}

/* Bytes at rate (bytes/s) in us microseconds, saturating. */
static uint64_t bytes_in(uint64_t rate, uint64_t us)
{
	if (us && rate > UINT64_MAX / us)
		return UINT64_MAX;
	return rate * us / 1000000u;
}

/* The default's window check (the rule is in sched.h): would a chunk on
 * the slower subflow x hold the data-level window long enough to leave the
 * fastest subflow f with nothing to send?  Data acknowledged only
 * cumulatively: until x's chunk arrives, f can use what the window leaves. */
static int default_stalls_fast(const struct mps_sched *s, const struct mps_sf_view *f,
                               const struct mps_sf_view *x)
{
	uint64_t chunk, hold_us;

	if (!s->window || !f->rate || !x->rate || !f->rtt_us || !x->rtt_us)
		return 0;
	/* what x would really get: one burst, or less if less waits */
	chunk = s->chunk && s->chunk < s->backlog ? s->chunk : s->backlog;
	if (!chunk)
		chunk = 1;
	hold_us = x->rtt_us + xfer_us((uint64_t)x->queued + chunk, x->rate);
	return bytes_in(f->rate, hold_us) > s->window;
}

/* The lowest-RTT ready candidate; with check, -1 instead when that would
 * stall the fastest usable one (default_stalls_fast). */
static int pick_lowest(const struct mps_sched *s, const struct mps_sf_view *v, int n, int check)
{
	int i, best = -1, fast = -1, backup;
	uint64_t best_rank = 0;

	if (!v || n <= 0)
		return -1;
	backup = want_backup(v, n);
	for (i = 0; i < n; i++) {
		uint64_t r;

		if (!v[i].usable || !v[i].backup != !backup)
			continue;
		r = rtt_rank(v[i].rtt_us);
		/* strict <: ties go to the lowest index */
		if (fast < 0 || r < rtt_rank(v[fast].rtt_us))
			fast = i;
		if (!v[i].ready)
			continue;
		if (best < 0 || r < best_rank) {
			best = i;
			best_rank = r;
		}
	}
	if (check && best >= 0 && best != fast && default_stalls_fast(s, &v[fast], &v[best]))
		return -1;
	return best;
}

static int pick_default(struct mps_sched *s, const struct mps_sf_view *v, int n)
{
	return pick_lowest(s, v, n, 1);
}

/* redundant's single-subflow choice (a standalone ACK, one path left):
 * never waits. */
static int pick_redundant(struct mps_sched *s, const struct mps_sf_view *v, int n)
{
	return pick_lowest(s, v, n, 0);
}

static int pick_roundrobin(struct mps_sched *s, const struct mps_sf_view *v, int n)
{
	int k, backup;
	unsigned start;

	if (!v || n <= 0)
		return -1;
	backup = want_backup(v, n);
	/* rr_next is kept unreduced, so a subflow appended since the last
	 * pick (n grew) gets its turn before the search wraps to 0. */
	start = s->rr_next % (unsigned)n;
	for (k = 0; k < n; k++) {
		int i = (int)((start + (unsigned)k) % (unsigned)n);

		if (candidate(&v[i], backup)) {
			s->rr_next = (unsigned)i + 1;
			return i;
		}
	}
	return -1;
}

static int pick_ecf(struct mps_sched *s, const struct mps_sf_view *v, int n)
{
	int i, f = -1, x = -1, backup;
	uint64_t t_f, t_x, chunk;

	if (!v || n <= 0)
		return -1;
	backup = want_backup(v, n);
	for (i = 0; i < n; i++) {
		if (!v[i].usable || !v[i].backup != !backup)
			continue;
		/* strict <: ties go to the lowest index */
		if (f < 0 || rtt_rank(v[i].rtt_us) < rtt_rank(v[f].rtt_us))
			f = i;
		if (v[i].ready && (x < 0 || rtt_rank(v[i].rtt_us) < rtt_rank(v[x].rtt_us)))
			x = i;
	}
	if (x < 0)
		return -1;
	if (x == f || !v[f].rate || !v[x].rate || !v[f].rtt_us || !v[x].rtt_us) {
		s->ecf_waiting = 0;
		return x;
	}
	chunk = s->chunk && s->chunk < s->backlog ? s->chunk : s->backlog;
	t_f = xfer_us((uint64_t)v[f].queued + s->backlog, v[f].rate) + v[f].rtt_us / 2;
	t_x = xfer_us((uint64_t)v[x].queued + chunk, v[x].rate) + v[x].rtt_us / 2;
	if (s->ecf_waiting)
		t_x += t_x / 4;
	if (t_f < t_x) {
		s->ecf_waiting = 1;
		return -1;
	}
	if (s->window) {
		uint64_t hold_us = v[x].rtt_us + xfer_us(chunk, v[x].rate);
		uint64_t f_bytes = hold_us > UINT64_MAX / v[f].rate ? UINT64_MAX
								     : v[f].rate * hold_us / 1000000u;

		if (chunk >= s->window || f_bytes > s->window - chunk) {
			s->ecf_waiting = 1;
			return -1;
		}
	}
	s->ecf_waiting = 0;
	return x;
}

static const struct mps_sched_ops sched_default = {
	.name = "default",
	.redundant = 0,
	.pick = pick_default,
};

static const struct mps_sched_ops sched_roundrobin = {
	.name = "roundrobin",
	.redundant = 0,
	.pick = pick_roundrobin,
};

/* pick is there for the engine's single-subflow needs (a standalone ACK,
 * a reinjection): the default's choice. */
static const struct mps_sched_ops sched_redundant = {
	.name = "redundant",
	.redundant = 1,
	.pick = pick_redundant,
};

static const struct mps_sched_ops sched_ecf = {
	.name = "ecf",
	.redundant = 0,
	.pick = pick_ecf,
	.wants_info = 1,
};

static const struct mps_sched_ops *const schedulers[] = {
	&sched_default,
	&sched_roundrobin,
	&sched_redundant,
	&sched_ecf,
};

const struct mps_sched_ops *mps_sched_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < sizeof(schedulers) / sizeof(schedulers[0]); i++)
		if (!strcmp(name, schedulers[i]->name))
			return schedulers[i];
	return NULL;
}
