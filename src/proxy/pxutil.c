/* pxutil.c - helpers shared by mptcpshim-proxy and mptcpshim-gateway
 * (see pxutil.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "pxutil.h"

long long mps_px_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *mps_px_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

int mps_px_wait_connected(int fd, long long deadline)
{
	int err = 0;
	socklen_t el = sizeof(err);

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		long long left = deadline - mps_px_now_ms();
		int n;

		if (left <= 0) {
			close(fd);
			return -ETIMEDOUT;
		}
		/* poll's timeout is an int: wait in slices of at most a minute */
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno != EINTR) {
			err = errno;
			close(fd);
			return -err;
		}
		if (n > 0)
			break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err) {
		close(fd);
		return -err;
	}
	return 0;
}
