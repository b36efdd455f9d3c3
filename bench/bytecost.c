/* bench/bytecost.c - the fixed workloads of bench/bytecost: a bulk
 * transfer of a fixed size and a fixed number of ping-pongs, so that the
 * shim's work (instructions under callgrind, system calls under strace)
 * can be divided by MiB and by request.  Built by bench/bytecost.
 *
 *   bytecost server ADDR PORT              serve connections until one
 *       that starts with 'B' (bulk: read to EOF, check the pattern, answer
 *       the count as 20 digits) or 'P' (ping-pong: echo each message) is
 *       done; one that starts with 'W' (a warm-up) is read to EOF, closed
 *   bytecost warm ADDR PORT                a warm-up connection
 *   bytecost bulk ADDR PORT MIB            send MIB MiB in 64 KiB writes;
 *       prints the bytes and the seconds from connect() to the server's
 *       count (every byte received)
 *   bytecost pp ADDR PORT COUNT SIZE       COUNT ping-pongs of SIZE bytes;
 *       prints the median and p99 round trip (usec)
 *   bytecost hop COUNT                     what one thread hop costs here:
 *       COUNT round trips of 64 bytes over a socketpair to a second thread
 *       that waits in epoll_wait, reads and writes back (the shim thread's
 *       steps), against the same write and read with no second thread;
 *       prints the median round trip (usec) and CPU (usec, both threads)
 *       per round trip of each
 * The pattern is byte i = i % 251 of the stream after the mode byte: the
 * server exits 1 on any difference (byte-exact or an error). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "bytecost: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int full_write(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int full_read(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static struct addrinfo *resolve(const char *host, const char *port, int passive)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = passive ? AI_PASSIVE : 0};
	struct addrinfo *ai;

	if (getaddrinfo(host, port, &hints, &ai) != 0) {
		fprintf(stderr, "bytecost: cannot resolve %s\n", host);
		exit(2);
	}
	return ai;
}

static int serve(const char *host, const char *port)
{
	struct addrinfo *ai = resolve(host, port, 1);
	int one = 1, l, fd;
	char mode;
	static unsigned char buf[256 * 1024], pat[256 * 1024 + 251];

	for (size_t k = 0; k < sizeof(pat); k++)
		pat[k] = (unsigned char)(k % 251);
	l = socket(ai->ai_family, SOCK_STREAM, 0);
	if (l < 0)
		die("socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, ai->ai_addr, ai->ai_addrlen) || listen(l, 4))
		die("bind/listen");
again:
	fd = accept(l, NULL, NULL);
	if (fd < 0)
		die("accept");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (full_read(fd, &mode, 1))
		mode = 0; /* a connection that failed (a fallback's first try) */
	if (mode == 'W' || mode == 0) {
		while (mode && read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		goto again;
	}
	if (mode == 'B') {
		unsigned long long total = 0;
		char ans[32];

		for (;;) {
			ssize_t r = read(fd, buf, sizeof(buf)), i;

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				die("read");
			if (r == 0)
				break;
			if (memcmp(buf, pat + total % 251, (size_t)r)) {
				for (i = 0; buf[i] == pat[(total + (unsigned long long)i) % 251];
				     i++)
					;
				fprintf(stderr, "bytecost: byte %llu differs\n",
				        total + (unsigned long long)i);
				return 1;
			}
			total += (unsigned long long)r;
		}
		snprintf(ans, sizeof(ans), "%020llu", total);
		if (full_write(fd, ans, 20))
			die("write count");
		printf("%llu\n", total);
	} else if (mode == 'P') {
		for (;;) {
			ssize_t r = read(fd, buf, sizeof(buf));

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				die("read");
			if (r == 0)
				break;
			if (full_write(fd, buf, (size_t)r))
				die("echo");
		}
	} else {
		fprintf(stderr, "bytecost: unknown mode byte\n");
		return 1;
	}
	close(fd);
	close(l);
	freeaddrinfo(ai);
	return 0;
}

static int dial(const char *host, const char *port)
{
	struct addrinfo *ai = resolve(host, port, 0);
	int fd = socket(ai->ai_family, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen))
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	freeaddrinfo(ai);
	return fd;
}

static int bulk(const char *host, const char *port, unsigned long long mib)
{
	static unsigned char buf[64 * 1024 + 251];
	unsigned long long left = mib << 20, sent = 0;
	char ans[21];
	size_t i;
	struct timespec t0, t1;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = dial(host, port);

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i % 251);
	if (full_write(fd, "B", 1))
		die("write");
	while (left > 0) {
		size_t n = left < 64 * 1024 ? (size_t)left : 64 * 1024;

		if (full_write(fd, buf + sent % 251, n))
			die("write");
		sent += n;
		left -= n;
	}
	shutdown(fd, SHUT_WR);
	if (full_read(fd, ans, 20))
		die("read count");
	ans[20] = 0;
	if (strtoull(ans, NULL, 10) != sent) {
		fprintf(stderr, "bytecost: server counted %s of %llu\n", ans, sent);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%llu %.6f\n", sent,
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	close(fd);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

static int pingpong(const char *host, const char *port, long count, size_t size)
{
	unsigned char *out = malloc(size), *in = malloc(size);
	unsigned long long *rtt = calloc((size_t)count, sizeof(*rtt)), at = 0;
	long k;
	size_t i;
	int fd = dial(host, port);

	if (!out || !in || !rtt)
		die("malloc");
	if (full_write(fd, "P", 1))
		die("write");
	for (k = 0; k < count; k++) {
		struct timespec t0, t1;

		for (i = 0; i < size; i++)
			out[i] = (unsigned char)((at + i) % 251);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (full_write(fd, out, size) || full_read(fd, in, size))
			die("ping-pong");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (memcmp(in, out, size)) {
			fprintf(stderr, "bytecost: echo %ld differs\n", k);
			return 1;
		}
		at += size;
		rtt[k] = (unsigned long long)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
		                              (t1.tv_nsec - t0.tv_nsec));
	}
	qsort(rtt, (size_t)count, sizeof(*rtt), cmp_u64);
	printf("%.1f %.1f\n", rtt[count / 2] / 1000.0, rtt[count * 99 / 100] / 1000.0);
	close(fd);
	return 0;
}

static int hop_fd;

static void *hop_echo(void *arg)
{
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	char b[64];

	(void)arg;
	epoll_ctl(ep, EPOLL_CTL_ADD, hop_fd, &ev);
	for (;;) {
		ssize_t r;

		if (epoll_wait(ep, &ev, 1, -1) < 1)
			continue;
		r = read(hop_fd, b, sizeof(b));
		if (r <= 0)
			return NULL;
		if (full_write(hop_fd, b, (size_t)r))
			return NULL;
	}
}

static double cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

/* COUNT round trips: through the echo thread (hop) or, with none, a write
 * into the pair and a read of it at the other end by this thread. */
static void hop_run(int a, int b, long count, int hop, unsigned long long *rtt, double *cpu)
{
	char m[64] = {0}, in[64];
	double c0 = cpu_us();
	long k;

	for (k = 0; k < count; k++) {
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (full_write(a, m, sizeof(m)))
			die("hop write");
		if (!hop && (full_read(b, in, sizeof(in)) || full_write(b, in, sizeof(in))))
			die("hop relay");
		if (full_read(a, in, sizeof(in)))
			die("hop read");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		rtt[k] = (unsigned long long)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
		                              (t1.tv_nsec - t0.tv_nsec));
	}
	*cpu = (cpu_us() - c0) / (double)count;
	qsort(rtt, (size_t)count, sizeof(*rtt), cmp_u64);
}

static int hop(long count)
{
	int sp[2];
	unsigned long long *rtt = calloc((size_t)count, sizeof(*rtt)), same;
	double cpu_same, cpu_hop;
	pthread_t th;

	if (!rtt || socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
		die("socketpair");
	hop_run(sp[0], sp[1], count, 0, rtt, &cpu_same);
	same = rtt[count / 2];
	hop_fd = sp[1];
	if (pthread_create(&th, NULL, hop_echo, NULL))
		die("pthread_create");
	hop_run(sp[0], sp[1], count, 1, rtt, &cpu_hop);
	printf("same-thread %.1f us %.1f cpu-us; hop %.1f us %.1f cpu-us\n", same / 1000.0,
	       cpu_same, rtt[count / 2] / 1000.0, cpu_hop);
	close(sp[0]);
	pthread_join(th, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "hop"))
		return hop(atol(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "server"))
		return serve(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "warm")) {
		int fd = dial(argv[2], argv[3]);
		char b;

		if (full_write(fd, "W", 1))
			die("write");
		shutdown(fd, SHUT_WR);
		return read(fd, &b, 1) == 0 ? 0 : 1;
	}
	if (argc == 5 && !strcmp(argv[1], "bulk"))
		return bulk(argv[2], argv[3], strtoull(argv[4], NULL, 10));
	if (argc == 6 && !strcmp(argv[1], "pp"))
		return pingpong(argv[2], argv[3], atol(argv[4]), (size_t)atol(argv[5]));
	fprintf(stderr,
	        "usage: bytecost hop COUNT | server ADDR PORT | warm ADDR PORT | bulk ADDR PORT MIB | "
	        "pp ADDR PORT COUNT SIZE\n");
	return 2;
}
