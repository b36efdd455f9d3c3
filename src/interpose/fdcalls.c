/* fdcalls.c - the descriptor calls around connections: close, dup,
 * fcntl, socket, and the eventfd/epoll calls that keep the shim's own
 * descriptors out of the app's way. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mptcpshim/conn.h"
#include "mptcpshim/epreg.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/handover.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/inline.h"
#include "mptcpshim/kmptcp.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/log.h"
#include "mptcpshim/nego.h"
#include "mptcpshim/defacc.h"
#include "mptcpshim/optseen.h"
#include "mptcpshim/peercache.h"
#include "mptcpshim/util.h"
#include "sockint.h"

/* close(fd) of a descriptor the app registered in epoll sets.  The kernel
 * drops a registration when the file's last descriptor closes; while a
 * connect is in progress the shim holds a second descriptor of the app's
 * end (to read the filler back), so the app's epoll would keep reporting
 * a number it closed: delete those registrations ourselves. */
static void ep_forget_on_close(int fd, struct mps_sock *s)
{
	struct mps_epreg ep[MPS_EPREG_PER_FD];
	int i, n;

	n = mps_epreg_take(fd, ep, MPS_EPREG_PER_FD);
	/* (an inline connection's socket stays open in our descriptor) */
	if (s && (atomic_load(&s->state) == MPS_SS_CONNECTING || atomic_load(&s->inl)))
		for (i = 0; i < n; i++)
			mps_real.epoll_ctl(ep[i].epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* The app closes an inline connection's number (inline.h): the stream
 * ends; our own descriptor of the socket keeps it open for that. */
static void inline_close(int fd)
{
	struct mps_sock *s = mps_ix_inline_get(fd);

	if (s) {
		mps_inline_close(fd, s);
		mps_sock_put(s);
	}
}

/* ... s, fd's sock already looked up: the same, if it is inline. */
static void inline_close_sock(int fd, struct mps_sock *s)
{
	if (atomic_load_explicit(&mps_inline_socks, memory_order_relaxed) && atomic_load(&s->inl))
		mps_inline_close(fd, s);
}

struct fd_range {
	unsigned lo, hi;
};

static int inline_close_in(int fd, struct mps_sock *s, void *arg)
{
	const struct fd_range *r = arg;

	if ((unsigned)fd >= r->lo && (unsigned)fd <= r->hi)
		inline_close_sock(fd, s);
	return 0;
}

/* close_range/closefrom over inline connections' numbers: as close(). */
static void inline_close_range(unsigned lo, unsigned hi)
{
	struct fd_range r = {lo, hi};

	if (atomic_load_explicit(&mps_inline_socks, memory_order_relaxed) && !mps_inside)
		mps_fdtab_each(inline_close_in, &r);
}

MPS_EXPORT int close(int fd)
{
	mps_real_init();
	if (mps_inside)
		mps_ifd_del(fd); /* libev closing its own (ev_loop_fork) */
	else {
		/* one look (and descriptor check) for both uses below */
		struct mps_sock *s = mps_fdtab_has(fd) ? mps_fdtab_get(fd) : NULL;

		if (mps_epreg_any(fd))
			ep_forget_on_close(fd, s);
		mps_optseen_gone(fd);
		mps_defacc_gone(fd);
		if (atomic_load_explicit(&mps_handover_pending, memory_order_relaxed))
			mps_handover_close(fd); /* a fork-per-connection parent's close */
		if (s) {
			inline_close_sock(fd, s);
			mps_sock_put(s);
			mps_fdtab_clear(fd);
		} else if (mps_fdtab_has(fd)) {
			mps_fdtab_clear(fd);
		} else if (mps_ifd_is(fd)) {
			/* The app closing descriptors it never opened (close-all
			 * loops): our subflows must survive it, and the app hears
			 * what TCP would say of a number it never had. */
			mps_dbg("close: fd %d belongs to mptcpshim, left open", fd);
			errno = EBADF;
			return -1;
		}
	}
	return mps_real.close(fd);
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* close_range and closefrom: close-all calls must not cut our subflows
 * (as close above); sshd calls closefrom right after its re-exec, when
 * the connection carried into it already runs (handover_exec.c).  Marking
 * close-on-exec (CLOSE_RANGE_CLOEXEC) spares nothing: ours have it. */
MPS_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	mps_real_init();
	if (mps_inside || (flags & CLOSE_RANGE_CLOEXEC))
		return (int)mps_real.syscall(SYS_close_range, first, last, flags);
	inline_close_range(first, last);
	mps_defacc_gone_range(first, last);
	return mps_ifd_close_range(first, last, flags);
}

MPS_EXPORT void closefrom(int lowfd)
{
	unsigned fd;
	long max;

	mps_real_init();
	inline_close_range(lowfd < 0 ? 0u : (unsigned)lowfd, ~0u);
	mps_defacc_gone_range(lowfd < 0 ? 0u : (unsigned)lowfd, ~0u);
	if (mps_ifd_close_range(lowfd < 0 ? 0u : (unsigned)lowfd, ~0u, 0) == 0 || errno != ENOSYS)
		return;
	/* kernels before 5.9: one by one, up to the limit */
	max = sysconf(_SC_OPEN_MAX);
	for (fd = lowfd < 0 ? 0u : (unsigned)lowfd; max > 0 && fd < (unsigned)max; fd++)
		if (!mps_ifd_is((int)fd))
			mps_real.close((int)fd);
}

/* A new descriptor newfd now refers to whatever oldfd refers to. */
static void track_dup(int oldfd, int newfd)
{
	struct mps_sock *s;

	if (newfd < 0 || oldfd == newfd)
		return;
	mps_epreg_forget(newfd); /* its old file's registrations are the kernel's now */
	mps_optseen_gone(newfd);
	mps_defacc_gone(newfd);
	mps_optseen_shared(oldfd); /* options may be set through either number */
	mps_fdtab_clear(newfd);
	s = mps_fdtab_get(oldfd);
	if (s) {
		mps_fdtab_set(newfd, s);
		mps_sock_put(s);
	}
}

MPS_EXPORT int dup(int fd)
{
	int n;

	mps_real_init();
	mps_ix_inline_promote_fd(fd, "dup"); /* two numbers: the socketpair's close counts them */
	n = mps_real.dup(fd);
	if (!mps_inside && n >= 0)
		track_dup(fd, n);
	return n;
}

static int guard_internal(int newfd)
{
	if (!mps_inside && mps_ifd_is(newfd)) {
		if (!mps_fd_app_range(newfd)) {
			errno = EBADF; /* the kernel's answer above the limit */
			return -1;
		}
		mps_warn("dup2: refusing to replace fd %d, which mptcpshim uses", newfd);
		errno = EBUSY;
		return -1;
	}
	return 0;
}

MPS_EXPORT int dup2(int fd, int newfd)
{
	int n;

	mps_real_init();
	if (fd != newfd && guard_internal(newfd))
		return -1;
	if (fd != newfd) {
		mps_ix_inline_promote_fd(fd, "dup2");
		if (mps_fdtab_has(newfd))
			inline_close(newfd); /* its number now names another file */
	}
	n = mps_real.dup2(fd, newfd);
	if (!mps_inside && n >= 0)
		track_dup(fd, n);
	return n;
}

MPS_EXPORT int dup3(int fd, int newfd, int flags)
{
	int n;

	mps_real_init();
	if (guard_internal(newfd))
		return -1;
	mps_ix_inline_promote_fd(fd, "dup3");
	if (fd != newfd && mps_fdtab_has(newfd))
		inline_close(newfd);
	n = mps_real.dup3(fd, newfd, flags);
	if (!mps_inside && n >= 0)
		track_dup(fd, n);
	return n;
}

static int do_fcntl(int fd, int cmd, void *arg)
{
	int n;

	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		mps_ix_inline_promote_fd(fd, "F_DUPFD");
	n = mps_real.fcntl(fd, cmd, arg);
	if (cmd == F_SETFL && n == 0) {
		struct mps_sock *s = mps_ix_inline_get(fd);

		if (s) {
			atomic_store(&s->inl_nonblock, ((long)arg & O_NONBLOCK) != 0);
			mps_sock_put(s);
		}
	}

	if (!mps_inside && n >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		track_dup(fd, n);
	return n;
}

MPS_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	mps_real_init();
	return do_fcntl(fd, cmd, arg);
}

MPS_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	mps_real_init();
	return do_fcntl(fd, cmd, arg);
}

/* socket() is ours only for the instant of the allocation: see
 * mps_alloc_app. */
MPS_EXPORT int socket(int domain, int type, int protocol)
{
	static int (*real)(int, int, int);
	int fd, e;

	if (!real)
		real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	if (mps_inside)
		return real(domain, type, protocol);
	mps_alloc_app(1);
	fd = real(domain, type, protocol);
	e = errno;
	mps_alloc_app(0);
	if (!mps_passthrough())
		mps_opts_socket(fd, domain, type, protocol);
	errno = e;
	return fd;
}

/* libev's descriptors: created while mps_inside is set (the loop's
 * creation, ev_loop_fork in the keeper), they are the shim's. */
static int note_internal(int fd)
{
	if (fd >= 0 && mps_inside)
		fd = mps_ifd_take(fd, 1); /* out of the app's range */
	return fd;
}

MPS_EXPORT int eventfd(unsigned int count, int flags)
{
	mps_real_init();
	return note_internal(mps_real.eventfd(count, flags));
}

MPS_EXPORT int epoll_create(int size)
{
	int fd;

	mps_real_init();
	fd = note_internal(mps_real.epoll_create(size));
	if (fd >= 0 && mps_inside)
		atomic_store(&mps_handover_epfd, fd); /* libev's: see handover.h */
	return fd;
}

MPS_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int rc;

	mps_real_init();
	if (op != EPOLL_CTL_DEL) /* a forked child that registers its connection adopts it */
		mps_handover_hook(fd);
	rc = mps_real.epoll_ctl(epfd, op, fd, ev);
	if (rc == 0 && !mps_inside)
		mps_epreg_note(epfd, op, fd, ev ? ev->events : 0, ev ? ev->data.u64 : 0);
	if (rc == 0 && op != EPOLL_CTL_DEL) {
		/* bytes a poll/select look-ahead read into rxq (inline.c's
		 * read_ahead) would never show in this set.  The hint first
		 * (no fstat, no engine lock: issue 15), then the check. */
		struct mps_sock *s = mps_ix_inline_rxq_hint(fd);

		if (s && mps_fdtab_verify(fd, s) && mps_inline_pending(s))
			mps_inline_promote_sock(s, "epoll_ctl with bytes read ahead");
		if (s)
			mps_sock_put(s);
	}
	return rc;
}

MPS_EXPORT int epoll_create1(int flags)
{
	int fd;

	mps_real_init();
	fd = note_internal(mps_real.epoll_create1(flags));
	if (fd >= 0 && mps_inside)
		atomic_store(&mps_handover_epfd, fd); /* libev's: see handover.h */
	return fd;
}
