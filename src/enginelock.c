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
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "enginelock_int.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/real.h"

__thread int mps_offloop, mps_offloop_dirty;
__thread double mps_offloop_at;

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
 * inline.c): the shim thread back from its poll lets them in first.  It
 * yields its core rather than spin: on two cores the thread it waits for
 * (woken by its unlock) is often queued behind it on its own core, and a
 * spin of 4,096 pauses was the top symbol of a connection-per-request
 * run (3.6 % of both cores). */
static atomic_int g_waiting;
#define YIELD_TRIES 4

/* Timers started off the loop (evoff.h): a timerfd in the loop's set,
 * armed for the earliest; g_tfd_at is when it fires (CLOCK_MONOTONIC ns),
 * UINT64_MAX while it is not armed.  Both change under the lock. */
static int g_tfd = -1;
static ev_io g_tfd_io;
static uint64_t g_tfd_at = UINT64_MAX;
/* A timer due within this much after the armed time rides on it. */
#define TFD_SLACK_NS 1000000u

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
		     i < YIELD_TRIES && atomic_load_explicit(&g_waiting, memory_order_relaxed); i++)
			sched_yield();
		pthread_mutex_lock(&g_lock);
	}
}

static void tfd_on_ready(struct ev_loop *loop, ev_io *w, int revents)
{
	uint64_t n;

	(void)loop;
	(void)revents;
	g_tfd_at = UINT64_MAX; /* the timers' time: the loop computes its next */
	(void)mps_real.read(w->fd, &n, sizeof(n)); /* (EAGAIN: re-armed meanwhile) */
}

/* The timerfd, new (a fork's copy would be the parent's timer too). */
static void tfd_open(struct ev_loop *loop)
{
	int fd;

	if (g_tfd >= 0) {
		ev_io_stop(loop, &g_tfd_io);
		mps_real.close(g_tfd);
		mps_ifd_del(g_tfd);
	}
	g_tfd_at = UINT64_MAX;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	g_tfd = fd < 0 ? -1 : mps_ifd_take(fd, 0); /* no room: wake-ups instead */
	if (g_tfd < 0)
		return;
	ev_io_init(&g_tfd_io, tfd_on_ready, g_tfd, EV_READ);
	ev_io_start(loop, &g_tfd_io);
	ev_unref(loop); /* the async watcher keeps the loop alive */
}

/* Lock held: the loop must be awake by at (ev_now-based); 0 if the
 * timerfd says so, -1 if only a wake-up can. */
static int tfd_arm(double at)
{
	struct itimerspec its = {{0, 0}, {0, 0}};
	uint64_t now = now_ns(), due;
	double rel = at - ev_now(g_loop);

	if (g_tfd < 0)
		return -1;
	due = now + (rel > 0 ? (uint64_t)(rel * 1e9) : 0) + 1000u; /* (0 disarms) */
	if (g_tfd_at != UINT64_MAX && due + TFD_SLACK_NS >= g_tfd_at)
		return 0; /* armed for then or earlier: the loop counts it then */
	its.it_value.tv_sec = (time_t)(due / 1000000000u);
	its.it_value.tv_nsec = (long)(due % 1000000000u);
	if (timerfd_settime(g_tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		return -1;
	g_tfd_at = due;
	return 0;
}

void mps_engine_attach(struct ev_loop *loop, ev_async *wake)
{
	g_loop = loop;
	g_wake = wake;
	ev_set_loop_release_cb(loop, on_release, on_acquire);
	tfd_open(loop);
}

void mps_engine_keeper(struct ev_loop *loop)
{
	tfd_open(loop);
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
	g_tfd = -1; /* closed with the parent's other descriptors (fdtab) */
	g_tfd_at = UINT64_MAX;
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
	mps_offloop_at = 0;
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
	mps_offloop_at = 0;
	ev_now_update(g_loop); /* the loop's clock stopped when it went to sleep */
	return g_loop;
}

void mps_engine_unlock(void)
{
	int kick = mps_offloop_dirty;

	/* A watcher started meanwhile takes effect once the loop wakes; a
	 * timer started meanwhile wakes it by its time (evoff.h). */
	if (!kick && mps_offloop_at > 0)
		kick = tfd_arm(mps_offloop_at) != 0;
	mps_offloop = mps_offloop_dirty = 0;
	mps_offloop_at = 0;
	pthread_mutex_unlock(&g_lock);
	if (kick)
		ev_async_send(g_loop, g_wake);
}
