/* loop.c - the shim thread and its command queue (see loop.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mptcpshim/conn.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"

__thread int mps_inside;

static struct {
	pthread_mutex_t lock;
	struct ev_loop *ev;
	ev_async wake;
	pthread_t thread;
	int running;
	struct mps_cmd *head, *tail;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
	struct mps_cmd *c, *next;

	pthread_mutex_lock(&g.lock);
	c = g.head;
	g.head = g.tail = NULL;
	pthread_mutex_unlock(&g.lock);
	for (; c; c = next) {
		next = c->next;
		c->fn(loop, c->arg);
	}
}

static void *thread_main(void *arg)
{
	struct ev_loop *loop = arg;

	mps_inside = 1;
	ev_run(loop, 0);
	return NULL;
}

/* Called with g.lock held. */
static int start_locked(void)
{
	sigset_t all, old;
	int rc;

	g.ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
	if (!g.ev)
		return -ENOMEM;
	ev_async_init(&g.wake, on_wake);
	ev_async_start(g.ev, &g.wake);
	/* Keep the loop alive with no connections: the async watcher is it. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&g.thread, NULL, thread_main, g.ev);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		ev_loop_destroy(g.ev);
		g.ev = NULL;
		return -rc;
	}
	pthread_detach(g.thread);
	g.running = 1;
	mps_dbg("loop: shim thread started");
	return 0;
}

int mps_loop_submit(struct mps_cmd *cmd)
{
	int rc = 0;

	cmd->next = NULL;
	pthread_mutex_lock(&g.lock);
	if (!g.running)
		rc = start_locked();
	if (rc == 0) {
		if (g.tail)
			g.tail->next = cmd;
		else
			g.head = cmd;
		g.tail = cmd;
	}
	pthread_mutex_unlock(&g.lock);
	if (rc == 0)
		ev_async_send(g.ev, &g.wake);
	return rc;
}

int mps_loop_on_thread(void) { return g.running && pthread_equal(pthread_self(), g.thread); }

/* ---- exit drain ---- */

static pthread_cond_t g_drained_cv = PTHREAD_COND_INITIALIZER;
static int g_drained;
static ev_timer g_drain_timer;
static struct mps_cmd g_drain_cmd;

static void drain_check(struct ev_loop *loop, ev_timer *w, int revents)
{
	if (!mps_conn_all_drained())
		return;
	ev_timer_stop(loop, w);
	pthread_mutex_lock(&g.lock);
	g_drained = 1;
	pthread_cond_broadcast(&g_drained_cv);
	pthread_mutex_unlock(&g.lock);
}

static void drain_start(struct ev_loop *loop, void *arg)
{
	mps_conn_exit_drain(loop);
	ev_timer_init(&g_drain_timer, drain_check, 0., 0.005);
	ev_timer_again(loop, &g_drain_timer);
	drain_check(loop, &g_drain_timer, 0);
}

void mps_loop_exit_drain(double timeout)
{
	struct timespec ts;
	int running;

	pthread_mutex_lock(&g.lock);
	running = g.running && !mps_loop_on_thread();
	pthread_mutex_unlock(&g.lock);
	if (!running)
		return;
	g_drained = 0;
	g_drain_cmd.fn = drain_start;
	g_drain_cmd.arg = NULL;
	if (mps_loop_submit(&g_drain_cmd))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)timeout;
	pthread_mutex_lock(&g.lock);
	while (!g_drained)
		if (pthread_cond_timedwait(&g_drained_cv, &g.lock, &ts) == ETIMEDOUT) {
			mps_warn("exit: connections still undelivered after %.0f s", timeout);
			break;
		}
	pthread_mutex_unlock(&g.lock);
}

void mps_loop_atfork_prepare(void) { pthread_mutex_lock(&g.lock); }
void mps_loop_atfork_parent(void) { pthread_mutex_unlock(&g.lock); }

void mps_loop_atfork_child(void)
{
	/* No shim thread here.  The parent's loop memory is left alone (its
	 * internal fds are closed by fdtab); a new loop starts on demand.
	 * Queued commands belong to the parent's thread. */
	g.running = 0;
	g.ev = NULL;
	g.head = g.tail = NULL;
	pthread_mutex_unlock(&g.lock);
}
