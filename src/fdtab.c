/* fdtab.c - fd -> connection map and internal-fd registry (see fdtab.h).
 *
 * Two-level tables indexed by fd number: pages of 1024 slots allocated on
 * first use, never freed, so a lookup is two atomic loads and no lock. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mptcpshim/fdhigh.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/log.h"
#include "mptcpshim/real.h"
#include "mptcpshim/util.h"

#define PAGE_BITS 10
#define PAGE_SIZE_FDS (1u << PAGE_BITS)
#define MAX_PAGES 1024 /* fds up to 1M */

typedef _Atomic(struct mps_sock *) sock_slot;
static _Atomic(sock_slot *) g_pages[MAX_PAGES];
static _Atomic(atomic_uchar *) g_ipages[MAX_PAGES]; /* internal fd flags */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_maxfd = -1;
atomic_int mps_pending_errors;
atomic_uint mps_fork_gen;

struct mps_sock *mps_sock_new(int family)
{
	struct mps_sock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	atomic_init(&s->refs, 1);
	atomic_init(&s->state, MPS_SS_CONNECTING);
	atomic_init(&s->so_error, 0);
	atomic_init(&s->so_error_told, 0);
	s->family = family;
	s->fork_gen = atomic_load(&mps_fork_gen);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->gw_cond, NULL);
	return s;
}

/* The hand-back offer (handback.h) is the sock's state: the engine
 * makes and drops it without calling into handback.c. */
atomic_int mps_handback_pending;

void mps_handback_offer(struct mps_sock *s)
{
	int none = MPS_HB_NONE;

	if (atomic_compare_exchange_strong(&s->handback, &none, MPS_HB_OFFERED))
		atomic_fetch_add(&mps_handback_pending, 1);
}

int mps_handback_cancel(struct mps_sock *s)
{
	int prev = atomic_exchange(&s->handback, MPS_HB_DONE);

	if (prev == MPS_HB_OFFERED) {
		atomic_fetch_sub(&mps_handback_pending, 1);
		return 1;
	}
	return 0;
}

void mps_sock_get(struct mps_sock *s) { atomic_fetch_add(&s->refs, 1); }

void mps_sock_put(struct mps_sock *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->gw_cond);
		free(s->gw_info);
		free(s->opts);
		free(s);
	}
}

void mps_sock_remember_opt(struct mps_sock *s, int level, int name, const void *val, socklen_t len)
{
	int i;

	if (!val || len > sizeof(s->opts[0].val))
		return;
	/* The latest goes last: replayed in the app's order, IP_TOS then
	 * SO_PRIORITY (which IP_TOS overwrites) end as the app left them. */
	for (i = 0; i < s->nopts; i++)
		if (s->opts[i].level == level && s->opts[i].name == name) {
			memmove(&s->opts[i], &s->opts[i + 1],
				(size_t)(s->nopts - i - 1) * sizeof(s->opts[0]));
			s->nopts--;
			break;
		}
	if (s->nopts >= MPS_MAX_OPTS)
		return;
	if (s->nopts == s->cap_opts) {
		int cap = s->cap_opts ? MPS_MAX_OPTS : 4;
		struct mps_opt *o = realloc(s->opts, (size_t)cap * sizeof(*o));

		if (!o) {
			mps_err("socket option %d/%d: out of memory, not given to later subflows",
			        level, name);
			return;
		}
		s->opts = o;
		s->cap_opts = cap;
	}
	i = s->nopts++;
	s->opts[i].level = level;
	s->opts[i].name = name;
	s->opts[i].len = len;
	memcpy(s->opts[i].val, val, len);
}

static sock_slot *page_for(int fd, int create)
{
	unsigned p = (unsigned)fd >> PAGE_BITS;
	sock_slot *pg;

	if (fd < 0 || p >= MAX_PAGES)
		return NULL;
	pg = atomic_load(&g_pages[p]);
	if (!pg && create) {
		sock_slot *fresh = calloc(PAGE_SIZE_FDS, sizeof(sock_slot));
		sock_slot *expected = NULL;

		if (!fresh)
			return NULL;
		if (atomic_compare_exchange_strong(&g_pages[p], &expected, fresh))
			pg = fresh;
		else {
			free(fresh);
			pg = expected;
		}
	}
	return pg;
}

static ino_t fd_ino(int fd)
{
	struct stat st;

	if (mps_fstat(fd, &st) != 0)
		return 0;
	return st.st_ino;
}

int mps_fdtab_set(int fd, struct mps_sock *s)
{
	sock_slot *pg = page_for(fd, 1);
	struct mps_sock *old;
	int m;

	if (!pg)
		return -EMFILE;
	mps_sock_get(s);
	pthread_mutex_lock(&g_lock);
	old = atomic_exchange(&pg[fd & (PAGE_SIZE_FDS - 1)], s);
	pthread_mutex_unlock(&g_lock);
	mps_sock_put(old);
	m = atomic_load(&g_maxfd);
	while (fd > m && !atomic_compare_exchange_weak(&g_maxfd, &m, fd))
		;
	return 0;
}

void mps_fdtab_clear(int fd)
{
	sock_slot *pg = page_for(fd, 0);
	struct mps_sock *old;

	if (!pg)
		return;
	pthread_mutex_lock(&g_lock);
	old = atomic_exchange(&pg[fd & (PAGE_SIZE_FDS - 1)], NULL);
	pthread_mutex_unlock(&g_lock);
	mps_sock_put(old);
}

int mps_fdtab_has(int fd)
{
	sock_slot *pg = page_for(fd, 0);

	return pg && atomic_load(&pg[fd & (PAGE_SIZE_FDS - 1)]) != NULL;
}

struct mps_sock *mps_fdtab_ref(int fd)
{
	sock_slot *pg = page_for(fd, 0);
	struct mps_sock *s;

	/* not ours (most calls of a server with plain clients): no lock */
	if (!pg || !atomic_load(&pg[fd & (PAGE_SIZE_FDS - 1)]))
		return NULL;
	/* Take the entry out while we look, so a concurrent clear cannot free
	 * it under us; put it back if it is still ours. */
	pthread_mutex_lock(&g_lock);
	s = atomic_load(&pg[fd & (PAGE_SIZE_FDS - 1)]);
	if (s)
		mps_sock_get(s);
	pthread_mutex_unlock(&g_lock);
	return s;
}

int mps_fdtab_verify(int fd, struct mps_sock *s)
{
	sock_slot *pg = page_for(fd, 0);
	struct mps_sock *expected = s;

	if (fd_ino(fd) == s->ino)
		return 1;
	/* The fd was closed behind our back and reused. */
	if (pg && atomic_compare_exchange_strong(&pg[fd & (PAGE_SIZE_FDS - 1)], &expected, NULL))
		mps_sock_put(s);
	return 0;
}

struct mps_sock *mps_fdtab_get(int fd)
{
	struct mps_sock *s = mps_fdtab_ref(fd);

	if (s && !mps_fdtab_verify(fd, s)) {
		mps_sock_put(s);
		return NULL;
	}
	return s;
}

int mps_fdtab_dup_any(struct mps_sock *s)
{
	int fd, max = atomic_load(&g_maxfd);

	for (fd = 0; fd <= max; fd++) {
		sock_slot *pg = page_for(fd, 0);
		int d;

		if (!pg) {
			fd |= PAGE_SIZE_FDS - 1;
			continue;
		}
		if (atomic_load(&pg[fd & (PAGE_SIZE_FDS - 1)]) != s)
			continue;
		d = mps_real.fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (d < 0)
			continue;
		if (fd_ino(d) == s->ino)
			return d;
		mps_real.close(d);
	}
	return -1;
}

/* The number under which process pid holds the socket with inode ino, or
 * -1. */
static int fd_in_pid(long pid, ino_t ino)
{
	char dir[48], path[320], link[64], want[48];
	struct dirent *e;
	int found = -1;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)ino);
	d = opendir(dir);
	if (!d)
		return -1;
	while (found < 0 && (e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (!strcmp(link, want))
			found = atoi(e->d_name);
	}
	closedir(d);
	return found;
}

/* pidfd_getfd(2) of the socket ino from pid, or -1. */
static int dup_from(long pid, ino_t ino)
{
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
	int fd = fd_in_pid(pid, ino), pfd, d;

	if (fd < 0)
		return -1;
	pfd = (int)mps_real.syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pfd < 0)
		return -1;
	d = (int)mps_real.syscall(SYS_pidfd_getfd, pfd, fd, 0); /* close-on-exec */
	mps_real.close(pfd);
	if (d >= 0 && fd_ino(d) != ino) {
		mps_real.close(d);
		d = -1;
	}
	return d;
#else
	(void)pid;
	(void)ino;
	return -1;
#endif
}

int mps_fdtab_dup_from_children(ino_t ino)
{
	char path[320], buf[4096];
	struct dirent *t;
	DIR *tasks = opendir("/proc/self/task");
	int d = -1;

	if (!tasks)
		return -1;
	while (d < 0 && (t = readdir(tasks))) {
		ssize_t n;
		char *p, *end;
		int f;

		if (t->d_name[0] < '0' || t->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", t->d_name);
		f = open(path, O_RDONLY | O_CLOEXEC);
		if (f < 0)
			continue;
		n = mps_real.read(f, buf, sizeof(buf) - 1);
		mps_real.close(f);
		if (n <= 0)
			continue;
		buf[n] = 0;
		for (p = buf; d < 0; p = end) {
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			d = dup_from(pid, ino);
		}
	}
	closedir(tasks);
	return d;
}

void mps_fdtab_each(int (*fn)(int fd, struct mps_sock *s, void *arg), void *arg)
{
	int fd, max = atomic_load(&g_maxfd), stop = 0;

	for (fd = 0; fd <= max && !stop; fd++) {
		sock_slot *pg = page_for(fd, 0);
		struct mps_sock *s;

		if (!pg) {
			fd |= PAGE_SIZE_FDS - 1;
			continue;
		}
		pthread_mutex_lock(&g_lock);
		s = atomic_load(&pg[fd & (PAGE_SIZE_FDS - 1)]);
		if (s)
			mps_sock_get(s);
		pthread_mutex_unlock(&g_lock);
		if (!s)
			continue;
		if (fd_ino(fd) == s->ino)
			stop = fn(fd, s, arg);
		mps_sock_put(s);
	}
}

/* ---- internal descriptors ---- */

static atomic_uchar *ipage_for(int fd, int create)
{
	unsigned p = (unsigned)fd >> PAGE_BITS;
	atomic_uchar *pg;

	if (fd < 0 || p >= MAX_PAGES)
		return NULL;
	pg = atomic_load(&g_ipages[p]);
	if (!pg && create) {
		atomic_uchar *fresh = calloc(PAGE_SIZE_FDS, sizeof(atomic_uchar));
		atomic_uchar *expected = NULL;

		if (!fresh)
			return NULL;
		if (atomic_compare_exchange_strong(&g_ipages[p], &expected, fresh))
			pg = fresh;
		else {
			free(fresh);
			pg = expected;
		}
	}
	return pg;
}

void mps_ifd_add(int fd)
{
	atomic_uchar *pg = ipage_for(fd, 1);

	if (pg)
		atomic_store(&pg[fd & (PAGE_SIZE_FDS - 1)], 1);
}

void mps_ifd_del(int fd)
{
	atomic_uchar *pg = ipage_for(fd, 0);

	if (pg)
		atomic_store(&pg[fd & (PAGE_SIZE_FDS - 1)], 0);
}

void mps_ifd_close(int fd)
{
	if (fd >= 0) {
		mps_ifd_del(fd); /* before close: the number may be reused at once */
		mps_real.close(fd);
	}
}

int mps_ifd_is(int fd)
{
	atomic_uchar *pg = ipage_for(fd, 0);

	return pg && atomic_load(&pg[fd & (PAGE_SIZE_FDS - 1)]);
}

static void close_span(unsigned lo, unsigned hi)
{
	unsigned fd;

	if (lo > hi)
		return;
#ifdef SYS_close_range
	if (mps_real.syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
#endif
	/* Kernels before 5.9: one by one, up to the limit (or a sane bound). */
	if (hi > (1u << 20)) {
		long m = sysconf(_SC_OPEN_MAX);

		hi = m > 0 && m < (1 << 20) ? (unsigned)m - 1 : (1u << 20);
	}
	for (fd = lo; fd <= hi && fd >= lo; fd++)
		mps_real.close((int)fd);
}

void mps_ifd_close_others(int keep)
{
	unsigned p, i, lo = 0;

	for (p = 0; p < MAX_PAGES; p++) {
		atomic_uchar *pg = atomic_load(&g_ipages[p]);

		if (!pg && (keep < 0 || (unsigned)keep >> PAGE_BITS != p))
			continue;
		for (i = 0; i < PAGE_SIZE_FDS; i++) {
			unsigned fd = (p << PAGE_BITS) | i;

			if ((pg && atomic_load(&pg[i])) || (int)fd == keep) {
				if (fd > lo)
					close_span(lo, fd - 1);
				lo = fd + 1;
			}
		}
	}
	close_span(lo, ~0u);
}

int mps_ifd_close_range(unsigned lo, unsigned hi, int flags)
{
	unsigned fd = lo, from = lo;
	int rc = 0;

	if (lo > hi) {
		errno = EINVAL;
		return -1;
	}
	while (fd <= hi) {
		unsigned p = fd >> PAGE_BITS;
		atomic_uchar *pg = p < MAX_PAGES ? atomic_load(&g_ipages[p]) : NULL;

		if (p >= MAX_PAGES)
			break;
		if (!pg) { /* no internal descriptor in this page */
			if (((p + 1) << PAGE_BITS) - 1 >= hi || ((p + 1) << PAGE_BITS) == 0)
				break;
			fd = (p + 1) << PAGE_BITS;
			continue;
		}
		if (atomic_load(&pg[fd & (PAGE_SIZE_FDS - 1)])) {
			if (fd > from &&
			    mps_real.syscall(SYS_close_range, from, fd - 1, flags) != 0)
				rc = -1;
			from = fd + 1;
		}
		if (fd == hi)
			break;
		fd++;
	}
	if (from <= hi && from >= lo && mps_real.syscall(SYS_close_range, from, hi, flags) != 0)
		rc = -1;
	return rc;
}

static void note_exhausted(int err)
{
	static atomic_llong last;
	long long now = (long long)time(NULL), was = atomic_load(&last);

	if (now != was && atomic_compare_exchange_strong(&last, &was, now))
		mps_warn("descriptors: no room for mptcpshim's own beyond the app's range (%s): "
		         "new connections stay single-path or plain TCP",
		         strerror(err));
}

int mps_ifd_take(int fd, int must)
{
	int d;

	if (fd < 0)
		return fd;
	d = mps_fd_high(fd);
	if (d >= 0) {
		mps_real.close(fd);
		mps_ifd_add(d);
		return d;
	}
	note_exhausted(-d);
	if (must) {
		mps_ifd_add(fd);
		return fd;
	}
	mps_real.close(fd);
	return d;
}

/* The keeper runs the parent handler in the child: told apart by pid. */
static pid_t g_fork_pid;

void mps_fdtab_atfork_prepare(void)
{
	pthread_mutex_lock(&g_lock);
	g_fork_pid = getpid();
}

void mps_fdtab_atfork_parent(void)
{
	atomic_fetch_add(&mps_fork_gen, 1);
	pthread_mutex_unlock(&g_lock);
	if (getpid() != g_fork_pid)
		mps_fdhigh_atfork_child();
}

void mps_fdtab_atfork_child(void)
{
	unsigned p, i;

	atomic_fetch_add(&mps_fork_gen, 1);
	pthread_mutex_unlock(&g_lock);
	mps_fdhigh_atfork_child();
	/* Our connections are the parent's to service from now on.  This
	 * process is single-threaded here, so a sock lock some other parent
	 * thread held at fork time can be made usable again. */
	for (p = 0; p < MAX_PAGES; p++) {
		sock_slot *pg = atomic_load(&g_pages[p]);

		if (!pg)
			continue;
		for (i = 0; i < PAGE_SIZE_FDS; i++) {
			struct mps_sock *s = atomic_load(&pg[i]);

			if (s) {
				atomic_store(&s->remote, 1);
				pthread_mutex_init(&s->lock, NULL);
			}
		}
	}
	/* The shim thread did not come along: its descriptors are the
	 * parent's to service.  Close our copies (shutdown is never used
	 * here, so the parent's connections are unaffected). */
	for (p = 0; p < MAX_PAGES; p++) {
		atomic_uchar *pg = atomic_load(&g_ipages[p]);

		if (!pg)
			continue;
		for (i = 0; i < PAGE_SIZE_FDS; i++)
			if (atomic_load(&pg[i])) {
				atomic_store(&pg[i], 0);
				mps_real.close((int)((p << PAGE_BITS) | i));
			}
	}
}
