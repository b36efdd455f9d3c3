/* gwlimit.h - the gateway's limits before and after authentication
 * (docs/DESIGN.md section 10, "Limits"): pure bookkeeping, no I/O, no
 * locks (mptcpshim-gateway holds one mutex around every call).
 *
 * - Pending connections per source: connections accepted from one source
 *   that have not authenticated yet (or been refused).  An IPv4 address
 *   (an IPv4-mapped IPv6 one alike) is one source; an IPv6 source is its
 *   /64, what one host or one site usually holds.  One address cannot hold
 *   more than its share of the gateway, so it cannot starve the others.
 * - New connections per client key: a token bucket of `burst` tokens
 *   refilled at `rate` per second; an authenticated request that finds it
 *   empty is refused.
 *
 * Memory is fixed at init: a table of sources with room for max_conns
 * entries (each pending connection holds at most one), and one of client
 * names.
 */
#ifndef MPS_GWLIMIT_H
#define MPS_GWLIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mptcpshim/gwauth.h"

struct mps_gwl_src {
	uint8_t key[16]; /* the source: IPv4 as ::ffff:a.b.c.d, IPv6 masked to /64 */
	uint32_t n;      /* 0: a free slot */
};

struct mps_gwl_bucket {
	char name[MPS_GWAUTH_NAME_MAX + 1]; /* "": a free slot */
	double tokens;
	long long t_ms; /* when tokens was computed */
};

struct mps_gwlimit {
	uint32_t per_source; /* 0: no per-source limit */
	double rate, burst;  /* rate 0: no rate limit */
	uint64_t seed;       /* keyed hash: a sender cannot aim at one chain */
	struct mps_gwl_src *src;
	size_t src_cap; /* a power of two */
	size_t src_used;
	struct mps_gwl_bucket *bk;
	size_t bk_cap;
};

/* per_source: pending connections one source may hold (0: unlimited);
 * max_conns: the gateway's cap on connections (sizes the table); rate,
 * burst: new connections per client key per second and the bucket's
 * size (rate 0: unlimited); clients: how many key names to keep buckets
 * for.  0, -EINVAL or -ENOMEM. */
int mps_gwlimit_init(struct mps_gwlimit *l, uint32_t per_source, size_t max_conns, double rate,
                     double burst, size_t clients, uint64_t seed);
void mps_gwlimit_free(struct mps_gwlimit *l);

/* The source of sa (AF_INET or AF_INET6) in key form: 0 or -EAFNOSUPPORT. */
int mps_gwlimit_source_key(const struct sockaddr *sa, uint8_t key[16]);

/* One more pending connection from key: 0 (counted), -EBUSY (the source
 * holds per_source already) or -ENOSPC (the table is full: more pending
 * connections than max_conns). */
int mps_gwlimit_pending_take(struct mps_gwlimit *l, const uint8_t key[16]);
/* That connection authenticated, or was refused (every take has one drop). */
void mps_gwlimit_pending_drop(struct mps_gwlimit *l, const uint8_t key[16]);
/* Pending connections from key now. */
uint32_t mps_gwlimit_pending(const struct mps_gwlimit *l, const uint8_t key[16]);

/* A new connection of client `name` at now_ms (monotonic): 0 (a token
 * taken), -EAGAIN (the bucket is empty: over the rate). */
int mps_gwlimit_rate_take(struct mps_gwlimit *l, const char *name, long long now_ms);

#endif
