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

#include "enginelock_int.h"

__thread int mps_offloop, mps_offloop_dirty;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int t_owner;
static atomic_int g_open;
static struct ev_loop *g_loop;
static ev_async *g_wake;

/* Trylocks, with a pause between (10-20 us): the shim thread that just
 * handed the app its bytes is still ending that loop iteration when the
 * app answers (a request/response).  A thread busy for longer: the
 * socketpair way costs less than waiting. */
#define SPIN 4000

static void on_release(struct ev_loop *loop)
{
	(void)loop;
	if (t_owner)
		pthread_mutex_unlock(&g_lock);
}

static void on_acquire(struct ev_loop *loop)
{
	(void)loop;
	if (t_owner)
		pthread_mutex_lock(&g_lock);
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
	pthread_mutex_init(&g_lock, NULL);
	atomic_store(&g_open, 0);
}

struct ev_loop *mps_engine_trylock(void)
{
	int i;

	if (!atomic_load_explicit(&g_open, memory_order_relaxed))
		return NULL;
	for (i = 0; pthread_mutex_trylock(&g_lock) != 0; i++) {
		if (i == SPIN)
			return NULL;
		__builtin_ia32_pause();
	}
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
