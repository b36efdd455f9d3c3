/* pxutil.c - helpers shared by mptcpshim-proxy and mptcpshim-gateway
 * (see pxutil.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
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

int mps_px_parse_int(const char *prog, const char *opt, const char *s, int lo, int hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "%s: %s: '%s' is not a number in %d..%d\n", prog, opt, s, lo, hi);
		exit(2);
	}
	return (int)v;
}

int mps_px_fit_nofile(int max_conns, int per_conn, void (*log)(const char *fmt, ...))
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return max_conns;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)max_conns * per_conn + 64 > rl.rlim_cur) {
		int m = rl.rlim_cur > (rlim_t)(64 + per_conn) ?
		                (int)((rl.rlim_cur - 64) / per_conn) :
		                1;

		log("warning: RLIMIT_NOFILE %llu allows about %d connections: --max-conns lowered "
		    "from %d",
		    (unsigned long long)rl.rlim_cur, m, max_conns);
		return m;
	}
	return max_conns;
}
