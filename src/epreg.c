/* epreg.c - the app's epoll registrations, by descriptor (see epreg.h). */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "mptcpshim/epreg.h"
#include "mptcpshim/util.h"

#define PAGE_BITS 10
#define PAGE_FDS (1u << PAGE_BITS)
#define MAX_PAGES 1024u /* fds up to 2^20 are recorded */
#define STRIPES 32u

struct slot {
	atomic_int n;
	struct mps_epreg r[MPS_EPREG_PER_FD];
};

static _Atomic(struct slot *) g_pages[MAX_PAGES];
static pthread_mutex_t g_locks[STRIPES] = {
#define L PTHREAD_MUTEX_INITIALIZER
        L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
        L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
#undef L
};

static struct slot *slot_of(int fd, int create)
{
	unsigned p;
	struct slot *pg, *fresh;

	if (fd < 0 || (unsigned)fd >= MAX_PAGES * PAGE_FDS)
		return NULL;
	p = (unsigned)fd >> PAGE_BITS;
	pg = atomic_load(&g_pages[p]);
	if (!pg && create) {
		fresh = calloc(PAGE_FDS, sizeof(*fresh));
		if (!fresh)
			return NULL;
		pg = NULL;
		if (atomic_compare_exchange_strong(&g_pages[p], &pg, fresh))
			pg = fresh;
		else
			free(fresh); /* another thread's page won */
	}
	return pg ? &pg[(unsigned)fd & (PAGE_FDS - 1)] : NULL;
}

static pthread_mutex_t *lock_of(int fd)
{
	return &g_locks[(unsigned)fd % STRIPES];
}

static void drop(struct slot *sl, int i)
{
	int n = atomic_load(&sl->n);

	memmove(&sl->r[i], &sl->r[i + 1], (size_t)(n - i - 1) * sizeof(sl->r[0]));
	atomic_store(&sl->n, n - 1);
}

void mps_epreg_note(int epfd, int op, int fd, uint32_t events, uint64_t data)
{
	struct slot *sl;
	int i, n;

	if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL)
		return;
	sl = slot_of(fd, op != EPOLL_CTL_DEL);
	if (!sl)
		return;
	pthread_mutex_lock(lock_of(fd));
	n = atomic_load(&sl->n);
	for (i = 0; i < n && sl->r[i].epfd != epfd; i++)
		;
	if (op == EPOLL_CTL_DEL) {
		if (i < n)
			drop(sl, i);
	} else {
		if (i == n && n == MPS_EPREG_PER_FD) {
			drop(sl, 0); /* full: the oldest goes (maybe a closed set's) */
			i = --n;
		}
		sl->r[i].epfd = epfd;
		sl->r[i].events = events;
		sl->r[i].data = data;
		if (i == n)
			atomic_store(&sl->n, n + 1);
	}
	pthread_mutex_unlock(lock_of(fd));
}

int mps_epreg_take(int fd, struct mps_epreg *out, int max)
{
	struct slot *sl = slot_of(fd, 0);
	int n;

	if (!sl || !atomic_load(&sl->n))
		return 0;
	pthread_mutex_lock(lock_of(fd));
	n = atomic_load(&sl->n);
	if (n > max)
		n = max;
	memcpy(out, sl->r, (size_t)n * sizeof(*out));
	atomic_store(&sl->n, 0);
	pthread_mutex_unlock(lock_of(fd));
	return n;
}

int mps_epreg_any(int fd)
{
	struct slot *sl = slot_of(fd, 0);

	return sl && atomic_load(&sl->n) > 0;
}

int mps_epreg_in(int fd, int epfd)
{
	struct slot *sl = slot_of(fd, 0);
	int i, n, hit = 0;

	if (!sl || !atomic_load(&sl->n))
		return 0;
	pthread_mutex_lock(lock_of(fd));
	n = atomic_load(&sl->n);
	for (i = 0; i < n && !hit; i++)
		hit = sl->r[i].epfd == epfd;
	pthread_mutex_unlock(lock_of(fd));
	return hit;
}

void mps_epreg_forget(int fd)
{
	struct mps_epreg r[MPS_EPREG_PER_FD];

	mps_epreg_take(fd, r, MPS_EPREG_PER_FD);
}

void mps_epreg_lock_all(int lock)
{
	unsigned i;

	for (i = 0; i < STRIPES; i++)
		mps_mutex_hold(&g_locks[lock ? i : STRIPES - 1 - i], lock);
}
