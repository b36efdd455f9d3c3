/* sockprobe: the socket API must look like plain TCP through the shim.
 *
 * usage: sockprobe HOST PORT [echo]
 *
 * Connects (blocking) to HOST:PORT and checks:
 *   getpeername: family of HOST, address of HOST, port PORT
 *   getsockname: same family, a non-wildcard address, non-zero port
 *   SO_DOMAIN / SO_TYPE / SO_PROTOCOL = AF_INET(6) / SOCK_STREAM / IPPROTO_TCP
 *   SO_ACCEPTCONN = 0, SO_ERROR = 0
 *   TCP_NODELAY and SO_KEEPALIVE: set to 1, read back as set; TCP_NODELAY
 *   cleared again reads back 0
 *   with "echo": a line sent comes back unchanged (against an echo server);
 *   then getsockname again: its port must be the local port of an
 *   ESTABLISHED TCP connection to HOST:PORT in /proc/net/tcp(6) (after a
 *   plain fallback the shim reconnects: the port in use is the new one)
 * Prints each check; exit 0 if all pass, 1 otherwise, 2 on usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int failures;

/* Is there an ESTABLISHED TCP socket from local port lport to rport in
 * /proc/net/tcp or tcp6?  (Addresses are not compared: the port pair is
 * enough inside a test namespace.) */
static int tcp_established(unsigned lport, unsigned rport)
{
	static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	char line[512];
	size_t i;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char la[64], ra[64];
			unsigned lp, rp, st;

			if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %63[0-9A-Fa-f]:%x %x", la, &lp, ra,
				   &rp, &st) == 5 &&
			    lp == lport && rp == rport && st == 1) {
				fclose(f);
				return 1;
			}
		}
		fclose(f);
	}
	return 0;
}

static void check(int ok, const char *what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void check(int ok, const char *what, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("%s: %-34s %s\n", ok ? "ok  " : "FAIL", what, buf);
	if (!ok)
		failures++;
}

static const char *fam_name(int f)
{
	return f == AF_INET ? "AF_INET" : f == AF_INET6 ? "AF_INET6" : "other";
}

static void addr_str(const struct sockaddr_storage *ss, char *out, size_t len, int *port)
{
	*port = -1;
	out[0] = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s->sin_addr, out, (socklen_t)len);
		*port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, out, (socklen_t)len);
		*port = ntohs(s->sin6_port);
	} else {
		snprintf(out, len, "<family %d>", (int)ss->ss_family);
	}
}

static int getint(int fd, int level, int opt, int *val, socklen_t *len)
{
	*val = -12345;
	*len = sizeof(*val);
	return getsockopt(fd, level, opt, val, len);
}

static void check_intopt(int fd, int level, int opt, const char *name, int want)
{
	int v;
	socklen_t l;
	if (getint(fd, level, opt, &v, &l) < 0) {
		check(0, name, "getsockopt: %s", strerror(errno));
		return;
	}
	check(v == want && l == sizeof(int), name, "= %d (len %u), want %d", v, (unsigned)l, want);
}

static void set_and_read(int fd, int level, int opt, const char *name, int val)
{
	char what[64];
	snprintf(what, sizeof(what), "setsockopt %s=%d", name, val);
	if (setsockopt(fd, level, opt, &val, sizeof(val)) < 0) {
		check(0, what, "failed: %s", strerror(errno));
		return;
	}
	int v;
	socklen_t l;
	if (getint(fd, level, opt, &v, &l) < 0) {
		check(0, what, "getsockopt failed: %s", strerror(errno));
		return;
	}
	check((val != 0) == (v != 0), what, "reads back %d", v);
}

/* how: 0 send(), 1 sendto(addr), 2 sendmsg(msg_name = addr); then read the
 * echo back with recv() / recvfrom() / recvmsg() */
static void echo_check(int fd, int how, const struct sockaddr *addr, socklen_t alen)
{
	static const char *const names[] = {"echo via send/recv", "echo via sendto(addr)/recvfrom",
					    "echo via sendmsg(name)/recvmsg"};
	char msg[64], buf[64];
	int len = snprintf(msg, sizeof(msg), "sockprobe echo %d 0123456789\n", how);
	ssize_t n;
	if (how == 0) {
		n = send(fd, msg, (size_t)len, MSG_NOSIGNAL);
	} else if (how == 1) {
		n = sendto(fd, msg, (size_t)len, MSG_NOSIGNAL, addr, alen);
	} else {
		struct iovec iov = {.iov_base = msg, .iov_len = (size_t)len};
		struct msghdr mh;
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = (void *)addr;
		mh.msg_namelen = alen;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	}
	if (n != len) {
		check(0, names[how], "send returned %zd: %s", n, n < 0 ? strerror(errno) : "short");
		return;
	}
	size_t got = 0;
	while (got < (size_t)len) {
		if (how == 0) {
			n = recv(fd, buf + got, (size_t)len - got, 0);
		} else if (how == 1) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			n = recvfrom(fd, buf + got, (size_t)len - got, 0, (struct sockaddr *)&from, &fl);
		} else {
			struct iovec iov = {.iov_base = buf + got, .iov_len = (size_t)len - got};
			struct msghdr mh;
			memset(&mh, 0, sizeof(mh));
			mh.msg_iov = &iov;
			mh.msg_iovlen = 1;
			n = recvmsg(fd, &mh, 0);
		}
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	check(got == (size_t)len && !memcmp(buf, msg, got), names[how], "%zu of %d bytes back%s%s", got, len,
	      n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "echo"))) {
		fprintf(stderr, "usage: %s HOST PORT [echo]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct addrinfo hints, *ai;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
	if (rc) {
		fprintf(stderr, "sockprobe: getaddrinfo: %s\n", gai_strerror(rc));
		return 2;
	}
	int fam = ai->ai_family;
	int fd = socket(fam, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("sockprobe: socket");
		return 1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		printf("FAIL: connect to %s:%s: %s\n", argv[1], argv[2], strerror(errno));
		return 1;
	}
	check(1, "connect", "%s:%s (%s)", argv[1], argv[2], fam_name(fam));

	char want_addr[INET6_ADDRSTRLEN + 16], a[INET6_ADDRSTRLEN + 16];
	int want_port, port;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	addr_str(&ss, want_addr, sizeof(want_addr), &want_port);

	socklen_t sl = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0) {
		check(0, "getpeername", "%s", strerror(errno));
	} else {
		addr_str(&ss, a, sizeof(a), &port);
		check(ss.ss_family == fam && port == want_port && !strcmp(a, want_addr), "getpeername",
		      "%s [%s]:%d, want %s [%s]:%d", fam_name(ss.ss_family), a, port, fam_name(fam), want_addr,
		      want_port);
		socklen_t want_len = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
		check(sl == want_len, "getpeername addrlen", "%u, want %u", (unsigned)sl, (unsigned)want_len);
	}
	sl = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		check(0, "getsockname", "%s", strerror(errno));
	} else {
		addr_str(&ss, a, sizeof(a), &port);
		int wildcard = !strcmp(a, "0.0.0.0") || !strcmp(a, "::");
		check(ss.ss_family == fam && port > 0 && !wildcard, "getsockname", "%s [%s]:%d",
		      fam_name(ss.ss_family), a, port);
	}

	check_intopt(fd, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN", fam);
	check_intopt(fd, SOL_SOCKET, SO_TYPE, "SO_TYPE", SOCK_STREAM);
	check_intopt(fd, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL", IPPROTO_TCP);
	check_intopt(fd, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN", 0);
	check_intopt(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR", 0);

	set_and_read(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 1);
	set_and_read(fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", 1);
	set_and_read(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 0);
	set_and_read(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 1);

	if (argc == 4) {
		/* send(), sendto() with the peer's address and sendmsg() with
		 * msg_name: on a connected TCP socket the address is ignored */
		echo_check(fd, 0, NULL, 0);
		echo_check(fd, 1, ai->ai_addr, ai->ai_addrlen);
		echo_check(fd, 2, ai->ai_addr, ai->ai_addrlen);
		/* The echo went through whatever connection carries the stream
		 * now: getsockname must name it. */
		sl = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
			check(0, "getsockname after echo", "%s", strerror(errno));
		} else {
			addr_str(&ss, a, sizeof(a), &port);
			check(tcp_established((unsigned)port, (unsigned)want_port),
			      "getsockname after echo", "local port %d %s an established connection to port %d",
			      port, tcp_established((unsigned)port, (unsigned)want_port) ? "is" : "is NOT", want_port);
		}
	}
	freeaddrinfo(ai);
	close(fd);
	printf("sockprobe: %s (%d failure%s)\n", failures ? "FAIL" : "PASS", failures, failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}
