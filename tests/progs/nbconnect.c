/* nbconnect: connect() error reporting through the shim.
 *
 * usage: nbconnect HOST CLOSED_PORT [OPEN_PORT]
 *
 *  1. non-blocking connect to HOST:CLOSED_PORT: EINPROGRESS (or an immediate
 *     ECONNREFUSED), poll() reports POLLOUT (POLLERR/POLLHUP allowed too),
 *     getsockopt(SO_ERROR) is ECONNREFUSED and a second read of SO_ERROR is 0.
 *  2. blocking connect to HOST:CLOSED_PORT fails with errno ECONNREFUSED.
 *  3. (with OPEN_PORT) non-blocking connect to HOST:OPEN_PORT: poll() reports
 *     POLLOUT, SO_ERROR is 0, getpeername() returns the port; then a blocking
 *     connect to OPEN_PORT succeeds.
 *
 * Prints one line per check; exit 0 if all pass, 1 otherwise, 2 on usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what, const char *detail)
{
	printf("%s: %s%s%s\n", ok ? "ok  " : "FAIL", what, detail[0] ? ": " : "", detail);
	if (!ok)
		failures++;
}

static struct addrinfo *resolve(const char *host, const char *port)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "nbconnect: getaddrinfo %s:%s: %s\n", host, port, gai_strerror(rc));
		exit(2);
	}
	return res;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* non-blocking connect; returns SO_ERROR seen (0 = connected), or -1 */
static int nb_connect(const struct addrinfo *ai, int expect_err, const char *label)
{
	char buf[256];
	int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0) {
		snprintf(buf, sizeof(buf), "socket: %s", strerror(errno));
		check(0, label, buf);
		return -1;
	}
	if (set_nonblock(fd) < 0) {
		snprintf(buf, sizeof(buf), "fcntl O_NONBLOCK: %s", strerror(errno));
		check(0, label, buf);
		close(fd);
		return -1;
	}
	int soerr = -1;
	int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	int e = errno;
	if (rc == 0) {
		check(1, label, "connect() returned 0 immediately");
		soerr = 0;
	} else if (e == EINPROGRESS) {
		check(1, label, "connect() -> EINPROGRESS");
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int n;
		do {
			n = poll(&p, 1, 10000);
		} while (n < 0 && errno == EINTR);
		snprintf(buf, sizeof(buf), "poll() = %d revents=0x%x%s%s%s", n, (unsigned)p.revents,
			 (p.revents & POLLOUT) ? " POLLOUT" : "", (p.revents & POLLERR) ? " POLLERR" : "",
			 (p.revents & POLLHUP) ? " POLLHUP" : "");
		check(n == 1 && (p.revents & POLLOUT), label, buf);
		/* a refused connection must not look readable with data */
		socklen_t sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
			snprintf(buf, sizeof(buf), "getsockopt(SO_ERROR): %s", strerror(errno));
			check(0, label, buf);
			close(fd);
			return -1;
		}
		snprintf(buf, sizeof(buf), "SO_ERROR = %d (%s), want %d (%s)", soerr,
			 soerr ? strerror(soerr) : "0", expect_err, expect_err ? strerror(expect_err) : "0");
		check(soerr == expect_err, label, buf);
		if (expect_err) {
			/* SO_ERROR is cleared by reading it */
			int again = -1;
			sl = sizeof(again);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &again, &sl);
			snprintf(buf, sizeof(buf), "second SO_ERROR read = %d (want 0)", again);
			check(again == 0, label, buf);
		}
	} else {
		snprintf(buf, sizeof(buf), "connect() -> errno %d (%s)", e, strerror(e));
		soerr = e;
		check(e == expect_err && e != 0, label, buf);
	}
	if (soerr == 0 && expect_err == 0) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int port = -1;
		memset(&ss, 0, sizeof(ss));
		if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0) {
			snprintf(buf, sizeof(buf), "getpeername after POLLOUT + SO_ERROR 0 failed: %s", strerror(errno));
			check(0, label, buf);
			close(fd);
			return soerr;
		} else {
			if (ss.ss_family == AF_INET)
				port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			else if (ss.ss_family == AF_INET6)
				port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
		int want = ai->ai_family == AF_INET ? ntohs(((struct sockaddr_in *)ai->ai_addr)->sin_port)
						    : ntohs(((struct sockaddr_in6 *)ai->ai_addr)->sin6_port);
		snprintf(buf, sizeof(buf), "getpeername port %d (want %d), family %d (want %d)", port, want,
			 (int)ss.ss_family, ai->ai_family);
		check(port == want && ss.ss_family == ai->ai_family, label, buf);
	}
	close(fd);
	return soerr;
}

static void blocking_connect(const struct addrinfo *ai, int expect_err, const char *label)
{
	char buf[256];
	int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0) {
		snprintf(buf, sizeof(buf), "socket: %s", strerror(errno));
		check(0, label, buf);
		return;
	}
	int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	int e = rc == 0 ? 0 : errno;
	snprintf(buf, sizeof(buf), "connect() = %d errno %d (%s), want errno %d (%s)", rc, e, e ? strerror(e) : "0",
		 expect_err, expect_err ? strerror(expect_err) : "0");
	check(expect_err ? (rc < 0 && e == expect_err) : rc == 0, label, buf);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s HOST CLOSED_PORT [OPEN_PORT]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct addrinfo *closed = resolve(argv[1], argv[2]);
	nb_connect(closed, ECONNREFUSED, "non-blocking connect to closed port");
	blocking_connect(closed, ECONNREFUSED, "blocking connect to closed port");
	freeaddrinfo(closed);
	if (argc == 4) {
		struct addrinfo *open_ai = resolve(argv[1], argv[3]);
		nb_connect(open_ai, 0, "non-blocking connect to open port");
		blocking_connect(open_ai, 0, "blocking connect to open port");
		freeaddrinfo(open_ai);
	}
	printf("nbconnect: %s (%d failure%s)\n", failures ? "FAIL" : "PASS", failures, failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}
