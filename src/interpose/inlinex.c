/* inlinex.c - the hooks' side of inline connections (MPTCPSHIM_INLINE,
 * include/mptcpshim/inline.h; docs/DESIGN.md section 7, "Inline
 * connections"): a client's connect that keeps the app's TCP socket, the
 * swap a promotion makes, and the calls the inline path does not serve,
 * which promote the connection before libc's call runs on the app's end.
 * Those hooks cost one relaxed atomic load while no connection is inline. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mptcpshim/conn.h"
#include "mptcpshim/epreg.h"
#include "mptcpshim/fdhigh.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/inline.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/log.h"
#include "mptcpshim/optseen.h"
#include "mptcpshim/peercache.h"
#include "mptcpshim/util.h"
#include "sockint.h"

/* The app's end behind the app's number: its epoll registrations move,
 * its close-on-exec flag stays, and the app-level options (timeouts,
 * low-water mark, linger) go from the TCP socket to the new end. */
static int swap(int fd, int app_end, struct mps_sock *s)
{
	struct mps_epreg ep[MPS_EPREG_PER_FD];
	int fdfl = mps_real.fcntl(fd, F_GETFD), nep;

	if (fdfl < 0)
		return -errno;
	mps_opts_adopt(fd, app_end, s, MPS_OPTSEEN_ALL);
	nep = mps_ix_ep_detach(fd, ep);
	if (mps_real.dup3(app_end, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		int e = errno;

		mps_ix_ep_attach(fd, ep, nep);
		return -e;
	}
	mps_ix_ep_attach(fd, ep, nep);
	return 0;
}

int mps_ix_inline_adopt(int fd, const struct adopt_args *a)
{
	struct mps_conn_params p;
	struct mps_sock *s;
	struct stat st;
	uint32_t found;
	int tcp, rc;

	mps_inline_set_swap(swap);
	if (mps_fstat(fd, &st) != 0)
		return -errno;
	rc = mps_fd_high_many(&fd, &tcp, 1); /* our descriptor of the same socket */
	if (rc)
		return rc;
	/* (the same file as the app's number: its O_NONBLOCK is the app's
	 * while inline, and every call of ours says MSG_DONTWAIT) */
	mps_ifd_add(tcp);
	s = mps_sock_new(a->peer->sa_family);
	if (!s) {
		mps_ifd_close(tcp);
		return -ENOMEM;
	}
	s->ino = st.st_ino;
	found = mps_opts_note_inline(fd, s, a->opt_want);
	if (a->opt_found)
		*a->opt_found = found;
	memcpy(&s->peer, a->peer, a->peer_len);
	s->peer_len = a->peer_len;
	s->local_len = sizeof(s->local);
	mps_real.getsockname(fd, (struct sockaddr *)&s->local, &s->local_len);
	atomic_store(&s->state, a->connecting ? MPS_SS_CONNECTING : MPS_SS_CONNECTED);
	atomic_store(&s->connect_told, !a->connecting);
	atomic_store(&s->inl, 1);
	atomic_store(&s->inl_nonblock, a->nonblock != 0);
	atomic_store(&s->inl_srv, a->role == MPS_SERVER);
	atomic_fetch_add(&mps_inline_socks, 1);
	mps_fdtab_set(fd, s);

	memset(&p, 0, sizeof(p));
	mps_ix_conn_params(&p, a, s, tcp); /* (a client's, towards a known shim) */
	p.shim_fd = -1;
	p.app_dup = -1;
	p.inl = 1;
	p.inl_fd = fd;
	p.inl_look = a->inl_look;
	if (a->role == MPS_SERVER && !a->inl_look) {
		p.inl_hello = a->peek;
		p.inl_hello_len = a->peek_len;
	}
	rc = mps_conn_start(&p);
	if (rc) {
		mps_fdtab_clear(fd);
		atomic_store(&s->inl, 0);
		atomic_fetch_sub(&mps_inline_socks, 1);
		mps_ifd_close(tcp);
	}
	mps_sock_put(s);
	return rc;
}

/* The whole HELLO of a client that holds for an inline server (HOLD) is
 * in the b[got] accept peeked (a system call fewer than a look of its
 * own: issue 15). */
static int hello_holds(const uint8_t *b, size_t got)
{
	struct mps_frame f;

	return b && got > 0 && mps_frame_decode(b, got, &f, NULL) > 0 && f.type == MPS_F_HELLO &&
	       (f.u.hello.caps & MPS_CAP_HOLD);
}

/* peer's host sent us HELLOs lately (this process tree, or the user's
 * processes through MPTCPSHIM_PEER_CACHE: read at most every 2 s). */
static int shim_client_host(const struct sockaddr *peer)
{
	uint64_t now = mps_now_us();

	return mps_peercache_shim_client(peer, now) ||
	       mps_peercache_shared_shim_client(mps_config()->peer_cache, peer, now,
	                                        (int64_t)time(NULL));
}

int mps_ix_inline_accept(int fd, const struct adopt_args *a, int hello)
{
	struct adopt_args la = *a;
	int rc;

	/* nothing yet: the app's first call looks (inline.c), a plain
	 * client's connection is handed back then */
	if (hello ? !hello_holds(a->peek, a->peek_len) : !shim_client_host(a->peer))
		return -EAGAIN;
	rc = mps_ix_loop_ready();
	if (rc)
		return rc;
	la.inl_look = !hello; /* (a HOLD client never gives up waiting) */
	rc = mps_ix_inline_adopt(fd, &la); /* the HELLO is taken there (connect.c) */
	if (rc)
		return rc;
	/* the app's O_NONBLOCK on the file it holds (accept4 set ours) */
	if (!a->nonblock)
		mps_real.fcntl(fd, F_SETFL, 0);
	return 0;
}

/* ------------------------------------------------------------- calls the
 * inline path does not serve: the connection takes its socketpair first */

struct mps_sock *mps_ix_inline_get(int fd)
{
	struct mps_sock *s;

	if (!atomic_load_explicit(&mps_inline_socks, memory_order_relaxed) || mps_inside)
		return NULL;
	s = mps_fdtab_get(fd);
	if (s && !atomic_load(&s->inl)) {
		mps_sock_put(s);
		s = NULL;
	}
	return s;
}

struct mps_sock *mps_ix_inline_rxq_hint(int fd)
{
	struct mps_sock *s;

	if (!atomic_load_explicit(&mps_inline_socks, memory_order_relaxed) || mps_inside)
		return NULL;
	s = mps_fdtab_ref(fd);
	if (s &&
	    !(atomic_load(&s->inl) && atomic_load_explicit(&s->inl_rxq, memory_order_relaxed))) {
		mps_sock_put(s);
		s = NULL;
	}
	return s;
}

static void promote_fd(int fd, const char *why)
{
	struct mps_sock *s = mps_ix_inline_get(fd);

	if (!s)
		return;
	mps_inline_promote_sock(s, why);
	mps_sock_put(s);
}

void mps_ix_inline_promote_fd(int fd, const char *why)
{
	promote_fd(fd, why);
}

void mps_ix_inline_promote_passed(const struct msghdr *msg)
{
	struct cmsghdr *cm;

	if (!atomic_load_explicit(&mps_inline_socks, memory_order_relaxed) || mps_inside ||
	    !msg || !msg->msg_control || msg->msg_controllen < sizeof(struct cmsghdr))
		return;
	for (cm = CMSG_FIRSTHDR((struct msghdr *)msg); cm;
	     cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		size_t i, n;
		int fd;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			promote_fd(fd, "passed to another process");
		}
	}
}

/* sendfile to an inline connection: the file's bytes framed as a write
 * (nginx sends even a small answer so).  At most SENDFILE_CHUNK a call,
 * as a non-blocking sendfile may send less than asked; the file's offset
 * (or position) moves by what was sent.  MPS_INLINE_REAL when the path
 * does not serve it (promoted meanwhile, or a file without an offset: a
 * pipe's bytes could not be put back). */
#define SENDFILE_CHUNK (32u * 1024u)

static ssize_t inline_sendfile(int out, struct mps_sock *s, int in, off_t *off, size_t count)
{
	char buf[SENDFILE_CHUNK];
	struct iovec iov = {.iov_base = buf};
	off_t pos = off ? *off : lseek(in, 0, SEEK_CUR);
	ssize_t n, r;

	if (pos < 0)
		return MPS_INLINE_REAL;
	if (count == 0)
		return 0;
	n = pread(in, buf, count < sizeof(buf) ? count : sizeof(buf), pos);
	if (n <= 0)
		return n;
	iov.iov_len = (size_t)n;
	r = mps_inline_send(out, s, &iov, 1, atomic_load(&s->inl_nonblock));
	if (r > 0) {
		if (off)
			*off = pos + r;
		else
			lseek(in, pos + r, SEEK_SET);
	}
	return r;
}

static ssize_t do_sendfile(int out, int in, off_t *off, size_t count, int wide)
{
	struct mps_sock *s;
	ssize_t r = MPS_INLINE_REAL;

	mps_real_init();
	s = mps_ix_inline_get(out);
	if (s) {
		r = inline_sendfile(out, s, in, off, count);
		if (r == MPS_INLINE_REAL)
			mps_inline_promote_sock(s, "sendfile");
		mps_sock_put(s);
	}
	if (r != MPS_INLINE_REAL)
		return r;
	return wide && mps_real.sendfile64 ? mps_real.sendfile64(out, in, off, count) :
	                                     mps_real.sendfile(out, in, off, count);
}

MPS_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	return do_sendfile(out, in, off, count, 0);
}

MPS_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
	return do_sendfile(out, in, off, count, 1);
}

MPS_EXPORT ssize_t splice(int in, loff_t *oin, int out, loff_t *oout, size_t len, unsigned flags)
{
	mps_real_init();
	promote_fd(in, "splice");
	promote_fd(out, "splice");
	return mps_real.splice(in, oin, out, oout, len, flags);
}

MPS_EXPORT FILE *fdopen(int fd, const char *mode)
{
	mps_real_init();
	promote_fd(fd, "fdopen"); /* stdio reads and writes inside libc */
	return mps_real.fdopen(fd, mode);
}

MPS_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *t)
{
	mps_real_init();
	promote_fd(fd, "recvmmsg");
	return mps_real.recvmmsg(fd, v, n, flags, t);
}

MPS_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
	mps_real_init();
	promote_fd(fd, "sendmmsg");
	return mps_real.sendmmsg(fd, v, n, flags);
}

/* ioctl: FIONBIO is the app's O_NONBLOCK (kept for the inline path),
 * FIONREAD counts the app bytes (not the socket's frame bytes); anything
 * else on an inline socket is the app end's to answer. */
MPS_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct mps_sock *s;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	mps_real_init();
	s = mps_ix_inline_get(fd);
	if (s) {
		int done = 0;

		if (req == FIONBIO && arg)
			atomic_store(&s->inl_nonblock, *(int *)arg != 0);
		else if (req == FIONREAD && arg) /* (sockperf asks after each message) */
			done = mps_inline_fionread(s, (int *)arg) == 0;
		else
			mps_inline_promote_sock(s, "ioctl");
		mps_sock_put(s);
		if (done)
			return 0;
	}
	return mps_real.ioctl(fd, req, arg);
}
