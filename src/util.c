/* util.c - small shared helpers. */
#include "config.h"

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
