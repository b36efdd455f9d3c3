/* fdhigh.c - the shim's own descriptors, out of the app's range (split
 * from fdtab.c: the log moves its descriptor with it, and fdtab.c logs, so
 * the two called each other).  It logs nothing.  See docs/DESIGN.md,
 * "Descriptor numbers and limits". */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mptcpshim/fdhigh.h"
#include "mptcpshim/real.h"
#include "mptcpshim/util.h"

/* ---- the shim's descriptors, out of the app's range ----
 *
 * The app allocates the lowest free number, so every descriptor of ours
 * below its highest would shift its numbers.  Ours go above the soft
 * RLIMIT_NOFILE, where the app cannot allocate (the limit raised for the
 * instant of F_DUPFD, under g_rl_lock, which the rlimit hooks take too),
 * or, when the hard limit leaves no room, to the top half of the range
 * below it. */

#define BELOW_TOP_CAP 65536 /* below the limit: the top of our range, at most */
#define ABOVE_SPAN 65536    /* above it: how far above */

static pthread_mutex_t g_rl_lock = PTHREAD_MUTEX_INITIALIZER;
/* The limit to restore while it is raised (for a child forked then). */
static struct rlimit g_rl_saved;
static atomic_int g_rl_raised;

/* The app's socket() (reader) against the shim thread's creation of a
 * socket and its move high (writer): the app is never given a number one
 * higher than TCP's because of our socket's instant at a low number. */
static pthread_rwlock_t g_alloc_lock = PTHREAD_RWLOCK_INITIALIZER;

void mps_alloc_app(int lock)
{
	if (lock)
		pthread_rwlock_rdlock(&g_alloc_lock);
	else
		pthread_rwlock_unlock(&g_alloc_lock);
}

void mps_alloc_shim(int lock)
{
	if (lock)
		pthread_rwlock_wrlock(&g_alloc_lock);
	else
		pthread_rwlock_unlock(&g_alloc_lock);
}

void mps_rlimit_lock(int lock)
{
	mps_mutex_hold(&g_rl_lock, lock);
}

static int rl_nofile(struct rlimit *rl, const struct rlimit *set)
{
	/* The syscall: the libc wrappers are hooked (and may be a sandbox's). */
	return (int)mps_real.syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, set, rl);
}

static int cap_int(rlim_t v)
{
	return v > (rlim_t)INT_MAX ? INT_MAX : (int)v;
}

/* Above the soft limit: fill out[i] for i < n with copies of in[i]; how
 * many were made (in order; stops at the first failure). */
static int dup_above(const int *in, int *out, int n, const struct rlimit *rl)
{
	struct rlimit up = *rl;
	int i = 0;

	if (rl->rlim_max <= rl->rlim_cur || rl->rlim_cur >= (rlim_t)INT_MAX - ABOVE_SPAN)
		return 0;
	up.rlim_cur =
	        rl->rlim_max - rl->rlim_cur > ABOVE_SPAN ? rl->rlim_cur + ABOVE_SPAN : rl->rlim_max;
	g_rl_saved = *rl;
	atomic_store(&g_rl_raised, 1);
	if (rl_nofile(NULL, &up) != 0) {
		atomic_store(&g_rl_raised, 0);
		return 0;
	}
	for (; i < n; i++) {
		out[i] = mps_real.fcntl(in[i], F_DUPFD_CLOEXEC, cap_int(rl->rlim_cur));
		if (out[i] < 0)
			break;
	}
	rl_nofile(NULL, rl); /* lowering is always allowed */
	atomic_store(&g_rl_raised, 0);
	return i;
}

/* Where the last search below the limit found room (under g_rl_lock):
 * the next one starts there, not at the top, which is taken once the
 * shim holds a few descriptors (issue 15: one failed fcntl per
 * descriptor moved). */
static int g_below_top, g_below_base;

/* Below the soft limit: a free number high in the top half of
 * [0, min(limit, BELOW_TOP_CAP)), or -1. */
static int dup_below(int fd, const struct rlimit *rl)
{
	int lim = cap_int(rl->rlim_cur), top = lim < BELOW_TOP_CAP ? lim : BELOW_TOP_CAP;
	int floor = top / 2, base = top - 1, step = 8, d;

	if (top < 16)
		return -1;
	if (g_below_top == top && g_below_base >= floor && g_below_base < top)
		base = g_below_base;
	for (;;) {
		d = mps_real.fcntl(fd, F_DUPFD_CLOEXEC, base);
		if (d >= 0) {
			g_below_top = top;
			g_below_base = base;
		}
		if (d >= 0 || errno != EMFILE || base == floor)
			return d;
		base = base - step > floor ? base - step : floor;
		step *= 2;
	}
}

int mps_fd_high_many(const int *in, int *out, int n)
{
	struct rlimit rl;
	int i, k = 0, e = EMFILE;

	pthread_mutex_lock(&g_rl_lock);
	if (rl_nofile(&rl, NULL) == 0) {
		k = dup_above(in, out, n, &rl);
		for (; k < n; k++) {
			out[k] = dup_below(in[k], &rl);
			if (out[k] < 0) {
				e = errno == EINVAL ? EMFILE : errno;
				break;
			}
		}
	} else
		e = errno;
	pthread_mutex_unlock(&g_rl_lock);
	if (k == n)
		return 0;
	for (i = 0; i < k; i++)
		mps_real.close(out[i]);
	for (i = 0; i < n; i++)
		out[i] = -1;
	return -e;
}

int mps_socketpair_room(int type, int sv[2])
{
	struct rlimit rl, up;
	int rc, e;

	if (socketpair(AF_UNIX, type, 0, sv) == 0)
		return 0;
	if (errno != EMFILE)
		return -errno;
	/* The app holds all but one of its numbers (or all): make the pair
	 * above the soft limit, as the other moves do, so the app runs out
	 * where TCP would, not two descriptors sooner. */
	e = EMFILE;
	pthread_mutex_lock(&g_rl_lock);
	if (rl_nofile(&rl, NULL) == 0 && rl.rlim_max > rl.rlim_cur &&
	    rl.rlim_cur < (rlim_t)INT_MAX - ABOVE_SPAN) {
		up = rl;
		up.rlim_cur = rl.rlim_max - rl.rlim_cur > ABOVE_SPAN ? rl.rlim_cur + ABOVE_SPAN :
		                                                       rl.rlim_max;
		g_rl_saved = rl;
		atomic_store(&g_rl_raised, 1);
		if (rl_nofile(NULL, &up) == 0) {
			rc = socketpair(AF_UNIX, type, 0, sv);
			e = rc == 0 ? 0 : errno;
			rl_nofile(NULL, &rl); /* lowering is always allowed */
		}
		atomic_store(&g_rl_raised, 0);
	}
	pthread_mutex_unlock(&g_rl_lock);
	return -e;
}

int mps_fd_app_range(int fd)
{
	struct rlimit rl;
	int in = 1;

	pthread_mutex_lock(&g_rl_lock);
	if (rl_nofile(&rl, NULL) == 0)
		in = fd >= 0 && (rlim_t)fd < rl.rlim_cur;
	pthread_mutex_unlock(&g_rl_lock);
	return in;
}

int mps_fd_high(int fd)
{
	int d;
	int rc = mps_fd_high_many(&fd, &d, 1);

	return rc ? rc : d;
}

int mps_fd_high_nonblock(int fd)
{
	int d = mps_fd_high(fd), fl;

	if (d < 0)
		return d;
	fl = mps_real.fcntl(d, F_GETFL);
	if (fl < 0 || mps_real.fcntl(d, F_SETFL, fl | O_NONBLOCK) < 0) {
		mps_real.close(d);
		return -EIO;
	}
	return d;
}

/* g_rl_lock is not taken around fork (the log takes it under its own
 * lock, which fork takes after ours): a child forked while another
 * thread had the limit raised restores it and starts with a fresh lock
 * (fdtab.c's fork handlers call this in the child). */
void mps_fdhigh_atfork_child(void)
{
	pthread_mutex_init(&g_rl_lock, NULL);
	pthread_rwlock_init(&g_alloc_lock, NULL);
	if (atomic_exchange(&g_rl_raised, 0))
		rl_nofile(NULL, &g_rl_saved);
}
