/* optprobe.c - socket options and call semantics of one TCP connection,
 * so that a run through mptcpshim can be compared with plain TCP.
 *
 * usage: optprobe server HOST PORT
 *        optprobe client HOST PORT [-r FILE | -e FILE] [-u UNREACHABLE]
 *                 [-b LOCALADDR] [-m V4ADDR] [-p DIR]
 *
 * The server sets options on its listener (inherited by what it accepts)
 * and serves one command line per connection: "echo", "close", "sink",
 * "stall", "send N", "info" (one line describing the accepted socket,
 * then echo).
 *
 * The client runs every check.  Each observation is a key and a value:
 * with -r FILE (the plain TCP run) they are written to FILE; with -e FILE
 * (the run through the shim) each is compared with FILE's and printed as
 * PASS or FAIL.  Properties that must hold in any run (TCP_INFO state,
 * echoes, timeouts that really waited) are PASS/FAIL lines in both runs.
 *   -u ADDR  an on-link address nobody answers (connects stay in progress
 *            for seconds: EINTR, EALREADY)
 *   -b ADDR  bind a socket to ADDR and port 0 before connect, then
 *            another to ADDR and a port chosen by the probe
 *   -m ADDR  an IPv4 address of the server, connected to as ::ffff:ADDR
 *   -p DIR   first, the subflow phase: connect, set per-path options,
 *            create DIR/set, wait (60 s at most) for DIR/go, so the test
 *            can look at every subflow with ss(8)
 * Exit 0 if nothing failed, 1 otherwise, 2 on usage. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* the kernel's tcp_info, with tcpi_bytes_acked */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct addrinfo *srv;
static FILE *recf;
static char *expected;
static int failures;
static volatile sig_atomic_t sigpipes, alarms;

static const char *en(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

/* "0", "5" or "-1 EINVAL": a call's result as TCP reports it. */
static const char *res(long rc, int e)
{
	static char buf[8][48];
	static int k;
	char *b = buf[k++ % 8];

	if (rc < 0)
		snprintf(b, 48, "-1 %s", en(e));
	else
		snprintf(b, 48, "%ld", rc);
	return b;
}

static void check(int ok, const char *what, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void check(int ok, const char *what, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("%s %s: %s\n", ok ? "PASS" : "FAIL", what, buf);
	if (!ok)
		failures++;
	fflush(stdout);
}

static const char *lookup(const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);
	const char *p = expected;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);

		if (ll > kl && !strncmp(p, key, kl) && p[kl] == '\t') {
			snprintf(out, outlen, "%.*s", (int)(ll - kl - 1), p + kl + 1);
			return out;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* An observation: recorded (plain run) or compared with the record. */
static void val(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void val(const char *key, const char *fmt, ...)
{
	char v[256], want[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (recf) {
		fprintf(recf, "%s\t%s\n", key, v);
		fflush(recf);
	}
	if (!expected) {
		printf("VAL  %s = %s\n", key, v);
	} else if (!lookup(key, want, sizeof(want))) {
		check(0, key, "%s (no value recorded from plain TCP)", v);
	} else if (strcmp(v, want)) {
		check(0, key, "%s, plain TCP: %s", v, want);
	} else {
		check(1, key, "%s", v);
	}
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void alarm_ms(int ms)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
}

static int geti(int fd, int level, int name, int *v)
{
	socklen_t l = sizeof(*v);

	*v = -12345;
	return getsockopt(fd, level, name, v, &l);
}

static int seti(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

static const char *addr_str(const struct sockaddr_storage *ss)
{
	static char buf[4][80];
	static int k;
	char *b = buf[k++ % 4], a[64] = "?";
	int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		port = ntohs(in6->sin6_port);
	} else {
		snprintf(a, sizeof(a), "family%d", ss->ss_family);
	}
	snprintf(b, 80, "%s/%d", a, port);
	return b;
}

static int write_all(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = send(fd, (const char *)buf + done, n - done, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

/* Read exactly n bytes (-1 on error or early EOF). */
static int read_all(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, (char *)buf + got, n - got, 0);

		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static size_t read_line(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got + 1 < n) {
		ssize_t r = recv(fd, buf + got, 1, 0);

		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0 || buf[got] == '\n')
			break;
		got++;
	}
	buf[got] = 0;
	return got;
}

/* "cloexec=C,nonblock=N": the descriptor flags a connect or accept kept. */
static const char *fd_flags(int fd)
{
	static char buf[4][40];
	static int k;
	char *b = buf[k++ % 4];
	int fdf = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL);

	snprintf(b, 40, "cloexec=%d,nonblock=%d", fdf >= 0 && (fdf & FD_CLOEXEC),
	         fl >= 0 && (fl & O_NONBLOCK));
	return b;
}

/* ------------------------------------------------------------------ server */

static void server_opts(int l, int family)
{
	struct timeval tv = {1, 500000};

	seti(l, IPPROTO_TCP, TCP_NODELAY, 1);
	seti(l, SOL_SOCKET, SO_KEEPALIVE, 1);
	seti(l, IPPROTO_TCP, TCP_KEEPIDLE, 77);
	seti(l, IPPROTO_TCP, TCP_KEEPINTVL, 7);
	seti(l, IPPROTO_TCP, TCP_KEEPCNT, 4);
	seti(l, IPPROTO_TCP, TCP_USER_TIMEOUT, 12345);
	setsockopt(l, IPPROTO_TCP, TCP_CONGESTION, "reno", 4);
	if (family == AF_INET)
		seti(l, IPPROTO_IP, IP_TOS, 0x20);
	else
		seti(l, IPPROTO_IPV6, IPV6_TCLASS, 0x20);
	seti(l, SOL_SOCKET, SO_PRIORITY, 5);
	seti(l, SOL_SOCKET, SO_MARK, 0x77);
	seti(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5);
	setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* One line describing an accepted socket: what it inherited. */
static void server_info(int fd, int family)
{
	static const struct {
		const char *k;
		int level, name;
	} o[] = {
	        {"nodelay", IPPROTO_TCP, TCP_NODELAY},
	        {"keepalive", SOL_SOCKET, SO_KEEPALIVE},
	        {"keepidle", IPPROTO_TCP, TCP_KEEPIDLE},
	        {"keepintvl", IPPROTO_TCP, TCP_KEEPINTVL},
	        {"keepcnt", IPPROTO_TCP, TCP_KEEPCNT},
	        {"user_timeout", IPPROTO_TCP, TCP_USER_TIMEOUT},
	        {"priority", SOL_SOCKET, SO_PRIORITY},
	        {"mark", SOL_SOCKET, SO_MARK},
	        {"defer_accept", IPPROTO_TCP, TCP_DEFER_ACCEPT},
	        {"acceptconn", SOL_SOCKET, SO_ACCEPTCONN},
	};
	char line[1024], cc[16] = "";
	struct sockaddr_storage peer;
	socklen_t pl = sizeof(peer), cl = sizeof(cc);
	struct timeval tv = {0, 0};
	socklen_t tl = sizeof(tv);
	struct tcp_info ti;
	socklen_t til = sizeof(ti);
	size_t n = 0;
	unsigned i;
	int v;

	for (i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
		int rc = geti(fd, o[i].level, o[i].name, &v);

		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s=%s ", o[i].k,
		                      rc ? res(rc, errno) : res(v, 0));
	}
	if (family == AF_INET)
		geti(fd, IPPROTO_IP, IP_TOS, &v);
	else
		geti(fd, IPPROTO_IPV6, IPV6_TCLASS, &v);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "tos=%#x ", v);
	getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &cl);
	getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl);
	memset(&ti, 0, sizeof(ti));
	getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &til);
	memset(&peer, 0, sizeof(peer));
	getpeername(fd, (struct sockaddr *)&peer, &pl);
	snprintf(line + n, sizeof(line) - n,
	         "cc=%.16s rcvtimeo=%ld.%06ld state=%u fdflags=%s peer=%s\n", cc, (long)tv.tv_sec,
	         (long)tv.tv_usec, ti.tcpi_state, fd_flags(fd), addr_str(&peer));
	write_all(fd, line, strlen(line));
}

struct srv_conn {
	int fd, family;
};

static void *serve(void *arg)
{
	struct srv_conn *sc = arg;
	int fd = sc->fd;
	char cmd[64], buf[65536];
	ssize_t r;

	read_line(fd, cmd, sizeof(cmd));
	if (!strcmp(cmd, "info")) {
		server_info(fd, sc->family);
		strcpy(cmd, "echo");
	}
	if (!strcmp(cmd, "echo") || !strcmp(cmd, "sink")) {
		for (;;) {
			r = read(fd, buf, sizeof(buf));
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (r <= 0)
				break;
			if (cmd[0] == 'e' && write_all(fd, buf, (size_t)r))
				break;
		}
	} else if (!strncmp(cmd, "send ", 5)) {
		long left = atol(cmd + 5);
		unsigned k = 0;

		while (left > 0) {
			size_t n = left < (long)sizeof(buf) ? (size_t)left : sizeof(buf), i;

			for (i = 0; i < n; i++)
				buf[i] = (char)(k++ * 7);
			if (write_all(fd, buf, n))
				break;
			left -= (long)n;
		}
	} else if (!strcmp(cmd, "stall")) {
		/* Read nothing until the client goes away (or 20 s). */
		struct pollfd p = {fd, POLLRDHUP, 0};

		poll(&p, 1, 20000);
	}
	/* "close" and everything else: close at once. */
	close(fd);
	free(sc);
	return NULL;
}

static int run_server(void)
{
	int l = socket(srv->ai_family, SOCK_STREAM, 0);

	if (l < 0)
		return 1;
	seti(l, SOL_SOCKET, SO_REUSEADDR, 1);
	server_opts(l, srv->ai_family);
	if (bind(l, srv->ai_addr, srv->ai_addrlen) || listen(l, 64)) {
		perror("optprobe server");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct srv_conn *sc;
		pthread_t t;
		/* SOCK_CLOEXEC: the accepted socket reports its flags (info) */
		int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
				continue;
			perror("optprobe accept");
			return 1;
		}
		sc = malloc(sizeof(*sc));
		if (!sc)
			return 1;
		sc->fd = fd;
		sc->family = srv->ai_family;
		if (pthread_create(&t, NULL, serve, sc))
			return 1;
		pthread_detach(t);
	}
}

/* ------------------------------------------------------------------ client */

static int tcp_socket(int family, int flags)
{
	return socket(family, SOCK_STREAM | flags, IPPROTO_TCP);
}

/* A connected socket that has sent cmd to the server (-1 on failure). */
static int conn_fd(int fd, const char *cmd)
{
	char line[64];

	if (connect(fd, srv->ai_addr, srv->ai_addrlen)) {
		check(0, cmd, "connect: %s", en(errno));
		close(fd);
		return -1;
	}
	snprintf(line, sizeof(line), "%s\n", cmd);
	if (write_all(fd, line, strlen(line))) {
		check(0, cmd, "sending the command: %s", en(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int conn(const char *cmd)
{
	return conn_fd(tcp_socket(srv->ai_family, 0), cmd);
}

static int echo_ok(int fd, const char *msg)
{
	size_t n = strlen(msg);
	char *buf = malloc(n + 1);
	int ok = buf && write_all(fd, msg, n) == 0 && read_all(fd, buf, n) == 0 &&
	         !memcmp(buf, msg, n);

	free(buf);
	return ok;
}

static void abort_close(int fd)
{
	struct linger lg = {1, 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static int wait_file(const char *dir, const char *name, int secs)
{
	char p[512];
	int i;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	for (i = 0; i < secs * 20; i++) {
		if (access(p, F_OK) == 0)
			return 0;
		usleep(50000);
	}
	return -1;
}

/* Per-path options, some before connect and some after, then a pause while
 * the test adds the second path and inspects every subflow. */
static void phase_subflows(const char *dir)
{
	int fam = srv->ai_family, fd = tcp_socket(fam, 0), v;
	char p[512], cc[16] = "";
	socklen_t cl = sizeof(cc);

	setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4);
	seti(fd, SOL_SOCKET, SO_MARK, 0x66);
	seti(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	fd = conn_fd(fd, "sink");
	if (fd < 0)
		return;
	seti(fd, IPPROTO_TCP, TCP_KEEPIDLE, 99);
	seti(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 4321);
	/* (IP_TOS sets the priority too: TOS first) */
	if (fam == AF_INET)
		seti(fd, IPPROTO_IP, IP_TOS, 0x28);
	else
		seti(fd, IPPROTO_IPV6, IPV6_TCLASS, 0x28);
	seti(fd, SOL_SOCKET, SO_PRIORITY, 3);
	snprintf(p, sizeof(p), "%s/set", dir);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	check(wait_file(dir, "go", 60) == 0, "subflow phase", "the test said go");
	getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &cl);
	val("subflows.congestion", "%.16s", cc);
	geti(fd, SOL_SOCKET, SO_MARK, &v);
	val("subflows.mark", "%#x", v);
	geti(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v);
	val("subflows.keepidle", "%d", v);
	geti(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v);
	val("subflows.user_timeout", "%d", v);
	check(write_all(fd, "bye", 3) == 0, "subflow phase", "write after the pause");
	close(fd);
}

struct intopt {
	const char *name;
	int level, opt;
	int set, bad; /* bad: a value the kernel refuses, or 0x7fff if none */
	int fam;      /* 0 any, else the only family it is checked on */
	int nodef;    /* the default depends on the path or on traffic */
	int restore;  /* set afterwards, so the connection keeps working */
};

static const struct intopt intopts[] = {
        {"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, 1, 0x7fff, 0, 0, 0x7fff},
        {"TCP_CORK", IPPROTO_TCP, TCP_CORK, 1, 0x7fff, 0, 0, 0},
        {"TCP_QUICKACK", IPPROTO_TCP, TCP_QUICKACK, 1, 0x7fff, 0, 2, 0x7fff},
        {"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, 30, 0, 0, 0, 0x7fff},
        {"TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, 5, 0, 0, 0, 0x7fff},
        {"TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, 3, 0, 0, 0, 0x7fff},
        {"TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, 10000, -1, 0, 0, 0},
        {"TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG, 1000, 1, 0, 0, 0x7fff},
        {"TCP_DEFER_ACCEPT", IPPROTO_TCP, TCP_DEFER_ACCEPT, 3, 0x7fff, 0, 0, 0x7fff},
        {"TCP_FASTOPEN", IPPROTO_TCP, TCP_FASTOPEN, 5, 0x7fff, 0, 0, 0x7fff},
        {"TCP_NOTSENT_LOWAT", IPPROTO_TCP, TCP_NOTSENT_LOWAT, 16384, 0x7fff, 0, 0, 0},
        {"TCP_LINGER2", IPPROTO_TCP, TCP_LINGER2, 20, 0x7fff, 0, 0, 0x7fff},
        {"TCP_SYNCNT", IPPROTO_TCP, TCP_SYNCNT, 3, 0, 0, 0, 0x7fff},
        {"TCP_WINDOW_CLAMP", IPPROTO_TCP, TCP_WINDOW_CLAMP, 200000, 0x7fff, 0, 1, 0x7fff},
        {"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 1, 0x7fff, 0, 0, 0x7fff},
        {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, 1, 0x7fff, 0, 0, 0x7fff},
        {"SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT, 1, 0x7fff, 0, 0, 0x7fff},
        {"SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, 4, 0x7fff, 0, 0, 0x7fff},
        {"SO_MARK", SOL_SOCKET, SO_MARK, 0x55, 0x7fff, 0, 0, 0x7fff},
        {"SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT, 1, -1, 0, 0, 1},
        {"SO_OOBINLINE", SOL_SOCKET, SO_OOBINLINE, 1, 0x7fff, 0, 0, 0},
        {"IP_TOS", IPPROTO_IP, IP_TOS, 0x10, 0x7fff, AF_INET, 0, 0x7fff},
        {"IP_TTL", IPPROTO_IP, IP_TTL, 33, 0, AF_INET, 0, 0x7fff},
        {"IPV6_V6ONLY", IPPROTO_IPV6, IPV6_V6ONLY, 1, 0x7fff, AF_INET6, 0, 0x7fff},
        {"IPV6_TCLASS", IPPROTO_IPV6, IPV6_TCLASS, 0x10, 300, AF_INET6, 0, 0x7fff},
        {"IPV6_UNICAST_HOPS", IPPROTO_IPV6, IPV6_UNICAST_HOPS, 33, 300, AF_INET6, 0, 0x7fff},
};

static void one_intopt(int fd, const struct intopt *o)
{
	char k[96];
	int v, rc;
	short sv = 1;

	if (!o->nodef) {
		rc = geti(fd, o->level, o->opt, &v);
		snprintf(k, sizeof(k), "opt.%s.default", o->name);
		val(k, "%s", rc ? res(rc, errno) : res(v, 0));
	}
	rc = seti(fd, o->level, o->opt, o->set);
	snprintf(k, sizeof(k), "opt.%s.set(%d)", o->name, o->set);
	val(k, "%s", res(rc, errno));
	if (o->nodef < 2) {
		rc = geti(fd, o->level, o->opt, &v);
		snprintf(k, sizeof(k), "opt.%s.get", o->name);
		val(k, "%s", rc ? res(rc, errno) : res(v, 0));
	}
	if (o->bad != 0x7fff) {
		rc = seti(fd, o->level, o->opt, o->bad);
		snprintf(k, sizeof(k), "opt.%s.set(%d)", o->name, o->bad);
		val(k, "%s", res(rc, errno));
	}
	rc = setsockopt(fd, o->level, o->opt, &sv, sizeof(sv));
	snprintf(k, sizeof(k), "opt.%s.set(short)", o->name);
	val(k, "%s", res(rc, errno));
	if (o->restore != 0x7fff)
		seti(fd, o->level, o->opt, o->restore);
}

static void wait_acked(int fd, unsigned long long want)
{
	struct tcp_info ti;
	socklen_t l;
	int i;

	for (i = 0; i < 100; i++) {
		l = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) || ti.tcpi_bytes_acked > want)
			break;
		usleep(20000);
	}
	usleep(100000);
}

static void phase_options(void)
{
	int fam = srv->ai_family, fd = conn("echo"), v, rc;
	struct timeval tv, tv2;
	struct linger lg;
	struct tcp_info ti;
	char cc[16], big[20000];
	socklen_t l;
	unsigned i;

	if (fd < 0)
		return;
	check(echo_ok(fd, "hello"), "echo", "5 bytes");
	/* Identity, answered as a TCP socket would. */
	geti(fd, SOL_SOCKET, SO_DOMAIN, &v);
	val("SO_DOMAIN", "%d", v);
	geti(fd, SOL_SOCKET, SO_TYPE, &v);
	val("SO_TYPE", "%d", v);
	geti(fd, SOL_SOCKET, SO_PROTOCOL, &v);
	val("SO_PROTOCOL", "%d", v);
	geti(fd, SOL_SOCKET, SO_ACCEPTCONN, &v);
	val("SO_ACCEPTCONN", "%d", v);
	geti(fd, SOL_SOCKET, SO_ERROR, &v);
	val("SO_ERROR", "%d", v);
	rc = seti(fd, SOL_SOCKET, SO_TYPE, 1);
	val("SO_TYPE.set", "%s", res(rc, errno));
	rc = seti(fd, IPPROTO_TCP, 9999, 1);
	val("unknown TCP option.set", "%s", res(rc, errno));
	rc = geti(fd, IPPROTO_TCP, 9999, &v);
	val("unknown TCP option.get", "%s", res(rc, errno));

	for (i = 0; i < sizeof(intopts) / sizeof(intopts[0]); i++)
		if (!intopts[i].fam || intopts[i].fam == fam)
			one_intopt(fd, &intopts[i]);
	check(echo_ok(fd, "after-options"), "echo", "after setting every option");

	/* Buffers: the kernel doubles what it is given. */
	rc = geti(fd, SOL_SOCKET, SO_RCVBUF, &v);
	check(rc == 0 && v > 0, "SO_RCVBUF default", "%d", v);
	rc = seti(fd, SOL_SOCKET, SO_RCVBUF, 65536);
	geti(fd, SOL_SOCKET, SO_RCVBUF, &v);
	val("SO_RCVBUF.set(65536)", "%s -> %d", res(rc, errno), v);
	rc = seti(fd, SOL_SOCKET, SO_SNDBUF, 65536);
	geti(fd, SOL_SOCKET, SO_SNDBUF, &v);
	val("SO_SNDBUF.set(65536)", "%s -> %d", res(rc, errno), v);

	/* Timeouts and linger: read back as set. */
	l = sizeof(tv);
	getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &l);
	val("SO_RCVTIMEO.default", "%ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
	tv.tv_sec = 2;
	tv.tv_usec = 250000;
	rc = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	l = sizeof(tv2);
	getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv2, &l);
	val("SO_RCVTIMEO.set(2.25)", "%s -> %ld.%06ld", res(rc, errno), (long)tv2.tv_sec,
	    (long)tv2.tv_usec);
	rc = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	l = sizeof(tv2);
	getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv2, &l);
	val("SO_SNDTIMEO.set(2.25)", "%s -> %ld.%06ld", res(rc, errno), (long)tv2.tv_sec,
	    (long)tv2.tv_usec);
	l = sizeof(lg);
	getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &l);
	val("SO_LINGER.default", "%d %d", lg.l_onoff, lg.l_linger);
	lg.l_onoff = 1;
	lg.l_linger = 5;
	rc = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	l = sizeof(lg);
	getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &l);
	val("SO_LINGER.set(1,5)", "%s -> %d %d", res(rc, errno), lg.l_onoff, lg.l_linger);
	lg.l_onoff = 0;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));

	/* Congestion control by name. */
	l = sizeof(cc);
	memset(cc, 0, sizeof(cc));
	rc = getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &l);
	val("TCP_CONGESTION.default", "%s %.16s", res(rc, errno), cc);
	rc = setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4);
	l = sizeof(cc);
	memset(cc, 0, sizeof(cc));
	getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &l);
	val("TCP_CONGESTION.set(reno)", "%s -> %.16s", res(rc, errno), cc);
	rc = setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "nosuchcc", 8);
	val("TCP_CONGESTION.set(nosuchcc)", "%s", res(rc, errno));

	/* TCP_INFO: an established connection, a real RTT, and the bytes
	 * the app moved (acked counts the SYN, as TCP's does). */
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = 0;
	check(echo_ok(fd, big), "echo", "%zu bytes", sizeof(big) - 1);
	wait_acked(fd, 5 + 13 + sizeof(big) - 1 + 5);
	memset(&ti, 0, sizeof(ti));
	l = sizeof(ti);
	rc = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l);
	val("TCP_INFO", "%s len %u state %u", res(rc, errno), l, ti.tcpi_state);
	check(ti.tcpi_rtt > 0, "TCP_INFO rtt", "%u us", ti.tcpi_rtt);
	check(ti.tcpi_snd_mss > 0 && ti.tcpi_snd_cwnd > 0, "TCP_INFO mss and cwnd", "%u, %u",
	      ti.tcpi_snd_mss, ti.tcpi_snd_cwnd);
	/* "echo\n" + "hello" + "after-options" + big, every byte echoed */
	val("TCP_INFO.bytes_acked", "%llu", (unsigned long long)ti.tcpi_bytes_acked);
	val("TCP_INFO.bytes_received", "%llu", (unsigned long long)ti.tcpi_bytes_received);
	l = 4;
	rc = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l);
	val("TCP_INFO.len(4)", "%s len %u", res(rc, errno), l);
	close(fd);
}

/* Options set on the listener, as the accepted socket reports them. */
static void phase_listener(const char *bindaddr)
{
	int fd = tcp_socket(srv->ai_family, 0);
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	char line[1024], *tok, *save = NULL, k[64];

	if (bindaddr) {
		struct addrinfo h, *b;

		memset(&h, 0, sizeof(h));
		h.ai_family = srv->ai_family;
		h.ai_socktype = SOCK_STREAM;
		h.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		if (getaddrinfo(bindaddr, "0", &h, &b) || bind(fd, b->ai_addr, b->ai_addrlen)) {
			check(0, "bind", "%s: %s", bindaddr, en(errno));
			return;
		}
		freeaddrinfo(b);
	}
	fd = conn_fd(fd, "info");
	if (fd < 0)
		return;
	read_line(fd, line, sizeof(line));
	getsockname(fd, (struct sockaddr *)&me, &ml);
	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq)
			continue;
		*eq = 0;
		if (!strcmp(tok, "peer")) {
			/* the address the server saw is the one we have */
			check(!strcmp(eq + 1, addr_str(&me)), "server sees our getsockname",
			      "%s, we have %s", eq + 1, addr_str(&me));
			continue;
		}
		snprintf(k, sizeof(k), "accepted.%s", tok);
		val(k, "%s", eq + 1);
	}
	if (bindaddr) {
		char a[64];
		const char *s = addr_str(&me);

		snprintf(a, sizeof(a), "%s/", bindaddr);
		check(!strncmp(s, a, strlen(a)), "bind before connect", "getsockname %s", s);
	}
	check(echo_ok(fd, "info-echo"), "echo", "after info");
	close(fd);
}

static int poll_out(int fd, int ms);

/* The descriptor flags the socket was made with survive connect(): the
 * shim swaps the descriptor there, and FD_CLOEXEC decides whether an exec
 * takes the connection along. */
static void phase_fdflags(void)
{
	static const struct {
		const char *k;
		int flags;
	} v[] = {
	        {"fdflags plain socket", 0},
	        {"fdflags SOCK_CLOEXEC", SOCK_CLOEXEC},
	        {"fdflags SOCK_NONBLOCK|SOCK_CLOEXEC", SOCK_NONBLOCK | SOCK_CLOEXEC},
	        {"fdflags SOCK_NONBLOCK", SOCK_NONBLOCK},
	};
	unsigned i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int fd = tcp_socket(srv->ai_family, v[i].flags), rc;

		rc = connect(fd, srv->ai_addr, srv->ai_addrlen);
		if (rc && errno == EINPROGRESS)
			rc = poll_out(fd, 5000) & POLLOUT ? 0 : -1;
		val(v[i].k, "%s %s", res(rc, errno), fd_flags(fd));
		close(fd);
	}
}

/* bind() to a chosen address and port before connect(): the connection
 * uses them (getsockname, and the address the server saw). */
static void phase_bindport(const char *bindaddr)
{
	struct addrinfo h, *b;
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	char line[1024], want[80], *p;
	int fd, probe, port = 0;

	memset(&h, 0, sizeof(h));
	h.ai_family = srv->ai_family;
	h.ai_socktype = SOCK_STREAM;
	h.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	if (getaddrinfo(bindaddr, "0", &h, &b)) {
		check(0, "bind to a chosen port", "%s", bindaddr);
		return;
	}
	/* a port free now: bound once, released, chosen */
	probe = tcp_socket(srv->ai_family, 0);
	if (bind(probe, b->ai_addr, b->ai_addrlen) == 0 &&
	    getsockname(probe, (struct sockaddr *)&me, &ml) == 0)
		port = ntohs(((struct sockaddr_in *)&me)->sin_port);
	close(probe);
	((struct sockaddr_in *)b->ai_addr)->sin_port = htons((unsigned short)port);
	fd = tcp_socket(srv->ai_family, 0);
	if (!port || bind(fd, b->ai_addr, b->ai_addrlen)) {
		check(0, "bind to a chosen port", "%s/%d: %s", bindaddr, port, en(errno));
		freeaddrinfo(b);
		close(fd);
		return;
	}
	freeaddrinfo(b);
	snprintf(want, sizeof(want), "%s/%d", bindaddr, port);
	fd = conn_fd(fd, "info");
	if (fd < 0)
		return;
	read_line(fd, line, sizeof(line));
	ml = sizeof(me);
	getsockname(fd, (struct sockaddr *)&me, &ml);
	check(!strcmp(addr_str(&me), want), "bind to a chosen port", "getsockname %s, bound %s",
	      addr_str(&me), want);
	p = strstr(line, "peer=");
	check(p && !strcmp(p + 5, want), "bind to a chosen port", "the server saw %s, bound %s",
	      p ? p + 5 : "nothing", want);
	check(echo_ok(fd, "bindport-echo"), "echo", "after binding a chosen port");
	close(fd);
}

static void phase_data(void)
{
	int fd = conn("echo"), p[2], i;
	char buf[65536], tmpl[] = "/tmp/optprobe.XXXXXX", *data;
	size_t n = 256 * 1024, got;
	ssize_t r;
	off_t off = 0;

	if (fd < 0)
		return;
	/* MSG_DONTWAIT with nothing to read. */
	r = recv(fd, buf, 1, MSG_DONTWAIT);
	val("recv(MSG_DONTWAIT) empty", "%s", res(r, errno));
	/* MSG_MORE pieces arrive as one stream. */
	r = send(fd, "ab", 2, MSG_MORE);
	val("send(MSG_MORE)", "%s", res(r, errno));
	send(fd, "cd", 2, 0);
	check(read_all(fd, buf, 4) == 0 && !memcmp(buf, "abcd", 4), "MSG_MORE", "echo abcd");
	/* MSG_PEEK|MSG_WAITALL then the real read. */
	send(fd, "peekaboo", 8, 0);
	r = recv(fd, buf, 8, MSG_PEEK | MSG_WAITALL);
	val("recv(MSG_PEEK|MSG_WAITALL)", "%s", res(r, errno));
	r = recv(fd, buf, 8, MSG_WAITALL);
	val("recv(MSG_WAITALL) after peek", "%s %.8s", res(r, errno), buf);

	/* sendfile from a file, the echo read back. */
	data = malloc(n);
	for (got = 0; got < n; got++)
		data[got] = (char)(got * 13 + 1);
	i = mkstemp(tmpl);
	if (i < 0 || write(i, data, n) != (ssize_t)n) {
		check(0, "sendfile", "temp file: %s", en(errno));
	} else {
		size_t sent = 0;
		char *back = malloc(n);

		unlink(tmpl);
		while (sent < 65536) { /* the echo comes back while we send */
			r = sendfile(fd, i, &off, 65536 - sent);
			if (r <= 0)
				break;
			sent += (size_t)r;
		}
		val("sendfile 64 KiB", "%zu", sent);
		check(read_all(fd, back, sent) == 0 && !memcmp(back, data, sent), "sendfile",
		      "echo matches");
		free(back);
	}
	if (i >= 0)
		close(i);

	/* splice: pipe -> socket, then socket -> pipe. */
	if (pipe(p) == 0) {
		if (write(p[1], data, 4096) != 4096)
			check(0, "splice", "filling the pipe: %s", en(errno));
		r = splice(p[0], NULL, fd, NULL, 4096, 0);
		val("splice pipe->socket", "%s", res(r, errno));
		got = 0;
		while (got < 4096) {
			r = splice(fd, NULL, p[1], NULL, 4096 - got, 0);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		val("splice socket->pipe", "%zu", got);
		r = read(p[0], buf, got);
		check(r == 4096 && !memcmp(buf, data, 4096), "splice", "echo matches");
		close(p[0]);
		close(p[1]);
	}
	free(data);
	/* FIONREAD-free check that nothing is left over. */
	r = recv(fd, buf, 1, MSG_DONTWAIT);
	val("nothing left", "%s", res(r, errno));
	close(fd);
}

/* A blocking read with SO_RCVTIMEO: EAGAIN after the timeout.  before:
 * the option was set before connect (then it must survive connect). */
static void rcvtimeo(int before)
{
	struct timeval tv = {0, 300000};
	int fd = tcp_socket(srv->ai_family, 0);
	double t0;
	ssize_t r;
	char c;
	const char *k = before ? "SO_RCVTIMEO before connect: read" : "SO_RCVTIMEO: read";

	if (before)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fd = conn_fd(fd, "echo");
	if (fd < 0)
		return;
	if (!before)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	t0 = now();
	r = read(fd, &c, 1);
	val(k, "%s", res(r, errno));
	check(now() - t0 > 0.25, k, "returned after %.3f s (timeout 0.3 s)", now() - t0);
	close(fd);
}

static void phase_signals(void)
{
	struct sigaction sa;
	int fd;
	ssize_t r;
	char c, *big;
	size_t bigsz = 64u << 20;
	struct timeval tv = {0, 300000};
	double t0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);

	/* A blocking accept interrupted by a signal (a listener of our own). */
	fd = tcp_socket(srv->ai_family, 0);
	{
		struct sockaddr_storage any;

		memset(&any, 0, sizeof(any));
		any.ss_family = (sa_family_t)srv->ai_family;
		if (fd < 0 || bind(fd, (struct sockaddr *)&any, sizeof(any)) || listen(fd, 1)) {
			check(0, "accept interrupted", "listener: %s", en(errno));
		} else {
			alarm_ms(200);
			r = accept(fd, NULL, NULL);
			val("accept interrupted", "%s", res(r, errno));
		}
		close(fd);
	}

	/* A blocking read interrupted by a signal. */
	fd = conn("echo");
	if (fd < 0)
		return;
	alarm_ms(200);
	r = read(fd, &c, 1);
	val("read interrupted", "%s", res(r, errno));
	close(fd);

	/* A blocking write that cannot complete (the peer reads nothing):
	 * interrupted, it reports what it wrote, or EINTR if nothing. */
	fd = conn("stall");
	if (fd < 0)
		return;
	big = calloc(1, bigsz);
	alarm_ms(600);
	r = write(fd, big, bigsz);
	val("write interrupted", "%s", r > 0 ? "partial" : res(r, errno));
	/* Then SO_SNDTIMEO: a full socket times out (EAGAIN, or a partial
	 * count if some room came up meanwhile: both are TCP's answers). */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	t0 = now();
	r = write(fd, big, bigsz);
	check(r > 0 || errno == EAGAIN, "write SO_SNDTIMEO", "%s",
	      r > 0 ? "partial" : res(r, errno));
	check(now() - t0 > 0.25, "write SO_SNDTIMEO", "returned after %.3f s (timeout 0.3 s)",
	      now() - t0);
	r = send(fd, big, 1, MSG_DONTWAIT);
	val("send(MSG_DONTWAIT) full", "%s", res(r, errno));
	free(big);
	abort_close(fd);
}

/* Writing to a connection the peer closed: EPIPE, and SIGPIPE unless
 * MSG_NOSIGNAL.  The first writes may succeed (TCP learns from the RST). */
static void epipe(int nosignal)
{
	int fd = conn("close"), i, e = 0;
	char buf[16];
	ssize_t r;
	const char *k =
	        nosignal ? "write after peer close, MSG_NOSIGNAL" : "write after peer close";

	if (fd < 0)
		return;
	r = read(fd, buf, sizeof(buf));
	val(nosignal ? "read after peer close (1)" : "read after peer close (2)", "%s",
	    res(r, errno));
	sigpipes = 0;
	for (i = 0; i < 50; i++) {
		r = nosignal ? send(fd, "x", 1, MSG_NOSIGNAL) : write(fd, "x", 1);
		if (r < 0) {
			e = errno;
			break;
		}
		usleep(50000);
	}
	val(k, "%s", r < 0 ? res(r, e) : "never failed");
	val(nosignal ? "SIGPIPE with MSG_NOSIGNAL" : "SIGPIPE", "%s", sigpipes ? "yes" : "no");
	close(fd);
}

/* Closing states in TCP_INFO. */
static void phase_closing(void)
{
	int fd = conn("send 1000");
	char buf[2048];
	struct tcp_info ti;
	socklen_t l;
	ssize_t r;
	size_t got = 0;
	int i;

	if (fd < 0)
		return;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		got += (size_t)r;
	val("read until EOF", "%zu %s", got, res(r, errno));
	l = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l);
	val("TCP_INFO state after peer FIN", "%u", ti.tcpi_state);
	shutdown(fd, SHUT_WR);
	for (i = 0; i < 100; i++) { /* until our FIN is acknowledged */
		usleep(50000);
		l = sizeof(ti);
		memset(&ti, 0, sizeof(ti));
		r = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l);
		if (r || ti.tcpi_state == 7) /* TCP_CLOSE */
			break;
	}
	val("TCP_INFO state after both FINs", "%s state %u", res(r, errno), ti.tcpi_state);
	r = geti(fd, IPPROTO_TCP, TCP_NODELAY, (int *)buf);
	val("TCP_NODELAY after both FINs", "%s", res(r, errno));
	close(fd);
}

static int poll_out(int fd, int ms)
{
	struct pollfd p = {fd, POLLOUT, 0};

	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

static void phase_connect(const char *unreach)
{
	int fam = srv->ai_family, fd, rc;
	struct sockaddr_storage ss;
	socklen_t sl;

	/* Non-blocking connect: EINPROGRESS; once writable, 0 then EISCONN. */
	fd = tcp_socket(fam, SOCK_NONBLOCK);
	rc = connect(fd, srv->ai_addr, srv->ai_addrlen);
	val("nb connect", "%s", res(rc, errno));
	val("nb connect writable", "%#x", poll_out(fd, 5000));
	rc = connect(fd, srv->ai_addr, srv->ai_addrlen);
	val("nb connect again, connected", "%s", res(rc, errno));
	rc = connect(fd, srv->ai_addr, srv->ai_addrlen);
	val("nb connect a third time", "%s", res(rc, errno));
	close(fd);

	/* connect(AF_UNSPEC) disconnects; the socket can connect again. */
	fd = conn("echo");
	if (fd >= 0) {
		struct sockaddr sa;
		int v;

		memset(&sa, 0, sizeof(sa));
		sa.sa_family = AF_UNSPEC;
		check(echo_ok(fd, "before-unspec"), "echo", "before AF_UNSPEC");
		rc = connect(fd, &sa, sizeof(sa));
		val("connect(AF_UNSPEC)", "%s", res(rc, errno));
		sl = sizeof(ss);
		rc = getpeername(fd, (struct sockaddr *)&ss, &sl);
		val("getpeername after AF_UNSPEC", "%s", res(rc, errno));
		/* TCP says ECONNRESET once; the shim cannot (a documented
		 * limitation): either is accepted. */
		rc = geti(fd, SOL_SOCKET, SO_ERROR, &v);
		check(rc == 0 && (v == 0 || v == ECONNRESET), "SO_ERROR after AF_UNSPEC", "%s %s",
		      res(rc, errno), v ? en(v) : "0");
		rc = send(fd, "x", 1, MSG_NOSIGNAL);
		val("send after AF_UNSPEC", "%s", res(rc, errno));
		rc = connect(fd, srv->ai_addr, srv->ai_addrlen);
		val("connect after AF_UNSPEC", "%s", res(rc, errno));
		if (rc == 0) {
			write_all(fd, "echo\n", 5);
			check(echo_ok(fd, "after-unspec"), "echo", "after reconnecting");
		}
		close(fd);
	}

	if (!unreach)
		return;
	{
		struct addrinfo h, *u;
		char port[16];
		int r2, e;

		snprintf(port, sizeof(port), "%d",
		         ntohs(((struct sockaddr_in *)srv->ai_addr)->sin_port));
		memset(&h, 0, sizeof(h));
		h.ai_socktype = SOCK_STREAM;
		h.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		if (getaddrinfo(unreach, port, &h, &u)) {
			check(0, "unreachable address", "%s", unreach);
			return;
		}
		/* In progress for seconds: EINPROGRESS, then EALREADY. */
		fd = tcp_socket(u->ai_family, SOCK_NONBLOCK);
		rc = connect(fd, u->ai_addr, u->ai_addrlen);
		e = errno;
		r2 = connect(fd, u->ai_addr, u->ai_addrlen);
		val("nb connect, in progress", "%s, then %s", res(rc, e), res(r2, errno));
		sl = sizeof(ss);
		rc = getpeername(fd, (struct sockaddr *)&ss, &sl);
		val("getpeername in progress", "%s", res(rc, errno));
		rc = write(fd, "x", 1);
		val("write in progress", "%s", res(rc, errno));
		close(fd);

		/* A blocking connect interrupted by a signal; the next one waits
		 * for the outcome (no neighbour answers: EHOSTUNREACH). */
		fd = tcp_socket(u->ai_family, 0);
		alarm_ms(300);
		rc = connect(fd, u->ai_addr, u->ai_addrlen);
		val("blocking connect interrupted", "%s", res(rc, errno));
		rc = connect(fd, u->ai_addr, u->ai_addrlen);
		val("blocking connect again", "%s", res(rc, errno));
		close(fd);
		freeaddrinfo(u);
	}
}

/* An AF_INET6 socket to an IPv4-mapped address. */
static void phase_mapped(const char *v4)
{
	struct sockaddr_in6 a;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = tcp_socket(AF_INET6, 0), rc;
	char addr[80];

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = ((struct sockaddr_in6 *)srv->ai_addr)->sin6_port;
	snprintf(addr, sizeof(addr), "::ffff:%s", v4);
	inet_pton(AF_INET6, addr, &a.sin6_addr);
	rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	val("mapped connect", "%s", res(rc, errno));
	if (rc)
		return;
	write_all(fd, "echo\n", 5);
	check(echo_ok(fd, "mapped"), "echo", "over ::ffff:%s", v4);
	rc = getpeername(fd, (struct sockaddr *)&ss, &sl);
	val("mapped getpeername", "%s family %d len %u, v4-mapped %d", res(rc, errno), ss.ss_family,
	    sl, IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr));
	check(rc == 0 && !memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, &a.sin6_addr, 16) &&
	              ((struct sockaddr_in6 *)&ss)->sin6_port == a.sin6_port,
	      "mapped getpeername", "%s", addr_str(&ss));
	sl = sizeof(ss);
	rc = getsockname(fd, (struct sockaddr *)&ss, &sl);
	val("mapped getsockname family", "%s %d len %u, v4-mapped %d", res(rc, errno), ss.ss_family,
	    sl,
	    ss.ss_family == AF_INET6 &&
	            IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr));
	geti(fd, SOL_SOCKET, SO_DOMAIN, &rc);
	val("mapped SO_DOMAIN", "%d", rc);
	rc = seti(fd, IPPROTO_IP, IP_TOS, 0x10);
	val("mapped IP_TOS.set", "%s", res(rc, errno));
	geti(fd, IPPROTO_IP, IP_TOS, &rc);
	val("mapped IP_TOS.get", "%d", rc);
	close(fd);
}

/* OPTPROBE_ONLY=phase,phase... runs only those phases (debugging). */
static int want(const char *phase)
{
	const char *only = getenv("OPTPROBE_ONLY");
	char buf[256], *t, *save = NULL;

	if (!only || !*only)
		return 1;
	snprintf(buf, sizeof(buf), "%s", only);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!strcmp(t, phase))
			return 1;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: optprobe server HOST PORT\n"
	                "       optprobe client HOST PORT [-r FILE | -e FILE] [-u ADDR] [-b ADDR] "
	                "[-m V4ADDR] [-p DIR]\n");
	return 2;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = calloc(1, (size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

int main(int argc, char **argv)
{
	const char *unreach = NULL, *bindaddr = NULL, *mapped = NULL, *pausedir = NULL;
	struct addrinfo h;
	struct sigaction sa;
	int o, server;

	if (argc < 4)
		return usage();
	server = !strcmp(argv[1], "server");
	if (!server && strcmp(argv[1], "client"))
		return usage();
	memset(&h, 0, sizeof(h));
	h.ai_socktype = SOCK_STREAM;
	h.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(argv[2], argv[3], &h, &srv)) {
		fprintf(stderr, "optprobe: bad address %s %s\n", argv[2], argv[3]);
		return 2;
	}
	if (server)
		return run_server();
	optind = 4;
	while ((o = getopt(argc, argv, "r:e:u:b:m:p:")) != -1) {
		switch (o) {
		case 'r':
			recf = fopen(optarg, "w");
			if (!recf)
				return usage();
			break;
		case 'e':
			expected = slurp(optarg);
			if (!expected) {
				fprintf(stderr, "optprobe: cannot read %s\n", optarg);
				return 2;
			}
			break;
		case 'u':
			unreach = optarg;
			break;
		case 'b':
			bindaddr = optarg;
			break;
		case 'm':
			mapped = optarg;
			break;
		case 'p':
			pausedir = optarg;
			break;
		default:
			return usage();
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigaction(SIGPIPE, &sa, NULL);

	if (pausedir)
		phase_subflows(pausedir);
	if (want("options"))
		phase_options();
	if (want("listener"))
		phase_listener(bindaddr);
	if (want("listener") && bindaddr)
		phase_bindport(bindaddr);
	if (want("fdflags"))
		phase_fdflags();
	if (want("data"))
		phase_data();
	if (want("rcvtimeo")) {
		rcvtimeo(0);
		rcvtimeo(1);
	}
	if (want("signals"))
		phase_signals();
	if (want("epipe")) {
		epipe(1);
		epipe(0);
	}
	if (want("closing"))
		phase_closing();
	if (want("connect"))
		phase_connect(unreach);
	if (mapped && srv->ai_family == AF_INET6 && want("mapped"))
		phase_mapped(mapped);
	printf("optprobe: %s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	if (recf)
		fclose(recf);
	return failures ? 1 : 0;
}
