/* gwlimit.c - the gateway's per-source and per-client limits (see
 * gwlimit.h). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/gwlimit.h"

static size_t pow2_at_least(size_t n)
{
	size_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

/* A keyed mix of the bytes (not a MAC: it only spreads the entries, so
 * that a sender who picks its addresses cannot predict where they land). */
static uint64_t mix(uint64_t seed, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

int mps_gwlimit_init(struct mps_gwlimit *l, uint32_t per_source, size_t max_conns, double rate,
                     double burst, size_t clients, uint64_t seed)
{
	memset(l, 0, sizeof(*l));
	if (max_conns == 0 || rate < 0 || burst < 0 || (rate > 0 && burst < 1) ||
	    max_conns > (1u << 24) || clients > (1u << 20))
		return -EINVAL;
	l->per_source = per_source;
	l->rate = rate;
	l->burst = burst;
	l->seed = seed;
	/* at most half full: linear probing stays short */
	l->src_cap = pow2_at_least(2 * max_conns);
	l->src = calloc(l->src_cap, sizeof(*l->src));
	l->bk_cap = pow2_at_least(2 * (clients ? clients : 1));
	l->bk = calloc(l->bk_cap, sizeof(*l->bk));
	if (!l->src || !l->bk) {
		mps_gwlimit_free(l);
		return -ENOMEM;
	}
	return 0;
}

void mps_gwlimit_free(struct mps_gwlimit *l)
{
	free(l->src);
	free(l->bk);
	memset(l, 0, sizeof(*l));
}

int mps_gwlimit_source_key(const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const uint8_t v4m[12] = {[10] = 0xff, [11] = 0xff};

		if (!memcmp(a, v4m, 12))
			memcpy(key, a, 16); /* an IPv4 client on a dual-stack listener */
		else
			memcpy(key, a, 8); /* its /64 */
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* The slot holding key, or the free slot where it would go. */
static size_t src_find(const struct mps_gwlimit *l, const uint8_t key[16])
{
	size_t m = l->src_cap - 1, i = (size_t)mix(l->seed, key, 16) & m;

	while (l->src[i].n && memcmp(l->src[i].key, key, 16))
		i = (i + 1) & m;
	return i;
}

int mps_gwlimit_pending_take(struct mps_gwlimit *l, const uint8_t key[16])
{
	size_t i = src_find(l, key);

	if (l->src[i].n == 0) {
		/* a new source: keep the table at most half full */
		if (l->src_used + 1 > l->src_cap / 2)
			return -ENOSPC;
		memcpy(l->src[i].key, key, 16);
		l->src_used++;
	} else if (l->per_source && l->src[i].n >= l->per_source) {
		return -EBUSY;
	}
	l->src[i].n++;
	return 0;
}

void mps_gwlimit_pending_drop(struct mps_gwlimit *l, const uint8_t key[16])
{
	size_t m = l->src_cap - 1, i = src_find(l, key), j, k;

	if (l->src[i].n == 0 || --l->src[i].n > 0)
		return;
	/* the slot is free again: move later entries of the run back so
	 * that each stays reachable from its home slot (no tombstones) */
	l->src_used--;
	j = i;
	for (;;) {
		j = (j + 1) & m;
		if (l->src[j].n == 0)
			break;
		k = (size_t)mix(l->seed, l->src[j].key, 16) & m;
		/* j's home k lies cyclically in (i, j]: it stays */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		l->src[i] = l->src[j];
		l->src[j].n = 0;
		i = j;
	}
}

uint32_t mps_gwlimit_pending(const struct mps_gwlimit *l, const uint8_t key[16])
{
	return l->src[src_find(l, key)].n;
}

int mps_gwlimit_rate_take(struct mps_gwlimit *l, const char *name, long long now_ms)
{
	size_t m = l->bk_cap - 1, i, probes = 0;
	struct mps_gwl_bucket *b;

	if (l->rate <= 0)
		return 0;
	i = (size_t)mix(l->seed, name, strlen(name)) & m;
	while (l->bk[i].name[0] && strcmp(l->bk[i].name, name)) {
		i = (i + 1) & m;
		if (++probes == l->bk_cap)
			return 0; /* more names than keys: never refuse for our table's sake */
	}
	b = &l->bk[i];
	if (!b->name[0]) {
		strncpy(b->name, name, sizeof(b->name) - 1);
		b->tokens = l->burst;
		b->t_ms = now_ms;
	} else if (now_ms > b->t_ms) {
		b->tokens += (double)(now_ms - b->t_ms) * l->rate / 1000.0;
		if (b->tokens > l->burst)
			b->tokens = l->burst;
		b->t_ms = now_ms;
	}
	if (b->tokens < 1.0)
		return -EAGAIN;
	b->tokens -= 1.0;
	return 0;
}
