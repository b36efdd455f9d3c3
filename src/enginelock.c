/* enginelock.c - the engine lock (issue 15, the app-thread send path).
 *
 * The shim thread holds it whenever it is not waiting in epoll_wait
 * (libev's release and acquire callbacks), so an app thread that takes it
 * may run engine code on a connection (direct.c), the loop's state its own
 * for that moment.  Only the shim thread started by loop.c takes it; the
 * simulated network, the exit drain and the keeper run their loop without
 * it, and g_open (set under it) says whether an app thread may use it.
 * docs/DESIGN.md section 3. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "enginelock_int.h"

__thread int mps_offloop, mps_offloop_dirty;

/* Adaptive: the shim thread back from its poll while an app thread holds
 * the lock (a few microseconds) spins before it sleeps on it. */
static pthread_mutex_t g_lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
static __thread int t_owner;
static atomic_int g_open;
static struct ev_loop *g_loop;
static ev_async *g_wake;

/* An app thread takes the lock only while the shim thread sleeps in
 * epoll_wait (g_sleeping): a busy shim thread (many connections) would
 * otherwise block on the lock after its poll, and each such wait costs a
 * futex sleep and wake-up on both sides (wrk at 2,000 connections lost
 * 40 % that way).  The shim thread that just handed the app its bytes is
 * still ending that loop iteration when a request/response app answers:
 * the app thread waits up to SPIN_NS for it to go to sleep.  A wait that
 * fails means the thread is busy: none for NOSPIN_NS after it. */
#define SPIN_NS 5000
#define NOSPIN_NS 2000000
static atomic_int g_sleeping;
static _Atomic uint64_t g_nospin_until;
/* App threads blocked in mps_engine_lock (an inline connection's call,
 * inline.c): the shim thread back from its poll lets them in first. */
static atomic_int g_waiting;
#define YIELD_SPINS 4096

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* 1 once the shim thread sleeps, within SPIN_NS; 0 if it stays busy. */
static int wait_sleeping(void)
{
	uint64_t now, end;
	int i;

	if (atomic_load_explicit(&g_sleeping, memory_order_relaxed))
		return 1;
	now = now_ns();
	if (now < atomic_load_explicit(&g_nospin_until, memory_order_relaxed))
		return 0;
	end = now + SPIN_NS;
	for (i = 1;; i++) {
		__builtin_ia32_pause();
		if (atomic_load_explicit(&g_sleeping, memory_order_relaxed))
			return 1;
		if ((i & 31) == 0 && (now = now_ns()) > end) {
			atomic_store_explicit(&g_nospin_until, now + NOSPIN_NS,
			                      memory_order_relaxed);
			return 0;
		}
	}
}

static void on_release(struct ev_loop *loop)
{
	(void)loop;
	if (t_owner) {
		atomic_store_explicit(&g_sleeping, 1, memory_order_relaxed);
		pthread_mutex_unlock(&g_lock);
	}
}

static void on_acquire(struct ev_loop *loop)
{
	int i;

	(void)loop;
	if (t_owner) {
		atomic_store_explicit(&g_sleeping, 0, memory_order_relaxed);
		/* an unlock followed at once by a lock would keep them out */
		for (i = 0;
		     i < YIELD_SPINS && atomic_load_explicit(&g_waiting, memory_order_relaxed); i++)
			__builtin_ia32_pause();
		pthread_mutex_lock(&g_lock);
	}
}

void mps_engine_attach(struct ev_loop *loop, ev_async *wake)
{
	g_loop = loop;
	g_wake = wake;
	ev_set_loop_release_cb(loop, on_release, on_acquire);
}

void mps_engine_hold(int hold)
{
	if (hold)
		pthread_mutex_lock(&g_lock);
	t_owner = hold;
	if (!hold)
		pthread_mutex_unlock(&g_lock);
}

void mps_engine_open(int open)
{
	atomic_store_explicit(&g_open, open, memory_order_relaxed);
}

void mps_engine_atfork_child(void)
{
	g_lock = (pthread_mutex_t)PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
	atomic_store(&g_sleeping, 0);
	atomic_store(&g_waiting, 0);
	atomic_store(&g_open, 0);
}

struct ev_loop *mps_engine_lock(void)
{
	if (!atomic_load_explicit(&g_open, memory_order_relaxed))
		return NULL;
	atomic_fetch_add_explicit(&g_waiting, 1, memory_order_relaxed);
	pthread_mutex_lock(&g_lock);
	atomic_fetch_sub_explicit(&g_waiting, 1, memory_order_relaxed);
	if (!atomic_load_explicit(&g_open, memory_order_relaxed)) {
		pthread_mutex_unlock(&g_lock);
		return NULL;
	}
	mps_offloop = 1;
	mps_offloop_dirty = 0;
	ev_now_update(g_loop);
	return g_loop;
}

struct ev_loop *mps_engine_trylock(void)
{
	if (!atomic_load_explicit(&g_open, memory_order_relaxed) || !wait_sleeping() ||
	    pthread_mutex_trylock(&g_lock) != 0)
		return NULL;
	/* set and cleared under the lock; a forked child clears it */
	if (!atomic_load_explicit(&g_open, memory_order_relaxed)) {
		pthread_mutex_unlock(&g_lock);
		return NULL;
	}
	mps_offloop = 1;
	mps_offloop_dirty = 0;
	ev_now_update(g_loop); /* the loop's clock stopped when it went to sleep */
	return g_loop;
}

void mps_engine_unlock(void)
{
	int kick = mps_offloop_dirty;

	mps_offloop = mps_offloop_dirty = 0;
	pthread_mutex_unlock(&g_lock);
	/* A watcher started meanwhile takes effect, and a timer started
	 * meanwhile is counted in the loop's sleep, once it wakes (evoff.h). */
	if (kick)
		ev_async_send(g_loop, g_wake);
}
