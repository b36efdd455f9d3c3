/* namecache.c - address -> the host name it was resolved from (rules in
 * include/mptcpshim/namecache.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/namecache.h"

struct entry {
	int family; /* 0: free */
	uint8_t addr[16];
	char name[MPS_NAMECACHE_NAME];
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry g_tab[MPS_NAMECACHE_SIZE];
static unsigned g_next; /* the slot replaced next (oldest) */

static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};

/* Normalise: IPv4-mapped IPv6 counts as IPv4.  0 or -EINVAL. */
static int norm(int *family, const uint8_t **addr)
{
	if (*family == AF_INET6 && !memcmp(*addr, v4mapped, 12)) {
		*family = AF_INET;
		*addr += 12;
	}
	return *family == AF_INET || *family == AF_INET6 ? 0 : -EINVAL;
}

static struct entry *find(int family, const uint8_t *addr)
{
	unsigned i;

	for (i = 0; i < MPS_NAMECACHE_SIZE; i++)
		if (g_tab[i].family == family &&
		    !memcmp(g_tab[i].addr, addr, family == AF_INET ? 4 : 16))
			return &g_tab[i];
	return NULL;
}

int mps_namecache_put(int family, const uint8_t *addr, const char *name)
{
	struct entry *e;
	size_t n;

	if (!addr || !name || norm(&family, &addr))
		return -EINVAL;
	n = strlen(name);
	if (n == 0 || n >= MPS_NAMECACHE_NAME)
		return -EINVAL;
	pthread_mutex_lock(&g_mu);
	e = find(family, addr);
	if (!e) {
		e = &g_tab[g_next];
		g_next = (g_next + 1) % MPS_NAMECACHE_SIZE;
	}
	memset(e, 0, sizeof(*e));
	e->family = family;
	memcpy(e->addr, addr, family == AF_INET ? 4 : 16);
	memcpy(e->name, name, n + 1);
	pthread_mutex_unlock(&g_mu);
	return 0;
}

int mps_namecache_get(int family, const uint8_t *addr, char *out, size_t cap)
{
	struct entry *e;
	int rc = -ENOENT;

	if (!addr || !out || !cap || norm(&family, &addr))
		return -ENOENT;
	pthread_mutex_lock(&g_mu);
	e = find(family, addr);
	if (e && strlen(e->name) < cap) {
		strcpy(out, e->name);
		rc = 0;
	}
	pthread_mutex_unlock(&g_mu);
	return rc;
}

void mps_namecache_clear(void)
{
	pthread_mutex_lock(&g_mu);
	memset(g_tab, 0, sizeof(g_tab));
	g_next = 0;
	pthread_mutex_unlock(&g_mu);
}
