/* peercache.c - small fixed-size cache of destination verdicts.
 * Consulted once per connect(), so a mutex and a linear scan suffice. */
#include "config.h"

#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include "mptcpshim/peercache.h"

#define SLOTS 128

struct entry {
	uint8_t key[18]; /* 16 address bytes + port */
	uint8_t family;
	uint8_t kind;
	uint64_t until_us; /* PLAIN only */
	uint64_t stamp;    /* LRU */
};

static struct entry g_tab[SLOTS];
static uint64_t g_clock;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static int make_key(const struct sockaddr *sa, uint8_t key[18], uint8_t *family)
{
	memset(key, 0, 18);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		memcpy(key, &in->sin_addr, 4);
		memcpy(key + 16, &in->sin_port, 2);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		memcpy(key, &in6->sin6_addr, 16);
		memcpy(key + 16, &in6->sin6_port, 2);
	} else
		return -1;
	*family = (uint8_t)sa->sa_family;
	return 0;
}

static struct entry *find(const uint8_t key[18], uint8_t family)
{
	int i;

	for (i = 0; i < SLOTS; i++)
		if (g_tab[i].kind && g_tab[i].family == family && !memcmp(g_tab[i].key, key, 18))
			return &g_tab[i];
	return NULL;
}

enum mps_peer_kind mps_peercache_lookup(const struct sockaddr *sa, uint64_t now_us)
{
	uint8_t key[18], family;
	struct entry *e;
	enum mps_peer_kind k = MPS_PEER_UNKNOWN;

	if (make_key(sa, key, &family))
		return MPS_PEER_UNKNOWN;
	pthread_mutex_lock(&g_lock);
	e = find(key, family);
	if (e) {
		if (e->kind == MPS_PEER_PLAIN && now_us >= e->until_us)
			e->kind = MPS_PEER_UNKNOWN; /* expired: try MP again */
		k = (enum mps_peer_kind)e->kind;
		e->stamp = ++g_clock;
	}
	pthread_mutex_unlock(&g_lock);
	return k;
}

void mps_peercache_note(const struct sockaddr *sa, enum mps_peer_kind kind, uint64_t now_us,
			uint64_t ttl_us)
{
	uint8_t key[18], family;
	struct entry *e;
	int i;

	if (make_key(sa, key, &family))
		return;
	pthread_mutex_lock(&g_lock);
	e = find(key, family);
	if (!e) {
		e = &g_tab[0];
		for (i = 0; i < SLOTS; i++) {
			if (!g_tab[i].kind) {
				e = &g_tab[i];
				break;
			}
			if (g_tab[i].stamp < e->stamp)
				e = &g_tab[i];
		}
		memcpy(e->key, key, 18);
		e->family = family;
	}
	e->kind = (uint8_t)kind;
	e->until_us = now_us + ttl_us;
	e->stamp = ++g_clock;
	pthread_mutex_unlock(&g_lock);
}

void mps_peercache_lock(int lock)
{
	if (lock)
		pthread_mutex_lock(&g_lock);
	else
		pthread_mutex_unlock(&g_lock);
}
