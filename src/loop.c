/* loop.c - the shim thread and its command queue (see loop.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mptcpshim/fdtab.h"
#include "mptcpshim/crypto.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/real.h"
#include "mptcpshim/sendbuf.h"
#include "enginelock_int.h"

#include <stdatomic.h>

/* ------------------------------------------------------------- hooks
 * (struct mps_loop_hooks): none until mps_loop_set_hooks. */
static void none_loop(struct ev_loop *loop)
{
	(void)loop;
}
static void none_void(void)
{
}
static int none_yes(void)
{
	return 1;
}
static void none_keeper(struct ev_loop *loop, double timeout)
{
	(void)loop;
	(void)timeout;
}
static void none_write(int pid, const char *comm)
{
	(void)pid;
	(void)comm;
}

static const struct mps_loop_hooks g_no_hooks = {
        .thread_start = none_loop,
        .thread_exit = none_void,
        .all_drained = none_yes,
        .all_finished = none_yes,
        .exit_drain = none_loop,
        .keeper_begin = none_keeper,
        .handover_exit = none_loop,
        .gw_exit = none_void,
        .write_exit = none_write,
        .atfork_child = none_void,
};
static const struct mps_loop_hooks *_Atomic g_hooks = &g_no_hooks;

void mps_loop_set_hooks(const struct mps_loop_hooks *h)
{
	atomic_store(&g_hooks, h ? h : &g_no_hooks);
}

static const struct mps_loop_hooks *hooks(void)
{
	return atomic_load(&g_hooks);
}

__thread int mps_inside;
__thread int mps_keeper_forking;

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	struct ev_loop *ev;
	ev_async wake;
	pthread_t thread;
	pid_t pid; /* the process whose thread runs ev */
	int running;
	int stopped;  /* the thread left the loop for good (process exit) */
	int alive;    /* the new thread ran a first loop iteration */
	int starting; /* a thread is in start_locked (g.lock released while it waits) */
	int broken;   /* a thread never came up here: no second try */
	struct mps_cmd *head, *tail;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Parking (mps_loop_park): the shim thread waits here, between two
 * callbacks, holding no lock and inside no allocation, until released.
 * Plain atomics and short sleeps, no condition variable: a process
 * cloned meanwhile copies these words, and must not inherit a waiter. */
static atomic_int g_park_req, g_parked;

static void park_here(void)
{
	const struct timespec ms = {0, 1000000};

	atomic_store(&g_parked, 1);
	while (atomic_load(&g_park_req))
		nanosleep(&ms, NULL);
	atomic_store(&g_parked, 0);
}

/* A park request is served after one more round: a poll that does not
 * block (the idle watcher) and every callback it makes pending, then the
 * check watcher, last of all (lowest priority).  So what had arrived by
 * the fork (a HELLO on a connection accepted just before it) is handled
 * here: the parent's answer is not held up by the hand-over. */
static ev_check g_park_check;
static ev_idle g_park_idle;

static void park_on_idle(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop, (void)w, (void)revents;
}

static void park_on_check(struct ev_loop *loop, ev_check *w, int revents)
{
	(void)revents;
	ev_check_stop(loop, w);
	ev_idle_stop(loop, &g_park_idle);
	if (atomic_load(&g_park_req))
		park_here();
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
	struct mps_cmd *c, *next;

	/* clone(2): park at once (commands wait). */
	if (atomic_load(&g_park_req) == 1)
		park_here();
	/* A fork offering connections (park = 2): commands first, every one
	 * queued before we park, so a connection an app thread started just
	 * before it forks is in the state the fork copies (handover.c). */
	for (;;) {
		pthread_mutex_lock(&g.lock);
		c = g.head;
		g.head = g.tail = NULL;
		pthread_mutex_unlock(&g.lock);
		if (!c)
			break;
		for (; c; c = next) {
			next = c->next;
			c->fn(loop, c->arg);
		}
		if (atomic_load(&g_park_req) != 2)
			return;
	}
	if (atomic_load(&g_park_req) == 2 && !ev_is_active(&g_park_check)) {
		ev_check_init(&g_park_check, park_on_check);
		ev_set_priority(&g_park_check, EV_MINPRI);
		ev_check_start(loop, &g_park_check);
		ev_idle_init(&g_park_idle, park_on_idle);
		ev_idle_start(loop, &g_park_idle);
	}
}

static void *thread_main(void *arg)
{
	struct ev_loop *loop = arg;

	mps_inside = 1;
	mps_engine_hold(1);
	/* One iteration (epoll_wait) before saying we run: a sandbox that
	 * kills threads at their first system calls kills us here, not
	 * under a connection. */
	ev_run(loop, EVRUN_NOWAIT);
	pthread_mutex_lock(&g.lock);
	if (g.ev != loop) {
		/* start_locked gave up on us: this loop is nobody's */
		mps_engine_hold(0);
		pthread_mutex_unlock(&g.lock);
		return NULL;
	}
	g.alive = 1;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.lock);
	hooks()->thread_start(loop); /* the control socket, now that a loop serves it */
	mps_engine_open(1);
	ev_run(loop, 0);
	mps_engine_open(0); /* from here on the loop may run on another thread */
	mps_engine_hold(0);
	/* Only a stop command (process exit) breaks the loop.  Once stopped
	 * is set the exiting thread may fork the keeper at once, while this
	 * thread is still ending: libcrypto's thread-exit destructor takes
	 * its global lock, and a keeper forked in that moment inherited it
	 * held, then hung at its first HMAC (a late join) with every
	 * connection it took over (fdlimits.sh in CI).  So that state goes
	 * first, and this thread ends holding no lock of libcrypto's. */
	mps_crypto_thread_stop();
	mps_sendbuf_cache_drop(); /* the chunks kept for reuse */
	pthread_mutex_lock(&g.lock);
	g.stopped = 1;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.lock);
	return NULL;
}

/* How long the creating thread waits for a new shim thread to run. */
#define MPS_THREAD_START_TIMEOUT_S 2

/* Called with g.lock held.  Returns only once the new thread runs its
 * loop: pthread_create returns before the thread has started, and until
 * then glibc marks it "being created".  A process cloned in that window
 * without fork() (vsftpd's isolated sessions use clone(2) directly, so
 * glibc's fork bookkeeping does not run) inherits the mark, and its
 * setuid()/setgroups() waits forever for a thread that never comes. */
static int start_locked(void)
{
	sigset_t all, old;
	struct timespec until;
	int rc, was = mps_inside;

	/* Another app thread is starting it (its wait releases g.lock):
	 * wait for its outcome rather than start a second loop. */
	while (g.starting)
		pthread_cond_wait(&g.cv, &g.lock);
	if (g.running)
		return 0;
	if (g.broken)
		return -EAGAIN;

	/* Inside: libev's own descriptors (epoll, eventfd) are registered as
	 * internal by the hooks, so a forked child closes them and the
	 * keeper keeps them. */
	mps_inside = 1;
	g.ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
	if (g.ev) {
		ev_async_init(&g.wake, on_wake);
		ev_async_start(g.ev, &g.wake);
		mps_engine_attach(g.ev, &g.wake);
	}
	mps_inside = was;
	if (!g.ev)
		return -ENOMEM;
	/* Keep the loop alive with no connections: the async watcher is it. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	g.alive = 0;
	rc = pthread_create(&g.thread, NULL, thread_main, g.ev);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		ev_loop_destroy(g.ev);
		g.ev = NULL;
		return -rc;
	}
	pthread_detach(g.thread);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += MPS_THREAD_START_TIMEOUT_S;
	rc = 0;
	g.starting = 1;
	while (!g.alive && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&g.cv, &g.lock, &until);
	g.starting = 0;
	pthread_cond_broadcast(&g.cv);
	if (!g.alive) {
		/* Killed by a sandbox, most likely: it will never run (if it
		 * does, it sees g.ev changed and leaves; its loop is leaked). */
		g.ev = NULL;
		g.broken = 1;
		return -ETIMEDOUT;
	}
	g.running = 1;
	g.stopped = 0;
	g.pid = getpid();
	mps_dbg("loop: shim thread started");
	return 0;
}

int mps_loop_ensure(void)
{
	int rc = 0;

	pthread_mutex_lock(&g.lock);
	if (!g.running)
		rc = start_locked();
	pthread_mutex_unlock(&g.lock);
	return rc;
}

void mps_loop_kick(void)
{
	struct ev_loop *ev = NULL;

	pthread_mutex_lock(&g.lock);
	if (g.running && g.pid == getpid())
		ev = g.ev;
	pthread_mutex_unlock(&g.lock);
	if (ev)
		ev_async_send(ev, &g.wake);
}

int mps_loop_cloned(void)
{
	int r;

	pthread_mutex_lock(&g.lock);
	r = g.running && g.pid != getpid();
	pthread_mutex_unlock(&g.lock);
	return r;
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

/* The simulated network (tests/sim): the calling thread becomes this
 * process's shim thread, with no thread of ours; it runs the loop itself
 * (ev_run), one step at a time on a virtual clock.  The loop, or NULL. */
struct ev_loop *mps_loop_adopt(void)
{
	pthread_mutex_lock(&g.lock);
	if (!g.running) {
		mps_inside = 1;
		g.ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
		if (g.ev) {
			ev_async_init(&g.wake, on_wake);
			ev_async_start(g.ev, &g.wake);
			g.thread = pthread_self();
			g.pid = getpid();
			g.alive = g.running = 1;
		}
	}
	pthread_mutex_unlock(&g.lock);
	return g.ev;
}

int mps_loop_on_thread(void)
{
	return g.running && pthread_equal(pthread_self(), g.thread);
}

/* ---- process exit: the keeper ----
 *
 * Bytes the app wrote live in this process until the peer has them, and
 * other processes (forked children, exec'd images) may still use the
 * connections this process services.  At exit the shim thread is stopped
 * between two loop iterations; if any connection is unfinished, fork()
 * copies the quiescent loop into a keeper that services them to the end
 * while this process exits at once (as TCP leaves the rest to the kernel).
 * See docs/DESIGN.md "Process model". */

static struct mps_cmd g_stop_cmd;

static void stop_on_thread(struct ev_loop *loop, void *arg)
{
	ev_break(loop, EVBREAK_ALL);
}

/* The old way, when no keeper can be forked: serve the loop on this
 * thread, treating what each app wrote so far as all it will write. */
static ev_timer g_drain_tick, g_drain_limit;

static void drain_check(struct ev_loop *loop, ev_timer *w, int revents)
{
	if (hooks()->all_drained())
		ev_break(loop, EVBREAK_ALL);
}

static void drain_give_up(struct ev_loop *loop, ev_timer *w, int revents)
{
	mps_warn("exit: connections still undelivered after %.0f s", w->repeat);
	ev_break(loop, EVBREAK_ALL);
}

static void serve_until(struct ev_loop *loop, double timeout, int keeper)
{
	if (keeper)
		hooks()->keeper_begin(loop, timeout);
	else {
		hooks()->exit_drain(loop);
		ev_timer_init(&g_drain_tick, drain_check, 0., 0.005);
		ev_timer_again(loop, &g_drain_tick);
		ev_timer_init(&g_drain_limit, drain_give_up, timeout, timeout);
		ev_timer_start(loop, &g_drain_limit);
	}
	ev_run(loop, 0);
}

/* Descriptors 0-2 on /dev/null, where they are not ours: nothing the
 * keeper does can then write into a stray descriptor. */
static void null_stdio(int keep)
{
	int fd, nul = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (nul < 0)
		return;
	for (fd = 0; fd < 3; fd++)
		if (fd != nul && fd != keep && !mps_ifd_is(fd))
			mps_real.dup2(nul, fd); /* clears O_CLOEXEC */
	if (nul < 3)
		mps_real.fcntl(nul, F_SETFD, 0);
	else
		mps_real.close(nul);
}

/* The keeper's name, so that ps, top and ss -tnp tell it from the program
 * it outlives: "mpskeep:" + the program's name (15 bytes at most, the
 * kernel's limit), and in its command line (the argv area, this process's
 * copy) "mptcpshim-keeper (PROGRAM pid N)". */
static char g_keeper_comm[16], g_prog[16];

static void keeper_rename(const char *prog, pid_t from)
{
	char stat[1024], *p;
	unsigned long long start = 0, end = 0;
	int fd, field;
	ssize_t n;

	mps_real.prctl(PR_SET_NAME, g_keeper_comm, 0, 0, 0);
	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = mps_real.read(fd, stat, sizeof(stat) - 1);
	mps_real.close(fd);
	if (n <= 0)
		return;
	stat[n] = 0;
	/* Fields 48 and 49: arg_start, arg_end (after the command name,
	 * which may hold spaces and parentheses: skip to the last ')'). */
	p = strrchr(stat, ')');
	for (field = 2; p && field < 49; field++) {
		p = strchr(p + 1, ' ');
		if (p && field + 1 == 48)
			start = strtoull(p + 1, NULL, 10);
		if (p && field + 1 == 49)
			end = strtoull(p + 1, NULL, 10);
	}
	if (start && end > start + 1) {
		char *area = (char *)(uintptr_t)start;
		size_t len = (size_t)(end - start);

		memset(area, 0, len);
		snprintf(area, len, "mptcpshim-keeper (%s pid %d)", prog, (int)from);
	}
}

__attribute__((noreturn)) static void keeper_main(double timeout)
{
	struct sigaction sa;
	sigset_t none;
	int sig, keep;
	pid_t from = g.pid;

	mps_inside = 1;
	/* No app code runs here any more: default signal actions (SIGTERM
	 * ends the keeper), writes to closed sockets are errors, not
	 * signals. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	setsid();
	/* Every descriptor of the app goes: its copies of the connections
	 * (or their end never comes), pipes a shell waits on, listeners,
	 * locks.  Only the shim's own and the log file stay. */
	keep = mps_log_keeper_fd();
	mps_ifd_close_others(keep);
	null_stdio(keep);
	ev_loop_fork(g.ev);
	mps_engine_keeper(g.ev);
	g.thread = pthread_self();
	g.pid = getpid();
	g.running = 1;
	keeper_rename(g_prog, from);
	mps_info("keeper: taking the connections of %s process %d over", g_prog, (int)from);
	serve_until(g.ev, timeout, 1);
	mps_info("keeper: done");
	hooks()->write_exit((int)from, g_prog);
	mps_real.exit_(0); /* not through our hook (proc.c): the keeper adopted nothing */
	for (;;)
		mps_real.syscall(SYS_exit_group, 0);
}

/* g.lock, within bound seconds (0: no bound). */
static int lock_within(double bound)
{
	const struct timespec ms = {0, 1000000};
	int i;

	if (bound <= 0) {
		pthread_mutex_lock(&g.lock);
		return 1;
	}
	for (i = 0; i < bound * 1e3; i++) {
		if (pthread_mutex_trylock(&g.lock) == 0)
			return 1;
		nanosleep(&ms, NULL);
	}
	return 0;
}

/* CLOCK_REALTIME bound seconds from now (pthread_cond_timedwait's clock). */
static struct timespec realtime_in(double bound)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)bound;
	until.tv_nsec += (long)((bound - (double)(time_t)bound) * 1e9);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	return until;
}

/* Asks the shim thread to stop and waits until it has, within bound
 * seconds (0: no bound).  1: stopped; 0: not in time (g.lock or the
 * thread); -1: the request could not be queued (nothing to wait for). */
static int stop_thread(double bound)
{
	struct timespec until;

	g_stop_cmd.fn = stop_on_thread;
	g_stop_cmd.arg = NULL;
	if (mps_loop_submit(&g_stop_cmd))
		return -1;
	until = realtime_in(bound);
	if (!lock_within(bound))
		return 0;
	while (!g.stopped) {
		if (bound <= 0)
			pthread_cond_wait(&g.cv, &g.lock);
		else if (pthread_cond_timedwait(&g.cv, &g.lock, &until) == ETIMEDOUT &&
		         !g.stopped) {
			pthread_mutex_unlock(&g.lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&g.lock);
	return 1;
}

/* This process no longer has a loop: a later connection (after an exec
 * that failed, or in the keeper's parent) starts a thread again. */
static void loop_forget(void)
{
	pthread_mutex_lock(&g.lock);
	g.running = 0;
	g.ev = NULL;
	g.head = g.tail = NULL;
	pthread_mutex_unlock(&g.lock);
}

/* Forks the keeper that finishes the unfinished connections (the child
 * never returns).  In this process: 1 if the keeper runs, 0 if the fork
 * failed (errno). */
static int fork_keeper(double timeout)
{
	pid_t pid;

	/* the kernel's 15 bytes: the program's name cut to 7 */
	snprintf(g_keeper_comm, sizeof(g_keeper_comm), "mpskeep:%.7s", g_prog);
	mps_keeper_forking = 1;
	pid = fork();
	mps_keeper_forking = 0;
	if (pid == 0)
		keeper_main(timeout);
	if (pid < 0)
		return 0;
	mps_info("exit: connections handed to keeper process %d (%s): this %s process "
	         "exits, the keeper finishes them",
	         (int)pid, g_keeper_comm, g_prog);
	return 1;
}

void mps_loop_exit(double timeout, double bound)
{
	int mine, r;

	if (!lock_within(bound))
		goto stuck;
	mine = g.running && g.pid == getpid() && !mps_loop_on_thread();
	pthread_mutex_unlock(&g.lock);
	if (!mine)
		return;
	hooks()->thread_exit();
	r = stop_thread(bound);
	if (r < 0)
		return;
	if (r == 0)
		goto stuck;
	/* Nobody runs the loop now (the rest of its last iteration ran
	 * before the thread signalled): its state can be read and copied. */
	hooks()->handover_exit(g.ev); /* offers to children: settled, kept ones back here */
	hooks()->gw_exit();
	mps_real.prctl(PR_GET_NAME, g_prog, 0, 0, 0);
	g_prog[sizeof(g_prog) - 1] = 0;
	if (hooks()->all_finished()) {
		mps_dbg("exit: every connection finished");
		hooks()->write_exit((int)getpid(), g_prog);
		/* an exec that fails goes on (mps_proc_exec): a later
		 * connection starts a thread again, as after the keeper's fork */
		loop_forget();
		return;
	}
	if (fork_keeper(timeout)) {
		loop_forget();
		return;
	}
	mps_warn("exit: cannot fork a keeper (%s): delivering before exit", strerror(errno));
	g.thread = pthread_self();
	mps_inside = 1;
	serve_until(g.ev, timeout, 0);
	mps_inside = 0;
	hooks()->write_exit((int)getpid(), g_prog);
	return;
stuck:
	/* _exit from a signal handler that interrupted a thread holding one
	 * of our locks (the shim thread may wait for it too) */
	mps_warn("exit: the shim thread did not stop within %.0f s: exiting without "
	         "delivering what is left",
	         bound);
}

/* How long mps_loop_park waits for the thread to reach its safe point. */
#define MPS_PARK_TIMEOUT_MS 5000

int mps_loop_park(int park)
{
	const struct timespec ms = {0, 1000000};
	struct ev_loop *ev;
	int i, mine;

	if (!park) {
		atomic_store(&g_park_req, 0);
		return 0;
	}
	if (mps_inside)
		return 0;
	/* A thread released just now may not have left its last park yet:
	 * a new request must not find it there (it would not run what was
	 * queued in between: a connection accepted just before this fork). */
	for (i = 0; i < MPS_PARK_TIMEOUT_MS && atomic_load(&g_parked); i++)
		nanosleep(&ms, NULL);
	pthread_mutex_lock(&g.lock);
	mine = g.running && !g.stopped && g.pid == getpid();
	ev = g.ev;
	if (mine) {
		atomic_store(&g_park_req, park == 2 ? 2 : 1);
		ev_async_send(ev, &g.wake);
	}
	pthread_mutex_unlock(&g.lock);
	if (!mine)
		return 0;
	for (i = 0; i < MPS_PARK_TIMEOUT_MS && !atomic_load(&g_parked); i++)
		nanosleep(&ms, NULL);
	if (atomic_load(&g_parked))
		return 1;
	mps_warn("clone: the shim thread did not pause within %d ms: cloning anyway",
	         MPS_PARK_TIMEOUT_MS);
	return 1;
}

void mps_loop_atfork_prepare(void)
{
	pthread_mutex_lock(&g.lock);
}
void mps_loop_atfork_parent(void)
{
	pthread_mutex_unlock(&g.lock);
}

void mps_loop_atfork_child(void)
{
	if (mps_keeper_forking) {
		/* The keeper takes the loop over as it is (keeper_main). */
		pthread_mutex_unlock(&g.lock);
		return;
	}
	/* No shim thread here.  The parent's loop memory is left alone (its
	 * internal fds, libev's included, are closed by fdtab); a new loop
	 * starts on demand.  Queued commands belong to the parent's thread. */
	g.running = 0;
	g.broken = 0;
	g.starting = 0;          /* the starting thread did not come along */
	mps_engine_atfork_child();
	mps_sendbuf_atfork_child();
	hooks()->atfork_child(); /* a new process: its counters start at 0 */
	atomic_store(&g_park_req, 0);
	atomic_store(&g_parked, 0);
	memset(&g_park_check, 0, sizeof(g_park_check));
	memset(&g_park_idle, 0, sizeof(g_park_idle));
	g.ev = NULL;
	g.head = g.tail = NULL;
	pthread_mutex_unlock(&g.lock);
}
