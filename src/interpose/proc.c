/* proc.c - process life: the constructor, fork and exit.
 *
 * Nothing starts in the constructor but symbol resolution, the config
 * (parsed at once, so a bad value warns once per command), the fork
 * handlers and, after an exec, the table of inherited connections: the
 * shim thread starts on the first connection.  After fork the child has
 * no shim thread; connections stay with the parent's.  At exit a keeper
 * process takes unfinished connections over (see docs/DESIGN.md "Process
 * model"). */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mptcpshim/config.h"
#include "mptcpshim/conn.h"
#include "mptcpshim/ctl.h"
#include "mptcpshim/crypto.h"
#include "mptcpshim/engine.h"
#include "mptcpshim/epreg.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/handover.h"
#include "mptcpshim/inherit.h"
#include "mptcpshim/inline.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/log.h"
#include "mptcpshim/peercache.h"
#include "mptcpshim/token.h"

/* Every fork holds the leaf locks that the shim thread takes while it
 * runs, and those app threads take in our hooks (option defaults,
 * libcrypto, token table, epoll registrations, peer cache, log): a child
 * forked while another thread held one would otherwise inherit it locked
 * and hang at its first log line, connect or accept, or (libcrypto's own
 * locks, taken inside our crypto lock) at its first SHA-256 or TLS
 * handshake.  The keeper's fork also copies connection state that app
 * threads may touch: it holds the sock locks too (the shim thread has
 * stopped then; an ordinary child re-initialises them instead, see
 * mps_fdtab_atfork_child). */
static void fork_locks(int lock)
{
	if (lock) {
		if (mps_keeper_forking)
			mps_conn_lock_socks(1);
		mps_opts_lock(1);
		mps_crypto_lock(1);
		mps_token_lock(1);
		mps_epreg_lock_all(1);
		mps_peercache_lock(1);
		mps_log_lock(1);
	} else {
		mps_log_lock(0);
		mps_peercache_lock(0);
		mps_epreg_lock_all(0);
		mps_token_lock(0);
		mps_crypto_lock(0);
		mps_opts_lock(0);
		if (mps_keeper_forking)
			mps_conn_lock_socks(0);
	}
}

static void prepare_promoted(int promote)
{
	/* an inline connection's socket would be shared as it is: the child
	 * gets what any connection's fork gets, a socketpair end */
	if (promote && atomic_load_explicit(&mps_inline_socks, memory_order_relaxed) && !mps_inside)
		mps_inline_promote_all("fork");
	mps_handover_prepare(); /* parks the shim thread: before any lock */
	mps_loop_atfork_prepare();
	mps_fdtab_atfork_prepare();
	fork_locks(1);
}

static void prepare(void)
{
	prepare_promoted(1);
}

static void parent(void)
{
	fork_locks(0);
	mps_fdtab_atfork_parent();
	mps_loop_atfork_parent();
	mps_handover_parent();
}

static void vmprobe_new(void);

static void child(void)
{
	vmprobe_new(); /* the parent's does not come along */
	fork_locks(0);
	if (mps_keeper_forking) {
		/* The keeper keeps everything: it services the connections. */
		mps_fdtab_atfork_parent();
		mps_loop_atfork_child();
		return;
	}
	mps_handover_child_keep();
	mps_fdtab_atfork_child();
	mps_conn_atfork_child();
	mps_join_atfork_child();
	mps_netmon_atfork_child();
	mps_ctl_atfork_child();
	mps_token_atfork_child();
	mps_loop_atfork_child();
	mps_handover_child();
}

/* Does this process share its memory with the process whose state we
 * hold (a vfork child, the hooks running before its exec)?  Then that
 * state is the parent's and must not be touched.  A page mapped with
 * MADV_DONTFORK is absent from a child with a memory of its own (fork,
 * clone without CLONE_VM) and present in a vfork child; mincore(2) tells
 * which without any permission.  No page: assume it does. */
static void *g_vmprobe;

static void vmprobe_new(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	g_vmprobe = NULL;
	if (m != MAP_FAILED && madvise(m, (size_t)pg, MADV_DONTFORK) == 0)
		g_vmprobe = m;
}

static int shares_parent_vm(void)
{
	unsigned char v;

	return !g_vmprobe || mincore(g_vmprobe, (size_t)sysconf(_SC_PAGESIZE), &v) == 0;
}

void mps_proc_cloned(void)
{
	if (!mps_loop_cloned() || shares_parent_vm())
		return;
	/* clone(2) without fork(): do now what our fork handlers would
	 * have done.  Single-threaded here, so the locks are free unless
	 * a thread of the parent held one at the clone (not recoverable). */
	prepare();
	child();
	mps_info("process made by clone(2), not fork(): the parent's connections stay the "
	         "parent's");
}

/* ---- clone(2) without fork() ----
 *
 * A process made by clone(2) without CLONE_VM (vsftpd's isolated
 * sessions: syscall(__NR_clone, CLONE_NEWPID|...|SIGCHLD)) copies the
 * memory as fork() does, but glibc runs no fork handler: neither ours nor
 * its own (malloc's locks).  Our shim thread does not come along, and
 * whatever it held at that instant stays held in the child: the crypto
 * lock while it computed a HELLO's keys hung the child's first
 * setrlimit() (ftp.sh port mode, about 1 run in 5); an allocation or a
 * half-made table entry would do the same.  So both entry points (glibc's
 * clone() and syscall(SYS_clone or SYS_clone3)) are hooked: the shim
 * thread is parked at a safe point (between two callbacks, no lock, no
 * allocation), the fork handlers run around the call, and the thread is
 * released in the parent.  A clone that shares the memory (CLONE_VM:
 * threads, vfork) or the descriptor table (CLONE_FILES: the child's fork
 * handler would close the parent's internal descriptors) passes through
 * as before. */
static int clone_begin(unsigned long flags)
{
	if (flags & (CLONE_VM | CLONE_FILES) || mps_passthrough())
		return 0;
	/* before the park: the parked thread holds the engine lock, which
	 * promotion takes (prepare's would wait for it for good) */
	if (atomic_load_explicit(&mps_inline_socks, memory_order_relaxed) && !mps_inside)
		mps_inline_promote_all("clone");
	mps_loop_park(1);
	mps_handover_off = 1; /* connections stay the parent's (see above) */
	prepare_promoted(0);  /* (an inline connection begun since waits for the lock) */
	mps_handover_off = 0;
	return 1;
}

static void clone_end(long rc)
{
	if (rc == 0) {
		child(); /* the child: single-threaded, the locks are ours */
		return;
	}
	parent();
	mps_loop_park(0);
}

static void *next_sym(const char *name);
static void exit_fast(void);

MPS_EXPORT long syscall(long nr, ...)
{
	unsigned long flags = 0;
	long a[6], rc;
	va_list ap;
	int i, around = 0;

	mps_real_init();
	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_clone)
		flags = (unsigned long)a[0];
	else if (nr == SYS_clone3 && a[0] && (unsigned long)a[1] >= sizeof(uint64_t))
		flags = (unsigned long)((const struct clone_args *)a[0])->flags;
	if (nr == SYS_clone || nr == SYS_clone3)
		around = clone_begin(flags);
	else if (nr == SYS_exit_group)
		exit_fast(); /* see _exit below */
	rc = mps_real.syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (around) {
		int e = errno;

		clone_end(rc);
		errno = e;
	}
	return rc;
}

/* glibc's clone() runs fn on the child's stack: the child's handler runs
 * first, through a trampoline.  fn and arg sit in memory the child copies
 * (no CLONE_VM), written while the fork locks are held. */
static int (*g_clone_fn)(void *);
static void *g_clone_arg;

static int clone_tramp(void *unused)
{
	(void)unused;
	clone_end(0);
	return g_clone_fn(g_clone_arg);
}

MPS_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	static int (*real)(int (*)(void *), void *, int, void *, ...);
	pid_t *ptid, *ctid;
	void *tls;
	va_list ap;
	int rc, e;

	if (!real)
		real = (int (*)(int (*)(void *), void *, int, void *, ...))next_sym("clone");
	va_start(ap, arg);
	ptid = va_arg(ap, pid_t *);
	tls = va_arg(ap, void *);
	ctid = va_arg(ap, pid_t *);
	va_end(ap);
	if (!fn || !clone_begin((unsigned long)(unsigned)flags))
		return real(fn, stack, flags, arg, ptid, tls, ctid);
	g_clone_fn = fn;
	g_clone_arg = arg;
	rc = real(clone_tramp, stack, flags, NULL, ptid, tls, ctid);
	e = errno;
	clone_end(rc == 0 ? -1 : rc); /* the parent, even if it failed */
	errno = e;
	return rc;
}

/* ---- privilege-dropping processes ----
 *
 * A process that limits itself (RLIMIT_NPROC, often 0 after setuid; a
 * seccomp filter, preceded by PR_SET_NO_NEW_PRIVS) can no longer start
 * the shim thread when its first connection comes.  Start it before the
 * limit applies: a thread that runs already is not counted against a new
 * RLIMIT_NPROC, and a filter installed without TSYNC binds only the
 * threads created after it.  If it cannot start, connections stay plain
 * TCP (socket.c), with a log line. */
static void prestart(const char *why)
{
	int rc;

	if (mps_passthrough())
		return;
	mps_proc_cloned();
	if (mps_loop_cloned())
		return;    /* a vfork child: the parent's thread is not ours to start */
	mps_engine_wire(); /* before the thread starts (even before our constructor) */
	rc = mps_loop_ensure();
	if (rc)
		mps_warn("%s: cannot start the shim thread first (%s): connections of this "
		         "process will be plain TCP",
		         why, strerror(-rc));
	else
		mps_dbg("%s: shim thread running before the limit applies", why);
}

/* rlimit.c's setrlimit/prlimit hooks call this first: a finite
 * RLIMIT_NPROC about to apply to this process starts the shim thread
 * before it does (a thread already running is not counted against it). */
void mps_proc_nproc_limit(int res, const void *limit, int is64, pid_t pid, const char *what)
{
	int finite;

	if (res == RLIMIT_FSIZE && limit && (pid == 0 || pid == getpid()))
		mps_log_fsize(is64 ? ((const struct rlimit64 *)limit)->rlim_cur :
		                     (uint64_t)((const struct rlimit *)limit)->rlim_cur);
	if (res != RLIMIT_NPROC || !limit || (pid != 0 && pid != getpid()))
		return;
	finite = is64 ? ((const struct rlimit64 *)limit)->rlim_cur != RLIM64_INFINITY :
	                ((const struct rlimit *)limit)->rlim_cur != RLIM_INFINITY;
	if (finite)
		prestart(what);
}

/* vforkx.S's vfork, in the parent before libc's: inline connections
 * take their socketpairs (a vfork child cannot).  Returns libc's vfork,
 * which vforkx.S jumps to. */
MPS_EXPORT void *mps_vfork_prepare(void);
void *mps_vfork_prepare(void)
{
	static void *real;
	int saved = errno;

	if (!real)
		real = next_sym("vfork");
	mps_real_init();
	if (atomic_load_explicit(&mps_inline_socks, memory_order_relaxed) && !mps_inside &&
	    !mps_loop_cloned())
		mps_inline_promote_all("vfork");
	errno = saved;
	return real;
}

static void (*g_real_exit)(int); /* _exit's next definition (libc's) */

static void *next_sym(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

MPS_EXPORT int prctl(int op, ...)
{
	static int (*real)(int, ...);
	unsigned long a[4];
	va_list ap;
	int i;

	if (!real)
		real = (int (*)(int, ...))next_sym("prctl");
	va_start(ap, op);
	for (i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	if (op == PR_SET_SECCOMP || (op == PR_SET_NO_NEW_PRIVS && a[0] == 1))
		prestart("prctl (seccomp sandbox)");
	return real(op, a[0], a[1], a[2], a[3]);
}

__attribute__((constructor)) static void mps_init(void)
{
	mps_real_init();
	mps_config_early(); /* warn about a bad environment at once, once per command */
	mps_log_open();     /* before the app can drop privileges or chroot */
	mps_crypto_init();
	mps_engine_wire(); /* loop.c's hooks */
	pthread_atfork(prepare, parent, child);
	vmprobe_new();
	mps_peercache_tree_init();
	mps_inherit_adopt();
	mps_handover_exec_adopt(); /* connections carried across exec, after the table */
	/* resolved now: dlsym is not async-signal-safe, _exit is */
	g_real_exit = (void (*)(int))next_sym("_exit");
}

/* Once the app closed every descriptor of a connection, its keeper waits
 * at most this long for the peer to acknowledge the rest. */
#define MPS_EXIT_DRAIN_TIMEOUT 30.0

/* A destructor runs from exit() after the app's atexit handlers (and its
 * own destructors), before stdio buffers are flushed: the keeper forked
 * here never returns into exit(), so it runs no app handler and flushes
 * nothing twice.  Bytes the app writes after this point (a stdio flush
 * onto a connection) still reach the keeper through the socketpair.
 * _exit() and fatal signals skip it (but see exit_fast below). */
__attribute__((destructor)) static void mps_fini(void)
{
	mps_inline_promote_all("exit"); /* the exit drain serves socketpair ends */
	mps_loop_exit(MPS_EXIT_DRAIN_TIMEOUT, 0);
}

/* ---- _exit, _Exit, syscall(SYS_exit_group) ----
 *
 * They skip our destructor.  That was harmless while every connection
 * stayed with the process that accepted it, but a forked child that
 * adopted its connection (handover.c) holds, on its own shim thread, bytes
 * it wrote last and nobody else can deliver: python's os._exit() and
 * socketserver's ForkingMixIn end every child that way.  So such a process
 * takes the exit path first (finish the connections, or hand them to a
 * keeper).  Only such a process: _exit is async-signal-safe and is called
 * from signal handlers, in a vfork child (the parent's memory: nothing may
 * be touched), in a forked child whose exec failed, and by processes with
 * no connection of ours, which pay one atomic load here.  A vfork child
 * and any child forked after the adoption read another pid.  From a
 * signal handler that interrupted a thread holding one of our locks, the
 * wait for the shim thread is bounded (then what is left is lost, as
 * before).  Not covered: a raw exit_group system call made without
 * syscall(3) (inline assembly, Go's runtime), quick_exit() (glibc calls
 * its internal _exit), fatal signals. */
#define MPS_EXIT_STOP_BOUND 2.0

static void exit_fast(void)
{
	int adopter = atomic_load_explicit(&mps_handover_adopter, memory_order_relaxed);

	/* (a vfork child has a pid of its own: nothing is touched there) */
	if (!adopter || mps_inside || adopter != (int)getpid())
		return;
	mps_loop_exit(MPS_EXIT_DRAIN_TIMEOUT, MPS_EXIT_STOP_BOUND);
}

/* exec.c: the execve family in a process that took a connection over:
 * the connection lives on in a keeper, as at _exit (docs/DESIGN.md,
 * "Process model": the new image holds the app's end, which the exec
 * does not close, but the shim thread and the subflows do not survive). */
void mps_proc_exec(void)
{
	exit_fast();
}

__attribute__((noreturn)) static void real_exit(int status)
{
	void (*real)(int) = g_real_exit;

	if (!real) /* before our constructor */
		real = (void (*)(int))next_sym("_exit");
	if (real)
		real(status);
	for (;;)
		mps_real.syscall(SYS_exit_group, status);
}

MPS_EXPORT void _exit(int status)
{
	exit_fast();
	real_exit(status);
}

MPS_EXPORT void _Exit(int status)
{
	exit_fast();
	real_exit(status);
}
