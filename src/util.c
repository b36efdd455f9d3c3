/* util.c - small shared helpers. */
#include "config.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mptcpshim/real.h"
#include "mptcpshim/util.h"

uint64_t mps_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int mps_fstat(int fd, struct stat *st)
{
#if defined(SYS_fstat) && defined(__x86_64__)
	/* fstat(2) itself: glibc's fstat is newfstatat(fd, "", AT_EMPTY_PATH),
	 * which seccomp sandboxes written for fstat kill the thread for
	 * (vsftpd's).  On x86_64 the kernel's struct stat is glibc's. */
	mps_real_init(); /* may run before the constructor */
	return (int)mps_real.syscall(SYS_fstat, fd, st);
#else
	return fstat(fd, st);
#endif
}

/* util.h: an IPv4-mapped IPv6 address as plain IPv4 (path.c had it; join.c,
 * pm_addr.c and steer.c use it too). */
void mps_unmap_v4(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		struct sockaddr_in in;

		memset(&in, 0, sizeof(in));
		in.sin_family = AF_INET;
		in.sin_port = in6->sin6_port;
		memcpy(&in.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
		memset(ss, 0, sizeof(*ss));
		memcpy(ss, &in, sizeof(in));
	}
}
