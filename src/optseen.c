/* optseen.c - which socket options a TCP socket may carry: see optseen.h. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "mptcpshim/optseen.h"

/* Sockets, by descriptor number: pages allocated on first use. */
#define PAGE 1024
#define PAGES 64 /* numbers 0..65535; higher ones read everything */

struct rec {
	_Atomic uint64_t cookie; /* 0: nothing known */
	atomic_uint bits;
	atomic_uint gen;
};

static struct rec *_Atomic g_pages[PAGES];
static atomic_uint g_gen = 1; /* bumped at each fork */

static struct rec *rec_at(int fd, int create)
{
	struct rec *p, *expect = NULL;

	if (fd < 0 || fd >= PAGE * PAGES)
		return NULL;
	p = atomic_load(&g_pages[fd / PAGE]);
	if (!p && create) {
		p = calloc(PAGE, sizeof(*p));
		if (!p)
			return NULL;
		if (!atomic_compare_exchange_strong(&g_pages[fd / PAGE], &expect, p)) {
			free(p);
			p = expect;
		}
	}
	return p ? &p[fd % PAGE] : NULL;
}

/* Listeners: a few, looked up by number. */
#define LISTENERS 16

struct lrec {
	atomic_int key; /* fd + 1, 0: free; written under g_l_lock, read without */
	int have_bits;
	uint32_t bits;
	unsigned gen;
	uint64_t until_us;
};

static struct lrec g_l[LISTENERS];
static pthread_mutex_t g_l_lock = PTHREAD_MUTEX_INITIALIZER;

static void listener_forget(int fd)
{
	int i, any = 0;

	/* close() and setsockopt() of every socket come here: no lock
	 * unless fd is a listener we know */
	for (i = 0; i < LISTENERS; i++)
		any |= atomic_load_explicit(&g_l[i].key, memory_order_relaxed) == fd + 1;
	if (!any)
		return;
	pthread_mutex_lock(&g_l_lock);
	for (i = 0; i < LISTENERS; i++)
		if (g_l[i].key == fd + 1)
			g_l[i].key = 0;
	pthread_mutex_unlock(&g_l_lock);
}

void mps_optseen_socket(int fd, uint64_t cookie)
{
	struct rec *r = rec_at(fd, 1);

	listener_forget(fd);
	if (!r)
		return;
	atomic_store(&r->cookie, 0);
	atomic_store(&r->bits, 0);
	atomic_store(&r->gen, atomic_load(&g_gen));
	atomic_store(&r->cookie, cookie);
}

void mps_optseen_set(int fd, uint32_t bits)
{
	struct rec *r = rec_at(fd, 0);

	if (r && bits)
		atomic_fetch_or(&r->bits, bits);
	listener_forget(fd);
}

void mps_optseen_gone(int fd)
{
	struct rec *r = rec_at(fd, 0);

	if (r)
		atomic_store(&r->cookie, 0);
	listener_forget(fd);
}

void mps_optseen_shared(int fd)
{
	struct rec *r = rec_at(fd, 0);

	if (r)
		atomic_store(&r->bits, MPS_OPTSEEN_ALL);
	listener_forget(fd);
}

void mps_optseen_forked(void)
{
	atomic_fetch_add(&g_gen, 1);
}

int mps_optseen_lookup(int fd, uint64_t cookie, uint32_t *bits)
{
	struct rec *r = rec_at(fd, 0);

	if (!r || !cookie || atomic_load(&r->cookie) != cookie ||
	    atomic_load(&r->gen) != atomic_load(&g_gen))
		return 0;
	*bits = atomic_load(&r->bits);
	return 1;
}

int mps_optseen_listener(int lfd, uint64_t now_us, uint32_t *bits)
{
	unsigned gen = atomic_load(&g_gen);
	int i, rc = 0;

	pthread_mutex_lock(&g_l_lock);
	for (i = 0; i < LISTENERS; i++) {
		struct lrec *l = &g_l[i];

		if (l->key != lfd + 1)
			continue;
		if (l->gen != gen || now_us >= l->until_us) {
			l->key = 0;
			break;
		}
		rc = 1;
		if (l->have_bits) {
			*bits = l->bits;
			rc = 2;
		}
		break;
	}
	pthread_mutex_unlock(&g_l_lock);
	return rc;
}

void mps_optseen_listener_note(int lfd, uint64_t now_us, int have_bits, uint32_t bits)
{
	unsigned gen = atomic_load(&g_gen);
	struct lrec *l = NULL;
	int i;

	if (lfd < 0)
		return;
	pthread_mutex_lock(&g_l_lock);
	for (i = 0; i < LISTENERS; i++)
		if (g_l[i].key == lfd + 1) {
			l = &g_l[i];
			break;
		}
	if (l && l->gen == gen && now_us < l->until_us) {
		/* known: only a full read adds the bits (its deadline stays) */
		if (have_bits && !l->have_bits) {
			l->have_bits = 1;
			l->bits = bits;
		}
		pthread_mutex_unlock(&g_l_lock);
		return;
	}
	if (!l) {
		/* a free slot, else the one that expires first */
		for (i = 0; i < LISTENERS; i++)
			if (!l || !g_l[i].key || g_l[i].until_us < l->until_us) {
				l = &g_l[i];
				if (!l->key)
					break;
			}
	}
	l->key = lfd + 1;
	l->gen = gen;
	l->until_us = now_us + MPS_OPTSEEN_LISTENER_US;
	l->have_bits = have_bits;
	l->bits = have_bits ? bits : 0;
	pthread_mutex_unlock(&g_l_lock);
}

void mps_optseen_lock(int lock)
{
	if (lock)
		pthread_mutex_lock(&g_l_lock);
	else
		pthread_mutex_unlock(&g_l_lock);
}
