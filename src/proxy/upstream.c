/* upstream.c - the direct upstream of mptcpshim-proxy (see upstream.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mptcpshim/gateway.h"
#include "pxutil.h"
#include "upstream.h"

int mps_upstream_try(const struct sockaddr *sa, socklen_t salen, long long deadline)
{
	int fd, err;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	if (connect(fd, sa, salen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = errno;
		close(fd);
		return -err;
	}
	err = mps_px_wait_connected(fd, deadline);
	return err ? err : fd;
}

/* A name through the gateway: the library connects by name
 * (MPS_SO_GW_CONNECT, gateway.h), so the gateway resolves it.  The socket
 * (>= 0), -errno of the connect, or -ENOPROTOOPT when the name is not
 * for the gateway (no library, no gateway, MPTCPSHIM_GATEWAY_FOR) and
 * -MPS_GW_ENOGW when no gateway was reachable (fallback direct): then the
 * caller resolves it here. */
static int try_gateway(const struct mps_gwdest *d, long long deadline)
{
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, MPS_SOL_SHIM, MPS_SO_GW_CONNECT, d, sizeof(*d)) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = errno;
		close(fd);
		return -err;
	}
	err = mps_px_wait_connected(fd, deadline);
	return err ? err : fd;
}

int mps_upstream_open(const struct mps_gwdest *d, int timeout_ms, uint8_t *result, int *err,
                      const char **how)
{
	long long deadline = mps_px_now_ms() + timeout_ms;
	struct sockaddr_storage ss;
	socklen_t sl = mps_gwreq_dest_sockaddr(d, &ss);
	struct addrinfo *res, *ai;
	int fd, last = EHOSTUNREACH;

	*err = 0;
	*how = "direct";
	if (sl) {
		fd = mps_upstream_try((struct sockaddr *)&ss, sl, deadline);
		goto one;
	}
	/* A name: resolved at the gateway when there is one, so that no DNS
	 * query leaves beside it; else (or when no gateway is reachable and
	 * MPTCPSHIM_GATEWAY_FALLBACK=direct) here, by the proxy. */
	fd = try_gateway(d, deadline);
	if (fd != -ENOPROTOOPT && fd != -MPS_GW_ENOGW) {
		*how = "through the gateway, resolved there";
		goto one;
	}
	if (fd == -MPS_GW_ENOGW)
		*how = "direct (no gateway reachable), resolved here";
	else
		*how = "direct, resolved here";
	if (mps_gw_lookup(d, &res, getaddrinfo) != 0) {
		*result = MPS_GWR_NAME;
		return -1;
	}
	fd = -EHOSTUNREACH; /* no IPv4 or IPv6 address at all */
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		fd = mps_upstream_try(ai->ai_addr, ai->ai_addrlen, deadline);
		if (fd >= 0 || fd == -ETIMEDOUT)
			break;
		last = -fd;
	}
	freeaddrinfo(res);
	if (fd < 0 && fd != -ETIMEDOUT)
		fd = -last;
one:
	if (fd >= 0) {
		*result = MPS_GWR_OK;
		return fd;
	}
	*err = -fd;
	*result = mps_gwreq_result_of_errno(-fd);
	return -1;
}
