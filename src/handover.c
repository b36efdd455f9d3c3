/* handover.c - a forked child takes its connection over (see handover.h
 * and docs/DESIGN.md, "Process model").
 *
 * Who may act on an offered connection, at each moment, so that no byte
 * is read twice or lost: from the fork on, the parent does not (its
 * watchers are stopped while the thread is parked, before the fork copies
 * them); the child does only once the word says ADOPTED, which it writes
 * itself, and only from TAKEN, which only the parent's close writes.  A
 * parent that sees KEPT resumes; one that sees ADOPTED forgets its copies
 * without a wire action: the child holds the same open files, so closing
 * them sends no FIN and no RST (nothing here calls shutdown()). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "conn_int.h"
#include "ccglue_int.h"
#include "path_int.h"
#include "resilience_int.h"
#include "handover_int.h"
#include "idlemem_int.h"
#include "mptcpshim/epreg.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/handover.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/netmon.h"
#include "mptcpshim/real.h"
#include "mptcpshim/token.h"
#include "mptcpshim/stat.h"

/* The parent looks at its undecided offers this often. */
#define HO_TICK 0.002

/* mps_handover_pending: defined in handover_join.c, the lower module */
static int ho_token_offered(uint32_t token);
atomic_int mps_handover_epfd = -1;
atomic_int mps_handover_adopter;
__thread int mps_handover_off;

/* g_lock guards the lists.  The prepare handler holds it across the fork
 * (released in both processes); the shim thread's tick only tries it. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ho_offer *g_batch;  /* made by the fork in progress */
static struct ho_offer *g_parent; /* ours, offered to children, undecided */
static struct ho_offer *g_child;  /* offered to this process, not settled */
static pid_t g_child_pid;         /* the process g_child belongs to */
static ev_timer g_tick;
static __thread int t_prep, t_parked;
static atomic_int g_forking; /* a prepare handler runs (or waits for g_lock) */
/* This thread holds g_lock in a hook or a fork handler: the hooked calls
 * we make meanwhile (ev_async_send's write...) must not take it again. */
static __thread int t_busy;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void list_unlink(struct mps_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (mps_conn_list == c)
		mps_conn_list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

/* Nothing of this process acts on c any more: its watchers stop (timers
 * keep their remaining time: libev stores it on stop), it leaves the
 * connection list, the hup set and the token table.  Shim thread parked. */
static void suspend(struct mps_conn *c, struct ho_offer *o)
{
	ev_watcher *w[HO_MAXW];
	uint8_t io[HO_MAXW];
	int n = mps_ho_watchers(c, w, io), i;

	for (i = 0; i < n; i++) {
		o->was[i] = ev_is_active(w[i]) ? 1 : ev_is_pending(w[i]) && !io[i] ? 2 : 0;
		if (io[i])
			ev_io_stop(c->loop, (ev_io *)w[i]);
		else
			ev_timer_stop(c->loop, (ev_timer *)w[i]);
	}
	list_unlink(c);
	mps_resil_stale_suspend(c);
	mps_conn_hup_set(c, 0);
	if (c->token_registered)
		mps_token_del(c->local_token, c);
}

/* The reverse, on loop (the parent's again, or the child's own). */
static void resume(struct mps_conn *c, struct ho_offer *o, struct ev_loop *loop)
{
	ev_watcher *w[HO_MAXW];
	uint8_t io[HO_MAXW];
	int n, i;

	c->loop = loop;
	c->next = mps_conn_list;
	c->prev = NULL;
	if (mps_conn_list)
		mps_conn_list->prev = c;
	mps_conn_list = c;
	mps_conn_reaper_arm(loop);
	mps_idlemem_arm(loop);
	if (c->token_registered && mps_token_add(c->local_token, c) != 0) {
		c->token_registered = 0; /* joins are refused; the connection goes on */
		mps_info("conn %s: token taken in this process: no more joins", c->peer_str);
	}
	if (mps_conn_hup_set(c, 1) != 0) {
		mps_conn_abort(c, MPS_CR_INTERNAL, 0, "cannot watch the app's descriptor");
		return;
	}
	n = mps_ho_watchers(c, w, io);
	for (i = 0; i < n; i++) {
		if (!o->was[i])
			continue;
		if (io[i])
			ev_io_start(loop, (ev_io *)w[i]);
		else {
			ev_timer *t = (ev_timer *)w[i];

			if (o->was[i] == 2)
				ev_timer_set(t, 0., t->repeat);
			ev_timer_start(loop, t);
		}
	}
	mps_resil_stale_resume(c);
}

/* ---- the parent ---- */

static int offerable(const struct mps_conn *c)
{
	return c->role == MPS_SERVER && !c->gw && !c->exec_carried && !mps_conn_closed(c) &&
	       !c->exiting && !c->app_closed && c->app_dup < 0 && c->nsf > 0 &&
	       c->sock->conn == c && atomic_load(&c->sock->state) == MPS_SS_CONNECTED;
}

struct socks {
	struct mps_sock **s;
	int n, cap;
};

static int note_sock(int fd, struct mps_sock *s, void *arg)
{
	struct socks *l = arg;

	(void)fd;
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 16;
		struct mps_sock **ns = realloc(l->s, (size_t)cap * sizeof(*ns));

		if (!ns)
			return 1;
		l->s = ns;
		l->cap = cap;
	}
	l->s[l->n++] = s;
	return 0;
}

static int held(const struct socks *l, const struct mps_sock *s)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (l->s[i] == s)
			return 1;
	return 0;
}

void mps_handover_prepare(void)
{
	struct socks held_socks = {0};
	struct mps_conn *c, *next;
	double t0;

	t_prep = t_parked = 0;
	if (mps_handover_off || mps_keeper_forking || mps_inside || t_busy ||
	    !mps_config()->handover)
		return;
	t_busy = 1;
	atomic_store(&g_forking, 1);
	pthread_mutex_lock(&g_lock);
	t_prep = 1;
	/* Only a process that runs its shim thread services connections. */
	t_parked = mps_loop_park(2);
	if (!t_parked || !mps_conn_list)
		return;
	mps_fdtab_each(note_sock, &held_socks);
	t0 = mono();
	for (c = mps_conn_list; c; c = next) {
		struct ho_offer *o;

		next = c->next;
		if (!offerable(c) || !held(&held_socks, c->sock)) {
			mps_dbg("conn %s: not offered to the child (offerable %d, held %d)",
			        c->peer_str, offerable(c), held(&held_socks, c->sock));
			continue;
		}
		o = calloc(1, sizeof(*o));
		if (!o)
			break;
		o->w = mps_ho_word_new(&o->wfd);
		if (!o->w) {
			free(o);
			break;
		}
		atomic_store(&o->w->state, HO_OFFERED);
		o->c = c;
		o->t0 = t0;
		o->parent = getpid();
		suspend(c, o);
		o->next = g_batch;
		g_batch = o;
	}
	free(held_socks.s);
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents);

void mps_handover_parent(void)
{
	struct ho_offer *o;
	struct ev_loop *loop = NULL;
	int n = 0;

	if (!t_prep)
		return;
	while ((o = g_batch)) {
		g_batch = o->next;
		o->next = g_parent;
		g_parent = o;
		loop = o->c->loop;
		n++;
	}
	if (n) {
		mps_ho_joins_set_offered(ho_token_offered);
		atomic_fetch_add(&mps_handover_pending, n);
		/* The thread is parked inside a callback: the timer is seen
		 * when its loop iterates next. */
		if (!ev_is_active(&g_tick)) {
			ev_timer_init(&g_tick, on_tick, HO_TICK, HO_TICK);
			ev_timer_start(loop, &g_tick);
		}
	}
	if (t_parked)
		mps_loop_park(0);
	t_prep = t_parked = 0;
	atomic_store(&g_forking, 0);
	pthread_mutex_unlock(&g_lock);
	t_busy = 0;
}

/* Is token a connection this process offered and has not settled?
 * Shim thread (see mps_handover_defer_join in handover_join.c). */
static int ho_token_offered(uint32_t token)
{
	struct ho_offer *o;

	for (o = g_parent; o; o = o->next)
		if (o->c->token_registered && o->c->local_token == token)
			return 1;
	return 0;
}

/* Settle o in the parent once its word says so; 1 when it is gone. */
static int parent_settle(struct ho_offer *o, struct ev_loop *loop, int now_or_never)
{
	uint32_t v = HO_OFFERED, token;
	double age = mono() - o->t0;

	if (now_or_never || age >= HO_BOUND)
		atomic_compare_exchange_strong(&o->w->state, &v, HO_KEPT);
	v = HO_TAKEN;
	if (now_or_never || age >= HO_ADOPT_BOUND)
		atomic_compare_exchange_strong(&o->w->state, &v, HO_KEPT);
	v = HO_EXEC;
	if (now_or_never || age >= HO_EXEC_BOUND)
		atomic_compare_exchange_strong(&o->w->state, &v, HO_KEPT);
	v = atomic_load(&o->w->state);
	token = o->c->token_registered ? o->c->local_token : 0;
	if (v == HO_KEPT) {
		mps_dbg("conn %s: kept by this process (not handed to its child; %.0f ms after the "
		        "fork)",
		        o->c->peer_str, age * 1e3);
		resume(o->c, o, loop);
	} else if (v == HO_ADOPTED) {
		mps_info("conn %s: handed to child process %d, which services it now",
		         o->c->peer_str, (int)atomic_load(&o->w->child));
		mps_stat(o->c, NULL, MPS_MIB_HANDED, 1);
		if (o->c->token_registered)
			mps_ho_handed_note(token, (pid_t)atomic_load(&o->w->child));
		mps_ho_forget(o->c, atomic_load(&mps_handover_epfd));
	} else
		return 0;
	if (token)
		mps_ho_joins_resume(loop, token);
	mps_ho_offer_free(o);
	atomic_fetch_sub(&mps_handover_pending, 1);
	return 1;
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ho_offer **pp, *o;

	(void)revents;
	if (pthread_mutex_trylock(&g_lock))
		return; /* a fork or a hook has it: next tick */
	for (pp = &g_parent; (o = *pp);) {
		struct ho_offer *next = o->next;

		if (parent_settle(o, loop, 0))
			*pp = next;
		else
			pp = &o->next;
	}
	if (!g_parent)
		ev_timer_stop(loop, w);
	pthread_mutex_unlock(&g_lock);
}

void mps_handover_exit(struct ev_loop *loop)
{
	struct ho_offer *o;

	t_busy = 1;
	pthread_mutex_lock(&g_lock);
	while ((o = g_parent)) {
		g_parent = o->next;
		if (!parent_settle(o, loop, 1)) {
			/* adopted meanwhile? taken and not adopted cannot stay */
			mps_ho_offer_free(o);
			atomic_fetch_sub(&mps_handover_pending, 1);
		}
	}
	ev_timer_stop(loop, &g_tick);
	pthread_mutex_unlock(&g_lock);
	t_busy = 0;
}

struct count_arg {
	const struct mps_sock *s;
	int n;
};

static int count_fd(int fd, struct mps_sock *s, void *arg)
{
	struct count_arg *a = arg;

	(void)fd;
	a->n += s == a->s;
	return a->n > 1;
}

/* The parent's app uses an offered connection (closing = 0: any call on
 * it), or closes a descriptor of it: the last one hands it over.  g_lock
 * held. */
static void parent_use(struct mps_sock *s, int closing)
{
	struct ho_offer *o;

	for (o = g_parent; o; o = o->next) {
		uint32_t v = HO_OFFERED;
		struct count_arg a = {s, 0};

		if (o->c->sock != s)
			continue;
		if (!closing) {
			atomic_compare_exchange_strong(&o->w->state, &v, HO_KEPT);
			return;
		}
		mps_fdtab_each(count_fd, &a); /* the one being closed counts */
		if (a.n <= 1)
			atomic_compare_exchange_strong(&o->w->state, &v, HO_TAKEN);
		return;
	}
}

/* ---- the child ---- */

void mps_handover_child_keep(void)
{
	struct ho_offer *o;

	if (!t_prep)
		return;
	/* The offered connections' descriptors stay open here: out of the
	 * internal set for the instant fdtab closes the parent's. */
	for (o = g_batch; o; o = o->next) {
		int fd[HO_MAXFD], n = mps_ho_conn_fds(o->c, fd), i;

		for (i = 0; i < n; i++)
			mps_ifd_del(fd[i]);
		if (o->wfd >= 0)
			mps_ifd_del(o->wfd);
	}
}

void mps_handover_child(void)
{
	struct ho_offer *o;
	int n = 0;

	if (!t_prep)
		return;
	/* The parent's own offers (to its other children) are not ours:
	 * their descriptors were closed with the other internal ones. */
	g_parent = NULL;
	mps_ho_joins_forget(); /* the parent's joins: closed here with its listener */
	memset(&g_tick, 0, sizeof(g_tick));
	/* Offers made to our parent by its parent and still unsettled there
	 * are not ours either: the parent decides them, we hold copies. */
	for (o = g_child; o; o = o->next) {
		int fd[HO_MAXFD], k = mps_ho_conn_fds(o->c, fd), i;

		for (i = 0; i < k; i++)
			mps_real.close(fd[i]);
		if (o->wfd >= 0)
			mps_real.close(o->wfd);
	}
	g_child = NULL;
	for (o = g_batch; o; o = o->next) {
		int fd[HO_MAXFD], k = mps_ho_conn_fds(o->c, fd), i;

		for (i = 0; i < k; i++)
			mps_ifd_add(fd[i]);
		if (o->wfd >= 0)
			mps_ifd_add(o->wfd);
		atomic_store(&o->w->child, (int32_t)getpid());
		n++;
	}
	g_child = g_batch;
	g_batch = NULL;
	g_child_pid = getpid();
	atomic_store(&mps_handover_pending, n);
	atomic_store(&g_forking, 0);
	t_prep = t_parked = 0;
	pthread_mutex_unlock(&g_lock);
	t_busy = 0;
}

static const struct mps_netmon_ops g_path_events = {.addr_event = mps_conn_on_addr_event,
                                                    .link_event = mps_conn_on_link_event};

void mps_ho_adopt_on_thread(struct ev_loop *loop, void *arg)
{
	struct ho_offer *o = arg;
	struct mps_conn *c = o->c;

	mps_info("conn %s: taken over from process %d (this process services it now)", c->peer_str,
	         (int)o->parent);
	mps_stat(c, NULL, MPS_MIB_TAKEN_OVER, 1);
	c->hup_registered = 0;
	resume(c, o, loop);
	if (!mps_conn_closed(c)) {
		if (c->rx_mode == RX_MP)
			mps_netmon_start(loop, &g_path_events);
		mps_ho_readvertise(c);
	}
	mps_ho_offer_free(o);
}

/* Drop our copies of a connection the parent keeps. */
static void child_drop(struct ho_offer *o)
{
	mps_dbg("conn %s: left to process %d", o->c->peer_str, (int)o->parent);
	mps_ho_forget(o->c, -1);
	mps_ho_offer_free(o);
}

/* Wait for the parent's decision on o, take it (1) or not (0). */
static int child_decide(struct ho_offer *o)
{
	const struct timespec tick = {0, 200000};
	uint32_t v;

	while ((v = atomic_load(&o->w->state)) == HO_OFFERED && mono() - o->t0 < HO_BOUND + 0.05)
		nanosleep(&tick, NULL);
	if (v == HO_OFFERED && atomic_compare_exchange_strong(&o->w->state, &v, HO_KEPT))
		return 0;
	if (v != HO_TAKEN)
		return 0;
	mps_dbg("conn %s: taken by our parent (%.1f ms after the fork)", o->c->peer_str,
	        (mono() - o->t0) * 1e3);
	if (mps_loop_ensure() != 0) {
		/* no thread here (RLIMIT_NPROC...): the parent keeps serving */
		atomic_compare_exchange_strong(&o->w->state, &v, HO_KEPT);
		return 0;
	}
	return atomic_compare_exchange_strong(&o->w->state, &v, HO_ADOPTED);
}

static void child_touch(int fd)
{
	struct mps_sock *s = fd >= 0 ? mps_fdtab_get(fd) : NULL;
	struct ho_offer **pp, *o;

	for (pp = &g_child; (o = *pp);) {
		uint32_t v = atomic_load(&o->w->state);

		if (s && o->c->sock == s && (v == HO_OFFERED || v == HO_TAKEN)) {
			*pp = o->next;
			atomic_fetch_sub(&mps_handover_pending, 1);
			if (child_decide(o)) {
				atomic_store(&o->c->sock->remote, 0);
				atomic_store(&mps_handover_adopter, (int)getpid());
				o->cmd.fn = mps_ho_adopt_on_thread;
				o->cmd.arg = o;
				if (mps_loop_submit(&o->cmd) != 0)
					mps_warn("conn %s: adopted but not started",
					         o->c->peer_str);
			} else
				child_drop(o);
			continue;
		}
		if (v == HO_KEPT) {
			*pp = o->next;
			atomic_fetch_sub(&mps_handover_pending, 1);
			child_drop(o);
			continue;
		}
		pp = &o->next;
	}
	if (s)
		mps_sock_put(s);
}

/* ---- hooks ---- */

void mps_handover_touch(int fd)
{
	struct mps_sock *s;

	if (mps_inside || t_busy)
		return;
	t_busy = 1;
	pthread_mutex_lock(&g_lock);
	if (g_child && g_child_pid == getpid())
		child_touch(fd);
	if (g_parent && fd >= 0 && (s = mps_fdtab_get(fd))) {
		parent_use(s, 0);
		mps_sock_put(s);
	}
	pthread_mutex_unlock(&g_lock);
	t_busy = 0;
}

struct in_set {
	int epfd, fd;
	const struct mps_sock *s;
};

static int fd_in_set(int fd, struct mps_sock *s, void *arg)
{
	struct in_set *a = arg;

	if (s != a->s || !mps_epreg_in(fd, a->epfd))
		return 0;
	a->fd = fd;
	return 1;
}

void mps_handover_touch_epoll(int epfd)
{
	struct ho_offer *o;
	int fd[8], n = 0, i;

	if (mps_inside || t_busy)
		return;
	t_busy = 1;
	pthread_mutex_lock(&g_lock);
	/* the offers' descriptors in that set (their sets were the parent's,
	 * filled before the fork: only our record of them tells) */
	if (g_child && g_child_pid == getpid())
		for (o = g_child; o && n < 8; o = o->next) {
			struct in_set a = {epfd, -1, o->c->sock};

			mps_fdtab_each(fd_in_set, &a);
			if (a.fd >= 0)
				fd[n++] = a.fd;
		}
	pthread_mutex_unlock(&g_lock);
	t_busy = 0;
	for (i = 0; i < n; i++)
		mps_handover_touch(fd[i]);
}

void mps_handover_close(int fd)
{
	struct mps_sock *s;

	if (mps_inside || t_busy)
		return;
	t_busy = 1;
	pthread_mutex_lock(&g_lock);
	if (g_child && g_child_pid == getpid())
		child_touch(-1);
	if (g_parent && (s = mps_fdtab_get(fd))) {
		parent_use(s, 1);
		mps_sock_put(s);
	}
	pthread_mutex_unlock(&g_lock);
	t_busy = 0;
}

int mps_ho_lock_child(struct ho_offer **child)
{
	*child = NULL;
	if (mps_inside || t_busy)
		return -1;
	t_busy = 1;
	pthread_mutex_lock(&g_lock);
	/* (a vfork child runs this in its parent's memory: getpid() tells
	 * them apart, and the parent's offers are not its own) */
	if (g_child_pid == getpid())
		*child = g_child;
	return 0;
}

void mps_ho_unlock(void)
{
	pthread_mutex_unlock(&g_lock);
	t_busy = 0;
}
