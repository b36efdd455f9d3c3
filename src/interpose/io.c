/* io.c - the few data calls where an AF_UNIX socket answers unlike TCP.
 *
 * Linux TCP ignores a destination address on a connected socket; AF_UNIX
 * fails with EISCONN.  For shim descriptors the address is dropped.  Calls
 * without an address (the common case) pass straight to libc with no
 * lookup. */
#include "config.h"

#include <sys/socket.h>

#include "mptcpshim/fdtab.h"
#include "mptcpshim/interpose.h"

MPS_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			  __CONST_SOCKADDR_ARG addr, socklen_t alen)
{
	mps_real_init();
	if (addr.__sockaddr__ && !mps_inside && mps_fdtab_has(fd))
		return mps_real.sendto(fd, buf, len, flags, NULL, 0);
	return mps_real.sendto(fd, buf, len, flags, addr.__sockaddr__, alen);
}

MPS_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	mps_real_init();
	if (msg && msg->msg_name && !mps_inside && mps_fdtab_has(fd)) {
		struct msghdr m = *msg;

		m.msg_name = NULL;
		m.msg_namelen = 0;
		return mps_real.sendmsg(fd, &m, flags);
	}
	return mps_real.sendmsg(fd, msg, flags);
}
