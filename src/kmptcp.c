/* kmptcp.c - kernel MPTCP for a client's plain connections (see kmptcp.h). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "mptcpshim/config.h"
#include "mptcpshim/kmptcp.h"
#include "mptcpshim/log.h"
#include "mptcpshim/real.h"

static atomic_int g_refused; /* the kernel refused an MPTCP socket */

int mps_kmptcp_wanted(void)
{
	return mps_config()->kernel_mptcp && !atomic_load(&g_refused);
}

int mps_kmptcp_socket(int family, int flags)
{
	int fd, e;

	if (!mps_kmptcp_wanted())
		return -EOPNOTSUPP;
	fd = mps_real.socket(family, SOCK_STREAM | flags, IPPROTO_MPTCP);
	if (fd >= 0)
		return fd;
	e = errno;
	if ((e == EPROTONOSUPPORT || e == ENOPROTOOPT || e == EINVAL || e == ESOCKTNOSUPPORT) &&
	    !atomic_exchange(&g_refused, 1))
		mps_info("kernel MPTCP: not available here (%s): plain connections stay TCP",
		         strerror(e));
	return -e;
}

/* Integer options an app may set before connect. */
static const struct {
	int level, name;
} int_opts[] = {
        {SOL_SOCKET, SO_KEEPALIVE},
        {SOL_SOCKET, SO_REUSEADDR},
        {SOL_SOCKET, SO_REUSEPORT},
        {SOL_SOCKET, SO_PRIORITY},
        {SOL_SOCKET, SO_MARK},
        {SOL_SOCKET, SO_RCVBUF},
        {SOL_SOCKET, SO_SNDBUF},
        {IPPROTO_TCP, TCP_NODELAY},
        {IPPROTO_TCP, TCP_KEEPIDLE},
        {IPPROTO_TCP, TCP_KEEPINTVL},
        {IPPROTO_TCP, TCP_KEEPCNT},
        {IPPROTO_TCP, TCP_USER_TIMEOUT},
        {IPPROTO_IP, IP_TOS},
        {IPPROTO_IP, IP_TTL},
        {IPPROTO_IPV6, IPV6_V6ONLY},
        {IPPROTO_IPV6, IPV6_TCLASS},
        {IPPROTO_IPV6, IPV6_UNICAST_HOPS},
};
#define N_INT_OPTS (sizeof(int_opts) / sizeof(int_opts[0]))

void mps_kmptcp_copy_opts(int from, int to, int family)
{
	int fresh = mps_real.socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	char name[64], name0[64];
	struct linger lg;
	struct timeval tv;
	socklen_t l;
	unsigned i;

	for (i = 0; i < N_INT_OPTS; i++) {
		int v = 0, d = 0;
		socklen_t lv = sizeof(v), ld = sizeof(d);

		if ((int_opts[i].level == IPPROTO_IP) != (family == AF_INET) &&
		    (int_opts[i].level == IPPROTO_IP || int_opts[i].level == IPPROTO_IPV6))
			continue;
		if (mps_real.getsockopt(from, int_opts[i].level, int_opts[i].name, &v, &lv) != 0)
			continue;
		if (fresh >= 0 &&
		    mps_real.getsockopt(fresh, int_opts[i].level, int_opts[i].name, &d, &ld) == 0 &&
		    d == v)
			continue; /* the default: leave it (buffers stay autotuned) */
		/* SO_RCVBUF / SO_SNDBUF read back doubled (socket(7)) */
		if (int_opts[i].level == SOL_SOCKET &&
		    (int_opts[i].name == SO_RCVBUF || int_opts[i].name == SO_SNDBUF))
			v /= 2;
		mps_real.setsockopt(to, int_opts[i].level, int_opts[i].name, &v, sizeof(v));
	}
	l = sizeof(lg);
	if (mps_real.getsockopt(from, SOL_SOCKET, SO_LINGER, &lg, &l) == 0 && lg.l_onoff)
		mps_real.setsockopt(to, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	l = sizeof(tv);
	if (mps_real.getsockopt(from, SOL_SOCKET, SO_RCVTIMEO, &tv, &l) == 0 &&
	    (tv.tv_sec || tv.tv_usec))
		mps_real.setsockopt(to, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	l = sizeof(tv);
	if (mps_real.getsockopt(from, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) == 0 &&
	    (tv.tv_sec || tv.tv_usec))
		mps_real.setsockopt(to, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	l = sizeof(name) - 1;
	memset(name, 0, sizeof(name));
	if (mps_real.getsockopt(from, SOL_SOCKET, SO_BINDTODEVICE, name, &l) == 0 && name[0])
		mps_real.setsockopt(to, SOL_SOCKET, SO_BINDTODEVICE, name, (socklen_t)strlen(name));
	l = sizeof(name) - 1;
	memset(name, 0, sizeof(name));
	memset(name0, 0, sizeof(name0));
	if (mps_real.getsockopt(from, IPPROTO_TCP, TCP_CONGESTION, name, &l) == 0) {
		l = sizeof(name0) - 1;
		if (fresh < 0 ||
		    mps_real.getsockopt(fresh, IPPROTO_TCP, TCP_CONGESTION, name0, &l) ||
		    strcmp(name, name0))
			mps_real.setsockopt(to, IPPROTO_TCP, TCP_CONGESTION, name,
			                    (socklen_t)strlen(name));
	}
	if (fresh >= 0)
		mps_real.close(fresh);
}
