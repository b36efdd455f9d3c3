/* log.c - single-write log lines to a private descriptor. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mptcpshim/fdhigh.h"
#include "mptcpshim/log.h"
#include "mptcpshim/real.h"
#include "mptcpshim/util.h"

int mps_log_level = MPS_LOG_WARN;
static char g_file[256];
static int g_fd = -1;
static dev_t g_dev; /* what g_fd was opened on: an app that closes every */
static ino_t g_ino; /* descriptor may close ours, and the number be reused */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void mps_log_setup(int level, const char *file)
{
	mps_log_level = level;
	snprintf(g_file, sizeof(g_file), "%s", file ? file : "");
}

int mps_log_fd(void) { return g_fd; }

int mps_log_keeper_fd(void)
{
	if (g_file[0])
		return g_fd;
	g_fd = -1; /* a copy of the app's stderr: closed with the others */
	return -1;
}

void mps_log_lock(int lock)
{
	mps_mutex_hold(&g_lock, lock);
}

static int open_fd(void)
{
	/* Under the preload library its constructor resolved mps_real before
	 * any log line; without it (unit tests) we resolve it here, but keep
	 * the descriptor where it is, as before. */
	static int preloaded = -1;
	int fd;

	if (preloaded < 0)
		preloaded = mps_real.fcntl != NULL;
	mps_real_init();
	if (g_file[0])
		fd = open(g_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	else
		fd = mps_real.fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (fd >= 0 && preloaded) {
		/* Out of the app's range, as the shim's other descriptors. */
		int high = mps_fd_high(fd);

		if (high >= 0) {
			mps_real.close(fd);
			fd = high;
		}
	}
	return fd;
}

static void remember_fd(void)
{
	struct stat st;

	if (mps_fstat(g_fd, &st) == 0) {
		g_dev = st.st_dev;
		g_ino = st.st_ino;
	}
}

static uint64_t fsize_limit(void);

void mps_log_open(void)
{
	fsize_limit();
	if (!g_file[0])
		return;
	pthread_mutex_lock(&g_lock);
	if (g_fd < 0 && (g_fd = open_fd()) >= 0)
		remember_fd();
	pthread_mutex_unlock(&g_lock);
}

/* Does g_fd still refer to the file we opened?  (A daemon's close-all
 * loop, a forked child's cleanup: the number may now be a socket, and a
 * log line written into it would corrupt a stream.) */
static int still_ours(void)
{
	struct stat st;

	return mps_fstat(g_fd, &st) == 0 && st.st_dev == g_dev && st.st_ino == g_ino;
}

/* RLIMIT_FSIZE's soft value: read once (at the constructor, before any
 * sandbox forbids the call), then as the app's setrlimit/prlimit set it. */
static _Atomic uint64_t g_fsize;
static atomic_int g_fsize_known;

static uint64_t fsize_limit(void)
{
	struct {
		uint64_t cur, max;
	} rl;

	if (!atomic_load(&g_fsize_known)) {
		if (mps_real.syscall(SYS_prlimit64, 0, RLIMIT_FSIZE, NULL, &rl) != 0)
			rl.cur = (uint64_t)RLIM64_INFINITY;
		mps_log_fsize(rl.cur);
	}
	return atomic_load(&g_fsize);
}

void mps_log_fsize(uint64_t cur)
{
	atomic_store(&g_fsize, cur);
	atomic_store(&g_fsize_known, 1);
}

int mps_file_room(int fd, size_t n)
{
	uint64_t lim = fsize_limit();
	struct stat st;

	if (lim == (uint64_t)RLIM64_INFINITY)
		return 1;
	return mps_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size + n <= lim;
}

void mps_log(int level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	char line[1024];
	int n, m, saved = errno;
	va_list ap;

	if (level > mps_log_level)
		return;
	n = snprintf(line, sizeof(line), "mptcpshim[%d] %s: ", (int)getpid(),
		     names[level & 3]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	pthread_mutex_lock(&g_lock);
	if (g_fd >= 0 && !still_ours())
		g_fd = -1; /* closed behind our back: never write into a reused number */
	if (g_fd < 0 && (g_fd = open_fd()) >= 0)
		remember_fd();
	/* (past RLIMIT_FSIZE the write would raise SIGXFSZ and kill the app:
	 * sshd's sandboxed child sets it to 0, with our log file open) */
	if (g_fd >= 0 && mps_file_room(g_fd, (size_t)n) &&
	    mps_real.write(g_fd, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
	pthread_mutex_unlock(&g_lock);
	errno = saved;
}

/* Decimal digits of v at o (at most 5); the new end. */
static char *put_dec(char *o, unsigned v)
{
	char t[5];
	int n = 0;

	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0 && n < 5);
	while (n > 0)
		*o++ = t[--n];
	return o;
}

const char *mps_addr_str(const void *p, char *buf, unsigned len)
{
	const struct sockaddr *sa = p;
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		/* by hand: inet_ntop + snprintf were 1.4 % of a short
		 * connection's server thread (every connection's peer_str) */
		const struct sockaddr_in *in = p;
		const uint8_t *b = (const uint8_t *)&in->sin_addr;
		char t[sizeof("255.255.255.255:65535")], *o = t;
		int i;

		for (i = 0; i < 4; i++) {
			o = put_dec(o, b[i]);
			*o++ = i < 3 ? '.' : ':';
		}
		o = put_dec(o, ntohs(in->sin_port));
		if (len > 0) { /* (cut as snprintf would when len is short) */
			size_t n = MPS_MIN((size_t)(o - t), (size_t)len - 1);

			memcpy(buf, t, n);
			buf[n] = '\0';
		}
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = p;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(in6->sin6_port));
	} else
		snprintf(buf, len, "(family %d)", sa->sa_family);
	return buf;
}
