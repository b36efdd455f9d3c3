/* io.c - the data calls, where an AF_UNIX socket must answer as TCP.
 *
 * 1. Linux TCP ignores a destination address on a connected socket; AF_UNIX
 *    fails with EISCONN.  For shim descriptors the address is dropped.
 * 2. A connection that ended with an error other than a reset (ETIMEDOUT
 *    after an outage) reports it once, on the next read or write, as TCP's
 *    sk_err.  (A reset needs no hook: af_unix reports ECONNRESET itself.)
 *
 * The data path pays one atomic load per call: descriptors are looked up
 * only while some connection has an error pending, or when an address is
 * passed to sendto/sendmsg. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mptcpshim/direct.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/handback.h"
#include "mptcpshim/handover.h"
#include "mptcpshim/inline.h"
#include "mptcpshim/interpose.h"
#include "sockint.h"

static int errors_pending(void)
{
	return atomic_load_explicit(&mps_pending_errors, memory_order_relaxed) != 0 && !mps_inside;
}

/* The error pending on fd's connection, consumed; 0 if none. */
static int take_error(int fd)
{
	struct mps_sock *s;
	int e;

	if (!errors_pending())
		return 0;
	s = mps_fdtab_get(fd);
	if (!s)
		return 0;
	e = atomic_exchange(&s->pending_err, 0);
	if (e)
		atomic_fetch_sub(&mps_pending_errors, 1);
	mps_sock_put(s);
	return e;
}

/* Before the call: report a pending error, and consume the af_unix reset
 * that stands for it, so the app sees one error, as with TCP. */
#define RETURN_PENDING(fd, rd)                                                         \
	do {                                                                           \
		if (atomic_load_explicit(&mps_handover_pending, memory_order_relaxed)) \
			mps_handover_touch(fd);                                        \
		if (atomic_load_explicit(&mps_handback_pending, memory_order_relaxed)) \
			mps_handback_touch(fd, rd);                                    \
		int e_ = take_error(fd);                                               \
		if (e_) {                                                              \
			int k_ = 0;                                                    \
			socklen_t kl_ = sizeof(k_);                                    \
			mps_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &k_, &kl_);      \
			errno = e_;                                                    \
			return -1;                                                     \
		}                                                                      \
	} while (0)

/* After the call: one that was blocked when the connection ended returns
 * EOF, ECONNRESET or EPIPE from our end closing; the pending error is the
 * true answer (ETIMEDOUT after an outage; ECONNRESET where no byte could be
 * left unread, e.g. after the app's own shutdown(SHUT_WR)). */
static ssize_t settle(int fd, ssize_t r, int eof_possible)
{
	int saved = errno, e;

	if (!errors_pending())
		return r;
	if (!((r == 0 && eof_possible) || (r < 0 && (saved == ECONNRESET || saved == EPIPE))))
		return r;
	e = take_error(fd);
	errno = e ? e : saved;
	return e ? -1 : r;
}

/* After a read that took bytes: the app may just have emptied its end of
 * an offered connection (handback.h).  Swapped now, not at its next call,
 * which may be a poll() the hooks never see. */
static ssize_t hb_after(int fd, ssize_t r)
{
	if (r > 0 && atomic_load_explicit(&mps_handback_pending, memory_order_relaxed)) {
		int saved = errno;

		mps_handback_touch(fd, 1);
		errno = saved;
	}
	return r;
}

/* The app-thread send path (direct.c): the bytes the app's thread framed
 * and sent itself, then the rest, if any, through the app's end as
 * before (a blocking socket blocks there for it, as TCP would).  A
 * failure after some bytes went is the count so far, as with TCP. */
static ssize_t iov_total(const struct iovec *iov, int n)
{
	size_t t = 0;
	int i;

	for (i = 0; i < n; i++)
		t += iov[i].iov_len;
	return (ssize_t)t;
}

static ssize_t direct_rest(int fd, ssize_t d, const struct iovec *iov, int n, int flags,
                           const struct msghdr *msg)
{
	struct iovec small[8], *tmp;
	struct msghdr m;
	size_t skip = (size_t)d;
	int k = 0, saved = errno;
	ssize_t r;

	while (k < n && skip >= iov[k].iov_len)
		skip -= iov[k++].iov_len;
	/* not on the stack beyond a few: the app's thread may have a small
	 * one (a coroutine's), and writev takes up to 1024 spans */
	tmp = n - k <= 8 ? small : malloc((size_t)(n - k) * sizeof(*iov));
	if (!tmp)
		return d; /* the rest is the app's next write */
	memcpy(tmp, iov + k, (size_t)(n - k) * sizeof(*iov));
	tmp[0].iov_base = (char *)tmp[0].iov_base + skip;
	tmp[0].iov_len -= skip;
	memset(&m, 0, sizeof(m));
	if (msg)
		m.msg_flags = msg->msg_flags;
	m.msg_iov = tmp;
	m.msg_iovlen = (size_t)(n - k);
	r = mps_real.sendmsg(fd, &m, flags | MSG_NOSIGNAL);
	if (tmp != small)
		free(tmp);
	errno = saved;
	return r > 0 ? d + r : d;
}

/* An inline connection (inline.h): its sock, referenced, or NULL (the
 * usual case, one relaxed load).  A call it does not serve promotes it
 * here (then NULL: the real call goes to the app's end). */
static struct mps_sock *inline_sock(int fd, int flags, int ok_flags, const char *why)
{
	struct mps_sock *s;

	if (!atomic_load_explicit(&mps_inline_socks, memory_order_relaxed) || mps_inside ||
	    !mps_fdtab_has(fd))
		return NULL;
	s = mps_fdtab_ref(fd);
	if (!s)
		return NULL;
	if (atomic_load(&s->inl) && !(flags & ~ok_flags))
		return s;
	if (atomic_load(&s->inl))
		mps_inline_promote_sock(s, why);
	mps_sock_put(s);
	return NULL;
}

#define INLINE_RD_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL | MSG_CMSG_CLOEXEC)

/* 1 and *r when the inline path answered the read. */
static int inline_read(int fd, const struct iovec *iov, int n, int flags, ssize_t *r)
{
	struct mps_sock *s = inline_sock(fd, flags, INLINE_RD_FLAGS, "read flags");

	if (!s)
		return 0;
	*r = mps_inline_recv(fd, s, iov, n,
	                     (flags & MSG_DONTWAIT) || atomic_load(&s->inl_nonblock));
	mps_sock_put(s);
	return *r != MPS_INLINE_REAL;
}

static int inline_read_buf(int fd, void *buf, size_t len, int flags, ssize_t *r)
{
	struct iovec v = {buf, len};

	return inline_read(fd, &v, 1, flags, r);
}

/* 1 and *r when the inline path answered the write (the rest of a partly
 * taken one, if any, through the app's end it was promoted to). */
static int inline_write(int fd, const struct iovec *iov, int n, int flags, const struct msghdr *msg,
                        ssize_t *r)
{
	struct mps_sock *s;
	ssize_t total = 0;
	int i, promoted;

	if (n <= 0 || n > 1024)
		return 0;
	s = inline_sock(fd, flags, MSG_DONTWAIT | MSG_NOSIGNAL, "write flags");
	if (!s)
		return 0;
	if (atomic_load(&s->shut_wr)) {
		mps_inline_promote_sock(s, "a write after shutdown");
		mps_sock_put(s);
		return 0;
	}
	*r = mps_inline_send(fd, s, iov, n,
	                     (flags & MSG_DONTWAIT) || atomic_load(&s->inl_nonblock));
	promoted = !atomic_load(&s->inl);
	mps_sock_put(s);
	if (*r == MPS_INLINE_REAL)
		return 0;
	if (*r < 0 && errno == EPIPE && !(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	for (i = 0; i < n; i++)
		total += (ssize_t)iov[i].iov_len;
	/* promoted on the way: the rest through the app's end (else the
	 * count so far, as a non-blocking TCP write's) */
	if (*r > 0 && *r < total && promoted)
		*r = direct_rest(fd, *r, iov, n, flags, msg);
	return 1;
}

static int inline_write_buf(int fd, const void *buf, size_t len, int flags, ssize_t *r)
{
	struct iovec v = {(void *)buf, len};

	return inline_write(fd, &v, 1, flags, NULL, r);
}

/* The bytes written (> 0), or -1: the caller makes its real call. */
static ssize_t try_direct(int fd, const struct iovec *iov, int n, int flags,
                          const struct msghdr *msg)
{
	ssize_t d;

	if (n <= 0 || n > 1024)
		return -1;
	d = mps_direct_write(fd, iov, n, flags);
	if (d <= 0 || d == iov_total(iov, n))
		return d;
	return direct_rest(fd, d, iov, n, flags, msg);
}

static ssize_t try_direct_buf(int fd, const void *buf, size_t len, int flags)
{
	struct iovec v = {(void *)buf, len};

	return len > 0 ? try_direct(fd, &v, 1, flags, NULL) : -1;
}

MPS_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, __CONST_SOCKADDR_ARG addr,
                          socklen_t alen)
{
	ssize_t d;

	mps_real_init();
	RETURN_PENDING(fd, 0);
	if (inline_write_buf(fd, buf, len, flags, &d))
		return d;
	d = try_direct_buf(fd, buf, len, flags);
	if (d > 0)
		return d;
	if (addr.__sockaddr__ && !mps_inside && mps_fdtab_has(fd))
		return settle(fd, mps_real.sendto(fd, buf, len, flags, NULL, 0), 0);
	return settle(fd, mps_real.sendto(fd, buf, len, flags, addr.__sockaddr__, alen), 0);
}

MPS_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	mps_real_init();
	RETURN_PENDING(fd, 0);
	if (msg && msg->msg_controllen == 0 && msg->msg_iovlen <= 1024) {
		ssize_t d;

		if (inline_write(fd, msg->msg_iov, (int)msg->msg_iovlen, flags, msg, &d))
			return d;
		d = try_direct(fd, msg->msg_iov, (int)msg->msg_iovlen, flags, msg);

		if (d > 0)
			return d;
	}
	if (msg && msg->msg_controllen)
		mps_ix_inline_promote_passed(msg); /* SCM_RIGHTS */
	if (msg && msg->msg_name && !mps_inside && mps_fdtab_has(fd)) {
		struct msghdr m = *msg;

		m.msg_name = NULL;
		m.msg_namelen = 0;
		return settle(fd, mps_real.sendmsg(fd, &m, flags), 0);
	}
	return settle(fd, mps_real.sendmsg(fd, msg, flags), 0);
}

MPS_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	ssize_t r;

	mps_real_init();
	RETURN_PENDING(fd, 1);
	if (inline_read_buf(fd, buf, len, 0, &r))
		return r;
	return hb_after(fd, settle(fd, mps_real.read(fd, buf, len), len > 0));
}

MPS_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	ssize_t r;

	mps_real_init();
	RETURN_PENDING(fd, 1);
	if (len <= buflen && inline_read_buf(fd, buf, len, 0, &r))
		return r;
	return hb_after(fd, settle(fd, mps_real.read_chk(fd, buf, len, buflen), len > 0));
}

MPS_EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	ssize_t r;

	mps_real_init();
	RETURN_PENDING(fd, 1);
	if (n > 0 && n <= 1024 && inline_read(fd, iov, n, 0, &r))
		return r;
	return hb_after(fd, settle(fd, mps_real.readv(fd, iov, n), n > 0));
}

MPS_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t r;

	mps_real_init();
	RETURN_PENDING(fd, 1);
	if (inline_read_buf(fd, buf, len, flags, &r))
		return r;
	return hb_after(fd, settle(fd, mps_real.recv(fd, buf, len, flags), len > 0));
}

MPS_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	ssize_t r;

	mps_real_init();
	RETURN_PENDING(fd, 1);
	if (len <= buflen && inline_read_buf(fd, buf, len, flags, &r))
		return r;
	return hb_after(fd, settle(fd, mps_real.recv_chk(fd, buf, len, buflen, flags), len > 0));
}

MPS_EXPORT ssize_t recvfrom(int fd, void *restrict buf, size_t len, int flags, __SOCKADDR_ARG addr,
                            socklen_t *restrict alen)
{
	ssize_t r;

	mps_real_init();
	RETURN_PENDING(fd, 1);
	if (inline_read_buf(fd, buf, len, flags, &r)) {
		if (r >= 0 && addr.__sockaddr__ && alen)
			*alen = 0; /* TCP names no source */
		return r;
	}
	return hb_after(fd,
	                settle(fd, mps_real.recvfrom(fd, buf, len, flags, addr.__sockaddr__, alen),
	                       len > 0));
}

MPS_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                                  struct sockaddr *addr, socklen_t *alen)
{
	ssize_t r;

	mps_real_init();
	RETURN_PENDING(fd, 1);
	if (len <= buflen && inline_read_buf(fd, buf, len, flags, &r)) {
		if (r >= 0 && addr && alen)
			*alen = 0;
		return r;
	}
	return hb_after(fd,
	                settle(fd, mps_real.recvfrom_chk(fd, buf, len, buflen, flags, addr, alen),
	                       len > 0));
}

MPS_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t r;

	mps_real_init();
	RETURN_PENDING(fd, 1);
	if (msg && msg->msg_controllen == 0 && msg->msg_iovlen > 0 && msg->msg_iovlen <= 1024 &&
	    inline_read(fd, msg->msg_iov, (int)msg->msg_iovlen, flags, &r)) {
		if (r >= 0) {
			msg->msg_namelen = 0;
			msg->msg_flags = 0;
		}
		return r;
	}
	if (msg && msg->msg_controllen)
		mps_ix_inline_promote_fd(fd, "ancillary data");
	return hb_after(fd, settle(fd, mps_real.recvmsg(fd, msg, flags), 1));
}

MPS_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	ssize_t d;

	mps_real_init();
	RETURN_PENDING(fd, 0);
	if (inline_write_buf(fd, buf, len, 0, &d))
		return d;
	d = try_direct_buf(fd, buf, len, 0);
	if (d > 0)
		return d;
	return settle(fd, mps_real.write(fd, buf, len), 0);
}

MPS_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	ssize_t d;

	mps_real_init();
	RETURN_PENDING(fd, 0);
	if (inline_write(fd, iov, n, 0, NULL, &d))
		return d;
	d = try_direct(fd, iov, n, 0, NULL);
	if (d > 0)
		return d;
	return settle(fd, mps_real.writev(fd, iov, n), 0);
}

MPS_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t d;

	mps_real_init();
	RETURN_PENDING(fd, 0);
	if (inline_write_buf(fd, buf, len, flags, &d))
		return d;
	d = try_direct_buf(fd, buf, len, flags);
	if (d > 0)
		return d;
	return settle(fd, mps_real.send(fd, buf, len, flags), 0);
}

/* shutdown(SHUT_WR) on a shim connection: its bytes after that must fail
 * (EPIPE from the app's end), never go out the app-thread way. */
MPS_EXPORT int shutdown(int fd, int how)
{
	mps_real_init();
	if (how == SHUT_RD)
		mps_ix_inline_promote_fd(fd, "shutdown(SHUT_RD)");
	if ((how == SHUT_WR || how == SHUT_RDWR) && !mps_inside && mps_fdtab_has(fd)) {
		struct mps_sock *s = mps_fdtab_get(fd);

		if (s)
			atomic_store(&s->shut_wr, 1); /* (TCP_INFO's CLOSE_WAIT ends too) */
		if (s && atomic_load(&s->inl)) {
			int r = mps_inline_shutdown(fd, s, how);

			if (r != MPS_INLINE_REAL) {
				mps_sock_put(s);
				return r;
			} /* promoted: the app's end takes it */
		}
		if (s)
			mps_sock_put(s);
	}
	return mps_real.shutdown(fd, how);
}
