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
#include <sys/socket.h>
#include <unistd.h>

#include "mptcpshim/fdtab.h"
#include "mptcpshim/interpose.h"

/* The error pending on fd's connection, consumed; 0 if none. */
static int take_error(int fd)
{
	struct mps_sock *s;
	int e;

	if (atomic_load_explicit(&mps_pending_errors, memory_order_relaxed) == 0 || mps_inside)
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

#define RETURN_PENDING(fd)                                                                         \
	do {                                                                                       \
		int e_ = take_error(fd);                                                           \
		if (e_) {                                                                          \
			errno = e_;                                                                \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

MPS_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			  __CONST_SOCKADDR_ARG addr, socklen_t alen)
{
	mps_real_init();
	RETURN_PENDING(fd);
	if (addr.__sockaddr__ && !mps_inside && mps_fdtab_has(fd))
		return mps_real.sendto(fd, buf, len, flags, NULL, 0);
	return mps_real.sendto(fd, buf, len, flags, addr.__sockaddr__, alen);
}

MPS_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	mps_real_init();
	RETURN_PENDING(fd);
	if (msg && msg->msg_name && !mps_inside && mps_fdtab_has(fd)) {
		struct msghdr m = *msg;

		m.msg_name = NULL;
		m.msg_namelen = 0;
		return mps_real.sendmsg(fd, &m, flags);
	}
	return mps_real.sendmsg(fd, msg, flags);
}

MPS_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	mps_real_init();
	RETURN_PENDING(fd);
	return mps_real.read(fd, buf, len);
}

MPS_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	mps_real_init();
	RETURN_PENDING(fd);
	return mps_real.read_chk(fd, buf, len, buflen);
}

MPS_EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	mps_real_init();
	RETURN_PENDING(fd);
	return mps_real.readv(fd, iov, n);
}

MPS_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	mps_real_init();
	RETURN_PENDING(fd);
	return mps_real.recv(fd, buf, len, flags);
}

MPS_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	mps_real_init();
	RETURN_PENDING(fd);
	return mps_real.recv_chk(fd, buf, len, buflen, flags);
}

MPS_EXPORT ssize_t recvfrom(int fd, void *restrict buf, size_t len, int flags,
			    __SOCKADDR_ARG addr, socklen_t *restrict alen)
{
	mps_real_init();
	RETURN_PENDING(fd);
	return mps_real.recvfrom(fd, buf, len, flags, addr.__sockaddr__, alen);
}

MPS_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
				  struct sockaddr *addr, socklen_t *alen)
{
	mps_real_init();
	RETURN_PENDING(fd);
	return mps_real.recvfrom_chk(fd, buf, len, buflen, flags, addr, alen);
}

MPS_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	mps_real_init();
	RETURN_PENDING(fd);
	return mps_real.recvmsg(fd, msg, flags);
}

MPS_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	mps_real_init();
	RETURN_PENDING(fd);
	return mps_real.write(fd, buf, len);
}

MPS_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	mps_real_init();
	RETURN_PENDING(fd);
	return mps_real.writev(fd, iov, n);
}

MPS_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	mps_real_init();
	RETURN_PENDING(fd);
	return mps_real.send(fd, buf, len, flags);
}
