/* apiprobe.c - socket API fidelity against an echo server: the calls an
 * app makes on a connected TCP socket, which the shim serves natively from
 * its socketpair end, must answer as TCP does.
 *
 * usage: apiprobe HOST PORT
 * Checks: MSG_PEEK, MSG_WAITALL, readv/writev, dup/dup2/F_DUPFD_CLOEXEC
 * (and getpeername on the copies), shutdown(SHUT_WR) then EOF after the
 * echo, EPIPE with MSG_NOSIGNAL and SIGPIPE without it, SO_ERROR 0.
 * Exit 0 if every check passes, 1 otherwise, 2 on usage. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int failures;
static volatile sig_atomic_t sigpipes;

static void check(int ok, const char *what)
{
	printf("    %s: %s\n", ok ? "ok  " : "FAIL", what);
	if (!ok)
		failures++;
}

static void on_sigpipe(int sig) { (void)sig; sigpipes++; }

static ssize_t read_exact(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, (char *)buf + got, n - got, 0);

		if (r <= 0)
			return r;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int same_peer(int a, int b)
{
	struct sockaddr_storage x, y;
	socklen_t lx = sizeof(x), ly = sizeof(y);

	if (getpeername(a, (struct sockaddr *)&x, &lx) || getpeername(b, (struct sockaddr *)&y, &ly))
		return 0;
	return lx == ly && !memcmp(&x, &y, lx) && (x.ss_family == AF_INET || x.ss_family == AF_INET6);
}

static int echo_ok(int wfd, int rfd, const char *msg)
{
	char buf[256];
	size_t n = strlen(msg);

	if (send(wfd, msg, n, 0) != (ssize_t)n)
		return 0;
	return read_exact(rfd, buf, n) == (ssize_t)n && !memcmp(buf, msg, n);
}

int main(int argc, char **argv)
{
	struct addrinfo hints, *ai;
	char buf[4096];
	int fd, d, err = -1;
	socklen_t len = sizeof(err);
	struct sigaction sa;

	if (argc != 3) {
		fprintf(stderr, "usage: apiprobe HOST PORT\n");
		return 2;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(argv[1], argv[2], &hints, &ai)) {
		fprintf(stderr, "apiprobe: bad address\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigaction(SIGPIPE, &sa, NULL);
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("apiprobe: connect");
		return 1;
	}

	/* MSG_PEEK leaves the bytes for the next read. */
	send(fd, "hello world", 11, 0);
	check(recv(fd, buf, 5, MSG_PEEK | MSG_WAITALL) == 5 && !memcmp(buf, "hello", 5),
	      "MSG_PEEK|MSG_WAITALL sees the first 5 bytes");
	check(read_exact(fd, buf, 11) == 11 && !memcmp(buf, "hello world", 11),
	      "the peeked bytes are read again, then the rest");

	/* writev of three pieces, read back whole with MSG_WAITALL. */
	{
		struct iovec iov[3] = {{"abc", 3}, {"defgh", 5}, {"ij", 2}};
		struct iovec rv[2] = {{buf, 4}, {buf + 4, 6}};

		check(writev(fd, iov, 3) == 10, "writev of 3 iovecs");
		check(recv(fd, buf, 10, MSG_WAITALL) == 10 && !memcmp(buf, "abcdefghij", 10),
		      "MSG_WAITALL returns all 10 echoed bytes");
		send(fd, "0123456789", 10, 0);
		usleep(100000);
		check(readv(fd, rv, 2) == 10 && !memcmp(buf, "0123456789", 10), "readv into 2 iovecs");
	}

	/* Copies of the descriptor are the same connection. */
	d = dup(fd);
	check(d >= 0 && same_peer(fd, d), "dup: getpeername matches");
	check(d >= 0 && echo_ok(d, fd, "via-dup"), "dup: write on the copy, read on the original");
	close(d);
	check(echo_ok(fd, fd, "after-close-of-dup"), "closing a dup leaves the connection working");
	d = dup2(fd, 200);
	check(d == 200 && same_peer(fd, 200) && echo_ok(200, fd, "via-dup2"), "dup2 onto fd 200");
	close(200);
	d = fcntl(fd, F_DUPFD_CLOEXEC, 300);
	check(d >= 300 && (fcntl(d, F_GETFD) & FD_CLOEXEC) && same_peer(fd, d) &&
		      echo_ok(d, fd, "via-dupfd"),
	      "F_DUPFD_CLOEXEC copy, close-on-exec set");
	close(d);

	/* Half-close: the echo server sees EOF, echoes what was left, closes. */
	send(fd, "last", 4, 0);
	check(shutdown(fd, SHUT_WR) == 0, "shutdown(SHUT_WR)");
	check(read_exact(fd, buf, 4) == 4 && !memcmp(buf, "last", 4), "echo after SHUT_WR");
	check(recv(fd, buf, sizeof(buf), 0) == 0, "then EOF");

	/* Writing after our own SHUT_WR: EPIPE, SIGPIPE unless MSG_NOSIGNAL. */
	errno = 0;
	check(send(fd, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE && sigpipes == 0,
	      "send(MSG_NOSIGNAL) after shutdown: EPIPE, no signal");
	errno = 0;
	check(write(fd, "x", 1) < 0 && errno == EPIPE && sigpipes == 1,
	      "write() after shutdown: EPIPE and one SIGPIPE");
	check(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0, "getsockopt(SO_ERROR) works");
	close(fd);
	freeaddrinfo(ai);
	printf("    apiprobe: %s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
