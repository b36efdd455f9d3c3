/* pollclient: readiness-driven echo client.
 *
 * usage: pollclient MODE HOST PORT NBYTES
 *   MODE is poll, select, epoll or epollet.
 *
 * epollet registers the socket once, before connect(), edge-triggered for
 * both directions with a cookie in data.u64, as nginx's upstream connects
 * do (ngx_add_conn before connect): the registration must follow the fd
 * when the shim swaps it at connect time.
 *
 * Connects with a non-blocking socket (EINPROGRESS + writability + SO_ERROR),
 * then sends NBYTES of a deterministic pattern while reading the echo, driven
 * only by readiness of the chosen API: partial writes and EAGAIN are expected
 * and handled.  After everything is sent it shuts down its write side; it
 * then reads until EOF.  The echoed stream must equal the sent one byte for
 * byte, with nothing extra.  Exit 0 on success, 1 on failure, 2 on usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum mode { M_POLL, M_SELECT, M_EPOLL, M_EPOLLET };

#define ET_COOKIE 0x5eed0000c0ffee00ull

#define WANT_RD 1
#define WANT_WR 2
#define IDLE_TIMEOUT_MS 20000
#define BURST 16

static unsigned char pattern(uint64_t i)
{
	/* deterministic, not periodic at any small power of two */
	uint64_t x = i * 0x9E3779B97F4A7C15ull;
	return (unsigned char)((x >> 29) ^ (i / 4093) ^ (i & 0xff));
}

static int die(const char *msg)
{
	fprintf(stderr, "pollclient: %s: %s\n", msg, strerror(errno));
	return 1;
}

static int epfd = -1;
static int ep_registered;

/* wait for readiness; returns mask of WANT_RD/WANT_WR ready (plus 4 for
 * error/hangup), 0 on timeout, -1 on error */
static int wait_ready(enum mode m, int fd, int want)
{
	int ready = 0;
	switch (m) {
	case M_POLL: {
		struct pollfd p = {.fd = fd, .events = 0};
		if (want & WANT_RD)
			p.events |= POLLIN;
		if (want & WANT_WR)
			p.events |= POLLOUT;
		int n = poll(&p, 1, IDLE_TIMEOUT_MS);
		if (n < 0)
			return errno == EINTR ? 0x10 : -1;
		if (n == 0)
			return 0;
		if (p.revents & (POLLIN | POLLHUP | POLLERR))
			ready |= WANT_RD;
		if (p.revents & POLLOUT)
			ready |= WANT_WR;
		if (p.revents & (POLLERR | POLLNVAL))
			ready |= 4;
		return ready;
	}
	case M_SELECT: {
		fd_set r, w;
		FD_ZERO(&r);
		FD_ZERO(&w);
		if (want & WANT_RD)
			FD_SET(fd, &r);
		if (want & WANT_WR)
			FD_SET(fd, &w);
		struct timeval tv = {.tv_sec = IDLE_TIMEOUT_MS / 1000, .tv_usec = 0};
		int n = select(fd + 1, &r, &w, NULL, &tv);
		if (n < 0)
			return errno == EINTR ? 0x10 : -1;
		if (n == 0)
			return 0;
		if (FD_ISSET(fd, &r))
			ready |= WANT_RD;
		if (FD_ISSET(fd, &w))
			ready |= WANT_WR;
		return ready;
	}
	case M_EPOLL:
	case M_EPOLLET: {
		/* epollet: registered once, before connect: wait only */
		uint64_t data = ET_COOKIE + (unsigned)fd;
		struct epoll_event out;
		int n;

		if (m == M_EPOLL) {
			/* registered for what is wanted now */
			struct epoll_event ev = {.events = 0, .data = {.u64 = (unsigned)fd}};

			data = (unsigned)fd;
			if (want & WANT_RD)
				ev.events |= EPOLLIN | EPOLLRDHUP;
			if (want & WANT_WR)
				ev.events |= EPOLLOUT;
			if (epoll_ctl(epfd, ep_registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd,
			              &ev) < 0)
				return -1;
			ep_registered = 1;
		}
		n = epoll_wait(epfd, &out, 1, IDLE_TIMEOUT_MS);
		if (n < 0)
			return errno == EINTR ? 0x10 : -1;
		if (n == 0)
			return 0;
		if (out.data.u64 != data) {
			fprintf(stderr,
			        "pollclient: epoll event with data 0x%llx, registered 0x%llx\n",
			        (unsigned long long)out.data.u64, (unsigned long long)data);
			errno = EBADF;
			return -1;
		}
		if (out.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			ready |= WANT_RD;
		if (out.events & EPOLLOUT)
			ready |= WANT_WR;
		if (out.events & EPOLLERR)
			ready |= 4;
		return ready;
	}
	}
	return -1;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s poll|select|epoll|epollet HOST PORT NBYTES\n", argv[0]);
		return 2;
	}
	enum mode m;
	if (!strcmp(argv[1], "poll"))
		m = M_POLL;
	else if (!strcmp(argv[1], "select"))
		m = M_SELECT;
	else if (!strcmp(argv[1], "epoll"))
		m = M_EPOLL;
	else if (!strcmp(argv[1], "epollet"))
		m = M_EPOLLET;
	else {
		fprintf(stderr, "pollclient: unknown mode %s\n", argv[1]);
		return 2;
	}
	char *end;
	unsigned long long total = strtoull(argv[4], &end, 10);
	if (*end) {
		fprintf(stderr, "pollclient: bad NBYTES %s\n", argv[4]);
		return 2;
	}

	struct addrinfo hints, *ai;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(argv[2], argv[3], &hints, &ai);
	if (rc) {
		fprintf(stderr, "pollclient: getaddrinfo: %s\n", gai_strerror(rc));
		return 2;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return die("socket");
	if (m == M_SELECT && fd >= FD_SETSIZE) {
		fprintf(stderr, "pollclient: fd %d too large for select\n", fd);
		return 1;
	}
	if (m == M_EPOLL || m == M_EPOLLET) {
		epfd = epoll_create1(EPOLL_CLOEXEC);
		if (epfd < 0)
			return die("epoll_create1");
	}
	if (m == M_EPOLLET) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		                         .data = {.u64 = ET_COOKIE + (unsigned)fd}};
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return die("epoll_ctl before connect");
	}

	/* non-blocking connect */
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS)
			return die("connect");
		int r;
		do {
			r = wait_ready(m, fd, WANT_WR);
		} while (r == 0x10);
		if (r <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			return die("waiting for connect");
		}
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			return die("getsockopt SO_ERROR");
		if (soerr) {
			errno = soerr;
			return die("connect (SO_ERROR)");
		}
	}
	freeaddrinfo(ai);

	unsigned long long sent = 0, recvd = 0;
	unsigned long long eagain_w = 0, eagain_r = 0, partial_w = 0, wakeups = 0;
	int wr_shut = 0, eof = 0;
	static unsigned char wbuf[65536 + 4096], rbuf[65536];
	struct timespec t0, t1;
	/* edge-triggered: every readiness is drained until EAGAIN */
	int burst_max = m == M_EPOLLET ? 1 << 30 : BURST;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* edge-triggered: the connect's edge was consumed above, so start by
	 * trying both ways (as nginx does with its ready flags) */
	int pending = m == M_EPOLLET ? WANT_RD | WANT_WR : 0;
	while (!eof) {
		if (sent == total && !wr_shut) {
			if (shutdown(fd, SHUT_WR) < 0)
				return die("shutdown(SHUT_WR)");
			wr_shut = 1;
		}
		int want = WANT_RD | (sent < total ? WANT_WR : 0);
		int r = pending ? pending : wait_ready(m, fd, want);
		pending = 0;
		if (r == 0x10)
			continue;
		if (r < 0)
			return die("wait");
		if (r == 0) {
			fprintf(stderr,
			        "pollclient: no progress for %d ms (sent %llu/%llu, received %llu)\n",
			        IDLE_TIMEOUT_MS, sent, total, recvd);
			return 1;
		}
		wakeups++;
		/* drain readiness: up to BURST calls each way until EAGAIN, so
		 * full buffers, EAGAIN and partial writes really happen */
		for (int burst = 0; (r & WANT_WR) && sent < total && burst < burst_max; burst++) {
			/* vary the write size to exercise partial writes */
			size_t chunk = 1 + (size_t)((sent * 7919 + 4093) % (sizeof(wbuf) - 1));
			if (chunk > total - sent)
				chunk = (size_t)(total - sent);
			for (size_t i = 0; i < chunk; i++)
				wbuf[i] = pattern(sent + i);
			ssize_t n = send(fd, wbuf, chunk, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					eagain_w++;
					break;
				}
				if (errno != EINTR)
					return die("send");
			} else {
				sent += (unsigned long long)n;
				if ((size_t)n < chunk) {
					partial_w++;
					break;
				}
			}
		}
		for (int burst = 0; (r & WANT_RD) && !eof && burst < burst_max; burst++) {
			ssize_t n = recv(fd, rbuf, sizeof(rbuf), 0);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					eagain_r++;
					break;
				}
				if (errno != EINTR)
					return die("recv");
			} else if (n == 0) {
				eof = 1;
			} else {
				for (ssize_t i = 0; i < n; i++) {
					if (recvd + (unsigned long long)i >= total) {
						fprintf(stderr,
						        "pollclient: %lld stray byte(s) after %llu echoed\n",
						        (long long)(n - i), total);
						return 1;
					}
					if (rbuf[i] != pattern(recvd + (unsigned long long)i)) {
						fprintf(stderr,
						        "pollclient: echo mismatch at offset %llu: got 0x%02x want 0x%02x\n",
						        recvd + (unsigned long long)i, rbuf[i],
						        pattern(recvd + (unsigned long long)i));
						return 1;
					}
				}
				recvd += (unsigned long long)n;
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("pollclient %s: sent %llu, echoed %llu, %.3f s, wakeups %llu, EAGAIN w/r %llu/%llu, partial writes %llu\n",
	       argv[1], sent, recvd, dt, wakeups, eagain_w, eagain_r, partial_w);
	if (recvd != total || sent != total) {
		fprintf(stderr, "pollclient: EOF after %llu of %llu echoed bytes\n", recvd, total);
		return 1;
	}
	close(fd);
	if (epfd >= 0)
		close(epfd);
	printf("pollclient %s: PASS\n", argv[1]);
	return 0;
}
